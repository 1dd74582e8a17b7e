"""Microsoft Exchange 2007-2019, Office 365 and Outlook.com: the remote answer is under "Diagnostic information"."""

from __future__ import annotations

import re

from sendwell.bounces.formats.common import TextFormat, rx, sign
from sendwell.bounces.found import Mail, Partial

FORMAT = TextFormat(
    name="exchange",
    sign=sign(
        r"delivery has failed to these recipients|rejected your message to the following e-?mail addresses|"
        r"diagnostic information for administrators|microsoft exchange|office ?365"
    ),
    start=rx(
        r"delivery has failed to these recipients or (groups|distribution lists):?|"
        r"rejected your message to the following e-?mail addresses:?"
    ),
    end=rx(r"^\s*diagnostic information for administrators|^_{8,}"),
)
_REMOTE = re.compile(r"remote server returned '([^']+)'|(\d{3}[ -]\d\.\d{1,3}\.\d{1,3} [^\n]+)", re.IGNORECASE)
_DIAGNOSTIC = re.compile(r"diagnostic information for administrators:?(.*)", re.IGNORECASE | re.DOTALL)


def detect(mail: Mail) -> Partial | None:
    found = FORMAT.detect(mail)
    if found is None:
        return None
    details = _DIAGNOSTIC.search(mail.body)
    if details is not None:
        remote = _REMOTE.search(details.group(1))
        if remote is not None:
            answer = remote.group(1) or remote.group(2)
            for hit in found.hits:
                hit.diagnostic = f"{answer} {hit.diagnostic}"
                hit.status = ""
    return found
