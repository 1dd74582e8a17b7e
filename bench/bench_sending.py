"""End-to-end sending throughput into Postfix's smtp-sink, against `smtp-source -d` into the same sink.

Each row is the whole path: ledger claim → personalised HTML + text message (≈10 KB on the wire; five
merge fields, a condition and a loop) → relay connection → outcome recorded, for a fresh ledger sent by
fresh processes (so each row's peak RSS is its own). Every row says its settings (processes,
connections, messages per connection, claim batch size, the ledger's durability) and runs `--runs` times
(3), each run in turns with `smtp-source -d` (16 sessions, same message size, same sink: the ceiling first
in every other pair); it shows medians, and the ratio is the median of each pair's own ratio, since this
shared machine drifts by ±30%. Rows: "target" (SQLite, 16 connections over 2 processes, every other
setting its default: the >= 0.5 goal), "defaults" (what `sendwell campaigns send` does with no option: the
>= 0.35 goal), PostgreSQL (a database of its own, created and dropped) with 16 connections over
`--pg-processes`, and on request more SQLite rows (`--connections`: one process; `--split`: 16 connections
over N processes). Each row also gives the sending processes' CPU per message (and for PostgreSQL the
server backends'), messages per commit and the largest peak RSS of its sending processes. A sending process
is timed from the engine's start (its modules loaded) to its end, a row from the first start to the last end;
`loop` is the event loop the senders ran on (`--asyncio` adds the target and defaults rows on asyncio's own).

`--memory 10000,100000,1000000` instead sends campaigns of those sizes (SQLite, 16 connections, one
process) and reports the peak RSS of each: it must stay flat as the list grows. 1M recipients takes
about ten minutes on the 2-core VM. The ledger is filled with set-based SQL, not the CSV import.
Diagnostics: `--sqlite-cache-mb N` overrides the senders' `PRAGMA cache_size` (SQLite's page cache,
64 MiB by default, fills as the ledger grows: it is what separates peak RSS at 10k and 1M);
`--tracemalloc` reports the Python heap of each sender and where it grew (≈13× slower: for finding
growth, not for throughput).

    .venv/bin/python bench/bench_sending.py [--recipients 20000] [--runs 3] [--asyncio] [--connections 1,4,16,64]
        [--split 4] [--pg-processes 1,2,4] [--memory 10000,100000,1000000] [--json out.json]

Writes bench/results/sending.json (and sending_memory.json). The senders use the default settings but
for the connections (and a daily limit above the campaign). Needs /usr/sbin/smtp-sink and smtp-source (`apt-get install
postfix`; no daemon needed) and skips with a message when they are missing; PostgreSQL rows are
skipped with a message when the server (SENDWELL_TEST_PG_URL or --pg-url) is not reachable.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, report

PG_ADMIN = os.environ.get("SENDWELL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CEILING_SESSIONS = 16
# The row the target is judged on (>= 0.5 of smtp-source -d): `sendwell campaigns send C --connections 16
# --processes 2`, every other setting its default.
TARGET_CONNECTIONS, TARGET_PROCESSES = 16, 2


def tool(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    args = [tool("smtp-sink"), f"127.0.0.1:{port}", "1024"]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "nobody"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.02)
    raise SystemExit("smtp-sink did not start")


# ≈10 KB on the wire on average (9.6 KB in 7bit, more for the third of contacts whose city, Köln, makes
# the text part base64). Real personalisation: five merge fields (first_name, last_name, city, plan,
# interests), a condition on the plan and a loop over the contact's interests, in both parts.
HTML = (
    "<html><body><h1>Hello {{ first_name }} {{ last_name }}!</h1>\n<p>Our spring news for {{ city }}.</p>\n"
    "{% if plan == 'pro' %}<p>As a Pro member you get early access.</p>\n"
    "{% else %}<p>Upgrade to Pro for early access.</p>\n{% endif %}"
    "<ul>\n{% for topic in interests.split(',') %}<li>New in {{ topic }} for you</li>\n{% endfor %}</ul>\n"
    + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n" * 62
    + '<p><a href="{{ unsubscribe_url }}">unsubscribe</a></p></body></html>\n'
)
TEXT = (
    "Hello {{ first_name }} {{ last_name }}!\n\nOur spring news for {{ city }}.\n\n"
    "{% if plan == 'pro' %}As a Pro member you get early access.{% else %}Upgrade to Pro for early access."
    "{% endif %}\n\n"
    "{% for topic in interests.split(',') %}- New in {{ topic }} for you\n{% endfor %}\n"
    + "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n" * 30
    + "Unsubscribe: {{ unsubscribe_url }}\n"
)
SUBJECT = "News for {{ first_name }} in {{ city }}"
FROM = "Bench <news@bench.example>"


def message_size() -> int:
    """Average size of the messages sent, for smtp-source's -l (10 KB if the builder's API moved)."""
    try:
        from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign

        prepared = PreparedCampaign(CampaignContent(1, SUBJECT, FROM, HTML, TEXT), Links("bench", "b.example"))
        sizes = [len(prepared.render(Personal(i, f"r{i}@bench.example", contact_fields(i))).data) for i in range(3)]
        return sum(sizes) // len(sizes)
    except Exception:  # only the ceiling's message size depends on it
        return 10_240


def contact_fields(i: int) -> dict[str, str]:
    """The same fields as the SQL fills below give contact i."""
    return {
        "first_name": f"Name{i}",
        "last_name": f"Family{i % 997}",
        "city": "Köln" if i % 3 == 0 else "Paris",
        "plan": "pro" if i % 4 == 0 else "free",
        "interests": "books,music,travel" if i % 2 else "garden,food",
    }


# -- children: fill a ledger, send it --------------------------------------------------------------

_FILL_SQLITE = """
INSERT INTO contacts (email, display, domain, fields, created_at, updated_at)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :n)
SELECT 'r' || i || '@bench.example', 'r' || i || '@bench.example', 'bench.example',
       json_object('first_name', 'Name' || i, 'last_name', 'Family' || (i % 997),
                   'city', CASE WHEN i % 3 = 0 THEN 'Köln' ELSE 'Paris' END,
                   'plan', CASE WHEN i % 4 = 0 THEN 'pro' ELSE 'free' END,
                   'interests', CASE WHEN i % 2 = 1 THEN 'books,music,travel' ELSE 'garden,food' END), :now, :now
