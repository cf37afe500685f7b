#!/usr/bin/env python3
"""Make an evaluation corpus of syndicated news copies from the shared corpora.

Base documents come from ../shared/corpora (bbc-news, reuters-21578 NORM stories with
at least 80 words, news-provenance), exact duplicates (after lowercasing and collapsing
white space) removed. About a third of the output are mutated copies of earlier base
documents, each with one to three mutations of the kinds syndicated copies show:

  dateline   a new "CITY (Agency) -" dateline before the first paragraph
  footer     a publisher footer appended, or the last paragraph replaced by one
  drop       one or two paragraphs dropped
  insert     a paragraph from another document inserted
  typos      a handful of character typos
  rewrap     paragraphs hard-wrapped at 60-75 columns
  truncate   only the first 40-70% of the paragraphs
  double     the body pasted twice (a scraper capturing it twice)

and hard negatives: two unrelated base documents given the same long boilerplate
paragraphs (cookie notice, newsletter pitch), which must not be called duplicates.

Each record is {"id", "text", "group", "kind"}: copies share the "group" of their
original (the ground truth: documents of one group are duplicates of each other);
"kind" lists the mutations. Deterministic for a given --seed.

Usage: python3 benches/make_corpus.py --docs 10000 --out target/eval/corpus.jsonl
       python3 benches/make_corpus.py --bytes 1000000000 --out target/eval/1g.jsonl
"""
import argparse
import json
import os
import random
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPORA = os.path.join(ROOT, "..", "shared", "corpora")

CITIES = ["LONDON", "NEW YORK", "WASHINGTON", "PARIS", "TOKYO", "SYDNEY", "CHICAGO", "BERLIN"]
AGENCIES = ["Reuters", "AP", "AFP", "Wire", "Staff"]
FOOTERS = [
    "Copyright 2026 Example Wire. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed.",
    "Reporting by staff; editing by the night desk. Our standards: the Trust Principles.",
    "Follow us on social media for the latest updates, and sign up for our morning briefing.",
]
BOILERPLATE = [
    "We use cookies and similar technologies to improve your experience, to analyse traffic and "
    "to show you personalised content and advertising. By continuing to browse this site you agree "
    "to our use of cookies as described in our cookie policy, which you can change at any time.",
    "Sign up for our free daily newsletter to get the top stories delivered to your inbox every "
    "morning, with analysis from our correspondents around the world and exclusive offers from our "
    "partners. You can unsubscribe at any time using the link at the bottom of every email.",
]


def base_documents():
    seen = set()
    out = []
    sources = [("bbc-news", None), ("reuters-21578", "NORM"), ("news-provenance", None)]
    for name, kind in sources:
        path = os.path.join(CORPORA, name, "docs.jsonl")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if kind and rec.get("type") != kind:
                    continue
                text = rec["text"]
                if len(text.split()) < 80:
                    continue
                key = " ".join(text.lower().split())
                if key in seen:
                    continue
                seen.add(key)
                out.append(text)
    return out


def paragraphs(text):
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def typo(word, rng):
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def mutate(text, rng, pool):
    paras = paragraphs(text)
    kinds = rng.sample(["dateline", "footer", "drop", "insert", "typos", "rewrap", "truncate",
                        "double"], rng.randint(1, 3))
    for kind in kinds:
        if kind == "dateline" and paras:
            paras[0] = f"{rng.choice(CITIES)} ({rng.choice(AGENCIES)}) - " + paras[0]
        elif kind == "footer":
            if rng.random() < 0.5 and len(paras) > 2:
                paras[-1] = rng.choice(FOOTERS)
            else:
                paras.append(rng.choice(FOOTERS))
        elif kind == "drop" and len(paras) > 4:
            for _ in range(rng.randint(1, 2)):
                del paras[rng.randrange(1, len(paras))]
        elif kind == "insert":
            other = paragraphs(rng.choice(pool))
            if other:
                paras.insert(rng.randrange(1, len(paras) + 1), rng.choice(other))
        elif kind == "typos":
            words = "\n\n".join(paras).split(" ")
            for _ in range(rng.randint(3, 8)):
                i = rng.randrange(len(words))
                words[i] = typo(words[i], rng)
            paras = paragraphs(" ".join(words))
        elif kind == "rewrap":
            width = rng.randint(60, 75)
            paras = [wrap(p, width) for p in paras]
        elif kind == "truncate" and len(paras) > 3:
            paras = paras[: max(2, int(len(paras) * rng.uniform(0.4, 0.7)))]
        elif kind == "double":
            paras = paras + paras[1:]
    return "\n\n".join(paras), kinds


def wrap(paragraph, width):
    lines, line = [], ""
    for word in paragraph.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--bytes", type=int, default=0, help="stop at this many bytes instead")
    ap.add_argument("--copies", type=float, default=0.3, help="share of mutated copies")
    ap.add_argument("--negatives", type=float, default=0.03, help="share of hard negatives")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pool = base_documents()
    rng.shuffle(pool)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    written = 0
    groups = []  # (group id, text) of emitted originals
    n = 0
    next_base = 0
    with open(args.out, "w", encoding="utf-8") as out:
        while (written < args.bytes) if args.bytes else (n < args.docs):
            r = rng.random()
            if groups and r < args.copies:
                group, original = rng.choice(groups)
                text, kinds = mutate(original, rng, pool)
                rec = {"text": text, "group": group, "kind": kinds}
            elif groups and r < args.copies + args.negatives:
                # A hard negative: a fresh base document with boilerplate shared
                # with an earlier original, which gets the same boilerplate too.
                text = pool[next_base % len(pool)]
                next_base += 1
                boiler = rng.choice(BOILERPLATE)
                rec = {"text": text + "\n\n" + boiler, "group": f"g{n}", "kind": ["negative"]}
                groups.append((f"g{n}", rec["text"]))
            else:
                cycle = next_base // len(pool)
                text = pool[next_base % len(pool)]
                next_base += 1
                if cycle:
                    # Past the end of the pool (the 1 GB corpus): a new document
                    # made by shuffling a base document's paragraphs and words, so it
                    # is not a near copy of its source.
                    words = text.split()
                    rng.shuffle(words)
                    text = "\n\n".join(" ".join(words[i:i + 40]) for i in range(0, len(words), 40))
                if rng.random() < args.negatives:
                    text = text + "\n\n" + rng.choice(BOILERPLATE)
                rec = {"text": text, "group": f"g{n}", "kind": []}
                groups.append((f"g{n}", text))
            rec = {"id": f"d{n}", **rec}
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode())
            n += 1
    print(f"{args.out}: {n} documents, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
