//! Writing an index: the old one's sections merged with a run's new items,
//! into a temporary file that replaces the old one only once it is complete
//! and on disk.

use super::rejoin::MergeMemory;
use super::{
    now, BlockRecord, DocRecord, ExactRecord, IndexParams, Meta, SectionEntry, Segment,
    BANDED_SHINGLES, BLOCK_LEN, BUCKET_FIRST, BUCKET_RECENT, CHUNK, DATA_START, DOC_LEN,
    FORMAT_VERSION, HEADER_LEN, MAGIC, MEMBERS_KEPT, POSTING_CAP,
};
use crate::error::{Error, Result};
use crate::targets::{Staged, Target};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use xxhash_rust::xxh3::{xxh3_64, Xxh3Default};

/// A run's new items, numbered after the index's (ids are global); the
/// offsets in documents and blocks point into the delta's own arrays.
#[derive(Debug, Default)]
pub struct Delta {
    /// Global number of its first document (the documents before it).
    pub first_document: u64,
    /// Global number of its first block.
    pub first_block: u64,
    /// New documents.
    pub docs: Vec<DocRecord>,
    /// New blocks.
    pub blocks: Vec<BlockRecord>,
    /// New exact-text keys.
    pub exact: Vec<ExactRecord>,
    /// New postings (shingle fingerprint, first copy).
    pub postings: Vec<(u32, u32)>,
    /// New copies (first copy, copy).
    pub members: Vec<(u32, u32)>,
    /// New bucket entries (key, table, document).
    pub bands: Vec<(u64, u32, u32)>,
    /// Shingles of new documents of few shingles, which have no band
    /// records: (shingle, document).
    pub few: Vec<(u64, u32)>,
    /// The same, by document: (document, shingle).
    pub few_sets: Vec<(u32, u64)>,
    /// The prints of the shingles of new documents with band records
    /// (`banded_shingles`, see the module doc of `store`), in any order;
    /// `None` when not known (the file is then written without them).
    pub band_prints: Option<Vec<u32>>,
    /// Shingles of new indexed first copies.
    pub block_shingles: Vec<u64>,
    /// Shingles of new representative documents.
    pub doc_shingles: Vec<u64>,
    /// Ids and file names of new documents.
    pub strings: Vec<u8>,
}

impl Delta {
    /// Adds a string, returning its (offset, length).
    pub fn string(&mut self, s: &str) -> (u64, u32) {
        let at = self.strings.len() as u64;
        self.strings.extend_from_slice(s.as_bytes());
        (at, u32::try_from(s.len()).unwrap_or(u32::MAX))
    }

    /// About the bytes its records take in a segment (directories and
    /// padding aside): what [`Segment::file_len`] of its segment would
    /// be, to weigh it against a segment's before it is written.
    #[must_use]
    pub fn stored_bytes(&self) -> u64 {
        use super::{BANDED_LEN, BAND_LEN, EXACT_LEN, FEW_LEN, MEMBER_LEN, POSTING_LEN};
        let records = [
            (self.docs.len(), DOC_LEN),
            (self.blocks.len(), BLOCK_LEN),
            (self.exact.len(), EXACT_LEN),
            (self.postings.len(), POSTING_LEN),
            (self.members.len(), MEMBER_LEN),
            (self.bands.len(), BAND_LEN),
            (self.few.len() + self.few_sets.len(), FEW_LEN),
            (self.band_prints.as_ref().map_or(0, Vec::len), BANDED_LEN),
            (self.block_shingles.len() + self.doc_shingles.len(), 8),
            (self.strings.len(), 1),
        ];
        records
            .iter()
            .map(|&(n, len)| (n * len) as u64)
            .sum::<u64>()
            + DATA_START
    }

    /// The delta with its records in the order a segment stores them.
    fn sorted(mut self) -> Delta {
        // Band keys, shingles and fingerprints are hashes: spread by their
        // top bits first, in the order `sort_unstable` gives (a chunk of
        // six-word records under SimHash has 20 band records a document:
        // their comparison sort was a tenth of a run in chunks).
        self.exact.sort_unstable_by_key(exact_key);
        crate::hashsort::sort_by_hash(&mut self.postings, |p| u64::from(p.0) << 32);
        self.members.sort_unstable();
        crate::hashsort::sort_by_hash(&mut self.bands, |b| b.0);
        crate::hashsort::sort_by_hash(&mut self.few, |f| f.0);
        self.few_sets.sort_unstable();
        if let Some(prints) = &mut self.band_prints {
            prints.sort_unstable();
            prints.dedup();
        }
        self
    }
}

