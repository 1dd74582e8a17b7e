"""Classify the shared bounce corpus repeated 20x: sendwell's classifier against flufl.bounce, in emails/s.

Two figures per tool: steady state inside one process (files read from disk, as a mailbox
scan does), and a whole run of a fresh process fed the repeated paths on stdin (process start
included: `sendwell bounces classify` for sendwell, the equivalent loop for flufl.bounce); for
sendwell also one pass of the corpus in a fresh process, as the scorer runs it (median of 5).
flufl.bounce is optional (`pip install flufl.bounce` in .venv); without it only sendwell is measured.
Skips (exit 0) when ../shared/bounces is absent.

    python bench/bench_bounces.py [--corpus ../shared/bounces] [--repeat 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report

ROOT = Path(__file__).resolve().parents[1]
FLUFL_LOOP = (
    "import sys, email\n"
    "from flufl.bounce import all_failures\n"
    "n = 0\n"
    "for line in sys.stdin:\n"
    "    with open(line.strip(), 'rb') as fh:\n"
    "        msg = email.message_from_binary_file(fh)\n"
    "    try:\n"
    "        all_failures(msg)\n"
    "    except Exception:\n"
    "        pass\n"
    "    n += 1\n"
    "print(n)\n"
)


def flufl_available() -> bool:
    try:
        import flufl.bounce  # noqa: F401
    except ImportError:
        return False
    return True


def in_process_sendwell(paths: list[str]) -> tuple[float, float]:
    from sendwell.bounces import classify

    t0, c0 = time.perf_counter(), time.process_time()
    for p in paths:
        with open(p, "rb") as fh:
            classify(fh.read())
    return time.perf_counter() - t0, time.process_time() - c0


def in_process_flufl(paths: list[str]) -> tuple[float, float]:
    import email

    from flufl.bounce import all_failures

    t0, c0 = time.perf_counter(), time.process_time()
    for p in paths:
        with open(p, "rb") as fh:
            msg = email.message_from_binary_file(fh)
        with contextlib.suppress(Exception):  # flufl.bounce raises on some malformed messages: count it as done
            all_failures(msg)
    return time.perf_counter() - t0, time.process_time() - c0


def whole_run(cmd: list[str], paths: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of a fresh process classifying the paths it reads on stdin."""
    import resource

    stdin = "".join(p + "\n" for p in paths)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, input=stdin, text=True, capture_output=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def row(tool: str, mode: str, n: int, wall: float, cpu: float) -> dict:
    # The machine is shared: CPU seconds are the steadier figure, wall seconds what a user waits.
    return {
        "tool": tool,
        "mode": mode,
        "emails": n,
        "wall s": wall,
        "emails/s (wall)": n / wall,
        "cpu s": cpu,
        "emails/s (cpu)": n / cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "bounces"))
    ap.add_argument("--repeat", type=int, default=20)
    args, _ = ap.parse_known_args()  # bench/run.py passes every benchmark the same arguments
    corpus = Path(args.corpus)
    files = sorted(str(p) for p in corpus.glob("*.eml")) if corpus.is_dir() else []
    if not files:
        print(f"skipped: no bounce corpus at {corpus} (it lives in ../shared/bounces beside the repository)")
        return
    paths = files * args.repeat
    n = len(paths)
    # Warm the page cache and the imports so both tools start from the same state.
    in_process_sendwell(files)
    tools = [("sendwell", in_process_sendwell)]
    have_flufl = flufl_available()
    if have_flufl:
        in_process_flufl(files)
        tools.append(("flufl.bounce", in_process_flufl))
    rows = []
    for name, fn in tools:
        wall, cpu = min(fn(paths) for _ in range(2))
        rows.append(row(name, "one process, steady state", n, wall, cpu))
    sendwell_cli = shutil.which("sendwell", path=str(Path(sys.executable).parent)) or shutil.which("sendwell")
    if sendwell_cli:
        rows.append(
            row(
                "sendwell",
                "`sendwell bounces classify`, start included",
                n,
                *whole_run([sendwell_cli, "bounces", "classify"], paths),
            )
        )
        # As the scorer runs it: one fresh process for one pass of the corpus (the figure); median of 5.
        runs = sorted((whole_run([sendwell_cli, "bounces", "classify"], files) for _ in range(5)), key=lambda r: r[0])
        rows.append(row("sendwell", "one pass, start included (median of 5)", len(files), *runs[2]))
    if have_flufl:
        rows.append(
            row("flufl.bounce", "python loop, start included", n, *whole_run([sys.executable, "-c", FLUFL_LOOP], paths))
        )
    else:
        print("flufl.bounce not installed: measuring sendwell only (pip install flufl.bounce to compare)")
    print(f"corpus: {corpus} ({len(files)} emails x {args.repeat}), {os.cpu_count()} cores")
    report("bounces", rows, ["tool", "mode", "emails", "wall s", "emails/s (wall)", "cpu s", "emails/s (cpu)"])


if __name__ == "__main__":
    main()
