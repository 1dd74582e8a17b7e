"""A form submission and its confirmation: the bot checks, the address checks (as `verify` makes them), the black
list, the pending contact and its confirmation message; then, on the signed link, the contact, its segments and
the consent it gave.

A pending contact lives in `pending_contacts`, never in `contacts` nor in a segment, so no audience can reach it
before its owner confirms; it is deleted when confirmed or after `[forms] pending_days`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from sendwell.addresses import AddressError, parse_address
from sendwell.config import Settings
from sendwell.db.engine import as_utc, inserted_id, utcnow
from sendwell.db.schema import (
    blacklist,
    blacklist_history,
    consents,
    contacts,
    form_hits,
    form_segments,
    pending_contacts,
    segment_members,
    segments,
)
from sendwell.errors import UserError
from sendwell.forms import defaults, mail, tokens
from sendwell.forms.store import Form, find, sender_name
from sendwell.model import BlacklistReason
from sendwell.sending.message import one_line
from sendwell.translations import N_
from sendwell.verify.checks import OfflineChecker
from sendwell.verify.dns import DnsChecker, DomainStatus
from sendwell.verify.run import VerifyOptions
from sendwell.verify.verdict import Reason

log = logging.getLogger(__name__)
CONFIRM_PATH = "/f/confirm/"  # {public_url}/f/confirm/<token>
MAX_FIELD = 200  # characters kept of a field typed into the form
# Only these may come back through a confirmation: the others stay on the list whatever the form says.
LIFTED_BY_CONFIRMATION = frozenset({BlacklistReason.UNSUBSCRIBE})


class Outcome(StrEnum):
    PENDING = "pending"  # the confirmation message is on its way
    CONFIRMED = "confirmed"  # single opt-in: subscribed at once
    TYPO = "typo"  # the address looks mistyped: the form offers the suggestion
    INVALID = "invalid"  # not an address that can receive mail: the form says why
    REFUSED = "refused"  # black-listed (hard bounce, complaint, by hand …): a neutral refusal
    BOT = "bot"  # the hidden field was filled in
    TOO_FAST = "too_fast"  # sent back sooner than a person could: shown again
    STALE = "stale"  # no genuine page token (a post from elsewhere, or an old page): shown again
    RATE_LIMITED = "rate_limited"
    UNSENT = "unsent"  # the confirmation could not be handed to the relay: nothing kept


# What the person reads; the form's page shows it next to the address field, in the page's language.
MESSAGES = {
    Outcome.PENDING: N_("Almost done: we sent you an email. Open the link in it to confirm your subscription."),
    Outcome.CONFIRMED: N_("Thank you: you are subscribed."),
    Outcome.REFUSED: N_("We cannot subscribe this address. Please use another one, or write to us."),
    Outcome.BOT: N_("Your submission could not be accepted."),
    Outcome.TOO_FAST: N_("Please check your details and send the form again."),
    Outcome.STALE: N_("Please check your details and send the form again."),
    Outcome.RATE_LIMITED: N_("Too many subscriptions from your network just now. Please try again later."),
    Outcome.UNSENT: N_("We could not send the confirmation email just now. Please try again in a few minutes."),
}


@dataclass(frozen=True, slots=True)
class Submission:
    email: str
    fields: dict[str, str] = field(default_factory=dict)
    page_token: str = ""
    honeypot: str = ""  # the hidden field: people leave it empty
    client_addr: str = ""
    keep_typed: bool = False  # the person insists on the spelling a "did you mean" questioned
    language: str = "en"  # the form page's language: the default consent and confirmation are written in it


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    message: str
    suggestion: str | None = None
    pending_id: int | None = None
    # `message` before its parts were filled in, and the parts: the page writes it out from the catalogue
    text: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.PENDING, Outcome.CONFIRMED)


def _result(outcome: Outcome, text: str | None = None, params: dict[str, str] | None = None, **kw: Any) -> Result:
    text = text or MESSAGES[outcome]
    return Result(outcome, text % params if params else text, text=text, params=params or {}, **kw)


def rate_key(client_addr: str) -> str:
    """One count per IPv4 address, per /64 for IPv6 (one host usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(client_addr)
    except ValueError:
        return client_addr[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _over_limit(conn: Connection, settings: Settings, key: str, now: datetime) -> bool:
    row = conn.execute(select(form_hits).where(form_hits.c.key == key)).first()
    window = timedelta(minutes=settings.forms.rate_window_minutes)
    return row is not None and as_utc(row.window_start) + window > now and row.hits >= settings.forms.rate_limit


def _count_hit(conn: Connection, settings: Settings, key: str, now: datetime) -> None:
    row = conn.execute(select(form_hits).where(form_hits.c.key == key)).first()
    window = timedelta(minutes=settings.forms.rate_window_minutes)
    if row is None:
        conn.execute(form_hits.insert().values(key=key, hits=1, window_start=now))
    elif as_utc(row.window_start) + window <= now:
        conn.execute(form_hits.update().where(form_hits.c.key == key).values(hits=1, window_start=now))
    else:
        conn.execute(form_hits.update().where(form_hits.c.key == key).values(hits=form_hits.c.hits + 1))
    conn.execute(form_hits.delete().where(form_hits.c.window_start < now - window))  # old windows: a few rows


def page_token(secret: str, form: Form, now: datetime | None = None) -> str:
    """The token the form's page carries: when it was shown, signed."""
    return tokens.page_token(secret, form.id, (now or utcnow()).timestamp())


def _check_bot(settings: Settings, secret: str, form: Form, sub: Submission, now: datetime) -> Result | None:
    if sub.honeypot.strip():
        return _result(Outcome.BOT)
    issued = tokens.read_page_token(secret, sub.page_token, form.id)
    if issued is None or now.timestamp() - issued > settings.forms.token_hours * 3600:
        return _result(Outcome.STALE)
    if now.timestamp() - issued < settings.forms.min_seconds:
        return _result(Outcome.TOO_FAST)
    return None


def _typo(suggestion: str) -> Result:
    return _result(Outcome.TYPO, N_("Did you mean %(address)s?"), {"address": suggestion}, suggestion=suggestion)


@lru_cache(maxsize=4)
def _checker(disposable_file: str) -> OfflineChecker:
    """One checker per process (loading the disposable list costs 5 ms; a form may take many submissions)."""
    return OfflineChecker(disposable_overrides=disposable_file or None)


def check_address(
    text: str, settings: Settings, *, keep_typed: bool = False, dns: VerifyOptions | None = None
) -> Result:
    """The checks `verify` makes, answered for a person at a form: PENDING when the address may go on."""
    text = text.strip()
    if not text:
        return _result(Outcome.INVALID, N_("Please enter your email address."))
    found = _checker(settings.verify.disposable_file).check(text)
    if found.key is None:
        if found.suggestion:
            return _typo(found.suggestion)
        return _result(Outcome.INVALID, N_("This is not an email address: %(detail)s."), {"detail": found.detail})
    if Reason.TYPO_SUSPECTED in found.reasons and not keep_typed:
        return _typo(found.suggestion or "")
    domain = found.key.rpartition("@")[2]
    if Reason.DISPOSABLE in found.reasons:
        return _result(
            Outcome.INVALID, N_("Addresses at %(domain)s are disposable: please use a lasting one."), {"domain": domain}
        )
    if settings.forms.check_dns or dns is not None:
        options = dns or VerifyOptions.from_settings(settings)
        checker = DnsChecker(options.nameservers, options.dns_port, min(options.dns_timeout, 5.0), 1)
        status = asyncio.run(checker.check(domain)).status
        if status in (DomainStatus.NO_DOMAIN, DomainStatus.NO_MAIL):
            return _result(
                Outcome.INVALID,
                N_("The domain %(domain)s does not receive email: please check the address."),
                {"domain": domain},
            )
        # DNS not answering now is no reason to turn a person away: the confirmation proves the address
    return _result(Outcome.PENDING, found.key)


def _entry(conn: Connection, key: str) -> Any:
    return conn.execute(select(blacklist.c.reason).where(blacklist.c.email == key)).first()


def _clean_fields(form: Form, given: dict[str, str]) -> dict[str, str]:
    out = {}
    for name in form.fields:
        value = one_line(given.get(name, ""))[:MAX_FIELD]
        if value:
            out[name] = value
    return out


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{CONFIRM_PATH}{token}"


def submit(
    engine: Engine,
    settings: Settings,
    secret: str,
    form: Form,
    sub: Submission,
    *,
    now: datetime | None = None,
    dns: VerifyOptions | None = None,
    base_url: str = "",
) -> Result:
    """Take one submission of `form` (as `store.get` gives it): refuse it, or keep it pending and send the
    confirmation (double opt-in, or an address that had unsubscribed), or subscribe it at once (single opt-in).

    `base_url` starts the confirmation link (default: `[sending] public_url`)."""
    now = now or utcnow()
    refused = _check_bot(settings, secret, form, sub, now)
    if refused is not None:
        return refused
    checked = check_address(sub.email, settings, keep_typed=sub.keep_typed, dns=dns)
    if checked.outcome is not Outcome.PENDING:
        return checked
    address = parse_address(sub.email.strip())
    key = rate_key(sub.client_addr)
    fields = _clean_fields(form, sub.fields)
    with engine.begin() as conn:
        expire(conn, now)
        if _over_limit(conn, settings, key, now):
            return _result(Outcome.RATE_LIMITED)
        entry = _entry(conn, address.key)
        if entry is not None and entry.reason not in LIFTED_BY_CONFIRMATION:
            return _result(Outcome.REFUSED)
        _count_hit(conn, settings, key, now)
        if not form.double_opt_in and entry is None:
            values = _pending_values(form, address.key, address.display, fields, sub, now, settings)
            _subscribe(conn, form, values, method="single", confirmed_at=now, confirmed_addr=sub.client_addr)
            return _result(Outcome.CONFIRMED)
        # one pending subscription per address and form: a second submission replaces the first (and its link)
        conn.execute(
            pending_contacts.delete().where(
                pending_contacts.c.form_id == form.id, pending_contacts.c.email == address.key
            )
        )
        values = _pending_values(form, address.key, address.display, fields, sub, now, settings)
        pid = inserted_id(conn.execute(pending_contacts.insert().values(**values)))
    base = base_url or settings.sending.public_url
    sent = _send_confirmation(
        settings, secret, base, form, pid, address.key, fields, values["expires_at"], sub.language
    )
    if not sent.delivered:
        log.warning("form %s: confirmation to %s not sent: %s", form.name, address.key, sent.answer)
        with engine.begin() as conn:
            conn.execute(pending_contacts.delete().where(pending_contacts.c.id == pid))
        return _result(Outcome.UNSENT)
    return _result(Outcome.PENDING, pending_id=pid)


def _pending_values(
    form: Form, key: str, display: str, fields: dict[str, str], sub: Submission, now: datetime, settings: Settings
) -> dict[str, Any]:
    return {
        "form_id": form.id,
        "email": key,
        "display": display,
        "fields": fields,
        "consent_text": defaults.consent_in(form.consent_text, sub.language),  # the words the page showed
        "client_addr": sub.client_addr[:64],
        "created_at": now,
        "expires_at": now + timedelta(days=settings.forms.pending_days),
    }


def _send_confirmation(
    settings: Settings,
    secret: str,
    base_url: str,
    form: Form,
    pid: int,
    key: str,
    fields: dict[str, str],
    expires_at: datetime,
    language: str,
) -> mail.Sent:
    from_addr = form.from_addr or settings.forms.from_addr
    url = confirm_url(base_url, tokens.confirm_token(secret, pid, expires_at.timestamp()))
    envelope, data = mail.build(
        form, from_addr, key, fields, url, settings.forms.pending_days, secret, settings.sending.bounce_domain, language
    )
    try:
        return mail.send(settings, from_addr, key, envelope, data)
    except Exception as err:  # no relay configured, a bad URL: the person is told to come back, the log says why
        return mail.Sent(False, f"{type(err).__name__}: {err}")


# --- confirmation -------------------------------------------------------------------------------------------------


class Confirmed(StrEnum):
    PENDING = "pending"  # a genuine, live link not followed yet
    CONFIRMED = "confirmed"
    EXPIRED = "expired"  # the link is genuine but too old, or was used already
    INVALID = "invalid"  # not a link we made
    REFUSED = "refused"  # the address was black-listed meanwhile for a reason a confirmation does not lift


@dataclass(frozen=True, slots=True)
class Confirmation:
    outcome: Confirmed
    form: Form | None = None
    email: str = ""
    consent_id: int | None = None


def check_link(engine: Engine, secret: str, token: str, now: datetime | None = None) -> Confirmation:
    """What following the link would do, without doing it (the page asks the person to press Confirm: a mail
    scanner that opens every link must not subscribe anyone)."""
    now = now or utcnow()
    found = tokens.read_confirm_token(secret, token)
    if found is None:
        return Confirmation(Confirmed.INVALID)
    with engine.connect() as conn:
        row = conn.execute(select(pending_contacts).where(pending_contacts.c.id == found[0])).first()
        if row is None or found[1] <= now.timestamp() or as_utc(row.expires_at) <= now:
            return Confirmation(Confirmed.EXPIRED)
        form = find(conn, row.form_id)
    return Confirmation(Confirmed.PENDING, form, row.email)


def expire(conn: Connection, now: datetime | None = None) -> int:
    """Drop the pending subscriptions past their time; returns how many."""
    return conn.execute(pending_contacts.delete().where(pending_contacts.c.expires_at <= (now or utcnow()))).rowcount


def confirm(
    engine: Engine, secret: str, token: str, *, client_addr: str = "", now: datetime | None = None
) -> Confirmation:
    """Follow a confirmation link: the contact joins the form's segments, the consent is recorded."""
    now = now or utcnow()
    found = tokens.read_confirm_token(secret, token)
    if found is None:
        return Confirmation(Confirmed.INVALID)
    pid, expires = found
    with engine.begin() as conn:
        # taken by deleting it: of two clicks at once only one gets the row, so one consent is recorded
        row = conn.execute(
            pending_contacts.delete().where(pending_contacts.c.id == pid).returning(*pending_contacts.c)
        ).first()
        if row is None or expires <= now.timestamp() or as_utc(row.expires_at) <= now:
            expire(conn, now)
            return Confirmation(Confirmed.EXPIRED)
        form = find(conn, row.form_id)
        entry = _entry(conn, row.email)
        if entry is not None and entry.reason not in LIFTED_BY_CONFIRMATION:
            return Confirmation(Confirmed.REFUSED, form, row.email)
        values = dict(row._mapping)
        consent_id = _subscribe(
            conn, form, values, method="double", confirmed_at=now, confirmed_addr=client_addr, lift=entry is not None
        )
    return Confirmation(Confirmed.CONFIRMED, form, row.email, consent_id)


def _upsert(table: Any, conn: Connection, values: dict[str, Any] | list[dict[str, Any]], keys: list[str]) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), values)


