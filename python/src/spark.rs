//! `neardup._native.spark`: the engine's stages for the Spark job
//! (`neardup/spark.py`), over the small tables Spark hands between them
//! ([`neardup::distributed`] says what each stage decides and why the
//! answer is one run's). Shingle sets travel as little-endian `u64` bytes,
//! exact keys as 16 bytes, block numbers as `document << 32 | position`.

use neardup::cluster::Candidates;
use neardup::compress::Compression;
use neardup::config::Level;
use neardup::distributed::{
    self as engine, BlockFeatures, BlockVerdicts, Member, Repeat, SharedBlock,
};
use neardup::Config;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::Path;

/// The settings of one job, made once per Python worker from the CLI's
/// options (as `neardup.clean` takes them).
#[pyclass(module = "neardup._native.spark", frozen)]
struct Job {
    config: Config,
    candidates: Option<Candidates>,
}

fn exact_key(bytes: &[u8]) -> PyResult<u128> {
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| PyValueError::new_err("an exact key is 16 bytes"))?;
    Ok(u128::from_le_bytes(bytes))
}

/// A repeat: (block, source, the last block of the source's place,
/// similarity, exact).
type RepeatRow = (u64, u64, u64, f64, bool);

/// A document in a cluster: (document, representative, the document that
/// stays, size, similarity).
type ClusterRow = (u32, u32, u32, usize, f64);

/// A line to annotate: (line, a file's first, has a terminator, dropped
/// blocks, its cluster: (representative's document index, size, the id of
/// the document that stays, similarity, not the one that stays)).
type AnnotatedLine = (
    String,
    bool,
    bool,
    Vec<u32>,
    Option<(usize, usize, String, f64, bool)>,
);

// PyO3 hands arguments over by value.
#[allow(clippy::needless_pass_by_value)]
#[pymethods]
impl Job {
    /// The job of `options` (the CLI's options by their Python names).
    #[new]
    fn new(options: &Bound<'_, PyDict>) -> PyResult<Job> {
        let options = super::Options {
            given: options.copy()?,
            function: "neardup.spark",
        };
        let config = super::config(&options)?;
        options.done()?;
        let candidates = (config.level != Level::Blocks).then(|| Candidates::new(&config));
        Ok(Job { config, candidates })
    }

    /// LSH bands or SimHash tables: a document has a key for each, or none.
    fn tables(&self) -> usize {
        self.candidates.as_ref().map_or(0, Candidates::tables)
    }

    /// Whether each level runs: (documents, blocks).
    fn levels(&self) -> (bool, bool) {
        (
            self.config.level != Level::Blocks,
            self.config.level != Level::Docs,
        )
    }

    /// The `--keep` policy reads a field.
    fn keeps_field(&self) -> bool {
        self.config.keep.field().is_some()
    }

