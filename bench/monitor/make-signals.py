#!/usr/bin/env python3
"""Writes a synthetic gateway signal log for measuring `drydock monitor` at scale.

usage: make-signals.py FOLDER [ROWS] [END]   (default 10,000,000 rows ending now, UTC)

The rows cover the 8 days before END (a 7-day baseline and a 24-hour window) in one-minute buckets, spread over
1,000 keys, 4 aliases and 2 tiers, in the signal log's own format (one signals-YYYY-MM-DD.jsonl per day), with
day/night volume, findings, refusals, histograms and 40 template clusters. Deterministic (seeded).
"""
import os, random, sys, time

folder = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
end = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
os.makedirs(folder, exist_ok=True)
rng = random.Random(7)
minutes = 8 * 24 * 60
start = (end // 60 - minutes) * 60
per_minute = rows / minutes
keys = [f"ddk_k{i:05d}" for i in range(1000)]
aliases = ["helpdesk", "summarizer", "coder", "tiny"]
templates = [f"{rng.getrandbits(32):08x}" for _ in range(40)]
types = ["email", "phone-number", "prompt-injection", "aws-access-key", "iban"]
written = 0
out = None
day = None
for m in range(minutes):
    at = start + m * 60
    d = time.strftime("%Y-%m-%d", time.gmtime(at))
    if d != day:
        if out: out.close()
        out = open(os.path.join(folder, f"signals-{d}.jsonl"), "a", buffering=1 << 20)
        day = d
    # day/night: twice the rows at 14:00 as at 02:00
    hour = (at // 3600) % 24
    n = int(per_minute * (1 + 0.33 * (1 - abs(hour - 14) / 12)) / 1.165 + rng.random())
    n = min(n, rows - written)
    lines = []
    for _ in range(n):
        req = rng.randint(1, 12)
        parts = [f'{{"at":{at},"alias":"{aliases[rng.randrange(4)]}","tier":"{"internal" if rng.random() < 0.7 else "public"}","key":"{keys[rng.randrange(1000)]}","requests":{req},"tokens":{req * rng.randint(80, 400)},"latencyMs":{req * rng.randint(40, 900)}']
        if rng.random() < 0.01: parts.append(',"upstreamErrors":1')
        ans = req
        ref = sum(1 for _ in range(req) if rng.random() < 0.05)
        parts.append(f',"answers":{ans}')
        if ref: parts.append(f',"refusals":{ref}')
        if rng.random() < 0.08:
            t = types[rng.randrange(5)]
            parts.append(f',"inputFlaggedRequests":1,"inputFlagged":{{"{t}":1}}')
        if rng.random() < 0.03:
            parts.append(',"extractionScored":1')
        pl = [0] * 12
        lt = [0] * 12
        for _ in range(req):
            pl[min(11, int(rng.lognormvariate(5, 0.8)).bit_length())] += 1
            lt[min(11, int(rng.lognormvariate(6, 0.6)).bit_length())] += 1
        parts.append(',"promptLength":[' + ",".join(map(str, pl)) + '],"latency":[' + ",".join(map(str, lt)) + ']')
        tpl = {}
        for _ in range(req):
            c = templates[min(39, int(rng.expovariate(0.15)))]
            tpl[c] = tpl.get(c, 0) + 1
        parts.append(',"templates":{' + ",".join(f'"{k}":{v}' for k, v in tpl.items()) + '}}\n')
        lines.append("".join(parts))
    out.write("".join(lines))
    written += n
    if written >= rows: break
if out: out.close()
print(f"{written} rows in {folder}", file=sys.stderr)
