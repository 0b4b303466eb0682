# SPDX-License-Identifier: BSD-3-Clause
"""The second identical query is answered by a worker lcore from the shared cache,
without reaching the upstream, with TTLs counting down; NXDOMAIN and NODATA are
cached for the SOA minimum (RFC 2308). Every name is fresh (a wildcard of the
test zone), so no other test's queries are in the way."""

import time

import dns.rcode
import dns.rdatatype
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.telemetry import lcore_values

ADDRS = [hd.V4, hd.V6]


def _ask(agent, addr, name, rdtype="A"):
    q = dnsutil.make_query(name, rdtype, edns=0)
    r, w = agent.query(addr, q, timeout=4.0)
    assert r is not None, "no reply for %s %s from %s" % (name, rdtype, addr)
    dnsutil.assert_reply_header(q, q.to_wire(), r, w)
    return r


@pytest.mark.parametrize("addr", ADDRS)
def test_second_query_is_a_hit_on_a_worker(server, agent, watch, addr):
    name = dnsutil.unique("wild.heimdall.test")
    w = watch(server)
    r1 = _ask(agent, addr, name)
    d = w.wait({"upstream_queries": 1, "cache_misses": 1})
    assert d == {"upstream_queries": 1, "cache_misses": 1}, d
    assert w.delta("cache_hits") == 0

    w = watch(server)
    r2 = _ask(agent, addr, name)
    d = w.wait({"cache_hits": 1})
    assert d == {"cache_hits": 1}, d
    assert w.delta("upstream_queries") == 0, "the hit reached the upstream"
    assert w.delta("cache_misses") == 0
    assert dnsutil.rrsets_view(r1.answer) == dnsutil.rrsets_view(r2.answer)
    assert [rr.to_text() for rr in r2.answer[0]] == ["192.0.2.77"]

    # Counted by a worker: -l 0-1 makes lcore 0 the main (control/slow path) lcore.
    before = lcore_values(w.before, "cache_hits")
    after = lcore_values(server.stats(), "cache_hits")
    grew = [lc for lc in after if after[lc] > before.get(lc, 0)]
    assert grew and 0 not in grew, "cache hit counted on lcore(s) %s, not on a worker" % grew


def test_ipv4_and_ipv6_share_the_cache(server, agent, watch):
    name = dnsutil.unique("wild.heimdall.test")
    _ask(agent, hd.V4, name)
    w = watch(server)
    _ask(agent, hd.V6, name)
    d = w.wait({"cache_hits": 1})
    assert d["cache_hits"] == 1 and w.delta("upstream_queries") == 0


def test_ttl_counts_down(server, agent):
    name = dnsutil.unique("wild.heimdall.test")
    t1 = _ask(agent, hd.V4, name).answer[0].ttl
    assert 295 <= t1 <= 300, "first answer TTL %d, zone says 300" % t1
    time.sleep(2.2)
    t2 = _ask(agent, hd.V4, name).answer[0].ttl
    assert t1 - 4 <= t2 <= t1 - 2, "TTL %d then %d after 2.2 s" % (t1, t2)
    t3 = _ask(agent, hd.V6, name).answer[0].ttl
    assert t3 <= t2


@pytest.mark.parametrize("kind", ["nxdomain", "nodata"])
def test_negative_answer_cached_for_soa_minimum(server, agent, watch, kind):
    # neg.test has SOA minimum 3: the answer may be kept 3 s, no longer.
    if kind == "nxdomain":
        name, rdtype, rcode = dnsutil.unique("neg.test"), "A", dns.rcode.NXDOMAIN
    else:
        name, rdtype, rcode = dnsutil.unique("nodata.neg.test"), "TXT", dns.rcode.NOERROR

    w = watch(server)
    r1 = _ask(agent, hd.V4, name, rdtype)
    assert w.wait({"upstream_queries": 1})["upstream_queries"] == 1
    assert r1.rcode() == rcode and not r1.answer
    soa = [rr for rr in r1.authority if rr.rdtype == dns.rdatatype.SOA]
    assert soa and soa[0].ttl <= 3, "negative answer without SOA, or SOA TTL over the minimum"

    w = watch(server)
    r2 = _ask(agent, hd.V6, name, rdtype)
    assert w.wait({"cache_hits": 1})["cache_hits"] == 1
    assert w.delta("upstream_queries") == 0, "cached negative answer went upstream"
    assert r2.rcode() == rcode and not r2.answer
    soa2 = [rr for rr in r2.authority if rr.rdtype == dns.rdatatype.SOA]
    assert soa2 and soa2[0].ttl <= soa[0].ttl

    time.sleep(3.6)
    w = watch(server)
    r3 = _ask(agent, hd.V4, name, rdtype)
    assert w.wait({"upstream_queries": 1})["upstream_queries"] == 1, \
        "negative answer still served from the cache after its SOA minimum"
    assert r3.rcode() == rcode


def test_negative_ttl_is_the_soa_minimum(server, agent):
    # heimdall.test: SOA TTL 300, minimum 60 -> the negative answer lives 60 s.
    for name, rdtype in [(dnsutil.unique("nx.heimdall.test"), "A"), (dnsutil.unique("wild.heimdall.test"), "TXT")]:
        r = _ask(agent, hd.V4, name, rdtype)
        soa = [rr for rr in r.authority if rr.rdtype == dns.rdatatype.SOA]
        assert soa and 55 <= soa[0].ttl <= 60, "SOA TTL %s in a negative answer" % (
            soa[0].ttl if soa else None)
