"""Candidate hubs at real practice sites (inputs.hubs: {from: practices}): one a site, named, filtered by size."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from footprint import columns as C
from footprint.config import load_scenario
from footprint.dataset import load_dataset

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "configs" / "sample.yaml"


@pytest.fixture(scope="module")
def practices_and_hubs() -> tuple[pd.DataFrame, pd.DataFrame]:
    dataset = load_dataset(load_scenario(SAMPLE, overrides=["inputs.hubs={from: practices}"]))
    assert dataset.hubs is not None
    return dataset.practices, dataset.hubs


def test_every_sited_practice_is_a_candidate_hub(practices_and_hubs) -> None:
    practices, hubs = practices_and_hubs
    sited = practices[practices[C.LSOA_CODE].notna() & practices[C.X].notna()]
    sites = sited.drop_duplicates([C.X, C.Y])
    assert len(hubs) == len(sites) > 0
    assert set(hubs[C.HUB_ID]) <= set(sited[C.PRACTICE_CODE])
    assert hubs[C.HUB_ID].is_monotonic_increasing
    by_code = practices.set_index(C.PRACTICE_CODE)
    for _, hub in hubs.iterrows():
        practice = by_code.loc[hub[C.HUB_ID]]
        assert hub[C.LSOA_CODE] == practice[C.LSOA_CODE] and hub[C.PLACE_CODE] == practice[C.PLACE_CODE]
        # the practice's name (capitals as title case) and postcode, so a planner can find the building
        assert hub[C.HUB_NAME].lower() == f"{practice[C.PRACTICE_NAME]} ({practice[C.POSTCODE]})".lower()
        assert not hub[C.HUB_NAME].split(" (")[0].isupper()
        assert not hub[C.REQUIRED]


def test_min_list_size_leaves_small_practices_out() -> None:
    scenario = load_scenario(SAMPLE, overrides=["inputs.hubs={from: practices, min_list_size: 8000}"])
    dataset = load_dataset(scenario)
    practices = dataset.practices.set_index(C.PRACTICE_CODE)
    # the list size, or the patients in the registrations file for a practice without one
    sizes = practices[C.LIST_SIZE].fillna(practices["registered"])
    assert practices[C.LIST_SIZE].isna().any()
    assert (sizes.reindex(dataset.hubs[C.HUB_ID]) >= 8000).all()
    (finding,) = [f for f in dataset.findings if f.code == "hubs.small_practices"]
    assert finding.n > 0 and all(sizes[code] < 8000 for code in finding.items)


def test_practices_at_one_site_are_one_hub_named_after_the_largest() -> None:
    """Two practices at the same coordinates: one hub, the practice with more patients."""
    from footprint.config import PracticeHubs
    from footprint.dataset import _hubs_from_practices

    practices = pd.DataFrame(
        {
            C.PRACTICE_CODE: ["A1", "B2", "C3"],
            C.PRACTICE_NAME: ["THE OAKS SURGERY", "Elm GP Practice", "NHS WALK IN CENTRE"],
            C.POSTCODE: ["N3 1AB", "N3 1AB", pd.NA],
            C.LIST_SIZE: [4000.0, 9000.0, 2000.0],
            "registered": [3900.0, 8800.0, 1900.0],
            C.X: [530000.0, 530000.0, 531000.0],
            C.Y: [180000.0, 180000.0, 181000.0],
            C.LSOA_CODE: ["E01000001", "E01000001", "E01000002"],
            C.PLACE_CODE: ["P", "P", "P"],
        }
    )
    findings: list = []
    hubs = _hubs_from_practices(PracticeHubs.model_validate({"from": "practices"}), practices, findings)
    assert hubs[C.HUB_ID].tolist() == ["B2", "C3"]
    assert hubs[C.HUB_NAME].tolist() == ["Elm GP Practice (N3 1AB)", "NHS Walk In Centre"]
    assert [f.code for f in findings] == ["hubs.shared_sites", "hubs.from_practices"]


def test_sample_runs_around_practice_sites(tmp_path: Path) -> None:
    from footprint.export import write_plan
    from footprint.runner import run_scenario

    plan = run_scenario(SAMPLE, overrides=["inputs.hubs={from: practices}", "solver.method=heuristic"])
    assert plan.ok
    write_plan(plan, tmp_path / "run")
    hoods = pd.read_csv(tmp_path / "run" / "neighbourhoods.csv")
    practices = pd.read_csv(REPO / "sample_data" / "practice_locations.csv")
    assert set(hoods["hub_id"]) <= set(practices["PRACTICE_CODE"])
    assert all("(" in name for name in hoods["hub_name"])
