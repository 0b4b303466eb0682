# SPDX-License-Identifier: BSD-3-Clause
"""Blocklists over the wire: every block mode with its TTL and the EDE
"Blocked" option (only when the query had EDNS); subdomains blocked or not
as each syntax means; allow rules beat block rules; blocked names never reach
the upstream and are counted exactly (`blocked`, per-list `hits`); the real
AdAway hosts list loads whole; a list with bad lines keeps its good ones and
reports the first bad lines with file and line; client groups from two source
addresses; CNAME cloaking through the test upstream, answered as blocked on
the slow path and from the cache, while a bypass group gets the real chain.

Fixture lists are in dts/lists/, names under the test zone's `*.wild` (the
upstream answers 192.0.2.77 for them when they are let through)."""

import random

import pytest

from framework import dnsutil
from framework import filtering as f
from framework import heimdall as hd

ADDRS = [hd.V4, hd.V6]
BASE = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM]

ADS = "ads.wild.heimdall.test."          # ads.hosts (exact)
SUB = "sub.wild.heimdall.test."          # ads.adblock.txt ||sub...^ (subtree)


def _lists():
    return ["--blocklist", "ads=" + f.fixture_list("ads.hosts"),
            "--blocklist", "adb=" + f.fixture_list("ads.adblock.txt"),
            "--allowlist", "allow=" + f.fixture_list("allow.domains")]


_kept = {}


@pytest.fixture
def filtered(servers):
    """One instance with the three fixture lists and default block settings
    (null, TTL 10), kept across the tests that use it (restarted when another
    test replaced it)."""
    h = _kept.get("h")
    if h is None or servers.current is not h or not h.alive():
        h = _kept["h"] = servers.start("blocking", BASE + _lists())
    return h


def _hits(h):
    return {name: int(st["hits"]) for name, st in f.lists_by_name(h).items()}


# -- block modes ---------------------------------------------------------------

MODES = {
    "nxdomain": [],
    "nodata": [],
    "null": [],
    "custom": ["--block-ipv4", "192.0.2.254", "--block-ipv6", "2001:db8::254"],
    "custom-v4-only": ["--block-ipv4", "192.0.2.254"],
    "refused": [],
}


@pytest.mark.parametrize("mode", list(MODES))
def test_block_mode(start_heimdall, agent, watch, mode):
    flag = mode.split("-")[0]
    h = start_heimdall("block-" + mode, BASE + [
        "--blocklist", "ads=" + f.fixture_list("ads.hosts"),
        "--block-mode", flag, "--block-ttl", "42"] + MODES[mode])
    v6 = "2001:db8::254" if mode == "custom" else None
    w = watch(h)
    n = 0
    for addr in ADDRS:
        for rdtype in ("A", "AAAA", "TXT"):
            # The list is lowercase; the query's letter case must not matter.
            name = dnsutil.mixed_case(ADS, seed=n)
            r = f.ask(agent, addr, name, rdtype)
            f.assert_blocked(r, name, rdtype, mode=flag, ttl=42, v4="192.0.2.254", v6=v6,
                             listname="ads", what="via " + addr)
            r = f.ask(agent, addr, name, rdtype, edns=None)
            f.assert_blocked(r, name, rdtype, mode=flag, ttl=42, v4="192.0.2.254", v6=v6,
                             edns=False, what="no EDNS, via " + addr)
            n += 2
    d = w.wait({"blocked": n})
    assert d["blocked"] == n, "blocked counter moved by %d for %d blocked queries" % (d["blocked"], n)
    assert w.delta("upstream_queries") == 0, "a blocked name reached the upstream"
    assert f.list_state(h, "ads")["hits"] == n


def test_default_mode_is_null_ttl_10(filtered, agent):
    for addr in ADDRS:
        for rdtype in ("A", "AAAA", "MX"):
            r = f.ask(agent, addr, ADS, rdtype)
            f.assert_blocked(r, ADS, rdtype, mode="null", ttl=10, listname="ads")


# -- what each syntax blocks -----------------------------------------------------

