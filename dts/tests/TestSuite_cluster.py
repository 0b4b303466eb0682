# SPDX-License-Identifier: BSD-3-Clause
"""Two heimdall nodes sharing one Redis as a second-level cache (docs/cluster.md).

Node A runs af_xdp on hd-srv (10.53.0.1), node B af_packet on hd-srv2
(10.54.0.1), both forwarding to knotd and both using a private redis-server on
127.0.0.1:6391 (framework/redis.py). A name resolved through A is answered by
B from Redis; a garbage value in Redis is ignored; Redis dying and coming back
costs no answers; a password is used and never shown.

Membership and control sync (docs/cluster.md): with --cluster-interval 1s the
nodes see each other, a killed node leaves the other's view, the totals are the
sum of both nodes' counters, a garbage member is ignored, and a record added
through A's REST API is answered by B. Faults: Redis paused, Redis full, and
Redis killed under kxdpgun load on both nodes.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.redis import RedisServer

PASSWORD = "dts5-Secret-pw-4711"
WRONG_PASSWORD = "dts5-Wrong-pw-0815"
API_TOKEN = "dts5-api-token-27182818"
INTERVAL = 1.0                      # --cluster-interval of every node here
HTTP_PORT = {False: 18061, True: 18062}   # node A (af_xdp), node B (af_packet)


def _node(name, node_id, redis_url, af_packet, state_dir):
    if af_packet:
        vdev, listen = hd.afpacket_vdev(), (hd.V4_2, hd.V6_2)
    else:
        vdev, listen = hd.afxdp_vdev(), (hd.V4, hd.V6)
    args = []
    for a in listen:
        args += ["--listen", a]
    args += ["--upstream", hd.UPSTREAM, "--redis", redis_url, "--node-id", node_id,
             "--cluster-interval", "%ds" % INTERVAL,
             "--http-listen", "127.0.0.1", "--http-port", str(HTTP_PORT[af_packet]),
             "--state-dir", state_dir]
    return hd.Heimdall(name, vdev, args, listen=listen)


class Cluster:
    """Redis and nodes started for one test, every node stopped cleanly after it."""

    def __init__(self, servers, agent):
        self.agent = agent
        self.nodes = []
        self.redis = None
        # Each node keeps its API state apart (the default /var/lib/heimdall is shared).
        self.dir = tempfile.mkdtemp(prefix="hd-dts-cluster-")
        # The session's default server holds hd-srv and the cores: not beside ours.
        servers.stop_current()

    def start_redis(self, password=None):
        self.redis = RedisServer(password=password).start()
        return self.redis

    def start_node(self, name, node_id, af_packet, password=None):
        state_dir = os.path.join(self.dir, node_id)
        os.makedirs(state_dir, exist_ok=True)
        h = _node(name, node_id, self.redis.url(password=password), af_packet, state_dir)
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
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not errors, "\n".join(errors)

    def kill_node(self, h):
        """SIGKILL, as a crash: no clean stop expected (af_packet leaves no XDP program)."""
        h.proc.kill()
        h.proc.wait(timeout=10)
        self.nodes.remove(h)
        h.stop()


@pytest.fixture
def cluster(servers, agent, monkeypatch):
    # The nodes inherit the environment: one API token for both.
    monkeypatch.setenv("HEIMDALL_API_TOKEN", API_TOKEN)
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


def test_redis_absent_at_start(cluster, agent):
    """No Redis when the node starts: it answers from the upstream, says so once, and joins
    the cluster when Redis comes up (backoff 1 s, 2 s, 4 s...)."""
    cluster.redis = RedisServer()          # its port, not started yet
    a = cluster.start_node("cluster-a", "dts-node-a", af_packet=False)
    assert _cluster(a)["redis"] != "connected"
    up = _upstream_queries(a)
    for _ in range(3):
        _ask_ok(agent, hd.V4, dnsutil.unique("wild.heimdall.test"))
    assert _upstream_queries(a) - up == 3
    time.sleep(3.5)                         # at least two more failed attempts
    cluster.redis.start()
    _wait_state(a, "connected", 20.0)
    name = dnsutil.unique("wild.heimdall.test")
    _ask_ok(agent, hd.V4, name)
    assert _wait_key(cluster.redis, _key(name))[:4] == b"HDRV"
    logs = a.logs(lines=400)
    assert logs.count("unreachable") == 1, "the state change is not logged once:\n" + logs
    assert "connected" in logs


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


# -- membership, totals, control sync ----------------------------------------

TOTALS = ("queries", "cache_hits", "cache_misses", "blocked")


def _members(h):
    """{id: member} of /heimdall/cluster (keyed by position there)."""
    return {m["id"]: m for m in _cluster(h)["members"].values()}


def _wait(what, cond, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.1f s" % (what, timeout))
        time.sleep(step)


def _http(h_port, path, method="GET", body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (h_port, path), data=data,
                                 method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _upstream_failures(h):
    return sum(int(s["failures"]) for k, s in _tel(h, "/heimdall/upstreams").items()
               if isinstance(s, dict))


def _own_counters(h):
    st = h.stats()
    c = {k: int(st[k]) for k in TOTALS}
    c["upstream_failures"] = _upstream_failures(h)
    return c


def test_members_totals_and_a_killed_node(pair, agent):
    cluster, a, b = pair
    # Both see each other within 2 intervals of B's connection (the fixture waited 0.5 s).
    for h, other in ((a, "dts-node-b"), (b, "dts-node-a")):
        _wait("%s sees %s" % (h.name, other), lambda: other in _members(h), 2 * INTERVAL)
    ma = _members(a)
    assert set(ma) == {"dts-node-a", "dts-node-b"}, ma
    mb = ma["dts-node-b"]
    assert mb["state"] == "up" and mb["age_ms"] <= 2000 * INTERVAL, mb
    assert mb["version"] and mb["host"], mb
    assert _cluster(a)["member_count"] == 2

    # Traffic on both: misses (upstream), hits, then quiet for the heartbeats to land.
    names = [dnsutil.unique("wild.heimdall.test") for _ in range(4)]
    for addr in (hd.V4, hd.V4_2):
        for n in names:
            _ask_ok(agent, addr, n)
        _ask_ok(agent, addr, names[0])
    time.sleep(2.3 * INTERVAL)
    want = {}
    for h in (a, b):
        for k, v in _own_counters(h).items():
            want[k] = want.get(k, 0) + v
    for h in (a, b):
        tot = _cluster(h)["totals"]
        assert {k: tot[k] for k in want} == want, (h.name, tot, want)
    # The HTTP status says the same; /metrics has the gauges.
    status, text = _http(HTTP_PORT[False], "/api/cluster")
    assert status == 200, text
    doc = json.loads(text)
    assert sorted(m["id"] for m in doc["members"]) == ["dts-node-a", "dts-node-b"], doc
    assert {k: doc["totals"][k] for k in want} == want, doc
    assert doc["redis"]["state"] == "connected", doc
    status, text = _http(HTTP_PORT[True], "/metrics")
    assert status == 200, text
    assert re.search(r"^heimdall_cluster_members 2$", text, re.M), text
    assert re.search(r"^heimdall_cluster_redis_up 1$", text, re.M), text
    assert re.search(r"^heimdall_cluster_queries %d$" % want["queries"], text, re.M), text
    assert re.search(r"^heimdall_redis_writes_total \d+$", text, re.M), text
    if shutil.which("promtool"):
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                              capture_output=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr

    # B crashes: A keeps it (stale) until its heartbeat key expires, then drops it.
    killed = time.monotonic()
    cluster.kill_node(b)
    assert "dts-node-b" in _members(a)
    states = set()

    def gone():
        m = _members(a)
        if "dts-node-b" in m:
            states.add(m["dts-node-b"]["state"])
            return False
        return True
    _wait("B leaves A's members", gone, 5 * INTERVAL + 1.0, step=0.2)
    took = time.monotonic() - killed
    assert took >= 1.5 * INTERVAL, "B dropped after %.1f s, before its key expired" % took
    assert "stale" in states, states
    # Its id leaves the member set at A's next reading.
    _wait("B's id removed from the member set", lambda: cluster.redis.command(
        "SISMEMBER", "heimdall:v1:nodes", "dts-node-b") == 0, 1.5 * INTERVAL)
    # Totals are A's alone again.
    own, tot = _own_counters(a), _cluster(a)["totals"]
    assert {k: tot[k] for k in own} == own, (tot, own)
    assert _cluster(a)["member_count"] == 1


def test_garbage_members_are_ignored(pair, agent):
    cluster, a, b = pair
    redis = cluster.redis
    _wait("B in A's members", lambda: "dts-node-b" in _members(a), 2 * INTERVAL)
    # A genuine value of A's, under another id: documented format, so it is a member.
    real = json.loads(_wait_key(redis, "heimdall:v1:node:dts-node-a"))
    fake = dict(real, id="dts-fake", instance="0123456789abcdef")
    assert redis.command("SET", "heimdall:v1:node:dts-fake", json.dumps(fake), "PX", "3000") == b"OK"
    planted = {
        "dts-garbage": b"\x00not json\xff" * 4,
        "dts-wrong-id": json.dumps(dict(real, id="dts-someone-else")),
        "dts-format2": json.dumps(dict(real, id="dts-format2", format=2)),
        "dts-bad-counter": json.dumps(dict(real, id="dts-bad-counter",
                                           counters=dict(real["counters"], queries=-5))),
    }
    for node_id, value in planted.items():
        assert redis.command("SET", "heimdall:v1:node:" + node_id, value, "EX", "60") == b"OK"
    # A valid value but no expiry: not written by a member.
    redis.command("SET", "heimdall:v1:node:dts-forever", json.dumps(dict(real, id="dts-forever")))
    before = {h.name: _cluster(h)["invalid_members"] for h in (a, b)}
    redis.command("SADD", "heimdall:v1:nodes", "dts-fake", "dts-forever", "bad id!", *planted)

    _wait("the fake member on B", lambda: "dts-fake" in _members(b), 2 * INTERVAL)
    time.sleep(1.2 * INTERVAL)
    for h in (a, b):
        c = _cluster(h)
        ids = {m["id"] for m in c["members"].values()}
        assert ids == {"dts-node-a", "dts-node-b", "dts-fake"}, (h.name, ids)
        # 6 bad entries at every reading (at least one reading since).
        assert c["invalid_members"] - before[h.name] >= 6, (h.name, before, c)
        assert c["totals"]["queries"] >= fake["counters"]["queries"], c
        assert h.alive()
    # The fake member stops "renewing": it leaves like a crashed node.
    _wait("the fake member expires", lambda: "dts-fake" not in _members(a), 4 * INTERVAL + 1.0)
    _wait("the fake id removed from the member set", lambda: cluster.redis.command(
        "SISMEMBER", "heimdall:v1:nodes", "dts-fake") == 0, 1.5 * INTERVAL)
    # Another node writing A's id (another instance): logged once, counted each time.
    coll = a.logs(lines=400).count("is also used by another node")
    c0 = _cluster(a)["id_collisions"]
    for _ in range(2):
        other = dict(real, host="dts-impostor", instance="fedcba9876543210")
        redis.command("SET", "heimdall:v1:node:dts-node-a", json.dumps(other), "PX", "3000")
        _wait("A notices the impostor", lambda: _cluster(a)["id_collisions"] > c0, 2 * INTERVAL)
        c0 = _cluster(a)["id_collisions"]
    logs = a.logs(lines=400)
    assert logs.count("is also used by another node") == 1 and coll == 0, logs
    assert "dts-impostor" in logs, logs
    assert a.alive() and _cluster(b)["id_collisions"] == 0


def _api_available():
    """The REST API's records route is built in (api.c), else the test cannot run."""
    path = os.path.join(hd.ROOT, "app", "heimdall", "api.c")
    try:
        with open(path) as f:
            return "/api/records" in f.read()
    except OSError:
        return False


