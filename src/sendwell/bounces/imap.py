"""Watch an IMAP bounce mailbox: each new message goes through ingest.process, then is moved or flagged, never deleted.

What happens to a message is a table (DISPOSITIONS) from what ingest.process found: recorded bounces,
complaints and unsubscribes go to the done folder; anything else (a reply, a vacation notice) stays
where it is, or goes to the folder the operator names; a message we could not read stays and gets a
keyword so it is not read again at every poll. Messages are addressed by UID, fetched with BODY.PEEK
(reading does not mark them \\Seen) and only the first `max_bytes` of a huge message are read.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import logging
import re
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

from sendwell.errors import UserError

log = logging.getLogger(__name__)

KEYWORD_DONE = "$SendwellDone"  # recorded, when moving is off (with \Seen)
KEYWORD_CHECKED = "$SendwellChecked"  # read, not ours to act on: left for a person, still unseen
KEYWORD_UNREADABLE = "$SendwellUnreadable"  # could not be read: left in place, not retried
# Connection trouble: the socket or TLS layer failed, or the server hung up (imaplib's abort).
DROPPED = (imaplib.IMAP4.abort, OSError, EOFError)
# What `run` survives by reconnecting: the above, and a server answering BAD/NO where it should not.
RECOVERABLE = (imaplib.IMAP4.error, OSError, EOFError)
BACKOFF_START = 1.0  # seconds before the first reconnection attempt; doubles up to BACKOFF_MAX
BACKOFF_MAX = 300.0
FETCH_BATCH = 500  # UIDs per size query: a command line of a few KB whatever the backlog


class Tls(StrEnum):
    IMPLICIT = "implicit"  # imaps://, port 993
    STARTTLS = "starttls"  # imap:// upgraded with STARTTLS, port 143
    NONE = "none"  # plain text: only for a server on the same host or tests


class Disposition(StrEnum):
    DONE = "done"  # recorded: moved to the done folder (or flagged \Seen + KEYWORD_DONE)
    OTHER = "other"  # not a bounce: left in place with KEYWORD_CHECKED, or moved to the operator's folder
    UNREADABLE = "unreadable"  # left in place with KEYWORD_UNREADABLE
    RETRY = "retry"  # our side failed (database down): untouched, read again at the next poll


# ingest.Outcome.kind → what becomes of the message (a bounce with nothing recorded counts as OTHER).
DISPOSITIONS: dict[str, Disposition] = {
    "bounce": Disposition.DONE,
    "complaint": Disposition.DONE,
    "unsubscribe": Disposition.DONE,
    "autoreply": Disposition.OTHER,
    "delivered": Disposition.OTHER,
    "other": Disposition.OTHER,
    "unreadable": Disposition.UNREADABLE,
}


@dataclass(frozen=True)
class MailboxUrl:
    """Where to watch; never holds the password (that comes from the environment)."""

    host: str
    port: int
    user: str
    folder: str = "INBOX"
    tls: Tls = Tls.IMPLICIT

    def __str__(self) -> str:
        scheme = "imaps" if self.tls is Tls.IMPLICIT else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def parse_url(url: str, *, starttls: bool = False, no_tls: bool = False) -> tuple[MailboxUrl, str | None]:
    """imaps://user@host[:port]/FOLDER → (MailboxUrl, password given in the URL or None)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps"):
        raise UserError(f"{url}: use imaps://user@host/INBOX (or imap:// with STARTTLS or without TLS)", field="imap")
    if starttls and no_tls:
        raise UserError("STARTTLS and no TLS cannot be chosen together", field="starttls")
    if parts.scheme == "imaps" and (starttls or no_tls):
        raise UserError(f"{url}: imaps:// is TLS from the start; use imap:// for STARTTLS or no TLS", field="imap")
    if not parts.hostname or not parts.username:
        raise UserError(f"{url}: the URL needs a user and a host (imaps://user@host/INBOX)", field="imap")
    tls = Tls.IMPLICIT if parts.scheme == "imaps" else (Tls.NONE if no_tls else Tls.STARTTLS)
    try:
        port = parts.port or (993 if tls is Tls.IMPLICIT else 143)
    except ValueError:
        raise UserError(f"{url}: the port is not a number", field="imap") from None
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    password = unquote(parts.password) if parts.password else None
    return MailboxUrl(parts.hostname, port, unquote(parts.username), folder, tls), password


