"""The MIP's structure: variable fixing, names, LP output, cuts, warm starts and agreement with the objective."""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pulp
import pytest

from footprint.heuristic import check_plan
from footprint.model import add_contiguity_cuts, add_pcn_cuts, build_model, define_access, pcn_home_capacity
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import Weights
from footprint.solve import SolveOptions, strengthen_root
from problems import grid_problem, set_partitions

FULL = dict(
    rows=2,
    cols=3,
    pop_min=20,
    pop_max=40,
    k_min=2,
    k_max=3,
    pcn_patients=np.array([[9.0, 8, 1, 0, 0, 0], [0.0, 1, 7, 0, 9, 9]]),
    demand=np.array([10.0, 5, 5, 30, 5, 5]),
    baseline=np.array([0, 0, 1, 0, 1, 1]),
    groups=np.array([0, 0, 0, 1, 1, -1]),
    weights=Weights(access=1, pcn=2, demand=1, stability=1, community=1),
)


def connected_plans(problem):
    """Every valid plan of a tiny problem (each block centred on each candidate in it)."""
    for partition in set_partitions(list(range(problem.n_units))):
        for block_centres in _centre_choices(problem, partition):
            assignment = np.zeros(problem.n_units, dtype=np.int64)
            for block, centre in zip(partition, block_centres, strict=True):
                assignment[block] = centre
            if not check_plan(problem, assignment):
                yield assignment


def _centre_choices(problem, partition):
    import itertools

    options = [
        [c for c in range(problem.n_centres) if problem.centre_root[c] in block] for block in partition
    ]
    for combo in itertools.product(*options):
        if len(set(combo)) == len(combo):
            yield combo


def satisfied(model) -> list[str]:
    """Names of the constraints the variables' current values break."""
    return [name for name, constraint in model.lp.constraints.items() if not constraint.valid(1e-7)]


def test_every_constraint_is_named_with_underscores_and_mapped_to_codes() -> None:
    problem = grid_problem(**FULL)
    model = build_model(problem, contiguity="flow")
    names = list(model.lp.constraints)
    assert names and all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in names)
    assert set(names) == set(model.names)
    assert model.names["assign_4"].key == ("L04",)
    assert model.names["open_1_0"].key == ("L01", "U0")
    assert model.names["one_home_1"].key == ("U1",)  # the test PCN codes are U0, U1
    assert model.names["pop_max_2"].meaning == "U2 serves at most 40"
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", var.name) for var in model.lp.variables())


def test_write_lp_writes_the_model_and_its_name_map(tmp_path) -> None:
    problem = grid_problem(2, 3, pop_min=20, pop_max=30, k_min=2, k_max=3)
    model = build_model(problem)
    path = model.write_lp(tmp_path / "review" / "P1.lp")
    text = path.read_text()
    assert "assign_0:" in text and "k_min:" in text and "Binaries" in text
    rows = (tmp_path / "review" / "P1.names.tsv").read_text().splitlines()
    assert rows[0] == "name\tfamily\tkey\tmeaning"
    assert len(rows) == 1 + len(model.lp.constraints)
    assert "assign_0\tassign\tL00\tL00 is served by exactly one centre" in rows


def test_radius_removes_far_pairs() -> None:
    """1 x 5 row, radius 1 km: unit i may only use centres i-1, i, i+1."""
    problem = grid_problem(1, 5, pop_min=10, pop_max=50, max_distance_km=1.0)
    allowed = define_access(problem)
    expected = np.abs(np.arange(5)[:, None] - np.arange(5)[None, :]) <= 1
    assert np.array_equal(allowed, expected)
    model = build_model(problem)
    assert len(model.variables.x) == int(expected.sum()) == 13


def test_population_reachability_removes_pairs() -> None:
    """1 x 5 row, 10 people each, pop_max 20: a neighbourhood spans at most 2 units, so |i - c| <= 1."""
    problem = grid_problem(1, 5, pop_min=10, pop_max=20)
    allowed = define_access(problem)
    assert np.array_equal(allowed, np.abs(np.arange(5)[:, None] - np.arange(5)[None, :]) <= 1)


