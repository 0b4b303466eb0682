# SPDX-License-Identifier: BSD-3-Clause
"""The TRex profile's packets (scripts/trex/dns_mix.py), without TRex: built
with scapy from a names file, checked to be well-formed DNS queries, written
to a pcap, replayed with sendp from the client namespace to a running
heimdall, and every one of them answered."""

import json
import os
import random
import subprocess
import sys

from scapy.layers.dns import DNS, DNSRROPT
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap, wrpcap

from framework import heimdall as hd

sys.path.insert(0, os.path.join(hd.ROOT, "scripts", "trex"))
import dns_mix  # noqa: E402

NETNS = "hd-cli"
CLI_IF = "hd-cli"
CLIENT_V4 = "10.53.0.2"
NAMES = ["ready.heimdall.test", "www.heimdall.test", "mail.heimdall.test", "ns1.heimdall.test",
         "a.heimdall.test", "txt.heimdall.test", "heimdall.test", "nothing-here.heimdall.test"]
QTYPES = "A:4/AAAA:2/MX:1/TXT:1"


def _mac(dev, netns=None):
    cmd = (["ip", "-n", netns] if netns else ["ip"]) + ["-j", "link", "show", "dev", dev]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["address"]


def _names_file(tmp_path):
    p = tmp_path / "names.txt"
    p.write_text("# test names\n" + "\n".join(NAMES) + "\n\n")
    return str(p)


def _build(tmp_path, **kw):
    return dns_mix.build_queries(names=_names_file(tmp_path), qtypes=QTYPES, **kw)


def test_profile_packets_are_valid_queries(tmp_path):
    queries = _build(tmp_path, src_ip=CLIENT_V4, dst_ip=hd.V4)
    assert len(queries) == len(NAMES) * 4
    # The stream weights reproduce the mix: A is half of the traffic.
    total = sum(w for _, w in queries)
    a_share = sum(w for p, w in queries if p[DNS].qd.qtype == 1) / total
    assert abs(a_share - 0.5) < 1e-9
    seen = set()
    for pkt, _ in queries:
        wire = bytes(pkt)
        e = Ether(wire)
        assert e[IP].dst == hd.V4 and e[IP].src == CLIENT_V4
        assert e[UDP].dport == 53
        # Checksums as sent: recomputing them gives the same bytes.
        again = e.copy()
        del again[IP].chksum
        del again[UDP].chksum
        assert bytes(again.__class__(bytes(again))) == wire
        d = e[DNS]
        assert d.qr == 0 and d.opcode == 0 and d.rd == 1 and d.qdcount == 1
        qname = d.qd.qname.decode().rstrip(".")
        assert qname in NAMES
        assert d.qd.qclass == 1
        opt = d.ar
        assert isinstance(opt, DNSRROPT) and opt.rclass == 1232 and d.arcount == 1
        seen.add((qname, d.qd.qtype))
    assert len(seen) == len(queries), "every (name, type) exactly once"


def test_profile_rejects_bad_input(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("ok.example\n" + "x" * 64 + ".example\n")
    try:
        dns_mix.read_names(str(bad))
    except ValueError as e:
        assert "bad.txt:2" in str(e)
    else:
        raise AssertionError("a 64-byte label was accepted")
    for spec in ("A:0", "BOGUS:1", ""):
        try:
            dns_mix.parse_qtypes(spec)
        except ValueError:
            continue
        raise AssertionError("qtypes %r was accepted" % spec)


def test_replayed_profile_is_answered(server, tmp_path, watch):
    queries = _build(tmp_path, src_ip=CLIENT_V4, dst_ip=hd.V4,
                     src_mac=_mac(CLI_IF, NETNS), dst_mac=_mac(hd.AFXDP_IF))
    # What the TRex field engine does: a random source port per packet (here
    # distinct, so that each reply is matched to its query).
    ports = random.Random(53).sample(range(20000, 60000), len(queries))
    pkts = [dns_mix.with_source_port(p, port) for (p, _), port in zip(queries, ports)]
    pcap = str(tmp_path / "dns_mix.pcap")
    wrpcap(pcap, pkts)
    assert [bytes(p) for p in rdpcap(pcap)] == [bytes(p) for p in pkts]

    w = watch(server)
    out = subprocess.run(
        ["ip", "netns", "exec", NETNS, "/usr/bin/python3",
         os.path.join(hd.ROOT, "dts", "framework", "l2replay.py"),
         "--iface", CLI_IF, "--pcap", pcap, "--expect", str(len(pkts)), "--timeout", "8"],
        check=True, capture_output=True, text=True, timeout=60).stdout
    res = json.loads(out)
    assert res["sent"] == len(pkts)

    by_port = {}
    for h in res["replies"]:
        r = Ether(bytes.fromhex(h))
        if IP in r and r[IP].src == hd.V4 and DNS in r:
            by_port.setdefault(r[UDP].dport, []).append(r)
    unanswered = []
    for q in pkts:
        got = by_port.get(q[UDP].sport, [])
        if len(got) != 1:
            unanswered.append((q[DNS].qd.qname, q[DNS].qd.qtype, len(got)))
            continue
        r = got[0]
        assert r[IP].dst == CLIENT_V4
        d, qd = r[DNS], q[DNS]
        assert d.qr == 1 and d.id == qd.id
        assert d.qd.qname.lower() == qd.qd.qname.lower() and d.qd.qtype == qd.qd.qtype
        # NXDOMAIN for the name knotd lacks, NOERROR (data or NODATA) for the others.
        expect = 3 if qd.qd.qname.startswith(b"nothing-here") else 0
        assert d.rcode == expect, "rcode %d for %s" % (d.rcode, qd.qd.qname)
    assert not unanswered, "no single reply for %s" % unanswered
    got = w.wait({"queries": len(pkts)})
    assert got["queries"] == len(pkts)
