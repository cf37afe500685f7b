use super::*;

#[test]
fn groups_are_trimmed_to_their_first_and_last_items() {
    let items = [
        (1, 1),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (2, 1),
        (3, 1),
        (3, 2),
    ];
    let got: Vec<_> = trim_groups(items.into_iter(), |x| x.0, 1, 2).collect();
    assert_eq!(got, [(1, 1), (1, 4), (1, 5), (2, 1), (3, 1), (3, 2)]);
    let got: Vec<_> = trim_groups(items.into_iter(), |x| x.0, 0, 2).collect();
    assert_eq!(got, [(1, 4), (1, 5), (2, 1), (3, 1), (3, 2)]);
    let got: Vec<_> = trim_groups(items.into_iter(), |x| x.0, 2, 0).collect();
    assert_eq!(got, [(1, 1), (1, 2), (2, 1), (3, 1), (3, 2)]);
    // Groups of one, first, between and last; nothing kept of any.
    let ones = [(1, 1), (2, 1), (2, 2), (3, 1)];
    let got: Vec<_> = trim_groups(ones.into_iter(), |x| x.0, 0, 1).collect();
    assert_eq!(got, [(1, 1), (2, 2), (3, 1)]);
    assert_eq!(trim_groups(ones.into_iter(), |x| x.0, 0, 0).count(), 0);
}

#[test]
fn merging_keeps_the_first_sequence_first_on_ties() {
    let a = [(1, 'a'), (3, 'a')];
    let b = [(1, 'b'), (2, 'b'), (4, 'b')];
    let got: Vec<_> = merge_sorted(a.into_iter(), b.into_iter(), |x| x.0).collect();
    assert_eq!(got, [(1, 'a'), (1, 'b'), (2, 'b'), (3, 'a'), (4, 'b')]);
}

#[test]
fn directory_size_follows_the_record_count() {
    assert_eq!(dir_bits(10), 0);
    // About 32 records a bucket.
    assert_eq!(dir_bits(1 << 20), 16);
    assert!(dir_bits(usize::MAX) <= 30);
}

impl Delta {
    /// Adds document `d`, its own representative, whose blocks start at
    /// block `d`, of id `id`.
    pub(in crate::store) fn push_doc(&mut self, d: u32, id: &str) -> &mut DocRecord {
        let id = self.string(id);
        self.docs.push(DocRecord {
            block_start: u64::from(d),
            rep: d,
            id,
            ..DocRecord::default()
        });
        self.docs.last_mut().expect("pushed")
    }
}

/// Block `d`, a first copy of document `d`.
pub(in crate::store) fn unique_block(d: u32) -> BlockRecord {
    BlockRecord {
        cluster: d,
        doc: d,
        kind: super::super::KIND_UNIQUE,
        ..BlockRecord::default()
    }
}

/// A segment several read-ahead windows long, with lists of every size.
/// Adds to `delta` the one block (unique, of fewer than `most` random
/// shingles, `bytes` long) of document `doc`.
fn push_block(
    delta: &mut Delta,
    next: &mut impl FnMut() -> u64,
    (doc, most): (u32, u64),
    bytes: u64,
) {
    let len = u32::try_from(next() % most).unwrap();
    let shingles = (delta.block_shingles.len() as u64, len);
    delta.block_shingles.extend((0..len).map(|_| next()));
    delta.blocks.push(BlockRecord {
        words: len,
        shingles,
        bytes: [0, bytes],
        ..unique_block(doc)
    });
}

fn big_segment(dir: &Path) -> (std::path::PathBuf, Delta) {
    let n = 3000u32;
    let mut delta = Delta::default();
    let mut next = crate::test_numbers(7);
    for i in 0..n {
        push_block(&mut delta, &mut next, (i, 40), 0);
        delta.push_doc(i, &format!("doc-{i}"));
        for _ in 0..next() % 30 {
            // 20,000 fingerprints spread over all 32-bit values, as the
            // high halves of shingle hashes are (the directory buckets
            // them by their top bits).
            let fingerprint = u32::try_from(next() % 20_000).unwrap() * 214_741;
            delta.postings.push((fingerprint, i));
        }
    }
    let path = dir.join("big.ndx");
    let params = IndexParams::of(&crate::config::Config::default());
    let kept = Delta {
        docs: delta.docs.clone(),
        blocks: delta.blocks.clone(),
        postings: delta.postings.clone(),
        block_shingles: delta.block_shingles.clone(),
        strings: delta.strings.clone(),
        ..Delta::default()
    };
    write(&path, None, delta, &params)
        .unwrap()
        .persist()
        .unwrap();
    (path, kept)
}

