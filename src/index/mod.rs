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
/// (`keys[d][t]`), sorted by the later document, then the earlier (the order
/// the document level takes them in), without repeats. A document without
/// `tables` keys (no shingles) takes part in no pair.
#[must_use]
pub fn candidate_pairs(keys: &[&[u64]], tables: usize) -> Vec<(u32, u32)> {
    candidate_pairs_within(keys, tables, None).expect("pairs are always made without a ceiling")
}

/// [`candidate_pairs`], or `None` once the process's memory passes
/// `ceiling` (see [`crate::memory::Ceiling`]): the run is then made again
/// in chunks.
#[must_use]
pub fn candidate_pairs_within(
    keys: &[&[u64]],
    tables: usize,
    ceiling: Option<crate::memory::Ceiling>,
) -> Option<Vec<(u32, u32)>> {
    candidate_pairs_after(keys, tables, 0, (None, None, &[]), ceiling)
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

/// The index's documents stored without band records (of few shingles:
/// see the module doc of `store`) that may share a bucket with a document
/// of the run, each with its shingles, and how their band keys are made
/// of them.
pub struct FewStored<'a> {
    /// (document, its shingles), ascending by document.
    pub docs: std::borrow::Cow<'a, [(u32, Vec<u64>)]>,
    /// (shingle, document of the run holding it), ascending, of the
    /// shingles of `docs`: the only documents of the run a stored one can
    /// share a bucket with (each slot of its signature holds the hash of one
    /// of its shingles).
    pub holders: Vec<(u64, u32)>,
    /// The band keys of a set of shingles, one a table.
    pub keys: KeysOfSet<'a>,
}

/// How the band keys of a set of shingles are made (see [`FewStored`]).
pub type KeysOfSet<'a> = Box<dyn Fn(&[u64]) -> Vec<u64> + Sync + 'a>;

