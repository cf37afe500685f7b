//! Copies of short stored records that nothing else comes near: their
//! candidate pairs made once, not once a table.
//!
//! A document of the run whose band keys are a stored short document's in
//! every table (an exact copy of it, the usual case when a feed is checked
//! against what earlier runs saw) shares each of its buckets with that
//! document. When no other document can share any of those buckets, each
//! table's bucket is the same set of documents, and gives the same pairs:
//! they are made once here, and the documents leave the walk over the
//! tables (20,000 copies of indexed six-word records made 3.9 million
//! bucket entries, each sorted and walked, for 20,000 pairs).
//!
//! Whether another document can share a bucket rests on the argument
//! [`super::few::few_stored`] rests on: each slot of the MinHash signature
//! of a document of at most [`super::few::FEW`] shingles holds the hash of
//! one of its own shingles, so its key in a table is another document's
//! only if that one holds the shingles of the band's slots (its tail key,
//! of its distinct shingles, only if that one ends with them). A class of
//! documents with the same keys in every table is alone in its buckets when
//! every document holding one of its shingles is in it: every document of
//! the run holding one (`holders`), every stored short document holding one
//! (`docs`), and no stored document with band records (their shingles'
//! prints, `banded`).

use super::few::FEW;
use super::{Candidates, DocSketch, HEAD_SHINGLES, MARK, TAIL_SHINGLES};
use crate::index::{bucket_pairs, trim_buckets, FewStored};
use rayon::prelude::*;

/// The classes of [`isolated`] set apart from `few` and `keys` (their
/// documents' keys emptied: they leave the walk over the tables), with the
/// pairs they give, for [`super::cluster_after`]. `banded` are the prints of
/// the run's short documents' shingles that a stored document with band
/// records may hold ([`super::few::unmatched_in_index`] looked them up): a
/// class's set is a short document's of the run, so its prints are among
/// them. Nothing is set apart without them (the index does not say, or the
/// run has no short document). `pending` are the documents whose keys are
/// not made yet (see [`isolated`]); those set apart are cleared in it.
pub(crate) fn set_apart<'a>(
    banded: Option<&[u32]>,
    few: Option<FewStored<'a>>,
    (keys, pending): (&mut [&[u64]], &mut [bool]),
    (sketches, unmatched): (&[DocSketch], &[bool]),
    (candidates, seed): (&Candidates, u64),
    base: usize,
) -> (Option<FewStored<'a>>, Vec<(u32, u32)>) {
    let tables = candidates.tables();
    let Some(few) = few else {
        return (None, Vec::new());
    };
    let Some(banded) = banded.filter(|_| !few.docs.is_empty()) else {
        return (Some(few), Vec::new());
    };
    let base = u32::try_from(base).expect("fewer than 2^32 documents");
    let found = isolated(
        &few.docs,
        (&few.holders, banded),
        (keys, unmatched, pending),
        sketches,
        (tables, base),
        &|set, keys| same_keys(candidates, set, seed, keys),
    );
    if found.pairs.is_empty() {
        return (Some(few), Vec::new());
    }
    for ((k, pending), apart) in keys.iter_mut().zip(pending.iter_mut()).zip(&found.run) {
        if *apart {
            (*k, *pending) = (&[], false);
        }
    }
    let docs = few
        .docs
        .iter()
        .zip(&found.stored)
        .filter(|(_, &apart)| !apart)
        .map(|(d, _)| d.clone())
        .collect();
    let few = FewStored {
        docs: std::borrow::Cow::Owned(docs),
        ..few
    };
    (Some(few), found.pairs)
}

/// The classes [`isolated`] found: their pairs, and the documents that
/// leave the walk over the tables.
pub(crate) struct Isolated {
    /// Candidate pairs (earlier, later) of global document numbers: those
    /// the classes' buckets give in every table.
    pub pairs: Vec<(u32, u32)>,
    /// Per document of the run: in a class (its keys leave the walk).
    pub run: Vec<bool>,
    /// Per stored document of `docs`: in a class (it leaves `docs`).
    pub stored: Vec<bool>,
}

/// A class: its stored documents (of `docs`) and its documents of the run,
/// in document order.
type Class<'a> = (&'a [usize], Vec<u32>);

