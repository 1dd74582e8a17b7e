"""One mistake, three front ends: the CLI names the flag, the API the JSON field (and a pointer to it), the web UI
outlines the form field and keeps what was typed. The service raised it once, naming the field."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

# (what is wrong, the service's field, the CLI flag, the form's label)
MISTAKES = [
    ({"subject": "   "}, "subject", "--subject", "Subject"),
    ({"text": None}, "html", "--html", "HTML body"),
    ({"from_addr": "not an address"}, "from_addr", "--from", "From"),
]
GOOD = {"name": "spring", "subject": "Hello", "from_addr": "Shop <shop@example.com>", "text": "Hi {{ first_name }}"}
CLI_OPTIONS = {"subject": "--subject", "from_addr": "--from", "text": "--text"}


def _cli_args(campaign: dict, tmp_path: Path) -> list[str]:
    args = ["campaigns", "create", campaign["name"]]
    for key, option in CLI_OPTIONS.items():
        if campaign.get(key) is None:
            continue
        value = campaign[key]
        if key == "text":  # the CLI reads bodies from files
            (tmp_path / "body.txt").write_text(value)
            value = str(tmp_path / "body.txt")
        args += [option, value]
    return args


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SENDWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}
    env.pop("SENDWELL_SMTP_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "sendwell.cli", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )


@pytest.mark.parametrize("change,field,flag,label", MISTAKES)
def test_the_cli_names_the_flag(tmp_path: Path, change: dict, field: str, flag: str, label: str) -> None:
    r = _cli(tmp_path, *_cli_args({**GOOD, **change}, tmp_path))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: {flag}: "), r.stderr
    assert "Traceback" not in r.stderr and f"{field}:" not in r.stderr.replace(flag, "")


def test_the_cli_turns_a_hint_into_a_command_and_prints_messages_as_written(tmp_path: Path) -> None:
    r = _cli(tmp_path, *_cli_args({**GOOD, "include": ["ghost"]}, tmp_path), "--segment", "ghost")
    assert r.stderr == "error: --segment: 'ghost': no such segment (`sendwell segments list`)\n"
    r = _cli(tmp_path, "campaigns", "send", "spring")  # the message holds "[smtp]": not console markup
    assert r.returncode == 2 and "[smtp] urls in sendwell.toml" in r.stderr


def test_the_api_names_the_field_but_no_command(api) -> None:
    r = api.post("/api/v1/campaigns", json={**GOOD, "include": ["ghost"]})
    assert r.json() == {"detail": "include: 'ghost': no such segment", "field": "include", "pointer": "/include"}


@pytest.mark.parametrize("change,field,flag,label", MISTAKES)
def test_the_api_names_the_json_field(api, change: dict, field: str, flag: str, label: str) -> None:
    r = api.post("/api/v1/campaigns", json={**GOOD, **change})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["field"] == field and body["pointer"] == f"/{field}"
    assert body["detail"].startswith(f"{field}: ") and "--" not in body["detail"]


class _Fields(HTMLParser):
    """The form controls and fieldsets of a page, by id, with their attributes (and a textarea's text)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.alert = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.by_id[a["id"]] = a | {"text": ""}
        self._in = a.get("id") if tag == "textarea" else ("alert" if a.get("role") == "alert" else None)

    def handle_data(self, data: str) -> None:
        if self._in == "alert":
            self.alert += data
        elif self._in:
            self.by_id[self._in]["text"] = (self.by_id[self._in]["text"] or "") + data

    def handle_endtag(self, tag: str) -> None:
        self._in = None


@pytest.mark.parametrize("change,field,flag,label", MISTAKES)
def test_the_form_outlines_the_field_and_keeps_the_input(ui, change: dict, field: str, flag: str, label: str) -> None:
    form = {k: ("" if v is None else v) for k, v in {**GOOD, **change}.items()}
    r = ui.post("/campaigns/new", form)
    assert r.status_code == 400
    page = _Fields()
    page.feed(r.text)
    bad = page.by_id[f"f-{field}"]
    assert "field-error" in (bad["class"] or "") and bad["aria-invalid"] == "true"
    assert bad["aria-describedby"] == "form-error" and page.by_id["form-error"]["role"] == "alert"
    assert page.alert.startswith(f"{label}: ") and "--" not in page.alert
    others = [i for i, a in page.by_id.items() if "field-error" in (a.get("class") or "")]
    assert others == [f"f-{field}"]
    for key in ("name", "subject", "from_addr"):  # what was typed is still there, as typed
        assert page.by_id[f"f-{key}"]["value"] == form[key]
    assert page.by_id["f-text"]["text"] == form["text"]
