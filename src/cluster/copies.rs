//! Exact copies found in the first pass, by their word hashes.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// The documents of a part of the first pass, by the hash of their word
/// hashes, to find exact copies: (document, where its words start, how many).
#[derive(Default)]
pub(crate) struct Copies(HashMap<u64, (usize, usize, usize)>);

impl Copies {
    /// The earlier document of which document `d`, whose word hashes are
    /// `words[at..]`, is an exact copy (`words` holds the part's so far);
    /// else `d` is remembered as an original.
    pub(crate) fn original(&mut self, words: &[u64], at: usize, d: usize) -> Option<usize> {
        let own = &words[at..];
        let mut text_hash = xxhash_rust::xxh3::Xxh3::new();
        for w in own {
            text_hash.update(&w.to_le_bytes());
        }
        match self.0.entry(text_hash.digest()) {
            Entry::Occupied(e) => {
                let (original, from, len) = *e.get();
                (words[from..from + len] == *own).then_some(original)
            }
            Entry::Vacant(e) => {
                e.insert((d, at, own.len()));
                None
            }
        }
    }
}
