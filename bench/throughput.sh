#!/usr/bin/env bash
# End-to-end throughput of `drydock scan` on a synthetic chat JSONL, against two references run on the
# same file in the same run: CPython merely json.loads-ing every line, and secretlint (npm). CPython and the
# scans are each timed three times and the best time is kept.
# Also times hostile input (runs of '@', '.', digits, '-----BEGIN', ...) at 1, 10 and 100 MB.
# Usage: bench/throughput.sh [SIZE_MB]   (default 100). Figures go to stdout; nothing here is a test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size="${1:-100}"
out=bench/out
mkdir -p "$out"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

dotnet build bench/Drydock.Benchmarks -c Release -nologo -v quiet > /dev/null
bench="dotnet bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll"
data="$out/chat-${size}mb.jsonl"
[ -f "$data" ] || $bench gen-chat "$data" "$size"
./drydock --version > /dev/null 2>&1   # build the CLI outside the timings
bytes=$(stat -c %s "$data")

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
# The best of three runs: this machine is shared, and a single run can be slowed by a third by a neighbour.
best() { local b="" t; for _ in 1 2 3; do t=$(seconds "$@"); if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi; done; echo "$b"; }
peak_kb() { if [ -x /usr/bin/time ]; then /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; else echo "n/a"; fi; }

echo "input: $data ($(echo "$bytes / 1000000" | bc) MB, $(wc -l < "$data") records), $(nproc) cores"
py=$(best python3 -c 'import json,sys
for line in open(sys.argv[1], "rb"): json.loads(line)' "$data")
# The issue's figure is PII and secrets; every category (the default) is timed too.
dd=$(best ./drydock scan "$data" --format json --output "$out/report.json" --categories pii,secret)
all=$(best ./drydock scan "$data" --format json --output "$out/report-all.json")
# The floor under any scan: read, decode every record's fields and write the report, with no pattern rule at all
# (only the canary check, and no canary is registered).
floor=$(best ./drydock scan "$data" --format json --output "$out/report-floor.json" --categories canary)
printf 'python json.loads : %6.2f s  %7.1f MB/s\n' "$py" "$(echo "$bytes / 1000000 / $py" | bc -l)"
printf 'drydock scan json : %6.2f s  %7.1f MB/s  (%.2fx the json.loads time), peak memory %s KB  [--categories pii,secret]\n' "$dd" "$(echo "$bytes / 1000000 / $dd" | bc -l)" \
  "$(echo "$dd / $py" | bc -l)" "$(peak_kb ./drydock scan "$data" --format json --output "$out/report.json" --categories pii,secret)"
printf 'drydock scan json : %6.2f s  %7.1f MB/s  (%.2fx the json.loads time)  [every category]\n' "$all" "$(echo "$bytes / 1000000 / $all" | bc -l)" "$(echo "$all / $py" | bc -l)"
printf 'drydock, no rules : %6.2f s  %7.1f MB/s  (%.2fx the json.loads time)  [read, decode, report: the floor]\n' "$floor" "$(echo "$bytes / 1000000 / $floor" | bc -l)" "$(echo "$floor / $py" | bc -l)"

if command -v npm > /dev/null; then
  sl="$out/secretlint"
  mkdir -p "$sl"
  if [ ! -x "$sl/node_modules/.bin/secretlint" ]; then
    (cd "$sl" && echo '{"private":true}' > package.json &&
      npm install --no-audit --no-fund --silent secretlint@13.0.6 @secretlint/secretlint-rule-preset-recommend@13.1.0 > /dev/null)
    echo '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}' > "$sl/.secretlintrc.json"
  fi
  # secretlint skips files that .gitignore names (bench/out is ignored), so it reads a copy from /tmp.
  copy="$(mktemp -d)/chat.jsonl"
  cp "$data" "$copy"
  st=$(seconds "$sl/node_modules/.bin/secretlint" --secretlintrc "$sl/.secretlintrc.json" "$copy")
  rm -rf "$(dirname "$copy")"
  printf 'secretlint        : %6.2f s  %7.1f MB/s  (drydock is %.1fx faster)\n' "$st" "$(echo "$bytes / 1000000 / $st" | bc -l)" "$(echo "$st / $dd" | bc -l)"
fi

for mb in 1 10 100; do
  hostile="$out/hostile-${mb}mb.jsonl"
  [ -f "$hostile" ] || $bench gen-adversarial "$hostile" "$mb"
  printf 'hostile %3d MB     : %6.2f s\n' "$mb" "$(seconds ./drydock scan "$hostile" --format json --output "$out/hostile.json")"
done
