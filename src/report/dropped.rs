//! Copies that documents dropped whole hold of first copies, counted as they
//! come (see [`DroppedCopies`]).

/// Copies that documents dropped whole hold of first copies, counted by
/// first copy: (first copy, documents, copies), in batches whose documents
/// are in no other batch (a chunk's, or the late copies found at the end),
/// merged by first copy whenever the list has doubled.
#[derive(Default)]
pub(super) struct DroppedCopies {
    counts: Vec<(u32, u32, u32)>,
    /// Its length when it was last merged.
    merged: usize,
}

impl DroppedCopies {
    /// Adds one batch of (first copy, document) pairs.
    pub(super) fn add(&mut self, pairs: impl IntoIterator<Item = (u32, u32)>) {
        let mut pairs: Vec<(u32, u32)> = pairs.into_iter().collect();
        pairs.sort_unstable();
        let mut last = None;
        for (first, doc) in pairs {
            match self.counts.last_mut() {
                Some(c) if last.is_some_and(|(f, _)| f == first) => {
                    c.1 += u32::from(last != Some((first, doc)));
                    c.2 += 1;
                }
                _ => self.counts.push((first, 1, 1)),
            }
            last = Some((first, doc));
        }
        if self.counts.len() >= 2 * self.merged.max(1 << 16) {
            self.merge();
        }
    }

    /// Merges the counts of each first copy into one (its documents in
    /// different batches are different documents).
    fn merge(&mut self) {
        self.counts.sort_unstable_by_key(|c| c.0);
        self.counts.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 += later.1;
                kept.2 += later.2;
            }
            same
        });
        self.counts.shrink_to_fit();
        self.merged = self.counts.len();
    }

    /// Bytes its counts take (their list's capacity).
    pub(super) fn held_bytes(&self) -> usize {
        self.counts.capacity() * std::mem::size_of::<(u32, u32, u32)>()
    }

    /// (first copy, documents, copies) of each first copy, in order.
    pub(super) fn counted(mut self) -> Vec<(u32, u32, u32)> {
        self.merge();
        self.counts
    }
}
