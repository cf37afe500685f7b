//! What to keep: repeated blocks are grouped into runs that mirror a run of
//! earlier blocks, and the blocks of each run are dropped.
//!
//! A run is a sequence of repeated blocks of one document whose sources lie in
//! one earlier document, in increasing order, with at most `max_gap` unrepeated
//! blocks between two of its blocks on either side (so a tweet embedded between
//! two copies of a body is an interruption of one run, not a break into unrelated
//! pairs). The idea follows the merging of adjacent duplicate spans in
//! deduplicate-text-datasets' `collect`, at block rather than byte granularity.
//!
//! Short blocks (fewer than `min_words` words) are too short to judge alone: a
//! repeated "Advertisement" line or a refrain is reported but kept. Inside a run
//! context decides: a short block that continues the run, and is identical to the
//! block that follows the run's source, is part of the copied run and is dropped
//! with it, and so is one just before a run that is identical to the block just
//! before the run's source. `drop_short` drops every short repeat.

use crate::config::Config;
use crate::detect::Match;
use std::ops::Range;

/// One repeated block and the block it repeats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    /// Global index of the repeated block.
    pub block: usize,
    /// Global index of its first copy.
    pub source: usize,
    /// Containment of the block in its source, 1.0 when exact.
    pub similarity: f64,
    /// Normalized texts are identical.
    pub exact: bool,
}

/// A run of repeated blocks in one document.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The repeated blocks, in order.
    pub pairs: Vec<Pair>,
    /// Global index ranges of the unrepeated blocks between them.
    pub interruptions: Vec<Range<usize>>,
}

/// The decisions for one document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocDecision {
    /// Runs of dropped blocks.
    pub runs: Vec<Run>,
    /// Short repeats that are kept (outside any run).
    pub kept_short: Vec<Pair>,
}

/// Facts about every block that the decision needs.
pub struct BlockFacts<'a> {
    /// Detector result per global block.
    pub matches: &'a [Match],
    /// Words per global block.
    pub words: &'a [usize],
    /// Exact key per global block.
    pub exact: &'a [u128],
    /// Document of each global block.
    pub doc_of: &'a [u32],
    /// Global index of each document's first block, plus the total at the end.
    pub doc_start: &'a [usize],
}

/// Groups one document's repeats into runs.
#[must_use]
pub fn decide(doc: usize, facts: &BlockFacts<'_>, config: &Config) -> DocDecision {
    let mut out = DocDecision::default();
    let mut open: Vec<Pair> = Vec::new();
    let gap = config.max_gap + 1;
    for g in facts.doc_start[doc]..facts.doc_start[doc + 1] {
        let judged = facts.words[g] >= config.min_words || config.drop_short;
        let Match::Repeat {
            source,
            similarity,
            exact,
        } = facts.matches[g]
        else {
            if open.last().is_some_and(|last| g - last.block >= gap) {
                close(&mut open, &mut out, facts);
            }
            continue;
        };
        let pair = Pair {
            block: g,
            source,
            similarity,
            exact,
        };
        if let Some(&last) = open.last() {
            let extends = judged
                && facts.doc_of[source] == facts.doc_of[last.source]
                && source > last.source
                && source - last.source <= gap
                && g - last.block <= gap;
            if extends {
                open.push(pair);
                continue;
            }
            // A short block identical to the block that follows the run's source.
            let next = last.source + 1;
            let continues = !judged
                && g == last.block + 1
                && facts.doc_of.get(next) == Some(&facts.doc_of[last.source])
                && facts.exact[next] == facts.exact[g];
            if continues {
                open.push(Pair {
                    block: g,
                    source: next,
                    similarity: 1.0,
                    exact: true,
                });
                continue;
            }
        }
        if judged {
            close(&mut open, &mut out, facts);
            open.push(pair);
        } else {
            // Not judged alone and not vouched for by a run: an interruption.
            out.kept_short.push(pair);
            if open.last().is_some_and(|last| g - last.block >= gap) {
                close(&mut open, &mut out, facts);
            }
        }
    }
    close(&mut open, &mut out, facts);
    out
}

/// Ends a run. Short repeats just before it join it when they mirror the blocks
/// just before its source (a repeated headline or dateline above a copied body).
fn close(open: &mut Vec<Pair>, out: &mut DocDecision, facts: &BlockFacts<'_>) {
    if open.is_empty() {
        return;
    }
    let mut pairs = std::mem::take(open);
    while let (Some(short), Some(first)) = (out.kept_short.last(), pairs.first()) {
        let mirrors = short.block + 1 == first.block
            && first.source > 0
            && facts.doc_of[first.source - 1] == facts.doc_of[first.source]
            && facts.exact[first.source - 1] == facts.exact[short.block];
        if !mirrors {
            break;
        }
        let pair = Pair {
            block: short.block,
            source: first.source - 1,
            similarity: 1.0,
            exact: true,
        };
        out.kept_short.pop();
        pairs.insert(0, pair);
    }
    let interruptions = pairs
        .windows(2)
        .filter(|w| w[1].block > w[0].block + 1)
        .map(|w| w[0].block + 1..w[1].block)
        .collect();
    out.runs.push(Run {
        pairs,
        interruptions,
    });
}
