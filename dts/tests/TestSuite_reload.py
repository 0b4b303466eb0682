# SPDX-License-Identifier: BSD-3-Clause
"""Lists downloaded over HTTP (a python http.server on 127.0.0.1,
framework/listserver.py) and reloaded through /heimdall/reload: an edited list
is applied (the added name blocked, the removed one answered again); a failed
download (404, server down) keeps the previous list and shows last_error; the
last good copy in --list-dir is used after a restart; an edited zone file is
reloaded too; and three reloads while kxdpgun keeps 5000 queries/s on lose no
query (compared with a run without reloads on the same machine)."""

import os
import shutil
import time

import dns.rcode

from framework import filtering as f
from framework import heimdall as hd

BASE = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM]
OLD = "old.wild.heimdall.test."
NEW = "new.wild.heimdall.test."
LIST = "live.txt"


def _hosts(names):
    return "# served by the dts list server\n" + "".join("0.0.0.0 %s\n" % n.rstrip(".") for n in names)


def _args(list_server, list_dir, extra=()):
    return BASE + ["--blocklist", "live=" + list_server.url(LIST), "--list-refresh", "0",
                   "--list-dir", str(list_dir)] + list(extra)


def _blocked_everywhere(agent, name):
    return all(f.is_null_blocked(agent, addr, name) for addr in (hd.V4, hd.V6))


def _errored(h, other_than=""):
    """The state of list live once its last_error is set (and not other_than), else None."""
    st = f.list_state(h, "live")
    return st if st["last_error"] and st["last_error"] != other_than else None


def _start_blocking(start_heimdall, agent, list_server, tmp_path, names, name="reload", extra=()):
    list_server.put(LIST, _hosts(names))
    h = start_heimdall(name, _args(list_server, tmp_path / "lists", extra))
    assert f.poll(lambda: _blocked_everywhere(agent, names[0])), \
        "%s not blocked after start: the list from %s was not applied\n%s\n%s" % (
            names[0], list_server.url(LIST), f.list_state(h, "live"), h.logs())
    return h


def test_reload_applies_an_edited_list(start_heimdall, agent, list_server, tmp_path):
    h = _start_blocking(start_heimdall, agent, list_server, tmp_path, [OLD])
    st = f.list_state(h, "live")
    assert st["rules"] == 1 and st["source"] == list_server.url(LIST) and not st["last_error"], st
    f.assert_forwarded(agent, hd.V4, NEW)            # not blocked yet (and now in the cache)
    gen = f.filter_state(h)["generation"]

    list_server.put(LIST, _hosts([NEW, "second.wild.heimdall.test"]))
    f.reload(h)
    assert f.poll(lambda: _blocked_everywhere(agent, NEW)), \
        "%s not blocked within 10 s of /heimdall/reload: %s" % (NEW, f.list_state(h, "live"))
    # One swap: the name the new version dropped is answered again right away.
    for addr in (hd.V4, hd.V6):
        f.assert_forwarded(agent, addr, OLD)
    f.assert_blocked(f.ask(agent, hd.V6, "second.wild.heimdall.test.", "AAAA"),
                     "second.wild.heimdall.test.", "AAAA", listname="live")
    assert f.filter_state(h)["generation"] > gen
    assert f.list_state(h, "live")["rules"] == 2
    got = list_server.requests(LIST)
    assert len(got) >= 2 and all(code == "200" for _, code in got), got


