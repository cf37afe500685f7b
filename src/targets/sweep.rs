//! Temporary files of runs that died (SIGKILL, a crash), removed by the next
//! run writing beside them; never a file a run reads.

use super::created::current_run;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Directories already swept of dead processes' temporary files.
static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Files runs read (or replace: an index an update reads first) whose
/// names are those of temporary files (an input, an index or a reference a
/// user named `.neardup-*.tmp`, or a backup copied with its temporary
/// name), by device and inode, with the run using each: [`sweep`] never
/// removes them (it removed a run's own input, the `--reference` of a
/// `clean` and an index before its update read it, as a dead run's
/// leftovers).
static READ: Mutex<Vec<(u64, (u64, u64))>> = Mutex::new(Vec::new());

/// Notes, for this run, the files it reads or writes that [`sweep`] could
/// take for a dead run's temporary file: `reads` holds each file's
/// canonical name and its device and inode.
pub(super) fn keep_reads<'a>(reads: impl Iterator<Item = (&'a Path, (u64, u64))>) {
    let run = current_run();
    let named_as_temp: Vec<(u64, (u64, u64))> = reads
        .filter(|(name, _)| {
            name.file_name()
                .and_then(|n| n.to_str())
                .and_then(temp_owner)
                .is_some()
        })
        .map(|(_, file)| (run, file))
        .collect();
    if !named_as_temp.is_empty() {
        READ.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(named_as_temp);
    }
}

/// Forgets the files `run` read (it has ended).
pub(super) fn forget_reads(run: u64) {
    READ.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain(|(r, _)| *r != run);
}

/// Whether `path` may be a dead run's temporary file: a regular file (not
/// a link, directory or device), of one name only (neardup never links
/// one), that no run of this process reads.
#[cfg(unix)]
fn removable(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    let file = (meta.dev(), meta.ino());
    meta.file_type().is_file()
        && meta.nlink() == 1
        && !READ
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(_, f)| *f == file)
}

/// Elsewhere nothing is swept (see [`sweep`]).
#[cfg(not(unix))]
fn removable(_: &Path) -> bool {
    false
}