def test_centre_that_cannot_reach_pop_min_is_dropped() -> None:
    """1 x 3 row 10 | 40 | 10 with hubs at both ends, bounds 45-60: hub 0's reach 0-1 holds 50, fine;
    with pop_max 45 neither end reaches 45 without passing the middle (10 + 40 = 50 > 45)."""
    problem = grid_problem(1, 3, population=[10, 40, 10], pop_min=45, pop_max=45, hubs=[0, 2])
    assert not define_access(problem).any()


def test_symmetry_breaking_only_when_the_centre_does_not_matter() -> None:
    """Without the access term every region is served by its lowest unit: x[i,c] only for c <= i (and unit 5,
    the last, would serve only itself: 10 people, below pop_min 20, so its centre is dropped)."""
    no_access = grid_problem(2, 3, pop_min=20, pop_max=60, weights=Weights(access=0, pcn=0, demand=0))
    expected = np.tril(np.ones((6, 6), dtype=bool))
    expected[:, 5] = False
    assert np.array_equal(define_access(no_access), expected)
    with_access = grid_problem(2, 3, pop_min=20, pop_max=60)
    assert define_access(with_access).all()
    radius = grid_problem(2, 3, pop_min=20, pop_max=60, weights=Weights(access=0), max_distance_km=5.0)
    assert define_access(radius).all()


def test_a_centre_whose_root_is_locked_elsewhere_cannot_open() -> None:
    """Hubs H0 at unit 0 and H1 at unit 3 of a 1 x 4 row; unit 3 is locked to H0, so H1 never opens."""
    problem = grid_problem(1, 4, pop_min=10, pop_max=40, hubs=[0, 3], locks=((3, 0),))
    model = build_model(problem)
    assert model.centres == [0]
    assert all(centre == 0 for _, centre in model.variables.x)


def test_model_objective_equals_the_evaluated_objective_on_every_plan() -> None:
    """For each valid plan, the warm-start values satisfy every constraint and price the plan exactly."""
    problem = grid_problem(**FULL)
    for contiguity in ("cuts", "flow"):
        model = build_model(problem, contiguity=contiguity)
        plans = list(connected_plans(problem))
        assert len(plans) > 20
        for assignment in plans:
            assert model.set_start(assignment)
            assert satisfied(model) == []
            expected = weighted_objective(problem, evaluate_terms(problem, assignment))
            assert pulp.value(model.lp.objective) == pytest.approx(expected, abs=1e-9)


def test_model_prices_every_plan_with_two_home_pcns() -> None:
    """PCN 0's size calls for two neighbourhoods: the model counts its patients in its two fullest ones."""
    problem = grid_problem(**{**FULL, "pcn_homes": [2, 1]})
    model = build_model(problem)
    plans = list(connected_plans(problem))
    for assignment in plans:
        assert model.set_start(assignment)
        assert satisfied(model) == []
        expected = weighted_objective(problem, evaluate_terms(problem, assignment))
        assert pulp.value(model.lp.objective) == pytest.approx(expected, abs=1e-9)
    # and on some plan it differs from the one-home price (the second home counts)
    one_home = grid_problem(**FULL)
    assert any(evaluate_terms(problem, a)["pcn"] < evaluate_terms(one_home, a)["pcn"] - 1e-9 for a in plans)


