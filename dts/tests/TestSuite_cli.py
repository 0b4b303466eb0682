# SPDX-License-Identifier: BSD-3-Clause
"""The command line: --help documents every option of lib/config's table and
exits 0; an unknown option, a bad value or an unknown config key is refused
with a message naming it; --config FILE works and flags override it."""

import os
import re
import subprocess
import tempfile

import dns.rcode
import pytest

from framework import dnsutil
from framework import heimdall as hd
from framework.upstreams import SilentUpstream

OPTIONS_C = os.path.join(hd.ROOT, "lib", "config", "options.c")


def _table_keys():
    """The YAML keys of the option table, read from its source."""
    with open(OPTIONS_C) as f:
        src = f.read()
    keys = re.findall(r'\[OPT_[A-Z0-9_]+\]\s*=\s*\{\s*"([a-z0-9.\-]+)"', src)
    assert len(keys) >= 15, "could not read the option table from %s" % OPTIONS_C
    return keys


def _run(args, timeout=30):
    return subprocess.run([hd.binary()] + args, capture_output=True, text=True, timeout=timeout)


def _eal(prefix):
    return ["-l", "0-1", "--no-pci", "--vdev=" + hd.afxdp_vdev(), "--file-prefix", prefix]


BASE = ["--listen", hd.V4, "--listen", hd.V6, "--upstream", hd.UPSTREAM]


@pytest.mark.parametrize("argv", [["--help"], ["--", "--help"], ["-l", "0", "--", "-h"]],
                         ids=["bare", "after-dashdash", "short"])
def test_help_lists_every_option(servers, argv):
    p = _run(argv)
    assert p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr)
    text = p.stdout
    for key in _table_keys():
        flag = "--" + key.replace(".", "-")
        assert re.search(r"^\s+%s\b" % re.escape(flag), text, re.M), "--help does not list %s" % flag
    for flag in ("--config", "--help", "--no-tcp"):
        assert flag in text, "--help does not list %s" % flag
    # each option is followed by its help line
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s{2}--", line):
            assert i + 1 < len(lines) and lines[i + 1].strip() and not lines[i + 1].lstrip().startswith("--"), \
                "option without help text: %s" % line.strip()


def test_version(servers):
    p = _run(["--", "--version"])
    assert p.returncode == 0 and "heimdall" in p.stdout


@pytest.mark.parametrize("extra,named", [
    (["--bogus-option"], "bogus-option"),
    (["--cache-max-tll", "60"], "cache-max-tll"),
    (["--udp-size", "99999"], "udp-size"),
    (["--listen", "10.53.0.300"], "listen"),
    (["--upstream", "not-an-address"], "upstream"),
    (["--ring-size", "1000"], "ring-size"),       # must be a power of two
    (["--cache-max-ttl"], "cache-max-ttl"),        # value missing
    (["stray-argument"], "stray-argument"),
])
def test_bad_option_refused_naming_it(servers, extra, named):
    p = _run(_eal("hd-dts-cli") + ["--"] + BASE + extra)
    assert p.returncode != 0, "accepted %s" % extra
    assert named in p.stderr, "message does not name %r: %r" % (named, p.stderr)
    assert "Traceback" not in p.stderr and "Segmentation" not in p.stderr


def _write(tmpdir, text, name="heimdall.yaml"):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.mark.parametrize("yaml,named", [
    ("bogus-key: 1\n", "bogus-key"),
    ("cache:\n  entries: 1024\n  bogus: 1\n", "cache.bogus"),
    ("udp-size: lots\n", "udp-size"),
])
def test_bad_config_key_refused_naming_it(servers, yaml, named):
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "listen: [%s]\nupstream: %s\n%s" % (hd.V4, hd.UPSTREAM, yaml))
        p = _run(_eal("hd-dts-cli") + ["--", "--config", path])
    assert p.returncode != 0, "accepted a config with %r" % yaml
    assert named in p.stderr, "message does not name %r: %r" % (named, p.stderr)
    assert "heimdall.yaml" in p.stderr, "message does not name the file: %r" % p.stderr


def test_missing_config_file_refused(servers):
    p = _run(_eal("hd-dts-cli") + ["--", "--config", "/nonexistent/heimdall.yaml"])
    assert p.returncode != 0
    assert "/nonexistent/heimdall.yaml" in p.stderr, p.stderr


def _payload(agent, addr):
    r, _ = agent.query(addr, dnsutil.make_query("www.heimdall.test.", "A", edns=0, payload=4096))
    assert r is not None and r.rcode() == dns.rcode.NOERROR and r.answer
    return r.payload


def test_config_file_works(start_heimdall, agent):
    """Listen addresses and upstream only in the file: heimdall answers on both."""
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "# settings from a file\nlisten:\n  - %s\n  - %s\nupstream: %s\n"
                         "cache:\n  max-ttl: 600\n" % (hd.V4, hd.V6, hd.UPSTREAM))
        start_heimdall("config", ["--config", path])
        for addr in (hd.V4, hd.V6):
            r, _ = agent.query(addr, dnsutil.make_query("www.heimdall.test.", "A"))
            assert r is not None and r.rcode() == dns.rcode.NOERROR and r.answer


def test_flags_override_config_file(start_heimdall, agent):
    """The file's upstream never answers: --upstream replaces the file's list."""
    silent = SilentUpstream()
    try:
        with tempfile.TemporaryDirectory() as d:
            path = _write(d, "listen: [%s, %s]\nupstream: [%s]\n" % (hd.V4, hd.V6, silent.addr))
            start_heimdall("config-flags", ["--config", path, "--upstream", hd.UPSTREAM])
            for addr in (hd.V4, hd.V6):
                q = dnsutil.make_query(dnsutil.unique("wild.heimdall.test"), "A")
                r, _ = agent.query(addr, q, timeout=4.0)
                assert r is not None and r.rcode() == dns.rcode.NOERROR, \
                    "the file's upstream was used despite --upstream"
    finally:
        silent.close()


def test_udp_size_from_file_and_flag(start_heimdall, agent):
    """udp-size is the EDNS payload size advertised: the file's value, unless a flag says."""
    with tempfile.TemporaryDirectory() as d:
        path = _write(d, "listen: [%s, %s]\nupstream: %s\nudp-size: 1400\n" % (
            hd.V4, hd.V6, hd.UPSTREAM))
        start_heimdall("udp-size-file", ["--config", path])
        for addr in (hd.V4, hd.V6):
            assert _payload(agent, addr) == 1400, "udp-size from the file not advertised"
        start_heimdall("udp-size-flag", ["--config", path, "--udp-size", "1300"])
        for addr in (hd.V4, hd.V6):
            assert _payload(agent, addr) == 1300, "--udp-size did not override the file"
