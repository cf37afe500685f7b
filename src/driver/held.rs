//! How large a run in chunks cuts each chunk: the room its memory limit
//! leaves beside what the run holds for the whole input, counted from the
//! run's own tables (not the process's resident set, which moves with
//! timing, the allocator and the number of threads), so a run cuts the same
//! chunks, and writes the same index, every time.

use super::{chunk_bytes, Tally, Underway, MEMORY_PER_TEXT_BYTE};
use crate::cluster::lonely::Lonely;
use crate::error::Result;
use crate::stream::Chunk;
use std::time::Instant;

impl Underway<'_> {
    /// The next chunk: everything, for a run of one chunk; else what the
    /// memory the run does not hold yet leaves room for.
    pub(super) fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        let clock = Instant::now();
        let budget = self.plan.memory_limit.map_or(usize::MAX, |limit| {
            // What the run holds for the whole input grows chunk after chunk;
            // the next chunk gets the rest of the limit, down to a quarter of
            // it. Chunk boundaries never change the output or the report; an
            // index records its segments, so they are cut by this count, the
            // same in every run (cut by the resident set, a run wrote other
            // bytes each time).
            let held = self.held();
            let room = limit.saturating_sub(held).max(limit / 4);
            (room / MEMORY_PER_TEXT_BYTE).clamp(4096, chunk_bytes(limit))
        });
        let chunk = self.stream.next_chunk(budget);
        self.spent.read += clock.elapsed();
        chunk
    }

    /// Bytes of memory the run holds for the whole input between chunks,
    /// from the lengths and capacities of its tables: the report's shared
    /// blocks, clusters and counts, the inputs held in memory and where
    /// documents' texts are, the segments of earlier chunks, copies waiting
    /// for their first copies, annotations, and the table of short
    /// documents' shingles, and the filter of stored bucket keys.
    fn held(&self) -> usize {
        let tally = match &self.tally {
            Tally::Report(report) => report.held_bytes(),
            Tally::Totals(_) => 0,
        };
        let segments: usize = self
            .segments
            .iter()
            .map(crate::store::Segment::held_bytes)
            .sum();
        tally
            + segments
            + self.stream.held_bytes()
            + self.unresolved.capacity() * std::mem::size_of::<(usize, usize, u128)>()
            + self.annotations.held_bytes()
            + self.parts.held_bytes()
            + self.lonely.as_ref().map_or(0, Lonely::held_bytes)
            + self.keys_seen.as_ref().map_or(0, |s| s.held_bytes())
    }
}
