#!/usr/bin/env python3
"""Document level on ../shared/corpora/clough-stevenson (labelled text reuse).

The five source texts are put first, then the 95 answers; for each setting, counts the
answers of each label (cut, light, heavy, non) dropped as near duplicates (any cluster
with the source of their task counts as found; a "non" answer in any cluster is a false
merge).

Usage: python3 benches/eval_clough.py [--setting "ARGS"]...
"""
import argparse
import collections
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("NEARDUP", os.path.join(ROOT, "target", "release", "neardup"))
CORPUS = os.path.join(ROOT, "..", "shared", "corpora", "clough-stevenson", "docs.jsonl")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--setting", action="append")
    a = ap.parse_args()
    docs = [json.loads(line) for line in open(CORPUS, encoding="utf-8")]
    docs.sort(key=lambda d: not d["is_source"])
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    print("| setting | cut | light | heavy | non (false) |")
    print("|---|---|---|---|---|")
    for s in a.setting or ["", "--measure jaccard"]:
        out = subprocess.run([BIN, "scan", "--json", "--level", "docs", *s.split(), f.name],
                             capture_output=True, text=True, check=True).stdout
        found = collections.Counter()
        for c in json.loads(out)["near_duplicates"]["cluster_list"]:
            for m in c["members"]:
                d = docs[m["document"]["index"]]
                if not d["is_source"]:
                    found[d["label"]] += 1
        total = collections.Counter(d["label"] for d in docs)
        print(f"| {s or '(defaults)'} | " + " | ".join(
            f"{found[k]}/{total[k]}" for k in ["cut", "light", "heavy", "non"]) + " |")
    os.unlink(f.name)


if __name__ == "__main__":
    main()
