"""Baselines mean what they say (issue 16): change codes against units clipped to a place, LSOAs with no baseline
unit counted as new, a baseline that covers too little refused, and no change figures anywhere without a baseline.

The hand plan is the 4 x 3 grid of ``tests/tiny.py`` split into its columns (each 3 LSOAs of 10,000 residents)::

      A09 | A10 | B11 | B12        A-01 = A01, A05, A09      B-01 = B03, B07, B11
      A05 | A06 | B07 | B08        A-02 = A02, A06, A10      B-02 = B04, B08, B12
      A01 | A02 | B03 | B04

against the baseline V = {A01, A05, A09, A02}, Z = {A06, B04, B08}, T = {B12}; A10, B03, B07 and B11 are in no
unit. Z crosses the borough boundary: 1 of its 3 LSOAs in Alpha, 2 in Beta (the issue's "3 of 23" in small).

- A-01 holds 3 of V's 4 LSOAs: S (split), and it keeps V, so A02 moved.
- A-02 holds A02 (V, moved), A06 (the whole of Z's Alpha part) and A10 (new): X (complex).
- B-01 has no LSOA with a baseline unit: N (new).
- B-02 is Z's Beta part (2 of its 3 LSOAs) plus the whole of T: M (merged), nothing moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from footprint import metrics
from footprint.cli import app
from footprint.compare import compare_runs
from footprint.plan import Plan
from tiny import build_hand_plan, lsoa_code, write_tiny_scenario

runner = CliRunner()
A1, A2, B1, B2 = "E09900001-01", "E09900001-02", "E09900002-01", "E09900002-02"
BASELINE = {1: "V", 5: "V", 9: "V", 2: "V", 6: "Z", 4: "Z", 8: "Z", 12: "T"}


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return build_hand_plan(tmp_path_factory.mktemp("baseline"), baseline=BASELINE)


def test_codes_against_clipped_units(plan: Plan) -> None:
    _, per_hood = metrics.summarise_changes(plan)
    rows = per_hood.set_index("neighbourhood_id")
    assert rows["change"].to_dict() == {A1: "S", A2: "X", B1: "N", B2: "M"}
    assert rows["baseline_units"].to_dict() == {A1: "V", A2: "V;Z", B1: "", B2: "T;Z"}
    assert rows["clipped_units"].to_dict() == {A1: "", A2: "Z 1/3", B1: "", B2: "Z 2/3"}
    assert rows["lsoas_moved"].to_dict() == {A1: 0, A2: 1, B1: 0, B2: 0}
    assert rows["residents_moved"].to_dict() == {A1: 0, A2: 10_000, B1: 0, B2: 0}
    assert rows["lsoas_new"].to_dict() == {A1: 0, A2: 1, B1: 3, B2: 0}
    assert rows["residents_new"].to_dict() == {A1: 0, A2: 10_000, B1: 30_000, B2: 0}


def test_lsoas_are_kept_moved_or_new(plan: Plan) -> None:
    per_lsoa, _ = metrics.summarise_changes(plan)
    status = dict(zip(per_lsoa["lsoa_code"], per_lsoa["change_status"], strict=True))
    assert {k for k in range(1, 13) if status[lsoa_code(k)] == "moved"} == {2}
    assert {k for k in range(1, 13) if status[lsoa_code(k)] == "new"} == {3, 7, 10, 11}
    assert per_lsoa["moved"].tolist() == (per_lsoa["change_status"] == "moved").tolist()


def test_place_figures_and_report_give_lsoas_beside_residents(plan: Plan, tmp_path: Path) -> None:
    from footprint.export import write_plan

    places = metrics.summarise_places(plan).set_index("place_code")
    alpha, beta = places.loc["E09900001"], places.loc["E09900002"]
    assert (alpha["lsoas_moved"], alpha["residents_moved"], alpha["lsoas_new"], alpha["residents_new"]) == (
        1,
        10_000,
        1,
        10_000,
    )
    assert (beta["lsoas_moved"], beta["residents_moved"], beta["lsoas_new"], beta["residents_new"]) == (
        0,
        0,
        3,
        30_000,
    )
    assert (alpha["split"], alpha["complex"], beta["new"], beta["merged"]) == (1, 1, 1, 1)
    write_plan(plan, tmp_path / "out")
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "| Patients involved | LSOAs moved | Residents moved |" in report
    assert "0 unchanged (U), 1 split (S), 1 merged (M), 1 complex (X), 1 new (N)" in report
    assert "**10,000 residents** in **1 LSOAs** move away" in report
    assert "40,000 residents in 4 LSOAs have no baseline unit: they are new" in report
    assert "| `E09900002-02` | M | T, Z (2/3) | 0 | 0 | 0 | 0 |" in report
    written = pd.read_csv(tmp_path / "out" / "changes.csv")
    assert written["change_status"].value_counts().to_dict() == {"kept": 7, "new": 4, "moved": 1}
    # compare reads the same figures back from the files
    headline = compare_runs([tmp_path / "out", tmp_path / "out"]).metrics.iloc[0]
    assert (headline["baseline"], headline["lsoas_moved"], headline["residents_moved"]) == ("file", 1, 10_000)
    assert (headline["lsoas_new"], headline["residents_new"]) == (4, 40_000)


def test_sample_codes_follow_the_definitions(quick_sample_run: Path) -> None:
    """On the sample: a neighbourhood with no LSOA moved is never X, and every clipped unit's ``inside/all``
    counts its LSOAs in the neighbourhood's place and in the whole area (the sample's U90005 has 3 of its 24 LSOAs
    in Eastgate)."""
    per_lsoa = pd.read_csv(quick_sample_run / "changes.csv", dtype={"baseline": str})
    per_hood = pd.read_csv(quick_sample_run / "changes_neighbourhoods.csv", keep_default_na=False)
    assert not ((per_hood["lsoas_moved"] == 0) & (per_hood["change"] == "X")).any()
    assert (per_hood["change"] != "X").any() or (per_hood["residents_moved"] > 0).all()
    places = pd.read_csv(quick_sample_run / "assignment.csv").set_index("lsoa_code")["place_code"]
    per_lsoa["place_code"] = per_lsoa["lsoa_code"].map(places)
    inside = per_lsoa.groupby(["baseline", "place_code"]).size()
    everywhere = per_lsoa.groupby("baseline").size()
    seen = []
    for row in per_hood.itertuples():
        for part in filter(None, row.clipped_units.split(";")):
            unit, counts = part.rsplit(" ", 1)
            assert counts == f"{inside[(unit, row.place_code)]}/{everywhere[unit]}"
            seen.append(part)
    assert "U90005 3/24" in seen


def _tiny(folder: Path, baseline: pd.DataFrame | None = None, **settings: object) -> Path:
    config = write_tiny_scenario(folder)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    if baseline is not None:
        baseline.to_csv(folder / "baseline.csv", index=False)
        raw["inputs"]["baseline"] = {"path": "baseline.csv"}
    raw.update(settings)
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return config


def test_a_baseline_matching_nothing_is_refused_with_the_numbers(tmp_path: Path) -> None:
    """The issue's case: 507 codes of another vintage, none in the boundaries, with weights.stability 1."""
    unmatched = pd.DataFrame(
        {"lsoa_code": [f"E01{k:06d}" for k in range(507)], "neighbourhood": [f"N{k % 9}" for k in range(507)]}
    )
    config = _tiny(tmp_path, unmatched, weights={"stability": 1})
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert (
        "baseline.csv: the baseline map covers 0 of the boundaries' 120,000 residents (0%; 0 of 12 LSOAs)"
        in text
    )
    assert "507 of its 507 LSOA codes are not in the boundaries" in text
    assert "LSOA vintage" in text and "E01000000, E01000001" in text and "and 499 more" in text
    assert not out.exists()
    assert runner.invoke(app, ["validate", str(config)]).exit_code == 2


