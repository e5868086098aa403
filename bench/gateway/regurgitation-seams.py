#!/usr/bin/env python3
"""Rules tried against the tripwire's false alarms on seams, on the same labelled answers as `regurgitation-quality`.

usage: regurgitation-seams.py TRAIN HELD-OUT [SEED ...]   (default seeds 1 2 3)

A model of RegurgitationIndex (5-grams of words, runs of 4, an n-gram held by more than 4 training records or by the
reference half of the held-out records left out) and of the bench's answers (planted runs of 12 and 20 words and whole
records between held-out text; 1,000 answers of 6 common sentences), so that rules can be compared without changing
the index format. Python's random generator is not .NET's: the planted runs differ from the bench's, so compare the
rows here with each other (the `now` row is the rule in the product), not with the bench's table.

Rules:
  now        a run of 4 consecutive n-grams of one record, anywhere in it (the product's rule)
  order      the n-grams must also follow one another in the record (each entry with its position)
  sentences  a run whose every word lies in two whole sentences of the record held by more than 4 training records
             (a seam) is no hit, unless a second such run of the record follows at the record's own distance
  neighbours as `sentences`, but a seam run is a hit unless the answer puts a common sentence right beside it
And, for each seed, how many planted hits of the `now` rule are made only of sentences held by more than 4 training
records: word for word what an answer made of common sentences can say, so no rule over the run's words keeps them
and drops those answers.
"""
import json, random, re, sys
from collections import Counter, defaultdict

N, K, MAX = 5, 4, 4
WORD = re.compile(r"[^\W_]+")
SENTENCE = re.compile(r"(?<=[.?!])\s+|\n")


def texts(path):
    out = []
    for line in open(path, encoding="utf-8"):
        parts = []

        def walk(o, key=None):
            if isinstance(o, dict):
                for k, v in o.items():
                    walk(v, k)
            elif isinstance(o, list):
                for v in o:
                    walk(v, key)
            elif isinstance(o, str) and key not in ("id", "role", "from"):
                parts.append(o)

        walk(json.loads(line))
        out.append("\n".join(parts))
    return out


def words(t):
    return [(m.group().lower(), m.start(), m.end()) for m in WORD.finditer(t)]


def spans(t):
    out, pos = [], 0
    for m in SENTENCE.finditer(t):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(t)))
    return [(a, b) for a, b in out if t[a:b].strip()]


def norm(s):
    return " ".join(w for w, _, _ in words(s))


class Index:
    def __init__(self, members, reference):
        ordinary = set()
        for t in reference:
            w = [x[0] for x in words(t)]
            ordinary.update(tuple(w[i:i + N]) for i in range(len(w) - N + 1))
        # n-gram -> [(record, every position of it in the record)]
        holders = defaultdict(dict)
        for r, t in enumerate(members):
            w = [x[0] for x in words(t)]
            for i in range(len(w) - N + 1):
                g = tuple(w[i:i + N])
                if g not in ordinary:
                    holders[g].setdefault(r, []).append(i)
        self.entries = {g: list(v.items()) for g, v in holders.items() if len(v) <= MAX}
        counts = Counter()
        for t in members:
            counts.update({norm(t[a:b]) for a, b in spans(t)})
        self.common = {s for s, c in counts.items() if c > MAX}
        self.seams = set()
        for r, t in enumerate(members):
            ws = words(t)
            inside = [any(a <= s and e <= b and norm(t[a:b]) in self.common for a, b in spans(t)) for _, s, e in ws]
            for i in range(len(ws) - N + 1):
                g = tuple(w for w, _, _ in ws[i:i + N])
                if g in self.entries and all(inside[i:i + N]):
                    self.seams.add((g, r))

    def find(self, text, rule):
        ws = words(text)
        sents = [(a, b, norm(text[a:b])) for a, b in spans(text)]

        def sentence(ch):
            return next((j for j, (a, b, _) in enumerate(sents) if a <= ch < b), -1)

        def common(j):
            return 0 <= j < len(sents) and sents[j][2] in self.common

        prev, seam_runs = {}, []
        for i in range(len(ws) - N + 1):
            g, cur = tuple(w for w, _, _ in ws[i:i + N]), {}
            for r, places in self.entries.get(g, []):
                own = rule in ("now", "order") or (g, r) not in self.seams
                run, follow = 1, places
                if r in prev and rule == "order":
                    # only where the n-gram follows the previous one in the record (each entry with its positions)
                    after = [q for q in places if q - 1 in prev[r][1]]
                    if after:
                        run, follow = prev[r][0] + 1, after
                elif r in prev:
                    run, own = prev[r][0] + 1, own or prev[r][2]
                if run >= K and own:
                    return r
                if run == K and rule in ("sentences", "neighbours"):
                    # a run of seams alone: a hit when a second one of the record follows at the record's own distance
                    start, where = i - K + 1, places[0] - K + 1
                    if any(q == r and start > last and where - w0 == start - first for q, first, last, w0 in seam_runs):
                        return r
                    seam_runs.append((r, start, i, where))
                    if rule == "neighbours" and not (common(sentence(ws[start][1]) - 1) or common(sentence(ws[i + N - 1][1]) + 1)):
                        return r
                cur[r] = (run, follow, own)
            prev = cur
        return None


