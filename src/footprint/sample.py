"""Generate the bundled synthetic sample scenario, deterministically, in the real NHS/ONS file layouts.

``write_sample(DIR)`` (``footprint sample DIR``) makes two synthetic boroughs and a tiny district that is planned
with its western neighbour (as the City of London is planned with Hackney): about 180 LSOA-like Voronoi cells
with 1,300-2,300 residents each, MSOA groups, GP practices grouped into PCNs, registrations by LSOA from a gravity
model, candidate hub sites, deprivation and a prevalence indicator. Every file imitates a real layout (ONS
boundaries and mid-year estimates, NHS epraccur, ePCN.xlsx, practice totals, registrations by LSOA, IMD 2019), with
a few deliberate quirks real files have (header line breaks, ended PCN memberships, closed practices, a practice
without a PCN or a list size, registrations for LSOAs outside the area and a ``CLOSED`` pseudo-LSOA), so that the
sample run exercises the real readers. Output is byte-identical for a given seed: rows sorted, numbers at fixed
precision, GeoPackage and XLSX timestamps pinned.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon

logger = logging.getLogger(__name__)

DEFAULT_SEED = 20261123
X0, Y0 = 560_000.0, 170_000.0
WIDTH, HEIGHT = 15_000.0, 9_000.0
PINNED = datetime(2020, 1, 1)
LADS = {
    "E09900001": "Northbank",
    "E09900002": "Eastgate",
    "E09900003": "Old Quay",
}
PLACES = {
    "E09900001": ("P0001", "Northbank and Old Quay"),
    "E09900003": ("P0001", "Northbank and Old Quay"),
    "E09900002": ("P0002", "Eastgate"),
}
BANDS = ("0-15", "16-29", "30-44", "45-64", "65+")
BAND_SHARES = np.array([0.20, 0.19, 0.24, 0.24, 0.13])


def write_sample(directory: Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the synthetic sample into ``directory``; return the files written, sorted."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    units = _make_units(rng)
    population = _make_population(units, rng)
    practices = _make_practices(units, population, rng)
    pcns = _make_pcns(practices, rng)
    registrations = _make_registrations(units, population, practices, rng)
    hubs = _make_hubs(units, population, rng)

    written = [
        _write_geo(units, directory / "lsoas.gpkg", "lsoas"),
        _write_geo(_dissolve(units), directory / "boroughs.gpkg", "boroughs"),
        _write_csv(population, directory / "population.csv"),
        _write_epraccur(practices, directory / "epraccur.csv"),
        _write_csv(_locations(practices), directory / "practice_locations.csv"),
        _write_csv(_list_sizes(practices), directory / "gp-reg-pat-prac-all.csv"),
        _write_epcn(pcns, directory / "ePCN.xlsx"),
        _write_csv(registrations, directory / "gp-reg-pat-prac-lsoa.csv"),
        _write_csv(hubs, directory / "hubs.csv"),
        _write_csv(_imd(units, rng), directory / "imd.csv", quoting=csv.QUOTE_MINIMAL),
        _write_csv(_prevalence(units, rng), directory / "ckd_prevalence.csv", quoting=csv.QUOTE_NONNUMERIC),
        _write_csv(_place_lookup(), directory / "lad_to_place.csv"),
    ]
    logger.info("sample written to %s: %d LSOAs", directory, len(units))
    return sorted(written)


# ---- geography ---------------------------------------------------------------------------------------------------


def _make_units(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Voronoi cells of jittered grid points, clipped to the area; boroughs split along a wavy line."""
    spacing = 950.0
    xs = np.arange(spacing / 2, WIDTH, spacing)
    ys = np.arange(spacing / 2, HEIGHT, spacing)
    points = np.array([(x, y) for y in ys for x in xs])
    points += rng.uniform(-0.35 * spacing, 0.35 * spacing, size=points.shape)
    area = Polygon([(0, 0), (WIDTH, 0), (WIDTH, HEIGHT), (0, HEIGHT)])
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=area)
    polygons = []
    for point in points:
        cell = next(c for c in cells.geoms if c.contains(shapely.Point(point)))
        polygons.append(shapely.set_precision(cell.intersection(area), 1.0))
    frame = gpd.GeoDataFrame({"px": points[:, 0], "py": points[:, 1]}, geometry=polygons, crs="EPSG:27700")
    boundary = 7_600 + 700 * np.sin(frame["py"] / 1_900.0)
    frame["LAD22CD"] = np.where(frame["px"] < boundary, "E09900001", "E09900002")
    west = frame["LAD22CD"] == "E09900001"
    quay = np.hypot(frame["px"] - (boundary - 1_200), frame["py"] - (HEIGHT - 900))
    quay = quay.where(west, np.inf)
    frame.loc[quay.nsmallest(5).index, "LAD22CD"] = "E09900003"
    frame["geometry"] = frame.geometry.translate(X0, Y0)
    frame = frame.sort_values(["LAD22CD", "py", "px"], ascending=[True, False, True]).reset_index(drop=True)
    frame["LSOA21CD"] = [f"E01{900001 + i:06d}" for i in range(len(frame))]
    names, msoa_codes, msoa_names = [], [], []
    msoa_serial = 0
    for lad, group in frame.groupby("LAD22CD", sort=True):
        n_msoa = max(1, round(len(group) / 5))
        centres = group[["px", "py"]].to_numpy()
        labels = _kmeans(centres, n_msoa, rng)
        order = {
            label: rank
            for rank, label in enumerate(
                sorted(
                    set(labels),
                    key=lambda lab: (-centres[labels == lab, 1].mean(), centres[labels == lab, 0].mean()),
                )
            )
        }
        letters: dict[int, int] = {}
        for index, label in zip(group.index, labels, strict=True):
            rank = order[label]
            letter = letters.get(rank, 0)
            letters[rank] = letter + 1
            names.append((index, f"{LADS[lad]} {rank + 1:03d}{chr(65 + letter)}"))
            msoa_codes.append((index, f"E02{900001 + msoa_serial + rank:06d}"))
            msoa_names.append((index, f"{LADS[lad]} {rank + 1:03d}"))
        msoa_serial += len(order)
    frame["LSOA21NM"] = pd.Series(dict(names))
    frame["MSOA21CD"] = pd.Series(dict(msoa_codes))
    frame["MSOA21NM"] = pd.Series(dict(msoa_names))
    frame["LAD22NM"] = frame["LAD22CD"].map(LADS)
    columns = ["LSOA21CD", "LSOA21NM", "MSOA21CD", "MSOA21NM", "LAD22CD", "LAD22NM", "geometry"]
    return (
        gpd.GeoDataFrame(frame[columns], geometry="geometry", crs="EPSG:27700")
        .sort_values("LSOA21CD")
        .reset_index(drop=True)
    )


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 20) -> np.ndarray:
    centres = points[rng.choice(len(points), size=k, replace=False)]
    labels = np.zeros(len(points), dtype=int)
    for _ in range(iterations):
        labels = np.argmin(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        for j in range(k):
            if (labels == j).any():
                centres[j] = points[labels == j].mean(axis=0)
    return labels


def _dissolve(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    boroughs = (
        units[["LAD22CD", "LAD22NM", "geometry"]].dissolve(by=["LAD22CD", "LAD22NM"], sort=True).reset_index()
    )
    boroughs["geometry"] = shapely.set_precision(boroughs.geometry.values, 1.0)
    return boroughs[["LAD22CD", "LAD22NM", "geometry"]]


def _points(units: gpd.GeoDataFrame) -> np.ndarray:
    centres = units.geometry.representative_point()
    return np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])


