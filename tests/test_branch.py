"""Branch-and-price (footprint.branch) against enumeration on tiny grids.

The tree's bound must never exceed the optimum, whatever stops it; a tree searched to the end proves the optimum
(its bound reaches the best plan, which is the brute-force optimum); and a node's restrictions must keep exactly
the plans that meet them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from footprint.branch import COUNT, Branch, allowed, branch_and_price, choose_branch, restricted
from footprint.colgen import Pricing, generate_columns
from footprint.heuristic import check_plan
from footprint.objective import evaluate_terms, weighted_objective
from problems import brute_force, random_place


class Incumbent:
    """The best plan offered so far, as the solver's incumbent keeps it."""

    def __init__(self, problem, objective: float = math.inf) -> None:
        self.problem = problem
        self.objective = objective
        self.offered = 0

    def offer(self, assignment: np.ndarray) -> float:
        assert not check_plan(self.problem, assignment)  # every plan a node gives is valid
        self.offered += 1
        self.objective = min(
            self.objective, weighted_objective(self.problem, evaluate_terms(self.problem, assignment))
        )
        return self.objective

    def enough(self) -> float:
        """The bound that proves the incumbent optimal."""
        return self.objective


def test_restrictions_keep_the_plans_that_meet_them():
    """Opening, closing and serving restrictions change reach, locks and the centres that must or may open."""
    problem = random_place(0)
    pricing = Pricing(problem)
    centre = 1
    unit = next(
        u for u in range(problem.n_units) if pricing.reach[u, centre] and u != problem.centre_root[centre]
    )
    opened = restricted(pricing, (Branch(centre, -1, True),))
    assert opened is not None and opened.required[centre] and not pricing.required[centre]
    closed = restricted(pricing, (Branch(centre, -1, False),))
    assert closed is not None and not closed.openable[centre]
    served = restricted(pricing, (Branch(centre, unit, True),))
    assert served is not None and served.required[centre] and unit in served.locked_to[centre]
    assert served.reach[unit].sum() == 1 and served.reach[unit, centre]
    assert unit not in pricing.locked_to[centre]  # the root's arrays are untouched
    not_served = restricted(pricing, (Branch(centre, unit, False),))
    assert not_served is not None and not not_served.reach[unit, centre] and pricing.reach[unit, centre]
    # contradictions: a centre both required and closed; serving a unit from a closed centre
    assert restricted(pricing, (Branch(centre, -1, True), Branch(centre, -1, False))) is None
    assert restricted(pricing, (Branch(centre, -1, False), Branch(centre, unit, True))) is None


def test_a_column_is_allowed_only_where_it_meets_the_restrictions():
    problem = random_place(1)
    pricing = Pricing(problem)
    columns = [
        pricing.column(c, units) for c in range(problem.n_centres) for units in _some_columns(pricing, c)
    ]
    assert columns
    for branch in (Branch(0, -1, False), Branch(2, -1, True)):
        node = restricted(pricing, (branch,))
        assert node is not None
        for col in columns:
            if not branch.value:
                assert allowed(node, col) == (col.centre != branch.centre)
            else:
                assert allowed(node, col)  # opening a centre rules no column out
    col = columns[0]
    other = next(u for u in range(problem.n_units) if u not in col.units)
    node = restricted(pricing, (Branch(col.centre, other, True),))
    if node is not None:
        assert not allowed(node, col)  # the centre's columns must now hold the unit
    node = restricted(pricing, (Branch(col.centre, col.units[-1], False),))
    if node is not None:
        assert not allowed(node, col)


def _some_columns(pricing: Pricing, centre: int) -> list[tuple[int, ...]]:
    from footprint.colgen import Duals, price_heuristic

    p = pricing.problem
    duals = Duals(
        np.full(p.n_units, 0.5),
        0.0,
        np.zeros(p.n_centres),
        np.zeros(len(pricing.pcn)),
        np.zeros(len(pricing.labels)),
    )
    return price_heuristic(pricing, centre, duals) if pricing.openable[centre] else []


