//! The only place where stages meet: segment and sketch every document in
//! parallel, detect repeats in input order, decide runs in parallel.

use crate::cluster::few::{
    alone_in_run, defers_keys, few_set, few_shingles, keeps_words, keys_of_few, single_shingle,
};
use crate::cluster::lonely::Lonely;
use crate::cluster::{cluster_after, cluster_pairs, AcrossChunks, Candidates, Copies};
use crate::cluster::{DocLevel, DocSketch};
use crate::config::{Config, Level};
use crate::decide::{decide, BlockFacts, DocDecision};
use crate::detect::{detect_after, detect_streamed, Detection, Match};
use crate::input::{Corpus, Document};
use crate::prior::Prior;
use crate::progress::{Batched, Progress, Silent};
use crate::segment::{Block, Blocks};
use crate::shingle::{hash_block_words, shingle_hashes, shingles_of, Sketch};
use crate::sketch::hll::Hll;
use rayon::prelude::*;
use second::{block_sketches, doc_shingle_set, sketch_piece};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Instant;
pub use stored::StoredItems;

/// Everything the block engine found, indexed by document and by global block
/// index (blocks numbered in input order across all documents).
///
/// With an index (`--index`), the index's documents and blocks come first:
/// block ids in matches and decisions are then global (`base_blocks` plus the
/// run's own index), while the vectors here hold this run's blocks only.
pub struct Analysis {
    /// The index this run was checked against.
    pub history: Option<Arc<dyn Prior>>,
    /// Documents in the index (0 without one).
    pub base_docs: usize,
    /// Blocks in the index (0 without one).
    pub base_blocks: usize,
    /// How many of the first documents come from a user's index (`--index`,
    /// `--reference`) and are reported as such; the rest of `base_docs` are
    /// earlier chunks of this run.
    pub indexed_docs: usize,
    /// Each document's blocks (`blocks[doc]`).
    pub blocks: Blocks,
    /// Global index of each document's first block, plus the total at the end.
    pub doc_start: Vec<usize>,
    /// Document of each global block.
    pub doc_of: Vec<u32>,
    /// Words per global block, after normalization.
    pub words: Vec<usize>,
    /// The detector's verdict per global block.
    pub matches: Vec<Match>,
    /// Runs and kept short repeats per document.
    pub decisions: Vec<DocDecision>,
    /// Whether each global block is removed as a repeat (blocks of documents
    /// dropped whole are not counted here: see `doc_dropped`).
    pub dropped: Vec<bool>,
    /// The document level's clusters (empty at `--level blocks`).
    pub doc_level: DocLevel,
    /// Whether each document is left out of the output whole (never with
    /// `--annotate`, which only marks duplicates).
    pub doc_dropped: Vec<bool>,
    /// How document candidates were generated, when the document level ran.
    pub candidates: Option<Candidates>,
    /// (block, first copy) for blocks of documents dropped whole whose text is
    /// exactly that of a first copy: counted as copies in the shared-block list.
    pub copies_in_dropped: Vec<(usize, usize)>,
    /// (block, exact key) of blocks of documents dropped whole whose text is
    /// no first copy seen so far (a chunked run resolves them at its end).
    pub unresolved_copies: Vec<(usize, u128)>,
    /// Wall time of each stage, for `-v` (never part of the report).
    pub timings: Timings,
    /// What an index update needs of this run, when asked for.
    pub added: Option<StoredItems>,
}

/// Wall time of the engine's stages.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// Segmentation, normalization, shingling and document sketches (parallel).
    pub sketch: std::time::Duration,
    /// Document candidates, verification and clusters.
    pub documents: std::time::Duration,
    /// The sequential detection pass.
    pub detect: std::time::Duration,
    /// Runs and keep decisions (parallel).
    pub decide: std::time::Duration,
}

impl Analysis {
    /// Global index of block `i` of document `doc`.
    #[must_use]
    pub fn global(&self, doc: usize, i: usize) -> usize {
        self.base_blocks + self.doc_start[doc] + i
    }

    /// The document and block of a global index of this run's blocks.
    #[must_use]
    pub fn block(&self, global: usize) -> (usize, &Block) {
        let local = global - self.base_blocks;
        let doc = self.doc_of[local] as usize;
        (doc, &self.blocks[doc][local - self.doc_start[doc]])
    }

    /// The id of a document by its global index (the index's documents first).
    #[must_use]
    pub fn doc_id(&self, corpus: &Corpus, global: usize) -> String {
        match &self.history {
            Some(h) if global < self.base_docs => h.doc_id(global),
            _ => corpus
                .id(&corpus.documents[global - self.base_docs])
                .into_owned(),
        }
    }

