# SPDX-License-Identifier: BSD-3-Clause
"""From the client namespace, heimdall gives the answers the upstream (knotd) gives,
for every record type of the issue, over IPv4 and IPv6, on a miss (slow path)
and on the following hit (worker lcore, from the cache); the reply echoes the
client's ID, question and letter case, sets RA and copies RD."""

import subprocess

import dns.flags
import pytest

from framework import dnsutil
from framework import heimdall as hd

# (name, type, transport): UDP answers fit the 1232-byte EDNS size; the two
# larger ones are asked over TCP, where the whole answer must come back.
CASES = [
    ("www.heimdall.test.", "A", "udp"),
    ("www.heimdall.test.", "AAAA", "udp"),
    ("a.heimdall.test.", "A", "udp"),                 # CNAME a -> b -> c, then A
    ("a.heimdall.test.", "CNAME", "udp"),
    ("b.heimdall.test.", "AAAA", "udp"),              # CNAME b -> c, then AAAA
    ("heimdall.test.", "MX", "udp"),
    ("txt.heimdall.test.", "TXT", "udp"),             # several strings in one RR
    ("longtxt.heimdall.test.", "TXT", "udp"),         # one RR over 512 bytes
    ("txtset.heimdall.test.", "TXT", "tcp"),          # 30 RRs, over 1232 bytes
    ("heimdall.test.", "NS", "udp"),
    ("heimdall.test.", "SOA", "udp"),
    ("_sip._udp.heimdall.test.", "SRV", "udp"),
    ("ptr.heimdall.test.", "PTR", "udp"),
    ("10.2.0.192.in-addr.arpa.", "PTR", "udp"),
    ("heimdall.test.", "CAA", "udp"),
    ("svc.heimdall.test.", "HTTPS", "udp"),
    ("alias.heimdall.test.", "HTTPS", "udp"),         # AliasMode, target name in RDATA
    ("_dns.svc.heimdall.test.", "SVCB", "udp"),
    ("unknown.heimdall.test.", "TYPE65280", "udp"),   # RFC 3597
    ("big.heimdall.test.", "A", "udp"),               # 40 A records, ~660 bytes
    ("huge.heimdall.test.", "A", "tcp"),              # 100 A records, ~1640 bytes
    ("nope.heimdall.test.", "A", "udp"),              # NXDOMAIN
    ("www.heimdall.test.", "MX", "udp"),              # NODATA
    ("nope.heimdall.test.", "TXT", "tcp"),            # NXDOMAIN over TCP
]


@pytest.fixture(scope="module", params=["ipv4", "ipv6"])
def family(request, servers):
    # A fresh server per family, so the first query of each case is a miss there too.
    servers.default(fresh=True)
    return hd.V4 if request.param == "ipv4" else hd.V6


def _ask(agent, addr, q, transport):
    r, wire = agent.query(addr, q, tcp=(transport == "tcp"), timeout=4.0)
    assert r is not None, "no reply from %s for %s" % (addr, q.question[0])
    return r, wire


@pytest.mark.parametrize("name,rdtype,transport", CASES,
                         ids=["%s-%s-%s" % c for c in CASES])
def test_same_answer_as_upstream(family, server, agent, watch, name, rdtype, transport):
    ref = dnsutil.ask_upstream(dnsutil.make_query(name, rdtype, edns=0), tcp=True)

    # Miss: answered by the slow path after asking the upstream.
    q1 = dnsutil.make_query(dnsutil.mixed_case(name, 1), rdtype, edns=0, payload=1232)
    r1, w1 = _ask(agent, family, q1, transport)
    dnsutil.assert_reply_header(q1, q1.to_wire(), r1, w1)
    dnsutil.assert_same_answer(r1, ref, "first query")
    assert not r1.flags & dns.flags.TC

    # Hit: same question, other letter case and ID, from the cache.
    q2 = dnsutil.make_query(dnsutil.mixed_case(name, 2), rdtype, edns=0, payload=1232)
    w = watch(server)
    r2, w2 = _ask(agent, family, q2, transport)
    dnsutil.assert_reply_header(q2, q2.to_wire(), r2, w2)
    dnsutil.assert_same_answer(r2, ref, "second query")
    if transport == "udp":
        d = w.wait({"cache_hits": 1})
        assert d["cache_hits"] == 1, "second query was not a cache hit: %s" % d
        assert w.delta("upstream_queries") == 0, "second query reached the upstream"


def test_without_edns_and_rd_clear(server, agent):
    """A plain query (no OPT) and one with RD=0 are answered, RD copied each time."""
    for addr in (hd.V4, hd.V6):
        for rd in (True, False):
            q = dnsutil.make_query("WWW.heimdall.TEST.", "A", rd=rd)
            r, w = _ask(agent, addr, q, "udp")
            dnsutil.assert_reply_header(q, q.to_wire(), r, w)
            assert r.edns == -1, "OPT in a reply to a query without one"
            if rd:
                ref = dnsutil.ask_upstream(dnsutil.make_query("www.heimdall.test.", "A"))
                dnsutil.assert_same_answer(r, ref)


def _kdig(args, netns=None):
    cmd = ["kdig", "+timeout=3", "+retry=0", "+short"] + args
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, "%s: %s" % (" ".join(cmd), p.stderr)
    return sorted(line for line in p.stdout.splitlines() if line.strip())


@pytest.mark.parametrize("addr", [hd.V4, hd.V6])
def test_kdig_from_namespace(server, addr):
    """What a user types: kdig @10.53.0.1 / @fd53::1 from the namespace, same output as
    kdig asking knotd."""
    for name, rdtype in [("a.heimdall.test", "A"), ("heimdall.test", "MX"),
                         ("txt.heimdall.test", "TXT"), ("svc.heimdall.test", "HTTPS"),
                         ("unknown.heimdall.test", "TYPE65280"), ("huge.heimdall.test", "A")]:
        ours = _kdig(["@" + addr, name, rdtype], netns="hd-cli")
        theirs = _kdig(["@127.0.0.1", "-p", "5300", name, rdtype])
        assert ours == theirs, "kdig %s %s: %s, upstream %s" % (name, rdtype, ours, theirs)
