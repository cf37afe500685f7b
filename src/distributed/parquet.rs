//! Parquet inputs of a run spread over many machines: each file is read
//! whole on one machine into the JSON Lines records `neardup clean` reads it
//! as ([`parquet_records`]), and written back there as the batches of its
//! kept rows ([`parquet_kept_rows`]); the driver writes those batches, in
//! order, into the one output file with [`ParquetWriter`], as one run's
//! writer does (the same row groups, compression and metadata).

use crate::config::Config;
use crate::parquet::{open_reader, write_records, Output};
use ::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use ::parquet::file::metadata::ParquetMetaDataReader;
use arrow_array::RecordBatch;
use std::path::Path;
use std::sync::Arc;

/// The JSON Lines records a Parquet file (`data`, named `path`) is read
/// into (one line a row, each ended by `\n`), and its footer's metadata
/// (what [`ParquetWriter::new`] takes of the first Parquet input).
///
/// # Errors
/// `neardup clean`'s message for a file that is not Parquet, cut short or
/// corrupt, or without a string text column.
pub fn parquet_records(
    path: &Path,
    data: Vec<u8>,
    config: &Config,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let footer = footer(&data).to_vec();
    let builder = open_reader(path, bytes::Bytes::from(data)).map_err(|e| e.to_string())?;
    let mut records = Vec::new();
    write_records(path, builder, config, &mut records).map_err(|e| e.to_string())?;
    Ok((records, footer))
}

/// The metadata of a Parquet file's footer (the bytes before its last 8:
/// the metadata's length and `PAR1`), or nothing when it has none.
fn footer(data: &[u8]) -> &[u8] {
    let Some(tail) = data.len().checked_sub(8).map(|at| &data[at..]) else {
        return &[];
    };
    let len = u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")) as usize;
    data.len()
        .checked_sub(8 + len)
        .map_or(&[], |start| &data[start..data.len() - 8])
}

/// The kept rows of a Parquet file (`data`, named `path`), from its cleaned
/// records (`cleaned`: the JSON Lines records of [`parquet_records`] as
/// [`super::clean_record`] or [`super::annotated_record`] wrote them back,
/// dropped ones left out), as an Arrow IPC stream of the batches one run
/// writes: every column of each kept row as it was, the text column
/// replaced by the cleaned text, `--annotate`'s columns added.
///
/// # Errors
/// A file that cannot be read again, or records that are not its own.
pub fn parquet_kept_rows(
    path: &Path,
    data: Vec<u8>,
    cleaned: &[u8],
    config: &Config,
) -> Result<Vec<u8>, String> {
    let fail = |e: &dyn std::fmt::Display| e.to_string();
    let builder = open_reader(path, bytes::Bytes::from(data)).map_err(|e| fail(&e))?;
    let schema = Arc::clone(builder.schema());
    let mut output = Output::of(path, &schema, builder.metadata(), config.annotate)
        .map_err(|e| fail(&e))?
        .holding();
    output
        .begin_with(path, builder, &config.text_field)
        .map_err(|e| fail(&e))?;
    for line in cleaned.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        output
            .record(line, &config.text_field, &mut std::io::sink())
            .map_err(|e| fail(&e))?;
    }
    let batches = output.made().map_err(|e| fail(&e))?;
    let mut ipc = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut ipc, output.schema())
        .map_err(|e| fail(&e))?;
    for batch in &batches {
        writer.write(batch).map_err(|e| fail(&e))?;
    }
    writer.finish().map_err(|e| fail(&e))?;
    drop(writer);
    Ok(ipc)
}

/// The one Parquet output of a run spread over many machines, written on
/// the driver from each input's kept rows ([`parquet_kept_rows`]), in input
/// order.
pub struct ParquetWriter {
    output: Output,
}

impl ParquetWriter {
    /// The output of Parquet inputs whose first is `first`, with the
    /// metadata of its footer (from [`parquet_records`]): its schema, and
    /// the compression and row group length one run takes from it.
    ///
    /// # Errors
    /// Metadata that cannot be read.
    pub fn new(first: &Path, footer: &[u8], config: &Config) -> Result<ParquetWriter, String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", first.display());
        let meta = ParquetMetaDataReader::decode_metadata(footer).map_err(|e| fail(&e))?;
        let meta = ArrowReaderMetadata::try_new(Arc::new(meta), ArrowReaderOptions::new())
            .map_err(|e| fail(&e))?;
        let output = Output::of(first, meta.schema(), meta.metadata(), config.annotate)
            .map_err(|e| e.to_string())?;
        Ok(ParquetWriter { output })
    }

    /// Writes the kept rows of input `path` (an IPC stream of
    /// [`parquet_kept_rows`]); returns the bytes of the file made so far.
    ///
    /// # Errors
    /// An input whose columns are not the first's (`neardup clean`'s
    /// message), or a stream that is not one of [`parquet_kept_rows`].
    pub fn write(&mut self, path: &Path, ipc: &[u8]) -> Result<Vec<u8>, String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(ipc), None)
            .map_err(|e| fail(&e))?;
        self.output
            .check_columns(path, &reader.schema())
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| fail(&e))?;
            // Of the first input's schema, as one run writes every input.
            let batch =
                RecordBatch::try_new(Arc::clone(self.output.schema()), batch.columns().to_vec())
                    .map_err(|e| fail(&e))?;
            self.output
                .write(path, &batch, &mut out)
                .map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    /// The bytes left: the last row group and the footer.
    ///
    /// # Errors
    /// A write that fails.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.output.finish(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// Refuses what `neardup clean` refuses of Parquet inputs and outputs
/// before anything is read ([`crate::parquet::check_destination`]): each
/// input (name, read as Parquet) and the output (`-`: standard output).
///
/// # Errors
/// `neardup clean`'s message.
pub fn check_parquet_destination(inputs: &[(String, bool)], output: &str) -> Result<(), String> {
    use crate::config::Format;
    use crate::input::InputPath;
    use crate::output::Destination;
    let paths: Vec<(InputPath, Format)> = inputs
        .iter()
        .map(|(name, parquet)| {
            let input = InputPath {
                path: name.into(),
                relative: name.into(),
                reader: None,
            };
            (
                input,
                if *parquet {
                    Format::Parquet
                } else {
                    Format::Jsonl
                },
            )
        })
        .collect();
    let paths: Vec<(&InputPath, Format)> = paths.iter().map(|(i, f)| (i, *f)).collect();
    let destination = if output == "-" {
        Destination::Stdout
    } else {
        Destination::File(output.into())
    };
    crate::parquet::check_destination(&paths, &destination).map_err(|e| e.to_string())
}