def test_contiguity_cut_removes_the_disconnected_plan_and_keeps_every_connected_one() -> None:
    """A 2 x 3 grid, 10 people each; centre U0 serves {0, 2} and U4 serves {1, 3, 4, 5}::

    3 - 4 - 5        b - b - b
    |   |   |        |   |   |
    0 - 1 - 2        a - b - a     unit 2 is cut off from its root 0 by unit 1 (and 5)
    """
    problem = grid_problem(2, 3, pop_min=20, pop_max=40, k_min=2, k_max=2)
    model = build_model(problem)
    disconnected = np.array([0, 4, 0, 4, 4, 4])
    assert check_plan(problem, disconnected) == ["U0 is not connected"]
    added = add_contiguity_cuts(model, disconnected, round_number=1)
    assert added == 1 and model.cuts == 1
    (name,) = [n for n in model.lp.constraints if n.startswith("cut_")]
    assert name == "cut_1_2_0"
    assert model.names[name].key == ("round 1", "L02", "U0")
    cut = model.lp.constraints[name]
    assert {var.name for var in cut} == {"x_2_0", "x_1_0", "x_5_0"}
    for var in model.lp.variables():
        var.varValue = 0
    for unit, centre in enumerate(disconnected):
        model.variables.x[(unit, int(centre))].varValue = 1
    assert not cut.valid(1e-9)
    for assignment in connected_plans(problem):
        model.set_start(assignment)
        assert cut.valid(1e-9), assignment


def test_flow_start_values_follow_a_spanning_tree() -> None:
    """1 x 4 row served from unit 0: flows 3, 2, 1 along the row."""
    problem = grid_problem(1, 4, pop_min=10, pop_max=40, k_min=1, k_max=1)
    model = build_model(problem, contiguity="flow")
    assert model.set_start(np.zeros(4, dtype=np.int64))
    flows = {key: var.varValue for key, var in model.variables.flow.items() if key[2] == 0 and var.varValue}
    assert flows == {(0, 1, 0): 3, (1, 2, 0): 2, (2, 3, 0): 1}
    assert satisfied(model) == []


def test_start_is_re_centred_under_symmetry_breaking() -> None:
    problem = grid_problem(1, 4, pop_min=20, pop_max=20, weights=Weights(access=0, pcn=0))
    model = build_model(problem)
    assert model.set_start(np.array([1, 1, 3, 3]))
    chosen = sorted(key for key, var in model.variables.x.items() if var.varValue == 1)
    assert chosen == [(0, 0), (1, 0), (2, 2), (3, 2)]


def test_pcn_home_capacity_is_the_fractional_knapsack_of_the_centres_units() -> None:
    """1 x 4 row of 10 residents each, pop_max 25; PCN patients 5, 1, 3, 0::

        0 - 1 - 2 - 3

    Centre U0 reaches units 0-1 (the path 0-1-2 holds 30 > 25 residents): U = 5 + 1 = 6. Centre U1 reaches
    units 0-2: densest first, unit 0 (5), unit 2 (3), then half of unit 1 (0.5) fills 25 residents: U = 8.5.
    """
    problem = grid_problem(
        1, 4, pop_min=10, pop_max=25, k_min=2, k_max=4, pcn_patients=np.array([[5.0, 1, 3, 0]])
    )
    capacity = pcn_home_capacity(problem, define_access(problem))
    assert capacity[0, 0] == pytest.approx(6.0)
    assert capacity[0, 1] == pytest.approx(8.5)
    everything = np.ones((4, 4), dtype=bool)
    assert pcn_home_capacity(problem, everything)[0, 0] == pytest.approx(8.5)


def spread_pcns():
    """A 2 x 4 grid of 10 residents, 2-3 neighbourhoods of 20-40; PCN 0 lives left, PCN 1 right, PCN 2 all over::

    4 - 5 - 6 - 7
    |   |   |   |
    0 - 1 - 2 - 3
    """
    return grid_problem(
        2,
        4,
        pop_min=20,
        pop_max=40,
        k_min=2,
        k_max=3,
        pcn_patients=np.array(
            [[9.0, 5, 1, 0, 9, 5, 1, 0], [0.0, 1, 5, 9, 0, 1, 5, 9], [3.0, 3, 3, 3, 3, 3, 3, 3]]
        ),
        weights=Weights(access=0.2, pcn=1),
    )


