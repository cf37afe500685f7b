//! Reading inputs: paths and `-`, directory walks, memory maps, the binary and
//! encoding policy, and JSON Lines records.
//!
//! Policy (also in the README): a directory is walked recursively in byte order
//! of names, skipping hidden entries (names starting with `.`), symbolic links
//! to directories and neardup's own index and lock files; a file given by name
//! is always read. Bytes are never decoded
//! into anything but UTF-8: invalid UTF-8 in JSON Lines is an error naming the
//! line and byte offset; a text file with invalid UTF-8 (a Latin-1 page, say) is
//! read losslessly, each invalid byte taken as `?` for hashing and the report
//! and written back as it was (see [`Source::invalid_utf8`]); a UTF-16
//! or UTF-32 byte-order mark is refused by name, and a NUL byte marks a binary file,
//! refused unless `--text`. An empty file holds no documents.
//!
//! Formats: `--format`, else the name (`*.jsonl`, `*.ndjson`), else the content:
//! an input whose first non-blank line (after a UTF-8 byte-order mark) holds
//! one JSON object is JSON Lines, anything else text ([`first_line_is_object`]).

use crate::compress::Compression;
use crate::config::{Config, Format, OnError};
use crate::error::{Error, Result};
use crate::jsonl;
use rayon::prelude::*;
use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod bad_line;
mod mapped;
mod read;
mod replay;
mod walk;

pub(crate) use bad_line::BadLine;
pub(crate) use mapped::MAPPED;
pub use mapped::{any_mapped, mapped_and_cut_short, release_map_range, release_pages};
pub(crate) use read::is_blank;
pub(crate) use read::*;
pub(crate) use replay::{Past, Replay};
pub use walk::*;

/// One input file as named on the command line or found by a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputPath {
    /// The path to open; `-` is standard input.
    pub path: PathBuf,
    /// The path relative to the directory it was found in (its file name when it
    /// was named directly); `--out-dir` mirrors it.
    pub relative: PathBuf,
    /// What `-` reads instead of standard input: a library caller's stream
    /// (`plan::Streams`), named as it says. A run that reads an input that
    /// comes once more than once reads it here from its copy
    /// (`input::Replay`), the path still telling its format and compression.
    pub reader: Option<crate::pipe::Reader>,
}

impl InputPath {
    /// Whether a run can read it a second time: a file (or a path that is
    /// not there, whose error the reading names), not standard input, a
    /// caller's stream, a FIFO or a device, whose bytes come once.
    #[must_use]
    pub fn read_again(&self) -> bool {
        !self.from_reader() && std::fs::metadata(&self.path).map_or(true, |m| m.is_file())
    }

    /// Whether it is read from a stream, not opened by its path: standard
    /// input, a caller's stream in its place, or the copy of an input that
    /// comes once read again (`input::Replay`).
    #[must_use]
    pub fn from_reader(&self) -> bool {
        self.is_stdin() || self.reader.is_some()
    }

    /// Whether this is standard input (or the caller's stream in its place).
    #[must_use]
    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }

    /// How messages and reports name it: the path, or `<stdin>`.
    #[must_use]
    pub fn display_name(&self) -> String {
        crate::escape::path(&display_path(self))
    }
}

/// The bytes of one input: a read-only memory map or an owned buffer. Both give
/// the same bytes, so the answer never depends on which was used.
pub enum Data {
    /// A memory-mapped regular file.
    Mapped(memmap2::Mmap),
    /// Bytes read into memory (standard input, pipes, files under 64 KiB,
    /// or `--no-mmap`).
    Owned(Vec<u8>),
    /// Standard input or a decompressed input, written to an unnamed
    /// temporary file (`--tmp-dir`) and mapped, so that it takes page cache,
    /// not the heap.
    Spooled(memmap2::Mmap, File),
    /// A text file that is not UTF-8: its bytes as they are (written back
    /// unchanged) and the text read from them (each invalid byte as `?`, so
    /// that offsets are the file's).
    Lossy(Box<Lossy>),
}

/// See [`Data::Lossy`].
pub struct Lossy {
    /// The bytes as read.
    pub raw: Data,
    /// The text: the bytes with each byte of an invalid sequence as `?`.
    pub text: Box<str>,
    /// 1-based line and byte offset of the first invalid byte.
    pub first: (usize, usize),
}

