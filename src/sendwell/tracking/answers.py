"""The HTTP answers of the two tracking URLs, framework-free: the web layer only copies them into a response.

`GET /t/o/<token>` always answers the same 1×1 transparent GIF, whether the token is genuine,
forged, of a deleted campaign or of one that does not track reads, and whether recording worked:
the image never tells anything. `GET /t/c/<token>` answers 302 to the link of our stored campaign,
or the same neutral page for every token that names no link.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from sendwell.tracking.record import record_click, record_open

log = logging.getLogger(__name__)


def open_pixel() -> bytes:
    """A 1×1 GIF89a whose one pixel is transparent (43 bytes)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # 1×1, a global table of 2 colours
    palette = b"\x00\x00\x00\xff\xff\xff"
    transparent = b"\x21\xf9\x04\x01\x00\x00\x00\x00"  # graphic control: colour 0 is transparent
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    pixels = b"\x02\x02\x44\x01\x00"  # LZW, minimum code size 2: clear, index 0, end
    return screen + palette + transparent + image + pixels + b"\x3b"


PIXEL = open_pixel()
_PRIVATE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",  # the target site never sees our token in a Referer
    "X-Robots-Tag": "noindex, nofollow",
}
NEUTRAL_PAGE = (
    b'<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex">'
    b"<title>Link not available</title></head><body><p>This link is not available.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def open_answer(
    engine: Engine, secret: str, token: str, user_agent: str | None, ip: str | None, at: datetime | None = None
) -> Answer:
    """Record the fetch when the token is genuine; the pixel either way."""
    try:
        record_open(engine, token, user_agent, ip, at, secret=secret)
    except Exception:  # a database problem must not change what the image looks like
        log.exception("recording an open failed")
    return Answer(200, PIXEL, {"Content-Type": "image/gif", **_PRIVATE})


def click_answer(
    engine: Engine, secret: str, token: str, user_agent: str | None, ip: str | None, at: datetime | None = None
) -> Answer:
    """302 to the campaign's own link for a genuine token; the neutral page (404) for any other."""
    try:
        url = record_click(engine, token, user_agent, ip, at, secret=secret)
    except Exception:  # a database problem gets the neutral page, never a 500 with details
        log.exception("recording a click failed")
        url = None
    if url is None:
        return Answer(404, NEUTRAL_PAGE, {"Content-Type": "text/html; charset=utf-8", **_PRIVATE})
    return Answer(302, b"", {"Location": url, **_PRIVATE})
