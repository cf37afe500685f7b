#!/usr/bin/env python3
"""Document-level detection quality on real bibliographic records (exports of one paper from
several databases), with neardup's default settings.

No data is kept in this repository; the script reads it from where it was put (`--data`,
default `target/eval/real`) and skips a set that is not there. Two sources are read:

  LDD sets   the labelled literature-deduplication benchmark that bib-dedupe
             (github.com/CoLRev-Environment/bib-dedupe) kept under data/ before it moved it
             to a submodule: per set, records_pre_merged.csv (one row a record: title,
             author, year, journal, volume, number, pages, sometimes abstract and DOI) and
             merged_record_ids.csv (one row a group of records of one paper: the truth).
             `--extract GITDIR` copies the sets from a clone of bib-dedupe (the commit before
             e3f876d, "extract evaluation and datasets") into --data as NAME.records.csv and
             NAME.merged.csv. The ASySD sets of that benchmark (cardiac, depression,
             diabetes, neuroimaging, srsr) were large files not stored in the clone this was
             written with; those found are evaluated like the others.
  asysd-test ASySD's own labelled test set (github.com/camaradesuk/ASySD,
             tests/testthat/labelled_test_set.csv: 1,845 EndNote records with abstracts, of
             which 584 are marked "unique" and 1,261 "duplicate" in its `source` column). It
             names no groups, so it is scored as ASySD scores itself (validation/
             calculate_performance_function.R, keep_label = "Unique"): in each cluster
             neardup finds, one record is kept (a gold "unique" one if the cluster has one)
             and the others are removed; a removed gold "duplicate" is a true positive, a
             removed gold "unique" a false positive, a gold "duplicate" left a false
             negative. `--extract-asysd GITDIR` copies it from a clone of ASySD.

A record becomes one JSON line as a user would feed it to neardup and as
benches/make_biblio.py's fields layout writes it: title, authors, year, journal, volume,
issue, pages, DOI one a line (fields a record lacks left out), then a blank line and the
abstract. Records are in the file's order.

Reported per set: pair precision / recall / F1 against the groups (LDD sets), and the
removal precision / recall / F1 above (both kinds of set: for an LDD set a group's first
record is its "unique" one). With --errors, for each LDD set and the first setting: why the
missed pairs differ, field by field (an abstract in one record only, authors cut or with
other middle initials, a journal abbreviated, a title with a note added, ...; a pair may
differ in several ways) and what the false pairs share (an erratum and its paper, a
conference abstract and its article, a recurring column with one title in every issue).

--what-if RULE (repeatable) measures what a hashing rule could gain at most before it is
written: each LDD set is scored again with its records' fields rewritten as the rule would
read them, knowing which field is which (neardup hashes lines and knows no fields, so a rule
it can have gains no more): `journal-initials` (a journal as the initials of its words less
of/the/and/in/for/on, after a subtitle ` : ...`, `; ...` or `= ...` and parentheses are cut:
`New England Journal of Medicine` and `N Engl J Med` both `N E J M`), `title-notes`
(bracketed notes that end a title not itself bracketed, `[Review] [125 refs]`, and a leading
`Erratum:` or `Correction:` left out), `no-supplement` (an issue `Suppl ...` left out),
`middle-initials` (each author `Surname, Given names` as the surname and the first given
name's initial: `Liu, Karen P. Y.` and `Liu, K. P.` both `Liu, K.`), `journal-subtitle` (a
journal's closing parenthesized group left out, then the journal cut at its first ` = `,
`; ` or `: `: `Stroke; a journal of cerebral circulation`, `Medizinische Klinik (Munich,
Germany : 1983)` and `Zhonghua wei chang wai ke za zhi = Chinese journal of ...` as
`Stroke`, `Medizinische Klinik`, `Zhonghua wei chang wai ke za zhi`), `no-issue` (the
issue left out). One rule reads the rendered text instead, knowing no fields, as a hashing
rule would: `first-initials-text` (benches/first_initials.py: given names as the first
initial in name lines and after a surname elsewhere).

bib-dedupe's ASySD sets (cardiac, depression, srsr, ...) are not in its history but as large
files absent from stored clones; what is there is matches_FN_list.csv, the pairs its own
method missed, as it preprocesses records (lower case, punctuation dropped, journals
abbreviated). `--extract` also copies those as NAME.fn.csv when the set's records are absent;
each pair is then rendered like a record above, all of a set in one file, and the table
"bib-dedupe's missed pairs" gives how many neardup finds (recall only: the lists hold no
negatives).

Usage: python3 benches/eval_biblio_real.py --extract ~/bib-dedupe --extract-asysd ~/ASySD
       NEARDUP=target/release/neardup python3 benches/eval_biblio_real.py [--setting ARGS]...
       [--errors] [--what-if RULE]...
"""
import argparse
import collections
import csv
import io
import itertools
import json
import os
import re
import subprocess
import unicodedata
import sys

