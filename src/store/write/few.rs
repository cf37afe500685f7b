//! Which documents of few shingles a write stores by their shingles (see
//! the module doc of `store`): those no bucket would keep are left out, and
//! those holding a shingle that more than [`FEW_HOLDERS`] of them hold get
//! their band records back, so that a later look-up of a shingle makes the
//! band keys of at most [`FEW_HOLDERS`] documents a segment.

use super::runs::{self, Runs};
use super::{merge_sorted, old_few, old_few_sets, Items};
use super::{IndexParams, Segment, BUCKET_FIRST, BUCKET_RECENT};
use crate::cluster::few::{keys_of_set, shingle_print};
use crate::cluster::Candidates;
use crate::config::{Config, Measure, Method, ValueEnum};
use rayon::prelude::*;
use std::path::Path;

/// Most documents stored by their shingles that hold one shingle, in one
/// file (an index, or a chunked run's segment). A later document looks its
/// shingles up and makes the band keys of every document found: a shingle
/// that many short records share (the first words of a site's titles, a
/// site's name) would otherwise make each look-up rebuild the keys of all
/// of them, where a bucket of band records is trimmed to its
/// [`BUCKET_FIRST`] + [`BUCKET_RECENT`] members. As many as a bucket keeps.
pub(in crate::store) const FEW_HOLDERS: usize = BUCKET_FIRST + BUCKET_RECENT;

/// The documents of few shingles of a write that are not stored by their
/// shingles, each list ascending.
#[derive(Debug, Default)]
pub(super) struct NotByShingles {
    /// No bucket would keep them: left out (see [`out_of_every_bucket`]).
    pub(super) left_out: Vec<u32>,
    /// They hold a shingle that more than [`FEW_HOLDERS`] of those kept hold:
    /// stored by their band records instead.
    pub(super) banded: Vec<u32>,
}

impl NotByShingles {
    /// Whether document `d`'s shingles are written (`few`, `few_sets`).
    pub(super) fn keeps(&self, d: u32) -> bool {
        self.left_out.binary_search(&d).is_err() && self.banded.binary_search(&d).is_err()
    }
}

/// The documents of few shingles of `old` and `delta` that are left out or
/// given band records (see [`NotByShingles`]), counted over both: every
/// update writes the whole index again, and a chunked run's segments are
/// merged by the same writes (each segment then holds at most
/// [`FEW_HOLDERS`] of them a shingle; a run looks up a few segments, as it
/// reads a few of each bucket). A document given band records keeps them
/// in every later write. None are given band records when the index's
/// settings make no band keys from a set (not MinHash: it has none of
/// them).
///
/// # Errors
/// A temporary file under `spill` failing.
pub(super) fn not_by_shingles(
    old: Option<&Segment>,
    delta: &Items<'_>,
    params: &IndexParams,
    spill: &Path,
) -> std::io::Result<NotByShingles> {
    let left_out = out_of_every_bucket(
        merge_sorted(old_few_sets(old), delta.few_sets(), |r| *r),
        spill,
        runs::BATCH,
    )?;
    if candidates_of(params).is_none() {
        return Ok(NotByShingles {
            left_out,
            banded: Vec::new(),
        });
    }
    let mut few = merge_sorted(old_few(old), delta.few(), |r| *r)
        .filter(|r| left_out.binary_search(&r.1).is_err())
        .peekable();
    let mut banded = Vec::new();
    let mut holders = Vec::new();
    while let Some((shingle, d)) = few.next() {
        holders.clear();
        holders.push(d);
        while let Some((_, d)) = few.next_if(|r| r.0 == shingle) {
            holders.push(d);
        }
        if holders.len() > FEW_HOLDERS {
            banded.extend_from_slice(&holders);
        }
    }
    banded.sort_unstable();
    banded.dedup();
    Ok(NotByShingles { left_out, banded })
}