    /// Reads a batch of JSON Lines lines (without `\n`; `first`: a file's
    /// first line) and gives each record's features as columns: a dict of
    /// little-endian arrays (`bytes`), the Arrow buffers `neardup.spark` wraps without a Python object a
    /// row. Per line: `status` (u8: 0 a record, 1 blank, 2 an error, each
    /// error in `errors`, (line, message)), `len` (u64), `block_start`
    /// (u32, the line's first row in the block columns; one more entry for
    /// the end) and `shingle_start` (u32, into `shingles`, u64). Per LSH
    /// band or SimHash table of a record that has a key for each: `band_line`
    /// (u32), `band_table` (i32), `band_key` (u64). Per block, in order:
    /// `block_line`, `block_position`, `words` (u32), `exact_lo`, `exact_hi`
    /// (u64), `block_shingle_start` (u32, into `block_shingles`, u64; one
    /// more for the end). Per posting key: `posting_block` (u32, the row in
    /// the block columns) and `posting_key` (u32).
    #[allow(clippy::type_complexity)]
    fn feature_columns<'py>(
        &self,
        py: Python<'py>,
        lines: Vec<(String, bool)>,
    ) -> PyResult<(Bound<'py, PyDict>, Vec<(u32, String)>)> {
        let (columns, errors) = py.detach(|| {
            let mut c = Columns::default();
            let mut errors = Vec::new();
            let tables = self.candidates.as_ref().map_or(0, Candidates::tables);
            for (i, (line, first)) in lines.iter().enumerate() {
                let i = u32::try_from(i).expect("a batch of fewer than 2^32 lines");
                c.block_start.push(len_u32(c.words.len()));
                c.shingle_start.push(len_u32(c.shingles.len()));
                let made = match engine::read_line(line, *first, &self.config) {
                    Err(e) => {
                        errors.push((i, e));
                        c.status.push(2);
                        c.len.push(0);
                        continue;
                    }
                    Ok(engine::Line::Blank) => {
                        c.status.push(1);
                        c.len.push(0);
                        continue;
                    }
                    Ok(engine::Line::Record { parsed, body, .. }) => {
                        let text = engine::record_text(body, &parsed);
                        engine::features(&text, self.candidates.as_ref(), &self.config)
                    }
                };
                c.status.push(0);
                c.len.push(made.len as u64);
                c.shingles.extend_from_slice(&made.shingles);
                if tables > 0 && made.keys.len() == tables {
                    for (t, key) in made.keys.iter().enumerate() {
                        c.band_line.push(i);
                        c.band_table.push(i32::try_from(t).expect("few tables"));
                        c.band_key.push(*key);
                    }
                }
                for (b, block) in made.blocks.iter().enumerate() {
                    let row = len_u32(c.words.len());
                    c.block_line.push(i);
                    c.block_position.push(len_u32(b));
                    c.words.push(block.words);
                    let [lo, hi] = [block.exact, block.exact >> 64]
                        .map(|half| u64::try_from(half & u128::from(u64::MAX)).expect("64 bits"));
                    c.exact_lo.push(lo);
                    c.exact_hi.push(hi);
                    c.block_shingle_start.push(len_u32(c.block_shingles.len()));
                    c.block_shingles.extend_from_slice(&block.shingles);
                    for key in engine::posting_keys(block, &self.config) {
                        c.posting_block.push(row);
                        c.posting_key.push(key);
                    }
                }
            }
            c.block_start.push(len_u32(c.words.len()));
            c.shingle_start.push(len_u32(c.shingles.len()));
            c.block_shingle_start.push(len_u32(c.block_shingles.len()));
            (c, errors)
        });
        Ok((columns.into_dict(py)?, errors))
    }

    /// Whether `neardup clean` reads a file named `name` as Parquet
    /// (`--format parquet`, or a `.parquet` name with `--format auto`).
    fn reads_parquet(&self, name: &str) -> bool {
        let input = neardup::input::InputPath {
            path: name.into(),
            relative: name.into(),
            reader: None,
        };
        neardup::input::format_of(&input, &self.config) == neardup::config::Format::Parquet
    }

    /// A Parquet file (`data`, named `name`) as the JSON Lines records
    /// `neardup clean` reads it as (one a row), and its footer's metadata
    /// ([`ParquetWriter`] takes the first input's); a file that is not
    /// Parquet, or lacks its text column, is a `ValueError` with `clean`'s
    /// message.
    fn parquet_records<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        data: Vec<u8>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let (records, footer) = py
            .detach(|| engine::parquet_records(Path::new(name), data, &self.config))
            .map_err(PyValueError::new_err)?;
        Ok((PyBytes::new(py, &records), PyBytes::new(py, &footer)))
    }

    /// The kept rows of a Parquet file (`data`, named `name`), from its
    /// cleaned records ([`Job::clean_lines`] or [`Job::annotate_lines`] of
    /// its records): an Arrow IPC stream of the batches `neardup clean`
    /// writes of it.
    fn parquet_kept_rows<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        data: Vec<u8>,
        cleaned: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let ipc = py
            .detach(|| {
                engine::parquet_kept_rows(Path::new(name), data, cleaned.as_bytes(), &self.config)
            })
            .map_err(PyValueError::new_err)?;
        Ok(PyBytes::new(py, &ipc))
    }

    /// `clean`'s refusal of Parquet inputs written to standard output or a
    /// file not named `.parquet`, and of a `.parquet` output of other
    /// inputs: `inputs` are (name, read as Parquet); `None` when none.
    #[staticmethod]
    fn parquet_destination(inputs: Vec<(String, bool)>, output: &str) -> Option<String> {
        engine::check_parquet_destination(&inputs, output).err()
    }

    /// The compression `neardup clean` reads a file named `name` with,
    /// from its name, else its first bytes: `"gzip"`, `"zstd"` or `None`.
    #[staticmethod]
    fn compression(name: &str, head: &[u8]) -> Option<&'static str> {
        match compression_of(name, head) {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        }
    }

    /// A whole compressed file (`data`, named `name`) decompressed as
    /// `neardup clean` decompresses it; a corrupt or truncated stream is a
    /// `ValueError` with its message (naming the file and how far decoding
    /// got).
    #[staticmethod]
    fn decompress<'py>(py: Python<'py>, name: &str, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let compression = compression_of(name, data);
        let out = py
            .detach(|| neardup::compress::decompress(Path::new(name), data, compression))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &out))
    }

    /// The LSH band rows of a partition's batches, cut into one piece per
    /// reducer (`reducers` of them) for the shuffle: each batch is (document
    /// number of its first line, and its `band_line`, `band_table` and
    /// `band_key` columns of [`Job::feature_columns`]).
    #[staticmethod]
    #[allow(clippy::type_complexity)]
    fn band_pieces(
        py: Python<'_>,
        batches: Vec<(u32, Vec<u8>, Vec<u8>, Vec<u8>)>,
        reducers: usize,
    ) -> PyResult<Vec<Bound<'_, PyBytes>>> {
        let mut rows = Vec::new();
        for (base, line, table, key) in &batches {
            let (line, table, key) = (
                from_le::<u32>(line)?,
                from_le::<i32>(table)?,
                from_le::<u64>(key)?,
            );
            rows.extend(
                line.iter()
                    .zip(table)
                    .zip(key)
                    .map(|((l, t), k)| (t.unsigned_abs(), k, base + l)),
            );
        }
        let pieces = py.detach(|| engine::band_pieces(&rows, reducers));
        Ok(pieces.iter().map(|p| PyBytes::new(py, p)).collect())
    }

    /// The candidate pairs of the buckets whose rows a reducer received
    /// (pieces of [`Job::band_pieces`]), sorted: their first and second
    /// documents (u32 columns).
    #[staticmethod]
    fn pairs_of_pieces(
        py: Python<'_>,
        pieces: Vec<Vec<u8>>,
    ) -> PyResult<(Bound<'_, PyBytes>, Bound<'_, PyBytes>)> {
        if let Some(bad) = pieces.iter().find(|p| p.len() % 16 != 0) {
            return Err(PyValueError::new_err(format!(
                "a piece of {} bytes is not band rows",
                bad.len()
            )));
        }
        let (a, b): (Vec<u32>, Vec<u32>) = py.detach(|| {
            let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            engine::pairs_of_pieces(&pieces).into_iter().unzip()
        });
        Ok((le_bytes(py, &a), le_bytes(py, &b)))
    }

    /// The block key rows of a partition's batches, cut into one piece per
    /// reducer: each batch is (document number of its first line, and its
    /// `block_line`, `block_position`, `words`, `exact_lo`, `exact_hi`,
    /// `posting_block` and `posting_key` columns); `dropped`: the documents
    /// dropped whole, ascending; `with_dropped`: their blocks' exact keys
    /// too ([`engine::block_key_pieces`]).
    #[staticmethod]
    #[allow(clippy::type_complexity)]
    fn block_key_pieces(
        py: Python<'_>,
        batches: Vec<(u32, [Vec<u8>; 7])>,
        dropped: Vec<u32>,
        with_dropped: bool,
        reducers: usize,
    ) -> PyResult<Vec<Bound<'_, PyBytes>>> {
        let columns = batches
            .iter()
            .map(|(base, [line, position, words, lo, hi, block, key])| {
                Ok((
                    *base,
                    from_le::<u32>(line)?,
                    from_le::<u32>(position)?,
                    from_le::<u32>(words)?,
                    (from_le::<u64>(lo)?, from_le::<u64>(hi)?),
                    (from_le::<u32>(block)?, from_le::<u32>(key)?),
                ))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let pieces = py.detach(|| {
            let keys: Vec<engine::BlockKeys<'_>> = columns
                .iter()
                .map(
                    |(base, line, position, words, exact, postings)| engine::BlockKeys {
                        base: *base,
                        line,
                        position,
                        words,
                        exact: (&exact.0, &exact.1),
                        postings: (&postings.0, &postings.1),
                    },
                )
                .collect();
            engine::block_key_pieces(&keys, &dropped, with_dropped, reducers)
        });
        Ok(pieces.iter().map(|p| PyBytes::new(py, p)).collect())
    }

    /// The blocks that share a key among the rows a reducer received
    /// (pieces of [`Job::block_key_pieces`]): block numbers, a dropped
    /// document's as `-(number + 1)`, sorted (i64 column).
    #[staticmethod]
    fn shared_of_pieces(py: Python<'_>, pieces: Vec<Vec<u8>>) -> PyResult<Bound<'_, PyBytes>> {
        if let Some(bad) = pieces.iter().find(|p| p.len() % 25 != 0) {
            return Err(PyValueError::new_err(format!(
                "a piece of {} bytes is not block key rows",
                bad.len()
            )));
        }
        let shared = py.detach(|| {
            let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            engine::shared_of_pieces(&pieces)
        });
        Ok(le_bytes(py, &shared))
    }

    /// The documents dropped as near duplicates, and how many clusters,
    /// from every candidate pair and each document in them: (number,
    /// shingles, text length, and its line and whether it is a file's first
    /// when `--keep` reads a field); then the cluster rows, and the candidate
    /// and verified pairs counted.
    #[allow(clippy::type_complexity)]
    fn cluster_documents(
        &self,
        py: Python<'_>,
        pairs: Vec<(u32, u32)>,
        members: Vec<(u32, Vec<u8>, usize, Option<(String, bool)>)>,
    ) -> PyResult<(Vec<u32>, usize, Vec<ClusterRow>, (usize, usize))> {
        let members = members
            .into_iter()
            .map(|(doc, shingles, len, line)| {
                let keep = match line {
                    Some((line, first)) => engine::keep_value(&line, first, &self.config)
                        .map_err(PyValueError::new_err)?,
                    None => None,
                };
                Ok(Member {
                    doc,
                    shingles: from_le::<u64>(&shingles)?,
                    len,
                    keep,
                })
            })
            .collect::<PyResult<Vec<Member>>>()?;
        let verdicts = py.detach(|| engine::cluster_documents(pairs, members, &self.config));
        let rows = verdicts
            .members
            .iter()
            .map(|c| (c.doc, c.representative, c.kept, c.size, c.similarity))
            .collect();
        Ok((verdicts.dropped, verdicts.clusters, rows, verdicts.pairs))
    }

    /// The repeats among the blocks that share a key: each (block number,
    /// words, exact key, shingles); `dropped`: (block number, exact key) of
    /// blocks of documents dropped whole that share their exact key with a
    /// kept one (for the report). Returns the repeats, (block, source, the
    /// last block of the source's place, similarity, exact) in block order,
    /// and the copies in dropped documents, (block, first copy).
    #[allow(clippy::type_complexity)]
    fn detect_shared(
        &self,
        py: Python<'_>,
        blocks: Vec<(u64, u32, Vec<u8>, Vec<u8>)>,
        words: Vec<Vec<u8>>,
        skipped: Vec<u32>,
        dropped: Vec<(u64, Vec<u8>)>,
    ) -> PyResult<(Vec<RepeatRow>, Vec<(u64, u64)>)> {
        let words = words_of(&words);
        let blocks = blocks
            .into_iter()
            .map(|(block, words, exact, shingles)| {
                Ok(SharedBlock {
                    block,
                    features: BlockFeatures {
                        words,
                        exact: exact_key(&exact)?,
                        shingles: from_le::<u64>(&shingles)?,
                    },
                })
            })
            .collect::<PyResult<Vec<SharedBlock>>>()?;
        let dropped = dropped
            .into_iter()
            .map(|(block, exact)| Ok((block, exact_key(&exact)?)))
            .collect::<PyResult<Vec<(u64, u128)>>>()?;
        let found =
            py.detach(|| engine::detect_shared(blocks, &words, &skipped, &dropped, &self.config));
        Ok((
            found.repeats.iter().map(repeat_row).collect(),
            found.copies_in_dropped,
        ))
    }

    /// Runs of repeats: from each document's blocks' word counts (every
    /// document, in order; little-endian `u32`, as [`Job::feature_columns`] gives
    /// them), the documents dropped whole and the repeats,
    /// (dropped blocks per document that loses some, documents with
    /// repeats, runs, short repeats kept, blocks removed).
    #[allow(clippy::type_complexity)]
    fn decide_blocks(
        &self,
        py: Python<'_>,
        words: Vec<Vec<u8>>,
        skipped: Vec<u32>,
        repeats: Vec<RepeatRow>,
    ) -> (Vec<(u32, Vec<u32>)>, usize, usize, usize, usize) {
        let words = words_of(&words);
        let repeats = repeats_of(repeats);
        let v: BlockVerdicts =
            py.detach(|| engine::decide_blocks(&words, &skipped, &repeats, &self.config));
        (
            v.dropped,
            v.with_repeats,
            v.runs,
            v.short_repeats,
            v.removed_blocks,
        )
    }

    /// The documents (line numbers) whose text the report reads, from what
    /// [`Job::decide_blocks`] takes; the documents in clusters besides.
    fn report_documents(
        &self,
        py: Python<'_>,
        words: Vec<Vec<u8>>,
        skipped: Vec<u32>,
        repeats: Vec<RepeatRow>,
    ) -> Vec<u32> {
        let words = words_of(&words);
        let repeats = repeats_of(repeats);
        py.detach(|| engine::report_documents(&words, &skipped, &repeats, &self.config))
    }

    /// The report `neardup clean --report` writes, as bytes in each of
    /// `formats` (`text`, `json`, `jsonl` or `html`; `top`: shared blocks
    /// the text lists), from the job's findings ([`engine::ReportParts`],
    /// documents numbered by line): each file's (name, bytes, first line,
    /// Parquet),
    /// each line's text length (`None` when blank) and block word counts,
    /// the documents dropped, the repeats and copies in dropped documents
    /// ([`Job::detect_shared`]), the document level's (candidate pairs,
    /// verified pairs, cluster rows), the lines the report reads and what
    /// was passed over (`--on-error skip`: messages, in input order).
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn report<'py>(
        &self,
        py: Python<'py>,
        files: Vec<(String, usize, usize, bool)>,
        lens: Vec<Option<usize>>,
        words: Vec<Vec<u8>>,
        dropped: Vec<u32>,
        found: (Vec<RepeatRow>, Vec<(u64, u64)>),
        doc_level: Option<(usize, usize, Vec<ClusterRow>)>,
        texts: Vec<(u32, String)>,
        skipped: Vec<String>,
        formats: Vec<String>,
        top: usize,
    ) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let parts = engine::ReportParts {
            skipped,
            parquet: files.iter().map(|f| f.3).collect(),
            files: files
                .into_iter()
                .map(|(name, size, first, _)| (name, size, first))
                .collect(),
            lens,
            words: words_of(&words),
            dropped,
            detected: engine::Detected {
                repeats: repeats_of(found.0),
                copies_in_dropped: found.1,
            },
            doc_level: doc_level.map(|(candidates, verified, rows)| {
                let members = rows
                    .into_iter()
                    .map(
                        |(doc, representative, kept, size, similarity)| engine::InCluster {
                            doc,
                            representative,
                            kept,
                            size,
                            similarity,
                        },
                    )
                    .collect();
                (candidates, verified, members)
            }),
            texts,
        };
        let formats: Vec<&str> = formats.iter().map(String::as_str).collect();
        let written = py
            .detach(|| engine::written_reports(parts, &self.config, &formats, top))
            .map_err(PyValueError::new_err)?;
        Ok(written.iter().map(|w| PyBytes::new(py, w)).collect())
    }

    /// Writes lines back as `neardup clean` does: each (line, a file's
    /// first, has a terminator, dropped whole, dropped blocks); returns the
    /// output, the bytes of text removed from kept records, and the first
    /// error (index in `lines`, message), if any (the output then stops
    /// before that line).
    #[allow(clippy::type_complexity)]
    fn clean_lines(
        &self,
        py: Python<'_>,
        lines: Vec<(String, bool, bool, bool, Vec<u32>)>,
    ) -> (String, usize, Option<(usize, String)>) {
        py.detach(|| {
            write_lines(&lines, |(line, first, terminator, dropped, blocks)| {
                engine::clean_record(line, *first, *terminator, *dropped, blocks, &self.config)
            })
        })
    }

    /// Writes lines back as `neardup clean --annotate` does (each an
    /// [`AnnotatedLine`]); returns what [`Job::clean_lines`] returns.
    #[allow(clippy::type_complexity)]
    fn annotate_lines(
        &self,
        py: Python<'_>,
        lines: Vec<AnnotatedLine>,
    ) -> (String, usize, Option<(usize, String)>) {
        py.detach(|| {
            write_lines(&lines, |(line, first, terminator, blocks, cluster)| {
                let cluster = cluster
                    .as_ref()
                    .map(|(rep, size, id, sim, dup)| (*rep, *size, id.as_str(), *sim, *dup));
                engine::annotated_record(line, *first, *terminator, blocks, cluster, &self.config)
            })
        })
    }

    /// A record's id field (`None` without one, or for a blank line).
    fn record_id(&self, line: &str, first: bool) -> PyResult<Option<String>> {
        engine::record_id(line, first, &self.config).map_err(PyValueError::new_err)
    }

    /// The line of totals `neardup clean` prints on standard error.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn totals(
        corpus: (usize, usize, usize),
        dropped: (usize, usize),
        verdicts: (usize, usize, usize, usize),
        removed_block_bytes: usize,
    ) -> String {
        let (with_repeats, runs, short_repeats, removed_blocks) = verdicts;
        let verdicts = BlockVerdicts {
            dropped: Vec::new(),
            with_repeats,
            runs,
            short_repeats,
            removed_blocks,
        };
        engine::totals(corpus, dropped, &verdicts, removed_block_bytes)
    }
}

