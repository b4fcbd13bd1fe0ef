"""The heuristic returns only valid plans (property-based on random grids) and is reproducible; its merge-split
search keeps every hard rule and escapes plans the local search is stuck in; its array arithmetic equals the
single-move deltas."""

from __future__ import annotations

import time
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


def test_the_walks_visited_plans_are_distinct_valid_and_change_nothing() -> None:
    """``keep_visited`` hands back every plan the walks accepted, each valid and met once, the walks' start among
    them, and the plan returned is the same as without it."""
    problem = grid_problem(5, 6, pop_min=40, pop_max=90, k_min=3, k_max=6)
    plain = solve_heuristic(problem, seed=3, runs=2, recombine=40)
    kept = solve_heuristic(problem, seed=3, runs=2, recombine=40, keep_visited=True)
    assert plain is not None and kept is not None
    assert np.array_equal(plain.assignment, kept.assignment) and plain.visited == ()
    assert len(kept.visited) > 2  # more than the two walks' starts
    assert len({plan.tobytes() for plan in kept.visited}) == len(kept.visited)
    for plan in kept.visited:
        assert check_plan(problem, plan) == []
    assert solve_heuristic(problem, seed=3, runs=2, recombine=0, keep_visited=True).visited == ()


def test_runs_keep_the_best_of_independent_generators(monkeypatch) -> None:
    """Run r is seeded by (seed, r) (its starts by [seed, r, 0, k], its merge-split by [seed, r, 1]); the best
    plan is kept, ties going to the earlier run."""
    import footprint.heuristic as heuristic

    problem = grid_problem(4, 5, pop_min=40, pop_max=70, k_min=3, k_max=5)
    calls, values = [], iter([2.0, 1.0, 1.0])

    def one_run(problem, generators, *rest):
        calls.append(generators)
        return heuristic.HeuristicResult(np.full(problem.n_units, len(calls)), next(values), 1)

    monkeypatch.setattr(heuristic, "_single_run", one_run)
    best = solve_heuristic(problem, seed=7, runs=3)
    assert calls == [(7, 0), (7, 1), (7, 2)]
    assert (
        best.objective == 1.0 and set(best.assignment.tolist()) == {2} and not best.stopped and best.runs == 3
    )


def test_every_k_is_a_candidate_up_to_the_cap() -> None:
    """A range of five k keeps its middle (the old cap of four dropped it, and Bromley's best plan is at the
    middle k); a range wider than the cap is spread across it, both ends included."""
    import footprint.heuristic as heuristic

    five = grid_problem(4, 5, pop_min=1, pop_max=100, k_min=3, k_max=7)
    assert heuristic._candidate_ks(five) == [3, 4, 5, 6, 7]
    wide = grid_problem(4, 5, pop_min=1, pop_max=100, k_min=2, k_max=2 + 2 * heuristic.MAX_CANDIDATE_KS)
    ks = heuristic._candidate_ks(wide)
    assert len(ks) == heuristic.MAX_CANDIDATE_KS and ks[0] == 2 and ks[-1] == wide.k_max
    assert ks == sorted(set(ks))


def test_the_starts_of_a_k_do_not_depend_on_the_other_k_tried(monkeypatch) -> None:
    """Each k draws its starts from its own generator, so trying more k (or fewer) changes no start of the k
    that were tried before."""
    import footprint.heuristic as heuristic

    problem = grid_problem(5, 6, pop_min=40, pop_max=80, k_min=3, k_max=6)
    seeds = []
    real = heuristic._choose_seeds

    def spy(problem, k, *args, **kwargs):
        centres = real(problem, k, *args, **kwargs)
        seeds.append((k, None if centres is None else list(centres)))
        return centres

    monkeypatch.setattr(heuristic, "_choose_seeds", spy)
    solve_heuristic(problem, seed=2, runs=2, recombine=0)
    every = [row for row in seeds if row[0] == 4]
    seeds.clear()
    monkeypatch.setattr(heuristic, "_candidate_ks", lambda problem: [4])
    solve_heuristic(problem, seed=2, runs=2, recombine=0)
    assert every and seeds == every


