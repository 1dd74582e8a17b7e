"""Auto-replies (RFC 3834): vacation and out-of-office notices, which are not bounces."""

from __future__ import annotations

import re

from sendwell.bounces import text as T
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import MessageKind, Reason

# Header signals: (header, pattern on its lower-cased value).
HEADER_SIGNS: tuple[tuple[str, str], ...] = (
    ("Auto-Submitted", r"auto-replied"),
    ("X-Autoreply", r"."),
    ("X-Autorespond", r"."),
    ("X-Autoresponder", r"."),
    ("X-Auto-Reply", r"."),
    ("X-Apple-Action", r"vacation"),
    ("Precedence", r"auto[_-]reply"),
    ("X-Mailer", r"vacation|autoresponder"),
    ("X-Vacation", r"."),
)
SUBJECT_SIGNS = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort|respuesta)|autoreply|auto:|out of (the )?office|"
    r"r[ée]ponse automatique|abwesenheit|absence|vacation|on vacation|away from|i am away|"
    r"automatische antwort|automatisch antwoord|respuesta autom[áa]tica|risposta automatica|"
    r"resposta autom[áa]tica|autosvar|automaattinen vastaus|odpowied[źz] automatyczna|"
    r"\u81ea\u52d5\u5fdc\u7b54|\u81ea\u52d5\u8fd4\u4fe1|\u4e0d\u5728)",
    re.IGNORECASE,
)
SUBJECT_ANYWHERE = re.compile(r"out of (the )?office|auto(matic)?[ -]?reply|autoreply|vacation", re.IGNORECASE)


_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery", re.IGNORECASE)


def is_autoreply(mail: Mail) -> bool:
    if _DAEMON.search(mail.sender):  # bounces often carry Auto-Submitted: auto-replied too
        return False
    for name, pattern in HEADER_SIGNS:
        value = mail.header(name)
        if value and re.search(pattern, value.lower()):
            return True
    subject = mail.subject
    return bool(SUBJECT_SIGNS.match(subject) or SUBJECT_ANYWHERE.search(subject))


def detect(mail: Mail) -> Partial | None:
    if not is_autoreply(mail):
        return None
    address = T.clean_address(mail.header("From"))
    hit = Hit(address=address, reason=Reason.VACATION, diagnostic=mail.subject) if address else None
    return Partial(format="rfc3834", hits=[hit] if hit else [], kind=MessageKind.AUTOREPLY, original=mail.original)