def test_count_restrictions_narrow_the_range_of_neighbourhoods():
    problem = random_place(0)  # k 3-4
    pricing = Pricing(problem)
    at_least = restricted(pricing, (Branch(COUNT, 4, True),))
    assert at_least is not None and (at_least.k_min, at_least.k_max) == (4, 4)
    fewer = restricted(pricing, (Branch(COUNT, 4, False),))
    assert fewer is not None and (fewer.k_min, fewer.k_max) == (3, 3)
    assert (pricing.k_min, pricing.k_max) == (3, 4)  # the root's range is untouched
    assert np.array_equal(fewer.reach, pricing.reach) and np.array_equal(fewer.required, pricing.required)
    assert restricted(pricing, (Branch(COUNT, 4, True), Branch(COUNT, 4, False))) is None  # empty range
    assert restricted(pricing, (Branch(COUNT, 5, True),)) is None  # beyond the place's range
    # more centres required than the range allows (four that may open: fine without the count branch)
    four = tuple(Branch(int(c), -1, True) for c in np.flatnonzero(pricing.openable)[:4])
    assert len(four) == 4 and restricted(pricing, four) is not None
    assert restricted(pricing, (Branch(COUNT, 4, False), *four)) is None


def test_choose_branch_prefers_the_count_then_centres_then_the_share_nearest_a_half():
    share = np.zeros((3, 4))
    # 2.7 neighbourhoods: at least 3 (leaning 0.7 that way) or at most 2
    assert choose_branch(np.array([1.0, 0.3, 0.4, 1.0]), share) == (COUNT, 3, pytest.approx(0.7))
    opening = np.array([1.0, 0.2, 0.55, 0.25])  # a whole count: the centre nearest a half
    assert choose_branch(opening, share) == (2, -1, 0.55)
    # a count the node's range already fixes on one side is not branched on (it would repeat the node)
    nearly = np.array([1.0, 0.45, 0.55, 1.0])
    assert choose_branch(nearly, share, total=2.999999, counts=(3, 4)) == (1, -1, 0.45)
    assert choose_branch(nearly, share, total=2.6, counts=(2, 3)) == (COUNT, 3, pytest.approx(0.6))
    share[1, 3] = 0.8
    share[2, 0] = 0.4
    assert choose_branch(np.array([1.0, 0.0, 1.0, 1.0]), share) == (0, 2, 0.4)
    assert choose_branch(np.array([1.0, 0.0]), np.array([[1.0, 0.0]])) is None


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("passes", [50, 1])
@pytest.mark.parametrize("triples", [0, 3], ids=["no-cuts", "cuts"])
def test_tree_bound_is_valid_and_a_finished_tree_proves_the_optimum(seed, passes, triples):
    """From a root whose column generation is cut short, the tree's bound never exceeds the optimum; searched
    to the end it proves the best plan, which is the brute-force optimum (also when each node's column
    generation stops after one exact pass: a node left whole but not converged is solved again; and when the
    root added subset-row cuts, which every node keeps)."""
    problem = random_place(seed)
    exact = brute_force(problem)
    if exact is None:
        pytest.skip("no plan")
    result, master = generate_columns(problem, exact_passes=1 if not triples else 30, triple_rounds=triples)
    incumbent = Incumbent(problem)
    tree = branch_and_price(
        problem,
        master,
        result,
        incumbent.offer,
        lambda: incumbent.objective,
        nodes=10_000,
        exact_passes=passes,
    )
    assert tree.bound <= exact[0] + 1e-9
    assert tree.bound >= result.bound - 1e-12
    assert not tree.stopped and tree.open == 0
    if seed == 3 or (seed == 4 and not triples):  # these roots' LPs are fractional: the trees branch
        assert tree.nodes >= 2 and tree.bound > result.bound + 1e-3
    if seed == 4 and triples:  # the cuts close seed 4's root: nothing is left to branch on
        assert result.triples > 0 and tree.nodes == 0 and result.bound == pytest.approx(exact[0], abs=1e-7)
    assert incumbent.objective == pytest.approx(exact[0], abs=1e-9)
    assert tree.bound == pytest.approx(exact[0], abs=1e-7)


def test_tree_stops_at_its_node_limit_with_a_valid_bound():
    problem = random_place(3)
    exact = brute_force(problem)
    assert exact is not None
    result, master = generate_columns(problem, exact_passes=1)
    incumbent = Incumbent(problem)
    tree = branch_and_price(problem, master, result, incumbent.offer, lambda: incumbent.objective, nodes=1)
    assert tree.nodes <= 1
    assert tree.bound <= exact[0] + 1e-9


