//! The first pass alone, for `benches/`.

use super::{sketch_document, Batched, PartBlocks, Silent};
use crate::cluster::Candidates;
use crate::config::{Config, Level};
use crate::input::Corpus;
use crate::sketch::hll::Hll;

/// The sketch stage of a plain run with both levels, on one thread: the first
/// pass over every document (blocks, word hashes, block n-gram counts, the
/// document's candidate keys), as [`super::analyze`] makes it. For `benches/`, which
/// compare it with a plain tokenizing pass over the same bytes; the answer is
/// the number of word hashes and keys made.
#[doc(hidden)]
/// `candidates` are made once per run ([`Candidates::new`]), not per pass.
#[must_use]
pub fn sketch_stage(corpus: &Corpus, config: &Config, candidates: Option<&Candidates>) -> usize {
    let mut hll = (config.level == Level::Both).then(Hll::new);
    let mut words = Vec::new();
    let (mut hashes, mut bytes) = (Vec::new(), Vec::new());
    let mut made = 0;
    let mut part = PartBlocks::default();
    for doc in &corpus.documents {
        words.clear();
        let sketch = sketch_document(
            corpus,
            doc,
            config,
            candidates,
            hll.as_mut(),
            (
                &mut words,
                (true, false),
                (&mut hashes, &mut bytes),
                &mut |_, _| None,
            ),
            (&mut part, &mut Batched::new(&Silent), None),
        );
        made += words.len() + sketch.keys.len();
    }
    made
}
