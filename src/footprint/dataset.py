"""Join the canonical tables of a scenario into one :class:`Dataset`, reporting every mismatch.

Everything is joined on codes: units get their population, place, demand, IMD and baseline; practices get their
PCN, list size, site location and the LSOA and place they sit in; registrations keep only LSOAs of the area and get
their practice's PCN; hubs get the LSOA and place they sit in. Each unmatched code is a
:class:`~footprint.findings.Finding` (never a silent drop). Fatal problems are findings with severity ``error``; the
caller (``footprint validate`` or ``run``) decides to stop. No solving, no printing here.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from footprint import columns as C
from footprint import readers, vintage
from footprint.config import PracticeHubs, Scenario, TableInput
from footprint.errors import InputDataError
from footprint.findings import Finding, Severity, codes
from footprint.readers import sha256_of

logger = logging.getLogger(__name__)


@dataclass
class Dataset:
    """Every input of a scenario as canonical tables, joined on codes.

    Attributes
    ----------
    scenario
        The validated scenario.
    units
        One row per LSOA, sorted by code: lsoa_code, lsoa_name, lad_code, lad_name, place_code, place_name,
        group_code, population, registered, pop_0_15, pop_65_plus, demand, imd_decile, baseline, x, y, area_km2,
        geometry (EPSG:27700). Optional inputs give NaN/<NA> columns.
    practices
        Active GP practices: practice_code, practice_name, postcode, pcn_code, pcn_name, list_size, x, y,
        lsoa_code, place_code, registered (patients in the registrations file).
    registrations
        practice_code, lsoa_code, patients, pcn_code; only LSOAs of the area.
    hubs
        hub_id, hub_name, x, y, capacity, required, lsoa_code, place_code; or None.
    locks
        lsoa_code, hub_id; or None.
    boundaries
        Borough polygons for maps, or None.
    findings
        Everything dropped, unmatched or wrong.
    inputs
        Input file path -> sha256, for the decision record.
    conversions
        Each LSOA-keyed input converted to the boundaries' vintage (see :mod:`footprint.vintage`), for run.json.
    """

    scenario: Scenario
    units: gpd.GeoDataFrame
    practices: pd.DataFrame
    registrations: pd.DataFrame
    hubs: pd.DataFrame | None = None
    locks: pd.DataFrame | None = None
    boundaries: gpd.GeoDataFrame | None = None
    findings: list[Finding] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    conversions: list[dict] = field(default_factory=list)

    @property
    def place_codes(self) -> list[str]:
        return sorted(self.units[C.PLACE_CODE].dropna().unique().tolist())

    def place_name(self, place_code: str) -> str:
        names = self.units.loc[self.units[C.PLACE_CODE] == place_code, C.PLACE_NAME]
        return str(names.iloc[0]) if len(names) else place_code

    @property
    def has_pcns(self) -> bool:
        return bool(len(self.registrations)) and self.registrations[C.PCN_CODE].notna().any()


def _input_paths(scenario: Scenario) -> list[Path]:
    """Every file a scenario reads (with shapefile sidecars)."""
    inputs = scenario.inputs
    paths: list[Path | None] = [inputs.units.path]
    paths += [spec.path if spec else None for spec in (inputs.population, inputs.pcns, inputs.registrations)]
    paths += [
        spec.path if spec else None
        for spec in (inputs.imd, inputs.baseline, inputs.locks, inputs.area_names, inputs.lsoa_lookup)
    ]
    paths += [inputs.hubs.path if isinstance(inputs.hubs, TableInput) else None]
    paths += [inputs.places.lookup, inputs.practices.epraccur]
    paths += [
        spec.path if spec else None for spec in (inputs.practices.locations, inputs.practices.list_sizes)
    ]
    paths += [inputs.places.boundaries.path if inputs.places.boundaries else None]
    paths += [indicator.path for indicator in inputs.demand.indicators]
    paths += [barrier.path for barrier in scenario.graph.barriers]
    found: list[Path] = []
    for path in paths:
        if path is None:
            continue
        path = Path(path)
        found.append(path)
        if path.suffix.lower() == ".shp":
            found += [
                path.with_suffix(ext)
                for ext in (".shx", ".dbf", ".prj", ".cpg")
                if path.with_suffix(ext).exists()
            ]
    return sorted(set(found))


def hash_inputs(scenario: Scenario) -> dict[str, str]:
    """sha256 of every input file that exists, keyed by path as written in the resolved scenario."""
    return {str(path): sha256_of(path) for path in _input_paths(scenario) if path.is_file()}


def load_dataset(scenario: Scenario) -> Dataset:
    """Read every input of ``scenario`` and join them; problems become findings (fatal ones severity error).

    Raises
    ------
    InputDataError
        When a file cannot be read at all (missing, unreadable, required column absent).
    """
    inputs = scenario.inputs
    findings: list[Finding] = []

    units, found = readers.read_units(inputs.units)
    findings += found
    converter = _vintage_converter(units, scenario)
    units = _attach_population(units, scenario, findings, converter)
    units = _attach_places(units, scenario, findings)
    units = _check_geometry(units, str(inputs.units.path), findings)
    points = units.geometry.representative_point()
    units[C.X] = points.x.to_numpy()
    units[C.Y] = points.y.to_numpy()
    units["area_km2"] = units.geometry.area.to_numpy() / 1e6

    practices = _load_practices(scenario, units, findings)
    registrations = _load_registrations(scenario, units, practices, findings, converter)
    units["registered"] = (
        registrations.groupby(C.LSOA_CODE)[C.PATIENTS].sum().reindex(units[C.LSOA_CODE]).fillna(0).to_numpy()
    )
    if len(practices):
        practices["registered"] = (
            registrations.groupby(C.PRACTICE_CODE)[C.PATIENTS]
            .sum()
            .reindex(practices[C.PRACTICE_CODE])
            .fillna(0)
            .to_numpy()
        )
    units[C.DEMAND] = _load_demand(scenario, units, findings, converter)
    units[C.IMD_DECILE] = _load_imd(scenario, units, findings, converter)
    units["baseline"] = _load_baseline(scenario, units, registrations, findings, converter)
    units[C.AREA_NAME] = _load_area_names(scenario, units, findings)
    hubs = _load_hubs(scenario, units, practices, findings)
    locks = _load_locks(scenario, units, hubs, findings, converter)
    findings += converter.findings
    boundaries = readers.read_boundaries(inputs.places.boundaries) if inputs.places.boundaries else None

    return Dataset(
        scenario=scenario,
        units=units,
        practices=practices,
        registrations=registrations,
        hubs=hubs,
        locks=locks,
        boundaries=boundaries,
        findings=findings,
        inputs=hash_inputs(scenario),
        conversions=converter.conversions,
    )


def _vintage_converter(units: gpd.GeoDataFrame, scenario: Scenario) -> vintage.VintageConverter:
    """The converter of LSOA-keyed inputs to the boundaries' vintage; splits weighted by the LSOAs' area."""
    spec = scenario.inputs.lsoa_lookup
    boundary_vintage = units.attrs.get("vintage") or "2011"
    area = pd.Series(units.geometry.area.to_numpy(), index=units[C.LSOA_CODE].astype(str).to_numpy())
    lookup = vintage.read_lsoa_lookup(spec) if spec is not None else None
    shared = None
    place_of = units.set_index(C.LSOA_CODE)[C.LAD_CODE].astype("object")
    if spec is not None and lookup is not None and spec.boundaries is not None:
        other, _ = readers.read_units(spec.boundaries)
        shared = _shared_areas(lookup, units, other, boundary_vintage)
        place_of = pd.concat([place_of, other.set_index(C.LSOA_CODE)[C.LAD_CODE].astype("object")])
    place_of = place_of[~place_of.index.duplicated()].dropna()
    return vintage.VintageConverter(
        boundary_codes=set(units[C.LSOA_CODE].dropna().astype(str)),
        boundary_vintage=boundary_vintage,
        lookup=lookup,
        lookup_file=str(spec.path) if spec is not None else "",
        target_weight=area[~area.index.duplicated()],
        pair_weight=shared,
        place_of=place_of,
        weight_basis="area shared by the LSOAs of the two vintages"
        if shared is not None
        else f"area of the LSOA {boundary_vintage} parts",
    )


def _shared_areas(
    lookup: pd.DataFrame, units: gpd.GeoDataFrame, other: gpd.GeoDataFrame, boundary_vintage: str
) -> pd.Series:
    """Area (m2) shared by each (lsoa11_code, lsoa21_code) pair of the lookup; NaN where either has no polygon."""
    ours = units.drop_duplicates(C.LSOA_CODE).set_index(C.LSOA_CODE).geometry
    theirs = other.drop_duplicates(C.LSOA_CODE).set_index(C.LSOA_CODE).geometry
    by_vintage = {boundary_vintage: ours, vintage.other_vintage(boundary_vintage): theirs}
    left = by_vintage["2011"].reindex(lookup[C.LSOA11_CODE]).to_numpy()
    right = by_vintage["2021"].reindex(lookup[C.LSOA21_CODE]).to_numpy()
    present = shapely.is_geometry(left) & shapely.is_geometry(right)
    areas = np.full(len(lookup), np.nan)
    if present.any():
        pieces = shapely.intersection(shapely.make_valid(left[present]), shapely.make_valid(right[present]))
        areas[present] = shapely.area(pieces)
    return pd.Series(areas, index=pd.MultiIndex.from_frame(lookup[[C.LSOA11_CODE, C.LSOA21_CODE]]))


# ---- units -----------------------------------------------------------------------------------------------------


def _attach_population(
    units: gpd.GeoDataFrame, scenario: Scenario, findings: list[Finding], converter: vintage.VintageConverter
) -> gpd.GeoDataFrame:
    spec = scenario.inputs.population
    units_path = str(scenario.inputs.units.path)
    if spec is not None:
        population, found = readers.read_population(spec)  # codes unique, counts checked
        findings += found
        population_vintage = population.attrs.get("vintage")
        counted = [name for name in (C.POPULATION, C.POP_0_15, C.POP_65_PLUS) if name in population]
        population = _to_boundary_vintage(population, counted, converter, str(spec.path))
        population_vintage = population.attrs.get("vintage", population_vintage)
        population = population.set_index(C.LSOA_CODE)
        unknown = sorted(set(population.index) - set(units[C.LSOA_CODE]))
        if unknown:
            findings.append(
                Finding(
                    "info",
                    "population.outside_area",
                    f"{len(unknown):,} population rows are for LSOAs not in the boundaries (outside the area); ignored",
                    str(spec.path),
                    tuple(unknown),
                )
            )
        for name in (C.POPULATION, C.POP_0_15, C.POP_65_PLUS):
            if name in population:
                units[name] = population[name].reindex(units[C.LSOA_CODE]).to_numpy()
        population_file = str(spec.path)
    elif C.POPULATION in units:
        population_file = units_path
        population_vintage = units.attrs.get("vintage")
    else:
        raise InputDataError(
            f"{units_path}: no population: give inputs.population (ONS mid-year estimates CSV) or name a population "
            "column with inputs.units.columns.population."
        )
    for name in (C.POP_0_15, C.POP_65_PLUS):
        if name not in units:
            units[name] = np.nan
    not_numeric = {
        code
        for f in findings
        if f.code == "population.not_numeric" and f.file == population_file
        for code in f.items
    }
    missing = units[C.POPULATION].isna() & ~units[C.LSOA_CODE].isin(not_numeric)
    if missing.any():
        mistyped = _mistyped(units.loc[missing, C.LSOA_CODE].tolist(), unknown if spec is not None else [])
        findings.append(
            Finding(
                "error",
                "population.missing",
                f"{int(missing.sum()):,} LSOAs have no population; "
                + (
                    f"the file's {mistyped} (correct the codes)"
                    if mistyped
                    else _vintage_fix(
                        units.attrs.get("vintage"), population_vintage, len(units), int(missing.sum())
                    )
                ),
                population_file,
                codes(units.loc[missing, C.LSOA_CODE]),
            )
        )
    units[C.POPULATION] = units[C.POPULATION].fillna(0).clip(lower=0).round().astype("int64")
    return units


def _to_boundary_vintage(
    population: pd.DataFrame, counted: list[str], converter: vintage.VintageConverter, path: str
) -> pd.DataFrame:
    """Population in the boundaries' vintage; it weighs later splits (own vintage) or merges (other vintage)."""
    code_column = population.attrs.get("code_column")
    found = converter.vintage_of(population, what="population", path=path, code_column=code_column)
    residents = population.dropna(subset=[C.POPULATION]).drop_duplicates(C.LSOA_CODE)
    residents = residents.set_index(C.LSOA_CODE)[C.POPULATION]
    if found == converter.boundary_vintage:
        converter.use_target_population(residents)
        return population
    converter.source_population = residents
    converted = converter.counts(population, counted, what="population", path=path, code_column=code_column)
    converted.attrs["vintage"] = converter.boundary_vintage
    return converted


