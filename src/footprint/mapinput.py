"""Read a map a person brings: LSOA -> neighbourhood labels, from a table, an LSOA layer or drawn polygons.

Three kinds of map are read into one canonical table (:class:`MapInput`, ``labels``: lsoa_code, label, name,
keep; one row per row of the map, so LSOAs given twice stay visible):

- a **table** (CSV/TSV/XLSX): an LSOA code column and a neighbourhood column, optionally a name and a keep column;
- an **LSOA layer** (GeoPackage, GeoJSON, shapefile) with the same columns, e.g. the ``lsoas`` layer of a run's
  ``neighbourhoods.gpkg`` after editing ``neighbourhood_id`` in QGIS (a GeoPackage holding an ``lsoas`` layer is
  read from it unless ``layer`` says otherwise);
- **neighbourhood polygons** (a layer with a neighbourhood column but no LSOA codes): each LSOA goes to the polygon
  holding most of its area; LSOAs a drawn line splits (less than :data:`SPLIT_SHARE` of their area in one
  polygon) are listed in ``split``, LSOAs no polygon covers are left out.

Columns are found by name or alias (:data:`CODE_ALIASES`, :data:`LABEL_ALIASES`, ...), case and spacing aside, or
named with the options. Every problem with the file raises one :class:`~footprint.errors.InputDataError` line
naming the file, what is wrong and the fix. Labels are text (``3`` and ``3.0`` are the same neighbourhood).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from footprint import columns as C
from footprint.errors import InputDataError
from footprint.readers import read_excel_table, read_geo_table, read_text_table, sha256_of

#: Column names (normalised: lower case, letters and digits only) tried in order for each role.
CODE_ALIASES = ("lsoacode", "lsoa11cd", "lsoa21cd", "lsoacd", "lsoa11code", "lsoa21code", "lsoa", "code")
LABEL_ALIASES = (
    "neighbourhoodid",
    "neighbourhood",
    "neighborhoodid",
    "neighborhood",
    "nbhd",
    "hood",
    "label",
    "zone",
    "area",
)
NAME_ALIASES = ("neighbourhoodname", "neighborhoodname", "name")
KEEP_ALIASES = ("keep", "locked", "lock", "fixed")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")
#: An LSOA with less than this share of its area in its largest polygon is listed as split by a drawn line.
SPLIT_SHARE = 0.95
#: An LSOA with less than this share of its area under any polygon is left out.
COVERED_SHARE = 0.5
#: Preferred layer of a GeoPackage holding several (the LSOA layer of footprint's own output).
LSOA_LAYER = "lsoas"


@dataclass(frozen=True)
class MapInput:
    """A map read from a file.

    Attributes
    ----------
    path, sha256
        The file (for a shapefile, the ``.shp``) and the sha256 of its bytes.
    kind
        ``table``, ``lsoa layer`` or ``polygons``.
    labels
        lsoa_code, label (text), name (text or missing), keep (bool): one row per row of the map (polygons: one
        per LSOA covered), in file order.
    split
        Polygons only: lsoa_code, label (where it went), share (of its area in that polygon), other (the other
        labels it overlaps).
    columns
        The columns used, by role (``code``, ``label``, ``name``, ``keep``, ``layer``).
    """

    path: Path
    sha256: str
    kind: str
    labels: pd.DataFrame
    split: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=[C.LSOA_CODE, "label", "share", "other"])
    )
    columns: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "kind": self.kind,
            "rows": len(self.labels),
            "columns": dict(self.columns),
            "split_lsoas": len(self.split),
        }


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _find(
    headers: list[str], given: str | None, aliases: tuple[str, ...], *, role: str, path: Path, option: str
) -> str | None:
    if given is not None:
        if given in headers:
            return given
        matches = [h for h in headers if _normal(h) == _normal(given)]
        if matches:
            return matches[0]
        raise InputDataError(
            f"{path}: no column {given!r} for the {role} (columns: {', '.join(map(str, headers))}); fix {option}."
        )
    by_normal: dict[str, str] = {}
    for header in headers:
        by_normal.setdefault(_normal(header), header)
    for alias in aliases:
        if alias in by_normal:
            return by_normal[alias]
    return None


def _text(values: pd.Series) -> pd.Series:
    """Labels as text: numbers without a trailing ``.0``, blanks and missing values as <NA>."""

    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return pd.NA
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        text = str(value).strip()
        if re.fullmatch(r"-?\d+\.0+", text):
            text = text.split(".")[0]
        return text if text else pd.NA

    return pd.Series([one(v) for v in values], index=values.index, dtype="object")


def _keep(values: pd.Series) -> pd.Series:
    text = values.astype("object").map(
        lambda v: "" if v is None or v is pd.NA or v != v else str(v).strip().lower()
    )
    return text.isin({"1", "1.0", "true", "yes", "y", "keep", "t", "x"})


def _read_frame(path: Path, layer: str | None) -> tuple[pd.DataFrame, str | None]:
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return read_text_table(path, what="the map"), None
    if suffix in EXCEL_SUFFIXES:
        return read_excel_table(path, what="the map", sheet=layer), None
    if suffix in GEO_SUFFIXES:
        if layer is None and suffix == ".gpkg" and path.is_file():
            try:
                names = [str(row[0]) for row in pyogrio.list_layers(path)]
            except Exception:  # unreadable: read_geo_table names the problem
                names = []
            if LSOA_LAYER in names:
                layer = LSOA_LAYER
            elif len(names) > 1:
                raise InputDataError(
                    f"{path}: the GeoPackage has {len(names)} layers ({', '.join(names)}) and none is named "
                    f"{LSOA_LAYER!r}; choose one with --layer."
                )
        return read_geo_table(path, what="the map", layer=layer), layer
    raise InputDataError(
        f"{path}: cannot read a map from a {suffix or 'nameless'} file; give a CSV or XLSX table, or a "
        "GeoPackage, GeoJSON or shapefile layer."
    )


def read_map(
    path: str | Path,
    units: gpd.GeoDataFrame,
    *,
    code_column: str | None = None,
    label_column: str | None = None,
    name_column: str | None = None,
    keep_column: str | None = None,
    layer: str | None = None,
) -> MapInput:
    """Read the map at ``path`` against ``units`` (the scenario's LSOAs: lsoa_code and geometry, EPSG:27700).

    Raises
    ------
    InputDataError
        One line naming the file, the problem and the fix: an unreadable file, no LSOA or neighbourhood column,
        no code that is an LSOA of the scenario, polygons without a coordinate system or covering no LSOA.
    """
    path = Path(path)
    frame, layer = _read_frame(path, layer)
    headers = [str(h) for h in frame.columns if h != "geometry"]
    is_geo = isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame
    code = _find(headers, code_column, CODE_ALIASES, role="LSOA codes", path=path, option="--lsoa-column")
    label = _find(headers, label_column, LABEL_ALIASES, role="neighbourhoods", path=path, option="--column")
    if label is None or label == code:
        raise InputDataError(
            f"{path}: no neighbourhood column (looked for {', '.join(('neighbourhood_id', 'neighbourhood', 'label'))}"
            f"; columns: {', '.join(headers)}); name it with --column."
        )
    name = _find(headers, name_column, NAME_ALIASES, role="names", path=path, option="--name-column")
    name = None if name in (code, label) else name
    keep = _find(headers, keep_column, KEEP_ALIASES, role="LSOAs to keep", path=path, option="--keep-column")
    used = {"code": code, "label": label, "name": name, "keep": keep, "layer": layer}
    used = {k: v for k, v in used.items() if v is not None}
    digest = sha256_of(path)
    if code is None and not is_geo:
        raise InputDataError(
            f"{path}: no LSOA code column (looked for lsoa_code, LSOA11CD, LSOA21CD; columns: {', '.join(headers)}); "
            "name it with --lsoa-column."
        )
    if code is None:
        return _from_polygons(path, digest, frame, label, name, units, used)
    labels = pd.DataFrame(
        {
            C.LSOA_CODE: frame[code]
            .astype("object")
            .map(lambda v: str(v).strip() if v == v and v is not None else ""),
            "label": _text(frame[label]),
            "name": _text(frame[name]) if name else pd.Series(pd.NA, index=frame.index, dtype="object"),
            "keep": _keep(frame[keep]) if keep else False,
        }
    ).reset_index(drop=True)
    labels = labels[labels[C.LSOA_CODE] != ""].reset_index(drop=True)
    known = labels[C.LSOA_CODE].isin(set(units[C.LSOA_CODE]))
    if not known.any():
        sample = ", ".join(labels[C.LSOA_CODE].head(3))
        raise InputDataError(
            f"{path}: none of the {len(labels):,} codes in column {code!r} is an LSOA of the scenario "
            f"(e.g. {sample or 'none'}); check the column (--lsoa-column) and that the LSOAs are the scenario's "
            "vintage."
        )
    return MapInput(path, digest, "lsoa layer" if is_geo else "table", labels, columns=used)


def _from_polygons(
    path: Path,
    digest: str,
    frame: gpd.GeoDataFrame,
    label: str,
    name: str | None,
    units: gpd.GeoDataFrame,
    used: dict[str, str],
) -> MapInput:
    """Area-majority overlay of the LSOAs on the drawn polygons."""
    if frame.crs is None:
        raise InputDataError(
            f"{path}: the polygons have no coordinate reference system; save the layer with one (e.g. EPSG:27700)."
        )
    polygons = frame[frame.geometry.notna() & ~frame.geometry.is_empty].to_crs(C.CRS_WORKING)
    polygons = gpd.GeoDataFrame(
        {
            "label": _text(polygons[label]),
            "name": _text(polygons[name]) if name else pd.NA,
        },
        geometry=polygons.geometry.make_valid().values,
        crs=C.CRS_WORKING,
    ).dropna(subset=["label"])
    if polygons.empty:
        raise InputDataError(
            f"{path}: no polygon with a neighbourhood in column {label!r}; fill it in or use --column."
        )
    lsoas = gpd.GeoDataFrame(
        {C.LSOA_CODE: units[C.LSOA_CODE].to_numpy()}, geometry=units.geometry.values, crs=units.crs
    )
    lsoas = lsoas.to_crs(C.CRS_WORKING)
    lsoas["lsoa_area"] = lsoas.geometry.area
    pieces = gpd.overlay(lsoas, polygons[["label", "geometry"]], how="intersection", keep_geom_type=True)
    if pieces.empty:
        raise InputDataError(
            f"{path}: the polygons cover no LSOA of the scenario; check they are drawn over the right area and "
            "that the layer's coordinate system is right."
        )
    pieces["area"] = pieces.geometry.area
    shares = pieces.groupby([C.LSOA_CODE, "label"], as_index=False).agg(
        area=("area", "sum"), lsoa_area=("lsoa_area", "first")
    )
    shares["share"] = shares["area"] / shares["lsoa_area"].clip(lower=1e-9)
    shares = shares.sort_values([C.LSOA_CODE, "share", "label"], ascending=[True, False, True], kind="stable")
    covered = shares.groupby(C.LSOA_CODE)["share"].sum()
    best = shares.drop_duplicates(C.LSOA_CODE).set_index(C.LSOA_CODE)
    best = best[best.index.map(covered) >= COVERED_SHARE]
    others = (
        shares[shares["share"] >= 1 - SPLIT_SHARE]
        .groupby(C.LSOA_CODE)["label"]
        .agg(lambda s: ";".join(s.iloc[1:]))
    )
    split = best[(best["share"] < SPLIT_SHARE) & (best.index.map(others).fillna("") != "")]
    split = pd.DataFrame(
        {
            C.LSOA_CODE: split.index,
            "label": split["label"].to_numpy(),
            "share": split["share"].round(3).to_numpy(),
            "other": split.index.map(others).to_numpy(),
        }
    ).reset_index(drop=True)
    names = (
        polygons.dropna(subset=["name"]).drop_duplicates("label").set_index("label")["name"] if name else None
    )
    order = units[C.LSOA_CODE][units[C.LSOA_CODE].isin(best.index)]
    labels = pd.DataFrame(
        {
            C.LSOA_CODE: order.to_numpy(),
            "label": order.map(best["label"]).to_numpy(),
        }
    )
    labels["name"] = labels["label"].map(names) if names is not None else pd.NA
    labels["keep"] = False
    return MapInput(
        path, digest, "polygons", labels.sort_values(C.LSOA_CODE, ignore_index=True), split, columns=used
    )
