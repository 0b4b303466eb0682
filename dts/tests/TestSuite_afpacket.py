# SPDX-License-Identifier: BSD-3-Clause
"""af_packet mode on an interface without addresses (hd-srv2): heimdall answers
A queries over IPv4 and IPv6, and answers ARP and NDP for its addresses itself,
as it will on a PCI NIC."""

import json
import subprocess

import dns.rcode

from framework import dnsutil
from framework import heimdall as hd

CLI_IF2 = "hd-cli2"


def _mac(dev):
    out = subprocess.run(["ip", "-j", "link", "show", "dev", dev], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)[0]["address"]


def _neigh(addr):
    out = subprocess.run(["ip", "-n", "hd-cli", "-j", "neigh", "show", "to", addr, "dev", CLI_IF2],
                         check=True, capture_output=True, text=True).stdout
    entries = json.loads(out)
    return entries[0].get("lladdr") if entries else None


def _addrs(dev):
    out = subprocess.run(["ip", "-j", "addr", "show", "dev", dev], check=True,
                         capture_output=True, text=True).stdout
    return [a["local"] for a in json.loads(out)[0].get("addr_info", [])]


def test_af_packet_answers_and_resolves(start_heimdall, agent, watch):
    subprocess.run(["ip", "-n", "hd-cli", "neigh", "flush", "dev", CLI_IF2], check=True)
    h = start_heimdall("afpacket", ["--listen", hd.V4_2, "--listen", hd.V6_2,
                                    "--upstream", hd.UPSTREAM],
                       vdev=hd.afpacket_vdev(), listen=(hd.V4_2, hd.V6_2))
    assert _addrs(hd.AFPACKET_IF) == [], "addresses added on an af_packet port"

    # Starting needed ARP and NDP for 10.54.0.1 / fd54::1: only heimdall can answer them.
    mac = _mac(hd.AFPACKET_IF)
    for addr in (hd.V4_2, hd.V6_2):
        assert _neigh(addr) == mac, "%s resolved to %s, expected heimdall's %s" % (addr, _neigh(addr), mac)
    stats = h.stats()
    assert stats["arp_replies"] >= 1 and stats["nd_replies"] >= 1, stats

    for addr in (hd.V4_2, hd.V6_2):
        subprocess.run(["ip", "-n", "hd-cli", "neigh", "flush", "dev", CLI_IF2], check=True)
        w = watch(h)
        name = dnsutil.unique("wild.heimdall.test")
        q = dnsutil.make_query(name, "A")
        r, wire = agent.query(addr, q, timeout=4.0)
        assert r is not None, "no answer over af_packet from %s" % addr
        dnsutil.assert_reply_header(q, q.to_wire(), r, wire)
        assert r.rcode() == dns.rcode.NOERROR
        assert [rr.to_text() for rr in r.answer[0]] == ["192.0.2.77"]
        key = "arp_replies" if ":" not in addr else "nd_replies"
        assert w.wait({key: 1})[key] >= 1, "no %s after the neighbour cache was flushed" % key
        # and the second one from the cache
        w = watch(h)
        r, _ = agent.query(addr, dnsutil.make_query(name, "A"), timeout=4.0)
        assert r is not None and [rr.to_text() for rr in r.answer[0]] == ["192.0.2.77"]
        assert w.wait({"cache_hits": 1})["cache_hits"] == 1
