"""Solver trouble, end to end on the tiny grid: each case ends in a verified plan or a clear message.

- a time limit with an incumbent: the plan is written with its gap and a warning (status ``feasible``);
- a time limit with no incumbent: the heuristic plan, verified, status ``heuristic``, and a warning;
- the solver crashing (CBC's binary killed by a signal, HiGHS raising): the heuristic plan, and a message
  naming the other solver;
- the solver missing: one line naming the alternative, nothing written;
- a worker process dying: that place is an error naming the alternatives; the others are written.

The solver is made to misbehave with monkeypatch; places are solved in forked worker processes, which inherit
the patches.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footprint import runner as runner_module
from footprint import solve as solve_module
from footprint.cli import app
from footprint.solve import RoundResult
from tiny import write_tiny_scenario

cli = CliRunner()


@pytest.fixture(autouse=True)
def no_root_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the MIP's trouble: skip the root LP, which proves the tiny places on its own."""
    monkeypatch.setattr(solve_module, "strengthen_root", lambda *args, **kwargs: solve_module.RootResult())


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_scenario(tmp_path / "tiny")


def run(config: Path, out: Path, *args: str):
    return cli.invoke(app, ["run", str(config), "--out", str(out), "--quiet", *args])


def places(out: Path) -> dict[str, dict]:
    record = json.loads((out / "run.json").read_text())
    return {place["place_code"]: place for place in record["places"]}


