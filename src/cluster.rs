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

mod after;
mod copies;
pub(crate) mod few;
mod isolated;
mod keep;
pub(crate) mod lonely;
mod places;
mod quotes;
mod recent;
mod verdicts;

use crate::config::{Config, Measure, Method};
use crate::index::lsh::Banding;
use crate::index::permuted;
use crate::jsonl::FieldValue;
use crate::prior::Prior;
use crate::sketch::{minhash, simhash};
pub use after::{cluster_after, RunDocs};
pub(crate) use copies::Copies;
use keep::{choose, holding_all, holding_policy, unjoin_unheld};
pub use keep::{decide_fullest, AcrossChunks};
use places::{
    framed, holds_beginning, in_head, only_its_end_or_framed, only_the_end, scattered_pieces,
};
pub use places::{positioned_set, MARK};
use quotes::Holding;
pub use quotes::Quotes;

/// What the document level needs to know about one document.
#[derive(Clone, Debug, Default)]
pub struct DocSketch {
    /// Distinct shingle hashes, sorted, each marked in its low bits with
    /// where it first occurs ([`positioned_set`]).
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
        /// Whether [`HEAD_BANDS`] more keys are made from the document's
        /// beginning (under containment, [`HEAD_SHINGLES`]), and one from its
        /// end (its tail key, [`TAIL_SHINGLES`]).
        head: bool,
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
                head: config.measure == Measure::Containment,
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
            Candidates::Minhash { banding, head, .. } => {
                banding.bands + if *head { HEAD_BANDS + 1 } else { 0 }
            }
            Candidates::Simhash { masks, .. } => masks.len(),
        }
    }

    /// Sketches a document from its shingle hashes in text order (repeats kept).
    #[must_use]
    pub fn sketch(&self, shingles: Vec<u64>, seed: u64) -> DocSketch {
        // No room taken for a document without shingles (a flood of empty
        // records held 960 bytes each).
        let room = if shingles.is_empty() {
            0
        } else {
            self.tables()
        };
        let mut keys = Vec::with_capacity(room);
        if let Candidates::Simhash { masks, .. } = self {
            if !shingles.is_empty() {
                let mut unmarked: Vec<u64> = shingles.iter().map(|&s| s & !MARK).collect();
                unmarked.sort_unstable();
                let fingerprint = simhash::fingerprint(&unmarked, seed);
                permuted::keys(fingerprint, masks, &mut keys);
            }
        }
        let start: Vec<u64> = shingles.iter().take(HEAD_SHINGLES).copied().collect();
        let end: Vec<u64> = shingles[shingles.len().saturating_sub(TAIL_SHINGLES)..].to_vec();
        let set = positioned_set(shingles);
        if let Candidates::Minhash { .. } = self {
            self.minhash_keys(set.iter().map(|&s| s & !MARK), seed, &mut keys);
            self.head_keys(&start, seed, &mut keys);
            self.tail_key(end, seed, &mut keys);
        }
        DocSketch {
            shingles: set,
            keys,
        }
    }

    /// [`Candidates::sketch`] of a document of one shingle under MinHash,
    /// with its first table's key only: every slot of its signature holds
    /// that shingle's hash, so its key in every table holds the same
    /// documents (its copies; see [`crate::index::candidate_pairs_after`]).
    /// The signature and the other keys are not made.
    #[must_use]
    pub fn sketch_single(&self, shingle: u64, seed: u64) -> DocSketch {
        let Candidates::Minhash { banding, .. } = self else {
            return self.sketch(vec![shingle], seed);
        };
        // The signature's value in every slot (see `minhash::signature_of`).
        let value = crate::sketch::mix((shingle & !MARK) ^ seed);
        let mut keys = Vec::with_capacity(1);
        Banding {
            bands: 1,
            rows: banding.rows,
        }
        .keys(&vec![value; banding.rows], seed, &mut keys);
        DocSketch {
            shingles: positioned_set(vec![shingle]),
            keys,
        }
    }

    /// [`Candidates::sketch`] without the shingle set: only the keys. MinHash
    /// takes the shingles as they are made (a minimum ignores order and
    /// repeats): they are never collected, sorted or deduplicated.
    #[must_use]
    pub fn keys_only(
        &self,
        shingles: impl ExactSizeIterator<Item = u64> + Clone,
        seed: u64,
    ) -> DocSketch {
        let keys = match self {
            Candidates::Minhash { head, .. } => {
                let room = if shingles.len() == 0 {
                    0
                } else {
                    self.tables()
                };
                let mut keys = Vec::with_capacity(room);
                // The first and last shingles made again for the head and
                // tail keys, rather than kept as they go by: a test on every
                // shingle of the signature's loop cost more than making 16
                // twice.
                let (start, end): (Vec<u64>, Vec<u64>) = if *head {
                    let skip = shingles.len().saturating_sub(TAIL_SHINGLES);
                    (
                        shingles.clone().take(HEAD_SHINGLES).collect(),
                        shingles.clone().skip(skip).collect(),
                    )
                } else {
                    (Vec::new(), Vec::new())
                };
                self.minhash_keys(shingles.map(|s| s & !MARK), seed, &mut keys);
                self.head_keys(&start, seed, &mut keys);
                self.tail_key(end, seed, &mut keys);
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
            ..
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

    /// The [`HEAD_BANDS`] keys of a document's beginning, `start` (its first
    /// [`HEAD_SHINGLES`] shingles in text order), after its band keys: a
    /// MinHash of `start` of [`HEAD_BANDS`] × [`HEAD_ROWS`] slots (one seeded
    /// mix per slot and shingle), banded. A copy cut to a small part of its
    /// source shares few of its shingles (Jaccard 0.06 for a headline and
    /// lede kept of a long story, which the bands tuned for half the source
    /// miss) but holds its beginning, so these keys meet.
    fn head_keys(&self, start: &[u64], seed: u64, keys: &mut Vec<u64>) {
        if !matches!(self, Candidates::Minhash { head: true, .. }) || start.is_empty() {
            return;
        }
        let mut salts = [0u64; HEAD_BANDS * HEAD_ROWS];
        for (slot, salt) in salts.iter_mut().enumerate() {
            *salt = crate::sketch::mix(seed ^ HEAD_SALT.wrapping_mul(slot as u64 + 1));
        }
        // A shingle at a time over all the slots (a loop of known length),
        // the same minimum in each slot as a slot at a time.
        let mut signature = [u64::MAX; HEAD_BANDS * HEAD_ROWS];
        for &s in start {
            let s = s & !MARK;
            for (min, &salt) in signature.iter_mut().zip(&salts) {
                *min = (*min).min(crate::sketch::mix(s ^ salt));
            }
        }
        let banding = Banding {
            bands: HEAD_BANDS,
            rows: HEAD_ROWS,
        };
        banding.keys(&signature, seed ^ HEAD_SALT, keys);
    }

    /// The tail key of a document's end, `end` (its last [`TAIL_SHINGLES`]
    /// shingles in text order), after its head keys: one key of those
    /// shingles' distinct hashes, whatever their order. Documents whose last
    /// 20 words or so are the same share it: copies that keep their source's
    /// end, and documents that end with the same footer or license. The
    /// second are what it is for: they become candidates of one another, so
    /// that a footer is known as boilerplate from the second document that
    /// carries it on, wherever their stories differ too much for the band
    /// keys to meet (a note that is a headline and a license is compared with
    /// the stories that carry the license, not only with an earlier note that
    /// is the same license). A document of at most [`TAIL_SHINGLES`]
    /// shingles has the key of its set, as a stored one's is made.
    fn tail_key(&self, mut end: Vec<u64>, seed: u64, keys: &mut Vec<u64>) {
        if !matches!(self, Candidates::Minhash { head: true, .. }) || end.is_empty() {
            return;
        }
        for s in &mut end {
            *s &= !MARK;
        }
        end.sort_unstable();
        end.dedup();
        // One band of them all, keyed as every band is.
        let rows = end.len();
        Banding { bands: 1, rows }.keys(&end, seed ^ TAIL_SALT, keys);
    }
}

/// Shingles of a document's end that its tail key is made of (under
/// containment, after its head keys): about its last 20 words.
pub const TAIL_SHINGLES: usize = 16;
/// Salt of the tail key (apart from the band and head keys').
const TAIL_SALT: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// Shingles of a document's beginning that its head keys are made of
/// (under containment, after its band keys): about a headline and the first
/// sentence, 20 words. A copy cut to a small part of its source shares few of
/// its shingles but holds its beginning.
pub const HEAD_SHINGLES: usize = 16;
/// Bands of the head keys, and rows in each: a beginning that shares 68% of
/// its shingles with another (a new three-word dateline before 13 of 16) is a
/// candidate 99% of the time, one sharing 30% (a shared header line) 53%, and
/// 10% 8%.
pub const HEAD_BANDS: usize = 8;
/// See [`HEAD_BANDS`].
pub const HEAD_ROWS: usize = 2;
/// Salt of the head keys' slots and bands (apart from the band keys').
const HEAD_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

/// Shingles common to two positioned sets ([`positioned_set`]), and how many
/// of them are in `b`'s head.
fn common(a: &[u64], b: &[u64]) -> (usize, usize) {
    let mut walk = Walk::default();
    while walk.i < a.len() && walk.j < b.len() {
        walk.step(a, b);
    }
    (walk.count, walk.in_head)
}

/// Where a walk of two positioned sets is, and what it has found.
#[derive(Default)]
struct Walk {
    i: usize,
    j: usize,
    count: usize,
    in_head: usize,
}

impl Walk {
    /// One step, past the smaller hash or past both when they match (no
    /// branch on the comparison: it goes either way at random). Neither set
    /// may be at its end.
    #[inline]
    fn step(&mut self, a: &[u64], b: &[u64]) {
        let (ours, theirs) = (a[self.i] & !MARK, b[self.j] & !MARK);
        let same = ours == theirs;
        self.count += usize::from(same);
        self.in_head += usize::from(same && in_head(b[self.j]));
        self.i += usize::from(ours <= theirs);
        self.j += usize::from(ours >= theirs);
    }
}

/// [`common`] of `a` and `b` when they have `need` shingles in common or
/// more; `None` as soon as fewer are certain (what is left of either set
/// cannot make up the difference). Most candidate pairs fail the plain
/// share of containment by far, and their walk stops early.
fn common_at_least(a: &[u64], b: &[u64], need: usize) -> Option<(usize, usize)> {
    if a.len().min(b.len()) < need {
        return None;
    }
    // The walk of `common`, and a test (which fails once, at the end) of
    // whether the shingles left in either set can still make up `need`.
    // A step lowers `count` plus the shingles left in the shorter set by
    // one at most (a match leaves it as it was): from a test passed with
    // `slack` to spare, the next `slack` steps pass it too, and are taken
    // without it (it was a fifth of the verification's instructions).
    let mut walk = Walk::default();
    while walk.i < a.len() && walk.j < b.len() {
        let left = (a.len() - walk.i).min(b.len() - walk.j);
        if walk.count + left < need {
            return None;
        }
        // (At most `left` steps: neither set runs out before their end.)
        for _ in 0..(walk.count + left - need).clamp(1, left) {
            walk.step(a, b);
        }
    }
    (walk.count >= need).then_some((walk.count, walk.in_head))
}

/// The fewest of `n` shingles whose share, `k as f64 / n as f64`, is at
/// least `share` (`n + 1` when none is; 0 for a `share` that is not a
/// number, which nothing is compared below).
fn least_shared(n: usize, share: f64) -> usize {
    if share.is_nan() {
        return 0;
    }
    let passes = |k: usize| k as f64 / n as f64 >= share;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mut k = (share.clamp(0.0, 1.0) * n as f64) as usize;
    k = k.min(n);
    while k > 0 && passes(k - 1) {
        k -= 1;
    }
    while k <= n && !passes(k) {
        k += 1;
    }
    k
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
    let shared = common(a, b).0 as f64;
    match measure {
        Measure::Jaccard => shared / (a.len() as f64 + b.len() as f64 - shared),
        Measure::Containment => shared / a.len() as f64,
    }
}

/// Under containment, the least share of a document's own shingles (not
/// discounted) that must be in its representative for it to be a copy: a
/// document most of whose text the kept one lacks is never dropped.
pub const MIN_OWN_SHARE: f64 = 0.6;

/// Under containment, whether a representative of `rep_bytes` bytes of text
/// is less than half as long as a document of `doc_bytes`. It then stands
/// for the document only when it holds [`MIN_OWN_SHARE`] of the document's
/// own shingles, whatever the threshold (and a member is dropped for a kept
/// one chosen by `--keep fullest` or `longest` only on the same terms; the
/// field policies, `newest` and `max`, keep what the field says): a document more than twice the
/// kept one's length is its copy when its length is the kept text repeated
/// (a doubled body), not when it restates some of it and adds as much again
/// (a license's later version with a new grant).
#[must_use]
pub fn under_half(rep_bytes: usize, doc_bytes: usize) -> bool {
    rep_bytes.saturating_mul(2) < doc_bytes
}

/// Containment of `a` in `b` with boilerplate discounted: a shingle of `a`
/// that is also in `others` (the other representatives `a` was compared
/// with: documents that are not copies of `b`) is text shared across unrelated
/// documents, and weighs `1 / (1 + n)³` where `n` is how many of them hold it.
/// A footer or license that several earlier documents carry thus counts for
/// little on both sides of the fraction, so two documents that share only it
/// are not near duplicates, while a story copied with other boilerplate still
/// is. With no `others` it is [`similarity`] under containment. Each of the
/// sets is sorted and holds a hash once, as [`positioned_set`] makes them.
#[must_use]
pub fn discounted_containment(a: &[u64], b: &[u64], others: &[&[u64]]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if others.is_empty() {
        return similarity(a, b, Measure::Containment);
    }
    discounted_given(a, b, &holders(a, others), false)
}

/// Per shingle of the sorted set `a`: how many of the sorted `sets` hold it.
/// One walk of `a` per set, so comparing a document with R representatives
/// costs R walks, not R² (each compared with all the others).
fn holders(a: &[u64], sets: &[&[u64]]) -> Vec<u32> {
    let mut counts = vec![0u32; a.len()];
    for set in sets {
        // Past the smaller hash, or both when they match, without a branch
        // on the comparison (as `Walk::step`): the branch went either way at
        // random, and its misses were most of this walk's time.
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < set.len() {
            let (ours, theirs) = (a[i] & !MARK, set[j] & !MARK);
            counts[i] += u32::from(ours == theirs);
            i += usize::from(ours <= theirs);
            j += usize::from(ours >= theirs);
        }
    }
    counts
}

/// Every shingle of `sets`, marks cleared, sorted: a shingle as many times
/// as sets hold it.
fn every_shingle(sets: &[&[u64]]) -> Vec<u64> {
    let mut all: Vec<(u64, usize)> = sets
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.iter().map(move |&x| (x & !MARK, i)))
        .collect();
    all.sort_unstable();
    // (A set counts once, as in [`holders`].)
    all.dedup();
    all.into_iter().map(|(x, _)| x).collect()
}

/// Per shingle of `a`, one of the sets [`every_shingle`] made `all` from:
/// how many of the others hold it (as [`holders`] of the others counts).
fn others_holding(a: &[u64], all: &[u64]) -> Vec<u32> {
    a.iter()
        .map(|&s| {
            let s = s & !MARK;
            let from = all.partition_point(|&x| x < s);
            let n = all[from..].partition_point(|&x| x == s);
            u32::try_from(n.saturating_sub(1)).unwrap_or(u32::MAX)
        })
        .collect()
}

/// [`discounted_containment`] of `a` in `b` from `counts`, the holders of
/// each shingle of `a` ([`holders`]); with `b_counted`, `b` is among them and
/// is taken out of each count (the others are the rest). The sums run over
/// `a` in order with the same weights, so the value is the same to the bit.
fn discounted_given(a: &[u64], b: &[u64], counts: &[u32], b_counted: bool) -> f64 {
    let mut in_b = 0;
    let (mut common, mut total) = (0.0, 0.0);
    for (&s, &count) in a.iter().zip(counts) {
        let s = s & !MARK;
        while in_b < b.len() && b[in_b] & !MARK < s {
            in_b += 1;
        }
        let here = in_b < b.len() && b[in_b] & !MARK == s;
        let n = count - u32::from(b_counted && here);
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
    /// Per document: it joined its representative's cluster by holding it
    /// (`--keep fullest` and `longest`), so it may be kept in its place.
    pub held: Vec<bool>,
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
    let keys: Vec<&[u64]> = sketches.iter().map(|s| s.keys.as_slice()).collect();
    let pairs = crate::index::candidate_pairs(&keys, candidates.tables());
    cluster_pairs(pairs, sketches, config, sizes, keep_values, (None, None))
}

/// [`cluster_after`] from its candidate pairs (`candidate_pairs_after` of the
/// sketches' keys): only the shingle sets of documents in them are read.
/// In a run in chunks under `--keep fullest`, `across` says which documents
/// are an index's and, in its second pass, which member each cluster keeps.
#[must_use]
pub fn cluster_pairs(
    mut pairs: Vec<(u32, u32)>,
    sketches: &[DocSketch],
    config: &Config,
    sizes: &[usize],
    keep_values: &[Option<FieldValue>],
    (history, across): (Option<&dyn Prior>, Option<&AcrossChunks>),
) -> DocLevel {
    let n = sketches.len();
    let base = history.map_or(0, Prior::documents);
    let candidate_count = pairs.len();
    // Group by the later document.
    pairs.sort_unstable_by_key(|&(a, b)| (b, a));
    let holding = holding_policy(config);
    let inputs = verdicts::Inputs {
        sketches,
        sizes,
        config,
        holding,
        indexed: across.map_or(base, |a| a.indexed),
        quotes: Quotes::for_shingles(sketches.iter().map(|s| s.shingles.len()).sum()),
    };
    let (mut rep_of, held, verified) = verdicts::verdicts(&pairs, &inputs, history);
    // A run in chunks decides who leaves a cluster over the whole cluster,
    // in its first pass (`AcrossChunks::unjoined`), not over one chunk's
    // part of it; its documents keep the representatives the verdicts gave
    // them, which later chunks' verdicts read, as a whole run's do.
    if holding && across.is_none() {
        unjoin_unheld(&mut rep_of, &held, sketches, sizes, base, config);
    }
    let unjoined = |d: usize| across.is_some_and(|a| a.unjoined.contains(&(d + base)));
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut cluster_of = vec![None; n];
    let mut index_of_rep = std::collections::HashMap::new();
    for d in 0..n {
        if let Some((r, sim)) = rep_of[d].filter(|_| !unjoined(d)) {
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
    let decided = across.and_then(|a| a.kept.as_ref());
    for c in &mut clusters {
        if let Some(kept) = decided {
            c.kept = kept
                .get(&c.representative)
                .copied()
                .unwrap_or(c.representative);
        } else if c.representative >= base {
            let local: Vec<(usize, f64)> = c.members.iter().map(|&(m, s)| (m - base, s)).collect();
            c.kept = if holding {
                let members: Vec<usize> = local.iter().map(|&(m, _)| m).collect();
                holding_all(&members, &held, sizes, sketches, config).unwrap_or(members[0])
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
    // A representative whose kept member comes in a later chunk, with none
    // of its other members in this one.
    for (&r, _) in decided.into_iter().flat_map(|k| k.range(base..base + n)) {
        dropped[r - base] = true;
    }
    DocLevel {
        clusters,
        cluster_of,
        dropped,
        rep_of: rep_of.iter().map(|r| r.map(|(r, _)| r)).collect(),
        held,
        candidate_pairs: candidate_count,
        verified_pairs: verified,
    }
}

/// The representative among `reps` (with shingle sets `sets`) that a document
/// with shingle set `ours` is most similar to, if it passes the threshold;
/// ties go to the earliest. Under containment each representative is
/// compared with the others standing for the boilerplate, and one less than
/// half the document's length ([`under_half`]; `ours` is the document's set
/// and bytes of text, `lengths` the representatives') must hold
/// [`MIN_OWN_SHARE`] of the document's own shingles.
#[must_use]
pub fn best_representative(
    (ours, ours_bytes): (&[u64], usize),
    reps: &[usize],
    sets: &[&[u64]],
    lengths: &[usize],
    config: &Config,
    quotes: &Quotes,
) -> Option<(usize, f64)> {
    // (representative, similarity, how like ours it is as a whole)
    let mut best: Option<(usize, f64, f64)> = None;
    // How many representatives hold each of our shingles, counted once for
    // all of them (made when the first one passes the plain share).
    let mut counts: Option<Vec<u32>> = None;
    // Our shingles by place, counted once when a rule on places needs them.
    let mut ours_totals = None;
    // Shingles a representative must share with ours for the plain share.
    let need = least_shared(ours.len(), own_share(config));
    let need_of_short = least_shared(ours.len(), MIN_OWN_SHARE.max(own_share(config)));
    for (i, &r) in reps.iter().enumerate() {
        // The plain Jaccard of the two sets, under containment.
        let mut like = None;
        let sim = match config.measure {
            Measure::Jaccard => similarity(ours, sets[i], Measure::Jaccard),
            Measure::Containment => {
                // Never a copy when most of its own text is not in the
                // representative, however little that text weighs.
                // (One walk of both sets for the three tests, which stops
                // once the plain share cannot be met, as most candidates'
                // cannot by far.)
                let need = if under_half(lengths[i], ours_bytes) {
                    need_of_short
                } else {
                    need
                };
                let found = places::shared_at_least(ours, sets[i], need);
                let shared = found.as_ref().map_or(0, |f| f.count);
                let whole = sets[i].len();
                like = Some(shared as f64 / (ours.len() + whole - shared).max(1) as f64);
                if found.as_ref().is_none_or(|f| {
                    only_the_end(f.in_head_of_b(), whole)
                        || scattered_pieces(f.in_head_of_b(), whole)
                        || only_its_end_or_framed((ours, &mut ours_totals), sets[i], f)
                }) {
                    0.0
                } else if sets.len() == 1 {
                    // (`similarity` under containment.)
                    if whole == 0 {
                        0.0
                    } else {
                        shared as f64 / ours.len() as f64
                    }
                } else {
                    // A representative that others quote (a long document
                    // quoting a short one, agreements holding a license) is
                    // not boilerplate for them: its text is its own. Quoting
                    // is holding 60% of its shingles when one other does,
                    // all of them when several do (several holding most of
                    // it, with text of its own they lack, share a footer).
                    // (One that holds more of ours than this one is the
                    // better match, and is compared as it was; more means
                    // more than a seam: the n - 1 shingles that cross the
                    // join of two texts, as where a doubled copy starts
                    // again and the quoting text goes on otherwise.)
                    let mut quoting = quoters((reps, sets), i, own_share(config), quotes);
                    if !quoting.is_empty() {
                        let seam = config.doc_shingle.saturating_sub(1);
                        let more = shared + seam + 1;
                        quoting.retain(|&j| common_at_least(ours, sets[j], more).is_none());
                    }
                    let counts = counts.get_or_insert_with(|| holders(ours, sets));
                    if quoting.is_empty() {
                        discounted_given(ours, sets[i], counts, true)
                    } else {
                        // The holders but the quoting ones: what they hold
                        // taken out of the count of all (one walk of ours a
                        // quoting set, not one a set that is not).
                        let quoting: Vec<&[u64]> = quoting.iter().map(|&j| sets[j]).collect();
                        let rest: Vec<u32> = counts
                            .iter()
                            .zip(holders(ours, &quoting))
                            .map(|(all, q)| all - q)
                            .collect();
                        discounted_given(ours, sets[i], &rest, true)
                    }
                }
            }
        };
        if sim < config.threshold {
            continue;
        }
        // Of the representatives it passes, a document joins the one most
        // like it as a whole, not the one that holds most of it: a longer
        // text that holds it and adds a clause of its own (a license's
        // variant: BSD-3-Clause holds BSD-2-Clause) stands for it only when
        // the text it is a copy of is not there too. Then the most similar,
        // then the earliest. (Under Jaccard the two orders are one.)
        let like = like.unwrap_or(sim);
        if best.is_none_or(|(_, s, l)| (like, sim) > (l, s)) {
            best = Some((r, sim, like));
        }
    }
    best.map(|(r, sim, _)| (r, sim))
}

/// The sets among `sets` that quote `sets[i]`: the one that holds `share` of
/// its shingles when it is the only one, else those that hold all of them.
/// (Asked of `quotes` first: two representatives' answer does not change.)
fn quoters(
    (reps, sets): (&[usize], &[&[u64]]),
    i: usize,
    share: f64,
    quotes: &Quotes,
) -> Vec<usize> {
    let need = least_shared(sets[i].len(), share);
    let holding: Vec<(usize, bool)> = (0..sets.len())
        .filter(|&j| j != i)
        .filter_map(|j| {
            let walk = || common_at_least(sets[i], sets[j], need).map(|(shared, _)| shared);
            match quotes.holding((reps[i], sets[i].len()), reps[j], walk) {
                Holding::Less => None,
                Holding::Enough => Some((j, false)),
                Holding::All => Some((j, true)),
            }
        })
        .collect();
    match holding.as_slice() {
        [(j, _)] => vec![*j],
        many => many.iter().filter(|q| q.1).map(|q| q.0).collect(),
    }
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
    let mut all: Option<Vec<u64>> = None;
    for (i, &r) in reps.iter().enumerate() {
        if r < base {
            continue;
        }
        // (One walk that stops once the plain share cannot be met, as most
        // candidates' cannot, for the plain share and where it falls.)
        let need = least_shared(sets[i].len(), own_share(config));
        let Some(found) = places::shared_at_least(sets[i], ours, need) else {
            continue;
        };
        if only_the_end(found.in_head_of_b(), ours.len())
            || !holds_beginning(sets[i], ours, &found)
            || framed(sets[i], ours, &found)
        {
            continue;
        }
        // The other representatives stand for the boilerplate: how many
        // hold each of its shingles, read from every set's shingles sorted
        // together (made once for the document, not a walk of every other
        // set for each representative it holds: quadratic in candidates).
        let sim = if sets.len() == 1 || sets[i].is_empty() || ours.is_empty() {
            discounted_containment(sets[i], ours, &[])
        } else {
            let all = all.get_or_insert_with(|| every_shingle(sets));
            discounted_given(sets[i], ours, &others_holding(sets[i], all), false)
        };
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

#[cfg(test)]
mod tests;
