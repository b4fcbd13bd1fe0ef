"""Every metric of a plan, defined once: the key figures of each place, neighbourhood, PCN, practice, LSOA and hub,
and the changes against the baseline (formulas in ``docs/metrics.md``).

Single-run outputs, maps, comparisons and reports all read their figures from here. Each function takes a
:class:`~footprint.plan.Plan` and returns a DataFrame sorted by its key. Formulas are in the docstrings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.dataset import Dataset, dominant_pcns
from footprint.instance import pcn_home_places
from footprint.plan import Plan
from footprint.problem import homes_needed

F = TypeVar("F", bound=Callable[..., Any])


def _cached(function: F) -> F:
    """Compute a plan's metric once (stored in ``plan.metrics_cache``) and hand out copies."""

    @functools.wraps(function)
    def wrapper(plan: Plan) -> Any:
        cache = plan.metrics_cache
        if function.__name__ not in cache:
            cache[function.__name__] = function(plan)
        value = cache[function.__name__]
        return tuple(v.copy() for v in value) if isinstance(value, tuple) else value.copy()

    return wrapper  # type: ignore[return-value]


@_cached
def summarise_neighbourhoods(plan: Plan) -> pd.DataFrame:
    """Key figures per neighbourhood.

    Columns: neighbourhood_id, neighbourhood_name, place_code, place_name, hub_id, hub_name, centre_kind,
    hub_lsoa, lsoas (count), population (residents), registered (registered patients resident in it, from the
    registrations file), measure (the bounded figure), within_bounds (pop.min <= measure <= pop.max), demand
    (sum of the demand score), mean_distance_km (population-weighted mean distance from each LSOA's
    representative point to the hub), max_distance_km, share_within_km (share of residents within
    ``access.within_km`` of the hub), deprived_share (share of residents in LSOAs of national IMD deciles 1-2),
    children (0-15), working_age (16-64), older (65+), self_containment (share of its registered residents
    registered with a practice sited inside it), groups_split (keep-together groups it shares with another
    neighbourhood), pcn_shares (PCNs holding >= 5% of its registered residents, largest first).
    """
    if plan.neighbourhoods.empty:
        return pd.DataFrame()
    scenario = plan.dataset.scenario
    frame = _lsoa_frame(plan)
    hoods = plan.neighbourhoods.set_index(C.NEIGHBOURHOOD)
    frame["near"] = (frame["distance_km"] <= scenario.access.within_km) * frame[C.POPULATION]
    frame["pop_distance"] = frame["distance_km"] * frame[C.POPULATION]
    frame["deprived"] = frame[C.IMD_DECILE].le(2) * frame[C.POPULATION]
    grouped = frame.groupby(C.NEIGHBOURHOOD, sort=True)
    residents = grouped[C.POPULATION].sum()
    figures = pd.DataFrame(
        {
            "lsoas": grouped.size(),
            "population": residents.astype("int64"),
            "registered": grouped["registered"].sum().round().astype("int64"),
            "demand": grouped[C.DEMAND].sum(min_count=1),
            "mean_distance_km": grouped["pop_distance"].sum() / residents.clip(lower=1),
            "max_distance_km": grouped["distance_km"].max(),
            "share_within_km": grouped["near"].sum() / residents.clip(lower=1),
            "deprived_share": (grouped["deprived"].sum() / residents.clip(lower=1)).where(
                grouped[C.IMD_DECILE].count() > 0
            ),
            "children": grouped[C.POP_0_15].sum(min_count=1),
            "older": grouped[C.POP_65_PLUS].sum(min_count=1),
        }
    )
    figures["working_age"] = figures["population"] - figures["children"] - figures["older"]
    measure = figures["population"] if scenario.pop.measure == "residents" else figures["registered"]
    figures["measure"] = measure
    figures["within_bounds"] = (measure >= scenario.pop.min) & (measure <= scenario.pop.max)
    figures["self_containment"] = _self_containment(plan)
    figures["groups_split"] = _groups_split(frame) if C.GROUP_CODE in frame else np.nan
    figures["pcn_shares"] = _pcn_shares(plan)
    out = hoods.drop(columns=["hub_x", "hub_y"]).join(figures).reset_index()
    ordered = [
        C.NEIGHBOURHOOD,
        "neighbourhood_name",
        C.PLACE_CODE,
        C.PLACE_NAME,
        C.HUB_ID,
        C.HUB_NAME,
        "centre_kind",
        "hub_lsoa",
        "lsoas",
        "population",
        "registered",
        "measure",
        "within_bounds",
        "demand",
        "mean_distance_km",
        "max_distance_km",
        "share_within_km",
        "deprived_share",
        "children",
        "working_age",
        "older",
        "self_containment",
        "groups_split",
        "pcn_shares",
    ]
    return out[ordered].sort_values(C.NEIGHBOURHOOD).reset_index(drop=True)


def _lsoa_frame(plan: Plan) -> pd.DataFrame:
    """The plan's LSOAs with their unit figures and ``distance_km``: straight line from the LSOA's
    representative point to its neighbourhood's hub (EPSG:27700 metres / 1000)."""
    units = plan.dataset.units.set_index(C.LSOA_CODE)
    columns = [C.POPULATION, "registered", C.DEMAND, C.X, C.Y, C.IMD_DECILE, C.POP_0_15, C.POP_65_PLUS]
    if C.GROUP_CODE in units:
        columns.append(C.GROUP_CODE)
    frame = plan.assignment.join(units[columns], on=C.LSOA_CODE)
    if plan.neighbourhoods.empty:
        return frame.assign(distance_km=pd.Series(dtype="float64"))
    hoods = plan.neighbourhoods.set_index(C.NEIGHBOURHOOD)
    hub_x = frame[C.NEIGHBOURHOOD].map(hoods["hub_x"])
    hub_y = frame[C.NEIGHBOURHOOD].map(hoods["hub_y"])
    frame["distance_km"] = np.hypot(frame[C.X] - hub_x, frame[C.Y] - hub_y) / 1000.0
    return frame


def _self_containment(plan: Plan) -> pd.Series:
    """Share of each neighbourhood's registered residents whose practice is sited in the same neighbourhood."""
    frame = _registrations_with_neighbourhood(plan).dropna(subset=[C.NEIGHBOURHOOD])
    practices = plan.dataset.practices
    if frame.empty or practices.empty:
        return pd.Series(dtype="float64")
    site = practices.set_index(C.PRACTICE_CODE)[C.LSOA_CODE].map(
        plan.assignment.set_index(C.LSOA_CODE)[C.NEIGHBOURHOOD]
    )
    frame = frame.assign(site=frame[C.PRACTICE_CODE].map(site))
    inside = frame[frame["site"] == frame[C.NEIGHBOURHOOD]].groupby(C.NEIGHBOURHOOD)[C.PATIENTS].sum()
    total = frame.groupby(C.NEIGHBOURHOOD)[C.PATIENTS].sum()
    return (inside.reindex(total.index).fillna(0) / total).rename("self_containment")


