"""Validate a scenario end to end: load everything, build the graph and problems, screen every place.

:func:`validate_scenario` collects every problem in one pass (reader and join findings, graph findings, the
per-place feasibility screen of :func:`footprint.solve.check_feasibility`) and a per-place summary table, and
returns a :class:`ValidationReport`; it raises only when a file cannot be read at all.

One rule decides what a scenario's findings mean, for ``validate`` and ``run`` (and each scenario of a sweep)
alike (:attr:`ValidationReport.exit_code`): errors of the inputs or the settings stop everything (exit 2, nothing
written); a place the screen finds cannot be split is reported infeasible while the others are planned (exit 1);
but when no place can be planned the scenario stops like a configuration error (exit 2, nothing written), since
a run would only write an empty plan.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from footprint import columns as C
from footprint.config import Scenario
from footprint.dataset import Dataset, load_dataset
from footprint.errors import ConfigError, InputDataError
from footprint.findings import Finding
from footprint.graph import ContiguityGraph, build_graph
from footprint.instance import build_place_problem, k_range, pcn_count_note, pcn_home_places
from footprint.problem import PlaceProblem

logger = logging.getLogger(__name__)

#: A place the feasibility screen finds cannot be split (reported infeasible; the other places are planned).
PLACE_INFEASIBLE = "place.infeasible"
#: No place of the scenario can be planned: the scenario cannot run.
NO_PLACE = "places.none_plannable"
#: Findings of the feasibility screen, which depend on the settings swept by ``footprint sweep``.
SCREEN_CODES = (PLACE_INFEASIBLE, NO_PLACE)


@dataclass
class PlaceSummary:
    """One row of the validation table."""

    place_code: str
    place_name: str
    boroughs: int
    lsoas: int
    residents: int
    registered: int
    practices: int
    pcns: int
    hubs: int | None
    k_min: int
    k_max: int
    ok: bool
    #: why ``pcns`` (PCNs with practices sited here) differs from the PCNs homed here that reports count; "" if not
    pcns_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ValidationReport:
    """Everything ``footprint validate`` shows."""

    scenario: Scenario
    dataset: Dataset
    graph: ContiguityGraph
    problems: dict[str, PlaceProblem]
    places: list[PlaceSummary]
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def blocking(self) -> list[Finding]:
        """Errors that stop a run. Errors of the inputs or settings, when there are any (the screen's findings are
        then mostly their consequences); else, when no place can be planned, the screen's reasons and that
        finding. A place that cannot be split while others can is not blocking: it is planned as infeasible."""
        others = [f for f in self.errors if f.code not in SCREEN_CODES]
        if others or not any(f.code == NO_PLACE for f in self.errors):
            return others
        return self.errors

    @property
    def infeasible(self) -> dict[str, str]:
        """Place -> why the screen finds it cannot be split (planned as infeasible, not solved)."""
        return {f.items[0]: f.message for f in self.errors if f.code == PLACE_INFEASIBLE}

    @property
    def exit_code(self) -> int:
        """What the findings mean, for ``validate`` and ``run`` alike: 2 when the scenario cannot run
        (:attr:`blocking`), 1 when some place cannot be planned (the others are), 0 otherwise."""
        if self.blocking:
            return 2
        return 1 if self.infeasible else 0

    def raise_blocking(self) -> None:
        """Stop a run on :attr:`blocking` errors, one line each: :class:`ConfigError` when they are all about the
        settings (contradictory settings, no place can be planned), else :class:`InputDataError`."""
        blocking = self.blocking
        if not blocking:
            return
        message = "\n".join(f.line() for f in blocking)
        if all(f.code in SCREEN_CODES or f.code.startswith("settings.") for f in blocking):
            raise ConfigError(message)
        raise InputDataError(message)

    def totals(self) -> dict[str, int]:
        units = self.dataset.units
        return {
            "lsoas": len(units),
            "residents": int(units[C.POPULATION].sum()),
            "registered": int(units["registered"].sum()),
            "boroughs": int(units[C.LAD_CODE].nunique()),
            "places": len(self.places),
            "practices": len(self.dataset.practices),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": str(self.scenario.source) if self.scenario.source else self.scenario.name,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "totals": self.totals(),
            "places": [place.to_dict() for place in self.places],
            "findings": [finding.to_dict() for finding in self.findings],
        }


def validate_scenario(
    scenario: Scenario,
    *,
    places: list[str] | None = None,
    dataset: Dataset | None = None,
    graph: ContiguityGraph | None = None,
) -> ValidationReport:
    """Load and check a scenario; never raises for data problems that can be reported (see module doc).

    ``dataset`` and ``graph``, when given, were loaded for a scenario with the same ``inputs`` (and, for the
    graph, the same ``graph`` settings): they are reused instead of re-reading the files (``footprint sweep``).
    """
    from dataclasses import replace

    from footprint.solve import check_feasibility

    dataset = load_dataset(scenario) if dataset is None else replace(dataset, scenario=scenario)
    graph = build_graph(dataset.units, scenario.graph) if graph is None else graph
    findings = list(dataset.findings) + list(graph.findings)
    wanted = places if places else dataset.place_codes
    unknown = sorted(set(wanted) - set(dataset.place_codes))
    if unknown:
        findings.append(
            Finding(
                "error",
                "places.unknown",
                f"--place names places that are not in the scenario; places are {', '.join(dataset.place_codes)}",
                "",
                tuple(unknown),
            )
        )
    homes = pcn_home_places(dataset)
    problems: dict[str, PlaceProblem] = {}
    summaries: list[PlaceSummary] = []
    units = dataset.units
    practices = dataset.practices
    for place in [p for p in wanted if p in dataset.place_codes]:
        problem = build_place_problem(dataset, graph, place, pcn_homes=homes)
        problems[place] = problem
        conflicts = place_conflicts(problem, scenario)
        reasons = [] if conflicts else check_feasibility(problem)
        for reason in reasons:
            findings.append(Finding("error", PLACE_INFEASIBLE, reason, "", (place,)))
        reasons += [conflict.detail for conflict in conflicts]
        in_place = units[C.PLACE_CODE] == place
        sited = practices[practices[C.PLACE_CODE] == place] if len(practices) else practices
        hubs = dataset.hubs
        summaries.append(
            PlaceSummary(
                place_code=place,
                place_name=problem.place_name,
                boroughs=int(units.loc[in_place, C.LAD_CODE].nunique()),
                lsoas=problem.n_units,
                residents=int(units.loc[in_place, C.POPULATION].sum()),
                registered=int(np.round(units.loc[in_place, "registered"].sum())),
                practices=len(sited),
                pcns=int(sited[C.PCN_CODE].nunique()) if len(sited) else 0,
                hubs=None if hubs is None else int((hubs[C.PLACE_CODE] == place).sum()),
                k_min=problem.k_min,
                k_max=problem.k_max,
                ok=not reasons,
                pcns_note=pcn_count_note(dataset, place, homes),
            )
        )
    findings += check_settings(problems, scenario)
    findings += check_some_place_plannable(problems, findings, scenario)
    return ValidationReport(
        scenario=scenario,
        dataset=dataset,
        graph=graph,
        problems=problems,
        places=summaries,
        findings=findings,
    )


@dataclass(frozen=True)
class Conflict:
    """One way the settings contradict each other for one place (see :func:`check_settings`)."""

    kind: str  # "k", "lock" or "required"
    place_code: str
    detail: str
    items: tuple[str, ...] = ()
    low: float = 0.0  # k: the fewest neighbourhoods the place allows; lock: the distance to the hub
    high: float = 0.0  # k: the most neighbourhoods the place allows


def place_conflicts(problem: PlaceProblem, scenario: Scenario) -> list[Conflict]:
    """Settings that contradict each other in this place (the per-place part of :func:`check_settings`)."""
    found: list[Conflict] = []
    place = problem.place_code
    low, high = k_range(problem.total_population, problem.pop_min, problem.pop_max, problem.n_units)
    if problem.centre_kind == "hub":
        high = min(high, problem.n_centres)
    name = f"{place} {problem.place_name}"
    if low <= high and problem.k_min > problem.k_max:
        found.append(Conflict("k", place, f"{name} allows {low}-{high}", (place,), low=low, high=high))
    radius = problem.max_distance_km
    if radius is not None:
        for unit, centre in problem.locks:
            distance = float(problem.distance_km[unit, centre])
            if distance > radius:
                code, hub = problem.unit_codes[unit], problem.centre_ids[centre]
                found.append(
                    Conflict("lock", place, f"{code} -> {hub} {distance:.1f} km", (code,), low=distance)
                )
    required = int(problem.centre_required.sum())
    if low <= high and required > problem.k_max:
        hubs = tuple(problem.centre_ids[c] for c in np.flatnonzero(problem.centre_required))
        found.append(
            Conflict(
                "required",
                place,
                f"{name} has {required} required hubs but at most {problem.k_max} fit",
                hubs,
            )
        )
    return found


def check_settings(problems: dict[str, PlaceProblem], scenario: Scenario) -> list[Finding]:
    """Settings that contradict each other: errors of the configuration, one finding per setting.

    ``k.min``/``k.max`` outside the counts the population bounds (and hubs) allow in some place, LSOAs locked to
    a hub beyond ``access.max_distance_km``, and more ``required`` hubs than neighbourhoods can fit. Each finding
    names the file holding the setting, the places or codes with their numbers, and the fix. The data-driven
    reasons a place cannot be split (too small, an LSOA above ``pop.max``, ...) stay with
    :func:`footprint.solve.check_feasibility`.
    """
    conflicts = [c for place in sorted(problems) for c in place_conflicts(problems[place], scenario)]
    source = str(scenario.source) if scenario.source else "scenario"
    inputs = scenario.inputs
    bounds = f"pop {scenario.pop.min:,}-{scenario.pop.max:,}"
    found: list[Finding] = []
    k_conflicts = [c for c in conflicts if c.kind == "k"]
    if k_conflicts:
        settings = (("k.min", scenario.k.min), ("k.max", scenario.k.max))
        given = [f"{key} {value}" for key, value in settings if value is not None]
        low = max(int(c.low) for c in k_conflicts)
        high = min(int(c.high) for c in k_conflicts)
        fix = f"set k within {low}-{high}" if low <= high else "set k to suit every place"
        found.append(
            Finding(
                "error",
                "settings.conflict",
                f"{' and '.join(given)} {'leaves' if len(given) == 1 else 'leave'} no neighbourhood count for "
                f"{_places(k_conflicts)} with {bounds} (and the hubs given): "
                f"{'; '.join(c.detail for c in k_conflicts[:5])}; {fix} or remove k",
                source,
                tuple(c.place_code for c in k_conflicts),
            )
        )
    locks = [c for c in conflicts if c.kind == "lock"]
    if locks:
        radius = scenario.access.max_distance_km
        found.append(
            Finding(
                "error",
                "settings.conflict",
                f"{len(locks)} locked LSOAs are farther from their hub than access.max_distance_km {radius:g} "
                f"({source}): {', '.join(c.detail for c in locks[:5])}{' ...' if len(locks) > 5 else ''}; "
                f"lock them to nearer hubs or raise the radius to at least {math.ceil(max(c.low for c in locks) * 10) / 10:g}",
                str(inputs.locks.path) if inputs.locks else source,
                tuple(code for c in locks for code in c.items),
            )
        )
    required = [c for c in conflicts if c.kind == "required"]
    if required:
        found.append(
            Finding(
                "error",
                "settings.conflict",
                f"more hubs are marked required than neighbourhoods fit in {_places(required)} ({bounds}"
                f"{', k.max ' + str(scenario.k.max) if scenario.k.max is not None else ''}): "
                f"{'; '.join(c.detail for c in required[:5])}; drop some required flags or widen the bounds",
                str(getattr(inputs.hubs, "path", None) or source),
                tuple(code for c in required for code in c.items),
            )
        )
    return found


def check_some_place_plannable(
    problems: dict[str, PlaceProblem], findings: list[Finding], scenario: Scenario
) -> list[Finding]:
    """An error when the screen finds that none of the places can be split: a run would plan nothing."""
    infeasible = {f.items[0] for f in findings if f.code == PLACE_INFEASIBLE}
    if not problems or infeasible != set(problems):
        return []
    source = str(scenario.source) if scenario.source else "scenario"
    which = (
        f"place {next(iter(problems))} cannot"
        if len(problems) == 1
        else f"none of the {len(problems)} places can"
    )
    return [
        Finding(
            "error",
            NO_PLACE,
            f"no place can be planned, so the scenario cannot run: {which} be split into neighbourhoods of "
            f"{scenario.pop.min:,}-{scenario.pop.max:,} {scenario.pop.measure} (each place's reason is given); "
            "change the settings as suggested for each place",
            source,
            tuple(sorted(problems)),
        )
    ]


def _places(conflicts: list[Conflict]) -> str:
    count = len({c.place_code for c in conflicts})
    return "1 place" if count == 1 else f"{count} places"
