# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-telemetry.py (with heimdall's file prefix) lists /heimdall/stats, which
carries every counter of the issue and per-lcore counters; counts are exact."""

import json
import subprocess

from framework import dnsutil
from framework import heimdall as hd
from framework.telemetry import lcore_values

REQUIRED = ["rx_packets", "queries", "cache_hits", "cache_misses", "upstream_queries",
            "upstream_timeouts", "formerr", "notimpl", "dropped", "tc_replies", "tcp_queries",
            "to_kernel", "from_kernel"]


def _dpdk_telemetry(prefix, commands):
    # Debian's interpreter explicitly: the script's "env python3" may find another one.
    p = subprocess.run(["/usr/bin/python3", "/usr/bin/dpdk-telemetry.py", "-f", prefix],
                       input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def test_dpdk_telemetry_lists_and_returns_stats(server):
    out = _dpdk_telemetry(server.prefix, ["/", "/heimdall/stats", "/help,/heimdall/stats"])
    assert len(out) == 3, out
    assert "/heimdall/stats" in out[0]["/"], "not listed: %s" % out[0]["/"]
    stats = out[1]["/heimdall/stats"]
    for k in REQUIRED:
        assert k in stats, "dpdk-telemetry.py shows no %s" % k
    assert out[2]["/help"], "no help text for /heimdall/stats"


def test_required_counters_and_lcores(server):
    stats = server.stats()
    missing = [k for k in REQUIRED if k not in stats]
    assert not missing, "missing counters: %s" % missing
    for k in REQUIRED:
        assert isinstance(stats[k], int) and stats[k] >= 0, "%s = %r" % (k, stats[k])
    assert "lcores" in stats, "no per-lcore counters"
    per = lcore_values(stats, "rx_packets")
    assert len(per) >= 2, "expected the main lcore and a worker, got %s" % per
    # Each total is the sum of the per-lcore values.
    stats = server.stats()  # one snapshot: nothing is being sent now
    for k in REQUIRED:
        vals = lcore_values(stats, k)
        assert sum(vals.values()) == stats[k], "%s: total %d, lcores %s" % (k, stats[k], vals)


def test_counts_are_exact(server, agent, watch):
    misses = [dnsutil.unique("wild.heimdall.test") for _ in range(10)]
    wires = []
    for n in misses:
        wires.append(dnsutil.make_query(n, "A").to_wire())
    for n in misses[:5]:                    # 15 hits: 5 names asked 3 more times
        for _ in range(3):
            wires.append(dnsutil.make_query(n, "A").to_wire())

    w = watch(server)
    half = len(wires) // 2
    replies = agent.send_udp_many(hd.V4, wires[:half]) + agent.send_udp_many(hd.V6, wires[half:])
    assert all(r is not None for r in replies), "%d unanswered" % replies.count(None)
    expect = {"rx_packets": 25, "queries": 25, "cache_hits": 15, "cache_misses": 10,
              "upstream_queries": 10}
    d = w.wait(expect)
    assert d == expect, "counters moved by %s for 10 misses and 15 hits" % d
    for k in ("formerr", "notimpl", "dropped", "tc_replies", "upstream_timeouts", "tcp_queries"):
        assert w.delta(k) == 0, "%s moved" % k

    w = watch(server)
    for addr in (hd.V4, hd.V6, hd.V4):
        r, _ = agent.query(addr, dnsutil.make_query(misses[0], "A"), tcp=True)
        assert r is not None
    d = w.wait({"tcp_queries": 3, "queries": 3})
    assert d == {"tcp_queries": 3, "queries": 3}, d
    assert w.delta("rx_packets") == 0, "TCP is the kernel's: the fast path saw it"
