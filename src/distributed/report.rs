//! The report of a run spread over many machines, made on the driver by the
//! engine's own report code from the decisions and the lines it names.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The documents whose text the report reads (numbers as in `words`,
/// ascending): those with repeats, and those holding the first copies and
/// aligned blocks their repeats name. `words`, `skipped` and `repeats` are
/// those of [`decide_blocks`].
#[must_use]
pub fn report_documents(
    words: &[Vec<u32>],
    skipped: &[u32],
    repeats: &[Repeat],
    config: &Config,
) -> Vec<u32> {
    let decided = decide_all(words, skipped, repeats, config);
    let mut out = Vec::new();
    for (d, decision) in decided.decisions.iter().enumerate() {
        let pairs = decision
            .runs
            .iter()
            .flat_map(|r| &r.pairs)
            .chain(&decision.kept_short);
        for p in pairs {
            for b in [p.block, p.source, p.source_last, p.mirror, p.mirror_last] {
                out.push(decided.doc_of[b]);
            }
            out.push(u32::try_from(d).expect("fewer than 2^32 documents"));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// What [`report`] is made from: the findings of a run spread over many
/// machines, with documents numbered by their line in the input (files in
/// order, then lines; blank lines count as documents without blocks, as
/// in [`decide_blocks`]).
#[derive(Clone, Debug, Default)]
pub struct ReportParts {
    /// Each input file: its name as the report gives it, its size in bytes,
    /// and the number of its first line.
    pub files: Vec<(String, usize, usize)>,
    /// Whether each input file is Parquet (read as its records; the
    /// report's `inputs` say so). None: every one is JSON Lines.
    pub parquet: Vec<bool>,
    /// What was passed over (`--on-error skip`): each input and record, as
    /// its message, in input order.
    pub skipped: Vec<String>,
    /// The bytes of text of each line's record (`None`: a blank line).
    pub lens: Vec<Option<usize>>,
    /// Each line's blocks' word counts.
    pub words: Vec<Vec<u32>>,
    /// The documents the document level drops (marked only, with
    /// `--annotate`), ascending.
    pub dropped: Vec<u32>,
    /// What [`detect_shared`] found.
    pub detected: Detected,
    /// The document level, when it ran: candidate pairs, verified pairs, and
    /// each document in a cluster ([`cluster_documents`]).
    pub doc_level: Option<(usize, usize, Vec<InCluster>)>,
    /// The lines the report reads (with a file's byte-order mark, if it has
    /// one): those of [`report_documents`] and of the documents in clusters,
    /// each with its number, in any order.
    pub texts: Vec<(u32, String)>,
}

/// The report `neardup clean` makes of the same input (`--report`), made by
/// the engine's own code ([`crate::report::Accumulator`]) from `parts`.
///
/// # Errors
/// A line of `texts` that is no record (its message, with file and line).
///
/// # Panics
/// If `parts` are not of one corpus (a repeat past its blocks, a text of a
/// blank line).
pub fn report(parts: ReportParts, config: &Config) -> Result<crate::report::Report, String> {
    Ok(made(parts, config)?.0)
}

/// The report `neardup clean` writes of the same input, made as [`report`]
/// makes it, in each of `formats` (`text`, with `top` shared blocks listed;
/// `json`, `jsonl`, or `html`: the page `--html` writes, with the texts of
/// the documents it shows).
///
/// # Errors
/// As [`report`], and a format not one of those.
pub fn written_reports(
    parts: ReportParts,
    config: &Config,
    formats: &[&str],
    top: usize,
) -> Result<Vec<Vec<u8>>, String> {
    let (report, corpus, read) = made(parts, config)?;
    let text_of = |d: usize| read.contains(&d).then(|| corpus.text(&corpus.documents[d]));
    formats
        .iter()
        .map(|format| {
            let mut out = Vec::new();
            let done = match *format {
                "json" => report.write_json(&mut out),
                "jsonl" => report.write_jsonl(&mut out),
                "html" => crate::report::html::write(&report, Some(&text_of), &mut out),
                "text" => {
                    let mut text = String::new();
                    crate::report::write_text(&report, top, &mut text)
                        .map_err(|e| e.to_string())?;
                    out = text.into_bytes();
                    Ok(())
                }
                other => return Err(format!("no report format {other}")),
            };
            done.map_err(|e| e.to_string())?;
            Ok(out)
        })
        .collect()
}

/// The report of [`report`], the corpus it was made from and the documents
/// whose text that corpus holds.
#[allow(clippy::too_many_lines)]
fn made(
    mut parts: ReportParts,
    config: &Config,
) -> Result<
    (
        crate::report::Report,
        crate::input::Corpus,
        std::collections::HashSet<usize>,
    ),
    String,
> {
    use crate::input::{Corpus, Data, Document, InputPath, Source};
    use std::sync::Arc;
    // Documents are numbered past blank lines; blocks keep their numbers.
    let mut dense = Vec::with_capacity(parts.lens.len());
    let mut n = 0u32;
    for len in &parts.lens {
        dense.push(n);
        n += u32::from(len.is_some());
    }
    let doc = |line: u32| dense[line as usize];
    let block = |b: u64| {
        block_number(
            doc(u32::try_from(b >> 32).expect("32 bits")),
            (b & 0xffff_ffff) as u32,
        )
    };
    let words: Vec<Vec<u32>> = std::mem::take(&mut parts.words)
        .into_iter()
        .zip(&parts.lens)
        .filter(|(_, len)| len.is_some())
        .map(|(w, _)| w)
        .collect();
    let dropped: Vec<u32> = parts.dropped.iter().map(|&d| doc(d)).collect();
    let repeats: Vec<Repeat> = parts
        .detected
        .repeats
        .iter()
        .map(|r| Repeat {
            block: block(r.block),
            source: block(r.source),
            source_last: block(r.source_last),
            ..*r
        })
        .collect();
    let decided = decide_all(&words, &dropped, &repeats, config);
    // The corpus: each file holds the lines read (each other line is left
    // empty, so lines keep their numbers); every other record is counted.
    parts.texts.sort_unstable_by_key(|t| t.0);
    let mut texts = parts.texts.iter().peekable();
    let mut sources = Vec::new();
    let mut documents = Vec::with_capacity(n as usize);
    let ends = parts
        .files
        .iter()
        .skip(1)
        .map(|f| f.2)
        .chain([parts.lens.len()]);
    for (f, ((name, _, first), end)) in parts.files.iter().zip(ends).enumerate() {
        let mut data = Vec::new();
        for line in *first..end {
            let number = u32::try_from(line).expect("fewer than 2^32 lines");
            if let Some((_, text)) = texts.next_if(|t| t.0 == number) {
                data.extend_from_slice(text.as_bytes());
            }
            data.push(b'\n');
        }
        let source = Source {
            input: InputPath {
                path: name.into(),
                relative: name.into(),
                reader: None,
            },
            format: if parts.parquet.get(f) == Some(&true) {
                crate::Format::Parquet
            } else {
                crate::Format::Jsonl
            },
            data: Data::Owned(data),
        };
        let (read, _) = crate::input::documents(&source, config).map_err(|e| e.to_string())?;
        let mut read = read.into_iter().peekable();
        for line in *first..end {
            let Some(len) = parts.lens[line] else {
                continue;
            };
            let number = line - first + 1;
            match read
                .next_if(|d| d.record.as_ref().map(crate::input::Record::line) == Some(number))
            {
                Some(mut d) => {
                    d.source = f;
                    documents.push(d);
                }
                None => documents.push(Document::counted(f, len)),
            }
        }
        sources.push(Arc::new(source));
    }
    let corpus = Corpus {
        sources,
        documents,
        skipped: Vec::new(),
    };
    let needed: std::collections::HashSet<usize> =
        parts.texts.iter().map(|t| doc(t.0) as usize).collect();
    let blocks = (0..corpus.documents.len())
        .map(|d| {
            if needed.contains(&d) {
                segment(&corpus.text(&corpus.documents[d]), config.blocks)
            } else {
                Vec::new()
            }
        })
        .collect();
    let n = corpus.documents.len();
    let mut level_dropped = vec![false; n];
    for &d in &dropped {
        level_dropped[d as usize] = true;
    }
    let mut doc_level = crate::cluster::DocLevel {
        dropped: level_dropped,
        cluster_of: vec![None; n],
        rep_of: vec![None; n],
        ..crate::cluster::DocLevel::default()
    };
    if let Some((candidate_pairs, verified_pairs, members)) = &parts.doc_level {
        doc_level.candidate_pairs = *candidate_pairs;
        doc_level.verified_pairs = *verified_pairs;
        // Members come in document order, a cluster's representative first.
        let mut by_representative: std::collections::BTreeMap<u32, crate::cluster::Cluster> =
            std::collections::BTreeMap::new();
        for m in members {
            let c = by_representative
                .entry(doc(m.representative))
                .or_insert_with(|| crate::cluster::Cluster {
                    representative: doc(m.representative) as usize,
                    members: Vec::new(),
                    kept: doc(m.kept) as usize,
                });
            c.members.push((doc(m.doc) as usize, m.similarity));
        }
        doc_level.clusters = by_representative.into_values().collect();
    }
    let mut block_dropped = vec![false; decided.matches.len()];
    for decision in &decided.decisions {
        for pair in decision.runs.iter().flat_map(|r| &r.pairs) {
            block_dropped[pair.block] = true;
        }
    }
    let at = |b: u64| global_block(block(b), &words, &decided.doc_start);
    let copies_in_dropped = parts
        .detected
        .copies_in_dropped
        .iter()
        .map(|&(b, first)| (at(b), at(first)))
        .collect();
    let analysis = crate::Analysis {
        history: None,
        base_docs: 0,
        base_blocks: 0,
        indexed_docs: 0,
        blocks,
        doc_start: decided.doc_start,
        doc_of: decided.doc_of,
        words: decided.words,
        matches: decided.matches,
        decisions: decided.decisions,
        dropped: block_dropped,
        doc_dropped: if config.annotate {
            vec![false; n]
        } else {
            doc_level.dropped.clone()
        },
        doc_level,
        candidates: (config.level != Level::Blocks).then(|| Candidates::new(config)),
        copies_in_dropped,
        unresolved_copies: Vec::new(),
        timings: crate::pipeline::Timings::default(),
        added: None,
    };
    let mut accumulator = crate::report::Accumulator::new(config, "clean");
    accumulator.add(&corpus, &analysis, &corpus);
    let skipped: Vec<crate::Error> = std::mem::take(&mut parts.skipped)
        .into_iter()
        .map(crate::Error::Usage)
        .collect();
    let mut report = accumulator
        .finish(&corpus.sources, &skipped)
        .expect("nothing is spooled");
    // Each input's size is that of its file, not of the lines read here.
    for (input, file) in report.inputs.iter_mut().zip(&parts.files) {
        input.bytes = file.1;
    }
    Ok((report, corpus, needed))
}
