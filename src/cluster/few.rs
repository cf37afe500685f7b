//! Documents of few shingles (short records): their MinHash signatures and
//! band keys are made only where another document holds one of their
//! shingles, the only way they can share a bucket.

use super::{Candidates, DocSketch, MARK};
use crate::config::{Config, Level};
use crate::index::FewStored;
use crate::memory::Ceiling;
use crate::prior::Prior;
use rayon::prelude::*;

/// Most shingles a document has for [`few_shingles`].
pub(crate) const FEW: usize = 16;

/// Whether a document of `words` words has at least one `--doc-shingle`-word
/// shingle and at most [`FEW`], under MinHash. Each slot of its signature
/// holds the hash of one of its shingles, so its band key in a table is
/// another document's only if that document holds the shingles of the
/// band's slots: a document none of whose shingles any other document holds
/// shares no bucket and is in no candidate pair. Its signature and band keys
/// are made only once the first pass has seen every document, and only when
/// another holds one of its shingles ([`keys_of_few`]): 300,000 six-word
/// records spent 90% of their time on signatures and band keys (120 a
/// document) whose buckets held one document each.
pub(crate) fn few_shingles(words: usize, candidates: &Candidates, config: &Config) -> bool {
    matches!(candidates, Candidates::Minhash { .. })
        && (config.doc_shingle..config.doc_shingle.saturating_add(FEW)).contains(&words)
}

/// Whether a document of `words` words has a single shingle of fewer than
/// `--doc-shingle` words, under MinHash: no other document's shingle set can
/// hold it but that of a document of the very same words, and its MinHash
/// signature is that shingle's hash in every slot, so its band keys in every
/// table are those of its copies only. Such a document is not sketched: its
/// shingle stands for its keys, and its candidates are found by it
/// ([`crate::index::single_key_pairs`], the same pairs). Most of the cost of
/// a one-line record went to its signature and band keys.
pub(crate) fn single_shingle(words: usize, candidates: &Candidates, config: &Config) -> bool {
    matches!(candidates, Candidates::Minhash { .. }) && (1..config.doc_shingle).contains(&words)
}

/// The band keys of the documents of few shingles ([`few_shingles`]), whose
/// first-pass sketches hold their shingles (in text order) as keys: made
/// where another document holds one of its shingles (an exact copy counts),
/// and none (no buckets) where no other does. `words_in` gives a document's
/// words, `shingles_of_doc` the shingles of one with more than [`FEW`].
/// The candidate pairs are those of making every document's keys. `false`
/// (no keys made) when the keys would take the memory held past `ceiling`
/// (a flood of near-identical short records: see [`Ceiling`]).
pub(crate) fn keys_of_few(
    doc_sketches: &mut [DocSketch],
    keys_of: &[usize],
    words_in: &(dyn Fn(usize) -> usize + Sync),
    shingles_of_doc: &(dyn Fn(usize) -> Vec<u64> + Sync),
    candidates: &Candidates,
    config: &Config,
    ceiling: Option<Ceiling>,
) -> bool {
    let n = doc_sketches.len();
    let few = |d: usize| few_shingles(words_in(d), candidates, config);
    let own = |d: usize| keys_of[d] == d;
    let few_docs: Vec<usize> = (0..n).filter(|&d| own(d) && few(d)).collect();
    if few_docs.is_empty() {
        return true;
    }
    // Documents with more shingles are looked through for theirs only
    // when that costs less than the keys it may spare (about 64 look-ups
    // a document of few shingles); else every one is keyed.
    let longer: Vec<usize> = (0..n)
        .filter(|&d| own(d) && words_in(d) >= config.doc_shingle.saturating_add(FEW))
        .collect();
    let longer_words: usize = longer.iter().map(|&d| words_in(d)).sum();
    let shared = if longer_words > few_docs.len() * 64 {
        vec![true; n]
    } else {
        let few_set = |d: usize| doc_sketches[d].keys.as_slice();
        shared_shingles(keys_of, &few_docs, few_set, &longer, shingles_of_doc)
    };
    // A key a table, and a vector's header and heap chunk a document.
    let keyed = few_docs.iter().filter(|&&d| shared[d]).count();
    let bytes = keyed * (candidates.tables() * std::mem::size_of::<u64>() + 40);
    // (Counted first, the same in every run: see `Ceiling`.)
    if ceiling.is_some_and(|c| c.counted_past(bytes) || c.passed_with(bytes)) {
        return false;
    }
    let seed = config.seed;
    doc_sketches
        .par_iter_mut()
        .enumerate()
        .filter(|(d, _)| own(*d) && few(*d))
        .for_each(|(d, sketch)| {
            let shingles = std::mem::take(&mut sketch.keys);
            if shared[d] {
                sketch.keys = candidates.keys_only(shingles.into_iter(), seed).keys;
            }
        });
    true
}

