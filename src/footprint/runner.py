"""Run a scenario: validate, solve every place (in parallel), verify, and hand back a :class:`~footprint.plan.Plan`.

This is the library entry point behind ``footprint run`` (:func:`run_scenario`). Places are independent problems,
solved in a pool of worker processes (``solver.workers``, default = cores; a pool even for one worker, so that
Ctrl-C and SIGTERM stop a run at once and a crashing solver cannot take the run down with it). Progress is reported through an optional callback
(``on_event(place_code, event, payload)``) so the CLI can draw a live table while the library prints nothing.
Input errors raise :class:`~footprint.errors.InputDataError` with every problem; a place that cannot be split
within the bounds is reported infeasible with the reason while the others still solve.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from footprint.config import Scenario, load_scenario
from footprint.errors import InputDataError, SolverError
from footprint.plan import Plan, build_plan
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.solve import SolveOptions, solve_place, solver_available
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


def check_solver(options: SolveOptions) -> None:
    """Fail before solving anything when the MIP solver asked for cannot run here, naming the alternative.

    Raises
    ------
    SolverError
        ``--solver highs`` without highspy, ``--solver cbc`` without PuLP's CBC binary, or neither for ``auto``.
    """
    if options.method == "heuristic":
        return
    why = {"highs": "highspy cannot be imported", "cbc": "PuLP's bundled CBC binary was not found"}
    if options.solver in why:
        other = "cbc" if options.solver == "highs" else "highs"
        if not solver_available(options.solver):
            usable = f"use --solver {other}" if solver_available(other) else "install it"
            raise SolverError(
                f"the {options.solver} solver is not available here ({why[options.solver]}); {usable} or "
                "use --method heuristic."
            )
    elif not (solver_available("highs") or solver_available("cbc")):
        raise SolverError(
            "no MIP solver is available here (highspy cannot be imported and PuLP's CBC binary was not found); "
            "pip install highspy, or use --method heuristic."
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
    check_solver(options)
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
    if todo:
        _solve_in_workers(report.problems, todo, options, min(workers, len(todo)), solutions, on_event)
    timings["solve"] = time.perf_counter() - solve_started
    verify_started = time.perf_counter()
    plan = build_plan(report.dataset, report.graph, report.problems, solutions)
    timings["verify"] = time.perf_counter() - verify_started
    timings["total"] = time.perf_counter() - started
    return replace(plan, timings=timings)


def _solve_in_workers(
    problems: dict[str, PlaceProblem],
    todo: list[str],
    options: SolveOptions,
    workers: int,
    solutions: dict[str, PlaceSolution],
    on_event: EventCallback | None,
) -> None:
    """Solve ``todo`` in a pool of worker processes, even with one worker, filling ``solutions``.

    A separate process is what makes Ctrl-C and SIGTERM stop a run at once: a solver inside the main process
    keeps the interrupt waiting until it returns, which can be the whole time limit. It also turns a solver that
    crashes the process into a place with a clear error instead of a dead run.
    """
    with ProcessPoolExecutor(max_workers=workers, initializer=_leave_interrupts_to_parent) as pool:
        pending: dict[Future[PlaceSolution], str] = {}
        queue = list(todo)
        try:
            while queue or pending:
                while queue and len(pending) < workers:
                    place = queue.pop(0)
                    pending[pool.submit(_solve_one, problems[place], options)] = place
                    _emit(on_event, place, "started", {})
                # a timeout, so that the main thread runs Python code often enough to see Ctrl-C or SIGTERM
                # (a signal can land on the executor's thread, which does not wake the main thread's wait)
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f]):
                    place = pending[future]
                    solutions[place] = _result(future, problems[place], options)
                    del pending[future]  # only now: a broken pool must still find this place pending
                    _emit(on_event, place, "finished", _summary(solutions[place]))
        except BrokenProcessPool:
            for place in [*pending.values(), *queue]:  # the pool is gone: no place can still be solved
                solutions[place] = _crashed(problems[place], options)
                _emit(on_event, place, "finished", _summary(solutions[place]))
        except BaseException:  # Ctrl-C, SIGTERM: stop the workers now rather than after their solves
            _stop_workers(pool)
            raise


def _leave_interrupts_to_parent() -> None:
    """Worker processes ignore Ctrl-C and die at once on SIGTERM: the main process stops them.

    So Ctrl-C prints one line, not a traceback per worker; and a SIGTERM handler inherited from the CLI (which
    would wait for the solver to return to Python) does not delay the stop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's processes and drop queued work (the executor offers no public way to do this)."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _result(future: Future[PlaceSolution], problem: PlaceProblem, options: SolveOptions) -> PlaceSolution:
    try:
        return future.result()
    except BrokenProcessPool:
        raise
    except SolverError as error:
        return _failed(problem, options, str(error))


def _crashed(problem: PlaceProblem, options: SolveOptions) -> PlaceSolution:
    """A place whose worker process died (a solver crash, or the process killed, e.g. out of memory)."""
    other = "cbc" if options.solver != "cbc" else "highs"
    return _failed(
        problem,
        options,
        f"Place {problem.place_code} ({problem.place_name}): the solving process stopped abruptly (the solver "
        f"crashed or the process was killed, e.g. out of memory) while this or another place was being solved; "
        f"re-run with --solver {other}, or with --workers 1 to find the place, or --method heuristic.",
    )


def _failed(problem: PlaceProblem, options: SolveOptions, message: str) -> PlaceSolution:
    return PlaceSolution(
        place_code=problem.place_code,
        status="error",
        assignment=np.zeros(0, dtype=np.int64),
        message=message,
        method=options.method,
    )


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
