"""Subscribe → confirmation mail over SMTP → link → contact in the segment with its consent; and every refusal."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from sendwell import audience, blacklist, campaigns, contacts, segments
from sendwell.db.engine import utcnow
from sendwell.db.schema import blacklist_history, consents, pending_contacts, recipients, segment_members
from sendwell.forms import store
from sendwell.forms.subscribe import Confirmed, Outcome, Submission, confirm, page_token, submit

from .helpers import SECRET, confirm_link, settings_with


def _submit(engine, settings, form, email, *, age=5.0, now=None, client="198.51.100.7", **kw):
    now = now or utcnow()
    token = kw.pop("token", None) or page_token(SECRET, form, now - timedelta(seconds=age))
    sub = Submission(email=email, page_token=token, client_addr=client, **kw)
    return submit(engine, settings, SECRET, form, sub, now=now)


def _members(engine, name):
    return [m.email for m in segments.show(engine, name).shown]


def test_double_opt_in_confirmed_by_the_mailed_link(engine, settings, form, smtp) -> None:
    result = _submit(engine, settings, form, "Gina.Lopez@Example.org", fields={"first_name": "Gina", "x": "no"})
    assert result.outcome is Outcome.PENDING, result
    assert contacts.count(engine) == 0 and _members(engine, "news") == []
    [mail] = smtp.accepted
    msg = mail.message
    assert mail.rcpt == "gina.lopez@example.org" and mail.mail_from.startswith("bounces+0.0.")
    assert msg["From"] == "Acme News <news@acme.example>" and "Acme News" in msg["Subject"]
    body = msg.get_content()
    assert "Hello Gina" in body
    link = confirm_link(body)
    token = link.rsplit("/", 1)[1]

    done = confirm(engine, SECRET, token, client_addr="203.0.113.9")
    assert done.outcome is Confirmed.CONFIRMED
    assert _members(engine, "news") == ["gina.lopez@example.org"]
    assert contacts.get_contact(engine, "gina.lopez@example.org").fields == {"first_name": "Gina"}
    with engine.connect() as conn:
        consent = conn.execute(select(consents)).one()
        assert conn.execute(select(func.count()).select_from(pending_contacts)).scalar_one() == 0
    assert consent.form_name == "Newsletter" and consent.segments == ["news"] and consent.method == "double"
    assert consent.consent_text == form.consent_text and "Acme News" in consent.consent_text
    assert consent.submitted_addr == "198.51.100.7" and consent.confirmed_addr == "203.0.113.9"
    # the same link again: nothing more happens
    assert confirm(engine, SECRET, token).outcome is Confirmed.EXPIRED
    assert confirm(engine, SECRET, token[:-1] + ("0" if token[-1] != "0" else "1")).outcome is Confirmed.INVALID


def test_pending_contacts_are_in_no_audience(engine, settings, form, smtp) -> None:
    contacts.import_contacts(engine, io.BytesIO(b"email\nold@example.org\n"))
    segments.add(engine, "news", ["old@example.org"])
    assert _submit(engine, settings, form, "new@example.org").outcome is Outcome.PENDING
    for include in ([], ["news"]):  # no segment: all contacts
        cid = campaigns.create_campaign(
            engine, name=f"c{len(include)}", subject="s", from_addr="news@acme.example", text="t", include=include
        )
        campaigns.start_campaign(engine, cid)
        with engine.connect() as conn:
            got = conn.execute(select(recipients.c.email).where(recipients.c.campaign_id == cid)).scalars().all()
        assert got == ["old@example.org"]
    stmt, params = audience.members(include=[], exclude=[], all_contacts=True, skip=[])
    with engine.connect() as conn:
        assert [r.email for r in conn.execute(stmt, params)] == ["old@example.org"]


def test_pending_expires_after_pending_days(engine, settings, form, smtp) -> None:
    assert _submit(engine, settings, form, "late@example.org").outcome is Outcome.PENDING
    token = confirm_link(smtp.accepted[0].message.get_content()).rsplit("/", 1)[1]
    later = utcnow() + timedelta(days=settings.forms.pending_days, minutes=1)
    assert confirm(engine, SECRET, token, now=later).outcome is Confirmed.EXPIRED
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pending_contacts)).scalar_one() == 0
    assert _members(engine, "news") == []


def test_bots_are_refused(engine, settings, form, smtp) -> None:
    assert _submit(engine, settings, form, "bot@example.org", honeypot="http://spam").outcome is Outcome.BOT
    assert _submit(engine, settings, form, "bot@example.org", age=0.5).outcome is Outcome.TOO_FAST
    assert _submit(engine, settings, form, "bot@example.org", token="1.2.abc").outcome is Outcome.STALE
    assert _submit(engine, settings, form, "bot@example.org", age=2 * 86400).outcome is Outcome.STALE
    other = store.get(engine, store.create(engine, "Other", ["offers"], from_addr="x@acme.example"))
    stolen = page_token(SECRET, other, utcnow() - timedelta(seconds=10))  # a token of another form
    assert _submit(engine, settings, form, "bot@example.org", token=stolen).outcome is Outcome.STALE
    assert smtp.accepted == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pending_contacts)).scalar_one() == 0


def test_rate_limit_per_client_address(engine, db_url, smtp, form) -> None:
    settings = settings_with(db_url, smtp.url, rate_limit=2)
    got = [_submit(engine, settings, form, f"p{i}@example.org").outcome for i in range(3)]
    assert got == [Outcome.PENDING, Outcome.PENDING, Outcome.RATE_LIMITED]
    assert _submit(engine, settings, form, "p9@example.org", client="198.51.100.8").outcome is Outcome.PENDING
    later = utcnow() + timedelta(minutes=settings.forms.rate_window_minutes + 1)
    assert _submit(engine, settings, form, "p3@example.org", now=later).outcome is Outcome.PENDING
    assert len(smtp.accepted) == 4


def test_typos_and_bad_addresses_answer_on_the_form(engine, settings, form, smtp) -> None:
    typo = _submit(engine, settings, form, "gina@gmal.com")
    assert typo.outcome is Outcome.TYPO and typo.suggestion == "gina@gmail.com"
    assert "Did you mean gina@gmail.com?" in typo.message
    assert _submit(engine, settings, form, "not an address").outcome is Outcome.INVALID
    assert _submit(engine, settings, form, "x@mailinator.com").outcome is Outcome.INVALID
    assert smtp.accepted == []
    insisted = _submit(engine, settings, form, "gina@gmal.com", keep_typed=True)
    assert insisted.outcome is Outcome.PENDING


def test_no_mail_domain_is_refused_by_dns(engine, settings, form, smtp) -> None:
    from sendwell.verify.localdns import LocalDnsServer
    from sendwell.verify.run import VerifyOptions

    zone = {"nullmx.example.com": {"MX": [(0, ".")]}, "ok.example.com": {"MX": [(10, "mx.ok.example.com")]}}
    with LocalDnsServer(zone) as server:
        dns = VerifyOptions(nameservers=["127.0.0.1"], dns_port=server.port, dns_timeout=1.0)
        token = page_token(SECRET, form, utcnow() - timedelta(seconds=5))
        bad = submit(engine, settings, SECRET, form, Submission("a@nullmx.example.com", page_token=token), dns=dns)
        good = submit(engine, settings, SECRET, form, Submission("a@ok.example.com", page_token=token), dns=dns)
    assert bad.outcome is Outcome.INVALID and "does not receive email" in bad.message
    assert good.outcome is Outcome.PENDING


def test_blacklisted_addresses(engine, settings, form, smtp) -> None:
    blacklist.add(engine, ["hard@example.org"], reason="hard_bounce")
    blacklist.add(engine, ["angry@example.org"], reason="complaint")
    blacklist.add(engine, ["gone@example.org"], reason="unsubscribe")
    for address in ("hard@example.org", "angry@example.org"):
        refused = _submit(engine, settings, form, address)
        assert refused.outcome is Outcome.REFUSED and "black" not in refused.message.lower()
    assert smtp.accepted == []

    # an unsubscribed address comes back only through the confirmation, even on a single opt-in form
    store.edit(engine, "Newsletter", double_opt_in=False)
    single = store.get(engine, "Newsletter")
    assert _submit(engine, settings, single, "gone@example.org").outcome is Outcome.PENDING
    assert blacklist.is_blacklisted(engine, "gone@example.org")
    token = confirm_link(smtp.accepted[0].message.get_content()).rsplit("/", 1)[1]
    assert confirm(engine, SECRET, token).outcome is Confirmed.CONFIRMED
    assert not blacklist.is_blacklisted(engine, "gone@example.org")
    assert _members(engine, "news") == ["gone@example.org"]
    with engine.connect() as conn:
        trail = conn.execute(
            select(blacklist_history.c.action, blacklist_history.c.reason, blacklist_history.c.source)
            .where(blacklist_history.c.email == "gone@example.org")
            .order_by(blacklist_history.c.id)
        ).all()
    assert [tuple(t) for t in trail] == [("added", "unsubscribe", "cli"), ("removed", "unsubscribe", "form:Newsletter")]


def test_single_opt_in_subscribes_at_once(engine, settings, smtp) -> None:
    segments.create(engine, "news")
    fid = store.create(engine, "Quick", ["news"], double_opt_in=False)
    form = store.get(engine, fid)
    assert _submit(engine, settings, form, "fast@example.org").outcome is Outcome.CONFIRMED
    assert smtp.accepted == []
    with engine.connect() as conn:
        assert conn.execute(select(segment_members.c.email)).scalars().all() == ["fast@example.org"]
        assert conn.execute(select(consents.c.method)).scalar_one() == "single"


def test_blacklisted_meanwhile_is_refused_at_confirmation(engine, settings, form, smtp) -> None:
    assert _submit(engine, settings, form, "late@example.org").outcome is Outcome.PENDING
    token = confirm_link(smtp.accepted[0].message.get_content()).rsplit("/", 1)[1]
    blacklist.add(engine, ["late@example.org"], reason="complaint")
    assert confirm(engine, SECRET, token).outcome is Confirmed.REFUSED
    assert _members(engine, "news") == [] and blacklist.is_blacklisted(engine, "late@example.org")


def test_forms_count_live_pending_only(engine, settings, form, smtp) -> None:
    assert _submit(engine, settings, form, "a@example.org").outcome is Outcome.PENDING
    assert store.get(engine, form.id).pending == 1
    later = utcnow() + timedelta(days=settings.forms.pending_days, minutes=1)
    assert _submit(engine, settings, form, "b@example.org", now=later).outcome is Outcome.PENDING  # drops a@
    with engine.connect() as conn:
        assert conn.execute(select(pending_contacts.c.email)).scalars().all() == ["b@example.org"]
