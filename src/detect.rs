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
        /// Global index of the first copy (a representative): the first block
        /// of the earlier place that holds this block's text.
        source: usize,
        /// The place's last block: `source` itself when one block holds the
        /// text, a later block of its document when it is spread over several.
        source_last: usize,
        /// Containment of this block's shingles in the place's, 1.0 for exact.
        similarity: f64,
        /// Whether the normalized texts are identical.
        exact: bool,
    },
}

mod postings;
use postings::{Arena, BatchAdds, PostingTable, LIST, NONE};

mod exact;
use exact::{ExactEntry, ExactTable};

mod found;
use found::{Found, Scratch};

mod verdicts;
use verdicts::Verdicts;

mod place;
pub use place::PLACE_GAP;
use place::{Place, View};

/// What a run added to the detector: exact keys and postings.
pub type DetectorItems = (Vec<ExactRecord>, Vec<(u32, u32)>);

/// Blocks are decided in batches of this many: every block of a batch is
/// looked up in parallel against the state before the batch, then the batch
/// is resolved in input order (its own first copies found then). Batches
/// start at multiples of it, counted from the run's first block, whatever the
/// threads or the way sketches arrive, so the answer depends on the input
/// only. 256 ran as fast as 64 and faster than 1,024, whose table slots fall
/// out of cache between the two passes.
const BATCH: usize = 256;

/// The detector's state: grows with the representatives seen so far. With an
/// index, the index's blocks come first (ids below `base`) and are looked up
/// in it; ids of this run's blocks start at `base`.
#[derive(Default)]
struct Detector<'h> {
    history: Option<&'h dyn Prior>,
    /// The history's postings of this run's shingles and its answers for
    /// this run's exact keys, read from it at once before the first block
    /// (empty without a history).
    prior: crate::prior::PriorPostings,
    prior_exact: HashMap<u128, ExactRecord>,
    base: usize,
    /// Exact key -> the run's first block with it (whose verdict gives the
    /// [`ExactEntry`]).
    exact: ExactTable,
    /// shingle -> (the representative when the list has one entry, else the head
    /// of its list in `arena`; list length)
    postings: PostingTable,
    /// (representative, next entry or `u32::MAX`)
    arena: Arena,
    /// What the batch being resolved added to the lists, when its blocks are
    /// looked up one at a time as they are resolved.
    adds: BatchAdds,
    /// Whether they are (see [`Pass::batch`]).
    one_by_one: bool,
    /// The first block of the batch being resolved.
    start: u32,
}

/// Shingles of `n` a source must hold (at least one).
fn needed(n: usize, config: &Config) -> usize {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let need = ((config.block_threshold * n as f64 - 1e-9).ceil() as usize).clamp(1, n);
    need
}

