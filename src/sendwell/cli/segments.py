"""`sendwell segments`: custom recipient lists."""

from __future__ import annotations

from typing import Annotated

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

app = typer.Typer(help="Segments: custom recipient lists to send to or to exclude.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _import(ctx: typer.Context, name: str, path: str, as_json: bool) -> None:
    from sendwell import segments

    with open_input(path) as (src, stream), byte_progress(src, path, "importing") as on_read:
        report = segments.import_members(ctx_obj(ctx).engine, name, stream, source_name=src, on_read=on_read)
    show_report(report, as_json, "member(s)", verb="added")


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    import_: Annotated[str | None, typer.Option("--import", help="Fill from a file or - (stdin)")] = None,
    from_campaign: Annotated[str | None, typer.Option(help="Take the recipients of this campaign…")] = None,
    status: Annotated[str, typer.Option(help="…in these statuses (comma-separated)")] = "error",
    description: str = "",
    public: Annotated[
        bool, typer.Option("--public", help="List it on the preference page (members may leave)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a segment, empty, from a file, or from a campaign's results (--from-campaign C --status error)."""
    from sendwell import campaigns, segments

    engine = ctx_obj(ctx).engine
    if from_campaign:
        camp = campaigns.get_campaign(engine, from_campaign)
        n = segments.create_from_campaign(engine, name, camp.id, status, description)
        if public:
            from sendwell.forms import preferences

            preferences.set_public(engine, name, True)
        if as_json:
            print_json({"segment": name, "members": n})
        else:
            console.print(f"segment {name!r} created with {n} recipient(s) of {camp.name!r} in {status}")
        return
    segments.create(engine, name, description, public=public)
    if import_:
        _import(ctx, name, import_, as_json)
    elif as_json:
        print_json({"segment": name, "members": 0})
    else:
        console.print(f"segment {name!r} created")


@app.command("import")
def import_(
    ctx: typer.Context,
    name: str,
    path: Annotated[str, typer.Argument(help="File or - for stdin")],
    as_json: JsonOpt = False,
) -> None:
    """Add every address of a CSV or pasted list to a segment."""
    _import(ctx, name, path, as_json)


@app.command()
def add(ctx: typer.Context, name: str, addresses: list[str], as_json: JsonOpt = False) -> None:
    """Add addresses to a segment."""
    from sendwell import segments

    show_report(segments.add(ctx_obj(ctx).engine, name, addresses), as_json, "member(s)", verb="added")


@app.command()
def remove(ctx: typer.Context, name: str, addresses: list[str], as_json: JsonOpt = False) -> None:
    """Remove addresses from a segment."""
    from sendwell import segments

    show_report(segments.remove(ctx_obj(ctx).engine, name, addresses), as_json, "member(s)", verb="removed")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """All segments with their sizes."""
    from sendwell import segments

    rows = segments.list_segments(ctx_obj(ctx).engine)
    print_json(rows) if as_json else table(rows, ["name", "members", "public", "description", "created_at"])


@app.command()
def show(ctx: typer.Context, name: str, limit: int = 20, offset: int = 0, as_json: JsonOpt = False) -> None:
    """A segment, its size, the campaigns using it, and some members."""
    from sendwell import segments

    data = segments.show(ctx_obj(ctx).engine, name, limit=limit, offset=offset)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data.name}[/bold]: {data.members} member(s). {data.description}", highlight=False)
    for c in data.campaigns:
        console.print(f"  used by campaign {c.campaign!r} ({c.mode})", highlight=False)
    table(data.shown, ["display", "added_at"])


@app.command()
def public(
    ctx: typer.Context,
    name: str,
    off: Annotated[bool, typer.Option("--off", help="Take it off the preference page")] = False,
) -> None:
    """List a segment on the preference page behind the unsubscribe link, where a member may leave it alone."""
    from sendwell.forms import preferences

    preferences.set_public(ctx_obj(ctx).engine, name, not off)
    console.print(f"segment {name!r} is {'not ' if off else ''}on the preference page", highlight=False)


@app.command()
def export(
    ctx: typer.Context,
    name: str,
    output: Annotated[str, typer.Option("-o", "--output", help="File (default stdout)")] = "-",
) -> None:
    """Export a segment's members as CSV."""
    from sendwell import exports

    n = write_export(exports.segment(ctx_obj(ctx).engine, name), output)
    if output != "-":
        console.print(f"{n} member(s) written to {output}")


@app.command()
def delete(ctx: typer.Context, name: str) -> None:
    """Delete a segment (refused while a campaign uses it)."""
    from sendwell import segments

    segments.delete(ctx_obj(ctx).engine, name)
    console.print(f"segment {name!r} deleted")
