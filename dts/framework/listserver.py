# SPDX-License-Identifier: BSD-3-Clause
"""A list server on loopback: python's http.server in a thread, serving the
files of a temporary directory, so heimdall can download a blocklist from a
URL that a test edits, removes (404) or takes down (connection refused)."""

import http.server
import os
import shutil
import tempfile
import threading
import time


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_request(self, code="-", size="-"):
        # Remember what was fetched and how it went, instead of printing it.
        self.server.owner._record(self.path, code)

    def log_message(self, fmt, *args):
        pass


class ListServer:
    """Serves DIR on http://127.0.0.1:PORT/ (PORT chosen by the kernel)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hd-dts-lists-")
        self.lock = threading.Lock()
        self.log = []
        self._mtime = 0.0
        self.port = None
        self.httpd = None
        self.thread = None
        self.start()

    def start(self):
        """Serve (again, on the same port after stop())."""
        handler = lambda *a, **kw: _Handler(*a, directory=self.dir, **kw)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        """Close the socket: downloads now fail with "connection refused"."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.httpd = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def put(self, name, text):
        """Publish a list (replaced atomically: a download sees old or new, whole)."""
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        # Each version gets a later mtime than the one before, even within one
        # second: http.server answers If-Modified-Since with 304 by whole
        # seconds, and a client using it must see every edit as new.
        with self.lock:
            self._mtime = max(time.time(), self._mtime + 1.0)
            mtime = self._mtime
        os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)

    def remove(self, name):
        """The URL now answers 404."""
        os.unlink(os.path.join(self.dir, name))

    def _record(self, path, code):
        with self.lock:
            self.log.append((path, str(code)))

    def requests(self, name=None):
        """[(path, status)] of the requests served so far (for one list if name)."""
        with self.lock:
            return [r for r in self.log if name is None or r[0].lstrip("/").split("?")[0] == name]
