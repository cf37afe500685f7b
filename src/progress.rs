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
    /// Whether the run may still change files, asked once every output is
    /// written and before any is renamed into place: an error
    /// ([`crate::Error::Withdrawn`]) when what drives the run has withdrawn
    /// it (a Python callback raised, or Ctrl-C came while the engine ran),
    /// so that such a run changes no file. The binary's runs always may
    /// (its signals end the process).
    ///
    /// # Errors
    /// Why the run may not go on.
    fn proceed(&self) -> crate::Result<()> {
        Ok(())
    }
}

/// No progress reporting, nothing said.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &'static str, _: u64, _: bool) {}
    fn advance(&self, _: u64) {}
}

/// Units of work counted on one thread and passed to a [`Progress`] a
/// mebibyte at a time (and the rest when dropped): a call per document cost
/// 6% of a run of a million one-line records, every thread taking the bar's
/// lock in turn.
pub(crate) struct Batched<'p> {
    progress: &'p dyn Progress,
    pending: u64,
}

impl<'p> Batched<'p> {
    /// How many units are passed on at once.
    const AT_ONCE: u64 = 1 << 20;

    pub(crate) fn new(progress: &'p dyn Progress) -> Batched<'p> {
        Batched {
            progress,
            pending: 0,
        }
    }

    /// `n` more units are done.
    pub(crate) fn advance(&mut self, n: u64) {
        self.pending += n;
        if self.pending >= Self::AT_ONCE {
            self.progress.advance(std::mem::take(&mut self.pending));
        }
    }
}

impl Drop for Batched<'_> {
    fn drop(&mut self) {
        if self.pending > 0 {
            self.progress.advance(self.pending);
        }
    }
}
