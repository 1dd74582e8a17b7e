"""The one parser of recipient statuses typed by a person: every name known, in order, once; a typo is an error
that names the field and lists the valid names, never an empty selection."""

from __future__ import annotations

import pytest

from sendwell.errors import UserError
from sendwell.model import RecipientStatus, parse_statuses

S = RecipientStatus
ALL = "queued, sent, deferred, error, failed, skipped, read, clicked"

GOOD = [
    ("error", [S.ERROR]),
    ("deferred,failed", [S.DEFERRED, S.FAILED]),
    (" Error , SENT ,", [S.ERROR, S.SENT]),  # spaces, case and a trailing comma forgiven
    ("error,error", [S.ERROR]),
    (["error", "deferred,failed"], [S.ERROR, S.DEFERRED, S.FAILED]),  # repeated form fields, one a comma list
    ([S.READ, "clicked"], [S.READ, S.CLICKED]),  # enum members pass through
]

BAD = [
    ("eror", "statuses: 'eror' is not a status; choose from " + ALL),
    ("error,bounced,lost", "statuses: 'bounced', 'lost' are not statuses; choose from " + ALL),
    ("", "statuses: no status given; choose from " + ALL),
    (" , ", "statuses: no status given; choose from " + ALL),
    ([], "statuses: no status given; choose from " + ALL),
]


@pytest.mark.parametrize("text,expected", GOOD)
def test_known_statuses_are_read_in_order_once_each(text, expected) -> None:
    assert parse_statuses(text) == expected


@pytest.mark.parametrize("text,message", BAD)
def test_a_typo_or_nothing_is_an_error_naming_the_field_and_the_valid_names(text, message) -> None:
    with pytest.raises(UserError) as err:
        parse_statuses(text)
    assert str(err.value) == message and err.value.field == "statuses"


def test_the_caller_names_its_field_and_may_narrow_the_choice() -> None:
    with pytest.raises(UserError) as err:
        parse_statuses("sent", field="status", allowed=(S.DEFERRED, S.FAILED))
    assert str(err.value) == "status: 'sent' is not a status; choose from deferred, failed"
    assert err.value.field == "status"
