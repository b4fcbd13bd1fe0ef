"""LSOA vintages: the lookup, detection and conversion of every kind of LSOA-keyed input, both directions.

The hand-made lookup (2011 codes E010000k, new 2021 codes E0104000k) has one case of each ONS change::

    2011        CHGIND   2021                  2021 area (km2)
    E01000001   U        E01000001             1
    E01000002   S        E01040001, E01040002  1, 3      (split 1 : 3 by area)
    E01000003   M        E01040003             1         (3 and 4 merged)
    E01000004   M        E01040003
    E01000005   X        E01040004, E01040005  2, 2      (5 -> 4 whole, 5 -> 5 shared with 6: weights 2 : 1)
    E01000006   X        E01040005

The 2021 boundaries are a strip of 1 km high boxes in that order (x = 0..10 km), in one borough.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from footprint import columns as C
from footprint.cli import app
from footprint.config import TableInput, load_scenario
from footprint.errors import InputDataError
from footprint.validate import validate_scenario
from footprint.vintage import (
    VintageConverter,
    apportion_counts,
    build_pairs,
    detect_file_vintage,
    majority_by_population,
    mean_by_population,
    read_lsoa_lookup,
)

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()

LOOKUP = [
    ("E01000001", "E01000001", "U"),
    ("E01000002", "E01040001", "S"),
    ("E01000002", "E01040002", "S"),
    ("E01000003", "E01040003", "M"),
    ("E01000004", "E01040003", "M"),
    ("E01000005", "E01040004", "X"),
    ("E01000005", "E01040005", "X"),
    ("E01000006", "E01040005", "X"),
]
#: 2021 LSOA -> (x from, x to) of its box (km).
STRIP = {
    "E01000001": (0, 1),
    "E01040001": (1, 2),
    "E01040002": (2, 5),
    "E01040003": (5, 6),
    "E01040004": (6, 8),
    "E01040005": (8, 10),
}
AREA_2021 = pd.Series({code: float(x1 - x0) for code, (x0, x1) in STRIP.items()})
#: Residents of the 2011 LSOAs.
POP_2011 = {
    "E01000001": 1000,
    "E01000002": 1001,
    "E01000003": 500,
    "E01000004": 1500,
    "E01000005": 999,
    "E01000006": 100,
}


def lookup_frame() -> pd.DataFrame:
    return pd.DataFrame(LOOKUP, columns=[C.LSOA11_CODE, C.LSOA21_CODE, C.CHANGE])


def pairs_2011_to_2021() -> pd.DataFrame:
    return build_pairs(lookup_frame(), "2011", AREA_2021)


def by_code(frame: pd.DataFrame, column: str) -> dict[str, object]:
    return dict(zip(frame[C.LSOA_CODE], frame[column], strict=True))


# ---- the lookup and its weights ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "LSOA11CD,LSOA11NM,LSOA21CD,LSOA21NM,CHGIND,LAD22CD,LAD22NM,ObjectId",
        "lsoa11cd,lsoa11nm,lsoa21cd,lsoa21nm,chgind,lad22cd,lad22nm,ObjectId",
        "LSOA 2011 Code,LSOA 2011 Name,LSOA 2021 Code,LSOA 2021 Name,Change Indicator,LAD22CD,LAD22NM,ObjectId",
    ],
)
def test_the_lookup_is_read_as_ons_publishes_it(tmp_path: Path, header: str) -> None:
    rows = [f"{a},n,{b},n,{c.lower()},E09000001,City,{i}" for i, (a, b, c) in enumerate(LOOKUP)]
    path = tmp_path / "lookup.csv"
    path.write_text("\ufeff" + header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    pd.testing.assert_frame_equal(read_lsoa_lookup(TableInput(path=path)), lookup_frame())


def test_a_bad_change_indicator_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "lookup.csv"
    path.write_text("LSOA11CD,LSOA21CD,CHGIND\nE01000001,E01000001,Q\n", encoding="utf-8")
    with pytest.raises(
        InputDataError, match=r"1 rows of the LSOA lookup have a change indicator other than U, S"
    ):
        read_lsoa_lookup(TableInput(path=path))


def test_pair_shares_follow_area_and_sum_to_one() -> None:
    pairs = pairs_2011_to_2021().set_index(["source", "target"])["share"]
    assert pairs["E01000002", "E01040001"] == pytest.approx(0.25)
    assert pairs["E01000002", "E01040002"] == pytest.approx(0.75)
    assert pairs["E01000005", "E01040004"] == pytest.approx(
        2 / 3
    )  # E01040005's area is shared with E01000006
    assert pairs["E01000003", "E01040003"] == pairs["E01000006", "E01040005"] == 1
    equal = build_pairs(lookup_frame(), "2011", None).set_index(["source", "target"])["share"]
    assert equal["E01000002", "E01040001"] == equal["E01000005", "E01040005"] == 0.5


def test_shared_areas_take_precedence_over_the_targets_weights() -> None:
    """Given the area each pair shares (both boundary sets known), a source is shared in proportion to it."""
    shared = pd.Series(
        {("E01000002", "E01040001"): 1.0, ("E01000002", "E01040002"): 1.0, ("E01000005", "E01040004"): 2.0}
        | {("E01000005", "E01040005"): 0.5}
    )
    pairs = build_pairs(lookup_frame(), "2011", AREA_2021, pair_weight=shared).set_index(["source", "target"])
    assert pairs.loc[("E01000002", "E01040001"), "share"] == pytest.approx(0.5)
    assert pairs.loc[("E01000005", "E01040004"), "share"] == pytest.approx(0.8)
    assert pairs.loc[("E01000006", "E01040005"), "share"] == 1  # no shared area known: the targets' weights
    back = build_pairs(lookup_frame(), "2021", None, pair_weight=shared).set_index(["source", "target"])
    assert back.loc[("E01040005", "E01000005"), "share"] == 1  # (E01000006, E01040005) shares nothing known


def test_splits_keep_people_in_their_borough() -> None:
    """E01000005 (borough A) overlaps E01040004 (A) and, by a sliver, E01040005 (B): the sliver gets nothing, so
    A keeps every resident. E01000006 (B) has only E01040005 (B) and is unaffected; a source with no target in
    its own borough (E01000002, in C) is shared as before."""
    shared = pd.Series({("E01000005", "E01040004"): 2.0, ("E01000005", "E01040005"): 0.5})
    place_of = pd.Series(
        {"E01000005": "A", "E01040004": "A", "E01040005": "B", "E01000006": "B"}
        | {"E01000002": "C", "E01040001": "A", "E01040002": "A"}
    )
    pairs = build_pairs(lookup_frame(), "2011", AREA_2021, pair_weight=shared, place_of=place_of)
    share = pairs.set_index(["source", "target"])["share"]
    assert share[("E01000005", "E01040004")] == 1 and share[("E01000005", "E01040005")] == 0
    assert share[("E01000006", "E01040005")] == 1
    assert share[("E01000002", "E01040001")] == pytest.approx(1 / 4)  # by area, 1 km against 3 km
    assert "crossing" in pairs and pairs["crossing"].sum() == 1
    counts = apportion_counts(
        pd.DataFrame({C.LSOA_CODE: ["E01000005"], C.POPULATION: [999]}),
        pairs.drop(columns="crossing"),
        [C.POPULATION],
    )
    assert by_code(counts, C.POPULATION) == {"E01040004": 999, "E01040005": 0}


# ---- counts: residents and registrations --------------------------------------------------------------------------


def test_counts_split_merge_and_complex_keep_totals_exactly() -> None:
    frame = pd.DataFrame({C.LSOA_CODE: list(POP_2011), C.POPULATION: [float(v) for v in POP_2011.values()]})
    frame[C.POP_65_PLUS] = [10.0, 11.0, np.nan, 3.0, 5.0, 7.0]
    out = apportion_counts(frame, pairs_2011_to_2021(), [C.POPULATION, C.POP_65_PLUS])
    assert by_code(out, C.POPULATION) == {
        "E01000001": 1000,
        "E01040001": 250,  # 1001 x 1/4 = 250.25
        "E01040002": 751,  # 1001 x 3/4 = 750.75, takes the unit left over
        "E01040003": 2000,  # 500 + 1500 merged
        "E01040004": 666,  # 999 x 2/3
        "E01040005": 433,  # 999 x 1/3 + 100
    }
    assert out[C.POPULATION].sum() == sum(POP_2011.values())
    assert out[C.POP_65_PLUS].sum() == 36 and by_code(out, C.POP_65_PLUS)["E01040003"] == 3


def test_registrations_are_apportioned_per_practice_row() -> None:
    frame = pd.DataFrame(
        {
            C.PRACTICE_CODE: ["P1", "P1", "P2", "P2", "P2"],
            C.LSOA_CODE: ["E01000002", "E01000003", "E01000004", "E01000005", "E09999999"],
            C.PATIENTS: [10.0, 7.0, 5.0, 3.0, 4.0],
        }
    )
    out = apportion_counts(frame, pairs_2011_to_2021(), [C.PATIENTS], by=[C.PRACTICE_CODE])
    got = {
        (p, lsoa): n for p, lsoa, n in out[[C.PRACTICE_CODE, C.LSOA_CODE, C.PATIENTS]].itertuples(index=False)
    }
    assert got == {
        ("P1", "E01040001"): 3,  # 2.5 / 7.5: the tie goes to the first target
        ("P1", "E01040002"): 7,
        ("P1", "E01040003"): 7,
        ("P2", "E01040003"): 5,
        ("P2", "E01040004"): 2,
        ("P2", "E01040005"): 1,
        ("P2", "E09999999"): 4,  # not in the lookup (outside its area): kept as it is
    }
    assert out.groupby(C.PRACTICE_CODE)[C.PATIENTS].sum().to_dict() == {"P1": 17, "P2": 12}


def test_counts_convert_from_2021_back_to_2011() -> None:
    """The other direction: E01040003 (a merge) is split back by the 2011 LSOAs' area (1 : 3)."""
    area_2011 = pd.Series({"E01000003": 1.0, "E01000004": 3.0, "E01000005": 2.0, "E01000006": 2.0})
    pairs = build_pairs(lookup_frame(), "2021", area_2011)
    frame = pd.DataFrame(
        {C.LSOA_CODE: ["E01040001", "E01040002", "E01040003", "E01040005"], "n": [5.0, 6, 9, 8]}
    )
    out = apportion_counts(frame, pairs, ["n"])
    # E01040005 feeds 5 and 6; 5 is also fed by E01040004, so its weight is halved: 2/2 : 2/1 -> 1/3 : 2/3
    assert by_code(out, "n") == {
        "E01000002": 11,
        "E01000003": 2,
        "E01000004": 7,
        "E01000005": 3,
        "E01000006": 5,
    }
    assert out["n"].sum() == frame["n"].sum()


