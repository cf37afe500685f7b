//! The verdicts of the later documents of candidate pairs: the
//! representative each joins (if any), every earlier document's known.
//!
//! A document's verdict reads only its candidates' representatives, so
//! documents are decided a level at a time, in parallel: a document's level
//! is one more than the highest of its candidates', and a candidate that is
//! the later document of no pair is its own representative (level 0). The
//! verdicts are those of one walk in input order, at any thread count.
//! After the documents of an index (whose representatives and shingles are
//! read from it, a cache of recent ones in between) they are made in input
//! order.

use super::recent::Recent;
use super::{best_representative, held_representative, DocSketch, Quotes};
use crate::config::Config;
use crate::prior::Prior;
use rayon::prelude::*;

/// What the verdicts read: the documents' shingle sets and bytes of text.
pub(super) struct Inputs<'a> {
    pub sketches: &'a [DocSketch],
    pub sizes: &'a [usize],
    pub config: &'a Config,
    /// Whether a document may join by holding its representative
    /// ([`held_representative`]).
    pub holding: bool,
    /// Documents below it are an index's: kept by an earlier run, none is
    /// joined by holding it.
    pub indexed: usize,
    /// Which representatives quote which, as the verdicts find out.
    pub quotes: Quotes,
}

/// A document's representative and their similarity, if it joined one.
pub(super) type Joined = Option<(usize, f64)>;

/// Per document of the run: the representative it joins with the
/// similarity, and whether it joined by holding it; and how many
/// (document, representative) pairs were compared. `pairs` are sorted by
/// their later document.
pub(super) fn verdicts(
    pairs: &[(u32, u32)],
    inputs: &Inputs<'_>,
    history: Option<&dyn Prior>,
) -> (Vec<Joined>, Vec<bool>, usize) {
    let n = inputs.sketches.len();
    let mut rep_of: Vec<Option<(usize, f64)>> = vec![None; n];
    let mut held = vec![false; n];
    let verified = match history {
        Some(h) => in_order(pairs, inputs, h, &mut rep_of, &mut held),
        None => by_levels(pairs, inputs, &mut rep_of, &mut held),
    };
    (rep_of, held, verified)
}

/// The verdict of document `d` against the representatives `reps`
/// (ascending, distinct), whose shingle sets are `sets` and bytes of text
/// `lengths`; ids from `base` on are this run's (and this run's chunks'
/// from `inputs.indexed` on, which a document may join by holding them).
fn verdict(
    d: usize,
    (reps, sets, lengths): (&[usize], &[&[u64]], &[usize]),
    base: usize,
    inputs: &Inputs<'_>,
) -> (Option<(usize, f64)>, bool) {
    let ours = inputs.sketches[d].shingles.as_slice();
    let best = best_representative(
        (ours, inputs.sizes[d]),
        reps,
        sets,
        lengths,
        inputs.config,
        &inputs.quotes,
    );
    if best.is_none() && inputs.holding {
        let joinable = base.min(inputs.indexed);
        let joined = held_representative(ours, reps, sets, joinable, inputs.config);
        return (joined, joined.is_some());
    }
    (best, false)
}

/// Fewer documents of a level than this are decided on this thread.
const LEVEL_IN_PARALLEL: usize = 4;

/// [`verdicts`] of a run without an index, a level at a time.
fn by_levels(
    pairs: &[(u32, u32)],
    inputs: &Inputs<'_>,
    rep_of: &mut [Option<(usize, f64)>],
    held: &mut [bool],
) -> usize {
    // Each later document's level, and its group of pairs by level, then
    // input order: (level, where the group starts).
    let mut level = vec![0u32; rep_of.len()];
    let mut order: Vec<(u32, usize)> = Vec::new();
    let mut at = 0;
    for group in pairs.chunk_by(|x, y| x.1 == y.1) {
        let highest = group.iter().map(|&(c, _)| level[c as usize]).max();
        let own = highest.unwrap_or(0) + 1;
        level[group[0].1 as usize] = own;
        order.push((own, at));
        at += group.len();
    }
    drop(level);
    order.sort_unstable();
    let decide = |rep_of: &[Option<(usize, f64)>], start: usize| {
        let d = pairs[start].1;
        let group = &pairs[start..start + pairs[start..].partition_point(|p| p.1 == d)];
        let mut reps: Vec<usize> = group
            .iter()
            .map(|&(c, _)| rep_of[c as usize].map_or(c as usize, |(r, _)| r))
            .collect();
        reps.sort_unstable();
        reps.dedup();
        let sets: Vec<&[u64]> = reps
            .iter()
            .map(|&r| inputs.sketches[r].shingles.as_slice())
            .collect();
        let lengths: Vec<usize> = reps.iter().map(|&r| inputs.sizes[r]).collect();
        let (best, joined) = verdict(d as usize, (&reps, &sets, &lengths), 0, inputs);
        (d as usize, best, joined, reps.len())
    };
    let mut verified = 0;
    for same in order.chunk_by(|x, y| x.0 == y.0) {
        let decided: Vec<_> = if same.len() < LEVEL_IN_PARALLEL {
            same.iter()
                .map(|&(_, start)| decide(rep_of, start))
                .collect()
        } else {
            let rep_of = &*rep_of;
            same.par_iter()
                .map(|&(_, start)| decide(rep_of, start))
                .collect()
        };
        for (d, best, joined, compared) in decided {
            rep_of[d] = best;
            held[d] = joined;
            verified += compared;
        }
    }
    verified
}

