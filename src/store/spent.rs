//! The disk a run in chunks spools its index into (`--tmp-dir`): how much
//! its scratch segments hold, and the space of a merge's inputs given back
//! as the merge reads them.
//!
//! A run in chunks writes each chunk's items as a segment and merges a
//! new segment into the one before it (the driver's `push_segment`). A
//! merge reads its two inputs once, section by section in the order they
//! lie in the file, and writes the merged segment; the inputs are dropped
//! after it. Held
//! whole until then, the inputs and the output took twice the segments'
//! size at every large merge: a 300 MB corpus at `--memory-limit 256M`
//! peaked at 2.7 GB of temporary files, 1.4 GB between merges. So the
//! inputs of a merge of scratch segments are *spent*: each whole 4 KiB
//! chunk of their data is given back to the file system (a hole punched in
//! the unnamed file) once the merge has read past it, and a read of a chunk
//! given back fails the segment (it never happens: nothing reads a spent
//! segment's section after the merge wrote its own).

use super::segment::Segment;
use super::{CHUNK, DATA_START};
use std::sync::atomic::{AtomicU64, Ordering};

/// What a merge reads of a spent segment before it gives it back: few
/// large holes, not a system call for every piece a merge reads (256 KiB).
const RELEASE_STEP: u64 = 16 << 20;

/// Bytes the scratch segments of this process hold on disk now (written,
/// less what was given back or dropped), and the most they held.
static HELD: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
static SETTLED: AtomicU64 = AtomicU64::new(0);
/// Bytes written to scratch segments in all (merges' outputs included).
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Counts `bytes` written to a scratch segment (see [`scratch_written`]).
pub(super) fn wrote(bytes: u64) {
    WRITTEN.fetch_add(bytes, Ordering::Relaxed);
    grew(bytes);
}

/// The bytes this process wrote to scratch segments in all: each chunk's
/// segment and every merge's output (what a run in chunks costs in
/// writes, against [`scratch_peak`], what it needs of the disk).
#[must_use]
pub fn scratch_written() -> u64 {
    WRITTEN.load(Ordering::Relaxed)
}

/// Counts `bytes` more written to a scratch segment.
pub(super) fn grew(bytes: u64) {
    let now = HELD.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

/// Counts `bytes` of scratch segments given back or dropped.
pub(super) fn shrank(bytes: u64) {
    // (Never below 0: what is given back was counted when written.)
    let _ = HELD.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
        Some(held.saturating_sub(bytes))
    });
}

