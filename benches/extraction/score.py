#!/usr/bin/env python3
"""Scores extractions with the article-extraction benchmark's metric (see the data README).

Usage: score.py GROUND_TRUTH.json PREDICTIONS.jsonl [--worst N] [--keys FILE]

PREDICTIONS.jsonl: one JSON object per line with "input" (a path whose file name is
`<key>.html.gz` or `<key>.html`) and "text". Prints F1, precision, recall and accuracy
over the pages of the ground truth (or only the keys listed in FILE, one per line).
"""
import json
import os
import re
import sys
from collections import Counter

TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text, n=4):
    tokens = TOKEN.findall(text or "")
    return tokens, Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)))


def page_scores(truth, pred):
    t_tokens, t = shingles(truth)
    p_tokens, p = shingles(pred)
    tp = fp = fn = 0
    for key in set(t) | set(p):
        a, b = t.get(key, 0), p.get(key, 0)
        tp += min(a, b)
        fp += max(0, b - a)
        fn += max(0, a - b)
    s = tp + fp + fn
    if s:
        tp, fp, fn = tp / s, fp / s, fn / s
    precision = 1.0 if fp == fn == 0 else (0.0 if tp + fp == 0 else tp / (tp + fp))
    recall = 1.0 if fp == fn == 0 else (0.0 if tp + fn == 0 else tp / (tp + fn))
    return precision, recall, t_tokens == p_tokens


def key_of(path):
    name = os.path.basename(path)
    for suffix in (".html.gz", ".html"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def main():
    args = sys.argv[1:]
    worst = 0
    keys = None
    if "--worst" in args:
        i = args.index("--worst")
        worst = int(args[i + 1])
        del args[i : i + 2]
    if "--keys" in args:
        i = args.index("--keys")
        keys = [k.strip() for k in open(args[i + 1]) if k.strip()]
        del args[i : i + 2]
    truth = json.load(open(args[0]))
    preds = {}
    for line in open(args[1], encoding="utf-8"):
        if line.strip():
            obj = json.loads(line)
            preds[key_of(obj["input"])] = obj.get("text") or ""
    keys = keys or sorted(truth)
    rows = []
    for key in keys:
        p, r, exact = page_scores(truth[key]["articleBody"], preds.get(key, ""))
        rows.append((key, p, r, exact))
    P = sum(r[1] for r in rows) / len(rows)
    R = sum(r[2] for r in rows) / len(rows)
    F1 = 2 * P * R / (P + R) if P + R else 0.0
    acc = sum(r[3] for r in rows) / len(rows)
    print(f"pages={len(rows)} F1={F1:.4f} precision={P:.4f} recall={R:.4f} accuracy={acc:.4f}")
    if worst:
        def f1(r):
            return 2 * r[1] * r[2] / (r[1] + r[2]) if r[1] + r[2] else 0.0
        for r in sorted(rows, key=f1)[:worst]:
            print(f"  {r[0]}  F1={f1(r):.3f} P={r[1]:.3f} R={r[2]:.3f}  {truth[r[0]]['url']}")


if __name__ == "__main__":
    main()
