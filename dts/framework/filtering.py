# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the blocking, local-zone and reload suites: the two client
addresses, fixture lists, block-reply checks, EDE, /heimdall/filter and
/heimdall/records, and kxdpgun load from the namespace."""

import os
import re
import subprocess
import threading
import time

import dns.edns
import dns.flags
import dns.rcode
import dns.rdatatype

from . import dnsutil
from . import heimdall as hd
from .telemetry import Telemetry

# Client addresses in hd-cli (scripts/testnet.sh). The first is the kernel's
# source choice; the second is used only when a query binds to it.
CLIENT_V4, CLIENT_V6 = "10.53.0.2", "fd53::2"
CLIENT2_V4, CLIENT2_V6 = "10.53.0.3", "fd53::3"
NETNS, CLI_IF = "hd-cli", "hd-cli"

LISTS_DIR = os.path.join(hd.ROOT, "dts", "lists")
LOCAL_ZONES_DIR = os.path.join(hd.ROOT, "dts", "zones", "local")
# Real lists (README.md there): beside the repository, in ../shared/data/blocklists.
SHARED_BLOCKLISTS = os.path.normpath(os.path.join(hd.ROOT, "..", "shared", "data", "blocklists"))

EDE_BLOCKED = 15


def fixture_list(name):
    path = os.path.join(LISTS_DIR, name)
    assert os.path.isfile(path), "fixture list %s is missing" % path
    return path


def local_zone_file(name):
    path = os.path.join(LOCAL_ZONES_DIR, name)
    assert os.path.isfile(path), "local zone file %s is missing" % path
    return path


def shared_list(name):
    """A real list of ../shared/data/blocklists; a clear failure when it is not there."""
    path = os.path.join(SHARED_BLOCKLISTS, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            "shared blocklist %s is missing: the suites expect the project's test data in "
            "%s (../shared/data/blocklists relative to the repository)" % (path, SHARED_BLOCKLISTS))
    return path


def hosts_names(path):
    """The names of a hosts file, in file order (what every syntax must block)."""
    names = []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            names.extend(n.lower().rstrip(".") for n in line[1:])
    return names


def ask(agent, addr, name, rdtype="A", edns=0, src=None, tcp=False, timeout=4.0):
    """One query from the namespace (from src if given); a reply is required and
    its header checked (ID, question as sent, QR, RA, RD)."""
    q = dnsutil.make_query(name, rdtype, edns=edns)
    r, w = agent.query(addr, q, tcp=tcp, timeout=timeout, src=src)
    assert r is not None, "no reply for %s %s to %s from %s%s" % (
        name, rdtype, addr, src or "the default address", " over TCP" if tcp else "")
    dnsutil.assert_reply_header(q, q.to_wire(), r, w)
    assert (r.edns >= 0) == (edns is not None), "OPT in the reply iff the query had one: %s" % r
    return r


def ede(r):
    """[(info code, extra text)] of the EDE options of a reply."""
    out = []
    for opt in r.options if r.edns >= 0 else []:
        if opt.otype == dns.edns.OptionType.EDE:
            out.append((int(opt.code), opt.text or ""))
    return out


def answer_view(r):
    """[(owner, type, rdata text, ttl)] of the answer section."""
    return [(rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype), rr.to_text(), rrset.ttl)
            for rrset in r.answer for rr in rrset]


def assert_blocked(r, name, rdtype, mode="null", ttl=10, v4=None, v6=None, listname=None,
                   edns=True, what=""):
    """The reply a blocked name gets in mode (nxdomain, nodata, null, custom, refused):
    rcode, synthesized address (owner = the query name, TTL = block TTL) or no
    answer, no record with a longer TTL, EDE 15 iff the query had EDNS."""
    ctx = " (%s %s%s)" % (name, rdtype, ", " + what if what else "")
    want_rcode = {"nxdomain": dns.rcode.NXDOMAIN, "refused": dns.rcode.REFUSED}.get(mode, dns.rcode.NOERROR)
    assert r.rcode() == want_rcode, "rcode %s, blocked in mode %s wants %s%s\n%s" % (
        dns.rcode.to_text(r.rcode()), mode, dns.rcode.to_text(want_rcode), ctx, r)
    addr = None
    if mode == "null":
        addr = {"A": "0.0.0.0", "AAAA": "::"}.get(rdtype)
    elif mode == "custom":
        addr = {"A": v4, "AAAA": v6}.get(rdtype)
    got = answer_view(r)
    if addr is None:
        assert got == [], "blocked in mode %s: answer should be empty%s: %s" % (mode, ctx, got)
    else:
        want = [(name.lower().rstrip(".") + ".", rdtype, addr, ttl)]
        assert got == want, "blocked in mode %s%s: answer %s, want %s" % (mode, ctx, got, want)
    for rrset in r.authority:
        assert rrset.ttl <= ttl, "authority TTL %d above the block TTL %d%s: %s" % (
            rrset.ttl, ttl, ctx, rrset)
        assert rrset.rdtype == dns.rdatatype.SOA, "unexpected authority%s: %s" % (ctx, rrset)
    codes = ede(r)
    if edns:
        assert [c for c, _ in codes] == [EDE_BLOCKED], "EDE %s, want one with code 15 (Blocked)%s" % (
            codes, ctx)
        if listname is not None:
            assert listname in codes[0][1], "EDE text %r does not name list %r%s" % (
                codes[0][1], listname, ctx)
    else:
        assert r.edns < 0 and not codes, "OPT/EDE in a reply to a query without EDNS%s" % ctx


def assert_forwarded(agent, addr, name, rdtype="A", src=None, edns=0, tcp=False):
    """Not blocked and not local: the upstream's answer."""
    r = ask(agent, addr, name, rdtype, edns=edns, src=src, tcp=tcp)
    ref = dnsutil.ask_upstream(dnsutil.make_query(name, rdtype, edns=edns))
    dnsutil.assert_same_answer(r, ref, "%s %s from %s" % (name, rdtype, src or "default client"))
    assert not ede(r), "EDE on a forwarded answer for %s: %s" % (name, ede(r))
    return r


