"""Reconciliation: the written figures add up, and match hand-worked answers on a tiny plan.

The tiny plan is the 4 x 3 grid of ``tests/tiny.py`` with its primary-care layer (:func:`write_tiny_primary_care`)
split by hand into columns, each a neighbourhood of 3 LSOAs (30,000 residents)::

      A09 | A10 | B11 | B12
      A05 | A06 | B07 | B08        A-01 = column A0x (A01, A05, A09)    B-01 = B03, B07, B11
      A01 | A02 | B03 | B04        A-02 = A02, A06, A10                 B-02 = B04, B08, B12

Against the baseline units U1 = {A01, A05, A09}, U2 = {A02, A06, A10, B11}, U3 = {B03}, U4 = {B07}, U5 = {B04},
U6 = {B08, B12}: U2 crosses the borough boundary, so each borough sees its own part (U2 clipped to Alpha is
{A02, A06, A10}, to Beta {B11}). A-01 is U1 exactly (U), A-02 is U2's Alpha part exactly (U), B-01 is U3 + U4 +
U2's Beta part (M) and B-02 is U5 + U6 (M); no LSOA moves. S, X and N are in ``tests/test_baseline.py``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import footprint
from footprint import metrics
from footprint.dataset import load_dataset
from footprint.export import write_plan
from footprint.plan import Plan
from tiny import build_hand_plan, lsoa_code

REPO = Path(__file__).resolve().parents[1]
A1, A2, B1, B2 = "E09900001-01", "E09900001-02", "E09900002-01", "E09900002-02"


@pytest.fixture(scope="module")
def hand_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The hand plan, with PCNs coterminous from 70% (X's 60% is not; Y's and Z's 80% are)."""
    return build_hand_plan(tmp_path_factory.mktemp("hand"), ["alignment.coterminous_share=0.7"])


def test_hand_plan_ids(hand_plan: Plan) -> None:
    where = dict(
        zip(hand_plan.assignment["lsoa_code"], hand_plan.assignment["neighbourhood_id"], strict=True)
    )
    assert {where[lsoa_code(k)] for k in (1, 5, 9)} == {A1}
    assert {where[lsoa_code(k)] for k in (2, 6, 10)} == {A2}
    assert {where[lsoa_code(k)] for k in (3, 7, 11)} == {B1}
    assert {where[lsoa_code(k)] for k in (4, 8, 12)} == {B2}


def test_change_codes_against_units_clipped_to_each_place(hand_plan: Plan) -> None:
    per_lsoa, per_hood = metrics.summarise_changes(hand_plan)
    codes = dict(zip(per_hood["neighbourhood_id"], per_hood["change"], strict=True))
    assert codes == {A1: "U", A2: "U", B1: "M", B2: "M"}
    units = dict(zip(per_hood["neighbourhood_id"], per_hood["baseline_units"], strict=True))
    assert units == {A1: "U1", A2: "U2", B1: "U2;U3;U4", B2: "U5;U6"}
    clipped = dict(zip(per_hood["neighbourhood_id"], per_hood["clipped_units"], strict=True))
    assert clipped == {A1: "", A2: "U2 3/4", B1: "U2 1/4", B2: ""}
    # B11 is the whole of U2's part in Beta: kept, as every plan must cut U2 at the borough boundary
    assert set(per_lsoa["change_status"]) == {"kept"} and not per_lsoa["moved"].any()
    assert per_hood["residents_moved"].tolist() == [0, 0, 0, 0]


def test_pcn_figures_by_hand(hand_plan: Plan) -> None:
    """X = P1 + P5: 900 patients in A-01, 600 in A-02; Y: 800 in A-02, 200 in A-01; Z: 800 in B-01, 200 in B-02."""
    pcns = metrics.summarise_pcns(hand_plan).set_index("pcn_code")
    assert pcns["registered"].to_dict() == {"PCNX": 1500, "PCNY": 1000, "PCNZ": 1000}
    assert pcns["home_neighbourhood"].to_dict() == {"PCNX": A1, "PCNY": A2, "PCNZ": B1}
    assert pcns["coterminosity"].to_dict() == pytest.approx({"PCNX": 0.6, "PCNY": 0.8, "PCNZ": 0.8})
    assert pcns.loc["PCNX", "neighbourhoods"] == f"{A1} 60%; {A2} 40%"
    assert pcns["list_size"].to_dict() == {"PCNX": 1550, "PCNY": 1000, "PCNZ": 1000}
    # every PCN within the bounds needs one home neighbourhood
    assert pcns["homes_needed"].to_dict() == {"PCNX": 1, "PCNY": 1, "PCNZ": 1}
    assert pcns["home_neighbourhoods"].to_dict() == {"PCNX": A1, "PCNY": A2, "PCNZ": B1}
    # X (60% < 70%): its practice P5 has most patients in A-02, so it realigns; Y and Z fit their homes
    assert pcns["route"].to_dict() == {"PCNX": "realign", "PCNY": "coterminous", "PCNZ": "coterminous"}
    assert pcns.loc["PCNX", "route_practices"] == "P00005"
    assert pcns.loc["PCNX", "route_patients"] == 500  # P5's patients, all living in A-02
    assert pcns["route_patients"].to_dict()["PCNY"] == 200  # living outside its home, served across as today
    distribution = metrics.pcn_distribution(hand_plan)
    assert distribution.groupby("pcn_code")["share"].sum().to_dict() == pytest.approx(
        {"PCNX": 1.0, "PCNY": 1.0, "PCNZ": 1.0}
    )


