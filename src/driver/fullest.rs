//! `--keep fullest` in a run in chunks: the first pass, which clusters every
//! chunk's documents and decides which member each cluster keeps before
//! anything is written ([`AcrossChunks`]). The second pass is the run
//! itself, which keeps those members.

use super::{chunk_bytes, keys_seen, Summary, Tally, Underway};
use crate::cluster::lonely::Lonely;
use crate::cluster::{decide_fullest, AcrossChunks};
use crate::config::{Config, Keep, Level};
use crate::error::Error;
use crate::input::{InputPath, Past, Replay};
use crate::plan::{IndexUse, Plan, ReportTo};
use crate::prior::Prior;
use crate::progress::Progress;
use crate::store::History;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What the first pass gives the run.
pub(super) struct FirstPass {
    /// What spans the run's chunks (`None` when it needs no first pass).
    pub across: Option<AcrossChunks>,
    /// The segments' names it used.
    pub made: usize,
    /// The table of lonely short documents, back.
    pub lonely: Option<Lonely>,
    /// The time it took.
    pub took: Duration,
    /// What its inputs were when the first reading began (set by
    /// [`read_before`]).
    pub stamps: Stamps,
}

/// What the readings before the run give it.
pub(super) struct Before {
    /// `--keep fullest`'s first pass (empty for any other run), with the
    /// table of lonely short documents and the stamps of the files read.
    pub pass: FirstPass,
    /// The inputs the run reads, where not the plan's: copies of those
    /// that come once.
    pub inputs: Option<Vec<InputPath>>,
}

/// Reads the inputs of a run in chunks before the run does: the count of
/// short documents' shingles (without an index), then the first pass of
/// `--keep fullest`. What each file was before the first reading is
/// stamped, when a reading's answer is used (a count given up, or a run
/// with no first pass, read nothing the run relies on), and checked now
/// and again once the run has read it ([`Stamps::check`]).
///
/// # Errors
/// As [`copies`] and [`first_pass`], and every file that changed since it
/// was first read.
pub(super) fn read_before(
    plan: &Plan,
    progress: &dyn Progress,
) -> std::result::Result<Before, Vec<Error>> {
    // Under `--keep fullest` in chunks, the inputs that come once are
    // copied as they are first read, and read again from their copies.
    let copied = copies(plan).map_err(|e| vec![e])?;
    // (Only what is read again from its path: a copied stream is read
    // again from its copy, and a FIFO's times move as it is written to.)
    let stamps = match plan.memory_limit {
        Some(_) => Stamps::take(&plan.inputs, plan.config.keep == Keep::Fullest),
        None => Stamps::default(),
    };
    let (lonely, replayed) = match (plan.memory_limit, &plan.index) {
        (Some(limit), IndexUse::None) => crate::lonely::count(
            (&plan.inputs, copied.as_ref()),
            &plan.config,
            (chunk_bytes(limit), plan.spool_dir.clone(), plan.page_budget),
            (limit / 16, plan.output_held(), progress),
        ),
        _ => (None, None),
    };
    let counted = lonely.is_some();
    let mut pass = first_pass(plan, progress, lonely, copied.as_ref())?;
    if counted || pass.across.is_some() {
        pass.stamps = stamps;
    }
    pass.stamps.check()?;
    let again = copied.map(|c| c.read(&plan.inputs, Past::Copied));
    let inputs = plan.memory_limit.and(replayed.or(again));
    Ok(Before { pass, inputs })
}

/// Under `--keep fullest` in chunks, the copies of the inputs that come
/// once (standard input, a caller's stream, a FIFO or a pipe: [`Replay`]),
/// which the first pass makes as it reads them and the run reads again
/// under their own names; `None` for any other run, or when every input is
/// a file.
///
/// # Errors
/// A copy that cannot be made under `--tmp-dir`.
pub(super) fn copies(plan: &Plan) -> crate::error::Result<Option<Replay>> {
    if plan.memory_limit.is_none() || plan.config.keep != Keep::Fullest {
        return Ok(None);
    }
    let dir = &plan.spool_dir;
    Replay::of_streams(&plan.inputs, dir).map_err(|e| Error::io(dir, e))
}

