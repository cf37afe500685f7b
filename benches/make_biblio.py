#!/usr/bin/env python3
"""Make a labelled corpus of bibliographic records: one paper exported by several databases.

Systematic reviews search several databases (PubMed, Embase, Web of Science, Scopus...) and
get the same paper once from each, rendered differently; the ASySD benchmark holds such real
exports. This makes a synthetic stand-in (every word drawn from the word lists below, no text
from anywhere else) with the differences those exports show:

  fields      title, authors, journal, year, volume, pages and abstract in each database's
              order and punctuation ("Title. Authors. Journal Year;Vol:Pages. Abstract",
              "Authors (Year) Title. Journal, Vol, pp. Pages. Abstract", ...); authors as
              "Smith JA", "Smith, J. A.", "J. A. Smith" or "SMITH J"
  markup      inline markup: <sub>, <sup>, <i>, <b>, &amp;, &lt;, &#945;-style entities,
              MathML-ish <mml:msub><mml:mi>K</mml:mi>...</mml:msub>
  notation    the same notation written otherwise: K(ATP), K<sub>ATP</sub>, K-ATP, KATP;
              Ca(2+), Ca<sup>2+</sup>, Ca2+; Greek letters as symbols, names or entities
              (TNF-alpha, TNF-α, TNF-&alpha;)
  case        a title in upper case or title case
  truncate    the abstract cut after 60-90% of its words (some end with "...")
  no-abstract the abstract missing (title, authors and source only)
  copyright   a database's line after the abstract ("(c) 2019 Elsevier Ltd...")

and hard negatives: other papers by the same authors in the same journal (a shared author
list, journal and vocabulary, different title and abstract), which are not duplicates.

Each record is {"id", "text", "group", "kind"}: the exports of one paper share its "group"
(the ground truth of benches/eval_detection.py); "kind" lists how the record was rendered.
Later exports lose their abstract 10% of the time and have it cut 25% of the time; the first
export of a paper has an abstract (cut 15% of the time): a record without one comes after
one with it. Deterministic for a given --seed.

Usage: python3 benches/make_biblio.py --papers 1500 --seed 1 --out target/eval/biblio.jsonl
       python3 benches/eval_detection.py target/eval/biblio.jsonl --setting ""
"""
import argparse
import json
import os
import random

SURNAMES = ("Abara Bellweather Castellan Dunmore Esterhaz Fairholm Gandara Halvorsen Ibarrola "
            "Jankowitz Kestrel Lindqvist Moravec Nakashima Okonkwo Pellegrin Quenneville Rasmund "
            "Sandoval Thibodeau Underhill Valdivia Whitcombe Xanthos Yamaguchi Zoltanek Achterberg "
            "Brannigan Corvalan Delacroix Eskildsen Fontaine Grimaldi Hollister Iwanaga Jovanovic "
            "Kowalczyk Laramee Montalvo Nieuwenhuis Ortega Przybylski Quintero Rosenthal Szabo "
            "Tanaka Ulbricht Vasquez Wojcik Zeller").split()
JOURNALS = ["Journal of Experimental Cardiology", "Annals of Translational Pharmacology",
            "Clinical Neurobiology Reports", "International Review of Metabolic Research",
            "Archives of Comparative Physiology", "Frontiers in Receptor Biology",
            "Quarterly Journal of Ion Channel Studies", "European Heart Science"]
JOURNAL_ABBR = {j: " ".join(w[:4] + "." if len(w) > 4 else w for w in j.split() if w not in
                            ("of", "in")) for j in JOURNALS}
NOUNS = ("channel receptor expression activation inhibition response signalling pathway "
         "cardiomyocyte neuron infarction ischaemia reperfusion cohort outcome dose model "
         "mechanism protection injury stress function release uptake current membrane "
         "mitochondria kinase phosphorylation agonist antagonist blockade mice rats patients "
         "tissue sample assay concentration level marker score trial therapy").split()
ADJECTIVES = ("cardiac neuronal vascular renal hepatic acute chronic selective potent novel "
              "transient sustained dependent independent significant reduced increased "
              "protective adverse intracellular extracellular oxidative inflammatory "
              "randomised controlled prospective retrospective").split()
