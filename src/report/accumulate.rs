//! Building the report: each chunk's analysis added as it is done (its
//! documents' entries, shared blocks and clusters counted, spooled when the
//! run is in chunks), then finished into the report one analysis of
//! everything gives.

use super::dropped::DroppedCopies;
#[allow(clippy::wildcard_imports)]
use super::*;

/// Byte offset to character offset, with a checkpoint every 256 bytes so that
/// many look-ups into one long document stay cheap; ASCII needs none.
pub(super) struct CharIndex<'t> {
    pub(super) text: std::borrow::Cow<'t, str>,
    pub(super) checkpoints: Vec<usize>,
    pub(super) ascii: bool,
}

pub(super) const CHECKPOINT: usize = 256;

impl<'t> CharIndex<'t> {
    pub(super) fn new(text: std::borrow::Cow<'t, str>) -> Self {
        if text.is_ascii() {
            return CharIndex {
                text,
                checkpoints: Vec::new(),
                ascii: true,
            };
        }
        let bytes = text.as_bytes();
        let mut checkpoints = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
        let mut chars = 0;
        checkpoints.push(0);
        for chunk in bytes.chunks(CHECKPOINT) {
            chars += count_chars(chunk);
            checkpoints.push(chars);
        }
        CharIndex {
            text,
            checkpoints,
            ascii: false,
        }
    }

    pub(super) fn chars_before(&self, byte: usize) -> usize {
        if self.ascii {
            return byte;
        }
        let slot = byte / CHECKPOINT;
        self.checkpoints[slot] + count_chars(&self.text.as_bytes()[slot * CHECKPOINT..byte])
    }
}

/// Characters in a byte slice of UTF-8: bytes that are not continuation bytes.
pub(super) fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