def test_pcn_cuts_tighten_the_root_and_keep_every_plan() -> None:
    """Root cuts raise the LP bound of :func:`spread_pcns`, and no connected plan breaks any of them."""
    problem = spread_pcns()
    model = build_model(problem)
    root = strengthen_root(model, SolveOptions(), deadline=time.perf_counter() + 30)
    rounds, cuts, bound = root.rounds, root.cuts, root.bound
    assert rounds >= 2 and cuts > 0
    assert root.fixed == 0 and root.cutoff == math.inf  # no incumbent given: nothing fixed
    assert bound > _lp_value(build_model(problem)) + 1e-6
    assert math.isnan(
        strengthen_root(build_model(problem), SolveOptions(), deadline=time.perf_counter()).bound
    )
    cut_rows = [row for name, row in model.lp.constraints.items() if name.startswith("pcn_cut_")]
    assert len(cut_rows) == cuts
    plans = list(connected_plans(problem))
    assert len(plans) > 50
    for assignment in plans:
        assert model.set_start(assignment)
        assert all(row.valid(1e-7) for row in cut_rows), assignment
    optimum = min(weighted_objective(problem, evaluate_terms(problem, plan)) for plan in plans)
    assert bound <= optimum + 1e-9


def test_pcn_cuts_limit_keeps_the_most_violated() -> None:
    """With ``limit``, the cuts added are the most violated of those the unlimited call adds, in that order."""
    import highspy

    from footprint.solve import load_highs

    problem = spread_pcns()
    models = [build_model(problem) for _ in range(2)]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    load_highs(h, models[0].lp, integer=False)
    h.run()
    values = np.array(h.getSolution().col_value)

    def value(var):
        return values[var.index]

    everything = add_pcn_cuts(models[0], value, 0)
    for var, other in zip(models[0].lp.variables(), models[1].lp.variables(), strict=True):
        other.index = var.index
    first = add_pcn_cuts(models[1], value, 0, limit=2)
    assert len(everything) > 2 and first == everything[:2]
    shares = []  # each cut's violation as a share of its PCN's patients: the order they are added in
    for name in everything:
        row = models[0].lp.constraints[name]
        pcn = int(name.split("_")[3])
        violation = sum(coefficient * value(var) for var, coefficient in row.items()) + row.constant
        shares.append(violation / problem.pcn_patients[pcn].sum())
    assert min(shares) > 0 and shares == sorted(shares, reverse=True)


class _StallsOnce:
    """A highspy model whose first run stops at the time limit without solving (a stalled warm simplex)."""

    def __init__(self, h) -> None:
        self.h, self.solvers, self.stalled = h, [], False

    def __getattr__(self, name):
        return getattr(self.h, name)

    def run(self):
        self.solvers.append(self.h.getOptionValue("solver")[1])
        self.stalled = len(self.solvers) == 1
        if not self.stalled:
            self.h.run()

    def getModelStatus(self):
        import highspy

        return highspy.HighsModelStatus.kTimeLimit if self.stalled else self.h.getModelStatus()


def test_a_stalled_root_round_goes_over_to_the_interior_point_method() -> None:
    """Past its patience the round is finished by the interior point method, to the LP's optimum, leaving a
    basis the next round starts warm from; the solver option is set back; within its patience, nothing changes."""
    import highspy

    from footprint.solve import _run_round, load_highs, new_highs

    model = build_model(spread_pcns())
    expected = _lp_value(model)
    h = new_highs()
    load_highs(h, model.lp, integer=False)
    stalling = _StallsOnce(h)
    assert _run_round(stalling, time.perf_counter() + 30, patience=0.1) is True
    assert stalling.solvers == ["choose", "ipm"] and h.getOptionValue("solver")[1] == "choose"
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(expected, abs=1e-7)
    assert h.getBasis().valid
    h.run()  # warm from the crossover basis: already optimal
    assert h.getInfo().simplex_iteration_count == 0
    fresh = new_highs()
    load_highs(fresh, build_model(spread_pcns()).lp, integer=False)
    assert _run_round(fresh, time.perf_counter() + 30, patience=10.0) is False
    assert fresh.getInfo().objective_function_value == pytest.approx(expected, abs=1e-7)


