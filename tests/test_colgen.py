"""Column generation (footprint.colgen) against enumeration on tiny grids.

Every column of a tiny place can be listed, so these tests check the pieces the certificate rests on: the set
partitioning master over *all* columns is exactly the place's problem (its integer optimum is the brute-force
optimum, every term included); exact pricing finds the least reduced cost over every column, at any duals; the
bound of column generation never exceeds the optimum and, once converged, equals the full master's LP; and the
solver stage built on it writes valid, reproducible plans with an honest gap.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from footprint import colgen
from footprint.colgen import (
    Column,
    Duals,
    Master,
    Pricing,
    generate_columns,
    price_exact,
    price_heuristic,
    reduced_cost,
)
from footprint.heuristic import check_plan
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import Weights
from footprint.solve import SolveOptions, solve_place
from problems import brute_force, grid_problem, random_place


def every_column(pricing: Pricing) -> list[Column]:
    """Every valid column of the place, with every set of PCN homes and every label (or none) it could take."""
    p = pricing.problem
    columns = []
    for centre in range(p.n_centres):
        root = int(p.centre_root[centre])
        others = [u for u in range(p.n_units) if u != root and pricing.reach[u, centre]]
        for size in range(len(others) + 1):
            for extra in itertools.combinations(others, size):
                units = tuple(sorted((root, *extra)))
                if not pricing.valid(centre, units):
                    continue
                members = np.asarray(units)
                pcns = range(len(pricing.pcn))
                homes_choices = [
                    c for r in range(len(pricing.pcn) + 1) for c in itertools.combinations(pcns, r)
                ]
                for homes in homes_choices:
                    for label in [-1, *range(len(pricing.labels))]:
                        columns.append(
                            Column(centre, units, homes, label, pricing.cost(centre, members, homes, label))
                        )
    return columns


def least_by_enumeration(pricing: Pricing, centre: int, duals: Duals) -> float:
    """The least Lagrangian cost (cost - pi - sigma - tau, plus -rho for each cut it holds two of) of any column
    of ``centre``."""
    values = [
        reduced_cost(col, duals, pricing) + duals.mu + float(duals.nu[centre])
        for col in every_column(pricing)
        if col.centre == centre
    ]
    return min(values) if values else math.inf


def random_duals(pricing: Pricing, rng: np.random.Generator, scale: float) -> Duals:
    p = pricing.problem
    return Duals(
        pi=rng.normal(0.0, scale, p.n_units),
        mu=float(rng.normal(0.0, scale)),
        nu=-np.abs(rng.normal(0.0, scale, p.n_centres)),
        sigma=-np.abs(rng.normal(0.0, scale, len(pricing.pcn))),
        tau=-np.abs(rng.normal(0.0, scale, len(pricing.labels))),
    )


def full_problem(weights: Weights, **extra) -> object:
    """A 2 x 4 grid with two hubs at opposite corners and one in the middle, two PCNs (one needing two homes),
    demand, a baseline of two labels and a keep-together pair."""
    rng = np.random.default_rng(7)
    patients = rng.integers(0, 30, size=(2, 8)).astype(float)
    return grid_problem(
        2,
        4,
        population=[10, 12, 9, 11, 10, 8, 13, 10],
        pop_min=18,
        pop_max=45,
        k_min=2,
        k_max=3,
        hubs=[0, 5, 3],
        pcn_patients=patients,
        pcn_homes=[1, 2],
        demand=np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]),
        baseline=np.array([0, 0, 0, 1, 1, 1, 1, 0]),
        groups=np.array([0, 0, -1, -1, 1, -1, -1, -1]),
        weights=weights,
        **extra,
    )


WEIGHTS = [
    Weights(access=1.0, pcn=1.0),
    Weights(access=1.0, pcn=0.0),
    Weights(access=0.2, pcn=1.0, demand=0.5, stability=0.7, community=0.3),
    Weights(access=0.0, pcn=1.0, stability=1.0),
]


@pytest.mark.parametrize("weights", WEIGHTS, ids=["access+pcn", "access", "every-term", "pcn+stability"])
def test_master_over_every_column_is_the_problem(weights):
    """The integer master over every column reaches the brute-force optimum: costs carry every term exactly."""
    problem = full_problem(weights)
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    master.add(every_column(pricing))
    plan = master.integer_plan(nodes=100_000)
    exact = brute_force(problem)
    assert plan is not None and exact is not None
    assert not check_plan(problem, plan)
    assert weighted_objective(problem, evaluate_terms(problem, plan)) == pytest.approx(exact[0], abs=1e-9)


def test_recombining_plans_gives_a_valid_plan_no_worse_than_any_of_them():
    """The walks' plans recombined as an integer programme: a valid plan at most the best of theirs (each is a
    solution of it); none from no plans."""
    from footprint.heuristic import solve_heuristic

    problem = grid_problem(5, 6, pop_min=40, pop_max=90, k_min=3, k_max=6)
    walks = solve_heuristic(problem, seed=3, runs=2, recombine=40, keep_visited=True)
    assert walks is not None and len(walks.visited) > 2
    pricing = Pricing(problem)
    plan = colgen.recombine_plans(pricing, walks.visited, nodes=1000)
    assert plan is not None and not check_plan(problem, plan)
    objective = weighted_objective(problem, evaluate_terms(problem, plan))
    least = min(weighted_objective(problem, evaluate_terms(problem, visited)) for visited in walks.visited)
    assert objective <= least + 1e-9
    assert colgen.recombine_plans(pricing, [], nodes=1000) is None


@pytest.mark.parametrize("weights", WEIGHTS, ids=["access+pcn", "access", "every-term", "pcn+stability"])
@pytest.mark.parametrize("cuts", [False, True], ids=["", "cuts"])
def test_the_integer_master_keeps_every_column_a_better_plan_could_use(weights, cuts):
    """Over the columns whose reduced cost at the LP's duals is at most (incumbent - LP value), the integer master
    still reaches the optimum whenever the incumbent is no better than it, and the filter does leave columns
    out; the cuts' duals take part in the reduced costs."""
    problem = full_problem(weights)
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    master.add(every_column(pricing))
    exact = brute_force(problem)
    assert exact is not None
    if cuts:
        master.add_triples(list(itertools.combinations(range(problem.n_units), 3))[:40])
    value, duals, _, _ = master.solve()
    for incumbent in (exact[0], exact[0] * 1.02):
        within = incumbent - value + 1e-9
        costs = np.array([reduced_cost(col, duals, pricing) for col in master.columns])
        assert costs.min() >= -1e-7  # the LP's optimum: no column prices out
        assert (costs > within).any()
        plan = master.integer_plan(nodes=100_000, duals=duals, within=within)
        assert plan is not None and not check_plan(problem, plan)
        assert weighted_objective(problem, evaluate_terms(problem, plan)) == pytest.approx(exact[0], abs=1e-9)


