//! What an index update keeps of a run ([`StoredItems`]).

use crate::cluster::lonely::Lonely;
use crate::cluster::AcrossChunks;
use crate::prior::ExactRecord;

/// What a chunk is analysed with besides its documents
/// ([`super::analyze_chunk`]): whether to keep what a segment or an index
/// stores, the short documents alone in the whole run, the memory ceiling of
/// a run of one chunk, and what spans the chunks under `--keep fullest`.
pub(crate) type ChunkRun<'a> = (
    bool,
    Option<&'a Lonely>,
    Option<crate::memory::Ceiling>,
    Option<&'a AcrossChunks>,
);

/// What the sketch stages found that an index update stores, kept past the
/// point where a plain run frees it.
#[derive(Default)]
pub struct StoredItems {
    /// Per document: its band or table keys (empty without the document
    /// level, and for an exact copy of an earlier document, whose keys are
    /// its original's: see `keys_of`).
    pub doc_keys: Vec<Vec<u64>>,
    /// Per document: the document whose keys are its own (itself but for
    /// exact copies).
    pub keys_of: Vec<usize>,
    /// Per document: its shingles, when it is a representative.
    pub doc_shingles: Vec<Option<Vec<u64>>>,
    /// Per document whose keys are its own: its shingles (marks cleared),
    /// when it has few and they give back its band keys exactly
    /// (`cluster::few::few_set`); empty otherwise. Stored instead
    /// of its band records.
    pub few_sets: Vec<Vec<u64>>,
    /// The prints of the shingles of the documents whose band records are
    /// stored (keys of their own, no few set), when the method is MinHash
    /// (`cluster::few::shingle_print`; the index's `banded_shingles`).
    pub band_prints: Option<Vec<u32>>,
    /// Shingles of the blocks that were indexed as first copies (others empty).
    pub block_shingles: Vec<Vec<u64>>,
    /// Exact keys this run added.
    pub exact: Vec<ExactRecord>,
    /// Postings this run added.
    pub postings: Vec<(u32, u32)>,
}
