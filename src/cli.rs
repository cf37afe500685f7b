//! Command-line arguments (binary only): raw values and help text; the
//! defaults of settings are `Config::default()`'s. They become a
//! validated `Config` in one place, `Common::config`, and a `Plan` in another,
//! `Cli::plan`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use neardup::config::{Keep, Level, Measure, Method, OnError};
use neardup::plan::{Plan, ReportFormat, Request};
use neardup::{BlockMode, Config, Format};
use std::path::PathBuf;

const EXIT_TABLE: &str = "\
Exit status:
  0  finished (check: every share within its limit, or --exit-zero)
  1  check only: a share of duplication over its limit
  2  error: bad arguments, unreadable or malformed input, a missing, corrupt
     or foreign index, failed write (errors win over 1)

Examples:
  neardup scan article.txt              report repeated blocks
  neardup clean article.txt | less      cleaned text on stdout, summary on stderr
  neardup clean corpus/ --out-dir out/  mirror a tree, report on stdout
  neardup scan --json docs.jsonl        the report as one JSON document
  neardup check --max-dup-docs 5% --output-format github batch.jsonl
  neardup check --index seen.ndx --update batch.jsonl   check against earlier runs, remember this one
  neardup clean --reference eval.ndx train.jsonl -o clean.jsonl   drop what leaks from an eval set";

/// Find near-duplicate text: paragraphs repeated inside a document and blocks
/// syndicated across documents. Keeps the first copy of everything, drops the
/// repeats byte-exactly, and reports where each repeat was first seen.
#[derive(Parser, Debug)]
#[command(name = "neardup", version, after_help = EXIT_TABLE)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report repeated blocks; write nothing else.
    Scan(ScanArgs),
    /// Write the inputs without their repeated blocks, plus the report.
    ///
    /// Cleaned text goes to standard output for a single input (or JSON Lines
    /// inputs), to FILE with -o, or to a mirror of the input tree with --out-dir.
    /// The report goes to --report FILE if given, else to standard output when the
    /// cleaned text goes to files; with cleaned text on standard output, a
    /// one-line summary goes to standard error.
    Clean(CleanArgs),
    /// Scan and fail (exit 1) when duplication is over a limit: for CI.
    ///
    /// Limits are shares, as `5%` or `0.05`: of documents that are near
    /// duplicates, of blocks removed as repeats, of bytes removed (documents and
    /// blocks). With no limit given, any duplicate document or repeated byte
    /// fails the check. The report says which limit failed and by how much.
    Check(CheckArgs),
    /// Build, inspect or merge persistent indexes (for --index and --reference).
    ///
    /// An index remembers the documents and blocks of earlier runs, so that a
    /// new batch is checked against all of them: `scan`, `check` and `clean`
    /// with `--index PATH` report (and `clean` drops) what an earlier run
    /// already kept, and `--update` adds the batch. The answer is the one a
    /// single run over every batch would give.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Print a shell completion script (e.g. `neardup completions bash >
    /// ~/.local/share/bash-completion/completions/neardup`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `neardup man > ~/.local/share/man/man1/neardup.1`.
    Man,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Items, parameters, size and age of an index.
    Stats(StatsArgs),
    /// Build an index from a corpus, replacing OUT if it exists.
    Build(Box<BuildArgs>),
    /// Merge index B after index A into OUT, without rescanning any text.
    ///
    /// Look-ups in OUT find the earlier copy of anything either index holds;
    /// copies between A and B themselves are not re-detected. Both must have
    /// been built with the same settings.
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// The index file.
    pub path: PathBuf,
    /// Also check every byte against its checksum (reads the whole file).
    #[arg(long)]
    pub verify: bool,
    /// Print the statistics as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: Common,
    /// The index to write.
    #[arg(short = 'o', long = "output", value_name = "OUT", required = true)]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The earlier index.
    pub a: PathBuf,
    /// The later index.
    pub b: PathBuf,
    /// The merged index to write (A or B to replace that index with the merge).
    #[arg(short = 'o', long = "output", value_name = "OUT", required = true)]
    pub output: PathBuf,
    /// Hold at most about SIZE (e.g. 1G, 512M; 64K at least) while B's
    /// documents are joined to A's clusters: their buckets are made in
    /// parts, and the candidate pairs sorted in runs, kept under --tmp-dir.
    /// A merge that cannot fit stops before it makes them, with an error
    /// naming what did not, writing nothing. Default: half the memory
    /// available, at most 1G. Same merged index at any limit.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Where the merge keeps the parts of its buckets and the runs of its
    /// pairs (default: the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub tmp_dir: Option<PathBuf>,
    /// Print nothing to standard error but errors (not the line naming
    /// what was merged).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,
    /// Largest share of near-duplicate documents.
    #[arg(long, value_name = "SHARE", help_heading = "Check")]
    pub max_dup_docs: Option<String>,
    /// Largest share of blocks removed as repeats.
    #[arg(long, value_name = "SHARE", help_heading = "Check")]
    pub max_dup_blocks: Option<String>,
    /// Largest share of bytes removed (near-duplicate documents and repeated blocks).
    #[arg(long, value_name = "SHARE", help_heading = "Check")]
    pub max_dup_bytes: Option<String>,
    /// Exit 0 even when a limit is exceeded (errors still exit 2).
    #[arg(long, help_heading = "Check")]
    pub exit_zero: bool,
    /// With --output-format github: warning annotations at most, the largest
    /// duplicates first, then one notice saying how many more (GitHub shows
    /// 10 a step, 50 a job).
    #[arg(long, default_value_t = 10, value_name = "N", help_heading = "Check")]
    pub max_annotations: usize,
    /// Append the Markdown summary (verdict and measurements) to FILE, e.g.
    /// "$GITHUB_STEP_SUMMARY"; with --output-format github it is then left
    /// out of standard output.
    #[arg(long, value_name = "FILE", help_heading = "Check")]
    pub step_summary: Option<PathBuf>,
}

