"""Property: whatever the segments, exclusions and black list (before or after the start), the receiving
server never sees a message for a blacklisted or excluded address, and sees every other one exactly once."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendwell import blacklist, campaigns, segments
from sendwell.db.engine import open_database
from sendwell.sending.engine import send

from .conftest import sender_settings
from .smtpd import ScriptedServer
from factories import add_contacts

PEOPLE = [f"p{i}@x.org" for i in range(12)]
subsets = st.sets(st.sampled_from(PEOPLE))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contacts=subsets,
    included=st.one_of(st.none(), subsets),
    excluded=subsets,
    banned_before=subsets,
    banned_after=subsets,
)
def test_suppressed_addresses_never_reach_the_server(contacts, included, excluded, banned_before, banned_after):
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer() as server:
        engine = open_database(f"sqlite:///{Path(tmp) / 'p.db'}")
        try:
            add_contacts(engine, sorted(contacts))
            if included is not None:
                segments.create(engine, "in")
                segments.add(engine, "in", sorted(included))
            segments.create(engine, "out")
            segments.add(engine, "out", sorted(excluded))
            blacklist.add(engine, sorted(banned_before))
            cid = campaigns.create_campaign(
                engine,
                name="c",
                subject="s",
                from_addr="n@shop.example",
                text="hi",
                include=["in"] if included is not None else [],
                exclude=["out"],
            )
            campaigns.start_campaign(engine, cid)
            blacklist.add(engine, sorted(banned_after))  # suppressed after the ledger was made
            send(engine, sender_settings(server.url), [cid], linger=0.2)
            audience = set(contacts) if included is None else set(included)
            expected = audience - set(excluded) - set(banned_before) - set(banned_after)
            assert server.counts() == dict.fromkeys(expected, 1)
        finally:
            engine.dispose()
