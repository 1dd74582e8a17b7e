"""Jobs started from a page keep their state in the database: another process sees their progress, and a job
whose process is killed shows as interrupted, not running for ever (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

from sendwell import jobs
from sendwell.db.engine import utcnow
from sendwell.jobs import JobState


def _wait(engine, job_id, until, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = jobs.get(engine, job_id)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_a_job_reports_progress_and_its_result_through_the_database(engine):
    go = threading.Event()

    def work(progress):
        progress(2, 4)
        go.wait(10)
        progress(4, 4)
        return {"count": 4, "verdicts": {"valid": 3, "risky": 1}}

    job_id = jobs.start(engine, "verify", "Verifying 4 contact(s) offline", work, total=4)
    running = _wait(engine, job_id, lambda j: j.done == 2)
    assert (running.state, running.total, running.percent) == (JobState.RUNNING, 4, 50.0)
    go.set()
    done = _wait(engine, job_id, lambda j: j.state is not JobState.RUNNING)
    assert done.state is JobState.DONE and done.percent == 100.0
    assert done.result == {"count": 4, "verdicts": {"valid": 3, "risky": 1}}
    assert done.finished_at is not None


def test_a_failing_job_says_why(engine):
    def work(progress):
        raise RuntimeError("the resolver went away")

    job_id = jobs.start(engine, "verify", "t", work)
    job = _wait(engine, job_id, lambda j: j.state is not JobState.RUNNING)
    assert job.state is JobState.FAILED and job.error == "RuntimeError: the resolver went away"


CHILD = textwrap.dedent(
    """
    import sys, time
    from sendwell import jobs
    from sendwell.db.engine import make_engine

    engine = make_engine(sys.argv[1])

    def work(progress):
        progress(3, 10)
        time.sleep(600)  # killed before it ends
        return {}

    print(jobs.start(engine, "verify", "Verifying 10 contact(s) offline", work, total=10), flush=True)
    time.sleep(600)
    """
)


def test_a_job_whose_process_is_killed_shows_as_interrupted_in_another_process(db_url, engine):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url], stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert child.stdout is not None
        job_id = child.stdout.readline().strip()
        assert job_id, "the child process printed no job id"
        # This process reads what the other one writes.
        running = _wait(engine, job_id, lambda j: j.done == 3)
        assert running.state is JobState.RUNNING and running.total == 10
        # A live process keeps stamping its job: however long it works, it is not taken for dead.
        time.sleep(jobs.BEAT_SECONDS + 1)
        assert jobs.get(engine, job_id, now=utcnow() + timedelta(seconds=jobs.STALE_SECONDS - 2)).state is (
            JobState.RUNNING
        )
    finally:
        child.kill()
        child.wait(10)
    # The server is gone (a restart): once its stamp is stale, the job is interrupted, and recorded so.
    later = utcnow() + timedelta(seconds=jobs.STALE_SECONDS + 1)
    job = jobs.get(engine, job_id, now=later)
    assert job.state is JobState.INTERRUPTED and (job.done, job.total) == (3, 10)
    assert jobs.get(engine, job_id).state is JobState.INTERRUPTED
    jobs.progress(engine, job_id, 4, 10)  # a late write from a process taken for dead changes nothing
    assert jobs.get(engine, job_id).done == 3


def test_an_unknown_job_is_not_found(engine):
    from sendwell.errors import NotFound

    with pytest.raises(NotFound):
        jobs.get(engine, "nope")