impl Deref for Data {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Mapped(map) | Data::Spooled(map, _) => map,
            Data::Owned(bytes) => bytes,
            Data::Lossy(lossy) => &lossy.raw,
        }
    }
}

/// A loaded input file.
pub struct Source {
    /// Where it came from.
    pub input: InputPath,
    /// Text or JSON Lines (never `Auto`).
    pub format: Format,
    /// Its bytes, checked to be UTF-8.
    pub data: Data,
}

impl Data {
    /// Drops the mapped pages of `range` (whole pages inside it) from the
    /// resident set; the bytes stay readable.
    pub fn release_range(&self, range: Range<usize>) {
        match self {
            Data::Mapped(map) | Data::Spooled(map, _) => release_map_range(map, range),
            Data::Lossy(lossy) => lossy.raw.release_range(range),
            Data::Owned(_) => {}
        }
    }
}

impl Source {
    /// Drops the pages of a mapped input from the resident set (a chunked run
    /// does it after each chunk; the bytes stay readable).
    pub fn release_pages(&self) {
        let data = match &self.data {
            Data::Lossy(lossy) => &lossy.raw,
            data => data,
        };
        if let Data::Mapped(map) | Data::Spooled(map, _) = data {
            release_pages(map);
        }
    }

    /// The whole input as text (a text file that is not UTF-8 with each
    /// invalid byte as `?`).
    #[must_use]
    pub fn text(&self) -> &str {
        match &self.data {
            Data::Lossy(lossy) => &lossy.text,
            data => std::str::from_utf8(data).expect("inputs are checked to be UTF-8 when loaded"),
        }
    }

    /// Where a text file that is not UTF-8 has its first invalid byte: its
    /// 1-based line and byte offset (`None` for UTF-8).
    #[must_use]
    pub fn invalid_utf8(&self) -> Option<(usize, usize)> {
        match &self.data {
            Data::Lossy(lossy) => Some(lossy.first),
            _ => None,
        }
    }
}

/// Where a JSON Lines document sits in its file. The table holds one per
/// record (3 million for a 5 GB corpus), so places inside the record are
/// 32-bit offsets from its start: a record is at most 4 GiB.
#[derive(Clone, Debug)]
pub struct Record {
    /// 1-based line of the record (never 0: `Option<Record>` takes no room
    /// of its own).
    line: std::num::NonZeroUsize,
    /// Where the record's object starts in the file.
    body_start: usize,
    body_len: u32,
    /// The raw JSON string holding the text, from the object's start.
    text_at: u32,
    text_len: u32,
    /// The line terminator (and any white space before it) after the object.
    after: u32,
    /// The id field's characters (a JSON string without escapes), from the
    /// object's start; `NO_ID` when the id is elsewhere or absent.
    id_at: u32,
    id_len: u32,
    /// The value of the keep policy's field, when one is asked for (boxed:
    /// most runs ask for none, and the table has an entry per document).
    pub keep: Option<Box<crate::jsonl::FieldValue>>,
}

/// Marks a record whose id is not a plain string inside it.
const NO_ID: u32 = u32::MAX;

impl Record {
    /// 1-based line of the record.
    #[must_use]
    pub fn line(&self) -> usize {
        self.line.get()
    }

    /// Byte range of the raw JSON string holding the text, within the file.
    #[must_use]
    pub fn text_value(&self) -> Range<usize> {
        let start = self.body_start + self.text_at as usize;
        start..start + self.text_len as usize
    }

    /// Byte range of the record's object, without its line terminator.
    #[must_use]
    pub fn body(&self) -> Range<usize> {
        self.body_start..self.body_start + self.body_len as usize
    }

    /// Where the record's line ends, terminator included.
    #[must_use]
    pub fn line_end(&self) -> usize {
        self.body().end + self.after as usize
    }
}

