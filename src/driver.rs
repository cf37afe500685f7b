//! The run, one path for every run: inputs are read a chunk of documents at a
//! time, each chunk analysed after everything the chunks before it stored
//! (exactly as batches are checked against an index, [`crate::store`]), its
//! report entries counted and its cleaned output written, then the index
//! updated and the report delivered. A run without a memory limit is one
//! chunk: every input read whole, on every thread, every error collected,
//! and the engine's fast path (kept word hashes, no history) taken when
//! nothing is stored for later chunks or an index.
//!
//! What earlier chunks stored lives in index segments, unnamed files in
//! `--tmp-dir` (a killed run leaves none behind), read with positioned reads.
//! Each chunk's items become a new segment; a new segment at least half the
//! size of the one before it is merged into it (size-tiered, as in
//! log-structured merge trees), so a run of `n` chunks keeps about `log2 n`
//! segments and rewrites each item about `log2 n` times.

use crate::chunked::{DirSink, Held, OneStream, PartWriter, Sink};
use crate::cluster::lonely::Lonely;
use crate::cluster::AcrossChunks;
use crate::config::OnError;
use crate::error::{Error, Result};
use crate::input::{self, InputPath, Texts};
use crate::output::{self, Annotate, Annotations, Destination};
use crate::pipeline::analyze_chunk;
use crate::plan::{Command, IndexUse, Plan, ReportFormat, ReportTo};
use crate::prior::Prior;
use crate::progress::{Progress, Silent};
use crate::report::{self, Accumulator, Summary};
use crate::store::{self, History, IndexParams, Segment};
use crate::stream::{Chunk, Stream};
use crate::targets::{Staged, Staging};
use crate::ExitStatus;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod delivery;
use delivery::{closed_early, deliver_report};
mod fullest;

pub use crate::stream::MEMORY_PER_TEXT_BYTE;

mod held;

/// Why a run failed: every error, in the order found (the plan's first).
#[derive(Debug)]
pub struct Failure<'p> {
    planned: &'p [Error],
    found: Vec<Error>,
}

impl Failure<'_> {
    fn owned(found: Vec<Error>) -> Failure<'static> {
        let planned = &[];
        Failure { planned, found }
    }

    fn one(e: Error) -> Failure<'static> {
        Failure::owned(vec![e])
    }

    /// Every error, in order.
    pub fn errors(&self) -> impl Iterator<Item = &Error> {
        self.planned.iter().chain(&self.found)
    }
}

/// Runs what `plan` settled, on `plan.config.threads` threads, reporting
/// progress and saying warnings, notes and `-v` figures through `progress`.
///
/// # Errors
/// Every error that stopped the run (bad inputs, unreadable index, failed
/// writes). A closed standard output is not one: the run ends with success.
pub fn run<'p>(plan: &'p Plan, progress: &dyn Progress) -> Result<ExitStatus, Failure<'p>> {
    let threads = plan.config.threads;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(crate::targets::joining_this_run())
        .build()
        .map_err(|e| Failure::one(Error::Usage(format!("cannot start {threads} threads: {e}"))))?;
    let past = |f: &Failure| f.errors().any(|e| matches!(e, Error::PastCeiling { .. }));
    pool.install(|| match execute(plan, progress) {
        Err(f) if past(&f) => match plan.in_chunks() {
            Some(chunked) => execute(&chunked, progress).map_err(|f| Failure::owned(f.found)),
            None => Err(f),
        },
        done => done,
    })
}

