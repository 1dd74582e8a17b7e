"""A real Postfix in the loop: sendwell sends through a private Postfix, which refuses one address at RCPT,
accepts two others and fails them later, writes its own DSNs to the VERP bounce address and delivers them into
a Dovecot Maildir; `sendwell bounces watch --imap` (the CLI, as a user runs it) reads them.

Nothing here is a canned bounce: the wording, the MIME layout and the VERP address are Postfix's own.
"""

from __future__ import annotations

import io
import json
import mailbox
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from sendwell import campaigns, contacts
from sendwell.bounces.classify import classify
from sendwell.db.engine import open_database
from sendwell.db.schema import blacklist, events, recipients

from .conftest import PASSWORD
from .postfix import BOUNCES, DEAD, GONE, KNOWN, Downstream

SENDWELL = [sys.executable, "-m", "sendwell.cli"]
GOOD = [f"ann@{KNOWN}", f"bob@{KNOWN}"]  # Postfix delivers these to their mailboxes
REFUSED = f"ghost@{KNOWN}"  # no such mailbox: Postfix answers 550 5.1.1 at RCPT
LATE = {
    f"former@{DEAD}": "the downstream server's 550 5.1.1, quoted by Postfix",
    f"left-us@{GONE}": 'Postfix\'s local(8): unknown user: "left-us"',
}  # accepted, then bounced by Postfix
DSN_COPIES = Path("/tmp")  # a DSN that is misread is kept here as postfix-dsn-<address>.eml for the report


def wait_for_dsns(maildir: Path, count: int, timeout: float = 30.0) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if maildir.joinpath("new").is_dir():
            found = [bytes(m) for m in mailbox.Maildir(str(maildir), factory=None, create=False)]
            if len(found) >= count:
                return found
        time.sleep(0.1)
    raise AssertionError(f"Postfix delivered no {count} DSNs to {maildir} in {timeout:g} s")


def test_postfix_dsns_read_by_bounces_watch_mark_only_the_late_failures(db_url, account, postfix, tmp_path):
    engine = open_database(db_url)
    people = [*GOOD, REFUSED, *LATE]
    imported = contacts.import_contacts(engine, io.BytesIO(("email\n" + "\n".join(people) + "\n").encode()))
    assert imported.imported == len(people), imported
    campaigns.create_campaign(
        engine, name="spring", subject="Spring news", from_addr="news@shop.example", text="Hello from the shop"
    )
    env = {
        **os.environ,
        "SENDWELL_DATABASE_URL": db_url,
        "SENDWELL_SMTP_URL": postfix.url,
        "SENDWELL_SENDING_BOUNCE_DOMAIN": BOUNCES,
        "SENDWELL_IMAP_PASSWORD": PASSWORD,
        "COLUMNS": "200",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*SENDWELL, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    sent = run("campaigns", "send", "spring", "--json")
    assert sent.returncode == 0, sent.stderr
    by_status = json.loads(sent.stdout)["stats"]["by_status"]
    assert (by_status["sent"], by_status["error"]) == (4, 1), by_status  # Postfix took all but REFUSED
    assert isinstance(postfix.downstream, Downstream)

    dsns = wait_for_dsns(account.server.root / "mail" / account.user, len(LATE))
    assert postfix.downstream.refused == [f"former@{DEAD}"]  # Postfix did relay it and was refused
    delivered = [
        len(
            mailbox.Maildir(str(account.server.root / "mail" / f"{account.user}-known" / u.split("@")[0]), create=False)
        )
        for u in GOOD
    ]
    assert delivered == [1, 1]
    assert postfix.queue_empty()  # nothing deferred: each message delivered or bounced for good

    # The classifier alone first, so a failure says whether reading Postfix's DSN or acting on it went wrong;
    # a misread DSN is kept as /tmp/postfix-dsn-<address>.eml to be looked at.
    read = {}
    for raw in dsns:
        assert b"X-Postfix-Sender: rfc822; bounces+" in raw and f"@{BOUNCES}".encode() in raw  # Postfix's own DSN
        data = classify(raw).as_dict()
        address = ",".join(data["recipients"])
        read[address] = (data["kind"], data["reason"], data["hard"])
        if read[address] != ("bounce", "userunknown", True) or address not in LATE:
            DSN_COPIES.joinpath(f"postfix-dsn-{address or 'unknown'}.eml").write_bytes(raw)
    assert read == {a: ("bounce", "userunknown", True) for a in LATE}, f"CLASSIFIER on Postfix's DSNs: {read}"

    watched = run("bounces", "watch", "--imap", account.url, "--no-tls", "--once", "--json")
    assert watched.returncode == 0, watched.stderr
    totals = json.loads(watched.stdout)
    assert totals["messages"] == len(LATE) and totals["errors_marked"] == len(LATE), totals
    assert totals["blacklisted"] == len(LATE), totals
    assert account.subjects("INBOX") == [] and account.subjects("Processed") == [
        "Undelivered Mail Returned to Sender"
    ] * len(LATE)

    with engine.connect() as conn:
        rows = conn.execute(select(recipients.c.id, recipients.c.email, recipients.c.status, recipients.c.reason)).all()
        ledger = {r.email: (r.status, r.reason) for r in rows}
        ids = {r.email: r.id for r in rows}
        listed = {r.email: r.reason for r in conn.execute(select(blacklist.c.email, blacklist.c.reason))}
        bounce_events = {
            r.email: (r.reason, r.recipient_id)
            for r in conn.execute(
                select(events.c.email, events.c.reason, events.c.recipient_id).where(events.c.type == "bounce")
            )
        }
    engine.dispose()
    assert {a: ledger[a] for a in LATE} == {a: ("error", "userunknown") for a in LATE}, ledger
    assert {a: ledger[a][0] for a in GOOD} == {a: "sent" for a in GOOD}  # the good ones: untouched
    assert ledger[REFUSED][0] == "error", ledger[REFUSED]  # reason: see the report (`rcpt: 5.1.1` today)
    assert set(listed) == {REFUSED, *LATE}, listed  # nobody else blacklisted
    assert {a: listed[a] for a in LATE} == {a: "hard_bounce" for a in LATE}
    # each DSN was matched to its ledger row by the VERP address Postfix sent it to
    assert {a: bounce_events.get(a) for a in LATE} == {a: ("userunknown", ids[a]) for a in LATE}, bounce_events

    again = run("bounces", "watch", "--imap", account.url, "--no-tls", "--once", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["messages"] == 0  # filed: not read twice
