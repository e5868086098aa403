#!/usr/bin/env bash
# Starts a throw-away Redis for the gateway's shared-state tests (installing Debian's redis-server if it is
# missing) and prints its address (host:port) on stdout. Usage: tests/services/redis.sh start DIR | stop DIR
# Idempotent: 'start' on a running server only prints the address again.
set -euo pipefail
action="${1:?start|stop}"
dir="${2:?data folder}"
port="${DRYDOCK_TEST_REDIS_PORT:-56379}"

if [ "$action" = stop ]; then
  if [ -f "$dir/redis.pid" ]; then
    pid="$(cat "$dir/redis.pid")"
    kill "$pid" 2> /dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir" 2> /dev/null || true
  exit 0
fi

if ! command -v redis-server > /dev/null; then
  echo "installing redis-server (Debian package) for the gateway tests..." >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q redis-server > /dev/null 2>&1 || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server > /dev/null; }) >&2
  else
    sudo -n apt-get install -y -q redis-server > /dev/null >&2
  fi
fi
command -v redis-server > /dev/null || { echo "redis-server is not installed and could not be installed" >&2; exit 1; }

mkdir -p "$dir"
if ! { [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2> /dev/null; }; then
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" > /dev/null
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping > /dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping > /dev/null 2>&1 || { cat "$dir/redis.log" >&2; exit 1; }
fi
echo "127.0.0.1:$port"
