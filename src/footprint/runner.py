"""Run a scenario: validate, solve every place (in parallel), verify, and hand back a :class:`~footprint.plan.Plan`.

This is the library entry point behind ``footprint run`` (:func:`run_scenario`). Places are independent problems,
solved in parallel by a :class:`PlaceExecutor`: a pool of local worker processes (``solver.workers``,
default = cores; a pool even for one worker, so that Ctrl-C and SIGTERM stop a run at once and a crashing solver
cannot take the run down with it) or a Dask distributed cluster (``solver.executor: dask``, optionally at
``solver.scheduler``). Both are ``concurrent.futures`` executors driven by one loop (:func:`solve_places`), so they
give the same plans; a :class:`~footprint.problem.PlaceProblem` is pickled to the worker, which needs footprint
installed but no data files. Progress is reported through an optional callback
(``on_event(place_code, event, payload)``) so the CLI can draw a live table while the library prints nothing.
Input errors raise :class:`~footprint.errors.InputDataError` with every problem; a place that cannot be split
within the bounds is reported infeasible with the reason while the others still solve.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from footprint.config import Scenario, load_scenario, with_overrides
from footprint.errors import ConfigError, SolverError
from footprint.plan import Plan, build_plan
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.solve import SolveOptions, solve_place, solver_available
from footprint.statusquo import StatusQuo, best_effort_problems, build_status_quo, solve_best_effort_place
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
        heuristic_runs=solver.heuristic_runs,
        contiguity=solver.contiguity,
        counted=solver.counted,
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
    # column generation runs on HiGHS alone: counted work needs it (auto included), and so does method columns
    needs_highs = (
        ("counted work (solver.counted)", "--method heuristic")
        if options.counted
        else ("--method columns", "--method exact --solver cbc")
        if options.method == "columns"
        else None
    )
    if needs_highs is not None and not solver_available("highs"):
        what, instead = needs_highs
        raise SolverError(
            f"{what} needs HiGHS for column generation (highspy cannot be imported); pip install highspy, or use "
            f"{instead}."
        )
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
        ``key.path=value`` settings applied to the scenario (a file or a loaded one), as ``--set`` does.
    workers
        Places solved in parallel (default ``solver.workers`` or the number of cores).
    on_event
        Called as ``on_event(place, event, payload)`` with events ``queued``, ``started``, ``finished``.
    report
        A validation report already computed for this scenario (skips re-reading the inputs).

    Raises
    ------
    InputDataError, ConfigError
        When the inputs or the settings have errors, or no place can be planned
        (:meth:`~footprint.validate.ValidationReport.raise_blocking`); a place that cannot be split while others
        can is planned as infeasible.
    """
    started = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides=list(overrides))
    else:
        scenario = with_overrides(scenario, tuple(overrides))
    if scenario.solver.executor == "dask":
        check_dask(scenario.solver.scheduler)
    if report is None:
        report = validate_scenario(scenario, places=list(places) if places else None)
    report.raise_blocking()
    timings = {"validate": time.perf_counter() - started}

    infeasible = report.infeasible
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
    best_problems = best_effort_problems({place: report.problems[place] for place in todo})
    best_wanted = scenario.alignment.best_effort and bool(best_problems)
    best_solutions: dict[str, PlaceSolution] | None = None
    if todo:
        remaining = todo
        while remaining:  # a broken pool settles the places in flight; those never started go to a fresh pool
            crashed: set[str] = set()
            with place_executor(
                scenario.solver.executor, scenario.solver.scheduler, workers=workers, places=len(remaining)
            ) as executor:
                solutions.update(
                    solve_places(
                        executor, [report.problems[p] for p in remaining], options, on_event, crashed
                    )
                )
                if best_wanted and not crashed and best_solutions is None:  # on the warm pool
                    best_started = time.perf_counter()
                    best_solutions = solve_best_effort(executor, best_problems, scenario.solver.seed)
                    timings["best_effort"] = time.perf_counter() - best_started
            if len(crashed) > 1:
                # one dead process took the whole local pool down with several places in flight: solve each of
                # them on its own, so only the place whose own process dies again is lost
                for place in sorted(crashed):
                    with place_executor("local", workers=1, places=1) as alone:
                        solutions.update(solve_places(alone, [report.problems[place]], options, on_event))
            # places still queued when the pool broke were never started: a fresh pool of full size takes them
            left = [place for place in remaining if place not in solutions]
            if len(left) == len(remaining):  # the pool broke before any place started: do not retry forever
                for place in left:
                    solutions[place] = _crashed(report.problems[place], options)
                    _emit(on_event, place, "finished", _summary(solutions[place]))
                left = []
            remaining = left
    if best_wanted and best_solutions is None:  # the pool broke: on a fresh one
        best_started = time.perf_counter()
        with place_executor(
            scenario.solver.executor, scenario.solver.scheduler, workers=workers, places=len(best_problems)
        ) as executor:
            best_solutions = solve_best_effort(executor, best_problems, scenario.solver.seed)
        timings["best_effort"] = time.perf_counter() - best_started
    timings["solve"] = time.perf_counter() - solve_started - timings.get("best_effort", 0.0)
    verify_started = time.perf_counter()
    plan = build_plan(report.dataset, report.graph, report.problems, solutions)
    timings["verify"] = time.perf_counter() - verify_started
    status_started = time.perf_counter()
    status_quo = status_quo_of(report, best_problems, best_solutions)
    timings["status_quo"] = time.perf_counter() - status_started
    timings["total"] = time.perf_counter() - started
    return replace(plan, timings=timings, status_quo=status_quo)


