//! An input's bytes: mapped, read or spooled (standard input, decompressed
//! inputs), then checked against the encoding policy (UTF-8, no NUL byte,
//! no UTF-16 or UTF-32), whole or a piece at a time.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What a text larger than one chunk of a run is told to do.
pub(crate) const CHUNK_HINT: &str =
    "more than one chunk of this run holds as text; raise --memory-limit or split the input";

/// An input's bytes as stored (maybe compressed): a regular file mapped, or
/// read. Bytes read that are not compressed (standard input, pipes,
/// `--no-mmap`) go through `limits`: a binary text stops at its first NUL
/// byte, and more than `limits.max` bytes stop the read.
pub(super) fn read_data(
    input: &InputPath,
    config: &Config,
    spool_in: Option<&Path>,
    limits: &Limits<'_>,
) -> Result<Data> {
    let path = &input.path;
    if input.from_reader() {
        let name = display_path(input);
        let stdin = crate::pipe::stdin_or(input.reader.as_ref());
        return read_guarded(stdin, &name, spool_in, limits);
    }
    let file = open_input(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        ));
    }
    // A small file is read whole, as it is: a map would hold a page of
    // memory and a mapping for each (20,000 files of 100 bytes: 80 MB), for
    // nothing saved. Its bytes are what a map gives (compressed ones are
    // decoded later alike), so no limit guards them here either.
    if config.mmap && meta.is_file() && meta.len() > 0 && meta.len() < MAP_FROM {
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        Whole::new(file, &meta)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        return Ok(Data::Owned(bytes));
    }
    if config.mmap && meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only and private to this process. If another
        // process truncates or rewrites the file while it is mapped, reads may
        // see the new bytes or fault (SIGBUS); that is the documented risk of
        // memory maps, as in ripgrep: the fault ends the run with a message
        // naming the file (`targets::clean_up_on_signals`), and --no-mmap
        // avoids it.
        #[allow(unsafe_code)]
        let mapped = unsafe { memmap2::Mmap::map(&file) };
        if let Ok(map) = mapped {
            MAPPED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((path.clone(), meta.len()));
            return Ok(Data::Mapped(map));
        }
        // Mapping can fail on special file systems: fall back to reading.
    }
    read_guarded(Whole::new(file, &meta), path, spool_in, limits)
}

/// Opens an input file to read it. A FIFO is opened without waiting for its
/// writer (`O_NONBLOCK`, which a reader's open of a FIFO never fails on),
/// then waited on with `poll` in slices of 100 ms, between which a run whose
/// caller asked it to stop ([`crate::hooks::stopped`]: Ctrl-C in Python)
/// gives up: a blocking `open()` waited for a writer that might never come,
/// and Ctrl-C did not reach Python until one came. Once a writer has written
/// or come and gone, the descriptor blocks again and is read as before (to
/// the end its writers make by closing it).
///
/// # Errors
/// What `open` says, or [`std::io::ErrorKind::Interrupted`] when the run was
/// asked to stop while it waited for a writer.
pub(crate) fn open_input(path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        if std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)?;
            wait_for_writer(&file)?;
            return Ok(file);
        }
    }
    File::open(path)
}

