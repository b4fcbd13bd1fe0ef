"""Counted work (``solver.counted``, ``footprint run --counted``): no clock decides the plan or the bound."""

from __future__ import annotations

import numpy as np
import pytest

from footprint.solve import SolveOptions, solve_place, tree_nodes
from problems import random_place


def _assert_same_result(one, other) -> None:
    """Two solutions of a place agree on everything but their seconds: plan, status, objective, bound, message
    and counts."""
    assert np.array_equal(one.assignment, other.assignment)
    assert (one.status, one.objective, one.bound, one.message) == (
        other.status,
        other.objective,
        other.bound,
        other.message,
    )
    assert one.model == other.model


@pytest.mark.parametrize("method", ["auto", "columns"])
def test_counted_work_gives_the_same_plan_and_bound_on_a_slow_machine(slow_clock, highs_limits, method):
    """With counted work the heuristic, column generation, the plans from the columns and branch-and-price
    run to their counts: on a place whose LP is fractional (so the tree runs) the result under a clock that
    jumps 1,000 s a reading is the one on this machine, field by field (timing aside), and no HiGHS solve is
    given a time limit."""
    problem = random_place(3)
    options = SolveOptions(method=method, time_limit=60, gap=0.0, counted=True)
    here = solve_place(problem, options)
    assert [name for name, _ in highs_limits if name == "time_limit"] == []
    slow_clock()
    slow = solve_place(problem, options)
    _assert_same_result(here, slow)
    assert here.model["tree_nodes"] >= 1  # the tree ran, within its counted nodes
    assert here.model["tree_nodes"] <= tree_nodes(options)
    assert "stopped" not in here.message


def test_without_counted_work_the_same_slow_clock_cuts_the_work_short(slow_clock):
    """The control: under a clock that jumps 1,000 s a reading, the timed stages stop at once and say so, so
    the test above would see a clock that still decided anything."""
    problem = random_place(3)
    options = SolveOptions(method="columns", time_limit=60, gap=0.0)
    here = solve_place(problem, options)
    slow_clock()
    slow = solve_place(problem, options)
    assert "stopped" in slow.message and "stopped" not in here.message
    assert slow.model != here.model


def test_counted_auto_is_columns_when_column_generation_does_not_converge(monkeypatch):
    """auto under a clock branches only from a converged root; with counted work it is columns, tree and all,
    also when the root's exact passes run out (one pass here) before its LP converges."""
    from footprint import solve

    monkeypatch.setattr(solve, "COUNTED_EXACT_PASSES", 1)
    problem = random_place(1)
    auto = solve_place(problem, SolveOptions(method="auto", time_limit=60, gap=0.0, counted=True))
    columns = solve_place(problem, SolveOptions(method="columns", time_limit=60, gap=0.0, counted=True))
    assert not auto.model["column_lp_converged"]
    assert auto.model.get("tree_nodes", 0) >= 1
    _assert_same_result(auto, columns)


@pytest.mark.parametrize("counted", [False, True])
def test_column_generation_takes_the_exact_passes_of_its_mode(counted, monkeypatch):
    """Counted work fixes its own number of exact passes; under the clock the cap is a separate guard."""
    from footprint import solve

    monkeypatch.setattr(solve, "COUNTED_EXACT_PASSES" if counted else "COLUMN_EXACT_PASSES", 1)
    problem = random_place(1)
    result = solve_place(problem, SolveOptions(method="columns", time_limit=60, gap=0.0, counted=counted))
    assert result.model["exact_pricing_passes"] == 1 and not result.model["column_lp_converged"]


def test_the_tree_stops_at_its_counted_nodes():
    """At a 10 s limit counted work allows one branch-and-price node, and the tree stops there with nodes
    open (the same place at 60 s needs more)."""
    problem = random_place(3)
    short = solve_place(problem, SolveOptions(method="columns", time_limit=10, gap=0.0, counted=True))
    assert short.model["tree_nodes"] == 1 and short.model["tree_open_nodes"] >= 1


def test_counted_exact_is_refused():
    with pytest.raises(ValueError, match="counted"):
        SolveOptions(method="exact", counted=True)


