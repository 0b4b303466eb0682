#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Cache-miss throughput: every query asks a name nobody asked before, so
# each one goes through the slow path (miss ring, upstream socket, reply,
# cache insert, reply to the client) to a fast local upstream, knotd on
# 127.0.0.1@5300 (scripts/upstream.sh: *.wild.heimdall.test answers any
# name). dnsperf runs in the client namespace hd-cli of scripts/testnet.sh
# against heimdall (af_xdp on hd-srv, -l 0-1: one worker, the slow path on
# the main lcore) and then, in the same run, against unbound (one thread)
# on the same interface and address, each with its own unique names.
#
# With --redis, heimdall runs a second time with a Redis L2 (a redis-server
# of the script's own on 127.0.0.1:6398): every answer is then also written
# to Redis, and the script prints the write rate Redis saw.
#
# Usage: scripts/bench/miss.sh [--seconds N] [--names N] [--outstanding Q]
#                              [--clients C] [--build DIR] [--no-unbound] [--redis]
# Brings the test network and knotd up if they are not (and down again at
# the end); prints dnsperf's summary per server and a table; exits non-zero
# when a server does not start or completes nothing.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

seconds=10
names=1500000
outstanding=500
clients=8
build="$HD_ROOT/$HD_BUILD_DIR"
with_unbound=1
with_redis=0
redis_port=6398

while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--names) names=$2; shift 2 ;;
	--outstanding) outstanding=$2; shift 2 ;;
	--clients) clients=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--no-unbound) with_unbound=0; shift ;;
	--redis) with_redis=1; shift ;;
	-h|--help) sed -n '4,21p' "$0"; exit 0 ;;
	*) hd_die "unknown option '$1' (see --help)" ;;
	esac
done

hd_need_root
hd_need_cmd dnsperf kdig knotd ip
[ "$with_unbound" = 0 ] || hd_need_cmd unbound
[ "$with_redis" = 0 ] || hd_need_cmd redis-server redis-cli
heimdall="$build/app/heimdall/heimdall"
[ -x "$heimdall" ] || hd_die "$heimdall not built: meson setup $build && ninja -C $build"

addr=10.53.0.1
prefix=hd-miss
work=$(mktemp -d /tmp/heimdall-miss.XXXXXX)
hd_pid=
ub_pid=
made_net=0
made_up=0
added_addr=0

