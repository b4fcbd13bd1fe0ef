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
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace
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
    started = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides=list(overrides))
    if report is None:
        report = validate_scenario(scenario, places=list(places) if places else None)
    blocking = [f for f in report.errors if f.code != "place.infeasible"]
    if blocking:
        raise InputDataError("\n".join(f.line() for f in blocking))
    timings = {"validate": time.perf_counter() - started}

    infeasible = {f.items[0]: f.message for f in report.errors if f.code == "place.infeasible"}
    options = solve_options(scenario)
    solutions: dict[str, PlaceSolution] = {}
    for place, reason in sorted(infeasible.items()):
        problem = report.problems[place]
        solutions[place] = PlaceSolution(
            place_code=place, status="infeasible", assignment=np.zeros(0, dtype=np.int64), message=reason
        )
        _emit(
            on_event, place, "finished", {"status": "infeasible", "message": reason, "lsoas": problem.n_units}
        )

    todo = [place for place in sorted(report.problems) if place not in infeasible]
    for place in todo:
        _emit(on_event, place, "queued", {"lsoas": report.problems[place].n_units})
    workers = workers or scenario.solver.workers or default_workers()
    solve_started = time.perf_counter()
    if workers <= 1 or len(todo) <= 1:
        for place in todo:
            _emit(on_event, place, "started", {})
            solutions[place] = _solve_one(report.problems[place], options)
            _emit(on_event, place, "finished", _summary(solutions[place]))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            pending = {}
            queue = list(todo)
            while queue or pending:
                while queue and len(pending) < workers:
                    place = queue.pop(0)
                    pending[pool.submit(_solve_one, report.problems[place], options)] = place
                    _emit(on_event, place, "started", {})
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f]):
                    place = pending.pop(future)
                    solutions[place] = future.result()
                    _emit(on_event, place, "finished", _summary(solutions[place]))
    timings["solve"] = time.perf_counter() - solve_started
    verify_started = time.perf_counter()
    plan = build_plan(report.dataset, report.graph, report.problems, solutions)
    timings["verify"] = time.perf_counter() - verify_started
    timings["total"] = time.perf_counter() - started
    return replace(plan, timings=timings)


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
