//! One-permutation MinHash with optimal densification.
//!
//! Classic MinHash (Broder 1997) hashes every shingle `K` times. One-permutation
//! hashing (Li, Owen and Zhang 2012) hashes each shingle once, uses the hash to
//! pick one of `K` bins and keeps the minimum per bin; bins left empty (short
//! documents) are filled by optimal densification (Shrivastava 2017): an empty
//! bin copies the bin reached by a seeded random walk, which keeps
//! P(slot equal) = Jaccard. The cost is O(n + K) per document instead of
//! O(n · K), measured in `benches/` (`minhash` group).

use super::mix;
use std::sync::{Arc, Mutex, PoisonError};

/// A MinHash signature: `K` slot values; two equal slots mean "same minimum".
pub type Signature = Vec<u64>;

/// Slot value of an empty document: never equal to a real minimum in practice,
/// and such documents are kept out of the LSH tables anyway.
pub const EMPTY: u64 = u64::MAX;

/// Computes the signature of a shingle set (hashes already seeded and mixed).
#[must_use]
pub fn signature(shingles: &[u64], slots: usize, seed: u64) -> Signature {
    signature_with(shingles, &Walks::new(slots, seed))
}

/// Steps of each bin's densification walk kept in a [`Walks`] table.
const STEPS: usize = 8;

/// The first steps of every bin's densification walk. A walk depends only on
/// the bin, the step and the seed, never on the document, so it is computed
/// once per run: each step of a document's walk is then a table read instead
/// of two mixes (densification was half of the signature's time for
/// documents of a few hundred words).
#[derive(Clone, Debug)]
pub struct Walks {
    slots: usize,
    seed: u64,
    /// `steps[bin * STEPS + attempt]`: the bin step `attempt` of `bin`'s
    /// walk looks at.
    steps: Arc<[u32]>,
    /// `first[bin * slots + j]`: the first step of `bin`'s walk that looks at
    /// bin `j` ([`UNSEEN`] past [`FIRST_STEPS`] steps); only for at most
    /// [`FIRST_SLOTS`] slots. A walk ends at the filled bin it reaches first,
    /// so for a document with few filled bins (a short one, where walks are
    /// long) the end is the filled bin with the smallest first step.
    first: Arc<[u32]>,
}

/// The walks made so far in this process: a chunked run makes its
/// candidates once a chunk, and 256 slots' walks take a few milliseconds to
/// make (4% of a run of 300,000 six-word records in 43 chunks).
static MADE: Mutex<Vec<Walks>> = Mutex::new(Vec::new());

/// Most slots whose walks' first steps are tabled (`slots²` entries).
const FIRST_SLOTS: usize = 1024;
/// Steps of each walk looked at for [`Walks::first`].
const FIRST_STEPS: u64 = 1 << 16;
/// A bin a walk does not reach in [`FIRST_STEPS`] steps.
const UNSEEN: u32 = u32::MAX;
/// Filled bins up to which densification reads [`Walks::first`]: its cost
/// is slots x filled, a walk's slots / filled steps per empty bin.
const FEW_FILLED: usize = 16;

impl Walks {
    /// The walks of `slots` bins under `seed` (made once a process: copies
    /// share their tables).
    #[must_use]
    pub fn new(slots: usize, seed: u64) -> Walks {
        let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = made.iter().find(|w| (w.slots, w.seed) == (slots, seed)) {
            return w.clone();
        }
        let walks = Walks::make(slots, seed);
        // A few kinds a process at most (the run's, a test's): the oldest
        // goes past four; walks of many slots (their tables take megabytes)
        // are not kept past their run.
        if slots > FIRST_SLOTS {
            return walks;
        }
        if made.len() == 4 {
            made.remove(0);
        }
        made.push(walks.clone());
        walks
    }