def _subscribe(
    conn: Connection,
    form: Form,
    pending: dict[str, Any],
    *,
    method: str,
    confirmed_at: datetime,
    confirmed_addr: str,
    lift: bool = False,
) -> int:
    """The contact (created, or its fields filled), its memberships and the consent; returns the consent id."""
    key, display, fields = pending["email"], pending["display"], dict(pending["fields"] or {})
    existing = conn.execute(select(contacts.c.id, contacts.c.fields).where(contacts.c.email == key)).first()
    if existing is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    contacts.insert().values(
                        email=key,
                        display=display,
                        domain=key.rpartition("@")[2],
                        fields=fields,
                        created_at=confirmed_at,
                        updated_at=confirmed_at,
                    )
                )
        except IntegrityError:
            existing = conn.execute(select(contacts.c.id, contacts.c.fields).where(contacts.c.email == key)).first()
    if existing is not None and fields:
        # what the person typed now beats what was imported before (they know their own name)
        merged = {**(existing.fields or {}), **fields}
        conn.execute(
            contacts.update().where(contacts.c.id == existing.id).values(fields=merged, updated_at=confirmed_at)
        )
    seg_rows = conn.execute(
        select(segments.c.id, segments.c.name)
        .join(form_segments, form_segments.c.segment_id == segments.c.id)
        .where(form_segments.c.form_id == form.id)
        .order_by(segments.c.name)
    ).all()
    if seg_rows:
        _upsert(
            segment_members,
            conn,
            [{"segment_id": s.id, "email": key, "display": display, "added_at": confirmed_at} for s in seg_rows],
            ["segment_id", "email"],
        )
    consent_id = inserted_id(
        conn.execute(
            consents.insert().values(
                email=key,
                form_id=form.id,
                form_name=form.name,
                segments=[s.name for s in seg_rows],
                consent_text=pending["consent_text"],
                method=method,
                submitted_at=pending["created_at"],
                submitted_addr=pending["client_addr"],
                confirmed_at=confirmed_at,
                confirmed_addr=confirmed_addr[:64],
            )
        )
    )
    if lift:
        _lift(conn, form, key, consent_id, confirmed_at)
    return consent_id


