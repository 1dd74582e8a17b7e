"""`sendwell blacklist`."""

import typer

app = typer.Typer(help="blacklist", no_args_is_help=True)
