"""OpenSMTPD: "This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail."."""

from sendwell.bounces.formats.common import TextFormat, rx, sign
from sendwell.bounces.report import Reason

FORMAT = TextFormat(
    name="opensmtpd",
    sign=sign(r"this is the mailer-daemon, please do not reply to this e-?mail"),
    start=rx(r"(following|list of) recipients:"),
    end=rx(r"^\s*(below is a copy of the original message|please note that this is only a temporary)"),
    hints=((rx(r"envelope expired|delivery time expired"), Reason.EXPIRED),),
)
detect = FORMAT.detect
