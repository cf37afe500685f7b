//! Standard input read more than once by a run in chunks: the short-document
//! pass ([`super::count`]) reads it through a tee into an unnamed file under
//! the spool directory, and what comes after (its second pass, the run)
//! reads the file, then whatever of standard input the first pass left.
//! Without it a run in chunks fed by a pipe could not count the short
//! documents first: 300,000 six-word records from standard input took 21 s
//! at `--memory-limit 64M`, against 1 s from a file.

use crate::input::{display_path, InputPath};
use crate::pipe::Reader;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Standard input (or the caller's stream in its place), copied as it is
/// first read.
pub(super) struct Replay {
    shared: Arc<Shared>,
    name: std::path::PathBuf,
}

struct Shared {
    /// Where what was read is copied (unnamed).
    copy: File,
    /// Bytes copied.
    len: AtomicU64,
    /// Standard input, read to its end.
    ended: AtomicBool,
    /// Standard input, or the caller's stream; and what was read from it
    /// but could not be copied (a full disk), which the run reads after the
    /// copy: no byte read is lost.
    source: Mutex<(Source, Option<Vec<u8>>)>,
}

/// Standard input, or the caller's stream in its place.
type Source = Box<dyn Read + Send>;

impl Replay {
    /// A replay of the one input of `inputs` that is standard input, copied
    /// under `dir`; `None` when there is not exactly one, or no file can be
    /// made there (the run then reads standard input once, as before).
    pub(super) fn of(inputs: &[InputPath], dir: &std::path::Path) -> Option<Replay> {
        let mut stdin = inputs.iter().filter(|i| i.is_stdin());
        let (Some(input), None) = (stdin.next(), stdin.next()) else {
            return None;
        };
        let copy = crate::error::temp_file(dir).ok()?;
        Some(Replay {
            shared: Arc::new(Shared {
                copy,
                len: AtomicU64::new(0),
                ended: AtomicBool::new(false),
                source: Mutex::new((crate::pipe::stdin_or(input.reader.as_ref()), None)),
            }),
            name: display_path(input),
        })
    }

    /// Whether standard input was read to its end (and is all in the copy).
    #[cfg(test)]
    fn ended(&self) -> bool {
        self.shared.ended.load(Ordering::Acquire)
    }

    /// `inputs` with standard input read through the tee (the first pass).
    pub(super) fn teed(&self, inputs: &[InputPath]) -> Vec<InputPath> {
        self.with(inputs, Tee(Arc::clone(&self.shared)))
    }

    /// `inputs` with standard input read from the copy, then from what of it
    /// is left (the second pass, and the run): the copy is read again as many
    /// times as wanted once the first pass read to its end; else only the
    /// run reads it.
    pub(super) fn replayed(&self, inputs: &[InputPath]) -> Vec<InputPath> {
        self.with(
            inputs,
            Again {
                shared: Arc::clone(&self.shared),
                at: 0,
            },
        )
    }

    fn with(&self, inputs: &[InputPath], read: impl Read + Send + 'static) -> Vec<InputPath> {
        let reader = Reader::new(self.name.clone(), read);
        let mut inputs = inputs.to_vec();
        for input in inputs.iter_mut().filter(|i| i.is_stdin()) {
            input.reader = Some(reader.clone());
        }
        inputs
    }
}

/// Reads standard input and copies what it read.
struct Tee(Arc<Shared>);

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let shared = &self.0;
        let mut source = shared.source.lock().unwrap_or_else(PoisonError::into_inner);
        let given_up =
            || std::io::Error::other("standard input could not be copied: the pass is given up");
        if source.1.is_some() {
            return Err(given_up());
        }
        let n = source.0.read(buf)?;
        if n == 0 {
            shared.ended.store(true, Ordering::Release);
            return Ok(0);
        }
        let at = shared.len.load(Ordering::Acquire);
        if shared.copy.write_all_at(&buf[..n], at).is_err() {
            // Held for the run (at most one read's bytes), and the copy
            // cut where they begin; the pass stops here.
            let _ = shared.copy.set_len(at);
            source.1 = Some(buf[..n].to_vec());
            return Err(given_up());
        }
        shared.len.store(at + n as u64, Ordering::Release);
        Ok(n)
    }
}

/// Reads the copy from its start, then standard input from where the tee
/// left it (once: only what the tee read is copied, so a first pass that
/// stopped early costs a copy of what it read, not of the whole stream).
struct Again {
    shared: Arc<Shared>,
    at: u64,
}

