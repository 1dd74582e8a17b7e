"""`sendwell templates …` and `campaigns create --markdown --template` as a user runs them, on SQLite and
PostgreSQL: one-line errors, --json, and the campaign's preview in its layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SENDWELL = [sys.executable, "-m", "sendwell.cli"]


@pytest.fixture
def run(db_url, tmp_path):
    env = {**os.environ, "SENDWELL_DATABASE_URL": db_url, "COLUMNS": "200", "SENDWELL_DKIM_DIR": str(tmp_path)}

    def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*SENDWELL, *args], input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
        )

    return _run


def test_templates_from_the_command_line(run, tmp_path):
    (tmp_path / "brand.html").write_text('<div class="brand">Hello {{ first_name }}</div>{{ content }}')
    (tmp_path / "bad.html").write_text("<div>no slot</div>")
    (tmp_path / "news.md").write_text("# Winter\n\nAll *new*.\n")
    (tmp_path / "people.csv").write_text("email,first_name\nann@example.com,Ann\n")
    assert run("contacts", "import", "people.csv").returncode == 0

    r = run("templates", "list", "--json")
    assert [t["name"] for t in json.loads(r.stdout)] == ["newsletter", "simple"]
    r = run("templates", "create", "bad", "--html", "bad.html")
    assert r.returncode == 2 and r.stderr.strip() == "error: --html: has no {{ content }}: put it where the " + (
        "campaign's body goes"
    )
    r = run("templates", "create", "brand", "--html", "brand.html", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["name"] == "brand"
    r = run("templates", "preview", "brand", "--part", "text")
    assert r.stdout.startswith("Hello Ada\n\nThe campaign's body goes here")

    r = run(
        "campaigns",
        "create",
        "w",
        "--subject",
        "s",
        "--from",
        "a@example.com",
        "--markdown",
        "news.md",
        "--template",
        "nope",
    )
    assert r.returncode == 2 and "template 'nope' does not exist (`sendwell templates list`)" in r.stderr
    r = run(
        "campaigns",
        "create",
        "w",
        "--subject",
        "s",
        "--from",
        "a@example.com",
        "--markdown",
        "news.md",
        "--template",
        "brand",
    )
    assert r.returncode == 0, r.stderr
    r = run("campaigns", "preview", "w", "--part", "html")
    assert r.stdout.startswith('<div class="brand">Hello Ann</div><h1>Winter</h1>\n<p>All <em>new</em>.</p>')
    r = run("campaigns", "preview", "w", "--part", "text")
    assert "Hello Ann" in r.stdout and "Winter" in r.stdout

    r = run("templates", "delete", "brand")
    assert r.returncode == 2 and "used by 1 campaign(s): 'w'" in r.stderr
    assert run("campaigns", "edit", "w", "--no-template").returncode == 0
    assert run("templates", "delete", "brand").returncode == 0
    r = run("campaigns", "preview", "w", "--part", "html")
    assert r.stdout.startswith("<h1>Winter</h1>")
