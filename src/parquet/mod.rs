//! Parquet in and out. A Parquet input is read a row group at a time into
//! JSON Lines records, one per row (`{"\u0000": row, text, id, keep field}`),
//! so every stage, whole or in chunks, reads it as it reads JSON Lines: the
//! same documents, ids, errors and decisions. Its cleaned output is those
//! records, cleaned as JSON Lines are; [`Sink`] turns them back into the
//! input's rows (every column as it was, the text column replaced by the
//! cleaned text, dropped rows left out, `--annotate`'s columns added),
//! reading the input again alongside, a batch of rows at a time.

use crate::chunked::Sink as ChunkSink;
use crate::config::{Config, Format};
use crate::error::{Error, Result};
use crate::input::{display_path, InputPath, Source};
use ::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use ::parquet::arrow::{ArrowWriter, ProjectionMask};
use ::parquet::file::metadata::ParquetMetaData;
use ::parquet::file::properties::WriterProperties;
use ::parquet::file::reader::ChunkReader;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod columns;
mod pages;

pub use columns::timestamp_string;
use columns::{json_value, rows_at_a_time, text_array, text_column};

pub(crate) use pages::{MIN_PAGE_BUDGET, PAGE_SHARE};

/// The key of the row number in the records a Parquet input is read into:
/// a NUL character, which no column name of a real dataset holds.
const ROW_KEY: &str = "\u{0}";

/// Rows read at a time, in and out, at most.
const BATCH_ROWS: usize = 1024;

/// Bytes of decoded rows read at a time, at most (a batch holds one row at
/// least): 1,024 rows of 1 MB each took 1 GiB at `--memory-limit 64M`.
const BATCH_BYTES: u64 = 4 << 20;

/// Bytes a row's JSON Lines record takes besides its columns' (its row
/// number, keys, quotes and line break).
const RECORD_BYTES: u64 = 48;

/// Rows to read at a time from a file of `meta`: [`BATCH_ROWS`], fewer when
/// rows are large, by the uncompressed size of its widest row group (which
/// its footer tells), one at least.
fn batch_rows(meta: &ParquetMetaData) -> usize {
    let widest = meta
        .row_groups()
        .iter()
        .map(|g| {
            let bytes = u64::try_from(g.total_byte_size()).unwrap_or(0);
            bytes.div_ceil(u64::try_from(g.num_rows()).unwrap_or(0).max(1))
        })
        .max()
        .unwrap_or(0);
    usize::try_from(BATCH_BYTES / widest.max(1))
        .unwrap_or(BATCH_ROWS)
        .clamp(1, BATCH_ROWS)
}

/// The bytes of JSON Lines records the Parquet file `path` is read into, by
/// its footer: every column's uncompressed bytes and [`RECORD_BYTES`] a row
/// (a 170 KB file of 2,000 rows of 1 MB each is 2 GB, not 680 KB). `None`
/// when it cannot be read (the run names the error when it reads it).
pub(crate) fn decoded_size(path: &Path) -> Option<u64> {
    if is_empty_file(path) {
        return Some(0);
    }
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).ok()?).ok()?;
    let bytes = |g: &::parquet::file::metadata::RowGroupMetaData| {
        let rows = u64::try_from(g.num_rows()).unwrap_or(0);
        u64::try_from(g.total_byte_size())
            .unwrap_or(0)
            .saturating_add(rows.saturating_mul(RECORD_BYTES))
    };
    Some(
        builder
            .metadata()
            .row_groups()
            .iter()
            .map(bytes)
            .fold(0, u64::saturating_add),
    )
}

/// Whether `input` decodes to at most `most` bytes when it is Parquet, by
/// its footer ([`decoded_size`]); other inputs: `true`.
pub(crate) fn decodes_within(input: &InputPath, config: &Config, most: u64) -> bool {
    crate::input::format_of(input, config) != Format::Parquet
        || decoded_size(&input.path).is_some_and(|decoded| decoded <= most)
}

/// Bytes the writer may hold of a row group (its encoded pages and what its
/// encoders buffer) before it closes the row group. One figure whatever
/// `--memory-limit` says, so that the file's bytes do not depend on it: a
/// run in chunks writes the row groups of a whole run. 32 MiB held at
/// `--memory-limit 16M` peaked at 85 MiB; 8 MiB keeps a run within the
/// limit and its allowance, with row groups of tens of megabytes of text.
const ROW_GROUP_BYTES: usize = 8 << 20;