/// Documents that share no shingle with another document of the run, of
/// those with at most [`FEW`] distinct shingles (`sketches[d].shingles`: a
/// run that keeps the sets, one with an index), under MinHash: whatever
/// their keys, they are in no candidate pair of the run, as each slot of a
/// MinHash signature (and of its head's) holds the hash of one of the
/// document's own shingles, and its tail key is another's only if that one
/// ends with the same shingles (see [`few_shingles`]). Their keys stay (an index
/// stores them) but need not be searched: 156,000 six-word records spent a
/// quarter of an index build on the pairs of 128 keys a record, each
/// bucket one record's. None when looking costs more than it may spare (see
/// [`keys_of_few`]).
pub(crate) fn alone_in_run(
    sketches: &[DocSketch],
    keys_of: &[usize],
    candidates: &Candidates,
) -> Vec<bool> {
    let n = sketches.len();
    if !matches!(candidates, Candidates::Minhash { .. }) {
        return vec![false; n];
    }
    let own = |d: usize| keys_of[d] == d;
    let set = |d: usize| sketches[d].shingles.as_slice();
    let few_docs: Vec<usize> = (0..n)
        .filter(|&d| own(d) && (1..=FEW).contains(&set(d).len()))
        .collect();
    let longer: Vec<usize> = (0..n).filter(|&d| own(d) && set(d).len() > FEW).collect();
    let longer_shingles: usize = longer.iter().map(|&d| set(d).len()).sum();
    if few_docs.is_empty() || longer_shingles > few_docs.len() * 64 {
        return vec![false; n];
    }
    let longer_set = |d: usize| set(d).to_vec();
    let shared = shared_shingles(keys_of, &few_docs, set, &longer, &longer_set);
    let mut alone = vec![false; n];
    for d in few_docs {
        alone[d] = !shared[d];
    }
    alone
}

/// Which documents share a shingle with another document of the run: of
/// `few_docs` (whose shingles `few_set` gives), those holding a shingle that
/// another of them or one of `longer` (whose shingles `longer_set` gives)
/// holds; and every document an exact copy was made of (`keys_of`: a copy
/// holds all of its original's shingles). Shingles are compared without
/// their mark ([`MARK`]).
fn shared_shingles<'s>(
    keys_of: &[usize],
    few_docs: &[usize],
    few_set: impl Fn(usize) -> &'s [u64],
    longer: &[usize],
    longer_set: &(dyn Fn(usize) -> Vec<u64> + Sync),
) -> Vec<bool> {
    let mut shared = vec![false; keys_of.len()];
    for (d, &original) in keys_of.iter().enumerate() {
        if original != d {
            shared[original] = true;
        }
    }
    // Each document's distinct shingles, with the document.
    let mut held: Vec<(u64, u32)> = Vec::new();
    let mut distinct = Vec::with_capacity(FEW);
    for &d in few_docs {
        distinct.clear();
        distinct.extend(few_set(d).iter().map(|&s| s & !MARK));
        distinct.sort_unstable();
        distinct.dedup();
        let doc = u32::try_from(d).expect("fewer than 2^32 documents");
        held.extend(distinct.iter().map(|&s| (s, doc)));
    }
    held.sort_unstable();
    for run in held.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        for &(_, d) in run {
            shared[d as usize] = true;
        }
    }
    let found: Vec<u64> = longer
        .par_iter()
        .flat_map_iter(|&d| {
            let mut hits: Vec<u64> = longer_set(d)
                .into_iter()
                .map(|s| s & !MARK)
                .filter(|s| held.binary_search_by_key(s, |&(h, _)| h).is_ok())
                .collect();
            hits.sort_unstable();
            hits.dedup();
            hits
        })
        .collect();
    for s in found {
        let at = held.partition_point(|&(h, _)| h < s);
        for &(_, d) in held[at..].iter().take_while(|&&(h, _)| h == s) {
            shared[d as usize] = true;
        }
    }
    shared
}