# (name, list that blocks it, or None: let through to the upstream)
SEMANTICS = [
    (ADS, "ads"),
    ("x." + ADS, None),                          # hosts: exactly the name
    ("banner.wild.heimdall.test.", "ads"),       # second name of a hosts line
    ("track.wild.heimdall.test.", "ads"),        # listed as Track.WILD...
    ("pixel.wild.heimdall.test.", None),         # in ads.hosts, but allow.domains wins
    ("x.pixel.wild.heimdall.test.", None),
    (SUB, "adb"),                                # ||sub...^: the name
    ("x." + SUB, "adb"),                         # and every name under it
    ("a.b." + SUB, "adb"),
    ("ok." + SUB, None),                         # @@||ok.sub...^ exception
    ("y.ok." + SUB, None),
    ("adx.pattern.wild.heimdall.test.", "adb"),  # ||ad*.pattern...^
    ("z.adfoo.pattern.wild.heimdall.test.", "adb"),
    ("bx.pattern.wild.heimdall.test.", None),
    ("wild.heimdall.test.", None),               # a parent of listed names
    ("unlisted.wild.heimdall.test.", None),
]


@pytest.mark.parametrize("name,listname", SEMANTICS, ids=[n for n, _ in SEMANTICS])
def test_syntax_semantics(filtered, agent, watch, name, listname):
    for addr, rdtype in ((hd.V4, "A"), (hd.V6, "AAAA")):
        w = watch(filtered)
        if listname is None:
            f.assert_forwarded(agent, addr, name, rdtype)
            assert w.delta("blocked") == 0, "%s counted as blocked" % name
        else:
            r = f.ask(agent, addr, name, rdtype)
            f.assert_blocked(r, name, rdtype, listname=listname, what="via " + addr)
            d = w.wait({"blocked": 1})
            assert d["blocked"] == 1 and w.delta("upstream_queries") == 0, d


def test_lists_loaded_as_written(filtered):
    lists = f.lists_by_name(filtered)
    assert set(lists) == {"ads", "adb", "allow"}, sorted(lists)
    ads, adb, allow = lists["ads"], lists["adb"], lists["allow"]
    assert ads["rules"] == 4, "ads.hosts names 4 hosts (localhost and 0.0.0.0 entries skipped): %s" % ads
    assert ads["syntax"] == "hosts" and adb["syntax"] == "adblock", (ads["syntax"], adb["syntax"])
    assert adb["rules"] == 4, "ads.adblock.txt has 4 network rules (3 block, 1 exception): %s" % adb
    assert adb["skipped"] >= 2, "2 cosmetic rules skipped: %s" % adb
    assert allow["rules"] == 1 and allow["allow"] in (True, 1), allow
    for name, l in lists.items():
        assert l["rejected"] == 0 and not l["errors"], "%s: %s" % (name, l)
        assert not l["last_error"], "%s: %s" % (name, l)


def test_counters_exact(filtered, agent, watch):
    blocked = [(ADS, "A", "ads"), (ADS, "AAAA", "ads"), ("banner.wild.heimdall.test.", "A", "ads"),
               ("q." + SUB, "A", "adb"), ("adq.pattern.wild.heimdall.test.", "AAAA", "adb")]
    hits = _hits(filtered)
    w = watch(filtered)
    for i, (name, rdtype, lst) in enumerate(blocked):
        r = f.ask(agent, ADDRS[i % 2], name, rdtype)
        f.assert_blocked(r, name, rdtype, listname=lst)
    d = w.wait({"blocked": 5, "queries": 5})
    assert d == {"blocked": 5, "queries": 5}, d
    assert w.delta("upstream_queries") == 0, "blocked names reached the upstream"
    now = _hits(filtered)
    assert now["ads"] - hits["ads"] == 3 and now["adb"] - hits["adb"] == 2, (hits, now)

    # Names an allowlist lets through are not blocks of the list that names them.
    hits = now
    w = watch(filtered)
    for addr in ADDRS:
        f.assert_forwarded(agent, addr, "pixel.wild.heimdall.test.")
    w.wait({"queries": 2})
    assert w.delta("blocked") == 0
    assert _hits(filtered)["ads"] == hits["ads"], "an allowed name counted as a hit of ads"


