"""`sendwell contacts`: import, list, count, show, remove, export; the group, assembled here with `contacts verify`
from cli/verify.py."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from sendwell.cli import verify
from sendwell.cli.common import (
    MapFileOpt,
    MapOpt,
    byte_progress,
    column_mapping,
    console,
    ctx_obj,
    open_input,
    print_json,
    show_report,
    table,
    write_export,
)
from sendwell.model import OnDuplicate

app = typer.Typer(help="Contacts: import CSV or pasted lists, list, show, remove, export.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="CSV or list file, or - for stdin")],
    map_: MapOpt = None,
    map_file: MapFileOpt = None,
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option(
            help="A row repeating an earlier line's address: first (left out), last (its values win), "
            "merge (its values fill empty fields)"
        ),
    ] = OnDuplicate.MERGE,
    as_json: JsonOpt = False,
) -> None:
    """Import contacts from a CSV (header with an address column: Email, E-Mail, Correo, … or --map) or a list
    of addresses. Common header names fill first_name/last_name (Vorname, Prénom, Nombre, Tên, …)."""
    from sendwell import contacts

    obj = ctx_obj(ctx)
    mapping = column_mapping(map_, map_file)
    order = contacts.name_order_of(obj.settings)
    with open_input(path) as (name, stream), byte_progress(name, path, "importing") as on_read:
        report = contacts.import_contacts(
            obj.engine, stream, name=name, on_read=on_read, mapping=mapping, on_duplicate=on_duplicate, name_order=order
        )
    show_report(report, as_json, "contact(s)")


FieldOpt = Annotated[
    str, typer.Option("--field", help="Only contacts with this field set (with --value: containing that text)")
]
ValueOpt = Annotated[str, typer.Option("--value", help="Part of the --field value (case ignored)")]
VerdictOpt = Annotated[str, typer.Option("--verdict", help="valid, risky, invalid, unknown or unchecked")]
ListedOpt = Annotated[str, typer.Option("--blacklisted", help="yes, no, or a black-list reason")]
SegmentOpt = Annotated[str, typer.Option("--segment", help="Only the members of this segment")]


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option(help="Part of the address")] = None,
    field: FieldOpt = "",
    value: ValueOpt = "",
    verdict: VerdictOpt = "",
    blacklisted: ListedOpt = "",
    segment: SegmentOpt = "",
    limit: int = 100,
    offset: int = 0,
    as_json: JsonOpt = False,
) -> None:
    """List contacts (paged), narrowed by address, a field's value, verdict, black-list status or segment."""
    from sendwell import contactquery

    matching = contactquery.ContactFilter(search or "", field, value, verdict, blacklisted, segment)
    rows = contactquery.page(ctx_obj(ctx).engine, matching, limit=limit, offset=offset)
    if as_json:
        print_json(rows)
    else:
        table(rows, ["id", "display", "verdict", "blacklisted", "fields"])


@app.command()
def count(ctx: typer.Context, search: Annotated[str | None, typer.Option()] = None, as_json: JsonOpt = False) -> None:
    """How many contacts there are."""
    from sendwell import contacts

    n = contacts.count(ctx_obj(ctx).engine, search)
    print_json({"count": n}) if as_json else console.print(n)


@app.command()
def show(ctx: typer.Context, address: str, as_json: JsonOpt = False) -> None:
    """One contact with its fields, verdict and black-list entry."""
    from sendwell import contacts

    data = contacts.get_contact(ctx_obj(ctx).engine, address)
    if as_json:
        print_json(data)
        return
    for k, v in asdict(data).items():
        console.print(f"[bold]{k}[/bold]: {v}", highlight=False)


@app.command()
def remove(ctx: typer.Context, addresses: list[str], as_json: JsonOpt = False) -> None:
    """Remove contacts (their black-list entries, if any, stay)."""
    from sendwell import contacts

    n = contacts.remove_contacts(ctx_obj(ctx).engine, addresses)
    print_json({"removed": n}) if as_json else console.print(f"{n} contact(s) removed")


@app.command()
def export(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("-o", "--output", help="File (default stdout)")] = "-",
    search: Annotated[str | None, typer.Option(help="Part of the address")] = None,
    field: FieldOpt = "",
    value: ValueOpt = "",
    verdict: VerdictOpt = "",
    blacklisted: ListedOpt = "",
    segment: SegmentOpt = "",
) -> None:
    """Export the contacts (all, or those the filters match) as CSV (email, then one column per field)."""
    from sendwell import contactquery, exports

    engine = ctx_obj(ctx).engine
    matching = contactquery.ContactFilter(search or "", field, value, verdict, blacklisted, segment)
    with engine.connect() as conn:
        matching.conditions(conn)  # a bad filter fails before the file is created
    n = write_export(exports.contacts(engine, matching), output)
    if output != "-":
        console.print(f"{n} contact(s) written to {output}")


app.command("verify")(verify.contacts_verify)
