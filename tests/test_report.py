"""Reports and maps: what each run writes, that it is self-contained and deterministic, ``footprint report``, and
what a browser shows (headless Chromium; skipped when it is not installed)."""

from __future__ import annotations

import importlib.util
import io
import itertools
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from footprint import metrics
from footprint.cli import app
from footprint.export import PRODUCT_FILES
from footprint.layers import build_layers
from footprint.maps import PALETTE, PNG_DPI, colour_neighbourhoods, render_map_html, render_map_png
from footprint.plan import Plan
from tiny import build_hand_plan, write_tiny_scenario

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
#: What would make a browser fetch something (hyperlinks do not): src=, stylesheets, CSS url() and @import.
EXTERNAL = re.compile(
    r"""src\s*=\s*["']?\s*(?:https?:)?//|<link\b|url\(\s*["']?(?:https?:)?//|@import""", re.I
)


@pytest.fixture(scope="module")
def hand_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The hand plan of tests/test_reconcile.py, where PCN X (60% < 70%) realigns its practice P5."""
    return build_hand_plan(tmp_path_factory.mktemp("hand"), ["alignment.coterminous_share=0.7"])


def _screens() -> object:
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "benchmarks" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- files ------------------------------------------------------------------------------------------------------


def test_every_product_is_written(quick_sample_run: Path) -> None:
    assert set(PRODUCT_FILES) <= {p.name for p in quick_sample_run.iterdir()}


@pytest.mark.parametrize("name", ["report.html", "map.html"])
def test_html_pages_need_no_network(quick_sample_run: Path, name: str) -> None:
    text = (quick_sample_run / name).read_text(encoding="utf-8")
    assert not EXTERNAL.findall(text)
    assert "<script src" not in text


def test_report_html_embeds_the_map_png(quick_sample_run: Path) -> None:
    text = (quick_sample_run / "report.html").read_text(encoding="utf-8")
    (encoded,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    import base64

    assert base64.b64decode(encoded) == (quick_sample_run / "map.png").read_bytes()
    assert text.count("<table>") >= 8


def test_map_html_inlines_leaflet(quick_sample_run: Path) -> None:
    text = (quick_sample_run / "map.html").read_text(encoding="utf-8")
    assert "Leaflet 1.9.4" in text and ".leaflet-container" in text
    assert "sourceMappingURL" not in text and "url(images/" not in text


def test_map_png_is_a4_at_fixed_dpi_without_metadata(quick_sample_run: Path) -> None:
    data = (quick_sample_run / "map.png").read_bytes()
    image = Image.open(io.BytesIO(data))
    assert image.size == (round(11.69 * PNG_DPI), round(8.27 * PNG_DPI))
    assert b"Software" not in data and b"tIME" not in data and b"matplotlib" not in data.lower()
    colours = {tuple(c[1][:3]) for c in image.convert("RGB").getcolors(1 << 20)}
    assert sum(tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) in colours for h in PALETTE) >= 3


def test_maps_render_byte_identically(hand_plan: Plan) -> None:
    first = render_map_png(build_layers(hand_plan), title="t", subtitle="s")
    second = render_map_png(build_layers(hand_plan), title="t", subtitle="s")
    assert first == second
    html_a = render_map_html(build_layers(hand_plan), title="t", subtitle="s")
    assert html_a == render_map_html(build_layers(hand_plan), title="t", subtitle="s")


def test_touching_neighbourhoods_get_different_colours(hand_plan: Plan, quick_sample_run: Path) -> None:
    colours = colour_neighbourhoods(build_layers(hand_plan).neighbourhoods)
    # the four columns form a chain A-01 | A-02 | B-01 | B-02
    chain = ["E09900001-01", "E09900001-02", "E09900002-01", "E09900002-02"]
    assert all(colours[a] != colours[b] for a, b in itertools.pairwise(chain))
    hoods = gpd.read_file(quick_sample_run / "neighbourhoods.gpkg", layer="neighbourhoods")
    colours = colour_neighbourhoods(hoods)
    touching = [
        (a, b)
        for i, a in enumerate(hoods["neighbourhood_id"])
        for j, b in enumerate(hoods["neighbourhood_id"])
        if i < j and hoods.geometry.iloc[i].distance(hoods.geometry.iloc[j]) < 1
    ]
    assert touching and all(colours[a] != colours[b] for a, b in touching)


def test_map_html_carries_the_tooltip_fields(hand_plan: Plan) -> None:
    text = render_map_html(build_layers(hand_plan), title="t", subtitle="s")
    lsoa = re.search(r'\{"code":"E01900005"[^}]*\}', text)
    assert lsoa is not None
    assert '"hood":"E09900001-01"' in lsoa.group(0) and '"residents":10000' in lsoa.group(0)
    assert '"pcn":"PCNX"' in lsoa.group(0) and '"pcn_share":0.6' in lsoa.group(0)
    practice = re.search(r'\{"code":"P00005"[^}]*\}', text)
    assert practice is not None
    assert '"pcn":"PCNX"' in practice.group(0) and '"realign":true' in practice.group(0)


# ---- GeoPackage ---------------------------------------------------------------------------------------------------


def test_geopackage_layers(quick_sample_run: Path) -> None:
    path = quick_sample_run / "neighbourhoods.gpkg"
    assert list(gpd.list_layers(path)["name"]) == ["neighbourhoods", "lsoas", "hubs", "practices"]
    hubs = gpd.read_file(path, layer="hubs")
    hoods = pd.read_csv(quick_sample_run / "neighbourhoods.csv")
    assert set(hubs.geom_type) == {"Point"} and hubs.crs.to_epsg() == 27700
    assert sorted(hubs.loc[hubs["used"] == 1, "neighbourhood_id"]) == sorted(hoods["neighbourhood_id"])
    practices = gpd.read_file(path, layer="practices")
    written = pd.read_csv(quick_sample_run / "realignment_practices.csv")
    assert sorted(practices["practice_code"]) == sorted(written["practice_code"])
    flagged = practices.set_index("practice_code")["realign"].astype(bool)
    assert flagged.to_dict() == written.set_index("practice_code")["realign"].to_dict()
    assert {"pcn_code", "site_neighbourhood", "suggested_action"} <= set(practices.columns)
    lsoas = gpd.read_file(path, layer="lsoas")
    assert {"neighbourhood_id", "population", "registered", "dominant_pcn", "moved"} <= set(lsoas.columns)
    assert lsoas.groupby("neighbourhood_id")["population"].sum().to_dict() == dict(
        zip(hoods["neighbourhood_id"], hoods["population"], strict=True)
    )
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA application_id").fetchone() == (0x47504B47,)  # "GPKG"
        assert connection.execute("PRAGMA user_version").fetchone() == (
            10200,
        )  # GeoPackage 1.2, widely readable
        tables = {row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")}
        assert tables == {"neighbourhoods", "lsoas", "hubs", "practices"}


@pytest.mark.skipif(
    shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed (apt-get install gdal-bin)"
)
def test_geopackage_opens_in_gdal(quick_sample_run: Path) -> None:
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", str(quick_sample_run / "neighbourhoods.gpkg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr and "Warning" not in done.stderr
    for layer in ("neighbourhoods", "lsoas", "hubs", "practices"):
        assert f"Layer name: {layer}" in done.stdout


# ---- report content -----------------------------------------------------------------------------------------------


def _table_rows(markdown: str, heading: str) -> list[list[str]]:
    """Rows (cells) of the first table after ``heading``."""
    section = markdown.split(heading, 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif started:
            break
    assert lines
    return rows[2:]


def test_report_figures_are_the_written_figures(quick_sample_run: Path) -> None:
    markdown = (quick_sample_run / "report.md").read_text(encoding="utf-8")
    hoods = pd.read_csv(quick_sample_run / "neighbourhoods.csv")
    rows = {row[0]: row for row in _table_rows(markdown, "## Headline figures per place")}
    for place, group in hoods.groupby("place_code"):
        row = rows[f"`{place}`"]
        assert row[3] == str(len(group)) and row[4] == f"{group['population'].sum():,}"
        assert row[5] == f"{group['measure'].min():,} - {group['measure'].max():,}"
    practices = pd.read_csv(quick_sample_run / "realignment_practices.csv")
    listed = [row[0].strip("`") for row in _table_rows(markdown, "## Practices to realign")]
    assert sorted(listed) == sorted(practices.loc[practices["realign"], "practice_code"])
    pcns = pd.read_csv(quick_sample_run / "realignment_pcns.csv").set_index("pcn_code")
    for row in _table_rows(markdown, "## PCNs"):
        assert row[5] == f"{pcns.loc[row[0].strip('`'), 'coterminosity']:.0%}"


def test_report_states_solver_assumptions_and_caveats(quick_sample_run: Path) -> None:
    import json

    markdown = (quick_sample_run / "report.md").read_text(encoding="utf-8")
    record = json.loads((quick_sample_run / "run.json").read_text(encoding="utf-8"))
    solver = {
        row[0].strip("`"): row
        for row in _table_rows(markdown, "## Technical appendix: how the plan was found")
    }
    for place in record["places"]:
        assert solver[place["place_code"]][1] == place["status"]
        assert solver[place["place_code"]][7] == "passed"
    assert "Population bounds: 30,000 to 50,000 residents" in markdown
    for finding in record["findings"] + record["policies"]:
        assert f"`{finding['code']}`" in markdown
    assert "LSOA 2021 boundaries (LSOA21CD)" in markdown  # the vintage
    for path, entry in record["inputs"].items():
        assert entry["sha256"][:16] in markdown and Path(path).name in markdown


def test_report_matches_metrics_on_the_hand_plan(hand_plan: Plan, tmp_path: Path) -> None:
    from footprint.export import write_plan

    write_plan(hand_plan, tmp_path / "out")
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    places = metrics.summarise_places(hand_plan).set_index("place_code")
    rows = {row[0]: row for row in _table_rows(markdown, "## Headline figures per place")}
    for place, figures in places.iterrows():
        assert rows[f"`{place}`"][8] == f"{figures['self_containment']:.0%}"
        routes = (figures["pcns_coterminous"], figures["pcns_realign"], figures["pcns_work_across"])
        assert rows[f"`{place}`"][9] == " / ".join(str(n) for n in routes)
        assert sum(routes) == figures["pcns"]
        assert rows[f"`{place}`"][11] == str(figures["practices_to_realign"])


# ---- footprint report ----------------------------------------------------------------------------------------------


def test_report_command_regenerates_every_product_byte_identically(
    quick_sample_run: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    shutil.copytree(quick_sample_run, again)
    for name in PRODUCT_FILES:
        (again / name).unlink()
    result = runner.invoke(app, ["report", str(again)])
    assert result.exit_code == 0, result.output
    assert f"rewrote {len(PRODUCT_FILES)} files" in result.output
    for path in sorted(quick_sample_run.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left behind


def test_report_command_on_a_bad_folder_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: {tmp_path / 'nope'}: no such run folder; give a folder written by footprint run."
    )
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"error: {tmp_path / 'run.json'}: no run.json; give a folder written by footprint run."
    )


def test_report_command_refuses_changed_inputs(tmp_path: Path) -> None:
    config = write_tiny_scenario(tmp_path / "tiny")
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(config), "--out", str(out), "--quiet"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    population = tmp_path / "tiny" / "population.csv"
    population.write_text(population.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 2
    assert "inputs changed since the run" in result.output and "population.csv" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    result = runner.invoke(app, ["report", str(out), "--allow-changed-inputs"])
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "These inputs changed after the plan was solved" in report and "population.csv" in report


def test_report_command_refuses_an_edited_assignment(quick_sample_run: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(quick_sample_run, edited)
    assignment = pd.read_csv(edited / "assignment.csv", dtype=str)
    ids = sorted(assignment.loc[assignment["place_code"] == "P0001", "neighbourhood_id"].unique())
    row = assignment.index[assignment["neighbourhood_id"] == ids[0]][0]
    assignment.loc[row, "neighbourhood_id"] = ids[-1]
    assignment.to_csv(edited / "assignment.csv", index=False)
    result = runner.invoke(app, ["report", str(edited)])
    assert result.exit_code == 2
    assert "run footprint check on this folder" in result.output or "differ from the plan" in result.output
    assert (edited / "report.md").read_bytes() == (quick_sample_run / "report.md").read_bytes()


# ---- in a browser ---------------------------------------------------------------------------------------------------


def _blend(colour: str, opacity: float) -> tuple[int, int, int]:
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(c * opacity + 255 * (1 - opacity)) for c in rgb)  # type: ignore[return-value]


def _pixels(png: Path) -> np.ndarray:
    return np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)


def _count_near(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 3) -> int:
    return int((np.abs(pixels.astype(int) - np.array(colour)).max(axis=1) <= tolerance).sum())


@pytest.fixture(scope="module")
def screens() -> object:
    module = _screens()
    if module.find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser rendering not checked")
    return module


def test_report_html_shows_map_and_tables_in_chromium(
    screens: object, quick_sample_run: Path, tmp_path: Path
) -> None:
    png = screens.screenshot(
        quick_sample_run / "report.html", tmp_path / "report.png", width=1400, height=1800
    )
    pixels = _pixels(png)
    assert (pixels.min(axis=1) < 200).mean() > 0.05  # not blank
    shown = [h for h in PALETTE if _count_near(pixels, _blend(h, 1.0), 2) > 2000]
    assert len(shown) >= 3, shown  # the map's neighbourhood colours fill large areas
    dom = screens.dump_dom(quick_sample_run / "report.html")
    assert dom.count("<table>") >= 8
    for heading in (
        "Headline figures per place",
        "Neighbourhoods",
        "PCNs",
        "Practices to realign",
        "Changes",
    ):
        assert f">{heading}" in dom
    assert 'src="data:image/png;base64,' in dom


def test_map_html_draws_offline_in_chromium(screens: object, quick_sample_run: Path, tmp_path: Path) -> None:
    png = screens.screenshot(quick_sample_run / "map.html", tmp_path / "map.png", width=1200, height=800)
    pixels = _pixels(png)
    shown = [h for h in PALETTE if _count_near(pixels, _blend(h, 0.85)) > 2000]
    assert len(shown) >= 3, shown  # Leaflet ran (offline) and filled the neighbourhoods
    dom = screens.dump_dom(quick_sample_run / "map.html")
    assert "leaflet-container" in dom and "leaflet-control-layers" in dom and "legend" in dom
