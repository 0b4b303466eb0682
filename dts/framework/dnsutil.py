# SPDX-License-Identifier: BSD-3-Clause
"""Building queries and comparing heimdall's answers with the upstream's."""

import random
import struct
import uuid

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

UPSTREAM = ("127.0.0.1", 5300)


def unique(suffix):
    """A fresh owner name under suffix (a wildcard in the test zone), never cached before."""
    return "u%s.%s" % (uuid.uuid4().hex[:12], suffix.rstrip(".") + ".")


def mixed_case(name, seed=None):
    """The same name with letters of random case (the reply must echo them as sent)."""
    rnd = random.Random(seed)
    return "".join(c.upper() if c.isalpha() and rnd.random() < 0.5 else c.lower()
                   for c in name)


def make_query(name, rdtype="A", edns=None, payload=1232, rd=True, do=False, qid=None):
    """A query as kdig would send it. edns=None: no OPT; edns=0: EDNS version 0."""
    q = dns.message.make_query(name, rdtype, want_dnssec=do)
    # Set here rather than through make_query(use_edns=), which treats any
    # true value as "version 0" in some dnspython releases.
    q.use_edns(edns=-1 if edns is None else edns, payload=payload,
               ednsflags=dns.flags.DO if do else 0)
    q.id = random.randrange(0, 65536) if qid is None else qid
    if rd:
        q.flags |= dns.flags.RD
    else:
        q.flags &= ~dns.flags.RD
    return q


def question_wire(wire):
    """The question section bytes of a one-question message (name as sent, type, class)."""
    off = 12
    while True:
        n = wire[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0:
            raise ValueError("compressed name in question")
        off += 1 + n
    return wire[12:off + 4]


def header(wire):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", wire[:12])
    return {"id": qid, "flags": flags, "qd": qd, "an": an, "ns": ns, "ar": ar}


def ask_upstream(q, tcp=False, timeout=3.0):
    """The reference answer: the same query asked of knotd directly."""
    if tcp:
        return dns.query.tcp(q, UPSTREAM[0], port=UPSTREAM[1], timeout=timeout)
    return dns.query.udp(q, UPSTREAM[0], port=UPSTREAM[1], timeout=timeout,
                         raise_on_truncation=False)


def rrsets_view(section):
    """Section contents without TTLs: {(owner, class, type): frozenset of rdata}.

    Names compare without regard to letter case (a reply may spell names in
    RDATA with the client's case by compressing them against its question);
    rdata compare in DNSSEC canonical form, so TXT and the like keep theirs.
    """
    out = {}
    for rrset in section:
        key = (rrset.name.to_text().lower(), dns.rdataclass.to_text(rrset.rdclass),
               dns.rdatatype.to_text(rrset.rdtype))
        out.setdefault(key, set()).update(rrset)
    return {k: frozenset(v) for k, v in out.items()}


def ttls(section):
    return {(r.name.to_text().lower(), r.rdtype): r.ttl for r in section}


def assert_same_answer(got, ref, what=""):
    """Heimdall's reply carries what the upstream's does: rcode, answer, authority,
    nothing invented in additional, and TTLs never above the upstream's."""
    ctx = " (%s)" % what if what else ""
    assert got.rcode() == ref.rcode(), "rcode %s, upstream %s%s" % (
        dns.rcode.to_text(got.rcode()), dns.rcode.to_text(ref.rcode()), ctx)
    assert rrsets_view(got.answer) == rrsets_view(ref.answer), "answer differs%s:\n%s\nupstream:\n%s" % (
        ctx, got.answer, ref.answer)
    assert rrsets_view(got.authority) == rrsets_view(ref.authority), \
        "authority differs%s:\n%s\nupstream:\n%s" % (ctx, got.authority, ref.authority)
    ga, ra = rrsets_view(got.additional), rrsets_view(ref.additional)
    extra = {k: v for k, v in ga.items() if ra.get(k) != v}
    assert not extra, "additional records the upstream did not send%s: %s" % (ctx, extra)
    rt = ttls(ref.answer + ref.authority)
    for key, ttl in ttls(got.answer + got.authority).items():
        assert ttl <= rt[key], "TTL %d above the upstream's %d for %s%s" % (ttl, rt[key], key, ctx)


def assert_reply_header(q, qwire, r, rwire):
    """ID, question (byte for byte, letter case included), QR, opcode, RA, RD as sent."""
    assert r.id == q.id, "reply ID %d, query ID %d" % (r.id, q.id)
    assert question_wire(rwire) == question_wire(qwire), "question not echoed as sent: %r vs %r" % (
        question_wire(rwire), question_wire(qwire))
    assert r.flags & dns.flags.QR, "QR not set"
    assert r.opcode() == dns.opcode.QUERY
    assert r.flags & dns.flags.RA, "RA not set"
    assert bool(r.flags & dns.flags.RD) == bool(q.flags & dns.flags.RD), "RD not copied"
