//! Reading inputs a piece at a time, for chunked runs (`--memory-limit`): a
//! chunk is analysed, and its output written, as soon as enough documents
//! have been read for it, so output starts long before a large input ends
//! and the run never holds a table of every document.
//!
//! Inputs are read one after another, in input order. A JSON Lines file on
//! disk is memory-mapped (and checked to be UTF-8 whole, as a whole run
//! checks it) and its records are located a piece at a time. Standard
//! input, compressed inputs and files that cannot be mapped are copied,
//! decoded, a piece at a time to an unnamed file under `--tmp-dir`, which is
//! mapped again as it grows; each piece's complete lines are checked and
//! located as they arrive. A text file is one document and is read whole.
//!
//! Errors name the file and line or byte offset, as in whole runs. With
//! `--on-error skip`, a source that fails part way (a truncated compressed
//! stream, invalid UTF-8 in a streamed input) keeps the records read before
//! the failure (they may be written already) and the failure is listed as
//! skipped; a whole run skips such a source entirely.

use crate::compress::Compression;
use crate::config::{Config, Format, OnError};
use crate::error::{Error, Result};
use crate::input::{self, Corpus, Data, Document, InputPath, Source, Texts};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod cost;
pub use cost::MEMORY_PER_TEXT_BYTE;
mod places;
use places::Places;
mod rest;

/// Input bytes read (and located) at most at a time.
pub const PIECE: usize = 64 << 20;

/// Bytes a streamed input is decoded into before they go to its spool file.
const SPOOL_BUFFER: usize = 1 << 20;

/// Where a handed-out document's text is: 16 bytes per document, where a
/// [`Document`] takes 80 (a 5 GB corpus has 3 million).
#[derive(Clone, Copy, Debug)]
struct TextAt {
    source: u32,
    /// Bytes of the raw JSON string, or [`WHOLE`] for a text file.
    len: u32,
    /// Where the raw JSON string starts in its source.
    start: u64,
}

/// A document that is its whole source.
const WHOLE: u32 = u32::MAX;

/// What a stream has read so far.
pub struct Seen {
    /// The sources opened so far, in input order (skipped ones left out);
    /// the last may still be growing.
    pub sources: Vec<Arc<Source>>,
    /// Where each document handed out has its text, by its index in input
    /// order (kept by streams of more than one chunk).
    places: Places,
    /// Inputs and records passed over (see [`Corpus::skipped`]).
    pub skipped: Vec<Error>,
}

impl Seen {
    /// Documents whose text is known ([`Texts::text_of`] takes them).
    #[must_use]
    pub fn places_len(&self) -> usize {
        self.places.len
    }
}

impl Texts for Seen {
    fn text_of(&self, doc: usize) -> Cow<'_, str> {
        let Some(at) = self.places.get(doc) else {
            return Cow::Borrowed("");
        };
        let source = &self.sources[at.source as usize];
        if at.len == WHOLE {
            return Cow::Borrowed(source.text());
        }
        #[allow(clippy::cast_possible_truncation)]
        let start = at.start as usize;
        input::json_text(source, start..start + at.len as usize)
    }

    fn sources(&self) -> &[Arc<Source>] {
        &self.sources
    }

    fn failure(&self) -> Option<std::io::Error> {
        let e = self.places.failed.get()?;
        Some(std::io::Error::new(
            e.kind(),
            format!("reading back where texts are: {e}"),
        ))
    }
}

/// Documents handed out together, in input order.
pub struct Chunk {
    /// Index of its first document in input order.
    pub first: usize,
    /// Its documents, with every source read so far.
    pub corpus: Corpus,
    /// Sources before this one have no documents after this chunk and are
    /// read to their end.
    pub complete: usize,
}

