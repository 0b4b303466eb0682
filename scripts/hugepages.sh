#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Reserve 2 MiB hugepages for DPDK, mount hugetlbfs, and delete hugepage files
# left by DPDK processes that were killed (they pin memory until removed).
#
# Usage: scripts/hugepages.sh [PAGES]   (default 512, i.e. 1 GiB)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
hd_need_root

want=${1:-512}
[[ "$want" =~ ^[0-9]+$ ]] || hd_die "PAGES must be a number, got '$want'"
mnt=/dev/hugepages
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB

[ -d "$sysfs" ] || hd_die "this kernel has no 2 MiB hugepages ($sysfs missing)"

# Stale files first: they hold pages that a new reservation cannot reuse.
if mountpoint -q "$mnt"; then
	in_use=$(mktemp)
	# A file is in use when some live process maps it or holds it open.
	{
		cat /proc/[0-9]*/maps 2>/dev/null | awk -v m="$mnt/" 'index($6, m) == 1 { print $6 }'
		find /proc/[0-9]*/fd -maxdepth 1 -type l -lname "$mnt/*" -printf '%l\n' 2>/dev/null
	} | sort -u >"$in_use" || true
	n=0
	for f in "$mnt"/*map_*; do
		[ -e "$f" ] || continue
		if ! grep -qxF "$f" "$in_use"; then
			rm -f "$f"
			n=$((n + 1))
		fi
	done
	rm -f "$in_use"
	[ "$n" = 0 ] || hd_log "removed $n stale hugepage files from $mnt"
fi

have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
	echo "$want" >/proc/sys/vm/nr_hugepages
	have=$(cat /proc/sys/vm/nr_hugepages)
	[ "$have" -ge "$want" ] ||
		hd_die "asked for $want hugepages of 2 MiB, the kernel gave $have (memory fragmented? try after a reboot)"
fi

if ! mountpoint -q "$mnt"; then
	mkdir -p "$mnt"
	mount -t hugetlbfs -o pagesize=2M nodev "$mnt"
fi

free=$(cat "$sysfs/free_hugepages")
hd_log "$have hugepages of 2 MiB reserved, $free free, mounted at $mnt"
