"""A tiny on-disk scenario in the real file layouts, for reader, validation and CLI tests.

The area is a 4 x 3 grid of 1 km squares (LSOAs), two boroughs side by side::

      x:  0     1     2     3   (km east of 530000)
    y=2  A09 | A10 | B11 | B12
    y=1  A05 | A06 | B07 | B08
    y=0  A01 | A02 | B03 | B04

LSOA ``E0190000k`` is square k above (A = borough E09900001, B = E09900002). Each LSOA has 10,000 residents, so
each borough (6 LSOAs, 60,000) splits into 2 neighbourhoods of 30,000 under bounds 20,000-40,000.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml
from shapely.geometry import box

import footprint
from footprint.dataset import load_dataset
from footprint.graph import build_graph
from footprint.instance import build_place_problem, pcn_home_places
from footprint.plan import Plan, build_plan
from footprint.problem import PlaceSolution

X0, Y0 = 530_000, 180_000


def lsoa_code(k: int) -> str:
    return f"E0190{k:04d}"


def grid_units() -> gpd.GeoDataFrame:
    rows = []
    for row in range(3):
        for col in range(4):
            k = row * 4 + col + 1
            lad = "E09900001" if col < 2 else "E09900002"
            rows.append(
                {
                    "LSOA21CD": lsoa_code(k),
                    "LSOA21NM": f"Grid {k:03d}A",
                    "MSOA21CD": f"E0290000{1 + (col // 2) + 2 * (row // 2)}",
                    "LAD22CD": lad,
                    "LAD22NM": "Alpha" if col < 2 else "Beta",
                    "geometry": box(
                        X0 + col * 1000, Y0 + row * 1000, X0 + (col + 1) * 1000, Y0 + (row + 1) * 1000
                    ),
                }
            )
    return gpd.GeoDataFrame(rows, crs="EPSG:27700")


def write_tiny_scenario(folder: Path, *, extra_yaml: str = "", population: int = 10_000) -> Path:
    """Write the grid, a population CSV and a scenario file; return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    units = grid_units()
    units.to_file(folder / "lsoas.gpkg", layer="lsoas", engine="pyogrio")
    pd.DataFrame(
        {
            "LSOA21CD": units["LSOA21CD"],
            "Persons_All-Ages": population,
            "Persons_0-15": 2000,
            "Persons_65+": 1500,
        }
    ).to_csv(folder / "population.csv", index=False)
    text = textwrap.dedent(
        """\
        name: tiny
        inputs:
          units: {path: lsoas.gpkg, columns: {group_code: MSOA21CD}}
          population: {path: population.csv}
        pop: {min: 20000, max: 40000}
        solver: {time_limit: 20, workers: 1}
        output: {dir: out}
        """
    )
    path = folder / "scenario.yaml"
    path.write_text(text + textwrap.dedent(extra_yaml), encoding="utf-8")
    return path


#: Practices of the primary-care layer: code -> (PCN or None, square it stands in).
TINY_PRACTICES = {
    "P00001": ("PCNX", 1),
    "P00002": ("PCNY", 6),
    "P00003": ("PCNZ", 3),
    "P00004": (None, 8),
    "P00005": ("PCNX", 10),
}
#: Registered patients: (practice, square) -> patients; square 0 is an LSOA outside the area.
TINY_REGISTRATIONS = {
    ("P00001", 1): 600,
    ("P00001", 5): 300,
    ("P00001", 2): 100,
    ("P00001", 0): 50,
    ("P00002", 6): 500,
    ("P00002", 10): 300,
    ("P00002", 5): 200,
    ("P00003", 3): 400,
    ("P00003", 7): 400,
    ("P00003", 4): 200,
    ("P00004", 8): 300,
    ("P00004", 12): 300,
    ("P00004", 11): 400,
    ("P00005", 10): 400,
    ("P00005", 6): 100,
}
#: Baseline map: square -> unit (see :func:`write_tiny_primary_care`).
TINY_BASELINE = {1: "U1", 5: "U1", 9: "U1", 2: "U2", 6: "U2", 10: "U2", 11: "U2", 3: "U3", 7: "U4", 4: "U5"}
TINY_BASELINE |= {8: "U6", 12: "U6"}


