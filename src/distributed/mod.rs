//! The engine cut at its seams, for a run spread over many machines (the
//! Spark job of the Python package, `python -m neardup.spark`).
//!
//! A run over one machine visits documents and blocks in input order; what it
//! decides depends on few facts about each item. This module gives those
//! facts per record ([`features`], on any machine, in any order), and takes the
//! decisions from the small tables a cluster's shuffle makes of them, with the
//! engine's own code, so the answer is that of one run:
//!
//! 1. [`features`] per record: its blocks' word counts, exact keys and
//!    shingles, its document shingles and LSH keys.
//! 2. Documents: each LSH bucket (documents grouped by table and key, in
//!    input order) gives its candidate pairs with [`bucket_pairs`], as
//!    [`crate::index::candidate_pairs`] does; [`cluster_documents`] verifies
//!    them in input order ([`crate::cluster::cluster_pairs`]) from the shingle
//!    sets of the documents in pairs only.
//! 3. Blocks: a block that shares neither its exact key nor (if long enough to
//!    be indexed) a posting key ([`crate::detect::posting_key`]) with another
//!    block of a kept document is a first copy whatever comes before it, and
//!    nothing it adds to the detector is ever read by another block: its
//!    keys are its own. So [`detect_shared`] runs the detector
//!    ([`crate::detect::detect_after`]) with the shingles of the blocks that share a
//!    key only; the others keep their positions, as skipped blocks (batches
//!    and places are counted in positions), so the driver holds a word count
//!    a block of the corpus here, as in step 4.
//! 4. Runs: [`decide_blocks`] takes the verdicts of every block (a word count
//!    and a verdict a block, no text) and groups repeats into runs with
//!    [`crate::decide::decide`].
//! 5. [`clean_record`] writes a record back as `neardup clean` does, from the
//!    dropped blocks of its document; [`report`] makes the report `clean
//!    --report` writes, from the decisions and the lines of the documents it
//!    names ([`report_documents`]).

use crate::cluster::{cluster_pairs, Candidates, DocSketch};
use crate::config::{Config, Level, OnError};
use crate::decide::{decide, BlockFacts, DocDecision};
use crate::detect::{detect_after, Match};
use crate::jsonl::{self, FieldValue};
use crate::progress::Silent;
use crate::report::Summary;
use crate::segment::segment;
use crate::shingle::{hash_block_words, shingles_of, Sketch};
use rayon::prelude::*;

mod parquet;
mod report;
mod shuffle;
pub use parquet::*;
pub use report::*;
pub use shuffle::*;

/// A JSON Lines record read as `neardup clean` reads it.
#[derive(Debug)]
pub enum Line<'a> {
    /// A blank line (white space only): not a record, written back as it is.
    Blank,
    /// A record.
    Record {
        /// Where the record's object starts in the line (after a byte-order
        /// mark before a file's first record).
        body_start: usize,
        /// The parsed record (its ranges are from `body_start`).
        parsed: jsonl::Parsed,
        /// The record's line without its terminator, from `body_start`.
        body: &'a str,
    },
}

/// Reads one line of a JSON Lines file (without its `\n`); `first` says it is
/// the file's first line, where a byte-order mark is skipped.
///
/// # Errors
/// The record's error message, without file and line (the caller adds them).
pub fn read_line<'a>(line: &'a str, first: bool, config: &Config) -> Result<Line<'a>, String> {
    let body = line.strip_suffix('\r').unwrap_or(line);
    let (body_start, body) = match body.strip_prefix('\u{feff}') {
        Some(rest) if first => ('\u{feff}'.len_utf8(), rest),
        _ => (0, body),
    };
    if crate::input::is_blank(body.as_bytes()) {
        return Ok(Line::Blank);
    }
    let parsed = jsonl::parse(
        body,
        &config.text_field,
        &config.id_field,
        config.keep.field(),
    )?;
    Ok(Line::Record {
        body_start,
        parsed,
        body,
    })
}

/// The decoded text of a record's text field.
#[must_use]
pub fn record_text<'a>(body: &'a str, parsed: &jsonl::Parsed) -> std::borrow::Cow<'a, str> {
    jsonl::unescape(&body[parsed.text_value.clone()])
}

