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
    frame: Option<zstd::stream::read::Decoder<'static, Counted<R>>>,
}

impl<R: BufRead> ZstdFrames<R> {
    pub(super) fn new(raw: R) -> std::io::Result<Self> {
        Ok(ZstdFrames {
            frame: Some(Self::frame(Counted::new(raw))?),
        })
    }

    fn frame(raw: Counted<R>) -> std::io::Result<zstd::stream::read::Decoder<'static, Counted<R>>> {
        Ok(zstd::stream::read::Decoder::with_buffer(raw)?.single_frame())
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(frame) = self.frame.as_mut() else {
                return Ok(0);
            };
            let n = frame.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let mut raw = self.frame.take().expect("a frame").into_inner();
            let next = raw.fill_buf()?;
            match next.first() {
                None => return Ok(0),
                // A frame (0xFD2FB528) or a skippable one (0x184D2A5?),
                // little-endian: its header says the rest.
                Some(&b) if b == 0x28 || b & 0xF0 == 0x50 => self.frame = Some(Self::frame(raw)?),
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
