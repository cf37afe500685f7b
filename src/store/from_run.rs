//! A run's new items for the index, from its analysis.

use super::{
    BlockRecord, Delta, DocRecord, BUCKET_FIRST, BUCKET_RECENT, KIND_EMPTY, KIND_REPEAT,
    KIND_SKIPPED, KIND_UNIQUE,
};
use crate::detect::Match;
use crate::input::Corpus;
use crate::pipeline::Analysis;
use rayon::prelude::*;
use std::collections::HashMap;

fn id32(n: usize) -> u32 {
    u32::try_from(n).expect("an index holds fewer than 2^32 documents and blocks")
}

/// What this run adds to the index. The analysis must have been made with
/// `keep` set ([`crate::pipeline::analyze_after`]); its kept parts are taken.
///
/// # Panics
/// If the analysis was made without `keep`, or the index would hold 2^32 or
/// more documents or blocks.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn delta(corpus: &Corpus, analysis: &mut Analysis) -> Delta {
    let added = analysis
        .added
        .take()
        .expect("the analysis kept what an update needs");
    let (base_docs, base_blocks) = (analysis.base_docs, analysis.base_blocks);
    let mut delta = Delta {
        first_document: base_docs as u64,
        first_block: base_blocks as u64,
        exact: added.exact,
        postings: added.postings,
        band_prints: added.band_prints,
        ..Delta::default()
    };
    let mut doc_shingles = added.doc_shingles;
    let mut block_shingles = added.block_shingles;
    // Character offsets of every block, counted per document in parallel.
    let chars: Vec<Vec<[u64; 2]>> = (0..analysis.blocks.len())
        .into_par_iter()
        .map(|d| {
            let text = corpus.text(&corpus.documents[d]);
            let bytes = text.as_bytes();
            let ascii = bytes.is_ascii();
            let mut at = (0usize, 0u64);
            let mut count = |to: usize| {
                if ascii {
                    at.1 += (to - at.0) as u64;
                } else {
                    at.1 += bytes[at.0..to]
                        .iter()
                        .filter(|&&b| (b & 0xC0) != 0x80)
                        .count() as u64;
                }
                at.0 = to;
                at.1
            };
            analysis.blocks[d]
                .iter()
                .map(|b| [count(b.span.start), count(b.span.end)])
                .collect()
        })
        .collect();
    let mut paths: HashMap<usize, (u64, u32)> = HashMap::new();
    let tables = added.doc_keys.iter().map(Vec::len).max().unwrap_or(0);
    let banded = banded_documents(&added.keys_of, added.doc_keys.len());
    for (d, doc) in corpus.documents.iter().enumerate() {
        let global = id32(base_docs + d);
        let shingles = match doc_shingles.get_mut(d).and_then(Option::take) {
            Some(s) => {
                let at = delta.doc_shingles.len() as u64;
                delta.doc_shingles.extend_from_slice(&s);
                (at, id32(s.len()))
            }
            None => (0, 0),
        };
        let id = delta.string(&corpus.id(doc));
        let path = if let Some(p) = paths.get(&doc.source) {
            *p
        } else {
            let p = delta.string(&corpus.sources[doc.source].input.display_name());
            paths.insert(doc.source, p);
            p
        };
        let level = &analysis.doc_level;
        delta.docs.push(DocRecord {
            block_start: (base_blocks + analysis.doc_start[d]) as u64,
            rep: level.rep_of.get(d).copied().flatten().map_or(global, id32),
            shingles,
            id,
            path,
            line: doc
                .record
                .as_ref()
                .map_or(0, |r| u32::try_from(r.line()).unwrap_or(u32::MAX)),
            bytes: corpus.text_len(doc) as u64,
            dropped: level.dropped.get(d).copied().unwrap_or(false),
        });
        let keys = added
            .keys_of
            .get(d)
            .and_then(|&original| added.doc_keys.get(original))
            .map_or(&[][..], Vec::as_slice);
        // (A document of one shingle has its first table's key only: see
        // `candidate_pairs_after`.)
        // A document of few shingles is stored by its shingles, which give
        // back its band keys (see the module doc of `store`); its keys may
        // not have been made (`few::defers_keys`).
        let few = added
            .keys_of
            .get(d)
            .and_then(|&original| added.few_sets.get(original))
            .filter(|set| !set.is_empty() && (keys.len() == tables || keys.is_empty()));
        if let (Some(set), true) = (few, banded[d]) {
            for &shingle in set {
                delta.few.push((shingle, global));
                delta.few_sets.push((global, shingle));
            }
        } else if tables > 0 && (keys.len() == tables || keys.len() == 1) && banded[d] {
            for (t, &key) in keys.iter().enumerate() {
                delta.bands.push((key, id32(t), global));
            }
        }
        for (i, block) in analysis.blocks[d].iter().enumerate() {
            let local = analysis.doc_start[d] + i;
            let g = id32(base_blocks + local);
            let (kind, cluster) = match analysis.matches[local] {
                Match::Empty => (KIND_EMPTY, g),
                Match::Skipped => (KIND_SKIPPED, g),
                Match::Unique => (KIND_UNIQUE, g),
                Match::Repeat { source, .. } => {
                    delta.members.push((id32(source), g));
                    (KIND_REPEAT, id32(source))
                }
            };
            let shingles = block_shingles
                .get_mut(local)
                .map(std::mem::take)
                .unwrap_or_default();
            let stored = if shingles.is_empty() {
                (0, 0)
            } else {
                let at = delta.block_shingles.len() as u64;
                delta.block_shingles.extend_from_slice(&shingles);
                (at, id32(shingles.len()))
            };
            delta.blocks.push(BlockRecord {
                cluster,
                doc: global,
                words: id32(analysis.words[local]),
                kind,
                shingles: stored,
                bytes: [block.span.start as u64, block.span.end as u64],
                chars: chars[d][i],
                lines: [id32(block.first_line), id32(block.last_line)],
            });
        }
    }
    delta
}