fn is_broken_pipe(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The filter of the bucket keys a run in chunks stores ([`store::KeysSeen`]),
/// a sixteenth of its limit: under SimHash (every document has a key in every
/// table, almost all of them its alone; MinHash's short documents are spared
/// their keys instead, see [`Lonely`]), at the document level, when the
/// run's segments are all its own (`fresh`: an index's keys are not in it).
fn keys_seen(plan: &Plan, fresh: bool) -> Option<Arc<store::KeysSeen>> {
    let config = &plan.config;
    let limit = plan.memory_limit?;
    (fresh
        && config.method == crate::config::Method::Simhash
        && config.level != crate::config::Level::Blocks)
        .then(|| Arc::new(store::KeysSeen::with_bytes(limit / 16)))
}

/// The index a run was opened with.
#[derive(Default)]
struct OpenIndex {
    history: Option<History>,
    /// A second descriptor of the update's lock, for an index that does not
    /// exist yet (an existing index holds it while open).
    _lock: Option<crate::targets::LockDescriptor>,
    /// The update's lock, held until the index is renamed into place at the
    /// end of the run (the opened index's descriptor goes before then), and
    /// its lock file removed then if the run created it and failed.
    held: Option<store::Lock>,
    report: Option<report::IndexReport>,
}

fn open_index(plan: &Plan) -> Result<OpenIndex> {
    let (path, role, update) = match &plan.index {
        IndexUse::None => return Ok(OpenIndex::default()),
        IndexUse::Build(out) => {
            // Refused before the run, as well as when the index is written.
            crate::targets::replaceable_index(out)?;
            let lock = store::lock(out)?;
            return Ok(OpenIndex {
                _lock: Some(lock.share().map_err(|e| Error::io(out, e))?),
                held: Some(lock),
                ..OpenIndex::default()
            });
        }
        IndexUse::Read { path, role, update } => (path, *role, *update),
    };
    let (mut lock, mut held) = (None, None);
    if update {
        let taken = store::lock(path)?;
        lock = Some(taken.share().map_err(|e| Error::io(path, e))?);
        held = Some(taken);
    }
    // An empty file is no index yet (as for `index build -o`).
    let history = if store::empty_index(path, update)? {
        None
    } else if path.try_exists().map_err(|e| Error::io(path, e))? {
        let params = IndexParams::of(&plan.config);
        Some(History::open(path, Some(&params), lock.take())?)
    } else if update {
        None
    } else {
        return Err(Error::Index {
            path: path.clone(),
            message: format!(
                "no such index; create it with `--index {} --update` or `neardup index build`",
                path.display()
            ),
        });
    };
    let report = report::IndexReport {
        path: crate::escape::path(path),
        role: role.into(),
        documents: history.as_ref().map_or(0, History::documents),
        blocks: history.as_ref().map_or(0, History::blocks),
        updated: update,
    };
    Ok(OpenIndex {
        history,
        _lock: lock,
        held,
        report: Some(report),
    })
}

/// What the report counts as chunks come.
enum Tally {
    /// The whole report.
    Report(Box<Accumulator>),
    /// Its totals only (a report that goes nowhere but its line of totals).
    Totals(Summary),
}

/// Wall time spent over all chunks, for `-v`.
#[derive(Default)]
struct Spent {
    read: Duration,
    sketch: Duration,
    documents: Duration,
    blocks: Duration,
    runs: Duration,
    report: Duration,
    write: Duration,
}

/// A run under way: what it has read, stored and counted.
struct Underway<'p> {
    plan: &'p Plan,
    progress: &'p dyn Progress,
    stream: Stream<'p>,
    /// The index first (from 0 to `base`), then the run's own segments.
    segments: Vec<Segment>,
    base: usize,
    /// Segments made so far, to name the next.
    made: usize,
    /// The last chunk's items, for the index update.
    last_delta: Option<store::Delta>,
    indexed_docs: usize,
    /// (block, document, exact key) of copies in documents dropped whole of
    /// first copies not seen yet; and the last chunk's exact keys.
    unresolved: Vec<(usize, usize, u128)>,
    last_exact: std::collections::HashMap<u128, store::ExactRecord>,
    tally: Tally,
    parts: PartWriter,
    annotations: Annotations,
    /// Skipped inputs warned of so far.
    warned: usize,
    /// Whether a record read so far has a value in the field that `--keep
    /// newest:`/`max:` reads.
    keep_read: bool,
    chunks: usize,
    documents: usize,
    text_bytes: usize,
    blocks: usize,
    spent: Spent,
    /// Bytes of input shown on the progress bar.
    shown: u64,
    /// Sources told of so far (`-v`, and text that is not UTF-8).
    announced: usize,
    /// Outputs and the report, staged beside their targets and renamed
    /// together once the whole run has succeeded.
    staging: Staging,
    /// Short documents no other document shares a shingle with.
    lonely: Option<Lonely>,
    /// Every bucket key the run's segments hold, under SimHash in a run in
    /// chunks without an index (see [`store::KeysSeen`]).
    keys_seen: Option<Arc<store::KeysSeen>>,
    /// `--keep fullest` in chunks: what spans the chunks ([`AcrossChunks`]);
    /// in its first pass, the documents that joined a cluster by holding its
    /// representative, as (representative, document).
    across: Option<Arc<AcrossChunks>>,
    held_joins: Option<Vec<(usize, usize)>>,
}

