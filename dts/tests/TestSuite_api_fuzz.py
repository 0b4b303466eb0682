# SPDX-License-Identifier: BSD-3-Clause
"""Hostile input to the HTTP server and the REST API (docs/api.md,
docs/querylog.md, docs/cluster.md, docs/monitoring.md).

One heimdall (a token, --http-port 18057, a temporary state-dir) gets about
2000 requests in about 30 s over raw sockets: every route with random
methods; JSON bodies of the wrong types, huge strings, deep nesting, NUL
bytes, invalid UTF-8, numbers out of range, missing and extra fields; odd
paths (../, %00, percent-encoding, very long); odd query arguments; bad and
huge headers; truncated requests; a bounded slowloris; and more concurrent
connections than the server's limit.

Every answer must be 2xx or 4xx (a 503 only from /ready), with a JSON body
where the API gives one (application/json that parses). Afterwards the
process still runs, DNS still answers, /health says ok, state.json is valid
JSON, and a restart on the same state-dir loads it (no state.json.bad):
what the API accepted must survive a restart.

Also: a "Redis" that answers with an endless reply (a 1 GiB bulk string, an
array of 10^9 elements) gets its connection closed after a bounded read.

The random seed is printed; HD_FUZZ_SEED=N reproduces a run.
"""

import json
import os
import random
import socket
import string
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dns.name
import pytest

from framework import dnsutil
from framework import heimdall as hd

PORT = 18057
TOKEN = "dts-fuzz-token-7c41"
SEED = int(os.environ.get("HD_FUZZ_SEED", "20240601"))
REQUESTS = 2000
BUDGET_S = 30.0
WORKERS = 8
BODY_MAX = 1 << 20          # http.c: larger bodies get 413
CONN_LIMIT = 64             # http.c

# Statuses a request may get. MHD itself answers 400, 413, 414 and 431 to
# requests it cannot parse; our dispatcher 404/405; handlers the rest.
OK_STATUS = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 414, 422, 431}

ROUTES = [
    ("GET", "/api/records"), ("POST", "/api/records"), ("DELETE", "/api/records/NAME"),
    ("GET", "/api/lists"), ("POST", "/api/lists"), ("DELETE", "/api/lists/NAME"),
    ("POST", "/api/lists/refresh"),
    ("GET", "/api/allowlist"), ("POST", "/api/allowlist"), ("DELETE", "/api/allowlist/NAME"),
    ("GET", "/api/blocklist"), ("POST", "/api/blocklist"), ("DELETE", "/api/blocklist/NAME"),
    ("GET", "/api/groups"), ("POST", "/api/groups"), ("DELETE", "/api/groups/NAME"),
    ("GET", "/api/cache"), ("DELETE", "/api/cache"), ("DELETE", "/api/cache/NAME"),
    ("GET", "/api/blocking"), ("POST", "/api/blocking/pause"), ("POST", "/api/blocking/resume"),
    ("GET", "/api/reload"), ("POST", "/api/reload"),
    ("GET", "/api/querylog"), ("GET", "/api/stats/top"), ("GET", "/api/cluster"),
    ("GET", "/metrics"), ("GET", "/health"), ("GET", "/ready"),
]
# Slow by design (they wait for downloads or a reload): only a few of each.
SLOW = {("POST", "/api/lists/refresh"), ("POST", "/api/reload")}
SLOW_MAX = 4

METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "get",
           "CONNECT", "FUZZ", "DELETEX", "P\x00ST"]

FIELDS = {
    "/api/records": ["record"],
    "/api/lists": ["name", "source", "kind", "syntax", "mode", "ttl", "ipv4", "ipv6"],
    "/api/allowlist": ["domain"], "/api/blocklist": ["domain"],
    "/api/groups": ["name", "clients", "lists"],
    "/api/blocking/pause": ["minutes", "seconds"],
}


