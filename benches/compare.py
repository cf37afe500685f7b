#!/usr/bin/env python3
"""Side-by-side comparison of neardup with peer tools on the same corpus.

Makes its own venv (benches/.venv) and installs the peers that install here
(datasketch, rensa, gaoya, text-dedup); a peer that fails to install or run is
reported as such. Every tool gets the same documents, 5-word shingles of
NFKC-casefolded words and Jaccard threshold 0.8; each peer runs once per
permutation count of --perms (128, the peers' usual setting, and 256,
neardup's default; 8 rows per band where the banding is given), neardup at
its defaults. Each run is timed whole (start-up, reading, hashing, LSH, writing its answer) with GNU time
for wall time and peak RSS; runs are interleaved and the median is reported.

Agreement: each tool's set of duplicate documents (every document it would drop)
is compared with neardup's (Jaccard of the two sets), and pairs within each
tool's clusters are scored against the corpus generator's ground truth (the
"group" field of benches/make_corpus.py) as precision, recall and F1.

Ratios: for each permutation count, the fastest peer's median wall time over
neardup's, for `neardup clean` (both levels) and `neardup --level docs`.

Usage: python3 benches/compare.py [--corpus FILE] [--runs 3] [--perms 128,256] [--bin BIN]
       (builds target/release/neardup if needed; makes a 10,000-document corpus
       with benches/make_corpus.py if --corpus is not given)
"""
import argparse
import collections
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "benches", ".venv")
PY = os.path.join(VENV, "bin", "python")
BIN = os.path.join(ROOT, "target", "release", "neardup")
PEERS = ["datasketch", "rensa", "gaoya", "text-dedup"]

# Shared by every Python peer: the same words and 5-word shingles, and leader
# deduplication in input order (query earlier documents, drop on any match).
PRELUDE = r'''
import json, re, sys, unicodedata
WORD = re.compile(r"\w+")
FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                      "\u2013": "-", "\u2014": "-"})
def shingles(text, n=5):
    words = WORD.findall(unicodedata.normalize("NFKC", text).translate(FOLD).casefold())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
edges = []
def leader(sketch, lsh):
    for i, d in enumerate(docs):
        m = sketch(d["text"])
        hits = lsh.query(m)
        if hits:
            edges.append((min(hits), i))
        else:
            lsh.insert(i, m)
'''
EPILOGUE = r'''
json.dump(edges, open(sys.argv[2], "w"))
'''
RUNNERS = {
    "datasketch": r'''
from datasketch import MinHash, MinHashLSH
def sketch(text):
    m = MinHash(num_perm=PERM, seed=42)
    m.update_batch([s.encode() for s in shingles(text)])
    return m
leader(sketch, MinHashLSH(threshold=0.8, num_perm=PERM))
''',
    "rensa": r'''
from rensa import RMinHash, RMinHashLSH
def sketch(text):
    m = RMinHash(num_perm=PERM, seed=42)
    m.update(list(shingles(text)))
    return m
leader(sketch, RMinHashLSH(threshold=0.8, num_perm=PERM, num_bands=BANDS))
''',
    "gaoya": r'''
from gaoya.minhash import MinHashStringIndex
index = MinHashStringIndex(hash_size=32, jaccard_threshold=0.8, num_bands=BANDS, band_size=8,
                           analyzer="word", lowercase=True, ngram_range=(5, 5))
for i, d in enumerate(docs):
    hits = index.query(d["text"])
    if hits:
        edges.append((min(hits), i))
    else:
        index.insert_document(i, d["text"])
''',
}


