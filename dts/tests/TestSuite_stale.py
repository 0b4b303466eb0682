# SPDX-License-Identifier: BSD-3-Clause
"""Serve-stale (RFC 8767) and prefetch.

The upstream is a FakeUpstream in "synth" mode: it answers every A question
with one address and a TTL the test chooses (2 s, so entries expire within
a test), and the test changes that address to see when a refresh reached
the cache. Stale answers carry the stale TTL (30 s unless --stale-ttl) and,
when the query had EDNS, EDE 3 (Stale Answer, RFC 8914)."""

import time

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework import resolver as rs
from framework.fakeupstream import Fleet

ZONE = "stale.test"
OLD, NEW = "198.51.100.1", "198.51.100.9"
V4_ONLY = (hd.V4,)
FAST_FAIL = ["--upstream-timeout-ms", "300", "--upstream-budget-ms", "900"]


@pytest.fixture
def fleet():
    f = Fleet()
    yield f
    f.close()


def _start(start_heimdall, name, up, extra=()):
    return start_heimdall(name, rs.base_args(up) + FAST_FAIL + list(extra), listen=V4_ONLY)


def _ttl(r):
    return r.answer[0].ttl


def _assert_stale(r, addr, ttl, edns, what):
    assert r.rcode() == dns.rcode.NOERROR, "%s: rcode %s, want a stale NOERROR\n%s" % (
        what, dns.rcode.to_text(r.rcode()), r)
    assert rs.addrs(r) == [addr], "%s: answer %s, want the stale %s" % (what, rs.addrs(r), addr)
    assert _ttl(r) == ttl, "%s: stale answer with TTL %d, want %d" % (what, _ttl(r), ttl)
    codes = [c for c, _ in rs.ede(r)]
    if edns:
        assert codes == [rs.EDE_STALE], "%s: EDE %s, want [3] (Stale Answer)" % (what, rs.ede(r))
    else:
        assert r.edns < 0, "%s: OPT in a reply to a query without EDNS" % what


def _fresh(agent, up, n):
    """n names asked once (misses): answered with up's address and its short TTL."""
    names = [dnsutil.unique(ZONE) for _ in range(n)]
    for name in names:
        r, _ = rs.ask_noerror(agent, name, want=[up.address])
        assert _ttl(r) <= up.ttl, "TTL %d above the upstream's %d" % (_ttl(r), up.ttl)
    return names


@pytest.mark.parametrize("death,stale_ttl", [("stopped", None), ("silent", 7)],
                         ids=["stopped-default-ttl", "silent-stale-ttl-7"])
def test_stale_when_every_upstream_fails(start_heimdall, agent, fleet, watch, death, stale_ttl):
    up = fleet.add(name="only", mode="synth", address=OLD, ttl=2)
    h = _start(start_heimdall, "stale-" + death, up,
               ["--stale-ttl", str(stale_ttl)] if stale_ttl else [])
    want_ttl = stale_ttl or rs.DEFAULT_STALE_TTL
    names = _fresh(agent, up, 3)
    if death == "stopped":
        up.stop()
    else:
        up.silent = True
    time.sleep(2.6)                       # every entry is past its TTL now

    w = watch(h)
    for name in names:
        for edns in (0, None):
            r, elapsed = rs.ask(agent, name, edns=edns, timeout=4.0)
            _assert_stale(r, OLD, want_ttl, edns is not None, "%s, upstream %s" % (name, death))
            assert elapsed < 1.9, "stale answer after %.2f s" % elapsed
    d = w.wait({"stale_answers": 6})
    assert d["stale_answers"] == 6, d
    assert w.delta("servfail") == 0

    # Still stale (and still answered) a while later, with the upstream still gone.
    time.sleep(1.0)
    r, _ = rs.ask(agent, names[0])
    _assert_stale(r, OLD, want_ttl, True, "second round")

    # A name never cached has nothing stale to give.
    r, _ = rs.ask(agent, dnsutil.unique(ZONE), timeout=4.0)
    assert r.rcode() == dns.rcode.SERVFAIL, "uncached name with no upstream: %s" % (
        dns.rcode.to_text(r.rcode()))


def test_no_serve_stale_gives_servfail(start_heimdall, agent, fleet, watch):
    up = fleet.add(name="only", mode="synth", address=OLD, ttl=2)
    h = _start(start_heimdall, "no-stale", up, ["--no-serve-stale"])
    names = _fresh(agent, up, 2)
    up.stop()
    time.sleep(2.6)
    w = watch(h)
    for name in names:
        r, _ = rs.ask(agent, name, timeout=4.0)
        assert r.rcode() == dns.rcode.SERVFAIL, "--no-serve-stale but %s got %s %s" % (
            name, dns.rcode.to_text(r.rcode()), rs.addrs(r))
    assert w.delta("stale_answers") == 0


