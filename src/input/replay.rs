//! Inputs that come once (standard input, a library caller's stream in its
//! place, a FIFO or a pipe named as a file) read more than once by a run in
//! chunks: the first reading copies the bytes it reads, as they come (still
//! compressed when they are), into an unnamed file under the spool
//! directory (`--tmp-dir`: nothing is left there when the run ends, fails
//! or is killed), and a later reading reads the copy, under the input's own
//! name, then what is left of the input.
//!
//! Two runs use it. The short-document pass of a run in chunks
//! (`lonely::count`) copies standard input as it reads it and, when it
//! stops early, lets the run read the rest once, uncopied
//! ([`Past::Once`]): without it a run in chunks fed by a pipe could not
//! count the short documents first (300,000 six-word records from standard
//! input took 21 s at `--memory-limit 64M`, against 1 s from a file). A run
//! in chunks under `--keep fullest` reads every input twice, so every
//! reading copies what no reading before it read ([`Past::Copied`]): each
//! reads the same bytes, however far the one before it went.
//!
//! The bytes are copied as read, not decoded: a compressed stream takes its
//! compressed size on disk, and every reading decodes and checks it as the
//! first did (the same format found, the same error at the same place).

use super::{display_path, open_input, InputPath};
use crate::pipe::Reader;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Inputs that come once, each copied as it is first read.
pub(crate) struct Replay {
    /// Each input copied, by its place among the inputs.
    copies: Vec<(usize, Arc<Shared>)>,
}

/// What a reading of a copied input reads once it has read the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Past {
    /// The input, copying what it reads for the readings after it.
    Copied,
    /// What a reading before it read but could not copy, then the input,
    /// uncopied (nothing reads it after this one).
    Once,
}

struct Shared {
    /// The input's name in messages and reports.
    name: PathBuf,
    /// Where what was read is copied (unnamed), and the directory it is in
    /// (for messages).
    copy: File,
    dir: PathBuf,
    /// Bytes copied.
    len: AtomicU64,
    /// The input, read to its end (and all in the copy).
    ended: AtomicBool,
    source: Mutex<Source>,
}

/// The input itself, opened at its first reading.
struct Source {
    from: Option<Box<dyn Read + Send>>,
    /// A FIFO or pipe named as a file: opened when it is first read (as the
    /// run would open it: opening a FIFO waits for its writer).
    path: Option<PathBuf>,
    /// What was read but could not be copied (a full disk), which readings
    /// after it read after the copy: no byte read is lost; and why.
    held: Option<(Vec<u8>, String)>,
}

impl Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.from.is_none() {
            let path = self
                .path
                .as_ref()
                .expect("an input with no stream of its own");
            self.from = Some(Box::new(open_input(path)?));
        }
        self.from.as_mut().expect("opened").read(buf)
    }
}

impl Replay {
    /// A replay of the one input of `inputs` that is standard input, copied
    /// under `dir`; `None` when there is not exactly one, or no file can be
    /// made there (the run then reads standard input once, as before).
    pub(crate) fn of_stdin(inputs: &[InputPath], dir: &Path) -> Option<Replay> {
        let mut stdin = inputs.iter().enumerate().filter(|(_, i)| i.is_stdin());
        let (Some((at, input)), None) = (stdin.next(), stdin.next()) else {
            return None;
        };
        let copy = crate::error::temp_file(dir).ok()?;
        Some(Replay {
            copies: vec![(at, Shared::new(input, copy, dir))],
        })
    }

    /// A replay of every input of `inputs` that can be read only once
    /// ([`InputPath::read_again`] says no), each copied under `dir`; `None`
    /// when there is none.
    ///
    /// # Errors
    /// A file that cannot be made in `dir`.
    pub(crate) fn of_streams(inputs: &[InputPath], dir: &Path) -> std::io::Result<Option<Replay>> {
        let mut copies = Vec::new();
        for (at, input) in inputs.iter().enumerate() {
            if !input.read_again() {
                let copy = crate::error::temp_file(dir)?;
                copies.push((at, Shared::new(input, copy, dir)));
            }
        }
        Ok((!copies.is_empty()).then_some(Replay { copies }))
    }

