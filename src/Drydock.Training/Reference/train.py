"""Drydock's reference trainer: a small byte-level GPT, pre-trained or fine-tuned (LoRA or full), exported to ONNX.

Run by `drydock train run --trainer reference` (and by `drydock demo`), inside the isolated run directory:

    python3 train.py --plan plan.json --train train.jsonl --held-out held-out.jsonl --out OUT [--base base.pt]

Records are JSON lines with a "text" field. Each record is one sequence: the start byte 0x02, the text's UTF-8
bytes, the end byte 0x03, cut at the context length. Without --base a new model is initialised (pre-training).
Writes OUT/model.pt (weights only, loaded back with weights_only=True), OUT/model.onnx (input_ids int64 [batch,
seq] -> logits float32 [batch, seq, 256]; LoRA weights merged), OUT/metrics.json, and one JSON line per epoch
on stdout. Needs only PyTorch (Debian's python3-torch).

With a "privacy" section in the plan (noiseMultiplier, samplingRate, maxGradNorm: filled in by `drydock train plan`
from the accountant) it trains with DP-SGD: Poisson sampling, per-example clipping, Gaussian noise; metrics.json then
records the steps taken, from which Drydock's accountant computes the epsilon spent.
"""

import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BOS, EOS, PAD = 2, 3, 0
DEFAULT_CONFIG = {"layers": 3, "heads": 4, "width": 96, "context": 256}


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update scaled by alpha / rank (Hu et al., 2021)."""

    def __init__(self, base, rank, alpha, dropout):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        if self.base.bias is not None:
            self.base.bias.requires_grad_(False)
        self.a = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = alpha / rank
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.base(x) + (self.dropout(x) @ self.a.t() @ self.b.t()) * self.scale

    def merged(self):
        layer = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        with torch.no_grad():
            layer.weight.copy_(self.base.weight + (self.b @ self.a) * self.scale)
            if self.base.bias is not None:
                layer.bias.copy_(self.base.bias)
        return layer


class Block(nn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.width = width
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, 4 * width)
        self.out = nn.Linear(4 * width, width)
        self.register_buffer("mask", torch.tril(torch.ones(context, context)).view(1, 1, context, context), persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.width // self.heads))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf")).softmax(dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        w, n = config["width"], config["context"]
        self.tokens = nn.Embedding(256, w)
        self.positions = nn.Embedding(n, w)
        self.blocks = nn.ModuleList(Block(w, config["heads"], n) for _ in range(config["layers"]))
        self.ln = nn.LayerNorm(w)
        self.head = nn.Linear(w, 256, bias=False)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.tokens(ids) + self.positions(torch.arange(t, device=ids.device)).unsqueeze(0)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


def encode(text, context):
    data = [BOS] + list(text.encode("utf-8"))[: context - 2] + [EOS]
    return data


def read(path, context):
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"{path}:{number}: field text: {e}")
            rows.append(encode(text, context))
    if not rows:
        sys.exit(f"{path}: no records")
    return rows


def batches(rows, size, shuffle, rng):
    order = list(range(len(rows)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), size):
        yield pad([rows[j] for j in order[i : i + size]])


def loss_of(model, rows, size):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, targets in batches(rows, size, False, None):
            logits = model(ids)
            total += F.cross_entropy(logits.reshape(-1, 256), targets.reshape(-1), ignore_index=-100, reduction="sum").item()
            count += (targets != -100).sum().item()
    return total / max(1, count)


def pad(chunk):
    longest = max(len(r) for r in chunk)
    ids = torch.full((len(chunk), longest), PAD, dtype=torch.long)
    for k, r in enumerate(chunk):
        ids[k, : len(r)] = torch.tensor(r)
    targets = ids[:, 1:].clone()
    for k, r in enumerate(chunk):
        targets[k, len(r) - 1 :] = -100
    return ids[:, :-1], targets


def clipped_sum(model, trainable, chunk, clip):
    """DP-SGD's per-example step (Abadi et al. 2016): each record's gradient (a microbatch of one) is scaled to an L2 norm
    of at most `clip` over all trainable weights, then summed; one record moves the sum by at most `clip`."""
    total = [torch.zeros_like(q) for q in trainable]
    loss_sum, tokens = 0.0, 0
    for row in chunk:
        ids, targets = pad([row])
        loss = F.cross_entropy(model(ids).reshape(-1, 256), targets.reshape(-1), ignore_index=-100)
        grads = torch.autograd.grad(loss, trainable)
        norm = torch.sqrt(sum((g.detach() ** 2).sum() for g in grads))
        factor = min(1.0, clip / (norm.item() + 1e-6))
        for t, g in zip(total, grads):
            t.add_(g, alpha=factor)
        n = (targets != -100).sum().item()
        loss_sum += loss.item() * n
        tokens += n
    return total, loss_sum, tokens


def dp_epoch(model, trainable, optimizer, rows, privacy, rng, gen):
    """One epoch of DP-SGD as the accountant assumes: ceil(1/q) steps, each a Poisson sample (every record in with
    probability q, independently), per-example clipping to C, Gaussian noise N(0, (sigma*C)^2) on the sum, divided by the
    expected batch size q*N (Opacus's convention for Poisson sampling). A step whose sample is empty still adds noise."""
    q, sigma, clip = privacy["samplingRate"], privacy["noiseMultiplier"], privacy["maxGradNorm"]
    expected = q * len(rows)
    loss_sum, tokens, steps = 0.0, 0, 0
    for _ in range(math.ceil(1 / q - 1e-9)):
        chunk = [r for r in rows if rng.random() < q]
        total, s, n = clipped_sum(model, trainable, chunk, clip)
        loss_sum, tokens = loss_sum + s, tokens + n
        for param, t in zip(trainable, total):
            param.grad = (t + torch.normal(0.0, sigma * clip, size=t.shape, generator=gen)) / expected
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        steps += 1
    return loss_sum, tokens, steps


def read_privacy(plan):
    privacy = plan.get("privacy")
    if privacy is None:
        return None
    try:
        out = {k: float(privacy[k]) for k in ("noiseMultiplier", "samplingRate", "maxGradNorm")}
    except (KeyError, TypeError, ValueError) as e:
        sys.exit(f"plan.json: field privacy: noiseMultiplier, samplingRate and maxGradNorm are required numbers ({e})")
    if out["noiseMultiplier"] <= 0 or out["maxGradNorm"] <= 0 or not 0 < out["samplingRate"] <= 1:
        sys.exit("plan.json: field privacy: noiseMultiplier and maxGradNorm must be positive and samplingRate in (0, 1]")
    return out


def apply_method(model, plan):
    method = plan.get("method", "full")
    if method == "full":
        for i in plan.get("frozenLayers", []):
            if i < len(model.blocks):
                model.blocks[i].requires_grad_(False)
        return
    if method != "lora":
        sys.exit(f"plan.json: field method: the reference trainer supports lora and full, not {method}")
    lora = plan.get("lora") or {}
    targets = lora.get("targetModules") or ["qkv", "proj"]
    model.requires_grad_(False)
    for i, block in enumerate(model.blocks):
        if i in plan.get("frozenLayers", []):
            continue
        for name in targets:
            if not hasattr(block, name):
                sys.exit(f"plan.json: field lora.targetModules: no module '{name}' (qkv, proj, fc, out)")
            setattr(block, name, LoRALinear(getattr(block, name), lora.get("rank", 8), lora.get("alpha", 16), lora.get("dropout", 0.05)))


def merge(model):
    for block in model.blocks:
        for name in ("qkv", "proj", "fc", "out"):
            layer = getattr(block, name)
            if isinstance(layer, LoRALinear):
                setattr(block, name, layer.merged())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--plan", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--held-out", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--base")
    p.add_argument("--threads", type=int, default=1, help="CPU threads (one is fastest for this model size; run trainings side by side instead)")
    args = p.parse_args()

    with open(args.plan, encoding="utf-8") as f:
        plan = json.load(f)
    seed = int(plan.get("seed", 42))
    random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, args.threads))

    if args.base:
        saved = torch.load(args.base, map_location="cpu", weights_only=True)
        config = {k: int(v) for k, v in saved["config"].items()}
        model = GPT(config)
        model.load_state_dict(saved["state"])
    else:
        config = dict(DEFAULT_CONFIG, **{k: int(v) for k, v in (plan.get("model") or {}).items()})
        model = GPT(config)
    apply_method(model, plan)

    train = read(args.train, config["context"])
    held = read(args.held_out, config["context"])
    trainable = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=float(plan.get("learningRate", 2e-4)), weight_decay=float(plan.get("weightDecay", 0.01)))
    early = plan.get("earlyStopping")
    patience = int(early["patience"]) if early else 0
    epochs = int(plan.get("epochs", 3))
    size = int(plan.get("batchSize", 8))
    rng = random.Random(seed)
    privacy = read_privacy(plan)
    gen = torch.Generator().manual_seed(seed)
    dp_steps = 0

    initial_held_loss = loss_of(model, held, 32)
    best, best_state, waited, history, tokens, seconds = float("inf"), None, 0, [], 0, 0.0
    stopped_early = False
    for epoch in range(1, epochs + 1):
        model.train()
        started, total, count = time.perf_counter(), 0.0, 0
        if privacy:
            total, count, steps = dp_epoch(model, trainable, optimizer, train, privacy, rng, gen)
            dp_steps += steps
        for ids, targets in ([] if privacy else batches(train, size, True, rng)):
            logits = model(ids)
            loss = F.cross_entropy(logits.reshape(-1, 256), targets.reshape(-1), ignore_index=-100)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            n = (targets != -100).sum().item()
            total += loss.item() * n
            count += n
        seconds += time.perf_counter() - started
        tokens += count
        held_loss = loss_of(model, held, 32)
        row = {"epoch": epoch, "trainLoss": round(total / max(1, count), 4), "heldOutLoss": round(held_loss, 4), "tokensPerSecond": round(count / max(1e-9, time.perf_counter() - started))}
        history.append(row)
        print(json.dumps(row), flush=True)
        if early:
            if held_loss < best - 1e-4:
                best, waited = held_loss, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= patience:
                    stopped_early = True
                    break
    if early and best_state is not None:
        model.load_state_dict(best_state)

    merge(model)
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    torch.save({"config": config, "state": model.state_dict()}, os.path.join(args.out, "model.pt"))
    example = torch.tensor([encode("hello", config["context"])], dtype=torch.long)
    torch.onnx.export(model, (example,), os.path.join(args.out, "model.onnx"), input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}, opset_version=14)
    with open(os.path.join(args.out, "model.json"), "w", encoding="utf-8") as f:
        json.dump({"kind": "drydock-byte-gpt", "bos": BOS, "eos": EOS, **config}, f)
    metrics = {
        "method": plan.get("method", "full"),
        "epochs": len(history),
        "stoppedEarly": stopped_early,
        "trainLoss": history[-1]["trainLoss"],
        "heldOutLoss": round(loss_of(model, held, 32), 4),
        "initialHeldOutLoss": round(initial_held_loss, 4),
        "bestHeldOutLoss": round(min(r["heldOutLoss"] for r in history), 4),
        "tokens": tokens,
        "tokensPerSecond": round(tokens / max(1e-9, seconds)),
        "trainableParameters": sum(q.numel() for q in trainable),
        "parameters": sum(q.numel() for q in model.parameters()),
        "history": history,
    }
    if privacy:
        # What was done, for the accountant (Drydock computes epsilon from these; the trainer does not).
        metrics["privacy"] = {**privacy, "steps": dp_steps, "sampling": "poisson", "clipping": "per-example"}
    with open(os.path.join(args.out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)


if __name__ == "__main__":
    main()
