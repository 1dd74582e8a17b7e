"""The reason table: diagnostic text and status codes → a Reason, read top to bottom, first match wins.

Three tables, consulted in this order by `decide`:
1. STATUS_FIRST: status codes specific enough to beat any wording (5.2.2 is a full mailbox whatever it says).
2. TEXT_RULES: phrases MTAs use, one row per wording with a sentence of our own that it decides,
   matched on the lower-cased, whitespace-collapsed diagnostic. Ordered from the most specific cause
   to the most generic one, so "sender rejected: low reputation" is `badreputation` before `rejected`.
3. STATUS_RULES: the RFC 3463 meaning of the code, when the wording said nothing we know.
Then the SMTP command the remote refused (MAIL FROM → rejected, HELO → blocked), then `onhold`.
When the MTA gave no status code, PSEUDO_STATUS gives one (Sisimai's X.0.9NN convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendwell.bounces import rule_words
from sendwell.bounces import text as T
from sendwell.bounces.report import Reason as R


@dataclass(frozen=True, slots=True)
class TextRule:
    """One wording of one reason, with a sentence of our own that it matches (tests/bounces/test_reasons.py)."""

    reason: R
    pattern: str  # a regular expression on lower-cased text with runs of white space collapsed
    example: str  # a made-up diagnostic this row decides
    statuses: str = ""  # when set: a comma list of status prefixes the rule is limited to ("5.1.1,4.")


def _rows(reason: R, *rows: tuple[str, str], statuses: str = "") -> tuple[TextRule, ...]:
    """The (pattern, example) rows of one reason, in table order."""
    return tuple(TextRule(reason, pattern, example, statuses) for pattern, example in rows)


# One row per wording; a row's inner alternation only spells one wording several ways ("e-?mail").
TEXT_RULES: tuple[TextRule, ...] = (
    # Success and delays are decided from the DSN Action field, not from text.
    # Our sending identity or relay set-up is at fault.
    *_rows(
        R.NORELAYING,
        (
            r"relay(ing)? (access )?(denied|not permitted|not allowed|prohibited)",
            "554 5.7.1 <a@example.org>: relaying prohibited from this host",
        ),
        (r"not configured to relay", "550 mx.example.net is not configured to relay for example.org"),
        (r"(unable|not permitted|not allowed) to relay", "550 5.7.1 Unable to relay for a@example.org"),
        (r"we do not relay", "550 We do not relay mail for foreign domains"),
        (r"no relaying", "554 No relaying from 192.0.2.7, sorry"),
        (r"not a (mail )?gateway", "550 mx.example.net is not a mail gateway for example.org"),
        (r"relay not authori[sz]ed", "550 5.7.1 Relay not authorised for a@example.org"),
        (r"email address is not verified", "554 Email address is not verified on this sending service"),
        (r"relaying mail to .* is not allowed", "550 Relaying mail to example.org is not allowed"),
        (r"allowed rcpthosts", "553 example.org is not one of my allowed rcpthosts (#5.7.1)"),
        (r"not in my list of (allowed|local)", "553 example.org is not in my list of local domains"),
    ),
    # The destination has moved or accepts no mail at all.
    *_rows(
        R.HASMOVED,
        (r"no longer on (this )?server", "550 a@example.org is no longer on this server"),
        (r"address has (been )?changed", "550 This address has changed, write to b@example.net instead"),
        (r"recipient has moved", "551 Recipient has moved to b@example.net"),
        (r"user has moved", "551 User has moved; please try b@example.net"),
        (r"has moved to", "551 The owner of this mailbox has moved to b@example.net"),
        (r"mailbox has moved", "550 Mailbox has moved, no forwarding address known"),
        (r"address has moved", "550 The e-mail address has moved, no forwarding address known"),
    ),
    *_rows(
        R.SUPPRESSED,
        (r"suppression list", "550 a@example.org is on the account's suppression list"),
        (r"address is suppressed", "550 This address is suppressed after earlier hard bounces"),
        (r"(on|in) (the|our|a) suppress", "550 Recipient is on a suppress-list at the provider"),
        (r"suppressed (address|recipient)", "550 Not sent to a suppressed recipient"),
    ),
    *_rows(
        R.NOTACCEPT,
        (r"null mx", "556 5.1.10 example.org publishes a null MX"),
        (r"indicated no smtp service", "550 The MX of example.org indicated no SMTP service"),
        (r"doesn't receive email", "550 example.org doesn't receive email"),
        (r"not accepting network messages", "554 mx.example.net is not accepting network messages"),
        (r"does not receive (e-?)?mail", "556 The domain example.org does not receive mail"),
        (r"accepts no mail", "556 example.org accepts no mail"),
        (r"does not accept (e-?)?mail", "556 This host does not accept email"),
        (r"not accepting (e-?)?mail for", "550 We are not accepting mail for example.org"),
        (r"domain does not accept", "556 5.1.10 The recipient domain does not accept messages"),
        (r"(not|never) accepts? any (e-?)?mail", "556 example.org never accepts any e-mail"),
    ),
    # A refusal that names a missing domain among the causes it lists ("... or blacklisted") is about the address.
    *_rows(
        R.HOSTUNKNOWN, (r"account or domain may not exist", "550 Not delivered: the account or domain may not exist")
    ),
    # Authentication of our mail (SPF / DKIM / DMARC) and our IP's standing.
    *_rows(
        R.REQUIREPTR,
        (r"reverse dns", "550 5.7.25 Reverse DNS required for 192.0.2.7"),
        (r"rdns", "550 No rDNS for 192.0.2.7"),
        (r"\bptr\b", "550 5.7.1 Client IP 192.0.2.7 has no PTR record"),
        (r"reverse (host ?name|lookup|mapping)", "554 Reverse mapping checking getaddrinfo for 192.0.2.7 failed"),
        (
            r"(cannot|can't|could not|unable to) (find|resolve) your (host ?name|domain)",
            "450 4.7.1 Cannot find your hostname, [192.0.2.7]",
        ),
        (r"ip name (lookup|possibly forged)", "550 IP name possibly forged [192.0.2.7]"),
        (r"no (valid )?reverse", "550 No valid reverse for 192.0.2.7"),
        (r"client host .* (lacks|has no|without) .*name", "550 Client host 192.0.2.7 has no host name in DNS"),
        (r"not have a valid hostname", "550 Your IP does not have a valid hostname"),
        (r"unresolvable (ip|host|address)", "450 Unresolvable host name for 192.0.2.7"),
        (r"hostname .* (does not|doesn't) resolve", "550 The hostname mail.example.net does not resolve to 192.0.2.7"),
        (r"resolve your address", "451 Could not resolve your address 192.0.2.7 to a name"),
        (r"client host rejected: cannot find your", "450 Client host rejected: cannot find your reverse name"),
        (r"unverif(y|i)able sending ip", "554 Unverifiable sending IP 192.0.2.7"),
        (
            r"(does not match|doesn't match|mismatch(es)?) (the |your )?(client|connecting|sending) ip",
            "550 Hostname mail.example.net does not match the connecting IP 192.0.2.7",
        ),
    ),
    *_rows(
        R.NOTCOMPLIANTRFC,
        (r"duplicate header", "554 5.6.0 Duplicate header 'Subject' in message"),
        (r"multiple .*addresses in from", "550 Multiple sender addresses in From: are not accepted"),
        (r"rfc ?(5322|2822)", "550 5.7.1 Message is not RFC 5322 compliant"),
        (r"\brfc 822\b", "554 Message does not follow RFC 822"),
        (r"not (rfc|standards?) complian", "554 Message not standards compliant"),
        (r"malformed (header|message)", "554 Malformed message: bare line feeds"),
        (r"missing (required |mandatory )?header", "554 Missing required header: Date"),
        (r"header (is )?(invalid|missing|malformed)", "554 Date header is missing"),
        (r"invalid header", "554 Invalid header line in message"),
        (r"too many headers", "552 Too many headers in message"),
    ),
    *_rows(
        R.AUTHFAILURE,
        (r"dmarc", "550 5.7.1 Rejected by the DMARC record of example.com"),
        (r"spf (check|fail|validation|softfail)", "550 SPF check failed for 192.0.2.7"),
        (r"(fail(ed|s)?|failing) spf", "550 Message failed SPF for example.com"),
        (r"spf=(fail|softfail)", "550 rejected: spf=softfail smtp.mailfrom=example.com"),
        (r"sender policy framework", "550 Refused by the Sender Policy Framework record of example.com"),
        (r"dkim (signature )?(fail|invalid|verification)", "550 DKIM signature failed to verify"),
        (r"(fail(ed|s)?|invalid) dkim", "550 Invalid DKIM signature on message"),
        (r"(does not have|lacks) authentication information", "550 The message lacks authentication information"),
        (r"fails? to pass authentication", "550 Message fails to pass authentication checks"),
        (r"authentication checks? (did not|failed)", "550 Authentication checks failed for example.com"),
        (r"not authenticated .* (sender|domain)", "550 Message not authenticated for sending domain example.com"),
        (r"unauthenticated email", "550 Unauthenticated email is not accepted here"),
    ),
    *_rows(
        R.BADREPUTATION,
        (r"(low|poor|bad) reputation", "550 Sender IP has a poor reputation"),
        (r"reputation of (the|your) (sending )?ip", "421 Deferred: reputation of the sending IP 192.0.2.7"),
        (r"user complaints", "421 Mail from 192.0.2.7 deferred after user complaints"),
        (r"sender ?score", "550 Rejected: SenderScore below threshold"),
        (r"ip reputation", "550 IP reputation check failed for 192.0.2.7"),
    ),
    *_rows(
        R.FAILEDSTARTTLS,
        (r"starttls (is )?(required|failed)", "530 5.7.0 STARTTLS is required"),
        (r"must issue a starttls", "530 Must issue a STARTTLS command first"),
        (r"tls (is )?required", "530 TLS required for example.org"),
        (r"encryption (is )?required", "530 Encryption required for this domain"),
        (r"requires? (a )?(secure|encrypted|tls) connection", "530 This server requires a secure connection"),
    ),
    # The connection broke mid-conversation: whatever step it was at (HELO, DATA), nobody refused anything.
    *_rows(
        R.NETWORKERROR,
        (r"lost connection (with|to)", "lost connection with mx.example.net[192.0.2.9] while sending RCPT TO"),
        (r"connection (was )?(reset|dropped|closed) by", "Connection reset by mx.example.net"),
        (
            r"(wasn't|was not|couldn't|could not|unable to|not) (be )?(able to )?establish(ed)? (an |the )?(smtp )?"
            r"connection",
            "Could not establish an SMTP connection to mx.example.net",
        ),
    ),
    # Our host or IP named as the one refused, whatever else the answer mentions (spam, a policy).
    *_rows(
        R.BLOCKED,
        (r"client host (\S+ )?(rejected|blocked|refused)", "554 5.7.1 Client host rejected: too many errors"),
        (r"invalid ip for sending", "554 Invalid IP for sending mail of domain example.com"),
        (
            r"\b(ip|ip address|client|sender ip) (address )?\S* ?(is |has been )?(blocked|banned|blacklisted)",
            "550 Sender IP 192.0.2.7 is blocked",
        ),
    ),
    # Content judged unwanted.
    *_rows(
        R.VIRUSDETECTED,
        (r"\bvirus", "554 Virus found in message: Eicar-Test-Signature"),
        (r"malware", "550 Message contains malware"),
        (r"infected", "554 Attachment is infected"),
        (r"trojan", "554 Rejected: Trojan.Generic found"),
    ),
    *_rows(
        R.SPAMDETECTED,
        (r"\bspam\b", "550 High probability of spam"),
        (r"(black|block)listed (url|link|domain)s? in", "554 Blacklisted URL in message body"),
        (r"\buribl\b", "554 Rejected: URIBL hit for example.com"),
        (r"\bsurbl\b", "554 Message body URL found by SURBL"),
        (r"\bube\b", "550 UBE refused"),
        (r"unsolicited", "550 Unsolicited mail refused"),
        (r"bulk (e-?)?mail", "550 Bulk email not accepted"),
        (r"junk mail", "550 Treated as junk mail"),
        (r"message content rejected", "554 Message content rejected"),
        (r"spamassassin", "550 SpamAssassin refused this message"),
        (r"content filter rejection", "554 Content filter rejection"),
    ),
    *_rows(
        R.CONTENTERROR,
        (r"8-?bit data", "554 Cannot accept 8bit data without 8BITMIME"),
        (r"headers? (are |is )?too (large|long|big)", "552 Headers too long"),
        (r"improper use of", "554 Improper use of 8-bit characters in a header"),
        (
            r"(content|attachment|file( type)?|extension) (is )?(not allowed|prohibited|rejected|blocked)",
            "552 Attachment not allowed: .exe",
        ),
        (r"illegal attachment", "554 Illegal attachment type"),
        (r"bad content", "554 Bad content in message body"),
        (r"invalid (mime|content|character)", "554 Invalid MIME structure"),
        (r"message (body )?contains", "554 Message contains an executable file"),
        (r"content error", "554 Content error in part 2"),
        (r"message (was )?rejected (due to|because of) (its )?content", "554 Message was rejected due to content"),
    ),
    *_rows(
        R.POLICYVIOLATION,
        (r"polic(y|ies)", "550 Message refused by local policy"),
        (r"message not allowed", "550 Message not allowed here"),
        (r"not allowed by", "550 Not allowed by the site's rules"),
        (r"content presents a potential", "552 Message content presents a potential security issue"),
        (r"prohibited", "550 Prohibited sender behaviour"),
        (r"violat", "550 Message violates our usage rules"),
        (r"acceptable use", "550 Refused under our acceptable use rules"),
        (r"network not allowed", "550 Sending network not allowed"),
        (r"terms of service", "550 Against our terms of service"),
        (r"header error", "554 Header error in message"),
    ),
    # The sending IP or host is refused.
    *_rows(
        R.TOOMANYCONN,
        (
            r"too many (concurrent |simultaneous )?(connections|sessions|smtp sessions)",
            "421 Too many concurrent connections from 192.0.2.7",
        ),
        (r"connection (rate|frequency|count) (limit|limited|exceeded)", "421 Connection count limit reached"),
        (r"connection limit", "421 Connection limit reached for your network"),
        (r"too many (recipients|rcpt)", "452 Too many recipients in one message"),
        (r"exceeded (the )?(maximum )?number of connections", "421 You exceeded the number of connections"),
    ),
    *_rows(
        R.SPEEDING,
        (r"receiving mail (at|too) (a )?(rate|fast)", "450 The user is receiving mail too fast"),
        (r"rate limit", "451 Rate limit hit for sender"),
        (r"too many (messages|mails|emails)", "450 Too many messages from your host, wait a while"),
        (r"sending rate", "451 Your sending rate is too high"),
        (r"exceeded .* rate", "451 You have exceeded the allowed message rate"),
        (r"(temporarily )?(deferred|throttled) due to", "421 Temporarily deferred due to unexpected volume"),
        (r"throttl", "421 Throttling in effect for 192.0.2.7"),
        (r"slow down", "421 Please slow down and retry"),
        (r"too fast", "421 Sending too fast"),
    ),
    *_rows(
        R.BLOCKED,
        (r"blocked using", "554 Refused: 192.0.2.7 blocked using bl.example.net"),
        (r"black ?list", "550 Your server is on our black list"),
        (r"block ?list", "550 Sending host found on a block list"),
        (r"spamhaus", "554 Refused, see spamhaus.org for 192.0.2.7"),
        (r"spamcop", "554 Refused, see spamcop.net"),
        (r"\bdnsbl\b", "554 Refused by a DNSBL check"),
        (r"\brbl\b", "554 Your host is in an RBL"),
        (r"\bsbl\b", "554 SBL hit for 192.0.2.7"),
        (r"\bxbl\b", "554 XBL hit for 192.0.2.7"),
        (r"\bpbl\b", "554 PBL hit for 192.0.2.7"),
        (r"sorbs", "554 Refused, SORBS hit for 192.0.2.7"),
        (r"(is|as) an open relay", "550 Not accepted: 192.0.2.7 is listed as an open relay"),
        (r"barracudacentral", "554 Refused, see barracudacentral.org"),
        (r"(?<!not )listed (at|in|on|by)", "554 192.0.2.7 is listed on bl.example.net"),
        (
            r"\b(ip|ip address|client|host|sender ip) (address )?\S* ?(is |has been )?(blocked|banned|blacklisted)",
            "550 Host 192.0.2.7 has been banned",
        ),
        (r"your ip", "550 Your IP is not welcome here"),
        (r"smtp server of your isp", "550 Please send through the SMTP server of your ISP"),
        (r"relay quota", "550 Relay quota exceeded"),
        (
            r"(connection|access) (refused|denied|rejected) (from|for|to) .*\d+\.\d+\.\d+",
            "554 Access denied for 192.0.2.7",
        ),
        (r"not accepting connections", "421 mx.example.net not accepting connections from you"),
        (r"service refused", "554 Service refused from 192.0.2.7"),
        (r"service refuse", "554 Service refuse, please try later"),
        (r"my name was rejected", "Connected to 192.0.2.1 but my name was rejected."),
        (r"greeting failed", "Connected to 192.0.2.1 but the greeting failed."),
        (r"refused to talk to me", "mx.example.net refused to talk to me: 554 go away"),
        (r"helo", "550 Bad HELO name"),
        (r"ehlo", "550 EHLO argument refused"),
        (r"banned", "550 You are banned"),
        (r"poor ip", "550 Poor IP standing"),
        (r"dialup", "550 Dialup address refused"),
        (r"dynamic ip", "550 Mail from a dynamic IP is not accepted"),
        (r"residential", "550 Residential address range, use your provider's relay"),
        (r"\(bl\)", "550 Refused (BL)"),
        (r"has been blocked", "550 This sender has been blocked"),
        (r"hostname (is )?blocked", "550 Hostname blocked"),
        (r"you are not allowed to connect", "554 You are not allowed to connect"),
        (r"access denied .*\bip\b", "550 Access denied for this IP"),
    ),
    # KDDI (ezweb.ne.jp, au.com) answers "550 : User unknown", naming nobody, when the recipient's filter refused us.
    *_rows(R.FILTERED, (r"\b550:? : user unknown", "550 : User unknown")),
    # RFC 5321's stock text for 550 says the mailbox is unavailable, not that it does not exist; without a
    # 5.1.x code it is read as a refusal by the recipient's side, which never blacklists the address.
    *_rows(
        R.FILTERED,
        (
            r"requested action not taken:? (mailbox unavailable|no such user here)",
            "550 Requested action not taken: no such user here",
        ),
        statuses="5.0,5.2,5.7,4",
    ),
    # Microsoft's "Recipient address rejected: Access denied" is its answer for an unknown recipient.
    *_rows(
        R.USERUNKNOWN,
        (r"recipient address rejected: access denied", "550 5.4.1 Recipient address rejected: Access denied"),
    ),
    # The recipient's mailbox.
    # The server's own disk or spool, not the recipient's quota.
    *_rows(
        R.SYSTEMFULL,
        (r"insufficient system storage", "452 4.3.1 Insufficient system storage"),
        (r"system (is )?full", "452 The file system is full"),
        (r"disk (is )?full", "452 Disk full on mx.example.net"),
        (r"out of disk", "452 Out of disk space on the spool"),
        (r"no space left", "451 No space left on device"),
        (r"spool (is )?full", "452 Spool is full, come back later"),
        (r"(insufficient|not enough|no) (free )?disk space", "452 Not enough free disk space"),
    ),
    *_rows(
        R.MAILBOXFULL,
        (r"mailbox (is )?full", "552 Mailbox is full"),
        (r"mail ?box full", "552 Mail box full"),
        (r"full mailbox", "552 Recipient has a full mailbox"),
        (r"over ?quota", "552 a@example.org is overquota"),
        (r"quota (exceeded|full)", "552 Quota exceeded"),
        (r"exceeded (its |the )?(storage|quota)", "552 Recipient exceeded the storage allocation"),
        (r"(insufficient|not enough) (space|storage)", "452 Insufficient space for a@example.org"),
        (r"out of storage", "452 Recipient is out of storage"),
        (r"mailbox size limit", "552 Mailbox size limit exceeded"),
        (r"disk quota", "552 Disk quota reached for a@example.org"),
        (r"storage (space|limit|quota)", "552 Storage limit reached for a@example.org"),
        (r"too much mail", "552 Recipient has too much mail on the server"),
        (r"mail ?folder is full", "552 Mailfolder is full"),
        (r"mailbox (has )?exceed(ed|s)", "552 Mailbox has exceeded its allowed size"),
        (r"(user|account) is over", "552 Account is over the allowed size"),
        (r"inbox is full", "452 The recipient's inbox is full"),
        (r"is full", "452 The recipient's message store is full"),
        (r"exceeds? (the )?(mailbox|quota)", "552 Message exceeds the mailbox's free space"),
        (r"(mailbox|disk|storage|user|account)('s)? quota", "552 User's quota reached"),
        (r"quotaexceeded", "554 Delivery failed: QuotaExceededException"),
    ),
    # A local mailer's failure (a pipe, procmail), unless its own words said the mailbox was full.
    *_rows(
        R.MAILERERROR,
        (r"x-unix", "X-Unix; /usr/bin/deliver exited with 1"),
        (r"procmail", "procmail: Error while writing to /var/mail/a"),
        (r"mailer error", "554 Mailer error on mx.example.net"),
        (r"pipe to ", "pipe to |/usr/local/bin/filter failed"),
        (r"command (died|failed|output)", "Command died with status 1: /usr/bin/deliver"),
        (r"exit (code|status)", "Local delivery agent returned exit code 75"),
        (r"local delivery failed", "550 Local delivery failed"),
        (r"unknown mailer", "554 Unknown mailer 'lmtp2'"),
        (r"mail(er)? (program|command) failed", "Mail program failed for a@example.org"),
        (r"delivery to (a )?(program|pipe|file) failed", "Delivery to a pipe failed"),
        (r"service unavailable \(mailer\)", "554 Service unavailable (mailer)"),
    ),
    *_rows(
        R.EXCEEDLIMIT,
        (r"recipsizelimit", "552 5.2.3 RecipSizeLimit exceeded for a@example.org"),
        (r"too large for this recipient", "552 Message too large for this recipient"),
        (r"exceeds? (the )?size limit (for|of) (this )?recipient", "552 Mail exceeds the size limit for recipient"),
        (r"recipient size limit", "552 Recipient size limit reached"),
        (r"exceed(s|ed)? (a |the |its )?limit\b", "550 You exceeded a limit set by the recipient"),
    ),
    *_rows(
        R.MESGTOOBIG,
        (r"sendsizelimit", "552 SendSizeLimit exceeded"),
        (r"line limit exceeded", "500 Line limit exceeded"),
        (r"too many lines", "552 Too many lines in message"),
        (r"message (size |length )?(is )?too (big|large|long)", "552 Message is too large"),
        (r"(size|length) (of (the )?message )?exceeds?", "552 Size of the message exceeds what we accept"),
        (r"exceeds? (the )?(maximum|max|fixed|allowed|size)", "552 Data exceeds the fixed maximum"),
        (r"message size", "552 Message size over the server's limit"),
        (r"too large", "552 Attachment too large"),
        (r"too big", "552 Data too big"),
        (r"size limit", "552 Size limit reached"),
    ),
    *_rows(
        R.SUSPEND,
        (r"\bdisabled", "550 Account disabled"),
        (r"suspend", "550 Mailbox suspended"),
        (r"inactive", "550 Mailbox inactive"),
        (r"deactivated", "550 Account deactivated"),
        (r"frozen", "550 Account frozen"),
        (r"not active", "550 Mailbox not active"),
        (r"discontinued", "550 Service discontinued for this person"),
        (r"no longer accepts (e-?)?mail", "550 a@example.org no longer accepts e-mail"),
        (r"account (has been |is )?(closed|locked|expired|blocked)", "550 Account has been closed"),
        (r"temporar(il)?y locked", "450 Mailbox temporarily locked"),
        (r"mailbox (is )?(locked|closed|unavailable for policy)", "550 Mailbox is locked"),
        (r"temporarily (disabled|unavailable)", "550 Mailbox temporarily unavailable"),
        (r"user (account )?is (not available|unavailable)", "550 User account is unavailable"),
        (r"mailbox (has been |is )?(deleted|expired|removed)", "550 Mailbox has been deleted"),
        statuses="5,4.2",
    ),
    *_rows(
        R.FILTERED,
        (r"recipient preferences", "550 Refused due to recipient preferences"),
        (r"(user|recipient) refuses", "550 Recipient refuses mail from this sender"),
        (r"refused by (the )?recipient", "550 Message refused by the recipient"),
        (r"rejected by (the )?recipient", "550 Rejected by recipient"),
        (r"filtered", "550 Message filtered"),
        (r"filter(ed)? (rule|policy)", "550 Message matched a filter rule"),
        (
            r"does not (want|accept) (to receive )?(mail|messages) from",
            "550 The recipient does not want messages from this sender",
        ),
        (r"not accepting (messages|mail) from", "550 This person is not accepting messages from you"),
        (r"sender (is )?blocked by (the )?recipient", "550 Sender is blocked by the recipient"),
        (r"blocked by (the )?(user|recipient)", "550 Your message was blocked by the user"),
        (r"denied by (the )?recipient", "550 Delivery denied by the recipient"),
    ),
    *_rows(
        R.SECURITYERROR,
        (r"unauthenticated senders?", "530 Unauthenticated senders not accepted"),
        (r"(smtp )?authentication (is )?required", "530 5.7.0 Authentication required"),
        (r"turn on smtp auth", "550 Please turn on SMTP Auth in your mail client"),
        (r"must (authenticate|be authenticated)", "530 You must authenticate first"),
        (r"requires? (smtp )?authentication", "530 This server requires authentication"),
    ),
    *_rows(
        R.REJECTED,
        (r"not a registered gateway user", "550 a@example.com is not a registered gateway user"),
        (r"\bbatv\b", "550 BATV check failed"),
        (r"empty envelope senders?", "550 Empty envelope senders not accepted"),
        (r"unroutable sender", "550 Unroutable sender address"),
        (r"no third-party dsns", "550 No third-party DSNs"),
        (r"bogus mail from", "553 Bogus mail from"),
        (r"returned mail not accepted", "550 Returned mail not accepted here"),
        (r"mail from not owned", "553 Mail from not owned by user"),
        (
            r"sender (address |domain )?(was )?(rejected|refused|denied|blocked|not (allowed|accepted|verified))",
            "553 Sender address rejected",
        ),
        (r"domain of sender", "553 Domain of sender address does not resolve"),
        (r"sender (domain |address )?(does not exist|not found|unknown|invalid)", "553 Sender domain unknown"),
        (r"(invalid|bad|unknown|unverified|unroutable) sender", "553 Invalid sender"),
        (r"sender verif", "550 Sender verify failed"),
        (r"mail from (address )?(rejected|refused)", "550 MAIL FROM address refused"),
        (r"from address rejected", "550 From address rejected"),
        (r"purported responsible address", "550 Purported responsible address is unacceptable"),
        (r"envelope sender", "550 Envelope sender is on a deny list"),
        (r"return ?path", "550 Return path not accepted"),
        (r"\bmail from:? \S* (rejected|refused|denied)", "550 MAIL FROM: <a@example.com> denied"),
        (r"(from|sender):? (domain|address) is invalid", "553 From: address is invalid"),
        (r"sender is not", "550 Sender is not welcome here"),
        (r"address not verified", "550 Address not verified"),
        (r"(your|sender's?) domain (does not|doesn't) exist", "553 Your domain does not exist"),
        (r"message from .* rejected", "550 Message from a@example.com rejected"),
    ),
    *_rows(
        R.NETWORKERROR,
        (r"host not found, try again", "Host not found, try again"),
        (r"dns (query|lookup) (failed|error)", "DNS lookup failed for example.org"),
        (r"dns error", "DNS error while looking up example.org"),
        (r"network error", "Network error talking to mx.example.net"),
        (r"malformed or unexpected name server reply", "Malformed or unexpected name server reply"),
        (r"server ?fail", "Resolver answered SERVERFAIL for example.org"),
        (r"name server (failure|timeout)", "Name server timeout for example.org"),
        (r"temporary (dns|lookup|name) (failure|error)", "Temporary DNS failure for example.org"),
    ),
    # The domain exists but names no mail exchanger: it accepts no mail (hard, like a missing domain).
    *_rows(
        R.NOTACCEPT,
        (r"no mx (record|host)s?( found)?", "No MX records found for example.org"),
        (r"(couldn't|could not|cannot|unable to) find a mail exchanger", "Unable to find a mail exchanger"),
        (r"no mail exchanger", "No mail exchanger for example.org"),
    ),
    *_rows(
        R.HOSTUNKNOWN,
        (r"host (or domain name )?not found", "Host or domain name not found"),
        (r"domain (name )?not found", "Domain name not found: example.org"),
        (r"unknown (host|domain)", "Unknown host mx.example.net"),
        (r"host unknown", "Host unknown"),
        (r"no such (domain|host)", "No such domain at this location"),
        (r"domain (does not|doesn't) exist", "550 Domain does not exist"),
        (r"unrouteable (mail )?domain", "Unrouteable mail domain example.org"),
        (r"name service error", "Name service error for name=example.org type=A"),
        (r"nxdomain", "NXDOMAIN for example.org"),
        (r"domain is not reachable", "Domain is not reachable"),
        (r"no mx", "example.org has no MX"),
        (r"illegal host", "Illegal host/domain name found"),
        (r"host name lookup failure", "Host name lookup failure"),
        (r"domain (name )?(is )?(invalid|unknown)", "Domain name is invalid"),
        (r"unable to route", "Unable to route to example.org"),
        (r"unrouteable address", "Unrouteable address"),
        (r"mx records? point to non-?existent", "MX records point to nonexistent hosts"),
        (r"no route to (domain|host) for", "No route to host for example.org"),
        (r"invalid domain", "Invalid domain example.org"),
        (r"domain .* not (exist|found)", "The domain example.org was not found"),
        (r"no valid (mx|host)", "No valid MX for example.org"),
        (r"mx record", "Bad MX record for example.org"),
        (r"name or service not known", "Name or service not known"),
        (r"bad destination (system|host)", "Bad destination host"),
    ),
    *_rows(
        R.USERUNKNOWN,
        (r"user ?unknown", "550 5.1.1 User unknown"),
        (r"addressee unknown", "550 Addressee unknown"),
        (r"unknown (user|recipient|local|address|mailbox|account|e-?mail)", "550 Unknown recipient"),
        (r"no such (user|mailbox|recipient|address|account|person|local)", "550 No such mailbox"),
        (r"(does not|doesn't|not) exist", "550 a@example.org does not exist"),
        (r"recip(ient)? ?not ?found", "550 RecipNotFound"),
        (r"user (was )?not found", "550 User not found"),
        (r"mailbox not found", "550 Mailbox not found"),
        (r"address (not found|unknown)", "550 Address unknown"),
        (
            r"(invalid|bad|unknown|illegal|unrouteable) (recipient|mailbox|address|user|alias|destination)",
            "550 Invalid recipient",
        ),
        (r"mailbox (is )?not available", "550 Mailbox is not available"),
        (r"not a valid (mailbox|recipient|user|address)", "550 This is not a valid mailbox"),
        (r"no (mailbox|account)( here)?", "550 No mailbox here by that name"),
        (r"doesn't have an? .* account", "550 example.org doesn't have a mail account for a"),
        (r"(is|was) not (a )?(valid|known)", "550 a@example.org is not known here"),
        (r"no longer (valid|available|exists)", "550 This address is no longer valid"),
        (r"unknown or illegal", "550 Unknown or illegal local part"),
        (r"not (found|listed) in", "550 Recipient not listed in the directory"),
        (r"couldn't be found", "550 The mailbox couldn't be found"),
        (r"could not be found", "550 The recipient could not be found"),
        (r"undeliverable address", "550 Undeliverable address"),
        (r"no valid recipients", "554 No valid recipients"),
        (r"address (is )?invalid", "550 Address is invalid"),
        (r"recipient (is )?not (local|valid)", "550 Recipient not local"),
        (r"not our customer", "550 Not our customer"),
        (r"user (is )?unavailable", "550 User unavailable"),
        (r"unknown$", "550 a@example.org: unknown"),
        (r"unknown addr", "550 Unknown addr a@example.org"),
        (r"not a known user", "550 Not a known user"),
        (r"no mail ?box", "550 No mail box for a@example.org"),
        (r"dd this user", "550 5.1.1 DD This user is not registered"),
        (r"user .* not (here|found)", "550 User a@example.org not here"),
    ),
    # The message sat too long or the network failed.
    *_rows(
        R.NETWORKERROR,
        (r"no route to host", "connect to mx.example.net[192.0.2.9]:25: No route to host"),
        (r"network (is )?unreachable", "Network is unreachable"),
        (r"host (is )?unreachable", "Host is unreachable"),
    ),
    *_rows(
        R.EXPIRED,
        (r"did not accept our requests to connect", "mx.example.net did not accept our requests to connect"),
        (r"aborted after [\d.]+ (hour|day|minute)", "Delivery aborted after 4 days"),
        (r"failed \d+ attempts", "Delivery failed 12 attempts"),
        (r"(delivered|delivery) within", "Message could not be delivered within 5 days"),
        (r"(could not be|not been|wasn't|was not) delivered for \d+", "Message was not delivered for 72 hours"),
        (
            r"(could not|cannot|couldn't) (send|deliver) (the )?message for (the )?(past )?\d+",
            "Could not deliver the message for the past 3 days",
        ),
        (r"have been failing for a long time", "All hosts have been failing for a long time"),
        (r"retry time not reached", "Retry time not reached for any host"),
        (r"(delivery|retry) time (expired|exceeded|limit)", "Delivery time expired"),
        (r"message expired", "Message expired after 5 days"),
        (r"queue too long", "Message in queue too long"),
        (r"too long in (the )?queue", "Message was too long in the queue"),
        (r"retry timeout exceeded", "Retry timeout exceeded"),
        (r"giving up", "Giving up on mx.example.net"),
        (r"gave up", "Gave up after 30 tries"),
        (r"timed? ?out", "Connection timed out"),
        (r"expired", "Message lifetime expired"),
        (r"no (more )?retries", "No more retries left"),
        (r"delivery attempts? (have )?(failed|expired)", "All delivery attempts have failed"),
        (r"has not been delivered .* (hours|days)", "Your message has not been delivered in 48 hours"),
        (r"unable to deliver .* (hours|days)", "Unable to deliver for 2 days"),
    ),
    *_rows(
        R.NETWORKERROR,
        (r"connection (refused|reset|closed|lost|dropped)", "Connection refused by mx.example.net"),
        (r"too many hops", "Too many hops"),
        (r"(mail|routing) loop", "Mail loop detected"),
        (r"loops back to myself", "MX list for example.org loops back to myself"),
        (r"hop count", "Hop count exceeded"),
        (r"dns (error|failure|problem)", "DNS problem for example.org"),
        (r"lookup (failed|error)", "MX lookup failed for example.org"),
        (r"name server", "No answer from any name server"),
        (r"unable to connect", "Unable to connect to mx.example.net"),
        (r"could not connect", "Could not connect to mx.example.net"),
        (r"can't connect", "Can't connect to mx.example.net"),
        (r"connect to .* failed", "connect to mx.example.net[192.0.2.9]:25 failed"),
        (r"no answer from host", "No answer from host mx.example.net"),
        (r"connection died", "Connection died"),
        (r"closed connection", "Remote host closed connection"),
        (r"message is looping", "Message is looping"),
        (r"lost connection", "Lost connection during DATA"),
    ),
    *_rows(R.TOOMANYCONN, (r"too many", "421 Too many errors")),
    *_rows(
        R.SECURITYERROR,
        (r"auth(entication)? (failed|error|required)", "535 Authentication failed"),
        (r"access denied", "550 Access denied"),
        (r"not authori[sz]ed", "550 Not authorized"),
        (r"unauthori[sz]ed", "550 Unauthorised"),
        (r"permission denied", "550 Permission denied"),
        (r"security (policy|error)", "554 Security error"),
        (r"certificate", "454 Certificate verification failed"),
        (r"you are not allowed", "550 You are not allowed to send here"),
        (r"insecure", "530 Insecure session, use TLS"),
    ),
    *_rows(
        R.SYSTEMERROR,
        (r"system (config(uration)? )?error", "451 System error"),
        (r"internal (server )?error", "451 Internal server error"),
        (r"local error", "451 Local error in processing"),
        (r"service not available", "421 Service not available"),
        (r"server error", "451 Server error"),
        (r"service (is )?(currently )?unavailable", "421 Service is currently unavailable"),
        (r"transaction failed", "554 Transaction failed"),
        (r"(problem|error|fault) (in|with) the mail system", "451 Problem in the mail system"),
        (r"misconfigur", "451 Server misconfigured"),
        (r"configuration error", "451 Configuration error"),
        (r"temporary (local )?problem", "451 Temporary local problem"),
        (r"resources? (temporarily )?unavailable", "451 Resources unavailable"),
        (r"server (is )?(busy|too busy)", "421 Server busy"),
        (r"try (again )?later", "451 Please try again later"),
        (r"could not be processed", "451 Message could not be processed"),
        (r"processing error", "451 Processing error"),
        (r"i/o error", "451 I/O error"),
        (r"system (is )?not available", "421 System not available"),
        (r"routing (error|failure)", "554 Routing error"),
    ),
    *_rows(
        R.SYNTAXERROR,
        (r"syntax error", "501 Syntax error in parameters"),
        (r"malformed address", "501 Malformed address"),
        (r"incorrectly constructed", "501 Address incorrectly constructed"),
        (r"command (not )?(recogni[sz]ed|unrecogni[sz]ed|unknown)", "500 Command not recognized"),
        (r"bad (command )?sequence", "503 Bad sequence of commands"),
        (r"invalid command", "500 Invalid command"),
        (r"unrecognized command", "500 Unrecognized command"),
        (r"line too long", "500 Line too long"),
    ),
    # Postfix prefixes every RCPT restriction with "Recipient address rejected: <cause>": the cause decides,
    # and one this table does not know is not proof of an unknown mailbox unless the code says so. Without
    # a cause, the refusal of the address itself is.
    *_rows(R.USERUNKNOWN, (r"address rejected(?! ?:)", "550 <a@example.org>: Recipient address rejected")),
    *_rows(
        R.USERUNKNOWN,
        (r"recipient (address )?rejected", "550 5.1.0 Recipient rejected: see the postmaster"),
        (r"address rejected", "550 Address rejected: a@example.org"),
        statuses="5.1,4.1",
    ),
    *_rows(R.FILTERED, (r"mailbox unavailable", "550 Mailbox unavailable"), statuses="5.0,5.2,5.7,4"),
    *_rows(R.BLOCKED, (r"\bblocked\b", "550 Blocked")),
)

# A bare refusal ("550 Rejected"): who was refused depends on the command that was answered.
REFUSAL = re.compile(r"rejected|refused|denied|not accepted")
REFUSAL_BY_COMMAND: dict[str, R] = {"MAIL": R.REJECTED, "DATA": R.FILTERED, "RCPT": R.FILTERED}


# Codes whose meaning beats any wording around them.
STATUS_FIRST: dict[str, R] = {
    "5.1.6": R.HASMOVED,
    "5.2.2": R.MAILBOXFULL,
    "4.2.2": R.MAILBOXFULL,
    "5.2.3": R.EXCEEDLIMIT,
    "5.3.4": R.MESGTOOBIG,
    "5.7.23": R.AUTHFAILURE,
    "5.7.25": R.REQUIREPTR,
    "5.7.26": R.AUTHFAILURE,
    "5.7.27": R.REJECTED,
    "5.7.509": R.AUTHFAILURE,
    "5.7.510": R.AUTHFAILURE,
    "5.7.515": R.AUTHFAILURE,
    "5.7.13": R.SUSPEND,
    "4.4.7": R.EXPIRED,
    "5.4.7": R.EXPIRED,
    "5.1.1": R.USERUNKNOWN,
}

# Rules whose wording overrides STATUS_FIRST because it says precisely who refused: a person's filter.
TEXT_OVER_STATUS = (R.FILTERED, R.MAILBOXFULL, R.NORELAYING, R.HASMOVED, R.SPAMDETECTED, R.POLICYVIOLATION, R.NOTACCEPT)

# RFC 3463: class.subject.detail; a full code is tried before its subject ("5.1.1" then "x.1").
STATUS_RULES: dict[str, R] = {
    "5.1.0": R.USERUNKNOWN,
    "5.1.1": R.USERUNKNOWN,
    "5.1.2": R.HOSTUNKNOWN,
    "5.1.3": R.USERUNKNOWN,
    "5.1.4": R.USERUNKNOWN,
    "5.1.5": R.USERUNKNOWN,
    "5.1.6": R.HASMOVED,
    "5.1.7": R.REJECTED,
    "5.1.8": R.REJECTED,
    "5.1.9": R.USERUNKNOWN,
    "5.1.10": R.USERUNKNOWN,
    "4.1.8": R.REJECTED,
    "4.1.7": R.REJECTED,
    "4.1.2": R.HOSTUNKNOWN,
    "5.2.0": R.FILTERED,
    "5.2.1": R.SUSPEND,
    "4.2.1": R.SUSPEND,
    "5.2.2": R.MAILBOXFULL,
    "4.2.2": R.MAILBOXFULL,
    "5.2.3": R.EXCEEDLIMIT,
    "5.2.4": R.SYSTEMERROR,
    "5.3.0": R.SYSTEMERROR,
    "5.3.1": R.SYSTEMFULL,
    "4.3.1": R.SYSTEMFULL,
    "5.3.2": R.NOTACCEPT,
    "5.3.3": R.SYSTEMERROR,
    "5.3.4": R.MESGTOOBIG,
    "5.3.5": R.SYSTEMERROR,
    "4.3.2": R.TOOMANYCONN,
    "5.4.0": R.NETWORKERROR,
    "5.4.1": R.NETWORKERROR,
    "5.4.2": R.NETWORKERROR,
    "5.4.3": R.SYSTEMERROR,
    "5.4.4": R.HOSTUNKNOWN,
    "5.4.5": R.TOOMANYCONN,
    "5.4.6": R.NETWORKERROR,
    "5.4.7": R.EXPIRED,
    "4.4.1": R.NETWORKERROR,
    "4.4.2": R.NETWORKERROR,
    "4.4.7": R.EXPIRED,
    "4.4.5": R.TOOMANYCONN,
    "5.5.0": R.SYNTAXERROR,
    "5.5.3": R.TOOMANYCONN,
    "5.6.0": R.CONTENTERROR,
    "5.7.0": R.SECURITYERROR,
    "5.7.1": R.SECURITYERROR,
    "4.7.0": R.BLOCKED,
    "4.7.1": R.BLOCKED,
    "5.7.8": R.SECURITYERROR,
    "5.7.9": R.SECURITYERROR,
    "5.7.11": R.FAILEDSTARTTLS,
    "5.7.23": R.AUTHFAILURE,
    "5.7.24": R.AUTHFAILURE,
    "5.7.25": R.REQUIREPTR,
    "5.7.26": R.AUTHFAILURE,
    "x.5": R.SYNTAXERROR,
    "x.6": R.CONTENTERROR,
    "x.7": R.SECURITYERROR,
    "x.4": R.NETWORKERROR,
    "x.3": R.SYSTEMERROR,
}

# The SMTP command the remote refused, when the text says nothing more telling.
COMMAND_RULES: dict[str, R] = {
    "CONN": R.BLOCKED,
    "HELO": R.BLOCKED,
    "EHLO": R.BLOCKED,
    "STARTTLS": R.FAILEDSTARTTLS,
    "AUTH": R.SECURITYERROR,
    "MAIL": R.REJECTED,
    "RCPT": R.USERUNKNOWN,
    "DATA": R.FILTERED,
}

# RFC 5321 4.2.3: basic reply codes whose meaning names a cause, for an answer with no words we know and no
# enhanced code that names a subject.
REPLY_CODE_RULES: dict[str, R] = {
    "451": R.SYSTEMERROR  # "Requested action aborted: local error in processing"
}

# (refused command, reason from the words) → what it really means.
COMMAND_OVERRIDES: dict[tuple[str, R], R] = {
    ("MAIL", R.USERUNKNOWN): R.REJECTED,
    ("MAIL", R.HOSTUNKNOWN): R.REJECTED,
    ("CONN", R.SECURITYERROR): R.BLOCKED,
    ("CONN", R.REJECTED): R.BLOCKED,
    ("CONN", R.USERUNKNOWN): R.BLOCKED,
    ("HELO", R.SECURITYERROR): R.BLOCKED,
    ("HELO", R.HOSTUNKNOWN): R.BLOCKED,
    ("HELO", R.USERUNKNOWN): R.BLOCKED,
}

# A status for reports that carry none (Sisimai's X.0.9NN pseudo codes).
PSEUDO_STATUS: dict[R, str] = {
    R.UNDEFINED: "0.900",
    R.REQUIREPTR: "0.901",
    R.AUTHFAILURE: "0.902",
    R.BADREPUTATION: "0.903",
    R.FILTERED: "0.910",
    R.USERUNKNOWN: "0.911",
    R.HOSTUNKNOWN: "0.912",
    R.HASMOVED: "0.916",
    R.REJECTED: "0.918",
    R.NORELAYING: "0.920",
    R.SUSPEND: "0.921",
    R.MAILBOXFULL: "0.922",
    R.EXCEEDLIMIT: "0.923",
    R.SYSTEMFULL: "0.924",
    R.SYSTEMERROR: "0.930",
    R.NOTACCEPT: "0.932",
    R.MESGTOOBIG: "0.934",
    R.SYNTAXERROR: "0.935",
    R.MAILERERROR: "0.939",
    R.NETWORKERROR: "0.944",
    R.TOOMANYCONN: "0.945",
    R.SPEEDING: "0.946",
    R.EXPIRED: "0.947",
    R.NOTCOMPLIANTRFC: "0.948",
    R.SUPPRESSED: "0.949",
    R.SPAMDETECTED: "0.950",
    R.VIRUSDETECTED: "0.951",
    R.POLICYVIOLATION: "0.952",
    R.CONTENTERROR: "0.960",
    R.SECURITYERROR: "0.970",
    R.BLOCKED: "0.971",
    R.FAILEDSTARTTLS: "0.974",
    R.ONHOLD: "0.901",
}


# Every row's words (see text.required_words) are looked for in the text at once: only the rows one of whose
# words is there, and those that have none, are tried. A row's regex is compiled the first time it is tried:
# a process that reads a few hundred bounces meets a fraction of the rows, and compiling all of them was most
# of the classifier's start-up.
_ROWS: tuple[tuple[R, tuple[str, ...]], ...] = tuple(
    (rule.reason, tuple(s for s in rule.statuses.split(",") if s)) for rule in TEXT_RULES
)
_SOURCES: tuple[str, ...] = tuple(rule.pattern for rule in TEXT_RULES)
_PATTERNS: list[re.Pattern[str] | None] = [None] * len(TEXT_RULES)
_FOUND = re.compile("")  # stands for the regex of a row whose pattern is its own required word


def _index() -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """word → the rows that need it; and the rows that need no word (always tried)."""
    by_word: dict[str, list[int]] = {}
    always: list[int] = []
    known = rule_words.WORDS
    for i, rule in enumerate(TEXT_RULES):
        # Reading the words a pattern requires takes longer than the rest of the start-up: they are kept,
        # computed, in rule_words.py; a row that is not there yet has them computed here.
        words = known[rule.pattern] if rule.pattern in known else T.required_words(rule.pattern)
        if words is None:
            always.append(i)
            continue
        if words == (rule.pattern,):  # a plain phrase: finding its word is finding the match
            _PATTERNS[i] = _FOUND
        for word in words:
            by_word.setdefault(word, []).append(i)
    return {w: tuple(rows) for w, rows in by_word.items()}, tuple(always)


_BY_WORD, _ALWAYS = _index()
_WORDS: tuple[str, ...] = tuple(_BY_WORD)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case and collapse white space (MTAs wrap diagnostics at arbitrary places)."""
    return _SPACES.sub(" ", text).strip().lower()


