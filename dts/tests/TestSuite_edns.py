# SPDX-License-Identifier: BSD-3-Clause
"""EDNS0 and truncation: OPT in the reply iff in the query, our payload size
advertised, version > 0 answered BADVERS; a reply over the client's limit (512
without EDNS) goes out with TC=1 and the same query over TCP gets it whole; an
upstream reply with TC=1 is retried over TCP. Miss and hit paths both checked."""

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from framework import dnsutil
from framework import heimdall as hd

ADDRS = [hd.V4, hd.V6]
OUR_UDP_SIZE = 1232  # --udp-size default


def _ask(agent, addr, q, tcp=False):
    r, w = agent.query(addr, q, tcp=tcp, timeout=4.0)
    assert r is not None, "no reply for %s from %s" % (q.question[0], addr)
    dnsutil.assert_reply_header(q, q.to_wire(), r, w)
    return r, w


@pytest.mark.parametrize("addr", ADDRS)
def test_opt_present_iff_asked(server, agent, addr):
    name = dnsutil.unique("wild.heimdall.test")
    # miss without EDNS, then hits with and without
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A"))
    assert r.edns == -1, "OPT in the reply to a query without OPT (miss)"
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A", edns=0, payload=4096))
    assert r.edns == 0, "no OPT (version 0) in the reply to an EDNS query (hit)"
    assert r.payload == OUR_UDP_SIZE, "advertised payload %d, expected %d" % (r.payload, OUR_UDP_SIZE)
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A"))
    assert r.edns == -1, "OPT in the reply to a query without OPT (hit)"

    # miss with EDNS
    name = dnsutil.unique("wild.heimdall.test")
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A", edns=0, payload=1400))
    assert r.edns == 0 and r.payload == OUR_UDP_SIZE, "miss: edns %d payload %d" % (r.edns, r.payload)


@pytest.mark.parametrize("addr", ADDRS)
def test_edns_version_1_gets_badvers(server, agent, watch, addr):
    w = watch(server)
    q = dnsutil.make_query("www.heimdall.test.", "A", edns=1)
    r, _ = _ask(agent, addr, q)
    assert r.rcode() == dns.rcode.BADVERS, "rcode %s, expected BADVERS" % dns.rcode.to_text(r.rcode())
    assert r.edns == 0, "BADVERS must carry an OPT of the version we speak (0)"
    assert not r.answer
    assert w.wait({"badvers": 1})["badvers"] == 1


def _tc_check(r, w, limit):
    assert r.flags & dns.flags.TC, "reply of %d bytes without TC (limit %d)" % (len(w), limit)
    assert len(w) <= limit, "truncated reply is %d bytes, over the limit %d" % (len(w), limit)
    assert not r.answer, "a truncated reply carries partial RRsets"


@pytest.mark.parametrize("addr", ADDRS)
def test_tc_over_512_without_edns_then_tcp(server, agent, watch, addr):
    # 40 A records (~660 bytes): fine in 1232, too big for 512.
    name = dnsutil.unique("bigwild.heimdall.test")
    ref = dnsutil.ask_upstream(dnsutil.make_query(name, "A"), tcp=True)
    for path in ("miss", "hit"):
        w = watch(server)
        r, wire = _ask(agent, addr, dnsutil.make_query(name, "A"))
        _tc_check(r, wire, 512)
        assert w.wait({"tc_replies": 1})["tc_replies"] == 1, path
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A", edns=0, payload=1232))
    assert not r.flags & dns.flags.TC
    dnsutil.assert_same_answer(r, ref)
    r, wire = _ask(agent, addr, dnsutil.make_query(name, "A", edns=0, payload=512))
    _tc_check(r, wire, 512)
    assert r.edns == 0
    w = watch(server)
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A"), tcp=True)
    assert not r.flags & dns.flags.TC
    dnsutil.assert_same_answer(r, ref)
    assert len(r.answer[0]) == 40
    assert w.wait({"tcp_queries": 1})["tcp_queries"] == 1


@pytest.mark.parametrize("addr", ADDRS)
def test_over_our_size_truncated_and_whole_over_tcp(server, agent, watch, addr):
    # 100 A records (~1640 bytes): over our 1232 even when the client offers 4096.
    # knotd answers heimdall's UDP query with TC=1 too: heimdall must retry over TCP.
    name = dnsutil.unique("hugewild.heimdall.test")
    ref = dnsutil.ask_upstream(dnsutil.make_query(name, "A"), tcp=True)
    w = watch(server)
    r, wire = _ask(agent, addr, dnsutil.make_query(name, "A", edns=0, payload=4096))
    _tc_check(r, wire, OUR_UDP_SIZE)
    assert r.edns == 0
    d = w.wait({"upstream_tcp": 1, "tc_replies": 1})
    assert d == {"upstream_tcp": 1, "tc_replies": 1}, d

    w = watch(server)
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A", edns=0), tcp=True)
    assert not r.flags & dns.flags.TC
    dnsutil.assert_same_answer(r, ref)
    assert len(r.answer[0]) == 100
    d = w.wait({"tcp_queries": 1})
    assert d["tcp_queries"] == 1
    assert w.delta("upstream_queries") == 0, "the TCP retry's answer was not cached"


@pytest.mark.parametrize("addr", ADDRS)
def test_tcp_first_gets_whole_answer(server, agent, addr):
    # A fresh name asked over TCP first: whatever way heimdall gets it from the
    # upstream, the whole answer comes back.
    name = dnsutil.unique("hugewild.heimdall.test")
    ref = dnsutil.ask_upstream(dnsutil.make_query(name, "A"), tcp=True)
    r, _ = _ask(agent, addr, dnsutil.make_query(name, "A"), tcp=True)
    dnsutil.assert_same_answer(r, ref)
    assert len(r.answer[0]) == 100
