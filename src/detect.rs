//! Which blocks repeat an earlier block, exactly or nearly.
//!
//! Blocks are visited once, in input order (document, then offset), and each is
//! compared only with *representatives*: earlier blocks that were not themselves
//! repeats. That is leader clustering in input order: a block joins the first copy
//! it resembles, never a chain of weak links, and the first copy of everything is
//! kept. Two look-ups answer "does this block repeat something?":
//!
//! 1. **Exact**: the xxh3-128 of the normalized word sequence, mapped to the
//!    representative it resolved to. This also catches copies with changed quotes,
//!    dashes, case or spacing, since those vanish in normalization.
//! 2. **Near** (blocks of at least `min_words` words): candidates come from an
//!    inverted index from shingle hash to the representatives holding it, and
//!    each candidate is verified by the exact containment |S(b) ∩ S(r)| / |S(b)|
//!    (Broder 1997) of the block's shingles in the representative's, computed by
//!    merging the two sorted shingle lists. The representative with the highest
//!    containment at or above the threshold wins (ties: the earliest).
//!
//!    Candidates use prefix filtering (Chaudhuri, Ganti and Kaushik 2006; Bayardo,
//!    Ma and Srikant 2007): a representative that holds at least
//!    `need = ceil(threshold * n)` of the block's `n` shingles must hold one of
//!    any `n - need + 1` of them, so only the postings of the `n - need + 1`
//!    rarest shingles are read. Common phrases ("the company said") are thus
//!    almost never walked, which keeps the cost per block near constant (a
//!    fixed order, such as by hash, was tried: it reads fewer postings but
//!    verifies far more candidates, 7x slower on Reuters-21578).
//!
//! Why containment and not Jaccard: a block quoted inside a longer paragraph, or a
//! paragraph cut short by a scraper, is fully contained in its source but has a low
//! Jaccard. Why an exact index and not `MinHash` for blocks: blocks are short (tens
//! of shingles), so an estimate from a sketch would be coarse exactly where the
//! decision is made, and the index holds one entry per distinct shingle of the
//! representatives, which is what must be remembered anyway. A posting list stops
//! growing at [`POSTING_CAP`] entries; since lists grow in input order, the
//! earliest copies are always found, and later ones stay findable through their
//! rarer shingles.

use crate::config::Config;
use crate::prior::{ExactRecord, Prior};
use crate::shingle::{intersection, Sketch};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The longest posting list of one shingle.
pub const POSTING_CAP: u32 = 64;

/// The key under which the detector's posting lists hold a shingle (two
/// shingles with one key share a list): blocks whose shingles share no key
/// never meet in the detector.
#[must_use]
pub fn posting_key(shingle: u64) -> u32 {
    PostingTable::key(shingle)
}

/// What the detector found for one block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Match {
    /// The block has no words to compare.
    Empty,
    /// Not examined: its document is a near duplicate handled at document level.
    Skipped,
    /// Not a repeat: the block is the first copy of its text.
    Unique,
    /// The block repeats an earlier one.
    Repeat {
        /// Global index of the first copy (a representative).
        source: usize,
        /// Containment of this block's shingles in the source's, 1.0 for exact.
        similarity: f64,
        /// Whether the normalized texts are identical.
        exact: bool,
    },
}

/// Hasher for keys that are already xxh3 hashes: passes their bits through.
#[derive(Default)]
pub struct HashedKey(u64);

impl Hasher for HashedKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        // Truncation keeps the low, well-mixed half of an xxh3-128 key.
        #[allow(clippy::cast_possible_truncation)]
        let low = n as u64;
        self.0 ^= low;
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<HashedKey>>;

