//! Exact copies found in the first pass, by their word hashes.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// The documents of a part of the first pass, by the hash of their word
/// hashes, to find exact copies: (document, where its words start, how many);
/// and room for [`WORDS_AT_ONCE`] word hashes' bytes, reused.
#[derive(Default)]
pub(crate) struct Copies(HashMap<u64, (usize, usize, usize)>, Vec<u8>);

/// Word hashes written out as bytes and fed to the hash at a time.
const WORDS_AT_ONCE: usize = 512;

impl Copies {
    /// The earlier document of which document `d`, whose word hashes are
    /// `words[at..]`, is an exact copy (`words` holds the part's so far);
    /// else `d` is remembered as an original.
    pub(crate) fn original(&mut self, words: &[u64], at: usize, d: usize) -> Option<usize> {
        let own = &words[at..];
        // The xxh3 of the words' bytes, fed 4 KiB at a time: the same value
        // as fed 8 bytes a word, which took 4.8% of a run's instructions
        // (the 19 MB corpus of `benches/make_corpus.py`).
        let mut text_hash = xxhash_rust::xxh3::Xxh3::new();
        for piece in own.chunks(WORDS_AT_ONCE) {
            crate::shingle::write_bytes(piece, &mut self.1);
            text_hash.update(&self.1);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_found_by_all_their_words_across_the_hashed_pieces() {
        for len in [
            1,
            WORDS_AT_ONCE - 1,
            WORDS_AT_ONCE,
            WORDS_AT_ONCE + 1,
            3 * WORDS_AT_ONCE + 7,
        ] {
            let doc: Vec<u64> = (0..len as u64).map(crate::sketch::mix).collect();
            // Its key is the xxh3 of all its words' bytes, however fed.
            let mut bytes = Vec::new();
            crate::shingle::write_bytes(&doc, &mut bytes);
            let mut copies = Copies::default();
            assert_eq!(copies.original(&doc, 0, 0), None);
            assert_eq!(
                copies.0.keys().copied().collect::<Vec<_>>(),
                [xxhash_rust::xxh3::xxh3_64(&bytes)]
            );
            let mut words = doc.clone();
            words.extend(&doc);
            assert_eq!(copies.original(&words, len, 1), Some(0), "{len} words");
            // A word changed in the last piece: not a copy.
            let mut other = doc.clone();
            *other.last_mut().unwrap() ^= 1;
            words.extend(&other);
            assert_eq!(copies.original(&words, 2 * len, 2), None, "{len} words");
        }
    }
}
