"""The offline checks (syntax, disposable, role, typo), each a small function, and their combination.

Everything that depends only on the domain is computed once per distinct domain spelling.
"""

from __future__ import annotations

import os

from sendwell.addresses import AddressError, ascii_domain, parse_address
from sendwell.model import Address, Verdict
from sendwell.verify.lists import DisposableList, is_role
from sendwell.verify.typos import suggest_domain
from sendwell.verify.verdict import Reason, Result, combine

_CLEAN: tuple[Reason | None, str | None] = (None, None)  # most domains: not disposable, no typo


def check_syntax(text: str) -> tuple[Address | None, str]:
    """(the parsed address, "") or (None, why it is not an address we may send to)."""
    try:
        return parse_address(text), ""
    except AddressError as err:
        return None, str(err)


def check_disposable(domain: str, disposable: DisposableList) -> Reason | None:
    return Reason.DISPOSABLE if domain in disposable else None


def check_role(address: Address) -> Reason | None:
    return Reason.ROLE if is_role(address.key[: -len(address.domain) - 1]) else None


def check_typo(text: str) -> str | None:
    """The corrected address if the domain looks mistyped (OfflineChecker asks once per domain)."""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    fixed = suggest_domain(domain.lower())
    return f"{local}@{fixed}" if fixed else None


class OfflineChecker:
    """Runs the offline checks; keeps per-domain answers (disposable, typo) for the whole run."""

    def __init__(
        self, disposable: DisposableList | None = None, disposable_overrides: str | os.PathLike | None = None
    ) -> None:
        self.disposable = disposable if disposable is not None else DisposableList(overrides=disposable_overrides)
        self._by_domain: dict[str, tuple[Reason | None, str | None]] = {}

    def _domain_facts(self, raw_domain: str) -> tuple[Reason | None, str | None]:
        facts = self._by_domain.get(raw_domain)
        if facts is None:
            try:
                disposable = check_disposable(ascii_domain(raw_domain), self.disposable)
            except AddressError:
                disposable = None
            typo = suggest_domain(raw_domain.lower())
            facts = _CLEAN if disposable is None and typo is None else (disposable, typo)
            if len(self._by_domain) > 500_000:
                self._by_domain.clear()
            self._by_domain[raw_domain] = facts
        return facts

    def check(self, text: str) -> Result:
        """The offline verdict on one address as given; the typo suggestion is offered even when invalid."""
        address, why = check_syntax(text)
        if address is None:
            local, at, raw_domain = text.rpartition("@")
            fixed = self._domain_facts(raw_domain)[1] if at and local and raw_domain else None
            return combine(text, None, (Reason.SYNTAX,), f"{local}@{fixed}" if fixed else None, why)
        raw_domain = text[text.index("@") + 1 :]
        facts = self._by_domain.get(raw_domain) or self._domain_facts(raw_domain)
        role = check_role(address)
        if facts is _CLEAN and role is None:
            return Result(text, address.key, Verdict.VALID)  # the common case, without combine()
        disposable, fixed = facts
        reasons = [r for r in (disposable, role) if r is not None]
        suggestion = None
        if fixed:
            reasons.append(Reason.TYPO_SUSPECTED)
            suggestion = f"{text[: text.index('@')]}@{fixed}"
        return combine(text, address.key, reasons, suggestion)
