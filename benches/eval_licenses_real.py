#!/usr/bin/env python3
"""Document-level detection on real license texts (issue 16's license check), with neardup's
default settings or others.

No data is kept in this repository. `--extract GITDIR` writes the license texts of the SPDX
list as packaged by github.com/sindresorhus/spdx-license-list (licenses/*.json, a
`licenseText` each: 681 texts at 6.10.0) from a clone of it into --data (default
target/eval/licenses) as spdx.jsonl, one record per license in the order of their ids:
{"id": SPDX id, "name", "text"}.

Reported per setting, from `neardup scan --json --level docs`:

  kept < half   dropped texts whose kept text is less than half their length, in bytes and
                in words (\\w+): the issue's "no document dropped as a duplicate of a
                representative less than half its length"; each one is listed
  unique lost   over dropped texts, words of 5-word shingles not in the kept text
  precision     clustered pairs of one license family (the id without -only, -or-later,
                -invariants..., -no-invariants...: GFDL-1.3-only and GFDL-1.3-or-later are
                one text); a low figure here is expected: many licenses of different ids are
                near copies of each other (GFDL 1.1 and 1.2, the BSD and MIT variants), which
                a near-duplicate finder should cluster
  largest       the largest cluster: its size, and the licenses' families it spans

Usage: python3 benches/eval_licenses_real.py --extract ~/spdx-license-list
       NEARDUP=target/release/neardup python3 benches/eval_licenses_real.py [--setting ARGS]...
"""
import argparse
import itertools
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("NEARDUP", os.path.join(ROOT, "target", "release", "neardup"))
VARIANT = re.compile(r"-(only|or-later|invariants-only|invariants-or-later|no-invariants-only|"
                     r"no-invariants-or-later)$")


def extract(gitdir, data):
    if os.path.isdir(os.path.join(gitdir, ".git")):
        gitdir = os.path.join(gitdir, ".git")
    git = ["git", "--git-dir", gitdir]
    names = subprocess.run(git + ["ls-tree", "-r", "--name-only", "HEAD", "licenses"],
                           capture_output=True, text=True, check=True).stdout.split()
    os.makedirs(data, exist_ok=True)
    n = 0
    with open(os.path.join(data, "spdx.jsonl"), "w", encoding="utf-8") as out:
        for path in sorted(names):
            if not path.endswith(".json"):
                continue
            record = json.loads(subprocess.run(git + ["show", "HEAD:" + path],
                                               capture_output=True, check=True).stdout)
            text = record.get("licenseText") or ""
            if text.strip():
                out.write(json.dumps({"id": path[len("licenses/"):-len(".json")],
                                      "name": record.get("name", ""), "text": text}) + "\n")
                n += 1
    print(f"spdx.jsonl: {n} license texts", file=sys.stderr)


def words(text):
    return re.findall(r"\w+", text.lower())


def shingles(ws, k=5):
    return {tuple(ws[i:i + k]) for i in range(max(1, len(ws) - k + 1))}


def evaluate(path, setting):
    docs = [json.loads(line) for line in open(path, encoding="utf-8")]
    cmd = [BIN, "scan", "-q", "--json", "--level", "docs", *shlex.split(setting), path]
    report = json.loads(subprocess.run(cmd, capture_output=True, check=True).stdout)
    clusters = report["near_duplicates"]["cluster_list"]
    family = [VARIANT.sub("", d["id"]) for d in docs]
    pairs = same = dropped = lost = 0
    half = []
    largest = (0, set())
    for c in clusters:
        members = [m["document"]["index"] for m in c["members"]]
        fams = {family[m] for m in members}
        if len(members) > largest[0]:
            largest = (len(members), fams)
        for a, b in itertools.combinations(members, 2):
            pairs += 1
            same += family[a] == family[b]
        kept = docs[c["kept"]["index"]]["text"]
        kept_shingles = shingles(words(kept))
        for m in c["members"]:
            if m["kept"]:
                continue
            dropped += 1
            text = docs[m["document"]["index"]]["text"]
            ws = words(text)
            own = [i for i in range(max(1, len(ws) - 4)) if tuple(ws[i:i + 5]) not in kept_shingles]
            lost += len(own)
            by_bytes = 2 * len(kept.encode()) < len(text.encode())
            by_words = 2 * len(words(kept)) < len(ws)
            if by_bytes or by_words:
                half.append(f"{docs[m['document']['index']]['id']} ({len(ws)} words) for "
                            f"{docs[c['kept']['index']]['id']} ({len(words(kept))} words), "
                            f"similarity {m['similarity']}")
    precision = same / pairs if pairs else 1.0
    return {
        "clusters": len(clusters), "dropped": dropped, "kept < half": len(half),
        "unique words lost": lost, "precision": f"{precision:.3f} ({same}/{pairs})",
        "largest": f"{largest[0]} texts, {len(largest[1])} families",
    }, half


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "target", "eval", "licenses"))
    ap.add_argument("--extract", metavar="GITDIR")
    ap.add_argument("--setting", action="append")
    args = ap.parse_args()
    if args.extract:
        extract(args.extract, args.data)
        return
    path = os.path.join(args.data, "spdx.jsonl")
    if not os.path.exists(path):
        sys.exit(f"{path}: not there; run with --extract GITDIR first")
    settings = args.setting or [""]
    columns = ["clusters", "dropped", "kept < half", "unique words lost", "precision", "largest"]
    print("| setting | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    listed = []
    for setting in settings:
        row, half = evaluate(path, setting)
        print(f"| {setting or '(defaults)'} | " + " | ".join(str(row[c]) for c in columns) + " |")
        listed += [f"{setting or '(defaults)'}: {h}" for h in half]
    for line in listed:
        print(f"- kept < half: {line}")


if __name__ == "__main__":
    main()
