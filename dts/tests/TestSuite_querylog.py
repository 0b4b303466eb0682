# SPDX-License-Identifier: BSD-3-Clause
"""The query log end to end: a query of each kind (cached, forwarded, blocked,
local, servfail, rejected) shows up in GET /api/querylog with its status,
type and client; the client=, domain=, status=, type= and limit= filters
select what they say and bad values get a 400 naming the argument; the top
domains put the most queried name first; the JSON lines file parses line by
line and rotates at querylog-max-size into FILE.1; querylog-anonymize mask
keeps only the /24; --no-querylog records nothing and the endpoint says it
is off; the API needs the token (query logs are private data)."""

import json
import os
import struct
import time

import pytest

from framework import dnsutil
from framework import filtering as f
from framework import heimdall as hd
from framework import promhttp

PORT = 18055
TOKEN = "dts-querylog-token-31415"
AUTH = {"Authorization": "Bearer " + TOKEN}
CLIENT, CLIENT2, CLIENT6 = "10.53.0.2", "10.53.0.3", "fd53::2"
ADS = "ads.wild.heimdall.test."              # in dts/lists/ads.hosts
LOCAL = "host.ql.home.arpa."
DEAD = "dead.heimdall.test"                  # forwarded to a port nobody answers


def _args(tmp, extra=()):
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as fh:
        fh.write(TOKEN + "\n")
    return ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM,
            "--http-listen", "127.0.0.1", "--http-port", str(PORT), "--api-token-file", tok,
            "--blocklist", "ads=" + f.fixture_list("ads.hosts"),
            "--record", LOCAL.rstrip(".") + " A 192.0.2.99",
            "--forward-zone", DEAD + "=127.0.0.1:9",
            "--upstream-timeout-ms", "200", "--upstream-budget-ms", "400"] + list(extra)


def _get(path, auth=True):
    return promhttp.get_json(PORT, path, headers=AUTH if auth else {})


