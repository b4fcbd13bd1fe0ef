"""A fast, deterministic heuristic: seeded region growing, repair, then contiguity-preserving local search.

Used as the MIP's warm start (its plan is an incumbent from the first second) and as the fallback when the MIP
has no incumbent at the time limit or the place is too large to solve exactly. It only ever returns plans that
keep every hard rule: each region connected and rooted at its centre, population within bounds, k within range,
access radius, locks, required hubs and capacities. It returns ``None`` when it cannot find such a plan.

Steps, for each candidate k and each of a fixed number of restarts (seeded ``numpy.random.Generator``; no time-
based stopping, so results are reproducible):

1. seeds: required and locked centres first; the rest by weighted k-means++ on population and a few Lloyd
   iterations, snapped to the nearest allowed candidate centre;
2. growth: a shared priority queue grows every region from its root by nearest-first, never past ``pop_max``;
   units left over join the smallest adjacent region;
3. repair: boundary moves that reduce the total bound violation while keeping donors connected;
4. improvement: first-improvement passes over boundary moves (donor stays connected, bounds and rules hold)
   with exact incremental deltas of the weighted objective; when no move helps, paired moves (u: A -> B, then
   v: B -> A) that single moves cannot make under tight bounds; and, for LSOA centres, re-centring each region on
   its best candidate centre between passes.

Every plan is checked against all hard rules (:func:`check_plan`) before it is returned. Measured on synthetic
LSOA-like places (``benchmarks/bench_solver.py``, one shared core): N=150 in 0.5 s, N=250 in 1.2 s, N=500 in
4.8 s; on N=150 with every LSOA a centre it is 2% above the MIP's best plan, on N=150/250 with hubs 1.5%.
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from footprint.objective import access_scale, evaluate_terms, pcn_total, weighted_objective
from footprint.problem import PlaceProblem

logger = logging.getLogger(__name__)


@dataclass
class HeuristicResult:
    """The best plan found and its weighted objective."""

    assignment: np.ndarray
    objective: float
    k: int


def allowed_matrix(problem: PlaceProblem) -> np.ndarray:
    """allowed[i, c]: unit i may be served by centre c (radius; roots and locks always allowed)."""
    if problem.max_distance_km is None:
        allowed = np.ones((problem.n_units, problem.n_centres), dtype=bool)
    else:
        allowed = problem.distance_km <= problem.max_distance_km + 1e-9
    allowed[problem.centre_root, np.arange(problem.n_centres)] = True
    for unit, centre in problem.locks:
        allowed[unit, :] = False
        allowed[unit, centre] = True
    return allowed


class _State:
    """Regions r = 0..k-1 with centre ``centre[r]``; ``region[i]`` per unit; running sums for fast deltas."""

    def __init__(self, problem: PlaceProblem, centres: list[int], region: np.ndarray) -> None:
        self.p = problem
        self.centre = list(centres)
        self.region = region.copy()
        k = len(centres)
        pop = problem.population.astype(float)
        self.pop = np.bincount(region, weights=pop, minlength=k)
        self.load = np.bincount(region, weights=_load_vector(problem), minlength=k)
        self.pcn = problem.pcn_patients @ np.eye(k)[region] if problem.pcn_patients.size else np.zeros((0, k))
        self.demand = (
            np.bincount(region, weights=problem.demand, minlength=k) if problem.demand is not None else None
        )
        if problem.groups is not None:
            n_groups = int(problem.groups.max()) + 1 if (problem.groups >= 0).any() else 0
            self.group_count = np.zeros((n_groups, k), dtype=np.int64)
            known = problem.groups >= 0
            np.add.at(self.group_count, (problem.groups[known], region[known]), 1)
        else:
            self.group_count = None
        self.match = self._matching()

    def _matching(self) -> np.ndarray | None:
        """Baseline label -> region slot (or -1) maximising kept population; held fixed during a pass."""
        baseline = self.p.baseline
        if baseline is None or not (baseline >= 0).any():
            return None
        from scipy.optimize import linear_sum_assignment

        k = len(self.centre)
        n_labels = int(baseline.max()) + 1
        overlap = np.zeros((n_labels, k))
        known = baseline >= 0
        np.add.at(overlap, (baseline[known], self.region[known]), self.p.population[known].astype(float))
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        match = np.full(n_labels, -1, dtype=np.int64)
        match[rows] = cols
        return match


def _load_vector(problem: PlaceProblem) -> np.ndarray:
    """What hub capacity limits: demand when given, else population."""
    if problem.demand is not None and problem.demand.sum() > 0:
        return problem.demand.astype(float)
    return problem.population.astype(float)


def solve_heuristic(problem: PlaceProblem, *, seed: int = 0, restarts: int = 4) -> HeuristicResult | None:
    """The best valid plan over candidate k, seeded restarts and both growth modes.

    Parameters
    ----------
    problem
        The place.
    seed
        Seed of the ``numpy.random.Generator`` that places the seeds (same seed, same plan).
    restarts
        Seed placements tried per k.

    Returns
    -------
    HeuristicResult or None
        The plan with its weighted objective and k, or None when no valid plan was found.
    """
    if problem.k_min > problem.k_max or problem.n_units == 0:
        return None
    rng = np.random.default_rng(seed)
    allowed = allowed_matrix(problem)
    neighbours = problem.neighbours()
    best: HeuristicResult | None = None
    for k in _candidate_ks(problem):
        for attempt in range(restarts + 1):
            if attempt == restarts:  # one more start from where the PCNs' patients live, when k PCNs do
                points = _pcn_points(problem, k)
                if points is None:
                    continue
                centres = _choose_seeds(problem, k, allowed, rng, start=points)
            else:
                centres = _choose_seeds(problem, k, allowed, rng)
            if centres is None:
                continue
            for balanced in (False, True):
                region = _grow(problem, centres, allowed, neighbours, balanced=balanced)
                if region is None:
                    continue
                state = _State(problem, centres, region)
                if not _repair(state, allowed, neighbours):
                    continue
                _improve(state, allowed, neighbours)
                assignment = np.array([state.centre[r] for r in state.region], dtype=np.int64)
                broken = check_plan(problem, assignment)
                if broken:  # a bug guard: never hand back an invalid plan
                    logger.warning("place %s: heuristic plan rejected: %s", problem.place_code, broken)
                    continue
                objective = weighted_objective(problem, evaluate_terms(problem, assignment))
                if best is None or objective < best.objective - 1e-12:
                    best = HeuristicResult(assignment=assignment, objective=objective, k=k)
    return best


def _candidate_ks(problem: PlaceProblem) -> list[int]:
    """Every feasible k when few, else four spread across the range (always including both ends)."""
    forced = int(problem.centre_required.sum()) + len(
        {c for _, c in problem.locks if not problem.centre_required[c]}
    )
    low = max(problem.k_min, forced, 1)
    ks = list(range(low, problem.k_max + 1))
    if len(ks) > 4:
        picks = np.linspace(0, len(ks) - 1, 4).round().astype(int)
        ks = sorted({ks[i] for i in picks})
    return ks


def _pcn_points(problem: PlaceProblem, k: int) -> np.ndarray | None:
    """Seed points (km) at the patient-weighted centroids of the k PCNs with most patients here.

    A neighbourhood grown around where a PCN's patients live tends to hold most of them, which the PCN term
    rewards; None when the place has fewer than k PCNs with patients (then the k-means seeds are used).
    """
    patients = problem.pcn_patients
    if not patients.size or problem.weights.pcn <= 0:
        return None
    totals = patients.sum(axis=1)
    order = [int(q) for q in np.lexsort((np.arange(len(totals)), -totals)) if totals[q] > 0]
    if len(order) < k:
        return None
    xy = problem.xy / 1000.0
    return np.array([patients[q] @ xy / totals[q] for q in order[:k]])


def _choose_seeds(
    problem: PlaceProblem,
    k: int,
    allowed: np.ndarray,
    rng: np.random.Generator,
    start: np.ndarray | None = None,
) -> list[int] | None:
    """k centres: required and locked ones, the rest from k-means++ points (or ``start``) refined by Lloyd."""
    fixed = sorted({int(c) for c in np.flatnonzero(problem.centre_required)} | {c for _, c in problem.locks})
    if len(fixed) > k or problem.n_centres < k:
        return None
    weights = problem.population.astype(float) + 1.0
    xy = problem.xy / 1000.0
    points = [problem.centre_xy[c] / 1000.0 for c in fixed]
    if start is not None:
        points += [point for point in start[: k - len(fixed)]]
    # weighted k-means++ on units, then Lloyd iterations with the fixed centres pinned
    while len(points) < k:
        if points:
            d2 = np.min(((xy[:, None, :] - np.array(points)[None, :, :]) ** 2).sum(axis=2), axis=1)
        else:
            d2 = np.ones(len(xy))
        probability = weights * d2
        probability = probability / probability.sum() if probability.sum() > 0 else weights / weights.sum()
        points.append(xy[rng.choice(len(xy), p=probability)])
    points_arr = np.array(points)
    for _ in range(8):
        nearest = np.argmin(((xy[:, None, :] - points_arr[None, :, :]) ** 2).sum(axis=2), axis=1)
        for slot in range(len(fixed), k):
            mask = nearest == slot
            if mask.any():
                points_arr[slot] = np.average(xy[mask], axis=0, weights=weights[mask])
    centres = list(fixed)
    taken = set(fixed)
    roots_taken = {int(problem.centre_root[c]) for c in fixed}
    centre_xy = problem.centre_xy / 1000.0
    for slot in range(len(fixed), k):
        order = np.argsort(((centre_xy - points_arr[slot]) ** 2).sum(axis=1), kind="stable")
        choice = next(
            (int(c) for c in order if int(c) not in taken and int(problem.centre_root[c]) not in roots_taken),
            None,
        )
        if choice is None:
            return None
        centres.append(choice)
        taken.add(choice)
        roots_taken.add(int(problem.centre_root[choice]))
    if any(not allowed[problem.centre_root[c], c] for c in centres):
        return None
    return centres


def _grow(
    problem: PlaceProblem,
    centres: list[int],
    allowed: np.ndarray,
    neighbours: list[list[int]],
    *,
    balanced: bool,
) -> np.ndarray | None:
    """Grow every region from its root, capped at pop_max; leftovers join the smallest adjacent region.

    ``balanced=False`` grows nearest-first across all regions (compact); ``balanced=True`` always grows the
    region with the fewest people by its nearest free neighbour (even sizes, for tight bounds).
    """
    growth = _Growth(problem, centres, allowed)
    if not growth.seed_roots():
        return None
    if balanced:
        frontier: list[list[tuple[float, int]]] = [[] for _ in centres]
        for r, root in enumerate(growth.roots):
            for v in neighbours[root]:
                heapq.heappush(frontier[r], (growth.distance(v, r), v))
        active = set(range(len(centres)))
        while active:
            r = min(active, key=lambda slot: (growth.sizes[slot], slot))
            while frontier[r]:
                _, unit = heapq.heappop(frontier[r])
                if growth.admits(unit, r):
                    growth.take(unit, r)
                    for v in neighbours[unit]:
                        if growth.region[v] == -1:
                            heapq.heappush(frontier[r], (growth.distance(v, r), v))
                    break
            else:
                active.discard(r)
    else:
        heap: list[tuple[float, int, int]] = []
        for r, root in enumerate(growth.roots):
            for v in neighbours[root]:
                heapq.heappush(heap, (growth.distance(v, r), v, r))
        while heap:
            _, unit, r = heapq.heappop(heap)
            if growth.admits(unit, r):
                growth.take(unit, r)
                for v in neighbours[unit]:
                    if growth.region[v] == -1:
                        heapq.heappush(heap, (growth.distance(v, r), v, r))
    return growth.attach_leftovers(neighbours)


class _Growth:
    """Regions being grown from their roots: who is where, sizes and loads, and the admission rule."""

    def __init__(self, problem: PlaceProblem, centres: list[int], allowed: np.ndarray) -> None:
        self.problem = problem
        self.centres = centres
        self.allowed = allowed
        self.region = np.full(problem.n_units, -1, dtype=np.int64)
        self.pop = problem.population.astype(float)
        self.load = _load_vector(problem)
        self.sizes = np.zeros(len(centres))
        self.loads = np.zeros(len(centres))
        self.capacity = np.nan_to_num(problem.centre_capacity[centres], nan=np.inf)
        self.locked = {unit: centre for unit, centre in problem.locks}
        self.roots = [int(problem.centre_root[c]) for c in centres]

    def distance(self, unit: int, r: int) -> float:
        return float(self.problem.distance_km[unit, self.centres[r]])

    def seed_roots(self) -> bool:
        """Put each root in its region; False when two centres share a root or a root is locked elsewhere."""
        for r, (root, c) in enumerate(zip(self.roots, self.centres, strict=True)):
            if self.region[root] != -1 or self.locked.get(root, c) != c:
                return False
            self.take(root, r)
        return True

    def admits(self, unit: int, r: int) -> bool:
        """Free, allowed, lock-compatible, and within pop_max and capacity."""
        c = self.centres[r]
        return bool(
            self.region[unit] == -1
            and self.allowed[unit, c]
            and self.locked.get(unit, c) == c
            and self.sizes[r] + self.pop[unit] <= self.problem.pop_max
            and self.loads[r] + self.load[unit] <= self.capacity[r]
        )

    def take(self, unit: int, r: int) -> None:
        self.region[unit] = r
        self.sizes[r] += self.pop[unit]
        self.loads[r] += self.load[unit]

    def attach_leftovers(self, neighbours: list[list[int]]) -> np.ndarray | None:
        """Units no region could take within its cap join an adjacent allowed region, smallest first."""
        region = self.region
        for _ in range(self.problem.n_units):
            left = np.flatnonzero(region == -1)
            if len(left) == 0:
                break
            progressed = False
            for unit in left:
                options = sorted(
                    {
                        int(region[v])
                        for v in neighbours[unit]
                        if region[v] != -1 and self.allowed[unit, self.centres[region[v]]]
                    },
                    key=lambda r: (self.sizes[r], r),
                )
                if unit in self.locked:
                    options = [r for r in options if self.centres[r] == self.locked[unit]]
                if options:
                    self.take(unit, options[0])
                    progressed = True
            if not progressed:
                return None
        return region if (region >= 0).all() else None


def _connected_without(state: _State, unit: int, neighbours: list[list[int]]) -> bool:
    """Is the unit's region still connected (to its root) when ``unit`` leaves it?"""
    r = state.region[unit]
    root = int(state.p.centre_root[state.centre[r]])
    if unit == root:
        return False
    members = np.flatnonzero(state.region == r)
    if len(members) <= 2:
        return True
    seen = {root}
    queue = deque([root])
    while queue:
        here = queue.popleft()
        for there in neighbours[here]:
            if there != unit and there not in seen and state.region[there] == r:
                seen.add(there)
                queue.append(there)
    return len(seen) == len(members) - 1


