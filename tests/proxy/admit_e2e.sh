#!/usr/bin/env bash
# admit_e2e.sh SIPTLSD CASE - admission and limits end to end (issue 8 item 1): siptlsd on
# loopback, clients in Python's ssl module (an independent TLS stack) bound to chosen source
# addresses of 127.0.0.0/8, and siptlsctl show stats for what was refused and why.
#
#   max_conns     --max-conns: the connection over the limit is closed at accept, before TLS
#   per_source    --max-conns-per-source: one source is limited, another is not
#   rate          --conn-rate/--conn-burst: a burst passes, the rest is refused, time refills
#   trusted       ip address trusted list: 403 outside it, served inside it, and a cn-san
#                 verified client bypasses it (the guide); the config lines round-trip
#   max_headers   --max-headers: a request with more header fields gets 400, counted
#   fd_exhaustion a low `ulimit -n` and more clients than fds: accept backs off (counted, CPU
#                 stays low), and when clients leave new ones get in
#   fd_default    the same limit with the default --max-conns (fd limit less a quarter, at most
#                 64): the connections past it are refused at accept and closed at once
set -euo pipefail
SIPTLSD=$(readlink -f "$1")
CTL="$(dirname "$SIPTLSD")/siptlsctl"
CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/siptls-admit.XXXXXX)
PIDS=()
cleanup() {
	rm -f "$WORK/hold" 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "FAIL $CASE: $*"; echo "--- siptlsd log"; tail -40 "$WORK/siptlsd.log" 2>/dev/null; exit 1; }

# ports 30000..32699 (below the ephemeral range; e2e.sh uses 20000..31999 by another hash)
n=$(printf 'admit-%s' "$CASE" | cksum | cut -d' ' -f1)
BASE=$((30000 + (n % 270) * 10))
PROXY=$BASE SPARE=$((BASE + 2))

bash "$HERE/../../scripts/mkpki.sh" "$WORK"

# the clients: one small program, several roles
cat >"$WORK/adm.py" <<'EOP'
import argparse, json, os, socket, ssl, sys, time

def conn(a, tls=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((a.src, 0))
    s.settimeout(a.timeout)
    s.connect(("127.0.0.1", a.port))
    if not tls:
        return s
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.check_hostname = False
    ctx.load_cert_chain(a.cert, a.key)
    return ctx.wrap_socket(s, server_hostname="proxy.test")

def request(a, i):
    pad = "".join("X-Pad-%d: %d\r\n" % (k, k) for k in range(a.headers))
    return ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/TLS %s:5061;branch=z9hG4bKadm%d\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:adm@uac.test>;tag=a%d\r\nTo: <sip:127.0.0.1>\r\n"
            "Call-ID: adm%d-%f@uac\r\nCSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n"
            % (a.port, a.src, i, i, i, time.time(), pad)).encode()

