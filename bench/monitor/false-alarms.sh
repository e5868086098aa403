#!/usr/bin/env bash
# The false-alarm rate per week of `drydock monitor --watch` and whether planted drift and abuse are found:
# `Drydock.Benchmarks monitor-replay WEEKS SEED` writes 8 days + WEEKS weeks of ordinary traffic (day/night 4:1,
# weekends 60 %) and one more day with a scraping key and a new template from 10:00, and checks it hourly as the
# watch does with the default monitor: settings (bench/Drydock.Benchmarks/MonitorReplay.cs). Then the CLI
# reads the same log end to end: the day before the plant must be quiet (exit 0), the day after it must cross
# extraction and templates (exit 1).
# Usage: bench/monitor/false-alarms.sh [WEEKS] [SEED]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
weeks="${1:-4}"; seed="${2:-7}"
nice dotnet build bench/Drydock.Benchmarks -c Release -nologo -v quiet > /dev/null
# The CLI: the launcher (./drydock, built once), or DRYDOCK="dotnet /abs/path/drydock.dll" for another build.
read -ra cli <<< "${DRYDOCK:-$PWD/drydock}"
"${cli[@]}" --version > /dev/null
folder=$(mktemp -d); trap 'rm -rf "$folder"' EXIT
echo "== uptime: $(uptime)"
nice dotnet bench/Drydock.Benchmarks/bin/Release/net10.0/Drydock.Benchmarks.dll monitor-replay "$weeks" "$seed" "$folder"
# The replay starts on 2026-01-05 (a Monday); ordinary traffic ends 8 + 7 × WEEKS days later, the plant is at 10:00.
ordinary_end=$(date -u -d "2026-01-05 + $(( 8 + 7 * weeks )) days" +%Y-%m-%dT00:00:00Z)
after=$(date -u -d "2026-01-05 + $(( 8 + 7 * weeks )) days + 20 hours" +%Y-%m-%dT%H:00:00Z)
status=0; "${cli[@]}" monitor --folder "$folder" --to "$ordinary_end" > "$folder/quiet.txt" || status=$?
echo "drydock monitor --to $ordinary_end (ordinary day): exit $status"
[ "$status" -eq 0 ] || { cat "$folder/quiet.txt"; exit 1; }
status=0; "${cli[@]}" monitor --folder "$folder" --to "$after" --format json > "$folder/planted.json" || status=$?
crossed=$(python3 -c 'import json,sys; print(" ".join(s["signal"] for s in json.load(open(sys.argv[1]))["signals"] if s["status"] == "drift"))' "$folder/planted.json")
echo "drydock monitor --to $after (10 h after the plant): exit $status, crossed: $crossed"
[ "$status" -eq 1 ] && [[ " $crossed " == *" extraction "* ]] && [[ " $crossed " == *" templates "* ]] || exit 1
echo "== uptime: $(uptime)"
