"""Exim and the services built on it (mail.ru, GMX, 1&1, MXLogic): "The following address(es) failed:"."""

from sendwell.bounces.formats.common import TextFormat, rx, sign

FORMAT = TextFormat(
    name="exim",
    sign=sign(
        r"this message was created automatically by mail delivery software|\(exim \d|"
        r"mail delivery failed: returning message to sender|"
        r"\u043a \u0441\u043e\u0436\u0430\u043b\u0435\u043d\u0438\u044e"
    ),  # mail.ru: "К сожалению"
    start=rx(
        r"(following address(es)? failed:?|could not be delivered to one or more( of its)?\s+recipients\.?|"
        r"following address(es)? (has|have) been deferred)"
    ),
    end=rx(
        r"^-{2,} ?(this is a copy of (the|your) message|the headers of the message|original message)|"
        r"^message headers follow|^-{2,}\s*$"
    ),
)
detect = FORMAT.detect
