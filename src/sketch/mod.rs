//! Document sketches: compact summaries whose agreement estimates similarity.
//!
//! - [`minhash`]: one-permutation MinHash with optimal densification; the share
//!   of equal slots estimates the Jaccard similarity of two shingle sets.
//! - [`hll`]: HyperLogLog, to size tables before filling them.
//! - [`simhash`]: Charikar's 64-bit fingerprint of weighted shingles; the
//!   Hamming distance of two fingerprints estimates their angle.
//!
//! Sketches only propose candidates: every pair is verified on the real shingle
//! sets before two documents are called duplicates (see the `cluster` module).

pub mod hll;
pub mod minhash;
pub mod simhash;

/// SplitMix64's finalizer: a cheap, seeded bijection on 64-bit values.
#[must_use]
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
