#!/usr/bin/env python3
"""Make an evaluation corpus of syndicated news copies from the shared corpora.

Base documents come from ../shared/corpora (bbc-news, reuters-21578 NORM stories with
at least 80 words, news-provenance), near copies (more than 30% of its 8-word shingles seen in
an earlier one, after lowercasing) removed. About a third of the output are mutated copies of earlier base
documents, each with one to three mutations of the kinds syndicated copies show:

  dateline   a new "CITY (Agency) -" dateline before the first paragraph
  footer     a publisher footer appended, or the last paragraph replaced by one
  drop       one or two paragraphs dropped
  insert     a paragraph inserted from a document kept aside for it (one that is
             never an original: a copy does not hold a later original)
  typos      a handful of character typos
  rewrap     paragraphs hard-wrapped at 60-75 columns
  truncate   only the first 40-70% of the paragraphs
  double     the body pasted twice (a scraper capturing it twice)

and hard negatives: two unrelated base documents given the same long boilerplate
paragraphs (cookie notice, newsletter pitch), which must not be called duplicates.

With --hard SHARE (0 by default, so the default corpus is the one earlier figures
quote), that share of the output are harder cases, in equal parts:

  license     a short document of its own (one or two paragraphs) carrying a long
              license footer that earlier long documents carry too: a hard negative
  repara      a copy of an earlier original with its paragraph breaks moved
              (sentences regrouped), a true copy
  contains    a long document that holds an earlier short document whole, with
              several new paragraphs: not a duplicate (dropping it loses text)
  eula        a long license agreement that holds an earlier short license whole
              (the short license is emitted once, before the first agreement)

With --licenses N, the corpus is instead N license-like texts of different lengths (3 to
60 clauses) built from one shared pool of 80 clauses, each a group of its own (kind
"license": every merge of two is a hard one), and about a fifth of them again as copies
with a new header line (kind "license-copy", same group): long licenses that share most
clauses with short ones must not be dropped for them.

Each record is {"id", "text", "group", "kind"}: copies share the "group" of their
original (the ground truth: documents of one group are duplicates of each other; a
truncated copy of a "contains" document that kept nothing past the short document it
holds is a copy of that short document, and is filed under its group);
"kind" lists the mutations. Deterministic for a given --seed.

Usage: python3 benches/make_corpus.py --docs 10000 --out target/eval/corpus.jsonl
       python3 benches/make_corpus.py --bytes 1000000000 --out target/eval/1g.jsonl
"""
import argparse
import json
import os
import random
import re
import sys

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

LICENSES = [
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    "software and associated documentation files, to deal in the software without restriction, "
    "including without limitation the rights to use, copy, modify, merge, publish, distribute, "
    "sublicense, and sell copies of the software, and to permit persons to whom the software is "
    "furnished to do so, subject to the following conditions: the above copyright notice and this "
    "permission notice shall be included in all copies or substantial portions of the software. "
    "The software is provided as is, without warranty of any kind, express or implied, including "
    "but not limited to the warranties of merchantability, fitness for a particular purpose and "
    "noninfringement.",
    "Redistribution and use in source and binary forms, with or without modification, are "
    "permitted provided that the following conditions are met: redistributions of source code "
    "must retain the above copyright notice, this list of conditions and the following disclaimer; "
    "redistributions in binary form must reproduce the above copyright notice, this list of "
    "conditions and the following disclaimer in the documentation and other materials provided "
    "with the distribution. This software is provided by the copyright holders and contributors "
    "as is and any express or implied warranties are disclaimed. In no event shall the copyright "
    "holder be liable for any direct, indirect, incidental or consequential damages.",
]

# Short licenses that long agreements hold whole (never used as footers).
SHORT_LICENSES = [
    "Licensed under the terms below. You may use this program for any lawful purpose, make copies "
    "for backup, and share unmodified copies with others, as long as this notice stays with every "
    "copy. You may not sell the program, remove or alter this notice, or claim the work as your "
    "own. There is no warranty: the program is provided as it is, and the authors are not liable "
    "for anything that happens from its use.",
    "This font software may be used, studied, modified and redistributed freely as long as it is "
    "not sold by itself. The font, including any derivative works, may be bundled, embedded, "
    "redistributed and sold with any software provided that any reserved names are not used by "
    "derivative works. The font and derivatives, however, cannot be released under any other type "
    "of license.",
]


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s]


