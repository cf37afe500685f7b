//! Segments that follow each other, looked up as one: what the stages read
//! through [`Prior`].

use super::segment::{Reader, Segment};
use super::IndexParams;
use crate::error::Result;
use crate::prior::{
    BlockRecord, DocRecord, ExactRecord, Looker, Prior, PriorPostings, MEMBERS_KEPT,
};
use std::path::Path;
use std::sync::Arc;

/// What earlier runs (or earlier chunks of this run) saw: one index file, or
/// several segments that follow each other (a chunked run's), looked up as one.
/// Document and block numbers are global: the first segment's come first.
pub struct History {
    segments: Vec<Segment>,
    /// Every bucket key the segments hold, when known (see
    /// [`super::KeysSeen`]): a key it never saw is not looked up.
    keys_seen: Option<Arc<super::KeysSeen>>,
}

impl History {
    /// Opens an index file (see [`Segment::open`]).
    ///
    /// # Errors
    /// See [`Segment::open`].
    pub fn open(
        path: &Path,
        params: Option<&IndexParams>,
        lock: Option<crate::targets::LockDescriptor>,
    ) -> Result<History> {
        Ok(History::from_segments(vec![Segment::open(
            path, params, lock,
        )?]))
    }

    /// Segments that follow each other, in order (none: an empty history).
    #[must_use]
    pub fn from_segments(segments: Vec<Segment>) -> History {
        History {
            segments,
            keys_seen: None,
        }
    }

    /// [`History::from_segments`] whose bucket keys are all in `keys_seen`
    /// (added as each segment's delta was made, and merged segments hold
    /// no key their parts did not): the keys it never saw are not looked up.
    #[must_use]
    pub fn with_keys_seen(mut self, keys_seen: Option<Arc<super::KeysSeen>>) -> History {
        self.keys_seen = keys_seen;
        self
    }

    /// The segments, in order.
    #[must_use]
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Takes the segments back.
    #[must_use]
    pub fn into_segments(self) -> Vec<Segment> {
        self.segments
    }

    /// The first segment's file.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.segments.first().map_or(Path::new(""), Segment::path)
    }

    /// Calls `f(reader, i)` for every segment, in order, and every `i` in
    /// `0..n` (keys the caller sorted in the order of the segment's records),
    /// with a reader that reads ahead: neighbouring keys share the reads.
    fn walk_in_order(&self, n: usize, mut f: impl FnMut(&mut Reader<'_>, usize)) {
        for s in &self.segments {
            let mut r = s.walker();
            for i in 0..n {
                f(&mut r, i);
            }
        }
    }

    fn of_doc(&self, d: usize) -> &Segment {
        &self.segments[self.segment_of_doc(d)]
    }

    fn of_block(&self, g: usize) -> &Segment {
        &self.segments[self.segment_of_block(g)]
    }

    /// The number of the segment holding document `d`.
    fn segment_of_doc(&self, d: usize) -> usize {
        let at = self.segments.partition_point(|s| s.doc_base <= d);
        at.saturating_sub(1)
    }

    /// The number of the segment holding block `g`.
    fn segment_of_block(&self, g: usize) -> usize {
        let at = self.segments.partition_point(|s| s.block_base <= g);
        at.saturating_sub(1)
    }
}

/// File names a [`HistoryLooker`] keeps: most documents of a run come from
/// one file or a few.
const NAMES_KEPT: usize = 4;

/// Where a file name is: (segment, place in its `strings`).
type NameAt = (usize, (u64, u32));

/// [`Looker`] of a [`History`]: a [`Segment::looker`] for each segment it
/// reads (made when first needed), and the file names it read last.
pub struct HistoryLooker<'h> {
    history: &'h History,
    readers: Vec<Option<Reader<'h>>>,
    /// (where, the name), the most recently used first.
    names: Vec<(NameAt, Arc<str>)>,
}

