# SPDX-License-Identifier: BSD-3-Clause
"""The checks of scripts/check-packaging.sh, one subcommand each.

    packaging_checks.py release DEST HD_BUILD_CONFIG_H
    packaging_checks.py docker-structure Dockerfile
    packaging_checks.py docker-build-deps Dockerfile scripts/deps.sh
    packaging_checks.py docker-runtime Dockerfile DEST
    packaging_checks.py systemd heimdall.service DEST
    packaging_checks.py helm CHART_DIR
    packaging_checks.py grafana DASHBOARD.json DOCS_DIR METRIC_NAMES.txt SRC_ROOT
    packaging_checks.py trex scripts/trex

Each prints what it found and exits 1 on the first class of problem it
reports (all problems of that class are listed).
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

PMD_DIR = "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
# DPDK drivers the EAL loads from PMD_DIR (not linked, so ldd cannot see
# them) that heimdall needs: the mempool of every mbuf pool, the buses, and
# the PMD of each port mode (docs/running.md) and of the NICs the image
# supports for vfio-pci.
NEEDED_PMDS = [
    "mempool_ring", "bus_vdev", "bus_pci",
    "net_af_xdp", "net_af_packet", "net_tap", "net_virtio", "net_ring",
    "net_ixgbe", "net_i40e", "net_ice", "net_iavf", "net_e1000", "net_mlx5", "net_vmxnet3",
]
# Runtime packages that no library needs but the image does, and why.
RUNTIME_EXTRAS = {
    "curl": "the HEALTHCHECK",
    "ca-certificates": "DNS-over-TLS upstreams and https blocklists",
}
# Packages of scripts/deps.sh that the release build does not need: CUnit
# (unit tests), the sanitizer runtime (asan/fuzz builds) and dpdk-dev
# (DPDK's tools: dpdk-devbind.py, dpdk-dumpcap, testpmd).
TEST_ONLY_DEV = {"libcunit1-dev", "libclang-rt-14-dev", "dpdk-dev"}


def fail(msg, items=()):
    print("error: " + msg)
    for i in items:
        print("  " + i)
    sys.exit(1)


# -- Dockerfile ---------------------------------------------------------------------

def dockerfile_stages(path):
    """[(from_line, alias, [logical instruction lines])] with continuations joined."""
    text = open(path).read()
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        lines.append(cur)
        cur = ""
    stages = []
    for ln in lines:
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?\s*$", ln, re.I)
        if m:
            stages.append((m.group(1), (m.group(2) or "").lower(), []))
        elif stages:
            stages[-1][2].append(ln)
    return stages


def apt_packages(instructions):
    """Package names of the `apt-get install` commands of RUN instructions."""
    pkgs = []
    for ln in instructions:
        if not ln.upper().startswith("RUN "):
            continue
        for cmd in re.split(r"&&|;|\|\|", ln[4:]):
            words = cmd.split()
            if "apt-get" in words and "install" in words:
                for w in words[words.index("install") + 1:]:
                    if not w.startswith("-") and not w.startswith("$"):
                        pkgs.append(w)
    return pkgs


def stage(stages, alias):
    for s in stages:
        if s[1] == alias:
            return s
    fail("no stage 'AS %s' in the Dockerfile" % alias)


def cmd_docker_structure(dockerfile):
    stages = dockerfile_stages(dockerfile)
    text = open(dockerfile).read()
    problems = []
    if len(stages) != 2:
        problems.append("expected 2 stages (build, runtime), found %d" % len(stages))
    b = stage(stages, "build")
    r = stage(stages, "runtime")
    if not b[0].startswith("debian:12") or b[0].startswith("debian:12-slim"):
        problems.append("build stage must be FROM debian:12, is %s" % b[0])
    if r[0] != "debian:12-slim":
        problems.append("runtime stage must be FROM debian:12-slim, is %s" % r[0])
    if not any("scripts/build-release.sh" in ln for ln in b[2] if ln.upper().startswith("RUN")):
        problems.append("the build stage must RUN scripts/build-release.sh (what CI runs)")
    if not any(re.match(r"COPY\s+--from=build\s", ln) for ln in r[2]):
        problems.append("the runtime stage must COPY --from=build the installed tree")
    for ln in r[2]:
        if re.match(r"COPY\s", ln) and "--from=build" not in ln:
            problems.append("runtime COPY from the context: %s" % ln)
    if "--privileged" in re.sub(r"not --privileged", "", text):
        problems.append("--privileged is mentioned as a way to run it")
    for cap in ("NET_ADMIN", "NET_RAW", "SYS_ADMIN", "IPC_LOCK", "--cap-drop ALL"):
        if cap not in text:
            problems.append("the run instructions do not mention %s" % cap)
    kw = [ln.split()[0].upper() for ln in r[2]]
    for k in ("EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "USER"):
        if k not in kw:
            problems.append("runtime stage lacks %s" % k)
    if not any(re.match(r"EXPOSE\s.*\b8053/tcp\b", ln) for ln in r[2]):
        problems.append("runtime stage must EXPOSE 8053/tcp (HTTP)")
    if not any("/health" in ln for ln in r[2] if ln.upper().startswith("HEALTHCHECK")):
        problems.append("HEALTHCHECK must ask /health")
    if not any("heimdall" in ln for ln in r[2] if ln.upper().startswith("ENTRYPOINT")):
        problems.append("ENTRYPOINT must be heimdall")
    if problems:
        fail("Dockerfile structure", problems)
    print("stages: build FROM %s, runtime FROM %s; %d runtime packages"
          % (b[0], r[0], len(apt_packages(r[2]))))


def deps_sh_packages(path):
    m = re.search(r"pkgs=\((.*?)\)", open(path).read(), re.S)
    if not m:
        fail("no pkgs=( ... ) list in %s" % path)
    return m.group(1).split()


def cmd_docker_build_deps(dockerfile, deps_sh):
    build = set(apt_packages(stage(dockerfile_stages(dockerfile), "build")[2]))
    need = [p for p in deps_sh_packages(deps_sh)
            if (p.endswith("-dev") and p not in TEST_ONLY_DEV)
            or p in ("meson", "ninja-build", "pkg-config", "clang", "build-essential")]
    missing = [p for p in need if p not in build]
    if missing:
        fail("build packages of %s missing from the Dockerfile's build stage" % deps_sh, missing)
    print("build stage has the %d build packages of %s" % (len(need), deps_sh))


def dpkg_owner(path):
    """Package owning a file, trying the /usr-merged spellings of the path."""
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        if p.startswith("/usr/lib/"):
            cands.append(p[4:])
        elif p.startswith("/lib/"):
            cands.append("/usr" + p)
    for p in cands:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return None


def installed_depends(pkg, cache):
    if pkg in cache:
        return cache[pkg]
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}, ${Pre-Depends}", pkg],
                       capture_output=True, text=True)
    deps = set()
    if r.returncode == 0:
        for alt in r.stdout.split(","):
            for d in alt.split("|"):
                name = d.strip().split(" ")[0].split(":")[0]
                if name:
                    deps.add(name)
    cache[pkg] = deps
    return deps


def closure(pkgs):
    cache, seen, todo = {}, set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(installed_depends(p, cache) - seen)
    return seen


def base_packages():
    """Essential and required packages: what debian:12-slim already holds."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\n"],
                         capture_output=True, text=True, check=True).stdout
    base = set()
    for ln in out.splitlines():
        f = ln.split()
        if len(f) >= 3 and (f[1] == "yes" or f[2] == "required"):
            base.add(f[0])
    return closure(base)


def ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs, missing = [], []
    for ln in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", ln)
        if m:
            if m.group(2) == "not":
                missing.append(m.group(1))
            else:
                libs.append(m.group(2))
        else:
            m = re.match(r"\s*(/\S+) \(", ln)
            if m:
                libs.append(m.group(1))
    return libs, missing


def elf_files(dest):
    out = []
    for d in ("usr/bin", "usr/sbin"):
        for f in sorted(glob.glob(os.path.join(dest, d, "*"))):
            with open(f, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(f)
    return out


def cmd_docker_runtime(dockerfile, dest):
    listed = apt_packages(stage(dockerfile_stages(dockerfile), "runtime")[2])
    unknown = [p for p in listed
               if subprocess.run(["apt-cache", "show", p], capture_output=True).returncode != 0]
    if unknown:
        fail("runtime packages Debian does not have (apt-cache show)", unknown)
    provided = closure(listed) | base_packages()

    # What must be there: the libraries of each installed ELF, the driver
    # plugins the EAL loads, and their libraries.
    needs = {}  # file -> why
    problems = []
    bins = elf_files(dest)
    if not bins:
        fail("no executables under %s/usr/bin" % dest)
    for b in bins:
        libs, missing = ldd(b)
        problems += ["%s: %s not found on this machine" % (b, m) for m in missing]
        for lib in libs:
            needs.setdefault(lib, os.path.basename(b))
    for pmd in NEEDED_PMDS:
        so = os.path.join(PMD_DIR, "librte_%s.so.23" % pmd)
        if not os.path.exists(so):
            problems.append("driver %s: %s is not installed here (libdpdk-dev's packages)" % (pmd, so))
            continue
        needs[so] = "driver %s" % pmd
        libs, missing = ldd(so)
        problems += ["%s: %s not found" % (so, m) for m in missing]
        for lib in libs:
            needs.setdefault(lib, "driver %s" % pmd)

    used = set()
    for f, why in sorted(needs.items()):
        if "linux-vdso" in f:
            continue
        pkg = dpkg_owner(f)
        if pkg is None:
            problems.append("%s (for %s) belongs to no Debian package" % (f, why))
            continue
        used.add(pkg)
        if pkg not in provided:
            problems.append("%s (for %s) is in package %s, which the runtime stage does not install"
                            % (f, why, pkg))
    if problems:
        fail("runtime stage is missing libraries", problems)
    extra = [p for p in listed if p not in used and p not in RUNTIME_EXTRAS
             and not (closure([p]) & used - {p})]
    for p in extra:
        print("warning: runtime package %s provides nothing the binaries or drivers load" % p)
    print("%d files needed by %s and %d drivers: all provided by the %d runtime packages"
          % (len(needs), ", ".join(os.path.basename(b) for b in bins), len(NEEDED_PMDS), len(listed)))


def cmd_release(dest, build_config_h):
    text = open(build_config_h).read()
    m = re.search(r'#define HD_XDP_OBJ_INSTALLED "([^"]+)"', text)
    if not m:
        fail("HD_XDP_OBJ_INSTALLED not in %s" % build_config_h)
    problems = []
    xdp = dest + m.group(1)
    if not os.path.isfile(xdp):
        problems.append("heimdall looks for its XDP object at %s, not installed (%s)" % (m.group(1), xdp))
    for f in ("usr/bin/heimdall", "etc/heimdall/heimdall.yaml",
              "usr/lib/systemd/system/heimdall.service"):
        if not os.path.exists(os.path.join(dest, f)):
            problems.append("%s not installed" % f)
    heimdall = os.path.join(dest, "usr/bin/heimdall")
    if os.path.exists(heimdall):
        r = subprocess.run([heimdall, "--", "--version"], capture_output=True, text=True, timeout=30)
        if r.returncode != 0 or "heimdall" not in (r.stdout + r.stderr):
            problems.append("the installed heimdall does not run: --version exit %d" % r.returncode)
    if problems:
        fail("release tree", problems)
    print("XDP object at %s; heimdall runs" % m.group(1))


# -- systemd ---------------------------------------------------------------------

REQUIRED_UNIT = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "LimitMEMLOCK": "infinity",
    "Restart": "on-failure", "StateDirectory": "heimdall", "RuntimeDirectory": "heimdall",
    "ExecReload": "/bin/kill -HUP $MAINPID",
}


