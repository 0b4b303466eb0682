#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Checks of what cannot be run here (no Docker engine, no systemd as PID 1,
# no Kubernetes, no Grafana), so that the packaging stays honest:
#
#   release   scripts/build-release.sh into a temporary directory (the steps
#             the Dockerfile's build stage runs), the XDP object where the
#             binary looks for it
#   docker    dockerfile-utils lint (npm, into a cache dir) and a structural
#             check: build/runtime stages, COPY --from=build, no --privileged,
#             the capabilities documented; every build -dev package of
#             scripts/deps.sh present; every package of the runtime stage
#             exists; every shared library of the installed binaries and of
#             the DPDK drivers heimdall loads (ldd) comes from a runtime
#             package or its dependencies (dpkg -S, dpkg-query)
#   systemd   systemd-analyze verify (any complaint fails), capability names,
#             the hardening options, ExecStart binary installed
#   helm      yamllint on Chart.yaml and values.yaml; every .Values path the
#             templates use exists in values.yaml; {{ }} and if/range/with/
#             define ... end balanced (no helm here: `helm lint` and
#             `helm template` are for machines that have it)
#   grafana   the dashboard is JSON, schemaVersion set, every metric of its
#             PromQL is emitted by the sources (a literal in app/ or lib/, or
#             a counter of hd_stats.h) and documented (docs/*.md: monitoring.md
#             and the query log's and cluster's docs), or, until a document
#             holds it, listed in scripts/metric-names.txt
#   trex      the TRex profile builds its packets with plain scapy
#
# --self-test breaks each checked file on purpose (a missing runtime library,
# a values path that does not exist, an unknown metric, a bad unit option, a
# bad Dockerfile) and fails unless each check catches it.
#
# Usage: scripts/check-packaging.sh [--self-test] [--prebuilt BUILD_DIR DESTDIR]
#   --prebuilt   use what `scripts/build-release.sh BUILD_DIR DESTDIR` made
#                instead of building a release again
#   HD_CACHE     cache directory for the npm linter (~/.cache/heimdall)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$HD_ROOT"

self_test=0
dest=""
prebuilt=""
while [ $# -gt 0 ]; do
	case "$1" in
	--self-test) self_test=1; shift ;;
	--prebuilt) prebuilt=$2; dest=$3; shift 3 ;;
	-h|--help) sed -n '3,36p' "$0"; exit 0 ;;
	*) hd_die "unknown option '$1' (see --help)" ;;
	esac
done

