# SPDX-License-Identifier: BSD-3-Clause
"""Bad input: a query that is not one question of opcode QUERY gets FORMERR or
NOTIMPL; a packet that is not DNS, is truncated, or lies about its lengths is
dropped and counted (sent as crafted frames from the namespace, built with
scapy), and the server keeps answering. A silent upstream gives SERVFAIL
within a bounded time."""

import json
import struct
import subprocess
import time

import dns.flags
import dns.opcode
import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.upstreams import SilentUpstream

ADDRS = [hd.V4, hd.V6]


def _qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def _header(qid, flags, qd, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def _question(name, qtype=1):
    return _qname(name) + struct.pack("!HH", qtype, 1)


def _query_wire(qid=0x4242, name="www.heimdall.test"):
    return _header(qid, 0x0100, 1) + _question(name)


def _still_answers(agent, addr):
    q = dnsutil.make_query("www.heimdall.test.", "A")
    r, w = agent.query(addr, q, timeout=3.0)
    assert r is not None, "server stopped answering on %s" % addr
    assert r.rcode() == dns.rcode.NOERROR and r.answer


@pytest.mark.parametrize("addr", ADDRS)
def test_formerr_unless_one_question(server, agent, watch, addr):
    w = watch(server)
    two = _header(0x1111, 0x0100, 2) + _question("www.heimdall.test") + _question("a.heimdall.test")
    none = _header(0x2222, 0x0100, 0)
    for wire, qid in ((two, 0x1111), (none, 0x2222)):
        data, _, _ = agent.send_udp(addr, wire, timeout=3.0)
        assert data is not None, "no reply to a query with %d questions" % struct.unpack("!H", wire[4:6])
        h = dnsutil.header(data)
        assert h["id"] == qid
        assert h["flags"] & 0x8000, "QR not set"
        assert h["flags"] & 0x000F == dns.rcode.FORMERR, "rcode %d, expected FORMERR" % (h["flags"] & 0xF)
    assert w.wait({"formerr": 2})["formerr"] == 2
    _still_answers(agent, addr)


@pytest.mark.parametrize("addr", ADDRS)
def test_notimpl_for_other_opcodes(server, agent, watch, addr):
    w = watch(server)
    opcodes = [dns.opcode.IQUERY, dns.opcode.STATUS, dns.opcode.NOTIFY, dns.opcode.UPDATE]
    for op in opcodes:
        qid = 0x3000 + op
        wire = _header(qid, (op << 11), 1) + _question("heimdall.test", 6)
        data, _, _ = agent.send_udp(addr, wire, timeout=3.0)
        assert data is not None, "no reply to opcode %s" % dns.opcode.to_text(op)
        h = dnsutil.header(data)
        assert h["id"] == qid and h["flags"] & 0x8000
        assert (h["flags"] >> 11) & 0xF == op, "opcode not echoed"
        assert h["flags"] & 0xF == dns.rcode.NOTIMP, "opcode %s: rcode %d, expected NOTIMPL" % (
            dns.opcode.to_text(op), h["flags"] & 0xF)
    assert w.wait({"notimpl": len(opcodes)})["notimpl"] == len(opcodes)
    _still_answers(agent, addr)


# UDP payloads to port 53 that are not a DNS query heimdall can read.
NOT_DNS = {
    "empty": b"",
    "shorter than a header": b"garbage",
    "question cut mid-label": _header(0x5252, 0x0100, 1) + b"\x03ww",
    "question without type and class": _header(0x5353, 0x0100, 1) + _qname("www.heimdall.test"),
    "label running past the end": _header(0x5454, 0x0100, 1) + b"\x3fwww",
}


@pytest.mark.parametrize("addr", ADDRS)
def test_not_dns_or_truncated_is_dropped_and_counted(server, agent, watch, addr):
    w = watch(server)
    answered = {}
    for what, payload in NOT_DNS.items():
        data, _, _ = agent.send_udp(addr, payload, timeout=0.4)
        if data is not None:
            answered[what] = data[:32]
    assert not answered, "replies to datagrams that must be dropped: %s" % answered
    d = w.wait({"dropped": len(NOT_DNS)})
    assert d["dropped"] == len(NOT_DNS), "dropped +%d for %d bad datagrams" % (d["dropped"], len(NOT_DNS))
    _still_answers(agent, addr)


@pytest.mark.parametrize("addr", ADDRS)
def test_responses_are_not_answered(server, agent, addr):
    resp = bytearray(_query_wire(0x5151))
    resp[2] |= 0x80
    data, _, _ = agent.send_udp(addr, bytes(resp), timeout=0.5)
    assert data is None, "heimdall answered a DNS response (reflection loop risk)"
    _still_answers(agent, addr)


def _mac(dev, netns=None):
    cmd = ["ip", "-j", "link", "show", "dev", dev]
    if netns:
        cmd[1:1] = ["-n", netns]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)[0]["address"]


