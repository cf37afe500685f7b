//! The command line's paths: files as given, directories walked in sorted
//! order, `-` for standard input, `--glob` filters. A walk passes over hidden
//! entries and neardup's own files: index files and their lock files.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Expands the command line's paths: files as given, directories walked in
/// sorted order, `-` for standard input. Every path is tried: the inputs found
/// come with one error per path that does not exist or directory that cannot
/// be listed. With `globs`, a walk keeps only files whose path relative to the
/// walked directory matches one of them (files named directly are always read).
///
/// A file reached from two of the paths (named twice, inside a directory
/// also given, through a link to one of them, in two directories that
/// overlap, or as `-` from a standard input redirected from it) is read
/// once, where it is first reached ([`expand_noting`]
/// gives the warning that says so): read twice, each of its documents was a duplicate of
/// itself, in the report and in `check`'s verdict. Hard links reached from
/// one path are files of their own, as `--out-dir` mirrors them.
#[must_use]
pub fn expand(paths: &[PathBuf], globs: &[String]) -> (Vec<InputPath>, Vec<Error>) {
    let stdin = paths
        .iter()
        .any(|p| p.as_os_str() == "-")
        .then(stdin_file)
        .flatten();
    let (inputs, errors, _) = expand_noting(paths, globs, stdin);
    (inputs, errors)
}

/// What [`expand_noting`] notes beside the inputs and errors: the (path left
/// out, path read) of each file read once though reached from two paths,
/// and the FIFOs, sockets and devices walks passed over.
#[derive(Debug, Default)]
pub struct Noted {
    /// Files reached twice: (path left out, path read).
    pub once: Vec<(PathBuf, PathBuf)>,
    /// Entries of walked directories that are not files (a FIFO, a socket,
    /// a device), with what each is: a walk reads none of them (a FIFO
    /// with no writer would stop it for ever, a device may never end), and
    /// names each so that none is passed over unseen.
    pub passed_over: Vec<(PathBuf, &'static str)>,
}

impl Noted {
    /// The warning for what walks passed over, if any: `warning:
    /// corpus/feed.fifo: a FIFO in a walked directory, not read (name it to
    /// read it)`, or, for several, how many and the first.
    #[must_use]
    pub fn passed_over_warning(&self) -> Option<String> {
        let shown =
            |(path, what): &(PathBuf, &str)| format!("{}: {what}", crate::escape::shown_path(path));
        match self.passed_over.as_slice() {
            [] => None,
            [only] => Some(format!(
                "warning: {} in a walked directory, not read (name it to read it)",
                shown(only)
            )),
            [first, ..] => Some(format!(
                "warning: {} FIFOs, sockets or devices in walked directories are not read ({}, ...; name one to read it)",
                crate::sizes::thousands(self.passed_over.len()),
                shown(first)
            )),
        }
    }
}

/// [`expand`], with what it noted ([`Noted`]); `stdin` is the (device,
/// inode) of the regular file `-` reads ([`stdin_file`]; `None` for a pipe,
/// a terminal, or a caller's stream in its place).
#[must_use]
pub fn expand_noting(
    paths: &[PathBuf],
    globs: &[String],
    stdin: Option<(u64, u64)>,
) -> (Vec<InputPath>, Vec<Error>, Noted) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut noted = Noted::default();
    let filter = match glob_set(globs) {
        Ok(f) => f,
        Err(e) => return (out, vec![e], noted),
    };
    // (device, inode) of each input, and the path it was reached from.
    let mut ids: Vec<Reached> = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    // Links to nothing named, whose error is told once: a walk that reaches
    // one too leaves it out.
    let mut named_dangling = Vec::new();
    for (root, path) in paths.iter().enumerate() {
        let before = out.len();
        let result = expand_one(
            path,
            filter.as_ref(),
            stdin,
            (&mut out, &mut ids),
            &mut noted.passed_over,
        );
        roots.resize(out.len(), root);
        match result {
            Err(e) => {
                named_dangling.extend(dangling_link(path));
                errors.push(e);
            }
            // A directory with nothing to read is named, never an empty pass
            // (`check` passed a scraper's empty output folder, or a --glob
            // with a typo, as 0 documents).
            Ok(()) if out.len() == before => errors.push(nothing_in(path, globs)),
            Ok(()) => {}
        }
    }
    if !named_dangling.is_empty() {
        let keep: Vec<bool> = ids
            .iter()
            .map(|(id, _)| id.is_none_or(|id| !named_dangling.contains(&id)))
            .collect();
        retain_where(&mut out, &keep);
        retain_where(&mut ids, &keep);
        retain_where(&mut roots, &keep);
    }
    let (out, once) = read_once(out, &ids, &roots);
    noted.once = once;
    (out, errors, noted)
}

