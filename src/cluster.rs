//! Document level: near-duplicate documents clustered in input order.
//!
//! Sketches (MinHash bands or SimHash tables, see [`crate::index`]) propose
//! candidate pairs. Documents are then visited once in input order; a document
//! joins a cluster only when its real shingle set passes the measure against the
//! cluster's *representative* (its first document), never through a chain of
//! weak links: A ~ B and B ~ C do not put C with A unless C ~ A. A candidate
//! that is itself a member stands for its representative, so one band shared
//! with any member is enough to be compared with the representative. Cluster
//! ids are the representatives' document indexes, so they do not change from
//! run to run; which member is kept follows `--keep`, ties going to the earliest.

use crate::config::{Config, Keep, Measure, Method};
use crate::index::lsh::Banding;
use crate::index::{candidate_pairs_after, permuted};
use crate::jsonl::FieldValue;
use crate::prior::Prior;
use crate::shingle::intersection;
use crate::sketch::{minhash, simhash};

/// What the document level needs to know about one document.
#[derive(Clone, Debug, Default)]
pub struct DocSketch {
    /// Distinct shingle hashes, sorted.
    pub shingles: Vec<u64>,
    /// One candidate key per table (LSH band or SimHash table).
    pub keys: Vec<u64>,
}

/// How candidates are generated, resolved from the config.
#[derive(Clone, Debug)]
pub enum Candidates {
    /// MinHash with `slots` slots, banded.
    Minhash {
        /// Signature length.
        slots: usize,
        /// Bands × rows.
        banding: Banding,
        /// Densification walks for the run's seed.
        walks: minhash::Walks,
    },
    /// SimHash fingerprints within `hamming` bits, in permuted tables.
    Simhash {
        /// Largest Hamming distance.
        hamming: u32,
        /// Table masks.
        masks: Vec<u64>,
    },
}

/// The MinHash banding of a run: `--bands` x `--rows`, or the best banding
/// for `--threshold` (the one place it is worked out).
#[must_use]
pub fn banding(config: &Config) -> Banding {
    config.banding.map_or_else(
        || Banding::optimal(banding_threshold(config), config.num_perm),
        |(bands, rows)| Banding { bands, rows },
    )
}

impl Candidates {
    /// Resolves the method and its parameters.
    #[must_use]
    pub fn new(config: &Config) -> Candidates {
        match config.method {
            Method::Minhash => Candidates::Minhash {
                slots: config.num_perm,
                banding: banding(config),
                walks: minhash::Walks::new(config.num_perm, config.seed),
            },
            Method::Simhash => Candidates::Simhash {
                hamming: config.hamming,
                masks: permuted::table_masks(config.hamming),
            },
        }
    }

    /// Number of keys per document.
    #[must_use]
    pub fn tables(&self) -> usize {
        match self {
            Candidates::Minhash { banding, .. } => banding.bands,
            Candidates::Simhash { masks, .. } => masks.len(),
        }
    }

    /// Sketches a document from its shingle hashes in text order (repeats kept).
    #[must_use]
    pub fn sketch(&self, mut shingles: Vec<u64>, seed: u64) -> DocSketch {
        shingles.sort_unstable();
        // No room taken for a document without shingles (a flood of empty
        // records held 960 bytes each).
        let mut keys = Vec::with_capacity(if shingles.is_empty() {
            0
        } else {
            self.tables()
        });
        match self {
            Candidates::Minhash { .. } => {
                shingles.dedup();
                self.minhash_keys(shingles.iter().copied(), seed, &mut keys);
            }
            Candidates::Simhash { masks, .. } => {
                if !shingles.is_empty() {
                    let fingerprint = simhash::fingerprint(&shingles, seed);
                    permuted::keys(fingerprint, masks, &mut keys);
                }
                shingles.dedup();
            }
        }
        DocSketch { shingles, keys }
    }

