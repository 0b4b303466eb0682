# SPDX-License-Identifier: BSD-3-Clause
"""rte_pdump: dpdk-dumpcap, a secondary process with heimdall's --file-prefix,
captures the fast path's RX and TX of a port (af_xdp and af_packet, as heimdall
runs in the test bed) into a pcapng that tshark reads: every query a client sent
and every answer heimdall gave, those of the slow path and of the cache. Attaching
and detaching dumpcap again and again never stops heimdall from answering."""

import os
import subprocess
import time

import pytest

from framework import capture
from framework import dnsutil
from framework import heimdall as hd

NETNS = "hd-cli"
CAP_DIR = "/tmp"


def _kdig(addr, name, rdtype="A"):
    """Ask from the client namespace with kdig; return its +short answer lines."""
    p = subprocess.run(["ip", "netns", "exec", NETNS, "kdig", "@" + addr, name, rdtype,
                        "+short", "+timeout=2", "+retry=1"],
                       capture_output=True, text=True, timeout=15)
    assert p.returncode == 0, "kdig @%s %s: %s%s" % (addr, name, p.stdout, p.stderr)
    return p.stdout.split()


def _cap_path(tag):
    return os.path.join(CAP_DIR, "hd-dts-pdump-%d-%s.pcapng" % (os.getpid(), tag))


@pytest.fixture
def dumpcaps():
    """Every DumpCap a test makes; stopped (killed if need be) and its files removed."""
    made = []

    def make(h, tag, duration=30):
        port = h.vdev.split(",")[0]
        d = capture.DumpCap(h.prefix, port, _cap_path(tag), duration=duration)
        made.append(d)
        return d

    yield make
    for d in made:
        d.cleanup()


MODES = {
    "af_xdp": (hd.afxdp_vdev, hd.V4, hd.V6),
    "af_packet": (hd.afpacket_vdev, hd.V4_2, hd.V6_2),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_dumpcap_captures_queries_and_answers(mode, start_heimdall, dumpcaps):
    vdev, v4, v6 = MODES[mode]
    h = start_heimdall("pdump-" + mode, ["--listen", v4, "--listen", v6,
                                          "--upstream", hd.UPSTREAM],
                       vdev=vdev(), listen=(v4, v6))
    d = dumpcaps(h, mode).start()

    names = [dnsutil.unique("wild.heimdall.test").rstrip(".") for _ in range(6)]
    # Each name twice: the first answer comes from the slow path, the second
    # from a worker's cache hit; both leave through the port dumpcap watches.
    for rnd in range(2):
        for i, name in enumerate(names):
            addr = v6 if i % 2 else v4
            assert _kdig(addr, name) == ["192.0.2.77"], "round %d, %s @%s" % (rnd, name, addr)

    assert d.stop() == 0, "dumpcap exit code\n" + d.stderr()
    rows = capture.dns_fields(d.path)
    for name in names:
        qs = sum(1 for n, resp in rows if n == name.lower() and not resp)
        rs = sum(1 for n, resp in rows if n == name.lower() and resp)
        assert qs == 2 and rs == 2, "%s: %d queries, %d answers captured, expected 2 and 2\n%s" % (
            name, qs, rs, rows)
    assert h.alive()


def test_dumpcap_attach_detach_repeatedly(start_heimdall, dumpcaps):
    h = start_heimdall("pdump-repeat", ["--listen", hd.V4, "--listen", hd.V6,
                                        "--upstream", hd.UPSTREAM])
    for i in range(5):
        d = dumpcaps(h, "repeat%d" % i).start()
        name = dnsutil.unique("wild.heimdall.test").rstrip(".")
        assert _kdig(hd.V4, name) == ["192.0.2.77"], "attach %d" % i
        assert d.stop() == 0, "dumpcap %d exit code\n%s" % (i, d.stderr())
        got = capture.dns_fields(d.path)
        assert (name.lower(), False) in got and (name.lower(), True) in got, (i, got)
        # Detached: answers keep coming, from the slow path and the cache.
        assert _kdig(hd.V4, name) == ["192.0.2.77"], "after detach %d" % i
        assert _kdig(hd.V6, dnsutil.unique("wild.heimdall.test")) == ["192.0.2.77"]

    # heimdall stopping while dumpcap is attached: heimdall exits cleanly (the
    # fixture checks exit code 0) and dumpcap notices its primary is gone.
    d = dumpcaps(h, "primary-exit").start()
    assert _kdig(hd.V4, dnsutil.unique("wild.heimdall.test")) == ["192.0.2.77"]
    t0 = time.monotonic()
    h.stop()
    assert h.rc == 0, h.logs()
    try:
        d.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("dpdk-dumpcap still runs %.0f s after heimdall stopped" % (time.monotonic() - t0))


def test_dumpcap_killed_heimdall_keeps_answering(start_heimdall, dumpcaps):
    # A dumpcap killed with SIGKILL never turns the capture off: heimdall keeps
    # copying into its ring until the ring is full, then drops the copies (a
    # new dumpcap is refused on that port until heimdall restarts; see
    # docs/running.md). Answers must not suffer.
    h = start_heimdall("pdump-killed", ["--listen", hd.V4_2, "--upstream", hd.UPSTREAM],
                       vdev=hd.afpacket_vdev(), listen=(hd.V4_2,))
    d = dumpcaps(h, "killed").start()
    d.kill()
    names = [dnsutil.unique("wild.heimdall.test").rstrip(".") for _ in range(20)]
    for rnd in range(2):
        for name in names:
            assert _kdig(hd.V4_2, name) == ["192.0.2.77"], "round %d, %s" % (rnd, name)
    assert h.alive()
