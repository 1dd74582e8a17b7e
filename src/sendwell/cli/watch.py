"""`sendwell bounces watch --imap URL` (registered by cli/bounces.py): poll a bounce mailbox and act on what
arrives; formatting only."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, err_console, print_json

DEFAULT_PASSWORD_ENV = "SENDWELL_IMAP_PASSWORD"


def watch(
    ctx: typer.Context,
    imap: Annotated[
        str, typer.Option("--imap", help="imaps://user@host[:port]/INBOX (imap:// needs --starttls or --no-tls)")
    ],
    password_env: Annotated[
        str, typer.Option("--password-env", help="Environment variable holding the password")
    ] = DEFAULT_PASSWORD_ENV,
    interval: Annotated[float, typer.Option("--interval", min=1, help="Seconds between polls")] = 60.0,
    once: Annotated[bool, typer.Option("--once", help="One pass over the new messages, then exit")] = False,
    done_folder: Annotated[
        str,
        typer.Option(
            "--done-folder", help="Where recorded bounces, complaints and unsubscribes go (created if missing)"
        ),
    ] = "Processed",
    no_move: Annotated[
        bool, typer.Option("--no-move", help="Flag recorded messages \\Seen + $SendwellDone instead of moving them")
    ] = False,
    other_folder: Annotated[
        str | None,
        typer.Option("--other-folder", help="Move non-bounces (replies, vacation notices) here; default: leave them"),
    ] = None,
    starttls: Annotated[
        bool, typer.Option("--starttls", help="imap:// upgraded with STARTTLS (the default for imap://)")
    ] = False,
    no_tls: Annotated[
        bool, typer.Option("--no-tls", help="imap:// in plain text (a local server or tests only)")
    ] = False,
    ca_file: Annotated[
        str | None,
        typer.Option(
            "--ca-file",
            help="Trust the CA (or self-signed certificate) in this PEM file for the server's TLS certificate",
        ),
    ] = None,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=10_000, help="Read at most this much of one message")
    ] = 2_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the totals as JSON at the end")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log only problems, not one line per message")] = False,
) -> None:
    """Watch a bounce mailbox: record bounces, complaints and unsubscribes; never delete a message."""
    import signal
    import threading

    from sendwell.bounces import imap as service
    from sendwell.errors import UserError

    mailbox, password = service.parse_url(imap, starttls=starttls, no_tls=no_tls)
    password = os.environ.get(password_env) or password
    if not password:
        raise UserError(
            f"--imap {mailbox}: no password; put it in the environment variable {password_env} "
            "(or name another with --password-env)"
        )
    _log_to_stderr(logging.WARNING if quiet else logging.INFO)
    obj = ctx_obj(ctx)
    options = service.WatchOptions(
        done_folder=None if no_move else done_folder, other_folder=other_folder, max_bytes=max_bytes
    )
    context = None
    if ca_file:
        import ssl

        try:
            context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as err:
            raise UserError(f"--ca-file {ca_file}: cannot use it ({err})") from None
    service.note_reader(obj.engine, mailbox.host)  # where bounces are read, for the set-up check
    watcher = service.Watcher(
        mailbox, password, service.ingest_processor(obj.engine, obj.settings), options, ssl_context=context
    )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():  # SIGTERM (systemd stop) ends the current pass
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not once:
        err_console.print(f"watching {mailbox} every {interval:g} s (Ctrl-C to stop)", highlight=False)
    try:
        stats = watcher.run(interval, once=once, stop=stop, max_failures=3 if once else None)
    finally:
        watcher.close()
    if as_json:
        print_json(stats.as_dict())
        return
    kinds = ", ".join(f"{n} {k}" for k, n in stats.kinds.most_common()) or "none"
    console.print(f"{stats.messages} message(s): {kinds}", highlight=False, soft_wrap=True)
    console.print(
        f"{stats.errors_marked} recipient(s) marked error, {stats.blacklisted} address(es) blacklisted; "
        f"{stats.dispositions.get('done', 0)} filed, {stats.dispositions.get('other', 0)} left for a "
        f"person, {stats.dispositions.get('unreadable', 0)} unreadable (left in place)",
        highlight=False,
        soft_wrap=True,
    )
    for p in stats.problems:
        err_console.print(f"[yellow]warning:[/yellow] {p}", highlight=False, markup=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (a test runner swaps it), not when it was made."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _log_to_stderr(level: int) -> None:
    """One plain line per event on stderr, for a terminal or a service journal."""
    logger = logging.getLogger("sendwell.bounces")
    if not any(getattr(h, "_sendwell_watch", False) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        handler._sendwell_watch = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