#[test]
fn strings_are_copied_a_piece_at_a_time() {
    // Ids of 300 KiB: their section spans several pieces, none held
    // whole, and an index written from them reads every id back.
    let mut delta = Delta::default();
    for i in 0..10u32 {
        delta.blocks.push(unique_block(i));
        delta.push_doc(i, &format!("{i}-{}", "x".repeat(300 << 10)));
    }
    let strings = delta.strings.clone();
    assert!(strings.len() >= 2 * PIECE_BYTES);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.ndx");
    let params = IndexParams::of(&crate::config::Config::default());
    write(&path, None, delta, &params)
        .unwrap()
        .persist()
        .unwrap();
    let segment = Segment::open(&path, None, None).unwrap();
    // Appended to itself (a run's segments merged): both halves' ids read
    // back.
    let dir2 = tempfile::tempdir().unwrap();
    let again = Segment::open(&path, None, None).unwrap();
    let both = append(segment, again, dir2.path(), &path, &params).unwrap();
    let mut walk = both.walker();
    assert_eq!(
        walk.string_bytes((0, u32::try_from(2 * strings.len()).unwrap())),
        Some(&[strings.clone(), strings][..].concat()[..])
    );
    for d in 0..10 {
        let id = walk.doc(d).id;
        assert!(walk.string(id).starts_with(&format!("{d}-xxx")));
        let later = walk.doc(d + 10).id;
        assert!(walk.string(later).starts_with(&format!("{d}-xxx")));
    }
    both.status().unwrap();
}

#[test]
fn reads_ahead_give_what_exact_reads_give() {
    let dir = tempfile::tempdir().unwrap();
    let (path, delta) = big_segment(dir.path());
    let segment = Segment::open(&path, None, None).unwrap();
    assert!(segment.count("postings") * super::super::POSTING_LEN > 4 * super::super::WINDOW);
    // Postings walked in order, exact look-ups and what was written agree.
    let mut postings = delta.postings.clone();
    postings.sort_unstable();
    let mut walk = segment.walker();
    let (mut ahead, mut exact) = (Vec::new(), Vec::new());
    for list in postings.chunk_by(|a, b| a.0 == b.0) {
        let fp = list[0].0;
        ahead.clear();
        exact.clear();
        walk.posting_reps(fp, &mut ahead);
        segment.reader().posting_reps(fp, &mut exact);
        let mut written: Vec<u32> = list.iter().map(|p| p.1).collect();
        written.truncate(POSTING_CAP as usize);
        assert_eq!(ahead, written, "fingerprint {fp}");
        assert_eq!(exact, written, "fingerprint {fp}");
    }
    // Reads jumping about (every window evicted in turn), and one longer
    // than a window.
    let mut walk = segment.walker();
    for step in 0..6000usize {
        let g = (step * 1237) % delta.blocks.len();
        assert_eq!(walk.block(g), delta.blocks[g]);
        let (at, len) = delta.blocks[g].shingles;
        #[allow(clippy::cast_possible_truncation)]
        let own = &delta.block_shingles[at as usize..at as usize + len as usize];
        assert_eq!(walk.block_shingles(g), own);
        let id = walk.doc(g).id;
        assert_eq!(walk.string(id), format!("doc-{g}"));
    }
    let all = u32::try_from(delta.block_shingles.len()).unwrap();
    assert!(delta.block_shingles.len() * 8 > super::super::WINDOW);
    assert_eq!(walk.u64s("block_shingles", (0, all)), delta.block_shingles);
    segment.verify().unwrap();
    segment.status().unwrap();
}