def _groups_split(frame: pd.DataFrame) -> pd.Series:
    """Keep-together groups present in each neighbourhood that also have LSOAs in another neighbourhood."""
    pieces = frame.dropna(subset=[C.GROUP_CODE]).groupby(C.GROUP_CODE)[C.NEIGHBOURHOOD].nunique()
    split = set(pieces[pieces > 1].index)
    present = (
        frame.dropna(subset=[C.GROUP_CODE])
        .groupby(C.NEIGHBOURHOOD)[C.GROUP_CODE]
        .agg(lambda g: len(set(g) & split))
    )
    return present.astype("int64")


def _pcn_shares(plan: Plan) -> pd.Series:
    """PCNs holding >= 5% of each neighbourhood's registered residents, as ``code share%``, largest first."""
    mix = neighbourhood_pcn_mix(plan).dropna(subset=[C.PCN_CODE])
    listed = mix[mix["share"] >= LISTED_SHARE]
    if listed.empty:
        return pd.Series(dtype="object")
    return listed.groupby(C.NEIGHBOURHOOD).apply(
        lambda g: "; ".join(f"{p} {s:.0%}" for p, s in zip(g[C.PCN_CODE], g["share"], strict=True)),
        include_groups=False,
    )


@_cached
def neighbourhood_pcn_mix(plan: Plan) -> pd.DataFrame:
    """Which PCNs each neighbourhood's registered residents belong to.

    Columns: neighbourhood_id, pcn_code (<NA> for practices in no active PCN), patients, share (patients /
    the neighbourhood's ``registered``). Sorted by neighbourhood, then share (largest first), then PCN. The
    shares of each neighbourhood sum to 1.
    """
    frame = _registrations_with_neighbourhood(plan).dropna(subset=[C.NEIGHBOURHOOD])
    counts = frame.groupby([C.NEIGHBOURHOOD, C.PCN_CODE], as_index=False, dropna=False)[C.PATIENTS].sum()
    counts["share"] = counts[C.PATIENTS] / counts.groupby(C.NEIGHBOURHOOD)[C.PATIENTS].transform("sum")
    counts = counts.sort_values(
        [C.NEIGHBOURHOOD, "share", C.PCN_CODE],
        ascending=[True, False, True],
        kind="stable",
        na_position="last",
    )
    return counts[[C.NEIGHBOURHOOD, C.PCN_CODE, C.PATIENTS, "share"]].reset_index(drop=True)


@_cached
def pcn_distribution(plan: Plan) -> pd.DataFrame:
    """Where each PCN's registered patients live.

    Columns: pcn_code, neighbourhood_id (<NA> for patients living in LSOAs of the area outside the plan, e.g.
    places not planned in this run), patients, share (patients / the PCN's patients resident anywhere in the
    area). Sorted by PCN, then patients (largest first), then neighbourhood. The shares of each PCN sum to 1;
    the first row with a neighbourhood is the PCN's home (:func:`summarise_pcns`).
    """
    frame = _registrations_with_neighbourhood(plan).dropna(subset=[C.PCN_CODE])
    counts = frame.groupby([C.PCN_CODE, C.NEIGHBOURHOOD], as_index=False, dropna=False)[C.PATIENTS].sum()
    counts["share"] = counts[C.PATIENTS] / counts.groupby(C.PCN_CODE)[C.PATIENTS].transform("sum")
    counts = counts.sort_values(
        [C.PCN_CODE, C.PATIENTS, C.NEIGHBOURHOOD],
        ascending=[True, False, True],
        kind="stable",
        na_position="last",
    )
    return counts[[C.PCN_CODE, C.NEIGHBOURHOOD, C.PATIENTS, "share"]].reset_index(drop=True)


#: Neighbourhoods holding at least this share of a PCN's patients are listed against it.
LISTED_SHARE = 0.05
#: The three routes a PCN can take against the proposed footprints (``route`` in realignment_pcns.csv).
ROUTES = ("coterminous", "realign", "work-across")


def _registrations_with_neighbourhood(plan: Plan) -> pd.DataFrame:
    """Registrations of the area with the neighbourhood and place of the LSOA each patient lives in."""
    registrations = plan.dataset.registrations
    where = plan.assignment.set_index(C.LSOA_CODE)
    place_of = plan.dataset.units.set_index(C.LSOA_CODE)[C.PLACE_CODE]
    return registrations.assign(
        **{
            C.NEIGHBOURHOOD: registrations[C.LSOA_CODE].map(where[C.NEIGHBOURHOOD]),
            C.PLACE_CODE: registrations[C.LSOA_CODE].map(place_of),
        }
    )


