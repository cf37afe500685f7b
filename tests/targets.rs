//! Where a run writes: never over what it reads or over another of its
//! outputs, special files written in place, nothing changed by a failed or
//! interrupted run. Each case runs whole and in chunks (`--memory-limit`).

use crate::util::{assert_holds, assert_says, mkfifo, mknod, run, run_exit, run_ok, tempdir};
use std::path::Path;
use std::process::{Command, Stdio};

mod failed;

/// A whole run, and one in about fifteen chunks.
const MODES: [&[&str]; 2] = [&[], &["--memory-limit", "64K", "--tmp-dir", "spool"]];

/// `in.jsonl` (the index tests' 80 documents, with near copies) in `dir`.
fn corpus(dir: &Path) -> Vec<u8> {
    let text = crate::index::batches().concat();
    std::fs::write(dir.join("in.jsonl"), &text).unwrap();
    text.into_bytes()
}

/// `neardup args` in `dir`, in `mode` (its flags after the command's
/// words: `clean`, `index build`).
fn run_in(dir: &Path, mode: &[&str], args: &[&str]) -> crate::util::Output {
    let words = if args[0] == "index" { 2 } else { 1 };
    let mut all: Vec<&str> = args[..words].to_vec();
    all.extend_from_slice(mode);
    all.extend_from_slice(&args[words..]);
    run(dir, &all)
}

/// Every `.neardup-*.tmp` under `dir` (names only: a device there is never
/// read).
fn temporaries(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| {
            let name = n.rsplit('/').next().unwrap_or(n);
            name.starts_with(".neardup-") && Path::new(name).extension().is_some_and(|e| e == "tmp")
        })
        .collect()
}

fn is_char_device(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_char_device()
}

#[test]
fn a_path_written_that_is_read_or_written_twice_is_refused_before_reading() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        let text = corpus(d);
        std::fs::write(d.join("o.jsonl"), "old output\n").unwrap();
        std::fs::hard_link(d.join("in.jsonl"), d.join("hard.jsonl")).unwrap();
        std::os::unix::fs::symlink("in.jsonl", d.join("soft.jsonl")).unwrap();
        std::fs::create_dir(d.join("tree")).unwrap();
        std::fs::copy(d.join("in.jsonl"), d.join("tree/a.jsonl")).unwrap();
        std::fs::copy(d.join("in.jsonl"), d.join("idx.lock")).unwrap();
        run_ok(d, &["index", "build", "-q", "-o", "x.ndx", "tree"]);
        let ndx = std::fs::read(d.join("x.ndx")).unwrap();
        let cases = [
            (
                "clean --report in.jsonl in.jsonl -o c.jsonl",
                "in.jsonl (--report) is also in.jsonl (input)",
            ),
            (
                "clean -o o.jsonl --report o.jsonl in.jsonl",
                "o.jsonl (-o) and o.jsonl (--report) are one file",
            ),
            (
                "index build -o in.jsonl in.jsonl",
                "in.jsonl (index build -o) is also in.jsonl (input)",
            ),
            (
                "clean --index o.jsonl --update -o o.jsonl in.jsonl",
                "are one file",
            ),
            (
                "clean -o x.ndx --reference x.ndx in.jsonl",
                "x.ndx (-o) is also x.ndx (--reference)",
            ),
            (
                "clean --report x.ndx --index x.ndx --update -o c.jsonl in.jsonl",
                "x.ndx (--report) and x.ndx (--index) are one file",
            ),
            // Hard links are one file by inode, symbolic links by name.
            (
                "clean -o hard.jsonl in.jsonl",
                "hard.jsonl (-o) is also in.jsonl (input)",
            ),
            (
                "clean -o c.jsonl --report soft.jsonl in.jsonl",
                "soft.jsonl (--report) is also in.jsonl (input)",
            ),
            // A file found by walking a directory.
            (
                "clean --report tree/a.jsonl -o c.jsonl tree",
                "tree/a.jsonl (--report) is also tree/a.jsonl (input)",
            ),
            (
                "clean --format jsonl --index idx --update -o c.jsonl idx.lock",
                "idx.lock (the index's lock file) is also idx.lock (input)",
            ),
            // A step summary is appended to: never to an input.
            (
                "check --step-summary in.jsonl in.jsonl",
                "in.jsonl (--step-summary) is also in.jsonl (input)",
            ),
            (
                "clean --html soft.jsonl -o c.jsonl in.jsonl",
                "soft.jsonl (--html) is also in.jsonl (input)",
            ),
            // Paths not there yet, under directories not there yet, are
            // compared by name too.
            (
                "clean --out-dir fresh --report fresh/in.jsonl in.jsonl",
                "fresh/in.jsonl (--out-dir output) and fresh/in.jsonl (--report) are one file",
            ),
            (
                "clean -o fresh/../c.jsonl --html ./c.jsonl in.jsonl",
                "fresh/../c.jsonl (-o) and ./c.jsonl (--html) are one file",
            ),
            (
                "clean -o fresh/new/x.json --report fresh/./new/x.json in.jsonl",
                "are one file",
            ),
        ];
        for (args, message) in cases {
            let out = run_in(d, mode, &args.split(' ').collect::<Vec<_>>());
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            assert!(out.stderr.contains(message), "{args:?}: {out:?}");
            assert_eq!(std::fs::read(d.join("in.jsonl")).unwrap(), text, "{args:?}");
            assert_eq!(std::fs::read(d.join("x.ndx")).unwrap(), ndx, "{args:?}");
            assert_eq!(
                std::fs::read(d.join("o.jsonl")).unwrap(),
                b"old output\n",
                "{args:?}"
            );
            assert!(!d.join("c.jsonl").exists(), "{args:?}");
            assert!(!d.join("fresh").exists(), "{args:?}");
            assert!(!d.join("idx").exists(), "{args:?}");
            assert!(temporaries(d).is_empty(), "{args:?}");
        }
    }
}