/// What [`two_segments`] wrote: each document's record, id and file name.
type Written = Vec<(DocRecord, String, String)>;

/// Two segments that follow each other, of 2,000 documents each (one block
/// apiece) from two files in turn, with ids and shingles; and what was
/// written (and each document's shingles).
fn two_segments(dir: &Path) -> (Vec<Segment>, Written, Vec<Vec<u64>>) {
    let params = IndexParams::of(&crate::config::Config::default());
    let mut next = crate::test_numbers(11);
    let (mut segments, mut written, mut shingles) = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..2u32 {
        let mut delta = Delta {
            first_document: u64::from(s) * 2000,
            first_block: u64::from(s) * 2000,
            ..Delta::default()
        };
        let names = [
            delta.string(&format!("first-{s}.jsonl")),
            delta.string(&format!("second-{s}.jsonl")),
        ];
        for i in 0..2000u32 {
            let d = s * 2000 + i;
            let own: Vec<u64> = (0..next() % 9).map(|_| next()).collect();
            let at = (
                delta.doc_shingles.len() as u64,
                u32::try_from(own.len()).unwrap(),
            );
            delta.doc_shingles.extend_from_slice(&own);
            let id = format!("doc-{d}");
            let doc = DocRecord {
                block_start: u64::from(d),
                rep: d - d % 3,
                shingles: at,
                id: delta.string(&id),
                path: names[(i / 7 % 2) as usize],
                line: i + 1,
                bytes: next() % 1000,
                dropped: false,
            };
            delta.docs.push(doc);
            delta.blocks.push(BlockRecord {
                bytes: [0, doc.bytes],
                ..unique_block(d)
            });
            let name = format!("{}-{s}.jsonl", ["first", "second"][(i / 7 % 2) as usize]);
            written.push((doc, id, name));
            shingles.push(own);
        }
        let label = dir.join(format!("{s}.ndx"));
        segments.push(write_scratch(dir, &label, delta, &params).unwrap());
    }
    (segments, written, shingles)
}

#[test]
fn a_looker_answers_as_look_ups_do_with_few_reads() {
    use crate::prior::Prior;
    let dir = tempfile::tempdir().unwrap();
    let (segments, written, shingles) = two_segments(dir.path());
    let history = super::super::History::from_segments(segments);
    let reads = |h: &super::super::History| h.segments().iter().map(Segment::reads).sum::<u64>();
    // Every document's record, id and file name, its block, and the
    // shingles of the representatives, in order as a chunked run's report
    // and clusters ask for them.
    let mut looker = history.looker();
    for (d, (doc, id, name)) in written.iter().enumerate() {
        let (got, got_id, got_name) = looker.doc_named(d);
        assert_eq!(
            (&got, &got_id, &*got_name),
            (doc, id, name.as_str()),
            "document {d}"
        );
        assert_eq!(looker.doc(d), *doc);
        assert_eq!(looker.block(d), history.block(d));
        assert_eq!(looker.block(d).bytes[1], doc.bytes);
        let rep = doc.rep as usize;
        assert_eq!(
            looker.doc_text(rep),
            (written[rep].0.bytes, shingles[rep].clone())
        );
        assert_eq!(history.doc(d), *doc);
        assert_eq!(history.doc_id(d), *id);
    }
    history.status().unwrap();
    // What that took, against one read (or more) per look-up without one:
    // a read a chunk of records, of ids and of shingles, give or take.
    let before = reads(&history);
    let mut looker = history.looker();
    for (d, (doc, _, _)) in written.iter().enumerate() {
        looker.doc_named(d);
        looker.block(d);
        looker.doc_text(doc.rep as usize);
    }
    let by_looker = reads(&history) - before;
    let before = reads(&history);
    for (d, (doc, _, _)) in written.iter().enumerate() {
        history.doc(d);
        history.doc_id(d);
        history.block(d);
        history.doc_text(doc.rep as usize);
    }
    let one_by_one = reads(&history) - before;
    assert!(one_by_one >= 4 * written.len() as u64, "{one_by_one}");
    assert!(
        by_looker <= 300,
        "{by_looker} reads for {} documents",
        written.len()
    );
    // Look-ups jumping between the segments, and back to where they were.
    let mut looker = history.looker();
    for step in 0..4000usize {
        let d = (step * 1237) % written.len();
        let (doc, id, name) = &written[d];
        let (got, got_id, got_name) = looker.doc_named(d);
        assert_eq!(
            (&got, &got_id, &*got_name),
            (doc, id, name.as_str()),
            "document {d}"
        );
    }
    history.status().unwrap();
}