/// Writes whole 4 KiB chunks and their checksums.
struct ChunkWriter<'c, W: Write> {
    out: W,
    chunk: Vec<u8>,
    sums: Vec<u64>,
    /// Bytes written so far, the header page included.
    pos: u64,
    /// Bytes written to a scratch segment, counted as they go (see
    /// `spent.rs`); `None` for another file.
    counted: Option<&'c Cell<u64>>,
}

impl<W: Write> ChunkWriter<'_, W> {
    /// Counts `bytes` written to a scratch segment.
    fn count(&self, bytes: u64) {
        if let Some(counted) = self.counted {
            counted.set(counted.get() + bytes);
            super::spent::wrote(bytes);
        }
    }

    fn write(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        self.pos += bytes.len() as u64;
        while !bytes.is_empty() {
            let take = (CHUNK - self.chunk.len()).min(bytes.len());
            self.chunk.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.chunk.len() == CHUNK {
                self.sums.push(xxh3_64(&self.chunk));
                self.out.write_all(&self.chunk)?;
                self.count(CHUNK as u64);
                self.chunk.clear();
            }
        }
        Ok(())
    }

    /// Pads to the next chunk boundary.
    fn pad(&mut self) -> std::io::Result<()> {
        if !self.chunk.is_empty() {
            let zeros = vec![0u8; CHUNK - self.chunk.len()];
            self.write(&zeros)?;
        }
        Ok(())
    }
}

/// A check of a record's bytes that fails its segment when it is wrong.
type RecordCheck = fn(&Segment, &[u8]) -> bool;

/// Sections as they are written.
struct Sections<'c, W: Write> {
    w: ChunkWriter<'c, W>,
    table: BTreeMap<String, SectionEntry>,
}