impl<'h> HistoryLooker<'h> {
    fn reader(&mut self, segment: usize) -> &mut Reader<'h> {
        let history = self.history;
        self.readers[segment].get_or_insert_with(|| history.segments[segment].looker())
    }

    /// The file name at `at` of segment `segment`'s strings.
    fn name(&mut self, segment: usize, at: (u64, u32)) -> Arc<str> {
        let key = (segment, at);
        if let Some(i) = self.names.iter().position(|(k, _)| *k == key) {
            self.names[..=i].rotate_right(1);
            return self.names[0].1.clone();
        }
        let name: Arc<str> = self.reader(segment).string(at).into();
        self.names.truncate(NAMES_KEPT - 1);
        self.names.insert(0, (key, name.clone()));
        name
    }
}

impl Looker for HistoryLooker<'_> {
    fn doc(&mut self, d: usize) -> DocRecord {
        let segment = self.history.segment_of_doc(d);
        self.reader(segment).doc(d)
    }

    fn doc_named(&mut self, d: usize) -> (DocRecord, String, Arc<str>) {
        let segment = self.history.segment_of_doc(d);
        let r = self.reader(segment);
        let doc = r.doc(d);
        let id = r.string(doc.id);
        (doc, id, self.name(segment, doc.path))
    }

    fn block(&mut self, g: usize) -> BlockRecord {
        let segment = self.history.segment_of_block(g);
        self.reader(segment).block(g)
    }

    fn doc_text(&mut self, d: usize) -> (u64, Vec<u64>) {
        let segment = self.history.segment_of_doc(d);
        self.reader(segment).doc_text(d)
    }
}

impl Prior for History {
    fn documents(&self) -> usize {
        self.segments.last().map_or(0, Segment::doc_end_id)
    }

    fn blocks(&self) -> usize {
        self.segments.last().map_or(0, Segment::block_end_id)
    }

    /// The first corruption a look-up found in any segment.
    ///
    /// # Errors
    /// That corruption.
    fn status(&self) -> Result<()> {
        self.segments.iter().try_for_each(Segment::status)
    }

    fn doc(&self, d: usize) -> DocRecord {
        self.of_doc(d).doc(d)
    }

    fn doc_end(&self, d: usize) -> usize {
        self.of_doc(d).reader().doc_end(d)
    }

    fn doc_id(&self, d: usize) -> String {
        let mut r = self.of_doc(d).reader();
        let doc = r.doc(d);
        r.string(doc.id)
    }

    fn block(&self, g: usize) -> BlockRecord {
        self.of_block(g).block(g)
    }

    fn block_shingles(&self, g: usize) -> Vec<u64> {
        self.of_block(g).reader().block_shingles(g)
    }

    fn doc_text(&self, d: usize) -> (u64, Vec<u64>) {
        self.of_doc(d).reader().doc_text(d)
    }

    /// The postings of many fingerprints at once (`fingerprints` ascending,
    /// no repeats), looked up in each segment in ascending order: the pages
    /// of its postings are then read front to back, each once, instead of
    /// once per look-up, and let go behind the walk.
    fn prior_postings(&self, fingerprints: &[u32]) -> PriorPostings {
        // (fingerprint, first copy) of what is found, segment after segment;
        // a stable sort by fingerprint then keeps each list in segment order.
        let mut found: Vec<(u32, u32)> = Vec::new();
        let mut reps = Vec::new();
        self.walk_in_order(fingerprints.len(), |s, i| {
            reps.clear();
            s.posting_reps(fingerprints[i], &mut reps);
            found.extend(reps.iter().map(|&r| (fingerprints[i], r)));
        });
        PriorPostings::from_found(found)
    }

    /// What many exact-text keys resolve to, looked up in each segment in
    /// the order of their records (see [`History::prior_postings`]).
    fn prior_exact(&self, keys: &[u128]) -> std::collections::HashMap<u128, ExactRecord> {
        let mut keys = keys.to_vec();
        #[allow(clippy::cast_possible_truncation)]
        keys.sort_unstable_by_key(|&k| (k as u64, (k >> 64) as u64));
        keys.dedup();
        let mut found = std::collections::HashMap::new();
        self.walk_in_order(keys.len(), |s, i| {
            // At most one segment holds a key.
            if let std::collections::hash_map::Entry::Vacant(slot) = found.entry(keys[i]) {
                if let Some(record) = s.exact(keys[i]) {
                    slot.insert(record);
                }
            }
        });
        found
    }

