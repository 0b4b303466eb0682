# SPDX-License-Identifier: BSD-3-Clause
"""dpdk-dumpcap attached to a running heimdall, and reading what it wrote with tshark.

dpdk-dumpcap is a DPDK secondary process: it needs heimdall's --file-prefix,
and asks heimdall (which called rte_pdump_init) to copy the packets of one
port into a ring it writes to a pcapng file.
"""

import os
import signal
import subprocess
import time

DUMPCAP = "/usr/bin/dpdk-dumpcap"
TSHARK = "/usr/bin/tshark"


class DumpCap:
    """One dpdk-dumpcap process on one port of the heimdall with file prefix `prefix`."""

    def __init__(self, prefix, iface, path, duration=30):
        self.prefix = prefix
        self.iface = iface
        self.path = path
        self.err_path = path + ".stderr"
        # -a duration bounds it even if nobody stops it; -p leaves the
        # interface's promiscuous mode alone (heimdall only needs its own MAC).
        self.cmd = [DUMPCAP, "--file-prefix=" + prefix, "-i", iface, "-p", "-w", path,
                    "-a", "duration:%d" % duration]
        self.proc = None
        self.rc = None

    def start(self, timeout=10.0):
        """Start and wait until the capture is enabled in heimdall (dumpcap prints
        its "Packets captured:" counter on stderr only after heimdall said yes);
        raise with dumpcap's output if it exits or hangs."""
        for p in (self.path, self.err_path):
            if os.path.exists(p):
                os.unlink(p)
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self._err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Packets captured:" in self.stderr():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("dpdk-dumpcap did not start capturing (rc %s): %s\n%s" % (
            self.proc.returncode, " ".join(self.cmd), self.stderr()))

    def stderr(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=10.0):
        """SIGINT (dumpcap then turns the capture off in heimdall and closes the
        file); return its exit code, None if it had to be killed."""
        if self.proc is None:
            return self.rc
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.rc = None
        self._err.close()
        return self.rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        for p in (self.path, self.err_path):
            try:
                os.unlink(p)
            except OSError:
                pass


def dns_fields(path):
    """[(query name, is_response)] of every DNS packet in a capture file, via tshark."""
    out = subprocess.run([TSHARK, "-r", path, "-Y", "dns", "-T", "fields",
                          "-e", "dns.qry.name", "-e", "dns.flags.response"],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("tshark -r %s failed: %s" % (path, out.stderr))
    rows = []
    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        rows.append((parts[0].rstrip(".").lower(), parts[1].strip() in ("1", "True", "true")))
    return rows
