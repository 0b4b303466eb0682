# SPDX-License-Identifier: BSD-3-Clause
"""The REST API (docs/api.md) end to end: writes need the token (none or a
wrong one: 401), reads are open; a record added through the API is answered
on the wire with AA and gone again after DELETE; a domain added to the API's
blocklist is blocked, an allowlist entry unblocks a name a dts list blocks;
flushing one name from the cache sends the next query upstream; pausing
blocking lets a blocked name resolve until resume; the API's changes survive
a restart (state-dir); a corrupt state.json is kept aside as .bad and
heimdall still starts."""

import os

import dns.flags
import dns.rcode

from framework import filtering as f
from framework import heimdall as hd
from framework.restapi import Api

PORT = 18054
TOKEN = "dts-api-token-5b1f"
WILD = "192.0.2.77"          # what the upstream answers for *.wild.heimdall.test
ADS = "ads.wild.heimdall.test."


def _args(tmp_path, extra=()):
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    return ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM,
            "--http-port", str(PORT), "--api-token-file", str(tok),
            "--state-dir", str(tmp_path / "state"), "--list-dir", str(tmp_path / "lists")
            ] + list(extra)


def _a(agent, name, addr=hd.V4):
    r = f.ask(agent, addr, name)
    return r, [a[2] for a in f.answer_view(r) if a[1] == "A"]


def test_token_and_record_round_trip(start_heimdall, agent, tmp_path):
    start_heimdall("api", _args(tmp_path, ["--local-zone", "api.home.arpa"]))
    api = Api(PORT, TOKEN)
    rec = {"record": "apirec.wild.heimdall.test 120 A 192.0.2.141"}

    # Reads are open; writes need the token, and the right one.
    assert api.get("/api/records", token=None)[0] == 200
    status, body = api.post("/api/records", rec, token=None)
    assert status == 401, (status, body)
    status, body = api.post("/api/records", rec, token="not-" + TOKEN)
    assert status == 401, (status, body)
    assert all(x["origin"] != "api" for x in api.get("/api/records")[1]["records"])

    name = "apirec.wild.heimdall.test."
    r, got = _a(agent, name)
    assert got == [WILD], "before the POST the upstream answers: %s" % r

    # A record that does not compile: 400 with libzscanner's reason, nothing changed.
    status, body = api.post("/api/records", {"record": "bad.wild.heimdall.test A 192.0.2"})
    assert status == 400 and "record" in body["error"] and "IPv4" in body["error"], body
    status, body = api.post("/api/records", {"rec": "x"})
    assert status == 400 and "rec" in body["error"], body

    body = api.ok("POST", "/api/records", rec)
    assert body["applied"] is True and body["version"] > 0, body
    for addr in (hd.V4, hd.V6):
        r, got = _a(agent, name, addr)
        assert got == ["192.0.2.141"], "the API's record is not answered on %s: %s" % (addr, r)
    listed = [x for x in api.get("/api/records")[1]["records"] if x["origin"] == "api"]
    assert listed and listed[0]["name"] == "apirec.wild.heimdall.test" and listed[0]["type"] == "A"
    assert api.post("/api/records", rec)[0] == 409

    # Deleting by name (and type) brings the previous answer back.
    status, body = api.delete("/api/records/apirec.wild.heimdall.test?type=AAAA")
    assert status == 404, (status, body)
    body = api.ok("DELETE", "/api/records/apirec.wild.heimdall.test?type=A")
    assert body["removed"] == 1 and body["applied"], body
    r, got = _a(agent, name)
    assert got == [WILD] and not r.flags & dns.flags.AA, r

    # In a local zone the API's record is authoritative (AA), and NXDOMAIN once deleted.
    zname = "nas.api.home.arpa."
    assert f.ask(agent, hd.V4, zname).rcode() == dns.rcode.NXDOMAIN
    api.ok("POST", "/api/records", {"record": "nas.api.home.arpa A 192.0.2.144"})
    r, got = _a(agent, zname, hd.V6)
    assert got == ["192.0.2.144"] and r.flags & dns.flags.AA, r
    api.ok("DELETE", "/api/records/nas.api.home.arpa")
    r = f.ask(agent, hd.V4, zname)
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA, r