/// One document: a whole text file or one JSON Lines record.
#[derive(Clone, Debug)]
pub struct Document {
    /// The id when it is not read from the input: given to
    /// [`Corpus::from_texts`], or an id field that is not a plain string
    /// (see [`Corpus::id`]).
    id: Option<Box<str>>,
    /// Index of its source in [`Corpus::sources`].
    pub source: usize,
    /// Set for JSON Lines records; `None` means the whole source is the text.
    pub record: Option<Record>,
    /// Bytes of the (decoded) text.
    pub len: usize,
    /// About the blocks of its text (`jsonl::Lines::blocks`), which a chunk
    /// counts it by when they cost more than its text.
    pub blocks: u32,
    /// Bytes normalization may add to its text
    /// ([`crate::normalize::expansion`]; `u32::MAX` for more), which a chunk
    /// counts it by too.
    pub expansion: u32,
}

impl Document {
    /// Bytes of its id as its record gives it (0 for a name made of its
    /// file and line). A run holds ids where the text is not (a report's
    /// clusters, an index's strings), so a chunk counts them with the text.
    pub(crate) fn id_bytes(&self) -> usize {
        let given = self.id.as_ref().map_or(0, |id| id.len());
        let read = self
            .record
            .as_ref()
            .filter(|r| r.id_at != NO_ID)
            .map_or(0, |r| r.id_len as usize);
        given + read
    }

    /// Its blocks past the first (which its document cost counts).
    pub(crate) fn more_blocks(&self) -> usize {
        (self.blocks as usize).saturating_sub(1)
    }

    /// A record whose text is not at hand, counted by its source and the
    /// bytes of its text only (a report made from many machines' findings
    /// reads no more of it).
    pub(crate) fn counted(source: usize, len: usize) -> Document {
        Document {
            id: None,
            source,
            record: None,
            len,
            blocks: 0,
            expansion: 0,
        }
    }

    /// About the bytes of its text once normalized (what hashing reads):
    /// its own and what normalization may add.
    pub(crate) fn normalized_len(&self) -> usize {
        self.len.saturating_add(self.expansion as usize)
    }
}

/// `expansion` as [`Document::expansion`] holds it.
pub(crate) fn expansion_u32(expansion: usize) -> u32 {
    u32::try_from(expansion).unwrap_or(u32::MAX)
}

/// The text held by the raw JSON string at `raw` in `source`, decoded
/// (borrowed when the string has no escapes).
pub(crate) fn json_text(source: &Source, raw: Range<usize>) -> Cow<'_, str> {
    // Only the record's own bytes are checked again, not the whole file.
    let raw =
        std::str::from_utf8(&source.data[raw]).expect("inputs are checked to be UTF-8 when read");
    crate::jsonl::unescape(raw)
}

/// Documents' texts by their index in input order: the report reads first
/// copies through it, which in a chunked run may be in earlier chunks.
pub trait Texts: Sync {
    /// The text of document `doc`.
    fn text_of(&self, doc: usize) -> Cow<'_, str>;

    /// The sources the texts are in.
    fn sources(&self) -> &[Arc<Source>];

    /// The error that made a text read back empty (an I/O error on a spool),
    /// if one did.
    fn failure(&self) -> Option<std::io::Error> {
        None
    }

    /// Lets the pages read so far leave the resident set (they stay readable).
    fn release(&self) {
        for source in self.sources() {
            source.release_pages();
        }
    }
}

impl Texts for Corpus {
    fn text_of(&self, doc: usize) -> Cow<'_, str> {
        self.text(&self.documents[doc])
    }

    fn sources(&self) -> &[Arc<Source>] {
        &self.sources
    }
}

/// Whether an input's error stops the run (`Err`) or passes the input or
/// record over (`Ok`, to be listed as skipped): binary files are skipped
/// with a warning whatever `--on-error` says, the rest under `--on-error
/// skip`.
pub(crate) fn passed_over(e: Error, config: &Config) -> Result<Error, Error> {
    match e {
        e @ Error::Binary { .. } => Ok(e),
        e if config.on_error == OnError::Skip => Ok(e),
        e => Err(e),
    }
}

/// Every input, loaded, with its documents in input order.
pub struct Corpus {
    /// The input files in command-line and walk order.
    pub sources: Vec<Arc<Source>>,
    /// The documents in input order: by source, then by line.
    pub documents: Vec<Document>,
    /// What was passed over: binary files, and with `--on-error skip` unreadable
    /// files and malformed records (whose lines are copied to the output as they are).
    pub skipped: Vec<Error>,
}

