//! What earlier runs stored, as the engine reads it: the records of an index
//! (or of a run's earlier chunks) and the look-ups the stages make into them.
//! The persistent index (`store`) implements [`Prior`] for its files; the stages see only
//! this trait, so they sit below the store, which is built from their
//! results.

use crate::error::Result;
use std::collections::HashMap;
use std::sync::Arc;

/// Copies of a repeated block remembered besides its first copy.
pub const MEMBERS_KEPT: usize = 16;

/// Block verdicts as stored.
pub const KIND_EMPTY: u32 = 0;
/// See [`KIND_EMPTY`].
pub const KIND_SKIPPED: u32 = 1;
/// See [`KIND_EMPTY`].
pub const KIND_UNIQUE: u32 = 2;
/// See [`KIND_EMPTY`].
pub const KIND_REPEAT: u32 = 3;

/// A stored document.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DocRecord {
    /// Index of its first block.
    pub block_start: u64,
    /// Its representative's index (itself unless it is a cluster member).
    pub rep: u32,
    /// Offset and length of its shingles in `doc_shingles` (representatives).
    pub shingles: (u64, u32),
    /// Offset and length of its id in `strings`.
    pub id: (u64, u32),
    /// Offset and length of its file name in `strings`.
    pub path: (u64, u32),
    /// JSON Lines: its line (0 for plain text).
    pub line: u32,
    /// Bytes of text.
    pub bytes: u64,
    /// Dropped whole at document level (its blocks take no part in the block level).
    pub dropped: bool,
}

/// A stored block.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockRecord {
    /// Its first copy (itself when it is one).
    pub cluster: u32,
    /// Its document.
    pub doc: u32,
    /// Normalized words.
    pub words: u32,
    /// One of the `KIND_*` values.
    pub kind: u32,
    /// Offset and length of its shingles in `block_shingles` (indexed first copies).
    pub shingles: (u64, u32),
    /// Byte span in its document's text.
    pub bytes: [u64; 2],
    /// Character span.
    pub chars: [u64; 2],
    /// First and last line.
    pub lines: [u32; 2],
}

/// An exact-text key and the first copy it resolves to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactRecord {
    /// The xxh3-128 of the normalized words.
    pub key: u128,
    /// The first copy (the first block of the place holding the text).
    pub source: u32,
    /// The last block of that place (`source` for one block).
    pub last: u32,
    /// Containment in the first copy (1.0 for the first copy itself).
    pub similarity: f64,
    /// Whether the text equals the first copy's.
    pub exact: bool,
}

/// The postings an index holds for a set of fingerprints (see
/// [`Prior::prior_postings`]).
#[derive(Default)]
pub struct PriorPostings {
    /// fingerprint -> (start in `reps`, count); fingerprints without
    /// postings are left out.
    at: HashMap<u32, (u32, u32)>,
    reps: Vec<u32>,
}

impl PriorPostings {
    /// The postings of (fingerprint, first copy) pairs, found segment after
    /// segment (a stable sort by fingerprint keeps each list in that order).
    #[must_use]
    pub fn from_found(mut found: Vec<(u32, u32)>) -> PriorPostings {
        found.sort_by_key(|&(fp, _)| fp);
        let mut prior = PriorPostings::default();
        for list in found.chunk_by(|a, b| a.0 == b.0) {
            let start = u32::try_from(prior.reps.len()).expect("fewer than 2^32 postings");
            prior.reps.extend(list.iter().map(|&(_, r)| r));
            let count = u32::try_from(list.len()).expect("capped lists");
            prior.at.insert(list[0].0, (start, count));
        }
        prior
    }

    /// How many first copies the index lists for `fingerprint`.
    #[must_use]
    pub fn count(&self, fingerprint: u32) -> usize {
        self.at.get(&fingerprint).map_or(0, |&(_, n)| n as usize)
    }

