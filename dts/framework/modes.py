# SPDX-License-Identifier: BSD-3-Clause
"""Test modes that need no veth of the shared test bed: tap (a net_tap vdev whose
kernel side is moved into a namespace of its own) and virtio_user (paired with
dpdk-testpmd's net_vhost replaying a pcap)."""

import glob
import json
import os
import shutil
import subprocess
import time

from . import heimdall as hd
from .agent import NsAgent


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, timeout=30)


def link_mac(dev, netns=None):
    cmd = ["ip"] + (["-n", netns] if netns else []) + ["-j", "link", "show", "dev", dev]
    return json.loads(sh(*cmd).stdout)[0]["address"]


def start_heimdall(servers, name, args, vdev, listen, eal_extra=()):
    """servers.start() with extra EAL options (e.g. -m), not waiting for DNS answers
    (the test reaches heimdall through a path of its own)."""
    servers.stop_current()
    h = hd.Heimdall(name, vdev, args, listen=listen)
    sep = h.cmd.index("--")
    h.cmd[sep:sep] = list(eal_extra)
    servers.current, servers.is_default = h, False
    h.start()
    return h


def wait_started(h, timeout=30.0):
    """Until heimdall's telemetry answers /heimdall/config: its ports are set up and its
    services registered. /heimdall/stats is no sign of that: lib/stats registers it at
    EAL init, before the ports, and the socket itself appears then too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not h.alive():
            raise RuntimeError("heimdall %s exited with %s while starting\n%s" % (
                h.name, h.proc.returncode, h.logs()))
        try:
            with h.telemetry() as t:
                if t.cmd("/heimdall/config") is not None:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError("heimdall %s: no telemetry after %.0f s\n%s" % (h.name, timeout, h.logs()))


class TapNs:
    """The kernel side of heimdall's net_tap port, moved into namespace `netns` with
    the client addresses, so clients there reach heimdall only through the tap.

    Move it only once heimdall started the port: the tap PMD brings the interface
    up by name in heimdall's namespace when the port starts.
    """

    def __init__(self, netns, iface, addrs, mac=None):
        self.netns = netns
        self.iface = iface
        self.addrs = list(addrs)  # "10.55.0.2/24", "fd55::2/64"
        # The tap PMD gives the kernel side the port's own MAC; a MAC of its own
        # makes "who answered ARP" visible in the neighbour table.
        self.mac = mac
        self.agent = None

    def up(self):
        self.down()
        sh("ip", "netns", "add", self.netns)
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        sh("ip", "link", "set", "dev", self.iface, "netns", self.netns)
        if self.mac:
            sh("ip", "-n", self.netns, "link", "set", "dev", self.iface, "address", self.mac)
        for a in self.addrs:
            extra = ["nodad"] if ":" in a else []
            sh("ip", "-n", self.netns, "addr", "add", a, "dev", self.iface, *extra)
        sh("ip", "-n", self.netns, "link", "set", "dev", self.iface, "up")
        self.agent = NsAgent(self.netns)
        return self

    def neigh(self, addr):
        out = sh("ip", "-n", self.netns, "-j", "neigh", "show", "to", addr, "dev", self.iface).stdout
        entries = json.loads(out)
        return entries[0].get("lladdr") if entries else None

    def neigh_flush(self):
        sh("ip", "-n", self.netns, "neigh", "flush", "dev", self.iface)

    def kdig(self, server, name, rdtype="A", tcp=False):
        """+short answer lines of kdig run inside the namespace."""
        cmd = ["ip", "netns", "exec", self.netns, "kdig", "@" + server, name, rdtype,
               "+short", "+timeout=2", "+retry=1"] + (["+tcp"] if tcp else [])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
        if p.returncode != 0:
            raise AssertionError("kdig @%s %s %s: %s%s" % (server, name, rdtype, p.stdout, p.stderr))
        return p.stdout.split()

    def down(self):
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        names = sh("ip", "netns", "list").stdout.split()
        if self.netns in names:
            sh("ip", "netns", "del", self.netns, check=False)


TESTPMD = "/usr/bin/dpdk-testpmd"


class TestPmd:
    __test__ = False  # not a pytest test class
    """dpdk-testpmd with a net_vhost port (the vhost-user server, socket `sock`) and
    a pcap port (rx_pcap=`rx_pcap`, tx_pcap=`tx_pcap`) in io forwarding: what the
    pcap holds goes to the virtio_user side, what comes back is written to tx_pcap.

    Interactive over a pipe, so forwarding starts only when the test says
    `start` (the pcap PMD reads its file once: a replay before the virtio_user
    side is connected would be lost).
    """

    def __init__(self, sock, rx_pcap, tx_pcap, prefix, out_path, lcores="0@0,1@0"):
        self.sock = sock
        self.tx_pcap = tx_pcap
        self.prefix = prefix
        self.out_path = out_path
        # Its forwarding thread shares CPU 0 with heimdall's main lcore (which sleeps
        # in epoll when idle), leaving CPU 1 to heimdall's worker.
        self.cmd = [TESTPMD, "--lcores=" + lcores, "--no-pci", "-m", "64",
                    "--file-prefix=" + prefix,
                    "--vdev=net_vhost0,iface=%s,queues=1" % sock,
                    "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (rx_pcap, tx_pcap),
                    # --no-flush-rx: testpmd drains every RX queue when forwarding
                    # starts, which would swallow the whole pcap unseen.
                    "--", "-i", "--forward-mode=io", "--no-flush-rx", "--total-num-mbufs=2048",
                    "--nb-cores=1", "--rxq=1", "--txq=1"]
        self.proc = None

    def start(self, timeout=20.0):
        self._out = open(self.out_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=self._out,
                                     stderr=subprocess.STDOUT, text=True)
        self.wait_output("testpmd> ", timeout)
        return self

    def output(self):
        try:
            with open(self.out_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_output(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("testpmd: no %r after %.0f s (rc %s): %s\n%s" % (
            text, timeout, self.proc.poll(), " ".join(self.cmd), self.output()[-3000:]))

    def vhost_ready(self, timeout=10.0, settle=0.5):
        """Until the virtio_user side is connected with both rings enabled, and has
        stayed so for `settle` s. heimdall's memory growing after its port started
        makes virtio_user pause the rings and send a new memory table: frames
        forwarded meanwhile are dropped by the vhost port."""
        deadline = time.monotonic() + timeout
        stable_since, last = None, None
        while time.monotonic() < deadline:
            out = self.output()
            state = {}
            for line in out.splitlines():
                if "set queue enable:" in line:
                    words = line.split()
                    # "... set queue enable: 1 to qp idx: 0"
                    state[words[-1]] = words[words.index("enable:") + 1]
            ok = "virtio is now ready for processing" in out and state == {"0": "1", "1": "1"}
            if ok and out == last:
                if stable_since is None:
                    stable_since = time.monotonic()
                if time.monotonic() - stable_since >= settle:
                    return
            else:
                stable_since = None
            last = out
            time.sleep(0.1)
        raise RuntimeError("vhost side not ready after %.0f s:\n%s" % (timeout, self.output()[-3000:]))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self, timeout=10.0):
        """quit (stops forwarding, closes the ports: tx_pcap is complete); kill if stuck."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            try:
                self.send("stop")
                self.send("quit")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            rc = hd.wait_or_kill(self.proc, timeout)
        self._out.close()
        self.proc = None
        return rc

    def cleanup_runtime(self):
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        for f in glob.glob("/dev/hugepages/%smap_*" % self.prefix) + [self.sock]:
            try:
                os.unlink(f)
            except OSError:
                pass
