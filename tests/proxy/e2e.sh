#!/usr/bin/env bash
# e2e.sh SIPTLSD CASE - one end-to-end case: a throwaway PKI, a test UAS (sipua.py), siptlsd
# between it and a test UAC over mutual TLS on loopback, and the UAC's verdict. Every process is
# bounded in time and killed on exit. Ports come from the case's number so cases run in parallel.
set -euo pipefail
SIPTLSD=$(readlink -f "$1")
CTL="$(dirname "$SIPTLSD")/siptlsctl"
CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
UA="python3 $HERE/sipua.py"
WORK=$(mktemp -d /tmp/siptls-e2e.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "FAIL $CASE: $*"; echo "--- siptlsd log"; cat "$WORK/siptlsd.log" 2>/dev/null | tail -40; exit 1; }

# ports: 20000 + 10 * (hash of the case name % 1200): below Linux's ephemeral range (32768 and
# up), where another test's outgoing connection in TIME_WAIT could hold the port and make the
# listen fail (it did: proxy_workers4 at 35150)
n=$(printf '%s' "$CASE" | cksum | cut -d' ' -f1)
BASE=$((20000 + (n % 1200) * 10))
PROXY=$BASE UAS=$((BASE + 1)) SPARE=$((BASE + 2))

pki() { bash "$HERE/../../scripts/mkpki.sh" "$WORK"; }

start_uas() { # start_uas [sipua options]
	$UA uas --port "$UAS" --cert "$WORK/uas.pem" --key "$WORK/uas.key" --ca "$WORK/ca.pem" \
		--lifetime 60 --ready "$WORK/uas.ready" --log "$WORK/uas.log" "$@" &
	PIDS+=($!)
	for _ in $(seq 50); do [ -e "$WORK/uas.ready" ] && return; sleep 0.1; done
	fail "UAS did not start"
}

start_proxy() { # start_proxy [siptlsd options]
	"$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert "$WORK/proxy.pem" --key "$WORK/proxy.key" \
		--ca "$WORK/ca.pem" --upstream "127.0.0.1:$UAS" --no-pin -f --log-level info \
		--control "$WORK/ctl.sock" "$@" \
		>"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!
	PIDS+=($PROXY_PID)
	for _ in $(seq 100); do
		grep -q "siptlsd running" "$WORK/siptlsd.log" 2>/dev/null && return
		kill -0 $PROXY_PID 2>/dev/null || fail "siptlsd exited at start"
		sleep 0.05
	done
	fail "siptlsd did not start"
}

uac() { # uac [sipua options]: prints the JSON verdict, fails the case when not ok
	local out
	out=$($UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" "$@") ||
		fail "UAC: $out"
	echo "$out"
}

stop_proxy_expect_clean() {
	kill -TERM "$PROXY_PID"
	for _ in $(seq 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$PROXY_PID" 2>/dev/null && fail "siptlsd still running 10 s after SIGTERM"
	wait "$PROXY_PID" || fail "siptlsd exit status $? after SIGTERM"
	grep -q "ERROR: AddressSanitizer\|runtime error" "$WORK/siptlsd.log" && fail "sanitizer report"
	return 0
}

pki
case "$CASE" in
dialog) # INVITE/100/180/200/ACK/BYE/200 with Record-Route honoured, then a clean SIGTERM
	start_uas; start_proxy --workers 2
	uac --scenario call --repeat 5
	grep -c '^BYE ' "$WORK/uas.log" | grep -qx 5 || fail "UAS saw $(grep -c '^BYE ' "$WORK/uas.log") BYEs, want 5"
	grep -q '^Route:' "$WORK/uas.log" && fail "our Route entries reached the UAS"
	stop_proxy_expect_clean ;;
workers4) # 4 workers, several connections: every call completes
	start_uas; start_proxy --workers 4
	for i in 1 2 3 4 5 6; do uac --scenario call --repeat 10 >"$WORK/uac$i.out" & PIDS+=($!); done
	wait "${PIDS[@]:2}" || fail "a UAC failed: $(cat "$WORK"/uac*.out)"
	[ "$(grep -c '^BYE ' "$WORK/uas.log")" = 60 ] || fail "UAS saw $(grep -c '^BYE ' "$WORK/uas.log") BYEs, want 60"
	stop_proxy_expect_clean ;;