/// Whether a run keeps the first pass's word hashes instead of the
/// documents' shingle sets (see `sketch_document`): a plain run (no index
/// read, `history`, or written, `stores`) with the document level. Runs
/// with an index keep the sets, which the index stores. With the word
/// hashes, documents of few shingles get no keys unless another document
/// holds one of their shingles (see `keys_of_few`); the document level
/// alone made 120 band keys for every one (300,000 six-word records took 11
/// times ordinary text's time a megabyte, and 256 MiB for 10 MB).
pub(crate) fn keeps_words(level: Level, history: bool, stores: bool) -> bool {
    level != Level::Blocks && !history && !stores
}

/// The shingles (marks cleared, ascending) an index stores for a document
/// instead of its band records (see the module doc of `store`): those of a
/// document of at most [`FEW`] distinct shingles under MinHash, when they
/// give back its band keys `keys` exactly (they do unless, under
/// containment, its head keys or its tail key were made of fewer shingles
/// than it has);
/// empty for any other document, whose band records are stored. A document
/// whose keys were `deferred` (an original of a run that [`defers_keys`],
/// sketched without keys: see [`keys_of_pending`]) has those of its set,
/// and its set is given without making them.
pub(crate) fn few_set(
    shingles: &[u64],
    (keys, deferred): (&[u64], bool),
    candidates: &Candidates,
    config: &Config,
) -> Vec<u64> {
    let deferred = deferred && keys.is_empty();
    if !matches!(candidates, Candidates::Minhash { .. })
        || shingles.is_empty()
        || shingles.len() > FEW
        || (keys.len() != candidates.tables() && !deferred)
    {
        return Vec::new();
    }
    let mut set: Vec<u64> = shingles.iter().map(|&s| s & !MARK).collect();
    set.sort_unstable();
    set.dedup();
    if deferred || keys_of_set(&set, candidates, config.seed) == keys {
        set
    } else {
        Vec::new()
    }
}

/// The band keys of a document of few shingles from its stored set (as a
/// later run, a merge and a write giving band records back make them).
pub(crate) fn keys_of_set(set: &[u64], candidates: &Candidates, seed: u64) -> Vec<u64> {
    candidates.keys_only(set.iter().copied(), seed).keys
}

/// The print of a shingle in an index's `banded_shingles` (see the module
/// doc of `store`): its top 32 bits, its mark ([`MARK`]) cleared.
pub(crate) fn shingle_print(shingle: u64) -> u32 {
    u32::try_from((shingle & !MARK) >> 32).expect("the top 32 bits")
}

/// The prints of the shingles of the documents of a run whose band records
/// an index stores ([`shingle_print`]), ascending and distinct: those with
/// keys of their own (`keys_of`; an exact copy holds its original's
/// shingles), some (`doc_keys`) and no few set (`few_sets`, stored by their
/// shingles instead), under MinHash (`None` otherwise: SimHash keys are
/// not of single shingles).
pub(crate) fn band_prints(
    sketches: &[DocSketch],
    (doc_keys, few_sets): (&[Vec<u64>], &[Vec<u64>]),
    keys_of: &[usize],
    candidates: &Candidates,
) -> Option<Vec<u32>> {
    if !matches!(candidates, Candidates::Minhash { .. }) {
        return None;
    }
    let mut prints: Vec<u32> = sketches
        .par_iter()
        .enumerate()
        .filter(|&(d, _)| {
            keys_of[d] == d
                && doc_keys.get(d).is_some_and(|k| !k.is_empty())
                && few_sets.get(d).is_none_or(Vec::is_empty)
        })
        .flat_map_iter(|(_, s)| s.shingles.iter().map(|&h| shingle_print(h)))
        .collect();
    prints.par_sort_unstable();
    prints.dedup();
    Some(prints)
}

