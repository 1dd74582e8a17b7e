"""The engine against a real aiosmtpd server: statuses per scripted answer, outages, black list, pause."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from sendwell import blacklist
from sendwell.db.schema import campaigns, recipients
from sendwell.model import CampaignState
from sendwell.sending.engine import send

from .conftest import sender_settings
from .smtpd import Script, ScriptedServer
from factories import started_campaign


def rows(engine, cid):
    with engine.connect() as conn:
        return {r.email: r for r in conn.execute(select(recipients).where(recipients.c.campaign_id == cid))}


def campaign_state(engine, cid):
    with engine.connect() as conn:
        return conn.execute(select(campaigns.c.state, campaigns.c.server_problem).where(campaigns.c.id == cid)).first()


def test_each_scripted_answer_ends_in_its_status(engine, server):
    server.script = Script(
        rcpt={
            "dead@x.org": "550 5.1.1 no such user",
            "full@x.org": "452 4.2.2 mailbox full",
            "spam@x.org": "550 5.7.1 message refused as spam",
            "grey@x.org": "451 4.7.1 greylisted",
        },
        eod={"big@x.org": "552 5.3.4 message too big"},
    )
    addrs = ["ok1@x.org", "ok2@x.org", "dead@x.org", "full@x.org", "spam@x.org", "grey@x.org", "big@x.org"]
    cid = started_campaign(engine, addrs, fields={"ok1@x.org": {"first_name": "Ann"}})
    report = send(engine, sender_settings(server.url, retry_schedule=(3600,)), [cid], linger=0.5)
    got = {a: (r.status, r.kind) for a, r in rows(engine, cid).items()}
    assert got == {
        "ok1@x.org": ("sent", None),
        "ok2@x.org": ("sent", None),
        "dead@x.org": ("error", "recipient"),
        "full@x.org": ("deferred", "mailbox_full"),
        "spam@x.org": ("failed", "policy"),
        "grey@x.org": ("deferred", "throttled"),
        "big@x.org": ("failed", "policy"),
    }
    dead = rows(engine, cid)["dead@x.org"]
    assert (dead.smtp_code, dead.enhanced_code, dead.attempts) == (550, "5.1.1", 1)
    assert "no such user" in dead.smtp_answer
    assert server.counts() == {"ok1@x.org": 1, "ok2@x.org": 1}
    msg = next(a for a in server.accepted if a.rcpt == "ok1@x.org").message
    assert msg["Subject"] == "Hello Ann"
    assert rows(engine, cid)["ok1@x.org"].message_id == msg["Message-ID"]
    assert report.counts["sent"] == 2 and report.counts["error"] == 1
    # the hard error went onto the black list on the way (auto_blacklist_hard_errors)
    assert blacklist.is_blacklisted(engine, "dead@x.org")
    assert not blacklist.is_blacklisted(engine, "full@x.org")


def test_relay_refusing_connections_never_marks_anyone_error(engine):
    from .smtpd import free_port

    cid = started_campaign(engine, [f"r{i}@x.org" for i in range(20)])
    url = f"smtp://127.0.0.1:{free_port()}"
    report = send(engine, sender_settings(url, retry_schedule=(0.2, 0.3, 5.0)), [cid], linger=1.0)
    statuses = {(r.status, r.kind) for r in rows(engine, cid).values()}
    assert statuses <= {("deferred", "server"), ("queued", None)}
    assert ("deferred", "server") in statuses
    assert report.stopped == "server"
    state = campaign_state(engine, cid)
    assert state.state == CampaignState.SENDING and "refused" in state.server_problem


def test_short_outage_is_ridden_out_inside_one_send(engine):
    srv = ScriptedServer().start()
    try:
        cid = started_campaign(engine, [f"r{i}@x.org" for i in range(60)])
        srv.outage(1.5)  # nothing listens for 1.5 s, starting now
        report = send(engine, sender_settings(srv.url, retry_schedule=(0.3, 0.5, 1.0)), [cid], linger=5)
        assert report.stopped == "done", report
        assert {r.status for r in rows(engine, cid).values()} == {"sent"}
        assert srv.counts() == {f"r{i}@x.org": 1 for i in range(60)}
        assert max(r.attempts for r in rows(engine, cid).values()) >= 2  # some were retried
        assert campaign_state(engine, cid).state == CampaignState.FINISHED
    finally:
        srv.stop()


def test_server_answers_421_and_drops_are_retried_not_errors(engine, server):
    cid = started_campaign(engine, [f"r{i}@x.org" for i in range(10)])
    server.script = Script(mail="421 4.3.2 too busy")

    def heal():
        time.sleep(0.8)
        server.script.mail = None
        server.script.drop_at = "rcpt"
        time.sleep(0.6)
        server.script.drop_at = None

    threading.Thread(target=heal, daemon=True).start()
    report = send(engine, sender_settings(server.url, retry_schedule=(0.2, 0.3, 0.5)), [cid], linger=5)
    assert report.stopped == "done"
    assert {r.status for r in rows(engine, cid).values()} == {"sent"}
    assert server.counts() == {f"r{i}@x.org": 1 for i in range(10)}


def test_second_relay_takes_over_when_the_first_is_down(engine, server):
    from .smtpd import free_port

    cid = started_campaign(engine, [f"r{i}@x.org" for i in range(30)])
    urls = (f"smtp://127.0.0.1:{free_port()}", server.url)
    report = send(engine, sender_settings(urls, retry_schedule=(0.1, 0.2)), [cid], linger=5)
    assert report.stopped == "done"
    assert server.counts() == {f"r{i}@x.org": 1 for i in range(30)}
    assert not any(r.status == "error" for r in rows(engine, cid).values())


def test_exhausted_retries_end_failed_server_never_error(engine):
    from .smtpd import free_port

    cid = started_campaign(engine, ["a@x.org"])
    send(
        engine,
        sender_settings(f"smtp://127.0.0.1:{free_port()}", retry_schedule=(0.1,), retry_horizon_hours=0.0),
        [cid],
        linger=1,
    )
    r = rows(engine, cid)["a@x.org"]
    assert (r.status, r.kind) == ("failed", "server")


def test_blacklisted_after_start_is_skipped_not_sent(engine, server):
    cid = started_campaign(engine, ["a@x.org", "b@x.org", "c@x.org"])
    blacklist.add(engine, ["b@x.org"])
    send(engine, sender_settings(server.url), [cid], linger=0.5)
    b = rows(engine, cid)["b@x.org"]
    assert (b.status, b.kind) == ("skipped", "blacklisted")
    assert server.counts() == {"a@x.org": 1, "c@x.org": 1}


def test_paused_campaign_sends_nothing(engine, server):
    from sqlalchemy import update

    cid = started_campaign(engine, ["a@x.org", "b@x.org"])
    with engine.begin() as conn:
        conn.execute(update(campaigns).where(campaigns.c.id == cid).values(state=CampaignState.PAUSED.value))
    report = send(engine, sender_settings(server.url), [cid], linger=0.5)
    assert report.stopped == "paused" and server.counts() == {}
    assert {r.status for r in rows(engine, cid).values()} == {"queued"}
    assert all(r.lease_owner is None for r in rows(engine, cid).values())


def test_a_template_failing_for_one_contact_fails_only_that_recipient(engine, server):
    from sendwell import campaigns as camp

    from factories import add_contacts

    add_contacts(engine, ["a@x.org", "b@x.org"], {"a@x.org": {"n": 2}, "b@x.org": {"n": 0}})
    cid = camp.create_campaign(engine, name="t", subject="s", from_addr="n@shop.example", text="{{ 10 // n }}")
    camp.start_campaign(engine, cid)
    report = send(engine, sender_settings(server.url), [cid], linger=0.5)
    assert report.stopped == "done"
    b = rows(engine, cid)["b@x.org"]
    assert (b.status, b.kind) == ("failed", "other") and "ZeroDivisionError" in b.smtp_answer
    assert server.counts() == {"a@x.org": 1}


def test_a_relay_that_stops_answering_times_out_as_a_server_problem(engine, server):
    server.script = Script(delay=1.5)  # RCPT TO answered after 1.5 s; our timeout is 0.3 s
    cid = started_campaign(engine, ["a@x.org"])
    report = send(engine, sender_settings(server.url, timeout=0.3, retry_schedule=(5.0,)), [cid], linger=0.5)
    a = rows(engine, cid)["a@x.org"]
    assert (a.status, a.kind, a.reason) == ("deferred", "server", "rcpt: timeout")
    assert report.stopped == "server"


def test_a_worker_serves_several_campaigns_in_turn(engine, server):
    from sendwell import campaigns as camp

    from factories import add_contacts

    add_contacts(engine, [f"r{i}@x.org" for i in range(40)])
    ids = [
        camp.create_campaign(engine, name=f"c{k}", subject="s", from_addr="n@shop.example", text="hi") for k in range(2)
    ]
    for cid in ids:
        camp.start_campaign(engine, cid)
    send(engine, sender_settings(server.url, batch_size=10), None, linger=0.5)  # every sending campaign
    assert server.counts() == {f"r{i}@x.org": 2 for i in range(40)}  # each campaign once per address
    assert all(campaign_state(engine, cid).state == CampaignState.FINISHED for cid in ids)


def test_server_problem_text_names_the_code_once(sqlite_engine):
    from sendwell.db.engine import utcnow
    from sendwell.sending.engine import Sender
    from sendwell.sending.outcome import Reply, Stage
    from sendwell.sending.relay import parse_relay

    sender = Sender(sqlite_engine, sender_settings("smtp://127.0.0.1:1"))
    sender.courier.server_problem(
        utcnow(), Reply(Stage.MAIL, 421, "4.3.2", "4.3.2 Service not available"), parse_relay("smtp://127.0.0.1:1")
    )
    assert sender.courier.problem.endswith("at mail: 421 4.3.2 Service not available")


def test_non_ascii_address_goes_with_smtputf8_or_fails_as_not_the_address_fault(engine):
    """RFC 6531: a UTF-8 local part is sent with SMTPUTF8 when the relay offers it; a relay without it
    makes the recipient `failed` (5.6.7), never `error`, and never blacklisted; ASCII ones still go."""
    import email
    from email import policy

    addrs = ["jörg@x.org", "ann@x.org"]
    with ScriptedServer(smtputf8=True) as srv:
        cid = started_campaign(engine, addrs)
        send(engine, sender_settings(srv.url), [cid], linger=0.5)
        assert srv.counts() == {"jörg@x.org": 1, "ann@x.org": 1}
        got = next(a for a in srv.accepted if a.rcpt == "jörg@x.org")
        msg = email.message_from_string(got.data.decode("utf-8"), policy=policy.default)
        assert msg["To"].addresses[0].addr_spec == "jörg@x.org"
    assert {a: r.status for a, r in rows(engine, cid).items()} == {"jörg@x.org": "sent", "ann@x.org": "sent"}

    with ScriptedServer(smtputf8=False) as srv:
        cid2 = started_campaign(engine, [], name="c2")
        send(engine, sender_settings(srv.url, retry_schedule=(3600,)), [cid2], linger=0.5)
        assert srv.counts() == {"ann@x.org": 1}
    got = {a: (r.status, r.kind, r.enhanced_code) for a, r in rows(engine, cid2).items()}
    assert got == {"jörg@x.org": ("failed", "policy", "5.6.7"), "ann@x.org": ("sent", None, "2.0.0")}
    assert not blacklist.is_blacklisted(engine, "jörg@x.org")


def test_a_run_gives_its_database_connection_back(engine, server):
    """The send store keeps one connection for its transactions (db/sendstore.py); a finished run gives it back
    to the pool at once, not when the garbage collector meets the run (an idle PostgreSQL backend until then)."""
    import gc

    cid = started_campaign(engine, ["a@x.org", "b@x.org"])
    gc.disable()  # the run's objects are not collected before the check
    try:
        report = send(engine, sender_settings(server.url), [cid], linger=0)
        assert report.counts["sent"] == 2
        assert engine.pool.checkedout() == 0
    finally:
        gc.enable()
