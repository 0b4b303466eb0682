# SPDX-License-Identifier: BSD-3-Clause
"""Starting and stopping the real heimdall binary for the suites."""

import glob
import itertools
import os
import shutil
import signal
import subprocess
import time

from . import dnsutil
from .telemetry import Telemetry, socket_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "dts", "out")

# The testbed of scripts/testnet.sh.
AFXDP_IF = "hd-srv"
AFPACKET_IF = "hd-srv2"
V4, V6 = "10.53.0.1", "fd53::1"
V4_2, V6_2 = "10.54.0.1", "fd54::1"
UPSTREAM = "127.0.0.1:5300"

_seq = itertools.count(1)


def binary():
    path = os.environ.get("HEIMDALL_BIN", os.path.join(ROOT, "build", "app", "heimdall", "heimdall"))
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            "heimdall binary %s not found: build it (meson setup build && ninja -C build) "
            "or set HEIMDALL_BIN" % path)
    return path


def eal_args(vdev, prefix):
    args = ["-l", "0-1", "--no-pci", "--vdev=" + vdev]
    return args + ["--file-prefix", prefix] if prefix else args


def afxdp_vdev(iface=AFXDP_IF):
    return "net_af_xdp0,iface=" + iface


def afpacket_vdev(iface=AFPACKET_IF):
    return "net_af_packet0,iface=" + iface


def wait_or_kill(proc, timeout):
    """Wait for @p proc to exit; kill it after @p timeout. Its exit code, None if killed."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


class Heimdall:
    """One heimdall process: EAL options, "--", heimdall options."""

    def __init__(self, name, vdev, args, listen=(V4, V6), ready_name="ready.heimdall.test.",
                 prefix="auto"):
        self.name = name
        self.seq = next(_seq)
        # A prefix of its own keeps its telemetry socket and hugepage files apart;
        # prefix=None runs it as a user would, with heimdall's default "heimdall".
        given = "hd-dts-%d-%d" % (os.getpid(), self.seq) if prefix == "auto" else prefix
        self.prefix = given or "heimdall"
        self.vdev = vdev
        self.args = list(args)
        self.listen = list(listen)
        self.ready_name = ready_name
        self.proc = None
        self.rc = None
        self.stopped = False
        os.makedirs(OUT_DIR, exist_ok=True)
        base = os.path.join(OUT_DIR, "%02d-%s" % (self.seq, name))
        self.stdout_path = base + ".stdout"
        self.stderr_path = base + ".stderr"
        self.cmd = [binary()] + eal_args(vdev, given) + ["--"] + self.args

    def start(self):
        self._out = open(self.stdout_path, "w")
        self._err = open(self.stderr_path, "w")
        self._out.write("# %s\n" % " ".join(self.cmd))
        self._out.flush()
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def logs(self, lines=40):
        out = []
        for p in (self.stdout_path, self.stderr_path):
            try:
                with open(p, errors="replace") as f:
                    tail = f.readlines()[-lines:]
                out.append("--- %s\n%s" % (p, "".join(tail)))
            except OSError:
                pass
        return "\n".join(out)

    def wait_ready(self, agent, timeout=60.0):
        """Until telemetry answers and each listen address answers a query, or the process dies."""
        deadline = time.monotonic() + timeout
        pending = list(self.listen)
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("heimdall %s exited with %s while starting\n%s" % (
                    self.name, self.proc.returncode, self.logs()))
            if os.path.exists(socket_path(self.prefix)) and agent is not None:
                for addr in list(pending):
                    r, _ = agent.query(addr, dnsutil.make_query(self.ready_name, "A"), timeout=0.5)
                    if r is not None:
                        pending.remove(addr)
                if not pending:
                    return self
            elif agent is None and os.path.exists(socket_path(self.prefix)):
                return self
            time.sleep(0.2)
        raise RuntimeError("heimdall %s not answering on %s after %.0f s\n%s" % (
            self.name, ", ".join(pending), timeout, self.logs()))

    def telemetry(self):
        return Telemetry(self.prefix)

    def stats(self):
        with self.telemetry() as t:
            return t.cmd("/heimdall/stats")

    def stop(self, timeout=20.0):
        """SIGTERM, wait; return the exit code (None if it had to be killed)."""
        if self.proc is None or self.stopped:
            return self.rc
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            rc = wait_or_kill(self.proc, timeout)
        self._out.close()
        self._err.close()
        self._cleanup_runtime()
        self.rc, self.stopped = rc, True
        return rc

    def _cleanup_runtime(self):
        # DPDK leaves its runtime directory and, after a kill, hugepage files.
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        for f in glob.glob("/dev/hugepages/%smap_*" % self.prefix):
            try:
                os.unlink(f)
            except OSError:
                pass


class Servers:
    """At most one heimdall runs at a time (they would share interfaces and cores).

    default() gives the standard af_xdp server, restarting it only when another
    instance took its place; start() replaces whatever runs with a custom one.
    Every stop must be a clean exit (code 0 within 20 s).
    """

    def __init__(self, agent):
        self.agent = agent
        self.current = None
        self.is_default = False

    def default_args(self):
        return ["--listen", V4, "--listen", V6, "--upstream", UPSTREAM]

    def default(self, fresh=False):
        if self.current is not None and self.is_default and self.current.alive() and not fresh:
            return self.current
        self.stop_current()
        h = Heimdall("default", afxdp_vdev(), self.default_args())
        self._run(h)
        self.is_default = True
        return h

    def start(self, name, args, vdev=None, listen=(V4, V6), ready=True, prefix="auto"):
        self.stop_current()
        h = Heimdall(name, vdev or afxdp_vdev(), args, listen=listen, prefix=prefix)
        self._run(h, ready)
        self.is_default = False
        return h

    def _run(self, h, ready=True):
        self.current = h
        h.start()
        if ready:
            try:
                h.wait_ready(self.agent)
            except Exception:
                h.stop()
                self.current = None
                raise

    def stop_current(self):
        h, self.current = self.current, None
        if h is not None:
            self.assert_clean_stop(h)

    def stop(self, h):
        """Stop h now (a test that checks what happens at exit)."""
        if self.current is h:
            self.current = None
        self.assert_clean_stop(h)

    @staticmethod
    def assert_clean_stop(h):
        if h.stopped:
            assert h.rc == 0, "heimdall %s: exit %s\n%s" % (h.name, h.rc, h.logs())
            return
        was_alive = h.alive()
        rc = h.stop()
        assert was_alive, "heimdall %s had died before it was stopped (exit %s)\n%s" % (
            h.name, h.proc.returncode, h.logs())
        assert rc == 0, "heimdall %s: exit %s on SIGTERM, expected 0\n%s" % (h.name, rc, h.logs())