pub(super) struct Builder<'a> {
    pub(super) corpus: &'a Corpus,
    pub(super) analysis: &'a Analysis,
    /// Each source's name, shared by every reference into it.
    pub(super) names: &'a [std::sync::Arc<str>],
    pub(super) char_indexes: HashMap<usize, CharIndex<'a>>,
    /// Characters of each removal's preview (`--preview`; 0: none).
    pub(super) preview: usize,
    /// Look-ups into the index (or the run's earlier chunks), made when
    /// first needed: the many references into it read their records
    /// side by side, and its file names, once.
    pub(super) looker: std::cell::RefCell<Option<Box<dyn crate::prior::Looker + 'a>>>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        corpus: &'a Corpus,
        analysis: &'a Analysis,
        names: &'a [std::sync::Arc<str>],
        preview: usize,
    ) -> Builder<'a> {
        Builder {
            corpus,
            analysis,
            names,
            char_indexes: HashMap::new(),
            preview,
            looker: std::cell::RefCell::new(None),
        }
    }

    /// `f` of the looker into the index, made if it was not; `None` when
    /// the run has no index.
    pub(super) fn look<T>(&self, f: impl FnOnce(&mut dyn crate::prior::Looker) -> T) -> Option<T> {
        let h = self.analysis.history.as_deref()?;
        let mut looker = self.looker.borrow_mut();
        Some(f(looker.get_or_insert_with(|| h.looker()).as_mut()))
    }

    /// The kept member of `c` as the report names it: its representative
    /// while the kept one has not been read (`--keep fullest` in chunks, a
    /// fuller copy in a later chunk), and `None` when the kept one was named
    /// before this chunk.
    pub(super) fn kept_ref(&self, c: &crate::cluster::Cluster, again: bool) -> Option<DocRef> {
        let base = self.analysis.base_docs;
        let read = c.kept < base + self.corpus.documents.len();
        match (again, read) {
            (false, true) => Some(self.doc_ref(c.kept)),
            (false, false) => Some(self.doc_ref(c.representative)),
            (true, true) if c.kept >= base => Some(self.doc_ref(c.kept)),
            (true, _) => None,
        }
    }

    /// A document by its global index (the index's documents first).
    pub(super) fn doc_ref(&self, global: usize) -> DocRef {
        let base = self.analysis.base_docs;
        if global < base {
            if let Some((d, id, path)) = self.look(|h| h.doc_named(global)) {
                return DocRef {
                    index: global,
                    id,
                    path,
                    line: (d.line > 0).then_some(d.line as usize),
                    indexed: global < self.analysis.indexed_docs,
                };
            }
        }
        let d = &self.corpus.documents[global - base];
        DocRef {
            index: global,
            id: self.corpus.id(d).into_owned(),
            path: self.names[d.source].clone(),
            line: d.record.as_ref().map(crate::input::Record::line),
            indexed: false,
        }
    }

    pub(super) fn place(&mut self, global: usize) -> Place {
        let stored = self
            .analysis
            .stored(global)
            .then(|| self.look(|h| h.block(global)))
            .flatten();
        if let Some(b) = stored {
            #[allow(clippy::cast_possible_truncation)]
            return Place {
                document: self.doc_ref(b.doc as usize),
                bytes: [b.bytes[0] as usize, b.bytes[1] as usize],
                chars: [b.chars[0] as usize, b.chars[1] as usize],
                lines: [b.lines[0] as usize, b.lines[1] as usize],
            };
        }
        let (doc, block) = self.analysis.block(global);
        let (span, lines) = (block.span.clone(), [block.first_line, block.last_line]);
        let index = self.char_index(doc);
        let chars = [index.chars_before(span.start), index.chars_before(span.end)];
        Place {
            document: self.doc_ref(self.analysis.base_docs + doc),
            bytes: [span.start, span.end],
            chars,
            lines,
        }
    }

    /// This chunk's document `doc`: its text (a JSON Lines record's decoded
    /// once, not for each block of it: 1,000 previews of a record of 10 MB
    /// took 13 s) and where its characters are.
    fn char_index(&mut self, doc: usize) -> &CharIndex<'a> {
        let corpus = self.corpus;
        if self.char_indexes.len() >= 64 && !self.char_indexes.contains_key(&doc) {
            // Only a few documents' texts are held: the one at hand and the
            // first copies it points to.
            self.char_indexes.clear();
        }
        self.char_indexes
            .entry(doc)
            .or_insert_with(|| CharIndex::new(corpus.text(&corpus.documents[doc])))
    }

    /// The content of this chunk's block `block` of document `doc`.
    pub(super) fn content(&mut self, doc: usize, block: &crate::segment::Block) -> &str {
        &self.char_index(doc).text[block.content.clone()]
    }

    pub(super) fn removal(&mut self, pair: &Pair) -> Removal {
        Removal {
            repeat: self.place(pair.block),
            first_copy: self.place(pair.source),
            first_copy_last: (pair.source_last != pair.source)
                .then(|| self.place(pair.source_last)),
            aligned_with: self.place(pair.mirror),
            similarity: round(pair.similarity),
            exact: pair.exact,
            removed: self.analysis.is_dropped(pair.block),
            preview: (self.preview > 0).then(|| {
                let (doc, block) = self.analysis.block(pair.block);
                let n = self.preview;
                preview_chars(self.content(doc, block), n)
            }),
        }
    }

    pub(super) fn span_len(&self, global: usize) -> usize {
        self.analysis.block(global).1.span.len()
    }
}

pub(super) fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `part / whole` rounded to 4 decimals, 0 for an empty whole.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round(part as f64 / whole as f64)
    }
}

/// Builds the report of a finished analysis.
#[must_use]
pub fn build(corpus: &Corpus, analysis: &Analysis, config: &Config, command: &str) -> Report {
    let mut report = Accumulator::new(config, command);
    report.add(corpus, analysis, corpus);
    report
        .finish(&corpus.sources, &corpus.skipped)
        .expect("nothing is spooled")
}