def test_the_walk_goes_first_to_each_k_not_yet_walked_then_to_the_k_that_walked_best() -> None:
    from footprint.heuristic import _walk_k

    starts = {6: 1.40, 7: 1.35, 8: 1.60}
    assert _walk_k(starts, {}) == 7  # nothing walked: the best start
    assert _walk_k(starts, {7: 1.30}) == 6  # the best start among the k not walked
    assert _walk_k(starts, {7: 1.30, 6: 1.31}) == 8  # a poor start at k = 8 is still walked once
    assert _walk_k(starts, {7: 1.30, 6: 1.31, 8: 1.27}) == 8  # then the k whose walk was best
    assert _walk_k({6: 1.4, 7: 1.35}, {7: 1.30, 6: 1.31, 8: 1.27}) == 7  # k = 8 has no start in this run
    assert _walk_k({6: 1.4, 7: 1.4}, {7: 1.3, 6: 1.3}) == 6  # ties: the smaller k


def test_runs_walk_every_k_with_a_start_before_walking_one_again(monkeypatch) -> None:
    """Run after run, the walks leave from a k not yet walked while there is one (the k of the best start is
    often not the k of the best plan: Bromley's starts favour k = 10, its best plans are at k = 9)."""
    import footprint.heuristic as heuristic

    problem = grid_problem(5, 6, pop_min=40, pop_max=80, k_min=3, k_max=6)
    ks = []
    real = heuristic._recombination_search

    def spy(state, *args, **kwargs):
        ks.append(len(state.centre))
        return real(state, *args, **kwargs)

    monkeypatch.setattr(heuristic, "_recombination_search", spy)
    solve_heuristic(problem, seed=1, runs=6, recombine=10)
    feasible = len(set(ks))
    assert feasible >= 2 and len(ks) == 6
    assert len(set(ks[:feasible])) == feasible  # each k walked once before any is walked again


def _spy_walks(monkeypatch, pick=None) -> list[dict]:
    """Record each run's walk: its starts (k -> best start), the k walked and the plan the walk reached (the
    ``_valid_result`` after ``_recombination_search``); ``pick`` replaces :func:`_walk_k`."""
    import footprint.heuristic as heuristic

    walks: list[dict] = []
    real_walk_k, real_search, real_valid = (
        heuristic._walk_k,
        heuristic._recombination_search,
        heuristic._valid_result,
    )

    def walk_k(starts, walked):
        k = real_walk_k(starts, walked) if pick is None else pick(starts)
        walks.append({"starts": dict(starts), "k": k})
        return k

    def search(*args, **kwargs):
        walks[-1]["searching"] = True
        return real_search(*args, **kwargs)

    def valid(state):
        result = real_valid(state)
        if walks and walks[-1].pop("searching", False):
            walks[-1]["walk"] = result.objective
        return result

    monkeypatch.setattr(heuristic, "_walk_k", walk_k)
    monkeypatch.setattr(heuristic, "_recombination_search", search)
    monkeypatch.setattr(heuristic, "_valid_result", valid)
    return walks


def test_a_run_keeps_its_best_start_when_the_walk_of_another_k_ends_worse(monkeypatch) -> None:
    """The walk leaves from another k than the best start's; it improves on its own start but not on the best
    start, which the run returns, and ``walked`` records what the walk reached (not where it left from)."""
    import footprint.heuristic as heuristic

    problem = grid_problem(4, 5, pop_min=40, pop_max=70, k_min=3, k_max=5)
    walks = _spy_walks(monkeypatch, pick=lambda starts: sorted(starts, key=starts.get)[1])
    walked: dict[int, float] = {}
    allowed = heuristic.allowed_matrix(problem)
    shared = heuristic._Shared(problem)
    result = heuristic._single_run(
        problem, (0, 0), 4, 30, None, allowed, problem.neighbours(), shared, walked
    )
    (walk,) = walks
    starts, k = walk["starts"], walk["k"]
    assert walk["walk"] < starts[k] - 1e-9  # the walk improved on its start ...
    assert walk["walk"] > min(starts.values()) + 1e-9  # ... but not on the best start, at another k
    assert result.objective == pytest.approx(min(starts.values())) and result.k != k
    assert walked == {k: pytest.approx(walk["walk"])}


