# SPDX-License-Identifier: BSD-3-Clause
"""A private redis-server on 127.0.0.1 for the cluster suite, and a tiny client.

The server keeps nothing on disk (--save "" --appendonly no) and runs in a
temporary directory of its own; kill() and start() again give a test "Redis
died and came back" on the same port. The client speaks RESP over a socket,
so values are binary-safe (a planted value may hold any byte).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PORT = 6391
HOST = "127.0.0.1"


class RedisError(RuntimeError):
    pass


class Client:
    """One RESP connection; command() returns bytes, int, list, None, or raises RedisError."""

    def __init__(self, port=PORT, password=None, timeout=2.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""
        if password is not None:
            self.command("AUTH", password)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def command(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self._reply()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RedisError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line)


def _port_free(port):
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) != 0


class RedisServer:
    """redis-server on 127.0.0.1:PORT, optionally with --requirepass."""

    def __init__(self, port=PORT, password=None):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise FileNotFoundError(
                "redis-server not found: the cluster suite needs Debian's redis-server "
                "package (scripts/deps.sh installs it: apt-get install redis-server)")
        self.port = port
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="hd-dts-redis-")
        self.proc = None
        self.log_path = os.path.join(self.dir, "redis.log")

    def url(self, password=None, db=0):
        """The --redis value; password overrides the server's (a wrong one for a test)."""
        pw = password if password is not None else self.password
        auth = ":%s@" % pw if pw is not None else ""
        return "redis://%s%s:%d/%d" % (auth, HOST, self.port, db)

    def start(self, timeout=10.0):
        if not _port_free(self.port):
            raise RuntimeError("127.0.0.1:%d is already in use: a stale redis-server of an "
                               "earlier run? (ss -ltnp 'sport = :%d')" % (self.port, self.port))
        cmd = [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "",
               "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
               "--logfile", self.log_path]
        if self.password is not None:
            cmd += ["--requirepass", self.password]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited with %s at start\n%s"
                                   % (self.proc.returncode, self.log()))
            try:
                with self.client() as c:
                    if c.command("PING") == b"PONG":
                        return self
            except (OSError, RedisError):
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("redis-server on port %d not answering after %.0f s\n%s"
                           % (self.port, timeout, self.log()))

    def client(self):
        return Client(self.port, self.password)

    def command(self, *args):
        with self.client() as c:
            return c.command(*args)

    def kill(self):
        """SIGKILL, as a crash: the clients see their connection reset."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "--- %s\n%s" % (self.log_path, "".join(f.readlines()[-20:]))
        except OSError:
            return ""

    def close(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
