"""Notices a redirect carries to the next page ("3 addresses added to the black list"): a key and its values
travel in a signed cookie bound to the session (web/security.py), and the sentence is written here, in the
reader's language. Only the server writes that cookie, so no URL can put words in a notice box."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _contacts_done(t: Translations, count: int = 0, action: str = "", segment: str = "") -> str:
    texts = {
        "add_to_segment": t.ngettext(
            "%(num)d contact added to segment %(segment)s.", "%(num)d contacts added to segment %(segment)s.", count
        ),
        "remove_from_segment": t.ngettext(
            "%(num)d contact removed from segment %(segment)s.",
            "%(num)d contacts removed from segment %(segment)s.",
            count,
        ),
        "blacklist": t.ngettext(
            "%(num)d contact added to the black list.", "%(num)d contacts added to the black list.", count
        ),
        "delete": t.ngettext("%(num)d contact deleted.", "%(num)d contacts deleted.", count),
    }
    return texts[action] % {"num": count, "segment": segment}


def _contact_saved(t: Translations) -> str:
    return t.gettext("Contact saved.")


def _contact_deleted(t: Translations, email: str = "") -> str:
    return t.gettext("Contact %(email)s deleted.") % {"email": email}


def _template_deleted(t: Translations, name: str = "") -> str:
    return t.gettext("Template %(name)s deleted.") % {"name": name}


def _template_restored(t: Translations, name: str = "") -> str:
    return t.gettext("Template %(name)s restored as shipped.") % {"name": name}


def _test_sent(t: Translations, delivered: int = 0, total: int = 0, relay: str = "", failed: str = "") -> str:
    text = t.ngettext(
        "Test message sent to %(num)d of %(total)d address through %(relay)s.",
        "Test message sent to %(num)d of %(total)d addresses through %(relay)s.",
        total,
    ) % {"num": delivered, "total": total, "relay": relay}
    if failed:
        text += " " + t.gettext("Not delivered: %(list)s") % {"list": failed}
    return text


def _test_refused(t: Translations, message: str = "") -> str:
    return t.gettext("No test message was sent: %(why)s") % {"why": message}


def _error(t: Translations, message: str = "") -> str:
    return message  # a form's error, written in the reader's language when it was flashed


NOTICES: dict[str, Callable[..., str]] = {
    "contacts_done": _contacts_done,
    "contact_saved": _contact_saved,
    "contact_deleted": _contact_deleted,
    "template_deleted": _template_deleted,
    "template_restored": _template_restored,
    "test_sent": _test_sent,
    "test_refused": _test_refused,
    "error": _error,
    "blacklisted": _blacklisted,
    "language_saved": _language_saved,
    "segment_created": _segment_created,
    "blacklist_import": _blacklist_import,
    "members_added": _members_added,
    "members_removed": _members_removed,
}


# Notices that report something that did not work: shown in an error box.
ERRORS = frozenset({"test_refused", "error"})
TEXT_MAX = 500  # a string value (a name, an address, a relay's answer) is cut here: the cookie stays small


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    error: bool = False
    place: str | None = None  # the part of the page that shows it (base.html shows the others at the top)


def flash(request: Request, key: str, error: bool = False, place: str | None = None, **values: int | str) -> None:
    """Show notice `key` on the next page this browser loads (`error`: in an error box, whatever the key;
    `place`: in that part of the page, e.g. "schedule" beside the campaign's schedule form)."""
    assert key in NOTICES, key
    request.session["notice_out"] = {
        "key": key,
        "error": error or key in ERRORS,
        "place": place,
        "numbers": {k: v if isinstance(v, int) else str(v)[:TEXT_MAX] for k, v in values.items()},
    }


def pop_notice(request: Request, t: Translations) -> Notice | None:
    """The notice waiting for this page, written out, or None; shown once."""
    session = request.scope.get("session")
    given = session.get("notice_in") if session else None
    if not given or session is None or session.get("notice_shown"):
        return None
    session["notice_shown"] = True
    write = NOTICES.get(str(given.get("key")))
    values = given.get("numbers")
    if write is None or not isinstance(values, dict) or not all(isinstance(v, int | str) for v in values.values()):
        return None
    try:
        place = given.get("place")
        return Notice(
            write(t, **values), error=bool(given.get("error")), place=place if isinstance(place, str) else None
        )
    except (TypeError, KeyError):  # a notice from an older version with other values
        return None
