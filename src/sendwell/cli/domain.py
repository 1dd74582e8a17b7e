"""`sendwell domain check D`: is the domain set up to send bulk mail (MX, SPF, DKIM, DMARC, reverse DNS, bounces)?"""

from __future__ import annotations

from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, print_json
from sendwell.cli.errors import command
from sendwell.domaincheck.findings import Finding

app = typer.Typer(help="Check a sending domain's DNS set-up.", no_args_is_help=True)

_STYLE = {"ok": ("green", "ok   "), "warn": ("yellow", "warn "), "error": ("red", "error")}


def fix_line(finding: Finding) -> str:
    """The fix in words, then the commands its steps name: `… (`sendwell dkim record D --selector S`)`."""
    commands = [f"`{command(s.hint, s.domain, s.selector or 'NEW')}`" for s in finding.steps]
    return finding.fix + (f" ({', then '.join(commands)})" if commands else "")


@app.command("check")
def check_command(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="The From domain of your campaigns, e.g. example.com")],
    selector: Annotated[
        list[str] | None,
        typer.Option(
            "--selector", "-s", help="DKIM selector to check (repeat); default: the selectors of the stored keys"
        ),
    ] = None,
    relay_ip: Annotated[
        str | None,
        typer.Option(
            "--relay-ip", help="Public IP address your relay sends from (checks SPF authorization and reverse DNS)"
        ),
    ] = None,
    bounce_domain: Annotated[
        str | None,
        typer.Option("--bounce-domain", help="VERP bounce domain (MAIL FROM); default: [sending] bounce_domain"),
    ] = None,
    nameserver: Annotated[
        str | None,
        typer.Option("--nameserver", help="Ask only this DNS server (IP or IP:PORT) instead of the system resolver"),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per DNS question")] = 5.0,
    directory: Annotated[
        str | None, typer.Option("--dir", help="DKIM key directory (default: setting dkim.dir, ./dkim)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check MX, SPF (include chain, 10-lookup limit), DKIM, DMARC and alignment, reverse DNS and the bounce MX.

    Exits with 1 when there is an error to fix, 0 otherwise.
    """
    from sendwell.domaincheck.checks import check_domain
    from sendwell.domaincheck.lookup import Dns, make_resolver, parse_nameserver
    from sendwell.errors import UserError

    if nameserver:
        try:
            host, port = parse_nameserver(nameserver)
        except ValueError:
            raise UserError(f"--nameserver {nameserver!r}: give an IP address, optionally with :PORT") from None
        resolver = make_resolver(host, port, timeout)
    else:
        resolver = make_resolver(timeout=timeout)
    settings = ctx_obj(ctx).settings
    if bounce_domain is None:
        bounce_domain = settings.sending.bounce_domain
    report = check_domain(
        domain,
        dns=Dns(resolver),
        selectors=selector or (),
        relay_ip=relay_ip,
        bounce_domain=bounce_domain,
        keys_dir=directory or settings.dkim.dir,
        bounce_reader=settings.bounces.mx_host,
    )
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(f"Domain check for {report.domain}", style="bold", highlight=False)
        for f in report.findings:
            color, label = _STYLE[f.level.value]
            console.print(f"[{color}]{label}[/{color}] {f.check.value:<10} ", end="", highlight=False)
            console.print(f.message, markup=False, highlight=False, soft_wrap=True)
            if f.fix and (f.level.value != "ok" or f.steps):
                console.print(f"{'':17}fix: {fix_line(f)}", markup=False, highlight=False, soft_wrap=True)
        counts = report.as_dict()["counts"]
        console.print(f"{counts['error']} error(s), {counts['warn']} warning(s), {counts['ok']} ok", highlight=False)
    if report.worst.value == "error":
        raise typer.Exit(1)