/// The report's format (`--output-format`; `--json` is `--output-format
/// json`). A new format is a new variant here and an arm in `write_report`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormatArg {
    /// Readable text.
    Text,
    /// One JSON document (schema in src/report.rs).
    Json,
    /// JSON Lines: a header, a line per document, cluster and shared block,
    /// then the summary (src/report.rs).
    Jsonl,
    /// `check` only: GitHub Actions annotations, then a Markdown summary.
    Github,
    /// One self-contained HTML page (as `--html FILE` writes).
    Html,
}

impl OutputFormatArg {
    /// The name as given on the command line (clap's, not restated).
    pub fn name(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned())
    }
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct CleanArgs {
    #[command(flatten)]
    pub common: Common,
    /// Write all cleaned output to this file (`-`: standard output).
    #[arg(
        help_heading = "Output",
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "out_dir"
    )]
    pub output: Option<PathBuf>,
    /// Write one cleaned file per input under DIR, mirroring the input tree.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out_dir: Option<PathBuf>,
    /// Write the report to FILE (`-`: standard output; a FIFO or `>(cmd)`
    /// is written in place).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub report: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Never,
    Auto,
    Always,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Auto,
    Text,
    Jsonl,
    /// Apache Parquet, one document per row (what `auto` reads *.parquet as).
    Parquet,
    /// Not an input format: on `check`, the old spelling of
    /// `--output-format github` (with a warning); refused elsewhere.
    #[value(hide = true)]
    Github,
}

