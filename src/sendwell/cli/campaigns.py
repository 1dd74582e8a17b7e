"""`sendwell campaigns`: create, list, show, edit, delete; the group, assembled here with the sending commands of
cli/sending.py."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape

from sendwell.cli import preview, sending
from sendwell.cli.common import cell, console, ctx_obj, print_json, read_text_file, table
from sendwell.errors import UserError

app = typer.Typer(help="Campaigns: what to send, to which segments, excluding which.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
LANGUAGE_HELP = "Language of the words sendwell writes into it (a built-in layout's footer): en or vi"


def _body(html: str | None, markdown: str | None) -> tuple[str | None, str | None]:
    """(body, its format) from --html or --markdown (one of them; neither: (None, None))."""
    if html is not None and markdown is not None:
        raise UserError("give --html or --markdown, not both")
    if markdown is not None:
        return read_text_file("--markdown", markdown), "markdown"
    return read_text_file("--html", html), "html" if html is not None else None


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    subject: Annotated[str, typer.Option(help="Subject line (a template: {{ first_name }})")],
    from_: Annotated[str, typer.Option("--from", help="Sender, e.g. 'Shop <news@shop.example>'")],
    html: Annotated[str | None, typer.Option(help="HTML body template file")] = None,
    text: Annotated[str | None, typer.Option(help="Plain-text body template file")] = None,
    markdown: Annotated[str | None, typer.Option(help="Markdown body file (rendered to HTML and text)")] = None,
    template: Annotated[str | None, typer.Option(help="Layout the body goes into (sendwell templates list)")] = None,
    reply_to: Annotated[str | None, typer.Option()] = None,
    segment: Annotated[
        list[str] | None, typer.Option(help="Send to this segment (repeatable; none: all contacts)")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Never send to members of this segment (repeatable)")
    ] = None,
    skip: Annotated[str, typer.Option(help="Skip contacts with these verification verdicts")] = "invalid",
    track: Annotated[str, typer.Option(help="Opt-in tracking: reads,clicks")] = "",
    language: Annotated[str | None, typer.Option(help=LANGUAGE_HELP + " (default: [web] language)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a draft campaign."""
    from sendwell import campaigns
    from sendwell.setupcheck import tracking_refusal

    body, body_format = _body(html, markdown)
    cid = campaigns.create_campaign(
        ctx_obj(ctx).engine,
        name=name,
        subject=subject,
        from_addr=from_,
        html=body,
        text=read_text_file("--text", text),
        template=template,
        body_format=body_format or "html",
        reply_to=reply_to,
        include=_split(segment),
        exclude=_split(exclude),
        skip_verdicts=skip.split(","),
        track=track.split(","),
        refuse_tracking=tracking_refusal(ctx_obj(ctx).settings),
        language=language or ctx_obj(ctx).settings.web.language,
    )
    if as_json:
        print_json({"id": cid, "name": name})
    else:
        console.print(f"campaign {name!r} created (id {cid}), draft", highlight=False)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """All campaigns."""
    from sendwell import campaigns

    rows = campaigns.list_campaigns(ctx_obj(ctx).engine)
    print_json(rows) if as_json else table(
        rows, ["id", "name", "state", "phase", "recipients", "subject", "created_at"]
    )


@app.command()
def show(ctx: typer.Context, campaign: str, as_json: JsonOpt = False) -> None:
    """A campaign's settings, segments and state."""
    from sendwell import campaigns

    data = campaigns.get_campaign(ctx_obj(ctx).engine, campaign)
    if as_json:
        print_json(data)
        return
    for k in (
        "id",
        "name",
        "state",
        "subject",
        "from_addr",
        "reply_to",
        "template",
        "body_format",
        "language",
        "include",
        "exclude",
        "all_contacts",
        "skip_verdicts",
        "track",
        "recipients",
        "created_at",
        "started_at",
        "finished_at",
        "scheduled_at",
        "server_problem",
    ):
        console.print(f"[bold]{k}[/bold]: {escape(cell(getattr(data, k)))}", highlight=False)


