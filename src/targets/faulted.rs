//! A mapped input cut short while the run reads it (a log rotated with
//! `copytruncate`). Reading its lost pages faults (SIGBUS, caught in
//! [`super::clean_up_on_signals`]); a write made straight from them (into a
//! FIFO, a device, an `--out-dir` file) fails instead with EFAULT, `Bad
//! address`, an error that would name the output. Both are told as what
//! they are: the input's truncation.

use std::path::PathBuf;

use crate::error::Error;

/// What a fault on a mapped input means to the user, given the mapped
/// inputs found cut short.
pub(super) fn message(cut: &[PathBuf]) -> String {
    let what = if cut.is_empty() {
        "an input changed or could not be read while it was memory-mapped".to_owned()
    } else {
        let names: Vec<String> = cut.iter().map(|p| crate::escape::shown_path(p)).collect();
        format!(
            "{}: truncated while it was read (memory-mapped)",
            names.join(", ")
        )
    };
    format!("neardup: {what}: the run stopped, and no output file was replaced. Run again once it is stable, or pass --no-mmap to read inputs instead of mapping them")
}

/// Whether `e` is a read or write the system refused for the memory it was
/// given (EFAULT): the pages of a mapped input that was cut short.
#[must_use]
pub fn is_fault(e: &Error) -> bool {
    e.to_string()
        .contains(&format!("(os error {})", libc::EFAULT))
}

/// The message that stands for the errors of a failed run among which a
/// fault ([`is_fault`]) on a mapped input cut short while it was read:
/// `None` when there is no such fault, or no mapped input was cut short (the
/// errors are then said as they are).
#[must_use]
pub fn explained<'e>(mut errors: impl Iterator<Item = &'e Error>) -> Option<String> {
    if !errors.any(is_fault) {
        return None;
    }
    let cut = crate::input::mapped_and_cut_short();
    (!cut.is_empty()).then(|| message(&cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_told_by_the_os_error() {
        let fault = Error::io("o.fifo", std::io::Error::from_raw_os_error(libc::EFAULT));
        assert!(is_fault(&fault));
        let full = Error::io("o.fifo", std::io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(!is_fault(&full));
        // No input of this test was mapped and cut short.
        assert_eq!(explained([&fault].into_iter()), None);
        assert_eq!(explained([&full].into_iter()), None);
    }

    #[test]
    fn the_message_names_each_cut_input() {
        let m = message(&[PathBuf::from("app.log")]);
        assert!(m.starts_with("neardup: app.log: truncated while it was read (memory-mapped)"));
    }
}
