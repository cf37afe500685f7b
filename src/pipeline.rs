//! The only place where stages meet: segment and sketch every document in
//! parallel, detect repeats in input order, decide runs in parallel.

use crate::cluster::{cluster_after, Candidates, DocLevel, DocSketch};
use crate::config::{Config, Level};
use crate::decide::{decide, BlockFacts, DocDecision};
use crate::detect::{detect_after, detect_streamed, Detection, Match};
use crate::input::Corpus;
use crate::segment::{segment, Block};
use crate::shingle::{hash_text_words, shingles_of, write_bytes, Sketch};
use crate::sketch::hll::Hll;
use crate::store::{ExactRecord, History};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Everything the block engine found, indexed by document and by global block
/// index (blocks numbered in input order across all documents).
///
/// With an index (`--index`), the index's documents and blocks come first:
/// block ids in matches and decisions are then global (`base_blocks` plus the
/// run's own index), while the vectors here hold this run's blocks only.
pub struct Analysis {
    /// The index this run was checked against.
    pub history: Option<Arc<History>>,
    /// Documents in the index (0 without one).
    pub base_docs: usize,
    /// Blocks in the index (0 without one).
    pub base_blocks: usize,
    /// How many of the first documents come from a user's index (`--index`,
    /// `--reference`) and are reported as such; the rest of `base_docs` are
    /// earlier chunks of this run.
    pub indexed_docs: usize,
    /// Each document's blocks.
    pub blocks: Vec<Vec<Block>>,
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
    pub added: Option<Added>,
}

/// What the sketch stages found that an index update stores, kept past the
/// point where a plain run frees it.
#[derive(Default)]
pub struct Added {
    /// Per document: its band or table keys (empty without the document level).
    pub doc_keys: Vec<Vec<u64>>,
    /// Per document: its shingles, when it is a representative.
    pub doc_shingles: Vec<Option<Vec<u64>>>,
    /// Shingles of the blocks that were indexed as first copies (others empty).
    pub block_shingles: Vec<Vec<u64>>,
    /// Exact keys this run added.
    pub exact: Vec<ExactRecord>,
    /// Postings this run added.
    pub postings: Vec<(u32, u32)>,
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
            Some(h) if global < self.base_docs => h.doc_strings(global).0,
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

    /// Whether any block of `doc` is dropped (the document itself may be kept).
    #[must_use]
    pub fn changes(&self, doc: usize) -> bool {
        // `doc` is this run's document; `dropped` holds this run's blocks.
        self.dropped[self.doc_start[doc]..self.doc_start[doc + 1]]
            .iter()
            .any(|&d| d)
    }
}