def test_record_added_on_a_is_answered_by_b(pair, agent):
    if not _api_available():
        pytest.skip("app/heimdall/api.c has no /api/records yet")
    cluster, a, b = pair
    name = dnsutil.unique("api.cluster.test").rstrip(".")
    status, text = _http(HTTP_PORT[False], "/api/records", "POST",
                         {"record": "%s 300 A 192.0.2.99" % name}, token=API_TOKEN)
    assert status in (200, 201), "POST /api/records on A: %d %s" % (status, text)
    _ask_ok(agent, hd.V4, name, want="192.0.2.99")
    t0 = time.monotonic()

    def on_b():
        r, _ = agent.query(hd.V4_2, dnsutil.make_query(name, "A", edns=0), timeout=0.5)
        return r is not None and r.answer and \
            [rr.to_text() for rr in r.answer[0]] == ["192.0.2.99"]
    _wait("the record added on A answered by B", on_b, 2.0, step=0.1)
    took = time.monotonic() - t0
    ca, cb = _cluster(a), _cluster(b)
    assert ca["control_sent"] >= 1 and cb["control_received"] >= 1, (ca, cb)
    assert cb["control_version"] == ca["control_version"] > 0, (ca, cb)
    stored = json.loads(cluster.redis.command("GET", "heimdall:v1:control:state"))
    assert stored["origin"] == "dts-node-a" and stored["version"] == ca["control_version"], stored
    print("record on B after %.2f s" % took)


