# SPDX-License-Identifier: BSD-3-Clause
"""Several upstreams: every selection strategy, failover with no SERVFAIL
while one upstream lives, health (down, backoff, up again) in
/heimdall/upstreams, one upstream query for many identical questions,
conditional forwarding, and forged replies injected with scapy.

The upstreams are FakeUpstreams (framework/fakeupstream.py: count what
they receive, delay, relay to knotd or answer with an address of their
own, stop, fall silent) and a second knotd on port 5301
(framework/knot.py) that a test stops and starts. knotd on 5300 stays up.
"""

import time

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework import resolver as rs
from framework.fakeupstream import Fleet
from framework.knot import Knotd

WILD = "wild.heimdall.test"
WILD_A = ["192.0.2.77"]          # what knotd answers for *.wild.heimdall.test
KNOTD2_PORT = 5301
V4_ONLY = (hd.V4,)


@pytest.fixture
def fleet():
    f = Fleet()
    yield f
    f.close()


@pytest.fixture
def knotd2(upstream):
    k = Knotd(KNOTD2_PORT).start()
    yield k
    k.stop()


def _start(start_heimdall, name, strategy, ups, extra=()):
    args = rs.base_args(*ups) + ["--upstream-strategy", strategy] + list(extra)
    return start_heimdall(name, args, listen=V4_ONLY)


def _names(n):
    return [dnsutil.unique(WILD) for _ in range(n)]


def _ask_all(agent, names):
    """Ask each name in turn; every one must be answered with knotd's address."""
    out = []
    for n in names:
        _, elapsed = rs.ask_noerror(agent, n, want=WILD_A)
        out.append(elapsed)
    return out


# -- strategies ----------------------------------------------------------------

def test_strict_uses_the_first_while_it_is_alive(start_heimdall, agent, fleet):
    a, b = fleet.add(name="a"), fleet.add(name="b")
    h = _start(start_heimdall, "strict", "strict", [a, b])
    names = _names(20)
    _ask_all(agent, names)
    assert (a.count_names(names), b.count_names(names)) == (20, 0), \
        "strict: first upstream asked %d, second %d of 20" % (a.count_names(names), b.count_names(names))
    assert rs.upstreams(h)["strategy"] == "strict"

    a.stop()
    later = _names(10)
    _ask_all(agent, later)
    assert b.count_names(later) == 10, "with the first one dead the second answered %d of 10" % (
        b.count_names(later))


def test_round_robin_spreads(start_heimdall, agent, fleet, watch):
    ups = [fleet.add(name=n) for n in ("a", "b", "c")]
    h = _start(start_heimdall, "round-robin", "round_robin", ups)
    w = watch(h)
    names = _names(30)
    _ask_all(agent, names)
    counts = [u.count_names(names) for u in ups]
    assert sum(counts) == 30, "30 questions reached the upstreams %d times: %s" % (sum(counts), counts)
    assert min(counts) >= 5, "round_robin: 30 questions split %s" % counts
    assert w.wait({"upstream_queries": 30})["upstream_queries"] == 30

    tel = rs.upstreams(h)
    assert tel["strategy"] == "round_robin"
    for up in ups:
        row = rs.server(h, up.port)
        for key in ("address", "port", "transport", "state", "queries", "replies", "failures",
                    "timeouts", "rejected", "rtt_ms", "backoff_ms", "group"):
            assert key in row, "/heimdall/upstreams entry lacks %r: %s" % (key, row)
        assert row["address"] == "127.0.0.1" and row["transport"] == "udp"
        assert row["state"] == "up" and row["group"] == "default", row
        # the server's own count includes the readiness probe, heimdall's too
        assert int(row["queries"]) == up.count() and int(row["replies"]) == up.count(), (
            "telemetry says %s queries / %s replies, the upstream saw %d" % (
                row["queries"], row["replies"], up.count()))


