//! The key rows a run spread over many machines shuffles, as compact
//! little-endian records cut into one piece per reducer on the machine that
//! made them ([`band_pieces`], [`block_key_pieces`]), and what each reducer
//! makes of the pieces it receives ([`pairs_of_pieces`], [`shared_of_pieces`]):
//! one shuffle of a few large binary records a stage, instead of a row a key.

use super::{block_number, bucket_pairs};

/// Bytes of a band row: table (u32), key (u64), document (u32).
const BAND_ROW: usize = 16;

/// Bytes of a block key row: kind (u8: 0 exact, 1 posting), two key halves
/// (u64), block (i64: its [`block_number`], or `-(number + 1)` for a block of
/// a document dropped whole).
const BLOCK_ROW: usize = 25;

/// The reducer of a key: any fixed function of it spreads keys evenly (the
/// answer does not depend on where a key goes).
fn reducer_of(a: u64, b: u64, reducers: usize) -> usize {
    let mixed = (a ^ b.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let reducers = u64::try_from(reducers.max(1)).expect("few reducers");
    usize::try_from((mixed >> 32) % reducers).expect("fits")
}

/// The LSH band rows of documents, cut into one piece per reducer: each
/// `(table, key, document)` goes to the reducer of its (table, key).
#[must_use]
pub fn band_pieces(rows: &[(u32, u64, u32)], reducers: usize) -> Vec<Vec<u8>> {
    let mut pieces = vec![Vec::new(); reducers.max(1)];
    for &(table, key, doc) in rows {
        let piece = &mut pieces[reducer_of(key, u64::from(table), reducers)];
        piece.extend_from_slice(&table.to_le_bytes());
        piece.extend_from_slice(&key.to_le_bytes());
        piece.extend_from_slice(&doc.to_le_bytes());
    }
    pieces
}

/// The candidate pairs of the LSH buckets whose rows a reducer received
/// (pieces of [`band_pieces`]): each bucket (documents of one table and
/// key) in input order gives its pairs as one run makes them
/// ([`bucket_pairs`]); sorted, without repeats.
///
/// # Panics
/// On a piece that is not whole rows.
#[must_use]
pub fn pairs_of_pieces(pieces: &[&[u8]]) -> Vec<(u32, u32)> {
    let mut rows: Vec<(u32, u64, u32)> = Vec::new();
    for piece in pieces {
        assert!(
            piece.len() % BAND_ROW == 0,
            "band rows are {BAND_ROW} bytes"
        );
        rows.extend(piece.chunks_exact(BAND_ROW).map(|r| {
            (
                u32::from_le_bytes(r[..4].try_into().expect("4 bytes")),
                u64::from_le_bytes(r[4..12].try_into().expect("8 bytes")),
                u32::from_le_bytes(r[12..].try_into().expect("4 bytes")),
            )
        }));
    }
    rows.sort_unstable();
    let mut pairs = Vec::new();
    let mut members = Vec::new();
    for bucket in rows.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if bucket.len() > 1 {
            members.clear();
            members.extend(bucket.iter().map(|r| r.2));
            members.dedup();
            pairs.extend(bucket_pairs(&members));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// A batch of blocks' keys, as the features of a batch of lines give them
/// (`Job.feature_columns` of the Python package): the document number of
/// the batch's first line, then per block its line in the batch, position
/// in its document, words and exact key (two halves), and per posting key
/// its block (row in the block columns) and key.
#[derive(Clone, Copy, Debug)]
pub struct BlockKeys<'a> {
    /// The document number of the batch's first line.
    pub base: u32,
    /// Per block: its line in the batch.
    pub line: &'a [u32],
    /// Per block: its position in its document.
    pub position: &'a [u32],
    /// Per block: its words after normalization.
    pub words: &'a [u32],
    /// Per block: its exact key, low and high halves.
    pub exact: (&'a [u64], &'a [u64]),
    /// Per posting key: its block (row in the block columns) and the key.
    pub postings: (&'a [u32], &'a [u32]),
}

/// The key rows of blocks, cut into one piece per reducer: the exact key of
/// each block of a kept document that has words, and a posting key of each
/// of its distinct shingles (`dropped`: the documents dropped whole,
/// ascending). With `with_dropped` (a report is made), blocks of dropped
/// documents give their exact key too, numbered `-(number + 1)`: the report
/// counts their copies of shared blocks.
#[must_use]
pub fn block_key_pieces(
    batches: &[BlockKeys<'_>],
    dropped: &[u32],
    with_dropped: bool,
    reducers: usize,
) -> Vec<Vec<u8>> {
    let mut pieces = vec![Vec::new(); reducers.max(1)];
    let mut push = |kind: u8, k1: u64, k2: u64, block: i64| {
        let piece = &mut pieces[reducer_of(k1, k2 ^ u64::from(kind), reducers)];
        piece.push(kind);
        piece.extend_from_slice(&k1.to_le_bytes());
        piece.extend_from_slice(&k2.to_le_bytes());
        piece.extend_from_slice(&block.to_le_bytes());
    };
    let mut kept = Vec::new();
    let mut numbers = Vec::new();
    for b in batches {
        kept.clear();
        numbers.clear();
        for i in 0..b.line.len() {
            let doc = b.base + b.line[i];
            let number = i64::try_from(block_number(doc, b.position[i])).expect("63 bits");
            let is_dropped = dropped.binary_search(&doc).is_ok();
            let long_enough = b.words[i] > 0;
            kept.push(long_enough && !is_dropped);
            numbers.push(number);
            if long_enough && (!is_dropped || with_dropped) {
                let n = if is_dropped { -number - 1 } else { number };
                push(0, b.exact.0[i], b.exact.1[i], n);
            }
        }
        for (&row, &key) in b.postings.0.iter().zip(b.postings.1) {
            let row = row as usize;
            if kept[row] {
                push(1, u64::from(key), 0, numbers[row]);
            }
        }
    }
    pieces
}

/// The blocks that share a key, of the rows a reducer received (pieces of
/// [`block_key_pieces`]): where two or more blocks of kept documents share
/// one, all of them and the dropped documents' blocks with it; where one
/// does, the dropped documents' blocks that share its exact key (numbered
/// `-(number + 1)`). Sorted, without repeats.
///
/// # Panics
/// On a piece that is not whole rows.
#[must_use]
pub fn shared_of_pieces(pieces: &[&[u8]]) -> Vec<i64> {
    let mut rows: Vec<(u8, u64, u64, i64)> = Vec::new();
    for piece in pieces {
        assert!(
            piece.len() % BLOCK_ROW == 0,
            "block key rows are {BLOCK_ROW} bytes"
        );
        rows.extend(piece.chunks_exact(BLOCK_ROW).map(|r| {
            (
                r[0],
                u64::from_le_bytes(r[1..9].try_into().expect("8 bytes")),
                u64::from_le_bytes(r[9..17].try_into().expect("8 bytes")),
                i64::from_le_bytes(r[17..].try_into().expect("8 bytes")),
            )
        }));
    }
    rows.sort_unstable();
    let mut shared = Vec::new();
    for group in rows.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
        if group.len() < 2 {
            continue;
        }
        let kept = group.iter().filter(|r| r.3 >= 0).count();
        let blocks = group.iter().map(|r| r.3);
        match kept {
            0 => {}
            1 => shared.extend(blocks.filter(|&n| n < 0)),
            _ => shared.extend(blocks),
        }
    }
    shared.sort_unstable();
    shared.dedup();
    shared
}