/// Which documents of the run no look-up in the index can find: those of
/// at most [`FEW`] shingles (under MinHash) none of whose prints a document
/// with band records may hold ([`Prior::banded_prints`]), and none of whose
/// shingles a stored document of few shingles found for the run (`few`,
/// see [`few_stored`]) holds. Each slot of a MinHash signature (and of its
/// head's) holds the hash of one of the document's own shingles, so its key
/// in a table is a stored document's only if that one holds the shingles of
/// the band's slots, and its tail key only if that one's last shingles are
/// its own (the argument [`few_stored`] rests on): their keys would
/// find nothing, and are not looked up (20,000 new one-line records made 2.56
/// million look-ups). Empty (none such) when the index does not say. With
/// them, those of the prints looked up (of every such document's shingles)
/// that a document with band records may hold (`None` when none were looked
/// up, or the index does not say). A document has keys when `keys` has
/// some or they are `pending` (see [`keys_of_pending`]).
pub(crate) fn unmatched_in_index(
    history: &dyn Prior,
    (keys, pending): (&[&[u64]], &[bool]),
    sketches: &[DocSketch],
    candidates: &Candidates,
    few: Option<&[(u32, Vec<u64>)]>,
) -> (Vec<bool>, Option<Vec<u32>>) {
    if !matches!(candidates, Candidates::Minhash { .. }) {
        return (Vec::new(), None);
    }
    let mut few_held: Vec<u64> = few
        .unwrap_or_default()
        .iter()
        .flat_map(|(_, set)| set.iter().copied())
        .collect();
    few_held.sort_unstable();
    few_held.dedup();
    let keyed = |d: usize| !keys[d].is_empty() || pending.get(d).copied().unwrap_or(false);
    let short = |d: usize| keyed(d) && (1..=FEW).contains(&sketches[d].shingles.len());
    let mut prints: Vec<u32> = (0..keys.len().min(sketches.len()))
        .filter(|&d| short(d))
        .flat_map(|d| sketches[d].shingles.iter().map(|&h| shingle_print(h)))
        .collect();
    if prints.is_empty() {
        return (Vec::new(), None);
    }
    prints.par_sort_unstable();
    prints.dedup();
    let Some(held) = history.banded_prints(&prints) else {
        return (Vec::new(), None);
    };
    let unmatched = (0..keys.len())
        .into_par_iter()
        .map(|d| {
            d < sketches.len()
                && short(d)
                && sketches[d].shingles.iter().all(|&h| {
                    held.binary_search(&shingle_print(h)).is_err()
                        && few_held.binary_search(&(h & !MARK)).is_err()
                })
        })
        .collect();
    (unmatched, Some(held))
}

/// `keys` with those of the documents in no pair left out (empty): those
/// `alone` in the run ([`alone_in_run`]) that no look-up in the index can
/// find (`unmatched`, see [`unmatched_in_index`]; every one of them when
/// there is no index, `None`). Those left out are cleared in `pending`
/// (their keys need not be made).
pub(crate) fn left_out<'k>(
    keys: Vec<&'k [u64]>,
    pending: &mut [bool],
    alone: &[bool],
    unmatched: Option<&[bool]>,
) -> Vec<&'k [u64]> {
    keys.into_iter()
        .enumerate()
        .map(|(d, k)| {
            let in_index = unmatched.is_some_and(|u| !u.get(d).copied().unwrap_or(false));
            if alone.get(d).copied().unwrap_or(false) && !in_index {
                if let Some(p) = pending.get_mut(d) {
                    *p = false;
                }
                &[][..]
            } else {
                k
            }
        })
        .collect()
}

/// Whether a run with an index that stores nothing leaves the keys of its
/// documents of few shingles ([`few_shingles`]) to the document level
/// (their sketches then hold their shingle sets and no keys): made there
/// only for those the walk over the tables takes ([`keys_of_pending`]).
/// Those alone in the run and in the index, and copies of stored records
/// set apart with them ([`super::isolated`]), need none: 28,000 copies of
/// indexed six-word records spent a third of their time on signatures and
/// band keys that were never searched. A run that stores its documents
/// (`index build`, an index update, a run in chunks) defers them too: an
/// index stores such a document's shingle set, not its band records
/// ([`few_set`] of a document whose keys were deferred is its set), so its
/// keys were made only to be checked against that set and dropped (an
/// `index build` of six-word records spent most of its time on them).
pub(crate) fn defers_keys(keeps_words: bool, stores: bool, history: bool) -> bool {
    !keeps_words && (stores || history)
}

