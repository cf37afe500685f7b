//! Sorting of lists ordered first by a hash: spread by the hash's top bits in
//! place, then each small range sorted by comparison.
//!
//! Hashes are spread evenly over their values, so a list of `n` of them cut
//! by their top `log2(n / 8)` bits falls into ranges of about 8 items each,
//! and the whole is sorted in two passes over it and a few comparisons an
//! item, where a comparison sort makes `log2(n)` (14 for a table's 12,000
//! band keys). No memory beyond a count per range: the items are moved
//! into their ranges by swaps (an American flag sort's one level). Lists
//! whose hashes are not spread (a flood of equal keys) land in few ranges,
//! which are sorted as a whole list would be.
//!
//! A long list is first spread by its top 8 bits alone, then each of the 256
//! ranges on its own: the swaps write each range's next place, one cache line
//! a range in use, so spreading by 16 bits at once kept 65,536 lines in use
//! and missed the cache on nearly every swap once a list outgrew it (a band
//! table of 632,766 documents is 10 MB: that spreading was a fifth of a 1 GB
//! run's time). 256 lines stay in the cache, and each range then fits in it.

/// Items per range aimed at.
const PER_RANGE: usize = 8;
/// Most top bits the items are spread by (ranges counted in a table of
/// `2^MAX_BITS` counts).
const MAX_BITS: u32 = 16;
/// Shorter lists are sorted by comparison alone.
const SHORTEST: usize = 256;
/// Most top bits a list is spread by at once while its ranges' next places
/// (a cache line each) stay in a core's cache; a list that needs more is
/// spread in two steps.
const CACHED_BITS: u32 = 12;
/// The top bits of the first of two steps.
const FIRST_BITS: u32 = 8;

/// Sorts `items` ascending, as `sort_unstable` does, where `top(item)` is
/// the item's first 64 bits of order: `a < b` whenever `top(a) < top(b)`.
pub(crate) fn sort_by_hash<T: Ord>(items: &mut [T], top: impl Fn(&T) -> u64) {
    sort_below(items, &top, 0);
}

/// [`sort_by_hash`] of items that agree on the top `skip` bits of `top`.
fn sort_below<T: Ord>(items: &mut [T], top: &impl Fn(&T) -> u64, skip: u32) {
    let n = items.len();
    if n < SHORTEST {
        items.sort_unstable();
        return;
    }
    let bits = (n / PER_RANGE).ilog2().min(MAX_BITS);
    if bits > CACHED_BITS && skip < 2 * FIRST_BITS {
        let ends = spread(items, (skip, FIRST_BITS), top);
        let mut start = 0;
        for end in ends {
            sort_below(&mut items[start..end], top, skip + FIRST_BITS);
            start = end;
        }
        return;
    }
    let ends = spread(items, (skip, bits), top);
    let mut start = 0;
    for &end in &ends {
        items[start..end].sort_unstable();
        start = end;
    }
}

/// Moves `items` into `2^bits` ranges by the `bits` of `top` after its top
/// `skip` (on which they agree), in order, in place; returns each range's end.
fn spread<T>(items: &mut [T], (skip, bits): (u32, u32), top: &impl Fn(&T) -> u64) -> Vec<usize> {
    // (At most `MAX_BITS` bits: a usize.)
    #[allow(clippy::cast_possible_truncation)]
    let range_of = |item: &T| ((top(item) << skip) >> (64 - bits)) as usize;
    let ranges = 1usize << bits;
    let mut ends = vec![0usize; ranges];
    for item in items.iter() {
        ends[range_of(item)] += 1;
    }
    // `next[r]`: where range `r`'s next item goes; `ends[r]`: its end.
    let mut sum = 0;
    for end in &mut ends {
        sum += *end;
        *end = sum;
    }
    let mut next: Vec<usize> = std::iter::once(0)
        .chain(ends[..ranges - 1].iter().copied())
        .collect();
    for r in 0..ranges {
        while next[r] < ends[r] {
            // Swap the item at range `r`'s next place into its own range
            // until one that belongs here comes back.
            let mut at = next[r];
            let mut to = range_of(&items[at]);
            while to != r {
                items.swap(at, next[to]);
                next[to] += 1;
                at = next[r];
                to = range_of(&items[at]);
            }
            next[r] += 1;
        }
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::mix;

    #[test]
    fn sorts_as_a_comparison_sort_does() {
        // (From 65,536 items, two steps.)
        for n in [
            0u32, 1, 2, 255, 256, 257, 1000, 8191, 20_000, 65_535, 65_536, 150_000,
        ] {
            for spread in [u64::MAX, 0xFF, 0] {
                // Hashes with repeats (a doc id after each), spread over all
                // values, over few, or all equal.
                let items: Vec<(u64, u32)> = (0..n)
                    .map(|i| (mix(u64::from(i) % 7_000) & spread, (n - i) % 13))
                    .collect();
                let mut expected = items.clone();
                expected.sort_unstable();
                let mut sorted = items.clone();
                sort_by_hash(&mut sorted, |&(h, _)| h);
                assert_eq!(sorted, expected, "{n} items, spread {spread:x}");
                let mut plain: Vec<u64> = items.iter().map(|&(h, _)| h).collect();
                let mut expected: Vec<u64> = plain.clone();
                expected.sort_unstable();
                sort_by_hash(&mut plain, |&h| h);
                assert_eq!(plain, expected, "{n} hashes, spread {spread:x}");
            }
        }
    }

    #[test]
    fn the_top_bits_alone_order_the_ranges() {
        // Hashes differing only below the top bits: one range, sorted whole.
        let mut items: Vec<u64> = (0..5_000u64).rev().collect();
        sort_by_hash(&mut items, |&h| h);
        assert!(items.windows(2).all(|w| w[0] <= w[1]));
        // And only in the top bits: every range of one item.
        let mut items: Vec<u64> = (0..5_000u64).rev().map(|i| i << 50).collect();
        sort_by_hash(&mut items, |&h| h);
        assert!(items.windows(2).all(|w| w[0] <= w[1]));
    }
}
