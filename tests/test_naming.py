"""Neighbourhood names from area names: the rule, uniqueness within a place, and the real London MSOA names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from footprint.config import load_scenario
from footprint.naming import name_neighbourhoods

REPO = Path(__file__).resolve().parents[1]
LONDON = REPO.parent / "shared" / "data" / "london"


def _fallback(*hoods: str) -> dict[str, str]:
    return {hood: f"Barnet {hood.rsplit('-', 1)[1]}" for hood in hoods}


def test_named_after_the_area_holding_most_residents() -> None:
    """A: 3 LSOAs, Hendon 2,000 + 1,500, Colindale 400 (10%: left out of the name)."""
    names = name_neighbourhoods(
        ["A-01"] * 3,
        np.array([2000, 1500, 400]),
        ["Hendon", "Hendon", "Colindale"],
        fallback=_fallback("A-01"),
    )
    assert names == {"A-01": "Hendon"}


def test_second_area_named_when_it_holds_a_quarter() -> None:
    """Church End 60%, Finchley Central 40%: both, the larger first."""
    names = name_neighbourhoods(
        ["A-01"] * 2, np.array([1200, 1800]), ["Finchley Central", "Church End"], fallback=_fallback("A-01")
    )
    assert names == {"A-01": "Church End & Finchley Central"}


def test_names_unique_within_a_place() -> None:
    """Two neighbourhoods both mostly in Hendon take their next area; two identical ones take their ordinal.

    A-01: Hendon 3,000, Mill Hill 500 -> "Hendon & Mill Hill"; A-02: Hendon 3,000, Burnt Oak 400 ->
    "Hendon & Burnt Oak"; A-03 and A-04 only Golders Green -> "Golders Green (03)", "Golders Green (04)".
    """
    labels = ["A-01", "A-01", "A-02", "A-02", "A-03", "A-04"]
    population = np.array([3000, 500, 3000, 400, 1000, 1000])
    areas = ["Hendon", "Mill Hill", "Hendon", "Burnt Oak", "Golders Green", "Golders Green"]
    names = name_neighbourhoods(labels, population, areas, fallback=_fallback(*sorted(set(labels))))
    assert names == {
        "A-01": "Hendon & Mill Hill",
        "A-02": "Hendon & Burnt Oak",
        "A-03": "Golders Green (03)",
        "A-04": "Golders Green (04)",
    }
    assert len(set(names.values())) == len(names)


def test_without_area_names_the_place_and_ordinal() -> None:
    labels = ["A-01", "A-02", "A-02"]
    names = name_neighbourhoods(
        labels, np.ones(3), [None, None, "Edgware"], fallback=_fallback("A-01", "A-02")
    )
    assert names == {"A-01": "Barnet 01", "A-02": "Edgware"}
    assert name_neighbourhoods(labels, np.ones(3), None, fallback=_fallback("A-01", "A-02")) == {
        "A-01": "Barnet 01",
        "A-02": "Barnet 02",
    }


@pytest.mark.london
@pytest.mark.slow
@pytest.mark.skipif(not LONDON.exists(), reason="needs ../shared/data/london")
def test_london_neighbourhoods_named_after_their_msoas(tmp_path: Path) -> None:
    """Barnet and Kensington and Chelsea: every name is an MSOA name (or two), unique within its place."""
    from footprint.export import write_plan
    from footprint.runner import run_scenario

    scenario = load_scenario(REPO / "configs" / "london.yaml", overrides=["solver.method=heuristic"])
    plan = run_scenario(scenario, places=["E09000003", "E09000020"])
    write_plan(plan, tmp_path / "run")
    hoods = pd.read_csv(tmp_path / "run" / "neighbourhoods.csv")
    msoa_names = set(pd.read_csv(LONDON / "MSOA-Names-1.14.csv", encoding="utf-8-sig")["msoa11hclnm"])
    for place, group in hoods.groupby("place_code"):
        assert group["neighbourhood_name"].is_unique, place
    for name in hoods["neighbourhood_name"]:
        # one MSOA name, or two joined by " & " (MSOA names may hold "&" themselves)
        assert name in msoa_names or any(
            name == f"{first} & {second}"
            for first in msoa_names
            if name.startswith(first + " & ")
            for second in [name[len(first) + 3 :]]
            if second in msoa_names
        ), name
    assert len(hoods) >= 14