#[derive(Args, Debug)]
#[allow(clippy::struct_excessive_bools)]
pub struct Common {
    /// Files or directories to read; `-` reads standard input. Directories are
    /// walked recursively in sorted order, skipping hidden entries.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Input format: `auto` reads *.jsonl and *.ndjson, and any input whose
    /// first non-blank line is a JSON object, as JSON Lines, *.parquet as
    /// Parquet, the rest as text. (The report's format is --output-format.)
    #[arg(long, value_enum, default_value = "auto", help_heading = "Input")]
    pub format: FormatArg,
    /// Include pattern for directory walks, matched against the path relative to
    /// the directory (e.g. '**/*.jsonl.zst'); repeat for several. Files named on
    /// the command line are always read.
    #[arg(long, value_name = "GLOB", help_heading = "Input")]
    pub glob: Vec<String>,
    /// What a bad input or record does: `fail` stops the run (exit 2, nothing
    /// written); `skip` passes over it, lists it in the report and copies a bad
    /// JSON Lines record to the output unchanged.
    #[arg(long, value_enum, default_value_t = Config::default().on_error, help_heading = "Input")]
    pub on_error: OnError,
    /// JSON Lines field holding the text.
    #[arg(
        long,
        default_value_t = Config::default().text_field,
        value_name = "NAME",
        help_heading = "Input"
    )]
    pub text_field: String,
    /// JSON Lines field holding the document id (else `file:line`).
    #[arg(
        long,
        default_value_t = Config::default().id_field,
        value_name = "NAME",
        help_heading = "Input"
    )]
    pub id_field: String,

    /// How documents are cut into blocks.
    ///
    /// `auto` uses paragraphs (separated by blank lines) where a document has
    /// any, and lines where it has none.
    #[arg(long, value_enum, default_value_t = Config::default().blocks, help_heading = "Blocks")]
    pub blocks: BlockMode,
    /// Words per shingle.
    #[arg(long, default_value_t = Config::default().block_shingle, value_name = "N", help_heading = "Blocks")]
    pub block_shingle: usize,
    /// Fraction of a block's shingles that must be found in one earlier block.
    #[arg(
        long,
        default_value_t = Config::default().block_threshold,
        value_name = "FRACTION",
        help_heading = "Blocks"
    )]
    pub block_threshold: f64,
    /// Blocks with fewer words are only matched exactly and kept, unless they
    /// continue a repeated run.
    #[arg(long, default_value_t = Config::default().min_words, value_name = "N", help_heading = "Blocks")]
    pub min_words: usize,
    /// Remove short repeated blocks too.
    #[arg(long, help_heading = "Blocks")]
    pub drop_short: bool,
    /// Hash text with HTML/XML/MathML tags left out (each read as a space),
    /// character entities decoded (`&amp;`, `&#233;`) and lone Greek letters
    /// spelled (`TNF-α` as `TNF-alpha`): the default; the output keeps them.
    #[arg(long, overrides_with = "no_strip_markup", help_heading = "Blocks")]
    pub strip_markup: bool,
    /// Hash markup as text (tags and entities are words): for text where `<`
    /// and `&` are not markup (code, formulas).
    #[arg(long, overrides_with = "strip_markup", help_heading = "Blocks")]
    pub no_strip_markup: bool,
    /// Longest unrepeated stretch (in blocks) inside one repeated run.
    #[arg(long, default_value_t = Config::default().max_gap, value_name = "N", help_heading = "Blocks")]
    pub max_gap: usize,
    /// Seed of every hash.
    #[arg(long, default_value_t = Config::default().seed, help_heading = "Blocks")]
    pub seed: u64,

    /// What to detect: repeated blocks, near-duplicate documents, or both.
    ///
    /// With `both`, near-duplicate documents are dropped whole and repeated
    /// blocks are removed from the documents that are kept.
    #[arg(long, value_enum, default_value_t = Config::default().level, help_heading = "Documents")]
    pub level: Level,
    /// How candidate document pairs are found.
    #[arg(long, value_enum, default_value_t = Config::default().method, help_heading = "Documents")]
    pub method: Method,
    /// Similarity two documents need to be near duplicates (default: 0.5 with
    /// containment, 0.8 with jaccard).
    #[arg(long, value_name = "FRACTION", help_heading = "Documents")]
    pub threshold: Option<f64>,
    /// How document pairs are verified on their shingle sets.
    ///
    /// `containment`: |D∩R| / |D|, the share of the later document's own
    /// shingles found in the kept one (boilerplate shared with other documents
    /// discounted), for copies that were truncated, re-headed or had their body
    /// pasted twice. `jaccard`: |A∩B| / |A∪B|.
    #[arg(long, value_enum, default_value_t = Config::default().measure, help_heading = "Documents")]
    pub measure: Measure,
    /// Words per document shingle.
    #[arg(
        long,
        default_value_t = Config::default().doc_shingle,
        value_name = "N",
        help_heading = "Documents"
    )]
    pub doc_shingle: usize,
    /// MinHash slots per document.
    #[arg(
        long,
        default_value_t = Config::default().num_perm,
        value_name = "N",
        help_heading = "Documents"
    )]
    pub num_perm: usize,
    /// LSH bands (with --rows); by default the best banding for --threshold.
    #[arg(long, requires = "rows", value_name = "N", help_heading = "Documents")]
    pub bands: Option<usize>,
    /// LSH rows per band (with --bands).
    #[arg(long, requires = "bands", value_name = "N", help_heading = "Documents")]
    pub rows: Option<usize>,
    /// SimHash: largest Hamming distance between candidate fingerprints, at
    /// most 10 (above it nearly every pair of documents would be compared:
    /// refused).
    #[arg(
        long,
        default_value_t = Config::default().hamming,
        value_name = "K",
        help_heading = "Documents"
    )]
    pub hamming: u32,
    /// Which document of a near-duplicate cluster to keep: first, fullest
    /// (the first, unless a later one holds it and every other member: then
    /// that one), longest, newest:FIELD or max:FIELD (JSON Lines fields).
    #[arg(
        long,
        default_value_t = Config::default().keep.to_string(),
        value_name = "POLICY",
        help_heading = "Documents"
    )]
    pub keep: String,
    /// Keep every document; add neardup_cluster, neardup_cluster_size,
    /// neardup_representative, neardup_similarity and neardup_duplicate to
    /// each JSON Lines record of the cleaned output.
    #[arg(long, help_heading = "Documents")]
    pub annotate: bool,

    /// Read files with NUL bytes as text instead of refusing them as binary.
    #[arg(long, help_heading = "Input")]
    pub text: bool,
    /// Memory-map files (the default).
    #[arg(long, overrides_with = "no_mmap", help_heading = "Input")]
    pub mmap: bool,
    /// Read files instead of memory-mapping them: for inputs that may be
    /// truncated while the run reads them (a log rotated with copytruncate;
    /// mapped, such a file ends the run with an error).
    #[arg(long, overrides_with = "mmap", help_heading = "Input")]
    pub no_mmap: bool,
    /// Worker threads; 0 uses every core. More than 8 per core are capped
    /// at 8 per core (with a note on stderr).
    #[arg(
        long,
        short = 'j',
        default_value_t = Config::default().threads,
        value_name = "N",
        help_heading = "Input"
    )]
    pub threads: usize,
    /// Work in chunks whose analysis fits in SIZE (e.g. 1G, 512M): the input
    /// is read a chunk at a time, each chunk checked against what earlier
    /// chunks stored on disk under --tmp-dir and its output written before
    /// the next is read (output starts before the input ends); standard
    /// input and compressed inputs are spooled there. Same answer, same
    /// output. Small tables per document and per cluster member still grow
    /// with the corpus (see the README). Input files that fit in SIZE whole
    /// (8 bytes a byte of text, 512 a line) are read whole. 64K at least.
    #[arg(long, value_name = "SIZE", help_heading = "Input")]
    pub memory_limit: Option<String>,
    /// Where a run in chunks keeps its temporary files (--memory-limit, or a
    /// run too large for memory; default: the system's temporary directory).
    #[arg(long, value_name = "DIR", help_heading = "Input")]
    pub tmp_dir: Option<PathBuf>,

    /// Check against every document and block an index holds from earlier
    /// runs (see `neardup index`); with --update, add this run's to it.
    #[arg(long, value_name = "PATH", help_heading = "Index")]
    pub index: Option<PathBuf>,
    /// Add this run's documents and blocks to the --index, creating it if
    /// missing (written aside and renamed into place; runs on one index wait
    /// for each other).
    #[arg(long, requires = "index", help_heading = "Index")]
    pub update: bool,
    /// Flag anything found in this index without ever adding to it (e.g. an
    /// evaluation set that must not leak into training data).
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "index",
        help_heading = "Index"
    )]
    pub reference: Option<PathBuf>,

    /// The report's format: text, json (one document), jsonl (one record a
    /// line: header, documents, clusters, shared blocks, summary) or github
    /// (`check` only: annotations and a Markdown summary). Default: text.
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Output")]
    pub output_format: Option<OutputFormatArg>,
    /// The report as one JSON document: short for --output-format json.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Also write the report as one self-contained HTML page to FILE (the
    /// JSON report and the texts it needs, drawn by an embedded script).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Shared blocks listed in the text report.
    #[arg(long, default_value_t = 10, value_name = "N", help_heading = "Output")]
    pub top: usize,
    /// Show the first N characters of each removed block's text in the
    /// report (`preview` in JSON); 0 shows none.
    #[arg(long, default_value_t = 0, value_name = "N", help_heading = "Output")]
    pub preview: usize,
    /// Progress bar on standard error: `auto` shows it when standard error is a
    /// terminal. It never reaches standard output or the report.
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    pub progress: ProgressArg,
    /// Print timings to standard error.
    #[arg(long, short = 'v', help_heading = "Output")]
    pub verbose: bool,
    /// Print nothing to standard error but errors.
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,
}

