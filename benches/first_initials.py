#!/usr/bin/env python3
"""What a hashing rule "a name's given names read as its first initial" would do, on text.

A simulation to bound a rule before it is written in Rust (benches/RESULTS.md, session 17):
it rewrites text the way such a rule would read it, and neardup then hashes the rewritten
text. Two parts, so that a name reads alike where neardup reads a name line and where it does
not (the asymmetry that made session 14's attempt lose pairs):

  name lines  a line made only of names `Surname, Given names` (separated by `;`, `&` or
              `and`; an optional `, Jr` or `, 3rd`): each name's given names as the first
              one's initial (`Liu, Karen P. Y. and Chan, C. C. H.` as `Liu, K. and Chan, C.`);
  elsewhere   a capitalized word, an optional comma, then initials (single capitals joined
              by `.`, spaces or `-`, or two or three capitals run together) followed by `,`,
              `;`, `.`, `and` or the line's end: the first initial only (`Agha R.A.;`,
              `Agha RA;` and `Agha, R. A.;` as `Agha R.;`, `Adeli K.Lewis G. F.` as `Adeli
              K.Lewis G.`); `George W. Bush` stays.

Usage: python3 benches/first_initials.py IN.jsonl OUT.jsonl   (each record's "text")
       benches/eval_biblio_real.py --what-if first-initials-text (imports first_initials)
"""
import json
import re
import sys

NAME = re.compile(r"^(\s*[A-Z][\w'\- ]{0,40}?,\s*)([A-Z][\w.\-' ]*?)"
                  r"(\s*(?:,\s*(?:Jr|Sr|II|III|IV|2nd|3rd)\.?)?\s*)$")
SEPARATOR = re.compile(r"(;|&|\band\b)")
INITIALS = re.compile(r"(?<![\w'’])([A-Z][a-z][\w'’-]*,?\s+)([A-Z])"
                      r"((?:(?:\.\s*|\s+|-)[A-Z](?![\w'’]))+\.?|[A-Z]{1,2}(?![\w'’])\.?|\.)"
                      r"(?=\s*(?:[,;]|\band\b|\.|$))")


def name_line(line):
    """`line` with each name's given names as one initial, or None if it is no name list."""
    parts = SEPARATOR.split(line)
    names = [p for p in parts[0::2] if p.strip()]
    if not names or not all(NAME.match(n) for n in names):
        return None
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0 and part.strip():
            m = NAME.match(part)
            part = m.group(1) + m.group(2)[0] + "." + m.group(3)
        out.append(part)
    return "".join(out)


def first_initials(text):
    lines = []
    for line in text.split("\n"):
        read = name_line(line) if "," in line else None
        lines.append(read if read is not None
                     else INITIALS.sub(lambda m: m.group(1) + m.group(2) + ".", line))
    return "\n".join(lines)


def main():
    src, dst = sys.argv[1:3]
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            r = json.loads(line)
            r["text"] = first_initials(r["text"])
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
