#!/usr/bin/env bash
# test.sh - everything CI checks, from a fresh Debian 12 machine: installs what is missing,
# builds with warnings as errors under ASan+UBSan, runs every CTest test and the static analysis
# (scripts/lint.sh), the kTLS VM, the multi-worker cases under TSan, then runs each
# fuzz target for a bounded time. Exit status 0 only when all of it passed.
#   FUZZ_SECONDS=60   seconds per fuzz target (0 skips fuzzing)
#   KTLS_VM=1         run the kTLS tests in a qemu VM booting Debian's kernel (0 skips them;
#                     needs ~0.5 GB in /var/cache; docs/ktls-vm.md)
#   ARM64=1           also cross-build for AArch64 and run the unit tests under qemu-user
#                     (scripts/cross-arm64.sh, about 5 minutes; 0 skips it)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
ARM64=${ARM64:-1}
JOBS=$(nproc)

bash scripts/deps.sh build bench fuzz ktls-vm lint

step() { printf '\n== %s ==\n' "$*"; }

step "debug build (ASan+UBSan, -Werror)"
cmake --preset debug >/dev/null
cmake --build build/debug -j "$JOBS"

step "unit and end-to-end tests (ctest)"
(cd build/debug && ctest --output-on-failure -j "$JOBS" --timeout 600)

step "static analysis: clang-tidy + cppcheck (docs/reliability.md)"
bash scripts/lint.sh build/lint

if [ "${KTLS_VM:-1}" = 1 ]; then
	step "kTLS in a VM: Debian 12's kernel under qemu (docs/ktls-vm.md)"
	cmake -S . -B build/ktlsvm -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSIPTLS_SANITIZE= \
		-DSIPTLS_WERROR=ON -DSIPTLS_BENCH=OFF >/dev/null
	cmake --build build/ktlsvm -j "$JOBS" --target ktls_vm_bins
	(cd build/ktlsvm && KTLSVM_REQUIRE=1 ctest -L ktls-vm --output-on-failure)
fi

step "multi-worker end-to-end tests under ThreadSanitizer"
# Criterion cannot start under TSan here ("Could not initialize inheritable arena"), so the
# TSan build runs the end-to-end cases, which are where threads meet: siptlsd with 2-4 workers.
cmake --preset tsan >/dev/null
cmake --build build/tsan -j "$JOBS" --target siptlsd siptlsctl
(cd build/tsan && ctest --output-on-failure -j "$JOBS" --timeout 300 \
	-R '^proxy_(dialog|workers4|upstream_killed|timeout408|backpressure|show_clear|reload|trace|fault_.*|admit_trusted)$')

if [ "$FUZZ_SECONDS" -gt 0 ]; then
	step "fuzz targets, ${FUZZ_SECONDS}s each"
	bash scripts/fuzz.sh "$FUZZ_SECONDS"
fi

if [ "$ARM64" = 1 ]; then
	step "AArch64: cross build, unit tests under qemu-user"
	bash scripts/cross-arm64.sh
fi
