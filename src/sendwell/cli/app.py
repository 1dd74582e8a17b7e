"""The root `sendwell` command: global options, then the command groups (one module each) and top-level commands."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from sendwell.cli import (
    blacklist,
    bounces,
    campaigns,
    contacts,
    demo,
    dkim,
    doctor,
    domain,
    forms,
    segments,
    sending,
    templates,
    verify,
    web,
    webhooks,
)
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
    database: Annotated[
        str | None,
        typer.Option(
            "--database", "-d", help="Database URL or SQLite file (default: SENDWELL_DATABASE_URL or ./sendwell.db)"
        ),
    ] = None,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Path to sendwell.toml")] = None,
) -> None:
    ctx.obj = Context(settings=load_settings(config, database_url=database), config_path=config)


# Every group and top-level command, in the order `sendwell --help` lists them. Each group is assembled in its
# own module; a module missing here is an ImportError at start-up, not a command that silently disappears.
app.add_typer(contacts.app, name="contacts")
app.add_typer(blacklist.app, name="blacklist")
app.add_typer(segments.app, name="segments")
app.add_typer(forms.app, name="forms")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(templates.app, name="templates")
app.command("verify")(verify.verify)
app.add_typer(bounces.app, name="bounces")
app.command("limit")(sending.limit)
app.command("worker")(sending.worker)
app.command("serve")(web.serve)
app.add_typer(web.tokens_app, name="tokens")
app.add_typer(web.users_app, name="users")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(dkim.app, name="dkim")
app.add_typer(domain.app, name="domain")
app.command("doctor")(doctor.doctor)
app.command("demo")(demo.demo)


def _literal_help(command: Any) -> Any:
    """Help texts are plain text: `[smtp] connections` is a setting's name, not Rich markup to swallow, and a flag
    takes no value, so it shows none (not `<bool>`)."""
    if command.help:
        command.help = escape(command.help)
    if command.short_help:
        command.short_help = escape(command.short_help)
    for param in command.params:
        if param.param_type_name == "option":  # typer's own click: no isinstance against `click`
            if param.help:
                param.help = escape(param.help)
            if getattr(param, "is_flag", False):
                param.metavar = ""
    made = command.get_help_option  # --help is made when help is shown: it is a flag too

    def help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _literal_help(sub)
    return command


def command() -> Any:
    """The click command `sendwell` runs (and the reference docs describe)."""
    return _literal_help(typer.main.get_command(app))


def main() -> None:
    try:
        command()(standalone_mode=True)
    except (UserError, ConfigError) as err:
        message = describe(err) if isinstance(err, UserError) else str(err)
        err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
