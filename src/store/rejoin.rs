//! `index merge` at the document level: the representatives of the second
//! index that copy a document before them join its cluster, as one run over
//! both indexes would have decided.

use super::segment::Reader;
use super::write::{candidates_of, Delta};
use super::{Segment, BUCKET_FIRST, BUCKET_RECENT};
use crate::cluster::few::keys_of_set;
use crate::config::{Config, Measure, ValueEnum};
use std::collections::BTreeMap;

/// The document level of a merge, as one run over both would have it: each
/// representative of `b` (its documents renumbered after `a`'s `docs` in
/// `delta`), in order, is verified against the representatives of the
/// documents it shares an LSH bucket with, in `a` and earlier in `b`, with
/// the run's own rule ([`crate::cluster::best_representative`]); one that
/// passes joins that cluster, with the members it had in `b`, and counts as
/// dropped. Otherwise a story that both batches hold would be two
/// representatives, each discounting the other's text as boilerplate, and a
/// later copy of it would be found against neither. Blocks are left as they
/// are (a block first seen in both stays a first copy in each).
pub(super) fn rejoin_representatives(a: &Segment, delta: &mut Delta, docs: u32) {
    let params = &a.meta.params;
    if params.level == "blocks" {
        return;
    }
    let config = Config {
        measure: Measure::from_str(&params.measure, false).unwrap_or(Measure::Containment),
        threshold: params.threshold,
        ..Config::default()
    };
    let candidates = candidates_of(params);
    let keys_of = |set: &[u64]| {
        candidates
            .as_ref()
            .map(|c| keys_of_set(set, c, params.seed))
            .unwrap_or_default()
    };
    let mut buckets = Buckets::of(delta, &keys_of);
    let mut read = a.reader();
    let mut found = Vec::new();
    let mut joined: BTreeMap<u32, u32> = BTreeMap::new();
    let own = |delta: &Delta, d: u32| shingles_at(delta, (d - docs) as usize).to_vec();
    // The documents of few shingles of `a` in the buckets of `b`'s
    // representatives, with their band keys, found in one walk (see
    // `crate::index::candidate_pairs_after`).
    let few = few_of_a(a, (delta, docs), &mut read, &keys_of, &buckets);
    let length = |delta: &Delta, d: u32| -> usize {
        usize::try_from(delta.docs[(d - docs) as usize].bytes).unwrap_or(usize::MAX)
    };
    for i in 0..delta.docs.len() {
        let d = docs + u32::try_from(i).unwrap_or(u32::MAX);
        let rep = delta.docs[i].rep;
        if rep != d {
            if let Some(&r) = joined.get(&rep) {
                delta.docs[i].rep = r;
            }
            continue;
        }
        let mut reps: Vec<usize> = Vec::new();
        for (table, key, earlier) in buckets.of_next(d) {
            found.clear();
            read.bucket(table, key, &mut found);
            let at = few.partition_point(|&(t, k, _)| (t, k) < (table, key));
            found.extend(
                few[at..]
                    .iter()
                    .take_while(|&&(t, k, _)| (t, k) == (table, key))
                    .map(|&(_, _, c)| c),
            );
            found.sort_unstable();
            trim(&mut found);
            reps.extend(found.iter().map(|&c| read.doc(c as usize).rep as usize));
            reps.extend(
                earlier
                    .iter()
                    .map(|&(_, _, c)| delta.docs[(c - docs) as usize].rep as usize),
            );
        }
        reps.sort_unstable();
        reps.dedup();
        if reps.is_empty() {
            continue;
        }
        let (lengths, sets): (Vec<usize>, Vec<Vec<u64>>) = reps
            .iter()
            .map(|&r| match u32::try_from(r) {
                Ok(r) if r >= docs => (length(delta, r), own(delta, r)),
                _ => {
                    let (bytes, shingles) = read.doc_text(r);
                    (usize::try_from(bytes).unwrap_or(usize::MAX), shingles)
                }
            })
            .unzip();
        let sets: Vec<&[u64]> = sets.iter().map(Vec::as_slice).collect();
        let (ours, ours_bytes) = (own(delta, d), length(delta, d));
        let found = crate::cluster::best_representative(
            (&ours, ours_bytes),
            &reps,
            &sets,
            &lengths,
            &config,
        );
        if let Some((r, _)) = found {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
            delta.docs[i].rep = r;
            delta.docs[i].dropped = true;
            joined.insert(d, r);
        }
    }
}

/// The stored shingles of `delta`'s `i`-th document (none where its record
/// points past them).
fn shingles_at(delta: &Delta, i: usize) -> &[u64] {
    let (at, len) = delta.docs[i].shingles;
    usize::try_from(at)
        .ok()
        .and_then(|at| delta.doc_shingles.get(at..))
        .and_then(|s| s.get(..len as usize))
        .unwrap_or_default()
}

