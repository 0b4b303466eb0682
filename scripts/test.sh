#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Everything CI checks, in order, on a Debian 12 machine as root:
#   1. packages (scripts/deps.sh) and hugepages (scripts/hugepages.sh)
#   2. build/ with -Dwerror=true, then the CUnit suites (meson test)
#   3. build-asan/ (-Db_sanitize=address,undefined), the CUnit suites again
#   4. build-fuzz/ (clang, -Dfuzz=true), each fuzz target (packet, querylog) for 60 s
#      then the packaging checks (scripts/check-packaging.sh, its own release build)
#   5. the test network, knotd, and the end-to-end suites (pytest dts/tests)
# Every stage runs even when an earlier test stage failed (a failed build
# stops what needs it); the exit code is non-zero if anything failed.
# The test network and knotd are always taken down at the end.
#
# Build directories: build, build-asan, build-fuzz (HD_BUILD_DIR=dir changes the stem).
# Usage: scripts/test.sh [--no-asan] [--no-fuzz] [--fuzz-seconds N] [-- PYTEST ARGS]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

asan=1
fuzz=1
fuzz_seconds=60
pytest_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--no-asan) asan=0; shift ;;
	--no-fuzz) fuzz=0; shift ;;
	--fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
	--) shift; pytest_args=("$@"); break ;;
	-h|--help) sed -n '3,16p' "$0"; exit 0 ;;
	*) hd_die "unknown option '$1' (see --help)" ;;
	esac
done

hd_need_root
cd "$HD_ROOT"

failed=()
t0=$(date +%s)

stage() {
	printf '\n===== %s (%ds) =====\n' "$*" $(($(date +%s) - t0))
}

# run NAME CMD...: run a stage, remember a failure, carry on.
run() {
	local name=$1 rc=0
	shift
	"$@" || rc=$?
	if [ $rc -ne 0 ]; then
		printf '%s: FAILED: %s (exit %d)\n' "${0##*/}" "$name" "$rc" >&2
		failed+=("$name")
	fi
	return 0
}

cleanup() {
	local rc=$?
	set +e
	bash scripts/upstream.sh stop >/dev/null 2>&1
	bash scripts/testnet.sh down >/dev/null 2>&1
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# meson setup, or reconfigure a build directory that exists.
setup() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		rm -rf "$dir"
		meson setup "$dir" "$@"
	fi
}

stage "packages"
bash scripts/deps.sh
stage "hugepages"
bash scripts/hugepages.sh
hd_need_cmd meson ninja clang kdig knotd "$HD_PYTHON"

stage "build ($HD_BUILD_DIR/, -Dwerror=true)"
b=$HD_BUILD_DIR
setup "$b" -Dwerror=true
ninja -C "$b" -j2

stage "unit tests (CUnit via meson test)"
run "unit tests" meson test -C "$b" --print-errorlogs --num-processes 2 -v

if [ $asan = 1 ]; then
	stage "sanitizer build ($b-asan/, address,undefined)"
	if setup "$b-asan" -Db_sanitize=address,undefined -Db_lundef=false && ninja -C "$b-asan" -j2; then
		stage "unit tests under ASan/UBSan"
		run "unit tests (asan)" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			meson test -C "$b-asan" --print-errorlogs --num-processes 2 --timeout-multiplier 3
	else
		failed+=("sanitizer build")
	fi
fi

if [ $fuzz = 1 ]; then
	# Each target: tests/fuzz/fuzz_NAME, seeds in tests/fuzz/corpus/NAME.
	targets=(packet querylog)
	stage "fuzz build ($b-fuzz/, clang, -Dfuzz=true)"
	if CC=clang setup "$b-fuzz" -Dfuzz=true -Dtests=false &&
		ninja -C "$b-fuzz" -j2 "${targets[@]/#/tests/fuzz/fuzz_}"; then
		mkdir -p "$b-fuzz"/tests/fuzz/artifacts
		for t in "${targets[@]}"; do
			fz="$b-fuzz"/tests/fuzz/fuzz_$t
			corpus=tests/fuzz/corpus/$t
			if [ ! -x "$fz" ]; then
				hd_log "fuzz target $fz was not built" >&2
				failed+=("fuzz build")
			elif [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
				hd_log "seed corpus $corpus is missing or empty" >&2
				failed+=("fuzz corpus $t")
			else
				stage "fuzzing fuzz_$t for ${fuzz_seconds} s"
				# New inputs go to a scratch corpus: the seed corpus in git stays as it is.
				work="$b-fuzz"/tests/fuzz/corpus-$t
				mkdir -p "$work"
				run "fuzz_$t" "$fz" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
					-artifact_prefix="$b-fuzz"/tests/fuzz/artifacts/ "$work" "$corpus"
			fi
		done
	else
		failed+=("fuzz build")
	fi
fi

stage "packaging (scripts/check-packaging.sh: release build, Dockerfile, unit, chart, dashboard)"
run "packaging checks" bash scripts/check-packaging.sh

stage "test network and upstream"
bash scripts/testnet.sh up
bash scripts/upstream.sh start

stage "end-to-end suites (pytest dts/tests)"
[ -x "$b/app/heimdall/heimdall" ] || hd_die "$b/app/heimdall/heimdall was not built"
rc=0
HEIMDALL_BIN="$HD_ROOT/$b/app/heimdall/heimdall" \
	"$HD_PYTHON" -m pytest -v dts/tests ${pytest_args[@]+"${pytest_args[@]}"} || rc=$?
# pytest exits 5 when it collected nothing: that is a failure here too.
[ $rc -eq 0 ] || { [ $rc -eq 5 ] && hd_log "pytest collected no tests" >&2; failed+=("end-to-end suites"); }

stage "done"
if [ ${#failed[@]} -gt 0 ]; then
	hd_log "FAILED stages: ${failed[*]}" >&2
	exit 1
fi
hd_log "all stages passed in $(($(date +%s) - t0)) s"
