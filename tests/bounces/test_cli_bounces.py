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


def _sendwell() -> str:
    import shutil
    import sys

    return shutil.which("sendwell", path=str(Path(sys.executable).parent)) or "sendwell"


def test_the_executable_classifies_without_the_cli_framework_and_in_input_order(tmp_path):
    """The real executable's fast path (forked workers past 200 files) prints what the Typer command prints,
    line for line in input order, and still fails on an unreadable file after the others."""
    import subprocess

    files = sorted(FIXTURES.glob("*.eml"))
    names = [str(f) for f in files] * (1 + 450 // len(files))
    names.insert(len(names) // 2, str(tmp_path / "gone.eml"))
    run = subprocess.run(
        [_sendwell(), "bounces", "classify"],
        input="".join(n + "\n" for n in names),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "gone.eml: cannot read" in run.stderr
    fast = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["file"] for line in fast] == [n for n in names if not n.endswith("gone.eml")]
    typer = CliRunner().invoke(app, ["bounces", "classify", *[str(f) for f in files]])
    assert fast[: len(files)] == [json.loads(line) for line in typer.stdout.splitlines()]
    help_run = subprocess.run(
        [_sendwell(), "bounces", "classify", "--help"], capture_output=True, text=True, timeout=60
    )
    assert help_run.returncode == 0 and "--details" in help_run.stdout  # options it does not know: Typer answers


def test_the_executable_classifies_many_files_in_input_order_over_forked_workers(tmp_path):
    import subprocess
    import sys

    files = sorted(FIXTURES.glob("*.eml")) * 3  # past the 200 files from which the list is split over workers
    missing = tmp_path / "gone.eml"
    names = [str(f) for f in files] + [str(missing)]
    exe = Path(sys.executable).with_name("sendwell")
    done = subprocess.run([str(exe), "bounces", "classify"], input="\n".join(names), capture_output=True, text=True)
    assert done.returncode == 1  # one file could not be read; the others were all classified
    assert [json.loads(line)["file"] for line in done.stdout.splitlines()] == names[:-1]
    assert "gone.eml" in done.stderr
