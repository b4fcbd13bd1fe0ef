"""Maps of a plan: ``map.png`` (static, A4, for the report and for print) and ``map.html`` (interactive, offline).

Responsibility: draw the layers of :mod:`footprint.layers` (figures from :mod:`footprint.metrics`, never computed
here). Both maps colour neighbourhoods the same way: a greedy colouring of the graph of touching neighbourhoods
(:func:`colour_neighbourhoods`), so neighbours never share a colour and colours carry no other meaning. Both mark
hubs (filled star: serves a neighbourhood; hollow: candidate not used), practices (dots; triangles for
realignment candidates) and place outlines, with a legend and a title.

- ``map.png``: matplotlib (Agg), A4 landscape at 200 dpi (2338 x 1654 px), neighbourhood numbers on the map,
  a scale bar, and a side panel with the legend and the places. Deterministic bytes: fixed size and dpi, no
  ``Software`` metadata, no dates.
- ``map.html``: one self-contained page (Leaflet 1.9.4 and its CSS inlined from ``footprint/assets``, data as
  inline GeoJSON; no network needed, no background tiles) with a tooltip per LSOA (code, name, neighbourhood,
  residents, dominant PCN) and per practice (code, name, PCN, realignment flag and suggested action) and hub.
  Geometry is simplified for the web (coverage simplification at :data:`WEB_TOLERANCE_M`, so neighbours stay
  edge-matched) and coordinates rounded to 6 decimals (~0.1 m).
"""

from __future__ import annotations

import base64
import html
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from footprint import columns as C
from footprint.layers import Layers

#: Fill colours of neighbourhoods (ColorBrewer Set3, light enough for dark markers and labels on top).
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#fb8072",
    "#bc80bd",
    "#ccebc5",
)
CONTEXT_FILL = "#ececec"
PLACE_EDGE = "#1f1f1f"
PRACTICE_COLOUR = "#2b2b2b"
REALIGN_COLOUR = "#c51b7d"
HUB_COLOUR = "#111111"
#: Breaches of an evaluated map: out-of-bounds neighbourhoods outlined (dashed), LSOAs in breach hatched.
BREACH_COLOUR = "#d7191c"
#: Neighbourhoods closer than this (metres) count as touching when colouring (generalised boundaries leave gaps).
TOUCH_M = 25.0
#: Coverage simplification tolerance for the web map (metres; roughly the side of the smallest kept triangle).
WEB_TOLERANCE_M = 8.0
#: A4 landscape in inches, and the resolution of map.png.
PAGE_INCHES = (11.69, 8.27)
PNG_DPI = 200


