"""The campaign page's self-refresh, decided on the server (SQLite and PostgreSQL): every 2 s while sending,
every 30 s while only retries are left, none once finished; a poll that finds another phase than the page shows
asks htmx to reload the page (the badge, the phase line and the buttons follow)."""

from __future__ import annotations

import re

from sendwell.sending import control
from sendwell.sending.engine import send

from factories import started_campaign
from sending.conftest import sender_settings
from sending.smtpd import Script, ScriptedServer


def _poll(html: str) -> tuple[str | None, str | None]:
    section = re.search(r'<section id="campaign-stats"[^>]*>', html)
    assert section, html
    get = re.search(r'hx-get="([^"]*)"', section.group(0))
    trigger = re.search(r'hx-trigger="([^"]*)"', section.group(0))
    return (get.group(1) if get else None, trigger.group(1) if trigger else None)


def test_waiting_for_retry_keeps_polling_slowly_until_finished(ui, web_engine) -> None:
    grey = {"grey@x.org": "451 4.7.1 greylisted"}
    with ScriptedServer(Script(rcpt=grey)) as server:
        cid = started_campaign(web_engine, ["a@x.org", "grey@x.org"])
        send(web_engine, sender_settings(server.url, retry_schedule=(3600,)), [cid], linger=0.5)

        get, trigger = _poll(ui.get(f"/campaigns/{cid}").text)
        assert (get, trigger) == (f"/campaigns/{cid}/progress?phase=waiting_retry", "every 30s")
        r = ui.get(get)
        assert "HX-Refresh" not in r.headers and _poll(r.text)[1] == "every 30s"  # still waiting: same pace
        r = ui.get(f"/campaigns/{cid}/progress?phase=sending")  # a page still showing "sending" reloads
        assert r.headers.get("HX-Refresh") == "true"

        server.script = Script()  # the last retry goes through
        assert control.resend(web_engine, cid, "deferred") == 1
        send(web_engine, sender_settings(server.url), [cid], linger=0.5)

    r = ui.get(get)
    assert r.headers.get("HX-Refresh") == "true"  # the waiting page reloads itself into "finished"
    page = ui.get(f"/campaigns/{cid}").text
    assert 'id="campaign-state">finished<' in page
    assert _poll(page) == (None, None)  # finished: no more polling