    /// [`Candidates::sketch`] without the shingle set: only the keys. MinHash
    /// takes the shingles as they are made (a minimum ignores order and
    /// repeats): they are never collected, sorted or deduplicated.
    #[must_use]
    pub fn keys_only(&self, shingles: impl ExactSizeIterator<Item = u64>, seed: u64) -> DocSketch {
        let keys = match self {
            Candidates::Minhash { .. } => {
                let mut keys = Vec::with_capacity(if shingles.len() == 0 {
                    0
                } else {
                    self.tables()
                });
                self.minhash_keys(shingles, seed, &mut keys);
                keys
            }
            Candidates::Simhash { .. } => self.sketch(shingles.collect(), seed).keys,
        };
        DocSketch {
            shingles: Vec::new(),
            keys,
        }
    }

    /// The band keys of a MinHash signature of `shingles` (none for none).
    fn minhash_keys(
        &self,
        shingles: impl ExactSizeIterator<Item = u64>,
        seed: u64,
        keys: &mut Vec<u64>,
    ) {
        let Candidates::Minhash {
            slots,
            banding,
            walks,
        } = self
        else {
            return;
        };
        if shingles.len() > 0 {
            let signature = if walks.seed() == seed {
                minhash::signature_of(shingles, walks)
            } else {
                minhash::signature_of(shingles, &minhash::Walks::new(*slots, seed))
            };
            banding.keys(&signature, seed, keys);
        }
    }
}

/// Smallest size ratio of two documents for which containment verification is
/// promised candidates: a copy cut to half its source is still found.
pub const CONTAINMENT_MIN_RATIO: f64 = 0.5;

/// The Jaccard similarity the LSH banding is tuned for. With Jaccard it is the
/// threshold itself. With containment `c` between documents whose sizes have
/// ratio `ρ`, the Jaccard can be as low as `cρ / (1 + ρ - cρ)`: a copy cut to
/// half of its source with c = 0.8 has J = 0.36, which a banding tuned for
/// J = 0.8 finds 1% of the time.
#[must_use]
pub fn banding_threshold(config: &Config) -> f64 {
    match config.measure {
        Measure::Jaccard => config.threshold,
        Measure::Containment => {
            let (c, r) = (config.threshold, CONTAINMENT_MIN_RATIO);
            c * r / (1.0 + r - c * r)
        }
    }
}

/// Similarity of a document's sorted shingle set `a` to a representative's
/// `b` under `measure`. Containment is directional: the share of `a`'s own
/// shingles found in `b`, so a document that holds a shorter one is not its
/// copy (it adds what the shorter one lacks).
#[must_use]
pub fn similarity(a: &[u64], b: &[u64], measure: Measure) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = intersection(a, b) as f64;
    match measure {
        Measure::Jaccard => common / (a.len() as f64 + b.len() as f64 - common),
        Measure::Containment => common / a.len() as f64,
    }
}

/// Under containment, the least share of a document's own shingles (not
/// discounted) that must be in its representative for it to be a copy: a
/// document most of whose text the kept one lacks is never dropped.
pub const MIN_OWN_SHARE: f64 = 0.6;

/// Containment of `a` in `b` with boilerplate discounted: a shingle of `a`
/// that is also in `others` (the other representatives `a` was compared
/// with: documents that are not copies of `b`) is text shared across unrelated
/// documents, and weighs `1 / (1 + n)³` where `n` is how many of them hold it.
/// A footer or license that several earlier documents carry thus counts for
/// little on both sides of the fraction, so two documents that share only it
/// are not near duplicates, while a story copied with other boilerplate still
/// is. With no `others` it is [`similarity`] under containment.
#[must_use]
pub fn discounted_containment(a: &[u64], b: &[u64], others: &[&[u64]]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if others.is_empty() {
        return similarity(a, b, Measure::Containment);
    }
    // Cursors into each sorted set: `a` is walked once in order.
    let mut in_b = 0;
    let mut at: Vec<usize> = vec![0; others.len()];
    let (mut common, mut total) = (0.0, 0.0);
    for &s in a {
        let mut n = 0u32;
        for (o, i) in others.iter().zip(at.iter_mut()) {
            while *i < o.len() && o[*i] < s {
                *i += 1;
            }
            n += u32::from(*i < o.len() && o[*i] == s);
        }
        while in_b < b.len() && b[in_b] < s {
            in_b += 1;
        }
        let weight = 1.0 / f64::from((1 + n) * (1 + n) * (1 + n));
        total += weight;
        if in_b < b.len() && b[in_b] == s {
            common += weight;
        }
    }
    common / total
}