/// What the decisions need of one block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockFeatures {
    /// Words after normalization.
    pub words: u32,
    /// Hash of the normalized word sequence.
    pub exact: u128,
    /// Distinct shingle hashes, sorted (none at `--level docs`).
    pub shingles: Vec<u64>,
}

/// What the decisions need of one document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocFeatures {
    /// Bytes of its text.
    pub len: usize,
    /// One candidate key per LSH band or SimHash table (none without the
    /// document level or without shingles).
    pub keys: Vec<u64>,
    /// Its distinct document shingles, sorted (none without the document level).
    pub shingles: Vec<u64>,
    /// Its blocks, in order.
    pub blocks: Vec<BlockFeatures>,
}

/// The features of one document's text, as the first pass of a run makes
/// them (segmentation, normalization, hashing, sketches).
#[must_use]
pub fn features(text: &str, candidates: Option<&Candidates>, config: &Config) -> DocFeatures {
    let blocks = segment(text, config.blocks);
    let mut words: Vec<u64> = Vec::new();
    let mut hashes: Vec<u64> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut out = Vec::with_capacity(blocks.len());
    for b in &blocks {
        hashes.clear();
        hash_block_words(
            &text[b.content.clone()],
            config.strip_markup,
            config.seed,
            &mut hashes,
        );
        let sketch = if config.level == Level::Docs {
            Sketch {
                words: hashes.len(),
                ..Sketch::default()
            }
        } else {
            Sketch::from_word_hashes_with(&hashes, config.block_shingle, config.seed, &mut bytes)
        };
        out.push(BlockFeatures {
            words: u32::try_from(sketch.words).expect("fewer than 2^32 words a block"),
            exact: sketch.exact,
            shingles: sketch.shingles,
        });
        words.extend_from_slice(&hashes);
    }
    let doc = candidates.map_or_else(DocSketch::default, |c| {
        c.sketch(
            shingles_of(&words, config.doc_shingle, config.seed),
            config.seed,
        )
    });
    DocFeatures {
        len: text.len(),
        keys: doc.keys,
        shingles: doc.shingles,
        blocks: out,
    }
}

/// The candidate pairs of one LSH bucket whose members (document numbers)
/// are in input order, as one run makes them ([`crate::index::bucket_pairs`]).
#[must_use]
pub fn bucket_pairs(members: &[u32]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    crate::index::bucket_pairs(members, 0, &mut out);
    out
}

/// A document in a candidate pair.
#[derive(Clone, Debug)]
pub struct Member {
    /// Its number in input order.
    pub doc: u32,
    /// Its distinct document shingles, sorted.
    pub shingles: Vec<u64>,
    /// Bytes of its text (`--keep longest`).
    pub len: usize,
    /// Its `--keep` field's value.
    pub keep: Option<FieldValue>,
}

/// The `--keep` field's value of a record line (none when the policy reads
/// no field).
///
/// # Errors
/// The record's error message.
pub fn keep_value(line: &str, first: bool, config: &Config) -> Result<Option<FieldValue>, String> {
    Ok(match read_line(line, first, config)? {
        Line::Blank => None,
        Line::Record { parsed, .. } => parsed.keep,
    })
}

/// The document level's verdicts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocVerdicts {
    /// Documents dropped as near duplicates, ascending.
    pub dropped: Vec<u32>,
    /// Clusters of two or more.
    pub clusters: usize,
    /// Each document in a cluster, ascending (what `--annotate` says of it).
    pub members: Vec<InCluster>,
    /// Candidate pairs (distinct) and pairs verified, as the report counts them.
    pub pairs: (usize, usize),
}

/// A document's place in its cluster (document numbers as the caller gave
/// them).
#[derive(Clone, Debug, PartialEq)]
pub struct InCluster {
    /// The document.
    pub doc: u32,
    /// Its cluster's representative (its first document).
    pub representative: u32,
    /// The cluster's document that stays.
    pub kept: u32,
    /// Documents in the cluster.
    pub size: usize,
    /// Its similarity to the representative.
    pub similarity: f64,
}