/// The columns `--annotate` adds, as in JSON Lines records (all but
/// `neardup_removed_bytes`).
const ANNOTATIONS: &[&str; 5] = crate::config::ANNOTATION_FIELDS
    .first_chunk()
    .expect("6 fields");

/// Whether an input is read as Parquet: `--format parquet`, or a name
/// ending in `.parquet` with `--format auto`.
#[must_use]
pub fn is_parquet_name(path: &Path) -> bool {
    crate::input::is_parquet_name(path)
}

/// Whether `path` is a regular file of no bytes: no Parquet file (it has
/// no footer) but an empty input, as an empty `.jsonl.gz` is (`touch
/// batch.parquet`): it holds no documents, and its output is as empty.
fn is_empty_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0)
}

fn failed(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: path.to_owned(),
        message: what.to_string(),
    }
}

/// A reader of the Parquet file `path`, and the file (to read its pages'
/// headers by).
fn open(path: &Path) -> Result<(ParquetRecordBatchReaderBuilder<File>, File)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let again = file.try_clone().map_err(|e| Error::io(path, e))?;
    Ok((open_reader(path, file)?, again))
}

/// A reader of the Parquet file `path` whose bytes `data` gives (a file, or
/// its bytes in memory), its column chunks checked to lie within it.
pub(crate) fn open_reader<T: ChunkReader + 'static>(
    path: &Path,
    data: T,
) -> Result<ParquetRecordBatchReaderBuilder<T>> {
    let len = data.len();
    let builder = ParquetRecordBatchReaderBuilder::try_new(data)
        .map_err(|e| failed(path, format!("not a readable Parquet file: {e}")))?;
    pages::check_chunks(path, builder.metadata(), len)?;
    Ok(builder)
}

/// Refuses a file whose pages of the top-level columns `roots` (all of them
/// when `None`) would take more than `budget` bytes while a row group is
/// read ([`pages::check_pages`]).
fn check_pages<T: ChunkReader + 'static>(
    path: &Path,
    file: &File,
    builder: &ParquetRecordBatchReaderBuilder<T>,
    roots: Option<&[usize]>,
    budget: u64,
) -> Result<()> {
    let schema = builder.parquet_schema();
    let read = |leaf: usize| {
        roots.is_none_or(|roots| {
            leaf < schema.num_columns() && roots.contains(&schema.get_column_root_idx(leaf))
        })
    };
    pages::check_pages(path, file, builder.metadata(), &read, budget)
}

/// Reads a Parquet input into JSON Lines records (see the module's docs):
/// into an unnamed file under `--tmp-dir` in a chunked run, a row group at
/// a time, else into memory. Its format is [`Format::Parquet`]. With
/// `page_budget` (a run under a memory limit), a file whose pages of the
/// columns read would take more than that while they are read is refused
/// before any is read.
///
/// # Errors
/// A file that is not Parquet or is cut short or corrupt, a missing or
/// non-string text column, an id or keep column that holds neither strings
/// nor numbers; standard input (a Parquet file is read from its end); pages
/// over `page_budget` ([`Error::TooLarge`]).
pub fn load(
    input: InputPath,
    config: &Config,
    spool: Option<&Path>,
    page_budget: Option<u64>,
) -> Result<Source> {
    let path = display_path(&input);
    if input.is_stdin() {
        return Err(failed(
            &path,
            "Parquet cannot be read from standard input (its footer comes last); name the file",
        ));
    }
    if is_empty_file(&input.path) {
        return Ok(Source {
            input,
            format: Format::Parquet,
            data: crate::input::Data::Owned(Vec::new()),
        });
    }
    let (builder, file) = open(&input.path)?;
    if let Some(budget) = page_budget {
        let (_, roots) = columns_read(&path, builder.schema(), config)?;
        check_pages(&path, &file, &builder, Some(&roots), budget)?;
    }
    let write_rows = |out: &mut dyn Write| write_records(&path, builder, config, out);
    let data = if let Some(dir) = spool {
        let file = crate::error::temp_file(dir).map_err(|e| Error::io(dir, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write_rows(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(dir, e.into_error()))?;
        crate::input::map_spool(file).map_err(|e| Error::io(dir, e))?
    } else {
        let mut bytes = Vec::new();
        write_rows(&mut bytes)?;
        crate::input::Data::Owned(bytes)
    };
    Ok(Source {
        input,
        format: Format::Parquet,
        data,
    })
}

/// The columns a Parquet file is read by (see [`columns_read`]).
type ColumnsRead<'c> = (Vec<(usize, &'c str)>, Vec<usize>);