class Fuzzer:
    def __init__(self, rng):
        self.rng = rng

    # ---- values ----
    def text(self, n=None):
        r = self.rng
        n = r.choice([0, 1, 3, 8, 40, 63, 64, 255, 256, 1023, 1024, 5000]) if n is None else n
        alphabet = r.choice([string.ascii_lowercase + ".-", string.printable,
                             "a.\\\"\n\t\r/%:,*", "\u00e9\u4e2d\U0001f600."])
        return "".join(r.choice(alphabet) for _ in range(n))

    def domain(self):
        r = self.rng
        return r.choice([
            "ok-%d.fuzz.test" % r.randrange(1000), "a\nb.fuzz.test", "a b.fuzz.test", ".", "..",
            "a..b", "x" * 64 + ".test", ".".join(["abcdefgh"] * 40), "*.fuzz.test",
            "\\046.fuzz.test", "\\999.test", "a.\x00.test", "xn--caf-dma.test", "-.test",
            "UPPER.Fuzz.Test.", "\u00e9.test", "%2e%2e", "a/b.test", self.text(),
        ])

    def number(self):
        return self.rng.choice([0, -1, 1, 59, 60, 1440, 1441, 86400, 86401, 2 ** 31, 2 ** 53,
                                2 ** 63 - 1, -2 ** 63, 1.5, -0.0, 1e308, True, None, "10"])

    def value(self, depth=0):
        r = self.rng
        k = r.randrange(9 if depth < 3 else 5)
        if k == 0:
            return self.text()
        if k == 1:
            return self.number()
        if k == 2:
            return self.domain()
        if k == 3:
            return r.choice([None, True, False, "", {}, []])
        if k == 4:
            return "192.0.2.%d" % r.randrange(300)
        if k in (5, 6):
            return [self.value(depth + 1) for _ in range(r.randrange(4))]
        return {self.text(5): self.value(depth + 1) for _ in range(r.randrange(3))}

    def good_ish(self, path):
        """A body close to what the route expects, then spoiled a little."""
        r = self.rng
        if path == "/api/records":
            b = {"record": r.choice([
                "f%d.fuzz.test 60 A 192.0.2.%d" % (r.randrange(50), r.randrange(256)),
                "f.fuzz.test A 192.0.2", "f.fuzz.test 300 IN TXT \"x\"",
                "f.fuzz.test 300 A 192.0.2.1\nf2.fuzz.test A 192.0.2.2",
                "f.fuzz.test 99999999999 A 192.0.2.1", "f.fuzz.test 60 TYPE65535 \\# 0",
                "f.fuzz.test 60 AAAA ::1", "%s 60 A 192.0.2.1" % self.domain(),
                "f.fuzz.test 60 CNAME " + "x" * 300, self.text()])}
        elif path == "/api/lists":
            b = {"name": r.choice(["fz%d" % r.randrange(20), "custom-block", "x" * 64,
                                   "bad name", "", self.text(8)]),
                 "source": r.choice(["/etc/hosts", "/nonexistent/list", "http://127.0.0.1:1/l",
                                     "https://127.0.0.1:1/l", "file:///etc/passwd",
                                     "/proc/self/mem", "/dev/zero", self.text()]),
                 "kind": r.choice(["block", "allow", "deny", 5])}
            for k in ("syntax", "mode", "ttl", "ipv4", "ipv6"):
                if r.random() < 0.3:
                    b[k] = r.choice([self.text(10), self.number(), "hosts", "adblock", "nxdomain",
                                     "0.0.0.0", "::", "x" * 80])
        elif path in ("/api/allowlist", "/api/blocklist"):
            b = {"domain": self.domain()}
        elif path == "/api/groups":
            b = {"name": r.choice(["g%d" % r.randrange(10), self.text(10), "x" * 70]),
                 "clients": r.choice([["10.9.%d.0/24" % r.randrange(256)], [], ["10.0.0.0/33"],
                                      ["::/0", "0.0.0.0/0"], ["a,b"], [self.text(20)] * 3,
                                      ["10.1.0.0/24"] * 300, "10.0.0.0/8", None])}
            if r.random() < 0.5:
                b["lists"] = r.choice([[], ["fz1"], ["nope"], [5], ["a,b"], ["x" * 100], "fz1"])
        elif path == "/api/blocking/pause":
            b = {r.choice(["minutes", "seconds"]): self.number()}
        else:
            b = {}
        if r.random() < 0.3:
            b[r.choice(["extra", "", "record", "\u00e9"])] = self.value()
        if r.random() < 0.2 and b:
            b.pop(r.choice(list(b)))
        if r.random() < 0.2 and b:
            b[r.choice(list(b))] = self.value()
        return b

    def body(self, path):
        """Bytes of a request body: mostly JSON, some of it broken on purpose."""
        r = self.rng
        k = r.randrange(14)
        if k <= 5:
            return json.dumps(self.good_ish(path)).encode()
        if k == 6:
            return json.dumps(self.value()).encode()
        if k == 7:  # deep nesting
            d = r.choice([10, 100, 3000, 20000])
            return ("[" * d + "]" * d).encode() if r.random() < 0.5 else \
                ('{"a":' * d + "1" + "}" * d).encode()
        if k == 8:  # NUL and invalid UTF-8
            return r.choice([b'{"record":"a\\u0000b.test A 192.0.2.1"}', b'{"domain":"\xff\xfe.test"}',
                             b'{"domain":"\xed\xa0\x80.test"}', b'{"dom\x00ain":"x.test"}',
                             b'{"domain":"\\ud800.test"}', b"\xef\xbb\xbf{}", b"\x00" * 16])
        if k == 9:  # huge strings / many keys
            n = r.choice([70000, 300000])
            if r.random() < 0.5:
                return json.dumps({FIELDS.get(path, ["x"])[0]: "a" * n}).encode()
            return json.dumps({"k%d" % i: i for i in range(n // 20)}).encode()
        if k == 10:  # truncated / trailing garbage / duplicate keys
            s = json.dumps(self.good_ish(path))
            return r.choice([s[: r.randrange(len(s) + 1)], s + "}", s + " x",
                             '{"domain":"a.test","domain":"b.test"}']).encode()
        if k == 11:  # numbers out of range
            return r.choice([b'{"minutes": 1e999}', b'{"minutes": 99999999999999999999999}',
                             b'{"seconds": -99999999999999999999}', b'{"ttl": 1e-400}',
                             b'{"minutes": NaN}', b'{"minutes": Infinity}'])
        if k == 12:
            return b""
        return bytes(r.randrange(256) for _ in range(r.randrange(1, 200)))

    def path(self, route_path):
        r = self.rng
        p = route_path
        if p.endswith("NAME"):
            p = p[:-4] + r.choice([
                "f1.fuzz.test", "fz1", "g1", "ok-1.fuzz.test", "", "..%2f..%2fetc%2fpasswd",
                "../../etc/passwd", "%00", "a%00b", "%ff%fe", "x" * 300, "a/b/c", "%25",
                "%2e", "UPPER.Test.", "f1.fuzz.test?type=A", "f1.fuzz.test?type=%00",
                "name?type=" + "A" * 200, self.text(20)])
        k = r.randrange(12)
        if k == 0:
            p += "?" + "&".join("%s=%s" % (self.text(4), self.text(6)) for _ in range(r.randrange(1, 6)))
        elif k == 1 and route_path == "/api/querylog":
            p += "?" + "&".join("%s=%s" % (a, r.choice(v)) for a, v in [
                ("client", ["10.53.0.2", "10.0.0.0/8", "::/129", "hidden", "1.2.3.4/-1", "x" * 200]),
                ("domain", ["example.com", "..", "\\000", "x" * 300, "%00"]),
                ("status", ["blocked,cached", ",", "bogus", "x," * 200]),
                ("type", ["A", "TYPE99999", "-1", "65536", "aaaa"]),
                ("limit", ["0", "1", "10000", "10001", "-1", "99999999999999999999", "1e3"]),
            ] if r.random() < 0.6)
        elif k == 2 and route_path == "/api/stats/top":
            p += "?kind=%s&n=%s" % (r.choice(["domains", "blocked", "clients", "", "x"]),
                                    r.choice(["0", "1", "100", "101", "-5", "abc", "4294967297"]))
        elif k == 3:
            p = r.choice(["/api/records/../../etc/passwd", "/api/%2e%2e/records", "//api//records",
                          "/api/records/", "/api/records%00/x", "/api", "/api/", "/", "*",
                          "/API/RECORDS", "/api/records;x", "/metrics/../health",
                          "/" + "a" * r.choice([2000, 9000, 70000]),
                          "/api/cache/" + "a." * 200, "http://127.0.0.1/api/records",
                          "/api/records#frag", "/api/records?" + "a=1&" * 2000])
        return p


def http_request(data, timeout=40.0, read=True, half_close=False):
    """Send raw bytes; return (status, headers dict, body bytes), or None when the
    server closed without an answer. Requests say "Connection: close", so the
    answer ends when the server closes; half_close tells a server waiting for
    the rest of a truncated request that nothing more comes."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return None
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not c:
                break
            chunks.append(c)
    except (BrokenPipeError, ConnectionResetError):
        return None
    finally:
        s.close()
    return parse_response(b"".join(chunks))


def parse_response(raw):
    if not raw:
        return None
    while True:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        assert len(parts) >= 2 and parts[0].startswith(b"HTTP/1."), \
            "not an HTTP answer: %r" % raw[:200]
        # "100 Continue" (to Expect: 100-continue) comes before the answer.
        if not parts[1].startswith(b"1") or not body:
            break
        raw = body
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return int(parts[1]), headers, body


def build(method, path, body=b"", token="good", headers=(), version="HTTP/1.1"):
    h = ["Host: 127.0.0.1:%d" % PORT, "Connection: close"]
    if token == "good":
        h.append("Authorization: Bearer " + TOKEN)
    elif token is not None:
        h.append("Authorization: " + token)
    if body:
        h.append("Content-Type: application/json")
        h.append("Content-Length: %d" % len(body))
    h.extend(headers)
    req = ("%s %s %s\r\n" % (method, path, version)).encode("latin-1", "replace")
    req += "".join(x + "\r\n" for x in h).encode("utf-8", "surrogateescape") + b"\r\n"
    return req + body


class Checker:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.closed = 0
        self.slow = []

    def check(self, what, res, well_formed, path, method):
        with self.lock:
            if res is None:
                self.closed += 1
                if well_formed and len(path) < 1024 and method in ("GET", "POST", "DELETE"):
                    self.failures.append("%s: closed without an answer" % what)
                return
            status, headers, body = res
            self.counts[status] = self.counts.get(status, 0) + 1
            base = path.split("?")[0]
            if status == 503 and base == "/ready":
                pass
            elif status not in OK_STATUS:
                self.failures.append("%s: status %d %r" % (what, status, body[:300]))
                return
            ctype = headers.get("content-type", "")
            if ctype.startswith("application/json") and method != "HEAD":
                try:
                    json.loads(body)
                except ValueError:
                    self.failures.append("%s: %d with a body that is not JSON: %r"
                                         % (what, status, body[:300]))
            elif (well_formed and base.startswith("/api/") and method != "HEAD"
                  and status not in (413, 414, 431)):
                self.failures.append("%s: %d without a JSON body (%s) %r"
                                     % (what, status, ctype, body[:200]))


def one_request(fz, rng, checker, slow_left):
    route_method, route_path = rng.choice(ROUTES)
    if (route_method, route_path) in SLOW:
        with checker.lock:
            if slow_left[0] <= 0:
                route_method, route_path = "GET", "/api/records"
            else:
                slow_left[0] -= 1
    method = route_method if rng.random() < 0.7 else rng.choice(METHODS)
    path = fz.path(route_path)
    body = fz.body(route_path) if method in ("POST", "PUT", "PATCH") or rng.random() < 0.1 else b""
    token = rng.choice(["good"] * 6 + [None, "Bearer wrong", "Bearer " + TOKEN + "x",
                                        "bearer " + TOKEN, "Basic Zm9vOmJhcg==",
                                        "Bearer " + "t" * 6000, "Bearer", "Bearer  " + TOKEN])
    headers = []
    well_formed = "\x00" not in method and " " not in path and "#" not in path \
        and len(path) < 8000 and all(ord(c) > 32 for c in path)
    if rng.random() < 0.1:
        headers.append(rng.choice([
            "X-Big: " + "h" * rng.choice([1000, 9000, 70000]),
            "Content-Type: text/plain", "Expect: 100-continue", "Transfer-Encoding: gzip",
            "X-Nul: a\x00b", "NoColonHeader", "X-Utf8: \u00e9\u00e9", " Leading: space",
        ]))
        well_formed = False
    req = build(method, path, body, token=token, headers=headers)
    if len(body) > BODY_MAX:
        well_formed = False
    t = time.monotonic()
    # A malformed request may leave the server waiting for more (up to its
    # 30 s timeout): this client gives up sooner.
    res = http_request(req, timeout=40.0 if well_formed else 5.0)
    t = time.monotonic() - t
    if t > 5.0:
        with checker.lock:
            checker.slow.append("%.1f s: %s %s %r" % (t, method, path[:80], headers[:1]))
    checker.check("%s %s (body %d bytes: %r)" % (method, path[:120], len(body), body[:80]),
                  res, well_formed, path, method)


def raw_cases(rng):
    """Malformed HTTP framing: any 4xx or a close is fine, a crash is not."""
    long = "a" * 100000
    return [
        b"GET /health HTTP/1.1\r\nHost: x\r\n",                       # no final blank line
        b"GET /health HTTP/1.1\r\nHost",                              # cut in a header
        b"GET /heal",                                                 # cut in the line
        b"POST /api/records HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"rec",
        b"POST /api/records HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /api/records HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
        b"POST /api/records HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        b"POST /api/records HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
        ("POST /api/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
         "Content-Length: %d\r\n\r\n" % (TOKEN, BODY_MAX + 1)).encode() + b"{" * 1000,
        ("POST /api/blocklist HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
         "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % TOKEN).encode()
        + b"".join(b"%x\r\n%s\r\n" % (65536, b"a" * 65536) for _ in range(18)) + b"0\r\n\r\n",
        ("POST /api/blocklist HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
         "Transfer-Encoding: chunked\r\n\r\n" % TOKEN).encode() + b"zz\r\nabc\r\n0\r\n\r\n",
        b"POST /api/blocklist HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\na",
        b"GET / HTTP/9.9\r\n\r\n", b"GET /health\r\n\r\n", b"\r\n\r\n\r\n", b"\x16\x03\x01\x02\x00\x01",
        b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 3000 + b"\r\n",
        ("GET /health HTTP/1.1\r\nX-Long: %s\r\n\r\n" % long).encode(),
        ("GET /%s HTTP/1.1\r\n\r\n" % long).encode(),
        b"GET /health HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n",
        b"GET /health HTTP/1.0\r\n\r\nGET /ready HTTP/1.1\r\n\r\n",
        b"GET /health HTTP/1.1\nHost: x\n\n",
        b"\x00\x01\x02\x03" * 100,
        bytes(rng.randrange(256) for _ in range(3000)),
    ]


def test_api_fuzz(start_heimdall, agent, tmp_path):
    print("api fuzz seed %d (HD_FUZZ_SEED=%d reproduces it)" % (SEED, SEED))
    rng = random.Random(SEED)
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    state = tmp_path / "state"
    args = ["--listen", hd.V4, "--upstream", hd.UPSTREAM, "--http-port", str(PORT),
            "--api-token-file", str(tok), "--state-dir", str(state),
            "--list-dir", str(tmp_path / "lists")]
    h = start_heimdall("api-fuzz", args, listen=(hd.V4,))
    checker = Checker()

    # Odd query names, so that the query log holds names with dots and escapes.
    for labels in ([b"a.b", b"c\\d", b"fuzz", b"test"], [b"\x00\xff\"", b"test"],
                   [b"x" * 63] * 3 + [b"test"]):
        agent.query(hd.V4, dnsutil.make_query(dns.name.Name(labels + [b""]), "A"), timeout=1.0)

    t0 = time.monotonic()
    slow_left = [SLOW_MAX]
    seeds = [rng.randrange(2 ** 32) for _ in range(REQUESTS)]

    def run(i):
        r = random.Random(seeds[i])
        one_request(Fuzzer(r), r, checker, slow_left)

    with ThreadPoolExecutor(WORKERS) as ex:
        list(ex.map(run, range(REQUESTS)))
    t_fuzz = time.monotonic() - t0
    print("api fuzz: %d requests in %.1f s, statuses %s, closed without answer %d"
          % (REQUESTS, t_fuzz, dict(sorted(checker.counts.items())), checker.closed))
    print("slow requests (> 5 s): %d\n  %s" % (len(checker.slow), "\n  ".join(checker.slow[:20])))
    assert h.alive(), "heimdall died during the request fuzz\n" + h.logs()

    # Malformed framing and truncated requests.
    for raw in raw_cases(rng):
        res = http_request(raw, timeout=5.0, half_close=True)
        if res is not None:
            status = res[0]
            # 505 is libmicrohttpd's own answer to an HTTP version it does not speak.
            ok = OK_STATUS | ({505} if b"HTTP/9.9" in raw[:40] else set())
            assert status in ok, "raw %r -> %d %r" % (raw[:80], status, res[2][:200])
        assert h.alive(), "heimdall died on raw request %r\n%s" % (raw[:80], h.logs())
    for raw in raw_cases(rng)[:6]:   # and closed before any answer is read
        http_request(raw, read=False)

    # Slowloris, bounded: 16 connections trickle a header for ~4 s while
    # normal requests must still be answered.
    stop = threading.Event()

    def trickle():
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\n")
            while not stop.is_set():
                s.sendall(b"X-Slow: a\r\n")
                stop.wait(0.5)
            s.close()
        except OSError:
            pass

    slow = [threading.Thread(target=trickle) for _ in range(16)]
    for t in slow:
        t.start()
    time.sleep(0.5)
    for _ in range(5):
        res = http_request(build("GET", "/health"))
        assert res is not None and res[0] == 200, "no /health answer during slowloris: %r" % (res,)
    stop.set()
    for t in slow:
        t.join()

    # More connections than the limit: some are refused or dropped; once they
    # are gone the server answers again at once.
    held = []
    for _ in range(CONN_LIMIT + 40):
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        except OSError:
            pass
    assert h.alive()
    for s in held:
        s.close()
    deadline = time.monotonic() + 10
    res = None
    while time.monotonic() < deadline:
        try:
            res = http_request(build("GET", "/health"), timeout=3)
        except OSError:
            res = None
        if res is not None and res[0] == 200:
            break
        time.sleep(0.2)
    assert res is not None and res[0] == 200, "no answer after the connection flood: %r" % (res,)

    assert not checker.failures, "%d bad answers (seed %d), first ones:\n%s" % (
        len(checker.failures), SEED, "\n".join(checker.failures[:15]))
    assert t_fuzz < BUDGET_S * 3, "the requests took %.0f s" % t_fuzz

    # Still alive and serving DNS and health.
    assert h.alive(), h.logs()
    r, _ = agent.query(hd.V4, dnsutil.make_query("ready.heimdall.test.", "A"), timeout=2.0)
    assert r is not None and r.answer, "DNS does not answer after the fuzz"
    res = http_request(build("GET", "/health"))
    assert res is not None and res[0] == 200 and json.loads(res[2])["status"] == "ok", res

    # The state file is JSON, and a restart loads it (nothing set aside).
    sf = state / "state.json"
    if sf.exists():
        doc = json.loads(sf.read_text())
        assert doc.get("format") == 1 and isinstance(doc.get("version"), int), doc
    h2 = start_heimdall("api-fuzz-restart", args, listen=(hd.V4,))
    res = http_request(build("GET", "/api/records"))
    assert res is not None and res[0] == 200, res
    bad = sorted(p.name for p in state.glob("*.bad")) if state.exists() else []
    assert not bad, "the state the API accepted did not load again: %s\n%s" % (bad, h2.logs())
    if sf.exists():
        api_records = [x for x in json.loads(res[2])["records"] if x["origin"] == "api"]
        assert len(api_records) == len(doc.get("records", [])), (api_records, doc)
    for f in (h.stderr_path, h2.stderr_path):
        with open(f, errors="replace") as fh:
            text = fh.read()
        assert "AddressSanitizer" not in text and "runtime error:" not in text, text[-3000:]


class HostileRedis:
    """A "Redis" on 127.0.0.1 that answers anything with the start of a reply
    that never ends: a 1 GiB bulk string, or an array of 10^9 integers. It
    sends at most LIMIT bytes per connection and counts what it could send
    before heimdall closed the connection."""

    LIMIT = 96 << 20

    def __init__(self, kind):
        self.kind = kind
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.sent = []          # bytes sent on each connection, once it ended
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._conn, args=(c,), daemon=True).start()

    def _conn(self, c):
        n = 0
        c.settimeout(5)
        try:
            c.recv(4096)
            if self.kind == "bulk":
                head, piece = b"$1073741824\r\n", b"a" * 65536
            else:
                head, piece = b"*1000000000\r\n", b":1\r\n" * 16384
            c.sendall(head)
            while n < self.LIMIT and not self.stop.is_set():
                c.sendall(piece)
                n += len(piece)
        except OSError:
            pass
        finally:
            self.sent.append(n)
            c.close()

    def close(self):
        self.stop.set()
        self.sock.close()


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.parametrize("kind", ["bulk", "array"])
def test_endless_redis_reply_is_cut_off(start_heimdall, agent, tmp_path, kind):
    """A server that sends one endless reply: heimdall closes the connection
    after a bounded amount (lib/replica/conn.c IN_MAX, 8 MiB) instead of
    buffering it, keeps answering DNS, and tries again later."""
    srv = HostileRedis(kind)
    try:
        h = start_heimdall("hostile-redis-" + kind, [
            "--listen", hd.V4, "--upstream", hd.UPSTREAM, "--http-port", "0",
            "--redis", "redis://127.0.0.1:%d" % srv.port, "--redis-timeout-ms", "50"],
            listen=(hd.V4,))
        rss0 = _rss_kb(h.proc.pid)
        deadline = time.monotonic() + 20
        while len(srv.sent) < 2 and time.monotonic() < deadline:
            r, _ = agent.query(hd.V4, dnsutil.make_query("ready.heimdall.test.", "A"), timeout=2.0)
            assert r is not None and r.answer, "no DNS answer while Redis floods"
            time.sleep(0.5)
        assert h.alive(), h.logs()
        grown = _rss_kb(h.proc.pid) - rss0
        print("hostile redis (%s): sent per connection %s bytes; RSS grew %d KiB"
              % (kind, srv.sent, grown))
        assert srv.sent, "heimdall never closed the connection of the endless reply"
        assert max(srv.sent) < HostileRedis.LIMIT, srv.sent
        assert max(srv.sent) < 32 << 20, "read %d bytes of one reply" % max(srv.sent)
    finally:
        srv.close()
