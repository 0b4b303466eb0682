# SPDX-License-Identifier: BSD-3-Clause
#
# Shared by the scripts in scripts/: paths, names of the test network, and
# small helpers. Source it; it sets nothing but variables and functions.

HD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Debian's interpreter: python3-pytest, -dnspython and -scapy live there, and a
# python3 earlier on PATH (pyenv, venv) would not see them.
HD_PYTHON=/usr/bin/python3

# Test network: a veth pair per port mode, the client ends in one namespace.
HD_NS=hd-cli
HD_SRV_IF=hd-srv
HD_CLI_IF=hd-cli
HD_SRV_IF2=hd-srv2
HD_CLI_IF2=hd-cli2

# Build directory of scripts/test.sh and scripts/demo.sh (test.sh also uses
# $HD_BUILD_DIR-asan and $HD_BUILD_DIR-fuzz).
HD_BUILD_DIR=${HD_BUILD_DIR:-build}

# Local upstream (knotd) and where the test tools keep their run-time files.
HD_UPSTREAM_PORT=5300
HD_RUN_DIR=${HD_RUN_DIR:-/run/heimdall-test}

hd_log() { printf '%s: %s\n' "${0##*/}" "$*"; }
hd_die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

hd_need_root() {
	[ "$(id -u)" = 0 ] || hd_die "must run as root (network namespaces, XDP, hugepages)"
}

hd_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || hd_die "'$c' is missing: run scripts/deps.sh"
	done
}