impl Command {
    /// The options and the plan of a run (not for `index stats`, `index
    /// merge`, completions and the manual, which are no runs: `None`).
    pub fn plan(&self) -> Option<(&Common, neardup::Result<Plan>)> {
        use neardup::plan::Command as RunCommand;
        let usage = |e: String| neardup::Error::Usage(e);
        let (common, name) = match self {
            Command::Scan(args) => (&args.common, "scan"),
            Command::Clean(args) => (&args.common, "clean"),
            Command::Check(args) => (&args.common, "check"),
            Command::Index(IndexCommand::Build(args)) => (&args.common, "index build"),
            _ => return None,
        };
        let format = match common.report_format(name) {
            Ok(format) => format,
            Err(e) => return Some((common, Err(usage(e)))),
        };
        let (command, clean, check) = match self {
            Command::Check(args) => {
                let share = |flag: &str, value: &Option<String>| {
                    value
                        .as_deref()
                        .map(|v| neardup::check::parse_share(flag, v))
                        .transpose()
                };
                let limits = (|| {
                    Ok(neardup::check::Limits {
                        dup_docs: share("--max-dup-docs", &args.max_dup_docs)?,
                        dup_blocks: share("--max-dup-blocks", &args.max_dup_blocks)?,
                        dup_bytes: share("--max-dup-bytes", &args.max_dup_bytes)?,
                    })
                })();
                let limits = match limits {
                    Ok(limits) => limits,
                    Err(e) => return Some((common, Err(e))),
                };
                let exit_zero = args.exit_zero;
                (RunCommand::Check { limits, exit_zero }, None, Some(args))
            }
            Command::Clean(args) => (RunCommand::Clean, Some(args), None),
            Command::Index(IndexCommand::Build(args)) => {
                (RunCommand::IndexBuild(args.output.clone()), None, None)
            }
            _ => (RunCommand::Scan, None, None),
        };
        if common.format == FormatArg::Github && !common.quiet {
            neardup::error::eprint_line(format_args!("neardup: warning: --format is the input format; --format github is read as --output-format github, its new name"));
        }
        let request = Request {
            command,
            paths: common.paths.clone(),
            output: clean.and_then(|c| c.output.clone()),
            out_dir: clean.and_then(|c| c.out_dir.clone()),
            report: clean.and_then(|c| c.report.clone()),
            html: common.html.clone(),
            format: match format {
                OutputFormatArg::Text => ReportFormat::Text { top: common.top },
                OutputFormatArg::Json => ReportFormat::Json,
                OutputFormatArg::Jsonl => ReportFormat::Jsonl,
                OutputFormatArg::Html => ReportFormat::Html,
                OutputFormatArg::Github => ReportFormat::Github {
                    max_annotations: check.map_or(10, |c| c.max_annotations),
                },
            },
            step_summary: check.and_then(|c| c.step_summary.clone()),
            index: common.index.clone(),
            reference: common.reference.clone(),
            update: common.update,
            memory_limit: common.memory_limit.clone(),
            tmp_dir: common.tmp_dir.clone(),
            quiet: common.quiet,
            verbose: common.verbose,
            streams: neardup::plan::Streams::default(),
        };
        let plan = common
            .config()
            .and_then(|config| Plan::new(config, request));
        Some((common, plan))
    }
}

