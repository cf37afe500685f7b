//! Compressed inputs and outputs: gzip (`.gz`) and Zstandard (`.zst`, `.zstd`),
//! chosen by the file name, and for inputs also by the magic bytes (so a
//! compressed stream on standard input is read too).

use crate::error::{Error, Result};
use members::{Counted, GzMembers, ZstdFrames};
use std::io::{Read, Write};
use std::path::Path;

mod members;

/// A compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (RFC 1952), multi-member streams included.
    Gzip,
    /// Zstandard, multi-frame streams included.
    Zstd,
}

impl Compression {
    /// The format a file name asks for.
    #[must_use]
    pub fn from_name(path: &Path) -> Compression {
        let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
            return Compression::None;
        };
        // Any case: `OUT.JSONL.GZ` is gzip as `out.jsonl.gz` is.
        match extension.to_ascii_lowercase().as_str() {
            "gz" | "gzip" => Compression::Gzip,
            "zst" | "zstd" => Compression::Zstd,
            _ => Compression::None,
        }
    }

    /// The compression a file name asks for that neardup does not write
    /// (`.bz2`, `.xz`, ...): its name, for a refusal of such an output (and
    /// for an input of that name found binary, which neardup does not read).
    #[must_use]
    pub fn unwritten(path: &Path) -> Option<&'static str> {
        let extension = path.extension()?.to_str()?;
        // `.Z` is compress(1); `.z` (pack, early gzip) is left alone.
        if extension == "Z" {
            return Some("compress");
        }
        // An archive: neardup writes one stream, never a tar or zip of
        // files (`-o out.tgz` wrote plain text under a gzip name, `-o
        // out.tar.gz` a gzip stream that no tar reads).
        let tar_inside = Path::new(path.file_stem()?)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tar"));
        Some(match extension.to_ascii_lowercase().as_str() {
            _ if tar_inside => "tar archives",
            "tar" | "tgz" | "taz" | "tzst" | "tlz" => "tar archives",
            "zip" => "zip archives",
            "7z" => "7-Zip archives",
            "rar" => "RAR archives",
            "bz2" | "bz" | "tbz" | "tbz2" => "bzip2",
            "xz" | "txz" => "xz",
            "lzma" => "lzma",
            "lz4" => "lz4",
            "br" => "brotli",
            "lz" => "lzip",
            "lzo" => "lzop",
            "sz" => "snappy",
            _ => return None,
        })
    }

    /// The format the first bytes show.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Compression {
        if bytes.starts_with(&[0x1F, 0x8B]) {
            Compression::Gzip
        } else if bytes.starts_with(&[0x28, 0xB5, 0x2F, 0xFD])
            // A skippable frame (magic 0x184D2A50-5F), as pzstd writes first.
            || (bytes.len() >= 4 && bytes[0] & 0xF0 == 0x50 && bytes[1..4] == [0x2A, 0x4D, 0x18])
        {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The name without its compression extension (`a.jsonl.gz` -> `a.jsonl`).
    #[must_use]
    pub fn strip(path: &Path) -> &Path {
        match Compression::from_name(path) {
            Compression::None => path,
            _ => path.file_stem().map_or(path, Path::new),
        }
    }
}

/// Decompresses a whole input. A truncated or corrupt stream is an error that
/// names the file and how far decoding got.
pub fn decompress(path: &Path, bytes: &[u8], compression: Compression) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    decompress_to(path, &mut &bytes[..], compression, |r| {
        r.read_to_end(&mut out)
    })?;
    Ok(out)
}

/// Decompresses a whole input through `sink` (which reads the decoded
/// stream, e.g. into a temporary file). Errors as [`decompress`].
pub fn decompress_to<T>(
    path: &Path,
    bytes: &mut dyn std::io::BufRead,
    compression: Compression,
    sink: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
) -> Result<T> {
    let fail = |decoded: u64, e: std::io::Error| {
        decode_error(
            path,
            compression,
            usize::try_from(decoded).unwrap_or(usize::MAX),
            &e,
        )
    };
    // An empty file holds no documents, whatever its name says (as an empty
    // plain file does): there is no stream in it to be corrupt.
    let empty = bytes.fill_buf().map_err(|e| Error::io(path, e))?.is_empty();
    match compression {
        _ if empty => sink(bytes).map_err(|e| Error::io(path, e)),
        Compression::None => sink(bytes).map_err(|e| Error::io(path, e)),
        Compression::Gzip => {
            let mut r = Counted::new(GzMembers::new(bytes));
            sink(&mut r).map_err(|e| fail(r.consumed, e))
        }
        Compression::Zstd => {
            let decoder = ZstdFrames::new(bytes).map_err(|e| fail(0, e))?;
            let mut r = Counted::new(decoder);
            sink(&mut r).map_err(|e| fail(r.consumed, e))
        }
    }
}

