//! Report entries written to an unnamed file as they come and streamed back
//! when the report is written.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Documents of a report written to an unnamed temporary file, one JSON
/// object a line, so that a report larger than memory can be written.
#[derive(Debug)]
pub struct Spool {
    pub(super) file: std::io::BufWriter<std::fs::File>,
    pub(super) count: usize,
    /// Bytes written.
    pub(super) len: u64,
    /// The directory it is in (where reading it back may put more).
    pub(super) dir: std::path::PathBuf,
}

impl PartialEq for Spool {
    fn eq(&self, other: &Spool) -> bool {
        self.count == other.count
    }
}

impl Spool {
    /// An empty spool in `dir`.
    ///
    /// # Errors
    /// When the temporary file cannot be made.
    pub fn new(dir: &std::path::Path) -> std::io::Result<Spool> {
        Ok(Spool {
            file: std::io::BufWriter::with_capacity(1 << 20, crate::error::temp_file(dir)?),
            count: 0,
            len: 0,
            dir: dir.to_path_buf(),
        })
    }

    /// Appends `item`'s JSON (and a line break); returns where that JSON is,
    /// for [`Spool::read_at`].
    pub(super) fn push<T: Serialize>(&mut self, item: &T) -> std::io::Result<(u64, u32)> {
        let json = serde_json::to_vec(item).map_err(std::io::Error::from)?;
        self.push_raw(&json)
    }

    /// Appends JSON already made (one line, without its line break); returns
    /// where it is, as [`Spool::push`] does.
    pub(super) fn push_raw(&mut self, json: &[u8]) -> std::io::Result<(u64, u32)> {
        use std::io::Write as _;
        self.file.write_all(json)?;
        self.file.write_all(b"\n")?;
        self.count += 1;
        let at = (self.len, u32::try_from(json.len()).unwrap_or(u32::MAX));
        self.len += json.len() as u64 + 1;
        Ok(at)
    }

    /// Appends one entry that `fill` writes straight into the file (and a
    /// line break): an entry too large to hold, such as a cluster of
    /// millions of records.
    pub(super) fn push_streamed(
        &mut self,
        fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use std::io::Write as _;
        let mut out = crate::output::CountingWriter {
            inner: &mut self.file,
            written: 0,
        };
        fill(&mut out)?;
        let written = out.written;
        self.file.write_all(b"\n")?;
        self.count += 1;
        self.len += written + 1;
        Ok(())
    }

