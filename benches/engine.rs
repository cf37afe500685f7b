//! Criterion benches, one group per stage plus the whole block pass.
//!
//! Inputs are the seed article from `data/` and a seeded synthetic corpus in
//! which a third of the paragraphs repeat earlier ones (some with an edited
//! word). Set `NEARDUP_BENCH_JSONL=path/to/docs.jsonl` to add a real corpus.
#![allow(
    missing_docs,
    clippy::cast_possible_truncation,
    clippy::items_after_statements
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use neardup::config::BlockMode;
use neardup::segment::segment;
use neardup::shingle::Sketch;
use neardup::{Config, Corpus};
use std::hint::black_box;

/// A seeded pseudo-random corpus: `docs` documents of about 12 paragraphs.
fn synthetic(docs: usize, seed: u64) -> Vec<(String, String)> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    const WORDS: [&str; 32] = [
        "the",
        "council",
        "said",
        "on",
        "tuesday",
        "that",
        "new",
        "plans",
        "for",
        "river",
        "park",
        "would",
        "cost",
        "more",
        "than",
        "expected",
        "and",
        "residents",
        "were",
        "asked",
        "to",
        "comment",
        "before",
        "vote",
        "in",
        "march",
        "while",
        "officials",
        "warned",
        "of",
        "delays",
        "again",
    ];
    let mut paragraphs: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(docs);
    for d in 0..docs {
        let mut body = Vec::new();
        for _ in 0..12 {
            let reuse = !paragraphs.is_empty() && next() % 3 == 0;
            let para = if reuse {
                let i = (next() as usize) % paragraphs.len();
                let mut p = paragraphs[i].clone();
                if next() % 2 == 0 {
                    p.push_str(" indeed");
                }
                p
            } else {
                let len = 20 + (next() % 40) as usize;
                let words: Vec<&str> = (0..len)
                    .map(|_| WORDS[(next() as usize) % WORDS.len()])
                    .collect();
                let p = words.join(" ");
                paragraphs.push(p.clone());
                p
            };
            body.push(para);
        }
        out.push((format!("doc-{d}"), body.join("\n\n")));
    }
    out
}

fn seed_article() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/article.txt"))
        .expect("data/article.txt")
}

fn real_corpus() -> Option<(String, Vec<(String, String)>)> {
    let path = std::env::var("NEARDUP_BENCH_JSONL").ok()?;
    let text = std::fs::read_to_string(&path).ok()?;
    let docs = text
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            Some((i.to_string(), v.get("text")?.as_str()?.to_owned()))
        })
        .collect();
    Some((path, docs))
}

/// `corpora` and the real corpus, if one is given, as (name, corpus, bytes).
fn with_real_corpus(
    mut corpora: Vec<(String, Vec<(String, String)>)>,
) -> Vec<(String, Corpus, u64)> {
    corpora.extend(real_corpus());
    corpora
        .into_iter()
        .map(|(name, docs)| {
            let bytes: usize = docs.iter().map(|(_, t)| t.len()).sum();
            (name, Corpus::from_texts(docs), bytes as u64)
        })
        .collect()
}

fn bench_segment(c: &mut Criterion) {
    let article = seed_article().repeat(100);
    let mut group = c.benchmark_group("segment");
    group.throughput(Throughput::Bytes(article.len() as u64));
    for mode in [BlockMode::Lines, BlockMode::Paragraphs] {
        group.bench_with_input(
            BenchmarkId::new(format!("{mode:?}"), "article x100"),
            &article,
            |b, t| {
                b.iter(|| segment(black_box(t), mode));
            },
        );
    }
    group.finish();
}

fn bench_shingle(c: &mut Criterion) {
    let article = seed_article();
    let blocks = segment(&article, BlockMode::Auto);
    let mut group = c.benchmark_group("shingle");
    group.throughput(Throughput::Bytes(article.len() as u64));
    group.bench_function("article blocks, 3 words", |b| {
        b.iter(|| {
            blocks
                .iter()
                .map(|bl| {
                    Sketch::new(black_box(&article[bl.content.clone()]), 3, 42)
                        .shingles
                        .len()
                })
                .sum::<usize>()
        });
    });
    let ascii = synthetic(20, 7)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n\n");
    group.throughput(Throughput::Bytes(ascii.len() as u64));
    group.bench_function("synthetic ascii, 3 words", |b| {
        b.iter(|| Sketch::new(black_box(&ascii), 3, 42).shingles.len());
    });
    group.finish();
}

