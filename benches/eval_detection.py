#!/usr/bin/env python3
"""Document-level detection quality of neardup settings on labelled corpora.

For each setting, runs `neardup scan --json --level docs` on a corpus whose records
carry a "group" (documents of one group are copies of each other: the ground truth
of benches/make_corpus.py) and reports, against that truth:

  pair P/R/F1        pairs of documents put in one cluster vs pairs of one group
  hard merges        clustered pairs of different groups where one document is a
                     hard case (kind negative, license, contains, eula, license-carrier,
                     contained, short-license): documents that share boilerplate or
                     hold one another but are not copies
  losing text       hard merges where a dropped document of the pair has less than 90% of
                     its 5-word shingles in the kept document (the rest: a document held
                     by the kept one, which adds nothing to it, as a "contained" short
                     document is to its "contains" document when that one is kept)
  unique bytes lost  over dropped documents, bytes of text whose 5-word shingles are
                     not in the kept document (len(text) x share of its shingles missing
                     from the kept one): what dropping them loses
  kept < half        dropped documents whose kept document is less than half their length,
                     by three measures: bytes / words / distinct 5-word shingles (a doubled
                     body is twice its single copy in bytes and words, the same in distinct
                     shingles: the measure directional containment bounds, since at least
                     half of a dropped document's distinct shingles are in the kept one)

With --held-is-copy, the truth also puts each "contained" document (and its copies) in the
group of the "contains" document that holds it whole: the issue's rule that a document adding
nothing to another may be dropped for it. make_corpus.py writes the pair one after the other,
as groups "gN" and "gN+1"; the pair is found by those names, so the truth holds for the same
records in any order (a corpus shuffled to see what order changes).

Usage: python3 benches/eval_detection.py CORPUS.jsonl [--setting "ARGS"]... [--held-is-copy]
       (default settings: the default, jaccard 0.8, the old containment 0.7)
"""
import argparse
import collections
import itertools
import json
import os
import re
import subprocess
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("NEARDUP", os.path.join(ROOT, "target", "release", "neardup"))
WORD = re.compile(r"\w+")
HARD = {"negative", "license", "contains", "eula", "license-carrier", "contained", "short-license"}


def shingles(text, n=5):
    words = WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def held_groups(docs):
    """Group per document when a "contained" one is in its "contains" one's group."""
    contained = {d["group"] for d in docs if "contained" in d.get("kind", [])}
    moved = {}
    for d in docs:
        group = d.get("group", "")
        if "contains" in d.get("kind", []) and group[1:].isdigit():
            held = f"g{int(group[1:]) - 1}"
            if held in contained:
                moved[held] = group
    return [moved.get(d.get("group", i), d.get("group", i)) for i, d in enumerate(docs)]


def evaluate(corpus, docs, args, groups=None):
    out = subprocess.run([BIN, "scan", "--json", "--level", "docs", *args, corpus],
                         capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    if groups is None:
        groups = [d.get("group", i) for i, d in enumerate(docs)]
    truth_groups = collections.defaultdict(list)
    for i, g in enumerate(groups):
        truth_groups[g].append(i)
    truth = {p for g in truth_groups.values() for p in itertools.combinations(g, 2)}
    pred, hard, losing, lost, dropped = set(), 0, 0, 0, 0
    small_rep = [0, 0, 0]  # kept < half its length in bytes, words, distinct shingles
    for c in report["near_duplicates"]["cluster_list"]:
        members = sorted(m["document"]["index"] for m in c["members"])
        kept = c["kept"]["index"]
        kept_text = docs[kept]["text"]
        ks = shingles(kept_text)

        def loses(m):
            s = shingles(docs[m]["text"])
            return m != kept and len(s & ks) < 0.9 * len(s)

        for a, b in itertools.combinations(members, 2):
            pred.add((a, b))
            if groups[a] != groups[b] and (
                    HARD & set(docs[a].get("kind", [])) or HARD & set(docs[b].get("kind", []))):
                hard += 1
                losing += loses(a) or loses(b)
        kept_words = len(WORD.findall(kept_text))
        for m in members:
            if m == kept:
                continue
            dropped += 1
            text = docs[m]["text"]
            s = shingles(text)
            lost += len(text.encode()) * (len(s - ks) / max(len(s), 1))
            small_rep[0] += len(kept_text.encode()) * 2 < len(text.encode())
            small_rep[1] += kept_words * 2 < len(WORD.findall(text))
            small_rep[2] += len(ks) * 2 < len(s)
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1, hard, losing, dropped, int(lost), small_rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--setting", action="append")
    ap.add_argument("--held-is-copy", action="store_true")
    a = ap.parse_args()
    settings = a.setting or ["", "--measure jaccard --threshold 0.8",
                             "--measure containment --threshold 0.7"]
    docs = [json.loads(line) for line in open(a.corpus, encoding="utf-8")]
    print(f"{a.corpus}: {len(docs)} documents")
    groups = held_groups(docs) if a.held_is_copy else None
    print("| setting | precision | recall | F1 | hard merges | losing text | dropped "
          "| unique bytes lost | kept < half (bytes / words / shingles) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in settings:
        p, r, f1, hard, losing, dropped, lost, small = evaluate(a.corpus, docs, s.split(), groups)
        print(f"| {s or '(defaults)'} | {p:.3f} | {r:.3f} | {f1:.3f} | {hard} | {losing} | {dropped} "
              f"| {lost:,} | {' / '.join(map(str, small))} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
