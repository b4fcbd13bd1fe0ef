"""The least-change model: repair a map by moving the fewest residents out of their own map neighbourhood.

A map's neighbourhoods are known, so "moved" needs no matching: LSOA i moves when it is not in its own map
neighbourhood. Each map neighbourhood l gets an anchor centre a(l) (:func:`build_least_change`): with a valid
plan at hand (the heuristic's, which ``repair`` runs first), the centre of the region matched to l, moved onto l's
part of it; otherwise the centre of l's largest connected part (the member LSOA nearest that part's
population-weighted centre, or, with hubs, the free hub standing in it nearest that point). The place is then the model of :mod:`footprint.model` restricted to
the anchors, plus a few candidate centres for new neighbourhoods when the map has too few to fit the bounds (a
neighbourhood over twice the maximum, or fewer neighbourhoods than ``k_min``), plus the centres of the scenario's
locks and required hubs. With x[i,c] = 1 when i is served by centre c, home(i) = a(l(i)) and P the residents:

    minimise   moved = sum_i pop_i - sum_{i : home(i) exists} pop_i x[i, home(i)]
    subject to the rows of :func:`footprint.model.build_model` (assignment, k, population bounds, capacity,
               locks, required hubs, contiguity by separator cuts generated from disconnected plans)
               x[i, a(l)] = 1 for every LSOA i of l the workshop keeps (``keep``)

An anchor may close (k_max below the map's count): its residents then all count as moved. LSOAs left out of the
map have no home and always count. The LP bound is far stronger than the matching-based stability term's (whose
relaxation splits the matching); it bounds the least change among plans in which each map neighbourhood keeps
its anchor (a plan whose neighbourhood l holds none of a(l) is outside the model), so "exact" means exact in that
sense. From the heuristic's plan the warm start moves exactly the residents its stability term counts, so the
model's plan is never worse than the heuristic's.
With a share s (``improve``), the objective is the scenario's weighted terms instead and ``moved <= s P`` is one
more row (``moved_at_most``); the least-change plan, when it moves at most that, is its warm start, so the plan
found is never worse than it by the scenario's objective. Contiguity is enforced as in ``run`` with cuts: solve,
cut off every disconnected neighbourhood (:func:`footprint.model.add_contiguity_cuts`), re-solve; each round's
dual bound is a valid bound, the best one is reported with the gap.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pulp

from footprint.heuristic import check_plan, solve_heuristic
from footprint.model import PlaceModel, add_contiguity_cuts, build_model
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import PlaceProblem, Weights, connected_parts
from footprint.solve import SolveOptions, _run_highs, counted_mip_nodes, recombine_budget, solver_version

logger = logging.getLogger(__name__)

#: Most cut rounds before the loop gives up (the best connected plan so far is kept).
MAX_ROUNDS = 60
#: Share of the time limit the heuristic's start may take at most, and its access weight (a tie-break).
HEURISTIC_SHARE = 0.25
START_ACCESS = 1e-3
#: Weights that make the restricted model's own objective empty (the moved expression is set instead).
NO_WEIGHTS = Weights(access=0.0, pcn=0.0, demand=0.0, stability=0.0, community=0.0)


@dataclass(frozen=True)
class LeastChange:
    """A place restricted to its map's anchors and candidates (see the module docstring).

    Attributes
    ----------
    problem
        The place with centres restricted (``centres[k]`` is restricted centre k's index in the full place),
        the keep locks added and k_max capped at the number of centres.
    centres
        Full-place centre index of each restricted centre.
    home
        Restricted centre index of each unit's anchor (-1: the unit is in no map neighbourhood, or its
        neighbourhood has no anchor).
    labels
        Map label of each restricted centre ("" for a candidate new neighbourhood).
    """

    problem: PlaceProblem
    centres: np.ndarray
    home: np.ndarray
    labels: tuple[str, ...]
    #: the ``plan`` anchors were read from, in restricted indices (None: anchors from the map alone)
    start: np.ndarray | None = None

    def moved(self, assignment: np.ndarray) -> int:
        """Residents not served by their own neighbourhood's anchor (``assignment`` in restricted indices)."""
        stays = (self.home >= 0) & (np.asarray(assignment) == self.home)
        return int(self.problem.population[~stays].sum())

    def restrict(self, assignment: np.ndarray) -> np.ndarray | None:
        """A full-place ``assignment`` in restricted indices (None when it uses a centre not kept)."""
        position = {int(c): k for k, c in enumerate(self.centres.tolist())}
        if any(int(c) not in position for c in np.unique(assignment)):
            return None
        return np.array([position[int(c)] for c in assignment], dtype=np.int64)

    def full(self, assignment: np.ndarray) -> np.ndarray:
        """``assignment`` in the full place's centre indices."""
        return self.centres[np.asarray(assignment, dtype=np.int64)]