def _lying_frames(v6):
    """Ethernet frames whose IP or UDP lengths disagree with what they carry.

    Built byte for byte by scapy and sent on the veth from the namespace, so no
    kernel fixes a length or a checksum on the way.
    """
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    eth = Ether(src=_mac("hd-cli", "hd-cli"), dst=_mac(hd.AFXDP_IF))
    dns_ = _query_wire(0x6161)
    real = 8 + len(dns_)
    if v6:
        def ip(**kw):
            return IPv6(src="fd53::2", dst=hd.V6, **kw)
        ip_long = ip(plen=real + 40)
    else:
        def ip(**kw):
            return IP(src="10.53.0.2", dst=hd.V4, **kw)
        ip_long = ip(len=20 + real + 40)
    frames = {
        "UDP length past the end": eth / ip() / UDP(sport=40001, dport=53, len=real + 50) / Raw(dns_),
        "UDP length under 8": eth / ip() / UDP(sport=40002, dport=53, len=4) / Raw(dns_),
        "UDP length cuts the DNS header": eth / ip() / UDP(sport=40003, dport=53, len=8 + 5) / Raw(dns_),
        "IP length past the end": eth / ip_long / UDP(sport=40004, dport=53) / Raw(dns_),
    }
    if not v6:
        frames["IP length shorter than its headers"] = \
            eth / ip(len=24) / UDP(sport=40005, dport=53) / Raw(dns_)
    return {k: bytes(f) for k, f in frames.items()}


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_lying_lengths_are_dropped_and_counted(server, agent, watch, v6):
    frames = _lying_frames(v6)
    w = watch(server)
    agent.send_frames("hd-cli", list(frames.values()))
    d = w.wait({"dropped": len(frames), "rx_packets": len(frames)})
    assert d["rx_packets"] == len(frames), "frames reaching the fast path: %d of %d" % (
        d["rx_packets"], len(frames))
    assert d["dropped"] == len(frames), "dropped +%d for %d lying frames (%s)" % (
        d["dropped"], len(frames), ", ".join(frames))
    assert w.delta("queries") == 0, "a lying frame was taken for a query"
    _still_answers(agent, hd.V6 if v6 else hd.V4)


def _servfail_within(agent, addr, bound):
    q = dnsutil.make_query(dnsutil.unique("wild.heimdall.test"), "A")
    start = time.monotonic()
    r, _ = agent.query(addr, q, timeout=bound + 5.0)
    elapsed = time.monotonic() - start
    assert r is not None, "no reply at all with a silent upstream"
    assert r.id == q.id
    assert r.rcode() == dns.rcode.SERVFAIL, "rcode %s" % dns.rcode.to_text(r.rcode())
    assert r.flags & dns.flags.RA
    assert elapsed <= bound, "SERVFAIL after %.2f s, bound %.2f s" % (elapsed, bound)
    return elapsed


def test_silent_upstream_gives_servfail_default_budget(start_heimdall, agent, watch):
    up = SilentUpstream()
    try:
        # The readiness probe would wait for an answer that never comes.
        h = start_heimdall("silent", ["--listen", hd.V4, "--listen", hd.V6,
                                      "--upstream", up.addr], ready=False)
        h.wait_ready(None)
        _wait_port_answers(agent, h)
        w = watch(h)
        _servfail_within(agent, hd.V4, 2.5 + 1.0)        # --upstream-budget-ms 2500
        d = w.wait({"servfail": 1, "upstream_timeouts": 1})
        assert d["servfail"] == 1 and d["upstream_timeouts"] >= 1, d
        up.sock.setblocking(False)
        got = 0
        try:
            while True:
                up.sock.recv(4096)
                got += 1
        except BlockingIOError:
            pass
        assert got >= 1, "heimdall never asked the upstream"
    finally:
        up.close()


def test_silent_upstream_servfail_follows_budget_flags(start_heimdall, agent):
    up = SilentUpstream()
    try:
        h = start_heimdall("silent-short", ["--listen", hd.V4, "--listen", hd.V6,
                                            "--upstream", up.addr, "--upstream-timeout-ms", "300",
                                            "--upstream-budget-ms", "900"], ready=False)
        h.wait_ready(None)
        _wait_port_answers(agent, h)
        for addr in ADDRS:
            elapsed = _servfail_within(agent, addr, 0.9 + 0.8)
            assert elapsed >= 0.6, "SERVFAIL after %.2f s, before the 0.9 s budget" % elapsed
    finally:
        up.close()


def _wait_port_answers(agent, h, timeout=30.0):
    """Ready when a FORMERR comes back: it needs no upstream."""
    wire = _header(0x7777, 0x0100, 0)
    deadline = time.monotonic() + timeout
    pending = list(ADDRS)
    while pending and time.monotonic() < deadline:
        assert h.alive(), h.logs()
        for addr in list(pending):
            data, _, _ = agent.send_udp(addr, wire, timeout=0.5)
            if data is not None:
                pending.remove(addr)
    assert not pending, "heimdall not answering on %s\n%s" % (pending, h.logs())