impl Common {
    /// The report's format, from --output-format and --json; `command` is
    /// the subcommand, for formats only one of them writes.
    pub fn report_format(&self, command: &str) -> Result<OutputFormatArg, String> {
        // `check --format github`, the old spelling, still means
        // --output-format github: inputs are now read by content whatever
        // --format says, so a piped batch is no longer misread by it.
        let old_github = self.format == FormatArg::Github;
        if old_github && command != "check" {
            return Err("--format is the input format (auto, text or jsonl); \
                 GitHub annotations are `neardup check --output-format github`"
                .into());
        }
        let given = match (self.output_format, old_github) {
            (Some(f), true) if f != OutputFormatArg::Github => {
                return Err(format!(
                    "--format github (the old spelling of --output-format github) conflicts with --output-format {}",
                    f.name()
                ))
            }
            (_, true) => Some(OutputFormatArg::Github),
            (f, false) => f,
        };
        let format = match (given, self.json) {
            (Some(f), true) if f != OutputFormatArg::Json => {
                return Err(format!(
                    "--json is --output-format json; it conflicts with --output-format {}",
                    f.name()
                ))
            }
            (_, true) => OutputFormatArg::Json,
            (f, false) => f.unwrap_or(OutputFormatArg::Text),
        };
        if format == OutputFormatArg::Github && command != "check" {
            return Err(format!(
                "GitHub annotations are `neardup check --output-format github`; `neardup {command}` has no github format"
            ));
        }
        Ok(format)
    }

