"""`bounces watch` against a real Dovecot: bounces filed, other mail left for people, bad mail survives, drops heal."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sendwell import blacklist
from sendwell.bounces import imap
from sendwell.config import Settings
from sendwell.db.schema import events, recipients
from sendwell.demo.server import Behaviour, SimulatedMX
from sendwell.errors import UserError
from sendwell.keys import app_secret
from sendwell.sending import verp

from .conftest import PASSWORD
from factories import sent_campaign

VACATION = (
    b"From: ann@example.com\r\nTo: bounces@bounces.example\r\nSubject: Out of office\r\n"
    b"Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n\r\nI am away until Monday.\r\n"
)
HUMAN_REPLY = (
    b"From: Bob <bob@example.com>\r\nTo: news@example.com\r\nSubject: Re: our news\r\n"
    b"In-Reply-To: <1.2.abc@example.com>\r\n\r\nThanks, but please call me instead.\r\n"
)


def dsn_for(engine, settings, cid, rid, rcpt, subject="Undelivered Mail Returned to Sender"):
    return_path = verp.bounce_address(app_secret(engine, settings), cid, rid, settings.sending.bounce_domain)
    original = f"Message-ID: <{cid}.{rid}.abc@example.com>\r\nTo: {rcpt}\r\nSubject: s\r\n\r\nbody".encode()
    raw = SimulatedMX(Behaviour())._dsn(return_path, rcpt, original)
    return raw.replace(b"Subject: Undelivered Mail Returned to Sender", f"Subject: {subject}".encode(), 1)


def status_of(engine, rid):
    with engine.connect() as conn:
        return conn.execute(select(recipients.c.status).where(recipients.c.id == rid)).scalar_one()


def watcher(engine, account, settings, **options):
    mailbox, _ = imap.parse_url(account.url, no_tls=True)
    return imap.Watcher(mailbox, PASSWORD, imap.ingest_processor(engine, settings), imap.WatchOptions(**options))


def test_dsn_blacklists_and_is_filed_while_replies_stay_in_inbox(engine, account):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["dead@example.com", "ann@example.com", "bob@example.com"])
    account.append(dsn_for(engine, settings, cid, ids["dead@example.com"], "dead@example.com"))
    account.append(VACATION)
    account.append(HUMAN_REPLY)
    stats = watcher(engine, account, settings).run(once=True)
    assert stats.messages == 3 and stats.kinds["bounce"] == 1
    assert status_of(engine, ids["dead@example.com"]) == "error"
    assert blacklist.show(engine, "dead@example.com").entry.reason == "hard_bounce"
    assert status_of(engine, ids["ann@example.com"]) == "sent"
    assert account.subjects("Processed") == ["Undelivered Mail Returned to Sender"]
    assert account.subjects("INBOX") == ["Out of office", "Re: our news"]
    flags = account.flags("INBOX")
    assert all("\\Seen" not in f and imap.KEYWORD_CHECKED in f for f in flags.values())  # still new for people
    again = watcher(engine, account, settings).run(once=True)
    assert again.messages == 0  # read once, not at every poll


def test_flagging_instead_of_moving_and_an_operator_folder_for_replies(engine, account):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["gone@example.com"])
    account.append(dsn_for(engine, settings, cid, ids["gone@example.com"], "gone@example.com"))
    account.append(HUMAN_REPLY)
    w = watcher(engine, account, settings, done_folder=None, other_folder="Réponses/À lire")
    stats = w.run(once=True)
    assert stats.dispositions == {"done": 1, "other": 1}
    assert status_of(engine, ids["gone@example.com"]) == "error"
    inbox = account.flags("INBOX")
    assert list(inbox) == ["Undelivered Mail Returned to Sender"]
    assert (
        "\\Seen" in inbox["Undelivered Mail Returned to Sender"]
        and imap.KEYWORD_DONE in inbox["Undelivered Mail Returned to Sender"]
    )
    assert account.subjects(imap.quote(w.server_name("Réponses/À lire"))) == ["Re: our news"]


def _truncated_mime() -> bytes:
    return (
        b"From: carol@example.com\r\nSubject: truncated\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\n'
        b"see attached\r\n--XYZ\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQKJcfs"
    )  # no closing boundary: the sender's client died mid-upload


def _wrong_charset() -> bytes:
    return (
        "From: dan@example.com\r\nSubject: =?utf-99?B?SGVsbG8=?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=klingon-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Grüße — déjà vu\r\n"
    ).encode("latin-1", "replace") + b"\xff\xfe\x00bytes\r\n"


def _huge_attachment(megabytes: int = 20) -> bytes:
    blob = base64.encodebytes(b"\0" * (megabytes * 1024 * 1024 * 3 // 4))
    return (
        b"From: eve@example.com\r\nSubject: huge\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nthe video\r\n'
        b"--B\r\nContent-Type: video/mp4\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + blob.replace(b"\n", b"\r\n")
        + b"\r\n--B--\r\n"
    )


def test_malformed_messages_are_logged_and_left_and_the_watcher_carries_on(engine, account, caplog):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["dead@example.com"])
    huge = _huge_attachment()
    assert len(huge) > 20_000_000
    for raw in (_truncated_mime(), _wrong_charset(), huge):
        account.append(raw)
    account.append(dsn_for(engine, settings, cid, ids["dead@example.com"], "dead@example.com"))
    with caplog.at_level(logging.INFO, logger="sendwell.bounces.imap"):
        stats = watcher(engine, account, settings).run(once=True)
    assert stats.messages == 4 and stats.dispositions["done"] == 1
    assert status_of(engine, ids["dead@example.com"]) == "error"
    assert account.subjects("INBOX") == ["=?utf-99?B?SGVsbG8=?=", "huge", "truncated"]
    lines = [r.getMessage() for r in caplog.records]
    assert sum(" UID " in line for line in lines) >= 4  # one line per message at least
    assert any("bytes; reading only its first" in line for line in lines)  # the 20 MB one was not read whole


def test_a_message_that_breaks_the_reader_is_flagged_once_and_kept(engine, account, caplog):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["dead@example.com"])
    account.append(b"From: x@example.com\r\nSubject: poison\r\n\r\ntrips the reader\r\n")
    account.append(dsn_for(engine, settings, cid, ids["dead@example.com"], "dead@example.com"))
    real = imap.ingest_processor(engine, settings)

    def reader(raw: bytes, source: str):  # a classifier bug on one message: the rest must go on
        if b"trips the reader" in raw:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "invalid start byte")
        return real(raw, source)

    mailbox, _ = imap.parse_url(account.url, no_tls=True)
    with caplog.at_level(logging.WARNING, logger="sendwell.bounces.imap"):
        stats = imap.Watcher(mailbox, PASSWORD, reader).run(once=True)
    assert stats.dispositions == {"unreadable": 1, "done": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not read message" in warnings[0] and "UID 1" in warnings[0]
    assert "\n" not in warnings[0]
    assert imap.KEYWORD_UNREADABLE in account.flags("INBOX")["poison"]
    assert imap.Watcher(mailbox, PASSWORD, reader).run(once=True).messages == 0  # not retried forever


def test_watcher_reconnects_after_the_server_drops_it(engine, account, caplog):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["one@example.com", "two@example.com"])
    account.append(dsn_for(engine, settings, cid, ids["one@example.com"], "one@example.com"))
    w = watcher(engine, account, settings)
    stop = threading.Event()
    thread = threading.Thread(target=w.run, kwargs={"interval": 0.2, "stop": stop, "backoff_start": 0.1})
    thread.start()
    try:
        _wait(lambda: w.stats.dispositions["done"] == 1)
        kicked = account.server.doveadm("kick", account.user)
        assert kicked.returncode == 0, kicked.stderr
        account.append(dsn_for(engine, settings, cid, ids["two@example.com"], "two@example.com"))
        _wait(lambda: w.stats.dispositions["done"] == 2)
    finally:
        stop.set()
        thread.join(timeout=10)
        w.close()
    assert w.stats.drops >= 1 and w.stats.connections >= 2
    assert status_of(engine, ids["two@example.com"]) == "error"
    assert any("connection lost" in r.getMessage() for r in caplog.records)


def _wait(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_cli_watch_once_prints_totals(db_url, account, monkeypatch):
    from sendwell.cli.app import app

    monkeypatch.setenv("SENDWELL_TEST_IMAP_PW", PASSWORD)
    from sendwell.db.engine import open_database

    engine = open_database(db_url)
    settings = Settings()
    cid, ids = sent_campaign(engine, ["dead@example.com"])
    account.append(dsn_for(engine, settings, cid, ids["dead@example.com"], "dead@example.com"))
    account.append(VACATION)
    engine.dispose()
    result = CliRunner().invoke(
        app,
        [
            "--database",
            db_url,
            "bounces",
            "watch",
            "--imap",
            account.url,
            "--no-tls",
            "--password-env",
            "SENDWELL_TEST_IMAP_PW",
            "--once",
            "--json",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"messages": 2' in result.stdout and '"blacklisted": 1' in result.stdout
    engine = open_database(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(events.c.type)).scalars().all() == ["bounce"]
    assert imap.noted_reader(engine) == "127.0.0.1"  # where bounces are read, for the set-up check
    engine.dispose()


def test_wrong_password_is_one_clear_error(account):
    mailbox, _ = imap.parse_url(account.url, no_tls=True)
    w = imap.Watcher(mailbox, "not-the-password", lambda raw, source: None)
    with pytest.raises(UserError, match="login refused"):
        w.run(once=True)


@pytest.mark.parametrize(
    "url, flags, expected",
    [
        (
            "imaps://bounce%40example.com@mail.example.com/INBOX",
            {},
            ("mail.example.com", 993, "bounce@example.com", "INBOX", imap.Tls.IMPLICIT),
        ),
        ("imap://u@h:1430/Bounces/New", {"no_tls": True}, ("h", 1430, "u", "Bounces/New", imap.Tls.NONE)),
        ("imap://u@h", {}, ("h", 143, "u", "INBOX", imap.Tls.STARTTLS)),
    ],
)
def test_parse_url(url, flags, expected):
    m, password = imap.parse_url(url, **flags)
    assert (m.host, m.port, m.user, m.folder, m.tls) == expected and password is None


@pytest.mark.parametrize(
    "url, flags",
    [("pop3://u@h/", {}), ("imaps://h/INBOX", {}), ("imaps://u@h/INBOX", {"no_tls": True}), ("imap://u@h:x/", {})],
)
def test_parse_url_refuses_what_it_cannot_use(url, flags):
    with pytest.raises(UserError, match=f"^imap: {re.escape(url)}: ") as err:
        imap.parse_url(url, **flags)
    assert err.value.field == "imap"


def test_folder_names_use_modified_utf7():
    assert imap.quote("~peter/mail/台北/日本語") == '"~peter/mail/&U,BTFw-/&ZeVnLIqe-"'
    assert imap.quote('A&B "x"') == '"A&-B \\"x\\""'


def test_a_drop_between_recording_and_filing_loses_nothing_and_counts_nothing_twice(engine, account):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["one@example.com", "two@example.com"])
    for rcpt in ("one@example.com", "two@example.com"):
        account.append(dsn_for(engine, settings, cid, ids[rcpt], rcpt, subject=f"bounce for {rcpt}"))
    real = imap.ingest_processor(engine, settings)
    kicked = []

    def reader(raw: bytes, source: str):
        outcome = real(raw, source)
        if not kicked:  # the server goes away after the first bounce is recorded, before it is moved
            kicked.append(account.server.doveadm("kick", account.user).returncode)
        return outcome

    mailbox, _ = imap.parse_url(account.url, no_tls=True)
    stats = imap.Watcher(mailbox, PASSWORD, reader).run(once=True, backoff_start=0.05)
    assert kicked == [0] and stats.drops == 1 and stats.connections == 2
    assert account.subjects("INBOX") == []
    assert account.subjects("Processed") == ["bounce for one@example.com", "bounce for two@example.com"]
    with engine.connect() as conn:
        assert len(conn.execute(select(events.c.id)).all()) == 2  # the re-read bounce was a duplicate
    assert status_of(engine, ids["one@example.com"]) == status_of(engine, ids["two@example.com"]) == "error"


def test_without_move_only_our_own_uids_are_expunged(engine, account):
    """On a server without MOVE, COPY + UID EXPUNGE must not take a person's \\Deleted messages with it."""
    settings = Settings()
    cid, ids = sent_campaign(engine, ["dead@example.com"])
    account.append(HUMAN_REPLY)
    conn = account.client()
    conn.select("INBOX")
    conn.uid("STORE", "1", "+FLAGS", "(\\Deleted \\Seen)")  # someone marked it for deletion, not yet expunged
    conn.logout()
    account.append(dsn_for(engine, settings, cid, ids["dead@example.com"], "dead@example.com"))

    class WithoutMove(imap.Watcher):
        def connect(self):
            conn = super().connect()
            self._capabilities -= {"MOVE"}
            return conn

    mailbox, _ = imap.parse_url(account.url, no_tls=True)
    stats = WithoutMove(mailbox, PASSWORD, imap.ingest_processor(engine, settings)).run(once=True)
    assert stats.dispositions == {"done": 1}
    assert account.subjects("Processed") == ["Undelivered Mail Returned to Sender"]
    assert account.subjects("INBOX") == ["Re: our news"]  # still there, still \Deleted: the owner's call


