"""The services' error messages as the web pages show them, in the reader's language.

Services raise UserError with an English sentence (the CLI and the API show it as it is). The pages match the
sentences a person meets in a form against this table and write them out from the catalogue, with the parts that
vary (a name, an address, a line number) carried over; a sentence the table does not know is shown as it is.
"""

from __future__ import annotations

import re
from functools import cache

from babel.support import Translations

from sendwell.translations import N_
from sendwell.web.ui import names

# (the service's sentence as a pattern, the catalogue's sentence): a group named `reason` is itself translated,
# and one named `state` (a campaign's state) is called as the pages call it (web/ui/names.py).
TABLE: list[tuple[str, str]] = [
    (r"must not be empty", N_("must not be empty")),
    (r"must be a single line \(no line breaks\)", N_("must be a single line (no line breaks)")),
    (r"must be at most 200 characters", N_("must be at most 200 characters")),
    (r"missing: give an HTML and/or a plain-text body", N_("missing: give an HTML and/or a plain-text body")),
    (r"template error on line (?P<line>\d+): (?P<detail>.*)", N_("template error on line %(line)s: %(detail)s")),
    (
        r"has no \{\{ content \}\}: put it where the campaign's body goes",
        N_("has no {{ content }}: put it where the campaign's body goes"),
    ),
    (r"campaign (?P<name>'.*') already exists", N_("campaign %(name)s already exists")),
    (r"segment (?P<name>'.*') already exists", N_("segment %(name)s already exists")),
    (r"template (?P<name>'.*') already exists", N_("template %(name)s already exists")),
    (
        r"template (?P<name>'.*') is built in: edit it, or choose another name",
        N_("template %(name)s is built in: edit it, or choose another name"),
    ),
    (
        r"template (?P<name>'.*') is built in: choose another name",
        N_("template %(name)s is built in: choose another name"),
    ),
    (r"(?P<name>'.*'): no such segment", N_("%(name)s: no such segment")),
    (r"no segment named (?P<name>'.*')", N_("no segment named %(name)s")),
    (r"segment\(s\) (?P<names>.*) both included and excluded", N_("segments both included and excluded: %(names)s")),
    (r"choose a segment", N_("choose a segment")),
    (r"choose at least one contact, or all matching", N_("choose at least one contact, or all matching")),
    (r"no contact is selected", N_("no contact is selected")),
    (r"choose a CSV or list file to import", N_("choose a CSV or list file to import")),
    (r"choose the column that holds the addresses \(email\)", N_("choose the column that holds the addresses (email)")),
    (r"two columns are mapped to email; map one", N_("two columns are mapped to email; map one")),
    (r"choose the field whose value to look for", N_("choose the field whose value to look for")),
    (r"paste some addresses or choose a file", N_("paste some addresses or choose a file")),
    (r"give at least one address to send the test to", N_("give at least one address to send the test to")),
    (
        r"the address is not a field: it cannot be changed here",
        N_("the address is not a field: it cannot be changed here"),
    ),
    (r"the value (?P<value>'.*') has no field name", N_("the value %(value)s has no field name")),
    (
        r"(?P<at>.+) is in the past \(it is now (?P<now>.+)\): give a later time",
        N_("%(at)s is in the past (it is now %(now)s): give a later time"),
    ),
    (
        r"(?P<at>'.*') is not a time: give e\.g\. 2026-12-24 09:00 or 2026-12-24T09:00\+07:00",
        N_("%(at)s is not a time: give e.g. 2026-12-24 09:00 or 2026-12-24T09:00+07:00"),
    ),
    (
        r"(?P<name>'.*') is not a time zone \(e\.g\. UTC, Europe/Paris, Asia/Ho_Chi_Minh\)",
        N_("%(name)s is not a time zone (e.g. UTC, Europe/Paris, Asia/Ho_Chi_Minh)"),
    ),
    (
        r"tracking needs \[sending\] public_url .*",
        N_(
            "tracking needs the public address of this installation ([sending] public_url), which people's mail "
            "programs reach it at: without it no image or link can point back here"
        ),
    ),
    (r"name at least one segment the subscribers join", N_("name at least one segment the subscribers join")),
    (
        r"must contain \{\{ (?P<needs>\w+) \}\}, the confirmation link",
        N_("must contain {{ %(needs)s }}, the confirmation link"),
    ),
    (
        r"(?P<slug>'.*'): use lower-case letters, digits and - \(at most 64\)",
        N_("%(slug)s: use lower-case letters, digits and - (at most 64)"),
    ),
    (
        r"a form named (?P<name>'.*') or at address (?P<slug>'.*') already exists",
        N_("a form named %(name)s or at address %(slug)s already exists"),
    ),
    (r"another form has this name or address", N_("another form has this name or address")),
    # the set-up check's findings and fixes (sendwell.setupcheck, domaincheck.checks.check_bounce_mx)
    (
        r"public_url is not set: no one-click unsubscribe \(Gmail and Yahoo ask bulk senders for it\) and no read "
        r"or click tracking; unsubscribe links are mailto: addresses instead",
        N_(
            "public_url is not set: no one-click unsubscribe (Gmail and Yahoo ask bulk senders for it) and no read "
            "or click tracking; unsubscribe links are mailto: addresses instead"
        ),
    ),
    (
        r'set \[sending\] public_url = "(?P<example>[^"]+)", the address this installation\'s web server is '
        r"reached at from the internet",
        N_(
            'set [sending] public_url = "%(example)s", the address this installation\'s web server is reached at '
            "from the internet"
        ),
    ),
    (
        r"no bounce domain set \(now (?P<now>.*)\): bounces go nowhere, so sendwell never learns which addresses "
        r"are dead",
        N_("no bounce domain set (now %(now)s): bounces go nowhere, so sendwell never learns which addresses are dead"),
    ),
    (
        r'set \[sending\] bounce_domain = "(?P<domain>[^"]+)" in sendwell\.toml, give it an MX pointing at the '
        r"mailbox sendwell reads bounces from, and an SPF record",
        N_(
            'set [sending] bounce_domain = "%(domain)s" in sendwell.toml, give it an MX pointing at the mailbox '
            "sendwell reads bounces from, and an SPF record"
        ),
    ),
    (
        r"add an MX record for (?P<domain>\S+) pointing at the server whose mailbox sendwell reads bounces from",
        N_("add an MX record for %(domain)s pointing at the server whose mailbox sendwell reads bounces from"),
    ),
    (
        r"the bounce domain (?P<domain>\S+) has a null MX: it refuses all mail, so every bounce is lost",
        N_("the bounce domain %(domain)s has a null MX: it refuses all mail, so every bounce is lost"),
    ),
    (
        r"the bounce domain (?P<domain>\S+) has no MX; bounces go to its address (?P<address>\S+) \(implicit MX\), "
        r"which some servers do not do",
        N_(
            "the bounce domain %(domain)s has no MX; bounces go to its address %(address)s (implicit MX), which "
            "some servers do not do"
        ),
    ),
    (
        r"the bounce domain (?P<domain>\S+) has no MX and no address: bounces cannot be delivered, so sendwell "
        r"never learns which addresses are dead",
        N_(
            "the bounce domain %(domain)s has no MX and no address: bounces cannot be delivered, so sendwell never "
            "learns which addresses are dead"
        ),
    ),
    (r"could not look this up: (?P<detail>.*)", N_("could not look this up: %(detail)s")),
    (
        r"check again later; if it persists, the domain's DNS servers are not answering, which also makes receivers "
        r"defer or refuse your mail",
        N_(
            "check again later; if it persists, the domain's DNS servers are not answering, which also makes "
            "receivers defer or refuse your mail"
        ),
    ),
    (
        r"no DKIM key for (?P<domain>\S+), a From domain in use: its mail goes out unsigned, and Gmail, Yahoo and "
        r"Microsoft reject or junk unsigned bulk mail",
        N_(
            "no DKIM key for %(domain)s, a From domain in use: its mail goes out unsigned, and Gmail, Yahoo and "
            "Microsoft reject or junk unsigned bulk mail"
        ),
    ),
    (
        r"generate a key for (?P<domain>\S+), publish its DNS record, then check the domain",
        N_("generate a key for %(domain)s, publish its DNS record, then check the domain"),
    ),
    (r"no relay is configured: nothing can be sent", N_("no relay is configured: nothing can be sent")),
    (r"set \[smtp\] urls = (?P<example>.+)", N_("set [smtp] urls = %(example)s")),
    (r"fix the relay URL in the configuration", N_("fix the relay URL in the configuration")),
    (
        r"the relay (?P<relay>\S+) cannot be reached \((?P<problem>.*)\): campaigns wait, deferred, until it can",
        N_("the relay %(relay)s cannot be reached (%(problem)s): campaigns wait, deferred, until it can"),
    ),
    (
        r"check the relay's address, port, TLS mode and password in \[smtp\] urls, and that this machine may "
        r"connect to it",
        N_(
            "check the relay's address, port, TLS mode and password in [smtp] urls, and that this machine may "
            "connect to it"
        ),
    ),
    (
        r"no sending worker is running; the last one was seen at (?P<at>.+?): started and scheduled campaigns wait, "
        r"and retries are not made",
        N_(
            "no sending worker is running; the last one was seen at %(at)s: started and scheduled campaigns wait, "
            "and retries are not made"
        ),
    ),
    (
        r"no sending worker is running: started and scheduled campaigns wait, and retries are not made",
        N_("no sending worker is running: started and scheduled campaigns wait, and retries are not made"),
    ),
    (
        r"run the sending worker \(or the web server with its worker\) and keep it running",
        N_("run the sending worker (or the web server with its worker) and keep it running"),
    ),
    # the services' other sentences a page can show (tests/web/test_service_errors_translated.py lists the rest)
    (r"campaign (?P<name>.+) does not exist", N_("campaign %(name)s does not exist")),
    (r"segment (?P<name>'.*') does not exist", N_("segment %(name)s does not exist")),
    (r"template (?P<name>'.*') does not exist", N_("template %(name)s does not exist")),
    (r"form (?P<name>'.*') does not exist", N_("form %(name)s does not exist")),
    (r"user (?P<name>'.*') does not exist", N_("user %(name)s does not exist")),
    (r"(?P<address>.+): no such contact", N_("%(address)s: no such contact")),
    (
        r"no such job \(it may have ended more than a week ago\)",
        N_("no such job (it may have ended more than a week ago)"),
    ),
    (
        r"campaign (?P<name>'.*') was already started \((?P<state>.+)\)",
        N_("campaign %(name)s was already started (%(state)s)"),
    ),
    (
        r"campaign (?P<name>'.*') is sending; pause or cancel it first",
        N_("campaign %(name)s is sending; pause or cancel it first"),
    ),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+); only a draft can be edited",
        N_("campaign %(name)s is %(state)s; only a draft can be edited"),
    ),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+); only a draft can be scheduled",
        N_("campaign %(name)s is %(state)s; only a draft can be scheduled"),
    ),
    (r"campaign (?P<name>'.*') is (?P<state>\w+), not scheduled", N_("campaign %(name)s is %(state)s, not scheduled")),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+): the page preview is for drafts",
        N_("campaign %(name)s is %(state)s: the page preview is for drafts"),
    ),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+): cannot resend it",
        N_("campaign %(name)s is %(state)s: cannot send it again"),
    ),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+): cannot pause it",
        N_("campaign %(name)s is %(state)s: cannot pause it"),
    ),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+): cannot resume it",
        N_("campaign %(name)s is %(state)s: cannot resume it"),
    ),
    (
        r"campaign (?P<name>'.*') is (?P<state>\w+): cannot cancel it",
        N_("campaign %(name)s is %(state)s: cannot cancel it"),
    ),
    (r"campaign (?P<name>'.*') is paused: resume it first", N_("campaign %(name)s is paused: resume it first")),
    (r"campaign (?P<name>'.*') was cancelled", N_("campaign %(name)s was cancelled")),
    (
        r"(?P<status>.+): only (?P<allowed>.+) recipients can be sent again \(never sent, error or skipped ones\)",
        N_("%(status)s: only %(allowed)s recipients can be sent again (never sent, error or skipped ones)"),
    ),
    (
        r"campaign (?P<name>'.*') has no recipients: name a contact to preview as",
        N_("campaign %(name)s has no recipients: name a contact to preview as"),
    ),
    (
        r"(?P<address>.+): neither a contact nor a recipient of campaign (?P<name>'.*')",
        N_("%(address)s: neither a contact nor a recipient of campaign %(name)s"),
    ),
    (
        r"the message cannot be built for (?P<address>.+?): (?P<detail>.*)",
        N_("the message cannot be built for %(address)s: %(detail)s"),
    ),
    (
        r"segment (?P<name>'.*') is used by campaign\(s\) (?P<campaigns>.+); delete those first",
        N_("segment %(name)s is used by campaign(s) %(campaigns)s; delete those first"),
    ),
    (
        r"template (?P<name>'.*') is used by (?P<n>\d+) campaign\(s\): (?P<campaigns>.+); delete those campaigns or "
        r"give them another template first",
        N_(
            "template %(name)s is used by %(n)s campaign(s): %(campaigns)s; delete those campaigns or give them "
            "another template first"
        ),
    ),
    (
        r"template (?P<name>'.*') is used by campaign (?P<campaign>'.*'), which is sending: change it once that "
        r"campaign is done, or make a copy under another name",
        N_(
            "template %(name)s is used by campaign %(campaign)s, which is sending: change it once that campaign is "
            "done, or make a copy under another name"
        ),
    ),
    (
        r"template (?P<name>'.*') is built in and as shipped: nothing to delete",
        N_("template %(name)s is built in and as shipped: nothing to delete"),
    ),
    (r"template error: (?P<detail>.*)", N_("template error: %(detail)s")),
    (r"the template cannot be rendered: (?P<detail>.*)", N_("the template cannot be rendered: %(detail)s")),
    (
        r"at most (?P<n>\d+) addresses for a test send \((?P<given>\d+) given\)",
        N_("at most %(n)s addresses for a test send (%(given)s given)"),
    ),
    (r"at most (?P<n>\d+) fields \((?P<given>\d+) given\)", N_("at most %(n)s fields (%(given)s given)")),
    (
        r"a form that sends confirmations needs a sender address, e\.g\. 'News <news@example\.com>'",
        N_("a form that sends confirmations needs a sender address, e.g. 'News <news@example.com>'"),
    ),
    (
        r"(?P<name>'.*') is not a field name: use lower-case letters, digits and _ \(the address is always asked\)",
        N_("%(name)s is not a field name: use lower-case letters, digits and _ (the address is always asked)"),
    ),
    (
        r"no column (?P<name>'.*') in the file \(its columns: (?P<columns>.*)\)",
        N_("no column %(name)s in the file (its columns: %(columns)s)"),
    ),
    (
        r"(?P<name>.+): looks like a binary file, not CSV or text",
        N_("%(name)s: looks like a binary file, not CSV or text"),
    ),
    (
        r"this upload is gone \(imported already, or older than an hour\): choose the file again",
        N_("this upload is gone (imported already, or older than an hour): choose the file again"),
    ),
    (r"this import's report is no longer kept", N_("this import's report is no longer kept")),
    (r"(?P<address>.+): not on the black list and never was", N_("%(address)s: not on the black list and never was")),
    (
        r"(?P<value>'.*') is not a reason; choose from (?P<choices>.+)",
        N_("%(value)s is not a reason; choose from %(choices)s"),
    ),
    (
        r"(?P<names>.+) is not a status; choose from (?P<choices>.+)",
        N_("%(names)s is not a status; choose from %(choices)s"),
    ),
    (
        r"(?P<names>.+) are not statuses; choose from (?P<choices>.+)",
        N_("%(names)s are not statuses; choose from %(choices)s"),
    ),
    (r"no status given; choose from (?P<choices>.+)", N_("no status given; choose from %(choices)s")),
    (r"(?P<value>'.*') is not one of (?P<choices>.+)", N_("%(value)s is not one of %(choices)s")),
    (r"\[sending\] timezone: (?P<reason>.+)", N_("[sending] timezone: %(reason)s")),
    # a broken DKIM key folder, met by the set-up check and by sending (sendwell.dkim)
    (
        r"(?P<path>.+): not a sendwell DKIM key index \((?P<detail>.*)\)",
        N_("%(path)s: not a sendwell DKIM key index (%(detail)s)"),
    ),
    (
        r"(?P<path>.+): DKIM key file missing \(listed in (?P<index>.+)\)",
        N_("%(path)s: DKIM key file missing (listed in %(index)s)"),
    ),
    (r"(?P<path>.+): not a PEM private key \((?P<detail>.*)\)", N_("%(path)s: not a PEM private key (%(detail)s)")),
    (r"(?P<domain>\S+): no DKIM key in (?P<folder>.+)", N_("%(domain)s: no DKIM key in %(folder)s")),
    # a relay URL the set-up check cannot read ("[smtp] urls: " + sendwell.sending.relay's sentence)
    (r"\[smtp\] urls: (?P<reason>.+)", N_("[smtp] urls: %(reason)s")),
    (
        r"\[smtp\] url (?P<url>'.*'): scheme must be one of (?P<schemes>.+)",
        N_("[smtp] url %(url)s: scheme must be one of %(schemes)s"),
    ),
    (r"\[smtp\] url (?P<url>'.*'): no host", N_("[smtp] url %(url)s: no host")),
    (r"\[smtp\] url (?P<url>'.*'): bad port", N_("[smtp] url %(url)s: bad port")),
    (
        r"\[smtp\] url (?P<url>'.*'): unknown option (?P<options>.+) \(known: (?P<known>.+)\)",
        N_("[smtp] url %(url)s: unknown option %(options)s (known: %(known)s)"),
    ),
    (
        r"\[smtp\] url (?P<url>'.*'): insecure_auth must be yes or no, not (?P<value>'.*')",
        N_("[smtp] url %(url)s: insecure_auth must be yes or no, not %(value)s"),
    ),
    (
        r"\[smtp\] url (?P<url>'.*'): a login over smtp:// sends the password unencrypted; use smtp\+starttls:// or "
        r"smtps://, or add \?insecure_auth=yes for a relay on a trusted network",
        N_(
            "[smtp] url %(url)s: a login over smtp:// sends the password unencrypted; use smtp+starttls:// or "
            "smtps://, or add ?insecure_auth=yes for a relay on a trusted network"
        ),
    ),
    (
        r"\[smtp\] url (?P<url>'.*'): daily_limit must be a positive whole number, not (?P<value>'.*')",
        N_("[smtp] url %(url)s: daily_limit must be a positive whole number, not %(value)s"),
    ),
    (
        r"no SMTP relay configured: set SENDWELL_SMTP_URL or \[smtp\] urls in sendwell\.toml",
        N_("no SMTP relay configured: set SENDWELL_SMTP_URL or [smtp] urls in sendwell.toml"),
    ),
    # the address checks (sendwell.addresses), often after "'the address': "
    (r"empty address", N_("empty address")),
    (
        r"white space is not allowed in an address \(no quoting, comments, literals or names\)",
        N_("white space is not allowed in an address (no quoting, comments, literals or names)"),
    ),
    (
        r"a control character is not allowed in an address \(no quoting, comments, literals or names\)",
        N_("a control character is not allowed in an address (no quoting, comments, literals or names)"),
    ),
    (
        r"(?P<char>'.+') is not allowed in an address \(no quoting, comments, literals or names\)",
        N_("%(char)s is not allowed in an address (no quoting, comments, literals or names)"),
    ),
    (r"unsafe character (?P<code>U\+[0-9A-F]+) in address", N_("unsafe character %(code)s in address")),
    (r"no '@' in address", N_("no '@' in address")),
    (r"missing local part before '@'", N_("missing local part before '@'")),
    (r"missing domain after '@'", N_("missing domain after '@'")),
    (
        r"more than one '@' \(quoted local parts are not accepted\)",
        N_("more than one '@' (quoted local parts are not accepted)"),
    ),
    (r"the domain needs a dot \(e\.g\. example\.com\)", N_("the domain needs a dot (e.g. example.com)")),
    (r"(?P<value>'.*?'): (?P<reason>.+)", N_("%(value)s: %(reason)s")),
]


@cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern, re.S), msgid) for pattern, msgid in TABLE]


def translate(t: Translations, message: str) -> str:
    """`message` in the catalogue's language when the table knows it, else as it is."""
    for pattern, msgid in _compiled():
        found = pattern.fullmatch(message)
        if found:
            parts = found.groupdict()
            if "reason" in parts:
                parts["reason"] = translate(t, parts["reason"])
            if "state" in parts:
                parts["state"] = t.gettext(names.STATE.get(parts["state"], parts["state"]))
            return t.gettext(msgid) % parts if parts else t.gettext(msgid)
    return message
