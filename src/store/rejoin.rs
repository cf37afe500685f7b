//! `index merge` at the document level: the representatives of the second
//! index that copy a document before them join its cluster, as one run over
//! both indexes would have decided, within a memory budget.

use super::segment::Reader;
use super::write::runs::Runs;
use super::write::{candidates_of, old_bands, old_few_sets};
use super::{Segment, BUCKET_FIRST, BUCKET_RECENT};
use crate::cluster::few::{keys_of_set, shingle_print};
use crate::config::{Config, Measure, ValueEnum};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

/// What `index merge` may hold while it joins the later index's
/// representatives to earlier clusters, and where it keeps what does not
/// fit.
#[derive(Clone, Debug)]
pub struct MergeMemory {
    /// Bytes.
    pub limit: usize,
    /// `--memory-limit` as given (`None`: the default, named so in errors).
    pub given: Option<String>,
    /// Where the buckets go when they are kept a part at a time.
    pub tmp_dir: PathBuf,
}

/// A document's place in a bucket: its table, key and document, in the
/// top 32, middle 64 and low 32 bits, so that entries sort as (table, key,
/// document) tuples do, by one comparison of integers (the sort of the
/// tuples took a third of a merge of short records).
type Entry = u128;

/// The entry of `document` in bucket (`table`, `key`).
fn entry(table: u32, key: u64, document: u32) -> Entry {
    u128::from(table) << 96 | u128::from(key) << 32 | u128::from(document)
}

/// An entry's document.
#[allow(clippy::cast_possible_truncation)]
fn document_of(e: Entry) -> u32 {
    e as u32
}
/// Bytes of an [`Entry`], in memory and in a part's file.
const ENTRY: usize = 16;
/// Bytes a document of the later index takes for the whole merge: its
/// representative (u32) and whether its buckets may hold the earlier
/// index's band records (a byte).
const PER_DOC: usize = 5;
/// Most parts the buckets are cut into (each part a temporary file open
/// while they are written, well below the usual limit on open files).
const MAX_PARTS: usize = 512;