#[allow(clippy::too_many_lines)]
fn execute<'p>(plan: &'p Plan, progress: &dyn Progress) -> Result<ExitStatus, Failure<'p>> {
    let started = Instant::now();
    let config = &plan.config;
    for note in &plan.notes {
        progress.say(note);
    }
    // A run in chunks writes as it reads: nothing is read before every path
    // is known good.
    if !plan.one_chunk() && !plan.input_errors.is_empty() {
        return Err(Failure {
            planned: &plan.input_errors,
            found: Vec::new(),
        });
    }
    let index = open_index(plan).map_err(Failure::one)?;
    // Made here, and removed when the run ends if it made it (it holds
    // nothing of the run's then).
    let _spool = match plan.memory_limit {
        Some(_) => Some(crate::targets::SpoolDir::make(&plan.spool_dir).map_err(Failure::one)?),
        None => None,
    };
    let peeked = plan
        .inputs
        .iter()
        .map(|i| (i, input::format_peeked(i, config)));
    check_destination(plan, peeked).map_err(Failure::one)?;
    if !plan.one_chunk() && config.on_error == OnError::Fail {
        // Every input that cannot be opened is named before anything is
        // read. A FIFO or pipe (`<(cmd)`) is not opened to see: opening
        // one waits for its writer, and closing it loses what was sent.
        let unreadable: Vec<Error> = plan
            .inputs
            .iter()
            .filter(|i| !i.is_stdin())
            .filter(|i| std::fs::metadata(&i.path).map_or(true, |m| m.is_file() || m.is_dir()))
            .filter_map(|i| {
                std::fs::File::open(&i.path)
                    .err()
                    .map(|e| Error::io(&i.path, e))
            })
            .collect();
        if !unreadable.is_empty() {
            return Err(Failure {
                planned: &[],
                found: unreadable,
            });
        }
    }
    let OpenIndex {
        history,
        _lock: lock,
        held,
        report: index_report,
    } = index;
    let segments = history.map(History::into_segments).unwrap_or_default();
    let keys_seen = keys_seen(plan, segments.is_empty());
    let clock = Instant::now();
    // What reads the inputs before the run does (short documents, then
    // `--keep fullest`'s first pass), and the inputs the run reads.
    let fullest::Before { pass, inputs } =
        fullest::read_before(plan, progress).map_err(Failure::owned)?;
    let stream = match plan.memory_limit {
        // The HTML page shows the texts of a run of one chunk (a run in
        // chunks no longer holds them when it writes its report).
        None if plan.html.is_some() || plan.format == ReportFormat::Html => {
            Stream::whole(plan.inputs.clone(), config).keeping_texts()
        }
        None => Stream::whole(plan.inputs.clone(), config),
        Some(limit) => chunked_stream(inputs.unwrap_or_else(|| plan.inputs.clone()), plan, limit),
    };
    let tally =
        if matches!(plan.report, ReportTo::Totals | ReportTo::Nowhere) && plan.html.is_none() {
            Tally::Totals(Summary::default())
        } else {
            let mut report = Accumulator::new(config, plan.command.name());
            // Documents' entries go to disk (a report can be larger than
            // the run's memory): in chunks all, whole only those too large.
            report.spool_large_documents(&plan.spool_dir);
            if !plan.one_chunk() {
                report
                    .spool_documents(&plan.spool_dir)
                    .map_err(|e| Failure::one(Error::io(&plan.spool_dir, e)))?;
            }
            Tally::Report(Box::new(report))
        };
    let mut running = Underway::start(plan, progress, stream, segments, tally);
    (running.lonely, running.keys_seen, running.made) = (pass.lonely, keys_seen, pass.made);
    running.across = pass.across.map(Arc::new);
    running.spent.sketch += clock.elapsed().saturating_sub(pass.took);
    running.spent.documents += pass.took;
    if !plan.one_chunk() {
        progress.stage("reading", running.stream.input_total().unwrap_or(0), true);
    }
    // The first chunk is read before any output is made (a run of one chunk
    // reads every input, and names every error, before it writes anything).
    let first = match running.next_chunk() {
        Ok(first) if plan.input_errors.is_empty() => first,
        read => {
            let mut found: Vec<Error> = read.err().into_iter().collect();
            found.extend(running.stream.other_errors());
            found.extend(running.stream.errors_after());
            return Err(Failure {
                planned: &plan.input_errors,
                found,
            });
        }
    };
    // Checked again with what reading found (standard input's format shows
    // only once it is read).
    let sources = &running.stream.seen().sources;
    check_destination(plan, sources.iter().map(|s| (&s.input, s.format))).map_err(Failure::one)?;
    let updating = plan.index.writes().is_some();
    match running.deliver(first) {
        Err(e) if is_broken_pipe(&e) => {
            return Ok(closed_early(
                Some(&e),
                (updating, ExitStatus::Success),
                &running.staging,
                progress,
            ));
        }
        Err(e) => {
            // A later chunk's input failed: the other inputs that fail are
            // named too, as a run of one chunk names them.
            let mut found = vec![e];
            found.extend(running.stream.other_errors());
            found.extend(running.stream.errors_after());
            return Err(Failure::owned(found));
        }
        Ok(()) => {}
    }
    // The run read what the readings before it did.
    pass.stamps.check().map_err(Failure::owned)?;
    progress.finish();
    let index_chunks = (running.base == 1).then(|| {
        let index = &running.segments[0];
        (index.path().to_owned(), index.chunks_read())
    });
    // The index is staged now and renamed into place last, once the output
    // and the report are: a failed write then never makes the next run drop
    // what was not kept.
    let staged_index = match plan.index.writes() {
        Some(path) => Some(running.update_index(path).map_err(Failure::one)?),
        None => None,
    };
    let Underway {
        stream,
        tally,
        warned,
        keep_read,
        spent,
        chunks,
        documents,
        text_bytes,
        blocks,
        mut staging,
        ..
    } = running;
    let seen = stream.into_seen();
    if !plan.quiet {
        for skipped in &seen.skipped[warned..] {
            progress.say(&format!("warning: skipped {skipped}"));
        }
        // A misspelt field, or text files, made it `--keep first` unsaid.
        if let Some(field) = config.keep.field().filter(|_| documents > 0 && !keep_read) {
            progress.say(&format!(
                "warning: no record has a value in the field {field:?} that --keep {} reads: the first of each cluster is kept",
                crate::escape::printable(&config.keep.to_string())
            ));
        }
    }
    let mut status = ExitStatus::Success;
    match tally {
        Tally::Report(report) => {
            let mut report = report
                .finish(&seen.sources, &seen.skipped)
                .map_err(|e| Failure::one(Error::io(&plan.spool_dir, e)))?;
            let indexed = index_report.as_ref().map_or(0, |r| r.documents);
            report.index = index_report;
            if let Command::Check { limits, exit_zero } = plan.command {
                let verdict = crate::check::evaluate(&report, limits);
                if !verdict.passed && !exit_zero {
                    status = ExitStatus::Duplicates;
                }
                report.check = Some(verdict);
            }
            // The HTML page shows this run's texts (an indexed document's
            // text is not held), in a run of one chunk.
            let text_of = |global: usize| {
                let doc = global.checked_sub(indexed)?;
                (plan.one_chunk() && doc < seen.places_len()).then(|| seen.text_of(doc))
            };
            let text_of: report::html::TextOf<'_> = &text_of;
            if !deliver_report(plan, (&report, Some(text_of)), progress, &mut staging)
                .map_err(Failure::one)?
            {
                return Ok(closed_early(None, (updating, status), &staging, progress));
            }
        }
        Tally::Totals(summary) => {
            if plan.report == ReportTo::Totals && !plan.quiet {
                progress.say(&summary.line());
            }
        }
    }
    if let Some(index) = staged_index {
        staging.add(index);
    }
    progress.proceed().map_err(Failure::one)?;
    staging.commit().map_err(Failure::one)?;
    if let Some(mut held) = held {
        held.keep();
    }
    drop(lock);
    if let (IndexUse::Build(out), false) = (&plan.index, plan.quiet) {
        progress.say(&format!(
            "indexed {} and {} into {}",
            report::plural(documents, "document"),
            report::plural(blocks, "block"),
            crate::escape::shown_path(out)
        ));
    }
    if plan.verbose && !plan.quiet {
        let total = started.elapsed();
        #[allow(clippy::cast_precision_loss)]
        let mb = text_bytes as f64 / 1e6;
        let in_chunks = if plan.one_chunk() {
            String::new()
        } else {
            format!(" in {chunks} chunks")
        };
        let s = &spent;
        let known = s.read + s.sketch + s.documents + s.blocks + s.runs + s.report + s.write;
        progress.say(&format!(
            "{documents} documents, {mb:.1} MB{in_chunks}: read {:.3}s, sketch {:.3}s, documents {:.3}s, blocks {:.3}s, runs {:.3}s, report {:.3}s, write {:.3}s, segments and the rest {:.3}s, total {:.3}s ({:.1} MB/s, {} threads)",
            s.read.as_secs_f64(),
            s.sketch.as_secs_f64(),
            s.documents.as_secs_f64(),
            s.blocks.as_secs_f64(),
            s.runs.as_secs_f64(),
            s.report.as_secs_f64(),
            s.write.as_secs_f64(),
            total.saturating_sub(known).as_secs_f64(),
            total.as_secs_f64(),
            mb / total.as_secs_f64().max(1e-9),
            config.threads,
        ));
        if let Some(memory) = crate::memory::usage() {
            progress.say(&memory);
        }
        let spooled = store::scratch_peak();
        if spooled > 0 {
            #[allow(clippy::cast_precision_loss)]
            let per_byte = spooled as f64 / (text_bytes as f64).max(1.0);
            #[allow(clippy::cast_precision_loss)]
            let mb = |bytes: u64| bytes as f64 / 1e6;
            progress.say(&format!(
                "temporary space: the spooled index took at most {:.1} MB of --tmp-dir ({per_byte:.2} bytes a byte of text), {:.1} MB between merges, {:.1} MB written in all",
                mb(spooled),
                mb(store::scratch_settled()),
                mb(store::scratch_written()),
            ));
        }
        if let Some((path, (read, all))) = index_chunks {
            progress.say(&format!(
                "index {}: read {} of {} 4 KiB chunks ({})",
                crate::escape::shown_path(&path),
                report::thousands(read),
                report::thousands(all),
                report::percent(read, all)
            ));
        }
    }
    Ok(status)
}

