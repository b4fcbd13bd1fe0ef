"""A plan: the solved assignment of every LSOA to a neighbourhood, with stable ids and the verifier's verdict.

:func:`build_plan` turns per-place solutions (centre indices) into readable, stable neighbourhood ids: the place
code plus an ordinal, numbered north to south then west to east by each neighbourhood's population-weighted
centre, so ids never depend on solver artefacts. It then runs the independent verifier
(:mod:`footprint.verify`) on every place's plan; a place whose plan fails is demoted to status ``error`` and its
LSOAs are left out of the written assignment, so a failing plan is never written as good.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.dataset import Dataset
from footprint.graph import ContiguityGraph
from footprint.naming import name_neighbourhoods
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.verify import PlanRules, Verdict, verify_plan

logger = logging.getLogger(__name__)

GOOD_STATUSES = ("optimal", "feasible", "heuristic")


@dataclass(frozen=True)
class Plan:
    """An immutable, verified plan.

    Attributes
    ----------
    dataset, graph
        The inputs it was solved from.
    problems, solutions
        Per place code.
    assignment
        lsoa_code, neighbourhood_id, place_code: one row per LSOA of every place with a verified plan, sorted.
    neighbourhoods
        neighbourhood_id, neighbourhood_name, place_code, place_name, hub_id, hub_name, centre_kind, hub_lsoa,
        hub_x, hub_y: one row per neighbourhood, sorted.
    verdicts
        The verifier's verdict per place.
    statuses
        Final status per place (after verification).
    """

    dataset: Dataset
    graph: ContiguityGraph
    problems: dict[str, PlaceProblem]
    solutions: dict[str, PlaceSolution]
    assignment: pd.DataFrame
    neighbourhoods: pd.DataFrame
    verdicts: dict[str, Verdict]
    statuses: dict[str, str]
    messages: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: Today's arrangement scored as a plan (:class:`footprint.statusquo.StatusQuo`), attached by the runner and
    #: written into run.json's ``status_quo`` block; None for evaluated maps and rebuilt plans.
    status_quo: Any = field(default=None, compare=False, repr=False)
    #: Metrics computed so far (:mod:`footprint.metrics` fills it; a plan never changes, so neither do they).
    metrics_cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when every planned place has a verified plan."""
        return all(status in GOOD_STATUSES for status in self.statuses.values())

    @property
    def failed_places(self) -> list[str]:
        return sorted(place for place, status in self.statuses.items() if status not in GOOD_STATUSES)

    def place_record(self, place: str) -> dict[str, Any]:
        """The decision-record entry of one place (with ``hubs``: the hub or centre of each neighbourhood)."""
        problem = self.problems.get(place)
        solution = self.solutions.get(place)
        verdict = self.verdicts.get(place)
        record: dict[str, Any] = {
            "place_code": place,
            "place_name": problem.place_name if problem else place,
            "status": self.statuses[place],
            "message": self.messages.get(place, ""),
        }
        if problem is not None:
            record.update(
                lsoas=problem.n_units,
                population=problem.total_population,
                k_range=[problem.k_min, problem.k_max],
                centres=problem.n_centres,
                centre_kind=problem.centre_kind,
                pcns=len(problem.pcn_codes),
            )
        if solution is not None and self.statuses[place] in GOOD_STATUSES:
            record.update(
                neighbourhoods=len(np.unique(solution.assignment)),
                method=solution.method,
                solver=solution.solver,
                objective=_finite(solution.objective),
                bound=_finite(solution.bound),
                gap=_finite(solution.gap),
                terms={k: _finite(v) for k, v in sorted(solution.terms.items())},
                iterations=solution.iterations,
                heuristic_runs=solution.heuristic_runs,
                model=dict(sorted(solution.model.items())),
            )
        if len(self.neighbourhoods) and self.statuses[place] in GOOD_STATUSES:
            mine = self.neighbourhoods[self.neighbourhoods[C.PLACE_CODE] == place]
            record["hubs"] = dict(zip(mine[C.NEIGHBOURHOOD], mine[C.HUB_ID].astype(str), strict=True))
        if verdict is not None:
            record["verifier"] = verdict.to_dict()
        return record


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 9)


