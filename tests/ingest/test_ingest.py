"""Bounce ingestion from .eml, mbox and Maildir on both databases: matched by VERP token, acted upon, idempotent."""

import mailbox

from sqlalchemy import select

from sendwell import blacklist
from sendwell.bounces import ingest
from sendwell.config import Settings
from sendwell.db.schema import events, recipients
from sendwell.demo.server import Behaviour, SimulatedMX
from sendwell.keys import app_secret
from sendwell.sending import verp

from factories import sent_campaign

AUTOREPLY = (
    b"From: ann@example.com\r\nTo: bounces+x@bounces.example\r\nSubject: Out of office\r\n"
    b"Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n\r\nI am away until Monday.\r\n"
)


def dsn_for(engine, settings, cid, rid, rcpt):
    secret = app_secret(engine, settings)
    return_path = verp.bounce_address(secret, cid, rid, settings.sending.bounce_domain)
    original = f"Message-ID: <{cid}.{rid}.abc@example.com>\r\nTo: {rcpt}\r\nSubject: s\r\n\r\nbody".encode()
    return SimulatedMX(Behaviour())._dsn(return_path, rcpt, original)


def row(engine, rid):
    with engine.connect() as conn:
        return conn.execute(select(recipients).where(recipients.c.id == rid)).one()


def test_maildir_bounce_marks_error_and_blacklists_once(engine, tmp_path):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["dead@example.com", "ann@example.com"])
    box = mailbox.Maildir(str(tmp_path / "bounces"), create=True)
    box.add(dsn_for(engine, settings, cid, ids["dead@example.com"], "dead@example.com"))
    box.add(AUTOREPLY)
    summary = ingest.ingest(engine, settings, [str(tmp_path / "bounces")])
    assert summary.messages == 2 and summary.kinds["bounce"] == 1 and summary.kinds["autoreply"] == 1
    assert summary.errors_marked == 1 and summary.blacklisted == 1 and summary.unmatched == 0
    r = row(engine, ids["dead@example.com"])
    assert (r.status, r.kind, r.enhanced_code) == ("error", "recipient", "5.1.1")
    assert blacklist.show(engine, "dead@example.com").entry.reason == "hard_bounce"
    assert row(engine, ids["ann@example.com"]).status == "sent"
    assert len(box) == 2  # the mailbox is never emptied
    again = ingest.ingest(engine, settings, [str(tmp_path / "bounces")])
    assert again.duplicates == 1 and again.blacklisted == 0


def test_mbox_and_eml_and_bad_messages_never_stop_the_run(engine, tmp_path):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["a@example.com", "b@example.com"])
    mbox = mailbox.mbox(str(tmp_path / "box.mbox"))
    mbox.add(dsn_for(engine, settings, cid, ids["a@example.com"], "a@example.com"))
    mbox.add(b"\xff\xfe garbage \x00\x01 not a message at all")
    mbox.flush()
    eml = tmp_path / "one.eml"
    eml.write_bytes(dsn_for(engine, settings, cid, ids["b@example.com"], "b@example.com")[:700])  # truncated
    summary = ingest.ingest(engine, settings, [str(tmp_path / "box.mbox"), str(eml)])
    assert summary.messages == 3
    assert row(engine, ids["a@example.com"]).status == "error"
    with engine.connect() as conn:
        assert conn.execute(select(events.c.id)).first() is not None


def test_bounce_without_token_or_message_id_matches_by_address(engine):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["x@example.com"])
    raw = SimulatedMX(Behaviour())._dsn("someone-else@example.org", "x@example.com", b"Subject: s\r\n\r\n")
    outcome = ingest.process(engine, settings, raw, "test")
    assert outcome.matched and row(engine, ids["x@example.com"]).status == "error"


def test_mailto_unsubscribe_blacklists(engine):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["bye@example.com"])
    token = verp.unsubscribe_token(app_secret(engine, settings), cid, ids["bye@example.com"])
    raw = (
        f"From: bye@example.com\r\nTo: {verp.UNSUBSCRIBE_PREFIX}{token}@bounces.example\r\nSubject: unsubscribe\r\n\r\n"
    ).encode()
    outcome = ingest.process(engine, settings, raw, "test")
    assert outcome.kind == "unsubscribe"
    assert blacklist.show(engine, "bye@example.com").entry.reason == "unsubscribe"
    forged = raw.replace(token[-4:].encode(), b"0000")
    assert ingest.process(engine, settings, forged, "test").kind != "unsubscribe"


def test_cli_exits_75_when_the_database_is_down_so_the_mta_retries(tmp_path):
    import subprocess
    import sys

    eml = tmp_path / "b.eml"
    eml.write_bytes(AUTOREPLY)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "sendwell.cli",
            "--database",
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "bounces",
            "ingest",
            str(eml),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 75, r.stderr
    assert "database unavailable" in r.stderr and "Traceback" not in r.stderr
