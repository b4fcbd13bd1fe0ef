"""The LSOA contiguity graph: geometry in, a networkx graph of LSOA codes out.

Queen contiguity by default (polygons touching at a point are neighbours), rook optionally (a shared edge longer
than a few metres). Generalised boundaries leave slivers and hairline gaps, so polygons closer than
``graph.tolerance_m`` count as touching. Then, in order: line barriers (rivers, railways) remove every adjacency
whose link between the two LSOAs' representative points crosses a barrier; explicit ``remove_edges`` and
``add_edges`` are applied; finally each place's subgraph is made connected by the ``islands`` policy
(``bridge_nearest`` joins each detached part to the nearest LSOA of the rest, ``fail`` reports an error naming the
parts). Every bridge and removal is a finding. Edges carry ``kind``: contiguity, bridge or added.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely import STRtree

from footprint import columns as C
from footprint import readers
from footprint.config import GraphSettings
from footprint.findings import Finding, codes

logger = logging.getLogger(__name__)

#: Rook contiguity: a shared boundary must be at least this long (metres) to count.
ROOK_MIN_SHARED_M = 10.0


@dataclass
class ContiguityGraph:
    """The area's contiguity graph and what was done to make it.

    Attributes
    ----------
    graph
        Nodes are LSOA codes (attribute ``place``); edges have ``kind`` in {contiguity, bridge, added}.
    findings
        Bridges added, edges removed by barriers, disconnected places (errors under the ``fail`` policy).
    """

    graph: nx.Graph
    findings: list[Finding] = field(default_factory=list)

    def place_subgraph(self, place_code: str) -> nx.Graph:
        nodes = [node for node, place in self.graph.nodes(data="place") if place == place_code]
        return self.graph.subgraph(sorted(nodes)).copy()

    def place_components(self, place_code: str) -> list[list[str]]:
        """Connected components of a place, largest first, each sorted."""
        parts = [sorted(part) for part in nx.connected_components(self.place_subgraph(place_code))]
        return sorted(parts, key=lambda part: (-len(part), part[0]))


def build_contiguity_pairs(geometries: gpd.GeoSeries, *, rook: bool, tolerance_m: float) -> np.ndarray:
    """Index pairs (i < j) of polygons that touch (within ``tolerance_m``), sorted, shape (e, 2)."""
    geoms = np.asarray(geometries.values)
    tree = STRtree(geoms)
    if tolerance_m > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=tolerance_m)
    else:
        left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    pairs = np.column_stack([left[keep], right[keep]])
    if rook and len(pairs):
        boundaries = shapely.boundary(geoms)
        grown = shapely.buffer(geoms[pairs[:, 1]], max(tolerance_m, 0.5))
        shared = shapely.length(shapely.intersection(boundaries[pairs[:, 0]], grown))
        pairs = pairs[shared >= ROOK_MIN_SHARED_M]
    order = np.lexsort((pairs[:, 1], pairs[:, 0])) if len(pairs) else np.array([], dtype=int)
    return pairs[order].astype(np.int64)


def build_graph(units: gpd.GeoDataFrame, settings: GraphSettings) -> ContiguityGraph:
    """Build the contiguity graph of ``units`` (canonical table, EPSG:27700) under ``settings``."""
    findings: list[Finding] = []
    lsoa_codes = units[C.LSOA_CODE].astype(str).tolist()
    places = units[C.PLACE_CODE].astype(str).tolist()
    graph = nx.Graph()
    for code, place in zip(lsoa_codes, places, strict=True):
        graph.add_node(code, place=place)
    pairs = build_contiguity_pairs(
        units.geometry, rook=settings.contiguity == "rook", tolerance_m=settings.tolerance_m
    )
    for i, j in pairs:
        graph.add_edge(lsoa_codes[i], lsoa_codes[j], kind="contiguity")
    logger.info(
        "contiguity: %d LSOAs, %d edges (%s, tolerance %.1f m)",
        len(lsoa_codes),
        len(pairs),
        settings.contiguity,
        settings.tolerance_m,
    )

    if settings.barriers:
        _apply_barriers(graph, units, settings, findings)
    _apply_edge_edits(graph, settings, findings)

    for place in sorted(set(places)):
        _connect_place(graph, units, place, settings, findings)
    return ContiguityGraph(graph=graph, findings=findings)


def _apply_barriers(
    graph: nx.Graph, units: gpd.GeoDataFrame, settings: GraphSettings, findings: list[Finding]
) -> None:
    position = {code: (x, y) for code, x, y in zip(units[C.LSOA_CODE], units[C.X], units[C.Y], strict=True)}
    edges = sorted(tuple(sorted(edge)) for edge in graph.edges)
    if not edges:
        return
    links = shapely.linestrings([[position[a], position[b]] for a, b in edges])
    for spec in settings.barriers:
        barrier = readers.read_geo_table(spec.path, what="barrier", layer=spec.layer)
        if barrier.crs is None:
            barrier = barrier.set_crs(C.CRS_WORKING)
        lines = np.asarray(barrier.to_crs(C.CRS_WORKING).geometry.values)
        tree = STRtree(lines)
        hit_links, _ = tree.query(links, predicate="intersects")
        removed = sorted({edges[k] for k in np.unique(hit_links)})
        for a, b in removed:
            if graph.has_edge(a, b):
                graph.remove_edge(a, b)
        findings.append(
            Finding(
                "info",
                "graph.barrier",
                f"barrier removed {len(removed):,} adjacencies that cross it",
                str(spec.path),
                tuple(f"{a}-{b}" for a, b in removed),
            )
        )


def _apply_edge_edits(graph: nx.Graph, settings: GraphSettings, findings: list[Finding]) -> None:
    unknown = sorted(
        {code for pair in (*settings.add_edges, *settings.remove_edges) for code in pair} - set(graph.nodes)
    )
    if unknown:
        findings.append(
            Finding(
                "error",
                "graph.unknown_lsoa",
                "graph.add_edges / remove_edges name LSOAs that are not in the boundaries; fix the codes",
                "",
                tuple(unknown),
            )
        )
    for a, b in settings.remove_edges:
        if graph.has_edge(a, b):
            graph.remove_edge(a, b)
    for a, b in settings.add_edges:
        if a in graph and b in graph and a != b:
            graph.add_edge(a, b, kind="added")


def _connect_place(
    graph: nx.Graph, units: gpd.GeoDataFrame, place: str, settings: GraphSettings, findings: list[Finding]
) -> None:
    nodes = sorted(node for node, p in graph.nodes(data="place") if p == place)
    sub = graph.subgraph(nodes)
    parts = sorted(
        (sorted(part) for part in nx.connected_components(sub)), key=lambda part: (-len(part), part[0])
    )
    if len(parts) <= 1:
        return
    detached = [part for part in parts[1:]]
    described = "; ".join(
        f"{len(part)} LSOA{'s' if len(part) > 1 else ''} ({', '.join(part[:3])}{'...' if len(part) > 3 else ''})"
        for part in detached
    )
    if settings.islands == "fail":
        findings.append(
            Finding(
                "error",
                "graph.disconnected_place",
                f"place {place} falls into {len(parts)} separate parts: main part of {len(parts[0])} LSOAs, then "
                f"{described}; set graph.islands: bridge_nearest, or join them with graph.add_edges",
                "",
                codes(code for part in detached for code in part),
            )
        )
        return
    geometry = dict(zip(units[C.LSOA_CODE], units.geometry.values, strict=True))
    bridges: list[str] = []
    main = set(parts[0])
    for part in detached:
        best: tuple[float, str, str] | None = None
        main_sorted = sorted(main)
        tree = STRtree([geometry[code] for code in main_sorted])
        for code in part:
            nearest = int(tree.nearest(geometry[code]))
            other = main_sorted[nearest]
            distance = float(shapely.distance(geometry[code], geometry[other]))
            if best is None or (distance, code, other) < best:
                best = (distance, code, other)
        assert best is not None
        graph.add_edge(best[1], best[2], kind="bridge")
        bridges.append(f"{best[1]}-{best[2]} ({best[0]:,.0f} m)")
        main |= set(part)
    findings.append(
        Finding(
            "warning",
            "graph.bridged",
            f"place {place} had {len(parts)} separate parts ({described} detached); bridged to the nearest LSOA "
            "(graph.islands: bridge_nearest)",
            "",
            tuple(bridges),
        )
    )
