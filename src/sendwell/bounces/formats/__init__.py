"""Non-standard bounce formats, one module per MTA family; each has `detect(mail) -> Partial | None`.

FORMATS is tried in order after RFC 3464 (a DSN's human-readable part may still be read by a format
to add what the DSN fields lack). A format answers only when its signature (sender, subject, a
marker line) is present, so the order matters only between look-alikes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from sendwell.bounces.found import Mail, Partial

_NAMES: tuple[str, ...] = (
    "amazonses",
    "googlegroups",
    "gmail",
    "exchange",
    "exchange2003",
    "qmail",
    "yahoo",
    "dragonfly",
    "opensmtpd",
    "domino",
    "courier",
    "japan",
    "mailinglist",
    "exim",
    "postfix",
    "sendmail",
)


def _load() -> tuple[ModuleType, ...]:
    import importlib

    return tuple(importlib.import_module(f"sendwell.bounces.formats.{name}") for name in _NAMES)


FORMATS: tuple[ModuleType, ...] = _load()
Detector = Callable[[Mail], Partial | None]