def test_a_partial_baseline_lists_unmatched_codes_and_new_lsoas(tmp_path: Path) -> None:
    """8 of 12 squares (80,000 of 120,000 residents) plus two codes not in the boundaries: run, with warnings."""
    rows = [(lsoa_code(k), f"U{(k - 1) // 4}") for k in range(1, 9)] + [
        ("E01999998", "U9"),
        ("E01999999", "U9"),
    ]
    config = _tiny(tmp_path, pd.DataFrame(rows, columns=["lsoa_code", "neighbourhood"]))
    result = runner.invoke(app, ["validate", str(config)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2 of the baseline map's 10 LSOA codes are not in the boundaries" in text
    assert "E01999998, E01999999" in text
    assert "4 LSOAs (40,000 residents) are not in the baseline map; they count as new, not moved" in text
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet"]).exit_code == 0
    per_lsoa = pd.read_csv(out / "changes.csv")
    new = per_lsoa.loc[per_lsoa["change_status"] == "new", "lsoa_code"]
    assert sorted(new) == [lsoa_code(k) for k in range(9, 13)]
    assert not per_lsoa.loc[per_lsoa["change_status"] == "new", "moved"].any()
    codes = {entry["code"] for entry in json.loads((out / "run.json").read_text())["findings"]}
    assert {"baseline.unmatched", "baseline.missing"} <= codes


@pytest.fixture(scope="module")
def no_baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny grid with neither a baseline file nor registrations, and weights.stability 1."""
    folder = tmp_path_factory.mktemp("none")
    config = _tiny(folder / "in", weights={"stability": 1})
    out = folder / "run"
    result = runner.invoke(app, ["run", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "weights.stability is 1 but there is no baseline map" in " ".join(result.output.split())
    return out


def test_no_baseline_means_no_change_figures_anywhere(no_baseline_run: Path) -> None:
    out = no_baseline_run
    assert not (out / "changes.csv").exists() and not (out / "changes_neighbourhoods.csv").exists()
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["baseline"] == {"source": "none", "file": None}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.count("No baseline") == 1 and "complex (X)" not in report
    headline = [line for line in report.splitlines() if line.startswith("| `E09900001`")]
    assert headline[0].endswith("| - | - |")  # LSOAs moved, residents moved
    lsoas = gpd.read_file(out / "neighbourhoods.gpkg", layer="lsoas")
    assert lsoas["moved"].isna().all() and lsoas["change_status"].isna().all()


def test_no_baseline_run_reports_checks_and_compares(no_baseline_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(no_baseline_run)])
    assert result.exit_code == 0, result.output
    assert not (no_baseline_run / "changes.csv").exists()
    result = runner.invoke(app, ["check", str(no_baseline_run)])
    assert result.exit_code == 0, result.output
    comparison = compare_runs([no_baseline_run, no_baseline_run])
    figures = comparison.metrics.iloc[0]
    assert figures["baseline"] == "none"
    assert all(pd.isna(figures[name]) for name in metrics.CHANGE_COUNTS)
    result = runner.invoke(app, ["compare", str(no_baseline_run), str(no_baseline_run), "--json"])
    assert result.exit_code == 0, result.output
    data = next(iter(json.loads(result.stdout)["metrics"].values()))
    assert data["baseline"] == "none" and data["residents_moved"] is None and data["lsoas_moved"] is None


def test_a_report_without_a_baseline_drops_stale_change_files(no_baseline_run: Path) -> None:
    import shutil

    copy = no_baseline_run.parent / "copy"  # beside the run: run.json's paths are relative
    shutil.copytree(no_baseline_run, copy)
    (copy / "changes.csv").write_text(
        "lsoa_code,baseline,neighbourhood_id,population,moved\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert not (copy / "changes.csv").exists()


def test_changes_written_before_change_status_count_unlabelled_lsoas_as_new() -> None:
    old = pd.DataFrame(
        {
            "lsoa_code": ["a", "b", "c", "d"],
            "baseline": ["U1", "U1", None, "U2"],
            "population": [10, 20, 30, 40],
            "moved": [False, True, True, False],
        }
    )
    assert metrics.count_changes(old) == {
        "lsoas_moved": 1,
        "residents_moved": 20,
        "lsoas_new": 1,
        "residents_new": 30,
    }
    assert metrics.count_changes(old.assign(baseline=None, moved=True)) is None  # an old run with no baseline
    assert metrics.count_changes(pd.DataFrame()) is None
