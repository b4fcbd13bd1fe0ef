"""The independent verifier accepts good plans and names every broken rule."""

from __future__ import annotations

import pytest

from footprint.verify import PlanRules, verify_plan

#   a - b - c
#   |   |   |
#   d - e - f      (rook grid 2 x 3), population 10 each, place P
EDGES = [("a", "b"), ("b", "c"), ("d", "e"), ("e", "f"), ("a", "d"), ("b", "e"), ("c", "f")]
UNITS = "abcdef"


def rules(**kwargs) -> PlanRules:
    base = {
        "unit_place": {u: "P" for u in UNITS},
        "population": {u: 10 for u in UNITS},
        "edges": EDGES,
        "pop_min": 20,
        "pop_max": 40,
        "hub_unit": {"h1": "a", "h2": "f"},
    }
    base.update(kwargs)
    return PlanRules(**base)


GOOD = {"a": "N1", "b": "N1", "d": "N1", "c": "N2", "e": "N2", "f": "N2"}
HUBS = {"N1": "h1", "N2": "h2"}


def test_good_plan_passes() -> None:
    verdict = verify_plan(GOOD, HUBS, rules())
    assert verdict.ok and verdict.failures == () and verdict.neighbourhoods == 2


def test_disconnected_neighbourhood() -> None:
    plan = {"a": "N1", "c": "N1", "b": "N2", "d": "N2", "e": "N2", "f": "N2"}
    verdict = verify_plan(plan, {"N1": "h1", "N2": "h2"}, rules(pop_min=10, pop_max=50))
    assert verdict.failures == (
        "contiguous: neighbourhood N1 is in pieces: 1 of its 2 LSOAs are not connected to a (c)",
    )


def test_missing_unknown_and_bounds() -> None:
    plan = {"a": "N1", "b": "N1", "c": "N1", "d": "N1", "e": "N1", "z": "N1"}
    verdict = verify_plan(plan, {"N1": "h1"}, rules())
    assert verdict.failures == (
        "complete: 1 LSOAs are not assigned (f)",
        "complete: 1 assigned LSOAs are not in the planned places (z)",
        "population: neighbourhood N1 has 50, outside 20-40",
    )


def test_nesting_count_hubs_locks_and_access() -> None:
    places = {u: ("P" if u in "abd" else "Q") for u in UNITS}
    plan = {"a": "N1", "b": "N1", "d": "N1", "c": "N1", "e": "N2", "f": "N2"}
    verdict = verify_plan(
        plan,
        {"N1": "h2", "N2": "h2"},
        rules(
            unit_place=places,
            pop_min=0,
            k_max={"Q": 0},
            required_hubs=["h1"],
            locks={"e": "h1"},
            unit_xy={u: (0.0, 0.0) for u in UNITS} | {"c": (5000.0, 0.0)},
            hub_xy={"h1": (0.0, 0.0), "h2": (0.0, 0.0)},
            max_distance_km=2.0,
        ),
    )
    assert verdict.failures == (
        "nested: neighbourhood N1 spans places P, Q",
        "count: place Q has 1 neighbourhoods, allowed None-0",
        "hubs: hub h2 stands in f, which is not in its neighbourhood N1",
        "hubs: hub h2 serves both N1 and N2",
        "hubs: required hub h1 serves no neighbourhood",
        "locks: e is locked to hub h1 but is served by h2",
        "access: 1 LSOAs are farther than 2.0 km from their hub (c)",
    )


@pytest.mark.parametrize("hub_map", [{"N1": "h1"}, {}])
def test_neighbourhood_without_hub(hub_map: dict[str, str]) -> None:
    verdict = verify_plan(GOOD, hub_map, rules())
    assert "hubs: neighbourhood N2 has no hub" in verdict.failures
