"""`sendwell webhooks`: which provider webhooks are on, and what their requests did."""

from __future__ import annotations

from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, print_json, table

app = typer.Typer(
    help="Provider webhooks (SendGrid, Mailgun, Postmark, SES) at /webhooks/<provider>.", no_args_is_help=True
)


@app.command("status")
def status_command(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False
) -> None:
    """Each provider: on (its [webhook] key is set) or off (every request refused), and its counts: events
    recorded, events ignored (an address sendwell never mailed), replays refused."""
    from sendwell.bounces import webhooks

    obj = ctx_obj(ctx)
    rows = webhooks.status(obj.engine, obj.settings)
    if as_json:
        print_json(rows)
        return
    from dataclasses import asdict

    from rich.markup import escape

    shown = [
        {
            **asdict(r),
            "state": "on" if r.on else "off",
            "setting": escape(r.setting),  # [webhook] is not markup
            "last": r.last_at.strftime("%Y-%m-%d %H:%M") if r.last_at else "",
        }
        for r in rows
    ]
    table(shown, ["provider", "state", "setting", "events", "ignored", "replays", "last"])
    if not any(r.on for r in rows):
        console.print(
            "no webhook is on: every request to /webhooks/* is refused (see docs/bounce-ingestion.md)", highlight=False
        )
