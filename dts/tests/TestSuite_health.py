# SPDX-License-Identifier: BSD-3-Clause
"""/health and /ready, the HTTP server's error bodies, and how heimdall
refuses to start when the server cannot: address in use, unreadable token
file. http-port 0 means no server at all."""

import os
import socket
import subprocess
import time

import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework import promhttp as ph
from framework.fakeupstream import Fleet

PORT = 18054
BASE = ["--listen", hd.V4, "--http-port", str(PORT)]


def test_health_and_ready(start_heimdall):
    start_heimdall("health", BASE + ["--upstream", hd.UPSTREAM], listen=(hd.V4,))
    status, headers, body = ph.get_json(PORT, "/health")
    assert (status, body) == (200, {"status": "ok"}), (status, body)
    assert headers["content-type"] == "application/json"
    status, _, body = ph.get_json(PORT, "/ready")
    assert status == 200 and body["status"] == "ready", body
    assert body["errors"] == [] and body["ports_down"] == [] and body["upstreams_up"] == 1, body


def test_not_found_and_method_not_allowed(start_heimdall):
    start_heimdall("http-errors", BASE + ["--upstream", hd.UPSTREAM], listen=(hd.V4,))
    status, _, body = ph.get_json(PORT, "/no/such/path")
    assert status == 404 and "/no/such/path" in body["error"], (status, body)
    status, headers, body = ph.get_json(PORT, "/metrics", method="POST", body="x")
    assert status == 405 and "POST" in body["error"], (status, body)
    assert headers["allow"] == "GET, HEAD", headers
    status, headers, body = ph.request(PORT, "/health", method="HEAD")
    assert status == 200 and body == "", (status, body)


def _wait_http(h, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert h.alive(), h.logs()
        try:
            return ph.request(PORT, "/health")
        except OSError:
            time.sleep(0.2)
    raise AssertionError("no HTTP server on %d\n%s" % (PORT, h.logs()))


def test_ready_503_when_upstream_silent_and_no_stale(start_heimdall, agent):
    fleet = Fleet()
    try:
        up = fleet.add(mode="relay")
        up.silent = True
        h = start_heimdall("ready-503", BASE + [
            "--upstream", up.addr, "--stale-window", "0",
            "--upstream-timeout-ms", "200", "--upstream-budget-ms", "400"],
            listen=(hd.V4,), ready=False)
        h.wait_ready(None)
        _wait_http(h)
        # Failed attempts mark the upstream down (3 in a row).
        deadline = time.monotonic() + 20
        status, body = None, None
        while time.monotonic() < deadline:
            agent.query(hd.V4, dnsutil.make_query(dnsutil.unique("wild.heimdall.test"), "A"),
                        timeout=0.6)
            status, _, body = ph.get_json(PORT, "/ready")
            if status == 503:
                break
        assert status == 503, "still %s after 20 s of timeouts: %s" % (status, body)
        assert body["status"] == "not ready" and body["upstreams_up"] == 0, body
        assert "every upstream is down and serve-stale is off" in body["errors"], body
        # Live all the same: the process runs its loops.
        status, _, body = ph.get_json(PORT, "/health")
        assert status == 200, body
    finally:
        fleet.close()


def test_http_port_0_listens_nowhere(start_heimdall):
    h = start_heimdall("http-off", ["--listen", hd.V4, "--upstream", hd.UPSTREAM,
                                    "--http-port", "0"], listen=(hd.V4,))
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    # Its only listening TCP sockets are DNS over TCP's.
    ss = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    mine = [line.split()[3] for line in ss.splitlines() if "pid=%d," % h.proc.pid in line]
    assert mine and all(a.endswith(":53") for a in mine), mine
    with open(h.stdout_path) as f1, open(h.stderr_path) as f2:
        assert "HTTP server off" in f1.read() + f2.read()


def _refused_start(servers, name, args):
    """Start an instance that must exit on its own: (exit code, its output)."""
    servers.stop_current()
    h = hd.Heimdall(name, hd.afxdp_vdev(), args, listen=(hd.V4,))
    h.start()
    try:
        h.proc.wait(timeout=60)
    finally:
        rc = h.stop()
    with open(h.stdout_path) as f1, open(h.stderr_path) as f2:
        return rc, f1.read() + f2.read()


def test_address_in_use_exits_with_message(servers):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", PORT))
    s.listen()
    try:
        rc, out = _refused_start(servers, "http-in-use",
                                 BASE + ["--upstream", hd.UPSTREAM])
    finally:
        s.close()
    assert rc not in (0, None), "exit %s\n%s" % (rc, out)
    assert "127.0.0.1 port %d: Address already in use" % PORT in out, out


def test_unreadable_token_file_exits_naming_it(servers, tmp_path):
    path = str(tmp_path / "missing" / "api.token")
    rc, out = _refused_start(servers, "token-missing",
                             BASE + ["--upstream", hd.UPSTREAM, "--api-token-file", path])
    assert rc not in (0, None), "exit %s\n%s" % (rc, out)
    assert "cannot read api-token-file %s" % path in out, out


def test_token_never_logged(start_heimdall, tmp_path):
    tok = tmp_path / "api.token"
    tok.write_text("  s3cr3t-t0ken-%d  \n" % os.getpid())
    h = start_heimdall("token-ok", BASE + ["--upstream", hd.UPSTREAM,
                                           "--api-token-file", str(tok)], listen=(hd.V4,))
    status, _, _ = ph.get_json(PORT, "/health")
    assert status == 200
    with open(h.stdout_path) as f1, open(h.stderr_path) as f2:
        assert "s3cr3t" not in f1.read() + f2.read()
