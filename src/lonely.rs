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

use crate::cluster::few::{few_shingles, single_shingle};
use crate::cluster::{Candidates, HEAD};
use crate::config::{Config, Level, Method};
use crate::input::{InputPath, Texts};
use crate::segment::{segment_into, Block};
use crate::shingle::{hash_block_words, shingle_hashes};
use crate::stream::Stream;
use rayon::prelude::*;
use std::path::PathBuf;

/// Which shingles of short documents another document holds too: 2-bit
/// counters, three for each shingle, saturating at 3. A short document adds
/// 1 to each of its distinct shingles' counters, a longer one 2 to each of
/// its shingles' (whatever it holds of a short document's is shared).
pub struct Lonely {
    counters: Vec<u64>,
    /// Counters less one (their number is a power of two).
    mask: usize,
    /// Shingles added, against which the table is given up as too full.
    added: usize,
}

/// Counters a `u64` holds.
const PER_WORD: usize = 32;

/// Words of a longer document read per short one before the first pass is
/// given up (as [`crate::cluster::few::keys_of_few`] gives up looking
/// through longer documents), past the first [`SLACK`]: in a corpus of
/// ordinary documents the pass would cost a read of every input for nothing.
const LONGER_PER_SHORT: usize = 64;
const SLACK: usize = 1 << 18;

/// Bytes of text the first pass reads at a time (at most).
const PIECE: usize = 1 << 20;

impl Lonely {
    /// An empty table of about `bytes` bytes (at least 4 KiB).
    #[must_use]
    pub fn with_bytes(bytes: usize) -> Lonely {
        let words = (bytes / 8).max(512);
        let words = if words.is_power_of_two() {
            words
        } else {
            words.next_power_of_two() / 2
        };
        Lonely {
            counters: vec![0; words],
            mask: words * PER_WORD - 1,
            added: 0,
        }
    }

    /// The three counters of shingle `s` (its position mark left out).
    fn slots(&self, s: u64) -> [usize; 3] {
        let s = s & !HEAD;
        #[allow(clippy::cast_possible_truncation)]
        let at = |h: u64| (h >> 20) as usize & self.mask;
        [
            at(s),
            at(s.rotate_left(21).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            at(s.rotate_left(42).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)),
        ]
    }

    fn get(&self, slot: usize) -> u64 {
        (self.counters[slot / PER_WORD] >> (2 * (slot % PER_WORD))) & 3
    }

    fn add(&mut self, s: u64, by: u64) {
        for slot in self.slots(s) {
            let shift = 2 * (slot % PER_WORD);
            let word = &mut self.counters[slot / PER_WORD];
            let now = (*word >> shift) & 3;
            *word = (*word & !(3 << shift)) | ((now + by).min(3) << shift);
        }
        self.added += 1;
    }

    /// Whether the table is too full to tell anything (a quarter as many
    /// shingles added as counters: most would count two by then).
    fn full(&self) -> bool {
        self.added > (self.mask + 1) / 4
    }

    /// Whether no other document holds any of `shingles` (a short
    /// document's, counted in the table).
    #[must_use]
    pub fn is_lonely(&self, shingles: &[u64]) -> bool {
        shingles.iter().all(|&s| self.holders(s) <= 1)
    }

    /// Whether a document of `words` words is short for this table: of few
    /// shingles, or of one shingle of fewer words than `--doc-shingle`.
    #[must_use]
    pub fn short(words: usize, candidates: &Candidates, config: &Config) -> bool {
        single_shingle(words, candidates, config) || few_shingles(words, candidates, config)
    }

