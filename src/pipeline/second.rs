//! The second pass over the blocks (both levels): their sketches, made while
//! earlier blocks are being decided.

use super::Scratch;
use crate::config::Config;
use crate::input::Corpus;
use crate::segment::Block;
use crate::shingle::{hash_block_words, Sketch};

/// Documents whose blocks the second pass sketches as one task, of a batch
/// of `docs`: 64 at most (one vector of sketches a piece, not one a
/// document), and enough pieces to keep every thread busy (four a thread)
/// when the batch is small (a run with an index, or in chunks).
pub(super) fn sketch_piece(docs: usize) -> usize {
    docs.div_ceil(4 * rayon::current_num_threads()).clamp(1, 64)
}

/// The second pass over one document (both levels): its blocks' shingles, or
/// only their exact keys when the document was dropped whole (to count the
/// copies it holds of first copies). With `kept`, the document's word hashes
/// from the first pass and its blocks' word counts, the text is not read
/// (nor `blocks`, which may then be empty). The sketches are appended to
/// `out` (one vector for a batch's documents, not one each: a one-line
/// record's block made an allocation of its own).
/// `scratch` and `bytes` are buffers reused from document to document.
#[allow(clippy::too_many_arguments)]
pub(super) fn block_sketches(
    corpus: &Corpus,
    d: usize,
    blocks: &[Block],
    dropped: bool,
    kept: Option<(&[u64], &[u32])>,
    config: &Config,
    (scratch, bytes): Scratch<'_>,
    out: &mut Vec<Sketch>,
) {
    let text = kept.is_none().then(|| corpus.text(&corpus.documents[d]));
    let mut at = 0;
    out.extend(
        (0..kept.map_or(blocks.len(), |(_, counts)| counts.len())).map(|i| {
            let hashes: &[u64] = if let Some((words, counts)) = kept {
                let n = counts[i] as usize;
                at += n;
                &words[at - n..at]
            } else {
                let text = text.as_deref().expect("read above when no words are kept");
                scratch.clear();
                let content = &text[blocks[i].content.clone()];
                hash_block_words(content, config.strip_markup, config.seed, scratch);
                scratch
            };
            block_sketch(hashes, dropped, config, bytes)
        }),
    );
}

/// The sketch of a block of word hashes `hashes`: its shingles and exact
/// key, or its exact key alone when that is all that is read of it: the
/// block is shorter than --min-words (never searched for nor indexed,
/// `detect`), or `exact_only` (a dropped document's, whose copies of first
/// copies are only counted). `bytes` is scratch.
pub(super) fn block_sketch(
    hashes: &[u64],
    exact_only: bool,
    config: &Config,
    bytes: &mut Vec<u8>,
) -> Sketch {
    if exact_only || hashes.len() < config.min_words {
        Sketch::exact_only(hashes, config.seed, bytes)
    } else {
        Sketch::from_word_hashes_with(hashes, config.block_shingle, config.seed, bytes)
    }
}

/// The distinct, sorted `config.doc_shingle`-word shingles of a document's
/// word hashes, marked where they first occur: the set [`crate::cluster::Candidates::sketch`]
/// keeps ([`crate::cluster::positioned_set`]).
pub(super) fn doc_shingle_set(words: &[u64], config: &Config) -> Vec<u64> {
    crate::cluster::positioned_set(crate::shingle::shingles_of(
        words,
        config.doc_shingle,
        config.seed,
    ))
}
