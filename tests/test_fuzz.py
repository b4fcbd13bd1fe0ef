"""Fuzzing (hypothesis): the scenario loader and every reader raise nothing but footprint's own errors.

Random bytes, random text and random but plausible tables (headers drawn from the real aliases, values drawn
from codes, numbers, blanks and junk) go into each reader; random YAML documents (keys drawn from the schema)
go into the scenario loader. Each either returns or raises a :class:`~footprint.errors.FootprintError`; any other
exception (or warning, which pytest turns into an error here) is a bug that would reach the user as a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footprint import readers
from footprint.config import Indicator, PlacesInput, Scenario, TableInput, load_scenario
from footprint.errors import FootprintError

FUZZ = settings(
    max_examples=int(os.environ.get("FOOTPRINT_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def call(reader: Callable[[], object]) -> None:
    """Run ``reader``; footprint's own errors are the accepted way to refuse an input."""
    try:
        reader()
    except FootprintError as error:
        assert str(error).strip(), "errors must carry a message"


# ---- readers -----------------------------------------------------------------------------------------------

READERS: dict[str, Callable[[Path], object]] = {
    "population": lambda p: readers.read_population(TableInput(path=p)),
    "registrations": lambda p: readers.read_registrations(TableInput(path=p)),
    "pcns": lambda p: readers.read_pcn_membership(TableInput(path=p)),
    "list_sizes": lambda p: readers.read_list_sizes(TableInput(path=p)),
    "hubs": lambda p: readers.read_hubs(TableInput(path=p)),
    "practice_locations": lambda p: readers.read_practice_locations(TableInput(path=p)),
    "locks": lambda p: readers.read_locks(TableInput(path=p)),
    "baseline": lambda p: readers.read_baseline(TableInput(path=p)),
    "places": lambda p: readers.read_place_lookup(PlacesInput(lookup=p)),
    "demand": lambda p: readers.read_indicator(Indicator(path=p, column="value")),
    "imd": lambda p: readers.read_imd(TableInput(path=p)),
    "epraccur": lambda p: readers.read_epraccur(p),
    "units": lambda p: readers.read_units(TableInput(path=p)),
}
#: Headers a fuzzed table draws from: every alias the readers know (as written in real files) plus junk.
HEADERS = [
    "LSOA11CD",
    "LSOA21CD",
    "LSOA_CODE",
    "LSOA code",
    "LAD22CD",
    "LAD22NM",
    "Persons_All-Ages",
    "Persons_0-15",
    "Persons_65+",
    "PRACTICE_CODE",
    "CODE",
    "NUMBER_OF_PATIENTS",
    "SEX",
    "AGE",
    "PCN Code",
    "PCN Name",
    "Partner\nOrganisation\nCode",
    "Practice to PCN\nRelationship\nEnd Date",
    "hub_id",
    "name",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "capacity",
    "required",
    "place_code",
    "place_name",
    "neighbourhood",
    "value",
    "Index of Multiple Deprivation (IMD) Decile",
    "",
    "x",
    "é",
]
VALUES = st.one_of(
    st.sampled_from(["E01000001", "E01900003", "E09000001", "P1", "U1", "ALL", "MALE", "A", "4", "yes"]),
    st.sampled_from(["", " ", "NaN", "inf", "-inf", "1e400", "-5", "0", "1,234", "nan", "None", '"', "\n"]),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=12),
)


#: The columns each reader needs, as real files name them, so fuzzed tables get past the header check often.
NEEDS = {
    "population": ["LSOA21CD", "Persons_All-Ages", "Persons_0-15"],
    "registrations": ["PRACTICE_CODE", "LSOA_CODE", "NUMBER_OF_PATIENTS", "SEX"],
    "pcns": [
        "Partner\nOrganisation\nCode",
        "PCN Code",
        "PCN Name",
        "Practice to PCN\nRelationship\nEnd Date",
    ],
    "list_sizes": ["CODE", "NUMBER_OF_PATIENTS", "SEX", "AGE"],
    "hubs": ["hub_id", "name", "easting", "northing", "capacity", "required"],
    "practice_locations": ["PRACTICE_CODE", "latitude", "longitude"],
    "locks": ["LSOA21CD", "hub_id"],
    "baseline": ["LSOA21CD", "neighbourhood"],
    "places": ["LAD22CD", "place_code", "place_name"],
    "demand": ["LSOA21CD", "value"],
    "imd": ["LSOA code", "Index of Multiple Deprivation (IMD) Decile"],
    "epraccur": ["E81001"] * 27,
    "units": ["LSOA21CD", "LAD22CD"],
}


@st.composite
def tables(draw: st.DrawFn, needs: list[str] = ()) -> str:
    """CSV text with headers drawn from the aliases (mostly the reader's own) and rows of uneven length."""
    extra = draw(st.lists(st.sampled_from(HEADERS), max_size=3))
    own = [header for header in needs if draw(st.integers(0, 9)) > 0]
    headers = draw(st.permutations(own + extra)) or ["x"]
    rows = draw(st.lists(st.lists(VALUES, min_size=0, max_size=len(headers) + 1), max_size=6))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(headers)
    writer.writerows(rows)
    text = out.getvalue()
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # truncated
    return text


ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"])


@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.binary(max_size=400))
def test_readers_on_random_bytes(name: str, data: bytes, tmp_path: Path) -> None:
    suffix = ".geojson" if name == "units" else ".csv"
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    call(lambda: READERS[name](path))


@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.data(), encoding=ENCODINGS)
def test_readers_on_random_tables(name: str, data: st.DataObject, encoding: str, tmp_path: Path) -> None:
    text = data.draw(tables(NEEDS[name]))
    path = tmp_path / "input.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    call(lambda: READERS[name](path))  # units: a CSV has no geometry, which must be said, not crash


