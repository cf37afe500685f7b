//! What a write reads: the items after the old index's (a run's delta, or
//! the segment a merge appends), and the records of a segment's sections,
//! a piece at a time, each number checked as it is read.

use super::super::{
    u32_at, u64_at, BlockRecord, DocRecord, ExactRecord, Segment, BANDED_LEN, BANDED_SHINGLES,
    BAND_LEN, EXACT_LEN, FEW_LEN, POSTING_LEN,
};
use super::Delta;

/// What is written after an old segment's items: a run's delta (sorted), or
/// a segment whose documents and blocks follow the old one's (a merge of a
/// chunked run's segments, or `index merge`'s later index), streamed
/// without loading it.
pub(super) enum Items<'a> {
    Delta(&'a Delta),
    Segment(Shifted<'a>),
}

/// A segment's items as a write reads them: numbered after `docs`
/// documents and `blocks` blocks (`index merge`'s later index, whose
/// numbers start at 0; 0 and 0 for a chunked run's segment, whose numbers
/// already follow), with the representatives a merge joined to an earlier
/// cluster (`joined`: (representative, the representative it joins),
/// ascending; see `rejoin.rs`).
#[derive(Clone, Copy)]
pub(super) struct Shifted<'a> {
    pub(super) seg: &'a Segment,
    pub(super) docs: u32,
    pub(super) blocks: u32,
    pub(super) joined: &'a [(u32, u32)],
}

impl<'a> Items<'a> {
    /// A segment's items as they are numbered.
    pub(super) fn segment(seg: &'a Segment) -> Items<'a> {
        Items::Segment(Shifted {
            seg,
            docs: 0,
            blocks: 0,
            joined: &[],
        })
    }
}

/// A delta's records or a segment's, one of two iterators: the records of a
/// merge pass through no virtual call each (boxed, they took a fifth of a
/// run in chunks' segment writes).
pub(super) enum Either<A, B> {
    Delta(A),
    Segment(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Either::Delta(a) => a.next(),
            Either::Segment(b) => b.next(),
        }
    }
}