/// The document level of a merge, as one run over both would have it: each
/// representative of `b` (its documents numbered after `a`'s `docs`), in
/// order, is verified against the representatives of the documents it
/// shares an LSH bucket with, in `a` and earlier in `b`, with the run's own
/// rule ([`crate::cluster::best_representative`]); one that passes joins
/// that cluster, with the members it had in `b`, and counts as dropped.
/// Otherwise a story that both batches hold would be two representatives,
/// each discounting the other's text as boilerplate, and a later copy of it
/// would be found against neither. Blocks are left as they are (a block
/// first seen in both stays a first copy in each). Returns the
/// representatives that joined, (representative, the one it joins),
/// ascending.
///
/// The buckets of `b` (128 entries a document of six words: 1 GB for
/// 300,000 of them, which a merge held whole) are made once and kept in
/// parts, by table and key, each part a quarter of `memory` (in temporary
/// files under its directory when there are several), and read back one
/// part at a time: a bucket lies in one part, so each part gives the pairs
/// (document, earlier document) its buckets make. The pairs are kept a
/// quarter of `memory` at a time, sorted and without repeats, in temporary
/// files under its directory past that, and read back merged: verified in
/// the order of the documents, as before.
///
/// # Errors
/// What must be held for the whole merge not fitting in `memory` (`too
/// large`, before the buckets are made), the temporary files failing, or a
/// corrupt index.
#[allow(clippy::too_many_lines)]
pub(super) fn rejoin_representatives(
    a: &Segment,
    b: &Segment,
    docs: u32,
    memory: &MergeMemory,
) -> Result<Vec<(u32, u32)>> {
    let params = &a.meta.params;
    if params.level == "blocks" {
        return Ok(Vec::new());
    }
    let config = Config {
        measure: Measure::from_str(&params.measure, false).unwrap_or(Measure::Containment),
        threshold: params.threshold,
        // (Its seam, as a run with these settings weighs quoting.)
        doc_shingle: params.doc_shingle,
        ..Config::default()
    };
    let candidates = candidates_of(params);
    let keys_of = |set: &[u64]| {
        candidates
            .as_ref()
            .map(|c| keys_of_set(set, c, params.seed))
            .unwrap_or_default()
    };
    let count = b.documents();
    let quarter = (memory.limit / 4).max(1);
    let tables = candidates
        .as_ref()
        .map_or(0, crate::cluster::Candidates::tables);
    let few_docs = {
        let mut last = None;
        old_few_sets(Some(b))
            .filter(|&(d, _)| last.replace(d) != Some(d))
            .count()
    };
    b.status()?;
    // The limit every table below fits in (`holders` of `a`, when known):
    // each a quarter of it, the buckets in at most `MAX_PARTS` parts.
    let needs = |holders: usize| {
        let entries = b.count("bands") + (few_docs + holders).saturating_mul(tables);
        [
            count.saturating_mul(PER_DOC),
            holders.saturating_mul(8),
            entries.saturating_mul(ENTRY).div_ceil(MAX_PARTS),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
        .saturating_mul(4)
    };
    if count.saturating_mul(PER_DOC) > quarter {
        return Err(too_large(
            b,
            memory,
            &format!(
                "its {} documents take {} bytes a document while it is merged",
                crate::report::thousands(count),
                PER_DOC
            ),
            needs(0),
        ));
    }
    // Each document's representative, as `b` numbers them.
    let mut walk = b.walker();
    let reps: Vec<u32> = (0..count).map(|d| walk.doc(d).rep).collect();
    drop(walk);
    b.status()?;
    let asks = |d: u32| reps[(d - docs) as usize] == d - docs;
    // The documents of few shingles of `a` that hold a shingle of a
    // representative of `b`: their band keys join the buckets (numbered
    // below `docs`, they come first in each once sorted).
    let holders = few_of_a(a, b, &reps, quarter);
    b.status()?;
    if holders.len().saturating_mul(8) > quarter {
        // (`few_of_a` stops counting here: any of `a`'s documents may be
        // one, so the limit named holds them all.)
        return Err(too_large(
            b,
            memory,
            &format!(
                "at least {} documents of few shingles of {} its documents share shingles with take 8 bytes each while it is merged",
                crate::report::thousands(holders.len()),
                crate::escape::shown_path(a.path())
            ),
            needs(holders.len().max(a.documents())),
        ));
    }
    let total = b.count("bands") + (few_docs + holders.len()).saturating_mul(tables);
    let parts = total.saturating_mul(ENTRY).div_ceil(quarter).max(1);
    if parts > MAX_PARTS {
        return Err(too_large(
            b,
            memory,
            &format!(
                "its {} bucket entries ({ENTRY} bytes each) need more than {MAX_PARTS} parts of a quarter of the limit",
                crate::report::thousands(total)
            ),
            needs(holders.len()),
        ));
    }
    let meets = meets_bands_of(a, b, candidates.is_some());
    let mut store = Parts::new(parts, memory)?;
    for (key, table, d) in old_bands(Some(b)) {
        store.push((table, key, d + docs))?;
    }
    // Documents of few shingles: their keys made from their sets, a
    // thousand documents at a time on every thread.
    let mut sets: Vec<(u32, Vec<u64>)> = Vec::new();
    // (`base`: the number of the first document of the index they are of.)
    let few_keys = |sets: &mut Vec<(u32, Vec<u64>)>, store: &mut Parts, base: u32| -> Result<()> {
        let keys: Vec<Vec<u64>> = sets.par_iter().map(|(_, set)| keys_of(set)).collect();
        for ((d, _), keys) in sets.iter().zip(keys) {
            for (t, key) in keys.into_iter().enumerate() {
                store.push((u32::try_from(t).unwrap_or(u32::MAX), key, d + base))?;
            }
        }
        sets.clear();
        Ok(())
    };
    for (d, shingle) in old_few_sets(Some(b)) {
        match sets.last_mut() {
            Some((last, set)) if *last == d => set.push(shingle),
            _ => {
                if sets.len() >= 1024 {
                    few_keys(&mut sets, &mut store, docs)?;
                }
                sets.push((d, vec![shingle]));
            }
        }
    }
    few_keys(&mut sets, &mut store, docs)?;
    // (Their sets read in one walk of `a`'s: a look-up each, by bisection,
    // read a record a probe.)
    for (c, shingle) in old_few_sets(Some(a)) {
        if holders.binary_search(&c).is_err() {
            continue;
        }
        match sets.last_mut() {
            Some((last, set)) if *last == c => set.push(shingle),
            _ => {
                if sets.len() >= 1024 {
                    few_keys(&mut sets, &mut store, 0)?;
                }
                sets.push((c, vec![shingle]));
            }
        }
    }
    few_keys(&mut sets, &mut store, 0)?;
    // Their representatives, read in one walk: each bucket they are in asks
    // for them (read where asked, in the order of the buckets, a chunk of
    // `a` a read made most of a merge of copies of short records).
    let holder_reps: Vec<u32> = {
        let mut walk = a.walker();
        holders.iter().map(|&c| walk.doc(c as usize).rep).collect()
    };
    let rep_in_a = |read: &mut Reader<'_>, c: u32| match holders.binary_search(&c) {
        Ok(i) => holder_reps[i],
        Err(_) => read.doc(c as usize).rep,
    };
    b.status()?;
    a.status()?;

    let mut read = a.looker();
    // The pairs, a quarter of the limit at a time, sorted into runs under
    // the temporary directory past it, each pair once (they repeat, once a
    // bucket two documents share; 64M held 2.6 million, and a merge that
    // made more stopped, `too large`, after most of its work).
    let io = |e| Error::io(&memory.tmp_dir, e);
    let mut pairs: Runs<u64> = Runs::distinct(&memory.tmp_dir, quarter / 8);
    let mut found = Vec::new();
    let mut a_reps = Vec::new();
    for part in 0..parts {
        let mut entries = store.take(part)?;
        entries.par_sort_unstable();
        for bucket in entries.chunk_by(|x, y| x >> 32 == y >> 32) {
            #[allow(clippy::cast_possible_truncation)]
            let (table, key) = ((bucket[0] >> 96) as u32, (bucket[0] >> 32) as u64);
            let split = bucket.partition_point(|&e| document_of(e) < docs);
            let (of_a, of_b) = bucket.split_at(split);
            // The bucket as an index holding every band record of `b`
            // keeps it: its first and last members.
            let kept: Vec<u32> = trimmed(of_b).collect();
            if !kept.iter().any(|&d| asks(d)) {
                continue;
            }
            found.clear();
            if kept.iter().any(|&d| asks(d) && meets[(d - docs) as usize]) {
                read.bucket(table, key, &mut found);
            }
            found.extend(of_a.iter().map(|&e| document_of(e)));
            found.sort_unstable();
            trim(&mut found);
            a_reps.clear();
            a_reps.extend(found.iter().map(|&c| rep_in_a(&mut read, c)));
            for (i, &d) in kept.iter().enumerate() {
                if asks(d) {
                    for &c in a_reps.iter().chain(&kept[..i]) {
                        pairs.push(pair(d, c)).map_err(io)?;
                    }
                }
            }
        }
        a.status()?;
    }
    drop(store);
    drop(read);
    let (pairs, read_back) = pairs.sorted().map_err(io)?;
    let joined = join_in_order((a, b), docs, &reps, pairs, &config);
    if let Some(e) = read_back.take() {
        return Err(io(e));
    }
    Ok(joined)
}

