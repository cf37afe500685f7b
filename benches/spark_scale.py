#!/usr/bin/env python3
"""The Spark job's scaling in local mode, and what it shuffles.

    python3 benches/spark_scale.py CORPUS.jsonl [--runs 3] [--masters 'local[1]' 'local[2]']

Needs the `neardup` package (pip install ./python) and pyspark. For each
master, a fresh Spark session cleans CORPUS `--runs` times; prints the median
wall time of `neardup.spark.clean` (session start-up not counted), the bytes
every stage wrote to and read from the shuffle (Spark's REST API), per input
byte, and the rows of the tables the driver decided over. Compare with
`neardup clean CORPUS -o OUT` on the same machine (printed too when
NEARDUP_BIN is set)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def stages(ui: str, app: str):
    with urllib.request.urlopen(f"{ui}/api/v1/applications/{app}/stages?status=complete") as r:
        return json.load(r)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    # Workers run this Python (with the package), as `python -m neardup.spark` has them.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from neardup import spark as neardup_spark

    size = os.path.getsize(args.corpus)
    out = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    binary = os.environ.get("NEARDUP_BIN")
    if binary:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([binary, "clean", args.corpus, "-o", out], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"CLI: median {statistics.median(times):.2f} s over {args.runs} runs")
    for master in args.masters:
        spark = (
            SparkSession.builder.master(master)
            .appName("neardup bench")
            .config("spark.ui.enabled", "true")
            .config("spark.ui.port", "4050")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        times = []
        figures = {}
        for _ in range(args.runs):
            start = time.perf_counter()
            figures = neardup_spark.clean(spark, [args.corpus], out, {}, partitions=args.partitions, quiet=True)
            times.append(time.perf_counter() - start)
        sc = spark.sparkContext
        time.sleep(2)  # the status store catches up
        done = stages(sc.uiWebUrl, sc.applicationId)
        # One run's stages: the last run's (stage ids grow).
        per_run = len(done) // args.runs
        last = sorted(done, key=lambda s: s["stageId"])[-per_run:]
        written = sum(s.get("shuffleWriteBytes", 0) for s in last)
        read = sum(s.get("shuffleReadBytes", 0) for s in last)
        results = sum(s.get("outputBytes", 0) for s in last)
        print(
            f"{master}: median {statistics.median(times):.2f} s over {args.runs} runs "
            f"({', '.join(f'{t:.2f}' for t in times)}), {figures['partitions']} partitions"
        )
        print(
            f"  shuffle written {written:,} bytes ({written / size:.2f} per input byte), "
            f"read {read:,}; input {size:,} bytes; outputBytes {results}"
        )
        for s in sorted(last, key=lambda s: s["stageId"]):
            if s.get("shuffleWriteBytes", 0):
                print(f"    stage {s['stageId']}: {s['name'][:60]}: {s['shuffleWriteBytes']:,} bytes written")
        print(
            "  driver tables: "
            + ", ".join(f"{k} {figures[k]:,}" for k in ("candidate_pairs", "pair_documents", "shared_blocks", "repeats", "blocks"))
        )
        spark.stop()
    os.unlink(out)


if __name__ == "__main__":
    sys.exit(main())
