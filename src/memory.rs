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
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only walks glibc's own free lists and returns
        // unused pages with madvise; it touches no live allocation and is
        // thread-safe (it takes the arena locks).
        #[allow(unsafe_code)]
        unsafe {
            malloc_trim(0);
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
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: mallopt only sets a glibc tuning parameter; called once at
        // start, before other threads allocate.
        #[allow(unsafe_code)]
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

/// A vector of `len` copies of `value` whose memory Linux is asked to back
/// with transparent huge pages (2 MiB) before it is first written: for
/// tables read at random, where one TLB entry then covers 512 times as much.
/// Advice only: the contents are those of `vec![value; len]` either way.
pub fn huge_vec<T: Clone>(value: T, len: usize) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    {
        extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
        }
        const MADV_HUGEPAGE: i32 = 14;
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
                madvise(start as *mut std::ffi::c_void, end - start, MADV_HUGEPAGE);
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

/// Memory the process may still take, in bytes: what Linux calls available
/// (`MemAvailable`), or less when a control group caps the process (a
/// container). `NEARDUP_AVAILABLE_MEMORY` (a size such as `2G`) overrides
/// both. `None` when neither tells.
#[must_use]
pub fn available() -> Option<u64> {
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
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    // cgroup v2: the cap ("max" when there is none) less what is used.
    let group =
        read("memory.max").map(|max| max.saturating_sub(read("memory.current").unwrap_or(0)));
    match (system, group) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