#[test]
fn documents_of_one_set_past_the_bucket_windows_are_left_out() {
    // Documents 0..40 all hold {5, 9}, document 20 holds {5}, 41 {5, 9, 11}:
    // of the 40 with one set, the first 8 and last 8 stay, and so do the
    // others (a set of their own).
    let mut sets: Vec<(u32, u64)> = Vec::new();
    for d in 0..42u32 {
        match d {
            20 => sets.push((d, 5)),
            41 => sets.extend([(d, 5), (d, 9), (d, 11)]),
            _ => sets.extend([(d, 5), (d, 9)]),
        }
    }
    let same: Vec<u32> = (0..41).filter(|&d| d != 20).collect();
    let expected: Vec<u32> = same[BUCKET_FIRST..same.len() - BUCKET_RECENT].to_vec();
    let dir = tempfile::tempdir().unwrap();
    // Held whole, and sorted in runs of 1 and 5 documents in files.
    for batch in [1, 5, 1 << 20] {
        let out = few::out_of_every_bucket(sets.iter().copied(), dir.path(), batch).unwrap();
        assert_eq!(out, expected, "batch {batch}");
    }
    // No more than the windows hold: none left out.
    let few: Vec<(u32, u64)> = (0..16u32).map(|d| (d, 7)).collect();
    let out = few::out_of_every_bucket(few.into_iter(), dir.path(), 5).unwrap();
    assert!(out.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A segment of documents of few shingles only (each one a document of one
/// block, stored by its set), numbered from `first`.
fn few_segment(dir: &Path, name: &str, first: u32, sets: &[Vec<u64>]) -> Segment {
    let params = IndexParams::of(&crate::config::Config::default());
    let mut delta = Delta {
        first_document: u64::from(first),
        first_block: u64::from(first),
        ..Delta::default()
    };
    for (i, set) in sets.iter().enumerate() {
        let d = first + u32::try_from(i).unwrap();
        delta.push_doc(d, &format!("doc-{d}"));
        delta.blocks.push(unique_block(d));
        for &s in set {
            delta.few.push((s, d));
            delta.few_sets.push((d, s));
        }
    }
    write_scratch(dir, &dir.join(name), delta, &params).unwrap()
}

#[test]
fn a_shingle_many_short_documents_hold_gives_them_band_records() {
    use crate::prior::Prior;
    let dir = tempfile::tempdir().unwrap();
    let params = IndexParams::of(&crate::config::Config::default());
    let candidates = few::candidates_of(&params).expect("MinHash settings");
    let mut next = crate::test_numbers(27);
    let mut shingle = || next() & !crate::cluster::MARK;
    let (flooded, held) = (shingle(), shingle());
    // Documents 0..40 hold `flooded` (a title's first words) and three
    // shingles of their own; 40..56 hold `held` and three of their own.
    let sets: Vec<Vec<u64>> = (0..56)
        .map(|d| {
            let mut set = vec![if d < 40 { flooded } else { held }];
            set.extend((0..3).map(|_| shingle()));
            set.sort_unstable();
            set
        })
        .collect();
    let segment = few_segment(dir.path(), "a.ndx", 0, &sets);
    // A look-up of a shingle finds at most FEW_HOLDERS documents to make
    // the band keys of: none for `flooded`, the 16 that hold `held`.
    assert_eq!(few::FEW_HOLDERS, 16);
    assert_eq!(segment.count("few_sets"), 16 * 4);
    let history = super::super::History::from_segments(vec![segment]);
    assert!(history.few_docs(&[flooded]).is_empty());
    let found: Vec<u32> = history.few_docs(&[held]).iter().map(|f| f.0).collect();
    assert_eq!(found, (40..56).collect::<Vec<u32>>());
    // The 40 have their band records, each bucket trimmed to its first and
    // last members: what an index holding every band record keeps.
    let keys: Vec<Vec<u64>> = sets[..40]
        .iter()
        .map(|set| candidates.keys_only(set.iter().copied(), params.seed).keys)
        .collect();
    let mut queries: Vec<(u32, u64)> = Vec::new();
    for k in &keys {
        assert_eq!(k.len(), candidates.tables());
        queries.extend(
            k.iter()
                .enumerate()
                .map(|(t, &k)| (u32::try_from(t).unwrap(), k)),
        );
    }
    let mut found = Vec::new();
    history.buckets(&queries, &mut found);
    found.sort_unstable();
    found.dedup();
    let members_of = |t: u32, key: u64| -> Vec<u32> {
        found
            .iter()
            .filter(|&&(ft, fk, _)| (ft, fk) == (t, key))
            .map(|&(_, _, d)| d)
            .collect()
    };
    for &(t, key) in &queries {
        let mut members: Vec<u32> = (0..40u32)
            .filter(|&d| keys[d as usize][t as usize] == key)
            .collect();
        if members.len() > BUCKET_FIRST + BUCKET_RECENT {
            members.drain(BUCKET_FIRST..members.len() - BUCKET_RECENT);
        }
        assert_eq!(members_of(t, key), members, "bucket ({t}, {key})");
    }
    // One more document holding `held`, written after them (a later
    // update, or a chunked run's segments merged): 17 hold it, and all of
    // them get band records.
    let mut segments = history.into_segments();
    let more = few_segment(dir.path(), "b.ndx", 56, &[vec![held, shingle()]]);
    let merged = append(
        segments.remove(0),
        more,
        dir.path(),
        &dir.path().join("c.ndx"),
        &params,
    )
    .unwrap();
    assert_eq!(merged.count("few_sets"), 0);
    let history = super::super::History::from_segments(vec![merged]);
    assert!(history.few_docs(&[held]).is_empty());
    let first = candidates
        .keys_only(sets[40].iter().copied(), params.seed)
        .keys;
    let mut got = Vec::new();
    history.buckets(&[(0, first[0])], &mut got);
    assert!(got.contains(&(0, first[0], 40)), "{got:?}");
    history.status().unwrap();
}

#[test]
fn the_shingles_short_documents_are_found_by_are_listed_up_to_a_bound() {
    use crate::prior::Prior;
    let dir = tempfile::tempdir().unwrap();
    let mut next = crate::test_numbers(31);
    let mut shingle = || next() & !crate::cluster::MARK;
    let sets: Vec<Vec<u64>> = (0..6)
        .map(|_| {
            let mut set: Vec<u64> = (0..4).map(|_| shingle()).collect();
            set.sort_unstable();
            set
        })
        .collect();
    // Two segments, the second repeating a shingle of the first.
    let first = few_segment(dir.path(), "a.ndx", 0, &sets[..4]);
    let mut later = sets[4..].to_vec();
    later[0][0] = sets[0][0];
    later[0].sort_unstable();
    let second = few_segment(dir.path(), "b.ndx", 4, &later);
    let history = super::super::History::from_segments(vec![first, second]);
    let mut all: Vec<u64> = sets[..4].iter().chain(&later).flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 23);
    // Every shingle a look-up finds a document by, each once; none past
    // the bound (24 records).
    assert_eq!(history.few_shingles(24), Some(all.clone()));
    assert_eq!(history.few_shingles(23), None);
    for &s in &all {
        assert!(!history.few_docs(&[s]).is_empty());
    }
    history.status().unwrap();
}

/// A chunk's items: 1,500 documents of one block each after `first`, with
/// band records (a tenth of their keys shared, so buckets are trimmed in
/// a merge), postings, exact keys, copies, shingles and names.
fn chunk_delta(first: u32, seed: u64) -> Delta {
    let mut next = crate::test_numbers(seed);
    let mut delta = Delta {
        first_document: u64::from(first),
        first_block: u64::from(first),
        ..Delta::default()
    };
    let name = delta.string(&format!("chunk-{first}.jsonl"));
    for i in 0..1500u32 {
        let d = first + i;
        let own: Vec<u64> = (0..next() % 9).map(|_| next()).collect();
        let at = (
            delta.doc_shingles.len() as u64,
            u32::try_from(own.len()).unwrap(),
        );
        delta.doc_shingles.extend_from_slice(&own);
        let doc = DocRecord {
            block_start: u64::from(d),
            rep: d - d % 3,
            shingles: at,
            id: delta.string(&format!("doc-{d}")),
            path: name,
            line: i + 1,
            bytes: next() % 1000,
            dropped: !d.is_multiple_of(3),
        };
        delta.docs.push(doc);
        push_block(&mut delta, &mut next, (d, 12), doc.bytes);
        for table in 0..20u32 {
            let key = if next().is_multiple_of(10) {
                next() % 50
            } else {
                next()
            };
            delta.bands.push((key, table, d));
        }
        #[allow(clippy::cast_possible_truncation)]
        delta
            .postings
            .extend((0..4).map(|_| ((next() % 5000) as u32, d)));
        if !d.is_multiple_of(3) {
            delta.members.push((d - d % 3, d));
        }
        delta.exact.push(ExactRecord {
            key: (u128::from(next()) << 64) | u128::from(next()),
            similarity: 1.0,
            source: d,
            last: d,
            exact: true,
        });
    }
    delta
}

/// The bytes of every section of `s`, by name.
fn sections_of(s: &Segment) -> Vec<(String, Vec<u8>)> {
    let mut r = s.reader();
    s.meta()
        .sections
        .iter()
        .map(|(name, e)| {
            #[allow(clippy::cast_possible_truncation)]
            let bytes = r.read(e.offset as usize, e.len as usize).unwrap().to_vec();
            (name.clone(), bytes)
        })
        .collect()
}

#[test]
fn a_chunk_written_straight_into_the_segment_before_it_is_their_merge() {
    // `append_delta` (a run in chunks' items merged into the newest segment
    // without a segment of their own) makes the segment `append` makes of
    // the two segments: every section the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let params = IndexParams::of(&crate::config::Config::default());
    let old = |tag: &str| write_scratch(d, &d.join(tag), chunk_delta(0, 3), &params).unwrap();
    let newer = write_scratch(d, &d.join("b"), chunk_delta(1500, 4), &params).unwrap();
    let merged = append(old("a"), newer, d, &d.join("ab"), &params).unwrap();
    let straight =
        append_delta(old("a2"), chunk_delta(1500, 4), d, &d.join("ab2"), &params).unwrap();
    assert_eq!(merged.documents(), 3000);
    assert_eq!(straight.documents(), 3000);
    assert!(merged.count("bands") > 40_000, "{}", merged.count("bands"));
    let (a, b) = (sections_of(&merged), sections_of(&straight));
    assert_eq!(
        a.iter().map(|s| &s.0).collect::<Vec<_>>(),
        b.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "section {name} differs");
    }
    // The estimate the driver weighs it by is near the segment's size.
    let estimate = chunk_delta(1500, 4).stored_bytes();
    let len = write_scratch(d, &d.join("c"), chunk_delta(1500, 4), &params)
        .unwrap()
        .file_len();
    assert!(
        estimate <= len && estimate * 5 / 4 >= len,
        "{estimate} {len}"
    );
}

#[test]
fn a_delta_is_sorted_as_a_comparison_sort_sorts_it() {
    let mut delta = chunk_delta(0, 5);
    // A flood of one key besides.
    delta.bands.extend((0..3000).map(|d| (7, 3, d)));
    delta.few = (0..5000u32).map(|d| (u64::from(d % 40) << 58, d)).collect();
    let (mut bands, mut postings, mut few) = (
        delta.bands.clone(),
        delta.postings.clone(),
        delta.few.clone(),
    );
    bands.sort_unstable();
    postings.sort_unstable();
    few.sort_unstable();
    let sorted = delta.sorted();
    assert_eq!(sorted.bands, bands);
    assert_eq!(sorted.postings, postings);
    assert_eq!(sorted.few, few);
}