/// Removes the temporary files of processes that no longer run from `dir`
/// (once per directory and run; also when a run takes an index's lock):
/// `.neardup-PID-START-*.tmp` and `.neardup-index-PID-START-*.tmp` whose
/// process `PID` is gone or is another process now (one that started at
/// another time: the PID was reused). Names of earlier versions are swept
/// too: `.neardup-PID-*.tmp` when no process `PID` runs or it started after
/// the file was last written, and `.neardup-*.tmp` (no PID) when no process
/// holds the file open. Linux only: elsewhere whether a process lives is not
/// known, and nothing is removed; nor on a filesystem shared over the
/// network (NFS, SMB, Ceph, Lustre, a FUSE mount...), where a PID names a
/// process of whichever machine made the file: one that runs there is not in
/// this machine's `/proc`.
pub fn sweep(dir: &Path) {
    if !Path::new("/proc/self/stat").exists() || shared_over_network(dir) != Some(false) {
        return;
    }
    {
        let mut swept = SWEPT.lock().unwrap_or_else(PoisonError::into_inner);
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        if !swept.get_or_insert_with(HashSet::new).insert(key) {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    let mut open = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        let path = entry.path();
        let stale = match owner {
            Owner::Process(pid, _) | Owner::Pid(pid) if pid == me => false,
            Owner::Process(pid, start) => process_start(pid) != Some(start),
            Owner::Pid(pid) => match (process_started_at(pid), modified(&path)) {
                (None, _) => true,
                // The file's owner wrote it after it started: a process
                // that started later (2 s: the boot time's precision) is
                // another one with the same PID.
                (Some(started), Some(written)) => started > written + 2.0,
                (Some(_), None) => false,
            },
            Owner::Unknown => !open.get_or_insert_with(open_files).as_ref().is_none_or(
                |open: &HashSet<PathBuf>| path.canonicalize().is_ok_and(|p| open.contains(&p)),
            ),
        };
        if stale && removable(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Whether `dir` is on a filesystem other machines may write too, by its
/// type (`statfs`): network filesystems, and FUSE mounts, which may be one
/// (sshfs); `None` when that cannot be told (then nothing is swept).
#[cfg(target_os = "linux")]
fn shared_over_network(dir: &Path) -> Option<bool> {
    use std::os::unix::ffi::OsStrExt;
    // The magic numbers of `statfs(2)` and <linux/magic.h>.
    const SHARED: [u32; 14] = [
        0x6969,      // NFS
        0x517B,      // SMB
        0xFE53_4D42, // SMB2
        0xFF53_4D42, // CIFS
        0x0102_1997, // 9P (v9fs)
        0x5346_414F, // AFS
        0x6B41_4653, // kAFS
        0x00C3_6400, // Ceph
        0x0BD0_0BD0, // Lustre
        0x4750_4653, // GPFS
        0x6573_5546, // FUSE (sshfs, and others)
        0x564C,      // NCP
        0x7461_636F, // OCFS2
        0x0116_1970, // GFS2
    ];
    let name = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut fs = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `name` is a NUL-terminated path and `fs` room for the answer,
    // read only when the call succeeds.
    #[allow(unsafe_code)]
    let fs = unsafe {
        if libc::statfs(name.as_ptr(), fs.as_mut_ptr()) != 0 {
            return None;
        }
        fs.assume_init()
    };
    // A word of 32 or 64 bits, signed on some targets: its low 32 bits.
    #[allow(
        clippy::unnecessary_cast,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let kind = fs.f_type as u32;
    Some(SHARED.contains(&kind))
}

/// Elsewhere (where [`sweep`] removes nothing anyway) nothing is known.
#[cfg(not(target_os = "linux"))]
fn shared_over_network(_: &Path) -> Option<bool> {
    None
}

/// Who wrote a temporary file, as its name tells.
#[derive(Debug, PartialEq, Eq)]
enum Owner {
    /// `PID-START-XXXXXX`: the process and when it started.
    Process(u32, u64),
    /// `PID-XXXXXX`: an earlier version's name, with the PID only.
    Pid(u32),
    /// `XXXXXX`: an earlier version's name, without a PID.
    Unknown,
}

/// The owner in a temporary file's name (`.neardup-PID-START-XXXXXX.tmp`,
/// `.neardup-index-PID-START-XXXXXX.tmp`, and the earlier `PID-XXXXXX` and
/// `XXXXXX` forms); `None` for any other name.
fn temp_owner(name: &str) -> Option<Owner> {
    fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    }
    let rest = name.strip_prefix(".neardup-")?.strip_suffix(".tmp")?;
    let rest = rest.strip_prefix("index-").unwrap_or(rest);
    let parts: Vec<&str> = rest.split('-').collect();
    // Six letters or digits, as every version made them (`tempfile`'s
    // default): `.neardup-old.tmp` is someone's file.
    let random = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    match parts[..] {
        [pid, start, r] if random(r) => Some(Owner::Process(number(pid)?, number(start)?)),
        [pid, r] if random(r) => Some(Owner::Pid(number(pid)?)),
        [r] if random(r) => Some(Owner::Unknown),
        _ => None,
    }
}

/// When process `pid` started, in clock ticks after boot (field 22 of
/// `/proc/PID/stat`); `None` when it does not run.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// When this process started (see [`process_start`]; 0 when unknown).
pub(super) fn own_start() -> u64 {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *START.get_or_init(|| process_start(std::process::id()).unwrap_or(0))
}

/// When process `pid` started, in seconds since the epoch.
fn process_started_at(pid: u32) -> Option<f64> {
    let ticks = process_start(pid)?;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot: f64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf only reads a configuration value.
    #[allow(unsafe_code)]
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    #[allow(clippy::cast_precision_loss)]
    (hz > 0).then(|| boot + ticks as f64 / hz as f64)
}

/// When a file was last written, in seconds since the epoch.
fn modified(path: &Path) -> Option<f64> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(
        time.duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64(),
    )
}

/// Every file some process holds open (`/proc/*/fd`); `None` when a
/// process's descriptors cannot be read (another user's): then whether a
/// file is open is not known.
fn open_files() -> Option<HashSet<PathBuf>> {
    let mut open = HashSet::new();
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        if !process
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let fds = match std::fs::read_dir(process.path().join("fd")) {
            Ok(fds) => fds,
            // Gone since the directory was listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                open.insert(target);
            }
        }
    }
    Some(open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Staged;
    use std::fs::File;

    #[test]
    fn temporary_names_carry_the_pid_and_start() {
        assert_eq!(
            temp_owner(".neardup-123-456-abcdef.tmp"),
            Some(Owner::Process(123, 456))
        );
        assert_eq!(
            temp_owner(".neardup-index-77-9-x1y2z3.tmp"),
            Some(Owner::Process(77, 9))
        );
        assert_eq!(temp_owner(".neardup-123-abcdef.tmp"), Some(Owner::Pid(123)));
        assert_eq!(temp_owner(".neardup-abcdef.tmp"), Some(Owner::Unknown));
        assert_eq!(
            temp_owner(".neardup-index-abcdef.tmp"),
            Some(Owner::Unknown)
        );
        assert_eq!(temp_owner("notes-12-ab.tmp"), None);
        assert_eq!(temp_owner(".neardup-12-.tmp"), None);
        assert_eq!(temp_owner(".neardup-x-1-ab.tmp"), None);
        // Every version's random part has six characters: other names are
        // someone else's files.
        assert_eq!(temp_owner(".neardup-old.tmp"), None);
        assert_eq!(temp_owner(".neardup-12-backup2.tmp"), None);
        assert_eq!(temp_owner(".neardup-12-34-abcdefg.tmp"), None);
        assert!(process_start(std::process::id()).is_some_and(|s| s > 0));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_network_filesystem_is_told_from_a_local_one() {
        let dir = tempfile::tempdir().unwrap();
        assert!(shared_over_network(dir.path()).is_some());
        assert_eq!(shared_over_network(&dir.path().join("absent")), None);
        // Every local and every network or FUSE filesystem mounted here.
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let mut seen = 0;
        for line in mounts.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let [_, at, kind, ..] = fields[..] else {
                continue;
            };
            let local = [
                "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs",
            ]
            .contains(&kind);
            let shared = [
                "nfs", "nfs4", "cifs", "smb3", "9p", "ceph", "lustre", "gpfs",
            ]
            .contains(&kind)
                || kind.starts_with("fuse.");
            // Mount points with spaces are escaped (`\040`), and another
            // may hide one: read only those that are what they were.
            let Some(told) = shared_over_network(Path::new(at)) else {
                continue;
            };
            if (local || shared) && !at.contains('\\') && mounted_kind(at, &mounts) == Some(kind) {
                assert_eq!(told, shared, "{at} is {kind}");
                seen += 1;
            }
        }
        assert!(
            seen > 0,
            "no filesystem of a known kind is mounted:\n{mounts}"
        );
    }

    /// The kind of the filesystem mounted last at `at` (what a path there reaches).
    #[cfg(target_os = "linux")]
    fn mounted_kind<'a>(at: &str, mounts: &'a str) -> Option<&'a str> {
        mounts.lines().rev().find_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.get(1) == Some(&at)).then(|| f.get(2).copied()).flatten()
        })
    }

    #[test]
    fn a_dead_process_temporary_file_is_swept_and_a_live_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        if shared_over_network(d) != Some(false) {
            eprintln!("skipped: {} is not known to be local", d.display());
            return;
        }
        // PIDs above the kernel's limit (2^22) never run; PID 1 always does.
        let init = process_start(1).unwrap();
        let swept = [
            ".neardup-index-4194305-7-abcdef.tmp".to_owned(),
            ".neardup-4194305-abcdef.tmp".to_owned(),
            // PID 1 now is not the process that wrote these: it started at
            // another time, or after the file was last written.
            format!(".neardup-1-{}-abcdef.tmp", init + 1),
            ".neardup-1-oldpid.tmp".to_owned(),
            // No PID, and no process holds it open.
            ".neardup-nopid1.tmp".to_owned(),
        ];
        let kept = [
            format!(".neardup-1-{init}-abcdef.tmp"),
            ".neardup-1-newpid.tmp".to_owned(),
            ".neardup-index-nopid2.tmp".to_owned(),
            "keep.tmp".to_owned(),
        ];
        for name in swept.iter().chain(&kept) {
            std::fs::write(d.join(name), b"x").unwrap();
        }
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        File::options()
            .write(true)
            .open(d.join(".neardup-1-oldpid.tmp"))
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        let held = File::open(d.join(".neardup-index-nopid2.tmp")).unwrap();
        let staged = Staged::beside(&d.join("out.txt"), ".neardup-").unwrap();
        let mine = staged.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(
            temp_owner(mine),
            Some(Owner::Process(std::process::id(), own_start()))
        );
        for name in &swept {
            assert!(!d.join(name).exists(), "{name} was left");
        }
        for name in &kept {
            assert!(d.join(name).exists(), "{name} was removed");
        }
        drop((staged, held));
        let left = std::fs::read_dir(d).unwrap().count();
        assert_eq!(left, kept.len(), "the dropped temporary file is gone");
    }
}