impl<'a> Items<'a> {
    /// The segment whose items these are (none for a delta).
    pub(super) fn read_from(&self) -> Option<&'a Segment> {
        match self {
            Items::Delta(_) => None,
            Items::Segment(s) => Some(s.seg),
        }
    }

    pub(super) fn first_document(&self) -> u64 {
        match self {
            Items::Delta(d) => d.first_document,
            Items::Segment(s) => s.seg.meta.first_document,
        }
    }

    pub(super) fn first_block(&self) -> u64 {
        match self {
            Items::Delta(d) => d.first_block,
            Items::Segment(s) => s.seg.meta.first_block,
        }
    }

    pub(super) fn len(&self, name: &str) -> usize {
        match self {
            Items::Delta(d) => match name {
                "docs" => d.docs.len(),
                "blocks" => d.blocks.len(),
                "exact" => d.exact.len(),
                "postings" => d.postings.len(),
                "members" => d.members.len(),
                "bands" => d.bands.len(),
                "few" => d.few.len(),
                "few_sets" => d.few_sets.len(),
                BANDED_SHINGLES => d.band_prints.as_ref().map_or(0, Vec::len),
                _ => 0,
            },
            Items::Segment(s) => s.seg.count(name),
        }
    }

    pub(super) fn docs(&self) -> impl Iterator<Item = DocRecord> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(d.docs.iter().copied()),
            Items::Segment(Shifted {
                seg,
                docs,
                blocks,
                joined,
            }) => {
                let mut r = seg.walker();
                Either::Segment((seg.doc_base..seg.doc_end_id()).map(move |d| {
                    let mut doc = r.doc(d);
                    // (Each number checked against the segment's own
                    // counts, which the merge checked fit after `docs`.)
                    doc.block_start += u64::from(blocks);
                    doc.rep += docs;
                    let this = u32::try_from(d).unwrap_or(u32::MAX).saturating_add(docs);
                    if doc.rep <= this {
                        if let Ok(i) = joined.binary_search_by_key(&doc.rep, |j| j.0) {
                            // The representative itself is dropped; its
                            // members follow it into the earlier cluster.
                            doc.dropped |= doc.rep == this;
                            doc.rep = joined[i].1;
                        }
                    }
                    doc
                }))
            }
        }
    }

    pub(super) fn blocks(&self) -> impl Iterator<Item = BlockRecord> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(d.blocks.iter().copied()),
            Items::Segment(Shifted {
                seg, docs, blocks, ..
            }) => {
                let mut r = seg.walker();
                Either::Segment((seg.block_base..seg.block_end_id()).map(move |g| {
                    let mut block = r.block(g);
                    block.cluster += blocks;
                    block.doc += docs;
                    block
                }))
            }
        }
    }

    pub(super) fn exact(&self) -> impl Iterator<Item = ExactRecord> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(d.exact.iter().copied()),
            Items::Segment(Shifted { seg: s, blocks, .. }) => {
                Either::Segment(records(s, "exact").map(move |b| {
                    let e = exact_of(&b);
                    // (`last` is never below `source`: its flags are the gap.)
                    let last = s.block_id(e.last);
                    ExactRecord {
                        source: s.block_id(e.source).min(last) + blocks,
                        last: last + blocks,
                        ..e
                    }
                }))
            }
        }
    }

    pub(super) fn pairs(&self, name: &'static str) -> impl Iterator<Item = (u32, u32)> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(
                if name == "postings" {
                    &d.postings
                } else {
                    &d.members
                }
                .iter()
                .copied(),
            ),
            Items::Segment(Shifted { seg: s, blocks, .. }) => {
                Either::Segment(records(s, name).map(pair_of).map(move |(k, g)| {
                    // A posting's key is a fingerprint; a member's, a block.
                    let k = if name == "members" {
                        s.block_id(k) + blocks
                    } else {
                        k
                    };
                    (k, s.block_id(g) + blocks)
                }))
            }
        }
    }

    pub(super) fn bands(&self) -> impl Iterator<Item = (u64, u32, u32)> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(d.bands.iter().copied()),
            Items::Segment(Shifted { seg: s, docs, .. }) => Either::Segment(
                records(s, "bands")
                    .map(|b| band_of(&b))
                    .map(move |(key, table, d)| (key, table, s.doc_id(d) + docs)),
            ),
        }
    }

    pub(super) fn few(&self) -> impl Iterator<Item = (u64, u32)> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(d.few.iter().copied()),
            Items::Segment(Shifted { seg: s, docs, .. }) => Either::Segment(in_order(
                s,
                "few",
                records(s, "few")
                    .map(|b| few_of(&b))
                    .map(move |(h, d)| (h, s.doc_id(d) + docs)),
            )),
        }
    }

    pub(super) fn few_sets(&self) -> impl Iterator<Item = (u32, u64)> + 'a {
        match *self {
            Items::Delta(d) => Either::Delta(d.few_sets.iter().copied()),
            Items::Segment(Shifted { seg: s, docs, .. }) => Either::Segment(in_order(
                s,
                "few_sets",
                (records(s, "few_sets").map(|b| few_set_of(&b)))
                    .map(move |(d, h)| (s.doc_id(d) + docs, h)),
            )),
        }
    }

    /// The prints of the shingles of the documents with band records, in
    /// order (`None` when not known: see [`Delta::band_prints`]).
    pub(super) fn band_prints(&self) -> Option<impl Iterator<Item = u32> + 'a> {
        match *self {
            Items::Delta(d) => d
                .band_prints
                .as_ref()
                .map(|p| Either::Delta(p.iter().copied())),
            Items::Segment(Shifted { seg: s, .. }) => s.knows_banded_shingles().then(|| {
                Either::Segment(in_order(
                    s,
                    BANDED_SHINGLES,
                    records(s, BANDED_SHINGLES).map(|b: [u8; BANDED_LEN]| u32::from_le_bytes(b)),
                ))
            }),
        }
    }
}

/// The `few` records of the index a write starts from (none without one),
/// in order.
pub(in crate::store) fn old_few(old: Option<&Segment>) -> impl Iterator<Item = (u64, u32)> + '_ {
    old.into_iter().flat_map(|o| Items::segment(o).few())
}