def test_once_every_k_is_walked_the_runs_walk_the_k_whose_walks_reached_the_best_plan(monkeypatch) -> None:
    """Checked against the plans the walks reached (recorded here, not read from ``walked``): after every k with
    a start has been walked, each run walks the k whose walks so far reached the best plan."""
    problem = grid_problem(4, 5, pop_min=40, pop_max=70, k_min=3, k_max=5)
    walks = _spy_walks(monkeypatch)
    solve_heuristic(problem, seed=0, runs=7, recombine=30)
    assert len(walks) == 7
    reached: dict[int, float] = {}
    exploited = 0
    for walk in walks:
        starts, k = walk["starts"], walk["k"]
        if all(other in reached for other in starts):
            assert k == min(starts, key=lambda other: (reached[other], other))
            exploited += 1
        else:
            assert k not in reached
        reached[k] = min(reached.get(k, float("inf")), starts[k], walk["walk"])
    assert exploited >= 3


def test_more_runs_are_reproducible_never_worse_and_stop_at_the_deadline(monkeypatch) -> None:
    import footprint.heuristic as heuristic

    problem = grid_problem(5, 6, pop_min=40, pop_max=80, k_min=3, k_max=6)
    one = solve_heuristic(problem, seed=3)
    four = solve_heuristic(problem, seed=3, runs=4)
    assert np.array_equal(four.assignment, solve_heuristic(problem, seed=3, runs=4).assignment)
    assert four.objective <= one.objective + 1e-12
    assert np.array_equal(solve_heuristic(problem, seed=3, runs=1).assignment, one.assignment)
    assert check_plan(problem, four.assignment) == []
    runs = []
    real = heuristic._single_run
    monkeypatch.setattr(heuristic, "_single_run", lambda *args: runs.append(args[1]) or real(*args))
    late = solve_heuristic(problem, seed=3, runs=4, deadline=time.perf_counter() - 1)
    assert len(runs) == 1 and late.runs == 1 and late.stopped and check_plan(problem, late.assignment) == []


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


def _state_for(problem, region: list[int], centres: list[int]):
    from footprint.heuristic import _State

    return _State(problem, centres, np.array(region, dtype=np.int64))


def _objective_of(state) -> float:
    from footprint.objective import evaluate_terms, weighted_objective

    assignment = np.array(state.centre, dtype=np.int64)[state.region]
    return weighted_objective(state.p, evaluate_terms(state.p, assignment))


def _random_rich_problem(rng: np.random.Generator, rows: int = 4, cols: int = 5, stability: float = 0.0):
    """A grid with every objective term weighted and data for each (PCNs, demand, baseline, groups)."""
    n = rows * cols
    return grid_problem(
        rows,
        cols,
        population=rng.integers(5, 25, n).tolist(),
        pcn_patients=rng.random((4, n)) * (rng.random((4, n)) < 0.4) * 10,
        pcn_homes=rng.integers(1, 4, 4).tolist(),  # some PCNs' size calls for two or three neighbourhoods
        demand=rng.random(n) * 5,
        baseline=rng.integers(-1, 4, n),
        groups=rng.integers(-1, 5, n),
        weights=Weights(
            access=1.0,
            pcn=float(rng.random()),
            demand=float(rng.random()),
            stability=stability,
            community=float(rng.random()),
        ),
    )


def _random_regions(rng: np.random.Generator, problem, k: int) -> tuple[list[int], list[int]]:
    """k connected regions grown from random roots (round-robin), and those roots as centres."""
    neighbours = problem.neighbours()
    roots = rng.choice(problem.n_units, size=k, replace=False).tolist()
    region = np.full(problem.n_units, -1)
    region[roots] = np.arange(k)
    while (region < 0).any():
        for r in range(k):
            frontier = [v for u in np.flatnonzero(region == r) for v in neighbours[u] if region[v] < 0]
            if frontier:
                region[frontier[int(rng.integers(len(frontier)))]] = r
    return region.tolist(), [int(c) for c in roots]


