//! A mapped input cut short while the run reads it (a log rotated with
//! `copytruncate`). Reading its lost pages faults (SIGBUS, caught in
//! [`super::clean_up_on_signals`]); a write made straight from them (into a
//! FIFO, a device, an `--out-dir` file) fails instead with EFAULT, `Bad
//! address`, an error that would name the output. Both are told as what
//! they are: the input's truncation.

use std::path::PathBuf;

use crate::error::Error;

/// What a fault on a mapped input means to the user, given the mapped
/// inputs found cut short (none: one was cut short and has grown back since,
/// as a log still written to does, or changed otherwise).
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
    format!("{what}: the run stopped, and no output file was replaced (what went into a pipe, FIFO or device stays there). Run again once it is stable, or pass --no-mmap to read inputs instead of mapping them")
}

/// Whether `e` is, or was caused by, a read or write the system refused for
/// the memory it was given (EFAULT): the pages of a mapped input that was
/// cut short. Told by the OS error's code, not by the message (which holds
/// paths).
#[must_use]
pub fn is_fault(e: &Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
            == Some(libc::EFAULT)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A failed run's errors as they are told: with a fault ([`is_fault`]) on a
/// mapped input among them, its explanation, said once, and the other
/// errors (the faults left out: they would name an output, or say only "Bad
/// address"); else no explanation and every error (also when the run mapped
/// no input). Nothing else in a run makes an EFAULT, so a fault with inputs
/// mapped is told as theirs even when none is shorter by now. The command
/// line prints these, and the Python package raises them.
#[must_use]
pub fn told<'e>(errors: impl Iterator<Item = &'e Error>) -> (Option<String>, Vec<&'e Error>) {
    let errors: Vec<&Error> = errors.collect();
    let fault = errors.iter().any(|e| is_fault(e));
    match explain(
        fault,
        crate::input::any_mapped(),
        crate::input::mapped_and_cut_short,
    ) {
        Some(said) => (
            Some(said),
            errors.into_iter().filter(|e| !is_fault(e)).collect(),
        ),
        None => (None, errors),
    }
}

/// The explanation [`told`] gives, given whether a fault was among the
/// errors and whether any input was mapped; `cut` lists the mapped inputs cut short.
fn explain(fault: bool, mapped: bool, cut: impl FnOnce() -> Vec<PathBuf>) -> Option<String> {
    (fault && mapped).then(|| message(&cut()))
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
        // A path holding the words of a fault is not one.
        let named = Error::io(
            "x (os error 14)",
            std::io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert!(!is_fault(&named));
        // No input mapped: said as it is.
        assert_eq!(explain(true, false, Vec::new), None);
        assert_eq!(explain(false, true, Vec::new), None);
        // An input cut short and grown back (a log still written to) is
        // still the cause.
        let said = explain(true, true, Vec::new).expect("told");
        assert!(said.starts_with("an input changed or could not be read"));
    }

    #[test]
    fn the_message_names_each_cut_input() {
        let m = message(&[PathBuf::from("app.log")]);
        assert!(m.starts_with("app.log: truncated while it was read (memory-mapped)"));
    }
}
