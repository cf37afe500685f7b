//! Session 34's hostile pass (issue 14): a read-only target replaced where a
//! shell's `>` refuses it, gzip's zero padding (tape and `dd` blocks) and
//! trailing garbage, a `--glob` too complex to match, and `check` whose
//! reader stopped reading. Session 35's: a small stack (`ulimit -s`), an
//! endless stream read as JSON Lines whose first line is no record.
//! Session 36's: a mapped JSON Lines file whose tail is zeros.

use crate::util::{
    assert_says, gzip, run, run_exit, run_limited, run_ok, run_with_stdin, tempdir, tree,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// `neardup args...` in `dir` as the unprivileged user `nobody` when the
/// tests run as root (a mode bit does not stop root), else as the user
/// running the tests: `None` when that cannot be done here (no `setpriv`,
/// or `nobody` cannot run the binary where it was built).
fn unprivileged(dir: &Path, args: &[&str]) -> Option<crate::util::Output> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        return Some(run(dir, args));
    }
    let setpriv = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_neardup"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .ok()
    };
    if !setpriv(&["--version"]).is_some_and(|o| o.status.success()) {
        eprintln!("skipped: cannot run the binary as nobody (setpriv)");
        return None;
    }
    setpriv(args).map(crate::util::Output::from)
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A read-only (0444) existing target in a writable directory is refused
/// before anything is read, exit 2, naming it and its role, every file as
/// it was: `-o`, `--report`, `--html`, an `--out-dir` file, the index of
/// `--update`, `index build -o`, `index merge -o` (the rename needs only the
/// directory to be writable, and replaced them all). Root may write a 0444
/// file with `>`, and so replaces it.
#[test]
fn read_only_targets_are_refused_as_a_shell_refuses_them() {
    let dir = tempdir();
    let d = dir.path();
    chmod(d, 0o777);
    crate::util::write_two_copies(&d.join("in.jsonl"));
    chmod(&d.join("in.jsonl"), 0o644);
    run_ok(d, &["index", "build", "-q", "in.jsonl", "-o", "i.ndx"]);
    std::fs::copy(d.join("i.ndx"), d.join("j.ndx")).unwrap();
    std::fs::create_dir(d.join("od")).unwrap();
    chmod(&d.join("od"), 0o777);
    for name in ["o.jsonl", "r.txt", "p.html", "od/in.jsonl"] {
        std::fs::write(d.join(name), "old\n").unwrap();
    }
    for name in [
        "o.jsonl",
        "r.txt",
        "p.html",
        "od/in.jsonl",
        "i.ndx",
        "j.ndx",
    ] {
        chmod(&d.join(name), 0o444);
    }
    let before = tree(d);
    for (args, named) in [
        (
            &["clean", "-q", "in.jsonl", "-o", "o.jsonl"][..],
            "o.jsonl (-o)",
        ),
        (
            &[
                "clean",
                "-q",
                "in.jsonl",
                "-o",
                "new.jsonl",
                "--report",
                "r.txt",
            ],
            "r.txt (--report)",
        ),
        (
            &["scan", "-q", "in.jsonl", "--html", "p.html"],
            "p.html (--html)",
        ),
        (
            &["clean", "-q", "in.jsonl", "--out-dir", "od"],
            "od/in.jsonl (--out-dir output)",
        ),
        (
            &["scan", "-q", "in.jsonl", "--index", "i.ndx", "--update"],
            "i.ndx (--index)",
        ),
        (
            &["index", "build", "-q", "in.jsonl", "-o", "i.ndx"],
            "i.ndx (index build -o)",
        ),
        (
            &["index", "merge", "i.ndx", "j.ndx", "-o", "i.ndx"],
            "i.ndx (index merge -o)",
        ),
    ] {
        let Some(out) = unprivileged(d, args) else {
            return;
        };
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("{named}: not writable (mode 0444)")),
            "{args:?}: {out:?}"
        );
        assert_eq!(tree(d), before, "{args:?} changed a file");
    }
    // A writable file is replaced as before, and root replaces a 0444 one
    // (as `>` run by root writes it).
    chmod(&d.join("o.jsonl"), 0o666);
    let out = unprivileged(d, &["clean", "-q", "in.jsonl", "-o", "o.jsonl"]).unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    assert_ne!(std::fs::read(d.join("o.jsonl")).unwrap(), b"old\n");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        run_ok(d, &["clean", "-q", "in.jsonl", "-o", "p.html"]);
        assert_ne!(std::fs::read(d.join("p.html")).unwrap(), b"old\n");
    }
}

/// Records with duplicates, and what `scan --json` reports of them.
fn records() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..60 {
        let words: Vec<String> = (0..40).map(|w| format!("w{}", (i % 20) * 50 + w)).collect();
        out.extend(format!("{{\"id\":\"d{i}\",\"text\":\"{}\"}}\n", words.join(" ")).bytes());
    }
    out
}

