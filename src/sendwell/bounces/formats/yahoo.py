"""Yahoo! Mail: "Sorry, we were unable to deliver your message to the following address."."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="yahoo",
    sign=sign(r"sorry, we were unable to deliver your message to the following address"),
    start=rx(r"unable to deliver your message to the following address\.?"),
    end=rx(r"^--- below this line is a copy of the message"),
)
detect = FORMAT.detect
