"""``footprint compare``: neighbourhood matching on hand-drawn plans, headline figures, files, CLI, Python API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import footprint
from footprint.cli import app
from footprint.compare import compare_runs, diff_assignments, match_neighbourhoods, run_labels
from footprint.errors import InputDataError
from tiny import lsoa_code, write_tiny_scenario

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "configs" / "sample.yaml"
runner = CliRunner()


def plan_frame(neighbourhoods: dict[str, list[int]], place: str = "A") -> pd.DataFrame:
    """An assignment of tiny-grid squares (10,000 residents each) to neighbourhoods of one place."""
    rows = [
        {"lsoa_code": lsoa_code(k), "neighbourhood_id": hood, "place_code": place, "population": 10_000}
        for hood, squares in neighbourhoods.items()
        for k in squares
    ]
    return pd.DataFrame(rows).sort_values("lsoa_code", ignore_index=True)


# Borough Alpha of tests/tiny.py (squares by number)::
#
#     9 | 10          reference          pairs
#     5 |  6          A-01 = 9, 10, 5    A-01 = 9, 10
#     1 |  2          A-02 = 6, 1, 2     A-02 = 5, 6
#                                        A-03 = 1, 2
REFERENCE = {"A-01": [9, 10, 5], "A-02": [6, 1, 2]}


def test_relabelled_plan_is_no_change() -> None:
    relabelled = plan_frame({"A-02": [9, 10, 5], "A-01": [6, 1, 2]})
    matches = match_neighbourhoods(plan_frame(REFERENCE), relabelled)
    assert matches[["neighbourhood_id", "matched_id", "residents_shared"]].values.tolist() == [
        ["A-01", "A-02", 30_000],
        ["A-02", "A-01", 30_000],
    ]
    assert not diff_assignments(plan_frame(REFERENCE), relabelled)["changed"].any()


def test_one_moved_lsoa_is_the_only_change_even_when_ids_are_swapped() -> None:
    moved = plan_frame({"A-02": [9, 10, 5, 6], "A-01": [1, 2]})  # square 6 joins the north, ids swapped
    diff = diff_assignments(plan_frame(REFERENCE), moved)
    assert diff.loc[diff["changed"], "lsoa_code"].tolist() == [lsoa_code(6)]
    row = diff[diff["lsoa_code"] == lsoa_code(6)].iloc[0]
    assert (row["reference_id"], row["other_id"], row["other_as_reference"]) == ("A-02", "A-02", "A-01")


def test_a_different_count_leaves_the_unpaired_neighbourhood_changed() -> None:
    """The pairing A-01 <-> pairs' A-01 (20,000 shared) and A-02 <-> A-03 (20,000) beats any other (30,000 at
    most), so the middle pair (squares 5 and 6) has no partner: those two squares changed."""
    pairs = plan_frame({"A-01": [9, 10], "A-02": [5, 6], "A-03": [1, 2]})
    matches = match_neighbourhoods(plan_frame(REFERENCE), pairs)
    assert dict(zip(matches["neighbourhood_id"], matches["matched_id"], strict=True)) == {
        "A-01": "A-01",
        "A-02": "A-03",
    }
    diff = diff_assignments(plan_frame(REFERENCE), pairs)
    assert diff.loc[diff["changed"], "lsoa_code"].tolist() == [lsoa_code(5), lsoa_code(6)]


def test_residents_outweigh_lsoa_counts_when_pairing() -> None:
    """Reference X = squares 1, 2, 5 and Y = 6; other P = 1, 2 and Q = 5, 6; square 5 has 50,000 residents.
    X-Q share 50,000 (one LSOA) and beat X-P + Y-Q (30,000, three LSOAs); Y then shares nothing with P."""
    reference = plan_frame({"X": [1, 2, 5], "Y": [6]})
    other = plan_frame({"P": [1, 2], "Q": [5, 6]})
    reference.loc[reference["lsoa_code"] == lsoa_code(5), "population"] = 50_000
    other.loc[other["lsoa_code"] == lsoa_code(5), "population"] = 50_000
    matches = match_neighbourhoods(reference, other)
    assert dict(zip(matches["neighbourhood_id"], matches["matched_id"], strict=True)) == {"X": "Q"}


def test_lsoas_planned_in_one_run_only_count_as_changed() -> None:
    partial = plan_frame({"A-01": [9, 10, 5]})
    diff = diff_assignments(plan_frame(REFERENCE), partial)
    assert diff.loc[diff["changed"], "lsoa_code"].tolist() == [lsoa_code(k) for k in (1, 2, 6)]


def test_run_labels_are_unique() -> None:
    assert run_labels([Path("/x/a/run"), Path("/x/b/run")]) == ["a/run", "b/run"]
    assert run_labels([Path("/x/a"), Path("/x/b")]) == ["a", "b"]


# ---- written runs ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny grid planned as 2 neighbourhoods per borough (k.max=2) and as 3 (k.max=3)."""
    folder = tmp_path_factory.mktemp("tiny")
    config = write_tiny_scenario(folder / "in")
    runs = []
    for k in (2, 3):
        out = folder / f"k{k}"
        result = runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet", "--set", f"k.max={k}"])
        assert result.exit_code == 0, result.output
        runs.append(out)
    return runs[0], runs[1]


