//! LSH banding of MinHash signatures.
//!
//! A signature of `b · r` slots is cut into `b` bands of `r` rows; two documents
//! become candidates when all rows of some band agree, which happens with
//! probability `1 - (1 - J^r)^b` for Jaccard similarity `J` (the S-curve).

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// A banding: `bands` bands of `rows` rows each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Banding {
    /// Number of bands.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
}

/// Weight of the false-negative area in [`Banding::optimal`]. A false positive
/// costs one exact set comparison (microseconds, and it never reaches the
/// output); a false negative is a duplicate left in the corpus for good. With
/// equal weights (datasketch's choice) the S-curve's midpoint sits on the
/// threshold and a pair at J = t is found about 75% of the time; at 0.98 the
/// curve rises before the threshold: with 256 slots, 28 bands of 9 rows find a
/// pair at J = 0.8 98% of the time and one at J = 0.5 5% of the time.
pub const FALSE_NEGATIVE_WEIGHT: f64 = 0.98;

impl Banding {
    /// Probability that a pair with Jaccard `j` becomes a candidate.
    #[must_use]
    pub fn probability(self, j: f64) -> f64 {
        let rows = i32::try_from(self.rows).unwrap_or(i32::MAX);
        let bands = i32::try_from(self.bands).unwrap_or(i32::MAX);
        1.0 - (1.0 - j.powi(rows)).powi(bands)
    }

    /// The `b × r ≤ slots` that minimises the weighted areas under the S-curve
    /// below `threshold` (false positives) and above it (false negatives), with
    /// weights `1 - FALSE_NEGATIVE_WEIGHT` and `FALSE_NEGATIVE_WEIGHT`.
    /// Ties keep the first found (fewest bands), so the choice is deterministic.
    ///
    /// Choosing weighs about 1,500 bandings for 256 slots (two integrals
    /// each, see `cheapest`); the choice is remembered for the process, so
    /// a run asks for it as often as it likes.
    #[must_use]
    pub fn optimal(threshold: f64, slots: usize) -> Banding {
        type Chosen = Vec<((u64, usize), Banding)>;
        static CHOSEN: std::sync::Mutex<Chosen> = std::sync::Mutex::new(Vec::new());
        let key = (threshold.to_bits(), slots);
        let known = |chosen: &Chosen| chosen.iter().find(|(k, _)| *k == key).map(|&(_, b)| b);
        if let Some(b) = known(
            &CHOSEN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ) {
            return b;
        }
        let best = cheapest(threshold, slots);
        let mut chosen = CHOSEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known(&chosen).is_none() {
            chosen.push((key, best));
        }
        best
    }

    /// The band keys of a signature: one seeded xxh3 per band (of the
    /// band's slots as little-endian bytes).
    pub fn keys(self, signature: &[u64], seed: u64, out: &mut Vec<u64>) {
        // One or two slots a band (the default banding is 120 bands of
        // two, and the head keys 8 of two): xxh3 of 8 or 16 bytes worked out
        // in place, without a buffer or the crate's dispatch on the length
        // (84 instructions a key, 3.4% of a run's).
        match self.rows {
            1 => {
                out.extend(
                    signature[..self.bands]
                        .iter()
                        .enumerate()
                        .map(|(band, &slot)| xxh3_of_u64(slot, seed ^ band as u64)),
                );
                return;
            }
            2 => {
                out.extend(
                    signature[..2 * self.bands]
                        .chunks_exact(2)
                        .enumerate()
                        .map(|(band, two)| xxh3_of_two(two[0], two[1], seed ^ band as u64)),
                );
                return;
            }
            _ => {}
        }
        let mut bytes = Vec::with_capacity(self.rows * 8);
        for band in 0..self.bands {
            bytes.clear();
            for &slot in &signature[band * self.rows..(band + 1) * self.rows] {
                bytes.extend_from_slice(&slot.to_le_bytes());
            }
            out.push(xxh3_64_with_seed(&bytes, seed ^ band as u64));
        }
    }
}

/// xxh3's default secret (`XXH3_kSecret`) from byte 8 to byte 56, 8 bytes at
/// a time: what its hashes of 4 to 16 bytes read.
const SECRET: [u64; 6] = [
    u64::from_le_bytes([0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c]),
    u64::from_le_bytes([0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb]),
    u64::from_le_bytes([0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f]),
    u64::from_le_bytes([0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78]),
    u64::from_le_bytes([0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21]),
    u64::from_le_bytes([0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e]),
];

