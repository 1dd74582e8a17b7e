"""`sendwell blacklist`: the suppression list — add, import, list, show, export, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from sendwell.cli.common import (
    byte_progress,
    console,
    ctx_obj,
    open_input,
    print_json,
    show_report,
    table,
    write_export,
)
from sendwell.model import BlacklistReason

if TYPE_CHECKING:  # the service is imported when a command runs, so `--help` stays fast
    from sendwell.blacklist import Evidence

app = typer.Typer(help="The black list: addresses that are never mailed again.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
NoteOpt = Annotated[str, typer.Option(help="Why (kept in the history)")]
REASONS = ", ".join(BlacklistReason)  # the help lists them from the one vocabulary
ReasonOpt = Annotated[str, typer.Option(help="Why it is blacklisted: " + REASONS)]
ActorOpt = Annotated[str, typer.Option(help="Who (kept in the history)", envvar="USER")]


@app.command()
def add(
    ctx: typer.Context,
    addresses: Annotated[list[str] | None, typer.Argument()] = None,
    from_campaign: Annotated[str | None, typer.Option(help="Blacklist recipients of this campaign")] = None,
    status: Annotated[str, typer.Option(help="…in these statuses (comma-separated)")] = "error",
    reason: ReasonOpt = "manual",
    note: NoteOpt = "",
    actor: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Add addresses, or every recipient of a campaign in a status (e.g. --from-campaign C --status error)."""
    from sendwell import blacklist, campaigns
    from sendwell.errors import UserError

    engine = ctx_obj(ctx).engine
    if from_campaign:
        camp = campaigns.get_campaign(engine, from_campaign)
        n = blacklist.add_from_campaign(engine, camp.id, status, note=note, actor=actor, reason=reason)
        if as_json:
            print_json({"added": n})
        else:
            console.print(f"{n} address(es) added to the black list from campaign {camp.name!r} ({status})")
        return
    if not addresses:
        raise UserError("give addresses, or --from-campaign C")
    show_report(
        blacklist.add(engine, addresses, reason=reason, note=note, actor=actor),
        as_json,
        "address(es)",
        verb="blacklisted",
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="CSV or list file, or - for stdin")],
    reason: ReasonOpt = "manual",
    note: NoteOpt = "",
    actor: ActorOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Blacklist every address of a file: a CSV with an email column (e.g. an exported error list) or a list."""
    from sendwell import blacklist

    engine = ctx_obj(ctx).engine
    with open_input(path) as (name, stream), byte_progress(name, path, "importing") as on_read:
        report = blacklist.import_file(
            engine, stream, name=name, reason=reason, note=note, actor=actor, on_read=on_read
        )
    show_report(report, as_json, "address(es)", verb="blacklisted")


@app.command("list")
def list_(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="Only this reason: " + REASONS)] = None,
    search: Annotated[str | None, typer.Option()] = None,
    limit: int = 100,
    offset: int = 0,
    as_json: JsonOpt = False,
) -> None:
    """List black-list entries, newest first."""
    from sendwell import blacklist

    rows = blacklist.list_entries(ctx_obj(ctx).engine, reason=reason, search=search, limit=limit, offset=offset)
    if as_json:
        print_json(rows)
    else:
        table(rows, ["display", "reason", "source", "note", "created_at"])


@app.command()
def count(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="Only this reason: " + REASONS)] = None,
    as_json: JsonOpt = False,
) -> None:
    """How many addresses are suppressed."""
    from sendwell import blacklist

    n = blacklist.count(ctx_obj(ctx).engine, reason)
    print_json({"count": n}) if as_json else console.print(n)


def _when(value: Any) -> str:
    """A stored time in UTC to the second (SQLite hands back naive UTC, PostgreSQL aware)."""
    from datetime import UTC

    if not value:
        return "-"
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _event_line(e: Evidence) -> str:
    """One event as evidence: what, why, the server's answer, from where, for which campaign, when."""
    what = " ".join(str(x) for x in (e.type, e.reason, e.status_code) if x)
    hard = " (hard)" if e.hard else ""
    campaign = f", campaign {e.campaign!r} (#{e.campaign_id})" if e.campaign_id else ""
    answer = f"\n      answer: {e.detail}" if e.detail else ""
    return f"#{e.id} {what}{hard} via {e.source or '-'}{campaign}, {_when(e.at)}{answer}"


@app.command()
def show(ctx: typer.Context, address: str, as_json: JsonOpt = False) -> None:
    """An address's entry explained by its event, its whole history and all the evidence (bounces, complaints)."""
    from sendwell import blacklist

    data = blacklist.show(ctx_obj(ctx).engine, address)
    if as_json:
        print_json(data)
        return
    entry = data.entry
    say: dict[str, Any] = {"highlight": False, "markup": False}
    if entry:
        console.print(
            f"{entry.display} is blacklisted: {entry.reason} (source {entry.source or '-'}, "
            f"{_when(entry.created_at)}) {entry.note}".rstrip(),
            **say,
        )
        if entry.event:
            console.print(f"  because of event {_event_line(entry.event)}", **say)
        else:
            console.print(f"  added by {entry.actor or '-'} by hand (no event)", **say)
    else:
        console.print(f"{data.email} is not blacklisted now", **say)
    if data.history:
        console.print("history:", **say)
    for h in data.history:
        console.print(
            f"  {_when(h.at)}  {h.action:<7} {h.reason:<12} by {h.actor or '-'} via {h.source}  {h.note}".rstrip(),
            **say,
        )
    if data.events:
        console.print("evidence:", **say)
    for e in data.events:
        console.print(f"  {_event_line(e)}", **say)


@app.command()
def export(
    ctx: typer.Context, output: Annotated[str, typer.Option("-o", "--output", help="File (default stdout)")] = "-"
) -> None:
    """Export the black list as CSV."""
    from sendwell import exports

    n = write_export(exports.blacklist(ctx_obj(ctx).engine), output)
    if output != "-":
        console.print(f"{n} entr(ies) written to {output}")


@app.command()
def remove(
    ctx: typer.Context, addresses: list[str], note: NoteOpt = "", actor: ActorOpt = "", as_json: JsonOpt = False
) -> None:
    """Lift suppressions (the history keeps who and why)."""
    from sendwell import blacklist

    show_report(
        blacklist.remove(ctx_obj(ctx).engine, addresses, note=note, actor=actor), as_json, "address(es)", verb="removed"
    )