    /// The global document index of a global block id.
    #[must_use]
    pub fn doc_of_block(&self, global: usize) -> usize {
        match &self.history {
            Some(h) if global < self.base_blocks => h.block(global).doc as usize,
            _ => self.base_docs + self.doc_of[global - self.base_blocks] as usize,
        }
    }

    /// First and last line of a block by its global id.
    #[must_use]
    pub fn lines_of(&self, global: usize) -> [usize; 2] {
        match &self.history {
            Some(h) if global < self.base_blocks => {
                let b = h.block(global);
                [b.lines[0] as usize, b.lines[1] as usize]
            }
            _ => {
                let b = self.block(global).1;
                [b.first_line, b.last_line]
            }
        }
    }

    /// Normalized words of a block by its global id.
    #[must_use]
    pub fn words_of(&self, global: usize) -> usize {
        match &self.history {
            Some(h) if global < self.base_blocks => h.block(global).words as usize,
            _ => self.words[global - self.base_blocks],
        }
    }

    /// Whether a global block id is one of the index's.
    #[must_use]
    pub fn stored(&self, global: usize) -> bool {
        global < self.base_blocks
    }

    /// Whether a global block id is dropped (blocks of the index never are).
    #[must_use]
    pub fn is_dropped(&self, global: usize) -> bool {
        global >= self.base_blocks && self.dropped[global - self.base_blocks]
    }

    /// (Blocks, bytes) of `doc` removed as repeats (`doc` is this run's).
    #[must_use]
    pub fn removed(&self, doc: usize) -> (usize, usize) {
        self.blocks[doc]
            .iter()
            .zip(&self.dropped[self.doc_start[doc]..self.doc_start[doc + 1]])
            .filter(|(_, &dropped)| dropped)
            .fold((0, 0), |(n, bytes), (b, _)| (n + 1, bytes + b.span.len()))
    }

    /// Whether any block of `doc` is dropped (the document itself may be kept).
    #[must_use]
    pub fn changes(&self, doc: usize) -> bool {
        // `doc` is this run's document; `dropped` holds this run's blocks.
        self.dropped[self.doc_start[doc]..self.doc_start[doc + 1]]
            .iter()
            .any(|&d| d)
    }
}

/// Runs both levels over a loaded corpus. The answer depends only on the corpus
/// and the config, never on the number of threads.
///
/// # Panics
/// If the corpus has more than 2^32 documents.
#[must_use]
pub fn analyze(corpus: &Corpus, config: &Config) -> Analysis {
    analyze_after(corpus, config, &Silent, None, false).expect("without an index nothing can fail")
}

/// A part of the first pass: blocks and their sketches (word counts only with
/// both levels) in tables of the part, not vectors of each document's (one
/// each for a one-line record); documents' sketches; block n-gram counts; word
/// hashes (as kept); exact copies (copy, original): keys are the original's.
#[derive(Default)]
struct PartBlocks {
    blocks: Blocks,
    sketches: Vec<Sketch>,
    word_counts: Vec<u32>,
}
type Part = (
    PartBlocks,
    Vec<DocSketch>,
    Option<Hll>,
    Vec<u64>,
    Vec<(usize, usize)>,
);

/// Buffers the first pass reuses from document to document: word hashes
/// and their bytes.
type Scratch<'a> = (&'a mut Vec<u64>, &'a mut Vec<u8>);

/// Asked, with the word hashes so far and where the document's start, for
/// the sketch of a document that is an exact copy of an earlier one (see
/// [`Copies`]); `None` makes it.
type Known<'a> = &'a mut dyn FnMut(&[u64], usize) -> Option<DocSketch>;

