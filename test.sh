#!/usr/bin/env bash
# Runs every test of the solution and ends with one line: "N passed, N failed".
# Installs and starts what the tests need first: a throw-away PostgreSQL for the registry tests and a
# throw-away Redis for the gateway's shared-state tests (Debian's postgresql and redis-server packages,
# installed if missing; stopped and deleted at the end), and Debian's chromium for the tests that
# render HTML pages in a real headless browser.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results=.test-results
rm -rf "$results"

if ! tests/services/chromium.sh > /dev/null; then
  echo "chromium could not be installed: the browser tests will fail" >&2
fi
export DRYDOCK_REQUIRE_BROWSER=1

# The reference trainer's tests train a tiny model for real: Debian's python3-torch and an optimised BLAS.
if ! DRYDOCK_PYTHON="$(src/Drydock.Training/Reference/setup.sh)"; then
  echo "python3-torch could not be installed: the reference trainer's tests will fail" >&2
fi
export DRYDOCK_PYTHON

pgdir="${TMPDIR:-/tmp}/drydock-test-pg-$$"
redisdir="${TMPDIR:-/tmp}/drydock-test-redis-$$"
trap 'tests/services/postgres.sh stop "$pgdir" > /dev/null 2>&1; tests/services/redis.sh stop "$redisdir" > /dev/null 2>&1' EXIT
if DRYDOCK_TEST_POSTGRES="$(tests/services/postgres.sh start "$pgdir")"; then
  export DRYDOCK_TEST_POSTGRES DRYDOCK_REQUIRE_POSTGRES=1
else
  echo "PostgreSQL could not be started: its registry tests will fail" >&2
  export DRYDOCK_REQUIRE_POSTGRES=1
fi

if DRYDOCK_TEST_REDIS="$(tests/services/redis.sh start "$redisdir")"; then
  export DRYDOCK_TEST_REDIS
else
  echo "Redis could not be started: the gateway's shared-state tests will fail" >&2
fi
export DRYDOCK_REQUIRE_REDIS=1

if ! dotnet build Drydock.slnx -c Release -nologo -v quiet; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test Drydock.slnx -c Release --no-build -nologo --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(echo "$counters" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  f=$(echo "$counters" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done

# Every fuzz target replays its corpus (the seeds and each crash found, now fixed): one more test of the run.
if bench/fuzz/Drydock.Fuzz/bin/Release/net10.0/Drydock.Fuzz smoke bench/fuzz/corpus; then
  passed=$((passed + 1))
else
  echo "fuzz smoke failed: a corpus input crashes, hangs or breaks a property of its target" >&2
  failed=$((failed + 1))
  status=1
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "$passed passed, $failed failed"
exit "$status"