def from_text(text: str, status: str = "") -> R | None:
    """The first TEXT_RULES row that matches, or None."""
    if not text:
        return None
    candidates = set(_ALWAYS)
    for word in [w for w in _WORDS if w in text]:
        candidates.update(_BY_WORD[word])
    patterns = _PATTERNS
    for i in sorted(candidates):
        reason, statuses = _ROWS[i]
        if statuses and status and not status.startswith(statuses):
            continue
        pattern = patterns[i]
        if pattern is _FOUND:
            return reason
        if pattern is None:
            pattern = patterns[i] = re.compile(_SOURCES[i])
        if pattern.search(text):
            return reason
    return None


def from_status(status: str) -> R | None:
    """The RFC 3463 meaning of a status code, or None when the code says nothing specific."""
    if not status or status[:1] not in "45":
        return None
    found = STATUS_RULES.get(status)
    if found is not None:
        return found
    parts = status.split(".")
    if len(parts) == 3 and parts[1] != "0":
        return STATUS_RULES.get("x." + parts[1])
    return None


def decide(status: str, text: str, command: str = "") -> R:
    """The reason for one recipient from its status code, the diagnostic text and the refused SMTP command."""
    return decide_normalized(status, normalize(text), command)[0]


def decide_normalized(status: str, norm: str, command: str = "") -> tuple[R, R | None]:
    """decide() on normalized text; also returns what the words alone said (None: nothing known)."""
    by_text = from_text(norm, status)
    return _decide(status, norm, command, by_text), by_text