#: The form of an LSOA code (England E01, Wales W01, then six digits).
LSOA_CODE_FORM = re.compile(r"[EW]01\d{6}")


def _mistyped(missing: list[str], unknown: list[str], show: int = 3) -> str:
    """'X may be a mistyped Y, ...' for the file's codes that are not of the LSOA code form and are one or two
    characters from a missing code (empty when none is; well-formed codes are other LSOAs or vintages)."""
    pairs = []
    left = [code for code in unknown if not LSOA_CODE_FORM.fullmatch(code)]
    for code in missing:
        close = difflib.get_close_matches(code, left, n=1, cutoff=0.8)
        if close:
            pairs.append(f"{close[0]} may be a mistyped {code}")
            left.remove(close[0])
    if not pairs:
        return ""
    return ", ".join(pairs[:show]) + (f" and {len(pairs) - show} more" if len(pairs) > show else "")


def _vintage_fix(units_vintage: str | None, other_vintage: str | None, n_units: int, n_missing: int) -> str:
    """The fix for LSOAs missing from a file: a different LSOA vintage when the evidence says so, else add them."""
    if units_vintage and other_vintage and units_vintage != other_vintage:
        return (
            f"the file has LSOA {other_vintage} codes but the boundaries are LSOA {units_vintage}: use the file "
            f"for {units_vintage} LSOAs (or boundaries of {other_vintage})"
        )
    if n_missing == n_units:
        return (
            "none of the boundaries' LSOA codes is in the file: check it covers this area and uses the same LSOA "
            f"vintage as the boundaries ({units_vintage or 'unknown'})"
        )
    return f"add them to the file (codes must be the same LSOA vintage as the boundaries, {units_vintage or '?'})"


