"""Scale: a synthetic England-sized scenario (about 300 places, 33,000 LSOAs) through footprint's place solver.

Usage::

    python benchmarks/bench_england.py                      # all ~300 places, 6 s per place, 2 workers
    python benchmarks/bench_england.py --places 40          # a slice: the first 40 places
    python benchmarks/bench_england.py --scheduler tcp://HOST:8786   # on a Dask cluster

No geometry files: each place is a :class:`~footprint.problem.PlaceProblem` built directly from arrays, the way
``instance.build_place_problem`` builds one from real data (every LSOA a candidate centre, distances between
representative points, bounds 30,000-50,000, k range from the bounds, access and PCN terms weighted 1 and 1):

- **places**: LSOAs per place drawn from a log-normal fitted to England's local authorities (median about 90,
  long tail to about 650 like Birmingham; total scaled to ``--lsoas``), redrawn where the bounds admit no k;
- **LSOAs**: random points in a disc whose area varies by place (urban to rural densities); contiguity = the
  Delaunay triangulation with edges longer than 2.5 x the place's median edge removed, plus the Euclidean minimum
  spanning tree (so every place is connected, as footprint's graph guarantees by bridging);
- **population**: log-normal, median 1,650 per LSOA (England's mean is about 1,700), clipped to 1,000-4,500;
- **practices and PCNs**: one practice per ~9,000 residents at a random LSOA, grouped into PCNs of 3-7
  neighbouring practices (k-means on their sites), each LSOA's residents registered with its three nearest
  practices by distance decay, so the PCN-alignment term is active as in the real data.

All places go through :func:`footprint.runner.solve_places` on the executor ``footprint run`` uses (a local
process pool of ``--workers``, or Dask with ``--scheduler``) with method auto and ``--time-limit`` per place
(the heuristic plans a place whose model is too large; otherwise the MIP improves on it until the limit). Every
plan is checked by the independent verifier. Prints wall time, peak memory, statuses, gaps and time per place,
and writes the per-place results as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from footprint.instance import k_range
from footprint.problem import PlaceProblem, Weights
from footprint.runner import place_executor, solve_places
from footprint.solve import SolveOptions
from footprint.verify import PlanRules, verify_plan

REPO = Path(__file__).resolve().parents[1]
POP_MIN, POP_MAX = 30_000, 50_000


def place_sizes(rng: np.random.Generator, places: int, lsoas: int) -> np.ndarray:
    """LSOAs per place: log-normal (median ~90, sigma 0.6), clipped to 20-650, scaled to ``lsoas`` in total."""
    sizes = np.clip(rng.lognormal(math.log(90), 0.6, places), 20, 650)
    sizes = sizes * lsoas / sizes.sum()
    return np.clip(np.round(sizes), 20, 650).astype(int)


def unit_populations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Residents per LSOA: log-normal, median 1,650, clipped to 1,000-4,500; grown until a k fits the bounds."""
    population = np.clip(np.round(rng.lognormal(math.log(1650), 0.22, n)), 1000, 4500).astype(np.int64)
    while True:
        k_low, k_high = k_range(int(population.sum()), POP_MIN, POP_MAX, len(population))
        if k_low <= k_high:
            return population
        extra = np.clip(np.round(rng.lognormal(math.log(1650), 0.22, 1)), 1000, 4500).astype(np.int64)
        population = np.concatenate([population, extra])


def contiguity(xy: np.ndarray) -> list[tuple[int, int]]:
    """Delaunay edges without the long ones (> 2.5 x median), plus the minimum spanning tree: connected."""
    triangles = Delaunay(xy).simplices
    pairs = {
        tuple(sorted((int(a), int(b))))
        for t in triangles
        for a, b in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))
    }
    edges = np.array(sorted(pairs))
    length = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T)
    keep = length <= 2.5 * np.median(length)
    n = len(xy)
    tree = minimum_spanning_tree(coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n))).tocoo()
    chosen = {tuple(e) for e in edges[keep].tolist()}
    chosen |= {tuple(sorted((int(a), int(b)))) for a, b in zip(tree.row, tree.col, strict=True)}
    return sorted(chosen)


