//! JSON Lines records: where the text and id fields sit in a line, so the cleaned
//! text can be spliced back without touching any other byte of the record.

use std::borrow::Cow;
use std::ops::Range;

mod keep;

pub use keep::FieldValue;

/// Top-level fields of one valid JSON object, each given to `each` as its raw
/// key span and raw value span (no list made: a record is parsed once).
/// The caller checks validity first (with `serde_json`), so this scanner only has
/// to find boundaries, not to report errors; on anything unexpected it stops.
fn fields(line: &[u8], mut each: impl FnMut(Range<usize>, Range<usize>)) {
    let mut i = skip_ws(line, 0);
    if line.get(i) != Some(&b'{') {
        return;
    }
    i += 1;
    loop {
        i = skip_ws(line, i);
        match line.get(i) {
            Some(b'"') => {}
            _ => return,
        }
        let key = i..scan_string(line, i);
        i = skip_ws(line, key.end);
        if line.get(i) != Some(&b':') {
            return;
        }
        i = skip_ws(line, i + 1);
        let value = i..scan_value(line, i);
        i = skip_ws(line, value.end);
        each(key, value);
        match line.get(i) {
            Some(b',') => i += 1,
            _ => return,
        }
    }
}

fn skip_ws(line: &[u8], mut i: usize) -> usize {
    while matches!(line.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// `line[start]` is a quote; returns the index after the closing quote.
/// (The next quote or backslash found by `memchr2`: a byte at a time, this
/// scan was 3.7% of a run's instructions on JSON Lines of 1.5 KB texts.)
fn scan_string(line: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(found) = line
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'\\', b'"', rest))
    {
        i += found;
        if line[i] == b'"' {
            return i + 1;
        }
        i += 2;
    }
    line.len()
}