# ---- rates, deciles and categories ---------------------------------------------------------------------------------


def test_rates_and_deciles_take_population_weighted_means() -> None:
    frame = pd.DataFrame(
        {
            C.LSOA_CODE: list(POP_2011),
            "value": [0.1, 0.2, 0.3, 0.5, 0.9, 0.1],
            C.IMD_DECILE: [1.0, 2, 2, 5, 9, 1],
        }
    )
    population = pd.Series(POP_2011, dtype=float)
    out = mean_by_population(
        frame, pairs_2011_to_2021(), ["value", C.IMD_DECILE], population, round_columns=[C.IMD_DECILE]
    )
    values = by_code(out, "value")
    assert values["E01040001"] == values["E01040002"] == pytest.approx(0.2)  # a split copies its source
    assert values["E01040003"] == pytest.approx((0.3 * 500 + 0.5 * 1500) / 2000)
    assert values["E01040005"] == pytest.approx((0.9 * 333 + 0.1 * 100) / 433)
    deciles = by_code(out, C.IMD_DECILE)
    assert deciles["E01040003"] == 4  # (2 x 500 + 5 x 1500) / 2000 = 4.25
    assert deciles["E01040005"] == 7  # (9 x 333 + 1 x 100) / 433 = 7.15
    assert deciles["E01040004"] == 9 and deciles["E01000001"] == 1
    equal = mean_by_population(frame, pairs_2011_to_2021(), ["value"])
    assert by_code(equal, "value")["E01040003"] == pytest.approx(0.4)


