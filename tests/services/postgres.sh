#!/usr/bin/env bash
# Starts a throw-away PostgreSQL for the registry tests (installing Debian's postgresql if it is missing) and prints
# the Npgsql connection string on stdout. Usage: tests/services/postgres.sh start DIR | stop DIR
# Idempotent: 'start' on a running server only prints the connection string again.
set -euo pipefail
action="${1:?start|stop}"
dir="${2:?data folder}"
port="${DRYDOCK_TEST_PG_PORT:-55432}"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$action" = stop ]; then
  bin="$(bindir)"
  [ -n "$bin" ] && [ -f "$dir/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi

if [ -z "$(bindir)" ]; then
  echo "installing postgresql (Debian package) for the registry tests..." >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q postgresql > /dev/null 2>&1 || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql > /dev/null; }) >&2
  else
    sudo -n apt-get install -y -q postgresql > /dev/null >&2
  fi
fi
bin="$(bindir)"
[ -n "$bin" ] || { echo "postgresql is not installed and could not be installed" >&2; exit 1; }

if ! [ -f "$dir/data/PG_VERSION" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale > "$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
fi

if ! as_owner "$bin/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start > /dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
fi
echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true"