def test_headline_figures_on_the_tiny_grid(tiny_runs: tuple[Path, Path]) -> None:
    """Squares of 10,000 residents, 1 km apart, each centre one of its squares: a pair has half its residents
    0 km and half 1 km from the centre (mean 0.5 km); a triple (line or L, centre in the middle or corner) has
    2 of 3 at 1 km (mean 2/3 km)."""
    comparison = compare_runs(tiny_runs)
    metrics = comparison.metrics
    assert comparison.labels == ["k2", "k3"]
    assert metrics.loc["k2", ["neighbourhoods", "population_min", "population_max"]].tolist() == [
        4,
        30_000,
        30_000,
    ]
    assert metrics.loc["k3", ["neighbourhoods", "population_min", "population_max"]].tolist() == [
        6,
        20_000,
        20_000,
    ]
    assert metrics.loc["k2", "mean_distance_km"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics.loc["k3", "mean_distance_km"] == pytest.approx(0.5, abs=1e-6)
    assert metrics.loc["k2", "status"] == "ok" and metrics.loc["k2", "places_planned"] == 2
    assert pd.isna(metrics.loc["k2", "coterminosity_median"])  # the tiny grid has no PCNs
    # each borough: 6 squares, 2 or 3 neighbourhoods; the unpaired pair (and any square outside its partner)
    # changed, so every changed square is one that the matching could not keep
    shared = comparison.matches.groupby("place_code")["lsoas_shared"].sum()
    assert metrics.loc["k3", "lsoas_changed"] == int((6 - shared).sum())
    assert metrics.loc["k3", "residents_changed"] == 10_000 * metrics.loc["k3", "lsoas_changed"]
    assert metrics.loc["k3", "lsoas_changed"] >= 4  # at least the unpaired pair in each borough
    assert set(comparison.lsoas["changed_in"]) == {"k3"}


def test_relabelled_written_run_shows_no_change(tiny_runs: tuple[Path, Path], tmp_path: Path) -> None:
    original = tiny_runs[1]
    relabelled = tmp_path / "relabelled"
    shutil.copytree(original, relabelled)
    swap = {"E09900001-01": "E09900001-03", "E09900001-03": "E09900001-01"}
    assert not (relabelled / "changes.csv").exists()  # no baseline: residents come from neighbourhoods.gpkg
    for name in ("assignment.csv",):
        frame = pd.read_csv(relabelled / name, dtype=str)
        frame["neighbourhood_id"] = frame["neighbourhood_id"].replace(swap)
        frame.to_csv(relabelled / name, index=False)
    comparison = compare_runs([original, relabelled])
    assert comparison.metrics.loc["relabelled", "lsoas_changed"] == 0
    assert comparison.lsoas.empty


def test_compare_cli_table_json_and_files(tiny_runs: tuple[Path, Path], tmp_path: Path) -> None:
    k2, k3 = tiny_runs
    result = runner.invoke(app, ["compare", str(k2), str(k3)])
    assert result.exit_code == 0, result.output
    assert "mean_distance_km" in result.output and "0.67" in result.output and "0.50" in result.output
    assert "k3 vs k2:" in result.output and "in another neighbourhood" in result.output

    result = runner.invoke(app, ["compare", str(k2), str(k3), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reference"] == "k2" and data["metrics"]["k3"]["neighbourhoods"] == 6
    assert len(data["lsoas_changed"]) == data["metrics"]["k3"]["lsoas_changed"]

    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(k2), str(k3), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Headline figures" not in result.output
    assert {p.name for p in out.iterdir()} == {
        "metrics.csv",
        "lsoas_changed.csv",
        "matches.csv",
        "comparison.md",
        "difference_map.png",
    }
    side = pd.read_csv(out / "metrics.csv")
    assert list(side.columns) == ["metric", "meaning", "k2", "k3"]
    assert side.set_index("metric").loc["neighbourhoods", ["k2", "k3"]].astype(int).tolist() == [4, 6]
    assert (out / "difference_map.png").read_bytes()[:4] == b"\x89PNG"
    markdown = (out / "comparison.md").read_text()
    assert "| neighbourhoods" in markdown and "![LSOAs that changed](difference_map.png)" in markdown
    changed = pd.read_csv(out / "lsoas_changed.csv", dtype=str)
    assert len(changed) == int(side.set_index("metric").loc["lsoas_changed", "k3"])


def test_compare_errors_exit_2(tiny_runs: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", str(tiny_runs[0]), str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "nope: no such run folder" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["compare", str(tiny_runs[0])])
    assert result.exit_code == 2 and "at least two run folders" in result.output
    with pytest.raises(InputDataError, match=r"no run\.json"):
        compare_runs([tiny_runs[0], tmp_path])


def test_python_api_two_scenarios_compared_as_dataframes(tmp_path: Path) -> None:
    """The README's analyst flow on the sample: load, change a parameter, run twice, compare."""
    scenario = footprint.load_scenario(SAMPLE, overrides=["solver.method=heuristic"])
    more_pcn = scenario.model_copy(update={"weights": scenario.weights.model_copy(update={"pcn": 5.0})})
    for name, variant in (("base", scenario), ("pcn5", more_pcn)):
        footprint.write_plan(footprint.run_scenario(variant, workers=1), tmp_path / name)
    comparison = footprint.compare_runs([tmp_path / "base", tmp_path / "pcn5"])
    figures = comparison.metrics.loc[:, ["neighbourhoods", "mean_distance_km", "coterminosity_weighted"]]
    assert list(figures.index) == ["base", "pcn5"]
    # a heavier PCN weight buys PCN alignment with access
    assert figures.loc["pcn5", "coterminosity_weighted"] > figures.loc["base", "coterminosity_weighted"]
    assert figures.loc["pcn5", "mean_distance_km"] > figures.loc["base", "mean_distance_km"]
    assert (
        comparison.metrics.loc["pcn5", "lsoas_changed"] == comparison.lsoas["changed_in"].eq("pcn5").sum() > 0
    )
    assert set(comparison.lsoas.columns) >= {"lsoa_code", "place_code", "population", "base", "pcn5"}
    record = json.loads((tmp_path / "pcn5" / "run.json").read_text())
    assert record["config"]["weights"]["pcn"] == 5.0


@pytest.mark.london
def test_readme_example_on_two_london_boroughs(tmp_path: Path) -> None:
    """The README's Python example on real data (Hammersmith and Fulham, Kensington and Chelsea), 10 s a place."""
    places = ["E09000013", "E09000020"]
    for name, settings in {"pcn1": [], "pcn5": ["weights.pcn=5"]}.items():
        scenario = footprint.load_scenario(
            REPO / "configs" / "london.yaml", overrides=["solver.time_limit=10", *settings]
        )
        plan = footprint.run_scenario(scenario, places=places)
        assert plan.ok, plan.messages
        footprint.write_plan(plan, tmp_path / name)
    comparison = footprint.compare_runs([tmp_path / "pcn1", tmp_path / "pcn5"])
    metrics = comparison.metrics
    assert metrics["status"].tolist() == ["ok", "ok"] and metrics["places_planned"].tolist() == [2, 2]
    assert (metrics["population_min"] >= 30_000).all() and (metrics["population_max"] <= 50_000).all()
    # only the PCNs homed in the two boroughs are judged (London has about 200)
    pcns = pd.read_csv(tmp_path / "pcn1" / "realignment_pcns.csv")
    assert 0 < len(pcns) < 20 and set(pcns["home_place"]) <= set(places)
    assert (metrics["coterminosity_weighted"].between(0, 1, inclusive="neither")).all()
    assert metrics.loc["pcn5", "lsoas_changed"] == len(comparison.lsoas)
    assert set(comparison.lsoas["place_code"]) <= set(places)


def test_a_run_compared_with_itself_has_no_change(tiny_runs: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["compare", str(tiny_runs[1]), str(tiny_runs[1]), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "k3#2 vs k3#1: 0 LSOAs (0 residents) in another neighbourhood"
