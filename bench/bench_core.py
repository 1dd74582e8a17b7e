"""Import 1M generated contacts and resolve an audience of ~800k − 100k excluded − 20k blacklisted.

Prints rows/s per step on SQLite and PostgreSQL, the raw sqlite3 baseline for the same resolution,
and the peak memory of the import at two sizes (it must stay flat: the import streams).

    python bench/bench_core.py [--rows 1000000] [--db sqlite,postgres]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report  # noqa: E402

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


def import_peak_rss(url: str, csv_path: Path) -> tuple[float, int]:
    """Import in a fresh process; returns (seconds, peak RSS in KiB)."""
    code = ("import sys,time,resource; from sendwell.db.engine import open_database; from sendwell import contacts;"
            "e=open_database(sys.argv[1]); t=time.perf_counter();"
            "r=contacts.import_contacts(e, open(sys.argv[2],'rb')); dt=time.perf_counter()-t;"
            "print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, r.imported)")
    out = subprocess.run([sys.executable, "-c", code, url, str(csv_path)], capture_output=True, text=True, check=True)
    dt, rss, _ = out.stdout.split()
    return float(dt), int(rss)


def bench_db(kind: str, url: str, rows: int, tmp: Path) -> list[dict]:
    from sendwell import blacklist, campaigns, segments
    from sendwell.db.engine import open_database

    results = []
    small = tmp / "small.csv"
    write_csv(small, rows // 10, start=10 * rows)
    big = tmp / "contacts.csv"
    write_csv(big, rows)
    dt_small, rss_small = import_peak_rss(url, small)
    dt, rss = import_peak_rss(url, big)
    results.append({"db": kind, "step": f"import {rows // 10:,} contacts", "rows": rows // 10,
                    "seconds": dt_small, "rows_per_s": rows // 10 / dt_small, "peak_rss_mb": rss_small / 1024})
    results.append({"db": kind, "step": f"import {rows:,} contacts", "rows": rows, "seconds": dt,
                    "rows_per_s": rows / dt, "peak_rss_mb": rss / 1024})

    engine = open_database(url)
    n_in, n_ex, n_bl = rows * 8 // 10, rows // 10, rows // 50
    for name, lo, hi, step in (("in", 0, n_in, 1), ("ex", 0, n_ex * 2, 2)):
        path = tmp / f"{name}.txt"
        write_list(path, lo, hi, step)
        segments.create(engine, name)
        t = time.perf_counter()
        with path.open("rb") as fh:
            segments.import_members(engine, name, fh)
        dt = time.perf_counter() - t
        count = (hi - lo) // step
        results.append({"db": kind, "step": f"segment import {count:,}", "rows": count, "seconds": dt,
                        "rows_per_s": count / dt})
    path = tmp / "bl.txt"
    write_list(path, 1, n_bl * 3, 3)
    t = time.perf_counter()
    with path.open("rb") as fh:
        blacklist.import_file(engine, fh)
    dt = time.perf_counter() - t
    results.append({"db": kind, "step": f"blacklist import {n_bl:,}", "rows": n_bl, "seconds": dt,
                    "rows_per_s": n_bl / dt})

    cid = campaigns.create_campaign(engine, name="bench", subject="s", from_addr="me@example.com", text="t",
                                    include=["in"], exclude=["ex"])
    t = time.perf_counter()
    n = campaigns.start_campaign(engine, cid)
    dt = time.perf_counter() - t
    results.append({"db": kind, "step": f"resolve audience -> {n:,}", "rows": n, "seconds": dt,
                    "rows_per_s": n / dt})
    engine.dispose()
    if kind == "sqlite":
        results.append(raw_sqlite_baseline(url.removeprefix("sqlite:///"), n))
    return results


def raw_sqlite_baseline(path: str, expected: int) -> dict:
    """The same resolution as one hand-written statement in stdlib sqlite3: the floor to compare with."""
    con = sqlite3.connect(path)
    con.execute("CREATE TEMP TABLE r (email TEXT, display TEXT, UNIQUE(email))")
    t = time.perf_counter()
    con.execute("INSERT INTO r SELECT m.email, m.display FROM segment_members m WHERE m.segment_id = 1 "
                "AND NOT EXISTS (SELECT 1 FROM segment_members x WHERE x.segment_id = 2 AND x.email = m.email) "
                "AND NOT EXISTS (SELECT 1 FROM blacklist b WHERE b.email = m.email)")
    con.commit()
    dt = time.perf_counter() - t
    n = con.execute("SELECT count(*) FROM r").fetchone()[0]
    assert n == expected, (n, expected)
    return {"db": "sqlite", "step": "raw sqlite3 INSERT…SELECT…NOT EXISTS", "rows": n, "seconds": dt,
            "rows_per_s": n / dt}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in args.db.split(","):
            if kind == "sqlite":
                results += bench_db(kind, f"sqlite:///{tmp / 'bench.db'}", args.rows, tmp)
            elif kind == "postgres":
                from sqlalchemy import create_engine, text

                name = f"sendwell_bench_{uuid.uuid4().hex[:8]}"
                admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                try:
                    with admin.connect() as c:
                        c.execute(text(f'CREATE DATABASE "{name}"'))
                except Exception as err:  # noqa: BLE001 - report and go on with SQLite
                    print(f"skipping PostgreSQL: {err}")
                    continue
                try:
                    results += bench_db(kind, PG_ADMIN.rsplit("/", 1)[0] + "/" + name, args.rows, tmp)
                finally:
                    with admin.connect() as c:
                        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    report("core", results, ["db", "step", "rows", "seconds", "rows_per_s", "peak_rss_mb"])


if __name__ == "__main__":
    main()
