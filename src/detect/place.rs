//! Places: runs of consecutive blocks of one earlier document that hold a
//! block's text together when no single block holds enough of it.

use super::Verdicts;
use crate::config::Config;
use crate::prior::Prior;
use crate::shingle::Sketch;

/// Blocks that hold none of a block's shingles allowed between two that hold
/// some in one place (an advertisement line, a paragraph the copy left out).
/// Fixed rather than `--max-gap`, which only groups repeats into runs: an
/// index holds the places found, so what finds them is one of its settings.
pub const PLACE_GAP: usize = 3;

/// A source of two or more consecutive blocks of one document.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Place {
    pub(super) first: u32,
    pub(super) last: u32,
    /// Shingles of the block found in the place.
    pub(super) common: usize,
}

/// The blocks decided so far, as place searches see them: which blocks are
/// indexed first copies, their documents and their shingles.
pub(super) struct View<'a, 'h> {
    pub(super) history: Option<&'h dyn Prior>,
    pub(super) base: usize,
    pub(super) sketches: &'a [Sketch],
    /// The verdicts of this run's blocks before `known`.
    pub(super) matches: &'a Verdicts,
    pub(super) skip: &'a [bool],
    pub(super) doc_of: &'a [u32],
    /// Blocks from here on (global ids) are undecided: any that could be
    /// indexed is assumed to be a first copy, and listed in `assumed`.
    pub(super) known: usize,
    pub(super) config: &'a Config,
}

impl View<'_, '_> {
    /// Whether block `x` (before the one being decided) is an indexed first
    /// copy: its shingles can be found.
    fn indexed(&self, x: usize, assumed: &mut Vec<u32>) -> bool {
        match self.history {
            Some(h) if x < self.base => h.block(x).shingles.1 > 0,
            _ => {
                let l = x - self.base;
                let words = self.sketches[l].words;
                let long = words > 0 && words >= self.config.min_words;
                if x < self.known {
                    long && self.matches.is_unique(l)
                } else {
                    let maybe = long && !self.skip[l];
                    if maybe {
                        assumed.push(u32::try_from(x).expect("fewer than 2^32 blocks"));
                    }
                    maybe
                }
            }
        }
    }

    /// The document of block `x`: the index's are told apart from this run's.
    fn doc_key(&self, x: usize) -> (bool, usize) {
        match self.history {
            Some(h) if x < self.base => (false, h.block(x).doc as usize),
            _ => (true, self.doc_of[x - self.base] as usize),
        }
    }

    /// Which of `ours` (sorted) block `x` holds, as bits.
    fn held(&self, ours: &[u64], x: usize) -> Vec<u64> {
        let stored;
        let theirs = match self.history {
            Some(h) if x < self.base => {
                stored = h.block_shingles(x);
                &stored
            }
            _ => &self.sketches[x - self.base].shingles,
        };
        let mut bits = vec![0u64; ours.len().div_ceil(64)];
        let (mut i, mut j) = (0, 0);
        while i < ours.len() && j < theirs.len() {
            match ours[i].cmp(&theirs[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    bits[i / 64] |= 1 << (i % 64);
                    i += 1;
                    j += 1;
                }
            }
        }
        bits
    }

    /// The best place of consecutive blocks of one earlier document holding
    /// at least `need` of the shingles of block `g`: for each candidate, the
    /// blocks around it in its document that hold some of them, at most
    /// [`PLACE_GAP`] blocks apart, less those at either end that add none; the
    /// place holding the most wins, then the shortest, then the earliest.
    pub(super) fn best_place(
        &self,
        g: usize,
        ours: &[u64],
        need: usize,
        candidates: &[(u32, u32)],
        assumed: &mut Vec<u32>,
    ) -> Option<Place> {
        let mut best: Option<Place> = None;
        let mut visited = vec![false; candidates.len()];
        for (k, &(c, _)) in candidates.iter().enumerate() {
            let c = c as usize;
            if visited[k] || !self.indexed(c, assumed) {
                continue;
            }
            let doc = self.doc_key(c);
            // The index's blocks and this run's never share a document.
            let (lower, upper) = if c < self.base {
                (0, self.base)
            } else {
                (self.base, g)
            };
            let mut held = vec![(c, self.held(ours, c))];
            for step in [-1isize, 1] {
                let (mut x, mut gap) = (c, 0);
                loop {
                    x = x.wrapping_add_signed(step);
                    if x < lower || x >= upper || self.doc_key(x) != doc {
                        break;
                    }
                    let bits = if self.indexed(x, assumed) {
                        Some(self.held(ours, x)).filter(|b| b.iter().any(|&w| w != 0))
                    } else {
                        None
                    };
                    if let Some(bits) = bits {
                        held.push((x, bits));
                        gap = 0;
                    } else {
                        gap += 1;
                        if gap > PLACE_GAP {
                            break;
                        }
                    }
                }
            }
            held.sort_unstable_by_key(|h| h.0);
            for (x, _) in &held {
                if let Ok(at) = candidates.binary_search_by_key(x, |&(c, _)| c as usize) {
                    visited[at] = true;
                }
            }
            let Some(place) = trimmed(&held) else {
                continue;
            };
            let better = best.is_none_or(|b| {
                (place.common, b.last - b.first, b.first)
                    > (b.common, place.last - place.first, place.first)
            });
            if place.common >= need && better {
                best = Some(place);
            }
        }
        best
    }
}

/// The place of `held` (blocks in order, with the bits of the shingles each
/// holds) without the blocks at either end that add nothing to the others.
fn trimmed(held: &[(usize, Vec<u64>)]) -> Option<Place> {
    let union = |part: &[(usize, Vec<u64>)]| {
        let mut all = vec![0u64; held[0].1.len()];
        for (_, bits) in part {
            for (a, b) in all.iter_mut().zip(bits) {
                *a |= b;
            }
        }
        all
    };
    let adds = |bits: &[u64], rest: &[u64]| bits.iter().zip(rest).any(|(b, r)| b & !r != 0);
    let mut part = held;
    while part.len() > 1 && !adds(&part[0].1, &union(&part[1..])) {
        part = &part[1..];
    }
    while part.len() > 1 && !adds(&part[part.len() - 1].1, &union(&part[..part.len() - 1])) {
        part = &part[..part.len() - 1];
    }
    let (first, last) = (part.first()?.0, part.last()?.0);
    Some(Place {
        first: u32::try_from(first).expect("fewer than 2^32 blocks"),
        last: u32::try_from(last).expect("fewer than 2^32 blocks"),
        common: union(part).iter().map(|w| w.count_ones() as usize).sum(),
    })
}