def test_vectorised_deltas_equal_the_single_move_delta() -> None:
    from footprint.heuristic import _delta, _deltas
    from footprint.objective import access_scale, pcn_total

    rng = np.random.default_rng(3)
    for _ in range(20):
        problem = _random_rich_problem(rng, stability=float(rng.random()))
        state = _state_for(problem, *_random_regions(rng, problem, 4))
        scale, patients = access_scale(problem), pcn_total(problem)
        for source in range(4):
            units = np.flatnonzero(state.region == source)
            for target in set(range(4)) - {source}:
                single = [_delta(state, int(u), target, scale, patients) for u in units]
                assert _deltas(state, units, target, scale, patients) == pytest.approx(single, abs=1e-12)


def test_delta_floor_bounds_every_single_move() -> None:
    """The paired-move pass skips u when u's delta plus this floor cannot be negative: it must never exceed
    the exact delta of any unit of the region moving alone, whatever the weights."""
    from footprint.heuristic import _delta, _delta_floor, allowed_matrix
    from footprint.objective import access_scale, pcn_total

    rng = np.random.default_rng(8)
    tight = 0
    for _ in range(20):
        problem = _random_rich_problem(rng, stability=float(rng.random()))
        state = _state_for(problem, *_random_regions(rng, problem, 4))
        allowed = allowed_matrix(problem)
        scale, patients = access_scale(problem), pcn_total(problem)
        for source in range(4):
            for target in set(range(4)) - {source}:
                floor = _delta_floor(state, source, target, allowed, scale)
                exact = [
                    _delta(state, int(u), target, scale, patients)
                    for u in np.flatnonzero(state.region == source)
                ]
                assert floor <= min(exact) + 1e-12
                tight += floor > min(exact) - 0.5
    assert tight > 100  # and it is not vacuous


def test_pcn_gain_is_top_sums_term_for_term() -> None:
    """The single move's PCN arithmetic in plain Python gives exactly (==, not approximately) what
    :func:`top_sums` on the block gives, so the moves made are the same: for one to ten PCNs a unit (numpy from
    eight on), one to three homes a PCN, and fractional counts."""
    from footprint.heuristic import _pcn_gain
    from footprint.problem import top_sums

    rng = np.random.default_rng(5)
    rows_seen, large = set(), 0
    for trial in range(30):
        # every third trial: 20 neighbourhoods, so blocks of 7 rows exceed top_sums's 128 entries (its cumsum)
        grid, k = ((5, 8), 20) if trial % 3 == 0 else ((4, 5), 4)
        n = grid[0] * grid[1]
        patients = rng.random((10, n)) * (rng.random((10, n)) < 0.7) * 1000 / 7
        problem = grid_problem(
            *grid, pcn_patients=patients, pcn_homes=rng.integers(1, 4, 10).tolist(), weights=Weights(pcn=1.0)
        )
        state = _state_for(problem, *_random_regions(rng, problem, k))
        homes = problem.homes_of()
        for unit in range(n):
            rows = np.flatnonzero(patients[:, unit] > 0)
            rows_seen.add(len(rows))
            large += len(rows) < 8 and len(rows) * k > 128
            source = int(state.region[unit])
            for target in set(range(k)) - {source}:
                block = state.pcn[rows].copy()
                before = top_sums(block, homes[rows]).sum()
                block[:, source] -= patients[rows, unit]
                block[:, target] += patients[rows, unit]
                assert _pcn_gain(state, unit, source, target) == before - top_sums(block, homes[rows]).sum()
    assert min(rows_seen) <= 3 and {7, 8}.issubset(rows_seen) and large  # every path ran