def test_failed_download_keeps_the_previous_list(start_heimdall, agent, list_server, tmp_path):
    h = _start_blocking(start_heimdall, agent, list_server, tmp_path, [OLD])

    list_server.remove(LIST)
    f.reload(h)
    st = f.poll(lambda: _errored(h))
    assert st, "no last_error 10 s after a reload that got 404: %s" % f.list_state(h, "live")
    assert "404" in st["last_error"], "last_error does not name the HTTP status: %r" % st["last_error"]
    assert ("/" + LIST, "404") in list_server.requests(LIST)
    assert st["rules"] == 1, st
    assert _blocked_everywhere(agent, OLD), "the previous list was dropped after a failed download"

    # The server is gone altogether: connection refused, still the old list.
    err = st["last_error"]
    list_server.stop()
    f.reload(h)
    # (The message may or may not differ from the 404's.)
    st = f.poll(lambda: _errored(h, err), 5.0) or f.list_state(h, "live")
    assert st["last_error"], st
    assert _blocked_everywhere(agent, OLD), "the previous list was dropped when the server was down"

    # Back up with a new version: applied on the next reload.
    list_server.start()
    list_server.put(LIST, _hosts([NEW]))
    f.reload(h)
    assert f.poll(lambda: _blocked_everywhere(agent, NEW)), f.list_state(h, "live")
    f.assert_forwarded(agent, hd.V4, OLD)


def test_last_good_copy_used_when_the_server_is_down(start_heimdall, servers, agent, list_server,
                                                      tmp_path):
    h = _start_blocking(start_heimdall, agent, list_server, tmp_path, [OLD])
    kept = os.listdir(tmp_path / "lists")
    assert "live.list" in kept, "no copy live.list in --list-dir after a download: %s" % kept
    servers.stop(h)
    list_server.stop()
    h = start_heimdall("reload-from-copy", _args(list_server, tmp_path / "lists"))
    assert f.poll(lambda: _blocked_everywhere(agent, OLD)), \
        "the copy in --list-dir was not used while the server is down: %s" % f.list_state(h, "live")
    # It is downloaded again right after the start; that fails, is reported,
    # and the copy stays in use.
    assert f.poll(lambda: f.list_state(h, "live")["last_error"]), \
        "the failed download is not reported: %s" % f.list_state(h, "live")
    assert _blocked_everywhere(agent, OLD)


def test_zone_file_reload(start_heimdall, agent, tmp_path):
    zone = tmp_path / "office.home.arpa.zone"
    shutil.copy(f.local_zone_file("office.home.arpa.zone"), zone)
    h = start_heimdall("zone-reload", BASE + ["--zone-file", str(zone),
                                               "--record", "fixed.lab.home.arpa A 192.0.2.30"])
    name = "added.office.home.arpa."
    r = f.ask(agent, hd.V4, name)
    assert r.rcode() == dns.rcode.NXDOMAIN, r
    gen = f.records_state(h)["generation"]
    with open(zone, "a") as z:
        z.write("added\t\tA\t192.0.2.210\n")
    f.reload(h)

    def answered():
        r = f.ask(agent, hd.V6, name)
        return [a[2] for a in f.answer_view(r)] == ["192.0.2.210"]
    assert f.poll(answered), "the edited zone file was not reloaded: %s" % f.records_state(h)
    assert f.records_state(h)["generation"] > gen
    assert [a[2] for a in f.answer_view(f.ask(agent, hd.V4, "fixed.lab.home.arpa."))] == ["192.0.2.30"]

    # A zone file broken by an edit keeps the previous local data, and says
    # what is wrong where.
    with open(zone, "a") as z:
        z.write("broken\t\tA\tnot-an-address\n")
    f.reload(h)

    def zone_error():
        return f.records_state(h)["zone_files"]["0"]["last_error"]
    err = f.poll(zone_error)
    assert err and zone.name in err, "no last_error naming %s after a broken reload: %s" % (
        zone.name, f.records_state(h))
    assert answered(), "a broken zone file dropped the previous local data"
    assert f.ask(agent, hd.V4, "nas.office.home.arpa.").answer, "a broken zone file dropped nas"


# -- reloads under load -------------------------------------------------------------

