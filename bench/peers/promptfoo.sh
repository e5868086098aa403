#!/usr/bin/env bash
# promptfoo (npm, pinned in package.json) and drydock eval against the same fast local endpoint (the gateway
# benchmarks' upstream, its own process), on the same machine: the built-in single-turn probes repeated to PROBES,
# concurrency 32, promptfoo asserting what drydock's marker and refusal judges check. Also tries promptfoo's red-team
# generation with remote generation disabled, to see whether it works offline.
# Usage: bench/peers/promptfoo.sh [PROBES]   (npm install in bench/peers first)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
probes="${1:-2000}"
bench="dotnet $here/bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll"
work="$(mktemp -d)"
dotnet build "$here/bench/Drydock.Benchmarks" -c Release -nologo -v quiet > /dev/null
$bench gateway-upstream http://127.0.0.1:18000 > /dev/null 2>&1 &
upstream=$!
trap 'kill $upstream 2> /dev/null; rm -rf "$work"' EXIT
sleep 3
export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION=true PROMPTFOO_CONFIG_DIR="$work/pf-home"
$bench promptfoo-config "$work/promptfooconfig.json" http://127.0.0.1:18000/v1 "$probes"

echo "== drydock eval (eval-speed: the same probes, every judge on, concurrency 32)"
$bench eval-speed http://127.0.0.1:18000/v1 "$probes" --single-turn

echo "== promptfoo eval, concurrency 32"
cd "$here/bench/peers"
/usr/bin/time -f "promptfoo: %e s wall, %U s user, %S s system, %M KB peak" \
  npx promptfoo eval -c "$work/promptfooconfig.json" -j 32 --no-cache --no-progress-bar --no-table --no-write -o "$work/results.json" > "$work/eval.log" 2>&1
tail -5 "$work/eval.log"
node -e 'const s=require(process.argv[1]).results.stats; console.log(`promptfoo: ${s.successes} passed, ${s.failures} failed, ${s.errors} errors, ${s.tokenUsage.numRequests} requests`)' "$work/results.json"

echo "== promptfoo redteam generate (remote generation disabled, no network; harmful:* plugins refuse to run without it)"
cat > "$work/redteam.yaml" << YAML
targets:
  - id: openai:chat:m
    config: { apiBaseUrl: http://127.0.0.1:18000/v1, apiKey: unused }
redteam:
  purpose: a bank's support assistant
  numTests: 2
  provider:
    id: openai:chat:m
    config: { apiBaseUrl: http://127.0.0.1:18000/v1, apiKey: unused }
  plugins: [pii, { id: prompt-extraction, config: { systemPrompt: "You are a support assistant." } }]
  strategies: [base64, rot13, leetspeak]
YAML
timeout 300 npx promptfoo redteam generate -c "$work/redteam.yaml" -o "$work/redteam-tests.yaml" > "$work/redteam.log" 2>&1
echo "exit $?"; tail -15 "$work/redteam.log"
[ -f "$work/redteam-tests.yaml" ] && echo "generated tests: $(grep -c 'vars:' "$work/redteam-tests.yaml")"
