"""Each plain-text format, in the shape its MTA writes it, yields the failed address and the right reason."""

from __future__ import annotations

import pytest

from sendwell.bounces import Reason, classify


def _bounce(sender: str, subject: str, body: str, original: str = "") -> bytes:
    text = (
        f"From: {sender}\nTo: bounces+1.2.abc@sender.example\nSubject: {subject}\n"
        f"Content-Type: text/plain; charset=us-ascii\n\n{body}\n{original}"
    )
    return text.encode()


ORIGINAL = "Message-ID: <m1@sender.example>\nFrom: news@sender.example\nTo: kim@example.org\nSubject: news\n"

CASES = [
    (
        "postfix",
        "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "Undelivered Mail Returned to Sender",
        "This is the mail system at host mx.example.net.\n\nI'm sorry"
        " to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n                   The mail system\n\n"
        "<kim@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 <kim@example.org>:\n"
        "    Recipient address rejected: User unknown in local recipient table (in reply to\n    RCPT TO command)\n",
        Reason.USERUNKNOWN,
        "5.1.1",
    ),
    (
        "exim",
        "Mail Delivery System <Mailer-Daemon@mx.example.net>",
        "Mail delivery failed: returning message to sender",
        "This message was created automatically by mail delivery software.\n\nA message that you sent could not be "
        "delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n"
        "  kim@example.org\n    host mx.example.org [192.0.2.1]\n    SMTP error from remote mail server after RCPT "
        "TO:<kim@example.org>:\n    552 5.2.2 Mailbox full\n\n------ This is a copy of the message, including all the "
        "headers. ------\n",
        Reason.MAILBOXFULL,
        "5.2.2",
    ),
    (
        "qmail",
        "MAILER-DAEMON@mx.example.net",
        "failure notice",
        "Hi. This is the qmail-send program at mx.example.net.\nI'm"
        " afraid I wasn't able to deliver your message to the "
        "following addresses.\nThis is a permanent error; I've given"
        " up. Sorry it didn't work out.\n\n<kim@example.org>:\n"
        "192.0.2.1 does not like recipient.\nRemote host said: 550 sorry, no mailbox here by that name. (#5.1.1)\n"
        "Giving up on 192.0.2.1.\n\n--- Below this line is a copy of the message.\n",
        Reason.USERUNKNOWN,
        "5.1.1",
    ),
    (
        "sendmail",
        "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>",
        "Returned mail: see transcript for details",
        "The original message was received at Mon, 1 Jan 2024 10:00:00 GMT\nfrom localhost [127.0.0.1]\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n<kim@example.org>\n"
        "    (reason: 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org)\n\n"
        "   ----- Transcript of session follows -----\n... while talking"
        " to mx.example.org.:\n>>> MAIL From:<news@sender."
        "example>\n<<< 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org\n",
        Reason.BLOCKED,
        "5.7.1",
    ),
    (
        "exchange",
        "Microsoft Outlook <postmaster@outlook.com>",
        "Undeliverable: news",
        "Delivery has failed to these recipients or groups:\n\nkim@example.org<mailto:kim@example.org>\nThe e-mail "
        "address you entered couldn't be found.\n\n\nDiagnostic information for administrators:\n\nGenerating server: "
        "mx.outlook.com\n\nkim@example.org\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
        "Recipient not found by SMTP address lookup'\n",
        Reason.USERUNKNOWN,
        "5.1.10",
    ),
    (
        "yahoo",
        "MAILER-DAEMON@yahoo.com",
        "Failure Notice",
        "Sorry, we were unable to deliver your message to the following address.\n\n<kim@example.org>:\n"
        "Remote host said:\n554 delivery error: dd Sorry your message to kim@example.org cannot be delivered. "
        "This account has been disabled or discontinued [#102]. - mta1.mail.example.org\n[RCPT_TO]\n\n"
        "--- Below this line is a copy of the message.\n",
        Reason.SUSPEND,
        "",
    ),
    (
        "gmail",
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        "Delivery to the following recipient failed permanently:\n\n     kim@example.org\n\nTechnical details of "
        "permanent failure:\nGoogle tried to deliver your message, but it was rejected by the server for the recipient "
        "domain example.org by mx.example.org. [192.0.2.1].\n\nThe error that the other server returned was:\n"
        "550 5.1.1 <kim@example.org>: Recipient address rejected: User unknown\n\n----- Original message -----\n",
        Reason.USERUNKNOWN,
        "5.1.1",
    ),
    (
        "opensmtpd",
        "Mailer Daemon <MAILER-DAEMON@mx.example.net>",
        "Delivery status notification: error",
        "Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to"
        " this email.\n\nAn error has occurred while attempting "
        "to deliver a message for\nthe following list of recipients:\n\nkim@example.org: 550 5.2.2 Mailbox is full\n\n"
        "Below is a copy of the original message:\n",
        Reason.MAILBOXFULL,
        "5.2.2",
    ),
]


