"""Courier MTA: "This is a delivery status notification from ..., running the Courier mail server"."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="courier",
    sign=sign(r"running the courier mail server|this is a delivery status notification from"),
    start=rx(r"^\s*undeliverable mail|^\s*delayed mail"),
)
detect = FORMAT.detect