    fn members(&self, cluster: u32) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .segments
            .iter()
            .flat_map(|s| s.reader().members(cluster))
            .collect();
        let keep = out.len().saturating_sub(MEMBERS_KEPT);
        out.drain(..keep);
        out
    }

    /// The stored documents of many LSH buckets (table, key), ascending: each
    /// segment's first and last ones, which hold the first and last ones of
    /// all of them. Looked up segment by segment in key order (see
    /// [`History::prior_postings`]); buckets with no documents are left out.
    fn buckets(&self, queries: &[(u32, u64)], found: &mut Vec<(u32, u64, u32)>) {
        let seen =
            |&&(t, k): &&(u32, u64)| self.keys_seen.as_ref().is_none_or(|s| s.may_hold(t, k));
        let mut order: Vec<(u64, u32)> =
            queries.iter().filter(seen).map(|&(t, k)| (k, t)).collect();
        order.sort_unstable();
        order.dedup();
        let mut out = Vec::new();
        self.walk_in_order(order.len(), |s, i| {
            let (key, table) = order[i];
            out.clear();
            s.bucket(table, key, &mut out);
            found.extend(out.iter().map(|&d| (table, key, d)));
        });
    }

    fn has_few(&self) -> bool {
        self.segments.iter().any(|s| s.count("few_sets") > 0)
    }

    fn few_shingles(&self, most: usize) -> Option<Vec<u64>> {
        if self.segments.iter().map(|s| s.count("few")).sum::<usize>() > most {
            return None;
        }
        let mut shingles = Vec::new();
        for s in &self.segments {
            let mut r = s.walker();
            shingles.extend((0..s.count("few")).map_while(|i| r.few_shingle(i)));
        }
        shingles.sort_unstable();
        shingles.dedup();
        Some(shingles)
    }

    /// Looked up segment by segment in shingle order (see
    /// [`History::prior_postings`]); the sets read in document order.
    fn few_docs(&self, shingles: &[u64]) -> Vec<(u32, Vec<u64>)> {
        let mut docs: Vec<u32> = Vec::new();
        for s in &self.segments {
            if s.count("few") == 0 {
                continue;
            }
            let mut r = s.walker();
            for &shingle in shingles {
                r.few_holders(shingle, &mut docs);
            }
        }
        docs.sort_unstable();
        docs.dedup();
        // (Each segment's records read on from the last document's.)
        let mut readers: Vec<Option<(super::segment::Reader<'_>, usize)>> =
            self.segments.iter().map(|_| None).collect();
        docs.into_iter()
            .map(|d| {
                let segment = self.segment_of_doc(d as usize);
                let (r, from) =
                    readers[segment].get_or_insert_with(|| (self.segments[segment].walker(), 0));
                (d, r.few_set_from(d, from))
            })
            .collect()
    }

    /// Looked up segment by segment in print order (see
    /// [`History::prior_postings`]); `None` unless every segment says.
    fn banded_prints(&self, prints: &[u32]) -> Option<Vec<u32>> {
        if !self.segments.iter().all(Segment::knows_banded_shingles) {
            return None;
        }
        let mut held = Vec::new();
        self.walk_in_order(prints.len(), |s, i| {
            if s.banded_print(prints[i]) {
                held.push(prints[i]);
            }
        });
        held.sort_unstable();
        held.dedup();
        Some(held)
    }

    fn looker(&self) -> Box<dyn Looker + '_> {
        Box::new(HistoryLooker {
            history: self,
            readers: self.segments.iter().map(|_| None).collect(),
            names: Vec::new(),
        })
    }
}
