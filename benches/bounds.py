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
    # Issue 14's floods at a memory limit (--floods): peak RSS against it.
    if FLOODS:
        inputs["flood 1M identical"] = (os.path.join(d, "same1m.jsonl"), [same] * 1_000_000, [])
        near = [same + " " + str(i) for i in range(200_000)]
        inputs["flood 200k near-identical (one word differs)"] = (os.path.join(d, "near.jsonl"), near, [])
        inputs["flood 1M empty records"] = (os.path.join(d, "empty.jsonl"), [""] * 1_000_000, [])
    for path, texts, _ in inputs.values():
        if not os.path.exists(path):
            write_jsonl(path, texts)
    if FLOODS:
        para = os.path.join(d, "para.txt")
        with open(para, "w") as f:
            f.write((words(rng, 40) + "\n\n") * 1_000_000)
        inputs["one paragraph repeated 1M times (text)"] = (para, None, [])
        bomb = os.path.join(d, "bomb.txt.zst")
        line = (words(rng, 12) + "\n").encode()
        cmd = f"yes '{line.decode().strip()}' | head -c 3000000000 | zstd -q -19 -T0 > {bomb}"
        subprocess.run(cmd, shell=True, check=True)
        inputs["3 GB of text in a small .zst"] = (bomb, None, [])
        # 30M small JSON records from a small .zst: made only when asked for
        # (--only 30M; it takes minutes).
        if "30M" in ONLY:
            big = os.path.join(d, "same30m.jsonl.zst")
            record = json.dumps({"text": same})
            cmd = f"yes '{record}' | head -n 30000000 | zstd -q -19 -T0 > {big}"
            subprocess.run(cmd, shell=True, check=True)
            inputs["30M identical JSON records in a small .zst"] = (big, None, [])
    return {k: (p, extra) for k, (p, _, extra) in inputs.items()}


FLOODS = False
ONLY = ""


def run(binary, path, extra, command=("scan", "-q")):
    cmd = ["/usr/bin/time", "-v", binary, *command, *extra, path]
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    rss = next(int(l.split()[-1]) for l in p.stderr.splitlines() if "Maximum resident" in l)
    return wall, rss / 1024, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="", help="run only inputs whose name contains this")
    ap.add_argument("--floods", action="store_true",
                    help="issue 14's floods at --memory-limit 64M, 128M and 1G: scan, "
                         "clean --index --update and check, peak RSS against the limit")
    ap.add_argument("--limits", default="64M,128M,1G",
                    help="with --floods: the --memory-limit values, comma-separated; "
                         "none runs without a limit")
    ap.add_argument("--commands", default="scan,clean --index --update,check",
                    help="with --floods: which commands, comma-separated")
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()
    if args.floods:
        return floods(args)
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


def floods(args):
    global FLOODS, ONLY
    FLOODS = True
    ONLY = args.only
    commands = {
        "scan": lambda t: ("scan", "-q"),
        "clean --index --update": lambda t: ("clean", "-q", "--index", os.path.join(t, "i.ndx"),
                                             "--update", "-o", os.path.join(t, "out")),
        "check": lambda t: ("check", "-q", "--max-dup-docs", "100%"),
    }
    with tempfile.TemporaryDirectory() as d:
        inputs = {k: v for k, v in make_inputs(d).items()
                  if k.startswith(("flood", "one paragraph", "3 GB", "30M")) and "--memory" not in k}
        print(f"load at the start: {os.getloadavg()[0]:.1f}")
        print("| input | limit | command | build | s | peak RSS MiB | over the limit MiB | load | exit |")
        print("|---|---|---|---|---:|---:|---:|---:|---:|")
        for name, (path, _) in inputs.items():
            if args.only not in name:
                continue
            for limit in args.limits.split(","):
                mib = {"64M": 64, "128M": 128, "1G": 1024}.get(limit)
                for cname, make in commands.items():
                    if cname not in args.commands.split(","):
                        continue
                    for b in args.binaries:
                        with tempfile.TemporaryDirectory() as t:
                            extra = ["--tmp-dir", t]
                            if mib is not None:
                                extra += ["--memory-limit", limit]
                            wall, rss, code = run(b, path, extra, make(t))
                        over = f"{rss - mib:+.0f}" if mib is not None else ""
                        print(f"| {name} | {limit} | {cname} | {os.path.basename(b)} | {wall:.1f} | "
                              f"{rss:.0f} | {over} | {os.getloadavg()[0]:.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
