//! The distributed run's decisions and report against one run's.

use super::*;
use crate::input::Corpus;
use std::collections::BTreeMap;

/// What the Spark job finds, on one machine.
struct Spread {
    dropped_docs: Vec<bool>,
    dropped_blocks: Vec<Vec<u32>>,
    words: Vec<Vec<u32>>,
    skipped: Vec<u32>,
    detected: Detected,
    doc_level: Option<(usize, usize, Vec<InCluster>)>,
}

/// What the Spark job does, on one machine: features per document, key
/// rows cut into pieces for `reducers` reducers as its partitions cut them
/// (one partition here), each reducer's groups, decisions from them.
#[allow(clippy::too_many_lines)]
fn spread(texts: &[String], config: &Config, reducers: usize) -> Spread {
    let candidates = (config.level != Level::Blocks).then(|| Candidates::new(config));
    let docs: Vec<DocFeatures> = texts
        .iter()
        .map(|t| features(t, candidates.as_ref(), config))
        .collect();
    let n = u32::try_from(docs.len()).unwrap();
    let mut dropped_docs = vec![false; docs.len()];
    let mut doc_level = None;
    if let Some(c) = &candidates {
        let rows: Vec<(u32, u64, u32)> = (0..n)
            .zip(&docs)
            .filter(|(_, f)| f.keys.len() == c.tables())
            .flat_map(|(d, f)| (0..).zip(&f.keys).map(move |(t, &k)| (t, k, d)))
            .collect();
        let pieces = band_pieces(&rows, reducers);
        assert_eq!(pieces.len(), reducers);
        let pairs: Vec<(u32, u32)> = pieces.iter().flat_map(|p| pairs_of_pieces(&[p])).collect();
        let mut in_pairs: Vec<u32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        in_pairs.sort_unstable();
        in_pairs.dedup();
        let members = in_pairs
            .iter()
            .map(|&d| Member {
                doc: d,
                shingles: docs[d as usize].shingles.clone(),
                len: docs[d as usize].len,
                keep: None,
            })
            .collect();
        let verdicts = cluster_documents(pairs, members, config);
        for &d in &verdicts.dropped {
            dropped_docs[d as usize] = true;
        }
        doc_level = Some((verdicts.pairs.0, verdicts.pairs.1, verdicts.members));
    }
    let words: Vec<Vec<u32>> = docs
        .iter()
        .map(|f| f.blocks.iter().map(|b| b.words).collect())
        .collect();
    let skipped: Vec<u32> = (0..n).filter(|&d| dropped_docs[d as usize]).collect();
    let mut out = Spread {
        dropped_docs,
        dropped_blocks: vec![Vec::new(); docs.len()],
        words,
        skipped,
        detected: Detected::default(),
        doc_level,
    };
    if config.level == Level::Docs {
        return out;
    }
    // The block columns of one batch holding every document, as the
    // features of a partition give them.
    let (mut line, mut position, mut words, mut lo, mut hi) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut posting_block, mut posting_key) = (Vec::new(), Vec::new());
    let mut numbered = BTreeMap::new();
    for (d, f) in (0..n).zip(&docs) {
        for (i, b) in (0..).zip(&f.blocks) {
            posting_block.extend(
                posting_keys(b, config)
                    .iter()
                    .map(|_| u32::try_from(line.len()).unwrap()),
            );
            posting_key.extend(posting_keys(b, config));
            line.push(d);
            position.push(i);
            words.push(b.words);
            lo.push(u64::try_from(b.exact & u128::from(u64::MAX)).unwrap());
            hi.push(u64::try_from(b.exact >> 64).unwrap());
            numbered.insert(block_number(d, i), b);
        }
    }
    let batch = BlockKeys {
        base: 0,
        line: &line,
        position: &position,
        words: &words,
        exact: (&lo, &hi),
        postings: (&posting_block, &posting_key),
    };
    let pieces = block_key_pieces(&[batch], &out.skipped, true, reducers);
    let shared: std::collections::BTreeSet<i64> =
        pieces.iter().flat_map(|p| shared_of_pieces(&[p])).collect();
    let block = |n: i64| u64::try_from(if n < 0 { -n - 1 } else { n }).unwrap();
    let dropped: Vec<(u64, u128)> = shared
        .iter()
        .filter(|&&n| n < 0)
        .map(|&n| (block(n), numbered[&block(n)].exact))
        .collect();
    let shared: Vec<SharedBlock> = shared
        .iter()
        .filter(|&&n| n >= 0)
        .map(|&n| SharedBlock {
            block: block(n),
            features: numbered[&block(n)].clone(),
        })
        .collect();
    out.detected = detect_shared(shared, &out.words, &out.skipped, &dropped, config);
    let verdicts = decide_blocks(&out.words, &out.skipped, &out.detected.repeats, config);
    for (d, blocks) in verdicts.dropped {
        out.dropped_blocks[d as usize] = blocks;
    }
    out
}