/// Clusters documents from every candidate pair (`(earlier, later)`, any
/// order, repeats allowed) and the documents in them, with the engine's
/// [`cluster_pairs`] over the documents in pairs, renumbered in order.
///
/// # Panics
/// If a pair names a document missing from `members`.
#[must_use]
pub fn cluster_documents(
    mut pairs: Vec<(u32, u32)>,
    mut members: Vec<Member>,
    config: &Config,
) -> DocVerdicts {
    members.sort_unstable_by_key(|m| m.doc);
    members.dedup_by_key(|m| m.doc);
    let dense = |d: u32| -> u32 {
        let at = members
            .binary_search_by_key(&d, |m| m.doc)
            .expect("every document in a pair is a member");
        u32::try_from(at).expect("fewer than 2^32 documents")
    };
    for pair in &mut pairs {
        *pair = (dense(pair.0), dense(pair.1));
    }
    pairs.sort_unstable();
    pairs.dedup();
    let sizes: Vec<usize> = members.iter().map(|m| m.len).collect();
    let keep_values: Vec<Option<FieldValue>> = members.iter_mut().map(|m| m.keep.take()).collect();
    let sketches: Vec<DocSketch> = members
        .iter_mut()
        .map(|m| DocSketch {
            shingles: std::mem::take(&mut m.shingles),
            keys: Vec::new(),
        })
        .collect();
    let level = cluster_pairs(pairs, &sketches, config, &sizes, &keep_values, (None, None));
    let dropped = level
        .dropped
        .iter()
        .zip(&members)
        .filter(|(&d, _)| d)
        .map(|(_, m)| m.doc)
        .collect();
    let mut in_clusters: Vec<InCluster> = level
        .clusters
        .iter()
        .flat_map(|c| {
            c.members.iter().map(|&(m, similarity)| InCluster {
                doc: members[m].doc,
                representative: members[c.representative].doc,
                kept: members[c.kept].doc,
                size: c.members.len(),
                similarity,
            })
        })
        .collect();
    in_clusters.sort_by_key(|c| c.doc);
    DocVerdicts {
        dropped,
        clusters: level.clusters.len(),
        members: in_clusters,
        pairs: (level.candidate_pairs, level.verified_pairs),
    }
}

/// A block's number: its document's number and its position in it, which
/// orders blocks as the input does.
#[must_use]
pub fn block_number(doc: u32, position: u32) -> u64 {
    u64::from(doc) << 32 | u64::from(position)
}

/// A block that shares a key, for [`detect_shared`].
#[derive(Clone, Debug)]
pub struct SharedBlock {
    /// Its [`block_number`].
    pub block: u64,
    /// Its features.
    pub features: BlockFeatures,
}

/// A repeat the detector found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Repeat {
    /// The repeated block ([`block_number`]).
    pub block: u64,
    /// Its first copy ([`block_number`]).
    pub source: u64,
    /// The last block of the place holding its text ([`block_number`]).
    pub source_last: u64,
    /// Containment in the first copy, 1.0 when exact.
    pub similarity: f64,
    /// Whether the normalized texts are identical.
    pub exact: bool,
}

/// What the detector found among the blocks that share a key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detected {
    /// The repeats, in block order.
    pub repeats: Vec<Repeat>,
    /// (block, its first copy) for each block of a document dropped whole
    /// whose text is exactly that of a first copy (the report counts these
    /// copies in its shared-block list), in block order.
    pub copies_in_dropped: Vec<(u64, u64)>,
}