@pytest.mark.parametrize("column", [C.NEIGHBOURHOOD, C.HUB_ID])
def test_categories_take_the_majority_and_name_disagreements(column: str) -> None:
    """Baseline neighbourhoods and locked hubs alike."""
    frame = pd.DataFrame({C.LSOA_CODE: list(POP_2011), column: ["N0", "N1", "N1", "N2", "N3", "N4"]})
    out, disagree = majority_by_population(
        frame, pairs_2011_to_2021(), column, pd.Series(POP_2011, dtype=float)
    )
    assert by_code(out, column) == {
        "E01000001": "N0",
        "E01040001": "N1",
        "E01040002": "N1",
        "E01040003": "N2",  # 1,500 residents of E01000004 beat 500 of E01000003
        "E01040004": "N3",
        "E01040005": "N3",  # 333 of E01000005 beat 100 of E01000006
    }
    assert disagree == ["E01040003", "E01040005"]


# ---- detection -----------------------------------------------------------------------------------------------------


def test_detection_uses_codes_the_lookup_and_the_boundaries() -> None:
    boundaries = set(STRIP)
    codes_2011 = pd.Series(list(POP_2011))
    assert detect_file_vintage(codes_2011, boundary_codes=boundaries, boundary_vintage="2021")[0] == "2011"
    vintage, evidence = detect_file_vintage(
        pd.Series(["E01000002"]), boundary_codes=boundaries, boundary_vintage="2021", lookup=lookup_frame()
    )
    assert (vintage, evidence) == ("2011", "E01000002 exist only in 2011")
    assert detect_file_vintage(pd.Series(list(STRIP)), boundary_codes=boundaries, boundary_vintage="2021")[
        0
    ] == ("2021")
    with pytest.raises(InputDataError, match="mixes LSOA 2011 codes"):
        detect_file_vintage(
            pd.Series(["E01000002", "E01040001"]),
            boundary_codes=boundaries - {"E01040001"},
            boundary_vintage="2021",
            lookup=lookup_frame(),
        )


