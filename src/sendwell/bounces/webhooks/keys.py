"""Where the webhook signing keys come from: the [webhook] settings, handed over by handle() in the shape of
the SENDWELL_WEBHOOK_* variables (which also work alone, for parse() without settings)."""

from __future__ import annotations

import os
from collections.abc import Mapping


def signing_key(provider: str, env: Mapping[str, str] | None = None) -> str | None:
    """The provider's signing key (Mailgun HMAC key, SendGrid public key), or None when not configured."""
    value = (os.environ if env is None else env).get(f"SENDWELL_WEBHOOK_{provider.upper()}_KEY", "").strip()
    return value or None


def ses_topics(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """SNS topic ARNs allowed to post (comma separated); empty: any topic whose subscription a person confirmed."""
    value = (os.environ if env is None else env).get("SENDWELL_WEBHOOK_SES_TOPICS", "")
    return frozenset(t.strip() for t in value.split(",") if t.strip())