def kernel_caps():
    caps = set()
    for hdr in ("/usr/include/linux/capability.h",):
        for m in re.finditer(r"#define\s+(CAP_[A-Z_]+)\s+\d+", open(hdr).read()):
            caps.add(m.group(1))
    return caps


def unit_settings(path):
    settings = {}
    for ln in open(path):
        ln = ln.strip()
        if not ln or ln[0] in "#;[":
            continue
        k, _, v = ln.partition("=")
        settings.setdefault(k.strip(), []).append(v.strip())
    return settings


def cmd_systemd(unit, dest):
    s = unit_settings(unit)
    problems = []
    for k, v in REQUIRED_UNIT.items():
        if v not in s.get(k, []):
            problems.append("%s=%s missing" % (k, v))
    caps = kernel_caps()
    for k in ("CapabilityBoundingSet", "AmbientCapabilities"):
        for v in s.get(k, []):
            for c in v.replace("~", "").split():
                if c not in caps:
                    problems.append("%s: unknown capability %s" % (k, c))
    rw = " ".join(s.get("ReadWritePaths", [])).split()
    for p in ("/var/lib/heimdall", "/run/heimdall", "/dev/hugepages"):
        if p not in rw:
            problems.append("ReadWritePaths lacks %s" % p)
    fams = " ".join(s.get("RestrictAddressFamilies", [])).split()
    for f in ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_XDP", "AF_PACKET"):
        if f not in fams:
            problems.append("RestrictAddressFamilies lacks %s" % f)
    exe = None
    for v in s.get("ExecStart", []):
        exe = v.lstrip("-@:+!").split()[0]
        if not os.path.exists(dest + exe):
            problems.append("ExecStart %s is not in the release tree" % exe)
    if problems:
        fail("unit settings", problems)
    # systemd-analyze verify: with ExecStart pointing at the release tree's
    # binary (it checks that commands exist). It exits 0 on many complaints
    # (unknown keys, bad values): any output is a failure.
    with tempfile.TemporaryDirectory() as d:
        text = open(unit).read()
        if exe:
            text = text.replace(exe, dest + exe)
        p = os.path.join(d, os.path.basename(unit))
        with open(p, "w") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", p],
                           capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or out:
            fail("systemd-analyze verify (exit %d)" % r.returncode, out.splitlines())
    print("systemd-analyze verify: clean; %d hardening settings present" % len(REQUIRED_UNIT))


