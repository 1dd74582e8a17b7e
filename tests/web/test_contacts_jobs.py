"""A verification started from the contacts page is followed from another web process (its own app over the
same database), and a job whose server stopped shows as interrupted instead of polling for ever."""

from __future__ import annotations

import io
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from sendwell import contacts, jobs
from sendwell.auth import create_user
from sendwell.db.engine import utcnow
from sendwell.db.schema import jobs as jobs_table
from sendwell.web import create_app

from .helpers import MAX_UPLOAD, PASSWORD, UI, settings_for

PEOPLE = b"email\nann@example.com\nbob@example.org\npostmaster@example.org\ncy@mailinator.com\n"


def _login(client: TestClient) -> UI:
    ui = UI(client)
    ui.get("/login")
    ui.post("/login", {"username": "admin", "password": PASSWORD})
    ui.get("/contacts")
    return ui


def test_another_web_process_follows_the_job_and_sees_it_interrupted(db_url, web_engine, token) -> None:
    contacts.import_contacts(web_engine, io.BytesIO(PEOPLE))
    create_user(web_engine, "admin", PASSWORD)
    settings = settings_for(db_url)
    with (
        TestClient(create_app(settings, web_engine, max_upload=MAX_UPLOAD)) as one,
        TestClient(create_app(settings, web_engine, max_upload=MAX_UPLOAD)) as other,
    ):
        starter, watcher = _login(one), _login(other)
        r = starter.post("/contacts/verify", {}, follow_redirects=False)
        assert r.status_code == 303
        job = r.headers["location"].split("?")[0]
        for _ in range(200):
            fragment = watcher.get(f"{job}/progress").text
            if "· done" in fragment:
                break
            time.sleep(0.1)
        assert "<strong>4</strong> of <strong>4</strong> checked" in fragment and 'id="job-verdicts"' in fragment
        assert "Verifying 4 contacts offline" in watcher.get(job).text
        api = other.get(f"/api/v1/jobs/{job.rsplit('/', 1)[1]}", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200, api.text
        got = api.json()
        assert (got["state"], got["done"], got["total"], got["result"]["count"]) == ("done", 4, 4, 4)

        # A job its server left running (the process stopped stamping it a minute ago).
        job_id = jobs.create(web_engine, "verify", "Verifying 9 contact(s) with DNS", total=9)
        jobs.progress(web_engine, job_id, 5, 9)
        stale = utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 30)
        with web_engine.begin() as conn:
            conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(beat_at=stale))
        fragment = watcher.get(f"/contacts/jobs/{job_id}/progress").text
        assert "· interrupted" in fragment and 'id="job-interrupted"' in fragment
        assert "<strong>5</strong> of <strong>9</strong> checked" in fragment
        assert "hx-trigger" not in fragment  # ended: the page stops polling
        assert watcher.get("/contacts/jobs/nope").status_code == 404
