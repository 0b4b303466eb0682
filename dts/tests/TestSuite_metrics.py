# SPDX-License-Identifier: BSD-3-Clause
"""Prometheus /metrics on heimdall's HTTP server: `promtool check metrics`
accepts the text, every /heimdall/stats counter appears per lcore with the
same values telemetry gives, ports, cache, lists, upstreams and the slow
path's answer-time histogram are there, and a real Prometheus scrapes it."""

import time

import pytest

from framework import dnsutil
from framework import filtering as f
from framework import heimdall as hd
from framework import promhttp as ph
from framework.telemetry import lcore_values

PORT = 18053
ARGS = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM,
        "--http-port", str(PORT), "--blocklist", "ads=" + f.fixture_list("ads.hosts")]
ADS = "ads.wild.heimdall.test."

# Names other parts (the Grafana dashboard, docs/monitoring.md) rely on.
REQUIRED = [
    "heimdall_queries_total", "heimdall_cache_hits_total", "heimdall_blocked_total",
    "heimdall_upstream_queries_total", "heimdall_servfail_total", "heimdall_dropped_total",
    "heimdall_port_rx_packets_total", "heimdall_port_tx_packets_total",
    "heimdall_port_rx_bytes_total", "heimdall_port_tx_bytes_total",
    "heimdall_port_rx_missed_total", "heimdall_port_rx_errors_total",
    "heimdall_port_tx_errors_total", "heimdall_port_rx_nombuf_total", "heimdall_port_up",
    "heimdall_port_xstat", "heimdall_slowpath_answer_seconds", "heimdall_cache_entries",
    "heimdall_cache_bytes", "heimdall_cache_capacity_entries", "heimdall_list_rules",
    "heimdall_list_hits_total", "heimdall_upstream_up", "heimdall_upstream_rtt_seconds",
    "heimdall_upstream_server_queries_total", "heimdall_upstream_server_timeouts_total",
    "heimdall_info", "heimdall_start_time_seconds", "heimdall_workers",
]


@pytest.fixture
def traffic(start_heimdall, agent, watch):
    """An instance that answered 6 misses, 12 hits and 2 blocked queries."""
    h = start_heimdall("metrics", ARGS)
    misses = [dnsutil.unique("wild.heimdall.test") for _ in range(6)]
    wires = [dnsutil.make_query(n, "A").to_wire() for n in misses]
    w = watch(h)
    assert all(r is not None for r in agent.send_udp_many(hd.V4, wires))
    hits = [dnsutil.make_query(n, "A").to_wire() for n in misses for _ in range(2)]
    blocked = [dnsutil.make_query(ADS, "A").to_wire() for _ in range(2)]
    assert all(r is not None for r in agent.send_udp_many(hd.V6, hits + blocked))
    w.wait({"queries": 20, "cache_hits": 12, "cache_misses": 6, "blocked": 2})
    return h


def _steady_scrape(h, tries=5):
    """/heimdall/stats, /metrics text and the stats again, once both stats agree."""
    for _ in range(tries):
        before = h.stats()
        status, headers, text = ph.request(PORT, "/metrics")
        after = h.stats()
        if before == after:
            return status, headers, text, after
        time.sleep(0.3)
    raise AssertionError("counters kept moving while idle: %s -> %s" % (before, after))


