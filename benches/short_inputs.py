#!/usr/bin/env python3
"""Inputs of short records for benches/same_index.sh (issue 14, session 26):
batches a later one of which copies and nearly copies the earlier ones'
short records, floods of identical and near-identical short records, and
short and long documents mixed. Seeded; written to the directory given.

    python3 benches/short_inputs.py DIR [SCALE]
"""
import json
import random
import sys

WORDS = ["river", "stone", "market", "council", "budget", "winter", "engine", "garden",
         "letter", "window", "doctor", "planet", "silver", "forest", "harbor", "signal"]


def words(rng, n):
    return " ".join(rng.choice(WORDS) + str(rng.randrange(300)) for _ in range(n))


def write(path, texts):
    with open(path, "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"{path.rsplit('/', 1)[-1]}-{i}", "text": t}) + "\n")


def near(rng, text):
    w = text.split()
    w[rng.randrange(len(w))] = words(rng, 1)
    return " ".join(w)


def main():
    d = sys.argv[1]
    scale = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(26)
    short = [words(rng, rng.randrange(1, 14)) for _ in range(3000 * scale)]
    long_ = ["\n\n".join(words(rng, 50) for _ in range(4)) for _ in range(100 * scale)]
    flood = "the very same short record"
    b1 = short[: 2000 * scale] + long_[:50] + [flood] * 40
    rng.shuffle(b1)
    b2 = []
    for i in range(1500 * scale):
        s = rng.choice(short[: 2000 * scale])
        b2.append(s if i % 3 == 0 else near(rng, s) if i % 3 == 1 else words(rng, 6))
    b2 += [flood] * 30 + [flood + " again"] * 20 + long_[50:] + short[2000 * scale:]
    rng.shuffle(b2)
    b3 = [rng.choice(b1 + b2) for _ in range(800 * scale)] + [near(rng, rng.choice(short)) for _ in range(800 * scale)]
    b3 += [flood] * 25 + [words(rng, 5) for _ in range(200)]
    rng.shuffle(b3)
    # A flood spread over updates: the same short records in every batch.
    b4 = [flood] * 20 + [flood + " again"] * 20 + [words(rng, 4) for _ in range(50)]
    write(f"{d}/b4.jsonl", b4)
    write(f"{d}/b1.jsonl", b1)
    write(f"{d}/b2.jsonl", b2)
    write(f"{d}/b3.jsonl", b3)


main()
