# SPDX-License-Identifier: BSD-3-Clause
"""Configuration hot reload (docs/api.md): an edited --config file (a record
added, block-mode changed) applied on SIGHUP; broken YAML on SIGHUP keeps the
running configuration answering and reports why (telemetry /heimdall/control,
GET /api/reload); POST /api/reload reports a setting that needs a restart
and applies the rest; `heimdall --check-config` on a good and a bad file."""

import signal
import subprocess

import dns.rcode

from framework import filtering as f
from framework import heimdall as hd
from framework.restapi import Api

PORT = 18054
TOKEN = "dts-reload-token-77c2"
ADS = "ads.wild.heimdall.test."


def _config(path, tmp_path, records, block_mode="null", extra=""):
    recs = "".join("  - %s\n" % r for r in records)
    path.write_text(
        "listen: [%s, %s]\n"
        "upstream: [%s]\n"
        "http-port: %d\n"
        "api-token-file: %s\n"
        "state-dir: %s\n"
        "blocklist:\n  - name: ads\n    source: %s\n"
        "block-mode: %s\n"
        "record:\n%s%s" % (hd.V4, hd.V6, hd.UPSTREAM, PORT, tmp_path / "token",
                           tmp_path / "state", f.fixture_list("ads.hosts"), block_mode,
                           recs, extra))


def _start(start_heimdall, tmp_path, name, records, block_mode="null"):
    (tmp_path / "token").write_text(TOKEN)
    cfg = tmp_path / "heimdall.yaml"
    _config(cfg, tmp_path, records, block_mode)
    return start_heimdall(name, ["--config", str(cfg)]), cfg


def _addrs(agent, name):
    return [a[2] for a in f.answer_view(f.ask(agent, hd.V4, name)) if a[1] == "A"]


def _control(h):
    return f.tel(h, "/heimdall/control")


def test_sighup_applies_the_edited_file(start_heimdall, agent, tmp_path):
    one = "one.reload.home.arpa A 192.0.2.151"
    two = "two.reload.home.arpa A 192.0.2.152"
    h, cfg = _start(start_heimdall, tmp_path, "hotreload", [one])
    assert _addrs(agent, "one.reload.home.arpa.") == ["192.0.2.151"]
    assert f.is_null_blocked(agent, hd.V4, ADS)

    _config(cfg, tmp_path, [one, two], block_mode="nxdomain")
    h.proc.send_signal(signal.SIGHUP)
    assert f.poll(lambda: _addrs(agent, "two.reload.home.arpa.") == ["192.0.2.152"]), \
        "the record added to the file is not answered after SIGHUP\n%s" % h.logs()
    r = f.ask(agent, hd.V4, ADS)
    assert r.rcode() == dns.rcode.NXDOMAIN, "block-mode nxdomain not applied: %s" % r
    c = _control(h)
    assert c["reloads"] == 1 and c["reload_failures"] == 0 and c["needs_restart"] == "", c


def test_broken_yaml_keeps_serving(start_heimdall, agent, tmp_path):
    one = "one.reload.home.arpa A 192.0.2.151"
    h, cfg = _start(start_heimdall, tmp_path, "hotreload-broken", [one])
    good = cfg.read_text()
    cfg.write_text(good + "record: [unclosed\n")
    lines = len(good.splitlines()) + 1
    h.proc.send_signal(signal.SIGHUP)
    c = f.poll(lambda: _control(h)["reload_failures"] == 1 and _control(h))
    assert c, "no failed reload counted after SIGHUP with broken YAML: %s" % _control(h)
    assert "heimdall.yaml:%d" % lines in c["last_reload_error"] or \
        "heimdall.yaml:%d" % (lines + 1) in c["last_reload_error"], c
    assert h.alive() and _addrs(agent, "one.reload.home.arpa.") == ["192.0.2.151"]
    assert f.is_null_blocked(agent, hd.V4, ADS)
    api = Api(PORT, TOKEN)
    got = api.get("/api/reload")[1]
    # (Telemetry strings are cut at 127 characters; the API has the whole message.)
    assert got["failures"] == 1 and got["last_error"].startswith(c["last_reload_error"]), got

    # The same through the API: 422 with the reason, still serving.
    status, body = api.post("/api/reload")
    assert status == 422 and "heimdall.yaml" in body["error"] and body["applied"] is False, body
    # A record that does not compile is refused the same way.
    _config(cfg, tmp_path, [one, "bad.reload.home.arpa A 192.0.2"])
    status, body = api.post("/api/reload")
    assert status == 422 and "bad.reload.home.arpa" in body["error"], body
    assert _addrs(agent, "one.reload.home.arpa.") == ["192.0.2.151"]


def test_restart_only_setting_is_reported(start_heimdall, agent, tmp_path):
    one = "one.reload.home.arpa A 192.0.2.151"
    three = "three.reload.home.arpa A 192.0.2.153"
    h, cfg = _start(start_heimdall, tmp_path, "hotreload-restart", [one])
    _config(cfg, tmp_path, [one, three], extra="cache:\n  entries: 4096\nring-size: 1024\n")
    api = Api(PORT, TOKEN)
    status, body = api.post("/api/reload", token=None)
    assert status == 401, (status, body)
    status, body = api.post("/api/reload")
    assert status == 200 and body["applied"] is True, body
    assert sorted(body["needs_restart"]) == ["cache.entries", "ring-size"], body
    # The live part is applied all the same.
    assert _addrs(agent, "three.reload.home.arpa.") == ["192.0.2.153"]
    assert "needs restart: cache.entries, ring-size" in h.logs(200), h.logs()


def test_check_config(tmp_path):
    good = tmp_path / "good.yaml"
    bad = tmp_path / "bad.yaml"
    (tmp_path / "token").write_text(TOKEN)
    _config(good, tmp_path, ["one.reload.home.arpa A 192.0.2.151"])
    _config(bad, tmp_path, ["one.reload.home.arpa A 192.0.2.151",
                            "bad.reload.home.arpa A not-an-address"])
    bad_line = len(bad.read_text().splitlines())
    r = subprocess.run([hd.binary(), "--check-config", str(good)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "%s: OK" % good, r
    r = subprocess.run([hd.binary(), "--", "--check-config", str(bad)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2, r
    assert "bad.yaml:%d" % bad_line in r.stderr and "bad.reload.home.arpa" in r.stderr, r.stderr
    missing = tmp_path / "missing.hosts"
    nolist = tmp_path / "nolist.yaml"
    _config(nolist, tmp_path, [])
    nolist.write_text(nolist.read_text().replace(f.fixture_list("ads.hosts"), str(missing))
                      .replace("record:\n", ""))
    r = subprocess.run([hd.binary(), "--check-config", str(nolist)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and str(missing) in r.stderr, r
