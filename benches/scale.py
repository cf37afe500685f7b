#!/usr/bin/env python3
"""Time and peak memory of neardup (and the peers, where they finish) as the
corpus grows, and neardup's speed-up from 1 to 2 threads.

    python3 benches/scale.py [--bin BIN] [--runs 3] [--peer-limit 600] SIZE...

Each SIZE is a document count (`10k`, `100k`, `1M`) or a size in bytes (`1GB`);
its corpus is made by benches/make_corpus.py (--docs N or --bytes N) under
target/eval/ and deleted after use (a GB-sized corpus takes much of a shared
disk). Per size, in alternating rounds: `BIN clean -v --threads 1 CORPUS`,
`BIN clean -v --threads 2 CORPUS` (output to a file next to the corpus, also
deleted) and, where the peer venv of benches/compare.py exists, gaoya and rensa
at 128 permutations (the peers' usual setting) with a time limit of
--peer-limit seconds (a peer past it is reported as not finished and not run
again at larger sizes). Prints one Markdown row per size: medians of wall time,
the largest peak RSS (`/usr/bin/time`), neardup's stage medians at 2 threads,
the 1 -> 2 thread speed-up, and the load average when the size started.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benches"))
import compare  # noqa: E402  (the peers' runners and venv)

STAGES = ("read", "sketch", "documents", "blocks", "runs", "write")


def corpus_args(size):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)([bB]?)", size.replace("B", "b"))
    if not m:
        raise SystemExit(f"bad size {size!r}: use e.g. 10k, 1M or 1GB")
    n, unit, is_bytes = int(m.group(1)), m.group(2).lower(), m.group(3)
    n *= {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}[unit]
    return ["--bytes", str(n)] if is_bytes else ["--docs", str(n)]


def timed(cmd, limit=None):
    """(wall s, peak MiB, stderr), or None past `limit` seconds."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        try:
            proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", stats.name, *cmd],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  timeout=limit)
        except subprocess.TimeoutExpired:
            return None
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {proc.stderr[-1000:]}")
        peak = int(stats.read().strip().splitlines()[-1]) // 1024
        return wall, peak, proc.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="+")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "neardup"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peer-limit", type=float, default=600)
    ap.add_argument("--peers", default="gaoya,rensa")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p] if os.path.exists(compare.PY) else []
    work = tempfile.mkdtemp()
    scripts = {}
    for peer in peers:
        scripts[peer] = os.path.join(work, f"run_{peer}.py")
        with open(scripts[peer], "w") as f:
            f.write(compare.PRELUDE + compare.RUNNERS[peer].replace("PERM", "128")
                    .replace("BANDS", "16") + compare.EPILOGUE)
    print("| corpus | documents | MB | neardup 2 threads s | peak RSS MiB | MB/s | "
          + " | ".join([*STAGES, "1 thread s", "1 -> 2 speed-up",
                        *(f"{p} 128 perm s (peak MiB)" for p in peers), "load at start"]) + " |")
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|"
          + "---:|" * len(peers) + "---|", flush=True)
    gave_up = set()
    for size in args.sizes:
        corpus = os.path.join(ROOT, "target", "eval", f"scale-{size}.jsonl")
        out = corpus + ".out"
        subprocess.run([sys.executable, os.path.join(ROOT, "benches", "make_corpus.py"),
                        *corpus_args(size), "--seed", "2", "--out", corpus],
                       check=True, stdout=subprocess.DEVNULL)
        load = open("/proc/loadavg").read().split()[:3]
        docs = sum(1 for _ in open(corpus, "rb"))
        mb = os.path.getsize(corpus) / 1e6
        runs = {1: [], 2: []}
        peer_runs = {p: [] for p in peers}
        for _ in range(args.runs):
            for threads in (1, 2):
                runs[threads].append(timed([args.bin, "clean", "-v", "--threads", str(threads),
                                            "-o", out, corpus]))
            for peer in peers:
                if peer in gave_up:
                    continue
                r = timed([compare.PY, scripts[peer], corpus, out + ".edges"], args.peer_limit)
                if r is None:
                    gave_up.add(peer)
                else:
                    peer_runs[peer].append(r)
        for path in (corpus, out, out + ".edges"):
            if os.path.exists(path):
                os.remove(path)
        wall = {t: statistics.median(r[0] for r in rows) for t, rows in runs.items()}
        peak = max(r[1] for r in runs[2])
        stages = []
        for stage in STAGES:
            values = [float(m.group(1)) for r in runs[2]
                      for m in [re.search(rf"\b{stage} ([0-9.]+)s", r[2])] if m]
            stages.append(f"{statistics.median(values):.2f}" if values else "")
        cells = []
        for peer in peers:
            rows = peer_runs[peer]
            if rows:
                cells.append(f"{statistics.median(r[0] for r in rows):.2f} "
                             f"({max(r[1] for r in rows)})")
            else:
                cells.append(f"not finished in {args.peer_limit:.0f} s" if peer in gave_up
                             else "not run")
        print(f"| {size} | {docs:,} | {mb:.0f} | {wall[2]:.2f} | {peak} | {mb / wall[2]:.1f} | "
              + " | ".join([*stages, f"{wall[1]:.2f}", f"{wall[1] / wall[2]:.2f}x", *cells,
                            " ".join(load)]) + " |", flush=True)


if __name__ == "__main__":
    main()
