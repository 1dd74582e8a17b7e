"""How the command line says a service's error: the field as its flag, the hint as the command to run."""

from __future__ import annotations

from sendwell.errors import Hint, UserError

# A service's field → the option (or argument) that gives it on the command line.
FLAGS = {
    "subject": "--subject",
    "from_addr": "--from",
    "reply_to": "--reply-to",
    "html": "--html",
    "text": "--text",
    "include": "--segment",
    "exclude": "--exclude",
    "skip_verdicts": "--skip",
    "track": "--track",
    "statuses": "--status",
    "reason": "--reason",
    "imap": "--imap",
    "starttls": "--starttls",
    "ca_file": "--ca-file",
    "domain": "--domain",
    "selector": "--selector",
    "bits": "--bits",
    "name": "name",
    "username": "user name",
    "password": "password",
    "expires_days": "--expires-days",
    "contact": "--contact",
    "to": "--to",
    "at": "--at",
    "timezone": "--timezone",
    "segments": "--segment",
    "fields": "--fields",
    "slug": "--slug",
    "consent_text": "--consent",
    "confirm_subject": "--subject",
    "confirm_body": "--body-file",
    "map": "--map",
    "map_file": "--map-file",
    "field": "--field",
    "value": "--value",
    "verdict": "--verdict",
    "blacklisted": "--blacklisted",
    "segment": "--segment",
    "on_duplicate": "--on-duplicate",
    "template": "--template",
    "body_format": "--markdown",
    "language": "--language",
}

# A hint → the command that does it; {target} is the name the error carries, {selector} a DKIM key's selector.
COMMANDS = {
    Hint.LIST_CAMPAIGNS: "sendwell campaigns list",
    Hint.LIST_SEGMENTS: "sendwell segments list",
    Hint.LIST_TEMPLATES: "sendwell templates list",
    Hint.LIST_TOKENS: "sendwell tokens list",
    Hint.LIST_USERS: "sendwell users list",
    Hint.LIST_DKIM_KEYS: "sendwell dkim list",
    Hint.RESUME_CAMPAIGN: "sendwell campaigns resume {target}",
    Hint.RESUME_SENDING: "sendwell limit --resume",
    Hint.RUN_WORKER: "sendwell worker",
    Hint.CREATE_USER: "sendwell users create {target}",
    Hint.CHANGE_PASSWORD: "sendwell users passwd {target}",
    Hint.GENERATE_DKIM_KEY: "sendwell dkim generate --domain {target} --selector {selector}",
    Hint.SHOW_DKIM_RECORD: "sendwell dkim record {target} --selector {selector}",
    Hint.ACTIVATE_DKIM_KEY: "sendwell dkim activate {target} --selector {selector}",
    Hint.INGEST_BOUNCES: "sendwell bounces ingest",
    Hint.VERIFY_OFFLINE: "sendwell verify FILE",
}

# Why a send run stopped (SendReport.stopped) → the next step, said after the engine's message.
STOP_HINTS = {"breaker": Hint.RESUME_SENDING, "server": Hint.RUN_WORKER}


def flag(field: str) -> str:
    return FLAGS.get(field, field)


def command(hint: Hint, target: str | None = None, selector: str = "s1") -> str:
    return COMMANDS[hint].format(target=target or "NAME", selector=selector)


def next_step(stopped: str) -> str:
    """` (`sendwell limit --resume`)` after the message of a run the breaker stopped; "" when nothing to run."""
    hint = STOP_HINTS.get(stopped)
    return f" (`{command(hint)}`)" if hint else ""


def describe(err: UserError) -> str:
    """One line: `--subject: must not be empty`, and the command to run next when the error names one."""
    text = str(err)
    if err.field and not err.named:
        text = f"{flag(err.field)}: {err.message}"
    if err.hint is not None:
        text += f" (`{command(err.hint, err.target)}`)"
    return text
