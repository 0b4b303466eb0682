# SPDX-License-Identifier: BSD-3-Clause
"""af_xdp mode, the issue's command line: heimdall loads its own XDP program
(no xdp_prog= given), puts the missing --listen addresses on the interface and
takes back only what it added at exit; the kernel keeps ARP/NDP and TCP."""

import json
import subprocess

import dns.rcode

from framework import dnsutil
from framework import heimdall as hd


def _addrs(dev):
    out = subprocess.run(["ip", "-j", "addr", "show", "dev", dev], check=True,
                         capture_output=True, text=True).stdout
    return {"%s/%d" % (a["local"], a["prefixlen"]) for a in json.loads(out)[0].get("addr_info", [])}


def _xdp_attached(dev):
    out = subprocess.run(["ip", "-j", "link", "show", "dev", dev], check=True,
                         capture_output=True, text=True).stdout
    return "xdp" in json.loads(out)[0]


def _neigh(addr, dev):
    out = subprocess.run(["ip", "-n", "hd-cli", "-j", "neigh", "show", "to", addr, "dev", dev],
                         check=True, capture_output=True, text=True).stdout
    entries = json.loads(out)
    return entries[0].get("lladdr") if entries else None


def _mac(dev):
    out = subprocess.run(["ip", "-j", "link", "show", "dev", dev], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)[0]["address"]


def test_addresses_and_xdp_program_managed(servers, start_heimdall, agent):
    assert not {"10.53.0.1/24", "fd53::1/64"} & _addrs(hd.AFXDP_IF), "testbed not clean"
    h = start_heimdall("afxdp", ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM])
    assert "xdp_prog" not in " ".join(h.cmd)
    have = _addrs(hd.AFXDP_IF)
    assert {"10.53.0.1/24", "fd53::1/64"} <= have, "listen addresses not added: %s" % have
    assert _xdp_attached(hd.AFXDP_IF), "no XDP program on %s" % hd.AFXDP_IF

    # The kernel resolved our addresses for the client (ARP/NDP stay the kernel's).
    subprocess.run(["ip", "-n", "hd-cli", "neigh", "flush", "dev", "hd-cli"], check=True)
    for addr in (hd.V4, hd.V6):
        r, _ = agent.query(addr, dnsutil.make_query("www.heimdall.test.", "A"), timeout=3.0)
        assert r is not None and r.rcode() == dns.rcode.NOERROR
        assert _neigh(addr, "hd-cli") == _mac(hd.AFXDP_IF)
    stats = h.stats()
    assert stats.get("arp_replies", 0) == 0 and stats.get("nd_replies", 0) == 0, \
        "heimdall answered ARP/NDP on an af_xdp port, where the kernel does"

    # DNS over TCP reaches the kernel listener.
    r, _ = agent.query(hd.V4, dnsutil.make_query("www.heimdall.test.", "A"), tcp=True)
    assert r is not None and r.answer

    servers.stop(h)
    have = _addrs(hd.AFXDP_IF)
    assert not {"10.53.0.1/24", "fd53::1/64"} & have, "addresses left behind at exit: %s" % have
    assert not _xdp_attached(hd.AFXDP_IF), "XDP program left attached at exit"


def test_existing_address_is_kept(servers, start_heimdall, agent):
    subprocess.run(["ip", "addr", "add", "10.53.0.1/24", "dev", hd.AFXDP_IF], check=True)
    try:
        h = start_heimdall("afxdp-kept", ["--listen", hd.V4, "--listen", hd.V6,
                                          "--upstream", hd.UPSTREAM])
        servers.stop(h)
        have = _addrs(hd.AFXDP_IF)
        assert "10.53.0.1/24" in have, "heimdall removed an address it did not add"
        assert "fd53::1/64" not in have, "heimdall left the address it added"
    finally:
        subprocess.run(["ip", "addr", "del", "10.53.0.1/24", "dev", hd.AFXDP_IF])


def test_default_file_prefix_is_heimdall(start_heimdall, agent):
    """Without --file-prefix, dpdk-telemetry.py -f heimdall finds it."""
    h = start_heimdall("afxdp-prefix", ["--listen", hd.V4, "--listen", hd.V6,
                                        "--upstream", hd.UPSTREAM], prefix=None)
    p = subprocess.run(["/usr/bin/python3", "/usr/bin/dpdk-telemetry.py", "-f", "heimdall"],
                       input="/heimdall/stats\n", capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and '"queries"' in p.stdout, p.stdout + p.stderr
    assert h.prefix == "heimdall"
