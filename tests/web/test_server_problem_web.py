"""The campaign page's server-problem banner, against a real SMTP server: shown while the relay cannot be
reached, gone once later messages go through, and kept in the history on the statistics block either way."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

from sendwell.sending import control
from sendwell.sending.engine import send

from .helpers import sending_settings
from factories import started_campaign
from sending.smtpd import ScriptedServer, free_port


class _Ids(HTMLParser):
    """The ids on a page, and the text inside the history block."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.history = ""
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs).get("id")
        if found:
            self.ids.add(found)
        if found == "server-problem-history" or (self._depth and tag == "details"):
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "details":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.history += data


def _page(ui, cid: int) -> _Ids:
    r = ui.get(f"/campaigns/{cid}")
    assert r.status_code == 200
    page = _Ids()
    page.feed(r.text)
    return page


def test_the_banner_shows_while_the_problem_is_current_and_the_history_keeps_it(ui, web_engine, db_url) -> None:
    cid = started_campaign(web_engine, [f"r{i}@x.org" for i in range(5)])
    down = sending_settings(db_url, f"smtp://127.0.0.1:{free_port()}")  # nothing listens: connection refused
    send(web_engine, replace(down, sending=replace(down.sending, retry_schedule=(0.2, 5.0))), [cid], linger=0.5)
    page = _page(ui, cid)
    assert "server-problem-now" in page.ids and "server-problem-history" in page.ids
    assert "refused" in page.history

    with ScriptedServer() as relay:  # the relay is back: the retries go through
        control.resend(web_engine, cid, control.RESENDABLE)  # now, not at the retry time
        send(web_engine, sending_settings(db_url, relay.url), [cid], linger=0.5)
        assert len(relay.accepted) == 5
    page = _page(ui, cid)
    assert "server-problem-now" not in page.ids  # no banner about an outage that is over
    assert "server-problem-history" in page.ids and "refused" in page.history and "over: " in page.history
