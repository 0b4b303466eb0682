# SPDX-License-Identifier: BSD-3-Clause
"""Cache persistence (--cache-file): saved on SIGTERM, loaded at start with
TTLs aged by the time spent down, so most entries are answered from the
cache after a restart without asking the upstream; a damaged file (bytes
flipped, cut short, garbage, empty) is reported in the log and ignored,
and the server answers normally from the upstream.

The upstream is a counting relay to knotd (FakeUpstream), so "not asked"
is measured where the questions would arrive."""

import os
import random
import shutil
import tempfile
import time

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework import resolver as rs
from framework.fakeupstream import Fleet

WILD = "wild.heimdall.test"
WILD_A = ["192.0.2.77"]
V4_ONLY = (hd.V4,)
N = 40


@pytest.fixture
def fleet():
    f = Fleet()
    yield f
    f.close()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="hd-dts-persist-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start(start_heimdall, name, up, path, extra=()):
    return start_heimdall(name, rs.base_args(up) + ["--cache-file", path] + list(extra),
                          listen=V4_ONLY)


def _fill(agent, n):
    """n fresh names asked once: {name: TTL of the first answer}."""
    out = {}
    for _ in range(n):
        name = dnsutil.unique(WILD)
        r, _ = rs.ask_noerror(agent, name, want=WILD_A)
        out[name] = r.answer[0].ttl
    return out


def _saved_file(servers, start_heimdall, agent, up, path):
    """A server fills its cache and stops (SIGTERM, exit 0): the file it wrote, and the names."""
    h = _start(start_heimdall, "persist-fill", up, path)
    names = _fill(agent, N)
    servers.stop(h)
    assert os.path.isfile(path), "no cache file %s after a clean stop\n%s" % (path, h.logs())
    assert os.path.getsize(path) > 0
    return names, h


def test_restart_answers_from_the_saved_cache(workdir, servers, start_heimdall, agent, fleet, watch):
    up = fleet.add(name="counting")
    path = os.path.join(workdir, "cache.bin")
    names, first = _saved_file(servers, start_heimdall, agent, up, path)
    # Written atomically: nothing but the file itself is left in the directory.
    assert os.listdir(workdir) == ["cache.bin"], "left behind: %s" % os.listdir(workdir)
    time.sleep(2.2)                       # down for a while: TTLs must show it

    h = _start(start_heimdall, "persist-load", up, path)
    loaded = int(rs.cache_state(h).get("loaded_entries", -1))
    assert loaded >= N, "/heimdall/cache loaded_entries %d, %d names were cached" % (loaded, N)
    up.reset()
    w = watch(h)
    lower = 0
    for name, ttl in names.items():
        r, _ = rs.ask_noerror(agent, name, want=WILD_A)
        assert r.answer[0].ttl <= ttl, "TTL grew over a restart: %d -> %d" % (ttl, r.answer[0].ttl)
        lower += r.answer[0].ttl <= ttl - 2
    asked = up.count_names(names)
    assert asked <= N // 10, "after the restart the upstream was asked %d of %d saved names" % (asked, N)
    d = w.wait({"cache_hits": N - asked})
    assert d["cache_hits"] >= N - asked, d
    assert lower >= N - asked, "only %d of %d TTLs show the 2 s spent down" % (lower, N)


def _damage(kind, data):
    rnd = random.Random(kind)
    if kind == "flipped":
        b = bytearray(data)
        for off in rnd.sample(range(len(b) // 4, len(b)), 8):
            b[off] ^= 0x5A
        return bytes(b)
    if kind == "truncated":
        return data[:len(data) // 2]
    if kind == "garbage":
        return bytes(rnd.getrandbits(8) for _ in range(len(data)))
    if kind == "empty":
        return b""
    if kind == "foreign":
        return b"# not a heimdall cache file\n" + b"x.example. 300 IN A 192.0.2.1\n" * 50
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["flipped", "truncated", "garbage", "empty", "foreign"])
def test_damaged_file_is_reported_and_ignored(workdir, servers, start_heimdall, agent, fleet, watch,
                                              kind):
    up = fleet.add(name="counting")
    path = os.path.join(workdir, "cache.bin")
    names, _ = _saved_file(servers, start_heimdall, agent, up, path)
    with open(path, "rb") as f:
        good = f.read()
    damaged = _damage(kind, good)
    with open(path, "wb") as f:
        f.write(damaged)

    h = _start(start_heimdall, "persist-" + kind, up, path)
    assert h.alive()
    st = rs.cache_state(h)
    assert int(st.get("loaded_entries", -1)) == 0, "%s file: loaded_entries %s" % (kind, st)
    # Reported, naming the file (an empty file may also be reported; it must not be loaded).
    log = rs.log_text(h)
    if kind != "empty":
        assert path in log, "the %s cache file is not named in the log:\n%s" % (kind, h.logs())
    # Ignored: the saved names are not answered from the file, the upstream is asked.
    up.reset()
    w = watch(h)
    sample = list(names)[:10]
    for name in sample:
        rs.ask_noerror(agent, name, want=WILD_A)
    assert up.count_names(sample) == len(sample), "%s file: only %d of %d names went upstream" % (
        kind, up.count_names(sample), len(sample))
    assert w.wait({"cache_misses": len(sample)})["cache_misses"] == len(sample)
    # and still a working server
    r, _ = rs.ask(agent, dnsutil.unique("neg.test"))
    assert r.rcode() == dns.rcode.NXDOMAIN
    # The next clean stop writes a good file over the damaged one.
    servers.stop(h)
    with open(path, "rb") as f:
        now = f.read()
    assert now and now != damaged, "the damaged file is still there after a clean stop"
    assert os.listdir(workdir) == ["cache.bin"], "left behind: %s" % os.listdir(workdir)
