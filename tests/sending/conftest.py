"""Fixtures for the sending tests: campaigns with recipients in the ledger, settings pointed at a test server."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from sendwell.config import DkimSettings, LimitSettings, SendingSettings, Settings, SmtpSettings

from .smtpd import ScriptedServer


def sender_settings(url: str | tuple[str, ...], **changes) -> Settings:
    urls = (url,) if isinstance(url, str) else url
    s = Settings()
    return replace(
        s,
        smtp=replace(
            SmtpSettings(),
            urls=urls,
            connections=changes.pop("connections", 2),
            timeout=changes.pop("timeout", 2.0),
            rest_seconds=0.5,
        ),
        sending=replace(
            SendingSettings(),
            retry_schedule=changes.pop("retry_schedule", (0.2, 0.5, 1.0)),
            secret="test-secret",
            batch_size=changes.pop("batch_size", 50),
            lease_seconds=changes.pop("lease_seconds", 30.0),
            retry_horizon_hours=changes.pop("retry_horizon_hours", 72.0),
            auto_blacklist_hard_errors=changes.pop("auto_blacklist", True),
        ),
        # The key directory a test put in SENDWELL_DKIM_DIR, as config.py would read it for a real run.
        dkim=DkimSettings(dir=changes.pop("dkim_dir", os.environ.get("SENDWELL_DKIM_DIR", "dkim"))),
        limit=replace(LimitSettings(), **changes),
    )


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv
