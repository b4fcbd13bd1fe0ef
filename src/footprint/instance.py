"""Turn a dataset and its contiguity graph into one :class:`~footprint.problem.PlaceProblem` per place.

This is where the scenario's settings meet the data: which population measure is bounded, the k range
(``ceil(P / max) .. floor(P / min)`` intersected with ``k.min``/``k.max`` and the number of hubs), the candidate
centres (the place's hubs when a hubs file is given, otherwise every LSOA), distances, the PCNs whose home is this
place with their patients per LSOA, demand, baseline labels, keep-together groups and locks. Pure arrays out; the
model never sees a GeoDataFrame.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.dataset import Dataset
from footprint.graph import ContiguityGraph
from footprint.problem import PlaceProblem, Weights, homes_needed


def k_range(total: int, pop_min: int, pop_max: int, n_units: int) -> tuple[int, int]:
    """Feasible neighbourhood counts from the bounds alone: ``ceil(P / max) .. floor(P / min)``."""
    k_low = max(1, math.ceil(total / pop_max)) if pop_max > 0 else n_units
    k_high = math.floor(total / pop_min) if pop_min > 0 else n_units
    return k_low, min(k_high, n_units)


def pcn_home_places(dataset: Dataset) -> pd.Series:
    """Each PCN's home place: the place where most of its registered patients live (ties: lowest code)."""
    registrations = dataset.registrations.dropna(subset=[C.PCN_CODE])
    if registrations.empty:
        return pd.Series(dtype="string")
    place_of = dataset.units.set_index(C.LSOA_CODE)[C.PLACE_CODE]
    frame = registrations.assign(**{C.PLACE_CODE: registrations[C.LSOA_CODE].map(place_of)})
    totals = frame.groupby([C.PCN_CODE, C.PLACE_CODE], as_index=False)[C.PATIENTS].sum()
    totals = totals.sort_values(
        [C.PCN_CODE, C.PATIENTS, C.PLACE_CODE], ascending=[True, False, True], kind="stable"
    )
    return totals.drop_duplicates(C.PCN_CODE).set_index(C.PCN_CODE)[C.PLACE_CODE]


def pcn_home_counts(dataset: Dataset, pcn_codes: tuple[str, ...]) -> np.ndarray:
    """Home neighbourhoods each PCN's size calls for (:func:`footprint.problem.homes_needed`), in the objective.

    A PCN's size is the sum of its member practices' list sizes, or its registered patients resident in the
    area when none of them has one (the same rule as ``realignment_pcns.csv``). With ``alignment.homes: one``
    (the default) every PCN has one home in the objective.
    """
    scenario = dataset.scenario
    if scenario.alignment.homes == "one" or not pcn_codes:
        return np.ones(len(pcn_codes), dtype=np.int64)
    practices = dataset.practices.dropna(subset=[C.PCN_CODE])
    list_sizes = practices.groupby(C.PCN_CODE)[C.LIST_SIZE].sum(min_count=1)
    registered = dataset.registrations.dropna(subset=[C.PCN_CODE]).groupby(C.PCN_CODE)[C.PATIENTS].sum()
    sizes = [
        float(list_sizes[code]) if pd.notna(list_sizes.get(code)) else float(registered.get(code, 0.0))
        for code in pcn_codes
    ]
    return np.array([homes_needed(size, float(scenario.pop.max)) for size in sizes], dtype=np.int64)


def pcn_count_note(dataset: Dataset, place_code: str, homes: pd.Series | None = None) -> str:
    """One line explaining why the PCNs with practices sited in a place (``validate``) and the PCNs homed there
    (the report, the CSVs: most of their registered patients live there) differ; "" when they are the same.

    E.g. "5 PCNs have practices here; 3 are homed here (most of their patients live here), 2 are homed in
    Hammersmith and Fulham".
    """
    homes = pcn_home_places(dataset) if homes is None else homes
    practices = dataset.practices.dropna(subset=[C.PCN_CODE]) if len(dataset.practices) else dataset.practices
    sited = set(practices.loc[practices[C.PLACE_CODE] == place_code, C.PCN_CODE]) if len(practices) else set()
    homed = {str(pcn) for pcn, place in homes.items() if place == place_code}
    # a PCN with no registered patients has no home: it belongs where its practices are (as in the report)
    sited_homed = {pcn for pcn in sited if pcn in homed or pcn not in homes.index}
    if sited == sited_homed and homed <= sited:
        return ""
    away: dict[str, int] = {}
    for pcn in sorted(sited - sited_homed):
        away[str(homes[pcn])] = away.get(str(homes[pcn]), 0) + 1
    parts = [
        f"{len(sited)} {'PCN has' if len(sited) == 1 else 'PCNs have'} practices here; {len(sited_homed)} "
        f"{'is' if len(sited_homed) == 1 else 'are'} homed here (most of their patients live here)"
    ]
    parts += [
        f"{n} {'is' if n == 1 else 'are'} homed in {dataset.place_name(place)}"
        for place, n in sorted(away.items(), key=lambda item: (-item[1], item[0]))
    ]
    text = ", ".join(parts)
    extra = len(homed - sited)
    if extra:
        text += (
            f"; {extra} more {'is' if extra == 1 else 'are'} homed here with no practice here "
            f"({len(sited_homed) + extra} homed here in all)"
        )
    return text


