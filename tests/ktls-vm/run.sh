#!/usr/bin/env bash
# run.sh - run Criterion test binaries inside a throw-away VM whose kernel has kTLS (issue 7).
#
# The host kernel may lack CONFIG_TLS; Debian 12's own kernel has it as a module. This script
# downloads that kernel package (apt-get download, dpkg -x into a cache: never installed, nothing
# in /boot or /lib/modules changes, no module is loaded on the host), packs busybox, the tls and
# crypto modules and the given binaries with their shared libraries into an initramfs, boots it
# with qemu and turns the serial console into a verdict. See docs/ktls-vm.md.
#
# usage: run.sh [OPTIONS] TEST_BINARY... [-- CRITERION_ARGS...]
#   --expect-ktls      also require TlsTxSw > 0 and TlsRxSw > 0 in /proc/net/tls_stat
#   --fatal-skip RE    a skip whose reason matches RE (awk ERE) fails its binary
#                      (default: 'no tls ULP|kTLS VM|CONFIG_TLS'; '.' makes every skip fatal)
#   --log FILE         keep the console here (default: only in the work dir, removed at exit)
#   --keep             keep the work dir (initramfs, console) and print its path
#   --quiet            do not echo the console live, print only the summary
#   --extra FILE       also put executable FILE (and its libraries) in the guest's /ktlsvm/bin,
#                      without running it (for scripts: siptlsd, siptlsctl, siptls-bench)
#   --script FILE      run shell script FILE in the guest after the binaries (busybox sh); it
#                      prints TAP and gets a verdict line like a binary (e.g. e2e.sh)
#   --pki              a throwaway test PKI (scripts/mkpki.sh: ca, proxy, uas, uac) in the
#                      guest's /ktlsvm/data
#   --env NAME=VALUE   exported to the scripts in the guest (repeatable)
# Environment (all optional):
#   KTLSVM_CACHE     kernel cache (default /var/cache/siptls-ktlsvm, or
#                    ~/.cache/siptls-ktlsvm when that is not writable)
#   KTLSVM_KVER      kernel ABI, e.g. 6.1.0-56-amd64 (default: what linux-image-amd64 depends on)
#   KTLSVM_ACCEL     auto | tcg | kvm (default auto: KVM only when the CPU shows vmx/svm and
#                    the guest speaks within KTLSVM_KVM_WATCHDOG=30 s, else TCG)
#   KTLSVM_MEM       guest MiB (default 1536)       KTLSVM_SMP  guest CPUs (default 2)
#   KTLSVM_APPEND    extra kernel command line (default mitigations=off: the guest runs only
#                    our tests, so speculation defences buy nothing there)
#   KTLSVM_TIMEOUT   seconds before qemu is killed (default 800)
#   KTLSVM_TEST_TIMEOUT  Criterion --timeout per test, seconds (default 120)
#   KTLSVM_REQUIRE   1: a host that cannot run the VM (tools or kernel missing) fails with 2
#                    instead of skipping with 77 (CI sets it)
# Exit: 0 pass, 1 fail, 2 usage or setup error, 77 cannot run here (CTest SKIP_RETURN_CODE).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ME=ktls-vm

# kTLS itself, plus the AEADs its software path instantiates by name at setsockopt(TLS_TX/RX)
# time: "gcm(aes)", "ccm(aes)", "rfc7539(chacha20,poly1305)". tls.ko depends on none of them,
# so they are listed here; the x86 ones are the fast drivers (-cpu max exposes AES-NI, PCLMUL).
MODULES=(tls gf128mul ghash-generic ghash-clmulni-intel ctr gcm seqiv ccm cryptd crypto_simd
	aesni-intel libchacha chacha_generic chacha-x86_64 libpoly1305 poly1305_generic
	poly1305-x86_64 chacha20poly1305)
FATAL_SKIP_DEFAULT='no tls ULP|kTLS VM|CONFIG_TLS'

