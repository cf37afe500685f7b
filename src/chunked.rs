//! Where a run's cleaned output goes, chunk by chunk (a run of one chunk
//! too): each source is written in order, piece by piece, to one stream
//! (standard output, `-o FILE`), to a file of its own (`--out-dir`), or held
//! until the run ends (`--annotate` over several chunks).

use crate::compress::Compression;
use crate::error::Error;
use crate::input::{InputPath, Source};
use crate::output::{write_compressed, write_source_part, Annotate, Annotations, CountingWriter};
use crate::pipeline::Analysis;
use crate::targets::{Staging, Target};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// Bytes of memory it holds (a count for each input).
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.written.capacity() * std::mem::size_of::<usize>()
    }

    /// Writes a chunk (its documents, and the number of sources before the
    /// one it ends in, which are read to their end). With [`Annotate::Later`], records are written
    /// without their fields, and where those go (bytes into the sink) is
    /// added to its list (see [`Held`]).
    ///
    /// # Errors
    /// The sink's errors.
    pub fn chunk(
        &mut self,
        (corpus, complete): (&crate::input::Corpus, usize),
        analysis: &Analysis,
        sink: &mut dyn Sink,
        annotate: &mut Annotate<'_>,
    ) -> std::io::Result<()> {
        self.written.resize(corpus.sources.len(), 0);
        for (source, local) in corpus.docs_by_source().into_iter().enumerate() {
            if local.is_empty() {
                continue;
            }
            self.rest_before(&corpus.sources, source, sink)?;
            let src = &corpus.sources[source];
            let len = src.data.len();
            let finished = source < complete;
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
                let mut this = match annotate {
                    Annotate::Later(_) => Annotate::Later(&mut local_marks),
                    Annotate::Now => Annotate::Now,
                    Annotate::No => Annotate::No,
                };
                write_source_part(corpus, analysis, source, local, &mut this, out, from..to)?;
                if let Annotate::Later(marks) = annotate {
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
    out: CountingWriter<std::io::BufWriter<std::fs::File>>,
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
        Ok(Held {
            out: CountingWriter {
                inner: std::io::BufWriter::with_capacity(1 << 20, crate::error::temp_file(dir)?),
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

/// `--out-dir`: one output file per input, written a piece
/// at a time as chunks come, each into a temporary file beside it that is
/// staged (compressed on the way when its name says so) once its input is
/// done, to be renamed with every other output at the end of the run. An
/// error leaves no partial file under a final name.
pub struct DirSink<'a> {
    /// Where the outputs go.
    dir: PathBuf,
    open: Option<OpenOutput>,
    staging: &'a mut Staging,
}

struct OpenOutput {
    source: usize,
    path: PathBuf,
    /// Where the plain bytes go: the target itself (staged or written
    /// directly), or, for a compressed output, an unnamed file compressed
    /// into the target once whole.
    target: Option<Target>,
    out: Named,
}

/// The buffered writer of one `--out-dir` file, whose errors name the file
/// (the run's error names the directory).
struct Named {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl Named {
    /// The error `e` of writing this file, carried whole (see
    /// [`Error::io`]): a write straight from a mapped input cut short fails
    /// with EFAULT, which [`crate::targets::faulted`] tells by its OS error
    /// as the input's truncation (`od: od/in.jsonl: Bad address` before).
    fn named(&self, e: std::io::Error) -> std::io::Error {
        Error::io(&self.path, e).carried()
    }
}

impl Write for Named {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush().map_err(|e| self.named(e))
    }
}

impl<'a> DirSink<'a> {
    /// A sink for outputs into `dir`, where [`plan`] found that each input's
    /// output has a place of its own, staged into `staging`.
    #[must_use]
    pub fn new(dir: &Path, staging: &'a mut Staging) -> DirSink<'a> {
        DirSink {
            dir: dir.to_owned(),
            open: None,
            staging,
        }
    }

    fn close(&mut self) -> std::io::Result<()> {
        let Some(OpenOutput {
            path,
            target,
            out: Named { mut out, .. },
            ..
        }) = self.open.take()
        else {
            return Ok(());
        };
        let named = |e: std::io::Error| Error::io(&path, e).carried();
        out.flush().map_err(named)?;
        let unnamed = out.into_inner().map_err(|e| named(e.into_error()))?;
        let staged = match target {
            Some(target) => target.finish(self.staging),
            // Compressed on the way to its final name; the plain file goes.
            None => write_compressed(&path, self.staging, |out| {
                let mut plain = unnamed;
                std::io::Seek::rewind(&mut plain)?;
                std::io::copy(&mut plain, out).map(|_| ())
            }),
        };
        staged.map_err(Error::carried)
    }
}

impl Sink for DirSink<'_> {
    fn to(&mut self, source: usize, input: &InputPath) -> std::io::Result<&mut dyn Write> {
        if self.open.as_ref().is_some_and(|o| o.source != source) {
            self.close()?;
        }
        if self.open.is_none() {
            let path = self.dir.join(&input.relative);
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            let failed = |e: std::io::Error| Error::io(&dir, e).carried();
            let other = Error::carried;
            crate::targets::create_dirs(&dir).map_err(failed)?;
            let (target, file) = if Compression::from_name(&path) == Compression::None {
                let target = Target::open(&path, ".neardup-").map_err(other)?;
                let file = match &target {
                    Target::Staged(s) => s.file().try_clone(),
                    Target::Direct(f, _) => f.try_clone(),
                    Target::Stdout(_) => unreachable!("a path under --out-dir"),
                }
                .map_err(failed)?;
                (Some(target), file)
            } else {
                (None, crate::error::temp_file(&dir).map_err(failed)?)
            };
            self.open = Some(OpenOutput {
                source,
                target,
                out: Named {
                    path: path.clone(),
                    out: std::io::BufWriter::with_capacity(1 << 16, file),
                },
                path,
            });
        }
        Ok(&mut self.open.as_mut().expect("opened above").out)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.close()
    }
}

/// An error writing the output `name` (a file, standard output or
/// `--out-dir`), named once: an error that names it already (a file's
/// temporary name in `--out-dir`) is not named again (`out: out: ...`).
pub(crate) fn sink_error(name: &str, e: std::io::Error) -> Error {
    let message = e.to_string();
    match message
        .strip_prefix(name)
        .and_then(|m| m.strip_prefix(": "))
    {
        Some(rest) => Error::io(name, std::io::Error::new(e.kind(), rest.to_owned())),
        None => Error::io(name, e),
    }
}

/// The error of a run whose every input was skipped (binary, or unreadable
/// with `--on-error skip`): it read nothing, so it fails, saying why the
/// first few inputs were skipped (on one line: messages never break lines):
/// with no report to list them and no warning said yet, this message is the
/// one place that says.
#[must_use]
pub fn every_input_skipped(skipped: &[Error]) -> Error {
    const SHOWN: usize = 3;
    let mut message = format!(
        "nothing to read: every input was skipped ({})",
        crate::report::plural(skipped.len(), "input")
    );
    for (i, e) in skipped.iter().take(SHOWN).enumerate() {
        message.push_str(if i == 0 { ": " } else { "; " });
        message.push_str(&e.to_string());
    }
    if let Some(more) = skipped.len().checked_sub(SHOWN).filter(|&n| n > 0) {
        message.push_str("; and ");
        message.push_str(&more.to_string());
        message.push_str(" more");
    }
    Error::Usage(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_error_names_its_output_once() {
        let already = std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "out: No space left on device (os error 28)",
        );
        assert_eq!(
            sink_error("out", already).to_string(),
            "out: No space left on device (os error 28)"
        );
        // A file under it keeps its name after the directory's.
        let file = std::io::Error::other("out/a.txt: No space left on device");
        assert_eq!(
            sink_error("out", file).to_string(),
            "out: out/a.txt: No space left on device"
        );
        // A name that only starts the same is no repeat.
        let other = std::io::Error::other("outside: gone");
        assert_eq!(sink_error("out", other).to_string(), "out: outside: gone");
    }
}