/// A pair (document, an earlier document sharing a bucket with it) as one
/// integer: pairs sort as the tuples do.
fn pair(d: u32, c: u32) -> u64 {
    u64::from(d) << 32 | u64::from(c)
}

/// The representatives of `b` (numbered after `a`'s `docs` documents;
/// `reps`: each one's representative as `b` numbers them) that join an
/// earlier cluster, from `pairs` (document, an earlier one sharing a
/// bucket with it: a representative of `a`, or a document of `b`; see
/// [`pair`]), ascending and distinct: verified in the order of the
/// documents with the run's rule.
fn join_in_order(
    (a, b): (&Segment, &Segment),
    docs: u32,
    reps: &[u32],
    pairs: impl Iterator<Item = u64>,
    config: &Config,
) -> Vec<(u32, u32)> {
    let mut read = a.looker();
    // Verified in the order of the documents: a document of `b` before
    // this one counts by the representative it has now.
    let mut b_read = b.looker();
    let mut joined: Vec<(u32, u32)> = Vec::new();
    let now = |joined: &[(u32, u32)], c: u32| -> u32 {
        if c < docs {
            return c;
        }
        let rep = reps[(c - docs) as usize] + docs;
        match joined.binary_search_by_key(&rep, |j| j.0) {
            Ok(i) if rep <= c => joined[i].1,
            _ => rep,
        }
    };
    #[allow(clippy::cast_possible_truncation)]
    let mut pairs = pairs.map(|p| ((p >> 32) as u32, p as u32)).peekable();
    let mut found: Vec<usize> = Vec::new();
    // (Its least: a merge keeps within --memory-limit what it reads.)
    let quotes = crate::cluster::Quotes::for_shingles(0);
    while let Some((doc, c)) = pairs.next() {
        found.clear();
        found.push(now(&joined, c) as usize);
        while let Some((_, c)) = pairs.next_if(|p| p.0 == doc) {
            found.push(now(&joined, c) as usize);
        }
        found.sort_unstable();
        found.dedup();
        let (lengths, sets): (Vec<usize>, Vec<Vec<u64>>) = found
            .iter()
            .map(|&r| {
                let (bytes, shingles) = match u32::try_from(r) {
                    Ok(r) if r >= docs => b_read.doc_text((r - docs) as usize),
                    _ => read.doc_text(r),
                };
                (usize::try_from(bytes).unwrap_or(usize::MAX), shingles)
            })
            .unzip();
        let sets: Vec<&[u64]> = sets.iter().map(Vec::as_slice).collect();
        let (ours_bytes, ours) = b_read.doc_text((doc - docs) as usize);
        let best = crate::cluster::best_representative(
            (&ours, usize::try_from(ours_bytes).unwrap_or(usize::MAX)),
            &found,
            &sets,
            &lengths,
            config,
            &quotes,
        );
        if let Some((r, _)) = best {
            joined.push((doc, u32::try_from(r).unwrap_or(u32::MAX)));
        }
    }
    joined
}