def rules_for(dataset: Dataset, problems: dict[str, PlaceProblem]) -> PlanRules:
    """The hard rules of the planned places, taken from the scenario and the inputs (not from the model)."""
    scenario = dataset.scenario
    units = dataset.units[dataset.units[C.PLACE_CODE].isin(problems)]
    measure = C.POPULATION if scenario.pop.measure == "residents" else "registered"
    hub_unit: dict[str, str] = {}
    hub_xy: dict[str, tuple[float, float]] = {}
    required: list[str] = []
    if dataset.hubs is not None:
        hubs = dataset.hubs[dataset.hubs[C.PLACE_CODE].isin(problems)]
        hub_unit = {str(h): str(u) for h, u in zip(hubs[C.HUB_ID], hubs[C.LSOA_CODE], strict=True)}
        hub_xy = {
            str(h): (float(x), float(y)) for h, x, y in zip(hubs[C.HUB_ID], hubs[C.X], hubs[C.Y], strict=True)
        }
        required = [str(h) for h in hubs.loc[hubs[C.REQUIRED].astype(bool), C.HUB_ID]]
    else:
        hub_unit = {str(code): str(code) for code in units[C.LSOA_CODE]}
        hub_xy = {
            str(c): (float(x), float(y))
            for c, x, y in zip(units[C.LSOA_CODE], units[C.X], units[C.Y], strict=True)
        }
    locks = {}
    if dataset.locks is not None:
        locks = {
            str(u): str(h)
            for u, h in zip(dataset.locks[C.LSOA_CODE], dataset.locks[C.HUB_ID], strict=True)
            if u in set(units[C.LSOA_CODE])
        }
    return PlanRules(
        unit_place={str(c): str(p) for c, p in zip(units[C.LSOA_CODE], units[C.PLACE_CODE], strict=True)},
        population={
            str(c): float(v) for c, v in zip(units[C.LSOA_CODE], units[measure].fillna(0), strict=True)
        },
        edges=[(str(a), str(b)) for a, b in dataset_edges(problems)],
        pop_min=scenario.pop.min,
        pop_max=scenario.pop.max,
        k_min={place: scenario.k.min for place in problems if scenario.k.min is not None},
        k_max={place: scenario.k.max for place in problems if scenario.k.max is not None},
        hub_unit=hub_unit,
        required_hubs=required,
        locks=locks,
        unit_xy={
            str(c): (float(x), float(y))
            for c, x, y in zip(units[C.LSOA_CODE], units[C.X], units[C.Y], strict=True)
        },
        hub_xy=hub_xy,
        max_distance_km=scenario.access.max_distance_km,
    )


def dataset_edges(problems: dict[str, PlaceProblem]) -> list[tuple[str, str]]:
    """Contiguity pairs of LSOA codes of the planned places."""
    return [(p.unit_codes[i], p.unit_codes[j]) for p in problems.values() for i, j in p.edges]


def label_neighbourhoods(problem: PlaceProblem, solution: PlaceSolution) -> tuple[list[str], dict[int, str]]:
    """Stable ids per unit, and centre index -> id: place code + ordinal, north to south then west to east."""
    centres = sorted(set(int(c) for c in solution.assignment))
    weights = problem.population.astype(float) + 1e-9
    keys = []
    for centre in centres:
        mask = solution.assignment == centre
        x = float(np.average(problem.xy[mask, 0], weights=weights[mask]))
        y = float(np.average(problem.xy[mask, 1], weights=weights[mask]))
        keys.append((-round(y, -2), round(x, -2), problem.centre_ids[centre]))
    order = sorted(range(len(centres)), key=lambda k: keys[k])
    names = {centres[k]: f"{problem.place_code}-{rank + 1:02d}" for rank, k in enumerate(order)}
    return [names[int(c)] for c in solution.assignment], names


