#!/usr/bin/env bash
# demo.sh - the main command, from a fresh Debian 12 machine (as root, or with sudo): installs
# what is missing, builds the release preset, makes a throwaway PKI, starts a test UAS
# (siptls-bench uas), siptlsd in front of it over mutual TLS, and drives a short call load through
# siptlsd (siptls-bench uac: INVITE/100/180/200/ACK/BYE/200 with Record-Route honoured), then
# shows what happened: calls, transactions/s, latency, errors, siptlsd's connection table and
# counters (siptlsctl), its log and CPU time, its clean drain on SIGTERM; then the same load
# straight to the UAS for comparison, and the scanner benchmark in brief. About 40 s after the
# build.
#
# Environment: DEMO_SECONDS (load length, default 10), DEMO_RATE (calls/s, default 1000),
# DEMO_PORT (siptlsd's port; the UAS takes the next one; default 25061), DEMO_SCANBENCH=0 to skip
# the scanner table, DEMO_BUILD_DIR (default build/release), KEEP=1 to keep the work directory
# (certificates, logs, JSON summaries).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${DEMO_SECONDS:-10}
RATE=${DEMO_RATE:-1000}
PROXY_PORT=${DEMO_PORT:-25061}
UAS_PORT=$((PROXY_PORT + 1))

bash scripts/deps.sh build bench

# WERROR off: a new compiler's new warning must not stop a demo (CI builds with it on)
BUILD=${DEMO_BUILD_DIR:-build/release}
cmake --preset release -B "$BUILD" -DSIPTLS_WERROR=OFF >/dev/null
targets=(siptlsd siptls-bench siptls-scanbench)
grep -q 'add_executable(siptlsctl' core/CMakeLists.txt && targets+=(siptlsctl)
cmake --build "$BUILD" --target "${targets[@]}" -j "$(nproc)"
BENCH=$PWD/$BUILD/bench/siptls-bench
SIPTLSD=$PWD/$BUILD/core/siptlsd
SCANBENCH=$PWD/$BUILD/bench/siptls-scanbench
CTL=$PWD/$BUILD/core/siptlsctl

