"""footprint against peer regionalisation methods on the same real London places, in the same run.

Usage::

    pip install -e '.[bench]'
    python benchmarks/bench_peers.py --places 8 --time-limit 30 --out runs/bench-peers/results.json
    python benchmarks/bench_peers.py --places E09000007,E09000019 --methods footprint,recom

Instances are the real places built exactly as ``footprint run`` builds them (``validate_scenario``: the readers,
``load_dataset``, ``build_graph`` and ``build_place_problem``). Each method partitions each place's LSOAs; every
plan is then judged the same way, here in the main process:

- **centres**: a region's centre is the candidate centre standing in the region that minimises the access term
  (population x squared distance), so every method's regions become a footprint assignment (unit -> centre) with
  the centres chosen optimally for access; footprint's own plans are re-centred the same way;
- **valid**: the independent verifier (:func:`footprint.verify.verify_plan`) with the place's rules: every LSOA
  once, nested in the place, each region connected, population within [pop.min, pop.max], and the number of
  regions within footprint's k range for the place;
- **objective**: :func:`footprint.objective.evaluate_terms` + :func:`~footprint.objective.weighted_objective` on
  that assignment (lower is better), priced for valid and invalid plans alike;
- **time**: wall seconds of the method on the place (building the instance is shared and not counted).

Methods and their configuration (each given what it can use of the rules):

- ``footprint``: :func:`footprint.solve.solve_place` with default :class:`~footprint.solve.SolveOptions` and
  ``--time-limit``;
- ``heuristic``: the same with method ``heuristic`` and one heuristic run (footprint's heuristic alone, its own
  k, no time limit: what ``footprint run --method heuristic --set solver.heuristic_runs=1`` does; the default
  of up to 4 runs takes up to 4 times as long), for "match the best peer at a tenth of its time";
- ``maxp``: spopt ``MaxPHeuristic`` on the LSOA coordinates (km), threshold = pop.min on population (it has no
  upper bound and chooses its own number of regions), 10 construction and 2 annealing rounds (spopt's defaults,
  99 and 10, take 20 times footprint's time limit on a 98-LSOA place for the same plan);
- ``azp``, ``skater``, ``kmeans``: spopt ``AZP``, ``Skater`` and ``RegionKMeansHeuristic`` with n_clusters = k
  on the coordinates, where k is the number of neighbourhoods in footprint's plan of the same place (``--k
  footprint``, the default: the objective prefers more, smaller neighbourhoods, so a peer given fewer would be
  handicapped by k rather than judged on its shapes) or the k in footprint's range whose mean population is
  nearest the middle of the bounds (``--k middle``); they have no population bounds, except Skater's floor on the
  number of LSOAs per region, set to pop.min / (mean LSOA population);
- ``recom``: GerryChain ReCom with the same k, population tolerance chosen so every part stays within the bounds,
  seeded by ``recursive_tree_part``, optimised by short bursts (length 10) minimising the footprint objective
  (with optimal centres) until ``--time-limit``.

All spopt methods use footprint's contiguity graph of the place (a libpysal ``W`` built from the networkx graph),
not their own adjacency. Writes the results as JSON (``--out``) and Markdown tables (same name, ``.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import sys
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footprint.config import load_scenario
from footprint.objective import evaluate_terms, weighted_objective
from footprint.plan import rules_for
from footprint.problem import PlaceProblem
from footprint.solve import SolveOptions, solve_place
from footprint.validate import validate_scenario
from footprint.verify import PlanRules, verify_plan

REPO = Path(__file__).resolve().parents[1]
METHODS = ("footprint", "heuristic", "maxp", "azp", "skater", "kmeans", "recom")
LABELS = {
    "footprint": "footprint",
    "heuristic": "footprint heuristic only",
    "maxp": "spopt MaxP",
    "azp": "spopt AZP",
    "skater": "spopt SKATER",
    "kmeans": "spopt RegionKMeans",
    "recom": "GerryChain ReCom",
}


# ---- the common yardstick -------------------------------------------------------------------------------------


def best_centres(problem: PlaceProblem, labels: np.ndarray) -> np.ndarray | None:
    """Unit -> centre index, each region served by its candidate centre that minimises sum pop d^2.

    Candidates of a region are the centres standing in it (``centre_root`` in the region) that respect the
    access radius for every member (when set) and every lock of a member. ``None`` when some region has no
    allowed candidate (a hub plan whose region holds no hub).
    """
    labels = np.asarray(labels)
    assignment = np.full(problem.n_units, -1, dtype=np.int64)
    pop = problem.population.astype(float)
    locks = dict(problem.locks)
    for region in np.unique(labels):
        members = np.flatnonzero(labels == region)
        candidates = np.flatnonzero(np.isin(problem.centre_root, members))
        locked = {locks[u] for u in members if u in locks}
        if locked:
            candidates = np.array([c for c in candidates if {c} == locked], dtype=np.int64)
        if problem.max_distance_km is not None and len(candidates):
            far = problem.distance_km[np.ix_(members, candidates)] > problem.max_distance_km + 1e-9
            candidates = candidates[~far.any(axis=0)]
        if len(candidates) == 0:
            return None
        cost = pop[members] @ problem.distance_km[np.ix_(members, candidates)] ** 2
        assignment[members] = candidates[int(np.argmin(cost))]
    return assignment


def place_rules(rules: PlanRules, problem: PlaceProblem) -> PlanRules:
    """The scenario's rules restricted to one place, with footprint's k range for it."""
    place = problem.place_code
    return replace(
        rules,
        unit_place={u: p for u, p in rules.unit_place.items() if p == place},
        k_min={place: problem.k_min},
        k_max={place: problem.k_max},
    )


def judge(problem: PlaceProblem, labels: np.ndarray | None, rules: PlanRules) -> dict[str, Any]:
    """Validity (verifier), objective with optimal centres, regions and their share within the bounds."""
    if labels is None:
        return {
            "valid": False,
            "failures": ["no plan"],
            "objective": None,
            "terms": {},
            "k": 0,
            "in_bounds": 0.0,
        }
    labels = np.asarray(labels)
    regions = np.unique(labels)
    populations = np.array([problem.population[labels == r].sum() for r in regions])
    in_bounds = float(((populations >= problem.pop_min) & (populations <= problem.pop_max)).mean())
    assignment = best_centres(problem, labels)
    if assignment is None:
        return {
            "valid": False,
            "failures": ["a region holds no allowed centre"],
            "objective": None,
            "terms": {},
            "k": len(regions),
            "in_bounds": in_bounds,
        }
    hood = {problem.unit_codes[i]: f"R{int(labels[i])}" for i in range(problem.n_units)}
    hood_hub = {f"R{int(labels[i])}": problem.centre_ids[int(assignment[i])] for i in range(problem.n_units)}
    verdict = verify_plan(hood, hood_hub, rules)
    terms = evaluate_terms(problem, assignment)
    return {
        "valid": verdict.ok,
        "failures": list(verdict.failures),
        "objective": weighted_objective(problem, terms),
        "terms": terms,
        "k": len(regions),
        "in_bounds": in_bounds,
    }


def choose_k(problem: PlaceProblem) -> int:
    """The k in footprint's range whose mean region population is closest to the middle of the bounds."""
    middle = (problem.pop_min + problem.pop_max) / 2
    return min(
        range(problem.k_min, problem.k_max + 1), key=lambda k: (abs(problem.total_population / k - middle), k)
    )


