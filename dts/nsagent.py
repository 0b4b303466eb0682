# SPDX-License-Identifier: BSD-3-Clause
"""Client side of the dts: runs inside the test namespace (hd-cli).

The test process builds DNS messages and frames with dnspython/scapy in the
root namespace; this agent only moves bytes from the namespace, so that what
heimdall sees comes from the veth peer, as from a real client:

    ip netns exec hd-cli /usr/bin/python3 dts/nsagent.py

One JSON request per line on stdin, one JSON answer per line on stdout:

  {"op": "udp", "dst": ADDR, "port": 53, "data": HEX, "timeout": S}
      -> {"data": HEX or null, "elapsed": S, "sport": PORT}
     Each request gets a fresh, connected socket (so only the server's reply
     is read). null: nothing came back before the timeout. An optional
     "src": ADDR binds the socket to that address of the namespace first
     (the second client address of scripts/testnet.sh, for client groups).
     Absent: the kernel chooses (10.53.0.2 / fd53::2).
  {"op": "tcp", ... same ...}
      -> same; the message is sent with its 2-byte length, one per connection.
  {"op": "udp_many", "dst", "port", "datas": [HEX, ...], "timeout", "src"}
      -> {"replies": [HEX or null, ...]}  (one after the other)
  {"op": "l2", "iface": IF, "frames": [HEX, ...]}
      -> {"sent": N}   raw Ethernet frames, nothing fixed up by the kernel
  {"op": "ping"} -> {"pong": true}
"""

import json
import socket
import struct
import sys
import time


def _family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _bind(s, src):
    if src:
        s.bind((src, 0))


def udp(dst, port, data, timeout, src=None):
    s = socket.socket(_family(dst), socket.SOCK_DGRAM)
    try:
        _bind(s, src)
        s.connect((dst, port))
        sport = s.getsockname()[1]
        start = time.monotonic()
        s.send(data)
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, time.monotonic() - start, sport
            s.settimeout(left)
            try:
                reply = s.recv(65535)
            except socket.timeout:
                return None, time.monotonic() - start, sport
            except ConnectionRefusedError:
                # ICMP port unreachable: the kernel, not heimdall, answered.
                return None, time.monotonic() - start, sport
            return reply, time.monotonic() - start, sport
    finally:
        s.close()


def tcp(dst, port, data, timeout, src=None):
    s = socket.socket(_family(dst), socket.SOCK_STREAM)
    s.settimeout(timeout)
    # Outside the try: a source address the namespace lacks is the test
    # bed's fault and must say so, not look like "no reply".
    _bind(s, src)
    start = time.monotonic()
    try:
        s.connect((dst, port))
        sport = s.getsockname()[1]
        s.sendall(struct.pack("!H", len(data)) + data)
        hdr = _recv_exact(s, 2)
        if hdr is None:
            return None, time.monotonic() - start, sport
        (n,) = struct.unpack("!H", hdr)
        reply = _recv_exact(s, n)
        return reply, time.monotonic() - start, sport
    except (socket.timeout, ConnectionError, OSError):
        return None, time.monotonic() - start, 0
    finally:
        s.close()


def l2(iface, frames):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        s.bind((iface, 0))
        for f in frames:
            s.send(f)
    finally:
        s.close()
    return len(frames)


def handle(req):
    op = req["op"]
    if op == "ping":
        return {"pong": True}
    if op in ("udp", "tcp"):
        fn = udp if op == "udp" else tcp
        reply, elapsed, sport = fn(req["dst"], req.get("port", 53),
                                   bytes.fromhex(req["data"]), req.get("timeout", 2.0),
                                   req.get("src"))
        return {"data": reply.hex() if reply is not None else None,
                "elapsed": elapsed, "sport": sport}
    if op == "udp_many":
        out = []
        for d in req["datas"]:
            reply, _, _ = udp(req["dst"], req.get("port", 53), bytes.fromhex(d),
                              req.get("timeout", 2.0), req.get("src"))
            out.append(reply.hex() if reply is not None else None)
        return {"replies": out}
    if op == "l2":
        return {"sent": l2(req["iface"], [bytes.fromhex(f) for f in req["frames"]])}
    return {"error": "unknown op %r" % op}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            ans = handle(json.loads(line))
        except Exception as e:  # report, keep serving: one bad request is one failed test
            ans = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
