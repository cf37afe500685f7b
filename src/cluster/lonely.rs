//! The table a run in chunks fills before its first chunk (the `lonely`
//! module): which shingles of short documents another document holds too.

use super::few::{few_shingles, single_shingle};
use super::{Candidates, MARK};
use crate::config::Config;

/// Which shingles of short documents another document holds too: 2-bit
/// counters, three for each shingle, saturating at 3. A short document adds
/// 1 to each of its distinct shingles' counters, a longer one 2 to each of
/// its shingles' (whatever it holds of a short document's is shared).
pub(crate) struct Lonely {
    counters: Vec<u64>,
    /// Counters less one (their number is a power of two).
    mask: usize,
    /// Shingles added, against which the table is given up as too full.
    added: usize,
}

/// Counters a `u64` holds.
const PER_WORD: usize = 32;

impl Lonely {
    /// Bytes of memory its counters take.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.counters.capacity() * std::mem::size_of::<u64>()
    }

    /// An empty table of about `bytes` bytes (at least 4 KiB).
    #[must_use]
    pub fn with_bytes(bytes: usize) -> Lonely {
        let words = crate::memory::power_of_two_words(bytes);
        Lonely {
            counters: vec![0; words],
            mask: words * PER_WORD - 1,
            added: 0,
        }
    }

    /// The three counters of shingle `s` (its position mark left out).
    fn slots(&self, s: u64) -> [usize; 3] {
        let s = s & !MARK;
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

    /// Adds `by` to the counters of `s`.
    pub(crate) fn add(&mut self, s: u64, by: u64) {
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
    pub(crate) fn full(&self) -> bool {
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

    /// What the counters of `s` say at least: how many documents hold it
    /// (2 or 3: two or more).
    pub(crate) fn holders(&self, s: u64) -> u64 {
        self.slots(s)
            .iter()
            .map(|&k| self.get(k))
            .min()
            .unwrap_or(0)
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