FROM n
"""
_FILL_PG = """
INSERT INTO contacts (email, display, domain, fields, created_at, updated_at)
SELECT 'r' || i || '@bench.example', 'r' || i || '@bench.example', 'bench.example',
       json_build_object('first_name', 'Name' || i, 'last_name', 'Family' || (i % 997),
                         'city', CASE WHEN i % 3 = 0 THEN 'Köln' ELSE 'Paris' END,
                         'plan', CASE WHEN i % 4 = 0 THEN 'pro' ELSE 'free' END,
                         'interests', CASE WHEN i % 2 = 1 THEN 'books,music,travel' ELSE 'garden,food' END),
       :now, :now
FROM generate_series(0, :n - 1) AS i
"""


def fill(db_url: str, recipients: int) -> int:
    """A fresh ledger: `recipients` contacts with fields (one set-based INSERT), one started campaign."""
    from sqlalchemy import bindparam, text

    from sendwell import campaigns
    from sendwell.db.engine import is_postgres, open_database, utcnow
    from sendwell.db.schema import Stamp

    engine = open_database(db_url)
    stmt = text(_FILL_PG if is_postgres(engine) else _FILL_SQLITE).bindparams(bindparam("now", type_=Stamp))
    with engine.begin() as conn:
        conn.execute(stmt, {"n": recipients, "now": utcnow()})
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE contacts")
    cid = campaigns.create_campaign(engine, name="bench", subject=SUBJECT, from_addr=FROM, html=HTML, text=TEXT)
    campaigns.start_campaign(engine, cid)
    if is_postgres(engine):  # as autovacuum would soon after a big start; the claim plans depend on it
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE recipients")
    engine.dispose()
    return cid


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used, from /proc; 0 when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (a DKIM signing pool, were one started)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(
    db_url: str,
    cid: int,
    connections: int,
    port: int,
    recipients: int,
    *,
    per_connection: int | None = None,
    batch: int | None = None,
    loop: str | None = None,
    cache_mb: int | None = None,
    trace: bool = False,
) -> dict:
    """One sending process (the engine `sendwell worker` runs) until the campaign is done."""

    from sqlalchemy import event

    from sendwell.config import Settings
    from sendwell.db.engine import is_postgres, open_database
    from sendwell.sending import eventloop
    from sendwell.sending.engine import send

    # Loaded before the clock starts, as in a worker that runs for hours: the modules the engine imports on its
    # first use (the SQL store, DKIM, rendering; ≈70 ms) are start-up, not a cost of the messages.
    importlib.import_module("sendwell.sending.sqlstore")
    importlib.import_module("sendwell.sending.render")
    importlib.import_module("sendwell.dkim")

    engine = open_database(db_url)
    backends: set[int] = set()
    engine.dispose()  # the listeners below apply to the connections the sender opens
    if is_postgres(engine):

        @event.listens_for(engine, "connect")
        def _backend(dbapi_conn, _record) -> None:  # DB-API connection
            cur = dbapi_conn.cursor()
            cur.execute("SELECT pg_backend_pid()")
            backends.add(cur.fetchone()[0])
            cur.close()
            dbapi_conn.rollback()
    elif cache_mb is not None:
        event.listen(engine, "connect", lambda c, _r: c.execute(f"PRAGMA cache_size=-{cache_mb * 1024}"))
    commits = [0]  # transactions: outcomes of all connections share one, so fewer per message is better
    event.listen(engine, "commit", lambda _conn: commits.__setitem__(0, commits[0] + 1))
    s = Settings()  # the defaults a user gets; the bench sets only what is given (and the relay, the limit)
    settings = replace(
        s,
        smtp=replace(
            s.smtp,
            urls=(f"smtp://127.0.0.1:{port}",),
            connections=connections,
            messages_per_connection=per_connection or s.smtp.messages_per_connection,
        ),
        sending=replace(
            s.sending, secret="bench", batch_size=batch or s.sending.batch_size, event_loop=loop or s.sending.event_loop
        ),
        limit=replace(s.limit, start=10 * recipients, cap=10 * recipients),
    )
    if trace:
        import tracemalloc

        tracemalloc.start(5)
        before = tracemalloc.take_snapshot()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db_cpu = {pid: _proc_cpu(pid) for pid in backends}
    cpu, started = _cpu(), time.time()
    report = send(engine, settings, [cid], linger=0)
    ended, cpu = time.time(), _cpu() - cpu
    out = {
        "start": started,
        "end": ended,
        "sent": report.counts["sent"],
        "stopped": report.stopped,
        "cpu_s": cpu,
        "commits": commits[0],
        "durability": durability(engine),
        "loop": eventloop.loop_name(settings.sending.event_loop),
        "db_cpu_s": sum(_proc_cpu(pid) - db_cpu.get(pid, 0.0) for pid in backends),
        "rss_before_mb": round(rss_before / 1024, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if trace:
        current, peak = tracemalloc.get_traced_memory()
        diff = tracemalloc.take_snapshot().compare_to(before, "traceback")
        out.update(
            heap_now_mb=round(current / 2**20, 2),
            heap_peak_mb=round(peak / 2**20, 2),
            heap_growth=[
                f"{d.size_diff / 1024:+.0f} KiB in {d.count_diff:+} blocks at "
                + " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in d.traceback)
                for d in diff[:8]
            ],
        )
    engine.dispose()
    return out


def durability(engine) -> str:
    """How durable a commit is, as the sender's own connections have it (every outcome is committed before
    its connection sends again, in all rows)."""
    from sendwell.db.engine import is_postgres

    with engine.connect() as conn:
        if is_postgres(engine):
            return f"synchronous_commit={conn.exec_driver_sql('SHOW synchronous_commit').scalar()}"
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return f"{journal}, synchronous={dict(enumerate(('OFF', 'NORMAL', 'FULL', 'EXTRA'))).get(sync, sync)}"


def _child(args: list[str]) -> str:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return out.stdout.strip().splitlines()[-1]


# -- the parent: ledgers, configurations, the ceiling ------------------------------------------------


@contextlib.contextmanager
def sqlite_ledger() -> Iterator[str]:
    tmp = Path(tempfile.mkdtemp(prefix="sendwell-bench-"))
    try:
        yield f"sqlite:///{tmp / 'bench.db'}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_pg_databases = 0


@contextlib.contextmanager
def pg_ledger(admin_url: str) -> Iterator[str]:
    """A database of our own for one configuration, dropped afterwards."""
    from sqlalchemy import create_engine

    global _pg_databases
    _pg_databases += 1
    name = f"sendwell_bench_{os.getpid()}_{_pg_databases}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def pg_reachable(admin_url: str) -> str | None:
    """None when we can create databases there, else why not."""
    try:
        with pg_ledger(admin_url):
            return None
    except Exception as err:  # reported, and the PostgreSQL rows are skipped
        return f"{type(err).__name__}: {str(err).splitlines()[0]}"


def configuration(db_url: str, recipients: int, connections: int, processes: int, port: int, extra: list[str]) -> dict:
    """Fill the ledger, then send it with `processes` fresh processes sharing `connections` (`extra`: the
    children's other settings, e.g. --per-connection, --batch)."""
    cid = int(_child(["--fill", "--db", db_url, "--recipients", str(recipients)]))
    shares = [connections // processes + (1 if k < connections % processes else 0) for k in range(processes)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--run",
                "--db",
                db_url,
                "--cid",
                str(cid),
                "--connections",
                str(share),
                "--port",
                str(port),
                "--recipients",
                str(recipients),
                *extra,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    outs = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"sender process failed ({p.returncode})")
        outs.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    sent = sum(o["sent"] for o in outs)
    per_msg = 1000 / max(1, sent)
    row = {
        "procs": processes,
        "conns": connections,
        "sent": sent,
        "seconds": round(elapsed, 2),
        "msg_per_s": round(sent / elapsed, 1),
        "cpu_ms_per_msg": round(per_msg * sum(o["cpu_s"] for o in outs), 3),
        "db_cpu_ms_per_msg": round(per_msg * sum(o["db_cpu_s"] for o in outs), 3) if "postgres" in db_url else None,
        "msg_per_commit": round(sent / max(1, sum(o["commits"] for o in outs)), 1),
        "peak_rss_mb": max(o["max_rss_mb"] for o in outs),
        "durability": outs[0]["durability"],
        "loop": outs[0]["loop"],
        "rss_at_start_mb": max(o["rss_before_mb"] for o in outs),
    }
    if sent != recipients:
        row["note"] = f"{recipients - sent} not sent; stopped: {', '.join(sorted({o['stopped'] for o in outs}))}"
    for key in ("heap_now_mb", "heap_peak_mb", "heap_growth"):
        if key in outs[0]:
            row[key] = [o[key] for o in outs] if processes > 1 else outs[0][key]
    return row


def ceiling(messages: int, port: int, size: int) -> dict:
    """`smtp-source -d` (a fresh SMTP transaction per message, pipelined) into the same sink."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [
            tool("smtp-source"),
            "-d",
            "-s",
            str(CEILING_SESSIONS),
            "-m",
            str(messages),
            "-l",
            str(size),
            "-f",
            "news@bench.example",
            "-t",
            "r@bench.example",
            f"127.0.0.1:{port}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return {
        "ledger": "smtp-source -d",
        "procs": 1,
        "conns": CEILING_SESSIONS,
        "sent": messages,
        "seconds": round(elapsed, 2),
        "msg_per_s": round(messages / elapsed, 1),
        "cpu_ms_per_msg": round(1000 * used / messages, 3),
    }


def _ints(value: str) -> list[int]:
    return [int(x) for x in value.split(",") if x.strip()]


COLUMNS = [
    "row",
    "ledger",
    "procs",
    "conns",
    "per_conn",
    "batch",
    "durability",
    "loop",
    "msg_per_s",
    "ceiling",
    "ratio",
    "ratios",
    "cpu_ms_per_msg",
    "db_cpu_ms_per_msg",
    "msg_per_commit",
    "peak_rss_mb",
    "note",
]
MEMORY_COLUMNS = [
    "recipients",
    "sent",
    "seconds",
    "msg_per_s",
    "cpu_ms_per_msg",
    "rss_at_start_mb",
    "peak_rss_mb",
    "heap_peak_mb",
    "note",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipients", type=int, default=20_000, help="per configuration (default 20000)")
    ap.add_argument("--runs", type=int, default=3, help="runs per row, each in turns with smtp-source (default 3)")
    ap.add_argument("--connections", default="", help="more rows: SQLite, one process with each, e.g. 1,4,16,64")
    ap.add_argument("--split", default="", help="more rows: SQLite, 16 connections over each of these process counts")
    ap.add_argument(
        "--pg-processes",
        default="2",
        help="PostgreSQL, 16 connections split over each of these process counts ('' for none)",
    )
    ap.add_argument("--pg-url", default=PG_ADMIN, help="PostgreSQL server where a bench database may be created")
    ap.add_argument(
        "--memory",
        default="",
        help="instead: peak RSS per campaign size, e.g. 10000,100000,1000000 (SQLite, 16 connections)",
    )
    ap.add_argument("--sqlite-cache-mb", type=int, help="diagnostic: the senders' SQLite page cache size")
    ap.add_argument("--tracemalloc", action="store_true", help="diagnostic: the senders' Python heap (slow)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--asyncio", action="store_true", help="also the target and defaults rows on asyncio's own loop")
    for hidden in ("--fill", "--run"):
        ap.add_argument(hidden, action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--port", "--cid", "--per-connection", "--batch"):
        ap.add_argument(hidden, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--event-loop", help=argparse.SUPPRESS)  # a child's [sending] event_loop
    ap.add_argument("--db", help=argparse.SUPPRESS)  # a child's ledger URL
    args = ap.parse_args()
    if args.fill:
        print(fill(args.db, args.recipients))
        return
    if args.run:
        print(
            json.dumps(
                run(
                    args.db,
                    args.cid,
                    int(args.connections),
                    args.port,
                    args.recipients,
                    per_connection=args.per_connection,
                    batch=args.batch,
                    loop=args.event_loop,
                    cache_mb=args.sqlite_cache_mb,
                    trace=args.tracemalloc,
                )
            )
        )
        return
    if not (tool("smtp-sink") and tool("smtp-source")):
        print("skipped: smtp-sink/smtp-source not found (apt-get install -y postfix; no daemon needed)")
        return
    extra = ([f"--sqlite-cache-mb={args.sqlite_cache_mb}"] if args.sqlite_cache_mb is not None else []) + (
        ["--tracemalloc"] if args.tracemalloc else []
    )
    print(f"load before: {load()}", flush=True)
    port = free_port()
    sink = start_sink(port)
    try:
        if args.memory:
            memory(_ints(args.memory), port, extra, args.json)
        else:
            table(args, port, extra)
    finally:
        sink.terminate()
        sink.wait()
    print(f"load after: {load()}")


@dataclass(frozen=True)
class Config:
    """One row: the ledger and the sending settings (None: the default a user gets)."""

    row: str
    ledger: str  # SQLite | PostgreSQL
    conns: int
    procs: int = 1
    per_connection: int | None = None
    batch: int | None = None
    loop: str | None = None  # [sending] event_loop

    def args(self) -> list[str]:
        return (
            [f"--per-connection={self.per_connection}"] * bool(self.per_connection)
            + [f"--batch={self.batch}"] * bool(self.batch)
            + [f"--event-loop={self.loop}"] * bool(self.loop)
        )


def plan(args: argparse.Namespace) -> list[Config]:
    from sendwell.config import Settings

    smtp = Settings().smtp
    rows = [
        Config("target", "SQLite", TARGET_CONNECTIONS, TARGET_PROCESSES),
        Config("defaults", "SQLite", smtp.connections, 1),  # `sendwell campaigns send C`, no options
    ]
    rows += [Config("one process", "SQLite", c, 1) for c in _ints(args.connections)]
    rows += [Config("split", "SQLite", 16, p) for p in _ints(args.split) if p > 1 and p != TARGET_PROCESSES]
    if args.asyncio:  # the two rows again on asyncio's own loop: what uvloop gives, in the same run
        rows += [replace(r, row=r.row + " (asyncio)", loop="asyncio") for r in rows[:2]]
    return rows


def table(args: argparse.Namespace, port: int, extra: list[str]) -> None:
    """Each configuration `--runs` times, each run beside a run of `smtp-source -d` (in turns: the
    ceiling first in every other pair); figures are medians, the ratio the median of the pairs' ratios."""
    from sendwell.config import Settings

    size, n, runs = message_size(), args.recipients, max(1, args.runs)
    messages = max(n, 20_000)  # a shorter run of smtp-source is over in a blink: too noisy
    defaults = Settings()
    configs = plan(args)
    pg_procs = _ints(args.pg_processes)
    why = pg_reachable(args.pg_url) if pg_procs else None
    if why:
        print(f"PostgreSQL rows skipped: {why}")
    configs += [Config("PostgreSQL", "PostgreSQL", 16, p) for p in (pg_procs if not why else [])]
    print(
        f"{n:,} recipients per run, {size:,}-byte messages, {runs} run(s) per row in turns with "
        f"`smtp-source -d -s {CEILING_SESSIONS}`",
        flush=True,
    )
    rows: list[dict] = []
    tops: list[dict] = []
    for cfg in configs:
        pairs = []
        for k in range(runs):
            order = ("ceiling", "row") if k % 2 == 0 else ("row", "ceiling")
            got: dict[str, dict] = {}
            for what in order:
                if what == "ceiling":
                    got[what] = ceiling(messages, port, size)
                    continue
                ledger = sqlite_ledger() if cfg.ledger == "SQLite" else pg_ledger(args.pg_url)
                with ledger as url:
                    got[what] = configuration(url, n, cfg.conns, cfg.procs, port, extra + cfg.args())
            tops.append(got["ceiling"])
            pairs.append((got["row"], got["ceiling"]))
        row = _median_row(cfg, pairs, defaults)
        rows.append(row)
        print(
            f"{cfg.row:<12} {cfg.ledger:<10} {cfg.conns:>2} conns / {cfg.procs} proc(s), {row['loop']}, "
            f"{row['per_conn']} per connection, batch {row['batch']}: {row['msg_per_s']:>7,.0f} msg/s = "
            f"{row['ratio']:.2f} of {row['ceiling']:,.0f} (pairs {row['ratios']}) {row.get('note', '')}",
            flush=True,
        )
    print()
    report(
        "sending",
        rows,
        COLUMNS,
        extra={"recipients": n, "message_bytes": size, "runs": runs, "ceilings": tops, "load": load()},
    )
    print()
    for cfg_row, goal in (("target", 0.5), ("defaults", 0.35)):
        r = next((r for r in rows if r["row"] == cfg_row), None)
        if r:
            verdict = "met" if r["ratio"] >= goal else "NOT met"
            print(
                f"{cfg_row}: {r['conns']} connections in {r['procs']} process(es), {r['per_conn']} messages per "
                f"connection, batches of {r['batch']}, {r['durability']}: {r['msg_per_s']:,.0f} msg/s = "
                f"{r['ratio']:.2f} of smtp-source -d (median of {runs}; target >= {goal}: {verdict})"
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "ceilings": tops}, indent=2))


