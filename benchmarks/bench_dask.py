"""Speed-up from solving places in parallel: 1 vs 2 workers, local process pool vs a local Dask cluster.

Usage::

    python benchmarks/bench_dask.py configs/sample.yaml
    python benchmarks/bench_dask.py configs/london.yaml --place E09000020 --place E09000021 \\
        --place E09000027 --place E09000002 --time-limit 30

Reads and validates the scenario once, then solves the same places with each executor setting in turn (in the
order given by ``--order``, repeated ``--repeats`` times) through ``footprint.run_scenario``, timing the solve
stage (for Dask this includes starting the local cluster and connecting to it). Prints a Markdown table with the
median wall time of each setting, its speed-up over 1 local worker measured in the same run, the summed solve time
of the places (work inside the workers: more than the wall when places run side by side, and larger than with one
worker when they compete for cores), and whether every setting produced the same assignment. The machine is shared: compare ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from footprint import __version__
from footprint.config import load_scenario
from footprint.runner import run_scenario
from footprint.validate import validate_scenario

SETTINGS = {
    "local-1": ("local", 1),
    "local-2": ("local", 2),
    "dask-1": ("dask", 1),
    "dask-2": ("dask", 2),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", type=Path)
    parser.add_argument("--place", action="append", default=None, help="place code (repeatable; default all)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per place")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--order", default="local-1,local-2,dask-1,dask-2", help="settings, comma-separated")
    args = parser.parse_args(argv)
    order = [name.strip() for name in args.order.split(",")]

    overrides = [] if args.time_limit is None else [f"solver.time_limit={args.time_limit}"]
    scenario = load_scenario(args.config, overrides=overrides)
    started = time.perf_counter()
    report = validate_scenario(scenario, places=args.place)
    read_seconds = time.perf_counter() - started
    lsoas = sum(p.n_units for p in report.problems.values())

    walls: dict[str, list[float]] = {name: [] for name in order}
    place_seconds: dict[str, list[float]] = {name: [] for name in order}
    assignments: dict[str, pd.DataFrame] = {}
    for _ in range(args.repeats):
        for name in order:
            executor, workers = SETTINGS[name]
            variant = load_scenario(args.config, overrides=[*overrides, f"solver.executor={executor}"])
            clock = time.perf_counter()
            plan = run_scenario(variant, places=args.place, workers=workers, report=report)
            walls[name].append(time.perf_counter() - clock)
            place_seconds[name].append(sum(sum(s.seconds.values()) for s in plan.solutions.values()))
            if not plan.ok:
                print(f"{name}: failed places {plan.failed_places}", file=sys.stderr)
            assignments.setdefault(name, plan.assignment)
            same = plan.assignment.equals(assignments[order[0]])
            print(f"{name}: {walls[name][-1]:.1f} s, same plan as {order[0]}: {same}", file=sys.stderr)

    base = statistics.median(walls[order[0]])
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, footprint {__version__}; "
        f"{args.config.name}, {len(report.problems)} places, {lsoas:,} LSOAs, time limit "
        f"{scenario.solver.time_limit:g} s per place; inputs read once in {read_seconds:.1f} s"
    )
    print()
    print(
        f"| setting | runs | median wall (s) | speed-up vs {order[0]} | sum of place times (s) | "
        f"same plan as {order[0]} |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for name in order:
        median = statistics.median(walls[name])
        same = "yes" if assignments[name].equals(assignments[order[0]]) else "no"
        work = statistics.median(place_seconds[name])
        print(f"| {name} | {len(walls[name])} | {median:.1f} | {base / median:.2f} | {work:.1f} | {same} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
