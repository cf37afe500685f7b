//! What a block's search found, and the buffers searches reuse.

use super::Place;

/// What the parallel look-up found for one block.
pub(super) struct Found {
    /// (candidate, shingles in common), ascending: the first copies before
    /// the batch that hold one of the block's rarest shingles (see the
    /// module docs).
    pub(super) candidates: Vec<(u32, u32)>,
    /// Those rarest shingles: the first copies of the batch holding them
    /// are candidates too, found once they are known.
    pub(super) probes: Vec<u32>,
    /// Where each shingle's look-up ended in the table (a hint for indexing).
    pub(super) hints: Vec<usize>,
    /// Whether `place` was looked for: only when no candidate holds enough
    /// alone.
    pub(super) searched: bool,
    /// The best place of several blocks, assuming that the earlier blocks of
    /// the batch are all first copies.
    pub(super) place: Option<Place>,
    /// The blocks of the batch that assumption was made of.
    pub(super) assumed: Vec<u32>,
}

/// A search's buffers, reused from one block to the next: the rarest
/// shingles and the candidates; and, when blocks are looked up one by one,
/// the vectors of the last [`Found`], given back once it is resolved.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) rarest: Vec<u64>,
    pub(super) candidates: Vec<u32>,
    pub(super) hints: Vec<usize>,
    pub(super) probes: Vec<u32>,
    pub(super) verified: Vec<(u32, u32)>,
}

impl Scratch {
    /// Takes back the vectors of `found`, resolved.
    pub(super) fn recycle(&mut self, found: Found) {
        self.hints = found.hints;
        self.probes = found.probes;
        self.verified = found.candidates;
    }
}