# ---- people ------------------------------------------------------------------------------------------------------


def _make_population(units: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """ONS mid-year estimate layout: persons, males and females by age band, bands summing to all ages."""
    totals = rng.integers(1_300, 2_301, size=len(units))
    rows = []
    for (_, unit), total in zip(units.iterrows(), totals, strict=True):
        shares = rng.dirichlet(BAND_SHARES * 60)
        persons = _split(int(total), shares)
        males = [int(rng.binomial(p, 0.49)) for p in persons]
        females = [p - m for p, m in zip(persons, males, strict=True)]
        row = {
            key: unit[key] for key in ("LSOA21CD", "LSOA21NM", "MSOA21CD", "MSOA21NM", "LAD22CD", "LAD22NM")
        }
        for label, values in (("Persons", persons), ("Males", males), ("Females", females)):
            row[f"{label}_All-Ages"] = sum(values)
            for band, value in zip(BANDS, values, strict=True):
                row[f"{label}_{band}"] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _split(total: int, shares: np.ndarray) -> list[int]:
    raw = shares * total
    values = np.floor(raw).astype(int)
    for index in np.argsort(-(raw - values), kind="stable")[: total - values.sum()]:
        values[index] += 1
    return values.tolist()


def _make_practices(
    units: gpd.GeoDataFrame, population: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """About 45 GP practices at LSOA points, list sizes summing to about the resident population."""
    points = _points(units)
    weights = population["Persons_All-Ages"].to_numpy(dtype=float)
    count = 46
    chosen = np.sort(rng.choice(len(units), size=count, replace=False, p=weights / weights.sum()))
    sizes = rng.gamma(6.0, 1.0, size=count)
    sizes = np.round(sizes / sizes.sum() * weights.sum() * 1.04).astype(int)
    frame = pd.DataFrame(
        {
            "code": [f"Y9{i + 1:04d}" for i in range(count)],
            "name": [
                f"{_street(rng)} {kind}"
                for kind in rng.choice(["SURGERY", "MEDICAL CENTRE", "HEALTH CENTRE", "PRACTICE"], size=count)
            ],
            "lsoa": units["LSOA21CD"].to_numpy()[chosen],
            "lad": units["LAD22CD"].to_numpy()[chosen],
            "x": np.round(points[chosen, 0] + rng.uniform(-60, 60, size=count)),
            "y": np.round(points[chosen, 1] + rng.uniform(-60, 60, size=count)),
            "list_size": sizes,
            "status": "A",
        }
    )
    frame.loc[[7, 31], "status"] = "C"  # two practices closed since the registrations extract
    frame["postcode"] = [f"ZZ{1 + i // 10} {i % 10}SA" for i in range(count)]
    return frame


def _street(rng: np.random.Generator) -> str:
    first = [
        "ALBION",
        "BRIDGE",
        "CEDAR",
        "DOCK",
        "ELM",
        "FERRY",
        "GROVE",
        "HARBOUR",
        "IVY",
        "KING'S",
        "LOCK",
        "MARSH",
    ]
    second = ["ROAD", "STREET", "PARK", "LANE", "HILL"]
    return f"{rng.choice(first)} {rng.choice(second)}"


def _make_pcns(practices: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """PCN memberships (ePCN "PCN Core Partner Details" rows): nearby practices grouped, 3-7 per PCN."""
    rows = []
    serial = 0
    for lad_group in (("E09900001", "E09900003"), ("E09900002",)):
        members = practices[practices["lad"].isin(lad_group)]
        k = max(1, round(len(members) / 5))
        labels = _kmeans(members[["x", "y"]].to_numpy(dtype=float), k, rng)
        order = sorted(set(labels), key=lambda lab: -members["y"].to_numpy()[labels == lab].mean())
        for rank, label in enumerate(order):
            code = f"U9{serial + rank + 1:04d}"
            name = f"{LADS[lad_group[0]].upper()} {rank + 1} PCN"
            for practice in members.loc[labels == label].itertuples():
                rows.append(
                    {
                        "practice": practice.code,
                        "name": practice.name,
                        "pcn": code,
                        "pcn_name": name,
                        "start": 20190701,
                        "end": None,
                    }
                )
        serial += len(order)
    frame = pd.DataFrame(rows).sort_values("practice").reset_index(drop=True)
    # a practice that moved PCN: its old membership ended, a new one started
    moved = frame.index[frame["practice"] == "Y90012"][0]
    old = frame.loc[moved].copy()
    frame.loc[moved, ["start"]] = 20210401
    other = frame.loc[frame["pcn"] != old["pcn"], ["pcn", "pcn_name"]].iloc[0]
    old_row = old.to_dict()
    old_row["end"] = 20210331
    frame.loc[moved, ["pcn", "pcn_name"]] = other.to_numpy()
    frame = pd.concat([frame, pd.DataFrame([old_row])], ignore_index=True)
    # an active practice with no active PCN row (left its PCN, not yet re-joined)
    loner = frame.index[(frame["practice"] == "Y90040") & frame["end"].isna()]
    frame.loc[loner, "end"] = 20220930
    return frame.sort_values(["practice", "start"]).reset_index(drop=True)


def _make_registrations(
    units: gpd.GeoDataFrame, population: pd.DataFrame, practices: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Doubly constrained gravity model, kernel exp(-d / 0.8 km), counts below 3 dropped; NHS layout."""
    points = _points(units) / 1000.0
    residents = population["Persons_All-Ages"].to_numpy(dtype=float)
    sites = practices[["x", "y"]].to_numpy(dtype=float) / 1000.0
    lists = practices["list_size"].to_numpy(dtype=float)
    distance = np.hypot(points[:, None, 0] - sites[None, :, 0], points[:, None, 1] - sites[None, :, 1])
    kernel = np.exp(-distance / 0.8) * (distance <= 4.0)
    flows = kernel * residents[:, None]
    for _ in range(30):
        flows *= (lists / np.maximum(flows.sum(axis=0), 1e-9))[None, :]
        flows *= (residents * 1.04 / np.maximum(flows.sum(axis=1), 1e-9))[:, None]
    counts = np.round(flows).astype(int)
    rows = []
    codes = units["LSOA21CD"].to_numpy()
    for j, practice in enumerate(practices.itertuples()):
        for i in np.flatnonzero(counts[:, j] >= 3):
            rows.append((practice.code, practice.name, codes[i], int(counts[i, j])))
        # residents outside the area and a closed pseudo-LSOA, as in the real NHS file
        if j % 9 == 0:
            rows.append(
                (
                    practice.code,
                    practice.name,
                    f"E0100{int(rng.integers(1000, 4000)):04d}",
                    int(rng.integers(3, 40)),
                )
            )
        if j == 5:
            rows.append((practice.code, practice.name, "CLOSED", 4))
    frame = pd.DataFrame(rows, columns=["PRACTICE_CODE", "PRACTICE_NAME", "LSOA_CODE", "NUMBER_OF_PATIENTS"])
    frame = frame.sort_values(["PRACTICE_CODE", "LSOA_CODE"]).reset_index(drop=True)
    frame.insert(0, "EXTRACT_DATE", "01Apr2026")
    frame.insert(0, "PUBLICATION", "GP_PRAC_LSOA_SYNTHETIC")
    frame.insert(5, "SEX", "ALL")
    return frame


def _make_hubs(units: gpd.GeoDataFrame, population: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Candidate hub sites: about twice the neighbourhoods each place needs, spread by farthest-point sampling."""
    points = _points(units)
    residents = population["Persons_All-Ages"].to_numpy()
    place = units["LAD22CD"].map(lambda lad: PLACES[lad][0]).to_numpy()
    rows = []
    serial = 0
    for code in sorted(set(place)):
        mask = np.flatnonzero(place == code)
        need = int(np.ceil(residents[mask].sum() / 50_000))
        count = 2 * need + 1
        chosen = [int(mask[np.argmax(residents[mask])])]
        while len(chosen) < count:
            d = np.min(
                np.hypot(
                    points[mask, None, 0] - points[None, chosen, 0],
                    points[mask, None, 1] - points[None, chosen, 1],
                ),
                axis=1,
            )
            chosen.append(int(mask[np.argmax(d)]))
        for rank, unit in enumerate(chosen):
            serial += 1
            rows.append(
                {
                    "hub_id": f"H{serial:03d}",
                    "hub_name": f"{_street(rng).title()} Hub",
                    "easting": round(points[unit, 0]),
                    "northing": round(points[unit, 1]),
                    "capacity": "",
                    "required": "true" if rank == 0 else "false",
                }
            )
    return pd.DataFrame(rows)


def _field(units: gpd.GeoDataFrame, rng: np.random.Generator) -> np.ndarray:
    """A smooth random field over the area (sum of a few Gaussian bumps), scaled to 0..1."""
    points = _points(units) / 1000.0
    value = np.zeros(len(points))
    for _ in range(5):
        centre = rng.uniform([X0 / 1000, Y0 / 1000], [(X0 + WIDTH) / 1000, (Y0 + HEIGHT) / 1000])
        value += rng.uniform(0.5, 1.5) * np.exp(-(((points - centre) ** 2).sum(axis=1)) / (2 * 2.5**2))
    value += rng.normal(0, 0.08, size=len(points))
    return (value - value.min()) / (value.max() - value.min())


def _imd(units: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """IMD 2019 File 1 columns: deprived clusters get low ranks (1 = most deprived of 32,844)."""
    deprivation = _field(units, rng)
    rank = np.round(1 + (1 - deprivation) * 32_843).astype(int)
    decile = np.clip((rank - 1) * 10 // 32_844 + 1, 1, 10)
    return pd.DataFrame(
        {
            "LSOA code (2021)": units["LSOA21CD"],
            "LSOA name (2021)": units["LSOA21NM"],
            "Local Authority District code (2019)": units["LAD22CD"],
            "Local Authority District name (2019)": units["LAD22NM"],
            "Index of Multiple Deprivation (IMD) Rank": rank,
            "Index of Multiple Deprivation (IMD) Decile": decile,
        }
    )


def _prevalence(units: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Modelled CKD prevalence (proportion of adults), higher where deprivation is."""
    value = 0.018 + 0.02 * _field(units, rng) + rng.normal(0, 0.002, size=len(units))
    return pd.DataFrame({"LSOA_CODE": units["LSOA21CD"], "CKD: QOF prevalence (18+ yrs)": np.round(value, 6)})


def _locations(practices: pd.DataFrame) -> pd.DataFrame:
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    active = practices[practices["status"] == "A"]
    lon, lat = to_wgs84.transform(active["x"].to_numpy(), active["y"].to_numpy())
    return pd.DataFrame(
        {
            "PRACTICE_CODE": active["code"],
            "PRACTICE_NAME": active["name"].str.title(),
            "POSTCODE": active["postcode"],
            "LATITUDE": np.round(lat, 7),
            "LONGITUDE": np.round(lon, 7),
        }
    )


def _list_sizes(practices: pd.DataFrame) -> pd.DataFrame:
    listed = practices[(practices["status"] == "A") & (practices["code"] != "Y90023")]  # one practice missing
    return pd.DataFrame(
        {
            "PUBLICATION": "GP_PRAC_PAT_LIST",
            "EXTRACT_DATE": "01Apr2026",
            "TYPE": "GP",
            "CCG_CODE": "99Z",
            "ONS_CCG_CODE": "E38999999",
            "CODE": listed["code"],
            "POSTCODE": listed["postcode"],
            "SEX": "ALL",
            "AGE": "ALL",
            "NUMBER_OF_PATIENTS": listed["list_size"],
        }
    )


def _place_lookup() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"LAD22CD": lad, "LAD22NM": LADS[lad], "PLACE_CODE": PLACES[lad][0], "PLACE_NAME": PLACES[lad][1]}
            for lad in sorted(LADS)
        ]
    )


# ---- writers (pinned, byte-identical) --------------------------------------------------------------------------------


def _write_csv(frame: pd.DataFrame, path: Path, *, quoting: int = csv.QUOTE_MINIMAL) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n", quoting=quoting)
    return path


def _write_geo(frame: gpd.GeoDataFrame, path: Path, layer: str) -> Path:
    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2020-01-01T00:00:00.000Z"})
    frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def _write_epraccur(practices: pd.DataFrame, path: Path) -> Path:
    """NHS ODS epraccur: no header, 27 quoted fields; plus a non-GP organisation row."""
    lines = []
    for p in practices.itertuples():
        fields = [""] * 27
        fields[0], fields[1], fields[2], fields[3] = p.code, p.name, "Y56", "QMJ"
        fields[4], fields[5], fields[7] = p.name, f"1 {_street_for(p.code)}", "LONDON"
        fields[9], fields[10], fields[12], fields[13], fields[14] = (
            p.postcode,
            "19740401",
            p.status,
            "B",
            "99Z",
        )
        fields[15], fields[17], fields[21], fields[23], fields[25] = (
            "20200401",
            "020 7946 0000",
            "0",
            "99Z",
            "4",
        )
        if p.status == "C":
            fields[11], fields[16] = "20250331", "20250331"
        lines.append(fields)
    other = [""] * 27
    other[0], other[1], other[9], other[12], other[25] = (
        "Y99001",
        "SYNTHETIC WALK-IN CENTRE",
        "ZZ9 9ZZ",
        "A",
        "2",
    )
    lines.append(other)
    lines.sort(key=lambda fields: fields[0])
    text = "".join(",".join(f'"{value}"' for value in fields) + "\n" for fields in lines)
    path.write_text(text, encoding="utf-8")
    return path


def _street_for(code: str) -> str:
    return f"HIGH STREET {code[-2:]}"


def _write_epcn(pcns: pd.DataFrame, path: Path) -> Path:
    """ePCN.xlsx with both sheets and the real headers (line breaks included), timestamps pinned."""
    workbook = openpyxl.Workbook()
    details = workbook.active
    details.title = "PCNDetails"
    details.append(
        [
            "PCN Code",
            "PCN Name",
            "Current Sub ICB Loc Code",
            "Sub ICB Location",
            "Open Date",
            "Close Date",
            "Address Line 1",
            "Postcode",
        ]
    )
    for code, name in sorted(set(zip(pcns["pcn"], pcns["pcn_name"], strict=True))):
        details.append(
            [code, name, "99Z", "NHS SYNTHETIC ICB - 99Z", 20190701, None, "1 HIGH STREET", "ZZ1 1AA"]
        )
    partners = workbook.create_sheet("PCN Core Partner Details")
    partners.append(
        [
            "Partner\nOrganisation\nCode",
            "Partner\nName",
            "Practice\nParent\nSub ICB Loc Code",
            "Practice\nParent\nSub ICB Loc Name",
            "PCN Code",
            "PCN Name",
            "PCN Parent\nSub ICB Loc Code",
            "PCN Parent\nSub ICB Loc Name",
            "Practice to PCN\nRelationship\nStart Date",
            "Practice to PCN\nRelationship\nEnd Date",
            "Practice Sub ICB Loc and PCN Sub ICB Loc Match ",
        ]
    )
    for row in pcns.itertuples():
        end = None if pd.isna(row.end) else int(row.end)
        partners.append(
            [
                row.practice,
                row.name,
                "99Z",
                "NHS SYNTHETIC ICB - 99Z",
                row.pcn,
                row.pcn_name,
                "99Z",
                "NHS SYNTHETIC ICB - 99Z",
                int(row.start),
                end,
                True,
            ]
        )
    workbook.properties.created = PINNED
    workbook.properties.modified = PINNED
    buffer = io.BytesIO()
    workbook.save(buffer)
    _pin_zip(buffer.getvalue(), path)
    return path


def _pin_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip with fixed entry times so identical content gives identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _pin_core(content)
            pinned = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            target.writestr(pinned, content)


def _pin_core(content: bytes) -> bytes:
    import re

    text = content.decode("utf-8")
    text = re.sub(
        r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", r"\g<1>2020-01-01T00:00:00Z\3", text
    )
    return text.encode("utf-8")
