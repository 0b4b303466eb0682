# SPDX-License-Identifier: BSD-3-Clause
"""Local records and zones over the wire: --record for A, AAAA, SRV, MX, TXT,
CNAME (followed inside the local data); automatic PTR for IPv4 and IPv6, and
--no-local-ptr; --local-zone answers NXDOMAIN with the SOA and AA for unknown
names and NODATA for other types; a zone file with a wildcard; a record
outside every zone answers only its own name; local answers never reach the
upstream, are counted exactly as `local_answers`, and are the same over TCP."""

import dns.flags
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

from framework import dnsutil
from framework import filtering as f
from framework import heimdall as hd

ADDRS = [hd.V4, hd.V6]
BASE = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM]

RECORDS = [
    "host.lab.home.arpa A 192.0.2.25",          # knotd's reverse zone says 25 is mail.heimdall.test
    "host.lab.home.arpa AAAA 2001:db8:53::25",
    "lab.home.arpa 60 MX 10 host.lab.home.arpa",
    'lab.home.arpa TXT "v=spf1 -all" "second string"',
    "_http._tcp.lab.home.arpa SRV 10 5 8080 host.lab.home.arpa",
    "www.lab.home.arpa CNAME host.lab.home.arpa",
    "pc.wild.heimdall.test A 192.0.2.28",        # outside every local zone, inside the upstream's
]
PTR4 = "25.2.0.192.in-addr.arpa."
PTR6 = dns.reversename.from_address("2001:db8:53::25").to_text()


def _args(extra=()):
    args = list(BASE)
    for rec in RECORDS:
        args += ["--record", rec]
    return args + ["--local-zone", "lab.home.arpa",
                   "--zone-file", f.local_zone_file("office.home.arpa.zone")] + list(extra)


_kept = {}


@pytest.fixture
def local(servers):
    """One instance with the records and zones above, kept across tests."""
    h = _kept.get("h")
    if h is None or servers.current is not h or not h.alive():
        h = _kept["h"] = servers.start("localzone", _args())
    return h


H = "host.lab.home.arpa."
# (name, type) -> the answer section: [(owner, type, rdata, ttl)]
ANSWERS = {
    (H, "A"): [(H, "A", "192.0.2.25", 300)],
    (H, "AAAA"): [(H, "AAAA", "2001:db8:53::25", 300)],
    ("lab.home.arpa.", "MX"): [("lab.home.arpa.", "MX", "10 host.lab.home.arpa.", 60)],
    ("lab.home.arpa.", "TXT"): [("lab.home.arpa.", "TXT", '"v=spf1 -all" "second string"', 300)],
    ("_http._tcp.lab.home.arpa.", "SRV"): [("_http._tcp.lab.home.arpa.", "SRV", "10 5 8080 " + H, 300)],
    ("www.lab.home.arpa.", "A"): [("www.lab.home.arpa.", "CNAME", H, 300), (H, "A", "192.0.2.25", 300)],
    ("www.lab.home.arpa.", "AAAA"): [("www.lab.home.arpa.", "CNAME", H, 300),
                                     (H, "AAAA", "2001:db8:53::25", 300)],
    (PTR4, "PTR"): [(PTR4, "PTR", H, 300)],
    (PTR6, "PTR"): [(PTR6, "PTR", H, 300)],
    ("pc.wild.heimdall.test.", "A"): [("pc.wild.heimdall.test.", "A", "192.0.2.28", 300)],
    # the zone file
    ("nas.office.home.arpa.", "A"): [("nas.office.home.arpa.", "A", "192.0.2.201", 600)],
    ("nas.office.home.arpa.", "AAAA"): [("nas.office.home.arpa.", "AAAA", "2001:db8:0:1::201", 600)],
    ("printer.office.home.arpa.", "A"): [("printer.office.home.arpa.", "CNAME", "nas.office.home.arpa.", 600),
                                         ("nas.office.home.arpa.", "A", "192.0.2.201", 600)],
    ("_ipp._tcp.office.home.arpa.", "SRV"): [("_ipp._tcp.office.home.arpa.", "SRV",
                                              "0 0 631 nas.office.home.arpa.", 600)],
    # wildcards: the owner is the name asked
    ("laptop.dev.office.home.arpa.", "A"): [("laptop.dev.office.home.arpa.", "A", "192.0.2.202", 600)],
    ("a.b.dev.office.home.arpa.", "TXT"): [("a.b.dev.office.home.arpa.", "TXT", '"wildcard"', 600)],
}