    /// The spool's bytes `start..end` (entries end in line breaks), for
    /// entries written and flushed: read where they are, through a buffer of
    /// their size up to a megabyte (a report's clusters of a few one-line
    /// records read a megabyte apiece with a megabyte's buffer: a third of a
    /// chunked run's time).
    pub(super) fn read_back(&self, (start, end): (u64, u64)) -> std::io::BufReader<Stretch<'_>> {
        let len = end.saturating_sub(start);
        std::io::BufReader::with_capacity(
            usize::try_from(len.min(1 << 20)).unwrap_or(1 << 20),
            Stretch {
                file: self.file.get_ref(),
                at: start,
                end: start.saturating_add(len),
            },
        )
    }

    /// Copies every entry to `out`, each after a comma unless it is the
    /// first (`first` says whether one was written before), a piece at a
    /// time: an entry is never held whole.
    fn copy_entries(&self, first: &mut bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.copy_lines((0, self.len), first, out)
    }

    /// [`Spool::copy_entries`] for the entries between two offsets (each
    /// ending in its line break), as [`Spool::read_back`] reads them.
    pub(super) fn copy_lines(
        &self,
        range: (u64, u64),
        first: &mut bool,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        self.for_each_piece(range, |part, starts, _| {
            if starts {
                if !*first {
                    out.write_all(b",")?;
                }
                *first = false;
            }
            out.write_all(part)
        })
    }

    /// Copies every entry (a JSON object) to `out` as a line of its own
    /// that begins with `open` in place of the entry's `{`: a JSON Lines
    /// report's `{"type":"cluster",` and a cluster's fields, streamed (a
    /// cluster's line is never held whole).
    pub(super) fn copy_as_lines(
        &self,
        open: &[u8],
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        self.for_each_piece((0, self.len), |part, starts, ends| {
            let part = if starts {
                let Some(rest) = part.strip_prefix(b"{") else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "a report spool entry is not a JSON object",
                    ));
                };
                out.write_all(open)?;
                rest
            } else {
                part
            };
            out.write_all(part)?;
            if ends {
                out.write_all(b"\n")?;
            }
            Ok(())
        })
    }

    /// Calls `f` with the entries between two offsets a piece at a time, as
    /// [`Spool::read_back`] reads them (never an entry whole): each piece
    /// without its line break, whether it starts an entry and whether it
    /// ends one.
    fn for_each_piece(
        &self,
        (start, end): (u64, u64),
        mut f: impl FnMut(&[u8], bool, bool) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use std::io::BufRead as _;
        let mut reader = self.read_back((start, end));
        let mut at_start = true;
        loop {
            let piece = reader.fill_buf()?;
            if piece.is_empty() {
                return Ok(());
            }
            let (part, ends) = match memchr::memchr(b'\n', piece) {
                Some(i) => (&piece[..i], true),
                None => (piece, false),
            };
            f(part, at_start, ends)?;
            at_start = ends;
            let used = part.len() + usize::from(ends);
            reader.consume(used);
        }
    }

    /// The first `n` clusters spooled, each with its first
    /// [`SHOWN_MEMBERS`] members only (read as they stream by: a cluster's
    /// line is never held whole).
    ///
    /// # Errors
    /// When the file cannot be read back, or holds something else.
    pub(super) fn first_clusters(&self, n: usize) -> std::io::Result<Vec<ClusterReport>> {
        serde_json::Deserializer::from_reader(self.read_back((0, self.len)))
            .into_iter::<ClusterHead>()
            .take(n)
            .map(|c| {
                c.map(ClusterHead::into_report)
                    .map_err(std::io::Error::from)
            })
            .collect()
    }

    /// The JSON `push` wrote at `at` (read where it is: the file's offset,
    /// where later pushes go on, is left alone).
    pub(super) fn read_at(
        &mut self,
        (at, len): (u64, u32),
        buf: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        use std::io::Write as _;
        self.file.flush()?;
        buf.resize(len as usize, 0);
        std::os::unix::fs::FileExt::read_exact_at(self.file.get_ref(), buf, at)
    }

    /// Makes everything written so far readable.
    pub(super) fn flush(&mut self) -> std::io::Result<()> {
        use std::io::Write as _;
        self.file.flush()
    }
}

/// Bytes `at..end` of a spool's file, read where they are (positioned
/// reads: neither a second descriptor nor the file's offset).
pub(super) struct Stretch<'f> {
    file: &'f std::fs::File,
    at: u64,
    end: u64,
}

impl std::io::Read for Stretch<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let most = usize::try_from(self.end.saturating_sub(self.at)).unwrap_or(usize::MAX);
        let want = buf.len().min(most);
        if want == 0 {
            return Ok(0);
        }
        let n = std::os::unix::fs::FileExt::read_at(self.file, &mut buf[..want], self.at)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the report's spool ended early",
            ));
        }
        self.at += n as u64;
        Ok(n)
    }
}

/// Writes the entries of a JSON list, comma-separated: `held` (serialized on
/// every thread, 256 a task, 4,096 at a time), then those in `spool`.
pub(super) fn write_entries<T: Serialize + Sync>(
    held: &[T],
    spool: Option<&Spool>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut first = true;
    for batch in held.chunks(4096) {
        let parts: Vec<Vec<u8>> = batch
            .par_chunks(256)
            .map(|items| {
                let mut part = Vec::new();
                for item in items {
                    part.push(b',');
                    serde_json::to_writer(&mut part, item).expect("a report entry serializes");
                }
                part
            })
            .collect();
        for part in &parts {
            // The list's first entry has no comma before it.
            out.write_all(&part[usize::from(first)..])?;
            first = false;
        }
    }
    if let Some(spool) = spool {
        spool.copy_entries(&mut first, out)?;
    }
    Ok(())
}

/// Members of a cluster a text report shows at most (four dropped, and the
/// kept one among them).
pub const SHOWN_MEMBERS: usize = 5;

