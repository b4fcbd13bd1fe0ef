"""Validate a scenario end to end: load everything, build the graph and problems, screen every place.

:func:`validate_scenario` collects every problem in one pass (reader and join findings, graph findings, the
per-place feasibility screen of :func:`footprint.solve.check_feasibility`) and a per-place summary table, and
returns a :class:`ValidationReport`; it raises only when a file cannot be read at all. The CLI prints the report
and exits 2 when it has errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from footprint import columns as C
from footprint.config import Scenario
from footprint.dataset import Dataset, load_dataset
from footprint.findings import Finding
from footprint.graph import ContiguityGraph, build_graph
from footprint.instance import build_place_problem, pcn_home_places
from footprint.problem import PlaceProblem

logger = logging.getLogger(__name__)


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
        reasons = check_feasibility(problem)
        for reason in reasons:
            findings.append(Finding("error", "place.infeasible", reason, "", (place,)))
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
            )
        )
    return ValidationReport(
        scenario=scenario,
        dataset=dataset,
        graph=graph,
        problems=problems,
        places=summaries,
        findings=findings,
    )