options_local) # OPTIONS to the proxy itself: 200 from siptlsd, nothing upstream
	start_uas; start_proxy
	uac --scenario options --user "" --target "127.0.0.1:$PROXY" --expect 200
	[ -s "$WORK/uas.log" ] && fail "the UAS saw a request"
	stop_proxy_expect_clean ;;
ping) # RFC 5626 CRLF keep-alive: "\r\n\r\n" answered "\r\n"
	start_uas; start_proxy
	uac --scenario ping
	stop_proxy_expect_clean ;;
upstream_down) # no UAS at all: 503 for every request, the proxy keeps running
	start_proxy --connect-timeout 1000
	uac --scenario invite --expect 503
	uac --scenario invite --expect 503
	stop_proxy_expect_clean ;;
upstream_killed) # the UAS dies with a call ringing: the waiting client gets 503
	start_uas --mode ring; start_proxy
	( sleep 1; kill "${PIDS[0]}" ) & PIDS+=($!)
	uac --scenario invite --expect 503 --timeout 8
	stop_proxy_expect_clean ;;
timeout408) # the UAS never answers: 408 after the transaction timeout
	start_uas --mode silent; start_proxy --txn-timeout 1000
	uac --scenario invite --expect 408 --timeout 6
	stop_proxy_expect_clean ;;
max_forwards) # Max-Forwards: 0 -> 483
	start_uas; start_proxy
	printf 'INVITE sip:1000@proxy.test SIP/2.0\r\nVia: SIP/2.0/TLS uac.test;branch=z9hG4bKmf0\r\nMax-Forwards: 0\r\nFrom: <sip:a@uac.test>;tag=1\r\nTo: <sip:1000@proxy.test>\r\nCall-ID: mf0@uac\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' >"$WORK/mf0.sip"
	uac --scenario raw --file "$WORK/mf0.sip" --expect 483
	stop_proxy_expect_clean ;;
malformed400) # a readable request with a broken CSeq: 400, not forwarded
	start_uas; start_proxy
	printf 'INVITE sip:1000@proxy.test SIP/2.0\r\nVia: SIP/2.0/TLS uac.test;branch=z9hG4bKbad\r\nFrom: <sip:a@uac.test>;tag=1\r\nTo: <sip:1000@proxy.test>\r\nCall-ID: bad@uac\r\nCSeq: 99999999999 INVITE\r\nContent-Length: 0\r\n\r\n' >"$WORK/bad.sip"
	uac --scenario raw --file "$WORK/bad.sip" --expect 400
	[ -s "$WORK/uas.log" ] && fail "the UAS saw the broken request"
	stop_proxy_expect_clean ;;
too_big513) # a message over --max-msg: 513, then the connection closes
	start_uas; start_proxy --max-msg 2048
	{ printf 'MESSAGE sip:1000@proxy.test SIP/2.0\r\nVia: SIP/2.0/TLS uac.test;branch=z9hG4bKbig\r\nFrom: <sip:a@uac.test>;tag=1\r\nTo: <sip:1000@proxy.test>\r\nCall-ID: big@uac\r\nCSeq: 1 MESSAGE\r\nContent-Length: 5000\r\n\r\n'; head -c 5000 /dev/zero | tr '\0' x; } >"$WORK/big.sip"
	uac --scenario raw --file "$WORK/big.sip" --expect 513
	stop_proxy_expect_clean ;;
listen_in_use) # the port is taken: the reference's LISTEN_SOCKET line and exit status 1
	python3 -c "import socket,time;s=socket.socket();s.bind(('127.0.0.1',$PROXY));s.listen();open('$WORK/held','w');time.sleep(30)" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -e "$WORK/held" ] && break; sleep 0.05; done
	[ -e "$WORK/held" ] || fail "could not hold port $PROXY"
	set +e
	timeout 10 "$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert "$WORK/proxy.pem" --key "$WORK/proxy.key" \
		--upstream "127.0.0.1:$UAS" --no-pin -f >"$WORK/siptlsd.log" 2>&1
	rc=$?
	set -e
	[ $rc = 1 ] || fail "exit status $rc, want 1"
	grep -q "%SIP-2-LISTEN_SOCKET: Failed to open listen socket for ip_addr=127.0.0.1, port=$PROXY, vrf=, transport=TLS, tenant=0" \
		"$WORK/siptlsd.log" || fail "no LISTEN_SOCKET line" ;;
