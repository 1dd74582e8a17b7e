"""The statistics block a sending campaign's page polls: the counts alone while the phase stays, and a whole-page
reload (HX-Refresh) once it changed (on SQLite and PostgreSQL)."""

from __future__ import annotations

from factories import campaign


def test_the_progress_block_answers_and_asks_a_reload_when_the_phase_changed(ui, web_engine) -> None:
    cid = campaign(web_engine, ["a@example.com", "b@example.com"], statuses={"a@example.com": "error"})
    same = ui.get(f"/campaigns/{cid}/progress?phase=sending")
    assert same.status_code == 200 and 'id="count-error"' in same.text
    assert "HX-Refresh" not in same.headers
    changed = ui.get(f"/campaigns/{cid}/progress?phase=finished")
    assert changed.status_code == 200 and changed.headers["HX-Refresh"] == "true"
