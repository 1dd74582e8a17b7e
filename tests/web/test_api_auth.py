"""API authentication: every /api/v1 route wants a live token; the spec itself is public."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sendwell.auth import create_token, revoke_token

ROUTES = [
    ("get", "/api/v1/contacts"),
    ("post", "/api/v1/contacts/import"),
    ("get", "/api/v1/blacklist"),
    ("get", "/api/v1/blacklist/export.csv"),
    ("get", "/api/v1/segments"),
    ("get", "/api/v1/campaigns"),
    ("delete", "/api/v1/campaigns/1"),
    ("patch", "/api/v1/campaigns/1"),
]


def test_no_token_is_refused_with_a_bearer_challenge(app) -> None:
    with TestClient(app) as client:
        for method, path in ROUTES:
            r = getattr(client, method)(path)
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"] == "Bearer"
            assert "sendwell tokens create" in r.json()["detail"]


def test_bad_token_is_refused(app, token: str) -> None:
    with TestClient(app) as client:
        for header in (f"Bearer {token}x", "Bearer sw_nonsense", "Bearer ", f"Basic {token}", token):
            r = client.get("/api/v1/contacts", headers={"Authorization": header})
            assert r.status_code == 401, header
            assert r.json()["detail"]


def test_revoked_token_stops_working_at_once(app, web_engine) -> None:
    tid, token = create_token(web_engine, "ci")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/v1/contacts").status_code == 200
        revoke_token(web_engine, tid)
        r = client.get("/api/v1/contacts")
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid, expired or revoked API token", "field": None, "pointer": None}


def test_an_expired_token_is_refused_and_the_last_use_is_shown(app, web_engine, db_url) -> None:
    import json
    from datetime import timedelta

    from sqlalchemy import update
    from typer.testing import CliRunner

    from sendwell.cli.app import app as cli_app
    from sendwell.db.engine import utcnow
    from sendwell.db.schema import api_tokens

    def listed() -> dict:
        r = CliRunner().invoke(cli_app, ["--database", db_url, "tokens", "list", "--json"])
        return {t["name"]: t for t in json.loads(r.stdout)}

    tid, token = create_token(web_engine, "short-lived", expires_days=1)
    before = listed()["short-lived"]
    assert before["last_used_at"] is None and before["expires_at"] > str(utcnow() + timedelta(hours=23))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/v1/contacts").status_code == 200
        assert listed()["short-lived"]["last_used_at"] is not None
        with web_engine.begin() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == tid).values(expires_at=utcnow()))
        r = client.get("/api/v1/contacts")
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = CliRunner().invoke(cli_app, ["--database", db_url, "tokens", "create", "x", "--expires-days", "0"])
    assert r.exit_code != 0 and getattr(r.exception, "field", None) == "expires_days"


def test_session_cookie_does_not_open_the_api(ui) -> None:
    # The API authenticates each request by its token, so a logged-in browser cannot be tricked into API calls.
    assert ui.client.get("/api/v1/contacts").status_code == 401


def test_openapi_spec_is_public_and_lists_every_noun(app) -> None:
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    for p in (
        "/api/v1/contacts",
        "/api/v1/blacklist",
        "/api/v1/segments",
        "/api/v1/campaigns",
        "/api/v1/contacts/import",
        "/api/v1/blacklist/export.csv",
        "/api/v1/segments/{segment}/export.csv",
    ):
        assert p in paths
    assert not any(p.startswith(("/login", "/contacts")) for p in paths)  # UI pages stay out of the spec
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
