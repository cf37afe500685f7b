//! A Parquet file's column chunks and pages, checked by their headers before
//! any page is read. The reader decompresses a page whole, so a file of a few
//! hundred kilobytes whose pages decompress to a gigabyte each (pyarrow
//! writes pages of 1,024 values, however large) would take that gigabyte
//! whatever `--memory-limit` says: under a limit, a page larger than the
//! limit leaves room for is refused by name before it is read.

use crate::error::{Error, Result};
use ::parquet::file::metadata::ParquetMetaData;
use ::parquet::file::reader::ChunkReader;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Thrift compact protocol types (what a field or element holds).
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

/// Structs nested deeper than this in a page header are refused (a page
/// header nests three deep; a crafted one could nest until the stack ends).
const MAX_DEPTH: u32 = 16;

/// A run under a memory limit gives the pages being read at most this share
/// of it (`1 / PAGE_SHARE`): what they decode to and the records made of
/// them take as much again, twice at most.
pub(crate) const PAGE_SHARE: u64 = 4;

/// The pages being read may take this much at any limit (writers make pages
/// of about 1 MB, and a row more).
pub(crate) const MIN_PAGE_BUDGET: u64 = 4 << 20;

/// The page type of a dictionary page.
const DICTIONARY_PAGE: i64 = 2;

fn corrupt(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_owned(),
        message: format!("corrupt Parquet file: {what}"),
    }
}