cleanup() {
	set +e
	[ -n "$hd_pid" ] && kill "$hd_pid" 2>/dev/null && wait "$hd_pid" 2>/dev/null
	[ -n "$ub_pid" ] && kill "$ub_pid" 2>/dev/null && wait "$ub_pid" 2>/dev/null
	[ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null
	[ "$added_addr" = 1 ] && ip addr del "$addr/24" dev "$HD_SRV_IF" 2>/dev/null
	[ "$made_up" = 1 ] && bash "$HD_ROOT/scripts/upstream.sh" stop >/dev/null
	[ "$made_net" = 1 ] && bash "$HD_ROOT/scripts/testnet.sh" down >/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ip netns list | grep -qw "^$HD_NS" || ! ip link show dev "$HD_SRV_IF" >/dev/null 2>&1; then
	bash "$HD_ROOT/scripts/testnet.sh" up >/dev/null
	made_net=1
fi
if ! bash "$HD_ROOT/scripts/upstream.sh" status >/dev/null 2>&1; then
	bash "$HD_ROOT/scripts/upstream.sh" start
	made_up=1
fi
# An address left on hd-srv would make the kernel answer instead of heimdall.
if ip -br addr show dev "$HD_SRV_IF" | grep -qw "$addr"; then
	hd_die "$addr is already on $HD_SRV_IF (a heimdall or unbound still running?)"
fi

# One file of unique names per server: no name is ever asked twice in a run.
# dnsperf starts the file again when it runs out; --names must exceed what
# a server can answer in --seconds (the script checks below).
gen() {
	awk -v n="$names" -v tag="$1" -v run="$$" \
		'BEGIN { for (i = 0; i < n; i++) printf "%s%d-%d.wild.heimdall.test A\n", tag, run, i }' >"$2"
}

wait_answer() {
	local i
	for i in $(seq 100); do
		ip netns exec "$HD_NS" kdig @"$addr" +time=1 +retry=0 +short ready.heimdall.test A 2>/dev/null \
			| grep -qx 192.0.2.1 && return 0
		sleep 0.2
	done
	return 1
}

declare -A qps done_ lost lat runtime
measure() {
	local server=$1 file=$2 out
	out=$(ip netns exec "$HD_NS" dnsperf -s "$addr" -d "$file" -l "$seconds" -c "$clients" \
		-q "$outstanding" -t 2 -T 1 2>&1) || true
	echo "----- $server"
	echo "$out" | sed -n '/Statistics:/,$p'
	done_[$server]=$(echo "$out" | sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p')
	lost[$server]=$(echo "$out" | sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p')
	qps[$server]=$(echo "$out" | sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p')
	lat[$server]=$(echo "$out" | sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p')
	runtime[$server]=$(echo "$out" | sed -n 's/^ *Run time (s): *\([0-9.]*\).*/\1/p')
	local sent
	sent=$(echo "$out" | sed -n 's/^ *Queries sent: *\([0-9]*\).*/\1/p')
	[ "${sent:-0}" -lt "$names" ] ||
		hd_die "$server: dnsperf sent $sent queries, the file has $names names: repeats were cache hits; raise --names"
	[ "${done_[$server]:-0}" -gt 0 ] || hd_die "$server completed no query"
}

# run_heimdall LABEL NAMES-TAG [heimdall options...]: start, measure, stop.
run_heimdall() {
	local label=$1 tag=$2
	shift 2
	gen "$tag" "$work/$label.txt"
	"$heimdall" -l 0-1 --no-pci --file-prefix="$prefix" --vdev="net_af_xdp0,iface=$HD_SRV_IF" -- \
		--listen "$addr" --upstream "127.0.0.1:$HD_UPSTREAM_PORT" --http-port 0 "$@" \
		>"$work/$label.log" 2>&1 &
	hd_pid=$!
	wait_answer || { cat "$work/$label.log" >&2; hd_die "$label did not answer"; }
	measure "$label" "$work/$label.txt"
	# heimdall's own view of the run (dts/framework/telemetry.py): every query a
	# miss, none joined, no SERVFAIL; with Redis, what was written there.
	HD_PREFIX=$prefix PYTHONPATH="$HD_ROOT/dts" "$HD_PYTHON" -c '
import os
from framework.telemetry import Telemetry
with Telemetry(os.environ["HD_PREFIX"]) as t:
    st = t.cmd("/heimdall/stats")
    cl = t.cmd("/heimdall/cluster") or {}
keys = ("queries", "cache_hits", "cache_misses", "dedup_joined", "upstream_queries",
        "upstream_timeouts", "servfail")
print("heimdall counters: " + " ".join("%s=%s" % (k, st.get(k)) for k in keys))
if cl.get("redis", "off") != "off":
    print("redis: " + " ".join("%s=%s" % (k, cl.get(k)) for k in
          ("writes", "write_dropped", "write_errors", "l2_hits", "l2_misses")))' || true
	kill "$hd_pid"; wait "$hd_pid" 2>/dev/null || true; hd_pid=
}

run_heimdall heimdall h
if [ "$with_redis" = 1 ]; then
	redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize yes --pidfile "$work/redis.pid" --dir "$work" --logfile "$work/redis.log"
	for _ in $(seq 50); do redis-cli -p $redis_port ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	run_heimdall heimdall+redis r --redis "redis://127.0.0.1:$redis_port"
	stats=$(redis-cli -p $redis_port info commandstats | tr -d '\r')
	sets=$(echo "$stats" | sed -n 's/^cmdstat_set:calls=\([0-9]*\),.*/\1/p')
	gets=$(echo "$stats" | sed -n 's/^cmdstat_get:calls=\([0-9]*\),.*/\1/p')
	# Per second of dnsperf's run time (a few SETs are membership heartbeats).
	rt=${runtime[heimdall+redis]:-$seconds}
	echo "redis: ${sets:-0} SETs in ${rt}s ($(awk -v n="${sets:-0}" -v t="$rt" 'BEGIN { printf "%.0f", n / t }')/s)," \
		"${gets:-0} GETs ($(awk -v n="${gets:-0}" -v t="$rt" 'BEGIN { printf "%.0f", n / t }')/s)," \
		"$(redis-cli -p $redis_port dbsize) keys"
	echo "$stats" | grep -E '^cmdstat_(set|get):' || true
fi

if [ "$with_unbound" = 1 ]; then
	gen u "$work/unbound.txt"
	ip addr add "$addr/24" dev "$HD_SRV_IF"
	added_addr=1
	cat >"$work/unbound.conf" <<EOF
server:
    interface: $addr
    port: 53
    access-control: 10.53.0.0/24 allow
    do-daemonize: no
    username: ""
    chroot: ""
    pidfile: ""
    directory: "$work"
    num-threads: 1
    do-ip6: no
    do-not-query-localhost: no
    use-syslog: no
    module-config: "iterator"
    local-zone: "test." nodefault
    domain-insecure: "test."
    msg-cache-size: 64m
    rrset-cache-size: 128m
    outgoing-range: 4096
    num-queries-per-thread: 4096
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@$HD_UPSTREAM_PORT
EOF
	unbound -c "$work/unbound.conf" >"$work/unbound.log" 2>&1 &
	ub_pid=$!
	wait_answer || { cat "$work/unbound.log" >&2; hd_die "unbound did not answer"; }
	measure unbound "$work/unbound.txt"
	kill "$ub_pid"; wait "$ub_pid" 2>/dev/null || true; ub_pid=
fi

echo
printf '%-16s %14s %12s %10s %16s\n' server "misses/s" completed lost "avg latency ms"
for s in heimdall heimdall+redis unbound; do
	[ -n "${qps[$s]:-}" ] || continue
	printf '%-16s %14s %12s %10s %16s\n' "$s" "${qps[$s]}" "${done_[$s]}" "${lost[$s]}" \
		"$(awk -v l="${lat[$s]:-0}" 'BEGIN { printf "%.2f", l * 1000 }')"
done