@pytest.mark.parametrize(("fmt", "sender", "subject", "body", "reason", "status"), CASES, ids=[c[0] for c in CASES])
def test_plain_text_format(fmt, sender, subject, body, reason, status):
    report = classify(_bounce(sender, subject, body, ORIGINAL))
    assert report.is_bounce
    assert report.format == fmt
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.reason is reason
    if status:
        assert report.first.status == status
    assert report.original.message_id == "<m1@sender.example>"


def test_a_mailer_daemon_in_no_known_format_is_still_read():
    body = (
        "Your message could not be delivered to the following recipient:\n\n  kim@example.org\n\n"
        "Reason: 550 No such user here\n"
    )
    report = classify(_bounce("postmaster@mail.example.net", "Undeliverable mail", body))
    assert report.format == "text"
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.reason is Reason.USERUNKNOWN and report.first.hard


def test_a_bounce_forwarded_by_a_person_is_read_from_the_quote():
    body = (
        "Forwarding this, what does it mean?\n\nBegin forwarded message:\n\n> From: Mail Delivery System "
        "<MAILER-DAEMON@mx.example.net>\n> Subject: Undelivered Mail Returned to Sender\n>\n> <kim@example.org>: "
        "host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command)\n"
    )
    report = classify(_bounce("Pat <pat@sender.example>", "Fwd: Undelivered Mail Returned to Sender", body))
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.reason is Reason.USERUNKNOWN


def test_an_html_only_bounce_is_read_as_text():
    raw = (
        b"From: Microsoft Outlook <postmaster@outlook.com>\nTo: bounces+1.2.abc@sender.example\n"
        b"Subject: Undeliverable: news\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><body><p><b>Delivery has failed to these recipients or groups:</b></p>"
        b'<p><a href="mailto:kim@example.org">kim@example.org</a><br>The email address couldn&#39;t be found.'
        b"</p><p>Diagnostic information for administrators:</p><p>Remote Server returned '550 5.1.1 "
        b"RESOLVER.ADR.RecipNotFound; not found'</p></body></html>\n"
    )
    report = classify(raw)
    assert [r.address for r in report.recipients] == ["kim@example.org"]
    assert report.first.reason is Reason.USERUNKNOWN and report.first.status == "5.1.1"


def test_a_mailing_list_refusing_a_non_member_is_a_sender_rejection():
    body = (
        "You are not a member of this mailing list <news-list@lists.example.org>.\n\n"
        "If you know the general guide of this list, please send mail with the body 'guide'.\n"
    )
    report = classify(_bounce("news-list-admin@lists.example.org", "You are not member (news-list ML)", body))
    assert [r.address for r in report.recipients] == ["news-list@lists.example.org"]
    assert report.first.reason is Reason.REJECTED and not report.first.hard