def _violation(state: _State) -> float:
    p = state.p
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    return float(
        np.clip(p.pop_min - state.pop, 0, None).sum()
        + np.clip(state.pop - p.pop_max, 0, None).sum()
        + np.clip(state.load - capacity, 0, None).sum()
    )


def _move(state: _State, unit: int, target: int) -> None:
    p = state.p
    source = state.region[unit]
    pop = float(p.population[unit])
    load = float(_load_vector(p)[unit])
    state.pop[source] -= pop
    state.pop[target] += pop
    state.load[source] -= load
    state.load[target] += load
    if state.pcn.size:
        state.pcn[:, source] -= p.pcn_patients[:, unit]
        state.pcn[:, target] += p.pcn_patients[:, unit]
    if state.demand is not None:
        state.demand[source] -= p.demand[unit]
        state.demand[target] += p.demand[unit]
    if state.group_count is not None and p.groups[unit] >= 0:
        state.group_count[p.groups[unit], source] -= 1
        state.group_count[p.groups[unit], target] += 1
    state.region[unit] = target


def _candidate_moves(state: _State, allowed: np.ndarray, neighbours: list[list[int]]):
    """(unit, target region) for boundary units whose target centre is allowed and unit not locked."""
    locked = {unit for unit, _ in state.p.locks}
    for unit in range(state.p.n_units):
        if unit in locked:
            continue
        here = state.region[unit]
        targets = sorted({int(state.region[v]) for v in neighbours[unit]} - {int(here)})
        for target in targets:
            if allowed[unit, state.centre[target]]:
                yield unit, target


