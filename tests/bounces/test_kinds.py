"""Messages that are not bounces: auto-replies, complaints, success notices, ordinary mail."""

from __future__ import annotations

from email.message import EmailMessage

from sendwell.bounces import MessageKind, Reason, classify


def _message(subject: str, body: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Kim <kim@example.org>")
    msg["To"] = "news@sender.example"
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def _report(report_type: str, fields: str, original: str) -> bytes:
    """A multipart/report as an MTA writes it: explanation, machine-readable fields, returned headers."""
    return (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces+1.2.abc@sender.example\nSubject: Report\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/report; report-type={report_type}; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nA human-readable explanation.\n\n"
        f"--B\nContent-Type: message/{report_type}\n\n{fields}\n"
        f"--B\nContent-Type: text/rfc822-headers\n\n{original}\n--B--\n"
    ).encode()


ORIGINAL = (
    "Return-Path: <bounces+7.42.0123456789abcdef0123@sender.example>\n"
    "Message-ID: <campaign-7-42@sender.example>\nTo: kim@example.org\nX-Sendwell-Campaign: 7\n"
    "X-Sendwell-Recipient: 42\nSubject: Our news\n"
)


def test_vacation_reply_is_not_a_bounce():
    report = classify(
        _message("Automatic reply: Our news", "I am out of the office until Monday.", Auto_Submitted="auto-replied")
    )
    assert report.kind is MessageKind.AUTOREPLY
    assert not report.is_bounce
    assert report.first is not None and report.first.reason is Reason.VACATION
    assert report.first.hard is False


def test_out_of_office_subject_alone_is_recognized():
    assert classify(_message("Out of Office", "Back next week.")).kind is MessageKind.AUTOREPLY


def test_auto_replies_in_other_languages_are_recognized():
    for subject in (
        "Automatische Antwort: Our news",
        "Réponse automatique : Our news",
        "Auto: Our news",
        "Respuesta automática: Our news",
        "Autosvar: Our news",
    ):
        assert classify(_message(subject, "Back soon.")).kind is MessageKind.AUTOREPLY, subject


def test_ordinary_reply_is_other():
    report = classify(_message("Re: Our news", "Thanks, that was interesting!"))
    assert report.kind is MessageKind.OTHER
    assert report.recipients == ()


def test_a_person_mentioning_addresses_is_not_a_bounce():
    body = (
        "Hi! Please send the invoice to the following address: billing@example.org, not to me.\n"
        "My old mailbox is full anyway.\n-- \nKim <kim@example.org>"
    )
    report = classify(_message("Re: Our news", body))
    assert report.kind is MessageKind.OTHER
    assert not report.is_bounce


def test_arf_complaint_names_the_complainer_and_type():
    fields = (
        "Feedback-Type: abuse\nUser-Agent: SomeGenerator/1.0\nVersion: 1\n"
        "Original-Mail-From: <bounces+7.42.x@sender.example>\nOriginal-Rcpt-To: <kim@example.org>\n"
    )
    report = classify(_report("feedback-report", fields, ORIGINAL))
    assert report.kind is MessageKind.COMPLAINT
    assert report.feedback_type == "abuse"
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.reason is Reason.FEEDBACK and not report.first.hard


def test_feedback_fields_in_a_plain_text_report_are_a_complaint():
    body = (
        "This is an email abuse report for an email message received from IP 192.0.2.1.\n\n"
        "Feedback-Type: abuse\nUser-Agent: SomeProvider/1.0\nVersion: 0.1\n"
        "Original-Rcpt-To: kim@example.org\n"
    )
    report = classify(_message("Abuse report", body, From="feedback@isp.example"))
    assert report.kind is MessageKind.COMPLAINT
    assert [r.address for r in report.recipients] == ["kim@example.org"]


def test_dsn_gives_recipient_status_and_the_original_headers_for_matching():
    fields = (
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; kim@example.org\nAction: failed\n"
        "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <kim@example.org>: Recipient address rejected: "
        "User unknown in local recipient table\n"
    )
    report = classify(_report("delivery-status", fields, ORIGINAL))
    assert report.is_bounce
    first = report.first
    assert (first.address, first.status, first.reason, first.hard) == (
        "kim@example.org",
        "5.1.1",
        Reason.USERUNKNOWN,
        True,
    )
    assert "User unknown" in first.diagnostic
    assert report.original.message_id == "<campaign-7-42@sender.example>"
    assert report.original.return_path == "bounces+7.42.0123456789abcdef0123@sender.example"
    assert report.original.headers == {"x-sendwell-campaign": "7", "x-sendwell-recipient": "42"}


def test_a_forwarded_recipient_keeps_the_address_we_sent_to():
    fields = (
        "Reporting-MTA: dns; mx.example.net\n\nOriginal-Recipient: rfc822; kim@example.org\n"
        "Final-Recipient: rfc822; kim.forward@elsewhere.example\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
    )
    first = classify(_report("delivery-status", fields, ORIGINAL)).first
    assert first.address == "kim.forward@elsewhere.example"
    assert first.original_recipient == "kim@example.org"


def test_base64_encoded_and_utf8_delivery_status_parts_are_read():
    import base64

    fields = (
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: utf-8; jürgen@example.org\n"
        "Original-Recipient: rfc822; kim@example.org\nAction: failed\nStatus: 5.2.2\n"
        "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n"
    )
    encoded = base64.encodebytes(fields.encode()).decode()
    raw = (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@sender.example\nSubject: Report\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nexplanation\n\n"
        "--B\nContent-Type: message/global-delivery-status\nContent-Transfer-Encoding: base64\n\n"
        f"{encoded}\n--B--\n"
    ).encode()
    first = classify(raw).first
    assert first is not None and first.reason is Reason.MAILBOXFULL and first.status == "5.2.2"
    assert first.address == "jürgen@example.org"
    assert first.original_recipient == "kim@example.org"


def test_success_dsn_is_delivered_not_a_bounce():
    fields = (
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; kim@example.org\nAction: delivered\n"
        "Status: 2.0.0\n"
    )
    report = classify(_report("delivery-status", fields, ORIGINAL))
    assert report.kind is MessageKind.DELIVERED
    assert not report.is_bounce


def test_delayed_dsn_without_explanation_is_expired_and_soft():
    fields = (
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; kim@example.org\nAction: delayed\n"
        "Status: 4.4.7\n"
    )
    first = classify(_report("delivery-status", fields, ORIGINAL)).first
    assert first.reason is Reason.EXPIRED and first.hard is False and first.status.startswith("4")


def test_spam_rejection_is_permanent_but_not_hard():
    fields = (
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; kim@example.org\nAction: failed\n"
        "Status: 5.7.1\nDiagnostic-Code: smtp; 554 5.7.1 Message rejected as spam\n"
    )
    first = classify(_report("delivery-status", fields, ORIGINAL)).first
    assert first.status.startswith("5") and first.reason is Reason.SPAMDETECTED and first.hard is False