/// The documents of few shingles of index `a` that hold a shingle of a
/// representative of `b` (`delta`, numbered from `docs`) that is in any
/// bucket of `b` (those looked up), as their entries (table, key,
/// document) in the buckets of `b`, sorted: the shingles looked up in one
/// walk in shingle order, each document's band keys made once from its set
/// (`keys_of`, the set read with `read`). At most 16 of them hold a
/// shingle (`FEW_HOLDERS` in `write::few`).
fn few_of_a(
    a: &Segment,
    (delta, docs): (&Delta, u32),
    read: &mut Reader<'_>,
    keys_of: &dyn Fn(&[u64]) -> Vec<u64>,
    b: &Buckets,
) -> Vec<Entry> {
    if a.count("few_sets") == 0 {
        return Vec::new();
    }
    let mut shingles: Vec<u64> = Vec::new();
    for (i, doc) in delta.docs.iter().enumerate() {
        let d = docs + u32::try_from(i).unwrap_or(u32::MAX);
        if doc.rep == d && b.has(d) {
            let own = shingles_at(delta, i);
            shingles.extend(own.iter().map(|&s| s & !crate::cluster::HEAD));
        }
    }
    shingles.sort_unstable();
    shingles.dedup();
    let mut walk = a.walker();
    let mut holders = Vec::new();
    for &shingle in &shingles {
        walk.few_holders(shingle, &mut holders);
    }
    holders.sort_unstable();
    holders.dedup();
    let mut entries: Vec<Entry> = Vec::new();
    for c in holders {
        for (t, key) in keys_of(&read.few_set(c)).into_iter().enumerate() {
            let table = u32::try_from(t).unwrap_or(u32::MAX);
            if b.holds(table, key) {
                entries.push((table, key, c));
            }
        }
    }
    entries.sort_unstable();
    entries
}

/// Keeps a bucket's first [`BUCKET_FIRST`] and last [`BUCKET_RECENT`]
/// members (ascending), as an index keeps them.
fn trim(members: &mut Vec<u32>) {
    let len = members.len();
    if len > BUCKET_FIRST + BUCKET_RECENT {
        members.drain(BUCKET_FIRST..len - BUCKET_RECENT);
    }
}

/// A document's place in a bucket: (table, key, document).
type Entry = (u32, u64, u32);

/// The LSH buckets of `b`'s documents: each bucket's documents in order (a
/// sorted table, not a map of a list a key: two maps of 128 entries a
/// document took 10 KB a document and most of the time of a merge), where
/// each entry's bucket starts in it, and each document's entries.
struct Buckets {
    /// (table, key, document), sorted.
    in_bucket: Vec<Entry>,
    /// Where the bucket of each entry of `in_bucket` starts in it.
    starts: Vec<u32>,
    /// (document, its entry in `in_bucket`), sorted.
    entries_of: Vec<(u32, u32)>,
    /// The next entry of `entries_of` to read.
    next: usize,
}

impl Buckets {
    /// The buckets of `delta`'s band records and of the band keys its
    /// documents of few shingles have (`keys_of` their sets), each trimmed
    /// to its first and last members, as an index holding every band
    /// record keeps them.
    fn of(delta: &Delta, keys_of: &dyn Fn(&[u64]) -> Vec<u64>) -> Buckets {
        let mut in_bucket: Vec<Entry> = delta
            .bands
            .iter()
            .map(|&(key, table, d)| (table, key, d))
            .collect();
        for set in delta.few_sets.chunk_by(|x, y| x.0 == y.0) {
            let shingles: Vec<u64> = set.iter().map(|&(_, s)| s).collect();
            for (t, key) in keys_of(&shingles).into_iter().enumerate() {
                in_bucket.push((u32::try_from(t).unwrap_or(u32::MAX), key, set[0].0));
            }
        }
        in_bucket.sort_unstable();
        // Trimmed in place: a trimmed copy beside the whole table (and the
        // table kept to the end of this function) made `index merge` of two
        // indexes of 300,000 short records peak at 1.7 GB.
        crate::index::trim_buckets(&mut in_bucket);
        in_bucket.shrink_to_fit();
        let mut starts: Vec<u32> = Vec::with_capacity(in_bucket.len());
        for (i, &(table, key, _)) in in_bucket.iter().enumerate() {
            let same = i > 0 && (in_bucket[i - 1].0, in_bucket[i - 1].1) == (table, key);
            starts.push(if same {
                starts[i - 1]
            } else {
                u32::try_from(i).unwrap_or(u32::MAX)
            });
        }
        let mut entries_of: Vec<(u32, u32)> = (0..in_bucket.len())
            .map(|i| (in_bucket[i].2, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        entries_of.sort_unstable();
        Buckets {
            in_bucket,
            starts,
            entries_of,
            next: 0,
        }
    }

    /// Whether document `d` is in any bucket.
    fn has(&self, d: u32) -> bool {
        let at = self.entries_of.partition_point(|&(c, _)| c < d);
        self.entries_of.get(at).is_some_and(|&(c, _)| c == d)
    }

    /// Whether bucket (`table`, `key`) holds any document.
    fn holds(&self, table: u32, key: u64) -> bool {
        let at = self
            .in_bucket
            .partition_point(|&(t, k, _)| (t, k) < (table, key));
        self.in_bucket
            .get(at)
            .is_some_and(|&(t, k, _)| (t, k) == (table, key))
    }

    /// The buckets of document `d`, each with the entries of its documents
    /// before `d`. Documents are asked for in order (those before `d` that
    /// were not asked for are passed over).
    fn of_next(&mut self, d: u32) -> Vec<(u32, u64, &[Entry])> {
        while self.entries_of.get(self.next).is_some_and(|&(c, _)| c < d) {
            self.next += 1;
        }
        let mut found = Vec::new();
        while let Some(&(_, i)) = self.entries_of.get(self.next).filter(|&&(c, _)| c == d) {
            self.next += 1;
            let i = i as usize;
            let (table, key, _) = self.in_bucket[i];
            found.push((table, key, &self.in_bucket[self.starts[i] as usize..i]));
        }
        found
    }
}
