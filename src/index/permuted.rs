//! SimHash fingerprints within Hamming distance `k`, found with permuted tables
//! (Manku, Jain and Das Sarma 2007). The 64 bits are cut into `k + 3` blocks;
//! two fingerprints at distance at most `k` differ in at most `k` blocks, so they
//! agree on all 3 blocks of at least one of the C(k + 3, 3) choices of 3 blocks.
//! Each choice is a table keyed by those blocks' bits (about 3/(k+3) of 64 bits),
//! so equal fingerprints always share every key.

/// Bit masks, one per table: the union of 3 of the `k + 3` blocks.
#[must_use]
pub fn table_masks(k: u32) -> Vec<u64> {
    let blocks = k + 3;
    let bounds: Vec<(u32, u32)> = (0..blocks)
        .map(|i| (64 * i / blocks, 64 * (i + 1) / blocks))
        .collect();
    let block_mask = |(lo, hi): (u32, u32)| -> u64 {
        let width = hi - lo;
        let ones = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        ones << lo
    };
    let mut masks = Vec::new();
    let blocks = bounds.len();
    for a in 0..blocks {
        for b in a + 1..blocks {
            for c in b + 1..blocks {
                masks.push(block_mask(bounds[a]) | block_mask(bounds[b]) | block_mask(bounds[c]));
            }
        }
    }
    masks
}

/// The table keys of one fingerprint: its bits under each mask, tagged with the
/// table number in the low bits' place so that tables never share keys.
pub fn keys(fingerprint: u64, masks: &[u64], out: &mut Vec<u64>) {
    for (table, &mask) in masks.iter().enumerate() {
        out.push(super::super::sketch::mix(
            (fingerprint & mask) ^ (table as u64) << 58 ^ mask,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_within_k_share_a_key() {
        let masks = table_masks(3);
        assert_eq!(masks.len(), 20);
        let a = 0xDEAD_BEEF_1234_5678u64;
        for flips in [[0, 1, 2], [5, 30, 63], [10, 11, 40]] {
            let b = flips.iter().fold(a, |f, &bit| f ^ 1 << bit);
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            keys(a, &masks, &mut ka);
            keys(b, &masks, &mut kb);
            assert!(ka.iter().zip(&kb).any(|(x, y)| x == y), "{flips:?}");
        }
    }
}