/// Runs the detector over the blocks of kept documents that share an exact
/// key or a posting key with another one (any order): every other block is
/// a first copy. `words` are every document's block word counts and
/// `skipped` the documents dropped whole, as for [`decide_blocks`];
/// `dropped` holds (block, exact key) of blocks of those documents that
/// share their exact key with a block of a kept one (for the report: empty
/// when none is made).
///
/// The detector sees the whole run's sequence of blocks, as one run makes it:
/// it decides in batches counted from the first block, and a place of
/// several blocks is bounded by positions in its document, so the blocks
/// that share no key keep their places, as skipped blocks without shingles.
/// The detector treats such a block as a first copy that no later block can
/// find, which is what it is in one run.
#[must_use]
pub fn detect_shared(
    blocks: Vec<SharedBlock>,
    words: &[Vec<u32>],
    skipped: &[u32],
    dropped: &[(u64, u128)],
    config: &Config,
) -> Detected {
    let (start, doc_of) = layout(words);
    let mut sketches: Vec<Sketch> = words
        .iter()
        .flatten()
        .map(|&n| Sketch {
            words: n as usize,
            exact: 0,
            shingles: Vec::new(),
        })
        .collect();
    let mut skip = vec![true; sketches.len()];
    for b in blocks {
        let at = global_block(b.block, words, &start);
        sketches[at] = Sketch {
            words: b.features.words as usize,
            exact: b.features.exact,
            shingles: b.features.shingles,
        };
        skip[at] = false;
    }
    for &d in skipped {
        let d = d as usize;
        skip[start[d]..start[d + 1]].fill(true);
    }
    for &(block, exact) in dropped {
        sketches[global_block(block, words, &start)].exact = exact;
    }
    let number = |i: usize| {
        let doc = doc_of[i];
        let position = u32::try_from(i - start[doc as usize]).expect("32 bits fit");
        block_number(doc, position)
    };
    let found = detect_after(&sketches, &skip, &doc_of, config, &Silent, None, false);
    let repeats = found
        .matches
        .iter()
        .enumerate()
        .filter_map(|(i, m)| match *m {
            Match::Repeat {
                source,
                source_last,
                similarity,
                exact,
            } => Some(Repeat {
                block: number(i),
                source: number(source),
                source_last: number(source_last),
                similarity,
                exact,
            }),
            _ => None,
        })
        .collect();
    Detected {
        repeats,
        copies_in_dropped: found
            .copies_in_dropped
            .iter()
            .map(|&(block, first)| (number(block), number(first)))
            .collect(),
    }
}

/// Where block `b` ([`block_number`]) is in the run's sequence of blocks
/// (`start`: where each document's blocks start, from [`layout`]).
///
/// # Panics
/// If `b` is past the corpus.
fn global_block(b: u64, words: &[Vec<u32>], start: &[usize]) -> usize {
    let (doc, position) = (usize::try_from(b >> 32), usize::try_from(b & 0xffff_ffff));
    let (doc, position) = (doc.expect("32 bits fit"), position.expect("32 bits fit"));
    assert!(
        doc < words.len() && position < words[doc].len(),
        "block {doc}:{position} is past the corpus"
    );
    start[doc] + position
}

/// The run's sequence of blocks from every document's block word counts:
/// where each document's blocks start in it (and, last, its end), and each
/// block's document.
fn layout(words: &[Vec<u32>]) -> (Vec<usize>, Vec<u32>) {
    let mut start = Vec::with_capacity(words.len() + 1);
    let mut doc_of = Vec::new();
    for (d, w) in words.iter().enumerate() {
        start.push(doc_of.len());
        let doc = u32::try_from(d).expect("fewer than 2^32 documents");
        doc_of.extend(std::iter::repeat_n(doc, w.len()));
    }
    start.push(doc_of.len());
    (start, doc_of)
}

/// The posting keys a block shares through: those of its distinct shingles
/// when it is long enough to be indexed ([`crate::detect::posting_key`]).
#[must_use]
pub fn posting_keys(block: &BlockFeatures, config: &Config) -> Vec<u32> {
    if (block.words as usize) < config.min_words.max(1) {
        return Vec::new();
    }
    let mut keys: Vec<u32> = block
        .shingles
        .iter()
        .map(|&s| crate::detect::posting_key(s))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The block level's verdicts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockVerdicts {
    /// (document, its dropped blocks' positions in it) for each document
    /// that loses blocks, in document order.
    pub dropped: Vec<(u32, Vec<u32>)>,
    /// Documents with repeated blocks (dropped or short repeats kept).
    pub with_repeats: usize,
    /// Runs of removed blocks.
    pub runs: usize,
    /// Short repeats kept.
    pub short_repeats: usize,
    /// Blocks removed.
    pub removed_blocks: usize,
}

