"""Maps of a plan: ``map.png`` (static, A4, for the report and for print) and ``map.html`` (interactive, offline).

Responsibility: draw the layers of :mod:`footprint.layers` (figures from :mod:`footprint.metrics`, never computed
here). Both maps colour neighbourhoods the same way: a greedy colouring of the graph of touching neighbourhoods
(:func:`colour_neighbourhoods`), so neighbours never share a colour and colours carry no other meaning. Both mark
hubs (filled star: serves a neighbourhood; hollow: candidate not used), practices (dots; triangles for
realignment candidates) and place outlines, with a legend and a title.

- ``map.png``: matplotlib (Agg), A4 landscape at 200 dpi (2338 x 1654 px), place and neighbourhood labels that
  never overlap (:func:`plan_labels`: names where they fit, numbers elsewhere), a scale bar, a north arrow, and a
  side panel with the key (:func:`key_entries`) and the places. Deterministic bytes: fixed size and dpi, no
  ``Software`` metadata, no dates.
- ``map.html``: one self-contained page (Leaflet 1.9.4 and its CSS inlined from ``footprint/assets``, data as
  inline GeoJSON; no network needed, no background tiles) with permanent labels (placed in the browser after
  every zoom so none overlap), the key of ``map.png`` in the same words, and a tooltip per LSOA (code, name, neighbourhood,
  residents, dominant PCN) and per practice (code, name, PCN, realignment flag and suggested action) and hub.
  Geometry is simplified for the web (coverage simplification at :data:`WEB_TOLERANCE_M`, so neighbours stay
  edge-matched) and coordinates rounded to 6 decimals (~0.1 m).
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import logging
import math
import textwrap
from dataclasses import dataclass
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

logger = logging.getLogger(__name__)

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
    axes.apply_aspect()
    obstacles = [_scale_bar(axes, minx, miny, maxx, maxy), _north_arrow(axes, layers.neighbourhoods)]
    markers = _marker_boxes(axes, hubs.geometry, size_pt=6.0 if many else 10.0)
    label_plan = plan_labels(
        axes,
        planned,
        hoods,
        place_size=7.0 if many else 10.0,
        hood_size=4.5 if many else 7.0,
        obstacles=obstacles,
        markers=markers,
    )
    draw_labels(axes, label_plan, place_size=7.0 if many else 10.0, hood_size=4.5 if many else 7.0)
    logger.info(
        "map.png: %d of %d neighbourhoods labelled by number, not name; %d without a label",
        len(label_plan.shortened),
        len(hoods),
        len(label_plan.dropped),
    )
    _side_panel(figure, layers, label_plan, many=many)
    buffer = _png_bytes(figure)
    return buffer


def _label_point(geometry: Any) -> tuple[float, float]:
    """Where a neighbourhood's number goes: the pole of inaccessibility of its largest part."""
    parts = getattr(geometry, "geoms", [geometry])
    largest = max(parts, key=lambda part: part.area)
    point = shapely.ops.polylabel(largest, tolerance=max(1.0, math.sqrt(largest.area) / 100))
    return float(point.x), float(point.y)