# -- Helm ------------------------------------------------------------------------

def cmd_helm(chart):
    import yaml
    values = yaml.safe_load(open(os.path.join(chart, "values.yaml")))
    chart_meta = yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))
    problems = []
    for k in ("apiVersion", "name", "version"):
        if k not in chart_meta:
            problems.append("Chart.yaml lacks %s" % k)
    tpls = sorted(glob.glob(os.path.join(chart, "templates", "*")))
    if not tpls:
        problems.append("no templates")
    refs = 0
    for t in tpls:
        text = open(t).read()
        name = os.path.relpath(t, chart)
        opens, closes = text.count("{{"), text.count("}}")
        if opens != closes:
            problems.append("%s: %d '{{' but %d '}}'" % (name, opens, closes))
            continue
        actions = re.findall(r"\{\{-?\s*(.*?)\s*-?\}\}", text, re.S)
        depth = 0
        for a in actions:
            if "{{" in a:
                problems.append("%s: nested '{{' in an action: %r" % (name, a[:60]))
            word = a.split()[0] if a.split() else ""
            if a.startswith("/*"):
                continue
            if word in ("if", "range", "with", "define", "block"):
                depth += 1
            elif word == "end":
                depth -= 1
                if depth < 0:
                    problems.append("%s: 'end' without an opening if/range/with/define" % name)
                    depth = 0
        if depth:
            problems.append("%s: %d if/range/with/define without 'end'" % (name, depth))
        for path in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text):
            refs += 1
            node = values
            for key in path.strip(".").split("."):
                if not isinstance(node, dict) or key not in node:
                    problems.append("%s: .Values%s is not in values.yaml" % (name, path))
                    break
                node = node[key]
    if problems:
        fail("chart templates", problems)
    print("%d templates, %d .Values references, all in values.yaml; actions balanced"
          % (len(tpls), refs))


# -- Grafana ------------------------------------------------------------------------

PROMQL_WORDS = {"sum", "by", "rate", "irate", "increase", "histogram_quantile", "clamp_min", "max",
                "min", "avg", "count", "without", "on", "ignoring", "group_left", "group_right",
                "and", "or", "unless", "topk", "bottomk", "label_values", "le", "offset"}


def emitted_names(src_root):
    """Metric names heimdall's sources can emit: string literals
    "heimdall_..." (whole, or a prefix completed by a macro's #name), and
    heimdall_<counter>_total for every counter of lib/stats/hd_stats.h."""
    whole, prefixes = set(), set()
    for f in glob.glob(os.path.join(src_root, "app", "**", "*.c"), recursive=True) + \
            glob.glob(os.path.join(src_root, "lib", "**", "*.c"), recursive=True):
        text = open(f, errors="replace").read()
        for m in re.finditer(r'"(heimdall_[a-z0-9_]*)"(\s*#\s*\w+)?', text):
            (prefixes if m.group(2) or m.group(1).endswith("_") else whole).add(m.group(1))
    stats_h = os.path.join(src_root, "lib", "stats", "hd_stats.h")
    for name in re.findall(r"^\s*X\((\w+),", open(stats_h).read(), re.M):
        whole.add("heimdall_%s_total" % name)
    return whole, prefixes


