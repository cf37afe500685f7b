//! Giving freed memory back to the operating system between stages.
//!
//! The sketch stage makes millions of small allocations (one shingle list per
//! block and per document). When a stage's lists are dropped, glibc keeps the
//! freed chunks in its heap, so the next stage's large tables come on top of
//! them and the peak is the sum of both. `malloc_trim` hands the free pages back
//! (glibc 2.8 and later release free pages inside the heap, not only at its
//! top), so the peak becomes the larger of the two instead.

/// Returns free heap memory to the operating system where the allocator can
/// (glibc); elsewhere does nothing. Never changes any result.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only walks glibc's own free lists and returns
        // unused pages with madvise; it touches no live allocation and is
        // thread-safe (it takes the arena locks).
        #[allow(unsafe_code)]
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// Makes glibc hand large freed blocks straight back: blocks of 1 MiB or more
/// get their own mapping, unmapped when freed. By default glibc raises that
/// threshold to the size of any mapped block freed (up to 32 MiB), after which
/// such blocks come from heaps it keeps when they are freed: the resident set
/// then holds every stage's largest buffers long after they are gone (a
/// chunked run's live heap was a third of its anonymous memory). Never
/// changes any result.
///
/// Under an address-space limit (`ulimit -v`), every thread allocates from
/// one arena: glibc gives each thread that allocates an arena of its own
/// (up to eight a core), and each reserves 64 MiB of address space however
/// little it holds, which [`available`] cannot see before the threads start.
/// 60 MB of JSON Lines under `ulimit -v 300000` was planned in chunks that
/// fit and still aborted (`memory allocation of 12845056 bytes failed`), as
/// did any run of eight threads under `ulimit -v 1000000`.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a glibc tuning parameter; called once at
        // start, before other threads allocate.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            if address_space_limit().is_some() {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
        }
    }
}