@pytest.mark.parametrize("weights", WEIGHTS, ids=["access+pcn", "access", "every-term", "pcn+stability"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("flow_after", [colgen.FLOW_AFTER_CUT_ROUNDS, 0], ids=["cuts-first", "flow"])
def test_exact_pricing_finds_the_least_column(weights, seed, flow_after, monkeypatch):
    """At random duals (signs as the master's), the pricing MIP's value is the least over every column, its
    column attains it, and a cutoff caps the bound without losing a column below it; so too with contiguity
    by the flow from the start (it otherwise joins the cuts after a few rounds)."""
    monkeypatch.setattr(colgen, "FLOW_AFTER_CUT_ROUNDS", flow_after)
    problem = full_problem(weights)
    pricing = Pricing(problem)
    rng = np.random.default_rng(seed)
    duals = random_duals(pricing, rng, scale=0.3)
    for centre in range(problem.n_centres):
        least = least_by_enumeration(pricing, centre, duals)
        priced = price_exact(pricing, centre, duals)
        assert priced.proven
        assert priced.bound == pytest.approx(least, abs=1e-7)
        column = pricing.column(centre, priced.units[0], duals.sigma, duals.tau)
        assert reduced_cost(column, duals) + duals.mu + duals.nu[centre] == pytest.approx(least, abs=1e-7)
        cutoff = least + 0.05
        capped = price_exact(pricing, centre, duals, cutoff=cutoff)
        assert capped.bound <= least + 1e-7 and capped.units  # a column below the cutoff is found
        assert pricing.loose_bound(centre, duals) <= least + 1e-9  # the no-search bound used at the deadline
        below = price_exact(pricing, centre, duals, cutoff=least - 0.05)
        assert below.bound == pytest.approx(least - 0.05)  # no column below it: the cutoff is the bound


def test_heuristic_pricing_returns_valid_columns():
    problem = full_problem(WEIGHTS[2])
    pricing = Pricing(problem)
    duals = random_duals(pricing, np.random.default_rng(3), scale=0.3)
    for centre in range(problem.n_centres):
        found = price_heuristic(pricing, centre, duals)
        assert found
        assert all(pricing.valid(centre, units) for units in found)
        best = pricing.column(centre, found[0], duals.sigma, duals.tau)
        assert (
            reduced_cost(best, duals) + duals.mu + duals.nu[centre]
            >= least_by_enumeration(pricing, centre, duals) - 1e-9
        )


@pytest.mark.parametrize("weights", WEIGHTS, ids=["access+pcn", "access", "every-term", "pcn+stability"])
@pytest.mark.parametrize("smoothing", [colgen.SMOOTHING, 0.0, 0.9])
def test_bound_is_valid_and_converges_to_the_full_lp(weights, smoothing, monkeypatch):
    """The column generation bound never exceeds the optimum; converged, it is the LP over every column (with
    the exact passes' smoothing as set, none, and strong)."""
    monkeypatch.setattr(colgen, "SMOOTHING", smoothing)
    problem = full_problem(weights)
    pricing = Pricing(problem)
    result, _ = generate_columns(problem, exact_passes=20)
    exact = brute_force(problem)
    assert exact is not None
    assert result.bound <= exact[0] + 1e-9
    full = Master(pricing, box=1e3)
    full.add(every_column(pricing))
    lp_value, _, _, slack = full.solve()
    assert slack == pytest.approx(0.0, abs=1e-9)
    assert result.converged
    assert result.bound == pytest.approx(lp_value, abs=1e-6)
    assert result.lp_value == pytest.approx(lp_value, abs=1e-6)


@pytest.mark.parametrize("flow_after", [0, 1, colgen.CUT_ROUNDS])
def test_exact_pricing_with_flow_or_cuts_agrees_with_enumeration(flow_after, monkeypatch):
    """Contiguity by the flow from the start, after one round of cuts, or by cuts alone: the same least
    Lagrangian cost as enumeration, on random 3 x 3 places at duals that favour scattered units."""
    monkeypatch.setattr(colgen, "FLOW_AFTER_CUT_ROUNDS", flow_after)
    for seed in range(3):
        problem = random_place(seed)
        pricing = Pricing(problem)
        rng = np.random.default_rng(seed)
        duals = random_duals(pricing, rng, scale=0.5)
        duals.pi[[0, 2, 6, 8]] += 1.0  # the corners pay: disconnected sets tempt the relaxation
        for centre in range(problem.n_centres):
            least = least_by_enumeration(pricing, centre, duals)
            priced = price_exact(pricing, centre, duals)
            assert priced.proven
            assert priced.bound == pytest.approx(least, abs=1e-7)


def test_cuts_kept_from_one_pricing_stay_exact_for_the_next_and_save_mips(monkeypatch):
    """Contiguity cuts found under a branch (the middle unit kept from every centre but the first) are kept for
    the centre in the whole graph and start its next pricing: at the root, at other duals, pricing still equals
    enumeration; at the same duals again it solves fewer MIPs. Cuts alone (no flow), duals that favour scattered
    units."""
    from footprint.branch import Branch, restricted

    monkeypatch.setattr(colgen, "FLOW_AFTER_CUT_ROUNDS", colgen.CUT_ROUNDS)
    first_total = again_total = 0
    for seed in range(4):
        problem = random_place(seed)
        pricing = Pricing(problem)
        rng = np.random.default_rng(seed)
        middle = [
            Branch(c, 4, False) for c in range(1, problem.n_centres) if int(problem.centre_root[c]) != 4
        ]
        node = restricted(pricing, tuple(middle))
        assert node is not None and node.cuts is pricing.cuts  # the branch shares the root's cut pool
        for _duals_seed in range(3):
            duals = random_duals(pricing, rng, scale=0.5)
            duals.pi[[0, 2, 6, 8]] += 1.0  # the corners pay: disconnected sets tempt the relaxation
            for centre in range(problem.n_centres):
                first = price_exact(node, centre, duals)
                again = price_exact(node, centre, duals)
                assert again.bound == pytest.approx(first.bound, abs=1e-7)
                first_total += first.rounds
                again_total += again.rounds
                at_root = price_exact(pricing, centre, duals)
                least = least_by_enumeration(pricing, centre, duals)
                assert least - 1e-5 <= at_root.bound <= least + 1e-7  # valid, and exact to HiGHS's tolerance
        assert any(pricing.cuts.values())
    assert again_total < first_total


@pytest.mark.parametrize("seed", range(6))
def test_bound_never_exceeds_the_optimum_on_random_places(seed):
    """Random populations, patients, bounds and hubs on a 3 x 3 grid: bound <= brute-force optimum, plans valid."""
    problem = random_place(seed)
    exact = brute_force(problem)
    result, master = generate_columns(problem, exact_passes=1 + seed % 3)
    if exact is None:
        return
    assert result.bound <= exact[0] + 1e-9
    plan = master.integer_plan(nodes=1000)
    if plan is not None:
        assert not check_plan(problem, plan)
        assert weighted_objective(problem, evaluate_terms(problem, plan)) >= exact[0] - 1e-9


def mu_priced(master: Master, duals: Duals, least: np.ndarray) -> float:
    """The Lagrangian bound with the k row priced by mu (every centre of negative reduced cost counted)."""
    pr, p = master.pr, master.pr.problem
    value = (
        pr.constant + float(duals.pi.sum()) + float((pr.homes * duals.sigma).sum()) + float(duals.tau.sum())
    )
    value += duals.mu * (p.k_min if duals.mu >= 0 else p.k_max)
    for c in np.flatnonzero(pr.openable):
        reduced = least[c] - duals.mu
        value += reduced if pr.required[c] else min(0.0, reduced)
    return value


@pytest.mark.parametrize("seed", range(4))
def test_the_bound_keeping_the_k_row_holds_at_any_duals_and_beats_pricing_it(seed):
    """At duals near the converged master's and far from them, with each centre's least Lagrangian cost by
    enumeration: the bound (k_min..k_max centres open, the k row kept) is at most the brute-force optimum and
    never below the mu-priced form; on some duals it is above it (random 3 x 3 places: five centres, k 3-4)."""
    problem = random_place(seed)
    exact = brute_force(problem)
    assert exact is not None
    pricing = Pricing(problem)
    columns = every_column(pricing)
    _, master = generate_columns(problem, exact_passes=20)
    _, converged, _, _ = master.solve()
    rng = np.random.default_rng(seed)
    above = 0
    for trial in range(24):
        scale = [0.01, 0.05, 0.3][trial % 3]
        duals = random_duals(pricing, rng, scale)
        if trial % 2 == 0:  # near the converged duals
            duals = Duals(
                pi=duals.pi + converged.pi,
                mu=duals.mu + converged.mu,
                nu=duals.nu,
                sigma=np.minimum(duals.sigma + converged.sigma, 0.0),
                tau=duals.tau,
            )
        least = np.full(problem.n_centres, math.inf)
        for col in columns:
            value = reduced_cost(col, duals) + duals.mu + float(duals.nu[col.centre])
            least[col.centre] = min(least[col.centre], value)
        bound = master.lagrangian(duals, least)
        assert bound <= exact[0] + 1e-9
        priced = mu_priced(master, duals, least)
        assert bound >= priced - 1e-9
        above += bound > priced + 1e-6
    assert above > 0


def test_the_bound_opens_the_cheapest_count_of_centres_a_plan_may_open():
    """The bound's centre term is the least, over every set of openable centres a plan may open (k_min..k_max of
    them, every required one among them), of their ``least`` summed: checked against that enumeration for random
    ``least`` (of both signs) with required and unopenable centres."""
    problem = random_place(0)
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    rng = np.random.default_rng(5)
    zero = Duals(
        pi=np.zeros(problem.n_units),
        mu=0.0,
        nu=np.zeros(problem.n_centres),
        sigma=np.zeros(len(pricing.pcn)),
        tau=np.zeros(len(pricing.labels)),
    )
    base = master.lagrangian(zero, np.zeros(problem.n_centres))
    for trial in range(60):
        pricing.required = rng.random(problem.n_centres) < 0.25
        pricing.openable = rng.random(problem.n_centres) < 0.9
        # a branch narrows the range of counts (footprint.branch): the bound follows the node's range
        low = int(rng.integers(problem.k_min, problem.k_max + 1)) if trial % 2 else problem.k_min
        pricing.k_min, pricing.k_max = low, int(rng.integers(low, problem.k_max + 1)) if trial % 3 else low
        least = rng.normal(0.0, 1.0, problem.n_centres)
        duals = Duals(pi=zero.pi, mu=float(rng.normal()), nu=zero.nu, sigma=zero.sigma, tau=zero.tau)
        open_ = np.flatnonzero(pricing.openable)
        must = set(np.flatnonzero(pricing.openable & pricing.required).tolist())
        sets = [
            chosen
            for m in range(pricing.k_min, pricing.k_max + 1)
            for chosen in itertools.combinations(open_.tolist(), m)
            if must <= set(chosen)
        ]
        if not sets:
            continue
        cheapest = min(float(least[list(chosen)].sum()) for chosen in sets)
        assert master.lagrangian(duals, least) - base == pytest.approx(cheapest, abs=1e-12)


def test_a_pass_cut_short_by_the_clock_still_bounds_validly():
    """The deadline stops the rounds at once: the one exact pass left runs out of time, and its bound (the
    no-search bound for centres it could not price) is still at most the optimum."""
    import time

    problem = full_problem(WEIGHTS[2])
    exact = brute_force(problem)
    now = time.perf_counter()
    result, _ = generate_columns(problem, deadline=now, end=now)
    assert result.stopped
    assert math.isfinite(result.bound) and result.bound <= exact[0] + 1e-9


def test_column_generation_stops_at_a_bound_that_is_enough():
    """``enough`` (the bound that proves the incumbent within the gap) ends the rounds at the first pass reaching
    it; without it the same place (random place 5: three passes to converge) runs on."""
    problem = random_place(5)
    full, _ = generate_columns(problem, exact_passes=20)
    assert full.converged and full.exact_passes >= 2
    first_bound = full.history[0][2]
    early, _ = generate_columns(problem, exact_passes=20, enough=first_bound - 1e-9)
    assert early.exact_passes == 1 and early.bound == pytest.approx(first_bound, abs=1e-12)
    assert early.bound < full.bound


def test_a_pass_under_way_at_the_deadline_runs_on_to_the_end():
    """The master's deadline has passed but the pass deadline has not: the exact pass still prices the centres
    (a bound above the no-search bound of a pass cut short at once, and at most the optimum)."""
    import time

    problem = full_problem(WEIGHTS[2])
    exact = brute_force(problem)
    now = time.perf_counter()
    short, _ = generate_columns(problem, deadline=now, end=now)
    now = time.perf_counter()
    result, _ = generate_columns(problem, deadline=now, end=now + 60)
    assert short.pricing_nodes == 0 and result.pricing_nodes > 0
    assert result.exact_passes == 1 and short.bound < result.bound <= exact[0] + 1e-9


@pytest.mark.parametrize("seeds", [0, 10**6], ids=["pool-seeds-master", "pool-at-the-end"])
def test_solve_with_columns_is_honest_and_reproducible(seeds, monkeypatch):
    """method columns: a verified plan, bound <= objective (and <= the optimum), the same twice, whether the
    heuristic walks' plans seed the master or join it after column generation."""
    import footprint.solve as solve

    monkeypatch.setattr(solve, "POOL_SEEDS_MASTER_ABOVE", seeds)
    problem = full_problem(Weights(access=1.0, pcn=1.0))
    options = SolveOptions(method="columns", time_limit=30)
    first = solve_place(problem, options)
    second = solve_place(problem, options)
    exact = brute_force(problem)
    assert first.status in ("optimal", "feasible", "heuristic")
    assert not check_plan(problem, first.assignment)
    assert first.bound <= exact[0] + 1e-9 <= first.objective + 1e-9
    assert np.array_equal(first.assignment, second.assignment)
    assert first.bound == second.bound and first.model == second.model
    assert first.model["columns"] > 0 and first.method == "columns"


def test_polish_turns_a_broken_start_into_a_valid_plan():
    """A start with a detached unit and a neighbourhood over its bound becomes a valid plan, no worse than the
    heuristic's best from scratch would need to be to be kept; a start with too many centres is refused."""
    from footprint.heuristic import polish_plan

    problem = full_problem(Weights(access=1.0, pcn=1.0))
    exact = brute_force(problem)
    start = np.array([0, 0, 0, 2, 1, 1, 1, 0])  # unit 7 detached from hub 0 (root 0); hub 2 (root 3) alone
    polished = polish_plan(problem, start, recombine=50)
    assert polished is not None
    assert not check_plan(problem, polished.assignment)
    assert polished.objective >= exact[0] - 1e-9
    optimum = polish_plan(problem, exact[1], recombine=50)
    assert optimum is not None and optimum.objective == pytest.approx(exact[0])
    too_many = grid_problem(2, 4, pop_min=10, pop_max=40, k_min=1, k_max=2, hubs=[0, 3, 5])
    assert polish_plan(too_many, np.array([0, 0, 1, 1, 2, 2, 2, 2])) is None


def test_polish_from_a_start_that_leaves_the_last_centres_root_unserved():
    """A rounded start may leave units with no centre (-1); when one of them is the last centre's root, -1 is
    still no centre (numpy reads centre_root[-1] as the last one's root): the polished plan and every plan its walk
    accepted are valid, so their columns can join a master (one with -1 crashed a London reference run)."""
    from footprint.heuristic import polish_plan

    problem = full_problem(Weights(access=1.0, pcn=1.0))
    assert int(problem.centre_root[-1]) == 3
    start = np.array([0, 0, 0, -1, 1, 1, 1, 0])
    polished = polish_plan(problem, start, recombine=50, keep_visited=True)
    assert polished is not None and not check_plan(problem, polished.assignment)
    assert polished.visited and all(not check_plan(problem, plan) for plan in polished.visited)


def test_the_master_keeps_its_columns_and_its_lp_in_step_when_highs_refuses_a_batch():
    """A batch HiGHS refuses (here: a column of centre -1, whose rows repeat the count row) is left out whole, and
    the master's columns stay those of its LP: the integer programme over them still finds the plan."""
    problem = full_problem(Weights(access=1.0, pcn=1.0))
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    assert master.add_plans([np.array([0, 0, 0, -1, 1, 1, 1, 0])]) == 0
    assert master.columns == [] and master.h.getNumCol() == master.n_slack
    exact = brute_force(problem)
    assert master.add_plans([exact[1]]) > 0
    assert master.h.getNumCol() == master.n_slack + len(master.columns)
    master.solve()
    plan = master.integer_plan(100)
    assert plan is not None and np.array_equal(plan, exact[1])


def test_rounded_start_uses_the_largest_columns():
    """The master's rounded solution keeps the k centres of largest value and gives each unit to the one
    covering it most."""
    problem = full_problem(Weights(access=1.0, pcn=1.0))
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    a = pricing.column(0, (0, 1, 4))
    b = pricing.column(1, (2, 5, 6))
    c = pricing.column(2, (3, 7))
    d = pricing.column(1, (1, 2, 5, 6))
    master.add([a, b, c, d])
    start = master.rounded(np.array([1.0, 0.6, 1.0, 0.4]))
    assert start.tolist() == [0, 0, 1, 2, 0, 1, 1, 2]


def test_rounded_start_keeps_each_chosen_centre_on_its_root():
    """A chosen centre whose root unit another centre covers as much keeps that unit, so polish_plan does not
    drop it (and k stays what the LP chose)."""
    problem = full_problem(Weights(access=1.0, pcn=1.0))
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    root = int(problem.centre_root[2])
    a = pricing.column(0, (0, 1, 4))
    b = pricing.column(1, (2, 5, 6))
    c = pricing.column(2, (3, 7))
    e = pricing.column(1, (2, 3, 5, 6))  # covers hub 2's root as much as hub 2's own column does
    master.add([a, b, c, e])
    start = master.rounded(np.array([1.0, 0.4, 0.6, 0.6]))
    assert root == 3
    assert start.tolist() == [0, 0, 1, 2, 0, 1, 1, 2]
    assert len(set(start.tolist())) == 3


def test_run_with_method_columns_end_to_end(tmp_path):
    """`footprint run --method columns` on a tiny scenario: exit 0, a verified plan, the column counts and the
    method in run.json, and the same files again on a second run (counted work)."""
    import json

    from typer.testing import CliRunner

    from footprint.cli import app
    from tiny import write_tiny_scenario

    config = write_tiny_scenario(tmp_path / "in")
    runner = CliRunner()
    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        result = runner.invoke(app, ["run", str(config), "--method", "columns", "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
    record = json.loads((outs[0] / "run.json").read_text())
    places = record["places"]
    assert places and all(p["method"] == "columns" and p["model"]["columns"] > 0 for p in places)
    assert all(p["verifier"]["ok"] for p in places)
    assert (outs[0] / "assignment.csv").read_bytes() == (outs[1] / "assignment.csv").read_bytes()
    again = json.loads((outs[1] / "run.json").read_text())
    assert [p["bound"] for p in again["places"]] == [p["bound"] for p in places]


def test_method_columns_needs_highs(monkeypatch):
    from footprint import runner
    from footprint.errors import SolverError

    monkeypatch.setattr(runner, "solver_available", lambda name: name != "highs")
    with pytest.raises(SolverError, match="--method columns needs HiGHS"):
        runner.check_solver(SolveOptions(method="columns"))


def test_rounded_starts_try_the_other_whole_k_next():
    """The plans from the columns start at the LP's number of neighbourhoods rounded, then at the other whole
    number beside it (the first can be one the repair cannot meet), and only once when it is whole."""
    from footprint.solve import _rounded_starts

    problem = full_problem(Weights(access=1.0, pcn=1.0))
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    master.add(
        [
            pricing.column(0, (0, 1, 4)),
            pricing.column(1, (2, 5, 6)),
            pricing.column(2, (3, 7)),
            pricing.column(1, (2, 3, 5, 6)),
        ]
    )
    fractional = _rounded_starts(master, np.array([1.0, 0.4, 0.6, 0.6]))  # 2.6 neighbourhoods
    assert [len(set(start[start >= 0].tolist())) for start in fractional] == [3, 2]
    whole = _rounded_starts(master, np.array([1.0, 1.0, 1.0, 0.0]))
    assert len(whole) == 1 and len(set(whole[0].tolist())) == 3


def test_exact_pricing_returns_the_optimum_then_other_columns_below_the_cutoff():
    """Besides its optimum, an exact pricing MIP returns other connected solutions it met that cost less than the
    cutoff: distinct, valid, each below the cutoff (checked by enumeration), at most ``EXACT_COLUMNS``."""
    more = 0
    for seed, trial in itertools.product(range(4), range(3)):
        problem = random_place(seed)
        pricing = Pricing(problem)
        rng = np.random.default_rng([seed, trial])
        duals = random_duals(pricing, rng, scale=0.5)
        for centre in range(problem.n_centres):
            least = least_by_enumeration(pricing, centre, duals)
            if not math.isfinite(least):
                continue
            cutoff = least + 0.5
            priced = price_exact(pricing, centre, duals, cutoff=cutoff)
            assert 1 <= len(priced.units) <= colgen.EXACT_COLUMNS
            assert len(set(priced.units)) == len(priced.units)
            values = []
            for units in priced.units:
                assert units == tuple(sorted(units)) and pricing.valid(centre, units)
                column = pricing.column(centre, units, duals.sigma, duals.tau)
                values.append(reduced_cost(column, duals) + duals.mu + float(duals.nu[centre]))
            assert values[0] == pytest.approx(least, abs=1e-7)  # the optimum first
            assert all(value < cutoff + 1e-9 for value in values)
            below = {
                col.units
                for col in every_column(pricing)
                if col.centre == centre and reduced_cost(col, duals) + duals.mu + duals.nu[centre] < cutoff
            }
            assert set(priced.units) <= below
            more += len(priced.units) > 1
    assert more  # the MIP met other columns below the cutoff on some centre


# ---- subset-row cuts -----------------------------------------------------------------------------------------


def with_triples(pricing: Pricing, duals: Duals, rng: np.random.Generator, count: int) -> Duals:
    """``count`` random unit triples made the pricing's cuts, and ``duals`` with random duals (<= 0, a few 0)
    for them."""
    triples = {tuple(sorted(rng.choice(pricing.n, 3, replace=False).tolist())) for _ in range(count)}
    assert pricing.add_triples(sorted(triples)) == len(triples)
    rho = -np.abs(rng.normal(0.0, 0.3, len(pricing.triples)))
    rho[rng.random(len(rho)) < 0.2] = 0.0
    return Duals(duals.pi, duals.mu, duals.nu, duals.sigma, duals.tau, rho)


@pytest.mark.parametrize("weights", WEIGHTS, ids=["access+pcn", "access", "every-term", "pcn+stability"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pricing_pays_for_the_cuts_a_column_holds_two_units_of(weights, seed):
    """With subset-row cuts priced: exact pricing's value is the least over every column (each paying -rho for
    each triple it holds two or more units of), the no-search bound stays below it, heuristic pricing's columns
    are valid and no better, and its running gain (and its gain after one more or one fewer unit) is the
    column's true Lagrangian gain."""
    from footprint.colgen import _Growth

    problem = full_problem(weights)
    pricing = Pricing(problem)
    rng = np.random.default_rng(seed)
    duals = with_triples(pricing, random_duals(pricing, rng, scale=0.3), rng, count=6)
    columns = every_column(pricing)
    for centre in range(problem.n_centres):
        least = least_by_enumeration(pricing, centre, duals)
        priced = price_exact(pricing, centre, duals)
        # within HiGHS's feasibility tolerance (1e-6, on a row of weight 1 in the objective), and never above
        assert priced.proven and least - 2e-6 <= priced.bound <= least + 1e-9
        column = pricing.column(centre, priced.units[0], duals.sigma, duals.tau)
        assert reduced_cost(column, duals, pricing) + duals.mu + duals.nu[centre] == pytest.approx(
            least, abs=1e-7
        )
        assert pricing.loose_bound(centre, duals) <= least + 1e-9
        for units in price_heuristic(pricing, centre, duals):
            assert pricing.valid(centre, units)
            col = pricing.column(centre, units, duals.sigma, duals.tau)
            assert reduced_cost(col, duals, pricing) + duals.mu + duals.nu[centre] >= least - 1e-9
        for units in sorted({col.units for col in columns if col.centre == centre}):
            state = _Growth(pricing, centre, duals)
            for unit in units:
                state.add(unit)
            col = pricing.column(centre, units, duals.sigma, duals.tau)
            truth = -(reduced_cost(col, duals, pricing) + duals.mu + duals.nu[centre])
            assert state.gain() == pytest.approx(truth, abs=1e-9)
            others = np.array(
                [u for u in range(problem.n_units) if u not in units and pricing.reach[u, centre]]
            )
            if len(others):
                after = state.gains_after(others, +1)
                for u, value in zip(others.tolist(), after.tolist(), strict=True):
                    bigger = pricing.column(centre, tuple(sorted((*units, u))), duals.sigma, duals.tau)
                    target = -(reduced_cost(bigger, duals, pricing) + duals.mu + duals.nu[centre])
                    assert value == pytest.approx(target, abs=1e-9)
            members = np.array(units)
            after = state.gains_after(members, -1)
            for u, value in zip(units, after.tolist(), strict=True):
                rest = tuple(v for v in units if v != u)
                if rest:
                    smaller = pricing.column(centre, rest, duals.sigma, duals.tau)
                    target = -(reduced_cost(smaller, duals, pricing) + duals.mu + duals.nu[centre])
                    assert value == pytest.approx(target, abs=1e-9)


def test_a_cut_row_holds_every_column_with_two_of_its_units_whenever_either_came():
    """Columns added before a cut and after it get the same row: coefficient 1 exactly where the column holds
    two or more of the triple; a master made after the cuts has them from the start; reduced costs agree."""
    problem = random_place(3)
    pricing = Pricing(problem)
    columns = [col for col in every_column(pricing) if not col.homes and col.label < 0]
    early, late = columns[::2], columns[1::2]
    master = Master(pricing, box=1e3)
    master.add(early)
    triples = [(0, 1, 2), (1, 4, 7), (2, 4, 6), (0, 4, 8)]
    assert master.add_triples(triples) == 4 and master.add_triples(triples[:2]) == 0
    master.add(late)
    again = Master(pricing, box=1e3)  # the pricing's cuts, from the start
    again.add(columns)
    assert again.n_triples == master.n_triples == 4
    for m, order in ((master, early + late), (again, columns)):
        lp = m.h.getLp()
        matrix = lp.a_matrix_
        starts, index = list(matrix.start_), list(matrix.index_)
        for j, col in enumerate(order):
            k = m.n_slack + j
            rows = set(index[starts[k] : starts[k + 1]])
            for t, triple in enumerate(triples):
                holds = len(set(triple) & set(col.units)) >= 2
                assert (m.triple_row + t in rows) == holds
    value, duals, _, _ = master.solve()
    value_again, _, _, _ = again.solve()
    assert value == pytest.approx(value_again, abs=1e-9)
    assert len(duals.rho) == 4 and (duals.rho <= 0).all()


@pytest.mark.parametrize("seed", [0, 3, 4, 13, 14, 16, 21, 24])
def test_cuts_raise_the_bound_and_keep_it_valid(seed):
    """Column generation with rounds of subset-row cuts: the bound never exceeds the brute-force optimum,
    every cut holds for the optimal plan (at most one neighbourhood holds two of its units), and converged it
    is at least the bound without cuts; on the places whose LP is fractional the cuts lift it."""
    problem = random_place(seed)
    exact = brute_force(problem)
    if exact is None:
        pytest.skip("no plan")
    plain, _ = generate_columns(problem, exact_passes=30)
    pricing = Pricing(problem)
    cut, master = generate_columns(problem, exact_passes=30, pricing=pricing, triple_rounds=3)
    assert cut.bound <= exact[0] + 1e-9
    assert cut.triples == len(pricing.triples) == master.n_triples
    for triple in pricing.triples:
        holding = [c for c in set(exact[1].tolist()) if (exact[1][list(triple)] == c).sum() >= 2]
        assert len(holding) <= 1
    if plain.converged and cut.converged:
        assert cut.bound >= plain.bound - 1e-7
    if seed in (4, 14, 16, 21):  # fractional roots whose cuts lift the bound (4 and 21 to the optimum)
        assert cut.triples > 0 and cut.bound > plain.bound + 1e-3
    if seed in (3, 13):  # fractional roots no triple's cut cuts off
        assert cut.triples == 0 and cut.bound < exact[0] - 1e-3


def test_cuts_come_once_the_lp_is_nearly_converged_and_short_of_enough():
    gap = colgen.TRIPLE_GAP
    assert colgen._time_to_cut(1.0, 1.0 - 0.9 * gap, enough=2.0, slack=0.0)
    assert not colgen._time_to_cut(1.0, 1.0 - 1.1 * gap, enough=2.0, slack=0.0)  # still converging
    assert not colgen._time_to_cut(1.0, 1.0 - 0.9 * gap, enough=1.0, slack=0.0)  # converged, it proves enough
    assert not colgen._time_to_cut(1.0, 1.0, enough=2.0, slack=1e-3)  # the master still needs its slacks


def test_no_cuts_where_the_lp_already_proves_enough():
    """Cuts come only when the nearly converged LP is short of ``enough``: where converging it proves the
    incumbent within the gap, cutting would only slow that down."""
    problem = random_place(4)
    plain, _ = generate_columns(problem, exact_passes=30)
    cut, _ = generate_columns(problem, exact_passes=30, triple_rounds=3)
    assert cut.triples > 0
    proves, _ = generate_columns(problem, exact_passes=30, triple_rounds=3, enough=plain.lp_value - 1e-6)
    assert proves.triples == 0 and proves.bound >= plain.lp_value - 1e-6


def test_weighted_centres_are_the_required_then_the_most_opened_on_distinct_roots():
    """The centres a start grows from: every centre that must open (opened or not), then the others by how much
    the LP opens them, skipping a centre whose root unit a centre chosen before holds; None when too few are
    open at all."""
    problem = grid_problem(2, 4, pop_min=10, pop_max=60, k_min=1, k_max=4, hubs=[0, 5, 3, 5], required=[2])
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    master.add(
        [
            pricing.column(0, (0, 1, 4)),
            pricing.column(1, (5, 6)),
            pricing.column(3, (2, 5, 6)),
            pricing.column(2, (3, 7)),
        ]
    )
    values = np.array([0.5, 0.9, 0.95, 0.0])
    assert master.centre_weights(values).tolist() == [0.5, 0.9, 0.0, 0.95]
    assert master.weighted_centres(values, 2) == [2, 3]  # the required one first, then the most opened
    assert master.weighted_centres(values, 3) == [0, 2, 3]  # centre 1 shares centre 3's root: skipped
    assert master.weighted_centres(values, 4) is None  # only three roots are open
