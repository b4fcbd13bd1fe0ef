"""Maps people bring: reading them (table, LSOA layer, polygons), evaluating them and repairing them, on the sample.

The sample's own run (``quick_sample_run``) is the map everyone starts from: its ``lsoas`` layer follows every rule.
Edits then break it in known ways: three LSOAs of one neighbourhood handed to a distant one (a piece cut off, and
the first one under its minimum), one LSOA left out, one given twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SAMPLE_CONFIG
from footprint.cli import app
from footprint.errors import InputDataError
from footprint.evaluate import evaluate_map, repair_map
from footprint.mapinput import read_map

runner = CliRunner()


@pytest.fixture(scope="module")
def layer(quick_sample_run: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(quick_sample_run / "neighbourhoods.gpkg", layer="lsoas")


@pytest.fixture(scope="module")
def edited(layer: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    """The first neighbourhood's three lowest-coded LSOAs given to the third, and its sixth left out."""
    hoods = sorted(layer["neighbourhood_id"].unique())
    first = sorted(layer.loc[layer["neighbourhood_id"] == hoods[0], "lsoa_code"])
    frame = layer.copy()
    frame.loc[frame["lsoa_code"].isin(first[:3]), "neighbourhood_id"] = hoods[2]
    frame.loc[frame["lsoa_code"] == first[5], "neighbourhood_id"] = None
    path = tmp_path_factory.mktemp("maps") / "edited.gpkg"
    frame.to_file(path, layer="lsoas")
    return path, first, hoods[2]