    /// Whether every copied input was read to its end (and is all in its
    /// copy).
    #[cfg(test)]
    fn ended(&self) -> bool {
        self.copies
            .iter()
            .all(|(_, s)| s.ended.load(Ordering::Acquire))
    }

    /// `inputs` (those the replay was made of) with each copied input read
    /// from its start: its copy, then the input as `past` says.
    pub(crate) fn read(&self, inputs: &[InputPath], past: Past) -> Vec<InputPath> {
        let mut inputs = inputs.to_vec();
        for (at, shared) in &self.copies {
            let again = Again {
                shared: Arc::clone(shared),
                at: 0,
                past,
            };
            inputs[*at].reader = Some(Reader::new(shared.name.clone(), again));
        }
        inputs
    }
}

impl Shared {
    fn new(input: &InputPath, copy: File, dir: &Path) -> Arc<Shared> {
        let streamed = input.from_reader();
        let source = Source {
            from: streamed.then(|| crate::pipe::stdin_or(input.reader.as_ref())),
            path: (!streamed).then(|| input.path.clone()),
            held: None,
        };
        Arc::new(Shared {
            name: display_path(input),
            copy,
            dir: dir.to_owned(),
            len: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            source: Mutex::new(source),
        })
    }
}

/// Reads a copied input from its start: the copy, then the input (see
/// [`Past`]).
struct Again {
    shared: Arc<Shared>,
    at: u64,
    past: Past,
}

impl Read for Again {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let shared = Arc::clone(&self.shared);
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
        if shared.len.load(Ordering::Acquire) > self.at {
            // Another reading copied more meanwhile: read it from the copy.
            drop(source);
            return self.read(buf);
        }
        match self.past {
            Past::Copied => self.copied(&mut source, buf),
            Past::Once => {
                if let Some((held, _)) = &mut source.held {
                    if !held.is_empty() {
                        let n = held.len().min(buf.len());
                        buf[..n].copy_from_slice(&held[..n]);
                        held.drain(..n);
                        return Ok(n);
                    }
                }
                source.read(buf)
            }
        }
    }
}

impl Again {
    /// Reads the input past the copy's end (where this reading is) and
    /// copies what it read.
    fn copied(&mut self, source: &mut Source, buf: &mut [u8]) -> std::io::Result<usize> {
        let shared = &self.shared;
        let not_copied = |e: &dyn std::fmt::Display| {
            std::io::Error::other(format!(
                "cannot copy it into {} to read it again: {e}",
                crate::escape::shown_path(&shared.dir)
            ))
        };
        if let Some((_, failed)) = &source.held {
            return Err(not_copied(failed));
        }
        let n = source.read(buf)?;
        if n == 0 {
            shared.ended.store(true, Ordering::Release);
            return Ok(0);
        }
        if let Err(e) = shared.copy.write_all_at(&buf[..n], self.at) {
            // Held for a reading that reads the rest once (at most one
            // read's bytes), and the copy cut where they begin.
            let _ = shared.copy.set_len(self.at);
            source.held = Some((buf[..n].to_vec(), e.to_string()));
            return Err(not_copied(&e));
        }
        self.at += n as u64;
        shared.len.store(self.at, Ordering::Release);
        Ok(n)
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
        let replay = Replay::of_stdin(&inputs, dir.path()).unwrap();
        // The first pass reads a part and stops.
        read_some(&replay.read(&inputs, Past::Copied), 12_345);
        assert!(!replay.ended());
        let again = replay.read(&inputs, Past::Once);
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
        let replay = Replay::of_stdin(&inputs, dir.path()).unwrap();
        assert_eq!(read_all(&replay.read(&inputs, Past::Copied)), bytes);
        assert!(replay.ended());
        assert_eq!(read_all(&replay.read(&inputs, Past::Once)), bytes);
        assert_eq!(read_all(&replay.read(&inputs, Past::Copied)), bytes);
    }