say() { echo "$ME: $*" >&2; }
die() {
	say "$*"
	exit 2
}
# cannot(): this host lacks something the VM needs; skip unless CI asked for a hard failure
cannot() {
	say "$*"
	[ "${KTLSVM_REQUIRE:-0}" = 1 ] && exit 2
	say "skipped (set KTLSVM_REQUIRE=1 to make this an error)"
	exit 77
}

# ---- arguments -----------------------------------------------------------------------------
expect_ktls=0 fatal_skip=$FATAL_SKIP_DEFAULT log_out='' keep=0 quiet=0
bins=() crit_args=() extras=() scripts=() envs=() pki=0
while [ $# -gt 0 ]; do
	case "$1" in
	--expect-ktls) expect_ktls=1 ;;
	--fatal-skip) fatal_skip=${2?--fatal-skip needs a regex}; shift ;;
	--log) log_out=${2?--log needs a file}; shift ;;
	--keep) keep=1 ;;
	--quiet) quiet=1 ;;
	--extra) extras+=("${2?--extra needs a file}"); shift ;;
	--script) scripts+=("${2?--script needs a file}"); shift ;;
	--env) envs+=("${2?--env needs NAME=VALUE}"); shift ;;
	--pki) pki=1 ;;
	--) shift; crit_args=("$@"); break ;;
	-h | --help) sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (--help)" ;;
	*) bins+=("$1") ;;
	esac
	shift
done
[ ${#bins[@]} -gt 0 ] || [ ${#scripts[@]} -gt 0 ] || die "usage: run.sh [OPTIONS] TEST_BINARY... [-- CRITERION_ARGS...]"
declare -A seen=()
for i in "${!bins[@]}"; do
	b=$(readlink -f "${bins[$i]}") || die "${bins[$i]}: no such file"
	if [ ! -f "$b" ] || [ ! -x "$b" ]; then
		die "${bins[$i]}: not an executable file"
	fi
	n=$(basename "$b")
	[ -z "${seen[$n]:-}" ] || die "two binaries named $n: the guest knows them by name"
	seen[$n]=1
	bins[i]=$b
done
for f in ${extras[@]+"${extras[@]}"} ${scripts[@]+"${scripts[@]}"}; do
	[ -f "$f" ] || die "$f: no such file"
	n=$(basename "$f")
	[ -z "${seen[$n]:-}" ] || die "two files named $n: the guest knows them by name"
	seen[$n]=1
done

MEM=${KTLSVM_MEM:-1536}
SMP=${KTLSVM_SMP:-2}
TIMEOUT=${KTLSVM_TIMEOUT:-800}
TEST_TIMEOUT=${KTLSVM_TEST_TIMEOUT:-120}
ACCEL=${KTLSVM_ACCEL:-auto}
APPEND=${KTLSVM_APPEND-mitigations=off}
export PATH=$PATH:/usr/sbin:/sbin

for tool in qemu-system-x86_64 cpio depmod modprobe apt-get dpkg; do
	command -v "$tool" >/dev/null || cannot "$tool not found (scripts/deps.sh ktls-vm)"
done
[ -x /bin/busybox ] || cannot "/bin/busybox not found (apt-get install busybox-static)"
# the guest has no libc: only a static busybox can be its shell
if ldd /bin/busybox >/dev/null 2>&1; then
	cannot "/bin/busybox is dynamically linked (apt-get install busybox-static)"
fi

# ---- kernel cache ----------------------------------------------------------------------------
CACHE=${KTLSVM_CACHE:-/var/cache/siptls-ktlsvm}
if [ -z "${KTLSVM_CACHE:-}" ] && ! mkdir -p "$CACHE" 2>/dev/null; then
	CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/siptls-ktlsvm
fi
mkdir -p "$CACHE" || die "cannot create cache $CACHE"
# one download and unpack at a time, even when CTest runs several build dirs at once
exec 9>"$CACHE/.lock"
flock 9

resolve_kver() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n 1
}
KVER=${KTLSVM_KVER:-$(resolve_kver)}
if [ -z "$KVER" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >&2 || true
	KVER=$(resolve_kver)
fi
if [ -z "$KVER" ]; then
	# offline and apt does not know the package: fall back to the newest kernel already cached
	KVER=$(find "$CACHE" -maxdepth 2 -path '*/kernel-*/.done' 2>/dev/null |
		sed 's|.*/kernel-\(.*\)/.done|\1|' | sort -V | tail -n 1)
fi
[ -n "$KVER" ] || cannot "cannot resolve linux-image-amd64 (no apt lists, nothing cached)"
KROOT=$CACHE/kernel-$KVER
MODDIR=$KROOT/lib/modules/$KVER

fetch_kernel() {
	local dl=$CACHE/dl deb sandbox=()
	rm -rf "$KROOT" "$dl"
	mkdir -p "$dl"
	# as root, apt drops to _apt for the download and warns that it cannot write here
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	say "downloading linux-image-$KVER into $CACHE"
	(cd "$dl" && apt-get "${sandbox[@]}" download -q "linux-image-$KVER" >&2) ||
		cannot "apt-get download linux-image-$KVER failed"
	deb=$(ls "$dl"/linux-image-"$KVER"_*.deb)
	dpkg -x "$deb" "$KROOT"
	grep -qE '^CONFIG_TLS=[ym]' "$KROOT/boot/config-$KVER" || die "$KVER has no CONFIG_TLS"
	# the .deb ships no modules.dep: postinst runs depmod on a real install
	depmod -b "$KROOT" "$KVER"
	rm -rf "$dl"
	touch "$KROOT/.done"
}
[ -f "$KROOT/.done" ] || fetch_kernel

# ---- base initramfs: busybox + modules, cached per kernel and module list ----------------------
# the modules in load order, dependencies first; -C /dev/null keeps the host's modprobe.d out
module_paths() {
	local m
	for m in "${MODULES[@]}"; do
		modprobe -C /dev/null -d "$KROOT" -S "$KVER" --show-depends "$m" ||
			die "module $m not in $KVER"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# a .ko as busybox insmod can load it (Debian 12 ships them uncompressed; later ones do not)
copy_module() {
	local ko=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	case "$ko" in
	*.xz) xz -dc "$ko" >"${dst%.xz}" ;;
	*.zst) zstd -qdc "$ko" >"${dst%.zst}" ;;
	*.gz) gzip -dc "$ko" >"${dst%.gz}" ;;
	*) cp "$ko" "$dst" ;;
	esac
}

