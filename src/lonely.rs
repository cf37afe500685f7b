//! Short documents no other document shares a shingle with, found before a
//! run in chunks starts: they are in no candidate pair, so they need no
//! MinHash signature and no band keys, written and merged into every later
//! chunk's segments.
//!
//! A document of few shingles ([`few_shingles`], or one shingle of fewer
//! words than `--doc-shingle`) fills every slot of its signature with the
//! hash of one of its shingles, so it shares a bucket only with a document
//! that holds one of its shingles. A run of one chunk sees every document
//! before it makes any keys and spares those of such documents when no other
//! document holds one of their shingles ([`crate::cluster::few`]). A run in
//! chunks cannot wait for the last chunk: each chunk's keys go to disk for
//! the chunks after it, 120 records a document, which made 300,000 six-word
//! records cost 15 times what ordinary text costs a megabyte. So, when its
//! inputs are files (read twice), it first reads them once and counts, for
//! every shingle of a short document, how many documents hold it, in a table
//! of 2-bit counters of a fixed size (a counting Bloom filter: a shingle
//! counts at least what it should, never less). A short document all of
//! whose shingles count one (its own) is then in no candidate pair: the run
//! makes nothing for it, as a run of one chunk does not. A count too high
//! (two shingles sharing counters) only makes the keys as before: the
//! answer is the same either way, and the table stays within its bytes.

use crate::cluster::lonely::Lonely;
use crate::cluster::{Candidates, MARK};
use crate::config::{Config, Level, Method};
use crate::input::{regular_size, InputPath, Past, Replay, Texts};
use crate::progress::Progress;
use crate::segment::{segment_into, Block};
use crate::shingle::{hash_block_words, shingle_hashes};
use crate::stream::Stream;
use rayon::prelude::*;
use std::path::PathBuf;

/// Words of a longer document read per short one before the first pass is
/// given up (as [`crate::cluster::few::keys_of_few`] gives up looking
/// through longer documents), past the first [`SLACK`]: in a corpus of
/// ordinary documents the pass would cost a read of every input for nothing.
const LONGER_PER_SHORT: usize = 64;
const SLACK: usize = 1 << 18;

/// Short documents read before the pass is given up when fewer than one in
/// [`FRESH_IN`] came with shingles no earlier document held (at most those
/// can end up alone): a flood of copies of a few records would be read
/// once more for nothing.
const FRESH_AFTER: usize = 1 << 16;
const FRESH_IN: usize = 8;

/// Bytes of text the first pass reads at a time (at most).
const PIECE: usize = 1 << 20;

/// Counts the shingles of every document of `inputs` (read as a run in
/// chunks of `chunk_bytes` reads them, spooling under `dir`) into a
/// table of about `bytes` bytes: the short documents' in a first pass
/// over the inputs, then, when there are longer documents, theirs in a
/// second, which mark only what a short document holds (a longer
/// document's shingles would fill the table). `None` when the run gains
/// nothing by it: documents of the document level by MinHash only, in
/// files that can be read again, with few longer documents beside the
/// short ones (see [`LONGER_PER_SHORT`]) and most of those not copies
/// (see [`FRESH_AFTER`]); and when an input cannot be read (the run
/// itself names the error) or the table fills.
///
/// Standard input is read through a copy ([`Replay`]) when `wait` (the
/// run's cleaned text is held until it ends, not streamed as its chunks
/// come: a pipeline's reader would wait for the end of the input): the
/// inputs the run must read instead of `inputs` come back with the table
/// (`None`: the same inputs). A run that copies every input that comes
/// once itself (`--keep fullest`) gives its copies as `copied`: the pass
/// reads them, each as far as it goes, and makes none of its own.
pub(crate) fn count(
    (inputs, copied): (&[InputPath], Option<&Replay>),
    config: &Config,
    reading: (usize, PathBuf, Option<u64>),
    (bytes, wait, progress): (usize, bool, &dyn Progress),
) -> (Option<Lonely>, Option<Vec<InputPath>>) {
    if config.method != Method::Minhash || config.level == Level::Blocks {
        return (None, None);
    }
    // Regular files and standard input (copied as it is read: pipes and
    // FIFOs named as files are read once, unless copied).
    let Some(total) = inputs
        .iter()
        .map(|i| {
            if i.is_stdin() || (copied.is_some() && !i.read_again()) {
                Some(0)
            } else {
                regular_size(&i.path)
            }
        })
        .sum::<Option<u64>>()
    else {
        return (None, None);
    };
    // The run's own copies, read as far as each pass goes; else standard
    // input copied here (when `wait`), whose rest the run reads once.
    let made = if copied.is_none() && wait {
        Replay::of_stdin(inputs, &reading.1)
    } else {
        None
    };
    let replay = copied.or(made.as_ref());
    if replay.is_none() && inputs.iter().any(InputPath::is_stdin) {
        return (None, None);
    }
    let past = if copied.is_some() {
        Past::Copied
    } else {
        Past::Once
    };
    let table = count_in(
        inputs,
        replay,
        past,
        config,
        reading,
        (bytes, total, progress),
    );
    (table, made.map(|r| r.read(inputs, Past::Once)))
}

