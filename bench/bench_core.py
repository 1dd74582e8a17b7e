"""Import 1M generated contacts and resolve an audience of ~800k − 100k excluded − 20k blacklisted.

Prints rows/s per step on SQLite and PostgreSQL, the raw sqlite3 baselines for the same resolution,
and the peak memory of the import at two sizes (it must stay flat: the import streams).

Audience on SQLite, compared with hand-written statements in stdlib sqlite3 on the same database, run in
turns with ours: into a bare temporary table (in memory, selection and dedup only: the strictest reading
of the issue's reference), into a plain table in the database file with the one uniqueness the result
needs, and (once) into the real `recipients` ledger (its indexes and foreign keys). `vs_raw` is seconds /
the temporary table's seconds, `vs_durable` / the plain durable table's. `cpu_s` is this process's (or
the importing child's) CPU time: on a shared machine it varies less than wall time; PostgreSQL's server
CPU is not in it.

Then the audience on each database in turns (`--turns` rounds, the order alternating): a first campaign into an
empty ledger and a second into the ledger holding the first's rows; `vs_first` is the second's median over the
first's, `vs_sqlite` the median of PostgreSQL's time over SQLite's in the same round.

    python bench/bench_core.py [--rows 1000000] [--db sqlite,postgres] [--repeat 5] [--turns 5]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report

PG_ADMIN = os.environ.get("SENDWELL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def write_csv(path: Path, n: int, start: int = 0) -> None:
    with path.open("w") as f:
        f.write("email,first_name,plan\n")
        for i in range(start, start + n):
            f.write(f"user{i}@d{i % 5000}.example.com,Name{i},{'pro' if i % 3 else 'free'}\n")


def write_list(path: Path, lo: int, hi: int, step: int = 1) -> None:
    with path.open("w") as f:
        for i in range(lo, hi, step):
            f.write(f"user{i}@d{i % 5000}.example.com\n")


def import_peak_rss(url: str, csv_path: Path) -> tuple[float, float, int]:
    """Import in a fresh process; returns (seconds, CPU seconds, peak RSS in KiB).

    The peak is the child's VmHWM, not getrusage's ru_maxrss: Linux carries the maximum RSS of the process
    that spawned it across exec, so a big parent (this script, after its in-process steps) would show instead.
    """
    code = (
        "import sys,time,re; from sendwell.db.engine import open_database; from sendwell import contacts;"
        "e=open_database(sys.argv[1]); t=time.perf_counter(); c=time.process_time();"
        "r=contacts.import_contacts(e, open(sys.argv[2],'rb')); dt=time.perf_counter()-t;"
        "hwm=re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1];"
        "print(dt, time.process_time()-c, hwm, r.imported)"
    )
    out = subprocess.run([sys.executable, "-c", code, url, str(csv_path)], capture_output=True, text=True, check=True)
    dt, cpu, rss, _ = out.stdout.split()
    return float(dt), float(cpu), int(rss)


def timed(fn, *args, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t, time.process_time() - c, result


def bench_db(kind: str, url: str, rows: int, tmp: Path, repeat: int = 5) -> list[dict]:
    from sendwell import blacklist, campaigns, segments
    from sendwell.db.engine import open_database
    from sendwell.sending import control

    results = []
    small = tmp / "small.csv"
    write_csv(small, rows // 10, start=10 * rows)
    big = tmp / "contacts.csv"
    write_csv(big, rows)
    dt_small, cpu_small, rss_small = import_peak_rss(url, small)
    dt, cpu, rss = import_peak_rss(url, big)
    results.append(
        {
            "db": kind,
            "step": f"import {rows // 10:,} contacts",
            "rows": rows // 10,
            "seconds": dt_small,
            "cpu_s": cpu_small,
            "rows_per_s": rows // 10 / dt_small,
            "peak_rss_mb": rss_small / 1024,
        }
    )
    results.append(
        {
            "db": kind,
            "step": f"import {rows:,} contacts",
            "rows": rows,
            "seconds": dt,
            "cpu_s": cpu,
            "rows_per_s": rows / dt,
            "peak_rss_mb": rss / 1024,
        }
    )

    engine = open_database(url)
    n_in, n_ex, n_bl = rows * 8 // 10, rows // 10, rows // 50
    for name, lo, hi, step in (("in", 0, n_in, 1), ("ex", 0, n_ex * 2, 2)):
        path = tmp / f"{name}.txt"
        write_list(path, lo, hi, step)
        segments.create(engine, name)
        with path.open("rb") as fh:
            dt, cpu, _ = timed(segments.import_members, engine, name, fh)
        count = (hi - lo) // step
        results.append(
            {
                "db": kind,
                "step": f"segment import {count:,}",
                "rows": count,
                "seconds": dt,
                "cpu_s": cpu,
                "rows_per_s": count / dt,
            }
        )
    path = tmp / "bl.txt"
    write_list(path, 1, n_bl * 3, 3)
    with path.open("rb") as fh:
        dt, cpu, _ = timed(blacklist.import_file, engine, fh)
    results.append(
        {
            "db": kind,
            "step": f"blacklist import {n_bl:,}",
            "rows": n_bl,
            "seconds": dt,
            "cpu_s": cpu,
            "rows_per_s": n_bl / dt,
        }
    )

    if kind != "sqlite":  # its audience runs in turns with SQLite's (audience_turns)
        engine.dispose()
        return results
    # SQLite: the reference and ours in turns, `repeat` times, each into the same (empty) ledger; this VM's
    # speed drifts by ±30% within minutes, so the ratio of each pair is what is compared, and its median.
    path = url.removeprefix("sqlite:///")
    pairs = []
    for i in range(repeat):
        cid = campaigns.create_campaign(
            engine, name=f"bench{i}", subject="s", from_addr="me@example.com", text="t", include=["in"], exclude=["ex"]
        )
        if i % 2:  # ours first in every other pair, so neither side always finds the other's pages cached
            dt, cpu, n = timed(campaigns.start_campaign, engine, cid)
            raw = raw_sqlite_baselines(path, cid, into_ledger=False)
        else:
            raw = raw_sqlite_baselines(path, cid, into_ledger=i == 0)
            dt, cpu, n = timed(campaigns.start_campaign, engine, cid)
        for r in raw.values():
            assert r["rows"] == n, (r, n)
            r["vs_raw"] = r["seconds"] / raw["temp"]["seconds"] if r is not raw["temp"] else None
        ours = {
            "db": kind,
            "step": f"resolve audience -> {n:,} (run {i + 1})",
            "rows": n,
            "seconds": dt,
            "cpu_s": cpu,
            "rows_per_s": n / dt,
            "vs_raw": dt / raw["temp"]["seconds"],
            "vs_durable": dt / raw["durable"]["seconds"],
        }
        pairs.append((raw, ours))
        control.cancel(engine, cid)
        campaigns.delete_campaign(engine, cid)  # the next pair writes into the same empty ledger
    # The usual case after the first campaign: the ledger already holds earlier ones, whose rows the new
    # campaign's rows go between in the address index.
    later = []
    for i in range(2):
        cid = campaigns.create_campaign(
            engine, name=f"later{i}", subject="s", from_addr="me@example.com", text="t", include=["in"], exclude=["ex"]
        )
        held = i * n
        dt, cpu, n = timed(campaigns.start_campaign, engine, cid)
        later.append(
            {
                "db": kind,
                "step": f"resolve audience -> {n:,} into a ledger holding {held:,} rows",
                "rows": n,
                "seconds": dt,
                "cpu_s": cpu,
                "rows_per_s": n / dt,
            }
        )
    engine.dispose()
    rows = []
    for raw, ours in pairs:
        rows += [*raw.values(), ours]
    rows.append(
        {
            "db": kind,
            "step": f"resolve audience: median of {len(pairs)} runs",
            "rows": pairs[0][1]["rows"],
            "seconds": statistics.median(o["seconds"] for _, o in pairs),
            "vs_raw": statistics.median(o["vs_raw"] for _, o in pairs),
            "vs_durable": statistics.median(o["vs_durable"] for _, o in pairs),
        }
    )
    return [*results, *rows, *later]


def audience_turns(urls: dict[str, str], repeat: int) -> list[dict]:
    """Each database in turn (the order alternating), `repeat` rounds: a first campaign into an empty ledger, then
    a second into the ledger holding the first's rows; both are deleted after the round (PostgreSQL: and the
    ledger vacuumed, as autovacuum would, since this server runs without it). Medians per database and step,
    and PostgreSQL's over SQLite's of the same round."""
    from sqlalchemy import text

    from sendwell import campaigns
    from sendwell.db.engine import open_database
    from sendwell.sending import control

    engines = {kind: open_database(url) for kind, url in urls.items()}
    times: dict[tuple[str, str], list[float]] = {}
    n = 0
    for i in range(repeat):
        order = list(engines) if i % 2 == 0 else list(reversed(engines))
        for kind in order:
            engine, made = engines[kind], []
            for step in ("first", "second"):
                cid = campaigns.create_campaign(
                    engine,
                    name=f"t{i}{step}",
                    subject="s",
                    from_addr="me@example.com",
                    text="t",
                    include=["in"],
                    exclude=["ex"],
                )
                dt, _, n = timed(campaigns.start_campaign, engine, cid)
                times.setdefault((kind, step), []).append(dt)
                made.append(cid)
            for cid in made:
                control.cancel(engine, cid)
                campaigns.delete_campaign(engine, cid)
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM recipients"))
            print(
                f"round {i + 1} {kind}: {times[kind, 'first'][-1]:.2f} s, {times[kind, 'second'][-1]:.2f} s", flush=True
            )
    for engine in engines.values():
        engine.dispose()
    rows = []
    for (kind, step), seconds in times.items():
        med = statistics.median(seconds)
        row = {
            "db": kind,
            "step": f"resolve audience -> {n:,}, {step} campaign in the ledger: median of {len(seconds)} in turns",
            "rows": n,
            "seconds": med,
            "rows_per_s": n / med,
            "runs": [round(t, 2) for t in seconds],
        }
        if step == "second":
            row["vs_first"] = med / statistics.median(times[kind, "first"])
        if kind != "sqlite" and ("sqlite", step) in times:
            row["vs_sqlite"] = statistics.median(p / q for p, q in zip(seconds, times["sqlite", step], strict=True))
        rows.append(row)
    return rows


RAW_SELECT = (
    "SELECT {cols} FROM segment_members m WHERE m.segment_id = 1 "
    "AND NOT EXISTS (SELECT 1 FROM segment_members x WHERE x.segment_id = 2 AND x.email = m.email) "
    "AND NOT EXISTS (SELECT 1 FROM blacklist b WHERE b.email = m.email)"
)


def raw_sqlite_baselines(path: str, campaign_id: int, into_ledger: bool = True) -> dict[str, dict]:
    """The same resolution as one hand-written statement in stdlib sqlite3, each committed:
    "temp", into a bare temporary table (in memory, one index: the strictest reading of the issue's
    reference); "durable", into a plain table in the database file with the one uniqueness the result
    needs, (campaign, address); "ledger" (`into_ledger`), into the real ledger (the same indexes and
    foreign keys as ours). The tables are emptied or dropped again, so ours writes into the same ledger."""
    con = sqlite3.connect(path, isolation_level=None)
    # the application's own settings (sendwell.db.engine)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "temp_store=MEMORY",
        "cache_size=-65536",
    ):
        con.execute(f"PRAGMA {pragma}")
    con.execute("CREATE TEMP TABLE r (email TEXT, display TEXT, UNIQUE(email))")
    con.execute(
        "CREATE TABLE bench_durable (campaign_id INTEGER, email TEXT, display TEXT, status TEXT, "
        "UNIQUE(campaign_id, email))"
    )
    statements = {
        "temp": (
            "raw sqlite3 INSERT…SELECT…NOT EXISTS into a bare temp table",
            "INSERT INTO r " + RAW_SELECT.format(cols="m.email, m.display"),
        ),
        "durable": (
            "raw sqlite3 … into a plain table in the file, unique (campaign, address)",
            "INSERT INTO bench_durable " + RAW_SELECT.format(cols=f"{campaign_id}, m.email, m.display, 'queued'"),
        ),
        "ledger": (
            "raw sqlite3 … into the recipients ledger",
            "INSERT INTO recipients (campaign_id, email, display, status, attempts) "
            + RAW_SELECT.format(cols=f"{campaign_id}, m.email, NULLIF(m.display, m.email), 'queued', 0"),
        ),
    }
    out = {}
    for ref, (step, sql) in statements.items():
        if ref == "ledger" and not into_ledger:
            continue
        t, c = time.perf_counter(), time.process_time()
        con.execute("BEGIN IMMEDIATE")
        n = con.execute(sql).rowcount
        con.execute("COMMIT")
        dt, cpu = time.perf_counter() - t, time.process_time() - c
        out[ref] = {"db": "sqlite", "step": step, "rows": n, "seconds": dt, "cpu_s": cpu, "rows_per_s": n / dt}
    con.execute("DROP TABLE bench_durable")
    con.execute(f"DELETE FROM recipients WHERE campaign_id = {campaign_id}")  # ours then starts from the same ledger
    con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=5, help="SQLite audience runs (reference and ours in turns)")
    parser.add_argument("--turns", type=int, default=5, help="audience rounds, each database in turn")
    args = parser.parse_args()
    results: list[dict] = []
    urls: dict[str, str] = {}
    dropped: list[str] = []
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        try:
            for kind in args.db.split(","):
                if kind == "sqlite":
                    urls[kind] = f"sqlite:///{tmp / 'bench.db'}"
                    results += bench_db(kind, urls[kind], args.rows, tmp, args.repeat)
                elif kind == "postgres":
                    name = f"sendwell_bench_{uuid.uuid4().hex[:8]}"
                    try:
                        with admin.connect() as c:
                            c.execute(text(f'CREATE DATABASE "{name}"'))
                    except Exception as err:  # report and go on with SQLite
                        print(f"skipping PostgreSQL: {err}")
                        continue
                    dropped.append(name)
                    urls[kind] = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
                    results += bench_db(kind, urls[kind], args.rows, tmp)
            if args.turns:
                results += audience_turns(urls, args.turns)
        finally:
            for name in dropped:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    columns = ["db", "step", "rows", "seconds", "cpu_s", "rows_per_s", "vs_raw", "vs_durable", "vs_first", "vs_sqlite"]
    report("core", results, [*columns, "peak_rss_mb"])


if __name__ == "__main__":
    main()
