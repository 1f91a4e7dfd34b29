#!/usr/bin/env python3
"""Runs Python trafilatura (defaults) over the benchmark pages in one process, one thread.

Usage: trafilatura_run.py OUT.jsonl FILE.html.gz...
Writes {"input","text"} per line and prints the wall and CPU seconds and the pages/second of
the extraction loop (reading and gunzipping included, interpreter start-up and imports excluded).
"""
import gzip
import json
import sys
import time

import trafilatura


def main():
    out_path, files = sys.argv[1], sys.argv[2:]
    results = []
    start = time.perf_counter()
    start_cpu = time.process_time()
    for path in files:
        with open(path, "rb") as f:
            raw = f.read()
        if path.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = trafilatura.extract(raw) or ""
        results.append((path, text))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    with open(out_path, "w", encoding="utf-8") as out:
        for path, text in results:
            out.write(json.dumps({"input": path, "text": text}, ensure_ascii=False) + "\n")
    print(
        f"trafilatura pages={len(files)} seconds={elapsed:.3f} cpu_seconds={cpu:.3f} "
        f"pages_per_s={len(files) / elapsed:.1f}"
    )


if __name__ == "__main__":
    main()
