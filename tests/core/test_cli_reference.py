"""docs/cli.md is the generated reference of every command: a new or changed command must be documented."""

from pathlib import Path

from sendwell.cli.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_up_to_date():
    assert DOC.read_text() == render(), "regenerate it: python -m sendwell.cli.reference > docs/cli.md"