def reparagraph(text, rng):
    """The same words with the paragraph breaks moved: sentences regrouped."""
    sents = sentences(text)
    paras, i = [], 0
    while i < len(sents):
        k = rng.randint(1, 4)
        paras.append(" ".join(sents[i:i + k]))
        i += k
    return "\n\n".join(paras)


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
                words = text.lower().split()
                # Near copies within the sources (syndicated stories) are left
                # out too, so that documents of different groups are not copies:
                # a document whose 8-word shingles were mostly seen before.
                grams = {hash(" ".join(words[i:i + 8])) for i in range(len(words) - 7)}
                if len(grams & seen) > 0.3 * len(grams):
                    continue
                seen |= grams
                out.append(text)
    if not out:
        # A clone without ../shared beside it (a fresh CI machine): base documents
        # of generated text, so that the tests built on this script still run.
        print(f"make_corpus: {CORPORA} is not here: base documents are generated text",
              file=sys.stderr)
        out = synthetic_documents(3300)
    return out


def synthetic_documents(n):
    """`n` news-like documents of generated words (the same every time): 4-8
    paragraphs of 2-4 sentences of 8-20 words, from a vocabulary of 6,000
    made-up words drawn with a Zipf-like skew, so documents share common words
    but not long runs of them."""
    rng = random.Random(20261205)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "be", "da", "fe", "gu",
                 "ha", "jo", "pe", "ri", "so", "tu", "wa", "ze", "an", "el", "in", "or"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
                    for _ in range(9000)})[:6000]
    rng.shuffle(vocab)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(vocab))]

    def sentence(lo, hi):
        return " ".join(rng.choices(vocab, weights, k=rng.randint(lo, hi))).capitalize() + "."

    # The pages of 60 sites, each with its header and footer (as the real pages
    # carry theirs): blocks that many documents share.
    sites = [(" ".join(sentence(8, 14) for _ in range(2)), " ".join(sentence(10, 16) for _ in range(3)))
             for _ in range(60)]
    docs = []
    for _ in range(n):
        paras = []
        for _ in range(rng.randint(4, 8)):
            sentences = []
            for _ in range(rng.randint(2, 4)):
                sentences.append(sentence(8, 20))
            paras.append(" ".join(sentences))
        if rng.random() < 0.6:
            header, footer = rng.choice(sites)
            paras = [header, *paras, footer]
        docs.append("\n\n".join(paras))
    return docs


# Base documents kept aside as the source of inserted paragraphs.
INSERT_SOURCES = 300


def grams(text, n=5):
    """The 5-word shingles of a text (lowercased words)."""
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


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


def mutate(text, rng, sources):
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
            other = paragraphs(rng.choice(sources))
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


