//! Previews of shared blocks whose first copies are in earlier chunks,
//! read from those chunks' texts.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The preview of first copy `source`: its own text when this chunk or the
/// whole corpus has it, else (a first copy stored in an index, which holds
/// no text) that of this chunk's copy `block`.
pub(super) fn preview_of(
    (earlier, texts): (&dyn Texts, &EarlierTexts),
    b: &mut Builder<'_>,
    source: usize,
    block: usize,
) -> String {
    let analysis = b.analysis;
    if !analysis.stored(source) {
        let (doc, blk) = analysis.block(source);
        return preview(b.content(doc, blk));
    }
    if let Some(stored) = b.look(|h| h.block(source)) {
        if let Some(doc) = (stored.doc as usize).checked_sub(analysis.indexed_docs) {
            #[allow(clippy::cast_possible_truncation)]
            let span = stored.bytes[0] as usize..stored.bytes[1] as usize;
            // Empty when it cannot be read back: the run fails with why.
            return texts
                .get(earlier, doc)
                .get(span)
                .map(preview)
                .unwrap_or_default();
        }
    }
    let (doc, blk) = analysis.block(block);
    preview(b.content(doc, blk))
}

/// Earlier chunks' texts read for previews, the last few, shared by the
/// threads: a record of 60,000 short lines was decoded again for each of
/// them (60 s of a run's 62).
#[derive(Default)]
pub(super) struct EarlierTexts(std::sync::Mutex<Vec<(usize, std::sync::Arc<str>)>>);

impl EarlierTexts {
    /// The text of an earlier chunk's document `doc` (at most 16 texts and
    /// 16 MiB are kept, past one).
    fn get(&self, earlier: &dyn Texts, doc: usize) -> std::sync::Arc<str> {
        let held = |texts: &Vec<(usize, std::sync::Arc<str>)>| {
            texts
                .iter()
                .find(|(d, _)| *d == doc)
                .map(|(_, t)| t.clone())
        };
        if let Some(text) = held(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ) {
            return text;
        }
        let text: std::sync::Arc<str> = earlier.text_of(doc).into();
        let mut texts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
        if texts.len() >= 16 || bytes + text.len() > 16 << 20 {
            texts.clear();
        }
        texts.push((doc, text.clone()));
        text
    }
}
