"""Primal quality and speed of the heuristic alone on real places (pickled PlaceProblems).

Usage::

    PYTHONPATH=src python benchmarks/bench_heuristic.py [--problems /tmp/exp/london.pkl] [--places E09000012 ...]
        [--restarts 4] [--runs 1] [--seed 0] [--baseline] [--json out.json]
    PYTHONPATH=src python benchmarks/bench_heuristic.py --synthetic 150 250 500 [--hubs] [--baseline]

``--problems`` is a pickle of a dict place_code -> :class:`footprint.problem.PlaceProblem` (for London, made by
``validate_scenario(load_scenario("configs/london.yaml")).problems``). For each place it runs
:func:`footprint.heuristic.solve_heuristic` and prints LSOAs, k, the weighted objective and the seconds taken; with
``--baseline`` it also runs the heuristic without recombination (``recombine=0``) and prints both objectives and
the relative change. ``--runs`` is ``solve_heuristic``'s independent runs (``solve_place`` gives 3 at 60 s).
Seconds are the process's CPU seconds (steadier than wall time on a shared machine; the heuristic is
single-threaded). Every plan is re-checked with :func:`check_plan` and re-priced with :func:`evaluate_terms`.
A summary line gives the median and worst relative change and total seconds. ``--synthetic`` uses
the synthetic LSOA-like places of ``bench_solver.py`` (access only; ``--hubs``: 2 k_min hub candidates) instead. ``REFERENCE`` holds GerryChain
ReCom's objective (spanning-tree recombination with short bursts) on some places, printed alongside. The machine
may be shared: compare seconds within one run.
"""

from __future__ import annotations

import argparse
import inspect
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

from footprint.heuristic import check_plan, solve_heuristic
from footprint.objective import evaluate_terms, weighted_objective

# GerryChain ReCom (short bursts) objective on these London places, lower is better.
REFERENCE = {
    "E09000012": 1.282,
    "E09000023": 1.410,
    "E09000031": 1.257,
    "E09000014": 1.378,
    "E09000017": 1.136,
    "E09000032": 1.290,
    "E09000029": 1.255,
    "E09000013": 1.246,
}


def run(problem, *, seed: int, restarts: int, **extra) -> tuple[float, int, float]:
    """(objective, k, CPU seconds) of one heuristic run; the plan must pass check_plan."""
    start = time.process_time()
    result = solve_heuristic(problem, seed=seed, restarts=restarts, **extra)
    seconds = time.process_time() - start
    if result is None:
        return float("nan"), 0, seconds
    broken = check_plan(problem, result.assignment)
    if broken:
        raise SystemExit(f"{problem.place_code}: invalid plan: {broken}")
    value = weighted_objective(problem, evaluate_terms(problem, result.assignment))
    assert abs(value - result.objective) < 1e-9, (value, result.objective)
    return value, result.k, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", default="/tmp/exp/london.pkl")
    parser.add_argument("--places", nargs="*", help="place codes (default: all)")
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1, help="independent runs (solve_heuristic's runs)")
    parser.add_argument("--baseline", action="store_true", help="also run without recombination")
    parser.add_argument("--json", help="write per-place results here")
    parser.add_argument("--synthetic", type=int, nargs="*", help="synthetic places of these sizes instead")
    parser.add_argument("--hubs", action="store_true", help="synthetic places with hub candidates")
    args = parser.parse_args(argv)
    if args.synthetic:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_solver import build_synthetic_place

        built = [build_synthetic_place(n, seed=args.seed + 1, hubs=args.hubs) for n in args.synthetic]
        problems = {problem.place_code: problem for problem in built}
    else:
        with open(args.problems, "rb") as handle:
            problems = pickle.load(handle)
    places = args.places or list(problems)
    has_switch = "recombine" in inspect.signature(solve_heuristic).parameters
    rows = []
    header = f"{'place':10} {'name':24} {'n':>4} {'k':>3} {'objective':>9} {'s':>6}"
    if args.baseline:
        header += f" {'baseline':>9} {'base s':>6} {'change':>7}"
    header += f" {'ReCom':>6}"
    print(header)
    for code in places:
        problem = problems[code]
        value, k, seconds = run(problem, seed=args.seed, restarts=args.restarts, runs=args.runs)
        row = {"place": code, "n": problem.n_units, "k": k, "objective": value, "seconds": seconds}
        line = (
            f"{code:10} {problem.place_name[:24]:24} {problem.n_units:4d} {k:3d} {value:9.4f} {seconds:6.2f}"
        )
        if args.baseline:
            extra = {"recombine": 0} if has_switch else {}
            base, _, base_seconds = run(
                problem, seed=args.seed, restarts=args.restarts, runs=args.runs, **extra
            )
            row.update(baseline=base, baseline_seconds=base_seconds, change=(value - base) / base)
            line += f" {base:9.4f} {base_seconds:6.2f} {100 * row['change']:+6.2f}%"
        reference = REFERENCE.get(code)
        if reference is not None:
            row["recom"] = reference
            line += f" {reference:6.3f}" + (" beat" if value <= reference + 5e-4 else " LOST")
        print(line, flush=True)
        rows.append(row)
    total = sum(r["seconds"] for r in rows)
    summary = (
        f"places {len(rows)}  heuristic seconds total {total:.1f} max {max(r['seconds'] for r in rows):.2f}"
    )
    if args.baseline:
        changes = [r["change"] for r in rows]
        summary += (
            f"  baseline seconds total {sum(r['baseline_seconds'] for r in rows):.1f}"
            f"  change median {100 * statistics.median(changes):+.2f}% best {100 * min(changes):+.2f}%"
            f" worst {100 * max(changes):+.2f}%"
        )
    referenced = [r for r in rows if "recom" in r]
    if referenced:
        matched = sum(r["objective"] <= r["recom"] + 5e-4 for r in referenced)
        summary += f"  ReCom matched or beaten {matched}/{len(referenced)}"
    print(summary)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
