#!/usr/bin/env bash
# lint.sh [BUILD_DIR] - static analysis of siptlsd's sources (core/ io/ sip/ tls/ bench/; the
# tests are left to the sanitizers): clang-tidy with the checks chosen in .clang-tidy (the file
# says why each left-out check is left out) and cppcheck (warning, portability and performance
# classes), both over BUILD_DIR's compile_commands.json (default build/lint, configured here
# when it has none). Prints every finding as FILE:LINE: TOOL CHECK: MESSAGE.
#
# Exit status 0 only when every finding is listed in scripts/lint-known.txt: findings in files
# other engineers were editing when the lint was added, each with its reason and the change
# requested of the file's owner (docs/reliability.md). A listed finding that no longer occurs
# is reported so its line can go. LINT_STRICT=1 ignores the list.
# Packages: clang-tidy cppcheck (Debian 12: clang-tidy 14, cppcheck 2.10).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${1:-build/lint}
KNOWN=scripts/lint-known.txt
JOBS=$(nproc)
for t in clang-tidy cppcheck; do
	command -v $t >/dev/null || { echo "lint.sh: $t missing (apt-get install clang-tidy cppcheck)" >&2; exit 2; }
done
if [ ! -f "$B/compile_commands.json" ]; then
	cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
		-DSIPTLS_WERROR=ON >/dev/null
fi
OUT=$(mktemp -d /tmp/siptls-lint.XXXXXX)
[ "${LINT_KEEP:-0}" = 1 ] && echo "lint: outputs kept in $OUT" || trap 'rm -rf "$OUT"' EXIT

# the translation units: ours, not the tests (Criterion's macros expand into code these checks
# were not written for, and the tests run under ASan+UBSan themselves)
python3 - "$B/compile_commands.json" "$ROOT" "$OUT/cc.json" "$OUT/files" <<'EOP'
import json, sys
db, root = json.load(open(sys.argv[1])), sys.argv[2] + "/"
keep = [e for e in db if e["file"].startswith(root)
        and e["file"][len(root):].split("/")[0] in ("core", "io", "sip", "tls", "bench")
        and "/test_" not in e["file"]]
json.dump(keep, open(sys.argv[3], "w"))
open(sys.argv[4], "w").write("\n".join(sorted({e["file"] for e in keep})) + "\n")
EOP
echo "lint: $(wc -l <"$OUT/files") files, clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1), $(cppcheck --version)"

# clang-tidy: one process per file, JOBS at a time; gcc-only warning flags are not errors
xargs -a "$OUT/files" -P "$JOBS" -I{} sh -c \
	'clang-tidy -p "$1" --quiet --extra-arg=-Wno-unknown-warning-option "$2" >"$3/tidy.$(echo "$2" | tr / _)" 2>&1 || true' \
	_ "$B" {} "$OUT"
cat "$OUT"/tidy.* | sed -n -E "s#^$ROOT/([^:]+):([0-9]+):[0-9]+: (warning|error): (.*) \[([A-Za-z0-9.,-]+)\]\$#\1:\2: clang-tidy \5: \4#p" |
	sed -E 's/,-warnings-as-errors//' >"$OUT/findings"
# every diagnostic must have been read: one outside the tree or in an unexpected form fails
if [ "$(cat "$OUT"/tidy.* | grep -c -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ')" != "$(wc -l <"$OUT/findings")" ]; then
	echo "lint: clang-tidy diagnostics not understood:"
	cat "$OUT"/tidy.* | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' | grep -v -F -f <(cut -d: -f1,2 "$OUT/findings" | sed "s#^#$ROOT/#;s/\$/:/")
	exit 1
fi
# a clang-tidy that could not parse a file is a failure too, not a clean file
if grep -h -E "error: .*\[clang-diagnostic-error\]|Error while processing" "$OUT"/tidy.* >"$OUT/broken"; then
	echo "lint: clang-tidy could not analyse:"; cat "$OUT/broken"; exit 1
fi

# cppcheck over the same units
cppcheck --project="$OUT/cc.json" --enable=warning,portability,performance --inline-suppr \
	--quiet -j "$JOBS" --template="{file}:{line}: cppcheck {id}: {message}" 2>"$OUT/cppcheck" || true
sed "s#^$ROOT/##" "$OUT/cppcheck" | grep -E '^[^ ]+:[0-9]+: cppcheck ' >>"$OUT/findings" || true
sort -u -o "$OUT/findings" "$OUT/findings"

# each finding against the known list: FILE CHECK COUNT REASON (COUNT: at most that many)
status=0
python3 - "$OUT/findings" "$KNOWN" "${LINT_STRICT:-0}" <<'EOP' || status=1
import collections, sys
findings = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
strict = sys.argv[3] == "1"
known = {}
if not strict:
    for line in open(sys.argv[2]):
        if line.strip() and not line.startswith("#"):
            f, check, count, _reason = line.split(None, 3)
            known[(f, check)] = int(count)
seen = collections.Counter()
new = []
for l in findings:
    loc, rest = l.split(": ", 1)
    key = (loc.rsplit(":", 1)[0], rest.split()[1].rstrip(":"))
    seen[key] += 1
    (new if seen[key] > known.get(key, 0) else []).append(l)
for l in findings:
    print(("NEW   " if l in new else "known ") + l)
gone = [k for k, n in known.items() if seen[k] < n]
for f, c in gone:
    print("lint: %s %s: %d known, %d found: lower its count in lint-known.txt" % (f, c, known[(f, c)], seen[(f, c)]))
print("lint: %d findings, %d new, %d known (scripts/lint-known.txt)%s"
      % (len(findings), len(new), len(findings) - len(new), ", strict" if strict else ""))
sys.exit(1 if new or gone else 0)
EOP
exit $status
