# SPDX-License-Identifier: BSD-3-Clause
"""Two heimdall nodes sharing one Redis as a second-level cache (docs/cluster.md).

Node A runs af_xdp on hd-srv (10.53.0.1), node B af_packet on hd-srv2
(10.54.0.1), both forwarding to knotd and both using a private redis-server on
127.0.0.1:6391 (framework/redis.py). A name resolved through A is answered by
B from Redis; a garbage value in Redis is ignored; Redis dying and coming back
costs no answers; a password is used and never shown.
"""

import json
import time

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.redis import RedisServer

PASSWORD = "dts5-Secret-pw-4711"
WRONG_PASSWORD = "dts5-Wrong-pw-0815"


def _node(name, node_id, redis_url, af_packet):
    if af_packet:
        vdev, listen = hd.afpacket_vdev(), (hd.V4_2, hd.V6_2)
    else:
        vdev, listen = hd.afxdp_vdev(), (hd.V4, hd.V6)
    args = []
    for a in listen:
        args += ["--listen", a]
    args += ["--upstream", hd.UPSTREAM, "--redis", redis_url, "--node-id", node_id]
    return hd.Heimdall(name, vdev, args, listen=listen)


class Cluster:
    """Redis and nodes started for one test, every node stopped cleanly after it."""

    def __init__(self, servers, agent):
        self.agent = agent
        self.nodes = []
        self.redis = None
        # The session's default server holds hd-srv and the cores: not beside ours.
        servers.stop_current()

    def start_redis(self, password=None):
        self.redis = RedisServer(password=password).start()
        return self.redis

    def start_node(self, name, node_id, af_packet, password=None):
        h = _node(name, node_id, self.redis.url(password=password), af_packet)
        h.start()
        try:
            h.wait_ready(self.agent)
        except Exception:
            h.stop()
            raise
        self.nodes.append(h)
        return h

    def close(self):
        errors = []
        for h in self.nodes:
            was_alive = h.stopped or h.alive()
            rc = h.stop()
            if not was_alive or rc != 0:
                errors.append("heimdall %s: alive %s, exit %s\n%s" % (h.name, was_alive, rc,
                                                                      h.logs()))
        if self.redis is not None:
            self.redis.close()
        assert not errors, "\n".join(errors)


@pytest.fixture
def cluster(servers, agent):
    c = Cluster(servers, agent)
    yield c
    c.close()


@pytest.fixture
def pair(cluster):
    """Redis without a password, node A (af_xdp) and node B (af_packet)."""
    cluster.start_redis()
    a = cluster.start_node("cluster-a", "dts-node-a", af_packet=False)
    b = cluster.start_node("cluster-b", "dts-node-b", af_packet=True)
    for h in (a, b):
        _wait_state(h, "connected", 10.0)
    # Let the counters of the readiness probes land (copied out every 100 ms)
    # before a test takes its baseline.
    time.sleep(0.5)
    return cluster, a, b


def _tel(h, cmd):
    with h.telemetry() as t:
        return t.cmd(cmd)


def _cluster(h):
    return _tel(h, "/heimdall/cluster")


def _wait_state(h, want, timeout, negate=False):
    deadline = time.monotonic() + timeout
    while True:
        c = _cluster(h)
        if (c["redis"] == want) != negate:
            return c
        if time.monotonic() > deadline:
            raise AssertionError("node %s: redis %s %s after %.0f s: %s\n%s" % (
                h.name, "still" if negate else "not", want, timeout, c, h.logs()))
        time.sleep(0.1)


