"""Shared fixtures: the CLI built by cargo (to compare with), and the repository's
test data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SHARED = ROOT.parent / "shared" / "corpora"
BODY = "A paragraph long enough to be judged on its own words, as any other."


def _binary() -> Path:
    given = os.environ.get("NEARDUP_BIN")
    if given:
        return Path(given)
    for profile in ("debug", "release"):
        path = ROOT / "target" / profile / "neardup"
        if path.exists():
            return path
    raise RuntimeError(
        "no neardup binary to compare with: run `cargo build` first (or set NEARDUP_BIN)"
    )


class Cli:
    """The neardup binary, run with a cleared environment."""

    def __init__(self, path: Path):
        self.path = path

    def run(self, *args, stdin: bytes = b"", check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(self.path), *map(str, args)],
            input=stdin,
            capture_output=True,
            env={"PATH": os.environ.get("PATH", "")},
        )
        if check and done.returncode not in (0, 1):
            raise AssertionError(f"neardup {args}: exit {done.returncode}: {done.stderr.decode()}")
        return done

    def clean(self, path, *args, tmp: Path) -> tuple:
        """`neardup clean PATH -o OUT --report REPORT --json ARGS`: the cleaned
        bytes and the report's JSON text."""
        out, report = tmp / "cli-out", tmp / "cli-report.json"
        self.run("clean", path, "-o", out, "--report", report, "--json", "-q", *args)
        return out.read_bytes(), report.read_text()


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(_binary())


def read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, records: list) -> None:
    """The records as the package hands them to the engine."""
    with open(path, "wb") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")


def python(code: str, cwd: Path, *argv: str, timeout=60, prelude="") -> subprocess.CompletedProcess:
    """`code` (after `prelude`) in a Python of its own, in `cwd`, given
    `argv`; a hang fails the test."""
    try:
        return subprocess.run(
            [sys.executable, "-c", prelude + code, *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung (more than {timeout} s):\n{code}\n{e.stdout}\n{e.stderr}")
