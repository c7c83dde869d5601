#!/usr/bin/env bash
# smoke.sh BENCH SIPTLSD - siptls-bench against itself and through siptlsd, on loopback, over
# mutual TLS with a throwaway PKI, a few seconds, every load bounded by --count or --duration.
# Fails unless every transaction, handshake and held connection succeeds and every JSON summary
# parses with the expected counts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$(readlink -f "$1")
SIPTLSD=$(readlink -f "$2")
WORK=$(mktemp -d /tmp/siptls-bench-smoke.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$WORK"/*.log "$WORK"/*.json; do [ -e "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
	exit 1
}

BASE=$((23000 + ($$ % 1000) * 4))
PROXY=$BASE UAS=$((BASE + 1))

bash "$HERE/../../scripts/mkpki.sh" "$WORK"
cd "$WORK"

# check NAME JSONFILE PYTHON-EXPR: the summary parses and the expression holds for it (j)
check() {
	python3 - "$2" "$3" <<'EOF' || fail "$1: $(cat "$2")"
import json, sys
j = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
print("ok" if ok else "not ok", sys.argv[1].split("/")[-1], json.dumps(j)[:300])
sys.exit(0 if ok else 1)
EOF
}

uac() { # uac NAME PORT [options]: JSON summary in NAME.json; any failed transaction fails the test
	local name=$1 port=$2
	shift 2
	"$BENCH" uac --target "127.0.0.1:$port" --cert uac.pem --key uac.key --ca ca.pem --json -q \
		--timeout 5000 "$@" >"$name.json" 2>"$name.log" || fail "$name: exit status $?"
}

"$BENCH" uas --listen "127.0.0.1:$UAS" --cert uas.pem --key uas.key --ca ca.pem --duration 60 \
	-q >uas.log 2>&1 &
PIDS+=($!)
UAS_PID=$!

# 1. UAC -> UAS directly (waits until the UAS listens: a connection failure is an error)
for _ in $(seq 50); do
	"$BENCH" handshake --target "127.0.0.1:$UAS" --cert uac.pem --key uac.key --ca ca.pem -n 1 -q \
		--json >/dev/null 2>&1 && break
	sleep 0.1
done
uac direct_call "$UAS" --scenario call --conns 2 --window 2 --count 400 --sni uas.test
check direct_call direct_call.json \
	'j["transactions"] == 400 and j["calls"] == 200 and j["errors"]["total"] == 0'
uac direct_options "$UAS" --scenario options --conns 2 --window 4 --count 400 --threads 2
check direct_options direct_options.json 'j["transactions"] == 400 and j["errors"]["total"] == 0'

# 2. UAC -> siptlsd -> UAS, mutual TLS both sides (a control socket of our own, if it has one,
# so that other siptlsd instances on the machine do not matter)
CONTROL=()
"$SIPTLSD" --help | grep -q -- '--control' && CONTROL=(--control "$WORK/control")
"$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert proxy.pem --key proxy.key --ca ca.pem \
	--upstream "127.0.0.1:$UAS" --workers 1 --no-pin -f --log-level info "${CONTROL[@]}" \
	>siptlsd.log 2>&1 &
PIDS+=($!)
PROXY_PID=$!
for _ in $(seq 100); do
	grep -q "siptlsd running" siptlsd.log 2>/dev/null && break
	kill -0 $PROXY_PID 2>/dev/null || fail "siptlsd exited at start"
	sleep 0.05
done
grep -q "siptlsd running" siptlsd.log || fail "siptlsd did not start"

uac proxy_call "$PROXY" --scenario call --conns 4 --window 2 --count 1000 --sni proxy.test
check proxy_call proxy_call.json \
	'j["transactions"] == 1000 and j["calls"] == 500 and j["errors"]["total"] == 0 and j["stray"] == 0'
uac proxy_options "$PROXY" --scenario options --conns 2 --window 4 --count 500
check proxy_options proxy_options.json 'j["transactions"] == 500 and j["errors"]["total"] == 0'
uac proxy_open "$PROXY" --scenario call --conns 4 --rate 200 --duration 1
check proxy_open proxy_open.json \
	'190 <= j["calls"] <= 201 and j["calls"] == j["calls_started"] and j["errors"]["total"] == 0'

"$BENCH" handshake --target "127.0.0.1:$PROXY" --cert uac.pem --key uac.key --ca ca.pem \
	--conns 2 --count 20 --json -q >proxy_hs.json 2>proxy_hs.log || fail "handshake: exit $?"
check proxy_hs proxy_hs.json 'j["handshakes"] == 20 and j["errors"]["total"] == 0'
"$BENCH" idle --target "127.0.0.1:$PROXY" --cert uac.pem --key uac.key --ca ca.pem \
	--conns 10 --duration 0.3 --json -q >proxy_idle.json 2>proxy_idle.log || fail "idle: exit $?"
check proxy_idle proxy_idle.json 'j["held"] == 10 and j["errors"]["total"] == 0'

# 3. a negative case: without a client certificate siptlsd refuses us and the tool says so
set +e
"$BENCH" uac --target "127.0.0.1:$PROXY" --ca ca.pem --count 2 --json -q >nocert.json 2>nocert.log
rc=$?
set -e
[ $rc = 1 ] || fail "no client certificate: exit status $rc, want 1"
check nocert nocert.json 'j["transactions"] == 0 and j["errors"]["total"] >= 1'

kill -TERM $PROXY_PID
wait $PROXY_PID || fail "siptlsd exit status $? after SIGTERM"
kill -TERM $UAS_PID
wait $UAS_PID || fail "uas exit status $?"
grep -q "ERROR: AddressSanitizer\|runtime error" ./*.log && fail "sanitizer report"
echo "PASS bench_loadgen_smoke"
