"""How ``footprint sweep`` uses the machine: one sweep against the same grid run scenario by scenario.

Three ways to run the same grid, timed in one go (so they share the machine's load):

1. ``sweep``: :func:`footprint.run_sweep`, inputs read once, every (scenario, place) solve in one process pool;
2. ``loop``: :func:`footprint.run_scenario` per scenario in one process, inputs re-read each time, a pool per
   scenario (what a script around the Python API does);
3. ``cli``: ``footprint run --set ...`` per scenario as separate processes (what a shell loop does).

Usage::

    python benchmarks/bench_sweep.py configs/sample.yaml --set weights.pcn=0,5 --set solver.time_limit=20
    python benchmarks/bench_sweep.py configs/london.yaml --place E09000013 --place E09000020 \\
        --set pop.max=45000,50000 --set weights.pcn=1,5 --set solver.method=heuristic

Prints wall seconds per way and the ratios to the sweep, and checks that every way wrote the same assignments.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import footprint
from footprint.runner import default_workers
from footprint.sweep import folder_name, parse_settings, scenario_grid


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", type=Path)
    parser.add_argument("--set", dest="settings", action="append", default=[])
    parser.add_argument("--place", dest="places", action="append", default=None)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--ways", default="sweep,loop,cli", help="comma-separated subset of sweep,loop,cli")
    args = parser.parse_args()
    axes, plain = parse_settings(args.settings)
    grid = scenario_grid(axes)
    ways = args.ways.split(",")
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        root = Path(scratch)
        if "sweep" in ways:
            started = time.perf_counter()
            result = footprint.run_sweep(
                args.config, args.settings, out_dir=root / "sweep", places=args.places, workers=args.workers
            )
            seconds["sweep"] = time.perf_counter() - started
            print(f"sweep: {seconds['sweep']:.1f} s ({sum(o.ok for o in result.scenarios)} ok)", flush=True)
        if "loop" in ways:
            started = time.perf_counter()
            for point in grid:
                overrides = plain + [f"{k}={v}" for k, v in point.items()]
                scenario = footprint.load_scenario(args.config, overrides=overrides)
                plan = footprint.run_scenario(scenario, places=args.places, workers=args.workers)
                footprint.write_plan(plan, root / "loop" / folder_name(point))
            seconds["loop"] = time.perf_counter() - started
            print(f"loop: {seconds['loop']:.1f} s", flush=True)
        if "cli" in ways:
            started = time.perf_counter()
            for point in grid:
                command = [sys.executable, "-m", "footprint", "run", str(args.config), "--quiet"]
                command += ["--out", str(root / "cli" / folder_name(point)), "--workers", str(args.workers)]
                for setting in plain + [f"{k}={v}" for k, v in point.items()]:
                    command += ["--set", setting]
                for place in args.places or []:
                    command += ["--place", place]
                subprocess.run(command, check=False)
            seconds["cli"] = time.perf_counter() - started
            print(f"cli: {seconds['cli']:.1f} s", flush=True)
        same = {
            way: all(
                (root / way / folder_name(p) / "assignment.csv").read_bytes()
                == (root / ways[0] / folder_name(p) / "assignment.csv").read_bytes()
                for p in grid
            )
            for way in ways[1:]
        }
    base = seconds.get("sweep")
    print(f"{len(grid)} scenarios, {args.workers} workers")
    for way, value in seconds.items():
        ratio = f" ({value / base:.2f}x the sweep)" if base else ""
        print(f"  {way}: {value:.1f} s{ratio}")
    print(f"same assignments as {ways[0]}: {same}")


if __name__ == "__main__":
    main()
