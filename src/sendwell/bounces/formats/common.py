"""What most plain-text formats share: a signature, the lines between which failed addresses are listed, hints."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendwell.bounces import scan
from sendwell.bounces import text as T
from sendwell.bounces.found import Mail, Partial
from sendwell.bounces.report import Reason

FLAGS = re.IGNORECASE | re.MULTILINE


@dataclass(frozen=True)
class TextFormat:
    """A bounce format told by its words: recognized by `sign`, its failed addresses listed after `start`
    (or anywhere) and before `end` (or the end of the bounce's own text)."""

    name: str
    sign: re.Pattern[str]  # lower-case pattern, searched in Mail.head (sender, subject, start of the body)
    start: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    hints: tuple[tuple[re.Pattern[str], Reason], ...] = ()  # the format's own phrases that name the reason

    def __post_init__(self) -> None:
        object.__setattr__(self, "_words", T.required_words(self.sign.pattern))

    def signed(self, mail: Mail) -> bool:
        head = mail.head
        words = self._words  # type: ignore[attr-defined]
        if words is not None and not any(w in head for w in words):
            return False
        return self.sign.search(head) is not None

    def detect(self, mail: Mail) -> Partial | None:
        body = mail.body
        if not self.signed(mail):
            return None
        region = body
        if self.start is not None:
            m = self.start.search(region)
            if m is not None:
                region = region[m.end() :]
        if self.end is not None:
            m = self.end.search(region)
            if m is not None:
                region = region[: m.start()]
        hits = scan.scan(region, set(mail.own_addresses))
        if not hits:
            return None
        for hit in hits:
            text = hit.diagnostic.lower()
            for pattern, reason in self.hints:
                if pattern.search(text):
                    hit.reason = reason
                    break
        return Partial(format=self.name, hits=hits, context=region, original=mail.original)


def rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, FLAGS)


def sign(pattern: str) -> re.Pattern[str]:
    """A signature pattern: written in lower case, matched on lower-cased text (much faster than IGNORECASE)."""
    return re.compile(pattern, re.MULTILINE)
