"""`sendwell bounces classify`'s work: one JSON line per message file, importing only the classifier.

Given many files on a machine with several cores, the list is split into contiguous chunks classified
by forked workers (the classifier is pure and already imported, so a fork costs a millisecond); their
lines are written in input order, as one process would have written them.
"""

from __future__ import annotations

import json
import os
import sys

# The classifier's start-up is paid by every run of `sendwell bounces classify`: `typing` (a few ms) is
# imported for the type checker only (mypy reads TYPE_CHECKING by name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

# Below this many files a second process costs more than it saves.
PARALLEL_FROM = 200


def classify_files(paths: list[str], details: bool = False, out: TextIO | None = None) -> int:
    """Classify each file (paths, else one path per line on stdin); returns non-zero when one could not be read."""
    from sendwell.bounces.classify import classify  # noqa: F401  (imported before any fork)

    out = out or sys.stdout
    names = [p for p in paths if p] if paths else [line.strip() for line in sys.stdin if line.strip()]
    workers = min(os.cpu_count() or 1, 4, -(-len(names) // PARALLEL_FROM))
    if workers > 1 and hasattr(os, "fork") and out is sys.stdout:
        return _forked(names, details, workers)
    failed = _classify_into(names, details, out)
    out.flush()
    return failed


def _classify_into(names: list[str], details: bool, out: TextIO) -> int:
    from sendwell.bounces.classify import classify

    encode = json.JSONEncoder(ensure_ascii=False).encode
    failed = 0
    lines: list[str] = []
    for name in names:
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except OSError as err:
            failed += 1
            sys.stderr.write(f"error: {name}: cannot read ({err.strerror})\n")
            continue
        data = classify(raw).as_dict()
        line = {
            "file": name,
            "kind": data["kind"],
            "recipients": data["recipients"],
            "status": data["status"],
            "reason": data["reason"],
            "hard": data["hard"],
        }
        if data["feedback_type"]:
            line["feedback_type"] = data["feedback_type"]
        if details:
            line["format"] = data["format"]
            line["details"] = data["details"]
            line["original"] = data["original"]
        lines.append(encode(line) + "\n")
        if len(lines) >= 256:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))
    return failed


def _forked(names: list[str], details: bool, workers: int) -> int:
    """Each worker classifies a contiguous chunk into its own pipe; the parent copies the pipes out in order."""
    size = -(-len(names) // workers)
    children: list[tuple[int, int]] = []
    sys.stdout.flush()
    for k in range(workers):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            os.close(read_fd)
            status = 0
            try:
                with os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
                    status = min(_classify_into(names[k * size : (k + 1) * size], details, pipe), 1)
            except BaseException:  # a broken pipe (reader gone) or anything else: report failure, quietly
                status = 2
            finally:
                os._exit(status)
        os.close(write_fd)
        children.append((pid, read_fd))
    failed = 0
    out = sys.stdout.buffer
    for pid, read_fd in children:
        with os.fdopen(read_fd, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                out.write(chunk)
        _, status = os.waitpid(pid, 0)
        failed += os.waitstatus_to_exitcode(status) != 0
    out.flush()
    return failed