impl<W: Write> Sections<'_, W> {
    fn begin(&mut self) -> u64 {
        self.w.pos
    }

    fn end(&mut self, name: &str, start: u64, dir_bits: u32) -> std::io::Result<()> {
        let len = self.w.pos - start;
        self.w.pad()?;
        self.table.insert(
            name.to_owned(),
            SectionEntry {
                offset: start,
                len,
                dir_bits,
            },
        );
        Ok(())
    }

    /// A section from raw bytes of the old index followed by new records.
    fn concat<T>(
        &mut self,
        name: &str,
        old: Option<&Segment>,
        new: impl Iterator<Item = T>,
        encode: impl Fn(&T, &mut Vec<u8>),
    ) -> std::io::Result<()> {
        let start = self.begin();
        if let Some(old) = old {
            self.copy(old, name)?;
        }
        let mut buf = Vec::with_capacity(PIECE_BYTES);
        for record in new {
            encode(&record, &mut buf);
            if buf.len() >= PIECE_BYTES {
                self.w.write(&buf)?;
                buf.clear();
            }
        }
        self.w.write(&buf)?;
        self.end(name, start, 0)
    }

    /// The bytes of section `name` of `from` as they are.
    fn copy(&mut self, from: &Segment, name: &str) -> std::io::Result<()> {
        let s = from.section(name);
        let mut r = from.reader();
        // Documents' and blocks' records are checked as they go (see
        // `Segment::doc_fits`), whole records a piece.
        let (record, fits): (u64, RecordCheck) = match name {
            "docs" => (DOC_LEN as u64, |s, b| s.doc_fits(&doc_of(b))),
            "blocks" => (BLOCK_LEN as u64, |s, b| s.block_fits(&block_of(b))),
            _ => (1, |_, _| true),
        };
        let piece = (PIECE_BYTES as u64 / record).max(1) * record;
        let mut at = 0;
        while at < s.len {
            let take = (s.len - at).min(piece);
            #[allow(clippy::cast_possible_truncation)]
            let bytes = r.read((s.offset + at) as usize, take as usize);
            if let Some(bytes) = bytes {
                if record > 1 {
                    #[allow(clippy::cast_possible_truncation)]
                    let all = bytes.chunks_exact(record as usize).all(|b| fits(from, b));
                    if !all {
                        return Ok(());
                    }
                }
            }
            self.w.write(bytes.unwrap_or(&[]))?;
            at += take;
            // A merge's spent input gives back what it read.
            from.release_before(s.offset + at);
        }
        Ok(())
    }

    /// A section of the old index's bytes followed by those of `new`'s:
    /// the sections whose records hold no number a write changes (shingles,
    /// ids and paths), copied a piece at a time, never held whole.
    fn concat_raw(
        &mut self,
        name: &str,
        old: Option<&Segment>,
        new: &Items<'_>,
    ) -> std::io::Result<()> {
        let start = self.begin();
        if let Some(old) = old {
            self.copy(old, name)?;
        }
        match new {
            Items::Segment(seg) => self.copy(seg.seg, name)?,
            Items::Delta(d) if name == "strings" => self.w.write(&d.strings)?,
            Items::Delta(d) => {
                let values = if name == "block_shingles" {
                    &d.block_shingles
                } else {
                    &d.doc_shingles
                };
                for piece in values.chunks(PIECE_BYTES / 8) {
                    let bytes: Vec<u8> = piece.iter().flat_map(|v| v.to_le_bytes()).collect();
                    self.w.write(&bytes)?;
                }
            }
        }
        self.end(name, start, 0)
    }

    /// A sorted section and its directory, from records in order.
    fn sorted<T>(
        &mut self,
        name: &str,
        upper_bound: usize,
        records: impl Iterator<Item = T>,
        key64: impl Fn(&T) -> u64,
        encode: impl Fn(&T, &mut Vec<u8>),
    ) -> std::io::Result<()> {
        let bits = dir_bits(upper_bound);
        let mut counts = vec![0u64; if bits == 0 { 0 } else { 1 << bits }];
        let start = self.begin();
        let mut buf = Vec::with_capacity(PIECE_BYTES);
        for r in records {
            if bits > 0 {
                #[allow(clippy::cast_possible_truncation)]
                let bucket = (key64(&r) >> (64 - bits)) as usize;
                counts[bucket] += 1;
            }
            encode(&r, &mut buf);
            if buf.len() >= PIECE_BYTES {
                self.w.write(&buf)?;
                buf.clear();
            }
        }
        self.w.write(&buf)?;
        self.end(name, start, bits)?;
        if bits > 0 {
            let start = self.begin();
            let mut total = 0u64;
            self.w.write(&0u64.to_le_bytes())?;
            for c in counts {
                total += c;
                self.w.write(&total.to_le_bytes())?;
            }
            self.end(&format!("{name}.dir"), start, 0)?;
        }
        Ok(())
    }
}

/// Directory bits for about 16-32 records a bucket: a look-up reads one
/// directory entry and then a few hundred bytes of records, and the directory
/// stays small enough (8 bytes per 16-32 records) to be read once and cached.
fn dir_bits(records: usize) -> u32 {
    if records < 64 {
        0
    } else {
        (usize::BITS - (records / 32).leading_zeros()).min(30)
    }
}

/// Merges two ascending sequences, `a` first on equal keys.
fn merge_sorted<T, K: Ord>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> impl Iterator<Item = T> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) => {
            if key(y) < key(x) {
                b.next()
            } else {
                a.next()
            }
        }
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}

/// Keeps, of each group of equal `group` keys, the first `first` and the last
/// `last` items.
fn trim_groups<T, G: PartialEq>(
    items: impl Iterator<Item = T>,
    group: impl Fn(&T) -> G,
    first: usize,
    last: usize,
) -> impl Iterator<Item = T> {
    let mut items = items.peekable();
    let mut out: std::collections::VecDeque<T> = std::collections::VecDeque::new();
    std::iter::from_fn(move || loop {
        if let Some(x) = out.pop_front() {
            return Some(x);
        }
        let head = items.next()?;
        let g = group(&head);
        // A group of one (most band keys are: a document's own) is kept
        // unless nothing is, without the buffers a longer group needs.
        if items.peek().is_none_or(|x| group(x) != g) {
            if first > 0 || last > 0 {
                return Some(head);
            }
            continue;
        }
        let mut kept = Vec::new();
        let mut tail = std::collections::VecDeque::new();
        kept.push(head);
        while let Some(next) = items.next_if(|x| group(x) == g) {
            if kept.len() < first {
                kept.push(next);
            } else {
                tail.push_back(next);
                if tail.len() > last {
                    tail.pop_front();
                }
            }
        }
        if first == 0 {
            // `head` was taken unconditionally: keep it only among the last ones.
            let head = kept.pop().expect("the head");
            tail.push_front(head);
            while tail.len() > last {
                tail.pop_front();
            }
        }
        out.extend(kept);
        out.extend(tail);
    })
}