impl Corpus {
    /// The text of a document. A record's text is decoded from its JSON string
    /// each time it is asked for (borrowed when the string has no escapes), so
    /// the corpus holds the input once, not twice.
    #[must_use]
    pub fn text<'a>(&'a self, doc: &'a Document) -> Cow<'a, str> {
        let source = &self.sources[doc.source];
        match &doc.record {
            None => Cow::Borrowed(source.text()),
            Some(record) => json_text(source, record.text_value()),
        }
    }

    /// A document's id: its id field, else `file:line` for a record without
    /// one, or the path of a text file.
    #[must_use]
    pub fn id<'a>(&'a self, doc: &'a Document) -> Cow<'a, str> {
        if let Some(id) = &doc.id {
            return Cow::Borrowed(id);
        }
        let source = &self.sources[doc.source];
        let path = || display_path(&source.input);
        match &doc.record {
            Some(r) if r.id_at != NO_ID => {
                let start = r.body_start + r.id_at as usize;
                Cow::Borrowed(
                    std::str::from_utf8(&source.data[start..start + r.id_len as usize])
                        .expect("inputs are checked to be UTF-8 when loaded"),
                )
            }
            Some(r) => Cow::Owned(format!("{}:{}", crate::escape::path(&path()), r.line())),
            None => Cow::Owned(crate::escape::path(&path())),
        }
    }

    /// Each source's documents, as a range of document indexes (documents are
    /// in source order).
    #[must_use]
    pub fn docs_by_source(&self) -> Vec<Range<usize>> {
        let mut ranges = vec![0..0; self.sources.len()];
        for (i, doc) in self.documents.iter().enumerate() {
            let r = &mut ranges[doc.source];
            if r.start == r.end {
                *r = i..i + 1;
            } else {
                r.end = i + 1;
            }
        }
        ranges
    }

    /// Drops the mapped pages holding documents `docs` (whole pages only)
    /// from the resident set; their text stays readable. Documents are in
    /// file order within a source, so each source's part is one range.
    pub fn release_documents(&self, docs: Range<usize>) {
        let mut at = docs.start;
        while at < docs.end {
            let source = self.documents[at].source;
            let first = &self.documents[at];
            let mut last = first;
            while at < docs.end && self.documents[at].source == source {
                last = &self.documents[at];
                at += 1;
            }
            let data = &self.sources[source].data;
            match (&first.record, &last.record) {
                (Some(a), Some(b)) => data.release_range(a.body().start..b.line_end()),
                _ => data.release_range(0..data.len()),
            }
        }
    }

    /// Bytes of a document's text, without decoding it.
    #[must_use]
    pub fn text_len(&self, doc: &Document) -> usize {
        doc.len
    }

    /// A corpus of in-memory texts, one document each, for library use.
    pub fn from_texts<I, S, T>(texts: I) -> Corpus
    where
        I: IntoIterator<Item = (S, T)>,
        S: Into<String>,
        T: Into<String>,
    {
        let mut corpus = Corpus {
            sources: Vec::new(),
            documents: Vec::new(),
            skipped: Vec::new(),
        };
        for (id, text) in texts {
            let id = id.into();
            let bytes = text.into().into_bytes();
            let lines = crate::jsonl::Lines::of(&bytes);
            corpus.documents.push(Document {
                id: Some(id.clone().into()),
                source: corpus.sources.len(),
                record: None,
                len: bytes.len(),
                blocks: lines.blocks(crate::config::BlockMode::Lines),
                expansion: expansion_u32(lines.expansion),
            });
            corpus.sources.push(Arc::new(Source {
                input: InputPath {
                    path: PathBuf::from(&id),
                    relative: PathBuf::from(&id),
                    reader: None,
                },
                format: Format::Text,
                data: Data::Owned(bytes),
            }));
        }
        corpus
    }
}

/// Whether a path names a Parquet file (`.parquet`).
#[must_use]
pub fn is_parquet_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// The format an input is read as, as far as its name tells: `--format`,
/// else JSON Lines for `.jsonl` and `.ndjson` (maybe compressed), Parquet for
/// `.parquet`, else `Auto`: its content decides ([`format_of_content`]).
#[must_use]
pub fn format_of(input: &InputPath, config: &Config) -> Format {
    match config.format {
        Format::Auto => {
            let name = Compression::strip(&input.path).to_string_lossy();
            if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
                Format::Jsonl
            } else if is_parquet_name(&input.path) {
                Format::Parquet
            } else {
                Format::Auto
            }
        }
        other => other,
    }
}