/// The columns a Parquet file of `schema` is read by: the text column, the
/// id's and `--keep`'s (when there are), with their names; and their
/// indexes in file order.
fn columns_read<'c>(path: &Path, schema: &Schema, config: &'c Config) -> Result<ColumnsRead<'c>> {
    let text = text_column(path, schema, &config.text_field)?;
    let mut wanted = vec![(text, config.text_field.as_str())];
    for name in [Some(config.id_field.as_str()), config.keep.field()]
        .into_iter()
        .flatten()
    {
        if let Some((at, _)) = schema.column_with_name(name) {
            if wanted.iter().all(|(w, _)| *w != at) {
                wanted.push((at, name));
            }
        }
    }
    let mut roots: Vec<usize> = wanted.iter().map(|(at, _)| *at).collect();
    roots.sort_unstable();
    Ok((wanted, roots))
}

/// Writes the JSON Lines records a Parquet file's rows are read into (see
/// the module's docs) to `out`: `builder` reads the file `path` (from disk,
/// or its bytes in memory).
///
/// # Errors
/// As [`load`].
pub(crate) fn write_records<T: ChunkReader + 'static>(
    path: &Path,
    builder: ParquetRecordBatchReaderBuilder<T>,
    config: &Config,
    out: &mut dyn Write,
) -> Result<()> {
    let (wanted, roots) = columns_read(path, builder.schema(), config)?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
    let rows = batch_rows(builder.metadata());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(rows)
        .build()
        .map_err(|e| failed(path, format!("corrupt Parquet file: {e}")))?;
    // The projected batch holds the wanted columns in file order.
    let keys: Vec<(usize, String)> = wanted
        .iter()
        .map(|(at, name)| {
            let key = serde_json::to_string(name).expect("strings always serialize");
            (roots.binary_search(at).expect("projected"), key)
        })
        .collect();
    let mut row = 0usize;
    let mut line = Vec::new();
    for batch in reader {
        let batch = batch
            .map_err(|e| failed(path, format!("corrupt Parquet file (after row {row}): {e}")))?;
        for r in 0..batch.num_rows() {
            row += 1;
            line.clear();
            write!(line, "{{\"\\u0000\":{row}").expect("writes to memory");
            for (at, key) in &keys {
                line.push(b',');
                line.extend_from_slice(key.as_bytes());
                line.push(b':');
                json_value(&mut line, batch.column(*at).as_ref(), r)
                    .map_err(|what| failed(path, format!("row {row}: column {key} {what}")))?;
            }
            line.extend_from_slice(b"}\n");
            out.write_all(&line).map_err(|e| Error::io(path, e))?;
        }
    }
    Ok(())
}

