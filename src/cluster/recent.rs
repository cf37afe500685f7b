//! What the index says of the documents [`super::cluster_pairs`] compares
//! with: their representatives, the representatives' shingles and lengths,
//! read once for the many later documents that ask.

use crate::prior::{Looker, Prior};
use std::collections::HashMap;

/// The index's documents' representatives, and representatives' shingles
/// and bytes of text, that [`super::cluster_pairs`] read last, kept while
/// they are few.
#[derive(Default)]
pub(super) struct Recent<'h> {
    /// Look-ups into the index, made when first needed: the records of
    /// documents side by side are read once for all of them.
    looker: Option<Box<dyn Looker + 'h>>,
    reps: HashMap<usize, usize>,
    /// Per representative: its bytes of text and its shingles.
    shingles: HashMap<usize, (usize, Vec<u64>)>,
    /// Shingles held in `shingles`.
    held: usize,
}

/// Entries of [`Recent::reps`], and shingles of [`Recent::shingles`], kept
/// at most (1 MiB and 2 MiB); past that, they start again.
const RECENT_REPS: usize = 1 << 16;
/// See [`RECENT_REPS`].
const RECENT_SHINGLES: usize = 1 << 18;

impl<'h> Recent<'h> {
    fn looker(&mut self, h: &'h dyn Prior) -> &mut (dyn Looker + 'h) {
        self.looker.get_or_insert_with(|| h.looker()).as_mut()
    }

    /// The representative of the index's document `c`.
    pub(super) fn rep(&mut self, h: &'h dyn Prior, c: usize) -> usize {
        if self.reps.len() >= RECENT_REPS {
            self.reps.clear();
        }
        if let Some(&r) = self.reps.get(&c) {
            return r;
        }
        let r = self.looker(h).doc(c).rep as usize;
        self.reps.insert(c, r);
        r
    }

    /// Reads the shingles and lengths of the index's representatives `reps`
    /// not held;
    /// past [`RECENT_SHINGLES`], only those of `reps` are kept with them.
    pub(super) fn fetch_shingles(&mut self, h: &'h dyn Prior, reps: &[usize]) {
        let mut missing: Vec<(usize, (usize, Vec<u64>))> = Vec::new();
        for &r in reps {
            if !self.shingles.contains_key(&r) {
                let (bytes, shingles) = self.looker(h).doc_text(r);
                missing.push((r, (usize::try_from(bytes).unwrap_or(usize::MAX), shingles)));
            }
        }
        let more: usize = missing.iter().map(|(_, (_, s))| s.len()).sum();
        if self.held + more > RECENT_SHINGLES {
            self.shingles.retain(|r, _| reps.contains(r));
            self.held = self.shingles.values().map(|(_, s)| s.len()).sum();
        }
        self.held += more;
        self.shingles.extend(missing);
    }

    /// The shingles of `r`, one of the `reps` last fetched.
    pub(super) fn shingles(&self, r: usize) -> &[u64] {
        self.shingles.get(&r).map_or(&[], |(_, s)| s.as_slice())
    }

    /// The bytes of text of `r`, one of the `reps` last fetched.
    pub(super) fn bytes(&self, r: usize) -> usize {
        self.shingles.get(&r).map_or(0, |&(bytes, _)| bytes)
    }
}