/// Waits until the FIFO `file` (opened with `O_NONBLOCK`) has bytes or a
/// writer that came and went, then makes its reads block again.
#[cfg(unix)]
fn wait_for_writer(file: &File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let fd = file.as_raw_fd();
    crate::hooks::wait_in_slices("a writer to open the FIFO", || {
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, valid for the call; `fd` is open (owned by `file`).
        #[allow(unsafe_code)]
        let ready = unsafe { libc::poll(&raw mut poll, 1, 100) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            return if e.kind() == std::io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        // POLLHUP comes only once a writer has come and gone (Linux keeps
        // it back for a reader that has seen no writer yet).
        Ok(ready > 0 && poll.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0)
    })?;
    // SAFETY: F_GETFL/F_SETFL on an open descriptor, no pointers.
    #[allow(unsafe_code)]
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    #[allow(unsafe_code)]
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The smallest file that is mapped rather than read.
pub(crate) const MAP_FROM: u64 = 64 << 10;

/// Whether `path` can be mapped now (mapped and let go at once, nothing
/// read): a map of a file larger than the address space left under
/// `ulimit -v` fails, and a chunked run then streams the file rather than
/// reading it whole in its place.
pub(crate) fn can_map(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return true; // the run's own open says why
    };
    // SAFETY: as in `read_data`: read-only, private, and never read.
    #[allow(unsafe_code)]
    let mapped = unsafe { memmap2::Mmap::map(&file) };
    mapped.is_ok()
}

/// The size of `path` when it is a regular file (after links), told
/// without opening it: a FIFO or a pipe by `/dev/fd/N` (`<(cmd)`) can be
/// read only once, by the run itself, and opening a FIFO waits for its
/// writer. `None` for anything else, or what cannot be looked at.
pub(crate) fn regular_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
}

/// Whether a file is read as a stream, never whole: compressed (by its
/// name, else by its first bytes), or not a regular file (a FIFO or a pipe
/// by `/dev/fd/N`, as `<(cmd)` gives: its size is not known, and it can be
/// read only once, so it is not opened to sniff).
pub(crate) fn must_stream(path: &Path) -> bool {
    if Compression::from_name(path) != Compression::None || regular_size(path).is_none() {
        return true;
    }
    let mut head = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    Compression::sniff(&head[..n]) != Compression::None
}

/// A file read to its end that must not end before the size it had when it
/// was opened: one truncated while read (log rotation by copytruncate)
/// would otherwise look like a shorter input, cleaned and written as if
/// whole. (A mapped file is checked by its size when the run ends.)
pub(crate) struct Whole {
    file: File,
    /// The size when opened (regular files; 0, no check, for the rest).
    expected: u64,
    read: u64,
}

impl Whole {
    /// `file`, whose metadata is `meta`.
    pub(crate) fn new(file: File, meta: &std::fs::Metadata) -> Whole {
        Whole {
            file,
            expected: if meta.is_file() { meta.len() } else { 0 },
            read: 0,
        }
    }
}

impl Read for Whole {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if n == 0 && !buf.is_empty() && self.read < self.expected {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the file shrank while it was read: it ended after {} of its {} bytes (truncated or rewritten by another process?)",
                    self.read, self.expected
                ),
            ));
        }
        Ok(n)
    }
}

/// Reads `reader` whole (into an unnamed file in `spool_in`, else into
/// memory); bytes that are not compressed go through `limits`.
fn read_guarded(
    reader: impl Read,
    name: &Path,
    spool_in: Option<&Path>,
    limits: &Limits<'_>,
) -> Result<Data> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let magic = std::io::BufRead::fill_buf(&mut reader).map_err(|e| Error::io(name, e))?;
    // (Compressed bytes are guarded once decoded: a NUL byte means nothing
    // in them.)
    let mut from: Box<dyn Read + '_> = if Compression::sniff(magic) == Compression::None {
        Box::new(limits.guard(reader))
    } else {
        Box::new(reader)
    };
    let read = match spool_in {
        Some(dir) => spool(dir, &mut from),
        None => read_all(&mut from),
    };
    limits.stopped(read.map_err(|e| Error::io(name, e)))
}

/// Reads mapped bytes front to back, dropping the pages it has passed from
/// the resident set every 64 MiB.
pub(super) struct Releasing<'a> {
    pub(super) data: &'a Data,
    pub(super) at: usize,
    pub(super) released: usize,
}

impl Read for Releasing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::io::BufRead::fill_buf(self)?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        std::io::BufRead::consume(self, n);
        Ok(n)
    }
}

