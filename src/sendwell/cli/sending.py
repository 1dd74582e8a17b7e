"""`sendwell campaigns send|pause|resume|cancel|resend|stats|recipients` (registered by cli/campaigns.py),
`sendwell limit`, `sendwell worker` (registered by cli/app.py)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sendwell.cli.common import (
    console,
    ctx_obj,
    err_console,
    output_text,
    print_json,
    warn_exposed_secrets,
    write_export,
)
from sendwell.cli.errors import next_step
from sendwell.errors import UserError

if TYPE_CHECKING:
    from sendwell.stats import CampaignStats

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _fmt_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if value else "-"


def _show_stats(data: CampaignStats) -> None:
    s = data.by_status
    from sendwell.stats import phase_line

    console.print(
        f"[bold]{data.name}[/bold] (id {data.id}): {phase_line(data, _fmt_time)}, {data.recipients} recipients",
        highlight=False,
    )
    if a := data.audience:
        console.print(
            f"  audience: {a['candidates']} candidates, {a['excluded']} excluded by segment, "
            f"{a['blacklisted']} on the black list, {a['skipped_by_verification']} skipped by verification",
            highlight=False,
        )
    console.print("  " + "  ".join(f"{k} {s[k]}" for k in s if s[k] or k in ("sent", "error")), highlight=False)
    console.print(f"  address-error rate {data.error_rate:.1%} ({data.address_errors} bad addresses)", highlight=False)
    for e in data.top_errors:
        code = f"{e.smtp_code or ''} {e.enhanced_code or ''}".strip()
        console.print(
            f"    {e.count:>6} × {e.reason or '-'} {code}: {e.example or ''}"[:160], highlight=False, markup=False
        )
    if data.top_other:
        console.print("  not delivered, not the address's fault:")
        for o in data.top_other:
            code = f"{o.smtp_code or ''} {o.enhanced_code or ''}".strip()
            console.print(
                f"    {o.count:>6} × {o.status}/{o.kind} {o.reason or '-'} {code}: {o.example or ''}"[:160],
                highlight=False,
                markup=False,
            )
    sp = data.server_problems
    if sp.current:
        console.print(
            f"  [bold yellow]server problem[/bold yellow] (not counted as address errors): "
            f"{sp.deferred} deferred, {sp.failed} failed; since {_fmt_time(sp.at)}: {sp.last}",
            highlight=False,
        )
    elif sp.history:
        over = sp.history[-1].at
        console.print(f"  earlier server problems ({len(sp.history)} changes), over since {_fmt_time(over)}")
    if s.get("deferred") and data.phase != "waiting_retry":
        console.print(f"  next retry: {_fmt_time(data.next_retry_at)}", highlight=False)


def this_run(before: dict[str, int], after: dict[str, int], attempts: dict[str, int]) -> dict[str, int]:
    """What a run did per recipient, not per attempt: a recipient deferred twice and then sent is one `sent`;
    `deferred` is the recipients still waiting for a retry. Counted from the campaign's rows before and after,
    so the other sending processes' work is in it too."""
    run = {k: max(0, after.get(k, 0) - before.get(k, 0)) for k in ("sent", "error", "failed", "skipped")}
    # read/clicked rows were sent first: a recipient who read during the run moved on from sent
    run["sent"] += max(0, sum(after.get(k, 0) - before.get(k, 0) for k in ("read", "clicked")))
    run["deferred"] = after.get("deferred", 0) if attempts.get("deferred") else 0
    run["recipients"] = sum(run.values())
    return run


