"""The `sendwell` executable: `bounces classify` runs before the CLI framework is loaded, the rest goes to Typer.

Scripts feed `bounces classify` whole mailboxes one process at a time, where loading Typer, Rich and
every command group would cost more than classifying a few hundred messages; its two options are
read here, and anything else (`--help`, an unknown option) takes the ordinary path.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:2] == ["bounces", "classify"] and all(a == "--details" or not a.startswith("-") for a in args[2:]):
        from sendwell.cli.classify_files import classify_files

        rest = args[2:]
        try:
            code = 1 if classify_files([a for a in rest if a != "--details"], "--details" in rest) else 0
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other Unix tools do
            os._exit(1)
        # Nothing is left to release: skip the interpreter's tear-down (module clean-up, a last collection),
        # which costs a few percent of a run over a few hundred files.
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # the reader went away (`| head`): nothing more to say
            pass
        os._exit(code)
    from sendwell.cli.app import main as full

    full()