    /// The validated run configuration.
    pub fn config(&self) -> neardup::Result<Config> {
        let measure = self.measure;
        let config = Config {
            blocks: self.blocks,
            format: match self.format {
                // (`github` is refused by `report_format`.)
                FormatArg::Auto | FormatArg::Github => Format::Auto,
                FormatArg::Text => Format::Text,
                FormatArg::Jsonl => Format::Jsonl,
                FormatArg::Parquet => Format::Parquet,
            },
            text_field: self.text_field.clone(),
            id_field: self.id_field.clone(),
            block_shingle: self.block_shingle,
            block_threshold: self.block_threshold,
            min_words: self.min_words,
            drop_short: self.drop_short,
            strip_markup: !self.no_strip_markup,
            max_gap: self.max_gap,
            seed: self.seed,
            level: self.level,
            method: self.method,
            doc_shingle: self.doc_shingle,
            num_perm: self.num_perm,
            threshold: self
                .threshold
                .unwrap_or_else(|| measure.default_threshold()),
            banding: self.bands.zip(self.rows),
            hamming: self.hamming,
            measure,
            keep: Keep::parse(&self.keep)?,
            annotate: self.annotate,
            on_error: self.on_error,
            glob: self.glob.clone(),
            text: self.text,
            preview: self.preview,
            mmap: !self.no_mmap,
            threads: threads(self.threads, self.quiet),
        };
        config.validate()?;
        Ok(config)
    }
}