def _attach_places(units: gpd.GeoDataFrame, scenario: Scenario, findings: list[Finding]) -> gpd.GeoDataFrame:
    spec = scenario.inputs.places
    lad = units[C.LAD_CODE].astype("string")
    lad_names = units.get(C.LAD_NAME, lad)
    if C.LAD_NAME not in units:
        units[C.LAD_NAME] = lad
    missing = (lad.isna() | (lad == "")).fillna(True).astype(bool)
    if missing.any():
        findings.append(
            Finding(
                "error",
                "units.missing_lad",
                f"{int(missing.sum()):,} LSOAs have no borough (LAD) code; fill it so every LSOA nests in a place",
                str(scenario.inputs.units.path),
                codes(units.loc[missing, C.LSOA_CODE]),
            )
        )
        units = units[~missing].reset_index(drop=True)
        lad = lad[~missing].reset_index(drop=True)
        lad_names = lad_names[~missing].reset_index(drop=True)
    place = lad.copy()
    name_of_lad = dict(zip(lad, lad_names.astype("string"), strict=False))
    place_names: dict[str, str] = {}
    lookup, found = readers.read_place_lookup(spec)
    findings += found
    if lookup is not None:
        mapping = dict(zip(lookup[C.LAD_CODE], lookup[C.PLACE_CODE], strict=False))
        unmapped = sorted(set(lad.dropna()) - set(mapping))
        if unmapped:
            findings.append(
                Finding(
                    "warning",
                    "places.unmapped_lad",
                    f"{len(unmapped):,} boroughs are not in the place lookup; each is treated as its own place",
                    str(spec.lookup),
                    tuple(unmapped),
                )
            )
        place = lad.map(lambda code: mapping.get(code, code) if isinstance(code, str) else code)
        if C.PLACE_NAME in lookup:
            place_names.update(dict(zip(lookup[C.PLACE_CODE], lookup[C.PLACE_NAME], strict=False)))
    for source, target in spec.merge.items():
        if source not in set(lad.dropna()):
            findings.append(
                Finding(
                    "warning",
                    "places.merge_unknown",
                    f"inputs.places.merge names borough {source}, which has no LSOAs; check the code",
                    "",
                    (source,),
                )
            )
        target_place = place[lad == target].iloc[0] if (lad == target).any() else target
        place = place.mask(lad == source, target_place)
    place_names.update(spec.names)
    units[C.PLACE_CODE] = place
    names = []
    for place_code in place:
        if place_code in place_names:
            names.append(place_names[place_code])
        else:
            members = sorted({str(name_of_lad.get(code, code)) for code in lad[place == place_code].dropna()})
            names.append(" and ".join(members) if members else str(place_code))
    units[C.PLACE_NAME] = names
    merged = units.groupby(C.PLACE_CODE)[C.LAD_CODE].nunique()
    for place_code, n in merged[merged > 1].items():
        findings.append(
            Finding(
                "info",
                "places.merged",
                f"place {place_code} ({place_names.get(place_code, place_code)}) is planned from {n} boroughs",
                "",
                codes(units.loc[units[C.PLACE_CODE] == place_code, C.LAD_CODE]),
            )
        )
    return units


