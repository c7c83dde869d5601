#!/usr/bin/env bash
# deps.sh [GROUP...] - install the Debian 12 packages siptlsd needs, only those missing.
# Groups: build (default), bench, fuzz, ktls-vm, lint, compare, all. Safe to run again.
# (The AArch64 cross build installs its own packages: scripts/cross-arm64.sh.)
set -euo pipefail

build=(build-essential cmake ninja-build pkg-config libssl-dev openssl liburing-dev
       libjemalloc-dev libcriterion-dev python3 sip-tester socat)
bench=(libosip2-dev libsofia-sip-ua-dev libre-dev valgrind)
fuzz=(clang libclang-rt-14-dev llvm)
lint=(clang-tidy cppcheck)
ktls_vm=(qemu-system-x86 busybox-static cpio kmod)
compare=(kamailio kamailio-tls-modules haproxy gnuplot-nox linux-perf)

groups=("${@:-build}")
want=()
for g in "${groups[@]}"; do
	case "$g" in
	build) want+=("${build[@]}") ;;
	bench) want+=("${bench[@]}") ;;
	fuzz) want+=("${fuzz[@]}") ;;
	ktls-vm) want+=("${ktls_vm[@]}") ;;
	lint) want+=("${lint[@]}") ;;
	compare) want+=("${bench[@]}" "${compare[@]}") ;;
	all) want+=("${build[@]}" "${bench[@]}" "${fuzz[@]}" "${ktls_vm[@]}" "${lint[@]}" "${compare[@]}") ;;
	*) echo "deps.sh: unknown group '$g' (build bench fuzz ktls-vm lint compare all)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps.sh: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