def _state_doc(version, records):
    """An operator state document (app/heimdall/state.c, format 1)."""
    return {"format": 1, "version": version, "records": records, "lists": [],
            "blocklist": [], "allowlist": [], "groups": []}


def _answers(agent, addr, name):
    r, _ = agent.query(addr, dnsutil.make_query(name, "A", edns=0), timeout=0.5)
    if r is None or not r.answer:
        return []
    return [rr.to_text() for rr in r.answer[0]]


def test_control_change_from_another_node(pair, agent):
    """A third node's change: announced (pub/sub), then one stored without a message."""
    cluster, a, b = pair
    redis = cluster.redis
    before = {h.name: _cluster(h) for h in (a, b)}
    # Garbage on the channel and an invalid document are ignored and counted.
    redis.command("PUBLISH", "heimdall:v1:control", b"\xffnot json")
    bad_v = int(time.time() * 1000) - 60000
    redis.command("SET", "heimdall:v1:control:state", json.dumps(
        {"version": bad_v, "origin": "dts-third", "doc": {"format": 99}}))
    redis.command("SET", "heimdall:v1:control:version", str(bad_v))
    redis.command("PUBLISH", "heimdall:v1:control", json.dumps(
        {"kind": "state", "version": bad_v, "origin": "dts-third"}))
    for h in (a, b):
        _wait("%s refuses the invalid document" % h.name, lambda: _cluster(h)["control_errors"]
              > before[h.name]["control_errors"], 2.0)
        c = _cluster(h)
        assert c["control_invalid"] > before[h.name]["control_invalid"], c
        assert h.alive()

    # A valid change, announced: both nodes answer the new record.
    v1 = int(time.time() * 1000)
    n1 = dnsutil.unique("third.cluster.test").rstrip(".")
    redis.command("SET", "heimdall:v1:control:state", json.dumps(
        {"version": v1, "origin": "dts-third", "doc": _state_doc(v1, ["%s A 192.0.2.97" % n1])}))
    redis.command("SET", "heimdall:v1:control:version", str(v1))
    redis.command("PUBLISH", "heimdall:v1:control", json.dumps(
        {"kind": "state", "version": v1, "origin": "dts-third"}))
    for addr, h in ((hd.V4, a), (hd.V4_2, b)):
        _wait("%s answers %s" % (h.name, n1),
              lambda: _answers(agent, addr, n1) == ["192.0.2.97"], 2.0)
        assert _cluster(h)["control_version"] == v1

    # Stored without a message (missed): found by the check every interval.
    v2 = v1 + 1000
    n2 = dnsutil.unique("third.cluster.test").rstrip(".")
    redis.command("SET", "heimdall:v1:control:state", json.dumps(
        {"version": v2, "origin": "dts-third", "doc": _state_doc(v2, ["%s A 192.0.2.96" % n2])}))
    redis.command("SET", "heimdall:v1:control:version", str(v2))
    for addr, h in ((hd.V4, a), (hd.V4_2, b)):
        _wait("%s answers %s" % (h.name, n2),
              lambda: _answers(agent, addr, n2) == ["192.0.2.96"], 2 * INTERVAL + 1.0)
        assert _answers(agent, addr, n1) != ["192.0.2.97"], "the older record is still there"
        c = _cluster(h)
        assert c["control_version"] == v2, c
        assert c["control_received"] - before[h.name]["control_received"] == 2, (before, c)
        # Neither node stored anything itself: the third node's version stays.
        assert c["control_sent"] == before[h.name]["control_sent"], (before, c)
    assert json.loads(redis.command("GET", "heimdall:v1:control:state"))["origin"] == "dts-third"


