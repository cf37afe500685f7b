//! What to keep: repeated blocks are grouped into runs that mirror a run of
//! earlier blocks, and the blocks of each run are dropped.
//!
//! Every repeated block belongs to the cluster of its first copy. A run is a
//! sequence of repeated blocks of one document aligned with blocks of the same
//! clusters in one earlier place (the run's *source*: another document, or
//! earlier in the same one), in increasing order on both sides, with at most
//! `max_gap` unaligned blocks between two aligned ones on either side. So a tweet
//! embedded between two copies of a body is an interruption of one run, and a
//! re-sent story is one run against the story it copies, even when some of its
//! paragraphs were first seen somewhere else. A block whose text is spread
//! over several consecutive source blocks mirrors all of them, and a near copy
//! may mirror the source block the previous one ended in (re-cut paragraphs).
//! This follows the merging of
//! adjacent duplicate spans in deduplicate-text-datasets' `collect`, at block
//! rather than byte granularity.
//!
//! A run starts at a repeated block that is long enough to judge. Its source is
//! chosen among the earlier copies of that block (the first copy and the 16 most
//! recent ones) as the one that aligns the most blocks, ties going to the earlier
//! copy, so the choice depends only on the input.
//!
//! Short blocks (fewer than `min_words` words) are too short to judge alone: a
//! repeated "Advertisement" line or a refrain is reported but kept. Inside a run
//! context decides: a short block right after a run's block that repeats the
//! block right after the source's, or right before a run's first block that
//! repeats the block right before the source's, is part of the copied run and is
//! dropped with it. `drop_short` judges short blocks like long ones.

use crate::config::Config;
use crate::detect::Match;
use crate::prior::Prior;
use std::collections::HashMap;
use std::ops::Range;

/// One repeated block, its first copy and the block it is aligned with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    /// Global index of the repeated block.
    pub block: usize,
    /// Global index of its first copy (the first block of the earlier place
    /// holding its text).
    pub source: usize,
    /// The last block of that place: `source` unless the text is spread over
    /// consecutive blocks of one document.
    pub source_last: usize,
    /// Global index of the copy it is aligned with in the run's source (the
    /// first copy itself, or a later copy of it).
    pub mirror: usize,
    /// The last block of the run's source it covers: `source_last` when the
    /// mirror is the first copy, else the mirror.
    pub mirror_last: usize,
    /// Containment of the block in its first copy, 1.0 when exact.
    pub similarity: f64,
    /// Normalized texts are identical.
    pub exact: bool,
}

/// A run of repeated blocks in one document.
#[derive(Clone, Debug, PartialEq)]
pub struct RepeatRun {
    /// The repeated blocks, in order.
    pub pairs: Vec<Pair>,
    /// Global index ranges of the unrepeated blocks between them.
    pub interruptions: Vec<Range<usize>>,
}

/// The decisions for one document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocDecision {
    /// Runs of dropped blocks.
    pub runs: Vec<RepeatRun>,
    /// Short repeats that are kept (outside any run).
    pub kept_short: Vec<Pair>,
}

/// Facts about every block that the decision needs. Block ids are global:
/// with an index, its blocks come first (ids below `base`) and are read from
/// it; the slices hold this run's blocks, from `base` on.
pub struct BlockFacts<'a> {
    /// Detector result per block of this run.
    pub matches: &'a [Match],
    /// Words per block of this run.
    pub words: &'a [usize],
    /// Cluster (id of the first copy) per block of this run.
    pub cluster: &'a [usize],
    /// This run's copies of every first copy with copies, ascending (the
    /// first copy itself not included).
    pub members: &'a HashMap<usize, Vec<usize>>,
    /// Document (of this run) of each block of this run.
    pub doc_of: &'a [u32],
    /// Index (in this run) of each document's first block, plus the total.
    pub doc_start: &'a [usize],
    /// Blocks of the index.
    pub base: usize,
    /// The index, if any.
    pub history: Option<&'a dyn Prior>,
}

/// How many recent earlier copies are tried as a run's source, besides the first.
const RECENT_COPIES: usize = crate::prior::MEMBERS_KEPT;

