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

:func:`repair_map` finds, per place, the valid plan that moves the fewest residents from the map: the model's
stability term (a one-to-one matching of the map's neighbourhoods to the new ones; :func:`footprint.model.
define_stability`) with the map as baseline is exactly the share of residents not kept, so the place is solved
(exact with its gap, or the heuristic, as ``run`` does) with weights stability 1 and access
:data:`ACCESS_TIE_BREAK`. LSOAs to keep (``keep``, or the map's keep column) are locked to one centre per map
neighbourhood, so they stay together; ``improve`` instead uses the scenario's weights with the stability weight
raised until at most that share of residents moves (:data:`IMPROVE_WEIGHTS`). Every LSOA moved is listed with the
breach its move fixes, and the repaired plan is verified like any run.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.config import Scenario, load_scenario, with_overrides
from footprint.errors import InputDataError
from footprint.export import (
    atomic_folder,
    check_target,
    decision_record,
    write_csv,
    write_json,
    write_products,
)
from footprint.mapinput import read_map
from footprint.mapplan import (  # the map -> plan builder, moved below the runner (re-exported here)
    BREACHES,
    EVALUATED,
    Breach,
    Evaluation,
    _names,
    build_evaluation,
)

__all__ = ["BREACHES", "EVALUATED", "Breach", "Evaluation", "build_evaluation", "evaluate_map", "repair_map"]
from footprint.objective import evaluate_terms, weighted_objective
from footprint.plan import GOOD_STATUSES, Plan, build_plan
from footprint.problem import PlaceProblem, PlaceSolution, Weights
from footprint.runner import check_solver, solve_options
from footprint.solve import SolveOptions, solve_place
from footprint.validate import ValidationReport, validate_scenario

logger = logging.getLogger(__name__)

#: Weight of the access term when repairing: small enough never to trade a resident moved for compactness
#: (access is ~1 for a compact plan, one resident moved is 1/P ~ 3e-6 of stability), large enough to choose
#: sensible centres and break ties between equally small repairs.
ACCESS_TIE_BREAK = 1e-6
#: Stability weights tried by ``improve``, in order; the first plan moving at most the share allowed is kept.
IMPROVE_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


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


# ---- writing -----------------------------------------------------------------------------------------------------


def check_output_folder(target: Path, *, kind: str, map_path: Path) -> None:
    """Refuse an output folder these commands may not replace (:func:`footprint.export.check_target`): one they did
    not write, the current directory, or the folder holding the map being read."""
    check_target(Path(target), kind=kind, option="--out", reading=[map_path], read_as="the map being read")


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
    check_output_folder(out_dir, kind="evaluation", map_path=evaluation.map.path)
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


def _keep_locks(
    problem: PlaceProblem,
    hood_of: list[str | None],
    kept: set[str],
    hub_of: dict[str, str],
) -> tuple[tuple[int, int], ...]:
    """Locks that hold the kept LSOAs of each map neighbourhood together: all on one centre (the centre LSOA of
    the lowest-coded kept LSOA, or the neighbourhood's hub in hub scenarios)."""
    locked = {unit for unit, _ in problem.locks}
    by_hood: dict[str, list[int]] = defaultdict(list)
    for i, code in enumerate(problem.unit_codes):
        if code in kept:
            hood = hood_of[i]
            if hood is None:
                raise InputDataError(
                    f"--keep: {code} is in no neighbourhood of the map, so it cannot stay where it is; give it one "
                    "or drop it from --keep."
                )
            by_hood[hood].append(i)
    centre_index = {cid: c for c, cid in enumerate(problem.centre_ids)}
    root_centre = {int(r): c for c, r in enumerate(problem.centre_root)}
    locks = list(problem.locks)
    for hood, units in sorted(by_hood.items()):
        centre = centre_index[hub_of[hood]] if problem.centre_kind == "hub" else root_centre[min(units)]
        locks += [(i, centre) for i in units if i not in locked]
    return tuple(sorted(set(locks)))


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
    planned = {code for p in report.problems.values() for code in p.unit_codes}
    unknown = sorted(set(keep) - planned)
    if unknown:
        raise InputDataError(
            f"--keep: {', '.join(unknown[:5])} {'is' if len(unknown) == 1 else 'are'} not LSOAs of the planned places; "
            "check the codes (and --place)."
        )
    labels = evaluation.map.labels
    kept = set(keep) | set(labels.loc[labels["keep"].astype(bool), C.LSOA_CODE]) & planned
    options = solve_options(report.scenario)
    check_solver(options)
    hub_of = (
        dict(
            zip(
                evaluation.plan.neighbourhoods[C.NEIGHBOURHOOD],
                evaluation.plan.neighbourhoods[C.HUB_ID],
                strict=True,
            )
        )
        if len(evaluation.plan.neighbourhoods)
        else {}
    )
    problems: dict[str, PlaceProblem] = {}
    solutions: dict[str, PlaceSolution] = {}
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for place in sorted(report.problems):
        clock = time.perf_counter()
        problem = report.problems[place]
        hood_of = evaluation.labels[place]
        names = sorted({h for h in hood_of if h is not None})
        index = {h: k for k, h in enumerate(names)}
        baseline = np.array([index[h] if h is not None else -1 for h in hood_of], dtype=np.int64)
        locks = _keep_locks(problem, hood_of, kept, hub_of)
        least = Weights(access=ACCESS_TIE_BREAK, pcn=0.0, demand=0.0, stability=1.0, community=0.0)
        problems[place] = replace(problem, baseline=baseline, locks=locks, weights=least)
        if evaluation.plan.statuses[place] == EVALUATED and improve is None:
            # the map follows every rule: it is its own least change (nothing moves, proven by bound 0)
            start = evaluation.plan.solutions[place].assignment
            terms = evaluate_terms(problems[place], start)
            solutions[place] = PlaceSolution(
                place_code=place,
                status="optimal",
                assignment=start,
                objective=weighted_objective(problems[place], terms),
                bound=0.0,
                gap=0.0,
                terms=terms,
                method="map kept",
                message="the map follows every rule; nothing moves",
            )
        else:
            solutions[place] = solve_place(problems[place], options)
            if improve is not None and solutions[place].status in GOOD_STATUSES:
                problems[place], solutions[place] = _improve(
                    problems[place], solutions[place], report.scenario, options, improve
                )
        timings[place] = time.perf_counter() - clock
    plan = build_plan(report.dataset, report.graph, problems, solutions, timings={"total": 0.0})
    plan, moves = _relabel(plan, evaluation)
    plan = replace(
        plan,
        timings={"repair": time.perf_counter() - started, **{f"place {p}": t for p, t in timings.items()}},
    )
    return Repair(plan=plan, before=evaluation, moves=moves, improve=improve)


def _improve(
    problem: PlaceProblem, least: PlaceSolution, scenario: Scenario, options: SolveOptions, share: float
) -> tuple[PlaceProblem, PlaceSolution]:
    """The best plan by the scenario's weights moving at most ``share`` of the residents: the stability weight is
    raised through :data:`IMPROVE_WEIGHTS` until a plan moves no more than that (the least-change plan otherwise)."""
    w = scenario.weights
    for weight in IMPROVE_WEIGHTS:
        candidate = replace(
            problem,
            weights=Weights(
                access=w.access, pcn=w.pcn, demand=w.demand, stability=weight, community=w.community
            ),
        )
        solution = solve_place(candidate, options)
        if solution.status in GOOD_STATUSES and solution.terms.get("stability", 1.0) <= share + 1e-9:
            note = f"best plan by the scenario's weights with stability weight {weight:g}, moving at most {share:.0%}"
            return candidate, replace(
                solution, message=(solution.message + "; " if solution.message else "") + note
            )
    note = f"no plan by the scenario's weights moved at most {share:.0%} of residents; the least-change plan is kept"
    return problem, replace(least, message=(least.message + "; " if least.message else "") + note)


def _relabel(plan: Plan, evaluation: Evaluation) -> tuple[Plan, pd.DataFrame]:
    """Give each repaired neighbourhood the id of the map neighbourhood it keeps most of; list every LSOA moved."""
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
    check_output_folder(out_dir, kind="repair", map_path=repair.before.map.path)
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
