"""The services' error messages as the web pages show them, in the reader's language.

Services raise UserError with an English sentence (the CLI and the API show it as it is). The pages match the
sentences a person meets in a form against this table and write them out from the catalogue, with the parts that
vary (a name, an address, a line number) carried over; a sentence the table does not know is shown as it is.
"""

from __future__ import annotations

import re
from functools import cache

from babel.support import Translations


def N_(text: str) -> str:
    return text  # marks the string for extraction; translate() looks it up when a page shows it


# (the service's sentence as a pattern, the catalogue's sentence): a group named `reason` is itself translated.
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
    # the address checks (sendwell.addresses), often after "'the address': "
    (r"empty address", N_("empty address")),
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
            return t.gettext(msgid) % parts if parts else t.gettext(msgid)
    return message
