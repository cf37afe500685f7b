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

/// A segment several read-ahead windows long, with lists of every size.
fn big_segment(dir: &Path) -> (std::path::PathBuf, Delta) {
    let n = 3000u32;
    let mut delta = Delta::default();
    let mut next = crate::test_numbers(7);
    for i in 0..n {
        let len = u32::try_from(next() % 40).unwrap();
        let shingles = (delta.block_shingles.len() as u64, len);
        delta.block_shingles.extend((0..len).map(|_| next()));
        delta.blocks.push(BlockRecord {
            cluster: i,
            doc: i,
            words: len,
            kind: super::super::KIND_UNIQUE,
            shingles,
            ..BlockRecord::default()
        });
        let id = delta.string(&format!("doc-{i}"));
        delta.docs.push(DocRecord {
            block_start: u64::from(i),
            rep: i,
            id,
            ..DocRecord::default()
        });
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
        delta.blocks.push(BlockRecord {
            cluster: i,
            doc: i,
            kind: super::super::KIND_UNIQUE,
            ..BlockRecord::default()
        });
        let id = delta.string(&format!("{i}-{}", "x".repeat(300 << 10)));
        delta.docs.push(DocRecord {
            block_start: u64::from(i),
            rep: i,
            id,
            ..DocRecord::default()
        });
    }
    let strings = delta.strings.clone();
    let pieces: Vec<Vec<u8>> = Items::Delta(&delta).strings().collect();
    assert!(pieces.len() >= 3);
    assert!(pieces.iter().all(|p| p.len() <= STRINGS_PIECE));
    assert_eq!(pieces.concat(), strings);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.ndx");
    let params = IndexParams::of(&crate::config::Config::default());
    write(&path, None, delta, &params)
        .unwrap()
        .persist()
        .unwrap();
    let segment = Segment::open(&path, None, None).unwrap();
    let pieces: Vec<Vec<u8>> = Items::Segment(&segment).strings().collect();
    assert!(pieces.iter().all(|p| p.len() <= STRINGS_PIECE));
    assert_eq!(pieces.concat(), strings);
    let mut walk = segment.walker();
    for d in 0..10 {
        let id = walk.doc(d).id;
        assert!(walk.string(id).starts_with(&format!("{d}-xxx")));
    }
    segment.status().unwrap();
}

#[test]
fn reads_ahead_give_what_exact_reads_give() {
    let dir = tempfile::tempdir().unwrap();
    let (path, delta) = big_segment(dir.path());
    let segment = Segment::open(&path, None, None).unwrap();
    assert!(segment.count("postings") * POSTING_LEN > 4 * super::super::WINDOW);
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
