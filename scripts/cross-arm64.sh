#!/usr/bin/env bash
# cross-arm64.sh - builds siptlsd for AArch64 on this Debian 12 x86-64 machine and runs the unit
# tests under qemu-user. One command, as root (or with sudo), from the repository:
#   bash scripts/cross-arm64.sh
# It installs what is missing (arm64 multiarch, gcc-aarch64-linux-gnu, qemu-user, the arm64
# libraries), configures build/arm64 with cmake/aarch64-linux-gnu.cmake (Debug, -Werror, no
# sanitizers: see docs/aarch64.md), builds, checks that jemalloc is the binaries' allocator,
# runs ctest through qemu-aarch64 and prints the summary. Exit status 0 only when all passed.
#   BUILD_DIR=build/arm64   where to build       JOBS=$(nproc)   parallel jobs
#   SANITIZE=undefined      a UBSan build instead (build/arm64-ubsan, glibc malloc: a sanitizer
#                           build has no jemalloc). ASan and LSan do not work under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SANITIZE=${SANITIZE:-}
case "$SANITIZE" in
"") BUILD=${BUILD_DIR:-build/arm64} ;;
undefined) BUILD=${BUILD_DIR:-build/arm64-ubsan} ;;
*) echo "cross-arm64: SANITIZE=$SANITIZE: only 'undefined' works under qemu-user" >&2; exit 2 ;;
esac
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DEPS=$BUILD/arm64-deps
JOBS=${JOBS:-$(nproc)}
TRIPLET=aarch64-linux-gnu
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

t0=$SECONDS
step() { printf '\n== %s (%ds) ==\n' "$*" $((SECONDS - t0)); }
die() { echo "cross-arm64: $*" >&2; exit 1; }

# Installed through apt: every one is Multi-Arch: same (or a host tool), so it sits next to its
# amd64 twin. libgit2-1.5 and libffi8 are the runtime dependencies of libcriterion3 (below).
APT_PKGS=(cmake ninja-build pkg-config gcc-aarch64-linux-gnu qemu-user
	libc6-dev:arm64 libssl-dev:arm64 liburing-dev:arm64 libjemalloc2:arm64
	libgit2-1.5:arm64 libffi8:arm64)
[ -n "$SANITIZE" ] && APT_PKGS+=(libubsan1:arm64)
# Not co-installable with the amd64 packages scripts/deps.sh installs, so their arm64 files are
# unpacked into $DEPS instead (dpkg-deb -x; dpkg's database is not touched):
#   libjemalloc-dev    Multi-Arch: no - one architecture's -dev at a time
#   libcriterion3/-dev need libnanomsg5:arm64 1.1.5+dfsg-1.1, but libnanomsg5:amd64 is the
#   libnanomsg5        binNMU 1.1.5+dfsg-1.1+b1 and Multi-Arch: same demands equal versions
DEPS_PKGS=(libjemalloc-dev libcriterion-dev libcriterion3 libnanomsg5)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_packages() {
	local missing=() p update=0
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "cross-arm64: dpkg --add-architecture arm64"
		$SUDO dpkg --add-architecture arm64
		update=1
	fi
	for p in "${APT_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
	[ ${#missing[@]} -gt 0 ] && update=1
	[ $update = 1 ] && $SUDO apt-get update -qq
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "cross-arm64: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
}

# $DEPS/usr/...: the arm64 files of DEPS_PKGS, with .pc files pointing into $DEPS
unpack_deps() {
	local p v specs=() have=""
	for p in "${DEPS_PKGS[@]}"; do
		v=$(apt-cache policy "$p:arm64" | awk '/Candidate:/ {print $2}')
		if [ -z "$v" ] || [ "$v" = "(none)" ]; then
			die "no arm64 candidate for $p (is arm64 in dpkg --print-foreign-architectures?)"
		fi
		specs+=("$p:arm64=$v")
	done
	[ -f "$DEPS/.unpacked" ] && have=$(cat "$DEPS/.unpacked")
	[ "$have" = "${specs[*]}" ] && return 0
	echo "cross-arm64: unpacking ${specs[*]} into $DEPS"
	rm -rf "${DEPS:?}/usr" "${DEPS:?}/debs"
	mkdir -p "$DEPS/debs"
	local sandbox=()
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	(cd "$DEPS/debs" && apt-get "${sandbox[@]}" download -qq "${specs[@]}")
	for p in "$DEPS"/debs/*.deb; do dpkg-deb -x "$p" "$DEPS"; done
	local lib=$DEPS/usr/lib/$TRIPLET
	# prefix -> $DEPS; Requires.private/Libs.private only matter to static links and would
	# make pkg-config look for boxfort, libgit2, nanomsg and libffi arm64 .pc files
	sed -i -e "s|^prefix=/usr\$|prefix=$DEPS/usr|" -e "s|^exec_prefix=/usr\$|exec_prefix=$DEPS/usr|" \
		-e '/^Requires.private:/d' -e '/^Libs.private:/d' "$lib"/pkgconfig/*.pc
	# the -dev symlink targets the runtime library that apt installed
	ln -sfn /usr/lib/$TRIPLET/libjemalloc.so.2 "$lib/libjemalloc.so"
	echo "${specs[*]}" >"$DEPS/.unpacked"
}

# helpers that are not part of the project's targets: the exec shim qemu-aarch64 preloads
# (see cmake/aarch64-qemu-exec.c) and, after the build, the allocator check
build_shim() {
	local src=$ROOT/cmake/aarch64-qemu-exec.c out=$DEPS/lib/siptls-qemu-exec.so
	mkdir -p "$DEPS/lib"
	[ "$out" -nt "$src" ] && return 0
	$TRIPLET-gcc -std=gnu17 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$out" "$src" -ldl
}

# 1. every AArch64 program built (tests, siptlsd) must list libjemalloc.so.2 as NEEDED (Debian's
#    gcc links --as-needed, which drops it from a binary whose own objects never call malloc);
# 2. siptlsd --version must report jemalloc; 3. a program linked like them must get jemalloc
#    from core_version_allocator() and from plain malloc()
check_allocator() {
	local b bad=0 n=0 ok=0 bins=()
	# the test binaries and every program we ship (siptlsd, ...) that the build produced
	mapfile -t bins < <(find "$BUILD" -path "$DEPS" -prune -o -path '*/CMakeFiles' -prune -o \
		-type f -perm -u+x ! -name '*.so*' ! -name allocator-check -print | sort)
	for b in "${bins[@]}"; do
		$TRIPLET-readelf -h "$b" 2>/dev/null | grep -q 'Type:.*\(EXEC\|DYN\)' || continue
		n=$((n + 1))
		if $TRIPLET-readelf -d "$b" | grep -q 'NEEDED.*libjemalloc'; then
			ok=$((ok + 1))
		else
			echo "allocator-check: ${b#"$BUILD"/} does not load jemalloc (no DT_NEEDED)" >&2
			bad=1
		fi
	done
	echo "allocator-check: $ok of $n AArch64 programs load libjemalloc.so.2"
	local qemu=(qemu-aarch64 -E LD_LIBRARY_PATH="$DEPS/usr/lib/$TRIPLET")
	if [ -x "$BUILD/core/siptlsd" ]; then
		local v
		v=$("${qemu[@]}" "$BUILD/core/siptlsd" --version | grep 'allocator:') || true
		echo "allocator-check: siptlsd --version under qemu: ${v:-(no allocator line)}"
		case "$v" in *'allocator: jemalloc'*) ;; *) bad=1 ;; esac
	fi
	local jem
	jem=$(PKG_CONFIG_LIBDIR=$DEPS/usr/lib/$TRIPLET/pkgconfig pkg-config --cflags --libs jemalloc)
	# shellcheck disable=SC2086 # pkg-config output is a word list
	$TRIPLET-gcc -std=gnu17 -Wall -Wextra -Werror -I"$ROOT" -o "$BUILD/allocator-check" \
		"$ROOT/cmake/aarch64-allocator-check.c" "$BUILD/core/libsiptls_core.a" $jem \
		-lssl -lcrypto -Wl,-rpath-link,"$DEPS/usr/lib/$TRIPLET"
	"${qemu[@]}" "$BUILD/allocator-check" || bad=1
	return $bad
}

