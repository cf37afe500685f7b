"""The package under a careless or hostile caller, session 34 (issue 14): what
failed with an exception of no documented kind. The whole pass is
benches/pyhostile.py (its `s34-` cases)."""

import json

import pytest

import neardup
from conftest import BODY


def test_a_record_with_a_carriage_return_between_its_fields_is_one_record(tmp_path, cli):
    # "\r" is JSON's whitespace: a line may hold one between two fields, and
    # `clean` copies a kept record's line as its input had it. The result's
    # records were cut at it (bytes.splitlines), a JSONDecodeError.
    lines = [
        '{"id": 1,\r"text": "' + BODY + '"}',
        '{"id": 2, "text": "' + BODY + '"}',
        '{"id": 3,\r\r"text": "Another paragraph, of words none of the others holds at all."}\r',
    ]
    path = tmp_path / "cr.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n")
    result = neardup.clean(paths=[path])
    assert [r["id"] for r in result.records] == [1, 3]
    assert result.output == cli.run("clean", path, "-q").stdout
    assert [json.loads(line) for line in result.output.split(b"\n") if line.strip()] == result.records


def test_a_merge_memory_limit_that_is_not_text_is_named(tmp_path):
    a = neardup.Index.build(tmp_path / "a.ndx", [BODY])
    b = neardup.Index.build(tmp_path / "b.ndx", [BODY + " more"])
    with pytest.raises(neardup.NeardupError, match="--memory-limit: .* lone surrogate"):
        a.merge(b, tmp_path / "c.ndx", memory_limit="1\ud800G")
    assert not (tmp_path / "c.ndx").exists()
