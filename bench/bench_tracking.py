"""Tracking costs per message and per hit: rewriting a 10 KB HTML body for one recipient, tokens, recording.

The sending path rewrites the campaign's template once (tracked_template) and each recipient's render
calls the token functions: the "render" rows are the whole PreparedCampaign.render of a 12-link
campaign without and with tracking. rewrite_html works on final HTML: the same HTML again reuses its
cached plan, a different one (personalised) is parsed with html.parser each time.
Figures are µs of this process's CPU time (the machine is shared).
Recording rows use a SQLite file: one open or one click per call, each its own transaction.

    .venv/bin/python bench/bench_tracking.py [--seconds 1]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report

from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign
from sendwell.tracking import tokens
from sendwell.tracking.rewrite import campaign_links, rewrite_html, tracked_template, tracking_context

BASE = "https://mail.shop.example"
SECRET = "bench-secret"
LINKS = 12


def html_body(personal: bool) -> str:
    """~10 KB: 40 paragraphs, 12 trackable links (one personalised), an unsubscribe link and a mailto."""
    hello = "Hello {{ first_name }}" if personal else "Hello"
    text = (
        f"<p>{hello}, this week in the shop: new arrivals, the autumn sale and a few words from the team "
        "about how we pack your orders, and why the parcels now come in paper instead of plastic.</p>\n"
    )
    link = '<p><a href="https://shop.example/new?ref=mail&amp;n={i}" style="color:#06c">new arrivals</a></p>\n'
    mine = '<p><a href="https://shop.example/account?id={{ uid }}">your account</a></p>\n' if personal else ""
    body = "".join(text + (link.replace("{i}", str(i)) if i < 11 else "") for i in range(40))
    return (
        f"<html><head><title>News</title></head><body>\n{body}{mine or link.replace('{i}', '11')}"
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> <a href="mailto:help@shop.example">help</a></p>'
        "</body></html>\n"
    )


def per_call_us(fn, seconds: float) -> float:
    n, start = 0, time.process_time()
    while True:
        for _ in range(10):
            fn()
        n += 10
        spent = time.process_time() - start
        if spent >= seconds:
            return spent / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    args, _ = ap.parse_known_args()
    s = args.seconds
    rows = []

    ctx = {"unsubscribe_url": BASE + "/unsubscribe/x", "uid": "u1"}
    final = jinja2.Environment(autoescape=True).from_string(html_body(False)).render(ctx)
    finals = [
        jinja2.Environment(autoescape=True).from_string(html_body(True)).render(ctx, first_name=f"Ann{i}")
        for i in range(200)
    ]  # more than the plan cache holds: every call parses
    counter = iter(range(10**9))
    rows.append({"what": "click token", "µs": per_call_us(lambda: tokens.click_token(SECRET, 7, next(counter), 3), s)})
    good = tokens.click_token(SECRET, 7, 123456, 3)
    rows.append({"what": "click token check", "µs": per_call_us(lambda: tokens.decode_click(SECRET, good), s)})
    rows.append(
        {
            "what": f"campaign_links ({len(final.encode()) // 1024} KB, {len(campaign_links(final))} links)",
            "µs": per_call_us(lambda: campaign_links(final), s),
        }
    )

    def rewrite(html: str) -> str:
        return rewrite_html(
            html, base_url=BASE, campaign_id=1, recipient_id=next(counter), secret=SECRET, reads=True, clicks=True
        )

    rows.append({"what": "rewrite_html, same final HTML (cached plan)", "µs": per_call_us(lambda: rewrite(final), s)})
    rows.append(
        {
            "what": "rewrite_html, final HTML differing (parsed)",
            "µs": per_call_us(lambda: rewrite(finals[next(counter) % len(finals)]), s),
        }
    )

    # The sending path: the template rewritten once, each recipient's context gets the two functions
    # (passed through the fields here; message.py adds them to the context it builds).
    for personal in (False, True):
        body = html_body(personal)
        name = "personalised" if personal else "static"
        plain = PreparedCampaign(
            CampaignContent(1, "News", "news@shop.example", html=body), Links(SECRET, "bounces.shop.example", BASE)
        )
        tracked = PreparedCampaign(
            CampaignContent(
                1, "News", "news@shop.example", html=tracked_template(body, base_url=BASE, reads=True, clicks=True)
            ),
            Links(SECRET, "bounces.shop.example", BASE),
        )

        def person(track: bool) -> Personal:
            i = next(counter)
            fields = {"first_name": f"Ann{i}", "uid": f"u{i}"}
            if track:
                fields.update(tracking_context(secret=SECRET, campaign_id=1, recipient_id=i))
            return Personal(i, f"user{i}@example.org", fields)

        rows.append(
            {
                "what": f"render, {name} template, no tracking",
                "µs": per_call_us(lambda p=plain: p.render(person(False)), s),
            }
        )
        rows.append(
            {
                "what": f"render, {name} template, reads + clicks",
                "µs": per_call_us(lambda p=tracked: p.render(person(True)), s),
            }
        )

    from sqlalchemy import update

    from sendwell import campaigns, contacts
    from sendwell.db.engine import open_database, utcnow
    from sendwell.db.schema import recipients
    from sendwell.tracking.record import record_click, record_open

    folder = Path(tempfile.mkdtemp())
    engine = open_database(f"sqlite:///{folder / 'bench.db'}")
    n = 2000
    addresses = "email\n" + "".join(f"u{i}@example.org\n" for i in range(n))
    contacts.import_contacts(engine, io.BytesIO(addresses.encode()))
    cid = campaigns.create_campaign(
        engine, name="b", subject="s", from_addr="a@shop.example", html=html_body(False), track=["reads", "clicks"]
    )
    campaigns.start_campaign(engine, cid)
    with engine.begin() as conn:
        conn.execute(update(recipients).values(status="sent", sent_at=utcnow() - timedelta(hours=1)))
    ids = iter(range(1, n + 1))
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"

    def hit_open() -> None:
        record_open(engine, tokens.open_token(SECRET, cid, next(ids)), agent, "198.51.100.7", secret=SECRET)

    clicks = iter(range(1, n + 1))

    def hit_click() -> None:
        record_click(engine, tokens.click_token(SECRET, cid, next(clicks), 2), agent, "198.51.100.7", secret=SECRET)

    rows.append({"what": "record_open, SQLite (new recipient each)", "µs": per_call_us(hit_open, min(s, 0.5))})
    rows.append({"what": "record_click, SQLite (new recipient each)", "µs": per_call_us(hit_click, min(s, 0.5))})
    engine.dispose()
    for r in rows:
        r["per second"] = 1e6 / r["µs"]
    report("tracking", rows, ["what", "µs", "per second"])


if __name__ == "__main__":
    main()
