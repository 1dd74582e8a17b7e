"""Forms fixtures: a real SMTP server that keeps what it is sent, settings that deliver to it, a form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sending.smtpd import ScriptedServer
from sqlalchemy import Engine

from sendwell import segments
from sendwell.config import Settings
from sendwell.forms import store

SECRET = "forms-test-secret"
LINK = re.compile(r"https?://\S+/f/confirm/[0-9a-f.]+")


@pytest.fixture
def smtp() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def settings_with(url: str, relay: str, **forms: object) -> Settings:
    s = Settings()
    return replace(
        s,
        database=replace(s.database, url=url),
        smtp=replace(s.smtp, urls=(relay,), timeout=5.0),
        sending=replace(s.sending, secret=SECRET, public_url="http://mail.test", bounce_domain="bounces.test"),
        forms=replace(s.forms, check_dns=False, min_seconds=2.0, **forms),  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(db_url: str, smtp: ScriptedServer) -> Settings:
    return settings_with(db_url, smtp.url)


@pytest.fixture
def form(engine: Engine) -> dict:
    segments.create(engine, "news", public=True)
    segments.create(engine, "offers", public=True)
    store.create(engine, "Newsletter", ["news"], fields=["first_name"], from_addr="Acme News <news@acme.example>")
    return store.get(engine, "Newsletter")


def confirm_link(message_text: str) -> str:
    found = LINK.search(message_text)
    assert found, message_text
    return found.group(0)