def test_codes_the_boundaries_have_are_of_their_vintage() -> None:
    """Boundaries named LSOA 2011 whose codes are numbered like 2021 ones: files with the same codes match them."""
    assert detect_file_vintage(
        pd.Series(["E01040001"]), boundary_codes={"E01040001"}, boundary_vintage="2011"
    ) == (
        "2011",
        "its codes are the boundaries'",
    )


def test_the_converter_refuses_the_other_vintage_without_a_lookup() -> None:
    converter = VintageConverter(boundary_codes=set(STRIP), boundary_vintage="2021")
    frame = pd.DataFrame({C.LSOA_CODE: list(POP_2011), C.IMD_DECILE: 1.0})
    with pytest.raises(InputDataError) as error:
        converter.means(frame, [C.IMD_DECILE], what="IMD", path="imd.csv")
    assert str(error.value) == (
        "imd.csv: the IMD file is keyed by LSOA 2011 codes (none of the boundaries' 5 LSOAs new in 2021 is in it) "
        "but the boundaries are LSOA 2021: give inputs.lsoa_lookup ONS's LSOA (2011) to LSOA (2021) lookup "
        "(LSOA11CD, LSOA21CD, CHGIND) to convert it, or use a file keyed by 2021 LSOAs."
    )


# ---- end to end: a scenario on 2021 boundaries with every input keyed by 2011 LSOAs ----------------------------------


#: 2011 LSOA -> (x from, x to) of its box (km), for weights by shared area.
STRIP_2011 = {
    "E01000001": (0, 1),
    "E01000002": (1, 5),
    "E01000003": (5, 5.5),
    "E01000004": (5.5, 6),
    "E01000005": (6, 9.5),
    "E01000006": (9.5, 10),
}


