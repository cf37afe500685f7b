//! `--keep fullest` in a run in chunks: the first pass, which clusters every
//! chunk's documents and decides which member each cluster keeps before
//! anything is written ([`AcrossChunks`]). The second pass is the run
//! itself, which keeps those members.

use super::{keys_seen, Summary, Tally, Underway};
use crate::cluster::lonely::Lonely;
use crate::cluster::{decide_fullest, AcrossChunks};
use crate::config::{Config, Keep, Level};
use crate::error::Error;
use crate::plan::{IndexUse, Plan, ReportTo};
use crate::prior::Prior;
use crate::progress::Progress;
use crate::store::History;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the first pass gives the run: what spans its chunks (`None` when
/// the run needs no first pass), the segments' names it used, the table of
/// lonely short documents back, and the time it took.
type FirstPass = (Option<AcrossChunks>, usize, Option<Lonely>, Duration);

/// Runs the first pass of a run in chunks under `--keep fullest` over the
/// run's inputs (files, read again by the run): the document level alone,
/// every document stored with its shingle set, then the member each
/// cluster keeps ([`decide_fullest`]). Any other run gets its `lonely` back.
///
/// # Errors
/// What reading the inputs or storing the chunks finds: the errors the run
/// itself would name (every input that fails, as in a whole run).
pub(super) fn first_pass(
    plan: &Plan,
    progress: &dyn Progress,
    lonely: Option<Lonely>,
) -> std::result::Result<FirstPass, Vec<Error>> {
    let (Some(limit), Keep::Fullest) = (plan.memory_limit, &plan.config.keep) else {
        return Ok((None, 0, lonely, Duration::ZERO));
    };
    let started = Instant::now();
    let first = first_pass_plan(plan);
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
    Ok((
        Some(across),
        running.made,
        running.lonely.take(),
        started.elapsed(),
    ))
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
fn first_pass_plan(plan: &Plan) -> Plan {
    Plan {
        config: Config {
            level: Level::Docs,
            annotate: false,
            ..plan.config.clone()
        },
        command: plan.command.clone(),
        inputs: plan.inputs.clone(),
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
