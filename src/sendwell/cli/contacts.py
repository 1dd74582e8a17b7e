"""`sendwell contacts`."""

import typer

app = typer.Typer(help="contacts", no_args_is_help=True)
