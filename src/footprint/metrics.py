"""Every metric of a plan, defined once: the key figures of each neighbourhood and of each place.

Single-run outputs, comparisons and reports all read their figures from here. Each function takes a
:class:`~footprint.plan.Plan` and returns a DataFrame sorted by its key. Formulas are in the docstrings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.plan import Plan


def summarise_neighbourhoods(plan: Plan) -> pd.DataFrame:
    """Key figures per neighbourhood.

    Columns: neighbourhood_id, neighbourhood_name, place_code, place_name, hub_id, hub_name, centre_kind,
    hub_lsoa, lsoas (count), population (residents), registered (registered patients resident in it, from the
    registrations file), measure (the bounded figure), within_bounds (pop.min <= measure <= pop.max), demand
    (sum of the demand score), mean_distance_km (population-weighted mean distance from each LSOA's
    representative point to the hub), max_distance_km, share_within_km (share of residents within
    ``access.within_km`` of the hub).
    """
    if plan.neighbourhoods.empty:
        return pd.DataFrame()
    scenario = plan.dataset.scenario
    units = plan.dataset.units.set_index(C.LSOA_CODE)
    frame = plan.assignment.join(units[[C.POPULATION, "registered", C.DEMAND, C.X, C.Y]], on=C.LSOA_CODE)
    hoods = plan.neighbourhoods.set_index(C.NEIGHBOURHOOD)
    frame["hub_x"] = frame[C.NEIGHBOURHOOD].map(hoods["hub_x"])
    frame["hub_y"] = frame[C.NEIGHBOURHOOD].map(hoods["hub_y"])
    frame["distance_km"] = np.hypot(frame[C.X] - frame["hub_x"], frame[C.Y] - frame["hub_y"]) / 1000.0
    frame["near"] = (frame["distance_km"] <= scenario.access.within_km) * frame[C.POPULATION]
    frame["pop_distance"] = frame["distance_km"] * frame[C.POPULATION]
    grouped = frame.groupby(C.NEIGHBOURHOOD, sort=True)
    figures = pd.DataFrame(
        {
            "lsoas": grouped.size(),
            "population": grouped[C.POPULATION].sum().astype("int64"),
            "registered": grouped["registered"].sum().round().astype("int64"),
            "demand": grouped[C.DEMAND].sum(min_count=1),
            "mean_distance_km": grouped["pop_distance"].sum() / grouped[C.POPULATION].sum().clip(lower=1),
            "max_distance_km": grouped["distance_km"].max(),
            "share_within_km": grouped["near"].sum() / grouped[C.POPULATION].sum().clip(lower=1),
        }
    )
    measure = figures["population"] if scenario.pop.measure == "residents" else figures["registered"]
    figures["measure"] = measure
    figures["within_bounds"] = (measure >= scenario.pop.min) & (measure <= scenario.pop.max)
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
    ]
    return out[ordered].sort_values(C.NEIGHBOURHOOD).reset_index(drop=True)