/// Which of `n` documents' band records an index keeps: a bucket keeps its
/// first [`BUCKET_FIRST`] and last [`BUCKET_RECENT`] documents (the rest are
/// trimmed when the segment is written), and an exact copy shares every
/// bucket of its original (`keys_of`). So of an original and its copies (a
/// flood of identical records), a member with that many of them before it
/// and after it would be trimmed from each of its buckets: its records are
/// not made (120 a document, sorted and written only to be dropped).
fn banded_documents(keys_of: &[usize], n: usize) -> Vec<bool> {
    // Each document's rank among its original's copies, and their number.
    let mut rank = vec![0u32; n];
    let mut size = vec![0u32; n];
    for (d, &original) in keys_of.iter().enumerate() {
        rank[d] = size[original];
        size[original] += 1;
    }
    let window = |r: usize, size: usize| r < BUCKET_FIRST || r + BUCKET_RECENT >= size;
    (0..n)
        .map(|d| {
            let original = keys_of.get(d).copied().unwrap_or(d);
            window(rank[d] as usize, size[original] as usize)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_inside_the_bucket_windows_keep_their_band_records() {
        // Document 0 and its 29 copies, with document 12 of its own between.
        let mut keys_of: Vec<usize> = vec![0; 31];
        keys_of[12] = 12;
        let banded = banded_documents(&keys_of, 31);
        // Of the 30 (0..=11, 13..=30), the first 8 and the last 8 keep theirs.
        let class: Vec<usize> = (0..31).filter(|&d| d != 12).collect();
        for (rank, &d) in class.iter().enumerate() {
            let kept = rank < BUCKET_FIRST || rank >= class.len() - BUCKET_RECENT;
            assert_eq!(banded[d], kept, "document {d}");
        }
        assert!(banded[12]);
        // A class no larger than the windows keeps all.
        assert!(banded_documents(&[0; 16], 16).iter().all(|&b| b));
    }
}
