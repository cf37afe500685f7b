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


def _ms(stamp) -> float:
    """Milliseconds of a REST API time stamp (2026-12-03T17:50:20.123GMT)."""
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%Z").timestamp() * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--stages", action="store_true", help="print each stage's time and tasks")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local mode: the executors' too)")
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
            # Local mode runs the executors in the driver's JVM: its heap holds
            # the features Spark keeps (1g, Spark's default, is short of a
            # 100,000-document corpus's at 8 partitions).
            .config("spark.driver.memory", args.driver_memory)
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
        if args.stages:
            # Where the time goes: each stage's wall time (submission to
            # completion) and tasks, and what the job spent between stages.
            spans = []
            for s in sorted(last, key=lambda s: s["stageId"]):
                start, end = (_ms(s.get(k)) for k in ("submissionTime", "completionTime"))
                spans.append((start, end))
                print(
                    f"    stage {s['stageId']}: {end - start:7.0f} ms, {s['numTasks']:4} tasks, "
                    f"executor run {s.get('executorRunTime', 0):7} ms: {s['name'][:70]}"
                )
            covered = sum(e - s for s, e in spans)
            print(f"    stages {covered / 1000:.1f} s of the last run's {times[-1]:.1f} s (the rest: driver)")
        print(
            "  driver tables: "
            + ", ".join(f"{k} {figures[k]:,}" for k in ("candidate_pairs", "pair_documents", "shared_blocks", "repeats", "blocks"))
        )
        spark.stop()
    os.unlink(out)


if __name__ == "__main__":
    sys.exit(main())
