"""Run a scenario: validate, solve every place (in parallel), verify, and hand back a :class:`~footprint.plan.Plan`.

This is the library entry point behind ``footprint run`` (:func:`run_scenario`). Places are independent problems,
solved in parallel by a :class:`PlaceExecutor`: in this process (one worker), a local process pool
(``solver.workers``, default = cores) or a Dask distributed cluster (``solver.executor: dask``, optionally at
``solver.scheduler``). All three are ``concurrent.futures`` executors driven by one loop, so they give the same
plans; a :class:`~footprint.problem.PlaceProblem` is pickled to the worker, which needs footprint installed but
no data files. Progress is reported through an optional callback
(``on_event(place_code, event, payload)``) so the CLI can draw a live table while the library prints nothing.
Input errors raise :class:`~footprint.errors.InputDataError` with every problem; a place that cannot be split
within the bounds is reported infeasible with the reason while the others still solve.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from footprint.config import Scenario, load_scenario
from footprint.errors import ConfigError, InputDataError
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
    if scenario.solver.executor == "dask":
        check_dask()
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
    if todo:
        with place_executor(
            scenario.solver.executor, scenario.solver.scheduler, workers=workers, places=len(todo)
        ) as executor:
            solutions.update(solve_places(executor, [report.problems[p] for p in todo], options, on_event))
    timings["solve"] = time.perf_counter() - solve_started
    verify_started = time.perf_counter()
    plan = build_plan(report.dataset, report.graph, report.problems, solutions)
    timings["verify"] = time.perf_counter() - verify_started
    timings["total"] = time.perf_counter() - started
    return replace(plan, timings=timings)


def solve_places(
    executor: PlaceExecutor,
    problems: Sequence[PlaceProblem],
    options: SolveOptions,
    on_event: EventCallback | None = None,
) -> dict[str, PlaceSolution]:
    """Solve ``problems`` on ``executor``, keeping ``executor.slots()`` in flight; solutions by place code.

    The same loop drives every executor, so where a place is solved never changes its plan.
    """
    solutions: dict[str, PlaceSolution] = {}
    pending: dict[Future[PlaceSolution], str] = {}
    queue = list(problems)
    while queue or pending:
        while queue and len(pending) < executor.slots():
            problem = queue.pop(0)
            _emit(on_event, problem.place_code, "started", {})
            pending[executor.submit(_solve_one, problem, options)] = problem.place_code
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: pending[f]):
            place = pending.pop(future)
            solutions[place] = future.result()
            _emit(on_event, place, "finished", _summary(solutions[place]))
    return solutions


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


# ---- executors ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceExecutor:
    """Where places are solved: a ``concurrent.futures`` executor and how many places it takes at once.

    Attributes
    ----------
    executor
        ``submit(fn, *args)`` returns a :class:`concurrent.futures.Future`.
    slots
        Places to keep in flight; called before each submission (a Dask cluster may gain or lose workers).
    where
        A readable description (for logs).
    """

    executor: Executor
    slots: Callable[[], int]
    where: str

    def submit(self, fn: Callable[..., PlaceSolution], *args: Any) -> Future[PlaceSolution]:
        return self.executor.submit(fn, *args)


class InlineExecutor(Executor):
    """Runs each call at once in this process (one worker: no pool, easiest to debug and profile)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


DASK_MISSING = (
    "solver.executor is dask but dask.distributed is not installed; install it with "
    "pip install 'footprint[dask]' (on this machine and on every worker)"
)
#: Seconds to wait for a scheduler to answer, and for a cluster to have at least one worker.
DASK_CONNECT_SECONDS = 30.0


@contextmanager
def place_executor(
    kind: str, scheduler: str | None = None, *, workers: int = 1, places: int | None = None
) -> Iterator[PlaceExecutor]:
    """The executor places are solved on, closed (and any cluster it started shut down) on exit.

    Parameters
    ----------
    kind
        ``local``: in this process when ``workers`` (or ``places``) is 1, else a process pool of ``workers``;
        ``dask``: the Dask cluster at ``scheduler``, or a local Dask cluster of ``workers`` single-threaded
        processes when ``scheduler`` is None.
    scheduler
        Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    workers
        Local processes (ignored when connecting to a scheduler: the cluster's threads decide).
    places
        Places to solve; a local pool never starts more processes than this.

    Raises
    ------
    ConfigError
        When dask is asked for but not installed, or the scheduler cannot be reached or has no workers.
    """
    size = max(1, min(workers, places if places is not None else workers))
    if kind == "dask":
        with _dask_executor(scheduler, workers=size) as executor:
            logger.info("solving places on the %s", executor.where)
            yield executor
    elif size == 1:
        yield PlaceExecutor(InlineExecutor(), lambda: 1, "this process")
    else:
        with ProcessPoolExecutor(max_workers=size) as pool:
            logger.info("solving places on %d local processes", size)
            yield PlaceExecutor(pool, lambda: size, f"{size} local processes")


def check_dask() -> None:
    """Raise :class:`ConfigError` naming the install command when dask.distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(DASK_MISSING) from None


@contextmanager
def _dask_executor(scheduler: str | None, *, workers: int) -> Iterator[PlaceExecutor]:
    check_dask()
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        # silence_logs: workers of a cluster that is shutting down log heartbeat tracebacks; task errors still
        # reach us through the futures.
        cluster = LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
        address = cluster.scheduler_address
    else:
        address = scheduler
    try:
        try:
            client = Client(address, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise ConfigError(
                f"solver.scheduler: cannot reach the Dask scheduler at {address} ({error}); start it with "
                "`dask scheduler` and check the address (tcp://HOST:PORT)"
            ) from None
        try:
            try:
                client.wait_for_workers(1, timeout=DASK_CONNECT_SECONDS)
            except TimeoutError:
                raise ConfigError(
                    f"solver.scheduler: the Dask scheduler at {address} has no workers after "
                    f"{DASK_CONNECT_SECONDS:g} s; start some with `dask worker {address}` (footprint installed)"
                ) from None

            def slots() -> int:
                return max(1, sum(client.nthreads().values()))

            executor = client.get_executor(pure=False)
            try:
                yield PlaceExecutor(executor, slots, f"Dask cluster at {address} ({slots()} threads)")
            finally:
                executor.shutdown(wait=False)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