/// The format an input is read as, given its first bytes (decompressed):
/// [`format_of`], and where that leaves it open, JSON Lines when the first
/// non-blank line holds a JSON object, else text.
#[must_use]
pub fn format_of_content(input: &InputPath, config: &Config, head: &[u8]) -> Format {
    match format_of(input, config) {
        Format::Auto if first_line_is_object(head, true) == Some(true) => Format::Jsonl,
        Format::Auto => Format::Text,
        named => named,
    }
}

/// [`format_of_content`] for an input not read yet: a regular file's first
/// line is read (decompressed) to tell. Standard input and pipes, which
/// cannot be read twice, stay `Auto` (the run tells them as it reads them).
#[must_use]
pub fn format_peeked(input: &InputPath, config: &Config) -> Format {
    let named = format_of(input, config);
    if named != Format::Auto || input.is_stdin() {
        return named;
    }
    // Told before opening: opening a FIFO waits for its writer, and
    // closing it again loses what the writer had sent.
    match std::fs::metadata(&input.path) {
        Ok(meta) if !meta.is_file() => return Format::Auto,
        Ok(_) => {}
        Err(_) => return Format::Text,
    }
    let Ok(file) = File::open(&input.path) else {
        return Format::Text;
    };
    let mut raw = std::io::BufReader::new(file);
    let magic = std::io::BufRead::fill_buf(&mut raw).map(<[u8]>::to_vec);
    let compression = match Compression::from_name(&input.path) {
        Compression::None => Compression::sniff(&magic.unwrap_or_default()),
        named => named,
    };
    let jsonl = crate::compress::decoder(raw, compression).and_then(first_line_is_object_in);
    if jsonl.unwrap_or(false) {
        Format::Jsonl
    } else {
        Format::Text
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether `bytes`, the start of an input (`complete`: all of it), begin,
/// after a UTF-8 byte-order mark and blank lines, with a line that holds one
/// JSON object: `None` while that line is not complete.
#[must_use]
pub fn first_line_is_object(bytes: &[u8], complete: bool) -> Option<bool> {
    if !complete && bytes.len() < BOM.len() && BOM.starts_with(bytes) {
        return None;
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return complete.then_some(false);
    };
    if bytes[start] != b'{' {
        return Some(false);
    }
    let line = match memchr::memchr(b'\n', &bytes[start..]) {
        Some(len) => &bytes[start..start + len],
        None if complete => &bytes[start..],
        None => return None,
    };
    Some(serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok())
}

/// Reads `reader` into `head` until [`first_line_is_object`] can tell;
/// `head` holds every byte read. A first line longer than `max` bytes is
/// an error ([`std::io::ErrorKind::FileTooLarge`]): nothing longer can be
/// held.
pub(crate) fn sniff_reader(
    reader: &mut dyn Read,
    head: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<bool> {
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        head.extend_from_slice(&buf[..n]);
        if let Some(jsonl) = first_line_is_object(head, n == 0) {
            return Ok(jsonl);
        }
        if head.len() > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("its first line is longer than {max} bytes"),
            ));
        }
    }
}

/// [`first_line_is_object`] for the whole of `reader`, reading only as far
/// as it must and holding none of it: a first line of gigabytes (a
/// decompression bomb) is parsed as it streams past.
fn first_line_is_object_in(reader: impl Read) -> std::io::Result<bool> {
    let mut bytes = std::io::BufReader::new(reader).bytes();
    let mut at = 0;
    let first = loop {
        match bytes.next().transpose()? {
            None => return Ok(false),
            // A byte-order mark before the first line is not part of it.
            Some(b) if at < BOM.len() && b == BOM[at] => at += 1,
            Some(_) if at > 0 && at < BOM.len() => return Ok(false),
            Some(b) if b.is_ascii_whitespace() => at = BOM.len(),
            Some(b) => break b,
        }
    };
    if first != b'{' {
        return Ok(false);
    }
    // The line, up to (not with) its newline.
    let line = std::iter::once(Ok(first))
        .chain(bytes)
        .take_while(|b| !matches!(b, Ok(b'\n')));
    let mut read = LineRead { bytes: line };
    let mut de = serde_json::Deserializer::from_reader(&mut read);
    Ok(serde::Deserialize::deserialize(&mut de)
        .and_then(|serde::de::IgnoredAny| de.end())
        .is_ok())
}