def colour_neighbourhoods(neighbourhoods: gpd.GeoDataFrame) -> dict[str, int]:
    """Palette index per neighbourhood id: greedy (DSATUR) colouring of the touching graph, deterministic."""
    ids = [str(value) for value in neighbourhoods[C.NEIGHBOURHOOD]]
    graph = nx.Graph()
    graph.add_nodes_from(sorted(ids))
    geoms = np.asarray(neighbourhoods.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    index = np.flatnonzero(present)
    if len(index):
        tree = shapely.STRtree(geoms[index])
        left, right = tree.query(geoms[index], predicate="dwithin", distance=TOUCH_M)
        graph.add_edges_from(
            (ids[index[a]], ids[index[b]]) for a, b in zip(left, right, strict=True) if a < b
        )
    colours = nx.greedy_color(graph, strategy="DSATUR")
    return {node: int(colours[node]) % len(PALETTE) for node in sorted(graph)}


def _ordinal(neighbourhood_id: str) -> str:
    return neighbourhood_id.rsplit("-", 1)[-1]


def _nice_length_km(width_m: float) -> float:
    """A round scale-bar length, about a fifth of the map width."""
    target = width_m / 5000.0
    for step in (0.25, 0.5, 1, 2, 5, 10, 20, 50):
        if step >= target * 0.6:
            return float(step)
    return 50.0


# ---- map.png ---------------------------------------------------------------------------------------------------


def render_map_png(layers: Layers, *, title: str, subtitle: str) -> bytes:
    """The static map as PNG bytes (A4 landscape, :data:`PNG_DPI`), deterministic for the same layers."""
    hoods = layers.neighbourhoods
    colours = colour_neighbourhoods(hoods)
    planned = layers.places[layers.places["planned"]]
    context = layers.places[~layers.places["planned"]]
    many = len(hoods) > 60

    figure = Figure(figsize=PAGE_INCHES, dpi=PNG_DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(0.02, 0.965, title, fontsize=15, fontweight="bold", va="top", ha="left")
    figure.text(0.02, 0.925, subtitle, fontsize=9, color="#444444", va="top", ha="left")
    axes = figure.add_axes((0.02, 0.03, 0.72, 0.87))
    axes.set_axis_off()
    axes.set_aspect("equal")

    minx, miny, maxx, maxy = planned.total_bounds if len(planned) else layers.places.total_bounds
    pad = 0.03 * max(maxx - minx, maxy - miny, 1.0)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    box_w, box_h = 0.72 * PAGE_INCHES[0], 0.87 * PAGE_INCHES[1]
    # widen the shorter side so the map fills the axes box (and context shows around it)
    if (maxx - minx) / (maxy - miny) < box_w / box_h:
        extra = (maxy - miny) * box_w / box_h - (maxx - minx)
        minx, maxx = minx - extra / 2, maxx + extra / 2
    else:
        extra = (maxx - minx) * box_h / box_w - (maxy - miny)
        miny, maxy = miny - extra / 2, maxy + extra / 2
    axes.set_xlim(minx, maxx)
    axes.set_ylim(miny, maxy)

    if len(context):
        context.plot(ax=axes, facecolor=CONTEXT_FILL, edgecolor="white", linewidth=0.6, zorder=1)
    if len(hoods):
        fills = [PALETTE[colours[str(n)]] for n in hoods[C.NEIGHBOURHOOD]]
        if len(layers.lsoas) <= 1500:
            layers.lsoas.plot(
                ax=axes,
                color=[PALETTE[colours[str(n)]] for n in layers.lsoas[C.NEIGHBOURHOOD]],
                edgecolor="white",
                linewidth=0.15,
                zorder=2,
            )
        else:
            hoods.plot(ax=axes, color=fills, linewidth=0, zorder=2)
        hoods.boundary.plot(ax=axes, color="white", linewidth=0.6 if many else 1.2, zorder=3)
    if len(planned):
        planned.boundary.plot(ax=axes, color=PLACE_EDGE, linewidth=1.0 if many else 1.6, zorder=4)

    breaches = layers.breaches
    if breaches is not None and len(breaches):
        lsoa = breaches[breaches["kind"] == "lsoa"]
        bounds = breaches[breaches["kind"] == "bounds"]
        if len(lsoa):
            lsoa.plot(
                ax=axes, facecolor="none", edgecolor=BREACH_COLOUR, hatch="xxxx", linewidth=0.8, zorder=4.5
            )
        if len(bounds):
            bounds.boundary.plot(ax=axes, color=BREACH_COLOUR, linewidth=2.0, linestyle="--", zorder=4.6)

    practices = layers.practices[layers.practices.geometry.notna()]
    if len(practices):
        plain = practices[~practices["realign"].astype(bool)]
        flagged = practices[practices["realign"].astype(bool)]
        axes.scatter(
            plain.geometry.x,
            plain.geometry.y,
            s=2.5 if many else 7,
            color=PRACTICE_COLOUR,
            linewidths=0,
            zorder=5,
        )
        axes.scatter(
            flagged.geometry.x,
            flagged.geometry.y,
            s=9 if many else 26,
            marker="^",
            color=REALIGN_COLOUR,
            edgecolors="white",
            linewidths=0.3,
            zorder=6,
        )
    hubs = layers.hubs
    if len(hubs):
        used = hubs[hubs["used"].astype(bool)]
        spare = hubs[~hubs["used"].astype(bool)]
        axes.scatter(
            used.geometry.x,
            used.geometry.y,
            s=40 if many else 110,
            marker="*",
            color=HUB_COLOUR,
            edgecolors="white",
            linewidths=0.5,
            zorder=7,
        )
        axes.scatter(
            spare.geometry.x,
            spare.geometry.y,
            s=30 if many else 80,
            marker="*",
            facecolors="white",
            edgecolors=HUB_COLOUR,
            linewidths=0.6,
            zorder=7,
        )
    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    hub_xy = {
        str(n): (x, y)
        for n, x, y in zip(hubs[C.NEIGHBOURHOOD], hubs.geometry.x, hubs.geometry.y, strict=True)
        if isinstance(n, str)
    }
    clearance = 0.02 * (maxy - miny)
    for row in hoods.itertuples(index=False):
        geometry = row.geometry
        if geometry is None or geometry.is_empty:
            continue
        x, y = _label_point(geometry)
        hub = hub_xy.get(str(getattr(row, C.NEIGHBOURHOOD)))
        if hub is not None and math.hypot(x - hub[0], y - hub[1]) < clearance:
            y = hub[1] + clearance  # keep the number clear of its hub's star
        axes.text(
            x,
            y,
            _ordinal(str(getattr(row, C.NEIGHBOURHOOD))),
            fontsize=4.5 if many else 8,
            fontweight="bold",
            ha="center",
            va="center",
            color="#1a1a1a",
            path_effects=halo,
            zorder=8,
        )
    _scale_bar(axes, minx, miny, maxx, maxy)
    _side_panel(figure, layers, many=many)
    buffer = _png_bytes(figure)
    return buffer


def _label_point(geometry: Any) -> tuple[float, float]:
    """Where a neighbourhood's number goes: the pole of inaccessibility of its largest part."""
    parts = getattr(geometry, "geoms", [geometry])
    largest = max(parts, key=lambda part: part.area)
    point = shapely.ops.polylabel(largest, tolerance=max(1.0, math.sqrt(largest.area) / 100))
    return float(point.x), float(point.y)


def _scale_bar(axes: Any, minx: float, miny: float, maxx: float, maxy: float) -> None:
    length_km = _nice_length_km(maxx - minx)
    x0 = minx + 0.03 * (maxx - minx)
    y0 = miny + 0.03 * (maxy - miny)
    length = length_km * 1000.0
    axes.plot([x0, x0 + length], [y0, y0], color="#1a1a1a", linewidth=2.5, solid_capstyle="butt", zorder=9)
    label = f"{length_km:g} km"
    axes.text(
        x0 + length / 2, y0 + 0.012 * (maxy - miny), label, ha="center", va="bottom", fontsize=8, zorder=9
    )


def _side_panel(figure: Figure, layers: Layers, *, many: bool) -> None:
    panel = figure.add_axes((0.76, 0.03, 0.23, 0.87))
    panel.set_axis_off()
    hub_label = (
        "hub serving a neighbourhood" if (layers.hubs["kind"] == "hub").any() else "centre of a neighbourhood"
    )
    used = layers.hubs["used"].astype(bool)
    realign = layers.practices["realign"].astype(bool) & layers.practices.geometry.notna()
    entries = [
        (
            True,
            Patch(facecolor=PALETTE[0], edgecolor="white", label="neighbourhood (number as in the tables)"),
        ),
        (True, Line2D([], [], color=PLACE_EDGE, linewidth=1.6, label="place (borough) boundary")),
        (
            used.any(),
            Line2D(
                [],
                [],
                marker="*",
                linestyle="",
                markersize=11,
                color=HUB_COLOUR,
                markeredgecolor="white",
                label=hub_label,
            ),
        ),
        (
            (~used).any(),
            Line2D(
                [],
                [],
                marker="*",
                linestyle="",
                markersize=10,
                markerfacecolor="white",
                markeredgecolor=HUB_COLOUR,
                color=HUB_COLOUR,
                label="candidate hub, not used",
            ),
        ),
        (
            (layers.practices.geometry.notna() & ~realign).any(),
            Line2D(
                [], [], marker="o", linestyle="", markersize=3.5, color=PRACTICE_COLOUR, label="GP practice"
            ),
        ),
        (
            realign.any(),
            Line2D(
                [],
                [],
                marker="^",
                linestyle="",
                markersize=6,
                color=REALIGN_COLOUR,
                markeredgecolor="white",
                label="practice to realign (patients mostly\noutside its PCN's home neighbourhood)",
            ),
        ),
    ]
    breaches = layers.breaches if layers.breaches is not None else pd.DataFrame({"kind": []})
    entries += [
        (
            (breaches["kind"] == "bounds").any(),
            Line2D(
                [],
                [],
                color=BREACH_COLOUR,
                linewidth=2.0,
                linestyle="--",
                label="neighbourhood outside the\npopulation bounds",
            ),
        ),
        (
            (breaches["kind"] == "lsoa").any(),
            Patch(
                facecolor="none",
                edgecolor=BREACH_COLOUR,
                hatch="xxxx",
                label="LSOA in breach (cut off, left\nout or across a place boundary)",
            ),
        ),
    ]
    handles = [handle for shown, handle in entries if shown]
    if (~layers.places["planned"]).any():
        handles.append(
            Patch(facecolor=CONTEXT_FILL, edgecolor="white", label="place without a plan in this run")
        )
    legend = panel.legend(
        handles=handles,
        loc="upper left",
        frameon=False,
        fontsize=8,
        title="Key",
        title_fontproperties={"weight": "bold", "size": 9},
        alignment="left",
        borderaxespad=0,
        handlelength=1.6,
        labelspacing=0.8,
    )
    panel.add_artist(legend)
    hoods = layers.neighbourhoods
    if hoods.empty:
        return
    counts = hoods.groupby([C.PLACE_CODE, C.PLACE_NAME], sort=True).size()
    lines = [f"{code}  {name}: {n}" for (code, name), n in counts.items()]
    size = 8 if len(lines) <= 12 else 6
    panel.text(
        0,
        0.50,
        "Neighbourhoods per place",
        fontsize=9,
        fontweight="bold",
        va="top",
        transform=panel.transAxes,
    )
    panel.text(
        0,
        0.47,
        "\n".join(lines),
        fontsize=size,
        va="top",
        linespacing=1.35,
        transform=panel.transAxes,
        family="DejaVu Sans",
    )


def _png_bytes(figure: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def write_map_png(layers: Layers, path: Path, *, title: str, subtitle: str) -> bytes:
    """Write ``map.png``; return its bytes (the HTML report inlines them)."""
    data = render_map_png(layers, title=title, subtitle=subtitle)
    Path(path).write_bytes(data)
    return data


# ---- map.html --------------------------------------------------------------------------------------------------


def _web_geometry(series: gpd.GeoSeries, *, simplify: bool) -> list[dict[str, Any] | None]:
    """GeoJSON geometry dicts in EPSG:4326, coverage-simplified (metres) and rounded to 6 decimals."""
    geoms = np.asarray(series.values)
    if simplify and len(geoms):
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        geoms = geoms.copy()
        geoms[present] = shapely.coverage_simplify(geoms[present], WEB_TOLERANCE_M)
    projected = gpd.GeoSeries(geoms, crs=series.crs).to_crs(C.CRS_GEOJSON)
    rounded = shapely.transform(np.asarray(projected.values), lambda xy: np.round(xy, 6))
    return [None if g is None or g.is_empty else shapely.geometry.mapping(g) for g in rounded]


def _clean(value: Any) -> Any:
    """JSON-safe scalar: NaN/NA to None, numpy to Python, floats rounded."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    return str(value)


def _collection(frame: gpd.GeoDataFrame, properties: dict[str, str], *, simplify: bool) -> dict[str, Any]:
    geometry = _web_geometry(frame.geometry, simplify=simplify)
    features = []
    for position, (_, row) in enumerate(frame.iterrows()):
        if geometry[position] is None:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {key: _clean(row[column]) for key, column in properties.items()},
                "geometry": geometry[position],
            }
        )
    return {"type": "FeatureCollection", "features": features}


def map_data(layers: Layers) -> dict[str, Any]:
    """The data of the web map: LSOAs, neighbourhood and place outlines, context places, hubs, practices."""
    colours = colour_neighbourhoods(layers.neighbourhoods)
    names = layers.neighbourhoods.set_index(C.NEIGHBOURHOOD)["neighbourhood_name"]
    lsoas = layers.lsoas.assign(
        colour=layers.lsoas[C.NEIGHBOURHOOD].map(colours),
        neighbourhood_name=layers.lsoas[C.NEIGHBOURHOOD].map(names),
    )
    # neighbourhood and place outlines are dissolved from the simplified LSOAs (an edge-matched coverage, so the
    # fast coverage union applies), so all edges coincide
    simple = lsoas[[C.NEIGHBOURHOOD, C.PLACE_CODE, "geometry"]].copy()
    geoms = np.asarray(simple.geometry.values)
    simple["geometry"] = shapely.coverage_simplify(geoms, WEB_TOLERANCE_M) if len(geoms) else geoms
    hoods = simple.dissolve(by=C.NEIGHBOURHOOD, sort=True, method="coverage").reset_index()
    hoods["geometry"] = hoods.geometry.buffer(0)
    places = simple.dissolve(by=C.PLACE_CODE, sort=True, method="coverage").reset_index()
    places["geometry"] = places.geometry.buffer(0)
    places = places.merge(layers.places[[C.PLACE_CODE, C.PLACE_NAME]], on=C.PLACE_CODE, how="left")
    context = layers.places[~layers.places["planned"]]
    practices = layers.practices[layers.practices.geometry.notna()]
    pcn_names = layers.lsoas.drop_duplicates("dominant_pcn").set_index("dominant_pcn")["dominant_pcn_name"]
    practices = practices.assign(pcn_name=practices[C.PCN_CODE].map(pcn_names))
    return {
        "palette": list(PALETTE),
        "lsoas": _collection(
            lsoas.set_geometry(simple.geometry.values, crs=lsoas.crs),
            {
                "code": C.LSOA_CODE,
                "name": C.LSOA_NAME,
                "hood": C.NEIGHBOURHOOD,
                "hood_name": "neighbourhood_name",
                "residents": C.POPULATION,
                "pcn": "dominant_pcn",
                "pcn_name": "dominant_pcn_name",
                "pcn_share": "dominant_pcn_share",
                "colour": "colour",
            },
            simplify=False,
        ),
        "neighbourhoods": _collection(hoods, {"id": C.NEIGHBOURHOOD}, simplify=False),
        "breaches": _collection(
            layers.breaches
            if layers.breaches is not None
            else gpd.GeoDataFrame({"kind": []}, geometry=[], crs=C.CRS_WORKING),
            {"kind": "kind", "rule": "rule", "message": "message"},
            simplify=True,
        ),
        "places": _collection(places, {"code": C.PLACE_CODE, "name": C.PLACE_NAME}, simplify=False),
        "context": _collection(context, {"code": C.PLACE_CODE, "name": C.PLACE_NAME}, simplify=True),
        "hubs": _collection(
            layers.hubs,
            {
                "id": C.HUB_ID,
                "name": C.HUB_NAME,
                "hood": C.NEIGHBOURHOOD,
                "used": "used",
                "residents": C.POPULATION,
            },
            simplify=False,
        ),
        "practices": _collection(
            practices,
            {
                "code": C.PRACTICE_CODE,
                "name": C.PRACTICE_NAME,
                "pcn": C.PCN_CODE,
                "pcn_name": "pcn_name",
                "site": "site_neighbourhood",
                "patients_live": "patients_neighbourhood",
                "pcn_home": "pcn_home",
                "realign": "realign",
                "involved": "patients_involved",
                "action": "suggested_action",
            },
            simplify=False,
        ),
    }


def _asset(name: str) -> bytes:
    return resources.files("footprint").joinpath("assets", name).read_bytes()


def leaflet_inline() -> tuple[str, str]:
    """Leaflet's CSS (image references as data URIs) and JavaScript (source-map comment dropped)."""
    css = _asset("leaflet.css").decode("utf-8")
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
        encoded = base64.b64encode(_asset(f"images/{image}")).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{encoded})")
    script = _asset("leaflet.js").decode("utf-8")
    script = "\n".join(line for line in script.splitlines() if not line.startswith("//# sourceMappingURL"))
    return css, script


def render_map_html(layers: Layers, *, title: str, subtitle: str) -> str:
    """The interactive map as one self-contained HTML page."""
    css, script = leaflet_inline()
    data = json.dumps(map_data(layers), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    data = data.replace("</", "<\\/")
    return (
        _PAGE.replace("{{LEAFLET_CSS}}", css)
        .replace("{{LEAFLET_JS}}", script)
        .replace("{{TITLE}}", html.escape(title))
        .replace("{{SUBTITLE}}", html.escape(subtitle))
        .replace("{{REALIGN}}", REALIGN_COLOUR)
        .replace("{{PRACTICE}}", PRACTICE_COLOUR)
        .replace("{{HUB}}", HUB_COLOUR)
        .replace("{{BREACH}}", BREACH_COLOUR)
        .replace("{{PLACE_EDGE}}", PLACE_EDGE)
        .replace("{{CONTEXT}}", CONTEXT_FILL)
        .replace("{{DATA}}", data)
    )


def write_map_html(layers: Layers, path: Path, *, title: str, subtitle: str) -> None:
    Path(path).write_text(
        render_map_html(layers, title=title, subtitle=subtitle), encoding="utf-8", newline="\n"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
{{LEAFLET_CSS}}
</style>
<style>
html, body { height: 100%; margin: 0; font-family: "Segoe UI", Arial, sans-serif; }
#header { position: absolute; top: 0; left: 0; right: 0; height: 52px; padding: 6px 14px; box-sizing: border-box;
  background: #ffffff; border-bottom: 1px solid #cccccc; z-index: 1000; }
#header h1 { font-size: 17px; margin: 0; }
#header p { font-size: 12px; margin: 2px 0 0; color: #444444; }
#map { position: absolute; top: 52px; bottom: 0; left: 0; right: 0; background: #ffffff; }
.legend { background: #ffffff; padding: 8px 10px; font-size: 12px; line-height: 18px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.legend i { display: inline-block; width: 14px; height: 14px; vertical-align: -2px; margin-right: 6px; }
.leaflet-tooltip { font-size: 12px; max-width: 360px; white-space: normal; }
.leaflet-tooltip b { font-size: 13px; }
</style>
</head>
<body>
<div id="header"><h1>{{TITLE}}</h1><p>{{SUBTITLE}}</p></div>
<div id="map"></div>
<script>
{{LEAFLET_JS}}
</script>
<script>
const DATA = {{DATA}};
const palette = DATA.palette;
function esc(value) {
  if (value === null || value === undefined) { return "-"; }
  return String(value).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function num(value) { return value === null || value === undefined ? "-" : Number(value).toLocaleString("en-GB"); }
function pct(value) { return value === null || value === undefined ? "-" : Math.round(value * 100) + "%"; }
const map = L.map("map", {preferCanvas: true, zoomSnap: 0.25, attributionControl: false});
const context = L.geoJSON(DATA.context, {interactive: false,
  style: {fillColor: "{{CONTEXT}}", fillOpacity: 1, color: "#ffffff", weight: 1}}).addTo(map);
const lsoas = L.geoJSON(DATA.lsoas, {
  style: f => ({fillColor: palette[f.properties.colour], fillOpacity: 0.85, color: "#ffffff", weight: 0.3}),
  onEachFeature: (f, layer) => {
    const p = f.properties;
    layer.bindTooltip("<b>" + esc(p.code) + "</b> " + esc(p.name) +
      "<br>Neighbourhood: " + esc(p.hood) + " (" + esc(p.hood_name) + ")" +
      "<br>Residents: " + num(p.residents) +
      "<br>Dominant PCN: " + esc(p.pcn) + (p.pcn_name ? " " + esc(p.pcn_name) : "") +
      (p.pcn_share === null ? "" : " (" + pct(p.pcn_share) + " of registered residents)"), {sticky: true});
  }}).addTo(map);
const hoods = L.geoJSON(DATA.neighbourhoods, {interactive: false,
  style: {fill: false, color: "#ffffff", weight: 2.2}}).addTo(map);
const places = L.geoJSON(DATA.places, {interactive: false,
  style: {fill: false, color: "{{PLACE_EDGE}}", weight: 2.6}}).addTo(map);
const breaches = L.geoJSON(DATA.breaches, {
  style: f => f.properties.kind === "bounds" ? {fill: false, color: "{{BREACH}}", weight: 3, dashArray: "8 5"} :
    {fillColor: "{{BREACH}}", fillOpacity: 0.45, color: "{{BREACH}}", weight: 1.5},
  onEachFeature: (f, layer) => layer.bindTooltip("<b>Breach: " + esc(f.properties.rule) + "</b><br>" + esc(f.properties.message),
    {sticky: true})}).addTo(map);
const practices = L.geoJSON(DATA.practices, {
  pointToLayer: (f, latlng) => L.circleMarker(latlng, f.properties.realign ?
    {radius: 5.5, color: "#ffffff", weight: 1, fillColor: "{{REALIGN}}", fillOpacity: 1} :
    {radius: 3.5, color: "#ffffff", weight: 0.6, fillColor: "{{PRACTICE}}", fillOpacity: 1}),
  onEachFeature: (f, layer) => {
    const p = f.properties;
    layer.bindTooltip("<b>" + esc(p.code) + "</b> " + esc(p.name) +
      "<br>PCN: " + esc(p.pcn) + (p.pcn_name ? " " + esc(p.pcn_name) : "") +
      "<br>Site in: " + esc(p.site) + "; most patients live in: " + esc(p.patients_live) +
      "<br>PCN home: " + esc(p.pcn_home) +
      "<br>Realignment candidate: " + (p.realign ? "<b>yes</b> (" + num(p.involved) + " patients outside the PCN home)" : "no") +
      (p.action ? "<br>Suggested: " + esc(p.action) : ""));
  }}).addTo(map);
const hubs = L.geoJSON(DATA.hubs, {
  pointToLayer: (f, latlng) => L.circleMarker(latlng, f.properties.used ?
    {radius: 7, color: "#ffffff", weight: 2, fillColor: "{{HUB}}", fillOpacity: 1} :
    {radius: 6, color: "{{HUB}}", weight: 2, fillColor: "#ffffff", fillOpacity: 1}),
  onEachFeature: (f, layer) => {
    const p = f.properties;
    layer.bindTooltip("<b>Hub " + esc(p.id) + "</b> " + esc(p.name) +
      (p.used ? "<br>Serves " + esc(p.hood) + " (" + num(p.residents) + " residents)" : "<br>Candidate, not used"));
  }}).addTo(map);
L.control.layers(null, {"Neighbourhood boundaries": hoods, "Place boundaries": places, "GP practices": practices,
  "Hubs": hubs}, {collapsed: false}).addTo(map);
L.control.scale({imperial: false}).addTo(map);
const legend = L.control({position: "bottomright"});
legend.onAdd = function () {
  const div = L.DomUtil.create("div", "legend");
  const hubs = DATA.hubs.features.map(f => f.properties);
  const sites = DATA.practices.features.map(f => f.properties);
  const rows = [
    [true, "<i style='background:" + palette[0] + "'></i>neighbourhood (hover for details)"],
    [true, "<i style='border:3px solid {{PLACE_EDGE}};width:9px;height:9px'></i>place boundary"],
    [hubs.some(p => p.used), "<i style='background:{{HUB}};border-radius:50%'></i>hub serving a neighbourhood"],
    [hubs.some(p => !p.used),
     "<i style='border:2px solid {{HUB}};border-radius:50%;width:10px;height:10px'></i>candidate hub, not used"],
    [sites.some(p => !p.realign),
     "<i style='background:{{PRACTICE}};border-radius:50%;width:8px;height:8px;margin:0 9px 0 3px'></i>GP practice"],
    [sites.some(p => p.realign),
     "<i style='background:{{REALIGN}};border-radius:50%;width:11px;height:11px;margin:0 7px 0 1px'></i>practice to realign"],
    [DATA.breaches.features.some(f => f.properties.kind === "bounds"),
     "<i style='border:2px dashed {{BREACH}};width:10px;height:10px'></i>neighbourhood outside the population bounds"],
    [DATA.breaches.features.some(f => f.properties.kind === "lsoa"),
     "<i style='background:{{BREACH}};opacity:0.6'></i>LSOA in breach (cut off, left out, across places)"],
  ];
  div.innerHTML = "<b>Key</b><br>" + rows.filter(r => r[0]).map(r => r[1]).join("<br>");
  return div;
};
legend.addTo(map);
// markers shrink when zoomed out (all of London) and reach full size at street level
function resize() {
  const k = Math.min(1, Math.pow(2, (map.getZoom() - 13) / 2));
  [practices, hubs].forEach(group => group.eachLayer(layer => {
    if (layer.options.base === undefined) { layer.options.base = layer.options.radius; }
    layer.setRadius(Math.max(1.5, layer.options.base * k));
  }));
}
map.on("zoomend", resize);
map.fitBounds(places.getBounds().isValid() ? places.getBounds() : lsoas.getBounds());
resize();
</script>
</body>
</html>
"""