from first_initials import first_initials as first_initials_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("NEARDUP", os.path.join(ROOT, "target", "release", "neardup"))
LDD = ["cardiac", "depression", "diabetes", "neuroimaging", "srsr", "cytology_screening",
       "haematology", "respiratory", "stroke", "digital_work"]
# bib-dedupe's tree before its data moved to a submodule.
LDD_COMMIT = "e3f876d^"
MISSING = {"", "na", "nan", "unknown", "none"}


def git_show(gitdir, spec):
    r = subprocess.run(["git", "--git-dir", gitdir, "show", spec], capture_output=True)
    return r.stdout if r.returncode == 0 else None


def extract(gitdir, data):
    os.makedirs(data, exist_ok=True)
    if os.path.isdir(os.path.join(gitdir, ".git")):
        gitdir = os.path.join(gitdir, ".git")
    for name in LDD:
        merged = git_show(gitdir, f"{LDD_COMMIT}:data/{name}/merged_record_ids.csv")
        parts = [git_show(gitdir, f"{LDD_COMMIT}:data/{name}/records_pre_merged.csv")]
        if parts[0] is None:
            parts = [git_show(gitdir, f"{LDD_COMMIT}:data/{name}/records_pre_merged_part{i}.csv")
                     for i in (1, 2)]
        if merged is None or any(p is None for p in parts):
            fn = git_show(gitdir, f"{LDD_COMMIT}:data/{name}/matches_FN_list.csv")
            if fn is not None:
                with open(os.path.join(data, f"{name}.fn.csv"), "wb") as f:
                    f.write(fn)
            print(f"{name}: not in {gitdir} (large files absent?)"
                  + ("; its missed-pairs list copied" if fn is not None else ""),
                  file=sys.stderr)
            continue
        records = parts[0] + b"".join(p.split(b"\n", 1)[1] for p in parts[1:])
        with open(os.path.join(data, f"{name}.records.csv"), "wb") as f:
            f.write(records)
        with open(os.path.join(data, f"{name}.merged.csv"), "wb") as f:
            f.write(merged)
        print(f"{name}: extracted", file=sys.stderr)


def extract_asysd(gitdir, data):
    os.makedirs(data, exist_ok=True)
    if os.path.isdir(os.path.join(gitdir, ".git")):
        gitdir = os.path.join(gitdir, ".git")
    raw = git_show(gitdir, "HEAD:tests/testthat/labelled_test_set.csv")
    if raw is None:
        print(f"asysd-test: not in {gitdir}", file=sys.stderr)
        return
    with open(os.path.join(data, "asysd-test.csv"), "wb") as f:
        f.write(raw)
    print("asysd-test: extracted", file=sys.stderr)


def field(r, *names):
    for n in names:
        v = (r.get(n) or "").strip()
        if v.lower() not in MISSING:
            return v
    return ""


def render(r):
    """The text a user would give neardup for record `r` (make_biblio's fields layout)."""
    head = [field(r, "title"), field(r, "author"), field(r, "year"),
            field(r, "journal", "booktitle"), field(r, "volume"), field(r, "number", "issue"),
            field(r, "pages"), field(r, "doi")]
    text = "\n".join(" ".join(f.split()) for f in head if f)
    abstract = field(r, "abstract")
    return text + ("\n\n" + " ".join(abstract.split()) if abstract else "")


def read_csv(path):
    csv.field_size_limit(1 << 30)
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def journal_initials(journal):
    journal = re.split(r"\s+:\s|\s*[;=]\s*", journal)[0]
    journal = re.sub(r"\([^)]*\)", " ", journal)
    return " ".join(w[0] for w in re.findall(r"[^\W\d_]+", journal)
                    if w.lower() not in {"of", "the", "and", "in", "for", "on"})


def title_without_notes(title):
    if not title.startswith("["):
        title = re.sub(r"\s*(\[[^\]]*\]\s*)+\.?$", "", title)
    return re.sub(r"^(?i:erratum|correction)\s*:\s*", "", title)


def given_as_first_initial(authors):
    out = []
    for name in re.split(r"\s+and\s+", authors):
        surname, _, given = name.partition(",")
        given = given.strip()
        out.append(surname + (", " + given[0] + "." if given else ""))
    return " and ".join(out)


