//! Reads of a [`Segment`] and the look-ups into its sections: exact reads,
//! or reads through a few windows that are kept (walks, merges, lookers).

use super::segment::{u32_at, u64_at, Segment, LOOKER_WINDOWS, WINDOW, WINDOWS};
use super::{
    SectionEntry, BANDED_LEN, BAND_LEN, BLOCK_LEN, CHUNK, DATA, DOC_LEN, EXACT_LEN, FEW_LEN,
    MEMBER_LEN, POSTING_LEN,
};
use crate::prior::{BlockRecord, DocRecord, ExactRecord};

/// Reads of one [`Segment`]: exact reads for look-ups scattered over it, or
/// reads ahead through a few windows for walks in the order of its records.
/// Each thread reading a segment has its own.
pub struct Reader<'s> {
    pub(super) seg: &'s Segment,
    /// Bytes read at once when a read falls outside every window; 0: read
    /// exactly what is asked.
    pub(super) ahead: usize,
    /// (offset, bytes), the most recently used first.
    pub(super) windows: Vec<(usize, Vec<u8>)>,
    pub(super) buf: Vec<u8>,
}

impl Reader<'_> {
    /// `len` bytes at `at`, each chunk checked the first time it is read;
    /// `None` (and the run fails) when a chunk does not match its checksum,
    /// the file cannot be read, or the range is outside the data.
    pub(super) fn read(&mut self, at: usize, len: usize) -> Option<&[u8]> {
        let seg = self.seg;
        let end = DATA + seg.sums.len() * CHUNK;
        if at < DATA || at.checked_add(len).is_none_or(|e| e > end) {
            seg.fail(format!(
                "a record points outside the data (byte offset {at})"
            ));
            return None;
        }
        if len == 0 {
            return Some(&[]);
        }
        if seg.released(at) {
            seg.fail(format!(
                "bytes {at}..{} were read after a merge gave them back",
                at + len
            ));
            return None;
        }
        // Most reads of a walk fall in the window read last.
        if (self.windows.first()).is_some_and(|(s, b)| *s <= at && at + len <= s + b.len()) {
            let (s, b) = &self.windows[0];
            return Some(&b[at - s..at - s + len]);
        }
        let first = (at - DATA) / CHUNK;
        let last = (at + len - 1 - DATA) / CHUNK;
        let start = DATA + first * CHUNK;
        // A looker's long reads (a long document's shingles) are not kept:
        // its windows stay a few chunks.
        if self.ahead == 0 || (self.ahead < WINDOW && len > WINDOW) {
            if seg.all_checked(first, last) {
                return seg.pread(at, len, &mut self.buf).then_some(&self.buf[..]);
            }
            // Whole chunks, to check them.
            let stop = DATA + (last + 1) * CHUNK;
            if !seg.pread(start, stop - start, &mut self.buf) || !seg.check(first, &self.buf) {
                return None;
            }
            return Some(&self.buf[at - start..at - start + len]);
        }
        let hit = self
            .windows
            .iter()
            .position(|(s, b)| *s <= at && at + len <= s + b.len());
        let i = if let Some(i) = hit {
            i
        } else {
            let stop = (DATA + (last + 1) * CHUNK).max(start + self.ahead).min(end);
            let kept = if self.ahead == CHUNK {
                LOOKER_WINDOWS
            } else {
                WINDOWS
            };
            let mut b = if self.windows.len() >= kept {
                self.windows.pop().map(|w| w.1).unwrap_or_default()
            } else {
                Vec::new()
            };
            if !seg.pread(start, stop - start, &mut b) || !seg.check(first, &b) {
                return None;
            }
            self.windows.push((start, b));
            self.windows.len() - 1
        };
        self.windows[..=i].rotate_right(1);
        let (s, b) = &self.windows[0];
        Some(&b[at - s..at - s + len])
    }

    pub(super) fn record(&mut self, name: &str, len: usize, i: usize) -> Option<&[u8]> {
        let s = match name {
            "docs" => self.seg.hot.docs,
            "blocks" => self.seg.hot.blocks,
            _ => self.seg.section(name),
        };
        // `i` comes from the index's own numbers: checked, never trusted.
        let end = (i as u64)
            .checked_add(1)
            .and_then(|n| n.checked_mul(len as u64));
        if end.is_none_or(|end| end > s.len) {
            self.seg
                .fail(format!("record {i} of section {name} is missing"));
            return None;
        }
        #[allow(clippy::cast_possible_truncation)]
        self.read(s.offset as usize + i * len, len)
    }

    /// Document `d` (a global number).
    #[must_use]
    pub fn doc(&mut self, d: usize) -> DocRecord {
        let seg = self.seg;
        self.record("docs", DOC_LEN, d.wrapping_sub(seg.doc_base))
            .map(doc_of)
            .filter(|doc| seg.doc_fits(doc))
            .unwrap_or_default()
    }

    /// One past the last block of document `d`.
    #[must_use]
    pub fn doc_end(&mut self, d: usize) -> usize {
        if d + 1 < self.seg.doc_end_id() {
            usize::try_from(self.doc(d + 1).block_start).unwrap_or(usize::MAX)
        } else {
            self.seg.block_end_id()
        }
    }

    /// Block `g` (a global number).
    #[must_use]
    pub fn block(&mut self, g: usize) -> BlockRecord {
        let seg = self.seg;
        self.record("blocks", BLOCK_LEN, g.wrapping_sub(seg.block_base))
            .map(block_of)
            .filter(|block| seg.block_fits(block))
            .unwrap_or_default()
    }

    pub(super) fn u64s(&mut self, section: &str, (at, len): (u64, u32)) -> Vec<u64> {
        let s = self.seg.section(section);
        if at
            .checked_add(u64::from(len))
            .and_then(|end| end.checked_mul(8))
            .is_none_or(|end| end > s.len)
        {
            self.seg
                .fail(format!("a list runs past the end of section {section}"));
            return Vec::new();
        }
        #[allow(clippy::cast_possible_truncation)]
        self.read(s.offset as usize + at as usize * 8, len as usize * 8)
            .map(|b| b.chunks_exact(8).map(|c| u64_at(c, 0)).collect())
            .unwrap_or_default()
    }

    /// The sorted shingles of first copy `g` (empty unless it was indexed).
    #[must_use]
    pub fn block_shingles(&mut self, g: usize) -> Vec<u64> {
        let at = self.block(g).shingles;
        self.u64s("block_shingles", at)
    }

    /// The bytes of text and sorted shingles of representative document
    /// `d`, its record read once.
    #[must_use]
    pub fn doc_text(&mut self, d: usize) -> (u64, Vec<u64>) {
        let doc = self.doc(d);
        (doc.bytes, self.u64s("doc_shingles", doc.shingles))
    }

    /// The bytes of `len` bytes at `at` of the `strings` section.
    pub(super) fn string_bytes(&mut self, (at, len): (u64, u32)) -> Option<&[u8]> {
        let s = self.seg.section("strings");
        if at.checked_add(u64::from(len)).is_none_or(|end| end > s.len) {
            self.seg
                .fail("a string runs past the end of its section".into());
            return None;
        }
        #[allow(clippy::cast_possible_truncation)]
        self.read(s.offset as usize + at as usize, len as usize)
    }

    /// A string of the `strings` section.
    #[must_use]
    pub fn string(&mut self, at: (u64, u32)) -> String {
        self.string_bytes(at)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// The records of a sorted section (with its directory) whose 64-bit
    /// key has the top bits of `key`: the only ones that can hold it.
    pub(super) fn bucket_records(
        &mut self,
        (sec, dir): (SectionEntry, SectionEntry),
        record: usize,
        key: u64,
    ) -> &[u8] {
        let n = usize::try_from(sec.len).unwrap_or(0) / record;
        let (lo, hi) = if sec.dir_bits == 0 {
            (0, n)
        } else {
            let bucket = usize::try_from(key >> (64 - sec.dir_bits)).unwrap_or(0);
            if (bucket as u64 + 2) * 8 > dir.len {
                self.seg.fail("a section's directory is short".into());
                return &[];
            }
            #[allow(clippy::cast_possible_truncation)]
            let Some(b) = self.read(dir.offset as usize + bucket * 8, 16) else {
                return &[];
            };
            #[allow(clippy::cast_possible_truncation)]
            let (lo, hi) = (u64_at(b, 0) as usize, u64_at(b, 8) as usize);
            if lo > hi || hi > n {
                self.seg
                    .fail("a section's directory is inconsistent".into());
                return &[];
            }
            (lo, hi)
        };
        #[allow(clippy::cast_possible_truncation)]
        self.read(sec.offset as usize + lo * record, (hi - lo) * record)
            .unwrap_or(&[])
    }

    /// The first index in `[lo, hi)` whose record is not below `key`.
    pub(super) fn lower_bound<K: Ord>(
        &mut self,
        name: &str,
        record: usize,
        (mut lo, mut hi): (usize, usize),
        key: &K,
        key_of: impl Fn(&[u8]) -> K,
    ) -> usize {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let Some(b) = self.record(name, record, mid) else {
                return hi;
            };
            if key_of(b) < *key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// What an exact-text key resolves to.
    #[must_use]
    pub fn exact(&mut self, key: u128) -> Option<ExactRecord> {
        let seg = self.seg;
        #[allow(clippy::cast_possible_truncation)]
        let (lo64, hi64) = (key as u64, (key >> 64) as u64);
        let records = self.bucket_records(seg.hot.exact, EXACT_LEN, lo64);
        let b = records
            .chunks_exact(EXACT_LEN)
            .find(|b| u64_at(b, 0) == lo64 && u64_at(b, 8) == hi64)?;
        let (source, flags) = (u32_at(b, 24), u32_at(b, 28));
        let last = source.saturating_add(flags >> 1);
        Some(ExactRecord {
            key,
            similarity: f64::from_bits(u64_at(b, 16)),
            source: seg.id(source, seg.block_end_id(), "block"),
            last: seg.id(last, seg.block_end_id(), "block"),
            exact: flags & 1 != 0,
        })
    }

    /// Appends the first copies listed for a shingle fingerprint, ascending.
    pub fn posting_reps(&mut self, fingerprint: u32, out: &mut Vec<u32>) {
        let seg = self.seg;
        let records =
            self.bucket_records(seg.hot.postings, POSTING_LEN, u64::from(fingerprint) << 32);
        let listed = records
            .chunks_exact(POSTING_LEN)
            .skip_while(|b| u32_at(b, 0) != fingerprint)
            .take_while(|b| u32_at(b, 0) == fingerprint);
        for b in listed {
            out.push(seg.id(u32_at(b, 4), seg.block_end_id(), "block"));
        }
    }

    /// The last stored copies of first copy `cluster`, ascending.
    #[must_use]
    pub fn members(&mut self, cluster: u32) -> Vec<u32> {
        let seg = self.seg;
        let n = seg.count("members");
        let at = self.lower_bound("members", MEMBER_LEN, (0, n), &cluster, |b| u32_at(b, 0));
        let mut out = Vec::new();
        for i in at..n {
            match self.record("members", MEMBER_LEN, i) {
                Some(b) if u32_at(b, 0) == cluster => {
                    out.push(seg.id(u32_at(b, 4), seg.block_end_id(), "block"));
                }
                _ => break,
            }
        }
        out
    }

    /// Appends the documents of few shingles that hold `shingle`
    /// (ascending).
    pub fn few_holders(&mut self, shingle: u64, out: &mut Vec<u32>) {
        let seg = self.seg;
        let records = self.bucket_records(seg.hot.few, FEW_LEN, shingle);
        for b in records.chunks_exact(FEW_LEN) {
            if u64_at(b, 0) == shingle {
                out.push(seg.id(u32_at(b, 8), seg.doc_end_id(), "document"));
            }
        }
    }

    /// The shingle of record `i` of the `few` section (`None` past its end,
    /// or when it cannot be read: the segment's status then says why).
    pub fn few_shingle(&mut self, i: usize) -> Option<u64> {
        self.record("few", FEW_LEN, i).map(|b| u64_at(b, 0))
    }

    /// Whether a document with band records may hold a shingle of print
    /// `print` (`false` also for a file without `banded_shingles`).
    pub fn banded_print(&mut self, print: u32) -> bool {
        let Some(section) = self.seg.hot.banded else {
            return false;
        };
        let records = self.bucket_records(section, BANDED_LEN, u64::from(print) << 32);
        records
            .chunks_exact(BANDED_LEN)
            .any(|b| u32_at(b, 0) == print)
    }

    /// The shingles of document `d` of few shingles (empty for another),
    /// ascending, for documents asked for in ascending order: `from`
    /// (0 at first) is where the last one's records ended, and the search
    /// starts there, in steps that double (the records of 20,000 documents
    /// found by a check were each searched for in the whole section, a read
    /// a step, a sixth of its time).
    #[must_use]
    pub fn few_set_from(&mut self, d: u32, from: &mut usize) -> Vec<u64> {
        let n = self.seg.count("few_sets");
        let key = |b: &[u8]| u32_at(b, 0);
        let (mut lo, mut hi, mut step) = ((*from).min(n), (*from).min(n), 1);
        while hi < n {
            match self.record("few_sets", FEW_LEN, hi) {
                Some(b) if key(b) < d => {
                    lo = hi + 1;
                    hi = hi.saturating_add(step).min(n);
                    step = step.saturating_mul(2);
                }
                Some(_) => break,
                None => return Vec::new(),
            }
        }
        let at = self.lower_bound("few_sets", FEW_LEN, (lo, hi), &d, key);
        let mut out = Vec::new();
        *from = at;
        for i in at..n {
            match self.record("few_sets", FEW_LEN, i) {
                Some(b) if key(b) == d => out.push(u64_at(b, 4)),
                _ => break,
            }
            *from = i + 1;
        }
        out
    }

    /// The stored documents of a bucket (`table`, `key`), ascending: all of
    /// them, or the first and last ones when there were more.
    pub fn bucket(&mut self, table: u32, key: u64, out: &mut Vec<u32>) {
        let seg = self.seg;
        let records = self.bucket_records(seg.hot.bands, BAND_LEN, key);
        for b in records.chunks_exact(BAND_LEN) {
            if u64_at(b, 0) == key && u32_at(b, 8) == table {
                out.push(seg.id(u32_at(b, 12), seg.doc_end_id(), "document"));
            }
        }
    }
}

/// A `docs` record as stored, unchecked (see [`Segment::doc_fits`]).
pub(super) fn doc_of(b: &[u8]) -> DocRecord {
    DocRecord {
        block_start: u64_at(b, 0),
        shingles: (u64_at(b, 8), u32_at(b, 44)),
        id: (u64_at(b, 16), u32_at(b, 48)),
        path: (u64_at(b, 24), u32_at(b, 52)),
        bytes: u64_at(b, 32),
        rep: u32_at(b, 40),
        line: u32_at(b, 56),
        dropped: u32_at(b, 60) & 1 != 0,
    }
}

/// A `blocks` record as stored, unchecked (see [`Segment::block_fits`]).
pub(super) fn block_of(b: &[u8]) -> BlockRecord {
    BlockRecord {
        shingles: (u64_at(b, 0), u32_at(b, 56)),
        bytes: [u64_at(b, 8), u64_at(b, 16)],
        chars: [u64_at(b, 24), u64_at(b, 32)],
        cluster: u32_at(b, 40),
        doc: u32_at(b, 44),
        words: u32_at(b, 48),
        kind: u32_at(b, 52),
        lines: [u32_at(b, 60), u32_at(b, 64)],
    }
}
