"""`%` and `_` typed into a search match themselves, not "anything": contacts and the black list, on
SQLite and PostgreSQL (both run the same LIKE, with an ESCAPE clause)."""

import io

from sendwell import blacklist, contactquery, contacts

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


# Searches a person may type: wildcards, a backslash (the ESCAPE character), other case, spaces around.
SEARCHES = ["a_b", "A%B", "%", "_", "\\", "a\\_b", "X.ORG", "aq", "  a_b ", "", "nothing"]
EXPECTED = {
    "a_b": {"a_b@x.org"},
    "A%B": {"a%b@x.org"},
    "%": {"a%b@x.org"},
    "_": {"a_b@x.org"},
    "aq": {"aqqb@x.org"},
    "\\": set(),  # the escape character itself: no address holds one, and no error
    "a\\_b": set(),
    "nothing": set(),
}


def test_contact_list_search_and_the_filter_search_match_the_same_rows(engine):
    """contacts.list_contacts(search=…) and count(…) are the filter's search (contactquery) on its own: the same
    contacts for every text, wildcards and backslashes taken literally, case ignored."""
    addresses = [*ADDRESSES, "Mixed.Case@X.org"]
    report = contacts.import_contacts(engine, io.BytesIO("\n".join(addresses).encode()), name="t.csv")
    assert report.imported == len(addresses), report
    everyone = {r["email"] for r in contactquery.page(engine, contactquery.ContactFilter())}
    for text in SEARCHES:
        flt = contactquery.ContactFilter(search=text)
        by_filter = contactquery.page(engine, flt, limit=1000)
        listed = contacts.list_contacts(engine, search=text, limit=1000)
        assert listed == by_filter, text  # the same rows, columns and order
        assert contacts.count(engine, text) == contactquery.count(engine, flt) == len(listed), text
        if text in EXPECTED:
            assert _emails(listed) == EXPECTED[text], text
    assert _emails(contacts.list_contacts(engine, search="X.ORG")) == everyone
    assert len(contacts.list_contacts(engine, search="mixed.CASE@x")) == 1