/// The classes of documents alone in their buckets in every table (see the
/// module doc), each of one or more stored short documents of one set
/// (`docs`, ascending by document) and the documents of the run (numbered
/// from `base`) with the keys that set gives. `holders` are (shingle,
/// document of the run holding it) of the shingles of `docs`, ascending;
/// `banded` the prints (see [`super::few::shingle_print`]) of those shingles
/// that a stored document with band records may hold, ascending. `keys` are
/// the run's band keys as the walk would take them (a document without
/// `tables` keys is in no class), but for the documents `pending`, whose keys
/// are not made yet and are those [`super::few::keys_of_set`] makes of their
/// set (documents of at most [`FEW`] shingles in text order: see
/// [`same_keys`]); `unmatched` those the walk looks up nowhere in the index
/// (in no class either). `same` tells whether keys of a document of the run
/// whose set is a stored one are the keys that set gives.
///
/// A class's documents of the run are those holding one of its shingles:
/// a document of the run with its keys holds one of them (each slot of a
/// signature is the hash of one of the document's shingles, and the
/// signatures of sets sharing none share no slot's value), and a document
/// holding one with other keys, or other shingles too, leaves the class to
/// the walk. A pending document is of a class when its set is the class's,
/// and leaves it to the walk when its set is a part of it (whose keys may be
/// the class's or not: they are not made to tell).
pub(crate) fn isolated(
    docs: &[(u32, Vec<u64>)],
    (holders, banded): (&[(u64, u32)], &[u32]),
    (keys, unmatched, pending): (&[&[u64]], &[bool], &[bool]),
    sketches: &[DocSketch],
    (tables, base): (usize, u32),
    same: &(dyn Fn(&[u64], &[u64]) -> bool + Sync),
) -> Isolated {
    let mut out = Isolated {
        pairs: Vec::new(),
        run: vec![false; keys.len()],
        stored: vec![false; docs.len()],
    };
    if docs.is_empty() || tables == 0 {
        return out;
    }
    let flag = |of: &[bool], d: usize| of.get(d).copied().unwrap_or(false);
    // The stored documents by their sets (equal sets, equal keys).
    let mut by_set: Vec<usize> = (0..docs.len()).collect();
    by_set.par_sort_unstable_by(|&a, &b| docs[a].1.cmp(&docs[b].1).then(a.cmp(&b)));
    // (shingle, stored document of `docs`) of every stored set.
    let mut held_by: Vec<(u64, usize)> = docs
        .iter()
        .enumerate()
        .flat_map(|(i, (_, set))| set.iter().map(move |&s| (s, i)))
        .collect();
    held_by.par_sort_unstable();
    let print = super::few::shingle_print;
    let holders_of = |s: u64| {
        let at = holders.partition_point(|h| h.0 < s);
        holders[at..].iter().take_while(move |h| h.0 == s)
    };
    // Whether a document of the run holds `set`'s shingles and no other.
    let holds_only = |d: usize, set: &[u64]| {
        sketches[d]
            .shingles
            .iter()
            .all(|&s| set.binary_search(&(s & !MARK)).is_ok())
    };
    let classes: Vec<Class<'_>> = by_set
        .chunk_by(|&a, &b| docs[a].1 == docs[b].1)
        .collect::<Vec<_>>()
        .into_par_iter()
        .filter_map(|group| {
            let set = &docs[group[0]].1;
            // (A group is in document order: its sets are equal.)
            let in_group = |i: usize| group.binary_search(&i).is_ok();
            // Every stored short document holding one of its shingles is
            // of the class, and no stored document with band records may
            // hold one.
            let others = set.iter().all(|&s| {
                held_by[held_by.partition_point(|h| h.0 < s)..]
                    .iter()
                    .take_while(|h| h.0 == s)
                    .all(|h| in_group(h.1))
                    && banded.binary_search(&print(s)).is_err()
            });
            if !others {
                return None;
            }
            // The documents of the run holding one of its shingles, in
            // document order.
            let mut run: Vec<u32> = set
                .iter()
                .flat_map(|&s| holders_of(s).map(|h| h.1))
                .collect();
            run.sort_unstable();
            run.dedup();
            // One with keys made, of this very set and with its keys: the
            // keys every other with keys made must have.
            let of_set = |d: usize| same_set(&sketches[d].shingles, set);
            let first = run.iter().map(|&d| d as usize).find(|&d| {
                !flag(pending, d) && keys[d].len() == tables && of_set(d) && same(set, keys[d])
            });
            let alone = !run.is_empty()
                && run.iter().all(|&d| {
                    let d = d as usize;
                    let keyed = if flag(pending, d) {
                        of_set(d)
                    } else {
                        first.is_some_and(|f| keys[d].len() == tables && keys[d] == keys[f])
                    };
                    keyed && !flag(unmatched, d) && holds_only(d, set)
                });
            alone.then_some((group, run))
        })
        .collect();
    let (mut members, mut bucket) = (Vec::new(), Vec::new());
    for (stored, run) in classes {
        // The bucket of every table: the stored members (trimmed as a
        // bucket's are), then the run's, each in document order.
        members.clear();
        members.extend(stored.iter().map(|&i| (0, 0, docs[i].0)));
        members.sort_unstable();
        trim_buckets(&mut members);
        bucket.clear();
        bucket.extend(members.iter().map(|&(_, _, d)| d));
        bucket.extend(run.iter().map(|&d| base + d));
        bucket_pairs(&bucket, members.len(), &mut out.pairs);
        for &i in stored {
            out.stored[i] = true;
        }
        for &d in &run {
            out.run[d as usize] = true;
        }
    }
    out
}

