#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Heimdall in five minutes: installs what is missing, builds, reserves
# hugepages, brings up the test network (namespace hd-cli behind veth hd-srv)
# and a knotd upstream, starts heimdall in af_xdp mode on hd-srv, then asks it
# from the namespace: a name forwarded to the upstream, the same name again
# from the cache, over IPv4 and IPv6, and shows the counters.
#
# Usage: scripts/demo.sh             run, then keep heimdall up until Ctrl-C
#        scripts/demo.sh --oneshot   run, show, tear everything down, exit
#        scripts/demo.sh --no-wait   run, show, leave it all running
#        scripts/demo.sh --stop      tear down what a --no-wait run left
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=wait
case "${1:-}" in
"") ;;
--oneshot) mode=oneshot ;;
--no-wait) mode=nowait ;;
--stop) mode=stop ;;
-h|--help) sed -n '3,14p' "$0"; exit 0 ;;
*) hd_die "unknown option '$1' (see --help)" ;;
esac

hd_need_root
cd "$HD_ROOT"

bin=$HD_BUILD_DIR/app/heimdall/heimdall
pidfile="$HD_RUN_DIR/heimdall.pid"
log="$HD_RUN_DIR/heimdall.log"
prefix=heimdall		# heimdall's default --file-prefix

stop_all() {
	set +e
	if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		local pid i
		pid=$(cat "$pidfile")
		kill -TERM "$pid"
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			hd_log "heimdall $pid ignored SIGTERM for 10 s: killing it"
			kill -KILL "$pid"
		fi
		hd_log "heimdall $pid stopped"
	fi
	rm -f "$pidfile"
	bash scripts/upstream.sh stop
	bash scripts/testnet.sh down
}

if [ $mode = stop ]; then
	stop_all
	exit 0
fi

# Telemetry, as dpdk-telemetry.py would ask it: "key=value ..." for the keys asked.
stats() {
	"$HD_PYTHON" - "$prefix" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % sys.argv[1])
info = json.loads(s.recv(4096))
s.send(b"/heimdall/stats")
st = json.loads(s.recv(info["max_output_len"]))["/heimdall/stats"]
print("   " + "  ".join("%s=%s" % (k, st.get(k)) for k in sys.argv[2:]))
PY
}

ask() {
	echo
	echo "\$ ip netns exec $HD_NS kdig $*"
	ip netns exec "$HD_NS" kdig +timeout=3 +retry=0 "$@" | grep -Ev '^;; (Received|Time|From)|^$' || true
	stats queries upstream_queries cache_hits cache_misses local_answers blocked
}

hd_log "1/6 packages"
bash scripts/deps.sh
hd_log "2/6 build"
[ -f "$HD_BUILD_DIR/build.ninja" ] || meson setup "$HD_BUILD_DIR"
ninja -C "$HD_BUILD_DIR" -j2
hd_log "3/6 hugepages"
bash scripts/hugepages.sh
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
	hd_log "a demo is already running (pid $(cat "$pidfile")): stopping it first"
	stop_all
fi
hd_log "4/6 test network"
bash scripts/testnet.sh up
hd_log "5/6 upstream"
bash scripts/upstream.sh start

trap 'stop_all' EXIT
hd_log "6/6 heimdall"
mkdir -p "$HD_RUN_DIR"
http=127.0.0.1:8053
# The REST API's writes need a token; this one lives as long as the demo.
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "$token" >"$HD_RUN_DIR/demo-token"
chmod 600 "$HD_RUN_DIR/demo-token"
cmd=("$bin" -l 0-1 --no-pci --vdev=net_af_xdp0,iface=$HD_SRV_IF --
	--listen 10.53.0.1 --listen fd53::1 --upstream 127.0.0.1:$HD_UPSTREAM_PORT
	--record "nas.lab.home.arpa A 192.168.1.10" --local-zone lab.home.arpa
	--blocklist etc/blocklists/demo.hosts
	--http-port "${http##*:}" --api-token-file "$HD_RUN_DIR/demo-token"
	--state-dir "$HD_RUN_DIR/demo-state")