/// Each line written back by `write`, in order: the output, the bytes of
/// text removed from kept records, and the first error (index in `lines`,
/// message), if any (the output then stops before that line).
fn write_lines<T>(
    lines: &[T],
    write: impl Fn(&T) -> Result<(String, usize), String>,
) -> (String, usize, Option<(usize, String)>) {
    let mut out = String::new();
    let mut removed = 0;
    for (i, line) in lines.iter().enumerate() {
        match write(line) {
            Ok((text, lost)) => {
                out.push_str(&text);
                removed += lost;
            }
            Err(e) => return (out, removed, Some((i, e))),
        }
    }
    (out, removed, None)
}

/// The one Parquet output of Parquet inputs, written on the driver from
/// each input's kept rows ([`Job::parquet_kept_rows`]) as `neardup clean`
/// writes it.
#[pyclass(module = "neardup._native.spark", unsendable)]
struct ParquetWriter {
    writer: Option<engine::ParquetWriter>,
}

#[pymethods]
impl ParquetWriter {
    /// The output whose first input is `first`, with its footer's metadata
    /// ([`Job::parquet_records`]), for `job`'s options.
    #[new]
    fn new(first: &str, footer: &[u8], job: &Job) -> PyResult<ParquetWriter> {
        let writer = engine::ParquetWriter::new(Path::new(first), footer, &job.config)
            .map_err(PyValueError::new_err)?;
        Ok(ParquetWriter {
            writer: Some(writer),
        })
    }

