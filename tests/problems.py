"""Builders of tiny, hand-checkable place problems (no geometry) shared by the optimisation tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from footprint.problem import PlaceProblem, Weights


def grid_problem(
    rows: int,
    cols: int,
    *,
    population: list[int] | None = None,
    pop_min: int = 0,
    pop_max: int = 10**9,
    k_min: int = 1,
    k_max: int | None = None,
    hubs: list[int] | None = None,
    required: list[int] | None = None,
    locks: tuple[tuple[int, int], ...] = (),
    pcn_patients: np.ndarray | None = None,
    pcn_homes: list[int] | None = None,
    demand: np.ndarray | None = None,
    baseline: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    weights: Weights | None = None,
    max_distance_km: float | None = None,
    capacity: list[float] | None = None,
    area_km2: float | None = None,
) -> PlaceProblem:
    """A rows x cols rook grid of 1 km squares, unit u = r * cols + c at (c km, r km).

    For rows=2, cols=3::

        3 - 4 - 5
        |   |   |
        0 - 1 - 2
    """
    n = rows * cols
    xy = np.array([[1000.0 * (u % cols), 1000.0 * (u // cols)] for u in range(n)])
    edges = []
    for u in range(n):
        r, c = divmod(u, cols)
        if c + 1 < cols:
            edges.append((u, u + 1))
        if r + 1 < rows:
            edges.append((u, u + cols))
    pop = np.array(population if population is not None else [10] * n, dtype=np.int64)
    if hubs is None:
        centre_root = np.arange(n)
        centre_ids = tuple(f"U{u}" for u in range(n))
        kind = "unit"
    else:
        centre_root = np.array(hubs, dtype=np.int64)
        centre_ids = tuple(f"H{h}" for h in range(len(hubs)))
        kind = "hub"
    centre_xy = xy[centre_root]
    distance = np.sqrt(((xy[:, None, :] - centre_xy[None, :, :]) ** 2).sum(axis=2)) / 1000.0
    required_mask = np.zeros(len(centre_root), dtype=bool)
    for c in required or []:
        required_mask[c] = True
    return PlaceProblem(
        place_code="P1",
        place_name="Testplace",
        unit_codes=tuple(f"L{u:02d}" for u in range(n)),
        population=pop,
        xy=xy,
        edges=tuple(sorted(edges)),
        pop_min=pop_min,
        pop_max=pop_max,
        k_min=k_min,
        k_max=k_max if k_max is not None else n,
        centre_ids=centre_ids,
        centre_kind=kind,
        centre_root=centre_root,
        centre_xy=centre_xy,
        centre_required=required_mask,
        centre_capacity=(
            np.array(capacity, dtype=float) if capacity is not None else np.full(len(centre_root), np.nan)
        ),
        distance_km=distance,
        max_distance_km=max_distance_km,
        pcn_codes=tuple(f"U{p}" for p in range(pcn_patients.shape[0])) if pcn_patients is not None else (),
        pcn_patients=pcn_patients if pcn_patients is not None else np.zeros((0, n)),
        pcn_homes=np.array(pcn_homes if pcn_homes is not None else [], dtype=np.int64),
        demand=demand,
        baseline=baseline,
        groups=groups,
        locks=locks,
        weights=weights or Weights(),
        area_km2=float(n) if area_km2 is None else area_km2,
    )


def set_partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every partition of ``items`` into non-empty blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in set_partitions(rest):
        for index in range(len(partition)):
            yield [*partition[:index], [first, *partition[index]], *partition[index + 1 :]]
        yield [[first], *partition]


def plan_rules(problem: PlaceProblem):
    """The verifier's rules for a tiny problem (one place "P1"), built from the problem's own data."""
    from footprint.verify import PlanRules

    codes = problem.unit_codes
    return PlanRules(
        unit_place=dict.fromkeys(codes, "P1"),
        population={code: float(problem.population[i]) for i, code in enumerate(codes)},
        edges=[(codes[a], codes[b]) for a, b in problem.edges],
        pop_min=problem.pop_min,
        pop_max=problem.pop_max,
        k_min={"P1": problem.k_min},
        k_max={"P1": problem.k_max},
        hub_unit={
            problem.centre_ids[c]: codes[int(problem.centre_root[c])] for c in range(problem.n_centres)
        },
        required_hubs=[problem.centre_ids[c] for c in np.flatnonzero(problem.centre_required)],
        locks={codes[u]: problem.centre_ids[c] for u, c in problem.locks},
        unit_xy={code: tuple(problem.xy[i]) for i, code in enumerate(codes)},
        hub_xy={problem.centre_ids[c]: tuple(problem.centre_xy[c]) for c in range(problem.n_centres)},
        max_distance_km=problem.max_distance_km,
    )


def brute_force(problem: PlaceProblem, counts: range | None = None) -> tuple[float, np.ndarray] | None:
    """The optimum by enumerating every partition and every choice of centres (tiny problems only); with
    ``counts``, the optimum over the plans whose number of neighbourhoods is in it."""
    from footprint.objective import evaluate_terms, weighted_objective
    from footprint.verify import verify_plan

    codes = problem.unit_codes
    rules = plan_rules(problem)
    best: tuple[float, np.ndarray] | None = None
    for partition in set_partitions(list(range(problem.n_units))):
        if not problem.k_min <= len(partition) <= problem.k_max:
            continue
        if counts is not None and len(partition) not in counts:
            continue
        options = [
            [c for c in range(problem.n_centres) if int(problem.centre_root[c]) in block]
            for block in partition
        ]
        for centres in itertools.product(*options):
            if len(set(centres)) < len(centres):
                continue
            assignment = np.zeros(problem.n_units, dtype=np.int64)
            for block, centre in zip(partition, centres, strict=True):
                assignment[block] = centre
            labels = {codes[u]: problem.centre_ids[int(assignment[u])] for u in range(problem.n_units)}
            hubs = {hub: hub for hub in set(labels.values())}
            if not verify_plan(labels, hubs, rules).ok or not _within_capacity(problem, assignment):
                continue
            value = weighted_objective(problem, evaluate_terms(problem, assignment))
            if best is None or value < best[0] - 1e-12:
                best = (value, assignment)
    return best


def _within_capacity(problem: PlaceProblem, assignment: np.ndarray) -> bool:
    """Hub capacities (the verifier does not check them): load = demand when given, else population."""
    load = problem.demand if problem.demand is not None and problem.demand.sum() > 0 else problem.population
    for centre in set(assignment.tolist()):
        capacity = problem.centre_capacity[centre]
        if np.isfinite(capacity) and float(load[assignment == centre].sum()) > capacity + 1e-9:
            return False
    return True


def random_place(seed: int):
    """Random populations, patients, bounds and hubs on a 3 x 3 grid (seeded: the same place for a seed)."""
    rng = np.random.default_rng(100 + seed)
    population = rng.integers(5, 15, size=9).tolist()
    total = sum(population)
    return grid_problem(
        3,
        3,
        population=population,
        pop_min=int(total * 0.2),
        pop_max=int(total * 0.45),
        k_min=3,
        k_max=4,
        hubs=sorted(rng.choice(9, size=5, replace=False).tolist()),
        pcn_patients=rng.integers(0, 20, size=(3, 9)).astype(float),
        weights=Weights(access=float(rng.uniform(0.2, 1.0)), pcn=float(rng.uniform(0.2, 1.0))),
    )