def ensure_venv():
    if not os.path.exists(PY):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([PY, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=False)
    installed = {}
    for peer in PEERS:
        module = peer.replace("-", "_")
        ok = subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0
        if not ok:
            subprocess.run([PY, "-m", "pip", "install", "-q", peer], capture_output=True)
            ok = subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0
        installed[peer] = ok
    return installed


def timed(cmd, cwd=None):
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", stats.name, *cmd], cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        return wall, int(stats.read().strip().splitlines()[-1])


def components(n, edges):
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups = collections.defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


def pairs_of(groups):
    return {p for g in groups for p in itertools.combinations(sorted(g), 2)}


def score(pred, truth):
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", default=BIN, help="the neardup binary (built if it is the default)")
    ap.add_argument("--perms", default="128,256",
                    help="permutation counts the peers run at (comma-separated)")
    args = ap.parse_args()
    if args.bin == BIN and not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    bin_ = args.bin
    corpus = args.corpus or os.path.join(ROOT, "target", "eval", "corpus10k.jsonl")
    if not os.path.exists(corpus):
        subprocess.run([sys.executable, os.path.join(ROOT, "benches", "make_corpus.py"),
                        "--docs", "10000", "--out", corpus], check=True)
    installed = ensure_venv()
    docs = [json.loads(line) for line in open(corpus, encoding="utf-8")]
    n = len(docs)
    index = {d["id"]: i for i, d in enumerate(docs)}
    truth_groups = collections.defaultdict(list)
    for i, d in enumerate(docs):
        truth_groups[d.get("group", i)].append(i)
    truth = pairs_of([g for g in truth_groups.values() if len(g) > 1])
    work = tempfile.mkdtemp()

    tools = {}
    for name, extra in [("neardup --level docs", ["scan", "--json", "--level", "docs"]),
                        ("neardup --level docs --measure containment --threshold 0.7",
                         ["scan", "--json", "--level", "docs", "--measure", "containment",
                          "--threshold", "0.7"])]:
        out = os.path.join(work, name.replace(" ", "_") + ".json")
        tools[name] = (["sh", "-c", f'"{bin_}" {" ".join(extra)} "{corpus}" > "{out}"'], out, "neardup")
    out = os.path.join(work, "clean.jsonl")
    tools["neardup clean (both levels, writes output)"] = (
        [bin_, "clean", "-q", "-o", out, "--report", os.path.join(work, "clean.json"), "--json",
         corpus], os.path.join(work, "clean.json"), "neardup")
    # The bare job, as the peers do it: cleaned text out, no report but its
    # line of totals; what was dropped is read back from the output.
    out = os.path.join(work, "bare.jsonl")
    tools["neardup clean > OUT (both levels, no report)"] = (
        ["sh", "-c", f'"{bin_}" clean -q "{corpus}" > "{out}"'], out, "kept")
    perms = [int(p) for p in args.perms.split(",")]
    peers = {}
    for perm in perms:
        for peer, code in RUNNERS.items():
            if installed.get(peer):
                name = f"{peer} ({perm} perm)"
                script = os.path.join(work, f"run_{peer}_{perm}.py")
                with open(script, "w") as f:
                    f.write(PRELUDE + code.replace("PERM", str(perm))
                            .replace("BANDS", str(max(perm // 8, 1))) + EPILOGUE)
                out = os.path.join(work, f"{peer}_{perm}.edges.json")
                tools[name] = ([PY, script, corpus, out], out, "edges")
                peers[name] = perm
        if installed.get("text-dedup"):
            name = f"text-dedup ({perm} perm)"
            out = os.path.join(work, f"text-dedup-out-{perm}")
            tools[name] = ([PY, "-m", "text_dedup.minhash", "--path", "json", "--data_files",
                            corpus, "--split", "train", "--column", "text", "--ngram", "5",
                            "--num_perm", str(perm), "--threshold", "0.8", "--seed", "42",
                            "--output", out, "--num_proc", "2"], out, "text-dedup")
            peers[name] = perm

    samples = collections.defaultdict(list)
    failed = {}
    for _ in range(args.runs):
        for name, (cmd, _, _) in tools.items():
            if name in failed:
                continue
            try:
                samples[name].append(timed(cmd, cwd=work))
            except RuntimeError as e:
                failed[name] = str(e).strip().splitlines()[-1] if str(e).strip() else "failed"

    dropped = {}
    groups = {}
    for name, (_, out, kind) in tools.items():
        if name in failed:
            continue
        if kind == "neardup":
            report = json.load(open(out))
            clusters = [[index[m["document"]["id"]] for m in c["members"]]
                        for c in report["near_duplicates"]["cluster_list"]]
        elif kind == "edges":
            clusters = components(n, json.load(open(out)))
        elif kind == "kept":
            kept = {json.loads(line)["id"] for line in open(out, encoding="utf-8")}
            clusters = None
            dropped[name] = {index[d["id"]] for d in docs} - {index[k] for k in kept}
        else:
            from_disk = subprocess.run(
                [PY, "-c", "import datasets,sys,json; d=datasets.load_from_disk(sys.argv[1]);"
                 " d=d['train'] if isinstance(d, datasets.DatasetDict) else d;"
                 " print(json.dumps(list(d['id'])))", out], capture_output=True, text=True)
            kept = set(json.loads(from_disk.stdout)) if from_disk.returncode == 0 else None
            if kept is None:
                failed[name] = "could not read its output: " + from_disk.stderr.strip()[-200:]
                continue
            # text-dedup only says what it kept: group each dropped document with
            # nothing (its pairs cannot be scored), but the dropped set compares.
            clusters = None
            dropped[name] = {index[d["id"]] for d in docs} - {index[k] for k in kept}
        if clusters is not None:
            groups[name] = clusters
            dropped[name] = {i for g in clusters for i in sorted(g)[1:]}

    reference = dropped.get("neardup --level docs", set())
    print("| tool | median wall s | peak RSS MiB | duplicates dropped | agreement with neardup --level docs | pair precision | pair recall | pair F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in tools:
        if name in failed:
            print(f"| {name} | failed: {failed[name][:80]} | | | | | | |")
            continue
        wall = statistics.median(w for w, _ in samples[name])
        rss = max(r for _, r in samples[name]) / 1024
        d = dropped.get(name, set())
        agree = len(d & reference) / len(d | reference) if d | reference else 1.0
        if name in groups:
            p, r, f = score(pairs_of(groups[name]), truth)
            quality = f"{p:.3f} | {r:.3f} | {f:.3f}"
        else:
            quality = "n/a | n/a | n/a"
        print(f"| {name} | {wall:.3f} | {rss:.0f} | {len(d)} | {agree:.3f} | {quality} |")
    medians = {name: statistics.median(w for w, _ in samples[name])
               for name in tools if name not in failed}
    print()
    for perm in perms:
        finished = [(medians[p], p) for p, k in peers.items() if k == perm and p in medians]
        if not finished:
            print(f"Peers at {perm} permutations: none finished.")
            continue
        wall, fastest = min(finished)
        ratios = ", ".join(f"{name} {wall / medians[name]:.1f}x faster"
                           for name in ["neardup clean > OUT (both levels, no report)",
                                        "neardup --level docs"] if name in medians)
        print(f"Peers at {perm} permutations: fastest {fastest} ({wall:.3f} s); {ratios}.")
    size = os.path.getsize(corpus) / 1e6
    print(f"\nCorpus: {corpus} ({n} documents, {size:.1f} MB), {len(truth)} true duplicate pairs; "
          f"{args.runs} interleaved runs per tool.")


if __name__ == "__main__":
    main()