#[test]
fn special_targets_are_written_in_place_and_links_followed() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        corpus(d);
        let expected = run(d, &["clean", "-q", "in.jsonl"]).stdout;
        assert!(!expected.is_empty());
        // A null device stays a device.
        mknod(&d.join("null"), 3);
        let out = run_in(
            d,
            mode,
            &["clean", "-o", "null", "--report", "null", "in.jsonl"],
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert!(is_char_device(&d.join("null")));
        // `-o -` is standard output; `--report -` too when the text goes
        // to a file.
        let out = run_in(d, mode, &["clean", "-q", "-o", "-", "in.jsonl"]);
        assert_eq!((out.code, &out.stdout), (0, &expected), "{out:?}");
        let out = run_in(
            d,
            mode,
            &[
                "clean", "--json", "-o", "c.jsonl", "--report", "-", "in.jsonl",
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["documents"], 80);
        assert_eq!(std::fs::read(d.join("c.jsonl")).unwrap(), expected);
        let out = run_in(d, mode, &["clean", "-o", "-", "--report", "-", "in.jsonl"]);
        assert_eq!(out.code, 2, "{out:?}");
        // A descriptor link (what `>(cmd)` and /dev/stdout name) is written
        // in place: the report arrives on the pipe.
        let out = run_in(
            d,
            mode,
            &[
                "clean",
                "--json",
                "-o",
                "c.jsonl",
                "--report",
                "/proc/self/fd/1",
                "in.jsonl",
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["documents"], 80);
        // A symbolic link: the file it names is replaced, the link stays.
        std::fs::write(d.join("real.jsonl"), "old\n").unwrap();
        std::os::unix::fs::symlink("real.jsonl", d.join("link.jsonl")).unwrap();
        let out = run_in(d, mode, &["clean", "-q", "-o", "link.jsonl", "in.jsonl"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(std::fs::read(d.join("real.jsonl")).unwrap(), expected);
        assert!(std::fs::symlink_metadata(d.join("link.jsonl"))
            .unwrap()
            .file_type()
            .is_symlink());
        std::fs::remove_file(d.join("link.jsonl")).unwrap();
        std::fs::remove_file(d.join("real.jsonl")).unwrap();
        assert!(temporaries(d).is_empty());
    }
}

#[test]
fn a_report_into_a_fifo_is_read_by_its_reader() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        corpus(d);
        let fifo = d.join("report.fifo");
        mkfifo(&fifo);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        let out = run_in(
            d,
            mode,
            &[
                "clean",
                "--json",
                "-o",
                "c.jsonl",
                "--report",
                "report.fifo",
                "in.jsonl",
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        let report: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
        assert_eq!(report["summary"]["documents"], 80);
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::metadata(&fifo).unwrap().file_type()
        ));
    }
}

/// `dir` with the index tests' first two batches indexed in `seen.ndx`, its second
/// two in `b.jsonl`, and an earlier output `out.jsonl`; returns the bytes
/// of the index.
fn indexed(dir: &Path) -> Vec<u8> {
    let batches = crate::index::batches();
    let (a, b) = batches.split_at(2);
    std::fs::write(dir.join("a.jsonl"), a.concat()).unwrap();
    std::fs::write(dir.join("b.jsonl"), b.concat()).unwrap();
    std::fs::write(dir.join("out.jsonl"), "earlier output\n").unwrap();
    run_ok(dir, &["index", "build", "-q", "-o", "seen.ndx", "a.jsonl"]);
    std::fs::read(dir.join("seen.ndx")).unwrap()
}

#[test]
fn a_step_summary_into_a_device_is_written_not_read() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        let ndx = indexed(d);
        // A null or full device reads without end: it is only written.
        mknod(&d.join("null"), 3);
        mknod(&d.join("full"), 7);
        let summary = |to: &str| {
            let args = [
                "check",
                "-q",
                "--index",
                "seen.ndx",
                "--update",
                "--step-summary",
                to,
                "b.jsonl",
            ];
            run_in(d, mode, &args)
        };
        let out = summary("full");
        assert_eq!(out.code, 2, "{out:?}");
        assert_says(&out, "full: No space left on device");
        assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
        let out = summary("null");
        assert_eq!(out.code, 1, "{out:?}");
        assert!(is_char_device(&d.join("null")));
        assert_ne!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
    }
}