build_base() {
	local out=$1 root ko rel
	root=$(mktemp -d "$CACHE/base.XXXXXX")
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,ktlsvm/bin}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh" # /init's interpreter, before it installs the other applets
	# the kernel's request_module() execs /sbin/modprobe: a backstop for a module not listed
	ln -s ../bin/busybox "$root/sbin/modprobe"
	: >"$root/ktlsvm/modules"
	module_paths | while read -r ko; do
		rel=${ko#"$MODDIR"/}
		copy_module "$ko" "$root/lib/modules/$KVER/$rel"
		rel=${rel%.xz} rel=${rel%.zst} rel=${rel%.gz}
		echo "/lib/modules/$KVER/$rel" >>"$root/ktlsvm/modules"
	done
	grep -q '/tls\.ko$' "$root/ktlsvm/modules" || die "tls.ko not found in $MODDIR"
	cp "$MODDIR"/modules.order "$MODDIR"/modules.builtin* "$root/lib/modules/$KVER/"
	depmod -b "$root" "$KVER"
	# name resolution for tests that say "localhost" (glibc >= 2.34 has files NSS built in)
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
	echo 'root:x:0:0:root:/tmp:/bin/sh' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	# OpenSSL reads OPENSSLDIR/openssl.cnf (Debian: /usr/lib/ssl -> /etc/ssl)
	if [ -f /etc/ssl/openssl.cnf ]; then
		mkdir -p "$root/etc/ssl" "$root/usr/lib/ssl"
		cp /etc/ssl/openssl.cnf "$root/etc/ssl/"
		ln -s /etc/ssl/openssl.cnf "$root/usr/lib/ssl/openssl.cnf"
	fi
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$root"
}