impl std::io::BufRead for Releasing<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let end = (self.at + (1 << 20)).min(self.data.len());
        Ok(&self.data[self.at..end])
    }

    fn consume(&mut self, n: usize) {
        self.at += n;
        if self.at - self.released >= CHECKED_AT_ONCE {
            self.data.release_range(self.released..self.at);
            self.released = self.at;
        }
    }
}

impl Data {
    /// Bytes of the heap it takes, by its length: owned bytes, and a text
    /// that is not UTF-8 as it is read (mapped and spooled bytes are the
    /// page cache's).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        match self {
            Data::Owned(bytes) => bytes.len(),
            Data::Lossy(lossy) => lossy.text.len() + lossy.raw.heap_bytes(),
            Data::Mapped(_) | Data::Spooled(..) => 0,
        }
    }
}

/// Reads `reader` to its end into memory.
fn read_all(reader: &mut dyn Read) -> std::io::Result<Data> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    Ok(Data::Owned(bytes))
}

/// Copies `reader` into an unnamed temporary file in `dir` and maps it.
pub(crate) fn spool(dir: &Path, reader: &mut dyn Read) -> std::io::Result<Data> {
    // (Its errors are told under the input's name: where it was spooled too.)
    let mut file = crate::error::temp_file(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    std::io::copy(reader, &mut file)?;
    map_spool(file)
}

/// Maps an unnamed temporary file written in full (an empty one is no map).
pub(crate) fn map_spool(file: File) -> std::io::Result<Data> {
    if file.metadata()?.len() == 0 {
        return Ok(Data::Owned(Vec::new()));
    }
    // SAFETY: the file is unnamed and private to this process: nothing else
    // can change it while it is mapped.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(Data::Spooled(map, file))
}

pub(crate) fn display_path(input: &InputPath) -> PathBuf {
    if let Some(reader) = &input.reader {
        reader.name().to_owned()
    } else if input.is_stdin() {
        PathBuf::from("<stdin>")
    } else {
        input.path.clone()
    }
}

/// Reads an input whole and checks its bytes; with `spool_in` (a run in
/// chunks), standard input and decompressed bytes go to an unnamed file there.
pub(crate) fn load_source(
    input: InputPath,
    config: &Config,
    spool_in: Option<&Path>,
) -> Result<Source> {
    load_source_within(input, config, None, spool_in)
}

/// [`load_source`], a compressed input decoded to at most `max_decoded`
/// bytes (a run in chunks: the text of one chunk), else to what a whole run
/// can hold in the memory available: a small file that decompresses to
/// gigabytes is an error, not an abort. A text input (binary refused) stops
/// decoding at its first NUL byte.
pub(crate) fn load_source_within(
    input: InputPath,
    config: &Config,
    max_decoded: Option<usize>,
    spool_in: Option<&Path>,
) -> Result<Source> {
    let path = display_path(&input);
    // Until its content tells (after decoding), an input not named JSON
    // Lines may be text: a NUL byte stops reading it.
    let named = format_of(&input, config);
    let refuse_binary = matches!(named, Format::Text | Format::Auto) && !config.text;
    let (max, hint) = match max_decoded {
        Some(max) => (
            max,
            CHUNK_HINT,
        ),
        None => (
            crate::memory::available().map_or(usize::MAX, |a| {
                usize::try_from(a / crate::memory::WHOLE_RUN_PER_INPUT_BYTE).unwrap_or(usize::MAX)
            }),
            "more than a whole run can hold in the memory available; pass --memory-limit to work in chunks",
        ),
    };
    let stop = std::cell::RefCell::new(None);
    let bad_line = std::cell::Cell::new(None);
    let limits = Limits {
        refuse_binary,
        max,
        path: &path,
        hint,
        stop: &stop,
        compressed: false,
        bad_line: (named == Format::Jsonl && config.on_error == OnError::Fail).then_some(&bad_line),
    };
    let mut data = read_data(&input, config, spool_in, &limits)?;
    let compression = match Compression::from_name(&input.path) {
        Compression::None => Compression::sniff(&data),
        named => named,
    };
    if compression != Compression::None {
        let limits = Limits {
            compressed: true,
            ..limits
        };
        let decoded = match spool_in {
            Some(dir) => {
                // The compressed bytes are read once, front to back: their
                // pages are let go behind the decoder.
                let mut reader = Releasing {
                    data: &data,
                    at: 0,
                    released: 0,
                };
                crate::compress::decompress_to(&path, &mut reader, compression, |decoded| {
                    spool(dir, &mut limits.guard(decoded))
                })
            }
            None => crate::compress::decompress_to(&path, &mut &data[..], compression, |decoded| {
                let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(max));
                limits.guard(decoded).read_to_end(&mut out)?;
                Ok(Data::Owned(out))
            }),
        };
        data = limits.stopped(decoded)?;
    }
    if let Some(bad) = bad_line.get() {
        return Err(super::bad_line::error_at(input, data, bad, config));
    }
    let format = format_of_content(&input, config, &data);
    checked_source(input, data, format, config, spool_in)
}