def _check_geometry(units: gpd.GeoDataFrame, path: str, findings: list[Finding]) -> gpd.GeoDataFrame:
    empty = pd.Series(~readers.has_shape(units.geometry), index=units.index)
    if empty.any():
        findings.append(
            Finding(
                "error",
                "units.empty_geometry",
                f"{int(empty.sum()):,} LSOAs have empty or null geometry; repair or remove them",
                path,
                codes(units.loc[empty, C.LSOA_CODE]),
            )
        )
    invalid = ~empty & ~units.geometry.is_valid
    if invalid.any():
        units.loc[invalid, "geometry"] = units.loc[invalid].geometry.make_valid()
    polygonal = units.geometry.geom_type.isin(["Polygon", "MultiPolygon"]) | empty
    if not polygonal.all():
        # make_valid can return a collection of polygons and stray lines; keep the polygons
        units.loc[~polygonal, "geometry"] = units.loc[~polygonal].geometry.buffer(0)
    unusable = ~empty & (units.geometry.is_empty | ~(units.geometry.area > 0))
    repaired = invalid & ~unusable
    if repaired.any():
        findings.append(
            Finding(
                "warning",
                "units.invalid_geometry",
                f"{int(repaired.sum()):,} LSOA polygons are invalid (self-intersections); repaired with make_valid",
                path,
                codes(units.loc[repaired, C.LSOA_CODE]),
            )
        )
    if unusable.any():
        findings.append(
            Finding(
                "error",
                "units.invalid_geometry",
                f"{int(unusable.sum()):,} LSOAs have no area (invalid polygons that cannot be repaired, or "
                "points/lines instead of polygons); fix their boundaries in a GIS or re-export the file",
                path,
                codes(units.loc[unusable, C.LSOA_CODE]),
            )
        )
    # the errors above stop any run; leave those LSOAs out so validation can go on to find every other problem
    return units[~(empty | unusable)].reset_index(drop=True)


# ---- practices and registrations ---------------------------------------------------------------------------