base_key=$( {
	echo "$KVER ${MODULES[*]}"
	sha256sum /bin/busybox
	sed -n '/^build_base()/,/^}/p' "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)
BASE=$CACHE/base-$KVER-$base_key.cpio
if [ ! -f "$BASE" ]; then
	rm -f "$CACHE"/base-*.cpio
	build_base "$BASE"
fi
flock -u 9

# ---- per-run initramfs: /init, the binaries and their libraries --------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktls-vm.XXXXXX")
qpid='' tpid=''
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null
	if [ "$keep" = 1 ]; then say "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ROOT=$WORK/root
mkdir -p "$ROOT/ktlsvm/bin"
# copy_elf SRC DST: an executable plus every library ldd names, at the same path in the guest
copy_elf() {
	local lib
	cp "$1" "$ROOT$2"
	{ ldd "$1" 2>/dev/null || true; } | { grep -oE '/[^ ]+' || true; } | sort -u |
		while read -r lib; do
			[ -e "$ROOT$lib" ] && continue
			mkdir -p "$ROOT$(dirname "$lib")"
			cp -L "$lib" "$ROOT$lib"
		done
}
: >"$ROOT/ktlsvm/tests"
for b in ${bins[@]+"${bins[@]}"}; do
	copy_elf "$b" "/ktlsvm/bin/$(basename "$b")"
	basename "$b" >>"$ROOT/ktlsvm/tests"
done
for b in ${extras[@]+"${extras[@]}"}; do
	copy_elf "$(readlink -f "$b")" "/ktlsvm/bin/$(basename "$b")"
done
mkdir -p "$ROOT/ktlsvm/scripts"
: >"$ROOT/ktlsvm/scriptlist"
for s in ${scripts[@]+"${scripts[@]}"}; do
	cp "$s" "$ROOT/ktlsvm/scripts/$(basename "$s")"
	basename "$s" >>"$ROOT/ktlsvm/scriptlist"
done
: >"$ROOT/ktlsvm/env"
for e in ${envs[@]+"${envs[@]}"}; do
	case "$e" in
	[A-Za-z_]*=*) printf 'export %s=%q\n' "${e%%=*}" "${e#*=}" >>"$ROOT/ktlsvm/env" ;;
	*) die "--env $e: not NAME=VALUE" ;;
	esac
done
if [ "$pki" = 1 ]; then
	command -v openssl >/dev/null || cannot "openssl not found (needed for --pki)"
	bash "$HERE/../../scripts/mkpki.sh" "$ROOT/ktlsvm/data" >/dev/null ||
		die "scripts/mkpki.sh failed"
fi
# TAP: one line per test, and the skip reason we judge; --jobs follows the guest's CPUs
printf '%s\n' --tap=- "--jobs=$SMP" "--timeout=$TEST_TIMEOUT" \
	${crit_args[@]+"${crit_args[@]}"} >"$ROOT/ktlsvm/args"
printf '%s\n' "$fatal_skip" >"$ROOT/ktlsvm/fatal_skip"
cp "$HERE/init.sh" "$ROOT/init"
chmod 755 "$ROOT/init"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$WORK/run.cpio"
# the kernel unpacks concatenated newc archives in order; later files win
cat "$BASE" "$WORK/run.cpio" >"$WORK/initrd.cpio"