def build_place(rng: np.random.Generator, index: int, n: int) -> PlaceProblem:
    """One synthetic place of about ``n`` LSOAs (see the module docstring)."""
    population = unit_populations(rng, n)
    n = len(population)
    area = n * float(np.clip(rng.lognormal(math.log(0.8), 1.0), 0.15, 15.0))  # km^2: dense city to rural
    radius = math.sqrt(area / math.pi) * 1000.0
    angle, distance = rng.uniform(0, 2 * math.pi, n), radius * np.sqrt(rng.uniform(0, 1, n))
    offset = np.array([400_000.0, 300_000.0])
    xy = np.column_stack([distance * np.cos(angle), distance * np.sin(angle)]) + offset
    order = np.lexsort((xy[:, 0], -xy[:, 1]))  # codes numbered north to south, then west to east
    xy, population = xy[order], population[order]
    edges = tuple(contiguity(xy))
    codes = tuple(f"E{index:03d}L{i:04d}" for i in range(n))
    distance_km = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)) / 1000.0

    practices = max(3, round(population.sum() / 9000))
    sites = rng.choice(n, size=practices, replace=False)
    pcn_count = max(1, round(practices / 5))
    _, pcn_of = kmeans2(xy[sites], pcn_count, seed=rng, minit="++")
    pcn_ids = np.unique(pcn_of)
    registered = np.zeros((len(pcn_ids), n))
    site_distance = distance_km[:, sites]
    nearest = np.argsort(site_distance, axis=1)[:, :3]
    for i in range(n):
        weights = np.exp(-site_distance[i, nearest[i]] / 1.0)
        shares = weights / weights.sum()
        for practice, share in zip(nearest[i], shares, strict=True):
            registered[np.searchsorted(pcn_ids, pcn_of[practice]), i] += 1.05 * population[i] * share
    k_low, k_high = k_range(int(population.sum()), POP_MIN, POP_MAX, n)
    return PlaceProblem(
        place_code=f"E{index:03d}",
        place_name=f"Synthetic place {index}",
        unit_codes=codes,
        population=population,
        xy=xy,
        edges=edges,
        pop_min=POP_MIN,
        pop_max=POP_MAX,
        k_min=k_low,
        k_max=k_high,
        centre_ids=codes,
        centre_kind="unit",
        centre_root=np.arange(n, dtype=np.int64),
        centre_xy=xy.copy(),
        centre_required=np.zeros(n, dtype=bool),
        centre_capacity=np.full(n, np.nan),
        distance_km=distance_km,
        pcn_codes=tuple(f"U{index:03d}P{int(p):02d}" for p in pcn_ids),
        pcn_patients=np.round(registered),
        weights=Weights(access=1.0, pcn=1.0),
        area_km2=area,
    )


def build_england(places: int, lsoas: int, seed: int) -> list[PlaceProblem]:
    rng = np.random.default_rng(seed)
    return [build_place(rng, index + 1, int(n)) for index, n in enumerate(place_sizes(rng, places, lsoas))]


def rules(problem: PlaceProblem) -> PlanRules:
    """The verifier's rules for one synthetic place, from its data (there is no scenario file)."""
    codes = problem.unit_codes
    place = problem.place_code
    return PlanRules(
        unit_place=dict.fromkeys(codes, place),
        population={code: float(problem.population[i]) for i, code in enumerate(codes)},
        edges=[(codes[a], codes[b]) for a, b in problem.edges],
        pop_min=problem.pop_min,
        pop_max=problem.pop_max,
        k_min={place: problem.k_min},
        k_max={place: problem.k_max},
        hub_unit={
            problem.centre_ids[c]: codes[int(problem.centre_root[c])] for c in range(problem.n_centres)
        },
    )


