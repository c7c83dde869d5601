#!/usr/bin/env bash
# test.sh - everything CI checks, from a fresh Debian 12 machine: installs what is missing,
# builds with warnings as errors under ASan+UBSan, runs every CTest test, then runs each
# fuzz target for a bounded time. Exit status 0 only when all of it passed.
#   FUZZ_SECONDS=60   seconds per fuzz target (0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=$(nproc)

bash scripts/deps.sh build bench fuzz

step() { printf '\n== %s ==\n' "$*"; }

step "debug build (ASan+UBSan, -Werror)"
cmake --preset debug >/dev/null
cmake --build build/debug -j "$JOBS"

step "unit and end-to-end tests (ctest)"
(cd build/debug && ctest --output-on-failure -j "$JOBS" --timeout 600)

if [ "$FUZZ_SECONDS" -gt 0 ]; then
	step "fuzz targets, ${FUZZ_SECONDS}s each"
	bash scripts/fuzz.sh "$FUZZ_SECONDS"
fi
