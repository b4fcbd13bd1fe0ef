"""``footprint sweep``: the grid, folder names, summary rows, failed scenarios, reuse of inputs, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import footprint.sweep as sweep_module
from footprint.cli import app
from footprint.errors import ConfigError
from footprint.sweep import SweepAxis, folder_name, parse_settings, run_sweep, scenario_grid, split_values
from tiny import write_tiny_scenario

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "configs" / "sample.yaml"
runner = CliRunner()


def test_settings_split_into_axes_and_plain_overrides() -> None:
    axes, plain = parse_settings(["pop.max=45000,50000,55000", "weights.pcn=0,1,5", "solver.time_limit=10"])
    assert axes == [
        SweepAxis("pop.max", ("45000", "50000", "55000")),
        SweepAxis("weights.pcn", ("0", "1", "5")),
    ]
    assert plain == ["solver.time_limit=10"]
    grid = scenario_grid(axes)
    assert len(grid) == 9
    assert grid[0] == {"pop.max": "45000", "weights.pcn": "0"}
    assert grid[1] == {"pop.max": "45000", "weights.pcn": "1"}  # the last axis varies fastest
    assert folder_name(grid[0]) == "pop.max=45000__weights.pcn=0"
    assert folder_name({}) == "base"
    assert folder_name({"inputs.hubs.path": "../a b/hubs.csv"}) == "inputs.hubs.path=..-a-b-hubs.csv"


def test_commas_inside_brackets_or_quotes_do_not_split() -> None:
    assert split_values("[[a, b]],[[c, d]]") == ["[[a, b]]", "[[c, d]]"]
    assert split_values("'x,y',z") == ["'x,y'", "z"]
    axes, plain = parse_settings(["graph.add_edges=[[E01, E02]]"])
    assert axes == [] and plain == ["graph.add_edges=[[E01, E02]]"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["pop.max"], "expected key.path=value"),
        (["pop.max=1,,2"], "an empty value"),
        (["pop.max=1,1"], "listed twice"),
        (["pop.max=1,2", "pop.max=3"], "given twice"),
    ],
)
def test_bad_settings_are_config_errors(settings: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(settings)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny_scenario(tmp_path / "in")


def test_sweep_rows_folders_and_hand_checked_figures(tiny: Path, tmp_path: Path) -> None:
    """The tiny grid: 2 neighbourhoods per borough of 30,000 (mean 2/3 km) or 3 of 20,000 (mean 0.5 km)."""
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", str(tiny), "--set", "k.max=2,3", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2 scenarios (2 ok)" in result.output
    assert {p.name for p in out.iterdir()} == {"k.max=2", "k.max=3", "summary.csv", "summary.md"}
    summary = pd.read_csv(out / "summary.csv")
    assert summary["scenario"].tolist() == ["k.max=2", "k.max=3"]
    assert summary["k.max"].tolist() == [2, 3]
    assert summary["status"].tolist() == ["ok", "ok"]
    assert summary["neighbourhoods"].tolist() == [4, 6]
    assert summary["population_max"].tolist() == [30_000, 20_000]
    assert summary["mean_distance_km"].round(6).tolist() == [0.666667, 0.5]
    assert {"coterminosity_weighted", "pcns_realign", "residents_moved", "objective", "gap"} <= set(
        summary.columns
    )
    assert (out / "k.max=3" / "assignment.csv").is_file() and (out / "k.max=3" / "run.json").is_file()
    markdown = (out / "summary.md").read_text()
    assert "# Sweep of scenario.yaml: 2 scenarios" in markdown and "| k.max=2 " in markdown


def test_a_folder_that_is_not_a_sweep_is_refused_and_kept(tiny: Path, tmp_path: Path) -> None:
    """A sweep replaces its whole output folder, so --out pointing at a folder of other files (or at runs/, with
    earlier runs inside) must stop before solving, with exit 2, and leave every file; an earlier sweep's folder
    is replaced as before."""
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(tiny), "--set", "k.max=2,3", "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "the output folder exists and is not a footprint sweep (no summary.csv)" in result.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    sweep = tmp_path / "sweep"
    for _ in range(2):
        result = runner.invoke(app, ["sweep", str(tiny), "--set", "k.max=2", "--out", str(sweep), "--quiet"])
        assert result.exit_code == 0, result.output


def test_failed_and_infeasible_scenarios_get_rows(tiny: Path, tmp_path: Path) -> None:
    """pop.min=35000 leaves no k for 60,000 residents (2 need 30,000 each) in either borough: no place can be
    planned, a config error as in run and validate; pop.min=45000 is above pop.max 40,000: a config error. Both
    get rows, the sweep goes on, and the exit code is 1. (Scenarios with some places infeasible are
    "incomplete", as in test_infeasible_place_exits_1_and_others_are_written.)"""
    out = tmp_path / "sweep"
    result = runner.invoke(
        app, ["sweep", str(tiny), "--set", "pop.min=20000,35000,45000", "--out", str(out), "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    rows = {row["scenario"]: row for row in data["scenarios"]}
    assert [rows[name]["status"] for name in ("pop.min=20000", "pop.min=35000", "pop.min=45000")] == [
        "ok",
        "config error",
        "config error",
    ]
    assert "Place E09900001 (Alpha, 60,000 residents) cannot be split" in rows["pop.min=35000"]["message"]
    assert "no place can be planned, so the scenario cannot run" in rows["pop.min=35000"]["message"]
    assert "pop.min (45,000) is greater than pop.max (40,000)" in rows["pop.min=45000"]["message"]
    assert rows["pop.min=45000"]["neighbourhoods"] is None
    assert data["ok"] is False and data["axes"] == {"pop.min": ["20000", "35000", "45000"]}
    assert not (out / "pop.min=45000").exists() and not (out / "pop.min=35000").exists()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["status"].tolist() == ["ok", "config error", "config error"]


def test_bad_base_scenario_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("inputs:\n  units: {path: nope.gpkg}\n", encoding="utf-8")
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", str(config), "--set", "pop.max=45000,50000", "--out", str(out)])
    assert result.exit_code == 2
    assert "nope.gpkg: LSOA boundaries file not found" in result.output
    assert not out.exists()


def test_inputs_are_read_once(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"load_dataset": 0, "build_graph": 0}
    for name in calls:
        original = getattr(sweep_module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(sweep_module, name, counted)
    result = run_sweep(
        tiny,
        ["pop.max=40000,45000", "weights.access=1,2", "graph.contiguity=queen,rook"],
        out_dir=tmp_path / "s",
    )
    assert result.ok and len(result.scenarios) == 8
    assert calls == {"load_dataset": 1, "build_graph": 2}  # one graph per contiguity rule


def test_sweep_folder_equals_run_and_reruns_are_identical(tmp_path: Path) -> None:
    """A sweep scenario is written exactly as `footprint run` with the same settings would write it (into a folder
    as deep: run.json's paths are relative to the run folder)."""
    settings = ["--set", "solver.method=heuristic", "--set", "weights.pcn=0,5"]
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        result = runner.invoke(app, ["sweep", str(SAMPLE), *settings, "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
    single = tmp_path / "alone" / "single"
    result = runner.invoke(
        app,
        [
            "run",
            str(SAMPLE),
            "--set",
            "solver.method=heuristic",
            "--set",
            "weights.pcn=5",
            "--out",
            str(single),
        ],
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in single.iterdir())
    assert files == sorted(p.name for p in (first / "weights.pcn=5").iterdir())
    for name in files:
        if name == "run.json":
            records = [json.loads((d / name).read_text()) for d in (single, first / "weights.pcn=5")]
            for record in records:
                record.pop("timing")
            assert records[0] == records[1]
        else:
            assert (single / name).read_bytes() == (first / "weights.pcn=5" / name).read_bytes(), name
    assert (first / "summary.csv").read_bytes() == (second / "summary.csv").read_bytes()
    assert (first / "summary.md").read_bytes() == (second / "summary.md").read_bytes()
    summary = pd.read_csv(first / "summary.csv").set_index("weights.pcn")
    # the trade-off the summary is for: more weight on PCNs, better coterminosity, longer trips
    assert summary.loc[5, "coterminosity_weighted"] > summary.loc[0, "coterminosity_weighted"]
    assert summary.loc[5, "mean_distance_km"] > summary.loc[0, "mean_distance_km"]


def test_a_scenario_whose_solver_cannot_run_here_gets_a_solver_error_row(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without HiGHS, a counted scenario is refused before any place is solved (as ``run`` refuses it), the
    heuristic one is planned, and the sweep exits 1."""
    from footprint import runner as runner_module

    monkeypatch.setattr(runner_module, "solver_available", lambda name: name != "highs")
    solved: list[str] = []
    real = sweep_module.solve_place

    def solve(problem, options):
        solved.append(options.method)
        return real(problem, options)

    monkeypatch.setattr(sweep_module, "solve_place", solve)
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "sweep",
            str(tiny),
            "--set",
            "solver.method=heuristic,columns",
            "--set",
            "solver.counted=true",
            "--out",
            str(out),
            "--json",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 1, result.output
    rows = {row["scenario"]: row for row in json.loads(result.stdout)["scenarios"]}
    assert rows["solver.method=heuristic"]["status"] == "ok"
    refused = rows["solver.method=columns"]
    assert refused["status"] == "solver error"
    assert refused["message"] == (
        "counted work (solver.counted) needs HiGHS for column generation (highspy cannot be imported); pip "
        "install highspy, or use --method heuristic."
    )
    assert solved and set(solved) == {"heuristic"}  # the refused scenario solved nothing
    assert not (out / "solver.method=columns").exists()
