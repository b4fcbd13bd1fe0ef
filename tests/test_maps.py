"""Maps: labels that never collide, neighbouring colours across place boundaries, the key, and the labels of
map.html as a browser shows them (headless Chromium; skipped when it is not installed)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from shapely.geometry import box

from footprint.layers import build_layers
from footprint.maps import (
    colour_neighbourhoods,
    key_entries,
    map_data,
    plan_labels,
    render_map_png,
)
from footprint.plan import Plan
from tiny import build_hand_plan

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hand_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The tiny grid split by hand into its four columns: A-01 | A-02 | B-01 | B-02 (see tests/tiny.py)."""
    return build_hand_plan(tmp_path_factory.mktemp("hand"), ["alignment.coterminous_share=0.7"])


def _grid(columns: int, rows: int, side_m: float, name: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``columns`` x ``rows`` square neighbourhoods of ``side_m`` metres in one place ``P1``::

    P1-03 | P1-06      (ids count up each column, from the bottom)
    P1-02 | P1-05
    P1-01 | P1-04
    """
    squares = [
        box(c * side_m, r * side_m, (c + 1) * side_m, (r + 1) * side_m)
        for c in range(columns)
        for r in range(rows)
    ]
    hoods = gpd.GeoDataFrame(
        {
            "neighbourhood_id": [f"P1-{i + 1:02d}" for i in range(len(squares))],
            "neighbourhood_name": [f"{name} {i + 1}" for i in range(len(squares))],
            "place_code": "P1",
            "place_name": "Place One",
        },
        geometry=squares,
        crs="EPSG:27700",
    )
    places = gpd.GeoDataFrame(
        {"place_code": ["P1"], "place_name": ["Place One"], "planned": [True]},
        geometry=[box(0, 0, columns * side_m, rows * side_m)],
        crs="EPSG:27700",
    )
    return hoods, places


def _axes(width_m: float, height_m: float) -> object:
    figure = Figure(figsize=(6, 4), dpi=200)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width_m)
    axes.set_ylim(0, height_m)
    return axes


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# ---- labels of map.png -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("side_m", "expect"), [(3000.0, "names"), (600.0, "numbers")])
def test_labels_never_overlap(side_m: float, expect: str) -> None:
    hoods, places = _grid(6, 4, side_m, "Finchley Central & Church End")
    axes = _axes(18_000, 12_000)  # the same page for both sizes
    plan = plan_labels(axes, places, hoods, place_size=10.0, hood_size=7.0)
    boxes = [label.box for label in plan.labels]
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if _overlap(a, b)]
    hood_labels = [label for label in plan.labels if label.kind == "neighbourhood"]
    assert {label.key for label in hood_labels} | set(plan.dropped) == set(hoods["neighbourhood_id"])
    assert set(plan.shortened) == {label.key for label in hood_labels if label.shortened}
    if expect == "names":  # 3 km squares on a 6 x 4 inch page: every name fits
        assert [label.text for label in plan.labels if label.kind == "place"] == ["Place One"]
        assert not plan.shortened and not plan.dropped
        assert all("Finchley" in label.text for label in hood_labels)
    else:  # 600 m squares: no name fits, numbers replace them, and those that cannot be placed are dropped
        assert len(plan.shortened) + len(plan.dropped) == len(hoods)
        assert len(plan.shortened) >= len(hoods) // 2, plan.dropped
        assert all(label.text == label.key.rsplit("-", 1)[1] for label in hood_labels)


def test_labels_are_deterministic_and_clear_obstacles() -> None:
    hoods, places = _grid(3, 3, 1000.0, "Kentish Town West & Tufnell Park West")
    first = plan_labels(_axes(3000, 3000), places, hoods, place_size=10.0, hood_size=7.0)
    assert first == plan_labels(_axes(3000, 3000), places, hoods, place_size=10.0, hood_size=7.0)
    centre = next(label.box for label in first.labels if label.kind == "place")
    blocked = plan_labels(
        _axes(3000, 3000), places, hoods, place_size=10.0, hood_size=7.0, obstacles=[centre]
    )
    assert not any(_overlap(label.box, centre) for label in blocked.labels)


# ---- colours ----------------------------------------------------------------------------------------------------


def test_neighbours_across_a_place_boundary_get_different_colours() -> None:
    """Two places side by side; each alone would colour its own two neighbourhoods 0 and 1::

    A-01 | A-02 || B-01 | B-02       (|| the place boundary; A-02 and B-01 touch across it)
    """
    hoods = gpd.GeoDataFrame(
        {
            "neighbourhood_id": ["A-01", "A-02", "B-01", "B-02"],
            "place_code": ["A", "A", "B", "B"],
        },
        geometry=[
            box(0, 0, 1000, 1000),
            box(1000, 0, 2000, 1000),
            box(2000, 0, 3000, 1000),
            box(3000, 0, 4000, 1000),
        ],
        crs="EPSG:27700",
    )
    colours = colour_neighbourhoods(hoods)
    assert colours["A-02"] != colours["B-01"]
    assert all(colours[a] != colours[b] for a, b in itertools.pairwise(["A-01", "A-02", "B-01", "B-02"]))
    assert colours == colour_neighbourhoods(hoods.iloc[::-1])  # row order does not matter


# ---- key --------------------------------------------------------------------------------------------------------


def test_key_shows_only_what_the_map_shows(hand_plan: Plan) -> None:
    layers = build_layers(hand_plan)
    symbols = dict(key_entries(layers))
    assert "context" not in symbols  # every place has a plan
    assert symbols["hub"] == "centre of a neighbourhood"  # no hubs were given: LSOA centres
    assert "spare_hub" not in symbols
    unplanned = layers.places.assign(planned=layers.places["place_code"] == "E09900001")
    with_context = dict(key_entries(layers.__class__(**{**layers.__dict__, "places": unplanned})))
    assert with_context["context"] == "place without a plan in this run"
    given = layers.hubs.assign(kind="hub")
    with_hubs = dict(key_entries(layers.__class__(**{**layers.__dict__, "hubs": given})))
    assert with_hubs["hub"] == "hub serving a neighbourhood"


def test_map_html_key_uses_the_words_of_map_png(hand_plan: Plan) -> None:
    layers = build_layers(hand_plan)
    data = map_data(layers)
    assert [tuple(entry) for entry in data["key"]] == key_entries(layers)
    assert json.loads(json.dumps(data["labels"]))[0]["kind"] == "place"
    hood_labels = [label for label in data["labels"] if label["kind"] == "hood"]
    assert sorted(label["id"] for label in hood_labels) == sorted(layers.neighbourhoods["neighbourhood_id"])
    assert all(label["room"] > 0 for label in hood_labels)
    assert render_map_png(layers, title="t", subtitle="s")  # draws with the key and labels


# ---- map.html in a browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screens() -> object:
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "benchmarks" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser rendering not checked")
    return module


def test_map_html_shows_labels_without_hovering(screens: object, quick_sample_run: Path) -> None:
    dom = screens.dump_dom(quick_sample_run / "map.html")
    shown = re.findall(
        r'<div class="[^"]*map-label (place|hood)-label[^"]*"[^>]*data-box="([-\d.,]+)"[^>]*data-shown="(\w+)"'
        r'[^>]*><span class="(\w+)"[^>]*>([^<]+)</span>',
        dom,
    )
    places = [text for kind, _, _, _, text in shown if kind == "place"]
    hoods = [(how, text) for kind, _, how, _, text in shown if kind == "hood"]
    assert sorted(places) == ["Eastgate", "Northbank and Old Quay"]
    total = len(gpd.read_file(quick_sample_run / "neighbourhoods.gpkg", layer="neighbourhoods"))
    assert len(hoods) >= total - 1, hoods  # visible at once, no hovering; at most one without room
    assert all(how in {"name", "number"} and text.strip() for how, text in hoods)
    boxes = [tuple(float(v) for v in box.split(",")) for _, box, _, _, _ in shown]
    assert all(b[2] > b[0] and b[3] > b[1] for b in boxes)  # laid out with a size: drawn
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if _overlap(a, b)]
