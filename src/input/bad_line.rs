//! A stream read whole as JSON Lines (a FIFO, a device, standard input or a
//! decompressed input, with `--format jsonl` or a `.jsonl` name) stops at
//! its first line that cannot be a record: a line whose first byte that is
//! not white space is an ASCII byte other than `{`. Without this, `yes |
//! neardup scan --format jsonl -` read to a quarter of memory (2.5 GB, 18 s)
//! before saying `too large`, though line 1 was already no JSON. The run's
//! error is then the first one of the bytes read: a record before that line
//! that does not parse, else that line's own (as a whole read would say it).

use super::{checked_source, display_path, records_in, Data, InputPath, BOM};
use crate::config::{Config, Format};
use crate::error::Error;
use std::cell::Cell;

/// How much of a bad line past its start is read before the stream stops
/// (a line of no newline, `/dev/zero`'s, ends there).
const BAD_LINE_READ: usize = 1 << 20;

/// Where a guarded stream stopped: the 1-based number of its first bad
/// line, and the byte range of what was read of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadLine {
    pub(crate) line: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The state of a [`LineCheck`] in the line it is in.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Only white space so far.
    Start,
    /// A line that may be a record (it starts with `{`, or with a byte
    /// outside ASCII: white space there makes a blank line).
    Inside,
    /// A line that cannot be a record, from byte `start`.
    Bad(usize),
    /// Stopped.
    Done,
}

/// Follows the lines of the bytes passing through a reader.
#[derive(Debug)]
pub(crate) struct LineCheck<'a> {
    state: State,
    line: usize,
    line_start: usize,
    found: &'a Cell<Option<BadLine>>,
}

impl<'a> LineCheck<'a> {
    pub(crate) fn new(found: &'a Cell<Option<BadLine>>) -> LineCheck<'a> {
        LineCheck {
            state: State::Start,
            line: 1,
            line_start: 0,
            found,
        }
    }

    /// Whether the stream has stopped (nothing more is to be read).
    pub(crate) fn done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The bad line found, once [`LineCheck::done`].
    pub(crate) fn found(&self) -> Option<BadLine> {
        self.found.get()
    }

    /// Follows `bytes`, which start at byte `at` of the stream.
    pub(crate) fn pass(&mut self, bytes: &[u8], at: usize) {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Done => return,
                State::Start => {
                    let b = bytes[i];
                    if at + i == 0 && bytes.starts_with(BOM) {
                        i += BOM.len();
                    } else if b == b'\n' {
                        self.line += 1;
                        self.line_start = at + i + 1;
                        i += 1;
                    } else if matches!(b, b'\t'..=b'\r' | b' ') {
                        i += 1;
                    } else if b == b'{' || !b.is_ascii() {
                        self.state = State::Inside;
                    } else {
                        self.state = State::Bad(self.line_start);
                    }
                }
                State::Inside => match memchr::memchr(b'\n', &bytes[i..]) {
                    Some(n) => {
                        i += n + 1;
                        self.line += 1;
                        self.line_start = at + i;
                        self.state = State::Start;
                    }
                    None => return,
                },
                State::Bad(start) => {
                    let end = match memchr::memchr(b'\n', &bytes[i..]) {
                        Some(n) => at + i + n,
                        None if at + bytes.len() - start > BAD_LINE_READ => at + bytes.len(),
                        None => return,
                    };
                    self.found.set(Some(BadLine {
                        line: self.line,
                        start,
                        end,
                    }));
                    self.state = State::Done;
                }
            }
        }
    }
}

/// The error of a stream stopped at `bad` (see the module): the first record
/// before it that does not parse, else the bad line's own.
pub(crate) fn error_at(input: InputPath, data: Data, bad: BadLine, config: &Config) -> Error {
    let path = display_path(&input);
    let (start, end) = line_range(&data, bad);
    let line = data[start..end].to_vec();
    // Invalid UTF-8 in the line or before it is told first (after any bad
    // record before it), as when the whole input is read.
    let read = match data {
        Data::Owned(mut bytes) => {
            bytes.truncate(end);
            bytes
        }
        other => other[..end].to_vec(),
    };
    match checked_source(input, Data::Owned(read), Format::Jsonl, config, None) {
        Err(e) => return e,
        Ok(source) => {
            if let Err(e) = records_in(&source, config, 0..start, 0) {
                return e;
            }
        }
    }
    line_error(path, &line, start, bad.line, config)
}

