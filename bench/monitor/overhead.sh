#!/usr/bin/env bash
# What keeping signals costs the gateway, in one run: two `drydock serve` (the launcher's build) in front of the
# bench upstream, alike in all but `monitor.signals` (every guard on, request log on; one keeps the signal log and
# writes the registry's summaries, the default; the other keeps neither). wrk loads them in turn, ROUNDS times each
# (on, off, on, off, ...), so both see the same machine; prints each round's requests/s and the cost
# 1 - (signals on)/(signals off) from the medians. Needs Debian's wrk (installed when missing).
# Usage: bench/monitor/overhead.sh [ROUNDS] [DURATION_S] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds="${1:-5}"; duration="${2:-10}"; connections="${3:-32}"
command -v wrk > /dev/null || apt-get install -y -q wrk > /dev/null
nice dotnet build bench/Drydock.Benchmarks -c Release -nologo -v quiet > /dev/null
# The CLI: the launcher (./drydock, built once), or DRYDOCK="dotnet /abs/path/drydock.dll" for another build.
read -ra cli <<< "${DRYDOCK:-$PWD/drydock}"
"${cli[@]}" --version > /dev/null
root=$PWD
bench=bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll
dotnet "$bench" gateway-upstream http://127.0.0.1:18000 > /dev/null &
pids=($!)
projects=()
trap 'kill "${pids[@]}" 2> /dev/null; rm -rf "${projects[@]}"' EXIT
declare -A key port
port[on]=18090; port[off]=18091
for mode in on off; do
  project=$(mktemp -d); projects+=("$project")
  cat > "$project/drydock.yaml" <<YAML
gateway:
  tiers:
    bench: { requests-per-minute: 100000000, tokens-per-minute: 100000000, input: block, output: redact }
monitor:
  signals: $([ "$mode" = on ] && echo true || echo false)
YAML
  key[$mode]=$(cd "$project" && "${cli[@]}" keys create --name bench --tier bench 2> /dev/null)
  (cd "$project" && exec "${cli[@]}" serve --upstream http://127.0.0.1:18000/v1 --listen "http://127.0.0.1:${port[$mode]}" > "$project/serve.log" 2>&1) &
  pids+=($!)
done
for mode in on off; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${port[$mode]}/readyz" > /dev/null && break; sleep 0.2; done
  export DRYDOCK_KEY="${key[$mode]}"
  wrk -t2 -c"$connections" -d3s -s bench/gateway/post.lua "http://127.0.0.1:${port[$mode]}/v1/chat/completions" > /dev/null   # warm-up
done
echo "== uptime: $(uptime)"
declare -A runs
for round in $(seq "$rounds"); do
  for mode in on off; do
    export DRYDOCK_KEY="${key[$mode]}"
    out=$(wrk -t2 -c"$connections" -d"${duration}s" -s bench/gateway/post.lua "http://127.0.0.1:${port[$mode]}/v1/chat/completions")
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    bad=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
    echo "round $round signals-$mode: $rps requests/s${bad:+, $bad non-2xx}"
    runs[$mode]+="$rps "
  done
done
echo "== uptime: $(uptime)"
grep -q "monitor.signals is false" "${projects[1]}/serve.log"    # the signals-off gateway said so at start
! grep -q "monitor.signals is false" "${projects[0]}/serve.log"
ls "${projects[0]}"/.drydock/gateway/requests/signals-*.jsonl > /dev/null   # the signals-on gateway kept its signal log
! ls "${projects[1]}"/.drydock/gateway/requests/signals-*.jsonl > /dev/null 2>&1   # the other kept none
python3 - "${runs[on]}" "${runs[off]}" <<'PY'
import statistics, sys
on = [float(x) for x in sys.argv[1].split()]; off = [float(x) for x in sys.argv[2].split()]
mon, moff = statistics.median(on), statistics.median(off)
pairs = [1 - a / b for a, b in zip(on, off)]
print(f"median requests/s: signals on {mon:.0f}, off {moff:.0f}; cost {100 * (1 - mon / moff):.1f} % "
      f"(per round: {', '.join(f'{100 * p:.1f}' for p in pairs)} %)")
PY
