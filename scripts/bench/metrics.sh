#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Cost of a Prometheus scrape: heimdall on a net_null port (no test network
# needed; its worker busy-polls as on a NIC), then N sequential
# `curl http://127.0.0.1:PORT/metrics`, and as many of /health (an almost
# empty reply: what curl and the HTTP server cost by themselves).
#
# Usage: scripts/bench/metrics.sh [--build DIR] [--scrapes N] [--port P] [-- heimdall options]
# Prints min/median/p99/max per URL, the body size and the number of series.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

build="$HD_ROOT/$HD_BUILD_DIR"
scrapes=200
port=18398

while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--scrapes) scrapes=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) sed -n '4,10p' "$0"; exit 0 ;;
	*) hd_die "unknown option '$1' (see --help)" ;;
	esac
done
hd_need_root
hd_need_cmd curl
heimdall="$build/app/heimdall/heimdall"
[ -x "$heimdall" ] || hd_die "$heimdall not built: meson setup $build && ninja -C $build"
work=$(mktemp -d /tmp/heimdall-metrics.XXXXXX)
hd_pid=
cleanup() {
	set +e
	[ -n "$hd_pid" ] && kill "$hd_pid" 2>/dev/null && wait "$hd_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$heimdall" -l 0-1 --no-pci -m 128 --file-prefix=hdbench-metrics --vdev=net_null0 -- \
	--listen 10.59.0.1 --upstream "127.0.0.1:$HD_UPSTREAM_PORT" --http-listen 127.0.0.1 \
	--http-port "$port" --state-dir "$work/state" "$@" >"$work/heimdall.log" 2>&1 &
hd_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf -o /dev/null "$url/metrics" && break; sleep 0.1; done
curl -sf "$url/metrics" >"$work/body" || { cat "$work/heimdall.log" >&2; hd_die "no /metrics on $url"; }
sleep 2	# past start-up work

time_url() {
	local path=$1
	for _ in $(seq "$scrapes"); do
		curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$url$path"
	done | sort -n | awk -v p="$path" '{ t[NR] = $1 * 1000; s = $2 }
		END { printf "%-9s n=%d min=%.2f ms median=%.2f ms p99=%.2f ms max=%.2f ms body=%d bytes\n",
		      p, NR, t[1], t[int((NR + 1) / 2)], t[int(NR * 0.99)], t[NR], s }'
}
time_url /metrics
time_url /health
echo "/metrics: $(grep -c '^# TYPE' "$work/body") families, $(grep -vc '^#' "$work/body") series," \
	"$(wc -l <"$work/body") lines; heimdall $(grep -E 'VmRSS' /proc/$hd_pid/status | tr -s '\t ' ' ')"
