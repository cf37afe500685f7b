//! One index file (or a run's unnamed scratch segment): its header, table and
//! checksums, read with positioned reads and checked a chunk at a time, and
//! the look-ups into its sections.

use super::{
    IndexParams, Meta, SectionEntry, BANDED_LEN, BANDED_SHINGLES, BAND_LEN, BLOCK_LEN, CHUNK, DATA,
    DATA_START, DOC_LEN, EXACT_LEN, FEW_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC, MEMBER_LEN,
    OLDEST_READ, POSTING_LEN,
};
use crate::error::{Error, Result};
use crate::prior::{BlockRecord, DocRecord};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use xxhash_rust::xxh3::{xxh3_64, Xxh3Default};

pub use super::reader::Reader;

pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The sections look-ups use, read from the table once.
#[derive(Clone, Copy, Default)]
pub(super) struct Hot {
    pub(super) docs: SectionEntry,
    pub(super) blocks: SectionEntry,
    pub(super) exact: (SectionEntry, SectionEntry),
    pub(super) postings: (SectionEntry, SectionEntry),
    pub(super) bands: (SectionEntry, SectionEntry),
    pub(super) few: (SectionEntry, SectionEntry),
    /// `banded_shingles` and its directory, when the file has them.
    pub(super) banded: Option<(SectionEntry, SectionEntry)>,
    /// The lengths in bytes of the sections documents' and blocks' records
    /// point into: `doc_shingles`, `block_shingles` and `strings`.
    pub(super) lists: [u64; 3],
}

impl Hot {
    pub(super) fn of(meta: &Meta) -> Hot {
        let entry = |name: &str| meta.sections.get(name).copied().unwrap_or_default();
        let with_dir = |name: &str| (entry(name), entry(&format!("{name}.dir")));
        Hot {
            docs: entry("docs"),
            blocks: entry("blocks"),
            exact: with_dir("exact"),
            postings: with_dir("postings"),
            bands: with_dir("bands"),
            few: with_dir("few"),
            banded: meta
                .sections
                .contains_key(BANDED_SHINGLES)
                .then(|| with_dir(BANDED_SHINGLES)),
            lists: ["doc_shingles", "block_shingles", "strings"].map(|name| entry(name).len),
        }
    }
}

/// One index file, read with positioned reads (`pread`) and checked chunk by
/// chunk as it is read. Nothing of it is mapped: what a run reads stays in the
/// page cache, outside the process's resident set, so a run's memory is its
/// heap (with a mapping, each fault mapped up to 2 MiB of cached pages around
/// a look-up, and a 5 GB corpus's run held a gigabyte of them for moments).
/// Its documents and blocks are numbered from `doc_base` and `block_base` on
/// (0 for an index a user builds; later for the segments of a chunked run).
pub struct Segment {
    pub(super) doc_base: usize,
    pub(super) block_base: usize,
    pub(super) hot: Hot,
    pub(super) path: PathBuf,
    pub(super) file: File,
    pub(super) len: usize,
    /// The format version of the file.
    pub(super) version: u32,
    pub(super) meta: Meta,
    /// One bit per data chunk: already checked against its checksum.
    pub(super) checked: Vec<AtomicU64>,
    pub(super) sums: Vec<u64>,
    /// Reads of the file made by look-ups (see `Segment::reads`; kept for
    /// the tests alone).
    #[cfg(test)]
    pub(super) reads: AtomicU64,
    /// The first corruption or read error a look-up found; the run ends with it.
    pub(super) corrupt: OnceLock<String>,
    /// An update's exclusive lock, kept while the index is open.
    pub(super) _lock: Option<crate::targets::LockDescriptor>,
    /// A run's scratch segment, its bytes counted (see `spent.rs`).
    pub(super) scratch: bool,
    /// A merge's input, given back as the merge reads it (see `spent.rs`).
    pub(super) spent: bool,
    /// The data before this byte was given back (spent segments).
    pub(super) released: AtomicU64,
    /// Bytes of it given back that the file system kept (no holes).
    pub(super) unpunched: AtomicU64,
}