def measure(train, held, seed):
    members, others = texts(train), texts(held)
    random.Random(seed + 1).shuffle(others)
    reference, others = others[:len(others) // 2], others[len(others) // 2:]
    index = Index(members, reference)
    rnd = random.Random(seed)
    planted = []
    for length in (8, 12, 20, 0):
        for r, t in enumerate(members):
            toks = [(m.start(), m.end()) for m in re.finditer(r"\S+", t)]
            if length and len(toks) < length:
                continue
            s = 0 if length == 0 else rnd.randrange(len(toks) - length + 1)
            run = toks[s:len(toks) if length == 0 else s + length]
            f1, f2 = others[rnd.randrange(len(others))], others[rnd.randrange(len(others))]
            tail = f1 if len(f1) <= 80 else f1[f1.index(" ", len(f1) - 80) + 1:]
            head = f2 if len(f2) <= 80 else f2[:max(0, f2.rfind(" ", 0, 80))]
            inside = all(any(a <= x and y <= b and norm(t[a:b]) in index.common for a, b in spans(t)) for x, y in run)
            planted.append((length, r, tail + " " + " ".join(t[a:b] for a, b in run) + " " + head, inside))
    sentences = Counter()
    for t in members:
        sentences.update({x.strip() for x in SENTENCE.split(t) if len(x.strip().split(" ")) >= 5})
    pool = sorted(x for x, c in sentences.items() if c > MAX)
    answers = [" ".join(pool[rnd.randrange(len(pool))] for _ in range(6)) for _ in range(1000)]
    for rule in ("now", "order", "sentences", "neighbours"):
        row = []
        for length in (8, 12, 20, 0):
            cases = [p for p in planted if p[0] == length]
            row.append(f"{sum(index.find(a, rule) == r for _, r, a, _ in cases) / len(cases):6.1%}")
        row.append(f"{sum(index.find(t, rule) is not None for t in others) / len(others):6.1%}")
        row.append(f"{sum(index.find(a, rule) is not None for a in answers) / len(answers):6.1%}")
        print(f"seed {seed} {rule:<10} " + " ".join(row))
    overlap = []
    for length in (12, 20, 0):
        cases = [p for p in planted if p[0] == length]
        same = sum(inside and index.find(a, "now") == r for _, r, a, inside in cases)
        overlap.append(f"{length or 'whole'}: {same} of {len(cases)} ({same / len(cases):.1%})")
    print(f"seed {seed} planted hits made only of common sentences: " + ", ".join(overlap))


if __name__ == "__main__":
    train, held = sys.argv[1], sys.argv[2]
    print(f"{train}: rule, then 8 words, 12 words, 20 words, whole record, held-out records hit, common sentences hit")
    for seed in [int(s) for s in sys.argv[3:]] or [1, 2, 3]:
        measure(train, held, seed)