def _shares(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Patients per (key, neighbourhood), with each row's share of the key's total, largest first."""
    counts = frame.groupby([key, C.NEIGHBOURHOOD], as_index=False, dropna=False)[C.PATIENTS].sum()
    counts["share"] = counts[C.PATIENTS] / counts.groupby(key)[C.PATIENTS].transform("sum")
    return counts.sort_values(
        [key, C.PATIENTS, C.NEIGHBOURHOOD], ascending=[True, False, True], kind="stable"
    )


def _listed_pcns(plan: Plan) -> pd.DataFrame:
    """Member practices of the PCNs belonging to the planned places (see :func:`summarise_pcns`)."""
    practices = plan.dataset.practices.dropna(subset=[C.PCN_CODE])
    planned = set(plan.assignment[C.PLACE_CODE])
    homes = pcn_home_places(plan.dataset)
    sited = set(practices.loc[practices[C.PLACE_CODE].isin(planned), C.PCN_CODE])
    return practices[
        practices[C.PCN_CODE].map(homes).isin(planned)
        | (~practices[C.PCN_CODE].isin(homes.index) & practices[C.PCN_CODE].isin(sited))
    ]


@_cached
def pcn_homes(plan: Plan) -> pd.DataFrame:
    """Each listed PCN's home footprint: the whole neighbourhoods its size calls for, holding most of its patients.

    A PCN's size is its members' list sizes (its registered patients in the area where none is given); it needs
    :func:`homes_needed` neighbourhoods (two for a PCN twice the upper bound). Its home neighbourhoods are that
    many of those holding most of its patients (ties: lowest id). Columns: pcn_code, neighbourhood_id, rank
    (1 = the main home), patients, share. One row per PCN and home neighbourhood.
    """
    members = _listed_pcns(plan)
    if members.empty:
        return pd.DataFrame(columns=[C.PCN_CODE, C.NEIGHBOURHOOD, "rank", C.PATIENTS, "share"])
    pop_max = float(plan.dataset.scenario.pop.max)
    shares = pcn_distribution(plan).dropna(subset=[C.NEIGHBOURHOOD])
    registered = (
        _registrations_with_neighbourhood(plan)
        .dropna(subset=[C.PCN_CODE])
        .groupby(C.PCN_CODE)[C.PATIENTS]
        .sum()
    )
    rows = []
    by_pcn = {pcn: group for pcn, group in shares.groupby(C.PCN_CODE, sort=False)}
    for pcn, group in members.groupby(C.PCN_CODE, sort=True):
        size = group[C.LIST_SIZE].sum(min_count=1)
        size = float(registered.get(pcn, 0.0)) if pd.isna(size) else float(size)
        mine = by_pcn.get(pcn)
        if mine is None:
            continue
        for rank, row in enumerate(mine.head(homes_needed(size, pop_max)).itertuples(index=False), start=1):
            rows.append(
                {
                    C.PCN_CODE: pcn,
                    C.NEIGHBOURHOOD: getattr(row, C.NEIGHBOURHOOD),
                    "rank": rank,
                    C.PATIENTS: float(getattr(row, C.PATIENTS)),
                    "share": float(row.share),
                }
            )
    return pd.DataFrame(rows, columns=[C.PCN_CODE, C.NEIGHBOURHOOD, "rank", C.PATIENTS, "share"])


def _practice_patients(plan: Plan) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Per practice: its main patients' neighbourhood and share; patients per (practice, neighbourhood); total."""
    frame = _registrations_with_neighbourhood(plan).dropna(subset=[C.NEIGHBOURHOOD])
    main = _shares(frame, C.PRACTICE_CODE).drop_duplicates(C.PRACTICE_CODE).set_index(C.PRACTICE_CODE)
    patients = frame.groupby([C.PRACTICE_CODE, C.NEIGHBOURHOOD])[C.PATIENTS].sum()
    registered = frame.groupby(C.PRACTICE_CODE)[C.PATIENTS].sum()
    return main, patients, registered


@_cached
def summarise_pcns(plan: Plan) -> pd.DataFrame:
    """Per PCN of the planned places: how well it fits the proposed neighbourhoods, and its route.

    A PCN belongs to the planned places when its home place (where most of its registered patients live,
    :func:`footprint.instance.pcn_home_places`) is planned, or, with no registered patients at all, when one of
    its practices is sited there.

    Columns: pcn_code, pcn_name, practices (member codes, ``;``-separated), list_size (sum of members' list
    sizes), registered (its registered patients resident in the area), homes_needed (whole neighbourhoods its
    size calls for, :func:`homes_needed`), home_neighbourhood (the main home: holding most of its patients),
    home_neighbourhoods (all its homes, :func:`pcn_homes`), home_place, coterminosity (patients living in its
    home neighbourhoods / registered), neighbourhoods (every neighbourhood holding >= 5% of its patients, as
    ``id share%``), outside_home_place (share living in another place than the main home's), route (exactly one
    of :data:`ROUTES`), route_practices, route_patients, route_detail (below), size_band (list size against the
    scenario's population bounds: ``below``, ``within``, ``above``).

    Route: ``coterminous`` when coterminosity >= ``alignment.coterminous_share`` (route_patients: its patients
    living outside its homes, served across the boundary as today); else ``realign`` when some member
    practices' patients mostly live outside the PCN's homes (route_practices: those practices, each to join the
    PCN grouping of the neighbourhood where its patients live; route_patients: their registered patients);
    else ``work-across`` (route_patients: its patients living outside its homes, route_detail: the
    neighbourhoods they live in with their shares, for a local arrangement across the boundary).
    """
    practices = _listed_pcns(plan)
    if practices.empty:
        return pd.DataFrame()
    scenario = plan.dataset.scenario
    threshold = scenario.alignment.coterminous_share
    frame = _registrations_with_neighbourhood(plan).dropna(subset=[C.PCN_CODE])
    shares = pcn_distribution(plan).dropna(subset=[C.NEIGHBOURHOOD])
    homes = pcn_homes(plan)
    home_sets = {pcn: group for pcn, group in homes.groupby(C.PCN_CODE, sort=False)}
    totals = frame.groupby(C.PCN_CODE)[C.PATIENTS].sum()
    hood_place = plan.assignment.drop_duplicates(C.NEIGHBOURHOOD).set_index(C.NEIGHBOURHOOD)[C.PLACE_CODE]
    per_place = frame.groupby([C.PCN_CODE, C.PLACE_CODE])[C.PATIENTS].sum()
    by_pcn = {pcn: group for pcn, group in shares.groupby(C.PCN_CODE, sort=False)}
    main_of, _, registered_of = _practice_patients(plan)
    names = _hood_names(plan)
    rows = []
    for pcn, members in practices.groupby(C.PCN_CODE, sort=True):
        mine = by_pcn.get(pcn, shares.iloc[0:0])
        home_rows = home_sets.get(pcn, homes.iloc[0:0])
        home_ids = list(home_rows[C.NEIGHBOURHOOD])
        registered = float(totals.get(pcn, 0.0))
        home = home_ids[0] if home_ids else None
        in_home = float(home_rows[C.PATIENTS].sum())
        home_place = hood_place.get(home) if home else None
        in_place = float(per_place.get((pcn, home_place), 0.0))
        coterminosity = in_home / registered if registered else np.nan
        outside_place = 1 - in_place / registered if registered else np.nan
        listed = mine[mine["share"] >= LISTED_SHARE]
        list_size = members[C.LIST_SIZE].sum(min_count=1)
        size = float(list_size) if pd.notna(list_size) else registered
        away = mine[~mine[C.NEIGHBOURHOOD].isin(home_ids)]
        moving = sorted(
            code
            for code in members[C.PRACTICE_CODE]
            if code in main_of.index and main_of.at[code, C.NEIGHBOURHOOD] not in home_ids
        )
        if not registered:
            route, route_practices, route_patients = "work-across", [], 0.0
            detail = (
                "none of its patients is in the registrations file: agree its arrangements with the place"
            )
        elif coterminosity >= threshold:
            route, route_practices, route_patients = "coterminous", [], registered - in_home
            detail = (
                f"{coterminosity:.0%} of its patients live in "
                + _hood_list(home_ids, names)
                + " (at least "
                + f"{threshold:.0%}): keep it as it is"
            )
        elif moving:
            route, route_practices = "realign", moving
            route_patients = float(sum(registered_of.get(code, 0.0) for code in moving))
            detail = "; ".join(
                f"{code} ({registered_of.get(code, 0.0):,.0f} patients, {main_of.at[code, 'share']:.0%} in "
                f"{_hood_list([main_of.at[code, C.NEIGHBOURHOOD]], names)}) joins that neighbourhood's PCN grouping"
                for code in moving
            )
        else:
            route, route_practices, route_patients = "work-across", [], registered - in_home
            spread = away[away["share"] >= LISTED_SHARE]
            detail = (
                f"{coterminosity:.0%} of its patients live in {_hood_list(home_ids, names)}; it also serves "
                + (
                    ", ".join(
                        f"{_hood_list([hood], names)} {share:.0%}"
                        for hood, share in zip(spread[C.NEIGHBOURHOOD], spread["share"], strict=True)
                    )
                    or "many neighbourhoods, none with 5% of its patients"
                )
                + ": agree an arrangement to work across the boundary"
            )
        band = (
            None
            if pd.isna(list_size)
            else "below"
            if list_size < scenario.pop.min
            else "above"
            if list_size > scenario.pop.max
            else "within"
        )
        rows.append(
            {
                C.PCN_CODE: pcn,
                C.PCN_NAME: members[C.PCN_NAME].iloc[0],
                "practices": ";".join(sorted(members[C.PRACTICE_CODE])),
                C.LIST_SIZE: list_size,
                "registered": round(registered),
                "homes_needed": homes_needed(size, float(scenario.pop.max)),
                "home_neighbourhood": home,
                "home_neighbourhoods": ";".join(home_ids),
                "home_place": home_place,
                "coterminosity": coterminosity,
                "neighbourhoods": "; ".join(
                    f"{n} {s:.0%}" for n, s in zip(listed[C.NEIGHBOURHOOD], listed["share"], strict=True)
                ),
                "outside_home_place": outside_place,
                "route": route,
                "route_practices": ";".join(route_practices),
                "route_patients": round(route_patients),
                "route_detail": detail,
                "size_band": band,
            }
        )
    return pd.DataFrame(rows)


def _hood_names(plan: Plan) -> dict[str, str]:
    hoods = plan.neighbourhoods
    if hoods.empty or "neighbourhood_name" not in hoods:
        return {}
    return dict(zip(hoods[C.NEIGHBOURHOOD], hoods["neighbourhood_name"], strict=True))


def _hood_list(hood_ids: list[str], names: dict[str, str]) -> str:
    """'Hendon Central (E09000003-10) and Colindale (E09000003-09)': names a planner reads, ids to find them."""
    parts = [f"{names[h]} ({h})" if h in names else str(h) for h in hood_ids]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@_cached
def summarise_practices(plan: Plan) -> pd.DataFrame:
    """Per practice sited in a planned place or in a PCN of :func:`summarise_pcns`: where it sits, where its
    patients live, and whether its PCN fits.

    Columns: practice_code, practice_name, pcn_code, site_neighbourhood (neighbourhood of the LSOA the practice
    stands in), patients_neighbourhood (where most of its registered patients live), share_in_patients_neighbourhood,
    pcn_home (its PCN's main home neighbourhood, see :func:`summarise_pcns`), registered, realign (True when its
    patients mostly live outside every home neighbourhood of its PCN), patients_involved (its patients living
    outside its PCN's homes), suggested_action (join the PCN grouping of the neighbourhood where its patients live:
    the PCN homed there with most patients living there, with both PCNs' list sizes, or their registered patients
    when no list sizes are given, before -> after; or, where no PCN is homed there, a grouping formed for that
    neighbourhood).
    """
    pcns = summarise_pcns(plan)
    practices = plan.dataset.practices
    planned = set(plan.assignment[C.PLACE_CODE])
    listed = set(pcns[C.PCN_CODE]) if len(pcns) else set()
    practices = practices[practices[C.PLACE_CODE].isin(planned) | practices[C.PCN_CODE].isin(listed)]
    if practices.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in PRACTICE_COLUMNS}).astype(
            {"realign": "bool"}
        )
    home_of = pcns.set_index(C.PCN_CODE)["home_neighbourhood"] if len(pcns) else pd.Series(dtype="object")
    route_of = pcns.set_index(C.PCN_CODE)["route"] if len(pcns) else pd.Series(dtype="object")
    homes = pcn_homes(plan)
    home_sets = {pcn: set(group[C.NEIGHBOURHOOD]) for pcn, group in homes.groupby(C.PCN_CODE)}
    # a PCN's size: its members' list sizes, or its registered patients in the area when no list sizes are given
    list_of = (
        pcns.set_index(C.PCN_CODE)[C.LIST_SIZE].fillna(pcns.set_index(C.PCN_CODE)["registered"])
        if len(pcns)
        else pd.Series(dtype="float64")
    )
    where = plan.assignment.set_index(C.LSOA_CODE)[C.NEIGHBOURHOOD]
    shares, patients, registered_of = _practice_patients(plan)
    # the PCN grouping of each neighbourhood: among PCNs with a home there, the one with most patients living there
    homed = homes.sort_values([C.NEIGHBOURHOOD, C.PATIENTS, C.PCN_CODE], ascending=[True, False, True])
    pcn_for_hood = (
        homed.drop_duplicates(C.NEIGHBOURHOOD).set_index(C.NEIGHBOURHOOD)[C.PCN_CODE]
        if len(homed)
        else pd.Series(dtype="object")
    )
    names = _hood_names(plan)
    rows = []
    for practice in practices.itertuples(index=False):
        code = getattr(practice, C.PRACTICE_CODE)
        pcn = getattr(practice, C.PCN_CODE)
        site = where.get(getattr(practice, C.LSOA_CODE)) if pd.notna(getattr(practice, C.LSOA_CODE)) else None
        main = shares.loc[code] if code in shares.index else None
        patients_hood = main[C.NEIGHBOURHOOD] if main is not None else None
        home = home_of.get(pcn) if pd.notna(pcn) else None
        home_set = home_sets.get(pcn, set()) if pd.notna(pcn) else set()
        registered = float(registered_of.get(code, 0.0))
        in_home = float(sum(patients.get((code, hood), 0.0) for hood in home_set))
        # the PCN's route decides: only a PCN that realigns moves the practices whose patients live elsewhere
        realign = bool(
            patients_hood is not None
            and home_set
            and patients_hood not in home_set
            and route_of.get(pcn) == "realign"
        )
        action = ""
        if realign:
            target = pcn_for_hood.get(patients_hood)
            size = (
                float(getattr(practice, C.LIST_SIZE))
                if pd.notna(getattr(practice, C.LIST_SIZE))
                else registered
            )
            where_to = _hood_list([patients_hood], names)
            if target is not None and target != pcn:
                before_from, before_to = list_of.get(pcn, np.nan), list_of.get(target, np.nan)
                action = (
                    f"join {target}, the PCN grouping of {where_to}: {pcn} {before_from:,.0f} -> "
                    f"{before_from - size:,.0f}, {target} {before_to:,.0f} -> {before_to + size:,.0f}"
                )
            else:
                action = (
                    f"join the PCN grouping formed for {where_to} (no PCN has its home there yet): "
                    f"{pcn} {list_of.get(pcn, np.nan):,.0f} -> {list_of.get(pcn, np.nan) - size:,.0f}"
                )
        elif pd.isna(pcn):
            action = (
                f"not in an active PCN: join the PCN grouping of {_hood_list([patients_hood], names)}"
                if patients_hood
                else "not in an active PCN"
            )
        rows.append(
            {
                C.PRACTICE_CODE: code,
                C.PRACTICE_NAME: getattr(practice, C.PRACTICE_NAME),
                C.PCN_CODE: pcn,
                "site_neighbourhood": site,
                "patients_neighbourhood": patients_hood,
                "share_in_patients_neighbourhood": float(main["share"]) if main is not None else np.nan,
                "pcn_home": home,
                "registered": round(registered),
                "realign": realign,
                "patients_involved": round(registered - in_home) if home_set else round(registered),
                "suggested_action": action,
            }
        )
    return (
        pd.DataFrame(rows, columns=list(PRACTICE_COLUMNS)).sort_values(C.PRACTICE_CODE).reset_index(drop=True)
    )