    /// Writes the kept rows of input `name`; returns the file's bytes made
    /// so far. Inputs whose columns differ from the first's are a
    /// `ValueError` with `clean`'s message.
    fn write<'py>(
        &mut self,
        py: Python<'py>,
        name: &str,
        ipc: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the Parquet output is finished"))?;
        let out = writer
            .write(Path::new(name), ipc)
            .map_err(PyValueError::new_err)?;
        Ok(PyBytes::new(py, &out))
    }

    /// The file's last bytes: its last row group and footer.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| PyValueError::new_err("the Parquet output is finished"))?;
        let out = writer.finish().map_err(PyValueError::new_err)?;
        Ok(PyBytes::new(py, &out))
    }
}

/// Adds the `spark` submodule to the package's native module.
pub fn register(parent: &Bound<'_, PyModule>) -> PyResult<()> {
    let m = PyModule::new(parent.py(), "spark")?;
    m.add_class::<Job>()?;
    m.add_class::<ParquetWriter>()?;
    parent.add_submodule(&m)?;
    Ok(())
}

/// The compression of a file named `name` that starts with `head`: by its
/// name, else by its magic bytes, as `neardup clean` chooses.
fn compression_of(name: &str, head: &[u8]) -> Compression {
    match Compression::from_name(Path::new(name)) {
        Compression::None => Compression::sniff(head),
        named => named,
    }
}