/// The process's address-space limit (`ulimit -v`, `RLIMIT_AS`, its soft
/// limit) in bytes; `None` when there is none.
fn address_space_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` only writes the `rlimit` it is given.
    #[allow(unsafe_code)]
    let got = unsafe { libc::getrlimit(libc::RLIMIT_AS, &raw mut limit) };
    (got == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// A vector of `len` copies of `value` whose memory Linux is asked to back
/// with transparent huge pages (2 MiB) before it is first written: for
/// tables read at random, where one TLB entry then covers 512 times as much.
/// Advice only: the contents are those of `vec![value; len]` either way.
pub fn huge_vec<T: Clone>(value: T, len: usize) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = v.as_ptr() as usize;
        let end = start + len * std::mem::size_of::<T>();
        let (start, end) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
        if end > start {
            // SAFETY: MADV_HUGEPAGE only changes how the kernel backs the
            // pages of this range, which the vector's allocation owns (whole
            // pages inside it, none written yet); nothing is read or moved.
            #[allow(unsafe_code)]
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    v.resize(len, value);
    v
}

/// The process's memory as Linux reports it: peak resident set, and the
/// current resident set split into anonymous memory (the heap: what neardup
/// holds) and mapped files (inputs: page cache the kernel can
/// reclaim). `None` where `/proc/self/status` is not there.
#[must_use]
pub fn usage() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| status_kib(&status, name);
    let mib = |kib: u64| kib / 1024;
    Some(format!(
        "memory: peak RSS {} MiB; now {} MiB anonymous, {} MiB of mapped files",
        mib(field("VmHWM:")?),
        mib(field("RssAnon:")?),
        mib(field("RssFile:")?),
    ))
}

/// Anonymous memory in the resident set now (what the process holds, not
/// mapped files), in bytes; `None` where `/proc/self/status` is not there.
#[must_use]
pub fn anonymous_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    usize::try_from(status_kib(&status, "RssAnon:")? * 1024).ok()
}

/// Bytes a `BTreeMap` entry of `entry` bytes (key and value) takes: its
/// nodes hold 11 entries and are two thirds full on average.
#[must_use]
pub const fn btree_entry(entry: usize) -> usize {
    entry * 3 / 2
}

/// Bytes a `HashMap` of `capacity` entries of `entry` bytes takes (a
/// control byte an entry, and its table an eighth larger than it holds).
#[must_use]
pub const fn hash_table(capacity: usize, entry: usize) -> usize {
    capacity * (entry + 1) * 8 / 7
}

/// The 64-bit words of a table of about `bytes` bytes whose slots are
/// found by masking a hash: a power of two, at least 512 (4 KiB), and no
/// more than `bytes` past that.
#[must_use]
pub const fn power_of_two_words(bytes: usize) -> usize {
    let words = if bytes / 8 > 512 { bytes / 8 } else { 512 };
    if words.is_power_of_two() {
        words
    } else {
        words.next_power_of_two() / 2
    }
}

/// The bytes of one entry of `map` (its key and value).
#[must_use]
pub const fn size_of_entry<K, V, S>(_map: &std::collections::HashMap<K, V, S>) -> usize {
    std::mem::size_of::<(K, V)>()
}

/// The `--memory-limit` a run of one chunk was chosen under (its inputs
/// counted to fit: `Plan::fallback`): the keys and candidate pairs of a
/// flood of near-identical short records can take more than any count of
/// bytes and lines foresees, and such a run is then made again in chunks,
/// where the limit holds. Passed when the process's anonymous memory is
/// above it (never below [`MIN_CEILING`]), or, under an address-space limit
/// (`ulimit -v`), when its address space nears that limit: a run's mapped
/// space (threads' stacks, the allocator's arena, mapped inputs) is far
/// larger than its resident memory, and an allocation there fails first.
///
/// Under `--memory-limit`, the growths a count of its inputs does not foresee
/// (the keys of short documents that share shingles, candidate pairs, an
/// index's members asked for) are first counted ([`Ceiling::counted_past`]):
/// what the plan counted the inputs to need, and those growths, against the
/// limit. The count is the same from run to run and at any number of
/// threads, so such a run is made whole or in chunks, and writes the same
/// index, every time (by the resident set alone, a flood of near-identical
/// short records came out whole at one thread and in chunks at two). The
/// resident set stays the last word, for what no count foresees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ceiling {
    anonymous: usize,
    space: Option<usize>,
    /// (What the plan counted the run's inputs to need, the limit.)
    counted: Option<(usize, usize)>,
}

/// The lowest [`Ceiling`]: what any run holds whatever its input (threads,
/// a part's buffers of a mebibyte, the allocator's arenas) comes to several
/// mebibytes, above a `--memory-limit` of a few hundred kilobytes that a
/// small input is counted to fit under.
pub const MIN_CEILING: usize = 16 << 20;

impl Ceiling {
    /// The ceiling of a run of one chunk whose process may hold `limit`
    /// bytes of anonymous memory; under an address-space limit, an eighth of
    /// it (16 MiB at least) is kept free for what comes between two checks.
    #[must_use]
    pub fn new(limit: usize) -> Ceiling {
        let space = address_space_limit()
            .and_then(|l| usize::try_from(l).ok())
            .map(|l| l.saturating_sub((l / 8).max(MIN_CEILING)));
        Ceiling {
            anonymous: limit.max(MIN_CEILING),
            space,
            counted: None,
        }
    }

    /// The ceiling with a count: inputs counted to need `need` bytes of
    /// memory, under `limit` (see [`Ceiling::counted_past`]).
    #[must_use]
    pub fn counting(self, need: usize, limit: usize) -> Ceiling {
        Ceiling {
            counted: Some((need, limit)),
            ..self
        }
    }

    /// Whether what the plan counted the inputs to need and `more` bytes,
    /// counted by the run from its own tables (the same at any number of
    /// threads and in every run), pass the limit: the run is then made in
    /// chunks. Never without a count (no `--memory-limit`: the memory
    /// available is no fixed number either), nor below [`MIN_CEILING`], as
    /// the resident set (a limit of a few hundred kilobytes that small
    /// inputs are counted to fit under is read whole).
    #[must_use]
    pub fn counted_past(self, more: usize) -> bool {
        self.counted
            .is_some_and(|(need, limit)| need.saturating_add(more) > limit.max(MIN_CEILING))
    }

    /// Whether the process holds more memory than the ceiling.
    #[must_use]
    pub fn passed(self) -> bool {
        self.passed_with(0)
    }

    /// Whether the process would hold more memory than the ceiling with
    /// `more` bytes besides what it holds. (Read from `/proc/self/statm`:
    /// its size, and its resident less shared pages, a tenth of the cost of
    /// `/proc/self/status`, read once a part of the first pass.)
    #[must_use]
    pub fn passed_with(self, more: usize) -> bool {
        let Some(statm) = std::fs::read_to_string("/proc/self/statm").ok() else {
            return false;
        };
        let pages: Vec<usize> = statm
            .split_whitespace()
            .take(3)
            .map_while(|n| n.parse().ok())
            .collect();
        let [size, resident, shared] = pages[..] else {
            return false;
        };
        let bytes = |pages: usize| pages.saturating_mul(page_size()).saturating_add(more);
        bytes(resident.saturating_sub(shared)) > self.anonymous
            || self.space.is_some_and(|space| bytes(size) > space)
    }

    /// The error a run of one chunk under `ceiling` ends with when its
    /// memory passes it.
    #[must_use]
    pub fn past(ceiling: Option<Ceiling>) -> crate::Error {
        crate::Error::PastCeiling {
            limit: ceiling.map_or(0, |c| c.anonymous),
        }
    }
}

/// The size of a memory page, in bytes.
fn page_size() -> usize {
    // SAFETY: `sysconf` reads a system setting.
    #[allow(unsafe_code)]
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// A `/proc/self/status` field given in kB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Bytes of memory a run of one chunk may take per byte of input (text, or
/// what a compressed input decompresses to), both levels with the report:
/// 3.5 measured on 250 MB of JSON Lines (878 MiB), 4.4 on 1 GB and 6 on
/// highly repetitive text (a decompression bomb of 3 GB: 16 GB), with room
/// to spare (`benches/RESULTS.md`). The plan decides by it when a run must
/// work in chunks, and a whole run's read stops at what it leaves room for.
pub const WHOLE_RUN_PER_INPUT_BYTE: u64 = 8;

/// Bytes of memory each block of a document past its first takes at least:
/// its span, sketch, verdict and exact key and, in a run in chunks, its
/// records for the chunks after it (600,000 one-word lines of one 4 MB text
/// file peaked at 175 MiB, about 300 bytes a block, where a chunk counted
/// them by their bytes as 56 MB). A block that repeats costs a report entry
/// besides (up to 2 KB), which this does not foresee: 400,000 lines of
/// `a b c` take 301 MiB (`benches/RESULTS.md`).
pub const BLOCK_MEMORY: usize = 400;

/// Memory the process may still take, in bytes: what Linux calls available
/// (`MemAvailable`), or less when a control group caps the process (a
/// container, a systemd slice, a job scheduler): the least room left under
/// any cap of the process's own groups and their parents, cgroup v1 or v2
/// (see [`cgroup_room`]), or under an address-space limit (`ulimit -v`).
/// `NEARDUP_AVAILABLE_MEMORY` (a size such as `2G`) overrides them all.
/// `None` when none tells.
#[must_use]
pub fn available() -> Option<u64> {
    // Which groups the process is in and where they are mounted, read once
    // a run (asked for each input read; only the groups' use changes).
    static GROUPS: std::sync::OnceLock<Option<(String, String)>> = std::sync::OnceLock::new();
    if let Ok(given) = std::env::var("NEARDUP_AVAILABLE_MEMORY") {
        return crate::sizes::parse_size("NEARDUP_AVAILABLE_MEMORY", &given)
            .ok()
            .map(|b| b as u64);
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let system = meminfo
        .as_deref()
        .and_then(|m| status_kib(m, "MemAvailable:"))
        .map(|kib| kib * 1024);
    let groups = GROUPS.get_or_init(|| {
        Some((
            std::fs::read_to_string("/proc/self/cgroup").ok()?,
            std::fs::read_to_string("/proc/self/mountinfo").ok()?,
        ))
    });
    let group = groups.as_ref().and_then(|(cgroup, mountinfo)| {
        cgroup_room(cgroup, mountinfo, |path| std::fs::read_to_string(path).ok())
    });
    [system, group, address_space_room()]
        .into_iter()
        .flatten()
        .min()
}

/// Room left under the process's address-space limit (`ulimit -v`,
/// `RLIMIT_AS`): its soft limit less what the process has mapped already
/// (`VmSize`). Past it every allocation and map fails, and a failed
/// allocation aborts the run with no word of why: a run that would not
/// fit is planned in chunks, or refused with a message, instead. `None`
/// when there is no limit.
fn address_space_room() -> Option<u64> {
    let limit = address_space_limit()?;
    let mapped = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| status_kib(&s, "VmSize:"))
        .map_or(0, |kib| kib * 1024);
    Some(limit.saturating_sub(mapped))
}

/// A v1 limit at least this large means no limit (the kernel writes
/// 9223372036854771712, `i64::MAX` rounded down to a page).
const NO_V1_LIMIT: u64 = 1 << 62;

/// The least room left under the memory caps of the process's control
/// groups, from `/proc/self/cgroup` (`cgroup`) and `/proc/self/mountinfo`
/// (`mountinfo`), reading the groups' files with `read`: for cgroup v2, the
/// `0::/path` group's `memory.max` less `memory.current`; for v1, the
/// `memory` controller's group's `memory.limit_in_bytes` less
/// `memory.usage_in_bytes`; in either, at every level from the group up to
/// the root of its hierarchy's mount (a parent's cap binds its children).
/// `None` when no group is capped (or none can be read).
pub fn cgroup_room(
    cgroup: &str,
    mountinfo: &str,
    read: impl Fn(&std::path::Path) -> Option<String>,
) -> Option<u64> {
    let number = |path: std::path::PathBuf| -> Option<u64> { read(&path)?.trim().parse().ok() };
    let mut least: Option<u64> = None;
    for line in cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (v2, limit, usage) = if controllers.is_empty() {
            (true, "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (false, "memory.limit_in_bytes", "memory.usage_in_bytes")
        } else {
            continue;
        };
        let Some((root, mount)) = cgroup_mount(mountinfo, v2) else {
            continue;
        };
        // The group's path below the mount's root (in a container, the
        // mount's root is often the group itself).
        let below = path.strip_prefix(root).unwrap_or(path);
        let mut dir = std::path::Path::new(mount).join(below.trim_start_matches('/'));
        loop {
            // ("max" in v2, a huge number in v1: no cap at this level.)
            if let Some(max) = number(dir.join(limit)).filter(|&m| m < NO_V1_LIMIT) {
                let used = number(dir.join(usage)).unwrap_or(0);
                let left = max.saturating_sub(used);
                least = Some(least.map_or(left, |r| r.min(left)));
            }
            if dir == std::path::Path::new(mount) || !dir.pop() {
                break;
            }
        }
    }
    least
}

/// The root and mount point of the cgroup v2 hierarchy (`v2`) or of the v1
/// hierarchy holding the memory controller, from `/proc/self/mountinfo`.
fn cgroup_mount(mountinfo: &str, v2: bool) -> Option<(&str, &str)> {
    mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        let mount: Vec<&str> = mount.split(' ').collect();
        let fs: Vec<&str> = fs.split(' ').collect();
        let (root, point) = (*mount.get(3)?, *mount.get(4)?);
        let matches = match (v2, fs.first()) {
            (true, Some(&"cgroup2")) => true,
            (false, Some(&"cgroup")) => fs
                .get(2)
                .is_some_and(|options| options.split(',').any(|o| o == "memory")),
            _ => false,
        };
        matches.then_some((root, point))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    fn files(entries: &[(&str, &str)]) -> impl Fn(&Path) -> Option<String> {
        let map: HashMap<PathBuf, String> = entries
            .iter()
            .map(|(p, v)| (PathBuf::from(p), (*v).to_owned()))
            .collect();
        move |path| map.get(path).cloned()
    }

    #[test]
    fn cgroup_v2_nested_caps_bind() {
        let mountinfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
        let cgroup = "0::/user.slice/job.scope\n";
        // The job has no cap of its own; its slice has 4 GiB, 3 GiB used.
        let read = files(&[
            ("/sys/fs/cgroup/user.slice/job.scope/memory.max", "max\n"),
            (
                "/sys/fs/cgroup/user.slice/job.scope/memory.current",
                "1000\n",
            ),
            ("/sys/fs/cgroup/user.slice/memory.max", "4294967296\n"),
            ("/sys/fs/cgroup/user.slice/memory.current", "3221225472\n"),
        ]);
        assert_eq!(cgroup_room(cgroup, mountinfo, read), Some(1 << 30));
        // A tighter cap below wins.
        let read = files(&[
            ("/sys/fs/cgroup/user.slice/job.scope/memory.max", "600\n"),
            (
                "/sys/fs/cgroup/user.slice/job.scope/memory.current",
                "100\n",
            ),
            ("/sys/fs/cgroup/user.slice/memory.max", "4294967296\n"),
        ]);
        assert_eq!(cgroup_room(cgroup, mountinfo, read), Some(500));
        // No cap anywhere.
        let read = files(&[("/sys/fs/cgroup/memory.max", "max\n")]);
        assert_eq!(cgroup_room(cgroup, mountinfo, read), None);
    }

    #[test]
    fn cgroup_v1_memory_controller_is_found() {
        let mountinfo = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
             32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
             35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
             41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let cgroup = "4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
        let read = files(&[
            (
                "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes",
                "9223372036854771712",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes",
                "2147483648",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/memory.usage_in_bytes",
                "1073741824",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712",
            ),
        ]);
        assert_eq!(cgroup_room(cgroup, mountinfo, read), Some(1 << 30));
        // In a container the mount's root is the group itself.
        let mountinfo =
            "35 31 0:32 /docker/xyz /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
        let cgroup = "9:memory:/docker/xyz\n";
        let read = files(&[
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "1000"),
            ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "400"),
        ]);
        assert_eq!(cgroup_room(cgroup, mountinfo, read), Some(600));
    }
}
