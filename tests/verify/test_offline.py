"""Offline checks: the policy on third-party cases, typos, disposable and role addresses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sendwell.model import Verdict
from sendwell.verify.checks import OfflineChecker
from sendwell.verify.lists import DisposableList, is_role, parse_overrides
from sendwell.verify.typos import distance, suggest
from sendwell.verify.verdict import Reason, combine, verdict_of

FIXTURES = Path(__file__).parent / "fixtures"  # a sample of shared/addresses, see NOTICE.md
CASES = [json.loads(line) for line in (FIXTURES / "address_cases.jsonl").read_text(encoding="utf-8").splitlines()]
TYPOS = [json.loads(line) for line in (FIXTURES / "typos.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def checker() -> OfflineChecker:
    return OfflineChecker(disposable=DisposableList())


@pytest.mark.parametrize("case", CASES, ids=[ascii(c["address"])[:60] for c in CASES])
def test_third_party_case_judged_by_policy(checker, case):
    result = checker.check(case["address"])
    assert result.valid is case["valid_for_sending"], (result.detail, case["note"])
    assert (result.verdict is Verdict.INVALID) is (Reason.SYNTAX in result.reasons)


@pytest.mark.parametrize("case", TYPOS, ids=[ascii(t["address"])[:40] for t in TYPOS])
def test_typo_suggestion(checker, case):
    got = checker.check(case["address"]).suggestion
    if case["suggestion"] is None:
        assert got is None
    else:
        assert got is not None and got.lower() == case["suggestion"].lower()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ann@gmial.com", "ann@gmail.com"),
        ("ann@hotmial.con", "ann@hotmail.com"),
        ("ann@yahooo.com", "ann@yahoo.com"),
        ("Ann.Lee@GMAIL.CON", "Ann.Lee@gmail.com"),
        ("ann@shop.example.cmo", "ann@shop.example.com"),
        ("ann@example.co.uk", None),
        ("ann@gmx.com", None),
        ("ann@gmx.de", None),
        ("ann@yahoo.co.uk", None),
        ("ann@yahoo.ca", None),  # a country variant of a provider is not a typo
        ("ann@web.de", None),
        ("ann@example.museum", None),  # a rare but real TLD
        ("ann@example.thisisminekthx", None),  # unknown TLD, close to nothing
        ("ann@", None),
        ("@gmial.com", None),
    ],
)
def test_suggestions(checker, address, expected):
    assert checker.check(address).suggestion == expected
    assert suggest(address) == expected


def test_typo_makes_a_valid_address_risky_and_keeps_it():
    result = OfflineChecker(disposable=DisposableList(domains=())).check("ann@outlok.com")
    assert result.verdict is Verdict.RISKY and result.reasons == (Reason.TYPO_SUSPECTED,)
    assert result.key == "ann@outlok.com" and result.suggestion == "ann@outlook.com"


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("gmail", "gmial", 1),
        ("gmail", "gmila", 2),
        ("yahoo", "aho", 2),
        ("", "abc", 3),
        ("com", "com", 0),
        ("abc", "xyzxyz", 3),
    ],
)
def test_distance_counts_a_swap_as_one_edit(a, b, d):
    assert distance(a, b) == d


@pytest.mark.parametrize(
    ("local", "role"),
    [
        ("info", True),
        ("postmaster", True),
        ("noreply", True),
        ("no-reply", True),
        ("admin+news", True),
        ("ann", False),
        ("information", False),
    ],
)
def test_role_accounts(local, role):
    assert is_role(local) is role


def test_role_address_is_risky(checker):
    result = checker.check("Info@Example.com")
    assert result.verdict is Verdict.RISKY and result.reasons == (Reason.ROLE,)


def test_disposable_domain_and_its_subdomains_are_risky(checker):
    for address in ("ann@mailinator.com", "ann@eu.mailinator.com", "ann@MAILINATOR.com"):
        result = checker.check(address)
        assert result.verdict is Verdict.RISKY and Reason.DISPOSABLE in result.reasons, address
    assert checker.check("ann@gmail.com").verdict is Verdict.VALID


def test_override_file_adds_and_removes_disposable_domains(tmp_path):
    path = tmp_path / "disposable_domains.txt"
    path.write_text("# ours\nthrowaway.example.net\n!mailinator.com  # a customer's own test domain\n")
    checker = OfflineChecker(disposable_overrides=path)
    assert Reason.DISPOSABLE in checker.check("ann@throwaway.example.net").reasons
    assert Reason.DISPOSABLE in checker.check("ann@x.throwaway.example.net").reasons
    assert checker.check("ann@mailinator.com").verdict is Verdict.VALID


def test_override_lines_parse():
    assert parse_overrides(["A.example.", "!b.example # why", "", "# c.example"]) == ({"a.example"}, {"b.example"})


def test_missing_override_file_is_a_user_error(tmp_path):
    from sendwell.errors import UserError

    with pytest.raises(UserError, match="nope.txt"):
        DisposableList(domains=(), overrides=tmp_path / "nope.txt")


def test_invalid_address_still_gets_a_suggestion(checker):
    result = checker.check("ann@gmail.c")
    assert result.verdict is Verdict.INVALID and result.suggestion == "ann@gmail.com"


def test_worst_verdict_wins():
    assert verdict_of([]) is Verdict.VALID
    assert verdict_of([Reason.DNS_UNAVAILABLE]) is Verdict.UNKNOWN
    assert verdict_of([Reason.DNS_UNAVAILABLE, Reason.DISPOSABLE]) is Verdict.RISKY
    assert verdict_of([Reason.ROLE, Reason.NO_DOMAIN]) is Verdict.INVALID
    assert combine("a@b.co", "a@b.co", [Reason.ROLE, Reason.ROLE]).reasons == (Reason.ROLE,)


def test_root_zone_snapshot_tells_real_tlds_from_typos():
    from sendwell.verify.root_zone import ROOT_ZONE_TLDS

    assert {"com", "net", "org", "uk", "museum", "xn--p1ai"} <= ROOT_ZONE_TLDS
    assert not {"con", "cmo", "nett", "comm"} & ROOT_ZONE_TLDS