#: Columns of :func:`summarise_practices`.
PRACTICE_COLUMNS = (
    C.PRACTICE_CODE,
    C.PRACTICE_NAME,
    C.PCN_CODE,
    "site_neighbourhood",
    "patients_neighbourhood",
    "share_in_patients_neighbourhood",
    "pcn_home",
    "registered",
    "realign",
    "patients_involved",
    "suggested_action",
)


#: Per-LSOA columns of :func:`summarise_changes` (``changes.csv`` adds its neighbourhood's ``change``).
CHANGE_LSOA_COLUMNS = (C.LSOA_CODE, "baseline", C.NEIGHBOURHOOD, C.POPULATION, "change_status", "moved")
#: Per-neighbourhood columns of :func:`summarise_changes` (``changes_neighbourhoods.csv``).
CHANGE_NEIGHBOURHOOD_COLUMNS = (
    C.NEIGHBOURHOOD,
    C.PLACE_CODE,
    "change",
    "baseline_units",
    "clipped_units",
    "lsoas_moved",
    "residents_moved",
    "lsoas_new",
    "residents_new",
)


def baseline_source(dataset: Dataset) -> str:
    """Where the baseline map comes from: ``file`` (``inputs.baseline``), ``pcns`` (each LSOA's dominant PCN) or
    ``none`` (neither gives any LSOA a baseline unit: there are no change figures at all)."""
    if not dataset.units["baseline"].notna().any():
        return "none"
    return "file" if dataset.scenario.inputs.baseline is not None else "pcns"


