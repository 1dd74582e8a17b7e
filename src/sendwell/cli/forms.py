"""`sendwell forms`: subscription forms with confirmed opt-in (a hosted page at /f/<slug> and a snippet)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sendwell.cli.common import console, ctx_obj, print_json, read_text_file, table

if TYPE_CHECKING:
    from sendwell.forms.store import Form

app = typer.Typer(help="Subscription forms: people subscribe themselves and confirm by email.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
SegmentOpt = Annotated[
    list[str] | None, typer.Option("--segment", "-s", help="A segment subscribers join (repeat for more)")
]
FieldsOpt = Annotated[
    str | None, typer.Option("--fields", help="Fields asked besides the address: first_name,last_name")
]
FromOpt = Annotated[str | None, typer.Option("--from", help="Sender named on the page and of the confirmation")]
SlugOpt = Annotated[str | None, typer.Option("--slug", help="The page address /f/SLUG (default: from the name)")]
ConsentOpt = Annotated[str | None, typer.Option("--consent", help="The text a subscriber agrees to")]
SubjectOpt = Annotated[str | None, typer.Option("--subject", help="Subject of the confirmation (Jinja2)")]
BodyOpt = Annotated[
    Path | None, typer.Option("--body-file", help="Text body of the confirmation (Jinja2, with {{ confirm_url }})")
]


def _fields(value: str | None) -> list[str] | None:
    return None if value is None else [value]


def _describe(form: Form, public_url: str) -> None:
    base = public_url.rstrip("/") or "http://HOST:PORT"
    mode = "double opt-in" if form.double_opt_in else "single opt-in"
    console.print(f"[bold]{escape(form.name)}[/bold] ({mode}): {base}/f/{form.slug}", highlight=False)
    console.print(f"  segments: {', '.join(form.segments)}", highlight=False)
    console.print(f"  fields: email{''.join(', ' + f for f in form.fields)}", highlight=False)
    console.print(f"  sender: {escape(form.from_addr or '(the [forms] from_addr setting)')}", highlight=False)
    console.print(f"  consent: {escape(form.consent_text)}", highlight=False)
    console.print(f"  confirmation subject: {escape(form.confirm_subject)}", highlight=False)
    console.print(f"  pending: {form.pending}, confirmed: {form.confirmed}", highlight=False)


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    segment: SegmentOpt = None,
    fields: FieldsOpt = None,
    single_opt_in: Annotated[
        bool, typer.Option("--single-opt-in", help="Subscribe at once, without a confirmation email")
    ] = False,
    from_: FromOpt = None,
    slug: SlugOpt = None,
    consent: ConsentOpt = None,
    subject: SubjectOpt = None,
    body_file: BodyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a form (double opt-in unless --single-opt-in); prints its page address."""
    from sendwell.forms import store

    obj = ctx_obj(ctx)
    fid = store.create(
        obj.engine,
        name,
        segment or [],
        fields=_fields(fields) or [],
        double_opt_in=not single_opt_in,
        from_addr=from_ or "",
        default_from=obj.settings.forms.from_addr,
        slug=slug,
        consent_text=consent,
        confirm_subject=subject,
        confirm_body=read_text_file("--body-file", body_file),
    )
    form = store.get(obj.engine, fid)
    print_json(form) if as_json else _describe(form, obj.settings.sending.public_url)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """All forms with their pending and confirmed subscriptions."""
    from sendwell.forms import store

    rows = store.list_forms(ctx_obj(ctx).engine)
    if as_json:
        print_json(rows)
        return
    shown = [
        asdict(r) | {"segments": ", ".join(r.segments), "opt_in": "double" if r.double_opt_in else "single"}
        for r in rows
    ]
    table(shown, ["name", "slug", "segments", "opt_in", "pending", "confirmed"])


@app.command()
def show(
    ctx: typer.Context,
    name: str,
    snippet: Annotated[
        bool, typer.Option("--snippet", help="Print only the HTML snippet to paste into a site")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """A form: its page, segments, texts and counts, or its HTML snippet."""
    from sendwell.forms import snippet as snippets
    from sendwell.forms import store

    obj = ctx_obj(ctx)
    form = store.get(obj.engine, name)
    html = snippets.snippet(form, obj.settings.sending.public_url)
    if as_json:
        print_json(asdict(form) | {"snippet": html})
    elif snippet:
        print(html)
    else:
        _describe(form, obj.settings.sending.public_url)


@app.command()
def edit(
    ctx: typer.Context,
    name: str,
    rename: Annotated[str | None, typer.Option("--name", help="A new name")] = None,
    segment: SegmentOpt = None,
    fields: FieldsOpt = None,
    double_opt_in: Annotated[
        bool | None, typer.Option("--double-opt-in/--single-opt-in", help="Ask for a confirmation email or not")
    ] = None,
    from_: FromOpt = None,
    slug: SlugOpt = None,
    consent: ConsentOpt = None,
    subject: SubjectOpt = None,
    body_file: BodyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a form; what is not given stays."""
    from sendwell.forms import store

    obj = ctx_obj(ctx)
    form = store.edit(
        obj.engine,
        name,
        default_from=obj.settings.forms.from_addr,
        segment_names=segment or None,
        new_name=rename,
        fields=_fields(fields),
        double_opt_in=double_opt_in,
        from_addr=from_,
        slug=slug,
        consent_text=consent,
        confirm_subject=subject,
        confirm_body=read_text_file("--body-file", body_file),
    )
    print_json(form) if as_json else _describe(form, obj.settings.sending.public_url)


@app.command()
def delete(ctx: typer.Context, name: str) -> None:
    """Delete a form and its pending subscriptions (the consents it collected stay)."""
    from sendwell.forms import store

    store.delete(ctx_obj(ctx).engine, name)
    console.print(f"form {name!r} deleted", highlight=False)
