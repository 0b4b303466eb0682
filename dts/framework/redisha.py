# SPDX-License-Identifier: BSD-3-Clause
"""Redis set-ups beyond framework/redis.py's plain server: TLS and Sentinel.

TlsRedis: redis-server with only a TLS port on 127.0.0.1, a CA and a server
certificate (DNS:localhost, IP:127.0.0.1) made with openssl for the run.
Sentinels: a master, a replica and three redis-sentinel on 127.0.0.1, each in
a temporary directory, all killed by close(). Commands go through redis-cli,
so what the suites check is what an operator would see.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"


def _wait_port(port, proc, log, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("process for port %d exited with %s\n%s" % (
                port, proc.returncode, _tail(log)))
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("nothing listening on %s:%d after %.0f s\n%s" % (HOST, port, timeout,
                                                                        _tail(log)))


def _tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "--- %s\n%s" % (path, "".join(f.readlines()[-lines:]))
    except OSError:
        return ""


def _kill(proc):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


class _Dir:
    def __init__(self, prefix):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.procs = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def spawn(self, cmd, port, log):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=self.dir)
        self.procs.append(p)
        _wait_port(port, p, log)
        return p

    def close(self):
        for p in self.procs:
            _kill(p)
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsRedis(_Dir):
    """redis-server --tls-port PORT --port 0 with certificates of its own."""

    def __init__(self, port, password=None):
        super().__init__("hd-dts-redis-tls-")
        self.port = port
        self.password = password
        self.ca = self.path("ca.pem")
        self._certs()

    def _certs(self):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = lambda *a: subprocess.run(list(a), cwd=self.dir, check=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=hd-dts-ca")
        run("openssl", "req", *ec, "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=localhost")
        with open(self.path("ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")

    def url(self, host=HOST, db=0):
        auth = ":%s@" % self.password if self.password else ""
        return "rediss://%s%s:%d/%d" % (auth, host, self.port, db)

    def start(self):
        log = self.path("redis.log")
        cmd = ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", HOST,
               "--tls-cert-file", self.path("srv.pem"), "--tls-key-file", self.path("srv.key"),
               "--tls-ca-cert-file", self.ca, "--tls-auth-clients", "no", "--save", "",
               "--appendonly", "no", "--dir", self.dir, "--logfile", log]
        if self.password:
            cmd += ["--requirepass", self.password]
        self.spawn(cmd, self.port, log)
        return self

    def cli(self, *args):
        """redis-cli over TLS, checking the server with our CA; stdout as text."""
        cmd = ["redis-cli", "--tls", "--cacert", self.ca, "-h", HOST, "-p", str(self.port)]
        env = dict(os.environ)
        if self.password:
            env["REDISCLI_AUTH"] = self.password
        r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                           timeout=10, env=env)
        if r.returncode != 0:
            raise RuntimeError("redis-cli %s: %s" % (args, r.stderr))
        return r.stdout.strip()


class Sentinels(_Dir):
    """A master, one replica and three Sentinels watching them as MASTER_NAME."""

    def __init__(self, master_port, replica_port, sentinel_ports, name):
        super().__init__("hd-dts-sentinel-")
        self.ports = {"master": master_port, "replica": replica_port}
        self.sentinel_ports = list(sentinel_ports)
        self.name = name
        self.servers = {}

    def _redis(self, role, port, replicaof=None):
        log = self.path("%s.log" % role)
        cmd = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
               "--appendonly", "no", "--dir", self.dir, "--logfile", log,
               "--dbfilename", "%s.rdb" % role]
        if replicaof:
            cmd += ["--replicaof", HOST, str(replicaof)]
        self.servers[role] = self.spawn(cmd, port, log)

    def _sentinel(self, port):
        conf = self.path("sentinel-%d.conf" % port)
        with open(conf, "w") as f:
            f.write("port %d\nbind %s\ndir %s\n" % (port, HOST, self.dir))
            f.write("sentinel monitor %s %s %d 2\n" % (self.name, HOST, self.ports["master"]))
            f.write("sentinel down-after-milliseconds %s 1000\n" % self.name)
            f.write("sentinel failover-timeout %s 5000\n" % self.name)
            f.write("sentinel parallel-syncs %s 1\n" % self.name)
        log = self.path("sentinel-%d.log" % port)
        self.spawn(["redis-sentinel", conf, "--logfile", log], port, log)

    def start(self, timeout=15.0):
        self._redis("master", self.ports["master"])
        self._redis("replica", self.ports["replica"], replicaof=self.ports["master"])
        for p in self.sentinel_ports:
            self._sentinel(p)
        # Ready once every Sentinel knows the replica and its peers (quorum 2).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._sentinel_ready(p) for p in self.sentinel_ports):
                return self
            time.sleep(0.2)
        raise RuntimeError("Sentinels not ready after %.0f s\n%s" % (
            timeout, _tail(self.path("sentinel-%d.log" % self.sentinel_ports[0]))))

    def _sentinel_ready(self, port):
        out = cli(port, "SENTINEL", "master", self.name)
        fields = out.split("\n")
        kv = dict(zip(fields[0::2], fields[1::2]))
        return kv.get("num-slaves") == "1" and kv.get("num-other-sentinels") == "2"

    def sentinel_master(self, port=None):
        """The master address a Sentinel gives, "IP:PORT"."""
        out = cli(port or self.sentinel_ports[0], "SENTINEL", "get-master-addr-by-name",
                  self.name).split("\n")
        return "%s:%s" % (out[0], out[1]) if len(out) == 2 else None

    def kill(self, role):
        _kill(self.servers.pop(role))

    def sentinel_logs(self):
        return "\n".join(_tail(self.path("sentinel-%d.log" % p)) for p in self.sentinel_ports)


def cli(port, *args):
    r = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise RuntimeError("redis-cli -p %d %s: %s" % (port, args, r.stderr))
    return r.stdout.strip()