bad_cert) # a missing certificate file: a clear error naming it, exit 1
	set +e
	"$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert "$WORK/nope.pem" --key "$WORK/proxy.key" \
		--upstream "127.0.0.1:$UAS" >"$WORK/siptlsd.log" 2>&1
	rc=$?
	set -e
	[ $rc = 1 ] || fail "exit status $rc, want 1"
	grep -q "nope.pem" "$WORK/siptlsd.log" || fail "the error does not name the file" ;;
no_client_cert) # mutual TLS: a client without a certificate never gets a SIP answer
	start_uas; start_proxy
	set +e
	out=$($UA uac --port "$PROXY" --ca "$WORK/ca.pem" --scenario options 2>&1)
	set -e
	echo "$out" | grep -q '"ok": true' && fail "a client without a certificate was served"
	stop_proxy_expect_clean ;;
garbage) # bytes that are not TLS: the connection is dropped, the proxy keeps serving
	start_uas; start_proxy
	head -c 3000 /dev/urandom | timeout 5 python3 -c "import socket,sys;s=socket.create_connection(('127.0.0.1',$PROXY));s.sendall(sys.stdin.buffer.read());s.settimeout(5);print(len(s.recv(100)))" >/dev/null 2>&1 || true
	uac --scenario call
	stop_proxy_expect_clean ;;
sipp) # an independent SIP implementation (SIPp) at both ends, its TCP bridged to TLS by socat
	# (Debian's SIPp is built without OpenSSL): 50 calls, every one must succeed
	command -v sipp >/dev/null && command -v socat >/dev/null || fail "sipp or socat missing (scripts/deps.sh)"
	SUAS=$SPARE SBRIDGE=$((BASE + 3)) SUAC=$((BASE + 4))
	(cd "$WORK" && timeout 60 sipp -sn uas -t t1 -i 127.0.0.1 -p "$SUAS" -nostdin >/dev/null 2>&1) &
	PIDS+=($!)
	socat "openssl-listen:$UAS,reuseaddr,fork,cert=$WORK/uas.pem,key=$WORK/uas.key,cafile=$WORK/ca.pem,verify=1" \
		"tcp:127.0.0.1:$SUAS" 2>"$WORK/socat-uas.log" &
	PIDS+=($!)
	start_proxy --workers 2
	socat "tcp-listen:$SBRIDGE,reuseaddr,fork" \
		"openssl:127.0.0.1:$PROXY,cert=$WORK/uac.pem,key=$WORK/uac.key,cafile=$WORK/ca.pem,verify=1" \
		2>"$WORK/socat-uac.log" &
	PIDS+=($!)
	sleep 0.5
	(cd "$WORK" && timeout 60 sipp -sn uac -t t1 -i 127.0.0.1 -p "$SUAC" "127.0.0.1:$SBRIDGE" -s 1000 \
		-m 50 -r 25 -nostdin >"$WORK/sipp.out" 2>&1) || fail "SIPp UAC: $(tail -30 "$WORK/sipp.out")"
	grep -Eq 'Successful call +\| +[0-9]+ +\| +50 ' "$WORK/sipp.out" || fail "not 50 successful calls: $(tail -30 "$WORK/sipp.out")"
	stop_proxy_expect_clean ;;
config_file) # the reference dialect: two tenants, a dial-peer, cn-san both ways, url sips;
	# a call completes through it, an unknown number gets 404, --check-config prints it back
	cat >"$WORK/siptlsd.cfg" <<EOC
ip domain name test
crypto pki trustpoint EDGE
 revocation-check none
 certificate-file $WORK/proxy.pem
 key-file $WORK/proxy.key
 ca-file $WORK/ca.pem
voice class tls-cipher 1
 cipher 1 ECDHE_ECDSA_AES256_GCM_SHA384
 cipher 2 ECDHE_ECDSA_AES128_GCM_SHA256
voice class tls-profile 100
 cipher 1
 trustpoint EDGE
 cn-san validate client
 cn-san 1 uac.test
voice class tls-profile 200
 trustpoint EDGE
 cn-san-validate server
voice class tenant 100
 tls-profile 100
 listen-port secure $PROXY
 bind control source-interface 127.0.0.1
 session transport tcp tls
voice class tenant 200
 tls-profile 200
 sip-server ipv4:127.0.0.1:$UAS
 session transport tcp tls
 url sips
dial-peer voice 10 voip
 description towards the test UAS
 destination-pattern 1...
 session protocol sipv2
 session target sip-server
 voice-class sip tenant 200
 dtmf-relay rtp-nte