def _lift(conn: Connection, form: Form, key: str, consent_id: int, at: datetime) -> None:
    """Take an unsubscribed address off the black list: its history keeps the unsubscribe and says why it ended."""
    entry = conn.execute(select(blacklist).where(blacklist.c.email == key)).first()
    if entry is None:
        return
    conn.execute(blacklist.delete().where(blacklist.c.email == key))
    conn.execute(
        blacklist_history.insert().values(
            email=key,
            action="removed",
            reason=entry.reason,
            source=f"form:{form.name}"[:200],
            note=f"subscribed again and confirmed by its owner (consent #{consent_id})",
            actor="form",
            at=at,
        )
    )


def sender_of(form: Form, settings: Settings) -> str:
    """The sender's name the public pages carry."""
    return sender_name(form.from_addr or settings.forms.from_addr)


def consents_of(engine: Engine, address: str) -> list[dict[str, Any]]:
    """Every consent an address gave, newest first (for a contact's history)."""
    try:
        key = parse_address(address.strip()).key
    except AddressError as err:
        raise UserError(f"{address!r}: {err}", field="email") from None
    with engine.connect() as conn:
        rows = conn.execute(select(consents).where(consents.c.email == key).order_by(consents.c.id.desc()))
        return [dict(r._mapping) for r in rows]