def test_move_floors_bound_every_move() -> None:
    """The move and paired-move passes skip pricing a move whose floor is above 1e-9: the floor must never
    exceed the move's exact delta, whatever the weights."""
    from footprint.heuristic import _candidate_arrays, _delta, _move_floors, allowed_matrix
    from footprint.objective import access_scale, pcn_total

    rng = np.random.default_rng(9)
    tight = 0
    for _ in range(20):
        problem = _random_rich_problem(rng, stability=float(rng.random()))
        state = _state_for(problem, *_random_regions(rng, problem, 4))
        scale, patients = access_scale(problem), pcn_total(problem)
        units, targets = _candidate_arrays(state, allowed_matrix(problem))
        floors = _move_floors(state, units, state.region[units], targets, scale)
        for unit, target, floor in zip(units.tolist(), targets.tolist(), floors.tolist(), strict=True):
            exact = _delta(state, unit, target, scale, patients)
            assert floor <= exact + 1e-12
            tight += floor > exact - 0.5
    assert tight > 100  # and it is not vacuous


def test_random_spanning_tree_orders_every_subtree_contiguously() -> None:
    from footprint.heuristic import _random_spanning_tree

    problem = grid_problem(4, 5)
    edges = np.array(problem.edges)
    order, parent = _random_spanning_tree(20, edges, np.random.default_rng(0).random(len(edges)))
    assert sorted(order.tolist()) == list(range(20)) and order[0] == 0 and parent[0] == -1
    tree_edges = {tuple(sorted((v, int(parent[v])))) for v in range(1, 20)}
    assert tree_edges <= set(problem.edges) and len(tree_edges) == 19
    position = {v: i for i, v in enumerate(order.tolist())}
    for v in range(1, 20):  # a parent comes before its child: depth-first order
        assert position[int(parent[v])] < position[v]
    cut = edges[[0, 1, 2, 3]]  # four edges of the bottom row only: not connected
    assert _random_spanning_tree(20, cut, np.ones(4))[0] is None


def test_random_split_parts_are_balanced_connected_and_best_centred() -> None:
    """Each split of an adjacent pair covers the pair's units exactly, both parts are connected and within the
    bounds, and each part is served by the centre in it with the least sum pop d^2."""
    from footprint.heuristic import _Recombination, _region_connected

    rng = np.random.default_rng(5)
    splits = 0
    for _ in range(30):
        problem = replace(_random_rich_problem(rng), pop_min=40, pop_max=120)
        state = _state_for(problem, *_random_regions(rng, problem, 4))
        neighbours = problem.neighbours()
        recombination = _Recombination(
            problem, np.ones((problem.n_units, problem.n_centres), bool), neighbours
        )
        for a, b in recombination.adjacent_pairs(state):
            split = recombination.random_split(state, a, b, rng)
            if split is None:
                continue
            pair = set(np.flatnonzero((state.region == a) | (state.region == b)).tolist())
            after = _state_for(problem, state.region.tolist(), list(state.centre))
            recombination.apply(after, split)
            assert set(np.flatnonzero((after.region == a) | (after.region == b)).tolist()) == pair
            for r in (a, b):
                members = np.flatnonzero(after.region == r)
                assert 40 <= problem.population[members].sum() <= 120
                assert _region_connected(after, r, neighbours)
                costs = {
                    c: (problem.population[members] * problem.distance_km[members, c] ** 2).sum()
                    for c in members
                }
                assert after.centre[r] in costs and costs[after.centre[r]] == pytest.approx(
                    min(costs.values())
                )
            splits += 1
    assert splits > 50


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), radius=st.sampled_from([None, 2.5, 3.5]))
def test_recombination_splits_keep_every_hard_rule(seed: int, radius: float | None) -> None:
    """Hubs on a 4 x 5 grid (one required, one with a capacity, a lock, an access radius): every split the
    recombination makes, applied in a row without any repair, leaves a plan check_plan accepts."""
    from footprint.heuristic import _Recombination, _State, allowed_matrix

    rng = np.random.default_rng(seed)
    hubs = sorted(rng.choice(20, size=8, replace=False).tolist())
    problem = grid_problem(
        4,
        5,
        population=rng.integers(5, 25, 20).tolist(),
        pop_min=40,
        pop_max=160,
        k_min=3,
        k_max=3,
        hubs=hubs,
        required=[1],
        capacity=[np.inf, np.inf, 90, *[np.inf] * 5],
        locks=((int(rng.integers(20)), 3),),
        max_distance_km=radius,
    )
    start = solve_heuristic(problem, seed=seed, recombine=0)
    if start is None:
        return
    centres = sorted(set(start.assignment.tolist()))
    state = _State(problem, centres, np.array([centres.index(c) for c in start.assignment]))
    recombination = _Recombination(problem, allowed_matrix(problem), problem.neighbours())
    for _ in range(15):
        pairs = recombination.adjacent_pairs(state)
        a, b = pairs[int(rng.integers(len(pairs)))]
        split = recombination.random_split(state, a, b, rng)
        if split is None:
            continue
        recombination.apply(state, split)
        assignment = np.array(state.centre)[state.region]
        assert check_plan(problem, assignment) == []
        assert valid(problem, assignment) == []