# -- telemetry ---------------------------------------------------------------

def tel(h, command):
    with Telemetry(h.prefix) as t:
        return t.cmd(command)


def filter_state(h):
    return tel(h, "/heimdall/filter")


def lists_by_name(h):
    """{list name: its state} from /heimdall/filter (whose keys spell '.' and
    '-' as '_': the real name is the entry's "name")."""
    return {st.get("name", key): st for key, st in filter_state(h)["lists"].items()}


def list_state(h, name):
    lists = lists_by_name(h)
    assert name in lists, "/heimdall/filter has no list %r: %s" % (name, sorted(lists))
    return lists[name]


def records_state(h):
    return tel(h, "/heimdall/records")


def reload(h):
    """/heimdall/reload: reload every list, record and zone file now."""
    r = tel(h, "/heimdall/reload")
    assert r.get("reload") == "started", "/heimdall/reload answered %r" % r
    return r


def poll(fn, timeout=10.0, interval=0.1):
    """fn() until it returns something true or timeout; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def is_null_blocked(agent, addr, name, src=None):
    """True when name gets the null-mode block reply (A 0.0.0.0) now."""
    q = dnsutil.make_query(name, "A", edns=0)
    r, _ = agent.query(addr, q, timeout=2.0, src=src)
    if r is None:
        return False
    return [a[2] for a in answer_view(r)] == ["0.0.0.0"] and [c for c, _ in ede(r)] == [EDE_BLOCKED]


# -- kxdpgun -----------------------------------------------------------------

def kxdpgun(queryfile, dst=hd.V4, seconds=6, qps=5000, during=None):
    """Run kxdpgun in the namespace (XDP on hd-cli); call during(proc) while it
    runs. Returns {"queries", "replies", "rcodes", "output"}."""
    cmd = ["ip", "netns", "exec", NETNS, "kxdpgun", "-t", str(seconds), "-Q", str(qps),
           "-i", queryfile, "-I", CLI_IF, dst]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
    reader.start()
    try:
        if during is not None:
            during(p)
        rc = p.wait(timeout=seconds + 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    reader.join(timeout=5)
    text = "".join(out)
    assert rc == 0, "%s: exit %d\n%s" % (" ".join(cmd), rc, text)
    m_q = re.search(r"^total queries:\s+(\d+)", text, re.M)
    m_r = re.search(r"^total replies:\s+(\d+)", text, re.M)
    assert m_q and m_r, "no totals in kxdpgun's output:\n%s" % text
    rcodes = {k: int(v) for k, v in re.findall(r"^responded (\w+):\s+(\d+)", text, re.M)}
    return {"queries": int(m_q.group(1)), "replies": int(m_r.group(1)), "rcodes": rcodes,
            "output": text}
