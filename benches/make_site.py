#!/usr/bin/env python3
"""Pages of one site: the same template (a navigation line before the body, a footer
after it) around a body of its own on every page. No page is a copy of another, so
a deduplicator that drops any of them has merged pages that share only boilerplate.

    python3 benches/make_site.py --pages 8000 --template 300 --paragraphs 3 --out site.jsonl

--template is the template's words (a third before the body, the rest after it);
--paragraphs the body's paragraphs of 60 words. Words are drawn from 20,000 made-up
ones, so two bodies share no 5-word shingle. Each page is its own group ("group":
"pN"), as benches/eval_detection.py reads it. At 300 template words and 3 paragraphs
the template is 62% of each page. Seeded (--seed): the same arguments write the same
bytes.
"""
import argparse
import json
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=8000)
    ap.add_argument("--template", type=int, default=300)
    ap.add_argument("--paragraphs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    vocab = [f"w{i}" for i in range(20000)]
    words = lambda n: " ".join(rnd.choice(vocab) for _ in range(n))
    nav = words(a.template // 3)
    footer = words(a.template - a.template // 3)
    with open(a.out, "w", encoding="utf-8") as out:
        for i in range(a.pages):
            body = "\n\n".join(words(60) for _ in range(a.paragraphs))
            text = f"{nav}\n\n{body}\n\n{footer}"
            out.write(json.dumps({"id": f"p{i}", "text": text, "group": f"p{i}"}) + "\n")


if __name__ == "__main__":
    main()
