"""Long work started from a page (verifying contacts): run on a thread of the process that started it, with its
state, progress and result in the database, so any web or API process shows it and a restart leaves a trace.

The running process stamps the job's row (`beat_at`) every BEAT_SECONDS; a job still `running` whose stamp is
older than STALE_SECONDS lost its process (a restart, a crash) and is shown, and recorded, as `interrupted`
the next time anyone reads it, never as running for ever.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, select, update

from sendwell.db.engine import as_utc, utcnow
from sendwell.db.schema import jobs
from sendwell.errors import NotFound, UserError

BEAT_SECONDS = 5.0  # how often a running job stamps its row
STALE_SECONDS = 30.0  # a running job unstamped this long has lost its process
PROGRESS_SECONDS = 0.5  # progress is written at most this often (the page polls every second)
KEEP_DAYS = 7  # ended jobs are dropped after this long (their result stays on screen until then)


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process ended (restart, crash) before the work did


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    title: str
    state: JobState
    done: int
    total: int
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def percent(self) -> float:
        if self.total:
            return round(100 * self.done / self.total, 1)
        return 0.0 if self.state is JobState.RUNNING else 100.0


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def create(engine: Engine, kind: str, title: str, total: int = 0, now: datetime | None = None) -> str:
    """A new running job owned by this process; ended jobs older than KEEP_DAYS go."""
    now = now or utcnow()
    job_id = secrets.token_urlsafe(12)
    with engine.begin() as conn:
        conn.execute(
            delete(jobs).where(jobs.c.state != JobState.RUNNING, jobs.c.started_at < now - timedelta(KEEP_DAYS))
        )
        conn.execute(
            jobs.insert().values(
                id=job_id, kind=kind, title=title, state=JobState.RUNNING.value, done=0, total=total, result={},
                error="", owner=_owner(), started_at=now, beat_at=now,
            )
        )  # fmt: skip
    return job_id


def _set(engine: Engine, job_id: str, **values: Any) -> None:
    """Write to a job still running: one found interrupted (its stamp went stale) stays so."""
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.state == JobState.RUNNING.value).values(**values))


def beat(engine: Engine, job_id: str) -> None:
    _set(engine, job_id, beat_at=utcnow())


def progress(engine: Engine, job_id: str, done: int, total: int) -> None:
    _set(engine, job_id, done=done, total=total, beat_at=utcnow())


def finish(engine: Engine, job_id: str, result: dict[str, Any]) -> None:
    now = utcnow()
    _set(engine, job_id, state=JobState.DONE.value, result=result, beat_at=now, finished_at=now)


def fail(engine: Engine, job_id: str, error: str) -> None:
    now = utcnow()
    _set(engine, job_id, state=JobState.FAILED.value, error=error, beat_at=now, finished_at=now)


def get(engine: Engine, job_id: str, now: datetime | None = None) -> Job:
    """The job as it stands; a running one whose process stopped stamping it is recorded interrupted first."""
    now = now or utcnow()
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(
                jobs.c.id == job_id,
                jobs.c.state == JobState.RUNNING.value,
                jobs.c.beat_at < now - timedelta(seconds=STALE_SECONDS),
            )
            .values(state=JobState.INTERRUPTED.value, finished_at=jobs.c.beat_at)
        )
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound("no such job (it may have ended more than a week ago)")
    return Job(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        state=JobState(row["state"]),
        done=row["done"],
        total=row["total"],
        result=dict(row["result"] or {}),
        error=row["error"],
        started_at=as_utc(row["started_at"]),
        finished_at=as_utc(row["finished_at"]),
    )


Work = Callable[[Callable[[int, int], None]], dict[str, Any]]


def start(engine: Engine, kind: str, title: str, work: Work, total: int = 0) -> str:
    """Run `work(progress)` on a thread of this process and return the job's id at once. `work` reports through
    progress(done, total) (written at most every PROGRESS_SECONDS) and returns the result to keep; a stamp
    every BEAT_SECONDS tells readers the process is alive while it works between reports."""
    job_id = create(engine, kind, title, total)
    ended = threading.Event()
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_SECONDS or (total and done >= total):
            last[0] = now
            progress(engine, job_id, done, total)

    def stamp() -> None:
        while not ended.wait(BEAT_SECONDS):
            beat(engine, job_id)

    def run() -> None:
        try:
            result = work(report)
            finish(engine, job_id, result)
        except UserError as err:
            fail(engine, job_id, str(err))
        except Exception as err:  # the page shows the failure instead of polling for ever
            fail(engine, job_id, f"{type(err).__name__}: {err}")
        finally:
            ended.set()

    threading.Thread(target=stamp, name=f"job-{job_id}-beat", daemon=True).start()
    threading.Thread(target=run, name=f"job-{job_id}", daemon=True).start()
    return job_id
