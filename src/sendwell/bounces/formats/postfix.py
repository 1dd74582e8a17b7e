"""Postfix's human-readable part: "<addr>: host mx[ip] said: 550 ... (in reply to RCPT TO command)"."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="postfix",
    sign=sign(r"^this is the mail system at host|undelivered mail returned to sender|postfix program"),
    start=rx(
        r"^\s*the mail system\s*$|could not be delivered to one or more recipients\.|"
        r"^(i'm sorry|we regret) to (have to )?inform you"
    ),
    end=rx(r"^-{2,} ?(delivery report unavailable|undelivered message|returned message)|^reporting-mta:"),
)
detect = FORMAT.detect
