"""Helpers for the web tests: settings for a database URL, and a browser-like UI client."""

from __future__ import annotations

import re
from dataclasses import replace

from fastapi.testclient import TestClient

from sendwell.config import Settings

MAX_UPLOAD = 256 * 1024  # small, so the 413 path is cheap to test
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def settings_for(url: str, public_url: str = "") -> Settings:
    s = Settings()
    return replace(s, database=replace(s.database, url=url), sending=replace(s.sending, public_url=public_url))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class UI:
    """A browser-like client: remembers the session cookie and the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kw):
        r = self.client.get(url, **kw)
        found = CSRF.search(r.text)
        if found:
            self.csrf = found.group(1)
        return r

    def post(self, url: str, data: dict | None = None, **kw):
        return self.client.post(url, data={"csrf": self.csrf, **(data or {})}, **kw)

    def login(self, username: str = "admin", password: str = PASSWORD) -> None:
        """Through the real login form; a login that is not answered with its redirect fails the test."""
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password}, follow_redirects=False)
        assert r.status_code == 303, r.text


def sending_settings(url: str, relay: str) -> Settings:
    """Settings that deliver to a test relay at once (short retries, small batches)."""
    s = settings_for(url)
    return replace(
        s,
        smtp=replace(s.smtp, urls=(relay,), connections=2, timeout=5.0, rest_seconds=0.5),
        sending=replace(s.sending, secret="web-test-secret", retry_schedule=(0.2,), batch_size=50),
    )