/// The first pass over one document: blocks (added to `part`, with their
/// sketches or word counts), word hashes, the document's sketch; with
/// `block_ngrams`, the distinct word n-grams of its long enough
/// blocks are counted into it. The document's word hashes are appended to
/// `words`. With `keep_words`, the document's sketch has its candidate keys
/// only: the caller keeps the word hashes instead of its shingle set (as
/// many, and the blocks' shingles are made from them later, without reading
/// and hashing the text again; the shingle sets of the few documents that
/// are verified are made from them too). `hashes` and `bytes` are scratch.
/// `known` gives the sketch of an exact copy instead of making it.
fn sketch_document(
    corpus: &Corpus,
    doc: &crate::input::Document,
    config: &Config,
    candidates: Option<&Candidates>,
    mut block_ngrams: Option<&mut Hll>,
    (words, (keep_words, defer), (hashes, bytes), known): (
        &mut Vec<u64>,
        (bool, bool),
        Scratch<'_>,
        Known<'_>,
    ),
    (part, progress, lonely): (&mut PartBlocks, &mut Batched<'_>, Option<&Lonely>),
) -> DocSketch {
    let with_blocks = config.level != Level::Docs;
    let text: &str = &corpus.text(doc);
    progress.advance(text.len() as u64);
    let first_word = words.len();
    for b in part.blocks.push_text(text, config.blocks) {
        hashes.clear();
        let content = &text[b.content.clone()];
        hash_block_words(content, config.strip_markup, config.seed, hashes);
        if with_blocks && candidates.is_some() {
            // Both levels: words only, for now (see `analyze_after`).
            part.word_counts
                .push(u32::try_from(hashes.len()).expect("fewer than 2^32 words a block"));
        } else if with_blocks {
            part.sketches
                .push(second::block_sketch(hashes, false, config, bytes));
        } else {
            // Words only, for good (documents).
            part.sketches.push(Sketch {
                words: hashes.len(),
                ..Sketch::default()
            });
            if keep_words {
                // (What the documents stage counts a document's words by.)
                part.word_counts
                    .push(u32::try_from(hashes.len()).expect("fewer than 2^32 words a block"));
            }
        }
        if let Some(hll) = block_ngrams.as_deref_mut() {
            // A block without words adds nothing (also with --min-words 0).
            if hashes.len() >= config.min_words.max(1) {
                // The block's shingles, as the second pass makes them.
                for shingle in shingle_hashes(hashes, config.block_shingle, config.seed) {
                    hll.insert(shingle);
                }
            }
        }
        if candidates.is_some() {
            words.extend_from_slice(hashes);
        }
    }
    let doc_sketch = candidates.map_or_else(DocSketch::default, |c| {
        let own = words.len() - first_word;
        let single = keep_words && single_shingle(own, c, config);
        let few = keep_words && few_shingles(own, c, config);
        if let Some(copy) = (own > 0 && !single)
            .then(|| known(words, first_word))
            .flatten()
        {
            return copy;
        }
        let shingles = shingle_hashes(&words[first_word..], config.doc_shingle, config.seed);
        if single || few {
            // Its one shingle is its key (see `single_shingle`); or its few
            // shingles stand in for its keys until the document level knows
            // whether another document holds one (see `few_shingles`).
            DocSketch {
                shingles: Vec::new(),
                keys: shingles.collect(),
            }
        } else if keep_words {
            c.keys_only(shingles, config.seed)
        } else {
            let shingles: Vec<u64> = shingles.collect();
            if lonely.is_some_and(|l| Lonely::short(own, c, config) && l.is_lonely(&shingles)) {
                // In no candidate pair (see `Lonely`).
                DocSketch::default()
            } else if single_shingle(own, c, config) && shingles.len() == 1 {
                // Its band key in every table holds its copies only, the
                // same documents in each: made for the first table alone
                // (see `candidate_pairs_after`). A chunked run made, looked
                // up in every earlier chunk's segments and wrote 128 keys a
                // one-line record.
                c.sketch_single(shingles[0], config.seed)
            } else if defer && few_shingles(own, c, config) {
                // Its keys are made by the document level if its walk over
                // the tables takes it (see `defers_keys`).
                DocSketch {
                    shingles: crate::cluster::positioned_set(shingles),
                    keys: Vec::new(),
                }
            } else {
                c.sketch(shingles, config.seed)
            }
        }
    });
    doc_sketch
}

/// Word hashes a part of the first pass makes room for at first (1 MiB).
const WORDS_PART: usize = 1 << 17;

/// [`analyze`] after the documents and blocks of an index, as if they came
/// first in the input; `keep` keeps what an index update needs.
///
/// # Errors
/// When a look-up found the index corrupt.
///
/// # Panics
/// If the corpus and the index hold more than 2^32 documents or blocks.
pub fn analyze_after(
    corpus: &Corpus,
    config: &Config,
    progress: &dyn Progress,
    history: Option<Arc<dyn Prior>>,
    keep: bool,
) -> crate::Result<Analysis> {
    analyze_chunk(corpus, config, progress, history, (keep, None, None, None))
}

/// [`analyze_after`] for a chunk of a run in chunks, whose short documents
/// that share no shingle with another document (`lonely`, counted over every
/// chunk) are left without keys. Memory past `ceiling` ends a run of one
/// chunk with [`crate::Error::PastCeiling`] ([`crate::memory::Ceiling`]);
/// `across` spans the chunks under `--keep fullest` ([`AcrossChunks`]).
#[allow(clippy::too_many_lines)]
pub(crate) fn analyze_chunk(
    corpus: &Corpus,
    config: &Config,
    progress: &dyn Progress,
    history: Option<Arc<dyn Prior>>,
    (keep, lonely, ceiling, across): stored::ChunkRun<'_>,
) -> crate::Result<Analysis> {
    let grew_past = || crate::memory::Ceiling::past(ceiling);
    let hist = history.as_deref();
    let base_docs = hist.map_or(0, Prior::documents);
    let base_blocks = hist.map_or(0, Prior::blocks);
    let mut added = keep.then(StoredItems::default);
    let started = Instant::now();
    let mut timings = Timings::default();
    let with_docs = config.level != Level::Blocks;
    let with_blocks = config.level != Level::Docs;
    let candidates = with_docs.then(|| Candidates::new(config));
    let total_bytes: usize = corpus.documents.iter().map(|d| corpus.text_len(d)).sum();
    // A run of one chunk under a ceiling whose documents have more blocks
    // than it can hold (a text of a million short lines, counted to fit by
    // its bytes and lines) is made in chunks at once, where each document is
    // counted by its blocks: the ceiling is watched only in the stages below.
    if let Some(ceiling) = ceiling {
        let blocks: usize = corpus.documents.iter().map(Document::more_blocks).sum();
        if ceiling.passed_with(blocks.saturating_mul(crate::memory::BLOCK_MEMORY)) {
            return Err(grew_past());
        }
    }
    progress.stage("sketching", total_bytes as u64, true);
    // With both levels, blocks are sketched in a second pass, once the
    // document level has run: the documents' shingle sets are gone by then
    // and dropped documents' blocks need no shingles, so the two levels'
    // sketches are never held at once.
    let two_passes = with_docs && with_blocks;
    let keep_words = keeps_words(config.level, hist.is_some(), added.is_some());
    let defer = defers_keys(keep_words, added.is_some(), hist.is_some());
    // With two passes, the block index is sized from the distinct word
    // n-grams of long enough blocks, counted here: the blocks' shingles are
    // made later, while earlier blocks are being decided.
    // A part holds 64 KiB of text or more on average: a part of one-line
    // records is otherwise a few kilobytes, and each part (and each batch of
    // the second pass, which are the same) costs the threads a wake-up.
    let docs_per_part = (corpus.documents.len() / 256)
        .max(64)
        .max((64 << 10) / (total_bytes / corpus.documents.len().max(1)).max(1));
    // With `keep_words`, each part's word hashes, in one piece (taken and let
    // go by the second pass, whose batches are the same parts).
    let mut kept_words: Vec<std::sync::RwLock<Vec<u64>>> = Vec::new();
    // Under a ceiling, each part first checks the memory held.
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let parts: Vec<Part> = corpus
        .documents
        .par_chunks(docs_per_part)
        .enumerate()
        .map(|(k, docs)| {
            if ceiling.is_some_and(crate::memory::Ceiling::passed) {
                stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                return Part::default();
            }
            // (Only for the streamed second pass: with an index, blocks are
            // all sketched before detection, which counts their shingles.)
            let mut hll = (two_passes && hist.is_none()).then(Hll::new);
            // A part's word hashes get a mapping of their own (glibc maps
            // blocks of 1 MiB and more apart, see `memory::tune_allocator`;
            // pages never written take no memory): handed back whole when
            // the second pass lets the part go, not left as holes in the heap
            // between blocks that stay (7 MB more at the peak).
            // A part too small to fill an eighth of that (a word and what
            // ends it are two bytes or more) takes what its words can fill,
            // from the heap: 256 parts of one-line records each mapped and
            // unmapped a mebibyte, and every unmapping stopped the other
            // thread to flush its TLB.
            let mut words = if keep_words {
                let most: usize = docs.iter().map(|d| d.len / 2 + 1).sum();
                Vec::with_capacity(if most < WORDS_PART / 8 {
                    most
                } else {
                    WORDS_PART
                })
            } else {
                Vec::new()
            };
            // Buffers reused from block to block and document to document.
            let (mut hashes, mut bytes) = (Vec::new(), Vec::new());
            // Exact copies (the same word hashes) have the same sketch: it is
            // not made again (a flood of copies in a chunked run made each
            // one's signature), and a copy of an earlier document of the part
            // holds no keys of its own: (copy, original) says where they are
            // (200,000 identical records held 120 keys each, 190 MB; read
            // for each table from scattered copies, the keys of a chunk's
            // 125,000 copies took 2 s). With an index, a copy holds its
            // original's shingles (without, no document's are made yet).
            let mut originals = Copies::default();
            let mut copies = Vec::new();
            let first = k * docs_per_part;
            let mut part = PartBlocks {
                blocks: Blocks::with_capacity(docs.len(), docs.len()),
                ..PartBlocks::default()
            };
            let mut doc_sketches: Vec<DocSketch> = Vec::with_capacity(docs.len());
            let mut done = Batched::new(progress);
            for (i, doc) in docs.iter().enumerate() {
                let mut known = |words: &[u64], at: usize| {
                    let original = originals.original(words, at, first + i)?;
                    copies.push((first + i, original));
                    Some(DocSketch {
                        shingles: doc_sketches[original - first].shingles.clone(),
                        keys: Vec::new(),
                    })
                };
                let sketched = sketch_document(
                    corpus,
                    doc,
                    config,
                    candidates.as_ref(),
                    hll.as_mut(),
                    (
                        &mut words,
                        (keep_words, defer),
                        (&mut hashes, &mut bytes),
                        &mut known,
                    ),
                    (&mut part, &mut done, lonely),
                );
                doc_sketches.push(sketched);
            }
            if keep_words {
                // Neither the documents stage nor, with kept words, the
                // second pass reads the blocks (48 bytes each): they are
                // kept as a few bytes each until the end (the documents
                // stage's peak held them, 5 MiB of the 19 MB corpus's).
                part.blocks.pack();
            } else {
                words = Vec::new();
            }
            // The part's input pages leave the resident set now that its
            // text is read: the documents stage reads none, and the second
            // pass (without kept words), the report and the output fault
            // back in, from the page cache, what they read (the whole
            // mapped input stayed resident through the documents stage).
            corpus.release_documents(first..first + docs.len());
            (part, doc_sketches, hll, words, copies)
        })
        .collect();
    if stopped.into_inner() {
        return Err(grew_past());
    }
    let mut block_shingles = Hll::new();
    // The document whose keys each document's are (itself but for copies).
    let mut keys_of: Vec<usize> = Vec::new();
    let n = corpus.documents.len();
    let total_blocks = parts.iter().map(|p| p.0.blocks.blocks()).sum();
    let mut blocks = if keep_words {
        let bytes = parts.iter().map(|p| p.0.blocks.packed_bytes()).sum();
        Blocks::packed_with_capacity(n, bytes)
    } else {
        Blocks::with_capacity(n, total_blocks)
    };
    let mut sketches = Vec::new();
    // With two passes, the first pass's block sketches only count words: kept
    // as such, not as whole sketches beside the second pass's (6 MB of the
    // 10,000-document corpus's 72 MB peak).
    // (Sized at once: grown by doubling, each copy left a hole behind.)
    let mut word_counts: Vec<u32> = Vec::with_capacity(if two_passes { total_blocks } else { 0 });
    let mut doc_sketches = Vec::with_capacity(n);
    let mut doc_start = Vec::with_capacity(n + 1);
    let mut doc_of = Vec::with_capacity(total_blocks);
    // Each part is taken apart as it comes, not gathered into one table of
    // every document's first pass first (96 bytes a document more at once).
    // Each part's tables, freed once copied, stay in the heap (and the
    // resident set) until trimmed, while the merged tables fill fresh pages:
    // trimmed a few times on the way, not only at the end, the merge holds
    // about one share of them at a time instead of all (the 19 MB corpus:
    // the merge's 56 MiB of anonymous memory was the run's peak).
    let trim_every = parts.len().div_ceil(8).max(1);
    for (k, (part, per_doc, hll, words, copies)) in parts.into_iter().enumerate() {
        if let Some(hll) = hll {
            block_shingles.merge(&hll);
        }
        if keep_words {
            kept_words.push(std::sync::RwLock::new(words));
        }
        let start = keys_of.len();
        keys_of.extend(start..start + per_doc.len());
        for (copy, original) in copies {
            keys_of[copy] = original;
        }
        for i in 0..per_doc.len() {
            let doc = u32::try_from(doc_start.len()).expect("fewer than 2^32 documents");
            doc_start.push(doc_of.len());
            doc_of.extend(std::iter::repeat_n(doc, part.blocks.count(i)));
        }
        blocks.append(part.blocks);
        word_counts.extend(part.word_counts);
        sketches.extend(part.sketches);
        doc_sketches.extend(per_doc);
        if keep_words && (k + 1) % trim_every == 0 {
            crate::memory::release_free_memory();
        }
    }
    doc_start.push(doc_of.len());
    // The parts' own tables, taken apart above, and the first pass's
    // buffers are free heap between pieces that stay (band keys, word
    // counts): handed back before the documents stage, whose start (every
    // part's word hashes and band keys at once) is the run's peak with both
    // levels (corpus10k: 56.5 -> 54.2 MB, benches/RESULTS.md session 14).
    if keep_words {
        crate::memory::release_free_memory();
    }
    // Words of document `d` (all its blocks').
    let words_in = |d: usize| -> usize {
        word_counts[doc_start[d]..doc_start[d + 1]]
            .iter()
            .map(|&c| c as usize)
            .sum()
    };
    // Where each document's word hashes start in its part's piece.
    let word_at: Vec<usize> = if keep_words {
        let mut at = 0;
        (0..blocks.len())
            .map(|d| {
                if d.is_multiple_of(docs_per_part) {
                    at = 0;
                }
                let start = at;
                at += words_in(d);
                start
            })
            .collect()
    } else {
        Vec::new()
    };
    // Document `d`'s word hashes in its part's piece.
    let words_of = |d: usize| word_at[d]..word_at[d] + words_in(d);
    timings.sketch = started.elapsed();

    let started = Instant::now();
    progress.stage("documents", 0, false);
    let doc_level = match &candidates {
        Some(c) => {
            // What the keep policy reads, made once the band keys are gone:
            // not held through the candidate pairs' walk, the stage's peak.
            let sizes = || -> Vec<usize> {
                corpus
                    .documents
                    .iter()
                    .map(|d| corpus.text_len(d))
                    .collect()
            };
            let keep_values = || -> Vec<_> {
                corpus
                    .documents
                    .iter()
                    .map(|d| d.record.as_ref().and_then(|r| r.keep.as_deref().cloned()))
                    .collect()
            };
            if keep_words {
                // Only documents in candidate pairs are verified: their
                // shingle sets are made now, on every thread.
                let single = |d: usize| single_shingle(words_in(d), c, config);
                let shingles_of_doc = |d: usize| {
                    let part = kept_words[d / docs_per_part]
                        .read()
                        .unwrap_or_else(PoisonError::into_inner);
                    shingles_of(&part[words_of(d)], config.doc_shingle, config.seed)
                };
                let made = keys_of_few(
                    &mut doc_sketches,
                    &keys_of,
                    &words_in,
                    &shingles_of_doc,
                    c,
                    config,
                    ceiling,
                );
                if !made {
                    return Err(grew_past());
                }
                // (A document's keys are its original's when it is an exact
                // copy: `keys_of`.)
                let keys: Vec<&[u64]> = (0..n)
                    .map(|d| {
                        if single(d) {
                            &[]
                        } else {
                            doc_sketches[keys_of[d]].keys.as_slice()
                        }
                    })
                    .collect();
                let mut pairs = crate::index::candidate_pairs_within(&keys, c.tables(), ceiling)
                    .ok_or_else(grew_past)?;
                drop(keys);
                let singles: Vec<(u64, u32)> = (0..n)
                    .filter(|&d| single(d))
                    .map(|d| {
                        (
                            doc_sketches[d].keys[0],
                            u32::try_from(d).expect("checked above"),
                        )
                    })
                    .collect();
                pairs.extend(crate::index::single_key_pairs(singles));
                // The keys are read no more: they go before the shingle sets
                // of the paired documents are made (a kilobyte a document at
                // 120 bands).
                for sketch in &mut doc_sketches {
                    sketch.keys = Vec::new();
                }
                // Their pages go back to the system before the sets are
                // made: the sets do not fit the keys' scattered kilobyte
                // holes, and came on top of them (corpus10k: 0.8 MB lower
                // peak with the trim after the documents stage).
                crate::memory::release_free_memory();
                // The documents in pairs, in order: marked (a byte a
                // document), not listed twice a pair and sorted (16 bytes a
                // pair: 51 MB for 200,000 one-word records in one group).
                let mut paired = vec![false; n];
                for &(a, b) in &pairs {
                    paired[a as usize] = true;
                    paired[b as usize] = true;
                }
                let verified: Vec<usize> = (0..n).filter(|&d| paired[d]).collect();
                drop(paired);
                let sets: Vec<Vec<u64>> = verified
                    .par_iter()
                    .map(|&d| {
                        let part = kept_words[d / docs_per_part]
                            .read()
                            .unwrap_or_else(PoisonError::into_inner);
                        doc_shingle_set(&part[words_of(d)], config)
                    })
                    .collect();
                for (d, set) in verified.into_iter().zip(sets) {
                    doc_sketches[d].shingles = set;
                }
                let (sizes, keep_values, within) = (sizes(), keep_values(), (None, across));
                cluster_pairs(pairs, &doc_sketches, config, &sizes, &keep_values, within)
            } else {
                // Documents that share no shingle with another of the run
                // (their keys are not searched unless an index may hold
                // them: see `cluster_after`; an index still stores them).
                let alone = alone_in_run(&doc_sketches, &keys_of, c);
                let alone: Vec<bool> = (0..n)
                    .map(|d| alone.get(keys_of[d]).copied().unwrap_or(false))
                    .collect();
                let keys = (0..n)
                    .map(|d| doc_sketches[keys_of[d]].keys.as_slice())
                    .collect();
                // The originals sketched without their keys (see `defers_keys`):
                // every other with shingles has keys.
                let deferred: Vec<bool> = (0..n)
                    .map(|d| {
                        let s = &doc_sketches[d];
                        defer && keys_of[d] == d && s.keys.is_empty() && !s.shingles.is_empty()
                    })
                    .collect();
                let (sizes, keep_values) = (sizes(), keep_values());
                let prior = (hist, ceiling, across);
                let run = (&doc_sketches[..], &alone[..], (&keys_of[..], &deferred[..]));
                cluster_after(keys, run, c, config, &sizes, &keep_values, prior)
                    .ok_or_else(grew_past)?
            }
        }
        None => DocLevel {
            cluster_of: vec![None; n],
            dropped: vec![false; n],
            ..DocLevel::default()
        },
    };
    if let Some(h) = hist {
        h.status()?;
    }
    if let Some(added) = &mut added {
        added.doc_keys = doc_sketches
            .iter_mut()
            .map(|d| std::mem::take(&mut d.keys))
            .collect();
        added.few_sets = match &candidates {
            Some(c) => doc_sketches
                .par_iter()
                .enumerate()
                .map(|(d, s)| {
                    if keys_of[d] == d {
                        few_set(&s.shingles, (&added.doc_keys[d], defer), c, config)
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        added.band_prints = candidates.as_ref().and_then(|c| {
            let stored = (&added.doc_keys[..], &added.few_sets[..]);
            crate::cluster::few::band_prints(&doc_sketches, stored, &keys_of, c)
        });
        added.keys_of = keys_of;
        added.doc_shingles = doc_sketches
            .into_iter()
            .enumerate()
            .map(|(d, s)| {
                // (Every document's, in the first pass of `--keep fullest`.)
                let rep = doc_level.rep_of.get(d).copied().flatten().is_none()
                    || across.is_some_and(AcrossChunks::first_pass);
                (with_docs && rep).then_some(s.shingles)
            })
            .collect();
    } else {
        drop(doc_sketches);
    }
    // What the document level freed (the paired documents' shingle sets,
    // the band keys: small pieces of the heap between pieces that stay) goes
    // back to the system before the block level's table is made: glibc keeps
    // it, and the blocks stage's tables came on top (corpus10k's peak 10 MB
    // lower, 100k's 80 MB; no CPU time measured, benches/RESULTS.md session 14).
    crate::memory::release_free_memory();
    timings.documents = started.elapsed();
    if !two_passes {
        // The document level alone: no second pass reads the word hashes.
        kept_words = Vec::new();
    }

    let started = Instant::now();
    // Documents dropped whole (or, with --annotate, marked as such) take no part
    // in the block level: their blocks are neither repeats nor first copies.
    let skip: Vec<bool> = doc_of
        .iter()
        .map(|&d| !with_blocks || doc_level.dropped[d as usize])
        .collect();
    progress.stage("blocks", sketches.len() as u64, false);
    let Detection {
        matches,
        copies_in_dropped,
        unresolved: unresolved_copies,
        added: detected,
    } = if two_passes {
        // Blocks are sketched in batches of documents on every thread while
        // the detector decides the batch before (it runs on one).
        let dropped = &doc_level.dropped;
        let n = corpus.documents.len();
        // With `keep_words`, a batch is a part of the first pass: its word
        // hashes go as a whole once it is sketched.
        let per_batch = if keep_words {
            docs_per_part
        } else {
            (n / 128).clamp(16, 2048)
        };
        // The input's pages were all read by the first pass: they leave the
        // resident set, and each batch's go again once it is sketched (the
        // report and output read them back from the page cache). With
        // `keep_words` the second pass does not read the input at all.
        for source in &corpus.sources {
            source.release_pages();
        }
        let word_counts = &word_counts;
        let kept_words = &kept_words;
        let doc_start = &doc_start;
        let words_of = &words_of;
        let produce = |k: usize| -> Vec<Sketch> {
            let docs = k * per_batch..((k + 1) * per_batch).min(n);
            // The part's word hashes go once its blocks are made.
            let part = kept_words
                .get(k)
                .map(|w| std::mem::take(&mut *w.write().unwrap_or_else(PoisonError::into_inner)));
            // Pieces of the batch, each sketched into a vector of its own.
            let piece = sketch_piece(docs.len());
            let pieces: Vec<Vec<Sketch>> = (0..docs.len().div_ceil(piece))
                .into_par_iter()
                .map_init(
                    || (Vec::new(), Vec::new()),
                    |(scratch, bytes), k| {
                        let first = docs.start + k * piece;
                        let mut out = Vec::new();
                        for d in first..(first + piece).min(docs.end) {
                            let kept = part.as_deref().map(|p| {
                                (
                                    &p[words_of(d)],
                                    &word_counts[doc_start[d]..doc_start[d + 1]],
                                )
                            });
                            block_sketches(
                                corpus,
                                d,
                                if blocks.is_packed() { &[] } else { &blocks[d] },
                                dropped[d],
                                kept,
                                config,
                                (scratch, bytes),
                                &mut out,
                            );
                        }
                        out
                    },
                )
                .collect();
            corpus.release_documents(docs);
            if pieces.len() == 1 {
                pieces.into_iter().next().unwrap_or_default()
            } else {
                pieces.into_iter().flatten().collect()
            }
        };
        let keys = skip
            .iter()
            .zip(word_counts)
            .filter(|(&skip, &words)| !skip && words > 0)
            .count();
        if hist.is_some() {
            // With an index, every block is sketched first: the index's
            // postings of all their shingles are then read in one ordered
            // pass instead of one look-up at a time.
            sketches = (0..n.div_ceil(per_batch)).flat_map(produce).collect();
            detect_after(&sketches, &skip, &doc_of, config, progress, hist, keep)
        } else {
            let (detection, all) = detect_streamed(
                n.div_ceil(per_batch),
                &produce,
                &skip,
                &doc_of,
                (keys, block_shingles.estimate()),
                config,
                progress,
                keep,
            );
            sketches = all;
            detection
        }
    } else {
        detect_after(&sketches, &skip, &doc_of, config, progress, hist, keep)
    };
    if let Some(h) = hist {
        h.status()?;
    }
    timings.detect = started.elapsed();
    let started = Instant::now();
    let words: Vec<usize> = sketches.iter().map(|s| s.words).collect();
    if let (Some(added), Some((exact, postings))) = (&mut added, detected) {
        added.exact = exact;
        added.postings = postings;
        added.block_shingles = sketches
            .into_iter()
            .zip(&matches)
            .map(|(s, m)| {
                let indexed = *m == Match::Unique && s.words >= config.min_words;
                if indexed {
                    s.shingles
                } else {
                    Vec::new()
                }
            })
            .collect();
    } else {
        drop(sketches);
    }
    let (cluster_ids, members) = block_clusters(&matches, base_blocks);
    let facts = BlockFacts {
        matches: &matches,
        words: &words,
        cluster: &cluster_ids,
        members: &members,
        doc_of: &doc_of,
        doc_start: &doc_start,
        base: base_blocks,
        history: hist,
    };
    let decisions: Vec<DocDecision> = (0..blocks.len())
        .into_par_iter()
        .map(|doc| decide(doc, &facts, config))
        .collect();
    if let Some(h) = hist {
        h.status()?;
    }
    timings.decide = started.elapsed();
    let mut dropped = vec![false; matches.len()];
    for decision in &decisions {
        for run in &decision.runs {
            for pair in &run.pairs {
                dropped[pair.block - base_blocks] = true;
            }
        }
    }
    // (Packed with kept words, see the first pass: the output reads them.)
    blocks.unpack();
    let doc_dropped = if config.annotate {
        vec![false; n]
    } else {
        doc_level.dropped.clone()
    };
    Ok(Analysis {
        history,
        base_docs,
        base_blocks,
        indexed_docs: base_docs,
        blocks,
        doc_start,
        doc_of,
        words,
        matches,
        decisions,
        dropped,
        doc_level,
        doc_dropped,
        candidates,
        copies_in_dropped,
        unresolved_copies,
        timings,
        added,
    })
}

/// The cluster (first copy) of each block of `matches` (numbered from
/// `base`), and the copies of each first copy that has some, ascending.
pub(crate) fn block_clusters(
    matches: &[Match],
    base: usize,
) -> (Vec<usize>, HashMap<usize, Vec<usize>>) {
    let cluster_ids: Vec<usize> = matches
        .iter()
        .enumerate()
        .map(|(g, m)| match m {
            Match::Repeat { source, .. } => *source,
            _ => base + g,
        })
        .collect();
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (g, m) in matches.iter().enumerate() {
        if let Match::Repeat { source, .. } = m {
            members.entry(*source).or_default().push(base + g);
        }
    }
    (cluster_ids, members)
}

mod second;
mod stage;
mod stored;
#[cfg(test)]
mod tests;

pub use stage::sketch_stage;
