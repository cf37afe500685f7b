//! Evaluations on the real corpora in `../shared/corpora` (research licences:
//! read from there, never copied). Ignored by default; `.ci/run` runs them with
//! `cargo test --release -- --ignored` when the corpora are present.

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

fn load(name: &str) -> Option<(Corpus, Analysis)> {
    let path = corpus_path(name).join("docs.jsonl");
    if !path.exists() {
        eprintln!("skipping: {} is not here", path.display());
        return None;
    }
    let config = Config::default();
    let (inputs, errors) = expand(&[path]);
    assert!(errors.is_empty());
    let corpus = Corpus::load(inputs, &config).expect("the corpus loads");
    let analysis = neardup::analyze(&corpus, &config);
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
        let text = corpus.text(&corpus.documents[doc]);
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
    let index: HashMap<&str, usize> = corpus
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let (mut later, mut emptied) = (0, 0);
    for group in exact_groups(name) {
        let mut docs: Vec<usize> = group.iter().map(|id| index[id.as_str()]).collect();
        docs.sort_unstable();
        for &doc in &docs[1..] {
            later += 1;
            let text = corpus.text(&corpus.documents[doc]);
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
        let text = corpus.text(d);
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
    let config = Config::default();
    let report = neardup::report::build(&corpus, &analysis, &config, "scan");
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