/// The band records (key, table, document) of the documents `banded`
/// (ascending) of `old` and `delta`, taken into runs (sorted when read
/// back, a batch at a time in files under `spill` past [`runs::BATCH`]:
/// 128 records of 16 bytes a document, 1.2 GB for 600,000 short records
/// merged, were held whole): made from their stored sets, as a later
/// look-up made them (and as the run that indexed them did: they are
/// stored by their set only when it gives back their keys); and the prints
/// of their shingles, ascending and distinct (they join
/// `banded_shingles`). The sets are read a thousand documents at a time.
///
/// # Errors
/// A file of the runs failing.
pub(super) fn band_records(
    old: Option<&Segment>,
    delta: &Items<'_>,
    banded: &[u32],
    params: &IndexParams,
    spill: &Path,
) -> std::io::Result<(Runs, Vec<u32>)> {
    let mut runs = Runs::new(spill, runs::BATCH);
    let Some(candidates) = candidates_of(params).filter(|_| !banded.is_empty()) else {
        return Ok((runs, Vec::new()));
    };
    let mut prints: Vec<u32> = Vec::new();
    let mut deduped = 0;
    let mut sets: Vec<(u32, Vec<u64>)> = Vec::new();
    let mut made = |sets: &mut Vec<(u32, Vec<u64>)>, runs: &mut Runs| -> std::io::Result<()> {
        let keys: Vec<Vec<u64>> = sets
            .par_iter()
            .map(|(_, set)| keys_of_set(set, &candidates, params.seed))
            .collect();
        for ((d, set), keys) in sets.iter().zip(keys) {
            for (t, key) in keys.into_iter().enumerate() {
                let t = u32::try_from(t).expect("few tables");
                runs.push(u128::from(key) << 64 | u128::from(t) << 32 | u128::from(*d))?;
            }
            prints.extend(set.iter().map(|&s| shingle_print(s)));
        }
        if prints.len() > 2 * deduped + (1 << 16) {
            prints.sort_unstable();
            prints.dedup();
            deduped = prints.len();
        }
        sets.clear();
        Ok(())
    };
    let wanted = merge_sorted(old_few_sets(old), delta.few_sets(), |r| *r)
        .filter(|r| banded.binary_search(&r.0).is_ok());
    for (d, shingle) in wanted {
        match sets.last_mut() {
            Some((last, set)) if *last == d => set.push(shingle),
            _ => {
                if sets.len() >= 1024 {
                    made(&mut sets, &mut runs)?;
                }
                sets.push((d, vec![shingle]));
            }
        }
    }
    made(&mut sets, &mut runs)?;
    prints.sort_unstable();
    prints.dedup();
    Ok((runs, prints))
}

/// A band record of [`band_records`] as (key, table, document).
#[allow(clippy::cast_possible_truncation)]
pub(super) fn band_record(r: u128) -> (u64, u32, u32) {
    ((r >> 64) as u64, (r >> 32) as u32, r as u32)
}

/// The candidate generation an index was built with, when it is MinHash
/// (the band keys of its documents of few shingles are made with it).
pub(in crate::store) fn candidates_of(params: &IndexParams) -> Option<Candidates> {
    if params.method != "minhash" {
        return None;
    }
    let config = Config {
        method: Method::Minhash,
        seed: params.seed,
        doc_shingle: params.doc_shingle,
        num_perm: params.num_perm?,
        banding: Some((params.bands?, params.rows?)),
        measure: Measure::from_str(&params.measure, false).ok()?,
        threshold: params.threshold,
        ..Config::default()
    };
    Some(Candidates::new(&config))
}

/// The documents of few shingles (from their `few_sets` records, in
/// order) that no bucket will keep, ascending: of documents with the same
/// shingles (a flood of one headline, over many updates), which have the
/// same band key in every table and so are in the same buckets, each one
/// with [`BUCKET_FIRST`] of them before it and [`BUCKET_RECENT`] after it.
/// Later documents come after it, so it never again is among a bucket's
/// first or last ones, all its pairs are made with: its band records
/// would have been trimmed.
///
/// Each document's set is known by a hash of it (96 bits of `xxh3_128`)
/// and the document, one `u128`, sorted in runs of `batch` (files under
/// `spill` past it): a table of 32 bytes a document held whole, uncounted
/// by `--memory-limit` (19 MB for 600,000 short records merged).
///
/// # Errors
/// A file of the runs failing.
pub(super) fn out_of_every_bucket(
    sets: impl Iterator<Item = (u32, u64)>,
    spill: &Path,
    batch: usize,
) -> std::io::Result<Vec<u32>> {
    let mut hashed: Runs = Runs::new(spill, batch);
    let mut set: Vec<u8> = Vec::new();
    let mut sets = sets.peekable();
    while let Some((d, shingle)) = sets.next() {
        set.clear();
        set.extend_from_slice(&shingle.to_le_bytes());
        while let Some((_, s)) = sets.next_if(|&(next, _)| next == d) {
            set.extend_from_slice(&s.to_le_bytes());
        }
        let hash = xxhash_rust::xxh3::xxh3_128(&set) >> 32 << 32;
        hashed.push(hash | u128::from(d))?;
    }
    let (hashed, read_back) = hashed.sorted()?;
    let mut out = Vec::new();
    let mut same: Vec<u32> = Vec::new();
    let mut last = None;
    let mut settle = |same: &mut Vec<u32>| {
        let len = same.len();
        if len > BUCKET_FIRST + BUCKET_RECENT {
            out.extend_from_slice(&same[BUCKET_FIRST..len - BUCKET_RECENT]);
        }
        same.clear();
    };
    for r in hashed {
        let hash = r >> 32;
        if last.replace(hash).is_some_and(|l| l != hash) {
            settle(&mut same);
        }
        #[allow(clippy::cast_possible_truncation)]
        same.push(r as u32);
    }
    settle(&mut same);
    if let Some(e) = read_back.take() {
        return Err(e);
    }
    out.sort_unstable();
    Ok(out)
}
