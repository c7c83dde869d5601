#!/usr/bin/env bash
# soak.sh [options] - the soak of issue 8 item 4: siptlsd holding N idle TLS connections
# (siptls-bench idle) while a steady call load runs through it (siptls-bench uac --rate) for a
# duration, sampled every minute (every 5 s with --quick). Reports siptlsd's memory per held
# connection (VmRSS after the connections are up minus VmRSS before, divided by N), that no
# held connection was dropped (the idle tools' own held/lost counts and siptlsd's `show stats`
# active count, every sample), and each interval's call latency percentiles (flat or not).
# Exit status 0 only when nothing was dropped, every call succeeded and the latency stayed flat
# (flatness is reported but not judged with --quick).
#
#   --conns N        idle connections to hold, in all [50000]
#   --instances M    siptlsd processes sharing them (scale-out on one box: each holds N/M and
#                    carries R/M of the load) when one process may not have N+1024 files [1]
#   --duration S     seconds of call load while they are held [300]
#   --rate R         calls/s of the steady load (INVITE/100/180/200/ACK/BYE/200) [200]
#   --interval S     seconds per sample and latency interval [60]
#   --workers W      siptlsd workers per instance [nproc]
#   --port P         the UAS's port; instance j listens from P+1+10j [the first of 19500,
#                    19550 ... 19950 whose 50 ports are all free, so runs from two build
#                    directories at once do not collide]
#   --quick          the short version CI runs: 2,000 connections, 20 s, 100 calls/s, 5 s
#                    samples, latency reported but not judged (an ASan build on shared CI cores
#                    is not a latency measurement)
#   --judge-latency  judge flatness in --quick too
#   --build DIR      build the release preset's binaries here [build/soak]; or give them:
#   --siptlsd F --bench F --ctl F   (then nothing is built)
#   --json FILE      also write the summary as JSON
#   --keep           keep the work directory (logs, certificates, each interval's JSON)
#
# Files: siptlsd needs one per held connection (+1024 for itself); the script raises the soft
# open-file limit to that and the hard one when it may (root with CAP_SYS_RESOURCE; a container
# without it keeps its hard limit: then use --instances). Ephemeral ports: a client has ~28,000
# (net.ipv4.ip_local_port_range) per destination address and port, so each instance listens on
# one port per 15,000 of its connections (tenants 1..K of its config file) and one idle tool
# (one process, so within the same file limit) targets each port.
# Flatness: an interval's p99 may exceed the median interval's p99 by at most 3x + 2 ms
# (loopback on a shared 2-core machine is noisy; a leak or a table that slows with age is not).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

N=50000 M=1 DURATION=300 RATE=200 INTERVAL=60 WORKERS=$(nproc) PORT= JUDGE=1
BUILD=build/soak SIPTLSD= BENCH= CTL= JSON= KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
	--conns) N=$2; shift ;;
	--instances) M=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--interval) INTERVAL=$2; shift ;;
	--workers) WORKERS=$2; shift ;;
	--port) PORT=$2; shift ;;
	--quick) N=2000 DURATION=20 RATE=100 INTERVAL=5 JUDGE=0 ;;
	--judge-latency) JUDGE=2 ;;
	--build) BUILD=$2; shift ;;
	--siptlsd) SIPTLSD=$(readlink -f "$2"); shift ;;
	--bench) BENCH=$(readlink -f "$2"); shift ;;
	--ctl) CTL=$(readlink -f "$2"); shift ;;
	--json) JSON=$(readlink -f "$2"); shift ;;
	--keep) KEEP=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown option $1 (--help)" >&2; exit 2 ;;
	esac
	shift
done

if [ -z "$SIPTLSD" ]; then
	cmake --preset release -B "$BUILD" >/dev/null
	cmake --build "$BUILD" --target siptlsd siptlsctl siptls-bench -j "$(nproc)" >/dev/null
	SIPTLSD=$ROOT/$BUILD/core/siptlsd BENCH=$ROOT/$BUILD/bench/siptls-bench CTL=$ROOT/$BUILD/core/siptlsctl
fi
for f in "$SIPTLSD" "$BENCH" "$CTL"; do [ -x "$f" ] || { echo "soak.sh: no $f" >&2; exit 2; }; done

