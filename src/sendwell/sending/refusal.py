"""A receiving server's live answer about one recipient, named in the bounce vocabulary (pure).

The answer at RCPT TO or after DATA is judged by the same rules as a DSN's Diagnostic-Code
(`bounces.answer.judge`, `bounces.report.is_hard`), so "550 5.1.1 no such user" is `userunknown`
whether it came back on the wire or inside a bounce. Which answers are about the recipient at all
(not our relay, our account or the network) is outcome.py's table; this only names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sendwell.bounces import answer as bounce_answer
from sendwell.bounces.report import Reason, is_hard
from sendwell.sending.outcome import Reply, Stage

# The SMTP command each stage answers, as the bounce rules name it ("refused at DATA" ...).
COMMANDS: dict[Stage, str] = {
    Stage.CONNECT: "CONN",
    Stage.HELO: "HELO",  # the name the DSN reader gives EHLO and HELO alike (bounces.text)
    Stage.STARTTLS: "STARTTLS",
    Stage.AUTH: "AUTH",
    Stage.MAIL: "MAIL",
    Stage.RCPT: "RCPT",
    Stage.DATA: "DATA",
    Stage.EOD: "DATA",
}


@dataclass(frozen=True, slots=True)
class Judgment:
    reason: Reason
    status: str  # the enhanced code, else X.0.0 from the basic code (RFC 3463's "undefined" detail)
    hard: bool  # the address does not exist (is_hard): what the hygiene policy suppresses
    answer: str  # the server's answer as given: "550 5.1.1 no such user"
    stage: str  # the step it answered: rcpt | data | eod


def answer_text(reply: Reply) -> str:
    """The answer as the server wrote it: the basic code, then its text (which holds the enhanced code)."""
    return f"{reply.code} {reply.text}".strip() if reply.code else reply.text


def judge(reply: Reply) -> Judgment | None:
    """The reason and hard/soft judgment of an SMTP answer; None when there was no answer (a connection problem)."""
    if reply.code is None:
        return None
    answer = answer_text(reply)
    status = reply.enhanced or f"{reply.code // 100}.0.0"
    command = COMMANDS[reply.stage]
    reason, _ = bounce_answer.judge(reply.enhanced or "", answer, command)
    return Judgment(reason, status, is_hard(reason, status), answer, reply.stage.value)
