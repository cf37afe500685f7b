#!/usr/bin/env python3
"""Median wall time of neardup builds, run by turns (the machine is shared).

    python3 benches/interleave.py RUNS BIN_A,BIN_B,... FILE_A,FILE_B,... [ARGS...]

Runs `BIN ARGS FILE` (ARGS default: `scan -q`) RUNS times for each build and
file, the builds taking turns, timing each run whole with `perf_counter`
(finer than /usr/bin/time's 10 ms); prints the median in ms and ms per MB of
the file.
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    runs = int(sys.argv[1])
    builds = sys.argv[2].split(",")
    files = sys.argv[3].split(",")
    args = sys.argv[4:] or ["scan", "-q"]
    times = {}
    for _ in range(runs):
        for f in files:
            for b in builds:
                start = time.perf_counter()
                subprocess.run([b, *args, f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times.setdefault((f, b), []).append(time.perf_counter() - start)
    for f in files:
        mb = os.path.getsize(f) / 1e6
        for b in builds:
            ms = statistics.median(times[(f, b)]) * 1000
            print(f"{os.path.basename(f):<16} {os.path.basename(b):<16} {ms:.1f} ms  {ms / mb:.2f} ms/MB")


if __name__ == "__main__":
    main()
