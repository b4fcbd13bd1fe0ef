"""Compare contiguity formulations, solvers and warm starts on synthetic LSOA-like places.

Usage::

    PYTHONPATH=src python benchmarks/bench_solver.py [--sizes 150 250] [--time-limit 120] [--repeats 1]
        [--configs cuts-highs cuts-cbc flow-highs ...] [--hubs]

An instance is the Voronoi diagram (Delaunay adjacency) of ``n`` random points in a square of ``0.2 n`` km^2
(London LSOAs average ~0.2 km^2) with 1,500-2,000 residents each, bounds 30,000-50,000; ``--hubs`` gives it
``2 k_min`` hub candidates at random LSOAs instead of every LSOA being a candidate centre. Each configuration
solves the same instance through :func:`footprint.solve.solve_place` and the table reports status, objective,
bound, gap, cut rounds and wall time (median over ``--repeats``), plus the heuristic alone. The machine is shared,
so compare times within one run (ratios), not across runs.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import time
from dataclasses import replace

import numpy as np
from scipy.spatial import Delaunay

from footprint.heuristic import solve_heuristic
from footprint.problem import PlaceProblem, Weights
from footprint.solve import SolveOptions, solve_place

logger = logging.getLogger(__name__)

CONFIGS = {
    "cuts-highs": dict(contiguity="cuts", solver="highs", warm=True),
    "cuts-highs-cold": dict(contiguity="cuts", solver="highs", warm=False),
    "cuts-cbc": dict(contiguity="cuts", solver="cbc", warm=True),
    "cuts-cbc-cold": dict(contiguity="cuts", solver="cbc", warm=False),
    "flow-highs": dict(contiguity="flow", solver="highs", warm=True),
    "flow-highs-cold": dict(contiguity="flow", solver="highs", warm=False),
    "flow-cbc": dict(contiguity="flow", solver="cbc", warm=True),
    "flow-cbc-cold": dict(contiguity="flow", solver="cbc", warm=False),
}


def build_synthetic_place(
    n: int,
    *,
    seed: int = 0,
    hubs: bool = False,
    pop_min: int = 30_000,
    pop_max: int = 50_000,
    weights: Weights | None = None,
) -> PlaceProblem:
    """A synthetic place of ``n`` LSOA-like units (see the module docstring)."""
    rng = np.random.default_rng(seed)
    side_km = math.sqrt(0.2 * n)
    xy = rng.uniform(0.0, side_km * 1000.0, size=(n, 2))
    triangles = Delaunay(xy).simplices
    edges = set()
    for tri in triangles:
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[0], tri[2])):
            edges.add((int(min(a, b)), int(max(a, b))))
    population = rng.integers(1_500, 2_001, size=n).astype(np.int64)
    total = int(population.sum())
    k_min, k_max = math.ceil(total / pop_max), total // pop_min
    if hubs:
        roots = np.sort(rng.choice(n, size=min(n, 2 * k_min), replace=False))
        ids = tuple(f"H{c:02d}" for c in range(len(roots)))
        kind = "hub"
    else:
        roots = np.arange(n)
        ids = tuple(f"S{i:04d}" for i in range(n))
        kind = "unit"
    centre_xy = xy[roots]
    distance = np.sqrt(((xy[:, None, :] - centre_xy[None, :, :]) ** 2).sum(axis=2)) / 1000.0
    return PlaceProblem(
        place_code=f"SYN{n}",
        place_name=f"Synthetic {n}",
        unit_codes=tuple(f"S{i:04d}" for i in range(n)),
        population=population,
        xy=xy,
        edges=tuple(sorted(edges)),
        pop_min=pop_min,
        pop_max=pop_max,
        k_min=k_min,
        k_max=min(k_max, len(roots)),
        centre_ids=ids,
        centre_kind=kind,
        centre_root=roots.astype(np.int64),
        centre_xy=centre_xy,
        centre_required=np.zeros(len(roots), dtype=bool),
        centre_capacity=np.full(len(roots), np.nan),
        distance_km=distance,
        weights=weights or Weights(access=1.0, pcn=0.0),
        area_km2=side_km**2,
    )


def run_config(problem: PlaceProblem, name: str, time_limit: float, repeats: int) -> dict[str, object]:
    """Solve ``problem`` ``repeats`` times with configuration ``name``; the row of the table."""
    config = CONFIGS[name]
    options = SolveOptions(
        method="exact",
        solver=config["solver"],
        contiguity=config["contiguity"],
        time_limit=time_limit,
        gap=0.005,
        threads=1,
        seed=0,
    )
    if not config["warm"]:
        options = replace(options, warm_start=False)
    times, solution = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        solution = solve_place(problem, options)
        times.append(time.perf_counter() - started)
    assert solution is not None
    return {
        "config": name,
        "status": solution.status,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "rounds": solution.iterations,
        "method": solution.method,
        "seconds": statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 250])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hubs", action="store_true", help="2 k_min hub candidates instead of every LSOA")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    _emit("| n | centres | k | config | status | objective | bound | gap | rounds | seconds |")
    _emit("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        problem = build_synthetic_place(n, seed=args.seed, hubs=args.hubs)
        k = f"{problem.k_min}-{problem.k_max}"
        started = time.perf_counter()
        heuristic = solve_heuristic(problem, seed=0)
        elapsed = time.perf_counter() - started
        objective = heuristic.objective if heuristic else math.nan
        _emit(
            f"| {n} | {problem.n_centres} | {k} | heuristic | {'heuristic' if heuristic else 'none'} | "
            f"{objective:.4f} | | | 0 | {elapsed:.2f} |"
        )
        for name in args.configs:
            row = run_config(problem, name, args.time_limit, args.repeats)
            _emit(
                f"| {n} | {problem.n_centres} | {k} | {row['config']} | {row['status']} | "
                f"{row['objective']:.4f} | {row['bound']:.4f} | {row['gap']:.4f} | {row['rounds']} | "
                f"{row['seconds']:.1f} |"
            )


def _emit(line: str) -> None:
    """Write one table row to stdout at once (a benchmark script's output is its product)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
