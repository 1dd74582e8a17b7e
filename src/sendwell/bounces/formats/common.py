"""What most plain-text formats share: a signature, the lines between which failed addresses are listed, hints."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendwell.bounces import scan
from sendwell.bounces.found import Mail, Partial
from sendwell.bounces.report import Reason

FLAGS = re.IGNORECASE | re.MULTILINE


@dataclass(frozen=True)
class TextFormat:
    """A bounce format told by its words: recognized by `sign`, its failed addresses listed after `start`
    (or anywhere) and before `end` (or the end of the bounce's own text)."""

    name: str
    sign: re.Pattern[str]  # searched in "sender\nsubject\n" + the start of the body
    start: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    hints: tuple[tuple[re.Pattern[str], Reason], ...] = ()  # the format's own phrases that name the reason

    def detect(self, mail: Mail) -> Partial | None:
        body = mail.body
        if not self.sign.search(f"{mail.sender}\n{mail.subject}\n{body[:3000]}"):
            return None
        region = body
        if self.start is not None:
            m = self.start.search(region)
            if m is not None:
                region = region[m.end():]
        if self.end is not None:
            m = self.end.search(region)
            if m is not None:
                region = region[:m.start()]
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
