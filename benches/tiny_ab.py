#!/usr/bin/env python3
"""benches/tiny_per_mb.py for two builds, interleaved: each cell runs A then B, RUNS times;
medians. Inputs: benches/bounds.py's (seed 14), written to /tmp/b9 first by
`python3 -c "import bounds; bounds.make_inputs('/tmp/b9')"` in benches/.

    python3 benches/tiny_ab.py A B RUNS LIMITS   (LIMITS e.g. 64M,1G,128M,none)
"""
import os
import statistics
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_per_mb import one
A, B, runs, limits = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
inputs = {"ordinary": "/tmp/b9/ordinary.jsonl", "one-line": "/tmp/b9/oneline.jsonl", "six-word": "/tmp/b9/six.jsonl"}
root = tempfile.mkdtemp(dir="/tmp/b9")
print("| input | limit | MB | A wall ms/MB | A CPU ms/MB | A peak MiB | B wall ms/MB | B CPU ms/MB | B peak MiB | exit A/B |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
for limit in limits.split(","):
    extra = [] if limit == "none" else ["--memory-limit", limit]
    for name, path in inputs.items():
        mb = os.path.getsize(path) / 1e6
        ra, rb = [], []
        for _ in range(runs):
            ra.append(one(A, path, extra, root)); rb.append(one(B, path, extra, root))
        cell = []
        for rs in (ra, rb):
            cell += [f"{statistics.median(r[0] for r in rs)*1000/mb:,.0f}", f"{statistics.median(r[1] for r in rs)*1000/mb:,.0f}", str(max(r[2] for r in rs))]
        print(f"| {name} | {limit} | {mb:.1f} | " + " | ".join(cell) + f" | {max(r[3] for r in ra)}/{max(r[3] for r in rb)} |", flush=True)
