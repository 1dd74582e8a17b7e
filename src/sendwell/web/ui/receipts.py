"""Receipts for the public pages' redirects (subscribe, confirm, unsubscribe, preferences): these pages have no
session, so what a POST did travels to the page after it in the URL, signed, dated and bound to that page's path;
it holds outcomes and ids only, never an address or anything the person typed."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "sendwell.ui.receipt"
MAX_AGE = 3600  # long enough to reload the page, short enough that an old link says nothing


def issue(secret: str, path: str, value: Any) -> str:
    """A receipt saying `value` (JSON: outcomes, ids) for the page at `path`."""
    return str(URLSafeTimedSerializer(secret, salt=SALT).dumps([path, value]))


def read(secret: str, path: str, raw: str | None, max_age: int = MAX_AGE) -> Any | None:
    """The value of a receipt issued for `path`, or None (missing, forged, too old, or another page's)."""
    if not raw:
        return None
    try:
        given = URLSafeTimedSerializer(secret, salt=SALT).loads(raw, max_age=max_age)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(given, list) or len(given) != 2 or given[0] != path:
        return None
    return given[1]


def url(secret: str, path: str, key: str, value: Any) -> str:
    """`path` with a receipt in the query parameter `key`."""
    return f"{path}?{key}={issue(secret, path, value)}"