/// A corpus with shared paragraphs, near copies of documents, short
/// repeated lines and unique text.
fn corpus() -> Vec<String> {
    let mut next = crate::test_numbers(7);
    let para = |seed: u64, len: u64| -> String {
        (0..len)
            .map(|w| format!("w{}", (seed * 7919 + w * 104_729) % 4001))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut texts: Vec<String> = Vec::new();
    for d in 0..400u64 {
        let text = match next() % 6 {
            0 if d > 5 => {
                // A near copy of an earlier document: a word added.
                let from = usize::try_from(next() % d).unwrap();
                format!("{} extra", texts[from])
            }
            1 if d > 5 => {
                // An earlier document's paragraphs, one edited, with a
                // short line between.
                let from = usize::try_from(next() % d).unwrap();
                texts[from]
                    .replacen('w', "v", 1)
                    .replace("\n\n", "\n\nShare\n\n")
            }
            _ => (0..4 + next() % 4)
                .map(|_| para(next() % 300, 6 + next() % 20))
                .collect::<Vec<_>>()
                .join("\n\n"),
        };
        texts.push(text);
    }
    texts
}

fn one_run(texts: &[String], config: &Config) -> (Vec<bool>, Vec<Vec<u32>>) {
    let corpus = Corpus::from_texts(texts.iter().enumerate().map(|(d, t)| (d.to_string(), t)));
    let analysis = crate::analyze(&corpus, config);
    let blocks = (0..texts.len())
        .map(|d| {
            (0..analysis.blocks[d].len())
                .filter(|&i| analysis.dropped[analysis.doc_start[d] + i])
                .map(|i| u32::try_from(i).unwrap())
                .collect()
        })
        .collect();
    (analysis.doc_level.dropped.clone(), blocks)
}

#[test]
fn the_decisions_from_shared_keys_are_those_of_one_run() {
    let texts = corpus();
    for config in [
        Config::default(),
        Config {
            level: Level::Blocks,
            ..Config::default()
        },
        Config {
            level: Level::Docs,
            ..Config::default()
        },
        Config {
            method: crate::config::Method::Simhash,
            block_threshold: 0.6,
            ..Config::default()
        },
    ] {
        let (docs, blocks) = one_run(&texts, &config);
        assert!(docs.iter().filter(|&&d| d).count() > 20 || config.level == Level::Blocks);
        assert!(
            blocks.iter().filter(|b| !b.is_empty()).count() > 20 || config.level == Level::Docs
        );
        // However many reducers the shuffle has.
        for reducers in [1, 4] {
            let found = spread(&texts, &config, reducers);
            assert_eq!(
                (found.dropped_docs, found.dropped_blocks),
                (docs.clone(), blocks.clone()),
                "{config:?}, {reducers} reducers"
            );
        }
    }
}

/// The report made from the spread run's findings, with the lines the
/// Spark job would read, is byte for byte that of one run over the same
/// JSON Lines (two files, a blank line in the second).
#[test]
#[allow(clippy::too_many_lines, clippy::cast_possible_truncation)]
fn the_report_from_shared_keys_is_that_of_one_run() {
    use crate::input::{Data, InputPath, Source};
    let texts = corpus();
    let lines: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(d, t)| serde_json::json!({"id": format!("d{d}"), "text": t}).to_string())
        .collect();
    let split = 150;
    let files = [&lines[..split], &lines[split..]].map(|part| {
        let mut data = part.join("\n").into_bytes();
        data.extend_from_slice(b"\n \n");
        data
    });
    for config in [
        Config::default(),
        Config {
            level: Level::Blocks,
            preview: 20,
            ..Config::default()
        },
        Config {
            annotate: true,
            ..Config::default()
        },
    ] {
        let mut corpus = crate::input::Corpus {
            sources: Vec::new(),
            documents: Vec::new(),
            skipped: Vec::new(),
        };
        for (f, data) in files.iter().enumerate() {
            let name = format!("part{f}.jsonl");
            let source = Source {
                input: InputPath {
                    path: name.clone().into(),
                    relative: name.into(),
                    reader: None,
                },
                format: crate::Format::Jsonl,
                data: Data::Owned(data.clone()),
            };
            let (docs, _) = crate::input::documents(&source, &config).unwrap();
            corpus.documents.extend(docs.into_iter().map(|mut d| {
                d.source = f;
                d
            }));
            corpus.sources.push(std::sync::Arc::new(source));
        }
        let analysis = crate::analyze(&corpus, &config);
        let mut expected = Vec::new();
        crate::report::build(&corpus, &analysis, &config, "clean")
            .write_json(&mut expected)
            .unwrap();

        // Numbered by line: the first file's blank line is document 150.
        let found = spread(&texts, &config, 3);
        let line_of = |d: u32| if d < 150 { d } else { d + 1 };
        let renumber = |b: u64| block_number(line_of((b >> 32) as u32), b as u32);
        let mut words = found.words.clone();
        words.insert(split, Vec::new());
        words.push(Vec::new());
        let mut lens: Vec<Option<usize>> = texts.iter().map(|t| Some(t.len())).collect();
        lens.insert(split, None);
        lens.push(None);
        let detected = Detected {
            repeats: found
                .detected
                .repeats
                .iter()
                .map(|r| Repeat {
                    block: renumber(r.block),
                    source: renumber(r.source),
                    source_last: renumber(r.source_last),
                    ..*r
                })
                .collect(),
            copies_in_dropped: found
                .detected
                .copies_in_dropped
                .iter()
                .map(|&(b, first)| (renumber(b), renumber(first)))
                .collect(),
        };
        let doc_level = found.doc_level.map(|(candidates, verified, members)| {
            let members = members
                .into_iter()
                .map(|m| InCluster {
                    doc: line_of(m.doc),
                    representative: line_of(m.representative),
                    kept: line_of(m.kept),
                    ..m
                })
                .collect::<Vec<_>>();
            (candidates, verified, members)
        });
        let skipped: Vec<u32> = found.skipped.iter().map(|&d| line_of(d)).collect();
        let mut wanted = report_documents(&words, &skipped, &detected.repeats, &config);
        if let Some((_, _, members)) = &doc_level {
            wanted.extend(members.iter().map(|m| m.doc));
        }
        wanted.sort_unstable();
        wanted.dedup();
        let texts = wanted
            .iter()
            .map(|&l| {
                let d = if l < 150 { l } else { l - 1 } as usize;
                (l, lines[d].clone())
            })
            .collect();
        let parts = ReportParts {
            files: vec![
                ("part0.jsonl".into(), files[0].len(), 0),
                ("part1.jsonl".into(), files[1].len(), split + 1),
            ],
            parquet: Vec::new(),
            skipped: Vec::new(),
            lens,
            words,
            dropped: skipped,
            detected,
            doc_level,
            texts,
        };
        let mut got = Vec::new();
        report(parts, &config)
            .unwrap()
            .write_json(&mut got)
            .unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(expected).unwrap(),
            "{config:?}"
        );
    }
}

#[test]
fn records_are_written_back_as_clean_writes_them() {
    let config = Config::default();
    let line = "\u{feff}{\"id\": 1, \"text\": \"a\\nb\\n\\nc\\u00e9\\n\"}\r";
    let (out, removed) = clean_record(line, true, true, false, &[1], &config).unwrap();
    assert_eq!(out, "\u{feff}{\"id\": 1, \"text\": \"a\\nb\\n\\n\"}\r\n");
    assert_eq!(removed, "cé\n".len());
    assert_eq!(
        clean_record(line, true, true, true, &[], &config)
            .unwrap()
            .0,
        "\u{feff}"
    );
    // Not a file's first line: a byte-order mark is not skipped there.
    assert!(clean_record(line, false, true, false, &[], &config).is_err());
    let plain = &line[3..];
    assert_eq!(
        clean_record(plain, false, false, false, &[], &config)
            .unwrap()
            .0,
        plain
    );
    assert_eq!(
        clean_record(" \t", false, true, false, &[], &config)
            .unwrap()
            .0,
        " \t\n"
    );
    assert_eq!(
        clean_record("{\"id\": 1}", false, true, false, &[], &config).unwrap_err(),
        "record has no \"text\" field"
    );
}