def _pixel_box(axes: Any, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """A box in map metres as display pixels."""
    (px0, py0), (px1, py1) = axes.transData.transform([(x0, y0), (x1, y1)])
    return (min(px0, px1), min(py0, py1), max(px0, px1), max(py0, py1))


def _marker_boxes(
    axes: Any, points: gpd.GeoSeries, *, size_pt: float
) -> list[tuple[float, float, float, float]]:
    """Pixel boxes of markers ``size_pt`` points across (hub stars), which labels keep clear of."""
    half = size_pt / 2 * axes.figure.dpi / 72.0
    located = points[points.notna() & ~points.is_empty]
    xy = axes.transData.transform(np.column_stack([located.x, located.y])) if len(located) else []
    return [(px - half, py - half, px + half, py + half) for px, py in xy]


def _scale_bar(
    axes: Any, minx: float, miny: float, maxx: float, maxy: float
) -> tuple[float, float, float, float]:
    """Draw the scale bar in the lower left corner; return its pixel box."""
    length_km = _nice_length_km(maxx - minx)
    x0 = minx + 0.03 * (maxx - minx)
    y0 = miny + 0.03 * (maxy - miny)
    length = length_km * 1000.0
    axes.plot([x0, x0 + length], [y0, y0], color="#1a1a1a", linewidth=2.5, solid_capstyle="butt", zorder=9)
    label = f"{length_km:g} km"
    axes.text(
        x0 + length / 2, y0 + 0.012 * (maxy - miny), label, ha="center", va="bottom", fontsize=8, zorder=9
    )
    return _pixel_box(axes, x0, y0 - 0.01 * (maxy - miny), x0 + length, y0 + 0.045 * (maxy - miny))


#: Corners (axes fractions of the arrow's foot) tried for the north arrow, in order of preference.
NORTH_ARROW_CORNERS = ((0.955, 0.86), (0.045, 0.86), (0.955, 0.04))


def _north_arrow(axes: Any, neighbourhoods: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Draw a north arrow (grid north, within a degree of true north in Great Britain) in the corner of the map
    that covers the least neighbourhood area; return its pixel box."""
    to_data = axes.transAxes + axes.transData.inverted()
    geoms = neighbourhoods.geometry[neighbourhoods.geometry.notna()]
    best: tuple[float, int] | None = None
    for position, (fx, fy) in enumerate(NORTH_ARROW_CORNERS):
        (x0, y0), (x1, y1) = to_data.transform([(fx - 0.03, fy - 0.01), (fx + 0.03, fy + 0.12)])
        covered = float(geoms.intersection(shapely.box(x0, y0, x1, y1)).area.sum()) if len(geoms) else 0.0
        if best is None or covered < best[0]:
            best = (covered, position)
    fx, fy = NORTH_ARROW_CORNERS[best[1] if best else 0]
    axes.annotate(
        "",
        xy=(fx, fy + 0.075),
        xytext=(fx, fy),
        xycoords="axes fraction",
        arrowprops={
            "facecolor": "#1a1a1a",
            "edgecolor": "white",
            "width": 3.5,
            "headwidth": 11,
            "headlength": 11,
        },
        zorder=9,
    )
    axes.text(
        fx,
        fy + 0.085,
        "N",
        transform=axes.transAxes,
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
        zorder=9,
    )
    (px0, py0), (px1, py1) = axes.transAxes.transform([(fx - 0.025, fy - 0.01), (fx + 0.025, fy + 0.13)])
    return (px0, py0, px1, py1)


def key_entries(layers: Layers) -> list[tuple[str, str]]:
    """The key of both maps as (symbol, words), only the items the map shows, in the same words in
    ``map.png`` and ``map.html``.

    Symbols: ``neighbourhood``, ``place``, ``hub`` (a hub serving a neighbourhood when hubs were given, else the
    centre of a neighbourhood), ``spare_hub``, ``practice``, ``realign`` and ``context`` (a place without a plan,
    only when one is drawn near the planned places).
    """
    hubs_given = bool((layers.hubs["kind"] == "hub").any()) if "kind" in layers.hubs else False
    used = layers.hubs["used"].astype(bool)
    located = layers.practices.geometry.notna()
    realign = layers.practices["realign"].astype(bool) & located
    entries = [
        (True, "neighbourhood", "neighbourhood (name, or number as in the tables)"),
        (True, "place", "place boundary (and name)"),
        (used.any(), "hub", "hub serving a neighbourhood" if hubs_given else "centre of a neighbourhood"),
        ((~used).any(), "spare_hub", "candidate hub, not used"),
        ((located & ~realign).any(), "practice", "GP practice"),
        (
            realign.any(),
            "realign",
            "practice to realign (patients mostly outside its PCN's home neighbourhood)",
        ),
        (_context_shown(layers.places), "context", "place without a plan in this run"),
    ]
    breaches = layers.breaches if layers.breaches is not None else pd.DataFrame({"kind": []})
    entries += [
        (
            (breaches["kind"] == "bounds").any(),
            "breach_bounds",
            "neighbourhood outside the population bounds",
        ),
        (
            (breaches["kind"] == "lsoa").any(),
            "breach_lsoa",
            "LSOA in breach (cut off, left out or across a place boundary)",
        ),
    ]
    return [(symbol, words) for shown, symbol, words in entries if shown]


def _context_shown(places: gpd.GeoDataFrame) -> bool:
    """Whether a place without a plan lies within the view of the planned places (both maps open on it)."""
    planned = places[places["planned"].astype(bool)]
    context = places[~places["planned"].astype(bool)]
    if context.empty:
        return False
    if planned.empty:
        return True
    minx, miny, maxx, maxy = planned.total_bounds
    pad = 0.1 * max(maxx - minx, maxy - miny, 1.0)
    view = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    return bool(context.intersects(view).any())


def _key_handle(symbol: str, words: str) -> Any:
    label = textwrap.fill(words, 36)
    if symbol == "neighbourhood":
        return Patch(facecolor=PALETTE[0], edgecolor="white", label=label)
    if symbol == "place":
        return Line2D([], [], color=PLACE_EDGE, linewidth=1.6, label=label)
    if symbol == "breach_bounds":
        return Line2D([], [], color=BREACH_COLOUR, linewidth=2.0, linestyle="--", label=label)
    if symbol == "breach_lsoa":
        return Patch(facecolor="none", edgecolor=BREACH_COLOUR, hatch="xxxx", label=label)
    if symbol == "hub":
        return Line2D(
            [],
            [],
            marker="*",
            linestyle="",
            markersize=11,
            color=HUB_COLOUR,
            markeredgecolor="white",
            label=label,
        )
    if symbol == "spare_hub":
        return Line2D(
            [],
            [],
            marker="*",
            linestyle="",
            markersize=10,
            markerfacecolor="white",
            markeredgecolor=HUB_COLOUR,
            color=HUB_COLOUR,
            label=label,
        )
    if symbol == "practice":
        return Line2D([], [], marker="o", linestyle="", markersize=3.5, color=PRACTICE_COLOUR, label=label)
    if symbol == "realign":
        return Line2D(
            [],
            [],
            marker="^",
            linestyle="",
            markersize=6,
            color=REALIGN_COLOUR,
            markeredgecolor="white",
            label=label,
        )
    return Patch(facecolor=CONTEXT_FILL, edgecolor="white", label=label)


def _side_panel(figure: Figure, layers: Layers, label_plan: LabelPlan, *, many: bool) -> None:
    panel = figure.add_axes((0.76, 0.03, 0.23, 0.87))
    panel.set_axis_off()
    legend = panel.legend(
        handles=[_key_handle(symbol, words) for symbol, words in key_entries(layers)],
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
    top = 0.50
    panel_height_pt = 0.87 * PAGE_INCHES[1] * 72.0
    lines, size = _panel_lines(hoods, label_plan, capacity_pt=(top - 0.03) * panel_height_pt)
    panel.text(
        0,
        top,
        "Neighbourhoods per place",
        fontsize=9,
        fontweight="bold",
        va="top",
        transform=panel.transAxes,
    )
    panel.text(
        0,
        top - 0.03,
        "\n".join(lines),
        fontsize=size,
        va="top",
        linespacing=1.35,
        transform=panel.transAxes,
        family="DejaVu Sans",
    )


#: Characters per line of the side panel's list of names (at 6 pt; the panel is ~190 pt wide).
PANEL_CHARS = 58


def _panel_lines(
    hoods: gpd.GeoDataFrame, label_plan: LabelPlan, *, capacity_pt: float
) -> tuple[list[str], float]:
    """The side panel's list: neighbourhoods per place, with the names of those labelled by number when the list
    fits the panel (else a note on where the names are); and its font size."""
    counts = hoods.groupby([C.PLACE_CODE, C.PLACE_NAME], sort=True).size()
    summary = [f"{code}  {name}: {n}" for (code, name), n in counts.items()]
    numbered = set(label_plan.shortened) | set(label_plan.dropped)
    if not numbered or "neighbourhood_name" not in hoods:
        return summary, 8 if len(summary) <= 12 else 6
    names = hoods.set_index(C.NEIGHBOURHOOD)["neighbourhood_name"]
    for size in (8.0, 6.0):
        detailed: list[str] = []
        for (code, name), n in counts.items():
            detailed.append(f"{code}  {name}: {n}")
            in_place = hoods[hoods[C.PLACE_CODE] == code][C.NEIGHBOURHOOD]
            for hood_id in sorted(str(h) for h in in_place if str(h) in numbered):
                detailed += textwrap.wrap(
                    f"{_ordinal(hood_id)}  {names.get(hood_id, hood_id)}",
                    int(PANEL_CHARS * 6.0 / size),
                    initial_indent="   ",
                    subsequent_indent="         ",
                )
        if len(detailed) * size * 1.35 <= capacity_pt:
            return detailed, size
    sentence = (
        f"{len(label_plan.shortened)} of {len(hoods)} neighbourhoods are numbered (no room for the name)"
        + (f", {len(label_plan.dropped)} unlabelled" if label_plan.dropped else "")
        + "; their names are in the report's tables and on map.html."
    )
    size = 8.0 if len(summary) + 4 <= 12 else 6.0
    if (len(summary) + 4) * size * 1.35 > capacity_pt:
        size = max(4.0, capacity_pt / ((len(summary) + 4) * 1.35))
    note = ["", *textwrap.wrap(sentence, int(PANEL_CHARS * 6.0 / size))]
    return summary + note, size


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


# ---- labels of map.png: place names and neighbourhood names or numbers, without collisions ----------------------

#: Pixels kept clear around every label box (the white halo is 2 pt wide, ~2.8 px each side at 200 dpi).
LABEL_PAD_PX = 3.0
#: Font scale of a number that has no room at full size (tried before the number is dropped).
SMALL_NUMBER = 0.75
#: Share of a neighbourhood name's box that must lie inside the neighbourhood (a number only needs its centre in).
NAME_FIT = 0.8


@dataclass(frozen=True)
class Label:
    """One label drawn on ``map.png``: its text, centre (map metres) and box (display pixels, padded)."""

    kind: str  #: "place" or "neighbourhood"
    key: str  #: place code or neighbourhood id
    text: str
    x: float
    y: float
    box: tuple[float, float, float, float]
    shortened: bool = False  #: a neighbourhood labelled by its number, not its name
    scale: float = (
        1.0  #: font size relative to its kind's (numbers shrink to :data:`SMALL_NUMBER` as a last resort)
    )


@dataclass(frozen=True)
class LabelPlan:
    """The labels of one map, and the neighbourhoods labelled by number (``shortened``) or not at all."""

    labels: tuple[Label, ...]
    shortened: tuple[str, ...]
    dropped: tuple[str, ...]


def _overlaps(box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _wrapped(name: str, lines: int) -> str:
    """``name`` over ``lines`` lines, broken at spaces so the longest line is shortest."""
    words = name.split()
    if lines <= 1 or len(words) < lines:
        return name
    best: tuple[int, str] | None = None
    for cuts in itertools.combinations(range(1, len(words)), lines - 1):
        bounds = (0, *cuts, len(words))
        parts = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
        if any(part in {"&", ","} or part.startswith("& ") for part in parts):
            continue  # never start a line with "&"
        width = max(len(part) for part in parts)
        if best is None or width < best[0]:
            best = (width, "\n".join(parts))
    return name if best is None else best[1]


def _candidate_points(geometry: Any) -> list[tuple[float, float]]:
    """Label centres to try, best first: the pole of inaccessibility of the largest part, its representative
    point, its centroid (when inside), then the poles of the other parts by size."""
    parts = sorted(getattr(geometry, "geoms", [geometry]), key=lambda part: -part.area)
    largest = parts[0]
    points = [_label_point(largest)]
    point = largest.representative_point()
    points.append((float(point.x), float(point.y)))
    centroid = largest.centroid
    if largest.contains(centroid):
        points.append((float(centroid.x), float(centroid.y)))
    points.extend(_label_point(part) for part in parts[1:3] if part.area > 0.1 * largest.area)
    return points


def _grid_points(geometry: Any, cells: int = 7) -> list[tuple[float, float]]:
    """A ``cells`` x ``cells`` grid over the bounds of ``geometry``: the points inside, nearest its pole first
    (the last resort of a label that finds no room near the pole)."""
    minx, miny, maxx, maxy = geometry.bounds
    xs, ys = np.meshgrid(np.linspace(minx, maxx, cells + 2)[1:-1], np.linspace(miny, maxy, cells + 2)[1:-1])
    xs, ys = xs.ravel(), ys.ravel()
    inside = shapely.contains_xy(geometry, xs, ys)
    pole_x, pole_y = _label_point(geometry)
    order = np.lexsort((ys[inside], xs[inside], np.hypot(xs[inside] - pole_x, ys[inside] - pole_y)))
    return [(float(xs[inside][i]), float(ys[inside][i])) for i in order]


class _LabelPlacer:
    """Greedy, deterministic placement of text boxes in display pixels on one axes (no two boxes overlap)."""

    def __init__(
        self,
        axes: Any,
        obstacles: list[tuple[float, float, float, float]],
    ) -> None:
        self.axes = axes
        self.figure = axes.figure
        self.renderer = self.figure.canvas.get_renderer()
        self.to_pixels = axes.transData
        self.to_data = axes.transData.inverted()
        frame = axes.get_window_extent(self.renderer)
        self.frame = (frame.x0, frame.y0, frame.x1, frame.y1)
        self.boxes = list(obstacles)
        self._sizes: dict[tuple[str, float, str], tuple[float, float]] = {}

    def size(self, text: str, fontsize: float, weight: str) -> tuple[float, float]:
        """Width and height in pixels of ``text`` drawn at ``fontsize`` points (measured, then cached)."""
        key = (text, fontsize, weight)
        if key not in self._sizes:
            artist = self.figure.text(0, 0, text, fontsize=fontsize, fontweight=weight, linespacing=1.05)
            extent = artist.get_window_extent(self.renderer)
            artist.remove()
            self._sizes[key] = (extent.width, extent.height)
        return self._sizes[key]

    def box_at(self, x: float, y: float, size: tuple[float, float]) -> tuple[float, float, float, float]:
        px, py = self.to_pixels.transform((x, y))
        half_w, half_h = size[0] / 2 + LABEL_PAD_PX, size[1] / 2 + LABEL_PAD_PX
        return (px - half_w, py - half_h, px + half_w, py + half_h)

    def share_inside(self, box: tuple[float, float, float, float], geometry: Any) -> float:
        (x0, y0), (x1, y1) = self.to_data.transform([(box[0], box[1]), (box[2], box[3])])
        rectangle = shapely.box(x0, y0, x1, y1)
        return float(rectangle.intersection(geometry).area / rectangle.area) if rectangle.area else 0.0

    def candidates(self, geometry: Any, size: tuple[float, float]) -> list[tuple[float, float]]:
        """Centres to try: the polygon's own points, then the first of them shifted to the eight sides by one,
        two and three steps (half the label's width across, its height up and down, at least 12 pixels)."""
        points = _candidate_points(geometry)
        px, py = self.to_pixels.transform(points[0])
        step_x, step_y = max(size[0] / 2, 12.0), max(size[1], 12.0)
        shifted = [
            (px + sx * k * step_x, py + sy * k * step_y)
            for k in (1, 2, 3)
            for sx, sy in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))
        ]
        return (
            points
            + [tuple(map(float, xy)) for xy in self.to_data.transform(shifted)]
            + _grid_points(geometry)
        )

    def least_covering(
        self,
        geometry: Any,
        texts: list[tuple[str, tuple[float, float]]],
        *,
        fit: float,
        covered: tuple[list[tuple[float, float, float, float]], ...],
    ) -> tuple[str, float, float, tuple[float, float, float, float]] | None:
        """Of the texts (with their sizes) at every candidate that stays in the frame, clears every placed box and
        lies ``fit`` inside ``geometry``: the one covering the fewest boxes of ``covered[0]``, then of
        ``covered[1]`` and so on (ties: the earlier text, then the earlier candidate)."""
        fx0, fy0, fx1, fy1 = self.frame
        best: tuple[tuple[int, ...], str, float, float, tuple[float, float, float, float]] | None = None
        for rank, (text, size) in enumerate(texts):
            for position, (x, y) in enumerate(self.candidates(geometry, size)):
                box = self.box_at(x, y, size)
                if box[0] < fx0 or box[1] < fy0 or box[2] > fx1 or box[3] > fy1 or _overlaps(box, self.boxes):
                    continue
                if self.share_inside(box, geometry) < fit:
                    continue
                x0, y0, x1, y1 = box
                cost = tuple(
                    sum(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)
                    for boxes in covered
                )
                key = (*cost, rank, position)
                if best is None or key < best[0]:
                    best = (key, text, x, y, box)
                if not any(cost):
                    return text, x, y, box
        return None if best is None else best[1:]

    def find(
        self,
        geometry: Any,
        size: tuple[float, float],
        *,
        fit: float,
        avoid: tuple[list[tuple[float, float, float, float]], ...] = (),
    ) -> tuple[float, float, tuple[float, float, float, float]] | None:
        """The first candidate whose box stays in the frame, clears every placed box and every box of ``avoid``,
        and lies ``fit`` inside ``geometry`` (``fit`` 0: only its centre)."""
        fx0, fy0, fx1, fy1 = self.frame
        for x, y in self.candidates(geometry, size):
            box = self.box_at(x, y, size)
            if box[0] < fx0 or box[1] < fy0 or box[2] > fx1 or box[3] > fy1 or _overlaps(box, self.boxes):
                continue
            if any(_overlaps(box, boxes) for boxes in avoid):
                continue
            if fit <= 0.0 and not geometry.contains(shapely.Point(x, y)):
                continue
            if fit > 0.0 and self.share_inside(box, geometry) < fit:
                continue
            return x, y, box
        return None


def plan_labels(
    axes: Any,
    places: gpd.GeoDataFrame,
    neighbourhoods: gpd.GeoDataFrame,
    *,
    place_size: float,
    hood_size: float,
    obstacles: list[tuple[float, float, float, float]] = (),  # type: ignore[assignment]
    markers: list[tuple[float, float, float, float]] = (),  # type: ignore[assignment]
) -> LabelPlan:
    """Where each label goes on ``axes`` (limits already set), so that no two labels overlap.

    Deterministic greedy placement in display pixels, with text extents measured by matplotlib:

    1. place names (bold) first, in place-code order, at the first candidate point inside the place that clears
       the obstacles (scale bar, north arrow), the names already placed, the hub stars and the neighbourhoods'
       poles (where their numbers go first), else clear of the poles only, else of neither;
    2. every neighbourhood gets its number (the ordinal of its id), largest neighbourhood first, at the first
       candidate whose centre is in the neighbourhood and whose box clears everything placed (the markers too
       when it can), at :data:`SMALL_NUMBER` of the size when it has no room at full size; a number that fits
       nowhere is dropped;
    3. each number is then upgraded to the neighbourhood's name (on one, two or three lines) where the name's box
       lies :data:`NAME_FIT` inside the neighbourhood and clears every other label; the rest stay numbers
       (``shortened``).
    """
    placer = _LabelPlacer(axes, list(obstacles))
    markers = list(markers)
    present = neighbourhoods[neighbourhoods.geometry.notna() & ~neighbourhoods.geometry.is_empty]
    # place names keep clear of the neighbourhoods' poles too where they can, so small neighbourhoods keep room
    poles = [
        placer.box_at(*_label_point(geometry), placer.size(_ordinal(str(hood_id)), hood_size, "bold"))
        for hood_id, geometry in zip(present[C.NEIGHBOURHOOD], present.geometry, strict=True)
    ]
    labels: list[Label] = []
    for row in places.sort_values(C.PLACE_CODE).itertuples(index=False):
        geometry = row.geometry
        if geometry is None or geometry.is_empty:
            continue
        name = str(getattr(row, C.PLACE_NAME))
        texts = [
            (text, placer.size(text, place_size, "bold"))
            for text in dict.fromkeys((name, _wrapped(name, 2), _wrapped(name, 3)))
        ]
        found = placer.least_covering(geometry, texts, fit=0.5, covered=(poles, markers))
        if found is None:  # a narrow place: let the name stick out further
            found = placer.least_covering(geometry, texts, fit=0.3, covered=(poles, markers))
        if found is not None:
            text, x, y, box = found
            placer.boxes.append(box)
            labels.append(Label("place", str(getattr(row, C.PLACE_CODE)), text, x, y, box))

    order = sorted(
        range(len(present)),
        key=lambda i: (-present.geometry.iloc[i].area, str(present[C.NEIGHBOURHOOD].iloc[i])),
    )
    numbers: dict[int, Label] = {}
    dropped: list[str] = []
    for i in order:
        hood_id = str(present[C.NEIGHBOURHOOD].iloc[i])
        text = _ordinal(hood_id)
        for scale in (1.0, SMALL_NUMBER):
            size = placer.size(text, hood_size * scale, "bold")
            found = placer.find(present.geometry.iloc[i], size, fit=0.0, avoid=(markers,)) or placer.find(
                present.geometry.iloc[i], size, fit=0.0
            )
            if found is not None:
                x, y, box = found
                placer.boxes.append(box)
                numbers[i] = Label("neighbourhood", hood_id, text, x, y, box, shortened=True, scale=scale)
                break
        else:
            dropped.append(hood_id)
    names = present.get("neighbourhood_name")
    for i in order:
        if (
            i not in numbers
            or names is None
            or not isinstance(names.iloc[i], str)
            or not names.iloc[i].strip()
        ):
            continue
        number = numbers[i]
        placer.boxes.remove(number.box)
        name = names.iloc[i].strip()
        for text in dict.fromkeys((name, _wrapped(name, 2), _wrapped(name, 3))):
            size = placer.size(text, hood_size, "bold")
            found = placer.find(present.geometry.iloc[i], size, fit=NAME_FIT, avoid=(markers,))
            if found is not None:
                x, y, box = found
                numbers[i] = Label("neighbourhood", number.key, text, x, y, box, shortened=False)
                break
        placer.boxes.append(numbers[i].box)
    hood_labels = [numbers[i] for i in sorted(numbers, key=lambda i: numbers[i].key)]
    return LabelPlan(
        labels=(*labels, *hood_labels),
        shortened=tuple(label.key for label in hood_labels if label.shortened),
        dropped=tuple(sorted(dropped)),
    )


def draw_labels(axes: Any, label_plan: LabelPlan, *, place_size: float, hood_size: float) -> None:
    """Draw the labels of :func:`plan_labels` (bold, centred, with a white halo)."""
    for label in label_plan.labels:
        is_place = label.kind == "place"
        axes.text(
            label.x,
            label.y,
            label.text,
            fontsize=(place_size if is_place else hood_size) * label.scale,
            fontweight="bold",
            ha="center",
            va="center",
            linespacing=1.05,
            color="#000000" if is_place else "#1a1a1a",
            path_effects=[patheffects.withStroke(linewidth=2.5 if is_place else 2.0, foreground="white")],
            zorder=11 if is_place else 10,
        )


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
        "key": [list(entry) for entry in key_entries(layers)],
        "hubs_given": bool((layers.hubs["kind"] == "hub").any()) if "kind" in layers.hubs else False,
        "labels": web_labels(layers),
    }


