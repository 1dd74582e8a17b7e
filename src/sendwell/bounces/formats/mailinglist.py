"""Mailing-list managers (fml, Mailman, Majordomo, Google-style lists) refusing a sender who is not a member."""

from __future__ import annotations

import re

from sendwell.bounces import text as T
from sendwell.bounces.formats.common import sign
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import Reason

SIGN = sign(
    r"not a member of (this|the) (mailing )?list|are not (a )?member|post by non-?member|"
    r"non-?member (submission|post)|only members (may|can) post|not (a )?subscriber of"
)
_LIST = re.compile(r"(?:mailing list|list)\s*<?([^\s<>]+@[^\s<>]+?)>?[.,;]?\s*$", re.IGNORECASE | re.MULTILINE)


_WORDS = T.required_words(SIGN.pattern) or ()


def detect(mail: Mail) -> Partial | None:
    head = mail.head
    if not any(w in head for w in _WORDS) or SIGN.search(head) is None:
        return None
    m = _LIST.search(mail.body[:3000])
    address = T.clean_address(m.group(1)) if m else ""
    if not address:
        return None
    line = mail.body[:3000].strip().split("\n", 1)[0]
    return Partial(
        format="mailinglist",
        hits=[Hit(address=address, diagnostic=line, reason=Reason.REJECTED)],
        context=mail.body,
        original=mail.original,
    )
