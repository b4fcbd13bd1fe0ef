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
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
from footprint.mapinput import read_map
from footprint.mapplan import (  # the map -> plan builder, moved below the runner (re-exported here)
    BREACHES,
    EVALUATED,
    Breach,
    Evaluation,
    _names,
    breach_layer,
    build_evaluation,
    evaluation_notes,
)
from footprint.objective import evaluate_terms, weighted_objective
from footprint.plan import GOOD_STATUSES, Plan, build_plan
from footprint.problem import PlaceProblem, PlaceSolution, Weights
from footprint.runner import check_solver, solve_options
from footprint.solve import SolveOptions, recombine_budget, solve_place
from footprint.validate import ValidationReport, validate_scenario

if TYPE_CHECKING:
    pass

__all__ = ["BREACHES", "EVALUATED", "Breach", "Evaluation", "build_evaluation", "evaluate_map", "repair_map"]

logger = logging.getLogger(__name__)

#: Weight of the access term when repairing: small enough never to trade a resident moved for compactness
#: (access is ~1 for a compact plan, one resident moved is 1/P ~ 3e-6 of stability), large enough to choose
#: sensible centres and break ties between equally small repairs.
ACCESS_TIE_BREAK = 1e-6


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
        layer=breach_layer(evaluation),
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
                deadline=None if options.counted else clock + HEURISTIC_SHARE * limit,
            )
            if heuristic is not None:
                least = build_least_change(problem, hood_of, kept, plan=heuristic.assignment)
        # counted work: the whole limit sizes the model's node budget (the heuristic's time is not taken off it)
        spent = 0.0 if options.counted else time.perf_counter() - clock
        result = solve_least_change(least, options, time_limit=limit - spent)
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


# ---- an evaluated folder read back (``footprint check`` and ``footprint report``) ---------------------------------
