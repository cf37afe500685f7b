//! A failed, interrupted or cut-short run: what it was to change is as it
//! was, and nothing it made is left behind (temporary files, spools, locks).

use super::*;

#[test]
fn a_report_that_fails_leaves_the_output_and_the_index_as_they_were() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        let ndx = indexed(d);
        let expected = run(d, &["clean", "-q", "--index", "seen.ndx", "b.jsonl"]).stdout;
        assert!(expected.len() > 1000, "the batch is not all duplicates");
        // A full disk: writing the report fails with ENOSPC.
        mknod(&d.join("full"), 7);
        let update = |report: &str| {
            let args = [
                "clean",
                "--json",
                "--index",
                "seen.ndx",
                "--update",
                "-o",
                "out.jsonl",
                "--report",
                report,
                "b.jsonl",
            ];
            run_in(d, mode, &args)
        };
        let out = update("full");
        assert_eq!(out.code, 2, "{out:?}");
        assert_says(&out, "full");
        assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
        assert_eq!(
            std::fs::read(d.join("out.jsonl")).unwrap(),
            b"earlier output\n"
        );
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
        // The retry, with room, finds what the first attempt would have.
        let out = update("r.json");
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(std::fs::read(d.join("out.jsonl")).unwrap(), expected);
        assert_ne!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
    }
}

#[test]
fn check_whose_standard_output_fails_does_not_update_the_index() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        let ndx = indexed(d);
        mknod(&d.join("full"), 7);
        let mut all = vec!["check"];
        all.extend_from_slice(mode);
        all.extend_from_slice(&["--index", "seen.ndx", "--update", "b.jsonl"]);
        let out = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args(&all)
            .current_dir(d)
            .env_clear()
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(d.join("full"))
                    .unwrap(),
            )
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
        // Standard output closed early: the check's verdict (what the same
        // check without `--update` exits with: 1 over the limit, never 0
        // then), saying the index was not updated.
        let verdict = run_in(d, mode, &["check", "-q", "--index", "seen.ndx", "b.jsonl"]).code;
        assert_eq!(verdict, 1);
        let out = crate::util::run_stdout_closed(d, &all);
        assert_eq!(out.code, verdict, "{}", out.stderr);
        assert_holds(&out.stderr, "the index was not updated");
        assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
        assert!(temporaries(d).is_empty());
    }
}