def status(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            return 0
        buf += d
    return int(buf.split(b" ", 2)[1])

def options(a):
    """send an OPTIONS to the proxy itself; exit 0 when the status is --expect"""
    try:
        s = conn(a)
        s.sendall(request(a, 1))
        got = status(s)
    except (OSError, ssl.SSLError, ValueError) as e:
        got = "error: %s" % e
    print(json.dumps({"src": a.src, "status": got}))
    return 0 if got == a.expect else 1

def hold(a):
    """open --count connections one after another (TLS, or raw TCP with --raw); say how many
    were served and how many refused, then keep the served ones until --until disappears"""
    held, ok, refused = [], 0, 0
    for i in range(a.count):
        try:
            s = conn(a, tls=not a.raw)
            if not a.raw:
                s.sendall(request(a, i))
                if status(s) != 200:
                    raise ConnectionResetError("no 200")
            held.append(s)
            ok += 1
        except (OSError, ssl.SSLError, ValueError):
            refused += 1
        time.sleep(a.gap)
    if a.raw:  # TCP always connects (the backlog): a refused one is closed soon after
        time.sleep(1.0)
        for s in list(held):
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    raise ConnectionResetError("closed")
            except BlockingIOError:
                continue  # open: accepted, or still in the backlog
            except OSError:
                pass
            held.remove(s)
            s.close()
            ok -= 1
            refused += 1
    print(json.dumps({"src": a.src, "ok": ok, "refused": refused}), flush=True)
    if a.ready:
        open(a.ready, "w").close()
    deadline = time.time() + a.lifetime
    while a.until and os.path.exists(a.until) and time.time() < deadline:
        time.sleep(0.05)
    for s in held:
        s.close()
    return 0

p = argparse.ArgumentParser()
p.add_argument("role", choices=["options", "hold"])
p.add_argument("--port", type=int, required=True)
p.add_argument("--src", default="127.0.0.1")
p.add_argument("--cert"); p.add_argument("--key"); p.add_argument("--ca")
p.add_argument("--expect", type=int, default=200)
p.add_argument("--headers", type=int, default=0)
p.add_argument("--count", type=int, default=1)
p.add_argument("--gap", type=float, default=0.0)
p.add_argument("--raw", action="store_true")
p.add_argument("--timeout", type=float, default=5.0)
p.add_argument("--until"); p.add_argument("--ready")
p.add_argument("--lifetime", type=float, default=60.0)
a = p.parse_args()
sys.exit(options(a) if a.role == "options" else hold(a))
EOP
CLI=(python3 "$WORK/adm.py")
CRED=(--cert "$WORK/uac.pem" --key "$WORK/uac.key" --ca "$WORK/ca.pem")

wait_running() {
	for _ in $(seq 200); do
		grep -q "siptlsd running" "$WORK/siptlsd.log" 2>/dev/null && return
		kill -0 "$PROXY_PID" 2>/dev/null || fail "siptlsd exited at start"
		sleep 0.05
	done
	fail "siptlsd did not start"
}

start_proxy() { # start_proxy [siptlsd options]: the one-trunk flags, OPTIONS answered locally
	"$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert "$WORK/proxy.pem" --key "$WORK/proxy.key" \
		--ca "$WORK/ca.pem" --upstream "127.0.0.1:$SPARE" --no-pin -f --log-level info \
		--control "$WORK/ctl.sock" "$@" >"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!
	PIDS+=($PROXY_PID)
	wait_running
}

start_proxy_nofile() { # start_proxy_nofile LIMIT [siptlsd options]: under ulimit -n LIMIT
	local lim=$1
	shift
	(ulimit -n "$lim" && exec "$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert "$WORK/proxy.pem" \
		--key "$WORK/proxy.key" --ca "$WORK/ca.pem" --upstream "127.0.0.1:$SPARE" --no-pin -f \
		--log-level info --control "$WORK/ctl.sock" --workers 1 "$@") >"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!
	PIDS+=($PROXY_PID)
	wait_running
}

stat_of() { # stat_of NAME: the counter's total in show stats
	"$CTL" --control "$WORK/ctl.sock" show stats | awk -v k="$1" '$1 == k { print $2 }'
}

expect_stat() { # expect_stat NAME OP VALUE (OP: -eq -ge -gt ...)
	local v
	v=$(stat_of "$1")
	[ -n "$v" ] && [ "$v" "$2" "$3" ] || fail "$1 = '$v', want $2 $3: $("$CTL" --control "$WORK/ctl.sock" show stats)"
}

hold_start() { # hold_start NAME [adm.py hold options]: connections held until hold_release
	local name=$1
	shift
	touch "$WORK/hold"
	"${CLI[@]}" hold --port "$PROXY" --until "$WORK/hold" --ready "$WORK/$name.ready" "$@" \
		>"$WORK/$name.out" &
	PIDS+=($!)
	for _ in $(seq 300); do [ -e "$WORK/$name.ready" ] && return; sleep 0.05; done
	fail "$name: the clients did not finish connecting"
}

hold_release() { rm -f "$WORK/hold"; sleep 0.5; }

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

stop_proxy_expect_clean() {
	kill -TERM "$PROXY_PID"
	for _ in $(seq 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$PROXY_PID" 2>/dev/null && fail "siptlsd still running 10 s after SIGTERM"
	wait "$PROXY_PID" || fail "siptlsd exit status $? after SIGTERM"
	grep -q "ERROR: AddressSanitizer\|runtime error" "$WORK/siptlsd.log" && fail "sanitizer report"
	return 0
}

case "$CASE" in
max_conns)
	start_proxy --workers 2 --max-conns 3
	hold_start a "${CRED[@]}" --count 5
	[ "$(field "$WORK/a.out" ok)" = 3 ] && [ "$(field "$WORK/a.out" refused)" = 2 ] ||
		fail "want 3 served, 2 refused: $(cat "$WORK/a.out")"
	expect_stat refused_max_conns -eq 2
	# refused before TLS: no handshake was started, so none failed
	expect_stat tls.server_handshake_failures -eq 0
	"$CTL" --control "$WORK/ctl.sock" show sip-ua connections tcp tls brief |
		grep -q "Total active connections *: 3" || fail "brief does not show 3 active"
	hold_release
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" >/dev/null || fail "not served after the others left"
	stop_proxy_expect_clean ;;
per_source)
	start_proxy --workers 2 --max-conns-per-source 2
	hold_start a "${CRED[@]}" --count 3 --src 127.0.0.1
	[ "$(field "$WORK/a.out" ok)" = 2 ] || fail "source 1: $(cat "$WORK/a.out")"
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.2 >/dev/null ||
		fail "another source was refused"
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.1 >/dev/null &&
		fail "a third connection from the limited source was served"
	expect_stat refused_per_source -eq 2
	expect_stat refused_max_conns -eq 0
	hold_release
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.1 >/dev/null ||
		fail "the source was not served again after its connections closed"
	stop_proxy_expect_clean ;;
rate)
	start_proxy --workers 2 --conn-rate 1 --conn-burst 3
	hold_start a "${CRED[@]}" --count 8 --src 127.0.0.3
	ok=$(field "$WORK/a.out" ok)
	# the burst of 3, plus what one token a second refilled while they connected
	[ "$ok" -ge 3 ] && [ "$ok" -le 5 ] || fail "want 3..5 of 8 served: $(cat "$WORK/a.out")"
	expect_stat refused_rate -ge 3
	expect_stat refused_per_source -eq 0
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.4 >/dev/null ||
		fail "another source was refused"
	sleep 2.2 # two tokens back
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.3 >/dev/null ||
		fail "the bucket did not refill"
	hold_release
	stop_proxy_expect_clean ;;
