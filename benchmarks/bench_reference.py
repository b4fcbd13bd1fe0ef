"""Long reference runs: the best plan and bound known per London place, for target 2 of issue 19.

Usage::

    python benchmarks/bench_reference.py [--places E09000023 ...] [--time-limit 1200] [--runs 24]
        [--gap 0.001] [--seed 0] [--known benchmarks/best_known.json] [--json runs.jsonl] [--plans DIR]

Solves each place (``validate_scenario`` on ``--config``, then :func:`footprint.solve.solve_place` with method
auto) with a long time limit, more heuristic runs and a tighter gap than the default run, and records what it
proves in ``--known`` (``benchmarks/best_known.json``): a place's objective there is only ever lowered, and only
by a plan the independent verifier passes (:func:`footprint.plan.build_plan`, as ``footprint run`` writes plans); its
bound is only ever raised. Each run prints its plan, bound, wall and CPU seconds (the CPU seconds say how much of
the wall time it had: a run sharing the machine is weaker than its limit suggests). ``bench_london.py`` reads the
same file and says how far each default plan is above the best known.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import subprocess
import time
from pathlib import Path

from footprint.config import load_scenario
from footprint.plan import build_plan
from footprint.solve import SolveOptions, solve_place
from footprint.validate import validate_scenario

ROOT = Path(__file__).resolve().parent.parent
KNOWN = ROOT / "benchmarks" / "best_known.json"


def load_known(path: Path) -> dict:
    """The best-known record (``places``: code -> name, objective, bound, found_by, bound_by)."""
    return json.loads(path.read_text(encoding="utf-8"))


def save_known(path: Path, known: dict) -> None:
    """Write the record through a temporary file renamed into place (an interrupted run leaves the old one)."""
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "london.yaml"))
    parser.add_argument("--places", nargs="*", help="place codes (default: all, the largest gap known first)")
    parser.add_argument("--time-limit", type=float, default=1200.0)
    parser.add_argument("--runs", type=int, default=24, help="solver.heuristic_runs")
    parser.add_argument("--gap", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--known", default=str(KNOWN))
    parser.add_argument("--json", help="append one JSON line per place here")
    parser.add_argument(
        "--plans",
        help="write each plan better than the best known here, as PLACE.csv (lsoa_code, centre: the hub or LSOA "
        "that centres its neighbourhood), to start experiments from or compare with (not for the repository)",
    )
    args = parser.parse_args(argv)
    known_path = Path(args.known)
    known = load_known(known_path)
    validated = validate_scenario(load_scenario(args.config))
    problems = validated.problems

    def known_gap(code: str) -> float:
        entry = known["places"].get(code, {})
        return (entry.get("objective", math.inf) - entry.get("bound", -math.inf)) / entry.get(
            "objective", 1.0
        )

    places = args.places or sorted(problems, key=lambda code: (-known_gap(code), code))
    unknown = sorted(set(places) - set(problems))
    if unknown:
        parser.error(f"no such place in {args.config}: {', '.join(unknown)}")
    stamp = f"{_commit()}, {datetime.date.today().isoformat()}"
    how = (
        f"bench_reference.py --time-limit {args.time_limit:g} --runs {args.runs} --gap {args.gap:g} "
        f"--seed {args.seed} at {stamp}"
    )
    for code in places:
        problem = problems[code]
        options = SolveOptions(
            method="auto", time_limit=args.time_limit, heuristic_runs=args.runs, gap=args.gap, seed=args.seed
        )
        wall, cpu = time.perf_counter(), time.process_time()
        solution = solve_place(problem, options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        broken = ["no plan"]
        if solution.assignment is not None:
            plan = build_plan(validated.dataset, validated.graph, {code: problem}, {code: solution})
            verdict = plan.verdicts.get(code)
            broken = (
                list(verdict.failures) if verdict is not None else [plan.statuses.get(code, "no verdict")]
            )
        entry = known["places"].setdefault(code, {"name": problem.place_name})
        before_objective = entry.get("objective", math.inf)
        before_bound = entry.get("bound", -math.inf)
        better_plan = not broken and solution.objective < before_objective - 5e-6
        better_bound = math.isfinite(solution.bound) and solution.bound > before_bound + 5e-6
        if better_plan:
            entry["objective"] = round(solution.objective, 6)
            entry["found_by"] = how
        if better_bound:
            entry["bound"] = math.floor(solution.bound * 1e6) / 1e6  # down: a bound rounded up may not hold
            entry["bound_by"] = how
        if better_plan or better_bound:
            save_known(known_path, known)
        if better_plan and args.plans:
            folder = Path(args.plans)
            folder.mkdir(parents=True, exist_ok=True)
            lines = ["lsoa_code,centre"] + [
                f"{unit},{problem.centre_ids[centre]}"
                for unit, centre in zip(problem.unit_codes, solution.assignment.tolist(), strict=True)
            ]
            (folder / f"{code}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        row = {
            "place": code,
            "name": problem.place_name,
            "n": problem.n_units,
            "status": solution.status,
            "objective": solution.objective,
            "bound": solution.bound,
            "gap": solution.gap,
            "wall": wall,
            "cpu": cpu,
            "verifier": broken or "passed",
            "known_before": before_objective,
            "bound_before": before_bound,
            "how": how,
        }
        print(
            f"{code} {problem.place_name[:22]:22} {problem.n_units:4d} {solution.status:9} "
            f"{solution.objective:9.5f} (known {before_objective:9.5f}{' NEW' if better_plan else ''}) bound "
            f"{solution.bound:9.5f}{' NEW' if better_bound else ''} gap {100 * solution.gap:5.2f}% wall {wall:6.0f} s "
            f"cpu {cpu:6.0f} s{' VERIFIER: ' + '; '.join(broken) if broken else ''}",
            flush=True,
        )
        if args.json:
            with open(args.json, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