# ---- the methods (run in worker processes) ---------------------------------------------------------------------


def _weights(problem: PlaceProblem):
    from libpysal.weights import W

    neighbours = {i: [] for i in range(problem.n_units)}
    for i, j in problem.edges:
        neighbours[i].append(j)
        neighbours[j].append(i)
    return W({i: sorted(v) for i, v in neighbours.items()}, silence_warnings=True)


def _frame(problem: PlaceProblem) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": problem.xy[:, 0] / 1000.0, "y": problem.xy[:, 1] / 1000.0, "population": problem.population}
    )


def run_footprint(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray | None:
    solution = solve_place(problem, SolveOptions(time_limit=time_limit, seed=seed))
    return solution.assignment if len(solution.assignment) else None


def run_heuristic(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray | None:
    """footprint's heuristic alone, one run (``--method heuristic``: no model, no bound; its own k, no limit)."""
    solution = solve_place(problem, SolveOptions(method="heuristic", seed=seed, heuristic_runs=1))
    return solution.assignment if len(solution.assignment) else None


#: MaxP's construction and simulated-annealing rounds. spopt's defaults (99 and 10) took 205 s on Kingston upon
#: Thames (98 LSOAs), 20 times footprint's 10 s there; 10 and 1 reached the same objective in 4 s.
MAXP_CONSTRUCTION, MAXP_ANNEALING = 10, 2


def run_maxp(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray:
    from spopt.region import MaxPHeuristic

    np.random.seed(seed)  # MaxPHeuristic draws from numpy's global generator
    random.seed(seed)
    model = MaxPHeuristic(
        _frame(problem),
        _weights(problem),
        ["x", "y"],
        "population",
        problem.pop_min,
        max_iterations_construction=MAXP_CONSTRUCTION,
        max_iterations_sa=MAXP_ANNEALING,
    )
    model.solve()
    return np.asarray(model.labels_)


def run_azp(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray:
    from spopt.region import AZP

    model = AZP(_frame(problem), _weights(problem), ["x", "y"], n_clusters=k, random_state=seed)
    model.solve()
    return np.asarray(model.labels_)


def run_skater(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray:
    from spopt.region import Skater

    floor = math.floor(problem.pop_min / problem.population.mean())
    model = Skater(_frame(problem), _weights(problem), ["x", "y"], n_clusters=k, floor=floor)
    model.solve()
    return np.asarray(model.labels_)


def run_kmeans(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray:
    from spopt.region import RegionKMeansHeuristic

    data = _frame(problem)[["x", "y"]].to_numpy()
    model = RegionKMeansHeuristic(data, k, _weights(problem), seed=seed)
    model.solve()
    return np.asarray(model.labels_)


def recom_tolerance(problem: PlaceProblem, k: int) -> tuple[float, float]:
    """ReCom's target population and the largest epsilon keeping target (1 +- epsilon) inside the bounds."""
    target = problem.total_population / k
    return target, max(0.0, min(1 - problem.pop_min / target, problem.pop_max / target - 1))


def run_recom(problem: PlaceProblem, k: int, time_limit: float, seed: int) -> np.ndarray | None:
    import networkx as nx
    from gerrychain import Graph, Partition, constraints, updaters
    from gerrychain.optimization import SingleMetricOptimizer
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import recom

    started = time.perf_counter()
    target, epsilon = recom_tolerance(problem, k)
    network = nx.Graph()
    for i in range(problem.n_units):
        network.add_node(i, population=int(problem.population[i]))
    network.add_edges_from(problem.edges)
    graph = Graph.from_networkx(network)
    rng = random.Random(seed)
    seed_plan = None
    for _ in range(20):
        try:
            seed_plan = recursive_tree_part(graph, range(k), target, "population", epsilon, rng=rng)
            break
        except Exception:  # a seed attempt can fail on tight bounds; draw again
            if time.perf_counter() - started > time_limit:
                return None
    if seed_plan is None:
        return None
    initial = Partition(
        graph, seed_plan, updaters={"population": updaters.Tally("population", alias="population")}
    )

    # Partition works on its own (rustworkx) node ids; map them back to unit indices once.
    unit_of = {
        node: initial.graph.original_nx_node_id_for_internal_node_id(node)
        for node in initial.graph.node_indices
    }

    def labels_of(partition: Partition) -> np.ndarray:
        labels = np.empty(problem.n_units, dtype=np.int64)
        for node, part in partition.assignment.items():
            labels[unit_of[node]] = part
        return labels

    def objective(partition: Partition) -> float:
        assignment = best_centres(problem, labels_of(partition))
        return (
            math.inf
            if assignment is None
            else weighted_objective(problem, evaluate_terms(problem, assignment))
        )

    optimiser = SingleMetricOptimizer(
        proposal_fn=partial(recom, pop_col="population", pop_target=target, epsilon=epsilon),
        constraints=[constraints.within_percent_of_ideal_population(initial, epsilon)],
        initial_state=initial,
        optimization_metric_fn=objective,
        maximize=False,
        rng=rng,
    )
    for _ in optimiser.short_bursts(burst_length=10, num_bursts=10**9):
        if time.perf_counter() - started > time_limit:
            break
    return labels_of(optimiser.best_part)


RUNNERS = {
    "footprint": run_footprint,
    "heuristic": run_heuristic,
    "maxp": run_maxp,
    "azp": run_azp,
    "skater": run_skater,
    "kmeans": run_kmeans,
    "recom": run_recom,
}


def run_method(method: str, problem: PlaceProblem, k: int, time_limit: float, seed: int) -> dict[str, Any]:
    """Run one method on one place (``k`` regions where the method takes a number); labels, seconds, error."""
    warnings.simplefilter("ignore")  # peers warn freely (islands, convergence); their plans are judged below
    started = time.perf_counter()
    try:
        labels = RUNNERS[method](problem, k, time_limit, seed)
        error = ""
    except Exception as exc:  # a peer failing on a place is a result, not a crash of the benchmark
        labels, error = None, f"{type(exc).__name__}: {exc}"
    return {
        "method": method,
        "place": problem.place_code,
        "k_asked": k,
        "labels": None if labels is None else np.asarray(labels).tolist(),
        "seconds": time.perf_counter() - started,
        "error": error,
    }


# ---- driver ---------------------------------------------------------------------------------------------------


def select_places(codes: list[str], wanted: str | None) -> list[str]:
    """``--places``: a count (the first N codes) or comma-separated codes; default all."""
    if not wanted:
        return codes
    if wanted.isdigit():
        return codes[: int(wanted)]
    chosen = [code.strip() for code in wanted.split(",") if code.strip()]
    unknown = sorted(set(chosen) - set(codes))
    if unknown:
        raise SystemExit(f"--places: unknown place codes {', '.join(unknown)}; places are {', '.join(codes)}")
    return chosen


def versions() -> dict[str, str]:
    found = {}
    for name in ("footprint", "highspy", "pulp", "spopt", "libpysal", "gerrychain", "networkx", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def markdown(
    results: list[dict[str, Any]], problems: dict[str, PlaceProblem], methods: list[str], meta: dict
) -> str:
    by = {(r["place"], r["method"]): r for r in results}
    lines = [
        f"machine: {meta['machine']}; {meta['versions']}",
        f"command: `{meta['command']}`; {len(problems)} places, time limit {meta['time_limit']:g} s "
        f"(footprint and ReCom), k for AZP/SKATER/RegionKMeans/ReCom: {meta['k']}, {meta['workers']} worker "
        f"processes; wall {meta['wall']:.0f} s",
        "",
        "Overall (objective = footprint's weighted objective with optimal centres, lower is better; ratio = "
        "method / footprint on the same place, median over places where both plans are valid):",
        "",
        "| method | valid plans | regions within bounds | median objective (all plans) | median ratio to footprint "
        "(both valid) | median time (s) | total time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for method in methods:
        rows = [by[(place, method)] for place in problems if (place, method) in by]
        valid = sum(r["valid"] for r in rows)
        objectives = [r["objective"] for r in rows if r["objective"] is not None]
        ratios = []
        for place in problems:
            mine, ours = by.get((place, method)), by.get((place, "footprint"))
            if mine and ours and mine["valid"] and ours["valid"]:
                ratios.append(mine["objective"] / ours["objective"])
        seconds = [r["seconds"] for r in rows]
        lines.append(
            f"| {LABELS[method]} | {valid}/{len(rows)} ({valid / max(len(rows), 1):.0%}) | "
            f"{statistics.mean(r['in_bounds'] for r in rows):.0%} | "
            f"{_fmt(statistics.median(objectives)) if objectives else ''} | "
            f"{_fmt(statistics.median(ratios)) if ratios else ''} | "
            f"{statistics.median(seconds):.1f} | {sum(seconds):.0f} |"
        )
    lines += [
        "",
        "Per place: objective (v = valid plan, x = fails a rule, - = no plan) and regions found; time in seconds.",
        "",
        "| place | LSOAs | k range | " + " | ".join(LABELS[m] for m in methods) + " |",
        "|---|---:|---:|" + "---|" * len(methods),
    ]
    for place, problem in problems.items():
        cells = []
        for method in methods:
            r = by.get((place, method))
            if r is None or r["objective"] is None:
                cells.append(f"- ({r['seconds']:.0f} s)" if r else "")
                continue
            mark = "v" if r["valid"] else "x"
            cells.append(f"{r['objective']:.3f} {mark} k={r['k']} ({r['seconds']:.0f} s)")
        lines.append(
            f"| {place} {problem.place_name} | {problem.n_units} | {problem.k_min}-{problem.k_max} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "london.yaml")
    parser.add_argument(
        "--places", default=None, help="a number (the first N places) or comma-separated codes"
    )
    parser.add_argument(
        "--methods", default=",".join(METHODS), help=f"comma-separated from {', '.join(METHODS)}"
    )
    parser.add_argument(
        "--time-limit", type=float, default=30.0, help="seconds per place for footprint and ReCom"
    )
    parser.add_argument("--workers", type=int, default=2, help="(place, method) runs in parallel")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--k",
        choices=["footprint", "middle"],
        default="footprint",
        help="regions for the methods that take a number: footprint's (same k as its plan) or the k whose mean "
        "population is nearest the middle of the bounds",
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-peers" / "results.json")
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")

    started = time.perf_counter()
    scenario = load_scenario(args.config)
    report = validate_scenario(scenario)
    places = select_places(sorted(report.problems), args.places)
    problems = {place: report.problems[place] for place in places}
    rules = rules_for(report.dataset, problems)
    print(
        f"instances built in {time.perf_counter() - started:.1f} s: {len(problems)} places", file=sys.stderr
    )

    raw: list[dict[str, Any]] = []
    solve_started = time.perf_counter()
    follow = [m for m in methods if m != "footprint"]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        pending = {}

        def submit(method: str, place: str, k: int) -> None:
            future = pool.submit(run_method, method, problems[place], k, args.time_limit, args.seed)
            pending[future] = (method, place)

        for place in places:
            if args.k == "footprint" and "footprint" in methods:
                submit("footprint", place, choose_k(problems[place]))
            else:
                for method in methods:
                    submit(method, place, choose_k(problems[place]))
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                pending.pop(future)
                result = future.result()
                raw.append(result)
                print(
                    f"{result['place']} {result['method']}: {result['seconds']:.1f} s {result['error']}",
                    file=sys.stderr,
                )
                if args.k == "footprint" and result["method"] == "footprint":
                    found = len(set(result["labels"])) if result["labels"] is not None else 0
                    k = found or choose_k(problems[result["place"]])
                    for method in follow:
                        submit(method, result["place"], k)
    wall = time.perf_counter() - solve_started

    results = []
    for result in sorted(raw, key=lambda r: (r["place"], METHODS.index(r["method"]))):
        problem = problems[result["place"]]
        labels = None if result["labels"] is None else np.array(result["labels"])
        verdict = judge(problem, labels, place_rules(rules, problem))
        results.append({**result, **verdict})
    meta = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "versions": ", ".join(f"{k} {v}" for k, v in versions().items()),
        "command": "python benchmarks/bench_peers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "time_limit": args.time_limit,
        "workers": args.workers,
        "k": args.k,
        "wall": wall,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=float) + "\n")
    table = markdown(results, problems, methods, meta)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
