"""The disposable-domain list (package plus a local override file) and the role-account list (pure)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# Mailboxes that belong to a function, not a person: nobody opted in, mail is shared or unread, and
# complaints come easily. RFC 2142 names first, then the common conventions. Matched on the local
# part, lower-cased, without a +tag (info+news@ is still info@).
ROLE_ACCOUNTS: frozenset[str] = frozenset(
    {
        # RFC 2142
        "info",
        "marketing",
        "sales",
        "support",
        "abuse",
        "noc",
        "security",
        "postmaster",
        "hostmaster",
        "usenet",
        "news",
        "webmaster",
        "www",
        "uucp",
        "ftp",
        # administrators and robots
        "admin",
        "administrator",
        "root",
        "sysadmin",
        "mailer-daemon",
        "daemon",
        "bounce",
        "bounces",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
        "notifications",
        # shared desks
        "contact",
        "contactus",
        "help",
        "helpdesk",
        "service",
        "customerservice",
        "office",
        "billing",
        "accounts",
        "accounting",
        "finance",
        "invoice",
        "invoices",
        "orders",
        "hr",
        "jobs",
        "careers",
        "recruiting",
        "press",
        "media",
        "legal",
        "privacy",
        "compliance",
        "team",
        "staff",
        "all",
        "everyone",
        "enquiries",
        "enquiry",
        "inquiries",
        "feedback",
        "hello",
        "newsletter",
        "list",
        "listserv",
        "majordomo",
        "spam",
        "devnull",
        "test",
    }
)

DEFAULT_OVERRIDE_FILE = "disposable_domains.txt"  # beside sendwell.toml; see docs/verify.md


def is_role(local_key: str) -> bool:
    """True when a (lower-cased) local part names a role account."""
    return local_key.partition("+")[0] in ROLE_ACCOUNTS


def parse_overrides(lines: Iterable[str]) -> tuple[set[str], set[str]]:
    """(added, removed) domains from override lines: `domain` adds, `!domain` removes, `#` comments."""
    added: set[str] = set()
    removed: set[str] = set()
    for raw in lines:
        line = raw.split("#", 1)[0].strip().lower().rstrip(".")
        if not line:
            continue
        if line.startswith("!"):
            removed.add(line[1:].strip())
        else:
            added.add(line)
    return added, removed


def override_path(path: str | os.PathLike | None = None) -> Path | None:
    """The override file to use: the one given (`--disposable-file`, else Settings.verify.disposable_file, which
    SENDWELL_DISPOSABLE_FILE sets), else ./disposable_domains.txt."""
    if path:
        return Path(path)
    default = Path(DEFAULT_OVERRIDE_FILE)
    return default if default.exists() else None


class DisposableList:
    """Domains of throw-away mailbox providers; a subdomain of a listed domain is listed too."""

    def __init__(self, domains: Iterable[str] | None = None, overrides: str | os.PathLike | None = None) -> None:
        if domains is None:
            from disposable_email_domains import blocklist

            domains = blocklist
        self.domains: set[str] = set(domains)
        path = override_path(overrides)
        if path is not None:
            from sendwell.errors import UserError

            try:
                text = path.read_text(encoding="utf-8")
            except OSError as err:
                raise UserError(f"{path}: cannot read the disposable-domain override file ({err.strerror})") from None
            added, removed = parse_overrides(text.splitlines())
            self.domains |= added
            self.domains -= removed
            self.allowed = removed
        else:
            self.allowed = set()
        self._cache: dict[str, bool] = {}

    def __contains__(self, domain: str) -> bool:
        hit = self._cache.get(domain)
        if hit is None:
            hit = False
            labels = domain.split(".")
            for i in range(len(labels) - 1):  # the domain itself, then each parent (not the bare TLD)
                parent = ".".join(labels[i:])
                if parent in self.allowed:
                    break
                if parent in self.domains:
                    hit = True
                    break
            if len(self._cache) > 500_000:
                self._cache.clear()
            self._cache[domain] = hit
        return hit
