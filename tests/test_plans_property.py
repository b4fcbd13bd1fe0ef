"""Property (hypothesis): on random small planar grids and bounds, every plan solve_place returns passes the
independent verifier, or the place is reported infeasible with a reason; never a wrong "infeasible".

Grids have random populations, some random cell diagonals (still planar), random bounds and k, and sometimes
hubs with required flags, locks and an access radius. On grids of up to 8 LSOAs the answer is checked against
brute force: a place called infeasible must have no valid plan, and a place with one must get a plan.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footprint.problem import PlaceProblem
from footprint.solve import SolveOptions, solve_place
from footprint.verify import verify_plan
from problems import brute_force, grid_problem, plan_rules

GOOD = ("optimal", "feasible", "heuristic")


@st.composite
def places(draw: st.DrawFn) -> PlaceProblem:
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    n = rows * cols
    population = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
    total = max(sum(population), 1)
    pop_max = draw(st.integers(max(1, total // 5), total + 10))
    pop_min = draw(st.integers(0, pop_max))
    hubs = None
    required: list[int] = []
    locks: tuple[tuple[int, int], ...] = ()
    centres = n
    if draw(st.booleans()):
        hubs = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(n, 4))))
        centres = len(hubs)
        required = sorted(draw(st.sets(st.integers(0, len(hubs) - 1), max_size=2)))
        if draw(st.booleans()):
            unit = draw(st.integers(0, n - 1))
            locks = ((unit, draw(st.integers(0, len(hubs) - 1))),)
    k_min = draw(st.integers(1, min(3, centres)))
    k_max = draw(st.integers(k_min, centres))  # as footprint.instance caps k at the number of hubs
    radius = draw(st.one_of(st.none(), st.floats(1.0, 4.0)))
    problem = grid_problem(
        rows,
        cols,
        population=population,
        pop_min=pop_min,
        pop_max=pop_max,
        k_min=k_min,
        k_max=k_max,
        hubs=hubs,
        required=required,
        locks=locks,
        max_distance_km=radius,
    )
    # some diagonals, at most one per cell, keep the graph planar (queen-like adjacency)
    diagonals = []
    for r in range(rows - 1):
        for c in range(cols - 1):
            choice = draw(st.sampled_from(["none", "up", "down"]))
            u = r * cols + c
            if choice == "up":
                diagonals.append((u, u + cols + 1))
            elif choice == "down":
                diagonals.append((u + 1, u + cols))
    return replace(problem, edges=tuple(sorted(set(problem.edges) | set(diagonals))))


def failures(problem: PlaceProblem, assignment: np.ndarray) -> list[str]:
    codes = problem.unit_codes
    labels = {codes[i]: problem.centre_ids[int(c)] for i, c in enumerate(assignment)}
    hubs = {hub: hub for hub in set(labels.values())}
    return list(verify_plan(labels, hubs, plan_rules(problem)).failures)


@settings(
    max_examples=int(os.environ.get("FOOTPRINT_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(problem=places(), method=st.sampled_from(["auto", "heuristic"]))
def test_every_plan_is_verified_or_the_place_is_infeasible_with_a_reason(
    problem: PlaceProblem, method: str
) -> None:
    solution = solve_place(problem, SolveOptions(method=method, solver="highs", time_limit=20, gap=0.0))
    if method == "heuristic" and solution.status == "error":  # a heuristic may miss: it must say so
        assert solution.message.endswith(
            "found by the heuristic; use --method exact (the solver finds a plan or proves there is none)."
        )
        return
    assert solution.status in (*GOOD, "infeasible"), solution.message
    if solution.status in GOOD:
        assert len(solution.assignment) == problem.n_units
        assert failures(problem, solution.assignment) == []
    else:
        assert solution.message.startswith(f"Place {problem.place_code} (") and len(solution.message) > 40
    if problem.n_units <= 8:
        exact = brute_force(problem)
        if solution.status == "infeasible":
            assert exact is None, f"called infeasible but {exact[1].tolist()} is valid: {solution.message}"
        elif method == "auto" and exact is not None:
            assert solution.objective <= exact[0] + 1e-6 * max(1.0, abs(exact[0]))
