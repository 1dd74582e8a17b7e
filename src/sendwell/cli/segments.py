"""`sendwell segments`."""

import typer

app = typer.Typer(help="segments", no_args_is_help=True)