def test_recombination_escapes_a_plan_local_search_is_stuck_in() -> None:
    """2 x 6 grid, 10 people each, bounds exactly 60, k = 2. Rows (top vs bottom) is a local optimum of the
    move/paired-move/re-centre search: no single move keeps the bounds and no paired move improves. The
    merge-split move re-cuts the whole grid and finds left vs right, the optimum."""
    from footprint.heuristic import _improve, _recombination_search, allowed_matrix
    from problems import brute_force

    problem = grid_problem(2, 6, pop_min=60, pop_max=60, k_min=2, k_max=2)
    allowed, neighbours = allowed_matrix(problem), problem.neighbours()
    state = _state_for(problem, [0] * 6 + [1] * 6, [2, 8])
    _improve(state, allowed, neighbours)
    stuck = _objective_of(state)
    assert state.region.tolist() == [0] * 6 + [1] * 6
    best, value, done = _recombination_search(
        state, allowed, neighbours, np.random.default_rng(0), iterations=20
    )
    assert done == 20 and value < stuck - 1.0
    assert value == pytest.approx(_objective_of(best)) == pytest.approx(brute_force(problem)[0])
    assert check_plan(problem, np.array(best.centre)[best.region]) == []


def test_recombination_is_reproducible_and_never_worse() -> None:
    """A 6 x 6 grid with PCNs: the same seed gives the same plan, and recombination never loses to none."""
    rng = np.random.default_rng(11)
    problem = grid_problem(
        6,
        6,
        population=rng.integers(5, 25, 36).tolist(),
        pop_min=80,
        pop_max=140,
        k_min=3,
        k_max=6,
        pcn_patients=rng.random((5, 36)) * (rng.random((5, 36)) < 0.3) * 10,
    )
    first, second = solve_heuristic(problem, seed=4), solve_heuristic(problem, seed=4)
    without = solve_heuristic(problem, seed=4, recombine=0)
    assert np.array_equal(first.assignment, second.assignment) and first.objective == second.objective
    assert first.objective <= without.objective + 1e-12
    assert check_plan(problem, first.assignment) == []


def test_a_place_without_pcn_data() -> None:
    """PlaceProblem's default pcn_patients is (0, 0), not (0, n): the heuristic must not index into it."""
    problem = replace(
        grid_problem(4, 5, pop_min=40, pop_max=70, k_min=3, k_max=4), pcn_patients=np.zeros((0, 0))
    )
    result = solve_heuristic(problem, seed=2)
    assert result is not None and check_plan(problem, result.assignment) == []


def test_grow_from_centres_keeps_the_centres_it_is_given():
    """Growth, repair and local search from centres chosen elsewhere (a column-generation LP's): a valid plan
    served by exactly those centres; None when they cannot make one (a root boxed in below the lower bound) or
    their number is outside the k range."""
    from footprint.heuristic import grow_from_centres

    problem = grid_problem(1, 6, pop_min=30, pop_max=30, k_min=2, k_max=2, hubs=[0, 1, 5])
    plan = grow_from_centres(problem, [0, 2])
    assert plan is not None and check_plan(problem, plan) == []
    assert plan.tolist() == [0, 0, 0, 2, 2, 2]
    assert grow_from_centres(problem, [0, 1]) is None  # hub 0's root can only ever hold 10 people
    assert grow_from_centres(problem, [2]) is None
