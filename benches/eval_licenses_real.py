#!/usr/bin/env python3
"""Document-level detection on real license texts (issue 16's license check), with neardup's
default settings or others.

No data is kept in this repository. `--extract GITDIR` writes the license texts of the SPDX
list as packaged by github.com/sindresorhus/spdx-license-list (licenses/*.json, a
`licenseText` each: 681 texts at 6.10.0) from a clone of it into --data (default
target/eval/licenses) as spdx.jsonl, one record per license in the order of their ids:
{"id": SPDX id, "name", "text"}.

Two more sets, each labelled by license, can be written into --data:

  debian.jsonl    `--extract-debian` (no download): the stand-alone license paragraphs
                  ("License: NAME" and its text, 40 words or more) of every machine-readable
                  /usr/share/doc/*/copyright file of the Debian system it runs on; label NAME.
                  Real license texts as packages carry them: many copies of one license with
                  other copyright lines, GPL and LGPL notices that differ in a version or a
                  word, BSD texts with a clause more or less. Which packages are installed
                  decides the set: the count of files read is printed.
  scancode.jsonl  `--extract-scancode WHEEL`: the 2,594 texts of ScanCode's license
                  database (licensedcode/data/licenses/*.LICENSE in a scancode-toolkit wheel,
                  `pip download --no-deps scancode-toolkit`; 32.5.0 was used), one a license;
                  label the license key less -plus and -only (gpl-2.0-plus is gpl-2.0).

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
  same as kept  dropped texts whose kept text is of the same family: a measure that a
                large cluster does not weigh by the square of its size
  largest       the largest cluster: its size, and the licenses' families it spans

A family is, for spdx.jsonl, the id as above; for the labelled sets, the label read loosely
(case, "-clause", "v2" for "-2", "2.0" for "2", "Expat" for "MIT": Debian's spellings).

Usage: python3 benches/eval_licenses_real.py --extract ~/spdx-license-list
       python3 benches/eval_licenses_real.py --extract-debian
       python3 benches/eval_licenses_real.py --extract-scancode scancode_toolkit-*.whl
       NEARDUP=target/release/neardup python3 benches/eval_licenses_real.py [--set NAME]...
           [--setting ARGS]...
"""
import argparse
import glob
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile

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


def extract_debian(data):
    """The stand-alone License paragraphs of the system's DEP-5 copyright files."""
    out = []
    files = 0
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        if not text.startswith("Format:"):
            continue
        files += 1
        package = path.split("/")[-2]
        for para in re.split(r"\n\s*\n", text):
            lines = para.split("\n")
            if not lines[0].startswith("License:"):
                continue
            name = lines[0][len("License:"):].strip()
            body = []
            for line in lines[1:]:
                if not line.startswith((" ", "\t")):
                    break
                line = line[1:] if line.startswith(" ") else line.lstrip("\t")
                body.append("" if line.strip() == "." else line)
            license_text = "\n".join(body).strip()
            if name and len(license_text.split()) >= 40:
                out.append({"id": f"{package}:{name}", "label": name, "text": license_text})
    write_set(data, "debian.jsonl", out)
    print(f"debian.jsonl: {len(out)} license paragraphs from {files} copyright files",
          file=sys.stderr)


def extract_scancode(wheel, data):
    """ScanCode's license texts from a scancode-toolkit wheel."""
    out = []
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            if not (name.startswith("licensedcode/data/licenses/") and name.endswith(".LICENSE")):
                continue
            text = z.read(name).decode("utf-8", "replace")
            if text.startswith("---"):
                end = text.find("\n---", 3)
                text = text[end + 4:] if end >= 0 else text
            text = text.strip()
            key = name.rsplit("/", 1)[1][:-len(".LICENSE")]
            if text:
                # (One text a license: a family is the key less -plus, -only.)
                out.append({"id": key, "label": re.sub(r"-(plus|only)$", "", key), "text": text})
    write_set(data, "scancode.jsonl", out)
    print(f"scancode.jsonl: {len(out)} license texts", file=sys.stderr)


def write_set(data, name, records):
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, name), "w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(r) + "\n")


def label_family(label):
    """A label read loosely: Debian spells one license several ways."""
    l = re.sub(r"\s+", " ", label.lower().replace("_", " ")).strip()
    l = l.replace("-clause", "").replace(" clause", "")
    l = re.sub(r"^(a?gpl|lgpl|gfdl)v(\d)", r"\1-\2", l)
    l = re.sub(r"(\d)\.0(?=\+|$| )", r"\1", l)
    return {"expat": "mit"}.get(l, l)


def words(text):
    return re.findall(r"\w+", text.lower())


def shingles(ws, k=5):
    return {tuple(ws[i:i + k]) for i in range(max(1, len(ws) - k + 1))}


def evaluate(path, setting):
    docs = [json.loads(line) for line in open(path, encoding="utf-8")]
    cmd = [BIN, "scan", "-q", "--json", "--level", "docs", *shlex.split(setting), path]
    report = json.loads(subprocess.run(cmd, capture_output=True, check=True).stdout)
    clusters = report["near_duplicates"]["cluster_list"]
    family = [label_family(d["label"]) if "label" in d else VARIANT.sub("", d["id"])
              for d in docs]
    like_kept = 0
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
            like_kept += family[m["document"]["index"]] == family[c["kept"]["index"]]
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
        "same as kept": f"{like_kept / dropped:.3f}" if dropped else "-",
        "largest": f"{largest[0]} texts, {len(largest[1])} families",
    }, half


SETS = ["spdx", "debian", "scancode"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "target", "eval", "licenses"))
    ap.add_argument("--extract", metavar="GITDIR")
    ap.add_argument("--extract-debian", action="store_true")
    ap.add_argument("--extract-scancode", metavar="WHEEL")
    ap.add_argument("--set", action="append", choices=SETS,
                    help="sets to evaluate (default: every one written into --data)")
    ap.add_argument("--setting", action="append")
    args = ap.parse_args()
    if args.extract or args.extract_debian or args.extract_scancode:
        if args.extract:
            extract(args.extract, args.data)
        if args.extract_debian:
            extract_debian(args.data)
        if args.extract_scancode:
            extract_scancode(args.extract_scancode, args.data)
        return
    names = args.set or [n for n in SETS if os.path.exists(os.path.join(args.data, n + ".jsonl"))]
    if not names:
        sys.exit(f"{args.data}: no set there; run with --extract GITDIR, --extract-debian or "
                 "--extract-scancode WHEEL first")
    settings = args.setting or [""]
    columns = ["clusters", "dropped", "kept < half", "unique words lost", "precision",
               "same as kept", "largest"]
    print("| set | setting | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    listed = []
    for name in names:
        path = os.path.join(args.data, name + ".jsonl")
        if not os.path.exists(path):
            sys.exit(f"{path}: not there")
        for setting in settings:
            row, half = evaluate(path, setting)
            print(f"| {name} | {setting or '(defaults)'} | "
                  + " | ".join(str(row[c]) for c in columns) + " |")
            listed += [f"{name}, {setting or '(defaults)'}: {h}" for h in half]
    for line in listed:
        print(f"- kept < half: {line}")


if __name__ == "__main__":
    main()
