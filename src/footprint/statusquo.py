"""Today's arrangement as a plan, scored by the same metrics as the proposal; and the most PCN-aligned plan found.

The *status quo* is the baseline map (``inputs.baseline``, else each LSOA's dominant PCN: ``units["baseline"]``)
on the planned places, turned into a :class:`~footprint.plan.Plan` by the same builder ``footprint evaluate``
uses (:func:`footprint.mapplan.build_evaluation`):

- each baseline unit is clipped to a place: a unit crossing a place boundary is evaluated as one neighbourhood per
  place (its part outside the place holding most of its residents is ``label@place``), and the crossing is a
  breach (rule ``place``);
- an LSOA with no baseline unit (not in the baseline file, or no PCN-registered residents) is in no status-quo
  neighbourhood: it is left out of the status quo's figures and named as a breach (rule ``left out``);
- each unit's centre is its member LSOA nearest its population-weighted centre, or, in hub scenarios, the hub
  standing in it nearest that point (the place's nearest hub when none stands in it), so access figures are
  measured the same way as the plan's;
- units out of the population bounds and units in several pieces are breaches (rules ``population`` and
  ``contiguity``).

Every figure is then :func:`footprint.metrics.summarise_places` (and the other ``summarise_*``) of that plan, so
"Status quo" and "Plan" columns are the same formulas on two maps (``docs/metrics.md``).

*At best* (:func:`best_effort_problems`): per place, the project's heuristic with weights pcn 1, access
:data:`BEST_ACCESS_WEIGHT` (every other term 0), one run with the scenario's seed: the most PCN-aligned valid plan
the tool finds cheaply; its coterminosity reads "today 41%, this plan 48%, at best 62%".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.dataset import Dataset
from footprint.graph import ContiguityGraph
from footprint.heuristic import solve_heuristic
from footprint.mapinput import MapInput
from footprint.mapplan import Breach, Evaluation, build_evaluation
from footprint.metrics import (
    baseline_source,
    summarise_changes,
    summarise_headline,
    summarise_neighbourhoods,
    summarise_pcns,
    summarise_places,
    summarise_practices,
)
from footprint.objective import evaluate_terms
from footprint.plan import Plan
from footprint.problem import PlaceProblem, PlaceSolution, Weights

#: Access weight of the "at best" plan: small enough that PCN alignment decides, large enough to keep
#: neighbourhoods compact and break ties between equally aligned plans.
BEST_ACCESS_WEIGHT = 0.01
#: The "at best" heuristic's work, counted (never timed), so its plan is the same on every machine: seed
#: placements per candidate k (plus the start from where the PCNs' patients live) and merge-split iterations.
#: Measured on the sample and two London boroughs (when each run tried at most four k; it now tries up to eight,
#: a start costing a tenth of a walk): 4 restarts and 300 iterations cost ~40% of a place's own run for the same
#: coterminosity; 1 and 100 cost ~10%.
BEST_RESTARTS, BEST_ITERATIONS = 1, 100
#: Breach rules of the status quo counted per place, with the column each is counted in.
BREACH_COLUMNS = {"population": "out_of_bounds", "contiguity": "not_contiguous", "place": "crossing_places"}
#: Columns of ``status_quo.csv`` added to :func:`footprint.metrics.summarise_places`'s.
EXTRA_COLUMNS = (
    "out_of_bounds",
    "not_contiguous",
    "crossing_places",
    "lsoas_left_out",
    "residents_left_out",
    "best_median_coterminosity",
    "best_weighted_coterminosity",
)


@dataclass(frozen=True)
class StatusQuo:
    """Today's map evaluated as a plan (with its breaches), and the most PCN-aligned plan found (or None).

    Attributes
    ----------
    evaluation
        The status quo's plan (statuses ``evaluated`` or ``breaches``) and every breach.
    source
        ``file`` (``inputs.baseline``) or ``pcns`` (each LSOA's dominant PCN).
    best
        The verified "at best" plan of the places it was found for, or None (``alignment.best_effort`` off).
    """

    evaluation: Evaluation
    source: str
    best: Plan | None = None

    @property
    def plan(self) -> Plan:
        return self.evaluation.plan

    @property
    def breaches(self) -> tuple[Breach, ...]:
        return self.evaluation.breaches


def baseline_map(dataset: Dataset, places: list[str] | None = None) -> MapInput:
    """The baseline labels of the LSOAs of ``places`` (default all) as a map; names: the PCN's name for a PCN
    baseline, else the label itself."""
    units = dataset.units
    if places is not None:
        units = units[units[C.PLACE_CODE].isin(places)]
    known = units.dropna(subset=["baseline"])
    names = pd.Series(pd.NA, index=known.index, dtype="object")
    if baseline_source(dataset) == "pcns" and len(dataset.practices):
        pcn_names = dataset.practices.dropna(subset=[C.PCN_CODE]).drop_duplicates(C.PCN_CODE)
        names = known["baseline"].map(pcn_names.set_index(C.PCN_CODE)[C.PCN_NAME])
    labels = pd.DataFrame(
        {
            C.LSOA_CODE: known[C.LSOA_CODE].astype(str).to_numpy(),
            "label": known["baseline"].astype(str).to_numpy(),
            "name": names.to_numpy(),
            "keep": False,
        }
    )
    return MapInput(path=Path("baseline"), sha256="", kind="baseline", labels=labels)


def build_status_quo(
    dataset: Dataset,
    graph: ContiguityGraph,
    problems: dict[str, PlaceProblem],
    *,
    best: Plan | None = None,
) -> StatusQuo | None:
    """Today's map on the planned ``problems`` as a plan with its breaches; None without a baseline."""
    source = baseline_source(dataset)
    if source == "none" or not problems:
        return None
    evaluation = build_evaluation(dataset, graph, problems, baseline_map(dataset, sorted(problems)))
    return StatusQuo(evaluation=evaluation, source=source, best=best)


def best_effort_problems(problems: dict[str, PlaceProblem]) -> dict[str, PlaceProblem]:
    """The places with the "at best" weights: pcn 1, access :data:`BEST_ACCESS_WEIGHT`, every other term 0."""
    weights = Weights(access=BEST_ACCESS_WEIGHT, pcn=1.0, demand=0.0, stability=0.0, community=0.0)
    return {place: replace(problem, weights=weights) for place, problem in problems.items()}


def solve_best_effort_place(problem: PlaceProblem, seed: int = 0) -> PlaceSolution:
    """The "at best" plan of one place (``problem`` with :func:`best_effort_problems`' weights): the heuristic, one
    run of :data:`BEST_RESTARTS` restarts and :data:`BEST_ITERATIONS` merge-split iterations, no clock."""
    started = time.perf_counter()
    result = solve_heuristic(problem, seed=seed, restarts=BEST_RESTARTS, recombine=BEST_ITERATIONS, runs=1)
    seconds = {"heuristic": time.perf_counter() - started}
    if result is None:
        return PlaceSolution(
            place_code=problem.place_code,
            status="infeasible",
            assignment=np.zeros(0, dtype=np.int64),
            method="heuristic",
            seconds=seconds,
            message="the heuristic found no valid plan",
        )
    return PlaceSolution(
        place_code=problem.place_code,
        status="heuristic",
        assignment=result.assignment,
        objective=result.objective,
        terms=evaluate_terms(problem, result.assignment),
        method="heuristic",
        seconds=seconds,
        heuristic_runs=1,
    )


def place_coterminosity(plan: Plan) -> pd.DataFrame:
    """Per place: median and patient-weighted coterminosity of the PCNs homed there (as in
    :func:`footprint.metrics.summarise_places`). Columns: place_code, median_coterminosity, weighted_coterminosity."""
    columns = [C.PLACE_CODE, "median_coterminosity", "weighted_coterminosity"]
    places = summarise_places(plan)
    if places.empty:
        return pd.DataFrame(columns=columns)
    return places[columns].copy()


def crossing_units(dataset: Dataset, places: list[str]) -> pd.DataFrame:
    """Baseline units present in each of ``places`` that also have LSOAs in another place (planned or not).

    Columns: place_code, baseline (the unit), lsoas (its LSOAs in the place), lsoas_all (in every place),
    residents (its residents in the place), other_places (the other places' names, ``;``-separated).
    """
    columns = [C.PLACE_CODE, "baseline", "lsoas", "lsoas_all", "residents", "other_places"]
    units = dataset.units.dropna(subset=["baseline"])
    if units.empty:
        return pd.DataFrame(columns=columns)
    spread = units.groupby("baseline")[C.PLACE_CODE].agg(lambda s: sorted(set(s)))
    sizes = units.groupby("baseline").size()
    here = units[units[C.PLACE_CODE].isin(places)]
    rows = []
    for (place, label), group in here.groupby([C.PLACE_CODE, "baseline"], sort=True):
        others = [p for p in spread[label] if p != place]
        if not others:
            continue
        rows.append(
            {
                C.PLACE_CODE: place,
                "baseline": label,
                "lsoas": len(group),
                "lsoas_all": int(sizes[label]),
                "residents": int(group[C.POPULATION].fillna(0).sum()),
                "other_places": ";".join(dataset.place_name(p) for p in others),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def summarise_status_quo(status_quo: StatusQuo) -> pd.DataFrame:
    """One row per planned place: :func:`footprint.metrics.summarise_places` of the status quo plan, plus its
    breaches (:data:`EXTRA_COLUMNS`): out_of_bounds (units out of the population bounds), not_contiguous (units in
    several pieces), crossing_places (units with LSOAs in this place and another, planned or not:
    :func:`crossing_units`), lsoas_left_out and
    residents_left_out (LSOAs with no baseline unit), and the "at best" plan's best_median_coterminosity and
    best_weighted_coterminosity (empty when not computed)."""
    places = summarise_places(status_quo.plan)
    if places.empty:
        return places
    counts = {name: dict.fromkeys(places[C.PLACE_CODE], 0) for name in BREACH_COLUMNS.values()}
    left_out = dict.fromkeys(places[C.PLACE_CODE], 0)
    left_residents = dict.fromkeys(places[C.PLACE_CODE], 0)
    # crossing: every baseline unit reaching beyond the place, into planned places or not
    crossing = crossing_units(status_quo.plan.dataset, sorted(left_out))
    for place, n in crossing.groupby(C.PLACE_CODE).size().items():
        counts["crossing_places"][place] = int(n)
    for breach in status_quo.breaches:
        if breach.rule == "place":
            continue
        if breach.rule in BREACH_COLUMNS and breach.place_code in left_out:
            counts[BREACH_COLUMNS[breach.rule]][breach.place_code] += 1
        elif breach.rule == "left out" and breach.place_code in left_out:
            left_out[breach.place_code] += len(breach.lsoas)
            left_residents[breach.place_code] += int(breach.residents)
    out = places.copy()
    for name, by_place in counts.items():
        out[name] = out[C.PLACE_CODE].map(by_place).astype("int64")
    # population breaches are per neighbourhood, once each; the figure reconciles with within_bounds
    out["lsoas_left_out"] = out[C.PLACE_CODE].map(left_out).astype("int64")
    out["residents_left_out"] = out[C.PLACE_CODE].map(left_residents).astype("int64")
    best = place_coterminosity(status_quo.best) if status_quo.best is not None else None
    if best is not None and len(best):
        by_code = best.set_index(C.PLACE_CODE)
        out["best_median_coterminosity"] = out[C.PLACE_CODE].map(by_code["median_coterminosity"])
        out["best_weighted_coterminosity"] = out[C.PLACE_CODE].map(by_code["weighted_coterminosity"])
    else:
        out["best_median_coterminosity"] = np.nan
        out["best_weighted_coterminosity"] = np.nan
    return out.reset_index(drop=True)


def status_quo_headline(status_quo: StatusQuo) -> dict[str, object]:
    """The run-level headline figures (:data:`footprint.metrics.HEADLINE`) of the status quo, by the same function
    ``compare`` uses on written runs."""
    plan = status_quo.plan
    per_lsoa, _ = summarise_changes(plan)
    records = [{"place_code": p, "status": s} for p, s in sorted(plan.statuses.items())]
    figures = summarise_headline(
        summarise_neighbourhoods(plan),
        summarise_pcns(plan),
        summarise_practices(plan),
        per_lsoa,
        records,
        baseline=status_quo.source,
    )
    figures["status"] = "ok" if all(s == "evaluated" for s in plan.statuses.values()) else "breaches"
    return figures


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars to Python, NaN/NA to None, floats rounded to 6 decimals."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6)
    return value


def status_quo_record(status_quo: StatusQuo) -> dict[str, Any]:
    """run.json's ``status_quo`` block: what it is, its figures per place and for the run, and every breach."""
    places = summarise_status_quo(status_quo)
    best = status_quo.best
    return {
        "source": status_quo.source,
        "centres": (
            "the hub nearest each unit's population-weighted centre"
            if len(status_quo.plan.neighbourhoods)
            and (status_quo.plan.neighbourhoods["centre_kind"] == "hub").all()
            else "each unit's member LSOA nearest its population-weighted centre"
        ),
        "best_effort": None
        if best is None
        else {
            "method": f"heuristic, one run, the scenario's seed, {BEST_RESTARTS} restarts, {BEST_ITERATIONS} "
            "merge-split iterations",
            "weights": {"pcn": 1.0, "access": BEST_ACCESS_WEIGHT},
            "statuses": dict(sorted(best.statuses.items())),
        },
        "places": [{k: _plain(v) for k, v in row.items()} for row in places.to_dict(orient="records")],
        "headline": {k: _plain(v) for k, v in status_quo_headline(status_quo).items()},
        "breaches": [b.to_dict() for b in status_quo.breaches],
        "crossing": [
            {k: _plain(v) for k, v in row.items()}
            for row in crossing_units(status_quo.plan.dataset, sorted(status_quo.plan.statuses)).to_dict(
                orient="records"
            )
        ],
    }