printf '$ '; printf '%q ' "${cmd[@]}"; echo '&'
"${cmd[@]}" >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"

ready=0
for _ in $(seq 1 300); do
	kill -0 "$(cat "$pidfile")" 2>/dev/null || { cat "$log" >&2; hd_die "heimdall exited while starting"; }
	if [ -S "/var/run/dpdk/$prefix/dpdk_telemetry.v2" ] &&
		ip netns exec "$HD_NS" kdig +timeout=1 +retry=0 +short @10.53.0.1 ready.heimdall.test \
			2>/dev/null | grep -q 192.0.2.1; then
		ready=1
		break
	fi
	sleep 0.2
done
[ $ready = 1 ] || { cat "$log" >&2; hd_die "heimdall did not answer within 60 s"; }
sed 's/^/   | /' "$log"

ask @10.53.0.1 www.heimdall.test A          # forwarded to knotd
ask @10.53.0.1 www.heimdall.test A          # the same, from the cache
ask @fd53::1 www.heimdall.test AAAA
ask @fd53::1 www.heimdall.test AAAA
ask @10.53.0.1 a.heimdall.test A            # a CNAME chain
ask @10.53.0.1 nas.lab.home.arpa A          # a local record, never forwarded
ask @10.53.0.1 -x 192.168.1.10              # its automatic PTR
ask @10.53.0.1 doubleclick.net A            # blocked by etc/blocklists/demo.hosts

# The HTTP side: metrics, readiness, a record added through the API, the query log.
show() {
	echo
	echo "\$ $*"
	"$@" 2>&1 | head -n "${lines:-8}" | sed 's/^/   /'
}
auth="Authorization: Bearer \$(cat $HD_RUN_DIR/demo-token)"
lines=6 show sh -c "curl -s http://$http/metrics | grep -E '^heimdall_(queries|cache_hits|blocked)_total'"
show curl -s "http://$http/ready"
show sh -c "curl -s -H \"$auth\" -X POST http://$http/api/records -d '{\"record\": \"printer.lab.home.arpa 300 A 192.168.1.20\"}'"
ask @10.53.0.1 printer.lab.home.arpa A      # added through the API a moment ago
lines=4 show sh -c "curl -s -H \"$auth\" 'http://$http/api/querylog?limit=3' | \
	$HD_PYTHON -c 'import json,sys; [print(e) for e in json.load(sys.stdin)[\"records\"]]'"

cat <<EOF

heimdall $(cat "$pidfile") is serving 10.53.0.1 and fd53::1 on $HD_SRV_IF (client namespace: $HD_NS).
  ask it:      ip netns exec $HD_NS kdig @10.53.0.1 www.heimdall.test
  telemetry:   dpdk-telemetry.py -f $prefix     then  /heimdall/stats
  metrics:     curl http://$http/metrics    (Prometheus; docs/monitoring.md)
  health:      curl http://$http/health  and  /ready
  API:         curl -H "Authorization: Bearer \$(cat $HD_RUN_DIR/demo-token)" http://$http/api/records
               (docs/api.md; the query log: /api/querylog, docs/querylog.md)
  its log:     $log
  upstream:    knotd on 127.0.0.1:$HD_UPSTREAM_PORT, zones in dts/zones/
EOF

case $mode in
oneshot)
	echo
	stop_all
	trap - EXIT
	;;
nowait)
	trap - EXIT
	echo "  stop it:     scripts/demo.sh --stop"
	;;
wait)
	echo "  stop it:     Ctrl-C"
	trap 'echo; stop_all; trap - EXIT; exit 0' INT TERM
	while kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null; do
		sleep 1
	done
	hd_log "heimdall exited by itself; see $log"
	;;
esac
