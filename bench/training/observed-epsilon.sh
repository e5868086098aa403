#!/usr/bin/env bash
# The empirical privacy audit on the demo's three models, seed by seed: rushed (full fine-tuning, raw data), hardened
# (LoRA, cleaned data) and private (LoRA with DP-SGD at ε = EPSILON on the cleaned data). For each model: the DP budget ε
# recorded in its signed statement (private only) and the observed lower bounds on ε from the membership attack and from
# the canaries (CANARIES planted 10× each; the audit needs several per repetition count for a bound above 0).
# Usage: bench/training/observed-epsilon.sh [WORKDIR] [EPSILON] [CANARIES] [SEED...]
#   defaults: drydock-privacy-audit 8 8 7 1 2   (about 25 minutes on 2 shared cores; the DP runs are most of it)
# DRYDOCK: the CLI to run (default: the ./drydock launcher), e.g. "dotnet src/Drydock.Cli/bin/Release/net10.0/drydock.dll".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${1:-$here/drydock-privacy-audit}"
epsilon="${2:-8}"
canaries="${3:-8}"
shift $(( $# < 3 ? $# : 3 ))
seeds=("${@:-7 1 2}")
args=()
for s in ${seeds[*]}; do args+=(--seed "$s"); done
start=$(date +%s)
rc=0
${DRYDOCK:-"$here/drydock"} demo --workdir "$work" --private "$epsilon" --canaries "$canaries" "${args[@]}" || rc=$?
echo "demo exit $rc after $(( $(date +%s) - start )) s"
# Each model's audit lines and the commands that produced them (from the demo's log of every command).
echo
echo "Observed ε per model (the commands as the demo ran them, in $work):"
awk '/^\$ .*drydock train run/ { cmd = $0 }
     /differential privacy: ε/ { print cmd; print "    " $0 }
     /^\$ .*drydock eval (membership|memorization)/ { cmd = $0 }
     /^(canary audit|privacy audit):/ && cmd != "" { print cmd; print "    " $0; cmd = "" }' "$work/demo.log"
exit $rc
