# SPDX-License-Identifier: BSD-3-Clause
"""Session fixtures of the Heimdall end-to-end suites.

The test network (scripts/testnet.sh) and the knotd upstream
(scripts/upstream.sh) are brought up here unless they already are (as
scripts/test.sh does), and taken down again only if this session made them.
"""

import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from framework import dnsutil  # noqa: E402
from framework import heimdall as hd  # noqa: E402
from framework.agent import NsAgent  # noqa: E402

SCRIPTS = os.path.join(hd.ROOT, "scripts")
NETNS = "hd-cli"


def _script(name, *args):
    subprocess.run(["bash", os.path.join(SCRIPTS, name)] + list(args), check=True)


def _testnet_present():
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = all(subprocess.run(["ip", "link", "show", "dev", i], capture_output=True).returncode == 0
                for i in (hd.AFXDP_IF, hd.AFPACKET_IF))
    return any(line.split()[0] == NETNS for line in ns.splitlines() if line.strip()) and links


def _upstream_answers():
    try:
        r = dnsutil.ask_upstream(dnsutil.make_query("ready.heimdall.test.", "A"), timeout=1.0)
    except Exception:
        return False
    return any(rr.to_text() == "192.0.2.1" for rrset in r.answer for rr in rrset)


@pytest.fixture(scope="session")
def testnet():
    made = not _testnet_present()
    if made:
        _script("testnet.sh", "up")
    yield
    if made:
        _script("testnet.sh", "down")


@pytest.fixture(scope="session")
def upstream():
    made = not _upstream_answers()
    if made:
        _script("upstream.sh", "start")
    yield dnsutil.UPSTREAM
    if made:
        _script("upstream.sh", "stop")


@pytest.fixture(scope="session")
def agent(testnet):
    a = NsAgent(NETNS)
    yield a
    a.close()


@pytest.fixture(scope="session")
def servers(agent, upstream):
    hd.binary()  # fail early, with the build hint, if there is no binary
    s = hd.Servers(agent)
    yield s
    s.stop_current()


@pytest.fixture
def server(servers):
    """The standard server: af_xdp on hd-srv, 10.53.0.1 and fd53::1, knotd upstream."""
    return servers.default()


@pytest.fixture
def start_heimdall(servers):
    """Start a custom instance for one test (replacing whatever runs); stopped after it,
    and it must exit cleanly."""
    started = []

    def start(name, args, **kw):
        h = servers.start(name, args, **kw)
        started.append(h)
        return h

    yield start
    if started and servers.current is started[-1]:
        servers.stop_current()


class StatsWatch:
    """Counter deltas of /heimdall/stats around what a test does."""

    def __init__(self, h):
        self.h = h
        self.before = h.stats()

    def delta(self, key, after=None):
        after = after if after is not None else self.h.stats()
        return int(after[key]) - int(self.before[key])

    def wait(self, expect, timeout=2.0):
        """Poll until every key in expect reached its delta (or timeout); return the deltas.

        Counters are written by the lcore that did the work just before or after
        it sends a reply; a short wait removes that race, the test then checks
        the exact values.
        """
        deadline = time.monotonic() + timeout
        while True:
            after = self.h.stats()
            got = {k: self.delta(k, after) for k in expect}
            if all(got[k] >= v for k, v in expect.items()) or time.monotonic() > deadline:
                # Let anything in flight land, so "exactly" really means exactly.
                time.sleep(0.1)
                after = self.h.stats()
                self.after = after
                return {k: self.delta(k, after) for k in expect}
            time.sleep(0.05)


@pytest.fixture
def watch():
    return StatsWatch


@pytest.fixture
def list_server():
    """An HTTP server on 127.0.0.1 serving a temporary directory (framework/listserver.py)."""
    from framework.listserver import ListServer
    s = ListServer()
    yield s
    s.close()


@pytest.fixture(scope="session")
def second_client(testnet):
    """The second client address of hd-cli (10.53.0.3, fd53::3), for client groups."""
    from framework import filtering
    out = subprocess.run(["ip", "netns", "exec", NETNS, "ip", "-br", "addr", "show", "dev",
                          filtering.CLI_IF], capture_output=True, text=True).stdout
    have = set(a.split("/")[0] for a in out.split()[2:])
    missing = [a for a in (filtering.CLIENT2_V4, filtering.CLIENT2_V6) if a not in have]
    assert not missing, ("the test network lacks the second client address(es) %s on %s "
                         "(made by an older scripts/testnet.sh? run scripts/testnet.sh up)"
                         % (missing, filtering.CLI_IF))
    return filtering.CLIENT2_V4, filtering.CLIENT2_V6
