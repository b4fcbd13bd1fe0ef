"""A plan as geographic layers (EPSG:27700), shared by the GeoPackage writer and the maps.

Geometry comes back here, at the edge: each layer is a figures table from :mod:`footprint.metrics` joined to its
geometry, and nothing else is computed. Layers: ``neighbourhoods`` (the LSOAs of each neighbourhood dissolved,
with :func:`~footprint.metrics.summarise_neighbourhoods`), ``lsoas``
(:func:`~footprint.metrics.summarise_lsoas`), ``hubs`` (:func:`~footprint.metrics.summarise_hubs`, points),
``practices`` (:func:`~footprint.metrics.summarise_practices` with the site point and place; no geometry when a
practice has no location) and ``places`` (every place of the area, dissolved from its LSOAs, flagged ``planned``
when the plan covers it; used by the maps for outlines and context).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from footprint import columns as C
from footprint.metrics import summarise_hubs, summarise_lsoas, summarise_neighbourhoods, summarise_practices
from footprint.plan import Plan


@dataclass(frozen=True)
class Layers:
    """The geographic layers of one plan, each sorted by its key, all in EPSG:27700."""

    neighbourhoods: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    practices: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    #: an evaluated map's breaches (:func:`build_breach_layer`): ``kind`` bounds (a neighbourhood's outline) or
    #: lsoa (an LSOA cut off, left out, given twice or across a place boundary), ``message``; None for a plan
    breaches: gpd.GeoDataFrame | None = None


def build_layers(plan: Plan, figures: pd.DataFrame | None = None) -> Layers:
    """Every layer of ``plan``; ``figures`` are its :func:`summarise_neighbourhoods` when already computed."""
    figures = summarise_neighbourhoods(plan) if figures is None else figures
    geometry = plan.dataset.units.set_index(C.LSOA_CODE).geometry
    lsoas = summarise_lsoas(plan)
    lsoas = gpd.GeoDataFrame(lsoas, geometry=lsoas[C.LSOA_CODE].map(geometry).values, crs=C.CRS_WORKING)

    dissolved = lsoas[[C.NEIGHBOURHOOD, "geometry"]].dissolve(by=C.NEIGHBOURHOOD, sort=True)
    dissolved["geometry"] = dissolved.geometry.buffer(0)
    hoods = gpd.GeoDataFrame(
        figures.merge(dissolved.reset_index(), on=C.NEIGHBOURHOOD, how="left"),
        geometry="geometry",
        crs=C.CRS_WORKING,
    )

    hubs = summarise_hubs(plan)
    hubs = gpd.GeoDataFrame(hubs, geometry=gpd.points_from_xy(hubs[C.X], hubs[C.Y]), crs=C.CRS_WORKING)

    practices = summarise_practices(plan)
    sites = plan.dataset.practices.set_index(C.PRACTICE_CODE)
    practices = practices.assign(
        **{
            C.PLACE_CODE: practices[C.PRACTICE_CODE].map(sites[C.PLACE_CODE]).astype("object"),
            C.LIST_SIZE: practices[C.PRACTICE_CODE].map(sites[C.LIST_SIZE]),
            C.X: practices[C.PRACTICE_CODE].map(sites[C.X]).astype("float64"),
            C.Y: practices[C.PRACTICE_CODE].map(sites[C.Y]).astype("float64"),
        }
    )
    located = practices[C.X].notna() & practices[C.Y].notna()
    points = gpd.GeoSeries([None] * len(practices), index=practices.index, crs=C.CRS_WORKING)
    points[located] = gpd.points_from_xy(practices.loc[located, C.X], practices.loc[located, C.Y])
    practices = gpd.GeoDataFrame(practices, geometry=points, crs=C.CRS_WORKING)

    units = plan.dataset.units
    places = units[[C.PLACE_CODE, C.PLACE_NAME, "geometry"]].dissolve(
        by=C.PLACE_CODE, sort=True, aggfunc="first"
    )
    places["geometry"] = places.geometry.buffer(0)
    places = places.reset_index()
    places["planned"] = places[C.PLACE_CODE].isin(set(plan.assignment[C.PLACE_CODE]))
    return Layers(
        neighbourhoods=hoods.reset_index(drop=True),
        lsoas=lsoas.reset_index(drop=True),
        hubs=hubs.reset_index(drop=True),
        practices=practices.reset_index(drop=True),
        places=gpd.GeoDataFrame(places, geometry="geometry", crs=C.CRS_WORKING),
    )


def build_breach_layer(
    plan: Plan, breaches: list[dict], neighbourhoods: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The breaches of an evaluated map (run.json's ``breaches``) as shapes to mark on the maps: the outline of
    each neighbourhood outside the population bounds, and each LSOA a breach names."""
    outline = neighbourhoods.set_index(C.NEIGHBOURHOOD).geometry
    units = plan.dataset.units.set_index(C.LSOA_CODE).geometry
    rows = []
    for breach in breaches:
        hood = breach.get("neighbourhood") or ""
        if breach["rule"] == "population" and hood in outline.index:
            rows.append(
                {
                    "kind": "bounds",
                    "rule": "population",
                    "message": breach["message"],
                    "geometry": outline[hood],
                }
            )
        elif breach["rule"] != "unknown":
            rows += [
                {
                    "kind": "lsoa",
                    "rule": breach["rule"],
                    "message": breach["message"],
                    "geometry": units[code],
                }
                for code in breach.get("lsoas", [])
                if code in units.index
            ]
    frame = pd.DataFrame(rows, columns=["kind", "rule", "message", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=C.CRS_WORKING)
