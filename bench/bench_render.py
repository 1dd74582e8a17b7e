"""CPU per message of rendering one recipient's message (`PreparedCampaign.render`), this tree against a git ref.

The campaign, contacts and settings are bench_sending.py's target row: its ≈10 KB HTML + text template
(five merge fields, a condition, a loop), its contacts (a third in Köln: base64 bodies and an encoded
Subject), secret "bench", the default bounce domain (not reachable: the mailto: goes to the From
address) and no public URL. The reference's `sending/message.py` and `sending/verp.py` are read with
`git show REF:…` and loaded beside this tree's, and the two render in turns, so a busy shared machine
slows both alike; each round renders `--recipients` messages, and the table shows the median of
`--rounds` rounds of CPU time (time.process_time) per message, each message rendered as the sending loop
does (render.Builder.render). Both render the same bytes once their random parts (MIME boundary,
Message-ID) are seeded alike, which the bench checks on the first 60 recipients. Writes
bench/results/render.json.

    .venv/bin/python bench/bench_render.py [--ref main] [--recipients 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import random
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sending import FROM, HTML, SUBJECT, TEXT, contact_fields
from common import load, report

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, source: str, **injected: types.ModuleType) -> types.ModuleType:
    """A module from source text, its `from sendwell.sending import verp` bound to `injected` modules."""
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class body runs
    for alias, mod in injected.items():
        source = source.replace(f"from sendwell.sending import {alias}\n", f"import {mod.__name__} as {alias}\n")
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def reference(ref: str) -> types.ModuleType:
    """`sendwell.sending.message` as it is at `ref` (with that ref's verp.py)."""

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    verp = _load("ref_verp", show("src/sendwell/sending/verp.py"))
    return _load("ref_message", show("src/sendwell/sending/message.py"), verp=verp)


def prepare(module: types.ModuleType):
    random.seed(0)  # the MIME boundary is random: the same for both
    content = module.CampaignContent(1, SUBJECT, FROM, HTML, TEXT)
    return module.PreparedCampaign(content, module.Links("bench", "bounces.localhost.localdomain"))


def renderer(module: types.ModuleType, prepared):
    """The call the sending loop makes (render.Builder.render): render_fields where the code has it, else
    render(Personal(...))."""
    if hasattr(prepared, "render_fields"):
        return prepared.render_fields
    personal = module.Personal
    return lambda rid, email, fields: prepared.render(personal(rid, email, fields))


def one_round(module: types.ModuleType, prepared, people: list) -> float:
    """CPU µs per message over the recipients."""
    render = renderer(module, prepared)
    gc.collect()
    start = time.process_time()
    for rid, email, fields in people:
        render(rid, email, fields)
    return (time.process_time() - start) / len(people) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", default="main", help="git ref to compare with (default: main)")
    ap.add_argument("--recipients", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()

    from sendwell.sending import message as current

    modules = {args.ref: reference(args.ref), "this tree": current}
    prepared = {label: prepare(m) for label, m in modules.items()}
    people = [(i + 1, f"r{i}@bench.example", contact_fields(i)) for i in range(args.recipients)]
    for i in range(60):  # the same bytes, the Message-ID's random part aside (same seed for both)
        out = []
        for label, m in modules.items():
            random.seed(i)
            out.append(renderer(m, prepared[label])(*people[i]).data)
        assert out[0] == out[1], f"recipient {i}: this tree renders other bytes than {args.ref}"

    print(
        f"render CPU per message: {args.recipients:,} recipients a round, {args.rounds} rounds in turns; load {load()}"
    )
    times: dict[str, list[float]] = {label: [] for label in modules}
    for _ in range(args.rounds):
        for label, m in modules.items():
            times[label].append(one_round(m, prepared[label], people))
    rows = [
        {"code": label, "median µs": statistics.median(t), "min µs": min(t), "max µs": max(t)}
        for label, t in times.items()
    ]
    base = rows[0]["median µs"]
    for r in rows:
        r["vs ref"] = r["median µs"] / base
    report("render", rows, ["code", "median µs", "min µs", "max µs", "vs ref"], {"args": vars(args)})


if __name__ == "__main__":
    main()
