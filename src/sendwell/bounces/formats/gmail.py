"""Gmail's own plain-text bounces: the remote server's answer follows "The error that the other server returned was"."""

from __future__ import annotations

import re

from sendwell.bounces import scan
from sendwell.bounces.found import Mail, Partial

_REMOTE = re.compile(r"the (error|response) (that )?the other server returned was:?\s*(.+)", re.IGNORECASE | re.DOTALL)
_DETAILS = re.compile(r"technical details of (permanent|temporary) failure:?\s*(.+)", re.IGNORECASE | re.DOTALL)


def detect(mail: Mail) -> Partial | None:
    if "technical details of" not in mail.head:
        return None
    body = mail.body
    m = _DETAILS.search(body)
    if m is None:
        return None
    remote = _REMOTE.search(m.group(2))
    diagnostic = " ".join((remote.group(3) if remote else m.group(2)).split())[:1000]
    hits = scan.scan(body[: m.start()] or body, {mail.header("To").lower()})
    for hit in hits:
        hit.diagnostic = diagnostic
        hit.status = ""
        if m.group(1).lower() == "temporary" and not remote:
            hit.command = ""
    return Partial(format="gmail", hits=hits, context=body, original=mail.original)