def test_neighbourhood_figures_by_hand(hand_plan: Plan) -> None:
    hoods = metrics.summarise_neighbourhoods(hand_plan).set_index("neighbourhood_id")
    assert hoods["population"].to_dict() == {A1: 30_000, A2: 30_000, B1: 30_000, B2: 30_000}
    assert hoods["registered"].to_dict() == {A1: 1100, A2: 1400, B1: 1200, B2: 800}
    assert hoods["self_containment"].to_dict() == pytest.approx(
        {A1: 900 / 1100, A2: 1300 / 1400, B1: 800 / 1200, B2: 600 / 800}
    )
    assert hoods.loc[A1, "pcn_shares"] == "PCNX 82%; PCNY 18%"
    assert hoods.loc[B2, "pcn_shares"] == "PCNZ 25%"  # the other 75% are P4's, in no PCN
    mix = metrics.neighbourhood_pcn_mix(hand_plan)
    assert mix.groupby("neighbourhood_id")["share"].sum().to_dict() == pytest.approx(
        {A1: 1.0, A2: 1.0, B1: 1.0, B2: 1.0}
    )
    assert mix.groupby("neighbourhood_id")["patients"].sum().to_dict() == hoods["registered"].to_dict()


def test_practice_realignment_by_hand(hand_plan: Plan) -> None:
    """P5 (PCN X) sits in A-02 with 500 patients there, but X's home is A-01: join Y, homed in A-02."""
    practices = metrics.summarise_practices(hand_plan).set_index("practice_code")
    assert practices["realign"].to_dict() == {
        "P00001": False,
        "P00002": False,
        "P00003": False,
        "P00004": False,
        "P00005": True,
    }
    assert practices.loc["P00005", "patients_involved"] == 500
    assert practices.loc["P00005", "suggested_action"] == (
        f"join PCNY, the PCN grouping of Alpha 02 ({A2}): PCNX 1,550 -> 1,050, PCNY 1,000 -> 1,500"
    )
    assert practices.loc["P00004", "suggested_action"] == (
        f"not in an active PCN: join the PCN grouping of Beta 02 ({B2})"
    )


def test_every_pcn_has_one_route_at_any_threshold(tmp_path: Path) -> None:
    """At 90%: X still realigns (P5); Y and Z (80%) have no practice living elsewhere, so they work across."""
    plan = build_hand_plan(tmp_path, ["alignment.coterminous_share=0.9"])
    pcns = metrics.summarise_pcns(plan).set_index("pcn_code")
    assert pcns["route"].to_dict() == {"PCNX": "realign", "PCNY": "work-across", "PCNZ": "work-across"}
    assert pcns.loc["PCNY", "route_detail"] == (
        f"80% of its patients live in Alpha 02 ({A2}); it also serves Alpha 01 ({A1}) 20%: agree an arrangement "
        "to work across the boundary"
    )
    assert set(pcns["route"]) <= set(metrics.ROUTES)
    # a practice moves only where its PCN's route is realign
    practices = metrics.summarise_practices(plan).set_index("practice_code")
    assert practices.loc[practices["realign"]].index.tolist() == ["P00005"]


def test_homes_needed_follows_the_pcn_size() -> None:
    """Brompton Health PCN (96,900 patients) against a 50,000 bound needs two neighbourhoods."""
    assert metrics.homes_needed(96_900, 50_000) == 2
    assert metrics.homes_needed(50_000, 50_000) == 1
    assert metrics.homes_needed(50_001, 50_000) == 2
    assert metrics.homes_needed(150_000, 50_000) == 3
    assert metrics.homes_needed(float("nan"), 50_000) == 1


def test_place_headlines_by_hand(hand_plan: Plan) -> None:
    places = metrics.summarise_places(hand_plan).set_index("place_code")
    alpha, beta = places.loc["E09900001"], places.loc["E09900002"]
    assert (alpha["population"], alpha["registered"], alpha["neighbourhoods"]) == (60_000, 2500, 2)
    assert (alpha["pcns"], alpha["median_coterminosity"]) == (2, pytest.approx(0.7))
    assert (alpha["pcns_coterminous"], alpha["pcns_realign"], alpha["pcns_work_across"]) == (1, 1, 0)
    assert (alpha["practices"], alpha["practices_to_realign"], alpha["patients_involved"]) == (3, 1, 500)
    assert alpha["self_containment"] == pytest.approx((900 + 1300) / 2500)
    assert (alpha["unchanged"], alpha["split"], alpha["merged"], alpha["complex"]) == (2, 0, 0, 0)
    assert (beta["unchanged"], beta["split"], beta["merged"], beta["complex"]) == (0, 0, 2, 0)
    assert (beta["residents_moved"], beta["lsoas_moved"], beta["practices"], beta["pcns"]) == (0, 0, 2, 1)


