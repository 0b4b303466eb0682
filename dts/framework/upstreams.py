# SPDX-License-Identifier: BSD-3-Clause
"""Stand-in upstreams on loopback: one that never answers, and one that relays
to knotd while recording what heimdall sent (and, on request, first sends
forged replies that heimdall must ignore)."""

import socket
import threading

import dns.message
import dns.name
import dns.rrset

from . import dnsutil


class SilentUpstream:
    """A UDP socket that receives queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port

    def close(self):
        self.sock.close()


class RecordingUpstream:
    """Relays each query to knotd and returns its answer from the port asked.

    Records (source port, ID, qname) of every datagram. With forge=True, before
    the real answer it sends three forgeries carrying a different address:
    one from another port, one with the wrong ID, one for another question.
    """

    FORGED_ADDR = "203.0.113.66"

    def __init__(self, forge=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.forge = forge
        self.seen = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:
                continue
            with self.lock:
                self.seen.append((peer[1], q.id, q.question[0].name.to_text().lower()))
            if self.forge:
                self._send_forgeries(q, data, peer)
            try:
                ref = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                ref.settimeout(2.0)
                ref.sendto(data, dnsutil.UPSTREAM)
                answer, _ = ref.recvfrom(65535)
                ref.close()
            except OSError:
                continue
            self.sock.sendto(answer, peer)

    def _forged(self, q, qid, name=None):
        r = dns.message.make_response(q)
        r.id = qid
        owner = q.question[0].name if name is None else dns.name.from_text(name)
        if name is not None:
            r.question = [dns.rrset.RRset(owner, q.question[0].rdclass, q.question[0].rdtype)]
        r.answer = [dns.rrset.from_text(owner, 300, "IN", "A", self.FORGED_ADDR)]
        return r.to_wire()

    def _send_forgeries(self, q, data, peer):
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.1", 0))
        other.sendto(self._forged(q, q.id), peer)               # wrong source port
        other.close()
        self.sock.sendto(self._forged(q, (q.id + 1) & 0xFFFF), peer)  # wrong ID
        self.sock.sendto(self._forged(q, q.id, "forged.heimdall.test."), peer)  # wrong question

    def records(self):
        with self.lock:
            return list(self.seen)

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()

