"""IBM/Lotus Domino and Notes: "was not delivered to: <addr> because: <reason>", "Failure Reasons"."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="domino",
    sign=sign(r"^\s*was not delivered to:|^-+ failure reasons -+|lotus smtp mta|domino"),
    start=rx(r"^\s*was not delivered to:|^-+ failure reasons -+"),
)
detect = FORMAT.detect
