"""Microsoft Exchange 2000/2003: "Your message ... did not reach the following recipient(s):"."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="exchange2003",
    sign=sign(r"did not reach the following recipient\(s\)"),
    start=rx(r"did not reach the following recipient\(s\):?"),
)
detect = FORMAT.detect