/// The columns of [`Job::feature_columns`], as Rust vectors.
#[derive(Default)]
struct Columns {
    status: Vec<u8>,
    len: Vec<u64>,
    block_start: Vec<u32>,
    shingle_start: Vec<u32>,
    shingles: Vec<u64>,
    band_line: Vec<u32>,
    band_table: Vec<i32>,
    band_key: Vec<u64>,
    block_line: Vec<u32>,
    block_position: Vec<u32>,
    words: Vec<u32>,
    exact_lo: Vec<u64>,
    exact_hi: Vec<u64>,
    block_shingle_start: Vec<u32>,
    block_shingles: Vec<u64>,
    posting_block: Vec<u32>,
    posting_key: Vec<u32>,
}

impl Columns {
    fn into_dict(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("status", PyBytes::new(py, &self.status))?;
        d.set_item("len", le_bytes(py, &self.len))?;
        d.set_item("block_start", le_bytes(py, &self.block_start))?;
        d.set_item("shingle_start", le_bytes(py, &self.shingle_start))?;
        d.set_item("shingles", le_bytes(py, &self.shingles))?;
        d.set_item("band_line", le_bytes(py, &self.band_line))?;
        d.set_item("band_table", le_bytes(py, &self.band_table))?;
        d.set_item("band_key", le_bytes(py, &self.band_key))?;
        d.set_item("block_line", le_bytes(py, &self.block_line))?;
        d.set_item("block_position", le_bytes(py, &self.block_position))?;
        d.set_item("words", le_bytes(py, &self.words))?;
        d.set_item("exact_lo", le_bytes(py, &self.exact_lo))?;
        d.set_item("exact_hi", le_bytes(py, &self.exact_hi))?;
        d.set_item(
            "block_shingle_start",
            le_bytes(py, &self.block_shingle_start),
        )?;
        d.set_item("block_shingles", le_bytes(py, &self.block_shingles))?;
        d.set_item("posting_block", le_bytes(py, &self.posting_block))?;
        d.set_item("posting_key", le_bytes(py, &self.posting_key))?;
        Ok(d)
    }
}

