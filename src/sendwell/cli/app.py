"""The root `sendwell` command: global options, then one sub-command group per module."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from sendwell.cli.common import Context, err_console
from sendwell.cli.errors import describe
from sendwell.config import ConfigError, load_settings
from sendwell.errors import UserError

app = typer.Typer(
    name="sendwell",
    help="Self-hosted email campaigns that never keep mailing addresses that do not exist.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    database: Annotated[str | None, typer.Option("--database", "-d", help="Database URL or SQLite file "
                                                  "(default: SENDWELL_DATABASE_URL or ./sendwell.db)")] = None,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Path to sendwell.toml")] = None,
) -> None:
    ctx.obj = Context(settings=load_settings(config, database_url=database), config_path=config)


def _register() -> None:
    from sendwell.cli import blacklist, campaigns, contacts, segments

    app.add_typer(contacts.app, name="contacts")
    app.add_typer(blacklist.app, name="blacklist")
    app.add_typer(segments.app, name="segments")
    app.add_typer(campaigns.app, name="campaigns")
    for module in ("verify", "bounces", "ingest", "watch", "sending", "preview", "web", "webhooks", "dkim", "domain",
                   "demo"):
        try:
            mod = __import__(f"sendwell.cli.{module}", fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name != f"sendwell.cli.{module}":
                raise
            continue
        mod.register(app)


_register()


def main() -> None:
    try:
        app()
    except (UserError, ConfigError) as err:
        message = describe(err) if isinstance(err, UserError) else str(err)
        err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