def test_own_lsoa_layer_follows_every_rule(quick_sample_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(SAMPLE_CONFIG),
            str(quick_sample_run / "neighbourhoods.gpkg"),
            "--out",
            str(tmp_path / "e"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "follows every rule" in result.output
    record = json.loads((tmp_path / "e" / "run.json").read_text())
    assert record["status"] == "evaluated"
    assert record["follows_rules"] is True
    assert {p["status"] for p in record["places"]} == {"evaluated"}
    assert len(record["map"]["sha256"]) == 64
    assert record["verifier"]["ok"] is True
    written = pd.read_csv(tmp_path / "e" / "assignment.csv")
    original = pd.read_csv(quick_sample_run / "assignment.csv")
    assert written.equals(original)  # the map's own ids are kept
    result = runner.invoke(app, ["check", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    assert "evaluated map follows every rule" in result.output


def test_edited_map_names_every_breach_with_numbers(
    edited: tuple[Path, list[str], str], tmp_path: Path
) -> None:
    path, first, target = edited
    result = runner.invoke(
        app, ["evaluate", str(SAMPLE_CONFIG), str(path), "--out", str(tmp_path / "e"), "--json"]
    )
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    rules = {b["rule"]: b for b in payload["breaches"]}
    assert set(rules) == {"contiguity", "left out", "population"}
    cut = rules["contiguity"]
    assert cut["neighbourhood"] == target and cut["lsoas"] == first[:3]
    assert "cut off from its main part" in cut["message"] and "Northbank 001A" in cut["message"]
    assert rules["left out"]["lsoas"] == [first[5]]
    assert "under the minimum of 30,000" in rules["population"]["message"]
    record = json.loads((tmp_path / "e" / "run.json").read_text())
    assert record["status"] == "evaluated" and record["follows_rules"] is False
    assert record["verifier"]["ok"] is False  # never written as if valid
    assert "P0001" in record["failed_places"]
    breaches = pd.read_csv(tmp_path / "e" / "breaches.csv")
    assert len(breaches) == 3
    marked = gpd.read_file(tmp_path / "e" / "neighbourhoods.gpkg", layer="breaches")
    assert set(marked["lsoa_code"]) == {*first[:3], first[5]}
    assert "breaks the rules 3 times" in (tmp_path / "e" / "report.md").read_text()
    # marked on the maps: the neighbourhood under its bound outlined, the four LSOAs hatched, both in the key
    page = (tmp_path / "e" / "map.html").read_text()
    data = json.loads(page.split("const DATA = ", 1)[1].split(";\n", 1)[0].replace("<\\/", "</"))
    kinds = [f["properties"]["kind"] for f in data["breaches"]["features"]]
    assert sorted(kinds) == ["bounds", "lsoa", "lsoa", "lsoa", "lsoa"]
    assert "neighbourhood outside the population bounds" in page


def test_table_given_twice_and_crossing_places(layer: gpd.GeoDataFrame, tmp_path: Path) -> None:
    table = pd.DataFrame({"LSOA11CD": layer["lsoa_code"], "Neighbourhood": layer["neighbourhood_id"]})
    one = table.iloc[0]
    other_place = table[~table["Neighbourhood"].str.startswith(one["Neighbourhood"][:5])].iloc[0]
    twice = pd.DataFrame({"LSOA11CD": [one["LSOA11CD"]], "Neighbourhood": [other_place["Neighbourhood"]]})
    path = tmp_path / "map.csv"
    pd.concat([table, twice]).to_csv(path, index=False)
    evaluation = evaluate_map(SAMPLE_CONFIG, path)
    rules = {b.rule for b in evaluation.breaches}
    assert rules == {"given twice"}
    (breach,) = evaluation.breaches
    assert breach.lsoas == (one["LSOA11CD"],) and "the first is used" in breach.message
    # the LSOA moved into the other place: its neighbourhood crosses a place boundary
    table.loc[table["LSOA11CD"] == one["LSOA11CD"], "Neighbourhood"] = other_place["Neighbourhood"]
    table.to_csv(path, index=False)
    evaluation = evaluate_map(SAMPLE_CONFIG, path)
    crossing = [b for b in evaluation.breaches if b.rule == "place"]
    assert len(crossing) == 1 and crossing[0].lsoas == (one["LSOA11CD"],)
    assert "crosses a place boundary" in crossing[0].message
    assert not evaluation.ok


def test_polygons_are_read_by_area_majority(quick_sample_run: Path, tmp_path: Path) -> None:
    hoods = gpd.read_file(quick_sample_run / "neighbourhoods.gpkg", layer="neighbourhoods")
    path = tmp_path / "drawn.geojson"
    hoods[["neighbourhood_id", "geometry"]].to_crs("EPSG:4326").to_file(path)
    evaluation = evaluate_map(SAMPLE_CONFIG, path)
    assert evaluation.map.kind == "polygons"
    assert evaluation.ok, [b.message for b in evaluation.breaches]
    assert len(evaluation.map.split) == 0


def test_map_errors_are_one_line(tmp_path: Path, quick_sample_run: Path) -> None:
    units = gpd.read_file(quick_sample_run / "neighbourhoods.gpkg", layer="lsoas")
    path = tmp_path / "map.csv"
    pd.DataFrame({"lsoa_code": ["E01900001"], "colour": ["red"]}).to_csv(path, index=False)
    with pytest.raises(InputDataError, match=r"map.csv: no neighbourhood column .*--column"):
        read_map(path, units)
    pd.DataFrame({"lsoa_code": ["X1", "X2"], "neighbourhood": ["a", "b"]}).to_csv(path, index=False)
    with pytest.raises(InputDataError, match=r"none of the 2 codes in column 'lsoa_code' is an LSOA"):
        read_map(path, units)
    result = runner.invoke(app, ["evaluate", str(SAMPLE_CONFIG), str(path), "--out", str(tmp_path / "e")])
    assert result.exit_code == 2
    assert not (tmp_path / "e").exists()


def test_repair_moves_back_only_the_broken_lsoas(edited: tuple[Path, list[str], str], tmp_path: Path) -> None:
    path, first, _ = edited
    result = runner.invoke(
        app,
        [
            "repair",
            str(SAMPLE_CONFIG),
            str(path),
            "--out",
            str(tmp_path / "r"),
            "--time-limit",
            "20",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    moves = pd.DataFrame(payload["moves"])
    assert sorted(moves["lsoa_code"]) == sorted([*first[:3], first[5]])
    assert set(moves["to"]) == {
        sorted(set(pd.read_csv(tmp_path / "r" / "assignment.csv")["neighbourhood_id"]))[0]
    }
    assert moves.loc[moves["lsoa_code"] == first[0], "reason"].item().startswith("contiguity: cut off")
    record = json.loads((tmp_path / "r" / "run.json").read_text())
    assert record["verifier"]["ok"] is True
    assert record["repair"]["lsoas_moved"] == 4
    assert (tmp_path / "r" / "moves.csv").is_file()


def test_repair_keeps_what_the_workshop_insists_on(edited: tuple[Path, list[str], str]) -> None:
    path, first, _ = edited
    repair = repair_map(SAMPLE_CONFIG, path, keep=[first[6]], overrides=["solver.time_limit=20"])
    assert repair.ok
    assert first[6] not in set(repair.moves["lsoa_code"])
    with pytest.raises(InputDataError, match=r"--keep: E00000000 is not LSOAs|--keep: E00000000 is not"):
        repair_map(SAMPLE_CONFIG, path, keep=["E00000000"])


def test_repair_keeps_the_lsoas_marked_in_the_maps_keep_column(
    edited: tuple[Path, list[str], str], tmp_path: Path
) -> None:
    path, first, target = edited
    frame = gpd.read_file(path, layer="lsoas")
    stays = sorted(
        frame.loc[frame["neighbourhood_id"] == target, "lsoa_code"].drop(labels=[], errors="ignore")
    )
    stays = [code for code in stays if code not in first[:3]][:2]
    table = pd.DataFrame(
        {
            "lsoa_code": frame["lsoa_code"],
            "neighbourhood": frame["neighbourhood_id"],
            "keep": ["yes" if code in stays else "" for code in frame["lsoa_code"]],
        }
    )
    table.to_csv(tmp_path / "map.csv", index=False)
    repair = repair_map(SAMPLE_CONFIG, tmp_path / "map.csv", overrides=["solver.time_limit=20"])
    assert repair.ok
    assert not set(stays) & set(repair.moves["lsoa_code"])
    after = dict(
        zip(repair.plan.assignment["lsoa_code"], repair.plan.assignment["neighbourhood_id"], strict=True)
    )
    assert {after[code] for code in stays} == {target}
    # the keep column is a lock the verifier checks: a kept LSOA with no neighbourhood cannot stay anywhere
    table.loc[table["lsoa_code"] == first[5], "keep"] = "yes"
    table.to_csv(tmp_path / "map.csv", index=False)
    with pytest.raises(InputDataError, match=rf"--keep: {first[5]} is in no neighbourhood of the map"):
        repair_map(SAMPLE_CONFIG, tmp_path / "map.csv", overrides=["solver.time_limit=20"])


def test_improve_moves_at_most_the_share_and_beats_the_least_change(
    edited: tuple[Path, list[str], str],
) -> None:
    from footprint.objective import evaluate_terms, weighted_objective

    path, _, _ = edited
    options = ["solver.time_limit=20"]
    least = repair_map(SAMPLE_CONFIG, path, overrides=options)
    share = 0.25
    improved = repair_map(SAMPLE_CONFIG, path, overrides=options, improve=share)
    assert improved.ok and least.ok
    for place, problem in improved.plan.problems.items():  # the scenario's weights, the map's locks
        assert improved.residents_moved()[place] <= share * problem.total_population
        assert least.residents_moved()[place] <= improved.residents_moved()[place]
        objective = {
            name: weighted_objective(
                problem, evaluate_terms(problem, repair.plan.solutions[place].assignment)
            )
            for name, repair in (("least", least), ("improved", improved))
        }
        assert objective["improved"] <= objective["least"] + 1e-9, (place, objective)
    assert any(s.method == "least-change mip-cuts, improve" for s in improved.plan.solutions.values())


def test_check_and_report_on_an_evaluated_folder(edited: tuple[Path, list[str], str], tmp_path: Path) -> None:
    path, first, target = edited
    folder = tmp_path / "e"
    result = runner.invoke(app, ["evaluate", str(SAMPLE_CONFIG), str(path), "--out", str(folder), "--quiet"])
    assert result.exit_code == 1, result.output
    report = (folder / "report.md").read_text()
    assert report.startswith("# Evaluated map: ")

    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 1, result.output
    assert f"breach: P0001, contiguity: neighbourhood {target} is in 2 pieces" in result.output
    assert "evaluated map breaks the rules 3 times" in result.output
    payload = json.loads(runner.invoke(app, ["check", str(folder), "--json"]).output)
    assert payload["evaluated"] is True and len(payload["breaches"]) == 3 and payload["ok"] is False

    (folder / "report.md").unlink()
    breaches = (folder / "breaches.csv").read_text()
    result = runner.invoke(app, ["report", str(folder), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (folder / "report.md").read_text() == report
    assert (folder / "breaches.csv").read_text() == breaches
    marked = gpd.read_file(folder / "neighbourhoods.gpkg", layer="breaches")
    assert set(marked["lsoa_code"]) == {*first[:3], first[5]}


@pytest.mark.parametrize("improve", [None, 0.2], ids=["least-change", "improve"])
def test_counted_repair_is_the_same_on_a_slow_machine(
    edited: tuple[Path, list[str], str],
    slow_clock,
    highs_limits: list[tuple[str, object]],
    improve: float | None,
) -> None:
    """With counted work (solver.counted) no clock decides a repair: the heuristic runs to its counts and each
    HiGHS solve of the least-change model to a node limit, with no time limit. Under a clock that jumps 1,000 s a
    reading the repair is the one on this machine: plan, moves, each place's status, objective, bound and message."""
    path, _, _ = edited
    overrides = ["solver.counted=true", "solver.time_limit=20"]
    here = repair_map(SAMPLE_CONFIG, path, overrides=overrides, improve=improve)
    assert highs_limits and {name for name, _ in highs_limits} == {"mip_max_nodes"}
    slow_clock()
    there = repair_map(SAMPLE_CONFIG, path, overrides=overrides, improve=improve)
    assert here.ok and there.ok
    pd.testing.assert_frame_equal(here.plan.assignment, there.plan.assignment)
    pd.testing.assert_frame_equal(here.moves, there.moves)
    assert here.plan.statuses == there.plan.statuses
    for place, solution in here.plan.solutions.items():
        other = there.plan.solutions[place]
        assert (solution.objective, solution.bound, solution.message) == (
            other.objective,
            other.bound,
            other.message,
        )
