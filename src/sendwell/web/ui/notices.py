"""Notices a redirect carries to the next page ("3 addresses added to the black list"): a key and numbers travel
in a signed cookie (web/security.py), and the sentence is written here, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable

from babel.support import Translations
from fastapi import Request


def _blacklisted(t: Translations, added: int = 0, already: int = 0) -> str:
    parts = []
    if added or not already:
        parts.append(
            t.ngettext("%(num)d address added to the black list", "%(num)d addresses added to the black list", added)
            % {"num": added}
        )
    if already:
        parts.append(
            t.ngettext(
                "%(num)d already on the black list (added at send time)",
                "%(num)d already on the black list (added at send time)",
                already,
            )
            % {"num": already}
        )
    return "; ".join(parts) + "."


def _language_saved(t: Translations) -> str:
    return t.gettext("Language saved.")


def _segment_created(t: Translations, members: int = 0) -> str:
    return t.ngettext("Segment created with %(num)d member.", "Segment created with %(num)d members.", members) % {
        "num": members
    }


def _blacklist_import(t: Translations, read: int = 0, added: int = 0, merged: int = 0) -> str:
    text = t.ngettext("%(num)d address read", "%(num)d addresses read", read) % {"num": read}
    text += ", " + t.gettext("%(num)d added to the black list") % {"num": added}
    if merged:
        text += ", " + t.gettext("%(num)d already there") % {"num": merged}
    return text + "."


def _members_added(t: Translations, read: int = 0, added: int = 0, merged: int = 0, blacklisted: int = 0) -> str:
    text = t.ngettext("%(num)d address read", "%(num)d addresses read", read) % {"num": read}
    text += ", " + t.ngettext("%(num)d member added", "%(num)d members added", added) % {"num": added}
    if merged:
        text += ", " + t.gettext("%(num)d already there") % {"num": merged}
    text += "."
    if blacklisted:
        text += " " + t.ngettext(
            "%(num)d address is on the black list and stays suppressed.",
            "%(num)d addresses are on the black list and stay suppressed.",
            blacklisted,
        ) % {"num": blacklisted}
    return text


def _members_removed(t: Translations, removed: int = 0) -> str:
    return t.ngettext("%(num)d member removed.", "%(num)d members removed.", removed) % {"num": removed}


def _segment_public(t: Translations, public: int = 0) -> str:
    if public:
        return t.gettext("The segment is now listed on the preference page.")
    return t.gettext("The segment is no longer listed on the preference page.")


def _form_saved(t: Translations) -> str:
    return t.gettext("Form saved.")


def _template_saved(t: Translations) -> str:
    return t.gettext("Template saved.")


def _template_deleted(t: Translations) -> str:
    return t.gettext("Template deleted.")


NOTICES: dict[str, Callable[..., str]] = {
    "blacklisted": _blacklisted,
    "language_saved": _language_saved,
    "segment_created": _segment_created,
    "blacklist_import": _blacklist_import,
    "members_added": _members_added,
    "members_removed": _members_removed,
    "segment_public": _segment_public,
    "form_saved": _form_saved,
    "template_saved": _template_saved,
    "template_deleted": _template_deleted,
}


def flash(request: Request, key: str, **numbers: int) -> None:
    """Show notice `key` on the next page this browser loads."""
    assert key in NOTICES, key
    request.session["notice_out"] = {"key": key, "numbers": {k: int(v) for k, v in numbers.items()}}


def pop_notice(request: Request, t: Translations) -> str | None:
    """The notice waiting for this page, written out, or None; shown once."""
    session = request.scope.get("session")
    given = session.get("notice_in") if session else None
    if not given or session is None or session.get("notice_shown"):
        return None
    session["notice_shown"] = True
    write = NOTICES.get(str(given.get("key")))
    numbers = given.get("numbers")
    if write is None or not isinstance(numbers, dict) or not all(isinstance(v, int) for v in numbers.values()):
        return None
    try:
        return write(t, **numbers)
    except TypeError:  # a notice from an older version with other numbers
        return None