VERBS = ("reduced increased attenuated enhanced abolished restored prevented induced "
         "modulated suppressed triggered improved impaired altered mediated").split()

# Notation: how each database writes it. (plain PubMed-like, marked-up, other renderings)
NOTATION = [
    ["K(ATP)", "K<sub>ATP</sub>", "K-ATP", "KATP", "<mml:msub><mml:mi>K</mml:mi><mml:mi>ATP</mml:mi></mml:msub>"],
    ["Ca(2+)", "Ca<sup>2+</sup>", "Ca2+", "Ca&lt;sup&gt;2+&lt;/sup&gt;"],
    ["TNF-alpha", "TNF-α", "TNF-&alpha;", "TNF&#945;", "TNF-<i>α</i>"],
    ["beta-adrenergic", "β-adrenergic", "&beta;-adrenergic", "<i>β</i>-adrenergic"],
    ["IC(50)", "IC<sub>50</sub>", "IC50"],
    ["Na(+)/K(+)-ATPase", "Na<sup>+</sup>/K<sup>+</sup>-ATPase", "Na+/K+-ATPase"],
    ["PGC-1alpha", "PGC-1α", "PGC-1&alpha;"],
    ["H(2)O(2)", "H<sub>2</sub>O<sub>2</sub>", "H2O2"],
    ["NF-kappaB", "NF-κB", "NF-&kappa;B", "NF-<i>κ</i>B"],
    ["P < 0.05", "P &lt; 0.05", "<i>P</i> &lt; 0.05", "p<0.05"],
    ["5-HT(1A)", "5-HT<sub>1A</sub>", "5-HT1A"],
    ["gamma-aminobutyric acid", "γ-aminobutyric acid", "&gamma;-aminobutyric acid"],
]
COPYRIGHT = ["(c) {y} Elsevier Ltd. All rights reserved.",
             "Copyright (c) {y} John Doe Publishing Group. All rights reserved.",
             "(C) {y} The Authors. Published by Example Press on behalf of the Society.",
             "© {y} Wolters Example Health, Inc."]


