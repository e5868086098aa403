#!/usr/bin/env bash
# Load comparison on loopback, one run, same machine, each server its own process: the fast upstream directly,
# nginx proxy_pass to it, a bare ASP.NET Core pass-through (Kestrel + HttpClient, nothing else: the ceiling for any
# gateway on this platform), and the real `drydock serve` (the launcher's build) with guards off (key, tier, limits,
# extraction monitor, request log; no detection) and with every guard on, and a second `drydock serve` alike in all
# but `monitor.signals: false` (every guard on, no signal log, no registry summaries): the same run's cost of keeping
# signals (bench/monitor/overhead.sh repeats that pair in rounds for the spread). Needs Debian's wrk and nginx
# (installed when missing). Then the added latency at a fixed rate (open loop, 1,000 requests/s by default):
# the upstream directly, through the bare pass-through and through the gateway with every guard on.
# Runs from a fresh checkout: it builds the benchmarks and the CLI (the launcher's build) first. Ends with one line,
# `signals overhead: …`, the cost of keeping signals (issue 24's figure, target ≤ 5 %): 1 - (signals on)/(signals off)
# in requests/s of the two guards-on gateways, after checking that the one kept a signal log and the other none.
# Usage: bench/gateway/wrk.sh [DURATION_S] [CONNECTIONS] [RATE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
duration="${1:-10}"; connections="${2:-32}"; rate="${3:-1000}"
command -v wrk > /dev/null && command -v nginx > /dev/null || apt-get install -y -q wrk nginx > /dev/null
dotnet build bench/Drydock.Benchmarks -c Release -nologo -v quiet > /dev/null || { echo "wrk.sh: the benchmarks did not build (dotnet build bench/Drydock.Benchmarks -c Release)" >&2; exit 2; }
./drydock --version > /dev/null   # builds the CLI once
project=$(mktemp -d); quiet=$(mktemp -d); pids=()
trap 'kill "${pids[@]}" 2>/dev/null; nginx -c "$PWD/bench/gateway/nginx.conf" -s stop 2>/dev/null; rm -rf "$project" "$quiet"' EXIT
dotnet bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll gateway-upstream http://127.0.0.1:18000 > /dev/null &
pids+=($!)
dotnet bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll gateway-bare http://127.0.0.1:18082 http://127.0.0.1:18000 > /dev/null &
pids+=($!)
cat > "$project/drydock.yaml" <<'YAML'
gateway:
  tiers:
    bench:     { requests-per-minute: 100000000, tokens-per-minute: 100000000, input: block, output: redact }
    bench-off: { requests-per-minute: 100000000, tokens-per-minute: 100000000, input: off, output: off }
YAML
root=$PWD
on=$(cd "$project" && "$root/drydock" keys create --name bench --tier bench 2> /dev/null)
off=$(cd "$project" && "$root/drydock" keys create --name bench-off --tier bench-off 2> /dev/null)
(cd "$project" && exec "$root/drydock" serve --upstream http://127.0.0.1:18000/v1 --listen http://127.0.0.1:18080 > "$project/serve.log" 2>&1) &
pids+=($!)
printf 'gateway:\n  tiers:\n    bench: { requests-per-minute: 100000000, tokens-per-minute: 100000000, input: block, output: redact }\nmonitor:\n  signals: false\n' > "$quiet/drydock.yaml"
unsignalled=$(cd "$quiet" && "$root/drydock" keys create --name bench --tier bench 2> /dev/null)
(cd "$quiet" && exec "$root/drydock" serve --upstream http://127.0.0.1:18000/v1 --listen http://127.0.0.1:18083 > "$quiet/serve.log" 2>&1) &
pids+=($!)
nginx -c "$PWD/bench/gateway/nginx.conf"
ready=
for _ in $(seq 300); do curl -sf http://127.0.0.1:18080/readyz > /dev/null && curl -sf http://127.0.0.1:18083/readyz > /dev/null && curl -sf -X POST -d '{}' http://127.0.0.1:18082/v1/chat/completions > /dev/null && ready=1 && break; sleep 0.1; done
[ -n "$ready" ] || { echo "wrk.sh: the servers did not answer within 30 s" >&2; cat "$project/serve.log" "$quiet/serve.log" >&2; exit 2; }
declare -A rps non2xx
for target in "upstream 18000 -" "nginx 18081 -" "aspnet-bare-pass-through 18082 -" "drydock-guards-off 18080 $off" "drydock-guards-on 18080 $on" "drydock-guards-on-signals-off 18083 $unsignalled"; do
  set -- $target
  if [ "$3" = - ]; then unset DRYDOCK_KEY; else export DRYDOCK_KEY="$3"; fi
  wrk -t2 -c"$connections" -d2s -s bench/gateway/post.lua "http://127.0.0.1:$2/v1/chat/completions" > /dev/null   # warm-up
  echo "== $1"
  out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/gateway/post.lua "http://127.0.0.1:$2/v1/chat/completions")
  grep -E "Requests/sec|Latency|50%|99%|Non-2xx" <<< "$out"
  rps[$1]=$(awk '/Requests\/sec/ {print $2}' <<< "$out"); non2xx[$1]=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
done
echo "== fixed rate: $rate requests/s for $duration s"
for target in "upstream 18000 -" "aspnet-bare-pass-through 18082 -" "drydock-guards-on 18080 $on"; do
  set -- $target
  if [ "$3" = - ]; then unset DRYDOCK_KEY; else export DRYDOCK_KEY="$3"; fi
  echo -n "$1: "
  dotnet bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll gateway-rate "http://127.0.0.1:$2/v1/chat/completions" "$rate" "$duration"
done
# The overhead line: only a comparison of a gateway that kept signals with one that kept none counts (the signal log
# is written every monitor.flush-seconds, 10 s by default).
for _ in $(seq 150); do ls "$project"/.drydock/gateway/requests/signals-*.jsonl > /dev/null 2>&1 && break; sleep 0.1; done
ls "$project"/.drydock/gateway/requests/signals-*.jsonl > /dev/null 2>&1 || { echo "wrk.sh: the signals-on gateway kept no signal log: no overhead figure" >&2; exit 2; }
! ls "$quiet"/.drydock/gateway/requests/signals-*.jsonl > /dev/null 2>&1 || { echo "wrk.sh: the signals-off gateway kept a signal log: no overhead figure" >&2; exit 2; }
python3 - "${rps[drydock-guards-on]}" "${rps[drydock-guards-on-signals-off]}" "${non2xx[drydock-guards-on]:-0}" "${non2xx[drydock-guards-on-signals-off]:-0}" "$duration" "$connections" <<'PY'
import sys
on, off, bad_on, bad_off, duration, connections = sys.argv[1:]
on, off = float(on), float(off)
cost = 100 * (1 - on / off)
verdict = "within" if cost <= 5 else "over"
note = f"; NON-2XX ANSWERS: {bad_on} on, {bad_off} off (figure void)" if bad_on != "0" or bad_off != "0" else ""
print(f"signals overhead: {cost:.1f} % ({verdict} the 5 % target): every guard on, signals on {on:,.0f} requests/s, "
      f"signals off {off:,.0f} requests/s ({duration} s, {connections} connections, one run){note}")
PY
