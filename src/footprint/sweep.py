"""Run a grid of scenarios (``footprint sweep``) and summarise the trade-offs in one table.

``--set key=v1,v2,v3`` settings with more than one value are the grid's axes (their cartesian product, in the
order given); settings with one value are plain overrides applied to every scenario. Each scenario is written to
its own folder named after its settings (``pop.max=45000__weights.pcn=0``), exactly as ``footprint run`` would
write it, and ``summary.csv`` / ``summary.md`` get one row per scenario: its settings, its status and the headline
figures of :func:`footprint.metrics.summarise_headline`, read back from the written folder (the figures
``footprint compare`` shows).

How the work is shared out:

- the inputs are read and the contiguity graph built once per distinct ``inputs`` (and ``graph``) section, so a
  sweep over bounds or weights reads the files once;
- every (scenario, place) solve of the grid goes into one process pool of ``workers`` processes (default:
  ``solver.workers``, else the machine's cores), so both cores stay busy even when a scenario has one place or
  places of uneven size (``footprint run`` pools the places of one scenario only);
- the parent verifies and writes each scenario as soon as its last place is solved, while the pool goes on.

A scenario whose settings are invalid or whose places cannot all be planned gets a row with its status and reason;
the sweep goes on. The output folder is written atomically, like a run's.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footprint.compare import markdown_table, read_run
from footprint.config import Scenario, load_scenario
from footprint.dataset import Dataset, load_dataset
from footprint.errors import ConfigError, FootprintError, InputDataError, SolverError
from footprint.export import atomic_folder, check_target, write_csv, write_plan
from footprint.graph import ContiguityGraph, build_graph
from footprint.metrics import HEADLINE
from footprint.plan import Plan, build_plan
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.runner import check_solver, default_workers, solve_options, status_quo_of
from footprint.solve import SolveOptions, solve_place
from footprint.statusquo import best_effort_problems, solve_best_effort_place
from footprint.validate import SCREEN_CODES, ValidationReport, validate_scenario

logger = logging.getLogger(__name__)

#: ``on_event(event, payload)``: ``planned`` {scenarios, places}, ``place`` {scenario, place, status},
#: ``scenario`` {scenario, status, message}.
SweepCallback = Callable[[str, dict[str, Any]], None]
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


@dataclass(frozen=True)
class SweepAxis:
    """One swept setting and its values (as written, parsed as YAML when applied)."""

    key: str
    values: tuple[str, ...]


def split_values(text: str) -> list[str]:
    """Split ``a,b,c`` at top-level commas (not inside brackets, braces or quotes)."""
    parts, current, depth, quote = [], [], 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_settings(settings: Sequence[str]) -> tuple[list[SweepAxis], list[str]]:
    """Split ``key=value[,value...]`` settings into grid axes (several values) and plain overrides (one value).

    Raises
    ------
    ConfigError
        For a setting without ``=``, an empty value in a list, or a key given twice.
    """
    axes: list[SweepAxis] = []
    plain: list[str] = []
    seen: set[str] = set()
    for setting in settings:
        key, sep, text = setting.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                f"--set {setting!r}: expected key.path=value[,value...], e.g. pop.max=45000,50000"
            )
        if key in seen:
            raise ConfigError(f"--set {key} is given twice; list every value once: {key}=a,b,c")
        seen.add(key)
        values = split_values(text)
        if len(values) == 1:
            plain.append(f"{key}={text}")
            continue
        if any(not value for value in values):
            raise ConfigError(f"--set {setting!r}: an empty value in the list; remove the extra comma.")
        if len(set(values)) != len(values):
            raise ConfigError(f"--set {setting!r}: a value is listed twice.")
        axes.append(SweepAxis(key, tuple(values)))
    return axes, plain


def scenario_grid(axes: Sequence[SweepAxis]) -> list[dict[str, str]]:
    """Every combination of the axes' values (cartesian product; the last axis varies fastest)."""
    return [
        dict(zip([axis.key for axis in axes], values, strict=True))
        for values in itertools.product(*(axis.values for axis in axes))
    ]


def folder_name(point: dict[str, str]) -> str:
    """A readable, deterministic folder name for a grid point: ``pop.max=45000__weights.pcn=0`` (``base``
    when nothing is swept); characters other than letters, digits and ``._+=-`` become ``-``."""
    if not point:
        return "base"
    return "__".join(f"{key}={_UNSAFE.sub('-', value).strip('-') or 'x'}" for key, value in point.items())


