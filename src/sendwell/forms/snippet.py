"""The HTML snippet of a form, to paste into any site (pure).

It posts to the hosted page. It cannot carry a fresh page token (it is copied once), so the hosted page answers
its post by showing the form again, filled in, with a token: the person presses Subscribe there, and from that
moment the bot checks (time to submit, hidden field, rate limit) run as for the hosted page itself.
"""

from __future__ import annotations

from html import escape

from sendwell.forms.store import Form
from sendwell.translations import N_

HONEYPOT = "website"  # the hidden field: a person never sees it, a form-filling bot fills it
_LABELS = {"first_name": N_("First name"), "last_name": N_("Last name"), "name": N_("Name")}


def label(field: str) -> str:
    """The field's label in English (the hosted page shows the known ones in the reader's language)."""
    return _LABELS.get(field, field.replace("_", " ").capitalize())


def form_url(form: Form, public_url: str) -> str:
    return f"{public_url.rstrip('/')}/f/{form.slug}"


def snippet(form: Form, public_url: str) -> str:
    base = form_url(form, public_url or "https://YOUR-SENDWELL-ADDRESS")
    rows = [
        f'<form method="post" action="{escape(base)}" accept-charset="utf-8" class="sendwell-form">',
        '  <label>Email <input type="email" name="email" required autocomplete="email"></label>',
    ]
    for f in form.fields:
        rows.append(f'  <label>{escape(label(f))} <input type="text" name="{escape(f)}" maxlength="200"></label>')
    rows += [
        f'  <div style="position:absolute;left:-10000px" aria-hidden="true"><input type="text" name="{HONEYPOT}" '
        'tabindex="-1" autocomplete="off"></div>',
        f"  <p>{escape(form.consent_text)}</p>",
        '  <button type="submit">Subscribe</button>',
        "</form>",
    ]
    return "\n".join(rows) + "\n"
