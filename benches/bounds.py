#!/usr/bin/env python3
"""Issue 14 items 8 and 9: time per MB of tiny documents against ordinary
ones, and peak RSS of floods of small or identical records, for one or two
builds. Generated inputs only (seeded), written to a temporary directory.

    python3 benches/bounds.py --runs 5 BIN [BIN...]

For each build and input: median wall time of `scan -q` over the runs (the
builds interleaved), ms per MB of input, and the peak RSS (/usr/bin/time -v)
of the same runs' median run. Tiny inputs: 100k one-line records, 300k
six-word documents; ordinary: 2,000 documents of ~300 words. Floods: 200k
one-word records in 200 groups (at --memory-limit 64M and without), 200k
identical records.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time

WORDS = [
    "river", "stone", "market", "council", "budget", "winter", "engine", "garden", "letter",
    "window", "doctor", "planet", "silver", "forest", "harbor", "signal", "theory", "animal",
    "bridge", "castle", "circle", "danger", "energy", "family", "figure", "flower", "future",
    "ground", "island", "length", "matter", "memory", "minute", "moment", "nature", "number",
]


def words(rng, n):
    return " ".join(rng.choice(WORDS) + str(rng.randrange(500)) for _ in range(n))


def write_jsonl(path, texts):
    with open(path, "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"d{i}", "text": t}) + "\n")


def make_inputs(d):
    rng = random.Random(14)
    inputs = {}
    # Ordinary: paragraphs of sentences, some documents repeating others.
    docs = []
    for i in range(2000):
        if i % 10 == 9:
            docs.append(docs[rng.randrange(len(docs))])
        else:
            docs.append("\n\n".join(words(rng, 60) for _ in range(5)))
    inputs["ordinary 2k x 300 words"] = (os.path.join(d, "ordinary.jsonl"), docs, [])
    inputs["tiny 100k one-line"] = (
        os.path.join(d, "oneline.jsonl"), [words(rng, rng.randrange(1, 4)) for _ in range(100_000)], [])
    inputs["tiny 300k six-word"] = (
        os.path.join(d, "six.jsonl"), [words(rng, 6) for _ in range(300_000)], [])
    groups = [words(rng, 1) for _ in range(200)]
    flood = [groups[i % 200] for i in range(200_000)]
    inputs["flood 200k one-word in 200 groups"] = (os.path.join(d, "groups.jsonl"), flood, [])
    inputs["flood 200k one-word in 200 groups, --memory-limit 64M"] = (
        os.path.join(d, "groups.jsonl"), flood, ["--memory-limit", "64M"])
    same = "the very same record repeated many times over"
    inputs["flood 200k identical"] = (os.path.join(d, "same.jsonl"), [same] * 200_000, [])
    for path, texts, _ in inputs.values():
        if not os.path.exists(path):
            write_jsonl(path, texts)
    return {k: (p, extra) for k, (p, _, extra) in inputs.items()}


def run(binary, path, extra):
    cmd = ["/usr/bin/time", "-v", binary, "scan", "-q", *extra, path]
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    rss = next(int(l.split()[-1]) for l in p.stderr.splitlines() if "Maximum resident" in l)
    return wall, rss / 1024, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="run only inputs whose name contains this")
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        inputs = make_inputs(d)
        print("| input | MB | build | median s | ms/MB | peak RSS MiB | exit |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for name, (path, extra) in inputs.items():
            if args.only not in name:
                continue
            mb = os.path.getsize(path) / 1e6
            results = {b: [] for b in args.binaries}
            for _ in range(args.runs):
                for b in args.binaries:
                    results[b].append(run(b, path, extra))
            for b in args.binaries:
                rs = sorted(results[b])
                wall, rss, code = rs[len(rs) // 2]
                print(f"| {name} | {mb:.1f} | {os.path.basename(b)} | {wall:.2f} | "
                      f"{wall * 1000 / mb:.0f} | {rss:.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
