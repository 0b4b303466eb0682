# SPDX-License-Identifier: BSD-3-Clause
"""Talks to dts/nsagent.py, which sends and receives from inside the client namespace."""

import json
import os
import subprocess
import threading

import dns.message

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"


class AgentError(RuntimeError):
    pass


class NsAgent:
    def __init__(self, netns):
        self.netns = netns
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, PYTHON, "-u", os.path.join(HERE, "nsagent.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lock = threading.Lock()
        if not self.call({"op": "ping"}).get("pong"):
            raise AgentError("nsagent in %s did not start" % netns)

    def call(self, req):
        with self.lock:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise AgentError("nsagent in %s exited (rc %s)" % (self.netns, self.proc.poll()))
        ans = json.loads(line)
        if "error" in ans:
            raise AgentError(ans["error"])
        return ans

    # -- raw bytes ---------------------------------------------------------
    @staticmethod
    def _src(req, src):
        # src: a source address of the namespace to send from (client groups);
        # None lets the kernel choose, as before.
        if src is not None:
            req["src"] = src
        return req

    def send_udp(self, dst, data, port=53, timeout=2.0, src=None):
        """Send one datagram; return (reply bytes or None, elapsed s, source port)."""
        a = self.call(self._src({"op": "udp", "dst": dst, "port": port, "data": data.hex(),
                                 "timeout": timeout}, src))
        return (bytes.fromhex(a["data"]) if a["data"] is not None else None,
                a["elapsed"], a["sport"])

    def send_tcp(self, dst, data, port=53, timeout=3.0, src=None):
        a = self.call(self._src({"op": "tcp", "dst": dst, "port": port, "data": data.hex(),
                                 "timeout": timeout}, src))
        return (bytes.fromhex(a["data"]) if a["data"] is not None else None,
                a["elapsed"], a["sport"])

    def send_udp_many(self, dst, datas, port=53, timeout=2.0, src=None):
        a = self.call(self._src({"op": "udp_many", "dst": dst, "port": port,
                                 "datas": [d.hex() for d in datas], "timeout": timeout}, src))
        return [bytes.fromhex(r) if r is not None else None for r in a["replies"]]

    def send_frames(self, iface, frames):
        return self.call({"op": "l2", "iface": iface,
                          "frames": [bytes(f).hex() for f in frames]})["sent"]

    # -- DNS -----------------------------------------------------------------
    def query(self, dst, msg, tcp=False, timeout=None, src=None):
        """Send a dns.message; return (parsed reply or None, reply wire or None)."""
        wire = msg.to_wire() if isinstance(msg, dns.message.Message) else msg
        if tcp:
            data, _, _ = self.send_tcp(dst, wire, timeout=timeout or 3.0, src=src)
        else:
            data, _, _ = self.send_udp(dst, wire, timeout=timeout or 2.0, src=src)
        if data is None:
            return None, None
        return dns.message.from_wire(data, ignore_trailing=False), data

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
