"""`sendwell bounces classify`: paths in, one JSON line out per file, as the corpus scorer reads it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sendwell.cli.app import app

FIXTURES = Path(__file__).parent / "fixtures"


def test_classify_reads_paths_from_stdin_and_prints_json_lines(tmp_path):
    files = sorted(FIXTURES.glob("*.eml"))[:5]
    result = CliRunner().invoke(app, ["bounces", "classify"], input="".join(f"{f}\n" for f in files))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    for line in lines:
        assert {"file", "recipients", "status", "reason", "hard", "kind"} <= set(line)
        assert isinstance(line["hard"], bool)


def test_classify_details_and_unreadable_file(tmp_path):
    good = sorted(FIXTURES.glob("*.eml"))[0]
    missing = tmp_path / "gone.eml"
    result = CliRunner().invoke(app, ["bounces", "classify", "--details", str(good), str(missing)])
    assert result.exit_code == 1
    line = json.loads(result.stdout.splitlines()[0])
    assert "details" in line and "original" in line
    assert "gone.eml" in result.stderr


def test_bounces_group_is_importable_for_other_commands():
    from sendwell.cli.bounces import app as group

    assert {c.name for c in group.registered_commands} >= {"classify"}
