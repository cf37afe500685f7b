//! Evaluations on the real corpora in `../shared/corpora` (research licences:
//! read from there, never copied). Ignored by default; `.ci/run` runs them with
//! `cargo test --release -- --ignored` when the corpora are present.

use neardup::config::{Level, Measure};
use neardup::detect::Match;
use neardup::input::{expand, Corpus};
use neardup::normalize::normalize;
use neardup::{Analysis, Config};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

fn corpus_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(name)
}

/// The block level alone, whose evaluations these are.
fn blocks_only() -> Config {
    Config {
        level: Level::Blocks,
        ..Config::default()
    }
}

fn load(name: &str) -> Option<(Corpus, Analysis)> {
    load_with(name, &blocks_only())
}

fn load_with(name: &str, config: &Config) -> Option<(Corpus, Analysis)> {
    let path = corpus_path(name).join("docs.jsonl");
    if !path.exists() {
        eprintln!("skipping: {} is not here", path.display());
        return None;
    }
    let (inputs, errors) = expand(&[path], &[]);
    assert!(errors.is_empty());
    let corpus = Corpus::load(inputs, config).expect("the corpus loads");
    let analysis = neardup::analyze(&corpus, config);
    Some((corpus, analysis))
}

/// What must hold on any corpus: removed blocks have a kept first copy, the
/// cleaned text is exactly the kept spans, and unrepeated blocks are all kept.
fn check_invariants(corpus: &Corpus, analysis: &Analysis) {
    for (doc, decision) in analysis.decisions.iter().enumerate() {
        for pair in decision.runs.iter().flat_map(|r| &r.pairs) {
            assert!(analysis.dropped[pair.block]);
            assert!(pair.source < pair.block);
            assert!(
                !analysis.dropped[pair.source] || analysis.words[pair.block] < 8,
                "doc {doc}: the first copy of block {} was removed too",
                pair.block
            );
        }
        let text: &str = &corpus.text(&corpus.documents[doc]);
        let cleaned = neardup::output::cleaned_text(text, analysis, doc);
        let mut expected = String::new();
        for (i, block) in analysis.blocks[doc].iter().enumerate() {
            let g = analysis.global(doc, i);
            if matches!(analysis.matches[g], Match::Unique | Match::Empty) {
                assert!(!analysis.dropped[g], "doc {doc}: unique block {i} removed");
            }
            if !analysis.dropped[g] {
                expected.push_str(&text[block.span.clone()]);
            }
        }
        assert_eq!(cleaned, expected);
    }
}

