# SPDX-License-Identifier: BSD-3-Clause
"""The slow path's side towards the upstream: IDs and source ports differ per
query, and a reply is accepted only from the address and port asked, with the
ID and question sent (the rest is covered by tests/upstream). The upstream here
is a relay to knotd that records what heimdall sent and can forge replies."""

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.upstreams import RecordingUpstream


@pytest.fixture
def recorder(request):
    up = RecordingUpstream(forge=getattr(request, "param", False))
    yield up
    up.close()


def _args(up):
    return ["--listen", hd.V4, "--listen", hd.V6, "--upstream", up.addr]


def test_random_ids_and_source_ports(start_heimdall, recorder, agent):
    h = start_heimdall("recorded", _args(recorder))
    names = [dnsutil.unique("wild.heimdall.test") for _ in range(20)]
    for n in names:
        r, _ = agent.query(hd.V4, dnsutil.make_query(n, "A"), timeout=4.0)
        assert r is not None and r.rcode() == dns.rcode.NOERROR
    seen = [s for s in recorder.records() if s[2] in names]
    assert len(seen) >= len(names), "upstream saw %d of %d queries" % (len(seen), len(names))
    ports = {p for p, _, _ in seen}
    ids = {i for _, i, _ in seen}
    # 20 draws from ~28000 ports / 65536 IDs: a repeat or two is chance, more is not.
    assert len(ports) >= len(seen) - 2, "source ports reused: %s" % sorted(ports)
    assert len(ids) >= len(seen) - 2, "IDs reused: %s" % sorted(ids)
    assert h.alive()


@pytest.mark.parametrize("recorder", [True], indirect=True)
def test_forged_replies_are_ignored(start_heimdall, recorder, agent, watch):
    h = start_heimdall("forged", _args(recorder))
    for addr in (hd.V4, hd.V6):
        name = dnsutil.unique("wild.heimdall.test")
        w = watch(h)
        r, _ = agent.query(addr, dnsutil.make_query(name, "A"), timeout=4.0)
        assert r is not None
        got = [rr.to_text() for rrset in r.answer for rr in rrset]
        assert got == ["192.0.2.77"], "forged answer accepted: %s" % got
        # The wrong-ID and wrong-question forgeries reach heimdall's socket and are
        # rejected; the one from another port may be filtered by the kernel already.
        assert w.wait({"upstream_rejected": 2})["upstream_rejected"] >= 2
        # and the cache holds the real answer
        r, _ = agent.query(addr, dnsutil.make_query(name, "A"), timeout=4.0)
        assert [rr.to_text() for rrset in r.answer for rr in rrset] == ["192.0.2.77"]