trusted)
	# tenant 100 (port PROXY) checks only the chain; tenant 300 (port SPARE) verifies the
	# client's name (cn-san): its clients bypass the trusted list
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
 listen-port secure $SPARE
 bind control source-interface 127.0.0.1
voice service voip
 ip address trusted list
  ipv4 127.0.0.2
  ipv4 127.0.1.0 255.255.255.0
  ipv6 2001:db8::/32
 max-header-count 64
EOC
	"$SIPTLSD" --check-config -c "$WORK/siptlsd.cfg" >"$WORK/check.out" 2>&1 || fail "check-config: $(cat "$WORK/check.out")"
	grep -q "^  ipv4 127.0.1.0 255.255.255.0$" "$WORK/check.out" || fail "the list was not written back: $(cat "$WORK/check.out")"
	"$SIPTLSD" -c "$WORK/siptlsd.cfg" --no-pin -f --log-level info --control "$WORK/ctl.sock" \
		>"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!; PIDS+=($PROXY_PID)
	wait_running
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.1 --expect 403 >/dev/null ||
		fail "an untrusted source was not refused"
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.0.2 >/dev/null || fail "a listed host was refused"
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.1.77 >/dev/null || fail "a listed network was refused"
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --src 127.0.2.1 --expect 403 >/dev/null ||
		fail "an address just outside the network was not refused"
	# the cn-san verified client bypasses the list (the guide)
	PORT_SAVE=$PROXY
	"${CLI[@]}" options --port "$SPARE" "${CRED[@]}" --src 127.0.0.1 >/dev/null ||
		fail "a cn-san verified client was refused"
	expect_stat untrusted_403 -eq 2
	grep -q "requests from 127.0.0.1:[0-9]* refused (403): not in the ip address trusted list" \
		"$WORK/siptlsd.log" || fail "no log line for the refusal"
	"$CTL" --control "$WORK/ctl.sock" show running-config | grep -q "^  ipv6 2001:db8::/32$" ||
		fail "show running-config does not show the list"
	# an empty list (reload without it): everyone is served again
	sed -i '/ip address trusted list/,/ipv6/d' "$WORK/siptlsd.cfg"
	"$CTL" --control "$WORK/ctl.sock" reload | grep -q "Configuration 2 loaded" || fail "reload"
	"${CLI[@]}" options --port "$PORT_SAVE" "${CRED[@]}" --src 127.0.0.1 >/dev/null ||
		fail "with an empty list an address was refused"
	stop_proxy_expect_clean ;;
