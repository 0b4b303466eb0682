# SPDX-License-Identifier: BSD-3-Clause
"""virtio_user test mode: heimdall on net_virtio_user, paired over a vhost-user
socket with dpdk-testpmd's net_vhost, which replays a pcap of queries built here
(net_pcap rx_pcap, io forwarding) and writes heimdall's replies to another pcap
(tx_pcap). No kernel interface is involved: heimdall's MAC comes from the vdev
(mac=), its addresses from --listen, and it answers ARP for them itself.

Every query gets exactly one reply, addressed back to the client, with a good
UDP checksum and the answer the upstream (or the local record) gives; a
datagram to another port gets nothing. Bounded: about 15 s, 60 s at worst."""

import os
import time

import dns.message
import dns.rcode
import pytest
from scapy.all import ARP, DNS, DNSQR, IP, IPv6, UDP, Ether, Raw, rdpcap, wrpcap

from framework import dnsutil
from framework import heimdall as hd
from framework.modes import TestPmd, start_heimdall, wait_started

HD_MAC, CLI_MAC = "02:00:00:58:00:01", "02:00:00:58:00:02"
V4, V6 = "10.58.0.1", "fd58::1"
CLI_V4, CLI_V6 = "10.58.0.2", "fd58::2"
LOCAL = ("printer.lab.home.arpa", "192.0.2.58")


def _paths():
    tag = "%d" % os.getpid()
    return {
        "sock": "/tmp/hd-vhost-%s.sock" % tag,
        "queries": "/tmp/hd-vu-queries-%s.pcap" % tag,
        "out": "/tmp/hd-vu-out-%s.pcap" % tag,
        "testpmd_log": os.path.join(hd.OUT_DIR, "virtio-testpmd.log"),
        "prefix": "hd-vu-tp-%s" % tag,
    }


def _frame(qid, name, rdtype, v6, sport):
    ip = IPv6(src=CLI_V6, dst=V6) if v6 else IP(src=CLI_V4, dst=V4)
    dnsq = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=rdtype))
    return Ether(src=CLI_MAC, dst=HD_MAC) / ip / UDP(sport=sport, dport=53) / dnsq


def _queries():
    """[(frame, expectation)]: expectation "local", "upstream" or None (no reply)."""
    qs = [(LOCAL[0], "A", False, "local")]
    for i in range(4):
        qs.append((dnsutil.unique("wild.heimdall.test"), "A", i % 2 == 1, "upstream"))
    qs.append(("www.heimdall.test.", "AAAA", True, "upstream"))
    qs.append(("mx.heimdall.test.", "MX", False, "upstream"))
    qs.append(("nx-%s.neg.test." % os.getpid(), "A", False, "upstream"))
    out = []
    for i, (name, t, v6, exp) in enumerate(qs):
        out.append((_frame(0x4000 + i, name, t, v6, 40000 + i), exp))
    # Not DNS: UDP to another port of ours; must be dropped, not answered.
    out.append((Ether(src=CLI_MAC, dst=HD_MAC) / IP(src=CLI_V4, dst=V4) /
                UDP(sport=39999, dport=9) / Raw(b"discard me"), None))
    return out


@pytest.fixture
def vhost_pair(servers):
    """testpmd (vhost-user server) first, then heimdall connecting to its socket."""
    p = _paths()
    for f in (p["sock"], p["queries"], p["out"]):
        if os.path.exists(f):
            os.unlink(f)
    frames = _queries()
    # ARP for heimdall's address first: on a port without a kernel, heimdall answers it.
    arp = Ether(src=CLI_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLI_MAC, psrc=CLI_V4,
                                                           pdst=V4)
    wrpcap(p["queries"], [arp] + [f for f, _ in frames])
    tp = TestPmd(p["sock"], p["queries"], p["out"], p["prefix"], p["testpmd_log"])
    h = None
    try:
        tp.start()
        vdev = "net_virtio_user0,path=%s,queues=1,mac=%s" % (p["sock"], HD_MAC)
        # -m: memory reserved up front; growing later would pause the rings.
        h = start_heimdall(servers, "virtio", ["--listen", V4, "--listen", V6,
                                               "--upstream", hd.UPSTREAM,
                                               "--record", "%s A %s" % LOCAL],
                           vdev, (V4, V6), eal_extra=["-m", "128"])
        wait_started(h, timeout=20.0)
        tp.vhost_ready()
        yield tp, h, frames, p
    finally:
        try:
            tp.stop()
            if h is not None:
                servers.stop_current()
        finally:
            tp.cleanup_runtime()
            for f in (p["sock"], p["queries"], p["out"]):
                if os.path.exists(f):
                    os.unlink(f)


def _udp_checksum_ok(pkt):
    l3 = pkt[IPv6] if IPv6 in pkt else pkt[IP]
    got = pkt[UDP].chksum
    clone = l3.copy()
    clone[UDP].chksum = None
    return got == type(l3)(bytes(clone))[UDP].chksum


def _wait_replies(path, want, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if len(rdpcap(path)) >= want:
                return
        except Exception:
            pass
        time.sleep(0.2)


def test_virtio_user_answers_pcap_replay(vhost_pair):
    tp, h, frames, p = vhost_pair
    before = h.stats()
    tp.send("start")
    n_dns = sum(1 for _, e in frames if e is not None)
    _wait_replies(p["out"], n_dns + 1)
    assert tp.stop() == 0, "testpmd exit\n" + tp.output()[-2000:]
    out = rdpcap(p["out"])

    arps = [f for f in out if ARP in f]
    assert len(arps) == 1 and arps[0][ARP].op == 2 and arps[0][ARP].hwsrc == HD_MAC \
        and arps[0][ARP].psrc == V4 and arps[0][Ether].dst == CLI_MAC, \
        "ARP for %s not answered by heimdall: %r" % (V4, arps)

    replies = {}
    for f in out:
        if UDP in f:
            key = (IPv6 in f, f[UDP].dport)
            assert key not in replies, "two replies to the query from port %d" % f[UDP].dport
            replies[key] = f
    for frame, exp in frames:
        key = (IPv6 in frame, frame[UDP].sport)
        if exp is None:
            assert key not in replies, "a reply to a datagram that is not DNS"
            continue
        r = replies.get(key)
        qname = frame[DNSQR].qname.decode()
        assert r is not None, "no reply to %s (%s)\n%s" % (qname, key, h.logs())
        l3 = IPv6 if IPv6 in frame else IP
        assert r[Ether].src == HD_MAC and r[Ether].dst == CLI_MAC, r.summary()
        assert r[l3].src == frame[l3].dst and r[l3].dst == frame[l3].src, r.summary()
        assert r[UDP].sport == 53, r.summary()
        assert _udp_checksum_ok(r), "bad UDP checksum in the reply to %s" % qname
        qwire, rwire = bytes(frame[UDP].payload), bytes(r[UDP].payload)
        q, got = dns.message.from_wire(qwire), dns.message.from_wire(rwire)
        dnsutil.assert_reply_header(q, qwire, got, rwire)
        if exp == "local":
            assert got.rcode() == dns.rcode.NOERROR
            assert [rr.to_text() for rrset in got.answer for rr in rrset] == [LOCAL[1]], got
        else:
            dnsutil.assert_same_answer(got, dnsutil.ask_upstream(q), qname)
    assert len([f for f in out if UDP in f]) == n_dns

    after = h.stats()
    assert after["arp_replies"] - before["arp_replies"] == 1
    assert after["dropped"] - before["dropped"] >= 1, "the non-DNS datagram was not counted"
