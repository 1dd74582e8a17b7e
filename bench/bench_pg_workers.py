"""PostgreSQL workers at a fixed total of connections: 1, 2 and 4 sending processes into Postfix's smtp-sink,
with the server's CPU per message and the lock waits sampled from pg_stat_activity / pg_locks during the run.

Each row is a fresh database (created and dropped), filled with the bench_sending.py campaign and sent by
fresh worker processes sharing `--connections` (16). A sampler polls every `--sample-ms` (20 ms):
backends of that database waiting on a heavyweight lock (`wait_event_type = 'Lock'`) and which lock
(`pg_locks` not granted: its type and relation). "waits" is the share of samples with at least one backend
waiting, "max" the most seen waiting at once. The filling phase is sampled too; it takes no such lock.

    .venv/bin/python bench/bench_pg_workers.py [--recipients 20000] [--processes 1,2,4] [--connections 16]

Writes bench/results/pg_workers.json. Figures from a shared 2-core machine are indicative only: the
workers, the sink and PostgreSQL all compete for the same two cores.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter

from bench_sending import PG_ADMIN, _ints, configuration, free_port, pg_ledger, pg_reachable, start_sink, tool
from common import load, report

COLUMNS = ["procs", "conns", "msg_per_s", "cpu_ms_per_msg", "db_cpu_ms_per_msg", "msg_per_commit", "waits", "max"]

_WAITING = """
SELECT a.pid, l.locktype, COALESCE(l.relation::regclass::text, '') AS relation
FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
WHERE a.datname = %s AND a.wait_event_type = 'Lock'
"""


class LockSampler(threading.Thread):
    """Polls the lock waits of one database until stopped."""

    def __init__(self, admin_url: str, database: str, every: float) -> None:
        super().__init__(daemon=True)
        self.admin_url, self.database, self.every = admin_url, database, every
        self.samples = self.waiting = self.most = 0
        self.what: Counter[str] = Counter()
        self._done = threading.Event()

    def run(self) -> None:
        from sqlalchemy import create_engine

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            while not self._done.is_set():
                rows = conn.exec_driver_sql(_WAITING, (self.database,)).all()
                self.samples += 1
                pids = {r.pid for r in rows}
                if pids:
                    self.waiting += 1
                    self.most = max(self.most, len(pids))
                self.what.update(f"{r.locktype} {r.relation}".strip() for r in rows)
                time.sleep(self.every)
        admin.dispose()

    def stop(self) -> None:
        self._done.set()
        self.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipients", type=int, default=20_000)
    ap.add_argument("--processes", default="1,2,4")
    ap.add_argument("--connections", type=int, default=16, help="in total, split over the processes")
    ap.add_argument("--pg-url", default=PG_ADMIN)
    ap.add_argument("--sample-ms", type=float, default=20.0)
    args = ap.parse_args()
    if not tool("smtp-sink"):
        print("skipped: smtp-sink not found (apt-get install -y postfix; no daemon needed)")
        return
    why = pg_reachable(args.pg_url)
    if why:
        print(f"skipped: PostgreSQL not reachable ({why})")
        return
    print(f"load before: {load()}", flush=True)
    port = free_port()
    sink = start_sink(port)
    rows = []
    try:
        for procs in _ints(args.processes):
            with pg_ledger(args.pg_url) as url:
                sampler = LockSampler(args.pg_url, url.rsplit("/", 1)[1], args.sample_ms / 1000)
                sampler.start()
                try:
                    row = configuration(url, args.recipients, args.connections, procs, port, [])
                finally:
                    sampler.stop()
            row.update(
                waits=f"{sampler.waiting / max(1, sampler.samples):.1%}",
                max=sampler.most,
                locks=dict(sampler.what.most_common(5)),
                samples=sampler.samples,
            )
            rows.append(row)
            print(f"{procs} process(es): {row['msg_per_s']:,.0f} msg/s, lock waits {row['waits']}", flush=True)
    finally:
        sink.terminate()
        sink.wait()
    print()
    report("pg_workers", rows, COLUMNS, extra={"recipients": args.recipients, "load": load()})
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