fn exact_groups(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(corpus_path(name).join("exact_dup_groups.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(v["groups"].clone()).unwrap()
}

/// Every later member of an exact-duplicate group loses all its words (a
/// wordless line such as a bullet may stay).
fn check_exact_groups(name: &str, corpus: &Corpus, analysis: &Analysis) -> (usize, usize) {
    let index: HashMap<String, usize> = corpus
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| (corpus.id(d).into_owned(), i))
        .collect();
    let (mut later, mut emptied) = (0, 0);
    for group in exact_groups(name) {
        let mut docs: Vec<usize> = group.iter().map(|id| index[id.as_str()]).collect();
        docs.sort_unstable();
        for &doc in &docs[1..] {
            later += 1;
            let text: &str = &corpus.text(&corpus.documents[doc]);
            let cleaned = neardup::output::cleaned_text(text, analysis, doc);
            let normalized = normalize(&cleaned);
            let mut words = Vec::new();
            neardup::normalize::tokens(&normalized, &mut words);
            if words.is_empty() {
                emptied += 1;
            }
        }
    }
    (later, emptied)
}

/// Later occurrences of paragraphs of 8+ words that occur earlier (after
/// normalization): how many, and how many were removed.
fn shared_paragraph_recall(corpus: &Corpus, analysis: &Analysis) -> (usize, usize) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let (mut repeats, mut removed) = (0, 0);
    for (doc, d) in corpus.documents.iter().enumerate() {
        let text: &str = &corpus.text(d);
        for (i, block) in analysis.blocks[doc].iter().enumerate() {
            let g = analysis.global(doc, i);
            let norm = normalize(&text[block.content.clone()]);
            if analysis.words[g] < 8 {
                continue;
            }
            if seen.insert(norm, doc).is_some() {
                repeats += 1;
                removed += usize::from(analysis.dropped[g]);
            }
        }
    }
    (repeats, removed)
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn news_provenance_syndication() {
    let Some((corpus, analysis)) = load("news-provenance") else {
        return;
    };
    check_invariants(&corpus, &analysis);
    let report = neardup::report::build(&corpus, &analysis, &blocks_only(), "scan");
    let cnn = report
        .syndicated
        .iter()
        .find(|s| s.text.starts_with("Copyright 2018 by CNN NewSource"))
        .expect("the CNN NewSource line is reported");
    eprintln!(
        "CNN NewSource line: {} documents, first in {}",
        cnn.documents, cnn.first_copy.document.id
    );
    assert!((20..=30).contains(&cnn.documents));
    assert_eq!(cnn.removed + 1, cnn.copies);
    let (later, emptied) = check_exact_groups("news-provenance", &corpus, &analysis);
    eprintln!("exact duplicate documents emptied: {emptied} of {later}");
    assert_eq!(emptied, later);
    let (repeats, removed) = shared_paragraph_recall(&corpus, &analysis);
    eprintln!("repeated 8+ word paragraphs removed: {removed} of {repeats}");
    assert_eq!(removed, repeats);
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn bbc_and_reuters_exact_duplicates() {
    for name in ["bbc-news", "reuters-21578"] {
        let Some((corpus, analysis)) = load(name) else {
            return;
        };
        check_invariants(&corpus, &analysis);
        let (later, emptied) = check_exact_groups(name, &corpus, &analysis);
        let (repeats, removed) = shared_paragraph_recall(&corpus, &analysis);
        eprintln!(
            "{name}: exact duplicate documents emptied {emptied} of {later}; \
             repeated 8+ word paragraphs removed {removed} of {repeats}"
        );
        assert_eq!(removed, repeats);
        // A document whose every block is too short to judge (a headline and a
        // "Reuter" line) keeps them: that is for the document level to drop.
        assert!(emptied * 100 >= later * 98, "{name}: {emptied} of {later}");
    }
}

/// The document shingle set of a text, computed from the whole text (the engine
/// computes it from its blocks' words: the two must agree).
/// A document's words are its blocks' words, one block after another (a
/// run of one-letter words, hashed as one, does not go on past a block).
fn doc_shingles(text: &str, config: &Config) -> Vec<u64> {
    let mut hashes = Vec::new();
    for block in neardup::segment::segment(text, config.blocks) {
        let content = &text[block.content];
        let content = if config.strip_markup {
            neardup::normalize::strip_markup(content)
        } else {
            std::borrow::Cow::Borrowed(content)
        };
        neardup::shingle::hash_words(&normalize(&content), config.seed, &mut hashes);
    }
    let mut set = neardup::shingle::shingles_of(&hashes, config.doc_shingle, config.seed);
    set.sort_unstable();
    set.dedup();
    set
}

fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = neardup::shingle::intersection(a, b) as f64;
    common / (a.len() as f64 + b.len() as f64 - common)
}

/// Every pair with Jaccard >= t by brute force, pruned only by the size bound
/// (J(a, b) <= min/max of the sizes): exact.
fn brute_force_pairs(sets: &[Vec<u64>], t: f64) -> Vec<(usize, usize)> {
    use rayon::prelude::*;
    let mut pairs: Vec<(usize, usize)> = (0..sets.len())
        .into_par_iter()
        .flat_map_iter(|b| {
            (0..b)
                .filter(move |&a| {
                    let (x, y) = (sets[a].len(), sets[b].len());
                    x.min(y) as f64 >= t * x.max(y) as f64 - 1e-9
                        && jaccard(&sets[a], &sets[b]) >= t
                })
                .map(move |a| (a, b))
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

/// Every pair with Jaccard >= t by an exact prefix-filtering join (Bayardo,
/// Ma and Srikant 2007): documents in increasing size, shingles in hash order;
/// two sets with J >= t share a shingle among the first |x| - ceil(t|x|) + 1 of
/// each. Checked against the brute force on bbc-news.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn prefix_join_pairs(sets: &[Vec<u64>], t: f64) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..sets.len()).filter(|&d| !sets[d].is_empty()).collect();
    order.sort_by_key(|&d| (sets[d].len(), d));
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut pairs = Vec::new();
    for &x in &order {
        let n = sets[x].len();
        let prefix = n - ((t * n as f64 - 1e-9).ceil() as usize).min(n) + 1;
        let mut candidates: Vec<usize> = sets[x][..prefix.min(n)]
            .iter()
            .filter_map(|h| index.get(h))
            .flatten()
            .copied()
            .filter(|&y| sets[y].len() as f64 >= t * n as f64 - 1e-9)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        for y in candidates {
            if jaccard(&sets[x], &sets[y]) >= t {
                pairs.push((x.min(y), x.max(y)));
            }
        }
        for &h in &sets[x][..prefix.min(n)] {
            index.entry(h).or_default().push(x);
        }
    }
    pairs.sort_unstable();
    pairs
}

/// Precision and recall of the document level against exact pairs.
/// An exact all-pairs join: sets and threshold in, pairs `(a, b)`, `a < b` out.
type Join = fn(&[Vec<u64>], f64) -> Vec<(usize, usize)>;

fn evaluate_documents(name: &str, exact: Join) {
    let config = Config {
        level: Level::Docs,
        measure: Measure::Jaccard,
        threshold: Measure::Jaccard.default_threshold(),
        ..Config::default()
    };
    let Some((corpus, analysis)) = load_with(name, &config) else {
        return;
    };
    let sets: Vec<Vec<u64>> = corpus
        .documents
        .iter()
        .map(|d| doc_shingles(&corpus.text(d), &config))
        .collect();
    let truth = exact(&sets, config.threshold);
    let level = &analysis.doc_level;
    // Precision: every member's similarity to its representative, recomputed here.
    let mut verified = 0;
    for cluster in &level.clusters {
        for &(member, similarity) in &cluster.members[1..] {
            let j = jaccard(&sets[member], &sets[cluster.representative]);
            assert!(
                j >= config.threshold,
                "{name}: {member} ~ {} has J = {j}",
                cluster.representative
            );
            assert!(
                (j - similarity).abs() < 1e-9,
                "engine and test disagree on the shingles"
            );
            verified += 1;
        }
    }
    // Recall: true pairs whose documents end up in one cluster.
    let found = truth
        .iter()
        .filter(|&&(a, b)| {
            level.cluster_of[a].is_some() && level.cluster_of[a] == level.cluster_of[b]
        })
        .count();
    let recall = found as f64 / truth.len().max(1) as f64;
    eprintln!(
        "{name}: {} pairs with J >= {}; {found} in one cluster (recall {recall:.4}); \
         {verified} member-representative pairs, all verified (precision 1.00); {} clusters",
        truth.len(),
        config.threshold,
        level.clusters.len()
    );
    assert!(recall >= 0.98, "{name}: recall {recall}");
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn prefix_join_agrees_with_brute_force() {
    let Some((corpus, _)) = load("bbc-news") else {
        return;
    };
    let config = Config::default();
    let sets: Vec<Vec<u64>> = corpus
        .documents
        .iter()
        .map(|d| doc_shingles(&corpus.text(d), &config))
        .collect();
    for t in [0.5, 0.8] {
        assert_eq!(
            brute_force_pairs(&sets, t),
            prefix_join_pairs(&sets, t),
            "t = {t}"
        );
    }
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn documents_against_exact_pairs_bbc() {
    evaluate_documents("bbc-news", brute_force_pairs);
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn documents_against_exact_pairs_reuters() {
    evaluate_documents("reuters-21578", prefix_join_pairs);
}

/// The check of the persistent index: news-provenance ordered by scrape
/// time and split into daily batches; `check --index --update` per batch finds
/// what one run over the whole corpus finds, and `clean` per batch writes the
/// one-run output.
#[test]
#[ignore = "reads ../shared/corpora; run by .ci/run"]
fn news_provenance_daily_batches_match_one_run() {
    use crate::util::{assert_bytes_eq, run, tempdir};
    let path = corpus_path("news-provenance").join("docs.jsonl");
    if !path.exists() {
        eprintln!("skipping: {} is not here", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let mut records: Vec<(String, &str)> = text
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let day = v["scrape_time"].as_str().unwrap_or("")[..10].to_owned();
            (day, line)
        })
        .collect();
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let dir = tempdir();
    let d = dir.path();
    let mut days: Vec<String> = Vec::new();
    let mut all = String::new();
    for group in records.chunk_by(|a, b| a.0 == b.0) {
        let name = format!("{}.jsonl", group[0].0);
        let mut batch = String::new();
        for (_, line) in group {
            batch.push_str(line);
            batch.push('\n');
        }
        std::fs::write(d.join(&name), &batch).unwrap();
        all.push_str(&batch);
        days.push(name);
    }
    std::fs::write(d.join("all.jsonl"), &all).unwrap();
    let whole = run(d, &["scan", "--json", "all.jsonl"]);
    assert_eq!(whole.code, 0);
    let expected = crate::index::findings(&whole.stdout);
    let mut found = std::collections::BTreeSet::new();
    let mut cleaned = Vec::new();
    for name in &days {
        let out = run(
            d,
            &[
                "check",
                "--index",
                "seen.ndx",
                "--update",
                "--exit-zero",
                "--json",
                name,
            ],
        );
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        found.extend(crate::index::findings(&out.stdout));
        let out = run(
            d,
            &["clean", "-q", "--index", "clean.ndx", "--update", name],
        );
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        cleaned.extend(out.stdout);
    }
    eprintln!(
        "news-provenance in {} daily batches: {} findings in one run, {} in the batches",
        days.len(),
        expected.len(),
        found.len()
    );
    assert!(expected.len() > 1000);
    assert_eq!(found, expected);
    let whole_clean = run(d, &["clean", "-q", "all.jsonl"]).stdout;
    assert_bytes_eq(
        &cleaned,
        &whole_clean,
        "daily batches cleaned against the index",
    );
}