@app.command()
def edit(
    ctx: typer.Context,
    campaign: str,
    subject: Annotated[str | None, typer.Option()] = None,
    from_: Annotated[str | None, typer.Option("--from")] = None,
    reply_to: Annotated[str | None, typer.Option()] = None,
    html: Annotated[str | None, typer.Option(help="HTML body template file")] = None,
    text: Annotated[str | None, typer.Option(help="Plain-text body template file")] = None,
    markdown: Annotated[str | None, typer.Option(help="Markdown body file (rendered to HTML and text)")] = None,
    template: Annotated[str | None, typer.Option(help="Layout the body goes into")] = None,
    no_template: Annotated[bool, typer.Option("--no-template", help="Send the body without a layout")] = False,
    segment: Annotated[list[str] | None, typer.Option(help="Replace the included segments")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Replace the excluded segments")] = None,
    skip: Annotated[str | None, typer.Option()] = None,
    track: Annotated[str | None, typer.Option()] = None,
    language: Annotated[str | None, typer.Option(help=LANGUAGE_HELP)] = None,
) -> None:
    """Change a draft campaign."""
    from sendwell import campaigns
    from sendwell.setupcheck import tracking_refusal

    if template is not None and no_template:
        raise UserError("give --template or --no-template, not both")
    body, body_format = _body(html, markdown)
    campaigns.edit_campaign(
        ctx_obj(ctx).engine,
        campaign,
        subject=subject,
        from_addr=from_,
        reply_to=reply_to,
        html=body,
        body_format=body_format,
        template="" if no_template else template,
        text=read_text_file("--text", text),
        include=_split(segment) if segment is not None else None,
        exclude=_split(exclude) if exclude is not None else None,
        skip_verdicts=skip.split(",") if skip is not None else None,
        track=track.split(",") if track is not None else None,
        language=language,
        refuse_tracking=tracking_refusal(ctx_obj(ctx).settings),
    )
    console.print(f"campaign {campaign!r} updated", highlight=False)


@app.command()
def delete(ctx: typer.Context, campaign: str) -> None:
    """Delete a campaign and its recipient ledger (not while sending)."""
    from sendwell import campaigns

    campaigns.delete_campaign(ctx_obj(ctx).engine, campaign)
    console.print(f"campaign {campaign!r} deleted", highlight=False)


@app.command()
def schedule(
    ctx: typer.Context,
    campaign: str,
    at: Annotated[str, typer.Option(help="When to start: '2026-12-24 09:00' or ISO-8601 (with an offset or not)")],
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of --at, e.g. Asia/Ho_Chi_Minh ([sending] timezone)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a draft at a later time: a running `sendwell worker` resolves its audience and sends it then."""
    from sendwell.schedule import schedule_campaign

    obj = ctx_obj(ctx)
    data = schedule_campaign(obj.engine, campaign, at, timezone, default_tz=obj.settings.sending.timezone)
    if as_json:
        print_json(asdict(data) | {"scheduled_at": data.scheduled_at.isoformat()})
    else:
        console.print(
            f"campaign {data.name!r} scheduled for {data.local} "
            f"({data.scheduled_at:%Y-%m-%d %H:%M} UTC); keep `sendwell worker` running",
            highlight=False,
        )


@app.command()
def unschedule(ctx: typer.Context, campaign: str) -> None:
    """Take a scheduled campaign back to a draft."""
    from sendwell.schedule import unschedule_campaign

    name = unschedule_campaign(ctx_obj(ctx).engine, campaign)
    console.print(f"campaign {name!r} unscheduled: a draft again", highlight=False)


for _command in (
    sending.send,
    sending.pause,
    sending.resume,
    sending.cancel,
    sending.resend,
    sending.stats,
    sending.recipients,
    preview.preview,
    preview.check,
    preview.test,
    preview.history,
):
    app.command(_command.__name__)(_command)