!
EOC
	"$SIPTLSD" --check-config -c "$WORK/siptlsd.cfg" >"$WORK/check.out" 2>&1 || fail "check-config: $(cat "$WORK/check.out")"
	grep -q "destination-pattern 1..." "$WORK/check.out" || fail "check-config did not print the config"
	start_uas
	"$SIPTLSD" -c "$WORK/siptlsd.cfg" --no-pin -f --log-level info --control "$WORK/ctl.sock" \
		>"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!; PIDS+=($PROXY_PID)
	for _ in $(seq 100); do grep -q "siptlsd running" "$WORK/siptlsd.log" && break; sleep 0.05; done
	uac --scenario call
	grep -q '^INVITE sips:1000@127.0.0.1' "$WORK/uas.log" || fail "the UAS did not get a sips: Request-URI"
	[ "$(grep -c '^Record-Route:' "$WORK/uas.log" | head -1)" -ge 2 ] || fail "two tenants: want two Record-Routes"
	uac --scenario invite --user 9999 --expect 404
	stop_proxy_expect_clean ;;
sni_tenants) # two tenants share one port, told apart by the SNI name the client sends
	cat >"$WORK/siptlsd.cfg" <<EOC
crypto pki trustpoint EDGE
 revocation-check none
 certificate-file $WORK/proxy.pem
 key-file $WORK/proxy.key
 ca-file $WORK/ca.pem
voice class tls-profile 1
 trustpoint EDGE
voice class tls-profile 3
 trustpoint EDGE
 cn-san validate client
 cn-san 1 uac.test
voice class tenant 100
 tls-profile 1
 listen-port secure $PROXY
 bind control source-interface 127.0.0.1
voice class tenant 300
 tls-profile 3
 listen-port secure $PROXY
 bind control source-interface 127.0.0.1
 sni name alt.test
voice class tenant 200
 tls-profile 1
 sip-server ipv4:127.0.0.1:$UAS
dial-peer voice 10 voip
 destination-pattern 1...
 session target sip-server
 voice-class sip tenant 200
EOC
	start_uas --mode ring
	"$SIPTLSD" -c "$WORK/siptlsd.cfg" --no-pin -f --log-level info --control "$WORK/ctl.sock" \
		--txn-timeout 4000 >"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!; PIDS+=($PROXY_PID)
	for _ in $(seq 100); do grep -q "siptlsd running" "$WORK/siptlsd.log" && break; sleep 0.05; done
	for sni in alt.test other.test; do
		$UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" \
			--sni $sni --scenario invite --expect 408 --timeout 6 >"$WORK/uac-$sni.out" &
		PIDS+=($!)
	done
	for _ in $(seq 50); do [ "$(grep -c '^INVITE' "$WORK/uas.log" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls detail json >"$WORK/detail.json"
	python3 - "$WORK/detail.json" <<'EOP' || fail "tenants by SNI: $(cat "$WORK/detail.json")"
import json, sys
d = json.load(open(sys.argv[1]))
inbound = sorted(c["tenant"] for c in d["connections"] if not c["outbound"])
assert inbound == [100, 300], inbound  # other.test is unknown: the default tenant
assert sorted(l["tenant"] for l in d["listeners"]) == [100, 300], d["listeners"]
EOP
	stop_proxy_expect_clean ;;
reload) # a reload swaps the certificate for new connections while a call stays up; a broken
	# configuration leaves the running one in force; SIGHUP reloads too
	mkconf() { # mkconf CERTNAME
		cat >"$WORK/siptlsd.cfg" <<EOC
crypto pki trustpoint EDGE
 revocation-check none
 certificate-file $WORK/$1.pem
 key-file $WORK/$1.key
 ca-file $WORK/ca.pem
voice class tls-profile 1
 trustpoint EDGE
voice class tenant 100
 tls-profile 1
 listen-port secure $PROXY
 bind control source-interface 127.0.0.1
 sip-server ipv4:127.0.0.1:$UAS
dial-peer voice 1 voip
 destination-pattern T
 session target sip-server
 voice-class sip tenant 100
EOC
	}
	served_cn() {
		openssl s_client -connect "127.0.0.1:$PROXY" -cert "$WORK/uac.pem" -key "$WORK/uac.key" \
			-CAfile "$WORK/ca.pem" </dev/null 2>/dev/null | sed -n 's/^subject=.*CN *= *\([^,/]*\).*/\1/p' | head -1
	}
	mkconf proxy
	start_uas --delay 3
	"$SIPTLSD" -c "$WORK/siptlsd.cfg" --no-pin -f --log-level info --control "$WORK/ctl.sock" \
		>"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!; PIDS+=($PROXY_PID)
	for _ in $(seq 100); do grep -q "siptlsd running" "$WORK/siptlsd.log" && break; sleep 0.05; done
	[ "$(served_cn)" = proxy.test ] || fail "first certificate: '$(served_cn)'"
	$UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" \
		--scenario invite --expect 200 --timeout 10 >"$WORK/uac.out" &
	UACPID=$!; PIDS+=($UACPID)
	for _ in $(seq 50); do grep -q '^INVITE' "$WORK/uas.log" 2>/dev/null && break; sleep 0.1; done
	bash "$HERE/../../scripts/mkpki.sh" "$WORK" proxy2
	mkconf proxy2
	"$CTL" --control "$WORK/ctl.sock" reload | grep -q "Configuration 2 loaded" || fail "reload"
	[ "$(served_cn)" = proxy2.test ] || fail "after reload the new certificate is not served: '$(served_cn)'"
	wait $UACPID || fail "the call in progress did not survive the reload: $(cat "$WORK/uac.out")"
	mkconf missing
	set +e
	"$CTL" --control "$WORK/ctl.sock" reload >"$WORK/reload.out"; rc=$?
	set -e
	[ $rc = 1 ] && grep -q "missing.pem" "$WORK/reload.out" || fail "a broken reload: rc $rc, $(cat "$WORK/reload.out")"
	[ "$(served_cn)" = proxy2.test ] || fail "a failed reload changed the served certificate"
	mkconf proxy
	kill -HUP "$PROXY_PID"
	for _ in $(seq 50); do grep -q "configuration 3 loaded" "$WORK/siptlsd.log" && break; sleep 0.1; done
	[ "$(served_cn)" = proxy.test ] || fail "SIGHUP did not reload"
	uac --scenario call
	stop_proxy_expect_clean ;;
