#!/usr/bin/env python3
"""Bench of the persistent index: check a batch of new documents against an
index of a large history, against rescanning history and batch together.

1. Generates a history of --docs short news-like documents (default 1,000,000;
   three paragraphs of 12-30 words from a Zipf-like vocabulary, a fifth of them
   with a paragraph syndicated from a shared pool, one in twenty a near copy of
   an earlier document) and a batch of --batch new documents (default 1,000: a
   fifth copies or near copies of history documents, a fifth sharing a
   syndicated paragraph, the rest new). Deterministic for a given --seed.
2. Builds the index with `neardup index build` (wall time, peak RSS, size).
3. Times `neardup check --index` on the batch --runs times (median wall time,
   peak RSS, page faults) and, in the same loop, `neardup check` over history
   plus batch without an index (the peer: what a tool without a persistent
   index has to do), and reports the ratio.

Usage: python3 benches/index_bench.py [--docs N] [--batch N] [--runs N] [--dir target/index-bench]
"""
import argparse
import itertools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def vocabulary(rng, n=6000):
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    words = set()
    while len(words) < n:
        length = rng.randint(3, 10)
        words.add("".join(rng.choice(letters[: 8 + length]) for _ in range(length)))
    return sorted(words)


def paragraph(rng, words, weights):
    n = rng.randint(12, 30)
    return " ".join(rng.choices(words, cum_weights=weights, k=n)).capitalize() + "."


def make(args):
    rng = random.Random(args.seed)
    words = vocabulary(rng)
    weights = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(words))))
    pool = [paragraph(rng, words, weights) for _ in range(50_000)]
    history = os.path.join(args.dir, "history.jsonl")
    batch = os.path.join(args.dir, "batch.jsonl")
    kept = []  # a sample of history texts to copy from

    def new_doc(i):
        paras = [paragraph(rng, words, weights) for _ in range(3)]
        if rng.random() < 0.2:
            paras[rng.randrange(3)] = rng.choice(pool)
        return f"Story {i}\n\n" + "\n\n".join(paras)

    with open(history, "w") as out:
        for i in range(args.docs):
            if kept and rng.random() < 0.05:
                text = rng.choice(kept)
                text = re.sub(r"\b\w+\.$", "changed.", text, count=1)
            else:
                text = new_doc(i)
            if len(kept) < 20_000 or rng.random() < 0.01:
                if len(kept) < 20_000:
                    kept.append(text)
                else:
                    kept[rng.randrange(len(kept))] = text
            out.write(json.dumps({"id": f"h{i}", "text": text}) + "\n")
    with open(batch, "w") as out:
        for i in range(args.batch):
            r = rng.random()
            if r < 0.1:
                text = rng.choice(kept)
            elif r < 0.2:
                text = rng.choice(kept).replace(" ", "  ", 3) + " Updated."
            elif r < 0.4:
                text = f"Brief {i}\n\n" + paragraph(rng, words, weights) + "\n\n" + rng.choice(pool)
            else:
                text = new_doc(args.docs + i)
            out.write(json.dumps({"id": f"n{i}", "text": text}) + "\n")
    return history, batch


def timed(cmd, cwd=None):
    """(wall seconds, peak RSS MiB, major faults, minor faults, exit code, stdout,
    neardup's own stderr lines)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %F %R"] + cmd, cwd=cwd,
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    lines = p.stderr.strip().splitlines()
    last = lines[-1].split()
    rss, major, minor = int(last[0]) / 1024, int(last[1]), int(last[2])
    return wall, rss, major, minor, p.returncode, p.stdout, lines[:-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=os.path.join(ROOT, "target", "index-bench"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "neardup"))
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if not os.path.exists(args.bin):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    history, batch = make(args)
    hist_mb = os.path.getsize(history) / 1e6
    print(f"history: {args.docs:,} documents, {hist_mb:.0f} MB; batch: {args.batch:,} documents")
    index = os.path.join(args.dir, "history.ndx")
    wall, rss, _, _, code, _, _ = timed([args.bin, "index", "build", "-q", "-o", index, history])
    assert code == 0, "index build failed"
    size = os.path.getsize(index) / 2**20
    print(f"index build: {wall:.1f} s, peak RSS {rss:.0f} MiB, index {size:.0f} MiB "
          f"({size * 2**20 / args.docs:.0f} bytes a document)")
    both = os.path.join(args.dir, "history+batch.jsonl")
    with open(both, "w") as out:
        for path in (history, batch):
            with open(path) as f:
                out.writelines(f)
    checks, rescans = [], []
    for _ in range(args.runs):
        checks.append(timed([args.bin, "check", "-v", "--exit-zero", "--json", "--index", index, batch]))
        rescans.append(timed([args.bin, "check", "--exit-zero", "-q", both]))
    report = json.loads(checks[0][5])
    dups = report["summary"]["dropped_documents"]
    removed = report["summary"]["removed_blocks"]
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"check --index, batch of {args.batch:,}: median {med(checks, 0):.3f} s "
          f"(runs {', '.join(f'{c[0]:.3f}' for c in checks)}), peak RSS {med(checks, 1):.0f} MiB "
          f"of a {size:.0f} MiB index, {med(checks, 3):.0f} minor / {med(checks, 2):.0f} major faults; "
          f"found {dups} duplicate documents and {removed} repeated blocks")
    for line in checks[-1][6]:
        if "memory:" in line or "chunks" in line:
            print("  " + line)
    print(f"rescan of history + batch (no index): median {med(rescans, 0):.2f} s, "
          f"peak RSS {med(rescans, 1):.0f} MiB")
    print(f"ratio: rescan / check --index = {med(rescans, 0) / med(checks, 0):.0f}x")


if __name__ == "__main__":
    sys.exit(main())