def write_strip(folder: Path, *, lookup: bool = True) -> Path:
    """The strip as 2021 boundaries, 2011-keyed inputs of every kind, and a scenario."""
    folder.mkdir(parents=True, exist_ok=True)
    x0, y0 = 530_000, 180_000
    gpd.GeoDataFrame(
        {
            "LSOA21CD": list(STRIP),
            "LSOA21NM": [f"Strip {i}" for i in range(len(STRIP))],
            "LAD22CD": "E09000001",
            "geometry": [box(x0 + a * 1000, y0, x0 + b * 1000, y0 + 1000) for a, b in STRIP.values()],
        },
        crs="EPSG:27700",
    ).to_file(folder / "lsoas.gpkg", engine="pyogrio")
    codes11 = list(POP_2011)
    pd.DataFrame({"LSOA11CD": codes11, "Persons_All-Ages": list(POP_2011.values())}).to_csv(
        folder / "population.csv", index=False
    )
    pd.DataFrame(
        {
            "PRACTICE_CODE": ["P00001"] * 6,
            "LSOA_CODE": codes11,
            "SEX": "ALL",
            "NUMBER_OF_PATIENTS": [100, 101, 50, 150, 99, 10],
        }
    ).to_csv(folder / "registrations.csv", index=False)
    pd.DataFrame({"LSOA_CODE": codes11, "CKD": [0.1, 0.2, 0.3, 0.5, 0.9, 0.1]}).to_csv(
        folder / "ckd.csv", index=False
    )
    pd.DataFrame(
        {"LSOA code (2011)": codes11, "Index of Multiple Deprivation (IMD) Decile": [1, 2, 2, 5, 9, 1]}
    ).to_csv(folder / "imd.csv", index=False)
    pd.DataFrame({"lsoa_code": codes11, "neighbourhood": ["N0", "N1", "N1", "N2", "N3", "N4"]}).to_csv(
        folder / "baseline.csv", index=False
    )
    pd.DataFrame(LOOKUP, columns=["LSOA11CD", "LSOA21CD", "CHGIND"]).to_csv(
        folder / "lookup.csv", index=False
    )
    gpd.GeoDataFrame(
        {
            "LSOA11CD": list(STRIP_2011),
            "LAD11CD": "E09000001",
            "geometry": [box(x0 + a * 1000, y0, x0 + b * 1000, y0 + 1000) for a, b in STRIP_2011.values()],
        },
        crs="EPSG:27700",
    ).to_file(folder / "lsoas2011.gpkg", engine="pyogrio")
    text = textwrap.dedent(
        f"""\
        name: strip
        inputs:
          units: {{path: lsoas.gpkg}}
          population: {{path: population.csv}}
          registrations: {{path: registrations.csv}}
          demand: {{indicators: [{{path: ckd.csv, column: CKD}}]}}
          imd: {{path: imd.csv}}
          baseline: {{path: baseline.csv}}
          {"lsoa_lookup: {path: lookup.csv}" if lookup else ""}
        pop: {{min: 1000, max: 6000}}
        """
    )
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    return folder / "scenario.yaml"


def test_every_input_is_converted_and_recorded(tmp_path: Path) -> None:
    report = validate_scenario(load_scenario(write_strip(tmp_path)))
    units = report.dataset.units.set_index(C.LSOA_CODE)
    assert units[C.POPULATION].to_dict() == {
        "E01000001": 1000,
        "E01040001": 250,
        "E01040002": 751,
        "E01040003": 2000,
        "E01040004": 666,
        "E01040005": 433,
    }
    assert units["registered"].sum() == 510 and units.loc["E01040003", "registered"] == 200
    assert units.loc["E01040003", C.IMD_DECILE] == 4
    assert units.loc["E01040005", "baseline"] == "N3"
    converted = [f for f in report.findings if f.code == "vintage.converted"]
    assert len(converted) == 5  # population, registrations, indicator, IMD, baseline
    assert "6 LSOAs (1 unchanged, 1 split, 2 merged, 2 complex) became 6" in converted[0].message
    assert "residents 5,100 before, 5,100 after" in converted[0].message
    (disagree,) = [f for f in report.findings if f.code == "vintage.parts_disagree"]
    assert disagree.items == ("E01040003", "E01040005") and disagree.severity == "warning"
    record = report.dataset.conversions[1]
    assert record["input"] == "registrations" and (record["from"], record["to"]) == ("2011", "2021")
    assert record["totals"] == {C.PATIENTS: {"before": 510, "after": 510}}
    assert (record["split"], record["merged"], record["complex"]) == (1, 2, 2)