/// `COMMAND -q NAME`, whole and in chunks of 64K.
fn whole_and_in_chunks<'a>(command: &'a str, name: &'a str) -> [Vec<&'a str>; 2] {
    let limit = ["--memory-limit", "64K", "--tmp-dir", "."];
    [
        vec![command, "-q", name],
        [&[command, "-q"][..], &limit, &[name]].concat(),
    ]
}

/// A gzip file padded with zero bytes after its last member (what a tape
/// or `dd` block leaves; GNU gzip reads it) is read as the file without the
/// padding: whole, from standard input, in chunks, and with two members.
/// Any other trailing byte stays an error naming its byte offset; a zstd
/// file takes no trailing byte at all, zero or not, as the `zstd` tool.
#[test]
fn gzip_zero_padding_is_read_and_other_trailing_bytes_are_named() {
    let dir = tempdir();
    let d = dir.path();
    let text = records();
    let gz = gzip(&text);
    let mut two = gzip(&text[..text.len() / 2]);
    two.extend(gzip(&text[text.len() / 2..]));
    let padded = |member: &[u8], tail: &[u8]| [member, tail].concat();
    std::fs::write(d.join("plain.jsonl"), &text).unwrap();
    let want = run_ok(d, &["clean", "-q", "plain.jsonl"]);
    let zeros = vec![0u8; 10_000];
    for (name, bytes) in [
        ("pad.jsonl.gz", padded(&gz, &zeros)),
        ("one.jsonl.gz", padded(&gz, &[0])),
        ("two.jsonl.gz", padded(&two, &zeros)),
    ] {
        std::fs::write(d.join(name), &bytes).unwrap();
        for args in whole_and_in_chunks("clean", name) {
            let out = run(d, &args);
            assert_eq!(out.code, 0, "{args:?}: {out:?}");
            assert_eq!(out.stdout, want.stdout, "{args:?}");
        }
        let out = run_with_stdin(d, &["clean", "-q", "-"], Some(&bytes));
        assert_eq!(out.code, 0, "stdin {name}: {out:?}");
        assert_eq!(out.stdout, want.stdout, "stdin {name}");
    }
    let zst = zstd::encode_all(&text[..], 3).unwrap();
    for (name, bytes, offset) in [
        ("garbage.jsonl.gz", padded(&gz, b"garbage"), gz.len()),
        (
            "zeros-then-garbage.jsonl.gz",
            padded(&gz, b"\0\0\0x"),
            gz.len() + 3,
        ),
        ("pad.jsonl.zst", padded(&zst, &zeros), zst.len()),
        ("garbage.jsonl.zst", padded(&zst, b"garbage"), zst.len()),
    ] {
        std::fs::write(d.join(name), &bytes).unwrap();
        for args in whole_and_in_chunks("scan", name) {
            let out = run(d, &args);
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            assert!(
                out.stderr.contains(name)
                    && out
                        .stderr
                        .contains(&format!("trailing data at byte offset {offset},")),
                "{args:?}: {out:?}"
            );
        }
    }
}

/// A `--glob` too complex to match (100,000 `*`: the regex it makes is over
/// its size limit) is refused naming the flag and the pattern, shortened.
#[test]
fn a_glob_too_complex_is_named() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    crate::util::write_two_copies(&d.join("in/a.jsonl"));
    let glob = "*".repeat(100_000);
    let out = run_exit(
        d,
        2,
        &["scan", "-q", "in", "--glob", "*.jsonl", "--glob", &glob],
    );
    assert!(
        out.stderr.starts_with(&format!(
            "neardup: --glob \"{}\"... (100000 characters)",
            &glob[..40]
        )),
        "{out:?}"
    );
    assert!(out.stderr.len() < 500, "{out:?}");
    // A long glob that matches nothing is shown shortened too.
    let glob = "[a-z]*".repeat(20_000);
    let out = run_exit(d, 2, &["scan", "-q", "in", "--glob", &glob]);
    assert!(
        out.stderr.contains("no file in it matches --glob \"[a-z]*")
            && out.stderr.contains("... (120000 characters)")
            && out.stderr.len() < 500,
        "{out:?}"
    );
}

/// `check` whose standard output is closed before it writes its report
/// (`neardup check docs | head`, the reader gone) keeps its verdict: exit 1
/// over the limit (exit 0 passed a CI gate), 0 under it.
#[test]
fn check_keeps_its_verdict_when_its_reader_is_gone() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("dup.jsonl"), records()).unwrap();
    std::fs::write(d.join("one.txt"), "A single paragraph of its own words.\n").unwrap();
    for (input, want) in [("dup.jsonl", 1), ("one.txt", 0)] {
        for format in ["text", "json", "github"] {
            let args = ["check", input, "--output-format", format];
            let out = crate::util::run_stdout_closed(d, &args);
            assert_eq!(
                out.code, want,
                "check {input} --output-format {format}: {}",
                out.stderr
            );
        }
    }
}