@dataclass
class ScenarioOutcome:
    """What happened to one scenario of the grid."""

    name: str
    settings: dict[str, str]
    status: str = "pending"
    message: str = ""
    headline: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Sweep:
    """A finished sweep: where it was written, its axes and one outcome per scenario.

    ``summary`` has one row per scenario: scenario (folder name), one column per swept setting, status
    (``ok``, ``incomplete`` when a place has no verified plan, ``config error``, ``input error``, ``solver error``
    when the solver it asks for cannot run here), message, then the headline figures
    (:data:`footprint.metrics.HEADLINE`, less their own status).
    """

    out_dir: Path
    config: Path
    axes: list[SweepAxis]
    overrides: list[str]
    scenarios: list[ScenarioOutcome]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.scenarios)

    @property
    def summary(self) -> pd.DataFrame:
        figures = [name for name in HEADLINE if name != "status"]
        rows = []
        for outcome in self.scenarios:
            row: dict[str, object] = {"scenario": outcome.name, **outcome.settings}
            row.update(status=outcome.status, message=outcome.message)
            row.update({name: outcome.headline.get(name) for name in figures})
            rows.append(row)
        columns = ["scenario", *(axis.key for axis in self.axes), "status", "message", *figures]
        frame = pd.DataFrame(rows, columns=columns)
        for name in figures:  # counts stay integers next to scenarios that have none
            known = [row[name] for row in rows if row[name] is not None]
            if known and all(isinstance(v, int) for v in known):
                frame[name] = frame[name].astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        summary = self.summary.astype(object).where(self.summary.notna(), None)
        return {
            "out": str(self.out_dir),
            "config": str(self.config),
            "ok": self.ok,
            "axes": {axis.key: list(axis.values) for axis in self.axes},
            "overrides": self.overrides,
            "scenarios": [
                {
                    key: (value.item() if isinstance(value, np.generic) else value)
                    for key, value in row.items()
                }
                for row in summary.to_dict(orient="records")
            ],
        }


class _InputCache:
    """Datasets and graphs already loaded, keyed by the settings they depend on."""

    def __init__(self) -> None:
        self.datasets: dict[str, Dataset] = {}
        self.graphs: dict[str, ContiguityGraph] = {}

    def load(self, scenario: Scenario) -> tuple[Dataset, ContiguityGraph]:
        config = scenario.to_dict()
        # the dataset also records the barrier files' hashes; the graph depends on every graph setting
        data_key = json.dumps([config["inputs"], config["graph"]["barriers"]], sort_keys=True)
        graph_key = json.dumps([config["inputs"], config["graph"]], sort_keys=True)
        if data_key not in self.datasets:
            self.datasets[data_key] = load_dataset(scenario)
        dataset = self.datasets[data_key]
        if graph_key not in self.graphs:
            self.graphs[graph_key] = build_graph(dataset.units, scenario.graph)
        return dataset, self.graphs[graph_key]


@dataclass
class _ScenarioRun:
    """One scenario of the grid between validation and writing: its problems and the solutions so far."""

    report: ValidationReport
    options: SolveOptions
    todo: list[str]
    solutions: dict[str, PlaceSolution]
    started: float

    @classmethod
    def prepare(cls, report: ValidationReport) -> _ScenarioRun:
        """Stop on input errors and on a solver this machine lacks (:func:`footprint.runner.check_solver`); places
        the screen found infeasible get their reason as their solution."""
        started = time.perf_counter()
        report.raise_blocking()
        options = solve_options(report.scenario)
        check_solver(options)  # a solver this machine lacks refuses the scenario before any place is solved
        infeasible = report.infeasible
        solutions = {
            place: PlaceSolution(
                place_code=place, status="infeasible", assignment=np.zeros(0, dtype=np.int64), message=reason
            )
            for place, reason in sorted(infeasible.items())
        }
        todo = [place for place in sorted(report.problems) if place not in infeasible]
        return cls(report, options, todo, solutions, started)

    def plan(self) -> Plan:
        """Label and verify the solutions (:func:`footprint.plan.build_plan`)."""
        report = self.report
        verify_started = time.perf_counter()
        plan = build_plan(report.dataset, report.graph, report.problems, self.solutions)
        scenario = report.scenario
        best_problems = best_effort_problems({place: report.problems[place] for place in self.todo})
        best_solutions = (
            {
                place: solve_best_effort_place(problem, scenario.solver.seed)
                for place, problem in best_problems.items()
            }
            if scenario.alignment.best_effort and best_problems
            else None
        )
        plan = replace(plan, status_quo=status_quo_of(report, best_problems, best_solutions))
        now = time.perf_counter()
        solving = sum(sum(solution.seconds.values()) for solution in self.solutions.values())
        timings = {"solve": solving, "verify": now - verify_started, "total": now - self.started}
        return replace(plan, timings=timings)