/// The identity of the link itself when `path` is a symbolic link to
/// nothing (or a loop), as a walk knows it.
fn dangling_link(path: &Path) -> Option<FileId> {
    let link = std::fs::symlink_metadata(path).ok()?;
    let dangling = link.file_type().is_symlink() && std::fs::metadata(path).is_err();
    file_id(&link).filter(|_| dangling)
}

/// `items` less those whose place in `keep` is false.
fn retain_where<T>(items: &mut Vec<T>, keep: &[bool]) {
    let mut at = keep.iter();
    items.retain(|_| at.next().copied().unwrap_or(true));
}

/// A path given (or reached by a walk) as a message names it: `-` is
/// standard input (redirected from a file that is also named, for the
/// warning of [`expand_noting`]'s files read once).
#[must_use]
pub fn shown_given(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input (-)".to_owned()
    } else {
        crate::escape::shown_path(path)
    }
}

/// A file's identity: (device, inode).
type FileId = (u64, u64);

/// An input's identity (none for a device, or standard input that is not
/// a regular file; a link to nothing's is the link's own), and
/// whether a walk reached it through a symbolic link.
type Reached = (Option<FileId>, bool);

#[cfg(unix)]
#[allow(clippy::unnecessary_wraps)] // (None where there is no inode)
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<FileId> {
    None
}

/// Whether `meta` is a FIFO's.
#[cfg(unix)]
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type())
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

/// What a walk's entry that is neither a file nor a directory is, as a
/// message names it ([`Noted::passed_over`]); `None` for a file or a
/// directory.
#[cfg(unix)]
fn not_a_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn not_a_file(_: &std::fs::Metadata) -> Option<&'static str> {
    None
}

/// The (device, inode) of the process's standard input when it is a
/// regular file (`neardup clean - a.jsonl < a.jsonl`): the file `-` reads,
/// which has no name on the command line.
#[cfg(unix)]
#[must_use]
pub fn stdin_file() -> Option<(u64, u64)> {
    use std::os::fd::AsFd as _;
    let stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
    let meta = stdin.metadata().ok()?;
    file_id(&meta).filter(|_| meta.is_file())
}

/// Elsewhere, standard input is compared with no file.
#[cfg(not(unix))]
#[must_use]
pub fn stdin_file() -> Option<(u64, u64)> {
    None
}

/// `inputs` less those that are a file reached before from another path
/// given, or through a symbolic link in a walk that reaches the file itself
/// too (a `latest.jsonl` link beside the batch it names: the file is read,
/// not the link); `ids` and `roots` are each input's identity and path
/// given. With the (path left out, path read) of each.
fn read_once(
    inputs: Vec<InputPath>,
    ids: &[Reached],
    roots: &[usize],
) -> (Vec<InputPath>, Vec<(PathBuf, PathBuf)>) {
    let mut first: std::collections::HashMap<FileId, usize> = std::collections::HashMap::new();
    let mut again: Vec<(usize, usize)> = Vec::new();
    for (i, &(id, linked)) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        match first.get(&id).copied() {
            None => {
                first.insert(id, i);
            }
            Some(at) if roots[at] != roots[i] || linked => again.push((i, at)),
            // A link reached before the file itself, in one walk.
            Some(at) if ids[at].1 => {
                again.push((at, i));
                first.insert(id, i);
            }
            // Hard links reached from one path: files of their own.
            Some(_) => {}
        }
    }
    if again.is_empty() {
        return (inputs, Vec::new());
    }
    let pairs = again
        .iter()
        .map(|&(i, at)| (inputs[i].path.clone(), inputs[at].path.clone()))
        .collect();
    let mut drop = vec![false; inputs.len()];
    for &(i, _) in &again {
        drop[i] = true;
    }
    let kept = inputs
        .into_iter()
        .zip(drop)
        .filter_map(|(input, drop)| (!drop).then_some(input))
        .collect();
    (kept, pairs)
}