/// A count that fits a batch's `u32` offsets.
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).expect("a batch's columns hold fewer than 2^32 values")
}

/// Fixed-width numbers as little-endian bytes, and back.
trait LeBytes: Copy {
    fn put(self, out: &mut Vec<u8>);
    fn take(bytes: &[u8]) -> Self;
}

macro_rules! le_bytes_of {
    ($($t:ty),*) => {$(
        impl LeBytes for $t {
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(bytes: &[u8]) -> Self {
                Self::from_le_bytes(bytes.try_into().expect("one value's bytes"))
            }
        }
    )*};
}
le_bytes_of!(u32, i32, u64, i64);

fn le_bytes<'py, T: LeBytes>(py: Python<'py>, values: &[T]) -> Bound<'py, PyBytes> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(values));
    for v in values {
        v.put(&mut out);
    }
    PyBytes::new(py, &out)
}

/// Little-endian numbers of `bytes`, which must hold a whole number of them.
fn from_le<T: LeBytes>(bytes: &[u8]) -> PyResult<Vec<T>> {
    let width = std::mem::size_of::<T>();
    if !bytes.len().is_multiple_of(width) {
        return Err(PyValueError::new_err(format!(
            "not a whole number of {}-bit values",
            width * 8
        )));
    }
    Ok(bytes.chunks_exact(width).map(T::take).collect())
}

/// Every document's block word counts, from 4 little-endian bytes a block.
fn words_of(words: &[Vec<u8>]) -> Vec<Vec<u32>> {
    words
        .iter()
        .map(|w| {
            w.chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect()
        })
        .collect()
}

fn repeat_row(r: &Repeat) -> RepeatRow {
    (r.block, r.source, r.source_last, r.similarity, r.exact)
}

fn repeats_of(rows: Vec<RepeatRow>) -> Vec<Repeat> {
    rows.into_iter()
        .map(|(block, source, source_last, similarity, exact)| Repeat {
            block,
            source,
            source_last,
            similarity,
            exact,
        })
        .collect()
}