/// Refuses a destination `clean` cannot write `inputs` (each with its
/// format) to, before anything is written; without a destination `inputs`
/// are not looked at (nor their formats found).
fn check_destination<'i>(
    plan: &Plan,
    inputs: impl Iterator<Item = (&'i InputPath, crate::Format)>,
) -> Result<()> {
    if let Some(d) = &plan.destination {
        let inputs: Vec<_> = inputs.collect();
        crate::parquet::check_destination(&inputs, d)?;
        output::plan(&inputs, d, plan.config.annotate)?;
    }
    Ok(())
}

/// The stream a run in chunks of `plan` reads `inputs` through, under
/// `limit` bytes of memory.
fn chunked_stream(inputs: Vec<InputPath>, plan: &Plan, limit: usize) -> Stream<'_> {
    Stream::new(
        inputs,
        &plan.config,
        chunk_bytes(limit) / 2,
        plan.spool_dir.clone(),
    )
    .with_max_document(chunk_bytes(limit))
    .with_page_budget(plan.page_budget)
}

/// Bytes of text a chunk holds at most under a memory limit (a chunk holds
/// one document at least).
fn chunk_bytes(limit: usize) -> usize {
    (limit / MEMORY_PER_TEXT_BYTE).max(4096)
}

impl<'p> Underway<'p> {
    /// A run that has read nothing yet, after the index's `segments`.
    fn start(
        plan: &'p Plan,
        progress: &'p dyn Progress,
        stream: Stream<'p>,
        segments: Vec<Segment>,
        tally: Tally,
    ) -> Underway<'p> {
        Underway {
            plan,
            progress,
            stream,
            base: segments.len(),
            indexed_docs: segments.first().map_or(0, Segment::documents),
            segments,
            made: 0,
            last_delta: None,
            unresolved: Vec::new(),
            last_exact: std::collections::HashMap::new(),
            tally,
            parts: PartWriter::default(),
            annotations: Annotations::default(),
            warned: 0,
            keep_read: false,
            chunks: 0,
            documents: 0,
            text_bytes: 0,
            blocks: 0,
            spent: Spent::default(),
            shown: 0,
            announced: 0,
            staging: Staging::new(),
            lonely: None,
            keys_seen: None,
            across: None,
            held_joins: None,
        }
    }

    /// Runs every chunk, writing the output to `sink` (or, with
    /// `--annotate` over several chunks, holding it until the clusters are
    /// whole), starting with `first`.
    fn deliver(&mut self, first: Option<Chunk>) -> Result<()> {
        let plan = self.plan;
        let name = |path: &Path| path.display().to_string();
        match &plan.destination {
            None => self.chunks(first, None, ""),
            Some(Destination::Stdout) => {
                let stdout = crate::pipe::stdout_or(plan.streams.stdout.as_ref());
                let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
                // A reader of the pipe gets each chunk's output as it is made.
                let mut sink = OneStream {
                    out: &mut out,
                    flush: true,
                };
                self.annotated(first, &mut sink, "<stdout>")?;
                out.flush().map_err(|e| Error::io("<stdout>", e))
            }
            Some(Destination::File(path)) => {
                let mut failed = None;
                let mut staging = std::mem::take(&mut self.staging);
                let config = &plan.config;
                // A FIFO or device gets each chunk as it is made, as a pipe does.
                let flush = !crate::targets::staged(path);
                let written = output::write_compressed(path, &mut staging, |out| {
                    let mut one = OneStream { out, flush };
                    let mut sink = crate::parquet::Sink::new(&mut one, config, true)
                        .with_page_budget(plan.page_budget);
                    self.annotated(first, &mut sink, &name(path)).map_err(|e| {
                        let message = e.to_string();
                        failed = Some(e);
                        std::io::Error::other(message)
                    })
                });
                self.staging = staging;
                match failed {
                    Some(e) => Err(e),
                    None => written,
                }
            }
            Some(Destination::Dir(dir)) => {
                let mut staging = std::mem::take(&mut self.staging);
                let mut files = DirSink::new(dir, &mut staging);
                let mut sink = crate::parquet::Sink::new(&mut files, &plan.config, false)
                    .with_page_budget(plan.page_budget);
                let written = self.annotated(first, &mut sink, &name(dir));
                drop(sink);
                drop(files);
                self.staging = staging;
                written
            }
        }
    }

    /// [`Underway::chunks`] into `sink`; with `--annotate` over several
    /// chunks, the output is held until every cluster is whole, then
    /// written with each record's fields.
    fn annotated(&mut self, first: Option<Chunk>, sink: &mut dyn Sink, name: &str) -> Result<()> {
        if !self.plan.config.annotate || self.plan.one_chunk() {
            return self.chunks(first, Some(sink), name);
        }
        let dir = &self.plan.spool_dir;
        let mut held = Held::new(dir).map_err(|e| Error::io(dir, e))?;
        self.chunks(first, Some(&mut held), name)?;
        held.replay(&self.annotations, self.indexed_docs, sink)
            .map_err(|e| Error::io(name, e))
    }

    /// Analyses, counts and writes every chunk, starting with `first`.
    fn chunks(
        &mut self,
        first: Option<Chunk>,
        mut sink: Option<&mut dyn Sink>,
        name: &str,
    ) -> Result<()> {
        let mut next = first;
        while let Some(chunk) = next {
            let to: Option<&mut dyn Sink> = match &mut sink {
                Some(sink) => Some(&mut **sink),
                None => None,
            };
            self.chunk(&chunk, to, name)?;
            next = self.next_chunk()?;
        }
        self.resolve_late_copies()?;
        // Before any output is put in place.
        let seen = self.stream.seen();
        if seen.sources.is_empty() && !seen.skipped.is_empty() {
            return Err(crate::chunked::every_input_skipped(&seen.skipped));
        }
        if let Some(sink) = sink {
            let clock = Instant::now();
            self.parts
                .finish(&self.stream.seen().sources, sink)
                .map_err(|e| crate::chunked::sink_error(name, e))?;
            self.spent.write += clock.elapsed();
        }
        Ok(())
    }

    /// Analyses one chunk after every chunk before it, counts it and writes
    /// it; then stores its items for the chunks after it (and the index).
    fn chunk(&mut self, chunk: &Chunk, sink: Option<&mut dyn Sink>, name: &str) -> Result<()> {
        let plan = self.plan;
        let config = &plan.config;
        let one_chunk = plan.one_chunk();
        let update = plan.index.writes().is_some();
        // With nothing stored yet, the engine runs without a history; it
        // keeps what a segment or the index needs only when one is made.
        let history = (!self.segments.is_empty()).then(|| {
            let segments = std::mem::take(&mut self.segments);
            Arc::new(History::from_segments(segments).with_keys_seen(self.keys_seen.clone()))
        });
        // One bar for a run in chunks (input bytes read), not one per chunk.
        let engine_progress: &dyn Progress = if one_chunk { self.progress } else { &Silent };
        let ceiling = plan.fallback.map(|f| f.ceiling);
        let mut analysis = analyze_chunk(
            &chunk.corpus,
            config,
            engine_progress,
            history.clone().map(|h| h as Arc<dyn Prior>),
            (
                !one_chunk || update,
                self.lonely.as_ref(),
                ceiling,
                self.across.as_deref(),
            ),
        )?;
        analysis.indexed_docs = self.indexed_docs;
        self.note_held_joins(&analysis);
        if !plan.quiet {
            for skipped in &self.stream.seen().skipped[self.warned..] {
                self.progress.say(&format!("warning: skipped {skipped}"));
            }
        }
        self.warned = self.stream.seen().skipped.len();
        self.announce_sources();
        self.count(chunk, &analysis);
        let clock = Instant::now();
        if let Some(sink) = sink {
            let mut annotate = if !config.annotate {
                Annotate::No
            } else if one_chunk {
                Annotate::Now
            } else {
                self.annotations.add(&chunk.corpus, &analysis);
                Annotate::Later(&mut self.annotations.marks)
            };
            self.parts
                .chunk(
                    (&chunk.corpus, chunk.complete),
                    &analysis,
                    sink,
                    &mut annotate,
                )
                .map_err(|e| crate::chunked::sink_error(name, e))?;
        }
        self.spent.write += clock.elapsed();
        if !one_chunk {
            let read = self.stream.input_read();
            self.progress.advance(read - self.shown);
            self.shown = read;
            self.progress.message(format!(
                "{} docs",
                report::thousands(chunk.first + chunk.corpus.documents.len())
            ));
        }
        self.unresolved.extend(
            analysis
                .unresolved_copies
                .iter()
                .map(|&(block, key)| (block, analysis.doc_of_block(block), key)),
        );
        // Every chunk but the last becomes a segment (the last too when the
        // index is to be updated). Of the last, only its exact keys are
        // needed: they resolve the copies that documents dropped in earlier
        // chunks hold of first copies seen only in it. (Whether more comes
        // is known once the chunk's output is written, so output never waits
        // for input beyond its chunk.)
        let last = !self.stream.has_more()?;
        // (The first pass of `--keep fullest` keeps every chunk's: its end
        // reads every document's record.)
        let all = update || self.held_joins.is_some();
        let delta = (!last || all).then(|| store::delta(&chunk.corpus, &mut analysis));
        if last && !all {
            self.last_exact = analysis
                .added
                .take()
                .map(|a| a.exact.into_iter().map(|e| (e.key, e)).collect())
                .unwrap_or_default();
        }
        drop(analysis);
        if let Some(history) = history {
            self.segments = Arc::try_unwrap(history)
                .ok()
                .expect("nothing else holds the history")
                .into_segments();
        }
        match delta {
            Some(delta) if last && update => self.last_delta = Some(delta),
            Some(delta) => self.push_segment(delta)?,
            None => {}
        }
        if !one_chunk {
            // What the next chunk reads is faulted back in; the rest leaves
            // the resident set, so memory holds one chunk's work, not the
            // whole input.
            self.stream.seen().release();
            crate::memory::release_free_memory();
        }
        Ok(())
    }

    /// Tells how each input read since the last call was read: its format
    /// (with `-v`), and a warning for a text file that is not UTF-8.
    fn announce_sources(&mut self) {
        let sources = &self.stream.seen().sources;
        if !self.plan.quiet {
            for source in sources.get(self.announced..).unwrap_or_default() {
                let name = crate::escape::printable(&source.input.display_name()).into_owned();
                if self.plan.verbose {
                    let format = match source.format {
                        crate::Format::Jsonl => "JSON Lines",
                        _ => "text",
                    };
                    self.progress.say(&format!("read {name} as {format}"));
                }
                if let Some((line, offset)) = source.invalid_utf8() {
                    self.progress.say(&format!(
                        "warning: {name}:{line}: invalid UTF-8 at byte offset {offset}: read as text with each invalid byte as `?`, written back unchanged"
                    ));
                }
            }
        }
        self.announced = self.announced.max(sources.len());
    }

    /// Counts a chunk's report entries (or totals), documents and time.
    fn count(&mut self, chunk: &Chunk, analysis: &crate::Analysis) {
        let t = analysis.timings;
        self.spent.sketch += t.sketch;
        self.spent.documents += t.documents;
        self.spent.blocks += t.detect;
        self.spent.runs += t.decide;
        self.chunks += 1;
        self.documents += chunk.corpus.documents.len();
        self.keep_read = self.keep_read
            || chunk.corpus.documents.iter().any(|d| {
                let keep = d.record.as_ref().and_then(|r| r.keep.as_deref());
                keep.is_some_and(|v| *v != crate::jsonl::FieldValue::Missing)
            });
        self.text_bytes += chunk
            .corpus
            .documents
            .iter()
            .map(|d| chunk.corpus.text_len(d))
            .sum::<usize>();
        self.blocks += analysis.dropped.len();
        let clock = Instant::now();
        match &mut self.tally {
            Tally::Report(report) => report.add(&chunk.corpus, analysis, self.stream.seen()),
            Tally::Totals(totals) => totals.add(&report::summary(&chunk.corpus, analysis)),
        }
        self.spent.report += clock.elapsed();
    }

    /// Writes a chunk's items as a new segment, then merges the newest
    /// segment into the one before it while it is at least half that one's
    /// size (never into the index's). Items that would be merged at once
    /// are written straight into the newest segment.
    fn push_segment(&mut self, delta: store::Delta) -> Result<()> {
        if let Some(seen) = self.keys_seen.as_mut() {
            // Held by no history between chunks.
            let seen = Arc::get_mut(seen).expect("no history holds the keys seen");
            for &(key, table, _) in &delta.bands {
                seen.add(table, key);
            }
        }
        let dir = self.plan.spool_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let params = IndexParams::of(&self.plan.config);
        let name = label(&mut self.made, &dir);
        let into_newest = self.segments[self.base..]
            .last()
            .is_some_and(|newest| merged(delta.stored_bytes(), newest.file_len()));
        let segment = if into_newest {
            // Its own segment would be merged into the newest at once: one
            // write of the two, not a write, a read and a write.
            let newest = self.segments.pop().expect("a newest segment");
            store::append_delta(newest, delta, &dir, &name, &params)?
        } else {
            store::write_scratch(&dir, &name, delta, &params)?
        };
        self.segments.push(segment);
        store::note_settled();
        while let [.., older, newer] = &self.segments[self.base..] {
            if !merged(newer.file_len(), older.file_len()) {
                break;
            }
            // The two are spent by the merge (their space given back as it
            // reads them), so taken out first: a failed merge fails the run.
            let newer = self.segments.pop().expect("two or more");
            let older = self.segments.pop().expect("two or more");
            let merged = store::append(older, newer, &dir, &label(&mut self.made, &dir), &params)?;
            self.segments.push(merged);
        }
        Ok(())
    }

    /// Counts the copies that documents dropped whole hold of first copies
    /// seen only in a later chunk: a single analysis counts them, since its
    /// exact index holds every first copy by then.
    fn resolve_late_copies(&mut self) -> Result<()> {
        if self.unresolved.is_empty() {
            return Ok(());
        }
        let history = History::from_segments(std::mem::take(&mut self.segments));
        // Looked up at once, in the order of the index's records.
        let keys: Vec<u128> = self.unresolved.iter().map(|&(_, _, key)| key).collect();
        let stored = history.prior_exact(&keys);
        let late: Vec<(usize, usize, usize)> = std::mem::take(&mut self.unresolved)
            .into_iter()
            .filter_map(|(block, doc, key)| {
                let found = stored
                    .get(&key)
                    .copied()
                    .or_else(|| self.last_exact.get(&key).copied())?;
                found.exact.then_some((block, doc, found.source as usize))
            })
            .collect();
        history.status()?;
        self.segments = history.into_segments();
        if let Tally::Report(report) = &mut self.tally {
            report.add_late_copies(late);
        }
        Ok(())
    }

    /// Writes the index the run was checked against, with every document of
    /// the run added, into a synced temporary file beside `path`, to be
    /// renamed over it with the run's other outputs.
    fn update_index(&mut self, path: &Path) -> Result<Staged> {
        let params = IndexParams::of(&self.plan.config);
        let mut run = self.segments.split_off(self.base);
        let index = self.segments.first();
        let last = self.last_delta.take().unwrap_or_default();
        if run.is_empty() {
            return store::write(path, index, last, &params);
        }
        let dir = &self.plan.spool_dir;
        run.push(store::write_scratch(
            dir,
            &label(&mut self.made, dir),
            last,
            &params,
        )?);
        // The run's segments become one, then follow the index's items.
        while run.len() > 1 {
            let newer = run.pop().expect("two or more");
            let older = run.pop().expect("two or more");
            let merged = store::append(older, newer, dir, &label(&mut self.made, dir), &params)?;
            run.push(merged);
        }
        let run = run.pop().expect("one");
        store::append_durably(self.segments.first(), run, path, &params)
    }
}

/// Whether a run in chunks merges a segment of `newer` bytes into the one
/// before it of `older` bytes: when it is at least half its size.
fn merged(newer: u64, older: u64) -> bool {
    newer.saturating_mul(2) >= older
}

/// The name of the next segment in messages (segments are unnamed files in
/// `dir`), counting those `made`.
fn label(made: &mut usize, dir: &Path) -> PathBuf {
    *made += 1;
    // The user sees the directory they gave: the file itself has no name.
    PathBuf::from(format!(
        "{} (this run's spooled index, part {made})",
        dir.display()
    ))
}
