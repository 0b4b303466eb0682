# SPDX-License-Identifier: BSD-3-Clause
"""DNS over TLS to the upstream (RFC 7858): unbound on 127.0.0.1@8853 with a
certificate made at test time (framework/dot.py), forwarding to knotd.

The certificate holds DNS:dot.heimdall.test and IP:127.0.0.1 and is signed
by a CA given to heimdall with --tls-ca-file. Answers come back when the CA
and the name match (unbound counts the queries it got over TLS); with the
wrong name or a CA that did not sign the certificate, heimdall refuses the
connection: the client gets SERVFAIL and /heimdall/upstreams a failure."""

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework import resolver as rs
from framework.dot import DOT_NAME, DOT_PORT, Pki, UnboundTls

WILD = "wild.heimdall.test"
V4_ONLY = (hd.V4,)
FAST_FAIL = ["--upstream-timeout-ms", "600", "--upstream-budget-ms", "1500"]


@pytest.fixture(scope="module")
def pki():
    p = Pki()
    yield p
    p.close()


@pytest.fixture(scope="module")
def dot_server(pki, upstream):
    u = UnboundTls(pki)
    u.start()
    yield u
    u.close()


def _start(start_heimdall, name, server, ca, ready=True):
    args = rs.base_args("tls://" + server) + ["--tls-ca-file", ca] + FAST_FAIL
    return start_heimdall(name, args, listen=V4_ONLY, ready=ready)


@pytest.mark.parametrize("target", ["%s:%d#%s" % ("127.0.0.1", DOT_PORT, DOT_NAME),
                                    "127.0.0.1:%d" % DOT_PORT],
                         ids=["by-name", "by-address"])
def test_dot_upstream_answers(start_heimdall, agent, dot_server, pki, watch, target):
    h = _start(start_heimdall, "dot", target, pki.ca)
    row = rs.servers(h)[0][1]
    assert row["transport"] == "tls" and int(row["port"]) == DOT_PORT, row
    if "#" in target:
        assert row.get("tls_name") == DOT_NAME, row
    before = dot_server.tls_queries()
    w = watch(h)
    names = [dnsutil.unique(WILD) for _ in range(10)]
    for name in names:
        r, _ = rs.ask(agent, name)
        ref = dnsutil.ask_upstream(dnsutil.make_query(name, "A", edns=0))
        dnsutil.assert_same_answer(r, ref, name)
    got = dot_server.tls_queries() - before
    assert got >= len(names), "unbound got %d queries over TLS for %d misses" % (got, len(names))
    assert w.wait({"upstream_queries": 10})["upstream_queries"] == 10
    assert w.delta("servfail") == 0
    row = rs.servers(h)[0][1]
    assert row["state"] == "up" and int(row["replies"]) >= len(names), row
    assert int(row["failures"]) == 0, row


@pytest.mark.parametrize("case", ["wrong-name", "untrusted-ca"])
def test_dot_bad_certificate_is_refused(start_heimdall, agent, dot_server, pki, watch, case):
    if case == "wrong-name":
        target, ca = "127.0.0.1:%d#wrong.heimdall.test" % DOT_PORT, pki.ca
    else:
        target, ca = "127.0.0.1:%d#%s" % (DOT_PORT, DOT_NAME), pki.other_ca
    h = _start(start_heimdall, "dot-" + case, target, ca, ready=False)
    rs.wait_formerr_ready(agent, h)
    before = dot_server.tls_queries()
    w = watch(h)
    for _ in range(3):
        r, elapsed = rs.ask(agent, dnsutil.unique(WILD), timeout=5.0)
        assert r.rcode() == dns.rcode.SERVFAIL, "%s: rcode %s %s" % (
            case, dns.rcode.to_text(r.rcode()), rs.addrs(r))
    assert dot_server.tls_queries() == before, "a query crossed a refused TLS session"
    assert w.wait({"servfail": 3})["servfail"] == 3
    row = rs.servers(h)[0][1]
    assert int(row["failures"]) >= 1, "%s: no failure in /heimdall/upstreams: %s" % (case, row)
    assert int(row["replies"]) == 0, row