/// Checks that every column chunk of `meta` lies within the file's `len`
/// bytes (the reader asserts it, and would panic on a crafted footer).
///
/// # Errors
/// An [`Error::Parquet`] naming the row group and column.
pub(crate) fn check_chunks(path: &Path, meta: &ParquetMetaData, len: u64) -> Result<()> {
    for (g, group) in meta.row_groups().iter().enumerate() {
        for column in group.columns() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inside = u64::try_from(start).ok().zip(u64::try_from(size).ok());
            if inside.is_none_or(|(s, n)| s.checked_add(n).is_none_or(|end| end > len)) {
                return Err(corrupt(
                    path,
                    format!(
                        "row group {g}, column {}: its pages ({size} bytes at byte {start}) are not within the file's {len} bytes",
                        column.column_path().string()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The memory the pages of one column chunk take while they are read: its
/// dictionary page (held while the chunk is read), and its largest data
/// page, compressed and decompressed at once.
#[derive(Default, Clone, Copy)]
struct ChunkPages {
    dictionary: u64,
    largest: u64,
}

/// Refuses the Parquet file `path` (read from `data`, its footer `meta`)
/// when, for the columns `read` chooses (by their leaf index), one row
/// group's pages take more than `budget` bytes while they are read: every
/// column's dictionary and largest page together (a reader holds a page of
/// every column it reads at once). Each page's header is read (a few bytes
/// a page), never a page.
///
/// # Errors
/// [`Error::TooLarge`] naming the column, row group and page size, and how
/// much `--memory-limit` would take; a header that cannot be read is a
/// corrupt file ([`Error::Parquet`]).
pub(crate) fn check_pages<T: ChunkReader>(
    path: &Path,
    data: &T,
    meta: &ParquetMetaData,
    read: &dyn Fn(usize) -> bool,
    budget: u64,
) -> Result<()> {
    for (g, group) in meta.row_groups().iter().enumerate() {
        let mut total = 0u64;
        let mut widest = (0u64, String::new());
        for (c, column) in group.columns().iter().enumerate() {
            if !read(c) {
                continue;
            }
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            // (Checked by `check_chunks`.)
            let start = u64::try_from(start).unwrap_or(0);
            let len = u64::try_from(column.compressed_size()).unwrap_or(0);
            let pages = chunk_pages(data, start, len).map_err(|what| {
                corrupt(
                    path,
                    format!(
                        "row group {g}, column {}: {what}",
                        column.column_path().string()
                    ),
                )
            })?;
            let takes = pages.dictionary.saturating_add(pages.largest);
            total = total.saturating_add(takes);
            if takes > widest.0 {
                widest = (takes, column.column_path().string());
            }
        }
        if total > budget {
            return Err(Error::TooLarge {
                path: path.to_owned(),
                message: format!(
                    "row group {g}: its pages take {total} bytes while they are read (column {}: {} bytes), more than this run's memory limit leaves for them ({budget} bytes; a page is decompressed whole); raise --memory-limit to {} or more, or write the file with smaller pages",
                    widest.1,
                    widest.0,
                    crate::sizes::human_bytes(total.saturating_mul(PAGE_SHARE)),
                ),
            });
        }
    }
    Ok(())
}

/// Walks the page headers of the column chunk of `len` bytes at `start`.
fn chunk_pages<T: ChunkReader>(
    data: &T,
    start: u64,
    len: u64,
) -> std::result::Result<ChunkPages, String> {
    let end = start + len;
    let mut at = start;
    let mut pages = ChunkPages::default();
    while at < end {
        let read = data
            .get_read(at)
            .map_err(|e| format!("page at byte {at}: {e}"))?;
        let mut header = Compact {
            inner: BufReader::with_capacity(4096, read),
            read: 0,
            most: end - at,
        };
        let sizes = header
            .page_header()
            .map_err(|e| format!("page header at byte {at}: {e}"))?;
        at += header.read;
        let (Ok(uncompressed), Ok(compressed)) = (
            u64::try_from(sizes.uncompressed),
            u64::try_from(sizes.compressed),
        ) else {
            return Err(format!("page at byte {at}: a negative size"));
        };
        if compressed > end - at {
            return Err(format!(
                "page at byte {at}: {compressed} bytes, past the end of its column chunk"
            ));
        }
        at += compressed;
        if sizes.kind == DICTIONARY_PAGE {
            pages.dictionary = pages.dictionary.saturating_add(uncompressed);
        } else {
            pages.largest = pages.largest.max(uncompressed.saturating_add(compressed));
        }
    }
    Ok(pages)
}

/// What a page header says of its page.
struct PageSizes {
    kind: i64,
    uncompressed: i64,
    compressed: i64,
}

/// A reader of Thrift's compact protocol: enough of it to read a page
/// header's first fields and skip the rest, counting the bytes read, at
/// most `most`.
struct Compact<R> {
    inner: R,
    read: u64,
    most: u64,
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl<R: BufRead> Compact<R> {
    fn byte(&mut self) -> std::io::Result<u8> {
        let mut b = [0u8];
        self.bytes(1)?;
        self.inner.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// Counts `n` more bytes read.
    fn bytes(&mut self, n: u64) -> std::io::Result<()> {
        self.read = self.read.saturating_add(n);
        if self.read > self.most {
            return Err(bad("past the end of its column chunk"));
        }
        Ok(())
    }

    fn varint(&mut self) -> std::io::Result<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad("a number of more than 64 bits"))
    }

    #[allow(clippy::cast_possible_wrap)]
    fn zigzag(&mut self) -> std::io::Result<i64> {
        let n = self.varint()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn skip_bytes(&mut self, n: u64) -> std::io::Result<()> {
        self.bytes(n)?;
        let skipped = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())?;
        if skipped < n {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Skips a value of type `kind` (an element of a list or map when
    /// `element`: a boolean is a byte there, nothing in a field).
    fn skip(&mut self, kind: u8, element: bool, depth: u32) -> std::io::Result<()> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deep"));
        }
        match kind {
            BOOL_TRUE | BOOL_FALSE if !element => Ok(()),
            BOOL_TRUE | BOOL_FALSE | BYTE => self.skip_bytes(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.skip_bytes(8),
            BINARY => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            LIST | SET => {
                let head = self.byte()?;
                let mut n = u64::from(head >> 4);
                if n == 15 {
                    n = self.varint()?;
                }
                for _ in 0..n {
                    self.skip(head & 0x0f, true, depth + 1)?;
                }
                Ok(())
            }
            MAP => {
                let n = self.varint()?;
                if n > 0 {
                    let kinds = self.byte()?;
                    for _ in 0..n {
                        self.skip(kinds >> 4, true, depth + 1)?;
                        self.skip(kinds & 0x0f, true, depth + 1)?;
                    }
                }
                Ok(())
            }
            STRUCT => self.fields(depth + 1, &mut |_, _, _| Ok(false)),
            _ => Err(bad("an unknown Thrift type")),
        }
    }

    /// Reads a struct's fields up to its end: `take(self, id, kind)` reads
    /// the fields it wants (and says so), the others are skipped.
    fn fields(
        &mut self,
        depth: u32,
        take: &mut dyn FnMut(&mut Self, i64, u8) -> std::io::Result<bool>,
    ) -> std::io::Result<()> {
        let mut id = 0i64;
        loop {
            let head = self.byte()?;
            if head == 0 {
                return Ok(());
            }
            let kind = head & 0x0f;
            id = match head >> 4 {
                0 => self.zigzag()?,
                delta => id + i64::from(delta),
            };
            if !take(self, id, kind)? {
                self.skip(kind, false, depth)?;
            }
        }
    }

    /// Reads a page header: its type and sizes (fields 1 to 3).
    fn page_header(&mut self) -> std::io::Result<PageSizes> {
        let mut found = [None; 3];
        self.fields(0, &mut |me, id, kind| {
            if kind != I32 || !(1..=3).contains(&id) {
                return Ok(false);
            }
            let at = usize::try_from(id - 1).expect("1 to 3");
            found[at] = Some(me.zigzag()?);
            Ok(true)
        })?;
        match found {
            [Some(kind), Some(uncompressed), Some(compressed)] => Ok(PageSizes {
                kind,
                uncompressed,
                compressed,
            }),
            _ => Err(bad("no page type or size")),
        }
    }
}
