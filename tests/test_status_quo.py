"""Today's arrangement scored as a plan (issue 17): figures worked out by hand on the tiny grid reconcile.

The grid of ``tests/tiny.py`` (each LSOA 10,000 residents, bounds 20,000-40,000) with its baseline map
(:data:`tiny.TINY_BASELINE`)::

      A09 U1 | A10 U2 | B11 U2 | B12 U6        Alpha (E09900001)        Beta (E09900002)
      A05 U1 | A06 U2 | B07 U4 | B08 U6
      A01 U1 | A02 U2 | B03 U3 | B04 U5

U2 crosses the borough boundary (3 LSOAs in Alpha, 1 in Beta): clipped, it is U2 in Alpha (its home: most
residents) and ``U2@E09900002`` = B11 in Beta, one crossing breach counted in both places. Alpha today: U1 and U2,
30,000 each, both in bounds: the same footprints as the hand plan's Alpha columns, but each centred on its middle LSOA
(A05, A06: mean distance (1 + 0 + 1) / 3 km) where the hand plan puts centres at the bottom (A01, A02: (0 + 1 + 2) / 3).
Beta today: U2@ (B11), U3 (B03), U4 (B07), U5 (B04) of 10,000 (out of bounds) and U6 (B08, B12) of 20,000.

PCNs (tiny.TINY_REGISTRATIONS): X (1,500 patients in the area) lives 900 in U1, 200 in U2, 400 in B11: coterminosity
0.6; Y (1,000) 800 in U2: 0.8; Z (1,000, homed in Beta) 400 in B03, 400 in B07, 200 in B04: its home is U3 (the tie
goes to the lowest id), 0.4. So Alpha's median is 0.7 and patient-weighted (0.6 x 1,500 + 0.8 x 1,000) / 2,500 =
0.68; Beta's both 0.4 (the hand plan's Beta gives Z B03, B07, B11: 0.8).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from footprint import metrics
from footprint.export import write_plan
from footprint.instance import pcn_count_note
from footprint.plan import Plan
from footprint.report import place_sentences, plain_status
from footprint.statusquo import (
    best_effort_problems,
    build_status_quo,
    solve_best_effort_place,
    summarise_status_quo,
)
from tiny import build_hand_plan

ALPHA, BETA = "E09900001", "E09900002"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    hand = build_hand_plan(tmp_path_factory.mktemp("statusquo"))
    return replace(hand, status_quo=build_status_quo(hand.dataset, hand.graph, hand.problems))


def test_status_quo_figures_reconcile_with_the_hand_count(plan: Plan) -> None:
    today = summarise_status_quo(plan.status_quo).set_index("place_code")
    alpha, beta = today.loc[ALPHA], today.loc[BETA]
    assert sorted(plan.status_quo.plan.neighbourhoods["neighbourhood_id"]) == [
        "U1",
        "U2",
        "U2@E09900002",
        "U3",
        "U4",
        "U5",
        "U6",
    ]
    assert (alpha["neighbourhoods"], alpha["smallest"], alpha["largest"], alpha["within_bounds"]) == (
        2,
        30_000,
        30_000,
        2,
    )
    assert (beta["neighbourhoods"], beta["smallest"], beta["largest"], beta["within_bounds"]) == (
        5,
        10_000,
        20_000,
        1,
    )
    assert (alpha["out_of_bounds"], alpha["not_contiguous"], alpha["crossing_places"]) == (0, 0, 1)
    assert (beta["out_of_bounds"], beta["not_contiguous"], beta["crossing_places"]) == (4, 0, 1)
    assert (alpha["lsoas_left_out"], beta["lsoas_left_out"]) == (0, 0)
    assert alpha["mean_distance_km"] == pytest.approx(2 / 3)
    assert alpha["median_coterminosity"] == pytest.approx(0.7)
    assert alpha["weighted_coterminosity"] == pytest.approx(0.68)
    assert beta["median_coterminosity"] == pytest.approx(0.4)
    assert beta["weighted_coterminosity"] == pytest.approx(0.4)
    assert alpha["residents_moved"] == 0 and beta["residents_moved"] == 0  # today against itself
    # the plan's side, by the same function: Alpha's footprints equal today's, only the centres differ
    planned = metrics.summarise_places(plan).set_index("place_code")
    assert planned.loc[ALPHA, "mean_distance_km"] == pytest.approx(1.0)
    assert planned.loc[ALPHA, "weighted_coterminosity"] == pytest.approx(0.68)
    assert planned.loc[BETA, "weighted_coterminosity"] == pytest.approx(0.8)


def test_left_out_and_broken_units_are_counted(tmp_path: Path) -> None:
    """P = A01 + A09 (two pieces), Q = A05, A02, A06, A10; R = B03, B07, B11; S = B04, B08; B12 has no unit."""
    baseline = {1: "P", 9: "P", 5: "Q", 2: "Q", 6: "Q", 10: "Q", 3: "R", 7: "R", 11: "R", 4: "S", 8: "S"}
    hand = build_hand_plan(tmp_path, baseline=baseline)
    today = summarise_status_quo(build_status_quo(hand.dataset, hand.graph, hand.problems)).set_index(
        "place_code"
    )
    assert today.loc[ALPHA, ["not_contiguous", "out_of_bounds", "crossing_places"]].tolist() == [1, 0, 0]
    assert today.loc[BETA, ["lsoas_left_out", "residents_left_out", "out_of_bounds"]].tolist() == [
        1,
        10_000,
        0,
    ]
    assert today.loc[BETA, "population"] == 50_000  # the left-out LSOA is in no status-quo figure


def test_run_record_csv_and_report_show_today_beside_the_plan(plan: Plan, tmp_path: Path) -> None:
    write_plan(plan, tmp_path / "out")
    record = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    block = record["status_quo"]
    assert block["source"] == "file"
    assert block["headline"]["neighbourhoods"] == 7 and block["headline"]["status"] == "breaches"
    assert {b["rule"] for b in block["breaches"]} == {"place", "population"}
    written = pd.read_csv(tmp_path / "out" / "status_quo.csv")
    places = pd.read_csv(tmp_path / "out" / "places.csv")
    assert list(written.columns[: len(places.columns)]) == list(places.columns)  # same columns, then breaches
    written = written.set_index("place_code")
    assert written.loc[BETA, "out_of_bounds"] == 4
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert markdown.index("## What the plan changes") < markdown.index("## Headline figures per place")
    assert markdown.index("## Technical appendix") > markdown.index("## About this report")
    assert "|  | *today* | 5 breaches | 5 | 60,000 | 10,000 - 20,000 | 0.17 |" in markdown
    assert "|  | *today* | 1 breach | 2 | 60,000 | 30,000 - 30,000 | 0.67 |" in markdown
    assert "| 0 / 0 / 1 | 68% |" in markdown  # Alpha today: crossing 1; weighted coterminosity
    assert "## Today's arrangement: where it breaks the rules" in markdown
    assert (
        "baseline unit U2 crosses the place boundary: 3 of its 4 LSOAs (30,000 residents) are here, the others in "
        "Beta" in markdown
    )
    assert (
        "**Beta**: 2 neighbourhoods of 30,000-30,000 residents (today's 5 baseline neighbourhoods range "
        "10,000-20,000; 4 out of bounds, 1 crossing the place boundary). The plan moves no resident between "
        "footprints; of its 1 PCN 1 is coterminous. Patients living in their PCN's home neighbourhoods: today 40%, "
        "this plan 80%. The plan is the best found; it is not proven the best possible (no bound)."
    ) in markdown


def test_plain_words_for_a_known_plan() -> None:
    entry = {"place_code": "E09000007", "place_name": "Camden", "status": "feasible", "gap": 0.021}
    plan_row = pd.Series(
        {
            "neighbourhoods": 6,
            "smallest": 30_100,
            "largest": 48_900,
            "population": 273_000,
            "residents_moved": 41_000,
            "pcns": 8,
            "pcns_coterminous": 3,
            "pcns_realign": 2,
            "pcns_work_across": 3,
            "practices_to_realign": 4,
            "weighted_coterminosity": 0.48,
        }
    )
    today = {
        "neighbourhoods": 7,
        "smallest": 12_000,
        "largest": 71_000,
        "out_of_bounds": 3,
        "not_contiguous": 0,
        "crossing_places": 2,
        "weighted_coterminosity": 0.41,
        "best_weighted_coterminosity": 0.62,
    }
    text = place_sentences(entry, plan_row, today, pcns_note="5 PCNs have practices here; 3 are homed here")
    assert text == (
        "**Camden**: 6 neighbourhoods of 30,100-48,900 residents (today's 7 PCN areas range 12,000-71,000; 3 out "
        "of bounds, 2 crossing the place boundary). The plan moves 41,000 residents (15%) between footprints; of "
        "its 8 PCNs 3 are coterminous, 2 realign 4 practices and 3 work across. Patients living in their PCN's "
        "home neighbourhoods: today 41%, this plan 48%, at best 62%. The plan is within 2.1% of the best "
        "possible plan (proven). 5 PCNs have practices here; 3 are homed here."
    )
    assert plain_status(entry) == "within 2.1% of best, proven"
    assert plain_status({"status": "optimal", "gap": 0.0}) == "proven optimal"
    assert plain_status({"status": "heuristic", "gap": None}) == "best found, not proven"


def test_pcn_counts_explained_when_sited_and_homed_differ(plan: Plan) -> None:
    assert pcn_count_note(plan.dataset, ALPHA) == ""  # X and Y sited and homed in Alpha, Z in Beta
    homes = pd.Series({"PCNX": BETA, "PCNY": ALPHA, "PCNZ": BETA})
    assert pcn_count_note(plan.dataset, ALPHA, homes) == (
        "2 PCNs have practices here; 1 is homed here (most of their patients live here), 1 is homed in Beta"
    )
    assert pcn_count_note(plan.dataset, BETA, homes) == (
        "1 PCN has practices here; 1 is homed here (most of their patients live here); 1 more is homed here "
        "with no practice here (2 homed here in all)"
    )


def test_at_best_is_verified_and_the_same_every_time(plan: Plan) -> None:
    problems = best_effort_problems(plan.problems)
    first = {p: solve_best_effort_place(problem) for p, problem in problems.items()}
    again = {p: solve_best_effort_place(problem) for p, problem in problems.items()}
    for place in problems:
        assert first[place].status == "heuristic"
        assert first[place].assignment.tolist() == again[place].assignment.tolist()
        assert problems[place].weights.pcn == 1.0 and problems[place].weights.access == 0.01


def test_todays_breaches_name_the_pcns() -> None:
    """With today's PCN map as the baseline, a breach names the PCN as planners know it, with its code."""
    from footprint.config import load_scenario
    from footprint.statusquo import build_status_quo
    from footprint.validate import validate_scenario

    report = validate_scenario(load_scenario(Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"))
    status_quo = build_status_quo(report.dataset, report.graph, report.problems)
    assert status_quo is not None
    pcn_names = dict(
        zip(report.dataset.practices["pcn_code"], report.dataset.practices["pcn_name"], strict=True)
    )
    population = [b for b in status_quo.breaches if b.rule == "population"]
    assert population
    for breach in population:
        code = breach.neighbourhood.split("@")[0]
        assert f"neighbourhood {pcn_names[code]} ({breach.neighbourhood}) has " in breach.message
