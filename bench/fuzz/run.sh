#!/usr/bin/env bash
# Coverage-guided fuzzing of Drydock's parsers of untrusted bytes with SharpFuzz and AFL++.
#
#   bench/fuzz/run.sh TARGET MINUTES     one target (bench/fuzz/run.sh list shows them)
#   bench/fuzz/run.sh all MINUTES        every target, MINUTES each, one after another
#   bench/fuzz/run.sh A,B,C MINUTES      these targets, MINUTES each, one after another
#   bench/fuzz/run.sh list
#
# Installs Debian's afl++ when it is missing, builds bench/fuzz/Drydock.Fuzz, instruments the product assemblies
# (the sharpfuzz tool pinned in dotnet-tools.json), seeds AFL++ from bench/fuzz/corpus/TARGET and runs afl-fuzz with
# a per-input time limit (FUZZ_TIMEOUT_MS, default 3000) and a memory limit (FUZZ_MEMORY_MB, default 1024, enforced
# as the .NET GC heap's hard limit: AFL's own -m cannot bound a .NET process, which reserves far more address space
# than it uses). Findings go to bench/out/fuzz/findings/TARGET (crashes/, hangs/, queue/); a summary line per target
# (executions, edges, crashes, hangs, minutes) is printed and appended to bench/out/fuzz/summary.tsv.
# Everything runs at nice 15 (FUZZ_NICE): a campaign yields the CPU to anything else on the machine.
# Reproduce a finding in process, with its stack trace (the uninstrumented build: the instrumented copy aborts outside AFL):
#   bench/out/fuzz/build/Drydock.Fuzz replay TARGET bench/out/fuzz/findings/TARGET/default/crashes/id:...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${FUZZ_OUT:-$repo/bench/out/fuzz}"
nice_level="${FUZZ_NICE:-15}"
timeout_ms="${FUZZ_TIMEOUT_MS:-3000}"
memory_mb="${FUZZ_MEMORY_MB:-1024}"
run() { nice -n "$nice_level" "$@"; }

target="${1:-}"
minutes="${2:-}"

ensure_afl() {
  command -v afl-fuzz > /dev/null && return
  echo "installing afl++ (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q afl++ > /dev/null 2>&1 || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q afl++ > /dev/null; }) >&2
  else
    sudo -n apt-get install -y -q afl++ > /dev/null >&2
  fi
}

# Build once; instrument a copy (sharpfuzz rewrites an assembly in place and refuses one it already rewrote).
# The build is skipped when no source is newer than the last one (on a loaded machine a build at nice 19 that
# changes nothing still takes minutes).
build() {
  mkdir -p "$out"
  (cd "$repo" && run dotnet tool restore > /dev/null)
  if [ ! -f "$out/build/Drydock.Fuzz.dll" ] || [ -n "$(find "$repo/src" "$here/Drydock.Fuzz" "$repo/Directory.Build.props" "$repo/Directory.Packages.props" \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.yaml' -o -name '*.json' \) -not -path '*/obj/*' -not -path '*/bin/*' \
      -newer "$out/build/Drydock.Fuzz.dll" -print -quit 2> /dev/null)" ]; then
    run dotnet build "$here/Drydock.Fuzz/Drydock.Fuzz.csproj" -c Release -o "$out/build" -nologo -v q > "$out/build.log" 2>&1 \
      || { cat "$out/build.log" >&2; exit 2; }
    touch "$out/build/Drydock.Fuzz.dll"
  fi
  local stamp="$out/inst/.instrumented"
  if [ ! -f "$stamp" ] || [ -n "$(find "$out/build" -name 'Drydock.*.dll' -newer "$stamp" -print -quit)" ]; then
    rm -rf "$out/inst"
    cp -r "$out/build" "$out/inst"
    for dll in "$out/inst"/Drydock.*.dll; do
      case "$(basename "$dll")" in Drydock.Fuzz.dll) continue ;; esac
      (cd "$repo" && run dotnet sharpfuzz "$dll" > /dev/null)
    done
    touch "$stamp"
  fi
}