def assemble_tables(
    assignment_rows: list[pd.DataFrame], hood_rows: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A plan's ``assignment`` (sorted by LSOA; empty with its columns when no place has a plan) and
    ``neighbourhoods`` (sorted by id) from per-place assignment frames and per-neighbourhood rows."""
    columns = [C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE]
    assignment = (
        pd.concat(assignment_rows, ignore_index=True).sort_values(C.LSOA_CODE).reset_index(drop=True)
        if assignment_rows
        else pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    )
    neighbourhoods = pd.DataFrame(hood_rows)
    if len(neighbourhoods):
        neighbourhoods = neighbourhoods.sort_values(C.NEIGHBOURHOOD).reset_index(drop=True)
    return assignment, neighbourhoods


def build_plan(
    dataset: Dataset,
    graph: ContiguityGraph,
    problems: dict[str, PlaceProblem],
    solutions: dict[str, PlaceSolution],
    *,
    timings: dict[str, float] | None = None,
) -> Plan:
    """Label, verify and assemble per-place solutions into a :class:`Plan`."""
    rules = rules_for(dataset, problems)
    assignment_rows: list[pd.DataFrame] = []
    hood_rows: list[dict[str, Any]] = []
    verdicts: dict[str, Verdict] = {}
    statuses: dict[str, str] = {}
    messages: dict[str, str] = {}
    hubs = dataset.hubs.set_index(C.HUB_ID) if dataset.hubs is not None else None
    units = dataset.units.set_index(C.LSOA_CODE)
    has_area_names = C.AREA_NAME in units and units[C.AREA_NAME].notna().any()
    for place in sorted(problems):
        problem, solution = problems[place], solutions[place]
        statuses[place] = solution.status
        messages[place] = solution.message
        if solution.status not in GOOD_STATUSES:
            continue
        labels, names = label_neighbourhoods(problem, solution)
        place_units = units.loc[list(problem.unit_codes)]
        hood_names = name_neighbourhoods(
            labels,
            place_units[C.POPULATION].to_numpy(dtype=float),
            place_units[C.AREA_NAME].tolist() if has_area_names else None,
            fallback={hood: f"{problem.place_name} {hood.rsplit('-', 1)[1]}" for hood in names.values()},
        )
        assignment = dict(zip(problem.unit_codes, labels, strict=True))
        hood_hub = {names[c]: problem.centre_ids[c] for c in names}
        place_rules = PlanRules(
            **{
                **rules.__dict__,
                "unit_place": {u: p for u, p in rules.unit_place.items() if p == place},
            }
        )
        verdict = verify_plan(assignment, hood_hub, place_rules)
        verdicts[place] = verdict
        if not verdict.ok:
            statuses[place] = "error"
            messages[place] = "the plan failed verification: " + "; ".join(verdict.failures)
            logger.debug("place %s: plan failed verification: %s", place, "; ".join(verdict.failures))
            continue
        assignment_rows.append(
            pd.DataFrame({C.LSOA_CODE: problem.unit_codes, C.NEIGHBOURHOOD: labels, C.PLACE_CODE: place})
        )
        for centre, hood in sorted(names.items(), key=lambda item: item[1]):
            hub_id = problem.centre_ids[centre]
            hub_lsoa = problem.unit_codes[int(problem.centre_root[centre])]
            if problem.centre_kind == "hub" and hubs is not None:
                hub_name = str(hubs.at[hub_id, C.HUB_NAME])
            else:
                hub_name = str(units.at[hub_id, C.LSOA_NAME]) if C.LSOA_NAME in units else hub_id
            hood_rows.append(
                {
                    C.NEIGHBOURHOOD: hood,
                    "neighbourhood_name": hood_names[hood],
                    C.PLACE_CODE: place,
                    C.PLACE_NAME: problem.place_name,
                    C.HUB_ID: hub_id,
                    C.HUB_NAME: hub_name,
                    "centre_kind": problem.centre_kind,
                    "hub_lsoa": hub_lsoa,
                    "hub_x": float(problem.centre_xy[centre, 0]),
                    "hub_y": float(problem.centre_xy[centre, 1]),
                }
            )
    assignment, neighbourhoods = assemble_tables(assignment_rows, hood_rows)
    return Plan(
        dataset=dataset,
        graph=graph,
        problems=problems,
        solutions=solutions,
        assignment=assignment,
        neighbourhoods=neighbourhoods,
        verdicts=verdicts,
        statuses=statuses,
        messages=messages,
        timings=dict(timings or {}),
    )