def test_fastest_prefers_the_fast_server(start_heimdall, agent, fleet):
    # The slow one is listed first: strict or in-order choices would pick it.
    slow = fleet.add(name="slow", delay=0.15)
    h = _start(start_heimdall, "fastest", "fastest", [slow, hd.UPSTREAM])
    _ask_all(agent, _names(10))        # RTTs of both get measured
    names = _names(40)
    elapsed = _ask_all(agent, names)
    to_slow = slow.count_names(names)
    assert to_slow <= 10, "fastest: the 150 ms server was asked %d of 40 times" % to_slow
    assert sorted(elapsed)[len(elapsed) // 2] < 0.1, "median answer time %.3f s" % (
        sorted(elapsed)[len(elapsed) // 2])
    rows = {int(r["port"]): r for _, r in rs.servers(h)}
    assert int(rows[slow.port]["rtt_ms"]) > int(rows[5300]["rtt_ms"]), rows
    assert int(rows[slow.port]["rtt_ms"]) >= 75, "RTT of the 150 ms server: %s" % rows[slow.port]
    assert rs.upstreams(h)["strategy"] == "fastest"


def test_parallel_answers_at_the_speed_of_the_fastest(start_heimdall, agent, fleet):
    slow = fleet.add(name="slow", delay=0.4)
    fast = fleet.add(name="fast")
    h = _start(start_heimdall, "parallel", "parallel", [slow, fast])
    names = _names(20)
    elapsed = _ask_all(agent, names)
    assert max(elapsed) < 0.3, "parallel: slowest answer %.3f s (the slow upstream takes 0.4 s)" % (
        max(elapsed))
    # Both were raced: each question went to both servers.
    assert fast.count_names(names) == 20
    assert slow.count_names(names) >= 18, "the slow upstream was asked %d of 20 times: no race" % (
        slow.count_names(names))
    assert rs.upstreams(h)["strategy"] == "parallel"


# -- failover and health ---------------------------------------------------------

def _query_loop(agent, seconds, events):
    """Ask fresh names one after another for seconds; run events [(at s, fn)] on the way.
    Returns [(name, rcode or None, elapsed)]."""
    results = []
    t0 = time.monotonic()
    pending = sorted(events, key=lambda e: e[0])
    while time.monotonic() - t0 < seconds:
        while pending and time.monotonic() - t0 >= pending[0][0]:
            pending.pop(0)[1]()
        name = dnsutil.unique(WILD)
        q = dnsutil.make_query(name, "A", edns=0)
        data, elapsed, _ = agent.send_udp(hd.V4, q.to_wire(), timeout=4.0)
        if data is None:
            results.append((name, None, elapsed, []))
            continue
        r = dns.message.from_wire(data)
        results.append((name, r.rcode(), elapsed, rs.addrs(r)))
        time.sleep(0.05)
    for _, fn in pending:
        fn()
    return results


def _assert_all_answered(results, what):
    bad = [(n, dns.rcode.to_text(rc) if rc is not None else "no reply", round(e, 2), a)
           for n, rc, e, a in results if rc != dns.rcode.NOERROR or a != WILD_A]
    assert not bad, "%s: %d of %d queries not answered: %s" % (what, len(bad), len(results), bad[:5])


@pytest.mark.parametrize("death", ["stopped", "silent"])
def test_failover_without_servfail(start_heimdall, agent, fleet, knotd2, watch, death):
    """strict puts every query on the dying server first: the worst case for failover."""
    survivor = fleet.add(name="survivor")
    if death == "stopped":
        first, kill, revive = knotd2, knotd2.stop, knotd2.start
    else:
        first = fleet.add(name="mute")
        kill, revive = (lambda: setattr(first, "silent", True)), (lambda: setattr(first, "silent", False))
    h = _start(start_heimdall, "failover-" + death, "strict", [first, survivor])
    w = watch(h)
    results = _query_loop(agent, 9.0, [(1.5, kill), (6.0, revive)])
    _assert_all_answered(results, "strict, first upstream %s" % death)
    assert len(results) >= 8, "only %d queries in 9 s" % len(results)
    asked = survivor.count_names([n for n, _, _, _ in results])
    assert asked >= 2, "the surviving upstream answered %d queries" % asked
    assert w.delta("servfail") == 0
    row = rs.server(h, first.port)
    assert int(row["failures"]) + int(row["timeouts"]) >= 1, row


def test_dead_upstream_marked_down_then_up(start_heimdall, agent, fleet, knotd2):
    survivor = fleet.add(name="survivor")
    h = _start(start_heimdall, "health", "strict", [knotd2, survivor])
    assert rs.server(h, KNOTD2_PORT)["state"] == "up"

    knotd2.stop()
    t0 = time.monotonic()

    def state_is(want):
        rs.ask_noerror(agent, dnsutil.unique(WILD), want=WILD_A)
        return rs.server(h, KNOTD2_PORT)["state"] == want

    assert rs.poll(lambda: state_is("down"), timeout=15.0, interval=0.2), \
        "knotd on %d stopped %.0f s ago, still %s" % (KNOTD2_PORT, time.monotonic() - t0,
                                                      rs.server(h, KNOTD2_PORT))
    row = rs.server(h, KNOTD2_PORT)
    assert int(row["failures"]) + int(row["timeouts"]) >= 1, row
    assert int(row["backoff_ms"]) > 0, "a down server without a backoff: %s" % row

    knotd2.start()
    t1 = time.monotonic()
    assert rs.poll(lambda: state_is("up"), timeout=45.0, interval=0.5), \
        "knotd on %d back for %.0f s, still %s" % (KNOTD2_PORT, time.monotonic() - t1,
                                                   rs.server(h, KNOTD2_PORT))
    # strict again: the first server takes every question once it is back
    names = _names(5)
    _ask_all(agent, names)
    assert survivor.count_names(names) == 0, "strict kept asking the second server after the first came back"


# -- dedup -------------------------------------------------------------------------

def test_identical_queries_share_one_upstream_query(start_heimdall, agent, fleet, watch):
    slow = fleet.add(name="holding", delay=0.3)
    h = _start(start_heimdall, "dedup", "strict", [slow])
    name = dnsutil.unique(WILD)
    # Each client its own ID, letter case and EDNS (half of them without OPT).
    qs = [dnsutil.make_query(dnsutil.mixed_case(name, seed=i), "A",
                             edns=0 if i % 2 == 0 else None, qid=(1000 + 7 * i) & 0xFFFF)
          for i in range(100)]
    w = watch(h)
    res, send_s = rs.burst(qs, timeout=5.0)
    assert send_s < 0.25, "sending took %.3f s, longer than the upstream holds the question" % send_s
    missing = [i for i, (r, _, _) in enumerate(res) if r is None]
    assert not missing, "%d of 100 clients got no reply: %s" % (len(missing), missing[:10])
    for q, (r, wire, _) in zip(qs, res):
        dnsutil.assert_reply_header(q, q.to_wire(), r, wire)
        assert r.rcode() == dns.rcode.NOERROR and rs.addrs(r) == WILD_A, r
        assert (r.edns >= 0) == (q.edns >= 0), "OPT in the reply iff the query had one: %s" % r
    assert slow.count(name) == 1, "100 identical questions reached the upstream %d times" % slow.count(name)
    d = w.wait({"upstream_queries": 1, "dedup_joined": 90})
    assert d["upstream_queries"] == 1, d
    assert d["dedup_joined"] >= 90, "dedup_joined +%d for 100 identical questions" % d["dedup_joined"]


# -- conditional forwarding ----------------------------------------------------------

def test_conditional_forwarding_longest_suffix_wins(start_heimdall, agent, fleet):
    lan = fleet.add(name="lan", mode="synth", address="198.51.100.2")
    sub = fleet.add(name="sub", mode="synth", address="198.51.100.3")
    h = _start(start_heimdall, "forward-zones", "strict", [hd.UPSTREAM],
               ["--forward-zone", "lan.test=" + lan.addr, "--forward-zone", "sub.lan.test=" + sub.addr])
    cases = [
        ("lan.test", lan), ("host.lan.test", lan), ("a.b.lan.test", lan),
        ("HoSt2.LaN.TeSt", lan),
        ("xsub.lan.test", lan),            # a suffix of the string, not of the labels
        ("sub.lan.test", sub), ("h.sub.lan.test", sub), ("deep.h.SUB.lan.test", sub),
    ]
    for i, (name, up) in enumerate(cases):
        # unique leftmost label so every case is a miss (and nothing comes from the cache)
        qname = name if name.lower() in ("lan.test", "sub.lan.test") else "c%d%s.%s" % (
            i, dnsutil.unique("x").split(".")[0], name)
        before = (lan.count(qname), sub.count(qname))
        rs.ask_noerror(agent, qname, want=[up.address])
        after = (lan.count(qname), sub.count(qname))
        want = (before[0] + (up is lan), before[1] + (up is sub))
        assert after == want, "%s: lan/sub asked %s -> %s" % (qname, before, after)
    # names outside both zones go to the default upstream (knotd), not to the routers
    names = _names(5) + ["lan.test.example.", "sublan.test."]
    for n in names[:5]:
        rs.ask_noerror(agent, n, want=WILD_A)
    for n in names[5:]:
        rs.ask(agent, n)
    assert lan.count_names(names) == 0 and sub.count_names(names) == 0
    groups = sorted(r.get("group") for _, r in rs.servers(h))
    assert groups == sorted(["default", "lan.test", "sub.lan.test"]), groups


# -- forged replies, injected with scapy ----------------------------------------------

class _Forger:
    """on_query hook: before the real answer (delayed 0.3 s) leaves, inject forged
    replies to heimdall's query socket with scapy (raw IPv4 on loopback), each
    carrying FORGED: wrong ID, wrong source port, wrong question, and right ID,
    port and question from another address."""

    FORGED = "203.0.113.66"

    def __init__(self, up):
        from scapy.all import conf
        conf.verb = 0
        self.up = up
        self.sent = []

    def _reply(self, q, qid, qname=None):
        r = dns.message.make_response(q)
        r.id = qid
        owner = q.question[0].name if qname is None else dns.name.from_text(qname)
        if qname is not None:
            r.question = [dns.rrset.RRset(owner, q.question[0].rdclass, q.question[0].rdtype)]
        r.answer = [dns.rrset.from_text(owner, 300, "IN", "A", self.FORGED)]
        return r.to_wire()

    def __call__(self, q, data, peer):
        from scapy.all import IP, UDP, Raw, L3RawSocket
        ip, port = peer
        forgeries = [
            ("wrong ID", "127.0.0.1", self.up.port, self._reply(q, (q.id + 1) & 0xFFFF)),
            ("wrong port", "127.0.0.1", self.up.port + 1, self._reply(q, q.id)),
            ("wrong question", "127.0.0.1", self.up.port, self._reply(q, q.id, "forged.heimdall.test.")),
            ("another address", "127.0.0.2", self.up.port, self._reply(q, q.id)),
        ]
        s = L3RawSocket(iface="lo")
        try:
            for what, src, sport, wire in forgeries:
                s.send(IP(src=src, dst=ip) / UDP(sport=sport, dport=port) / Raw(wire))
                self.sent.append(what)
        finally:
            s.close()


def test_forged_replies_are_ignored(start_heimdall, agent, fleet, watch):
    up = fleet.add(name="forged", delay=0.3)
    h = _start(start_heimdall, "forged", "strict", [up])
    forger = _Forger(up)
    up.on_query = forger
    for _ in range(3):
        name = dnsutil.unique(WILD)
        w = watch(h)
        forger.sent.clear()
        r, elapsed = rs.ask_noerror(agent, name)
        assert rs.addrs(r) == WILD_A, "forged answer accepted: %s (forgeries sent: %s)" % (
            rs.addrs(r), forger.sent)
        assert len(forger.sent) == 4, forger.sent
        assert elapsed >= 0.25, "answered in %.3f s, before the real reply was sent" % elapsed
        # Wrong ID and wrong question reach heimdall's socket and are rejected; the
        # other two never pass the connected socket (or are rejected too).
        assert w.wait({"upstream_rejected": 2})["upstream_rejected"] >= 2
        r2, _ = rs.ask_noerror(agent, name)
        assert rs.addrs(r2) == WILD_A, "the cache holds a forged answer: %s" % rs.addrs(r2)
    assert int(rs.server(h, up.port)["rejected"]) >= 6