@pytest.mark.parametrize("scheme", ["imaps", "starttls"])
def test_tls_with_a_trusted_certificate_and_refusal_of_an_untrusted_one(account, scheme):
    import ssl

    server = account.server
    if scheme == "imaps":
        url, flags = f"imaps://{account.user}@127.0.0.1:{server.tls_port}/INBOX", {}
    else:
        url, flags = f"imap://{account.user}@127.0.0.1:{server.port}/INBOX", {"starttls": True}
    mailbox, _ = imap.parse_url(url, **flags)
    account.append(HUMAN_REPLY)
    trusted = ssl.create_default_context(cafile=server.cafile)
    stats = imap.Watcher(mailbox, PASSWORD, lambda raw, source: _Other(), ssl_context=trusted).run(once=True)
    assert stats.messages == 1 and stats.connections == 1
    with pytest.raises(UserError, match="TLS certificate is not trusted"):
        imap.Watcher(mailbox, PASSWORD, lambda raw, source: _Other()).run(once=True)


class _Other:
    kind = "other"
    applied: list = []
    error = None


def test_cli_over_imaps_with_a_private_ca(sqlite_engine, account, monkeypatch, tmp_path):
    from sendwell.cli.app import app

    monkeypatch.setenv("SENDWELL_IMAP_PASSWORD", PASSWORD)
    account.append(VACATION)
    url = f"imaps://{account.user}@127.0.0.1:{account.server.tls_port}/INBOX"
    database = str(sqlite_engine.url)
    result = CliRunner().invoke(
        app,
        ["--database", database, "bounces", "watch", "--imap", url, "--ca-file", account.server.cafile, "--once", "-q"],
    )
    assert result.exit_code == 0, result.output
    assert "1 message(s): 1 autoreply" in result.stdout
    result = CliRunner().invoke(app, ["--database", database, "bounces", "watch", "--imap", url, "--once"])
    assert result.exit_code != 0 and "TLS certificate is not trusted" in str(result.exception)