def _lp_value(model) -> float:
    """The LP relaxation's value of a fresh model (one LP, no cuts)."""
    import highspy

    from footprint.solve import load_highs

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    load_highs(h, model.lp, integer=False)
    h.run()
    return float(h.getInfo().objective_function_value)


def test_reduced_cost_fixing_keeps_every_plan_better_than_the_cutoff() -> None:
    """Given the optimum as incumbent, fixing keeps only pairs that plans within the gap can use.

    On :func:`spread_pcns`, every plan whose objective is below the cutoff Z (1 - gap) must still be
    possible (none of its x fixed to 0); with the optimum as Z there is none, and the fixing is heavy.
    """
    problem = spread_pcns()
    plans = list(connected_plans(problem))
    values = sorted(
        (weighted_objective(problem, evaluate_terms(problem, plan)), i) for i, plan in enumerate(plans)
    )
    for incumbent in (values[0][0], values[len(values) // 2][0], values[-1][0]):
        model = build_model(problem)
        root = strengthen_root(model, SolveOptions(gap=0.01), time.perf_counter() + 30, incumbent=incumbent)
        if incumbent == values[0][0]:
            assert root.fixed > 0 and root.cutoff == pytest.approx(incumbent * 0.99)
        fixed = {key for key, var in model.variables.x.items() if var.upBound == 0}
        for value, index in values:
            if value < root.cutoff:
                uses = {(unit, int(centre)) for unit, centre in enumerate(plans[index].tolist())}
                assert not uses & fixed, (value, plans[index])


def test_root_rounds_get_the_time_left_not_the_time_left_minus_earlier_runs(monkeypatch) -> None:
    """HiGHS compares ``time_limit`` with its run time summed over every ``run()`` (HiGHS issue #1477).

    Each round's limit must be the run time so far plus the time left, or late rounds of a long loop stop at
    once. A subclass of ``highspy.Highs`` reports 1,000 s more run time than it used (as if earlier rounds had
    been long) and records every limit set against that run time.
    """
    import highspy

    import footprint.solve as solve_module

    limits: list[tuple[float, float]] = []

    class Recording(highspy.Highs):
        def getRunTime(self):
            return super().getRunTime() + 1000.0

        def setOptionValue(self, name, value):
            if name == "time_limit":
                limits.append((float(value), float(self.getRunTime())))
            return super().setOptionValue(name, value)

    monkeypatch.setattr(highspy, "Highs", Recording)
    root = strengthen_root(build_model(spread_pcns()), SolveOptions(), deadline=time.perf_counter() + 30)
    assert root.rounds >= 2 and len(limits) >= 2
    (first, first_run_time), *later = limits
    assert 25 < first - first_run_time <= 30 + 1e-6
    for limit, run_time in later:  # later rounds: their patience before the interior point method
        assert solve_module.ROUND_PATIENCE_FLOOR - 1e-6 <= limit - run_time <= 30 + 1e-6


def test_root_hands_over_early_when_close_to_the_incumbent() -> None:
    """With a handoff gap the loop stops at the first bound within that gap of the incumbent."""
    problem = spread_pcns()
    plans = list(connected_plans(problem))
    optimum = min(weighted_objective(problem, evaluate_terms(problem, plan)) for plan in plans)
    full = strengthen_root(build_model(problem), SolveOptions(), time.perf_counter() + 30, incumbent=optimum)
    first = strengthen_root(
        build_model(problem), SolveOptions(), time.perf_counter() + 30, incumbent=optimum, handoff_gap=10.0
    )
    assert first.rounds == 1 < full.rounds
    assert first.bound < full.bound <= optimum + 1e-9


def test_root_skips_the_mip_only_when_it_could_not_solve_its_root(monkeypatch) -> None:
    """``mip`` is False when less than MIP_ROOT_FACTOR first LPs of time are left before ``end``; then nothing
    is fixed (no MIP uses it). Without an incumbent the MIP is the only way to a plan, so it always follows."""
    import footprint.solve as solve_module

    problem = spread_pcns()
    plans = list(connected_plans(problem))
    optimum = min(weighted_objective(problem, evaluate_terms(problem, plan)) for plan in plans)
    deadline = time.perf_counter() + 30
    monkeypatch.setattr(solve_module, "MIP_ROOT_FACTOR", 1e9)  # no time would be enough
    kept = strengthen_root(
        build_model(problem), SolveOptions(), deadline, incumbent=optimum, end=deadline + 60
    )
    assert not kept.mip and kept.fixed == 0 and kept.cutoff == math.inf
    assert kept.first_lp > 0 and kept.rounds >= 2
    assert strengthen_root(build_model(problem), SolveOptions(), deadline, end=deadline + 60).mip
    monkeypatch.setattr(solve_module, "MIP_ROOT_FACTOR", 2.0)
    handed = strengthen_root(
        build_model(problem), SolveOptions(), deadline, incumbent=optimum, end=deadline + 60
    )
    assert handed.mip and handed.fixed > 0 and handed.bound == pytest.approx(kept.bound)


def test_restricted_lp_prices_in_to_the_full_lp_value() -> None:
    """Loading one near centre per unit and pricing the rest in ends at the full LP's value, with fewer columns.

    On a 4 x 5 grid (access only, so no cuts: the loop only prices) every round's bound is valid (at most the
    full LP value) and the last equals it; the first restricted LP (each unit with its own centre only) is
    infeasible under the population bounds, so this also covers the fall-back that loads every column. "Full"
    is the LP without the relaxed families (the touch rows), at most the LP with them.
    """
    from footprint.rootlp import RELAXED_FAMILIES

    problem = grid_problem(4, 5, pop_min=40, pop_max=60, k_min=4, k_max=5, population=[5, 15] * 10)
    relaxed = build_model(problem)
    for name in [n for n in relaxed.lp.constraints if n.partition("_")[0] in RELAXED_FAMILIES]:
        del relaxed.lp.constraints[name]
    full = _lp_value(relaxed)
    assert RELAXED_FAMILIES == ("touch",) and full <= _lp_value(build_model(problem)) + 1e-9
    model = build_model(problem)
    root = strengthen_root(model, SolveOptions(), time.perf_counter() + 30, near=1)
    assert root.bound == pytest.approx(full, rel=1e-7, abs=1e-9)
    assert root.columns == len(model.lp.variables())  # infeasible with its own centre only: all loaded
    near = strengthen_root(build_model(problem), SolveOptions(), time.perf_counter() + 30, near=5)
    assert near.bound == pytest.approx(full, rel=1e-7, abs=1e-9)
    assert near.rounds >= 2 and near.columns < len(model.lp.variables()) // 2  # priced in, not loaded


def test_restricted_lp_bounds_and_fixing_keep_every_plan_better_than_the_cutoff() -> None:
    """With near centres only, PCN cuts, pricing and reduced-cost fixing never cut off a plan below the cutoff."""
    problem = spread_pcns()
    plans = list(connected_plans(problem))
    values = sorted(
        (weighted_objective(problem, evaluate_terms(problem, plan)), i) for i, plan in enumerate(plans)
    )
    for near in (1, 2, 3):
        for incumbent in (values[0][0], values[len(values) // 4][0]):
            model = build_model(problem)
            root = strengthen_root(
                model, SolveOptions(gap=0.01), time.perf_counter() + 30, incumbent=incumbent, near=near
            )
            assert root.bound <= values[0][0] + 1e-9
            fixed = {key for key, var in model.variables.x.items() if var.upBound == 0}
            for value, index in values:
                if value < root.cutoff:
                    uses = {(unit, int(centre)) for unit, centre in enumerate(plans[index].tolist())}
                    assert not uses & fixed, (near, value, plans[index])