    /// Appends the first copies the index lists for `fingerprint`, ascending.
    pub fn reps(&self, fingerprint: u32, out: &mut Vec<u32>) {
        if let Some(&(start, n)) = self.at.get(&fingerprint) {
            out.extend_from_slice(&self.reps[start as usize..(start + n) as usize]);
        }
    }
}

/// Documents and blocks seen before this run's (an index's, or a run's
/// earlier chunks'), numbered before it: the run's own come after
/// [`Prior::documents`] and [`Prior::blocks`].
pub trait Prior: Send + Sync {
    /// Documents stored.
    fn documents(&self) -> usize;
    /// Blocks stored.
    fn blocks(&self) -> usize;
    /// The first corruption a look-up found.
    ///
    /// # Errors
    /// That corruption.
    fn status(&self) -> Result<()>;
    /// Document `d`.
    fn doc(&self, d: usize) -> DocRecord;
    /// One past the last block of document `d`.
    fn doc_end(&self, d: usize) -> usize;
    /// The id of document `d` (its file name too: [`Looker::doc_named`]).
    fn doc_id(&self, d: usize) -> String;
    /// Block `g`.
    fn block(&self, g: usize) -> BlockRecord;
    /// The sorted shingles of first copy `g` (empty unless it was indexed).
    fn block_shingles(&self, g: usize) -> Vec<u64>;
    /// The bytes of text and sorted shingles of representative document `d`.
    fn doc_text(&self, d: usize) -> (u64, Vec<u64>);
    /// The postings of many fingerprints at once (ascending, no repeats).
    fn prior_postings(&self, fingerprints: &[u32]) -> PriorPostings;
    /// What many exact-text keys resolve to.
    fn prior_exact(&self, keys: &[u128]) -> HashMap<u128, ExactRecord>;
    /// The last stored copies of first copy `cluster`, ascending.
    fn members(&self, cluster: u32) -> Vec<u32>;
    /// The stored documents of many LSH buckets (table, key), added to
    /// `found` as (table, key, document), in no set order.
    fn buckets(&self, queries: &[(u32, u64)], found: &mut Vec<(u32, u64, u32)>);
    /// Whether any document of few shingles is stored without band records
    /// (see [`Prior::few_docs`]).
    fn has_few(&self) -> bool;
    /// The stored documents of few shingles that hold any of `shingles`
    /// (ascending, no repeats, marks cleared), each with its shingles,
    /// ascending by document. They have no band records: their band keys
    /// are made from these sets.
    fn few_docs(&self, shingles: &[u64]) -> Vec<(u32, Vec<u64>)>;
    /// Every shingle [`Prior::few_docs`] can find a document by, ascending
    /// without repeats, when the index holds `most` such records or fewer.
    fn few_shingles(&self, most: usize) -> Option<Vec<u64>>;
    /// Of `prints` (ascending, no repeats: the prints of shingles, their
    /// top 32 bits with the mark cleared), those a stored document with
    /// band records may hold, ascending; `None` when the store does not say
    /// (an index written without its `banded_shingles`). A document of few
    /// shingles holding none of them shares no bucket with any such document.
    fn banded_prints(&self, prints: &[u32]) -> Option<Vec<u32>>;
    /// Look-ups for a caller that makes many (see [`Looker`]).
    fn looker(&self) -> Box<dyn Looker + '_>;
}

/// Look-ups of one caller that makes many of them (a chunked run's report
/// and document clusters ask for a record or two of each of their
/// documents): what was read is kept for the next ones, so records side by
/// side and a file name met again cost no read. The same answers as
/// [`Prior`]'s; one a thread.
pub trait Looker {
    /// Document `d`.
    fn doc(&mut self, d: usize) -> DocRecord;
    /// Document `d` with its id and file name, its record read once.
    fn doc_named(&mut self, d: usize) -> (DocRecord, String, Arc<str>);
    /// Block `g`.
    fn block(&mut self, g: usize) -> BlockRecord;
    /// The bytes of text and sorted shingles of representative document `d`.
    fn doc_text(&mut self, d: usize) -> (u64, Vec<u64>);
}