/// The error for directory `dir`, which holds no file to read (under
/// `globs`, if any).
fn nothing_in(dir: &Path, globs: &[String]) -> Error {
    let message = if globs.is_empty() {
        "no files to read in it (hidden ones are skipped)".to_string()
    } else {
        let shown: Vec<String> = globs
            .iter()
            .map(|g| format!("--glob {}", shown_glob(g)))
            .collect();
        format!(
            "no file in it matches {} (hidden ones are skipped)",
            shown.join(" or ")
        )
    };
    Error::io(
        dir,
        std::io::Error::new(std::io::ErrorKind::NotFound, message),
    )
}

pub(super) fn glob_set(globs: &[String]) -> Result<Option<globset::GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let compile = |glob: &String| {
        globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Usage(format!("--glob {}: {e}", shown_glob(glob))))
    };
    let mut builder = globset::GlobSetBuilder::new();
    for glob in globs {
        builder.add(compile(glob)?);
    }
    builder.build().map(Some).map_err(|e| {
        // The set is built at once (a regex too large for its limits: a
        // pattern of 100,000 `*`): the first glob that fails alone is named.
        let failing = globs.iter().find(|glob| {
            compile(glob).is_ok_and(|g| globset::GlobSetBuilder::new().add(g).build().is_err())
        });
        match failing {
            Some(glob) => Error::Usage(format!(
                "--glob {}: too complex to match ({e})",
                shown_glob(glob)
            )),
            None => Error::Usage(format!(
                "--glob: the {} patterns together are too complex to match ({e})",
                globs.len()
            )),
        }
    })
}

/// A glob as a message shows it: quoted and escaped, its first 40
/// characters when it is longer (and how long it is).
fn shown_glob(glob: &str) -> String {
    const SHOWN: usize = 40;
    match glob.char_indices().nth(SHOWN) {
        None => format!("{glob:?}"),
        Some((cut, _)) => format!(
            "{:?}... ({} characters)",
            &glob[..cut],
            glob.chars().count()
        ),
    }
}