/// Whether `shingles` (a document's positioned set: distinct hashes,
/// ascending, marked with their place ([`MARK`])) are `set` once their
/// marks are cleared.
fn same_set(shingles: &[u64], set: &[u64]) -> bool {
    shingles.len() == set.len() && shingles.iter().zip(set).all(|(&s, &t)| s & !MARK == t)
}

/// Whether `keys`, made of a document of the run whose shingles (marks
/// cleared) are `set`, are the keys [`super::few::keys_of_set`] makes of
/// `set`. Its MinHash keys always are: a signature's slots are minima over
/// the set, whatever the order and repeats. Its head keys are made of its
/// first [`HEAD_SHINGLES`] shingles in text order, the set's of all of the
/// set (a set of at most [`FEW`] shingles, no more than [`HEAD_SHINGLES`]):
/// comparing the head keys alone tells (a sixteenth of a signature's cost;
/// making every stored copy's keys anew was a fifth of the time of checking
/// 20,000 copies of indexed records). Its tail key is of the set too,
/// made of its distinct hashes whatever their order; it is compared with
/// them.
pub(crate) fn same_keys(candidates: &Candidates, set: &[u64], seed: u64, keys: &[u64]) -> bool {
    const _: () = assert!(FEW <= HEAD_SHINGLES, "a short set is its own head");
    const _: () = assert!(FEW <= TAIL_SHINGLES, "a short set is its own tail");
    match candidates {
        Candidates::Minhash { head: false, .. } => keys.len() == candidates.tables(),
        Candidates::Minhash { head: true, .. } => {
            let mut edges = Vec::new();
            candidates.head_keys(&set[..set.len().min(HEAD_SHINGLES)], seed, &mut edges);
            candidates.tail_key(set.to_vec(), seed, &mut edges);
            keys.len() == candidates.tables() && keys.ends_with(&edges)
        }
        Candidates::Simhash { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_document_of_a_set_has_the_keys_of_the_set_when_its_beginning_holds_it() {
        let config = Config::default();
        let candidates = Candidates::new(&config);
        let hash = |i: u64| crate::sketch::mix(i) & !MARK;
        // Five shingles, then the first two again and again and a new one
        // after sixteen: its head keys are of its first two only.
        let short: Vec<u64> = (0..5).map(hash).collect();
        let mut long: Vec<u64> = (0..20).map(|i| hash(i % 2)).collect();
        long.push(hash(9));
        for (text, expected) in [(short, true), (long, false)] {
            let sketch = candidates.sketch(text, config.seed);
            let mut set: Vec<u64> = sketch.shingles.iter().map(|&s| s & !MARK).collect();
            set.sort_unstable();
            set.dedup();
            let made = super::super::few::keys_of_set(&set, &candidates, config.seed);
            assert_eq!(made == sketch.keys, expected);
            assert_eq!(
                same_keys(&candidates, &set, config.seed, &sketch.keys),
                expected
            );
            assert!(same_set(&sketch.shingles, &set));
            assert!(!same_set(&sketch.shingles, &set[1..]));
        }
    }

    /// [`isolated`] of stored documents 0..20 of set {10, 20} (and, with
    /// `other`, document 20 of set {20, 30}) and two documents of the run
    /// (numbered from 100) of `shingles`, with keys [1, 2] and [3, 4] (two
    /// tables), `unmatched` as given (the first), and `holders`, `banded`
    /// as given; `same` says whether a run document's keys are its set's.
    /// The documents `pending` have no keys (made later).
    fn found(
        shingles: [&[u64]; 2],
        (holders, banded): (&[(u64, u32)], &[u32]),
        (other, unmatched): (bool, bool),
        (same, pending): (bool, [bool; 2]),
    ) -> Isolated {
        let mut docs: Vec<(u32, Vec<u64>)> = (0..20).map(|d| (d, vec![h(10), h(20)])).collect();
        if other {
            docs.push((20, vec![h(20), h(30)]));
        }
        let sketches = shingles.map(|s| DocSketch {
            shingles: s.to_vec(),
            keys: Vec::new(),
        });
        let keys: [&[u64]; 2] = [&[1, 2], &[3, 4]];
        let keys: Vec<&[u64]> = keys
            .iter()
            .zip(pending)
            .map(|(&k, p)| if p { &[][..] } else { k })
            .collect();
        let same = move |_: &[u64], _: &[u64]| same;
        let unmatched = [unmatched, false];
        isolated(
            &docs,
            (holders, banded),
            (&keys, &unmatched, &pending),
            &sketches,
            (2, 100),
            &same,
        )
    }

    /// A shingle hash from a small number: clear of the place mark.
    const fn h(x: u64) -> u64 {
        x << 5
    }

    /// No document pending.
    const KEYED: [bool; 2] = [false, false];

    #[test]
    fn a_class_alone_gives_its_bucket_pairs_with_its_stored_members_trimmed() {
        let holders = [(h(10), 0), (h(20), 0)];
        let shingles: [&[u64]; 2] = [&[h(10) | 3, h(20)], &[h(30), h(40)]];
        let found = found(shingles, (&holders, &[]), (false, false), (true, KEYED));
        let earlier: Vec<u32> = (0..8).chain(12..20).collect();
        let pairs: Vec<(u32, u32)> = earlier.iter().map(|&e| (e, 100)).collect();
        assert_eq!(found.pairs, pairs);
        assert_eq!(found.run, [true, false]);
        assert!(found.stored.iter().all(|&s| s));
    }

    #[test]
    fn a_class_with_a_holder_outside_it_or_a_banded_shingle_is_left_to_the_walk() {
        let alone = [(h(10), 0), (h(20), 0)];
        // The second document holds 20 and another: other keys.
        let holders = [(h(10), 0), (h(20), 0), (h(20), 1)];
        let shown = found(
            [&[h(10), h(20)], &[h(20), h(50)]],
            (&holders, &[]),
            (false, false),
            (true, KEYED),
        );
        let run: [&[u64]; 2] = [&[h(10), h(20)], &[h(30)]];
        // Alone in the run, but a document with band records may hold 20.
        let banded = [super::super::few::shingle_print(h(20))];
        let banded = found(run, (&alone, &banded), (false, false), (true, KEYED));
        // Its keys are not the set's.
        let other_keys = found(run, (&alone, &[]), (false, false), (false, KEYED));
        // A stored document of another set holds 20.
        let stored = found(run, (&alone, &[]), (true, false), (true, KEYED));
        // The walk looks its keys up nowhere in the index.
        let unmatched = found(run, (&alone, &[]), (false, true), (true, KEYED));
        for found in [shown, banded, other_keys, stored, unmatched] {
            assert!(found.pairs.is_empty() && !found.run[0]);
        }
        // (Alone, it is a class.)
        assert!(found(run, (&alone, &[]), (false, false), (true, KEYED)).run[0]);
    }

    #[test]
    fn a_document_without_keys_is_of_a_class_when_its_set_is_the_class_set() {
        let both = [(h(10), 0), (h(10), 1), (h(20), 0), (h(20), 1)];
        let run: [&[u64]; 2] = [&[h(10), h(20)], &[h(10) | 3, h(20)]];
        // Without keys, both; or beside one with the set's keys.
        for pending in [[true, true], [false, true], [true, false]] {
            let found = found(run, (&both, &[]), (false, false), (true, pending));
            assert_eq!(found.run, [true, true], "{pending:?}");
            // (The later one is paired with the first 8 and last 8 before it.)
            assert!(found.pairs.contains(&(100, 101)) && found.pairs.len() == 32);
        }
        // Beside one whose keys may not be the set's: left to the walk (its
        // keys are not compared with keys never made).
        let unproven = found(run, (&both, &[]), (false, false), (false, [true, false]));
        // Holding a part of the set (its keys may be the set's, or not):
        // left to the walk with the class.
        let part = [(h(10), 0), (h(10), 1), (h(20), 0)];
        let partial = found(
            [&[h(10), h(20)], &[h(10)]],
            (&part, &[]),
            (false, false),
            (true, [false, true]),
        );
        for found in [unproven, partial] {
            assert!(found.pairs.is_empty() && found.run == [false, false]);
        }
    }
}