/// An input's bytes (decompressed) as a source of `format`, once the
/// encoding policy passed them.
pub(crate) fn checked_source(
    input: InputPath,
    mut data: Data,
    format: Format,
    config: &Config,
    spool_in: Option<&Path>,
) -> Result<Source> {
    let path = display_path(&input);
    let text = format == Format::Text;
    if let Some((line, message)) =
        json_not_lines(&data).filter(|_| text && config.format == Format::Auto)
    {
        // Cleaned as text, its lines would be cut as repeated blocks and the
        // output would no longer parse.
        return Err(Error::Record {
            path,
            line,
            message,
        });
    }
    let refuse_binary = text && !config.text;
    // A mapped file read as JSON Lines stops at its first line that cannot
    // be a record, as a stream does (see `bad_line`).
    let bad_line = std::cell::Cell::new(None);
    let mut lines = (format == Format::Jsonl
        && config.on_error == OnError::Fail
        && matches!(data, Data::Mapped(_)))
    .then(|| super::bad_line::LineCheck::new(&bad_line));
    // A chunked run: check in pieces and let each piece's pages go, so
    // that a large input is never resident whole.
    let chunked = spool_in.is_some();
    let checked = check_pieces(
        &path,
        &data,
        refuse_binary,
        text,
        if chunked { CHECKED_AT_ONCE } else { usize::MAX },
        lines.as_mut(),
        &mut |r| {
            if chunked {
                data.release_range(r);
            }
        },
    );
    if let Ok(Some(first)) = checked {
        let text = lossy_text(&data);
        data = Data::Lossy(Box::new(Lossy {
            raw: data,
            text,
            first,
        }));
    }
    let source = Source {
        input,
        format,
        data,
    };
    if let (Ok(_), Some(bad)) = (&checked, bad_line.get()) {
        return Err(super::bad_line::error_in(&source, bad, config));
    }
    match checked {
        // The first error in the file is told, as when it is read a piece
        // at a time: a malformed record before the bad byte comes first.
        Err(Error::InvalidUtf8 { offset, .. })
            if format == Format::Jsonl && config.on_error == OnError::Fail =>
        {
            let line_start = memchr::memrchr(b'\n', &source.data[..offset]).map_or(0, |at| at + 1);
            records_in(&source, config, 0..line_start, 0)?;
            Err(checked.expect_err("matched an error"))
        }
        Err(e) => Err(e),
        Ok(_) => Ok(source),
    }
}