/// Writes `old` (if any) followed by `delta` into a synced temporary file
/// beside `path` (links followed), which [`Staged::persist`] (or a
/// [`crate::targets::Staging`]) renames over it.
///
/// # Errors
/// I/O errors, a corrupt chunk met in `old`, or `path` not a regular file.
pub fn write(
    path: &Path,
    old: Option<&Segment>,
    delta: Delta,
    params: &IndexParams,
) -> Result<Staged> {
    write_items(path, old, &Items::Delta(&delta.sorted()), params)
}

/// [`write()`] for a chunked run's scratch segments: into an unnamed file in
/// `dir` (a killed run leaves nothing behind; `label` names it in messages),
/// not synced.
///
/// # Errors
/// See [`write()`].
pub fn write_scratch(
    dir: &Path,
    label: &Path,
    delta: Delta,
    params: &IndexParams,
) -> Result<Segment> {
    scratch_items(dir, label, None, &Items::Delta(&delta.sorted()), params)
}

fn scratch_items(
    dir: &Path,
    label: &Path,
    old: Option<&Segment>,
    items: &Items<'_>,
    params: &IndexParams,
) -> Result<Segment> {
    let file = crate::error::temp_file(dir).map_err(|e| Error::io(label, e))?;
    let counted = Cell::new(0);
    let filled = fill(&file, old, items, params, dir, Some(&counted));
    let written = || {
        filled.as_ref().map_err(|e| {
            Error::io(
                label,
                std::io::Error::new(e.kind(), format!("writing failed: {e}")),
            )
        })?;
        read_well(old, items)?;
        Segment::from_file(label, file, None, None)
    };
    match written() {
        Ok(mut segment) => {
            // Counted off when it goes (see `spent.rs`).
            super::spent::shrank(counted.get());
            super::spent::grew(segment.file_len());
            segment.mark_scratch();
            Ok(segment)
        }
        Err(e) => {
            super::spent::shrank(counted.get());
            Err(e)
        }
    }
}

/// Whether the segments a write read from were read without error (their
/// reads report corruption afterwards, see [`Segment::status`]).
fn read_well(old: Option<&Segment>, items: &Items<'_>) -> Result<()> {
    if let Some(old) = old {
        old.status()?;
    }
    if let Items::Segment(s) = items {
        s.seg.status()?;
    }
    Ok(())
}

fn write_items(
    path: &Path,
    old: Option<&Segment>,
    items: &Items<'_>,
    params: &IndexParams,
) -> Result<Staged> {
    let temp = Target::open_regular(path, ".neardup-index-")?;
    let beside = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fill(temp.file(), old, items, params, beside, None).map_err(|e| Error::io(path, e))?;
    read_well(old, items)?;
    temp.sync()?;
    Ok(temp)
}

fn exact_key(e: &ExactRecord) -> (u64, u64) {
    #[allow(clippy::cast_possible_truncation)]
    (e.key as u64, (e.key >> 64) as u64)
}

