//! gzip members and zstd frames one after another, and what may follow the
//! last of them: zero bytes after gzip (the padding of a tape or `dd` block,
//! which GNU gzip ignores), nothing after zstd (as the `zstd` tool refuses
//! any trailing byte). Any other trailing byte is an error naming its byte
//! offset in the compressed file.

use std::io::{BufRead, Read};

/// A reader of `R` that counts the bytes consumed from it (read, or
/// consumed from its buffer).
pub(super) struct Counted<R> {
    inner: R,
    pub(super) consumed: u64,
}

impl<R> Counted<R> {
    pub(super) fn new(inner: R) -> Counted<R> {
        Counted { inner, consumed: 0 }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.consumed += amount as u64;
    }
}

/// The error of a byte after the last member or frame that is not another.
fn trailing(offset: u64, after: &str, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("trailing data at byte offset {offset}, after the last {after}: {why}"),
    )
}

/// The decoded text of a gzip file of one or more members, then zero
/// bytes up to its end (read as GNU gzip reads them).
pub(super) struct GzMembers<R: BufRead> {
    member: Option<flate2::bufread::GzDecoder<Counted<R>>>,
}

impl<R: BufRead> GzMembers<R> {
    pub(super) fn new(raw: R) -> GzMembers<R> {
        GzMembers {
            member: Some(flate2::bufread::GzDecoder::new(Counted::new(raw))),
        }
    }
}

impl<R: BufRead> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member (its trailer checked) is over; the next byte says
            // what follows.
            let mut raw = self.member.take().expect("a member").into_inner();
            let next = raw.fill_buf()?;
            match next.first() {
                None => return Ok(0),
                Some(0x1F) => self.member = Some(flate2::bufread::GzDecoder::new(raw)),
                Some(0) => {
                    // Zero padding, to the end and nothing else.
                    loop {
                        let zeros = raw.fill_buf()?;
                        if zeros.is_empty() {
                            return Ok(0);
                        }
                        let run = zeros.iter().position(|&b| b != 0);
                        let skipped = run.unwrap_or(zeros.len());
                        raw.consume(skipped);
                        if run.is_some() {
                            return Err(trailing(
                                raw.consumed,
                                "gzip member and zero bytes",
                                "neither zero padding nor a gzip member",
                            ));
                        }
                    }
                }
                Some(_) => {
                    return Err(trailing(
                        raw.consumed,
                        "gzip member",
                        "neither a gzip member nor zero padding",
                    ))
                }
            }
        }
    }
}

/// The decoded text of a zstd file of one or more frames (skippable ones
/// included), and nothing after them.
pub(super) struct ZstdFrames<R: BufRead> {
    frame: Option<zstd::stream::read::Decoder<'static, Counted<Peeked<R>>>>,
    /// The current frame's content size, when its header declares it.
    declared: Option<u64>,
    /// How much of the current frame has been returned.
    returned: u64,
}

impl<R: BufRead> ZstdFrames<R> {
    pub(super) fn new(raw: R) -> std::io::Result<Self> {
        let mut frames = ZstdFrames {
            frame: None,
            declared: None,
            returned: 0,
        };
        frames.start(Counted::new(Peeked {
            head: Vec::new(),
            at: 0,
            inner: raw,
        }))?;
        Ok(frames)
    }

    /// Starts the frame at the front of `raw`, noting the content size its
    /// header declares.
    fn start(&mut self, mut raw: Counted<Peeked<R>>) -> std::io::Result<()> {
        self.declared = zstd::zstd_safe::get_frame_content_size(raw.inner.peek(HEADER_MAX)?)
            .ok()
            .flatten();
        self.returned = 0;
        self.frame = Some(zstd::stream::read::Decoder::with_buffer(raw)?.single_frame());
        Ok(())
    }

    /// A decoding error of the current frame. A wrong checksum is found once
    /// the whole frame is decoded, but the decoder drops what the failing
    /// read decoded (the whole frame, when the reader's buffer held it): the
    /// bytes of the frame's declared size not returned are counted as
    /// decoded ([`Unreturned`]), so that a whole run (reading into a large
    /// buffer) and a run in chunks (a piece at a time) name the same offset.
    fn failed(&self, e: std::io::Error) -> std::io::Error {
        match self.declared {
            Some(size) if size > self.returned && e.to_string().contains("checksum") => {
                std::io::Error::new(
                    e.kind(),
                    Unreturned {
                        bytes: size - self.returned,
                        message: e.to_string(),
                    },
                )
            }
            _ => e,
        }
    }
}

/// The most bytes a zstd frame's header takes.
const HEADER_MAX: usize = 18;

/// A reader that can look `n` bytes ahead however its buffer is cut (a
/// stream whose first bytes were read apart to tell its format hands them
/// over 4 bytes first): the bytes looked at are read into `head` and served
/// from there first.
pub(super) struct Peeked<R> {
    head: Vec<u8>,
    at: usize,
    inner: R,
}

impl<R: BufRead> Peeked<R> {
    /// The next `n` bytes, or fewer at the end of the stream.
    fn peek(&mut self, n: usize) -> std::io::Result<&[u8]> {
        while self.head.len() - self.at < n {
            let more = match self.inner.fill_buf() {
                Ok(more) => more,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if more.is_empty() {
                break;
            }
            let take = more.len().min(n - (self.head.len() - self.at));
            self.head.extend_from_slice(&more[..take]);
            self.inner.consume(take);
        }
        let end = self.head.len().min(self.at + n);
        Ok(&self.head[self.at..end])
    }
}

impl<R: BufRead> Read for Peeked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let have = self.fill_buf()?;
        let n = have.len().min(buf.len());
        buf[..n].copy_from_slice(&have[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Peeked<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at < self.head.len() {
            Ok(&self.head[self.at..])
        } else {
            self.inner.fill_buf()
        }
    }

    fn consume(&mut self, amount: usize) {
        if self.at < self.head.len() {
            self.at += amount;
            if self.at >= self.head.len() {
                self.head.clear();
                self.at = 0;
            }
        } else {
            self.inner.consume(amount);
        }
    }
}

/// A frame's decoding error after `bytes` more decoded bytes than were
/// returned (see [`ZstdFrames::failed`]).
#[derive(Debug)]
pub(super) struct Unreturned {
    pub(super) bytes: u64,
    message: String,
}

impl std::fmt::Display for Unreturned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unreturned {}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(frame) = self.frame.as_mut() else {
                return Ok(0);
            };
            let n = match frame.read(buf) {
                Ok(n) => n,
                Err(e) => return Err(self.failed(e)),
            };
            self.returned += n as u64;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let mut raw = self.frame.take().expect("a frame").into_inner();
            let next = raw.fill_buf()?;
            match next.first() {
                None => return Ok(0),
                // A frame (0xFD2FB528) or a skippable one (0x184D2A5?),
                // little-endian: its header says the rest.
                Some(&b) if b == 0x28 || b & 0xF0 == 0x50 => self.start(raw)?,
                Some(_) => {
                    return Err(trailing(
                        raw.consumed,
                        "zstd frame",
                        "not a zstd frame (the zstd tool refuses it too)",
                    ))
                }
            }
        }
    }
}
