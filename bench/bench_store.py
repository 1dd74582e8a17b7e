"""The send store's CPU per message on a real SQLite file: the transactions the sending loop runs for each batch
(reserve_day of a block, check, claim of a batch, record of the outcomes in groups), with no SMTP and no rendering.

Each transaction is timed with `time.process_time` (this process's CPU, so a busy shared machine inflates it
less than wall time) and reported as µs per call and per message. `--base DIR` also runs the store of another
source tree (e.g. `git archive main src | tar -x -C /tmp/base`, then `--base /tmp/base/src`) in turns with
this one, each run a fresh child process on a fresh copy of the same ledger; the table gives the median of
the runs of each tree.

    .venv/bin/python bench/bench_store.py [--recipients 20000] [--group 5,12] [--runs 5] [--base DIR]

Writes bench/results/store.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load, report

SRC = Path(__file__).resolve().parent.parent / "src"
STEPS = ("reserve_day", "check", "claim", "record")


async def _measure(url: str, cid: int, group: int, batch: int) -> dict[str, float]:
    """CPU seconds of each kind of transaction over the whole ledger, and the messages recorded."""
    from sendwell.config import LimitSettings, Settings
    from sendwell.db.engine import make_engine, utcnow
    from sendwell.model import RecipientStatus
    from sendwell.sending.queue import Result
    from sendwell.sending.sqlstore import open_store
    from sendwell.sending.store import Outcome

    settings = Settings(limit=LimitSettings(start=10**8, cap=10**8))
    engine = make_engine(url)
    store = open_store(engine, settings)
    owner = "bench:1"
    cpu = dict.fromkeys(STEPS, 0.0)
    calls = dict.fromkeys(STEPS, 0)
    messages, first = 0, True
    clock, SENT = time.process_time, RecipientStatus.SENT
    while True:
        now = utcnow()
        t = clock()
        await store.reserve_day(now, owner, batch)
        t1 = clock()
        await store.check([cid], now)
        t2 = clock()
        jobs, _ = await store.claim([cid], owner, batch, 120.0, now)
        t3 = clock()
        if not jobs:
            break
        spent = 0.0
        for i in range(0, len(jobs), group):
            outcomes = [
                Outcome(j, Result(j.id, SENT, None, None, 250, "2.0.0", "250 2.0.0 Ok", f"<{j.id}@b>", None, True))
                for j in jobs[i : i + group]
            ]
            s = clock()
            await store.record(outcomes, utcnow(), None, owner)
            spent += clock() - s
        if first:  # the first batch warms caches (statements, pages): not counted
            first = False
            continue
        for step, took in zip(STEPS, (t1 - t, t2 - t1, t3 - t2, spent), strict=True):
            cpu[step] += took
        calls["reserve_day"] += 1
        calls["check"] += 1
        calls["claim"] += 1
        calls["record"] += -(-len(jobs) // group)
        messages += len(jobs)
    engine.dispose()
    return {"messages": messages, **{f"cpu_{k}": v for k, v in cpu.items()}, **{f"n_{k}": v for k, v in calls.items()}}


def _child(args: argparse.Namespace) -> None:
    print(json.dumps(asyncio.run(_measure(args.url, args.cid, int(args.group), args.batch))))


def _fill(path: Path, recipients: int) -> int:
    from bench_sending import fill

    return fill(f"sqlite:///{path}", recipients)


def _run(src: str, ledger: Path, cid: int, group: int, batch: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        db = work / "ledger.db"
        shutil.copy(ledger, db)
        env = {**os.environ, "PYTHONPATH": src}
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--url", f"sqlite:///{db}", "--cid", str(cid)]
            + ["--group", str(group), "--batch", str(batch)],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            sys.exit(f"the run on {src} failed:\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipients", type=int, default=20000)
    p.add_argument("--group", default="5,12", help="outcomes per record commit (2×8 connections: ~5; 1×16: ~12)")
    p.add_argument("--batch", type=int, default=200, help="claim and reserve_day size (sending.batch_size)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--base", help="another tree's src/ to run in turns with this one")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--cid", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args)
    trees = {"this": str(SRC)} | ({"base": args.base} if args.base else {})
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Path(tmp) / "ledger.db"
        cid = _fill(ledger, args.recipients)
        rows = []
        for group in (int(g) for g in args.group.split(",")):
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for i in range(args.runs):
                order = list(trees.items()) if i % 2 == 0 else list(reversed(trees.items()))
                for name, src in order:
                    runs[name].append(_run(src, ledger, cid, group, args.batch))
            for name, results in runs.items():
                row: dict[str, object] = {"tree": name, "group": group}
                total = []
                for step in STEPS:
                    per_msg = [r[f"cpu_{step}"] / r["messages"] * 1e6 for r in results]
                    per_call = [r[f"cpu_{step}"] / max(1, r[f"n_{step}"]) * 1e6 for r in results]
                    row[f"{step} µs/call"] = statistics.median(per_call)
                    row[f"{step} µs/msg"] = statistics.median(per_msg)
                for r in results:
                    total.append(sum(r[f"cpu_{s}"] for s in STEPS) / r["messages"] * 1e6)
                row["total µs/msg"] = statistics.median(total)
                row["spread"] = f"{min(total):.1f}-{max(total):.1f}"
                row["_totals"] = total
                rows.append(row)
            if args.base:  # each run against the other tree's run next to it: this shared machine drifts
                this, base = rows[-2]["_totals"], rows[-1]["_totals"]
                rows[-2]["this/base"] = statistics.median(t / b for t, b in zip(this, base, strict=True))
    columns = ["tree", "group", *(f"{s} µs/{u}" for s in STEPS for u in ("call", "msg"))]
    columns += ["total µs/msg", "spread", "this/base"]
    for row in rows:
        row.pop("_totals")
    settings = {"recipients": args.recipients, "batch": args.batch, "runs": args.runs, "trees": trees}
    print(f"SQLite file, {settings}, load {load()}")
    report("store", rows, columns, settings)


if __name__ == "__main__":
    main()
