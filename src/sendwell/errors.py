"""Errors meant for people: the message names the input at fault and what to do.

A service names the input by its field (`subject`, `from_addr`, `statuses`: the names the API and the forms use)
and a next step by a `Hint`; it never names a command-line flag or command. Each front end says them its own way:
the CLI as `--subject` and a command line, the API as a JSON field and pointer, the web UI by outlining the field.
"""

from __future__ import annotations

from enum import StrEnum


class Hint(StrEnum):
    """A next step the message points to; the value is how a front end without commands says it."""

    LIST_CAMPAIGNS = "list the campaigns"
    LIST_SEGMENTS = "list the segments"
    LIST_TEMPLATES = "list the templates"
    LIST_TOKENS = "list the tokens"
    LIST_USERS = "list the users"
    LIST_DKIM_KEYS = "list the DKIM keys"
    RESUME_CAMPAIGN = "resume the campaign"
    RESUME_SENDING = "resume sending"
    RUN_WORKER = "run the sending worker"
    CREATE_USER = "create the user"
    CHANGE_PASSWORD = "change the user's password"
    GENERATE_DKIM_KEY = "generate a DKIM key"
    SHOW_DKIM_RECORD = "show the key's DKIM record"
    ACTIVATE_DKIM_KEY = "activate the DKIM key"
    INGEST_BOUNCES = "read bounces from the mailbox"
    VERIFY_OFFLINE = "verify the list from the command line"


class UserError(Exception):
    """A mistake in the user's input or request; shown as one line, never as a traceback.

    `field` is the input at fault (None when the message is about the request as a whole); front ends put its name
    before the message unless `named` says the message already names the input (a file and line, an address).
    `hint` is the next step and `target` the name it acts on (the campaign to resume, the domain to sign for).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        named: bool = False,
        hint: Hint | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.named = named
        self.hint = hint
        self.target = target

    def __str__(self) -> str:
        return self.message if self.named or not self.field else f"{self.field}: {self.message}"

    def blamed_on(self, field: str) -> UserError:
        """The same error, as read, attributed to `field` (a front end knows which of its inputs a service read)."""
        return type(self)(str(self), field=field, named=True, hint=self.hint, target=self.target)


class NotFound(UserError):
    """A named thing (campaign, segment, address) does not exist."""
