#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install the Debian 12 packages Heimdall builds and tests with. Only what
# dpkg reports missing is installed, and the package lists are refreshed only
# then, so a machine that has everything is not touched (and needs no network).
#
# Usage: scripts/deps.sh [--check]   (--check: list what is missing, exit 1 if any)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(
	build-essential meson ninja-build pkg-config clang llvm
	dpdk dpdk-dev libdpdk-dev libbpf-dev libxdp-dev libyaml-dev libcunit1-dev
	libnl-3-dev libnl-route-3-dev libhiredis-dev libelf-dev zlib1g-dev libpcap-dev
	libknot-dev libcurl4-openssl-dev libgnutls28-dev libmicrohttpd-dev libjansson-dev
	libclang-rt-14-dev
	iproute2 ethtool openssl knot knot-dnsutils dnsutils dnsperf unbound redis-server redis-sentinel tshark
	prometheus yamllint systemd
	python3-pytest python3-dnspython python3-scapy
)
# scripts/check-packaging.sh installs its Dockerfile linter with npm; any npm
# does (Debian's, or one that came with another Node.js build).
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	hd_log "all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "${1:-}" = --check ]; then
	hd_log "missing: ${missing[*]}"
	exit 1
fi

hd_need_root
hd_log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# Package scripts may start the daemons; the tests run their own instances on
# other ports, but a system knotd/unbound on :53 would only get in the way.
for svc in knot unbound; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	fi
done

still=()
for p in "${missing[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || still+=("$p")
done
[ ${#still[@]} -eq 0 ] || hd_die "apt-get did not install: ${still[*]}"
hd_log "installed ${#missing[@]} packages"
