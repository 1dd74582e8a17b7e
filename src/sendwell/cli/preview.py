"""`sendwell campaigns preview|check|test|history`: see the message as a recipient will, find blank merge fields,
send a test to yourself, and what was done so (formatting only: the work is in sendwell.preview and
sendwell.sending.testsend)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from sendwell.cli.common import console, ctx_obj, err_console, print_json, table
from sendwell.errors import UserError

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
ContactOpt = Annotated[
    str | None,
    typer.Option("--contact", help="Whose fields fill the templates (default: the first recipient of the audience)"),
]


def _warn_unfilled(check: Any) -> None:
    for f in check.unfilled:
        fix = 'default("…", true)' if f.blank else 'default("…")'  # default(x) alone leaves an empty value empty
        err_console.print(
            f"[yellow]warning:[/yellow] {{{{ {f.name} }}}} is blank for {f.unfilled} of "
            f"{check.recipients} recipient(s) ({f.missing} without it, {f.blank} empty); give a "
            f"default: {{{{ {f.name} | {fix} }}}}",
            highlight=False,
            soft_wrap=True,
        )


def preview(
    ctx: typer.Context,
    campaign: str,
    contact: ContactOpt = None,
    part: Annotated[
        str | None,
        typer.Option(
            help="Print only this part, as sent: text, html or eml (the whole "
            "message, DKIM-signed when a key covers the From domain)"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The message exactly as one recipient gets it (built by the send engine), and blank merge fields."""
    from sendwell import preview as service

    obj = ctx_obj(ctx)
    if part is not None and part not in service.PARTS:
        raise UserError(f"--part: {part!r} is not one of {', '.join(service.PARTS)}")
    shown = service.preview(obj.engine, obj.settings, campaign, contact)
    if part is not None:
        value = shown.part(part)
        if value is None:
            raise UserError(f"--part {part}: the campaign has no {part} body")
        if isinstance(value, bytes):
            sys.stdout.buffer.write(value)
        else:
            sys.stdout.write(value if value.endswith("\n") else value + "\n")
        return
    check = service.field_check(obj.engine, campaign)
    if as_json:
        print_json({**shown.as_dict(), "fields": check.as_dict()})
        return
    note = "" if shown.in_audience else " (not in the campaign's audience)"
    console.print(f"To: {shown.recipient}{note}", highlight=False, markup=False)
    console.print(f"Subject: {shown.subject}", highlight=False, markup=False)
    body = shown.text if shown.text is not None else shown.html
    console.print(
        f"[dim]--- {'text' if shown.text is not None else 'html'} part (--part text|html|eml for the others) ---[/dim]"
    )
    console.print(body or "", highlight=False, markup=False, soft_wrap=True)
    _warn_unfilled(check)


def check(ctx: typer.Context, campaign: str, as_json: JsonOpt = False) -> None:
    """For each merge field the subject and bodies use: how many recipients would see it blank."""
    from sendwell import preview as service

    result = service.field_check(ctx_obj(ctx).engine, campaign)
    if as_json:
        print_json(result.as_dict())
        return
    if not result.fields:
        console.print(f"no merge fields: every one of the {result.recipients} recipients gets the same text")
        return
    table(
        [_row(f) for f in result.fields],
        ["name", "cover", "missing", "blank", "unfilled"],
        title=f"{result.recipients} recipients",
    )
    _warn_unfilled(result)
    if not result.unfilled:
        console.print("every merge field is filled (or given a default) for every recipient")


def _row(f: Any) -> dict[str, Any]:
    return {k: getattr(f, k) for k in ("name", "cover", "missing", "blank", "unfilled")}


def test(
    ctx: typer.Context,
    campaign: str,
    to: Annotated[list[str], typer.Option("--to", help="Send the test to this address (repeatable, at most 10)")],
    contact: ContactOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the real message, subject prefixed "[TEST] ", to the --to addresses only (kept out of the statistics)."""
    from sendwell.sending.testsend import send_test

    obj = ctx_obj(ctx)
    result = send_test(obj.engine, obj.settings, campaign, to, contact, actor="cli")
    if as_json:
        print_json(result.as_dict())
    else:
        console.print(f"subject {result.subject!r}, filled in as {result.contact}", highlight=False)
        for d in result.deliveries:
            mark = "[green]sent[/green]" if d.delivered else "[red]not sent[/red]"
            console.print(f"  {mark} {d.to}: ", end="", highlight=False)
            console.print(d.answer, highlight=False, markup=False)
    if result.delivered < len(result.deliveries):
        raise typer.Exit(3)


def history(ctx: typer.Context, campaign: str, as_json: JsonOpt = False) -> None:
    """What was done to a campaign besides sending it (test sends) and the server problems it met, latest first."""
    from sendwell import campaigns
    from sendwell import history as service

    obj = ctx_obj(ctx)
    rows = service.of_campaign(obj.engine, campaigns.get_campaign(obj.engine, campaign).id)
    if as_json:
        print_json(rows)
    else:
        table(rows, ["at", "action", "actor", "summary"])