def web_labels(layers: Layers) -> list[dict[str, Any]]:
    """Label anchors of the web map, in the order the browser places them: the planned places by code, then the
    neighbourhoods, largest first. Each has its text (``name``; ``number`` for neighbourhoods), its point
    (the pole of inaccessibility of the largest part, EPSG:4326) and ``room``, the radius in metres of the largest
    circle around the point inside the area (the browser shows a name only where it fits that room)."""
    rows: list[tuple[str, str, str, Any]] = []
    planned = layers.places[layers.places["planned"].astype(bool)].sort_values(C.PLACE_CODE)
    for code, name, geometry in zip(
        planned[C.PLACE_CODE], planned[C.PLACE_NAME], planned.geometry, strict=True
    ):
        rows.append(("place", str(name), str(code), geometry))
    hoods = layers.neighbourhoods[layers.neighbourhoods.geometry.notna()]
    hoods = hoods.assign(_area=hoods.geometry.area).sort_values(
        ["_area", C.NEIGHBOURHOOD], ascending=[False, True]
    )
    names = hoods["neighbourhood_name"] if "neighbourhood_name" in hoods else hoods[C.NEIGHBOURHOOD]
    for hood_id, name, geometry in zip(hoods[C.NEIGHBOURHOOD], names, hoods.geometry, strict=True):
        rows.append(("hood", str(name) if isinstance(name, str) else str(hood_id), str(hood_id), geometry))
    anchors = []
    for _, _, _, geometry in rows:
        parts = getattr(geometry, "geoms", [geometry])
        largest = max(parts, key=lambda part: part.area)
        x, y = _label_point(largest)
        anchors.append((x, y, float(largest.boundary.distance(shapely.Point(x, y)))))
    if not anchors:
        return []
    points = gpd.GeoSeries(
        gpd.points_from_xy([a[0] for a in anchors], [a[1] for a in anchors]), crs=C.CRS_WORKING
    )
    points = points.to_crs(C.CRS_GEOJSON)
    labels = []
    for (kind, name, key, _), (_, _, room), point in zip(rows, anchors, points, strict=True):
        label = {"kind": kind, "id": key, "name": name, "lat": round(point.y, 6), "lon": round(point.x, 6)}
        if kind == "hood":
            label["number"] = _ordinal(key)
        label["room"] = round(room, 1)
        labels.append(label)
    return labels


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
.legend { max-width: 270px; }
.legend .hint { color: #555555; font-style: italic; }
.map-label span { position: absolute; left: 0; top: 0; transform: translate(-50%, -50%); text-align: center;
  font-weight: bold; color: #1a1a1a; pointer-events: none;
  text-shadow: 0 0 2px #ffffff, 0 0 2px #ffffff, 0 0 3px #ffffff, 0 0 4px #ffffff; }
.hood-label span { font-size: 11px; line-height: 12px; }
.hood-label span.name { width: max-content; max-width: 120px; }
.place-label span { font-size: 14px; line-height: 15px; color: #000000; white-space: nowrap; }
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
// permanent labels: place names, then neighbourhood names (numbers where a name has no room), placed again
// after every zoom or pan so that no two overlap; a label with no room at all is hidden
map.createPane("labels");
map.getPane("labels").style.zIndex = 650;
map.getPane("labels").style.pointerEvents = "none";
const labels = L.layerGroup().addTo(map);
const anchors = DATA.labels.map(p => {
  const marker = L.marker([p.lat, p.lon], {pane: "labels", interactive: false, keyboard: false,
    icon: L.divIcon({className: "map-label " + (p.kind === "place" ? "place-label" : "hood-label"),
      html: "<span></span>", iconSize: null})});
  marker.addTo(labels);
  return {p: p, marker: marker};
});
function placeLabels() {
  if (!map.hasLayer(labels)) { return; }
  const frame = map.getContainer().getBoundingClientRect();
  const metresPerPixel = 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) / Math.pow(2, map.getZoom() + 8);
  const placed = [];
  const clear = b => !placed.some(o => b.left < o.right + 2 && o.left < b.right + 2 && b.top < o.bottom + 2 && o.top < b.bottom + 2);
  const inside = b => b.left >= frame.left && b.right <= frame.right && b.top >= frame.top && b.bottom <= frame.bottom;
  anchors.forEach(a => {
    const el = a.marker.getElement();
    if (!el) { return; }
    const span = el.firstChild;
    const room = a.p.room / metresPerPixel;
    const tries = a.p.kind === "place" ? [[a.p.name, "name"]] : [[a.p.name, "name"], [a.p.number, "number"]];
    let shown = "none";
    for (const [text, how] of tries) {
      span.textContent = text;
      span.className = how;
      span.style.visibility = "visible";
      const b = span.getBoundingClientRect();
      const fits = a.p.kind === "place" || how === "number" || (b.width / 2 <= 1.8 * room && b.height / 2 <= room);
      if (fits && inside(b) && clear(b)) {
        placed.push(b);
        shown = how;
        el.setAttribute("data-box", [b.left, b.top, b.right, b.bottom].map(v => v.toFixed(1)).join(","));
        break;
      }
    }
    if (shown === "none") { span.style.visibility = "hidden"; el.removeAttribute("data-box"); }
    el.setAttribute("data-shown", shown);
  });
}
map.on("zoomend moveend overlayadd", placeLabels);
L.control.layers(null, {"Labels": labels, "Neighbourhood boundaries": hoods, "Place boundaries": places,
  "GP practices": practices, [DATA.hubs_given ? "Hubs" : "Neighbourhood centres"]: hubs},
  {collapsed: false}).addTo(map);
L.control.scale({imperial: false}).addTo(map);
const legend = L.control({position: "bottomright"});
legend.onAdd = function () {
  const div = L.DomUtil.create("div", "legend");
  // the same items, in the same words, as the key of map.png (footprint.maps.key_entries)
  const swatches = {
    neighbourhood: "<i style='background:" + palette[0] + "'></i>",
    place: "<i style='border:3px solid {{PLACE_EDGE}};width:9px;height:9px'></i>",
    hub: "<i style='background:{{HUB}};border-radius:50%'></i>",
    spare_hub: "<i style='border:2px solid {{HUB}};border-radius:50%;width:10px;height:10px'></i>",
    practice: "<i style='background:{{PRACTICE}};border-radius:50%;width:8px;height:8px;margin:0 9px 0 3px'></i>",
    realign: "<i style='background:{{REALIGN}};border-radius:50%;width:11px;height:11px;margin:0 7px 0 1px'></i>",
    context: "<i style='background:{{CONTEXT}}'></i>",
    breach_bounds: "<i style='border:2px dashed {{BREACH}};width:10px;height:10px'></i>",
    breach_lsoa: "<i style='background:{{BREACH}};opacity:0.6'></i>",
  };
  const rows = DATA.key.map(([symbol, words]) => (swatches[symbol] || "") + "<span class='words'>" + esc(words) + "</span>");
  div.innerHTML = "<b>Key</b><br>" + rows.join("<br>") + "<br><span class='hint'>hover an area or a marker for details</span>";
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
placeLabels();
</script>
</body>
</html>
"""
