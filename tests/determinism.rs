//! Same input, same bytes out: every golden case at 1, 2 and 8 threads, with and
//! without memory maps, compared byte for byte (never sorted first).

use crate::golden::{cases, outputs};

#[test]
fn thread_count_and_mmap_do_not_change_any_output() {
    for case in cases() {
        let baseline = outputs(&case, &["--threads", "1", "--no-mmap"]);
        for flags in [
            ["--threads", "1", "--mmap"],
            ["--threads", "2", "--mmap"],
            ["--threads", "8", "--no-mmap"],
        ] {
            let other = outputs(&case, &flags);
            assert!(
                other == baseline,
                "{} differs with {flags:?}",
                case.display()
            );
        }
    }
}

#[test]
fn repeated_runs_give_the_same_bytes() {
    let case = &cases()[0];
    let first = outputs(case, &["--threads", "2"]);
    for _ in 0..3 {
        assert!(outputs(case, &["--threads", "2"]) == first);
    }
}
