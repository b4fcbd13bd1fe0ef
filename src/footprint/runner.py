"""Run a scenario: validate, solve every place (in parallel), verify, and hand back a :class:`~footprint.plan.Plan`.

This is the library entry point behind ``footprint run`` (:func:`run_scenario`). Places are independent problems,
solved in a process pool (``solver.workers``, default = cores). Progress is reported through an optional callback
(``on_event(place_code, event, payload)``) so the CLI can draw a live table while the library prints nothing.
Input errors raise :class:`~footprint.errors.InputDataError` with every problem; a place that cannot be split
within the bounds is reported infeasible with the reason while the others still solve.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from footprint.config import Scenario, load_scenario
from footprint.errors import InputDataError
from footprint.plan import Plan, build_plan
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.solve import SolveOptions, solve_place
from footprint.validate import ValidationReport, validate_scenario

logger = logging.getLogger(__name__)

EventCallback = Callable[[str, str, dict[str, Any]], None]


def solve_options(scenario: Scenario) -> SolveOptions:
    """Solver options from the scenario's ``solver`` section."""
    solver = scenario.solver
    return SolveOptions(
        method=solver.method,
        solver=solver.name,
        time_limit=solver.time_limit,
        gap=solver.gap,
        threads=solver.threads,
        seed=solver.seed,
        contiguity=solver.contiguity,
    )


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _solve_one(problem: PlaceProblem, options: SolveOptions) -> PlaceSolution:
    return solve_place(problem, options)


@dataclass
class PreparedRun:
    """A validated scenario ready to solve: its problems, options, and the places already known infeasible.

    Built by :func:`prepare_run`; ``solutions`` starts with the infeasible places and is completed by the caller
    (one solution per place in ``todo``) before :func:`finish_run`.
    """

    scenario: Scenario
    report: ValidationReport
    options: SolveOptions
    todo: list[str]
    solutions: dict[str, PlaceSolution] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)


def prepare_run(
    scenario: Scenario,
    *,
    places: Sequence[str] | None = None,
    report: ValidationReport | None = None,
    on_event: EventCallback | None = None,
) -> PreparedRun:
    """Validate ``scenario`` (unless ``report`` is given) and set up its places for solving.

    Raises
    ------
    InputDataError
        When the inputs have errors other than places that cannot be split.
    """
    started = time.perf_counter()
    if report is None:
        report = validate_scenario(scenario, places=list(places) if places else None)
    blocking = [f for f in report.errors if f.code != "place.infeasible"]
    if blocking:
        raise InputDataError("\n".join(f.line() for f in blocking))
    prepared = PreparedRun(
        scenario=scenario,
        report=report,
        options=solve_options(scenario),
        todo=[],
        timings={"validate": time.perf_counter() - started},
        started=started,
    )
    infeasible = {f.items[0]: f.message for f in report.errors if f.code == "place.infeasible"}
    for place, reason in sorted(infeasible.items()):
        problem = report.problems[place]
        prepared.solutions[place] = PlaceSolution(
            place_code=place, status="infeasible", assignment=np.zeros(0, dtype=np.int64), message=reason
        )
        _emit(
            on_event, place, "finished", {"status": "infeasible", "message": reason, "lsoas": problem.n_units}
        )
    prepared.todo = [place for place in sorted(report.problems) if place not in infeasible]
    for place in prepared.todo:
        _emit(on_event, place, "queued", {"lsoas": report.problems[place].n_units})
    return prepared


def solve_places(
    jobs: Sequence[tuple[Hashable, PlaceProblem, SolveOptions]],
    *,
    workers: int,
    on_started: Callable[[Hashable], None] | None = None,
    solve: Callable[[PlaceProblem, SolveOptions], PlaceSolution] | None = None,
) -> Iterator[tuple[Hashable, PlaceSolution]]:
    """Solve independent place problems, ``workers`` at a time in a process pool (in order when 1).

    Yields ``(key, solution)`` as each job finishes; ``on_started(key)`` is called when a job is handed out.
    ``solve`` (a module-level function, so the pool can pickle it) replaces :func:`footprint.solve.solve_place`.
    """
    solve = solve or _solve_one
    if workers <= 1 or len(jobs) <= 1:
        for key, problem, options in jobs:
            if on_started is not None:
                on_started(key)
            yield key, solve(problem, options)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        pending: dict[Any, Hashable] = {}
        queue = list(jobs)
        order = {key: k for k, (key, _, _) in enumerate(jobs)}
        while queue or pending:
            while queue and len(pending) < workers:
                key, problem, options = queue.pop(0)
                pending[pool.submit(solve, problem, options)] = key
                if on_started is not None:
                    on_started(key)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: order[pending[f]]):
                key = pending.pop(future)
                yield key, future.result()


def finish_run(prepared: PreparedRun, *, solve_seconds: float | None = None) -> Plan:
    """Label, verify and assemble the solutions of a prepared run into a :class:`Plan` with its timings."""
    report = prepared.report
    timings = dict(prepared.timings)
    if solve_seconds is not None:
        timings["solve"] = solve_seconds
    verify_started = time.perf_counter()
    plan = build_plan(report.dataset, report.graph, report.problems, prepared.solutions)
    timings["verify"] = time.perf_counter() - verify_started
    timings["total"] = time.perf_counter() - prepared.started
    return replace(plan, timings=timings)


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    places: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    on_event: EventCallback | None = None,
    report: ValidationReport | None = None,
) -> Plan:
    """Validate and solve a scenario; return the verified plan.

    Parameters
    ----------
    scenario
        A loaded :class:`Scenario` or the path of a scenario file.
    places
        Place codes to solve (default: all).
    overrides
        ``key=value`` settings applied when ``scenario`` is a path.
    workers
        Places solved in parallel (default ``solver.workers`` or the number of cores).
    on_event
        Called as ``on_event(place, event, payload)`` with events ``queued``, ``started``, ``finished``.
    report
        A validation report already computed for this scenario (skips re-reading the inputs).

    Raises
    ------
    InputDataError
        When the inputs have errors other than places that cannot be split.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides=list(overrides))
    prepared = prepare_run(scenario, places=places, report=report, on_event=on_event)
    workers = workers or scenario.solver.workers or default_workers()
    solve_started = time.perf_counter()
    jobs = [(place, prepared.report.problems[place], prepared.options) for place in prepared.todo]
    for place, solution in solve_places(
        jobs, workers=workers, on_started=lambda place: _emit(on_event, place, "started", {})
    ):
        prepared.solutions[place] = solution
        _emit(on_event, place, "finished", _summary(solution))
    return finish_run(prepared, solve_seconds=time.perf_counter() - solve_started)


def _summary(solution: PlaceSolution) -> dict[str, Any]:
    return {
        "status": solution.status,
        "k": len(np.unique(solution.assignment)) if len(solution.assignment) else 0,
        "gap": solution.gap,
        "seconds": float(sum(solution.seconds.values())),
        "message": solution.message,
    }


def _emit(on_event: EventCallback | None, place: str, event: str, payload: dict[str, Any]) -> None:
    if on_event is not None:
        on_event(place, event, payload)
