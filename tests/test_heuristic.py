"""The heuristic returns only valid plans (property-based on random grids) and is reproducible."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footprint.heuristic import check_plan, solve_heuristic
from footprint.problem import Weights
from footprint.verify import verify_plan
from problems import grid_problem, plan_rules


def valid(problem, assignment) -> list[str]:
    codes = problem.unit_codes
    rules = plan_rules(problem)
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


def test_check_plan_names_every_broken_rule() -> None:
    """2 x 3 grid, 10 people each, hubs H0..H2 at units 0, 2, 4 (H1 required, capacity 15 on H2)::

    3 - 4 - 5
    |   |   |
    0 - 1 - 2
    """
    problem = grid_problem(
        2,
        3,
        pop_min=20,
        pop_max=30,
        k_min=2,
        k_max=2,
        hubs=[0, 2, 4],
        required=[1],
        locks=((5, 1),),
        capacity=[np.inf, np.inf, 15],
    )
    assert check_plan(problem, np.array([0, 0, 1, 0, 1, 1])) == []
    assert check_plan(problem, np.array([0, 1, 1, 1, 1, 0])) == [
        "1 units served by a centre they may not use (radius or lock)",
        "H0 is not connected",
        "H1 serves 40, outside 20-30",
    ]
    assert check_plan(problem, np.array([0, 0, 0, 0, 2, 1])) == [
        "3 neighbourhoods, outside 2-2",
        "H0 serves 40, outside 20-30",
        "H1 does not serve its own root L02",
        "H2 serves 10, outside 20-30",
    ]
    assert check_plan(problem, np.array([0, 0, 0, 2, 2, 2])) == [
        "1 units served by a centre they may not use (radius or lock)",
        "H2 exceeds its capacity 15",
        "required H1 is not open",
    ]
    assert check_plan(problem, np.array([0, 0])) == ["assignment has shape (2,), expected (6,)"]


def test_unit_centres_that_are_a_subset_of_the_units() -> None:
    """Candidate LSOA centres at units 1, 4, 7, 10 of a 3 x 4 grid (centre index != unit index): re-centring must
    map centres through centre_root and the plan must stay valid."""
    hubs = grid_problem(3, 4, pop_min=30, pop_max=60, k_min=2, k_max=4, hubs=[1, 4, 7, 10])
    problem = replace(hubs, centre_kind="unit")
    result = solve_heuristic(problem, seed=1)
    assert result is not None and check_plan(problem, result.assignment) == []


def test_capacity_is_kept() -> None:
    problem = grid_problem(
        2, 4, pop_min=20, pop_max=60, k_min=2, k_max=3, hubs=[0, 3, 5, 6], capacity=[25, 80, 80, 80]
    )
    result = solve_heuristic(problem)
    assert result is not None and check_plan(problem, result.assignment) == []
    assert (result.assignment == 0).sum() <= 2


def test_no_plan_is_none() -> None:
    """1 x 5 row 10 | 5 | 10 | 5 | 10 cannot split into two connected parts of exactly 20."""
    problem = grid_problem(1, 5, population=[10, 5, 10, 5, 10], pop_min=20, pop_max=20, k_min=2, k_max=2)
    assert solve_heuristic(problem) is None


def test_reaches_the_optimum_on_a_small_grid() -> None:
    """2 x 4 grid, bounds 20-30, 3 regions: the heuristic finds the brute-force optimum of the access term."""
    from problems import brute_force

    problem = grid_problem(2, 4, pop_min=20, pop_max=30, k_min=3, k_max=3)
    result = solve_heuristic(problem)
    assert result is not None
    assert result.objective == pytest.approx(brute_force(problem)[0])


def test_pcn_seed_points_sit_where_the_largest_pcns_patients_live() -> None:
    """1 x 4 row at 0, 1, 2, 3 km; PCN 0 (12 patients) at units 0-1, PCN 1 (4) at unit 3, PCN 2 (1) at unit 2."""
    from footprint.heuristic import _pcn_points

    problem = grid_problem(
        1,
        4,
        pcn_patients=np.array([[6.0, 6, 0, 0], [0.0, 0, 0, 4], [0.0, 0, 1, 0]]),
        weights=Weights(access=1, pcn=1),
    )
    points = _pcn_points(problem, 2)
    assert points.tolist() == [[0.5, 0.0], [3.0, 0.0]]
    assert _pcn_points(problem, 4) is None  # fewer PCNs than neighbourhoods: k-means seeds instead
    no_pcn_weight = grid_problem(1, 4, pcn_patients=problem.pcn_patients, weights=Weights(access=1, pcn=0))
    assert _pcn_points(no_pcn_weight, 2) is None
