#!/usr/bin/env python3
"""Make a labelled corpus of bibliographic records: one paper exported by several databases.

Systematic reviews search several databases (PubMed/Medline, Embase, Web of Science,
Scopus...) and get the same paper once from each, rendered differently; the ASySD benchmark
holds such real exports (EndNote libraries: author, year, title, journal, volume, number,
pages, DOI, ISBN/ISSN, abstract). This makes a synthetic stand-in (every word drawn from the
word lists below, no text from anywhere else) with the differences those exports show. Each
database renders the same fields its own way (as in ASySD's Cardiac set and the RIS exports
of the ASySD repository):

  medline   title ending in "."; authors "Agha, R. A."; ISO journal abbreviation without
            periods ("Int Rev Metab Res"); pages with the end abbreviated ("169-72"); plain
            notation (K(ATP), TNF-alpha); abstract sections "BACKGROUND: ... METHODS: ..."
  embase    authors "Agha R.A."; full journal name; pages "169-172"; issue as "1-2" or "01-";
            the DOI's suffix in upper case; inline markup or rewritten notation
            (K<sub>ATP</sub>, K-ATP, TNF-&alpha;); "Background: ..."; a copyright line after
            the abstract ("Copyright (c) 2016 Elsevier Ltd. All rights reserved.")
  wos       authors "Agha, RA"; the journal in upper case; titles before 2000 in upper case;
            rewritten notation; the abstract without section names; a copyright line
  scopus    authors "Agha, R.A." or full given names ("Agha, Riaz Ahmed"); full journal name;
            MathML or <sup>/<sub> notation; a copyright line ("(c) 2016 The Authors")

Fields a database lacks are left out: no DOI (15% of Embase and WoS records), no issue. A
record becomes a document by one converter for every database (`--layout fields`, the
default): its fields in one order, one a line (title, authors, year, journal, volume,
issue, pages, DOI), then a blank line and the abstract. `--layout citation` instead writes
each database's own citation line ("Title. Authors. Journal Year;Vol:Pages.",
"Authors (Year) Title. Journal, Vol, pp. Pages.", ...), a harder case (the field order
differs too).

Records: later exports of a paper lose their abstract 10% of the time and have it cut
after 60-90% of its words 25% of the time (some end "..."); the first export has an abstract
(cut 15% of the time): a record without one comes after one with it. Hard negatives: other
papers by the same authors in the same journal (a shared author list, journal and
vocabulary, different title and abstract), which are not duplicates.

Each record is {"id", "text", "group", "kind"}: the exports of one paper share its "group"
(the ground truth of benches/eval_detection.py); "kind" lists the database and how the
record was rendered. Deterministic for a given --seed (the session 10/11 figures were made by
the version of this file at commit 518165a, which had only the citation layout).

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
# The ISO abbreviation Medline gives (no periods), and the older period style.
JOURNAL_ISO = {j: " ".join(w[:4] if len(w) > 4 else w for w in j.split() if w not in ("of", "in"))
               for j in JOURNALS}
JOURNAL_ABBR = {j: " ".join(w[:4] + "." if len(w) > 4 else w for w in j.split() if w not in
                            ("of", "in")) for j in JOURNALS}
GIVEN = ("Anna Bruno Carla Dmitri Elena Farid Greta Hiroshi Ines Jonas Kamala Lars Mira Nikolai "
         "Olga Pavel Rosa Stefan Tomas Ulla Vera Walter Yusuf Zofia").split()
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
COPYRIGHT = ["Copyright (c) {y} Elsevier Ltd. All rights reserved.",
             "(c) {y} Elsevier Ltd. All rights reserved.",
             "Copyright (c) {y} John Doe Publishing Group. All rights reserved.",
             "(C) {y} The Authors. Published by Example Press on behalf of the Society.",
             "© {y} Wolters Example Health, Inc."]
SECTIONS = ["Background", "Methods", "Results", "Conclusions"]
DATABASES = ["medline", "embase", "wos", "scopus"]


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
    for _ in range(rng.randint(0, 5)):
        title += [rng.choice(["and", "after", "with", "during", "of"]), rng.choice(ADJECTIVES),
                  rng.choice(NOUNS)]
    abstract = [sentence(rng, notations) for _ in range(rng.randint(6, 14))]
    # Section starts (structured abstracts, half the papers): sentence indexes.
    n = len(abstract)
    sections = sorted(rng.sample(range(1, n), 3)) if rng.random() < 0.5 else None
    if authors is None:
        authors = [(rng.choice(SURNAMES), [rng.choice(GIVEN) for _ in range(rng.randint(1, 2))])
                   for _ in range(rng.randint(2, 8))]
    journal = journal or rng.choice(JOURNALS)
    year = rng.randint(1995, 2024)
    volume, first = rng.randint(1, 120), rng.randint(1, 2900)
    jcode = "".join(w[0] for w in journal.split() if w[0].isupper()).lower()
    return {"title": title, "abstract": abstract, "sections": sections, "authors": authors,
            "journal": journal, "year": year, "volume": volume,
            "issue": rng.randint(1, 12), "first": first, "last": first + rng.randint(3, 15),
            "doi": f"10.{rng.randint(1000, 1999)}/{jcode}.{year}.{volume:02d}."
                   f"{rng.randint(1, 999):03d}"}


def render_tokens(tokens, marked, rng):
    out = []
    for t in tokens:
        if isinstance(t, tuple):
            forms = NOTATION[t[1]]
            out.append(rng.choice(forms) if marked else forms[0])
        else:
            out.append(t)
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def render_authors(authors, db, rng):
    def initials(given, sep):
        return sep.join(g[0] for g in given)
    if db == "medline":
        return "; ".join(f"{s}, {initials(g, '. ')}." for s, g in authors)
    if db == "embase":
        return "; ".join(f"{s} {initials(g, '.')}." for s, g in authors)
    if db == "wos":
        return "; ".join(f"{s}, {initials(g, '')}" for s, g in authors)
    if rng.random() < 0.3:  # scopus with full given names
        return "; ".join(f"{s}, {' '.join(g)}" for s, g in authors)
    return "; ".join(f"{s}, {initials(g, '.')}." for s, g in authors)


def short_pages(first, last):
    """Medline's page range: the end's leading digits it shares with the start left out."""
    a, b = str(first), str(last)
    if len(a) != len(b):
        return f"{a}-{b}"
    i = 0
    while i < len(a) - 1 and a[i] == b[i]:
        i += 1
    return f"{a}-{b[i:]}"


def render_abstract(p, db, marked, rng):
    sents = [render_tokens(s, marked, rng) + "." for s in p["abstract"]]
    sents = [s[0].upper() + s[1:] for s in sents]
    if p["sections"] and db != "wos":
        for k, i in enumerate([0] + p["sections"]):
            name = SECTIONS[k].upper() if db == "medline" else SECTIONS[k]
            sents[i] = f"{name}: {sents[i]}"
    return " ".join(sents)


def export(p, db, rng, kinds, layout):
    """One database's record of paper `p`."""
    marked = db != "medline" and rng.random() < 0.7
    if marked:
        kinds.append("notation")
    title = render_tokens(p["title"], marked, rng)
    if db == "wos" and p["year"] < 2000:
        title = title.upper()
        kinds.append("case")
    elif marked and rng.random() < 0.15:
        title = f"<i>{title}</i>"
        kinds.append("markup")
    if db == "medline":
        title += "."
    abstract = render_abstract(p, db, marked, rng)
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
    elif db != "medline" and rng.random() < 0.5:
        abstract += " " + rng.choice(COPYRIGHT).format(y=p["year"])
        kinds.append("copyright")
    authors = render_authors(p["authors"], db, rng)
    journal = {"medline": JOURNAL_ISO[p["journal"]], "wos": p["journal"].upper()}.get(
        db, p["journal"])
    y, v, first, last = p["year"], p["volume"], p["first"], p["last"]
    pages = short_pages(first, last) if db == "medline" else f"{first}-{last}"
    issue = str(p["issue"])
    if db == "embase" and rng.random() < 0.2:
        issue = rng.choice([f"{issue}-{p['issue'] + 1}", f"{p['issue']:02d}-"])
    if rng.random() < 0.15:
        issue = ""
    doi = p["doi"]
    if db == "embase":
        prefix, suffix = doi.split("/", 1)
        doi = f"{prefix}/{suffix.upper()}"
    if db in ("embase", "wos") and rng.random() < 0.15:
        doi = ""
    if layout == "fields":
        fields = [title, authors, str(y), journal, str(v), issue, pages, doi]
        head = "\n".join(f for f in fields if f)
    elif db == "medline":
        head = f"{title} {authors}. {journal} {y};{v}:{pages}."
    elif db == "embase":
        head = f"{authors} ({y}) {title}. {journal}, {v}, pp. {pages}."
    elif db == "wos":
        head = f"{title}\n{authors}\n{journal}, Volume {v}, {y}, Pages {pages}"
    else:
        head = f"{title}. {authors}. {JOURNAL_ABBR[p['journal']]}. {y}. Vol. {v}. p. {first}."
    return head + ("\n\n" + abstract if abstract else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--papers", type=int, default=1500)
    ap.add_argument("--negatives", type=float, default=0.15,
                    help="share of papers that are other papers of an earlier paper's authors")
    ap.add_argument("--layout", choices=["fields", "citation"], default="fields")
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
        dbs = rng.sample(DATABASES, rng.randint(1, 4))
        for j, db in enumerate(dbs):
            k = list(kinds) + [db]
            r = rng.random()
            if r < (0.25 if j else 0.15):
                k.append("truncate")
            elif j and r < 0.35:
                k.append("no-abstract")
            pending.append((g + j * rng.uniform(0, 30), g, db, k))
    pending.sort(key=lambda x: x[0])
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    written = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for n, (_, g, db, kinds) in enumerate(pending):
            text = export(papers[g][0], db, rng, kinds, a.layout)
            rec = {"id": f"r{n}", "text": text, "group": f"p{g}", "kind": sorted(set(kinds))}
            line = json.dumps(rec, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode())
    print(f"{a.out}: {len(pending)} records of {len(papers)} papers, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