/// How many of `sets` hold each shingle of `a` (all sorted).
fn held_counts(a: &[u64], sets: &[&[u64]]) -> Vec<u32> {
    let mut held = vec![0u32; a.len()];
    for set in sets {
        let mut i = 0;
        for (&s, n) in a.iter().zip(held.iter_mut()) {
            while i < set.len() && set[i] < s {
                i += 1;
            }
            *n += u32::from(i < set.len() && set[i] == s);
        }
    }
    held
}

/// [`discounted_containment`] of `a` in `b` against the other sets of a
/// list that `b` is one of, from `held` ([`held_counts`] of `a` in the whole
/// list): a shingle's `n` is its count less `b`'s own. The same value, in
/// time linear in the sets rather than in their number times it.
fn discounted_within(a: &[u64], b: &[u64], held: &[u32]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut in_b = 0;
    let (mut common, mut total) = (0.0, 0.0);
    for (&s, &h) in a.iter().zip(held) {
        while in_b < b.len() && b[in_b] < s {
            in_b += 1;
        }
        let here = in_b < b.len() && b[in_b] == s;
        let n = h - u32::from(here);
        let weight = 1.0 / f64::from((1 + n) * (1 + n) * (1 + n));
        total += weight;
        if here {
            common += weight;
        }
    }
    common / total
}

/// A cluster of two or more near-duplicate documents. With an index, document
/// ids are global: the index's documents come first.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// The representative: the cluster's first document, and its id.
    pub representative: usize,
    /// Every member (the representative included) with its similarity to the
    /// representative, in input order.
    pub members: Vec<(usize, f64)>,
    /// The member that is kept.
    pub kept: usize,
}

/// The document level's answer.
#[derive(Clone, Debug, Default)]
pub struct DocLevel {
    /// Clusters of two or more, ordered by representative.
    pub clusters: Vec<Cluster>,
    /// Per document: `Some(cluster index)` when it is in a cluster.
    pub cluster_of: Vec<Option<usize>>,
    /// Per document: dropped as a near duplicate of the kept member.
    pub dropped: Vec<bool>,
    /// Per document: the representative it was verified against (a global
    /// document id), `None` for representatives and unclustered documents.
    pub rep_of: Vec<Option<usize>>,
    /// Candidate pairs the sketches proposed.
    pub candidate_pairs: usize,
    /// Pairs compared on their real shingle sets.
    pub verified_pairs: usize,
}

/// Clusters documents. `sizes` and `keep_values` feed the keep policy.
#[must_use]
pub fn cluster(
    sketches: &[DocSketch],
    candidates: &Candidates,
    config: &Config,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
) -> DocLevel {
    cluster_after(sketches, candidates, config, sizes, keep_values, None)
}

/// [`cluster`] after the documents of an index, which come first: document
/// ids in clusters are then global (the index's documents, then these), while
/// `cluster_of` and `dropped` are indexed by this run's documents. A cluster
/// whose representative is in the index keeps it: it was kept by an earlier run.
#[must_use]
pub fn cluster_after(
    sketches: &[DocSketch],
    candidates: &Candidates,
    config: &Config,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
    history: Option<&dyn Prior>,
) -> DocLevel {
    let base = history.map_or(0, Prior::documents);
    let tables = candidates.tables();
    let keys: Vec<&[u64]> = sketches.iter().map(|s| s.keys.as_slice()).collect();
    let pairs = candidate_pairs_after(&keys, tables, base, history);
    cluster_pairs(pairs, sketches, config, sizes, keep_values, history)
}

