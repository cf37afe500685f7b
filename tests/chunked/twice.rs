//! Runs in chunks read their files twice whatever `--keep` says: once to
//! count the short documents' shingles (which short documents no other
//! document shares one with, so that the run makes no keys for them), then
//! the run itself. A file replaced between the two readings would be run
//! with a count of other bytes: a short document of the new file that
//! repeats another could be taken for one no document shares a shingle
//! with, and its copy kept.

use crate::util::{assert_holds, replaced_once_read, tempdir};

/// A file replaced while a run in chunks reads it for its short documents
/// (the first reading) or before the run has read it again stops the run,
/// naming the file, and writes nothing: under `--keep first` (the default)
/// as under `--keep fullest` (which `fullest.rs` tests; the other policies
/// do not run in chunks).
#[test]
fn an_input_replaced_after_the_short_document_count_stops_the_run() {
    for keep in [&["--keep", "first"][..], &[]] {
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("c.jsonl"), crate::util::numbered_records(4000)).unwrap();
        // The new file: records of the old one, each given twice (so each
        // is a near duplicate that the count of the old file says is alone).
        let records = crate::util::numbered_records(3000);
        let twice: Vec<&[u8]> = records
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|r| [r, r])
            .collect();
        std::fs::write(d.join("new.jsonl"), twice.concat()).unwrap();
        let mut args = vec![
            "clean",
            "--progress",
            "always",
            // (At 64K the count's table, a sixteenth of the limit, fills,
            // and the count is given up: the run reads once.)
            "--memory-limit",
            "1M",
            "c.jsonl",
            "-o",
            "out.jsonl",
        ];
        args.splice(3..3, keep.iter().copied());
        // (The run's first line of progress comes after the count's,
        // `reading for short documents [...]`.)
        let (said, status) = replaced_once_read(d, &args, ("new.jsonl", "c.jsonl"));
        assert!(said.contains("reading for short documents"), "{said}");
        assert_eq!(status.code(), Some(2), "{args:?}: {said}");
        assert_holds(
            &said,
            "c.jsonl: changed while a run with --memory-limit read it",
        );
        assert!(!d.join("out.jsonl").exists(), "{args:?}: {said}");
    }
}
