# SPDX-License-Identifier: BSD-3-Clause
"""The TAP exception path: heimdall on the af_packet veth hd-srv2 (standing in for
a PCI NIC: the kernel sees none of its traffic) with --vdev=net_tap_exc0,iface=hdexc0.
hdexc0 goes to a namespace of its own (hd-excns) holding the listen address, as
the host's kernel would. From the client namespace, ping and a TCP connection to
10.54.0.1 are answered by that kernel through heimdall (to_kernel, from_kernel),
while DNS is still answered by heimdall itself. Without the exception vdev, ping
gets nothing and `dropped` grows. See docs/pci.md, "Exception path"."""

import shutil
import subprocess
import tempfile
import time

import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.modes import TapNs, link_mac, start_heimdall, wait_started

EXC_NS = "hd-excns"
EXC_IF = "hdexc0"
EXC_VDEV = "--vdev=net_tap_exc0,iface=" + EXC_IF
CLI_NS = "hd-cli"
HTTP_PORT = 18080
RECORD = "nas.exc.home.arpa A 192.0.2.54"

# ICMP echo over a raw socket (there is no ping binary here); prints the replies seen.
PING = r"""
import os, socket, struct, sys, time
addr, n = sys.argv[1], int(sys.argv[2])
v6 = ":" in addr
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                  socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
ident, got = os.getpid() & 0xffff, 0
for seq in range(n):
    msg = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq) + b"heimdall-exc"
    if not v6:  # the kernel fills in the ICMPv6 checksum, not the ICMP one
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    s.sendto(msg, (addr, 0))
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        s.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        icmp = data if v6 else data[(data[0] & 15) * 4:]
        if icmp[0] == (129 if v6 else 0) and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
            got += 1
            break
print(got)
"""

# One HTTP GET over TCP; prints the status line.
HTTP_GET = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
c.sendall(b"GET /hello.txt HTTP/1.0\r\nHost: x\r\n\r\n")
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
print(data.split(b"\r\n")[0].decode(), data.split(b"\r\n\r\n", 1)[-1].decode())
"""


def _in_ns(ns, script, *args, timeout=30):
    p = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", script] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    return p.stdout.strip(), p.stderr.strip()


def _ping(addr, n):
    out, err = _in_ns(CLI_NS, PING, addr, n)
    assert out.isdigit(), "ping helper failed: %s %s" % (out, err)
    return int(out)


def _args():
    return ["--listen", hd.V4_2, "--listen", hd.V6_2, "--upstream", hd.UPSTREAM,
            "--record", RECORD]


def _dns_ready(agent, addr, tries=25):
    for _ in range(tries):
        r, _ = agent.query(addr, dnsutil.make_query("ready.heimdall.test.", "A"), timeout=0.4)
        if r is not None:
            return
    raise AssertionError("heimdall not answering on %s" % addr)


class HttpServer:
    """python's http.server inside the exception namespace, on the listen address."""

    def __init__(self, ns, addr, port):
        self.dir = tempfile.mkdtemp(prefix="hd-exc-")
        with open(self.dir + "/hello.txt", "w") as f:
            f.write("hello from the kernel\n")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "/usr/bin/python3", "-m", "http.server", str(port),
             "--bind", addr, "--directory", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-ltnH", "sport", "= :%d" % port],
                                capture_output=True, text=True).stdout
            if ss.strip():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("http.server did not start in %s" % ns)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def exc(servers, agent):
    subprocess.run(["ip", "-n", CLI_NS, "neigh", "flush", "dev", "hd-cli2"], check=True)
    h = start_heimdall(servers, "exception", _args(), hd.afpacket_vdev(),
                       (hd.V4_2, hd.V6_2), eal_extra=[EXC_VDEV])
    net = TapNs(EXC_NS, EXC_IF, (hd.V4_2 + "/24", hd.V6_2 + "/64"))
    http = None
    try:
        wait_started(h)
        # heimdall gave the kernel side the data port's MAC before we move it.
        assert link_mac(EXC_IF) == link_mac(hd.AFPACKET_IF), (link_mac(EXC_IF),
                                                               link_mac(hd.AFPACKET_IF))
        net.up()
        _dns_ready(agent, hd.V4_2)
        http = HttpServer(EXC_NS, hd.V4_2, HTTP_PORT)
        yield h
    finally:
        try:
            servers.stop_current()
        finally:
            if http is not None:
                http.stop()
            net.down()


def test_ping_answered_by_the_kernel(exc, watch):
    w = watch(exc)
    assert _ping(hd.V4_2, 3) == 3, "ping %s through the exception path\n%s" % (hd.V4_2, exc.logs())
    assert _ping(hd.V6_2, 3) == 3, "ping %s through the exception path\n%s" % (hd.V6_2, exc.logs())
    d = w.wait({"to_kernel": 6, "from_kernel": 6})
    assert d["to_kernel"] >= 6 and d["from_kernel"] >= 6, d
    assert w.delta("tx_failed", w.after) == 0


def test_tcp_to_the_kernel(exc, watch):
    w = watch(exc)
    out, err = _in_ns(CLI_NS, HTTP_GET, hd.V4_2, HTTP_PORT)
    assert out.startswith("HTTP/1.0 200") and "hello from the kernel" in out, (out, err)
    d = w.wait({"to_kernel": 3, "from_kernel": 3})
    assert d["to_kernel"] >= 3 and d["from_kernel"] >= 3, d


def test_dns_still_answered_by_heimdall(exc, agent, watch):
    w = watch(exc)
    q = dnsutil.make_query("nas.exc.home.arpa", "A")
    r, wire = agent.query(hd.V4_2, q, timeout=2.0)
    assert r is not None, "no answer from heimdall"
    dnsutil.assert_reply_header(q, q.to_wire(), r, wire)
    assert [rr.to_text() for rr in r.answer[0]] == ["192.0.2.54"]
    name = dnsutil.unique("wild.heimdall.test")
    for expect in ("cache_misses", "cache_hits"):
        r, _ = agent.query(hd.V6_2, dnsutil.make_query(name, "A"), timeout=2.0)
        assert r is not None and [rr.to_text() for rr in r.answer[0]] == ["192.0.2.77"], expect
    d = w.wait({"local_answers": 1, "cache_misses": 1, "cache_hits": 1})
    assert d == {"local_answers": 1, "cache_misses": 1, "cache_hits": 1}, d


def test_without_exception_port_ping_is_dropped(servers, agent, start_heimdall, watch):
    subprocess.run(["ip", "-n", CLI_NS, "neigh", "flush", "dev", "hd-cli2"], check=True)
    h = start_heimdall("no-exception", _args(), vdev=hd.afpacket_vdev(),
                       listen=(hd.V4_2, hd.V6_2))
    w = watch(h)
    assert _ping(hd.V4_2, 2) == 0, "ping answered without an exception path"
    d = w.wait({"dropped": 2})
    assert d["dropped"] >= 2, d
    assert w.delta("to_kernel", w.after) == 0