def test_a_missing_folder_is_one_clear_error(account):
    mailbox, _ = imap.parse_url(account.url.replace("/INBOX", "/Bounces"), no_tls=True)
    with pytest.raises(UserError, match="cannot open folder 'Bounces'"):
        imap.Watcher(mailbox, PASSWORD, lambda raw, source: None).run(once=True)


def test_stopping_mid_pass_files_what_was_recorded_and_leaves_the_rest(engine, account):
    settings = Settings()
    cid, ids = sent_campaign(engine, ["one@example.com", "two@example.com"])
    for rcpt in ("one@example.com", "two@example.com"):
        account.append(dsn_for(engine, settings, cid, ids[rcpt], rcpt, subject=f"bounce for {rcpt}"))
    real, stop = imap.ingest_processor(engine, settings), threading.Event()

    def reader(raw: bytes, source: str):
        stop.set()  # SIGTERM arrives while the first message is being read
        return real(raw, source)

    mailbox, _ = imap.parse_url(account.url, no_tls=True)
    stats = imap.Watcher(mailbox, PASSWORD, reader).run(interval=0.1, stop=stop)
    assert stats.messages == 1
    assert account.subjects("Processed") == ["bounce for one@example.com"]
    assert account.subjects("INBOX") == ["bounce for two@example.com"]
    assert status_of(engine, ids["two@example.com"]) == "sent"
