//! Inputs mapped into memory: their pages let go of, and which were mapped
//! (a file cut short while mapped makes reading it fault).

use std::ops::Range;
use std::path::PathBuf;

/// Drops a read-only file mapping's pages from the process (its resident set),
/// leaving them in the page cache: the next read faults them back in.
#[cfg(unix)]
pub fn release_pages(map: &memmap2::Mmap) {
    // SAFETY: the mapping is read-only and backed by a file that is never
    // written while mapped (an input or a spooled file), so
    // MADV_DONTNEED only unmaps pages; later reads see the same bytes again.
    #[allow(unsafe_code)]
    let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
}

/// See the Unix version; elsewhere nothing is released.
#[cfg(not(unix))]
pub fn release_pages(_: &memmap2::Mmap) {}

/// Drops the pages of `range` of a read-only file mapping (whole pages
/// inside it) from the resident set; the bytes stay readable.
pub fn release_map_range(map: &memmap2::Mmap, range: Range<usize>) {
    #[cfg(unix)]
    {
        const PAGE: usize = 4096;
        let start = range.start.div_ceil(PAGE) * PAGE;
        let end = (range.end.min(map.len()) / PAGE) * PAGE;
        if end > start {
            // SAFETY: as in `release_pages`: a read-only file mapping loses
            // only its page table entries.
            #[allow(unsafe_code)]
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
    #[cfg(not(unix))]
    let _ = (map, range);
}

/// Every input mapped so far, with its length then.
pub(crate) static MAPPED: std::sync::Mutex<Vec<(PathBuf, u64)>> = std::sync::Mutex::new(Vec::new());

/// Whether this run mapped any input (an EFAULT can come only from the
/// pages of one).
#[must_use]
pub fn any_mapped() -> bool {
    !MAPPED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .is_empty()
}

/// The inputs mapped by this run that are now shorter than they were
/// (truncated while mapped: what makes reading the map fault).
#[must_use]
pub fn mapped_and_cut_short() -> Vec<PathBuf> {
    let mapped = MAPPED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut cut: Vec<PathBuf> = mapped
        .iter()
        .filter(|(path, len)| std::fs::metadata(path).map_or(true, |m| m.len() < *len))
        .map(|(path, _)| path.clone())
        .collect();
    // A file mapped more than once (a run in chunks maps it again) is named once.
    cut.sort();
    cut.dedup();
    cut
}
