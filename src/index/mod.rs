//! Candidate generation: documents whose sketches share a key become candidate
//! pairs, to be verified on their real shingle sets.
//!
//! - [`lsh`]: MinHash signatures cut into bands (Indyk and Motwani 1998;
//!   Leskovec, Rajaraman and Ullman, *Mining of Massive Datasets*, ch. 3).
//! - [`permuted`]: SimHash fingerprints in permuted tables (Manku, Jain and
//!   Das Sarma 2007).
//!
//! Both reduce to "a key per (document, table)"; [`candidate_pairs`] turns keys
//! into pairs deterministically: per table, sort (key, document) and pair each
//! document with earlier documents of its bucket.

pub mod lsh;
pub mod permuted;

use rayon::prelude::*;

/// In one bucket, a document is paired with this many of the earliest members
/// and this many of the latest ones before it. A bucket of boilerplate shared by
/// thousands of documents then costs linear, not quadratic, time; the earliest
/// members are the likely cluster representatives.
pub const BUCKET_FIRST: usize = 8;
/// See [`BUCKET_FIRST`].
pub const BUCKET_RECENT: usize = 8;

/// Candidate pairs `(earlier, later)` from each document's keys, one per table
/// (`keys[d][t]`), sorted and deduplicated. A document without `tables` keys
/// (no shingles) takes part in no pair.
#[must_use]
pub fn candidate_pairs(keys: &[&[u64]], tables: usize) -> Vec<(u32, u32)> {
    candidate_pairs_after(keys, tables, 0, None)
}

/// The candidate pairs of one bucket whose `members` are in input order, the
/// first `prior` of them from an index (never paired with each other): each
/// later member with the bucket's first [`BUCKET_FIRST`] and its
/// [`BUCKET_RECENT`] most recent earlier members.
pub fn bucket_pairs(members: &[u32], prior: usize, out: &mut Vec<(u32, u32)>) {
    for i in prior.max(1)..members.len() {
        let (before, later) = (&members[..i], members[i]);
        let first = before.len().min(BUCKET_FIRST);
        let recent = before.len().saturating_sub(BUCKET_RECENT).max(first);
        for &earlier in before[..first].iter().chain(&before[recent..]) {
            out.push((earlier, later));
        }
    }
}

/// [`candidate_pairs`] for documents numbered from `base` on, after the
/// documents of an index: each bucket starts with the index's members of it
/// (which are all a later document is ever paired with), so the pairs are
/// those of one run over the index's documents and these.
#[must_use]
pub fn candidate_pairs_after(
    keys: &[&[u64]],
    tables: usize,
    base: usize,
    history: Option<&dyn crate::prior::Prior>,
) -> Vec<(u32, u32)> {
    let base = u32::try_from(base).expect("fewer than 2^32 documents");
    // The index's buckets of every key, read in one ordered pass.
    let stored = history.map(|h| {
        let queries: Vec<(u32, u64)> = keys
            .iter()
            .filter(|k| k.len() == tables)
            .flat_map(|k| {
                k.iter()
                    .enumerate()
                    .map(|(t, &key)| (u32::try_from(t).expect("few tables"), key))
            })
            .collect();
        h.buckets(&queries)
    });
    let mut pairs: Vec<(u32, u32)> = (0..tables)
        .into_par_iter()
        .flat_map_iter(|t| {
            let mut bucketed: Vec<(u64, u32)> = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.len() == tables)
                .map(|(d, k)| {
                    let doc = u32::try_from(d).expect("fewer than 2^32 documents");
                    (k[t], base + doc)
                })
                .collect();
            bucketed.sort_unstable();
            let mut out = Vec::new();
            let mut members = Vec::new();
            for group in bucketed.chunk_by(|a, b| a.0 == b.0) {
                members.clear();
                if let Some(stored) = &stored {
                    let table = u32::try_from(t).expect("few tables");
                    if let Some(found) = stored.get(&(table, group[0].0)) {
                        members.extend_from_slice(found);
                    }
                }
                let prior = members.len();
                members.extend(group.iter().map(|&(_, d)| d));
                bucket_pairs(&members, prior, &mut out);
            }
            out.into_iter()
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_come_from_shared_keys_only() {
        // 4 documents, 2 tables.
        let keys: [&[u64]; 4] = [&[1, 10], &[2, 20], &[1, 30], &[3, 20]];
        assert_eq!(candidate_pairs(&keys, 2), [(0, 2), (1, 3)]);
        let keys: [&[u64]; 4] = [&[], &[2, 20], &[1, 30], &[3, 20]];
        assert_eq!(candidate_pairs(&keys, 2), [(1, 3)]);
    }

    #[test]
    fn big_buckets_stay_linear() {
        let n = 1000;
        let keys: Vec<&[u64]> = vec![&[7]; n];
        let pairs = candidate_pairs(&keys, 1);
        assert!(pairs.len() <= n * (BUCKET_FIRST + BUCKET_RECENT));
        assert!(pairs.contains(&(0, 999)) && pairs.contains(&(998, 999)));
    }
}