# -- faults ------------------------------------------------------------------

def test_redis_paused_answers_continue(pair, agent):
    """Redis stops answering for 1.9 s: lookups time out (l2_misses), queries go upstream."""
    cluster, a, b = pair
    before = {h.name: _cluster(h) for h in (a, b)}
    # CLIENT PAUSE stops every client's commands, as DEBUG SLEEP does, without
    # needing enable-debug-command; shorter than the 2 s after which a silent
    # connection is dropped, so every lookup is sent and times out.
    assert cluster.redis.command("CLIENT", "PAUSE", "1900", "ALL") == b"OK"
    paused = time.monotonic()
    took = []
    for _ in range(3):
        for addr in (hd.V4, hd.V4_2):
            t = time.monotonic()
            _ask_ok(agent, addr, dnsutil.unique("wild.heimdall.test"))
            took.append(round(time.monotonic() - t, 3))
    # Nobody waited for Redis to come back (redis-timeout-ms is 20 ms; the
    # machine may be busy, so no tighter bound than the pause itself).
    assert time.monotonic() - paused < 1.9, "answers waited for Redis: %s s; upstream %s" % (
        took, {h.name: {k: _tel(h, "/heimdall/upstreams")["0"][k] for k in ("queries", "timeouts")}
               for h in (a, b)})
    for h in (a, b):
        c = _wait_counter(h, "l2_misses", before[h.name]["l2_misses"] + 3)
        assert c["l2_misses"] - before[h.name]["l2_misses"] >= 3, (before[h.name], c)
    for h in (a, b):
        _wait_state(h, "connected", 5.0)
    print("query times while paused: %s s" % took)