step "packages"
install_packages
unpack_deps
build_shim

step "configure $BUILD (aarch64, Debug, -Werror, sanitizers: ${SANITIZE:-none})"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/$TRIPLET.cmake" \
	-DARM64_DEPS="$DEPS" -DCMAKE_BUILD_TYPE=Debug -DSIPTLS_WERROR=ON -DSIPTLS_SANITIZE="$SANITIZE" \
	-DSIPTLS_JEMALLOC=ON -DSIPTLS_BENCH=OFF -DSIPTLS_FUZZ=OFF -DSIPTLS_TESTS=ON >/dev/null

step "build"
cmake --build "$BUILD" -j "$JOBS"
for b in "$BUILD"/tests/*/test_*; do
	[ -x "$b" ] || continue
	$TRIPLET-readelf -h "$b" | grep -q 'Machine:.*AArch64' || die "$b is not an AArch64 binary"
done

status=0
if [ -z "$SANITIZE" ]; then
	step "allocator"
	check_allocator || status=1
fi

step "unit tests under qemu-aarch64 (ctest)"
# The end-to-end tests (tests/proxy/e2e.sh) are host scripts that start siptlsd itself: its
# workers need io_uring, which qemu-user does not emulate (io_uring_setup fails with ENOSYS),
# so they cannot run here. They run natively in scripts/test.sh.
NOT_UNDER_QEMU='^proxy_'
skipped=$(cd "$BUILD" && ctest -N -R "$NOT_UNDER_QEMU" | sed -n 's/^ *Test *#[0-9]*: //p' | xargs)
[ -n "$skipped" ] && echo "not run under qemu-user (siptlsd needs io_uring, not emulated): $skipped"
# verbosity 1 makes Criterion print each skipped test with its reason into ctest's log
(cd "$BUILD" && CRITERION_VERBOSITY_LEVEL=1 ctest --output-on-failure -j "$JOBS" --timeout 600 \
	-E "$NOT_UNDER_QEMU") || status=1
log=$BUILD/Testing/Temporary/LastTest.log
[ -f "$log" ] && awk -F'[:|]' '/Synthesis: Tested:/ { t += $3; p += $5; f += $7; c += $9 }
	END { printf "criterion cases: %d tested, %d passing, %d failing, %d crashing\n", t, p, f, c }' \
	"$log"
[ -f "$log" ] && printf 'criterion cases skipped: %d\n' "$(grep -c '^\[SKIP\]' "$log")"
if [ -f "$log" ] && grep -q '^\[SKIP\]' "$log"; then
	echo "skipped, by reason:"
	sed -n 's/^\[SKIP\] [^:]*::[^:]*: //p' "$log" | sort | uniq -c
fi

step "done, exit $status"
exit $status