    /// Counts the shingles of every document of `inputs` (read as a run in
    /// chunks of `chunk_bytes` reads them, spooling under `dir`) into a
    /// table of about `bytes` bytes: the short documents' in a first pass
    /// over the inputs, then, when there are longer documents, theirs in a
    /// second, which mark only what a short document holds (a longer
    /// document's shingles would fill the table). `None` when the run gains
    /// nothing by it: documents of the document level by MinHash only, in
    /// files that can be read again, with few longer documents beside the
    /// short ones (see [`LONGER_PER_SHORT`]); and when an input cannot be
    /// read (the run itself names the error) or the table fills.
    #[must_use]
    pub fn count(
        inputs: &[InputPath],
        config: &Config,
        reading: (usize, PathBuf, Option<u64>),
        bytes: usize,
    ) -> Option<Lonely> {
        let regular = |i: &InputPath| {
            !i.is_stdin() && std::fs::metadata(&i.path).is_ok_and(|m| m.file_type().is_file())
        };
        if config.method != Method::Minhash
            || config.level == Level::Blocks
            || !inputs.iter().all(regular)
        {
            return None;
        }
        let mut table = Lonely::with_bytes(bytes);
        let (mut short, mut longer) = (0usize, 0usize);
        let first = each_document(
            inputs,
            config,
            reading.clone(),
            |is_short, words, shingles| {
                if is_short {
                    short += 1;
                    for &s in shingles {
                        table.add(s, 1);
                    }
                } else {
                    longer += words;
                }
                longer <= short * LONGER_PER_SHORT + SLACK && !table.full()
            },
        );
        if !first || short == 0 {
            return None;
        }
        if longer > 0 {
            let second = each_document(inputs, config, reading, |is_short, _, shingles| {
                if !is_short {
                    for &s in shingles {
                        if table.holders(s) >= 1 {
                            table.add(s, 2);
                        }
                    }
                }
                true
            });
            if !second {
                return None;
            }
        }
        Some(table)
    }

    /// What the counters of `s` say at least: how many documents hold it
    /// (2 or 3: two or more).
    fn holders(&self, s: u64) -> u64 {
        self.slots(s)
            .iter()
            .map(|&k| self.get(k))
            .min()
            .unwrap_or(0)
    }
}

/// Reads every document of `inputs` (see [`Lonely::count`]), in input
/// order, and calls `each` with whether it is short, its words and its
/// shingles (a short document's distinct) until `each` says stop; whether
/// every document was read.
fn each_document(
    inputs: &[InputPath],
    config: &Config,
    (chunk_bytes, dir, page_budget): (usize, PathBuf, Option<u64>),
    mut each: impl FnMut(bool, usize, &[u64]) -> bool,
) -> bool {
    let candidates = Candidates::new(config);
    let mut stream = Stream::new(inputs.to_vec(), config, chunk_bytes / 2, dir)
        .with_max_document(chunk_bytes)
        .with_page_budget(page_budget);
    // Read a little at a time: nothing is kept but the table, and a corpus
    // of longer documents is given up on soon.
    let piece = chunk_bytes.min(PIECE);
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
                            .map(|s| s & !HEAD)
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
    }
}

#[cfg(test)]
mod tests {
    use super::Lonely;

    /// Shingle hashes as the run makes them (any 64 bits, the lowest being
    /// the position mark, which the table leaves out).
    fn shingle(i: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())
    }

    #[test]
    fn a_short_document_is_lonely_until_another_holds_one_of_its_shingles() {
        let mut table = Lonely::with_bytes(1 << 12);
        let (a, b, c) = (shingle(1), shingle(2), shingle(3));
        table.add(a, 1);
        table.add(b, 1);
        assert!(table.is_lonely(&[a, b]));
        // Another short document holding b.
        table.add(b, 1);
        table.add(c, 1);
        assert!(!table.is_lonely(&[a, b]));
        assert!(table.is_lonely(&[a]));
        // The mark bit is not part of the shingle.
        assert!(!table.is_lonely(&[b ^ 1]));
        // A longer document holding a (its second pass adds 2).
        if table.holders(a) >= 1 {
            table.add(a, 2);
        }
        assert!(!table.is_lonely(&[a]));
        assert_eq!(table.holders(a), 3, "counters saturate at 3");
    }

    #[test]
    fn a_crowded_table_counts_more_holders_never_fewer() {
        // 4 KiB: 16,384 counters, given up as full past 4,096 shingles;
        // filled far past that, no shingle counts fewer holders than it has.
        let mut table = Lonely::with_bytes(1 << 12);
        for i in 0..20_000 {
            table.add(shingle(i), 1);
            if i % 3 == 0 {
                table.add(shingle(i), 1);
            }
        }
        assert!(table.full());
        for i in 0..20_000 {
            let holders = table.holders(shingle(i));
            assert!(holders >= if i % 3 == 0 { 2 } else { 1 }, "{i}: {holders}");
        }
        // Most lone shingles of a table that full count as shared.
        let lone = (0..20_000)
            .filter(|&i| table.is_lonely(&[shingle(i)]))
            .count();
        assert!(lone < 5_000, "{lone}");
    }
}