/// Inputs read a piece at a time; see the module's documentation.
pub struct Stream<'c> {
    config: &'c Config,
    /// Inputs not opened yet, with their sizes on disk (0 for standard input).
    inputs: VecDeque<(InputPath, u64)>,
    /// Bytes of every input (`None` with standard input), and of those opened.
    total: Option<u64>,
    opened: u64,
    seen: Seen,
    /// The source being read.
    open: Option<Open>,
    /// Documents handed out so far.
    handed: usize,
    /// Documents located but not yet handed out, and their bytes of text.
    pending: VecDeque<Document>,
    pending_bytes: usize,
    /// Input bytes read at a time.
    piece: usize,
    /// Inputs on disk of at most this many bytes are read whole.
    small: Option<u64>,
    /// Spooled inputs go here.
    dir: PathBuf,
    /// Where inputs read whole spool standard input and decompressed bytes
    /// (`None`: held in memory, as a run of one chunk does).
    spool: Option<PathBuf>,
    /// Where each document's text is kept also in a run of one chunk (for a
    /// report that shows the texts: `--html`).
    keep_places: bool,
    /// Errors of other inputs found with the one [`Stream::next_chunk`]
    /// returned (a run of one chunk reads every input, and names every error).
    other_errors: Vec<Error>,
    /// An input's error ended the reading ([`Stream::errors_after`]).
    failed: bool,
    /// Bytes of text one document may hold (and a compressed text input
    /// decode to): one chunk's.
    max_document: usize,
    /// Bytes a Parquet row group's pages may take being read (`None`: any).
    page_budget: Option<u64>,
    /// What a document costs a chunk besides its text ([`cost::document_cost`]).
    document_cost: usize,
}

struct Open {
    /// Its index in [`Seen::sources`].
    source: usize,
    /// Its size on disk, and how much of it was read (a spooled input counts
    /// its raw bytes as they are read; a mapped one its bytes located).
    size: u64,
    read: Arc<std::sync::atomic::AtomicU64>,
    /// Bytes whose lines are located.
    located: usize,
    /// Lines in them.
    lines: usize,
    /// `None` when the source's bytes are all there (a mapped file).
    spooling: Option<Spooling>,
}

impl Open {
    fn new(
        source: usize,
        size: u64,
        read: Arc<std::sync::atomic::AtomicU64>,
        spooling: Option<Spooling>,
    ) -> Open {
        Open {
            source,
            size,
            read,
            located: 0,
            lines: 0,
            spooling,
        }
    }
}

struct Spooling {
    from: Box<dyn Read + Send>,
    compression: Compression,
    file: File,
    /// Bytes spooled.
    len: usize,
    /// The input is read to its end.
    ended: bool,
    buffer: Vec<u8>,
}

impl<'c> Stream<'c> {
    /// A stream over `inputs`, reading about `piece` bytes at a time and
    /// spooling under `dir`.
    #[must_use]
    pub fn new(inputs: Vec<InputPath>, config: &'c Config, piece: usize, dir: PathBuf) -> Self {
        let inputs: VecDeque<(InputPath, u64)> = inputs
            .into_iter()
            .map(|i| {
                let size = if i.is_stdin() {
                    0
                } else {
                    std::fs::metadata(&i.path).map_or(0, |m| m.len())
                };
                (i, size)
            })
            .collect();
        let total = (!inputs.iter().any(|(i, _)| i.is_stdin()))
            .then(|| inputs.iter().map(|&(_, size)| size).sum());
        Stream {
            config,
            inputs,
            total,
            opened: 0,
            seen: Seen {
                sources: Vec::new(),
                places: Places::default(),
                skipped: Vec::new(),
            },
            open: None,
            handed: 0,
            pending: VecDeque::new(),
            pending_bytes: 0,
            piece: piece.clamp(1, PIECE),
            small: Some((piece.clamp(1, PIECE) / 4) as u64),
            spool: Some(dir.clone()),
            dir,
            keep_places: false,
            other_errors: Vec::new(),
            failed: false,
            max_document: usize::MAX,
            page_budget: None,
            document_cost: cost::document_cost(config),
        }
    }