def _wait_counter(h, key, at_least, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        c = _cluster(h)
        if c[key] >= at_least or time.monotonic() > deadline:
            # Counters are copied out every 100 ms: let a late one land.
            time.sleep(0.25)
            return _cluster(h)
        time.sleep(0.05)


def _key(name, rdtype=1, rdclass=1, flags=0, prefix="heimdall"):
    """Key format v1 of docs/cluster.md (names of the tests need no \\DDD escapes)."""
    return "%s:v1:%d:%d:%d:%s" % (prefix, rdtype, rdclass, flags, name.lower())


def _wait_key(redis, key, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = redis.command("GET", key)
        if v is not None:
            return v
        time.sleep(0.05)
    raise AssertionError("%s never written to Redis (keys: %r)" % (
        key, redis.command("KEYS", "*")[:20]))


def _ask(agent, addr, name, rdtype="A"):
    q = dnsutil.make_query(name, rdtype, edns=0)
    r, w = agent.query(addr, q, timeout=4.0)
    assert r is not None, "no reply for %s %s from %s" % (name, rdtype, addr)
    dnsutil.assert_reply_header(q, q.to_wire(), r, w)
    return r


def _ask_ok(agent, addr, name, want="192.0.2.77"):
    r = _ask(agent, addr, name)
    assert r.rcode() == dns.rcode.NOERROR, "%s from %s: %s" % (name, addr, dns.rcode.to_text(r.rcode()))
    assert [rr.to_text() for rr in r.answer[0]] == [want], r.to_text()
    return r


def _upstream_queries(h):
    return int(h.stats()["upstream_queries"])


def _resolve_on_a_hit_on_b(agent, redis, a, b):
    """A asks upstream and writes to Redis; B answers the same name from Redis."""
    name = dnsutil.unique("wild.heimdall.test")
    a_up = _upstream_queries(a)
    ra = _ask_ok(agent, hd.V4, name)
    assert _upstream_queries(a) - a_up == 1, "A's first query did not go upstream"
    value = _wait_key(redis, _key(name))
    assert value[:4] == b"HDRV", "value written by A is not format v1: %r" % value[:16]

    b_up, b_cl = _upstream_queries(b), _cluster(b)
    rb = _ask_ok(agent, hd.V4_2, name)
    after = _wait_counter(b, "l2_hits", b_cl["l2_hits"] + 1)
    assert after["l2_hits"] - b_cl["l2_hits"] == 1, (b_cl, after)
    assert _upstream_queries(b) == b_up, "B sent the name upstream instead of using Redis"
    assert dnsutil.rrsets_view(rb.answer) == dnsutil.rrsets_view(ra.answer)
    assert dnsutil.rrsets_view(rb.authority) == dnsutil.rrsets_view(ra.authority)
    assert rb.answer[0].ttl <= ra.answer[0].ttl, "B's TTL %d above A's %d" % (
        rb.answer[0].ttl, ra.answer[0].ttl)
    return name


def test_name_resolved_on_a_is_an_l2_hit_on_b(pair, agent):
    cluster, a, b = pair
    before = _cluster(a)
    name = _resolve_on_a_hit_on_b(agent, cluster.redis, a, b)
    ca, cb = _cluster(a), _cluster(b)
    assert ca["node_id"] == "dts-node-a" and cb["node_id"] == "dts-node-b", (ca, cb)
    assert ca["writes"] > before["writes"], (before, ca)
    assert ca["write_errors"] == 0 and cb["write_errors"] == 0, (ca, cb)
    assert ca["l2_rejected"] == 0 and cb["l2_rejected"] == 0, (ca, cb)
    # The L2 hit went into B's own cache: the next query is a local hit.
    b_cl, b_hits = _cluster(b), int(b.stats()["cache_hits"])
    _ask_ok(agent, hd.V4_2, name)
    time.sleep(0.3)
    assert int(b.stats()["cache_hits"]) - b_hits == 1
    c = _cluster(b)
    assert c["l2_hits"] == b_cl["l2_hits"] and c["l2_misses"] == b_cl["l2_misses"], (b_cl, c)


@pytest.mark.parametrize("kind", ["garbage", "other_name"])
def test_planted_value_is_ignored(pair, agent, kind):
    cluster, a, b = pair
    redis = cluster.redis
    name = dnsutil.unique("wild.heimdall.test")
    if kind == "garbage":
        value = b"\x00not a heimdall value\xff" * 8
    else:
        # A genuine v1 value, but of another question: B must check the name.
        other = dnsutil.unique("wild.heimdall.test")
        _ask_ok(agent, hd.V4, other)
        value = _wait_key(redis, _key(other))
        assert value[:4] == b"HDRV"
    assert redis.command("SET", _key(name), value, "EX", "300") == b"OK"

    b_up, b_cl = _upstream_queries(b), _cluster(b)
    _ask_ok(agent, hd.V4_2, name)
    after = _wait_counter(b, "l2_rejected", b_cl["l2_rejected"] + 1)
    assert after["l2_rejected"] - b_cl["l2_rejected"] == 1, (b_cl, after)
    assert after["l2_hits"] == b_cl["l2_hits"], "planted value used: %s -> %s" % (b_cl, after)
    assert _upstream_queries(b) - b_up == 1, "B did not go upstream after rejecting the value"
    # B's own upstream answer replaces the planted value.
    deadline = time.monotonic() + 3.0
    while redis.command("GET", _key(name)) == value and time.monotonic() < deadline:
        time.sleep(0.05)
    fixed = redis.command("GET", _key(name))
    assert fixed != value and fixed[:4] == b"HDRV", "planted value not replaced: %r" % fixed[:24]


def test_redis_killed_and_restarted(pair, agent):
    cluster, a, b = pair
    redis = cluster.redis
    cached = _resolve_on_a_hit_on_b(agent, redis, a, b)

    redis.kill()
    for h in (a, b):
        _wait_state(h, "connected", 5.0, negate=True)
    # No Redis: cached names from L1, new names from the upstream, never SERVFAIL.
    for addr, h in ((hd.V4, a), (hd.V4_2, b)):
        _ask_ok(agent, addr, cached)
        up = _upstream_queries(h)
        for _ in range(3):
            _ask_ok(agent, addr, dnsutil.unique("wild.heimdall.test"))
        assert _upstream_queries(h) - up == 3
        assert _cluster(h)["redis"] != "connected"

    redis.start()
    # Backoff 1 s, 2 s, 4 s, ...: the next attempt is within ~8 s of the loss.
    for h in (a, b):
        _wait_state(h, "connected", 20.0)
    _resolve_on_a_hit_on_b(agent, redis, a, b)
    for h in (a, b):
        logs = h.logs(lines=200)
        assert "lost" in logs and "connected" in logs, "state changes not logged\n" + logs


def _output(h):
    """What heimdall itself printed (the framework's first line holds the command line)."""
    text = ""
    for p in (h.stdout_path, h.stderr_path):
        with open(p, errors="replace") as f:
            lines = f.readlines()
        text += "".join(line for line in lines if not line.startswith("# "))
    return text


def test_password(cluster, agent):
    redis = cluster.start_redis(password=PASSWORD)
    good = cluster.start_node("cluster-auth", "dts-node-auth", af_packet=False)
    bad = cluster.start_node("cluster-badauth", "dts-node-badauth", af_packet=True,
                             password=WRONG_PASSWORD)
    _wait_state(good, "connected", 10.0)

    # The good node writes through the password.
    name = dnsutil.unique("wild.heimdall.test")
    _ask_ok(agent, hd.V4, name)
    assert _wait_key(redis, _key(name))[:4] == b"HDRV"

    # The bad one never connects, and answers regardless (also that very name, upstream).
    time.sleep(2.5)
    assert _cluster(bad)["redis"] != "connected", _cluster(bad)
    up = _upstream_queries(bad)
    _ask_ok(agent, hd.V4_2, name)
    _ask_ok(agent, hd.V4_2, dnsutil.unique("wild.heimdall.test"))
    assert _upstream_queries(bad) - up == 2
    c = _cluster(bad)
    assert c["redis"] != "connected" and c["l2_hits"] == 0, c

    # Stopped first so every line is flushed, then: no password anywhere.
    shown = {}
    for h in (good, bad):
        shown[h.name + " /heimdall/cluster"] = json.dumps(_cluster(h))
        shown[h.name + " /heimdall/config"] = json.dumps(_tel(h, "/heimdall/config"))
    for h in (good, bad):
        assert h.stop() == 0, h.logs()
        shown[h.name + " output"] = _output(h)
    assert "6391" in shown["cluster-badauth output"], (
        "the failed connection is not logged\n" + shown["cluster-badauth output"])
    for where, text in shown.items():
        for pw in (PASSWORD, WRONG_PASSWORD):
            assert pw not in text, "password shown in %s:\n%s" % (where, text)
