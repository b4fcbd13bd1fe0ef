"""Bring your own map on real London data: run a borough, edit its ``lsoas`` layer as a workshop would in QGIS,
evaluate, repair and compare (issue 18's round trip; one borough, about two minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from footprint.cli import app

pytestmark = [pytest.mark.london, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "london.yaml"
PLACE = "E09000007"  # Camden
runner = CliRunner()


def test_round_trip_run_edit_evaluate_repair_compare(tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = ["--place", PLACE, "--time-limit", "20"]
    result = runner.invoke(app, ["run", str(CONFIG), "--out", str(run), *common, "--quiet"])
    assert result.exit_code == 0, result.output

    # the workshop's edit: the most populous neighbourhood takes the LSOAs of a neighbour along their shared edge
    # (over its bound), and one LSOA far from the smallest neighbourhood is handed to it (cut off from it)
    lsoas = gpd.read_file(run / "neighbourhoods.gpkg", layer="lsoas")
    hoods = pd.read_csv(run / "neighbourhoods.csv").sort_values("population")
    big, small = hoods["neighbourhood_id"].iloc[-1], hoods["neighbourhood_id"].iloc[0]
    big_shape = lsoas[lsoas["neighbourhood_id"] == big].union_all()
    edge = lsoas[
        (lsoas["neighbourhood_id"] != big) & (lsoas["neighbourhood_id"] != small) & lsoas.touches(big_shape)
    ]
    grabbed = edge.sort_values("lsoa_code").head(8)["lsoa_code"].tolist()
    small_point = lsoas[lsoas["neighbourhood_id"] == small].union_all().representative_point()
    others = lsoas[(lsoas["neighbourhood_id"] != small) & ~lsoas["lsoa_code"].isin(grabbed)]
    far = others.loc[others.distance(small_point).idxmax(), "lsoa_code"]
    edited = lsoas.copy()
    edited.loc[edited["lsoa_code"].isin(grabbed), "neighbourhood_id"] = big
    edited.loc[edited["lsoa_code"] == far, "neighbourhood_id"] = small
    map_path = tmp_path / "workshop.gpkg"
    edited.to_file(map_path, layer="lsoas")

    result = runner.invoke(
        app, ["evaluate", str(CONFIG), str(map_path), "--out", str(tmp_path / "ev"), *common[:2], "--json"]
    )
    assert result.exit_code == 1, result.output
    breaches = json.loads(result.output)["breaches"]
    over = [b for b in breaches if b["rule"] == "population" and b["neighbourhood"] == big]
    assert over and "over the maximum of 50,000" in over[0]["message"]
    cut = [b for b in breaches if b["rule"] == "contiguity" and b["neighbourhood"] == small]
    assert cut and far in cut[0]["lsoas"] and "cut off from its main part" in cut[0]["message"]

    result = runner.invoke(
        app, ["repair", str(CONFIG), str(map_path), "--out", str(tmp_path / "rep"), *common, "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    moved = pd.DataFrame(payload["moves"])
    assert far in set(moved["lsoa_code"])
    assert 1 <= len(moved) <= 15, moved
    record = json.loads((tmp_path / "rep" / "run.json").read_text())
    assert record["verifier"]["ok"] is True

    result = runner.invoke(
        app,
        ["compare", str(run), str(tmp_path / "ev"), str(tmp_path / "rep"), "--out", str(tmp_path / "cmp")],
    )
    assert result.exit_code == 0, result.output
    side = (tmp_path / "cmp" / "metrics.csv").read_text()
    assert all(label in side for label in ("run", "ev", "rep"))
