"""Errors meant for people: the message names the input at fault and what to do."""


class UserError(Exception):
    """A mistake in the user's input or request; shown as one line, never as a traceback."""


class NotFound(UserError):
    """A named thing (campaign, segment, address) does not exist."""
