"""The signed tokens of the public form (pure): the page token and the confirmation link.

The page token (`<form>.<issued>.<sig>`) is put in the form when it is shown: a submission without a genuine one
was not made from our page (a cross-site post), and its age is the time the person took to fill the form in. The
confirmation token (`<pending>.<expires>.<sig>`) names one pending subscription and when its link stops working.
Both are truncated HMAC-SHA256 under the installation secret, each with its own purpose string.
"""

from __future__ import annotations

import hmac
import re

SIG_CHARS = 24  # hex digits kept: 96 bits
_TOKEN = re.compile(r"^(\d{1,19})\.(\d{1,12})\.([0-9a-f]{" + str(SIG_CHARS) + r"})$")


def _sig(secret: str, purpose: str, first: int, second: int) -> str:
    return hmac.digest(secret.encode(), f"sendwell form {purpose}:{first}:{second}".encode(), "sha256").hex()[
        :SIG_CHARS
    ]


def _encode(secret: str, purpose: str, first: int, second: int) -> str:
    return f"{first}.{second}.{_sig(secret, purpose, first, second)}"


def _decode(secret: str, purpose: str, token: str) -> tuple[int, int] | None:
    m = _TOKEN.match(token or "")
    if not m:
        return None
    first, second = int(m.group(1)), int(m.group(2))
    return (first, second) if hmac.compare_digest(m.group(3), _sig(secret, purpose, first, second)) else None


def page_token(secret: str, form_id: int, issued: float) -> str:
    return _encode(secret, "page", form_id, int(issued))


def read_page_token(secret: str, token: str, form_id: int) -> float | None:
    """When the page carrying this token was shown, if the token is genuine and for this form; else None."""
    found = _decode(secret, "page", token)
    return float(found[1]) if found is not None and found[0] == form_id else None


def confirm_token(secret: str, pending_id: int, expires: float) -> str:
    return _encode(secret, "confirm", pending_id, int(expires))


def read_confirm_token(secret: str, token: str) -> tuple[int, float] | None:
    """(pending subscription id, when the link expires) if the token is genuine, else None."""
    found = _decode(secret, "confirm", token)
    return (found[0], float(found[1])) if found is not None else None