/// Why an input's bytes, which start (after a UTF-8 byte-order mark and
/// white space) as JSON that `auto` must not take for text, are refused,
/// and the line it is said of: records exported as one array (`[{` or
/// `["`), or pretty-printed objects (`{` then a key, the object not closed
/// on its line, as `jq .` writes them). A first line that holds an object
/// and more (`{...} // note`, `{...}{...}`) or is not JSON is named as a
/// JSON Lines record would be: nothing in it is pretty-printed. (An object
/// on one line is JSON Lines and never gets here.)
fn json_not_lines(data: &[u8]) -> Option<(usize, String)> {
    let (data, bom) = match data.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (data, 0),
    };
    let start = data.iter().position(|b| !b.is_ascii_whitespace())?;
    let mut bytes = data[start..]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace());
    let text = "pass --format text to clean it as plain text";
    let convert = |json: &str, jq: &str| {
        format!(
            "{json}, not JSON Lines (one record per line): convert it with `jq -c {jq}`, or {text}"
        )
    };
    match (bytes.next(), bytes.next()) {
        (Some(b'['), Some(b'{' | b'"')) => Some((1, convert("a JSON array", "'.[]'"))),
        (Some(b'{'), Some(b'"')) => {
            let from = memchr::memrchr(b'\n', &data[..start]).map_or(0, |at| at + 1);
            let to = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |len| start + len);
            match serde_json::from_slice::<serde::de::IgnoredAny>(&data[from..to]) {
                Err(e) if !e.is_eof() => {
                    let line = 1 + memchr::memchr_iter(b'\n', &data[..from]).count();
                    // (Not "pass --format text" for a NUL: the file would be skipped.)
                    let nul = crate::jsonl::nul_in_record(&data[from..to], bom + from, false);
                    let what = nul
                        .unwrap_or_else(|| format!("{} ({text})", crate::jsonl::invalid_json(&e)));
                    Some((line, what))
                }
                _ => Some((1, convert("pretty-printed JSON", "."))),
            }
        }
        _ => None,
    }
}

/// The decoded bytes of a compressed input as they pass: the read fails
/// (and `stop` says why) at the first NUL byte of a text input that refuses
/// binary files (nothing after it matters), or past `max` bytes.
pub(crate) struct Guard<'a, R> {
    inner: R,
    at: usize,
    limits: &'a Limits<'a>,
    lines: Option<super::bad_line::LineCheck<'a>>,
}

/// What a [`Guard`] stops at, and where it says why.
pub(crate) struct Limits<'a> {
    pub(crate) refuse_binary: bool,
    pub(crate) max: usize,
    pub(crate) path: &'a Path,
    pub(crate) hint: &'static str,
    pub(crate) stop: &'a std::cell::RefCell<Option<Error>>,
    /// Whether the bytes guarded are decoded from a compressed input.
    pub(crate) compressed: bool,
    /// JSON Lines read whole that must parse (`--on-error fail`): the read
    /// ends after the first line that cannot be a record, said here
    /// ([`super::bad_line`]).
    pub(crate) bad_line: Option<&'a std::cell::Cell<Option<BadLine>>>,
}