def test_tree_does_nothing_when_the_root_bound_is_enough():
    problem = random_place(2)
    result, master = generate_columns(problem, exact_passes=3)
    incumbent = Incumbent(problem, objective=result.bound)
    tree = branch_and_price(problem, master, result, incumbent.offer, lambda: result.bound)
    assert tree.nodes == 0 and tree.bound == result.bound and incumbent.offered == 0


@pytest.mark.parametrize("seed", [3, 13, 16])
def test_solve_proves_the_optimum_by_branching(seed):
    """method columns with gap 1e-5 on places whose master LP is fractional: branch-and-price proves the
    brute-force optimum, and run.json's counts say the tree did it. (Not gap 0: a pricing MIP's value holds
    to HiGHS's feasibility tolerance of 1e-6, so a node's proved bound may sit that far below its LP, as seed
    4's last node's did before cuts closed its root: 0.9042411 against 0.9042421.)"""
    from footprint.solve import SolveOptions, solve_place

    problem = random_place(seed)
    exact = brute_force(problem)
    assert exact is not None
    solution = solve_place(problem, SolveOptions(method="columns", time_limit=60, gap=1e-5))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(exact[0], abs=1e-9)
    assert exact[0] - 1e-5 <= solution.bound <= exact[0] + 1e-9
    assert not check_plan(problem, solution.assignment)
    assert solution.model["tree_nodes"] >= 1 and solution.model["tree_open_nodes"] == 0


def test_a_node_whose_column_generation_ran_out_is_solved_again(monkeypatch):
    """A node whose LP is whole but not proven converged is neither closed (its bound would be too weak) nor
    branched: it goes back to the queue and is solved again; the finished tree still proves the optimum."""
    import dataclasses

    from footprint import branch

    problem = random_place(3)
    exact = brute_force(problem)
    assert exact is not None
    real = branch.generate_columns
    calls: dict[tuple, int] = {}

    def first_run_out(problem, plans, **kwargs):
        result, master = real(problem, plans, **kwargs)
        node = kwargs["pricing"]
        key = (node.reach.tobytes(), node.required.tobytes(), node.k_min, node.k_max)
        calls[key] = calls.get(key, 0) + 1
        if calls[key] == 1:  # each node's first column generation: as if its passes ran out, nothing proved
            result = dataclasses.replace(result, converged=False, bound=math.nan)
        return result, master

    monkeypatch.setattr(branch, "generate_columns", first_run_out)
    result, master = generate_columns(problem, exact_passes=1)
    incumbent = Incumbent(problem)
    tree = branch_and_price(
        problem, master, result, incumbent.offer, lambda: incumbent.objective, nodes=10_000
    )
    assert any(count >= 2 for count in calls.values())  # some node was solved again
    assert tree.open == 0 and not tree.stopped
    assert incumbent.objective == pytest.approx(exact[0], abs=1e-9)
    assert tree.bound == pytest.approx(exact[0], abs=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_a_node_of_one_count_bounds_and_proves_the_best_plan_of_that_count(seed):
    """Under count restrictions alone, a node's bound is at most the best plan of the counts it allows (brute
    force over those plans), and its tree, searched to the end, proves that plan."""
    problem = random_place(seed)
    pricing = Pricing(problem)
    overall = brute_force(problem)
    assert overall is not None
    for m in range(problem.k_min, problem.k_max + 1):
        exact = brute_force(problem, counts=range(m, m + 1))
        node = restricted(pricing, (Branch(COUNT, m, True), Branch(COUNT, m + 1, False)))
        assert node is not None and (node.k_min, node.k_max) == (m, m)
        result, master = generate_columns(problem, pricing=node, exact_passes=1)
        if exact is None:
            # no plan of m neighbourhoods: its bound passes any incumbent (here the place's best plan) and the
            # tree closes with nothing offered
            incumbent = Incumbent(problem, objective=overall[0])
            tree = branch_and_price(problem, master, result, incumbent.offer, incumbent.enough, nodes=10_000)
            assert incumbent.offered == 0 and tree.open == 0 and tree.bound >= overall[0]
            continue
        assert result.bound <= exact[0] + 1e-9
        incumbent = Incumbent(problem)
        tree = branch_and_price(problem, master, result, incumbent.offer, incumbent.enough, nodes=10_000)
        assert tree.bound <= exact[0] + 1e-9
        assert incumbent.objective == pytest.approx(exact[0], abs=1e-9)
        assert tree.bound == pytest.approx(exact[0], abs=1e-7)