# (name, type, rcode, zone whose SOA the authority carries)
NEGATIVE = [
    ("nothere.lab.home.arpa.", "A", dns.rcode.NXDOMAIN, "lab.home.arpa."),
    ("deep.nothere.lab.home.arpa.", "AAAA", dns.rcode.NXDOMAIN, "lab.home.arpa."),
    (H, "TXT", dns.rcode.NOERROR, "lab.home.arpa."),
    ("lab.home.arpa.", "A", dns.rcode.NOERROR, "lab.home.arpa."),
    ("nothere.office.home.arpa.", "A", dns.rcode.NXDOMAIN, "office.home.arpa."),
    ("nas.office.home.arpa.", "MX", dns.rcode.NOERROR, "office.home.arpa."),
    ("laptop.dev.office.home.arpa.", "AAAA", dns.rcode.NOERROR, "office.home.arpa."),
]


def _ids(keys):
    return ["%s-%s" % (k[0].rstrip("."), k[1]) for k in keys]


@pytest.mark.parametrize("key", list(ANSWERS), ids=_ids(ANSWERS))
def test_local_answer(local, agent, watch, key):
    name, rdtype = key
    for addr in ADDRS:
        w = watch(local)
        r = f.ask(agent, addr, name, rdtype)
        assert r.rcode() == dns.rcode.NOERROR, "%s %s: %s" % (name, rdtype, dns.rcode.to_text(r.rcode()))
        assert f.answer_view(r) == ANSWERS[key], "%s %s via %s:\n%s" % (name, rdtype, addr, r)
        d = w.wait({"local_answers": 1})
        assert d["local_answers"] == 1, d
        assert w.delta("upstream_queries") == 0, "a local name reached the upstream"
    if name.endswith("home.arpa."):
        assert r.flags & dns.flags.AA, "no AA on an answer from local zone data"


@pytest.mark.parametrize("name,rdtype,rcode,zone", NEGATIVE, ids=_ids(NEGATIVE))
def test_local_zone_negative(local, agent, watch, name, rdtype, rcode, zone):
    for addr in ADDRS:
        w = watch(local)
        r = f.ask(agent, addr, name, rdtype)
        assert r.rcode() == rcode, "%s %s: %s, want %s" % (
            name, rdtype, dns.rcode.to_text(r.rcode()), dns.rcode.to_text(rcode))
        assert not r.answer, r
        assert r.flags & dns.flags.AA, "no AA on a negative answer of local zone %s" % zone
        soa = [rrset for rrset in r.authority if rrset.rdtype == dns.rdatatype.SOA]
        assert len(soa) == 1 and soa[0].name.to_text().lower() == zone, \
            "authority should hold the SOA of %s:\n%s" % (zone, r)
        if zone == "office.home.arpa.":      # the zone file's own SOA
            rd = soa[0][0]
            assert (rd.mname.to_text(), rd.serial, rd.minimum) == ("ns.office.home.arpa.", 7, 120), rd
            assert 0 < soa[0].ttl <= 600
        assert w.wait({"local_answers": 1})["local_answers"] == 1
        assert w.delta("upstream_queries") == 0, "a local zone's name reached the upstream"