def _used_memory(redis):
    info = redis.command("INFO", "memory").decode()
    return int(re.search(r"^used_memory:(\d+)", info, re.M).group(1))


def test_redis_full_answers_continue(pair, agent):
    cluster, a, b = pair
    redis = cluster.redis
    before = _cluster(a)
    # Full: below what it already uses, with nothing it may evict (1 MiB at most).
    limit = min(1 << 20, _used_memory(redis) - 4096)
    redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis.command("CONFIG", "SET", "maxmemory", str(limit))
    try:
        for _ in range(30):
            _ask_ok(agent, hd.V4, dnsutil.unique("wild.heimdall.test"))
        c = _wait_counter(a, "write_errors", before["write_errors"] + 30)
        assert c["write_errors"] - before["write_errors"] >= 30, (before, c)
        assert c["redis"] == "connected", c
        assert _cluster(b)["l2_hits"] >= 0 and b.alive()
        time.sleep(1.2 * INTERVAL)
        assert _cluster(a)["heartbeat_errors"] > before["heartbeat_errors"]
    finally:
        redis.command("CONFIG", "SET", "maxmemory", "0")
    # Writes succeed again for 2 s: said once.
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline and "accepts writes again" not in a.logs(lines=400):
        _ask_ok(agent, hd.V4, dnsutil.unique("wild.heimdall.test"))
        time.sleep(0.3)
    logs = a.logs(lines=400)
    assert logs.count("redis refuses writes") == 1, logs
    assert logs.count("accepts writes again") == 1, logs
    _resolve_on_a_hit_on_b(agent, redis, a, b)


LOAD_QPS = 20000
LOAD_SECONDS = 6


def _kxdpgun(queryfile, iface, dst):
    cmd = ["ip", "netns", "exec", "hd-cli", "kxdpgun", "-t", str(LOAD_SECONDS), "-Q",
           str(LOAD_QPS), "-i", queryfile, "-I", iface, dst]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kxdpgun_result(p):
    out, _ = p.communicate(timeout=LOAD_SECONDS + 30)
    assert p.returncode == 0, "kxdpgun exit %d\n%s" % (p.returncode, out)
    q = re.search(r"^total queries:\s+(\d+)", out, re.M)
    r = re.search(r"^total replies:\s+(\d+)", out, re.M)
    assert q and r, "no totals in kxdpgun's output:\n%s" % out
    return int(q.group(1)), int(r.group(1)), out


def test_redis_killed_under_load(pair, agent, tmp_path):
    """kxdpgun on both nodes; Redis killed 2 s in and back 2 s later."""
    cluster, a, b = pair
    redis = cluster.redis
    names = ["load%d.wild.heimdall.test" % i for i in range(16)] + ["ready.heimdall.test"]
    for addr in (hd.V4, hd.V4_2):
        for n in names[:-1]:
            _ask_ok(agent, addr, n)
    qfile = tmp_path / "queries.txt"
    qfile.write_text("".join("%s A\n" % n for n in names))
    procs = [_kxdpgun(str(qfile), "hd-cli", hd.V4), _kxdpgun(str(qfile), "hd-cli2", hd.V4_2)]
    try:
        time.sleep(2.0)
        redis.kill()
        time.sleep(2.0)
        redis.start()
        results = [_kxdpgun_result(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for (sent, answered, out), h in zip(results, (a, b)):
        assert sent >= LOAD_QPS * LOAD_SECONDS * 0.5, "%s: only %d sent\n%s" % (h.name, sent, out)
        assert answered > 0.9 * sent, "%s: %d of %d answered\n%s" % (h.name, answered, sent, out)
        print("%s: %d of %d answered (%.1f %%)" % (h.name, answered, sent, 100.0 * answered / sent))
    for h in (a, b):
        _wait_state(h, "connected", 20.0)
    _resolve_on_a_hit_on_b(agent, redis, a, b)
    for h in (a, b):
        _wait("%s back in the members" % h.name,
              lambda: set(_members(h)) == {"dts-node-a", "dts-node-b"}, 3 * INTERVAL)
