# SPDX-License-Identifier: BSD-3-Clause
"""Redis Sentinel: heimdall follows a failover (docs/cluster.md).

A master (127.0.0.1:6396), its replica (6397) and three Sentinels
(26391-26393, quorum 2, down-after 1 s, failover-timeout 5 s). One heimdall
asks the Sentinels for master "hdmaster"; a resolved name lands on the master.
The master is killed (SIGKILL); once the Sentinels have promoted the replica,
heimdall is connected again, to the new master, and new answers are written
there. Bounded well under 60 s.
"""

import time

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.redisha import Sentinels, cli

MASTER, REPLICA = 6396, 6397
SENTINELS = (26391, 26392, 26393)
NAME = "hdmaster"


@pytest.fixture
def sentinels():
    s = Sentinels(MASTER, REPLICA, SENTINELS, NAME).start()
    yield s
    s.close()


def _cluster(h):
    with h.telemetry() as t:
        return t.cmd("/heimdall/cluster")


def _wait(what, cond, timeout, info):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < deadline, "%s not after %.0f s\n%s" % (what, timeout, info())
        time.sleep(0.1)


def _ask(agent, name):
    q = dnsutil.make_query(name, "A", edns=0)
    r, _ = agent.query(hd.V4, q, timeout=4.0)
    assert r is not None, "no reply for %s" % name
    assert r.rcode() == dns.rcode.NOERROR, r.to_text()
    assert [rr.to_text() for rr in r.answer[0]] == ["192.0.2.77"], r.to_text()


def _key(name):
    return "heimdall:v1:1:1:0:%s" % name.lower()


def _connected_to(h, port):
    c = _cluster(h)
    if c["redis"] != "connected":
        return None
    # redis_addr: the server in use, when telemetry shows it.
    if "redis_addr" in c and c["redis_addr"] != "127.0.0.1:%d" % port:
        return None
    return c


def test_sentinel_failover(start_heimdall, agent, sentinels):
    t0 = time.monotonic()
    args = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM,
            "--redis", "redis://127.0.0.1",
            "--redis-sentinel", ",".join("127.0.0.1:%d" % p for p in SENTINELS),
            "--redis-sentinel-master", NAME, "--http-port", "0"]
    h = start_heimdall("sentinel", args)
    info = lambda: "%s\n%s\n%s" % (_cluster(h), h.logs(), sentinels.sentinel_logs())
    _wait("connected to the master", lambda: _connected_to(h, MASTER), 10, info)

    first = dnsutil.unique("wild.heimdall.test")
    _ask(agent, first)
    _wait("key on the master", lambda: cli(MASTER, "EXISTS", _key(first)) == "1", 3, info)

    # Replication is asynchronous: let the replica have it before the crash.
    _wait("key on the replica", lambda: cli(REPLICA, "EXISTS", _key(first)) == "1", 3, info)
    sentinels.kill("master")
    _wait("the Sentinels' failover", lambda: sentinels.sentinel_master() ==
          "127.0.0.1:%d" % REPLICA, 25, info)
    _wait("heimdall on the new master", lambda: _connected_to(h, REPLICA), 10, info)
    assert cli(REPLICA, "ROLE").split("\n")[0] == "master"

    second = dnsutil.unique("wild.heimdall.test")
    _ask(agent, second)
    _wait("key on the new master", lambda: cli(REPLICA, "EXISTS", _key(second)) == "1", 3, info)
    # The first key is still there: heimdall wrote to the master the replica followed.
    assert cli(REPLICA, "EXISTS", _key(first)) == "1"
    logs = h.logs(lines=400)
    assert "127.0.0.1:%d db 0 connected (master %s)" % (REPLICA, NAME) in logs, logs
    assert time.monotonic() - t0 < 60