def test_outside_zones_untouched(local, agent, watch):
    # pc.wild.heimdall.test has a local A record but sits in no local zone:
    # its other types are NODATA here, its siblings and parent are the upstream's.
    w = watch(local)
    r = f.ask(agent, hd.V6, "pc.wild.heimdall.test.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer, r
    assert w.wait({"local_answers": 1})["local_answers"] == 1 and w.delta("upstream_queries") == 0
    for addr in ADDRS:
        w = watch(local)
        f.assert_forwarded(agent, addr, dnsutil.unique("wild.heimdall.test"))
        f.assert_forwarded(agent, addr, dnsutil.unique("nx.heimdall.test"), "AAAA")
        d = w.wait({"upstream_queries": 2})
        assert d["upstream_queries"] == 2 and w.delta("local_answers") == 0, d


def test_local_answers_counted_exactly(local, agent, watch):
    keys = list(ANSWERS)
    wires = [dnsutil.make_query(n, t).to_wire() for n, t in keys]
    wires += [dnsutil.make_query(n, t).to_wire() for n, t, _, _ in NEGATIVE]
    w = watch(local)
    replies = agent.send_udp_many(hd.V4, wires[::2]) + agent.send_udp_many(hd.V6, wires[1::2])
    assert all(r is not None for r in replies), "%d unanswered" % replies.count(None)
    n = len(wires)
    d = w.wait({"local_answers": n, "queries": n})
    assert d == {"local_answers": n, "queries": n}, "%s for %d local queries" % (d, n)
    assert w.delta("upstream_queries") == 0 and w.delta("cache_misses") == 0


def test_no_edns_no_opt(local, agent):
    for addr in ADDRS:
        r = f.ask(agent, addr, H, "A", edns=None)
        assert f.answer_view(r) == ANSWERS[(H, "A")]


def test_tcp_same_as_udp(local, agent, watch):
    keys = [(H, "A"), ("www.lab.home.arpa.", "AAAA"), (PTR4, "PTR"), ("laptop.dev.office.home.arpa.", "A"),
            ("nothere.lab.home.arpa.", "A")]
    w = watch(local)
    for i, (name, rdtype) in enumerate(keys):
        addr = ADDRS[i % 2]
        udp = f.ask(agent, addr, name, rdtype)
        tcp = f.ask(agent, addr, name, rdtype, tcp=True)
        assert tcp.rcode() == udp.rcode() and tcp.flags == udp.flags, (tcp, udp)
        assert f.answer_view(tcp) == f.answer_view(udp), "%s %s over TCP:\n%s\nUDP:\n%s" % (
            name, rdtype, tcp, udp)
        assert dnsutil.rrsets_view(tcp.authority) == dnsutil.rrsets_view(udp.authority)
    n = len(keys)
    d = w.wait({"tcp_queries": n, "local_answers": 2 * n})
    assert d == {"tcp_queries": n, "local_answers": 2 * n}, d
    assert w.delta("upstream_queries") == 0


def test_records_telemetry(local):
    st = f.records_state(local)
    assert st["zones"] == 2, "lab.home.arpa and office.home.arpa: %s" % st
    assert st["records"] >= len(RECORDS), st
    assert "generation" in st, st


def test_no_local_ptr(start_heimdall, agent, watch):
    h = start_heimdall("no-local-ptr", _args(["--no-local-ptr"]))
    w = watch(h)
    # Not local any more: the upstream's reverse zone answers (mail.heimdall.test).
    r = f.assert_forwarded(agent, hd.V4, PTR4, "PTR")
    assert f.answer_view(r)[0][2] == "mail.heimdall.test.", r
    r = f.ask(agent, hd.V6, PTR6, "PTR")
    assert H not in [a[2] for a in f.answer_view(r)], "PTR synthesized despite --no-local-ptr: %s" % r
    d = w.wait({"upstream_queries": 2})
    assert d["upstream_queries"] == 2 and w.delta("local_answers") == 0, d
    # The forward records are still local.
    r = f.ask(agent, hd.V4, H, "A")
    assert f.answer_view(r) == ANSWERS[(H, "A")]
