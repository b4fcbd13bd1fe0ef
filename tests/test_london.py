"""The real London files from ../shared/data/london: every reader, the joins and the validation summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from footprint.cli import app
from footprint.config import load_scenario
from footprint.validate import ValidationReport, validate_scenario

pytestmark = pytest.mark.london
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validate_scenario(load_scenario(REPO / "configs" / "london.yaml"))


def test_london_totals(report: ValidationReport) -> None:
    totals = report.totals()
    assert totals["lsoas"] == 4835
    assert totals["residents"] == 9_002_488
    assert totals["boroughs"] == 33
    assert totals["places"] == 32
    assert report.ok, [f.line() for f in report.errors]


def test_city_is_planned_with_hackney(report: ValidationReport) -> None:
    (city,) = [p for p in report.places if p.place_code == "E09000012"]
    assert city.place_name == "City and Hackney"
    assert city.boroughs == 2
    assert city.lsoas == 6 + 144
    assert all(p.place_code != "E09000001" for p in report.places)


def test_every_unmatched_code_is_reported(report: ValidationReport) -> None:
    by_code = {f.code: f for f in report.findings}
    assert by_code["practices.no_pcn"].n == 38
    assert by_code["practices.no_list_size"].n == 13
    assert by_code["pcns.ended_rows"].severity == "info"
    assert "registrations.unknown_practice" in by_code


def test_places_have_feasible_k(report: ValidationReport) -> None:
    for place in report.places:
        assert place.k_min == -(-place.residents // 50_000)
        assert place.k_max == place.residents // 30_000
        assert place.k_min <= place.k_max and place.ok


def test_city_alone_cannot_be_planned() -> None:
    """Without the merge, the City of London (6 LSOAs, ~11,000 residents) is flagged by name."""
    scenario = load_scenario(
        REPO / "configs" / "london.yaml", overrides=["inputs.places.merge={}", "inputs.places.names={}"]
    )
    report = validate_scenario(scenario, places=["E09000001"])
    assert not report.ok
    (error,) = [f for f in report.errors if f.code == "place.infeasible"]
    assert "E09000001" in error.message and "City of London" in error.message


def test_validate_cli_summary_and_json() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(REPO / "configs" / "london.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"residents": 9002488' in result.output