def _locate(xy: pd.DataFrame, units: gpd.GeoDataFrame) -> pd.DataFrame:
    """LSOA code and place of each point (x, y), by point-in-polygon; NaN outside every LSOA."""
    valid = xy[C.X].notna() & xy[C.Y].notna()
    out = pd.DataFrame({C.LSOA_CODE: pd.Series(pd.NA, index=xy.index, dtype="string")})
    out[C.PLACE_CODE] = pd.Series(pd.NA, index=xy.index, dtype="string")
    if not valid.any():
        return out
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(xy.loc[valid, C.X], xy.loc[valid, C.Y]),
        index=xy.index[valid],
        crs=C.CRS_WORKING,
    )
    joined = gpd.sjoin(points, units[[C.LSOA_CODE, C.PLACE_CODE, "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out.loc[joined.index, C.LSOA_CODE] = joined[C.LSOA_CODE].astype("string")
    out.loc[joined.index, C.PLACE_CODE] = joined[C.PLACE_CODE].astype("string")
    return out


def _load_practices(scenario: Scenario, units: gpd.GeoDataFrame, findings: list[Finding]) -> pd.DataFrame:
    spec = scenario.inputs.practices
    columns = [
        C.PRACTICE_CODE,
        C.PRACTICE_NAME,
        C.POSTCODE,
        C.PCN_CODE,
        C.PCN_NAME,
        C.LIST_SIZE,
        C.X,
        C.Y,
        C.LSOA_CODE,
        C.PLACE_CODE,
    ]
    frames: list[pd.DataFrame] = []
    if spec.epraccur is not None:
        epraccur, found = readers.read_epraccur(spec.epraccur, include_inactive=spec.include_inactive)
        findings += found
        frames.append(epraccur)
    locations = None
    if spec.locations is not None:
        locations, found = readers.read_practice_locations(spec.locations)
        findings += found
    if not frames and locations is None:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    if locations is not None:
        located = _locate(locations, units)
        locations = pd.concat([locations, located], axis=1)
        if frames:
            practices = frames[0].merge(
                locations.drop(columns=[c for c in (C.PRACTICE_NAME, C.POSTCODE) if c in locations]),
                on=C.PRACTICE_CODE,
                how="right",
            )
            unknown = practices[C.STATUS].isna()
            if unknown.any():
                findings.append(
                    Finding(
                        "warning",
                        "practices.not_in_epraccur",
                        f"{int(unknown.sum()):,} practices in the locations file are not active GP practices in "
                        "epraccur (closed, dormant or not GP); they are left out",
                        str(spec.locations.path),
                        codes(practices.loc[unknown, C.PRACTICE_CODE]),
                    )
                )
                practices = practices[~unknown]
            names = locations.set_index(C.PRACTICE_CODE)
            if C.PRACTICE_NAME in names:
                fill = practices[C.PRACTICE_CODE].map(names[C.PRACTICE_NAME])
                practices[C.PRACTICE_NAME] = practices[C.PRACTICE_NAME].fillna(fill)
        else:
            practices = locations
    else:
        practices = frames[0]
        practices[C.X] = np.nan
        practices[C.Y] = np.nan
        practices[C.LSOA_CODE] = pd.NA
        practices[C.PLACE_CODE] = pd.NA
        findings.append(
            Finding(
                "warning",
                "practices.no_locations",
                "no practice locations given (inputs.practices.locations); practices cannot be placed on the map "
                "or in neighbourhoods",
                str(spec.epraccur),
            )
        )
    for name in (C.PRACTICE_NAME, C.POSTCODE):
        if name not in practices:
            practices[name] = pd.NA
    no_site = practices[C.LSOA_CODE].isna() & practices[C.X].notna()
    if no_site.any() and bool(no_site[practices[C.X].notna()].all()):
        findings.append(
            Finding(
                _follow_on(findings),
                "practices.all_outside_area",
                f"none of the {int(no_site.sum()):,} practice sites lies inside an LSOA of the boundaries; "
                + _coordinates_fix(practices.loc[no_site], units, "inputs.practices.locations"),
                str(spec.locations.path) if spec.locations else "",
                codes(practices.loc[no_site, C.PRACTICE_CODE]),
            )
        )
    elif no_site.any():
        findings.append(
            Finding(
                "warning",
                "practices.outside_area",
                f"{int(no_site.sum()):,} practice sites fall outside every LSOA of the area; their patients still "
                "count, but they have no neighbourhood of their own",
                str(spec.locations.path) if spec.locations else "",
                codes(practices.loc[no_site, C.PRACTICE_CODE]),
            )
        )
    no_xy = practices[C.X].isna()
    if no_xy.any() and spec.locations is not None:
        findings.append(
            Finding(
                "warning",
                "practices.no_location",
                f"{int(no_xy.sum()):,} practices have no usable location",
                str(spec.locations.path),
                codes(practices.loc[no_xy, C.PRACTICE_CODE]),
            )
        )
    seen = set(practices[C.PRACTICE_CODE]) | (
        set(locations[C.PRACTICE_CODE]) if locations is not None else set()
    )
    practices = _attach_pcns(practices, scenario, findings, seen)
    practices = _attach_list_sizes(practices, scenario, findings)
    return pd.DataFrame(practices[columns]).sort_values(C.PRACTICE_CODE).reset_index(drop=True)


def _attach_pcns(
    practices: pd.DataFrame, scenario: Scenario, findings: list[Finding], seen: set[str]
) -> pd.DataFrame:
    """Join each practice's active PCN; report every practice seen in any input that has none."""
    spec = scenario.inputs.pcns
    if spec is None:
        practices[C.PCN_CODE] = pd.NA
        practices[C.PCN_NAME] = pd.NA
        return practices
    membership, found = readers.read_pcn_membership(spec)
    findings += found
    practices = practices.merge(membership, on=C.PRACTICE_CODE, how="left")
    without = sorted(seen - set(membership[C.PRACTICE_CODE]))
    if without:
        active = set(practices[C.PRACTICE_CODE])
        inactive = sum(code not in active for code in without)
        findings.append(
            Finding(
                "warning",
                "practices.no_pcn",
                f"{len(without):,} practices have no active PCN ({inactive:,} of them are also closed or not GP "
                "practices in epraccur); their patients count as unaligned",
                str(spec.path),
                tuple(without),
            )
        )
    return practices


def _attach_list_sizes(practices: pd.DataFrame, scenario: Scenario, findings: list[Finding]) -> pd.DataFrame:
    spec = scenario.inputs.practices.list_sizes
    if spec is None:
        practices[C.LIST_SIZE] = np.nan
        return practices
    sizes, found = readers.read_list_sizes(spec)
    findings += found
    practices = practices.merge(sizes, on=C.PRACTICE_CODE, how="left")
    missing = practices[C.LIST_SIZE].isna()
    if missing.any():
        findings.append(
            Finding(
                "warning",
                "practices.no_list_size",
                f"{int(missing.sum()):,} practices have no list size in the practice totals file",
                str(spec.path),
                codes(practices.loc[missing, C.PRACTICE_CODE]),
            )
        )
    return practices


def _load_registrations(
    scenario: Scenario,
    units: gpd.GeoDataFrame,
    practices: pd.DataFrame,
    findings: list[Finding],
    converter: vintage.VintageConverter,
) -> pd.DataFrame:
    spec = scenario.inputs.registrations
    empty = pd.DataFrame(
        {
            C.PRACTICE_CODE: pd.Series(dtype="string"),
            C.LSOA_CODE: pd.Series(dtype="string"),
            C.PATIENTS: pd.Series(dtype="float64"),
            C.PCN_CODE: pd.Series(dtype="string"),
        }
    )
    if spec is None:
        return empty
    registrations, found = readers.read_registrations(spec)
    findings += found
    path = str(spec.path)
    registrations = converter.counts(
        registrations, [C.PATIENTS], what="registrations", path=path, by=[C.PRACTICE_CODE]
    )
    known_lsoas = set(units[C.LSOA_CODE])
    outside = ~registrations[C.LSOA_CODE].isin(known_lsoas)
    if outside.any():
        outside_codes = registrations.loc[outside, C.LSOA_CODE]
        vintage = units.attrs.get("vintage", "2011")
        other = detect_other_vintage(outside_codes, vintage)
        note = (
            f"; {other:,} of these codes look like a different LSOA vintage than the {vintage} boundaries"
            if other
            else ""
        )
        share = registrations.loc[outside, C.PATIENTS].sum() / max(registrations[C.PATIENTS].sum(), 1)
        if bool(outside.all()):
            findings.append(
                Finding(
                    "error",
                    "registrations.no_match",
                    f"none of the {len(registrations):,} registration rows is for an LSOA of the boundaries; "
                    + _vintage_fix(vintage, "2021" if other else None, 1, 1),
                    path,
                    codes(outside_codes),
                )
            )
            return empty
        findings.append(
            Finding(
                "warning" if share > 0.05 else "info",
                "registrations.unknown_lsoa",
                f"{int(outside.sum()):,} rows ({int(registrations.loc[outside, C.PATIENTS].sum()):,} patients, "
                f"{share:.1%}) are for LSOAs outside the boundaries (residents outside the area){note}; they are "
                "left out of neighbourhood figures",
                path,
                codes(outside_codes),
            )
        )
    registrations = registrations[~outside]
    if len(practices):
        unknown = ~registrations[C.PRACTICE_CODE].isin(set(practices[C.PRACTICE_CODE]))
        if unknown.any():
            findings.append(
                Finding(
                    "warning",
                    "registrations.unknown_practice",
                    f"{int(unknown.sum()):,} rows ({int(registrations.loc[unknown, C.PATIENTS].sum()):,} patients) "
                    "name practices that are not active GP practices with a location; kept, with no PCN",
                    path,
                    codes(registrations.loc[unknown, C.PRACTICE_CODE]),
                )
            )
        pcn = practices.set_index(C.PRACTICE_CODE)[C.PCN_CODE]
        registrations = registrations.assign(
            **{C.PCN_CODE: registrations[C.PRACTICE_CODE].map(pcn).astype("string")}
        )
    else:
        registrations = registrations.assign(
            **{C.PCN_CODE: pd.Series(pd.NA, index=registrations.index, dtype="string")}
        )
    return registrations.reset_index(drop=True)


def detect_other_vintage(lsoa_codes: pd.Series, vintage: str) -> int:
    """How many distinct codes can only belong to the other LSOA vintage (2021-only codes vs 2011 boundaries)."""
    distinct = pd.Series(sorted(set(lsoa_codes.dropna())), dtype="string")
    numbers = pd.to_numeric(distinct.str[3:], errors="coerce")
    english = distinct.str.startswith("E01")
    if vintage == "2011":
        return int((english & (numbers > C.LSOA11_LAST_ENGLAND)).sum())
    return 0


# ---- optional inputs ---------------------------------------------------------------------------------------


def _load_demand(
    scenario: Scenario, units: gpd.GeoDataFrame, findings: list[Finding], converter: vintage.VintageConverter
) -> np.ndarray:
    """Combined demand score per LSOA: each indicator scaled to mean 1 over the area, weighted, summed."""
    indicators = scenario.inputs.demand.indicators
    if not indicators:
        return np.full(len(units), np.nan)
    total = np.zeros(len(units))
    weight_sum = 0.0
    for spec in indicators:
        frame, found = readers.read_indicator(spec)
        findings += found
        frame = converter.means(
            frame, ["value"], what=f"demand indicator {spec.column!r}", path=str(spec.path)
        )
        values = frame.set_index(C.LSOA_CODE)["value"].reindex(units[C.LSOA_CODE]).to_numpy(dtype=float)
        missing = np.isnan(values)
        if missing.any():
            findings.append(
                Finding(
                    "warning",
                    "demand.missing",
                    f"{int(missing.sum()):,} LSOAs have no value for {spec.column!r}; the area mean is used",
                    str(spec.path),
                    codes(units.loc[missing, C.LSOA_CODE]),
                )
            )
        if not spec.higher_is_more:
            values = np.nanmax(values) + np.nanmin(values) - values
        mean = np.nanmean(values) if (~missing).any() else 1.0
        scaled = np.where(missing, 1.0, values / mean if mean else 1.0)
        total += spec.weight * scaled
        weight_sum += spec.weight
    # demand in "person-equivalents": population x relative need, so it is comparable with population
    need = total / weight_sum if weight_sum else np.ones(len(units))
    return units[C.POPULATION].to_numpy(dtype=float) * need


def _load_imd(
    scenario: Scenario, units: gpd.GeoDataFrame, findings: list[Finding], converter: vintage.VintageConverter
) -> np.ndarray:
    spec = scenario.inputs.imd
    if spec is None:
        return np.full(len(units), np.nan)
    frame, found = readers.read_imd(spec)
    findings += found
    frame = converter.means(
        frame, [C.IMD_DECILE], what="IMD", path=str(spec.path), round_columns=[C.IMD_DECILE]
    )
    deciles = frame.set_index(C.LSOA_CODE)[C.IMD_DECILE].reindex(units[C.LSOA_CODE]).to_numpy(dtype=float)
    missing = np.isnan(deciles)
    if missing.any():
        findings.append(
            Finding(
                "warning",
                "imd.missing",
                f"{int(missing.sum()):,} LSOAs have no IMD decile (vintage mismatch?)",
                str(spec.path),
                codes(units.loc[missing, C.LSOA_CODE]),
            )
        )
    return deciles


def _load_baseline(
    scenario: Scenario,
    units: gpd.GeoDataFrame,
    registrations: pd.DataFrame,
    findings: list[Finding],
    converter: vintage.VintageConverter,
) -> np.ndarray:
    """Baseline neighbourhood per LSOA: the given map, else each LSOA's dominant PCN (most registered residents)."""
    spec = scenario.inputs.baseline
    if spec is not None:
        frame, found = readers.read_baseline(spec)
        findings += found
        frame = converter.labels(frame, C.NEIGHBOURHOOD, what="baseline", path=str(spec.path))
        labels = _match_baseline(frame, units, str(spec.path), findings)
    else:
        dominant = dominant_pcns(registrations)
        labels = dominant[C.PCN_CODE].reindex(units[C.LSOA_CODE]).astype("object")
    if scenario.weights.stability > 0 and not labels.notna().any():
        findings.append(
            Finding(
                "warning",
                "baseline.none",
                f"weights.stability is {scenario.weights.stability:g} but there is no baseline map, so the "
                "stability term is 0 and no change figures are written; give inputs.baseline (the current map) or "
                "the registrations and PCN membership",
                "",
            )
        )
    return labels.to_numpy(dtype=object)


#: A baseline map must give a unit to at least this share of the boundaries' residents to be compared with.
BASELINE_MIN_COVERAGE = 0.5


def _match_baseline(
    frame: pd.DataFrame, units: gpd.GeoDataFrame, path: str, findings: list[Finding]
) -> pd.Series:
    """The baseline file's unit per LSOA of the boundaries; its codes that match nothing and the LSOAs it misses are
    reported, and a map covering under :data:`BASELINE_MIN_COVERAGE` of the residents is an error."""
    labels = frame.set_index(C.LSOA_CODE)[C.NEIGHBOURHOOD].reindex(units[C.LSOA_CODE]).astype("object")
    covered = labels.notna().to_numpy()
    unmatched = frame.loc[~frame[C.LSOA_CODE].isin(set(units[C.LSOA_CODE])), C.LSOA_CODE]
    population = units[C.POPULATION].fillna(0).to_numpy(dtype=float)
    total, inside = float(population.sum()), float(population[covered].sum())
    share = inside / total if total > 0 else float(covered.mean()) if len(covered) else 0.0
    if share < BASELINE_MIN_COVERAGE:
        findings.append(
            Finding(
                "error",
                "baseline.coverage",
                f"the baseline map covers {inside:,.0f} of the boundaries' {total:,.0f} residents ({share:.0%}; "
                f"{int(covered.sum()):,} of {len(units):,} LSOAs), under the {BASELINE_MIN_COVERAGE:.0%} needed to "
                f"compare with it; {len(unmatched):,} of its {len(frame):,} LSOA codes are not in the boundaries. "
                "Check it is the current map for these boundaries and of their LSOA vintage (2011 vs 2021: convert "
                "it with the ONS LSOA lookup), or remove inputs.baseline to use today's PCN map",
                path,
                codes(unmatched),
            )
        )
        return labels
    if len(unmatched):
        findings.append(
            Finding(
                "warning",
                "baseline.unmatched",
                f"{len(unmatched):,} of the baseline map's {len(frame):,} LSOA codes are not in the boundaries; "
                "they are ignored (another LSOA vintage or area?)",
                path,
                codes(unmatched),
            )
        )
    if not covered.all():
        findings.append(
            Finding(
                "warning",
                "baseline.missing",
                f"{int((~covered).sum()):,} LSOAs ({total - inside:,.0f} residents) are not in the baseline map; "
                "they count as new, not moved",
                path,
                codes(units.loc[~covered, C.LSOA_CODE]),
            )
        )
    return labels


def _load_area_names(scenario: Scenario, units: gpd.GeoDataFrame, findings: list[Finding]) -> np.ndarray:
    """Recognisable area name of each LSOA, joined by LSOA code or, for names keyed by MSOA, by its MSOA code."""
    spec = scenario.inputs.area_names
    if spec is None:
        return np.full(len(units), None, dtype=object)
    frame, found = readers.read_area_names(spec)
    findings += found
    path = str(spec.path)
    names = frame.set_index(C.AREA_CODE)[C.AREA_NAME]
    by_lsoa = units[C.LSOA_CODE].isin(names.index).sum()
    if C.MSOA_CODE in units and units[C.MSOA_CODE].notna().any():
        by_msoa = units[C.MSOA_CODE].isin(names.index).sum()
    else:
        by_msoa = 0
    if by_lsoa == 0 and by_msoa == 0:
        keyed_by_msoa = frame[C.AREA_CODE].str.match(r"^[EW]02").any()
        fix = (
            "the boundaries have no MSOA code column to join them on: name it with inputs.units.columns.msoa_code"
            if keyed_by_msoa and C.MSOA_CODE not in units
            else "check the file covers this area and uses the boundaries' LSOA or MSOA codes"
        )
        findings.append(
            Finding(
                "error", "area_names.no_match", f"no area name matches an LSOA of the boundaries; {fix}", path
            )
        )
        return np.full(len(units), None, dtype=object)
    key = units[C.LSOA_CODE] if by_lsoa >= by_msoa else units[C.MSOA_CODE]
    joined = key.map(names)
    missing = joined.isna()
    if missing.any():
        findings.append(
            Finding(
                "info",
                "area_names.missing",
                f"{int(missing.sum()):,} LSOAs have no area name (their {'LSOA' if by_lsoa >= by_msoa else 'MSOA'} "
                "code is not in the file); neighbourhoods are named after the other areas they hold",
                path,
                codes(units.loc[missing.to_numpy(), C.LSOA_CODE]),
            )
        )
    return joined.astype("object").where(joined.notna(), None).to_numpy()


def dominant_pcns(registrations: pd.DataFrame) -> pd.DataFrame:
    """Each LSOA's dominant PCN: the PCN with most registered residents there (ties: lowest code).

    Returns a frame indexed by lsoa_code with pcn_code, patients (its residents registered in that PCN) and share
    (of the LSOA's residents registered in any PCN). The default baseline map and the reports both use this rule.
    """
    with_pcn = registrations.dropna(subset=[C.PCN_CODE])
    if with_pcn.empty:
        return pd.DataFrame(
            {C.PCN_CODE: pd.Series(dtype="object"), C.PATIENTS: pd.Series(dtype="float64"), "share": []},
            index=pd.Index([], name=C.LSOA_CODE, dtype="object"),
        )
    by_pcn = with_pcn.groupby([C.LSOA_CODE, C.PCN_CODE], as_index=False)[C.PATIENTS].sum()
    by_pcn["share"] = by_pcn[C.PATIENTS] / by_pcn.groupby(C.LSOA_CODE)[C.PATIENTS].transform("sum")
    by_pcn = by_pcn.sort_values(
        [C.LSOA_CODE, C.PATIENTS, C.PCN_CODE], ascending=[True, False, True], kind="stable"
    )
    return by_pcn.drop_duplicates(C.LSOA_CODE).set_index(C.LSOA_CODE)[[C.PCN_CODE, C.PATIENTS, "share"]]


def _load_hubs(
    scenario: Scenario, units: gpd.GeoDataFrame, practices: pd.DataFrame, findings: list[Finding]
) -> pd.DataFrame | None:
    spec = scenario.inputs.hubs
    if spec is None:
        return None
    if isinstance(spec, PracticeHubs):
        return _hubs_from_practices(spec, practices, findings)
    hubs, found = readers.read_hubs(spec)
    findings += found
    located = _locate(hubs, units)
    hubs = pd.concat([hubs, located], axis=1)
    outside = hubs[C.LSOA_CODE].isna() & hubs[C.X].notna()
    if outside.any():
        findings.append(
            Finding(
                _follow_on(findings),
                "hubs.outside_area",
                f"{int(outside.sum()):,} hubs lie outside every LSOA; "
                + _coordinates_fix(hubs.loc[outside], units, "inputs.hubs"),
                str(spec.path),
                codes(hubs.loc[outside, C.HUB_ID]),
            )
        )
    return hubs


def _hubs_from_practices(
    spec: PracticeHubs, practices: pd.DataFrame, findings: list[Finding]
) -> pd.DataFrame:
    """Candidate hubs at the practice sites: one a site (practices at the same location are one hub, named after
    the one with most patients), each practice's code as the hub id and its name and postcode as the hub name."""
    columns = [C.HUB_ID, C.HUB_NAME, C.X, C.Y, C.CAPACITY, C.REQUIRED, C.LSOA_CODE, C.PLACE_CODE]
    sited = practices[practices[C.LSOA_CODE].notna() & practices[C.X].notna()].copy()
    if sited.empty:
        findings.append(
            Finding(
                "error",
                "hubs.no_practice_sites",
                "inputs.hubs is {from: practices} but no practice has a site inside the area; give "
                "inputs.practices.locations, or a hubs file",
                "inputs.hubs",
            )
        )
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    registered = sited["registered"] if "registered" in sited else pd.Series(np.nan, index=sited.index)
    patients = sited[C.LIST_SIZE].astype(float).fillna(registered.astype(float)).fillna(0.0)
    sited["patients_for_hub"] = patients.to_numpy()
    small = sited["patients_for_hub"] < spec.min_list_size
    if small.any():
        findings.append(
            Finding(
                "info",
                "hubs.small_practices",
                f"{int(small.sum()):,} practice sites with fewer than {spec.min_list_size:,} patients are not "
                "candidate hubs (inputs.hubs.min_list_size)",
                "inputs.hubs",
                codes(sited.loc[small, C.PRACTICE_CODE]),
            )
        )
        sited = sited[~small]
    sited = sited.sort_values(
        [C.X, C.Y, "patients_for_hub", C.PRACTICE_CODE], ascending=[True, True, False, True], kind="stable"
    )
    sites = sited.drop_duplicates([C.X, C.Y])
    shared = len(sited) - len(sites)
    if shared:
        findings.append(
            Finding(
                "info",
                "hubs.shared_sites",
                f"{shared:,} practices share a site with a larger practice; each site is one candidate hub",
                "inputs.hubs",
            )
        )

    def display(row: pd.Series) -> str:
        name = str(row[C.PRACTICE_NAME]) if pd.notna(row[C.PRACTICE_NAME]) else str(row[C.PRACTICE_CODE])
        if name.isupper():
            name = _title(name)
        return f"{name} ({row[C.POSTCODE]})" if pd.notna(row[C.POSTCODE]) else name

    hubs = pd.DataFrame(
        {
            C.HUB_ID: sites[C.PRACTICE_CODE].astype(str),
            C.HUB_NAME: [display(row) for _, row in sites.iterrows()],
            C.X: sites[C.X].astype(float),
            C.Y: sites[C.Y].astype(float),
            C.CAPACITY: np.nan,
            C.REQUIRED: False,
            C.LSOA_CODE: sites[C.LSOA_CODE],
            C.PLACE_CODE: sites[C.PLACE_CODE],
        }
    )
    findings.append(
        Finding(
            "info",
            "hubs.from_practices",
            f"{len(hubs):,} candidate hubs at practice sites (inputs.hubs: from practices)",
            "inputs.hubs",
        )
    )
    return hubs.sort_values(C.HUB_ID).reset_index(drop=True)


#: Words kept in capitals when a practice name in capitals is written in title case.
_KEEP_UPPER = frozenset({"GP", "NHS", "PCN", "UK", "II", "III", "IV"})


def _title(name: str) -> str:
    """'THE OAKS MEDICAL CENTRE' -> 'The Oaks Medical Centre' (initialisms such as NHS and GP kept)."""
    return " ".join(word if word in _KEEP_UPPER else word.capitalize() for word in name.split())


def _follow_on(findings: list[Finding]) -> Severity:
    """Severity of a point-in-LSOA problem: an error, unless LSOAs were already left out for errors of their own.

    A hub or practice in an LSOA dropped for a broken geometry or a missing borough would otherwise be reported
    as a second, misleading error; then it is a warning and the LSOA's own error is the one to fix.
    """
    units_broken = any(f.severity == "error" and f.code.startswith("units.") for f in findings)
    return "warning" if units_broken else "error"


def _coordinates_fix(points: pd.DataFrame, units: gpd.GeoDataFrame, config_key: str) -> str:
    """How to fix points outside every LSOA: swapped columns when swapping puts them in the area, else the generic fix."""
    x0, y0, x1, y1 = units.total_bounds
    swapped = points[C.Y].between(x0, x1) & points[C.X].between(y0, y1)
    if len(points) and bool(swapped.all()):
        return (
            "their easting and northing look swapped (swapped, they fall inside the area): swap the two column "
            f"names, or name them with {config_key}.columns.x / .y"
        )
    return (
        f"fix their coordinates (easting/northing in metres, or latitude/longitude in degrees; the area spans "
        f"easting {x0:,.0f}..{x1:,.0f}, northing {y0:,.0f}..{y1:,.0f}) or remove them"
    )


def _load_locks(
    scenario: Scenario,
    units: gpd.GeoDataFrame,
    hubs: pd.DataFrame | None,
    findings: list[Finding],
    converter: vintage.VintageConverter,
) -> pd.DataFrame | None:
    spec = scenario.inputs.locks
    if spec is None:
        return None
    locks, found = readers.read_locks(spec)
    findings += found
    path = str(spec.path)
    locks = converter.labels(locks, C.HUB_ID, what="locks", path=path)
    unknown_lsoa = ~locks[C.LSOA_CODE].isin(set(units[C.LSOA_CODE]))
    if unknown_lsoa.any():
        findings.append(
            Finding(
                "error",
                "locks.unknown_lsoa",
                "locks name LSOAs not in the boundaries; fix the codes",
                path,
                codes(locks.loc[unknown_lsoa, C.LSOA_CODE]),
            )
        )
    if hubs is None:
        findings.append(
            Finding("error", "locks.no_hubs", "locks name hubs but no hubs file is given (inputs.hubs)", path)
        )
    else:
        unknown_hub = ~locks[C.HUB_ID].isin(set(hubs[C.HUB_ID]))
        if unknown_hub.any():
            findings.append(
                Finding(
                    "error",
                    "locks.unknown_hub",
                    "locks name hubs that are not in the hubs file",
                    path,
                    codes(locks.loc[unknown_hub, C.HUB_ID]),
                )
            )
    return locks