/// The worker threads a run uses for `--threads asked`, saying so when they
/// are capped ([`neardup::config::resolve_threads`]) unless `quiet`.
fn threads(asked: usize, quiet: bool) -> usize {
    let (threads, note) = neardup::config::resolve_threads(asked);
    if let Some(note) = note.filter(|_| !quiet) {
        neardup::error::eprint_line(format_args!("neardup: {note}"));
    }
    threads
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(args: &[&str]) -> Common {
        let mut full = vec!["neardup", "scan"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Scan(s) => s.common,
            _ => unreachable!("parsed scan"),
        }
    }

    #[test]
    fn defaults_resolve() {
        let config = common(&["a.txt"]).config().unwrap();
        // The flags' defaults are Config's (those given as enum names too).
        let settings = |c: &Config| serde_json::to_value(c).unwrap();
        assert_eq!(settings(&config), settings(&Config::default()));
        assert_eq!(config.block_shingle, 3);
        assert!(config.mmap);
        assert!(config.threads >= 1);
    }

    #[test]
    fn last_strip_markup_flag_wins() {
        assert!(common(&["a"]).config().unwrap().strip_markup);
        let config = |a: &[&str]| common(a).config().unwrap().strip_markup;
        assert!(!config(&["--strip-markup", "--no-strip-markup", "a"]));
        assert!(config(&["--no-strip-markup", "--strip-markup", "a"]));
    }

    #[test]
    fn last_mmap_flag_wins() {
        assert!(!common(&["--mmap", "--no-mmap", "a"]).config().unwrap().mmap);
        assert!(common(&["--no-mmap", "--mmap", "a"]).config().unwrap().mmap);
    }

    #[test]
    fn document_level_flags() {
        let config = common(&["--bands", "20", "--rows", "5", "--keep", "newest:date", "a"])
            .config()
            .unwrap();
        assert_eq!(config.banding, Some((20, 5)));
        assert_eq!(config.keep, Keep::Newest("date".into()));
        assert!(common(&["--keep", "oldest", "a"]).config().is_err());
        assert!(common(&["--bands", "300", "--rows", "1", "a"])
            .config()
            .is_err());
        assert!(Cli::try_parse_from(["neardup", "scan", "--bands", "3", "a"]).is_err());
    }

    #[test]
    fn report_format_is_one_flag_or_its_short_form() {
        let format = |args: &[&str]| common(args).report_format("check");
        assert_eq!(format(&["a"]), Ok(OutputFormatArg::Text));
        assert_eq!(format(&["--json", "a"]), Ok(OutputFormatArg::Json));
        assert_eq!(
            format(&["--json", "--output-format", "json", "a"]),
            Ok(OutputFormatArg::Json)
        );
        assert_eq!(
            format(&["--output-format", "github", "a"]),
            Ok(OutputFormatArg::Github)
        );
        assert!(format(&["--json", "--output-format", "github", "a"])
            .unwrap_err()
            .contains("conflicts with --output-format github"));
        assert_eq!(
            format(&["--format", "github", "a"]),
            Ok(OutputFormatArg::Github)
        );
        assert!(format(&["--format", "github", "--json", "a"])
            .unwrap_err()
            .contains("conflicts with --output-format github"));
        assert!(format(&["--format", "github", "--output-format", "text", "a"]).is_err());
        assert!(common(&["--format", "github", "a"])
            .report_format("scan")
            .unwrap_err()
            .contains("`neardup check --output-format github`"));
        assert!(common(&["--output-format", "github", "a"])
            .report_format("scan")
            .is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(common(&["--block-threshold", "1.5", "a"]).config().is_err());
        assert!(common(&["--block-shingle", "0", "a"]).config().is_err());
        assert_eq!(common(&["-j", "3", "a"]).config().unwrap().threads, 3);
    }
}
