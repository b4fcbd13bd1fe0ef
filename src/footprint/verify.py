"""The independent verifier: does a plan meet every hard rule? Shares no code with the model or heuristic.

It reads a plan as plain mappings of codes (LSOA -> neighbourhood, neighbourhood -> hub) and checks, with its own
breadth-first search: every LSOA of the planned places assigned exactly once and no unknown LSOA; each
neighbourhood inside one place (nesting); each neighbourhood connected in the contiguity graph; population within
[min, max]; the number of neighbourhoods per place within [k_min, k_max] when given; each hub's own LSOA inside the
neighbourhood it serves; every required hub used; every lock honoured; every LSOA within the access radius of its
hub when one is set. The verdict lists each failure in words, naming the neighbourhood and the numbers.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlanRules:
    """The hard rules a plan must meet, as plain data.

    Attributes
    ----------
    unit_place
        Place code of every LSOA that must be assigned (the LSOAs of the planned places).
    population
        The bounded measure per LSOA.
    edges
        Contiguity pairs of LSOA codes (any order; edges to other places are ignored).
    pop_min, pop_max
        Inclusive neighbourhood bounds.
    k_min, k_max
        Per place: allowed number of neighbourhoods (missing = unchecked).
    hub_unit
        Hub id -> LSOA code the hub stands in (for hub plans; for LSOA-centre plans the centre LSOA itself).
    required_hubs
        Hubs that must serve a neighbourhood.
    locks
        LSOA code -> hub id it must be served by.
    unit_xy, hub_xy, max_distance_km
        Coordinates (metres) for the access-radius check; skipped when ``max_distance_km`` is None.
    """

    unit_place: Mapping[str, str]
    population: Mapping[str, float]
    edges: Iterable[tuple[str, str]]
    pop_min: float
    pop_max: float
    k_min: Mapping[str, int] = field(default_factory=dict)
    k_max: Mapping[str, int] = field(default_factory=dict)
    hub_unit: Mapping[str, str] = field(default_factory=dict)
    required_hubs: Iterable[str] = ()
    locks: Mapping[str, str] = field(default_factory=dict)
    unit_xy: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    hub_xy: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    max_distance_km: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The verifier's answer: ``ok`` and every failure, each one line."""

    ok: bool
    failures: tuple[str, ...]
    checks: tuple[str, ...]
    neighbourhoods: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "neighbourhoods": self.neighbourhoods,
            "checks": list(self.checks),
            "failures": list(self.failures),
        }


CHECKS = ("complete", "nested", "contiguous", "population", "count", "hubs", "locks", "access")


def verify_plan(
    assignment: Mapping[str, str], neighbourhood_hub: Mapping[str, str], rules: PlanRules
) -> Verdict:
    """Check ``assignment`` (LSOA -> neighbourhood id) and ``neighbourhood_hub`` against ``rules``."""
    failures: list[str] = []

    # complete: every LSOA exactly once (a mapping cannot hold a key twice), none unknown
    missing = sorted(set(rules.unit_place) - set(assignment))
    unknown = sorted(set(assignment) - set(rules.unit_place))
    if missing:
        failures.append(f"complete: {len(missing)} LSOAs are not assigned ({_few(missing)})")
    if unknown:
        failures.append(
            f"complete: {len(unknown)} assigned LSOAs are not in the planned places ({_few(unknown)})"
        )

    members: dict[str, list[str]] = defaultdict(list)
    for unit, hood in assignment.items():
        if unit in rules.unit_place:
            members[hood].append(unit)

    # nested: each neighbourhood within one place
    hood_place: dict[str, str] = {}
    for hood, units in sorted(members.items()):
        places = sorted({rules.unit_place[u] for u in units})
        if len(places) > 1:
            failures.append(f"nested: neighbourhood {hood} spans places {', '.join(places)}")
        hood_place[hood] = places[0]

    # contiguous: own BFS over the edges restricted to the neighbourhood
    adjacency: dict[str, set[str]] = defaultdict(set)
    for a, b in rules.edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    for hood, units in sorted(members.items()):
        inside = set(units)
        start = min(inside)
        seen = {start}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            for there in adjacency[here]:
                if there in inside and there not in seen:
                    seen.add(there)
                    queue.append(there)
        if len(seen) != len(inside):
            cut_off = sorted(inside - seen)
            failures.append(
                f"contiguous: neighbourhood {hood} is in pieces: {len(cut_off)} of its {len(inside)} LSOAs are not "
                f"connected to {start} ({_few(cut_off)})"
            )

    # population bounds
    for hood, units in sorted(members.items()):
        total = sum(float(rules.population[u]) for u in units)
        if total < rules.pop_min - 1e-6 or total > rules.pop_max + 1e-6:
            failures.append(
                f"population: neighbourhood {hood} has {total:,.0f}, outside {rules.pop_min:,.0f}-{rules.pop_max:,.0f}"
            )

    # count per place
    per_place: dict[str, int] = defaultdict(int)
    for place in hood_place.values():
        per_place[place] += 1
    for place in sorted(set(rules.unit_place.values())):
        count = per_place.get(place, 0)
        low, high = rules.k_min.get(place), rules.k_max.get(place)
        if (low is not None and count < low) or (high is not None and count > high):
            failures.append(f"count: place {place} has {count} neighbourhoods, allowed {low}-{high}")

    # hubs: each neighbourhood's hub stands inside it; hubs not reused; required hubs used
    used: dict[str, str] = {}
    for hood in sorted(members):
        hub = neighbourhood_hub.get(hood)
        if hub is None:
            failures.append(f"hubs: neighbourhood {hood} has no hub")
            continue
        if hub in used:
            failures.append(f"hubs: hub {hub} serves both {used[hub]} and {hood}")
        used[hub] = hood
        home = rules.hub_unit.get(hub)
        if home is not None and assignment.get(home) != hood:
            failures.append(f"hubs: hub {hub} stands in {home}, which is not in its neighbourhood {hood}")
    required = {hub for hub in rules.required_hubs if rules.hub_unit.get(hub) in rules.unit_place}
    for hub in sorted(required - set(used)):
        failures.append(f"hubs: required hub {hub} serves no neighbourhood")

    # locks
    for unit, hub in sorted(rules.locks.items()):
        hood = assignment.get(unit)
        if hood is None or neighbourhood_hub.get(hood) != hub:
            failures.append(
                f"locks: {unit} is locked to hub {hub} but is served by {neighbourhood_hub.get(hood or '', 'none')}"
            )

    # access radius
    if rules.max_distance_km is not None:
        far: list[str] = []
        for unit, hood in sorted(assignment.items()):
            hub = neighbourhood_hub.get(hood)
            if hub is None or unit not in rules.unit_xy or hub not in rules.hub_xy:
                continue
            if rules.locks.get(unit) == hub or rules.hub_unit.get(hub) == unit:
                continue
            (ux, uy), (hx, hy) = rules.unit_xy[unit], rules.hub_xy[hub]
            if ((ux - hx) ** 2 + (uy - hy) ** 2) ** 0.5 / 1000.0 > rules.max_distance_km + 1e-9:
                far.append(unit)
        if far:
            failures.append(
                f"access: {len(far)} LSOAs are farther than {rules.max_distance_km} km from their hub ({_few(far)})"
            )

    return Verdict(ok=not failures, failures=tuple(failures), checks=CHECKS, neighbourhoods=len(members))


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