/// An `--out-dir` of more files than the process may hold open at once
/// (here 300 under `ulimit -n 64`; thousands under the usual 1024): each
/// staged file is closed once written, and all are renamed at the end.
#[test]
fn an_out_dir_of_more_files_than_open_descriptors_is_written() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("many")).unwrap();
    for i in 0..300 {
        let text: Vec<String> = (0..12).map(|j| format!("w{i}x{j}")).collect();
        std::fs::write(d.join(format!("many/f{i}.txt")), text.join(" ") + "\n").unwrap();
    }
    for mode in MODES {
        let _ = std::fs::remove_dir_all(d.join("out"));
        let mut args = vec!["clean", "-q"];
        args.extend_from_slice(mode);
        args.extend(["many", "--out-dir", "out"]);
        let out = crate::util::run_limited(d, "ulimit -n 64", &args);
        assert_eq!(out.code, 0, "{mode:?}: {out:?}");
        for i in [0, 150, 299] {
            assert_eq!(
                std::fs::read(d.join(format!("out/f{i}.txt"))).unwrap(),
                std::fs::read(d.join(format!("many/f{i}.txt"))).unwrap()
            );
        }
        assert_eq!(std::fs::read_dir(d.join("out")).unwrap().count(), 300);
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
    }
}

/// `neardup` in `dir` with standard output into `stdout`.
fn run_into(dir: &Path, args: &[&str], stdout: std::fs::File) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_neardup"))
        .current_dir(dir)
        .args(args)
        .stdout(stdout)
        .output()
        .unwrap()
}

/// Appending to a file for standard output.
fn append(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// `neardup clean in.jsonl >> in.jsonl` would append the cleaned text to
/// the input it reads: standard output, a regular file, is compared with
/// every path read or written, by file identity.
#[test]
fn standard_output_into_a_file_the_run_reads_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let text = corpus(d);
    std::fs::write(d.join("a.txt"), "one paragraph of words\n").unwrap();
    run_ok(d, &["index", "build", "-q", "in.jsonl", "-o", "i.ndx"]);
    let index = std::fs::read(d.join("i.ndx")).unwrap();
    for (args, target) in [
        (&["clean", "-q", "in.jsonl"][..], "in.jsonl"),
        (&["scan", "-q", "in.jsonl"], "in.jsonl"),
        (&["check", "-q", "in.jsonl"], "in.jsonl"),
        (&["scan", "-q", "a.txt", "--index", "i.ndx"], "i.ndx"),
        (
            &["clean", "-q", "a.txt", "--index", "i.ndx", "--update"],
            "i.ndx",
        ),
        (&["index", "stats", "i.ndx"], "i.ndx"),
    ] {
        let out = run_into(d, args, append(&d.join(target)));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("standard output is {target}")),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::read(d.join("in.jsonl")).unwrap(), text, "{args:?}");
        assert_eq!(std::fs::read(d.join("i.ndx")).unwrap(), index, "{args:?}");
    }
    // Into another file it runs.
    let out = run_into(d, &["clean", "-q", "in.jsonl"], append(&d.join("o.jsonl")));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!std::fs::read(d.join("o.jsonl")).unwrap().is_empty());
}