/// Reads `buf.len()` bytes of `file` at `at`.
#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

/// Reads `buf.len()` bytes of `file` at `at`.
#[cfg(windows)]
pub(crate) fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// How much a walk or a merge reads at once, and how many such windows a
/// [`Reader`] keeps (a walk reads a directory and its records in turn; a
/// merge two places of a segment).
pub(super) const WINDOW: usize = 64 << 10;
pub(super) const WINDOWS: usize = 4;
/// Chunks a [`Segment::looker`] keeps: its callers read four or five places
/// in turn (records of documents and of blocks, their ids, shingles, and
/// the records of representatives a little earlier), and a few more keep
/// them from pushing each other out where records straddle chunks.
pub(super) const LOOKER_WINDOWS: usize = 8;

/// The lock file beside an index: beside the file a symbolic link names, so
/// that runs naming one index through a link and by its own name take one
/// lock (the update replaces that file).
#[must_use]
pub fn lock_path(path: &Path) -> PathBuf {
    let path = crate::targets::resolve(path);
    if let Some(name) = path.file_name() {
        return path.with_file_name(crate::input::lock_name(name));
    }
    let mut name = path.into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Refuses a run whose `writes` include the lock file of an index: of one
/// of `indexes` (those it reads or writes), or of any neardup index beside a
/// write named `INDEX.lock`.
///
/// # Errors
/// A [`Error::Usage`] naming the write and the index.
pub fn check_locks(indexes: &[&Path], writes: &[crate::targets::Use]) -> Result<()> {
    use crate::targets::Use;
    let shown = |p: &Path| crate::escape::shown_path(p);
    let mut locks: Vec<Use> = indexes
        .iter()
        .map(|index| Use::new(lock_path(index), shown(index)))
        .collect();
    for w in writes {
        let index = w.path.with_extension("");
        if w.path.extension().is_some_and(|e| e == "lock") && crate::input::is_index_file(&index) {
            locks.push(Use::new(w.path.clone(), shown(&index)));
        }
    }
    crate::targets::check_not_locks(&locks, writes)
}

/// An index's exclusive lock, taken by [`lock`]. When this run created the
/// lock file, the file is removed when the lock is dropped unless
/// [`Lock::keep`] was called (the run succeeded): a failed run leaves no
/// lock file behind. The removal happens while the lock is held, and a run
/// that takes a lock checks that its file is still the one by that name,
/// so that a run waiting on a removed file takes the lock again. Its
/// descriptors are let go of in a child this process forks
/// ([`crate::targets::LockDescriptor`]): a child holds none of its parent's
/// locks, and removes none of their files.
pub struct Lock {
    file: crate::targets::LockDescriptor,
    created: Option<PathBuf>,
    /// The process that took it.
    pid: u32,
}

impl Lock {
    /// Another descriptor of the same lock (held until both are closed).
    ///
    /// # Errors
    /// When the descriptor cannot be duplicated.
    pub fn share(&self) -> std::io::Result<crate::targets::LockDescriptor> {
        self.file.try_clone()
    }

    /// Keeps the lock file when the lock goes (the run succeeded).
    pub fn keep(&mut self) {
        if let Some(path) = self.created.take() {
            crate::targets::forget_created(&path);
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // A forked child's copy (a Python callback forked, and the child
            // went on with the run): the file is the parent's lock's.
            return;
        }
        if let Some(path) = self.created.take() {
            // Still held: no other run has taken it, and one waiting on it
            // finds the name gone and takes a new one.
            let _ = std::fs::remove_file(&path);
            crate::targets::forget_created(&path);
        }
    }
}

/// Whether `path` names the open file `file` (a lock file removed and
/// perhaps made anew while a run waited on it does not).
fn still_named(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Takes the index's exclusive lock (`PATH.lock`) for an update, saying so on
/// stderr and waiting when another run holds it; then removes temporary
/// files that dead runs left beside the index ([`crate::targets::sweep`]).
/// The directories and the lock file it creates are removed if the run
/// fails ([`Lock`], [`crate::targets::remove_created`]).
///
/// # Errors
/// When the lock file cannot be created or locked.
pub fn lock(path: &Path) -> Result<Lock> {
    let lock = lock_path(path);
    let dir = lock
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut said = false;
    loop {
        crate::targets::create_dirs(dir).map_err(|e| Error::io(dir, e))?;
        let open = |new: bool| {
            std::fs::OpenOptions::new()
                .create_new(new)
                .read(true)
                .write(true)
                .open(&lock)
        };
        let (file, created) = match open(true) {
            Ok(file) => {
                crate::targets::note_created(&lock);
                (file, Some(lock.clone()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match open(false) {
                Ok(file) => (file, None),
                // A symbolic link to nothing: making the file fails on the
                // link and opening it on its missing target, for ever (a
                // run spun on the two at full speed).
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound
                        && std::fs::symlink_metadata(&lock)
                            .is_ok_and(|m| m.file_type().is_symlink()) =>
                {
                    return Err(Error::io(
                        &lock,
                        std::io::Error::new(
                            e.kind(),
                            "the index's lock file is a symbolic link to a file that is not there; remove the link",
                        ),
                    ));
                }
                // Removed by a run that failed: make it anew.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&lock, e)),
            },
            Err(e) => return Err(Error::io(&lock, e)),
        };
        let mut taken = Lock {
            file: crate::targets::LockDescriptor::new(file),
            created,
            pid: std::process::id(),
        };
        match taken.file.file().try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                if !said {
                    crate::error::eprint_line(format_args!(
                        "neardup: {} is locked by another neardup run; waiting for it to finish",
                        crate::escape::shown_path(path)
                    ));
                    said = true;
                }
                if let Err(e) = wait_for_lock(taken.file.file()) {
                    taken.keep();
                    return Err(Error::io(&lock, e));
                }
            }
            Err(std::fs::TryLockError::Error(e)) => {
                // Not held: not ours to remove.
                taken.keep();
                return Err(Error::io(&lock, e));
            }
        }
        if !still_named(taken.file.file(), &lock) {
            // Not ours to remove (the name is gone or another file's now).
            taken.keep();
            continue;
        }
        // Temporary files of runs that died beside the index go now.
        crate::targets::sweep(dir);
        return Ok(taken);
    }
}

/// Waits for another run to let go of the index's lock: blocking, or, for a
/// run whose caller can stop it ([`crate::hooks`]: Ctrl-C in Python), in
/// slices of 100 ms between which it gives up when asked to (a blocking
/// wait kept Ctrl-C from Python until the other run ended).
///
/// # Errors
/// What locking says, or [`std::io::ErrorKind::Interrupted`] when the run
/// was asked to stop while it waited.
fn wait_for_lock(file: &std::fs::File) -> std::io::Result<()> {
    if crate::hooks::current().is_none() {
        return file.lock();
    }
    crate::hooks::wait_in_slices(
        "another neardup run to finish with the index",
        || match file.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(100));
                Ok(false)
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        },
    )
}

/// Whether `path` is an empty file, which is no index yet (`--index PATH`):
/// `--update` starts the index there, as `index build -o` and `index merge
/// -o` write over an empty file (`crate::targets::replaceable_index`; a
/// name `mktemp` made).
///
/// # Errors
/// An empty file read without `--update` (`update` false): said so.
pub fn empty_index(path: &Path, update: bool) -> Result<bool> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
        return Ok(false);
    }
    if update {
        return Ok(true);
    }
    Err(Error::Index {
        path: path.to_owned(),
        message: format!(
            "an empty file, no index yet; start it with `--index {} --update` or `neardup index build`",
            path.display()
        ),
    })
}