    fn make(slots: usize, seed: u64) -> Walks {
        let steps: Vec<u32> = (0..slots)
            .flat_map(|bin| (0..STEPS as u64).map(move |attempt| (bin, attempt)))
            .map(|(bin, attempt)| {
                u32::try_from(walk_step(slots, seed, bin, attempt)).expect("fewer than 2^32 slots")
            })
            .collect();
        let mut first = Vec::new();
        if slots <= FIRST_SLOTS {
            first = vec![UNSEEN; slots * slots];
            for bin in 0..slots {
                let row = &mut first[bin * slots..(bin + 1) * slots];
                let mut unseen = slots;
                let mut attempt = 0;
                while unseen > 0 && attempt < FIRST_STEPS {
                    let j = walk_step(slots, seed, bin, attempt);
                    if row[j] == UNSEEN {
                        row[j] = u32::try_from(attempt).expect("fewer than 2^32 steps");
                        unseen -= 1;
                    }
                    attempt += 1;
                }
            }
        }
        Walks {
            slots,
            seed,
            steps: steps.into(),
            first: first.into(),
        }
    }

    /// The filled bin `bin`'s walk reaches first, from the table of first
    /// steps, when one of `filled` is in it.
    fn first_filled(&self, bin: usize, filled: &[usize]) -> Option<usize> {
        let row = self.first.get(bin * self.slots..(bin + 1) * self.slots)?;
        filled
            .iter()
            .map(|&j| (row[j], j))
            .min()
            .filter(|&(step, _)| step != UNSEEN)
            .map(|(_, j)| j)
    }

    /// The seed the walks were made with.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn step(&self, bin: usize, attempt: u64) -> usize {
        match usize::try_from(attempt) {
            Ok(a) if a < STEPS => self.steps[bin * STEPS + a] as usize,
            _ => walk_step(self.slots, self.seed, bin, attempt),
        }
    }
}

/// The bin step `attempt` of empty bin `bin`'s walk looks at.
fn walk_step(slots: usize, seed: u64, bin: usize, attempt: u64) -> usize {
    let r = mix(seed ^ mix((bin as u64) << 32 | attempt));
    #[allow(clippy::cast_possible_truncation)]
    let j = (((r >> 32) * slots as u64) >> 32) as usize;
    j
}

/// [`signature`] with the walks of its slot count and seed made beforehand.
#[must_use]
pub fn signature_with(shingles: &[u64], walks: &Walks) -> Signature {
    signature_of(shingles.iter().copied(), walks)
}

/// [`signature_with`] of shingle hashes as they are made (repeats and order
/// do not matter to a minimum), so that no list of them is held.
#[must_use]
pub fn signature_of(shingles: impl ExactSizeIterator<Item = u64>, walks: &Walks) -> Signature {
    let (slots, seed) = (walks.slots, walks.seed);
    let mut bins = vec![EMPTY; slots];
    let count = shingles.len();
    if count == 0 || slots == 0 {
        return bins;
    }
    let k = slots as u64;
    for h in shingles {
        let h = mix(h ^ seed);
        // Lemire's fast range on the high half picks the bin; the whole value
        // is the rank inside it.
        #[allow(clippy::cast_possible_truncation)]
        let bin = (((h >> 32) * k) >> 32) as usize;
        if h < bins[bin] {
            bins[bin] = h;
        }
    }
    let filled: Vec<bool> = bins.iter().map(|&v| v != EMPTY).collect();
    let few: Vec<usize> = if slots <= FIRST_SLOTS && count <= FEW_FILLED {
        (0..slots).filter(|&j| filled[j]).collect()
    } else {
        Vec::new()
    };
    for i in 0..slots {
        if filled[i] {
            continue;
        }
        // Few filled bins (a short document): long walks, found from the
        // table of first steps instead; the same bin either way.
        if !few.is_empty() {
            if let Some(j) = walks.first_filled(i, &few) {
                bins[i] = bins[j];
                continue;
            }
        }
        // The first filled bin among the table's steps, found without a
        // branch per step (which bins are filled is random: a branch on each
        // was mispredicted a third of the time); past them, one at a time.
        let steps = &walks.steps[i * STEPS..(i + 1) * STEPS];
        let hits = steps
            .iter()
            .enumerate()
            .fold(0u32, |m, (a, &j)| m | u32::from(filled[j as usize]) << a);
        let j = if hits == 0 {
            // A walk ends: some bin is filled (the set is not empty).
            let mut attempt = STEPS as u64;
            loop {
                let j = walks.step(i, attempt);
                if filled[j] {
                    break j;
                }
                attempt += 1;
            }
        } else {
            steps[hits.trailing_zeros() as usize] as usize
        };
        bins[i] = bins[j];
    }
    bins
}