/// `neardup clean - -o in.jsonl < in.jsonl` would replace the input read
/// through standard input with its cleaned text (`--report`, `--html` and
/// `index build -o` the same), and `... < in.jsonl >> in.jsonl` append to
/// it: standard input, a regular file, is compared with every path written
/// and with standard output, by file identity (links too), whole and in
/// chunks.
#[test]
fn standard_input_from_a_file_the_run_writes_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let text = corpus(d);
    std::os::unix::fs::symlink("in.jsonl", d.join("link.jsonl")).unwrap();
    std::fs::hard_link(d.join("in.jsonl"), d.join("hard.jsonl")).unwrap();
    let from = |path: &str| std::fs::File::open(d.join(path)).unwrap();
    // Run with in.jsonl as standard input (and `stdout` as standard
    // output): refused, saying `why`, the input as it was.
    let refused = |all: &[&str], stdout: Option<std::fs::File>, why: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_neardup"));
        command.current_dir(d).args(all).stdin(from("in.jsonl"));
        if let Some(stdout) = stdout {
            command.stdout(stdout);
        }
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {stderr}");
        assert!(stderr.contains(why), "{all:?}: {stderr}");
        assert_eq!(std::fs::read(d.join("in.jsonl")).unwrap(), text, "{all:?}");
    };
    for mode in MODES {
        for args in [
            &["clean", "-q", "-", "-o", "in.jsonl"][..],
            &["clean", "-q", "-", "-o", "link.jsonl"],
            &[
                "clean",
                "-q",
                "-",
                "-o",
                "o.jsonl",
                "--report",
                "hard.jsonl",
            ],
            &["clean", "-q", "-", "-o", "o.jsonl", "--html", "in.jsonl"],
            &["index", "build", "-q", "-", "-o", "in.jsonl"],
        ] {
            let words = if args[0] == "index" { 2 } else { 1 };
            let mut all: Vec<&str> = args[..words].to_vec();
            all.extend_from_slice(mode);
            all.extend_from_slice(&args[words..]);
            refused(&all, None, "standard input (-) is");
            assert!(!d.join("o.jsonl").exists(), "{all:?}");
        }
        for args in [&["clean", "-q", "-"][..], &["scan", "-q", "-"]] {
            let mut all = vec![args[0]];
            all.extend_from_slice(mode);
            all.extend_from_slice(&args[1..]);
            refused(
                &all,
                Some(append(&d.join("in.jsonl"))),
                "is also standard output",
            );
        }
        // From another file it runs, and reads as it did.
        let out = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .args(["clean", "-q", "-", "-o", "o.jsonl"])
            .args(mode)
            .stdin(from("in.jsonl"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let named = run_in(d, mode, &["clean", "-q", "in.jsonl", "-o", "-"]);
        assert_eq!(std::fs::read(d.join("o.jsonl")).unwrap(), named.stdout);
        std::fs::remove_file(d.join("o.jsonl")).unwrap();
    }
}

#[test]
fn an_index_merged_with_itself_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let ndx = indexed(d);
    std::fs::hard_link(d.join("seen.ndx"), d.join("same.ndx")).unwrap();
    std::os::unix::fs::symlink("seen.ndx", d.join("link.ndx")).unwrap();
    // A copy holds the same documents: merged, each twice.
    std::fs::copy(d.join("seen.ndx"), d.join("copy.ndx")).unwrap();
    for b in ["seen.ndx", "./seen.ndx", "same.ndx", "link.ndx", "copy.ndx"] {
        let out = run_exit(d, 2, &["index", "merge", "seen.ndx", b, "-o", "ab.ndx"]);
        assert_says(&out, "are one index");
        assert!(!d.join("ab.ndx").exists());
    }
    assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
}

