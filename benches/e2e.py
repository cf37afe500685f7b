#!/usr/bin/env python3
"""End-to-end timing of the neardup binary on the shared corpora.

Runs each command RUNS times in turn (interleaved, so load on the shared machine hits
all of them alike), reports the median wall time, MB/s of document text and the peak
RSS, and the ratio to a reference run in the same loop: `mawk '!seen[$0]++'`, exact
line deduplication, the cheapest possible pass over the same bytes.

Usage: python3 benches/e2e.py [--runs N] [--threads N]   (after cargo build --release)
Prints a Markdown table for benches/RESULTS.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = os.path.join(ROOT, "..", "shared", "corpora")
BIN = os.path.join(ROOT, "target", "release", "neardup")


def timed(cmd):
    """Wall seconds and peak RSS (KiB) of one run, via GNU time."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", stats.name, *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - start
        return wall, int(stats.read().strip().splitlines()[-1])


def text_bytes(path):
    total = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            total += len(json.loads(line)["text"].encode())
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    out = tempfile.mkdtemp()
    print("| corpus | MB text | command | median s | MB/s | peak RSS MiB | ratio to mawk |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for name in ["news-provenance", "bbc-news", "reuters-21578"]:
        path = os.path.join(CORPORA, name, "docs.jsonl")
        if not os.path.exists(path):
            continue
        mb = text_bytes(path) / 1e6
        commands = {
            "neardup scan": [BIN, "scan", "-j", str(args.threads), path],
            "neardup scan --json": [BIN, "scan", "--json", "-j", str(args.threads), path],
            "neardup clean -o": [BIN, "clean", "-q", "-j", str(args.threads), "-o",
                                 os.path.join(out, "clean.jsonl"), path],
            "mawk '!seen[$0]++'": ["mawk", "!seen[$0]++", path],
        }
        samples = {k: [] for k in commands}
        for _ in range(args.runs):
            for k, cmd in commands.items():
                samples[k].append(timed(cmd))
        ref = statistics.median(w for w, _ in samples["mawk '!seen[$0]++'"])
        for k, runs in samples.items():
            wall = statistics.median(w for w, _ in runs)
            rss = max(r for _, r in runs) / 1024
            print(f"| {name} | {mb:.1f} | `{k}` | {wall:.3f} | {mb / wall:.1f} | {rss:.0f} | {wall / ref:.2f} |")


if __name__ == "__main__":
    main()
