"""Commands written ahead (RFC 2920): the next message's MAIL/RCPT/DATA go in the same write as a body, and each
recipient is still judged by its own answers."""

from __future__ import annotations

from sendwell.sending.engine import send

from .conftest import fault_settings, ledger
from .faultsmtp import Fault, FaultServer, Stage
from factories import started_campaign


def test_the_next_messages_commands_go_behind_each_body_and_each_refusal_stays_its_recipients(sqlite_engine):
    fine = [f"fine{i}@example.org" for i in range(12)]
    refused = {
        "dead@example.org": (Stage.RCPT, "550 5.1.1 user unknown", ("error", "recipient")),
        "body@example.org": (Stage.EOD, "554 5.7.1 message content rejected", ("failed", "policy")),
        "data@example.org": (Stage.DATA, "554 5.1.1 no valid recipients", ("failed", "other")),
    }
    addrs = fine[:4] + ["dead@example.org"] + fine[4:8] + ["body@example.org", "data@example.org"] + fine[8:]
    with FaultServer(stall_seconds=5.0, pipelining=True) as srv:
        srv.arm(*(Fault(stage, answer, only=frozenset({a})) for a, (stage, answer, _) in refused.items()))
        cid = started_campaign(sqlite_engine, addrs)
        send_settings = fault_settings(srv.url, connections=1, retry_schedule=(3600.0,))
        report = send(sqlite_engine, send_settings, [cid], linger=0.5)
        got = ledger(sqlite_engine, cid)
        assert {a: got[a] for a in refused} == {a: want for a, (_, _, want) in refused.items()}
        assert {a: got[a] for a in fine} == {a: ("sent", None) for a in fine}
        assert srv.counts() == {a: 1 for a in fine}
        assert srv.pipelined >= len(addrs) // 2, "the commands of the next message came with the body"
        assert srv.connections == 1, "no refusal cost the session"
        assert report.counts["error"] == 1