def journal_subtitle(journal):
    journal = re.sub(r"\s*\([^)]*\)\s*$", "", journal)
    return re.split(r"\s+=\s+|\s*;\s+|:\s+", journal)[0]


WHAT_IF = {
    "journal-initials": lambda r: {k: journal_initials(v) if k in ("journal", "booktitle")
                                   else v for k, v in r.items()},
    "title-notes": lambda r: {k: title_without_notes(v) if k == "title" and v else v
                              for k, v in r.items()},
    "no-supplement": lambda r: {k: "" if k in ("number", "issue")
                                and re.match(r"(?i)\s*supp", v or "") else v
                                for k, v in r.items()},
    "middle-initials": lambda r: {k: given_as_first_initial(v) if k == "author" and v
                                  else v
                                  for k, v in r.items()},
    "journal-subtitle": lambda r: {k: journal_subtitle(v) if k in ("journal", "booktitle")
                                   and v else v for k, v in r.items()},
    "no-issue": lambda r: {k: "" if k in ("number", "issue") else v for k, v in r.items()},
}
# Rules on a record's rendered text, knowing no fields, as a hashing rule would read it.
TEXT_WHAT_IF = {"first-initials-text": first_initials_text}


def load_fn(data, name):
    """bib-dedupe's missed pairs of set `name` as docs; a pair's records share a group."""
    docs = []
    for r in read_csv(os.path.join(data, f"{name}.fn.csv")):
        r = {k.lower(): v for k, v in r.items()}
        r["journal"] = r.get("container_title", "")
        r["author"] = r.get("author_full") or r.get("author", "")
        docs.append({"id": r["id"], "text": render(r), "group": r["case"], "unique": False,
                     "record": r})
    by_group = collections.Counter(d["group"] for d in docs)
    return [d for d in docs if by_group[d["group"]] >= 2]


def load_ldd(data, name):
    records = read_csv(os.path.join(data, f"{name}.records.csv"))
    groups = {}
    with open(os.path.join(data, f"{name}.merged.csv"), encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f)):
            for rid in row["merged_ids"].split(";"):
                groups[rid.strip()] = n
    docs = []
    first = set()
    for r in records:
        g = groups.get(r["ID"], f"alone-{r['ID']}")
        unique = g not in first
        first.add(g)
        docs.append({"id": r["ID"], "text": render(r), "group": g, "unique": unique,
                     "record": r})
    return docs


def rewritten(docs, rule):
    """`docs` with each record's fields read as `rule` of WHAT_IF would read them (or,
    for a rule of TEXT_WHAT_IF, each record's text as that rule rewrites it)."""
    out = []
    for d in docs:
        if rule in TEXT_WHAT_IF:
            out.append(dict(d, text=TEXT_WHAT_IF[rule](d["text"])))
            continue
        r = WHAT_IF[rule](d["record"])
        out.append(dict(d, text=render(r), record=r))
    return out


def load_asysd(data):
    docs = []
    for r in read_csv(os.path.join(data, "asysd-test.csv")):
        docs.append({"id": r["record_id"], "text": render(r), "group": None,
                     "unique": r["source"].strip().lower() == "unique"})
    return docs