/// The report's totals alone, without its entries (the same numbers as
/// [`build`]'s summary): for a run whose report goes nowhere but its one
/// line of totals (cleaned text on standard output and no `--report`), which
/// then skips building the rest (a sixth of such a run's time).
#[must_use]
pub fn summary(corpus: &Corpus, analysis: &Analysis) -> Summary {
    let (mut with_repeats, mut runs, mut short_repeats, mut removed_block_bytes) = (0, 0, 0, 0);
    for (doc, decision) in analysis.decisions.iter().enumerate() {
        if decision.runs.is_empty() && decision.kept_short.is_empty() {
            continue;
        }
        with_repeats += 1;
        runs += decision.runs.len();
        short_repeats += decision.kept_short.len();
        removed_block_bytes += analysis.removed(doc).1;
    }
    let (mut dropped_documents, mut dropped_document_bytes) = (0, 0);
    for (d, &dropped) in analysis.doc_dropped.iter().enumerate() {
        if dropped {
            dropped_documents += 1;
            dropped_document_bytes += corpus.text_len(&corpus.documents[d]);
        }
    }
    let bytes = corpus.documents.iter().map(|d| corpus.text_len(d)).sum();
    let removed_bytes = removed_block_bytes + dropped_document_bytes;
    Summary {
        documents: corpus.documents.len(),
        dropped_documents,
        documents_with_repeats: with_repeats,
        blocks: analysis.dropped.len(),
        removed_blocks: analysis.dropped.iter().filter(|&&d| d).count(),
        short_repeats_kept: short_repeats,
        runs,
        bytes,
        dropped_document_bytes,
        removed_block_bytes,
        removed_bytes,
        removed_ratio: ratio(removed_bytes, bytes),
    }
}

/// A block found in several documents, as the report accumulates it: one
/// for every block repeated anywhere (1.3 million for a 5 GB corpus), so
/// counts and document numbers are 32-bit (documents and blocks are fewer
/// than 2^32 throughout).
pub(super) struct Shared {
    /// Documents holding it or a copy, counted without a set: copies come in
    /// document order, never before their first copy's document, and copies
    /// in dropped documents (counted last, by first copy and document) are in
    /// other documents than either.
    pub(super) docs: u32,
    pub(super) source_doc: u32,
    pub(super) last_doc: u32,
    pub(super) copies: u32,
    pub(super) removed: u32,
    pub(super) words: u32,
    pub(super) first_doc: u32,
    /// The first copy's place and preview, made once every entry of the
    /// chunk is counted; with a spool, written there instead (at `at`) and
    /// only the sort keys kept.
    pub(super) made: Option<Box<(Place, String)>>,
    pub(super) first_bytes: [usize; 2],
    pub(super) at: (u64, u32),
}

/// A document or block number as the report's tables hold it.
pub(super) fn n32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 documents and blocks")
}

/// Clusters whose members are spooled as they come, chunk after chunk: what is
/// held of a cluster is where its pieces' JSON is, 16 bytes a member instead
/// of a whole reference (a 5 GB corpus has a million members).
pub(super) struct ClusterSpool {
    /// JSON of representatives', kept members' and members' entries.
    pub(super) parts: Spool,
    /// Where `parts` is, and the clusters' entries will be.
    pub(super) dir: std::path::PathBuf,
    pub(super) clusters: HashMap<usize, HeldCluster>,
}

impl ClusterSpool {
    /// Adds a chunk's clusters: a cluster met in an earlier chunk gets this
    /// chunk's members (its representative comes again: not twice). A
    /// cluster's members of one chunk are spooled one after another, so what
    /// is held of them is the stretch of the spool they fill.
    pub(super) fn add(
        &mut self,
        b: &Builder<'_>,
        clusters: &[crate::cluster::Cluster],
    ) -> std::io::Result<()> {
        for c in clusters {
            let held = match self.clusters.entry(c.representative) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(HeldCluster {
                    representative: self.parts.push(&b.doc_ref(c.representative))?,
                    kept: (0, 0),
                    size: 0,
                    members: Stretches::default(),
                }),
            };
            let again = held.size > 0;
            if let Some(kept) = b.kept_ref(c, again) {
                held.kept = self.parts.push(&kept)?;
            }
            let start = self.parts.len;
            for &(m, similarity) in &c.members {
                if again && m == c.representative {
                    continue;
                }
                self.parts.push(&ClusterMember {
                    document: b.doc_ref(m),
                    similarity: round(similarity),
                    kept: m == c.kept,
                })?;
                held.size += 1;
            }
            held.members.add(start, self.parts.len);
        }
        Ok(())
    }
}

/// Where the pieces of one spooled cluster are.
pub(super) struct HeldCluster {
    pub(super) representative: (u64, u32),
    pub(super) kept: (u64, u32),
    /// Its members.
    pub(super) size: usize,
    pub(super) members: Stretches,
}