fn scan_value(line: &[u8], start: usize) -> usize {
    match line.get(start) {
        Some(b'"') => scan_string(line, start),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = start;
            while i < line.len() {
                match line[i] {
                    b'"' => {
                        i = scan_string(line, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            line.len()
        }
        _ => {
            let mut i = start;
            while i < line.len()
                && !matches!(line[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                i += 1;
            }
            i
        }
    }
}

/// Bytes of the value of JSON string literal `raw` (quotes included), if it
/// is one whose escapes are all valid (surrogates in pairs); `None` for
/// anything else. The length of [`unescape`]'s result, without making it.
#[must_use]
pub fn decoded_len(raw: &str) -> Option<usize> {
    decoded_len_and_lines(raw).map(|(len, _)| len)
}

/// [`decoded_len`], and the lines and paragraphs of the value ([`Lines`]
/// of the decoded text, escaped line breaks included).
#[must_use]
pub fn decoded_len_and_lines(raw: &str) -> Option<(usize, Lines)> {
    let bytes = raw.as_bytes();
    if bytes.len() < 2 || bytes[0] != b'"' || bytes[bytes.len() - 1] != b'"' {
        return None;
    }
    let body = &bytes[1..bytes.len() - 1];
    let hex = |at: usize| -> Option<u32> {
        let digits = body.get(at..at + 4)?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let (mut len, mut i, mut lines) = (0, 0, Lines::default());
    let mut memo = None;
    while let Some(at) = memchr::memchr(b'\\', &body[i..]) {
        if has_text(&body[i..i + at]) {
            lines.text();
        }
        lines.expansion += crate::normalize::expansion_with(&body[i..i + at], &mut memo);
        len += at;
        i += at;
        match *body.get(i + 1)? {
            b'u' => {
                let code = hex(i + 2)?;
                i += 6;
                match code {
                    0x0A => lines.feed(),
                    0x0D => lines.carriage_return(),
                    c if char::from_u32(c).is_some_and(char::is_whitespace) => {}
                    _ => lines.text(),
                }
                let c = if (0xD800..0xDC00).contains(&code) {
                    if body.get(i..i + 2)? != b"\\u" {
                        return None;
                    }
                    let low = hex(i + 2)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    i += 6;
                    char::from_u32(0x1_0000 + ((code - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(code)?
                };
                lines.expansion += memo
                    .get_or_insert_with(crate::normalize::Memo::default)
                    .get(c);
                len += c.len_utf8();
            }
            b'n' => {
                lines.feed();
                len += 1;
                i += 2;
            }
            b'r' => {
                lines.carriage_return();
                len += 1;
                i += 2;
            }
            b'f' | b't' => {
                len += 1;
                i += 2;
            }
            b'"' | b'\\' | b'/' | b'b' => {
                lines.text();
                len += 1;
                i += 2;
            }
            _ => return None,
        }
    }
    if has_text(&body[i..]) {
        lines.text();
    }
    lines.expansion += crate::normalize::expansion_with(&body[i..], &mut memo);
    // The last line counts though no break ends it.
    lines.end_line();
    Some((len + body.len() - i, lines))
}

/// A document's blocks as `lines` count them, none when the run makes no
/// blocks (`--level docs`).
pub(crate) fn counted_blocks(config: &crate::config::Config, lines: impl FnOnce() -> Lines) -> u32 {
    if config.level == crate::config::Level::Docs {
        0
    } else {
        lines().blocks(config.blocks)
    }
}

/// Whether `bytes` hold more than ASCII white space (a line of only that is
/// blank to the segmenter).
fn has_text(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| !b.is_ascii_whitespace())
}

/// The lines of a text (ended by `\n`, `\r\n` or a lone `\r`, or by its
/// end), blank ones (white space only) not counted, and its paragraphs:
/// about the blocks the
/// segmenter makes of it, by which a run's chunks count a text of many
/// short lines (its blocks cost more than their bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    /// Lines with text.
    pub lines: usize,
    /// Runs of lines with text between blank lines.
    pub paragraphs: usize,
    /// Bytes normalization may add to the text
    /// ([`crate::normalize::expansion`]).
    pub expansion: usize,
    /// The current line has text.
    text: bool,
    paragraph: Paragraph,
    /// The last character was a carriage return (a line feed after it ends
    /// the same line).
    after_return: bool,
}

/// Where [`Lines`] is among paragraphs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Paragraph {
    /// Before any text.
    #[default]
    NotYet,
    /// In one.
    In,
    /// At a blank line after one.
    After,
}

impl Lines {
    /// Counts the lines of `text`.
    #[must_use]
    pub fn of(text: &[u8]) -> Lines {
        let mut lines = Lines::default();
        let mut line_start = 0;
        for at in memchr::memchr2_iter(b'\n', b'\r', text) {
            if has_text(&text[line_start..at]) {
                lines.text();
            }
            if text[at] == b'\n' {
                lines.feed();
            } else {
                lines.carriage_return();
            }
            line_start = at + 1;
        }
        if has_text(&text[line_start..]) {
            lines.text();
        }
        // The last line counts though no break ends it.
        lines.end_line();
        lines.expansion = crate::normalize::expansion(text);
        lines
    }

    fn text(&mut self) {
        self.after_return = false;
        if !self.text {
            self.text = true;
            self.paragraphs += usize::from(self.paragraph != Paragraph::In);
            self.paragraph = Paragraph::In;
        }
    }

    fn end_line(&mut self) {
        if self.text {
            self.lines += 1;
            self.text = false;
        } else if self.paragraph == Paragraph::In {
            self.paragraph = Paragraph::After;
        }
    }

    fn feed(&mut self) {
        if !std::mem::take(&mut self.after_return) {
            self.end_line();
        }
    }

    fn carriage_return(&mut self) {
        self.end_line();
        self.after_return = true;
    }

    /// About the blocks `mode` makes of the text: its lines or paragraphs.
    /// (As a `u32`, the largest one for more.)
    #[must_use]
    pub fn blocks(&self, mode: crate::config::BlockMode) -> u32 {
        use crate::config::BlockMode;
        let blocks = match mode {
            BlockMode::Paragraphs => self.paragraphs,
            BlockMode::Auto if self.paragraphs > 1 => self.paragraphs,
            BlockMode::Lines | BlockMode::Auto => self.lines,
        };
        u32::try_from(blocks).unwrap_or(u32::MAX)
    }
}

/// The line breaks of a file read in pieces, before the run reads it: an
/// upper bound of its blocks, by which a run under `--memory-limit` tells
/// whether its inputs fit whole (`plan::whole_need`). A `\n`, a lone `\r`
/// and, in a file of JSON Lines (its first character after white space and
/// a byte-order mark a `{`), the escapes `\n`, `\r`, `\u000a` and `\u000d`
/// in its strings each count: a text of many short lines ended by carriage
/// returns, or held in one record, has as many blocks, though its bytes
/// hold few newlines.
#[derive(Debug, Default)]
pub(crate) struct Breaks {
    /// Breaks counted so far.
    count: u64,
    /// Whether escapes count: `None` until the first character is seen.
    json: Option<bool>,
    /// The end of the last piece, not told yet (a `\r`, an escape or a
    /// byte-order mark cut short): at most 6 bytes.
    carry: Vec<u8>,
    /// Whether what was told last is an escaped break: one right after it
    /// (`\n\n` between paragraphs, `\r\n`) ends no other block.
    after_escape: bool,
}

impl Breaks {
    /// Counts the breaks of the next piece of the file.
    pub(crate) fn feed(&mut self, piece: &[u8]) {
        let mut joined = Vec::new();
        let bytes = crate::normalize::after_carry(&mut self.carry, piece, &mut joined);
        let json = if let Some(json) = self.json {
            json
        } else {
            const MARK: &[u8] = b"\xEF\xBB\xBF";
            let body = bytes.strip_prefix(MARK).unwrap_or(bytes);
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                // A byte-order mark cut short.
                Some(_) if bytes.len() < MARK.len() && MARK.starts_with(bytes) => {
                    self.carry = bytes.to_vec();
                    return;
                }
                Some(&first) => *self.json.insert(first == b'{'),
                // White space only so far (no escapes in it): the next
                // piece tells.
                None => true,
            }
        };
        let mut i = 0;
        // Where the last escaped break ended (0: at the start of `bytes`).
        let mut escape_end = self.after_escape.then_some(0);
        loop {
            let found = if json {
                memchr::memchr3(b'\n', b'\r', b'\\', &bytes[i..])
            } else {
                memchr::memchr2(b'\n', b'\r', &bytes[i..])
            };
            let Some(at) = found.map(|at| i + at) else {
                self.after_escape = escape_end == Some(bytes.len());
                return;
            };
            // The bytes a break or escape at `at` needs to be told.
            let needs = match bytes[at] {
                b'\n' => 1,
                b'\r' => 2,
                _ if bytes.get(at + 1) == Some(&b'u') => 6,
                _ => 2,
            };
            if bytes.len() - at < needs {
                self.after_escape = escape_end == Some(at);
                self.carry = bytes[at..].to_vec();
                return;
            }
            let tail = &bytes[at + 1..at + needs];
            let escaped = bytes[at] == b'\\'
                && match tail[0] {
                    b'n' | b'r' => true,
                    b'u' => tail[1..4] == *b"000" && matches!(tail[4] | 0x20, b'a' | b'd'),
                    _ => false,
                };
            self.count += u64::from(match bytes[at] {
                b'\n' => true,
                // A `\r\n` is counted at its `\n`.
                b'\r' => tail[0] != b'\n',
                _ => escaped && escape_end != Some(at),
            });
            // An escape is passed whole (`\\n` is a backslash and an `n`).
            i = at
                + match bytes[at] {
                    b'\\' if escaped => needs,
                    b'\\' => 2,
                    _ => 1,
                };
            if escaped {
                escape_end = Some(i);
            }
        }
    }

    /// The breaks of the whole file (a `\r` at its very end is one).
    pub(crate) fn finish(self) -> u64 {
        self.count + u64::from(self.carry.first() == Some(&b'\r'))
    }
}

/// The value of a JSON string literal `raw` (quotes included) that is known
/// to be valid: it was parsed when the input was loaded. Runs of plain bytes
/// are copied whole; only escapes are decoded (borrowed when there are none).
///
/// # Panics
/// If `raw` is not a valid JSON string literal.
#[must_use]
pub fn unescape(raw: &str) -> Cow<'_, str> {
    let body = &raw.as_bytes()[1..raw.len() - 1];
    let Some(first) = memchr::memchr(b'\\', body) else {
        return Cow::Borrowed(&raw[1..raw.len() - 1]);
    };
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    out.extend_from_slice(&body[..first]);
    let mut i = first;
    while let Some(at) = memchr::memchr(b'\\', &body[i..]) {
        out.extend_from_slice(&body[i..i + at]);
        i += at;
        let simple = match body[i + 1] {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(0x08),
            b'f' => Some(0x0C),
            b'u' => None,
            other => Some(other),
        };
        if let Some(b) = simple {
            out.push(b);
            i += 2;
            continue;
        }
        let hex = |at: usize| {
            std::str::from_utf8(&body[at..at + 4])
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .expect("escapes were checked when the input was loaded")
        };
        let mut code = hex(i + 2);
        i += 6;
        if (0xD800..0xDC00).contains(&code) {
            // A surrogate pair: the low half follows as another escape.
            let low = hex(i + 2);
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        let c = char::from_u32(code).expect("escapes were checked when the input was loaded");
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    out.extend_from_slice(&body[i..]);
    // SAFETY: `out` is `raw`'s UTF-8 cut only at backslashes (ASCII, so never
    // inside a character), with each escape replaced by the UTF-8 of a valid
    // `char` (or an ASCII byte): it is UTF-8 too, and checking it again would
    // cost a pass over every document's text each time it is read.
    #[allow(unsafe_code)]
    Cow::Owned(unsafe { String::from_utf8_unchecked(out) })
}

/// Byte ranges of `line` (a valid JSON object) that remove its members
/// named in `names` and leave valid JSON: a member followed by a kept one
/// goes with its comma; members after the last kept one go with the comma
/// before them. Empty when no member is named (or none would be kept).
#[must_use]
pub fn without_fields(line: &str, names: &[&str]) -> Vec<Range<usize>> {
    let mut members = Vec::new();
    fields(line.as_bytes(), |key, value| members.push((key, value)));
    let gone: Vec<bool> = members
        .iter()
        .map(|(key, _)| names.iter().any(|n| key_is(line, key.clone(), n)))
        .collect();
    let Some(last_kept) = gone.iter().rposition(|n| !n) else {
        return Vec::new();
    };
    let mut out: Vec<Range<usize>> = (0..last_kept)
        .filter(|&i| gone[i])
        .map(|i| members[i].0.start..members[i + 1].0.start)
        .collect();
    if let Some(last) = members.last().filter(|_| last_kept + 1 < members.len()) {
        out.push(members[last_kept].1.end..last.1.end);
    }
    out
}

fn key_is(line: &str, raw: Range<usize>, name: &str) -> bool {
    let raw = &line[raw];
    if !raw.contains('\\') {
        return &raw[1..raw.len() - 1] == name;
    }
    serde_json::from_str::<String>(raw).is_ok_and(|k| k == name)
}

/// A parsed record: its text and id, and where the raw text value sits in the line.
#[derive(Debug)]
pub struct Parsed {
    /// Bytes of the decoded text field.
    pub text_len: usize,
    /// The decoded text field's lines and paragraphs.
    pub text_lines: Lines,
    /// The id field as a string (a non-string id is shown as its JSON), if present.
    pub id: Option<String>,
    /// Byte range of the id field's raw JSON value within the line.
    pub id_value: Option<Range<usize>>,
    /// Byte range of the raw JSON string of the text field within the line.
    pub text_value: Range<usize>,
    /// The keep policy's field, when one was asked for.
    pub keep: Option<FieldValue>,
}

/// Parses one JSON Lines record. The error is a message without location; the
/// caller adds file and line.
///
/// # Errors
/// When the line is not a JSON object, or the text field is missing or not a string.
pub fn parse(
    line: &str,
    text_field: &str,
    id_field: &str,
    keep_field: Option<&str>,
) -> Result<Parsed, String> {
    parse_with(line, (text_field, id_field, keep_field), false)
}

/// The id a record's raw id value `raw` gives: a string's value, else the
/// value's JSON.
#[must_use]
pub fn id_text(raw: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::String(s)) => s,
        _ => raw.to_owned(),
    }
}

/// Whether a raw id value is a string without escapes: its characters are
/// the id, read from the record where needed ([`Parsed::id`] is then not
/// made by [`parse_with`] when asked not to).
#[must_use]
pub fn is_plain_id(raw: &str) -> bool {
    raw.len() >= 2 && raw.starts_with('"') && !raw.contains('\\')
}

/// What is wrong with a record that is not JSON, as serde_json says it of
/// the line: `invalid JSON at column 23: trailing characters` (serde_json
/// says "at line 1 column N"; the line is the record's, so only the column
/// is news).
pub(crate) fn invalid_json(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let what = message
        .rfind(" at line ")
        .map_or(message.as_str(), |at| &message[..at]);
    format!("invalid JSON at column {}: {what}", e.column())
}

/// What is wrong with a record `body` (at byte `start` of its input) that
/// does not parse and holds a NUL byte: no JSON text holds one (a string
/// holds it as `\u0000`), so the input is binary, or holds a run of zeros
/// (what a crash or a preallocation leaves), and is named so, by the
/// first NUL's byte offset, not as JSON that is merely malformed. `None`
/// without a NUL. `decompressed`: the offset is in the decompressed bytes.
pub(crate) fn nul_in_record(body: &[u8], start: usize, decompressed: bool) -> Option<String> {
    let at = memchr::memchr(0, body)?;
    let offset = if decompressed {
        "decompressed byte offset"
    } else {
        "byte offset"
    };
    Some(format!(
        "a NUL byte at {offset} {} (column {}): the file looks binary (or holds zeros, as a \
         crash or a preallocation leaves them), not JSON Lines text",
        start + at,
        at + 1
    ))
}

/// [`parse`], with the fields named (text, id, keep); with `plain_ids`, an
/// id that is a string without escapes ([`is_plain_id`]) is left in the
/// line (`id` is `None`, `id_value` says where): the first pass over a
/// corpus made and dropped one such string a record.
///
/// # Errors
/// As [`parse`].
pub fn parse_with(
    line: &str,
    (text_field, id_field, keep_field): (&str, &str, Option<&str>),
    plain_ids: bool,
) -> Result<Parsed, String> {
    serde_json::from_str::<serde::de::IgnoredAny>(line).map_err(|e| {
        // Files joined with `cat`, each starting with a byte-order mark: the
        // one at the file's first byte is skipped, this one is named.
        if line.starts_with('\u{feff}') {
            return "a UTF-8 byte-order mark starts this record (one is skipped only at the very \
                    start of a file: files joined with `cat`?); remove it, e.g. with \
                    `sed 's/^\\xEF\\xBB\\xBF//'`"
                .to_owned();
        }
        invalid_json(&e)
    })?;
    if !line.trim_start().starts_with('{') {
        return Err("invalid record: expected a JSON object".into());
    }
    let mut text_value = None;
    let mut id_value = None;
    let mut keep_value = None;
    // Later duplicates win, as in serde_json's own maps.
    fields(line.as_bytes(), |key, value| {
        if key_is(line, key.clone(), text_field) {
            text_value = Some(value);
        } else {
            if key_is(line, key.clone(), id_field) {
                id_value = Some(value.clone());
            }
            if keep_field.is_some_and(|f| key_is(line, key, f)) {
                keep_value = Some(value);
            }
        }
    });
    let plain_id = plain_ids && id_value.clone().is_some_and(|r| is_plain_id(&line[r]));
    let Some(text_value) = text_value else {
        return Err(format!("record has no {text_field:?} field"));
    };
    let raw = &line[text_value.clone()];
    // Only measured here (it is decoded when used); serde_json looks at what
    // is not a plain, valid string, to say what is wrong with it.
    let (text_len, text_lines) = match decoded_len_and_lines(raw) {
        Some(measured) => measured,
        None => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::String(s)) => (s.len(), Lines::of(s.as_bytes())),
            Ok(other) => {
                return Err(format!(
                    "field {text_field:?} is {}, not a string",
                    kind(&other)
                ))
            }
            Err(e) => return Err(string_error(raw, text_value.start, text_field, &e)),
        },
    };
    let id = (!plain_id).then(|| id_value.clone().map(|range| id_text(&line[range])));
    let keep = keep_field.map(|_| {
        keep_value.map_or(FieldValue::Missing, |range| {
            FieldValue::from_raw(&line[range])
        })
    });
    Ok(Parsed {
        text_len,
        text_lines,
        id: id.flatten(),
        id_value,
        text_value,
        keep,
    })
}

/// Why the JSON string `raw` (at byte `start` of its line) of field `name` is
/// not a string: a lone UTF-16 surrogate escape named as such, else
/// serde_json's message; either with the column in the line (1-based bytes).
fn string_error(raw: &str, start: usize, name: &str, e: &serde_json::Error) -> String {
    if let Some((at, escape)) = lone_surrogate(raw) {
        return format!(
            "field {name:?}: lone UTF-16 surrogate {escape} at column {} (a high surrogate \\uD800-\\uDBFF must be followed by a low one \\uDC00-\\uDFFF)",
            start + at + 1
        );
    }
    let message = e.to_string();
    let what = message
        .rfind(" at line ")
        .map_or(message.as_str(), |at| &message[..at]);
    format!("field {name:?}: {what} at column {}", start + e.column())
}

/// The first `\uXXXX` escape of `raw` that is half a surrogate pair without
/// its other half: its byte offset and the escape.
fn lone_surrogate(raw: &str) -> Option<(usize, &str)> {
    let b = raw.as_bytes();
    let unit = |at: usize| -> Option<u32> {
        if b.get(at..at + 2)? != b"\\u" {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(b.get(at + 2..at + 6)?).ok()?, 16).ok()
    };
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        match unit(i) {
            Some(0xD800..=0xDBFF) => {
                if unit(i + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) {
                    i += 12;
                    continue;
                }
                return Some((i, &raw[i..i + 6]));
            }
            Some(0xDC00..=0xDFFF) => return Some((i, &raw[i..i + 6])),
            // Any other escape: skip it whole (`\\` must not start another).
            _ => i += 2,
        }
    }
    None
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_named_with_their_column() {
        let line = r#"{"id":"a","text":"ok \\ud800 \ud83d\ude00 \ud800x"}"#;
        let err = parse(line, "text", "id", None).unwrap_err();
        assert_eq!(
            err,
            "field \"text\": lone UTF-16 surrogate \\ud800 at column 43 (a high surrogate \\uD800-\\uDBFF must be followed by a low one \\uDC00-\\uDFFF)"
        );
        assert_eq!(&line[42..48], r"\ud800");
        let low = r#"{"text":"\udc00"}"#;
        let err = parse(low, "text", "id", None).unwrap_err();
        assert!(
            err.contains(r"lone UTF-16 surrogate \udc00 at column 10"),
            "{err}"
        );
        let other = r#"{"text":"\u12"}"#;
        let err = parse(other, "text", "id", None).unwrap_err();
        assert!(err.contains("at column"), "{err}");
        assert!(!err.contains("surrogate"), "{err}");
    }

    #[test]
    fn unescape_matches_serde_and_decoded_len_its_length() {
        for text in [
            "",
            "plain",
            "line\nbreak\t\"quoted\" back\\slash / \u{8}\u{c}\r",
            "caf\u{e9} \u{1F600} \u{2028} \u{0} end",
        ] {
            let raw = serde_json::to_string(text).unwrap();
            assert_eq!(unescape(&raw), text, "{raw}");
            assert_eq!(decoded_len(&raw), Some(text.len()), "{raw}");
        }
        // Escapes serde_json does not write: \/, \uXXXX for any character.
        let raw = r#""a\/b\u00e9\ud83d\ude00""#;
        assert_eq!(unescape(raw), "a/b\u{e9}\u{1F600}");
        assert_eq!(decoded_len(raw), Some(9));
        // Lone or reversed surrogates, bad escapes, not a string: serde_json says why.
        for bad in [
            r#""\ud83d""#,
            r#""\ude00\ud83d""#,
            r#""\ud83d x""#,
            r#""\x""#,
            r#""\u12""#,
            "17",
            "\"",
        ] {
            assert_eq!(decoded_len(bad), None, "{bad}");
        }
    }

    #[test]
    fn breaks_count_lone_returns_and_escaped_breaks_in_json_lines() {
        let count = |file: &[u8], piece: usize| {
            let mut breaks = Breaks::default();
            for part in file.chunks(piece) {
                breaks.feed(part);
            }
            breaks.finish()
        };
        for (file, breaks) in [
            (&b"a\nb\nc"[..], 2),
            (b"a\rb\rc\r", 3),
            (b"a\r\nb\r\n", 2),
            // A text file's backslashes are text (LaTeX, code).
            (b"\\ref a \\n b \\u000a\n", 1),
            // JSON Lines: escaped breaks in strings count, an escaped
            // backslash before an n does not.
            (b"{\"text\": \"a\\nb\\rc\\u000Ad\\u000de\"}\n", 5),
            (b"{\"text\": \"a\\\\nb \\u0041 \\\"n\"}\n", 1),
            // Escaped breaks in a row end one block: paragraphs, `\r\n`.
            (b"{\"text\": \"a\\n\\nb\\r\\nc\\n\\u000a\\n\"}\n", 4),
            (b"\xEF\xBB\xBF \n {\"text\": \"a\\nb\"}", 2),
            (b" \n\n", 2),
            (b"", 0),
        ] {
            for piece in [1, 2, 3, 5, 7, 64] {
                assert_eq!(
                    count(file, piece),
                    breaks,
                    "{:?} in pieces of {piece}",
                    String::from_utf8_lossy(file)
                );
            }
        }
        // A text of 10,000 short lines held in one record has 10,000 breaks
        // to count, as the same text as a file of lines ended by `\r`.
        let text: String = (0..10_000)
            .flat_map(|i| ["w".to_owned(), i.to_string(), "\n".to_owned()])
            .collect();
        let record = serde_json::json!({ "text": text }).to_string();
        assert_eq!(count(record.as_bytes(), 1 << 16), 10_000);
        assert_eq!(count(text.replace('\n', "\r").as_bytes(), 1 << 16), 10_000);
    }

    #[test]
    fn lines_are_counted_alike_in_a_json_string_and_in_text() {
        use crate::config::BlockMode;
        // (text, lines with text, paragraphs)
        for (text, lines, paragraphs) in [
            ("", 0, 0),
            ("\n\r\n", 0, 0),
            ("one line", 1, 1),
            ("one line\n", 1, 1),
            ("a\nb\nc", 3, 1),
            ("a\r\nb\r\n", 2, 1),
            ("a\rb\rc\r", 3, 1),
            ("\n\na\nb\n\n\nc\n\r\nd", 4, 3),
            ("a\r\n\r\nb\r\n\r\nc", 3, 3),
            ("\t\n \n", 0, 0),
            // White space only is a blank line, as the segmenter has it.
            ("p one\n \np two\n\t\r\np three", 3, 3),
            ("a\u{3}b\n\u{c}\n", 1, 1),
        ] {
            let counted = Lines::of(text.as_bytes());
            assert_eq!(
                (counted.lines, counted.paragraphs),
                (lines, paragraphs),
                "{text:?}"
            );
            let raw = serde_json::to_string(text).unwrap();
            assert_eq!(
                decoded_len_and_lines(&raw),
                Some((text.len(), counted)),
                "{raw}"
            );
            let auto = if paragraphs > 1 { paragraphs } else { lines };
            assert_eq!(counted.blocks(BlockMode::Auto) as usize, auto);
            assert_eq!(counted.blocks(BlockMode::Lines) as usize, lines);
        }
        // Breaks written as \u escapes, and a surrogate pair on a line.
        let raw = r#""a\u000a\u000d\u000ab\u000A\ud83d\ude00\n""#;
        let (len, lines) = decoded_len_and_lines(raw).unwrap();
        assert_eq!((len, lines.lines, lines.paragraphs), (11, 3, 2));
    }

    #[test]
    fn finds_text_and_id_among_nested_fields() {
        let line =
            r#"{"meta":{"text":"no","a":[1,"}"]},"id":17, "text" : "He said \"hi\"\n", "z":null}"#;
        let p = parse(line, "text", "id", None).unwrap();
        assert_eq!(p.text_len, "He said \"hi\"\n".len());
        assert_eq!(p.id.as_deref(), Some("17"));
        assert_eq!(&line[p.text_value.clone()], r#""He said \"hi\"\n""#);
    }

    #[test]
    fn keep_fields_compare_numbers_and_dates() {
        let p = parse(r#"{"text":"x","t":"2018-07-16"}"#, "text", "id", Some("t")).unwrap();
        assert!(matches!(p.keep, Some(FieldValue::Time(_))));
        let q = parse(r#"{"text":"x","t":"2018-07-15"}"#, "text", "id", Some("t")).unwrap();
        assert!(q.keep < p.keep);
        let n = parse(r#"{"text":"x","t":" 12 "}"#, "text", "id", Some("t")).unwrap();
        assert_eq!(n.keep, Some(FieldValue::Number(12.0)));
        let m = parse(r#"{"text":"x"}"#, "text", "id", Some("t")).unwrap();
        assert_eq!(m.keep, Some(FieldValue::Missing));
        assert!(m.keep < n.keep && n.keep < p.keep);
    }

    #[test]
    fn strings_end_at_their_unescaped_quote() {
        // Backslashes before a quote, escaped quotes and backslashes in
        // keys, nested values and the text (found by `memchr2`).
        let line = r#"{"a\"":"\\","b":["\\\"]\\",{"c":"}\""}],"text":"x\\","id":"q\"r\\"}"#;
        let p = parse(line, "text", "id", None).unwrap();
        assert_eq!(&line[p.text_value.clone()], r#""x\\""#);
        assert_eq!(p.text_len, 2);
        assert_eq!(p.id.as_deref(), Some("q\"r\\"));
        assert_eq!(scan_string(br#""ab\""#, 0), 5);
        assert_eq!(scan_string(br#""ab\\""#, 0), 6);
        assert_eq!(scan_string(br#""a\\"b"#, 0), 5);
        assert_eq!(scan_string(br#""ab"#, 0), 3);
    }

    #[test]
    fn escaped_keys_match() {
        let p = parse(r#"{"t\u0065xt":"x"}"#, "text", "id", None).unwrap();
        assert_eq!(p.text_len, 1);
        assert_eq!(p.id, None);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse("{\"text\": 3}", "text", "id", None)
            .unwrap_err()
            .contains("is a number, not a string"));
        assert!(parse("{\"body\": \"x\"}", "text", "id", None)
            .unwrap_err()
            .contains("no \"text\" field"));
        assert!(parse("{\"text\": \"x\"", "text", "id", None)
            .unwrap_err()
            .starts_with("invalid JSON"));
        assert!(parse("[1]", "text", "id", None)
            .unwrap_err()
            .contains("JSON object"));
    }
}