def _repair(state: _State, allowed: np.ndarray, neighbours: list[list[int]]) -> bool:
    """Reduce bound and capacity violations by boundary moves until none remain (or no move helps)."""
    p = state.p
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    load_vector = _load_vector(p)
    for _ in range(4 * p.n_units):
        current = _violation(state)
        if current <= 1e-9:
            return True
        best: tuple[float, int, int] | None = None
        for unit, target in _candidate_moves(state, allowed, neighbours):
            source = state.region[unit]
            pop, load = float(p.population[unit]), float(load_vector[unit])
            before = _bound_violation(state.pop[source], p) + _bound_violation(state.pop[target], p)
            after = _bound_violation(state.pop[source] - pop, p) + _bound_violation(
                state.pop[target] + pop, p
            )
            before += max(state.load[source] - capacity[source], 0) + max(
                state.load[target] - capacity[target], 0
            )
            after += max(state.load[source] - load - capacity[source], 0) + max(
                state.load[target] + load - capacity[target], 0
            )
            gain = before - after
            if (
                gain > 1e-9
                and (best is None or gain > best[0])
                and _connected_without(state, unit, neighbours)
            ):
                best = (gain, unit, target)
        if best is None:
            return False
        _move(state, best[1], best[2])
    return _violation(state) <= 1e-9


