# SPDX-License-Identifier: BSD-3-Clause
"""A small client of heimdall's REST API (docs/api.md) for the api and
hotreload suites: JSON in and out, the token as a Bearer header."""

import json
import urllib.error
import urllib.request


class Api:
    def __init__(self, port, token=None, host="127.0.0.1"):
        self.base = "http://%s:%d" % (host, port)
        self.token = token

    def call(self, method, path, body=None, token="default", timeout=35.0):
        """(status, decoded JSON body or None). token=None sends no header."""
        tok = self.token if token == "default" else token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if tok is not None:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def ok(self, method, path, body=None, expect=(200, 201)):
        """A call that must succeed; returns the body."""
        status, got = self.call(method, path, body)
        assert status in expect, "%s %s %s -> %s %s" % (method, path, body, status, got)
        return got