/// Runs the first pass of a run in chunks under `--keep fullest` over the
/// run's inputs (files, read again by the run, and the `copied` inputs
/// that come once): the document level alone, every document stored with
/// its shingle set, then the member each cluster keeps
/// ([`decide_fullest`]). Any other run gets its `lonely` back.
///
/// # Errors
/// What reading the inputs or storing the chunks finds: the errors the run
/// itself would name (every input that fails, as in a whole run).
pub(super) fn first_pass(
    plan: &Plan,
    progress: &dyn Progress,
    lonely: Option<Lonely>,
    copied: Option<&Replay>,
) -> std::result::Result<FirstPass, Vec<Error>> {
    let (Some(limit), Keep::Fullest) = (plan.memory_limit, &plan.config.keep) else {
        return Ok(FirstPass {
            across: None,
            made: 0,
            lonely,
            took: Duration::ZERO,
            stamps: Stamps::default(),
        });
    };
    let started = Instant::now();
    let inputs = copied.map_or_else(
        || plan.inputs.clone(),
        |c| c.read(&plan.inputs, Past::Copied),
    );
    let first = first_pass_plan(plan, inputs);
    let stream = super::chunked_stream(first.inputs.clone(), &first, limit);
    let tally = Tally::Totals(Summary::default());
    let mut running = Underway::start(&first, progress, stream, Vec::new(), tally);
    (running.lonely, running.keys_seen) = (lonely, keys_seen(&first, true));
    running.across = Some(Arc::new(AcrossChunks::default()));
    running.held_joins = Some(Vec::new());
    progress.stage(
        "reading for the copies to keep",
        running.stream.input_total().unwrap_or(0),
        true,
    );
    if let Err(e) = running
        .next_chunk()
        .and_then(|chunk| running.chunks(chunk, None, ""))
    {
        let mut found = vec![e];
        found.extend(running.stream.other_errors());
        found.extend(running.stream.errors_after());
        return Err(found);
    }
    let held = running.held_joins.take().unwrap_or_default();
    let history = History::from_segments(std::mem::take(&mut running.segments));
    let (kept, unjoined) = decide_fullest(&held, &history, &plan.config);
    history.status().map_err(|e| vec![e])?;
    drop(history);
    let across = AcrossChunks {
        indexed: 0,
        kept: Some(kept),
        unjoined,
    };
    Ok(FirstPass {
        across: Some(across),
        made: running.made,
        lonely: running.lonely.take(),
        took: started.elapsed(),
        stamps: Stamps::default(),
    })
}

/// What each input file was when the first reading of a run in chunks
/// began (its device and inode, length and time of last change), so that a
/// file replaced or written to before the run has read it the second time
/// stops the run: the first pass's answer under `--keep fullest` (the
/// members each cluster keeps, by their place in the input) is about the
/// bytes it read, and would drop other records of other bytes; and the
/// count of short documents' shingles would take a short document of the
/// new bytes for one no other document shares a shingle with, and keep its
/// copies.
#[derive(Debug, Default)]
pub(super) struct Stamps {
    files: Vec<(PathBuf, Option<Stamp>)>,
    /// Whether the run keeps `--keep fullest` (which its message names).
    fullest: bool,
}

/// A file's identity and state, as [`Stamps`] compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    id: Option<(u64, u64)>,
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(path: &std::path::Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            Some((meta.dev(), meta.ino()))
        };
        #[cfg(not(unix))]
        let id = None;
        Some(Stamp {
            id,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

impl Stamps {
    fn take(inputs: &[InputPath], fullest: bool) -> Stamps {
        let files = inputs
            .iter()
            .filter(|input| input.read_again())
            .map(|input| (input.path.clone(), Stamp::of(&input.path)))
            .collect();
        Stamps { files, fullest }
    }

    /// Every input that is not what it was when the first pass began.
    ///
    /// # Errors
    /// One for each such input, naming it.
    pub(super) fn check(&self) -> std::result::Result<(), Vec<Error>> {
        let (run, first) = if self.fullest {
            ("--keep fullest with --memory-limit", "")
        } else {
            (
                "a run with --memory-limit",
                " (first for the shingles of its short documents)",
            )
        };
        let changed: Vec<Error> = self
            .files
            .iter()
            .filter(|(path, before)| Stamp::of(path) != *before)
            .map(|(path, _)| {
                let message = format!(
                    "changed while {run} read it (it reads its inputs twice{first}, and the \
                     second reading must see the bytes the first saw): the run stopped, and no \
                     output file was replaced (what went into a pipe, FIFO or device stays \
                     there); run it again once the file is complete"
                );
                Error::io(path, std::io::Error::other(message))
            })
            .collect();
        if changed.is_empty() {
            Ok(())
        } else {
            Err(changed)
        }
    }
}

impl Underway<'_> {
    /// In the first pass, notes the chunk's documents that joined a cluster
    /// by holding its representative.
    pub(super) fn note_held_joins(&mut self, analysis: &crate::Analysis) {
        if let Some(joins) = &mut self.held_joins {
            let level = &analysis.doc_level;
            let held = level.held.iter().enumerate().filter(|(_, &h)| h);
            joins.extend(held.map(|(d, _)| {
                let rep = level.rep_of[d].expect("a member that held its representative");
                (rep, analysis.base_docs + d)
            }));
        }
    }
}

/// The first pass's plan: the run's inputs and settings, the document level
/// alone, nothing written and nothing said (the run itself says it).
fn first_pass_plan(plan: &Plan, inputs: Vec<InputPath>) -> Plan {
    Plan {
        config: Config {
            level: Level::Docs,
            annotate: false,
            ..plan.config.clone()
        },
        command: plan.command.clone(),
        inputs,
        input_errors: Vec::new(),
        destination: None,
        report: ReportTo::Nowhere,
        html: None,
        format: plan.format,
        step_summary: None,
        index: IndexUse::None,
        memory_limit: plan.memory_limit,
        fallback: None,
        page_budget: plan.page_budget,
        spool_dir: plan.spool_dir.clone(),
        notes: Vec::new(),
        quiet: true,
        verbose: false,
        streams: plan.streams.clone(),
    }
}
