"""`sendwell serve` (API and web UI), `sendwell tokens` (API tokens) and `sendwell users` (web UI logins)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from sendwell.cli.common import console, ctx_obj, err_console, print_json, table, warn_exposed_secrets

tokens_app = typer.Typer(help="API tokens: `Authorization: Bearer TOKEN` for /api/v1.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the web UI (argon2-hashed passwords).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8025,
    max_upload_mb: Annotated[
        int, typer.Option(help="Largest accepted upload, in MB", envvar="SENDWELL_WEB_MAX_UPLOAD_MB")
    ] = 50,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the sending worker in this "
            "process (with PostgreSQL, workers may run elsewhere: `sendwell worker`)",
        ),
    ] = True,
) -> None:
    """Run the HTTP API (/api/v1, spec at /openapi.json), the web UI and, by default, a sending worker."""
    from sendwell.auth import list_users
    from sendwell.errors import UserError
    from sendwell.web import create_app

    obj = ctx_obj(ctx)
    warn_exposed_secrets(obj)
    if max_upload_mb < 1:
        raise UserError("--max-upload-mb: must be at least 1")
    engine = obj.engine
    if not list_users(engine):
        err_console.print("no web UI user yet: create one with `sendwell users create NAME`", highlight=False)
    if worker:  # an engine of its own: the sender's connection settings (a small SQLite cache) stay its own
        from sendwell.db.engine import make_engine

        _start_worker(make_engine(engine.url.render_as_string(hide_password=False)), obj.settings)
    app = create_app(obj.settings, engine, max_upload=max_upload_mb * 1024 * 1024)
    console.print(f"sendwell on http://{host}:{port}/ (API: /api/v1, spec: /openapi.json)", highlight=False)
    import uvicorn

    uvicorn.Server(server_config(app, host, port)).run()


def server_config(app: Any, host: str, port: int) -> Any:
    """uvicorn's settings for `serve`. Its own proxy-header handling stays off: it would believe any
    X-Forwarded-For from 127.0.0.1; the app applies `[web] trusted_proxies` itself (web/app.py)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)


def _start_worker(engine: Any, settings: Any) -> None:
    """The sending loop in a daemon thread with its own event loop. Stopping the server ends it mid-batch,
    which is safe: leased recipients return to the queue when their lease expires."""
    import logging
    import threading

    from sendwell.errors import UserError
    from sendwell.sending.engine import Sender

    try:
        sender = Sender(engine, settings, forever=True)
    except UserError as err:  # no relay configured: the UI still works, sending waits for one
        err_console.print(f"[yellow]no sending worker:[/yellow] {err}", highlight=False)
        return

    def run() -> None:
        try:
            report = sender.run()
            logging.getLogger("sendwell.worker").info("worker stopped: %s %s", report.stopped, report.message)
        except Exception:  # a crash of the worker must not take the UI down with it; log it loudly
            logging.getLogger("sendwell.worker").exception("sending worker crashed")

    threading.Thread(target=run, name="sendwell-worker", daemon=True).start()
    console.print(f"sending worker running ({settings.smtp.connections} connection(s))", highlight=False)


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: str,
    as_json: JsonOpt = False,
    expires_days: Annotated[
        float | None, typer.Option("--expires-days", help="Refuse the token this many days from now (default: never)")
    ] = None,
) -> None:
    """Make an API token; it is printed once and only its hash is kept."""
    from sendwell.auth import create_token, list_tokens

    engine = ctx_obj(ctx).engine
    tid, token = create_token(engine, name, expires_days=expires_days)
    expires = next(t.expires_at for t in list_tokens(engine) if t.id == tid)
    if as_json:
        print_json({"id": tid, "name": name, "token": token, "expires_at": expires})
        return
    until = f", valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    err_console.print(f"token {tid} ({name}) created{until}; it is shown only this once:", highlight=False)
    sys.stdout.write(token + "\n")


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every token (never the token itself), with its expiry and when it was last used."""
    from dataclasses import asdict

    from sendwell.auth import list_tokens

    rows = [asdict(t) for t in list_tokens(ctx_obj(ctx).engine)]
    columns = ["id", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    print_json(rows) if as_json else table(rows, columns)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token: Annotated[str, typer.Argument(help="Token id or name")]) -> None:
    """Revoke a token (by id, or every live token of that name)."""
    from sendwell.auth import revoke_token

    n = revoke_token(ctx_obj(ctx).engine, token)
    console.print(f"{n} token(s) revoked", highlight=False)


def _password(password_stdin: bool) -> str:
    from sendwell.errors import UserError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UserError("password: must not be empty")
    return password


StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin")]


@users_app.command("create")
def users_create(ctx: typer.Context, name: str, password_stdin: StdinOpt = False) -> None:
    """Add a web UI user (prompts for the password unless --password-stdin)."""
    from sendwell.auth import create_user

    engine = ctx_obj(ctx).engine
    create_user(engine, name, _password(password_stdin))
    console.print(f"user {name!r} created", highlight=False)


@users_app.command("passwd")
def users_passwd(ctx: typer.Context, name: str, password_stdin: StdinOpt = False) -> None:
    """Change a web UI user's password."""
    from sendwell.auth import set_password

    set_password(ctx_obj(ctx).engine, name, _password(password_stdin))
    console.print(f"password of {name!r} changed", highlight=False)


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every web UI user, with their live sessions and, when password guessing locked them, until when."""
    from dataclasses import asdict

    from sendwell.auth import list_users
    from sendwell.logins import locked_users
    from sendwell.sessions import Lifetimes, live_counts

    obj = ctx_obj(ctx)
    live = live_counts(obj.engine, Lifetimes.of(obj.settings.web))
    locks = locked_users(obj.engine)
    rows = []
    for user in list_users(obj.engine):
        lock = locks.get(user.username.lower())
        rows.append(
            {
                **asdict(user),
                "sessions": live.get(user.username, 0),
                "failed_logins": lock.failures if lock else 0,
                "locked_until": lock.until if lock else None,
            }
        )
    print_json(rows) if as_json else table(
        rows, ["id", "username", "created_at", "sessions", "failed_logins", "locked_until"]
    )


@users_app.command("revoke-sessions")
def users_revoke_sessions(ctx: typer.Context, name: str) -> None:
    """Log a user out everywhere: every session of theirs ends at once."""
    from sendwell.sessions import revoke_sessions

    n = revoke_sessions(ctx_obj(ctx).engine, name)
    console.print(f"{n} session(s) of {name!r} ended", highlight=False)


@users_app.command("unlock")
def users_unlock(ctx: typer.Context, name: str) -> None:
    """Forget a user's failed logins, so every address may try again at once."""
    from sendwell.logins import unlock

    n = unlock(ctx_obj(ctx).engine, name)
    console.print(f"failed logins of {name!r} forgotten ({n} count(s))", highlight=False)
