"""The heuristic at another commit against the working tree: same plans? how much faster?

Usage::

    PYTHONPATH=src python benchmarks/ab_heuristic.py [--rev HEAD] [--problems /tmp/exp/london.pkl]
        [--places E09000011 ...] [--reps 2] [--restarts 4] [--runs 1] [--seed 0]

``src/footprint/heuristic.py`` as of ``--rev`` (``git show``) is loaded beside the working tree's, and each place
is solved by both, alternately, ``--reps`` times in this one process; a row gives each one's least CPU seconds,
the ratio, and whether the plans and objectives are identical (a speed-up meant to change nothing must show
``same`` on every place). Where they differ, the row gives both objectives and k and the change, and a closing
line counts the places better and worse (for a change meant to find better plans). Alternating in one process
and taking the least is what makes the ratio steady on a shared machine, where CPU seconds of runs made minutes
apart drift by 30% or more (the order alternates too, so neither version always runs first). ``--problems`` is a
pickle of place_code -> :class:`footprint.problem.PlaceProblem` (see ``bench_heuristic.py``). Exit 1 when any
plan differs.

Only ``heuristic.py`` is taken from ``--rev``: both versions import the working tree's other modules
(``footprint.problem``, ``footprint.objective``), so a change there is not compared. ``--rev HEAD`` (the default)
compares uncommitted work with the last commit; after committing, use ``--rev HEAD~1``.
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import footprint.heuristic as current

REPO = Path(__file__).resolve().parents[1]


def load_at(rev: str):
    """The heuristic module as of ``rev``, importable beside the current one."""
    source = subprocess.run(
        ["git", "show", f"{rev}:src/footprint/heuristic.py"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "heuristic_at_rev.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("heuristic_at_rev", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--problems", default="/tmp/exp/london.pkl")
    parser.add_argument("--places", nargs="*")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    before = load_at(args.rev)
    with open(args.problems, "rb") as handle:
        problems = pickle.load(handle)
    codes = args.places or sorted(problems)
    unknown = [code for code in codes if code not in problems]
    if unknown:
        raise SystemExit(f"{args.problems} has no place {', '.join(unknown)}")
    totals = {"rev": 0.0, "tree": 0.0}
    differ = 0
    changes: list[float] = []  # objective change in %, places whose plans differ
    print(f"{'place':10s} {'name':22s} {args.rev:>8s} {'tree':>8s} {'ratio':>6s}  plans")
    for code in codes:
        problem = problems[code]
        least = {"rev": np.inf, "tree": np.inf}
        results = {}
        for rep in range(args.reps):
            order = (("rev", before), ("tree", current))
            for name, module in order if rep % 2 == 0 else order[::-1]:
                started = time.process_time()
                results[name] = module.solve_heuristic(
                    problem, seed=args.seed, restarts=args.restarts, runs=args.runs
                )
                least[name] = min(least[name], time.process_time() - started)
        a, b = results["rev"], results["tree"]
        same = (a is None and b is None) or (
            a is not None
            and b is not None
            and a.objective == b.objective
            and np.array_equal(a.assignment, b.assignment)
        )
        differ += not same
        for name in totals:
            totals[name] += least[name]
        detail = ""
        if not same and a is not None and b is not None:
            change = 100 * (b.objective / a.objective - 1)
            changes.append(change)
            detail = f"  {a.objective:.5f} (k={a.k}) -> {b.objective:.5f} (k={b.k})  {change:+.2f}%"
        elif not same:
            detail = f"  {'no plan' if a is None else f'{a.objective:.5f}'} -> {'no plan' if b is None else f'{b.objective:.5f}'}"
        print(
            f"{code:10s} {problem.place_name[:22]:22s} {least['rev']:8.2f} {least['tree']:8.2f} "
            f"{least['rev'] / least['tree']:6.2f}  {'same' if same else 'DIFFER'}{detail}",
            flush=True,
        )
    print(
        f"places {len(codes)}  {args.rev} {totals['rev']:.1f} s  tree {totals['tree']:.1f} s  "
        f"ratio {totals['rev'] / totals['tree']:.2f}  plans differ on {differ}"
    )
    if changes:
        print(
            f"objective (tree against {args.rev}): better on {sum(c < 0 for c in changes)}, worse on "
            f"{sum(c > 0 for c in changes)}, mean {sum(changes) / len(codes):+.3f}% over all {len(codes)} places, "
            f"best {min(changes):+.2f}%, worst {max(changes):+.2f}%"
        )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