def _bound_violation(value: float, p: PlaceProblem) -> float:
    return max(p.pop_min - value, 0.0) + max(value - p.pop_max, 0.0)


def _delta(state: _State, unit: int, target: int, scale: float, patients: float) -> float:
    """Exact change of the weighted objective if ``unit`` moves to ``target`` (stability: matching held fixed)."""
    p = state.p
    w = p.weights
    source = state.region[unit]
    total = max(float(p.population.sum()), 1e-9)
    pop = float(p.population[unit])
    delta = 0.0
    if w.access:
        d_old = p.distance_km[unit, state.centre[source]]
        d_new = p.distance_km[unit, state.centre[target]]
        delta += w.access * pop * (d_new**2 - d_old**2) / scale
    if w.pcn and patients > 0:
        column = p.pcn_patients[:, unit]
        involved = column > 0
        if involved.any():
            block = state.pcn[involved]
            before = block.max(axis=1).sum()
            block = block.copy()
            block[:, source] -= column[involved]
            block[:, target] += column[involved]
            delta += w.pcn * (before - block.max(axis=1).sum()) / patients
    if w.demand and state.demand is not None:
        demand_total = float(p.demand.sum())
        if demand_total > 0:
            rate = demand_total / total
            d = float(p.demand[unit])

            def gap(dem: float, pp: float) -> float:
                return abs(dem - rate * pp)

            before = gap(state.demand[source], state.pop[source]) + gap(
                state.demand[target], state.pop[target]
            )
            after = gap(state.demand[source] - d, state.pop[source] - pop) + gap(
                state.demand[target] + d, state.pop[target] + pop
            )
            delta += w.demand * (after - before) / demand_total
    if w.stability and state.match is not None and p.baseline[unit] >= 0:
        matched = state.match[p.baseline[unit]]
        delta += w.stability * pop * (float(matched == source) - float(matched == target)) / total
    if w.community and state.group_count is not None and p.groups[unit] >= 0:
        counts = state.group_count[p.groups[unit]]
        group_pop = float(p.population[p.groups == p.groups[unit]].sum())
        split_before = (counts > 0).sum() > 1
        after_counts = counts.copy()
        after_counts[source] -= 1
        after_counts[target] += 1
        split_after = (after_counts > 0).sum() > 1
        delta += w.community * group_pop * (float(split_after) - float(split_before)) / total
    return delta