def status_quo_of(
    report: ValidationReport,
    best_problems: dict[str, PlaceProblem],
    best_solutions: dict[str, PlaceSolution] | None,
) -> StatusQuo | None:
    """Today's map of every place asked for (infeasible ones too: what a planner compares with), with the "at
    best" plan of ``best_solutions`` when they were solved. Runs and sweeps build it here, so a sweep's scenario
    folder is the run's."""
    best = (
        build_plan(report.dataset, report.graph, best_problems, best_solutions)
        if best_solutions is not None
        else None
    )
    return build_status_quo(report.dataset, report.graph, report.problems, best=best)


def solve_best_effort(
    executor: PlaceExecutor, problems: dict[str, PlaceProblem], seed: int
) -> dict[str, PlaceSolution]:
    """The "at best" plan per place (:func:`footprint.statusquo.solve_best_effort_place`: the most PCN-aligned
    valid plan the heuristic finds), solved in parallel on ``executor``. A place whose search fails has no "at
    best" figure (status ``error``); the run itself is never affected."""
    futures = {
        place: executor.submit(solve_best_effort_place, problems[place], seed) for place in sorted(problems)
    }
    solutions: dict[str, PlaceSolution] = {}
    for place, future in futures.items():
        try:
            solutions[place] = future.result()
        except Exception as error:
            logger.warning("place %s: no 'at best' plan (%s)", place, error)
            solutions[place] = PlaceSolution(
                place_code=place, status="error", assignment=np.zeros(0, dtype=np.int64), message=str(error)
            )
    return solutions


def solve_places(
    executor: PlaceExecutor,
    problems: Sequence[PlaceProblem],
    options: SolveOptions,
    on_event: EventCallback | None = None,
    crashed: set[str] | None = None,
) -> dict[str, PlaceSolution]:
    """Solve ``problems`` on ``executor``, keeping ``executor.slots()`` in flight; solutions by place code.

    The same loop drives every executor, so where a place is solved never changes its plan. The wait has a
    timeout so that the main thread runs Python code often enough to see Ctrl-C or SIGTERM (a signal can land on
    the executor's thread, which does not wake the main thread's wait); on either, the workers are stopped at once
    rather than after their solves. A worker process that dies (a solver crash, out of memory) breaks a local
    pool: the places in flight become errors with a clear message (their codes are added to ``crashed`` when
    given, one of them being the culprit); the finished ones keep their plans. Places still queued are errors
    too when ``crashed`` is None; when it is given they are left out of the result, for the caller to solve
    again (they cannot have caused the crash).
    """
    by_code = {problem.place_code: problem for problem in problems}
    solutions: dict[str, PlaceSolution] = {}
    pending: dict[Future[PlaceSolution], str] = {}
    queue = list(problems)
    try:
        while queue or pending:
            while queue and len(pending) < executor.slots():
                problem = queue.pop(0)
                pending[executor.submit(_solve_one, problem, options)] = problem.place_code
                _emit(on_event, problem.place_code, "started", {})
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                place = pending[future]
                solutions[place] = _result(future, by_code[place], options)
                del pending[future]  # only now: a broken pool must still find this place pending
                _emit(on_event, place, "finished", _summary(solutions[place]))
    except BrokenProcessPool:
        for future, place in sorted(pending.items(), key=lambda item: item[1]):
            # a place that finished in the same wait as the crash keeps its plan
            if (
                future.done()
                and not future.cancelled()
                and not isinstance(future.exception(), BrokenProcessPool)
            ):
                solutions[place] = _result(future, by_code[place], options)
                _emit(on_event, place, "finished", _summary(solutions[place]))
        # one of the others took the pool down; none of them can still be solved
        in_flight = sorted(place for place in pending.values() if place not in solutions)
        lost = in_flight if crashed is not None else [*in_flight, *(p.place_code for p in queue)]
        for place in lost:
            solutions[place] = _crashed(by_code[place], options, alone=in_flight == [place])
            _emit(on_event, place, "finished", _summary(solutions[place]))
        if crashed is not None:
            crashed.update(in_flight)
    except BaseException:  # Ctrl-C, SIGTERM: stop the workers now rather than after their solves
        executor.stop()
        raise
    return solutions


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
    except Exception as error:  # a bug in one place's solve: that place fails, the others are still written
        logger.debug("place %s: the solve's traceback", problem.place_code, exc_info=error)
        return _failed(
            problem,
            options,
            f"Place {problem.place_code}: the solve failed with an internal error ({type(error).__name__}: {error}); "
            "please report it with the log of --debug",
        )