/// [`candidate_pairs`] for documents numbered from `base` on, after the
/// documents of an index: each bucket starts with the index's members of it
/// (which are all a later document is ever paired with), so the pairs are
/// those of one run over the index's documents and these.
///
/// A document with a single key (of a single shingle: its key in every
/// table holds the same documents, its copies) is in the first table only,
/// which gives the pairs of all of them.
///
/// The index's documents without band records (`few`) are in the buckets
/// their keys, made now, ask for: with the index's bucket records, each
/// bucket's first [`BUCKET_FIRST`] and last [`BUCKET_RECENT`] stored
/// members are those of an index that held every band record (a bucket's
/// pairs depend on no others).
///
/// The keys of the documents `unmatched` marks (empty: none) are not looked
/// up in the index (its band records or its documents of few shingles),
/// which cannot hold them (see `unmatched_in_index` of the cluster stage).
///
/// `None` when the process's memory passes `ceiling` (checked as each
/// table's pairs are added, the walk's growth: see
/// [`crate::memory::Ceiling`]).
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn candidate_pairs_after(
    keys: &[&[u64]],
    tables: usize,
    base: usize,
    (history, few, unmatched): (
        Option<&dyn crate::prior::Prior>,
        Option<&FewStored<'_>>,
        &[bool],
    ),
    ceiling: Option<crate::memory::Ceiling>,
) -> Option<Vec<(u32, u32)>> {
    let passed = || ceiling.is_some_and(crate::memory::Ceiling::passed);
    let counted_past = |more: usize| ceiling.is_some_and(|c| c.counted_past(more));
    let base = u32::try_from(base).expect("fewer than 2^32 documents");
    // Whether a document's keys put it in table `t`.
    let in_table = |k: &[u64], t: usize| k.len() == tables || (t == 0 && k.len() == 1);
    // The index's buckets of every key of every table, read a range of keys
    // at a time: each range's look-ups walk only that part of each
    // segment's bucket records, which are in key order, so the index is
    // read once a chunk. (Taken a few tables at a time, every walk read the
    // whole of every segment: 300,000 six-word records at --memory-limit 1G
    // spent 18 s of 29 reading 128 times per chunk what one read gives.)
    // Each table's distinct keys are asked for: a flood of equal keys asks
    // for few. What is found is held compactly, 16 bytes a member.
    // `None` once the memory held passes `ceiling` (checked before each
    // range of keys is looked up: 20,000 copies of indexed short records
    // held 2.5 million members).
    let stored_of = || -> Option<Option<Vec<(u32, u64, u32)>>> {
        let Some(h) = history else {
            return Some(None);
        };
        {
            // Each table's distinct keys, ascending (8 bytes a key and
            // table: as much as the keys themselves, at most), but those
            // of the documents `unmatched`.
            let looked_up = |d: usize| !unmatched.get(d).copied().unwrap_or(false);
            // Made a few tables at a time, the ceiling checked before each
            // few: 200,000 records a word apart against an index of their
            // first words held 128 lists of 200,000 keys (205 MB) before the
            // first check, and a run at --memory-limit 256M reached 400 MiB
            // before it went on in chunks.
            let mut distinct: Vec<Vec<u64>> = Vec::with_capacity(tables);
            let step = 2 * rayon::current_num_threads().max(1);
            for first in (0..tables).step_by(step) {
                if passed() {
                    return None;
                }
                distinct.par_extend((first..tables.min(first + step)).into_par_iter().map(|t| {
                    let mut distinct: Vec<u64> = (0..keys.len())
                        .filter(|&d| looked_up(d) && in_table(keys[d], t))
                        .map(|d| keys[d][t])
                        .collect();
                    distinct.sort_unstable();
                    distinct.dedup();
                    distinct.shrink_to_fit();
                    distinct
                }));
            }
            let asked: usize = distinct.iter().map(Vec::len).sum();
            let ranges = asked.div_ceil(QUERIES_AT_ONCE).max(1) as u128;
            let mut found: Vec<(u32, u64, u32)> = Vec::new();
            let mut from = vec![0; tables];
            let distinct_bytes = asked * std::mem::size_of::<u64>();
            for r in 0..ranges {
                // (The members found counted first, the same in every run.)
                let held = distinct_bytes + found.len() * std::mem::size_of::<(u32, u64, u32)>();
                if counted_past(held) || passed() {
                    return None;
                }
                // Keys up to `hi`: the `r`-th of `ranges` parts of all
                // 64-bit values.
                #[allow(clippy::cast_possible_truncation)]
                let hi = ((((r + 1) << 64) / ranges) - 1) as u64;
                let mut queries: Vec<(u32, u64)> = Vec::new();
                for (t, keys) in distinct.iter().enumerate() {
                    let to = from[t] + keys[from[t]..].partition_point(|&k| k <= hi);
                    let table = u32::try_from(t).expect("few tables");
                    queries.extend(keys[from[t]..to].iter().map(|&k| (table, k)));
                    from[t] = to;
                }
                h.buckets(&queries, &mut found);
            }
            if let Some(few) = few {
                // Their keys asked for, a bucket record each. A key asked
                // for is that of a document of the run holding one of its
                // shingles (see `FewStored::holders`): compared with those
                // documents' keys, not searched among all keys asked for
                // (20,000 copies of indexed short records made 2.56
                // million binary searches of 20,000 keys a table).
                let more: Vec<(u32, u64, u32)> = few
                    .docs
                    .par_iter()
                    .flat_map_iter(|(d, set)| {
                        let made = (few.keys)(set);
                        let mut near: Vec<usize> = set
                            .iter()
                            .flat_map(|&s| {
                                let at = few.holders.partition_point(|h| h.0 < s);
                                few.holders[at..]
                                    .iter()
                                    .take_while(move |h| h.0 == s)
                                    .map(|h| h.1 as usize)
                            })
                            .filter(|&r| looked_up(r))
                            .collect();
                        near.sort_unstable();
                        near.dedup();
                        let (full, d) = (made.len() == tables, *d);
                        made.into_iter()
                            .enumerate()
                            .filter(move |&(t, k)| {
                                full && near
                                    .iter()
                                    .any(|&r| in_table(keys[r], t) && keys[r][t] == k)
                            })
                            .map(move |(t, k)| (u32::try_from(t).expect("few tables"), k, d))
                    })
                    .collect();
                found.extend(more);
            }
            drop(distinct);
            // By table and key, each bucket's members ascending (as
            // `Prior::buckets` gives them), its first and last ones kept.
            found.sort_unstable();
            found.dedup();
            trim_buckets(&mut found);
            found.shrink_to_fit();
            Some(Some(found))
        }
    };
    // Each table's pairs are sorted and deduplicated on their own, and the
    // tables' sets merged as they come: documents with equal keys (a flood of
    // identical records) give the same pairs in every table, held once rather
    // than once a table (3 GB for 200,000 identical records).
    // The documents with keys, found once rather than once a table.
    let keyed: Vec<u32> = (0..keys.len())
        .filter(|&d| keys[d].len() == tables)
        .map(|d| u32::try_from(d).expect("fewer than 2^32 documents"))
        .collect();
    // Documents of one key, in the first table only (none when that is
    // every table: they are `keyed`).
    let single: Vec<u32> = (0..keys.len())
        .filter(|&d| tables > 1 && keys[d].len() == 1)
        .map(|d| u32::try_from(d).expect("fewer than 2^32 documents"))
        .collect();
    if keyed.is_empty() && single.is_empty() {
        return Some(Vec::new());
    }
    let stopped = std::sync::atomic::AtomicBool::new(false);
    // The pairs in the union so far: its final size is the same whichever
    // thread took which table, so the count decides alike in every run.
    let in_union = std::sync::atomic::AtomicUsize::new(0);
    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
    // Buffers reused from table to table, one set a thread: a table's own,
    // of a few MB each for many documents, were mapped and faulted in anew
    // (a third of the time of 300,000 short documents); and each table's
    // pairs and each union of them, made anew in the heap's free holes,
    // faulted in pages of their own (the 19 MB corpus: 4 MiB more resident
    // during this walk, the documents stage's peak). The union of the
    // tables' pairs so far is one for all threads (the same whichever thread
    // took which table, in whatever order), in parts by the later document,
    // each joined under its own lock: two threads' tables join it at once
    // (one at a time, the union was 62% of a flood of near-identical
    // records' time), each thread with room for one part's next union,
    // reused from part to part (room for the whole union doubled it).
    let pool: Vec<std::sync::Mutex<Buffers>> = (0..rayon::current_num_threads().max(1))
        .map(|_| std::sync::Mutex::default())
        .collect();
    let union: Vec<std::sync::Mutex<Vec<u64>>> = (0..UNION_PARTS)
        .map(|_| std::sync::Mutex::default())
        .collect();
    // The first later document of each part, packed as its pairs' least.
    let part_start = |r: usize| {
        u64::from(
            base + u32::try_from(r * keys.len() / UNION_PARTS).expect("fewer than 2^32 documents"),
        ) << 32
    };
    let group_pairs = |group: std::ops::Range<usize>, stored: Option<&Stored>| {
        group.into_par_iter().for_each(|t| {
            if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            // (A thread outside the pool takes the first set; nothing
            // inside runs on other threads while the lock is held.)
            let mut held = pool[rayon::current_thread_index().unwrap_or(0) % pool.len()]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (bucketed, buckets, bytes, (place, pairs, spare)) = &mut *held;
            bucketed.clear();
            bucketed.extend(keyed.iter().map(|&d| (keys[d as usize][t], base + d)));
            if t == 0 {
                bucketed.extend(single.iter().map(|&d| (keys[d as usize][0], base + d)));
            }
            if bucketed.is_empty() {
                return;
            }
            // (Keys are hashes: spread by their top bits first, 4x fewer
            // instructions than a comparison sort of 12,000 keys.)
            crate::hashsort::sort_by_hash(bucketed, |&(key, _)| key);
            // The table's buckets of two or more (the index's members, then
            // this run's), as (members, how many are the index's, then
            // each): what its pairs depend on.
            buckets.clear();
            let table = u32::try_from(t).expect("few tables");
            // The index's members of this table's buckets, walked beside its
            // groups (both in key order), not searched for a group at a time.
            let mut stored_here = stored.map_or(&[][..], |stored| {
                let at = stored.partition_point(|&(t, _, _)| t < table);
                let end = at + stored[at..].partition_point(|&(t, _, _)| t == table);
                &stored[at..end]
            });
            for group in bucketed.chunk_by(|a, b| a.0 == b.0) {
                let key = group[0].0;
                let skip = stored_here.iter().take_while(|&&(_, k, _)| k < key).count();
                stored_here = &stored_here[skip..];
                let end = stored_here
                    .iter()
                    .take_while(|&&(_, k, _)| k == key)
                    .count();
                let found = &stored_here[..end];
                if found.len() + group.len() < 2 {
                    continue;
                }
                let count = |n: usize| u32::try_from(n).expect("fewer than 2^32 documents");
                buckets.extend([count(found.len() + group.len()), count(found.len())]);
                buckets.extend(found.iter().map(|&(_, _, d)| d));
                buckets.extend(group.iter().map(|&(_, d)| d));
            }
            // Tables with the same buckets give the same pairs: only the
            // first to get here makes them (whichever it is, the union is
            // the same). Tables of equal keys are many in a flood of
            // identical records, or of records differing in a word or two.
            // Buckets come in key order, which differs from table to table:
            // taken in the order of their first members instead (a document
            // is in one bucket of a table).
            let mut starts = Vec::new();
            let mut at = 0;
            while at < buckets.len() {
                starts.push((buckets[at + 2], at));
                at += 2 + buckets[at] as usize;
            }
            starts.sort_unstable();
            // Hashed in one piece (a call a member took most of the time
            // for a flood's buckets of every document).
            bytes.clear();
            for (_, at) in starts {
                let len = 2 + buckets[at] as usize;
                for member in &buckets[at..at + len] {
                    bytes.extend_from_slice(&member.to_le_bytes());
                }
            }
            let fingerprint = xxhash_rust::xxh3::xxh3_128(bytes);
            if !seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(fingerprint)
            {
                return;
            }
            // What the table's pairs add to the memory held, first.
            let more = pair_count(buckets).saturating_sub(pairs.capacity());
            if ceiling.is_some_and(|c| c.passed_with(more * std::mem::size_of::<u64>())) {
                stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            table_pairs(buckets, (base, keys.len()), place, pairs);
            let mut from = 0;
            for (r, part) in union.iter().enumerate() {
                let to = if r + 1 == UNION_PARTS {
                    pairs.len()
                } else {
                    from + pairs[from..].partition_point(|&p| p < part_start(r + 1))
                };
                let ours = &pairs[from..to];
                from = to;
                if ours.is_empty() {
                    continue;
                }
                let mut all = part
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // A part's union is made beside its pairs so far: what it
                // adds to the memory held is checked first.
                let grow = (all.len() + ours.len()).saturating_sub(spare.capacity());
                if ceiling.is_some_and(|c| c.passed_with(grow * std::mem::size_of::<u64>())) {
                    stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
                let before = all.len();
                union_into(&all, ours, spare);
                std::mem::swap(&mut *all, spare);
                let added = all.len() - before;
                let now = in_union.fetch_add(added, std::sync::atomic::Ordering::Relaxed) + added;
                if counted_past(now * std::mem::size_of::<u64>()) {
                    stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
            }
        });
    };
    // (Checked once the index's members asked for are held, before any
    // table's pairs are made.)
    let stored = stored_of()?;
    if passed() {
        return None;
    }
    group_pairs(0..tables, stored.as_deref());
    drop(pool);
    // The whole union counted (a count past the limit stopped some thread
    // early, or would have, had it come sooner).
    if stopped.into_inner() || counted_past(in_union.into_inner() * std::mem::size_of::<u64>()) {
        return None;
    }
    // The parts in order, each let go once copied.
    let parts: Vec<Vec<u64>> = union
        .into_iter()
        .map(|p| {
            p.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect();
    let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        all.extend(part.into_iter().map(unpacked));
    }
    Some(all)
}

/// Keeps, of each bucket's stored members in `found` ((table, key,
/// document), sorted), the first [`BUCKET_FIRST`] and last
/// [`BUCKET_RECENT`]: all its pairs are made with.
pub(crate) fn trim_buckets(found: &mut Vec<(u32, u64, u32)>) {
    let mut at = 0;
    let mut kept = 0;
    while at < found.len() {
        let bucket = (found[at].0, found[at].1);
        let len = found[at..].partition_point(|&(t, k, _)| (t, k) == bucket);
        for i in 0..len {
            if i < BUCKET_FIRST || i + BUCKET_RECENT >= len {
                found[kept] = found[at + i];
                kept += 1;
            }
        }
        at += len;
    }
    found.truncate(kept);
}

/// Parts of the union of [`candidate_pairs_after`], by the later document.
const UNION_PARTS: usize = 16;

/// A thread's buffers for [`candidate_pairs_after`]: a table's (key,
/// document) list, its buckets and their bytes, where each document is in
/// them, its pairs and room for a part of their union.
type Buffers = (
    Vec<(u64, u32)>,
    Vec<u32>,
    Vec<u8>,
    (Vec<(u32, u32)>, Vec<u64>, Vec<u64>),
);

/// Marks a document in no bucket of two or more of a table (see
/// [`table_pairs`]).
const NOWHERE: (u32, u32) = (u32::MAX, u32::MAX);

/// Into `out` (emptied first), the pairs [`bucket_pairs`] makes of a table's
/// `buckets` (each its length, how many of its members are the index's, then
/// its members) for documents numbered `base..base + n`, sorted by the later
/// document, then the earlier, without a sort: a document is in one bucket
/// of a table, so taking the documents in order, each with its earlier
/// members (ascending), gives them in that order. (Sorting them took 28 of 31
/// s for 200,000 records that differ in a word, 128 tables of 3 million pairs
/// each.) Pairs are [`packed`]; `place` is scratch.
fn table_pairs(
    buckets: &[u32],
    (base, n): (u32, usize),
    place: &mut Vec<(u32, u32)>,
    out: &mut Vec<u64>,
) {
    out.clear();
    place.clear();
    place.resize(n, NOWHERE);
    let mut at = 0;
    while at < buckets.len() {
        let (len, prior) = (buckets[at] as usize, buckets[at + 1] as usize);
        let start = u32::try_from(at + 2).expect("buckets of fewer than 2^32 entries");
        for i in prior.max(1)..len {
            let doc = buckets[at + 2 + i];
            let i = u32::try_from(i).expect("buckets of fewer than 2^32 members");
            place[(doc - base) as usize] = (start, i);
        }
        at += 2 + len;
    }
    for &(start, i) in place.iter() {
        if (start, i) == NOWHERE {
            continue;
        }
        let (start, i) = (start as usize, i as usize);
        let (before, later) = (&buckets[start..start + i], buckets[start + i]);
        let first = i.min(BUCKET_FIRST);
        let recent = i.saturating_sub(BUCKET_RECENT).max(first);
        for &earlier in before[..first].iter().chain(&before[recent..]) {
            out.push(packed((earlier, later)));
        }
    }
}

/// How many pairs [`table_pairs`] makes of `buckets`: each later member of
/// a bucket (not the index's) with at most [`BUCKET_FIRST`] and
/// [`BUCKET_RECENT`] earlier ones.
fn pair_count(buckets: &[u32]) -> usize {
    let (mut count, mut at) = (0, 0);
    while at < buckets.len() {
        let (len, prior) = (buckets[at] as usize, buckets[at + 1] as usize);
        count += (prior.max(1)..len)
            .map(|i| i.min(BUCKET_FIRST + BUCKET_RECENT))
            .sum::<usize>();
        at += 2 + len;
    }
    count
}

/// The index's members of buckets: (table, key, document), sorted.
type Stored = [(u32, u64, u32)];

/// Keys of the index's buckets asked for at once, about (see
/// [`candidate_pairs_after`]).
const QUERIES_AT_ONCE: usize = 1 << 18;

/// The union of two sorted lists of [`packed`] pairs without repeats into
/// `out` (emptied first), sorted, without repeats. (Without branches on
/// the values: a flood's tables give pairs of the union already, 16 of 64 a
/// document, which a branch on the tuples' halves mispredicted.)
fn union_into(a: &[u64], b: &[u64], out: &mut Vec<u64>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut in_a, mut in_b) = (0, 0);
    while in_a < a.len() && in_b < b.len() {
        let (next_a, next_b) = (a[in_a], b[in_b]);
        out.push(next_a.min(next_b));
        in_a += usize::from(next_a <= next_b);
        in_b += usize::from(next_b <= next_a);
    }
    out.extend_from_slice(&a[in_a..]);
    out.extend_from_slice(&b[in_b..]);
}

/// A pair with its halves swapped: (earlier, later) as (later, earlier), the
/// order pairs are sorted in, and back.
fn later_first((a, b): (u32, u32)) -> (u32, u32) {
    (b, a)
}

/// A pair (earlier, later) as one number that sorts as (later, earlier).
fn packed((earlier, later): (u32, u32)) -> u64 {
    u64::from(later) << 32 | u64::from(earlier)
}

/// See [`packed`].
fn unpacked(pair: u64) -> (u32, u32) {
    #[allow(clippy::cast_possible_truncation)]
    (pair as u32, (pair >> 32) as u32)
}

/// The pairs [`candidate_pairs`] gives documents that all have one key (a
/// single shingle, the same in every table), from `(key, document)`: a
/// bucket is then the documents of one key in every table, paired as there.
#[must_use]
pub fn single_key_pairs(mut singles: Vec<(u64, u32)>) -> Vec<(u32, u32)> {
    singles.sort_unstable();
    let mut out = Vec::new();
    let mut members = Vec::new();
    for group in singles.chunk_by(|a, b| a.0 == b.0) {
        members.clear();
        members.extend(group.iter().map(|&(_, d)| d));
        bucket_pairs(&members, 0, &mut out);
    }
    out.sort_unstable_by_key(|&p| later_first(p));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_buckets_keep_their_first_and_last_members() {
        // Bucket (0, 7) of 20 members, (1, 7) of 3.
        let mut found: Vec<(u32, u64, u32)> = (0..20).map(|d| (0, 7, d)).collect();
        found.extend((0..3).map(|d| (1, 7, d)));
        trim_buckets(&mut found);
        let first: Vec<u32> = found.iter().filter(|f| f.0 == 0).map(|f| f.2).collect();
        let kept: Vec<u32> = (0..8).chain(12..20).collect();
        assert_eq!(first, kept);
        assert_eq!(found.len(), 16 + 3);
    }

    #[test]
    fn pairs_come_from_shared_keys_only() {
        // 4 documents, 2 tables.
        let keys: [&[u64]; 4] = [&[1, 10], &[2, 20], &[1, 30], &[3, 20]];
        assert_eq!(candidate_pairs(&keys, 2), [(0, 2), (1, 3)]);
        let keys: [&[u64]; 4] = [&[], &[2, 20], &[1, 30], &[3, 20]];
        assert_eq!(candidate_pairs(&keys, 2), [(1, 3)]);
    }

    #[test]
    fn pair_count_is_what_table_pairs_makes() {
        // Buckets of 2, 9, 17 and 40 members, the last with 5 of the index's.
        let mut buckets = Vec::new();
        let mut next = 100u32;
        for (len, prior) in [(2u32, 0u32), (9, 0), (17, 0), (40, 5)] {
            buckets.extend([len, prior]);
            buckets.extend(next..next + len);
            next += len;
        }
        let (mut place, mut out) = (Vec::new(), Vec::new());
        table_pairs(&buckets, (100, 68), &mut place, &mut out);
        assert_eq!(pair_count(&buckets), out.len());
        // 1, 1..8, 1..16, and 5..16 then 16 for each of 17..39.
        assert_eq!(out.len(), 1 + 36 + 136 + (126 + 23 * 16));
    }

    #[test]
    fn big_buckets_stay_linear() {
        let n = 1000;
        let keys: Vec<&[u64]> = vec![&[7]; n];
        let pairs = candidate_pairs(&keys, 1);
        assert!(pairs.len() <= n * (BUCKET_FIRST + BUCKET_RECENT));
        assert!(pairs.contains(&(0, 999)) && pairs.contains(&(998, 999)));
    }

    #[test]
    fn single_keys_pair_as_in_every_table() {
        // Documents 0, 2, 3 and 5 share key 7 in both tables, 1 and 4 key 9:
        // the same pairs as banding them, groups of more than the windows
        // included.
        let ids = [7, 9, 7, 7, 9, 7];
        let keys: Vec<[u64; 2]> = ids.iter().map(|&k| [k, k]).collect();
        let refs: Vec<&[u64]> = keys.iter().map(<[u64; 2]>::as_slice).collect();
        let singles: Vec<(u64, u32)> = (0..6u32).map(|d| (ids[d as usize], d)).collect();
        assert_eq!(single_key_pairs(singles), candidate_pairs(&refs, 2));
        let n = 40u32;
        let keys: Vec<&[u64]> = vec![&[3, 3, 3]; n as usize];
        let singles: Vec<(u64, u32)> = (0..n).map(|d| (3, d)).collect();
        assert_eq!(single_key_pairs(singles), candidate_pairs(&keys, 3));
    }

    #[test]
    fn tables_are_merged_without_repeats() {
        let keys: [&[u64]; 5] = [&[1, 5, 8], &[2, 5, 8], &[1, 6, 8], &[2, 6, 9], &[1, 5, 9]];
        let mut expected = Vec::new();
        for b in 0..5u32 {
            for a in 0..b {
                if (0..3).any(|t| keys[a as usize][t] == keys[b as usize][t]) {
                    expected.push((a, b));
                }
            }
        }
        expected.sort_unstable_by_key(|&p| later_first(p));
        assert_eq!(candidate_pairs(&keys, 3), expected);
    }
}