/// The error of a merge whose tables (`what`) do not fit in `memory`:
/// naming the later index, the limit, and one that would do (`needs`).
fn too_large(b: &Segment, memory: &MergeMemory, what: &str, needs: usize) -> Error {
    let human = |n: usize| crate::sizes::human_bytes(u64::try_from(n).unwrap_or(u64::MAX));
    let limit = match &memory.given {
        Some(given) => format!("--memory-limit {given}"),
        None => format!(
            "the {} a merge takes without --memory-limit",
            human(memory.limit)
        ),
    };
    Error::TooLarge {
        path: b.path().to_owned(),
        message: format!(
            "{what}: more than {limit} holds (index merge); raise --memory-limit to {} or more (nothing was written)",
            at_least(needs.max(memory.limit.saturating_add(1)))
        ),
    }
}

/// `n` bytes as a size `--memory-limit` reads, never below `n`: whole
/// mebibytes (kibibytes below one), rounded up (`5.7M` of
/// [`crate::sizes::human_bytes`] was less than the merge needed).
fn at_least(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{}M", n.div_ceil(1 << 20))
    } else {
        format!("{}K", n.div_ceil(1 << 10))
    }
}

/// Of a bucket's members in `b` (ascending), those an index holding every
/// band record keeps: the first [`BUCKET_FIRST`] and last
/// [`BUCKET_RECENT`] (see [`crate::index::trim_buckets`]).
fn trimmed(of_b: &[Entry]) -> impl Iterator<Item = u32> + '_ {
    let len = of_b.len();
    of_b.iter()
        .enumerate()
        .filter(move |&(i, _)| i < BUCKET_FIRST || i + BUCKET_RECENT >= len)
        .map(|(_, &e)| document_of(e))
}

/// For each document of `b` (as it numbers them): whether its buckets may
/// hold band records of `a`. Not for a document of few shingles none of
/// whose prints `a`'s documents with band records hold (see
/// `crate::cluster::few::unmatched_in_index`, the same rule a run's
/// look-ups follow): each slot of its MinHash signature holds the hash of
/// one of its own shingles, so a bucket it shares with such a document
/// holds one of them. Looked up, each of 300,000 six-word records' 128
/// buckets read `a`'s directory and records for nothing.
fn meets_bands_of(a: &Segment, b: &Segment, minhash: bool) -> Vec<bool> {
    let n = b.documents();
    if a.count("bands") == 0 {
        return vec![false; n];
    }
    let mut meets = vec![true; n];
    if !minhash || !a.knows_banded_shingles() {
        return meets;
    }
    let mut look = a.looker();
    let mut set: Option<(u32, bool)> = None;
    let settle = |set: Option<(u32, bool)>, meets: &mut Vec<bool>| {
        if let Some((d, any)) = set {
            if let Some(m) = meets.get_mut(d as usize) {
                *m = any;
            }
        }
    };
    for (d, shingle) in old_few_sets(Some(b)) {
        if set.is_some_and(|(last, _)| last != d) {
            settle(set.take(), &mut meets);
        }
        let any = set.is_some_and(|(_, any)| any);
        let any = any || look.banded_print(shingle_print(shingle));
        set = Some((d, any));
    }
    settle(set, &mut meets);
    meets
}

