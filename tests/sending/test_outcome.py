"""The SMTP reply → status table: every row is reachable, the doc lists every row, outages are never `error`."""

from pathlib import Path

import pytest

from sendwell.model import FailureKind as K
from sendwell.model import RecipientStatus as S
from sendwell.sending.outcome import RULES, Problem, Reply, Stage, classify, exhausted, render_rule

DOC = Path(__file__).resolve().parents[2] / "docs" / "statuses.md"

# (reply, expected status, expected kind): at least one example per row of RULES.
CASES = [
    (Reply(Stage.EOD, 250, "2.0.0", "queued"), S.SENT, None),
    (Reply(Stage.CONNECT, problem=Problem.REFUSED), S.DEFERRED, K.SERVER),
    (Reply(Stage.RCPT, problem=Problem.RESET), S.DEFERRED, K.SERVER),
    (Reply(Stage.EOD, problem=Problem.TIMEOUT), S.DEFERRED, K.SERVER),
    (Reply(Stage.STARTTLS, problem=Problem.TLS), S.DEFERRED, K.SERVER),
    (Reply(Stage.CONNECT, problem=Problem.PROTOCOL), S.DEFERRED, K.SERVER),
    (Reply(Stage.RCPT, 421, "4.3.2", "closing"), S.DEFERRED, K.SERVER),
    (Reply(Stage.AUTH, 535, "5.7.8", "bad credentials"), S.DEFERRED, K.SERVER),
    (Reply(Stage.MAIL, 550, "5.7.1", "sender rejected"), S.DEFERRED, K.SERVER),
    (Reply(Stage.HELO, 554, None, "go away"), S.DEFERRED, K.SERVER),
    (Reply(Stage.RCPT, 550, "5.1.1", "no such user"), S.ERROR, K.RECIPIENT),
    (Reply(Stage.RCPT, 550, "5.1.10", "null MX"), S.ERROR, K.RECIPIENT),
    (Reply(Stage.RCPT, 550, "5.2.1", "disabled"), S.ERROR, K.RECIPIENT),
    (Reply(Stage.RCPT, 550, "5.4.4", "unroutable"), S.ERROR, K.RECIPIENT),
    (Reply(Stage.RCPT, 550, None, "mailbox unavailable"), S.ERROR, K.RECIPIENT),
    (Reply(Stage.RCPT, 452, "4.2.2", "mailbox full"), S.DEFERRED, K.MAILBOX_FULL),
    (Reply(Stage.RCPT, 552, "5.2.2", "over quota"), S.DEFERRED, K.MAILBOX_FULL),
    (Reply(Stage.RCPT, 451, "4.7.1", "greylisted"), S.DEFERRED, K.THROTTLED),
    (Reply(Stage.RCPT, 550, "5.7.1", "spam"), S.FAILED, K.POLICY),
    (Reply(Stage.DATA, 552, "5.3.4", "too big"), S.FAILED, K.POLICY),
    (Reply(Stage.EOD, 554, None, "transaction failed"), S.FAILED, K.POLICY),
    (Reply(Stage.RCPT, 450, "4.1.1", "try later"), S.DEFERRED, K.OTHER),
    (Reply(Stage.RCPT, 554, "5.0.0", "nope"), S.FAILED, K.OTHER),
    (Reply(Stage.DATA, 354, None, "odd"), S.DEFERRED, K.SERVER),
]


@pytest.mark.parametrize(
    ("reply", "status", "kind"), CASES, ids=[f"{c[0].stage}-{c[0].code}-{c[0].enhanced}-{c[0].problem}" for c in CASES]
)
def test_reply_maps_to_status_and_kind(reply, status, kind):
    got = classify(reply)
    assert (got.status, got.kind) == (status, kind)


def test_every_row_of_the_table_is_exercised():
    used = {classify(reply).rule for reply, _, _ in CASES}
    assert used == set(range(len(RULES))), f"rows without an example: {set(range(len(RULES))) - used}"


@pytest.mark.parametrize("stage", list(Stage))
@pytest.mark.parametrize("problem", list(Problem))
def test_connection_problems_never_mark_the_address_bad(stage, problem):
    assert classify(Reply(stage, problem=problem)).status is S.DEFERRED


@pytest.mark.parametrize("stage", [Stage.CONNECT, Stage.HELO, Stage.STARTTLS, Stage.AUTH, Stage.MAIL])
@pytest.mark.parametrize("code,enhanced", [(550, "5.1.1"), (421, None), (554, "5.7.1"), (451, "4.3.0"), (530, "5.7.0")])
def test_answers_before_rcpt_are_about_our_server(stage, code, enhanced):
    got = classify(Reply(stage, code, enhanced, "x"))
    assert (got.status, got.kind) == (S.DEFERRED, K.SERVER)


def test_exhausted_retries_fail_without_blaming_the_address():
    assert exhausted(K.SERVER) == (S.FAILED, K.SERVER)
    assert exhausted(K.MAILBOX_FULL) == (S.FAILED, K.MAILBOX_FULL)
    assert all(status is not S.ERROR for status, _ in map(exhausted, list(K)))


def test_docs_list_every_row_of_the_table():
    doc = DOC.read_text(encoding="utf-8")
    missing = [render_rule(r) for r in RULES if render_rule(r) not in doc]
    assert not missing, "docs/statuses.md is missing rows:\n" + "\n".join(missing)
