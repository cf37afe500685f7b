//! How much of one representative another holds, remembered for the later
//! documents that ask again.
//!
//! [`super::best_representative`] asks, of each representative a document
//! passes, which of its other candidates' representatives *quote* it (hold
//! most or all of it). The answer depends on the two representatives alone
//! (their shingle sets do not change during a run), yet it was worked out
//! anew for every later document that had both among its candidates: where
//! documents share most of their text with most others (license texts, a
//! site's pages), a document has hundreds of candidates and the walks were
//! quadratic in them, 90% of a run's time. Remembered here, each pair of
//! representatives is walked once. The answers are the walks' own, so the
//! verdicts do not depend on what is remembered.

use std::collections::HashMap;
use std::sync::Mutex;

/// Pairs remembered at most (about 17 MiB), whatever the documents: a
/// shard that holds its part starts again empty (see [`Quotes::holding`]).
const CAP: usize = 1 << 19;

/// Pairs remembered at least (a few hundred KiB).
const FLOOR: usize = 1 << 13;

/// Shards, so that threads deciding documents side by side seldom wait.
const SHARDS: usize = 16;

/// How much of a representative's shingle set another holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Fewer than the shingles asked.
    Less,
    /// At least the shingles asked, not all.
    Enough,
    /// All of them.
    All,
}

/// How much of one representative another holds, by (quoted, quoting) ids, for one
/// set of shingle sets and one number asked per set: made for one call that
/// decides documents, never kept past it.
pub struct Quotes {
    shards: Vec<Mutex<HashMap<u64, Holding>>>,
    /// Pairs a shard remembers at most.
    per_shard: usize,
}

impl Default for Quotes {
    fn default() -> Quotes {
        Quotes::for_shingles(usize::MAX)
    }
}

impl Quotes {
    /// A memory for documents holding `shingles` shingles in all: a pair
    /// takes about 34 bytes, so it remembers a quarter as many pairs (its
    /// size about the sets' own 8 bytes a shingle, which a run in chunks
    /// keeps within `--memory-limit`), between 2^13 and 2^19 pairs.
    #[must_use]
    pub fn for_shingles(shingles: usize) -> Quotes {
        Quotes {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: (shingles / 4).clamp(FLOOR, CAP) / SHARDS,
        }
    }

    /// How much of representative `i`'s set, of `len` shingles,
    /// representative `j` holds. `walk` finds out: the count of shingles they share when it is
    /// at least what counts as enough (a number that depends on `a` alone,
    /// so the same at every call for `i`), else `None`.
    pub fn holding(
        &self,
        (i, len): (usize, usize),
        j: usize,
        walk: impl FnOnce() -> Option<usize>,
    ) -> Holding {
        let answer = |shared: Option<usize>| match shared {
            None => Holding::Less,
            Some(n) if n == len => Holding::All,
            Some(_) => Holding::Enough,
        };
        let (Ok(i32), Ok(j32)) = (u32::try_from(i), u32::try_from(j)) else {
            return answer(walk());
        };
        let key = (u64::from(i32) << 32) | u64::from(j32);
        // A multiplicative hash of the pair picks the shard.
        #[allow(clippy::cast_possible_truncation)]
        let shard = &self.shards[(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS];
        if let Some(&known) = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return known;
        }
        let found = answer(walk());
        let mut map = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Full, a shard starts again: the pairs asked next are most often
        // those of the representatives just seen, not the first ones.
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(key, found);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_walked_once_and_given_again() {
        let quotes = Quotes::default();
        let a = [1u64, 2, 3];
        let mut walks = 0;
        for _ in 0..3 {
            let h = quotes.holding((7, a.len()), 9, || {
                walks += 1;
                Some(3)
            });
            assert_eq!(h, Holding::All);
        }
        assert_eq!(walks, 1);
        // Another pair, and the same pair the other way round, are their own.
        assert_eq!(quotes.holding((9, a.len()), 7, || Some(2)), Holding::Enough);
        assert_eq!(quotes.holding((7, a.len()), 8, || None), Holding::Less);
        assert_eq!(quotes.holding((7, a.len()), 9, || None), Holding::All);
    }
}