/// An error naming every setting an index was built with that this run changes.
pub(super) fn same_params(path: &Path, built: &IndexParams, run: &IndexParams) -> Result<()> {
    let differences = built.differences(run);
    if differences.is_empty() {
        return Ok(());
    }
    Err(Error::Index {
        path: path.to_owned(),
        message: format!(
            "built with other settings, which would give another answer: {}. Run with the index's settings, or rebuild it with `neardup index build`",
            differences.join(", ")
        ),
    })
}

pub(super) fn corrupt(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Index {
        path: path.to_owned(),
        message: format!("corrupt index: {what}; rebuild it with `neardup index build`"),
    }
}

/// The most bytes an index's table (its JSON [`Meta`]: settings, counts and
/// a dozen sections) may have; it has a few hundred.
const TABLE_MAX: u64 = 1 << 20;

/// The header of index file `path`, checked to be one of ours, of this
/// format version and as long as the file.
pub(super) fn header(path: &Path, file: &File) -> Result<[u8; HEADER_LEN]> {
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let not_ours = || Error::Index {
        path: path.to_owned(),
        message: "not a neardup index (no NEARDUPI header)".into(),
    };
    if len == 0 {
        // (Made by `touch` or `mktemp`, or left by a build that never ran.)
        return Err(Error::Index {
            path: path.to_owned(),
            message: "an empty file, no index yet; make one with `neardup index build` or a run's `--index PATH --update`".into(),
        });
    }
    let mut header = [0u8; HEADER_LEN];
    if len < HEADER_LEN as u64 {
        return Err(not_ours());
    }
    read_at(file, &mut header, 0).map_err(|e| Error::io(path, e))?;
    if &header[..8] != MAGIC {
        return Err(not_ours());
    }
    let version = u32_at(&header, 8);
    if !(OLDEST_READ..=FORMAT_VERSION).contains(&version) {
        return Err(Error::Index {
            path: path.to_owned(),
            message: format!(
                "index format version {version}, this neardup reads versions {OLDEST_READ} to {FORMAT_VERSION}; rebuild it with `neardup index build`"
            ),
        });
    }
    let file_len = u64_at(&header, 16);
    if file_len != len {
        return Err(corrupt(
            path,
            format_args!(
                "the file has {len} bytes, its header says {file_len} (truncated or extended)"
            ),
        ));
    }
    Ok(header)
}