WORK=$(mktemp -d /tmp/siptls-demo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

# siptlsd on CPU 0, the load tools on the others (with one CPU, everything shares it)
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
	PROXY_CPUS=(taskset -c 0)
	TOOL_CPUS=(taskset -c "1-$((NCPU - 1))")
	where="siptlsd pinned to CPU 0, load tools on CPU $( [ "$NCPU" = 2 ] && echo 1 || echo "1-$((NCPU - 1))")"
else
	PROXY_CPUS=()
	TOOL_CPUS=()
	where="one CPU: siptlsd and the load tools share it"
fi

say "throwaway PKI in $WORK (ECDSA P-256: a CA, then proxy, uas and uac certificates)"
bash scripts/mkpki.sh "$WORK"
cd "$WORK"
ls -1 ./*.pem | tr '\n' ' '
echo

# siptlsd's control socket in the work directory, for siptlsctl (when this tree has both)
CONTROL=()
ctl() { :; }
if [ -x "$CTL" ] && "$SIPTLSD" --help | grep -q -- '--control'; then
	CONTROL=(--control "$WORK/control")
	ctl() { "$CTL" --control "$WORK/control" --timeout 5 "$@" 2>&1 | sed 's/^/  siptlsctl| /'; }
fi

say "UAS (siptls-bench uas) on 127.0.0.1:$UAS_PORT, requiring client certificates"
"${TOOL_CPUS[@]}" "$BENCH" uas --listen "127.0.0.1:$UAS_PORT" --cert uas.pem --key uas.key \
	--ca ca.pem --duration 300 -q >uas.log 2>&1 &
PIDS+=($!)
UAS_PID=$!

say "siptlsd on 127.0.0.1:$PROXY_PORT -> upstream 127.0.0.1:$UAS_PORT, mutual TLS both ways, 1 worker ($where)"
"${PROXY_CPUS[@]}" "$SIPTLSD" --listen "127.0.0.1:$PROXY_PORT" --cert proxy.pem --key proxy.key \
	--ca ca.pem --upstream "127.0.0.1:$UAS_PORT" --workers 1 --no-pin -f --log-level info \
	"${CONTROL[@]}" >siptlsd.log 2>&1 &
PIDS+=($!)
PROXY_PID=$!
for _ in $(seq 100); do
	grep -q "siptlsd running" siptlsd.log 2>/dev/null && break
	kill -0 $PROXY_PID 2>/dev/null || die "siptlsd exited at start"
	sleep 0.05
done
grep -q "siptlsd running" siptlsd.log || die "siptlsd did not start"
sed 's/^/  siptlsd| /' siptlsd.log
logged=$(wc -l <siptlsd.log)

uac() { # uac PORT SNI [options]: one bounded run, JSON summary on stdout, progress on stderr
	local port=$1 sni=$2
	shift 2
	"${TOOL_CPUS[@]}" "$BENCH" uac --target "127.0.0.1:$port" --sni "$sni" --cert uac.pem \
		--key uac.key --ca ca.pem --json "$@"
}

say "one call through siptlsd (the route set comes from siptlsd's Record-Route)"
uac "$PROXY_PORT" proxy.test --scenario call --conns 1 --count 2 -q >first.json ||
	die "the first call failed: $(cat first.json)"
echo "  INVITE -> 100/180/200 -> ACK -> BYE -> 200: ok"

clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

say "call load through siptlsd: $RATE calls/s (open loop) for $SECS s over 20 connections"
before=$(cpu_ticks $PROXY_PID)
uac "$PROXY_PORT" proxy.test --scenario call --conns 20 --rate "$RATE" --duration "$SECS" \
	>proxy.json 2> >(sed 's/^/  /' >&2) &
LOAD_PID=$!
PIDS+=($LOAD_PID)
if [ ${#CONTROL[@]} -gt 0 ]; then
	sleep "$(((SECS + 1) / 2))"
	echo "  -- siptlsd's connection table in the middle of the load:"
	ctl show sip-ua connections tcp tls detail | awk '
		/siptlsctl\|  +[0-9]+ +[0-9]+ [A-Z]/ { if (++rows > 4) { more++; next } }
		/siptlsctl\|  TLS_/ { if (++suites > 4) next }
		{ print }
		END { if (more) printf "  siptlsctl| (%d more connections not shown)\n", more }'
fi
wait $LOAD_PID || true
after=$(cpu_ticks $PROXY_PID)
sleep 0.1 # let the progress lines through
python3 - proxy.json "$((after - before))" "$clk" <<'EOF' || die "no summary: $(cat proxy.json)"
import json, sys
j = json.load(open(sys.argv[1]))
ticks, clk = int(sys.argv[2]), int(sys.argv[3])
e = j["errors"]
lat = j["latency_us"]
print("  calls         %d completed of %d started, %.0f/s" % (j["calls"], j["calls_started"], j["calls_per_s"]))
print("  transactions  %d completed, %.0f/s (INVITE and BYE)" % (j["transactions"], j["tx_per_s"]))
print("  latency       p50 %.0f us  p90 %.0f us  p99 %.0f us  p99.9 %.0f us  max %.0f us" %
      (lat["p50"], lat["p90"], lat["p99"], lat["p999"], lat["max"]))
status = ", ".join("%s x%d" % kv for kv in e["status"].items()) or "none"
print("  errors        %d (timeouts %d, connection failures %d, lost %d, unexpected status: %s)" %
      (e["total"], e["timeouts"], e["conn_failures"] + e["tls_failures"], e["conn_lost"], status))
if j["transactions"]:
    cpu = ticks / clk
    print("  siptlsd CPU   %.2f s for %d transactions: %.0f us per transaction (user+system, /proc)" %
          (cpu, j["transactions"], cpu * 1e6 / j["transactions"]))
EOF

say "siptlsd's own view: its counters, its log since start-up, then SIGTERM (drain, close_notify)"
ctl show stats | grep -E '\| (accepted|active|requests_in|responses_in|forwarded_[a-z]+|local_replies_[1-5]xx|upstream_unavailable|queue_full|max_sendq|timeouts|send_failures|scan_errors) ' || true
kill -TERM $PROXY_PID
rc=0
wait $PROXY_PID || rc=$?
tail -n +$((logged + 1)) siptlsd.log | sed 's/^/  siptlsd| /'
if [ $rc = 0 ] && grep -q "siptlsd stopped" siptlsd.log; then
	echo "  siptlsd drained and exited cleanly (status 0)"
else
	echo "  siptlsd exited with status $rc"
fi

say "the same load straight to the UAS, without siptlsd (the floor)"
uac "$UAS_PORT" uas.test --scenario call --conns 20 --rate "$RATE" --duration "$((SECS < 5 ? SECS : 5))" \
	-q >direct.json || true
python3 - direct.json <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
lat = j["latency_us"]
print("  %d calls, %.0f tx/s, p50 %.0f us  p90 %.0f us  p99 %.0f us, errors %d" %
      (j["calls"], j["tx_per_s"], lat["p50"], lat["p90"], lat["p99"], j["errors"]["total"]))
EOF
kill -TERM $UAS_PID
wait $UAS_PID || true
sed 's/^/  uas| /' uas.log

if [ "${DEMO_SCANBENCH:-1}" != 0 ]; then
	say "the SIP scanner against libosip2, sofia-sip and libre (brief: 3 runs x 0.3 s each)"
	"${TOOL_CPUS[@]}" "$SCANBENCH" --seconds 0.3 --runs 3
fi