def cmd_grafana(dash_path, docs_dir, names_txt, src_root):
    try:
        dash = json.load(open(dash_path))
    except ValueError as e:
        fail("%s is not JSON: %s" % (dash_path, e))
    problems = []
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        problems.append("schemaVersion missing or older than 36")
    tvars = [v.get("name") for v in dash.get("templating", {}).get("list", [])]
    if not any(v.get("type") == "datasource" and v.get("query") == "prometheus"
               for v in dash.get("templating", {}).get("list", [])):
        problems.append("no Prometheus datasource variable")
    # Documented: docs/monitoring.md and the docs it points to for the
    # families of other parts (query log, cluster), else the list kept in
    # scripts/metric-names.txt for names no document holds yet.
    documented = set()
    for md in glob.glob(os.path.join(docs_dir, "*.md")):
        documented |= set(re.findall(r"heimdall_[a-z0-9_]+", open(md).read()))
    listed = {ln.strip() for ln in open(names_txt) if ln.strip() and not ln.startswith("#")}
    whole, prefixes = emitted_names(src_root)
    used = set()
    ids = set()
    for p in dash.get("panels", []):
        if p.get("id") in ids:
            problems.append("duplicate panel id %s" % p.get("id"))
        ids.add(p.get("id"))
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                problems.append("%s: unbalanced expression %s" % (p.get("title"), expr))
            used.update(re.findall(r"\bheimdall_[a-z0-9_]+", expr))
    for v in dash.get("templating", {}).get("list", []):
        used.update(re.findall(r"\bheimdall_[a-z0-9_]+", v.get("definition", "")))
    if not used:
        problems.append("no heimdall metric in any panel")

    def base(m):
        for suf in ("_bucket", "_sum", "_count"):
            if m.endswith(suf) and m[:-len(suf)] in whole:
                return m[:-len(suf)]
        return m
    for m in sorted(used):
        if m not in documented and base(m) not in documented and m not in listed:
            problems.append("%s is neither in %s/*.md nor in %s" % (m, docs_dir, names_txt))
        b = base(m)
        if b not in whole and not any(b.startswith(pre) for pre in prefixes):
            problems.append("%s is emitted nowhere in app/ or lib/" % m)
    undocumented = sorted(m for m in used if m not in documented and base(m) not in documented)
    if problems:
        fail("dashboard %s" % dash_path, problems)
    print("%d panels, %d metrics, each emitted by the sources; variables: %s"
          % (len(dash["panels"]), len(used), ", ".join(tvars)))
    if undocumented:
        print("note: not yet in docs/*.md (kept in %s): %s" % (names_txt, " ".join(undocumented)))


# -- TRex ----------------------------------------------------------------------------

def cmd_trex(trex_dir):
    sys.path.insert(0, trex_dir)
    import dns_mix
    from scapy.layers.dns import DNS
    try:
        qs = dns_mix.build_queries()
    except ValueError as e:
        fail("the profile does not build with its own names file: %s" % e)
    n = len(dns_mix.read_names(os.path.join(trex_dir, "names.txt")))
    if len(qs) != n * len(dns_mix.parse_qtypes(dns_mix.DEFAULTS["qtypes"])):
        fail("%d packets for %d names" % (len(qs), n))
    for p, _ in qs:
        d = p.__class__(bytes(p))[DNS]
        if d.qr != 0 or d.qdcount != 1:
            fail("not a query: %r" % p)
    # The TRex side, against a stand-in of trex_stl_lib.api that records
    # what it is given (TRex itself is not packaged): one stream per packet,
    # the field engine on the UDP source port, rates adding up to 100 %.
    import types
    api = types.ModuleType("trex_stl_lib.api")

    class Rec:
        def __init__(self, *a, **kw):
            self.a, self.kw = a, kw
    for name in ("STLPktBuilder", "STLScVmRaw", "STLStream", "STLTXCont", "STLVmFixChecksumHw",
                 "STLVmFlowVar", "STLVmWrFlowVar"):
        setattr(api, name, type(name, (Rec,), {}))
    sys.modules["trex_stl_lib"] = types.ModuleType("trex_stl_lib")
    sys.modules["trex_stl_lib.api"] = api
    streams = dns_mix.register().get_streams(direction=0, sport_min="2000", bogus="ignored")
    if len(streams) != len(qs):
        fail("get_streams gave %d streams for %d packets" % (len(streams), len(qs)))
    pct = sum(st.kw["mode"].kw["percentage"] for st in streams)
    if abs(pct - 100.0) > 1e-6:
        fail("stream rates add up to %.3f %%, not 100 %%" % pct)
    vm = streams[0].kw["packet"].kw["vm"].a[0]
    fv = vm[0].kw
    if fv.get("op") != "random" or fv.get("min_value") != 2000 or vm[1].kw.get("pkt_offset") != "UDP.sport":
        fail("field engine does not randomise the UDP source port: %r" % [v.kw for v in vm])
    print("%d queries from %d names; %d TRex streams, rates add up to 100 %%"
          % (len(qs), n, len(streams)))


def main():
    cmds = {
        "release": cmd_release, "docker-structure": cmd_docker_structure,
        "docker-build-deps": cmd_docker_build_deps, "docker-runtime": cmd_docker_runtime,
        "systemd": cmd_systemd, "helm": cmd_helm, "grafana": cmd_grafana, "trex": cmd_trex,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