def test_entries_cache_and_pause(start_heimdall, agent, tmp_path, watch):
    h = start_heimdall("api-lists", _args(tmp_path, ["--blocklist",
                                                     "ads=" + f.fixture_list("ads.hosts")]))
    api = Api(PORT, TOKEN)

    # Blocklist entry: blocked on the wire; removing it unblocks.
    name = "apiblock.wild.heimdall.test."
    f.assert_forwarded(agent, hd.V4, name)
    api.ok("POST", "/api/blocklist", {"domain": "APIblock.wild.heimdall.test."})
    assert f.is_null_blocked(agent, hd.V4, name), "the API's blocklist entry is not blocked"
    assert api.get("/api/blocklist")[1]["domains"] == ["apiblock.wild.heimdall.test"]
    status, body = api.post("/api/blocklist", {"domain": "not a name"})
    assert status == 400 and "domain" in body["error"], body
    api.ok("DELETE", "/api/blocklist/apiblock.wild.heimdall.test")
    f.assert_forwarded(agent, hd.V4, name)

    # Allowlist entry: a name the dts list blocks resolves.
    assert f.is_null_blocked(agent, hd.V4, ADS)
    api.ok("POST", "/api/allowlist", {"domain": "ads.wild.heimdall.test"})
    f.assert_forwarded(agent, hd.V4, ADS)
    lists = {l["name"]: l for l in api.get("/api/lists")[1]["lists"]}
    assert lists["ads"]["origin"] == "config" and lists["ads"]["read_only"], lists
    assert lists["custom-allow"]["origin"] == "entries", lists
    assert api.delete("/api/lists/ads")[0] == 409
    api.ok("DELETE", "/api/allowlist/ads.wild.heimdall.test")
    assert f.is_null_blocked(agent, hd.V4, ADS)

    # Flushing one name: the next query for it goes upstream again.
    cached = "flushme.wild.heimdall.test."
    _a(agent, cached)
    w = watch(h)
    _a(agent, cached)
    assert w.wait({"cache_hits": 1})["cache_hits"] >= 1 and w.delta("upstream_queries") == 0
    body = api.ok("DELETE", "/api/cache/flushme.wild.heimdall.test")
    assert body["removed"] >= 1, body
    w = watch(h)
    _a(agent, cached)
    assert w.wait({"upstream_queries": 1})["upstream_queries"] == 1, \
        "the flushed name did not go upstream"
    assert api.get("/api/cache")[1]["entries"] >= 1
    body = api.ok("DELETE", "/api/cache")
    assert body["removed"] >= 1 and api.get("/api/cache")[1]["entries"] == 0, body

    # Pause: the blocked name resolves; resume: blocked again.
    body = api.ok("POST", "/api/blocking/pause", {"minutes": 1})
    assert body["paused"] and 55 <= body["remaining_seconds"] <= 60, body
    f.assert_forwarded(agent, hd.V4, ADS)
    assert api.get("/api/blocking")[1]["paused"] is True
    status, body = api.post("/api/blocking/pause", {"minutes": "ten"})
    assert status == 400 and "minutes" in body["error"], body
    body = api.ok("POST", "/api/blocking/resume")
    assert body["blocking"] and not body["paused"], body
    assert f.is_null_blocked(agent, hd.V4, ADS), "still not blocked after resume"


def test_state_survives_restart_and_corruption(start_heimdall, servers, agent, tmp_path):
    h = start_heimdall("api-persist", _args(tmp_path))
    api = Api(PORT, TOKEN)
    api.ok("POST", "/api/records", {"record": "kept.wild.heimdall.test A 192.0.2.142"})
    state = tmp_path / "state" / "state.json"
    assert state.exists(), os.listdir(tmp_path / "state")
    servers.stop(h)

    h = start_heimdall("api-persist-2", _args(tmp_path))
    r, got = _a(agent, "kept.wild.heimdall.test.")
    assert got == ["192.0.2.142"], \
        "the API's record is lost after a restart: %s\n%s" % (r, h.logs())
    servers.stop(h)

    state.write_text('{"format": 1, "records": ["kept.wild')
    h = start_heimdall("api-corrupt", _args(tmp_path))
    assert (tmp_path / "state" / "state.json.bad").exists(), os.listdir(tmp_path / "state")
    assert "state.json.bad" in h.logs(200), h.logs()
    r, got = _a(agent, "kept.wild.heimdall.test.")
    assert got == [WILD], "a corrupt state.json must not be applied: %s" % r
    # And the API works again from an empty state.
    api.ok("POST", "/api/records", {"record": "fresh.wild.heimdall.test A 192.0.2.143"})
    assert _a(agent, "fresh.wild.heimdall.test.")[1] == ["192.0.2.143"]
