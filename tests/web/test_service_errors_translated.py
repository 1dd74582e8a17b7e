"""Every error sentence a service can put on a web page is in web/ui/messages.py's table, so a Vietnamese page
never shows it in English: the services' `UserError(...)`/`NotFound(...)` calls are found in the source (with
`ast`, outside cli/), each message is made into a sample sentence, and the table must translate it. A sentence the
web UI cannot show is listed below with the reason; a new service message fails here until it is one or the other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sendwell
from sendwell.sending.control import TRANSITIONS
from sendwell.web.i18n import translations
from sendwell.web.ui.messages import translate

SRC = Path(sendwell.__file__).resolve().parent
ERRORS = {"UserError", "NotFound", "WebhookError"}  # sendwell.errors' classes and their subclasses
VI = translations("vi")

# Files whose messages no web page shows, by the front end that reaches them.
NOT_IN_THE_WEB_UI: dict[str, str] = {
    # The operator's own tools, run from the command line (or logged by the worker, not shown on a page): reading
    # bounces from a mailbox or files, the database migration, the disposable-domain override file.
    "bounces/imap.py": "CLI: bounces are read from the mailbox by the command line or the worker's log",
    "bounces/ingest.py": "CLI: bounce files are read from the command line",
    "db/migrate.py": "CLI: migrations run from the command line",
    "verify/lists.py": "CLI: the override file is the operator's configuration, read by `verify`",
    # The API's own handlers (the web UI has its own handlers and forms for the same nouns).
    "web/api/blacklist.py": "API only",
    "web/api/verify.py": "API only",
}

# Single sentences no web page shows, though their file has others a page does show.
NOT_SHOWN: dict[str, str] = {
    # API tokens and users are managed from the command line (and tokens through the API); the web UI only logs
    # in and chooses the user's own language.
    "must be 1 to x characters": "CLI/API: a token's name",
    "must be more than 0 and at most x": "CLI/API: a token's lifetime",
    "token 'x': no live token with this id or name": "CLI/API: revoking a token",
    "must be at least x characters": "CLI: a user's password",
    "user 'x' already exists; change its password instead": "CLI: creating a user",
    # DKIM keys are generated, listed and activated from the command line (a broken key folder, which the set-up
    # check and sending meet, is in the table).
    "'x': not a valid DNS name (letters, digits, hyphens and dots)": "CLI: a domain for a new DKIM key",
    "'x': give the full domain, e.g. example.com": "CLI: a domain for a new DKIM key",
    "x: use 2048 (1024 is the minimum receivers accept, 4096 the useful maximum)": "CLI: a new DKIM key's size",
    "x: a key with selector 'x' already exists in x; choose another selector (rotate by publishing the new one "
    "first)": "CLI: a new DKIM key's selector",
    "x: no DKIM key with selector 'x' in x": "CLI: activating or showing a DKIM key",
    # The API's PATCH takes any field name; the web forms send only the fields they show.
    "cannot edit x": "API: an unknown field in a campaign's PATCH",
    "cannot change x": "API: an unknown field in a subscription form's PATCH",
    # COLUMN=FIELD pairs are typed on the command line (--map) or sent to the API; the web import has selects.
    "x'x' is not COLUMN=FIELD": "CLI/API: a column mapping",
}

# Messages that are variables, or whose placeholders hold the sentence's structure: a realistic sentence for each
# sample (the services' own words in the placeholders), so the table is checked on what a page really shows.
REALISTIC: dict[str, str] = {
    "'x': x": "'x@': missing domain after '@'",
    "x: x": "a@example.com: not on the black list and never was",
    "x; choose from x": "'sentt' is not a status; choose from sent, error, failed",
    "campaign 'x' is x: cannot x it": "campaign 'spring' is finished: cannot pause it",
    "template errorx: x": "template error: 'name' is undefined",
    "[sending] timezone: x": "[sending] timezone: 'Mars/Base' is not a time zone (e.g. UTC, Europe/Paris, "
    "Asia/Ho_Chi_Minh)",
}
# Messages built from a variable alone, checked where the variable's sentences are written.
VARIABLE_ONLY = {
    "campaigns.py:refuse_tracking": "the tracking refusal: its sentence is a TABLE row ('tracking needs …')",
    "schedule.py:what": "[sending] timezone: checked through REALISTIC above",
}
# Sentences a page shows that no single literal spells out: the status parser's other forms
# (sendwell.model.parse_statuses) and a relay URL as the set-up check reports it (sendwell.setupcheck).
MORE = [
    "'sentt', 'errr' are not statuses; choose from sent, error",
    "no status given; choose from sent, error",
    "[smtp] urls: [smtp] url 'smtp://relay.example:x': bad port",
]


def _sample(node: ast.expr, value: str) -> str | None:
    """The message with each placeholder as `value` (as repr() when the f-string says !r); None for a variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            parts.append(str(part.value))
        elif isinstance(part, ast.FormattedValue):
            parts.append(repr(value) if part.conversion == ord("r") else value)
    return "".join(parts)


def _raised() -> list[tuple[str, int, ast.expr]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where.startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in ERRORS:
                    found.append((where, node.lineno, node.args[0]))
    return found


def _translated(sentence: str) -> bool:
    return translate(VI, sentence) != sentence


def test_the_scan_finds_the_services_messages() -> None:
    raised = _raised()
    samples = {_sample(arg, "x") for _, _, arg in raised}
    assert len(raised) > 100
    assert "campaign 'x' already exists" in samples and "must not be empty" in samples
    assert not any(where.startswith("cli/") for where, _, _ in raised)


def test_every_service_error_a_page_can_show_is_in_vietnamese() -> None:
    untranslated, variables = [], set()
    for where, line, arg in _raised():
        if where in NOT_IN_THE_WEB_UI:
            continue
        if _sample(arg, "x") is None:
            variables.add(f"{where}:{ast.unparse(arg)}")
            continue
        samples = [s for s in (_sample(arg, "x"), _sample(arg, "1")) if s is not None]
        if samples[0] in NOT_SHOWN:
            continue
        samples = [REALISTIC.get(s, s) for s in samples]
        if not any(_translated(s) for s in samples):
            untranslated.append(f"{where}:{line}: {samples[0]!r}")
    assert untranslated == [], "not in web/ui/messages.py's TABLE (or list it here as not shown):\n" + "\n".join(
        untranslated
    )
    assert variables == set(VARIABLE_ONLY)


@pytest.mark.parametrize("sentence", MORE)
def test_the_other_forms_of_a_sentence_are_in_vietnamese(sentence: str) -> None:
    assert _translated(sentence)


@pytest.mark.parametrize("action", sorted({action for _, action in TRANSITIONS}))
def test_each_refused_campaign_action_is_in_vietnamese_with_the_state_as_the_pages_call_it(action: str) -> None:
    shown = translate(VI, f"campaign 'spring' is cancelled: cannot {action} it")
    assert "'spring'" in shown and "đã hủy" in shown and "cannot" not in shown


def test_the_lists_of_exceptions_name_only_what_exists() -> None:
    raised = _raised()
    files = {where for where, _, _ in raised}
    assert set(NOT_IN_THE_WEB_UI) <= files
    samples = {_sample(arg, "x") for _, _, arg in raised}
    assert set(NOT_SHOWN) <= samples
    assert set(REALISTIC) <= samples


def test_an_error_page_is_in_the_readers_language(ui) -> None:
    page = ui.get("/campaigns/987654", headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    assert page.status_code == 404 and '<html lang="vi">' in page.text
    assert "chiến dịch 987654 không tồn tại" in page.text and "does not exist" not in page.text
