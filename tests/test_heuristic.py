"""The heuristic returns only valid plans (property-based on random grids) and is reproducible."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footprint.heuristic import solve_heuristic
from footprint.verify import PlanRules, verify_plan
from problems import grid_problem


def valid(problem, assignment) -> list[str]:
    codes = problem.unit_codes
    rules = PlanRules(
        unit_place=dict.fromkeys(codes, "P1"),
        population={c: float(problem.population[i]) for i, c in enumerate(codes)},
        edges=[(codes[a], codes[b]) for a, b in problem.edges],
        pop_min=problem.pop_min,
        pop_max=problem.pop_max,
        k_min={"P1": problem.k_min},
        k_max={"P1": problem.k_max},
        hub_unit={
            problem.centre_ids[c]: codes[int(problem.centre_root[c])] for c in range(problem.n_centres)
        },
    )
    labels = {codes[i]: problem.centre_ids[int(c)] for i, c in enumerate(assignment)}
    return list(verify_plan(labels, {h: h for h in set(labels.values())}, rules).failures)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(2, 5),
    cols=st.integers(2, 6),
    seed=st.integers(0, 10_000),
    low=st.integers(20, 60),
    spread=st.integers(0, 60),
)
def test_heuristic_plans_are_always_valid(rows: int, cols: int, seed: int, low: int, spread: int) -> None:
    rng = np.random.default_rng(seed)
    population = rng.integers(5, 25, size=rows * cols).tolist()
    total = sum(population)
    high = low + spread
    k_min, k_max = -(-total // high), total // low
    problem = grid_problem(
        rows, cols, population=population, pop_min=low, pop_max=high, k_min=k_min, k_max=max(k_max, 1)
    )
    result = solve_heuristic(problem, seed=seed)
    if result is not None:
        assert valid(problem, result.assignment) == []
        assert problem.k_min <= len(set(result.assignment.tolist())) <= problem.k_max


def test_reproducible_for_a_seed() -> None:
    problem = grid_problem(4, 5, pop_min=40, pop_max=70, k_min=3, k_max=5)
    first = solve_heuristic(problem, seed=7)
    second = solve_heuristic(problem, seed=7)
    assert first is not None and np.array_equal(first.assignment, second.assignment)


def test_hubs_required_and_locks_are_kept() -> None:
    problem = grid_problem(
        3, 4, pop_min=30, pop_max=60, k_min=2, k_max=3, hubs=[0, 3, 8, 11], required=[3], locks=((4, 0),)
    )
    result = solve_heuristic(problem)
    assert result is not None
    assert 3 in set(result.assignment.tolist())
    assert result.assignment[4] == 0
    assert result.assignment[0] == 0 and result.assignment[11] != 0