/// A spooled cluster with its first [`SHOWN_MEMBERS`] members.
#[derive(Deserialize)]
struct ClusterHead {
    id: usize,
    size: usize,
    representative: DocRef,
    kept: DocRef,
    #[serde(deserialize_with = "first_members")]
    members: Vec<ClusterMember>,
}

impl ClusterHead {
    fn into_report(self) -> ClusterReport {
        ClusterReport {
            id: self.id,
            size: self.size,
            representative: self.representative,
            kept: self.kept,
            members: self.members,
        }
    }
}

/// The first [`SHOWN_MEMBERS`] of a list of members; the rest are read past.
fn first_members<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ClusterMember>, D::Error> {
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Vec<ClusterMember>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of cluster members")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut kept = Vec::new();
            while let Some(member) = seq.next_element::<ClusterMember>()? {
                kept.push(member);
                if kept.len() == SHOWN_MEMBERS {
                    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                    break;
                }
            }
            Ok(kept)
        }
    }
    d.deserialize_seq(First)
}

/// Calls `f` with each of `held`, then each entry read back from `spool`.
pub(super) fn held_then_spooled<T: serde::de::DeserializeOwned>(
    held: &[T],
    spool: Option<&Spool>,
    f: &mut dyn FnMut(&T),
) -> std::io::Result<()> {
    for item in held {
        f(item);
    }
    match spool {
        Some(spool) => spool.for_each_entry(&mut |item: T| f(&item)),
        None => Ok(()),
    }
}

impl Spool {
    /// Calls `f` with each entry, read as `T`.
    ///
    /// # Errors
    /// When the file cannot be read back, or holds something else.
    pub(super) fn for_each_entry<T: serde::de::DeserializeOwned>(
        &self,
        f: &mut dyn FnMut(T),
    ) -> std::io::Result<()> {
        // Read from the file as parsed, not a line at a time: a document of
        // 200,000 repeated paragraphs has an entry of 130 MB.
        let entries = serde_json::Deserializer::from_reader(self.read_back((0, self.len)));
        for item in entries.into_iter::<T>() {
            f(item.map_err(std::io::Error::from)?);
        }
        Ok(())
    }
}

/// A near-duplicate cluster without its members, as a walk over them sees it.
#[derive(Clone, Copy, Debug)]
pub struct ClusterHeadRef<'a> {
    /// The representative's document index.
    pub id: usize,
    /// How many members it has.
    pub size: usize,
    /// The document the cluster is named by.
    pub representative: &'a DocRef,
    /// The member kept.
    pub kept: &'a DocRef,
}

/// Calls `f` with each member of each cluster spooled in `spool`, read one
/// member at a time: a cluster of a million records, or of records with
/// megabyte ids, is never held whole.
pub(super) fn for_each_spooled_member(
    spool: &Spool,
    f: &mut dyn FnMut(ClusterHeadRef<'_>, &ClusterMember),
) -> std::io::Result<()> {
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_reader(spool.read_back((0, spool.len)));
    for _ in 0..spool.count {
        MemberWalk { f: &mut *f }
            .deserialize(&mut de)
            .map_err(std::io::Error::from)?;
    }
    Ok(())
}

/// Reads one spooled cluster, handing its members to `f` as they are read
/// (its head fields come first: the spool writes them so).
struct MemberWalk<'f> {
    f: &'f mut dyn FnMut(ClusterHeadRef<'_>, &ClusterMember),
}

impl<'de> serde::de::DeserializeSeed<'de> for MemberWalk<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MemberWalk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a near-duplicate cluster")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        let (mut id, mut size, mut representative, mut kept) = (None, None, None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "id" => id = Some(map.next_value::<usize>()?),
                "size" => size = Some(map.next_value::<usize>()?),
                "representative" => representative = Some(map.next_value::<DocRef>()?),
                "kept" => kept = Some(map.next_value::<DocRef>()?),
                "members" => {
                    let (Some(id), Some(size), Some(representative), Some(kept)) =
                        (id, size, representative.as_ref(), kept.as_ref())
                    else {
                        return Err(A::Error::custom("cluster members before its head"));
                    };
                    let head = ClusterHeadRef {
                        id,
                        size,
                        representative,
                        kept,
                    };
                    let f = &mut *self.f;
                    map.next_value_seed(super::each::Each::new(
                        "a list of cluster members",
                        |member: ClusterMember| f(head, &member),
                    ))?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}
