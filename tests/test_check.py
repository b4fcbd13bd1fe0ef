"""``footprint run --check``: identical -> 0, different or tampered -> 1 naming what differs, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from footprint.cli import app
from footprint.compare import diff_outputs
from tiny import lsoa_code, write_tiny_scenario

runner = CliRunner()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``'s parent (to catch stray temporary folders too), with its bytes."""
    return {
        str(p.relative_to(folder.parent)): p.read_bytes()
        for p in sorted(folder.parent.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny scenario and a folder `footprint run` wrote from it."""
    folder = tmp_path_factory.mktemp("check")
    config = write_tiny_scenario(folder / "in")
    out = folder / "runs" / "tiny"
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return config, out


def copy_run(source: Path, tmp_path: Path) -> Path:
    """A copy beside ``source`` (run.json's paths are relative to the run folder: the copy's must still hold)."""
    target = source.parent / f"copy-{tmp_path.name}"
    shutil.copytree(source, target)
    return target


def test_identical_outputs_exit_0_and_nothing_is_written(written: tuple[Path, Path]) -> None:
    config, out = written
    before = snapshot(out)
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--check"])
    assert result.exit_code == 0, result.output
    assert f"outputs identical to {out}" in result.output
    assert snapshot(out) == before


def test_timing_is_ignored(written: tuple[Path, Path], tmp_path: Path) -> None:
    config, out = written
    copy = copy_run(out, tmp_path)
    record = json.loads((copy / "run.json").read_text())
    record["timing"] = {"written_at": "1999-01-01T00:00:00+00:00", "seconds": {"total": 1e6}}
    (copy / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    result = runner.invoke(app, ["run", str(config), "--out", str(copy), "--check", "--quiet"])
    assert result.exit_code == 0, result.output


def test_where_places_were_solved_is_ignored(written: tuple[Path, Path]) -> None:
    """Plans are the same on any number of workers or executor, so a run checks against one made elsewhere (a
    cluster run against a local baseline); a setting that changes the plan, as the seed may, still counts."""
    config, out = written
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--check", "--workers", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--check", "--seed", "7"])
    assert result.exit_code == 1 and "run.json (config, " in result.output


def test_different_settings_exit_1_naming_files_places_and_lsoas(written: tuple[Path, Path]) -> None:
    """k.max=2 gives two neighbourhoods per borough instead of three: every file with ids changes."""
    config, out = written
    before = snapshot(out)
    result = runner.invoke(app, ["run", str(config), "--out", str(out), "--check", "--set", "k.max=2"])
    assert result.exit_code == 1, result.output
    assert f"outputs differ from {out}" in result.output
    assert (
        "changed: assignment.csv" in result.output and "run.json (config, places[E09900001." in result.output
    )
    assert "places with LSOAs in another neighbourhood: E09900001 (" in result.output
    assert "E09900002 (" in result.output and "LSOAs: E0190" in result.output
    assert snapshot(out) == before


def test_tampered_assignment_names_the_lsoa(written: tuple[Path, Path], tmp_path: Path) -> None:
    config, out = written
    copy = copy_run(out, tmp_path)
    assignment = pd.read_csv(copy / "assignment.csv", dtype=str)
    row = assignment.index[assignment["lsoa_code"] == lsoa_code(1)][0]
    was = assignment.at[row, "neighbourhood_id"]
    assignment.at[row, "neighbourhood_id"] = "E09900001-99"
    assignment.to_csv(copy / "assignment.csv", index=False, lineterminator="\n")
    (copy / "notes.txt").write_text("hand edit\n")
    result = runner.invoke(app, ["run", str(config), "--out", str(copy), "--check", "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["identical"] is False and data["changed"] == ["assignment.csv"]
    assert data["unexpected"] == ["notes.txt"] and data["missing"] == []
    assert data["places"] == {"E09900001": 1}
    assert data["lsoas"] == [
        {"lsoa_code": lsoa_code(1), "place_code": "E09900001", "on_disk": "E09900001-99", "now": was}
    ]


def test_tampered_record_names_the_key(written: tuple[Path, Path], tmp_path: Path) -> None:
    copy = copy_run(written[1], tmp_path)
    record = json.loads((copy / "run.json").read_text())
    record["status"] = "edited"
    (copy / "run.json").write_text(json.dumps(record))
    (copy / "neighbourhoods.csv").unlink()
    diff = diff_outputs(copy, written[1])
    assert diff.changed == ["run.json"] and diff.record_keys == ["status"]
    assert diff.missing == ["neighbourhoods.csv"]
    assert diff.lines() == ["changed: run.json (status)", f"missing in {copy}: neighbourhoods.csv"]
    # a place's field: named with the place, as a run whose heuristic was cut short by a busy machine would be
    record["places"][1]["message"] = "the heuristic stopped at 25% of the time limit"
    del record["places"][0]
    (copy / "run.json").write_text(json.dumps(record))
    diff = diff_outputs(copy, written[1])
    code = record["places"][0]["place_code"]
    first = json.loads((written[1] / "run.json").read_text())["places"][0]["place_code"]
    assert diff.record_keys == [f"places[{first}]", f"places[{code}.message]", "status"]


def test_missing_folder_exits_1_with_a_message(written: tuple[Path, Path], tmp_path: Path) -> None:
    target = tmp_path / "never-written"
    result = runner.invoke(app, ["run", str(written[0]), "--out", str(target), "--check"])
    assert result.exit_code == 1
    assert f"{target} does not exist, so there is nothing to check against" in result.output
    assert not target.exists()


def test_a_folder_that_is_not_a_run_exits_1_before_solving(
    written: tuple[Path, Path], tmp_path: Path, monkeypatch
) -> None:
    import footprint.runner

    target = tmp_path / "notes"
    target.mkdir()
    (target / "readme.txt").write_text("not a run")
    monkeypatch.setattr(
        footprint.runner, "run_scenario", lambda *a, **k: pytest.fail("solved before refusing")
    )
    result = runner.invoke(app, ["run", str(written[0]), "--out", str(target), "--check"])
    assert result.exit_code == 1
    assert (
        f"{target} is not a footprint run (no run.json), so there is nothing to check against"
        in result.output
    )
    assert sorted(p.name for p in target.iterdir()) == ["readme.txt"]