/// The stretches of a spool that a cluster's members' entries fill (each
/// ending in a line break), in order: one a chunk at most, whatever the
/// cluster's size, and one in all while no other cluster's come between.
#[derive(Default)]
pub(super) struct Stretches(pub(super) Vec<(u64, u64)>);

impl Stretches {
    /// Adds the entries from `start` to `end`.
    pub(super) fn add(&mut self, start: u64, end: u64) {
        match self.0.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ if end > start => self.0.push((start, end)),
            _ => {}
        }
    }
}

/// The report of a run made of chunks checked one after another (one chunk
/// for a whole-corpus run): each chunk's analysis is added as it is done,
/// and `finish` gives the report that one analysis of everything would give.
pub struct Accumulator {
    pub(super) config: Config,
    pub(super) command: String,
    pub(super) documents: Vec<DocReport>,
    pub(super) shared: BTreeMap<usize, Shared>,
    /// Blocks in documents dropped whole that copy a first copy, counted at
    /// the end: by first copy, the documents and copies (12 bytes a first
    /// copy, not 8 a copy: a flood of 30 million identical records has one).
    pub(super) copies_in_dropped: DroppedCopies,
    pub(super) clusters: BTreeMap<usize, ClusterReport>,
    pub(super) candidate_pairs: usize,
    pub(super) verified_pairs: usize,
    pub(super) duplicate_documents: usize,
    pub(super) dropped_documents: usize,
    pub(super) dropped_bytes: usize,
    pub(super) runs: usize,
    pub(super) short_repeats: usize,
    pub(super) blocks: usize,
    pub(super) removed_blocks: usize,
    pub(super) bytes: usize,
    pub(super) inputs: Vec<usize>,
    /// Each source's name, shared by every reference into it.
    pub(super) names: Vec<std::sync::Arc<str>>,
    /// Where documents go instead of `documents`, when spooling.
    pub(super) spool: Option<Spool>,
    /// Where a spool of documents is made when a document's entry is too
    /// large to hold ([`Accumulator::spool_large_documents`]).
    pub(super) spool_dir: Option<std::path::PathBuf>,
    /// Where shared blocks' places and previews go, when spooling, and the
    /// spool they are copied to in the report's order when it is finished.
    pub(super) shared_spool: Option<(Spool, Spool)>,
    /// Where clusters' members go, when spooling, instead of `clusters`.
    pub(super) cluster_spool: Option<ClusterSpool>,
    /// Documents with repeats and their removed bytes, spooled or not.
    pub(super) with_repeats: usize,
    pub(super) removed_block_bytes: usize,
    pub(super) spool_error: Option<std::io::Error>,
}

/// The text of a block for the shared-block list: white space collapsed, 100
/// characters at most.
pub(super) fn preview(text: &str) -> String {
    preview_chars(text, 100)
}