PER=15000                  # connections per listen port (and per idle tool)
NI=$(((N + M - 1) / M))    # connections per instance (the last may hold fewer)
K=$(((NI + PER - 1) / PER)) # listen ports per instance
[ "$K" -le 9 ] || { echo "soak.sh: $NI connections per instance: use more --instances" >&2; exit 2; }
need=$((NI + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $need ]; then
	ulimit -Hn $need 2>/dev/null || {
		echo "soak.sh: $NI connections per siptlsd need $need open files, the hard limit is $hard" \
			"and cannot be raised here (no CAP_SYS_RESOURCE): use --instances $(((N + hard - 1025) / (hard - 1024)))" >&2
		exit 2
	}
fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -ge $need ] || ulimit -Sn $need

if [ -z "$PORT" ]; then # the first block of 50 free ports (a bind test: racy, but only
	# two runs started in the same instant could still meet)
	PORT=$(python3 -c '
import socket
for base in range(19500, 20000, 50):
    try:
        for p in range(base, base + 50):
            s = socket.socket(); s.bind(("127.0.0.1", p)); s.close()
        print(base); break
    except OSError:
        continue')
	[ -n "$PORT" ] || { echo "soak.sh: no free block of ports in 19500-19999: give --port" >&2; exit 2; }
fi
[ "$JUDGE" = 2 ] && JUDGE=1
UAS_PORT=$PORT
lport() { echo $((PORT + 1 + 10 * $1 + $2)); } # lport INSTANCE PORTINDEX (from 0)
share() { echo $((N / $2 + ($1 < N % $2 ? 1 : 0))); } # share INDEX PARTS: N split evenly
WORK=$(mktemp -d /tmp/siptls-soak.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "soak: FAIL: $*" >&2; tail -20 "$WORK"/siptlsd*.log >&2 2>/dev/null; exit 1; }
say() { printf '%s soak: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

bash scripts/mkpki.sh "$WORK" >/dev/null
mkconf() { # mkconf INSTANCE: its tenants 1..K on its ports, every call to the UAS
	cat <<EOC
crypto pki trustpoint EDGE
 revocation-check none
 certificate-file $WORK/proxy.pem
 key-file $WORK/proxy.key
 ca-file $WORK/ca.pem
voice class tls-profile 1
 trustpoint EDGE
EOC
	for t in $(seq 0 $((K - 1))); do
		printf 'voice class tenant %d\n tls-profile 1\n listen-port secure %d\n bind control source-interface 127.0.0.1\n' \
			$((t + 1)) "$(lport "$1" "$t")"
	done
	cat <<EOC
voice class tenant 200
 tls-profile 1
 sip-server ipv4:127.0.0.1:$UAS_PORT
dial-peer voice 1 voip
 destination-pattern T
 session target sip-server
 voice-class sip tenant 200
EOC
}

ctl() { "$CTL" --control "$WORK/ctl$1.sock" --timeout 10 "${@:2}"; }
counter() { # counter INSTANCE NAME
	ctl "$1" show stats | awk -v k="$2" '{v = $NF; $NF = ""; sub(/ +$/, ""); if ($0 == k) print v}'
}
active_all() { local a=0 j; for j in $(seq 0 $((M - 1))); do a=$((a + $(counter "$j" active))); done; echo $a; }
rss_all() { # VmRSS of every instance, kB, summed
	local r=0 j
	for j in $(seq 0 $((M - 1))); do r=$((r + $(awk '/^VmRSS/ {print $2}' "/proc/${PROXY[$j]}/status"))); done
	echo $r
}
held_now() { # the idle tools' latest progress lines: held, lost and failed, summed
	local h=0 l=0 x=0 f line
	for f in "$WORK"/idle*.err; do
		line=$(grep -a '\] held ' "$f" | tail -1 || true)
		[ -n "$line" ] || continue
		h=$((h + $(echo "$line" | sed 's/.* held \([0-9]*\).*/\1/')))
		l=$((l + $(echo "$line" | sed 's/.* lost \([0-9]*\).*/\1/')))
		x=$((x + $(echo "$line" | sed 's/.* failed \([0-9]*\).*/\1/')))
	done
	echo "$h $l $x"
}

"$BENCH" uas --listen "127.0.0.1:$UAS_PORT" --cert "$WORK/uas.pem" --key "$WORK/uas.key" \
	--ca "$WORK/ca.pem" --duration 0 -q >"$WORK/uas.json" 2>"$WORK/uas.err" &
PIDS+=($!)
PROXY=()
for j in $(seq 0 $((M - 1))); do
	mkconf "$j" >"$WORK/siptlsd$j.cfg"
	# a 60 s handshake timeout: while tens of thousands of connections open on a shared machine,
	# a TLS 1.3 client may count its connection up well before siptlsd gets to its Finished
	# (the 10 s default dropped 10 of 16,667 on a machine with a load average of 20)
	"$SIPTLSD" -c "$WORK/siptlsd$j.cfg" --workers "$WORKERS" --no-pin -f --log-level notice \
		--handshake-timeout 60000 --control "$WORK/ctl$j.sock" >"$WORK/siptlsd$j.log" 2>&1 &
	PROXY[$j]=$!
	PIDS+=($!)
done
for j in $(seq 0 $((M - 1))); do
	for _ in $(seq 100); do grep -q "siptlsd running" "$WORK/siptlsd$j.log" && break; sleep 0.1; done
	grep -q "siptlsd running" "$WORK/siptlsd$j.log" || die "siptlsd $j did not start"
done

load() { # load SECONDS TAG: one interval of the steady call load, R/M through each instance
	local j pids=()
	for j in $(seq 0 $((M - 1))); do
		"$BENCH" uac --target "127.0.0.1:$(lport "$j" 0)" --cert "$WORK/uac.pem" --key "$WORK/uac.key" \
			--ca "$WORK/ca.pem" --scenario call --conns 20 --rate "$(echo "$RATE $M" | awk '{print $1 / $2}')" \
			--duration "$1" --json -q >"$WORK/$2-$j.json" &
		pids+=($!)
	done
	for j in "${pids[@]}"; do wait "$j" || true; done # errors are read from the JSON
}

say "$M siptlsd ($("$SIPTLSD" --version | head -1)), $WORKERS workers each, UAS on $UAS_PORT; warm-up"
load 2 warmup
rss0=$(rss_all)
active0=$(active_all)

say "opening $N idle TLS connections: $M instance(s) x $K port(s), files per process $(ulimit -Sn)"
hold_secs=$((DURATION + 3600)) # ended by SIGINT after the load; the margin covers the opening
t0=$(date +%s)
IDLE=()
for j in $(seq 0 $((M - 1))); do
	nj=$(share "$j" "$M")
	for t in $(seq 0 $((K - 1))); do
		n=$((nj / K + (t < nj % K ? 1 : 0)))
		[ "$n" -gt 0 ] || continue
		"$BENCH" idle --target "127.0.0.1:$(lport "$j" "$t")" --cert "$WORK/uac.pem" --key "$WORK/uac.key" \
			--ca "$WORK/ca.pem" --conns "$n" --parallel 16 --duration "$hold_secs" --timeout 30000 \
			--json >"$WORK/idle$j-$t.json" 2>"$WORK/idle$j-$t.err" &
		IDLE+=($!)
		PIDS+=($!)
	done
done
h=0
for _ in $(seq 2400); do
	read -r h l x < <(held_now)
	[ "$h" -ge "$N" ] && break
	# the idle tool does not retry: a failed connect or handshake means N is out of reach
	[ "$x" = 0 ] || die "$x connections failed to open ($h held; port in use by another run?)"
	for p in "${IDLE[@]}"; do kill -0 "$p" 2>/dev/null || die "an idle tool exited: $(tail -3 "$WORK"/idle*.err)"; done
	sleep 0.5
done
[ "$h" -ge "$N" ] || die "only $h of $N connections held after 1200 s"
open_s=$(($(date +%s) - t0))
sleep 2 # let the last handshakes' buffers settle
rss1=$(rss_all)
active1=$(active_all)
[ "$active1" -ge $((active0 + N)) ] || die "siptlsd shows $active1 active, want $((active0 + N))"
say "$N held after $open_s s; siptlsd VmRSS $rss0 -> $rss1 kB: $(((rss1 - rss0) * 1024 / N)) bytes per connection"

say "steady load: $RATE calls/s for $DURATION s, sampled every $INTERVAL s"
printf '%-8s %8s %8s %9s %9s %9s %9s %7s %8s %9s %8s\n' interval calls errors p50_ms p90_ms p99_ms \
	max_ms held lost active rss_kB
: >"$WORK/samples.txt"
left=$DURATION m=0
while [ "$left" -gt 0 ]; do
	m=$((m + 1))
	seg=$((left < INTERVAL ? left : INTERVAL))
	load "$seg" "load$m"
	left=$((left - seg))
	read -r h l _ < <(held_now)
	act=$(active_all)
	rss=$(rss_all)
	python3 - "$WORK" "load$m" "$M" "$m" "$h" "$l" "$act" "$rss" >>"$WORK/samples.txt" <<'EOP' || die "interval $m: no summary: $(cat "$WORK"/load$m-*.json)"
import json, sys
js = [json.load(open("%s/%s-%d.json" % (sys.argv[1], sys.argv[2], j))) for j in range(int(sys.argv[3]))]
worst = lambda q: max(j["latency_us"][q] for j in js) / 1e3  # the worst instance's percentile
print(sys.argv[4], sum(j["calls"] for j in js), sum(j["errors"]["total"] for j in js),
      worst("p50"), worst("p90"), worst("p99"), worst("max"), *sys.argv[5:9])
EOP
	tail -1 "$WORK/samples.txt" | awk '{printf "%-8s %8s %8s %9.3f %9.3f %9.3f %9.3f %7s %8s %9s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11}'
done

say "ending the idle tools (SIGINT: a close at the end is not a loss)"
for p in "${IDLE[@]}"; do kill -INT "$p"; done
for p in "${IDLE[@]}"; do wait "$p" || true; done
rss2=$(rss_all)
python3 - "$WORK" "$N" "$rss0" "$rss1" "$rss2" "$active0" "$open_s" "$RATE" "$DURATION" \
	"$INTERVAL" "$M" "$JUDGE" "${JSON:-}" <<'EOP'
import glob, json, statistics, sys
work = sys.argv[1]
n, rss0, rss1, rss2, active0, open_s, rate, dur, interval, m, judge = (
    int(x) for x in sys.argv[2:13])
out = sys.argv[13]
idle = [json.load(open(f)) for f in sorted(glob.glob(work + "/idle*.json"))]
held = sum(j["held"] for j in idle)
lost = sum(j["errors"]["conn_lost"] for j in idle)
failed = sum(j["errors"]["conn_failures"] + j["errors"]["tls_failures"] for j in idle)
rows = [l.split() for l in open(work + "/samples.txt")]
samples = [dict(zip(("interval", "calls", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms",
                     "held", "lost", "active", "rss_kb"), (float(x) for x in r))) for r in rows]
p99s = [s["p99_ms"] for s in samples]
med = statistics.median(p99s)
flat = all(p <= 3 * med + 2 for p in p99s)
problems = []
if held != n or lost or failed:
    problems.append("idle tools: held %d of %d, lost %d, failed %d" % (held, n, lost, failed))
for s in samples:
    if s["held"] < n or s["lost"]:
        problems.append("interval %d: held %d lost %d" % (s["interval"], s["held"], s["lost"]))
    if s["active"] < active0 + n:
        problems.append("interval %d: siptlsd active %d < %d" % (s["interval"], s["active"], active0 + n))
    if s["errors"] or not s["calls"]:
        problems.append("interval %d: %d calls, %d errors" % (s["interval"], s["calls"], s["errors"]))
if not flat and judge:
    problems.append("p99 not flat: %s (median %.3f ms)" % (p99s, med))
summary = {
    "conns": n, "instances": m, "duration_s": dur, "rate": rate, "interval_s": interval,
    "open_s": open_s, "rss_kb_before": rss0, "rss_kb_held": rss1, "rss_kb_end": rss2,
    "bytes_per_conn": round((rss1 - rss0) * 1024 / n), "held": held, "lost": lost,
    "failed": failed, "calls": int(sum(s["calls"] for s in samples)),
    "call_errors": int(sum(s["errors"] for s in samples)), "p99_ms_median": med,
    "p99_ms_max": max(p99s), "flat": flat, "samples": samples, "problems": problems,
}
if out:
    json.dump(summary, open(out, "w"), indent=1)
print("soak: %d connections (%d siptlsd) held %d s under %d calls/s: %d bytes of siptlsd RSS per "
      "connection (%d -> %d kB; %d kB at the end), held %d lost %d failed %d, %d calls with %d "
      "errors, p99 per interval %.3f..%.3f ms (median %.3f)%s"
      % (n, m, dur, rate, summary["bytes_per_conn"], rss0, rss1, rss2, held, lost, failed,
         summary["calls"], summary["call_errors"], min(p99s), max(p99s), med,
         "" if flat else " NOT FLAT"))
for p in problems:
    print("soak: FAIL: " + p)
sys.exit(1 if problems else 0)
EOP