def _median_row(cfg: Config, pairs: list[tuple[dict, dict]], defaults) -> dict:
    """The median of each figure over the runs; the ratio is the median of each run's ratio to its own ceiling."""

    def med(key: str, src: int = 0) -> float:
        values = [p[src][key] for p in pairs if p[src].get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    ratios = [round(r["msg_per_s"] / c["msg_per_s"], 3) for r, c in pairs]
    row = {
        "row": cfg.row,
        "ledger": cfg.ledger,
        "procs": cfg.procs,
        "conns": cfg.conns,
        "per_conn": cfg.per_connection or defaults.smtp.messages_per_connection,
        "batch": cfg.batch or defaults.sending.batch_size,
        "durability": pairs[0][0]["durability"],
        "loop": pairs[0][0]["loop"],
        "sent": pairs[0][0]["sent"],
        "msg_per_s": med("msg_per_s"),
        "ceiling": med("msg_per_s", 1),
        "ratio": round(statistics.median(ratios), 3),
        "ratios": " ".join(f"{x:.2f}" for x in ratios),
        "cpu_ms_per_msg": med("cpu_ms_per_msg"),
        "db_cpu_ms_per_msg": med("db_cpu_ms_per_msg"),
        "msg_per_commit": med("msg_per_commit"),
        "peak_rss_mb": max(p[0]["peak_rss_mb"] for p in pairs),
    }
    notes = {p[0]["note"] for p in pairs if p[0].get("note")}
    if notes:
        row["note"] = "; ".join(sorted(notes))
    return row


def memory(sizes: list[int], port: int, extra: list[str], json_path: str | None) -> None:
    """Peak RSS of one sending process (16 connections, SQLite) per campaign size."""
    rows = []
    for n in sizes:
        with sqlite_ledger() as url:
            row = {"recipients": n, **configuration(url, n, 16, 1, port, extra)}
        rows.append(row)
        print(
            f"{n:>9,} recipients: {row['msg_per_s']:>7,.0f} msg/s, RSS {row['rss_at_start_mb']} MB at start, "
            f"peak {row['peak_rss_mb']} MB {row.get('note', '')}",
            flush=True,
        )
        for line in row.get("heap_growth", []):
            print(f"    {line}")
    print()
    report("sending_memory", rows, MEMORY_COLUMNS, extra={"connections": 16, "load": load()})
    if json_path:
        Path(json_path).write_text(json.dumps({"memory": rows}, indent=2))


if __name__ == "__main__":
    main()