@_cached
def summarise_changes(plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Changes against the baseline map (``inputs.baseline``, else each LSOA's dominant PCN).

    Every plan nests in places, so each baseline unit is compared *clipped* to a place: the unit's LSOAs inside
    that place. The clipped unit's *keeper* is the proposed neighbourhood holding most of its residents (ties: the
    lowest id).

    Returns two tables, both empty (with their columns) when there is no baseline (:func:`baseline_source`).
    Per LSOA (:data:`CHANGE_LSOA_COLUMNS`): change_status ``kept`` (in its clipped unit's keeper), ``moved``
    (elsewhere) or ``new`` (no baseline unit: not in the baseline file, or no PCN-registered residents), and moved
    (change_status is ``moved``). Per neighbourhood N (:data:`CHANGE_NEIGHBOURHOOD_COLUMNS`), on its LSOAs with a
    baseline unit: change ``U`` (exactly one whole clipped unit), ``S`` (a proper part of one clipped unit), ``M``
    (two or more clipped units and none of its LSOAs moved: each whole, or its largest part), ``X`` (two or more
    clipped units and some LSOA moved), ``N`` (no LSOA has a baseline unit); so a neighbourhood with no LSOA moved is
    never ``X``. baseline_units (the units it draws on, ``;``-separated), clipped_units (those cut by a place
    boundary, as ``unit inside/all`` LSOAs), lsoas_moved, residents_moved, lsoas_new, residents_new.
    """
    lsoa_columns, hood_columns = list(CHANGE_LSOA_COLUMNS), list(CHANGE_NEIGHBOURHOOD_COLUMNS)
    if baseline_source(plan.dataset) == "none" or plan.assignment.empty:
        return (
            pd.DataFrame({name: pd.Series(dtype="object") for name in lsoa_columns}),
            pd.DataFrame({name: pd.Series(dtype="object") for name in hood_columns}),
        )
    units = plan.dataset.units.set_index(C.LSOA_CODE)
    lsoas = plan.assignment[[C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE]].copy()
    lsoas["baseline"] = lsoas[C.LSOA_CODE].map(units["baseline"])
    lsoas[C.POPULATION] = lsoas[C.LSOA_CODE].map(units[C.POPULATION]).astype("int64")
    known = lsoas.dropna(subset=["baseline"])
    clipped = ["baseline", C.PLACE_CODE]
    weight = known.groupby([*clipped, C.NEIGHBOURHOOD], as_index=False)[C.POPULATION].sum()
    weight = weight.sort_values(
        [*clipped, C.POPULATION, C.NEIGHBOURHOOD], ascending=[True, True, False, True], kind="stable"
    )
    keepers = weight.drop_duplicates(clipped)[[*clipped, C.NEIGHBOURHOOD]].rename(
        columns={C.NEIGHBOURHOOD: "keeper"}
    )
    keeper = lsoas.merge(keepers, on=clipped, how="left")["keeper"].to_numpy()
    kept = keeper == lsoas[C.NEIGHBOURHOOD].to_numpy()
    lsoas["change_status"] = np.where(lsoas["baseline"].isna(), "new", np.where(kept, "kept", "moved"))
    lsoas["moved"] = lsoas["change_status"] == "moved"
    members = {key: set(group[C.LSOA_CODE]) for key, group in known.groupby(clipped)}
    unit_sizes = plan.dataset.units.groupby("baseline").size()
    rows = []
    for hood, group in lsoas.groupby(C.NEIGHBOURHOOD, sort=True):
        place = group[C.PLACE_CODE].iloc[0]
        mine = set(group.loc[group["baseline"].notna(), C.LSOA_CODE])
        labels = sorted(set(group["baseline"].dropna()))
        if not labels:
            code = "N"
        elif len(labels) == 1:
            code = "U" if members[(labels[0], place)] == mine else "S"
        else:
            code = "X" if group["moved"].any() else "M"
        new = group["change_status"] == "new"
        rows.append(
            {
                C.NEIGHBOURHOOD: hood,
                C.PLACE_CODE: place,
                "change": code,
                "baseline_units": ";".join(labels),
                "clipped_units": ";".join(
                    f"{label} {len(members[(label, place)])}/{unit_sizes[label]}"
                    for label in labels
                    if len(members[(label, place)]) < unit_sizes[label]
                ),
                "lsoas_moved": int(group["moved"].sum()),
                "residents_moved": int(group.loc[group["moved"], C.POPULATION].sum()),
                "lsoas_new": int(new.sum()),
                "residents_new": int(group.loc[new, C.POPULATION].sum()),
            }
        )
    per_lsoa = lsoas[lsoa_columns].sort_values(C.LSOA_CODE).reset_index(drop=True)
    return per_lsoa, pd.DataFrame(rows, columns=hood_columns)


@_cached
def summarise_lsoas(plan: Plan) -> pd.DataFrame:
    """Per LSOA of the plan: where it goes and the figures maps and the ``lsoas`` layer show.

    Columns: lsoa_code, lsoa_name, place_code, neighbourhood_id, population, registered, distance_km (to its
    neighbourhood's hub, as in :func:`summarise_neighbourhoods`), imd_decile, demand, dominant_pcn (the PCN with
    most registered residents there; ties: lowest code), dominant_pcn_name, dominant_pcn_share (its share of the
    LSOA's residents registered in any PCN), baseline, change_status, moved (as in :func:`summarise_changes`;
    empty without a baseline).
    """
    columns = [
        C.LSOA_CODE,
        C.LSOA_NAME,
        C.PLACE_CODE,
        C.NEIGHBOURHOOD,
        C.POPULATION,
        "registered",
        "distance_km",
        C.IMD_DECILE,
        C.DEMAND,
        "dominant_pcn",
        "dominant_pcn_name",
        "dominant_pcn_share",
        "baseline",
        "change_status",
        "moved",
    ]
    if plan.assignment.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    units = plan.dataset.units.set_index(C.LSOA_CODE)
    frame = _lsoa_frame(plan)
    frame[C.LSOA_NAME] = frame[C.LSOA_CODE].map(units[C.LSOA_NAME]) if C.LSOA_NAME in units else pd.NA
    frame["registered"] = frame["registered"].round().astype("int64")
    dominant = dominant_pcns(plan.dataset.registrations)
    frame["dominant_pcn"] = frame[C.LSOA_CODE].map(dominant[C.PCN_CODE])
    names = plan.dataset.practices.dropna(subset=[C.PCN_CODE]).drop_duplicates(C.PCN_CODE)
    frame["dominant_pcn_name"] = frame["dominant_pcn"].map(names.set_index(C.PCN_CODE)[C.PCN_NAME])
    frame["dominant_pcn_share"] = frame[C.LSOA_CODE].map(dominant["share"]).astype("float64")
    changes, _ = summarise_changes(plan)
    frame = frame.merge(
        changes[[C.LSOA_CODE, "baseline", "change_status", "moved"]], on=C.LSOA_CODE, how="left"
    )
    frame["moved"] = frame["moved"].astype("boolean")  # empty, not False, without a baseline
    return frame[columns].sort_values(C.LSOA_CODE).reset_index(drop=True)


@_cached
def summarise_hubs(plan: Plan) -> pd.DataFrame:
    """Per hub of the planned places: where it is and what it serves.

    With a hubs file, every candidate hub of the places with a plan; otherwise each neighbourhood's centre LSOA.
    Columns: hub_id, hub_name, place_code, lsoa_code (the LSOA it stands in), x, y (EPSG:27700), kind (``hub`` or
    ``lsoa centre``), required, capacity, used (it serves a neighbourhood), neighbourhood_id, population (residents
    of the neighbourhood it serves).
    """
    columns = [
        C.HUB_ID,
        C.HUB_NAME,
        C.PLACE_CODE,
        C.LSOA_CODE,
        C.X,
        C.Y,
        "kind",
        C.REQUIRED,
        C.CAPACITY,
        "used",
        C.NEIGHBOURHOOD,
        C.POPULATION,
    ]
    hoods = plan.neighbourhoods
    if hoods.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    population = summarise_neighbourhoods(plan).set_index(C.NEIGHBOURHOOD)["population"]
    served = hoods.assign(population=hoods[C.NEIGHBOURHOOD].map(population))
    hubs = plan.dataset.hubs
    if hubs is not None and (hoods["centre_kind"] == "hub").all():
        places = set(hoods[C.PLACE_CODE])
        frame = hubs[hubs[C.PLACE_CODE].isin(places)][
            [C.HUB_ID, C.HUB_NAME, C.PLACE_CODE, C.LSOA_CODE, C.X, C.Y, C.REQUIRED, C.CAPACITY]
        ].copy()
        frame = frame.merge(served[[C.HUB_ID, C.NEIGHBOURHOOD, "population"]], on=C.HUB_ID, how="left")
        frame["kind"] = "hub"
    else:
        frame = served.rename(columns={"hub_lsoa": C.LSOA_CODE, "hub_x": C.X, "hub_y": C.Y})
        frame[C.REQUIRED] = False
        frame[C.CAPACITY] = np.nan
        frame["kind"] = "lsoa centre"
    frame["used"] = frame[C.NEIGHBOURHOOD].notna()
    frame[C.REQUIRED] = frame[C.REQUIRED].fillna(False).astype(bool)
    frame["population"] = frame["population"].astype("Int64")
    return frame[columns].sort_values(C.HUB_ID).reset_index(drop=True)


@_cached
def summarise_places(plan: Plan) -> pd.DataFrame:
    """Headline figures per place with a plan, aggregated from the per-neighbourhood, PCN and practice figures.

    Columns: place_code, place_name, lsoas, population, registered, neighbourhoods, smallest and largest (the
    bounded measure of its smallest and largest neighbourhood), within_bounds (neighbourhoods within the bounds),
    mean_distance_km (population-weighted over the place), share_within_km, deprived_share, self_containment
    (patients resident in the place registered with a practice sited in their own neighbourhood / registered),
    pcns (PCNs whose home neighbourhood is in the place), pcns_coterminous, pcns_realign, pcns_work_across (of
    those, by route), median_coterminosity and weighted_coterminosity (of those: patients living in their
    PCN's home neighbourhoods / their registered patients), practices (sited in the place), practices_to_realign (of
    those, ``realign``), patients_involved (their ``patients_involved``), lsoas_moved, residents_moved, lsoas_new,
    residents_new (against the baseline, :func:`summarise_changes`), and the count of neighbourhoods by change
    code: unchanged (U), split (S), merged (M), complex (X), new (N). Without a baseline the change columns are
    empty (<NA>).
    """
    hoods = summarise_neighbourhoods(plan)
    if hoods.empty:
        return pd.DataFrame()
    hoods = hoods.assign(
        pop_distance=hoods["mean_distance_km"] * hoods["population"],
        near=hoods["share_within_km"] * hoods["population"],
        deprived=hoods["deprived_share"] * hoods["population"],
        contained=hoods["self_containment"] * hoods["registered"],
    )
    _, changes = summarise_changes(plan)
    hoods = hoods.merge(changes[[C.NEIGHBOURHOOD, "change", *CHANGE_COUNTS]], on=C.NEIGHBOURHOOD, how="left")
    grouped = hoods.groupby(C.PLACE_CODE, sort=True)
    residents = grouped["population"].sum()
    registered = grouped["registered"].sum()
    out = pd.DataFrame(
        {
            C.PLACE_NAME: grouped[C.PLACE_NAME].first(),
            "lsoas": grouped["lsoas"].sum(),
            "population": residents,
            "registered": registered,
            "neighbourhoods": grouped.size(),
            "smallest": grouped["measure"].min(),
            "largest": grouped["measure"].max(),
            "within_bounds": grouped["within_bounds"].sum().astype("int64"),
            "mean_distance_km": grouped["pop_distance"].sum() / residents.clip(lower=1),
            "share_within_km": grouped["near"].sum() / residents.clip(lower=1),
            "deprived_share": (grouped["deprived"].sum(min_count=1) / residents.clip(lower=1)),
            "self_containment": grouped["contained"].sum(min_count=1) / registered.where(registered > 0),
        }
    )
    pcns = summarise_pcns(plan)
    if len(pcns):
        homed = pcns.dropna(subset=["home_place"]).groupby("home_place")
        out["pcns"] = homed.size().reindex(out.index).fillna(0).astype("int64")
        for route in ROUTES:
            out[f"pcns_{route.replace('-', '_')}"] = (
                homed["route"]
                .agg(lambda s, route=route: int((s == route).sum()))
                .reindex(out.index)
                .fillna(0)
                .astype("int64")
            )
        out["median_coterminosity"] = homed["coterminosity"].median().reindex(out.index)
        counted = pcns.dropna(subset=["home_place", "coterminosity"])
        counted = counted[counted["registered"] > 0]
        weighted = (counted["coterminosity"] * counted["registered"]).groupby(counted["home_place"]).sum()
        out["weighted_coterminosity"] = (
            weighted / counted.groupby("home_place")["registered"].sum()
        ).reindex(out.index)
    else:
        out["pcns"], out["median_coterminosity"], out["weighted_coterminosity"] = 0, np.nan, np.nan
        for route in ROUTES:
            out[f"pcns_{route.replace('-', '_')}"] = 0
    practices = summarise_practices(plan)
    if len(practices):
        site_place = plan.dataset.practices.set_index(C.PRACTICE_CODE)[C.PLACE_CODE]
        practices = practices.assign(**{C.PLACE_CODE: practices[C.PRACTICE_CODE].map(site_place)})
        by_place = practices.dropna(subset=[C.PLACE_CODE]).groupby(C.PLACE_CODE)
        flagged = practices[practices["realign"]].dropna(subset=[C.PLACE_CODE]).groupby(C.PLACE_CODE)
        out["practices"] = by_place.size().reindex(out.index).fillna(0).astype("int64")
        out["practices_to_realign"] = flagged.size().reindex(out.index).fillna(0).astype("int64")
        out["patients_involved"] = (
            flagged["patients_involved"].sum().reindex(out.index).fillna(0).astype("int64")
        )
    else:
        out["practices"], out["practices_to_realign"], out["patients_involved"] = 0, 0, 0
    if len(changes):
        for name in CHANGE_COUNTS:
            out[name] = grouped[name].sum().astype("int64")
        for code, name in CHANGE_CODES.items():
            out[name] = grouped["change"].agg(lambda s, code=code: int((s == code).sum())).astype("int64")
    else:  # no baseline: no change figures at all
        for name in (*CHANGE_COUNTS, *CHANGE_CODES.values()):
            out[name] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    return out.reset_index()


#: Change codes of :func:`summarise_changes` and their names: the ONS-style U, S, M, X, and N for a neighbourhood
#: none of whose LSOAs has a baseline unit.
CHANGE_CODES = {"U": "unchanged", "S": "split", "M": "merged", "X": "complex", "N": "new"}
#: Per-neighbourhood counts of :func:`summarise_changes`, summed per place by :func:`summarise_places`.
CHANGE_COUNTS = ("lsoas_moved", "residents_moved", "lsoas_new", "residents_new")
# ---- headline figures of a whole run (compare, sweep) ----------------------------------------------------------

#: The headline figures of a run, in display order, with what each means (see :func:`summarise_headline`).
HEADLINE = {
    "status": "ok when every place has a verified plan, else incomplete",
    "places": "places in the run",
    "places_planned": "places with a verified plan",
    "neighbourhoods": "neighbourhoods proposed",
    "population_min": "smallest neighbourhood (residents)",
    "population_max": "largest neighbourhood (residents)",
    "mean_distance_km": "resident-weighted mean distance to the hub (km)",
    "share_within_km": "share of residents within access.within_km of their hub",
    "coterminosity_median": "median PCN coterminosity",
    "coterminosity_weighted": "patient-weighted PCN coterminosity",
    "pcns_coterminous": "PCNs whose home neighbourhoods hold alignment.coterminous_share of their patients",
    "pcns_realign": "PCNs realigning: member practices join the PCN grouping where their patients live",
    "pcns_work_across": "PCNs working across neighbourhood boundaries by local arrangement",
    "practices_to_realign": "practices whose patients mostly live outside their PCN's home",
    "patients_to_realign": "registered patients of those practices living outside their PCN's home",
    "baseline": "the baseline map: file (inputs.baseline), pcns (each LSOA's dominant PCN) or none",
    "lsoas_moved": "LSOAs moved against the baseline",
    "residents_moved": "residents of LSOAs moved against the baseline",
    "lsoas_new": "LSOAs with no baseline unit (not moved, counted apart)",
    "residents_new": "residents of LSOAs with no baseline unit",
    "objective": "objective value, summed over places",
    "term_access": "access term, summed over places",
    "term_pcn": "PCN alignment term, summed over places",
    "term_demand": "demand balance term, summed over places",
    "term_stability": "stability term, summed over places",
    "term_community": "keep-together term, summed over places",
    "gap": "largest optimality gap of any place",
}


def summarise_headline(
    neighbourhoods: pd.DataFrame,
    pcns: pd.DataFrame,
    practices: pd.DataFrame,
    changes: pd.DataFrame,
    places: list[dict],
    *,
    baseline: str | None = None,
) -> dict[str, object]:
    """The headline figures of a run, from its written tables (so written runs compare without re-solving).

    Parameters are the tables of ``neighbourhoods.csv``, ``realignment_pcns.csv``, ``realignment_practices.csv``
    and ``changes.csv`` (empty frames when a file is absent) and the per-place records of ``run.json``.
    Figures (``HEADLINE``): ``mean_distance_km`` = sum over neighbourhoods of population x mean distance / total
    population (the resident-weighted mean over all LSOAs); ``share_within_km`` likewise weighted;
    ``coterminosity_median`` the median over PCNs with patients in the area; ``coterminosity_weighted`` = sum of
    coterminosity x registered / sum of registered (patients living in their PCN's home neighbourhood over all
    PCN patients); ``pcns_coterminous``, ``pcns_realign``, ``pcns_work_across`` PCNs by route;
    ``practices_to_realign`` practices flagged ``realign`` and ``patients_to_realign`` their ``patients_involved``;
    ``baseline`` as recorded in run.json (``baseline``; else ``none`` when the run wrote no ``changes.csv``);
    ``lsoas_moved``, ``residents_moved``, ``lsoas_new`` and ``residents_new`` from ``changes.csv``
    (:func:`count_changes`); objective terms summed over the planned places; ``gap`` the largest of any place.
    Figures a run cannot give (no PCNs, no plan, no baseline) are None.
    """
    # an evaluated map that follows every rule (footprint evaluate) counts as planned; one with breaches does not
    planned = [p for p in places if p.get("status") in ("optimal", "feasible", "heuristic", "evaluated")]
    figures: dict[str, object] = dict.fromkeys(HEADLINE)
    figures["status"] = "ok" if len(planned) == len(places) and places else "incomplete"
    figures["places"] = len(places)
    figures["places_planned"] = len(planned)
    if len(neighbourhoods):
        population = neighbourhoods["population"].astype(float)
        total = float(population.sum())
        figures["neighbourhoods"] = len(neighbourhoods)
        figures["population_min"] = int(population.min())
        figures["population_max"] = int(population.max())
        if total > 0:
            figures["mean_distance_km"] = float(
                (population * neighbourhoods["mean_distance_km"]).sum() / total
            )
            figures["share_within_km"] = float((population * neighbourhoods["share_within_km"]).sum() / total)
    else:
        figures["neighbourhoods"] = 0
    if len(pcns):
        counted = pcns[pcns["registered"] > 0].dropna(subset=["coterminosity"])
        if len(counted):
            weights = counted["registered"].astype(float)
            figures["coterminosity_median"] = float(counted["coterminosity"].median())
            figures["coterminosity_weighted"] = float(
                (counted["coterminosity"] * weights).sum() / weights.sum()
            )
        if "route" in pcns:
            for route in ROUTES:
                figures[f"pcns_{route.replace('-', '_')}"] = int((pcns["route"] == route).sum())
    if len(practices):
        realign = practices["realign"].astype(str).str.lower() == "true"
        figures["practices_to_realign"] = int(realign.sum())
        figures["patients_to_realign"] = int(practices.loc[realign, "patients_involved"].sum())
    counts = count_changes(changes)
    figures["baseline"] = baseline or ("none" if counts is None else None)
    if counts is not None:
        figures.update(counts)
    if planned:
        figures["objective"] = _sum_known(p.get("objective") for p in planned)
        for term in ("access", "pcn", "demand", "stability", "community"):
            figures[f"term_{term}"] = _sum_known((p.get("terms") or {}).get(term) for p in planned)
        gaps = [p["gap"] for p in planned if p.get("gap") is not None]
        figures["gap"] = float(max(gaps)) if gaps else None
    return figures


def _sum_known(values) -> float | None:
    known = [float(v) for v in values if v is not None]
    return float(sum(known)) if known else None


def count_changes(changes: pd.DataFrame) -> dict[str, int] | None:
    """lsoas_moved, residents_moved, lsoas_new, residents_new from a ``changes.csv`` table; None without one (no
    baseline).

    Reads runs written before ``change_status`` existed too: there an LSOA with no baseline unit was marked
    ``moved``; it counts as new here, and a file with no baseline unit at all as no baseline.
    """
    if not len(changes) or "baseline" not in changes or not changes["baseline"].notna().any():
        return None
    if "change_status" in changes:
        status = changes["change_status"].astype(str)
    else:
        moved = changes["moved"].astype(str).str.lower() == "true"
        status = pd.Series(np.where(changes["baseline"].isna(), "new", np.where(moved, "moved", "kept")))
        status.index = changes.index
    population = pd.to_numeric(changes[C.POPULATION], errors="coerce").fillna(0)
    return {
        "lsoas_moved": int((status == "moved").sum()),
        "residents_moved": int(population[status == "moved"].sum()),
        "lsoas_new": int((status == "new").sum()),
        "residents_new": int(population[status == "new"].sum()),
    }