impl Segment {
    /// Opens an index for look-ups. Readers take no lock: an update replaces
    /// the file by rename, so a reader keeps the version it opened. An update
    /// passes its exclusive `lock`, held as long as the index is open.
    ///
    /// # Errors
    /// A missing, truncated or corrupt file, another format version, or
    /// parameters other than `params` (when given).
    pub fn open(
        path: &Path,
        params: Option<&IndexParams>,
        lock: Option<crate::targets::LockDescriptor>,
    ) -> Result<Segment> {
        // `-` (`index stats -`) is standard input, not a file named so.
        if path == Path::new("-") {
            return Err(crate::targets::not_regular(path));
        }
        // Without O_NONBLOCK, opening a FIFO waits for a writer that may
        // never come; an index is mapped, so only a regular file will do.
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
        let file = options.open(path).map_err(|e| Error::io(path, e))?;
        if !file.metadata().map_err(|e| Error::io(path, e))?.is_file() {
            return Err(crate::targets::not_regular(path));
        }
        let segment = Segment::from_file(path, file, params, lock)?;
        // Only a chunked run's own segments (unnamed files) start later.
        let (first_document, first_block) = (segment.meta.first_document, segment.meta.first_block);
        if first_document != 0 || first_block != 0 {
            return Err(corrupt(
                path,
                format_args!("an index file numbers its documents and blocks from 0, this one from document {first_document} and block {first_block}"),
            ));
        }
        Ok(segment)
    }