drain) # SIGTERM with a call waiting for its 200: the answer still arrives, then a clean exit
	start_uas --delay 2; start_proxy
	$UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" \
		--scenario invite --expect 200 --timeout 8 >"$WORK/uac.out" &
	UACPID=$!; PIDS+=($UACPID)
	for _ in $(seq 50); do grep -q '^INVITE' "$WORK/uas.log" 2>/dev/null && break; sleep 0.1; done
	kill -TERM "$PROXY_PID"
	wait $UACPID || fail "the in-flight INVITE lost its 200 at SIGTERM: $(cat "$WORK/uac.out")"
	for _ in $(seq 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$PROXY_PID" || fail "siptlsd exit status $? after the drain" ;;
forged) # a response whose branch was tampered with is dropped and counted; the client gets 408
	start_uas --mode forge; start_proxy --txn-timeout 1500
	uac --scenario invite --expect 408 --timeout 6
	"$CTL" --control "$WORK/ctl.sock" show stats | grep -Eq '^decision: response Via not ours +[1-9]' ||
		fail "no forged response counted: $("$CTL" --control "$WORK/ctl.sock" show stats)"
	stop_proxy_expect_clean ;;
backpressure) # the UAS stops reading: our queue toward it fills, the client is paused (not
	# answered 503), other clients are served, and when the UAS goes away every request waiting
	# gets its final response
	start_uas --mode stall; start_proxy --sendq-limit 65536
	$UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" \
		--scenario flood --count 300 --size 4000 --timeout 40 >"$WORK/flood.out" &
	FLOOD=$!; PIDS+=($FLOOD)
	for _ in $(seq 100); do
		"$CTL" --control "$WORK/ctl.sock" show stats | grep -Eq '^backpressure_pauses +[1-9]' && break
		sleep 0.1
	done
	"$CTL" --control "$WORK/ctl.sock" show stats | grep -Eq '^backpressure_pauses +[1-9]' ||
		fail "no backpressure pause: $("$CTL" --control "$WORK/ctl.sock" show stats)"
	uac --scenario ping # another client is unaffected
	"$CTL" --control "$WORK/ctl.sock" show stats | grep -Eq '^upstream_unavailable +0$' ||
		fail "503s were sent while the upstream was only slow"
	kill "${PIDS[0]}" # the UAS goes away: queued requests fail over to 503, none is lost
	wait $FLOOD || fail "not every request got a final response: $(cat "$WORK/flood.out")"
	grep -q '"sent": 300' "$WORK/flood.out" || fail "$(cat "$WORK/flood.out")"
	stop_proxy_expect_clean ;;