impl<'a> Limits<'a> {
    pub(crate) fn guard<R: Read>(&'a self, inner: R) -> Guard<'a, R> {
        Guard {
            inner,
            at: 0,
            limits: self,
            lines: self.bad_line.map(super::bad_line::LineCheck::new),
        }
    }

    /// `read`, or why a guard stopped it (the first stop, which made the
    /// read fail).
    pub(crate) fn stopped<T>(&self, read: Result<T>) -> Result<T> {
        match self.stop.borrow_mut().take() {
            Some(e) => Err(e),
            None => read,
        }
    }
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self
            .lines
            .as_ref()
            .is_some_and(super::bad_line::LineCheck::done)
        {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        let limits = self.limits;
        // UTF-16 or UTF-32 (NUL bytes galore) is refused by its byte-order
        // mark, as a file's first bytes are (`check_start`), whatever NUL
        // byte a later read would meet first.
        let wide = if self.at == 0 {
            wide_bom(&buf[..n])
        } else {
            None
        };
        let nul = if limits.refuse_binary && wide.is_none() {
            memchr::memchr(0, &buf[..n])
        } else {
            None
        };
        let stop = if let Some((encoding, endian)) = wide {
            Error::Utf16 {
                path: limits.path.to_owned(),
                encoding,
                endian,
            }
        } else if let Some(offset) = nul {
            Error::Binary {
                path: limits.path.to_owned(),
                offset: self.at + offset,
                index: self.at == 0 && buf[..n].starts_with(INDEX_MAGIC),
                compressed: crate::compress::Compression::unwritten(limits.path),
            }
        } else if self.at.saturating_add(n) > limits.max {
            Error::TooLarge {
                path: limits.path.to_owned(),
                message: {
                    let (holds, offset) = if limits.compressed {
                        ("decompresses to", "decompressed byte offset")
                    } else {
                        ("holds", "byte offset")
                    };
                    format!(
                        "{holds} more than {} bytes (stopped at {offset} {}), {}",
                        limits.max, limits.max, limits.hint
                    )
                },
            }
        } else {
            if let Some(lines) = &mut self.lines {
                lines.pass(&buf[..n], self.at);
            }
            self.at += n;
            return Ok(n);
        };
        *limits.stop.borrow_mut() = Some(stop);
        Err(std::io::Error::other("stopped"))
    }
}

/// `bytes` as text, each byte of an invalid UTF-8 sequence replaced by `?`
/// (so that every offset stays the file's).
pub(super) fn lossy_text(bytes: &[u8]) -> Box<str> {
    let mut text = bytes.to_vec();
    let mut at = 0;
    while let Err(e) = std::str::from_utf8(&text[at..]) {
        let bad = at + e.valid_up_to();
        let end = e.error_len().map_or(text.len(), |n| bad + n);
        text[bad..end].fill(b'?');
        at = end;
    }
    String::from_utf8(text)
        .expect("every invalid byte was replaced")
        .into_boxed_str()
}

/// Applies the encoding policy to an input's bytes (see [`check_pieces`]).
#[cfg(test)]
pub(super) fn check_bytes(path: &Path, bytes: &[u8], refuse_binary: bool) -> Result<()> {
    check_pieces(
        path,
        bytes,
        refuse_binary,
        false,
        usize::MAX,
        None,
        &mut |_| {},
    )
    .map(|_| ())
}

/// Applies the encoding policy to an input's bytes, `piece` bytes at a time
/// (each cut where a character starts), calling `checked` with each piece
/// once it passed. With `lossy` (a text file), invalid UTF-8 is no error:
/// the line and offset of its first byte are returned.
pub(super) fn check_pieces(
    path: &Path,
    bytes: &[u8],
    refuse_binary: bool,
    lossy: bool,
    piece: usize,
    mut lines: Option<&mut super::bad_line::LineCheck<'_>>,
    checked: &mut dyn FnMut(Range<usize>),
) -> Result<Option<(usize, usize)>> {
    check_start(path, bytes)?;
    let mut first_invalid = None;
    let mut at = 0;
    // Lines are followed a piece at a time, so that a bad line is found
    // without reading much past it.
    let piece = if lines.is_some() {
        piece.min(CHECKED_AT_ONCE)
    } else {
        piece
    };
    while at < bytes.len() {
        let mut end = char_start(bytes, at.saturating_add(piece));
        let mut stop = false;
        if let Some(lines) = lines.as_mut() {
            lines.pass(&bytes[at..end], at);
            if let Some(bad) = lines.found() {
                // Only what was read of the bad line, and what came before
                // it, is checked.
                end = char_start(bytes, bad.end.clamp(at, end));
                stop = true;
            }
        }
        let part = &bytes[at..end];
        if refuse_binary {
            if let Some(offset) = memchr::memchr(0, part) {
                return Err(Error::Binary {
                    path: path.to_owned(),
                    offset: at + offset,
                    index: bytes.starts_with(INDEX_MAGIC),
                    compressed: crate::compress::Compression::unwritten(path),
                });
            }
        }
        if first_invalid.is_none() {
            if let Some(offset) = first_invalid_utf8(part) {
                let offset = at + offset;
                let line = line_at(bytes, offset);
                if !lossy {
                    return Err(Error::InvalidUtf8 {
                        path: path.to_owned(),
                        line,
                        offset,
                    });
                }
                first_invalid = Some((line, offset));
            }
        }
        checked(at..end);
        at = end;
        if stop {
            break;
        }
    }
    Ok(first_invalid)
}

/// The wide encoding whose byte-order mark `bytes` start with, and its
/// byte order (UTF-32's little-endian mark starts as UTF-16's does).
fn wide_bom(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32", "little-endian")),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32", "big-endian")),
        [0xFF, 0xFE, ..] => Some(("UTF-16", "little-endian")),
        [0xFE, 0xFF, ..] => Some(("UTF-16", "big-endian")),
        _ => None,
    }
}

