#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The release build: what the Dockerfile's build stage runs, and what
# scripts/check-packaging.sh runs in a temporary directory, so that CI builds
# exactly the tree the image ships.
#
#   meson setup (prefix /usr, release, -Dwerror=true, no unit tests)
#   ninja
#   meson install --strip into DESTDIR: /usr/bin/heimdall, /usr/bin/heimdall-bench,
#       /usr/lib/<multiarch>/heimdall/heimdall_xdp.o (the path heimdall looks
#       for when its build directory is gone: HD_XDP_OBJ_INSTALLED)
#   the example configuration as /etc/heimdall/heimdall.yaml, and the
#   systemd unit, tmpfiles.d, sysctl.d and /etc/default files of deploy/systemd.
#
# Usage: scripts/build-release.sh BUILD_DIR DESTDIR
#   HD_JOBS=N   ninja jobs (default 2)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR DESTDIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1
dest=$2
case "$dest" in /*) ;; *) dest=$PWD/$dest ;; esac

say() { printf 'build-release: %s\n' "$*"; }

# A build directory left by an earlier run is wiped: a release is built from
# nothing but the source tree and these options.
if [ -e "$build" ]; then
	rm -rf "$build"
fi
say "configuring $build"
meson setup "$build" "$src" \
	--prefix=/usr \
	--buildtype=release \
	-Dwerror=true \
	-Dtests=false \
	-Dfuzz=false \
	-Dnative=false
say "building"
ninja -C "$build" -j"${HD_JOBS:-2}"
say "installing into $dest"
DESTDIR="$dest" meson install -C "$build" --no-rebuild --strip --quiet

sysd="$src/deploy/systemd"
install -D -m 0644 "$src/etc/heimdall.yaml" "$dest/etc/heimdall/heimdall.yaml"
install -D -m 0644 "$sysd/heimdall.default" "$dest/etc/default/heimdall"
install -D -m 0644 "$sysd/heimdall.service" "$dest/usr/lib/systemd/system/heimdall.service"
install -D -m 0644 "$sysd/heimdall.tmpfiles" "$dest/usr/lib/tmpfiles.d/heimdall.conf"
install -D -m 0644 "$sysd/60-heimdall-hugepages.conf" \
	"$dest/usr/lib/sysctl.d/60-heimdall-hugepages.conf"
install -d -m 0755 "$dest/var/lib/heimdall"

# What heimdall will look for: the XDP object at the path compiled into it.
xdp=$(find "$dest/usr/lib" -path '*/heimdall/heimdall_xdp.o' -print -quit)
[ -n "$xdp" ] || { echo "build-release: heimdall_xdp.o was not installed" >&2; exit 1; }
say "installed: $(cd "$dest" && find . -type f | sort | tr '\n' ' ')"
