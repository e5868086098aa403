#!/usr/bin/env bash
# The audit-chain walk at scale, end to end, for each registry backend (SQLite in .drydock/registry.db, then
# PostgreSQL from tests/services/postgres.sh, which runs it with fsync off): a project whose registry holds ENTRIES
# audit entries (appended, chained, by `Drydock.Benchmarks audit-fill`), then
#   1. the built CLI's `drydock audit verify` (wall and user CPU seconds, peak memory);
#   2. a running `drydock serve`: the whole walk at start (the time until it listens) and the whole walks it runs in the
#      background (its own log line, event 48, with entries and milliseconds);
#   3. the admin API's latency (REQUESTS sequential GET /admin/deployments, each checking the chain first) with the
#      background walk every second (gateway.chain-walk-every: 1, the worst case: a walk is nearly always running) and
#      at its default (10 minutes: none during the run).
# Usage: bench/audit/walk.sh [ENTRIES] [REQUESTS]   (SKIP_POSTGRES=1: SQLite only; SKIP_BUILD=1: use the builds there)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
entries="${1:-100000}"; requests="${2:-200}"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  nice dotnet build src/Drydock.Cli -c Release -nologo -v quiet > /dev/null
  nice dotnet build bench/Drydock.Benchmarks -c Release -nologo -v quiet > /dev/null
fi
cli=(dotnet "$root/src/Drydock.Cli/bin/Release/net10.0/drydock.dll")
bench=(dotnet "$root/bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll")
work=$(mktemp -d)
export DRYDOCK_STATE_HOME="$work/state"
gateway=
pg="/tmp/pg-walk-$$"   # outside $work: the postgres user must reach it
cleanup() {
  [ -n "$gateway" ] && kill "$gateway" 2> /dev/null || true
  [ -d "$pg" ] && tests/services/postgres.sh stop "$pg"
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

percentiles() { # reads seconds, one a line; prints p50, p99 and max in ms
  sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d requests)\n", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.99 + 0.5)], v[NR], NR }'
}

serve() { # NAME PROJECT KEY WALK_EVERY_LINE
  local name=$1 project=$2 key=$3 log="$work/$1-serve.log" started
  printf '%s' "$4" > "$project/drydock.yaml.gateway"
  cat "$project/drydock.yaml.base" "$project/drydock.yaml.gateway" > "$project/drydock.yaml"
  started=$(date +%s.%N)
  (cd "$project" && exec "${cli[@]}" serve --upstream http://127.0.0.1:9/v1 --listen "http://127.0.0.1:$port" > /dev/null 2> "$log") &
  gateway=$!
  until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do
    kill -0 "$gateway" 2> /dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.05
  done
  echo "  serve ($name): listening $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after start (the whole walk at start included)"
  sleep 1
  for _ in $(seq "$requests"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $key" "http://127.0.0.1:$port/admin/deployments"
  done > "$work/$name.times"
  grep -v '^200 ' "$work/$name.times" | head -3 | sed 's/^/  NOT 200: /' || true
  echo "  admin API, GET /admin/deployments ($name): $(awk '{ print $2 }' "$work/$name.times" | percentiles)"
  if [ -n "$4" ]; then # wait for a background walk to finish (up to 3 minutes) to report its time
    for _ in $(seq 1800); do grep -q '"event":4[78]' "$log" && break; sleep 0.1; done
  fi
  kill "$gateway"; wait "$gateway" 2> /dev/null || true; gateway=
  local walks
  walks=$(grep -o '"the whole audit log was walked: [0-9]* entries in [0-9]* ms"' "$log" | grep -o 'in [0-9]* ms' | grep -o '[0-9]*' || true)
  if [ -n "$walks" ]; then
    echo "  background whole walks during it: $(echo "$walks" | wc -l), each $(echo "$walks" | sort -n | head -1)–$(echo "$walks" | sort -n | tail -1) ms (median $(echo "$walks" | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR / 2 + 0.5)] }') ms)"
  else
    echo "  background whole walks during it: none"
  fi
  grep -i '"level":"Error"' "$log" | head -3 | sed 's/^/  ERROR: /' || true
}

run() { # NAME REGISTRY_YAML_LINE LOCATION
  local name=$1 project="$work/$1" key
  mkdir -p "$project"
  printf '%s' "$2" > "$project/drydock.yaml.base"
  cp "$project/drydock.yaml.base" "$project/drydock.yaml"
  key=$(cd "$project" && "${cli[@]}" keys create --name bench --admin 2> /dev/null)
  echo "== $name: $entries audit entries"
  "${bench[@]}" audit-fill "${3:-$project/.drydock/registry.db}" "$entries" | sed 's/^/  /'
  (cd "$project" && /usr/bin/time -f "  drydock audit verify: %e s wall, %U s user CPU, %M KB peak" "${cli[@]}" audit verify > /dev/null 2> "$work/verify.err") || { cat "$work/verify.err" >&2; exit 1; }
  tail -n 1 "$work/verify.err"
  serve "$name-walk-every-1s" "$project" "$key" $'gateway:\n  chain-walk-every: 1\n'
  serve "$name-walk-default" "$project" "$key" ""
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
run sqlite "" ""
if [ "${SKIP_POSTGRES:-0}" != 1 ]; then
  location=$(DRYDOCK_TEST_PG_PORT="${DRYDOCK_TEST_PG_PORT:-$((port + 1))}" tests/services/postgres.sh start "$pg")
  run postgresql "registry: \"$location\""$'\n' "$location"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