/// [`cluster_after`] from its candidate pairs (`candidate_pairs_after` of the
/// sketches' keys): only the shingle sets of documents in them are read.
#[must_use]
pub fn cluster_pairs(
    mut pairs: Vec<(u32, u32)>,
    sketches: &[DocSketch],
    config: &Config,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
    history: Option<&dyn Prior>,
) -> DocLevel {
    let n = sketches.len();
    let base = history.map_or(0, Prior::documents);
    let candidate_count = pairs.len();
    // Group by the later document.
    pairs.sort_unstable_by_key(|&(a, b)| (b, a));
    let mut rep_of: Vec<Option<(usize, f64)>> = vec![None; n];
    let mut verified = 0;
    let mut reps = Vec::new();
    for group in pairs.chunk_by(|x, y| x.1 == y.1) {
        let d = group[0].1 as usize - base;
        reps.clear();
        reps.extend(group.iter().map(|&(c, _)| {
            let c = c as usize;
            match history {
                Some(h) if c < base => h.doc(c).rep as usize,
                _ => rep_of[c - base].map_or(c, |(r, _)| r),
            }
        }));
        reps.sort_unstable();
        reps.dedup();
        let stored: Vec<Vec<u64>> = reps
            .iter()
            .map(|&r| match history {
                Some(h) if r < base => h.doc_shingles(r),
                _ => Vec::new(),
            })
            .collect();
        let sets: Vec<&[u64]> = reps
            .iter()
            .zip(&stored)
            .map(|(&r, stored)| {
                if r < base {
                    stored.as_slice()
                } else {
                    sketches[r - base].shingles.as_slice()
                }
            })
            .collect();
        verified += reps.len();
        let mut best = best_representative(&sketches[d].shingles, &reps, &sets, config);
        if best.is_none() && config.keep == Keep::Longest {
            best = held_representative(&sketches[d].shingles, &reps, &sets, base, config);
        }
        rep_of[d] = best;
    }
    if config.keep == Keep::Longest && config.measure == Measure::Containment {
        unjoin_unheld(&mut rep_of, sketches, sizes, base, config);
    }
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut cluster_of = vec![None; n];
    let mut index_of_rep = std::collections::HashMap::new();
    for d in 0..n {
        if let Some((r, sim)) = rep_of[d] {
            let index = *index_of_rep.entry(r).or_insert_with(|| {
                clusters.push(Cluster {
                    representative: r,
                    members: vec![(r, 1.0)],
                    kept: r,
                });
                clusters.len() - 1
            });
            clusters[index].members.push((d + base, sim));
            if r >= base {
                cluster_of[r - base] = Some(index);
            }
            cluster_of[d] = Some(index);
        }
    }
    let mut dropped = vec![false; n];
    for c in &mut clusters {
        if c.representative >= base {
            let local: Vec<(usize, f64)> = c.members.iter().map(|&(m, s)| (m - base, s)).collect();
            c.kept = if config.keep == Keep::Longest && config.measure == Measure::Containment {
                let members: Vec<usize> = local.iter().map(|&(m, _)| m).collect();
                longest_holding_all(&members, sizes, sketches, config).unwrap_or(members[0])
            } else {
                choose(&local, &config.keep, sizes, keep_values)
            } + base;
        }
        for &(m, _) in &c.members {
            if m >= base {
                dropped[m - base] = m != c.kept;
            }
        }
    }
    DocLevel {
        clusters,
        cluster_of,
        dropped,
        rep_of: rep_of.iter().map(|r| r.map(|(r, _)| r)).collect(),
        candidate_pairs: candidate_count,
        verified_pairs: verified,
    }
}

/// The representative among `reps` (with shingle sets `sets`) that a document
/// with shingle set `ours` is most similar to, if it passes the threshold;
/// ties go to the earliest. Under containment each representative is
/// compared with the others standing for the boilerplate.
fn best_representative(
    ours: &[u64],
    reps: &[usize],
    sets: &[&[u64]],
    config: &Config,
) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    // How many of `sets` hold each of our shingles, counted once for all
    // representatives (not once each against all the others: a flood of
    // records a word apart has a hundred representatives a document).
    let mut held: Vec<u32> = Vec::new();
    for (i, &r) in reps.iter().enumerate() {
        let sim = match config.measure {
            Measure::Jaccard => similarity(ours, sets[i], Measure::Jaccard),
            Measure::Containment => {
                // Never a copy when most of its own text is not in the
                // representative, however little that text weighs.
                let own = similarity(ours, sets[i], Measure::Containment);
                if own < own_share(config) {
                    0.0
                } else if sets.len() == 1 {
                    discounted_containment(ours, sets[i], &[])
                } else {
                    if held.is_empty() {
                        held = held_counts(ours, sets);
                    }
                    discounted_within(ours, sets[i], &held)
                }
            }
        };
        if sim >= config.threshold && best.is_none_or(|(_, s)| sim > s) {
            best = Some((r, sim));
        }
    }
    best
}

