#!/bin/sh
# init.sh - PID 1 of the kTLS test VM (busybox ash inside the guest; run.sh packs it as /init).
#
# Loads the tls and crypto modules, runs every Criterion binary named in /ktlsvm/tests with TAP
# output, prints one verdict line per binary, then the kernel's kTLS counters, then powers off.
# Every line meant for the host starts with "KTLSVM: "; the test output is prefixed with
# "[name] ". The host (run.sh) trusts nothing it does not find on the console.
#
# Files run.sh puts next to this one:
#   /ktlsvm/modules     the .ko files to insmod, dependencies first
#   /ktlsvm/tests       binary names (one a line), found in /ktlsvm/bin/
#   /ktlsvm/args        extra Criterion arguments, one a line
#   /ktlsvm/scriptlist  shell scripts (one a line) in /ktlsvm/scripts/, run after the binaries
#   /ktlsvm/env         their environment (export lines)
#   /ktlsvm/fatal_skip  an awk regex: a skipped test whose reason matches it is a failure
#                       (inside the VM a kernel-mode test has no excuse to skip)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LANG=C
/bin/busybox --install -s

say() { echo "KTLSVM: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
# Criterion's runner shares its arena with the forked test children through shm_open(3)
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmp /tmp
ip link set lo up
# a host name: without one the kernel says "(none)", which is no valid SIP host (siptlsd puts
# it in its Via sent-by, and the UAS's responses then fail to parse as ours)
hostname ktlsvm.test
say "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, up $(up)s"

# "exists" is fine: a module the kernel already pulled in through request_module()
while read -r ko; do
	out=$(insmod "$ko" 2>&1) || case "$out" in
		*exist*) ;;
		*) say "insmod $ko: $out" ;;
	esac
done </ktlsvm/modules
if grep -q '^tls ' /proc/modules; then
	say "module tls loaded"
else
	say "module tls MISSING"
fi

set --
while IFS= read -r a; do
	set -- "$@" "$a"
done </ktlsvm/args
fatal_skip=$(cat /ktlsvm/fatal_skip)

# verdict NAME RC SECS: reads Criterion's TAP from /tmp/NAME.out. PASS only when the binary
# exited 0, announced a plan of at least one test, every planned test reported, at least one
# passed (a --filter that matches nothing skips them all), none failed and no skip reason matched
# fatal_skip.
verdict() {
	awk -v name="$1" -v rc="$2" -v re="$fatal_skip" -v secs="$3" '
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; planned = 1 }
	/^not ok/ { fail++; next }
	/^ok/ {
		if (!index($0, "# SKIP")) { pass++; next }
		skip++
		why = $0
		sub(/.*# SKIP */, "", why)
		if (re != "" && why ~ re) { fatal++; print "KTLSVM: fatal skip in " name ": " $0 }
	}
	END {
		v = "PASS"; note = ""
		ran = pass + skip + fail
		if (rc != "0") { v = "FAIL"; note = note " (exit status " rc ")" }
		if (!planned) { v = "FAIL"; note = note " (no TAP plan)" }
		else if (plan == 0) { v = "FAIL"; note = note " (no tests)" }
		else if (ran != plan) { v = "FAIL"; note = note " (" ran " of " plan " reported)" }
		else if (pass == 0) { v = "FAIL"; note = note " (nothing passed)" }
		if (fail || fatal) v = "FAIL"
		printf "KTLSVM: verdict %s %s tests=%d pass=%d skip=%d fail=%d fatal_skip=%d secs=%s%s\n",
		       name, v, plan, pass, skip, fail, fatal, secs, note
	}' "/tmp/$1.out"
}

cd /tmp || exit 1
for name in $(cat /ktlsvm/tests); do
	say "run $name at $(up)s"
	t0=$(up)
	{
		"/ktlsvm/bin/$name" "$@" </dev/null 2>&1
		echo $? >"/tmp/$name.rc"
	} | tee "/tmp/$name.out" | sed "s/^/[$name] /"
	secs=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
	verdict "$name" "$(cat "/tmp/$name.rc" 2>/dev/null || echo none)" "$secs"
done
# scripts (run.sh --script): busybox sh, TAP on stdout, judged like a binary (no skips allowed
# to pass for a missing module either); /ktlsvm/env holds their --env settings
for name in $(cat /ktlsvm/scriptlist 2>/dev/null); do
	say "run $name at $(up)s"
	t0=$(up)
	{
		(. /ktlsvm/env && exec sh "/ktlsvm/scripts/$name") </dev/null 2>&1
		echo $? >"/tmp/$name.rc"
	} | tee "/tmp/$name.out" | sed "s/^/[$name] /"
	secs=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
	verdict "$name" "$(cat "/tmp/$name.rc" 2>/dev/null || echo none)" "$secs"
done
say "tests done at $(up)s"

# the kernel's own word on what went through kTLS (TlsTxSw/TlsRxSw rise per socket, and
# TlsDecryptError counts records that failed authentication)
if [ -r /proc/net/tls_stat ]; then
	while read -r k v; do
		say "tls_stat $k $v"
	done </proc/net/tls_stat
else
	say "tls_stat unavailable"
fi
awk '/^name/ { n = $3 } /^driver/ { print "KTLSVM: crypto " n " -> " $3 }' /proc/crypto |
	grep -E 'gcm|ccm|rfc7539' | sort -u
say "end at $(up)s"
poweroff -f
