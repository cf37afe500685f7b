//! Records sorted a bounded number at a time: each full batch is sorted and
//! written to an unnamed temporary file, and the files are read back merged
//! (a k-way merge), so that what a write makes of its own (the band records
//! of short documents given them back: 128 of 16 bytes a document, 1.2 GB
//! for 600,000 short records merged at `--memory-limit 64M`) is never held
//! whole.

use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Records a batch holds before it is sorted and written out: 16 MiB.
pub(super) const BATCH: usize = 1 << 20;
/// Bytes read ahead from the files, over all of them.
const READ_AHEAD: usize = 8 << 20;
const RECORD: usize = 16;
/// Files kept at most: past it they are merged into one (a low limit on
/// open files holds every other file a run keeps open too).
const MAX_FILES: usize = 64;

/// Records (`u128`s, sorted as integers) taken in batches of at most
/// `batch`, sorted when read back ([`Runs::sorted`]).
pub(super) struct Runs {
    dir: PathBuf,
    batch: usize,
    held: Vec<u128>,
    files: Vec<std::fs::File>,
    count: usize,
}

impl Runs {
    /// Runs whose files (when a batch fills) go in `dir`.
    pub(super) fn new(dir: &Path, batch: usize) -> Runs {
        Runs {
            dir: dir.to_owned(),
            batch: batch.max(1),
            held: Vec::new(),
            files: Vec::new(),
            count: 0,
        }
    }

    /// Records taken so far.
    pub(super) fn len(&self) -> usize {
        self.count
    }

    /// Takes `record`.
    ///
    /// # Errors
    /// The batch's file failing.
    pub(super) fn push(&mut self, record: u128) -> std::io::Result<()> {
        self.held.push(record);
        self.count += 1;
        if self.held.len() >= self.batch {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.held.par_sort_unstable();
        let file = crate::error::temp_file(&self.dir)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        for r in &self.held {
            out.write_all(&r.to_le_bytes())?;
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
        let merged = Sorted::of(std::mem::take(&mut self.files), &error);
        let file = crate::error::temp_file(&self.dir)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        for r in merged {
            out.write_all(&r.to_le_bytes())?;
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

    /// Every record taken, ascending, and where a failed read of a file is
    /// told (the records then end early: look there once they are used).
    ///
    /// # Errors
    /// The last batch's file failing.
    pub(super) fn sorted(mut self) -> std::io::Result<(Sorted, ReadError)> {
        let error = ReadError::default();
        if self.files.is_empty() {
            self.held.par_sort_unstable();
            return Ok((Sorted::Held(self.held.into_iter()), error));
        }
        if !self.held.is_empty() {
            self.spill()?;
        }
        self.held = Vec::new();
        let sorted = Sorted::of(self.files, &error);
        Ok((sorted, error))
    }
}

/// The first error reading the files back, if any.
#[derive(Clone, Default)]
pub(super) struct ReadError(Arc<Mutex<Option<std::io::Error>>>);

impl ReadError {
    /// The error, taken.
    pub(super) fn take(&self) -> Option<std::io::Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn set(&self, e: std::io::Error) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(e);
    }
}

fn next(reader: &mut BufReader<std::fs::File>, error: &ReadError) -> Option<u128> {
    let mut bytes = [0u8; RECORD];
    match reader.read_exact(&mut bytes) {
        Ok(()) => Some(u128::from_le_bytes(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => None,
        Err(e) => {
            error.set(e);
            None
        }
    }
}

/// The records of [`Runs`], ascending.
pub(super) enum Sorted {
    Held(std::vec::IntoIter<u128>),
    Files {
        readers: Vec<BufReader<std::fs::File>>,
        heap: BinaryHeap<Reverse<(u128, usize)>>,
        error: ReadError,
    },
}

impl Sorted {
    /// The records of sorted `files`, merged; a failed read told in `error`.
    fn of(files: Vec<std::fs::File>, error: &ReadError) -> Sorted {
        let ahead = (READ_AHEAD / files.len().max(1)).clamp(RECORD * 256, 1 << 16);
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
        }
    }
}

impl Iterator for Sorted {
    type Item = u128;

    fn next(&mut self) -> Option<u128> {
        match self {
            Sorted::Held(held) => held.next(),
            Sorted::Files {
                readers,
                heap,
                error,
            } => {
                let Reverse((v, i)) = heap.pop()?;
                if let Some(w) = next(&mut readers[i], error) {
                    heap.push(Reverse((w, i)));
                }
                Some(v)
            }
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
}