# ---- boot ------------------------------------------------------------------------------------
LOG=$WORK/console.log
# run_vm ACCEL CPU WATCHDOG: boot once, console into $LOG.raw (and live to stderr).
# WATCHDOG > 0: return 125 if the guest has said nothing within that many seconds.
run_vm() {
	local accel=$1 cpu=$2 wd=$3 rc=0 i=0
	: >"$LOG.raw"
	say "kernel $KVER, accel $accel, cpu $cpu, ${SMP} cpus, ${MEM} MiB, timeout ${TIMEOUT}s"
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp "$SMP" \
		-m "$MEM" -display none -nodefaults -no-reboot -serial "file:$LOG.raw" \
		-kernel "$KROOT/boot/vmlinuz-$KVER" -initrd "$WORK/initrd.cpio" \
		-append "console=ttyS0 panic=-1 oops=panic quiet $APPEND" </dev/null >&2 &
	qpid=$!
	if [ "$quiet" = 0 ]; then
		# sed -u: line by line, so CTest and CI logs show progress while the tests run
		tail -n +1 -f --pid="$qpid" "$LOG.raw" | sed -u 's/\r$//' >&2 &
		tpid=$!
	fi
	while [ "$wd" -gt 0 ] && kill -0 "$qpid" 2>/dev/null && ! grep -q '^KTLSVM: kernel' "$LOG.raw"; do
		sleep 1
		i=$((i + 1))
		[ "$i" -lt "$wd" ] && continue
		kill "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null || true
		qpid=
		return 125
	done
	wait "$qpid" || rc=$?
	qpid=
	if [ -n "$tpid" ]; then
		wait "$tpid" 2>/dev/null || true
		tpid=
	fi
	tr -d '\r' <"$LOG.raw" >"$LOG"
	return "$rc"
}

kvm_usable() {
	[ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo
}
t0=$(date +%s.%N)
qrc=0
case "$ACCEL" in
tcg) run_vm tcg max 0 || qrc=$? ;;
kvm) run_vm kvm host 0 || qrc=$? ;;
auto)
	if kvm_usable; then
		run_vm kvm host "${KTLSVM_KVM_WATCHDOG:-30}" || qrc=$?
		if [ "$qrc" = 125 ]; then
			say "KVM guest silent for ${KTLSVM_KVM_WATCHDOG:-30}s, falling back to TCG"
			qrc=0
			t0=$(date +%s.%N)
			run_vm tcg max 0 || qrc=$?
		fi
	else
		run_vm tcg max 0 || qrc=$?
	fi
	;;
*) die "KTLSVM_ACCEL must be auto, tcg or kvm" ;;
esac
vm_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[ -n "$log_out" ] && cp "$LOG" "$log_out"

# ---- verdict ---------------------------------------------------------------------------------
bad=0
fail() {
	say "FAIL: $*"
	bad=1
}
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && fail "qemu killed after ${TIMEOUT}s (KTLSVM_TIMEOUT)"
[ "$qrc" = 0 ] || [ "$qrc" = 124 ] || [ "$qrc" = 137 ] || fail "qemu exit status $qrc"
grep -q '^KTLSVM: module tls loaded' "$LOG" || fail "the guest did not load tls.ko"
for b in ${bins[@]+"${bins[@]}"} ${scripts[@]+"${scripts[@]}"}; do
	n=$(basename "$b")
	v=$(grep -m 1 "^KTLSVM: verdict $n " "$LOG" || true)
	if [ -z "$v" ]; then
		fail "$n: no verdict (did not run to the end)"
	else
		say "${v#KTLSVM: verdict }"
		case "$v" in *" $n PASS "*) ;; *) fail "$n" ;; esac
	fi
done
grep -E '^KTLSVM: fatal skip|KTLSVM: memory' "$LOG" | sed "s/^.*KTLSVM: /$ME: /" >&2 || true
stat_of() { sed -n "s/^KTLSVM: tls_stat $1 \([0-9]*\)$/\1/p" "$LOG" | tail -n 1; }
tx=$(stat_of TlsTxSw) rx=$(stat_of TlsRxSw) derr=$(stat_of TlsDecryptError)
say "tls_stat TlsTxSw ${tx:-?} TlsRxSw ${rx:-?} TlsDecryptError ${derr:-?}"
[ "${derr:-x}" = 0 ] || fail "TlsDecryptError is ${derr:-missing}, want 0"
if [ "$expect_ktls" = 1 ]; then
	[ "${tx:-0}" -gt 0 ] || fail "no socket used kernel TLS send (TlsTxSw ${tx:-missing})"
	[ "${rx:-0}" -gt 0 ] || fail "no socket used kernel TLS receive (TlsRxSw ${rx:-missing})"
fi
grep -q '^KTLSVM: end' "$LOG" || fail "the guest never reached the end of /init"
say "VM ${vm_secs}s; $([ $bad = 0 ] && echo PASS || echo FAIL)"
exit "$bad"
