"""`sendwell demo`: the seed's story, end to end, on a fresh SQLite file and a simulated mail server.

Import a list with dead addresses → send campaign 1 through a relay that also has an outage → read
the late bounces → statistics (the outage NOT counted as errors) → export the errors → black list
and a custom exclusion segment → campaign 2 → zero repeated errors → the daily limit.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import Engine, func, select

from sendwell import blacklist, campaigns, contacts, csvfile, exports, history, segments
from sendwell.bounces import ingest
from sendwell.config import Settings, load_settings
from sendwell.db.engine import open_database
from sendwell.db.schema import recipient_display, recipients
from sendwell.demo.data import sample
from sendwell.demo.server import Behaviour, SimulatedServer

HTML = """<p>Hello {{ first_name }},</p>
<p>Our autumn sale starts today in {{ city }}.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>"""
TEXT = "Hello {{ first_name }},\n\nOur autumn sale starts today in {{ city }}.\n\nUnsubscribe: {{ unsubscribe_url }}\n"


def run(out_dir: Path, console: Console | None = None, fast: bool = False) -> dict:
    """Play the story; returns the figures it showed (tests check them)."""
    console = console or Console()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    csv_text, dead = sample()
    (out_dir / "contacts.csv").write_text(csv_text, encoding="utf-8")
    behaviour = Behaviour(
        unknown=dead["unknown"], full=dead["full"], late_bounce=dead["late_bounce"], outage_after=30, outage_seconds=3.0
    )
    figures: dict = {}
    with SimulatedServer(behaviour, out_dir / "bounce-mailbox") as server:
        settings = _settings(server.url, out_dir)
        engine = open_database(settings.database.url)
        console.print(
            Panel.fit(
                "[bold]sendwell demo[/bold]: never mail a dead address twice\n"
                f"database {settings.database.url}, simulated receiving server {server.url}\n"
                f"it rejects {len(dead['unknown'])} unknown mailboxes (550 5.1.1), has {len(dead['full'])} full ones "
                f"(452 4.2.2), accepts {len(dead['late_bounce'])} dead ones and bounces later,\n"
                "and goes down for 3 seconds after 30 messages (421, dropped connections)."
            )
        )

        _step(console, 1, "Import the contact list (with the broken rows people really have)")
        report = contacts.import_contacts(engine, (out_dir / "contacts.csv").open("rb"), name="contacts.csv")
        console.print(
            f"{report.read} rows read: {report.imported} contacts imported, {report.merged} duplicate "
            f"merged, {len(report.rejected)} rejected:"
        )
        for r in report.rejected:
            console.print(f"   line {r.line}: {r.text!r}: {r.reason}", highlight=False, markup=False)
        figures["imported"] = report.imported

        _step(console, 2, "Send campaign 1 to everyone (the relay has an outage partway)")
        c1 = campaigns.create_campaign(
            engine,
            name="autumn-sale",
            subject="Autumn sale, {{ first_name }}!",
            from_addr="Shop <news@shop.example>",
            html=HTML,
            text=TEXT,
        )
        _send(engine, settings, c1, console)

        _step(console, 3, "Read the bounce mailbox (dead addresses the server accepted, then bounced)")
        time.sleep(0.2)
        summary = ingest.ingest(engine, settings, [str(out_dir / "bounce-mailbox")])
        console.print(
            f"{summary.messages} message(s) in the bounce mailbox: {summary.errors_marked} recipient(s) "
            f"marked error, {summary.blacklisted} address(es) blacklisted"
        )

        _step(console, 4, "Campaign 1 statistics")
        stats1 = _stats(engine, c1)
        _show_stats(console, engine, c1, stats1)
        figures["campaign1"] = stats1

        _step(console, 5, "Export the errors to CSV, put them on the black list, make an exclusion segment")
        errors_csv = out_dir / "autumn-sale-errors.csv"
        n = _export_errors(engine, c1, errors_csv)
        console.print(f"{n} error recipient(s) written to {errors_csv}")
        with errors_csv.open("rb") as fh:
            bl = blacklist.import_file(
                engine, fh, name=errors_csv.name, reason="hard_bounce", actor="demo", note="errors of autumn-sale"
            )
        console.print(
            f"black list import: {bl.imported} added, {bl.merged} already there (auto-blacklisted as hard errors)"
        )
        members = segments.create_from_campaign(engine, "autumn-sale-errors", c1, ["error"])
        console.print(f"segment 'autumn-sale-errors' created with {members} address(es)")
        rejected_before = dict(server.handler.rejected)

        _step(console, 6, "Send campaign 2, excluding that segment")
        c2 = campaigns.create_campaign(
            engine,
            name="winter-news",
            subject="Winter news for {{ first_name }}",
            from_addr="Shop <news@shop.example>",
            html=HTML,
            text=TEXT,
            exclude=["autumn-sale-errors"],
        )
        _send(engine, settings, c2, console)
        stats2 = _stats(engine, c2)
        _show_stats(console, engine, c2, stats2)
        figures["campaign2"] = stats2
        all_dead = dead["unknown"] | dead["late_bounce"]
        repeated = sum(server.handler.rejected.get(a, 0) - rejected_before.get(a, 0) for a in dead["unknown"])
        repeated += sum(1 for a in dead["late_bounce"] if server.handler.delivered.get(a, 0) > 1)
        figures["repeated_errors"] = repeated
        figures["dead_sent_again"] = sum(1 for a in all_dead if _was_sent(engine, c2, a))
        console.print(
            f"[bold green]Repeated errors: {repeated}[/bold green] — none of the "
            f"{len(all_dead)} dead addresses was tried again."
        )

        _step(console, 7, "The daily limit")
        figures["limit"] = _show_limit(engine, settings, console)
        engine.dispose()
    console.print(
        f"\nEverything is in {out_dir}/ (database, CSV exports, the bounce mailbox). "
        f"Try: sendwell --database {out_dir / 'sendwell-demo.db'} campaigns list"
    )
    return figures


def _settings(url: str, out_dir: Path) -> Settings:
    s = load_settings(None, env={})
    return replace(
        s,
        database=replace(s.database, url=f"sqlite:///{out_dir / 'sendwell-demo.db'}"),
        smtp=replace(s.smtp, urls=(url,), connections=4, timeout=5.0),
        sending=replace(s.sending, retry_schedule=(1.0, 2.0, 3.0, 3600.0)),
    )


def _step(console: Console, n: int, title: str) -> None:
    console.rule(f"[bold]{n}. {title}")


def _send(engine: Engine, settings: Settings, campaign_id: int, console: Console) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    from sendwell.sending.engine import send

    total = campaigns.start_campaign(engine, campaign_id)
    with Progress("sending", BarColumn(), MofNCompleteColumn(), console=console, transient=True) as progress:
        task = progress.add_task("send", total=total)

        def on_progress(report) -> None:  # RunReport
            done = sum(report.counts[k] for k in ("sent", "error", "failed", "skipped"))
            progress.update(task, completed=done)

        report = send(engine, settings, [campaign_id], on_progress=on_progress)
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items() if v)
    console.print(f"{total} recipient(s): {counts}")
    if report.server_problem:
        console.print(f"[yellow]server problem seen and ridden out:[/yellow] {report.server_problem}", highlight=False)


def _stats(engine: Engine, campaign_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(recipients.c.status, func.count())
            .where(recipients.c.campaign_id == campaign_id)
            .group_by(recipients.c.status)
        ).all()
    counts = {s: 0 for s in ("queued", "sent", "deferred", "error", "failed", "skipped")}
    counts.update({r[0]: r[1] for r in rows})
    return counts


def _show_stats(console: Console, engine: Engine, campaign_id: int, counts: dict[str, int]) -> None:
    camp = campaigns.get_campaign(engine, campaign_id)
    table = Table(title=f"campaign {camp.name!r}")
    for k in counts:
        table.add_column(k, justify="right", style="red bold" if k == "error" else None)
    table.add_row(*(str(v) for v in counts.values()))
    console.print(table)
    problems = history.of_campaign(engine, campaign_id, actions=[history.SERVER_PROBLEM])
    if problems:  # the outage is over by now (later messages went through): its history says what it was
        current = " (still going on)" if camp.server_problem else " (over: later messages went through)"
        console.print(
            f"[yellow]relay problem (not counted against any address):[/yellow] {problems[0].summary}{current}",
            highlight=False,
        )
    with engine.connect() as conn:
        rows = conn.execute(
            select(recipient_display, recipients.c.smtp_code, recipients.c.enhanced_code, recipients.c.smtp_answer)
            .where(recipients.c.campaign_id == campaign_id, recipients.c.status == "error")
            .order_by(recipient_display)
        ).all()
    if rows:
        t = Table(title="the errors: addresses that do not exist")
        for c in ("address", "code", "answer"):
            t.add_column(c)
        for r in rows:
            t.add_row(r.display, f"{r.smtp_code or ''} {r.enhanced_code or ''}".strip(), (r.smtp_answer or "")[:70])
        console.print(t)


def _export_errors(engine: Engine, campaign_id: int, path: Path) -> int:
    export = exports.recipients(engine, campaign_id, ["error"])  # what `sendwell campaigns recipients` writes
    with path.open("w", newline="", encoding="utf-8") as out:
        return csvfile.write(export.rows, export.columns, out)


def _was_sent(engine: Engine, campaign_id: int, address: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(recipients.c.id).where(
                    recipients.c.campaign_id == campaign_id,
                    recipients.c.email == address.lower(),
                    recipients.c.status != "skipped",
                )
            ).first()
            is not None
        )


def _show_limit(engine: Engine, settings: Settings, console: Console) -> dict:
    from sendwell.db.engine import utcnow
    from sendwell.sending import usage

    with engine.connect() as conn:
        day, stats = usage.today(conn, settings.limit, utcnow())
        used = usage.used(conn, settings.limit, utcnow())
    console.print(
        f"today ({day}): limit {stats.limit}, used {used}, remaining {max(0, stats.limit - used)}; "
        f"address errors {stats.address_errors}. The limit doubles after a well-used day with under 2% "
        "address errors, holds at 2–5%, halves above 5%."
    )
    return {"day": day, "limit": stats.limit, "used": used}