/// [`verdicts`] after the documents of an index, in input order.
fn in_order(
    pairs: &[(u32, u32)],
    inputs: &Inputs<'_>,
    h: &dyn Prior,
    rep_of: &mut [Option<(usize, f64)>],
    held: &mut [bool],
) -> usize {
    let base = h.documents();
    let mut verified = 0;
    let mut reps = Vec::new();
    // What the index says of its documents, read once for the many later
    // documents that ask (a flood of copies of a document of an earlier
    // chunk asked for its record and shingles once each: a read apiece).
    let mut looked_up = Recent::default();
    for group in pairs.chunk_by(|x, y| x.1 == y.1) {
        let d = group[0].1 as usize - base;
        reps.clear();
        reps.extend(group.iter().map(|&(c, _)| {
            let c = c as usize;
            if c < base {
                looked_up.rep(h, c)
            } else {
                rep_of[c - base].map_or(c, |(r, _)| r)
            }
        }));
        reps.sort_unstable();
        reps.dedup();
        looked_up.fetch_shingles(h, &reps[..reps.partition_point(|&r| r < base)]);
        let sets: Vec<&[u64]> = reps
            .iter()
            .map(|&r| {
                if r < base {
                    looked_up.shingles(r)
                } else {
                    inputs.sketches[r - base].shingles.as_slice()
                }
            })
            .collect();
        verified += reps.len();
        let length = |r: usize| {
            r.checked_sub(base)
                .map_or_else(|| looked_up.bytes(r), |r| inputs.sizes[r])
        };
        let lengths: Vec<usize> = reps.iter().map(|&r| length(r)).collect();
        (rep_of[d], held[d]) = verdict(d, (&reps, &sets, &lengths), base, inputs);
    }
    verified
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Candidates;

    /// Families of documents, each a text and copies that grow by a few
    /// words a step (so that a copy's candidates include copies that joined
    /// the first text), interleaved: six documents a level.
    fn drifting(config: &Config) -> Vec<DocSketch> {
        let words = |seed: usize, len: usize| -> Vec<String> {
            (0..len)
                .map(|i| format!("w{}", (i * 7919 + seed * 104_729) % 10_007))
                .collect()
        };
        let candidates = Candidates::new(config);
        let mut families: Vec<Vec<String>> = (0..6).map(|f| words(f, 200)).collect();
        let mut docs = Vec::new();
        for step in 0..6 {
            for (f, family) in families.iter_mut().enumerate() {
                if step > 0 {
                    family.extend(words(100 + f * 10 + step, 25));
                }
                let hashes = family
                    .windows(config.doc_shingle)
                    .map(|w| xxhash_rust::xxh3::xxh3_64(w.join(" ").as_bytes()))
                    .collect();
                docs.push(candidates.sketch(hashes, config.seed));
            }
        }
        docs
    }

    #[test]
    fn levels_decide_as_one_walk_in_input_order() {
        let config = Config::default();
        let sketches = drifting(&config);
        let n = sketches.len();
        let keys: Vec<&[u64]> = sketches.iter().map(|s| s.keys.as_slice()).collect();
        let tables = Candidates::new(&config).tables();
        let mut pairs = crate::index::candidate_pairs(&keys, tables);
        pairs.sort_unstable_by_key(|&(a, b)| (b, a));
        let sizes: Vec<usize> = sketches.iter().map(|s| s.shingles.len() * 6).collect();
        let inputs = Inputs {
            sketches: &sketches,
            sizes: &sizes,
            config: &config,
            holding: false,
            indexed: 0,
            quotes: Quotes::default(),
        };
        // One walk in input order, every earlier verdict known.
        let mut walked: Vec<Option<(usize, f64)>> = vec![None; n];
        let mut walked_verified = 0;
        for group in pairs.chunk_by(|x, y| x.1 == y.1) {
            let mut reps: Vec<usize> = group
                .iter()
                .map(|&(c, _)| walked[c as usize].map_or(c as usize, |(r, _)| r))
                .collect();
            reps.sort_unstable();
            reps.dedup();
            let sets: Vec<&[u64]> = reps
                .iter()
                .map(|&r| sketches[r].shingles.as_slice())
                .collect();
            let lengths: Vec<usize> = reps.iter().map(|&r| sizes[r]).collect();
            let d = group[0].1 as usize;
            walked[d] = verdict(d, (&reps, &sets, &lengths), 0, &inputs).0;
            walked_verified += reps.len();
        }
        // Candidates that stand for the text they joined, and a later
        // document that joined no one: the levels matter.
        let stood_for = pairs.iter().any(|&(c, _)| walked[c as usize].is_some());
        assert!(stood_for);
        assert!((0..n).any(|d| walked[d].is_none() && pairs.iter().any(|p| p.1 as usize == d)));
        for threads in [1, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            let (rep_of, held, verified) = pool.install(|| verdicts(&pairs, &inputs, None));
            assert_eq!(rep_of, walked);
            assert_eq!(held, vec![false; n]);
            assert_eq!(verified, walked_verified);
        }
    }
}
