"""The MIP against brute-force enumeration on tiny grids, infeasibility messages, solvers, status honesty."""

from __future__ import annotations

import math
import re
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import footprint.solve as solve_module
from footprint.heuristic import check_plan, solve_heuristic
from footprint.model import build_model
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import Weights
from footprint.solve import SolveOptions, check_feasibility, solve_place, solver_available
from problems import brute_force, grid_problem

CASES = {
    # 2 x 3 grid (units 0-2 bottom row, 3-5 top), 10 people per unit, every unit a candidate centre
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
    "hub_capacity": dict(
        rows=2, cols=4, pop_min=20, pop_max=60, k_min=2, k_max=3, hubs=[0, 3, 5, 6], capacity=[25, 80, 80, 80]
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
    # PCN 0 (its size calls for two neighbourhoods) counts its patients in its two fullest neighbourhoods
    "pcn_two_homes": dict(
        rows=2,
        cols=4,
        pop_min=20,
        pop_max=40,
        k_min=2,
        k_max=4,
        pcn_patients=np.array([[9.0, 8, 1, 0, 3, 0, 6, 5], [0.0, 1, 7, 6, 0, 0, 9, 9]]),
        pcn_homes=[2, 1],
        weights=Weights(access=0.2, pcn=1),
    ),
    "pcn_only_symmetry": dict(
        rows=2,
        cols=4,
        pop_min=20,
        pop_max=40,
        k_min=2,
        k_max=4,
        pcn_patients=np.array([[9.0, 8, 1, 0, 3, 0, 0, 0], [0.0, 1, 7, 6, 0, 0, 9, 9]]),
        weights=Weights(access=0, pcn=1),
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
@pytest.mark.parametrize(("solver", "contiguity"), [("highs", "cuts"), ("cbc", "cuts"), ("highs", "flow")])
def test_mip_matches_brute_force(name: str, solver: str, contiguity: str) -> None:
    problem = grid_problem(**CASES[name])
    expected = brute_force(problem)
    assert expected is not None
    options = SolveOptions(method="exact", solver=solver, contiguity=contiguity, gap=0.0, time_limit=30)
    solution = solve_place(problem, options)
    assert solution.status == "optimal", solution.message
    assert solution.objective == pytest.approx(expected[0], rel=1e-6, abs=1e-9)
    assert check_plan(problem, solution.assignment) == []
    assert solution.bound <= solution.objective + 1e-9
    assert solution.gap == pytest.approx(0.0, abs=1e-6)
    assert solution.method.startswith(f"mip-{contiguity}")
    assert solution.solver.startswith("HiGHS" if solver == "highs" else "CBC")


def test_cbc_flow_matches_brute_force_with_hubs() -> None:
    problem = grid_problem(**CASES["hubs_required_lock"])
    solution = solve_place(problem, SolveOptions(solver="cbc", contiguity="flow", gap=0.0))
    assert solution.objective == pytest.approx(brute_force(problem)[0], rel=1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cols=st.integers(2, 4),
    seed=st.integers(0, 10_000),
    pcn_weight=st.sampled_from([0.0, 1.0, 3.0]),
    stability_weight=st.sampled_from([0.0, 1.0]),
    homes=st.sampled_from([(1, 1), (2, 1), (2, 3)]),
)
def test_mip_matches_brute_force_on_random_grids(
    cols: int, seed: int, pcn_weight: float, stability_weight: float, homes: tuple[int, int]
) -> None:
    """Random populations and PCN registrations on a 2 x cols grid, bounds around a third of the total."""
    rng = np.random.default_rng(seed)
    n = 2 * cols
    population = rng.integers(5, 20, size=n)
    total = int(population.sum())
    problem = grid_problem(
        2,
        cols,
        population=population.tolist(),
        pop_min=max(total // 4, 1),
        pop_max=max(total // 2, int(population.max())),
        k_min=2,
        k_max=4,
        pcn_patients=rng.integers(0, 10, size=(2, n)).astype(float),
        pcn_homes=list(homes),
        baseline=rng.integers(0, 2, size=n),
        weights=Weights(access=1.0, pcn=pcn_weight, stability=stability_weight),
    )
    expected = brute_force(problem)
    solution = solve_place(problem, SolveOptions(method="exact", solver="highs", gap=0.0, time_limit=20))
    if expected is None:
        assert solution.status == "infeasible"
    else:
        assert solution.status == "optimal"
        assert solution.objective == pytest.approx(expected[0], rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_cut_loop_reaches_a_connected_optimum_without_a_warm_start(solver: str) -> None:
    """1 x 6 row, populations 10 10 1 1 10 10, bounds 2-42, k = 2, PCN alignment only::

        0 - 1 - 2 - 3 - 4 - 5      PCN A: 10 patients in each of 0, 1, 4, 5; PCN B: 5 in each of 2, 3

    Without contiguity {0, 1, 4, 5} | {2, 3} aligns everyone (objective 0) and passes the singleton cuts (each
    unit touches a region-mate), so the loop must add separator cuts until the connected optimum (0.2: one of A's
    four units is left out) is reached; no warm start, so the MIP itself must get there.
    """
    problem = grid_problem(
        1,
        6,
        population=[10, 10, 1, 1, 10, 10],
        pop_min=2,
        pop_max=42,
        k_min=2,
        k_max=2,
        pcn_patients=np.array([[10.0, 10, 0, 0, 10, 10], [0, 0, 5, 5, 0, 0]]),
        weights=Weights(access=0, pcn=1),
    )
    options = SolveOptions(method="exact", contiguity="cuts", gap=0.0, warm_start=False, solver=solver)
    solution = solve_place(problem, options)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(brute_force(problem)[0]) == pytest.approx(0.2)
    assert solution.iterations >= 2 and solution.method.startswith("mip-cuts")


def test_heuristic_only_method() -> None:
    problem = grid_problem(2, 3, pop_min=20, pop_max=30, k_min=2, k_max=3)
    solution = solve_place(problem, SolveOptions(method="heuristic"))
    assert solution.status == "heuristic" and math.isnan(solution.gap) and solution.method == "heuristic"
    assert math.isnan(solution.bound) and solution.iterations == 0
    assert set(solution.seconds) == {"screen", "heuristic"}
    assert check_plan(problem, solution.assignment) == []


def test_terms_are_recomputed_from_the_plan() -> None:
    from footprint.objective import evaluate_terms, weighted_objective

    problem = grid_problem(**CASES["demand_stability_community"])
    solution = solve_place(problem, SolveOptions(gap=0.0))
    assert solution.terms == evaluate_terms(problem, solution.assignment)
    assert solution.objective == weighted_objective(problem, solution.terms)
    # auto: column generation first, then the MIP unless the columns' bound already proved the plan
    assert set(solution.seconds) in (
        {"screen", "heuristic", "columns"},
        {"screen", "heuristic", "columns", "model", "root", "solve"},
    )


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
        (
            dict(rows=1, cols=4, pop_min=10, pop_max=40, k_min=3, k_max=2),
            "Place P1 (Testplace, 40 residents): the range of neighbourhood counts is empty (3 > 2) after applying "
            "k.min/k.max; the bounds allow 1-4. Set k within that range.",
        ),
        (
            dict(rows=1, cols=4, pop_min=10, pop_max=40, k_max=1, hubs=[0, 3], required=[0, 1]),
            "Place P1 (Testplace, 40 residents): 2 hubs are required but at most 1 neighbourhoods fit; drop some "
            "`required` flags or raise k.max.",
        ),
        (
            dict(rows=1, cols=4, pop_min=10, pop_max=40, hubs=[0, 3], required=[1], locks=((3, 0),)),
            "Place P1 (Testplace, 40 residents): hub H1 is required, but no connected neighbourhood of 10-40 can "
            "be formed around its LSOA L03; move the hub, drop the requirement or lock, or widen the bounds.",
        ),
        (
            dict(rows=1, cols=4, pop_min=10, pop_max=20, hubs=[0, 3], locks=((2, 0),)),
            "Place P1 (Testplace, 40 residents): L02 is locked to hub H0, but no connected neighbourhood of at most "
            "20 can hold both; fix the lock or raise pop.max.",
        ),
    ],
)
def test_infeasible_places_explained(kwargs: dict, message: str) -> None:
    problem = grid_problem(**kwargs)
    assert message in check_feasibility(problem)
    solution = solve_place(problem)
    assert solution.status == "infeasible" and message in solution.message
    assert solution.assignment.size == 0


def test_locked_lsoa_beyond_radius_is_explained() -> None:
    problem = grid_problem(1, 4, pop_min=10, pop_max=40, hubs=[0, 3], locks=((3, 0),), max_distance_km=1.5)
    (reason,) = [r for r in check_feasibility(problem) if "locked" in r]
    assert reason == (
        "Place P1 (Testplace, 40 residents): L03 is locked to hub H0 3.0 km away, beyond access.max_distance_km 1.5; "
        "fix the lock or raise the radius."
    )


def test_solver_proves_infeasibility_from_contiguity() -> None:
    """The totals allow k = 2 and every unit can join some neighbourhood, but the row 10 | 5 | 10 | 5 | 10 has
    no prefix of exactly 20, so it cannot split into two connected parts of 20-20."""
    problem = grid_problem(1, 5, population=[10, 5, 10, 5, 10], pop_min=20, pop_max=20, k_min=2, k_max=2)
    assert check_feasibility(problem) == []
    for solver in ("highs", "cbc"):
        solution = solve_place(problem, SolveOptions(solver=solver))
        assert solution.status == "infeasible"
        assert solution.message == (
            "Place P1 (Testplace, 40 residents): the solver proved no plan meets the bounds 20-20 with 2 connected "
            "neighbourhoods (the LSOAs' sizes and adjacency do not allow it); widen the population bounds "
            "(pop.min / pop.max)."
        )


def test_missing_solver_is_an_error_naming_the_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solve_module, "solver_available", lambda name: name != "highs")
    problem = grid_problem(2, 3, pop_min=20, pop_max=30, k_min=2, k_max=3)
    solution = solve_place(problem, SolveOptions(solver="highs"))
    assert solution.status == "error"
    assert solution.message == "the highs solver is not available here; install it or use --solver cbc"
    auto = solve_place(problem, SolveOptions(solver="auto", gap=0.0))
    assert auto.status == "optimal" and auto.solver.startswith("CBC")


def test_proven_heuristic_plan_is_optimal_and_says_so() -> None:
    """When the heuristic already has the optimum, column generation or the MIP proves it; the plan is labelled
    as the heuristic's."""
    problem = grid_problem(**CASES["access"])
    solution = solve_place(problem, SolveOptions(gap=0.0, solver="highs", contiguity="cuts"))
    assert solution.status == "optimal"
    assert solution.method in ("columns", "mip-cuts", "mip-cuts (heuristic plan)")
    mip = solve_place(problem, SolveOptions(method="exact", gap=0.0, solver="highs", contiguity="cuts"))
    assert mip.status == "optimal" and mip.method in ("mip-cuts", "mip-cuts (heuristic plan)")


def test_write_lp_option(tmp_path) -> None:
    problem = grid_problem(2, 3, pop_min=20, pop_max=30, k_min=2, k_max=3)
    solve_place(problem, SolveOptions(write_lp=str(tmp_path)))
    assert (tmp_path / "P1.lp").read_text().startswith("\\*")
    assert (tmp_path / "P1.names.tsv").exists()


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_deterministic(solver: str) -> None:
    problem = grid_problem(**CASES["pcn_only_symmetry"])
    first = solve_place(problem, SolveOptions(seed=3, solver=solver))
    second = solve_place(problem, SolveOptions(seed=3, solver=solver))
    assert np.array_equal(first.assignment, second.assignment) and first.objective == second.objective


def test_highs_thread_count_can_change_within_a_process(monkeypatch) -> None:
    """HiGHS sizes one thread pool per process; a second run with another thread count must still solve.

    Both HiGHS users are checked: the root LP loop (which alone proves this place) and, with the loop switched
    off, the MIP.
    """
    problem = grid_problem(**CASES["hubs"])
    expected = brute_force(problem)[0]
    for threads in (2, 1, 2):
        root = solve_module.strengthen_root(
            build_model(problem), SolveOptions(threads=threads), time.perf_counter() + 30
        )
        assert root.rounds >= 1 and root.bound == pytest.approx(expected, rel=1e-6)
    monkeypatch.setattr(solve_module, "strengthen_root", lambda *args, **kwargs: solve_module.RootResult())
    for threads in (2, 1):
        solution = solve_place(
            problem, SolveOptions(solver="highs", threads=threads, gap=0.0, warm_start=False)
        )
        assert solution.status == "optimal" and solution.message == ""
        assert solution.objective == pytest.approx(expected)


def test_auto_skips_the_mip_when_too_little_time_is_left_for_its_size() -> None:
    """A 4 x 4 grid (252 x variables after reachability) with 0.01 s: the heuristic's plan, saying why."""
    problem = grid_problem(4, 4, pop_min=30, pop_max=60, k_min=3, k_max=5)
    solution = solve_place(problem, SolveOptions(method="auto", time_limit=0.01))
    assert solution.status == "heuristic" and solution.method == "heuristic"
    assert "too little for a model of 252 variables" in solution.message
    assert not re.search(r"\d s\b", solution.message)  # a measured time would differ between runs
    exact = solve_place(problem, SolveOptions(method="exact", time_limit=0.01))
    assert exact.method.startswith("mip")  # asked for exact: the MIP is tried all the same


def test_a_skipped_mip_says_why_without_the_seconds_it_measured(monkeypatch) -> None:
    """The message goes into run.json and the report, which must not change with the machine's speed: a root LP
    of 5.4 s on one run and 6.1 s on the next once made `run --check` fail on a place whose plan was the same."""
    problem = grid_problem(4, 4, pop_min=30, pop_max=60, k_min=3, k_max=5)
    for first_lp in (5.4, 6.1):
        root = solve_module.RootResult(rounds=1, bound=0.0, mip=False, first_lp=first_lp)
        monkeypatch.setattr(solve_module, "strengthen_root", lambda *args, root=root, **kwargs: root)
        solution = solve_place(problem, SolveOptions(method="exact", solver="highs", time_limit=30))
        assert "the MIP was skipped: its root LP alone would not finish in the time left" in solution.message
        assert not re.search(r"\d s\b", solution.message)


def test_short_time_limits_get_a_share_of_the_merge_split_iterations(monkeypatch) -> None:
    """The heuristic's merge-split count scales with the time limit below RECOMBINE_FULL_AT (a count: reproducible),
    and its clock guard is the time limit with --method heuristic, a share of it when a MIP follows."""
    full_at = solve_module.RECOMBINE_FULL_AT
    assert (
        solve_module.recombine_budget(SolveOptions(time_limit=full_at)) == solve_module.RECOMBINE_ITERATIONS
    )
    assert (
        solve_module.recombine_budget(SolveOptions(time_limit=full_at / 10))
        == solve_module.RECOMBINE_ITERATIONS // 10
    )
    seen = []
    real = solve_module.solve_heuristic

    def spy(problem, **kwargs):
        seen.append((kwargs["recombine"], kwargs["deadline"] - time.perf_counter()))
        return real(problem, **kwargs)

    monkeypatch.setattr(solve_module, "solve_heuristic", spy)
    solve_place(grid_problem(**CASES["hubs"]), SolveOptions(method="heuristic", time_limit=full_at / 5))
    solve_place(grid_problem(**CASES["hubs"]), SolveOptions(method="exact", time_limit=full_at / 5))
    # auto with a model too large for the time a MIP would get: no MIP follows, the heuristic gets it all
    monkeypatch.setattr(solve_module, "AUTO_VARIABLES_PER_SECOND", 1)
    skipped = solve_place(grid_problem(**CASES["hubs"]), SolveOptions(method="auto", time_limit=full_at / 5))
    assert skipped.method == "heuristic" and "too little for a model" in skipped.message
    (iterations, heuristic_clock), (_, exact_clock), (_, auto_clock) = seen
    assert full_at / 5 - 1 < auto_clock <= full_at / 5
    assert iterations == solve_module.RECOMBINE_ITERATIONS // 5
    assert full_at / 5 - 1 < heuristic_clock <= full_at / 5
    assert (
        full_at / 5 * solve_module.HEURISTIC_TIME_SHARE - 1
        < exact_clock
        <= full_at / 5 * solve_module.HEURISTIC_TIME_SHARE
    )


def test_the_heuristic_guard_allows_its_runs_the_time_they_take_on_a_slow_machine() -> None:
    """The guard is a quarter of the limit, or the runs' expected time on a slow machine when that is longer (so
    the fixed counts, and with them the plan, do not depend on the machine), but never over half the limit."""
    per_unit = solve_module.HEURISTIC_SECONDS_PER_UNIT
    options = SolveOptions(time_limit=60)
    small = grid_problem(4, 4, pop_min=30, pop_max=60, k_min=3, k_max=5)
    assert solve_module.heuristic_share(small, options, runs=3) == solve_module.HEURISTIC_TIME_SHARE
    units = 120  # 3 runs of 120 LSOAs: 19.8 s expected, a third of the limit
    problem = replace(small, unit_codes=tuple(f"E01{i:06d}" for i in range(units)))  # only its size is read
    assert solve_module.heuristic_share(problem, options, runs=3) == pytest.approx(3 * per_unit * units / 60)
    assert solve_module.heuristic_share(problem, options, runs=1) == solve_module.HEURISTIC_TIME_SHARE
    assert solve_module.heuristic_share(problem, SolveOptions(time_limit=6), runs=1) == 0.5


def test_heuristic_runs_scale_with_the_time_limit(monkeypatch) -> None:
    """One heuristic run per SECONDS_PER_HEURISTIC_RUN of the limit, at least one, at most heuristic_runs; the
    count reaches solve_heuristic from the scenario's solver section."""
    per_run = solve_module.SECONDS_PER_HEURISTIC_RUN
    assert solve_module.heuristic_runs(SolveOptions(time_limit=per_run / 2)) == 1
    assert solve_module.heuristic_runs(SolveOptions(time_limit=3 * per_run + 1)) == 3
    assert solve_module.heuristic_runs(SolveOptions(time_limit=100 * per_run)) == 8
    assert solve_module.heuristic_runs(SolveOptions(time_limit=60)) == 8  # London's benchmark limit
    assert solve_module.heuristic_runs(SolveOptions(time_limit=100 * per_run, heuristic_runs=2)) == 2
    # a model too large for its root loop to spare the time: one run (variables 0: no MIP follows)
    limit = 3 * per_run
    most = solve_module.HEURISTIC_RUNS_VARIABLES_PER_SECOND * limit
    assert solve_module.heuristic_runs(SolveOptions(time_limit=limit), variables=int(most)) == 3
    assert solve_module.heuristic_runs(SolveOptions(time_limit=limit), variables=int(most) + 1) == 1
    assert solve_module.heuristic_runs(SolveOptions(method="heuristic", time_limit=limit), 0) == 3
    from footprint.config import Scenario
    from footprint.runner import solve_options

    scenario = Scenario.model_validate(
        {"inputs": {"units": {"path": "u.gpkg"}}, "solver": {"heuristic_runs": 2, "time_limit": 90}}
    )
    options = solve_options(scenario)
    assert options.heuristic_runs == 2 and solve_module.heuristic_runs(options) == 2
    seen = []
    real = solve_module.solve_heuristic

    def spy(problem, **kwargs):
        seen.append(kwargs["runs"])
        return real(problem, **kwargs)

    monkeypatch.setattr(solve_module, "solve_heuristic", spy)
    made = [solve_place(grid_problem(**CASES["hubs"]), replace(options, method="heuristic")).heuristic_runs]
    made.append(solve_place(grid_problem(**CASES["hubs"]), replace(options, method="exact")).heuristic_runs)
    monkeypatch.setattr(solve_module, "HEURISTIC_RUNS_VARIABLES_PER_SECOND", 0)
    made.append(solve_place(grid_problem(**CASES["hubs"]), replace(options, method="exact")).heuristic_runs)
    # no MIP follows: all runs
    made.append(
        solve_place(grid_problem(**CASES["hubs"]), replace(options, method="heuristic")).heuristic_runs
    )
    assert seen == [2, 2, 1, 2] and made == seen  # each place's solution records the runs it got


def test_the_heuristic_stops_at_its_deadline_with_a_valid_plan_and_says_so() -> None:
    """A deadline already past: the first valid plan is kept (a plan is never given up for the clock), no
    further start or merge-split iteration runs, the result says it stopped, and solve_place notes it."""
    problem = grid_problem(**CASES["hubs"])
    free = solve_heuristic(problem)
    stopped = solve_heuristic(problem, deadline=time.perf_counter() - 1)
    assert not free.stopped and stopped.stopped
    assert check_plan(problem, stopped.assignment) == []
    assert stopped.objective >= free.objective - 1e-12
    solution = solve_place(problem, SolveOptions(method="heuristic", time_limit=1e-9))
    assert solution.status == "heuristic"
    assert "the heuristic stopped at 100% of the time limit" in solution.message


def test_the_mip_time_limit_is_net_of_the_model_build(monkeypatch) -> None:
    """PuLP builds the highspy model before HiGHS's clock starts: the limit set at the solve is what is left of
    the place's time after that build, so a slow build does not run the place over its limit."""
    import highspy

    limits: list[float] = []

    class Recording(highspy.Highs):
        def setOptionValue(self, name, value):
            if name == "time_limit":
                limits.append(float(value))
            return super().setOptionValue(name, value)

    real_load = solve_module.load_highs

    def slow_load(h, lp, *, integer):
        time.sleep(1.5)
        return real_load(h, lp, integer=integer)

    monkeypatch.setattr(highspy, "Highs", Recording)
    monkeypatch.setattr(solve_module, "load_highs", slow_load)
    model = build_model(grid_problem(**CASES["hubs"]))
    result = solve_module._run_highs(model, SolveOptions(), time_left=4.0, warm=False)
    assert result.state in ("optimal", "stopped")
    assert len(limits) == 1  # set once, at the solve, net of the build
    assert 0.1 <= limits[0] <= 4.0 - 1.5 - solve_module.MIP_READ_BACK + 0.05
    assert result.build >= 1.5
    # a build that leaves no time: HiGHS gets a token limit rather than a whole second past the place's end
    limits.clear()
    solve_module._run_highs(model, SolveOptions(), time_left=1.6, warm=False)
    assert limits[-1] == pytest.approx(0.1)


@pytest.mark.skipif(not solver_available("cbc"), reason="CBC not installed")
@pytest.mark.parametrize("warm", [False, True])
def test_cbc_time_limit_is_net_of_writing_its_files(monkeypatch, warm: bool) -> None:
    """PuLP writes CBC's model (and start) files before CBC's clock starts: CBC's -sec is what is left after
    them, and the round's build records their time for the next round's guard."""
    import pulp

    limits: list[float] = []

    class Recording(solve_module._Cbc):
        def solve_CBC(self, lp, use_mps=True):
            try:
                return super().solve_CBC(lp, use_mps)
            finally:
                limits.append(self.timeLimit)

    real_write = pulp.LpProblem.writeMPS

    def slow_write(self, *args, **kwargs):
        time.sleep(1.5)
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(solve_module, "_Cbc", Recording)
    monkeypatch.setattr(pulp.LpProblem, "writeMPS", slow_write)
    problem = grid_problem(**CASES["hubs"])
    model = build_model(problem)
    start = solve_heuristic(problem).assignment
    assert not warm or model.set_start(start)
    result = solve_module._run_cbc(model, SolveOptions(), time_left=4.0, warm=warm)
    assert result.state in ("optimal", "stopped") and result.build >= 1.5
    assert 0.1 <= limits[0] <= 4.0 - 1.5 - solve_module.MIP_READ_BACK + 0.05
    assert "writeMPS" not in vars(model.lp)  # the timing hook is gone after the call


def test_no_cut_round_starts_without_time_for_its_model_build(monkeypatch) -> None:
    """A round's PuLP build (as long as the last) and the read-back must fit in the time left, or no round starts:
    a disconnected plan after a round whose build took 2 s, with 3 s of the limit left, ends the loop there."""
    problem = grid_problem(1, 5, population=[10] * 5, pop_min=10, pop_max=30, k_min=2, k_max=2)
    model = build_model(problem)
    calls: list[float] = []

    def one_round(model, options, time_left, warm, target=-math.inf):
        calls.append(time_left)
        return solve_module.RoundResult(state="optimal", bound=0.0, has_plan=True, build=2.0)

    # centre 1 serves units 1 and 3, centre 2 units 0, 2 and 4: both regions are in pieces
    monkeypatch.setattr(solve_module, "_run_highs", one_round)
    monkeypatch.setattr(type(model), "assignment", lambda self: np.array([2, 1, 2, 1, 2]))
    best = solve_module._Best()
    rounds, infeasible = solve_module._solve_loop(
        problem, model, "highs", SolveOptions(time_limit=3.5), best, time.perf_counter()
    )
    assert (rounds, infeasible, len(calls)) == (1, False, 1) and model.cuts > 0
    assert "time limit reached after 1 cut rounds" in best.notes
    calls.clear()
    model = build_model(problem)
    solve_module._solve_loop(
        problem, model, "highs", SolveOptions(time_limit=8), solve_module._Best(), time.perf_counter()
    )
    assert len(calls) > 1  # with time for the build, the loop goes on cutting


def test_the_mip_optimum_is_returned_not_the_start_it_was_given() -> None:
    """Found by tests/test_plans_property.py: on this 2 x 3 grid HiGHS proved the optimum (0.2327) but handed back
    the heuristic's start (0.6981) as its solution, so the place was written as the heuristic's plan with a 200%
    gap. The plan read back must be priced at the reported objective, else the round is solved again without it."""
    from dataclasses import replace

    problem = grid_problem(2, 3, population=[0, 1, 2, 2, 2, 2], pop_min=2, pop_max=5, k_min=2, k_max=6)
    problem = replace(problem, edges=((0, 1), (0, 3), (1, 2), (1, 4), (1, 5), (2, 5), (3, 4), (4, 5)))
    expected = brute_force(problem)
    assert expected is not None
    solution = solve_place(problem, SolveOptions(method="auto", solver="highs", time_limit=20, gap=0.0))
    assert solution.status == "optimal", solution.message
    assert solution.objective == pytest.approx(expected[0], rel=1e-9)
    assert check_plan(problem, solution.assignment) == []


def test_the_mip_target_is_where_a_bound_proves_a_plan_within_the_gap() -> None:
    assert solve_module._target(math.nan, 0.005) == -math.inf
    target = solve_module._target(1.2, 0.005)
    best = solve_module._Best(assignment=np.zeros(1, dtype=np.int64), objective=target, bound=1.2)
    assert best.proven_within(0.005)
    best.objective = target * (1 + 1e-6)
    assert not best.proven_within(0.005)


def _pcn_grid() -> object:
    patients = np.random.default_rng(1).integers(0, 9, size=(3, 12)).astype(float)
    return grid_problem(
        3,
        4,
        pop_min=30,
        pop_max=60,
        k_min=2,
        k_max=4,
        pcn_patients=patients,
        weights=Weights(access=0.2, pcn=1),
    )


def test_highs_stops_at_the_objective_target() -> None:
    problem = _pcn_grid()
    options = SolveOptions(gap=0.0)
    free = solve_module._run_highs(build_model(problem, contiguity="flow"), options, 20, False)
    assert free.state == "optimal" and free.has_plan
    stopped = solve_module._run_highs(
        build_model(problem, contiguity="flow"), options, 20, False, 10 * free.bound
    )
    assert stopped.state == "target" and stopped.has_plan and stopped.bound < free.bound


def test_the_mip_is_given_the_bound_proved_before_it_as_its_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Column generation's bound reaches the MIP as an objective target, so HiGHS stops at the first plan that bound
    proves within the gap, though its own dual bound is weaker; the bound reported is the better of the two."""
    problem = _pcn_grid()
    exact = solve_place(problem, SolveOptions(method="exact", gap=0.0))
    assert exact.status == "optimal"
    targets: list[float] = []
    run = solve_module._run_highs

    def recording(model, options, time_left, warm, target=-math.inf) -> solve_module.RoundResult:
        targets.append(target)
        return run(model, options, time_left, warm, target)

    def loose_columns(problem, best, *args: object) -> dict[str, int]:
        best.raise_bound(exact.objective / 2)  # valid: half the optimum
        return {"columns": 0}

    monkeypatch.setattr(solve_module, "_run_highs", recording)
    monkeypatch.setattr(solve_module, "_column_stage", loose_columns)
    monkeypatch.setattr(solve_module, "solve_heuristic", lambda *args, **kwargs: None)
    solution = solve_place(problem, SolveOptions(method="auto", gap=0.01))
    # the best bound so far: the columns' or the root LP's, never above the optimum
    assert targets and solve_module._target(exact.objective / 2, 0.01) <= targets[0]
    assert targets[0] <= solve_module._target(exact.objective, 0.01)
    assert solution.model["columns"] == 0 and "columns" in solution.seconds and "solve" in solution.seconds
    assert solution.objective == pytest.approx(exact.objective, rel=0.01)
    assert solution.bound >= exact.objective / 2 and check_plan(problem, solution.assignment) == []


def test_the_integer_programme_after_column_generation_leaves_the_polish_its_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After column generation the master's integer programme has only a share of the time left, so one that runs
    to its limit without a plan (Southwark at 60 s: 11.5 s over 2,970 columns) leaves the polishing walk from the
    LP's rounded solution its time (there it found the best plan known in 0.6 s); then the programme runs again,
    over the walk's neighbourhoods too. The old order gave the first programme all the time and never polished."""
    from types import SimpleNamespace

    from footprint.colgen import Master

    problem = _pcn_grid()
    best = solve_module._Best()
    best.offer(problem, solve_heuristic(problem, seed=0, runs=1).assignment, "heuristic")
    offset = [0.0]  # the seconds the stand-in programmes ran, on the stage's clock
    monkeypatch.setattr(
        solve_module, "time", SimpleNamespace(perf_counter=lambda: time.perf_counter() + offset[0])
    )
    events: list[tuple[str, float]] = []

    def to_its_limit(self, nodes, seconds=None, duals=None, within=math.inf):
        events.append(("programme", seconds))
        offset[0] += seconds
        return None

    polish = solve_module.polish_plan

    def polishing(*args, **kwargs):
        events.append(("polish", kwargs["deadline"] - solve_module.time.perf_counter()))
        return polish(*args, **kwargs)

    generate = solve_module.generate_columns

    def no_bound(
        *args, **kwargs
    ):  # column generation proves nothing, so the plans from its columns are wanted
        result, master = generate(*args, **kwargs)
        return replace(result, bound=math.nan, converged=False), master

    monkeypatch.setattr(Master, "integer_plan", to_its_limit)
    monkeypatch.setattr(solve_module, "polish_plan", polishing)
    monkeypatch.setattr(solve_module, "generate_columns", no_bound)
    now = time.perf_counter()
    solve_module._column_stage(problem, best, (), now + 100, now + 100, now + 100, SolveOptions())
    assert events[0][0] == "programme" and events[0][1] <= solve_module.FIRST_INTEGER_SHARE * 100 + 1e-6
    assert events[1][0] == "polish" and events[1][1] >= (1 - solve_module.FIRST_INTEGER_SHARE) * 100 - 5
    assert [name for name, _ in events[2:3]] == ["programme"]  # again, over the walk's neighbourhoods too
    assert check_plan(problem, best.assignment) == []
    # the clock, not the counts, ended the plans from the columns (the second programme ran to the end): said
    assert any("stopped at its share of the time limit" in note for note in best.notes)


def test_solve_options_defaults_are_the_config_defaults() -> None:
    """SolveOptions (the API) and the config's solver section (the CLI) default alike: one default of each."""
    from dataclasses import fields

    from footprint.config import Scenario
    from footprint.runner import solve_options

    from_config = solve_options(Scenario.model_validate({"inputs": {"units": {"path": "u.gpkg"}}}))
    api = SolveOptions()
    shared = [f.name for f in fields(SolveOptions) if f.name not in ("write_lp", "warm_start")]
    assert {name: getattr(from_config, name) for name in shared} == {
        name: getattr(api, name) for name in shared
    }


def test_the_polish_grows_a_start_from_the_lps_centres_when_the_rounded_one_cannot_be_repaired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The starts after column generation: the LP's rounded solution first, then the heuristic's growth from the
    centres the LP opens most, at the same k; when no rounded start can be repaired (City and Hackney at 60 s,
    whose LP opens the best known plan's 9 centres) the walk leaves from the grown one."""
    from footprint.colgen import Master, Pricing

    problem = grid_problem(1, 6, pop_min=30, pop_max=30, k_min=2, k_max=2, hubs=[0, 1, 5])
    pricing = Pricing(problem)
    master = Master(pricing, box=1e3)
    master.add([pricing.column(0, (0, 1, 2)), pricing.column(1, (1, 2, 3)), pricing.column(2, (3, 4, 5))])
    values = np.array([0.6, 0.4, 1.0])
    starts = solve_module._polish_starts(problem, master, values)
    assert len(starts) == 2  # one whole k: its rounded start, then its grown one
    rounded = solve_module._rounded_starts(master, values)[0]
    assert np.array_equal(starts[0](), rounded)
    assert starts[1]().tolist() == [0, 0, 0, 2, 2, 2]  # grown from hubs 0 and 2, the most opened
    polish = solve_module.polish_plan
    polished: list[list[int]] = []

    def first_unrepairable(problem_, assignment, **kwargs):  # the first start tried cannot be repaired
        polished.append(assignment.tolist())
        return None if len(polished) == 1 else polish(problem_, assignment, **kwargs)

    monkeypatch.setattr(solve_module, "polish_plan", first_unrepairable)
    best = solve_module._Best()
    walked = solve_module._polish(problem, best, starts, 0, None, SolveOptions())
    assert polished == [rounded.tolist(), [0, 0, 0, 2, 2, 2]]  # the rounded start, then the grown one
    assert walked and best.source == "columns" and check_plan(problem, best.assignment) == []
    assert best.objective <= weighted_objective(
        problem, evaluate_terms(problem, np.array([0, 0, 0, 2, 2, 2]))
    )
