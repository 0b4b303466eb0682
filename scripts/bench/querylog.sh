#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Cost of the query log on the cache-hit path: heimdall-bench's hit stream
# without and with --querylog, alternated so every mode sees the same load.
# Four modes per round:
#   off     no query log
#   shared  --querylog --querylog-cpu 0 --querylog-spin: the consumer on the
#           worker's own CPU (the bench's worker is lcore 0 on CPU 0)
#   pinned  --querylog: the consumer on another CPU, draining as heimdall's
#           drain thread does (naps 5 ms below a full batch), so at a full
#           hit rate sampling thins the log: heimdall's real layout
#   spin    --querylog --querylog-spin: the consumer on another CPU, polling
#           and staying behind the worker: every query is logged
#
# Usage: scripts/bench/querylog.sh [--build DIR] [--rounds N] [--seconds S] [--names N]
# Prints ns/packet (the mean, and the median of the 1024-frame passes, which
# ignores the passes another process preempted), the share of queries
# logged and the ring's counters (records, dropped, sampled out) per run.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

build="$HD_ROOT/$HD_BUILD_DIR"
rounds=3
seconds=2
names=1000

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--names) names=$2; shift 2 ;;
	-h|--help) sed -n '4,20p' "$0"; exit 0 ;;
	*) hd_die "unknown option '$1' (see --help)" ;;
	esac
done
bench="$build/app/heimdall-bench/heimdall-bench"
[ -x "$bench" ] || hd_die "$bench not built: meson setup $build && ninja -C $build"
[ "$(nproc)" -ge 2 ] || hd_die "needs 2 CPUs (the consumer goes to another CPU than the worker's)"
out=$(mktemp /tmp/heimdall-qlbench.XXXXXX)
trap 'rm -f "$out"' EXIT

run() {
	local mode=$1 ql=() pkts rec
	case $mode in
	off) ;;
	shared) ql=(--querylog --querylog-cpu 0 --querylog-spin) ;;
	pinned) ql=(--querylog) ;;
	spin) ql=(--querylog --querylog-spin) ;;
	esac
	"$bench" --no-pci --no-huge -m 512 --no-shconf -l 0 --log-level='lib.*:warning' -- \
		--seconds "$seconds" --names "$names" --stream hit "${ql[@]}" >"$out" 2>&1 ||
		{ cat "$out" >&2; hd_die "heimdall-bench failed"; }
	pkts=$(sed -n 's/^ *packets *\([0-9]*\) .*/\1/p' "$out")
	rec=$(sed -n 's/^ *querylog *records=\([0-9]*\) .*/\1/p' "$out")
	printf '%-7s load=%-5s %s ns/packet (median pass %s)%s\n' "$mode" \
		"$(cut -d' ' -f1 /proc/loadavg)" \
		"$(sed -n 's/^ *per packet *\([0-9.]*\) ns.*/\1/p' "$out")" \
		"$(sed -n 's/^ *median pass *\([0-9.]*\) ns.*/\1/p' "$out")" \
		"${rec:+ logged=$(awk -v r="$rec" -v p="$pkts" 'BEGIN { printf "%.0f%%", 100 * r / p }')}"
	grep -E '^ *querylog|only one CPU' "$out" || true
}

for _ in $(seq "$rounds"); do
	for mode in off shared pinned spin; do run "$mode"; done
done
