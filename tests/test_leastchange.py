"""The least-change model of ``footprint.leastchange`` on a grid small enough to solve by hand.

A 3 x 3 grid of 10 residents per unit, bounds 20-40 (so 3 or 4 neighbourhoods)::

    6 - 7 - 8        map:  B B A
    |   |   |              B B A
    3 - 4 - 5              A A A   (A = {0, 1, 2, 5, 8}: 50 residents, over 40; B = {3, 4, 6, 7}: 40)
    |   |   |
    0 - 1 - 2

B is full, so A must shed at least one unit into a new neighbourhood, which needs 20 residents: the least change
moves two units (20 residents), e.g. {5, 8}, {0, 1} or {7, 8} into a new neighbourhood.
"""

from __future__ import annotations

import numpy as np

from footprint.heuristic import check_plan
from footprint.leastchange import build_least_change, solve_least_change
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import Weights
from footprint.solve import SolveOptions
from problems import grid_problem

MAP = ["A", "A", "A", "B", "B", "A", "B", "B", "A"]
OPTIONS = SolveOptions(time_limit=20, threads=1)


def test_least_change_moves_two_units_and_proves_it() -> None:
    problem = grid_problem(3, 3, pop_min=20, pop_max=40, k_min=3, k_max=4)
    least = build_least_change(problem, MAP)
    assert least.labels.count("") >= 1  # a candidate for the new neighbourhood A's excess needs
    result = solve_least_change(least, OPTIONS)
    assert result.state == "optimal"
    assert result.moved == 20 and result.bound == 20 and result.gap == 0
    assert not check_plan(least.problem, result.assignment)
    full = least.full(result.assignment)
    assert not check_plan(problem, full)
    # exactly two units leave their own neighbourhood's anchor (several plans do it, e.g. {7, 8} or {5, 8} new)
    home = least.full(least.home)
    assert int((full != home).sum()) == 2 and len(set(full.tolist())) == 3


def test_anchors_read_off_a_plan_count_what_its_stability_term_counts() -> None:
    problem = grid_problem(3, 3, pop_min=20, pop_max=40, k_min=3, k_max=4)
    plan = np.array([1, 1, 1, 4, 4, 8, 4, 4, 8])  # {0, 1, 2}, {3, 4, 6, 7}, {5, 8}
    least = build_least_change(problem, MAP, plan=plan)
    assert least.start is not None and least.moved(least.start) == 20
    baseline = np.array([0 if label == "A" else 1 for label in MAP])
    stability = evaluate_terms(
        grid_problem(3, 3, pop_min=20, pop_max=40, k_min=3, k_max=4, baseline=baseline), plan
    )["stability"]
    assert round(stability * problem.total_population) == 20


def test_improve_moves_at_most_the_share_and_is_no_worse_by_the_objective() -> None:
    weights = Weights(access=1.0, pcn=0.0)
    problem = grid_problem(3, 3, pop_min=20, pop_max=40, k_min=3, k_max=4, weights=weights)
    least = build_least_change(problem, MAP)
    first = solve_least_change(least, OPTIONS)
    for share in (20 / 90, 40 / 90):
        better = solve_least_change(least, OPTIONS, share=share, weights=weights, start=first.assignment)
        assert better.state == "optimal"
        assert better.moved <= share * 90 + 1e-9
        objective = {
            name: weighted_objective(problem, evaluate_terms(problem, least.full(assignment)))
            for name, assignment in (("least", first.assignment), ("better", better.assignment))
        }
        assert objective["better"] <= objective["least"] + 1e-9
