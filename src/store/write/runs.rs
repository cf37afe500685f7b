//! Records sorted a bounded number at a time: each full batch is sorted and
//! written to an unnamed temporary file, and the files are read back merged
//! (a k-way merge), so that what a write makes of its own (the band records
//! of short documents given them back: 128 of 16 bytes a document, 1.2 GB
//! for 600,000 short records merged at `--memory-limit 64M`) is never held
//! whole. A merge's candidate pairs (`rejoin.rs`) are kept the same way,
//! without repeats.

use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Records a batch holds before it is sorted and written out: 16 MiB of
/// `u128`s.
pub(in crate::store) const BATCH: usize = 1 << 20;
/// Bytes read ahead from the files, over all of them.
const READ_AHEAD: usize = 8 << 20;
/// Files kept at most: past it they are merged into one (a low limit on
/// open files holds every other file a run keeps open too).
const MAX_FILES: usize = 64;

/// What [`Runs`] sort: integers, sorted as such, kept in files as their
/// little-endian bytes.
pub(in crate::store) trait Record: Copy + Ord + Send + std::fmt::Debug {
    /// Bytes of one, in memory and in a file.
    const BYTES: usize;
    /// Its bytes, written to `out`.
    ///
    /// # Errors
    /// `out` failing.
    fn put(self, out: &mut impl Write) -> std::io::Result<()>;
    /// The record of `bytes` ([`Record::BYTES`] of them).
    fn of(bytes: &[u8]) -> Self;
}

impl Record for u128 {
    const BYTES: usize = 16;
    fn put(self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.to_le_bytes())
    }
    fn of(bytes: &[u8]) -> Self {
        u128::from_le_bytes(bytes.try_into().expect("16 bytes"))
    }
}

impl Record for u64 {
    const BYTES: usize = 8;
    fn put(self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.to_le_bytes())
    }
    fn of(bytes: &[u8]) -> Self {
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }
}

/// Records taken in batches of at most `batch`, sorted when read back
/// ([`Runs::sorted`]); without repeats when made [`Runs::distinct`].
pub(in crate::store) struct Runs<R: Record = u128> {
    dir: PathBuf,
    batch: usize,
    distinct: bool,
    held: Vec<R>,
    files: Vec<std::fs::File>,
    count: usize,
}

impl<R: Record> Runs<R> {
    /// Runs whose files (when a batch fills) go in `dir`.
    pub(in crate::store) fn new(dir: &Path, batch: usize) -> Runs<R> {
        Runs {
            dir: dir.to_owned(),
            batch: batch.max(1),
            distinct: false,
            held: Vec::new(),
            files: Vec::new(),
            count: 0,
        }
    }

    /// Runs that give each record back once however often it was taken: a
    /// full batch is sorted and its repeats dropped, and it is written out
    /// only when that leaves more than half of it (the pairs of a merge
    /// repeat, each once a bucket its two documents share).
    pub(in crate::store) fn distinct(dir: &Path, batch: usize) -> Runs<R> {
        Runs {
            distinct: true,
            ..Runs::new(dir, batch)
        }
    }

    /// Records taken so far (repeats counted).
    pub(in crate::store) fn len(&self) -> usize {
        self.count
    }

    /// Temporary files written so far.
    #[cfg(test)]
    pub(in crate::store) fn files(&self) -> usize {
        self.files.len()
    }

    /// Takes `record`.
    ///
    /// # Errors
    /// The batch's file failing.
    pub(in crate::store) fn push(&mut self, record: R) -> std::io::Result<()> {
        if self.held.len() == self.held.capacity() {
            // Grown by doubling, never past a batch.
            let room = (self.held.capacity() * 2).max(1024).min(self.batch);
            self.held
                .reserve_exact(room.saturating_sub(self.held.len()));
        }
        self.held.push(record);
        self.count += 1;
        if self.held.len() >= self.batch {
            if self.distinct {
                self.held.par_sort_unstable();
                self.held.dedup();
                if self.held.len() <= self.batch / 2 {
                    return Ok(());
                }
            }
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.held.par_sort_unstable();
        if self.distinct {
            self.held.dedup();
        }
        let file = crate::error::temp_file(&self.dir)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        for &r in &self.held {
            r.put(&mut out)?;
        }
        let mut file = out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.files.push(file);
        self.held.clear();
        if self.files.len() >= MAX_FILES {
            self.compact()?;
        }
        Ok(())
    }

    /// The files merged into one.
    fn compact(&mut self) -> std::io::Result<()> {
        let error = ReadError::default();
        let merged: Sorted<R> = Sorted::of(std::mem::take(&mut self.files), self.distinct, &error);
        let file = crate::error::temp_file(&self.dir)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        for r in merged {
            r.put(&mut out)?;
        }
        if let Some(e) = error.take() {
            return Err(e);
        }
        let mut file = out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.files.push(file);
        Ok(())
    }

    /// Every record taken, ascending (once each when [`Runs::distinct`]),
    /// and where a failed read of a file is told (the records then end
    /// early: look there once they are used).
    ///
    /// # Errors
    /// The last batch's file failing.
    pub(in crate::store) fn sorted(mut self) -> std::io::Result<(Sorted<R>, ReadError)> {
        let error = ReadError::default();
        if self.files.is_empty() {
            self.held.par_sort_unstable();
            if self.distinct {
                self.held.dedup();
            }
            let held = Sorted::Held(self.held.into_iter());
            return Ok((held, error));
        }
        if !self.held.is_empty() {
            self.spill()?;
        }
        self.held = Vec::new();
        let sorted = Sorted::of(self.files, self.distinct, &error);
        Ok((sorted, error))
    }
}

/// The first error reading the files back, if any.
#[derive(Clone, Default)]
pub(in crate::store) struct ReadError(Arc<Mutex<Option<std::io::Error>>>);

impl ReadError {
    /// The error, taken.
    pub(in crate::store) fn take(&self) -> Option<std::io::Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn set(&self, e: std::io::Error) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(e);
    }
}