/// Share of equal slots: an estimate of the Jaccard similarity.
#[must_use]
pub fn estimate(a: &[u64], b: &[u64]) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        let mut v: Vec<u64> = range.map(|i| mix(i.wrapping_mul(0x9E37))).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn estimates_jaccard() {
        // |A ∩ B| = 600, |A ∪ B| = 1000: J = 0.6.
        let a = set(0..800);
        let b = set(200..1000);
        let est = estimate(&signature(&a, 512, 7), &signature(&b, 512, 7));
        assert!((est - 0.6).abs() < 0.08, "{est}");
        assert!((estimate(&signature(&a, 256, 1), &signature(&a, 256, 1)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn short_sets_are_densified_and_still_estimate() {
        // 20 shingles into 256 bins: most bins are filled by densification.
        let a = set(0..20);
        let b = set(5..25);
        let sa = signature(&a, 256, 3);
        assert!(sa.iter().all(|&v| v != EMPTY));
        let mut total = 0.0;
        for seed in 0..40 {
            total += estimate(&signature(&a, 256, seed), &signature(&b, 256, seed));
        }
        let mean = total / 40.0;
        assert!((mean - 15.0 / 25.0).abs() < 0.08, "{mean}");
    }

    #[test]
    fn walks_from_the_table_are_the_computed_walks() {
        let walks = Walks::new(64, 9);
        for bin in 0..64 {
            for attempt in 0..3 * STEPS as u64 {
                assert_eq!(walks.step(bin, attempt), walk_step(64, 9, bin, attempt));
            }
        }
        // Very short sets walk past the table's steps.
        let a = set(0..2);
        assert!(signature(&a, 256, 5).iter().all(|&v| v != EMPTY));
    }

    /// Optimal densification step by step, as defined: each empty bin walks
    /// until it reaches a filled bin.
    fn walked(shingles: &[u64], slots: usize, seed: u64) -> Signature {
        let mut bins = vec![EMPTY; slots];
        for &h in shingles {
            let h = mix(h ^ seed);
            #[allow(clippy::cast_possible_truncation)]
            let bin = (((h >> 32) * slots as u64) >> 32) as usize;
            bins[bin] = bins[bin].min(h);
        }
        let filled: Vec<bool> = bins.iter().map(|&v| v != EMPTY).collect();
        for i in 0..slots {
            if !filled[i] {
                let j = (0..u64::MAX)
                    .map(|a| walk_step(slots, seed, i, a))
                    .find(|&j| filled[j])
                    .unwrap();
                bins[i] = bins[j];
            }
        }
        bins
    }

    #[test]
    fn short_sets_take_the_bins_their_walks_reach() {
        for slots in [16, 256, 1024, 1100] {
            for n in [1, 2, 3, 5, 9, 16, 17, 40] {
                for seed in [1, 42] {
                    let a = set(n * 1000..n * 1001);
                    assert_eq!(
                        signature(&a, slots, seed),
                        walked(&a, slots, seed),
                        "{slots} slots, {n} shingles, seed {seed}"
                    );
                }
            }
        }
    }

    #[test]
    fn seed_changes_the_signature() {
        let a = set(0..50);
        assert_ne!(signature(&a, 64, 1), signature(&a, 64, 2));
        assert_eq!(signature(&a, 64, 1), signature(&a, 64, 1));
    }
}
