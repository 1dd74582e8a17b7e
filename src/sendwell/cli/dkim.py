"""`sendwell dkim …`: generate DKIM keys, list them, print the DNS records to publish, sign a message."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sendwell.cli.common import console, ctx_obj, print_json

app = typer.Typer(help="DKIM keys: generate, list, show the DNS record to publish.", no_args_is_help=True)

DirOption = Annotated[str | None, typer.Option("--dir", help="Key directory (default: setting dkim.dir, ./dkim)")]


def _folder(ctx: typer.Context, directory: str | None) -> Path:
    from sendwell import dkim

    return dkim.keys_dir(directory or ctx_obj(ctx).settings.dkim.dir)


def _show_record(name: str, value: str, zone_line: str) -> None:
    console.print("Publish this DNS TXT record:", highlight=False)
    console.print(f"  name:  {name}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"  value: {value}", highlight=False, markup=False, soft_wrap=True)
    console.print("As a zone-file line (the value split into 255-byte strings):", highlight=False)
    console.print(f"  {zone_line}", highlight=False, markup=False, soft_wrap=True)


@app.command("generate")
def generate_command(
    ctx: typer.Context,
    domain: Annotated[str, typer.Option("--domain", help="The From domain the key signs for, e.g. example.com")],
    selector: Annotated[
        str, typer.Option("--selector", help="Selector, e.g. s2026 (the record goes at <selector>._domainkey.<domain>)")
    ],
    algorithm: Annotated[
        str,
        typer.Option(
            "--algorithm", help="rsa (what every receiver checks) or ed25519 (faster; add it beside an RSA key)"
        ),
    ] = "rsa",
    bits: Annotated[int, typer.Option("--bits", help="RSA key size")] = 2048,
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a key pair, store the private key (mode 0600) and print the DNS TXT record to publish."""
    from sendwell import dkim
    from sendwell.errors import UserError

    try:
        alg = dkim.Algorithm(algorithm.lower())
    except ValueError:
        raise UserError(f"--algorithm {algorithm!r}: use rsa or ed25519") from None
    folder = _folder(ctx, directory)
    entry = dkim.generate_key(domain, selector, alg, bits=bits, directory=folder)
    name, value = dkim.dns_record(folder, entry)
    if as_json:
        print_json(
            {
                "domain": entry.domain,
                "selector": entry.selector,
                "algorithm": entry.algorithm.value,
                "state": entry.state.value,
                "file": str(folder / entry.file),
                "dns_name": name,
                "dns_value": value,
                "dns_strings": dkim.split_txt(value),
            }
        )
        return
    console.print(
        f"Created {entry.algorithm.value} key {folder / entry.file} (mode 0600) for {entry.domain}, "
        f"selector {entry.selector}.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    _show_record(name, value, dkim.zone_line(entry, value))
    if entry.state is dkim.KeyState.PENDING:
        console.print(
            f"{entry.domain} already signs with another {entry.algorithm.value} key, so this one waits: "
            f"publish the record, check it (sendwell domain check {entry.domain} --selector "
            f"{entry.selector}), then switch: sendwell dkim activate {entry.domain} --selector "
            f"{entry.selector}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"Then check it: sendwell domain check {entry.domain} --selector {entry.selector}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command("list")
def list_command(
    ctx: typer.Context,
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines")] = False,
) -> None:
    """List the stored keys: domain, selector, algorithm, file and the DNS name of each."""
    from sendwell import dkim
    from sendwell.cli.common import table

    folder = _folder(ctx, directory)
    entries = dkim.load_index(folder)
    rows = [
        {
            "domain": e.domain,
            "selector": e.selector,
            "algorithm": e.algorithm.value,
            "state": e.state.value,
            "file": str(folder / e.file),
            "dns_name": e.dns_name,
            "created": e.created,
        }
        for e in entries
    ]
    if as_json:
        for r in rows:
            print_json(r)
        return
    if not rows:
        console.print(
            f"No DKIM keys in {folder}. Create one: sendwell dkim generate --domain example.com --selector s1",
            highlight=False,
            markup=False,
        )
        return
    table(rows, ["domain", "selector", "algorithm", "state", "file", "dns_name", "created"])


@app.command("activate")
def activate_command(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="Domain of the key")],
    selector: Annotated[str, typer.Option("--selector", help="Selector of the key to sign with from now on")],
    directory: DirOption = None,
) -> None:
    """Sign with this key from now on (after publishing its record); the key it replaces is retired."""
    from sendwell import dkim

    entry = dkim.activate_key(domain, selector, _folder(ctx, directory))
    console.print(
        f"{entry.domain} now signs {entry.algorithm.value} with selector {entry.selector}. Keep the old "
        "selector's record published for a few days: mail already sent is checked against it.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command("record")
def record_command(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="Domain whose keys to show")],
    selector: Annotated[str | None, typer.Option("--selector", help="Only this selector")] = None,
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines")] = False,
) -> None:
    """Print again the DNS TXT record(s) to publish for a domain's stored keys."""
    from sendwell import dkim
    from sendwell.errors import UserError

    folder = _folder(ctx, directory)
    domain = domain.lower().rstrip(".")
    entries = [
        e for e in dkim.load_index(folder) if e.domain == domain and (selector is None or e.selector == selector)
    ]
    if not entries:
        raise UserError(f"{domain}: no DKIM key{' with selector ' + selector if selector else ''} in {folder}")
    for e in entries:
        name, value = dkim.dns_record(folder, e)
        if as_json:
            print_json(
                {
                    "domain": e.domain,
                    "selector": e.selector,
                    "dns_name": name,
                    "dns_value": value,
                    "dns_strings": dkim.split_txt(value),
                }
            )
        else:
            _show_record(name, value, dkim.zone_line(e, value))


@app.command("sign")
def sign_command(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Message file (.eml), or - for stdin")] = "-",
    directory: DirOption = None,
) -> None:
    """Sign a message with the key of its From domain and write it to stdout (to test a published key)."""
    import sys

    from sendwell import dkim
    from sendwell.cli.common import open_input
    from sendwell.errors import Hint, UserError

    with open_input(path) as (name, fh):
        raw = fh.read()
    headers, _, _ = dkim.split_message(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    from_value = next((v for n, v in headers if n == b"from"), None)
    if from_value is None:
        raise UserError(f"{name}: no From header")
    from_addr = from_value.decode("utf-8", "replace")
    folder = _folder(ctx, directory)
    signer = dkim.Signer.for_from_domain(dkim.domain_of(from_addr), folder)
    if signer is None:
        raise UserError(
            dkim.missing_key_warning(from_addr, folder) or f"{name}: no key",
            hint=Hint.GENERATE_DKIM_KEY,
            target=dkim.domain_of(from_addr) or None,
        )
    sys.stdout.buffer.write(signer.sign(raw))
