"""The bench scripts' closing table: the RESULT lines of a file as one Markdown table.

Each line is `RESULT|scenario|herald|reference|ratio|target|verdict` (benches/run.sh, ceiling.sh).
Usage: python3 benches/table.py FILE
"""
import sys

rows = [l.rstrip("\n").split("|")[1:] for l in open(sys.argv[1]) if l.startswith("RESULT|")]
head = ["scenario", "herald", "reference", "ratio", "target", "verdict"]
rows = [head] + [r + [""] * (6 - len(r)) for r in rows]
widths = [max(len(r[i]) for r in rows) for i in range(6)]
for k, r in enumerate(rows):
    print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    if k == 0:
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
