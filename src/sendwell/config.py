"""Settings from sendwell.toml, SENDWELL_* environment variables and flags, in one object passed in.

Precedence: flag > environment > sendwell.toml > default. Every key is documented in docs/config.md.
Environment variables are named SENDWELL_<SECTION>_<KEY> (e.g. SENDWELL_LIMIT_START=500, SENDWELL_DATABASE_URL,
SENDWELL_DKIM_DIR), plus the short forms in SHORT_FORMS. This is the only module that reads the environment for
settings: everything else is handed the Settings object.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A bad configuration value; the message names the key."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///sendwell.db"
    reconnect_seconds: float = 300.0  # a sender waits this long for a lost database before it stops


@dataclass(frozen=True)
class SmtpSettings:
    # One or more relay URLs: smtp://host:port, smtp+starttls://user:pass@host:587, smtps://host:465
    urls: tuple[str, ...] = ()
    connections: int = 16  # concurrent connections per sending process (a relay that refuses more gets fewer)
    timeout: float = 30.0  # seconds, for every SMTP step
    messages_per_connection: int = 500  # then QUIT and a new session (Exim refuses past 1,000 by default)
    helo_name: str = ""
    rest_seconds: float = 30.0  # how long a failing relay is left alone


@dataclass(frozen=True)
class SendingSettings:
    bounce_domain: str = "bounces.localhost.localdomain"
    public_url: str = ""  # e.g. https://mail.example.com; enables RFC 8058 one-click unsubscribe
    secret: str = ""  # HMAC key for VERP and unsubscribe tokens; generated and stored if empty
    retry_schedule: tuple[float, ...] = (2, 5, 15, 60, 300, 900, 3600)  # seconds between attempts
    retry_horizon_hours: float = 72.0  # give up on a deferred recipient after this long
    batch_size: int = 200
    lease_seconds: float = 120.0
    auto_blacklist_hard_errors: bool = True
    signing_processes: int = 1  # worker processes that DKIM-sign; 0 signs in the sending process
    timezone: str = "UTC"  # the installation's time zone: a schedule given without one is in it
    # a campaign whose first N transactions are all refused with one answer (about us, not them) pauses; 0: never
    pause_after_same_refusals: int = 20
    event_loop: str = "auto"  # the sender's event loop: auto (uvloop when installed), uvloop or asyncio


@dataclass(frozen=True)
class LimitSettings:
    start: int = 1000  # the first day's limit, and the floor
    cap: int = 1_000_000
    timezone: str = "UTC"
    window: str = "day"  # "day" (calendar day in `timezone`) or "rolling" (last 24 hours)
    grow_below: float = 0.02  # error rate under which a well-used day doubles the limit
    shrink_above: float = 0.05  # error rate over which the next day's limit halves
    warn_error_rate: float = 0.05  # over the last `window_sends` sends
    pause_error_rate: float = 0.10
    window_sends: int = 500
    warn_complaint_rate: float = 0.001
    pause_complaint_rate: float = 0.003


@dataclass(frozen=True)
class VerifySettings:
    max_age_days: float = 30.0
    skip: tuple[str, ...] = ("invalid",)
    dns_timeout: float = 5.0
    dns_concurrency: int = 200
    smtp_probe: bool = False
    disposable_file: str = ""  # override file: one domain per line, "!domain" removes one
    dns_server: str = ""  # resolver HOST[:PORT] for verification; empty: the system's


@dataclass(frozen=True)
class DkimSettings:
    dir: str = "dkim"  # the key directory: private keys (mode 0600) and their index


@dataclass(frozen=True)
class BounceSettings:
    soft_score_step: float = 0.5
    soft_threshold: float = 3.0
    soft_window_days: float = 15.0
    soft_stale_days: float = 7.0
    # the mail server (name or IP) whose mailbox bounces are read from (the host of `bounces watch --imap`):
    # the set-up check compares the bounce domain's MX with it; empty: not compared
    mx_host: str = ""


@dataclass(frozen=True)
class WebhookSettings:
    # A provider's webhook refuses every request until its own setting here is filled in.
    sendgrid_key: str = ""  # SendGrid's ECDSA public key (Event Webhook signature verification)
    mailgun_key: str = ""  # Mailgun's HTTP webhook signing key
    ses_topics: tuple[str, ...] = ()  # the SNS topic ARNs allowed to post (their subscriptions are confirmed)
    postmark_key: str = ""  # "user:password" of the basic auth set on Postmark's webhook URL
    max_age_seconds: float = 900.0  # a Mailgun signature older (or further ahead) than this is refused


@dataclass(frozen=True)
class WebSettings:
    session_idle_minutes: float = 120.0  # a UI session unused this long ends
    session_max_hours: float = 12.0  # and every session ends this long after its login
    # peers whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or networks); none by default, not
    # even loopback: anyone who can reach the port could otherwise pick the address the throttle counts
    trusted_proxies: tuple[str, ...] = ()
    # the web UI's language when neither the user's setting nor the browser's Accept-Language names one it has
    # ("en" or "vi"); public pages (unsubscribe) use it when the subscriber's browser names none
    language: str = "en"


@dataclass(frozen=True)
class ContactSettings:
    # how a full name is written, to fill first_name/last_name from `Name <address>`: "given-first" (Gina
    # Lopez) or "family-first" (Nguyễn Văn An); empty: family-first when [web] language is "vi", else given-first
    name_order: str = ""


@dataclass(frozen=True)
class FormSettings:
    pending_days: float = 7.0  # an unconfirmed subscription (and its confirmation link) is dropped after this
    from_addr: str = ""  # the sender of a form that names none: "News <news@example.com>"
    min_seconds: float = 3.0  # a form sent back sooner after it was shown is taken for a bot
    token_hours: float = 24.0  # a form page older than this is shown again before it is accepted
    rate_limit: int = 5  # accepted submissions per client address per window
    rate_window_minutes: float = 60.0
    check_dns: bool = True  # refuse a domain that takes no mail (MX, else A/AAAA)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    sending: SendingSettings = field(default_factory=SendingSettings)
    limit: LimitSettings = field(default_factory=LimitSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    bounces: BounceSettings = field(default_factory=BounceSettings)
    dkim: DkimSettings = field(default_factory=DkimSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    web: WebSettings = field(default_factory=WebSettings)
    forms: FormSettings = field(default_factory=FormSettings)
    contacts: ContactSettings = field(default_factory=ContactSettings)


# Older or shorter environment names: they stand in for the file's value, and the SENDWELL_<SECTION>_<KEY> name
# beats them.
# The web UI's languages: one gettext catalogue each under sendwell/locale/ (the CLI stays English).
LANGUAGES = ("en", "vi")

NAME_ORDERS = ("", "given-first", "family-first")
EVENT_LOOPS = ("auto", "uvloop", "asyncio")  # [sending] event_loop (sending/eventloop.py)

SHORT_FORMS = {"SENDWELL_SMTP_URL": ("smtp", "urls"), "SENDWELL_DISPOSABLE_FILE": ("verify", "disposable_file")}


def _coerce(section: str, key: str, current: Any, value: Any) -> Any:
    name = f"[{section}] {key}"
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(current, tuple):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            items = tuple(value)
            if current and isinstance(current[0], (int, float)):
                items = tuple(float(v) for v in items)
            return items
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: cannot use {value!r}") from None


def as_env(settings: Settings) -> dict[str, str]:
    """Every setting as its SENDWELL_<SECTION>_<KEY> variable: hands the whole configuration (file,
    environment and flags) to a child process, which reads it back with `load_settings`."""
    env = {}
    for sec in fields(settings):
        section = getattr(settings, sec.name)
        for f in fields(section):
            value = getattr(section, f.name)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple):
                text = ",".join(str(v) for v in value)
            else:
                text = str(value)
            env[f"SENDWELL_{sec.name.upper()}_{f.name.upper()}"] = text
    return env


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    database_url: str | None = None,
) -> Settings:
    env = dict(os.environ if env is None else env)
    data: dict[str, dict[str, Any]] = {}
    path = Path(config_path) if config_path else Path("sendwell.toml")
    if config_path and not path.exists():
        raise ConfigError(f"{path}: no such configuration file")
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: {err}") from None
    if "url" in data.get("smtp", {}):  # [smtp] url = … is a file's short form of urls
        data["smtp"]["urls"] = data["smtp"].pop("url")
    for name, (section, key) in SHORT_FORMS.items():
        if name in env:
            data.setdefault(section, {})[key] = env[name]
    settings = Settings()
    sections = {}
    for sec in fields(Settings):
        current = getattr(settings, sec.name)
        given = dict(data.get(sec.name, {}))
        for f in fields(current):
            env_key = f"SENDWELL_{sec.name.upper()}_{f.name.upper()}"
            if env_key in env:
                given[f.name] = env[env_key]
        unknown = set(given) - {f.name for f in fields(current)}
        if unknown:
            raise ConfigError(f"[{sec.name}] unknown key(s): {', '.join(sorted(unknown))}")
        changes = {k: _coerce(sec.name, k, getattr(current, k), v) for k, v in given.items()}
        sections[sec.name] = replace(current, **changes)
    for key in set(data) - set(sections):
        raise ConfigError(f"unknown section [{key}] in {path}")
    if sections["web"].language not in LANGUAGES:
        raise ConfigError(f"[web] language: {sections['web'].language!r} is not one of {', '.join(LANGUAGES)}")
    if sections["contacts"].name_order not in NAME_ORDERS:
        raise ConfigError(
            f"[contacts] name_order: {sections['contacts'].name_order!r} is not given-first or family-first"
        )
    if sections["sending"].event_loop not in EVENT_LOOPS:
        raise ConfigError(
            f"[sending] event_loop: {sections['sending'].event_loop!r} is not one of {', '.join(EVENT_LOOPS)}"
        )
    if sections["sending"].event_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ConfigError("[sending] event_loop = uvloop, but uvloop is not installed (pip install uvloop, or auto)")
    if database_url:  # the --database flag beats everything
        sections["database"] = replace(sections["database"], url=database_url)
    return Settings(**sections)
