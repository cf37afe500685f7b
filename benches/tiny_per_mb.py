#!/usr/bin/env python3
"""Time per MB of tiny documents against ordinary ones, whole and in chunks.

Issue 14 item 9 / issue 18 item 5: short documents must cost about what their
bytes cost. Writes benches/bounds.py's inputs (seed 14) to a temporary
directory and runs `neardup scan -q [--memory-limit L --tmp-dir SPOOL] INPUT`
three times per cell under /usr/bin/time; prints medians of wall and CPU
(user + sys) time per MB and the peak RSS as a Markdown table.

    python3 benches/tiny_per_mb.py target/release/neardup [--runs 3] [--limits none,64M,128M,1G]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bounds  # noqa: E402


def one(binary, path, extra, spool_root):
    cmd = ["/usr/bin/time", "-f", "%e %U %S %M", binary, "scan", "-q", *extra]
    if extra:
        cmd += ["--tmp-dir", tempfile.mkdtemp(dir=spool_root)]
    cmd.append(path)
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall, user, system, rss = p.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(rss) // 1024, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limits", default="none,64M,128M,1G")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    with tempfile.TemporaryDirectory() as d:
        inputs = bounds.make_inputs(d)
        chosen = {
            "ordinary": inputs["ordinary 2k x 300 words"][0],
            "one-line": inputs["tiny 100k one-line"][0],
            "six-word": inputs["tiny 300k six-word"][0],
        }
        print("| input | limit | MB | wall ms/MB | CPU ms/MB | peak MiB | exit |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for limit in args.limits.split(","):
            extra = [] if limit == "none" else ["--memory-limit", limit]
            for name, path in chosen.items():
                mb = os.path.getsize(path) / 1e6
                rs = [one(binary, path, extra, d) for _ in range(args.runs)]
                wall = statistics.median(r[0] for r in rs)
                cpu = statistics.median(r[1] for r in rs)
                print(f"| {name} | {limit} | {mb:.1f} | {wall * 1000 / mb:.0f} | "
                      f"{cpu * 1000 / mb:.0f} | {max(r[2] for r in rs)} | "
                      f"{max(r[3] for r in rs)} |", flush=True)


if __name__ == "__main__":
    main()