/// Refuses an input that starts with a UTF-16 or UTF-32 byte-order mark.
pub(crate) fn check_start(path: &Path, bytes: &[u8]) -> Result<()> {
    match wide_bom(bytes) {
        Some((encoding, endian)) => Err(Error::Utf16 {
            path: path.to_owned(),
            encoding,
            endian,
        }),
        None => Ok(()),
    }
}

/// `at` (or the end of `bytes`), or the first byte after it that is not a
/// continuation byte: a cut there never splits a character. At most 3
/// continuation bytes follow a lead byte; more are invalid wherever the cut
/// falls, so the search stops after 4.
pub(super) fn char_start(bytes: &[u8], at: usize) -> usize {
    let mut cut = at.min(bytes.len());
    while cut < bytes.len() && cut < at + 4 && bytes[cut] & 0xC0 == 0x80 {
        cut += 1;
    }
    cut
}

/// Where `bytes` stop being UTF-8 (what `str::from_utf8` reports as valid up
/// to), checked in pieces on every thread. Pieces start where a character
/// starts (see [`char_start`]), so each piece is UTF-8 exactly when its part
/// of the whole is, and the first bad piece holds the first bad byte.
pub(crate) fn first_invalid_utf8(bytes: &[u8]) -> Option<usize> {
    first_invalid_utf8_in(bytes, 1 << 20)
}

/// [`first_invalid_utf8`] with pieces of about `piece` bytes.
pub(super) fn first_invalid_utf8_in(bytes: &[u8], piece: usize) -> Option<usize> {
    let mut starts = vec![0];
    while let Some(&last) = starts.last().filter(|&&s| s < bytes.len()) {
        starts.push(char_start(bytes, last + piece));
    }
    starts
        .par_windows(2)
        .map(|w| {
            std::str::from_utf8(&bytes[w[0]..w[1]])
                .err()
                .map(|e| w[0] + e.valid_up_to())
        })
        .find_first(Option::is_some)
        .flatten()
}

/// Bytes a chunked run reads before letting their pages go: 8 MiB, not 64
/// (a mapped input checked whole before its first chunk was up to 64 MiB
/// resident at once, as much as `--memory-limit 64M` allows the whole run).
pub(super) const CHECKED_AT_ONCE: usize = 8 << 20;

/// 1-based line number of a byte offset.
pub(crate) fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Whether a line holds only white space (as `str::trim` has it).
pub(crate) fn is_blank(line: &[u8]) -> bool {
    match line
        .iter()
        .position(|&b| !matches!(b, b'\t'..=b'\r' | b' '))
    {
        None => true,
        Some(at) if line[at].is_ascii() => false,
        // White space outside ASCII (a no-break space, say): rare.
        Some(at) => std::str::from_utf8(&line[at..]).is_ok_and(|rest| rest.trim().is_empty()),
    }
}