def test_locks_keyed_by_2011_lsoas_follow_the_majority(tmp_path: Path) -> None:
    scenario_path = write_strip(tmp_path)
    pd.DataFrame({"hub_id": ["H1", "H2"], "easting": [530_500, 535_500], "northing": 180_500}).to_csv(
        tmp_path / "hubs.csv", index=False
    )
    pd.DataFrame({"lsoa_code": ["E01000003", "E01000004", "E01000002"], "hub_id": ["H1", "H2", "H1"]}).to_csv(
        tmp_path / "locks.csv", index=False
    )
    overrides = [f"inputs.hubs.path={tmp_path / 'hubs.csv'}", f"inputs.locks.path={tmp_path / 'locks.csv'}"]
    dataset = validate_scenario(load_scenario(scenario_path, overrides=overrides)).dataset
    assert dataset.locks is not None
    assert by_code(dataset.locks, C.HUB_ID) == {"E01040001": "H1", "E01040002": "H1", "E01040003": "H2"}
    disagree = [
        f for f in dataset.findings if f.code == "vintage.parts_disagree" and f.file.endswith("locks.csv")
    ]
    assert [f.items for f in disagree] == [("E01040003",)]


def test_both_boundary_sets_weigh_splits_by_shared_area(tmp_path: Path) -> None:
    """E01000005 (x 6-9.5) shares 2 km2 with E01040004 and 1.5 with E01040005: 999 -> 571 + 428."""
    scenario = load_scenario(
        write_strip(tmp_path), overrides=[f"inputs.lsoa_lookup.boundaries.path={tmp_path / 'lsoas2011.gpkg'}"]
    )
    report = validate_scenario(scenario)
    population = report.dataset.units.set_index(C.LSOA_CODE)[C.POPULATION]
    assert population["E01040004"] == 571 and population["E01040005"] == 428 + 100
    assert population.sum() == 5100
    assert report.dataset.conversions[0]["weights"] == "area shared by the LSOAs of the two vintages"


def test_without_a_lookup_the_cli_names_the_file_and_the_key(tmp_path: Path) -> None:
    scenario = write_strip(tmp_path, lookup=False)
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(
        f"error: {tmp_path / 'population.csv'}: the population file is keyed by LSOA 2011"
    )
    assert "give inputs.lsoa_lookup" in lines[0]


def test_validate_json_lists_the_conversions(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write_strip(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["totals"]["residents"] == 5100 and payload["totals"]["lsoas"] == 6
    assert sum(f["code"] == "vintage.converted" for f in payload["findings"]) == 5


def test_a_run_records_each_conversion_in_run_json_and_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(write_strip(tmp_path / "in")), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [entry["input"] for entry in record["conversions"]] == [
        "population",
        "registrations",
        "demand indicator 'CKD'",
        "IMD",
        "baseline",
    ]
    assert record["conversions"][0]["file"] == "../in/population.csv"
    assert record["conversions"][0]["totals"] == {C.POPULATION: {"before": 5100, "after": 5100}}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert (
        "- `vintage.converted`: ../in/registrations.csv: registrations: LSOA 2011 -> 2021 through" in report
    )
    assert "patients 510 before, 510 after" in report


# ---- London -------------------------------------------------------------------------------------------------------


@pytest.mark.london
@pytest.mark.slow
def test_london_on_2021_boundaries_keeps_the_2011_totals() -> None:
    report = validate_scenario(load_scenario(REPO / "configs" / "london2021.yaml"))
    totals = report.totals()
    assert totals["lsoas"] == 4994
    assert totals["residents"] == 9_002_488
    assert totals["registered"] == 10_515_954
    assert totals["places"] == 32
    assert report.ok, [f.line() for f in report.errors]
    # every place keeps its 2011 residents and registered patients (the lookup's one pair across a borough
    # boundary, a sliver of the generalised boundaries, gets no share)
    before = validate_scenario(load_scenario(REPO / "configs" / "london.yaml"))
    assert {p.place_code: (p.residents, p.registered) for p in report.places} == {
        p.place_code: (p.residents, p.registered) for p in before.places
    }
    kinds = {record["input"] for record in report.dataset.conversions}
    assert kinds == {"population", "registrations", "IMD"} | {
        f"demand indicator {name!r}"
        for name in ("CKD: QOF prevalence (18+ yrs)", "Stroke: QOF prevalence (all ages)")
    }
