"""Long work started from a page (verifying contacts) run on a thread of the web process, with its progress
for the page to poll. The registry lives on the app (`app.state.jobs`), never in a module global."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from sendwell.errors import NotFound, UserError

KEEP = 100  # finished jobs remembered (their results stay on screen for whoever polls them)


@dataclass
class Job:
    id: str
    title: str
    done: int = 0
    total: int = 0
    state: str = "running"  # running | done | failed
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    started: float = field(default_factory=time.monotonic)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def percent(self) -> float:
        return round(100 * self.done / self.total, 1) if self.total else (100.0 if self.state != "running" else 0.0)


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, title: str, work: Callable[[Job], dict[str, Any]]) -> Job:
        """Run `work(job)` on its own thread; it reports progress through job.progress and returns the result."""
        job = Job(secrets.token_urlsafe(12), title)
        with self._lock:
            finished = [j for j in self._jobs.values() if j.state != "running"]
            for old in finished[: max(0, len(finished) - KEEP)]:
                del self._jobs[old.id]
            self._jobs[job.id] = job

        def run() -> None:
            try:
                job.result = work(job)
                job.state = "done"
            except UserError as err:
                job.error, job.state = str(err), "failed"
            except Exception as err:  # the page shows the failure instead of polling for ever
                job.error, job.state = f"{type(err).__name__}: {err}", "failed"

        threading.Thread(target=run, name=f"job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound("no such job (the server may have restarted)")
        return job


def jobs_of(request: Request) -> Jobs:
    return request.app.state.jobs