#[test]
fn an_out_dir_is_replaced_whole_or_not_at_all() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        indexed(d);
        std::fs::create_dir(d.join("in")).unwrap();
        std::fs::rename(d.join("a.jsonl"), d.join("in/a.jsonl")).unwrap();
        std::fs::rename(d.join("b.jsonl"), d.join("in/b.jsonl")).unwrap();
        std::fs::create_dir(d.join("out")).unwrap();
        std::fs::write(d.join("out/a.jsonl"), "old a\n").unwrap();
        // The second file's target is a full disk.
        mknod(&d.join("out/b.jsonl"), 7);
        let out = run_in(d, mode, &["clean", "-q", "in", "--out-dir", "out"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert_says(&out, "b.jsonl");
        assert_eq!(std::fs::read(d.join("out/a.jsonl")).unwrap(), b"old a\n");
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
        // With room, every file is written.
        std::fs::remove_file(d.join("out/b.jsonl")).unwrap();
        let out = run_in(d, mode, &["clean", "-q", "in", "--out-dir", "out"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_ne!(std::fs::read(d.join("out/a.jsonl")).unwrap(), b"old a\n");
        assert!(d.join("out/b.jsonl").is_file());
    }
}

#[test]
fn a_write_that_fails_under_an_out_dir_names_the_file() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        std::fs::create_dir(d.join("in")).unwrap();
        std::fs::create_dir(d.join("out")).unwrap();
        // More than the writer buffers, so the write itself fails.
        let mut big = String::new();
        for i in 0..4000 {
            use std::fmt::Write as _;
            let (a, b) = (i * 7, i * 13);
            writeln!(big, r#"{{"id":{i},"text":"record {i} of {a} words {b}"}}"#).unwrap();
        }
        std::fs::write(d.join("in/big.jsonl"), big).unwrap();
        mknod(&d.join("out/big.jsonl"), 7);
        let out = run_in(d, mode, &["clean", "-q", "in", "--out-dir", "out"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr
                .contains("out/big.jsonl: No space left on device"),
            "{mode:?}: {out:?}"
        );
    }
}

/// When process `pid` started, in clock ticks after boot.
fn process_start(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().parse().unwrap()
}

#[test]
fn temporary_files_of_dead_runs_are_removed_by_the_next_run_beside_them() {
    let dir = tempdir();
    let d = dir.path();
    let ndx = indexed(d);
    // PIDs above the kernel's limit (2^22) never run; PID 1 always does,
    // but it is not the process that wrote a file named with another
    // start time, or written before it started. Names without a PID (an
    // earlier version's) go when no process holds them open.
    let init = process_start(1);
    let dead = [
        ".neardup-4194399-5-a1b2c3.tmp".to_owned(),
        ".neardup-index-4194399-5-d4e5f6.tmp".to_owned(),
        ".neardup-4194399-a1b2c3.tmp".to_owned(),
        format!(".neardup-index-1-{}-d4e5f6.tmp", init + 1),
        ".neardup-index-1-aged01.tmp".to_owned(),
        ".neardup-index-nopid1.tmp".to_owned(),
        ".neardup-nopid2.tmp".to_owned(),
    ];
    let leave = |dir: &Path| {
        for name in &dead {
            std::fs::write(dir.join(name), "partial").unwrap();
        }
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        std::fs::File::options()
            .write(true)
            .open(dir.join(".neardup-index-1-aged01.tmp"))
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
    };
    leave(d);
    let live = format!(".neardup-1-{init}-a1b2c3.tmp");
    std::fs::write(d.join(&live), "someone's").unwrap();
    run_ok(
        d,
        &[
            "clean",
            "-q",
            "--index",
            "seen.ndx",
            "--update",
            "-o",
            "out.jsonl",
            "b.jsonl",
        ],
    );
    assert_ne!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
    assert_eq!(temporaries(d), std::slice::from_ref(&live));
    // A run that takes the index's lock sweeps beside the index, even when
    // it writes nothing there.
    std::fs::create_dir(d.join("idx")).unwrap();
    std::fs::rename(d.join("seen.ndx"), d.join("idx/seen.ndx")).unwrap();
    leave(&d.join("idx"));
    run_exit(
        d,
        2,
        &[
            "clean",
            "-q",
            "--index",
            "idx/seen.ndx",
            "--update",
            "-o",
            "-",
            "missing.jsonl",
        ],
    );
    assert_eq!(temporaries(&d.join("idx")), Vec::<String>::new());
}

#[test]
fn an_interrupted_run_leaves_no_temporary_file_beside_its_target() {
    use std::io::{Read as _, Write as _};
    for (signal, number) in [
        ("TERM", 15),
        ("INT", 2),
        ("QUIT", 3),
        ("USR1", 10),
        ("XCPU", 24),
    ] {
        let dir = tempdir();
        let d = dir.path();
        let text = corpus(d);
        // (Blocks only: at the document level a run in chunks into a file
        // first reads standard input to its end, for its short documents,
        // and no chunk would be written while half of it is in.)
        let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .args([
                "clean",
                "-q",
                "--level",
                "blocks",
                "--format",
                "jsonl",
                "--memory-limit",
                "64K",
                "--tmp-dir",
                "spool",
                "-o",
                "out.jsonl",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&text[..text.len() / 2]).unwrap();
        stdin.flush().unwrap();
        // Wait until the output's temporary file is there, and chunks
        // have gone into it.
        let started = std::time::Instant::now();
        while temporaries(d).is_empty() {
            assert!(
                started.elapsed().as_secs() < 60,
                "no temporary file appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        drop(stdin);
        let mut rest = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut rest).unwrap();
        assert_eq!(status.code(), Some(128 + number), "{signal}: {status:?}");
        assert!(temporaries(d).is_empty(), "{:?}", temporaries(d));
        assert!(!d.join("out.jsonl").exists());
    }
}

/// A write past the shell's file size limit (`ulimit -f`, SIGXFSZ) fails
/// like a full disk: exit 2 naming the file, the old output and index as
/// they were, no temporary file left (the signal's default would have
/// killed the run on the spot, leaving them).
#[test]
fn a_write_past_the_file_size_limit_fails_cleanly() {
    for mode in MODES {
        for args in [
            &["clean", "-q", "in.jsonl", "-o", "out.jsonl"][..],
            &[
                "clean",
                "-q",
                "in.jsonl",
                "--index",
                "i.ndx",
                "--update",
                "-o",
                "out.jsonl",
            ],
            &["index", "build", "-q", "in.jsonl", "-o", "out.jsonl"],
        ] {
            let dir = tempdir();
            let d = dir.path();
            corpus(d);
            // An index is written over an empty file, never over another.
            let old: &[u8] = if args[0] == "index" { b"" } else { b"old\n" };
            std::fs::write(d.join("out.jsonl"), old).unwrap();
            let mut all: Vec<&str> = args.to_vec();
            let at = if args[0] == "index" { 2 } else { 1 };
            for (i, flag) in mode.iter().enumerate() {
                all.insert(at + i, flag);
            }
            let out = crate::util::run_limited(d, "ulimit -f 8", &all);
            assert_eq!(out.code, 2, "{all:?}: {out:?}");
            assert!(out.stderr.contains("File too large"), "{all:?}: {out:?}");
            assert_eq!(std::fs::read(d.join("out.jsonl")).unwrap(), old, "{all:?}");
            assert!(!d.join("i.ndx").exists(), "{all:?}");
            assert!(temporaries(d).is_empty(), "{all:?}: {:?}", temporaries(d));
        }
    }
}

/// A run in chunks writes its output as it goes; failing at the last
/// record, it cuts standard output (a regular file) back to where it stood.
#[test]
fn a_failed_run_leaves_no_partial_output_in_a_standard_output_file() {
    let dir = tempdir();
    let d = dir.path();
    let mut text = corpus(d);
    text.extend_from_slice(b"{\"text\": 5}\n");
    std::fs::write(d.join("bad.jsonl"), &text).unwrap();
    let args = [
        "clean",
        "-q",
        "--memory-limit",
        "64K",
        "--tmp-dir",
        "spool",
        "bad.jsonl",
    ];
    let out = run_into(d, &args, std::fs::File::create(d.join("o.jsonl")).unwrap());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:81"),
        "{out:?}"
    );
    let left = std::fs::metadata(d.join("o.jsonl")).unwrap().len();
    assert_eq!(left, 0, "{left} bytes of partial output");
    std::fs::write(d.join("log.jsonl"), "kept\n").unwrap();
    let out = run_into(d, &args, append(&d.join("log.jsonl")));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let log = std::fs::read(d.join("log.jsonl")).unwrap();
    assert!(log == b"kept\n", "{} bytes", log.len());
}

/// Standard output appended to a regular file that fills (a full disk;
/// here `ulimit -f`): the run fails and cuts the file back to where it
/// stood, but the bytes of the write that failed stayed in standard
/// output's buffer, and the process wrote them at the cut as it exited:
/// the log ended in a piece of a record (`ilon mu kappa ... "}`).
#[test]
fn a_standard_output_file_that_fills_is_left_as_it_was() {
    for mode in MODES {
        for command in ["clean", "scan"] {
            let dir = tempdir();
            let d = dir.path();
            corpus(d);
            std::fs::write(d.join("log.txt"), "kept\n").unwrap();
            let mut args = vec![command, "-q"];
            args.extend_from_slice(mode);
            args.push("in.jsonl");
            // 8 blocks of 512 bytes: the output (60 KB cleaned, or the
            // report) does not fit after the 5 bytes there.
            let out = Command::new("/bin/sh")
                .arg("-c")
                .arg("trap '' XFSZ; ulimit -f 8 && exec \"$0\" \"$@\" >> log.txt")
                .arg(env!("CARGO_BIN_EXE_neardup"))
                .args(&args)
                .current_dir(d)
                .env_clear()
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains("File too large"), "{args:?}: {stderr}");
            let log = std::fs::read(d.join("log.txt")).unwrap();
            assert!(
                log == b"kept\n",
                "{args:?}: {} bytes: {:?}",
                log.len(),
                String::from_utf8_lossy(&log[..log.len().min(200)])
            );
        }
    }
}

#[test]
fn an_input_truncated_while_mapped_ends_the_run_with_a_message() {
    // Log rotation with copytruncate: the file shrinks while the run reads
    // it. The run writes to a pipe this test reads only after truncating,
    // so the truncation always comes while most of the file is unread.
    let text = crate::util::numbered_records(40_000);
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("big.jsonl"), &text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .current_dir(d)
            .arg("clean")
            .args(mode)
            .args(["-q", "big.jsonl"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let rest = crate::util::cut_short_while_read(&mut stdout, &d.join("big.jsonl"));
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{mode:?}: {:?} {stderr}",
            std::os::unix::process::ExitStatusExt::signal(&out.status)
        );
        assert_holds(&stderr, "big.jsonl: truncated while it was read");
        assert!(rest.len() + 1 < text.len());
    }
    // The way around it is in --help.
    let help = run(Path::new("."), &["clean", "--help"]).stdout_str();
    assert!(help.contains("--no-mmap"), "{help}");
}

#[test]
fn a_failed_run_removes_the_directories_and_lock_files_it_created() {
    for mode in MODES {
        let dir = tempdir();
        let d = dir.path();
        let ndx = indexed(d);
        // The batch, then a line that is not JSON: the run fails at the end.
        let mut bad = std::fs::read(d.join("b.jsonl")).unwrap();
        bad.extend_from_slice(b"{not json\n");
        std::fs::write(d.join("bad.jsonl"), &bad).unwrap();
        std::fs::remove_file(d.join("seen.ndx.lock")).unwrap();
        let before = names(d);
        let cases: [&[&str]; 5] = [
            &[
                "clean",
                "--index",
                "new/deeper/seen.ndx",
                "--update",
                "-o",
                "out/o.jsonl",
                "bad.jsonl",
            ],
            &[
                "check",
                "--index",
                "new/seen.ndx",
                "--update",
                "--step-summary",
                "r/s.md",
                "bad.jsonl",
            ],
            &["index", "build", "-o", "new/seen.ndx", "bad.jsonl"],
            &[
                "clean",
                "--index",
                "seen.ndx",
                "--update",
                "--out-dir",
                "tree/",
                "bad.jsonl",
            ],
            &[
                "clean",
                "--index",
                "seen.ndx",
                "--update",
                "-o",
                "-",
                "bad.jsonl",
            ],
        ];
        for args in cases {
            let out = run_in(d, mode, args);
            assert_eq!(out.code, 2, "{args:?} {out:?}");
            assert!(out.stderr.contains("bad.jsonl:"), "{args:?} {out:?}");
            assert_eq!(names(d), before, "{args:?} in {mode:?}");
            assert_eq!(std::fs::read(d.join("seen.ndx")).unwrap(), ndx);
        }
        // A run that succeeds keeps its lock file (a later update takes it).
        let out = run_in(
            d,
            mode,
            &[
                "clean",
                "-q",
                "--index",
                "new/seen.ndx",
                "--update",
                "b.jsonl",
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert!(d.join("new/seen.ndx").is_file() && d.join("new/seen.ndx.lock").is_file());
    }
}

#[test]
fn a_spool_directory_the_run_made_is_gone_when_it_ends() {
    // `--tmp-dir new/spool` (or a TMPDIR not there) is made for the run's
    // temporary files only: no run leaves it behind, as no failed run does.
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    run_ok(
        d,
        &[
            "clean",
            "-q",
            "--memory-limit",
            "64K",
            "--tmp-dir",
            "new/spool",
            "in.jsonl",
            "-o",
            "o.jsonl",
        ],
    );
    assert!(d.join("o.jsonl").is_file());
    assert!(
        !d.join("new").exists(),
        "{:?}",
        crate::util::tree(d)
            .iter()
            .map(|e| &e.0)
            .collect::<Vec<_>>()
    );
    // One that was there stays.
    std::fs::create_dir(d.join("kept")).unwrap();
    let out = run(
        d,
        &[
            "scan",
            "-q",
            "--memory-limit",
            "64K",
            "--tmp-dir",
            "kept",
            "in.jsonl",
        ],
    );
    assert!(matches!(out.code, 0 | 1), "{out:?}");
    assert!(d.join("kept").is_dir());
}

/// Standard error a pipe whose reader has gone (`neardup clean ... |& head
/// -3` once `head` is done): the run goes on and writes what it would, the
/// lines meant for standard error lost. `eprintln!` panicked on it: exit
/// 101, the output not written and the index not updated.
#[test]
fn standard_error_closed_ends_no_run() {
    let dir = tempdir();
    let d = dir.path();
    corpus(d);
    for (args, written) in [
        (&["clean", "in.jsonl", "-o", "o.jsonl"][..], "o.jsonl"),
        (
            &["clean", "--progress", "always", "in.jsonl", "-o", "p.jsonl"],
            "p.jsonl",
        ),
        (
            &[
                "clean", "in.jsonl", "-o", "u.jsonl", "--index", "u.ndx", "--update",
            ],
            "u.ndx",
        ),
        (&["scan", "-v", "in.jsonl"], "in.jsonl"),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args(args)
            .current_dir(d)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(d.join(written).is_file(), "{args:?}");
    }
    // The summary of the update ran to its end: the index is whole.
    run_ok(d, &["index", "stats", "--verify", "u.ndx"]);
}
