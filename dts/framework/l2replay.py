# SPDX-License-Identifier: BSD-3-Clause
"""Replay a pcap of Ethernet frames on an interface with scapy's sendp and
collect the UDP replies from port 53 that come back, from inside a network
namespace:

    ip netns exec hd-cli /usr/bin/python3 dts/framework/l2replay.py \
        --iface hd-cli --pcap queries.pcap --expect N --timeout 5

Prints one JSON object: {"sent": N, "replies": [HEX, ...]}. Used by
dts/tests/TestSuite_trex.py to replay the TRex profile's packets.
"""

import argparse
import json
import time

from scapy.all import AsyncSniffer, rdpcap, sendp
from scapy.layers.inet import UDP


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()

    pkts = rdpcap(a.pcap)
    replies = []
    sniffer = AsyncSniffer(iface=a.iface, store=False,
                           lfilter=lambda p: UDP in p and p[UDP].sport == 53,
                           prn=lambda p: replies.append(bytes(p)))
    sniffer.start()
    time.sleep(0.3)  # the capture socket must be bound before the first reply
    sendp(pkts, iface=a.iface, verbose=False)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline and len(replies) < a.expect:
        time.sleep(0.1)
    time.sleep(0.2)  # late duplicates would show up here
    sniffer.stop()
    print(json.dumps({"sent": len(pkts), "replies": [r.hex() for r in replies]}))


if __name__ == "__main__":
    main()
