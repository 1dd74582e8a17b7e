"""What a provider's webhook said about one address, in one shape for every provider: pure, no database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sendwell.bounces import reasons
from sendwell.bounces import text as T
from sendwell.bounces.report import Reason, is_hard
from sendwell.errors import UserError

Fetcher = Callable[[str], bytes]  # GET an https URL, return the body (injectable so tests stay offline)
_PROTOCOL_PREFIX = re.compile(r"^\s*(smtp|x-postfix|x-unix|dns)\s*;\s*", re.I)


class WebhookError(UserError):
    """A webhook request we will not act on; the message says why, for the operator's log."""


class WebhookRejected(WebhookError):
    """The request is not proven to come from the provider: missing, wrong or forged signature (HTTP 403)."""


class MalformedPayload(WebhookError):
    """The body is not the JSON the provider sends (HTTP 400)."""


class EventKind(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Report:
    """One address's bounce, complaint or unsubscribe, as events.py records it."""

    kind: EventKind
    email: str
    raw: bytes  # the provider's JSON for this event: the evidence shown in `blacklist show`, and the dedup key
    source: str  # "webhook:<provider>"
    status: str = ""
    reason: str = ""
    hard: bool = False
    detail: str = ""
    message_id: str | None = None  # our Message-ID, when the provider hands it back
    return_path: str = ""  # our VERP bounce address, when the provider hands it back


@dataclass(frozen=True)
class Verified:
    """A request whose signature (or credential) checked out: its parsed content and its one-time id."""

    payload: Any  # what the signature covers (or, for Mailgun, came with), parsed
    nonce: str | None = None  # an id the provider sends once (Mailgun token, SNS MessageId)


def load_json(body: bytes, provider: str) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedPayload(f"{provider} webhook: the body is not UTF-8 text") from None
    except RecursionError:  # '[' * 200000: deeper than any provider nests
        raise MalformedPayload(f"{provider} webhook: the body is not JSON (nested too deeply)") from None
    except json.JSONDecodeError as err:
        raise MalformedPayload(
            f"{provider} webhook: the body is not JSON ({err.msg} at line {err.lineno}, column {err.colno})"
        ) from None
    except ValueError:  # an integer of more than 4300 digits
        raise MalformedPayload(
            f"{provider} webhook: the body is not JSON the provider sends (a number too long)"
        ) from None


def obj(value: Any) -> dict[str, Any]:
    """A JSON object of the payload, or {} when the provider sent anything else there."""
    return value if isinstance(value, dict) else {}


def evidence(obj: Any) -> bytes:
    """Stable bytes for one event, so the same event delivered twice has the same dedup key."""
    # backslashreplace: a lone surrogate ("\\ud800" in the JSON) cannot be UTF-8
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def angle(message_id: Any) -> str | None:
    """Our recipients table keeps Message-IDs with their angle brackets; providers often drop them."""
    value = str(message_id or "").strip()
    if not value:
        return None
    return value if value.startswith("<") else f"<{value}>"


def bounce(
    provider: str,
    email: Any,
    raw: bytes,
    *,
    status: Any = "",
    diagnostic: Any = "",
    permanent: bool,
    fallback: Reason | None = None,
    message_id: str | None = None,
    return_path: str = "",
) -> Report | None:
    """A bounce for one address: the reason from the status code and the remote server's words (the same
    reason table as mailed bounces), the provider's own category only when those say nothing. A failure
    the provider calls temporary is never hard, whatever the words: it is still being retried."""
    address = T.clean_address(str(email or ""))
    if not address:
        return None
    diag = _PROTOCOL_PREFIX.sub("", str(diagnostic or "")).strip()
    code = str(status or "").strip()
    if not re.fullmatch(r"[245]\.\d{1,3}\.\d{1,3}", code):
        code = T.enhanced_status(diag)
    reason = reasons.decide(code, diag)
    if reason in (Reason.ONHOLD, Reason.UNDEFINED) and fallback is not None:
        reason = fallback
    if not code:
        code = reasons.pseudo_status(reason, permanent)
    return Report(
        EventKind.BOUNCE,
        address,
        raw,
        f"webhook:{provider}",
        status=code,
        reason=reason.value,
        hard=permanent and is_hard(reason, code),
        detail=diag,
        message_id=message_id,
        return_path=return_path,
    )


def suppression(
    provider: str,
    kind: EventKind,
    email: Any,
    raw: bytes,
    detail: str = "",
    message_id: str | None = None,
    return_path: str = "",
) -> Report | None:
    address = T.clean_address(str(email or ""))
    if not address:
        return None
    return Report(
        kind, address, raw, f"webhook:{provider}", detail=detail, message_id=message_id, return_path=return_path
    )