/// Refuses destinations Parquet cannot go to, before anything is read:
/// Parquet inputs are written as Parquet (`-o FILE.parquet` or `--out-dir`,
/// never standard output), and a `.parquet` output takes Parquet inputs only.
///
/// # Errors
/// A [`Error::Usage`] naming the input and what to do.
pub fn check_destination(
    inputs: &[(&InputPath, Format)],
    destination: &crate::output::Destination,
) -> Result<()> {
    use crate::output::Destination;
    let parquet = inputs.iter().find(|(_, f)| *f == Format::Parquet);
    let other = inputs.iter().find(|(_, f)| *f != Format::Parquet);
    match (destination, parquet) {
        (Destination::Stdout, Some((input, _))) => Err(Error::Usage(format!(
            "{}: Parquet is written as Parquet, not to standard output; pass -o FILE.parquet or --out-dir DIR",
            input.path.display()
        ))),
        (Destination::File(path), _) if is_parquet_name(path) => match other {
            Some((input, _)) => Err(Error::Usage(format!(
                "{}: Parquet output takes Parquet inputs only, and {} is not read as Parquet",
                path.display(),
                input.display_name()
            ))),
            None => Ok(()),
        },
        (Destination::File(path), Some((input, _))) => Err(Error::Usage(format!(
            "{}: Parquet is written as Parquet: name the output *.parquet (not {}) or use --out-dir",
            input.path.display(),
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// What `--annotate` says of a row, read back from its record.
#[derive(Default)]
struct Note {
    cluster: Option<i64>,
    size: Option<i64>,
    representative: Option<String>,
    similarity: Option<f64>,
    duplicate: Option<bool>,
}

/// The rows of one input being written: its batches, read as the records
/// come, and the rows of the batch at hand that are kept.
struct Rows {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    /// The 1-based number of the batch's first row.
    first: usize,
    text: usize,
    /// The input's column of each of the output's `fields`, by position:
    /// names may repeat (two columns `x`), so a name does not find one.
    columns: Vec<usize>,
    kept: Vec<u32>,
    texts: Vec<Option<String>>,
    notes: Vec<Note>,
}

/// Columns (leaves) of an input past which its output is written without
/// dictionaries: 256 encoders hold about 18 MiB.
const DICTIONARY_COLUMNS: usize = 256;

/// One Parquet output: rows of one or more inputs of one schema.
pub(crate) struct Output {
    /// None: the kept rows' batches are held in `made` instead (the Spark
    /// job's executors make them, its driver writes them).
    writer: Option<ArrowWriter<Vec<u8>>>,
    made: Vec<RecordBatch>,
    /// The input's columns (every one of them, annotations dropped), and
    /// the output's.
    fields: Vec<Arc<Field>>,
    schema: SchemaRef,
    /// The input whose schema it has.
    first: PathBuf,
    rows: Option<Rows>,
}

impl Output {
    /// An error of input `path` (carried to whoever writes the output:
    /// it names the input, see [`Error::io`]).
    fn fail(path: &Path, e: impl std::fmt::Display) -> std::io::Error {
        failed(path, e).carried()
    }

    /// An output with the schema of `path` (plus the annotations).
    fn new(path: &Path, annotate: bool) -> std::io::Result<Output> {
        let (builder, _) = open(path).map_err(Error::carried)?;
        Output::of(path, builder.schema(), builder.metadata(), annotate)
    }

    /// An output with the schema `input` of the Parquet file `path` (plus
    /// the annotations), compressed and cut into row groups as its
    /// metadata `meta` says.
    pub(crate) fn of(
        path: &Path,
        input: &SchemaRef,
        meta: &ParquetMetaData,
        annotate: bool,
    ) -> std::io::Result<Output> {
        let mut metadata = input.metadata().clone();
        metadata.remove("ARROW:schema");
        let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
        let mut all = fields.clone();
        if annotate {
            fields.retain(|f| !ANNOTATIONS.contains(&f.name().as_str()));
            all.clone_from(&fields);
            all.extend([
                Arc::new(Field::new(ANNOTATIONS[0], DataType::Int64, true)),
                Arc::new(Field::new(ANNOTATIONS[1], DataType::Int64, false)),
                Arc::new(Field::new(ANNOTATIONS[2], DataType::Utf8, true)),
                Arc::new(Field::new(ANNOTATIONS[3], DataType::Float64, true)),
                Arc::new(Field::new(ANNOTATIONS[4], DataType::Boolean, false)),
            ]);
            // The Hugging Face features no longer describe every column.
            metadata.remove("huggingface");
        }
        let schema = Arc::new(Schema::new_with_metadata(all, metadata));
        // Compressed as the input's first column is; row groups as long.
        let groups = meta.row_groups();
        let compression = groups.first().and_then(|g| g.columns().first()).map_or(
            ::parquet::basic::Compression::SNAPPY,
            ::parquet::file::metadata::ColumnChunkMetaData::compression,
        );
        let rows = groups
            .iter()
            .map(|g| usize::try_from(g.num_rows()).unwrap_or(0))
            .max()
            .unwrap_or(0)
            .max(1);
        // A dictionary encoder reserves 72 KiB from the start, each column
        // its own: a file of 20,000 columns and 3 rows (6 MB) reserved 1.4
        // GiB to be written back (655 MiB resident; an abort under `ulimit
        // -v 1000000`). Past DICTIONARY_COLUMNS columns, values are written
        // plain: the same values, whole or in chunks alike.
        let leaves = meta.file_metadata().schema_descr().num_columns();
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(rows))
            .set_dictionary_enabled(leaves <= DICTIONARY_COLUMNS)
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), Arc::clone(&schema), Some(props))
            .map_err(|e| Self::fail(path, e))?;
        Ok(Output {
            writer: Some(writer),
            made: Vec::new(),
            fields,
            schema,
            first: path.to_owned(),
            rows: None,
        })
    }

    /// Starts on the rows of `path` (after any input before it), refusing
    /// pages of more than `page_budget` (every column is read).
    fn begin(
        &mut self,
        path: &Path,
        text_field: &str,
        page_budget: Option<u64>,
    ) -> std::io::Result<()> {
        let (builder, file) = open(path).map_err(Error::carried)?;
        if let Some(budget) = page_budget {
            check_pages(path, &file, &builder, None, budget).map_err(Error::carried)?;
        }
        self.begin_with(path, builder, text_field)
    }

    /// Starts on the rows of `path`, read by `builder`.
    pub(crate) fn begin_with<T: ChunkReader + 'static>(
        &mut self,
        path: &Path,
        builder: ParquetRecordBatchReaderBuilder<T>,
        text_field: &str,
    ) -> std::io::Result<()> {
        self.check_columns(path, builder.schema())?;
        let text = text_column(path, builder.schema(), text_field).map_err(Error::carried)?;
        let annotated = self.schema.fields().len() > self.fields.len();
        let columns = (builder.schema().fields().iter().enumerate())
            .filter(|(_, f)| !annotated || !ANNOTATIONS.contains(&f.name().as_str()))
            .map(|(at, _)| at)
            .collect();
        let rows = batch_rows(builder.metadata());
        let reader = builder
            .with_batch_size(rows)
            .build()
            .map_err(|e| Self::fail(path, e))?;
        self.rows = Some(Rows {
            path: path.to_owned(),
            reader,
            batch: None,
            first: 1,
            text,
            columns,
            kept: Vec::new(),
            texts: Vec::new(),
            notes: Vec::new(),
        });
        Ok(())
    }

    /// Refuses an input `path` whose columns (`schema`, less the
    /// annotations it will get) are not the first's.
    pub(crate) fn check_columns(&self, path: &Path, schema: &Schema) -> std::io::Result<()> {
        let annotated = self.schema.fields().len() > self.fields.len();
        let columns = |fields: &mut dyn Iterator<Item = &Arc<Field>>| -> Vec<(String, DataType)> {
            fields
                .filter(|f| !annotated || !ANNOTATIONS.contains(&f.name().as_str()))
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect()
        };
        if columns(&mut schema.fields().iter()) != columns(&mut self.fields.iter()) {
            return Err(Self::fail(
                path,
                format!(
                    "its columns differ from those of {}; one Parquet output takes inputs with the same columns (use --out-dir)",
                    crate::escape::shown_path(&self.first)
                ),
            ));
        }
        Ok(())
    }

    /// Takes in one cleaned record (a line, without its terminator).
    pub(crate) fn record(
        &mut self,
        line: &[u8],
        text_field: &str,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let path = self
            .rows
            .as_ref()
            .expect("records follow begin")
            .path
            .clone();
        let bad = |what: &str| Self::fail(&path, format!("internal record {what}"));
        let mut value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(line).map_err(|_| bad("is not JSON"))?;
        let row = value
            .get(ROW_KEY)
            .and_then(serde_json::Value::as_u64)
            .and_then(|r| usize::try_from(r).ok())
            .ok_or_else(|| bad("has no row"))?;
        let text = match value.remove(text_field) {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        let field = |i: usize| value.get(ANNOTATIONS[i]);
        let note = Note {
            cluster: field(0).and_then(serde_json::Value::as_i64),
            size: field(1).and_then(serde_json::Value::as_i64),
            representative: field(2)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            similarity: field(3).and_then(serde_json::Value::as_f64),
            duplicate: field(4).and_then(serde_json::Value::as_bool),
        };
        loop {
            let rows = self.rows.as_mut().expect("records follow begin");
            let len = rows.batch.as_ref().map_or(0, RecordBatch::num_rows);
            if row >= rows.first && row < rows.first + len {
                rows.kept
                    .push(u32::try_from(row - rows.first).expect("batches are small"));
                rows.texts.push(text);
                rows.notes.push(note);
                return Ok(());
            }
            self.emit(out)?;
            let rows = self.rows.as_mut().expect("records follow begin");
            rows.first += len;
            match rows.reader.next() {
                Some(Ok(batch)) => rows.batch = Some(batch),
                Some(Err(e)) => {
                    return Err(Self::fail(&rows.path, format!("corrupt Parquet file: {e}")))
                }
                None => return Err(bad("is past the last row")),
            }
        }
    }

    /// Writes the kept rows of the batch at hand.
    fn emit(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let rows = self.rows.as_mut().expect("rows are open");
        if rows.batch.is_none() || rows.kept.is_empty() {
            return Ok(());
        }
        let mut kept = std::mem::take(&mut rows.kept);
        let mut texts = std::mem::take(&mut rows.texts);
        let mut notes = std::mem::take(&mut rows.notes);
        let piece = rows.batch.as_ref().map_or(usize::MAX, |batch| {
            rows_at_a_time(batch.schema().field(rows.text).data_type())
        });
        while kept.len() > piece {
            let rest = (
                kept.split_off(piece),
                texts.split_off(piece),
                notes.split_off(piece),
            );
            self.emit_rows(kept, &texts, &notes, out)?;
            (kept, texts, notes) = rest;
        }
        self.emit_rows(kept, &texts, &notes, out)
    }

    /// Writes the rows `kept` of the batch at hand, with their cleaned
    /// `texts` and `notes`.
    fn emit_rows(
        &mut self,
        kept: Vec<u32>,
        texts: &[Option<String>],
        notes: &[Note],
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let rows = self.rows.as_mut().expect("rows are open");
        let batch = rows.batch.as_ref().expect("a batch at hand");
        let indices = UInt32Array::from(kept);
        let fail = |e: arrow_schema::ArrowError| Self::fail(&rows.path, e);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        // check_columns made the input's columns (less annotations) the
        // output's, in order.
        for (field, &at) in self.fields.iter().zip(&rows.columns) {
            let column = if at == rows.text {
                text_array(field.data_type(), texts).map_err(|e| Self::fail(&rows.path, e))?
            } else {
                arrow_select::take::take(batch.column(at), &indices, None).map_err(fail)?
            };
            columns.push(column);
        }
        if self.schema.fields().len() > self.fields.len() {
            columns.push(Arc::new(
                notes.iter().map(|n| n.cluster).collect::<Int64Array>(),
            ));
            columns.push(Arc::new(
                notes
                    .iter()
                    .map(|n| Some(n.size.unwrap_or(1)))
                    .collect::<Int64Array>(),
            ));
            columns.push(Arc::new(
                notes
                    .iter()
                    .map(|n| n.representative.as_deref())
                    .collect::<StringArray>(),
            ));
            columns.push(Arc::new(
                notes.iter().map(|n| n.similarity).collect::<Float64Array>(),
            ));
            columns.push(Arc::new(
                notes
                    .iter()
                    .map(|n| Some(n.duplicate.unwrap_or(false)))
                    .collect::<BooleanArray>(),
            ));
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(fail)?;
        let path = rows.path.clone();
        if self.writer.is_none() {
            self.made.push(batch);
            return Ok(());
        }
        self.write(&path, &batch, out)
    }

    /// Writes a batch of kept rows of `path` (of the output's schema).
    pub(crate) fn write(
        &mut self,
        path: &Path,
        batch: &RecordBatch,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let writer = self.writer.as_mut().expect("an output that writes");
        writer.write(batch).map_err(|e| Self::fail(path, e))?;
        if writer.memory_size() > ROW_GROUP_BYTES {
            writer.flush().map_err(|e| Self::fail(path, e))?;
        }
        self.drain(out)
    }

    /// Passes on the bytes the writer has made.
    fn drain(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let writer = self.writer.as_mut().expect("an output that writes");
        writer.sync()?;
        let bytes = writer.inner_mut();
        out.write_all(bytes)?;
        bytes.clear();
        Ok(())
    }

    /// Writes what is left and the footer.
    pub(crate) fn finish(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.rows.is_some() {
            self.emit(out)?;
        }
        self.writer
            .as_mut()
            .expect("an output that writes")
            .finish()
            .map_err(|e| Self::fail(&self.first, e))?;
        self.drain(out)
    }

    /// An output that holds the batches of kept rows it makes instead of
    /// writing them ([`Output::made`]).
    pub(crate) fn holding(mut self) -> Output {
        self.writer = None;
        self
    }

    /// The batches of kept rows made so far (an output [`Output::holding`]
    /// them), the rows at hand included.
    pub(crate) fn made(&mut self) -> std::io::Result<Vec<RecordBatch>> {
        if self.rows.is_some() {
            self.emit(&mut std::io::sink())?;
        }
        Ok(std::mem::take(&mut self.made))
    }

    /// The output's schema (the input's columns, then the annotations).
    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// A chunked run's sink (or a whole run's, through its one stream) that
/// turns the cleaned records of Parquet inputs back into Parquet: into one
/// file for all of them (`-o FILE.parquet`), or one per input (`--out-dir`).
/// Other inputs pass through.
pub struct Sink<'a> {
    inner: &'a mut dyn ChunkSink,
    config: &'a Config,
    /// Every input's rows into one output.
    one_file: bool,
    output: Option<Output>,
    /// The Parquet input being written, and its part of a record not yet
    /// complete.
    current: Option<(usize, InputPath)>,
    line: Vec<u8>,
    /// Under a memory limit: what the pages of a row group read may take.
    page_budget: Option<u64>,
}

impl<'a> Sink<'a> {
    /// Wraps `inner`; `one_file` when it is one stream for every input.
    pub fn new(inner: &'a mut dyn ChunkSink, config: &'a Config, one_file: bool) -> Sink<'a> {
        Sink {
            inner,
            config,
            one_file,
            output: None,
            current: None,
            line: Vec::new(),
            page_budget: None,
        }
    }

    /// Refuses inputs whose pages would take more than `budget` bytes while
    /// a row group of them is read (a run under a memory limit).
    #[must_use]
    pub fn with_page_budget(self, budget: Option<u64>) -> Sink<'a> {
        Sink {
            page_budget: budget,
            ..self
        }
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let (Some(output), Some((source, input))) = (self.output.take(), &self.current) {
            output.finish(self.inner.to(*source, input)?)?;
        }
        Ok(())
    }
}

impl ChunkSink for Sink<'_> {
    fn to(&mut self, source: usize, input: &InputPath) -> std::io::Result<&mut dyn Write> {
        if self.current.as_ref().is_some_and(|c| c.0 == source) {
            return Ok(self);
        }
        let parquet = crate::input::format_of(input, self.config) == Format::Parquet;
        let empty = parquet && is_empty_file(&input.path);
        // An empty file (no Parquet file, no documents) adds nothing to one
        // output for every input, whose rows kept so far wait for the next.
        if empty && self.one_file && self.output.is_some() {
            return Ok(self);
        }
        if !self.one_file {
            self.close()?;
        }
        // Else it passes through, as other inputs do: an empty output.
        if !parquet || empty {
            self.current = None;
            return self.inner.to(source, input);
        }
        let output = match self.output.take() {
            Some(output) => output,
            None => Output::new(&input.path, self.config.annotate)?,
        };
        let output = self.output.insert(output);
        // The rows kept of the input before (into the same stream).
        if let (Some(_), Some((s, i))) = (&output.rows, &self.current) {
            output.emit(self.inner.to(*s, i)?)?;
        }
        output.begin(&input.path, &self.config.text_field, self.page_budget)?;
        self.current = Some((source, input.clone()));
        Ok(self)
    }

    fn written(&self) -> u64 {
        self.inner.written()
    }

    fn chunk_done(&mut self) -> std::io::Result<()> {
        self.inner.chunk_done()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.close()?;
        self.inner.finish()
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (source, input) = self.current.clone().expect("written after to");
        let output = self.output.as_mut().expect("opened by to");
        let mut rest = buf;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let out = self.inner.to(source, &input)?;
            if self.line.is_empty() {
                output.record(&rest[..end], &self.config.text_field, out)?;
            } else {
                self.line.extend_from_slice(&rest[..end]);
                let line = std::mem::take(&mut self.line);
                output.record(&line, &self.config.text_field, out)?;
            }
            rest = &rest[end + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
