"""What the pages call the model's statuses, kinds, states, reasons, verdicts, event types and hints: marked for
the catalogue here, written out in the reader's language by the templates' `status_name`, `kind_name`, and so on
for each table in TABLES (a value a table does not know is shown as it is)."""

from __future__ import annotations


def _(text: str) -> str:
    return text  # marks the string for extraction; render.py translates it when a page shows it


STATUS = {
    "queued": _("queued"),
    "sent": _("sent"),
    "deferred": _("deferred"),
    "error": _("error"),
    "failed": _("failed"),
    "skipped": _("skipped"),
    "read": _("read"),
    "clicked": _("clicked"),
}
KIND = {
    "recipient": _("address does not exist"),
    "mailbox_full": _("mailbox full"),
    "server": _("server or network"),
    "policy": _("refused by policy"),
    "throttled": _("throttled"),
    "blacklisted": _("on the black list"),
    "excluded": _("excluded"),
    "invalid": _("invalid address"),
    "other": _("other"),
}
STATE = {
    "draft": _("draft"),
    "scheduled": _("scheduled"),
    "sending": _("sending"),
    "paused": _("paused"),
    "done": _("done"),
    "finished": _("finished"),
    "cancelled": _("cancelled"),
}
REASON = {
    "manual": _("added by hand"),
    "hard_bounce": _("hard bounce"),
    "soft_bounce": _("repeated soft bounces"),
    "complaint": _("spam complaint"),
    "unsubscribe": _("unsubscribed"),
    "invalid": _("invalid address"),
}
VERDICT = {
    "valid": _("valid"),
    "risky": _("risky"),
    "invalid": _("invalid"),
    "unknown": _("unknown"),
    "unchecked": _("not verified"),
    "yes": _("yes"),
    "no": _("no"),
}
CHANGE = {"added": _("added"), "removed": _("removed")}  # a black-list history row's action
EVENT = {"bounce": _("bounce"), "complaint": _("complaint"), "unsubscribe": _("unsubscribe"), "deferral": _("deferral")}
# The next steps a service points to (errors.Hint's values), as a page without commands says them.
HINT = {
    "list the campaigns": _("list the campaigns"),
    "list the segments": _("list the segments"),
    "list the templates": _("list the templates"),
    "resume the campaign": _("resume the campaign"),
    "resume sending": _("resume sending"),
    "run the sending worker": _("run the sending worker"),
    "generate a DKIM key": _("generate a DKIM key"),
    "show the key's DKIM record": _("show the key's DKIM record"),
    "activate the DKIM key": _("activate the DKIM key"),
    "read bounces from the mailbox": _("read bounces from the mailbox"),
}
JOB = {"running": _("running"), "done": _("done"), "failed": _("failed"), "interrupted": _("interrupted")}  # a verification job's state
OPT_IN = {"single": _("single opt-in"), "double": _("double opt-in")}
TABLES = {
    "status_name": STATUS,
    "kind_name": KIND,
    "state_name": STATE,
    "reason_name": REASON,
    "verdict_name": VERDICT,
    "change_name": CHANGE,
    "event_name": EVENT,
    "opt_in_name": OPT_IN,
    "hint_name": HINT,
    "job_name": JOB,
}