def sentence(rng, notations):
    """One abstract sentence; a notation slot is a ("n", index) tuple rendered later."""
    parts = [rng.choice(["The", "This", "Our", "In", "Here,", "We found that"]),
             rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    if rng.random() < 0.35:
        parts.append(("n", rng.choice(notations)))
    parts += [rng.choice(VERBS), "the", rng.choice(ADJECTIVES), rng.choice(NOUNS), "of",
              rng.choice(NOUNS)]
    for _ in range(rng.randint(0, 3)):
        parts += [rng.choice(["in", "after", "with", "during", "by", "and"]),
                  rng.choice(ADJECTIVES), rng.choice(NOUNS)]
        if rng.random() < 0.15:
            parts.append(("n", rng.choice(notations)))
    if rng.random() < 0.2:
        parts += ["(", ("n", 9), ")"]
    return parts


def paper(rng, authors=None, journal=None):
    notations = rng.sample(range(len(NOTATION)), 4)
    title = [rng.choice(ADJECTIVES).capitalize(), rng.choice(NOUNS), ("n", notations[0]),
             rng.choice(VERBS), rng.choice(ADJECTIVES), rng.choice(NOUNS), "in",
             rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    abstract = [sentence(rng, notations) for _ in range(rng.randint(6, 14))]
    if authors is None:
        authors = [(rng.choice(SURNAMES), "".join(rng.choice("ABCDEFGHJKLMNPRSTW")
                                                  for _ in range(rng.randint(1, 2))))
                   for _ in range(rng.randint(2, 8))]
    return {"title": title, "abstract": abstract, "authors": authors,
            "journal": journal or rng.choice(JOURNALS), "year": rng.randint(1995, 2024),
            "volume": rng.randint(1, 120), "pages": rng.randint(1, 2900)}


def render_tokens(tokens, style, rng):
    out = []
    for t in tokens:
        if isinstance(t, tuple):
            forms = NOTATION[t[1]]
            out.append(forms[0] if style == 0 else rng.choice(forms))
        else:
            out.append(t)
    text = " ".join(out).replace("( ", "(").replace(" )", ")")
    return text


def render_authors(authors, style):
    if style == 0:
        return ", ".join(f"{s} {i}" for s, i in authors)
    if style == 1:
        return "; ".join(f"{s}, {'. '.join(i)}." for s, i in authors)
    if style == 2:
        return ", ".join(f"{'. '.join(i)}. {s}" for s, i in authors)
    return "; ".join(f"{s.upper()} {i}" for s, i in authors)


def export(p, style, rng, kinds):
    """One database's record of paper `p`: style 0 is plain (PubMed-like)."""
    marked = style != 0 and rng.random() < 0.7
    tstyle = 1 if marked else 0
    title = render_tokens(p["title"], tstyle, rng)
    if tstyle:
        kinds.append("notation")
    if style == 3 and rng.random() < 0.5:
        title = title.upper()
        kinds.append("case")
    elif marked and rng.random() < 0.3:
        title = f"<i>{title}</i>"
        kinds.append("markup")
    sents = [render_tokens(s, tstyle, rng) + "." for s in p["abstract"]]
    abstract = " ".join(s[0].upper() + s[1:] for s in sents)
    if marked and rng.random() < 0.5:
        abstract = abstract.replace(" and ", " &amp; ", 2)
        kinds.append("markup")
    if "truncate" in kinds:
        words = abstract.split(" ")
        abstract = " ".join(words[: int(len(words) * rng.uniform(0.6, 0.9))])
        if rng.random() < 0.5:
            abstract += " ..."
    if "no-abstract" in kinds:
        abstract = ""
    elif style != 0 and rng.random() < 0.4:
        abstract += " " + rng.choice(COPYRIGHT).format(y=p["year"])
        kinds.append("copyright")
    authors = render_authors(p["authors"], style)
    journal = p["journal"] if style in (0, 2) else JOURNAL_ABBR[p["journal"]]
    y, v, pg = p["year"], p["volume"], p["pages"]
    if style == 0:
        head = f"{title}. {authors}. {journal} {y};{v}:{pg}-{pg + 9}."
    elif style == 1:
        head = f"{authors} ({y}) {title}. {journal}, {v}, pp. {pg}-{pg + 9}."
    elif style == 2:
        head = f"{title}\n{authors}\n{journal}, Volume {v}, {y}, Pages {pg}-{pg + 9}"
    else:
        head = f"{title}. {authors}. {journal}. {y}. Vol. {v}. p. {pg}."
    return head + ("\n\n" + abstract if abstract else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=1500)
    ap.add_argument("--negatives", type=float, default=0.15,
                    help="share of papers that are other papers of an earlier paper's authors")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    papers = []
    for i in range(a.papers):
        if papers and rng.random() < a.negatives:
            # Another paper of the same authors in the same journal: not a duplicate.
            other = rng.choice(papers)
            papers.append((paper(rng, other[0]["authors"], other[0]["journal"]), ["negative"]))
        else:
            papers.append((paper(rng), []))
    # Records: each paper exported by 1-4 databases; the exports are interleaved with
    # other papers' (as a review's combined search results are), the first export of a
    # paper (never one without an abstract) before its others.
    pending = []
    for g, (p, kinds) in enumerate(papers):
        styles = rng.sample(range(4), rng.randint(1, 4))
        styles.sort(key=lambda s: s != 0)  # the plain export, when there, first
        for j, style in enumerate(styles):
            k = list(kinds)
            r = rng.random()
            if r < (0.25 if j else 0.15):
                k.append("truncate")
            elif j and r < 0.35:
                k.append("no-abstract")
            pending.append((g + j * rng.uniform(0, 30), g, style, k))
    pending.sort(key=lambda x: x[0])
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    written = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for n, (_, g, style, kinds) in enumerate(pending):
            text = export(papers[g][0], style, rng, kinds)
            rec = {"id": f"r{n}", "text": text, "group": f"p{g}", "kind": sorted(set(kinds))}
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode())
    print(f"{a.out}: {len(pending)} records of {len(papers)} papers, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
