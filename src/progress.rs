//! How a run tells its caller how far it got, and what it has to say
//! (warnings, notes, `-v` figures). Below every stage: nothing here reaches
//! the answer.

/// Where a run reports progress (a progress bar in the binary) and its lines
/// for standard error. Calls come from several threads.
pub trait Progress: Sync {
    /// A stage begins, with `total` units of work (bytes or items).
    fn stage(&self, name: &'static str, total: u64, bytes: bool);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// What is done so far, in words (a chunked run's documents read).
    fn message(&self, _: String) {}
    /// A line for standard error (a warning, a note, `-v` figures), without
    /// the `neardup: ` the binary puts before it.
    fn say(&self, _: &str) {}
    /// The run is done with its stages (a bar is taken down).
    fn finish(&self) {}
}

/// No progress reporting, nothing said.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &'static str, _: u64, _: bool) {}
    fn advance(&self, _: u64) {}
}
