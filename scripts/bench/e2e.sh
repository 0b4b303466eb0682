#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# End-to-end cache-hit load test: kxdpgun in a network namespace sends the
# same query mix to heimdall (af_xdp on a veth) and then to unbound on the same
# veth and address, in one run, so the two figures can be compared as a ratio.
# Both forward to one local knotd; the cache is warmed before each measurement.
#
# Usage: scripts/bench/e2e.sh [--seconds N] [--rates "100000 200000 400000"]
#                             [--names N] [--build DIR] [--no-unbound] [--redis]
# --redis: heimdall runs a second time with a Redis L2 (a redis-server of the
# script's own on 127.0.0.1:6398), to show what replication costs the hits.
# Prints one line per (server, rate) and a summary table; exits non-zero when
# a server fails to start or answers nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
seconds=5
rates="100000 200000 400000"
names=1000
build="$here/build"
with_unbound=1
with_redis=0

while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--rates) rates=$2; shift 2 ;;
	--names) names=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--no-unbound) with_unbound=0; shift ;;
	--redis) with_redis=1; shift ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	*) echo "e2e.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" = 0 ] || { echo "e2e.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
for tool in kxdpgun knotd kdig unbound ethtool redis-server redis-cli; do
	command -v "$tool" >/dev/null || { echo "e2e.sh: '$tool' is missing: run scripts/deps.sh" >&2; exit 1; }
done
heimdall="$build/app/heimdall/heimdall"
[ -x "$heimdall" ] || { echo "e2e.sh: $heimdall not built: meson setup $build && ninja -C $build" >&2; exit 1; }

ns=hdb-cli
srv=hdb-srv
cli=hdb-cli
addr=10.57.0.1
work=$(mktemp -d /tmp/heimdall-e2e.XXXXXX)
hd_pid=
ub_pid=
redis_port=6398

cleanup() {
	set +e
	[ -n "$hd_pid" ] && kill "$hd_pid" 2>/dev/null && wait "$hd_pid" 2>/dev/null
	[ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null
	[ -n "$ub_pid" ] && kill "$ub_pid" 2>/dev/null && wait "$ub_pid" 2>/dev/null
	[ -f "$work/knot.pid" ] && kill "$(cat "$work/knot.pid")" 2>/dev/null
	ip link set dev "$srv" xdp off 2>/dev/null
	ip link del "$srv" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Test network: the server side stays in the root namespace, like a NIC.
ip netns del "$ns" 2>/dev/null || true
ip link del "$srv" 2>/dev/null || true
ip netns add "$ns"
ip link add "$srv" type veth peer name "$cli"
ip link set "$cli" netns "$ns"
ip link set "$srv" up
ip netns exec "$ns" ip addr add 10.57.0.2/24 dev "$cli"
ip netns exec "$ns" ip link set "$cli" up
# veth leaves UDP checksums to an offload that never happens on the XDP path.
ip netns exec "$ns" ethtool -K "$cli" tx off >/dev/null
ip netns exec "$ns" ip link set lo up

# Upstream: knotd with $names A records.
{
	echo '$ORIGIN bench.test.'
	echo '$TTL 86400'
	echo '@ SOA ns hostmaster 1 3600 600 86400 60'
	echo '@ NS ns'
	echo 'ns A 127.0.0.1'
	for i in $(seq 1 "$names"); do echo "n$i A 10.1.$((i / 256 % 256)).$((i % 256))"; done
} >"$work/bench.test.zone"
for i in $(seq 1 "$names"); do echo "n$i.bench.test A"; done >"$work/queries.txt"
cat >"$work/knot.conf" <<EOF
server:
    listen: 127.0.0.1@5357
    rundir: $work
    pidfile: $work/knot.pid
    user: root:root
database:
    storage: $work
zone:
  - domain: bench.test
    file: $work/bench.test.zone
log:
  - target: stderr
    any: warning
EOF
knotd -c "$work/knot.conf" -d
for _ in $(seq 50); do kdig @127.0.0.1 -p 5357 +short n1.bench.test A >/dev/null 2>&1 && break; sleep 0.1; done

wait_answer() {
	for _ in $(seq 100); do
		ip netns exec "$ns" kdig @"$addr" +time=1 +retry=0 +short n1.bench.test A 2>/dev/null | grep -q . && return 0
		sleep 0.2
	done
	return 1
}

warm() {
	# One slow pass over every name fills the cache; the measured passes are hits.
	ip netns exec "$ns" kxdpgun -t 2 -Q $((names * 2)) -i "$work/queries.txt" -I "$cli" "$addr" >/dev/null 2>&1 || true
}

declare -A result
measure() {
	local server=$1 rate out sent got
	for rate in $rates; do
		out=$(ip netns exec "$ns" kxdpgun -t "$seconds" -Q "$rate" -i "$work/queries.txt" -I "$cli" "$addr" 2>&1) || true
		sent=$(echo "$out" | sed -n 's/^total queries: *[0-9]* (\([0-9]*\) pps).*/\1/p')
		got=$(echo "$out" | sed -n 's/^total replies: *[0-9]* (\([0-9]*\) pps).*/\1/p')
		# The machine may be shared: the load beside each figure says how much.
		echo "$server offered=${sent:-0}/s answered=${got:-0}/s load=$(cut -d' ' -f1 /proc/loadavg)"
		result[$server,$rate]=${got:-0}
	done
}

# run_heimdall LABEL [heimdall options...]: start, warm, measure, stop.
run_heimdall() {
	local label=$1
	shift
	"$heimdall" -l 0-1 --no-pci --file-prefix=hdbench --vdev=net_af_xdp0,iface=$srv -- \
		--listen $addr --upstream 127.0.0.1:5357 --http-port 0 "$@" >"$work/$label.log" 2>&1 &
	hd_pid=$!
	if ! wait_answer; then
		echo "e2e.sh: $label did not answer; its log:" >&2
		cat "$work/$label.log" >&2
		exit 1
	fi
	warm
	measure "$label"
	kill "$hd_pid"; wait "$hd_pid" 2>/dev/null || true; hd_pid=
}

run_heimdall heimdall
if [ "$with_redis" = 1 ]; then
	redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize yes --pidfile "$work/redis.pid" --dir "$work" --logfile "$work/redis.log"
	for _ in $(seq 50); do redis-cli -p $redis_port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	run_heimdall heimdall+redis --redis redis://127.0.0.1:$redis_port
	echo "heimdall+redis: keys in Redis after the run: $(redis-cli -p $redis_port dbsize)"
fi

if [ "$with_unbound" = 1 ]; then
	ip addr add $addr/24 dev $srv
	cat >"$work/unbound.conf" <<EOF
server:
    interface: $addr
    port: 53
    access-control: 10.57.0.0/24 allow
    do-daemonize: no
    username: ""
    chroot: ""
    pidfile: ""
    num-threads: 1
    do-not-query-localhost: no
    use-syslog: no
    local-zone: "test." nodefault
    domain-insecure: "test."
    msg-cache-size: 64m
    rrset-cache-size: 64m
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@5357
EOF
	unbound -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
	ub_pid=$!
	wait_answer || { echo "e2e.sh: unbound did not answer" >&2; cat "$work/unbound.log" >&2; exit 1; }
	warm
	measure unbound
fi

echo
printf '%-16s' "offered/s"
for rate in $rates; do printf '%12s' "$rate"; done
echo
for server in heimdall heimdall+redis unbound; do
	[ "$server" = unbound ] && [ "$with_unbound" = 0 ] && continue
	[ "$server" = heimdall+redis ] && [ "$with_redis" = 0 ] && continue
	printf '%-16s' "$server"
	for rate in $rates; do printf '%12s' "${result[$server,$rate]}"; done
	echo
done
if [ "$with_redis" = 1 ]; then
	printf '%-16s' "redis/off"
	for rate in $rates; do
		printf '%12s' "$(awk -v a="${result[heimdall+redis,$rate]}" -v b="${result[heimdall,$rate]}" \
			'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
	done
	echo
fi
[ "${result[heimdall,${rates%% *}]}" -gt 0 ] || { echo "e2e.sh: heimdall answered nothing" >&2; exit 1; }