/// The first `n` characters of `text`, white space collapsed.
pub(super) fn preview_chars(text: &str, n: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            if count == n {
                break;
            }
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count == n {
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

impl Accumulator {
    /// An empty report.
    #[must_use]
    pub fn new(config: &Config, command: &str) -> Accumulator {
        Accumulator {
            config: config.clone(),
            command: command.into(),
            documents: Vec::new(),
            shared: BTreeMap::new(),
            copies_in_dropped: DroppedCopies::default(),
            clusters: BTreeMap::new(),
            candidate_pairs: 0,
            verified_pairs: 0,
            duplicate_documents: 0,
            dropped_documents: 0,
            dropped_bytes: 0,
            runs: 0,
            short_repeats: 0,
            blocks: 0,
            removed_blocks: 0,
            bytes: 0,
            inputs: Vec::new(),
            names: Vec::new(),
            spool: None,
            spool_dir: None,
            shared_spool: None,
            cluster_spool: None,
            with_repeats: 0,
            removed_block_bytes: 0,
            spool_error: None,
        }
    }

    /// Writes documents to a temporary file in `dir` as they come, instead of
    /// holding them (a chunked run's report can be larger than memory).
    ///
    /// # Errors
    /// When the temporary file cannot be made.
    pub fn spool_documents(&mut self, dir: &std::path::Path) -> std::io::Result<()> {
        self.spool = Some(Spool::new(dir)?);
        self.shared_spool = Some((Spool::new(dir)?, Spool::new(dir)?));
        self.cluster_spool = Some(ClusterSpool {
            parts: Spool::new(dir)?,
            dir: dir.to_path_buf(),
            clusters: HashMap::new(),
        });
        Ok(())
    }

    /// Documents held until one comes whose entry is too large to hold (a
    /// text of many repeated lines): that one and those after it go to a
    /// spool made in `dir` then.
    pub fn spool_large_documents(&mut self, dir: &std::path::Path) {
        self.spool_dir = Some(dir.to_path_buf());
    }

    /// Adds one chunk: `corpus` holds its documents (with every source read
    /// so far), `analysis` was made after every earlier chunk, and `earlier`
    /// holds the texts of earlier chunks' documents.
    #[allow(clippy::too_many_lines)]
    pub fn add(&mut self, corpus: &Corpus, analysis: &Analysis, earlier: &dyn Texts) {
        self.name_sources(&corpus.sources);
        let names = self.names.clone();
        // Shared blocks are counted in document order; the place and preview
        // of each new one are made afterwards, on every thread.
        let mut new_shared: Vec<(usize, usize)> = Vec::new();
        for (doc, decision) in analysis.decisions.iter().enumerate() {
            let all_pairs = decision
                .runs
                .iter()
                .flat_map(|r| r.pairs.iter())
                .chain(decision.kept_short.iter());
            for pair in all_pairs {
                let entry = self.shared.entry(pair.source).or_insert_with(|| {
                    new_shared.push((pair.source, pair.block));
                    Shared {
                        docs: 1,
                        source_doc: n32(analysis.doc_of_block(pair.source)),
                        last_doc: u32::MAX,
                        copies: 0,
                        removed: 0,
                        words: u32::try_from(analysis.words_of(pair.source)).unwrap_or(u32::MAX),
                        first_doc: 0,
                        made: None,
                        first_bytes: [0; 2],
                        at: (0, 0),
                    }
                });
                let copy_doc = n32(analysis.base_docs + doc);
                if copy_doc != entry.source_doc && copy_doc != entry.last_doc {
                    entry.docs += 1;
                    entry.last_doc = copy_doc;
                }
                entry.copies += 1;
                entry.removed += u32::from(analysis.is_dropped(pair.block));
            }
        }
        // With an index (a chunked run), previews and places of first copies
        // read the input anywhere, and a fault maps up to 2 MiB of its
        // cached pages around each: those pages go after every batch, so
        // batches are smaller.
        let preview = self.config.preview;
        let (shared_batch, doc_batch) = if analysis.history.is_some() {
            (128, 64)
        } else {
            (4096, 1024)
        };
        let texts = super::previews::EarlierTexts::default();
        for batch in new_shared.chunks(shared_batch) {
            let made: Vec<(Place, String)> = batch
                .par_iter()
                .map_init(
                    || Builder::new(corpus, analysis, &names, preview),
                    |b, &(source, block)| {
                        (
                            b.place(source),
                            super::previews::preview_of((earlier, &texts), b, source, block),
                        )
                    },
                )
                .collect();
            for (&(source, _), (place, text)) in batch.iter().zip(made) {
                let entry = self.shared.get_mut(&source).expect("inserted above");
                entry.first_doc = n32(place.document.index);
                entry.first_bytes = place.bytes;
                if let Some((spool, _)) = &mut self.shared_spool {
                    match spool.push(&(&place, &text)) {
                        Ok(at) => entry.at = at,
                        Err(e) => {
                            self.spool_error.get_or_insert(e);
                        }
                    }
                } else {
                    entry.made = Some(Box::new((place, text)));
                }
            }
            // Previews of first copies read their documents anywhere in the
            // input (and a fault maps the pages around each): they leave the
            // resident set now (the whole input, by the last batch).
            earlier.release();
        }
        drop(new_shared);
        if let Some(e) = earlier.failure() {
            self.spool_error.get_or_insert(e);
        }
        // Documents' entries, made on every thread a batch at a time (a batch's
        // entries are held at once) and taken in document order.
        let with_entries: Vec<usize> = (0..analysis.decisions.len())
            .filter(|&d| {
                let decision = &analysis.decisions[d];
                !(decision.runs.is_empty() && decision.kept_short.is_empty())
            })
            .collect();
        let mut released = 0;
        // A spooled document of many removals is written as it is
        // serialized, a removal at a time, on this thread (below).
        let large = |doc: usize| {
            super::streamed::removals(analysis, doc) > super::streamed::STREAMED_REMOVALS
        };
        if self.spool.is_none() && with_entries.iter().any(|&d| large(d)) {
            if let Some(dir) = &self.spool_dir {
                match Spool::new(dir) {
                    Ok(spool) => self.spool = Some(spool),
                    Err(e) => {
                        self.spool_error.get_or_insert(e);
                    }
                }
            }
        }
        let spooled = self.spool.is_some();
        let streamed = |doc: usize| spooled && large(doc);
        for batch in with_entries.chunks(doc_batch) {
            let reports: Vec<Option<DocReport>> = batch
                .par_iter()
                .map_init(
                    || Builder::new(corpus, analysis, &names, preview),
                    |b, &doc| (!streamed(doc)).then(|| b.doc_report(doc)),
                )
                .collect();
            // The pages of the documents done leave the resident set (first
            // copies in them are read back from the page cache if needed).
            let done = batch.last().map_or(released, |&d| d + 1);
            corpus.release_documents(released..done);
            released = done;
            for (&doc, report) in batch.iter().zip(reports) {
                let decision = &analysis.decisions[doc];
                self.runs += decision.runs.len();
                self.short_repeats += decision.kept_short.len();
                self.with_repeats += 1;
                self.removed_block_bytes += analysis.removed(doc).1;
                let written = match (report, &mut self.spool) {
                    // Written as it is serialized: a document of 400,000
                    // repeated lines has an entry of 200 MB, held once.
                    (Some(report), Some(spool)) => spool.push_streamed(|out| {
                        serde_json::to_writer(out, &report).map_err(std::io::Error::from)
                    }),
                    (Some(report), None) => {
                        self.documents.push(report);
                        Ok(())
                    }
                    (None, Some(spool)) => {
                        let mut b = Builder::new(corpus, analysis, &names, preview);
                        spool.push_streamed(|out| b.write_doc_report(doc, out))
                    }
                    (None, None) => unreachable!("entries are streamed into a spool only"),
                };
                if let Err(e) = written {
                    self.spool_error.get_or_insert(e);
                }
            }
        }
        let b = Builder::new(corpus, analysis, &names, preview);
        self.copies_in_dropped.add(
            analysis
                .copies_in_dropped
                .iter()
                .map(|&(block, first)| (n32(first), n32(analysis.doc_of_block(block)))),
        );
        self.blocks += analysis.dropped.len();
        self.removed_blocks += analysis.dropped.iter().filter(|&&d| d).count();
        self.bytes += corpus
            .documents
            .iter()
            .map(|d| corpus.text_len(d))
            .sum::<usize>();
        for (i, docs) in corpus.docs_by_source().iter().enumerate() {
            self.inputs[i] += docs.len();
        }
        if analysis.candidates.is_some() {
            self.add_clusters(&b);
        }
    }

    /// Names the sources not named yet (a chunked run reads them as it goes).
    pub(super) fn name_sources(&mut self, sources: &[std::sync::Arc<crate::input::Source>]) {
        for source in &sources[self.names.len()..] {
            self.names
                .push(std::sync::Arc::from(source.input.display_name()));
            self.inputs.push(0);
        }
    }

    /// Copies in documents dropped whole whose first copy came in a later
    /// chunk: (block, global document, first copy).
    pub fn add_late_copies(&mut self, copies: impl IntoIterator<Item = (usize, usize, usize)>) {
        self.copies_in_dropped.add(
            copies
                .into_iter()
                .map(|(_, doc, first)| (n32(first), n32(doc))),
        );
    }

    pub(super) fn add_clusters(&mut self, b: &Builder<'_>) {
        let level = &b.analysis.doc_level;
        self.candidate_pairs += level.candidate_pairs;
        self.verified_pairs += level.verified_pairs;
        self.duplicate_documents += level.dropped.iter().filter(|&&d| d).count();
        for (d, &dropped) in b.analysis.doc_dropped.iter().enumerate() {
            if dropped {
                self.dropped_documents += 1;
                self.dropped_bytes += b.corpus.text_len(&b.corpus.documents[d]);
            }
        }
        if let Some(spool) = &mut self.cluster_spool {
            if let Err(e) = spool.add(b, &level.clusters) {
                self.spool_error.get_or_insert(e);
            }
            return;
        }
        for c in &level.clusters {
            let entry = self
                .clusters
                .entry(c.representative)
                .or_insert_with(|| ClusterReport {
                    id: c.representative,
                    size: 0,
                    representative: b.doc_ref(c.representative),
                    kept: b.doc_ref(c.representative),
                    members: Vec::new(),
                });
            // A cluster met again (its representative in an index or an
            // earlier chunk) brings new members and its representative
            // again; skipped as such, not by a search of the members (200,000
            // identical records took 70 s so).
            let again = !entry.members.is_empty();
            if let Some(kept) = b.kept_ref(c, again) {
                entry.kept = kept;
            }
            for &(m, similarity) in &c.members {
                if again && m == c.representative {
                    continue;
                }
                entry.members.push(ClusterMember {
                    document: b.doc_ref(m),
                    similarity: round(similarity),
                    kept: m == c.kept,
                });
            }
            entry.size = entry.members.len();
        }
    }

    /// The clusters' entries, largest first (then by id): held, or spooled
    /// when the members were.
    pub(super) fn cluster_entries(
        &mut self,
    ) -> std::io::Result<(usize, Vec<ClusterReport>, Option<Spool>)> {
        let Some(ClusterSpool {
            mut parts,
            dir,
            clusters,
        }) = self.cluster_spool.take()
        else {
            let mut list: Vec<ClusterReport> =
                std::mem::take(&mut self.clusters).into_values().collect();
            list.sort_by(|x, y| y.size.cmp(&x.size).then(x.id.cmp(&y.id)));
            return Ok((list.len(), list, None));
        };
        let mut order: Vec<(usize, HeldCluster)> = clusters.into_iter().collect();
        order.sort_by(|(x, a), (y, b)| b.size.cmp(&a.size).then(x.cmp(y)));
        parts.flush()?;
        let mut out = Spool::new(&dir)?;
        let mut buf = Vec::new();
        for (id, held) in &order {
            // The bytes serde writes for a `ClusterReport`, field by field,
            // straight into the spool (a cluster can have millions).
            out.push_streamed(|json| {
                write!(
                    json,
                    "{{\"id\":{id},\"size\":{},\"representative\":",
                    held.size
                )?;
                parts.read_at(held.representative, &mut buf)?;
                json.write_all(&buf)?;
                json.write_all(b",\"kept\":")?;
                parts.read_at(held.kept, &mut buf)?;
                json.write_all(&buf)?;
                json.write_all(b",\"members\":[")?;
                let mut first = true;
                for &stretch in &held.members.0 {
                    parts.copy_lines(stretch, &mut first, json)?;
                }
                json.write_all(b"]}")
            })?;
        }
        out.flush()?;
        Ok((order.len(), Vec::new(), Some(out)))
    }

    /// The report of everything added, of `sources` (every input read) with
    /// `skipped` (what was passed over).
    ///
    /// # Errors
    /// When spooled documents could not be written.
    #[allow(clippy::too_many_lines)]
    pub fn finish(
        mut self,
        sources: &[std::sync::Arc<crate::input::Source>],
        skipped: &[crate::Error],
    ) -> std::io::Result<Report> {
        self.name_sources(sources);
        if let Some(e) = self.spool_error.take() {
            return Err(e);
        }
        if let Some(spool) = &mut self.spool {
            use std::io::Write as _;
            spool.file.flush()?;
        }
        let (cluster_count, cluster_list, cluster_spool) = self.cluster_entries()?;
        let config = &self.config;
        // Documents dropped whole count toward blocks already shared by two kept
        // documents: a paragraph merely repeated in a near-duplicate copy of its own
        // document is document-level duplication, reported as such above.
        // By first copy, then document: each document's copies of a block
        // together, as in block order.
        for (first, docs, copies) in std::mem::take(&mut self.copies_in_dropped).counted() {
            let Some(entry) = self
                .shared
                .get_mut(&(first as usize))
                .filter(|e| e.docs >= 2)
            else {
                continue;
            };
            entry.docs += docs;
            entry.copies += copies;
            // The copies are gone with their documents.
            entry.removed += copies;
        }
        let mut shared: Vec<Shared> = std::mem::take(&mut self.shared)
            .into_values()
            .filter(|e| e.docs >= 2)
            .collect();
        shared.sort_by(|x, y| {
            y.docs
                .cmp(&x.docs)
                .then(y.copies.cmp(&x.copies))
                .then(x.first_doc.cmp(&y.first_doc))
                .then(x.first_bytes.cmp(&y.first_bytes))
        });
        let min_words = config.min_words;
        let entry = move |e: Shared, first_copy: Place, text: String| Syndicated {
            first_copy,
            documents: e.docs as usize,
            copies: e.copies as usize + 1,
            removed: e.removed as usize,
            words: e.words as usize,
            short: (e.words as usize) < min_words,
            text,
        };
        let mut syndicated = Vec::new();
        let mut syndicated_spool = None;
        match self.shared_spool.take() {
            None => {
                syndicated = shared
                    .into_iter()
                    .map(|mut e| {
                        let (place, text) = *e.made.take().expect("made when counted");
                        entry(e, place, text)
                    })
                    .collect();
            }
            Some((mut places, mut out)) => {
                // Read back in the report's order, and spooled again so.
                let mut buf = Vec::new();
                for e in shared {
                    places.read_at(e.at, &mut buf)?;
                    let (place, text): (Place, String) =
                        serde_json::from_slice(&buf).map_err(std::io::Error::from)?;
                    out.push(&entry(e, place, text))?;
                }
                {
                    use std::io::Write as _;
                    out.file.flush()?;
                }
                syndicated_spool = Some(out);
            }
        }
        let parameters = Parameters::of(config);
        let near_duplicates = (config.level != Level::Blocks).then(|| {
            // MinHash: the S-curve of its banding; SimHash has none.
            let d = &parameters.documents;
            let banding = d.num_perm.and(d.bands.zip(d.rows));
            let candidate_probability = banding.map_or_else(Vec::new, |(bands, rows)| {
                [0.5, 0.7, 0.8, 0.9, 0.95]
                    .iter()
                    .map(|&j| CandidateProbability {
                        jaccard: j,
                        probability: round(
                            crate::index::lsh::Banding { bands, rows }.probability(j),
                        ),
                    })
                    .collect()
            });
            NearDuplicates {
                candidate_probability,
                candidate_pairs: self.candidate_pairs,
                verified_pairs: self.verified_pairs,
                clusters: cluster_count,
                duplicate_documents: self.duplicate_documents,
                dropped_documents: self.dropped_documents,
                dropped_bytes: self.dropped_bytes,
                cluster_list,
            }
        });
        let removed_block_bytes = self.removed_block_bytes;
        let (dropped_documents, dropped_document_bytes) = near_duplicates
            .as_ref()
            .map_or((0, 0), |n| (n.dropped_documents, n.dropped_bytes));
        let removed_bytes = removed_block_bytes + dropped_document_bytes;
        let documents = std::mem::take(&mut self.documents);
        let summary = Summary {
            documents: self.inputs.iter().sum(),
            dropped_documents,
            documents_with_repeats: self.with_repeats,
            blocks: self.blocks,
            removed_blocks: self.removed_blocks,
            short_repeats_kept: self.short_repeats,
            runs: self.runs,
            bytes: self.bytes,
            dropped_document_bytes,
            removed_block_bytes,
            removed_bytes,
            removed_ratio: ratio(removed_bytes, self.bytes),
        };
        let inputs = sources
            .iter()
            .zip(&self.inputs)
            .map(|(s, &documents)| InputReport {
                path: s.input.display_name(),
                format: format!("{:?}", s.format).to_lowercase(),
                documents,
                bytes: s.data.len(),
            })
            .collect();
        Ok(Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            command: self.command.clone(),
            parameters,
            inputs,
            summary,
            near_duplicates,
            documents,
            syndicated,
            skipped: skipped.iter().map(ToString::to_string).collect(),
            check: None,
            index: None,
            spool: self.spool.take(),
            syndicated_spool,
            cluster_spool,
        })
    }
}