def _crashed(problem: PlaceProblem, options: SolveOptions, *, alone: bool = False) -> PlaceSolution:
    """A place whose worker process died (a solver crash, or the process killed, e.g. out of memory); ``alone``
    when it was the only place in flight, so its own solve is the one that died."""
    other = "cbc" if options.solver != "cbc" else "highs"
    where = "" if alone else " while this or another place was being solved"
    find = "" if alone else ", or with --workers 1 to find the place"
    return _failed(
        problem,
        options,
        f"Place {problem.place_code} ({problem.place_name}): the solving process stopped abruptly (the solver "
        f"crashed or the process was killed, e.g. out of memory){where}; re-run with --solver {other}{find}, "
        "or --method heuristic.",
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
    stop_hook: Callable[[], None] | None = field(default=None, compare=False)

    def submit(self, fn: Callable[..., PlaceSolution], *args: Any) -> Future[PlaceSolution]:
        return self.executor.submit(fn, *args)

    def stop(self) -> None:
        """Stop the work in flight now (interrupt): terminate local workers, cancel what is queued."""
        if self.stop_hook is not None:
            self.stop_hook()
        else:
            self.executor.shutdown(wait=False, cancel_futures=True)


DASK_MISSING = (
    "solver.executor is dask but dask.distributed is not installed; install it with "
    "pip install 'footprint[dask]' (on this machine and on every worker)"
)
#: Seconds to wait for a scheduler to answer, and for a cluster to have at least one worker.
DASK_CONNECT_SECONDS = 30.0
#: Seconds the early probe of a scheduler's address waits for one TCP connection, and between two tries; it
#: tries for up to ``DASK_CONNECT_SECONDS`` (:func:`check_dask`).
DASK_PROBE_SECONDS = 5.0
DASK_PROBE_RETRY = 0.5


@contextmanager
def place_executor(
    kind: str, scheduler: str | None = None, *, workers: int = 1, places: int | None = None
) -> Iterator[PlaceExecutor]:
    """The executor places are solved on, closed (and any cluster it started shut down) on exit.

    Parameters
    ----------
    kind
        ``local``: a process pool of ``workers`` (one process at least: see the module docstring);
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
    else:
        with ProcessPoolExecutor(max_workers=size, initializer=_leave_interrupts_to_parent) as pool:
            logger.info("solving places on %d local processes", size)
            yield PlaceExecutor(
                pool, lambda: size, f"{size} local processes", stop_hook=lambda: _stop_workers(pool)
            )


def check_dask(scheduler: str | None = None) -> None:
    """Raise :class:`ConfigError` naming the install command when dask.distributed is missing, or saying so when
    nothing listens at a ``tcp://HOST:PORT`` ``scheduler``: a quick probe, so that a mistyped address fails before
    minutes of reading inputs rather than after them (the connection proper happens when places are solved)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(DASK_MISSING) from None
    if scheduler is None or not scheduler.startswith("tcp://"):
        return
    host, _, port = scheduler.removeprefix("tcp://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"solver.scheduler: {scheduler} has no valid host and port; write it as tcp://HOST:PORT "
            "(e.g. tcp://10.0.0.5:8786)"
        )
    give_up = time.monotonic() + DASK_CONNECT_SECONDS
    while True:  # a scheduler started a moment ago may not listen yet: retry a refused connection for a while
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=DASK_PROBE_SECONDS):
                return
        except OSError as error:
            if isinstance(error, socket.gaierror) or time.monotonic() + DASK_PROBE_RETRY >= give_up:
                raise _unreachable(scheduler, error) from None
            time.sleep(DASK_PROBE_RETRY)


def _unreachable(address: str, error: Exception) -> ConfigError:
    return ConfigError(
        f"solver.scheduler: cannot reach the Dask scheduler at {address} ({error}); start it with "
        "`dask scheduler` and check the address (tcp://HOST:PORT)"
    )


@contextmanager
def _quiet_dask_logs() -> Iterator[None]:
    """Raise distributed's loggers to WARNING at least while places are solved, then put their levels back.

    distributed sets its loggers to INFO when imported, and their records reach the CLI's handler: a local
    cluster's start and stop (and a harmless closed-connection traceback at shutdown) printed ~30 lines even with
    --quiet. Its warnings and errors still show; levels already higher (its own tornado, bokeh) are kept.
    """
    import distributed  # noqa: F401  (sets its levels, which must come first)

    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "bokeh")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def _dask_executor(scheduler: str | None, *, workers: int) -> Iterator[PlaceExecutor]:
    check_dask()
    with _quiet_dask_logs(), _dask_cluster(scheduler, workers=workers) as executor:
        yield executor


@contextmanager
def _dask_cluster(scheduler: str | None, *, workers: int) -> Iterator[PlaceExecutor]:
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
            raise _unreachable(address, error) from None
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