@pytest.mark.parametrize("suffix", [".xlsx", ".gpkg", ".shp", ".geojson"])
@FUZZ
@given(
    data=st.binary(max_size=600), prefix=st.sampled_from([b"", b"PK\x03\x04", b"SQLite format 3\x00", b"{"])
)
def test_binary_formats_on_random_bytes(suffix: str, data: bytes, prefix: bytes, tmp_path: Path) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(prefix + data)
    if suffix == ".xlsx":
        call(lambda: readers.read_population(TableInput(path=path)))
    else:
        call(lambda: readers.read_units(TableInput(path=path)))


COORDINATES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.sampled_from([0.0, 530000.0, 180000.0, -0.1, 51.5, 1e308]),
)
RINGS = st.lists(st.tuples(COORDINATES, COORDINATES).map(list), min_size=0, max_size=6)


@st.composite
def feature_collections(draw: st.DrawFn) -> str:
    """GeoJSON with random properties (from the aliases) and random, often invalid, polygons."""
    features = []
    for _ in range(draw(st.integers(0, 4))):
        properties = {
            key: draw(st.one_of(st.none(), VALUES, st.integers(-5, 10**9)))
            for key in draw(st.lists(st.sampled_from(HEADERS), max_size=5))
        }
        kind = draw(st.sampled_from(["Polygon", "Point", "LineString", None]))
        if kind is None:
            geometry = None
        elif kind == "Point":
            geometry = {"type": "Point", "coordinates": [draw(COORDINATES), draw(COORDINATES)]}
        elif kind == "LineString":
            geometry = {"type": "LineString", "coordinates": draw(RINGS)}
        else:
            ring = draw(RINGS)
            geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]] if ring else []]}
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    document: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if draw(st.booleans()):
        document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    return json.dumps(document)


@FUZZ
@given(text=feature_collections(), columns=st.booleans())
def test_units_reader_on_random_geojson(text: str, columns: bool, tmp_path: Path) -> None:
    path = tmp_path / "units.geojson"
    path.write_text(text, encoding="utf-8")
    spec = TableInput(path=path, columns={"lsoa_code": "LSOA21CD", "lad_code": "LAD22CD"} if columns else {})
    call(lambda: readers.read_units(spec))


# ---- the scenario loader ------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.sampled_from(["units.gpkg", "../x.csv", "~/y.csv", "EPSG:27700", "auto", "highs", "60000"]),
)


def schema_keys() -> list[str]:
    """Every key name the schema knows, at any depth, plus near misses."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    names.update(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(Scenario.model_json_schema())
    return sorted(names | {"pcnn", "colums", "extends", "path"})


KEYS = st.sampled_from(schema_keys())
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=12,
)


@FUZZ
@given(
    document=st.dictionaries(KEYS, DOCUMENTS, max_size=6),
    overrides=st.lists(st.text(max_size=15), max_size=2),
)
def test_scenario_loader_on_random_documents(document: dict, overrides: list[str], tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    call(lambda: load_scenario(path, overrides=overrides))


@FUZZ
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_scenario_loader_on_random_text(text: str, tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    call(lambda: load_scenario(path))


# ---- the whole load-and-validate stage, on the corpus's valid scenario with one cell or row changed ----------

BASE = Path(__file__).resolve().parent / "bad_inputs" / "base"
TABLES = {
    "units": "lsoas.geojson",
    "population": "population.csv",
    "practices": "practices.csv",
    "pcns": "pcns.csv",
    "registrations": "registrations.csv",
    "hubs": "hubs.csv",
}


@settings(
    max_examples=int(os.environ.get("FOOTPRINT_FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), table=st.sampled_from(sorted(TABLES)), edit=st.sampled_from(["cell", "drop", "copy"]))
def test_validation_of_a_scenario_with_one_value_changed(
    data: st.DataObject, table: str, edit: str, tmp_path: Path
) -> None:
    """Whatever one cell, or one row, of one input says, validation reports it or raises a FootprintError."""
    from footprint.validate import validate_scenario

    if table == "units":
        document = json.loads((BASE / TABLES[table]).read_text(encoding="utf-8"))
        features = document["features"]
        feature = data.draw(st.integers(0, len(features) - 1))
        if edit == "cell":
            key = data.draw(st.sampled_from(sorted(features[feature]["properties"])))
            features[feature]["properties"][key] = data.draw(st.one_of(st.none(), VALUES))
        elif edit == "drop":
            del features[feature]
        else:
            features.append(features[feature])
        (tmp_path / TABLES[table]).write_text(json.dumps(document), encoding="utf-8")
    else:
        rows = list(csv.reader(io.StringIO((BASE / TABLES[table]).read_text(encoding="utf-8"))))
        row = data.draw(st.integers(1, len(rows) - 1))
        if edit == "cell":
            column = data.draw(st.integers(0, len(rows[0]) - 1))
            rows[row][column] = data.draw(VALUES)
        elif edit == "drop":
            del rows[row]
        else:
            rows.append(list(rows[row]))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        (tmp_path / TABLES[table]).write_text(out.getvalue(), encoding="utf-8")
    section = {"practices": "practices:\n    locations"}.get(table, table)
    config = tmp_path / "scenario.yaml"
    config.write_text(
        f"extends: {BASE / 'scenario.yaml'}\ninputs:\n  {section}: {{path: {TABLES[table]}}}\n",
        encoding="utf-8",
    )
    call(lambda: validate_scenario(load_scenario(config)))