    /// [`Segment::open`] of an open file, named `path` in messages (a
    /// chunked run's segments are unnamed files: a killed run leaves none).
    ///
    /// # Errors
    /// As [`Segment::open`].
    pub fn from_file(
        path: &Path,
        file: File,
        params: Option<&IndexParams>,
        lock: Option<crate::targets::LockDescriptor>,
    ) -> Result<Segment> {
        let header = header(path, &file)?;
        let (bytes, file_len): (&[u8], u64) = (&header, u64_at(&header, 16));
        let (table_at, table_len) = (u64_at(bytes, 24), u64_at(bytes, 32));
        let sums_at = u64_at(bytes, 40);
        let data_start = u64_at(bytes, 48);
        let in_file = |at: u64, len: u64| at.checked_add(len).is_some_and(|end| end <= file_len);
        if data_start != DATA_START
            || sums_at < data_start
            || !(sums_at - data_start).is_multiple_of(CHUNK as u64)
            || !in_file(table_at, table_len)
            || table_at < sums_at
        {
            return Err(corrupt(path, "the header's offsets are inconsistent"));
        }
        // The table (a few kilobytes of JSON) is read whole, before the
        // header's checksum can be checked: a header naming one of
        // gigabytes (a file of zeros with a header, or made so) was read
        // into memory whole, and a larger one than memory ran it out.
        if table_len > TABLE_MAX {
            return Err(corrupt(
                path,
                format_args!(
                    "the header (bytes 24..40) says its table has {table_len} bytes, more than \
                     any table's {TABLE_MAX}"
                ),
            ));
        }
        let chunks = usize::try_from((sums_at - data_start) / CHUNK as u64).unwrap_or(usize::MAX);
        let sums_len = chunks
            .checked_mul(8)
            .filter(|&l| in_file(sums_at, l as u64));
        let Some(sums_len) = sums_len else {
            return Err(corrupt(path, "the checksums run past the end of the file"));
        };
        #[allow(clippy::cast_possible_truncation)]
        let (sums_at, table_at, table_len) =
            (sums_at as usize, table_at as usize, table_len as usize);
        let mut sums_bytes = vec![0u8; sums_len];
        let mut table = vec![0u8; table_len];
        read_at(&file, &mut sums_bytes, sums_at as u64).map_err(|e| Error::io(path, e))?;
        read_at(&file, &mut table, table_at as u64).map_err(|e| Error::io(path, e))?;
        let mut hasher = Xxh3Default::new();
        hasher.update(&bytes[..56]);
        hasher.update(&sums_bytes);
        hasher.update(&table);
        if hasher.digest() != u64_at(bytes, 56) {
            return Err(corrupt(path, "header checksum mismatch"));
        }
        let meta: Meta = serde_json::from_slice(&table)
            .map_err(|e| corrupt(path, format_args!("unreadable table: {e}")))?;
        // Documents and blocks are numbered with 32 bits.
        let numbered = |first: u64, n: u64| {
            first
                .checked_add(n)
                .is_some_and(|end| u32::try_from(end).is_ok())
        };
        if !numbered(meta.first_document, meta.documents)
            || !numbered(meta.first_block, meta.blocks)
        {
            return Err(corrupt(
                path,
                "its document or block numbers are out of range",
            ));
        }
        for (name, s) in &meta.sections {
            if s.dir_bits > 32
                || !s.offset.is_multiple_of(CHUNK as u64)
                || s.offset < DATA_START
                || s.offset.saturating_add(s.len) > sums_at as u64
            {
                return Err(corrupt(
                    path,
                    format_args!("section {name} lies outside the data"),
                ));
            }
        }
        if let Some(params) = params {
            same_params(path, &meta.params, params)?;
        }
        let sums = sums_bytes.chunks_exact(8).map(|c| u64_at(c, 0)).collect();
        let checked = (0..chunks.div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        let history = Segment {
            hot: Hot::of(&meta),
            doc_base: usize::try_from(meta.first_document).unwrap_or(usize::MAX),
            block_base: usize::try_from(meta.first_block).unwrap_or(usize::MAX),
            path: path.to_owned(),
            file,
            len: usize::try_from(file_len).unwrap_or(usize::MAX),
            version: u32_at(bytes, 8),
            meta,
            checked,
            #[cfg(test)]
            reads: AtomicU64::new(0),
            sums,
            corrupt: OnceLock::new(),
            _lock: lock,
            scratch: false,
            spent: false,
            released: AtomicU64::new(DATA_START),
            unpunched: AtomicU64::new(0),
        };
        history.check_counts()?;
        Ok(history)
    }

    pub(super) fn check_counts(&self) -> Result<()> {
        let expect = [
            ("docs", self.meta.documents.checked_mul(DOC_LEN as u64)),
            ("blocks", self.meta.blocks.checked_mul(BLOCK_LEN as u64)),
        ];
        for (name, len) in expect {
            if Some(self.section(name).len) != len {
                return Err(corrupt(
                    &self.path,
                    format_args!("section {name} has the wrong length"),
                ));
            }
        }
        for (name, record) in [
            ("exact", EXACT_LEN),
            ("postings", POSTING_LEN),
            ("members", MEMBER_LEN),
            ("bands", BAND_LEN),
            ("few", FEW_LEN),
            ("few_sets", FEW_LEN),
            (BANDED_SHINGLES, BANDED_LEN),
            ("block_shingles", 8),
            ("doc_shingles", 8),
        ] {
            if !self.section(name).len.is_multiple_of(record as u64) {
                return Err(corrupt(
                    &self.path,
                    format_args!("section {name} has the wrong length"),
                ));
            }
        }
        Ok(())
    }

    /// The index file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads of this segment that read exactly what each look-up needs.
    #[must_use]
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            seg: self,
            ahead: 0,
            windows: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Reads of this segment that read ahead (64 KiB at a time): for walks
    /// in the order of its records and for merges.
    #[must_use]
    pub fn walker(&self) -> Reader<'_> {
        Reader {
            ahead: WINDOW,
            ..self.reader()
        }
    }