def peak_mib() -> tuple[float, float]:
    """Peak resident memory (MiB) of this process and of the largest finished child process."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--places", type=int, default=None, help="solve only the first N places")
    parser.add_argument("--total-places", type=int, default=300, help="places in the synthetic England")
    parser.add_argument("--lsoas", type=int, default=33_000, help="LSOAs in the synthetic England")
    parser.add_argument("--time-limit", type=float, default=6.0, help="seconds per place")
    parser.add_argument("--method", default="auto", choices=["auto", "exact", "heuristic"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (default: local processes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-england" / "results.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    problems = build_england(args.total_places, args.lsoas, args.seed)
    built = time.perf_counter() - started
    all_lsoas = sum(p.n_units for p in problems)
    if args.places is not None:
        problems = problems[: args.places]
    lsoas = sum(p.n_units for p in problems)
    sizes = sorted(p.n_units for p in problems)
    print(
        f"synthetic England: {args.total_places} places, {all_lsoas:,} LSOAs built in {built:.1f} s; solving "
        f"{len(problems)} places ({lsoas:,} LSOAs; per place min {sizes[0]}, median {statistics.median(sizes):.0f}, "
        f"max {sizes[-1]})",
        file=sys.stderr,
    )

    options = SolveOptions(method=args.method, time_limit=args.time_limit, seed=args.seed)
    done = 0

    def progress(place: str, event: str, payload: dict) -> None:
        nonlocal done
        if event == "finished":
            done += 1
            if done % 10 == 0 or done == len(problems):
                print(
                    f"  {done}/{len(problems)} places, {time.perf_counter() - solve_started:.0f} s",
                    file=sys.stderr,
                )

    solve_started = time.perf_counter()
    kind = "dask" if args.scheduler else "local"
    with place_executor(kind, args.scheduler, workers=args.workers, places=len(problems)) as executor:
        solutions = solve_places(executor, problems, options, progress)
    solve_wall = time.perf_counter() - solve_started

    verify_started = time.perf_counter()
    rows = []
    for problem in problems:
        solution = solutions[problem.place_code]
        ok, failures = False, ["no plan"]
        if len(solution.assignment):
            labels = {
                code: f"N{int(c)}" for code, c in zip(problem.unit_codes, solution.assignment, strict=True)
            }
            hubs = {f"N{int(c)}": problem.centre_ids[int(c)] for c in np.unique(solution.assignment)}
            verdict = verify_plan(labels, hubs, rules(problem))
            ok, failures = verdict.ok, list(verdict.failures)
        rows.append(
            {
                "place": problem.place_code,
                "lsoas": problem.n_units,
                "population": problem.total_population,
                "k_range": [problem.k_min, problem.k_max],
                "status": solution.status,
                "method": solution.method,
                "k": len(np.unique(solution.assignment)) if len(solution.assignment) else 0,
                "objective": solution.objective,
                "bound": solution.bound,
                "gap": solution.gap,
                "seconds": float(sum(solution.seconds.values())),
                "verified": ok,
                "failures": failures,
                "message": solution.message,
            }
        )
    verify_wall = time.perf_counter() - verify_started
    total_wall = time.perf_counter() - started
    own, children = peak_mib()

    verified = sum(r["verified"] for r in rows)
    gaps = [r["gap"] for r in rows if r["gap"] == r["gap"]]
    seconds = [r["seconds"] for r in rows]
    statuses = Counter(r["status"] for r in rows)
    methods = Counter(r["method"] for r in rows)
    per_place = solve_wall / len(problems)
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, {args.workers} workers ({kind})"
    )
    print(
        "command: python benchmarks/bench_england.py " + " ".join(argv if argv is not None else sys.argv[1:])
    )
    print(
        f"{len(problems)} places, {lsoas:,} LSOAs: verified {verified}/{len(rows)}; statuses {dict(statuses)}; "
        f"methods {dict(methods)}"
    )
    print(
        f"wall: build {built:.1f} s, solve {solve_wall:.0f} s ({per_place:.2f} s per place), verify "
        f"{verify_wall:.1f} s, total {total_wall:.0f} s; peak RSS: main {own:.0f} MiB, largest worker {children:.0f} MiB"
    )
    if gaps:
        quantiles = np.percentile(gaps, [10, 50, 90])
        print(
            f"gap: {len(gaps)} places with a bound; 10th/50th/90th percentile {quantiles[0]:.1%} / "
            f"{quantiles[1]:.1%} / {quantiles[2]:.1%}; max {max(gaps):.1%}"
        )
    print(
        f"time per place: median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s; "
        f"largest place {max(rows, key=lambda r: r['lsoas'])['lsoas']} LSOAs"
    )
    if args.places is not None and args.places < args.total_places:
        projected = per_place * args.total_places
        print(
            f"extrapolated to all {args.total_places} places at this rate: {projected:.0f} s ({projected / 60:.1f} min) "
            "of solving (the slice is the first places in draw order, so its size mix is representative)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "solve_wall": solve_wall}, indent=1, default=float) + "\n")
    return 0 if verified == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
