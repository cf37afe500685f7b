//! What a run keeps resident of a mapped input while it writes its output
//! (session 23's hostile pass): pages written out are let go as it goes.

use crate::util::tempdir;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `neardup args...` in `dir` and gives its exit status and peak
/// resident set (KiB, `ru_maxrss` of that one child, file pages included).
// The child is reaped by wait4, for its own rusage, not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(dir: &Path, args: &[&str]) -> (i32, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for this child only.
    #[allow(unsafe_code)]
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &raw mut status, 0, &raw mut usage), pid);
        usage
    };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

/// 150 records each holding 1 MB besides a short text (150 MB), annotated
/// at `--memory-limit 64M`: the writer let go of the pages it had written
/// every 1024 records only, so all 150 MB stayed resident (file pages of the
/// input's mapping, 300 MB for 300 records). Now every 16 MiB too.
#[test]
fn pages_of_large_records_are_let_go_as_they_are_written() {
    let dir = tempdir();
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("fat.jsonl")).unwrap());
    let raw = "x".repeat(1 << 20);
    for i in 0..150 {
        writeln!(
            file,
            r#"{{"id":{i},"raw":"{raw}","text":"short text number {} here with a few words"}}"#,
            i % 30
        )
        .unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    let (code, kib) = run_measured(
        dir.path(),
        &[
            "clean",
            "-q",
            "--annotate",
            "--memory-limit",
            "64M",
            "--tmp-dir",
            ".",
            "fat.jsonl",
            "-o",
            "o.jsonl",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        kib < 100 << 10,
        "peak resident set {kib} KiB for a 150 MB input at 64M"
    );
    let out = std::fs::read_to_string(dir.path().join("o.jsonl")).unwrap();
    assert_eq!(out.lines().count(), 150);
    assert_eq!(out.matches(r#""neardup_duplicate":true"#).count(), 120);
}
