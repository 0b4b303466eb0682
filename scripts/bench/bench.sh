#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build heimdall-bench with optimisations for this machine and run the
# fast-path benchmark: the cache-hit stream directly and through the
# net_ring PMD, then the miss and FORMERR streams for comparison.
#
# Usage: scripts/bench/bench.sh [seconds] [names]
# Env:   BUILD_DIR (default build-bench), LCORE (default 0), NATIVE (true|false)
set -eu

cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-3}
NAMES=${2:-1000}
BUILD_DIR=${BUILD_DIR:-build-bench}
LCORE=${LCORE:-0}
NATIVE=${NATIVE:-true}

if [ ! -d "$BUILD_DIR" ]; then
	meson setup "$BUILD_DIR" --buildtype=release -Dnative="$NATIVE" -Dtests=false
fi
ninja -C "$BUILD_DIR" -j2 app/heimdall-bench/heimdall-bench

BENCH="$BUILD_DIR/app/heimdall-bench/heimdall-bench"
EAL="--no-pci --no-huge -m 512 --no-shconf -l $LCORE --log-level=lib.*:warning"

echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# $(git describe --always --dirty 2>/dev/null || echo unknown); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for args in "--stream hit" "--stream hit --ring" "--stream hit --ipv6" \
	    "--stream hit --no-edns" "--stream miss" "--stream formerr"; do
	echo "\$ $BENCH $EAL -- --seconds $SECONDS_RUN --names $NAMES $args"
	# shellcheck disable=SC2086
	"$BENCH" $EAL -- --seconds "$SECONDS_RUN" --names "$NAMES" $args 2>/dev/null
done