/// The band records (key, table, document) of an index, in order (none
/// without one).
pub(in crate::store) fn old_bands(
    old: Option<&Segment>,
) -> impl Iterator<Item = (u64, u32, u32)> + '_ {
    old.into_iter().flat_map(|o| Items::segment(o).bands())
}

/// The `few_sets` records of the index a write starts from (none without
/// one), in order.
pub(in crate::store) fn old_few_sets(
    old: Option<&Segment>,
) -> impl Iterator<Item = (u32, u64)> + '_ {
    old.into_iter().flat_map(|o| Items::segment(o).few_sets())
}

/// Every record of section `name` of `s`, in order (`N` bytes each), read
/// a piece of about a mebibyte at a time; a read that fails ends them (and
/// the segment's status says why). (Read a record at a time, through the
/// reader's windows, the merges of a run in chunks spent a quarter of its
/// time on each record's look-ups.)
pub(super) fn records<'s, const N: usize>(
    s: &'s Segment,
    name: &'static str,
) -> impl Iterator<Item = [u8; N]> + 's {
    let (total, offset) = (s.count(name), s.section(name).offset);
    let per_piece = (PIECE_BYTES / N).max(1);
    let mut r = s.reader();
    #[allow(clippy::cast_possible_truncation)]
    let offset = offset as usize;
    (0..total.div_ceil(per_piece))
        .map_while(move |p| {
            let (at, n) = (p * per_piece, per_piece.min(total - p * per_piece));
            let bytes = r.read(offset + at * N, n * N)?;
            let piece = bytes
                .chunks_exact(N)
                .map(|c| <[u8; N]>::try_from(c).expect("N bytes"))
                .collect::<Vec<_>>();
            // A merge's spent input gives back what it read (but for the
            // sections of documents of few shingles, read more than once).
            if !matches!(name, "few" | "few_sets") {
                s.release_before((offset + (at + n) * N) as u64);
            }
            Some(piece)
        })
        .flatten()
}

/// Bytes read or written at once by a write's walks.
pub(super) const PIECE_BYTES: usize = 256 << 10;

/// `items` of sorted section `name` of `s`, each checked to come after the
/// one before it (the segment fails otherwise): a write merges them with
/// others in order, and a look-up bisects them.
pub(super) fn in_order<'s, T: Ord + Copy + 's>(
    s: &'s Segment,
    name: &'static str,
    items: impl Iterator<Item = T> + 's,
) -> impl Iterator<Item = T> + 's {
    let mut last: Option<T> = None;
    items.inspect(move |&x| {
        if last.is_some_and(|l| x < l) {
            s.fail(format!("the records of section {name} are out of order"));
        }
        last = Some(x);
    })
}

pub(super) fn exact_of(b: &[u8; EXACT_LEN]) -> ExactRecord {
    let (source, flags) = (u32_at(b, 24), u32_at(b, 28));
    ExactRecord {
        key: u128::from(u64_at(b, 0)) | (u128::from(u64_at(b, 8)) << 64),
        similarity: f64::from_bits(u64_at(b, 16)),
        source,
        last: source.saturating_add(flags >> 1),
        exact: flags & 1 != 0,
    }
}

/// The last u32 of an exact record: bit 0 whether the text is the first
/// copy's, the bits above how many blocks its source place has after the
/// first.
pub(super) fn exact_flags(e: &ExactRecord) -> u32 {
    u32::from(e.exact) | (e.last - e.source) << 1
}

pub(super) fn pair_of(b: [u8; POSTING_LEN]) -> (u32, u32) {
    (u32_at(&b, 0), u32_at(&b, 4))
}

pub(super) fn band_of(b: &[u8; BAND_LEN]) -> (u64, u32, u32) {
    (u64_at(b, 0), u32_at(b, 8), u32_at(b, 12))
}

/// A `few` record: (shingle, document).
pub(in crate::store) fn few_of(b: &[u8; FEW_LEN]) -> (u64, u32) {
    (u64_at(b, 0), u32_at(b, 8))
}

/// A `few_sets` record: (document, shingle).
pub(in crate::store) fn few_set_of(b: &[u8; FEW_LEN]) -> (u32, u64) {
    (u32_at(b, 0), u64_at(b, 4))
}
