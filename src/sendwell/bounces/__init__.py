"""Bounces: classify returned mail (pure), later ingest it and act on it."""

from sendwell.bounces.classify import classify
from sendwell.bounces.report import BounceReport, FailedRecipient, MessageKind, OriginalMessage, Reason

__all__ = ["BounceReport", "FailedRecipient", "MessageKind", "OriginalMessage", "Reason", "classify"]