    /// Keeps where each document's text is (for [`Seen`]'s texts) in a run of
    /// one chunk too, whose chunk is let go before the report is written.
    #[must_use]
    pub fn keeping_texts(self) -> Self {
        Stream {
            keep_places: true,
            ..self
        }
    }

    /// Refuses documents of more than `max` bytes of text (a chunk's), and
    /// stops decoding a compressed text input there.
    #[must_use]
    pub fn with_max_document(self, max: usize) -> Self {
        Stream {
            max_document: max,
            ..self
        }
    }

    /// Refuses Parquet inputs whose pages would take more than `budget`
    /// bytes while a row group is read (they are decompressed whole).
    #[must_use]
    pub fn with_page_budget(self, budget: Option<u64>) -> Self {
        Stream {
            page_budget: budget,
            ..self
        }
    }

    /// A stream for a run of one chunk: every input is read whole, on every
    /// thread, in input order, holding standard input and decompressed
    /// inputs in memory, and the first chunk asked for reports the error of
    /// every input that fails (see [`Stream::other_errors`]).
    #[must_use]
    pub fn whole(inputs: Vec<InputPath>, config: &'c Config) -> Self {
        let mut stream = Stream::new(inputs, config, PIECE, std::env::temp_dir());
        stream.piece = usize::MAX;
        stream.small = Some(u64::MAX);
        stream.spool = None;
        stream
    }

    /// The errors of other inputs found along with the one the last call
    /// of [`Stream::next_chunk`] returned, in input order.
    pub fn other_errors(&mut self) -> Vec<Error> {
        std::mem::take(&mut self.other_errors)
    }

    /// Bytes of all the inputs on disk (compressed, if they are), when known
    /// (not with standard input).
    #[must_use]
    pub fn input_total(&self) -> Option<u64> {
        self.total
    }

    /// Bytes of the inputs read so far, as [`Stream::input_total`] counts them.
    #[must_use]
    pub fn input_read(&self) -> u64 {
        let Some(open) = &self.open else {
            return self.opened;
        };
        let read = open.read.load(std::sync::atomic::Ordering::Relaxed);
        // (Standard input has no size: all it gave counts.)
        let read = if open.size == 0 {
            read
        } else {
            read.min(open.size)
        };
        self.opened - open.size + read
    }

    /// What has been read so far.
    #[must_use]
    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// Ends the stream, giving what was read.
    #[must_use]
    pub fn into_seen(self) -> Seen {
        self.seen
    }

    /// The next documents, `chunk_bytes` bytes of text at most, each
    /// document counted with `cost::document_cost` bytes more (one document at
    /// least), or `None` once every input is read.
    ///
    /// # Errors
    /// An input that cannot be read, decoded or parsed (unless
    /// `--on-error skip`), named with its line or byte offset.
    pub fn next_chunk(&mut self, chunk_bytes: usize) -> Result<Option<Chunk>> {
        while self.pending_bytes < chunk_bytes && self.read_piece()? {}
        if self.pending.is_empty() {
            return Ok(None);
        }
        // The documents that fit (one at least), taken at once: the chunk's
        // table is allocated once, at its size.
        let (mut count, mut bytes) = (0, 0usize);
        for next in &self.pending {
            let cost = cost::chunk_cost(next, self.document_cost);
            if count > 0 && bytes.saturating_add(cost) > chunk_bytes {
                break;
            }
            count += 1;
            bytes += cost;
        }
        let documents: Vec<Document> = if count == self.pending.len() {
            std::mem::take(&mut self.pending).into()
        } else {
            self.pending.drain(..count).collect()
        };
        self.pending_bytes -= bytes;
        let first = self.handed;
        self.handed += documents.len();
        // A run of one chunk has every document's text in its chunk: where
        // texts are is kept only for the chunks after the first.
        if self.spool.is_some() || self.keep_places {
            self.keep_places_of(&documents)?;
        }
        let complete = match (self.pending.front(), &self.open) {
            (Some(next), _) => next.source,
            (None, Some(open)) => open.source,
            (None, None) => self.seen.sources.len(),
        };
        Ok(Some(Chunk {
            first,
            corpus: Corpus {
                sources: self.seen.sources.clone(),
                documents,
                skipped: Vec::new(),
            },
            complete,
        }))
    }