LINTER_VERSION=0.16.3
cache=${HD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/heimdall}
tmp=$(mktemp -d /tmp/hd-pkgcheck.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
checks="$HD_ROOT/scripts/packaging_checks.py"
py() { "$HD_PYTHON" "$checks" "$@"; }

failed=()
only=""
check() {
	local name=$1 rc=0
	shift
	[ -z "$only" ] || [ "$name" = "$only" ] || return 0
	printf '\n== %s\n' "$name"
	"$@" || rc=$?
	if [ $rc -ne 0 ]; then
		printf 'check-packaging: FAILED: %s\n' "$name" >&2
		failed+=("$name")
	else
		printf 'check-packaging: ok: %s\n' "$name"
	fi
}

hd_need_cmd "$HD_PYTHON" ldd dpkg dpkg-query apt-cache systemd-analyze yamllint npm

# --- release build -----------------------------------------------------------
if [ -z "$dest" ]; then
	dest=$tmp/dest
	printf '== release build (scripts/build-release.sh)\n'
	bash scripts/build-release.sh "$tmp/build" "$dest"
	# The image has no build directory: heimdall must find its XDP object
	# at the installed path. hd_build_config.h holds both paths.
	cp "$tmp/build/hd_build_config.h" "$tmp/hd_build_config.h"
	rm -rf "$tmp/build"
else
	dest=$(cd "$dest" && pwd)
	[ -f "$prebuilt/hd_build_config.h" ] || hd_die "$prebuilt is not a build-release.sh build directory"
	cp "$prebuilt/hd_build_config.h" "$tmp/hd_build_config.h"
fi

# --- the Dockerfile linter, from npm into a cache directory --------------------
lint_bin=$cache/npm/node_modules/.bin/dockerfile-utils
if [ ! -x "$lint_bin" ] || ! "$lint_bin" --version 2>/dev/null | grep -q "$LINTER_VERSION"; then
	mkdir -p "$cache/npm"
	npm install --prefix "$cache/npm" --no-audit --no-fund --loglevel=error \
		"dockerfile-utils@$LINTER_VERSION" >/dev/null ||
		hd_die "cannot install dockerfile-utils@$LINTER_VERSION from npm"
fi

dockerfile_lint() {
	local f=$1 out
	# Exit 1 on errors; warnings are printed too, and fail as well.
	out=$("$lint_bin" lint "$f") || { printf '%s\n' "$out"; return 1; }
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}

run_checks() {
	local root=$1
	check "release: installed tree" py release "$dest" "$tmp/hd_build_config.h"
	check "docker: dockerfile-utils lint" dockerfile_lint "$root/Dockerfile"
	check "docker: structure" py docker-structure "$root/Dockerfile"
	check "docker: build packages cover scripts/deps.sh" py docker-build-deps "$root/Dockerfile" scripts/deps.sh
	check "docker: runtime packages provide every library" py docker-runtime "$root/Dockerfile" "$dest"
	check "systemd: unit" py systemd "$root/deploy/systemd/heimdall.service" "$dest"
	check "helm: yamllint" yamllint -s -d "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}" \
		"$root/deploy/helm/heimdall/Chart.yaml" "$root/deploy/helm/heimdall/values.yaml"
	check "helm: templates" py helm "$root/deploy/helm/heimdall"
	check "grafana: dashboard" py grafana "$root/docs/grafana/heimdall-dashboard.json" \
		"$root/docs" "$root/scripts/metric-names.txt" "$HD_ROOT"
	check "trex: profile builds with scapy" py trex "$root/scripts/trex"
}

if [ $self_test = 0 ]; then
	run_checks "$HD_ROOT"
	if [ ${#failed[@]} -gt 0 ]; then
		hd_log "FAILED: ${failed[*]}" >&2
		exit 1
	fi
	hd_log "all packaging checks passed"
	exit 0
fi

# --- self-test: every check must catch a broken copy ------------------------------
# mutate NAME FILE PYTHON-EXPR: copy the tree's checked files, rewrite FILE
# (relative) with the expression (s is its text), run the checks, expect
# check NAME among the failures.
mutate() {
	local want=$1 file=$2 expr=$3 root=$tmp/mut
	rm -rf "$root"
	mkdir -p "$root"
	cp -r Dockerfile deploy docs scripts "$root"/
	"$HD_PYTHON" - "$root/$file" "$expr" <<'EOF' || { printf 'self-test: cannot mutate %s\n' "$file" >&2; return 1; }
import sys
p, expr = sys.argv[1], sys.argv[2]
s = open(p).read()
t = eval(expr)
assert t != s, "the mutation changed nothing in %s" % p
open(p, "w").write(t)
EOF
	failed=()
	only=$want
	run_checks "$root" >"$tmp/mut.log" 2>&1 || true
	only=""
	if printf '%s\n' "${failed[@]}" | grep -qxF "$want"; then
		printf 'self-test: ok: %-50s caught by "%s"\n' "$file: $4" "$want"
		return 0
	fi
	printf 'self-test: NOT CAUGHT: %s (%s), expected "%s" to fail; failures: %s\n' \
		"$file" "$4" "$want" "${failed[*]:-none}" >&2
	sed 's/^/    /' "$tmp/mut.log" >&2
	return 1
}

st_failed=0
mutate "docker: runtime packages provide every library" Dockerfile \
	's.replace("\t\tlibyaml-0-2 \\\n", "")' "runtime libyaml-0-2 removed" || st_failed=1
mutate "docker: runtime packages provide every library" Dockerfile \
	's.replace("\t\tlibrte-mempool-ring23 \\\n", "")' "mempool driver removed" || st_failed=1
mutate "docker: runtime packages provide every library" Dockerfile \
	's.replace("\t\tlibzscanner4 \\\n", "\t\tlibzscanner4 \\\n\t\tlibnosuchpackage1 \\\n")' "unknown package" || st_failed=1
mutate "docker: build packages cover scripts/deps.sh" Dockerfile \
	's.replace("\t\tlibhiredis-dev \\\n", "")' "build libhiredis-dev removed" || st_failed=1
mutate "docker: structure" Dockerfile \
	's.replace("COPY --from=build /opt/heimdall/ /", "COPY /opt/heimdall/ /")' "no COPY --from=build" || st_failed=1
mutate "docker: dockerfile-utils lint" Dockerfile \
	's.replace("EXPOSE 53/udp", "EXPOSE dns/udp")' "invalid EXPOSE" || st_failed=1
mutate "systemd: unit" deploy/systemd/heimdall.service \
	's.replace("CAP_NET_RAW ", "CAP_NET_RAWW ")' "misspelt capability" || st_failed=1
mutate "systemd: unit" deploy/systemd/heimdall.service \
	's.replace("ProtectHome=yes", "ProtectHome=yes\nProtectHomes=yes")' "unknown directive" || st_failed=1
mutate "systemd: unit" deploy/systemd/heimdall.service \
	's.replace("NoNewPrivileges=yes\n", "")' "hardening option removed" || st_failed=1
mutate "helm: templates" deploy/helm/heimdall/templates/_helpers.tpl \
	's.replace(".Values.afXdp.interface", ".Values.afxdp.interface")' "bad values path" || st_failed=1
mutate "helm: templates" deploy/helm/heimdall/values.yaml \
	's.replace("  scrapeTimeout: 10s\n", "")' "value removed" || st_failed=1
mutate "helm: templates" deploy/helm/heimdall/templates/service.yaml \
	's.replace("{{- end }}", "{{- end }", 1)' "unbalanced braces" || st_failed=1
mutate "helm: templates" deploy/helm/heimdall/templates/servicemonitor.yaml \
	's.replace("{{- end }}", "", 1)' "missing end" || st_failed=1
mutate "helm: yamllint" deploy/helm/heimdall/values.yaml \
	's.replace("kind: DaemonSet", "kind: DaemonSet\nkind: Deployment")' "duplicate key" || st_failed=1
mutate "grafana: dashboard" docs/grafana/heimdall-dashboard.json \
	's.replace("heimdall_cache_hits_total", "heimdall_cache_hitz_total", 1)' "unknown metric" || st_failed=1
mutate "grafana: dashboard" docs/grafana/heimdall-dashboard.json \
	's.replace("{", "{{", 1)' "not JSON" || st_failed=1
mutate "trex: profile builds with scapy" scripts/trex/names.txt \
	's + "bad..name\n"' "invalid name in names.txt" || st_failed=1
[ $st_failed = 0 ] || hd_die "self-test: a broken file went unnoticed"
hd_log "self-test: every mutation was caught"
