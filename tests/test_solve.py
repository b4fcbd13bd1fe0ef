"""The MIP against brute-force enumeration on tiny grids, infeasibility messages, solvers, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from footprint.problem import Weights
from footprint.solve import SolveOptions, check_feasibility, solve_place
from problems import brute_force, grid_problem

CASES = {
    # 2 x 3 grid, 10 people per unit, every unit a candidate centre
    "access": dict(rows=2, cols=3, pop_min=20, pop_max=30, k_min=2, k_max=3),
    "uneven": dict(
        rows=2, cols=3, population=[5, 30, 10, 10, 5, 20], pop_min=20, pop_max=45, k_min=2, k_max=3
    ),
    "hubs": dict(rows=2, cols=4, pop_min=20, pop_max=50, k_min=2, k_max=3, hubs=[0, 3, 5, 6]),
    "hubs_required_lock": dict(
        rows=2,
        cols=4,
        pop_min=20,
        pop_max=50,
        k_min=2,
        k_max=3,
        hubs=[0, 3, 5, 6],
        required=[2],
        locks=((7, 0),),
    ),
    "pcn": dict(
        rows=2,
        cols=3,
        pop_min=20,
        pop_max=40,
        k_min=2,
        k_max=3,
        pcn_patients=np.array([[9.0, 8, 1, 0, 0, 0], [0.0, 1, 7, 0, 9, 9]]),
        weights=Weights(access=1, pcn=2),
    ),
    "demand_stability_community": dict(
        rows=2,
        cols=3,
        pop_min=20,
        pop_max=40,
        k_min=2,
        k_max=2,
        demand=np.array([10.0, 5, 5, 30, 5, 5]),
        baseline=np.array([0, 0, 1, 0, 1, 1]),
        groups=np.array([0, 0, 0, 1, 1, -1]),
        weights=Weights(access=1, demand=1, stability=1, community=1),
    ),
    "radius": dict(rows=1, cols=5, pop_min=10, pop_max=30, k_min=2, k_max=3, max_distance_km=1.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_mip_matches_brute_force(name: str, solver: str) -> None:
    problem = grid_problem(**CASES[name])
    expected = brute_force(problem)
    assert expected is not None
    solution = solve_place(problem, SolveOptions(solver=solver, gap=0.0, time_limit=30))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(expected[0], rel=1e-6, abs=1e-9)
    assert solution.bound <= solution.objective + 1e-9
    assert solution.gap == pytest.approx(0.0, abs=1e-6)
    assert solution.method.startswith("mip-cuts")


def test_flow_formulation_matches_brute_force() -> None:
    problem = grid_problem(**CASES["hubs"])
    solution = solve_place(problem, SolveOptions(contiguity="flow", gap=0.0))
    assert solution.objective == pytest.approx(brute_force(problem)[0], rel=1e-6)


def test_cut_loop_repairs_a_disconnected_optimum() -> None:
    """A ring-free 1 x 5 row where the compact optimum without contiguity would split a neighbourhood.

    Populations 10, 1, 10, 1, 10 with bounds 11-21 and 2 centres: the heuristic is off, so the MIP must reach a
    connected plan through cuts (method exact)."""
    problem = grid_problem(1, 5, population=[10, 1, 10, 1, 10], pop_min=11, pop_max=21, k_min=2, k_max=2)
    solution = solve_place(problem, SolveOptions(method="exact", gap=0.0))
    assert solution.objective == pytest.approx(brute_force(problem)[0])


def test_heuristic_only_method() -> None:
    problem = grid_problem(2, 3, pop_min=20, pop_max=30, k_min=2, k_max=3)
    solution = solve_place(problem, SolveOptions(method="heuristic"))
    assert solution.status == "heuristic" and np.isnan(solution.gap) and solution.method == "heuristic"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(rows=1, cols=3, pop_min=40, pop_max=50),
            "Place P1 (Testplace, 30 residents) is smaller than one neighbourhood of 40-50: plan it with a neighbouring "
            "borough (inputs.places.merge) or set pop.min <= 30.",
        ),
        (
            dict(rows=1, cols=4, pop_min=25, pop_max=30),
            "Place P1 (Testplace, 40 residents) cannot be split into whole neighbourhoods of 25-30: 2 would be needed "
            "for the maximum but at most 1 fit the minimum. Widen the bounds (e.g. pop.min <= 20).",
        ),
        (
            dict(rows=2, cols=4, pop_min=10, pop_max=20, hubs=[0, 7]),
            "Place P1 (Testplace, 80 residents) cannot be split into neighbourhoods of 10-20 with the 2 hubs given: "
            "at least 4 are needed. Add hubs, or set pop.max >= 40.",
        ),
        (
            dict(rows=1, cols=3, population=[5, 60, 5], pop_min=10, pop_max=50),
            "Place P1 (Testplace, 70 residents): LSOAs larger than pop.max 50: L01 (60); raise pop.max.",
        ),
    ],
)
def test_infeasible_places_explained(kwargs: dict, message: str) -> None:
    problem = grid_problem(**kwargs)
    assert message in check_feasibility(problem)
    solution = solve_place(problem)
    assert solution.status == "infeasible" and message in solution.message


def test_locked_lsoa_beyond_radius_is_explained() -> None:
    problem = grid_problem(1, 4, pop_min=10, pop_max=40, hubs=[0, 3], locks=((3, 0),), max_distance_km=1.5)
    (reason,) = [r for r in check_feasibility(problem) if "locked" in r]
    assert reason == (
        "Place P1 (Testplace, 40 residents): L03 is locked to hub H0 3.0 km away, beyond access.max_distance_km 1.5; "
        "fix the lock or raise the radius."
    )


def test_solver_proves_infeasibility_from_contiguity() -> None:
    """Bounds allow k=2 on totals, but the 1 x 3 row 10 | 40 | 10 cannot split into connected 25-35 parts."""
    problem = grid_problem(1, 3, population=[10, 40, 10], pop_min=25, pop_max=45, k_min=2, k_max=2)
    solution = solve_place(problem)
    assert solution.status == "infeasible"
    assert (
        "the solver proved no plan meets the bounds 25-45 with connected neighbourhoods" in solution.message
    )


def test_deterministic() -> None:
    problem = grid_problem(**CASES["pcn"])
    first = solve_place(problem, SolveOptions(seed=3))
    second = solve_place(problem, SolveOptions(seed=3))
    assert np.array_equal(first.assignment, second.assignment) and first.objective == second.objective