/// The shingle index: an open-addressing table from a shingle's 32-bit
/// fingerprint to its posting list, 9 bytes a slot where a
/// `HashMap<u64, (u32, u32)>` takes 17. Two shingles whose fingerprints collide
/// (about one pair in 2^32) share a list; that only adds candidates, and every
/// candidate is verified on its real shingles, so answers stay exact.
///
/// A slot is (fingerprint, head) side by side, so a look-up costs one cache
/// miss: most shingles belong to one representative, which is the head itself;
/// a list of two or more is marked by [`LIST`] and its length is in `lens`.
#[derive(Default)]
struct PostingTable {
    /// (fingerprint, head); fingerprint 0 marks an empty slot. The head is
    /// [`NONE`] (no entry yet), a lone representative, or `LIST | arena index`.
    slots: Vec<(u32, u32)>,
    /// Lengths of lists of two or more.
    lens: Vec<u8>,
    /// Entries of the shingle's list in the index, before this run's (only
    /// with an index).
    prior: Vec<u8>,
    with_prior: bool,
    used: usize,
}

/// Marks a head that is an arena index.
const LIST: u32 = 1 << 31;
/// A slot without entries.
const NONE: u32 = u32::MAX;

impl PostingTable {
    fn key(shingle: u64) -> u32 {
        // The high half of an xxh3 value; 0 is taken by empty slots.
        #[allow(clippy::cast_possible_truncation)]
        let key = (shingle >> 32) as u32;
        key.max(1)
    }

    /// The slot where a fingerprint's probe starts. Any table size works, not
    /// only powers of two: the fingerprint scaled to it (Lemire's fast range).
    fn home(&self, key: u32) -> usize {
        #[allow(clippy::cast_possible_truncation)]
        let at = ((u64::from(key) * self.slots.len() as u64) >> 32) as usize;
        at
    }

    /// Reads the home slots of `shingles` without branching on them, so that
    /// their cache misses overlap instead of coming one after another (a
    /// prefetch without `unsafe`).
    fn touch(&self, shingles: &[u64]) {
        if self.slots.is_empty() {
            return;
        }
        let mut seen = 0u32;
        for &shingle in shingles {
            seen ^= self.slots[self.home(Self::key(shingle))].0;
        }
        std::hint::black_box(seen);
    }

    fn find(&self, key: u32) -> (usize, bool) {
        let n = self.slots.len();
        let mut at = self.home(key);
        loop {
            match self.slots[at].0 {
                0 => return (at, false),
                k if k == key => return (at, true),
                _ => {
                    at += 1;
                    if at == n {
                        at = 0;
                    }
                }
            }
        }
    }

    /// (the lone representative or the arena head, length) of slot `at`.
    fn list(&self, at: usize) -> (u32, u32) {
        match self.slots[at].1 {
            NONE => (NONE, 0),
            head if head & LIST != 0 => (head & !LIST, self.len_of_list(at)),
            rep => (rep, 1),
        }
    }

    /// The length of the list at slot `at`: out of line, so that `lens` (a
    /// cache miss of its own) is read only for lists, not for every look-up.
    #[inline(never)]
    fn len_of_list(&self, at: usize) -> u32 {
        u32::from(self.lens[at])
    }

    fn prior(&self, at: usize) -> u32 {
        self.prior.get(at).map_or(0, |&p| u32::from(p))
    }