/// Every block's verdict and each document's runs, as one run decides them
/// ([`decide_blocks`] and [`report`]): the layout of the run's blocks, their
/// word counts and matches, and each document's decision.
struct Decided {
    doc_start: Vec<usize>,
    doc_of: Vec<u32>,
    words: Vec<usize>,
    matches: Vec<Match>,
    decisions: Vec<DocDecision>,
}

fn decide_all(words: &[Vec<u32>], skipped: &[u32], repeats: &[Repeat], config: &Config) -> Decided {
    let (doc_start, doc_of) = layout(words);
    let block_words: Vec<usize> = words.iter().flatten().map(|&n| n as usize).collect();
    let mut matches: Vec<Match> = block_words
        .iter()
        .map(|&n| if n == 0 { Match::Empty } else { Match::Unique })
        .collect();
    for &d in skipped {
        let d = d as usize;
        matches[doc_start[d]..doc_start[d + 1]].fill(Match::Skipped);
    }
    let at = |b: u64| global_block(b, words, &doc_start);
    for r in repeats {
        matches[at(r.block)] = Match::Repeat {
            source: at(r.source),
            source_last: at(r.source_last),
            similarity: r.similarity,
            exact: r.exact,
        };
    }
    let (cluster, members) = crate::pipeline::block_clusters(&matches, 0);
    let facts = BlockFacts {
        matches: &matches,
        words: &block_words,
        cluster: &cluster,
        members: &members,
        doc_of: &doc_of,
        doc_start: &doc_start,
        base: 0,
        history: None,
    };
    let decisions: Vec<DocDecision> = (0..words.len())
        .into_par_iter()
        .map(|doc| decide(doc, &facts, config))
        .collect();
    Decided {
        doc_start,
        doc_of,
        words: block_words,
        matches,
        decisions,
    }
}

/// Groups every repeat into runs with [`decide`]: `words` holds the word
/// counts of each document's blocks (every document, in order: document
/// numbers are positions in it), `skipped` the documents dropped whole
/// (ascending) and `repeats` what [`detect_shared`] found.
///
/// # Panics
/// If a repeat names a block past the last one.
#[must_use]
pub fn decide_blocks(
    words: &[Vec<u32>],
    skipped: &[u32],
    repeats: &[Repeat],
    config: &Config,
) -> BlockVerdicts {
    let Decided {
        doc_start,
        decisions,
        ..
    } = decide_all(words, skipped, repeats, config);
    let mut out = BlockVerdicts::default();
    for (d, decision) in decisions.iter().enumerate() {
        if decision.runs.is_empty() && decision.kept_short.is_empty() {
            continue;
        }
        out.with_repeats += 1;
        out.runs += decision.runs.len();
        out.short_repeats += decision.kept_short.len();
        let mut dropped: Vec<u32> = decision
            .runs
            .iter()
            .flat_map(|run| &run.pairs)
            .map(|p| u32::try_from(p.block - doc_start[d]).expect("fewer than 2^32 blocks"))
            .collect();
        if !dropped.is_empty() {
            dropped.sort_unstable();
            out.removed_blocks += dropped.len();
            out.dropped.push((
                u32::try_from(d).expect("fewer than 2^32 documents"),
                dropped,
            ));
        }
    }
    out
}

