# SPDX-License-Identifier: BSD-3-Clause
"""DPDK telemetry v2 client: AF_UNIX SOCK_SEQPACKET, one JSON reply per command."""

import json
import os
import socket

RUNTIME_DIR = "/var/run/dpdk"


def socket_path(prefix):
    return os.path.join(RUNTIME_DIR, prefix, "dpdk_telemetry.v2")


class Telemetry:
    def __init__(self, prefix, timeout=5.0):
        self.path = socket_path(prefix)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(self.path)
        # The server greets every client with its version, pid and buffer size.
        self.info = json.loads(self.sock.recv(4096).decode())
        self.max_len = int(self.info.get("max_output_len", 16384))

    def cmd(self, command):
        """Send "/heimdall/stats" (or "/cmd,param"); return the value under its name."""
        self.sock.send(command.encode())
        reply = json.loads(self.sock.recv(self.max_len).decode())
        name = command.split(",", 1)[0]
        if name not in reply:
            raise KeyError("telemetry reply to %r has no %r: %r" % (command, name, reply))
        return reply[name]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def lcore_values(stats, key):
    """{lcore id: value of counter key} from the "lcores" part of /heimdall/stats.

    Accepts a dict keyed by lcore id or a list of dicts carrying "lcore"/"lcore_id".
    """
    lcores = stats["lcores"]
    out = {}
    if isinstance(lcores, dict):
        for k, v in lcores.items():
            out[int(k)] = int(v.get(key, 0))
    else:
        for i, v in enumerate(lcores):
            lid = v.get("lcore", v.get("lcore_id", v.get("id", i)))
            out[int(lid)] = int(v.get(key, 0))
    return out