#[test]
fn a_small_stack_limit_is_no_abort() {
    // `ulimit -s 64` is the main thread's stack: `--version` overflowed it
    // (abort, exit 134) before the command runs on a stack of its own.
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("r.jsonl"), records()).unwrap();
    for args in [
        &["--version"][..],
        &["scan", "r.jsonl"],
        &["clean", "-q", "r.jsonl", "-o", "-"],
        &["index", "build", "-q", "r.jsonl", "-o", "i.ndx"],
    ] {
        let want = run(d, args);
        let out = run_limited(d, "ulimit -s 64", args);
        assert_eq!(
            (out.code, &out.stdout),
            (want.code, &want.stdout),
            "{args:?}: {out:?}"
        );
        assert!(!out.stderr.contains("overflow"), "{out:?}");
    }
}

/// Runs `neardup args` with standard input `head`, then `y` lines for
/// ever (until the run stops reading).
fn endless_stdin(dir: &Path, args: &[&str], head: &[u8]) -> crate::util::Output {
    use std::io::Write;
    let mut child = crate::util::command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let head = head.to_vec();
    let feeder = std::thread::spawn(move || {
        let lines = b"y\n".repeat(1 << 15);
        let mut fed = head.len();
        if stdin.write_all(&head).is_err() {
            return fed;
        }
        // Past 8 GB it would be read to the end of memory anyway.
        while fed < 8 << 30 && stdin.write_all(&lines).is_ok() {
            fed += lines.len();
        }
        fed
    });
    let out = child.wait_with_output().unwrap();
    let fed = feeder.join().unwrap();
    assert!(fed < 64 << 20, "{fed} bytes fed before the run stopped");
    crate::util::Output::from(out)
}

#[test]
fn an_endless_stream_read_as_json_lines_stops_at_its_first_bad_line() {
    // `yes | neardup scan --format jsonl -` read 2.5 GB (a quarter of
    // memory) before `too large`: line 1 is no JSON, and that is the error.
    let dir = tempdir();
    let d = dir.path();
    let args = ["scan", "-q", "--format", "jsonl", "-"];
    let out = endless_stdin(d, &args, b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert_says(&out, "<stdin>:1: invalid JSON at column 1");
    let good = b"{\"id\":1,\"text\":\"a b c d\"}\n\n".to_vec();
    let out = endless_stdin(d, &args, &good);
    assert_eq!(out.code, 2, "{out:?}");
    assert_says(&out, "<stdin>:3: invalid JSON at column 1");
    // The first error of what was read is told: a record before the line.
    let bad = [&good[..], b"{\"id\":2}\n"].concat();
    let out = endless_stdin(d, &args, &bad);
    assert_eq!(out.code, 2, "{out:?}");
    assert_says(&out, "<stdin>:3: record has no \"text\" field");
}

#[test]
fn a_json_lines_file_whose_tail_is_zeros_stops_at_its_first_bad_line() {
    // What a crash leaves of a log (ext4 keeps the size, not the data) or a
    // preallocated file: the zeros are no record from their first byte, but
    // a mapped file was read whole before the error (1 GB resident at
    // --memory-limit 64M), and a sparse one of a terabyte never ended.
    let dir = tempdir();
    let d = dir.path();
    let good = b"{\"id\":1,\"text\":\"a b c d\"}\n\n".to_vec();
    for (head, want) in [
        (
            &b""[..],
            "z.jsonl:1: a NUL byte at byte offset 0 (column 1)",
        ),
        (
            &good[..],
            "z.jsonl:3: a NUL byte at byte offset 27 (column 1)",
        ),
        // The first error of what was read is told: a record before it.
        (
            &[&good[..], b"{\"id\":2}\n"].concat()[..],
            "z.jsonl:3: record has no \"text\" field",
        ),
    ] {
        let path = d.join("z.jsonl");
        std::fs::write(&path, head).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        // Sparse: no disk is taken.
        file.set_len(1 << 40).unwrap();
        drop(file);
        for limit in [&[][..], &["--memory-limit", "64M", "--tmp-dir", "."][..]] {
            for args in [&["scan", "-q"][..], &["clean", "-q", "-o", "o.jsonl"][..]] {
                let args: Vec<&str> = args
                    .iter()
                    .chain(limit)
                    .copied()
                    .chain(["z.jsonl"])
                    .collect();
                let out = crate::util::run_or_hang(d, &args);
                let err = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
                assert!(err.contains(want), "{args:?}: {err}");
                assert!(!d.join("o.jsonl").exists(), "{args:?}");
            }
        }
    }
}
