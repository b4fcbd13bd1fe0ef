"""Generate the bundled synthetic sample scenario, deterministically, in the real NHS/ONS file layouts.

This module owns ``footprint sample DIR``: :func:`write_sample` builds a small, realistic, entirely synthetic
scenario from one seed and writes it as the files a planner receives, so that a sample run goes through the same
readers as real data:

- geography: two synthetic boroughs (Northbank, Eastgate) and a tiny "City-like" district (Old Quay) that is
  planned with Northbank, as the City of London is planned with Hackney. LSOA-like cells are Voronoi cells of
  jittered points clipped to an irregular outline; boroughs and MSOA-like groups are contiguous unions of cells,
  so everything tiles without gaps or overlaps (ONS boundary layout, 2021 column names, EPSG:27700);
- people: residents by sex and age band per LSOA (ONS mid-year estimate layout);
- primary care: GP practices (NHS ODS ``epraccur.csv``), their sites (latitude/longitude), list sizes (NHS practice
  totals), PCN membership (NHS ODS ``ePCN.xlsx``) and registrations by LSOA from a gravity model (NHS layout);
- planning inputs: candidate hub sites, an IMD 2019-style deprivation rank and a CKD prevalence indicator, both
  spatially clustered, and a LAD -> place lookup;
- a ``README.md`` stating the provenance and every deliberate quirk (ended PCN rows, closed practices, a non-GP
  organisation, a practice without a PCN or a list size, registrations outside the area and pseudo-LSOAs).

Output is a pure function of the seed and byte-identical on every run: rows sorted, numbers written at fixed
precision, GeoPackage ``last_change`` and XLSX document/zip timestamps pinned. Nothing runs at import time.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import logging
import re
import sqlite3
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon

logger = logging.getLogger(__name__)

#: Synthetic stand-ins are named apart from the real NHS files so they can never be mistaken for them.
EPRACCUR_FILE = "sample-epraccur.csv"
EPCN_FILE = "sample-ePCN.xlsx"

#: Seed of the committed ``sample_data/`` folder.
DEFAULT_SEED = 20261123

CRS = "EPSG:27700"
#: Centre of the synthetic area (British National Grid, metres) and the semi-axes of its outline.
CENTRE_X, CENTRE_Y = 530_500.0, 180_500.0
SEMI_X, SEMI_Y = 7_100.0, 4_600.0
#: Distance between the jittered seed points of the LSOA-like cells (metres).
SPACING = 800.0
#: LSOAs in the western side (Northbank plus Old Quay); the rest form Eastgate.
WEST_UNITS = 100
DISTRICT_UNITS = 5

NORTHBANK, EASTGATE, OLD_QUAY = "E09900001", "E09900002", "E09900003"
LADS = {NORTHBANK: "Northbank", EASTGATE: "Eastgate", OLD_QUAY: "Old Quay"}
#: Each LAD's place: Old Quay is planned with Northbank (as the City of London is with Hackney).
PLACES = {
    NORTHBANK: ("P0001", "Northbank and Old Quay"),
    OLD_QUAY: ("P0001", "Northbank and Old Quay"),
    EASTGATE: ("P0002", "Eastgate"),
}
POSTCODE_AREAS = {NORTHBANK: "NB", EASTGATE: "EG", OLD_QUAY: "OQ"}

BANDS = ("0-15", "16-29", "30-44", "45-64", "65+")
BAND_SHARES = np.array([0.20, 0.19, 0.24, 0.24, 0.13])
#: Registered patients per resident (London lists exceed the resident population).
LIST_INFLATION = 1.06
RESIDENTS_PER_PRACTICE = 7_300
PCN_TARGET_LIST = 40_000
#: Gravity model of registrations: kernel exp(-d / scale), cut-off, smallest count kept.
KERNEL_KM, CUTOFF_KM, MIN_COUNT = 0.8, 4.0, 3
NEIGHBOURHOOD_MAX = 50_000

EXTRACT_DATE = "01Oct2026"
CLOSE_DATE = "20260331"
PCN_START = "20190701"
MOVE_END, MOVE_START = "20250331", "20250401"
LEFT_PCN_END = "20260630"
#: Real LSOA 2011 codes (London) used for the few registrations of residents outside the synthetic area.
OUTSIDE_LSOAS = ("E01000001", "E01000005", "E01001897", "E01002444", "E01003150")
PSEUDO_LSOAS = ("CLOSED", "NO2011")

SUB_ICB_CODE, SUB_ICB_NAME = "99Z", "NHS SYNTHETIC LONDON ICB - 99Z"
PINNED = datetime(2020, 1, 1)
PINNED_ISO = "2020-01-01T00:00:00.000Z"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)

STREETS = (
    "ALBION",
    "BRIDGE",
    "CEDAR",
    "DOCK",
    "ELM",
    "FERRY",
    "GROVE",
    "HARBOUR",
    "IVY",
    "JUNIPER",
    "KESTREL",
    "LOCK",
    "MARSH",
    "NELSON",
    "ORCHARD",
    "PRIORY",
    "QUAYSIDE",
    "ROPEWALK",
    "SPRINGFIELD",
    "TANNERY",
    "UNION",
    "VICTORIA",
    "WHARF",
    "WILLOW",
)
STREET_KINDS = ("ROAD", "STREET", "LANE", "HILL", "PARK")
PRACTICE_KINDS = ("SURGERY", "MEDICAL CENTRE", "HEALTH CENTRE", "MEDICAL PRACTICE", "GROUP PRACTICE")
HUB_KINDS = ("Health Centre", "Community Hub", "Neighbourhood Centre", "Medical Centre")
PCN_LOCALITIES = (
    "RIVERSIDE",
    "MARKET",
    "HIGHFIELD",
    "PARKSIDE",
    "CANALSIDE",
    "HEATH",
    "CENTRAL",
    "GREEN LANES",
    "DOCKLANDS",
    "UPLANDS",
    "WESTFIELD",
    "MEADOWS",
)

UNIT_COLUMNS = ["LSOA21CD", "LSOA21NM", "MSOA21CD", "MSOA21NM", "LAD22CD", "LAD22NM"]
PCN_DETAILS_HEADER = [
    "PCN Code",
    "PCN Name",
    "Current Sub ICB Loc Code",
    "Sub ICB Location",
    "Open Date",
    "Close Date",
    "Address Line 1",
    "Address Line 2",
    "Address Line 3",
    "Address Line 4",
    "Address Line 5",
    "Postcode",
]
PCN_PARTNERS_HEADER = [
    "Partner\nOrganisation\nCode",
    "Partner\nName",
    "Practice\nParent\nSub ICB Loc Code",
    "Practice\nParent\nSub ICB Loc Name",
    "PCN Code",
    "PCN Name",
    "PCN Parent\nSub ICB Loc Code",
    "PCN Parent\nSub ICB Loc Name",
    "Practice to PCN\nRelationship\nStart Date",
    "Practice to PCN\nRelationship\nEnd Date",
    "Practice Sub ICB Loc and PCN Sub ICB Loc Match ",
]


def write_sample(directory: Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Generate the synthetic sample scenario and write it into ``directory``.

    Parameters
    ----------
    directory
        Folder to write into; created if missing. Files of the same names are overwritten, other files are left.
    seed
        Seed of the one ``numpy.random.Generator`` behind every random choice; the output is a pure function of it.

    Returns
    -------
    list of pathlib.Path
        The files written (``README.md`` and the data files), sorted by name.

    Raises
    ------
    RuntimeError
        If no valid geography is found for ``seed`` within the allowed attempts (not the case for the default).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    geography = _make_geography(rng)
    units = geography.units
    population = _make_population(units, rng)
    practices = _make_practices(geography, population, rng)
    memberships, pcns = _make_pcns(practices, rng)
    registrations = _make_registrations(geography, population, practices, rng)
    hubs = _make_hubs(geography, population, rng)
    deprivation = _deprivation_field(geography.points, rng)

    written = [
        _write_geopackage(units, directory / "lsoas.gpkg", "lsoas"),
        _write_geopackage(_dissolve(units), directory / "boroughs.gpkg", "boroughs"),
        _write_frame(population, directory / "population.csv"),
        _write_frame(_place_lookup(), directory / "lad_to_place.csv"),
        _write_epraccur(practices, directory / EPRACCUR_FILE),
        _write_frame(_locations(practices), directory / "practice_locations.csv"),
        _write_frame(_list_sizes(practices), directory / "gp-reg-pat-prac-all.csv"),
        _write_epcn(memberships, pcns, practices, directory / EPCN_FILE),
        _write_frame(registrations, directory / "gp-reg-pat-prac-lsoa.csv"),
        _write_frame(hubs, directory / "hubs.csv"),
        _write_frame(_imd(units, deprivation), directory / "imd.csv"),
        _write_prevalence(units, population, deprivation, rng, directory / "ckd_prevalence.csv"),
    ]
    summary = _summarise(units, population, practices, memberships, pcns, hubs, registrations)
    written.append(_write_readme(summary, seed, directory / "README.md"))
    logger.info(
        "synthetic sample (seed %d) written to %s: %d LSOAs, %d practices, %d PCNs, %d hubs",
        seed,
        directory,
        len(units),
        int((practices["status"] == "A").sum()),
        len(pcns),
        len(hubs),
    )
    return sorted(written, key=lambda path: path.name)


# ---- geography ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geography:
    """LSOA-like cells (sorted by code, file columns only), their representative points and queen neighbours."""

    units: gpd.GeoDataFrame
    points: np.ndarray
    neighbours: list[set[int]]

    def place_of(self) -> np.ndarray:
        return self.units["LAD22CD"].map(lambda lad: PLACES[lad][0]).to_numpy()


def _make_geography(rng: np.random.Generator, *, attempts: int = 50) -> _Geography:
    """Draw outlines until the cells tile the area and every borough, the district and each place are connected."""
    for attempt in range(attempts):
        geography = _try_geography(rng)
        if geography is not None:
            logger.debug("geography found at attempt %d", attempt + 1)
            return geography
    raise RuntimeError(f"no valid synthetic geography in {attempts} attempts; try another seed")


def _try_geography(rng: np.random.Generator) -> _Geography | None:
    region = _outline(rng)
    points = _seed_points(region, rng)
    cells = _cells(points, region)
    if cells is None:
        return None
    neighbours = _queen_neighbours(cells)
    lads = _split_lads(cells, neighbours, rng)
    if lads is None:
        return None
    order, msoa_number, letter = _msoas(cells, lads, neighbours, rng)
    frame = gpd.GeoDataFrame(
        {"LAD22CD": lads, "msoa": msoa_number, "letter": letter}, geometry=list(cells), crs=CRS
    ).iloc[order]
    msoa_codes = {
        key: f"E02{900001 + i:06d}"
        for i, key in enumerate(dict.fromkeys(zip(frame.LAD22CD, frame.msoa, strict=True)))
    }
    frame["LSOA21CD"] = [f"E01{900001 + i:06d}" for i in range(len(frame))]
    frame["LAD22NM"] = frame["LAD22CD"].map(LADS)
    frame["MSOA21CD"] = [msoa_codes[key] for key in zip(frame.LAD22CD, frame.msoa, strict=True)]
    frame["MSOA21NM"] = [
        f"{LADS[lad]} {number:03d}" for lad, number in zip(frame.LAD22CD, frame.msoa, strict=True)
    ]
    frame["LSOA21NM"] = frame["MSOA21NM"] + frame["letter"]
    units = gpd.GeoDataFrame(frame[UNIT_COLUMNS], geometry=frame.geometry.to_numpy(), crs=CRS).reset_index(
        drop=True
    )
    position = np.empty(len(order), dtype=int)
    position[order] = np.arange(len(order))
    reordered = [{int(position[j]) for j in neighbours[i]} for i in order]
    representative = shapely.point_on_surface(units.geometry.to_numpy())
    return _Geography(units, shapely.get_coordinates(representative), reordered)


def _outline(rng: np.random.Generator) -> Polygon:
    """An irregular, roughly elliptical outline with integer (1 m) vertices."""
    angles = np.linspace(0.0, 2.0 * np.pi, 120, endpoint=False)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=4)
    radius = (
        1.0
        + 0.10 * np.sin(2 * angles + phases[0])
        + 0.08 * np.sin(3 * angles + phases[1])
        + 0.05 * np.sin(5 * angles + phases[2])
        + 0.03 * np.sin(8 * angles + phases[3])
    )
    xs = np.round(CENTRE_X + SEMI_X * radius * np.cos(angles))
    ys = np.round(CENTRE_Y + SEMI_Y * radius * np.sin(angles))
    return Polygon(np.column_stack([xs, ys]))


def _seed_points(region: Polygon, rng: np.random.Generator) -> np.ndarray:
    """A jittered hexagonal grid of points inside the outline (kept off its edge so no cell is a sliver)."""
    minx, miny, maxx, maxy = region.bounds
    rows = np.arange(miny, maxy + SPACING, SPACING * 0.866)
    grid = [
        (x + (SPACING / 2 if r % 2 else 0.0), y)
        for r, y in enumerate(rows)
        for x in np.arange(minx, maxx + SPACING, SPACING)
    ]
    points = np.asarray(grid) + rng.uniform(-0.3 * SPACING, 0.3 * SPACING, size=(len(grid), 2))
    inner = region.buffer(-0.3 * SPACING)
    return points[shapely.contains_xy(inner, points[:, 0], points[:, 1])]


def _cells(points: np.ndarray, region: Polygon) -> np.ndarray | None:
    """Voronoi cells of ``points`` clipped to ``region`` on a 1 m grid, in the order of the points; None if not a tiling."""
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=region, ordered=True)
    cells = shapely.intersection(shapely.get_parts(diagram), region, grid_size=1.0)
    if not (shapely.get_type_id(cells) == 3).all() or not shapely.is_valid(cells).all():
        return None
    if not shapely.coverage_is_valid(cells):
        return None
    union = shapely.coverage_union_all(cells)
    # snapping the edge crossings to the 1 m grid moves the outline by well under a metre, never opens a hole
    if (
        union.geom_type != "Polygon"
        or len(union.interiors)
        or abs(union.area - region.area) > 1e-5 * region.area
    ):
        return None
    return cells


def _queen_neighbours(cells: np.ndarray) -> list[set[int]]:
    """Cells sharing at least a point (queen contiguity)."""
    left, right = shapely.STRtree(cells).query(cells, predicate="intersects")
    neighbours: list[set[int]] = [set() for _ in range(len(cells))]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i != j:
            neighbours[i].add(j)
    return neighbours


def _connected(members: Iterable[int], neighbours: Sequence[set[int]]) -> bool:
    """Whether ``members`` induce a connected subgraph."""
    remaining = set(members)
    if not remaining:
        return False
    queue = deque([remaining.pop()])
    while queue:
        for j in neighbours[queue.popleft()] & remaining:
            remaining.discard(j)
            queue.append(j)
    return not remaining


def _split_lads(cells: np.ndarray, neighbours: list[set[int]], rng: np.random.Generator) -> np.ndarray | None:
    """West/east along a wavy line (``WEST_UNITS`` cells west), then a tiny district on the west side of it."""
    centres = shapely.get_coordinates(shapely.centroid(cells))
    wave = 650.0 * np.sin(centres[:, 1] / rng.uniform(1_500.0, 2_500.0) + rng.uniform(0.0, 2.0 * np.pi))
    order = np.argsort(centres[:, 0] + wave, kind="stable")
    if len(cells) - WEST_UNITS < 60:
        return None
    west = set(order[:WEST_UNITS].tolist())
    east = set(order[WEST_UNITS:].tolist())
    if not (_connected(west, neighbours) and _connected(east, neighbours)):
        return None
    frontier = sorted(
        (i for i in west if neighbours[i] & east),
        key=lambda i: (abs(centres[i, 1] - CENTRE_Y - 0.25 * SEMI_Y), i),
    )
    for start in frontier:
        district = [start]
        while len(district) < DISTRICT_UNITS:
            candidates = sorted(
                {j for i in district for j in neighbours[i] if j in west} - set(district),
                key=lambda j: (float(np.hypot(*(centres[j] - centres[start]))), j),
            )
            if not candidates:
                break
            district.append(candidates[0])
        if len(district) == DISTRICT_UNITS and _connected(west - set(district), neighbours):
            lads = np.full(len(cells), EASTGATE, dtype=object)
            lads[list(west)] = NORTHBANK
            lads[district] = OLD_QUAY
            return lads
    return None


def _msoas(
    cells: np.ndarray, lads: np.ndarray, neighbours: list[set[int]], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous groups of about 4-6 cells per LAD, numbered north to south; LSOA letters A, B, ... within each.

    Returns the cell order of the final codes (LAD, MSOA number, letter), each cell's MSOA number and its letter.
    """
    centres = shapely.get_coordinates(shapely.centroid(cells))
    group = np.full(len(cells), -1)
    groups: list[list[int]] = []
    for lad in sorted(set(lads)):
        members = {int(i) for i in np.flatnonzero(lads == lad)}
        local = [neighbours[i] & members if i in members else set() for i in range(len(cells))]
        free = set(members)
        first = len(groups)
        while free:
            seed = max(free, key=lambda i: (round(centres[i, 1] / SPACING), -centres[i, 0]))
            target = int(rng.integers(4, 7))
            chosen = [seed]
            free.discard(seed)
            while len(chosen) < target:
                options = {j for i in chosen for j in local[i]} & free
                if not options:
                    break
                best = min(
                    options,
                    key=lambda j: (
                        float(np.hypot(*(centres[j] - centres[seed]))) / SPACING + 0.3 * len(local[j] & free),
                        j,
                    ),
                )
                chosen.append(best)
                free.discard(best)
            group[chosen] = len(groups)
            groups.append(chosen)
        # remnants smaller than 4 join their smallest neighbouring group of the same LAD
        for index in range(first, len(groups)):
            if 0 < len(groups[index]) < 4:
                adjacent = {int(group[j]) for i in groups[index] for j in local[i]} - {index}
                adjacent = {a for a in adjacent if groups[a]}
                if adjacent:
                    into = min(adjacent, key=lambda a: (len(groups[a]), a))
                    groups[into].extend(groups[index])
                    group[groups[index]] = into
                    groups[index] = []
    number = np.zeros(len(cells), dtype=int)
    letter = np.empty(len(cells), dtype=object)
    order: list[int] = []
    for lad in sorted(set(lads)):
        lad_groups = [g for g in groups if g and lads[g[0]] == lad]
        lad_groups.sort(key=lambda g: (-centres[g, 1].mean(), centres[g, 0].mean()))
        for rank, members in enumerate(lad_groups, start=1):
            members = sorted(members, key=lambda i: (-centres[i, 1], centres[i, 0]))
            for k, i in enumerate(members):
                number[i] = rank
                letter[i] = chr(ord("A") + k)
                order.append(i)
    return np.asarray(order), number, letter