def _improve(state: _State, allowed: np.ndarray, neighbours: list[list[int]], max_passes: int = 30) -> None:
    p = state.p
    scale = access_scale(p)
    patients = pcn_total(p)
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    load_vector = _load_vector(p)
    for _ in range(max_passes):
        state.match = state._matching()
        improved = False
        for unit, target in list(_candidate_moves(state, allowed, neighbours)):
            source = state.region[unit]
            if state.region[unit] == target or not any(state.region[v] == target for v in neighbours[unit]):
                continue
            pop = float(p.population[unit])
            if state.pop[source] - pop < p.pop_min or state.pop[target] + pop > p.pop_max:
                continue
            if state.load[target] + load_vector[unit] > capacity[target]:
                continue
            if _delta(state, unit, target, scale, patients) < -1e-12 and _connected_without(
                state, unit, neighbours
            ):
                _move(state, unit, target)
                improved = True
        if not improved and _swap_pass(state, allowed, neighbours, scale, patients):
            improved = True
        if p.centre_kind == "unit" and _recentre(state, allowed):
            improved = True
        if not improved:
            break


def _swap_pass(
    state: _State, allowed: np.ndarray, neighbours: list[list[int]], scale: float, patients: float
) -> bool:
    """Paired moves for tight bounds: u goes A -> B (which alone would break a bound), then the best v goes
    B -> A; kept when both regions end within bounds and capacity, stay connected, and the sum of the two exact
    deltas is negative (otherwise u goes back). Returns whether any pair was kept."""
    p = state.p
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    load_vector = _load_vector(p)
    locked = {unit for unit, _ in p.locks}
    improved = False
    for unit, target in list(_candidate_moves(state, allowed, neighbours)):
        source = int(state.region[unit])
        if source == target or not any(state.region[v] == target for v in neighbours[unit]):
            continue
        pop_u = float(p.population[unit])
        if state.pop[source] - pop_u >= p.pop_min and state.pop[target] + pop_u <= p.pop_max:
            continue  # a plain move; the move pass has judged it
        if not _connected_without(state, unit, neighbours):
            continue
        first = _delta(state, unit, target, scale, patients)
        _move(state, unit, target)
        best: tuple[float, int] | None = None
        for v in np.flatnonzero(state.region == target).tolist():
            if v == unit or v in locked or not allowed[v, state.centre[source]]:
                continue
            pop_v = float(p.population[v])
            if not (
                p.pop_min <= state.pop[source] + pop_v <= p.pop_max
                and p.pop_min <= state.pop[target] - pop_v <= p.pop_max
                and state.load[source] + load_vector[v] <= capacity[source]
                and state.load[target] - load_vector[v] <= capacity[target]
            ):
                continue
            if not any(state.region[w] == source for w in neighbours[v]):
                continue
            second = _delta(state, v, source, scale, patients)
            if (
                first + second < -1e-12
                and (best is None or second < best[0])
                and _connected_without(state, v, neighbours)
            ):
                best = (second, v)
        if best is None:
            _move(state, unit, source)
        else:
            _move(state, best[1], source)
            improved = True
    return improved