/// A reader of the decoded stream of `raw` (a stream read a piece at a
/// time). Its read errors become messages through [`decode_error`].
///
/// # Errors
/// When the decoder cannot be made.
pub fn decoder<'a>(
    raw: impl std::io::BufRead + Send + 'a,
    compression: Compression,
) -> std::io::Result<Box<dyn Read + Send + 'a>> {
    let mut raw = raw;
    // Empty: no documents, as in `decompress_to`.
    if compression != Compression::None && raw.fill_buf()?.is_empty() {
        return Ok(Box::new(std::io::empty()));
    }
    Ok(match compression {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(GzMembers::new(raw)),
        Compression::Zstd => Box::new(ZstdFrames::new(raw)?),
    })
}

/// The error of a compressed input whose decoding failed after `decoded` bytes.
#[must_use]
pub fn decode_error(
    path: &Path,
    compression: Compression,
    decoded: usize,
    e: &std::io::Error,
) -> Error {
    // What the decoder decoded but dropped with the error (a zstd frame
    // whose checksum is wrong).
    let dropped = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<members::Unreturned>())
        .map_or(0, |u| usize::try_from(u.bytes).unwrap_or(usize::MAX));
    let decoded = decoded.saturating_add(dropped);
    // libzstd refuses a frame whose window is over 2^27 bytes (what
    // `zstd --long=28` and up write): a stream neither cut nor corrupt.
    if compression == Compression::Zstd
        && e.to_string()
            .contains("Frame requires too much memory for decoding")
    {
        return Error::TooLarge {
            path: path.to_owned(),
            message: format!(
                "a zstd frame after {decoded} decompressed bytes declares a window over 128 MiB \
                 (written by `zstd --long=28` or more), larger than neardup decodes; \
                 decompress it first (`zstd -d --long=31`)"
            ),
        };
    }
    // flate2 reads a gzip member's name, comment and extra field up to 64
    // KiB each: a longer one is a gzip file neardup does not decode, not a
    // cut or corrupt one.
    if compression == Compression::Gzip && e.to_string() == "gzip header field too long" {
        return Error::TooLarge {
            path: path.to_owned(),
            message: format!(
                "a gzip member after {decoded} decompressed bytes has a header field (its file \
                 name, comment or extra field) over 64 KiB, longer than neardup reads; \
                 decompress it first (`gzip -dc`)"
            ),
        };
    }
    Error::Decompress {
        path: path.to_owned(),
        format: if compression == Compression::Gzip {
            "gzip"
        } else {
            "zstd"
        },
        decoded,
        message: e.to_string(),
    }
}

/// Wraps a writer so that what is written is compressed; `finish` must be called.
pub enum Encoder<'a> {
    /// No compression.
    Plain(&'a mut dyn Write),
    /// gzip at the default level.
    Gzip(flate2::write::GzEncoder<&'a mut dyn Write>),
    /// Zstandard at level 3.
    Zstd(zstd::stream::write::Encoder<'static, &'a mut dyn Write>),
}

impl<'a> Encoder<'a> {
    /// An encoder of `compression` over `out`.
    pub fn new(out: &'a mut dyn Write, compression: Compression) -> std::io::Result<Encoder<'a>> {
        Ok(match compression {
            Compression::None => Encoder::Plain(out),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
        })
    }

    /// Writes the compressed stream's end.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Encoder::Plain(out) => out.flush(),
            Encoder::Gzip(e) => e.finish()?.flush(),
            Encoder::Zstd(e) => e.finish()?.flush(),
        }
    }
}

