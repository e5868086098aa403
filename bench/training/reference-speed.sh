#!/usr/bin/env bash
# The reference trainer's speed on this machine: tokens per second for full fine-tuning and for LoRA (rank 8 on
# the attention projections) of the default model (3 layers, width 96, context 256), one thread each, on the
# demo's pre-training corpus. Usage: bench/training/reference-speed.sh [DEMO_WORKDIR]   (run ./drydock demo first)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
demo="$(cd "${1:-$here/drydock-demo}" && pwd)"
python="$("$here/src/Drydock.Training/Reference/setup.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The corpus as the reference trainer reads it: one {"text": …} per line.
"$python" -c 'import json,sys; [print(json.dumps({"text": json.loads(l)["text"]})) for l in open(sys.argv[1])]' "$demo/data/corpus.jsonl" > "$work/train.jsonl"
head -200 "$work/train.jsonl" > "$work/held.jsonl"
echo '{"method": "full", "learningRate": 0.001, "epochs": 2, "batchSize": 16, "seed": 1}' > "$work/full.json"
echo '{"method": "lora", "lora": {"rank": 8, "alpha": 16, "dropout": 0.05}, "learningRate": 0.0003, "epochs": 2, "batchSize": 16, "seed": 1}' > "$work/lora.json"
for method in full lora; do
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$python" "$here/src/Drydock.Training/Reference/train.py" --plan "$work/$method.json" \
    --train "$work/train.jsonl" --held-out "$work/held.jsonl" --out "$work/$method" --base "$demo/base/model.pt" > /dev/null 2>&1
  "$python" -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%-5s %7d tokens/s  %7d of %d parameters trained  (%d tokens)" % (m["method"], m["tokensPerSecond"], m["trainableParameters"], m["parameters"], m["tokens"]))' "$work/$method/metrics.json"
done
