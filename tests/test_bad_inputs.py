"""The bad-input corpus (tests/bad_inputs/): every case stops `footprint run` with one clear line and exit 2.

Each case folder holds a ``scenario.yaml`` (usually ``extends: ../base/scenario.yaml`` plus one change), the
broken file(s), ``expected.txt`` (fragments that must all appear in the error line; ``{here}`` is the case
folder, ``{base}`` the base folder) and optionally ``args.txt`` (extra command-line arguments). The cases are
listed and explained in tests/bad_inputs/README.md.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footprint import readers
from footprint.cli import app
from footprint.config import TableInput, load_scenario
from footprint.errors import InputDataError
from footprint.validate import validate_scenario

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


# ---- irregular but readable inputs: read correctly, not refused ------------------------------------------------


def scenario_with(tmp_path: Path, section: str, name: str, content: bytes) -> Path:
    """The base scenario with one input replaced by ``content`` (written to tmp_path/name)."""
    (tmp_path / name).write_bytes(content)
    config = tmp_path / "scenario.yaml"
    config.write_text(
        f"extends: {BASE / 'scenario.yaml'}\ninputs:\n  {section}: {{path: {name}}}\n", encoding="utf-8"
    )
    return config


def base_text(name: str) -> str:
    return (BASE / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "encoding, delimiter",
    [("utf-8-sig", ","), ("cp1252", ","), ("utf-16", ","), ("utf-8", ";"), ("utf-8", "\t"), ("utf-8", "|")],
)
def test_population_in_other_encodings_and_delimiters_is_read(
    encoding: str, delimiter: str, tmp_path: Path
) -> None:
    text = base_text("population.csv").replace(",", delimiter).replace("\n", "\r\n")
    config = scenario_with(tmp_path, "population", "population.csv", text.encode(encoding))
    report = validate_scenario(load_scenario(config))
    assert report.ok, [f.line() for f in report.errors]
    assert report.dataset.units["population"].tolist() == [10_000] * 12


def test_windows_1252_practice_names_are_read(tmp_path: Path) -> None:
    text = base_text("practices.csv").replace("Alpha North Surgery", "Café Brontë Surgery")
    config = tmp_path / "scenario.yaml"
    (tmp_path / "practices.csv").write_bytes(text.encode("cp1252"))
    config.write_text(
        f"extends: {BASE / 'scenario.yaml'}\ninputs:\n  practices: {{locations: {{path: practices.csv}}}}\n",
        encoding="utf-8",
    )
    report = validate_scenario(load_scenario(config))
    assert report.ok
    assert "Café Brontë Surgery" in report.dataset.practices["practice_name"].tolist()


LSOAS = [f"E019000{i:02d}" for i in range(1, 13)]


def epraccur_row(code: str) -> str:
    """One active GP practice in the NHS ODS epraccur layout (27 columns, no header)."""
    fields = [""] * 27
    fields[0], fields[1], fields[9], fields[12], fields[25] = code, f"PRACTICE {code}", "EC1A 1AA", "A", "4"
    return ",".join(f'"{value}"' for value in fields) + "\n"


def repeated(text: str, line: int) -> str:
    """``text`` with its ``line``-th line (0 = header) written twice."""
    lines = text.splitlines(keepends=True)
    return "".join(lines[: line + 1] + lines[line : line + 1] + lines[line + 1 :])


EPRACCUR = "".join(epraccur_row(code) for code in ("A10001", "A10002", "B20001", "B20002"))
#: For each reader: the scenario's inputs section (file name {file}), the file with one row written twice, and
#: the finding expected: code and the key of the repeated row.
REPEATS = {
    "registrations": (
        "registrations: {{path: {file}}}",
        repeated(base_text("registrations.csv"), 5),
        ("registrations.repeated_rows", ("A10001/E01900005",)),
    ),
    "population": (
        "population: {{path: {file}}}",
        repeated(base_text("population.csv"), 3),
        ("population.repeated_rows", ("E01900003",)),
    ),
    "practice sites": (
        "practices: {{locations: {{path: {file}}}}}",
        repeated(base_text("practices.csv"), 2),
        ("practices.repeated_rows", ("A10002",)),
    ),
    "epraccur": (
        "practices: {{epraccur: {file}}}",
        repeated(EPRACCUR, 3),
        ("epraccur.repeated_rows", ("B20002",)),
    ),
    "list sizes": (
        "practices: {{list_sizes: {{path: {file}}}}}",
        "CODE,NUMBER_OF_PATIENTS\nA10001,9000\nA10002,9000\nB20001,9000\nB20001,9000\nB20002,9000\n",
        ("list_sizes.repeated_rows", ("B20001",)),
    ),
    "PCN membership": (
        "pcns: {{path: {file}}}",
        repeated(base_text("pcns.csv"), 4),
        ("pcns.repeated_rows", ("B20002",)),
    ),
    "hubs": ("hubs: {{path: {file}}}", repeated(base_text("hubs.csv"), 6), ("hubs.repeated_rows", ("H6",))),
    "IMD": (
        "imd: {{path: {file}}}",
        repeated(
            "LSOA21CD,IMD Decile\n" + "".join(f"{code},{i % 10 + 1}\n" for i, code in enumerate(LSOAS)), 1
        ),
        ("imd.repeated_rows", ("E01900001",)),
    ),
    "demand indicator": (
        "demand: {{indicators: [{{path: {file}, column: need, weight: 1}}]}}",
        repeated("lsoa_code,need\n" + "".join(f"{code},{i + 1}\n" for i, code in enumerate(LSOAS)), 1),
        ("demand.repeated_rows", ("E01900001",)),
    ),
    "baseline": (
        "baseline: {{path: {file}}}",
        repeated(
            "lsoa_code,neighbourhood_id\n" + "".join(f"{c},N{i // 3}\n" for i, c in enumerate(LSOAS)), 12
        ),
        ("baseline.repeated_rows", ("E01900012",)),
    ),
    "locks": (
        "locks: {{path: {file}}}",
        "lsoa_code,hub_id\nE01900001,H1\nE01900001,H1\n",
        ("locks.repeated_rows", ("E01900001",)),
    ),
    "place lookup": (
        "places: {{lookup: {file}}}",
        "LAD22CD,PLACE_CODE\nE09900001,P1\nE09900002,P2\nE09900002,P2\n",
        ("places.repeated_rows", ("E09900002",)),
    ),
}


@pytest.mark.parametrize("reader", list(REPEATS))
def test_a_row_repeated_exactly_is_a_warning_and_counted_once(reader: str, tmp_path: Path) -> None:
    """The same row twice (a copy-paste slip) is read once, with a warning naming the file and the key."""
    section, content, expected = REPEATS[reader]
    (tmp_path / "input.csv").write_text(content, encoding="utf-8")
    config = tmp_path / "scenario.yaml"
    config.write_text(
        f"extends: {BASE / 'scenario.yaml'}\ninputs:\n  {section.format(file='input.csv')}\n",
        encoding="utf-8",
    )
    report = validate_scenario(load_scenario(config))
    assert report.ok, [f.line() for f in report.errors]
    assert [(f.code, f.items) for f in report.warnings] == [expected]
    (warning,) = report.warnings
    assert warning.line().startswith(
        f"{tmp_path / 'input.csv'}: 1 rows repeat an earlier row exactly; each is "
    )
    assert report.totals()["registered"] == 36_000  # 12 rows of 3,000 patients, none counted twice


def test_one_practice_outside_the_area_is_a_warning(tmp_path: Path) -> None:
    text = base_text("practices.csv").replace(
        "B20001,Beta North Surgery,532500", "B20001,Beta North Surgery,562500"
    )
    config = tmp_path / "scenario.yaml"
    (tmp_path / "practices.csv").write_text(text, encoding="utf-8")
    config.write_text(
        f"extends: {BASE / 'scenario.yaml'}\ninputs:\n  practices: {{locations: {{path: practices.csv}}}}\n",
        encoding="utf-8",
    )
    report = validate_scenario(load_scenario(config))
    assert report.ok
    assert [(f.code, f.items) for f in report.warnings] == [("practices.outside_area", ("B20001",))]
    # the run says it too, on the console (even --quiet), not only in run.json
    result = runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    warning = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "practices.csv: " in warning[0] and "[B20001]" in warning[0]


def test_a_self_intersecting_polygon_is_repaired_with_a_warning(tmp_path: Path) -> None:
    document = json.loads(base_text("lsoas.geojson"))
    square = document["features"][0]["geometry"]["coordinates"][0]
    # a bow tie: the square's first two corners swapped, so the ring crosses itself
    document["features"][0]["geometry"]["coordinates"][0] = [square[1], square[0], *square[2:-1], square[1]]
    config = scenario_with(tmp_path, "units", "lsoas.geojson", json.dumps(document).encode())
    report = validate_scenario(load_scenario(config))
    assert [(f.code, f.severity, f.items) for f in report.findings if f.code.startswith("units.invalid")] == [
        ("units.invalid_geometry", "warning", ("E01900001",))
    ]


def test_an_unreadable_file_is_named_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permissions cannot be taken away from root (CI), so the refusal to open is simulated."""

    def refuse(path: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(readers, "open", refuse, raising=False)
    with pytest.raises(InputDataError) as caught:
        readers.read_population(TableInput(path=BASE / "population.csv"))
    assert str(caught.value) == (
        f"{BASE / 'population.csv'}: cannot open the population file (Permission denied); check its permissions."
    )


@pytest.mark.parametrize("command", ["init", "sample"])
def test_writing_into_a_file_path_is_one_line_not_a_traceback(command: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = runner.invoke(app, [command, str(tmp_path / "file" / "sub")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {tmp_path / 'file' / 'sub'}: Not a directory; check the path, its permissions and the free space."
    )


@pytest.mark.parametrize("existing", ["file", "folder"])
def test_run_refuses_an_output_path_that_is_not_a_run_folder(existing: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    if existing == "file":
        out.write_text("mine")
        message = f"error: {out}: the output path is a file; name a folder (--out or output.dir)."
    else:
        out.mkdir()
        (out / "thesis.docx").write_text("mine")
        message = (
            f"error: {out}: the output folder exists and is not a footprint run (no run.json); a run replaces the "
            "whole folder, so choose a new or empty folder (--out or output.dir)."
        )
    result = runner.invoke(app, ["run", str(BASE / "scenario.yaml"), "--out", str(out)])
    assert result.exit_code == 2 and result.output.strip() == message
    assert (out.read_text() if existing == "file" else (out / "thesis.docx").read_text()) == "mine"