impl Write for Encoder<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Plain(out) => out.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Plain(out) => out.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(compression: Compression) {
        let text = b"{\"text\":\"hello\"}\n".repeat(1000);
        let mut packed = Vec::new();
        {
            let mut sink: &mut dyn Write = &mut packed;
            let mut enc = Encoder::new(&mut sink, compression).unwrap();
            enc.write_all(&text).unwrap();
            enc.finish().unwrap();
        }
        assert_eq!(Compression::sniff(&packed), compression);
        let path = Path::new("x");
        assert_eq!(decompress(path, &packed, compression).unwrap(), text);
        let cut = &packed[..packed.len() / 2];
        let err = decompress(path, cut, compression).unwrap_err().to_string();
        assert!(err.starts_with("x: truncated or corrupt"), "{err}");
    }

    /// A zstd frame whose checksum is wrong is found once the whole frame
    /// is decoded; the decoder drops what the failing read decoded, so a
    /// read into a buffer that held the frame said `after 0 decompressed
    /// bytes` where reads of 1 KiB said 37,962 (session 43's hostile pass).
    /// Every reading names the frame's size.
    #[test]
    fn a_wrong_zstd_checksum_is_named_after_the_whole_frame_at_any_read_size() {
        let text = b"{\"text\":\"hello there\"}\n".repeat(2000);
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        c.include_checksum(true).unwrap();
        let mut packed = c.compress(&text).unwrap();
        *packed.last_mut().unwrap() ^= 1;
        let path = Path::new("x");
        let said = format!(
            "x: truncated or corrupt zstd stream after {} decompressed bytes",
            text.len()
        );
        let err = decompress(path, &packed, Compression::Zstd).unwrap_err();
        assert!(err.to_string().starts_with(&said), "{err}");
        for size in [1 << 10, 1 << 16, 1 << 20] {
            let mut d = decoder(&packed[..], Compression::Zstd).unwrap();
            let mut buf = vec![0; size];
            let mut total = 0;
            let e = loop {
                match d.read(&mut buf) {
                    Ok(0) => panic!("a wrong checksum read as the end"),
                    Ok(n) => total += n,
                    Err(e) => break e,
                }
            };
            let err = decode_error(path, Compression::Zstd, total, &e).to_string();
            assert!(err.starts_with(&said), "reads of {size}: {err}");
        }
    }

    #[test]
    fn gzip_and_zstd_round_trip_and_truncation_is_an_error() {
        round_trip(Compression::Gzip);
        round_trip(Compression::Zstd);
    }

    /// A gzip member whose file name is longer than flate2 reads is said to
    /// be one, not called cut or corrupt; a name of 1 KB is read.
    #[test]
    fn a_gzip_file_name_over_64_kib_is_named_as_such() {
        let member = |name_len: usize| {
            let mut gz = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 0xff];
            gz.extend(std::iter::repeat_n(b'x', name_len));
            gz.push(0);
            let mut body = Vec::new();
            {
                let mut sink: &mut dyn Write = &mut body;
                let mut enc = Encoder::new(&mut sink, Compression::Gzip).unwrap();
                enc.write_all(b"{\"text\":\"hello\"}\n").unwrap();
                enc.finish().unwrap();
            }
            // The encoder's own 10-byte header gives way to this one.
            gz.extend_from_slice(&body[10..]);
            gz
        };
        let path = Path::new("x.gz");
        assert_eq!(
            decompress(path, &member(1000), Compression::Gzip).unwrap(),
            b"{\"text\":\"hello\"}\n"
        );
        let err = decompress(path, &member(100_000), Compression::Gzip)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "x.gz: too large: a gzip member after 0 decompressed bytes has a header field"
            ),
            "{err}"
        );
        assert!(err.contains("`gzip -dc`"), "{err}");
    }

    /// A frame header declaring a window of 2^`log` bytes, then one raw block.
    fn frame_with_window(log: u8, content: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, (log - 10) << 3];
        let header = (u32::try_from(content.len()).unwrap() << 3) | 1;
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.extend_from_slice(content);
        frame
    }

    #[test]
    fn a_zstd_window_over_128_mib_is_refused_by_what_it_is() {
        let path = Path::new("w.zst");
        let text = b"words of a document\n";
        assert_eq!(
            decompress(path, &frame_with_window(27, text), Compression::Zstd).unwrap(),
            text
        );
        for log in [28, 31] {
            let err = decompress(path, &frame_with_window(log, text), Compression::Zstd)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("w.zst: too large: a zstd frame after 0 decompressed bytes declares a window over 128 MiB"),
                "{err}"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            Compression::from_name(Path::new("a.jsonl.zst")),
            Compression::Zstd
        );
        assert_eq!(
            Compression::strip(Path::new("dir/a.jsonl.gz")),
            Path::new("a.jsonl")
        );
        assert_eq!(Compression::strip(Path::new("a.txt")), Path::new("a.txt"));
    }
}
