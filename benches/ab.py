#!/usr/bin/env python3
"""A/B of neardup builds, alternated in the same minutes (the machine is shared).

    python3 benches/ab.py BIN_A[+ARGS],BIN_B[+ARGS] RUNS [CORPUS]

Runs `BIN clean -v [ARGS] CORPUS > /dev/null` RUNS times per build, the builds
taking turns, and prints per build the median wall time, the largest peak RSS
(`/usr/bin/time`) and the median of each stage `-v` reports. Extra arguments
are joined to a build's path with `+` (`target/release/neardup+--level+docs`).
CORPUS defaults to target/eval/corpus10k.jsonl (benches/make_corpus.py).
"""
import re
import statistics
import subprocess
import sys
import time


def main():
    builds = sys.argv[1].split(",")
    runs = int(sys.argv[2])
    corpus = sys.argv[3] if len(sys.argv) > 3 else "target/eval/corpus10k.jsonl"
    results = {b: [] for b in builds}
    for _ in range(runs):
        for build in builds:
            binary, *extra = build.split("+")
            started = time.time()
            proc = subprocess.run(
                ["/usr/bin/time", "-f", "PEAK %M", binary, "clean", "-v", *extra, corpus],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=True,
            )
            wall = time.time() - started
            stages = dict(
                re.findall(r"(read|sketch|documents|blocks|runs|write|total) ([0-9.]+)s", proc.stderr)
            )
            peak = int(re.search(r"PEAK (\d+)", proc.stderr).group(1)) // 1024
            results[build].append((wall, peak, stages))
    for build, rows in results.items():
        stages = " ".join(
            f"{k} {statistics.median(float(r[2][k]) for r in rows):.3f}" for k in rows[0][2]
        )
        wall = statistics.median(r[0] for r in rows)
        peak = max(r[1] for r in rows)
        print(f"{build}: wall {wall:.3f} s, peak {peak} MiB; {stages}")


if __name__ == "__main__":
    main()
