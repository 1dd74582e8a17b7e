"""Which webhooks are on: each provider's credential in the [webhook] settings (sendwell.toml or the
SENDWELL_WEBHOOK_* variables, both read by config.py). A provider without one refuses every request."""

from __future__ import annotations

from dataclasses import dataclass

from sendwell.config import WebhookSettings

# provider → the [webhook] key that turns it on, and what to put there
SETTING: dict[str, tuple[str, str]] = {
    "sendgrid": ("sendgrid_key", "the verification key from SendGrid's Signed Event Webhook settings"),
    "mailgun": ("mailgun_key", "Mailgun's HTTP webhook signing key"),
    "postmark": ("postmark_key", "user:password, also set as basic auth on Postmark's webhook URL"),
    "ses": ("ses_topics", "the SNS topic ARN(s) that publish your SES notifications"),
}


@dataclass(frozen=True)
class ProviderStatus:
    provider: str
    on: bool
    setting: str  # "[webhook] mailgun_key"
    how: str  # what to put there


def is_on(config: WebhookSettings, provider: str) -> bool:
    value = getattr(config, SETTING[provider][0])
    return bool(value.strip()) if isinstance(value, str) else any(str(v).strip() for v in value)


def status(config: WebhookSettings) -> list[ProviderStatus]:
    return [ProviderStatus(p, is_on(config, p), f"[webhook] {key}", how) for p, (key, how) in sorted(SETTING.items())]


def off_reason(provider: str) -> str:
    key, how = SETTING[provider]
    return f"{provider} webhook: not enabled; set [webhook] {key} (SENDWELL_WEBHOOK_{key.upper()}) to {how}; refused"
