//! `--keep fullest` in a run in chunks over inputs that come once (standard
//! input, plain or gzip, and a FIFO), and with `--annotate`: the first pass
//! copies a stream under `--tmp-dir` as it reads it and the run reads the
//! copy, so both give a whole run's output and report, byte for byte.

use super::fullest::corpus;
use crate::util::{
    assert_bytes_eq, assert_holds, chunks_said, gzip, run_with_stdin, tempdir, Output,
};
use std::path::Path;

/// A limit that cuts [`corpus`] into many chunks.
const SMALL: &str = "64K";

/// How a test feeds the corpus to a run.
#[derive(Clone, Copy, Debug)]
enum Feed {
    Stdin,
    Gzip,
    Fifo,
}

impl Feed {
    /// `args` run in `dir` over `text` fed this way (the input named last:
    /// `-`, or the FIFO `in.fifo`).
    fn run(self, dir: &Path, args: &[&str], text: &[u8]) -> Output {
        let mut args = args.to_vec();
        match self {
            Feed::Stdin | Feed::Gzip => {
                args.push("-");
                let bytes = match self {
                    Feed::Gzip => gzip(text),
                    _ => text.to_vec(),
                };
                run_with_stdin(dir, &args, Some(&bytes))
            }
            Feed::Fifo => {
                args.push("in.fifo");
                crate::util::run_with_fifo(dir, "in.fifo", text, &args)
            }
        }
    }
}

/// A whole run and runs in chunks (`-v`: their chunks counted) of `args`
/// over `text` fed by `feed`, `clean` writing its report (JSON) to a file
/// and its cleaned text to standard output, `scan` its report there: the
/// same exit status, output and report at one and two threads.
fn same_as_whole(dir: &Path, feed: Feed, args: &[&str], text: &[u8]) {
    let clean = args[0] == "clean";
    let report_to = |name: &'static str| {
        if clean {
            vec!["--report", name]
        } else {
            vec![]
        }
    };
    let whole = feed.run(dir, &[args, &report_to("whole.json")].concat(), text);
    assert!(whole.code == 0 || whole.code == 1, "{feed:?}: {whole:?}");
    assert!(!whole.stdout.is_empty(), "{feed:?}: {whole:?}");
    let report = |name: &str| clean.then(|| std::fs::read(dir.join(name)).unwrap());
    let whole_report = report("whole.json");
    for threads in ["1", "2"] {
        let mut chunked = vec![args[0], "-v", "--memory-limit", SMALL, "-j", threads];
        chunked.extend_from_slice(&args[1..]);
        chunked.extend(report_to("chunked.json"));
        let what = format!("{feed:?} {chunked:?}");
        let got = feed.run(dir, &chunked, text);
        assert_eq!(got.code, whole.code, "{what}: {got:?}");
        assert!(chunks_said(&got.stderr) >= 5, "{what}: {}", got.stderr);
        assert_bytes_eq(&got.stdout, &whole.stdout, &what);
        if let (Some(got), Some(whole)) = (report("chunked.json"), &whole_report) {
            assert_bytes_eq(&got, whole, &format!("{what}: the report"));
        }
    }
}

#[test]
fn standard_input_and_a_fifo_are_read_twice_and_give_the_whole_runs_answer() {
    let dir = tempdir();
    let d = dir.path();
    let text = corpus().into_bytes();
    for feed in [Feed::Fifo, Feed::Gzip, Feed::Stdin] {
        // The whole report on standard output too.
        same_as_whole(d, feed, &["scan", "--json", "--keep", "fullest"], &text);
        same_as_whole(d, feed, &["clean", "--json", "--keep", "fullest"], &text);
        // The report names the stream as given.
        let report = std::fs::read_to_string(d.join("chunked.json")).unwrap();
        let name = match feed {
            Feed::Fifo => "\"in.fifo\"",
            _ => "\"<stdin>\"",
        };
        assert!(report.contains(name), "{feed:?}: {report}");
    }
    // Fullest kept other copies than the first.
    let first = run_with_stdin(d, &["clean", "-q", "-"], Some(&text));
    let fullest = run_with_stdin(d, &["clean", "-q", "--keep", "fullest", "-"], Some(&text));
    assert_ne!(first.stdout, fullest.stdout);
}

#[test]
fn annotated_runs_in_chunks_keep_and_mark_the_fullest_as_whole_runs_do() {
    let dir = tempdir();
    let d = dir.path();
    let text = corpus().into_bytes();
    std::fs::write(d.join("c.jsonl"), &text).unwrap();
    let args = ["clean", "--json", "--keep", "fullest", "--annotate"];
    for feed in [Feed::Stdin, Feed::Fifo] {
        same_as_whole(d, feed, &args, &text);
    }
    // From a file, and into an --out-dir tree.
    let from_file = ["-o", "whole.jsonl", "--report", "whole.json", "c.jsonl"];
    let whole = crate::util::run_ok(d, &[&args[..], &from_file].concat());
    let into_dir = ["--out-dir", "o", "--report", "chunked.json", "c.jsonl"];
    let chunked = [&args[..], &["--memory-limit", SMALL], &into_dir].concat();
    let got = crate::util::run(d, &chunked);
    assert_eq!(got.code, whole.code, "{got:?}");
    for (got, expected) in [("o/c.jsonl", "whole.jsonl"), ("chunked.json", "whole.json")] {
        assert_bytes_eq(
            &std::fs::read(d.join(got)).unwrap(),
            &std::fs::read(d.join(expected)).unwrap(),
            got,
        );
    }
    // Some records are marked as copies of a member after them: the case
    // the first pass is for.
    let later = crate::util::json_lines(&std::fs::read(d.join("whole.jsonl")).unwrap())
        .iter()
        .filter(|r| {
            let id = r["id"].as_str().unwrap()[1..].parse::<usize>().unwrap();
            let kept = r["neardup_representative"].as_str();
            kept.is_some_and(|k| k[1..].parse::<usize>().unwrap() > id)
        })
        .count();
    assert!(later >= 5, "{later} records name a later member kept");
}

#[test]
fn a_stream_that_fails_late_stops_the_run_as_a_whole_run_and_leaves_no_copy() {
    let dir = tempdir();
    let d = dir.path();
    let mut text = corpus().into_bytes();
    text.extend_from_slice(b"{\"text\": 5}\n");
    let line = text.iter().filter(|&&b| b == b'\n').count();
    std::fs::create_dir(d.join("tmp")).unwrap();
    for feed in [Feed::Stdin, Feed::Gzip, Feed::Fifo] {
        let args = ["clean", "-q", "--keep", "fullest", "-o", "out.jsonl"];
        let whole = feed.run(d, &args, &text);
        assert_eq!(whole.code, 2, "{whole:?}");
        let name = match feed {
            Feed::Fifo => "in.fifo",
            _ => "<stdin>",
        };
        assert_holds(&whole.stderr, &format!("{name}:{line}: "));
        let chunked = [&args[..], &["--memory-limit", SMALL, "--tmp-dir", "tmp"]].concat();
        let got = feed.run(d, &chunked, &text);
        assert_eq!(got.code, 2, "{feed:?}: {got:?}");
        assert_eq!(got.stderr, whole.stderr, "{feed:?}");
        assert!(!d.join("out.jsonl").exists(), "{feed:?}");
        let left: Vec<_> = std::fs::read_dir(d.join("tmp")).unwrap().collect();
        assert!(left.is_empty(), "{feed:?}: {left:?}");
    }
}
