"""`%` and `_` typed into a search match themselves, not "anything": contacts and the black list, on
SQLite and PostgreSQL (both run the same LIKE, with an ESCAPE clause)."""

import io

from sendwell import blacklist, contacts

ADDRESSES = ["a_b@x.org", "axb@x.org", "a%b@x.org", "aqqb@x.org"]


def _emails(rows: list[dict]) -> set[str]:
    return {r["email"] for r in rows}


def test_contact_search_matches_wildcards_literally(engine):
    report = contacts.import_contacts(engine, io.BytesIO("\n".join(ADDRESSES).encode()), name="t.csv")
    assert report.imported == 4
    assert _emails(contacts.list_contacts(engine, search="a_b")) == {"a_b@x.org"}
    assert _emails(contacts.list_contacts(engine, search="A%B")) == {"a%b@x.org"}
    assert _emails(contacts.list_contacts(engine, search="%")) == {"a%b@x.org"}
    assert contacts.count(engine, "_") == 1
    assert contacts.count(engine, "x.org") == 4  # a plain search still finds every match


def test_blacklist_search_matches_wildcards_literally(engine):
    assert blacklist.add(engine, ADDRESSES, reason="manual").imported == 4
    assert {e.email for e in blacklist.list_entries(engine, search="a_b")} == {"a_b@x.org"}
    assert {e.email for e in blacklist.list_entries(engine, search="a%b")} == {"a%b@x.org"}
    assert blacklist.count(engine, search="_") == 1
    assert blacklist.count(engine, search="%") == 1
    assert blacklist.count(engine, search="@x.org") == 4