#[test]
fn an_index_that_is_a_fifo_or_device_is_refused_without_waiting() {
    let dir = tempdir();
    let d = dir.path();
    indexed(d);
    run_ok(d, &["index", "build", "-q", "-o", "b.ndx", "b.jsonl"]);
    // Nothing ever opens the other end of the FIFO: opening it would wait
    // for ever.
    mkfifo(&d.join("ff"));
    mknod(&d.join("null"), 3);
    for special in ["ff", "null"] {
        let cases: [&[&str]; 8] = [
            &["scan", "--index", special, "b.jsonl"],
            &["check", "--reference", special, "b.jsonl"],
            &[
                "clean", "--index", special, "--update", "-o", "o.jsonl", "b.jsonl",
            ],
            &["index", "stats", special],
            &["index", "merge", special, "seen.ndx", "-o", "m.ndx"],
            &["index", "merge", "seen.ndx", special, "-o", "m.ndx"],
            &["index", "merge", "seen.ndx", "b.ndx", "-o", special],
            &["index", "build", "-o", special, "b.jsonl"],
        ];
        for args in cases {
            let out = crate::util::run_or_hang(d, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("neardup: {special}: ")),
                "{args:?}: {stderr}"
            );
            assert!(!d.join("o.jsonl").exists() && !d.join("m.ndx").exists());
        }
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
    }
}

