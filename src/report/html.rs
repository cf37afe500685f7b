//! The report as one self-contained HTML page (`--html FILE`).
//!
//! The page is `assets/report.html` with its style (`assets/report.css`) and
//! script (`assets/report.js`) put in place, and two payloads:
//! - the JSON report, exactly what `--json` writes (one source of truth),
//!   with every `<`, `>` and `&` written as a `\u` escape so that no text in
//!   it can close the script element it sits in (it parses to the same value);
//! - the texts of the documents the page shows (those with repeats, the
//!   documents holding their first copies, the documents dropped as near
//!   duplicates and the ones they are compared with), as a JSON object from
//!   document index to text, gzip-compressed and base64-encoded: the browser
//!   decompresses it with its own `DecompressionStream`, so the page needs no
//!   network and no library, and stays smaller than the JSON report beside it.
//!
//! Everything the script puts on the page is set as text, never as markup.

use super::Report;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

const TEMPLATE: &str = include_str!("../../assets/report.html");
const STYLE: &str = include_str!("../../assets/report.css");
const SCRIPT: &str = include_str!("../../assets/report.js");

/// A document's text by its index in the report (`None` for a document
/// whose text is not at hand: an indexed one, or any in a run in chunks).
pub type TextOf<'a> = &'a dyn Fn(usize) -> Option<Cow<'a, str>>;

/// Writes the HTML report for `report`, with the texts `text_of` gives for
/// the documents it shows (`None`: a page without texts, which says so).
///
/// # Errors
/// Write errors, or a spooled report that cannot be read back.
pub fn write(
    report: &Report,
    text_of: Option<TextOf<'_>>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut rest = TEMPLATE;
    for (slot, fill) in [
        ("{{style}}", Slot::Style),
        ("{{report}}", Slot::Report),
        ("{{texts}}", Slot::Texts),
        ("{{script}}", Slot::Script),
    ] {
        let at = rest.find(slot).expect("the template has every slot once");
        out.write_all(&rest.as_bytes()[..at])?;
        match fill {
            Slot::Style => out.write_all(STYLE.as_bytes())?,
            Slot::Script => out.write_all(SCRIPT.as_bytes())?,
            Slot::Report => report.write_json(&mut Escaped(&mut *out))?,
            Slot::Texts => {
                if let Some(text_of) = text_of {
                    write_texts(report, text_of, out)?;
                }
            }
        }
        rest = &rest[at + slot.len()..];
    }
    out.write_all(rest.as_bytes())
}

enum Slot {
    Style,
    Report,
    Texts,
    Script,
}

/// The documents whose text the page shows, by index.
fn shown_documents(report: &Report) -> std::io::Result<BTreeSet<usize>> {
    let mut shown = BTreeSet::new();
    report.for_each_named_document(&mut |index| {
        shown.insert(index);
    })?;
    report.for_each_cluster_member(&mut |cluster, m| {
        if cluster.size > 1 {
            shown.insert(m.document.index);
        }
    })?;
    Ok(shown)
}

/// The texts as gzip-compressed, base64-encoded JSON: `{"index": "text"}`.
fn write_texts(report: &Report, text_of: TextOf<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let mut texts = BTreeMap::new();
    for index in shown_documents(report)? {
        if let Some(text) = text_of(index) {
            texts.insert(index.to_string(), text);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Base64::new(out), flate2::Compression::new(6));
    serde_json::to_writer(&mut gz, &texts).map_err(std::io::Error::from)?;
    gz.finish()?.finish()
}

/// Writes JSON with `<`, `>` and `&` as `\u` escapes: they occur only inside
/// strings, where the escape means the same character.
struct Escaped<'w>(&'w mut dyn Write);

impl Write for Escaped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            let escape: &[u8] = match b {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                b'&' => b"\\u0026",
                _ => continue,
            };
            self.0.write_all(&buf[start..i])?;
            self.0.write_all(escape)?;
            start = i + 1;
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Standard base64 (RFC 4648, with padding), written as it comes.
struct Base64<'w> {
    out: &'w mut dyn Write,
    pending: Vec<u8>,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl<'w> Base64<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Base64 {
            out,
            pending: Vec::with_capacity(3 << 12),
        }
    }

    /// Encodes the whole groups of three bytes pending.
    fn drain(&mut self, all: bool) -> std::io::Result<()> {
        let whole = if all {
            self.pending.len()
        } else {
            self.pending.len() / 3 * 3
        };
        let mut encoded = Vec::with_capacity(whole / 3 * 4 + 4);
        for group in self.pending[..whole].chunks(3) {
            let n = group
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= group.len() {
                    encoded.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
                } else {
                    encoded.push(b'=');
                }
            }
        }
        self.pending.drain(..whole);
        self.out.write_all(&encoded)
    }

    /// Writes what is left, padded.
    fn finish(mut self) -> std::io::Result<()> {
        self.drain(true)
    }
}

impl Write for Base64<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= 3 << 12 {
            self.drain(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base64(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        let mut b = Base64::new(&mut out);
        b.write_all(bytes).unwrap();
        b.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn base64_follows_rfc_4648() {
        // The test vectors of RFC 4648, section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        // Longer than one buffer, cut anywhere.
        let long: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = base64(&long);
        let mut out = Vec::new();
        let mut b = Base64::new(&mut out);
        for piece in long.chunks(1000) {
            b.write_all(piece).unwrap();
        }
        b.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), whole);
        assert_eq!(whole.len(), 40_000usize.div_ceil(3) * 4);
    }

    #[test]
    fn escaped_json_parses_to_the_same_value() {
        let value = serde_json::json!({"id": "</script><img src=x onerror=alert(1)>&amp;"});
        let mut out = Vec::new();
        serde_json::to_writer(Escaped(&mut out), &value).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
