"""The Message-IDs of campaign messages: `<campaign.recipient.random@domain>`. They name their ledger row, so a
bounce or a provider's report that quotes one finds the row by its key, and the ledger needs no index of
Message-IDs (an insert into it per message sent cost the sender about a tenth of its time: docs/performance.md)."""

from __future__ import annotations

import random
import re

# The random part tells attempts apart (the ids make the whole unique) and keeps them unguessable: Python's
# PRNG, seeded from the OS (and again in a forked child), not a system call per message.
_OURS = re.compile(r"<?(\d{1,18})\.(\d{1,18})\.[0-9a-f]+@[^<>\s]+>?")


def new(campaign_id: int, recipient_id: int, domain: str) -> str:
    # zero-padded: a campaign's Message-IDs sort in sending order
    return f"<{campaign_id}.{recipient_id:010d}.{random.getrandbits(48):012x}@{domain}>"


def row_of(message_id: str) -> tuple[int, int] | None:
    """(campaign id, recipient id) that a Message-ID of ours names; None for anyone else's."""
    m = _OURS.fullmatch(message_id.strip())
    return (int(m[1]), int(m[2])) if m else None