/// A reader over an iterator of bytes.
struct LineRead<I> {
    bytes: I,
}

impl<I: Iterator<Item = std::io::Result<u8>>> Read for LineRead<I> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.bytes.next() {
                Some(b) => buf[n] = b?,
                None => break,
            }
            n += 1;
        }
        Ok(n)
    }
}

/// The documents of a source, and the records skipped with `--on-error skip`.
pub(crate) fn documents(source: &Source, config: &Config) -> Result<(Vec<Document>, Vec<Error>)> {
    if source.format == Format::Text {
        if source.data.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // Lines (and, with them, the expansion) are counted only where the
        // run makes blocks.
        let lines = (config.level != crate::config::Level::Docs)
            .then(|| crate::jsonl::Lines::of(&source.data));
        let doc = Document {
            id: None,
            source: 0,
            record: None,
            len: source.data.len(),
            blocks: lines.map_or(0, |l| l.blocks(config.blocks)),
            expansion: expansion_u32(lines.map_or_else(
                || crate::normalize::expansion(&source.data),
                |l| l.expansion,
            )),
        };
        return Ok((vec![doc], Vec::new()));
    }
    let (docs, bad, _) = records_in(source, config, 0..source.data.len(), 0)?;
    Ok((docs, bad))
}

/// The JSON Lines records of `range` of a source, which starts a line, ends
/// one (or the file) and follows `lines_before` lines; with the records
/// skipped under `--on-error skip` and the number of lines in `range`. The
/// documents' `source` is 0. A chunked run reads a source a range at a time.
pub(crate) fn records_in(
    source: &Source,
    config: &Config,
    range: Range<usize>,
    lines_before: usize,
) -> Result<(Vec<Document>, Vec<Error>, usize)> {
    let path = display_path(&source.input);
    let decompressed = Compression::from_name(&source.input.path) != Compression::None;
    let bytes: &[u8] = &source.data[..range.end];
    let keep_field = config.keep.field();
    // Lines are cut as bytes, at each newline found by `memchr`, into pieces
    // of `PIECE_LINES` lines, parsed on every thread: a piece's documents are
    // made straight into a vector of its own (not a table of every line, then
    // one of every parsed result, then the documents: three tables of 40 to
    // 100 bytes a record for 100,000 one-line records).
    let mut pieces = Vec::new();
    let mut number = lines_before;
    let mut start = range.start;
    while start < bytes.len() {
        let (first, piece_start) = (number, start);
        while start < bytes.len() && number - first < PIECE_LINES {
            start = line_end(bytes, start);
            number += 1;
        }
        pieces.push((first, piece_start..start));
    }
    let parse = |line: usize, start: usize, end: usize| -> Result<Option<Document>> {
        let body = &bytes[start..end];
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        // A byte-order mark before the first record is not part of it.
        let (start, body) = match body.strip_prefix(BOM) {
            Some(rest) if start == 0 => (start + BOM.len(), rest),
            _ => (start, body),
        };
        if is_blank(body) {
            return Ok(None);
        }
        // Each line is taken as text alone (on every thread): the input was
        // checked to be UTF-8, and a line ends at an ASCII byte.
        let body = std::str::from_utf8(body).expect("inputs are checked to be UTF-8 when read");
        let fields = (&*config.text_field, &*config.id_field, keep_field);
        let parsed = jsonl::parse_with(body, fields, true).map_err(|message| Error::Record {
            path: path.clone(),
            line,
            message: jsonl::nul_in_record(body.as_bytes(), start, decompressed).unwrap_or(message),
        })?;
        let at = |offset: usize| {
            u32::try_from(offset).map_err(|_| Error::Record {
                path: path.clone(),
                line,
                message: "record longer than 4 GiB".into(),
            })
        };
        // An id that is a plain string is read from the record when needed;
        // others are kept decoded.
        let (id, id_at, id_len) = match (parsed.id, parsed.id_value) {
            (None, Some(raw)) => (None, at(raw.start + 1)?, at(raw.len() - 2)?),
            (Some(id), _) => (Some(id.into_boxed_str()), NO_ID, 0),
            (None, None) => (None, NO_ID, 0),
        };
        Ok(Some(Document {
            id,
            source: 0,
            record: Some(Record {
                line: std::num::NonZeroUsize::new(line).expect("lines count from 1"),
                body_start: start,
                body_len: at(body.len())?,
                text_at: at(parsed.text_value.start)?,
                text_len: at(parsed.text_value.len())?,
                after: at(end - start - body.len())?,
                id_at,
                id_len,
                keep: parsed.keep.map(Box::new),
            }),
            len: parsed.text_len,
            blocks: crate::jsonl::counted_blocks(config, || parsed.text_lines),
            expansion: expansion_u32(parsed.text_lines.expansion),
        }))
    };
    // Each piece's documents and skipped records; without `--on-error skip`
    // a piece stops at its first bad record (the first piece's stops the run).
    let parsed: Vec<(Vec<Document>, Vec<Error>)> = pieces
        .par_iter()
        .map(|(first, piece)| {
            let mut docs = Vec::with_capacity(PIECE_LINES);
            let mut bad = Vec::new();
            let (mut line, mut start) = (*first, piece.start);
            while start < piece.end {
                let end = line_end(bytes, start);
                line += 1;
                match parse(line, start, end) {
                    Ok(doc) => docs.extend(doc),
                    Err(e) => {
                        bad.push(e);
                        if config.on_error != OnError::Skip {
                            break;
                        }
                    }
                }
                start = end;
            }
            (docs, bad)
        })
        .collect();
    let mut docs = Vec::with_capacity(parsed.iter().map(|(docs, _)| docs.len()).sum());
    let mut skipped = Vec::new();
    for (piece_docs, bad) in parsed {
        docs.extend(piece_docs);
        if config.on_error == OnError::Skip {
            skipped.extend(bad);
        } else if let Some(e) = bad.into_iter().next() {
            return Err(e);
        }
    }
    Ok((docs, skipped, number - lines_before))
}