impl BlockFacts<'_> {
    fn stored(&self, g: usize) -> Option<crate::prior::BlockRecord> {
        match self.history {
            Some(h) if g < self.base => Some(h.block(g)),
            _ => None,
        }
    }

    fn is_repeat(&self, g: usize) -> bool {
        match self.stored(g) {
            Some(b) => b.kind == crate::prior::KIND_REPEAT,
            None => matches!(self.matches[g - self.base], Match::Repeat { .. }),
        }
    }

    fn cluster_of(&self, g: usize) -> usize {
        match self.stored(g) {
            Some(b) => b.cluster as usize,
            None => self.cluster[g - self.base],
        }
    }

    /// The block's document: the index's documents are told apart from this
    /// run's by the side of `base` their first block is on.
    fn doc_key(&self, g: usize) -> (bool, usize) {
        match self.stored(g) {
            Some(b) => (false, b.doc as usize),
            None => (true, self.doc_of[g - self.base] as usize),
        }
    }

    fn judged(&self, g: usize, config: &Config) -> bool {
        self.words[g - self.base] >= config.min_words || config.drop_short
    }

    fn doc_end(&self, g: usize) -> usize {
        match (self.history, self.stored(g)) {
            (Some(h), Some(b)) => h.doc_end(b.doc as usize),
            _ => self.base + self.doc_start[self.doc_of[g - self.base] as usize + 1],
        }
    }

    fn pair(&self, block: usize, mirror: usize) -> Pair {
        let Match::Repeat {
            source,
            source_last,
            similarity,
            exact,
        } = self.matches[block - self.base]
        else {
            unreachable!("pairs are made of repeats only");
        };
        Pair {
            block,
            source,
            source_last,
            mirror,
            mirror_last: if mirror == source {
                source_last
            } else {
                mirror
            },
            similarity,
            exact,
        }
    }

    /// Greedy alignment of the blocks from `g0` on with the blocks from `q0` on.
    fn align(&self, g0: usize, q0: usize, end: usize, config: &Config) -> Vec<Pair> {
        let gap = config.max_gap.saturating_add(1);
        let source_end = self.doc_end(q0);
        let mut pairs = vec![self.pair(g0, q0)];
        // A block whose text spans several source blocks mirrors all of them.
        let (mut lg, mut lq) = (g0, pairs[0].mirror_last);
        for g in g0 + 1..end {
            if g - lg > gap {
                break;
            }
            if !self.is_repeat(g) {
                continue;
            }
            let judged = self.judged(g, config);
            let limit = if judged {
                lq.saturating_add(gap)
            } else {
                lq + 1
            };
            let cluster = self.cluster_of(g);
            // Re-cut paragraphs share source blocks: a near copy may mirror
            // the block the previous one ended in (a paragraph split in two,
            // or joined across a boundary); an exact copy never does.
            let previous = pairs.last().expect("a run has its first block");
            let recut = previous.mirror_last > previous.mirror
                || matches!(
                    self.matches[g - self.base],
                    Match::Repeat { exact: false, .. }
                );
            let from = if recut { lq } else { lq + 1 };
            let found = (from..=limit.min(source_end - 1))
                .find(|&q| q < g && self.cluster_of(q) == cluster);
            match found {
                Some(q) if judged || g == lg + 1 => {
                    let pair = self.pair(g, q);
                    pairs.push(pair);
                    (lg, lq) = (g, pair.mirror_last);
                }
                _ if judged => break,
                _ => {}
            }
        }
        pairs
    }

    /// Earlier copies of block `g` worth trying as the start of its run's
    /// source: the first copy and the most recent copies before `g`.
    fn start_candidates(&self, g: usize) -> Vec<usize> {
        let cluster = self.cluster_of(g);
        let mut copies: Vec<usize> = match self.history {
            Some(h) if cluster < self.base => h
                .members(u32::try_from(cluster).expect("ids fit in 32 bits"))
                .into_iter()
                .map(|m| m as usize)
                .collect(),
            _ => Vec::new(),
        };
        if let Some(members) = self.members.get(&cluster) {
            let before = members.partition_point(|&m| m < g);
            copies.extend(&members[..before]);
        }
        let mut out = vec![cluster];
        out.extend(&copies[copies.len().saturating_sub(RECENT_COPIES)..]);
        out
    }
}

/// Groups one document's repeats into runs.
#[must_use]
pub fn decide(doc: usize, facts: &BlockFacts<'_>, config: &Config) -> DocDecision {
    let blocks = facts.base + facts.doc_start[doc]..facts.base + facts.doc_start[doc + 1];
    let mut out = DocDecision::default();
    // Which blocks are in a run: made when the first run is (most documents
    // have none).
    let mut in_run: Vec<bool> = Vec::new();
    let mut g = blocks.start;
    let mut previous_end = blocks.start;
    while g < blocks.end {
        if !facts.is_repeat(g) || !facts.judged(g, config) {
            g += 1;
            continue;
        }
        let mut best: Vec<Pair> = Vec::new();
        for q in facts.start_candidates(g) {
            let pairs = facts.align(g, q, blocks.end, config);
            if pairs.len() > best.len() {
                best = pairs;
            }
        }
        // Short repeats just before the run that mirror the blocks just before
        // its source belong to the copied run.
        while let Some(first) = best.first().copied() {
            let (b, m) = (first.block, first.mirror);
            let mirrors = b > previous_end
                && m > 0
                && facts.doc_key(m - 1) == facts.doc_key(m)
                && facts.is_repeat(b - 1)
                && facts.cluster_of(b - 1) == facts.cluster_of(m - 1)
                && m - 1 < b - 1;
            if !mirrors {
                break;
            }
            best.insert(0, facts.pair(b - 1, m - 1));
        }
        let last = best.last().expect("a run has its first block").block;
        in_run.resize(blocks.len(), false);
        for pair in &best {
            in_run[pair.block - blocks.start] = true;
        }
        let interruptions = best
            .windows(2)
            .filter(|w| w[1].block > w[0].block + 1)
            .map(|w| w[0].block + 1..w[1].block)
            .collect();
        out.runs.push(RepeatRun {
            pairs: best,
            interruptions,
        });
        g = last + 1;
        previous_end = g;
    }
    for g in blocks.clone() {
        if !in_run.get(g - blocks.start).copied().unwrap_or(false) && facts.is_repeat(g) {
            out.kept_short.push(facts.pair(g, facts.cluster_of(g)));
        }
    }
    out
}