#[allow(clippy::too_many_lines)]
/// Writes the index of `old` and `delta` into `file`; what it sorts past a
/// bound goes in unnamed files under `spill`. The bytes written to a
/// scratch segment are `counted`; a merge's spent inputs are given back as
/// it reads them (see `spent.rs`).
fn fill(
    file: &std::fs::File,
    old: Option<&Segment>,
    delta: &Items<'_>,
    params: &IndexParams,
    spill: &Path,
    counted: Option<&Cell<u64>>,
) -> std::io::Result<Meta> {
    let out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut header_page = ChunkWriter {
        out,
        chunk: Vec::new(),
        sums: Vec::new(),
        pos: 0,
        counted,
    };
    // The header page is written last, outside the checksummed data.
    header_page.out.write_all(&[0u8; CHUNK])?;
    header_page.count(DATA_START);
    header_page.pos = DATA_START;
    // Once a section is written, the spent inputs' copies of it (and all
    // before it) are read no more.
    let read = |name: &str| {
        for seg in [old, delta.read_from()].into_iter().flatten() {
            seg.release_section(name);
        }
    };
    let mut s = Sections {
        w: header_page,
        table: BTreeMap::new(),
    };
    let count = |name: &str| old.map_or(0, |o| o.count(name));
    let old_docs = old.map_or(0, Segment::documents) as u64;
    let old_blocks = old.map_or(0, Segment::blocks) as u64;
    let strings_base = old.map_or(0, |o| o.section("strings").len);
    let block_sh_base = count("block_shingles") as u64;
    let doc_sh_base = count("doc_shingles") as u64;

    s.concat("docs", old, delta.docs(), |d, b| {
        b.extend_from_slice(&d.block_start.to_le_bytes());
        b.extend_from_slice(&(d.shingles.0 + doc_sh_base).to_le_bytes());
        b.extend_from_slice(&(d.id.0 + strings_base).to_le_bytes());
        b.extend_from_slice(&(d.path.0 + strings_base).to_le_bytes());
        b.extend_from_slice(&d.bytes.to_le_bytes());
        for v in [
            d.rep,
            d.shingles.1,
            d.id.1,
            d.path.1,
            d.line,
            u32::from(d.dropped),
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    })?;
    read("docs");
    s.concat("blocks", old, delta.blocks(), |r, b| {
        b.extend_from_slice(&(r.shingles.0 + block_sh_base).to_le_bytes());
        for v in [r.bytes[0], r.bytes[1], r.chars[0], r.chars[1]] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [
            r.cluster,
            r.doc,
            r.words,
            r.kind,
            r.shingles.1,
            r.lines[0],
            r.lines[1],
            0,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    })?;
    read("blocks");
    s.concat_raw("block_shingles", old, delta)?;
    read("block_shingles");
    s.concat_raw("doc_shingles", old, delta)?;
    read("doc_shingles");
    s.concat_raw("strings", old, delta)?;
    read("strings");

    // Exact keys: one entry per key, the earlier index's on a tie (merges).
    let old_exact = old.into_iter().flat_map(|o| Items::segment(o).exact());
    let exact = merge_sorted(old_exact, delta.exact(), exact_key);
    let exact = trim_groups(exact, exact_key, 1, 0);
    s.sorted(
        "exact",
        count("exact") + delta.len("exact"),
        exact,
        |e| exact_key(e).0,
        |e, b| {
            let (lo, hi) = exact_key(e);
            b.extend_from_slice(&lo.to_le_bytes());
            b.extend_from_slice(&hi.to_le_bytes());
            b.extend_from_slice(&e.similarity.to_bits().to_le_bytes());
            b.extend_from_slice(&e.source.to_le_bytes());
            b.extend_from_slice(&exact_flags(e).to_le_bytes());
        },
    )?;
    read("exact");

    let pairs = |name: &'static str| {
        old.into_iter()
            .flat_map(move |o| Items::segment(o).pairs(name))
    };
    let encode_pair = |p: &(u32, u32), b: &mut Vec<u8>| {
        b.extend_from_slice(&p.0.to_le_bytes());
        b.extend_from_slice(&p.1.to_le_bytes());
    };
    let postings = merge_sorted(pairs("postings"), delta.pairs("postings"), |p| *p);
    let postings = trim_groups(postings, |p| p.0, POSTING_CAP as usize, 0);
    s.sorted(
        "postings",
        count("postings") + delta.len("postings"),
        postings,
        |p| u64::from(p.0) << 32,
        encode_pair,
    )?;
    read("postings");
    let members = merge_sorted(pairs("members"), delta.pairs("members"), |p| *p);
    let members = trim_groups(members, |p| p.0, 0, MEMBERS_KEPT);
    // Members are found by binary search: no directory.
    s.sorted("members", 0, members, |_| 0, encode_pair)?;
    read("members");

    let old_bands = old.into_iter().flat_map(|o| Items::segment(o).bands());
    // Documents of few shingles that get band records back (see `few`).
    let not_by_shingles = few::not_by_shingles(old, delta, params, spill)?;
    let (banded, banded_prints) =
        few::band_records(old, delta, &not_by_shingles.banded, params, spill)?;
    let banded_len = banded.len();
    let (banded, read_back) = banded.sorted()?;
    let banded = banded.map(few::band_record);
    // (The few new ones merged first: each of the old index's records then
    // passes one merge, as before.)
    let new_bands = merge_sorted(delta.bands(), banded, |b| *b);
    let bands = merge_sorted(old_bands, new_bands, |b| *b);
    let bands = trim_groups(bands, |b| (b.0, b.1), BUCKET_FIRST, BUCKET_RECENT);
    s.sorted(
        "bands",
        count("bands") + delta.len("bands") + banded_len,
        bands,
        |b| b.0,
        |r, b| {
            b.extend_from_slice(&r.0.to_le_bytes());
            b.extend_from_slice(&r.1.to_le_bytes());
            b.extend_from_slice(&r.2.to_le_bytes());
        },
    )?;
    if let Some(e) = read_back.take() {
        return Err(e);
    }
    read("bands");

    // Documents of few shingles: their buckets are made when a later
    // document asks, and trimmed then; those no bucket will keep are left
    // out now, and those with band records above are not written here.
    let kept = |d: u32| not_by_shingles.keeps(d);
    s.sorted(
        "few",
        count("few") + delta.len("few"),
        merge_sorted(old_few(old), delta.few(), |r| *r).filter(|r| kept(r.1)),
        |r| r.0,
        |r, b| {
            b.extend_from_slice(&r.0.to_le_bytes());
            b.extend_from_slice(&r.1.to_le_bytes());
        },
    )?;
    read("few");
    // Found by binary search: no directory.
    s.sorted(
        "few_sets",
        0,
        merge_sorted(old_few_sets(old), delta.few_sets(), |r| *r).filter(|r| kept(r.0)),
        |_| 0,
        |r, b| {
            b.extend_from_slice(&r.0.to_le_bytes());
            b.extend_from_slice(&r.1.to_le_bytes());
        },
    )?;
    read("few_sets");

    // The prints of the shingles of every document with band records, when
    // all are known: the old file's, the new documents', and those of the
    // documents given band records back above (see the module doc of
    // `store`). Under SimHash there are none to skip.
    let old_prints = match old {
        Some(o) => Items::segment(o).band_prints().map(Either::Segment),
        None => Some(Either::Delta(std::iter::empty())),
    };
    if let (Some(old_prints), Some(new_prints), Some(_)) =
        (old_prints, delta.band_prints(), few::candidates_of(params))
    {
        let upper = count(BANDED_SHINGLES) + delta.len(BANDED_SHINGLES) + banded_prints.len();
        let new_prints = merge_sorted(new_prints, banded_prints.into_iter(), |p| *p);
        let mut last = None;
        let prints = merge_sorted(old_prints, new_prints, |p| *p).filter(move |&p| {
            let new = last != Some(p);
            last = Some(p);
            new
        });
        s.sorted(
            BANDED_SHINGLES,
            upper,
            prints,
            |&p| u64::from(p) << 32,
            |p, b| b.extend_from_slice(&p.to_le_bytes()),
        )?;
    }
    read(BANDED_SHINGLES);

    let now = now();
    let meta = Meta {
        params: params.clone(),
        created: old.map_or(now, |o| o.meta.created),
        updated: now,
        runs: old.map_or(0, |o| o.meta.runs) + 1,
        documents: old_docs + delta.len("docs") as u64,
        blocks: old_blocks + delta.len("blocks") as u64,
        first_document: old.map_or(delta.first_document(), |o| o.meta.first_document),
        first_block: old.map_or(delta.first_block(), |o| o.meta.first_block),
        sections: s.table,
    };
    let mut w = s.w;
    w.pad()?;
    let sums_at = w.pos;
    let sums: Vec<u8> = w.sums.iter().flat_map(|s| s.to_le_bytes()).collect();
    let table = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
    w.out.write_all(&sums)?;
    w.out.write_all(&table)?;
    w.count((sums.len() + table.len()) as u64);
    let table_at = sums_at + sums.len() as u64;
    let file_len = table_at + table.len() as u64;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    for v in [file_len, table_at, table.len() as u64, sums_at, DATA_START] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    let mut hasher = Xxh3Default::new();
    hasher.update(&header);
    hasher.update(&sums);
    hasher.update(&table);
    header.extend_from_slice(&hasher.digest().to_le_bytes());
    let mut out = w.out;
    out.flush()?;
    drop(out);
    let mut file = file;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    file.flush()?;
    Ok(meta)
}

/// Merges index `b` after index `a` into `out`: look-ups then find the earlier
/// copy of anything either holds. Representatives of `b` that are near
/// duplicates of documents before them join their clusters, as in one run
/// over both (`rejoin_representatives` in `rejoin.rs`, within `memory`);
/// blocks are not re-detected (a block first seen in both stays a first
/// copy in each): build one index over both corpora for the one-run answer
/// there. `b` is streamed, renumbered after `a`, never loaded.
///
/// # Errors
/// Different parameters, I/O errors or corruption, or what the rejoin holds
/// not fitting in `memory`.
pub fn merge(a: &Segment, b: &Segment, out: &Path, memory: &MergeMemory) -> Result<Staged> {
    let differences = a
        .meta
        .params
        .differences_from(&b.meta.params, &crate::escape::shown_path(b.path()));
    if !differences.is_empty() {
        return Err(Error::Index {
            path: b.path().to_owned(),
            message: format!(
                "built with other settings than {}: {}",
                crate::escape::shown_path(a.path()),
                differences.join(", ")
            ),
        });
    }
    let docs = u32::try_from(a.documents()).map_err(|_| too_big(out))?;
    let blocks = u32::try_from(a.blocks()).map_err(|_| too_big(out))?;
    if (a.blocks() + b.blocks()) as u64 > u64::from(u32::MAX)
        || (a.documents() + b.documents()) as u64 > u64::from(u32::MAX)
    {
        return Err(too_big(out));
    }
    let joined = super::rejoin::rejoin_representatives(a, b, docs, memory)?;
    b.status()?;
    a.status()?;
    let later = Items::Segment(Shifted {
        seg: b,
        docs,
        blocks,
        joined: &joined,
    });
    write_items(out, Some(a), &later, &a.meta.params)
}

/// Writes segment `b`, whose documents and blocks follow `a`'s (a chunked
/// run's segments), after `a` into an unnamed scratch file in `dir` (see
/// [`write_scratch`]): exactly the segment one would have had by writing
/// both chunks' items at once. `b` is streamed, never loaded. Both are
/// spent: a scratch segment's disk space is given back as the merge reads
/// it (see `spent.rs`), so that the merge needs little more than the
/// merged segment's size, not twice it.
///
/// # Errors
/// I/O errors or corruption.
pub fn append(
    mut a: Segment,
    mut b: Segment,
    dir: &Path,
    label: &Path,
    params: &IndexParams,
) -> Result<Segment> {
    a.spend();
    b.spend();
    scratch_items(dir, label, Some(&a), &Items::segment(&b), params)
}

/// [`append`] of `a` and the segment [`write_scratch`] would make of
/// `delta` (whose documents and blocks follow `a`'s), without writing and
/// reading that segment: a chunk's items merged straight into the segment
/// before it. `a` is spent.
///
/// # Errors
/// See [`write()`].
pub fn append_delta(
    mut a: Segment,
    delta: Delta,
    dir: &Path,
    label: &Path,
    params: &IndexParams,
) -> Result<Segment> {
    a.spend();
    scratch_items(dir, label, Some(&a), &Items::Delta(&delta.sorted()), params)
}

/// [`append`] into an index (`a`, or none yet, updated by a chunked run):
/// synced, staged beside `out`, as [`write()`] does. `b` is spent (a
/// scratch segment is given back as it is read); `a` is left as it is.
///
/// # Errors
/// See [`write()`].
pub fn append_durably(
    a: Option<&Segment>,
    mut b: Segment,
    out: &Path,
    params: &IndexParams,
) -> Result<Staged> {
    b.spend();
    write_items(out, a, &Items::segment(&b), params)
}

fn too_big(path: &Path) -> Error {
    Error::Index {
        path: path.to_owned(),
        message: "an index holds fewer than 2^32 blocks and documents".into(),
    }
}

mod few;
mod items;
pub(super) mod runs;
use super::reader::{block_of, doc_of};
pub(super) use few::candidates_of;
use items::{exact_flags, old_few, Either, Items, Shifted, PIECE_BYTES};
pub(super) use items::{old_bands, old_few_sets};
#[cfg(test)]
pub(super) mod tests;
