#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_packet: a few valid frames for the names
and addresses fuzz_packet.c configures (10.53.0.1, fd53::1, port 53).

Each seed is one byte of spare room (x 8 bytes after the frame) followed by
the Ethernet frame. Run: tests/fuzz/make_corpus.py [outdir]
"""
import os
import struct
import sys

SRV_MAC = bytes.fromhex("025300000001")
CLI_MAC = bytes.fromhex("025300000002")
SRV4 = bytes([10, 53, 0, 1])
CLI4 = bytes([10, 53, 0, 2])
SRV6 = bytes.fromhex("fd530000000000000000000000000001")
CLI6 = bytes.fromhex("fd530000000000000000000000000002")
LL6 = bytes.fromhex("fe800000000000000000000000000002")
ROOM = 200  # 1600 spare bytes


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def name(text):
    out = b""
    for label in text.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype=1, qid=0x1234, edns=None, qdcount=1, version=0, do=False):
    msg = struct.pack("!HHHHHH", qid, 0x0100, qdcount, 0, 0, 1 if edns else 0)
    msg += name(qname) + struct.pack("!HH", qtype, 1)
    if edns:
        ttl = (version << 16) | (0x8000 if do else 0)
        msg += b"\0" + struct.pack("!HHIH", 41, edns, ttl, 0)
    return msg


def eth(ethertype, dst=SRV_MAC, vlan=None):
    hdr = dst + CLI_MAC
    if vlan is not None:
        hdr += struct.pack("!HH", 0x8100, vlan)
    return hdr + struct.pack("!H", ethertype)


def udp4(payload, vlan=None, sport=40000):
    ulen = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0x4000, 64, 17, 0, CLI4, SRV4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    pseudo = CLI4 + SRV4 + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, 53, ulen, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return eth(0x0800, vlan=vlan) + ip + udp


def udp6(payload, sport=40000):
    ulen = 8 + len(payload)
    ip = struct.pack("!IHBB", 0x60000000, ulen, 17, 64) + CLI6 + SRV6
    pseudo = CLI6 + SRV6 + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", sport, 53, ulen, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return eth(0x86DD) + ip + udp


def arp_request(target=SRV4):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + CLI_MAC + CLI4 + bytes(6) + target
    frame = eth(0x0806, dst=b"\xff" * 6) + body
    return frame + bytes(60 - len(frame))


def neighbour_solicitation(target=SRV6):
    dst = bytes.fromhex("ff0200000000000000000001ff") + target[13:]
    icmp = struct.pack("!BBHI", 135, 0, 0, 0) + target + b"\x01\x01" + CLI_MAC
    pseudo = LL6 + dst + struct.pack("!IxxxB", len(icmp), 58)
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
    ip = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 255) + LL6 + dst
    return eth(0x86DD, dst=bytes.fromhex("3333ff") + target[13:]) + ip + icmp


SEEDS = {
    "v4_a_hit": udp4(query("a.example")),
    "v4_a_hit_noroom": udp4(query("A.Example")),
    "v6_a_edns_hit": udp6(query("www.example.com", edns=1232, do=True)),
    "v4_vlan_big_tc": udp4(query("big.example"), vlan=42),
    "v4_big_edns": udp4(query("big.example", edns=4096)),
    "v4_nxdomain_hit": udp4(query("nx.example", qid=3)),
    "v4_miss_edns": udp4(query("miss.example", edns=1232, qid=1)),
    "v6_miss": udp6(query("other.example", qid=2)),
    "v4_formerr": udp4(query("a.example", qdcount=2)),
    "v4_badvers": udp4(query("a.example", edns=1232, version=1)),
    "arp_request": arp_request(),
    "nd_solicitation": neighbour_solicitation(),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "packet")
    os.makedirs(out, exist_ok=True)
    for seed, frame in SEEDS.items():
        room = 0 if seed.endswith("noroom") else ROOM
        with open(os.path.join(out, seed), "wb") as f:
            f.write(bytes([room]) + frame)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
