"""`sendwell templates`: layouts that hold a campaign's frame around its `{{ content }}` (formatting only: the work
is in sendwell.templates)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, print_json, read_text_file, table
from sendwell.errors import UserError

app = typer.Typer(
    help="Templates: layouts (header, footer, styles, unsubscribe) a campaign's body goes into.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    html: Annotated[str, typer.Option(help="HTML file with {{ content }} where the body goes (- for stdin)")],
    text: Annotated[
        str | None, typer.Option(help="Plain-text file with {{ content }} (default: generated from the HTML)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a template from an HTML file."""
    from sendwell import templates

    html_text, text_text = read_text_file("--html", html, stdin=True), read_text_file("--text", text, stdin=True)
    t = templates.create_template(ctx_obj(ctx).engine, name, html_text or "", text_text)
    if as_json:
        print_json(t.as_dict())
    else:
        console.print(f"template {t.name!r} created (id {t.id})", highlight=False)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """All templates, the built-in ones too, and how many campaigns use each."""
    from sendwell import templates

    found = templates.list_templates(ctx_obj(ctx).engine)
    if as_json:
        print_json([{k: v for k, v in t.as_dict().items() if k not in ("html", "text")} for t in found])
        return
    rows = [
        {
            "name": t.name,
            "kind": ("built in, edited" if t.edited else "built in") if t.built_in else "",
            "text": "own" if t.text else "generated",
            "campaigns": len(t.used_by),
            "updated_at": f"{t.updated_at:%Y-%m-%d %H:%M}" if t.updated_at else "",
        }
        for t in found
    ]
    table(rows, ["name", "kind", "text", "campaigns", "updated_at"])


@app.command()
def show(ctx: typer.Context, template: str, as_json: JsonOpt = False) -> None:
    """A template's HTML, its own text part if it has one, and the campaigns that use it."""
    from sendwell import templates

    t = templates.get_template(ctx_obj(ctx).engine, template)
    if as_json:
        print_json(t.as_dict())
        return
    console.print(f"[bold]name[/bold]: {t.name}{' (built in)' if t.built_in else ''}", highlight=False)
    console.print(f"[bold]used by[/bold]: {', '.join(t.used_by) or 'no campaign'}", highlight=False)
    console.print("[bold]html[/bold]:")
    console.print(t.html, markup=False, highlight=False, soft_wrap=True)
    console.print("[bold]text[/bold]:" + ("" if t.text else " generated from the HTML"))
    if t.text:
        console.print(t.text, markup=False, highlight=False, soft_wrap=True)


@app.command()
def edit(
    ctx: typer.Context,
    template: str,
    html: Annotated[str | None, typer.Option(help="New HTML file (- for stdin)")] = None,
    text: Annotated[str | None, typer.Option(help="New plain-text file")] = None,
    generated_text: Annotated[
        bool, typer.Option("--generated-text", help="Drop the own text part: generate it from the HTML")
    ] = False,
    rename: Annotated[str | None, typer.Option(help="New name")] = None,
) -> None:
    """Change a template (every draft and scheduled campaign using it gets the change)."""
    from sendwell import templates

    if text is not None and generated_text:
        raise UserError("give --text or --generated-text, not both")
    t = templates.edit_template(
        ctx_obj(ctx).engine,
        template,
        name=rename,
        html=read_text_file("--html", html, stdin=True),
        text=read_text_file("--text", text, stdin=True),
        generated_text=generated_text,
    )
    console.print(f"template {t.name!r} updated", highlight=False)


@app.command()
def delete(ctx: typer.Context, template: str) -> None:
    """Delete a template no campaign uses (an edited built-in one goes back to how it shipped)."""
    from sendwell import templates

    templates.delete_template(ctx_obj(ctx).engine, template)
    console.print(f"template {template!r} deleted", highlight=False)


@app.command()
def preview(
    ctx: typer.Context,
    template: str,
    part: Annotated[str, typer.Option(help="html or text")] = "html",
    as_json: JsonOpt = False,
) -> None:
    """The template with a sample body and sample fields, as HTML or text."""
    from sendwell import templates

    if part not in ("html", "text"):
        raise UserError(f"--part: {part!r} is not one of html, text")
    shown = templates.preview(ctx_obj(ctx).engine, template)
    if as_json:
        print_json({"html": shown.html, "text": shown.text})
    else:
        out = shown.html if part == "html" else shown.text
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