/// A record written back as `neardup clean` writes it, with its line
/// terminator (`None` for the file's last line when it has none): nothing
/// but a byte-order mark before it when its document is dropped whole, the
/// text field replaced by the cleaned text's JSON when it loses blocks
/// (`dropped_blocks`: their positions in the document, ascending), else the
/// line as it was; a bad record with `--on-error skip` is copied as it is.
/// Also returns the bytes of text its blocks lost.
///
/// # Errors
/// The record's error message.
pub fn clean_record(
    line: &str,
    first: bool,
    terminator: bool,
    doc_dropped: bool,
    dropped_blocks: &[u32],
    config: &Config,
) -> Result<(String, usize), String> {
    let end = if terminator { "\n" } else { "" };
    let (body_start, parsed, body) = match read_line(line, first, config) {
        // A bad record passed over (`--on-error skip`) is copied as it is.
        Ok(Line::Blank) | Err(_) if config.on_error == OnError::Skip => {
            return Ok((format!("{line}{end}"), 0))
        }
        Ok(Line::Blank) => return Ok((format!("{line}{end}"), 0)),
        Err(e) => return Err(e),
        Ok(Line::Record {
            body_start,
            parsed,
            body,
        }) => (body_start, parsed, body),
    };
    if doc_dropped {
        return Ok((line[..body_start].to_owned(), 0));
    }
    if dropped_blocks.is_empty() {
        return Ok((format!("{line}{end}"), 0));
    }
    let text = record_text(body, &parsed);
    let mut cleaned = String::with_capacity(text.len());
    let mut removed = 0;
    for (i, b) in segment(&text, config.blocks).iter().enumerate() {
        let i = u32::try_from(i).expect("fewer than 2^32 blocks a document");
        if dropped_blocks.binary_search(&i).is_ok() {
            removed += b.span.len();
        } else {
            cleaned.push_str(&text[b.span.clone()]);
        }
    }
    let json = serde_json::to_string(&cleaned).expect("strings always serialize");
    let value = body_start + parsed.text_value.start..body_start + parsed.text_value.end;
    Ok((
        format!("{}{json}{}{end}", &line[..value.start], &line[value.end..]),
        removed,
    ))
}

/// A record written back as `neardup clean --annotate` writes it: cleaned
/// as [`clean_record`] cleans a kept one, with the fields `--annotate` adds
/// before its closing brace, from its place in its cluster (representative
/// as a document index, size, the id of the document that stays,
/// similarity), if any. Also returns the bytes of text its blocks lost.
///
/// # Errors
/// The record's error message.
pub fn annotated_record(
    line: &str,
    first: bool,
    terminator: bool,
    dropped_blocks: &[u32],
    cluster: Option<(usize, usize, &str, f64, bool)>,
    config: &Config,
) -> Result<(String, usize), String> {
    let (text, removed) = clean_record(line, first, terminator, false, dropped_blocks, config)?;
    // A blank line, or a bad record passed over: copied as it is.
    if !matches!(read_line(line, first, config), Ok(Line::Record { .. })) {
        return Ok((text, removed));
    }
    let close = text.rfind('}').expect("records are JSON objects");
    let fields = crate::output::annotation_fields(
        cluster.map(
            |(representative, size, representative_id, similarity, duplicate)| {
                crate::output::InCluster {
                    representative,
                    size,
                    representative_id,
                    similarity,
                    duplicate,
                }
            },
        ),
        removed,
    );
    Ok((
        format!("{}{fields}{}", &text[..close], &text[close..]),
        removed,
    ))
}

/// The id `--annotate` gives a record: its id field, if it has one.
///
/// # Errors
/// The record's error message.
pub fn record_id(line: &str, first: bool, config: &Config) -> Result<Option<String>, String> {
    Ok(match read_line(line, first, config)? {
        Line::Blank => None,
        Line::Record { parsed, .. } => parsed.id,
    })
}

/// The line of totals `neardup clean` prints on standard error, from the
/// verdicts and the corpus's counts: `documents`, `blocks` and `bytes` of
/// text in all, `dropped_bytes` of documents dropped whole and
/// `removed_block_bytes` of blocks removed from kept documents.
#[must_use]
pub fn totals(
    (documents, blocks, bytes): (usize, usize, usize),
    (dropped_documents, dropped_bytes): (usize, usize),
    verdicts: &BlockVerdicts,
    removed_block_bytes: usize,
) -> String {
    let removed_bytes = dropped_bytes + removed_block_bytes;
    (Summary {
        documents,
        dropped_documents,
        documents_with_repeats: verdicts.with_repeats,
        blocks,
        removed_blocks: verdicts.removed_blocks,
        short_repeats_kept: verdicts.short_repeats,
        runs: verdicts.runs,
        bytes,
        dropped_document_bytes: dropped_bytes,
        removed_block_bytes,
        removed_bytes,
        removed_ratio: crate::report::ratio(removed_bytes, bytes),
    })
    .line()
}

#[cfg(test)]
mod tests;
