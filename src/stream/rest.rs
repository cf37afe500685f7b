//! What a run in chunks names when an input fails (`--on-error fail`): the
//! first error of every input that fails, as a run of one chunk names them,
//! not only the first. The inputs after the one that failed are read for
//! their errors alone (see [`Stream::errors_after`]).

use super::Stream;
use crate::error::Error;
use crate::input::InputPath;

impl Stream<'_> {
    /// Once an input's error ended the reading: the first error of each
    /// input not opened yet, in input order. Each is read as the run reads
    /// it, a piece at a time, and its documents are let go: nothing is
    /// analysed or written, and no more is held than a piece. Standard
    /// input, FIFOs and devices are not read (their writer might never end
    /// them), and the search gives up when the run's caller asks it to stop.
    /// Nothing when the reading did not fail on an input (a spool file that
    /// cannot be written, an output that failed).
    pub fn errors_after(&mut self) -> Vec<Error> {
        if !std::mem::take(&mut self.failed) {
            return Vec::new();
        }
        let rest: Vec<InputPath> = std::mem::take(&mut self.inputs)
            .into_iter()
            .map(|(input, _)| input)
            .filter(InputPath::read_again)
            .collect();
        let mut found = Vec::new();
        for input in rest {
            let mut one = Stream::new(vec![input], self.config, self.piece, self.dir.clone())
                .with_max_document(self.max_document)
                .with_page_budget(self.page_budget);
            loop {
                if crate::hooks::stopped() {
                    return found;
                }
                match one.read_piece() {
                    Ok(true) => {
                        one.pending.clear();
                        one.pending_bytes = 0;
                    }
                    Ok(false) => break,
                    Err(e) => {
                        found.push(e);
                        found.extend(one.other_errors());
                        break;
                    }
                }
            }
        }
        found
    }

    /// Whether `e`, which ended the reading, is an input's: not the spool
    /// directory's, nor a stop the run's caller asked for.
    pub(super) fn of_input(&self, e: &Error) -> bool {
        match e {
            Error::Io { path, source } => {
                path != &self.dir && source.kind() != std::io::ErrorKind::Interrupted
            }
            Error::InvalidUtf8 { .. }
            | Error::Binary { .. }
            | Error::Utf16 { .. }
            | Error::Record { .. }
            | Error::Decompress { .. }
            | Error::TooLarge { .. }
            | Error::Parquet { .. } => true,
            _ => false,
        }
    }
}
