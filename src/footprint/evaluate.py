"""Score, explain and repair the maps people bring (``footprint evaluate`` and ``footprint repair``).

:func:`evaluate_map` turns a map (:mod:`footprint.mapinput`) into the same :class:`~footprint.plan.Plan` a run
produces, one place at a time, and explains every breach in the place's words (:class:`Breach`): which
neighbourhood is over or under the bounds and by how many, which LSOAs are cut off from the rest of their
neighbourhood (their names, the neighbourhoods they touch and how far they are from the main part), LSOAs left out
or given twice, neighbourhoods crossing a place boundary; the independent verifier (:mod:`footprint.verify`) judges
the plan and its other failures (count, hubs, locks, access) are listed as it words them. The plan keeps the map's
own neighbourhood ids (a label found in two places becomes ``label@place`` in the other ones). Each neighbourhood's
centre is its hub (hub scenarios) or the member LSOA nearest its population-weighted centre. A place that breaks
a rule has status ``breaches`` and one that follows every rule ``evaluated``; the evaluated plan is written as it
is, never as if valid: run.json says ``"status": "evaluated"``, the map's sha256 and every breach, the report
opens with them, ``breaches.csv`` lists them and ``neighbourhoods.gpkg`` gains a ``breaches`` layer.

:func:`repair_map` finds, per place, the valid plan that moves the fewest residents from the map, with the
least-change model of :mod:`footprint.leastchange`: each map neighbourhood keeps an anchor centre (the centre of
its largest connected part), LSOAs are assigned to the anchors (plus a few candidates for new neighbourhoods when
the map has too few) under every rule, and the residents not in their own neighbourhood are minimised; the solver's
bound gives the gap. LSOAs to keep (``keep``, or the map's keep column) are locked to their neighbourhood's anchor,
so they stay. ``improve`` instead minimises the scenario's weighted objective with residents moved at most that
share of the place (one more row), from the least-change plan. Every LSOA moved is listed with the breach its
move fixes, and the repaired plan is verified like any run. A place where no plan keeps the map's centres falls
back to the whole place solved with the matching-based stability term (:func:`footprint.model.define_stability`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.config import Scenario, load_scenario, with_overrides
from footprint.dataset import Dataset
from footprint.errors import InputDataError
from footprint.export import (
    atomic_folder,
    check_target,
    decision_record,
    write_csv,
    write_json,
    write_products,
)
from footprint.graph import ContiguityGraph
from footprint.heuristic import solve_heuristic
from footprint.leastchange import (
    HEURISTIC_SHARE,
    LeastChange,
    LeastChangeResult,
    build_least_change,
    solve_least_change,
)
from footprint.mapinput import MapInput, read_map
from footprint.objective import evaluate_terms, weighted_objective
from footprint.plan import GOOD_STATUSES, Plan, build_plan, rules_for
from footprint.problem import PlaceProblem, PlaceSolution, Weights
from footprint.runner import check_solver, solve_options
from footprint.solve import SolveOptions, recombine_budget, solve_place
from footprint.validate import ValidationReport, validate_scenario
from footprint.verify import PlanRules, Verdict, verify_plan

if TYPE_CHECKING:
    from footprint.audit import WrittenRun

logger = logging.getLogger(__name__)

#: Weight of the access term when repairing: small enough never to trade a resident moved for compactness
#: (access is ~1 for a compact plan, one resident moved is 1/P ~ 3e-6 of stability), large enough to choose
#: sensible centres and break ties between equally small repairs.
ACCESS_TIE_BREAK = 1e-6
#: Status of an evaluated place that follows every rule, and of one that breaks some.
EVALUATED, BREACHES = "evaluated", "breaches"
#: Breach rules explained here; the verifier's other failures keep its own words.
EXPLAINED = ("complete", "nested", "contiguous", "population")
#: Names listed per breach message at most.
FEW = 6


@dataclass(frozen=True)
class Breach:
    """One broken rule, located: the place, the rule, the neighbourhood, the LSOAs involved, their residents."""

    place_code: str
    rule: str
    neighbourhood: str
    lsoas: tuple[str, ...]
    residents: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "place_code": self.place_code,
            "rule": self.rule,
            "neighbourhood": self.neighbourhood,
            "lsoas": list(self.lsoas),
            "residents": self.residents,
            "message": self.message,
        }


@dataclass(frozen=True)
class Evaluation:
    """A map evaluated: its plan (statuses ``evaluated`` or ``breaches``), every breach, and the map read."""

    plan: Plan
    map: MapInput
    breaches: tuple[Breach, ...]
    #: map label of each planned LSOA (None: left out), by place, in the problem's unit order
    labels: dict[str, list[str | None]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaches and all(v.ok for v in self.plan.verdicts.values())

    def breaches_table(self) -> pd.DataFrame:
        rows = [
            {
                C.PLACE_CODE: b.place_code,
                "rule": b.rule,
                C.NEIGHBOURHOOD: b.neighbourhood,
                "lsoas": ";".join(b.lsoas),
                "residents": b.residents,
                "message": b.message,
            }
            for b in self.breaches
        ]
        columns = [C.PLACE_CODE, "rule", C.NEIGHBOURHOOD, "lsoas", "residents", "message"]
        return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Repair:
    """A repaired map: the verified plan, the evaluation of the map it started from, and every LSOA moved."""

    plan: Plan
    before: Evaluation
    moves: pd.DataFrame
    improve: float | None = None

    @property
    def ok(self) -> bool:
        return self.plan.ok

    def residents_moved(self) -> dict[str, int]:
        moved = (
            self.moves.groupby(C.PLACE_CODE)["residents"].sum() if len(self.moves) else pd.Series(dtype=int)
        )
        return {place: int(moved.get(place, 0)) for place in sorted(self.plan.statuses)}


# ---- reading -----------------------------------------------------------------------------------------------------


def _prepare(
    scenario: Scenario | str | Path, places: Sequence[str] | None, overrides: Sequence[str]
) -> ValidationReport:
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides=list(overrides))
    else:
        scenario = with_overrides(scenario, tuple(overrides))
    report = validate_scenario(scenario, places=list(places) if places else None)
    if report.blocking:
        raise InputDataError("\n".join(f.line() for f in report.blocking))
    return report


def evaluate_map(
    scenario: Scenario | str | Path,
    map_path: str | Path,
    *,
    places: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    code_column: str | None = None,
    label_column: str | None = None,
    name_column: str | None = None,
    keep_column: str | None = None,
    layer: str | None = None,
    report: ValidationReport | None = None,
) -> Evaluation:
    """Evaluate the map at ``map_path`` against the scenario's rules, for every place or ``places``.

    Raises
    ------
    InputDataError
        When the inputs or the map cannot be read (one line with the file and the fix).
    """
    report = report or _prepare(scenario, places, overrides)
    map_input = read_map(
        map_path,
        report.dataset.units,
        code_column=code_column,
        label_column=label_column,
        name_column=name_column,
        keep_column=keep_column,
        layer=layer,
    )
    return build_evaluation(report.dataset, report.graph, report.problems, map_input)


# ---- evaluation --------------------------------------------------------------------------------------------------


def _names(dataset: Dataset) -> dict[str, str]:
    units = dataset.units
    if C.LSOA_NAME not in units:
        return {}
    return {str(c): str(n) for c, n in zip(units[C.LSOA_CODE], units[C.LSOA_NAME], strict=True) if n == n}


def _listing(codes: Sequence[str], names: dict[str, str], where: dict[str, str] | None = None) -> str:
    parts = []
    for code in list(codes)[:FEW]:
        text = f"{code} {names[code]}" if code in names else code
        if where and where.get(code):
            text += f" ({where[code]})"
        parts.append(text)
    more = f" and {len(codes) - FEW} more" if len(codes) > FEW else ""
    return ", ".join(parts) + more


def _components(units: list[int], adjacency: list[list[int]]) -> list[list[int]]:
    inside, seen, parts = set(units), set(), []
    for start in sorted(units):
        if start in seen:
            continue
        part, queue = [start], deque([start])
        seen.add(start)
        while queue:
            here = queue.popleft()
            for there in adjacency[here]:
                if there in inside and there not in seen:
                    seen.add(there)
                    part.append(there)
                    queue.append(there)
        parts.append(sorted(part))
    return parts


def _place_rules(rules: PlanRules, place: str) -> PlanRules:
    return replace(rules, unit_place={u: p for u, p in rules.unit_place.items() if p == place})


def _map_labels(
    map_input: MapInput, dataset: Dataset, problems: dict[str, PlaceProblem], names: dict[str, str]
) -> tuple[dict[str, str], dict[str, str], list[Breach]]:
    """LSOA -> label and label -> display name for the planned places, and the map-level breaches."""
    labels = map_input.labels
    breaches: list[Breach] = []
    unit_place = dict(zip(dataset.units[C.LSOA_CODE], dataset.units[C.PLACE_CODE], strict=True))
    population = dict(zip(dataset.units[C.LSOA_CODE], dataset.units[C.POPULATION].fillna(0), strict=True))
    unknown = sorted(set(labels.loc[~labels[C.LSOA_CODE].isin(unit_place), C.LSOA_CODE]))
    if unknown:
        breaches.append(
            Breach(
                "",
                "unknown",
                "",
                tuple(unknown),
                0,
                f"{len(unknown)} codes in the map are not LSOAs of the scenario and were ignored: "
                f"{_listing(unknown, {})}",
            )
        )
    planned = labels[labels[C.LSOA_CODE].map(unit_place).isin(problems)].copy()
    with_label = planned.dropna(subset=["label"])
    twice = with_label.groupby(C.LSOA_CODE)["label"].agg(lambda s: sorted(set(s)))
    twice = twice[twice.map(len) > 1]
    by_place: dict[str, list[str]] = defaultdict(list)
    for code in twice.index:
        by_place[unit_place[code]].append(code)
    for place, codes in sorted(by_place.items()):
        where = {code: "in " + " and ".join(twice[code]) + "; the first is used" for code in codes}
        breaches.append(
            Breach(
                place,
                "given twice",
                "",
                tuple(codes),
                int(sum(population[c] for c in codes)),
                f"{len(codes)} LSOAs are given to two neighbourhoods: {_listing(codes, names, where)}",
            )
        )
    first = with_label.drop_duplicates(C.LSOA_CODE)
    assigned = dict(zip(first[C.LSOA_CODE], first["label"], strict=True))
    display = {
        str(label): str(name)
        for label, name in zip(with_label["label"], with_label["name"], strict=True)
        if name is not pd.NA and name == name
    }
    return assigned, display, breaches


def build_evaluation(
    dataset: Dataset, graph: ContiguityGraph, problems: dict[str, PlaceProblem], map_input: MapInput
) -> Evaluation:
    """The plan and every breach of ``map_input`` on the planned ``problems`` (see the module docstring)."""
    started = time.perf_counter()
    names = _names(dataset)
    assigned, display, breaches = _map_labels(map_input, dataset, problems, names)
    rules = rules_for(dataset, problems)
    unit_place = dict(zip(dataset.units[C.LSOA_CODE], dataset.units[C.PLACE_CODE], strict=True))
    residents = dict(zip(dataset.units[C.LSOA_CODE], dataset.units[C.POPULATION].fillna(0), strict=True))

    # a label used in two places: its part outside the place holding most of its residents is a breach
    label_places: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for code, label in assigned.items():
        label_places[label][unit_place[code]] += float(residents[code])
    home = {label: max(sorted(by), key=lambda p: by[p]) for label, by in label_places.items()}

    def hood_id(label: str, place: str) -> str:
        return label if home[label] == place else f"{label}@{place}"

    for label, by in sorted(label_places.items()):
        if len(by) < 2:
            continue
        outside = sorted(c for c, lab in assigned.items() if lab == label and unit_place[c] != home[label])
        spread = ", ".join(
            f"{p} ({problems[p].place_name}: {int(by[p]):,} residents)"
            for p in sorted(by, key=lambda p: -by[p])
        )
        breaches.append(
            Breach(
                home[label],
                "place",
                label,
                tuple(outside),
                int(sum(residents[c] for c in outside)),
                f"neighbourhood {label} crosses a place boundary: it spans {spread}; its {len(outside)} LSOAs "
                f"outside {home[label]} are evaluated as {', '.join(sorted({hood_id(label, unit_place[c]) for c in outside}))}: "
                f"{_listing(outside, names)}",
            )
        )

    hubs = dataset.hubs.set_index(C.HUB_ID) if dataset.hubs is not None else None
    assignment_rows, hood_rows = [], []
    solutions: dict[str, PlaceSolution] = {}
    verdicts: dict[str, Verdict] = {}
    statuses: dict[str, str] = {}
    messages: dict[str, str] = {}
    per_place_labels: dict[str, list[str | None]] = {}
    for place in sorted(problems):
        problem = problems[place]
        codes = problem.unit_codes
        adjacency = problem.neighbours()
        pop = problem.population.astype(float)
        hood_of: list[str | None] = [hood_id(assigned[c], place) if c in assigned else None for c in codes]
        per_place_labels[place] = hood_of
        members: dict[str, list[int]] = defaultdict(list)
        for i, hood in enumerate(hood_of):
            if hood is not None:
                members[hood].append(i)
        place_breaches: list[Breach] = []

        left_out = [i for i, hood in enumerate(hood_of) if hood is None]
        if left_out:
            where = {
                codes[i]: "next to " + ", ".join(_touching([i], None, hood_of, adjacency))
                for i in left_out
                if _touching([i], None, hood_of, adjacency)
            }
            place_breaches.append(
                Breach(
                    place,
                    "left out",
                    "",
                    tuple(codes[i] for i in left_out),
                    int(pop[left_out].sum()),
                    f"{len(left_out)} LSOAs ({int(pop[left_out].sum()):,} residents) are in no neighbourhood: "
                    f"{_listing([codes[i] for i in left_out], names, where)}",
                )
            )
        centre_of: dict[str, int] = {}
        for hood, units in sorted(members.items()):
            parts = _components(units, adjacency)
            parts.sort(key=lambda part: (-pop[part].sum(), part[0]))
            main = parts[0]
            for piece in parts[1:]:
                gap_m = min(float(np.hypot(*(problem.xy[u] - problem.xy[v]))) for u in piece for v in main)
                near = _touching(piece, hood, hood_of, adjacency)
                where_text = (
                    f"touches {', '.join(near)}; " if near else ""
                ) + f"{gap_m / 1000:.1f} km from the rest"
                place_breaches.append(
                    Breach(
                        place,
                        "contiguity",
                        hood,
                        tuple(codes[i] for i in piece),
                        int(pop[piece].sum()),
                        f"neighbourhood {hood} is in {len(parts)} pieces: {len(piece)} LSOAs "
                        f"({int(pop[piece].sum()):,} residents) are cut off from its main part ({where_text}): "
                        f"{_listing([codes[i] for i in piece], names)}",
                    )
                )
            total = float(pop[units].sum())
            if total > problem.pop_max:
                place_breaches.append(
                    Breach(
                        place,
                        "population",
                        hood,
                        (),
                        int(total),
                        f"neighbourhood {hood} has {int(total):,} residents, {int(total - problem.pop_max):,} over "
                        f"the maximum of {problem.pop_max:,}",
                    )
                )
            elif total < problem.pop_min:
                place_breaches.append(
                    Breach(
                        place,
                        "population",
                        hood,
                        (),
                        int(total),
                        f"neighbourhood {hood} has {int(total):,} residents, {int(problem.pop_min - total):,} under "
                        f"the minimum of {problem.pop_min:,}",
                    )
                )
            centre_of[hood] = _centre(problem, main if main else units)

        hood_hub = {hood: problem.centre_ids[c] for hood, c in centre_of.items()}
        verdict = verify_plan(
            {codes[i]: hood for i, hood in enumerate(hood_of) if hood is not None},
            hood_hub,
            _place_rules(rules, place),
        )
        crossing = [
            b
            for b in breaches
            if b.rule == "place" and place in {unit_place[c] for c in b.lsoas} | {b.place_code}
        ]
        failures = list(verdict.failures) + [f"nested: {b.message}" for b in crossing]
        verdicts[place] = Verdict(
            ok=verdict.ok and not crossing,
            failures=tuple(failures),
            checks=verdict.checks,
            neighbourhoods=verdict.neighbourhoods,
        )
        for failure in verdict.failures:
            rule = failure.split(":", 1)[0]
            if rule not in EXPLAINED:
                place_breaches.append(Breach(place, rule, "", (), 0, failure))
        explained_rules = {"complete": "left out", "contiguous": "contiguity", "population": "population"}
        for failure in verdict.failures:  # a failure the explanations above missed is never dropped
            rule = failure.split(":", 1)[0]
            if rule in explained_rules and not any(b.rule == explained_rules[rule] for b in place_breaches):
                place_breaches.append(Breach(place, rule, "", (), 0, failure))
        breaches.extend(place_breaches)
        bad = bool(place_breaches) or not verdicts[place].ok
        statuses[place] = BREACHES if bad else EVALUATED
        messages[place] = (
            f"{len(place_breaches) + len(crossing)} breaches of the rules"
            if bad
            else "the map follows every rule"
        )
        complete = not left_out
        assignment = (
            np.array([centre_of[h] for h in hood_of], dtype=np.int64)
            if complete
            else np.zeros(0, dtype=np.int64)
        )
        terms = evaluate_terms(problem, assignment) if complete else {}
        solutions[place] = PlaceSolution(
            place_code=place,
            status=statuses[place],  # type: ignore[arg-type]
            assignment=assignment,
            objective=weighted_objective(problem, terms) if terms else float("nan"),
            terms=terms,
            method="evaluated",
            message=messages[place],
        )
        assignment_rows.append(
            pd.DataFrame(
                {
                    C.LSOA_CODE: [codes[i] for i, h in enumerate(hood_of) if h is not None],
                    C.NEIGHBOURHOOD: [h for h in hood_of if h is not None],
                    C.PLACE_CODE: place,
                }
            )
        )
        units_table = dataset.units.set_index(C.LSOA_CODE)
        for hood, centre in sorted(centre_of.items()):
            hub_id = problem.centre_ids[centre]
            if problem.centre_kind == "hub" and hubs is not None:
                hub_name = str(hubs.at[hub_id, C.HUB_NAME])
            else:
                hub_name = str(units_table.at[hub_id, C.LSOA_NAME]) if C.LSOA_NAME in units_table else hub_id
            label = hood.split("@", 1)[0]
            hood_rows.append(
                {
                    C.NEIGHBOURHOOD: hood,
                    "neighbourhood_name": display.get(label, hood),
                    C.PLACE_CODE: place,
                    C.PLACE_NAME: problem.place_name,
                    C.HUB_ID: hub_id,
                    C.HUB_NAME: hub_name,
                    "centre_kind": problem.centre_kind,
                    "hub_lsoa": problem.unit_codes[int(problem.centre_root[centre])],
                    "hub_x": float(problem.centre_xy[centre, 0]),
                    "hub_y": float(problem.centre_xy[centre, 1]),
                }
            )
    columns = [C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE]
    assignment = (
        pd.concat(assignment_rows, ignore_index=True).sort_values(C.LSOA_CODE).reset_index(drop=True)
        if assignment_rows
        else pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    )
    neighbourhoods = pd.DataFrame(hood_rows)
    if len(neighbourhoods):
        neighbourhoods = neighbourhoods.sort_values(C.NEIGHBOURHOOD).reset_index(drop=True)
    plan = Plan(
        dataset=dataset,
        graph=graph,
        problems=problems,
        solutions=solutions,
        assignment=assignment,
        neighbourhoods=neighbourhoods,
        verdicts=verdicts,
        statuses=statuses,
        messages=messages,
        timings={"evaluate": time.perf_counter() - started},
    )
    order = {"": 0, **{p: i + 1 for i, p in enumerate(sorted(problems))}}
    breaches.sort(key=lambda b: (order.get(b.place_code, 0), b.rule, b.neighbourhood, b.lsoas))
    return Evaluation(plan=plan, map=map_input, breaches=tuple(breaches), labels=per_place_labels)


def _touching(
    units: Sequence[int], own: str | None, hood_of: list[str | None], adjacency: list[list[int]]
) -> list[str]:
    """The neighbourhoods (other than ``own``) that ``units`` touch, sorted."""
    return sorted(
        {str(hood_of[v]) for u in units for v in adjacency[u] if hood_of[v] is not None and hood_of[v] != own}
    )


def _centre(problem: PlaceProblem, units: Sequence[int]) -> int:
    """The centre of a neighbourhood: the hub standing in it nearest its population-weighted centre (hub scenarios;
    the place's nearest hub when none stands in it), else its member LSOA nearest that point."""
    units = list(units)
    weights = problem.population[units].astype(float) + 1e-9
    point = np.average(problem.xy[units], axis=0, weights=weights)
    if problem.centre_kind == "hub":
        inside = [c for c in range(problem.n_centres) if int(problem.centre_root[c]) in set(units)]
        candidates = inside or list(range(problem.n_centres))
        return min(candidates, key=lambda c: (float(np.hypot(*(problem.centre_xy[c] - point))), c))
    root = {int(r): c for c, r in enumerate(problem.centre_root)}
    best = min(units, key=lambda u: (float(np.hypot(*(problem.xy[u] - point))), u))
    return root[best]


# ---- writing -----------------------------------------------------------------------------------------------------


def check_output_folder(target: Path) -> None:
    """Refuse an output folder these commands did not write (the one call site: switch to the shared helper here)."""
    check_target(Path(target))


def _places_entries(plan: Plan, record: dict[str, Any]) -> list[dict[str, Any]]:
    """run.json's places with the figures an evaluated place has too (neighbourhoods, objective, terms, hubs)."""
    entries = []
    for entry in record["places"]:
        place = entry["place_code"]
        solution = plan.solutions.get(place)
        if solution is not None and entry["status"] not in GOOD_STATUSES:
            mine = (
                plan.neighbourhoods[plan.neighbourhoods[C.PLACE_CODE] == place]
                if len(plan.neighbourhoods)
                else None
            )
            entry = {
                **entry,
                "neighbourhoods": 0 if mine is None else len(mine),
                "method": solution.method,
                "objective": None
                if not np.isfinite(solution.objective)
                else round(float(solution.objective), 9),
                "terms": {k: round(float(v), 9) for k, v in sorted(solution.terms.items())},
            }
            if mine is not None:
                entry["hubs"] = dict(zip(mine[C.NEIGHBOURHOOD], mine[C.HUB_ID].astype(str), strict=True))
        entries.append(entry)
    return entries


def _breach_layer(evaluation: Evaluation) -> gpd.GeoDataFrame | None:
    rows = [
        {
            C.LSOA_CODE: code,
            C.PLACE_CODE: b.place_code,
            "rule": b.rule,
            C.NEIGHBOURHOOD: b.neighbourhood,
            "message": b.message,
        }
        for b in evaluation.breaches
        if b.rule != "unknown"
        for code in b.lsoas
    ]
    if not rows:
        return None
    frame = pd.DataFrame(rows).drop_duplicates([C.LSOA_CODE, "rule"]).sort_values([C.LSOA_CODE, "rule"])
    geometry = evaluation.plan.dataset.units.set_index(C.LSOA_CODE).geometry
    return gpd.GeoDataFrame(frame, geometry=frame[C.LSOA_CODE].map(geometry).values, crs=C.CRS_WORKING)


def _write(
    plan: Plan,
    out_dir: Path,
    record: dict[str, Any],
    *,
    tables: dict[str, pd.DataFrame],
    notes: tuple[str, ...],
    layer: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    from footprint.export import _write_geo  # the one GeoPackage writer (pinned dates)

    with atomic_folder(out_dir) as staging:
        write_csv(plan.assignment, staging / "assignment.csv")
        write_products(plan, record, staging, notes=notes)
        for name, table in tables.items():
            write_csv(table, staging / name)
        if layer is not None and (staging / "neighbourhoods.gpkg").is_file():
            _write_geo(layer, staging / "neighbourhoods.gpkg", layer="breaches", driver="GPKG", append=True)
        write_json(record, staging / "run.json")
    return sorted(path for path in out_dir.iterdir() if path.is_file())


def evaluation_record(evaluation: Evaluation, out_dir: Path) -> dict[str, Any]:
    """run.json of an evaluated map: status ``evaluated``, the map (path, sha256), the verdict and every breach."""
    plan = evaluation.plan
    record = decision_record(plan, out_dir)
    failed = sorted(p for p, s in plan.statuses.items() if s != EVALUATED)
    record.update(
        status="evaluated",
        follows_rules=evaluation.ok,
        failed_places=failed,
        places=_places_entries(plan, record),
        map={**evaluation.map.to_dict(), "path": _relative(evaluation.map.path, out_dir)},
        breaches=[b.to_dict() for b in evaluation.breaches],
    )
    record["verifier"] = {
        "ok": all(v.ok for v in plan.verdicts.values()),
        "places_verified": sorted(p for p, v in plan.verdicts.items() if v.ok),
    }
    return record


def _relative(path: Path, out_dir: Path) -> str:
    from footprint.config import path_relative_to

    return path_relative_to(path, out_dir)


def evaluation_notes(evaluation: Evaluation) -> tuple[str, ...]:
    """The report's opening: what was evaluated, and every breach."""
    m = evaluation.map
    head = (
        f"This is a map brought to footprint, evaluated against the rules, not a solved plan: {m.path.name} "
        f"({m.kind}, sha256 {m.sha256[:12]}). "
    )
    if evaluation.ok:
        return (head + "It follows every rule.",)
    lines = [
        head + f"It breaks the rules {len(evaluation.breaches)} times (all in breaches.csv and the breaches "
        "layer of neighbourhoods.gpkg):"
    ]
    lines += [f"{b.place_code or 'map'}, {b.rule}: {b.message}" for b in evaluation.breaches[:40]]
    if len(evaluation.breaches) > 40:
        lines.append(f"... and {len(evaluation.breaches) - 40} more in breaches.csv.")
    if len(m.split):
        lines.append(
            f"{len(m.split)} LSOAs are split by a drawn line and went to the polygon holding most of their area "
            "(split_lsoas.csv)."
        )
    return tuple(lines)


def write_evaluation(evaluation: Evaluation, out_dir: str | Path) -> list[Path]:
    """Write the outputs of a run for an evaluated map, plus ``breaches.csv`` (and ``split_lsoas.csv``)."""
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    record = evaluation_record(evaluation, out_dir)
    tables = {"breaches.csv": evaluation.breaches_table()}
    if len(evaluation.map.split):
        tables["split_lsoas.csv"] = evaluation.map.split
    return _write(
        evaluation.plan,
        out_dir,
        record,
        tables=tables,
        notes=evaluation_notes(evaluation),
        layer=_breach_layer(evaluation),
    )


# ---- repair ------------------------------------------------------------------------------------------------------


def _match_labels(problem: PlaceProblem, hood_of: list[str | None], new: np.ndarray) -> dict[int, str]:
    """New region (centre index) -> the map neighbourhood it keeps most of (one-to-one, by the bounded measure)."""
    from scipy.optimize import linear_sum_assignment

    labels = sorted({h for h in hood_of if h is not None})
    regions = sorted(set(int(c) for c in new))
    if not labels:
        return {}
    overlap = np.zeros((len(labels), len(regions)))
    li = {h: k for k, h in enumerate(labels)}
    ri = {c: k for k, c in enumerate(regions)}
    for i, hood in enumerate(hood_of):
        if hood is not None:
            overlap[li[hood], ri[int(new[i])]] += float(problem.population[i])
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return {regions[c]: labels[r] for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0}


def _reasons(evaluation: Evaluation, place: str) -> dict[str, str]:
    """LSOA -> the breach its own state breaks (cut off, left out, outside its neighbourhood's place)."""
    reasons: dict[str, str] = {}
    for b in evaluation.breaches:
        if b.place_code != place and b.rule != "place":
            continue
        for code in b.lsoas:
            if b.rule == "contiguity":
                reasons.setdefault(code, f"contiguity: cut off from the rest of {b.neighbourhood}")
            elif b.rule == "left out":
                reasons.setdefault(code, "complete: in no neighbourhood of the map")
            elif b.rule == "place":
                reasons.setdefault(code, f"place: {b.neighbourhood} crosses into another place")
            elif b.rule == "given twice":
                reasons.setdefault(code, "complete: given to two neighbourhoods")
    return reasons


def _bounds(evaluation: Evaluation, place: str) -> dict[str, str]:
    return {
        b.neighbourhood: b.message.split(", ", 1)[1] if ", " in b.message else b.message
        for b in evaluation.breaches
        if b.place_code == place and b.rule == "population"
    }


def repair_map(
    scenario: Scenario | str | Path,
    map_path: str | Path,
    *,
    places: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    keep: Sequence[str] = (),
    improve: float | None = None,
    code_column: str | None = None,
    label_column: str | None = None,
    name_column: str | None = None,
    keep_column: str | None = None,
    layer: str | None = None,
) -> Repair:
    """The valid plan that moves the fewest residents from the map (or, with ``improve``, the best plan by the
    scenario's weights moving at most that share of each place's residents), verified, with every move listed.

    Raises
    ------
    InputDataError
        Bad map or inputs, ``keep`` codes that are not LSOAs of the planned places, ``improve`` outside (0, 1].
    """
    if improve is not None and not 0 < improve <= 1:
        raise InputDataError(
            f"--improve: {improve} is not a share of residents; give a fraction in (0, 1], e.g. 0.05."
        )
    report = _prepare(scenario, places, overrides)
    evaluation = evaluate_map(
        report.scenario,
        map_path,
        report=report,
        code_column=code_column,
        label_column=label_column,
        name_column=name_column,
        keep_column=keep_column,
        layer=layer,
    )
    return build_repair(
        report.scenario, report.dataset, report.graph, report.problems, evaluation, keep=keep, improve=improve
    )


def build_repair(
    scenario: Scenario,
    dataset: Dataset,
    graph: ContiguityGraph,
    places: dict[str, PlaceProblem],
    evaluation: Evaluation,
    *,
    keep: Sequence[str] = (),
    improve: float | None = None,
) -> Repair:
    """The repair of an evaluated map on the planned ``places`` (inputs read once; see :func:`repair_map`)."""
    if improve is not None and not 0 < improve <= 1:
        raise InputDataError(
            f"--improve: {improve} is not a share of residents; give a fraction in (0, 1], e.g. 0.05."
        )
    planned = {code for p in places.values() for code in p.unit_codes}
    unknown = sorted(set(keep) - planned)
    if unknown:
        raise InputDataError(
            f"--keep: {', '.join(unknown[:5])} {'is' if len(unknown) == 1 else 'are'} not LSOAs of the planned places; "
            "check the codes (and --place)."
        )
    labels = evaluation.map.labels
    kept = set(keep) | set(labels.loc[labels["keep"].astype(bool), C.LSOA_CODE]) & planned
    options = solve_options(scenario)
    check_solver(options)
    problems: dict[str, PlaceProblem] = {}
    solutions: dict[str, PlaceSolution] = {}
    anchors: dict[str, dict[int, str]] = {}
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for place in sorted(places):
        clock = time.perf_counter()
        problem = places[place]
        hood_of = evaluation.labels[place]
        names = sorted({h for h in hood_of if h is not None})
        index = {h: k for k, h in enumerate(names)}
        baseline = np.array([index[h] if h is not None else -1 for h in hood_of], dtype=np.int64)
        least_weights = Weights(access=0.0, pcn=0.0, demand=0.0, stability=1.0, community=0.0)
        try:
            least = build_least_change(problem, hood_of, kept)
        except ValueError as error:
            raise InputDataError(f"--keep: {error}; give it one or drop it from --keep.") from None
        locks = tuple((unit, int(least.centres[c])) for unit, c in least.problem.locks)
        problems[place] = replace(problem, baseline=baseline, locks=locks, weights=least_weights)
        if evaluation.plan.statuses[place] == EVALUATED and improve is None:
            # the map follows every rule: it is its own least change (nothing moves, proven by bound 0)
            start = evaluation.plan.solutions[place].assignment
            solutions[place] = PlaceSolution(
                place_code=place,
                status="optimal",
                assignment=start,
                objective=0.0,
                bound=0.0,
                gap=0.0,
                terms=evaluate_terms(problems[place], start),
                method="map kept",
                message="the map follows every rule; nothing moves",
            )
            timings[place] = time.perf_counter() - clock
            continue
        limit = (0.5 if improve is not None else 1.0) * options.time_limit  # improve: half for each solve
        if not any(code in kept for code in problem.unit_codes):
            # the heuristic on the whole place (stability: residents kept under the best matching) gives the
            # anchors and the warm start, so the model's plan is never worse than the heuristic's
            heuristic = solve_heuristic(
                replace(problems[place], weights=replace(least_weights, access=ACCESS_TIE_BREAK)),
                seed=options.seed,
                recombine=recombine_budget(options),
                deadline=clock + HEURISTIC_SHARE * limit,
            )
            if heuristic is not None:
                least = build_least_change(problem, hood_of, kept, plan=heuristic.assignment)
        result = solve_least_change(least, options, time_limit=limit - (time.perf_counter() - clock))
        if result.assignment is None:
            # no plan keeps the map's centres (or none was found in time): the whole place, as ``run`` solves it
            fallback = replace(problems[place], weights=replace(least_weights, access=ACCESS_TIE_BREAK))
            solutions[place] = solve_place(fallback, options)
            solutions[place] = replace(
                solutions[place],
                message="; ".join(
                    filter(None, [solutions[place].message, *result.notes, "no plan kept the map's centres"])
                ),
            )
        else:
            solutions[place] = _least_solution(problems[place], least, result, options)
            anchors[place] = {int(least.centres[k]): label for k, label in enumerate(least.labels) if label}
            if improve is not None:
                problems[place], solutions[place] = _improve(
                    replace(problem, locks=locks), least, result, solutions[place], options, improve
                )
        timings[place] = time.perf_counter() - clock
    plan = build_plan(dataset, graph, problems, solutions, timings={"total": 0.0})
    plan, moves = _relabel(plan, evaluation, anchors)
    plan = replace(
        plan,
        timings={"repair": time.perf_counter() - started, **{f"place {p}": t for p, t in timings.items()}},
    )
    return Repair(plan=plan, before=evaluation, moves=moves, improve=improve)


def _least_solution(
    problem: PlaceProblem, least: LeastChange, result: LeastChangeResult, options: SolveOptions
) -> PlaceSolution:
    """The least-change plan as a place's solution: objective and bound are the share of residents moved."""
    assert result.assignment is not None
    total = max(float(problem.total_population), 1e-9)
    assignment = least.full(result.assignment)
    proven = math.isfinite(result.gap) and result.gap <= options.gap + 1e-9
    from_mip = result.moved < result.start
    status = "optimal" if proven else "feasible" if from_mip else "heuristic"
    return PlaceSolution(
        place_code=problem.place_code,
        status=status,  # type: ignore[arg-type]
        assignment=assignment,
        objective=result.moved / total,
        bound=result.bound / total if math.isfinite(result.bound) else float("nan"),
        gap=result.gap,
        terms=evaluate_terms(problem, assignment),
        method="least-change mip-cuts" + ("" if proven or from_mip else " (heuristic plan)"),
        solver=result.solver,
        seconds={"repair": result.seconds},
        iterations=result.rounds,
        message="; ".join(
            [f"{result.moved:,} residents moved (at least {result.bound:,.0f})", *result.notes]
            if math.isfinite(result.bound)
            else [f"{result.moved:,} residents moved", *result.notes]
        ),
    )


def _improve(
    problem: PlaceProblem,
    least: LeastChange,
    first: LeastChangeResult,
    least_solution: PlaceSolution,
    options: SolveOptions,
    share: float,
) -> tuple[PlaceProblem, PlaceSolution]:
    """The best plan by the scenario's weights moving at most ``share`` of the residents (one more row in the
    least-change model, :mod:`footprint.leastchange`), warm-started from the least-change plan; when even that
    moves more, the least-change plan is kept and the note says so."""
    total = float(problem.total_population)
    if first.assignment is None or first.moved > share * total + 1e-6:
        note = (
            f"the least change moves {first.moved:,} residents, more than {share:.0%} ({share * total:,.0f}); "
            "the least-change plan is kept"
        )
        return problem, replace(least_solution, message=f"{least_solution.message}; {note}")
    result = solve_least_change(
        least,
        options,
        share=share,
        weights=problem.weights,
        start=first.assignment,
        time_limit=options.time_limit / 2,
    )
    assert result.assignment is not None  # the start is valid for this model
    assignment = least.full(result.assignment)
    terms = evaluate_terms(problem, assignment)
    objective = weighted_objective(problem, terms)
    proven = math.isfinite(result.gap) and result.gap <= options.gap + 1e-9
    improved = result.objective < weighted_objective(
        problem, evaluate_terms(problem, least.full(first.assignment))
    )
    return problem, PlaceSolution(
        place_code=problem.place_code,
        status="optimal" if proven else "feasible",
        assignment=assignment,
        objective=objective,
        bound=result.bound,
        gap=result.gap,
        terms=terms,
        method="least-change mip-cuts, improve",
        solver=result.solver,
        seconds={"repair": first.seconds, "improve": result.seconds},
        iterations=first.rounds + result.rounds,
        message="; ".join(
            [
                f"best plan by the scenario's weights moving at most {share:.0%} of residents: {result.moved:,} "
                f"move ({'better than' if improved else 'the same as'} the least change by that objective)",
                *result.notes,
            ]
        ),
    )


def _relabel(
    plan: Plan, evaluation: Evaluation, anchors: dict[str, dict[int, str]] | None = None
) -> tuple[Plan, pd.DataFrame]:
    """Give each repaired neighbourhood the id of its map neighbourhood (the one whose anchor centre serves it,
    ``anchors``: place -> centre -> label; else the one it keeps most of); list every LSOA moved."""
    anchors = anchors or {}
    if plan.assignment.empty:
        return plan, pd.DataFrame(columns=MOVE_COLUMNS)
    rename: dict[str, str] = {}
    display = (
        dict(
            zip(
                evaluation.plan.neighbourhoods[C.NEIGHBOURHOOD],
                evaluation.plan.neighbourhoods["neighbourhood_name"],
                strict=True,
            )
        )
        if len(evaluation.plan.neighbourhoods)
        else {}
    )
    written = dict(zip(plan.assignment[C.LSOA_CODE], plan.assignment[C.NEIGHBOURHOOD], strict=True))
    for place in sorted(plan.problems):
        if plan.statuses[place] not in GOOD_STATUSES:
            continue
        problem = plan.problems[place]
        old_ids = [written[c] for c in problem.unit_codes]
        ids = sorted(set(old_ids))
        as_int = np.array([ids.index(h) for h in old_ids])
        if place in anchors:
            centres = plan.solutions[place].assignment
            by_id = {old_ids[i]: int(centres[i]) for i in range(len(old_ids))}
            matched = {
                k: anchors[place][by_id[old]] for k, old in enumerate(ids) if by_id[old] in anchors[place]
            }
        else:
            matched = _match_labels(problem, evaluation.labels[place], as_int)
        fresh = 0
        for k, old in enumerate(ids):
            if k in matched:
                rename[old] = matched[k]
            else:
                fresh += 1
                rename[old] = f"{place}-new-{fresh:02d}"
    assignment = plan.assignment.assign(**{C.NEIGHBOURHOOD: plan.assignment[C.NEIGHBOURHOOD].map(rename)})
    hoods = plan.neighbourhoods.copy()
    hoods[C.NEIGHBOURHOOD] = hoods[C.NEIGHBOURHOOD].map(rename)
    hoods["neighbourhood_name"] = [display.get(h, h) for h in hoods[C.NEIGHBOURHOOD]]
    hoods = hoods.sort_values(C.NEIGHBOURHOOD).reset_index(drop=True)
    plan = replace(
        plan, assignment=assignment.sort_values(C.LSOA_CODE, ignore_index=True), neighbourhoods=hoods
    )

    names = _names(plan.dataset)
    residents = dict(
        zip(plan.dataset.units[C.LSOA_CODE], plan.dataset.units[C.POPULATION].fillna(0), strict=True)
    )
    new = dict(zip(assignment[C.LSOA_CODE], assignment[C.NEIGHBOURHOOD], strict=True))
    rows = []
    for place in sorted(plan.problems):
        if plan.statuses[place] not in GOOD_STATUSES:
            continue
        reasons, bounds = _reasons(evaluation, place), _bounds(evaluation, place)
        for code, before in zip(plan.problems[place].unit_codes, evaluation.labels[place], strict=True):
            after = new[code]
            if before == after:
                continue
            if code in reasons:
                reason = reasons[code]
            elif before in bounds:
                reason = f"bound: {before} {bounds[before]}"
            elif after in bounds:
                reason = f"bound: {after} {bounds[after]}"
            else:
                reason = "knock-on: makes room for another move, keeping every neighbourhood within the rules"
            rows.append(
                {
                    C.LSOA_CODE: code,
                    C.LSOA_NAME: names.get(code, ""),
                    C.PLACE_CODE: place,
                    "residents": int(residents[code]),
                    "from": before or "",
                    "to": after,
                    "reason": reason,
                }
            )
    return plan, pd.DataFrame(rows, columns=MOVE_COLUMNS)


MOVE_COLUMNS = [C.LSOA_CODE, C.LSOA_NAME, C.PLACE_CODE, "residents", "from", "to", "reason"]


def repair_notes(repair: Repair) -> tuple[str, ...]:
    m = repair.before.map
    moved = repair.residents_moved()
    what = (
        f"the best plan by the scenario's weights moving at most {repair.improve:.0%} of each place's residents"
        if repair.improve is not None
        else "the valid plan that moves the fewest residents"
    )
    lines = [
        f"This plan repairs a map brought to footprint: {m.path.name} ({m.kind}, sha256 {m.sha256[:12]}), which "
        f"broke the rules {len(repair.before.breaches)} times. It is {what}: {len(repair.moves)} LSOAs "
        f"({sum(moved.values()):,} residents) move; each is listed in moves.csv with the breach its move fixes, "
        "so a workshop can accept or reject it."
    ]
    lines += [
        f"{r['lsoa_code']} {r['lsoa_name']} ({r['residents']:,} residents): {r['from'] or 'none'} -> {r['to']}; {r['reason']}"
        for r in repair.moves.head(40).to_dict("records")
    ]
    if len(repair.moves) > 40:
        lines.append(f"... and {len(repair.moves) - 40} more in moves.csv.")
    return tuple(lines)


def write_repair(repair: Repair, out_dir: str | Path) -> list[Path]:
    """Write the repaired plan like a run, plus ``moves.csv`` and ``breaches_before.csv``."""
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    record = decision_record(repair.plan, out_dir)
    record["repair"] = {
        "map": {**repair.before.map.to_dict(), "path": _relative(repair.before.map.path, out_dir)},
        "objective": "least residents moved"
        if repair.improve is None
        else f"scenario weights, moved <= {repair.improve}",
        "breaches_before": len(repair.before.breaches),
        "lsoas_moved": len(repair.moves),
        "residents_moved": repair.residents_moved(),
    }
    tables = {"moves.csv": repair.moves, "breaches_before.csv": repair.before.breaches_table()}
    return _write(repair.plan, out_dir, record, tables=tables, notes=repair_notes(repair))


# ---- an evaluated folder read back (``footprint check`` and ``footprint report``) ---------------------------------


def reevaluate(run: WrittenRun) -> Evaluation:
    """The map of an evaluated folder evaluated again on the current inputs: its written ``assignment.csv`` (ids
    ``label@place`` back to the map's label, so a neighbourhood crossing places is found again) with the map's
    record (path, sha256, kind). LSOAs the map left out are still left out; an LSOA the map gave twice was written
    once (the first), so that breach is not found again."""
    from footprint.audit import load_problems

    places = [entry["place_code"] for entry in run.record["places"]]
    dataset, graph, problems = load_problems(run, places)
    written = run.assignment
    labels = pd.DataFrame(
        {
            C.LSOA_CODE: written[C.LSOA_CODE],
            "label": written[C.NEIGHBOURHOOD].str.split("@").str[0],
            "name": pd.NA,
            "keep": False,
        }
    )
    names_path = run.run_dir / "neighbourhoods.csv"
    if names_path.is_file():
        names = pd.read_csv(names_path, dtype=str, keep_default_na=False)
        if "neighbourhood_name" in names:
            display = dict(zip(names[C.NEIGHBOURHOOD], names["neighbourhood_name"], strict=True))
            labels["name"] = written[C.NEIGHBOURHOOD].map(display).where(lambda s: s.notna(), pd.NA)
    split_path = run.run_dir / "split_lsoas.csv"
    entry = run.record.get("map", {})
    map_input = MapInput(
        path=Path(str(entry.get("path", "map"))),
        sha256=str(entry.get("sha256", "")),
        kind=str(entry.get("kind", "table")),
        labels=labels,
        columns=dict(entry.get("columns", {})),
    )
    if split_path.is_file():
        map_input = replace(map_input, split=pd.read_csv(split_path, dtype=str))
    return build_evaluation(dataset, graph, problems, map_input)


def regenerate_evaluation(run: WrittenRun, notes: tuple[str, ...] = ()) -> list[Path]:
    """Rewrite the products of an evaluated folder (report, maps, tables, breaches) from its assignment and record,
    in place, without touching run.json (:func:`footprint.export.regenerate_products` for a run)."""
    import shutil
    import tempfile

    evaluation = reevaluate(run)
    staging = Path(tempfile.mkdtemp(prefix=f".{run.run_dir.name}.report-", dir=run.run_dir.parent))
    try:
        from footprint.export import _write_geo

        write_products(evaluation.plan, run.record, staging, notes=notes + evaluation_notes(evaluation))
        write_csv(evaluation.breaches_table(), staging / "breaches.csv")
        layer = _breach_layer(evaluation)
        if layer is not None and (staging / "neighbourhoods.gpkg").is_file():
            _write_geo(layer, staging / "neighbourhoods.gpkg", layer="breaches", driver="GPKG", append=True)
        written = sorted(staging.iterdir())
        for path in written:
            os.replace(path, run.run_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(run.run_dir / path.name for path in written)