/// Where the engine reports how far it got (a progress bar in the binary).
/// Calls come from several threads; nothing of it reaches the answer.
pub trait Progress: Sync {
    /// A stage begins, with `total` units of work (bytes or items).
    fn stage(&self, name: &'static str, total: u64, bytes: bool);
    /// `n` more units are done.
    fn advance(&self, n: u64);
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &'static str, _: u64, _: bool) {}
    fn advance(&self, _: u64) {}
}

/// Runs both levels over a loaded corpus. The answer depends only on the corpus
/// and the config, never on the number of threads.
///
/// # Panics
/// If the corpus has more than 2^32 documents.
#[must_use]
pub fn analyze(corpus: &Corpus, config: &Config) -> Analysis {
    analyze_with_progress(corpus, config, &Silent)
}

/// [`analyze`], reporting progress.
///
/// # Panics
/// If the corpus has more than 2^32 documents.
#[must_use]
pub fn analyze_with_progress(
    corpus: &Corpus,
    config: &Config,
    progress: &dyn Progress,
) -> Analysis {
    analyze_after(corpus, config, progress, None, false).expect("without an index nothing can fail")
}

/// What the first pass gives per document: its blocks, their sketches (word
/// counts only with both levels) and the document's sketch.
type PerDoc = (Vec<Block>, Vec<Sketch>, DocSketch);

/// The first pass over one document: blocks, word hashes, the document's
/// sketch; with `block_ngrams`, the distinct word n-grams of its long enough
/// blocks are counted into it.
fn sketch_document(
    corpus: &Corpus,
    doc: &crate::input::Document,
    config: &Config,
    candidates: Option<&Candidates>,
    mut block_ngrams: Option<&mut Hll>,
    progress: &dyn Progress,
) -> PerDoc {
    let with_blocks = config.level != Level::Docs;
    let text: &str = &corpus.text(doc);
    let mut blocks = segment(text, config.blocks);
    // Held for the whole run (48 bytes a block): without the room a growing
    // vector keeps, 3 of the 10,000-document corpus's 7 MB.
    blocks.shrink_to_fit();
    let mut doc_words: Vec<u64> = Vec::new();
    // Buffers reused from block to block of the document.
    let mut hashes: Vec<u64> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut sketches = Vec::with_capacity(blocks.len());
    for b in &blocks {
        hashes.clear();
        hash_text_words(&text[b.content.clone()], config.seed, &mut hashes);
        sketches.push(if with_blocks && candidates.is_none() {
            Sketch::from_word_hashes_with(&hashes, config.block_shingle, config.seed, &mut bytes)
        } else {
            // Words only, for now (both levels) or for good (documents).
            Sketch {
                words: hashes.len(),
                ..Sketch::default()
            }
        });
        if let Some(hll) = block_ngrams.as_deref_mut() {
            if hashes.len() >= config.min_words {
                let n = config.block_shingle.clamp(1, hashes.len());
                // Not the shingle hash, only as distinct: word hashes are
                // xxh3, and `insert` mixes.
                for window in hashes.windows(n) {
                    hll.insert(
                        window
                            .iter()
                            .fold(0, |acc: u64, &w| acc.rotate_left(23) ^ w),
                    );
                }
            }
        }
        if candidates.is_some() {
            doc_words.extend_from_slice(&hashes);
        }
    }
    let doc_sketch = candidates.map_or_else(DocSketch::default, |c| {
        write_bytes(&doc_words, &mut bytes);
        let shingles = shingles_of(&bytes, config.doc_shingle, config.seed);
        c.sketch(shingles, config.seed)
    });
    progress.advance(text.len() as u64);
    (blocks, sketches, doc_sketch)
}

/// The second pass over one document (both levels): its blocks' shingles, or
/// only their exact keys when the document was dropped whole (to count the
/// copies it holds of first copies).
fn block_sketches(
    corpus: &Corpus,
    d: usize,
    blocks: &[Block],
    dropped: bool,
    config: &Config,
) -> Vec<Sketch> {
    let text: &str = &corpus.text(&corpus.documents[d]);
    let mut hashes: Vec<u64> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    blocks
        .iter()
        .map(|b| {
            hashes.clear();
            hash_text_words(&text[b.content.clone()], config.seed, &mut hashes);
            if dropped {
                Sketch::exact_only(&hashes, config.seed, &mut bytes)
            } else {
                Sketch::from_word_hashes_with(
                    &hashes,
                    config.block_shingle,
                    config.seed,
                    &mut bytes,
                )
            }
        })
        .collect()
}

/// [`analyze`] after the documents and blocks of an index, as if they came
/// first in the input; `keep` keeps what an index update needs.
///
/// # Errors
/// When a look-up found the index corrupt.
///
/// # Panics
/// If the corpus and the index hold more than 2^32 documents or blocks.
#[allow(clippy::too_many_lines)]
pub fn analyze_after(
    corpus: &Corpus,
    config: &Config,
    progress: &dyn Progress,
    history: Option<Arc<History>>,
    keep: bool,
) -> crate::Result<Analysis> {
    let hist = history.as_deref();
    let base_docs = hist.map_or(0, History::documents);
    let base_blocks = hist.map_or(0, History::blocks);
    let mut added = keep.then(Added::default);
    let started = Instant::now();
    let mut timings = Timings::default();
    let with_docs = config.level != Level::Blocks;
    let with_blocks = config.level != Level::Docs;
    let candidates = with_docs.then(|| Candidates::new(config));
    let total_bytes: usize = corpus.documents.iter().map(|d| corpus.text_len(d)).sum();
    progress.stage("sketching", total_bytes as u64, true);
    // With both levels, blocks are sketched in a second pass, once the
    // document level has run: the documents' shingle sets are gone by then
    // and dropped documents' blocks need no shingles, so the two levels'
    // sketches are never held at once.
    let two_passes = with_docs && with_blocks;
    // With two passes, the block index is sized from the distinct word
    // n-grams of long enough blocks, counted here: the blocks' shingles are
    // made later, while earlier blocks are being decided.
    let docs_per_part = (corpus.documents.len() / 256).max(64);
    let parts: Vec<(Vec<PerDoc>, Option<Hll>)> = corpus
        .documents
        .par_chunks(docs_per_part)
        .map(|docs| {
            // (Only for the streamed second pass: with an index, blocks are
            // all sketched before detection, which counts their shingles.)
            let mut hll = (two_passes && hist.is_none()).then(Hll::new);
            let per_doc = docs
                .iter()
                .map(|doc| {
                    sketch_document(
                        corpus,
                        doc,
                        config,
                        candidates.as_ref(),
                        hll.as_mut(),
                        progress,
                    )
                })
                .collect();
            (per_doc, hll)
        })
        .collect();
    let mut block_shingles = Hll::new();
    let per_doc: Vec<PerDoc> = parts
        .into_iter()
        .flat_map(|(per_doc, hll)| {
            if let Some(hll) = hll {
                block_shingles.merge(&hll);
            }
            per_doc
        })
        .collect();
    let mut blocks = Vec::with_capacity(per_doc.len());
    let mut sketches = Vec::new();
    // With two passes, the first pass's block sketches only count words: kept
    // as such, not as whole sketches beside the second pass's (6 MB of the
    // 10,000-document corpus's 72 MB peak).
    let mut has_words: Vec<bool> = Vec::new();
    let mut doc_sketches = Vec::with_capacity(per_doc.len());
    let mut doc_start = Vec::with_capacity(per_doc.len() + 1);
    let mut doc_of = Vec::new();
    for (doc, (b, s, d)) in per_doc.into_iter().enumerate() {
        doc_start.push(doc_of.len());
        let doc = u32::try_from(doc).expect("fewer than 2^32 documents");
        doc_of.extend(std::iter::repeat_n(doc, b.len()));
        blocks.push(b);
        if two_passes {
            has_words.extend(s.iter().map(|s| s.words > 0));
        } else {
            sketches.extend(s);
        }
        doc_sketches.push(d);
    }
    doc_start.push(doc_of.len());
    timings.sketch = started.elapsed();

    let started = Instant::now();
    let n = corpus.documents.len();
    progress.stage("documents", 0, false);
    let doc_level = match &candidates {
        Some(c) => {
            let sizes: Vec<usize> = corpus
                .documents
                .iter()
                .map(|d| corpus.text_len(d))
                .collect();
            let keep_values: Vec<_> = corpus
                .documents
                .iter()
                .map(|d| d.record.as_ref().and_then(|r| r.keep.as_deref().cloned()))
                .collect();
            cluster_after(&doc_sketches, c, config, &sizes, &keep_values, hist)
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
        added.doc_keys = doc_sketches.iter().map(|d| d.keys.clone()).collect();
        added.doc_shingles = doc_sketches
            .into_iter()
            .enumerate()
            .map(|(d, s)| {
                let rep = doc_level.rep_of.get(d).copied().flatten().is_none();
                (with_docs && rep).then_some(s.shingles)
            })
            .collect();
    } else {
        drop(doc_sketches);
    }
    crate::memory::release_free_memory();
    timings.documents = started.elapsed();

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
        let per_batch = (n / 128).clamp(16, 2048);
        // The input's pages were all read by the first pass: they leave the
        // resident set, and each batch's go again once it is sketched (the
        // report and output read them back from the page cache).
        for source in &corpus.sources {
            source.release_pages();
        }
        let produce = |k: usize| -> Vec<Sketch> {
            let docs = k * per_batch..((k + 1) * per_batch).min(n);
            let per_doc: Vec<Vec<Sketch>> = docs
                .clone()
                .into_par_iter()
                .map(|d| block_sketches(corpus, d, &blocks[d], dropped[d], config))
                .collect();
            corpus.release_documents(docs);
            per_doc.into_iter().flatten().collect()
        };
        let keys = skip
            .iter()
            .zip(&has_words)
            .filter(|(&skip, &words)| !skip && words)
            .count();
        drop(has_words);
        if hist.is_some() {
            // With an index, every block is sketched first: the index's
            // postings of all their shingles are then read in one ordered
            // pass instead of one look-up at a time.
            sketches = (0..n.div_ceil(per_batch)).flat_map(produce).collect();
            detect_after(&sketches, &skip, config, progress, hist, keep)
        } else {
            let (detection, all) = detect_streamed(
                n.div_ceil(per_batch),
                &produce,
                &skip,
                (keys, block_shingles.estimate()),
                config,
                progress,
                keep,
            );
            sketches = all;
            detection
        }
    } else {
        detect_after(&sketches, &skip, config, progress, hist, keep)
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
    let cluster_ids: Vec<usize> = matches
        .iter()
        .enumerate()
        .map(|(g, m)| match m {
            Match::Repeat { source, .. } => *source,
            _ => base_blocks + g,
        })
        .collect();
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (g, m) in matches.iter().enumerate() {
        if let Match::Repeat { source, .. } = m {
            members.entry(*source).or_default().push(base_blocks + g);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "the council approved the new budget after a long debate on tuesday";
    const P2: &str = "rain is expected across the region for the rest of the week";

    #[test]
    fn a_copied_document_is_one_run_against_the_copy_it_mirrors() {
        // X and Y hold the first copies; A combines them with a short sign-off;
        // B is a copy of A and should be reported as one run against A.
        let a = format!("{P1}\n\n{P2}\n\nReuter\n");
        let corpus = Corpus::from_texts([
            ("x", P1.to_owned()),
            ("y", P2.to_owned()),
            ("a", a.clone()),
            ("b", a),
        ]);
        // The block level alone: at both levels B is dropped whole as a copy of A.
        let config = Config {
            level: Level::Blocks,
            ..Config::default()
        };
        let analysis = analyze(&corpus, &config);
        let b = &analysis.decisions[3];
        assert_eq!(b.runs.len(), 1, "{b:?}");
        let run = &b.runs[0];
        assert_eq!(run.pairs.len(), 3);
        for (i, pair) in run.pairs.iter().enumerate() {
            assert_eq!(pair.mirror, analysis.global(2, i));
        }
        // First copies stay where the text was first seen.
        assert_eq!(run.pairs[0].source, analysis.global(0, 0));
        assert_eq!(run.pairs[1].source, analysis.global(1, 0));
        assert!(b.kept_short.is_empty());
        // In A the short sign-off has no run to vouch for it and is only reported.
        assert_eq!(analysis.decisions[2].runs.len(), 2);
        assert!(analysis.decisions[2].kept_short.is_empty());
        let both = analyze(&corpus, &Config::default());
        assert_eq!(both.doc_dropped, [false, false, false, true]);
        assert!(both.decisions[3].runs.is_empty());
    }
}