/// The documents of few shingles of index `a` that hold a shingle of a
/// representative of `b` (`reps`: each document's representative),
/// ascending. The representatives' shingles are looked up in shingle order,
/// `budget` bytes of them at a time. (A document of `a` in a bucket of a
/// representative of `b` holds one of its shingles, as each slot of a
/// signature holds the hash of one of the document's shingles: these are
/// all of `a`'s documents of few shingles its buckets can hold. At most 16
/// of them hold a shingle, `FEW_HOLDERS` in `write::few`.)
fn few_of_a(a: &Segment, b: &Segment, reps: &[u32], budget: usize) -> Vec<u32> {
    if a.count("few_sets") == 0 {
        return Vec::new();
    }
    let mut holders: Vec<u32> = Vec::new();
    let mut shingles: Vec<u64> = Vec::new();
    let look_up = |shingles: &mut Vec<u64>, holders: &mut Vec<u32>| {
        shingles.sort_unstable();
        shingles.dedup();
        let mut walk = a.walker();
        for &shingle in shingles.iter() {
            walk.few_holders(shingle, holders);
        }
        holders.sort_unstable();
        holders.dedup();
        shingles.clear();
    };
    let mut read: Reader<'_> = b.walker();
    for (i, &rep) in reps.iter().enumerate() {
        if rep as usize != i {
            continue;
        }
        let (_, own) = read.doc_text(i);
        shingles.extend(own.iter().map(|&s| s & !crate::cluster::MARK));
        if shingles.len() * 8 > budget {
            look_up(&mut shingles, &mut holders);
            if holders.len().saturating_mul(8) > budget {
                // More than the merge may hold: the caller refuses it, and
                // the rest of the walk would not change that.
                return holders;
            }
        }
    }
    look_up(&mut shingles, &mut holders);
    holders
}

/// Keeps a bucket's first [`BUCKET_FIRST`] and last [`BUCKET_RECENT`]
/// members (ascending), as an index keeps them.
fn trim(members: &mut Vec<u32>) {
    let len = members.len();
    if len > BUCKET_FIRST + BUCKET_RECENT {
        members.drain(BUCKET_FIRST..len - BUCKET_RECENT);
    }
}

/// The buckets' entries, cut into parts by table and key (a bucket lies in
/// one part): in memory when there is one part, in a temporary file each
/// otherwise (unnamed: a killed merge leaves none).
struct Parts {
    count: usize,
    in_memory: Vec<Entry>,
    files: Vec<Option<std::io::BufWriter<std::fs::File>>>,
    dir: PathBuf,
}

impl Parts {
    fn new(count: usize, memory: &MergeMemory) -> Result<Parts> {
        let mut files = Vec::new();
        if count > 1 {
            // Each part's buffer a share of an eighth of the limit.
            let buffer = (memory.limit / 8 / count).clamp(ENTRY * 256, 1 << 16);
            for _ in 0..count {
                let file = crate::error::temp_file(&memory.tmp_dir)
                    .map_err(|e| Error::io(&memory.tmp_dir, e))?;
                files.push(Some(std::io::BufWriter::with_capacity(buffer, file)));
            }
        }
        Ok(Parts {
            count,
            in_memory: Vec::new(),
            files,
            dir: memory.tmp_dir.clone(),
        })
    }

    fn push(&mut self, (table, key, document): (u32, u64, u32)) -> Result<()> {
        let e = entry(table, key, document);
        if self.count == 1 {
            self.in_memory.push(e);
            return Ok(());
        }
        // The keys are hashes: their low bits, mixed with the table's,
        // spread the buckets evenly.
        let mixed = key ^ u64::from(table).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        #[allow(clippy::cast_possible_truncation)]
        let part = (mixed % self.count as u64) as usize;
        match &mut self.files[part] {
            Some(file) => (file.write_all(&e.to_le_bytes())).map_err(|e| Error::io(&self.dir, e)),
            None => Ok(()),
        }
    }

    /// Part `part`'s entries (each part taken once).
    fn take(&mut self, part: usize) -> Result<Vec<Entry>> {
        if self.count == 1 {
            return Ok(std::mem::take(&mut self.in_memory));
        }
        let io = |e| Error::io(&self.dir, e);
        let Some(writer) = self.files[part].take() else {
            return Ok(Vec::new());
        };
        let mut file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        let len = file.stream_position().map_err(io)?;
        file.rewind().map_err(io)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let mut entries = Vec::with_capacity(len / ENTRY);
        let mut piece = vec![0u8; (1 << 16) * ENTRY];
        let mut left = len;
        while left > 0 {
            let take = left.min(piece.len());
            file.read_exact(&mut piece[..take]).map_err(io)?;
            entries.extend(
                (piece[..take].chunks_exact(ENTRY))
                    .map(|b| u128::from_le_bytes(b.try_into().expect("16 bytes"))),
            );
            left -= take;
        }
        Ok(entries)
    }
}