impl Read for Again {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let shared = &self.shared;
        let len = shared.len.load(Ordering::Acquire);
        if self.at < len {
            let want = usize::try_from(len - self.at).map_or(buf.len(), |left| left.min(buf.len()));
            let n = shared.copy.read_at(&mut buf[..want], self.at)?;
            self.at += n as u64;
            return Ok(n);
        }
        if shared.ended.load(Ordering::Acquire) {
            return Ok(0);
        }
        let mut source = shared.source.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = &mut source.1 {
            if !held.is_empty() {
                let n = held.len().min(buf.len());
                buf[..n].copy_from_slice(&held[..n]);
                held.drain(..n);
                return Ok(n);
            }
        }
        // Not copied: the run reads what the first pass left once.
        source.0.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdin_reading(bytes: &[u8]) -> Vec<InputPath> {
        vec![InputPath {
            path: "-".into(),
            relative: "-".into(),
            reader: Some(Reader::new("records", std::io::Cursor::new(bytes.to_vec()))),
        }]
    }

    fn read_all(inputs: &[InputPath]) -> Vec<u8> {
        let mut out = Vec::new();
        inputs[0]
            .reader
            .clone()
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// Reads the first `n` bytes of the first input, and no more.
    fn read_some(inputs: &[InputPath], n: usize) {
        let mut first = vec![0; n];
        let mut reader = inputs[0].reader.clone().unwrap();
        reader.read_exact(&mut first).unwrap();
    }

    #[test]
    fn what_the_first_pass_read_is_read_again_then_the_rest() {
        let bytes: Vec<u8> = (0..100_000u32).flat_map(u32::to_le_bytes).collect();
        let dir = tempfile::tempdir().unwrap();
        let inputs = stdin_reading(&bytes);
        let replay = Replay::of(&inputs, dir.path()).unwrap();
        // The first pass reads a part and stops.
        read_some(&replay.teed(&inputs), 12_345);
        assert!(!replay.ended());
        let again = replay.replayed(&inputs);
        assert_eq!(
            again[0].reader.as_ref().unwrap().name(),
            std::path::Path::new("records")
        );
        let got = read_all(&again);
        let first_difference = got.iter().zip(&bytes).position(|(a, b)| a != b);
        assert_eq!((got.len(), first_difference), (bytes.len(), None));
        // What the first pass left was read once, not copied.
        assert!(!replay.ended());
    }

    #[test]
    fn read_to_its_end_by_the_first_pass_it_is_all_in_the_copy() {
        let bytes = b"{\"text\": \"one two\"}\n".repeat(1000);
        let dir = tempfile::tempdir().unwrap();
        let inputs = stdin_reading(&bytes);
        let replay = Replay::of(&inputs, dir.path()).unwrap();
        assert_eq!(read_all(&replay.teed(&inputs)), bytes);
        assert!(replay.ended());
        assert_eq!(read_all(&replay.replayed(&inputs)), bytes);
        assert_eq!(read_all(&replay.replayed(&inputs)), bytes);
    }

    #[test]
    fn bytes_read_but_not_copied_are_read_by_the_run() {
        // A copy that cannot be written (a full disk): the pass stops, and
        // the run reads the copy, the bytes held, then the rest.
        let bytes: Vec<u8> = (0..50_000u32).flat_map(u32::to_le_bytes).collect();
        let dir = tempfile::tempdir().unwrap();
        let inputs = stdin_reading(&bytes);
        let mut replay = Replay::of(&inputs, dir.path()).unwrap();
        read_some(&replay.teed(&inputs), 1000);
        // From here on the copy refuses writes: the same bytes, opened to
        // read only.
        let readable = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        std::fs::write(readable.path(), &bytes[..1000]).unwrap();
        Arc::get_mut(&mut replay.shared).unwrap().copy =
            std::fs::File::open(readable.path()).unwrap();
        let mut more = vec![0; 777];
        let teed = replay.teed(&inputs);
        assert!(teed[0].reader.clone().unwrap().read(&mut more).is_err());
        assert!(!replay.ended());
        let got = read_all(&replay.replayed(&inputs));
        let first_difference = got.iter().zip(&bytes).position(|(a, b)| a != b);
        assert_eq!((got.len(), first_difference), (bytes.len(), None));
    }

    #[test]
    fn only_one_standard_input_is_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let mut two = stdin_reading(b"x");
        two.extend(stdin_reading(b"y"));
        assert!(Replay::of(&two, dir.path()).is_none());
        let file = vec![InputPath {
            path: "a.txt".into(),
            relative: "a.txt".into(),
            reader: None,
        }];
        assert!(Replay::of(&file, dir.path()).is_none());
    }
}
