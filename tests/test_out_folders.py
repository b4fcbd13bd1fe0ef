"""No command destroys what it did not write: every ``--out`` folder goes through one rule (issue 16).

A command's output replaces its whole folder, so it may only replace a folder that is new, empty or an earlier
output of the same kind (its marker file: run.json, summary.csv, comparison.md), and never the current
directory, a folder holding it, or a folder holding what the command reads. A refusal is one line (the folder,
why, the fix), exit 2, and leaves every byte as it was.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from footprint import export
from footprint.cli import app
from footprint.errors import ConfigError
from tiny import write_tiny_scenario

runner = CliRunner()

#: Every command taking --out, and the kind of folder it writes (a new one must be added here).
KINDS = {
    "run": "run",
    "sweep": "sweep",
    "compare": "comparison",
    "evaluate": "evaluation",
    "repair": "repair",
}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The tiny scenario and two runs of it (k.max 2 and 3), under ``runs/``."""
    folder = tmp_path_factory.mktemp("outs")
    config = write_tiny_scenario(folder / "in")
    runs = []
    for k in (2, 3):
        out = folder / "runs" / f"k{k}"
        result = runner.invoke(app, ["run", str(config), "--out", str(out), "-q", "--set", f"k.max={k}"])
        assert result.exit_code == 0, result.output
        runs.append(out)
    return config, runs[0], runs[1]


def arguments(command: str, tiny_runs: tuple[Path, Path, Path], out: Path | str) -> list[str]:
    config, first, second = tiny_runs
    return {
        "run": ["run", str(config), "--out", str(out), "-q"],
        "sweep": ["sweep", str(config), "--set", "k.max=2,3", "--out", str(out), "-q"],
        "compare": ["compare", str(first), str(second), "--out", str(out), "-q"],
        # a map people bring: the first run's assignment, as a table LSOA -> neighbourhood
        "evaluate": ["evaluate", str(config), str(first / "assignment.csv"), "--out", str(out), "-q"],
        "repair": ["repair", str(config), str(first / "assignment.csv"), "--out", str(out), "-q"],
    }[command]


def tree(folder: Path) -> dict[str, str]:
    """Every folder and file under ``folder`` with the sha256 of its bytes (hidden leftovers included)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "dir"
        for path in sorted(folder.rglob("*"))
    }


def user_folder(parent: Path) -> Path:
    """A folder of someone's own: a file and a subfolder with a file."""
    folder = parent / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return folder


def refused(result: Result, folder: str, why: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {folder}: {why}"), result.output
    assert "choose a new or empty folder (--out" in lines[0]
    assert "Traceback" not in result.output


def test_every_command_with_out_is_covered() -> None:
    """A command that gains --out (evaluate, repair) must be added to :data:`KINDS` and so to these tests."""
    commands = get_command(app).commands  # type: ignore[attr-defined]
    with_out = {name for name, sub in commands.items() if any("--out" in param.opts for param in sub.params)}
    assert with_out == set(KINDS)


@pytest.mark.parametrize("command", sorted(KINDS))
def test_a_folder_of_other_files_is_refused_and_kept(
    command: str, tiny_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    folder = user_folder(tmp_path)
    before = tree(tmp_path)
    result = runner.invoke(app, arguments(command, tiny_runs, folder))
    kind = KINDS[command]
    marker = export.MARKERS[kind]
    refused(result, str(folder), f"the output folder exists and is not a footprint {kind} (no {marker})")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command", sorted(KINDS))
def test_the_current_directory_is_refused_and_kept(
    command: str, tiny_runs: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--out .`` replaced the folder the user stands in (compare: "Device or resource busy ... free some
    space"); now it is refused, whether the folder is empty, holds other files or even an earlier output."""
    folder = user_folder(tmp_path)
    (folder / export.MARKERS[KINDS[command]]).write_text("{}\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    before = tree(tmp_path)
    refused(
        runner.invoke(app, arguments(command, tiny_runs, ".")),
        ".",
        "the output folder is the current directory",
    )
    assert tree(tmp_path) == before
    monkeypatch.chdir(folder / "sub")
    result = runner.invoke(app, arguments(command, tiny_runs, folder))
    refused(result, str(folder), "the output folder holds the current directory")
    assert tree(tmp_path) == before


def test_compare_never_replaces_a_run_it_compares(tiny_runs: tuple[Path, Path, Path]) -> None:
    """``compare RUN_A RUN_B --out RUN_A`` deleted RUN_A; ``--out runs/`` deleted both."""
    first = tiny_runs[1]
    before = tree(first.parent)
    result = runner.invoke(app, arguments("compare", tiny_runs, first))
    refused(result, str(first), "the output folder is a run being compared")
    result = runner.invoke(app, arguments("compare", tiny_runs, first.parent))
    refused(result, str(first.parent), f"the output folder holds {first}, a run being compared")
    assert tree(first.parent) == before


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_run_folder_holding_the_scenario_is_refused_and_kept(
    command: str, tiny_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Someone keeps the scenario beside an earlier run's files: replacing the folder would delete it."""
    config = tiny_runs[0]
    folder = tmp_path / "kept"
    shutil.copytree(config.parent, folder)
    (folder / export.MARKERS[KINDS[command]]).write_text("{}\n", encoding="utf-8")
    before = tree(tmp_path)
    args = [
        folder / config.name if part == str(config) else part
        for part in arguments(command, tiny_runs, folder)
    ]
    result = runner.invoke(app, [str(part) for part in args])
    refused(result, str(folder), f"the output folder holds {folder / config.name}, the scenario file")
    assert tree(tmp_path) == before


def test_an_earlier_comparison_is_replaced(tiny_runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    for _ in range(2):
        result = runner.invoke(app, arguments("compare", tiny_runs, out))
        assert result.exit_code == 0, result.output
    assert (out / "comparison.md").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, arguments("compare", tiny_runs, empty)).exit_code == 0


def test_a_busy_folder_is_not_blamed_on_free_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Renaming a folder in use fails with EBUSY: the advice is another folder, not free space."""
    target = tmp_path / "out"
    target.mkdir()

    def busy(source: object, destination: object) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy", str(target))

    monkeypatch.setattr(export, "_exchange", lambda first, second: False)
    monkeypatch.setattr(export.os, "replace", busy)
    with pytest.raises(ConfigError) as caught, export.atomic_folder(target) as staging:
        (staging / "a.txt").write_text("a", encoding="utf-8")
    message = str(caught.value)
    assert message.startswith(f"{target}: cannot write the outputs (Device or resource busy")
    assert "in use" in message and "free some space" not in message
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
