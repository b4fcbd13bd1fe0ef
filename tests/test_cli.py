"""The command-line contract: help for every command, README coverage, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.main import get_command
from typer.testing import CliRunner

from footprint import __version__
from footprint.cli import app

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)


def test_commands_exist() -> None:
    assert {"validate", "run", "check", "schema", "init", "sample"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert get_command(app).commands[command].help, f"{command} has no help text"
    assert f"footprint {command}" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "schema"])
def test_every_command_but_schema_takes_quiet_and_debug(command: str) -> None:
    """As the README says (schema prints only the schema)."""
    options = {opt for param in get_command(app).commands[command].params for opt in param.opts}
    assert {"--quiet", "-q", "--debug"} <= options, command


def test_quiet_init_and_sample_print_nothing(tmp_path: Path) -> None:
    for args in (["init", str(tmp_path / "a"), "-q"], ["sample", str(tmp_path / "b"), "--quiet"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and result.output == "", (args, result.output)
    assert (tmp_path / "a" / "scenario.yaml").is_file() and any((tmp_path / "b").iterdir())


def test_top_level_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"footprint {__version__}"


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "footprint", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == f"footprint {__version__}"


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert schema["title"] == "footprint scenario"
    assert {"inputs", "pop", "weights", "solver", "graph"} <= set(schema["properties"])


def test_init_writes_a_loadable_starter(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "scenario.yaml").read_text())["pop"] == {
        "min": 30000,
        "max": 50000,
        "measure": "residents",
    }
    again = runner.invoke(app, ["init", str(tmp_path)])
    assert again.exit_code == 2 and "exists; use --force to overwrite" in again.output


def test_bad_config_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("inputs:\n  units: {path: x.gpkg}\nweights: {pcnn: 2}\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(config)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {config}: weights.pcnn: unknown key; did you mean 'pcn'?"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["validate", "run"])
def test_json_mode_answers_in_json_when_the_command_fails(tmp_path: Path, command: str) -> None:
    """A script reading --json gets a JSON object on stdout for a bad scenario too, not an empty stdout."""
    config = tmp_path / "s.yaml"
    config.write_text("inputs:\n  units: {path: x.gpkg\n", encoding="utf-8")  # YAML syntax error
    args = [command, str(config), "--json"] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    result = subprocess.run(
        [sys.executable, "-m", "footprint", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert answer["ok"] is False and answer["exit_code"] == 2
    assert len(answer["errors"]) == 1 and "YAML syntax error" in answer["errors"][0]
    assert "error:" in result.stderr and not (tmp_path / "out").exists()


def test_missing_input_file_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("inputs:\n  units: {path: nope.gpkg}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "nope.gpkg: LSOA boundaries file not found; check the path" in result.output
    assert not (tmp_path / "out").exists()