fn next<R: Record>(reader: &mut BufReader<std::fs::File>, error: &ReadError) -> Option<R> {
    let mut bytes = [0u8; 16];
    let bytes = &mut bytes[..R::BYTES];
    match reader.read_exact(bytes) {
        Ok(()) => Some(R::of(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
        Err(e) => {
            error.set(e);
            None
        }
    }
}

/// The records of [`Runs`], ascending.
pub(in crate::store) enum Sorted<R: Record = u128> {
    Held(std::vec::IntoIter<R>),
    Files {
        readers: Vec<BufReader<std::fs::File>>,
        heap: BinaryHeap<Reverse<(R, usize)>>,
        error: ReadError,
        /// Whether repeats are dropped.
        distinct: bool,
        /// The last record given.
        last: Option<R>,
    },
}

impl<R: Record> Sorted<R> {
    /// The records of sorted `files`, merged (repeats dropped when
    /// `distinct`); a failed read told in `error`.
    fn of(files: Vec<std::fs::File>, distinct: bool, error: &ReadError) -> Sorted<R> {
        let ahead = (READ_AHEAD / files.len().max(1)).clamp(R::BYTES * 256, 1 << 16);
        let mut readers: Vec<BufReader<std::fs::File>> = files
            .into_iter()
            .map(|f| BufReader::with_capacity(ahead, f))
            .collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(v) = next(r, error) {
                heap.push(Reverse((v, i)));
            }
        }
        Sorted::Files {
            readers,
            heap,
            error: error.clone(),
            distinct,
            last: None,
        }
    }
}

impl<R: Record> Iterator for Sorted<R> {
    type Item = R;

    fn next(&mut self) -> Option<R> {
        match self {
            Sorted::Held(held) => held.next(),
            Sorted::Files {
                readers,
                heap,
                error,
                distinct,
                last,
            } => loop {
                let Reverse((v, i)) = heap.pop()?;
                if let Some(w) = next(&mut readers[i], error) {
                    heap.push(Reverse((w, i)));
                }
                if !*distinct || last.replace(v) != Some(v) {
                    return Some(v);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_give_back_every_record_sorted_held_or_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<u128> = (0..10_000u128)
            .map(|i| ((i * 7919 % 10_007) << 64) | (i % 3))
            .collect();
        let mut expected = values.clone();
        expected.sort_unstable();
        for batch in [1, 7, 1000, 20_000] {
            // (1 and 7: more files than are kept, merged as they come.)
            let mut runs = Runs::new(dir.path(), batch);
            for &v in &values {
                runs.push(v).unwrap();
            }
            assert_eq!(runs.len(), values.len());
            let (sorted, error) = runs.sorted().unwrap();
            assert_eq!(sorted.collect::<Vec<_>>(), expected, "batch {batch}");
            assert!(error.take().is_none());
        }
        // Unnamed files: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn distinct_runs_give_back_each_record_once_held_or_from_files() {
        let dir = tempfile::tempdir().unwrap();
        // Pairs as a merge makes them: each repeated, some many times.
        let values: Vec<u64> = (0..30_000u64)
            .map(|i| ((i * 7919 % 1009) << 32) | (i % 5))
            .collect();
        let mut expected = values.clone();
        expected.sort_unstable();
        expected.dedup();
        assert!(expected.len() < values.len() / 2);
        for batch in [1, 2, 7, 1000, 4000, 40_000] {
            let mut runs = Runs::distinct(dir.path(), batch);
            for &v in &values {
                runs.push(v).unwrap();
            }
            assert_eq!(runs.len(), values.len());
            // A batch of 1,000 holds 1,000 records at most: spilled.
            assert_eq!(runs.files() > 0, batch <= 4000, "batch {batch}");
            assert!(runs.held.capacity() <= batch.max(1), "batch {batch}");
            let (sorted, error) = runs.sorted().unwrap();
            assert_eq!(sorted.collect::<Vec<_>>(), expected, "batch {batch}");
            assert!(error.take().is_none());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