def test_stale_window_ends(start_heimdall, agent, fleet):
    up = fleet.add(name="only", mode="synth", address=OLD, ttl=2)
    _start(start_heimdall, "stale-window", up, ["--stale-window", "3"])
    a, b = _fresh(agent, up, 2)
    up.stop()
    time.sleep(2.6)                       # expired, 0.6 s into a 3 s window
    r, _ = rs.ask(agent, a)
    _assert_stale(r, OLD, rs.DEFAULT_STALE_TTL, True, "inside --stale-window 3")
    time.sleep(3.4)                       # 2 s TTL + 3 s window are over
    r, _ = rs.ask(agent, b, timeout=4.0)
    assert r.rcode() == dns.rcode.SERVFAIL, "served %s %s past its stale window" % (
        dns.rcode.to_text(r.rcode()), rs.addrs(r))


def test_refresh_while_serving_stale(start_heimdall, agent, fleet, watch):
    up = fleet.add(name="only", mode="synth", address=OLD, ttl=2)
    h = _start(start_heimdall, "refresh", up)
    (name,) = _fresh(agent, up, 1)
    assert up.count(name) == 1
    up.address = NEW                      # what a refresh will bring
    time.sleep(2.5)

    w = watch(h)
    r, elapsed = rs.ask(agent, name)
    _assert_stale(r, OLD, rs.DEFAULT_STALE_TTL, True, "expired entry, upstream alive")
    assert elapsed < 0.2, "the stale answer waited %.3f s (for the refresh?)" % elapsed
    assert rs.poll(lambda: up.count(name) == 2, timeout=3.0), \
        "no refresh reached the upstream: asked %d times" % up.count(name)
    d = w.wait({"stale_answers": 1, "prefetches": 1})
    assert d["stale_answers"] == 1 and d["prefetches"] >= 1, d

    # The refreshed entry: the new address, a fresh TTL, no EDE, from the cache.
    r = rs.poll(lambda: (lambda r: r if rs.addrs(r) == [NEW] else None)(rs.ask(agent, name)[0]),
                timeout=2.0)
    assert r, "the refresh never replaced the stale entry"
    assert _ttl(r) <= 2 and not rs.ede(r), "refreshed answer TTL %d EDE %s" % (_ttl(r), rs.ede(r))
    assert up.count(name) == 2, "the refreshed entry was asked upstream again"


@pytest.mark.parametrize("ttl", [10, 20])
def test_prefetch_refreshes_a_popular_entry_before_it_expires(start_heimdall, agent, fleet, watch, ttl):
    # heimdall prefetches entries of TTL >= 10 s (HD_FP_PREFETCH_MIN_TTL) hit in the
    # last tenth of their TTL; 10 is the smallest TTL that must be prefetched.
    up = fleet.add(name="only", mode="synth", address=OLD, ttl=ttl)
    h = _start(start_heimdall, "prefetch", up)
    (name,) = _fresh(agent, up, 1)
    t0 = time.monotonic()
    w = watch(h)
    for _ in range(20):                   # popular, and far from expiry: no prefetch yet
        rs.ask_noerror(agent, name, want=[OLD])
    assert up.count(name) == 1 and w.delta("prefetches") == 0, "prefetched at once"
    up.address = NEW
    time.sleep(max(0.0, ttl * 0.75 - (time.monotonic() - t0)))
    assert up.count(name) == 1, "refreshed with three quarters of the TTL left"
    # Keep asking through the last part of its life: a prefetch is due.
    while up.count(name) < 2 and time.monotonic() - t0 < ttl + 0.3:
        r, _ = rs.ask_noerror(agent, name)
        assert not rs.ede(r), "TTL %d: served stale, no prefetch came in its last tenth\n%s" % (ttl, r)
        time.sleep(0.1)
    refreshed_at = time.monotonic() - t0
    assert up.count(name) == 2, "a popular entry reached its expiry (%d s) without a prefetch" % ttl
    assert refreshed_at < ttl, "refreshed %.1f s after the first answer, TTL %d" % (refreshed_at, ttl)
    d = w.wait({"prefetches": 1})
    assert d["prefetches"] >= 1, d
    assert w.delta("stale_answers") == 0, "served stale although the prefetch came in time"
    # After the original expiry the prefetched entry answers, fresh, from the cache.
    time.sleep(max(0.0, ttl + 0.6 - (time.monotonic() - t0)))
    r, _ = rs.ask_noerror(agent, name, want=[NEW])
    assert not rs.ede(r) and _ttl(r) <= ttl
    assert up.count(name) == 2