impl<'h> Detector<'h> {
    /// A detector that starts with an index's blocks.
    fn after(history: Option<&'h dyn Prior>) -> Detector<'h> {
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
    fn reserve(&mut self, keys: usize, shingles: usize) {
        self.exact.reserve(keys);
        self.postings.reserve(shingles);
    }

    /// The entry of exact key `key`: the verdicts of this run's blocks
    /// with it are in `matches`.
    fn exact_entry(
        &self,
        key: u128,
        sketches: &[Sketch],
        matches: &Verdicts,
    ) -> Option<ExactEntry> {
        if let Some(l) = self.exact.get(key, |l| sketches[l].exact) {
            return Some(ExactEntry::of(self.base + l, matches.get(l)));
        }
        let found = self.prior_exact.get(&key)?;
        Some(ExactEntry {
            source: found.source,
            last: found.last,
            similarity: found.similarity,
            exact: found.exact,
        })
    }

    /// The candidates of block `g` (global id), of at least `min_words`
    /// words, among the indexed first copies before its batch (`start`),
    /// each verified; and, when none holds enough alone, the best place of
    /// several (see [`View::best_place`]). Reads the detector only: blocks
    /// of one batch are searched in parallel. Looked up one by one, the
    /// batch's first copies so far are candidates too; the rarest shingles
    /// are still those before the batch, so the answer is the same.
    fn search(
        &self,
        g: usize,
        sketch: &Sketch,
        view: &View<'_, '_>,
        start: u32,
        scratch: &mut Scratch,
    ) -> Found {
        let n = sketch.shingles.len();
        let need = needed(n, view.config);
        let probe = n - need + 1;
        self.postings.touch(&sketch.shingles);
        let Scratch {
            rarest, candidates, ..
        } = scratch;
        let mut hints = std::mem::take(&mut scratch.hints);
        hints.clear();
        // (list length before the batch counting the index's entries,
        // position) of each shingle: the rarest are picked by these (shingles
        // are sorted, so a position breaks ties as the shingle would).
        rarest.clear();
        // Shingles some indexed first copy may hold (their fingerprint is in
        // the table): no candidate, and no place, holds more.
        let mut listed_anywhere = 0;
        for (i, &shingle) in sketch.shingles.iter().enumerate() {
            let key = PostingTable::key(shingle);
            let (at, found) = self.postings.find(key);
            // (A batch's first copies are never counted: the one a slot
            // holds is told by its id, those in lists by `adds`.)
            let len = match self.postings.slots[at].1 {
                _ if !found => 0,
                NONE => 0,
                rep if rep & LIST == 0 => u32::from(rep < start),
                _ => self.postings.len_of_list(at, &self.arena) - self.adds.get(at),
            };
            listed_anywhere += usize::from(found);
            let prior = u32::try_from(self.prior.count(key)).unwrap_or(u32::MAX);
            hints.push(at);
            rarest.push(u64::from(len.saturating_add(prior)) << 32 | i as u64);
        }
        // Looked up one by one without an index, every first copy before
        // this block is in the table: when fewer than `need` of its
        // shingles are, it is a first copy, and nothing needs verifying.
        // (A batch looked up in parallel has first copies not indexed yet;
        // an index's blocks are counted by `prior`.)
        if self.one_by_one && self.history.is_none() && listed_anywhere < need {
            return Found {
                candidates: Vec::new(),
                probes: Vec::new(),
                hints,
                searched: true,
                place: None,
                assumed: Vec::new(),
            };
        }
        // Only which `probe` shingles are rarest matters (their postings are
        // all read, the candidates sorted), not their order.
        if probe < n {
            rarest.select_nth_unstable(probe - 1);
        }
        let mut probes = std::mem::take(&mut scratch.probes);
        probes.clear();
        #[allow(clippy::cast_possible_truncation)]
        probes.extend(rarest[..probe].iter().map(|&r| r as u32));
        candidates.clear();
        // The batch's own first copies (ids from `start`) are left to
        // `Pass::resolve`, unless blocks are looked up one by one.
        let listed = if self.one_by_one { u32::MAX } else { start };
        for &i in &probes {
            let shingle = sketch.shingles[i as usize];
            self.prior.reps(PostingTable::key(shingle), candidates);
            self.postings_of(shingle, hints[i as usize], |rep| {
                if rep < listed {
                    candidates.push(rep);
                }
                true
            });
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut verified = std::mem::take(&mut scratch.verified);
        verified.clear();
        verified.extend(
            candidates
                .iter()
                .map(|&c| (c, self.common(&sketch.shingles, c, view.sketches))),
        );
        let mut assumed = Vec::new();
        let searched = !verified.iter().any(|&(_, common)| common as usize >= need);
        let place = if searched {
            view.best_place(g, &sketch.shingles, need, &verified, &mut assumed)
        } else {
            None
        };
        Found {
            candidates: verified,
            probes,
            hints,
            searched,
            place,
            assumed,
        }
    }

    /// Calls `f` on the first copies of this run listed for `shingle`
    /// (latest first) while it returns true; `hint` is where its look-up
    /// ended.
    fn postings_of(&self, shingle: u64, hint: usize, mut f: impl FnMut(u32) -> bool) {
        let key = PostingTable::key(shingle);
        let at = match self.postings.slots.get(hint) {
            Some(&(k, _)) if k == key => hint,
            _ => match self.postings.find(key) {
                (at, true) => at,
                (_, false) => return,
            },
        };
        // (The head says which, without the list's length.)
        match self.postings.slots[at].1 {
            NONE => {}
            // A lone representative is kept in the table itself.
            rep if rep & LIST == 0 => {
                f(rep);
            }
            head => {
                let mut next = head & !LIST;
                while next != NONE {
                    let (rep, after) = self.arena.get(next);
                    if !f(rep) {
                        break;
                    }
                    next = after;
                }
            }
        }
    }

    /// Shingles of `ours` that first copy `c` holds.
    fn common(&self, ours: &[u64], c: u32, sketches: &[Sketch]) -> u32 {
        let common = match self.history {
            Some(h) if (c as usize) < self.base => {
                intersection(ours, &h.block_shingles(c as usize))
            }
            _ => intersection(ours, &sketches[c as usize - self.base].shingles),
        };
        u32::try_from(common).expect("fewer than 2^32 shingles")
    }

    /// Indexes the shingles of first copy `id`; `hints` are where their
    /// look-ups ended (see [`PostingTable::slot`]; the table has not grown
    /// since).
    fn index(&mut self, id: u32, shingles: &[u64], hints: &[usize]) {
        assert!(id < LIST, "fewer than 2^31 blocks");
        self.postings.room_for(shingles.len());
        let prior = &self.prior;
        for (i, &shingle) in shingles.iter().enumerate() {
            let at = self.postings.slot(shingle, hints[i], || {
                u8::try_from(prior.count(PostingTable::key(shingle))).unwrap_or(u8::MAX)
            });
            let (head, len) = self.postings.list(at, &self.arena);
            let head_was = head;
            if len + self.postings.prior(at) >= POSTING_CAP {
                continue;
            }
            let arena = u32::try_from(self.arena.len()).expect("fewer than 2^31 postings");
            assert!(arena < LIST - 1, "fewer than 2^31 postings");
            // (The new list's length, kept with its head entry; lists are
            // capped below 256.)
            let grown = u8::try_from(len + 1).expect("lists are capped below 256");
            let head = match len {
                // Most shingles belong to one representative: keep it in the
                // slot and spend no list entry on it.
                0 => id,
                1 => {
                    self.arena.push((head, NONE), 1);
                    self.arena.push((id, arena), grown);
                    LIST | (arena + 1)
                }
                // Lists are prepended; the cap, not the order, decides who is listed.
                _ => {
                    self.arena.push((id, head), grown);
                    LIST | arena
                }
            };
            self.postings.slots[at].1 = head;
            // A list made of this batch's first copies holds two of them.
            if self.one_by_one && len >= 1 {
                self.adds
                    .add(at, 1 + u32::from(len == 1 && head_was >= self.start));
            }
        }
    }
}

/// What [`detect_after`] found.
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
pub fn detect_after(
    sketches: &[Sketch],
    skip: &[bool],
    doc_of: &[u32],
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
    let mut run = Pass::new(skip, doc_of, (keys, shingles), config, history);
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
    run.decide(sketches, sketches.len(), true, progress);
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
    doc_of: &[u32],
    room: (usize, usize),
    config: &Config,
    progress: &dyn crate::progress::Progress,
    keep_state: bool,
) -> (Detection, Vec<Sketch>) {
    let mut run = Pass::new(skip, doc_of, room, config, None);
    let mut sketches = Vec::with_capacity(skip.len());
    if batches > 0 {
        sketches.extend(produce(0));
    }
    for k in 0..batches {
        let (start, end) = (run.matches.len(), sketches.len());
        let last = k + 1 == batches;
        let ((), next) = rayon::join(
            || run.decide(&sketches, end, last, progress),
            || {
                if k + 1 < batches {
                    produce(k + 1)
                } else {
                    Vec::new()
                }
            },
        );
        // Only first copies long enough to be indexed are compared again.
        let decided = run.matches.len();
        for (l, s) in sketches.iter_mut().enumerate().take(decided).skip(start) {
            if !run.matches.is_unique(l) || s.words < config.min_words {
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
    matches: Verdicts,
    skip: &'s [bool],
    doc_of: &'s [u32],
    config: &'s Config,
}

impl<'s, 'h> Pass<'s, 'h> {
    fn new(
        skip: &'s [bool],
        doc_of: &'s [u32],
        (keys, shingles): (usize, usize),
        config: &'s Config,
        history: Option<&'h dyn Prior>,
    ) -> Pass<'s, 'h> {
        let mut detector = Detector::after(history);
        // With two threads or fewer, a batch's look-ups are made one block at
        // a time as it is resolved, on one thread while blocks are sketched on
        // the other: a block's table slots are read once, not once on a
        // worker and again to resolve (benches/RESULTS.md, session 10: the
        // blocks stage 14% faster at two threads on the loaded machine). The
        // verdicts are the same either way.
        detector.one_by_one = rayon::current_num_threads() <= 2;
        detector.reserve(keys, shingles);
        Pass {
            detector,
            matches: Verdicts::with_capacity(skip.len()),
            skip,
            doc_of,
            config,
        }
    }

    /// Decides the batches of blocks from the next undecided one that end by
    /// `end` (with `last`, the rest too: `end` is then the run's end).
    fn decide(
        &mut self,
        sketches: &[Sketch],
        end: usize,
        last: bool,
        progress: &dyn crate::progress::Progress,
    ) {
        loop {
            let start = self.matches.len();
            let stop = (start / BATCH + 1) * BATCH;
            if start >= end || (stop > end && !last) {
                break;
            }
            let stop = stop.min(end);
            self.batch(sketches, start..stop);
            progress.advance((stop - start) as u64);
        }
    }

    /// The blocks decided so far, those from `known` on (global ids) taken
    /// for first copies where they could be.
    fn view<'a>(&'a self, sketches: &'a [Sketch], known: usize) -> View<'a, 'h> {
        View {
            history: self.detector.history,
            base: self.detector.base,
            sketches,
            matches: &self.matches,
            skip: self.skip,
            doc_of: self.doc_of,
            known,
            config: self.config,
        }
    }

    /// Decides blocks `range` (this run's numbering): the expensive part,
    /// candidates and their verification, on every thread against the state
    /// before the batch; then, in input order, which blocks are first copies
    /// (a candidate of the batch that turned out a repeat is passed over, and
    /// a place search that assumed otherwise is done again). Or, one by one,
    /// each block's search just before it is resolved, on this thread.
    fn batch(&mut self, sketches: &[Sketch], range: std::ops::Range<usize>) {
        let (config, base, skip) = (self.config, self.detector.base, self.skip);
        let long = |l: usize| {
            let words = sketches[l].words;
            !skip[l] && words > 0 && words >= config.min_words
        };
        // The table will not grow during the batch: where look-ups end stays
        // where the batch's first copies are indexed.
        let room: usize = range
            .clone()
            .filter(|&l| long(l))
            .map(|l| sketches[l].shingles.len())
            .sum();
        self.detector.postings.room_for(room);
        let start = u32::try_from(base + range.start).expect("fewer than 2^32 blocks");
        if self.detector.one_by_one {
            self.detector.adds.clear(room);
            self.detector.start = start;
            let mut scratch = Scratch::default();
            for l in range {
                let sketch = &sketches[l];
                let mut found = (long(l)
                    && self
                        .detector
                        .exact_entry(sketch.exact, sketches, &self.matches)
                        .is_none())
                .then(|| {
                    let view = self.view(sketches, base + l);
                    self.detector
                        .search(base + l, sketch, &view, start, &mut scratch)
                });
                let m = self.resolve(sketches, l, start, found.as_mut());
                self.matches.push(m);
                if let Some(found) = found {
                    scratch.recycle(found);
                }
            }
            return;
        }
        let found: Vec<Option<Found>> = {
            let view = self.view(sketches, base + range.start);
            let (detector, matches) = (&self.detector, &self.matches);
            range
                .clone()
                .into_par_iter()
                .map_init(Scratch::default, |scratch, l| {
                    let sketch = &sketches[l];
                    (long(l)
                        && detector
                            .exact_entry(sketch.exact, sketches, matches)
                            .is_none())
                    .then(|| detector.search(base + l, sketch, &view, start, scratch))
                })
                .collect()
        };
        for (l, mut found) in range.zip(found) {
            let m = self.resolve(sketches, l, start, found.as_mut());
            self.matches.push(m);
        }
    }

    /// The verdict of block `l`, every block before it decided; `start` is
    /// the batch's first block. A first copy is indexed at once.
    fn resolve(
        &mut self,
        sketches: &[Sketch],
        l: usize,
        start: u32,
        found: Option<&mut Found>,
    ) -> Match {
        let sketch = &sketches[l];
        let base = self.detector.base;
        let id = u32::try_from(base + l).expect("fewer than 2^32 blocks");
        if self.skip[l] {
            return Match::Skipped;
        }
        if sketch.words == 0 {
            return Match::Empty;
        }
        if let Some(entry) = self
            .detector
            .exact_entry(sketch.exact, sketches, &self.matches)
        {
            return entry.repeat();
        }
        let Some(found) = found else {
            self.detector.exact.insert(sketch.exact, l);
            return Match::Unique;
        };
        let n = sketch.shingles.len();
        let need = needed(n, self.config);
        // The batch's first copies holding a probed shingle (lists are
        // prepended: the batch's entries come first), unless the search,
        // made just now, listed them.
        let mut ours: Vec<u32> = Vec::new();
        if !self.detector.one_by_one {
            // Their slots were read by another thread, or long ago.
            self.detector.postings.touch_slots(&found.hints);
        }
        for &i in found.probes.iter().filter(|_| !self.detector.one_by_one) {
            let i = i as usize;
            self.detector
                .postings_of(sketch.shingles[i], found.hints[i], |rep| {
                    if rep >= start {
                        ours.push(rep);
                    }
                    rep >= start
                });
        }
        let fresh = !ours.is_empty();
        if fresh {
            ours.sort_unstable();
            ours.dedup();
            for c in ours {
                let common = self.detector.common(&sketch.shingles, c, sketches);
                found.candidates.push((c, common));
            }
            found.candidates.sort_unstable();
        }
        let first = |x: u32| {
            let x = x as usize;
            x < base || self.matches.is_unique(x - base)
        };
        // Candidates are in id order, so `>` keeps the earliest on ties.
        let mut best: Option<(u32, u32)> = None;
        for &(c, common) in &found.candidates {
            if common as usize >= need && best.is_none_or(|(_, b)| common > b) {
                best = Some((c, common));
            }
        }
        let place = match best {
            Some((c, common)) => Some(Place {
                first: c,
                last: c,
                common: common as usize,
            }),
            None if found.searched && !fresh && found.assumed.iter().all(|&x| first(x)) => {
                found.place
            }
            None => {
                let view = self.view(sketches, base + l);
                view.best_place(
                    base + l,
                    &sketch.shingles,
                    need,
                    &found.candidates,
                    &mut Vec::new(),
                )
            }
        };
        if let Some(place) = place {
            #[allow(clippy::cast_precision_loss)]
            let similarity = place.common as f64 / n as f64;
            // The exact key's entry is this verdict (`ExactEntry::of`).
            self.detector.exact.insert(sketch.exact, l);
            return ExactEntry {
                source: place.first,
                last: place.last,
                similarity,
                exact: false,
            }
            .repeat();
        }
        self.detector.index(id, &sketch.shingles, &found.hints);
        self.detector.exact.insert(sketch.exact, l);
        Match::Unique
    }

    fn finish(self, sketches: &[Sketch], keep_state: bool) -> Detection {
        let Pass {
            detector, matches, ..
        } = self;
        // The exact index now holds every first copy's key, earlier or later (in
        // this run: a key first seen after it, in a later chunk, is still unknown).
        let mut copies_in_dropped = Vec::new();
        let mut unresolved = Vec::new();
        for g in 0..matches.len() {
            if !matches.is_skipped(g) || sketches[g].words == 0 {
                continue;
            }
            match detector.exact_entry(sketches[g].exact, sketches, &matches) {
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
                .blocks()
                .map(|l| {
                    let e = ExactEntry::of(detector.base + l, matches.get(l));
                    ExactRecord {
                        key: sketches[l].exact,
                        source: e.source,
                        last: e.last,
                        similarity: e.similarity,
                        exact: e.exact,
                    }
                })
                .collect();
            exact.sort_unstable_by_key(|e| e.key);
            (exact, detector.postings.entries(&detector.arena))
        });
        // The block index goes before the verdicts are spelled out.
        drop(detector);
        Detection {
            matches: matches.into_matches(),
            copies_in_dropped,
            unresolved,
            added,
        }
    }
}

#[cfg(test)]
mod tests;
