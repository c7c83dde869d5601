#!/usr/bin/env bash
# callgrind.sh [BUILD_DIR] [PARSER...] - instructions per message of each parser, counted by
# valgrind's callgrind: repeatable, and blind to machine load. Counts exactly the calls of
# <parser>_one (the adapter: framing, header index, top Via, R-URI) over the verification
# pass plus one timed pass of the default corpus, i.e. 2 x 2000 messages.
#   bash bench/callgrind.sh build/release              # all four
#   bash bench/callgrind.sh build/release ours         # one; the profile stays in the tmp dir
set -euo pipefail
build=${1:-build/release}
shift || true
parsers=("${@:-ours osip sofia re}")
bin=$build/bench/siptls-scanbench
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[ -x "$bin" ] || { echo "callgrind.sh: build $bin first" >&2; exit 2; }
msgs=2000
out=$(mktemp -d /tmp/scanbench-callgrind.XXXXXX)
printf '%-6s %14s %12s\n' parser instructions per-message
for p in ${parsers[*]}; do
	valgrind --tool=callgrind --callgrind-out-file="$out/$p.cg" --toggle-collect="${p}_one" \
		"$bin" -p "$p" -m "$msgs" -s 0.000001 -r 1 >/dev/null 2>"$out/$p.log"
	ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out/$p.cg")
	printf '%-6s %14s %12d\n' "$p" "$ir" $((ir / (2 * msgs)))
done
echo "profiles: $out (callgrind_annotate --inclusive=yes $out/ours.cg)"