/// Notes what the scratch segments hold while no merge runs (see
/// [`scratch_settled`]).
pub fn note_settled() {
    SETTLED.fetch_max(HELD.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// The most bytes the scratch segments of this process held at a moment
/// [`note_settled`] was called (a run in chunks calls it while no merge
/// runs: its segments, the newest chunk's included): what a merge adds to
/// it is what [`scratch_peak`] has more.
#[must_use]
pub fn scratch_settled() -> u64 {
    SETTLED.load(Ordering::Relaxed)
}

/// The most bytes the scratch segments of this process (a run in chunks'
/// spooled index) held on disk at once: what `--tmp-dir` needs for them.
#[must_use]
pub fn scratch_peak() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

impl Segment {
    /// Marks a scratch segment (see [`super::write_scratch`]): its bytes
    /// were counted as written, and are counted off when it goes.
    pub(super) fn mark_scratch(&mut self) {
        self.scratch = true;
    }

    /// Marks a scratch segment as the input of a merge that reads it once,
    /// in the order of its sections, and drops it after: its data is given
    /// back as the merge goes ([`Segment::release_before`]). A segment that
    /// is not a run's scratch segment (an index a user named) is never
    /// spent.
    pub(super) fn spend(&mut self) {
        self.spent = self.scratch;
    }

    /// Whether byte `at` of a spent segment was given back (a read of it
    /// would find zeros).
    pub(super) fn released(&self, at: usize) -> bool {
        self.spent && (at as u64) < self.released.load(Ordering::Relaxed)
    }

    /// Gives back the whole chunks of data before byte `end` of a spent
    /// segment (none of another), once, [`RELEASE_STEP`] at a time: the
    /// space of what a merge read.
    /// Where the file system cannot punch holes, the space is given back
    /// when the segment goes.
    pub(super) fn release_before(&self, end: u64) {
        self.release(end, RELEASE_STEP);
    }

    /// Gives back the whole chunks before `end` when at least `step` bytes
    /// of them are still held.
    fn release(&self, end: u64, step: u64) {
        if !self.spent {
            return;
        }
        let end = end / CHUNK as u64 * CHUNK as u64;
        let end = end.min(DATA_START + (self.sums.len() * CHUNK) as u64);
        let from = self.released.load(Ordering::Relaxed).max(DATA_START);
        if end <= from || end - from < step {
            return;
        }
        self.released.store(end, Ordering::Relaxed);
        if punch_hole(&self.file, from, end - from) {
            shrank(end - from);
        } else {
            // Still on disk: counted off when the segment goes, as before.
            self.unpunched.fetch_add(end - from, Ordering::Relaxed);
        }
    }

    /// Gives back section `name` of a spent segment and its directory,
    /// and everything before them: called once a merge has written its own
    /// (sections lie in the file in the order a write makes them).
    pub(super) fn release_section(&self, name: &str) {
        if !self.spent {
            return;
        }
        let dir = self.section(&format!("{name}.dir"));
        let s = self.section(name);
        let end = [s, dir]
            .iter()
            .filter(|e| e.offset > 0)
            .map(|e| (e.offset + e.len).div_ceil(CHUNK as u64) * CHUNK as u64)
            .max();
        if let Some(end) = end {
            self.release(end, 1);
        }
    }

    /// Bytes of this scratch segment still counted as held on disk.
    pub(super) fn still_held(&self) -> u64 {
        let given_back = self.released.load(Ordering::Relaxed).max(DATA_START) - DATA_START;
        self.file_len() - given_back + self.unpunched.load(Ordering::Relaxed)
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.scratch {
            shrank(self.still_held());
        }
    }
}

/// Punches a hole of `len` bytes at `at` in `file` (its size unchanged):
/// `false` where the file system cannot.
#[cfg(target_os = "linux")]
fn punch_hole(file: &std::fs::File, at: u64, len: u64) -> bool {
    use std::os::fd::AsRawFd;
    let (Ok(at), Ok(len)) = (libc::off_t::try_from(at), libc::off_t::try_from(len)) else {
        return false;
    };
    // SAFETY: `fallocate` takes a descriptor `file` owns for the call and
    // touches no memory of this process.
    #[allow(unsafe_code)]
    let done = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            at,
            len,
        )
    };
    done == 0
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(_file: &std::fs::File, _at: u64, _len: u64) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::super::write::tests::unique_block;
    use super::super::{append, write_scratch, Delta, IndexParams};
    use crate::prior::BlockRecord;
    use std::os::unix::fs::MetadataExt;

    /// A chunk's items: `n` documents of one block each from document
    /// `first` on, each with 120 band records, 40 shingles and 40 postings.
    fn delta(first: u32, n: u32) -> Delta {
        let mut next = crate::test_numbers(u64::from(first) + 5);
        let mut delta = Delta {
            first_document: u64::from(first),
            first_block: u64::from(first),
            ..Delta::default()
        };
        let path = delta.string("a.jsonl");
        for d in first..first + n {
            let at = delta.block_shingles.len() as u64;
            let mut shingles: Vec<u64> = (0..40).map(|_| next()).collect();
            shingles.sort_unstable();
            delta.block_shingles.extend_from_slice(&shingles);
            delta.push_doc(d, &format!("doc-{d}")).path = path;
            delta.blocks.push(BlockRecord {
                shingles: (at, 40),
                ..unique_block(d)
            });
            for t in 0..120 {
                delta.bands.push((next(), t, d));
            }
            #[allow(clippy::cast_possible_truncation)]
            delta
                .postings
                .extend(shingles.iter().map(|&h| ((h >> 32) as u32, d)));
        }
        delta
    }

    #[test]
    fn a_merge_gives_back_the_space_of_the_segments_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let params = IndexParams::of(&crate::config::Config::default());
        let label = dir.path().join("part");
        let scratch =
            |first, n| write_scratch(dir.path(), &label, delta(first, n), &params).unwrap();
        let (a, b) = (scratch(0, 300), scratch(300, 200));
        let lens = [a.file_len(), b.file_len()];
        // Descriptors of the two files that outlive the segments.
        let files = [a.file.try_clone().unwrap(), b.file.try_clone().unwrap()];
        let on_disk = |f: &std::fs::File| f.metadata().unwrap().blocks() * 512;
        for (f, len) in files.iter().zip(lens) {
            assert!(on_disk(f) >= len, "{} < {len}", on_disk(f));
        }
        let merged = append(a, b, dir.path(), &label, &params).unwrap();
        merged.status().unwrap();
        merged.verify().unwrap();
        // What is left of each input: its header page, checksums, table
        // and the partial chunks at the ends of its sections.
        for (f, len) in files.iter().zip(lens) {
            let left = on_disk(f);
            assert!(left * 4 < len, "{left} of {len} bytes still on disk");
        }
        // The same merge of segments that are not spent (as an index a
        // user named is not): the same data, chunk for chunk.
        let (mut a, mut b) = (scratch(0, 300), scratch(300, 200));
        a.scratch = false;
        b.scratch = false;
        let files = [a.file.try_clone().unwrap(), b.file.try_clone().unwrap()];
        let whole = append(a, b, dir.path(), &label, &params).unwrap();
        assert_eq!(whole.sums, merged.sums);
        for (f, len) in files.iter().zip(lens) {
            assert!(on_disk(f) >= len, "{} < {len}", on_disk(f));
        }
        // Every document's bucket records and block shingles found.
        let mut r = merged.reader();
        for d in [delta(0, 300), delta(300, 200)] {
            for &(key, table, doc) in d.bands.iter().step_by(97) {
                let mut found = Vec::new();
                r.bucket(table, key, &mut found);
                assert_eq!(found, [doc]);
            }
            for block in d.blocks.iter().step_by(53) {
                #[allow(clippy::cast_possible_truncation)]
                let at = block.shingles.0 as usize;
                assert_eq!(
                    r.block_shingles(block.doc as usize),
                    d.block_shingles[at..at + 40].to_vec(),
                    "block {}",
                    block.doc
                );
            }
        }
        merged.status().unwrap();
    }

    #[test]
    fn a_read_of_what_a_merge_gave_back_fails_the_segment() {
        let dir = tempfile::tempdir().unwrap();
        let params = IndexParams::of(&crate::config::Config::default());
        let mut s =
            write_scratch(dir.path(), &dir.path().join("part"), delta(0, 500), &params).unwrap();
        assert_eq!(s.doc(7).rep, 7);
        s.status().unwrap();
        s.spend();
        s.release_section("blocks");
        assert_eq!(s.doc(7).rep, 0);
        let e = s.status().unwrap_err().to_string();
        assert!(e.contains("after a merge gave them back"), "{e}");
    }
}
