"""The Message-IDs of campaign messages: `<campaign.recipient.random@domain>`. They name their ledger row, so a
bounce or a provider's report that quotes one finds the row by its key, and the ledger needs no index of
Message-IDs (an insert into it per message sent cost the sender about a tenth of its time: docs/performance.md)."""

from __future__ import annotations

import random
import re

# Every campaign Message-ID since the first release has this shape (the recipient id zero-padded since
# 2026-11-29). Ids of up to 18 digits: every one fits a 64-bit key (19 may not), and no ledger comes near.
_OURS = re.compile(r"(<)?([0-9]{1,18})\.([0-9]{1,18})\.[0-9a-f]+@[^<>\s]+(?(1)>)")  # the brackets in pairs


def new(campaign_id: int, recipient_id: int, domain: str) -> str:
    """The recipient id zero-padded, so a campaign's Message-IDs sort in sending order. The random part tells
    attempts apart (the ids make the whole unique) and makes one hard to guess; Python's PRNG, seeded from the OS
    (and again in a forked child), rather than a system call per message."""
    return f"<{campaign_id}.{recipient_id:010d}.{random.getrandbits(48):012x}@{domain}>"


def row_of(message_id: str) -> tuple[int, int] | None:
    """(campaign id, recipient id) that a Message-ID of ours names (with or without its angle brackets); None
    for anyone else's. The caller still compares the whole Message-ID with the row's."""
    m = _OURS.fullmatch(message_id.strip())
    return (int(m[2]), int(m[3])) if m else None
