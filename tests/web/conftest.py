"""Web fixtures: the app over a real database (SQLite file and PostgreSQL), an API client with a real token,
and a UI client logged in through the real login form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from sendwell.auth import create_token, create_user
from sendwell.config import Settings
from sendwell.db.engine import open_database
from sendwell.web import create_app

MAX_UPLOAD = 256 * 1024  # small, so the 413 path is cheap to test
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def settings_for(url: str) -> Settings:
    s = Settings()
    return replace(s, database=replace(s.database, url=url))


@pytest.fixture
def web_engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def app(db_url: str, web_engine: Engine):  # noqa: ANN201 - a FastAPI app
    return create_app(settings_for(db_url), web_engine, max_upload=MAX_UPLOAD)


@pytest.fixture
def token(web_engine: Engine) -> str:
    return create_token(web_engine, "tests")[1]


@pytest.fixture
def api(app, token: str) -> Iterator[TestClient]:  # noqa: ANN001
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class UI:
    """A browser-like client: remembers the session cookie and the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kw):  # noqa: ANN003, ANN201
        r = self.client.get(url, **kw)
        found = CSRF.search(r.text)
        if found:
            self.csrf = found.group(1)
        return r

    def post(self, url: str, data: dict | None = None, **kw):  # noqa: ANN003, ANN201
        return self.client.post(url, data={"csrf": self.csrf, **(data or {})}, **kw)


@pytest.fixture
def ui(app, web_engine: Engine) -> Iterator[UI]:  # noqa: ANN001
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(app) as client:
        page = UI(client)
        page.get("/login")
        r = page.post("/login", {"username": "admin", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
        page.get("/")
        yield page