LOAD_BLOCKED = ["b%d.load.wild.heimdall.test" % i for i in range(10)]
LOAD_CACHED = [("www.heimdall.test", "A"), ("www.heimdall.test", "AAAA"), ("c.heimdall.test", "A"),
               ("mail.heimdall.test", "A"), ("txt.heimdall.test", "TXT")]
LOAD_LOCAL = [("host.lab.home.arpa", "A"), ("nas.office.home.arpa", "AAAA"),
              ("x.dev.office.home.arpa", "A"), ("nothere.office.home.arpa", "A")]


def test_reloads_under_load_lose_no_query(start_heimdall, agent, list_server, tmp_path):
    zone = tmp_path / "office.home.arpa.zone"
    shutil.copy(f.local_zone_file("office.home.arpa.zone"), zone)
    h = _start_blocking(start_heimdall, agent, list_server, tmp_path, LOAD_BLOCKED, "reload-load", [
        "--zone-file", str(zone), "--record", "host.lab.home.arpa A 192.0.2.25"])
    for name, rdtype in LOAD_CACHED:             # warm the cache: every query is answered by a worker
        f.ask(agent, hd.V4, name, rdtype)
    qfile = tmp_path / "queries.txt"
    lines = ["%s %s" % (n, "A") for n in LOAD_BLOCKED] + ["%s %s" % q for q in LOAD_CACHED + LOAD_LOCAL]
    qfile.write_text("\n".join(lines) + "\n")

    base = f.kxdpgun(str(qfile))
    fgen, rgen = f.filter_state(h)["generation"], f.records_state(h)["generation"]
    stamps = []

    def reloads(proc):
        t0 = time.monotonic()
        for i in range(1, 4):
            time.sleep(max(0.0, t0 + 1.5 * i - time.monotonic()))
            # A real change each time, to the list and the zone file: both
            # swaps replace what the workers look up.
            list_server.put(LIST, _hosts(LOAD_BLOCKED + ["extra%d.wild.heimdall.test" % i]))
            with open(zone, "a") as z:
                z.write("extra%d\t\tA\t192.0.2.%d\n" % (i, 220 + i))
            f.reload(h)
            stamps.append(round(time.monotonic() - t0, 2))
        assert proc.poll() is None, "kxdpgun ended before the third reload"

    run = f.kxdpgun(str(qfile), during=reloads)
    assert f.poll(lambda: f.filter_state(h)["generation"] >= fgen + 3), \
        "3 reloads, filter generation %d -> %d" % (fgen, f.filter_state(h)["generation"])
    assert f.poll(lambda: f.records_state(h)["generation"] >= rgen + 3), \
        "3 reloads, records generation %d -> %d" % (rgen, f.records_state(h)["generation"])
    assert f.list_state(h, "live")["rules"] == len(LOAD_BLOCKED) + 1
    assert _blocked_everywhere(agent, "extra3.wild.heimdall.test.")
    assert [a[2] for a in f.answer_view(f.ask(agent, hd.V4, "extra3.office.home.arpa."))] == ["192.0.2.223"]

    report = "without reloads: %d/%d answered; with reloads at %s s: %d/%d\n%s\n%s" % (
        base["replies"], base["queries"], stamps, run["replies"], run["queries"],
        base["output"], run["output"])
    print(report)                                # shown with -s, and with a failure
    assert base["queries"] > 0.8 * 6 * 5000 and run["queries"] > 0.8 * 6 * 5000, report
    # veth + XDP on a loaded 2-core VM may drop a few frames with no reload at
    # all: the baseline measures that, and the reloads may not add any loss.
    lost_base = base["queries"] - base["replies"]
    lost_run = run["queries"] - run["replies"]
    assert lost_run <= lost_base, "queries lost to the reloads: " + report
    assert set(run["rcodes"]) <= {"NOERROR", "NXDOMAIN"}, "unexpected rcodes: " + report
    assert run["rcodes"].get("NOERROR", 0) > 0 and run["rcodes"].get("NXDOMAIN", 0) > 0, report
