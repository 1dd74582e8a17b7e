"""Google Groups refusals: the group does not exist or we may not post to it; the sender was refused."""

from __future__ import annotations

from sendwell.bounces import text as T
from sendwell.bounces.found import Hit, Mail, Partial
from sendwell.bounces.report import Reason


def detect(mail: Mail) -> Partial | None:
    failed = [T.clean_address(a) for a in mail.header("X-Failed-Recipients").split(",")]
    failed = [a for a in failed if a]
    if not failed or "groups.google.com" not in mail.body:
        return None
    if mail.parts_of("message/delivery-status"):
        return None
    diagnostic = " ".join(mail.body.split())[:500]
    hits = [Hit(address=a, diagnostic=diagnostic, reason=Reason.REJECTED) for a in failed]
    return Partial(format="googlegroups", hits=hits, context=mail.body, original=mail.original)
