"""Checks that DP-SGD's per-example clipping in the reference trainer bounds one record's influence.

Run as: python3 dp_clipping_check.py PATH/TO/train.py  (from Drydock.Training.Tests). Exits 0 and prints one JSON
line when every check holds; an AssertionError (exit 1) names the one that did not.

For neighbouring datasets D and D' = D plus one outlier record (random bytes: a large gradient), the clipped sums
differ by exactly the outlier's clipped gradient, whose norm is at most C: for LoRA and full fine-tuning, with C small
enough that every record is clipped and with C large enough that none is.
"""
import importlib.util
import json
import random
import sys

import torch

spec = importlib.util.spec_from_file_location("train", sys.argv[1])
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)

torch.manual_seed(3)
rng = random.Random(3)
config = {"layers": 1, "heads": 2, "width": 32, "context": 64}
records = [train.encode(f"Open the app and choose card {i}.", 64) for i in range(6)]
outlier = train.encode("".join(chr(rng.randrange(33, 127)) for _ in range(60)), 64)
report = {}
for method in ("lora", "full"):
    model = train.GPT(config)
    train.apply_method(model, {"method": method, "lora": {"rank": 2, "alpha": 4, "dropout": 0}})
    model.eval()
    trainable = [q for q in model.parameters() if q.requires_grad]
    raw, _, _ = train.clipped_sum(model, trainable, [outlier], 1e9)
    raw_norm = torch.sqrt(sum((g ** 2).sum() for g in raw)).item()
    for clip in (raw_norm / 100, raw_norm * 10):
        without, _, _ = train.clipped_sum(model, trainable, records, clip)
        with_outlier, _, _ = train.clipped_sum(model, trainable, records + [outlier], clip)
        diff = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(with_outlier, without))).item()
        assert diff <= clip * (1 + 1e-4), f"{method}: one record moved the clipped sum by {diff}, more than C = {clip}"
        expected = min(clip, raw_norm)
        assert diff >= expected * 0.999, f"{method}: one record moved the clipped sum by {diff}, expected {expected} (clipping to C, not dropping)"
        report[f"{method}-C{clip:.3g}"] = round(diff, 6)
print(json.dumps(report))
