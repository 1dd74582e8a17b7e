"""Forms fixtures: a real SMTP server that keeps what it is sent, settings that deliver to it, a form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from sendwell import segments
from sendwell.config import Settings
from sendwell.forms import store

from .helpers import settings_with
from sending.smtpd import ScriptedServer


@pytest.fixture
def smtp() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def settings(db_url: str, smtp: ScriptedServer) -> Settings:
    return settings_with(db_url, smtp.url)


@pytest.fixture
def form(engine: Engine) -> store.Form:
    segments.create(engine, "news", public=True)
    segments.create(engine, "offers", public=True)
    store.create(engine, "Newsletter", ["news"], fields=["first_name"], from_addr="Acme News <news@acme.example>")
    return store.get(engine, "Newsletter")