/// The keys of the documents still `pending` (whose keys were left to the
/// document level, see [`defers_keys`], and that the walk over the tables
/// takes), made once an original (`keys_of`: an exact copy's are its
/// original's) from its shingle set, and `keys` with them. A document of
/// few shingles has at most [`FEW`] of them in text order, no more than
/// [`super::HEAD_SHINGLES`]: its head keys are of all of them, and its keys
/// are those of its set, whatever their order and repeats (as
/// [`keys_of_set`] makes a stored one's). `false` (no keys made) when the
/// keys would pass `ceiling`, counted first (a flood of near-identical
/// short records: 100,000 six-word records in groups of ten took 106 MB
/// of keys here; see [`Ceiling`]).
pub(crate) fn keys_of_pending<'k>(
    keys: &mut [&'k [u64]],
    pending: &[bool],
    keys_of: &[usize],
    (made, sketches): (&'k mut Vec<Vec<u64>>, &[DocSketch]),
    (candidates, seed, ceiling): (&Candidates, u64, Option<Ceiling>),
) -> bool {
    const _: () = assert!(FEW <= super::HEAD_SHINGLES, "a short set is its own head");
    let mut wanted: Vec<usize> = (0..keys.len())
        .filter(|&d| pending[d])
        .map(|d| keys_of[d])
        .collect();
    if wanted.is_empty() {
        return true;
    }
    wanted.sort_unstable();
    wanted.dedup();
    // A key a table, and a vector's header and heap chunk a document.
    let bytes = wanted.len() * (candidates.tables() * std::mem::size_of::<u64>() + 40);
    if ceiling.is_some_and(|c| c.counted_past(bytes) || c.passed_with(bytes)) {
        return false;
    }
    *made = wanted
        .par_iter()
        .map(|&d| {
            let set = sketches[d].shingles.iter().map(|&s| s & !MARK);
            candidates.keys_only(set, seed).keys
        })
        .collect();
    let made: &'k [Vec<u64>] = made;
    for d in 0..keys.len() {
        if pending[d] {
            let at = wanted.binary_search(&keys_of[d]).expect("wanted above");
            keys[d] = &made[at];
        }
    }
    true
}

/// The index's documents of few shingles that may share a bucket with a
/// document of this run (`sketches`: their shingle sets): those holding
/// one of this run's shingles. Each slot of such a document's signature
/// holds the hash of one of its shingles, so its band key in a table is
/// another document's only if that one holds the band's shingles: one
/// sharing none of them with any document of this run is in none of its
/// buckets. `None` when the index holds no such document.
pub(crate) fn few_stored(
    history: &dyn Prior,
    sketches: &[DocSketch],
) -> Option<Vec<(u32, Vec<u64>)>> {
    if !history.has_few() {
        return None;
    }
    // When the index holds few such shingles (most corpora have few short
    // documents), only the run's shingles among them are looked up: the
    // run's hundreds of thousands of shingles were sorted and each looked up
    // in every segment, 5% of a run of ordinary text in 14 chunks.
    let stored = history.few_shingles(FEW_FILTER);
    let mut shingles: Vec<u64> = sketches
        .iter()
        .flat_map(|s| s.shingles.iter().map(|&h| h & !MARK))
        .filter(|h| stored.as_ref().is_none_or(|s| s.binary_search(h).is_ok()))
        .collect();
    shingles.par_sort_unstable();
    shingles.dedup();
    Some(history.few_docs(&shingles))
}

/// Most shingles of short stored documents [`few_stored`] filters the
/// run's shingles by (a sorted list of 32 KiB: searched from the cache).
const FEW_FILTER: usize = 4096;

/// [`few_stored`] with the documents of the run holding their shingles
/// (`sketches`) and the means of making their band keys, for
/// [`crate::index::candidate_pairs_after`].
pub(crate) fn few_buckets<'a>(
    docs: &'a [(u32, Vec<u64>)],
    sketches: &[DocSketch],
    candidates: &'a Candidates,
    seed: u64,
) -> FewStored<'a> {
    let mut held: Vec<u64> = docs
        .iter()
        .flat_map(|(_, set)| set.iter().copied())
        .collect();
    held.sort_unstable();
    held.dedup();
    let mut holders: Vec<(u64, u32)> = if held.is_empty() {
        Vec::new()
    } else {
        sketches
            .par_iter()
            .enumerate()
            .flat_map_iter(|(d, s)| {
                let d = u32::try_from(d).expect("fewer than 2^32 documents");
                let held = &held;
                s.shingles
                    .iter()
                    .map(|&h| h & !MARK)
                    .filter(move |h| held.binary_search(h).is_ok())
                    .map(move |h| (h, d))
            })
            .collect()
    };
    holders.par_sort_unstable();
    holders.dedup();
    FewStored {
        docs: std::borrow::Cow::Borrowed(docs),
        holders,
        keys: Box::new(move |set: &[u64]| keys_of_set(set, candidates, seed)),
    }
}
