# SPDX-License-Identifier: BSD-3-Clause
"""TLS to Redis (rediss://, docs/cluster.md).

One heimdall node with --redis rediss://:PASS@127.0.0.1:6393/0 and
--redis-ca-file pointing at a CA made for the run; redis-server listens with
TLS only. A resolved name is written to Redis (read back with redis-cli --tls),
a second node started afresh answers it from Redis without asking the upstream
(L2 over TLS), and the password never shows in the logs.
"""

import time

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.redisha import TlsRedis

PORT = 6393
PASSWORD = "dts-tls-Secret-31415"


@pytest.fixture
def tls_redis():
    r = TlsRedis(PORT, password=PASSWORD).start()
    yield r
    r.close()


def _cluster(h):
    with h.telemetry() as t:
        return t.cmd("/heimdall/cluster")


def _wait_connected(h, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        c = _cluster(h)
        if c["redis"] == "connected":
            return c
        assert time.monotonic() < deadline, "redis %s after %.0f s: %s\n%s" % (
            c["redis"], timeout, c, h.logs())
        time.sleep(0.1)


def _node(start_heimdall, name, r, ca):
    args = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM,
            "--redis", r.url(), "--redis-ca-file", ca, "--http-port", "0"]
    h = start_heimdall(name, args)
    _wait_connected(h)
    return h


def _ask(agent, name):
    q = dnsutil.make_query(name, "A", edns=0)
    r, w = agent.query(hd.V4, q, timeout=4.0)
    assert r is not None, "no reply for %s" % name
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert [rr.to_text() for rr in r.answer[0]] == ["192.0.2.77"], r.to_text()


def _logs(h):
    """What heimdall printed (the framework's first line is our own command line)."""
    return "\n".join(l for l in h.logs(lines=400).split("\n") if not l.startswith("# "))


def _key(name):
    return "heimdall:v1:1:1:0:%s" % name.lower()


def test_rediss_round_trip_and_l2(start_heimdall, agent, tls_redis):
    a = _node(start_heimdall, "redis-tls-a", tls_redis, tls_redis.ca)
    name = dnsutil.unique("wild.heimdall.test")
    _ask(agent, name)
    key = _key(name)
    deadline = time.monotonic() + 3.0
    while tls_redis.cli("EXISTS", key) != "1":
        assert time.monotonic() < deadline, "%s not in Redis: %s" % (
            key, tls_redis.cli("KEYS", "*"))
        time.sleep(0.05)
    # Format v1 (docs/cluster.md): the value starts with its magic.
    assert tls_redis.cli("GETRANGE", key, 0, 3) == "HDRV"
    assert PASSWORD not in _logs(a)

    # A fresh node (empty L1) answers from Redis over TLS: no upstream query.
    b = _node(start_heimdall, "redis-tls-b", tls_redis, tls_redis.ca)
    time.sleep(0.3)
    up0 = int(b.stats()["upstream_queries"])
    hits0 = _cluster(b)["l2_hits"]
    _ask(agent, name)
    time.sleep(0.3)
    assert _cluster(b)["l2_hits"] == hits0 + 1, _cluster(b)
    assert int(b.stats()["upstream_queries"]) == up0
    assert PASSWORD not in _logs(b)


def test_rediss_wrong_ca_refused(start_heimdall, agent, tls_redis, tmp_path):
    """A CA that did not sign the server: never connected, said once, DNS still served."""
    other = tmp_path / "other-ca.pem"
    with open("/etc/ssl/certs/ca-certificates.crt") as f:
        other.write_text(f.read())
    args = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM,
            "--redis", tls_redis.url(), "--redis-ca-file", str(other), "--http-port", "0"]
    h = start_heimdall("redis-tls-wrong-ca", args)
    time.sleep(3.5)     # attempts at 0, 1 and 3 s
    assert _cluster(h)["redis"] != "connected"
    _ask(agent, dnsutil.unique("wild.heimdall.test"))
    logs = _logs(h)
    assert logs.count("certificate verify failed") == 1, logs
    assert PASSWORD not in logs
