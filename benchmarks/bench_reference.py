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
import fcntl
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


#: A plan or bound is recorded when it betters the record by more than this (relative): the same plan written
#: with more decimals than the record's first entries (five) is not news.
BETTER = 1e-5


def _empty(config: str) -> dict:
    return {"config": config, "places": {}}


def load_known(path: Path, config: str) -> dict:
    """The best-known record (``places``: code -> name, objective, bound, found_by, bound_by) for ``config``
    (its path as the repository names it, e.g. ``configs/london.yaml``); empty when there is none yet."""
    if not path.exists():
        return _empty(config)
    known = json.loads(path.read_text(encoding="utf-8"))
    if known.get("config") != config:
        raise SystemExit(f"{path} records {known.get('config')}, not {config}: give --known another file")
    return known


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def record(
    path: Path, config: str, code: str, name: str, objective: float | None, bound: float | None, how: str
) -> tuple[list[str], dict]:
    """Offer a place's verified plan's ``objective`` and a proved ``bound`` (None: none) to the record at ``path``:
    the objective is kept when it betters the record's, the bound (rounded down) when it is higher. The record is
    read again, changed and written under a lock, through a temporary file renamed into place, so runs recording
    side by side keep each other's entries. Returns what was recorded ("plan", "bound") and the place's entry as
    it was before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".json.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = load_known(path, config)
        entry = known["places"].setdefault(code, {"name": name})
        before_entry = dict(entry)
        done = []
        before = entry.get("objective")
        if _finite(objective) is not None and (before is None or objective < before - BETTER * abs(before)):
            entry["objective"], entry["found_by"] = round(objective, 6), how
            done.append("plan")
        before = entry.get("bound")
        if _finite(bound) is not None and (before is None or bound > before + BETTER * abs(before)):
            entry["bound"], entry["bound_by"] = math.floor(bound * 1e6) / 1e6, how  # down: it must still hold
            done.append("bound")
        if done:
            partial = path.with_suffix(".json.partial")
            partial.write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")
            os.replace(partial, path)
    return done, before_entry


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def config_name(config: str) -> str:
    """``config`` as the record names it: relative to the repository when it is inside it."""
    path = Path(config).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


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
    config = config_name(args.config)
    known = load_known(known_path, config)
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
        done, entry = record(
            known_path,
            config,
            code,
            problem.place_name,
            None if broken else solution.objective,
            solution.bound,
            how,
        )
        before_objective, before_bound = entry.get("objective"), entry.get("bound")
        better_plan, better_bound = "plan" in done, "bound" in done
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
            "objective": _finite(solution.objective),
            "bound": _finite(solution.bound),
            "gap": _finite(solution.gap),
            "wall": wall,
            "cpu": cpu,
            "verifier": broken or "passed",
            "known_before": before_objective,
            "bound_before": before_bound,
            "how": how,
        }
        print(
            f"{code} {problem.place_name[:22]:22} {problem.n_units:4d} {solution.status:9} "
            f"{solution.objective:9.5f} (known {before_objective or math.nan:9.5f}{' NEW' if better_plan else ''}) bound "
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
