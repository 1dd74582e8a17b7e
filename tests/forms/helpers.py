"""Helpers for the forms tests (and tests/web): settings that deliver to a test relay, the confirmation link."""

from __future__ import annotations

import re
from dataclasses import replace

from sendwell.config import Settings

SECRET = "forms-test-secret"
LINK = re.compile(r"https?://\S+/f/confirm/[0-9a-f.]+")


def settings_with(url: str, relay: str, **forms: object) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=url),
        smtp=replace(s.smtp, urls=(relay,), timeout=5.0),
        sending=replace(s.sending, secret=SECRET, public_url="http://mail.test", bounce_domain="bounces.test"),
        forms=replace(s.forms, **{"check_dns": False, "min_seconds": 2.0, **forms}),  # type: ignore[arg-type]
    )


def confirm_link(message_text: str) -> str:
    found = LINK.search(message_text)
    assert found, message_text
    return found.group(0)
