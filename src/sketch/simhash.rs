//! Charikar's SimHash (2002): a 64-bit fingerprint of weighted shingles. Each
//! shingle's hash votes +w or -w on every bit (w = how often the shingle occurs);
//! a bit is set where the votes are positive. Near-identical documents get
//! fingerprints a few bits apart, found with the permuted tables of `index::permuted`.

use super::mix;

/// Fingerprint of a shingle multiset given as a sorted list with repeats.
#[must_use]
pub fn fingerprint(sorted_shingles: &[u64], seed: u64) -> u64 {
    // Weight of the shingles with each bit set, and the total weight: a bit's
    // vote is set - (total - set). Counting without a branch per bit lets the
    // compiler vectorize the inner loop.
    let mut set = [0i64; 64];
    let mut total = 0i64;
    let mut i = 0;
    while i < sorted_shingles.len() {
        let h = sorted_shingles[i];
        let mut weight = 0i64;
        while i < sorted_shingles.len() && sorted_shingles[i] == h {
            weight += 1;
            i += 1;
        }
        let h = mix(h ^ seed);
        total += weight;
        for (bit, count) in set.iter_mut().enumerate() {
            #[allow(clippy::cast_possible_wrap)]
            let on = ((h >> bit) & 1) as i64;
            *count += weight * on;
        }
    }
    set.iter()
        .enumerate()
        .filter(|(_, &s)| 2 * s > total)
        .fold(0u64, |f, (bit, _)| f | 1 << bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_sets_give_near_fingerprints() {
        let a: Vec<u64> = (0..400).map(mix).collect();
        let mut b = a.clone();
        b[0] = 12345;
        let (mut a, mut b) = (a, b);
        a.sort_unstable();
        b.sort_unstable();
        let d = (fingerprint(&a, 1) ^ fingerprint(&b, 1)).count_ones();
        assert!(d <= 3, "{d}");
        let c: Vec<u64> = {
            let mut v: Vec<u64> = (1000..1400).map(mix).collect();
            v.sort_unstable();
            v
        };
        assert!((fingerprint(&a, 1) ^ fingerprint(&c, 1)).count_ones() > 10);
    }
}
