# SPDX-License-Identifier: BSD-3-Clause
"""A scriptable upstream on loopback for the resolver-quality suites.

FakeUpstream is a UDP DNS server in a thread of the test process that
counts every query it receives (what "exactly one upstream query" is
measured against), can delay its answers (a slow server, a server that
holds the question while clients pile up), can be stopped and started on
the same port (a dead server: the kernel answers port unreachable), or
stay bound and silent (a server that times out). It either relays each
query to knotd (real zone data) or synthesizes an A record of its own
(so a test can tell which server answered, and change the answer to see
a refresh land in the cache).
"""

import socket
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from . import dnsutil


class FakeUpstream:
    """UDP DNS server on 127.0.0.1:port (port 0: the kernel picks one, kept across restarts).

    mode "relay": ask knotd (dnsutil.UPSTREAM) and return its answer.
    mode "synth": answer every A question with one A record, address
    self.address, TTL self.ttl; other types NODATA. delay: seconds before
    the answer goes out (each query on its own timer, so delays overlap).
    """

    def __init__(self, mode="relay", delay=0.0, address="198.51.100.1", ttl=300, port=0,
                 name="fake"):
        assert mode in ("relay", "synth")
        self.mode, self.delay, self.address, self.ttl = mode, delay, address, ttl
        self.name = name
        self.silent = False
        # Called as on_query(query message, wire, peer) in the server thread before
        # the answer is scheduled (a test injects forgeries there).
        self.on_query = None
        self.lock = threading.Lock()
        self.log = []        # (monotonic time, qname lowercase, qtype text, id, peer port)
        self.answered = 0
        self.sock = None
        self.thread = None
        self.port = port
        self.start()

    # -- life cycle --------------------------------------------------------
    def start(self):
        """Bind (again, on the same port) and serve."""
        assert self.sock is None, "%s already running" % self.name
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.settimeout(0.1)
        self.port = s.getsockname()[1]
        self.sock = s
        self.thread = threading.Thread(target=self._loop, args=(s,), daemon=True)
        self.thread.start()

    def stop(self):
        """Close the socket: queries now get ICMP port unreachable from the kernel."""
        s, self.sock = self.sock, None
        if s is not None:
            self.thread.join(timeout=2)
            s.close()

    close = stop

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    # -- what it saw -------------------------------------------------------
    def queries(self, qname=None):
        """[(time, qname, qtype, id, port)] received so far (for one name if given)."""
        with self.lock:
            log = list(self.log)
        if qname is None:
            return log
        q = qname.lower().rstrip(".") + "."
        return [e for e in log if e[1] == q]

    def count(self, qname=None):
        return len(self.queries(qname))

    def count_names(self, names):
        """How many of names this upstream was asked (each name counted once per query)."""
        want = {n.lower().rstrip(".") + "." for n in names}
        return sum(1 for e in self.queries() if e[1] in want)

    def reset(self):
        with self.lock:
            self.log = []
            self.answered = 0

    # -- serving -----------------------------------------------------------
    def _loop(self, s):
        while self.sock is s:
            try:
                data, peer = s.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
                question = q.question[0]
            except Exception:
                continue
            with self.lock:
                self.log.append((time.monotonic(), question.name.to_text().lower(),
                                 dns.rdatatype.to_text(question.rdtype), q.id, peer[1]))
            if self.on_query is not None:
                self.on_query(q, data, peer)
            if self.silent:
                continue
            if self.delay > 0:
                t = threading.Timer(self.delay, self._answer, args=(s, q, data, peer))
                t.daemon = True
                t.start()
            else:
                self._answer(s, q, data, peer)

    def _answer(self, s, q, data, peer):
        try:
            wire = self._relay(data) if self.mode == "relay" else self._synth(q)
            if wire is None or self.sock is not s:
                return
            s.sendto(wire, peer)
            with self.lock:
                self.answered += 1
        except OSError:
            pass  # stopped meanwhile: the answer is lost, as with a dead server

    @staticmethod
    def _relay(data):
        ref = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            ref.settimeout(2.0)
            ref.sendto(data, dnsutil.UPSTREAM)
            answer, _ = ref.recvfrom(65535)
            return answer
        except OSError:
            return None
        finally:
            ref.close()

    def _synth(self, q):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        question = q.question[0]
        if question.rdtype == dns.rdatatype.A:
            r.answer = [dns.rrset.from_text(question.name, self.ttl, "IN", "A", self.address)]
        r.set_rcode(dns.rcode.NOERROR)
        return r.to_wire()


class Fleet:
    """Several FakeUpstreams a test owns; all stopped at the end."""

    def __init__(self):
        self.ups = []

    def add(self, **kw):
        up = FakeUpstream(**kw)
        self.ups.append(up)
        return up

    def close(self):
        for up in self.ups:
            up.stop()
