#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The test network: a namespace "hd-cli" for the clients and two veth pairs.
#
#   root namespace                      namespace hd-cli
#   hd-srv  (no address; heimdall  <->  hd-cli   10.53.0.2/24  fd53::2/64
#            adds 10.53.0.1, fd53::1             10.53.0.3/24  fd53::3/64
#            in af_xdp mode)                     (.3: a second client, for groups)
#   hd-srv2 (no address at all:    <->  hd-cli2  10.54.0.2/24  fd54::2/64
#            af_packet mode, heimdall answers ARP/NDP itself)
#
# Usage: scripts/testnet.sh up|down|status
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ns() { ip netns exec "$HD_NS" "$@"; }

down() {
	local i
	for i in "$HD_SRV_IF" "$HD_SRV_IF2"; do
		if ip link show dev "$i" >/dev/null 2>&1; then
			# A heimdall killed with SIGKILL leaves its XDP program attached.
			ip link set dev "$i" xdp off 2>/dev/null || true
			ip link del dev "$i"
		fi
	done
	if ip netns list | grep -qw "^$HD_NS"; then
		ip netns del "$HD_NS"
	fi
}

pair() {
	local srv=$1 cli=$2 v4=$3 v6=$4
	ip link add "$srv" type veth peer name "$cli" netns "$HD_NS"
	# Client frames carry real checksums, as from a NIC: heimdall sees the
	# wire format, not a checksum left for offload.
	ns ethtool -K "$cli" tx off >/dev/null
	ns ip addr add "$v4" dev "$cli"
	ns ip addr add "$v6" dev "$cli" nodad
	ns ip link set dev "$cli" up
	if [ "$srv" = "$HD_SRV_IF2" ]; then
		# af_packet side: the kernel must neither answer for nor forward
		# what is sent to heimdall's addresses there, so it gets no
		# address at all, not even an IPv6 link-local one.
		sysctl -qw "net.ipv6.conf.$srv.disable_ipv6=1"
		sysctl -qw "net.ipv4.conf.$srv.forwarding=0"
	fi
	ip link set dev "$srv" up
}

up() {
	hd_need_cmd ip ethtool
	down
	ip netns add "$HD_NS"
	ns ip link set dev lo up

	pair "$HD_SRV_IF" "$HD_CLI_IF" 10.53.0.2/24 fd53::2/64
	# A second client address on the same link, used only when a test binds
	# to it (client groups). IPv4: a secondary address is never the kernel's
	# source choice. IPv6: preferred_lft 0 (deprecated) keeps fd53::2 the
	# default source, so tests that do not bind still come from .2.
	ns ip addr add 10.53.0.3/24 dev "$HD_CLI_IF"
	ns ip addr add fd53::3/64 dev "$HD_CLI_IF" nodad preferred_lft 0
	pair "$HD_SRV_IF2" "$HD_CLI_IF2" 10.54.0.2/24 fd54::2/64
	status
}

status() {
	ip -br link show dev "$HD_SRV_IF"
	ip -br link show dev "$HD_SRV_IF2"
	ns ip -br addr show dev "$HD_CLI_IF"
	ns ip -br addr show dev "$HD_CLI_IF2"
}

hd_need_root
case "${1:-}" in
up) up ;;
down) down; hd_log "test network removed" ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