idle_timeout) # a connection that says nothing for --idle-timeout is closed and counted
	start_uas; start_proxy --idle-timeout 500
	uac --scenario options
	sleep 1.5
	"$CTL" --control "$WORK/ctl.sock" show stats | grep -Eq '^inactive_ageouts +[1-9]' ||
		fail "no inactive ageout counted: $("$CTL" --control "$WORK/ctl.sock" show stats)"
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls brief | grep -q "ageouts : [1-9]" ||
		fail "brief does not show the ageouts"
	stop_proxy_expect_clean ;;
show_clear) # show detail lists both legs; clear by target closes the upstream leg: 503
	start_uas --mode ring; start_proxy --workers 2
	$UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" \
		--scenario invite --expect 503 --timeout 8 >"$WORK/uac.out" &
	UACPID=$!; PIDS+=($UACPID)
	for _ in $(seq 50); do grep -q '^INVITE' "$WORK/uas.log" 2>/dev/null && break; sleep 0.1; done
	sleep 0.3
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls detail >"$WORK/detail.txt" ||
		fail "show detail: $(cat "$WORK/detail.txt")"
	grep -q "Total active connections *: 2" "$WORK/detail.txt" || fail "detail: $(cat "$WORK/detail.txt")"
	grep -q "Remote-Agent:127.0.0.1, Connections-Count:2" "$WORK/detail.txt" || fail "no Remote-Agent line"
	[ "$(grep -c ' Established ' "$WORK/detail.txt")" = 2 ] || fail "want 2 Established rows"
	grep -q "\[127.0.0.1\]:$PROXY:" "$WORK/detail.txt" || fail "no listen socket row"
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls brief json | python3 -m json.tool >/dev/null ||
		fail "brief json does not parse"
	# a second client, then clear exactly it by its Conn-Id: the first call's legs stay
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls detail json >"$WORK/d1.json"
	$UA uac --port "$PROXY" --cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem" \
		--scenario invite --expect 408 --timeout 8 >"$WORK/uac2.out" &
	PIDS+=($!)
	for _ in $(seq 50); do [ "$(grep -c '^INVITE' "$WORK/uas.log")" = 2 ] && break; sleep 0.1; done
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls detail json >"$WORK/d2.json"
	# the new inbound connection: in d2 and not in d1 (ids need not grow: workers differ)
	id=$(python3 -c "
import json, sys
ids = lambda f: {x['conn_id'] for x in json.load(open(f))['connections'] if not x['outbound']}
new = ids(sys.argv[2]) - ids(sys.argv[1])
assert len(new) == 1, new
print(new.pop())" "$WORK/d1.json" "$WORK/d2.json") || fail "no single new inbound connection"
	"$CTL" --control "$WORK/ctl.sock" clear sip-ua tcp tls connection id "$id" | grep -q "Closed 1 connection" ||
		fail "clear id $id"
	sleep 0.3
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls detail json >"$WORK/d3.json"
	python3 - "$WORK/d2.json" "$WORK/d3.json" "$id" <<'EOP' || fail "clear id closed the wrong connections: $(cat "$WORK/d3.json")"
import json, sys
before = json.load(open(sys.argv[1]))["connections"]
after = [x["conn_id"] for x in json.load(open(sys.argv[2]))["connections"]]
gone = int(sys.argv[3])
assert gone not in after, after
# every other connection (the first client's, the upstream legs) is still there
assert all(x["conn_id"] in after for x in before if x["conn_id"] != gone), (before, after)
EOP
	"$CTL" --control "$WORK/ctl.sock" clear sip-ua tcp tls connection target "ipv4:127.0.0.1:$UAS" ||
		fail "clear target"
	wait $UACPID || fail "the waiting client did not get its 503: $(cat "$WORK/uac.out")"
	set +e
	"$CTL" --control "$WORK/ctl.sock" clear sip-ua tcp tls connection id 4242 >/dev/null; rc=$?
	set -e
	[ $rc = 1 ] || fail "clearing a missing id exited $rc, want 1"
	"$CTL" --control "$WORK/ctl.sock" show running-config | grep -q "listen-port secure $PROXY" ||
		fail "show running-config"
	stop_proxy_expect_clean ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "PASS $CASE"
