# SPDX-License-Identifier: BSD-3-Clause
"""tap test mode: heimdall on a net_tap vdev whose kernel side (hdtap0) is moved
into a namespace of its own (hd-tapns) holding the client addresses. heimdall
answers ARP and NDP for its addresses itself (as on every port the kernel does
not share), a local record, a forwarded name (the slow path reaches knotd on
127.0.0.1:5300 over kernel sockets), the same name from the cache, and AAAA
over IPv6. See docs/running.md, "tap"."""

import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.modes import TapNs, link_mac, wait_started

NETNS = "hd-tapns"
TAP_IF = "hdtap0"
MAC = "02:00:00:55:00:01"          # heimdall's port
CLI_MAC = "02:00:00:55:00:02"      # the kernel side, in hd-tapns
V4, V6 = "10.55.0.1", "fd55::1"
CLI_V4, CLI_V6 = "10.55.0.2/24", "fd55::2/64"
VDEV = "net_tap0,iface=%s,mac=%s" % (TAP_IF, MAC)
RECORDS = ["printer.lab.home.arpa A 192.0.2.55", "printer.lab.home.arpa AAAA 2001:db8:55::55"]


@pytest.fixture(scope="module")
def tap(servers):
    args = ["--listen", V4, "--listen", V6, "--upstream", hd.UPSTREAM]
    for r in RECORDS:
        args += ["--record", r]
    h = servers.start("tap", args, vdev=VDEV, listen=(V4, V6), ready=False)
    net = TapNs(NETNS, TAP_IF, (CLI_V4, CLI_V6), mac=CLI_MAC)
    try:
        wait_started(h)
        net.up()
        for addr in (V4, V6):
            dnsutil_ready(net, addr)
        yield h, net
    finally:
        try:
            servers.stop_current()
        finally:
            net.down()


def dnsutil_ready(net, addr, tries=25):
    for _ in range(tries):
        r, _ = net.agent.query(addr, dnsutil.make_query("ready.heimdall.test.", "A"), timeout=0.4)
        if r is not None:
            return
    raise AssertionError("heimdall not answering on %s through %s" % (addr, TAP_IF))


def test_tap_arp_and_ndp_answered_by_heimdall(tap, watch):
    h, net = tap
    assert link_mac(TAP_IF, NETNS) == CLI_MAC
    for addr, key in ((V4, "arp_replies"), (V6, "nd_replies")):
        net.neigh_flush()
        w = watch(h)
        assert net.kdig(addr, "ready.heimdall.test") == ["192.0.2.1"]
        assert net.neigh(addr) == MAC, "%s resolved to %s, expected heimdall's %s" % (
            addr, net.neigh(addr), MAC)
        assert w.wait({key: 1})[key] >= 1, "heimdall answered no %s" % key


def test_tap_local_record(tap, watch):
    h, net = tap
    w = watch(h)
    assert net.kdig(V4, "printer.lab.home.arpa") == ["192.0.2.55"]
    assert net.kdig(V6, "printer.lab.home.arpa", "AAAA") == ["2001:db8:55::55"]
    got = w.wait({"local_answers": 2})
    assert got["local_answers"] == 2 and w.delta("upstream_queries", w.after) == 0, got


def test_tap_forwarded_then_cached(tap, watch):
    h, net = tap
    name = dnsutil.unique("wild.heimdall.test")
    w = watch(h)
    assert net.kdig(V4, name) == ["192.0.2.77"]
    assert w.wait({"upstream_queries": 1})["upstream_queries"] == 1
    w = watch(h)
    assert net.kdig(V4, name) == ["192.0.2.77"]
    got = w.wait({"cache_hits": 1})
    assert got["cache_hits"] == 1 and w.delta("upstream_queries", w.after) == 0, got


@pytest.mark.parametrize("addr", [V4, V6])
def test_tap_aaaa_same_as_upstream(tap, addr):
    h, net = tap
    q = dnsutil.make_query("www.heimdall.test.", "AAAA")
    r, wire = net.agent.query(addr, q, timeout=3.0)
    assert r is not None, "no AAAA answer from %s over the tap" % addr
    dnsutil.assert_reply_header(q, q.to_wire(), r, wire)
    dnsutil.assert_same_answer(r, dnsutil.ask_upstream(q), "www AAAA via %s" % addr)
