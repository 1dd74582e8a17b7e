"""How well the bounce rules generalise: the shared corpus scored with every format module, with none (the
generic path alone), and leave-one-out per module. Skips (exit 0) when ../shared/bounces is absent.

    python bench/bench_bounce_generalisation.py [--corpus ../shared/bounces]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sendwell.bounces import evaluate

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "bounces"))
    args, _ = ap.parse_known_args()  # bench/run.py passes every benchmark the same arguments
    corpus = Path(args.corpus)
    if not (corpus / "expected.jsonl").is_file():
        print(f"skipped: no labelled bounce corpus at {corpus}")
        return
    cases = evaluate.load(corpus)
    print(f"corpus: {corpus}")
    print("                       n  recip   hard  reason")
    print(f"all formats         {evaluate.score(cases).row()}")
    print(f"generic path only   {evaluate.score(cases, ()).row()}")
    print("\nleave one out: the emails a module recognises, with it / without it")
    print("module            n  recip   hard  reason  |  n  recip   hard  reason (without)")
    for name, with_it, without in evaluate.leave_one_out(cases):
        print(f"{name:14s} {with_it.row()}  | {without.row()}")


if __name__ == "__main__":
    main()