def license_corpus(n, rng, out):
    """N licenses of 3-60 clauses drawn from one shared pool, and copies of some."""
    words = [w for t in LICENSES + SHORT_LICENSES for w in re.findall(r"[a-z]+", t.lower())]
    clauses = [" ".join(rng.choice(words) for _ in range(rng.randint(12, 30))).capitalize() + "."
               for _ in range(80)]
    texts, written = [], 0
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            if texts and rng.random() < 0.2:
                group, text = rng.choice(texts)
                rec = {"text": f"License {rng.randint(1, 999)} of the project\n\n{text}",
                       "group": group, "kind": ["license-copy"]}
            else:
                k = rng.randint(3, 60)
                body = rng.sample(clauses, k)
                text = "\n\n".join(" ".join(body[j:j + 3]) for j in range(0, k, 3))
                rec = {"text": text, "group": f"g{i}", "kind": ["license"]}
                texts.append((rec["group"], text))
            line = json.dumps({"id": f"d{i}", **rec}) + "\n"
            f.write(line)
            written += len(line.encode())
    print(f"{out}: {n} documents, {written / 1e6:.1f} MB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--bytes", type=int, default=0, help="stop at this many bytes instead")
    ap.add_argument("--copies", type=float, default=0.3, help="share of mutated copies")
    ap.add_argument("--negatives", type=float, default=0.03, help="share of hard negatives")
    ap.add_argument("--hard", type=float, default=0.0, help="share of harder cases (--hard)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--licenses", type=int, default=0, help="a license-like corpus instead")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.licenses:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        license_corpus(args.licenses, rng, args.out)
        return
    pool = base_documents()
    rng.shuffle(pool)
    # Inserted paragraphs come from documents that are never originals.
    inserts, pool = pool[:INSERT_SOURCES], pool[INSERT_SOURCES:]
    # Per "contains" group: the group of the short document it holds, and the
    # 5-word shingles of what follows it.
    holds = {}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    written = 0
    # Emitted originals, as (group id, offset, length) of their line in the output:
    # their text is read back when a copy is made, so that memory does not grow
    # with the corpus (a 10 GB corpus would hold most of its text otherwise).
    groups = []
    emitted = set()  # short licenses already written
    n = 0
    next_base = 0
    with open(args.out, "w", encoding="utf-8") as out, open(args.out, "rb") as back:

        def original(i):
            group, offset, length = groups[i]
            out.flush()
            back.seek(offset)
            return group, json.loads(back.read(length))["text"]

        while (written < args.bytes) if args.bytes else (n < args.docs):
            r = rng.random()
            keep = True  # an original (later copies are made of it)
            if groups and args.hard and rng.random() < args.hard:
                kind = rng.choice(["license", "repara", "contains", "eula"])
                fresh = paragraphs(pool[next_base % len(pool)])
                next_base += 1
                if kind == "license":
                    # Long documents carry the license, as originals of their own
                    # group; then the short document of its own with the same license.
                    lic = rng.choice(LICENSES)
                    long_text = "\n\n".join(paragraphs(pool[next_base % len(pool)])) + "\n\n" + lic
                    next_base += 1
                    emit = [(long_text, f"g{n}", ["license-carrier"]),
                            ("\n\n".join(fresh[:rng.randint(1, 2)]) + "\n\n" + lic,
                             f"g{n + 1}", ["license"])]
                elif kind == "repara":
                    group, text = original(rng.randrange(len(groups)))
                    emit = [(reparagraph(text, rng), group, ["repara"])]
                elif kind == "contains":
                    short = "\n\n".join(fresh[:2])
                    more = paragraphs(pool[next_base % len(pool)])
                    next_base += 1
                    emit = [(short, f"g{n}", ["contained"]),
                            (short + "\n\n" + "\n\n".join(more), f"g{n + 1}", ["contains"])]
                    holds[f"g{n + 1}"] = (f"g{n}", grams("\n\n".join(more)))
                else:
                    lic = rng.choice(SHORT_LICENSES)
                    eula = "\n\n".join(fresh) + "\n\n" + lic + "\n\n" + "\n\n".join(
                        paragraphs(pool[next_base % len(pool)]))
                    next_base += 1
                    emit = [(eula, f"g{n}", ["eula"])]
                    if lic not in emitted:
                        # The short license itself, once, before the first agreement.
                        emitted.add(lic)
                        emit.insert(0, (lic, f"g{n}", ["short-license"]))
                        emit[1] = (eula, f"g{n + 1}", ["eula"])
                for i, (text, group, kinds) in enumerate(emit):
                    rec = {"id": f"d{n}", "text": text, "group": group, "kind": kinds}
                    line = json.dumps(rec, ensure_ascii=False) + "\n"
                    size = len(line.encode())
                    if kinds[0] in ("license-carrier", "contained", "contains", "short-license",
                                    "eula"):
                        groups.append((group, written, size))
                    out.write(line)
                    written += size
                    n += 1
                continue
            if groups and r < args.copies:
                group, text = original(rng.randrange(len(groups)))
                text, kinds = mutate(text, rng, inserts)
                keep = False
                if group in holds and not grams(text) & holds[group][1]:
                    # Truncated to the short document it holds: a copy of that.
                    group = holds[group][0]
                rec = {"text": text, "group": group, "kind": kinds}
            elif groups and r < args.copies + args.negatives:
                # A hard negative: a fresh base document with boilerplate shared
                # with an earlier original, which gets the same boilerplate too.
                text = pool[next_base % len(pool)]
                next_base += 1
                boiler = rng.choice(BOILERPLATE)
                rec = {"text": text + "\n\n" + boiler, "group": f"g{n}", "kind": ["negative"]}
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
            rec = {"id": f"d{n}", **rec}
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            size = len(line.encode())
            if keep:
                groups.append((rec["group"], written, size))
            out.write(line)
            written += size
            n += 1
    print(f"{args.out}: {n} documents, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