    /// Whether documents remain to be handed out (reading until one is
    /// located or every input is read).
    ///
    /// # Errors
    /// As [`Stream::next_chunk`].
    pub fn has_more(&mut self) -> Result<bool> {
        while self.pending.is_empty() && self.read_piece()? {}
        Ok(!self.pending.is_empty())
    }

    /// Reads the next piece of input. `false` once every input is read.
    fn read_piece(&mut self) -> Result<bool> {
        let step = if self.open.is_some() {
            self.step()
        } else if self.inputs.front().is_some_and(|i| self.is_small(i)) {
            self.read_small()
        } else if let Some((input, size)) = self.inputs.pop_front() {
            self.opened += size;
            self.open_input(input, size)
        } else {
            return Ok(false);
        };
        if let Err(e) = step {
            let skipped = input::passed_over(e, self.config)
                .inspect_err(|e| self.failed = self.of_input(e))?;
            if let Some(open) = self.close() {
                self.cut(open)?;
            }
            self.seen.skipped.push(skipped);
        }
        Ok(true)
    }

    /// Whether an input is read whole: a file on disk of at most a quarter
    /// of a piece, not compressed (a small compressed file can hold
    /// gigabytes), and a Parquet file by the bytes its footer says it
    /// decodes to (170 KB of Parquet held 2 GB of rows).
    fn is_small(&self, (input, size): &(InputPath, u64)) -> bool {
        let whole = self.spool.is_none();
        whole
            || (!input.is_stdin()
                && self.small.is_some_and(|small| {
                    *size <= small && crate::parquet::decodes_within(input, self.config, small)
                })
                && !input::must_stream(&input.path))
    }

