"""The words a new form starts with (its confirmation message and its consent sentence), and the same words in the
subscriber's language: a form whose text is still the default speaks each person's language, a form whose operator
wrote their own text says it as written."""

from __future__ import annotations

import re

from sendwell.translations import N_, translations

SUBJECT = N_("Please confirm your subscription to {{ sender }}")
BODY = N_("""Hello{% if first_name %} {{ first_name }}{% endif %},

please confirm that you want to receive emails from {{ sender }} at {{ email }}:

{{ confirm_url }}

The link works for {{ days }} days. If you did not ask for this, ignore this email: you will hear no more from us.
""")
CONSENT = N_("Yes, send me emails from %(sender)s. I can unsubscribe at any time with the link in every email.")
CONSENT_NO_SENDER = N_("Yes, send me your emails. I can unsubscribe at any time with the link in every email.")
# The default sentence as stored (with the sender of the day it was made); "us" stood for no sender before.
_CONSENT = re.compile(re.escape(CONSENT).replace(re.escape("%(sender)s"), "(?P<sender>.+)"), re.DOTALL)


def _same(text: str, default: str) -> bool:
    # a text area sends CRLF line ends, and an editor may drop the last newline: still the default text
    return text.replace("\r\n", "\n").strip() == default.strip()


def subject_in(source: str, language: str) -> str:
    """The confirmation subject's template in `language`: the default translated, an edited one as written."""
    return translations(language).gettext(SUBJECT) if _same(source, SUBJECT) else source


def body_in(source: str, language: str) -> str:
    """The confirmation body's template in `language`: the default translated, an edited one as written."""
    return translations(language).gettext(BODY) if _same(source, BODY) else source


def consent_in(text: str, language: str) -> str:
    """The consent sentence in `language`: the default translated (for the sender it names), an edited one as
    written. What the page shows is what the consent record keeps."""
    t = translations(language)
    if _same(text, CONSENT_NO_SENDER):
        return t.gettext(CONSENT_NO_SENDER)
    found = _CONSENT.fullmatch(text.strip())
    if found is None:
        return text
    if found["sender"] == "us":
        return t.gettext(CONSENT_NO_SENDER)
    return t.gettext(CONSENT) % {"sender": found["sender"]}