def _solve_grid(
    jobs: Sequence[tuple[Hashable, PlaceProblem, SolveOptions]], *, workers: int
) -> Iterator[tuple[Hashable, PlaceSolution]]:
    """Solve every job, ``workers`` at a time in one process pool (in this process when 1); yield as each ends."""
    if workers <= 1 or len(jobs) <= 1:
        for key, problem, options in jobs:
            yield key, _solve_or_report(problem, options)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        queue = list(jobs)
        pending: dict[Any, Hashable] = {}
        order = {key: k for k, (key, _, _) in enumerate(jobs)}
        while queue or pending:
            while queue and len(pending) < workers:
                key, problem, options = queue.pop(0)
                pending[pool.submit(_solve_or_report, problem, options)] = key
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: order[pending[f]]):
                yield pending.pop(future), future.result()


def _solve_or_report(problem: PlaceProblem, options: SolveOptions) -> PlaceSolution:
    """Solve a place; a solver failure becomes status ``error`` so the rest of the grid goes on."""
    try:
        return solve_place(problem, options)
    except FootprintError as error:
        return PlaceSolution(
            place_code=problem.place_code,
            status="error",
            assignment=np.zeros(0, dtype=np.int64),
            message=str(error),
        )


def run_sweep(
    config: str | Path,
    settings: Sequence[str],
    *,
    out_dir: str | Path,
    places: Sequence[str] | None = None,
    workers: int | None = None,
    on_event: SweepCallback | None = None,
) -> Sweep:
    """Run every scenario of the grid that ``settings`` describe and write them with a summary into ``out_dir``.

    Parameters
    ----------
    config
        The base scenario file.
    settings
        ``key=value`` or ``key=v1,v2,...`` strings (``--set``); see :func:`parse_settings`.
    out_dir
        Folder to write (replaced atomically): one sub-folder per scenario, ``summary.csv``, ``summary.md``.
    places
        Place codes to plan (default: all).
    workers
        Processes solving places at once across the whole grid (default: ``solver.workers`` of the base
        scenario, else the machine's cores).
    on_event
        Progress callback, see :data:`SweepCallback`.

    Raises
    ------
    ConfigError, InputDataError
        When the base scenario (every plain override, no swept value) cannot be loaded or its inputs have errors:
        these would fail every scenario, so nothing is written.
    """
    started = time.perf_counter()
    config, out_dir = Path(config), Path(out_dir)
    # before solving, not after
    check_target(out_dir, kind="sweep", option="--out", reading=[config], read_as="the scenario file")
    axes, plain = parse_settings(settings)
    grid = scenario_grid(axes)
    names = [folder_name(point) for point in grid]
    if len(set(names)) != len(names):
        raise ConfigError("two swept values give the same folder name; write the values differently.")
    cache = _InputCache()
    wanted = list(places) if places else None

    # the base scenario must load: a problem that does not depend on the swept values stops the sweep
    base = load_scenario(config, overrides=plain)
    dataset, graph = cache.load(base)
    blocking = [
        f
        for f in validate_scenario(base, places=wanted, dataset=dataset, graph=graph).errors
        if f.code not in SCREEN_CODES  # depends on the swept settings: judged per scenario
    ]
    if blocking:
        raise InputDataError("\n".join(f.line() for f in blocking))

    outcomes = [ScenarioOutcome(name, point) for name, point in zip(names, grid, strict=True)]
    prepared: dict[int, _ScenarioRun] = {}
    for index, (outcome, point) in enumerate(zip(outcomes, grid, strict=True)):
        overrides = plain + [f"{key}={value}" for key, value in point.items()]
        try:
            scenario = load_scenario(config, overrides=overrides)
            dataset, graph = cache.load(scenario)
            report = validate_scenario(scenario, places=wanted, dataset=dataset, graph=graph)
            prepared[index] = _ScenarioRun.prepare(report)
        except ConfigError as error:
            outcome.status, outcome.message = "config error", _one_line(error)
        except InputDataError as error:
            outcome.status, outcome.message = "input error", _one_line(error)
        except SolverError as error:
            outcome.status, outcome.message = "solver error", _one_line(error)
    jobs = [
        ((index, place), run.report.problems[place], run.options)
        for index, run in prepared.items()
        for place in run.todo
    ]
    _emit(on_event, "planned", {"scenarios": [o.name for o in outcomes], "places": len(jobs)})
    for outcome in outcomes:
        if outcome.status != "pending":
            _emit(
                on_event,
                "scenario",
                {"scenario": outcome.name, "status": outcome.status, "message": outcome.message},
            )

    with atomic_folder(out_dir) as staging:
        remaining = {index: len(run.todo) for index, run in prepared.items()}
        for index in sorted(i for i, left in remaining.items() if left == 0):
            _finish(outcomes[index], prepared.pop(index), staging, out_dir, on_event)
        for (index, place), solution in _solve_grid(
            jobs, workers=workers or base.solver.workers or default_workers()
        ):
            run = prepared[index]
            run.solutions[place] = solution
            remaining[index] -= 1
            _emit(
                on_event,
                "place",
                {"scenario": outcomes[index].name, "place": place, "status": solution.status},
            )
            if remaining[index] == 0:
                _finish(outcomes[index], prepared.pop(index), staging, out_dir, on_event)
        sweep = Sweep(
            out_dir=out_dir,
            config=config,
            axes=axes,
            overrides=plain,
            scenarios=outcomes,
            seconds=time.perf_counter() - started,
        )
        write_csv(sweep.summary, staging / "summary.csv")
        (staging / "summary.md").write_text(_summary_markdown(sweep), encoding="utf-8")
    return sweep


