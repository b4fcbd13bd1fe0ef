"""Each reader on a small fixture in the real layout, including the quirks real files have."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point, box

from footprint import readers
from footprint.config import Indicator, TableInput
from footprint.errors import InputDataError
from tiny import grid_units


def spec(path: Path, **kwargs) -> TableInput:
    return TableInput(path=path, **kwargs)


def epraccur_row(code: str, status: str = "A", setting: str = "4") -> str:
    fields = [""] * 27
    fields[0], fields[1], fields[9], fields[12], fields[25] = (
        code,
        f"PRACTICE {code}",
        "E1 1AA",
        status,
        setting,
    )
    return ",".join(f'"{value}"' for value in fields)


def test_epraccur_keeps_active_gp_practices(tmp_path: Path) -> None:
    path = tmp_path / "epraccur.csv"
    rows = [
        epraccur_row("A1"),
        epraccur_row("A2", "C"),
        epraccur_row("A3", "A", "0"),
        epraccur_row("A4", "ACTIVE", "RO76"),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    practices, findings = readers.read_epraccur(path)
    assert practices["practice_code"].tolist() == ["A1", "A4"]
    assert practices.loc[0, "postcode"] == "E1 1AA"
    assert (
        "kept 2 GP practices of 4 rows (1 other settings, 1 inactive GP practices dropped)"
        in findings[0].message
    )
    inactive, _ = readers.read_epraccur(path, include_inactive=True)
    assert inactive["practice_code"].tolist() == ["A1", "A2", "A4"]


def test_epraccur_with_too_few_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "epraccur.csv"
    path.write_text('"A1","NAME"\n', encoding="utf-8")
    with pytest.raises(InputDataError, match="epraccur has 2 columns, expected the NHS ODS layout's 27"):
        readers.read_epraccur(path)


def write_epcn(path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "PCNDetails"
    sheet = workbook.create_sheet("PCN Core Partner Details")
    sheet.append(
        [
            "Partner\nOrganisation\nCode",
            "Partner\nName",
            "PCN Code",
            "PCN Name",
            "Practice to PCN\nRelationship\nStart Date",
            "Practice to PCN\nRelationship\nEnd Date",
        ]
    )
    sheet.append(["P1", "One", "U1", "NORTH PCN", 20190701, None])
    sheet.append(["P2", "Two", "U1", "NORTH PCN", 20190701, 20210331])
    sheet.append(["P2", "Two", "U2", "SOUTH PCN", 20210401, None])
    sheet.append(["P3", "Three", "U2", "SOUTH PCN", 20190701, None])
    workbook.save(path)


def test_epcn_active_rows_only_with_line_breaks_in_headers(tmp_path: Path) -> None:
    path = tmp_path / "ePCN.xlsx"
    write_epcn(path)
    membership, findings = readers.read_pcn_membership(spec(path))
    assert membership.to_dict("list") == {
        "practice_code": ["P1", "P2", "P3"],
        "pcn_code": ["U1", "U2", "U2"],
        "pcn_name": ["NORTH PCN", "SOUTH PCN", "SOUTH PCN"],
    }
    assert findings[0].message == "dropped 1 practice-to-PCN rows with an end date (past memberships)"


def test_plain_pcn_csv(tmp_path: Path) -> None:
    path = tmp_path / "pcns.csv"
    path.write_text("practice,pcn\nP1,U1\nP2,U1\n", encoding="utf-8")
    membership, _ = readers.read_pcn_membership(spec(path))
    assert membership["pcn_code"].tolist() == ["U1", "U1"]
    assert membership["pcn_name"].tolist() == ["U1", "U1"]


def test_missing_sheet_names_the_sheets(tmp_path: Path) -> None:
    path = tmp_path / "ePCN.xlsx"
    write_epcn(path)
    with pytest.raises(
        InputDataError, match=r"no sheet 'Nope'; sheets are 'PCNDetails', 'PCN Core Partner Details'"
    ):
        readers.read_pcn_membership(spec(path, sheet="Nope"))


@pytest.mark.parametrize("count_header", ["NUMBER_OF_PATIENTS", "Number of Patients"])
def test_registrations_layouts_and_pseudo_lsoas(tmp_path: Path, count_header: str) -> None:
    path = tmp_path / "reg.csv"
    path.write_text(
        f"PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,LSOA_CODE,SEX,{count_header}\n"
        "X,01May2022,P1,One,E01000001,ALL,100\n"
        "X,01May2022,P1,One,E01000001,MALE,40\n"
        "X,01May2022,P1,One,CLOSED,ALL,5\n"
        "X,01May2022,P1,One,NO2011,ALL,3\n"
        "X,01May2022,P2,Two,E01000003,ALL,0\n"
        'X,01May2022,P2,Two,E01000002,ALL,"1,234"\n',
        encoding="utf-8",
    )
    registrations, findings = readers.read_registrations(spec(path))
    assert registrations.to_dict("list") == {
        "practice_code": ["P1", "P2"],
        "lsoa_code": ["E01000001", "E01000002"],
        "patients": [100.0, 1234.0],
    }
    pseudo = next(f for f in findings if f.code == "registrations.pseudo_lsoa")
    assert pseudo.items == ("CLOSED", "NO2011") and pseudo.n == 2


def test_population_with_bom_and_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_bytes(
        "\ufeffLSOA11CD,LSOA11NM,Persons_All-Ages,Persons_0-15,Persons_65+\n".encode()
        + 'E01000001,Caf\xe9 001A,"1,749",296,455\n'.encode("cp1252")
    )
    population, findings = readers.read_population(spec(path))
    assert population.loc[0, "lsoa_code"] == "E01000001"
    assert population.loc[0, "population"] == 1749.0
    assert population.loc[0, "pop_65_plus"] == 455.0
    assert findings == []


def test_semicolon_delimited_csv(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("LSOA21CD;Total\nE01000001;1500\n", encoding="utf-8")
    population, _ = readers.read_population(spec(path))
    assert population.loc[0, "population"] == 1500.0


def test_missing_column_lists_the_aliases_tried(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("LSOA11CD,Females\nE01000001,800\n", encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        readers.read_population(spec(path))
    message = str(caught.value)
    assert message.startswith(
        f"{path}: no column for residents, all ages (population); tried aliases personsallages"
    )
    assert message.endswith(
        "on columns 'LSOA11CD', 'Females'; name it with inputs.population.columns.population."
    )


def test_configured_column_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("code,people\nE01000001,800\n", encoding="utf-8")
    population, _ = readers.read_population(spec(path, columns={"population": "people"}))
    assert population.loc[0, "population"] == 800.0
    with pytest.raises(
        InputDataError,
        match=r"column 'folk' \(set as inputs.population.columns.population\) is not in the file",
    ):
        readers.read_population(spec(path, columns={"population": "folk"}))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "population file is empty"),
        (b"\x00\x01\x02binary", "population file is binary, not CSV text"),
        (b"LSOA11CD,Persons_All-Ages\n", "population file has a header but no rows"),
    ],
)
def test_unreadable_text_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "pop.csv"
    path.write_bytes(content)
    with pytest.raises(InputDataError, match=message):
        readers.read_population(spec(path))


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"population file not found; check the path"):
        readers.read_population(spec(tmp_path / "nope.csv"))
    odd = tmp_path / "pop.parquet"
    odd.write_bytes(b"PAR1")
    with pytest.raises(InputDataError, match=r"extension '.parquet', which footprint cannot read"):
        readers.read_population(spec(odd))


def test_units_vintage_and_reprojection(tmp_path: Path) -> None:
    units = grid_units()
    path = tmp_path / "lsoas.geojson"
    units.to_crs("EPSG:4326").to_file(path, engine="pyogrio")
    read, findings = readers.read_units(spec(path))
    assert read.crs.to_epsg() == 27700
    assert read.attrs["vintage"] == "2021"
    assert read.total_bounds == pytest.approx(units.total_bounds, abs=0.5)
    assert list(read.columns[:4]) == ["lsoa_code", "lsoa_name", "lad_code", "lad_name"]
    assert findings[0].message == "LSOA 2021 boundaries (LSOA21CD)"


def test_units_2011_codes_detected_from_codes(tmp_path: Path) -> None:
    units = gpd.GeoDataFrame(
        {"code": ["E01000001", "E01000002"], "lad": ["E09000001", "E09000001"]},
        geometry=[box(530_000, 180_000, 531_000, 181_000), box(531_000, 180_000, 532_000, 181_000)],
        crs="EPSG:27700",
    )
    path = tmp_path / "u.gpkg"
    units.to_file(path, engine="pyogrio")
    read, _ = readers.read_units(spec(path, columns={"lsoa_code": "code", "lad_code": "lad"}))
    assert read.attrs["vintage"] == "2011"


def test_units_missing_crs_is_an_error_naming_the_likely_crs_and_the_setting(tmp_path: Path) -> None:
    units = grid_units().set_crs(None, allow_override=True)
    path = tmp_path / "u.shp"
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", UserWarning
        )  # geopandas warns that the file will have no CRS: intended
        units.to_file(path, engine="pyogrio")
    with pytest.raises(InputDataError) as caught:
        readers.read_units(spec(path))
    assert str(caught.value) == (
        f"{path}: the file has no coordinate reference system (CRS; a shapefile needs its .prj file) and its "
        "coordinates (x 530000..534000, y 180000..183000) cannot be placed: they look like British National Grid "
        "metres, so set inputs.units.crs: EPSG:27700, or re-export the file with its CRS."
    )
    read, _ = readers.read_units(spec(path, crs="EPSG:27700"))
    assert read.crs.to_epsg() == 27700
    assert read.total_bounds.tolist() == [530000, 180000, 534000, 183000]


def test_units_crs_setting_overrides_a_wrong_one(tmp_path: Path) -> None:
    units = grid_units().to_crs("EPSG:4326").set_crs("EPSG:27700", allow_override=True)
    path = tmp_path / "u.gpkg"
    units.to_file(path, engine="pyogrio")
    read, _ = readers.read_units(spec(path, crs="EPSG:4326"))
    assert read.total_bounds == pytest.approx([530000, 180000, 534000, 183000], abs=0.01)
    with pytest.raises(
        InputDataError, match=r"inputs.units.crs 'EPSG:0' is not a coordinate reference system"
    ):
        readers.read_units(spec(path, crs="EPSG:0"))


def test_units_declared_bng_but_degrees_is_an_error(tmp_path: Path) -> None:
    units = grid_units().to_crs("EPSG:4326").set_crs("EPSG:27700", allow_override=True)
    path = tmp_path / "u.gpkg"
    units.to_file(path, engine="pyogrio")
    with pytest.raises(
        InputDataError, match=r"says EPSG:27700 but its coordinates look like longitude/latitude"
    ):
        readers.read_units(spec(path))


def test_units_without_geometry_rejected(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("LSOA11CD,LAD11CD\nE01000001,E09000001\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="LSOA boundaries have no geometry"):
        readers.read_units(spec(path))


def test_practice_locations_latlong_and_bng(tmp_path: Path) -> None:
    path = tmp_path / "loc.csv"
    path.write_text(
        "PRACTICE_CODE,PRACTICE_NAME,POSTCODE,LATITUDE,LONGITUDE\nE83003,Oakleigh,N20 0DH,51.6243,-0.1590\nBAD,Bad,X,95,0\n",
        encoding="utf-8",
    )
    locations, findings = readers.read_practice_locations(spec(path))
    assert locations.loc[0, "x"] == pytest.approx(527_530, abs=50)
    assert locations.loc[0, "y"] == pytest.approx(193_330, abs=50)
    assert pd.isna(locations.loc[1, "x"])
    assert findings[0].items == ("BAD",)
    bng = tmp_path / "bng.csv"
    bng.write_text("code,easting,northing\nE1,530000,180000\n", encoding="utf-8")
    located, _ = readers.read_practice_locations(spec(bng))
    assert (located.loc[0, "x"], located.loc[0, "y"]) == (530_000.0, 180_000.0)


def test_hubs_csv_and_geojson(tmp_path: Path) -> None:
    path = tmp_path / "hubs.csv"
    path.write_text(
        "hub_id,hub_name,easting,northing,capacity,required\nH2,Two,530500,180500,,yes\nH1,One,531500,180500,40000,\n",
        encoding="utf-8",
    )
    hubs, findings = readers.read_hubs(spec(path))
    assert hubs["hub_id"].tolist() == ["H1", "H2"]
    assert hubs["required"].tolist() == [False, True]
    assert hubs.loc[0, "capacity"] == 40_000 and pd.isna(hubs.loc[1, "capacity"])
    assert findings == []
    geo = tmp_path / "hubs.geojson"
    gpd.GeoDataFrame(
        {"id": ["H9"], "name": ["Nine"]}, geometry=[Point(530500, 180500)], crs="EPSG:27700"
    ).to_crs(4326).to_file(geo, engine="pyogrio")
    hubs, _ = readers.read_hubs(spec(geo))
    assert hubs.loc[0, "x"] == pytest.approx(530_500, abs=0.01)


def test_hubs_duplicate_ids_reported(tmp_path: Path) -> None:
    path = tmp_path / "hubs.csv"
    path.write_text("hub_id,easting,northing\nH1,530100,180100\nH1,530200,180200\n", encoding="utf-8")
    _, findings = readers.read_hubs(spec(path))
    assert [(f.severity, f.code, f.items) for f in findings] == [("error", "hubs.duplicate_key", ("H1",))]


def test_list_sizes_keep_all_rows(tmp_path: Path) -> None:
    path = tmp_path / "sizes.csv"
    path.write_text(
        "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
        "G,01May2022,GP,00L,E1,P1,NE1,ALL,ALL,5983\nG,01May2022,GP,00L,E1,P1,NE1,MALE,ALL,3000\n",
        encoding="utf-8",
    )
    sizes, _ = readers.read_list_sizes(spec(path))
    assert sizes.to_dict("list") == {"practice_code": ["P1"], "list_size": [5983.0]}


def test_demand_indicator_and_imd(tmp_path: Path) -> None:
    path = tmp_path / "ckd.csv"
    path.write_text(
        '"LSOA_CODE","CKD: QOF prevalence (18+ yrs)"\n"E01000001",0.0237\n"E01000002",x\n', encoding="utf-8"
    )
    values, findings = readers.read_indicator(Indicator(path=path, column="CKD: QOF prevalence (18+ yrs)"))
    assert values["value"].iloc[0] == pytest.approx(0.0237)
    assert findings[0].items == ("E01000002",)
    imd = tmp_path / "imd.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    sheet = workbook.create_sheet("IMD2019")
    sheet.append(
        [
            "LSOA code (2011)",
            "LSOA name (2011)",
            "Index of Multiple Deprivation (IMD) Rank",
            "Index of Multiple Deprivation (IMD) Decile",
        ]
    )
    sheet.append(["E01000001", "City 001A", 29199, 9])
    workbook.save(imd)
    deciles, _ = readers.read_imd(spec(imd))
    assert deciles.to_dict("list") == {"lsoa_code": ["E01000001"], "imd_decile": [9.0]}


def test_registrations_split_by_sex_without_all_rows_are_summed_not_duplicates(tmp_path: Path) -> None:
    """A file with only MALE and FEMALE rows has each practice-LSOA pair twice: that is a split, not a repeat."""
    path = tmp_path / "reg.csv"
    path.write_text(
        "PRACTICE_CODE,LSOA_CODE,SEX,NUMBER_OF_PATIENTS\n"
        "P1,E01000001,MALE,40\nP1,E01000001,FEMALE,60\nP2,E01000001,MALE,5\nP2,E01000001,FEMALE,5\n",
        encoding="utf-8",
    )
    registrations, findings = readers.read_registrations(spec(path))
    assert registrations["patients"].tolist() == [100.0, 10.0]
    assert [f for f in findings if f.severity != "info"] == []
    path.write_text(path.read_text() + "P1,E01000001,FEMALE,61\n", encoding="utf-8")
    _, findings = readers.read_registrations(spec(path))
    assert [(f.severity, f.code, f.items) for f in findings] == [
        ("error", "registrations.duplicate_key", ("P1/E01000001/FEMALE",))
    ]


def test_registrations_male_rows_do_not_count_as_repeats_of_all_rows(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text(
        "PRACTICE_CODE,LSOA_CODE,SEX,NUMBER_OF_PATIENTS\nP1,E01000001,ALL,100\nP1,E01000001,MALE,100\n"
        "P1,E01000001,FEMALE,0\n",
        encoding="utf-8",
    )
    registrations, findings = readers.read_registrations(spec(path))
    assert registrations["patients"].tolist() == [100.0]
    assert [f for f in findings if f.severity != "info"] == []


@pytest.mark.parametrize(
    "text",
    [
        "lsoa_code,place\nE01000001,P1\nE01000002,P1\nE01000003,P2",  # complete, no final line break
        "hub_id,name\nH10,Ten\nH11,Eleven\nH1,One",  # a short id that starts another is not a cut
        "code,population\nE01000001,10000\nE01000002,10000\nE01000003,999",  # numbers never tell
        "code,name\nE01000001,Old Quay North\nE01000002,Eastgate\nE01000003,Old Quay",  # a whole name
    ],
)
def test_a_file_without_a_final_line_break_is_not_taken_for_truncated(tmp_path: Path, text: str) -> None:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    assert len(readers.read_text_table(path, what="table")) == 3


@pytest.mark.parametrize(
    "text, value",
    [
        ("lad,place\nE09000001,P0001\nE09000002,P0001\nE09000003,P00", "'P00'"),
        (
            "lad,name\nE09000001,City and Hackney\nE09000002,Camden\nE09000012,City and Hack",
            "'City and Hack'",
        ),
    ],
)
def test_a_file_cut_inside_its_last_value_is_truncated(tmp_path: Path, text: str, value: str) -> None:
    path = tmp_path / "lookup.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        readers.read_text_table(path, what="place lookup")
    assert str(caught.value) == (
        f"{path}: place lookup file ends in the middle of line 4 (its last value {value} looks cut short against "
        "the other values of its column); the file looks truncated: copy or export it again."
    )


@pytest.mark.parametrize(
    "column, low, high, whole",
    [
        ("Index of Multiple Deprivation (IMD) Decile", 1, 10, True),
        ("proportion_aged_65_plus", 0, 1, False),
        ("Share of residents", 0, 1, False),
        ("% smokers", 0, 100, False),
        ("CKD: QOF prevalence (18+ yrs)", 0, 100, False),
        ("emergency admissions per 1,000", 0, None, False),
    ],
)
def test_indicator_range_follows_the_column_name(
    column: str, low: float, high: float | None, whole: bool
) -> None:
    assert readers.indicator_range(column)[:3] == (low, high, whole)


def test_units_feature_repeated_exactly_is_read_once_with_a_warning(tmp_path: Path) -> None:
    units = grid_units()
    path = tmp_path / "lsoas.gpkg"
    pd.concat([units, units.iloc[[1]]]).to_file(path, engine="pyogrio")
    read, findings = readers.read_units(spec(path))
    assert len(read) == 12
    assert read.attrs["vintage"] == "2021"
    assert [(f.severity, f.code, f.items) for f in findings if f.severity != "info"] == [
        ("warning", "units.repeated_rows", (units.iloc[1]["LSOA21CD"],))
    ]