def test_promtool_accepts_and_counters_match(traffic):
    status, headers, text, stats = _steady_scrape(traffic)
    assert status == 200, text
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    rc, out = ph.promtool_check(text)
    assert rc == 0 and out == "", "promtool check metrics: rc %d\n%s" % (rc, out)

    samples, families = ph.parse(text)
    missing = [n for n in REQUIRED if n not in families]
    assert not missing, "families missing: %s" % missing
    counters = [k for k in stats if k != "lcores" and isinstance(stats[k], int)]
    assert "queries" in counters and len(counters) > 20, counters
    for k in counters:
        name = "heimdall_%s_total" % k
        assert families.get(name, (None,))[0] == "counter", "%s: %s" % (name, families.get(name))
        assert ph.total(samples, name) == stats[k], "%s = %s, telemetry %s = %d" % (
            name, ph.total(samples, name), k, stats[k])
        per = lcore_values(stats, k)
        for labels, v in samples[name]:
            assert labels["role"] in ("worker", "slowpath"), labels
            assert v == per.get(int(labels["lcore"]), 0), "%s%s = %s, telemetry %s" % (
                name, labels, v, per)
    assert stats["queries"] >= 20 and stats["blocked"] >= 2 and stats["cache_hits"] >= 12


def test_ports_cache_lists_upstreams_histogram(traffic):
    _, _, text, stats = _steady_scrape(traffic)
    samples, _ = ph.parse(text)
    port = {"port": "0", "name": "net_af_xdp0"}
    assert ph.total(samples, "heimdall_port_up", **port) == 1
    assert ph.total(samples, "heimdall_port_rx_packets_total", **port) >= stats["queries"]
    assert ph.total(samples, "heimdall_port_tx_packets_total", **port) >= 20
    xstats = {l["xstat"]: v for l, v in samples["heimdall_port_xstat"] if l["port"] == "0"}
    assert xstats.get("rx_good_packets", 0) >= stats["queries"], xstats
    assert ph.total(samples, "heimdall_cache_entries") >= 6
    assert ph.total(samples, "heimdall_cache_bytes") > 0
    assert ph.total(samples, "heimdall_cache_capacity_entries") >= \
        ph.total(samples, "heimdall_cache_entries")
    assert ph.total(samples, "heimdall_list_rules", list="ads") > 0, samples.get(
        "heimdall_list_rules")
    assert ph.total(samples, "heimdall_list_hits_total", list="ads") == stats["blocked"]
    up = {"upstream": hd.UPSTREAM}
    assert ph.total(samples, "heimdall_upstream_up", **up) == 1
    assert ph.total(samples, "heimdall_upstream_server_queries_total", **up) >= 6
    assert 0 <= ph.total(samples, "heimdall_upstream_rtt_seconds", **up) < 1
    # Every miss was answered by the slow path: one observation each, the
    # buckets cumulative up to +Inf == count.
    buckets = samples["heimdall_slowpath_answer_seconds_bucket"]
    count = ph.total(samples, "heimdall_slowpath_answer_seconds_count")
    assert count >= 6, buckets
    values = [v for _, v in buckets]
    assert values == sorted(values) and values[-1] == count and buckets[-1][0]["le"] == "+Inf"
    assert 0 < ph.total(samples, "heimdall_slowpath_answer_seconds_sum") < count * 2.5
    info = samples["heimdall_info"][0]
    assert info[1] == 1 and info[0]["node"] and info[0]["version"], info
    assert ph.total(samples, "heimdall_workers") == 1
    assert abs(ph.total(samples, "heimdall_start_time_seconds") - time.time()) < 3600


def test_real_prometheus_scrapes(traffic):
    prom = ph.Prometheus(PORT, hd.OUT_DIR)
    try:
        def target_up():
            ts = prom.api("targets")["data"]["activeTargets"]
            return [t for t in ts if t["scrapeUrl"] == "http://127.0.0.1:%d/metrics" % PORT
                    and t["health"] == "up"]

        prom.wait(target_up, what="target with health up")

        def queries():
            r = prom.api("query", query="sum(heimdall_queries_total)")["data"]["result"]
            return r and float(r[0]["value"][1]) > 0 and r

        r = prom.wait(queries, what="heimdall_queries_total > 0")
        assert float(r[0]["value"][1]) >= 20, r
        # A histogram quantile works on the scraped buckets.
        q = prom.api("query", query="histogram_quantile(0.5, heimdall_slowpath_answer_seconds_bucket)")
        assert q["status"] == "success", q
    finally:
        prom.stop()