def write_tiny_primary_care(folder: Path, *, baseline: dict[int, str] | None = None) -> dict[str, Any]:
    """Practices, PCNs, registrations, list sizes and a baseline map for the grid; return their ``inputs``.

    Practices (``*`` marks where each stands)::

        A09       | A10 P5(X) | B11       | B12
        A05       | A06 P2(Y) | B07       | B08 P4(-)
        A01 P1(X) | A02       | B03 P3(Z) | B04

    PCN X = P1 + P5, Y = P2, Z = P3; P4 is in no PCN. Registered patients per LSOA are
    :data:`TINY_REGISTRATIONS` (P1 also has 50 patients living outside the area). Baseline units
    (:data:`TINY_BASELINE`): U1 = column A0x (A01, A05, A09); U2 = A02, A06, A10 and B11; U3 = B03; U4 = B07;
    U5 = B04; U6 = B08, B12. ``baseline`` (square -> unit) replaces that map.
    """
    rows = []
    for code, (_pcn, square) in TINY_PRACTICES.items():
        col, row = (square - 1) % 4, (square - 1) // 4
        rows.append(
            {
                "PRACTICE_CODE": code,
                "PRACTICE_NAME": f"Practice {code[-1]}",
                "EASTING": X0 + col * 1000 + 500,
                "NORTHING": Y0 + row * 1000 + 500,
            }
        )
    pd.DataFrame(rows).to_csv(folder / "practices.csv", index=False)
    pd.DataFrame(
        [
            {"practice_code": code, "pcn_code": pcn, "pcn_name": f"{pcn} NETWORK"}
            for code, (pcn, _) in TINY_PRACTICES.items()
            if pcn
        ]
    ).to_csv(folder / "pcns.csv", index=False)
    pd.DataFrame(
        [
            {
                "PRACTICE_CODE": practice,
                "LSOA_CODE": lsoa_code(square) if square else "E01000001",
                "SEX": "ALL",
                "NUMBER_OF_PATIENTS": patients,
            }
            for (practice, square), patients in TINY_REGISTRATIONS.items()
        ]
    ).to_csv(folder / "registrations.csv", index=False)
    totals: dict[str, int] = {}
    for (practice, _), patients in TINY_REGISTRATIONS.items():
        totals[practice] = totals.get(practice, 0) + patients
    pd.DataFrame(
        [
            {"CODE": code, "SEX": "ALL", "AGE": "ALL", "NUMBER_OF_PATIENTS": n}
            for code, n in sorted(totals.items())
        ]
    ).to_csv(folder / "list_sizes.csv", index=False)
    pd.DataFrame(
        [
            {"lsoa_code": lsoa_code(square), "neighbourhood": unit}
            for square, unit in sorted((TINY_BASELINE if baseline is None else baseline).items())
        ]
    ).to_csv(folder / "baseline.csv", index=False)
    return {
        "practices": {"locations": {"path": "practices.csv"}, "list_sizes": {"path": "list_sizes.csv"}},
        "pcns": {"path": "pcns.csv"},
        "registrations": {"path": "registrations.csv"},
        "baseline": {"path": "baseline.csv"},
    }


#: Centre square -> member squares of each hand-made neighbourhood.
HAND_PLAN = {1: (1, 5, 9), 2: (2, 6, 10), 3: (3, 7, 11), 4: (4, 8, 12)}


def build_hand_plan(
    folder: Path, overrides: Sequence[str] = (), *, baseline: dict[int, str] | None = None
) -> Plan:
    """The grid with its primary-care layer, split by hand into its four columns (see tests/test_reconcile.py);
    ``overrides`` are ``--set`` style settings (e.g. ``alignment.coterminous_share=0.7``); ``baseline`` (square
    -> unit) replaces :data:`TINY_BASELINE`, ``{}`` gives no baseline file."""
    config = write_tiny_scenario(folder)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["inputs"].update(write_tiny_primary_care(folder, baseline=baseline))
    if baseline == {}:
        del raw["inputs"]["baseline"]
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    scenario = footprint.load_scenario(config, overrides=list(overrides))
    dataset = load_dataset(scenario)
    graph = build_graph(dataset.units, scenario.graph)
    homes = pcn_home_places(dataset)
    problems = {p: build_place_problem(dataset, graph, p, pcn_homes=homes) for p in dataset.place_codes}
    centre_of = {lsoa_code(m): lsoa_code(centre) for centre, members in HAND_PLAN.items() for m in members}
    solutions = {}
    for place, problem in problems.items():
        assert problem.centre_kind == "unit"  # centre index == unit index
        index = {code: i for i, code in enumerate(problem.unit_codes)}
        assignment = np.array([index[centre_of[code]] for code in problem.unit_codes], dtype=np.int64)
        solutions[place] = PlaceSolution(place_code=place, status="heuristic", assignment=assignment)
    plan = build_plan(dataset, graph, problems, solutions)
    assert plan.ok, plan.messages
    return plan
