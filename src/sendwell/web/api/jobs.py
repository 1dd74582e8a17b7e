"""/api/v1/jobs: long work started from a page (a verification of contacts), read from the database, so any
process of the installation answers for a job another one runs."""

from __future__ import annotations

from fastapi import APIRouter

from sendwell import jobs
from sendwell.jobs import Job
from sendwell.web.state import EngineDep

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=Job)
def get_job(job_id: str, engine: EngineDep) -> Job:
    """A job's state (running, done, failed, or interrupted when its server stopped first), its progress
    (`done` of `total`) and, once done, its result."""
    return jobs.get(engine, job_id)
