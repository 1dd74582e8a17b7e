"""qmail (and vpopmail, netqmail): "I'm afraid I wasn't able to deliver your message to the following addresses."."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="qmail",
    sign=sign(r"this is the qmail-send program|i'm afraid i wasn't able to deliver your message|qmail-send"),
    start=rx(r"wasn't able to deliver your message to the following addresses\.?"),
    end=rx(r"^--- ?(below this line is a copy of the message|enclosed are the original headers)"),
)
detect = FORMAT.detect