def send(
    ctx: typer.Context,
    campaign: str,
    background: Annotated[
        bool, typer.Option("--background", help="Hand the campaign to a worker process and return at once")
    ] = False,
    connections: Annotated[int | None, typer.Option(help="Concurrent SMTP connections ([smtp] connections)")] = None,
    processes: Annotated[
        int,
        typer.Option(
            help="Sending processes sharing the connections (one core each: past ~2,500 msg/s one process is CPU-bound)"
        ),
    ] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Send a campaign (a draft is started); returns when every recipient is final or waits for a later retry."""
    from dataclasses import replace

    from sendwell.sending import control, engine
    from sendwell.sending.relay import parse_relays
    from sendwell.stats import campaign_stats

    obj = ctx_obj(ctx)
    warn_exposed_secrets(obj)
    settings = obj.settings
    if connections is not None:
        if connections < 1:
            raise UserError("--connections: must be at least 1")
        settings = replace(settings, smtp=replace(settings.smtp, connections=connections))
    if processes < 1:
        raise UserError("--processes: must be at least 1")
    if processes > settings.smtp.connections:
        raise UserError(f"--processes: at most one per connection ({settings.smtp.connections}; see --connections)")
    parse_relays(settings.smtp.urls)  # fail early, with the configuration key named
    c, queued = control.prepare_send(obj.engine, campaign)
    if queued is not None and not as_json:
        console.print(f"campaign {c.name!r} started: {queued} recipients queued", highlight=False)
    if background:
        pid, log = _spawn_worker(settings, c.id)
        if as_json:
            print_json({"id": c.id, "worker_pid": pid, "log": log})
        else:
            console.print(
                f"sending in the background (worker pid {pid}, log {log}); see `sendwell campaigns stats {c.name}`",
                highlight=False,
            )
        return
    before = campaign_stats(obj.engine, c.id)
    todo = before.by_status["queued"] + before.by_status["deferred"]
    shares = [
        settings.smtp.connections // processes + (k < settings.smtp.connections % processes) for k in range(processes)
    ]
    helpers = [
        _spawn_worker(replace(settings, smtp=replace(settings.smtp, connections=n)), c.id, foreground=True)
        for n in shares[1:]
    ]
    mine = replace(settings, smtp=replace(settings.smtp, connections=shares[0]))
    report = None
    try:
        report = _run_with_progress(
            obj.engine, mine, c.id, todo, quiet=as_json, runner=engine.send, shared=bool(helpers)
        )
    finally:  # stopped early (a signal, the breaker, an error): the helpers stop too
        _join(helpers, stop=report is None or report.stopped not in ("done", "idle"))
    data = campaign_stats(obj.engine, c.id, retry_horizon_hours=settings.sending.retry_horizon_hours)
    run = this_run(before.by_status, data.by_status, report.counts)
    if as_json:
        print_json(
            {
                "stopped": report.stopped,
                "message": report.message,
                "warnings": report.warnings,
                "this_run": run,
                "attempts": report.counts,
                "stats": data,
            }
        )
    else:
        _show_stats(data)
        console.print(
            f"this run: {run['recipients']} recipient(s): "
            + ", ".join(f"{run[k]} {k}" for k in ("sent", "error", "failed", "skipped", "deferred") if run[k])
            + (f" ({sum(report.counts.values())} attempts)" if sum(report.counts.values()) > run["recipients"] else ""),
            highlight=False,
        )
        for w in report.warnings:
            err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
        if report.message:
            colour = "red" if report.stopped in ("breaker", "error") else "yellow"
            err_console.print(
                f"[{colour}]{report.stopped}:[/{colour}] {report.message}{next_step(report.stopped)}", highlight=False
            )
        elif report.stopped == "idle" and data.by_status["deferred"]:
            console.print(
                f"{data.by_status['deferred']} deferred recipient(s) wait for a later retry (next at "
                f"{_fmt_time(data.next_retry_at)}): keep `sendwell worker` running, or send again then",
                highlight=False,
            )
    if report.stopped in ("breaker", "error"):
        raise typer.Exit(3)


def _run_with_progress(
    engine: Any, settings: Any, cid: int, total: int, *, quiet: bool, runner: Any, shared: bool = False
) -> Any:
    """Run the sender with a progress bar; `shared`: other processes send too, so the bar counts the
    campaign's rows in the database (at most twice a second) instead of this process's outcomes."""
    if quiet or not sys.stderr.isatty():
        return runner(engine, settings, [cid])
    import threading

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from sendwell.stats import campaign_stats

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("sending", total=total or None)

        def show(c: dict[str, int]) -> None:
            done = c["sent"] + c["error"] + c["failed"] + c["skipped"]
            progress.update(
                task, completed=done, description=f"sent {c['sent']} error {c['error']} deferred {c['deferred']}"
            )

        if not shared:
            return runner(engine, settings, [cid], on_progress=lambda report: show(report.counts))
        # Other processes send too: count the campaign's rows, in a thread of its own, since a count over
        # a big campaign would stall the sending loop's connections.
        start = campaign_stats(engine, cid).by_status
        done = threading.Event()

        def poll() -> None:
            while not done.wait(1.0):
                now = campaign_stats(engine, cid).by_status
                show({k: now.get(k, 0) - (0 if k == "deferred" else start.get(k, 0)) for k in now})

        watcher = threading.Thread(target=poll, name="progress", daemon=True)
        watcher.start()
        try:
            return runner(engine, settings, [cid])
        finally:
            done.set()
            watcher.join()


def _spawn_worker(settings: Any, cid: int, *, foreground: bool = False) -> Any:
    """A `worker --campaign C --until-done` process with these settings: in the background (its pid and
    log file), or as a helper of a foreground `send --processes` (the Popen; its output goes to our stderr)."""
    import os
    import subprocess
    import tempfile

    from sendwell.config import as_env

    env = {k: v for k, v in os.environ.items() if k != "SENDWELL_SMTP_URL"}
    env.update(as_env(settings))  # the whole configuration, whatever file or flags it came from
    args = [sys.executable, "-m", "sendwell.cli", "worker", "--campaign", str(cid), "--until-done"]
    if foreground:  # its log goes to a file we read at the end: a pipe nobody reads would block it
        log_file = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by _join once the process ends
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=log_file, stdin=subprocess.DEVNULL, env=env, text=True
        )
        proc.log_file = log_file  # type: ignore[attr-defined]
        return proc
    fd, log = tempfile.mkstemp(prefix=f"sendwell-campaign-{cid}-", suffix=".log")
    child = subprocess.Popen(args, stdout=fd, stderr=fd, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    os.close(fd)
    return child.pid, log


def _join(helpers: list[Any], *, stop: bool = False) -> None:
    """Wait for the helper processes of `send --processes`; with `stop` (or on an interrupt), ask them to
    stop cleanly first (SIGTERM: they finish the messages in hand and give their leases back)."""
    import signal

    def terminate() -> None:
        for proc in helpers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    if stop:
        terminate()
    try:
        for proc in helpers:
            proc.wait()
    except KeyboardInterrupt:
        terminate()
        for proc in helpers:
            proc.wait()
        raise
    for proc in helpers:
        proc.log_file.seek(0)
        tail = proc.log_file.read().strip().splitlines()[-3:]
        proc.log_file.close()
        asked = stop and proc.returncode == -signal.SIGTERM  # we stopped it: not worth a warning
        if proc.returncode not in (0, None) and not asked:
            err_console.print(
                f"[yellow]warning:[/yellow] a sending process ended with exit code {proc.returncode}: "
                + " | ".join(tail),
                highlight=False,
            )


def pause(ctx: typer.Context, campaign: str) -> None:
    """Stop sending a campaign (workers finish the message in hand); `resume` continues."""
    from sendwell.sending import control

    control.pause(ctx_obj(ctx).engine, campaign)
    console.print(f"campaign {campaign!r} paused", highlight=False)


def resume(ctx: typer.Context, campaign: str) -> None:
    """Let a paused campaign send again (a running `sendwell worker` picks it up, or run `send`)."""
    from sendwell.sending import control

    control.resume(ctx_obj(ctx).engine, campaign)
    console.print(
        f"campaign {campaign!r} is sending again: `sendwell campaigns send {campaign}` or a running "
        "`sendwell worker` delivers it",
        highlight=False,
    )


def cancel(ctx: typer.Context, campaign: str) -> None:
    """Cancel a campaign for good; recipients not yet sent are marked skipped."""
    from sendwell.sending import control

    n = control.cancel(ctx_obj(ctx).engine, campaign)
    console.print(f"campaign {campaign!r} cancelled; {n} unsent recipients skipped", highlight=False)


def resend(
    ctx: typer.Context,
    campaign: str,
    status: Annotated[str, typer.Option(help="Which recipients to send again: deferred,failed")] = "deferred,failed",
    as_json: JsonOpt = False,
) -> None:
    """Send again to the recipients left deferred or failed (never to sent or error ones)."""
    from sendwell.model import parse_statuses
    from sendwell.sending import control, engine
    from sendwell.sending.relay import parse_relays
    from sendwell.stats import campaign_stats

    obj = ctx_obj(ctx)
    statuses = parse_statuses(status)
    parse_relays(obj.settings.smtp.urls)
    n = control.resend(obj.engine, campaign, statuses)
    if n == 0:
        if as_json:
            print_json({"requeued": 0})
        else:
            console.print(f"no recipient of {campaign!r} is {' or '.join(statuses)}: nothing to send", highlight=False)
        return
    if not as_json:
        console.print(f"{n} recipients queued again", highlight=False)
    cid = campaign_stats(obj.engine, campaign).id
    report = _run_with_progress(obj.engine, obj.settings, cid, n, quiet=as_json, runner=engine.send)
    data = campaign_stats(obj.engine, cid, retry_horizon_hours=obj.settings.sending.retry_horizon_hours)
    if as_json:
        print_json({"requeued": n, "stopped": report.stopped, "this_run": report.counts, "stats": data})
    else:
        _show_stats(data)
        if report.message:
            err_console.print(
                f"[yellow]{report.stopped}:[/yellow] {report.message}{next_step(report.stopped)}", highlight=False
            )


def stats(ctx: typer.Context, campaign: str, as_json: JsonOpt = False) -> None:
    """Counts by status, address-error rate, top error codes, server problems (apart)."""
    from sendwell.stats import campaign_stats

    obj = ctx_obj(ctx)
    data = campaign_stats(obj.engine, campaign, retry_horizon_hours=obj.settings.sending.retry_horizon_hours)
    if as_json:
        print_json(data)
    else:
        _show_stats(data)


def recipients(
    ctx: typer.Context,
    campaign: str,
    status: Annotated[str, typer.Option(help="Statuses to export, e.g. error or deferred,failed")] = "error",
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[str, typer.Option("-o", "--output", help="File to write ('-' for stdout)")] = "-",
) -> None:
    """Export the recipients in a status with SMTP code, answer, time and contact fields."""
    from sendwell import exports

    if fmt not in ("csv", "json"):
        raise UserError(f"--format {fmt}: choose csv or json")
    export = exports.recipients(ctx_obj(ctx).engine, campaign, status)
    if fmt == "csv":
        n = write_export(export, output)
    else:
        with output_text(output) as out:
            n = 0
            out.write("[")
            for row in export.rows:
                out.write(("\n" if n == 0 else ",\n") + json.dumps(row, default=str, ensure_ascii=False))
                n += 1
            out.write("\n]\n")
    if output != "-":
        err_console.print(f"{n} recipients written to {output}", highlight=False)


def limit(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Resume sending after the circuit breaker paused it")
    ] = False,
) -> None:
    """Today's daily limit, used, remaining, error rate, the circuit breaker and the history."""
    from sendwell.sending.usage import limit_report, resume_breaker

    obj = ctx_obj(ctx)
    if resume:
        was = resume_breaker(obj.engine)
        if not as_json:
            console.print("sending resumed" if was else "the circuit breaker was not tripped", highlight=False)
    from sendwell.sending.relay import daily_caps

    data = limit_report(obj.engine, obj.settings.limit, relay_caps=daily_caps(obj.settings.smtp.urls))
    if as_json:
        print_json(data)
        return
    t = data.today
    console.print(
        f"today {t.day} ({data.window}): limit {t.limit}, used {t.used}, remaining "
        f"{t.remaining}, address-error rate {t.error_rate:.1%}",
        highlight=False,
    )
    if data.breaker:
        console.print(
            f"[bold red]sending paused by the circuit breaker[/bold red] since {data.breaker.at}: "
            f"{data.breaker.reason}{next_step('breaker')}",
            highlight=False,
        )
    console.print(f"policy: {data.policy}", highlight=False)
    from sendwell.cli.common import table

    if data.relays:
        table(data.relays, ["relay", "daily_limit", "sent_today", "remaining"], title="relays with a daily cap")
    table(data.history, ["day", "limit", "sent", "address_errors", "error_rate", "complaints"], title="history")


def worker(
    ctx: typer.Context,
    campaign: Annotated[list[str] | None, typer.Option(help="Only these campaigns (repeatable)")] = None,
    until_done: Annotated[
        bool,
        typer.Option(
            "--until-done",
            help="Exit when nothing is due within a minute (retries, and scheduled campaigns, which it starts)",
        ),
    ] = False,
) -> None:
    """Run the sending loop as a service: every sending campaign, scheduled ones at their time, retries, the
    daily limit."""
    import logging

    from sendwell.campaigns import get_campaign
    from sendwell.sending.engine import Sender

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    obj = ctx_obj(ctx)
    ids = [get_campaign(obj.engine, c).id for c in campaign or []]
    last = {"n": 0}

    def progress(report: Any) -> None:
        n = sum(report.counts.values())
        if n - last["n"] >= 1000:
            last["n"] = n
            logging.info("progress %s", report.counts)

    report = Sender(
        obj.engine, obj.settings, campaign_ids=ids or None, forever=not until_done, on_progress=progress, worker=True
    ).run()
    logging.info("stopped (%s) %s %s", report.stopped, report.counts, report.message)
    if report.stopped in ("breaker", "error"):  # as `campaigns send`: whoever started us should know
        raise typer.Exit(3)
