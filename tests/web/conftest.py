"""Web fixtures: the app over a real database (SQLite file and PostgreSQL), an API client with a real token,
and a UI client logged in through the real login form."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

# Until the web dependencies are in pyproject.toml (see .deps-requests), a fresh install lacks them:
# skip this directory with a message instead of failing to import.
MISSING = [
    m
    for m in ("fastapi", "multipart", "itsdangerous", "argon2", "httpx", "uvicorn")
    if importlib.util.find_spec(m) is None
]
if MISSING:
    collect_ignore_glob = ["*.py"]
    print(
        f"tests/web skipped: missing {', '.join(MISSING)} (pip install fastapi uvicorn python-multipart "
        "itsdangerous argon2-cffi httpx)"
    )

import pytest  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

if not MISSING:
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from sendwell import auth
    from sendwell.auth import create_token, create_user
    from sendwell.web import create_app

    from .helpers import MAX_UPLOAD, PASSWORD, UI, settings_for

from sendwell.db.engine import make_engine  # noqa: E402


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real argon2, with the smallest cost: the default (64 MiB, 3 passes) takes ~1 s here on a busy machine.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not a password of anyone"))


@pytest.fixture
def web_engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)  # db_url has migrated the schema already
    yield eng
    eng.dispose()


@pytest.fixture
def app(db_url: str, web_engine: Engine):  # a FastAPI app
    return create_app(settings_for(db_url), web_engine, max_upload=MAX_UPLOAD)


@pytest.fixture
def token(web_engine: Engine) -> str:
    return create_token(web_engine, "tests")[1]


@pytest.fixture
def api(app, token: str) -> Iterator[TestClient]:
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def ui(app, web_engine: Engine) -> Iterator[UI]:
    create_user(web_engine, "admin", PASSWORD)
    with TestClient(app) as client:
        page = UI(client)
        page.login()
        page.get("/")
        yield page