def _records(query="", want=None, timeout=5.0):
    """The records of /api/querylog?query; with want(records) polled until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = _get("/api/querylog" + ("?" + query if query else ""))
        assert status == 200, (status, body)
        recs = body["records"]
        if want is None or want(recs) or time.monotonic() > deadline:
            return recs
        time.sleep(0.05)


def _find(name, status=None, timeout=5.0):
    def match(recs):
        return [r for r in recs if r["name"] == name and (status is None or r["status"] == status)]
    return match(_records("domain=" + name + "&limit=10000", lambda rs: match(rs), timeout))


_kept = {}


@pytest.fixture
def logged(servers, tmp_path_factory):
    """One instance with the query log file and a 64k rotation size, kept across tests."""
    h = _kept.get("h")
    if h is None or servers.current is not h or not h.alive():
        tmp = str(tmp_path_factory.mktemp("querylog"))
        _kept["file"] = os.path.join(tmp, "queries.json")
        h = _kept["h"] = servers.start("querylog", _args(tmp, [
            "--querylog-file", _kept["file"], "--querylog-max-size", "64k",
            "--querylog-files", "3"]))
    return h


def _raw_formerr(agent, addr):
    # Two questions: answered FORMERR by the fast path.
    hdr = struct.pack("!6H", 0x7777, 0x0100, 2, 0, 0, 0)
    q = dnsutil.make_query("www.heimdall.test.", "A", edns=None).to_wire()[12:]
    data, _, _ = agent.send_udp(addr, hdr + q + q, timeout=3.0)
    assert data is not None and data[3] & 0x0F == 1, "expected a FORMERR"


def test_each_status_recorded(logged, agent):
    fwd = dnsutil.unique("ql-fwd.wild.heimdall.test")
    r = f.ask(agent, hd.V4, fwd, "A")
    assert r is not None and r.answer
    f.ask(agent, hd.V4, fwd, "A")                     # now a cache hit
    f.ask(agent, hd.V6, ADS, "AAAA")
    f.ask(agent, hd.V4, LOCAL, "A")
    srv = dnsutil.unique("x." + DEAD)
    r = f.ask(agent, hd.V4, srv, "A", timeout=4.0)
    assert r is not None and r.rcode() == 2, "expected SERVFAIL from the dead forward zone"
    _raw_formerr(agent, hd.V4)

    got = _find(fwd, "forwarded")
    assert got and got[0]["type"] == "A" and got[0]["client"] == CLIENT, got
    assert got[0]["rcode"] == "NOERROR" and "latency_ms" in got[0], got
    got = _find(fwd, "cached")
    assert got and got[0]["client"] == CLIENT, got
    got = _find(ADS, "blocked")
    assert got and got[0]["type"] == "AAAA" and got[0]["client"] == CLIENT6, got
    assert got[0]["list"] == "ads", got
    got = _find(LOCAL, "local")
    assert got and got[0]["type"] == "A", got
    got = _find(srv, "servfail")
    assert got and got[0]["rcode"] == "SERVFAIL", got
    got = _records("status=rejected", lambda rs: any(x["rcode"] == "FORMERR" for x in rs))
    assert any(x["rcode"] == "FORMERR" for x in got), got

    # Newest first: the cached answer came after the forwarded one.
    recs = _records("domain=" + fwd)
    assert [x["status"] for x in recs[:2]] == ["cached", "forwarded"], recs

    with logged.telemetry() as t:
        tel = t.cmd("/heimdall/querylog")
    assert tel["enabled"] == 1 and tel["records"] >= 6 and tel["dropped"] == 0, tel
    status, _, text = promhttp.request(PORT, "/metrics")
    assert status == 200
    samples, _ = promhttp.parse(text)
    for fam in ("heimdall_querylog_records_total", "heimdall_querylog_dropped_total",
                "heimdall_querylog_sampled_out_total", "heimdall_querylog_file_errors_total"):
        assert fam in samples, fam
    assert sum(v for _, v in samples["heimdall_querylog_records_total"]) >= 6


def test_filters(logged, agent):
    base = dnsutil.unique("ql-filter.heimdall.test")
    sub = "www." + base
    f.ask(agent, hd.V4, base, "A")
    f.ask(agent, hd.V4, sub, "AAAA", src=CLIENT2)
    f.ask(agent, hd.V4, ADS, "A", src=CLIENT2)
    _find(sub)

    # domain: the name and everything under it, nothing else.
    recs = _records("domain=" + base)
    assert {r["name"] for r in recs} == {base, sub}, recs
    recs = _records("domain=" + sub)
    assert {r["name"] for r in recs} == {sub}, recs
    # client: an address or a prefix.
    recs = _records("client=" + CLIENT2 + "&domain=" + base)
    assert [r["name"] for r in recs] == [sub], recs
    recs = _records("client=10.53.0.0/24&domain=" + base)
    assert len(recs) == 2, recs
    # status and type.
    recs = _records("status=blocked&client=" + CLIENT2, lambda rs: len(rs) > 0)
    assert recs and all(r["status"] == "blocked" and r["client"] == CLIENT2 for r in recs), recs
    recs = _records("type=AAAA&domain=" + base)
    assert [r["name"] for r in recs] == [sub], recs
    recs = _records("limit=1")
    assert len(recs) == 1
    for q, arg in (("client=nope", "client"), ("domain=a..b", "domain"),
                   ("status=maybe", "status"), ("type=BOGUS", "type"),
                   ("limit=0", "limit"), ("limit=10001", "limit")):
        status, _, body = _get("/api/querylog?" + q)
        assert status == 400 and arg in body["error"], (q, status, body)


def test_top_domains(logged, agent):
    name = dnsutil.unique("ql-top.wild.heimdall.test")
    f.ask(agent, hd.V4, name, "A")                   # cached from now on
    qs = [dnsutil.make_query(name, "A").to_wire() for _ in range(60)]
    replies = agent.send_udp_many(hd.V4, qs, timeout=3.0)
    answered = 1 + sum(r is not None for r in replies)
    assert answered >= 40, "only %d of 61 queries answered" % answered
    for _ in range(50):
        status, _, body = _get("/api/stats/top?kind=domains&n=5")
        assert status == 200, body
        if body["top"] and body["top"][0]["name"] == name and \
                body["top"][0]["count"] >= answered:
            break
        time.sleep(0.1)
    assert body["top"][0]["name"] == name, body
    assert body["top"][0]["count"] >= answered, (answered, body)
    status, _, body = _get("/api/stats/top?kind=blocked")
    assert status == 200 and any(e["name"] == ADS for e in body["top"]), body
    status, _, body = _get("/api/stats/top?kind=clients")
    assert status == 200 and any(e["client"] == CLIENT for e in body["top"]), body
    status, _, body = _get("/api/stats/top?kind=colours")
    assert status == 400 and "kind" in body["error"]


def test_file_json_lines_rotate(logged, agent):
    name = dnsutil.unique("ql-file.heimdall.test")
    f.ask(agent, hd.V4, name, "A")
    path = _kept["file"]
    # About 250 bytes a line: 64k rotates after some 260 queries.
    wires = [dnsutil.make_query(name, "A").to_wire() for _ in range(100)]
    for _ in range(5):
        agent.send_udp_many(hd.V4, wires, timeout=3.0)
    deadline = time.monotonic() + 5
    while not os.path.exists(path + ".1") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.path.exists(path + ".1"), "no rotation to %s.1" % path
    assert os.path.getsize(path + ".1") <= 64 * 1024
    seen = 0
    for p in (path + ".1", path):
        with open(p) as fh:
            for line in fh:
                rec = json.loads(line)
                assert {"time", "client", "name", "type", "status", "rcode"} <= rec.keys(), rec
                seen += rec["name"] == name
    assert seen >= 100


def test_token_required(logged):
    status, _, _ = _get("/api/querylog", auth=False)
    assert status == 401
    status, _, _ = _get("/api/stats/top", auth=False)
    assert status == 401


def test_anonymize_mask(start_heimdall, agent, tmp_path):
    start_heimdall("querylog-mask", _args(str(tmp_path), ["--querylog-anonymize", "mask"]))
    name = dnsutil.unique("ql-mask.heimdall.test")
    f.ask(agent, hd.V4, name, "A")
    f.ask(agent, hd.V6, name, "AAAA")
    recs = _records("domain=" + name, lambda rs: len(rs) >= 2)
    assert sorted(r["client"] for r in recs) == ["10.53.0.0", "fd53::"], recs
    status, _, body = _get("/api/querylog?client=" + CLIENT)
    assert status == 200 and body["records"] == [] and body["anonymize"] == "mask"


def test_off(start_heimdall, agent, tmp_path):
    h = start_heimdall("querylog-off", _args(str(tmp_path), ["--no-querylog"]))
    f.ask(agent, hd.V4, dnsutil.unique("ql-off.heimdall.test"), "A")
    status, _, body = _get("/api/querylog")
    assert status == 404 and "off" in body["error"], body
    status, _, body = _get("/api/stats/top")
    assert status == 404 and "off" in body["error"], body
    with h.telemetry() as t:
        tel = t.cmd("/heimdall/querylog")
    assert tel["enabled"] == 0 and tel["records"] == 0, tel
