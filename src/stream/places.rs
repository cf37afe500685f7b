//! Where a stream's documents have their text (see [`Places`]).

use super::TextAt;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Where documents have their text: held (a run of one chunk), or written
/// to an unnamed file under `--tmp-dir` and read back a document at a time
/// (16 bytes a document: a flood of 30 million records would hold 480 MB).
#[derive(Default)]
pub(super) struct Places {
    held: Vec<TextAt>,
    file: Option<File>,
    pub(super) len: usize,
    /// The first error reading `file` back.
    pub(super) failed: std::sync::OnceLock<std::io::Error>,
}

/// Bytes a [`TextAt`] takes in [`Places`]' file.
const TEXT_AT_BYTES: usize = 16;

impl Places {
    /// Adds the places of documents handed out, to the file under `dir`
    /// when `spooled`.
    pub(super) fn extend(
        &mut self,
        places: impl ExactSizeIterator<Item = TextAt>,
        spooled: Option<&Path>,
    ) -> std::io::Result<()> {
        let Some(dir) = spooled else {
            self.len += places.len();
            self.held.extend(places);
            return Ok(());
        };
        let file = match &mut self.file {
            Some(file) => file,
            file @ None => file.insert(crate::error::temp_file(dir)?),
        };
        let mut bytes = Vec::with_capacity(places.len() * TEXT_AT_BYTES);
        for at in places {
            bytes.extend_from_slice(&at.source.to_le_bytes());
            bytes.extend_from_slice(&at.len.to_le_bytes());
            bytes.extend_from_slice(&at.start.to_le_bytes());
            self.len += 1;
        }
        file.write_all(&bytes)
    }

    /// Bytes of memory it takes: the places held (none when they are in
    /// the file).
    pub(super) fn held_bytes(&self) -> usize {
        self.held.capacity() * std::mem::size_of::<TextAt>()
    }

    /// Where document `doc` has its text; `None` (the error kept for
    /// [`Texts::failure`]) when the file cannot be read back.
    pub(super) fn get(&self, doc: usize) -> Option<TextAt> {
        let Some(file) = &self.file else {
            return Some(self.held[doc]);
        };
        let mut b = [0; TEXT_AT_BYTES];
        match crate::store::read_at(file, &mut b, (doc * TEXT_AT_BYTES) as u64) {
            Ok(()) => {
                let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
                Some(TextAt {
                    source: word(0),
                    len: word(4),
                    start: u64::from_le_bytes(b[8..].try_into().expect("8 bytes")),
                })
            }
            Err(e) => {
                let _ = self.failed.set(e);
                None
            }
        }
    }
}
