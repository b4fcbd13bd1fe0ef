"""Scenario loading: defaults, extends, --set, path resolution and the exact error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from footprint.config import Scenario, json_schema, load_scenario
from footprint.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: data/lsoas.gpkg}\n")
    scenario = load_scenario(config)
    assert scenario.pop.min == 30_000 and scenario.pop.max == 50_000
    assert scenario.weights.pcn == 1.0 and scenario.solver.gap == 0.005
    assert scenario.inputs.units.path == tmp_path / "data" / "lsoas.gpkg"
    assert scenario.source == config.resolve()


def test_extends_merges_and_resolves_each_file_against_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    write(
        tmp_path / "base" / "base.yaml",
        "inputs:\n  units: {path: lsoas.gpkg}\npop: {min: 25000, max: 45000}\n",
    )
    child = write(tmp_path / "child.yaml", "extends: base/base.yaml\npop: {max: 55000}\nname: child\n")
    scenario = load_scenario(child)
    assert scenario.inputs.units.path == tmp_path / "base" / "lsoas.gpkg"
    assert (scenario.pop.min, scenario.pop.max, scenario.name) == (25_000, 55_000, "child")


def test_set_overrides(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg}\n")
    scenario = load_scenario(config, overrides=["pop.max=45000", "weights.pcn=5", "solver.method=heuristic"])
    assert (
        scenario.pop.max == 45_000 and scenario.weights.pcn == 5.0 and scenario.solver.method == "heuristic"
    )


def test_overrides_on_a_loaded_scenario_equal_overrides_on_its_file(tmp_path: Path) -> None:
    from footprint.config import with_overrides

    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg}\npop: {max: 50000}\n")
    settings = ["pop.max=45000", "weights.pcn=5"]
    assert with_overrides(load_scenario(config), settings) == load_scenario(config, overrides=settings)
    with pytest.raises(ConfigError, match=r"pop.min \(60,000\) is greater than pop.max \(50,000\)"):
        with_overrides(load_scenario(config), ["pop.min=60000"])


def test_unknown_keys_get_a_suggestion(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg, colums: {}}\nweights: {pcnn: 2}\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario(config)
    assert str(caught.value).splitlines() == [
        f"{config}: inputs.units.colums: unknown key; did you mean 'columns'?",
        f"{config}: weights.pcnn: unknown key; did you mean 'pcn'?",
    ]


def test_contradictory_bounds(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg}\npop: {min: 60000, max: 50000}\n")
    with pytest.raises(
        ConfigError, match=r"pop: pop.min \(60,000\) is greater than pop.max \(50,000\); swap them"
    ):
        load_scenario(config)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg}\npop: {max: lots}\n")
    with pytest.raises(
        ConfigError,
        match=r"s.yaml: pop.max: Input should be a valid integer.*\(got 'lots'\); write a whole number",
    ):
        load_scenario(config)


def test_a_bad_command_line_value_is_blamed_on_the_command_line(tmp_path: Path) -> None:
    """--gap 2 (a percentage typed as a fraction) is refused, and the line names the command line, not the file
    that had a good value; a bad value in the file is still the file's."""
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg}\nsolver: {gap: 0.01}\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario(config, overrides=["solver.gap=2"])
    assert str(caught.value) == "command line: solver.gap: Input should be less than 1 (got 2)"
    with pytest.raises(ConfigError, match=r"^command line: solver.method: Input should be 'auto'"):
        load_scenario(config, overrides=["solver.method=bogus", "pop.max=45000"])
    bad = write(tmp_path / "b.yaml", "inputs:\n  units: {path: x.gpkg}\nsolver: {gap: 1.5}\n")
    with pytest.raises(ConfigError, match=r"b.yaml: solver.gap: Input should be less than 1"):
        load_scenario(bad, overrides=["pop.max=45000"])


def test_missing_required_key(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "name: x\n")
    with pytest.raises(ConfigError, match=r"s.yaml: inputs: required key is missing"):
        load_scenario(config)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg\n")
    with pytest.raises(ConfigError, match=r"s.yaml: line \d+, column \d+: YAML syntax error"):
        load_scenario(config)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="the scenario file is empty"):
        load_scenario(write(tmp_path / "e.yaml", ""))
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_scenario(write(tmp_path / "l.yaml", "- a\n- b\n"))


def test_extends_loop(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="extends loops back on itself"):
        load_scenario(tmp_path / "a.yaml")


def test_bad_set_syntax(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "inputs:\n  units: {path: x.gpkg}\n")
    with pytest.raises(ConfigError, match=r"expected key.path=value"):
        load_scenario(config, overrides=["pop.max"])


def test_documented_defaults_equal_the_schema_defaults() -> None:
    """configs/default.yaml documents every default; it must say exactly what the schema does."""
    documented = load_scenario(REPO / "configs" / "default.yaml")
    built = Scenario.model_validate(
        {
            "inputs": {"units": {"path": str(documented.inputs.units.path)}},
            "output": {"dir": str(documented.output.dir)},
        }
    )
    assert documented.output.dir == REPO / "configs" / "runs" / "latest"
    assert documented.model_dump(exclude={"source"}) == built.model_dump(exclude={"source"})
    packaged = (REPO / "src" / "footprint" / "default.yaml").read_text(encoding="utf-8")
    assert packaged == (REPO / "configs" / "default.yaml").read_text(encoding="utf-8")


def test_every_top_level_key_is_documented() -> None:
    documented = yaml.safe_load((REPO / "configs" / "default.yaml").read_text(encoding="utf-8"))
    assert set(documented) | {"extends"} == set(json_schema()["properties"])


def test_the_api_solve_options_default_to_the_schema() -> None:
    """SolveOptions (the Python API) takes its defaults from the scenario schema: a default run through the API
    and through a scenario solve alike."""
    from footprint.config import Solver
    from footprint.runner import solve_options
    from footprint.solve import SolveOptions

    documented = load_scenario(REPO / "configs" / "default.yaml")
    assert solve_options(documented) == SolveOptions()
    schema = Solver()
    api = SolveOptions()
    assert (api.method, api.solver, api.time_limit, api.gap, api.threads) == (
        schema.method,
        schema.name,
        schema.time_limit,
        schema.gap,
        schema.threads,
    )
    assert (api.seed, api.heuristic_runs, api.contiguity, api.counted) == (
        schema.seed,
        schema.heuristic_runs,
        schema.contiguity,
        schema.counted,
    )
