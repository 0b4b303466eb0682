# SPDX-License-Identifier: BSD-3-Clause
"""heimdall's HTTP server from the test's side: GET/POST on loopback, the
Prometheus text parsed into samples, promtool, and a real Prometheus that
scrapes heimdall (Debian's prometheus package)."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
PROM_LISTEN = "127.0.0.1:9391"


def request(port, path, method="GET", body=None, headers=None, host="127.0.0.1", timeout=5.0):
    """(status, {header lowercase: value}, body text) of one request."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


def get_json(port, path, **kw):
    status, headers, body = request(port, path, **kw)
    return status, headers, json.loads(body) if body else None


_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _unescape(v):
    return v.replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')


def parse(text):
    """{name: [(labels dict, value float)]}, and {family: (type, help)}."""
    samples, families = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            families.setdefault(name, [None, None])[1] = help_
        elif line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            families.setdefault(name, [None, None])[0] = typ
        elif line and not line.startswith("#"):
            m = _LINE.match(line)
            assert m, "not a sample line: %r" % line
            labels = {k: _unescape(v) for k, v in _LABEL.findall(m.group(3) or "")}
            samples.setdefault(m.group(1), []).append((labels, float(m.group(4))))
    return samples, {k: tuple(v) for k, v in families.items()}


def total(samples, metric, **match):
    """Sum of the samples of metric whose labels include match."""
    return sum(v for labels, v in samples.get(metric, [])
               if all(labels.get(k) == val for k, val in match.items()))


def promtool_check(text):
    """(exit code, output) of promtool check metrics on text."""
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).strip()


class Prometheus:
    """A real Prometheus on PROM_LISTEN scraping 127.0.0.1:port every second."""

    def __init__(self, port, out_dir):
        self.dir = tempfile.mkdtemp(prefix="hd-prom-")
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: heimdall\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % port)
        self.log_path = os.path.join(out_dir, "prometheus.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg, "--web.listen-address=" + PROM_LISTEN,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data")],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def api(self, path, **params):
        url = "http://%s/api/v1/%s" % (PROM_LISTEN, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read().decode())

    def wait(self, fn, timeout=30.0, what="condition"):
        """Poll fn() until it returns something true; return it."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "prometheus exited: %s" % self.logs()
            try:
                got = fn()
                if got:
                    return got
                last = got
            except (OSError, ValueError, KeyError, IndexError) as e:
                last = e
            time.sleep(0.5)
        raise AssertionError("prometheus: no %s after %.0f s (last: %r)\n%s" % (
            what, timeout, last, self.logs()))

    def logs(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