def test_time_limit_with_an_incumbent_writes_the_plan_with_its_gap_and_a_warning(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The solver's plan is the incumbent (no heuristic plan) and its bound is half the objective at the stop."""
    real = solve_module._run_highs

    def stopped_early(model, options, time_left, warm, target=-math.inf):
        result = real(model, options, time_left, warm, target)
        return RoundResult(state="stopped", bound=result.bound / 2, has_plan=result.has_plan)

    monkeypatch.setattr(solve_module, "_run_highs", stopped_early)
    monkeypatch.setattr(solve_module, "solve_heuristic", lambda problem, **kwargs: None)
    out = tmp_path / "out"
    # --method exact: the MIP alone (auto's column generation would prove these small places before it)
    result = run(tiny, out, "--solver", "highs", "--method", "exact", "--set", "solver.contiguity=flow")
    assert result.exit_code == 0, result.output
    for code, place in places(out).items():
        assert place["status"] == "feasible" and place["gap"] == pytest.approx(0.5)
        assert place["verifier"]["ok"]
        assert (
            f"warning: {code}: the solver stopped before proving its plan within the gap 0.5%: gap 50.0% "
            "(time limit reached in cut round 1); the plan is verified and written; allow more time "
            "(--time-limit) to narrow the gap." in result.output
        )


def test_time_limit_without_an_incumbent_writes_the_verified_heuristic_plan(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        solve_module,
        "_run_highs",
        lambda *args: RoundResult(state="stopped", bound=math.nan, has_plan=False),
    )
    out = tmp_path / "out"
    result = run(tiny, out, "--solver", "highs", "--method", "exact")
    assert result.exit_code == 0, result.output
    for code, place in places(out).items():
        assert place["status"] == "heuristic" and place["verifier"]["ok"]
        assert place["method"] == "mip-cuts (heuristic plan)" and place["gap"] is None
        assert f"warning: {code}: the plan is the heuristic's (verified and written)" in result.output
    assert json.loads((out / "run.json").read_text())["verifier"]["ok"]


@pytest.mark.parametrize("solver, other", [("cbc", "highs"), ("highs", "cbc")])
def test_a_crashing_solver_falls_back_to_the_heuristic_plan_naming_the_other_solver(
    solver: str, other: str, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if solver == "cbc":  # CBC's binary killed by a segmentation fault
        fake = tmp_path / "cbc"
        fake.write_text("#!/bin/sh\nkill -SEGV $$\n", encoding="utf-8")
        fake.chmod(0o755)
        from pulp.apis import coin_api

        monkeypatch.setattr(coin_api.PULP_CBC_CMD, "pulp_cbc_path", str(fake))
    else:

        def crash(*args: object) -> RoundResult:
            raise RuntimeError("HiGHS crashed")

        monkeypatch.setattr(solve_module, "_run_highs", crash)
    out = tmp_path / "out"
    result = run(tiny, out, "--solver", solver, "--method", "exact")
    assert result.exit_code == 0, result.output
    for place in places(out).values():
        assert place["status"] == "heuristic" and place["verifier"]["ok"]
        assert f"the {solver} solver failed (" in place["message"]
        assert place["message"].endswith(f"try --solver {other}")
    assert f"try --solver {other}" in result.output  # in the warning


@pytest.mark.parametrize(
    "available, args, message",
    [
        (
            {"highs"},
            ["--solver", "cbc"],
            "error: the cbc solver is not available here (PuLP's bundled CBC binary was not found); use --solver "
            "highs or use --method heuristic.",
        ),
        (
            set(),
            [],
            "error: no MIP solver is available here (highspy cannot be imported and PuLP's CBC binary was not "
            "found); pip install highspy, or use --method heuristic.",
        ),
    ],
)
def test_a_missing_solver_is_one_line_naming_the_alternative_and_nothing_is_written(
    available: set[str],
    args: list[str],
    message: str,
    tiny: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner_module, "solver_available", lambda name: name in available)
    out = tmp_path / "out"
    result = run(tiny, out, *args)
    assert result.exit_code == 1
    assert result.output.strip() == message
    assert not out.exists()
    heuristic = run(tiny, out, *args, "--method", "heuristic")
    assert heuristic.exit_code == 0, heuristic.output


def test_a_dead_worker_process_is_an_error_for_its_place_and_the_others_are_written(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner_module.solve_place

    def die_on_beta(problem, options):
        if problem.place_code == "E09900002":
            os._exit(9)  # as a solver segfault or the out-of-memory killer would
        return real(problem, options)

    monkeypatch.setattr(runner_module, "solve_place", die_on_beta)  # called in the (forked) worker
    out = tmp_path / "out"
    result = run(tiny, out)
    assert result.exit_code == 1, result.output
    assert (
        "E09900002: Place E09900002 (Beta): the solving process stopped abruptly (the solver crashed or the "
        "process was killed, e.g. out of memory); re-run with --solver cbc, or --method heuristic."
        in result.output
    )
    recorded = places(out)
    assert recorded["E09900001"]["status"] == "optimal" and recorded["E09900002"]["status"] == "error"


def record_pools(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The place codes given to each pool the run opens, in order (a spy on ``runner.solve_places``)."""
    solved: list[list[str]] = []
    real = runner_module.solve_places

    def spy(executor, problems, *args, **kwargs):
        solved.append([p.place_code for p in problems])
        return real(executor, problems, *args, **kwargs)

    monkeypatch.setattr(runner_module, "solve_places", spy)
    return solved


def test_a_dead_worker_takes_down_only_its_own_place_with_two_workers(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two places in flight, one dead process breaks the whole pool; each place it took down is solved
    again on its own, so only the place whose process dies again is lost, and the other gets its plan."""
    real = runner_module.solve_place
    alpha_started = tmp_path / "alpha-started"

    def die_on_beta(problem, options):
        if problem.place_code == "E09900002":
            for _ in range(200):  # die while Alpha is being solved, not before it starts
                if alpha_started.exists():
                    break
                time.sleep(0.05)
            os._exit(9)
        alpha_started.touch()
        time.sleep(1.0)  # still solving when Beta's process dies
        return real(problem, options)

    monkeypatch.setattr(runner_module, "solve_place", die_on_beta)
    solved = record_pools(monkeypatch)
    out = tmp_path / "out"
    result = run(tiny, out, "--workers", "2")
    assert result.exit_code == 1, result.output
    assert solved == [["E09900001", "E09900002"], ["E09900001"], ["E09900002"]]
    recorded = places(out)
    assert recorded["E09900001"]["status"] == "optimal"
    assert recorded["E09900002"]["status"] == "error"
    assert "the solving process stopped abruptly" in recorded["E09900002"]["message"]


def test_places_queued_behind_a_dead_worker_are_solved_in_a_fresh_pool_and_the_culprit_is_named(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker: Alpha's process dies with Beta still queued. Beta never started, so it cannot be the cause:
    it goes to a fresh pool (not a retry alone after Alpha's), and Alpha, the only place in flight, is named."""
    real = runner_module.solve_place

    def die_on_alpha(problem, options):
        if problem.place_code == "E09900001":
            os._exit(9)
        return real(problem, options)

    monkeypatch.setattr(runner_module, "solve_place", die_on_alpha)
    solved = record_pools(monkeypatch)
    out = tmp_path / "out"
    result = run(tiny, out, "--workers", "1")
    assert result.exit_code == 1, result.output
    assert solved == [["E09900001", "E09900002"], ["E09900002"]]
    recorded = places(out)
    assert recorded["E09900002"]["status"] == "optimal"
    assert recorded["E09900001"]["status"] == "error"
    assert "while this or another place" not in recorded["E09900001"]["message"]