    /// Reads of this segment for look-ups scattered over it that are many
    /// and often side by side (records of neighbouring documents, a file
    /// name met again): each read is of the chunks that hold what is asked,
    /// as [`Segment::reader`]'s are, and a few of them are kept for the
    /// next look-ups.
    #[must_use]
    pub fn looker(&self) -> Reader<'_> {
        Reader {
            ahead: CHUNK,
            ..self.reader()
        }
    }

    /// Its table.
    #[must_use]
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Bytes of memory it holds while open: its table of sections and a
    /// checksum and a bit for each chunk of its data (the rest is read from
    /// the file as it is needed).
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        std::mem::size_of::<Segment>()
            + self.path.as_os_str().len()
            + self.meta.sections.len() * 64
            + self.checked.capacity() * std::mem::size_of::<AtomicU64>()
            + self.sums.capacity() * std::mem::size_of::<u64>()
    }

    /// Size of the file in bytes.
    #[must_use]
    pub fn file_len(&self) -> u64 {
        self.len as u64
    }

    /// The format version the file was written in.
    #[must_use]
    pub fn format_version(&self) -> u32 {
        self.version
    }

    /// Documents held.
    #[must_use]
    pub fn documents(&self) -> usize {
        usize::try_from(self.meta.documents).unwrap_or(usize::MAX)
    }

    /// Blocks held.
    #[must_use]
    pub fn blocks(&self) -> usize {
        usize::try_from(self.meta.blocks).unwrap_or(usize::MAX)
    }

    /// Records of a section.
    #[must_use]
    pub fn count(&self, name: &str) -> usize {
        let record = match name {
            "docs" => DOC_LEN,
            "blocks" => BLOCK_LEN,
            "exact" => EXACT_LEN,
            "postings" => POSTING_LEN,
            "members" => MEMBER_LEN,
            "bands" => BAND_LEN,
            "few" | "few_sets" => FEW_LEN,
            BANDED_SHINGLES => BANDED_LEN,
            _ => 8,
        };
        usize::try_from(self.section(name).len).unwrap_or(0) / record
    }

    /// Whether the file says which shingles its documents with band records
    /// hold (its `banded_shingles` section; see the module doc of `store`).
    #[must_use]
    pub fn knows_banded_shingles(&self) -> bool {
        self.hot.banded.is_some()
    }

    /// The first corruption a look-up found, if any: the answer is then void.
    ///
    /// # Errors
    /// That corruption.
    pub fn status(&self) -> Result<()> {
        match self.corrupt.get() {
            Some(message) => Err(corrupt(&self.path, message)),
            None => Ok(()),
        }
    }

    /// (Data chunks read so far, data chunks in all): how much of the index
    /// this run has read.
    #[must_use]
    pub fn chunks_read(&self) -> (usize, usize) {
        let read = self
            .checked
            .iter()
            .map(|w| w.load(Ordering::Relaxed).count_ones() as usize)
            .sum();
        (read, self.sums.len())
    }

    /// Reads of the file made so far by look-ups into it (not counting
    /// its opening): what a test sees of how many look-ups shared a read.
    #[cfg(test)]
    #[must_use]
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Checks every chunk of the data (for `index stats --verify`), and
    /// that the header's page holds nothing past the header: its padding
    /// is in no checksum (the header is written last, over it), and every
    /// version wrote it as zeros.
    ///
    /// # Errors
    /// The first byte of the padding that is not zero, or the first chunk
    /// that fails.
    pub fn verify(&self) -> Result<()> {
        let mut padding = Vec::new();
        if !self.pread(HEADER_LEN, DATA - HEADER_LEN, &mut padding) {
            return self.status();
        }
        if let Some(at) = padding.iter().position(|&b| b != 0) {
            let at = HEADER_LEN + at;
            return Err(corrupt(
                &self.path,
                format_args!(
                    "byte offset {at} of the header's page is {:#04x}, not the zero padding \
                     (bytes {HEADER_LEN}..{DATA}; flipped or overwritten bytes)",
                    padding[at - HEADER_LEN]
                ),
            ));
        }
        let end = DATA + self.sums.len() * CHUNK;
        let mut r = self.walker();
        let mut at = DATA;
        while at < end && r.read(at, (1 << 20).min(end - at)).is_some() {
            at += 1 << 20;
        }
        self.status()
    }

    pub(super) fn section(&self, name: &str) -> SectionEntry {
        self.meta.sections.get(name).copied().unwrap_or_default()
    }

    pub(super) fn fail(&self, message: String) {
        let _ = self.corrupt.set(message);
    }

    /// Reads `len` bytes at `at` into `out`; `false` (and the run fails) on a
    /// read error.
    pub(super) fn pread(&self, at: usize, len: usize, out: &mut Vec<u8>) -> bool {
        #[cfg(test)]
        self.reads.fetch_add(1, Ordering::Relaxed);
        out.clear();
        out.resize(len, 0);
        match read_at(&self.file, out, at as u64) {
            Ok(()) => true,
            Err(e) => {
                self.fail(format!("cannot read bytes {at}..{}: {e}", at + len));
                false
            }
        }
    }

    /// Whether data chunks `first..=last` were all checked already.
    pub(super) fn all_checked(&self, first: usize, last: usize) -> bool {
        (first..=last).all(|c| self.checked[c / 64].load(Ordering::Relaxed) & (1 << (c % 64)) != 0)
    }

    /// Checks the whole chunks in `bytes` (data chunk `first` on) against
    /// their checksums, once each; `false` (and the run fails) on a mismatch.
    pub(super) fn check(&self, first: usize, bytes: &[u8]) -> bool {
        for (k, chunk) in bytes.chunks_exact(CHUNK).enumerate() {
            let c = first + k;
            let (word, bit) = (c / 64, 1u64 << (c % 64));
            if self.checked[word].load(Ordering::Relaxed) & bit != 0 {
                continue;
            }
            if xxh3_64(chunk) != self.sums[c] {
                let start = DATA + c * CHUNK;
                self.fail(format!(
                    "checksum mismatch in bytes {start}..{} (flipped or overwritten bytes)",
                    start + CHUNK
                ));
                return false;
            }
            self.checked[word].fetch_or(bit, Ordering::Relaxed);
        }
        true
    }

    /// An id read from the index, checked against its bound.
    pub(super) fn id(&self, value: u32, bound: usize, what: &str) -> u32 {
        if (value as usize) < bound {
            value
        } else {
            self.fail(format!("{what} {value} is out of range (at most {bound})"));
            0
        }
    }

    /// Whether a `docs` record of this segment (its bytes as stored) holds
    /// only numbers of its own and lists inside its sections; the segment
    /// fails otherwise. (An update or a merge copies an index's records as
    /// they are, and what follows them would make a number past its end
    /// valid: another document's shingles or id.)
    pub(super) fn doc_fits(&self, d: &DocRecord) -> bool {
        let [doc_shingles, _, strings] = self.hot.lists;
        let blocks = self.meta.first_block + self.meta.blocks;
        self.list_fits("a document's shingles", d.shingles, 8, doc_shingles)
            && self.list_fits("an id", d.id, 1, strings)
            && self.list_fits("a file name", d.path, 1, strings)
            && (d.block_start <= blocks || {
                let start = d.block_start;
                self.fail(format!("a document's first block {start} is out of range"));
                false
            })
            && self.id(d.rep, self.doc_end_id(), "document") == d.rep
    }

    /// [`Segment::doc_fits`] for a `blocks` record.
    pub(super) fn block_fits(&self, g: &BlockRecord) -> bool {
        let [_, block_shingles, _] = self.hot.lists;
        self.list_fits("a block's shingles", g.shingles, 8, block_shingles)
            && self.id(g.cluster, self.block_end_id(), "block") == g.cluster
            && self.id(g.doc, self.doc_end_id(), "document") == g.doc
    }

    /// Whether `(at, len)` items of `size` bytes lie in a section of
    /// `bytes`; the segment fails otherwise.
    fn list_fits(&self, what: &str, (at, len): (u64, u32), size: u64, bytes: u64) -> bool {
        let fits = at
            .checked_add(u64::from(len))
            .and_then(|end| end.checked_mul(size))
            .is_some_and(|end| end <= bytes);
        if !fits {
            self.fail(format!("{what} runs past the end of its section"));
        }
        fits
    }

    /// A document number read from a record, checked to be one of its own.
    pub(super) fn doc_id(&self, d: u32) -> u32 {
        self.id(d, self.doc_end_id(), "document")
    }

    /// A block number read from a record, checked to be one of its own.
    pub(super) fn block_id(&self, g: u32) -> u32 {
        self.id(g, self.block_end_id(), "block")
    }

    /// One past the global number of its last document.
    pub(super) fn doc_end_id(&self) -> usize {
        self.doc_base + self.documents()
    }

    /// One past the global number of its last block.
    pub(super) fn block_end_id(&self) -> usize {
        self.block_base + self.blocks()
    }

    /// Document `d` (a global number).
    #[must_use]
    pub fn doc(&self, d: usize) -> DocRecord {
        self.reader().doc(d)
    }

    /// Block `g` (a global number).
    #[must_use]
    pub fn block(&self, g: usize) -> BlockRecord {
        self.reader().block(g)
    }
}