def quote(name: str) -> str:
    """A mailbox name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf7(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


@dataclass(frozen=True)
class WatchOptions:
    done_folder: str | None = "Processed"  # None: flag recorded messages \Seen + KEYWORD_DONE instead
    other_folder: str | None = None  # None: leave non-bounces where they are
    max_bytes: int = 2_000_000  # bounces are small; of a bigger message only this much is read
    timeout: float = 60.0  # seconds for any one network operation


@dataclass
class WatchStats:
    """What a watcher did since it started."""

    messages: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    dispositions: Counter[str] = field(default_factory=Counter)
    blacklisted: int = 0
    errors_marked: int = 0
    connections: int = 0
    drops: int = 0
    passes: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "kinds": dict(self.kinds),
            "dispositions": dict(self.dispositions),
            "blacklisted": self.blacklisted,
            "errors_marked": self.errors_marked,
            "connections": self.connections,
            "drops": self.drops,
            "passes": self.passes,
            "problems": self.problems,
        }


Processor = Callable[[bytes, str], Any]  # (raw, source) → ingest.Outcome


class Watcher:
    """Polls one folder; `run` reconnects with back-off after a dropped connection."""

    def __init__(
        self,
        mailbox: MailboxUrl,
        password: str,
        process: Processor,
        options: WatchOptions | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.password = password
        self.process = process
        self.options = options or WatchOptions()
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.stats = WatchStats()
        self.conn: imaplib.IMAP4 | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._keywords = True  # the server keeps our own keywords (PERMANENTFLAGS has \*)
        self._folders: set[str] = set()  # known to exist
        self._handled: set[tuple[str, int]] = set()  # (UIDVALIDITY, UID) left untouched, when keywords are not kept
        self._uidvalidity = ""
        self._delimiter = "/"
        self._can_move = True  # MOVE, or COPY + expunging exactly our UIDs (UIDPLUS)
        self._pending: dict[tuple[str, str], list[int]] = {}  # (move|flag, folder|flags) → UIDs, sent per batch
        self._stop = threading.Event()

    # -- connection -------------------------------------------------------------------------------
    def connect(self) -> imaplib.IMAP4:
        m, t = self.mailbox, self.options.timeout
        try:
            if m.tls is Tls.IMPLICIT:
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(m.host, m.port, ssl_context=self.ssl_context, timeout=t)
            else:
                conn = imaplib.IMAP4(m.host, m.port, timeout=t)
                if m.tls is Tls.STARTTLS:
                    conn.starttls(ssl_context=self.ssl_context)
        except ssl.SSLCertVerificationError as err:  # a set-up problem, not a passing network fault
            raise UserError(
                f"{m}: the server's TLS certificate is not trusted ({err.verify_message}); give the CA that signed it",
                field="ca_file",
                named=True,
            ) from None
        except imaplib.IMAP4.error as err:
            if isinstance(err, imaplib.IMAP4.abort):
                raise
            text = _text(list(err.args))
            hint = " (use imaps:// if the server only offers TLS from the start)" if "TLS" in text else ""
            raise UserError(f"{m}: {text}{hint}") from None
        try:
            conn.login(m.user, self.password)
        except imaplib.IMAP4.error as err:
            _close(conn)
            text = _text(list(err.args))
            if "UNAVAILABLE" in text.upper():  # the server's authentication back end is down: try again later
                raise imaplib.IMAP4.abort(f"login: {text}") from None
            raise UserError(f"{m}: login refused ({text}); check the user and the password variable") from None
        try:
            self._select(conn)
        except BaseException:
            _close(conn)
            raise
        self.stats.connections += 1
        self.conn = conn
        return conn

    def _select(self, conn: imaplib.IMAP4) -> None:
        """Learn what the server can do, then open the folder."""
        m = self.mailbox
        typ, data = conn.capability()
        self._capabilities = frozenset(data[0].decode().upper().split()) if typ == "OK" and data[0] else frozenset()
        self._can_move = bool({"MOVE", "UIDPLUS"} & self._capabilities)
        if not self._can_move and (self.options.done_folder or self.options.other_folder):
            log.warning("%s: the server has neither MOVE nor UIDPLUS; flagging instead of moving", m)
        self._delimiter = _delimiter(conn)
        typ, data = conn.select(quote(m.folder))
        if typ != "OK":
            raise UserError(f"{m}: cannot open folder {m.folder!r} ({_text(data)})")
        flags = _text(conn.response("PERMANENTFLAGS")[1])
        self._keywords = "\\*" in flags
        self._uidvalidity = _text(conn.response("UIDVALIDITY")[1])

    def close(self) -> None:
        self._pending.clear()  # not sent: those messages are read again after reconnecting
        if self.conn is not None:
            _close(self.conn)
            self.conn = None

    # -- one pass ---------------------------------------------------------------------------------
    def poll(self) -> int:
        """Process every new message once; returns how many were read. Connection errors propagate."""
        conn = self.conn or self.connect()
        criteria = ["UNSEEN"]
        if self._keywords:
            criteria += ["UNKEYWORD", KEYWORD_CHECKED, "UNKEYWORD", KEYWORD_UNREADABLE]
        typ, data = conn.uid("SEARCH", None, *criteria)  # type: ignore[arg-type]  # None: no CHARSET
        if typ != "OK":
            raise imaplib.IMAP4.abort(f"UID SEARCH failed: {_text(data)}")
        uids = [int(u) for u in b" ".join(d for d in data if d).split()]
        uids = [u for u in uids if (self._uidvalidity, u) not in self._handled]
        if not uids:
            self.stats.passes += 1
            return 0
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            sizes = self._sizes(conn, batch)
            for uid in batch:
                if self._stop.is_set():  # asked to stop: file what is done, leave the rest for next time
                    break
                self._one(conn, uid, sizes.get(uid, 0))
            self._flush(conn)
        self.stats.passes += 1
        return len(uids)

    def _sizes(self, conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
        typ, data = conn.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
        sizes = {}
        for item in data:
            text = item.decode() if isinstance(item, bytes) else ""
            uid, size = re.search(r"UID (\d+)", text), re.search(r"RFC822\.SIZE (\d+)", text)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def _fetch(self, conn: imaplib.IMAP4, uid: int, size: int) -> bytes | None:
        part = "BODY.PEEK[]" if size <= self.options.max_bytes else f"BODY.PEEK[]<0.{self.options.max_bytes}>"
        typ, data = conn.uid("FETCH", str(uid), f"({part})")
        if typ != "OK":
            raise imaplib.IMAP4.abort(f"UID FETCH {uid} failed: {_text(data)}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None  # expunged by someone else meanwhile

    def _one(self, conn: imaplib.IMAP4, uid: int, size: int) -> None:
        where = f"{self.mailbox} UID {uid}"
        raw = self._fetch(conn, uid, size)
        if raw is None:
            return
        if size > self.options.max_bytes:
            log.info("%s: %s bytes; reading only its first %s", where, f"{size:,}", f"{self.options.max_bytes:,}")
        error = None
        try:
            outcome = self.process(raw, where)
        except DROPPED:
            raise
        except Exception as err:  # a message or a bug must not stop the watcher
            outcome, error = None, err
        disposition, kind, detail = self._decide(outcome, error)
        self.stats.messages += 1
        self.stats.kinds[kind] += 1
        self.stats.dispositions[disposition.value] += 1
        if disposition is Disposition.RETRY:
            log.warning("%s: could not record it (%s); will try again at the next poll", where, detail)
            self.stats.problems.append(f"{where}: {detail}")
            return
        place = self._apply(uid, disposition)
        if disposition is Disposition.UNREADABLE:
            log.warning("%s: could not read message: %s; %s", where, detail, place)
            self.stats.problems.append(f"{where}: {detail}")
        else:
            log.info("%s: %s%s; %s", where, kind, f" ({detail})" if detail else "", place)

    def _decide(self, outcome: Any, error: Exception | None) -> tuple[Disposition, str, str]:
        if error is not None:
            if _is_database_error(error):
                return Disposition.RETRY, "retry", f"{type(error).__name__}: {error}".splitlines()[0]
            return Disposition.UNREADABLE, "unreadable", f"{type(error).__name__}: {error}".splitlines()[0]
        kind = outcome.kind
        disposition = DISPOSITIONS.get(kind, Disposition.OTHER)
        applied = list(outcome.applied)
        if disposition is Disposition.DONE and not applied:
            disposition = Disposition.OTHER  # a bounce naming nobody we could record: a person should look
        for a in applied:
            self.stats.blacklisted += bool(a.blacklisted)
            self.stats.errors_marked += a.status == "error"
        if disposition is Disposition.UNREADABLE:
            return disposition, kind, outcome.error or "unreadable"
        notes = []
        for a in applied[:5]:
            bits = []
            if a.duplicate:
                bits.append("already recorded")
            if a.status:
                bits.append(f"recipient {a.status}")
            if a.blacklisted:
                bits.append(f"blacklisted ({a.blacklisted})")
            if a.recipient_id is None and not a.duplicate:
                bits.append("no campaign recipient matched, event kept")
            notes.append(f"{a.email or '?'}: {', '.join(bits) or 'recorded'}")
        return disposition, kind, "; ".join(notes)

    # -- what becomes of a message ----------------------------------------------------------------
    # Moves and flags are queued and sent once per batch as UID sets: one MOVE for 500 messages costs
    # the server one fsync instead of 500. A drop before the flush only means those messages are read
    # again, and their events are duplicates that change nothing.
    def _apply(self, uid: int, disposition: Disposition) -> str:
        o = self.options
        if disposition is Disposition.DONE:
            if o.done_folder and self._can_move:
                self._queue(("move", o.done_folder), uid)
                return f"moved to {o.done_folder}"
            self._queue(("flag", f"\\Seen {KEYWORD_DONE}"), uid)
            return f"flagged \\Seen {KEYWORD_DONE}" if self._keywords else "flagged \\Seen"
        if disposition is Disposition.OTHER:
            if o.other_folder and self._can_move:
                self._queue(("move", o.other_folder), uid)
                return f"moved to {o.other_folder}"
            self._queue(("flag", KEYWORD_CHECKED), uid)
            return f"left in {self.mailbox.folder}"
        self._queue(("flag", KEYWORD_UNREADABLE), uid)
        return f"left in {self.mailbox.folder}, flagged {KEYWORD_UNREADABLE}"

    def _queue(self, action: tuple[str, str], uid: int) -> None:
        op, target = action
        if op == "flag" and not self._keywords:
            self._handled.add((self._uidvalidity, uid))  # remembered for this run instead
            target = " ".join(f for f in target.split() if f.startswith("\\"))
            if not target:
                return
        self._pending.setdefault((op, target), []).append(uid)

    def _flush(self, conn: imaplib.IMAP4) -> None:
        while self._pending:
            (op, target), uids = next(iter(self._pending.items()))
            uid_set = ",".join(map(str, uids))
            if op == "move":
                self._move(conn, uid_set, target)
            else:
                typ, data = conn.uid("STORE", uid_set, "+FLAGS.SILENT", f"({target})")
                if typ != "OK":
                    raise imaplib.IMAP4.abort(f"UID STORE {uid_set} failed: {_text(data)}")
            del self._pending[(op, target)]

    def _move(self, conn: imaplib.IMAP4, uid_set: str, folder: str) -> None:
        folder = self.server_name(folder)
        self._ensure_folder(conn, folder)
        if "MOVE" in self._capabilities:
            typ, data = conn.uid("MOVE", uid_set, quote(folder))
        else:  # UIDPLUS: COPY, then expunge exactly these UIDs (never someone else's \Deleted messages)
            typ, data = conn.uid("COPY", uid_set, quote(folder))
            if typ == "OK":
                conn.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)")
                typ, data = conn.uid("EXPUNGE", uid_set)
        if typ != "OK":
            raise imaplib.IMAP4.abort(f"moving UID {uid_set} to {folder} failed: {_text(data)}")

    def server_name(self, folder: str) -> str:
        """The operator writes sub-folders with '/'; the server may separate them with '.' (Maildir++)."""
        return folder.replace("/", self._delimiter) if self._delimiter else folder

    def _ensure_folder(self, conn: imaplib.IMAP4, folder: str) -> None:
        if folder in self._folders:
            return
        typ, data = conn.list('""', quote(folder))
        if typ != "OK" or not [d for d in data if d]:
            typ, data = conn.create(quote(folder))
            if typ != "OK" and "ALREADYEXISTS" not in _text(data).upper():
                raise UserError(f"{self.mailbox}: cannot create folder {folder!r} ({_text(data)})")
            conn.subscribe(quote(folder))
            log.info("%s: created folder %s", self.mailbox, folder)
        self._folders.add(folder)

    # -- the loop ---------------------------------------------------------------------------------
    def run(
        self,
        interval: float = 60.0,
        *,
        once: bool = False,
        stop: threading.Event | None = None,
        max_failures: int | None = None,
        backoff_start: float = BACKOFF_START,
    ) -> WatchStats:
        """Poll until `stop` is set (or one complete pass with `once`); reconnect after drops with back-off.

        `max_failures` consecutive failed attempts end the run with a UserError (None: keep trying).
        """
        stop = self._stop = stop or threading.Event()
        failures, backoff = 0, backoff_start
        while not stop.is_set():
            connected = self.conn is not None
            try:
                self.poll()
            except RECOVERABLE as err:
                self.close()
                failures += 1
                self.stats.drops += 1
                if max_failures is not None and failures >= max_failures:
                    raise UserError(
                        f"{self.mailbox}: connection failed {failures} times, last: {_reason(err)}"
                    ) from None
                what = (
                    "cannot connect"
                    if not connected
                    else "connection lost"
                    if isinstance(err, DROPPED)
                    else "server error"
                )
                log.warning("%s: %s (%s); trying again in %g s", self.mailbox, what, _reason(err), backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            failures, backoff = 0, backoff_start
            if once:
                break
            stop.wait(interval)
        self.close()
        return self.stats


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except Exception:  # already gone is fine
        with contextlib.suppress(Exception):
            conn.shutdown()


def _delimiter(conn: imaplib.IMAP4) -> str:
    """The hierarchy delimiter from LIST "" "" (e.g. '(\\Noselect) "." ""'); '/' when the server is vague."""
    typ, data = conn.list('""', '""')
    found = re.search(r'\)\s+"((?:\\.|[^"])*)"', _text(data)) if typ == "OK" else None
    return found.group(1).replace("\\\\", "\\") if found else "/"


def _text(data: Any) -> str:
    if not data:
        return ""
    items = data if isinstance(data, list) else [data]
    return " ".join(i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items if i is not None)


def _reason(err: BaseException) -> str:
    if isinstance(err, imaplib.IMAP4.error) and err.args:
        return _text(list(err.args))
    return str(err) or type(err).__name__


def _is_database_error(err: Exception) -> bool:
    try:
        from sqlalchemy.exc import DBAPIError, OperationalError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(err, (OperationalError, DBAPIError))


def ingest_processor(engine: Any, settings: Any) -> Processor:
    """The real processor: ingest.process on the installation's database, the HMAC secret read once."""
    from sendwell.bounces import ingest
    from sendwell.keys import app_secret

    secret = app_secret(engine, settings)
    return lambda raw, source: ingest.process(engine, settings, raw, source, secret)


# The host of the mailbox the watcher reads, noted in the `state` table when it starts: where bounces are read,
# for the set-up check to compare with the bounce domain's MX when no setting says it ([bounces] mx_host).
READER_KEY = "bounce_reader"


def note_reader(engine: Any, host: str) -> None:
    from sendwell.db.engine import utcnow
    from sendwell.sending.usage import set_state

    with engine.begin() as conn:
        set_state(conn, READER_KEY, {"host": host}, utcnow())


def noted_reader(engine: Any) -> str | None:
    """The host of the mailbox the watcher last read, or None when it never ran."""
    import json

    from sqlalchemy import select

    from sendwell.db.schema import state

    with engine.connect() as conn:
        value = conn.execute(select(state.c.value).where(state.c.key == READER_KEY)).scalar()
    return json.loads(value).get("host") if value else None
