//! Whether one index of a merge already holds every document of the other
//! (`index merge`): `(a + empty) + a`, a batch merged into the main index
//! twice, or an index built again over a file it was built from. Its
//! documents would be held twice, each a copy of itself, and later runs
//! would report them against both. `merge_files` refuses it, as it refuses
//! one index given twice.
//!
//! A document is known by a print of what its text gave it, not of what a
//! run decided of it (its representative, whether it was dropped, its
//! blocks' verdicts depend on what came before it): its id, file name, line
//! and bytes, and each of its blocks' words, byte, character and line
//! spans. Two indexes of other documents share no print but by a collision
//! of 64-bit hashes, or where they hold the same file under the same name
//! and id (a file indexed twice: what is refused).

use super::Segment;
use xxhash_rust::xxh3::Xxh3Default;

/// The prints of the documents of `seg`, in order, each given to `each`
/// (which says whether to go on). `false` when `each` stopped the walk.
fn walk_prints(seg: &Segment, mut each: impl FnMut(u64) -> bool) -> bool {
    let (mut docs, mut blocks, mut strings) = (seg.walker(), seg.walker(), seg.walker());
    let count = seg.documents();
    for d in 0..count {
        let doc = docs.doc(d);
        let end = docs.doc_end(d);
        let mut hasher = Xxh3Default::new();
        for at in [doc.id, doc.path] {
            let bytes = strings.string_bytes(at).unwrap_or_default();
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        hasher.update(&u64::from(doc.line).to_le_bytes());
        hasher.update(&doc.bytes.to_le_bytes());
        let start = usize::try_from(doc.block_start).unwrap_or(usize::MAX);
        hasher.update(&(end.saturating_sub(start) as u64).to_le_bytes());
        for g in start..end.min(seg.block_end_id()) {
            let b = blocks.block(g);
            hasher.update(&u64::from(b.words).to_le_bytes());
            for v in b.bytes.into_iter().chain(b.chars) {
                hasher.update(&v.to_le_bytes());
            }
            for v in b.lines {
                hasher.update(&v.to_le_bytes());
            }
        }
        if !each(hasher.digest()) {
            return false;
        }
    }
    true
}

/// When one of `a` and `b` holds at least one document and every one of
/// them is in the other (by their prints): that one (`true`: `b`) and its
/// count of documents. The prints of the smaller one are held, 8 bytes
/// each, at most `budget` bytes: past it, those of a sample (the prints
/// whose top bits are 0, as many as fit), which a document in the sample
/// the other lacks tells apart as well.
pub(super) fn held_by_other(a: &Segment, b: &Segment, budget: usize) -> Option<(bool, usize)> {
    let b_smaller = b.documents() <= a.documents();
    let (small, big) = if b_smaller { (b, a) } else { (a, b) };
    let count = small.documents();
    if count == 0 {
        return None;
    }
    let fits = (budget / 8).max(1024);
    let mut shift = 0u32;
    while shift < 63 && (count >> shift) > fits {
        shift += 1;
    }
    let sampled = |print: u64| shift == 0 || print >> (64 - shift) == 0;
    let mut prints: Vec<u64> = Vec::new();
    walk_prints(small, |p| {
        if sampled(p) {
            prints.push(p);
        }
        true
    });
    prints.sort_unstable();
    prints.dedup();
    if prints.is_empty() {
        return None;
    }
    let mut seen = vec![false; prints.len()];
    let mut left = prints.len();
    walk_prints(big, |p| {
        if sampled(p) {
            if let Ok(i) = prints.binary_search(&p) {
                if !std::mem::replace(&mut seen[i], true) {
                    left -= 1;
                }
            }
        }
        left > 0
    });
    (left == 0 && small.status().is_ok() && big.status().is_ok()).then_some((b_smaller, count))
}