stat_of() { sed -n "s/^$2 *: *//p" "$1" | head -1; }

campaign() {
  local name="$1" minutes="$2"
  local seeds="$here/corpus/$name" findings="$out/findings/$name"
  [ -d "$seeds" ] || { echo "$name: no seed corpus at $seeds" >&2; return 2; }
  mkdir -p "$findings"
  # -i - resumes a campaign from its own queue. -t is a fixed limit: AFL++ 4.x reads "N+" as "auto-calculate, at most
  # N", which set 80 ms from the seeds' calibration; any slower input (a GC, a first JIT of a path, a busy machine)
  # then timed out, AFL killed the .NET process and lost its fork server ("Unable to communicate with fork server").
  # A .NET process takes seconds to start on a loaded machine: AFL_FORKSRV_INIT_TMOUT gives it a minute.
  local input="$seeds"
  [ -d "$findings/default/queue" ] && input="-"
  echo "== $name: $minutes min, ${timeout_ms} ms per input, ${memory_mb} MiB heap" >&2
  AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 \
  AFL_AUTORESUME=1 AFL_FORKSRV_INIT_TMOUT=60000 DOTNET_GCHeapHardLimit="$(printf '0x%x' $((memory_mb * 1024 * 1024)))" DOTNET_TieredPGO=0 \
    run timeout $((minutes * 60 + 120)) afl-fuzz -i "$input" -o "$findings" -t "$timeout_ms" -m none -V $((minutes * 60)) \
      -- "$out/inst/Drydock.Fuzz" fuzz "$name" > "$findings/afl.log" 2>&1 || true
  local stats="$findings/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "$name: afl-fuzz did not start; see $findings/afl.log" >&2
    tail -20 "$findings/afl.log" >&2
    return 1
  fi
  local execs edges crashes hangs seconds
  execs="$(stat_of "$stats" execs_done)"
  edges="$(stat_of "$stats" edges_found)"
  crashes="$(stat_of "$stats" saved_crashes)"; crashes="${crashes:-$(stat_of "$stats" unique_crashes)}"
  hangs="$(stat_of "$stats" saved_hangs)"; hangs="${hangs:-$(stat_of "$stats" unique_hangs)}"
  seconds="$(stat_of "$stats" run_time)"
  printf '%-16s execs=%-10s edges=%-6s crashes=%-4s hangs=%-4s minutes=%s\n' "$name" "$execs" "$edges" "$crashes" "$hangs" "$(( ${seconds:-0} / 60 ))"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$execs" "$edges" "$crashes" "$hangs" "${seconds:-0}" >> "$out/summary.tsv"
}

case "$target" in
  list)
    build
    "$out/build/Drydock.Fuzz" list
    ;;
  "" | -h | --help)
    echo "usage: bench/fuzz/run.sh TARGET|all MINUTES | list" >&2
    exit 2
    ;;
  *)
    [[ "$minutes" =~ ^[0-9]+$ ]] && [ "$minutes" -gt 0 ] || { echo "MINUTES must be a positive whole number" >&2; exit 2; }
    ensure_afl
    build
    if [ "$target" = all ] || [[ "$target" == *,* ]]; then
      names="$("$out/build/Drydock.Fuzz" list)"
      [ "$target" = all ] || names="${target//,/ }"
      for name in $names; do
        "$out/build/Drydock.Fuzz" list | grep -qx "$name" || { echo "unknown target '$name'" >&2; exit 2; }
      done
      status=0
      for name in $names; do campaign "$name" "$minutes" || status=1; done
      exit "$status"
    fi
    "$out/build/Drydock.Fuzz" list | grep -qx "$target" || { echo "unknown target '$target'" >&2; exit 2; }
    campaign "$target" "$minutes"
    ;;
esac
