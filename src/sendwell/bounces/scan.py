"""The plain-text fallback: find failed addresses in a bounce's own words and the lines that explain each."""

from __future__ import annotations

import re

from sendwell.bounces import text as T
from sendwell.bounces.found import Hit

# An address in these contexts is the sender or a header of ours, never a failed recipient.
_SENDER_CONTEXT = re.compile(
    r"(mail from:?|envelope-from|^\s*from:|^sender:|^return-path:|^reply-to:|"
    r"smtp\.mailfrom=|header\.from=|sent by|sender address)\s*\S*\s*<?$",
    re.IGNORECASE,
)
# An address in a header line of a quoted message is skipped where it stands (it may be the recipient elsewhere).
_HEADER_CONTEXT = re.compile(
    r"^(message-id|in-reply-to|references|x-[\w-]+|to|cc|date|subject|received)\s*:", re.IGNORECASE
)
# Exim names the address a failed one was expanded from (an alias, a forward) right under it.
_ALIAS_CONTEXT = re.compile(r"generated from:?\s*<?$", re.IGNORECASE)
_ALIAS = re.compile(r"generated from:?\s*<?([^\s<>()]+@[^\s<>()]+?)>?\)?\s*$", re.IGNORECASE | re.MULTILINE)
MAX_BLOCK_LINES = 14
# Sendmail's summary line for one recipient or host: "554 <a@example.org>... Remote protocol error",
# "550 example.org (smtp)... 550 Host unknown".
_SUMMARY = re.compile(r"^\s*[245]\d\d[ -]\S[^\n]*?\.\.\.(\s|$)")


def _is_sender_context(line: str, start: int) -> bool:
    return bool(_SENDER_CONTEXT.search(line[:start]))


def occurrences(body: str, exclude: set[str]) -> list[tuple[int, str]]:
    """(line number, address) for every mention of a possible recipient."""
    found: list[tuple[int, str]] = []
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if "@" not in line:
            continue
        for m in T.ADDRESS.finditer(line):
            addr = m.group(0).strip(".-'").lower()
            local, _, domain = addr.partition("@")
            if not local or "." not in domain or addr in exclude or T.NOT_RECIPIENT.match(addr):
                continue
            if _ALIAS_CONTEXT.search(line[: m.start()]):
                continue  # the address we sent to, which forwarded to the failed one: kept as original_recipient
            if _is_sender_context(line, m.start()):
                exclude.add(addr)
                continue
            if _HEADER_CONTEXT.match(line):
                continue
            before = line[max(0, m.start() - 10) : m.start()].lower()
            if "://" in line[: m.start()] and " " not in line[line.rfind("://", 0, m.start()) : m.start()]:
                continue  # inside a URL
            if before.endswith(("msgid=", "id=<", "id <")):
                continue
            found.append((i, addr))
    return [(i, a) for i, a in found if a not in exclude]


def explain(lines: list[str], lead: bool = False) -> str:
    """The lines of a block that carry an SMTP answer (with their continuations), else the whole block.

    With `lead`, only the two lines before the answer are kept (the block is a whole bounce, not one recipient's).
    """
    keep: list[str] = []
    for i, line in enumerate(lines):
        if T.SMTP_REPLY.search(line) or T.ENHANCED.search(line):
            first = max(0, i - 2) if lead else 0
            keep.extend(x.strip() for x in lines[first : i + 4] if x.strip() and not T.ADDRESS.fullmatch(x.strip()))
            break
    text = " ".join(keep) if keep else " ".join(x.strip() for x in lines if x.strip())
    return text[:1000]


def scan(body: str, exclude: set[str]) -> list[Hit]:
    """One Hit per failed address found in the text, with the lines after each mention as its diagnostic."""
    occ = occurrences(body, exclude)
    if not occ:
        return []
    lines = body.split("\n")
    blocks: dict[str, list[str]] = {}
    before: dict[str, list[str]] = {}
    prefixes: dict[str, list[str]] = {}  # what precedes the address on its own lines (">>> RCPT To:<")
    previous = -1
    for k, (i, addr) in enumerate(occ):
        end = len(lines)
        for j, other in occ[k + 1 :]:
            if other != addr and j > i:
                end = j
                break
        end = min(end, i + MAX_BLOCK_LINES)
        block = list(lines[i:end])
        if block:  # the address line itself: keep only what follows the address
            first = block[0]
            pos = first.lower().find(addr)
            if pos >= 0 and _SUMMARY.match(first):
                # The recipient's own summary line: the next summary line is another recipient's or host's.
                cut = next(
                    (n for n in range(1, len(block)) if _SUMMARY.match(block[n]) and addr not in block[n].lower()), 0
                )
                block = block[:cut] if cut else block
            block[0] = first[pos + len(addr) :].lstrip(">:;,) \t") if pos >= 0 else first
            # Some MTAs put the error first ("User mailbox exceeds allowed size: addr").
            lead = [x for x in lines[max(previous + 1, i - 3) : i] if x.strip()]
            lead.append(first[:pos] if pos >= 0 else "")
            if pos > 0 and len(prefixes.setdefault(addr, [])) < MAX_BLOCK_LINES:
                prefixes[addr].append(first[:pos])
            if len(before.setdefault(addr, [])) < MAX_BLOCK_LINES:  # an address repeated 1,000 times
                before[addr].extend(lead)  # must not make the text grow with it
        previous = i
        if len(blocks.setdefault(addr, [])) < 2 * MAX_BLOCK_LINES:
            blocks[addr].extend(block)
    hits = []
    for addr, block in blocks.items():
        diag = explain(block)
        if not T.SMTP_REPLY.search(diag) and not T.ENHANCED.search(diag):
            lead_text = " ".join(x.strip() for x in before.get(addr, []) if x.strip())
            diag = (lead_text[-1000:] + " " + diag)[:2000]
        alias = _ALIAS.search("\n".join(block[:3]))
        hits.append(
            Hit(
                address=addr,
                diagnostic=diag,
                status=T.enhanced_status(diag),
                # The command named after the address, else on its own line before it (a transcript's
                # ">>> RCPT To:<addr>"), not the first one the whole bounce names (another host's, maybe).
                command=T.smtp_command(" ".join(block)) or T.smtp_command(" ".join(prefixes.get(addr, []))),
                original_recipient=T.clean_address(alias.group(1)) if alias else "",
            )
        )
    return hits