fn bench_block_pass(c: &mut Criterion) {
    let config = Config::default();
    let mut group = c.benchmark_group("block pass");
    group.sample_size(10);
    let corpora = with_real_corpus(vec![(
        "synthetic 2,000 docs".to_owned(),
        synthetic(2000, 42),
    )]);
    for (name, corpus, bytes) in corpora {
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(name, |b| {
            b.iter(|| neardup::analyze(black_box(&corpus), &config).dropped.len());
        });
    }
    group.finish();
}

fn doc_sets(docs: &[(String, String)]) -> Vec<Vec<u64>> {
    docs.iter()
        .map(|(_, text)| {
            let mut hashes = Vec::new();
            neardup::shingle::hash_words(&neardup::normalize::normalize(text), 42, &mut hashes);
            neardup::shingle::shingles_of(&hashes, 5, 42)
        })
        .collect()
}

fn bench_documents(c: &mut Criterion) {
    let docs = synthetic(2000, 9);
    let sets = doc_sets(&docs);
    let shingles: usize = sets.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("documents");
    group.throughput(Throughput::Elements(shingles as u64));
    let mut sorted: Vec<Vec<u64>> = sets.clone();
    for s in &mut sorted {
        s.sort_unstable();
        s.dedup();
    }
    group.bench_function("minhash 256 slots (one permutation)", |b| {
        b.iter(|| {
            sorted
                .iter()
                .map(|s| neardup::sketch::minhash::signature(black_box(s), 256, 42)[0])
                .fold(0u64, u64::wrapping_add)
        });
    });
    group.bench_function("simhash 64 bits", |b| {
        b.iter(|| {
            sorted
                .iter()
                .map(|s| neardup::sketch::simhash::fingerprint(black_box(s), 42))
                .fold(0u64, u64::wrapping_add)
        });
    });
    let config = Config::default();
    let candidates = neardup::cluster::Candidates::new(&config);
    let sketches: Vec<_> = sets
        .iter()
        .map(|s| candidates.sketch(s.clone(), 42))
        .collect();
    let sizes = vec![0; sketches.len()];
    let keep = vec![None; sketches.len()];
    group.bench_function("LSH candidates + verify + cluster, 2,000 docs", |b| {
        b.iter(|| {
            neardup::cluster::cluster(black_box(&sketches), &candidates, &config, &sizes, &keep)
                .clusters
                .len()
        });
    });
    group.finish();
}

/// Words of `text` found by a plain byte loop (a word is a run of ASCII
/// letters and digits or of non-ASCII bytes): the floor the sketch stage is
/// measured against, a pass that reads and tokenizes the bytes once.
fn count_words(text: &str) -> usize {
    let mut words = 0;
    let mut in_word = false;
    for &b in text.as_bytes() {
        let word = b.is_ascii_alphanumeric() || b >= 0x80;
        words += usize::from(word && !in_word);
        in_word = word;
    }
    words
}

/// The sketch stage (first pass of a run with both levels, one thread) next
/// to a plain tokenizing pass over the same documents: their ratio is the
/// stage's distance from its floor (benches/RESULTS.md).
fn bench_sketch_stage(c: &mut Criterion) {
    let config = Config::default();
    let candidates = neardup::cluster::Candidates::new(&config);
    let mut group = c.benchmark_group("sketch stage");
    group.sample_size(20);
    let corpora = with_real_corpus(vec![
        ("synthetic 2,000 docs".to_owned(), synthetic(2000, 42)),
        (
            "seed article x200".to_owned(),
            (0..200).map(|i| (i.to_string(), seed_article())).collect(),
        ),
    ]);
    for (name, corpus, bytes) in corpora {
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new("tokenize", &name), |b| {
            b.iter(|| {
                corpus
                    .documents
                    .iter()
                    .map(|d| count_words(black_box(&corpus.text(d))))
                    .sum::<usize>()
            });
        });
        group.bench_function(BenchmarkId::new("sketch", &name), |b| {
            b.iter(|| {
                neardup::pipeline::sketch_stage(black_box(&corpus), &config, Some(&candidates))
            });
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_segment,
    bench_shingle,
    bench_sketch_stage,
    bench_documents,
    bench_block_pass
);
criterion_main!(benches);