/// Lines a piece of a JSON Lines range holds (see [`records_in`]).
const PIECE_LINES: usize = 1024;

/// Where the line starting at `start` ends, its newline included.
fn line_end(bytes: &[u8], start: usize) -> usize {
    memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |at| start + at + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_shrinks_while_read_is_an_error_not_a_shorter_input() {
        // --no-mmap: the file is opened (its size taken), then cut short by
        // another process before its end is read.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, "{\"text\":\"a line of the log\"}\n".repeat(1000)).unwrap();
        let file = File::open(&path).unwrap();
        let meta = file.metadata().unwrap();
        let mut whole = Whole::new(file, &meta);
        let mut start = vec![0; 100];
        whole.read_exact(&mut start).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(300)
            .unwrap();
        let mut rest = Vec::new();
        let e = whole.read_to_end(&mut rest).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(
            e.to_string()
                .contains("shrank while it was read: it ended after 300 of its 29000 bytes"),
            "{e}"
        );
        // A file that grew while read (300 bytes when opened) is no error.
        let file = File::open(&path).unwrap();
        let meta = file.metadata().unwrap();
        std::fs::write(&path, "x".repeat(400)).unwrap();
        let mut all = Vec::new();
        Whole::new(file, &meta).read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 400);
    }

    #[test]
    fn policy_errors_name_the_place() {
        let p = Path::new("f.txt");
        let err = check_bytes(p, b"ok\nbad \xff here", true).unwrap_err();
        assert_eq!(err.to_string(), "f.txt:2: invalid UTF-8 at byte offset 7");
        let err = check_bytes(p, b"a\0b", true).unwrap_err();
        assert!(err.to_string().contains("NUL byte at byte offset 1"));
        assert!(check_bytes(p, b"a\0b", false).is_ok());
        assert!(check_bytes(p, b"\xff\xfea\0", false)
            .unwrap_err()
            .to_string()
            .contains("UTF-16"));
        assert!(check_bytes(p, b"", true).is_ok());
        // A text file reads on past invalid UTF-8, naming its first bad byte,
        // and still refuses a NUL after it.
        assert_eq!(
            check_pieces(p, b"ok\ncaf\xe9 \xe9", true, true, 2, None, &mut |_| {}).unwrap(),
            Some((2, 6))
        );
        assert!(check_pieces(p, b"caf\xe9\0", true, true, 2, None, &mut |_| {}).is_err());
        assert_eq!(&*lossy_text(b"caf\xe9 \xF0\x9F ok \xC3"), "caf? ?? ok ?");
    }

    #[test]
    fn utf8_checked_in_pieces_fails_where_the_whole_fails() {
        let mut next = crate::test_numbers(1);
        let alphabet: [&[u8]; 9] = [
            b"a",
            b" ",
            "\u{e9}".as_bytes(),
            "\u{20ac}".as_bytes(),
            "\u{1F600}".as_bytes(),
            b"\x80",
            b"\xC3",
            b"\xF0\x9F",
            b"\xFF",
        ];
        for case in 0..3000 {
            let len = next() % 40;
            let mut bytes = Vec::new();
            for _ in 0..len {
                // Mostly valid text; now and then a stray byte.
                let pick = usize::try_from(next() % if case % 3 == 0 { 9 } else { 5 }).unwrap();
                bytes.extend_from_slice(alphabet[pick]);
            }
            let whole = std::str::from_utf8(&bytes).err().map(|e| e.valid_up_to());
            let path = Path::new("f.txt");
            let at_once = check_bytes(path, &bytes, false).map_err(|e| e.to_string());
            for piece in 1..6 {
                assert_eq!(
                    first_invalid_utf8_in(&bytes, piece),
                    whole,
                    "{bytes:?} {piece}"
                );
                // A chunked run's check, piece by piece, says the same.
                let mut covered = 0;
                let by_pieces = check_pieces(path, &bytes, false, false, piece, None, &mut |r| {
                    assert_eq!(r.start, covered);
                    covered = r.end;
                })
                .map(|_| ())
                .map_err(|e| e.to_string());
                assert_eq!(by_pieces, at_once, "{bytes:?} {piece}");
                if by_pieces.is_ok() {
                    assert_eq!(covered, bytes.len());
                }
            }
        }
    }

    #[test]
    fn blank_lines_are_white_space_as_trim_has_it() {
        for line in ["", " \t\r", "\u{0B}\u{0C}", "\u{a0}", " \u{3000}\u{2028} "] {
            assert!(is_blank(line.as_bytes()), "{line:?}");
            assert!(line.trim().is_empty());
        }
        for line in ["{}", " x", "\u{a0}{", "\u{e9}", "\u{200B}"] {
            assert!(!is_blank(line.as_bytes()), "{line:?}");
            assert!(!line.trim().is_empty());
        }
    }

    #[test]
    fn ids_come_from_the_record_when_needed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"id\": \"plain\", \"text\": \"a\"}\n",
                "{\"id\":\"caf\\u00e9 \\\"q\\\"\",\"text\":\"b\"}\r\n",
                "{\"text\":\"c\",\"id\":17}\n",
                "{\"text\":\"d\"}\n",
            ),
        )
        .unwrap();
        let input = InputPath {
            path: path.clone(),
            relative: PathBuf::from("ids.jsonl"),
            reader: None,
        };
        let config = Config {
            format: Format::Jsonl,
            ..Config::default()
        };
        let corpus = Corpus::load(vec![input], &config).unwrap();
        let ids: Vec<String> = corpus
            .documents
            .iter()
            .map(|d| corpus.id(d).into_owned())
            .collect();
        let line4 = format!("{}:4", path.display());
        assert_eq!(ids, ["plain", "caf\u{e9} \"q\"", "17", line4.as_str()]);
        let r = corpus.documents[1].record.as_ref().unwrap();
        let data = &corpus.sources[0].data;
        assert_eq!(&data[r.text_value()], b"\"b\"");
        assert_eq!(data[r.body()].last(), Some(&b'}'));
        assert_eq!(&data[r.body().end..r.line_end()], b"\r\n");
        assert_eq!(r.line(), 2);
    }
}