    /// Reads the small inputs that come next, a piece's worth of them, whole
    /// and on every thread (a directory of many small files is not read
    /// one file at a time), keeping their order.
    fn read_small(&mut self) -> Result<()> {
        let mut batch = Vec::new();
        let mut bytes = 0u64;
        while let Some(next) = self.inputs.front() {
            let over = bytes.saturating_add(next.1) > self.piece as u64;
            if !self.is_small(next) || (!batch.is_empty() && over) {
                break;
            }
            bytes += next.1;
            batch.extend(self.inputs.pop_front().map(|(input, _)| input));
        }
        self.opened = self.opened.saturating_add(bytes);
        let (config, spool, budget) = (self.config, self.spool.as_deref(), self.page_budget);
        let loaded: Vec<Loaded> = batch
            .into_par_iter()
            .map(|input| load_whole(input, config, spool, budget))
            .collect();
        let mut failed = Vec::new();
        for item in loaded {
            match item {
                Ok((source, docs, bad)) => {
                    let index = self.seen.sources.len();
                    self.push_documents(index, docs);
                    self.seen.sources.push(Arc::new(source));
                    self.seen.skipped.extend(bad);
                }
                Err(e) => match input::passed_over(e, self.config) {
                    Ok(skipped) => self.seen.skipped.push(skipped),
                    Err(e) => failed.push(e),
                },
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        let first = failed.remove(0);
        self.other_errors = failed;
        Err(first)
    }

    #[allow(clippy::too_many_lines)]
    fn open_input(&mut self, input: InputPath, size: u64) -> Result<()> {
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        // A regular file's first line tells its format now; standard input
        // and pipes (`Auto`) tell it as they are read, below.
        let format = input::format_peeked(&input, self.config);
        // (`size` is 0 for standard input, pipes and special files, whose
        // size the file system does not tell, and for empty files.)
        let streamed = format != Format::Text
            && (size == 0
                || Compression::from_name(&input.path) != Compression::None
                || !self.config.mmap
                || (size >= input::MAP_FROM && !input::can_map(&input.path)));
        if !streamed {
            // A text file (one document) or a JSON Lines file that can be
            // mapped: read (mapped) and checked whole.
            let source = if input::format_of(&input, self.config) == Format::Parquet {
                crate::parquet::load(input, self.config, self.spool.as_deref(), self.page_budget)?
            } else {
                input::load_source_within(
                    input,
                    self.config,
                    Some(self.max_document),
                    self.spool.as_deref(),
                )?
            };
            let index = self.seen.sources.len();
            if source.format == Format::Text {
                let (docs, _) = input::documents(&source, self.config)?;
                cost::refuse_too_large(&source, &docs, self.max_document)?;
                self.push_documents(index, docs);
                self.seen.sources.push(Arc::new(source));
            } else {
                self.seen.sources.push(Arc::new(source));
                self.open = Some(Open::new(index, size, read, None));
            }
            return Ok(());
        }
        let path = input::display_path(&input);
        // (A FIFO copied to be read again reads the copy: [`input::Replay`].)
        let raw: Box<dyn Read + Send> = if input.from_reader() {
            Box::new(CountingReader {
                inner: crate::pipe::stdin_or(input.reader.as_ref()),
                read: Arc::clone(&read),
            })
        } else {
            let file = input::open_input(&input.path).map_err(|e| Error::io(&path, e))?;
            let meta = file.metadata().map_err(|e| Error::io(&path, e))?;
            if meta.is_dir() {
                return Err(Error::io(
                    &path,
                    std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
                ));
            }
            Box::new(CountingReader {
                inner: input::Whole::new(file, &meta),
                read: Arc::clone(&read),
            })
        };
        // The first bytes show a compressed stream without a telling name.
        let mut raw = std::io::BufReader::with_capacity(1 << 16, raw);
        let mut head = Vec::new();
        while head.len() < 4 {
            let got = std::io::BufRead::fill_buf(&mut raw).map_err(|e| Error::io(&path, e))?;
            if got.is_empty() {
                break;
            }
            let n = got.len().min(4 - head.len());
            head.extend_from_slice(&got[..n]);
            std::io::BufRead::consume(&mut raw, n);
        }
        let compression = match Compression::from_name(&input.path) {
            Compression::None => Compression::sniff(&head),
            named => named,
        };
        let raw = std::io::Cursor::new(head).chain(raw);
        let mut from = crate::compress::decoder(raw, compression)
            .map_err(|e| crate::compress::decode_error(&path, compression, 0, &e))?;
        let failed = |e: std::io::Error, decoded: usize| match compression {
            Compression::None => Error::io(&path, e),
            c => crate::compress::decode_error(&path, c, decoded, &e),
        };
        if format == Format::Auto {
            let mut decoded = Vec::new();
            let jsonl = match input::sniff_reader(&mut from, &mut decoded, self.max_document) {
                Ok(jsonl) => jsonl,
                Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                    return Err(Error::TooLarge {
                        path,
                        message: format!(
                            "{e}, more than one chunk of this run holds; raise --memory-limit or split the input"
                        ),
                    })
                }
                Err(e) => return Err(failed(e, decoded.len())),
            };
            let mut from = std::io::Cursor::new(decoded).chain(from);
            if !jsonl && self.config.annotate {
                // As `output::plan` refuses a text input it can see.
                return Err(Error::Usage(format!(
                    "{}: --annotate adds fields to JSON Lines records; this input is plain text",
                    crate::escape::shown_path(&input.path)
                )));
            }
            if !jsonl {
                // Text: one document read whole (spooled), up to a chunk or its first NUL byte.
                let stop = std::cell::RefCell::new(None);
                let limits = input::Limits {
                    refuse_binary: !self.config.text,
                    max: self.max_document,
                    path: &path,
                    hint: input::CHUNK_HINT,
                    stop: &stop,
                    compressed: compression != Compression::None,
                    bad_line: None,
                };
                let mut counted = CountingReader {
                    inner: limits.guard(&mut from),
                    read: Arc::new(std::sync::atomic::AtomicU64::new(0)),
                };
                let spooled = input::spool(&self.dir, &mut counted).map_err(|e| {
                    failed(
                        e,
                        usize::try_from(counted.read.load(std::sync::atomic::Ordering::Relaxed))
                            .unwrap_or(usize::MAX),
                    )
                });
                let data = limits.stopped(spooled)?;
                let source =
                    input::checked_source(input, data, Format::Text, self.config, Some(&self.dir))?;
                let (docs, _) = input::documents(&source, self.config)?;
                cost::refuse_too_large(&source, &docs, self.max_document)?;
                let index = self.seen.sources.len();
                self.push_documents(index, docs);
                self.seen.sources.push(Arc::new(source));
                return Ok(());
            }
            return self.spool_input(
                input,
                Format::Jsonl,
                Box::new(from),
                compression,
                size,
                read,
            );
        }
        self.spool_input(input, format, from, compression, size, read)
    }

    /// Opens a JSON Lines input decoded from `from`, to be spooled and
    /// located a piece at a time.
    fn spool_input(
        &mut self,
        input: InputPath,
        format: Format,
        from: Box<dyn Read + Send>,
        compression: Compression,
        size: u64,
        read: Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<()> {
        let file = crate::error::temp_file(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let index = self.seen.sources.len();
        self.seen.sources.push(Arc::new(Source {
            input,
            format,
            data: Data::Owned(Vec::new()),
        }));
        let spooling = Spooling {
            from,
            compression,
            file,
            len: 0,
            ended: false,
            buffer: Vec::new(),
        };
        self.open = Some(Open::new(index, size, read, Some(spooling)));
        Ok(())
    }

    /// Reads (spools) and locates the next piece of the open source.
    fn step(&mut self) -> Result<()> {
        let open = self.open.as_mut().expect("a source is open");
        let source = Arc::clone(&self.seen.sources[open.source]);
        let path = input::display_path(&source.input);
        let Some(spooling) = &mut open.spooling else {
            // Mapped: the next piece, up to the end of a line.
            let data = &source.data;
            let end = open.located.saturating_add(self.piece).min(data.len());
            let cut = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |at| end + at + 1);
            let range = open.located..cut;
            let done = cut == data.len();
            self.locate(&source, range)?;
            if done {
                self.close();
            }
            return Ok(());
        };
        // Spooled: decode the next piece to the spool file, a buffer at a
        // time (the piece itself is never held).
        spooling.buffer.resize(SPOOL_BUFFER, 0);
        let mut filled = 0;
        // A failure ends the piece; the complete lines decoded before it are
        // located first (kept under --on-error skip).
        let mut failure = None;
        while filled < self.piece {
            let room = SPOOL_BUFFER.min(self.piece - filled);
            match spooling.from.read(&mut spooling.buffer[..room]) {
                Ok(0) => {
                    spooling.ended = true;
                    break;
                }
                Ok(n) => {
                    spooling
                        .file
                        .write_all(&spooling.buffer[..n])
                        .map_err(|e| Error::io(&self.dir, e))?;
                    filled += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(match spooling.compression {
                        Compression::None => Error::io(&path, e),
                        c => crate::compress::decode_error(&path, c, spooling.len + filled, &e),
                    });
                    break;
                }
            }
        }
        spooling.len += filled;
        if spooling.ended {
            spooling.buffer = Vec::new();
        }
        if spooling.len == 0 {
            return match failure {
                Some(e) => Err(e),
                None if spooling.ended => {
                    // An empty input: no documents.
                    self.close();
                    Ok(())
                }
                None => Ok(()),
            };
        }
        // Mapped again at its new length: earlier maps (held by chunks still
        // being written) stay valid, as the file only grows.
        // SAFETY: the file is unnamed and private to this process, and only
        // appended to: the bytes a map covers never change.
        #[allow(unsafe_code)]
        let map =
            unsafe { memmap2::Mmap::map(&spooling.file) }.map_err(|e| Error::io(&self.dir, e))?;
        let file = spooling
            .file
            .try_clone()
            .map_err(|e| Error::io(&self.dir, e))?;
        let grown = Arc::new(Source {
            input: source.input.clone(),
            format: source.format,
            data: Data::Spooled(map, file),
        });
        let (located, lines, ended, len) = (open.located, open.lines, spooling.ended, spooling.len);
        self.seen.sources[open.source] = Arc::clone(&grown);
        let data: &[u8] = &grown.data;
        if located == 0 {
            input::check_start(&path, data)?;
        }
        // Complete lines only, unless the input ended.
        let end = if ended {
            len
        } else {
            memchr::memrchr(b'\n', &data[located..len]).map_or(located, |at| located + at + 1)
        };
        if let Some(offset) = input::first_invalid_utf8(&data[located..end]) {
            // The lines before the bad one are located first (kept under
            // --on-error skip).
            let line_start =
                memchr::memrchr(b'\n', &data[located..located + offset]).map_or(0, |at| at + 1);
            self.locate(&grown, located..located + line_start)?;
            return Err(Error::InvalidUtf8 {
                path,
                line: lines + input::line_at(&data[located..], offset),
                offset: located + offset,
            });
        }
        self.locate(&grown, located..end)?;
        if let Some(e) = failure {
            return Err(e);
        }
        if ended {
            self.close();
        }
        Ok(())
    }

    /// Ends the open source (read to its end, or failed), giving it back.
    fn close(&mut self) -> Option<Open> {
        let open = self.open.take()?;
        // Standard input (no size) counts what it gave.
        let read = open.read.load(std::sync::atomic::Ordering::Relaxed);
        self.opened += read.saturating_sub(open.size);
        Some(open)
    }

    /// Ends a source that failed part way (`--on-error skip`): its bytes end
    /// where its located lines end (a line cut short is not written), and a
    /// source with none is left out, as a whole run leaves it out.
    fn cut(&mut self, open: Open) -> Result<()> {
        if open.located == 0 {
            self.seen.sources.truncate(open.source);
            return Ok(());
        }
        let Some(spooling) = open.spooling else {
            return Ok(());
        };
        let source = &self.seen.sources[open.source];
        // SAFETY: as for the maps in `step`.
        #[allow(unsafe_code)]
        let map = unsafe {
            memmap2::MmapOptions::new()
                .len(open.located)
                .map(&spooling.file)
        }
        .map_err(|e| Error::io(&self.dir, e))?;
        self.seen.sources[open.source] = Arc::new(Source {
            input: source.input.clone(),
            format: source.format,
            data: Data::Spooled(map, spooling.file),
        });
        Ok(())
    }

    /// Locates the records of `range` of the open source, which starts and
    /// ends a line, and lets its pages go.
    fn locate(&mut self, source: &Source, range: Range<usize>) -> Result<()> {
        let lines_before = self.open.as_ref().expect("a source is open").lines;
        let (docs, bad, lines) =
            input::records_in(source, self.config, range.clone(), lines_before)?;
        cost::refuse_too_large(source, &docs, self.max_document)?;
        let open = self.open.as_mut().expect("a source is open");
        open.lines += lines;
        open.located = range.end;
        if open.spooling.is_none() {
            open.read
                .store(range.end as u64, std::sync::atomic::Ordering::Relaxed);
        }
        source.data.release_range(range);
        self.seen.skipped.extend(bad);
        let index = open.source;
        self.push_documents(index, docs);
        Ok(())
    }

    /// Keeps where each of `documents` (handed out next) has its text: in
    /// the spool directory when the run has one.
    fn keep_places_of(&mut self, documents: &[Document]) -> Result<()> {
        let spooled = self.spool.is_some().then_some(self.dir.as_path());
        let places = documents.iter().map(|d| {
            let source = u32::try_from(d.source).expect("fewer than 4 billion inputs");
            match &d.record {
                Some(r) => {
                    let raw = r.text_value();
                    TextAt {
                        source,
                        len: u32::try_from(raw.len())
                            .expect("records are checked to be shorter than 4 GiB"),
                        start: raw.start as u64,
                    }
                }
                None => TextAt {
                    source,
                    len: WHOLE,
                    start: 0,
                },
            }
        });
        self.seen
            .places
            .extend(places, spooled)
            .map_err(|e| Error::io(&self.dir, e))?;
        Ok(())
    }

    fn push_documents(&mut self, source: usize, mut docs: Vec<Document>) {
        for doc in &mut docs {
            doc.source = source;
            self.pending_bytes += cost::chunk_cost(doc, self.document_cost);
        }
        if self.pending.is_empty() {
            // Taken as they are, not copied (80 bytes a record).
            self.pending = docs.into();
        } else {
            self.pending.extend(docs);
        }
    }
}

/// A reader that counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// An input read whole: its source, documents (with `source` 0) and the
/// records skipped under `--on-error skip`.
type Loaded = Result<(Source, Vec<Document>, Vec<Error>)>;

/// Reads an input whole (see [`Loaded`]), a Parquet file's pages within
/// `page_budget`.
fn load_whole(
    input: InputPath,
    config: &Config,
    spool: Option<&Path>,
    page_budget: Option<u64>,
) -> Loaded {
    // (Standard input cannot be read again.)
    let again = (config.on_error == OnError::Fail
        && input::format_of(&input, config) != Format::Text
        && !input.is_stdin())
    .then(|| input.clone());
    let loaded = if input::format_of(&input, config) == Format::Parquet {
        crate::parquet::load(input, config, spool, page_budget)
    } else {
        input::load_source(input, config, spool)
    };
    let source = match (loaded, again) {
        // A compressed stream cut short: the first error in the file may be a
        // record before the cut, which reading the input as a chunked run
        // does (a piece at a time) finds, as that run would.
        (Err(e @ Error::Decompress { .. }), Some(again)) => {
            return Err(first_error(again, config, spool).unwrap_or(e));
        }
        (loaded, _) => loaded?,
    };
    let (docs, bad) = input::documents(&source, config)?;
    Ok((source, docs, bad))
}

/// The first error in `input` in file order, as a chunked run meets it (its
/// start, each piece's lines, then the read that failed), or `None` when it
/// reads without one.
pub(crate) fn first_error(
    input: InputPath,
    config: &Config,
    spool: Option<&Path>,
) -> Option<Error> {
    let dir = spool.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let mut stream = Stream::new(vec![input], config, PIECE, dir);
    // Not read whole: that is how a whole load reads it, which asks this.
    stream.small = None;
    loop {
        match stream.next_chunk(usize::MAX) {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
}

impl Corpus {
    /// Loads every input whole, on every thread, keeping input order: the
    /// one chunk of a run of one chunk. Every input is tried; all errors are
    /// returned, in input order, when any input fails.
    ///
    /// # Errors
    /// One entry per input that could not be read or parsed.
    pub fn load(inputs: Vec<InputPath>, config: &Config) -> Result<Corpus, Vec<Error>> {
        let mut stream = Stream::whole(inputs, config);
        match stream.next_chunk(usize::MAX) {
            Ok(chunk) => {
                let seen = stream.into_seen();
                let mut corpus = chunk.map_or_else(
                    || Corpus {
                        sources: Vec::new(),
                        documents: Vec::new(),
                        skipped: Vec::new(),
                    },
                    |c| c.corpus,
                );
                corpus.sources = seen.sources;
                corpus.skipped = seen.skipped;
                Ok(corpus)
            }
            Err(e) => {
                let mut errors = vec![e];
                errors.extend(stream.other_errors());
                Err(errors)
            }
        }
    }
}
