//! Runs in chunks (`--memory-limit`): the corpus is analysed a chunk of
//! documents at a time, each chunk after everything the chunks before it
//! stored, exactly as batches are checked against an index
//! ([`crate::store`]): so the answer is the one a single analysis of the whole
//! corpus gives, byte for byte, while memory holds one chunk's work.
//!
//! What earlier chunks stored lives in index segments, unnamed files in
//! `--tmp-dir` (a killed run leaves none behind), read with positioned reads. Each chunk's items become a new segment; a new
//! segment at least half the size of the one before it is merged into it
//! (size-tiered, as in log-structured merge trees), so a run of `n` chunks
//! keeps about `log2 n` segments and rewrites each item about `log2 n` times.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::input::{InputPath, Source, Texts};
use crate::output::{write_source_part, Annotate, Annotations, Counted};
use crate::pipeline::{analyze_after, Analysis, Progress};
use crate::store::{self, History, IndexParams, Segment};
use crate::stream::{Chunk, Seen, Stream};
use crate::target::Staged;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a chunked run cuts its input and where it keeps its segments.
#[derive(Clone, Debug)]
pub struct Chunking {
    /// Bytes of text a chunk holds at most (a chunk holds one document at least).
    pub chunk_bytes: usize,
    /// The memory the run aims at (`--memory-limit`): each chunk gets what
    /// the run does not already hold, down to a quarter of it (`None`: every
    /// chunk gets `chunk_bytes`).
    pub limit: Option<usize>,
    /// Where the temporary directory of segments is made.
    pub dir: PathBuf,
}

/// Bytes of memory per byte of text a chunk costs at both levels (sketches,
/// block index, report): 12 measured on the 250 MB corpus, 14 late in the
/// 5 GB corpus's run, whose peak went 1,129 -> 1,083 MiB at a 1 GiB limit
/// with 14 (`benches/RESULTS.md`).
pub const MEMORY_PER_TEXT_BYTE: usize = 14;

impl Chunking {
    /// Chunks sized so that a chunk's work fits in `limit` bytes of memory.
    #[must_use]
    pub fn for_memory(limit: usize, dir: PathBuf) -> Chunking {
        Chunking {
            chunk_bytes: (limit / MEMORY_PER_TEXT_BYTE).max(4096),
            limit: Some(limit),
            dir,
        }
    }
}

/// Parses a size: `1G`, `512M`, `800K`, `1.5G` or a number of bytes (powers
/// of 1024).
///
/// # Errors
/// A [`Error::Usage`] naming the flag.
pub fn parse_size(flag: &str, text: &str) -> Result<usize> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], t[i..].to_ascii_uppercase()),
        None => (t, String::new()),
    };
    let scale: f64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    let value: f64 = number.trim().parse().unwrap_or(f64::NAN);
    let bytes = value * scale;
    if bytes.is_finite() && bytes >= 1.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(bytes as usize)
    } else {
        Err(Error::Usage(format!(
            "{flag} takes a size such as 1G, 512M or 800K, not {text:?}"
        )))
    }
}

/// What a chunked run leaves: see [`run`].
pub struct Ran {
    /// The copies that documents dropped whole hold of first copies seen
    /// only in a later chunk, as (block, global document, first copy): a
    /// single analysis counts them, since its exact index holds every first
    /// copy by then.
    pub late: Vec<(usize, usize, usize)>,
    /// The index the run was checked against (`--index`, `--reference`).
    index: Option<Segment>,
    /// With `keep`, every chunk's items, in segments following the index's.
    segments: Vec<Segment>,
    /// Where their unnamed files are.
    dir: PathBuf,
}