def clusters(path, args):
    out = subprocess.run([BIN, "scan", "--json", "--level", "docs", *args, path],
                         capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    return [sorted(m["document"]["index"] for m in c["members"])
            for c in report["near_duplicates"]["cluster_list"]]


def prf(tp, pred, truth):
    p = tp / pred if pred else 0.0
    r = tp / truth if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(docs, found):
    """(pair P, R, F1) or None without groups; (removal P, R, F1, removed)."""
    pairs = None
    if docs[0]["group"] is not None:
        by_group = collections.defaultdict(list)
        for i, d in enumerate(docs):
            by_group[d["group"]].append(i)
        truth = {p for g in by_group.values() for p in itertools.combinations(g, 2)}
        pred = {p for c in found for p in itertools.combinations(c, 2)}
        pairs = prf(len(pred & truth), len(pred), len(truth))
    removed = tp = 0
    for c in found:
        uniques = sum(docs[i]["unique"] for i in c)
        removed += len(c) - 1
        tp += len(c) - 1 - max(uniques - 1, 0)
    dups = sum(not d["unique"] for d in docs)
    return pairs, prf(tp, removed, dups) + (removed,)


def words(text):
    """Lower-case words, accents and inline tags dropped (what hashing roughly sees)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.findall(r"\w+", re.sub(r"<[^>]+>", " ", text))


def names(authors):
    """[(surname words, given-name letters)] of `Surname, Given; ...` or `... and ...`."""
    out = []
    for name in re.split(r"\band\b|;", authors):
        surname, _, given = name.partition(",")
        if surname.strip():
            out.append((" ".join(words(surname)), "".join(w[0] for w in words(given))))
    return out


def differences(a, b):
    """Why two records of one paper differ: a list of reasons (see --errors)."""
    get = lambda r, f: field(r, f, *(["booktitle"] if f == "journal" else []))
    out = []
    xa, xb = get(a, "abstract"), get(b, "abstract")
    if bool(xa) != bool(xb):
        out.append("abstract in one record only")
    elif xa and words(xa) != words(xb):
        out.append("abstracts differ (truncated, notation)")
    na, nb = names(get(a, "author")), names(get(b, "author"))
    if not na or not nb:
        out.append("authors in one record only" if na or nb else "")
    elif len(na) != len(nb):
        out.append("authors: list cut or extended")
    elif [n[0] for n in na] != [n[0] for n in nb]:
        out.append("authors: surnames differ (order, spelling, given names first)")
    elif [n[1][:1] for n in na] != [n[1][:1] for n in nb]:
        out.append("authors: first initials differ")
    elif na != nb:
        out.append("authors: middle initials differ")
    ta, tb = words(get(a, "title")), words(get(b, "title"))
    if ta != tb:
        sa, sb = set(ta), set(tb)
        if sa <= sb or sb <= sa:
            out.append("title: words added (a note, [Review], an erratum's mention)")
        elif len(sa & sb) < len(sa | sb) / 2:
            out.append("title: translated or rewritten")
        else:
            out.append("title: words or notation differ")
    ja, jb = words(get(a, "journal")), words(get(b, "journal"))
    if ja != jb:
        if not ja or not jb:
            out.append("journal in one record only")
        elif [w for w in ja if w != "and"] == [w for w in jb if w != "and"]:
            out.append("journal: & against and")
        else:
            out.append("journal: abbreviated or another form")
    for f in ["year", "volume", "number", "pages", "doi"]:
        va, vb = get(a, f), get(b, f)
        if bool(va) != bool(vb):
            out.append(f"{f} in one record only")
        elif va and words(va) != words(vb):
            out.append(f"{f} differs")
    return [d for d in out if d]


def false_kind(a, b):
    """What two records of different papers that were merged share (see --errors)."""
    get = lambda r, f: field(r, f)
    ta, tb = words(get(a, "title")), words(get(b, "title"))
    same_names = names(get(a, "author")) == names(get(b, "author"))
    notes = r"\b(erratum|correction|corrigendum|reply|response|comment|letter)\b"
    if any(re.search(notes, " ".join(t)) for t in (ta, tb)):
        return "an erratum, comment or reply and its paper"
    if ta == tb and same_names:
        others = [f for f in ["year", "volume", "number", "pages"]
                  if words(get(a, f)) != words(get(b, f))]
        return ("same title and authors, other " + "/".join(others) if others else
                "same title, authors and source")
    sa, sb = set(ta), set(tb)
    if len(sa & sb) >= 0.6 * len(sa | sb):
        return "near-same title, same authors (a conference abstract and its article)"
    return "other titles: shared authors, journal and issue"


def errors(docs, found):
    """Counts of the reasons missed pairs differ and of what false pairs share."""
    cluster = {i: k for k, c in enumerate(found) for i in c}
    by_group = collections.defaultdict(list)
    for i, d in enumerate(docs):
        by_group[d["group"]].append(i)
    missed = [(a, b) for g in by_group.values() for a, b in itertools.combinations(g, 2)
              if cluster.get(a, -1 - a) != cluster.get(b, -1 - b)]
    false = [(a, b) for c in found for a, b in itertools.combinations(c, 2)
             if docs[a]["group"] != docs[b]["group"]]
    reasons = collections.Counter(
        r for a, b in missed for r in differences(docs[a]["record"], docs[b]["record"]))
    # Of the pairs with an abstract in one record only, those whose group starts with a
    # record without it: under `--keep first` that record is kept and the fuller one, which
    # adds its abstract, is no copy of it (a keep policy's matter, not hashing's).
    has_abstract = lambda i: bool(field(docs[i]["record"], "abstract"))
    lone = sum(has_abstract(a) != has_abstract(b)
               and not has_abstract(by_group[docs[a]["group"]][0]) for a, b in missed)
    if lone:
        reasons["abstract in one record only, the group's first without it"] = lone
    kinds = collections.Counter(false_kind(docs[a]["record"], docs[b]["record"])
                                for a, b in false)
    return len(missed), reasons, len(false), kinds


def write_jsonl(data, name, docs):
    path = os.path.join(data, f"{name}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "target", "eval", "real"))
    ap.add_argument("--extract", metavar="GITDIR", help="copy the LDD sets from bib-dedupe")
    ap.add_argument("--extract-asysd", metavar="GITDIR", help="copy ASySD's labelled test set")
    ap.add_argument("--setting", action="append")
    ap.add_argument("--only", action="append", help="set names to evaluate")
    ap.add_argument("--what-if", action="append",
                    choices=sorted(WHAT_IF) + sorted(TEXT_WHAT_IF),
                    help="also score each LDD set with its fields rewritten by RULE")
    ap.add_argument("--errors", action="store_true",
                    help="after each set with groups, count why the pairs the first "
                         "setting missed differ and what its false pairs share")
    a = ap.parse_args()
    if a.extract:
        extract(a.extract, a.data)
    if a.extract_asysd:
        extract_asysd(a.extract_asysd, a.data)
    sets = []
    for name in LDD:
        if os.path.exists(os.path.join(a.data, f"{name}.records.csv")):
            sets.append((name, lambda n=name: load_ldd(a.data, n)))
    if os.path.exists(os.path.join(a.data, "asysd-test.csv")):
        sets.append(("asysd-test", lambda: load_asysd(a.data)))
    if a.only:
        sets = [s for s in sets if s[0] in a.only]
    fn_sets = [n for n in LDD if os.path.exists(os.path.join(a.data, f"{n}.fn.csv"))
               and (not a.only or n in a.only)]
    if not sets and not fn_sets:
        print(f"no data in {a.data}: run with --extract / --extract-asysd (see the docstring)")
        return 0
    explained = []
    print("| set | setting | records | duplicates | pair P | pair R | pair F1 | removed "
          "| removal P | removal R | removal F1 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, load in sets:
        docs = load()
        variants = [("", docs)]
        if docs[0]["group"] is not None:
            variants += [(f" what-if {rule}", rewritten(docs, rule)) for rule in a.what_if or []]
        for label, docs in variants:
            path = write_jsonl(a.data, name, docs)
            dups = sum(not d["unique"] for d in docs)
            for k, s in enumerate(a.setting or [""]):
                found = clusters(path, s.split())
                if k == 0 and not label and a.errors and docs[0]["group"] is not None:
                    explained.append((name, errors(docs, found)))
                pairs, removal = score(docs, found)
                pp = " | ".join(f"{x:.3f}" for x in pairs) if pairs else "- | - | -"
                print(f"| {name} | {s or '(defaults)'}{label} | {len(docs)} | {dups} | {pp} | "
                      f"{removal[3]} | {removal[0]:.3f} | {removal[1]:.3f} | "
                      f"{removal[2]:.3f} |", flush=True)
    if fn_sets:
        print("\nbib-dedupe's missed pairs (its matches_FN_list.csv):\n")
        print("| set | setting | pairs | found | recall | abstract in one only: pairs / found |")
        print("|---|---|---:|---:|---:|---|")
    for name in fn_sets:
        docs = load_fn(a.data, name)
        path = write_jsonl(a.data, f"{name}.fn", docs)
        group_of = collections.defaultdict(list)
        for i, d in enumerate(docs):
            group_of[d["group"]].append(i)
        pairs = [p for g in group_of.values() for p in itertools.combinations(g, 2)]
        lone = [(x, y) for x, y in pairs
                if bool(field(docs[x]["record"], "abstract"))
                != bool(field(docs[y]["record"], "abstract"))]
        if not pairs:
            print(f"| {name} | - | 0 | - | - | - |")
            continue
        for s in a.setting or [""]:
            cluster = {i: k for k, c in enumerate(clusters(path, s.split())) for i in c}
            hit = lambda p: cluster.get(p[0], -1) == cluster.get(p[1], -2)
            found = sum(map(hit, pairs))
            print(f"| {name} | {s or '(defaults)'} | {len(pairs)} | {found} | "
                  f"{found / len(pairs):.3f} | {len(lone)} / {sum(map(hit, lone))} |",
                  flush=True)
    for name, (missed, reasons, false, kinds) in explained:
        print(f"\n{name}: {missed} pairs missed (a pair may differ in several ways)")
        for reason, n in reasons.most_common():
            print(f"  {n:5}  {reason}")
        print(f"{name}: {false} false pairs")
        for kind, n in kinds.most_common():
            print(f"  {n:5}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
