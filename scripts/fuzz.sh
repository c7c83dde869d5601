#!/usr/bin/env bash
# fuzz.sh [SECONDS] - builds the libFuzzer targets with clang (ASan+UBSan) and runs each for
# SECONDS (default 60) on a scratch copy of its checked-in corpus. Fails on any crash, leak
# or timeout, leaving the reproducer in build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$(nproc)"
mkdir -p build/fuzz/artifacts
status=0
for bin in build/fuzz/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work=build/fuzz/corpus-$name
	rm -rf "$work"; mkdir -p "$work"
	cp -r tests/fuzz/corpus/"$name"/. "$work"/ 2>/dev/null || true
	dict=()
	[ -f tests/fuzz/"$name".dict ] && dict=(-dict=tests/fuzz/"$name".dict)
	echo "fuzz: $name for ${secs}s"
	if ! "$bin" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/artifacts/"$name"- -print_final_stats=1 "$work" \
		>build/fuzz/"$name".log 2>&1; then
		echo "fuzz: $name FAILED"; tail -n 60 build/fuzz/"$name".log; status=1
	else
		grep -E 'stat::number_of_executed_units|cov:' build/fuzz/"$name".log | tail -n 2
		echo "fuzz: $name clean"
	fi
done
exit $status