max_headers)
	start_proxy --max-headers 20
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --headers 10 >/dev/null || fail "10 extra headers were refused"
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --headers 30 --expect 400 >/dev/null ||
		fail "30 extra headers were not answered 400"
	expect_stat too_many_headers -eq 1
	expect_stat scan_errors -eq 1
	stop_proxy_expect_clean ;;
fd_exhaustion)
	# 64 fds and no admission limit: 100 clients exhaust them; accept backs off (a timer every
	# 100 ms), and the process must stay nearly idle while it is out of fds
	start_proxy_nofile 64 --max-conns 1000000 --handshake-timeout 60000
	hold_start raw --raw --count 100 --timeout 5
	[ "$(field "$WORK/raw.out" ok)" = 100 ] || fail "not every TCP connect completed: $(cat "$WORK/raw.out")"
	sleep 0.5
	t0=$(awk '{ print $14 + $15 }' "/proc/$PROXY_PID/stat")
	sleep 3
	t1=$(awk '{ print $14 + $15 }' "/proc/$PROXY_PID/stat")
	kill -0 "$PROXY_PID" || fail "siptlsd died out of fds"
	ticks=$((t1 - t0))
	hz=$(getconf CLK_TCK)
	# a busy loop would burn about 3 s (3 * hz ticks); allow a tenth of that
	[ "$ticks" -le $((3 * hz / 10)) ] || fail "CPU while out of fds: $ticks ticks in 3 s (hz $hz)"
	hold_release
	ok=0
	for _ in $(seq 20); do
		"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" --timeout 2 >/dev/null && { ok=1; break; }
		sleep 0.25
	done
	[ $ok = 1 ] || fail "no client was served after the others left"
	expect_stat accept_errors -gt 0
	expect_stat refused_max_conns -eq 0
	echo "out of fds: $ticks CPU ticks in 3 s (hz $hz), accept_errors $(stat_of accept_errors)"
	stop_proxy_expect_clean ;;
fd_default)
	# the same 64 fds with the default --max-conns: the fd limit less a quarter (at most 64),
	# here 48. The rest are refused at accept and closed at once. (A burst of refused
	# connections can still hold fds for a moment, between the kernel's multishot accept and
	# our close: accept_errors may count that, and the back-off absorbs it.)
	start_proxy_nofile 64 --handshake-timeout 60000
	hold_start raw --raw --count 100 --timeout 5
	[ "$(field "$WORK/raw.out" ok)" = 48 ] && [ "$(field "$WORK/raw.out" refused)" = 52 ] ||
		fail "want 48 held, 52 refused: $(cat "$WORK/raw.out")"
	expect_stat refused_max_conns -eq 52
	echo "default limit: 48 held, 52 refused, accept_errors $(stat_of accept_errors)"
	hold_release
	"${CLI[@]}" options --port "$PROXY" "${CRED[@]}" >/dev/null || fail "not served after the others left"
	stop_proxy_expect_clean ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
echo "PASS $CASE"