def _dissolve(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Borough polygons: the exact union of each LAD's cells, for maps."""
    rows = []
    for lad, group in units.groupby("LAD22CD", sort=True):
        outline = shapely.set_precision(shapely.coverage_union_all(group.geometry.to_numpy()), 1.0)
        rows.append({"LAD22CD": lad, "LAD22NM": LADS[lad], "geometry": outline})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def _place_lookup() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"LAD22CD": lad, "LAD22NM": LADS[lad], "PLACE_CODE": PLACES[lad][0], "PLACE_NAME": PLACES[lad][1]}
            for lad in sorted(LADS)
        ]
    )


# ---- people ------------------------------------------------------------------------------------------------------


def _make_population(units: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """ONS mid-year estimate layout: persons, males and females by age band; bands sum to all ages."""
    district = (units["LAD22CD"] == OLD_QUAY).to_numpy()
    totals = np.where(
        district, rng.integers(1_450, 1_751, size=len(units)), rng.integers(1_300, 2_301, size=len(units))
    )
    rows = []
    for unit, total in zip(units[UNIT_COLUMNS].itertuples(index=False), totals, strict=True):
        persons = _split(int(total), rng.dirichlet(BAND_SHARES * 60))
        males = [int(rng.binomial(count, 0.49)) for count in persons]
        females = [count - male for count, male in zip(persons, males, strict=True)]
        row: dict[str, str | int] = dict(zip(UNIT_COLUMNS, unit, strict=True))
        for label, values in (("Persons", persons), ("Males", males), ("Females", females)):
            row[f"{label}_All-Ages"] = sum(values)
            for band, value in zip(BANDS, values, strict=True):
                row[f"{label}_{band}"] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _split(total: int, shares: np.ndarray) -> list[int]:
    """Integers proportional to ``shares`` summing exactly to ``total`` (largest remainders)."""
    raw = shares * total
    values = np.floor(raw).astype(int)
    for index in np.argsort(-(raw - values), kind="stable")[: total - int(values.sum())]:
        values[index] += 1
    return [int(v) for v in values]


# ---- practices and PCNs -------------------------------------------------------------------------------------------


def _make_practices(
    geography: _Geography, population: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """GP practices sited in LSOAs (chance by population), list sizes summing to each place's residents x 1.06.

    Two extra practices per area are closed (status C); one active practice has no published list size.
    """
    units = geography.units
    residents = population["Persons_All-Ages"].to_numpy(dtype=float)
    lads = units["LAD22CD"].to_numpy()
    sites = []
    for lad in sorted(LADS):
        members = np.flatnonzero(lads == lad)
        count = max(1, round(residents[members].sum() / RESIDENTS_PER_PRACTICE))
        if lad != OLD_QUAY:
            count += 1  # one more that has since closed
        weights = residents[members] / residents[members].sum()
        for unit in rng.choice(members, size=count, replace=False, p=weights):
            x, y = _point_inside(units.geometry.iloc[unit], rng)
            sites.append({"lsoa": units["LSOA21CD"].iloc[unit], "lad": lad, "x": x, "y": y})
    frame = (
        pd.DataFrame(sites)
        .sort_values(["lad", "y", "x"], ascending=[True, False, True])
        .reset_index(drop=True)
    )
    frame["code"] = [f"Y9{i + 1:04d}" for i in range(len(frame))]
    frame["place"] = frame["lad"].map(lambda lad: PLACES[lad][0])
    combos = [(street, kind) for street in STREETS for kind in PRACTICE_KINDS]
    picks = rng.choice(len(combos), size=len(frame), replace=False)
    roads = rng.choice(STREET_KINDS, size=len(frame))
    frame["name"] = [f"{combos[p][0]} {combos[p][1]}" for p in picks]
    frame["street"] = [f"{combos[p][0]} {road}" for p, road in zip(picks, roads, strict=True)]
    frame["number"] = rng.integers(1, 240, size=len(frame))
    frame["postcode"] = [_postcode(lad, x, rng) for lad, x in zip(frame["lad"], frame["x"], strict=True)]
    frame["status"] = "A"
    for lad in (NORTHBANK, EASTGATE):
        candidates = frame.index[frame["lad"] == lad]
        frame.loc[int(rng.choice(candidates)), "status"] = "C"
    active = frame["status"] == "A"
    frame["list_size"] = 0
    for place in sorted(set(frame["place"])):
        members = frame.index[active & (frame["place"] == place)]
        place_residents = residents[geography.place_of() == place].sum()
        shares = rng.gamma(4.0, 1.0, size=len(members)) + 0.8
        frame.loc[members, "list_size"] = _split(
            round(place_residents * LIST_INFLATION), shares / shares.sum()
        )
    unlisted = frame.index[active & (frame["lad"] == NORTHBANK)]
    frame["listed"] = active
    frame.loc[int(rng.choice(unlisted)), "listed"] = False
    return frame


def _point_inside(polygon: Polygon, rng: np.random.Generator) -> tuple[float, float]:
    """A random point (1 m grid) at least 40 m inside ``polygon``; its representative point if none is found."""
    inner = polygon.buffer(-40.0)
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(200):
        x, y = np.round(rng.uniform([minx, miny], [maxx, maxy]))
        if inner.contains(shapely.Point(x, y)):
            return float(x), float(y)
    point = polygon.representative_point()
    return float(round(point.x)), float(round(point.y))


def _postcode(lad: str, x: float, rng: np.random.Generator) -> str:
    """A well-formed but fictional postcode (areas NB, EG and OQ do not exist)."""
    district = 1 + int(np.clip((x - (CENTRE_X - SEMI_X)) / (2 * SEMI_X) * 9, 0, 8))
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{POSTCODE_AREAS[lad]}{district} {rng.integers(1, 10)}{rng.choice(list(letters))}{rng.choice(list(letters))}"


def _make_pcns(practices: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PCNs as angular slices of each place's practices (3-7 practices, about 40,000 patients each) + quirks.

    Returns the "PCN Core Partner Details" rows (practice, pcn, start, end) and the PCNs (code, name, place,
    lead practice). Quirks: one practice moved PCN (old row ended, new row active), one active practice left its
    PCN (its only row ended), and the closed practices' rows ended on their close date.
    """
    active = practices[practices["status"] == "A"]
    slices: list[tuple[str, list[str]]] = []
    for place in sorted(set(active["place"])):
        members = active[active["place"] == place]
        slices.extend((place, run) for run in _angular_runs(members))
    names = list(rng.permutation(PCN_LOCALITIES))
    pcn_rows = []
    for index, (place, run) in enumerate(slices):
        lad = NORTHBANK if place == PLACES[NORTHBANK][0] else EASTGATE
        lead = practices.set_index("code").loc[run].sort_values("list_size", ascending=False).index[0]
        pcn_rows.append(
            {
                "pcn": f"U9{index + 1:04d}",
                "name": f"{LADS[lad].upper()} {names[index]} PCN",
                "place": place,
                "lead": lead,
            }
        )
    pcns = pd.DataFrame(pcn_rows)
    rows = [
        {"practice": code, "pcn": pcn, "start": PCN_START, "end": None}
        for pcn, (_, run) in zip(pcns["pcn"], slices, strict=True)
        for code in run
    ]
    # the closed practices were members of their nearest PCN until they closed
    for closed in practices[practices["status"] == "C"].itertuples():
        same = active[active["place"] == closed.place]
        nearest = same.iloc[int(np.argmin(np.hypot(same["x"] - closed.x, same["y"] - closed.y)))]["code"]
        pcn = next(row["pcn"] for row in rows if row["practice"] == nearest)
        rows.append({"practice": closed.code, "pcn": pcn, "start": PCN_START, "end": CLOSE_DATE})
    memberships = pd.DataFrame(rows)
    first_place = pcns["place"].iloc[0]
    # a practice that moved PCN: the first practice of the first place's second slice was in its first slice
    first, second = [index for index, (place, _) in enumerate(slices) if place == first_place][:2]
    mover = slices[second][1][0]
    memberships.loc[memberships["practice"] == mover, "start"] = MOVE_START
    moved = {"practice": mover, "pcn": pcns["pcn"].iloc[first], "start": PCN_START, "end": MOVE_END}
    # an active practice that left its PCN: the smallest practice of the other place's largest PCN
    other = pcns[pcns["place"] != first_place]
    open_rows = memberships[memberships["end"].isna()]
    sizes = open_rows[open_rows["pcn"].isin(other["pcn"])].groupby("pcn")["practice"].count()
    largest = sizes.sort_values(ascending=False, kind="stable").index[0]
    candidates = practices.set_index("code").loc[open_rows.loc[open_rows["pcn"] == largest, "practice"]]
    leaver = candidates.sort_values(["list_size"], kind="stable").index[0]
    memberships.loc[memberships["practice"] == leaver, "end"] = LEFT_PCN_END
    memberships = pd.concat([memberships, pd.DataFrame([moved])], ignore_index=True)
    return memberships.sort_values(["practice", "start"]).reset_index(drop=True), pcns


def _angular_runs(members: pd.DataFrame) -> list[list[str]]:
    """Cut practices ordered by angle around their list-weighted centre into runs of 3-7 practices, balanced lists."""
    weights = members["list_size"].to_numpy(dtype=float)
    x, y = members["x"].to_numpy(dtype=float), members["y"].to_numpy(dtype=float)
    cx, cy = np.average(x, weights=weights), np.average(y, weights=weights)
    order = np.argsort(np.arctan2(y - cy, x - cx), kind="stable")
    codes, sizes = members["code"].to_numpy()[order], weights[order]
    n, total = len(codes), weights.sum()
    k = int(np.clip(round(total / PCN_TARGET_LIST), int(np.ceil(n / 7)), max(1, n // 3)))
    best: tuple[float, list[list[str]]] = (np.inf, [list(codes)])
    for shift in range(n):
        rolled_codes, rolled_sizes = np.roll(codes, -shift), np.roll(sizes, -shift)
        cumulative = np.cumsum(rolled_sizes)
        cuts = [0] + [int(np.argmin(np.abs(cumulative - total * j / k))) + 1 for j in range(1, k)] + [n]
        runs = [list(rolled_codes[a:b]) for a, b in itertools.pairwise(cuts)]
        lists = [float(rolled_sizes[a:b].sum()) for a, b in itertools.pairwise(cuts)]
        feasible = all(3 <= len(run) <= 7 for run in runs) and all(30_000 <= s <= 60_000 for s in lists)
        score = max(abs(s - total / k) for s in lists) + (0.0 if feasible else 1e9)
        if score < best[0]:
            best = (score, runs)
    if best[0] >= 1e9:
        logger.warning(
            "PCNs of %s: no cut with 3-7 practices and 30,000-60,000 patients each", members["place"].iloc[0]
        )
    return [[str(code) for code in run] for run in best[1]]


# ---- registrations, hubs, demand ----------------------------------------------------------------------------------


def _make_registrations(
    geography: _Geography, population: pd.DataFrame, practices: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Registrations by practice x LSOA (NHS layout, SEX=ALL) from a doubly constrained gravity model.

    Kernel exp(-d / 0.8 km), cut at 4 km, counts below 3 dropped; plus a few rows for residents outside the area
    (real 2011 LSOA codes) and two pseudo-LSOA rows (``CLOSED``, ``NO2011``), as the real NHS file has.
    """
    active = practices[practices["status"] == "A"].reset_index(drop=True)
    points = geography.points / 1000.0
    sites = active[["x", "y"]].to_numpy(dtype=float) / 1000.0
    residents = population["Persons_All-Ages"].to_numpy(dtype=float)
    lists = active["list_size"].to_numpy(dtype=float)
    distance = np.hypot(points[:, None, 0] - sites[None, :, 0], points[:, None, 1] - sites[None, :, 1])
    flows = np.exp(-distance / KERNEL_KM) * (distance <= CUTOFF_KM) * residents[:, None]
    origins = residents * lists.sum() / residents.sum()
    for _ in range(60):
        flows *= (lists / np.maximum(flows.sum(axis=0), 1e-9))[None, :]
        flows *= (origins / np.maximum(flows.sum(axis=1), 1e-9))[:, None]
    counts = np.round(flows).astype(int)
    codes = geography.units["LSOA21CD"].to_numpy()
    rows = [
        (practice.code, practice.name, codes[i], int(counts[i, j]))
        for j, practice in enumerate(active.itertuples())
        for i in np.flatnonzero(counts[:, j] >= MIN_COUNT)
    ]
    outside = rng.choice(len(active), size=len(OUTSIDE_LSOAS), replace=False)
    for j, lsoa in zip(outside, OUTSIDE_LSOAS, strict=True):
        rows.append((active["code"].iloc[j], active["name"].iloc[j], lsoa, int(rng.integers(3, 25))))
    for j, lsoa in zip(rng.choice(len(active), size=2, replace=False), PSEUDO_LSOAS, strict=True):
        rows.append((active["code"].iloc[j], active["name"].iloc[j], lsoa, int(rng.integers(3, 12))))
    frame = pd.DataFrame(rows, columns=["PRACTICE_CODE", "PRACTICE_NAME", "LSOA_CODE", "NUMBER_OF_PATIENTS"])
    frame = frame.sort_values(["PRACTICE_CODE", "LSOA_CODE"]).reset_index(drop=True)
    frame.insert(0, "EXTRACT_DATE", EXTRACT_DATE)
    frame.insert(0, "PUBLICATION", "GP_PRAC_LSOA_SYNTHETIC")
    frame.insert(5, "SEX", "ALL")
    return frame


def _make_hubs(geography: _Geography, population: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Candidate hub sites: twice the neighbourhoods each place needs (ceil(P / 50,000)), spread out.

    The first hub of each place (at the LSOA nearest its population centre) is ``required``; the others are
    chosen by farthest-point sampling among LSOA representative points. Capacity is left blank.
    """
    residents = population["Persons_All-Ages"].to_numpy(dtype=float)
    points = geography.points
    place = geography.place_of()
    streets = rng.permutation(len(STREETS))
    rows: list[dict[str, str | int]] = []
    for code in sorted(set(place)):
        members = np.flatnonzero(place == code)
        count = 2 * int(np.ceil(residents[members].sum() / NEIGHBOURHOOD_MAX))
        chosen = _spread_sites(points[members], residents[members], count)
        for rank, local in enumerate(chosen):
            x, y = _point_inside(geography.units.geometry.iloc[int(members[local])], rng)
            street = STREETS[int(streets[len(rows)])].title()
            rows.append(
                {
                    "hub_id": f"H{len(rows) + 1:03d}",
                    "hub_name": f"{street} {HUB_KINDS[int(rng.integers(len(HUB_KINDS)))]}",
                    "easting": int(x),
                    "northing": int(y),
                    "capacity": "",
                    "required": "true" if rank == 0 else "false",
                }
            )
    return pd.DataFrame(rows)


def _spread_sites(points: np.ndarray, weights: np.ndarray, count: int) -> list[int]:
    """``count`` distinct LSOAs (indices into ``points``) spread over the population, the most central first.

    Population-weighted k-means (Lloyd) from a farthest-point start, each centre then moved to the nearest unused
    LSOA; the first is the LSOA nearest the population centre.
    """
    centre = np.average(points, axis=0, weights=weights)
    start = [int(np.argmin(np.hypot(*(points - centre).T)))]
    while len(start) < count:
        gap = np.min(
            np.hypot(
                points[:, None, 0] - points[None, start, 0], points[:, None, 1] - points[None, start, 1]
            ),
            axis=1,
        )
        start.append(int(np.argmax(gap)))
    centres = points[start].astype(float)
    for _ in range(30):
        distance = np.hypot(
            points[:, None, 0] - centres[None, :, 0], points[:, None, 1] - centres[None, :, 1]
        )
        label = np.argmin(distance, axis=1)
        for k in range(count):
            if (label == k).any():
                centres[k] = np.average(points[label == k], axis=0, weights=weights[label == k])
    order = sorted(range(count), key=lambda k: (float(np.hypot(*(centres[k] - centre))), k))
    chosen: list[int] = []
    for k in order:
        ranked = np.argsort(np.hypot(*(points - centres[k]).T), kind="stable")
        chosen.append(int(next(i for i in ranked if i not in chosen)))
    return chosen


def _deprivation_field(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth random field in 0..1 (a few Gaussian bumps plus noise): deprivation clustered in space."""
    km = points / 1000.0
    low = np.array([CENTRE_X - SEMI_X, CENTRE_Y - SEMI_Y]) / 1000.0
    high = np.array([CENTRE_X + SEMI_X, CENTRE_Y + SEMI_Y]) / 1000.0
    value = np.zeros(len(points))
    middle = (low + high) / 2
    for bump in range(8):  # alternately west and east, so that both boroughs have deprived clusters
        centre = rng.uniform(low, high)
        centre[0] = rng.uniform(low[0], middle[0]) if bump % 2 == 0 else rng.uniform(middle[0], high[0])
        value += rng.uniform(0.5, 1.5) * np.exp(
            -((km - centre) ** 2).sum(axis=1) / (2 * rng.uniform(1.2, 2.2) ** 2)
        )
    value += rng.normal(0.0, 0.06, size=len(points))
    return (value - value.min()) / (value.max() - value.min())


def _imd(units: gpd.GeoDataFrame, deprivation: np.ndarray) -> pd.DataFrame:
    """IMD 2019 File 1 columns: rank 1 = most deprived of England's 32,844 LSOAs, deciles from the rank."""
    rank = np.round(1 + (1 - deprivation) * 32_843).astype(int)
    decile = np.clip((rank - 1) * 10 // 32_844 + 1, 1, 10)
    return pd.DataFrame(
        {
            "LSOA code (2021)": units["LSOA21CD"],
            "LSOA name (2021)": units["LSOA21NM"],
            "Local Authority District code (2019)": units["LAD22CD"],
            "Local Authority District name (2019)": units["LAD22NM"],
            "Index of Multiple Deprivation (IMD) Rank": rank,
            "Index of Multiple Deprivation (IMD) Decile": decile,
        }
    )


def _locations(practices: pd.DataFrame) -> pd.DataFrame:
    """Active practices' sites in WGS84 (7 decimals, about 1 cm), names in title case as geocoded lists have."""
    to_wgs84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    active = practices[practices["status"] == "A"]
    lon, lat = to_wgs84.transform(active["x"].to_numpy(), active["y"].to_numpy())
    return pd.DataFrame(
        {
            "PRACTICE_CODE": active["code"],
            "PRACTICE_NAME": active["name"].str.title(),
            "POSTCODE": active["postcode"],
            "LATITUDE": [f"{value:.7f}" for value in lat],
            "LONGITUDE": [f"{value:.7f}" for value in lon],
        }
    )


def _list_sizes(practices: pd.DataFrame) -> pd.DataFrame:
    """NHS practice totals (SEX=ALL, AGE=ALL) for the active practices but one."""
    listed = practices[practices["listed"]]
    return pd.DataFrame(
        {
            "PUBLICATION": "GP_PRAC_PAT_LIST",
            "EXTRACT_DATE": EXTRACT_DATE,
            "TYPE": "GP",
            "CCG_CODE": SUB_ICB_CODE,
            "ONS_CCG_CODE": "E38999999",
            "CODE": listed["code"],
            "POSTCODE": listed["postcode"],
            "SEX": "ALL",
            "AGE": "ALL",
            "NUMBER_OF_PATIENTS": listed["list_size"],
        }
    )


# ---- writers (pinned, byte-identical) -----------------------------------------------------------------------------


def _write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """CSV with a header, minimal quoting and ``\\n`` line ends (all numbers are integers or preformatted)."""
    frame.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return path


def _write_prevalence(
    units: gpd.GeoDataFrame,
    population: pd.DataFrame,
    deprivation: np.ndarray,
    rng: np.random.Generator,
    path: Path,
) -> Path:
    """Modelled CKD prevalence (share of adults) in the Fingertips-derived layout: strings quoted, numbers not.

    Higher where deprivation is and where more residents are 65 or over.
    """
    older = (population["Persons_65+"] / population["Persons_All-Ages"]).to_numpy()
    value = 0.012 + 0.014 * deprivation + 0.08 * (older - 0.13) + rng.normal(0.0, 0.0015, size=len(units))
    value = np.clip(value, 0.004, None)
    lines = ['"LSOA_CODE","CKD: QOF prevalence (18+ yrs)"']
    lines += [f'"{code}",{share:.6f}' for code, share in zip(units["LSOA21CD"], value, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def _gdal_date(value: str) -> Iterator[None]:
    """Pin GDAL's "current date" (GeoPackage ``last_change``) for the duration, then restore the previous value."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_geopackage(frame: gpd.GeoDataFrame, path: Path, layer: str) -> Path:
    """One-layer GeoPackage with a pinned ``gpkg_contents.last_change`` (checked, and fixed if GDAL ignored it)."""
    if path.exists():
        path.unlink()
    with _gdal_date(PINNED_ISO):
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        stamps = {row[0] for row in connection.execute("SELECT last_change FROM gpkg_contents")}
        if stamps != {PINNED_ISO}:
            connection.execute("UPDATE gpkg_contents SET last_change = ?", (PINNED_ISO,))
            connection.commit()
            connection.execute("VACUUM")
    return path


def _write_epraccur(practices: pd.DataFrame, path: Path) -> Path:
    """NHS ODS epraccur: no header, 27 fields, every field double-quoted; plus one non-GP organisation (setting 1)."""
    lines = []
    for p in practices.itertuples():
        fields = [""] * 27
        fields[0:4] = [p.code, p.name, "Y56", "QMF"]
        fields[4] = "THE HEALTH CENTRE" if p.name.endswith("HEALTH CENTRE") else ""
        fields[5], fields[7], fields[9] = f"{p.number} {p.street}", "LONDON", p.postcode
        fields[10], fields[12], fields[13], fields[14], fields[15] = (
            "19740401",
            p.status,
            "B",
            SUB_ICB_CODE,
            "20220701",
        )
        fields[17] = f"020 7946 0{int(p.code[-3:]):03d}"  # Ofcom's range reserved for drama
        fields[21], fields[23], fields[25] = "0", SUB_ICB_CODE, "4"
        if p.status == "C":
            fields[11] = fields[16] = CLOSE_DATE
        lines.append(fields)
    other = [""] * 27
    other[0:4] = ["Y99001", "OLD QUAY WALK-IN CENTRE", "Y56", "QMF"]
    other[5], other[7], other[9], other[10] = "1 QUAYSIDE", "LONDON", "OQ1 1AA", "20100401"
    other[12], other[13], other[14], other[15], other[21], other[23], other[25] = (
        "A",
        "B",
        SUB_ICB_CODE,
        "20220701",
        "0",
        SUB_ICB_CODE,
        "1",
    )
    lines.append(other)
    lines.sort(key=lambda fields: fields[0])
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(lines)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _write_epcn(memberships: pd.DataFrame, pcns: pd.DataFrame, practices: pd.DataFrame, path: Path) -> Path:
    """ePCN.xlsx: sheets ``PCNDetails`` and ``PCN Core Partner Details`` with the real headers (line breaks).

    Dates are YYYYMMDD text cells and blanks are empty, as in the NHS file; timestamps are pinned.
    """
    by_code = practices.set_index("code")
    workbook = openpyxl.Workbook()
    details = workbook.active
    details.title = "PCNDetails"
    details.append(PCN_DETAILS_HEADER)
    for pcn in pcns.sort_values("pcn").itertuples():
        lead = by_code.loc[pcn.lead]
        address = [f"{lead['number']} {lead['street']}", "", "LONDON", "", ""]
        details.append(
            [pcn.pcn, pcn.name, SUB_ICB_CODE, SUB_ICB_NAME, PCN_START, None, *address, lead["postcode"]]
        )
    partners = workbook.create_sheet("PCN Core Partner Details")
    partners.append(PCN_PARTNERS_HEADER)
    names = dict(zip(pcns["pcn"], pcns["name"], strict=True))
    for row in memberships.itertuples():
        partners.append(
            [
                row.practice,
                by_code.loc[row.practice, "name"],
                SUB_ICB_CODE,
                SUB_ICB_NAME,
                row.pcn,
                names[row.pcn],
                SUB_ICB_CODE,
                SUB_ICB_NAME,
                row.start,
                None if pd.isna(row.end) else row.end,
                True,
            ]
        )
    workbook.properties.creator = "footprint sample"
    workbook.properties.created = PINNED
    workbook.properties.modified = PINNED
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_pinned_zip(buffer.getvalue()))
    return path


def _pinned_zip(data: bytes) -> bytes:
    """Rewrite an XLSX (zip) with fixed entry times, attributes and compression, and pinned document dates."""
    stamp = PINNED.strftime("%Y-%m-%dT%H:%M:%SZ")
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{stamp}\3", text
                )
                content = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            target.writestr(entry, content, compresslevel=6)
    return output.getvalue()


# ---- provenance --------------------------------------------------------------------------------------------------


def _summarise(
    units: gpd.GeoDataFrame,
    population: pd.DataFrame,
    practices: pd.DataFrame,
    memberships: pd.DataFrame,
    pcns: pd.DataFrame,
    hubs: pd.DataFrame,
    registrations: pd.DataFrame,
) -> dict[str, object]:
    """Counts per place and the codes behind each quirk, for the README."""
    place = units["LAD22CD"].map(lambda lad: PLACES[lad][0])
    hub_place = _place_of_points(units, hubs["easting"].to_numpy(float), hubs["northing"].to_numpy(float))
    active = practices[practices["status"] == "A"]
    ended = memberships["end"].notna().to_numpy()
    rows = []
    for code in sorted(set(place)):
        lads = sorted(lad for lad in LADS if PLACES[lad][0] == code)
        residents = int(population.loc[(place == code).to_numpy(), "Persons_All-Ages"].sum())
        rows.append(
            {
                "place": f"{code} {PLACES[lads[0]][1]}",
                "lads": ", ".join(f"{lad} {LADS[lad]}" for lad in lads),
                "lsoas": int((place == code).sum()),
                "residents": residents,
                "needed": int(np.ceil(residents / NEIGHBOURHOOD_MAX)),
                "practices": int((active["place"] == code).sum()),
                "pcns": int((pcns["place"] == code).sum()),
                "hubs": int((hub_place == code).sum()),
            }
        )
    by_lad = population.groupby("LAD22CD")["Persons_All-Ages"].agg(["count", "sum"])
    return {
        "places": rows,
        "lads": {lad: (int(by_lad.loc[lad, "count"]), int(by_lad.loc[lad, "sum"])) for lad in sorted(LADS)},
        "msoas": int(units["MSOA21CD"].nunique()),
        "registration_rows": len(registrations),
        "closed": sorted(practices.loc[practices["status"] == "C", "code"]),
        "unlisted": sorted(practices.loc[(practices["status"] == "A") & ~practices["listed"], "code"]),
        "moved": sorted(set(memberships.loc[ended, "practice"]) & set(memberships.loc[~ended, "practice"])),
        "left": sorted(set(active["code"]) - set(memberships.loc[~ended, "practice"])),
    }


def _place_of_points(units: gpd.GeoDataFrame, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The place of the LSOA containing each point (None outside the area)."""
    tree = shapely.STRtree(units.geometry.to_numpy())
    point_index, unit_index = tree.query(shapely.points(xs, ys), predicate="within")
    places = np.full(len(xs), None, dtype=object)
    lads = units["LAD22CD"].to_numpy()
    for p, u in zip(point_index.tolist(), unit_index.tolist(), strict=True):
        places[p] = PLACES[lads[u]][0]
    return places


def _write_readme(summary: dict, seed: int, path: Path) -> Path:
    """The folder's provenance: synthetic, how it was made, what each file imitates and its deliberate quirks."""
    places = summary["places"]
    table = "\n".join(
        f"| {p['place']} | {p['lads']} | {p['lsoas']} | {p['residents']:,} | {p['needed']} | {p['practices']} | "
        f"{p['pcns']} | {p['hubs']} |"
        for p in places
    )
    lads = summary["lads"]
    quay_lsoas, quay_residents = lads[OLD_QUAY]
    text = README_TEMPLATE.format(
        seed=seed,
        table=table,
        lsoas=sum(p["lsoas"] for p in places),
        residents=sum(p["residents"] for p in places),
        msoas=summary["msoas"],
        quay_lsoas=quay_lsoas,
        quay_residents=quay_residents,
        closed=" and ".join(summary["closed"]),
        unlisted=", ".join(summary["unlisted"]),
        moved=", ".join(summary["moved"]),
        left=", ".join(summary["left"]),
        rows=summary["registration_rows"],
        outside=", ".join(OUTSIDE_LSOAS),
        close_date=CLOSE_DATE,
        move_end=MOVE_END,
        move_start=MOVE_START,
        left_end=LEFT_PCN_END,
    )
    path.write_text(text, encoding="utf-8")
    return path


README_TEMPLATE = """\
# Sample data (synthetic)

Everything in this folder is **synthetic** and was written by footprint's own generator
(`src/footprint/sample.py`):

```bash
footprint sample sample_data            # seed {seed} (the default); byte-identical on every run
```

Do not edit these files by hand: `tests/test_sample.py` regenerates the folder and fails if any byte differs
(this README included). To change the sample, change the generator and regenerate. No real person, practice, PCN or
place is described: the geography is a pattern of Voronoi cells near central London's grid coordinates, and the
codes are well-formed but outside the ranges ONS and NHS use (LSOAs `E01900001...`, MSOAs `E02900001...`,
districts `E09900001-3`, practices `Y9....`, PCNs `U9....`, postcode areas `NB`, `EG`, `OQ`, telephone numbers in
Ofcom's drama range). The real files these layouts imitate are described in `../shared/data/london/README.md`.

## What it holds

Two synthetic boroughs, Northbank (`E09900001`) and Eastgate (`E09900002`), and a tiny district, Old Quay
(`E09900003`, {quay_lsoas} LSOAs, {quay_residents:,} residents), that is planned together with Northbank, as the
City of London is planned with Hackney. {lsoas} LSOA-like cells of 1,300-2,300 residents ({residents:,} in all)
in {msoas} MSOA-like groups of about 4-6 contiguous LSOAs.

| place | districts | LSOAs | residents | neighbourhoods needed (50,000 max) | practices (active) | PCNs | candidate hubs |
|---|---|---|---|---|---|---|---|
{table}

## Files

| file | imitates (real layout) | content |
|---|---|---|
| `lsoas.gpkg` (layer `lsoas`) | ONS LSOA 2021 boundaries | LSOA21CD, LSOA21NM, MSOA21CD, MSOA21NM, LAD22CD, LAD22NM, polygons in EPSG:27700 on a 1 m grid; Voronoi cells of jittered points clipped to an irregular outline, tiling it without gaps or overlaps; each borough and place connected (queen contiguity) |
| `boroughs.gpkg` (layer `boroughs`) | ONS LAD boundaries | LAD22CD, LAD22NM: the union of each district's LSOAs, for maps |
| `population.csv` | ONS mid-year estimates by LSOA (`population_mid2020_lsoa11.csv`), keyed by LSOA21CD | Persons, Males, Females: all ages and five bands; bands sum to all ages, males + females = persons |
| `lad_to_place.csv` | a planner's LAD -> place lookup | Old Quay and Northbank -> P0001 "Northbank and Old Quay"; Eastgate -> P0002 |
| `sample-epraccur.csv` | NHS ODS `epraccur.csv`: no header, 27 fields, all double-quoted | GP practices (prescribing setting 4) with status, dates, address, commissioner |
| `practice_locations.csv` | practice sites (`practice_locations_london_2022.csv`) | PRACTICE_CODE, PRACTICE_NAME, POSTCODE, LATITUDE, LONGITUDE (WGS84, 7 decimals) for active practices |
| `gp-reg-pat-prac-all.csv` | NHS patients registered at a GP practice, practice totals | SEX=ALL, AGE=ALL rows; lists sum to about 1.06 x each place's residents |
| `sample-ePCN.xlsx` | NHS ODS `ePCN.xlsx` | sheets `PCNDetails` and `PCN Core Partner Details`, real headers with line breaks, dates as YYYYMMDD text cells as in the NHS file; PCNs of 3-7 neighbouring practices with about 30,000-60,000 patients |
| `gp-reg-pat-prac-lsoa.csv` | NHS patients registered at a GP practice by LSOA | {rows:,} rows, SEX=ALL; doubly constrained gravity model (population x exp(-d / 0.8 km), cut at 4 km, counts below 3 dropped) |
| `hubs.csv` | a planner's candidate sites | hub_id, hub_name, easting, northing, capacity (blank), required: twice the neighbourhoods each place needs, inside the place, spread out; the most central one per place is required |
| `imd.csv` | IMD 2019 File 1 (sheet `IMD2019`) columns, LSOA code and name (2021) | rank (1 = most deprived of 32,844) and decile from a smooth random field: deprivation comes in clusters |
| `ckd_prevalence.csv` | modelled QOF prevalence (`ckd_prevalence_lsoa11.csv`): strings quoted, numbers not | CKD prevalence (share of adults, 6 decimals), higher with deprivation and with more residents aged 65+ |
| `README.md` | | this file, written by the generator |

## Deliberate quirks (real files have them; `footprint validate configs/sample.yaml` reports each)

- `sample-epraccur.csv`: practices {closed} closed on {close_date} (status `C`, close date set): they have no list size,
  no site and no registrations, and their ePCN rows ended on the same day. One non-GP organisation, `Y99001`
  OLD QUAY WALK-IN CENTRE (prescribing setting `1`), is in the file and must be skipped.
- `sample-ePCN.xlsx`: practice {moved} moved PCN (its old row ended {move_end}, a new row starts {move_start}: only
  the row without an end date counts); active practice {left} left its PCN on {left_end} and has no active row,
  so it is a practice without a PCN (as about 3% of London practices).
- `gp-reg-pat-prac-all.csv`: active practice {unlisted} has no list size (as about 1% of London practices); its
  registrations by LSOA are present.
- `gp-reg-pat-prac-lsoa.csv`: a few rows for residents outside the area, with real 2011 LSOA codes
  ({outside}), and two pseudo-LSOA rows (`CLOSED`, `NO2011`), as the NHS file has; patients also register
  across the borough boundary.
- Codes are 2021-vintage (`LSOA21CD`) while `imd.csv` keeps the IMD file's 2019 district column names.

## Reproducibility

The files are a pure function of the seed: one `numpy.random.default_rng(seed)`, rows sorted, numbers at fixed
precision, the GeoPackages' `gpkg_contents.last_change` and the workbook's document and zip entry times pinned
to 2020-01-01. Bytes are identical across runs with the same GDAL and zlib; another GDAL version may lay out the
`.gpkg` pages differently (same content), in which case regenerate and commit the folder.
"""