/// Under `--keep longest` (containment), a document that passes no
/// representative may still *hold* one: at least `--threshold` of the
/// representative's own shingles (discounted and plain alike, as
/// [`best_representative`] weighs a document's) are in it. It then joins that
/// cluster, so that it can be kept in its place. Representatives from an
/// index are left out: an earlier run kept them, and the document would be
/// dropped for a shorter one.
fn held_representative(
    ours: &[u64],
    reps: &[usize],
    sets: &[&[u64]],
    base: usize,
    config: &Config,
) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &r) in reps.iter().enumerate() {
        if r < base || similarity(sets[i], ours, Measure::Containment) < own_share(config) {
            continue;
        }
        // The other representatives stand for the boilerplate.
        let mut others: Vec<&[u64]> = sets[..i].to_vec();
        others.extend_from_slice(&sets[i + 1..]);
        let sim = discounted_containment(sets[i], ours, &others);
        if sim >= config.threshold && best.is_none_or(|(_, s)| sim > s) {
            best = Some((r, sim));
        }
    }
    best
}

/// The plain share of a document's own shingles that must be in the kept
/// one for it to be dropped (see [`MIN_OWN_SHARE`]).
fn own_share(config: &Config) -> f64 {
    MIN_OWN_SHARE.min(config.threshold)
}

/// `--keep longest` under containment: the longest member (ties: the
/// earliest) that holds [`own_share`] of every other member's own shingles,
/// so that no member is dropped for a kept one that lacks most of its text.
/// At most [`LONGEST_TRIED`] are tried.
fn longest_holding_all(
    members: &[usize],
    sizes: &[usize],
    sketches: &[DocSketch],
    config: &Config,
) -> Option<usize> {
    let mut by_size = members.to_vec();
    by_size.sort_by_key(|&m| (std::cmp::Reverse(sizes[m]), m));
    by_size.into_iter().take(LONGEST_TRIED).find(|&k| {
        members
            .iter()
            .all(|&m| m == k || holds(&sketches[k], &sketches[m], config))
    })
}

/// Whether `kept` holds [`own_share`] of `member`'s own shingles.
fn holds(kept: &DocSketch, member: &DocSketch, config: &Config) -> bool {
    similarity(&member.shingles, &kept.shingles, Measure::Containment) >= own_share(config)
}

/// Before `--keep longest` chooses (containment): in a cluster where no
/// member holds every other, the representative is kept, and the members
/// that joined it by holding it ([`held_representative`]) but are not held
/// by it leave the cluster, kept, rather than be dropped for it.
fn unjoin_unheld(
    rep_of: &mut [Option<(usize, f64)>],
    sketches: &[DocSketch],
    sizes: &[usize],
    base: usize,
    config: &Config,
) {
    let mut members_of: std::collections::BTreeMap<usize, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (d, rep) in rep_of.iter().enumerate() {
        if let Some((r, _)) = *rep {
            if r >= base {
                members_of
                    .entry(r - base)
                    .or_insert_with(|| vec![r - base])
                    .push(d);
            }
        }
    }
    for (r, members) in members_of {
        if longest_holding_all(&members, sizes, sketches, config).is_none() {
            for &m in &members[1..] {
                if !holds(&sketches[r], &sketches[m], config) {
                    rep_of[m] = None;
                }
            }
        }
    }
}

/// Longest members `--keep longest` tries under containment.
const LONGEST_TRIED: usize = 8;