def _finish(
    outcome: ScenarioOutcome,
    run: _ScenarioRun,
    staging: Path,
    out_dir: Path,
    on_event: SweepCallback | None,
) -> None:
    """Verify and write one scenario, then read its headline figures back from the written folder.

    Written into ``staging``, its run.json's paths are relative to where it ends up, in ``out_dir``.
    """
    plan = run.plan()
    write_plan(plan, staging / outcome.name, record_dir=Path(out_dir) / outcome.name)
    outcome.headline = read_run(staging / outcome.name).headline()
    if plan.ok:
        outcome.status = "ok"
    else:
        outcome.status = "incomplete"
        outcome.message = "; ".join(
            f"{place}: {plan.statuses[place]}: {_one_line(plan.messages.get(place, ''))}"
            for place in plan.failed_places
        )
    _emit(
        on_event, "scenario", {"scenario": outcome.name, "status": outcome.status, "message": outcome.message}
    )


def _one_line(error: object) -> str:
    return " / ".join(line.strip() for line in str(error).splitlines() if line.strip())


def _emit(on_event: SweepCallback | None, event: str, payload: dict[str, Any]) -> None:
    if on_event is not None:
        on_event(event, payload)


def _summary_markdown(sweep: Sweep) -> str:
    axes = "\n".join(f"- `{axis.key}`: {', '.join(axis.values)}" for axis in sweep.axes) or "- (none)"
    overrides = ", ".join(f"`{o}`" for o in sweep.overrides) or "none"
    shown = [
        "scenario",
        *(axis.key for axis in sweep.axes),
        "status",
        "neighbourhoods",
        "population_min",
        "population_max",
        "mean_distance_km",
        "share_within_km",
        "coterminosity_median",
        "coterminosity_weighted",
        "pcns_coterminous",
        "pcns_realign",
        "pcns_work_across",
        "practices_to_realign",
        "lsoas_moved",
        "residents_moved",
        "objective",
        "gap",
    ]
    summary = sweep.summary
    failed = summary[summary["status"] != "ok"]
    lines = [
        f"# Sweep of {sweep.config.name}: {len(summary)} scenarios",
        "",
        "Swept settings:",
        "",
        axes,
        "",
        f"Applied to every scenario: {overrides}.",
        "",
        "Access: mean distance to the hub (lower is better) and share of residents within reach; PCN alignment: "
        "coterminosity (higher is better), PCNs split; change: LSOAs and residents moved against the baseline. "
        "Every figure is defined in docs/metrics.md; `summary.csv` has them all.",
        "",
        markdown_table(summary[shown]),
        "",
    ]
    if len(failed):
        lines += ["## Scenarios without a complete plan", ""]
        lines += [f"- `{row.scenario}`: {row.status}: {row.message}" for row in failed.itertuples()]
        lines.append("")
    return "\n".join(lines)
