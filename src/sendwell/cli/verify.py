"""`sendwell verify FILE|-` (a CSV as `contacts import` reads it, or one address per line; registered by
cli/app.py) and `sendwell contacts verify` (registered by cli/contacts.py): formatting only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO, Annotated

import typer

COLUMNS = ["address", "verdict", "reasons", "suggestion", "detail"]
PROGRESS_EVERY = 1 << 16  # bytes between progress-bar updates: cheap enough for millions of lines


def _lines(stream: IO[bytes], name: str, on_read=None) -> Iterator[str]:
    """Each line as given, less its line ending (spaces are part of the address and are kept)."""
    from sendwell.errors import UserError

    pending = 0
    for number, raw in enumerate(stream, start=1):
        if on_read is not None:
            pending += len(raw)
            if pending >= PROGRESS_EVERY:
                on_read(pending)
                pending = 0
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark is encoding, not address
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{name}, line {number}: not UTF-8 text") from None


def _texts(stream: IO[bytes], name: str, on_read, mapping: dict[str, str] | None) -> Iterator[str]:
    """The addresses to check, as written: a CSV's address cells (the reader `contacts import` uses), else
    each line whole (spaces are part of what is judged)."""
    import io

    from sendwell import readers

    buffered = io.BufferedReader(stream, buffer_size=readers.SAMPLE_BYTES)  # type: ignore[type-var]
    if readers.is_table(buffered.peek(readers.SAMPLE_BYTES)[: readers.SAMPLE_BYTES], mapping):
        return (row.text for row in readers.read_rows(buffered, name, on_read, mapping=mapping))
    return _lines(buffered, name, on_read)


def _row(result) -> dict:
    return {
        "address": result.address,
        "verdict": result.verdict.value,
        "reasons": ",".join(r.value for r in result.reasons),
        "suggestion": result.suggestion,
        "detail": result.detail,
    }


def _mapping(spec: str | None) -> dict[str, str] | None:
    from sendwell.columns import parse_mapping

    return parse_mapping(spec) if spec else None


def _parse_server(spec: str | None) -> tuple[list[str] | None, int]:
    from sendwell.errors import UserError

    if not spec:
        return None, 53
    host, _, port = spec.rpartition(":") if spec.count(":") == 1 else (spec, "", "53")
    try:
        return [host], int(port)
    except ValueError:
        raise UserError(f"--dns-server {spec}: expected HOST or HOST:PORT") from None


def verify(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="CSV with an address column (as contacts import reads), or one address per line; - for stdin"
        ),
    ] = "-",
    map_: Annotated[
        str | None, typer.Option("--map", help='The CSV\'s address column if its name is unusual: "Kontakt=email"')
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line, in input order")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="No DNS: syntax, disposable, role and typo only")] = False,
    probe: Annotated[
        bool | None,
        typer.Option("--probe/--no-probe", help="Ask the MX with RCPT TO (default: setting verify.smtp_probe)"),
    ] = None,
    dns_server: Annotated[str | None, typer.Option(help="Resolver HOST[:PORT] (default: the system's)")] = None,
    dns_timeout: Annotated[float | None, typer.Option(help="Seconds per domain (setting verify.dns_timeout)")] = None,
    probe_port: Annotated[int, typer.Option(help="MX port for the probe")] = 25,
    probe_from: Annotated[str, typer.Option(help="MAIL FROM of the probe (default: the null sender <>)")] = "",
    disposable_file: Annotated[
        str | None,
        typer.Option(
            help="Override file: `domain` adds, `!domain` "
            "removes (default: setting verify.disposable_file, else "
            "./disposable_domains.txt)"
        ),
    ] = None,
) -> None:
    """Check addresses: verdict (valid, risky, invalid, unknown), reasons and a suggested fix."""
    from sendwell.cli.common import byte_progress, ctx_obj, open_input
    from sendwell.errors import UserError

    if sum((as_json, as_jsonl, as_csv)) > 1:
        raise UserError("choose one of --json, --jsonl and --csv")
    settings = ctx_obj(ctx).settings
    with open_input(path) as (name, stream), byte_progress(name, path, "verifying") as on_read:
        lines = _texts(stream, name, on_read, _mapping(map_))
        if offline:
            from sendwell.verify.checks import OfflineChecker

            checker = OfflineChecker(disposable_overrides=disposable_file or settings.verify.disposable_file or None)
            if as_jsonl:
                _write_jsonl(map(checker.check, lines))
                return
            results = list(map(checker.check, lines))
        else:
            results = _online(
                list(lines), settings, probe, dns_server, dns_timeout, probe_port, probe_from, disposable_file
            )
    _show(results, as_json, as_jsonl, as_csv)


def _online(
    texts: list[str], settings, probe, dns_server, dns_timeout, probe_port, probe_from, disposable_file
) -> list:
    from dataclasses import replace

    from sendwell.cli.common import err_console
    from sendwell.verify.run import VerifyOptions, verify_texts

    nameservers, port = _parse_server(dns_server)
    if dns_timeout is not None:
        settings = replace(settings, verify=replace(settings.verify, dns_timeout=dns_timeout))
    options = VerifyOptions.from_settings(
        settings,
        nameservers=nameservers,
        dns_port=port,
        probe=probe,
        probe_port=probe_port,
        probe_from=probe_from,
        disposable_overrides=disposable_file,
    )
    if len(texts) < 2000 or not err_console.is_terminal:
        return verify_texts(texts, options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("checking domains", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return verify_texts(texts, options, progress=progress)


# Result.as_dict() of a plain valid address, as text: encoding a dict per line would cost more than
# checking the address. tests/verify/test_cli_verify.py compares the two.
VALID_LINE = (
    '{"address": %s, "valid": true, "verdict": "valid", "reasons": [], "suggestion": null, '
    '"normalized": %s, "detail": ""}'
)


def _write_jsonl(results) -> None:
    import json
    from json.encoder import encode_basestring

    from sendwell.model import Verdict

    out = sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    buffer: list[str] = []
    for r in results:
        if r.verdict is Verdict.VALID and not r.reasons and r.suggestion is None and not r.detail:
            buffer.append(VALID_LINE % (encode_basestring(r.address), encode_basestring(r.key)))
            continue
        buffer.append(dumps(r.as_dict()))
        if len(buffer) >= 4096:
            out.write("\n".join(buffer) + "\n")
            buffer.clear()
    if buffer:
        out.write("\n".join(buffer) + "\n")
    out.flush()


def _show(results: list, as_json: bool, as_jsonl: bool, as_csv: bool) -> None:
    from sendwell import csvfile
    from sendwell.cli.common import console, print_json, table

    if as_jsonl:
        _write_jsonl(results)
    elif as_json:
        print_json([r.as_dict() for r in results])
    elif as_csv:
        csvfile.write(map(_row, results), COLUMNS, sys.stdout)
    else:
        table([_row(r) for r in results], COLUMNS)
        counts: dict[str, int] = {}
        for r in results:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
        console.print(", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no addresses", highlight=False)


def contacts_verify(
    ctx: typer.Context,
    segment: Annotated[str | None, typer.Option(help="Only the contacts of this segment")] = None,
    dns_server: Annotated[str | None, typer.Option(help="Resolver HOST[:PORT] (default: the system's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Verify stored contacts not checked within verify.max_age_days days; store verdict, reasons, suggestion."""
    from sendwell.cli.common import console, ctx_obj, err_console, print_json
    from sendwell.verify.run import VerifyOptions
    from sendwell.verify.store import verify_contacts

    obj = ctx_obj(ctx)
    nameservers, port = _parse_server(dns_server)
    options = VerifyOptions.from_settings(obj.settings, nameservers=nameservers, dns_port=port)
    show = err_console.is_terminal and not as_json

    def progress(done: int, total: int) -> None:
        if show:
            err_console.print(f"verified {done}/{total}", end="\r", highlight=False)

    summary = verify_contacts(obj.engine, obj.settings, segment=segment, progress=progress, options=options)
    if as_json:
        print_json(summary)
    else:
        counts = ", ".join(f"{n} {v}" for v, n in sorted(summary.verdicts.items())) or "nothing to check"
        console.print(
            f"{summary.checked} checked ({summary.skipped_recent} checked recently, skipped): {counts}", highlight=False
        )