def test_tree_nodes_are_a_count_sized_by_the_time_limit():
    """Counted: one node per COUNTED_SECONDS_PER_NODE of the limit, at least one; under a clock the tree's own
    cap (the clock binds first)."""
    from footprint.branch import MAX_NODES
    from footprint.solve import COUNTED_SECONDS_PER_NODE

    assert tree_nodes(SolveOptions(time_limit=120, counted=True)) == int(120 // COUNTED_SECONDS_PER_NODE)
    assert tree_nodes(SolveOptions(time_limit=1, counted=True)) == 1
    assert tree_nodes(SolveOptions(time_limit=120)) == MAX_NODES


def test_run_counted_end_to_end_and_refused_with_method_exact(tmp_path):
    """`footprint run --counted` writes a verified plan whose run.json records counted work, and the same files
    again on a second run; with --method exact (a MIP stopped by its clock) it stops with exit 2 and one line
    naming the setting and the fix, writing nothing."""
    import json

    from typer.testing import CliRunner

    from footprint.cli import app
    from tiny import write_tiny_scenario

    config = write_tiny_scenario(tmp_path / "in")
    runner = CliRunner()
    outs = [tmp_path / "first", tmp_path / "second"]
    for out in outs:
        result = runner.invoke(app, ["run", str(config), "--counted", "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
    record = json.loads((outs[0] / "run.json").read_text())
    assert record["config"]["solver"]["counted"] is True
    assert all(place["method"] == "columns" for place in record["places"])
    check = runner.invoke(app, ["run", str(config), "--counted", "--out", str(outs[1]), "--check", "--quiet"])
    assert check.exit_code == 0, check.output

    refused = runner.invoke(
        app, ["run", str(config), "--counted", "--method", "exact", "--out", str(tmp_path / "exact")]
    )
    assert refused.exit_code == 2
    assert "counted" in refused.output and "method columns" in refused.output
    assert not (tmp_path / "exact").exists()


def test_counted_exact_is_refused_with_one_message_from_config_and_api():
    """The config's validator and SolveOptions give the same reason and fix."""
    from pydantic import ValidationError

    from footprint.config import COUNTED_EXACT_REFUSED, Solver

    with pytest.raises(ValidationError, match="counted is true but method is exact"):
        Solver(method="exact", counted=True)
    with pytest.raises(ValueError) as refused:
        SolveOptions(method="exact", counted=True)
    assert str(refused.value) == COUNTED_EXACT_REFUSED


@pytest.mark.parametrize("counted", [False, True])
def test_an_unproven_plan_warns_with_what_more_time_buys(counted):
    """Timed work: allow more time. Counted work: no clock stopped it; the time limit sets its counts."""
    from types import SimpleNamespace

    from footprint.cli import solver_warnings

    solver = SimpleNamespace(method="auto", gap=0.005, counted=counted)
    plan = SimpleNamespace(
        dataset=SimpleNamespace(scenario=SimpleNamespace(solver=solver)),
        statuses={"E1": "feasible", "E2": "heuristic"},
        place_record=lambda place: {"gap": 0.02, "message": ""},
    )
    feasible, heuristic = solver_warnings(plan)
    if counted:
        assert feasible.startswith("E1: the counted work ended before proving its plan within the gap 0.5%")
        assert (
            "raise --time-limit (under counted work it sets the tree's nodes, and the heuristic runs up to "
            "solver.heuristic_runs)" in heuristic
        )
        assert "allow more time" not in feasible + heuristic
    else:
        assert feasible.startswith("E1: the solver stopped before proving its plan within the gap 0.5%")
        assert "allow more time (--time-limit) or see the solver message" in heuristic


def test_a_mip_stopped_by_its_counted_node_limit_keeps_its_plan_and_a_valid_bound(monkeypatch, highs_limits):
    """Counted work gives a HiGHS MIP (``footprint repair``'s least-change model) a node limit and no time limit;
    stopped there (a status PuLP 3.3 does not map) the solve is "stopped" with its plan read back and its dual
    bound at most the optimum that an unlimited solve proves."""
    from footprint import solve
    from footprint.model import build_model

    problem = random_place(2)
    full = solve._run_highs(build_model(problem, contiguity="cuts"), SolveOptions(gap=0.0), 60, False)
    assert full.state == "optimal"
    monkeypatch.setattr(solve, "COUNTED_SECONDS_PER_MIP_NODE", 1e9)  # one node
    highs_limits.clear()
    model = build_model(problem, contiguity="cuts")
    cut = solve._run_highs(model, SolveOptions(gap=0.0, counted=True, time_limit=60), 60, False)
    assert highs_limits == [("mip_max_nodes", 1)]
    assert (cut.state, cut.detail, cut.has_plan) == ("stopped", "Solution limit reached", True)
    assert cut.bound <= full.bound + 1e-9
    assert model.assignment() is not None


def test_a_failure_inside_column_generation_keeps_the_heuristics_plan_and_says_so(monkeypatch):
    """An internal error in the column stage (a bug) does not cost the place its plan: the heuristic's verified
    plan comes back, with a note naming the error."""
    from footprint import solve

    def broken(*args, **kwargs):
        raise IndexError("boolean index did not match")

    monkeypatch.setattr(solve, "_column_stage", broken)
    problem = random_place(3)
    result = solve_place(problem, SolveOptions(method="columns", time_limit=20))
    assert result.assignment is not None and len(result.assignment) == problem.n_units
    assert "column generation failed (IndexError: boolean index did not match)" in result.message