def test_written_hand_plan_matches_metrics(hand_plan: Plan, tmp_path: Path) -> None:
    write_plan(hand_plan, tmp_path / "out")
    changes = pd.read_csv(tmp_path / "out" / "changes_neighbourhoods.csv")
    assert changes["change"].tolist() == ["U", "U", "M", "M"]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "2 unchanged (U), 0 split (S), 2 merged (M), 0 complex (X)" in report
    assert (
        f"join PCNY, the PCN grouping of Alpha 02 ({A2}): PCNX 1,550 -> 1,050, PCNY 1,000 -> 1,500" in report
    )
    assert "2 coterminous, 1 realign" in report
    lsoas = gpd.read_file(tmp_path / "out" / "neighbourhoods.gpkg", layer="lsoas")
    assert lsoas.set_index("lsoa_code").loc[lsoa_code(5), "dominant_pcn"] == "PCNX"  # 300 of X vs 200 of Y


# ---- the sample run --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_registrations(quick_sample_run: Path) -> pd.DataFrame:
    """Registrations as loaded, with each patient's neighbourhood from the written assignment.csv."""
    dataset = load_dataset(footprint.load_scenario(REPO / "configs" / "sample.yaml"))
    assignment = pd.read_csv(quick_sample_run / "assignment.csv", dtype=str)
    where = assignment.set_index("lsoa_code")["neighbourhood_id"]
    return dataset.registrations.assign(neighbourhood_id=dataset.registrations["lsoa_code"].map(where))


def test_sample_population_sums_to_each_place(quick_sample_run: Path) -> None:
    hoods = pd.read_csv(quick_sample_run / "neighbourhoods.csv")
    units = gpd.read_file(REPO / "sample_data" / "lsoas.gpkg")
    population = pd.read_csv(REPO / "sample_data" / "population.csv").set_index("LSOA21CD")[
        "Persons_All-Ages"
    ]
    lookup = pd.read_csv(REPO / "sample_data" / "lad_to_place.csv")
    units["place"] = units["LAD22CD"].map(lookup.set_index("LAD22CD")["PLACE_CODE"])
    units["population"] = units["LSOA21CD"].map(population)
    expected = units.groupby("place")["population"].sum().to_dict()
    assert hoods.groupby("place_code")["population"].sum().to_dict() == expected
    places = pd.read_csv(quick_sample_run / "neighbourhoods.csv").groupby("place_code")["lsoas"].sum()
    assert places.to_dict() == units.groupby("place").size().to_dict()


def test_sample_coterminosity_recomputed_from_registrations(
    quick_sample_run: Path, sample_registrations: pd.DataFrame
) -> None:
    pcns = pd.read_csv(quick_sample_run / "realignment_pcns.csv").set_index("pcn_code")
    frame = sample_registrations.dropna(subset=["pcn_code"])
    for pcn, row in pcns.iterrows():
        mine = frame[frame["pcn_code"] == pcn]
        per_hood = mine.groupby("neighbourhood_id")["patients"].sum()
        assert row["registered"] == round(mine["patients"].sum())
        assert row["home_neighbourhood"] == per_hood.idxmax()
        assert row["coterminosity"] == pytest.approx(per_hood.max() / mine["patients"].sum(), abs=1e-6)
        # the listed shares are the recomputed ones, and with the unlisted rest they make 100%
        listed = {
            hood: float(share.rstrip("%")) / 100
            for hood, share in (item.split() for item in row["neighbourhoods"].split("; "))
        }
        shares = per_hood / mine["patients"].sum()
        assert set(listed) == set(shares[shares >= 0.05].index)
        for hood, share in listed.items():
            assert share == pytest.approx(shares[hood], abs=0.005)
        assert sum(listed.values()) + shares[shares < 0.05].sum() == pytest.approx(
            1.0, abs=0.005 * len(listed)
        )


def test_sample_neighbourhood_pcn_shares_sum_to_100(
    quick_sample_run: Path, sample_registrations: pd.DataFrame
) -> None:
    hoods = pd.read_csv(quick_sample_run / "neighbourhoods.csv").set_index("neighbourhood_id")
    for hood, row in hoods.iterrows():
        mine = sample_registrations[sample_registrations["neighbourhood_id"] == hood]
        assert row["registered"] == round(mine["patients"].sum())
        by_pcn = mine.groupby("pcn_code", dropna=False)["patients"].sum() / mine["patients"].sum()
        assert by_pcn.sum() == pytest.approx(1.0)
        listed = {
            p: float(s.rstrip("%")) / 100 for p, s in (item.split() for item in row["pcn_shares"].split("; "))
        }
        for pcn, share in listed.items():
            assert share == pytest.approx(by_pcn[pcn], abs=0.005)
        assert set(listed) == {p for p, s in by_pcn.items() if isinstance(p, str) and s >= 0.05}
