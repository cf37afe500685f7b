//! An input's bytes: mapped, read or spooled (standard input, decompressed
//! inputs), then checked against the encoding policy (UTF-8, no NUL byte,
//! no UTF-16), whole or a piece at a time.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn read_data(
    input: &InputPath,
    config: &Config,
    spool_in: Option<&Path>,
) -> Result<Data> {
    let path = &input.path;
    if input.is_stdin() {
        if let Some(dir) = spool_in {
            return spool(dir, Path::new("<stdin>"), &mut std::io::stdin().lock())
                .map_err(|e| Error::io("<stdin>", e));
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("<stdin>", e))?;
        return Ok(Data::Owned(bytes));
    }
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        ));
    }
    if config.mmap && meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only and private to this process. If another
        // process truncates or rewrites the file while it is mapped, reads may
        // see the new bytes or fault (SIGBUS); that is the documented risk of
        // memory maps, as in ripgrep, and --no-mmap avoids it.
        #[allow(unsafe_code)]
        let mapped = unsafe { memmap2::Mmap::map(&file) };
        if let Ok(map) = mapped {
            return Ok(Data::Mapped(map));
        }
        // Mapping can fail on special file systems: fall back to reading.
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(Data::Owned(bytes))
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

/// Copies `reader` into an unnamed temporary file in `dir` and maps it.
pub(super) fn spool(dir: &Path, name: &Path, reader: &mut dyn Read) -> std::io::Result<Data> {
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::tempfile_in(dir)?;
    let len = std::io::copy(reader, &mut file)?;
    if len == 0 {
        return Ok(Data::Owned(Vec::new()));
    }
    let _ = name;
    // SAFETY: the file is unnamed and private to this process: nothing else
    // can change it while it is mapped.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(Data::Spooled(map, file))
}

pub(crate) fn display_path(input: &InputPath) -> PathBuf {
    if input.is_stdin() {
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
    let mut data = read_data(&input, config, spool_in)?;
    let path = display_path(&input);
    let compression = match Compression::from_name(&input.path) {
        Compression::None => Compression::sniff(&data),
        named => named,
    };
    if compression != Compression::None {
        data = match spool_in {
            Some(dir) => {
                // The compressed bytes are read once, front to back: their
                // pages are let go behind the decoder.
                let mut reader = Releasing {
                    data: &data,
                    at: 0,
                    released: 0,
                };
                crate::compress::decompress_to(&path, &mut reader, compression, |decoded| {
                    spool(dir, &path, decoded)
                })?
            }
            None => Data::Owned(crate::compress::decompress(&path, &data, compression)?),
        };
    }
    let format = format_of(&input, config);
    let refuse_binary = format == Format::Text && !config.text;
    let checked = if spool_in.is_some() {
        // A chunked run: check in pieces and let each piece's pages go, so
        // that a large input is never resident whole.
        check_pieces(&path, &data, refuse_binary, CHECKED_AT_ONCE, &mut |r| {
            data.release_range(r);
        })
    } else {
        check_bytes(&path, &data, refuse_binary)
    };
    let source = Source {
        input,
        format,
        data,
    };
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
        Ok(()) => Ok(source),
    }
}

/// Applies the encoding policy to an input's bytes.
pub(super) fn check_bytes(path: &Path, bytes: &[u8], refuse_binary: bool) -> Result<()> {
    check_pieces(path, bytes, refuse_binary, usize::MAX, &mut |_| {})
}

/// [`check_bytes`] `piece` bytes at a time (each cut where a character
/// starts), calling `checked` with each piece once it passed.
pub(super) fn check_pieces(
    path: &Path,
    bytes: &[u8],
    refuse_binary: bool,
    piece: usize,
    checked: &mut dyn FnMut(Range<usize>),
) -> Result<()> {
    check_start(path, bytes)?;
    let mut at = 0;
    while at < bytes.len() {
        let end = char_start(bytes, at.saturating_add(piece));
        let part = &bytes[at..end];
        if refuse_binary {
            if let Some(offset) = memchr::memchr(0, part) {
                return Err(Error::Binary {
                    path: path.to_owned(),
                    offset: at + offset,
                });
            }
        }
        if let Some(offset) = first_invalid_utf8(part) {
            let offset = at + offset;
            return Err(Error::InvalidUtf8 {
                path: path.to_owned(),
                line: line_at(bytes, offset),
                offset,
            });
        }
        checked(at..end);
        at = end;
    }
    Ok(())
}

/// Refuses an empty input and one that starts with a UTF-16 byte-order mark.
pub(crate) fn check_start(path: &Path, bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Err(Error::Empty {
            path: path.to_owned(),
        });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let endian = if bytes[0] == 0xFF {
            "little-endian"
        } else {
            "big-endian"
        };
        return Err(Error::Utf16 {
            path: path.to_owned(),
            endian,
        });
    }
    Ok(())
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

/// Bytes a chunked run reads before letting their pages go.
pub(super) const CHECKED_AT_ONCE: usize = 64 << 20;

/// 1-based line number of a byte offset.
pub(crate) fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Whether a line holds only white space (as `str::trim` has it).
pub(super) fn is_blank(line: &[u8]) -> bool {
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