def build_place_problem(
    dataset: Dataset, graph: ContiguityGraph, place_code: str, *, pcn_homes: pd.Series | None = None
) -> PlaceProblem:
    """The optimisation problem of one place."""
    scenario = dataset.scenario
    units = dataset.units[dataset.units[C.PLACE_CODE] == place_code].sort_values(C.LSOA_CODE)
    unit_codes = tuple(units[C.LSOA_CODE].astype(str))
    index = {code: i for i, code in enumerate(unit_codes)}
    measure = C.POPULATION if scenario.pop.measure == "residents" else "registered"
    population = units[measure].fillna(0).round().to_numpy(dtype=np.int64)
    xy = units[[C.X, C.Y]].to_numpy(dtype=float)

    sub = graph.place_subgraph(place_code)
    edges = tuple(sorted((min(index[a], index[b]), max(index[a], index[b])) for a, b in sub.edges))

    k_low, k_high = k_range(int(population.sum()), scenario.pop.min, scenario.pop.max, len(unit_codes))
    if scenario.k.min is not None:
        k_low = max(k_low, scenario.k.min)
    if scenario.k.max is not None:
        k_high = min(k_high, scenario.k.max)

    hubs = dataset.hubs
    place_hubs = hubs[hubs[C.PLACE_CODE] == place_code].sort_values(C.HUB_ID) if hubs is not None else None
    if place_hubs is not None:
        centre_ids = tuple(place_hubs[C.HUB_ID].astype(str))
        centre_kind = "hub"
        centre_root = np.array([index[code] for code in place_hubs[C.LSOA_CODE]], dtype=np.int64)
        centre_xy = place_hubs[[C.X, C.Y]].to_numpy(dtype=float)
        centre_required = place_hubs[C.REQUIRED].to_numpy(dtype=bool)
        centre_capacity = place_hubs[C.CAPACITY].to_numpy(dtype=float)
        k_high = min(k_high, len(centre_ids))
    else:
        centre_ids = unit_codes
        centre_kind = "unit"
        centre_root = np.arange(len(unit_codes), dtype=np.int64)
        centre_xy = xy.copy()
        centre_required = np.zeros(len(unit_codes), dtype=bool)
        centre_capacity = np.full(len(unit_codes), np.nan)
    distance_km = np.sqrt(((xy[:, None, :] - centre_xy[None, :, :]) ** 2).sum(axis=2)) / 1000.0

    homes = pcn_home_places(dataset) if pcn_homes is None else pcn_homes
    pcn_codes = tuple(sorted(str(code) for code, place in homes.items() if place == place_code))
    pcn_patients = np.zeros((len(pcn_codes), len(unit_codes)))
    if pcn_codes:
        registrations = dataset.registrations
        mine = registrations[
            registrations[C.PCN_CODE].isin(pcn_codes) & registrations[C.LSOA_CODE].isin(index)
        ]
        table = mine.groupby([C.PCN_CODE, C.LSOA_CODE])[C.PATIENTS].sum()
        pcn_index = {code: p for p, code in enumerate(pcn_codes)}
        for (pcn, lsoa), patients in table.items():
            pcn_patients[pcn_index[pcn], index[lsoa]] = patients
    pcn_homes = pcn_home_counts(dataset, pcn_codes)

    demand = units[C.DEMAND].to_numpy(dtype=float)
    demand = None if np.isnan(demand).all() else np.nan_to_num(demand, nan=0.0)
    baseline = _labels(units["baseline"])
    groups = _labels(units[C.GROUP_CODE]) if C.GROUP_CODE in units else None

    locks: tuple[tuple[int, int], ...] = ()
    if dataset.locks is not None and place_hubs is not None:
        centre_index = {hub: c for c, hub in enumerate(centre_ids)}
        locks = tuple(
            sorted(
                (index[lsoa], centre_index[hub])
                for lsoa, hub in zip(dataset.locks[C.LSOA_CODE], dataset.locks[C.HUB_ID], strict=True)
                if lsoa in index and hub in centre_index
            )
        )

    weights = scenario.weights
    return PlaceProblem(
        place_code=place_code,
        place_name=dataset.place_name(place_code),
        unit_codes=unit_codes,
        population=population,
        xy=xy,
        edges=edges,
        pop_min=scenario.pop.min,
        pop_max=scenario.pop.max,
        k_min=k_low,
        k_max=k_high,
        centre_ids=centre_ids,
        centre_kind=centre_kind,
        centre_root=centre_root,
        centre_xy=centre_xy,
        centre_required=centre_required,
        centre_capacity=centre_capacity,
        distance_km=distance_km,
        max_distance_km=scenario.access.max_distance_km,
        pcn_codes=pcn_codes,
        pcn_patients=pcn_patients,
        pcn_homes=pcn_homes,
        demand=demand,
        baseline=baseline,
        groups=groups,
        locks=locks,
        weights=Weights(
            access=weights.access,
            pcn=weights.pcn,
            demand=weights.demand,
            stability=weights.stability,
            community=weights.community,
        ),
        area_km2=float(units["area_km2"].sum()),
    )


def _labels(values: pd.Series) -> np.ndarray | None:
    """Integer labels (sorted order of the distinct values), -1 where missing; None when all missing."""
    series = pd.Series(values.to_numpy(dtype=object))
    present = series.notna() & (series.astype(str) != "")
    if not present.any():
        return None
    distinct = sorted(set(series[present].astype(str)))
    lookup = {value: i for i, value in enumerate(distinct)}
    return np.array(
        [lookup[str(v)] if ok else -1 for v, ok in zip(series, present, strict=True)], dtype=np.int64
    )
