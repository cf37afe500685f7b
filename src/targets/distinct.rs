//! Every path a run writes apart from every path it reads and from each
//! other, looked up by name and by file rather than compared pairwise.

use super::{Identity, Use};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// Refuses a run (exit 2) in which a path written is also a path read, or
/// two paths written are one file: by name (after following links) or by
/// device and inode (hard links). `-` (standard input or output) is not a
/// path. Two writes to one character device (`--report` and `-o` both into
/// a null device) are allowed: nothing there is replaced.
///
/// # Errors
/// A [`Error::Usage`] naming both paths and their roles.
pub fn check_distinct<'a>(reads: &'a [Use], writes: &'a [Use]) -> Result<()> {
    let identified = |uses: &'a [Use]| -> Vec<(&'a Use, Identity)> {
        uses.iter()
            .filter(|u| u.is_path())
            .map(|u| (u, Identity::of(&u.path)))
            .collect()
    };
    let (reads, writes) = (identified(reads), identified(writes));
    // No run removes what it reads (or an index it updates) as a dead
    // run's temporary file.
    super::sweep::keep_reads(
        reads
            .iter()
            .chain(&writes)
            .filter_map(|(_, id)| Some((id.name.as_deref()?, id.file?))),
    );
    // Each path is looked up by name and by file among those before it, not
    // compared with each: an `--out-dir` of 100,000 files would otherwise
    // make 10^10 comparisons. The first match in order is named, as a scan
    // would find it.
    let read_by = Seen::of(&reads);
    let mut written = Seen::default();
    for (i, (w, wid)) in writes.iter().enumerate() {
        if let Some(r) = read_by.first(wid, |_| true) {
            let r = reads[r].0;
            return Err(Error::Usage(format!(
                "{} is also {}: a run never writes a file it reads; refusing to overwrite it",
                w.shown(),
                r.shown()
            )));
        }
        // Two writes to one character device are allowed (nothing there is
        // replaced); one file by name or inode is one type of file.
        if let Some(o) = written.first(wid, |o| !(wid.device && writes[o].1.device)) {
            let other = writes[o].0;
            return Err(Error::Usage(format!(
                "{} and {} are one file: each output needs a file of its own",
                other.shown(),
                w.shown()
            )));
        }
        written.add(wid, i);
    }
    Ok(())
}

/// The first index of each name and each file among identities seen.
#[derive(Default)]
struct Seen<'a> {
    names: HashMap<&'a Path, usize>,
    files: HashMap<(u64, u64), usize>,
}

impl<'a> Seen<'a> {
    fn of(all: &'a [(&Use, Identity)]) -> Seen<'a> {
        let mut seen = Seen::default();
        for (i, (_, id)) in all.iter().enumerate() {
            seen.add(id, i);
        }
        seen
    }

    fn add(&mut self, id: &'a Identity, i: usize) {
        if let Some(name) = &id.name {
            self.names.entry(name).or_insert(i);
        }
        if let Some(file) = id.file {
            self.files.entry(file).or_insert(i);
        }
    }

    /// The first one that is `id` by name or by file, if `keep` accepts it.
    fn first(&self, id: &Identity, keep: impl Fn(usize) -> bool) -> Option<usize> {
        let by_name = id.name.as_deref().and_then(|n| self.names.get(n));
        let by_file = id.file.and_then(|f| self.files.get(&f));
        by_name
            .into_iter()
            .chain(by_file)
            .copied()
            .min()
            .filter(|&i| keep(i))
    }
}
