"""End to end on the bundled sample and the tiny grid: outputs, determinism, check, exit codes, API."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

import footprint
from footprint.cli import app
from tiny import write_tiny_scenario

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "configs" / "sample.yaml"
runner = CliRunner()
FILES = {
    "assignment.csv",
    "places.csv",
    "status_quo.csv",
    "neighbourhoods.csv",
    "neighbourhoods.gpkg",
    "neighbourhoods.geojson",
    "run.json",
    "realignment_pcns.csv",
    "realignment_practices.csv",
    "changes.csv",
    "changes_neighbourhoods.csv",
    "map.png",
    "map.html",
    "report.md",
    "report.html",
}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "sample"
    result = runner.invoke(app, ["run", str(SAMPLE), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_sample_outputs(sample_run: Path) -> None:
    assert {p.name for p in sample_run.iterdir()} == FILES
    assignment = pd.read_csv(sample_run / "assignment.csv", dtype=str)
    assert list(assignment.columns) == ["lsoa_code", "neighbourhood_id", "place_code"]
    assert assignment["lsoa_code"].is_unique and assignment["lsoa_code"].is_monotonic_increasing
    assert len(assignment) == len(gpd.read_file(REPO / "sample_data" / "lsoas.gpkg", layer="lsoas"))
    assert set(assignment["neighbourhood_id"].str.rsplit("-", n=1).str[0]) == {"P0001", "P0002"}
    hoods = gpd.read_file(sample_run / "neighbourhoods.gpkg", layer="neighbourhoods")
    assert hoods.crs.to_epsg() == 27700 and hoods["within_bounds"].all()
    assert set(gpd.list_layers(sample_run / "neighbourhoods.gpkg")["name"]) == {
        "neighbourhoods",
        "lsoas",
        "hubs",
        "practices",
    }
    geojson = json.loads((sample_run / "neighbourhoods.geojson").read_text())
    assert len(geojson["features"]) == len(hoods)
    # a yes/no column is a boolean in every file, not True/False in the CSV and 0/1 in the geo files
    assert hoods["within_bounds"].dtype == bool
    assert pd.read_csv(sample_run / "neighbourhoods.csv")["within_bounds"].dtype == bool
    assert all(f["properties"]["within_bounds"] is True for f in geojson["features"])
    x, y = geojson["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert -1 < x < 1.5 and 51 < y < 52  # longitude/latitude


def test_decision_record(sample_run: Path) -> None:
    record = json.loads((sample_run / "run.json").read_text())
    assert record["tool"]["name"] == "footprint" and record["status"] == "ok"
    assert record["verifier"]["ok"] and record["verifier"]["places_verified"] == ["P0001", "P0002"]
    assert all(len(entry["sha256"]) == 64 for entry in record["inputs"].values())
    assert any(path.endswith("sample-ePCN.xlsx") for path in record["inputs"])
    for place in record["places"]:
        assert place["status"] in ("optimal", "feasible")
        assert set(place["terms"]) == {"access", "pcn", "demand", "stability", "community"}
        assert place["bound"] <= place["objective"] + 1e-9
        assert place["solver"]
        assert place["heuristic_runs"] == 1  # configs/sample.yaml asks for one (8 by the 60 s limit alone)
    assert record["config"]["pop"] == {"min": 30000, "max": 50000, "measure": "residents"}


def test_neighbourhood_populations_sum_to_places(sample_run: Path) -> None:
    hoods = pd.read_csv(sample_run / "neighbourhoods.csv")
    units = gpd.read_file(REPO / "sample_data" / "lsoas.gpkg")
    population = pd.read_csv(REPO / "sample_data" / "population.csv")
    assert hoods["population"].sum() == population["Persons_All-Ages"].sum()
    assert len(units) == hoods["lsoas"].sum()


def test_rerun_is_byte_identical(sample_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = runner.invoke(app, ["run", str(SAMPLE), "--out", str(again), "--quiet"])
    assert result.exit_code == 0, result.output
    for name in sorted(FILES - {"run.json"}):
        assert (again / name).read_bytes() == (sample_run / name).read_bytes(), name
    first, second = (json.loads((d / "run.json").read_text()) for d in (sample_run, again))
    first.pop("timing"), second.pop("timing")
    assert first == second


def test_check_passes_then_fails_on_a_tampered_plan(sample_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(sample_run)])
    assert result.exit_code == 0, result.output
    assert "plan verified" in result.output
    broken = tmp_path / "broken"
    shutil.copytree(sample_run, broken)
    assignment = pd.read_csv(broken / "assignment.csv", dtype=str)
    first_place = assignment["place_code"] == "P0001"
    ids = sorted(assignment.loc[first_place, "neighbourhood_id"].unique())
    row = assignment.index[first_place & (assignment["neighbourhood_id"] == ids[0])][0]
    assignment.loc[row, "neighbourhood_id"] = ids[-1]
    assignment.drop(assignment.index[-1]).to_csv(broken / "assignment.csv", index=False)
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    assert "P0001: FAILED" in result.output
    assert "complete: 1 LSOAs are not assigned" in result.output


def test_run_record_paths_do_not_depend_on_the_working_folder(tmp_path: Path, monkeypatch) -> None:
    """run.json writes its paths relative to the run folder: the same record whichever folder footprint run was
    started from (relative config and output paths alike), and footprint check / report work from any folder."""
    config = write_tiny_scenario(tmp_path / "inputs" / "tiny")
    records = []
    for start in (tmp_path, tmp_path / "inputs"):
        monkeypatch.chdir(start)
        relative_config = Path(os.path.relpath(config, start))
        relative_out = Path(os.path.relpath(tmp_path / "runs" / "tiny", start))
        result = runner.invoke(app, ["run", str(relative_config), "--out", str(relative_out), "--quiet"])
        assert result.exit_code == 0, result.output
        record = json.loads((tmp_path / "runs" / "tiny" / "run.json").read_text())
        record.pop("timing")
        records.append(record)
    assert records[0] == records[1]
    assert records[0]["scenario"]["file"] == "../../inputs/tiny/scenario.yaml"
    assert records[0]["config"]["inputs"]["units"]["path"].startswith("../../inputs/tiny/")
    assert all(path.startswith("../../inputs/tiny/") for path in records[0]["inputs"])
    monkeypatch.chdir(tmp_path / "runs")
    result = runner.invoke(app, ["check", "tiny"])
    assert result.exit_code == 0 and "plan verified" in result.output, result.output
    result = runner.invoke(app, ["report", "tiny"])
    assert result.exit_code == 0, result.output
    assert "changed" not in result.output


def test_infeasible_place_exits_1_and_others_are_written(tmp_path: Path) -> None:
    """Borough Beta gets 60,000 residents in 6 LSOAs but its last LSOA alone exceeds pop.max."""
    config = write_tiny_scenario(tmp_path / "tiny")
    population = pd.read_csv(tmp_path / "tiny" / "population.csv")
    population.loc[population["LSOA21CD"] == "E01900012", "Persons_All-Ages"] = 45_000
    population.to_csv(tmp_path / "tiny" / "population.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(config), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert (
        "E09900002: Place E09900002 (Beta, 95,000 residents): LSOAs larger than pop.max 40,000: E01900012 (45,000)"
        in result.output
    )
    record = json.loads((out / "run.json").read_text())
    assert record["failed_places"] == ["E09900002"]
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    assert set(assignment["place_code"]) == {"E09900001"}


def test_python_api(tmp_path: Path) -> None:
    config = write_tiny_scenario(tmp_path / "tiny")
    scenario = footprint.load_scenario(config, overrides=["weights.community=1"])
    plan = footprint.run_scenario(scenario)
    assert plan.ok and plan.statuses == {"E09900001": "optimal", "E09900002": "optimal"}
    # 60,000 residents per borough and bounds 20,000-40,000 allow 2 or 3; compactness prefers 3 pairs of squares
    assert plan.assignment.groupby("place_code")["neighbourhood_id"].nunique().to_dict() == {
        "E09900001": 3,
        "E09900002": 3,
    }
    files = footprint.write_plan(plan, tmp_path / "api")
    assert {f.name for f in files} >= {"assignment.csv", "run.json"}
    # overrides apply to a loaded scenario too (they were silently ignored): k.max=2 gives 2 per borough
    two = footprint.run_scenario(scenario, overrides=["k.max=2", "solver.method=heuristic"])
    used = two.dataset.scenario
    assert used.k.max == 2 and used.weights.community == 1 and scenario.k.max is None
    assert set(two.assignment.groupby("place_code")["neighbourhood_id"].nunique()) == {2}


def test_dask_cluster_run_is_byte_identical_to_the_local_run(sample_run: Path, tmp_path: Path) -> None:
    """The sample solved on a 2-worker Dask cluster (places pickled to worker processes) == the local run."""
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        result = runner.invoke(
            app, ["run", str(SAMPLE), "--out", str(out), "--quiet", "--scheduler", address]
        )
    assert result.exit_code == 0, result.output
    for name in sorted(FILES - {"run.json"}):
        assert (out / name).read_bytes() == (sample_run / name).read_bytes(), name
    local, remote = (json.loads((d / "run.json").read_text()) for d in (sample_run, out))
    assert (
        remote["config"]["solver"]["executor"] == "dask"
        and remote["config"]["solver"]["scheduler"] == address
    )
    for record in (local, remote):
        record.pop("timing")
        for settings in (record["config"]["solver"], record["solver"]["settings"]):
            settings.pop("executor"), settings.pop("scheduler")
    assert local == remote
