# SPDX-License-Identifier: BSD-3-Clause
"""Concurrent UDP queries from inside the client namespace.

nsagent.py sends one query at a time; a dedup test needs many identical
questions in flight together. This script runs in the namespace
(`ip netns exec hd-cli /usr/bin/python3 burst.py`), reads one JSON object
on stdin:

    {"dst": ADDR, "port": 53, "datas": [HEX, ...], "timeout": S}

opens one socket per query (each its own source port), sends them all
back to back, then collects every reply until each socket has one or the
timeout ends, and prints

    {"replies": [HEX or null, ...], "elapsed": [S or null, ...], "send_s": S}

(elapsed: seconds from that query's send to its reply; send_s: how long
sending all of them took).
"""

import json
import select
import socket
import sys
import time


def run(req):
    dst, port = req["dst"], req.get("port", 53)
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    datas = [bytes.fromhex(d) for d in req["datas"]]
    socks, sent_at = [], []
    try:
        for _ in datas:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.connect((dst, port))
            socks.append(s)
        t0 = time.monotonic()
        for s, d in zip(socks, datas):
            sent_at.append(time.monotonic())
            s.send(d)
        send_s = time.monotonic() - t0
        replies = [None] * len(socks)
        elapsed = [None] * len(socks)
        index = {s.fileno(): i for i, s in enumerate(socks)}
        poll = select.poll()
        for s in socks:
            poll.register(s, select.POLLIN)
        deadline = t0 + req.get("timeout", 3.0)
        left = len(socks)
        while left and time.monotonic() < deadline:
            for fd, _ in poll.poll(max(1, int((deadline - time.monotonic()) * 1000))):
                i = index[fd]
                try:
                    data = socks[i].recv(65535)
                except OSError:  # port unreachable: the kernel answered, not the server
                    data = None
                poll.unregister(fd)
                left -= 1
                if data is not None:
                    replies[i] = data.hex()
                    elapsed[i] = time.monotonic() - sent_at[i]
        return {"replies": replies, "elapsed": elapsed, "send_s": send_s}
    finally:
        for s in socks:
            s.close()


def main():
    req = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(run(req)) + "\n")


if __name__ == "__main__":
    main()
