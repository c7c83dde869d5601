#!/usr/bin/env bash
# demo.sh - the main job, from a fresh Debian 12 machine (as root, or with sudo): installs what
# is missing, builds the release preset and runs the scanner benchmark with its defaults
# (our scanner against libosip2, sofia-sip and libre; about 25 s), printing the table.
# Extra arguments go to siptls-scanbench (see --help), e.g. scripts/demo.sh --runs 9 --json
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build bench

cmake --preset release >/dev/null
cmake --build build/release --target siptls-scanbench -j "$(nproc)"

exec build/release/bench/siptls-scanbench "$@"
