"""Contiguity on hand-drawn layouts: queen vs rook, tolerance, islands, edits, barriers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, box

from footprint.config import GraphSettings, TableInput
from footprint.graph import build_contiguity_pairs, build_graph


def units_from(
    boxes: dict[str, tuple[float, float, float, float]], place: dict[str, str] | None = None
) -> gpd.GeoDataFrame:
    codes = sorted(boxes)
    frame = gpd.GeoDataFrame(
        {
            "lsoa_code": codes,
            "place_code": [(place or {}).get(code, "P") for code in codes],
        },
        geometry=[box(*boxes[code]) for code in codes],
        crs="EPSG:27700",
    )
    points = frame.geometry.representative_point()
    frame["x"], frame["y"] = points.x, points.y
    return frame


def test_queen_and_rook_on_a_2x2_grid() -> None:
    """
    c | d
    --+--
    a | b      a-d and b-c touch only at the centre point: queen yes, rook no.
    """
    units = units_from(
        {"a": (0, 0, 100, 100), "b": (100, 0, 200, 100), "c": (0, 100, 100, 200), "d": (100, 100, 200, 200)}
    )
    queen = build_contiguity_pairs(units.geometry, rook=False, tolerance_m=0)
    rook = build_contiguity_pairs(units.geometry, rook=True, tolerance_m=0)
    assert queen.tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert rook.tolist() == [[0, 1], [0, 2], [1, 3], [2, 3]]


def test_tolerance_closes_sliver_gaps() -> None:
    units = units_from({"a": (0, 0, 100, 100), "b": (101.5, 0, 200, 100)})
    assert build_contiguity_pairs(units.geometry, rook=False, tolerance_m=0).tolist() == []
    assert build_contiguity_pairs(units.geometry, rook=False, tolerance_m=2).tolist() == [[0, 1]]


def test_island_is_bridged_to_nearest_and_reported() -> None:
    units = units_from({"a": (0, 0, 100, 100), "b": (100, 0, 200, 100), "i": (500, 0, 600, 100)})
    built = build_graph(units, GraphSettings())
    assert sorted(built.graph.edges(data="kind")) == [("a", "b", "contiguity"), ("b", "i", "bridge")]
    (finding,) = built.findings
    assert finding.code == "graph.bridged" and finding.severity == "warning"
    assert finding.items == ("i-b (300 m)",)
    assert "place P had 2 separate parts (1 LSOA (i) detached)" in finding.message


def test_island_fails_under_fail_policy() -> None:
    units = units_from({"a": (0, 0, 100, 100), "b": (100, 0, 200, 100), "i": (500, 0, 600, 100)})
    built = build_graph(units, GraphSettings(islands="fail"))
    (finding,) = built.findings
    assert (finding.severity, finding.code, finding.items) == ("error", "graph.disconnected_place", ("i",))
    assert finding.message.startswith(
        "place P falls into 2 separate parts: main part of 2 LSOAs, then 1 LSOA (i)"
    )


def test_places_are_connected_separately() -> None:
    """Two places side by side, each connected; no bridge is needed, cross-place edges kept in the full graph."""
    units = units_from({"a": (0, 0, 100, 100), "b": (100, 0, 200, 100)}, place={"a": "P", "b": "Q"})
    built = build_graph(units, GraphSettings())
    assert built.findings == []
    assert built.place_components("P") == [["a"]]
    assert list(built.graph.edges) == [("a", "b")]


def test_add_and_remove_edges() -> None:
    units = units_from({"a": (0, 0, 100, 100), "b": (100, 0, 200, 100), "c": (200, 0, 300, 100)})
    built = build_graph(
        units, GraphSettings(remove_edges=[("a", "b")], add_edges=[("a", "c")], islands="fail")
    )
    assert sorted(built.graph.edges(data="kind")) == [("a", "c", "added"), ("b", "c", "contiguity")]
    bad = build_graph(units, GraphSettings(add_edges=[("a", "zz")]))
    assert [(f.code, f.items) for f in bad.findings] == [("graph.unknown_lsoa", ("zz",))]


def test_barrier_removes_crossing_adjacency(tmp_path: Path) -> None:
    """A river along x=100 separates a from b; c is beyond b."""
    units = units_from({"a": (0, 0, 100, 100), "b": (100, 0, 200, 100), "c": (200, 0, 300, 100)})
    river = tmp_path / "river.gpkg"
    gpd.GeoDataFrame(geometry=[LineString([(100, -50), (100, 150)])], crs="EPSG:27700").to_file(
        river, engine="pyogrio"
    )
    built = build_graph(units, GraphSettings(barriers=[TableInput(path=river)]))
    assert sorted(built.graph.edges(data="kind")) == [("a", "b", "bridge"), ("b", "c", "contiguity")]
    assert [f.code for f in built.findings] == ["graph.barrier", "graph.bridged"]
    assert built.findings[0].items == ("a-b",)


@pytest.mark.london
def test_london_graph_is_connected_in_every_place(london_dir: Path) -> None:
    units = gpd.read_file(london_dir / "lsoa11_london_gen20.shp", engine="pyogrio").rename(
        columns={"LSOA11CD": "lsoa_code", "LAD11CD": "place_code"}
    )
    points = units.geometry.representative_point()
    units["x"], units["y"] = points.x, points.y
    built = build_graph(units, GraphSettings())
    assert built.graph.number_of_nodes() == 4835
    assert built.findings == []
    assert all(len(built.place_components(place)) == 1 for place in units["place_code"].unique())