/// Expands one path given into `out` (with each input's identity in
/// `ids`, and what a walk passes over in `passed`); `stdin` is the identity
/// of the regular file `-` reads.
pub(super) fn expand_one(
    path: &PathBuf,
    filter: Option<&globset::GlobSet>,
    stdin: Option<FileId>,
    (out, ids): (&mut Vec<InputPath>, &mut Vec<Reached>),
    passed: &mut Vec<(PathBuf, &'static str)>,
) -> Result<()> {
    if path.as_os_str() == "-" {
        out.push(InputPath {
            path: path.clone(),
            relative: PathBuf::from("stdin"),
            reader: None,
        });
        ids.push((stdin, false));
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        walk(path, Path::new(""), filter, (out, ids), passed)?;
    } else {
        let name = path.file_name().map_or_else(|| path.clone(), PathBuf::from);
        out.push(InputPath {
            path: path.clone(),
            relative: name,
            reader: None,
        });
        // A FIFO named twice is read once, as a file is: its two readings
        // shared its bytes (opened together, records were cut in two, or
        // one reading took them all; in chunks, the second open waited for
        // ever for a writer). A device is not read again by being named
        // again.
        ids.push((
            file_id(&meta).filter(|_| meta.is_file() || is_fifo(&meta)),
            false,
        ));
    }
    Ok(())
}

/// The first bytes of a neardup index file (the store's format).
pub const INDEX_MAGIC: &[u8; 8] = b"NEARDUPI";

/// Whether `path` is a regular file (after links) that starts as a neardup
/// index does.
#[must_use]
pub fn is_index_file(path: &Path) -> bool {
    let mut magic = [0u8; 8];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && File::open(path).is_ok_and(|mut f| f.read_exact(&mut magic).is_ok())
        && &magic == INDEX_MAGIC
}

/// Whether a walk passes over file `name` of `dir`, whose sorted listing is
/// `names`: a neardup index (what `--index ... --update` or `index build`
/// wrote there: never text to clean), or the lock file `INDEX.lock` beside
/// one. Files named by the data formats read are not opened to tell.
fn is_neardup_file(dir: &Path, name: &std::ffi::OsStr, names: &[std::ffi::OsString]) -> bool {
    let bytes = name.as_encoded_bytes();
    if let Some(index) = bytes.strip_suffix(b".lock") {
        if let Ok(i) = names.binary_search_by(|n| n.as_encoded_bytes().cmp(index)) {
            return is_index_file(&dir.join(&names[i]));
        }
        // The lock of an index whose name is too long for `NAME.lock`: its
        // name cut short and a hash ([`lock_name`]).
        if bytes.len() != NAME_MAX {
            return false;
        }
        let cut = &index[..index.len() - HASH_TAIL];
        let from = names.partition_point(|n| n.as_encoded_bytes() < cut);
        return names[from..]
            .iter()
            .take_while(|n| n.as_encoded_bytes().starts_with(cut))
            .any(|n| lock_name(n) == name && is_index_file(&dir.join(n)));
    }
    let data = [
        ".jsonl", ".ndjson", ".json", ".txt", ".parquet", ".gz", ".zst", ".md", ".html", ".htm",
        ".xml", ".csv", ".tsv", ".log",
    ];
    let named_as_data = |ext: &str| {
        let ext = ext.as_bytes();
        bytes.len() >= ext.len() && bytes[bytes.len() - ext.len()..].eq_ignore_ascii_case(ext)
    };
    !data.into_iter().any(named_as_data) && is_index_file(&dir.join(name))
}

/// Files under `dir` in sorted order; `filter` (the `--glob` patterns) is
/// matched against paths relative to the walked directory. FIFOs, sockets
/// and devices that it matches go to `passed`, with what each is.
pub(super) fn walk(
    dir: &Path,
    relative: &Path,
    filter: Option<&globset::GlobSet>,
    (out, ids): (&mut Vec<InputPath>, &mut Vec<Reached>),
    passed: &mut Vec<(PathBuf, &'static str)>,
) -> Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        entries.push(entry.file_name());
    }
    entries.sort();
    for name in &entries {
        if name.as_encoded_bytes().first() == Some(&b'.') {
            continue;
        }
        let path = dir.join(name);
        let rel = relative.join(name);
        // An entry that went away since the listing, or a link to nothing, is
        // kept as an input: reading it fails with a message naming it, which
        // `--on-error` then treats like any unreadable file.
        let Ok(link) = std::fs::symlink_metadata(&path) else {
            if filter.is_none_or(|f| f.is_match(&rel)) {
                out.push(InputPath {
                    path,
                    relative: rel,
                    reader: None,
                });
                ids.push((None, false));
            }
            continue;
        };
        if link.is_dir() {
            walk(&path, &rel, filter, (&mut *out, &mut *ids), passed)?;
            continue;
        }
        // Links to files are read; links to directories are not followed,
        // which also rules out link loops. A link to nothing is kept, to be
        // named, and known by the link itself: walks that overlap name it
        // once, as they read a file once.
        let (file, id, linked, special) = if link.file_type().is_symlink() {
            std::fs::metadata(&path).map_or((true, file_id(&link), false, None), |m| {
                (m.is_file(), file_id(&m), true, not_a_file(&m))
            })
        } else {
            (link.is_file(), file_id(&link), false, not_a_file(&link))
        };
        if let Some(what) = special {
            if filter.is_none_or(|f| f.is_match(&rel)) {
                passed.push((path, what));
            }
            continue;
        }
        if file && filter.is_none_or(|f| f.is_match(&rel)) && !is_neardup_file(dir, name, &entries)
        {
            out.push(InputPath {
                path,
                relative: rel,
                reader: None,
            });
            ids.push((id, linked));
        }
    }
    Ok(())
}

/// Longest file name most file systems take (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// What [`lock_name`] puts after a name cut short: `~` and 16 hex digits.
const HASH_TAIL: usize = 17;

/// The name of the lock file beside an index named `name`: `NAME.lock`, or,
/// when that is longer than a file name may be, the name cut short and a
/// hash of the whole name (`NAME...~HASH.lock`, 255 bytes): an index named
/// with 251 to 255 bytes has a lock too.
#[must_use]
pub fn lock_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    let bytes = name.as_encoded_bytes();
    let mut lock = Vec::with_capacity(NAME_MAX);
    if bytes.len() + ".lock".len() <= NAME_MAX {
        lock.extend_from_slice(bytes);
    } else {
        // Cut at a byte boundary: the name's encoding is bytes (Unix).
        lock.extend_from_slice(&bytes[..NAME_MAX - ".lock".len() - HASH_TAIL]);
        lock.extend_from_slice(format!("~{:016x}", xxhash_rust::xxh3::xxh3_64(bytes)).as_bytes());
    }
    lock.extend_from_slice(b".lock");
    std::os::unix::ffi::OsStringExt::from_vec(lock)
}