/// The member a keep policy keeps; ties go to the earliest.
fn choose(
    members: &[(usize, f64)],
    keep: &Keep,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
) -> usize {
    let mut best = members[0].0;
    for &(m, _) in &members[1..] {
        let better = match keep {
            Keep::First => false,
            Keep::Longest => sizes[m] > sizes[best],
            Keep::Newest(_) | Keep::Max(_) => {
                let (a, b) = (&keep_values[m], &keep_values[best]);
                a.as_ref()
                    .zip(b.as_ref())
                    .is_some_and(|(a, b)| a.partial_cmp(b) == Some(std::cmp::Ordering::Greater))
            }
        };
        if better {
            best = m;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str, candidates: &Candidates, config: &Config) -> DocSketch {
        let words: Vec<&str> = text.split(' ').collect();
        let hashes: Vec<u64> = words
            .windows(config.doc_shingle.min(words.len()))
            .map(|w| xxhash_rust::xxh3::xxh3_64(w.join(" ").as_bytes()))
            .collect();
        candidates.sketch(hashes, config.seed)
    }

    fn text(seed: usize, len: usize) -> String {
        (0..len)
            .map(|i| format!("w{}", (i * 7919 + seed * 104_729) % 10_007))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn verified_clusters_without_chains() {
        let config = Config::default();
        let cands = Candidates::new(&config);
        let base = text(1, 300);
        let mut near = base.clone();
        near.push_str(" extra words at the very end");
        let other = text(2, 300);
        let docs: Vec<DocSketch> = [base.as_str(), other.as_str(), near.as_str(), base.as_str()]
            .iter()
            .map(|t| doc(t, &cands, &config))
            .collect();
        let sizes = vec![300; 4];
        let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None, None]);
        assert_eq!(level.clusters.len(), 1);
        let c = &level.clusters[0];
        assert_eq!(c.representative, 0);
        assert_eq!(c.members.iter().map(|m| m.0).collect::<Vec<_>>(), [0, 2, 3]);
        assert_eq!(level.dropped, [false, false, true, true]);
    }

    #[test]
    fn keep_policies_pick_their_member() {
        let members = [(0, 1.0), (3, 0.9), (5, 0.95)];
        let sizes = [10, 0, 0, 30, 0, 30];
        assert_eq!(choose(&members, &Keep::First, &sizes, &[]), 0);
        assert_eq!(choose(&members, &Keep::Longest, &sizes, &[]), 3);
        let values: Vec<Option<FieldValue>> = [1.0, 0.0, 0.0, 5.0, 0.0, 7.0]
            .iter()
            .map(|&v| Some(FieldValue::Number(v)))
            .collect();
        assert_eq!(choose(&members, &Keep::Max("n".into()), &sizes, &values), 5);
    }

    #[test]
    fn measures() {
        let a = [1, 2, 3, 4];
        let b = [3, 4, 5, 6, 7, 8, 9, 10];
        assert!((similarity(&a, &b, Measure::Jaccard) - 0.2).abs() < 1e-12);
        // Directional: half of `a` is in `b`, a quarter of `b` in `a`.
        assert!((similarity(&a, &b, Measure::Containment) - 0.5).abs() < 1e-12);
        assert!((similarity(&b, &a, Measure::Containment) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn boilerplate_held_by_other_documents_weighs_little() {
        // `d`: 2 shingles of its own (1, 2) and 8 of a footer (10..18) that the
        // representative `r` and two other representatives also carry.
        let d: Vec<u64> = [1, 2].into_iter().chain(10..18).collect();
        let r: Vec<u64> = (10..18).chain(100..140).collect();
        let o1: Vec<u64> = (10..18).chain(200..240).collect();
        let o2: Vec<u64> = (10..18).chain(300..340).collect();
        assert!((similarity(&d, &r, Measure::Containment) - 0.8).abs() < 1e-12);
        let alone = discounted_containment(&d, &r, &[]);
        assert!((alone - 0.8).abs() < 1e-12);
        // Each footer shingle weighs 1/27: 8/27 against 2 + 8/27.
        let shared = discounted_containment(&d, &r, &[&o1, &o2]);
        assert!(
            (shared - (8.0 / 27.0) / (2.0 + 8.0 / 27.0)).abs() < 1e-12,
            "{shared}"
        );
        // The story copied with another footer, which `o1` carries: plainly
        // 40 of 48 (0.83), discounted 40 of 40 + 8/8.
        let copy: Vec<u64> = (100..140).chain(200..208).collect();
        assert!((similarity(&copy, &r, Measure::Containment) - 40.0 / 48.0).abs() < 1e-12);
        let discounted = discounted_containment(&copy, &r, &[&o1, &o2]);
        assert!((discounted - 40.0 / 41.0).abs() < 1e-12, "{discounted}");
    }

    #[test]
    fn counting_holders_once_gives_each_discounted_containment_exactly() {
        // Sets overlapping in every way, duplicates among them included: the
        // counted form must equal the pairwise one bit for bit (the same
        // weights, summed in the same order), or clusters would change.
        let sets: Vec<Vec<u64>> = (0..12u64)
            .map(|k| {
                (0..60u64)
                    .filter(|x| (x * 7 + k * 3) % (k % 5 + 2) != 0)
                    .collect()
            })
            .chain([(0..60).collect(), (0..60).collect()])
            .collect();
        let refs: Vec<&[u64]> = sets.iter().map(Vec::as_slice).collect();
        for ours in &refs {
            let held = held_counts(ours, &refs);
            for i in 0..refs.len() {
                let others: Vec<&[u64]> = (0..refs.len())
                    .filter(|&j| j != i)
                    .map(|j| refs[j])
                    .collect();
                let pairwise = discounted_containment(ours, refs[i], &others);
                let counted = discounted_within(ours, refs[i], &held);
                assert_eq!(pairwise.to_bits(), counted.to_bits(), "set {i}");
            }
        }
    }

    #[test]
    fn keep_longest_keeps_a_later_document_that_holds_the_first() {
        let config = Config {
            keep: Keep::Longest,
            ..Config::default()
        };
        let cands = Candidates::new(&config);
        let sketch_all = |texts: [&str; 3]| -> Vec<DocSketch> {
            texts.iter().map(|t| doc(t, &cands, &config)).collect()
        };
        let short = text(1, 100);
        let long = format!("{short} {}", text(2, 200));
        let docs = sketch_all([&short, &text(3, 200), &long]);
        let sizes = [100, 200, 300];
        let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None]);
        // The long one holds the short one whole: it is kept in its place.
        assert_eq!(level.clusters.len(), 1);
        assert_eq!(level.clusters[0].kept, 2);
        assert_eq!(level.dropped, [true, false, false]);
        // Under --keep first nothing is dropped: the long one adds text.
        let first = Config::default();
        let level = cluster(&docs, &cands, &first, &sizes, &[None, None, None]);
        assert_eq!(level.dropped, [false, false, false]);
        // A member is never dropped for a longest one that lacks most of its
        // text: `a` and `b` each hold 60% of the first, little of each other.
        let r = text(4, 100);
        let r_words: Vec<&str> = r.split(' ').collect();
        let a = format!("{} {}", r_words[..60].join(" "), text(5, 30));
        let b = format!("{} {}", r_words[40..].join(" "), text(6, 60));
        let docs = sketch_all([&r, &a, &b]);
        let sizes = [100, 90, 120];
        let level = cluster(&docs, &cands, &config, &sizes, &[None, None, None]);
        // `b` holds the first but the first lacks most of `b`: it leaves
        // the cluster and is kept; `a` goes, held by the first.
        assert_eq!(level.clusters.len(), 1);
        assert_eq!(level.clusters[0].kept, 0);
        assert_eq!(level.dropped, [false, true, false]);
    }

    #[test]
    fn a_longer_document_is_never_dropped_for_holding_a_shorter_one() {
        let config = Config::default();
        let cands = Candidates::new(&config);
        let short = text(1, 100);
        let long = format!("{short} {}", text(2, 300));
        let docs: Vec<DocSketch> = [short.as_str(), long.as_str(), short.as_str()]
            .iter()
            .map(|t| doc(t, &cands, &config))
            .collect();
        let level = cluster(
            &docs,
            &cands,
            &config,
            &[100, 400, 100],
            &[None, None, None],
        );
        // The long one adds text: kept. The second short copy adds nothing.
        assert_eq!(level.dropped, [false, false, true]);
    }
}
