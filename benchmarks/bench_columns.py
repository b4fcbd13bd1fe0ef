"""Column generation against the per-unit MIP on real places: plan, bound and gap per place and method.

Usage::

    python benchmarks/bench_columns.py [--config configs/london.yaml] [--places E09000021 ...]
        [--methods auto columns exact] [--time-limit 60] [--counted] [--json out.jsonl]

Builds each place's :class:`footprint.problem.PlaceProblem` from the scenario (``validate_scenario``) and solves it
with :func:`footprint.solve.solve_place` once per method, one place at a time in this process (so two runs of this
script can share a 2-core machine). Prints one line per place and method: LSOAs, centres, status, objective,
bound, gap, wall seconds and the column-generation counts (columns, master LPs, exact pricing passes); with
``--json`` also writes one JSON object per line. A closing line per method gives the median and worst gap and the
total wall time. Wall times depend on the machine and its load: compare methods within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from footprint.config import load_scenario
from footprint.solve import SolveOptions, solve_place
from footprint.validate import validate_scenario

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "london.yaml"))
    parser.add_argument("--places", nargs="*", help="place codes (default: all)")
    parser.add_argument("--methods", nargs="+", default=["auto", "columns"])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument(
        "--runs", type=int, default=SolveOptions().heuristic_runs, help="solver.heuristic_runs"
    )
    parser.add_argument(
        "--counted", action="store_true", help="solver.counted: counts, not the clock, stop every stage"
    )
    parser.add_argument("--json", help="append one JSON line per place and method here")
    args = parser.parse_args(argv)
    problems = validate_scenario(load_scenario(args.config)).problems
    places = args.places or sorted(problems)
    rows: dict[str, list[dict]] = {method: [] for method in args.methods}
    print(
        f"{'place':10} {'name':22} {'n':>4} {'m':>3} {'method':8} {'status':9} {'objective':>9} {'bound':>9} "
        f"{'gap %':>6} {'s':>6}  columns/LPs/exact"
    )
    for code in places:
        problem = problems[code]
        for method in args.methods:
            options = SolveOptions(
                method=method, time_limit=args.time_limit, heuristic_runs=args.runs, counted=args.counted
            )
            clock = time.perf_counter()
            solution = solve_place(problem, options)
            wall = time.perf_counter() - clock
            row = {
                "place": code,
                "name": problem.place_name,
                "n": problem.n_units,
                "centres": problem.n_centres,
                "method": method,
                "status": solution.status,
                "objective": solution.objective,
                "bound": solution.bound,
                "gap": solution.gap,
                "wall": wall,
                "how": solution.method,
                "seconds": solution.seconds,
                "model": solution.model,
            }
            rows[method].append(row)
            model = solution.model
            counts = f"{model.get('columns', 0)}/{model.get('column_rounds', 0)}/{model.get('exact_pricing_passes', 0)}"
            print(
                f"{code:10} {problem.place_name[:22]:22} {problem.n_units:4d} {problem.n_centres:3d} {method:8} "
                f"{solution.status:9} {solution.objective:9.5f} {solution.bound:9.5f} {100 * solution.gap:6.2f} "
                f"{wall:6.1f}  {counts}",
                flush=True,
            )
            if args.json:
                with open(args.json, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(row) + "\n")
    for method, done in rows.items():
        gaps = [r["gap"] for r in done if r["gap"] == r["gap"]]
        if gaps:
            print(
                f"{method}: places {len(done)}, median gap {100 * statistics.median(gaps):.2f}%, worst "
                f"{100 * max(gaps):.2f}%, within 2% {sum(g <= 0.02 for g in gaps)}, wall {sum(r['wall'] for r in done):.0f} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
