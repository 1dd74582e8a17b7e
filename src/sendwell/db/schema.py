"""Every table, in SQLAlchemy Core. Addresses are stored by their normalized key (`email`)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

# Stable constraint names so migrations behave the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite only auto-increments INTEGER PRIMARY KEY
Stamp = DateTime(timezone=True)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display", String(320), nullable=False),
    Column("domain", String(255), nullable=False),
    Column("fields", JSON, nullable=False, default=dict),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Column("verdict", String(16)),
    Column("verdict_reasons", JSON),
    Column("suggestion", String(320)),
    Column("verified_at", Stamp),
    # only verified contacts: an audience finds whether any contact has a verdict it skips with one seek,
    # and if so skips them by searching this index (covering) instead of reading each candidate's contact
    Index(
        "ix_contacts_verdict",
        "verdict",
        "email",
        sqlite_where=text("verdict IS NOT NULL"),
        postgresql_where=text("verdict IS NOT NULL"),
    ),
)

blacklist = Table(
    "blacklist",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("display", String(320), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("source", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("actor", String(200), nullable=False, default=""),
    Column("created_at", Stamp, nullable=False),
    Column("event_id", Id, ForeignKey("events.id", ondelete="SET NULL")),
)

# Every add and remove, so a suppression can be explained and reversed.
blacklist_history = Table(
    "blacklist_history",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # added | removed
    Column("reason", String(32), nullable=False),
    Column("source", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("actor", String(200), nullable=False, default=""),
    Column("at", Stamp, nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", Stamp, nullable=False),
    # listed on the preference page behind the unsubscribe link, where a member may leave it alone
    Column("public", Boolean, nullable=False, default=False, server_default=text("false")),
)

# A segment is a custom recipient list of addresses; members need not be contacts (an exclusion
# list must never create contacts that a later "all contacts" campaign would mail).
segment_members = Table(
    "segment_members",
    metadata,
    Column("segment_id", Id, ForeignKey("segments.id", ondelete="CASCADE")),
    Column("email", String(320)),
    Column("display", String(320), nullable=False),
    Column("added_at", Stamp, nullable=False),
    # PostgreSQL: the key also holds the spelling, so an audience reads the members from the key alone (an
    # index-only scan of the vacuumed pages) instead of fetching every row (migration 0019)
    PrimaryKeyConstraint("segment_id", "email", postgresql_include=["display"]),
)

templates = Table(
    "templates",  # layouts: the frame (header, footer, styles, unsubscribe) around a campaign's `{{ content }}`
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("html", Text, nullable=False),
    Column("text", Text),  # None: generated from the HTML
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("from_addr", String(400), nullable=False),
    Column("reply_to", String(400)),
    Column("html", Text),
    Column("text", Text),
    Column("state", String(16), nullable=False),
    Column("skip_verdicts", JSON, nullable=False, default=list),
    Column("track", JSON, nullable=False, default=list),
    Column("all_contacts", Boolean, nullable=False, default=False),
    Column("created_at", Stamp, nullable=False),
    Column("started_at", Stamp),
    Column("finished_at", Stamp),
    Column("scheduled_at", Stamp),  # when the worker starts a scheduled campaign
    Column("schedule_tz", String(64)),  # the time zone it was given in, to show it back the same way
    Column("server_problem", Text),  # the current relay/server problem (cleared by a later sent message)
    Column("server_problem_at", Stamp),
    Column("audience", JSON),  # the audience figures when it was resolved (campaigns.AUDIENCE_FIGURES)
    Column("template_id", Id, ForeignKey("templates.id", ondelete="RESTRICT")),  # the layout, if any
    Column("body_format", String(16), nullable=False, server_default="html"),  # html | markdown
    # the language of the words sendwell writes into it (a built-in layout's footer): config.LANGUAGES
    Column("language", String(16), nullable=False, server_default="en"),
)

campaign_segments = Table(
    "campaign_segments",
    metadata,
    Column("campaign_id", Id, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", Id, ForeignKey("segments.id", ondelete="RESTRICT"), primary_key=True),
    Column("mode", String(8), nullable=False),  # include | exclude
)

# What was done to a campaign apart from its sending (test sends, …): never counted in its statistics or ledger.
campaign_history = Table(
    "campaign_history",
    metadata,
    Column("id", Id, primary_key=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", Stamp, nullable=False),
    Column("action", String(32), nullable=False),  # test_send
    Column("actor", String(200), nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),  # one line for people
    Column("detail", JSON, nullable=False, default=dict),  # the facts (addresses, answers, Message-ID)
)

# The ledger: one row per recipient of a started campaign.
recipients = Table(
    "recipients",
    metadata,
    Column("id", Id, primary_key=True),
    # on PostgreSQL this key is kept by triggers checking once per statement, not per row (migration 0016)
    Column("campaign_id", Id, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    # NULL when spelled as `email` (most rows); with queued_at NULL too, a new row is about half the bytes
    Column("display", String(320)),
    Column("status", String(16), nullable=False),
    Column("kind", String(24)),
    Column("reason", String(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("smtp_code", Integer),
    Column("enhanced_code", String(16)),
    Column("smtp_answer", Text),
    Column("message_id", String(400)),
    Column("queued_at", Stamp),  # NULL: queued when the campaign started (campaigns.started_at)
    Column("next_attempt_at", Stamp),
    Column("lease_owner", String(64)),
    Column("lease_until", Stamp),
    Column("sent_at", Stamp),
    Column("updated_at", Stamp),
    Column("opened_at", Stamp),
    Column("clicked_at", Stamp),
    # address first: it is also the index of an address's history across campaigns, so resolving an
    # audience writes one address index, not two
    UniqueConstraint("email", "campaign_id", name="uq_recipients_email_campaign"),
    Index("ix_recipients_claim", "campaign_id", "status", "next_attempt_at"),
    # No index on message_id: our Message-IDs name their row (sending/msgid.py), found by its key (0018).
)

# How a recipient was spelled in its list (`display` is NULL when that is the address itself).
recipient_display = func.coalesce(recipients.c.display, recipients.c.email).label("display")

# Bounces, complaints, unsubscribes, deferrals: recorded first, acted on by policy (hygiene).
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", Stamp, nullable=False),
    Column("type", String(24), nullable=False),  # bounce | complaint | unsubscribe | ...
    Column("email", String(320), index=True),
    Column("campaign_id", Id, ForeignKey("campaigns.id", ondelete="SET NULL")),
    # indexed: deleting a campaign's recipients sets these to NULL, a scan of all events per recipient without it
    Column("recipient_id", Id, ForeignKey("recipients.id", ondelete="SET NULL"), index=True),
    Column("hard", Boolean),
    Column("status_code", String(16)),
    Column("reason", String(32)),
    Column("detail", Text),
    Column("source", String(64)),
    Column("dedup_key", String(128), unique=True),
    Column("raw", LargeBinary),  # the evidence (a bounce message, a webhook payload)
    Index("ix_events_campaign_type", "campaign_id", "type"),  # campaign statistics (tracking, complaints)
)

# Per-address soft-bounce score (decays; see hygiene).
address_scores = Table(
    "address_scores",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("score", Float, nullable=False, default=0.0),
    Column("last_bounce_at", Stamp),
    Column("first_bounce_at", Stamp),
)

# One row per day of the daily limit's history.
daily_usage = Table(
    "daily_usage",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD in the configured time zone
    Column("limit", Integer, nullable=False),
    Column("sent", Integer, nullable=False, default=0),
    Column("address_errors", Integer, nullable=False, default=0),
    Column("complaints", Integer, nullable=False, default=0),
)

# The day's counts per worker (summed with daily_usage's when read): each commit of outcomes updates its own
# worker's row, never one all workers share. `granted` is the part of the day's limit the worker reserved.
usage_shards = Table(
    "usage_shards",
    metadata,
    Column("day", String(10), primary_key=True),  # as daily_usage.day
    Column("owner", String(255), primary_key=True),  # the worker (its lease owner)
    Column("sent", Integer, nullable=False, default=0),
    Column("address_errors", Integer, nullable=False, default=0),
    Column("granted", Integer, nullable=False, default=0),
)

relay_usage = Table(
    "relay_usage",
    metadata,
    Column("day", String(10), primary_key=True),  # as daily_usage.day
    Column("relay", String(255), primary_key=True),  # Relay.key: [user@]host:port
    Column("sent", Integer, nullable=False, default=0),
)

# Small key-value state shared by all processes (the circuit breaker, secrets generated once).
state = Table(
    "state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_at", Stamp, nullable=False),
    Column("revoked_at", Stamp),
    Column("expires_at", Stamp),  # NULL: until revoked
    Column("last_used_at", Stamp),  # refreshed at most once a minute, so a busy client does not write per call
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("username", String(200), nullable=False, unique=True),
    Column("password_hash", String(400), nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("language", String(16)),  # the web UI's language for this user; none: the browser's
)

# Web UI sessions, kept here so logging out, a password change or `users revoke-sessions` ends them at once.
# The cookie holds a random token; only its SHA-256 is stored, so a copy of the database opens no session.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the cookie's token
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", Stamp, nullable=False),
    Column("last_seen_at", Stamp, nullable=False),
    Column("revoked_at", Stamp),
)

# Failed logins per key (`user:NAME`, `addr:IP`, `pair:NAME|IP`) in a fixed window, counted in the database so
# concurrent guesses and several processes share one count.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", Stamp, nullable=False),
)

# Webhook ids seen once (a Mailgun token, an SNS MessageId), shared by every process: a replay is
# refused (Mailgun) or acknowledged without acting (SNS). `key` is a digest of the id; rows expire.
webhook_nonces = Table(
    "webhook_nonces",
    metadata,
    Column("provider", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("expires_at", Stamp, nullable=False, index=True),
)

# Per-provider counts of what the webhooks did, for `sendwell webhooks status` and the settings page.
webhook_counts = Table(
    "webhook_counts",
    metadata,
    Column("provider", String(16), primary_key=True),
    Column("events", Integer, nullable=False, default=0),  # recorded (about an address sendwell mailed)
    Column("ignored", Integer, nullable=False, default=0),  # about an address sendwell never mailed: logged only
    Column("replays", Integer, nullable=False, default=0),  # a signed request seen before
    Column("last_at", Stamp),
)

# Subscription forms: a hosted page (/f/<slug>) and a snippet; a submission becomes a contact of `form_segments`
# once its owner confirms (double opt-in) or at once (single opt-in).
forms = Table(
    "forms",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("from_addr", String(400), nullable=False, default=""),  # the sender: named on the page, sends the mail
    Column("fields", JSON, nullable=False, default=list),  # contact fields asked besides the address
    Column("double_opt_in", Boolean, nullable=False, default=True),
    Column("consent_text", Text, nullable=False),  # what the person agrees to, shown by the button
    Column("confirm_subject", Text, nullable=False),
    Column("confirm_body", Text, nullable=False),  # Jinja2 text; {{ confirm_url }} is the link
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

form_segments = Table(
    "form_segments",
    metadata,
    Column("form_id", Id, ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", Id, ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True),
)

# Submissions waiting for their confirmation. Kept apart from `contacts` so no audience, count or export of
# contacts ever reads them; a confirmed one becomes a contact and a consent, an expired one is deleted.
pending_contacts = Table(
    "pending_contacts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("form_id", Id, ForeignKey("forms.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False, index=True),
    Column("display", String(320), nullable=False),
    Column("fields", JSON, nullable=False, default=dict),
    Column("consent_text", Text, nullable=False),  # as shown when submitted (the form may be edited meanwhile)
    Column("client_addr", String(64), nullable=False, default=""),
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False, index=True),
)

# The evidence of each subscription: who agreed to what, when, from where, through which form.
consents = Table(
    "consents",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("form_id", Id, ForeignKey("forms.id", ondelete="SET NULL")),
    Column("form_name", String(200), nullable=False),  # kept when the form is deleted
    Column("segments", JSON, nullable=False, default=list),  # names of the segments joined
    Column("consent_text", Text, nullable=False),
    Column("method", String(16), nullable=False),  # double | single
    Column("submitted_at", Stamp, nullable=False),
    Column("submitted_addr", String(64), nullable=False, default=""),
    Column("confirmed_at", Stamp, nullable=False),
    Column("confirmed_addr", String(64), nullable=False, default=""),
)

# Accepted form submissions per client address in a fixed window, counted in the database so every process
# shares one count (as login_failures).
form_hits = Table(
    "form_hits",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("window_start", Stamp, nullable=False),
)

# Long work started from a page (verifying contacts), its progress and result, in the database so every web
# process sees it and a restart leaves a trace: the running process stamps `beat_at`, and a job whose stamp
# is old is shown as interrupted (sendwell/jobs.py).
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),  # verify
    Column("title", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # running | done | failed | interrupted
    Column("done", Integer, nullable=False, default=0),
    Column("total", Integer, nullable=False, default=0),
    Column("result", JSON, nullable=False, default=dict),
    Column("error", Text, nullable=False, default=""),
    Column("owner", String(255), nullable=False),  # the process running it (host:pid)
    Column("started_at", Stamp, nullable=False, index=True),
    Column("beat_at", Stamp, nullable=False),
    Column("finished_at", Stamp),
)
