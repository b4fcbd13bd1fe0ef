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
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

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
