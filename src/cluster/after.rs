//! The document level after an index's documents ([`cluster_after`]).

use super::{cluster_pairs, few, isolated, Candidates, DocLevel, DocSketch};
use crate::config::Config;
use crate::index::candidate_pairs_after;
use crate::jsonl::FieldValue;
use crate::prior::Prior;

/// What [`cluster_after`] knows of the run's documents: their sketches,
/// which are `alone` in the run, and (`keys_of`, `deferred`).
pub type RunDocs<'a> = (&'a [DocSketch], &'a [bool], (&'a [usize], &'a [bool]));

/// [`super::cluster`] after the documents of an index, which come first: document
/// ids in clusters are then global (the index's documents, then these), while
/// `cluster_of` and `dropped` are indexed by this run's documents. A cluster
/// whose representative is in the index keeps it: it was kept by an earlier run.
/// `keys` are each document's band keys (an exact copy's are its original's,
/// which it does not hold); they are freed before the pairs are verified.
/// `alone` marks the documents that share no shingle with another of the
/// run: their keys are left out unless the index may hold them. `deferred`
/// marks the documents (originals: `keys_of` gives each document's) whose
/// keys were left to this stage (`few::defers_keys`): made here for those
/// the walk over the tables takes.
/// `None` when memory passes `ceiling` ([`crate::memory::Ceiling`]).
#[must_use]
pub fn cluster_after(
    keys: Vec<&[u64]>,
    (sketches, alone, (keys_of, deferred)): RunDocs<'_>,
    candidates: &Candidates,
    config: &Config,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
    (history, ceiling, across): super::keep::After<'_>,
) -> Option<DocLevel> {
    let base = history.map_or(0, Prior::documents);
    let stored = history.and_then(|h| few::few_stored(h, sketches));
    let few = stored
        .as_deref()
        .map(|docs| few::few_buckets(docs, sketches, candidates, config.seed));
    // Per document: its keys are not made yet.
    let mut pending: Vec<bool> = (0..keys.len())
        .map(|d| deferred.get(keys_of[d]).copied().unwrap_or(false))
        .collect();
    let (unmatched, banded) = history
        .map(|h| {
            let keys = (&keys[..], &pending[..]);
            few::unmatched_in_index(h, keys, sketches, candidates, stored.as_deref())
        })
        .map_or((None, None), |(u, b)| (Some(u), b));
    let mut made = Vec::new();
    let mut keys = few::left_out(keys, &mut pending, alone, unmatched.as_deref());
    let unmatched = unmatched.unwrap_or_default();
    let (run, made_by) = ((sketches, &unmatched[..]), (candidates, config.seed));
    let (few, apart) = isolated::set_apart(
        banded.as_deref(),
        few,
        (&mut keys, &mut pending),
        run,
        made_by,
        base,
    );
    let (candidates_of, seed) = made_by;
    let making = (candidates_of, seed, ceiling);
    if !few::keys_of_pending(&mut keys, &pending, keys_of, (&mut made, sketches), making) {
        return None;
    }
    let t = candidates.tables();
    let mut pairs =
        candidate_pairs_after(&keys, t, base, (history, few.as_ref(), &unmatched), ceiling)?;
    pairs.extend(apart);
    drop(few);
    drop(stored);
    drop(keys);
    drop(made);
    let level = cluster_pairs(
        pairs,
        sketches,
        config,
        sizes,
        keep_values,
        (history, across),
    );
    Some(level)
}