/// The bytes of `bad` in `data` as far as they were read: a line cut short
/// (no newline read) ends with its last whole character.
fn line_range(data: &[u8], bad: BadLine) -> (usize, usize) {
    let mut end = bad.end.min(data.len());
    let start = bad.start.min(end);
    if data.get(end) != Some(&b'\n') {
        if let Err(e) = std::str::from_utf8(&data[start..end]) {
            if e.error_len().is_none() {
                end = start + e.valid_up_to();
            }
        }
    }
    (start, end)
}

/// The error of a mapped file read as JSON Lines whose encoding check
/// stopped at `bad`, its first line that cannot be a record (see
/// `read::check_pieces`): the first record before it that does not parse,
/// else the line's own. Nothing past the line is read, so a file whose
/// tail is zeros (preallocated, or what a crash leaves) is told at once,
/// not after reading it all (a sparse file of a terabyte never ended).
pub(crate) fn error_in(source: &super::Source, bad: BadLine, config: &Config) -> Error {
    if let Err(e) = records_in(source, config, 0..bad.start, 0) {
        return e;
    }
    let (start, end) = line_range(&source.data, bad);
    line_error(
        display_path(&source.input),
        &source.data[start..end],
        start,
        bad.line,
        config,
    )
}

/// The message of a line `bytes` (from byte `start`) that cannot be a record.
fn line_error(
    path: std::path::PathBuf,
    bytes: &[u8],
    start: usize,
    line: usize,
    config: &Config,
) -> Error {
    let (mut bytes, mut start) = (bytes, start);
    if start == 0 {
        if let Some(rest) = bytes.strip_prefix(BOM) {
            (bytes, start) = (rest, BOM.len());
        }
    }
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let fields = (
        config.text_field.as_str(),
        config.id_field.as_str(),
        config.keep.field(),
    );
    let message = crate::jsonl::parse_with(&text, fields, true)
        .err()
        .unwrap_or_else(|| "invalid record: expected a JSON object".to_owned());
    let decompressed =
        crate::compress::Compression::from_name(&path) != crate::compress::Compression::None;
    let message = crate::jsonl::nul_in_record(bytes, start, decompressed).unwrap_or(message);
    Error::Record {
        path,
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_bad(pieces: &[&[u8]]) -> Option<BadLine> {
        let found = Cell::new(None);
        let mut check = LineCheck::new(&found);
        let mut at = 0;
        for piece in pieces {
            check.pass(piece, at);
            at += piece.len();
        }
        found.get()
    }

    #[test]
    fn stops_at_the_first_line_that_cannot_be_a_record() {
        assert_eq!(
            first_bad(&[b"y\ny\n"]),
            Some(BadLine {
                line: 1,
                start: 0,
                end: 1
            })
        );
        // Across reads, after blank lines, a byte-order mark and records.
        assert_eq!(
            first_bad(&[
                b"\xEF\xBB\xBF{\"text\":\"a\"}\n\n  \r\n {\"te",
                b"xt\":\"b\"}\n",
                b"  [1]\nmore"
            ]),
            Some(BadLine {
                line: 5,
                start: 35,
                end: 40
            })
        );
        // Records, blank lines, and lines of white space outside ASCII: none.
        assert_eq!(
            first_bad(&[b"{\"text\":\"a\"}\n\n\xC2\xA0\n{\"text\":\"b\"}"]),
            None
        );
        // A bad line of no newline stops after BAD_LINE_READ bytes of it.
        let zeros = vec![0u8; 1 << 16];
        let mut pieces: Vec<&[u8]> = vec![b"{\"text\":\"a\"}\n"];
        pieces.extend(std::iter::repeat_n(&zeros[..], 17));
        assert_eq!(
            first_bad(&pieces),
            Some(BadLine {
                line: 2,
                start: 13,
                end: 13 + 17 * (1 << 16)
            })
        );
        assert_eq!(first_bad(&pieces[..17]), None);
    }
}