/// [`count`] once it knows how its inputs are read.
fn count_in(
    inputs: &[InputPath],
    replay: Option<&Replay>,
    past: Past,
    config: &Config,
    reading: (usize, PathBuf, Option<u64>),
    (bytes, total, progress): (usize, u64, &dyn Progress),
) -> Option<Lonely> {
    let mut table = Lonely::with_bytes(bytes);
    let (mut short, mut fresh, mut longer) = (0usize, 0usize, 0usize);
    progress.stage("reading for short documents", total, true);
    let first = each_document(
        (
            replay.map_or_else(|| inputs.to_vec(), |r| r.read(inputs, Past::Copied)),
            config,
            progress,
        ),
        reading.clone(),
        |is_short, words, shingles| {
            if is_short {
                short += 1;
                if shingles.iter().all(|&s| table.holders(s) == 0) {
                    fresh += 1;
                }
                for &s in shingles {
                    table.add(s, 1);
                }
            } else {
                longer += words;
            }
            let stale = short >= FRESH_AFTER && fresh * FRESH_IN < short;
            longer <= short * LONGER_PER_SHORT + SLACK && !table.full() && !stale
        },
    );
    if !first || short == 0 {
        return None;
    }
    if longer > 0 {
        progress.stage("reading for longer documents", total, true);
        let second = each_document(
            (
                replay.map_or_else(|| inputs.to_vec(), |r| r.read(inputs, past)),
                config,
                progress,
            ),
            reading,
            |is_short, _, shingles| {
                if !is_short {
                    for &s in shingles {
                        if table.holders(s) >= 1 {
                            table.add(s, 2);
                        }
                    }
                }
                true
            },
        );
        if !second {
            return None;
        }
    }
    Some(table)
}

/// Reads every document of `inputs` (see [`count`]), in input
/// order, and calls `each` with whether it is short, its words and its
/// shingles (a short document's distinct) until `each` says stop; whether
/// every document was read.
fn each_document(
    (inputs, config, progress): (Vec<InputPath>, &Config, &dyn Progress),
    (chunk_bytes, dir, page_budget): (usize, PathBuf, Option<u64>),
    mut each: impl FnMut(bool, usize, &[u64]) -> bool,
) -> bool {
    let candidates = Candidates::new(config);
    let mut stream = Stream::new(inputs, config, chunk_bytes / 2, dir)
        .with_max_document(chunk_bytes)
        .with_page_budget(page_budget);
    // Read a little at a time: nothing is kept but the table, and a corpus
    // of longer documents is given up on soon.
    let piece = chunk_bytes.min(PIECE);
    let mut shown = 0;
    loop {
        let chunk = match stream.next_chunk(piece) {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return true,
            Err(_) => return false,
        };
        let corpus = &chunk.corpus;
        // Each document's shingles on every thread, in input order.
        let shingled: Vec<(bool, usize, Vec<u64>)> = corpus
            .documents
            .par_iter()
            .map_init(
                || (Vec::<Block>::new(), Vec::new()),
                |(blocks, hashes), doc| {
                    let text = corpus.text(doc);
                    let mut words = Vec::new();
                    blocks.clear();
                    segment_into(&text, config.blocks, blocks);
                    for b in blocks.iter() {
                        hashes.clear();
                        let content = &text[b.content.clone()];
                        hash_block_words(content, config.strip_markup, config.seed, hashes);
                        words.extend_from_slice(hashes);
                    }
                    let is_short = Lonely::short(words.len(), &candidates, config);
                    let mut shingles: Vec<u64> =
                        shingle_hashes(&words, config.doc_shingle, config.seed)
                            .map(|s| s & !MARK)
                            .collect();
                    if is_short {
                        shingles.sort_unstable();
                        shingles.dedup();
                    }
                    (is_short, words.len(), shingles)
                },
            )
            .collect();
        corpus.release_documents(0..corpus.documents.len());
        for (is_short, words, shingles) in &shingled {
            if !each(*is_short, *words, shingles) {
                return false;
            }
        }
        stream.seen().release();
        let read = stream.input_read();
        progress.advance(read - shown);
        shown = read;
    }
}
