# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of the resolver-quality suites (upstreams, stale, persistence,
dot): timed and concurrent queries from the namespace, /heimdall/upstreams
and /heimdall/cache, readiness of an instance whose upstream cannot answer."""

import json
import os
import subprocess
import time

import dns.message
import dns.rcode
import dns.rdatatype

from . import dnsutil
from . import heimdall as hd
from .agent import PYTHON
from . import filtering
from .filtering import NETNS, tel

BURST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "burst.py")

EDE_STALE = 3              # RFC 8914 "Stale Answer"
DEFAULT_STALE_TTL = 30     # --stale-ttl default (RFC 8767 recommends 30 s)

ede = filtering.ede        # [(EDE code, text)] of a reply
poll = filtering.poll      # fn() until true or timeout


def addrs(r):
    """Sorted A/AAAA addresses of a reply's answer section."""
    return sorted(rr.to_text() for rrset in r.answer for rr in rrset
                  if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA))


def ask(agent, name, rdtype="A", addr=hd.V4, edns=0, timeout=4.0, qid=None):
    """One UDP query from the namespace: (reply, elapsed s). A reply is required,
    with the ID and question echoed."""
    q = dnsutil.make_query(name, rdtype, edns=edns, qid=qid)
    wire = q.to_wire()
    data, elapsed, _ = agent.send_udp(addr, wire, timeout=timeout)
    assert data is not None, "no reply for %s %s from %s within %.1f s" % (name, rdtype, addr, timeout)
    r = dns.message.from_wire(data)
    dnsutil.assert_reply_header(q, wire, r, data)
    return r, elapsed


def ask_noerror(agent, name, want=None, **kw):
    """A NOERROR answer (with exactly the addresses want, if given)."""
    r, elapsed = ask(agent, name, **kw)
    assert r.rcode() == dns.rcode.NOERROR, "%s: rcode %s\n%s" % (name, dns.rcode.to_text(r.rcode()), r)
    if want is not None:
        assert addrs(r) == sorted(want), "%s: answer %s, want %s" % (name, addrs(r), sorted(want))
    return r, elapsed


def burst(msgs, dst=hd.V4, timeout=4.0):
    """Send every dns.message at once from its own socket in the namespace; return
    [(reply message or None, reply wire or None, elapsed or None)] in order."""
    req = {"dst": dst, "port": 53, "datas": [m.to_wire().hex() for m in msgs], "timeout": timeout}
    p = subprocess.run(["ip", "netns", "exec", NETNS, PYTHON, BURST], input=json.dumps(req),
                       capture_output=True, text=True, timeout=timeout + 30)
    assert p.returncode == 0, "burst.py failed (%d): %s" % (p.returncode, p.stderr)
    out = json.loads(p.stdout)
    res = []
    for h, e in zip(out["replies"], out["elapsed"]):
        wire = bytes.fromhex(h) if h is not None else None
        res.append((dns.message.from_wire(wire) if wire else None, wire, e))
    return res, out["send_s"]


# -- telemetry ---------------------------------------------------------------

def _tel_dict(h, command):
    v = tel(h, command)
    # DPDK answers null for a command it does not know, and for one whose
    # handler failed; rte_telemetry_register_cmd() refuses a help text of
    # RTE_TEL_MAX_STRING_LEN (128) characters or more.
    assert isinstance(v, dict), "%s answered %r: not registered (help text >= 128 characters?) " \
        "or its handler failed" % (command, v)
    return v


def upstreams(h):
    """/heimdall/upstreams: {"strategy": ..., "0": {...}, "1": {...}, ...}."""
    return _tel_dict(h, "/heimdall/upstreams")


def servers(h):
    """[(rank, state dict)] of /heimdall/upstreams, in rank order."""
    u = upstreams(h)
    return sorted(((int(k), v) for k, v in u.items() if k.isdigit()), key=lambda kv: kv[0])


def server(h, port, group=None):
    """The /heimdall/upstreams entry of the server on 127.0.0.1:port (in group, if given)."""
    rows = [v for _, v in servers(h) if int(v.get("port", -1)) == port
            and (group is None or v.get("group") == group)]
    assert len(rows) == 1, "/heimdall/upstreams has %d entries for port %d%s: %s" % (
        len(rows), port, " in group %s" % group if group else "", upstreams(h))
    return rows[0]


def cache_state(h):
    return _tel_dict(h, "/heimdall/cache")


# -- instances whose upstream cannot answer the readiness probe ---------------

def wait_formerr_ready(agent, h, addrs_=(hd.V4,), timeout=30.0):
    """Start-up done when a query with no question gets FORMERR: it needs no upstream."""
    h.wait_ready(None)
    wire = bytes.fromhex("77770100000000000000" "0000")
    deadline = time.monotonic() + timeout
    pending = list(addrs_)
    while pending and time.monotonic() < deadline:
        assert h.alive(), h.logs()
        for a in list(pending):
            data, _, _ = agent.send_udp(a, wire, timeout=0.5)
            if data is not None:
                pending.remove(a)
    assert not pending, "heimdall not answering on %s\n%s" % (pending, h.logs())
    return h


def base_args(*ups, v6=False):
    args = ["--listen", hd.V4] + (["--listen", hd.V6] if v6 else [])
    for u in ups:
        args += ["--upstream", u if isinstance(u, str) else u.addr]
    return args


def log_text(h):
    """stdout + stderr of an instance so far."""
    out = []
    for p in (h.stdout_path, h.stderr_path):
        try:
            with open(p, errors="replace") as f:
                out.append(f.read())
        except OSError:
            pass
    return "\n".join(out)