def test_tcp_blocked_like_udp(filtered, agent, watch):
    w = watch(filtered)
    for addr in ADDRS:
        for name, lst in ((ADS, "ads"), ("t." + SUB, "adb")):
            udp = f.ask(agent, addr, name, "A")
            tcp = f.ask(agent, addr, name, "A", tcp=True)
            f.assert_blocked(tcp, name, "A", listname=lst, what="TCP via " + addr)
            assert f.answer_view(tcp) == f.answer_view(udp) and tcp.rcode() == udp.rcode()
            assert f.ede(tcp) == f.ede(udp), (f.ede(tcp), f.ede(udp))
    d = w.wait({"tcp_queries": 4, "blocked": 8})
    assert d == {"tcp_queries": 4, "blocked": 8}, d
    assert w.delta("upstream_queries") == 0


# -- real lists and bad lines -----------------------------------------------------

def test_shared_adaway_hosts_list(start_heimdall, agent, watch):
    path = f.shared_list("adaway.hosts.txt")
    names = f.hosts_names(path)
    h = start_heimdall("adaway", BASE + ["--blocklist", path])
    st = f.list_state(h, "adaway.hosts")    # named after the file, without its last extension
    assert st["rules"] == len(set(names)), "%d rules loaded from %d names" % (st["rules"], len(set(names)))
    assert st["rejected"] == 0, st
    rnd = random.Random(3)
    sample = [names[0], names[len(names) // 2], names[-1]] + rnd.sample(names, 7)
    w = watch(h)
    for i, name in enumerate(sample):
        rdtype = ("A", "AAAA")[i % 2]
        r = f.ask(agent, ADDRS[i % 2], name + ".", rdtype)
        f.assert_blocked(r, name + ".", rdtype, listname="adaway.hosts")
    d = w.wait({"blocked": len(sample)})
    assert d["blocked"] == len(sample) and w.delta("upstream_queries") == 0, d
    assert f.list_state(h, "adaway.hosts")["hits"] == len(sample)


def test_bad_lines_keep_the_good_ones(start_heimdall, agent):
    path = f.fixture_list("bad.hosts")
    h = start_heimdall("bad-lines", BASE + ["--blocklist", "bad=" + path])
    st = f.list_state(h, "bad")
    assert st["rules"] == 3 and st["rejected"] == 2, st
    errors = st["errors"]
    assert len(errors) == 2, errors
    # The operator is told where: the file as given, and the line number.
    assert "bad.hosts:5" in errors[0] and "bad.hosts:7" in errors[1], errors
    for i, n in enumerate(("good1", "good2", "good3")):
        name = "%s.wild.heimdall.test." % n
        f.assert_blocked(f.ask(agent, ADDRS[i % 2], name), name, "A", listname="bad")
    f.assert_forwarded(agent, hd.V4, "empty.wild.heimdall.test.")


# -- client groups ----------------------------------------------------------------

def test_groups_bypass_and_block(start_heimdall, agent, second_client, watch):
    """kids (the second address) uses list ads; open (the first) uses none."""
    v4b, v6b = second_client
    h = start_heimdall("groups", BASE + [
        "--blocklist", "ads=" + f.fixture_list("ads.hosts"),
        "--group", "kids=%s/32,%s/128:ads" % (v4b, v6b),
        "--group", "open=%s/32,%s/128:" % (f.CLIENT_V4, f.CLIENT_V6)])
    for addr, rdtype, kid, grown in ((hd.V4, "A", v4b, f.CLIENT_V4), (hd.V6, "AAAA", v6b, f.CLIENT_V6)):
        # open first: the real answer is cached, and must not leak to kids.
        f.assert_forwarded(agent, addr, ADS, rdtype, src=grown)
        w = watch(h)
        r = f.ask(agent, addr, ADS, rdtype, src=kid)
        f.assert_blocked(r, ADS, rdtype, listname="ads", what="kids via " + addr)
        assert w.wait({"blocked": 1})["blocked"] == 1
        f.assert_forwarded(agent, addr, ADS, rdtype, src=grown)
        f.assert_blocked(f.ask(agent, addr, ADS, rdtype, src=kid), ADS, rdtype, listname="ads")
        assert w.delta("upstream_queries") == 0


def test_groups_select_lists_and_default(start_heimdall, agent, second_client):
    """kids (the second address) uses only adb; clients in no group (the
    first address) use every list."""
    v4b, v6b = second_client
    h = start_heimdall("groups-lists", BASE + _lists() + [
        "--group", "kids=%s/32,%s/128:adb" % (v4b, v6b)])
    assert h.alive()
    for addr, kid in ((hd.V4, v4b), (hd.V6, v6b)):
        f.assert_forwarded(agent, addr, ADS, src=kid)                  # ads is not kids' list
        f.assert_blocked(f.ask(agent, addr, SUB, src=kid), SUB, "A", listname="adb")
        f.assert_blocked(f.ask(agent, addr, ADS, src=None), ADS, "A", listname="ads")
        f.assert_blocked(f.ask(agent, addr, SUB, src=None), SUB, "A", listname="adb")


# -- CNAME cloaking ---------------------------------------------------------------

@pytest.fixture
def cloaking(start_heimdall, second_client):
    """adb blocks adtracker.test; the second address is in a bypass group."""
    v4b, v6b = second_client
    return start_heimdall("cloaking", BASE + [
        "--blocklist", "adb=" + f.fixture_list("ads.adblock.txt"),
        "--group", "open=%s/32,%s/128:" % (v4b, v6b)])


def _assert_cloak_blocked(r, name, rdtype):
    f.assert_blocked(r, name, rdtype, listname="adb")
    assert "cname" in f.ede(r)[0][1].lower(), "EDE text does not say it was a CNAME: %r" % f.ede(r)


@pytest.mark.parametrize("addr,rdtype", [(hd.V4, "A"), (hd.V6, "AAAA")])
def test_cname_cloaking_slow_path_then_cache(cloaking, agent, second_client, watch, addr, rdtype):
    bypass = second_client[0] if addr == hd.V4 else second_client[1]
    name = dnsutil.unique("cloak.heimdall.test")       # CNAME metrics.adtracker.test.
    w = watch(cloaking)
    _assert_cloak_blocked(f.ask(agent, addr, name, rdtype), name, rdtype)
    d = w.wait({"upstream_queries": 1, "cname_blocked": 1})
    assert d == {"upstream_queries": 1, "cname_blocked": 1}, "first query (slow path): %s" % d

    w = watch(cloaking)
    _assert_cloak_blocked(f.ask(agent, addr, name, rdtype), name, rdtype)
    d = w.wait({"cname_blocked": 1})
    assert d["cname_blocked"] == 1, d
    assert w.delta("upstream_queries") == 0, "second query went upstream instead of the cache"

    # The bypass group gets the upstream's chain, from the same cache entry.
    w = watch(cloaking)
    r = f.assert_forwarded(agent, addr, name, rdtype, src=bypass)
    assert any(a[1] == "CNAME" and a[2] == "metrics.adtracker.test." for a in f.answer_view(r)), r
    assert w.delta("upstream_queries") == 0 and w.delta("cname_blocked") == 0


def test_cname_cloaking_second_hop_bypass_first(cloaking, agent, second_client, watch):
    name = dnsutil.unique("deepcloak.heimdall.test")   # CNAME hop -> metrics.adtracker.test.
    for addr, rdtype, bypass in ((hd.V4, "A", second_client[0]), (hd.V6, "AAAA", second_client[1])):
        w = watch(cloaking)
        r = f.assert_forwarded(agent, addr, name, rdtype, src=bypass)
        assert [a[2] for a in f.answer_view(r) if a[1] == "CNAME"] == \
            ["hop.heimdall.test.", "metrics.adtracker.test."], r
        w = watch(cloaking)
        _assert_cloak_blocked(f.ask(agent, addr, name, rdtype), name, rdtype)
        d = w.wait({"cname_blocked": 1})
        assert d["cname_blocked"] == 1 and w.delta("upstream_queries") == 0, d
