#!/bin/sh
# e2e.sh - inside the kTLS VM (busybox ash): UAC -> siptlsd -> UAS over mutual TLS, once with
# TLS 1.2 and once with TLS 1.3, and the memory an idle kernel-path connection costs siptlsd.
# Issue 7 items 4 and 6; run.sh packs it with --script, init.sh runs it after the test binaries.
#
# Proof, per version: every transaction succeeds; siptlsd's own report (show sip-ua connections
# tcp tls detail json) says record layer kernel/kernel for the inbound and the upstream legs; the
# kernel agrees (/proc/net/tls_stat: TlsTxSw and TlsRxSw rose by at least the number of siptlsd's
# sockets, TlsDecryptError stayed 0). Output is TAP (ok / not ok, plan at the end), judged by
# init.sh like a Criterion binary's.
#
# Files: /ktlsvm/bin/{siptlsd,siptlsctl,siptls-bench,ktls-peer},
#        /ktlsvm/data/{ca,proxy,uas,uac}.{pem,key} (run.sh --pki)
# Environment:
#   E2E_COUNT       transactions per run [2000]; E2E_COUNT_CHACHA for the 1.3c run [500]
#   E2E_CONNS       UAC connections [2]
#   E2E_VERSIONS    the runs [1.2 1.3 1.3c] (1.3c: TLS 1.3, ChaCha20-Poly1305 only)
#   E2E_IDLE        idle connections for the memory figure [400]; E2E_NO_MEMORY: skip it
#   E2E_DURATION    UAC time bound, seconds [120]
#   E2E_TRACE       set -x;  E2E_TRACE_SIP: siptlsd --trace-sip, printed when the UAC fails
#   E2E_BIN, E2E_DATA, E2E_WORK: other places for the binaries, the PKI and the scratch files
#                   (a dry run on the host: the kernel checks then fail, as they should)
B=${E2E_BIN:-/ktlsvm/bin}
D=${E2E_DATA:-/ktlsvm/data}
W=${E2E_WORK:-/tmp/e2e}
[ -n "${E2E_TRACE:-}" ] && set -x
COUNT=${E2E_COUNT:-2000}
COUNT_CHACHA=${E2E_COUNT_CHACHA:-500}
CONNS=${E2E_CONNS:-2}
IDLE=${E2E_IDLE:-400}
PROXY=5061 UAS=5062
n=0
mkdir -p "$W"
ulimit -n 4096

ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
nok() {
	n=$((n + 1))
	echo "not ok $n - $*"
}
# check DESC CMD...: one test line from the command's status
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }
up() { cut -d' ' -f1 /proc/uptime; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
nfds() { ls "/proc/$1/fd" | wc -l; }

# config VERSION [TLS13SUITE]: one tenant listening on $PROXY, dial-peer 1... to the UAS tenant;
# the profile pinned to VERSION (min = max), mutual TLS with the test CA; TLS13SUITE: the only
# TLS 1.3 suite offered and taken (both legs)
config() {
	{
		cat <<EOC
crypto pki trustpoint EDGE
 revocation-check none
 certificate-file $D/proxy.pem
 key-file $D/proxy.key
 ca-file $D/ca.pem
EOC
		[ -n "${2:-}" ] && printf 'voice class tls-cipher 1\n tls13-ciphers %s\n' "$2"
		echo "voice class tls-profile 1"
		[ -n "${2:-}" ] && echo " cipher 1"
		cat <<EOC
 trustpoint EDGE
 tls-version min $1 max $1
voice class tenant 100
 tls-profile 1
 listen-port secure $PROXY
 bind control source-interface 127.0.0.1
voice class tenant 200
 tls-profile 1
 sip-server ipv4:127.0.0.1:$UAS
dial-peer voice 10 voip
 destination-pattern 1...
 session target sip-server
 voice-class sip tenant 200
EOC
	} >"$W/siptlsd.cfg"
}

# start_proxy LOG [OPTION...]: siptlsd with the current config, one worker, and OPTIONs; waits
# for "siptlsd running"
start_proxy() {
	log=$1
	shift
	rm -f "$W/ctl.sock"
	"$B/siptlsd" -c "$W/siptlsd.cfg" --workers 1 --no-pin -f --log-level info "$@" \
		--control "$W/ctl.sock" ${E2E_TRACE_SIP:+--trace-sip "$W/trace.sip"} >"$log" 2>&1 &
	PROXY_PID=$!
	i=0
	while [ $i -lt 200 ]; do
		grep -q "siptlsd running" "$log" 2>/dev/null && return 0
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	sed 's/^/# /' "$log"
	return 1
}

stop_proxy() {
	kill -TERM "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID"
}

detail() {
	"$B/siptlsctl" --control "$W/ctl.sock" show sip-ua connections tcp tls detail json
}

# legs FILE OUTBOUND: the connections of one direction (true: upstream) in a detail snapshot,
# one line each: "version rx tx"
legs() {
	grep -o '{"conn_id":[^}]*}' "$1" | grep "\"outbound\":$2" |
		sed -n 's/.*"tls_version":"\([^"]*\)".*"record_rx":"\([^"]*\)","record_tx":"\([^"]*\)".*/\1 \2 \3/p'
}

# all_kernel FILE OUTBOUND VERSION: at least one such leg, every one VERSION kernel kernel
all_kernel() {
	legs "$1" "$2" >"$W/legs"
	sed 's/^/#   /' "$W/legs"
	[ -s "$W/legs" ] && ! grep -qv "^$3 kernel kernel\$" "$W/legs"
}

peer() {
	"$B/ktls-peer" "127.0.0.1:$PROXY" "$D/uac.pem" "$D/uac.key" "$D/ca.pem" "$1" >"$W/peer.out" 2>&1
	prc=$?
	sed 's/^/# /' "$W/peer.out"
	return $prc
}

# control_records LOG: what a TLS 1.3 peer can send siptlsd after the handshake, each on a fresh
# connection that is kernel both ways at siptlsd (ktls-peer: kernel both ways itself)
control_records() {
	echo "# ---- control records from a peer (TLS 1.3, siptlsd kernel both ways)"
	check "ticket: discarded, the connection goes on (an OPTIONS gets its 200)" peer ticket
	check "alert: siptlsd closes the connection" peer alert
	check "alert: siptlsd logs it" grep -q "TLS alert from 127.0.0.1:.*handshake failure; closing" "$1"
	check "KeyUpdate: siptlsd closes cleanly (close_notify)" peer keyupdate
	check "KeyUpdate: siptlsd logs it" grep -q "TLS KeyUpdate from 127.0.0.1:" "$1"
	check "close_notify: siptlsd answers with its own" peer close
	grep -E "TLS (alert|KeyUpdate|record)" "$1" | sed 's/^/#   /'
}

# run_version V: V is 1.2, 1.3 or 1.3c (TLS 1.3 with ChaCha20-Poly1305 only)
run_version() {
	v=$1 name=TLSv${1%c} suite= count=$COUNT
	[ "$v" = 1.3c ] && suite=TLS_CHACHA20_POLY1305_SHA256 count=$COUNT_CHACHA
	echo "# ---- $name ${suite:-(default suites)}: $count transactions, $CONNS connections, UAC -> siptlsd -> UAS"
	config "${v%c}" "$suite"
	"$B/siptls-bench" uas --listen "127.0.0.1:$UAS" --cert "$D/uas.pem" --key "$D/uas.key" \
		--ca "$D/ca.pem" --json -q >"$W/uas-$v.log" 2>&1 &
	uas=$!
	if ! start_proxy "$W/siptlsd-$v.log"; then
		nok "$name: siptlsd starts"
		kill "$uas"
		return
	fi
	ok "$name: siptlsd starts"
	tx0=$(stat TlsTxSw) rx0=$(stat TlsRxSw) de0=$(stat TlsDecryptError)
	t0=$(up)
	"$B/siptls-bench" uac --target "127.0.0.1:$PROXY" --cert "$D/uac.pem" --key "$D/uac.key" \
		--ca "$D/ca.pem" --scenario options --conns "$CONNS" --window 4 --count "$count" \
		--timeout 5000 --duration ${E2E_DURATION:-120} --json -q >"$W/uac-$v.json" 2>"$W/uac-$v.log" &
	uac=$!
	# snapshots while the UAC runs: its connections close when it ends, the upstream stays
	: >"$W/detail-$v.json"
	while kill -0 "$uac" 2>/dev/null; do
		detail >"$W/snap.json" 2>/dev/null
		[ "$(legs "$W/snap.json" false | wc -l)" -ge "$CONNS" ] && cp "$W/snap.json" "$W/detail-$v.json"
		sleep 0.5
	done
	wait "$uac"
	rc=$?
	t1=$(up)
	echo "# uac exit $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: $(cat "$W/uac-$v.json")"
	check "$name: $count transactions through siptlsd, none failed" \
		grep -q "\"transactions\":$count,.*\"errors\":{\"total\":0," "$W/uac-$v.json"
	if [ "$rc" != 0 ]; then
		nok "$name: siptls-bench uac exit status $rc"
		tail -n 20 "$W/uac-$v.log" "$W/siptlsd-$v.log" | sed 's/^/#   /'
		sed 's/^/#   /' "$W/snap.json"
		"$B/siptlsctl" --control "$W/ctl.sock" show stats | grep -v ' 0$' | sed 's/^/#   /'
		sed 's/^/#   /' /proc/net/tcp
		[ -f "$W/trace.sip" ] && head -n 120 "$W/trace.sip" | sed 's/^/#   trace: /'
	fi
	check "$name: siptlsd reports kernel/kernel on every inbound leg" \
		all_kernel "$W/detail-$v.json" false "$name"
	detail >"$W/after-$v.json"
	check "$name: siptlsd reports kernel/kernel on the upstream leg" \
		all_kernel "$W/after-$v.json" true "$name"
	[ -n "$suite" ] && check "$name: both legs negotiated $suite" \
		[ "$(cat "$W/detail-$v.json" "$W/after-$v.json" | grep -o "\"cipher\":\"$suite\"" | wc -l)" -ge $((CONNS + 1)) ]
	"$B/siptlsctl" --control "$W/ctl.sock" show stats | sed 's/^/#   /' |
		grep -E 'forwarded|remote_closures|scan_errors|failures|ktls|shed|alert|keyupdate|ticket|record'
	tx1=$(stat TlsTxSw) rx1=$(stat TlsRxSw) de1=$(stat TlsDecryptError)
	socks=$((CONNS + 1))
	echo "# tls_stat TlsTxSw $tx0 -> $tx1, TlsRxSw $rx0 -> $rx1, TlsDecryptError $de0 -> $de1"
	check "$name: TlsTxSw rose by >= $socks (siptlsd's sockets)" [ $((tx1 - tx0)) -ge $socks ]
	check "$name: TlsRxSw rose by >= $socks" [ $((rx1 - rx0)) -ge $socks ]
	check "$name: TlsDecryptError stayed 0" [ "$de1" = 0 ]
	check "$name: siptlsd logged no record-layer failure" \
		sh -c "! grep -E 'TLS (record|alert|KeyUpdate|kernel receive)|not installed' '$W/siptlsd-$v.log'"
	[ "$v" = 1.3 ] && [ -x "$B/ktls-peer" ] && control_records "$W/siptlsd-$v.log"
	stop_proxy
	check "$name: siptlsd drains and exits 0" [ $? = 0 ]
	kill "$uas" 2>/dev/null
	wait "$uas" 2>/dev/null
	[ "$rc" = 0 ] || tail -n 30 "$W/uas-$v.log" | sed 's/^/#   uas: /'
}

# idle HOW-MANY SECONDS: siptls-bench idle in the background (IDLE_PID)
idle() {
	"$B/siptls-bench" idle --target "127.0.0.1:$PROXY" --cert "$D/uac.pem" --key "$D/uac.key" \
		--ca "$D/ca.pem" --conns "$1" --parallel 4 --duration "$2" --timeout 60000 -q \
		>>"$W/idle.log" 2>&1 &
	IDLE_PID=$!
}

# wait_fds PID N: until PID has at least N fds (180 s at most: a loaded host makes TCG slow)
wait_fds() {
	i=0
	while [ "$(nfds "$1")" -lt "$2" ] && [ $i -lt 1800 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(nfds "$1")" -ge "$2" ]
}

# Memory of an idle kernel-path connection: siptlsd's RSS with 20 idle TLS 1.3 connections, then
# with $IDLE more; the difference over the connections that opened. RSS is coarse (the allocator
# keeps pages the handshakes freed, and held connections land in them), so the figure is noisy
# by several hundred bytes per connection at 400 and may even come out below zero; the check is
# the upper bound, which is what shedding the SSL decides: with it kept (the user path) an idle
# connection costs about 37 KB here.
memory() {
	echo "# ---- memory per idle connection (TLS 1.3, kernel both ways, SSL freed)"
	config 1.3
	# handshakes under TCG on a loaded host can take longer than the default 10 s
	if ! start_proxy "$W/siptlsd-mem.log" --handshake-timeout 60000; then
		nok "memory: siptlsd starts"
		return
	fi
	base=$(nfds "$PROXY_PID")
	idle 20 600
	first=$IDLE_PID
	wait_fds "$PROXY_PID" $((base + 20)) || nok "memory: 20 idle connections open"
	sleep 1
	r0=$(rss_kib "$PROXY_PID") f0=$(nfds "$PROXY_PID")
	t0=$(up)
	idle "$IDLE" 600
	second=$IDLE_PID
	wait_fds "$PROXY_PID" $((f0 + IDLE))
	got=$?
	echo "# $(($(nfds "$PROXY_PID") - f0)) more connections in $(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }') s"
	sleep 1
	r1=$(rss_kib "$PROXY_PID") f1=$(nfds "$PROXY_PID")
	detail >"$W/mem.json"
	k=$(legs "$W/mem.json" false | grep -c '^TLSv1.3 kernel kernel$')
	per=$(awk -v a="$r0" -v b="$r1" -v n="$((f1 - f0))" 'BEGIN { if (n > 0) printf "%d", (b - a) * 1024 / n; else print 999999 }')
	echo "# siptlsd VmRSS ${r0} KiB with $((f0 - base)) idle connections, ${r1} KiB with $((f1 - base)); $k kernel/kernel"
	echo "KTLSVM: memory per idle connection ${per} bytes (TLS 1.3, kernel rx+tx, SSL freed; $((f1 - f0)) connections, RSS ${r0} -> ${r1} KiB)"
	# the figure is over the connections that did open; nine in ten must
	[ "$got" = 0 ] || echo "# only $((f1 - f0)) of $IDLE opened within 180 s"
	check "memory: >= 90% of $IDLE more idle connections open ($((f1 - f0)))" \
		[ $(((f1 - f0) * 10)) -ge $((IDLE * 9)) ]
	check "memory: every idle connection kernel/kernel" [ "$k" -ge $((f1 - base)) ]
	"$B/siptlsctl" --control "$W/ctl.sock" show stats | grep -E 'ssl_shed|ktls' | sed 's/^/#   /'
	check "memory: <= 4096 bytes per idle connection (measured $per)" [ "$per" -le 4096 ]
	kill "$first" "$second" 2>/dev/null
	wait "$first" "$second" 2>/dev/null
	stop_proxy
}

for f in siptlsd siptlsctl siptls-bench; do
	[ -x "$B/$f" ] || nok "$f is in the VM"
done
for v in ${E2E_VERSIONS:-1.2 1.3 1.3c}; do
	run_version "$v"
done
[ -n "${E2E_NO_MEMORY:-}" ] || memory
echo "1..$n"
