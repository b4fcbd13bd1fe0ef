"""Neighbourhood names people recognise, from the names of the areas their residents live in.

A neighbourhood id (``E09000003-04``) is the stable key of every output; its *name* is what a planner reads. When
the scenario gives area names (``inputs.area_names``, e.g. the House of Commons Library MSOA names, joined to each
LSOA by its MSOA or LSOA code), a neighbourhood is named after the area holding most of its residents, and after
the two areas holding most when the second holds at least :data:`SECOND_AREA_SHARE` of them ("Finchley Central &
Church End"). Names are unique within a place: neighbourhoods that would share a name take their next areas in
turn, and as a last resort their ordinal ("Hendon (03)"). Without area names, or for a neighbourhood none of
whose LSOAs has one, the name is the place name and the ordinal ("Barnet 03").

Pure function of labels, populations and area names: no geometry, no I/O; the same inputs give the same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: Share of a neighbourhood's residents the second-largest area must hold to appear in its name.
SECOND_AREA_SHARE = 0.25


def ranked_areas(population: np.ndarray, area_names: Sequence[object]) -> list[str]:
    """Area names of one neighbourhood's LSOAs, most residents first (ties: alphabetical); unnamed left out."""
    frame = pd.DataFrame({"name": list(area_names), "population": np.asarray(population, dtype=float)})
    frame = frame[frame["name"].notna() & (frame["name"].astype(str) != "")]
    if frame.empty:
        return []
    totals = frame.groupby(frame["name"].astype(str))["population"].sum().reset_index()
    totals = totals.sort_values(["population", "name"], ascending=[False, True], kind="stable")
    return totals["name"].tolist()


def _shares(population: np.ndarray, area_names: Sequence[object], ranked: list[str]) -> list[float]:
    names = pd.Series(list(area_names), dtype="object").astype(str)
    weights = np.asarray(population, dtype=float)
    total = float(weights.sum())
    return [float(weights[(names == name).to_numpy()].sum()) / total if total > 0 else 0.0 for name in ranked]


def name_neighbourhoods(
    labels: Sequence[str],
    population: np.ndarray,
    area_names: Sequence[object] | None,
    *,
    fallback: Mapping[str, str],
) -> dict[str, str]:
    """Name every neighbourhood of one place.

    Parameters
    ----------
    labels
        Neighbourhood id of each LSOA of the place.
    population
        Residents of each LSOA (same order).
    area_names
        Area name of each LSOA (``None``/NaN where unknown), or ``None`` when the scenario gives no names.
    fallback
        Neighbourhood id -> the name to use without area names (``"Barnet 03"``); its ordinal ends a name that
        would otherwise be repeated.

    Returns
    -------
    dict
        Neighbourhood id -> name, unique within the place.
    """
    labels = [str(label) for label in labels]
    hoods = sorted(set(labels))
    if area_names is None:
        return {hood: fallback[hood] for hood in hoods}
    label_array = np.asarray(labels, dtype=object)
    names_array = np.asarray(list(area_names), dtype=object)
    population = np.asarray(population, dtype=float)
    ranked: dict[str, list[str]] = {}
    depth: dict[str, int] = {}
    for hood in hoods:
        mask = label_array == hood
        ranked[hood] = ranked_areas(population[mask], names_array[mask])
        shares = _shares(population[mask], names_array[mask], ranked[hood])
        depth[hood] = 2 if len(shares) > 1 and shares[1] >= SECOND_AREA_SHARE else 1
    # Lengthen colliding names one area at a time (at most three areas), then fall back on the ordinal.
    for _ in range(3):
        names = {hood: _join(ranked[hood][: depth[hood]]) for hood in hoods if ranked[hood]}
        clashes = _clashing(names)
        if not clashes:
            break
        for hood in clashes:
            depth[hood] = min(depth[hood] + 1, 3, len(ranked[hood]))
    names = {hood: _join(ranked[hood][: depth[hood]]) if ranked[hood] else fallback[hood] for hood in hoods}
    for hood in _clashing(names):
        names[hood] = f"{names[hood]} ({_ordinal(fallback[hood])})"
    return names


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " & " + parts[-1]


def _ordinal(fallback_name: str) -> str:
    return fallback_name.rsplit(" ", 1)[-1]


def _clashing(names: Mapping[str, str]) -> list[str]:
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return sorted(hood for hood, name in names.items() if counts[name] > 1)