    /// Room for `n` more shingles without growing.
    fn room_for(&mut self, n: usize) {
        while (self.used + n + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
    }

    /// The slot of a shingle, made empty (length 0) if it was not there, with
    /// `prior()` entries in the index. `hint` is where a look-up of it ended
    /// since the table last grew (its slot, or the empty slot the probe
    /// stopped at, unless another shingle took that one since).
    fn slot(&mut self, shingle: u64, hint: usize, prior: impl FnOnce() -> u8) -> usize {
        let key = Self::key(shingle);
        let (at, found) = match self.slots.get(hint).map(|s| s.0) {
            Some(k) if k == key => (hint, true),
            Some(0) => (hint, false),
            _ => self.find(key),
        };
        if !found {
            // (`lens` is only read for lists, and set when one is made.)
            self.slots[at] = (key, NONE);
            if self.with_prior {
                self.prior[at] = prior();
            }
            self.used += 1;
        }
        at
    }

    /// Every (fingerprint, representative) pair, in ascending order.
    fn entries(&self, arena: &Arena) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for at in 0..self.slots.len() {
            let key = self.slots[at].0;
            match self.list(at) {
                (_, 0) => {}
                (rep, 1) => out.push((key, rep)),
                (mut next, _) => {
                    while next != NONE {
                        let (rep, after) = arena.get(next);
                        out.push((key, rep));
                        next = after;
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Grows the table once to hold `n` shingles (an estimate, so with a
    /// tenth more room) at most 7/8 full.
    fn reserve(&mut self, n: usize) {
        let capacity = ((n + n / 10 + 1) * 8 / 7 + 1).max(1 << 12);
        if capacity > self.slots.len() {
            self.resize(capacity);
        }
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(1 << 12);
        self.resize(capacity);
    }

    fn resize(&mut self, capacity: usize) {
        let with_prior = self.with_prior;
        let old = std::mem::replace(
            self,
            PostingTable {
                // Read at random, a cache and TLB miss a look-up.
                slots: crate::memory::huge_vec((0, NONE), capacity),
                lens: vec![0; capacity],
                prior: if with_prior {
                    vec![0; capacity]
                } else {
                    Vec::new()
                },
                with_prior,
                used: 0,
            },
        );
        for i in 0..old.slots.len() {
            if old.slots[i].0 != 0 {
                let (at, _) = self.find(old.slots[i].0);
                self.slots[at] = old.slots[i];
                self.lens[at] = old.lens[i];
                if with_prior {
                    self.prior[at] = old.prior[i];
                }
                self.used += 1;
            }
        }
    }
}

/// The entries of posting lists of two or more: (representative, next entry
/// or `NONE`), in pieces of a fixed size, so that growing never copies them
/// into a twice larger vector (which holds both, and up to twice the room
/// needed, at the run's peak).
#[derive(Default)]
struct Arena {
    pieces: Vec<Vec<(u32, u32)>>,
    len: usize,
}

impl Arena {
    /// Entries a slab holds (512 KiB).
    const SLAB: usize = 1 << 16;

    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, entry: (u32, u32)) {
        if self.len.is_multiple_of(Self::SLAB) {
            self.pieces.push(Vec::with_capacity(Self::SLAB));
        }
        self.pieces
            .last_mut()
            .expect("a piece was made above")
            .push(entry);
        self.len += 1;
    }

    fn get(&self, at: u32) -> (u32, u32) {
        let at = at as usize;
        self.pieces[at / Self::SLAB][at % Self::SLAB]
    }
}

/// What the exact index remembers of the first block with a given text.
#[derive(Clone, Copy)]
struct ExactEntry {
    source: u32,
    similarity: f64,
    exact: bool,
}

/// A shingle of the block being decided: (list length counting the index's
/// entries, shingle, head of this run's list, this run's length, the index's
/// length, where its look-up ended in the table).
type Probe = (u32, u64, u32, u32, usize, usize);

/// What a run added to the detector: exact keys and postings.
pub type DetectorItems = (Vec<ExactRecord>, Vec<(u32, u32)>);

/// The detector's state: grows with the representatives seen so far. With an
/// index, the index's blocks come first (ids below `base`) and are looked up
/// in it; ids of this run's blocks start at `base`.
#[derive(Default)]
pub struct Detector<'h> {
    history: Option<&'h dyn Prior>,
    /// The history's postings of this run's shingles and its answers for
    /// this run's exact keys, read from it at once before the first block
    /// (empty without a history).
    prior: crate::prior::PriorPostings,
    prior_exact: HashMap<u128, ExactRecord>,
    base: usize,
    exact: Map<u128, ExactEntry>,
    /// shingle -> (the representative when the list has one entry, else the head
    /// of its list in `arena`; list length)
    postings: PostingTable,
    /// (representative, next entry or `u32::MAX`)
    arena: Arena,
    /// Scratch space reused between blocks.
    order: Vec<Probe>,
    /// (list length << 32 | position in `order`) of each probe: the rarest
    /// are picked by these (shingles are sorted, so a position breaks ties
    /// as the shingle would).
    rarest: Vec<u64>,
    candidates: Vec<u32>,
    stored: Vec<u64>,
    next_id: usize,
}

impl<'h> Detector<'h> {
    /// An empty detector.
    #[must_use]
    pub fn new() -> Detector<'h> {
        Detector::default()
    }

    /// A detector that starts with an index's blocks.
    #[must_use]
    pub fn after(history: Option<&'h dyn Prior>) -> Detector<'h> {
        Detector {
            history,
            base: history.map_or(0, Prior::blocks),
            postings: PostingTable {
                with_prior: history.is_some(),
                ..PostingTable::default()
            },
            ..Detector::default()
        }
    }

    /// Room for `keys` exact keys and `shingles` distinct shingles.
    pub fn reserve(&mut self, keys: usize, shingles: usize) {
        self.exact.reserve(keys);
        self.postings.reserve(shingles);
    }

    fn exact_entry(&self, key: u128) -> Option<ExactEntry> {
        if let Some(entry) = self.exact.get(&key) {
            return Some(*entry);
        }
        let found = self.prior_exact.get(&key)?;
        Some(ExactEntry {
            source: found.source,
            similarity: found.similarity,
            exact: found.exact,
        })
    }

    /// Decides block `sketches[next]`, the next block in input order. Blocks must
    /// be pushed in order; ids are their positions in `sketches`, where the
    /// representatives' shingles are read back for verification (so they are
    /// never copied).
    ///
    /// # Panics
    /// If more than `u32::MAX` blocks are pushed, or `sketches` is shorter than
    /// the blocks pushed.
    pub fn push(&mut self, sketches: &[Sketch], config: &Config) -> Match {
        let id = u32::try_from(self.base + self.next_id).expect("fewer than 2^32 blocks");
        let sketch = &sketches[self.next_id];
        self.next_id += 1;
        if sketch.words == 0 {
            return Match::Empty;
        }
        if let Some(entry) = self.exact_entry(sketch.exact) {
            return Match::Repeat {
                source: entry.source as usize,
                similarity: entry.similarity,
                exact: entry.exact,
            };
        }
        if sketch.words >= config.min_words {
            if let Some((source, similarity)) = self.best_container(sketch, sketches, config) {
                self.exact.insert(
                    sketch.exact,
                    ExactEntry {
                        source,
                        similarity,
                        exact: false,
                    },
                );
                return Match::Repeat {
                    source: source as usize,
                    similarity,
                    exact: false,
                };
            }
            self.index(id);
        }
        self.exact.insert(
            sketch.exact,
            ExactEntry {
                source: id,
                similarity: 1.0,
                exact: true,
            },
        );
        Match::Unique
    }

    fn best_container(
        &mut self,
        sketch: &Sketch,
        sketches: &[Sketch],
        config: &Config,
    ) -> Option<(u32, f64)> {
        let n = sketch.shingles.len();
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let need = ((config.block_threshold * n as f64 - 1e-9).ceil() as usize).clamp(1, n);
        let probe = n - need + 1;
        self.order.clear();
        // Room for the block's shingles now, so that where each look-up ends
        // still holds when a first copy's shingles are indexed.
        self.postings.room_for(n);
        self.postings.touch(&sketch.shingles);
        for &shingle in &sketch.shingles {
            let (at, found) = self.postings.find(PostingTable::key(shingle));
            let (head, len) = if found {
                self.postings.list(at)
            } else {
                (u32::MAX, 0)
            };
            let prior = self.prior.count(PostingTable::key(shingle));
            #[allow(clippy::cast_possible_truncation)]
            self.order
                .push((len + prior as u32, shingle, head, len, prior, at));
        }
        // Lengths count the index's entries too, as in one run over everything.
        // Only which `probe` shingles are rarest matters (their postings are
        // all read, the candidates sorted), not their order.
        self.rarest.clear();
        self.rarest.extend(
            self.order
                .iter()
                .enumerate()
                .map(|(i, o)| u64::from(o.0) << 32 | i as u64),
        );
        if probe < n {
            self.rarest.select_nth_unstable(probe - 1);
        }
        self.candidates.clear();
        for &key in &self.rarest[..probe] {
            #[allow(clippy::cast_possible_truncation)]
            let (_, shingle, head, len, prior, _) = self.order[key as u32 as usize];
            if prior > 0 {
                self.prior
                    .reps(PostingTable::key(shingle), &mut self.candidates);
            }
            if len == 1 {
                // A lone representative is kept in the map itself.
                self.candidates.push(head);
                continue;
            }
            let mut at = head;
            while at != u32::MAX {
                let (rep, next) = self.arena.get(at);
                self.candidates.push(rep);
                at = next;
            }
        }
        self.candidates.sort_unstable();
        self.candidates.dedup();
        let mut best: Option<(u32, usize)> = None;
        for &rep in &self.candidates {
            let theirs = match self.history {
                Some(h) if (rep as usize) < self.base => {
                    self.stored = h.block_shingles(rep as usize);
                    &self.stored
                }
                _ => &sketches[rep as usize - self.base].shingles,
            };
            let common = intersection(&sketch.shingles, theirs);
            // Candidates are in id order, so `>` keeps the earliest on ties.
            if common >= need && best.is_none_or(|(_, c)| common > c) {
                best = Some((rep, common));
            }
        }
        best.map(|(rep, common)| (rep, common as f64 / n as f64))
    }

    /// Indexes the shingles of the block [`Detector::best_container`] just
    /// looked up (in `order`) under representative `id`.
    fn index(&mut self, id: u32) {
        assert!(id < LIST, "fewer than 2^31 blocks");
        let prior = &self.prior;
        for &(_, shingle, _, _, _, hint) in &self.order {
            let at = self.postings.slot(shingle, hint, || {
                u8::try_from(prior.count(PostingTable::key(shingle))).unwrap_or(u8::MAX)
            });
            let (head, len) = self.postings.list(at);
            if len + self.postings.prior(at) >= POSTING_CAP {
                continue;
            }
            let arena = u32::try_from(self.arena.len()).expect("fewer than 2^31 postings");
            assert!(arena < LIST - 1, "fewer than 2^31 postings");
            let head = match len {
                // Most shingles belong to one representative: keep it in the
                // slot and spend no list entry on it.
                0 => id,
                1 => {
                    self.arena.push((head, NONE));
                    self.arena.push((id, arena));
                    LIST | (arena + 1)
                }
                // Lists are prepended; the cap, not the order, decides who is listed.
                _ => {
                    self.arena.push((id, head));
                    LIST | arena
                }
            };
            self.postings.slots[at].1 = head;
            if len >= 1 {
                self.postings.lens[at] = u8::try_from(len + 1).expect("lists are capped below 256");
            }
        }
    }
}

/// What [`detect`] found.
pub struct Detection {
    /// The verdict per block.
    pub matches: Vec<Match>,
    /// (skipped block, first copy) for skipped blocks whose text is exactly
    /// that of a first copy: a document dropped whole still holds a copy of it.
    /// Block ids are global (after the index's, if any).
    pub copies_in_dropped: Vec<(usize, usize)>,
    /// (skipped block, exact key) of skipped blocks whose text was not seen
    /// as a first copy: a later chunk may still bring it.
    pub unresolved: Vec<(usize, u128)>,
    /// With `keep_state`: the exact keys and postings this run added, for an
    /// index update.
    pub added: Option<DetectorItems>,
}

/// Runs the detector over every block, in order, after the blocks of
/// `history` (if any); blocks with `skip` set are [`Match::Skipped`] and are
/// neither repeats nor first copies. Sources in the matches are global ids.
#[must_use]
pub fn detect(
    sketches: &[Sketch],
    skip: &[bool],
    config: &Config,
    progress: &dyn crate::progress::Progress,
) -> Detection {
    detect_after(sketches, skip, config, progress, None, false)
}

/// [`detect`] after the blocks of an index.
#[must_use]
pub fn detect_after(
    sketches: &[Sketch],
    skip: &[bool],
    config: &Config,
    progress: &dyn crate::progress::Progress,
    history: Option<&dyn Prior>,
    keep_state: bool,
) -> Detection {
    // Sized once for what will be indexed (the distinct shingles of blocks
    // long enough, estimated), so that the table is not copied into a twice
    // larger one mid-run: a doubling holds both at once, the run's peak.
    let eligible = |(s, &skip): &(&Sketch, &bool)| !skip && s.words > 0;
    let shingles = crate::sketch::hll::distinct(
        sketches
            .iter()
            .zip(skip)
            .filter(eligible)
            .filter(|(s, _)| s.words >= config.min_words)
            .map(|(s, _)| s.shingles.as_slice()),
    );
    let keys = sketches.iter().zip(skip).filter(eligible).count();
    let mut run = Pass::new(skip, (keys, shingles), config, history);
    // With an index, the postings of every shingle that will be looked up
    // are read from it at once, in order.
    if let Some(h) = history {
        let mut keys: Vec<u32> = sketches
            .iter()
            .zip(skip)
            .filter(eligible)
            .filter(|(s, _)| s.words >= config.min_words)
            .flat_map(|(s, _)| s.shingles.iter().map(|&x| PostingTable::key(x)))
            .collect();
        keys.par_sort_unstable();
        keys.dedup();
        run.detector.prior = h.prior_postings(&keys);
        let exact: Vec<u128> = sketches
            .iter()
            .filter(|s| s.words > 0)
            .map(|s| s.exact)
            .collect();
        run.detector.prior_exact = h.prior_exact(&exact);
    }
    run.decide(sketches, sketches.len(), progress);
    run.finish(sketches, keep_state)
}

/// [`detect_after`] with the sketches made while earlier ones are decided:
/// `produce(k)` gives the sketches of the blocks of batch `k` (of `batches`),
/// in order, and is called for batch `k + 1` on other threads while batch `k`
/// goes through the detector. `room` is the exact keys and (estimated)
/// distinct shingles to index. Returns the detection and every sketch.
/// Without an index: with one, every shingle's postings are read from it
/// before the first block ([`detect_after`]).
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn detect_streamed(
    batches: usize,
    produce: &(dyn Fn(usize) -> Vec<Sketch> + Sync),
    skip: &[bool],
    room: (usize, usize),
    config: &Config,
    progress: &dyn crate::progress::Progress,
    keep_state: bool,
) -> (Detection, Vec<Sketch>) {
    let mut run = Pass::new(skip, room, config, None);
    let mut sketches = Vec::with_capacity(skip.len());
    if batches > 0 {
        sketches.extend(produce(0));
    }
    for k in 0..batches {
        let (start, end) = (run.matches.len(), sketches.len());
        let ((), next) = rayon::join(
            || run.decide(&sketches, end, progress),
            || {
                if k + 1 < batches {
                    produce(k + 1)
                } else {
                    Vec::new()
                }
            },
        );
        // Only first copies long enough to be indexed are compared again.
        for (s, m) in sketches[start..end]
            .iter_mut()
            .zip(&run.matches[start..end])
        {
            if *m != Match::Unique || s.words < config.min_words {
                s.shingles = Vec::new();
            }
        }
        sketches.extend(next);
    }
    assert_eq!(sketches.len(), skip.len(), "one sketch a block");
    let detection = run.finish(&sketches, keep_state);
    (detection, sketches)
}

/// One detection over a run's blocks, fed in order.
struct Pass<'s, 'h> {
    detector: Detector<'h>,
    matches: Vec<Match>,
    skip: &'s [bool],
    config: &'s Config,
}

impl<'s, 'h> Pass<'s, 'h> {
    fn new(
        skip: &'s [bool],
        (keys, shingles): (usize, usize),
        config: &'s Config,
        history: Option<&'h dyn Prior>,
    ) -> Pass<'s, 'h> {
        let mut detector = Detector::after(history);
        detector.reserve(keys, shingles);
        Pass {
            detector,
            matches: Vec::with_capacity(skip.len()),
            skip,
            config,
        }
    }

    /// Decides the blocks from the next undecided one up to `end`.
    fn decide(
        &mut self,
        sketches: &[Sketch],
        end: usize,
        progress: &dyn crate::progress::Progress,
    ) {
        for i in self.matches.len()..end {
            if i % 4096 == 4095 {
                progress.advance(4096);
            }
            let m = if self.skip[i] {
                self.detector.next_id += 1;
                Match::Skipped
            } else {
                self.detector.push(sketches, self.config)
            };
            self.matches.push(m);
        }
    }

    fn finish(self, sketches: &[Sketch], keep_state: bool) -> Detection {
        let Pass {
            detector, matches, ..
        } = self;
        // The exact index now holds every first copy's key, earlier or later (in
        // this run: a key first seen after it, in a later chunk, is still unknown).
        let mut copies_in_dropped = Vec::new();
        let mut unresolved = Vec::new();
        for (g, m) in matches.iter().enumerate() {
            if !matches!(m, Match::Skipped) || sketches[g].words == 0 {
                continue;
            }
            match detector.exact_entry(sketches[g].exact) {
                Some(entry) if entry.exact => {
                    copies_in_dropped.push((detector.base + g, entry.source as usize));
                }
                Some(_) => {}
                None => unresolved.push((detector.base + g, sketches[g].exact)),
            }
        }
        let added = keep_state.then(|| {
            let mut exact: Vec<ExactRecord> = detector
                .exact
                .iter()
                .map(|(&key, e)| ExactRecord {
                    key,
                    source: e.source,
                    similarity: e.similarity,
                    exact: e.exact,
                })
                .collect();
            exact.sort_unstable_by_key(|e| e.key);
            (exact, detector.postings.entries(&detector.arena))
        });
        Detection {
            matches,
            copies_in_dropped,
            unresolved,
            added,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(texts: &[&str], config: &Config) -> Vec<Match> {
        let sketches: Vec<Sketch> = texts
            .iter()
            .map(|t| Sketch::new(t, config.block_shingle, config.seed))
            .collect();
        detect(
            &sketches,
            &vec![false; sketches.len()],
            config,
            &crate::progress::Silent,
        )
        .matches
    }

    const A: &str = "The quick brown fox jumps over the lazy dog near the river bank today";
    const B: &str =
        "An entirely different sentence about markets and prices rising in spring again";

    #[test]
    fn exact_and_normalized_copies_point_to_the_first() {
        let config = Config::default();
        let m = run(&[A, B, &A.to_uppercase(), A], &config);
        assert_eq!(m[0], Match::Unique);
        assert_eq!(m[1], Match::Unique);
        for later in &m[2..] {
            assert_eq!(
                *later,
                Match::Repeat {
                    source: 0,
                    similarity: 1.0,
                    exact: true
                }
            );
        }
    }

    #[test]
    fn near_copy_found_by_containment() {
        let config = Config::default();
        // One word changed at the very end: 11 of 12 three-word shingles survive.
        let edited = A.replace("today", "yesterday");
        let m = run(&[A, &edited], &config);
        let Match::Repeat {
            source, similarity, ..
        } = m[1]
        else {
            panic!("not a repeat: {:?}", m[1]);
        };
        assert_eq!(source, 0);
        assert!((similarity - 11.0 / 12.0).abs() < 1e-9);
        // A truncated copy is fully contained in its source.
        let cut = "The quick brown fox jumps over the lazy dog near the";
        assert!(
            matches!(run(&[A, cut], &config)[1], Match::Repeat { similarity, .. } if similarity >= 1.0)
        );
    }

    #[test]
    fn short_blocks_only_match_exactly() {
        let config = Config::default();
        let m = run(&["Advertisement", "advertisement!", "Advert"], &config);
        assert_eq!(m[0], Match::Unique);
        assert!(matches!(m[1], Match::Repeat { source: 0, .. }));
        assert_eq!(m[2], Match::Unique);
    }

    #[test]
    fn repeats_of_repeats_point_to_the_representative() {
        let config = Config {
            block_threshold: 0.5,
            ..Config::default()
        };
        let v1 = A.replace("today", "tonight");
        let m = run(&[A, &v1, &v1], &config);
        assert!(matches!(
            m[1],
            Match::Repeat {
                source: 0,
                exact: false,
                ..
            }
        ));
        assert_eq!(m[2], m[1]);
    }
}