def _recentre(state: _State, allowed: np.ndarray) -> bool:
    """Move each region's centre to the candidate centre inside it minimising sum pop d^2 (LSOA centres only).

    A region keeps its centre when that centre is required, has a capacity, or is the target of a lock; a new
    centre must lie in the region (its root is a member), be free, and be allowed for every member.
    """
    p = state.p
    changed = False
    pop = p.population.astype(float)
    pinned = {c for _, c in p.locks}
    centres_at: dict[int, list[int]] = {}
    for c, root in enumerate(p.centre_root.tolist()):
        centres_at.setdefault(root, []).append(c)
    for r in range(len(state.centre)):
        current_centre = state.centre[r]
        if (
            p.centre_required[current_centre]
            or current_centre in pinned
            or np.isfinite(p.centre_capacity[current_centre])
        ):
            continue
        members = np.flatnonzero(state.region == r)
        options = [
            c
            for unit in members.tolist()
            for c in centres_at.get(unit, [])
            if c not in pinned and not np.isfinite(p.centre_capacity[c])
        ]
        options = [c for c in options if c == current_centre or c not in state.centre]
        options = [c for c in options if allowed[members, c].all()]
        if not options:
            continue
        costs = (pop[members, None] * p.distance_km[np.ix_(members, options)] ** 2).sum(axis=0)
        best = options[int(np.argmin(costs))]
        current = (pop[members] * p.distance_km[members, current_centre] ** 2).sum()
        if best != current_centre and costs.min() < current - 1e-9:
            state.centre[r] = best
            changed = True
    return changed