@dataclass(frozen=True)
class LeastChangeResult:
    """What :func:`solve_least_change` found: a plan (restricted indices, None when none), moved, bound."""

    assignment: np.ndarray | None
    moved: int
    objective: float
    bound: float
    gap: float
    state: str
    rounds: int
    seconds: float
    solver: str
    notes: tuple[str, ...] = ()
    #: residents moved by the warm start (inf: none)
    start: float = math.inf


def _nearest(problem: PlaceProblem, candidates: Sequence[int], point: np.ndarray) -> int | None:
    """The centre among ``candidates`` nearest ``point`` (ties by index)."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (float(np.hypot(*(problem.centre_xy[c] - point))), c))


def _spread(
    problem: PlaceProblem, members: Sequence[int], anchor: int, count: int, taken: set[int]
) -> list[int]:
    """``count`` centres rooted in ``members``, each farthest from the anchor and those already chosen."""
    root_centre: dict[int, list[int]] = {}
    for c, r in enumerate(problem.centre_root.tolist()):
        root_centre.setdefault(int(r), []).append(c)
    pool = [c for u in members for c in root_centre.get(u, []) if c not in taken]
    chosen: list[int] = []
    points = [problem.centre_xy[anchor]]
    for _ in range(count):
        if not pool:
            break
        best = max(
            pool, key=lambda c: (min(float(np.hypot(*(problem.centre_xy[c] - p))) for p in points), -c)
        )
        chosen.append(best)
        points.append(problem.centre_xy[best])
        pool.remove(best)
    return chosen


def _anchors_from_plan(
    problem: PlaceProblem, members: dict[str, list[int]], plan: np.ndarray
) -> tuple[dict[str, int], list[int], np.ndarray]:
    """Anchors read off a valid ``plan`` (full centre indices): each map neighbourhood l matched one-to-one to the
    region keeping most of its residents gets that region's centre, moved onto l's part of the region (the
    member nearest its population-weighted centre) when the plan stays valid; unmatched regions are new
    neighbourhoods. The plan then moves exactly the residents its stability term counts."""
    from scipy.optimize import linear_sum_assignment

    plan = np.asarray(plan, dtype=np.int64).copy()
    labels, regions = sorted(members), sorted(set(plan.tolist()))
    overlap = np.zeros((len(labels), len(regions)))
    for a, label in enumerate(labels):
        for b, centre in enumerate(regions):
            overlap[a, b] = float(problem.population[members[label]][plan[members[label]] == centre].sum())
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    root_centres: dict[int, list[int]] = {}
    for c, r in enumerate(problem.centre_root.tolist()):
        root_centres.setdefault(int(r), []).append(c)
    anchor: dict[str, int] = {}
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        if overlap[a, b] <= 0:
            continue
        label, centre = labels[a], regions[b]
        anchor[label] = centre
        if problem.centre_kind == "unit" and problem.max_distance_km is None:
            part = [u for u in members[label] if plan[u] == centre]
            point = np.average(problem.xy[part], axis=0, weights=problem.population[part] + 1e-9)
            candidates = [c for u in part for c in root_centres.get(u, [])]
            better = _nearest(problem, candidates, point)
            if better is not None and better != centre and not problem.centre_required[centre]:
                trial = plan.copy()
                trial[plan == centre] = better
                if not check_plan(problem, trial) and not any(c == centre for _, c in problem.locks):
                    plan, anchor[label] = trial, better
    new = sorted(set(plan.tolist()) - set(anchor.values()))
    return anchor, new, plan


def build_least_change(
    problem: PlaceProblem,
    hood_of: Sequence[str | None],
    kept: set[str] = frozenset(),
    plan: np.ndarray | None = None,
) -> LeastChange:
    """The place restricted to the anchors of the map ``hood_of`` (label per unit, None: left out).

    ``kept``: LSOA codes that must stay in their map neighbourhood (locked to its anchor). ``plan``: a valid
    plan (full centre indices) whose matched centres become the anchors (:func:`_anchors_from_plan`) and whose
    other centres candidates; neighbourhoods it does not match get anchors from the map, as without it.

    Raises
    ------
    ValueError
        When a kept LSOA is in no map neighbourhood.
    """
    adjacency = problem.neighbours()
    pop = problem.population.astype(float)
    members: dict[str, list[int]] = {}
    for i, hood in enumerate(hood_of):
        if hood is not None:
            members.setdefault(hood, []).append(i)
    root_centres: dict[int, list[int]] = {}
    for c, r in enumerate(problem.centre_root.tolist()):
        root_centres.setdefault(int(r), []).append(c)
    anchor: dict[str, int] = {}
    from_plan: list[int] = []
    if plan is not None:
        anchor, from_plan, plan = _anchors_from_plan(problem, members, plan)
    taken: set[int] = set(anchor.values()) | set(from_plan)
    # largest neighbourhoods first, so a hub two neighbourhoods want goes to the one keeping more residents
    for hood in sorted(members, key=lambda h: (-pop[members[h]].sum(), h)):
        if hood in anchor:
            continue
        parts = connected_parts(members[hood], adjacency)
        main = max(parts, key=lambda part: (pop[part].sum(), -part[0]))
        point = np.average(problem.xy[main], axis=0, weights=pop[main] + 1e-9)
        inside = [c for u in main for c in root_centres.get(u, []) if c not in taken]
        anywhere = [c for u in members[hood] for c in root_centres.get(u, []) if c not in taken]
        others = [c for c in range(problem.n_centres) if c not in taken]
        choice = _nearest(
            problem, inside or anywhere or (others if problem.centre_kind == "hub" else []), point
        )
        if choice is not None:
            anchor[hood] = choice
            taken.add(choice)
    extras: list[int] = list(from_plan)
    for hood in sorted(anchor):
        over = math.ceil(pop[members[hood]].sum() / problem.pop_max) - 1
        if over > 0:
            extras += _spread(problem, members[hood], anchor[hood], over, taken | set(extras))
    short = problem.k_min - len(anchor) - len(extras)
    for hood in sorted(anchor, key=lambda h: (-pop[members[h]].sum(), h)):
        if short <= 0:
            break
        more = _spread(problem, members[hood], anchor[hood], 1, taken | set(extras))
        extras += more
        short -= len(more)
    if problem.centre_kind == "hub":
        extras += [c for c in range(problem.n_centres) if c not in taken and c not in extras]
    fixed = set(np.flatnonzero(problem.centre_required).tolist()) | {c for _, c in problem.locks}
    chosen = sorted(taken | set(extras) | fixed)
    position = {c: k for k, c in enumerate(chosen)}
    label_of = {c: h for h, c in anchor.items()}
    home = np.array(
        [position[anchor[h]] if h is not None and h in anchor else -1 for h in hood_of], dtype=np.int64
    )
    locks = {unit: position[c] for unit, c in problem.locks}
    for i, code in enumerate(problem.unit_codes):
        if code in kept and i not in locks:
            if home[i] < 0:
                raise ValueError(f"{code} is in no neighbourhood of the map, so it cannot stay where it is")
            locks[i] = int(home[i])
    index = np.array(chosen, dtype=np.int64)
    restricted = replace(
        problem,
        centre_ids=tuple(problem.centre_ids[c] for c in chosen),
        centre_root=problem.centre_root[index],
        centre_xy=problem.centre_xy[index],
        centre_required=problem.centre_required[index],
        centre_capacity=problem.centre_capacity[index],
        distance_km=problem.distance_km[:, index],
        locks=tuple(sorted(locks.items())),
        k_max=min(problem.k_max, len(chosen)),
    )
    least = LeastChange(
        problem=restricted, centres=index, home=home, labels=tuple(label_of.get(c, "") for c in chosen)
    )
    return least if plan is None else replace(least, start=least.restrict(plan))


def moved_expression(model: PlaceModel, least: LeastChange) -> pulp.LpAffineExpression:
    """moved = sum_i pop_i - sum_i pop_i x[i, home(i)] (residents)."""
    p, x = least.problem, model.variables.x
    kept = [
        (float(p.population[i]), x[(i, int(h))])
        for i, h in enumerate(least.home.tolist())
        if h >= 0 and (i, int(h)) in x
    ]
    return float(p.population.sum()) - pulp.lpSum(w * var for w, var in kept)


def solve_least_change(
    least: LeastChange,
    options: SolveOptions,
    *,
    share: float | None = None,
    weights: Weights | None = None,
    start: np.ndarray | None = None,
    time_limit: float | None = None,
    contiguity: str = "cuts",
) -> LeastChangeResult:
    """The least-change plan of ``least`` (or, with ``share`` and ``weights``, the best plan by those weights
    moving at most ``share`` of the residents), by HiGHS with contiguity cuts; ``start`` (restricted indices)
    is offered as the warm start and the incumbent when it is valid."""
    started = time.perf_counter()
    limit = options.time_limit if time_limit is None else time_limit
    total = float(least.problem.population.sum())
    improving = share is not None
    problem = replace(least.problem, weights=weights if improving and weights else NO_WEIGHTS)
    if not improving:
        problem = replace(problem, baseline=None)
    model = build_model(problem, contiguity=contiguity)  # type: ignore[arg-type]
    moved = moved_expression(model, least)
    if improving:
        model.add(
            moved <= float(share) * total,
            "moved_at_most",
            (),
            f"at most {float(share):.1%} of the residents ({float(share) * total:,.0f}) leave their neighbourhood",
        )

        def value(assignment: np.ndarray) -> float:
            return weighted_objective(problem, evaluate_terms(problem, assignment))
    else:
        model.lp.setObjective(moved)

        def value(assignment: np.ndarray) -> float:
            return float(least.moved(assignment))

    def valid(assignment: np.ndarray) -> bool:
        return not check_plan(problem, assignment) and (
            not improving or least.moved(assignment) <= float(share) * total + 1e-6
        )

    best, best_value, bound, notes = None, math.inf, -math.inf, []
    if start is not None and valid(start):
        best, best_value = np.asarray(start, dtype=np.int64).copy(), value(start)
    if best is None and least.start is not None and valid(least.start):
        best, best_value = least.start.copy(), value(least.start)
    if best is None and not improving:
        heuristic = start_plan(least, options, None if options.counted else started + HEURISTIC_SHARE * limit)
        if heuristic is not None and valid(heuristic):
            best, best_value = heuristic, value(heuristic)
    first = best_value
    rounds, state = 0, "stopped"
    # counted work: the cut rounds share one node budget, the nodes that stand for the limit
    nodes = counted_mip_nodes(limit)
    while options.method != "heuristic" or best is None:
        time_left = limit - (time.perf_counter() - started)
        if options.counted and nodes <= 0:
            notes.append(f"node limit reached after {rounds} cut rounds")
            break
        if time_left <= 2.0 and not options.counted:
            notes.append(f"time limit reached after {rounds} cut rounds")
            break
        warm = best is not None and model.set_start(best)
        result = _run_highs(model, options, time_left, warm, nodes=nodes)
        nodes -= max(result.nodes, 1)
        rounds += 1
        if math.isfinite(result.bound):
            bound = max(bound, result.bound)
        if result.state == "infeasible":
            state = "infeasible" if best is None else "optimal"
            if best is not None:
                bound = best_value
            break
        assignment = model.assignment() if result.has_plan else None
        connected = assignment is not None and not check_plan(problem, assignment)
        if connected and value(assignment) < best_value - 1e-9 and valid(assignment):
            best, best_value = assignment, value(assignment)
        if result.state == "optimal" and connected:
            state = "optimal"
            break
        if best is not None and best_value - bound <= options.gap * max(abs(best_value), 1e-9):
            state = "optimal"
            break
        if result.state != "optimal" or assignment is None:
            notes.append(
                f"{'node' if options.counted else 'time'} limit reached in cut round {rounds}"
                if result.state == "stopped"
                else f"the solver stopped ({result.detail})"
            )
            break
        if (
            contiguity == "flow"
            or rounds >= MAX_ROUNDS
            or add_contiguity_cuts(model, assignment, rounds) == 0
        ):
            notes.append(f"stopped after {rounds} cut rounds")
            break
    if best is not None and math.isfinite(bound):
        bound = min(bound, best_value)
    gap = (
        max(0.0, (best_value - bound) / max(abs(best_value), 1e-9))
        if best is not None and math.isfinite(bound)
        else math.nan
    )
    if best is not None and best_value == 0:
        gap = 0.0 if math.isfinite(bound) else gap
    return LeastChangeResult(
        assignment=best,
        moved=least.moved(best) if best is not None else -1,
        objective=best_value if best is not None else math.nan,
        bound=bound if math.isfinite(bound) else math.nan,
        gap=gap,
        state=state,
        rounds=rounds,
        seconds=time.perf_counter() - started,
        solver=solver_version("highs"),
        notes=tuple(notes),
        start=first,
    )


def start_plan(least: LeastChange, options: SolveOptions, deadline: float | None) -> np.ndarray | None:
    """A valid plan near the map to start from: the heuristic on the restricted place, its stability term
    measured against the anchors (residents kept under the best matching of anchors to neighbourhoods)."""
    problem = replace(
        least.problem,
        baseline=least.home,
        weights=Weights(access=START_ACCESS, pcn=0.0, demand=0.0, stability=1.0, community=0.0),
    )
    result = solve_heuristic(
        problem, seed=options.seed, recombine=recombine_budget(options), deadline=deadline
    )
    return None if result is None else recentre_on_anchors(least, result.assignment)


def recentre_on_anchors(least: LeastChange, assignment: np.ndarray) -> np.ndarray:
    """``assignment`` with each neighbourhood served by the anchor (rooted in it) keeping most residents at home.

    Two map neighbourhoods merged keep the label of the one that stays whole (the heuristic picks the centre for
    access); a plan this makes invalid (a radius or capacity broken) is returned unchanged.
    """
    problem = least.problem
    out = np.asarray(assignment, dtype=np.int64).copy()
    for centre in sorted(set(out.tolist())):
        region = out == centre
        rooted = [c for c in range(problem.n_centres) if region[int(problem.centre_root[c])]]
        kept = {c: float(problem.population[region & (least.home == c)].sum()) for c in rooted}
        best = max(rooted, key=lambda c: (kept[c], c == centre, -c))
        out[region] = best
    return out if not check_plan(problem, out) else np.asarray(assignment, dtype=np.int64)
