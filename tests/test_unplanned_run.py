"""A run in which no place has a plan (issue 16): ``check`` does not call it verified, the report tells the truth.

Such a folder is what a run writes when the solver finds every place infeasible (the screen before solving lets
them through), or what earlier versions wrote when the bounds fit no place.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import footprint
from footprint.cli import app
from footprint.export import write_plan
from footprint.validate import validate_scenario
from tiny import write_tiny_primary_care, write_tiny_scenario

runner = CliRunner()
WHY = "the solver proved that no contiguous split fits the bounds"


@pytest.fixture(scope="module")
def unplanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny grid with practices, PCNs and registrations, both places infeasible, written as a run."""
    folder = tmp_path_factory.mktemp("unplanned")
    config = write_tiny_scenario(folder / "in")
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["inputs"].update(write_tiny_primary_care(folder / "in"))
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    report = validate_scenario(footprint.load_scenario(config))
    solutions = {
        place: footprint.problem.PlaceSolution(
            place_code=place, status="infeasible", assignment=np.zeros(0, dtype=np.int64), message=WHY
        )
        for place in report.problems
    }
    plan = footprint.plan.build_plan(report.dataset, report.graph, report.problems, solutions)
    out = folder / "run"
    write_plan(plan, out)
    return out


def test_check_does_not_pass_a_run_with_nothing_to_verify(unplanned: Path) -> None:
    """It said "plan verified", exit 0 (--json: "ok": true, "places": {})."""
    result = runner.invoke(app, ["check", str(unplanned)])
    assert result.exit_code == 1, result.output
    assert "plan verified" not in result.output
    assert (
        f"{unplanned}: no place has a plan to verify: run.json records no planned place (E09900001 infeasible, "
        "E09900002 infeasible)" in result.output
    )
    assert result.output.rstrip().endswith("nothing verified")
    result = runner.invoke(app, ["check", str(unplanned), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["places"] == {}
    assert data["unplanned"] == {"E09900001": "infeasible", "E09900002": "infeasible"}
    assert "no place has a plan to verify" in data["problems"][0]


def test_the_report_of_a_run_without_a_plan_says_what_was_given_and_links_nothing_unwritten(
    unplanned: Path,
) -> None:
    written = {path.name for path in unplanned.iterdir()}
    assert written == {"assignment.csv", "run.json", "report.md", "report.html"}
    markdown = (unplanned / "report.md").read_text(encoding="utf-8")
    html = (unplanned / "report.html").read_text(encoding="utf-8")
    for wrong in ("No PCN membership or registrations were given", "No practices were given"):
        assert wrong not in markdown
    assert "No place has a plan, so PCN alignment is not measured." in markdown
    assert "No place has a plan, so no practice is assessed." in markdown
    for unwritten in (
        "map.png",
        "map.html",
        "neighbourhoods.gpkg",
        "neighbourhoods.geojson",
        "neighbourhoods.csv",
    ):
        assert unwritten not in markdown and unwritten not in html, unwritten
    assert "<img" not in html
    assert "no tables, maps or boundary files were written" in markdown
    assert WHY in markdown


def test_the_report_of_a_run_without_a_plan_names_the_hubs_given(tmp_path: Path) -> None:
    """It said "no hubs file was given" because it looked at the (absent) neighbourhoods, not the inputs."""
    config = write_tiny_scenario(tmp_path / "in")
    (tmp_path / "in" / "hubs.csv").write_text(
        "hub_id,name,easting,northing\nH1,Alpha site,530500,180500\nH2,Beta site,532500,180500\n",
        encoding="utf-8",
    )
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["inputs"]["hubs"] = {"path": "hubs.csv"}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    report = validate_scenario(footprint.load_scenario(config))
    assert report.dataset.hubs is not None and len(report.dataset.hubs) == 2, [
        f.line() for f in report.findings
    ]
    solutions = {
        place: footprint.problem.PlaceSolution(
            place_code=place, status="infeasible", assignment=np.zeros(0, dtype=np.int64), message=WHY
        )
        for place in report.problems
    }
    plan = footprint.plan.build_plan(report.dataset, report.graph, report.problems, solutions)
    write_plan(plan, tmp_path / "run")
    markdown = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "no hubs file was given" not in markdown
    assert "served by one hub (a site from the hubs file)" in markdown