def test_an_exim_alias_is_the_original_recipient_not_a_second_failure():
    """Exim writes the address a failed one was expanded from under it; it names who we mailed, not a failure,
    and the remote's answer below it still explains the failed address."""
    from sendwell.bounces import classify

    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.shop.example>\r\nTo: news@shop.example\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\nX-Failed-Recipients: ann@forward.example\r\n"
        b"\r\nThis message was created automatically by mail delivery software.\r\n\r\n"
        b"A message that you sent could not be delivered to one or more of its\r\n"
        b"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        b"  ann@forward.example\r\n    (generated from ann.old@shop-customers.example)\r\n"
        b"    SMTP error from remote mail server after RCPT TO:<ann@forward.example>:\r\n"
        b"    host mx.forward.example [192.0.2.8]: 550 5.1.1 <ann@forward.example>: no mailbox by that name\r\n"
    )
    report = classify(raw)
    assert [r.address for r in report.recipients] == ["ann@forward.example"]
    failed = report.recipients[0]
    assert failed.original_recipient == "ann.old@shop-customers.example"
    assert failed.status == "5.1.1" and failed.hard


def test_a_feedback_report_names_every_original_recipient():
    """RFC 5965 allows one Original-Rcpt-To per recipient of the reported message: each is a complaint."""
    from sendwell.bounces import MessageKind, classify

    raw = (
        b"From: feedback@isp.example\r\nTo: abuse@shop.example\r\nSubject: FW: complaint\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=feedback-report; boundary=b1\r\n\r\n"
        b"--b1\r\nContent-Type: text/plain\r\n\r\nA complaint about a message from your network.\r\n"
        b"--b1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n"
        b"Original-Mail-From: news@shop.example\r\nOriginal-Rcpt-To: ann@isp.example\r\n"
        b"Original-Rcpt-To: <bob@isp.example>\r\n\r\n"
        b"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@shop.example\r\nTo: ann@isp.example\r\n"
        b"Subject: Offers\r\n\r\n--b1--\r\n"
    )
    report = classify(raw)
    assert report.kind is MessageKind.COMPLAINT
    assert [r.address for r in report.recipients] == ["ann@isp.example", "bob@isp.example"]


def test_each_recipient_of_a_transcript_is_judged_by_its_own_command():
    # Two hosts in one transcript: the first refused our sender at MAIL, the second a mailbox at RCPT.
    body = (
        "   ----- Transcript of session follows -----\n"
        "While talking to mx.example.com:\n"
        ">>> MAIL From:<news@sender.example>\n"
        "<<< 553 <news@sender.example>... sender address refused\n"
        "554 <ann@example.com>... Remote protocol error\n"
        "While talking to mx.example.org:\n"
        ">>> RCPT To:<kim@example.org>\n"
        "<<< 550 <kim@example.org>... No such user\n"
        "550 <kim@example.org>... User unknown\n"
    )
    report = classify(_bounce("MAILER-DAEMON@mail.example.net", "Returned mail: see transcript for details", body))
    by_address = {r.address: r for r in report.recipients}
    assert by_address["kim@example.org"].reason is Reason.USERUNKNOWN and by_address["kim@example.org"].hard
    assert not by_address["ann@example.com"].hard


def test_a_recipients_summary_line_is_explained_by_its_session_not_by_the_next_hosts_line():
    # Sendmail's "554 <addr>... Remote protocol error" is the recipient's own line; the next summary line
    # ("550 example.net (smtp)... Host unknown") is another host's, and the answer is the session's.
    body = (
        "   ----- Transcript of session follows -----\n"
        "While talking to mx.example.com:\n"
        ">>> MAIL From:<news@sender.example>\n"
        "<<< 550 <news@sender.example>... we take no mail from 192.0.2.7, it is an open relay\n"
        "554 <ann@example.com>... Remote protocol error\n"
        "550 example.net (smtp)... 550 Host unknown\n"
        "554 <bo@example.net>... 550 Host unknown (Authoritative answer from name server)\n"
    )
    report = classify(_bounce("MAILER-DAEMON@mail.example.net", "Returned mail: see transcript for details", body))
    ann = {r.address: r for r in report.recipients}["ann@example.com"]
    assert "open relay" in ann.diagnostic and "Host unknown" not in ann.diagnostic
    assert ann.reason is Reason.BLOCKED and not ann.hard