impl Ran {
    /// Writes the index the run was checked against, with every document of
    /// the run added, into a synced temporary file beside `path`, to be
    /// renamed over it with the run's other outputs: the index a whole run's
    /// `--update` writes (`None`: no documents, and the index stays as it
    /// is). The run must have been made with `keep`.
    ///
    /// # Errors
    /// Failures to read the segments or write the index.
    pub fn update(mut self, path: &Path, params: &IndexParams) -> Result<Option<Staged>> {
        // The run's segments become one, then follow the index's items.
        while self.segments.len() > 1 {
            let newer = self.segments.pop().expect("two or more");
            let older = self.segments.pop().expect("two or more");
            let label = self.dir.join(format!("merged-{}.ndx", self.segments.len()));
            let merged = store::append(&older, &newer, &self.dir, &label, params)?;
            self.segments.push(merged);
        }
        match self.segments.pop() {
            Some(run) => store::append_durably(self.index.as_ref(), &run, path, params).map(Some),
            // No documents: an index that did not exist is made, empty.
            None if self.index.is_none() => {
                store::write(path, None, store::Delta::default(), params).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// Analyses what `stream` reads, chunk by chunk, each chunk after `index`
/// (`--index`, `--reference`) and every chunk before it, handing each chunk
/// and its analysis to `each` (with what the stream has read so far), in
/// order, as soon as the chunk is analysed. With `keep`, every chunk's items
/// are kept for [`Ran::update`].
///
/// # Errors
/// Errors of `each` and of reading the inputs, and failures to write or
/// read the segments.
#[allow(clippy::too_many_lines)]
pub fn run(
    stream: &mut Stream<'_>,
    config: &Config,
    chunking: &Chunking,
    progress: &dyn Progress,
    (index, keep): (Option<History>, bool),
    mut each: impl FnMut(&Chunk, &Analysis, &Seen) -> Result<()>,
) -> Result<Ran> {
    // An index is one segment, the first; the run's own segments follow it
    // (from `base` on) and are merged among themselves, never into it.
    let mut segments: Vec<Segment> = index.map(History::into_segments).unwrap_or_default();
    let base = segments.len();
    let indexed_docs = segments.first().map_or(0, Segment::documents);
    let mut unresolved: Vec<(usize, usize, u128)> = Vec::new();
    let params = IndexParams::of(config);
    // Segments are unnamed files there, gone when closed, even if the run
    // is killed; `segment-N.ndx` names them in messages.
    let dir = chunking.dir.clone();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut files = 0;
    let mut label = || {
        files += 1;
        dir.join(format!("segment-{files}.ndx"))
    };
    let mut last_exact: std::collections::HashMap<u128, store::ExactRecord> =
        std::collections::HashMap::new();
    progress.stage("reading", stream.input_total().unwrap_or(0), true);
    let mut shown = 0;
    loop {
        // What the run holds for the whole corpus (where documents' texts
        // are, clusters, shared-block counts) grows chunk after chunk; the
        // next chunk gets the rest of the limit. Chunk boundaries never
        // change the answer.
        let chunk_bytes = chunking.limit.map_or(chunking.chunk_bytes, |limit| {
            let held = crate::memory::anonymous_bytes().unwrap_or(0);
            let room = limit.saturating_sub(held).max(limit / 4);
            (room / MEMORY_PER_TEXT_BYTE).clamp(4096, chunking.chunk_bytes)
        });
        let Some(chunk) = stream.next_chunk(chunk_bytes)? else {
            break;
        };
        let history = Arc::new(History::from_segments(std::mem::take(&mut segments)));
        // One bar for the whole run (input bytes read), not one per chunk.
        let mut analysis = analyze_after(
            &chunk.corpus,
            config,
            &crate::pipeline::Silent,
            Some(history),
            true,
        )?;
        analysis.indexed_docs = indexed_docs;
        each(&chunk, &analysis, stream.seen())?;
        let read = stream.input_read();
        progress.advance(read - shown);
        shown = read;
        progress.message(format!(
            "{} docs",
            crate::report::thousands(chunk.first + chunk.corpus.documents.len())
        ));
        unresolved.extend(
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
        let last = !stream.has_more()?;
        let delta = (!last || keep).then(|| store::delta(&chunk.corpus, &mut analysis));
        if last && !keep {
            last_exact = analysis
                .added
                .take()
                .map(|a| a.exact.into_iter().map(|e| (e.key, e)).collect())
                .unwrap_or_default();
        }
        let history = analysis
            .history
            .take()
            .expect("the analysis has its history");
        drop(analysis);
        drop(chunk);
        segments = Arc::try_unwrap(history)
            .ok()
            .expect("nothing else holds the history")
            .into_segments();
        if let Some(delta) = delta {
            push_segment(&mut segments, base, &dir, delta, &params, &mut label)?;
        }
        // What the next chunk reads is faulted back in; the rest leaves the
        // resident set, so memory holds one chunk's work, not the whole input.
        stream.seen().release();
        crate::memory::release_free_memory();
    }
    let history = History::from_segments(segments);
    // Looked up at once, in the order of the index's records.
    let keys: Vec<u128> = unresolved.iter().map(|&(_, _, key)| key).collect();
    let stored = history.prior_exact(&keys);
    let late = unresolved
        .into_iter()
        .filter_map(|(block, doc, key)| {
            let found = stored
                .get(&key)
                .copied()
                .or_else(|| last_exact.get(&key).copied())?;
            found.exact.then_some((block, doc, found.source as usize))
        })
        .collect();
    history.status()?;
    let mut segments = history.into_segments();
    let run = segments.split_off(base);
    Ok(Ran {
        late,
        index: segments.pop(),
        segments: run,
        dir,
    })
}

/// Writes a chunk's items as a new segment, then merges the newest segment
/// into the one before it while it is at least half that one's size (never
/// into those before `base`: an index).
fn push_segment(
    segments: &mut Vec<Segment>,
    base: usize,
    dir: &Path,
    delta: store::Delta,
    params: &IndexParams,
    label: &mut dyn FnMut() -> PathBuf,
) -> Result<()> {
    segments.push(store::write_scratch(dir, &label(), delta, params)?);
    while let [.., older, newer] = &segments[base..] {
        if newer.file_len() * 2 < older.file_len() {
            break;
        }
        let merged = store::append(older, newer, dir, &label(), params)?;
        segments.truncate(segments.len() - 2);
        segments.push(merged);
    }
    Ok(())
}

/// Writes a corpus's cleaned output chunk by chunk: each JSON Lines source
/// is copied piece by piece, each piece ending with the line of the chunk's
/// last record in it, so the pieces make the whole file.
#[derive(Default)]
pub struct PartWriter {
    /// Bytes of each source written so far.
    written: Vec<usize>,
    /// Sources before this one are written whole.
    next: usize,
}

impl PartWriter {
    /// Writes a chunk; with `marks` (`--annotate`), records are written
    /// without their fields, and where those go is added to `marks` (see
    /// [`Held`]).
    ///
    /// # Errors
    /// The sink's errors.
    pub fn chunk(
        &mut self,
        chunk: &Chunk,
        analysis: &Analysis,
        sink: &mut dyn Sink,
        mut marks: Option<&mut Vec<u64>>,
    ) -> std::io::Result<()> {
        let corpus = &chunk.corpus;
        self.written.resize(corpus.sources.len(), 0);
        for (source, local) in corpus.docs_by_source().into_iter().enumerate() {
            if local.is_empty() {
                continue;
            }
            self.rest_before(&corpus.sources, source, sink)?;
            let src = &corpus.sources[source];
            let len = src.data.len();
            let finished = source < chunk.complete;
            let to = if finished {
                len
            } else {
                corpus.documents[local.end - 1]
                    .record
                    .as_ref()
                    .map_or(len, crate::input::Record::line_end)
            };
            let from = self.written[source];
            // A text file that is a near duplicate of another is not written.
            let dropped_text = src.format == crate::config::Format::Text
                && local.clone().all(|d| analysis.doc_dropped[d]);
            if !dropped_text {
                let base = sink.written();
                let out = sink.to(source, &src.input)?;
                let mut local_marks = Vec::new();
                let mut annotate = match marks {
                    Some(_) => Annotate::Later(&mut local_marks),
                    None => Annotate::No,
                };
                write_source_part(
                    corpus,
                    analysis,
                    source,
                    local,
                    &mut annotate,
                    out,
                    from..to,
                )?;
                if let Some(marks) = marks.as_deref_mut() {
                    marks.extend(local_marks.into_iter().map(|m| base + m));
                }
            }
            self.written[source] = to;
            self.next = if finished { source + 1 } else { source };
        }
        sink.chunk_done()
    }

    /// Writes what is left of every source (lines after the last record, and
    /// sources without documents).
    ///
    /// # Errors
    /// The sink's errors.
    pub fn finish(&mut self, sources: &[Arc<Source>], sink: &mut dyn Sink) -> std::io::Result<()> {
        self.written.resize(sources.len(), 0);
        self.rest_before(sources, sources.len(), sink)?;
        sink.finish()
    }

    fn rest_before(
        &mut self,
        sources: &[Arc<Source>],
        source: usize,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        for (s, src) in sources.iter().enumerate().take(source).skip(self.next) {
            // (An empty text file, which has no documents, is written empty.)
            if src.format != crate::config::Format::Text || src.data.is_empty() {
                sink.to(s, &src.input)?
                    .write_all(&src.data[self.written[s]..])?;
            }
            self.written[s] = src.data.len();
        }
        self.next = self.next.max(source);
        Ok(())
    }
}

/// Where a chunked run's output goes. Sources are written in order, each
/// piece by piece over one or more chunks.
pub trait Sink {
    /// The stream for the output of `source`, which is the source last
    /// written or a later one.
    ///
    /// # Errors
    /// When the stream cannot be made, or the one before it not finished.
    fn to(&mut self, source: usize, input: &InputPath) -> std::io::Result<&mut dyn Write>;

    /// Bytes written so far (where only [`Held`] keeps count).
    fn written(&self) -> u64 {
        0
    }

    /// Called after each chunk's output.
    ///
    /// # Errors
    /// When what was written cannot be passed on.
    fn chunk_done(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    /// Ends the output once every source is written.
    ///
    /// # Errors
    /// When the last stream cannot be finished.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every source to one stream (standard output or `-o FILE`), flushed after
/// each chunk when `flush` is set (standard output: a reader of the pipe
/// gets each chunk's output as soon as it is made).
pub struct OneStream<'w> {
    /// Where the output goes.
    pub out: &'w mut dyn Write,
    /// Flush after each chunk.
    pub flush: bool,
}

impl Sink for OneStream<'_> {
    fn to(&mut self, _: usize, _: &InputPath) -> std::io::Result<&mut dyn Write> {
        Ok(&mut *self.out)
    }

    fn chunk_done(&mut self) -> std::io::Result<()> {
        if self.flush {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// A chunked run's output held back in an unnamed file under `--tmp-dir`
/// until the run ends (`--annotate`: see [`Annotations`]), then written
/// to its sink with every record's fields.
pub struct Held {
    out: Counted<std::io::BufWriter<std::fs::File>>,
    /// Each source's part of the held output: the source, its input and
    /// where its part starts.
    parts: Vec<(usize, InputPath, u64)>,
}

impl Held {
    /// An empty held output in `dir`.
    ///
    /// # Errors
    /// When the file cannot be made.
    pub fn new(dir: &Path) -> std::io::Result<Held> {
        std::fs::create_dir_all(dir)?;
        Ok(Held {
            out: Counted {
                inner: std::io::BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(dir)?),
                written: 0,
            },
            parts: Vec::new(),
        })
    }

    /// Writes the held output to `sink`, each record's fields (the
    /// `first_doc`-th document's at `annotations.marks[0]`, and on) put in
    /// where they were left out.
    ///
    /// # Errors
    /// Reading the held output back, and the sink's errors.
    pub fn replay(
        self,
        annotations: &Annotations,
        first_doc: usize,
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        use std::io::{Read, Seek};
        let written = self.out.written;
        let mut file = self
            .out
            .inner
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        let mut held = std::io::BufReader::with_capacity(1 << 20, file);
        let mut marks = annotations.marks.iter().enumerate().peekable();
        for (i, (source, input, start)) in self.parts.iter().enumerate() {
            let end = self.parts.get(i + 1).map_or(written, |p| p.2);
            let out = sink.to(*source, input)?;
            let mut at = *start;
            while let Some(&(doc, &mark)) = marks.peek().filter(|(_, &m)| m < end && m >= at) {
                std::io::copy(&mut (&mut held).take(mark - at), out)?;
                out.write_all(annotations.fields(first_doc + doc).as_bytes())?;
                at = mark;
                marks.next();
            }
            std::io::copy(&mut (&mut held).take(end - at), out)?;
        }
        sink.finish()
    }
}

impl Sink for Held {
    fn to(&mut self, source: usize, input: &InputPath) -> std::io::Result<&mut dyn Write> {
        if self.parts.last().map(|p| p.0) != Some(source) {
            self.parts.push((source, input.clone(), self.out.written));
        }
        Ok(&mut self.out)
    }

    fn written(&self) -> u64 {
        self.out.written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("--memory-limit", "1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("--memory-limit", "512m").unwrap(), 512 << 20);
        assert_eq!(parse_size("--memory-limit", "1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("--memory-limit", "4096").unwrap(), 4096);
        for bad in ["", "lots", "1X", "-1G", "0"] {
            assert!(parse_size("--memory-limit", bad).is_err(), "{bad}");
        }
    }
}
