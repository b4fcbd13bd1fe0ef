"""A map (LSOA -> label) as a :class:`~footprint.plan.Plan`, with every breach of the rules located and explained.

Moved here unchanged from :mod:`footprint.evaluate` (which re-exports it) so that the runner, below ``evaluate`` in
the one-way stack, can build the status quo (today's map) as a plan too (:mod:`footprint.statusquo`). See
:mod:`footprint.evaluate` for what :func:`build_evaluation` does: the plan keeps the map's own neighbourhood ids (a
label found in two places becomes ``label@place`` in the other ones), each neighbourhood's centre is its hub (hub
scenarios) or the member LSOA nearest its population-weighted centre, and a place breaking a rule has status
``breaches``, one following every rule ``evaluated``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.dataset import Dataset
from footprint.graph import ContiguityGraph
from footprint.mapinput import MapInput
from footprint.objective import evaluate_terms, weighted_objective
from footprint.plan import Plan, assemble_tables, rules_for
from footprint.problem import PlaceProblem, PlaceSolution, connected_parts
from footprint.verify import PlanRules, Verdict, verify_plan

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

    def called(hood: str) -> str:
        """A neighbourhood in a breach message: its name and id ("Central Camden PCN (U12345)"), or its id."""
        name = display.get(hood.split("@")[0])
        return f"{name} ({hood})" if name and name != hood.split("@")[0] else hood

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
                f"neighbourhood {called(label)} crosses a place boundary: it spans {spread}; its {len(outside)} LSOAs "
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
            parts = connected_parts(units, adjacency)
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
                        f"neighbourhood {called(hood)} is in {len(parts)} pieces: {len(piece)} LSOAs "
                        f"({int(pop[piece].sum()):,} residents) are cut off from its main part ({where_text}): "
                        f"{_listing([codes[i] for i in piece], names)}",
                    )
                )
            total = float(pop[units].sum())
            if not problem.pop_min <= total <= problem.pop_max:
                over = total > problem.pop_max
                limit = problem.pop_max if over else problem.pop_min
                place_breaches.append(
                    Breach(
                        place,
                        "population",
                        hood,
                        (),
                        int(total),
                        f"neighbourhood {called(hood)} has {int(total):,} residents, {int(abs(total - limit)):,} "
                        f"{'over the maximum' if over else 'under the minimum'} of {limit:,}",
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
    assignment, neighbourhoods = assemble_tables(assignment_rows, hood_rows)
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


def breach_layer(evaluation: Evaluation) -> gpd.GeoDataFrame | None:
    """The LSOAs of every located breach as a layer (the ``breaches`` layer of ``neighbourhoods.gpkg``)."""
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
