//! The only place where stages meet: segment and sketch every document in
//! parallel, detect repeats in input order, decide runs in parallel.

use crate::config::Config;
use crate::decide::{decide, BlockFacts, DocDecision};
use crate::detect::{detect, Match};
use crate::input::Corpus;
use crate::segment::{segment, Block};
use crate::shingle::Sketch;
use rayon::prelude::*;
use std::collections::HashMap;

/// Everything the block engine found, indexed by document and by global block
/// index (blocks numbered in input order across all documents).
pub struct Analysis {
    /// Each document's blocks.
    pub blocks: Vec<Vec<Block>>,
    /// Global index of each document's first block, plus the total at the end.
    pub doc_start: Vec<usize>,
    /// Document of each global block.
    pub doc_of: Vec<u32>,
    /// Words per global block, after normalization.
    pub words: Vec<usize>,
    /// The detector's verdict per global block.
    pub matches: Vec<Match>,
    /// Runs and kept short repeats per document.
    pub decisions: Vec<DocDecision>,
    /// Whether each global block is left out of the cleaned output.
    pub dropped: Vec<bool>,
    /// Wall time of each stage, for `-v` (never part of the report).
    pub timings: Timings,
}

/// Wall time of the engine's stages.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    /// Segmentation, normalization and shingling (parallel).
    pub sketch: std::time::Duration,
    /// The sequential detection pass.
    pub detect: std::time::Duration,
    /// Runs and keep decisions (parallel).
    pub decide: std::time::Duration,
}

impl Analysis {
    /// Global index of block `i` of document `doc`.
    #[must_use]
    pub fn global(&self, doc: usize, i: usize) -> usize {
        self.doc_start[doc] + i
    }

    /// The document and block of a global index.
    #[must_use]
    pub fn block(&self, global: usize) -> (usize, &Block) {
        let doc = self.doc_of[global] as usize;
        (doc, &self.blocks[doc][global - self.doc_start[doc]])
    }

    /// Whether any block of `doc` is dropped.
    #[must_use]
    pub fn changes(&self, doc: usize) -> bool {
        self.dropped[self.doc_start[doc]..self.doc_start[doc + 1]]
            .iter()
            .any(|&d| d)
    }
}

/// Runs the block engine over a loaded corpus. The answer depends only on the
/// corpus and the config, never on the number of threads.
///
/// # Panics
/// If the corpus has more than 2^32 documents.
#[must_use]
pub fn analyze(corpus: &Corpus, config: &Config) -> Analysis {
    let started = std::time::Instant::now();
    let mut timings = Timings::default();
    let per_doc: Vec<(Vec<Block>, Vec<Sketch>)> = corpus
        .documents
        .par_iter()
        .map(|doc| {
            let text = corpus.text(doc);
            let blocks = segment(text, config.blocks);
            let sketches = blocks
                .iter()
                .map(|b| Sketch::new(&text[b.content.clone()], config.block_shingle, config.seed))
                .collect();
            (blocks, sketches)
        })
        .collect();
    let mut blocks = Vec::with_capacity(per_doc.len());
    let mut sketches = Vec::new();
    let mut doc_start = Vec::with_capacity(per_doc.len() + 1);
    let mut doc_of = Vec::new();
    for (doc, (b, s)) in per_doc.into_iter().enumerate() {
        doc_start.push(sketches.len());
        let doc = u32::try_from(doc).expect("fewer than 2^32 documents");
        doc_of.extend(std::iter::repeat_n(doc, b.len()));
        blocks.push(b);
        sketches.extend(s);
    }
    doc_start.push(sketches.len());
    timings.sketch = started.elapsed();
    let started = std::time::Instant::now();
    let matches = detect(&sketches, config);
    timings.detect = started.elapsed();
    let started = std::time::Instant::now();
    let words: Vec<usize> = sketches.iter().map(|s| s.words).collect();
    drop(sketches);
    let cluster: Vec<usize> = matches
        .iter()
        .enumerate()
        .map(|(g, m)| match m {
            Match::Repeat { source, .. } => *source,
            _ => g,
        })
        .collect();
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (g, m) in matches.iter().enumerate() {
        if let Match::Repeat { source, .. } = m {
            members
                .entry(*source)
                .or_insert_with(|| vec![*source])
                .push(g);
        }
    }
    let facts = BlockFacts {
        matches: &matches,
        words: &words,
        cluster: &cluster,
        members: &members,
        doc_of: &doc_of,
        doc_start: &doc_start,
    };
    let decisions: Vec<DocDecision> = (0..blocks.len())
        .into_par_iter()
        .map(|doc| decide(doc, &facts, config))
        .collect();
    timings.decide = started.elapsed();
    let mut dropped = vec![false; matches.len()];
    for decision in &decisions {
        for run in &decision.runs {
            for pair in &run.pairs {
                dropped[pair.block] = true;
            }
        }
    }
    Analysis {
        blocks,
        doc_start,
        doc_of,
        words,
        matches,
        decisions,
        dropped,
        timings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "the council approved the new budget after a long debate on tuesday";
    const P2: &str = "rain is expected across the region for the rest of the week";

    #[test]
    fn a_copied_document_is_one_run_against_the_copy_it_mirrors() {
        // X and Y hold the first copies; A combines them with a short sign-off;
        // B is a copy of A and should be reported as one run against A.
        let a = format!("{P1}\n\n{P2}\n\nReuter\n");
        let corpus = Corpus::from_texts([
            ("x", P1.to_owned()),
            ("y", P2.to_owned()),
            ("a", a.clone()),
            ("b", a),
        ]);
        let analysis = analyze(&corpus, &Config::default());
        let b = &analysis.decisions[3];
        assert_eq!(b.runs.len(), 1, "{b:?}");
        let run = &b.runs[0];
        assert_eq!(run.pairs.len(), 3);
        for (i, pair) in run.pairs.iter().enumerate() {
            assert_eq!(pair.mirror, analysis.global(2, i));
        }
        // First copies stay where the text was first seen.
        assert_eq!(run.pairs[0].source, analysis.global(0, 0));
        assert_eq!(run.pairs[1].source, analysis.global(1, 0));
        assert!(b.kept_short.is_empty());
        // In A the short sign-off has no run to vouch for it and is only reported.
        assert_eq!(analysis.decisions[2].runs.len(), 2);
        assert!(analysis.decisions[2].kept_short.is_empty());
    }
}