def check_plan(problem: PlaceProblem, assignment: np.ndarray) -> list[str]:
    """Every hard rule ``assignment`` breaks, in words (empty = a valid plan).

    Rules: one valid centre per unit; each open centre serves its own root; the number of neighbourhoods in
    [k_min, k_max]; population within [pop_min, pop_max]; each neighbourhood connected; access radius (roots and
    locks exempt); locks; required centres open; capacities.
    """
    problems: list[str] = []
    assignment = np.asarray(assignment)
    if assignment.shape != (problem.n_units,):
        return [f"assignment has shape {assignment.shape}, expected ({problem.n_units},)"]
    if problem.n_units and (assignment.min() < 0 or assignment.max() >= problem.n_centres):
        return ["assignment refers to a centre that does not exist"]
    open_centres = sorted(set(assignment.tolist()))
    if not problem.k_min <= len(open_centres) <= problem.k_max:
        problems.append(f"{len(open_centres)} neighbourhoods, outside {problem.k_min}-{problem.k_max}")
    allowed = allowed_matrix(problem)
    bad = np.flatnonzero(~allowed[np.arange(problem.n_units), assignment])
    if len(bad):
        problems.append(f"{len(bad)} units served by a centre they may not use (radius or lock)")
    neighbours = problem.neighbours()
    load = _load_vector(problem)
    for c in open_centres:
        root = int(problem.centre_root[c])
        name = problem.centre_ids[c]
        if assignment[root] != c:
            problems.append(f"{name} does not serve its own root {problem.unit_codes[root]}")
            continue
        members = set(np.flatnonzero(assignment == c).tolist())
        size = int(problem.population[list(members)].sum())
        if not problem.pop_min <= size <= problem.pop_max:
            problems.append(f"{name} serves {size:,}, outside {problem.pop_min:,}-{problem.pop_max:,}")
        seen, queue = {root}, deque([root])
        while queue:
            here = queue.popleft()
            for there in neighbours[here]:
                if there in members and there not in seen:
                    seen.add(there)
                    queue.append(there)
        if len(seen) != len(members):
            problems.append(f"{name} is not connected")
        capacity = float(problem.centre_capacity[c])
        if np.isfinite(capacity) and float(load[list(members)].sum()) > capacity + 1e-6:
            problems.append(f"{name} exceeds its capacity {capacity:,.0f}")
    for c in np.flatnonzero(problem.centre_required).tolist():
        if c not in open_centres:
            problems.append(f"required {problem.centre_ids[c]} is not open")
    return problems
