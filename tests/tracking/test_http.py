"""The two tracking URLs over HTTP, wired as the web layer wires them: the same pixel for every token,
302 only to the campaign's own links, one neutral page for anything else."""

from __future__ import annotations

import email
import struct
from email import policy

import pytest

from sendwell.sending.message import CampaignContent, Links, Personal, PreparedCampaign
from sendwell.tracking import tokens
from sendwell.tracking.answers import NEUTRAL_PAGE, click_answer, open_answer, open_pixel
from sendwell.tracking.rewrite import CLICK_PATH, campaign_links, tracked_template, tracking_context

from .conftest import BASE, HTML, LINKS, SECRET, recipient, send_campaign

fastapi = pytest.importorskip("fastapi")
testclient = pytest.importorskip("fastapi.testclient")
AGENT = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"}


def app_for(engine):
    """The two routes exactly as src/sendwell/web should add them (see docs/tracking.md)."""
    app = fastapi.FastAPI()

    def respond(answer):
        return fastapi.Response(answer.body, status_code=answer.status, headers=answer.headers)

    @app.get("/t/o/{token}")
    def pixel(token: str, request: fastapi.Request):
        return respond(
            open_answer(
                engine,
                SECRET,
                token,
                request.headers.get("user-agent"),
                request.client.host if request.client else None,
            )
        )

    @app.get("/t/c/{token}")
    def link(token: str, request: fastapi.Request):
        return respond(
            click_answer(
                engine,
                SECRET,
                token,
                request.headers.get("user-agent"),
                request.client.host if request.client else None,
            )
        )

    return testclient.TestClient(app, follow_redirects=False)


def parse_gif(data: bytes) -> dict:
    """Just enough of GIF89a to check the pixel: size, palette, transparency, the one index."""
    assert data[:6] == b"GIF89a" and data[-1:] == b";"
    width, height, flags, _bg, _aspect = struct.unpack("<HHBBB", data[6:13])
    palette_size = 2 << (flags & 7)
    pos = 13 + 3 * palette_size if flags & 0x80 else 13
    out = {"size": (width, height), "transparent": None}
    if data[pos : pos + 2] == b"\x21\xf9":
        packed, _delay, index = struct.unpack("<BHB", data[pos + 3 : pos + 7])
        out["transparent"] = index if packed & 1 else None
        pos += 8
    assert data[pos] == 0x2C
    out["image"] = struct.unpack("<HHHH", data[pos + 1 : pos + 9])
    min_code = data[pos + 10]
    block = data[pos + 12 : pos + 12 + data[pos + 11]]
    bits = int.from_bytes(block, "little")
    width_bits = min_code + 1
    codes = [(bits >> (i * width_bits)) & ((1 << width_bits) - 1) for i in range(3)]
    clear, end = 1 << min_code, (1 << min_code) + 1
    assert codes[0] == clear and codes[2] == end
    out["pixel"] = codes[1]
    return out


def test_the_pixel_is_a_transparent_1x1_gif():
    gif = parse_gif(open_pixel())
    assert gif["size"] == (1, 1) and gif["image"] == (0, 0, 1, 1)
    assert gif["pixel"] == gif["transparent"] == 0


def test_genuine_and_forged_pixels_look_the_same_and_only_the_genuine_is_counted(engine):
    sent = send_campaign(engine)
    client = app_for(engine)
    rid = sent.ids["ann@example.com"]
    genuine = client.get(f"/t/o/{tokens.open_token(SECRET, sent.campaign_id, rid)}", headers=AGENT)
    forged = client.get(f"/t/o/{tokens.open_token('guess', sent.campaign_id, rid)}", headers=AGENT)
    junk = client.get("/t/o/not-a-token-at-all", headers=AGENT)
    for r in (genuine, forged, junk):
        assert r.status_code == 200 and r.content == open_pixel()
        assert {k: v for k, v in r.headers.items() if k != "content-length"} == {
            k: v for k, v in genuine.headers.items() if k != "content-length"
        }
    assert genuine.headers["cache-control"].startswith("no-store")
    assert recipient(engine, rid).status == "read"


