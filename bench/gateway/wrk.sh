#!/usr/bin/env bash
# Load comparison on loopback, one run, same machine: the upstream directly, nginx proxy_pass to it, and the
# Drydock gateway with every guard on. Needs Debian's wrk and nginx (installed when missing).
# Usage: bench/gateway/wrk.sh [DURATION_S] [CONNECTIONS] [RATE]   (RATE: requests/s for the latency run, wrk2 not needed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
duration="${1:-10}"; connections="${2:-32}"
command -v wrk > /dev/null && command -v nginx > /dev/null || apt-get install -y -q wrk nginx > /dev/null
dotnet build bench/Drydock.Benchmarks -c Release -nologo -v quiet > /dev/null
keyfile=$(mktemp)
dotnet bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll gateway-serve "$keyfile" > /dev/null &
bench=$!
nginx -c "$PWD/bench/gateway/nginx.conf"
trap 'kill $bench 2>/dev/null; nginx -c "$PWD/bench/gateway/nginx.conf" -s stop 2>/dev/null; rm -f "$keyfile"' EXIT
for _ in $(seq 50); do [ -s "$keyfile" ] && break; sleep 0.2; done
export DRYDOCK_KEY="$(cat "$keyfile")"
for target in "upstream 18000" "nginx 18081" "drydock 18080"; do
  set -- $target
  wrk -t2 -c"$connections" -d2s -s bench/gateway/post.lua "http://127.0.0.1:$2/v1/chat/completions" > /dev/null   # warm-up
  echo "== $1"
  wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/gateway/post.lua "http://127.0.0.1:$2/v1/chat/completions" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx"
done