    #[test]
    fn each_reading_copies_what_none_before_it_read() {
        // `--keep fullest`: a pass that stops early (the short documents'),
        // then one that reads further, then the run: each reads it all.
        let bytes: Vec<u8> = (0..80_000u32).flat_map(u32::to_le_bytes).collect();
        let dir = tempfile::tempdir().unwrap();
        let inputs = stdin_reading(&bytes);
        let replay = Replay::of_streams(&inputs, dir.path()).unwrap().unwrap();
        read_some(&replay.read(&inputs, Past::Copied), 1000);
        read_some(&replay.read(&inputs, Past::Copied), 200_000);
        assert!(!replay.ended());
        for _ in 0..2 {
            assert_eq!(read_all(&replay.read(&inputs, Past::Copied)), bytes);
            assert!(replay.ended());
        }
    }

    #[test]
    fn bytes_read_but_not_copied_are_read_by_the_run() {
        // A copy that cannot be written (a full disk): the pass stops, and
        // the run reads the copy, the bytes held, then the rest.
        let bytes: Vec<u8> = (0..50_000u32).flat_map(u32::to_le_bytes).collect();
        let dir = tempfile::tempdir().unwrap();
        let inputs = stdin_reading(&bytes);
        let mut replay = Replay::of_stdin(&inputs, dir.path()).unwrap();
        read_some(&replay.read(&inputs, Past::Copied), 1000);
        // From here on the copy refuses writes: the same bytes, opened to
        // read only.
        let readable = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        std::fs::write(readable.path(), &bytes[..1000]).unwrap();
        Arc::get_mut(&mut replay.copies[0].1).unwrap().copy =
            std::fs::File::open(readable.path()).unwrap();
        let mut more = vec![0; 777];
        let copied = replay.read(&inputs, Past::Copied);
        let mut reader = copied[0].reader.clone().unwrap();
        reader.read_exact(&mut [0; 1000]).unwrap();
        let failed = reader.read(&mut more);
        let message = failed.unwrap_err().to_string();
        assert!(message.contains("cannot copy it into"), "{message}");
        // A reading that would copy too fails, and says why.
        let again = replay.read(&inputs, Past::Copied);
        let mut reader = again[0].reader.clone().unwrap();
        let again = reader.read_exact(&mut vec![0; 1001]).unwrap_err();
        assert_eq!(again.to_string(), message);
        assert!(!replay.ended());
        let got = read_all(&replay.read(&inputs, Past::Once));
        let first_difference = got.iter().zip(&bytes).position(|(a, b)| a != b);
        assert_eq!((got.len(), first_difference), (bytes.len(), None));
    }

    #[test]
    fn only_one_standard_input_is_replayed_for_the_short_documents() {
        let dir = tempfile::tempdir().unwrap();
        let mut two = stdin_reading(b"x");
        two.extend(stdin_reading(b"y"));
        assert!(Replay::of_stdin(&two, dir.path()).is_none());
        let file = vec![InputPath {
            path: "a.txt".into(),
            relative: "a.txt".into(),
            reader: None,
        }];
        assert!(Replay::of_stdin(&file, dir.path()).is_none());
        assert!(Replay::of_streams(&file, dir.path()).unwrap().is_none());
        // Every stream, for `--keep fullest`.
        let streams = Replay::of_streams(&two, dir.path()).unwrap().unwrap();
        let read = streams.read(&two, Past::Copied);
        assert_eq!(
            (read_all(&read), read_all(&read[1..])),
            (b"x".to_vec(), b"y".to_vec())
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_opened_when_first_read_and_named_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("in.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let inputs = vec![InputPath {
            path: fifo.clone(),
            relative: "in.fifo".into(),
            reader: None,
        }];
        assert!(!inputs[0].read_again());
        let replay = Replay::of_streams(&inputs, dir.path()).unwrap().unwrap();
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, b"some bytes\n").unwrap())
        };
        let first = replay.read(&inputs, Past::Copied);
        assert_eq!(first[0].reader.as_ref().unwrap().name(), fifo.as_path());
        assert_eq!(first[0].path, fifo);
        assert_eq!(read_all(&first), b"some bytes\n");
        writer.join().unwrap();
        assert_eq!(
            read_all(&replay.read(&inputs, Past::Copied)),
            b"some bytes\n"
        );
    }
}
