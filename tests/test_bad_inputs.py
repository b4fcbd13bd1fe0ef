"""The bad-input corpus (tests/bad_inputs/): every case stops `footprint run` with one clear line and exit 2.

Each case folder holds a ``scenario.yaml`` (usually ``extends: ../base/scenario.yaml`` plus one change), the
broken file(s), ``expected.txt`` (fragments that must all appear in the error line; ``{here}`` is the case
folder, ``{base}`` the base folder) and optionally ``args.txt`` (extra command-line arguments). The cases are
listed and explained in tests/bad_inputs/README.md.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footprint.cli import app

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
BASE = CORPUS / "base"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "base")
runner = CliRunner()


def expected_fragments(case: Path) -> list[str]:
    text = (case / "expected.txt").read_text(encoding="utf-8")
    return [
        line.replace("{here}", str(case)).replace("{base}", str(BASE)) for line in text.splitlines() if line
    ]


def test_the_base_scenario_is_valid(tmp_path: Path) -> None:
    """Every case differs from this one by the corruption it names, so the base itself must pass."""
    result = runner.invoke(app, ["validate", str(BASE / "scenario.yaml"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings: can run" in result.output


def test_every_case_is_listed_in_the_readme() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, flags=re.MULTILINE))
    assert listed == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_bad_input_gives_one_clear_line_and_writes_nothing(name: str, tmp_path: Path) -> None:
    case = CORPUS / name
    args = shlex.split((case / "args.txt").read_text()) if (case / "args.txt").exists() else []
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(case / "scenario.yaml"), "--out", str(out), *args])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for fragment in expected_fragments(case):
        assert fragment in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert not (BASE / "runs").exists() and not (case / "runs").exists()