#[test]
fn an_update_through_a_link_takes_the_lock_of_the_index_it_names() {
    use std::io::Read as _;
    let dir = tempdir();
    let d = dir.path();
    indexed(d);
    std::os::unix::fs::symlink("seen.ndx", d.join("link.ndx")).unwrap();
    // Another run updating seen.ndx by its own name holds its lock: an
    // update through the link must wait for it, or one of the two updates
    // would be lost.
    let held = std::fs::File::create(d.join("seen.ndx.lock")).unwrap();
    held.lock().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .current_dir(d)
        .args([
            "clean", "-q", "--index", "link.ndx", "--update", "-o", "o.jsonl", "b.jsonl",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut said = Vec::new();
    let started = std::time::Instant::now();
    while !String::from_utf8_lossy(&said).contains("waiting") {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the update did not wait: {}",
            String::from_utf8_lossy(&said)
        );
        assert!(started.elapsed().as_secs() < 60, "no word of the lock");
        let mut byte = [0u8; 1];
        if stderr.read(&mut byte).unwrap() == 1 {
            said.push(byte[0]);
        }
    }
    assert!(!d.join("o.jsonl").exists());
    held.unlock().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(d.join("o.jsonl").exists());
    assert!(!d.join("link.ndx.lock").exists());
    assert!(std::fs::symlink_metadata(d.join("link.ndx"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_file_given_as_tmp_dir_or_as_tmpdir_is_refused_by_name() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    std::fs::write(d.join("file"), "x").unwrap();
    let out = run_exit(
        d,
        2,
        &[
            "scan",
            "--memory-limit",
            "64K",
            "--tmp-dir",
            "file",
            "in.jsonl",
        ],
    );
    assert_says(&out, "file: --tmp-dir is not a directory");
    // A file as TMPDIR (no --tmp-dir) is refused by name too, and left as it was.
    std::fs::write(d.join("afile"), "old\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["scan", "-q", "--memory-limit", "64K", "in.jsonl"])
        .current_dir(d)
        .env_clear()
        .env("TMPDIR", d.join("afile"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_holds(&stderr, "afile: the directory for temporary files (--tmp-dir, or TMPDIR without it) is not a directory");
    assert_eq!(std::fs::read_to_string(d.join("afile")).unwrap(), "old\n");
}

#[test]
fn a_fifo_device_or_file_given_as_out_dir_is_not_a_directory() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    mkfifo(&d.join("ff"));
    mknod(&d.join("null"), 3);
    std::fs::write(d.join("file"), "x").unwrap();
    std::os::unix::fs::symlink("file", d.join("link")).unwrap();
    for target in ["ff", "null", "file", "link"] {
        for limit in [&[][..], &["--memory-limit", "64K"]] {
            let mut args = vec!["clean", "in.jsonl", "--out-dir", target];
            args.extend_from_slice(limit);
            let out = crate::util::run_or_hang(d, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{target}: {stderr}");
            assert!(
                stderr.contains(&format!("neardup: {target}: --out-dir is not a directory")),
                "{target}: {stderr}"
            );
        }
    }
    assert_eq!(std::fs::read(d.join("file")).unwrap(), b"x");
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &std::fs::symlink_metadata(d.join("ff")).unwrap().file_type()
    ));
    assert!(is_char_device(&d.join("null")));
}

/// Every name under `dir`, directories with a `/`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            found.push(format!("{name}/"));
            found.extend(
                names(&entry.path())
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        } else {
            found.push(name);
        }
    }
    found.sort();
    found
}

#[test]
fn runs_into_one_out_dir_at_once_rename_one_after_the_other() {
    // A run renames its staged files into a directory only while no other
    // run does: here the test holds the directory's lock, and the run waits
    // for it with its output staged, then finishes once it is let go.
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("in.jsonl"), corpus(d)).unwrap();
    std::fs::create_dir(d.join("od")).unwrap();
    let held = std::fs::File::open(d.join("od")).unwrap();
    {
        use std::os::fd::AsRawFd;
        // SAFETY: `flock` on a descriptor the test owns.
        #[allow(unsafe_code)]
        let locked = unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(locked, 0);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["clean", "-q", "in.jsonl", "--out-dir", "od"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the run did not wait");
    assert!(!d.join("od/in.jsonl").exists());
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    run_ok(d, &["clean", "-q", "in.jsonl", "-o", "alone.jsonl"]);
    assert_eq!(
        std::fs::read(d.join("od/in.jsonl")).unwrap(),
        std::fs::read(d.join("alone.jsonl")).unwrap()
    );
    assert!(temporaries(&d.join("od")).is_empty());
}

#[test]
fn an_index_already_holding_the_others_documents_is_not_merged_into_it() {
    let dir = tempdir();
    let d = dir.path();
    let ndx = indexed(d);
    std::fs::write(d.join("empty.jsonl"), "").unwrap();
    // A copy of a.jsonl under another name: other documents (a merge of
    // copies is what `index merge` is for); and a.jsonl with one record
    // changed: not every document is in the other.
    std::fs::copy(d.join("a.jsonl"), d.join("a2.jsonl")).unwrap();
    std::fs::create_dir(d.join("changed")).unwrap();
    let a = std::fs::read_to_string(d.join("a.jsonl")).unwrap();
    let first = a.find('\n').unwrap();
    let changed = format!(
        "{{\"id\":\"new\",\"text\":\"a record of its own\"}}{}",
        &a[first..]
    );
    std::fs::write(d.join("changed/a.jsonl"), changed).unwrap();
    for (input, out) in [
        ("empty.jsonl", "e.ndx"),
        ("b.jsonl", "b.ndx"),
        ("a2.jsonl", "a2.ndx"),
    ] {
        run_ok(d, &["index", "build", "-q", "-o", out, input]);
    }
    // (Built there, it names its input `a.jsonl` too.)
    run_ok(
        &d.join("changed"),
        &["index", "build", "-q", "-o", "../c.ndx", "a.jsonl"],
    );
    for (a, b, out) in [
        ("seen.ndx", "e.ndx", "ae.ndx"),
        ("seen.ndx", "b.ndx", "ab.ndx"),
        ("seen.ndx", "a2.ndx", "aa2.ndx"),
        ("seen.ndx", "c.ndx", "ac.ndx"),
        ("e.ndx", "seen.ndx", "ea.ndx"),
    ] {
        let merged = run(d, &["index", "merge", a, b, "-o", out]);
        assert_eq!(merged.code, 0, "{a} + {b}: {merged:?}");
    }
    let docs = |name: &str| {
        let out = run(d, &["index", "stats", "--json", name]);
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        stats["documents"].as_u64().unwrap()
    };
    let a_docs = docs("seen.ndx");
    assert!(a_docs > 10 && docs("ae.ndx") == a_docs && docs("aa2.ndx") == 2 * a_docs);
    // (a + empty) + a, a + (a + empty), (a + b) + a, b + (a + b), and the
    // output one of them: refused by name, nothing written.
    std::fs::copy(d.join("ab.ndx"), d.join("ab-copy.ndx")).unwrap();
    for (a, b, out, held, holder) in [
        ("ae.ndx", "seen.ndx", "m.ndx", "seen.ndx", "ae.ndx"),
        // (As many documents either way: B is named.)
        ("seen.ndx", "ae.ndx", "m.ndx", "ae.ndx", "seen.ndx"),
        ("ea.ndx", "seen.ndx", "m.ndx", "seen.ndx", "ea.ndx"),
        ("ab.ndx", "seen.ndx", "m.ndx", "seen.ndx", "ab.ndx"),
        ("b.ndx", "ab.ndx", "m.ndx", "b.ndx", "ab.ndx"),
        ("ab.ndx", "b.ndx", "ab.ndx", "b.ndx", "ab.ndx"),
    ] {
        let before = std::fs::read(d.join(out)).ok();
        let merged = run(d, &["index", "merge", a, b, "-o", out]);
        assert_eq!(merged.code, 2, "{a} + {b}: {merged:?}");
        assert!(
            merged.stderr.contains(&format!("neardup: {held}: all "))
                && merged.stderr.contains(&format!("already in {holder}")),
            "{a} + {b}: {merged:?}"
        );
        assert_eq!(std::fs::read(d.join(out)).ok(), before, "{out} changed");
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
    }
    assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
    assert_eq!(
        std::fs::read(d.join("ab.ndx")).unwrap(),
        std::fs::read(d.join("ab-copy.ndx")).unwrap()
    );
}

#[test]
fn an_empty_file_is_no_index_yet_for_update_build_and_merge_alike() {
    let dir = tempdir();
    let d = dir.path();
    indexed(d);
    run_ok(d, &["index", "build", "-q", "-o", "built.ndx", "b.jsonl"]);
    let stats = |name: &str| {
        let out = run(d, &["index", "stats", "--json", name]);
        assert_eq!(out.code, 0, "{name}: {out:?}");
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for k in ["path", "bytes", "created", "updated", "runs"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v
    };
    // An empty file (what `mktemp` makes) is where each command starts an
    // index.
    for (name, args) in [
        (
            "u.ndx",
            &[
                "clean", "-q", "--index", "u.ndx", "--update", "-o", "o.jsonl", "b.jsonl",
            ][..],
        ),
        (
            "c.ndx",
            &[
                "check",
                "-q",
                "--exit-zero",
                "--index",
                "c.ndx",
                "--update",
                "b.jsonl",
            ],
        ),
        (
            "bu.ndx",
            &["index", "build", "-q", "-o", "bu.ndx", "b.jsonl"],
        ),
    ] {
        std::fs::write(d.join(name), "").unwrap();
        let out = run(d, args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert_eq!(stats(name), stats("built.ndx"), "{args:?}");
    }
    std::fs::write(d.join("m.ndx"), "").unwrap();
    run_ok(
        d,
        &["index", "merge", "seen.ndx", "built.ndx", "-o", "m.ndx"],
    );
    // Read without --update, an empty file is no index: said so.
    std::fs::write(d.join("r.ndx"), "").unwrap();
    for flag in ["--index", "--reference"] {
        let out = run_exit(d, 2, &["scan", flag, "r.ndx", "b.jsonl"]);
        assert_says(&out, "r.ndx: an empty file, no index yet");
    }
    // And so do `index stats` and `index merge` (which said "not a neardup
    // index (no NEARDUPI header)" of it).
    for args in [
        &["index", "stats", "r.ndx"][..],
        &["index", "merge", "r.ndx", "built.ndx", "-o", "m2.ndx"],
    ] {
        let out = run_exit(d, 2, args);
        assert_says(
            &out,
            "r.ndx: an empty file, no index yet; make one with `neardup index build`",
        );
        assert!(!d.join("m2.ndx").exists());
    }
    // A file holding anything else is written over by none of the three.
    for (args, what) in [
        (
            &[
                "clean", "-q", "--index", "x.ndx", "--update", "-o", "o2.jsonl", "b.jsonl",
            ][..],
            "not a neardup index",
        ),
        (
            &["index", "build", "-q", "-o", "x.ndx", "b.jsonl"],
            "not a neardup index",
        ),
        (
            &["index", "merge", "seen.ndx", "built.ndx", "-o", "x.ndx"],
            "not a neardup index",
        ),
    ] {
        std::fs::write(d.join("x.ndx"), "notes\n").unwrap();
        let out = run(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(what), "{args:?}: {out:?}");
        assert_eq!(std::fs::read(d.join("x.ndx")).unwrap(), b"notes\n");
        assert!(!d.join("o2.jsonl").exists());
    }
}
