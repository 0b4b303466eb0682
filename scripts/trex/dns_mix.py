# SPDX-License-Identifier: BSD-3-Clause
"""TRex stateless (STL) profile: a mix of DNS queries at a given rate.

    trex-console> start -f scripts/trex/dns_mix.py -m 1mpps --port 0 \
        -t names=/path/names.txt,qtypes=A:60/AAAA:30/MX:5/TXT:5,dst_ip=10.53.0.1

Each line of the names file is one name (blank lines and # comments are
skipped); every name is asked for with every query type of the mix, and the
share of a type in the stream mix is its weight. The UDP source port of
each packet is random (a TRex field engine variable), so RSS spreads the
queries over heimdall's worker queues, and the IPv4 and UDP checksums are
fixed up after the rewrite.

The packet building (build_queries) needs scapy only, so the test suite
(dts/tests/TestSuite_trex.py) builds the very same packets without TRex.
"""

import os

from scapy.layers.dns import DNS, DNSQR, DNSRROPT
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

HERE = os.path.dirname(os.path.abspath(__file__))

DEFAULTS = {
    "names": os.path.join(HERE, "names.txt"),
    "qtypes": "A:60/AAAA:30/HTTPS:4/MX:2/TXT:2/PTR:2",
    "src_ip": "10.53.0.2",
    "dst_ip": "10.53.0.1",
    "src_mac": "02:00:00:00:00:02",
    "dst_mac": "02:00:00:00:00:01",
    "dst_port": 53,
    "sport_min": 1024,
    "sport_max": 65535,
    "edns": 1232,           # EDNS UDP size of the queries; 0: no OPT record
    "rd": 1,
}

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "DS": 43, "DNSKEY": 48, "SVCB": 64, "HTTPS": 65, "CAA": 257}


def read_names(path):
    """Names of a names file, absolute (trailing dot), in file order."""
    names = []
    with open(path, encoding="ascii") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name = line if line.endswith(".") else line + "."
            labels = name[:-1].split(".")
            if len(name) > 254 or any(not lab or len(lab) > 63 for lab in labels):
                raise ValueError("%s:%d: not a valid DNS name: %r" % (path, lineno, line))
            names.append(name)
    if not names:
        raise ValueError("%s: no names" % path)
    return names


def parse_qtypes(spec):
    """'A:60/AAAA:30' -> [('A', 60), ('AAAA', 30)] (a weight defaults to 1)."""
    mix = []
    for item in spec.replace(",", "/").split("/"):
        item = item.strip()
        if not item:
            continue
        name, _, weight = item.partition(":")
        name = name.upper()
        if name not in QTYPES:
            raise ValueError("unknown query type %r (known: %s)" % (name, " ".join(sorted(QTYPES))))
        w = int(weight) if weight else 1
        if w <= 0:
            raise ValueError("weight of %s must be positive" % name)
        mix.append((name, w))
    if not mix:
        raise ValueError("empty query type mix %r" % spec)
    return mix


def options(**kwargs):
    """DEFAULTS overridden by kwargs (trex-console -t key=value passes strings)."""
    o = dict(DEFAULTS)
    for k, v in kwargs.items():
        if k in o and v is not None:
            o[k] = type(DEFAULTS[k])(v) if not isinstance(DEFAULTS[k], str) else str(v)
    return o


def build_queries(**kwargs):
    """Every (name, qtype) of the mix as a scapy Ether/IP/UDP/DNS packet.

    Returns a list of (packet, weight): weight is the qtype's weight, spread
    over the names, so a stream per packet at rate proportional to weight
    reproduces the mix. The DNS ID is derived from the position, the source
    port is sport_min (the field engine randomises it under TRex).
    """
    o = options(**kwargs)
    names = read_names(o["names"])
    mix = parse_qtypes(o["qtypes"])
    out = []
    qid = 0
    for qtype, weight in mix:
        for name in names:
            qid = (qid + 1) & 0xFFFF
            dns = DNS(id=qid, rd=o["rd"], qd=DNSQR(qname=name, qtype=QTYPES[qtype], qclass=1))
            if o["edns"]:
                dns.ar = DNSRROPT(rclass=o["edns"])
                dns.arcount = 1
            pkt = (Ether(src=o["src_mac"], dst=o["dst_mac"]) /
                   IP(src=o["src_ip"], dst=o["dst_ip"]) /
                   UDP(sport=o["sport_min"], dport=o["dst_port"]) / dns)
            out.append((pkt, weight / len(names)))
    return out


def with_source_port(pkt, port):
    """A copy of pkt with UDP source port `port` and fresh IPv4/UDP checksums:
    what the TRex field engine below does to each packet it sends."""
    p = pkt.copy()
    p[UDP].sport = port
    del p[IP].chksum
    del p[UDP].chksum
    return p.__class__(bytes(p))


# -- TRex --------------------------------------------------------------------
# Only this part needs TRex's Python library; it is imported lazily so that
# the module works with plain scapy.

class DnsMix:
    def get_streams(self, direction=0, **kwargs):
        from trex_stl_lib.api import (STLPktBuilder, STLScVmRaw, STLStream, STLTXCont,
                                      STLVmFixChecksumHw, STLVmFlowVar, STLVmWrFlowVar)
        tunables = {k: v for k, v in kwargs.items() if k in DEFAULTS}
        o = options(**tunables)
        queries = build_queries(**tunables)
        total = sum(w for _, w in queries)
        streams = []
        for pkt, weight in queries:
            vm = STLScVmRaw([
                STLVmFlowVar(name="sport", min_value=o["sport_min"], max_value=o["sport_max"],
                             size=2, op="random"),
                STLVmWrFlowVar(fv_name="sport", pkt_offset="UDP.sport"),
                # The IPv4 header checksum and the UDP checksum over the new port.
                STLVmFixChecksumHw(l3_offset="IP", l4_offset="UDP", l4_type=17),
            ])
            streams.append(STLStream(
                packet=STLPktBuilder(pkt=pkt, vm=vm),
                # Percent of the port's rate; -m in trex-console scales the total.
                mode=STLTXCont(percentage=100.0 * weight / total)))
        return streams


def register():
    return DnsMix()