def _decide(status: str, norm: str, command: str, by_text: R | None) -> R:
    first = STATUS_FIRST.get(status)
    if first is not None and (by_text is None or by_text not in TEXT_OVER_STATUS):
        return first
    if by_text is not None:
        # The same words name someone else at another step: an unknown "user" at MAIL FROM is our sender,
        # a refusal right after connecting is about our IP.
        if by_text is R.USERUNKNOWN and status.startswith("5.7.") and "user unknown" in norm:
            return R.FILTERED  # "user unknown" under a policy code: the recipient's filter refused us
        return COMMAND_OVERRIDES.get((command.upper(), by_text), by_text)
    # A code with a specific subject (5.6.0 content, 5.7.x security) says more than a bare "rejected".
    by_status = from_status(status)
    if by_status is not None and status[1:3] != ".0":
        return by_status
    if REFUSAL.search(norm):
        return REFUSAL_BY_COMMAND.get(command.upper(), R.BLOCKED)
    if by_status is not None:
        return by_status
    code = T.smtp_code(norm)
    by_reply = REPLY_CODE_RULES.get(code)
    if by_reply is not None:
        return by_reply
    by_command = COMMAND_RULES.get(command.upper())
    # A mailbox that does not exist is a permanent fact: a transient (4xx) refusal at RCPT is not one.
    if by_command is R.USERUNKNOWN and (status or code).startswith("4"):
        by_command = None
    if by_command is not None:
        return by_command
    return R.ONHOLD if status else R.UNDEFINED


def pseudo_status(reason: R, permanent: bool = True) -> str:
    """A status for a report that gave none: X.0.9NN, with 4 when the failure is not final (a 4xx, a delay)."""
    return f"{'5' if permanent else '4'}.{PSEUDO_STATUS.get(reason, '0.900')}"