def test_links_redirect_only_to_the_campaigns_own_urls(engine):
    sent = send_campaign(engine)
    client = app_for(engine)
    rid = sent.ids["bob@example.com"]
    for i, url in enumerate(LINKS):
        r = client.get(
            f"/t/c/{tokens.click_token(SECRET, sent.campaign_id, rid, i)}?url=https://evil.example/", headers=AGENT
        )
        assert r.status_code == 302 and r.headers["location"] == url.format(uid="b2")
        assert r.headers["referrer-policy"] == "no-referrer"
        if i == 0:
            assert recipient(engine, rid).status == "clicked"
    assert recipient(engine, rid).status == "sent"  # every link within a second: a scanner after all
    for bad in (
        tokens.click_token("guess", sent.campaign_id, rid, 0),
        tokens.click_token(SECRET, sent.campaign_id, rid, 7),
        "evil.example",
        tokens.open_token(SECRET, sent.campaign_id, rid),
    ):
        r = client.get(f"/t/c/{bad}", headers=AGENT)
        assert r.status_code == 404 and r.content == NEUTRAL_PAGE and "location" not in r.headers


def render_html(prepared: PreparedCampaign, rid: int, addr: str, fields: dict) -> str:
    msg = email.message_from_bytes(prepared.render(Personal(rid, addr, fields)).data, policy=policy.default)
    return msg.get_body(("html",)).get_content()


def wired(campaign_id: int, track: tuple[str, ...]) -> tuple[PreparedCampaign, callable]:
    """The builder as message.py will wire it (docs/tracking.md): the template rewritten once, the two
    template functions added to each recipient's context (here through the fields, which the context holds)."""
    html = tracked_template(HTML, base_url=BASE, reads="reads" in track, clicks="clicks" in track)
    prepared = PreparedCampaign(
        CampaignContent(campaign_id, "News", "news@shop.example", html=html),
        Links(SECRET, "bounces.shop.example", BASE),
    )

    def fields_for(rid: int, fields: dict) -> dict:
        if not track:
            return fields
        return {**fields, **tracking_context(secret=SECRET, campaign_id=campaign_id, recipient_id=rid)}

    return prepared, fields_for


def test_sent_messages_click_through_to_their_own_links(engine):
    """The builder's real output with tracking built in, then every link clicked over HTTP."""
    sent = send_campaign(engine, name="e2e")
    prepared, fields_for = wired(sent.campaign_id, ("clicks", "reads"))
    client = app_for(engine)
    for addr, uid, first in (("ann@example.com", "a1", "Ann"), ("cid@example.com", "c3", "Cid")):
        rid = sent.ids[addr]
        html = render_html(prepared, rid, addr, fields_for(rid, {"first_name": first, "uid": uid}))
        assert f"{BASE}/unsubscribe/" in html and f"Hello {first}," in html  # unsubscribe left alone
        hrefs = [h for h in campaign_links(html) if CLICK_PATH in h]
        assert len(hrefs) == 3 and html.count("/t/o/") == 1
        targets = [client.get(h.removeprefix(BASE), headers=AGENT).headers["location"] for h in hrefs]
        assert targets == [u.format(uid=uid) for u in LINKS]
        pixel = html.split(f'src="{BASE}')[1].split('"')[0]
        assert client.get(pixel, headers=AGENT).content == open_pixel()


def test_without_tracking_a_message_carries_no_tracking_url(engine):
    sent = send_campaign(engine, track=())
    prepared, fields_for = wired(sent.campaign_id, ())
    rid = sent.ids["ann@example.com"]
    html = render_html(prepared, rid, "ann@example.com", fields_for(rid, {"uid": "a1"}))
    assert "/t/o/" not in html and "/t/c/" not in html
    assert campaign_links(html) == [u.format(uid="a1") for u in LINKS]
    assert tracked_template(HTML, base_url=BASE, reads=False, clicks=False) is HTML
