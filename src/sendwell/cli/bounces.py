"""`sendwell bounces …`: classify returned mail (ingest and watch join this group later)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(help="Read bounces, complaints and auto-replies.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="bounces")


@app.command("classify")
def classify_command(
    paths: Annotated[list[str] | None, typer.Argument(help="Message files; none: read one path per line from stdin")]
    = None,
    details: Annotated[bool, typer.Option("--details", help="Add every recipient's diagnostic and the original "
                                          "message's headers")] = False,
) -> None:
    """Print one JSON line per message file: {"file", "kind", "recipients", "status", "reason", "hard"}."""
    import json

    from sendwell.bounces.classify import classify

    encode = json.JSONEncoder(ensure_ascii=False).encode
    names = paths if paths else (line.strip() for line in sys.stdin)
    out = sys.stdout
    failed = 0
    for name in names:
        if not name:
            continue
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except OSError as err:
            failed += 1
            sys.stderr.write(f"error: {name}: cannot read ({err.strerror})\n")
            continue
        data = classify(raw).as_dict()
        line = {"file": name, "kind": data["kind"], "recipients": data["recipients"], "status": data["status"],
                "reason": data["reason"], "hard": data["hard"]}
        if data["feedback_type"]:
            line["feedback_type"] = data["feedback_type"]
        if details:
            line["format"] = data["format"]
            line["details"] = data["details"]
            line["original"] = data["original"]
        out.write(encode(line) + "\n")
    out.flush()
    if failed:
        raise typer.Exit(1)