/// `xxh3_64_with_seed(&value.to_le_bytes(), seed)`: xxh3's path for inputs
/// of 4 to 8 bytes (`XXH3_len_4to8_64b`) at a length of 8, the same value.
#[inline]
fn xxh3_of_u64(value: u64, seed: u64) -> u64 {
    #[allow(clippy::cast_possible_truncation)]
    let seed = seed ^ (u64::from((seed as u32).swap_bytes()) << 32);
    let flip = (SECRET[0] ^ SECRET[1]).wrapping_sub(seed);
    // The input's first four bytes (the value's low half) are the high half
    // of what xxh3 reads, its last four the low half.
    let mut h = value.rotate_left(32) ^ flip;
    // `XXH3_rrmxmx` with the length 8.
    h ^= h.rotate_left(49) ^ h.rotate_left(24);
    h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
    h ^= (h >> 35).wrapping_add(8);
    h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
    h ^ (h >> 28)
}

/// `xxh3_64_with_seed` of the 16 little-endian bytes of `a` then `b`:
/// xxh3's path for inputs of 9 to 16 bytes (`XXH3_len_9to16_64b`) at a
/// length of 16, the same value.
#[inline]
fn xxh3_of_two(a: u64, b: u64, seed: u64) -> u64 {
    let lo = a ^ (SECRET[2] ^ SECRET[3]).wrapping_add(seed);
    let hi = b ^ (SECRET[4] ^ SECRET[5]).wrapping_sub(seed);
    let product = u128::from(lo) * u128::from(hi);
    #[allow(clippy::cast_possible_truncation)]
    let folded = product as u64 ^ (product >> 64) as u64;
    let mut h = 16u64
        .wrapping_add(lo.swap_bytes())
        .wrapping_add(hi)
        .wrapping_add(folded);
    // `XXH3_avalanche`.
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

/// The banding [`Banding::optimal`] chooses: its weighted areas under
/// [`Banding::probability`] by the trapezoid rule with 100 steps (enough for
/// comparing S-curves), made with running products. For each number of rows
/// `r`, `(1 - j^r)^b` for `b = 1, 2, ...` is the last band count's times
/// `1 - j^r` at each point, not a power apiece (600,000 `powi` calls for 256
/// slots took 3 ms of every run, 2% of a run over 100,000 one-line records).
fn cheapest(threshold: f64, slots: usize) -> Banding {
    const STEPS: u32 = 100;
    // The points of the two integrals, in [0, t] and [t, 1].
    let points = |a: f64, b: f64| -> Vec<f64> {
        let h = (b - a) / f64::from(STEPS);
        (0..=STEPS)
            .map(|i| if i == STEPS { b } else { a + h * f64::from(i) })
            .collect()
    };
    let (below, above) = (points(0.0, threshold), points(threshold, 1.0));
    // The trapezoid rule over `f` of each of `misses` (ends halved).
    let area = |misses: &[f64], f: fn(f64) -> f64, width: f64| -> f64 {
        let n = misses.len();
        let inner: f64 = misses[1..n - 1].iter().map(|&p| f(p)).sum();
        (f64::midpoint(f(misses[0]), f(misses[n - 1])) + inner) * (width / f64::from(STEPS))
    };
    let mut costs: Vec<(Banding, f64)> = (1..=slots)
        .into_par_iter()
        .flat_map_iter(|rows| {
            let r = i32::try_from(rows).unwrap_or(i32::MAX);
            let miss = |j: &f64| 1.0 - j.powi(r);
            let (q_below, q_above): (Vec<f64>, Vec<f64>) = (
                below.iter().map(miss).collect(),
                above.iter().map(miss).collect(),
            );
            // (1 - j^r)^b at each point, for b = 1, 2, ...: a pair's chance
            // of missing every band.
            let (mut p_below, mut p_above) = (q_below.clone(), q_above.clone());
            (1..=slots / rows)
                .map(|bands| {
                    if bands > 1 {
                        p_below.iter_mut().zip(&q_below).for_each(|(p, q)| *p *= q);
                        p_above.iter_mut().zip(&q_above).for_each(|(p, q)| *p *= q);
                    }
                    // Candidates below the threshold; misses above it (as
                    // `1 - probability`, for the same rounding).
                    let fp = area(&p_below, |p| 1.0 - p, threshold);
                    let fn_ = area(&p_above, |p| 1.0 - (1.0 - p), 1.0 - threshold);
                    let cost = (1.0 - FALSE_NEGATIVE_WEIGHT) * fp + FALSE_NEGATIVE_WEIGHT * fn_;
                    (Banding { bands, rows }, cost)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // In the order `optimal` always weighed them, bands then rows: of equal
    // costs, the first wins.
    costs.sort_by_key(|(b, _)| (b.bands, b.rows));
    let mut best = (Banding { bands: 1, rows: 1 }, f64::INFINITY);
    for (banding, cost) in costs {
        if cost < best.1 {
            best = (banding, cost);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_and_two_rows_are_the_xxh3_of_their_slots_bytes() {
        // Values and seeds with every byte in play, the ends of the range,
        // and seeds whose low and high halves differ.
        let mut values: Vec<u64> = (0..600u64)
            .map(|i| crate::sketch::mix(i).rotate_left((i % 64) as u32))
            .collect();
        values.extend([0, 1, u64::MAX, u64::MAX - 1, 1 << 63, 0x8000_0000]);
        for seed in [
            0,
            1,
            42,
            0xFFFF_FFFF,
            1 << 32,
            u64::MAX,
            0x0123_4567_89AB_CDEF,
        ] {
            let mut keys = Vec::new();
            let banding = Banding {
                bands: values.len(),
                rows: 1,
            };
            banding.keys(&values, seed, &mut keys);
            assert_eq!(keys.len(), values.len());
            for (band, (&v, &k)) in values.iter().zip(&keys).enumerate() {
                assert_eq!(
                    k,
                    xxh3_64_with_seed(&v.to_le_bytes(), seed ^ band as u64),
                    "value {v:#x}, seed {seed:#x}, band {band}"
                );
            }
        }
        // Two slots a band: the xxh3 of their 16 bytes.
        for seed in [0, 3, 0xFFFF_FFFF, u64::MAX, 0x0123_4567_89AB_CDEF] {
            let mut keys = Vec::new();
            let banding = Banding {
                bands: values.len() / 2,
                rows: 2,
            };
            banding.keys(&values, seed, &mut keys);
            assert_eq!(keys.len(), values.len() / 2);
            for (band, &k) in keys.iter().enumerate() {
                let mut bytes = values[2 * band].to_le_bytes().to_vec();
                bytes.extend_from_slice(&values[2 * band + 1].to_le_bytes());
                assert_eq!(
                    k,
                    xxh3_64_with_seed(&bytes, seed ^ band as u64),
                    "seed {seed:#x}, band {band}"
                );
            }
        }
        // Three slots a band: the general path, the same definition.
        let mut keys = Vec::new();
        Banding { bands: 5, rows: 3 }.keys(&values, 9, &mut keys);
        let bytes: Vec<u8> = values[12..15]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(keys[4], xxh3_64_with_seed(&bytes, 9 ^ 4));
        // Fewer bands than slots: the first `bands` slots only.
        let mut keys = vec![7];
        Banding { bands: 3, rows: 1 }.keys(&values, 5, &mut keys);
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[3], xxh3_64_with_seed(&values[2].to_le_bytes(), 5 ^ 2));
    }

    /// Trapezoid rule with 100 steps: enough for comparing S-curves.
    fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
        const STEPS: u32 = 100;
        let h = (b - a) / f64::from(STEPS);
        let mut sum = f64::midpoint(f(a), f(b));
        for i in 1..STEPS {
            sum += f(a + h * f64::from(i));
        }
        sum * h
    }

    #[test]
    fn optimal_banding_catches_pairs_at_the_threshold() {
        let b = Banding::optimal(0.8, 256);
        assert!(b.bands * b.rows <= 256);
        assert_eq!(b, Banding { bands: 28, rows: 9 });
        assert!(b.probability(0.8) >= 0.98, "{b:?}: {}", b.probability(0.8));
        assert!(b.probability(0.9) >= 0.999);
        assert!(b.probability(0.5) < 0.06, "{b:?}: {}", b.probability(0.5));
    }

    /// The banding with the least weighted areas, each integral made point
    /// by point from `probability` (what `cheapest` makes with products).
    fn cheapest_by_integrals(threshold: f64, slots: usize) -> Banding {
        let mut best = (f64::INFINITY, Banding { bands: 1, rows: 1 });
        for bands in 1..=slots {
            for rows in 1..=slots / bands {
                let b = Banding { bands, rows };
                let fp = integrate(|j| b.probability(j), 0.0, threshold);
                let fn_ = integrate(|j| 1.0 - b.probability(j), threshold, 1.0);
                let cost = (1.0 - FALSE_NEGATIVE_WEIGHT) * fp + FALSE_NEGATIVE_WEIGHT * fn_;
                if cost < best.0 {
                    best = (cost, b);
                }
            }
        }
        best.1
    }

    #[test]
    fn running_products_choose_what_the_integrals_do() {
        for slots in [16, 64, 128, 256] {
            for t in (1..100).map(|i| f64::from(i) / 100.0) {
                assert_eq!(
                    cheapest(t, slots),
                    cheapest_by_integrals(t, slots),
                    "t={t} slots={slots}"
                );
            }
        }
    }

    #[test]
    fn curve_is_monotonic() {
        let b = Banding { bands: 20, rows: 5 };
        let mut last = 0.0;
        for i in 0..=20 {
            let p = b.probability(f64::from(i) / 20.0);
            assert!(p >= last);
            last = p;
        }
    }
}
