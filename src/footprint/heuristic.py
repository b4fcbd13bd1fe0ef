"""A fast, deterministic heuristic: seeded region growing, repair, local search, then merge-split recombination.

Used as the MIP's warm start (its plan is an incumbent from the first second) and as the fallback when the MIP
has no incumbent at the time limit or the place is too large to solve exactly. It only ever returns plans that
keep every hard rule: each region connected and rooted at its centre, population within bounds, k within range,
access radius, locks, required hubs and capacities. It returns ``None`` when it cannot find such a plan.

Steps 1-4, for each candidate k (every feasible k, up to ``MAX_CANDIDATE_KS``) and each of a fixed number of
restarts, then step 5 from the best start of one k (seeded ``numpy.random.Generator``; fixed iteration counts, so
results are reproducible; an optional ``deadline`` is only a guard against overrunning a time limit on very large
places, and the result says when it cut the work short):

1. seeds: required and locked centres first; the rest by weighted k-means++ on population and a few Lloyd
   iterations, snapped to the nearest allowed candidate centre;
2. growth: a shared priority queue grows every region from its root by nearest-first, never past ``pop_max``;
   units left over join the smallest adjacent region;
3. repair: boundary moves that reduce the total bound violation while keeping donors connected;
4. improvement: first-improvement passes over boundary moves (donor stays connected, bounds and rules hold)
   with exact incremental deltas of the weighted objective; when no move helps, paired moves (u: A -> B, then
   v: B -> A) that single moves cannot make under tight bounds (the partners of one u priced in one array
   operation); and, for LSOA centres, re-centring each region on its best candidate centre between passes;
5. recombination (``recombine`` iterations, 300 by default): an iterated local search with merge-split kicks,
   the move of GerryChain's ReCom. Each iteration merges a random adjacent pair of regions, draws a random
   spanning tree of their units (Kruskal on random weights) and cuts it at a random edge among those whose two
   sides are within the bounds and each have a usable centre (rooted in the side, allowed for all its members,
   within capacity; a required or lock-target centre of the pair stays open); each side is served by its usable
   centre with the least sum pop d^2. Step 4, restricted to the regions the kick and the repair touch, then
   finishes the plan, which becomes current when it is no worse than the current plan or than the current plan
   of 60 iterations ago (late acceptance: the walk can leave a basin). The best plan seen gets a full step 4.

With ``runs`` > 1 (``solver.heuristic_runs``), steps 1-5 run again from independently seeded generators and the
best plan of all runs is kept. The runs' starts are independent; their walks (step 5) are shared out across k
(:func:`_walk_k`): each run walks from its best start at a k no run has walked yet (the best such start), and once
every k with a start has been walked, from its start at the k whose walks reached the best plan. A walk keeps k and ends near the same plan from
most starts at that k, while the best start is often not at the best plan's k: Bromley's starts favour k = 10 and
its best plans are at k = 9; Waltham Forest's k = 9 rarely has a start at all (its population is near 9 x
``pop_min``) and walks to the best plan from a poor one. Every plan is checked against all hard rules
(:func:`check_plan`) before it is returned.

Issue 19, sixth session: London's 32 places, 8 runs (``solve_place``'s at 60 s), every walk of every run at every
k recorded for seed 0 (``benchmarks``-style replay of 960 walks): walking each run's best start of the old four k
was a mean 0.51% above the best of all 960 walks (up to 3.7%, within 0.3% on 21 places); every k, best start:
0.30% (21 -> 24 places); every k, walks shared out as above: 0.04% (29 places, worst 0.52%), with the same 8
walks. The change against the old code at 8 runs (``benchmarks/ab_heuristic.py --runs 8 --reps 1``): seed 0,
better on 17 places, worse on 7, mean -0.53% (Bromley -3.6%, Barking and Dagenham -3.4%, Greenwich -2.6%, Enfield
-1.9%; worst +0.96%, Hammersmith and Fulham); seed 1, which the replay had not seen: better on 13, worse on 12,
mean -0.41% (Bromley -4.3%, Barking and Dagenham -3.8%, Enfield -1.9%, Greenwich -1.8%; worst +0.94%,
Southwark), for 1-3% more CPU time. The losses are the luck of other starts at the same k. Not measured at fewer
runs: at 30 s a place (4 runs) a range of 4 or more k is walked once each, and the best k is never walked twice.

Measured with ``benchmarks/bench_heuristic.py`` (CPU seconds on a busy shared 2-core machine). On the 32 London
places (real LSOAs and PCNs, bounds 30,000-50,000) step 5 lowers the objective by a median 1.6% (mean 1.8%, best
6.2%) against steps 1-4 alone, which give the same plans as before; it cannot be worse (same seed, same steps 1-4
plan, kept only if bettered); over seeds 0-2 the mean is 1.8%. With the default seed it matches or beats
GerryChain ReCom (short bursts, 30 s per place, same k) on all 8 places where ReCom had beaten steps 1-4 (City
and Hackney 1.341 -> 1.274 against ReCom's 1.282, Lewisham 1.459 -> 1.370 against 1.410, Waltham Forest 1.296 ->
1.252 against 1.257, Hammersmith 1.248 -> 1.239 against 1.246), by a median 0.7%; with seed 1 on 8, seed 2 on 6,
seed 3 on 5 (when steps 1-4 pick the wrong k: step 5 keeps k). The heuristic's time for the 32 places goes from
33 s to 70 s, at most 3.4 s for one place (was 2.1 s); steps 1-4 alone now take 18 s (shared per-problem
constants, array-priced candidate lists and paired moves, a bound that skips hopeless paired moves). On the
synthetic places of ``benchmarks/bench_solver.py`` (every LSOA a centre, access only): N=150 -2.1% in 1.1 s
(was 0.55 s), N=250 -6.7% in 1.5 s (1.2 s), N=500 -5.1% in 4.0 s (5.3 s); with hubs N=150 -1.5%, N=250 -0.8%. On
N=150 the MIP (HiGHS, 60 s) now returns the heuristic's plan and proves it within 0.5% of optimal (before, the
heuristic was 2% above the MIP's best plan).

The same plans, 1.4-1.5 times faster (issue 19: more runs in a place's time limit find better plans): the move and
paired-move passes skip pricing a move whose floor (exact access change less what the other terms could give
back, :func:`_move_floors`) is positive; a single move's PCN term is plain Python on the unit's few PCN rows
(:func:`_pcn_gain`, term for term numpy's arithmetic); the repair prices every candidate in one array operation.
Seed 0, 4 restarts, one run, the 32 London places: identical plans and objectives, 67.6 -> 47.6 and 82.4 -> 56.2
CPU seconds in two A/Bs (``benchmarks/ab_heuristic.py``: the two versions alternated in one process, least of two
runs each). ``solve_place`` spends the time saved on more runs (``SECONDS_PER_HEURISTIC_RUN``).

Tried for step 5 and not kept (London, 300 iterations unless said):

- a greedy merge-split instead of the search (best exactly priced cut of 8 random trees per adjacent pair,
  improvements only, on every restart's plan): 0 to -1.2% on four places for 50-100% more time: at tight bounds
  the plans sit in deep basins;
- accepting improvements only: mean -1.51% (4 seeds) against -1.65% with late acceptance (3 seeds);
  record-to-record travel (accept within 0.3-0.5% of the best): -1.58 to -1.60%; bursts of 3 kicks after 40
  iterations without progress: -1.61% for 1.6 times the time;
- cutting at the best exactly priced edge of the tree (or of two trees) instead of a random usable one: mean
  -1.64% against -1.73% (4 seeds each);
- two or three shorter searches from distinct plans, or from the best plan of each of two k, in the same number
  of iterations: worse than one long search;
- 2 restarts instead of 4 to pay for the search: one place 4.3% worse than before;
- 450 iterations instead of 300: ReCom matched on 8, 7 and 5 places with seeds 1-3 (300: 8, 6, 5);
- racing the best plans of the two best k (100 iterations each, the rest on the better): over 32 places x 3
  seeds, better on 27, worse on 35, mean +0.05%, for 9% more time;
- no paired moves inside the search: 2.5 times faster per iteration, but -1.36% at 500 iterations;
- walking the best start of every candidate k instead of the best start of all (the walk keeps k, and the
  best start is often not in the best basin: in one run, Southwark's worst start, at k=10, walked to its best
  plan). One run gains on 17 of 32 places, up to 8.4% (Kensington and Chelsea); but the same time spent on more
  runs gains as much: 1 run walking every k against 3 runs walking the best (``solve_place``'s runs at 60 s),
  mean +0.11% (8 places better, 10 worse) in 13% less CPU; 2 runs against 6, mean -0.22% (9 better, 10 worse)
  in 19% less. Then, the number of walks counted more than their starts; with 8 runs and every k tried, which
  k each walk leaves from counts too (the runs now share their walks out across k, :func:`_walk_k`);
- an exchange pass pricing every pair (u in A, v in B) of two regions in one array operation instead of the
  paired moves: about 12% faster overall for the same quality; not worth its code.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from footprint.objective import access_scale, evaluate_terms, pcn_total, weighted_objective
from footprint.problem import PlaceProblem, largest_sum, top_sums

logger = logging.getLogger(__name__)


#: Merge-split iterations of each run's walk by default (``solve_place`` gives shorter time limits a share).
RECOMBINE_ITERATIONS = 300
#: The most k each run starts from (every feasible k when there are no more; else this many spread across the
#: range). Was 4, which on a range of 5-6 k (Bromley 7-11, Enfield 7-11, Barnet 8-13) skipped the middle k where
#: the best plans are: Bromley's best plan is at k = 9, and 24 runs never left k = 10 (1.3268 against 1.2740).
#: A start costs a tenth of a walk, so trying every k adds 1-2 s to 8 runs on London's largest places.
MAX_CANDIDATE_KS = 8


@dataclass
class HeuristicResult:
    """The best plan found, its weighted objective and k, whether the ``deadline`` cut the work short, and the
    runs made.

    ``stopped`` True means some starts, merge-split iterations or runs were skipped at the deadline: the plan then
    depends on the machine's speed (same seed, same inputs, another plan on a faster or slower machine). ``runs``
    is the runs begun (fewer than asked when the deadline came first). ``visited``: every distinct plan the
    runs' walks accepted (a centre per unit, each valid), in the order met, when asked for (``keep_visited``):
    their neighbourhoods are a pool of good columns for :mod:`footprint.colgen`, whose master can recombine
    neighbourhoods of different walks.
    """

    assignment: np.ndarray
    objective: float
    k: int
    stopped: bool = False
    runs: int = 1
    visited: tuple[np.ndarray, ...] = ()


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


class _Shared:
    """Per-problem constants of the moves' arithmetic, built once and shared by every state of a solve."""

    def __init__(self, problem: PlaceProblem) -> None:
        self.population = problem.population.astype(float)
        self.total = max(float(self.population.sum()), 1e-9)
        self.load = _load_vector(problem)
        patients = problem.pcn_patients
        #: Home neighbourhoods each PCN counts (its pcn term: patients in its ``homes`` fullest neighbourhoods).
        self.homes = problem.homes_of()
        if patients.size:
            self.pcn_rows = [np.flatnonzero(patients[:, unit] > 0) for unit in range(problem.n_units)]
            self.pcn_values = [patients[rows, unit] for unit, rows in enumerate(self.pcn_rows)]
        else:  # no PCN data: the array may be (0, 0)
            self.pcn_rows = [np.zeros(0, dtype=np.int64)] * problem.n_units
            self.pcn_values = [np.zeros(0)] * problem.n_units
        # the same, as Python lists, for :func:`_pcn_gain`'s plain arithmetic
        self.pcn_value_lists = [values.tolist() for values in self.pcn_values]
        self.home_lists = [self.homes[rows].tolist() for rows in self.pcn_rows]
        edges = np.asarray(problem.edges, dtype=np.int64).reshape(-1, 2)
        self.arcs = np.vstack([edges, edges[:, ::-1]])  # both directions of every edge
        self.movable = np.ones(problem.n_units, dtype=bool)
        self.movable[[unit for unit, _ in problem.locks]] = False
        # centres re-centring may leave or take: not required, no capacity, not a lock's target
        self.recentrable = ~problem.centre_required & ~np.isfinite(problem.centre_capacity)
        self.recentrable[[centre for _, centre in problem.locks]] = False
        self.slack = _non_access_slack(problem, self.population, self.total)


def _non_access_slack(problem: PlaceProblem, population: np.ndarray, total: float) -> np.ndarray:
    """Per unit, the most that moving it alone can lower the weighted terms other than access (so that access
    delta - slack bounds its whole delta from below)."""
    w = problem.weights
    slack = np.zeros(problem.n_units)
    patients = pcn_total(problem)
    if w.pcn and patients > 0:  # each PCN's largest count drops or rises by at most the unit's patients
        slack += w.pcn * problem.pcn_patients.sum(axis=0) / patients
    if w.demand and problem.demand is not None and problem.demand.sum() > 0:
        demand_total = float(problem.demand.sum())
        rate = demand_total / total
        slack += 2 * w.demand * np.abs(problem.demand - rate * population) / demand_total
    if w.stability and problem.baseline is not None:
        slack += w.stability * population * (problem.baseline >= 0) / total
    if w.community and problem.groups is not None and (problem.groups >= 0).any():
        labelled = problem.groups >= 0
        group_pop = np.bincount(problem.groups[labelled], weights=population[labelled])
        slack[labelled] += w.community * group_pop[problem.groups[labelled]] / total
    return slack


class _State:
    """Regions r = 0..k-1 with centre ``centre[r]``; ``region[i]`` per unit; running sums for fast deltas."""

    def __init__(
        self, problem: PlaceProblem, centres: list[int], region: np.ndarray, shared: _Shared | None = None
    ) -> None:
        self.p = problem
        self.shared = shared if shared is not None else _Shared(problem)
        self.centre = list(centres)
        self.region = region.copy()
        self.refresh()

    def assignment(self) -> np.ndarray:
        """The plan as a centre per unit."""
        return np.array(self.centre, dtype=np.int64)[self.region]

    def refresh(self) -> None:
        """Recompute every running sum (and the baseline matching) from ``region``."""
        problem, region, k = self.p, self.region, len(self.centre)
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
        if baseline is None or not (baseline >= 0).any() or not self.p.weights.stability:
            return None  # (only the stability term uses it)
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


def solve_heuristic(
    problem: PlaceProblem,
    *,
    seed: int = 0,
    restarts: int = 4,
    recombine: int = RECOMBINE_ITERATIONS,
    deadline: float | None = None,
    runs: int = 1,
    keep_visited: bool = False,
) -> HeuristicResult | None:
    """The best valid plan over candidate k, seeded restarts and both growth modes, then recombination.

    Parameters
    ----------
    problem
        The place.
    seed
        Root seed of the ``numpy.random.Generator`` streams of every run's starts and walk (see ``runs``; same
        seed, same plan).
    restarts
        Seed placements tried per k.
    recombine
        Merge-split iterations of each run's walk (0 = none).
    deadline
        ``time.perf_counter()`` time after which, once a valid plan is in hand, no further start begins and the
        merge-split stops (None: no clock, every start and iteration runs). A guard for time limits too short
        for the place's size; when it binds the result's ``stopped`` is True. No run after the first begins
        past it.
    runs
        Runs of steps 1-5: run r draws the starts of each k from a generator seeded by ``[seed, r, 0, k]`` and
        its merge-split from ``[seed, r, 1]``; the runs' starts are independent, their walks are not: run r
        walks from the k :func:`_walk_k` picks given the walks of runs 0..r-1. The best plan is kept (ties: the
        earlier run). The merge-split walk stays in its starting plan's basin (5 times its iterations gain at
        most 0.26% on London's largest places), while another seed's starts reach another basin: over London's
        32 places 4 runs beat 1 on 16, by a mean 0.49% and up to 3.4% (Redbridge 1.2846 -> 1.2412), and 3 runs on
        13 (mean 0.42%), in 3-4 times the time (measured when each run walked its own best start of four k).
    keep_visited
        Return every distinct plan the walks accepted in ``HeuristicResult.visited`` (same plan either way).

    Returns
    -------
    HeuristicResult or None
        The plan with its weighted objective and k, or None when no valid plan was found.
    """
    if problem.k_min > problem.k_max or problem.n_units == 0:
        return None
    allowed = allowed_matrix(problem)
    neighbours = problem.neighbours()
    shared = _Shared(problem)
    best: HeuristicResult | None = None
    stopped = False
    made = 0
    walked: dict[int, float] = {}  # k -> the best plan any run's walk at that k has reached
    visited: dict[bytes, np.ndarray] | None = {} if keep_visited else None
    for run in range(max(runs, 1)):
        if run and deadline is not None and time.perf_counter() > deadline:
            stopped = True
            break
        made += 1
        result = _single_run(
            problem, (seed, run), restarts, recombine, deadline, allowed, neighbours, shared, walked, visited
        )
        if result is None:
            continue
        stopped = stopped or result.stopped
        if best is None or result.objective < best.objective - 1e-12:
            best = result
    if best is None:
        return None
    return replace(best, stopped=stopped, runs=made, visited=tuple(visited.values()) if visited else ())


def _walk_k(starts: dict[int, float], walked: dict[int, float]) -> int:
    """The k whose best start this run walks: the k with the best start among those no run has walked yet, and
    once every k with a start here has been walked, the k whose walks reached the best plan (ties: the smaller
    k). ``starts``: k -> this run's best start objective; ``walked``: k -> the best walk at k so far."""
    fresh = [k for k in starts if k not in walked]
    if fresh:
        return min(fresh, key=lambda k: (starts[k], k))
    return min(starts, key=lambda k: (walked[k], k))


def _single_run(
    problem: PlaceProblem,
    stream: tuple[int, int],
    restarts: int,
    recombine: int,
    deadline: float | None,
    allowed: np.ndarray,
    neighbours: list[list[int]],
    shared: _Shared,
    walked: dict[int, float] | None = None,
    visited: dict[bytes, np.ndarray] | None = None,
) -> HeuristicResult | None:
    """One run of steps 1-5 (see :func:`solve_heuristic`). ``stream`` is (seed, run): the starts of each k are
    drawn from a generator seeded by ``[seed, run, 0, k]`` (so which other k are tried changes none of them), the
    merge-split from ``[seed, run, 1]``. The walk leaves from the best start of the k :func:`_walk_k` picks given
    ``walked`` (k -> the best walk of earlier runs at k), which this run updates; the plans its walk accepts go
    into ``visited`` (when given), keyed by their bytes."""
    seed, run = stream
    walked = {} if walked is None else walked
    best: HeuristicResult | None = None
    starts: dict[int, tuple[HeuristicResult, _State]] = {}  # k -> this run's best start at k
    stopped = False

    def late() -> bool:  # past the deadline with a plan in hand
        return deadline is not None and best is not None and time.perf_counter() > deadline

    for k in _candidate_ks(problem):
        rng = np.random.default_rng([seed, run, 0, k])
        for attempt in range(restarts + 1):
            if late():
                stopped = True
                break
            if attempt == restarts:  # one more start from where the PCNs' patients live, when k PCNs do
                points = _pcn_points(problem, k)
                if points is None:
                    continue
                centres = _choose_seeds(problem, k, allowed, rng, start=points)
            else:
                centres = _choose_seeds(problem, k, allowed, rng)
            if centres is None:
                continue
            for candidate, state in _grown(problem, centres, allowed, neighbours, shared):
                if k not in starts or candidate.objective < starts[k][0].objective - 1e-12:
                    starts[k] = (candidate, state)
                if best is None or candidate.objective < best.objective - 1e-12:
                    best = candidate
    if starts and recombine > 0 and not stopped:
        k = _walk_k({k: start.objective for k, (start, _) in starts.items()}, walked)
        start, start_state = starts[k]
        state, _, done = _recombination_search(
            start_state,
            allowed,
            neighbours,
            np.random.default_rng([seed, run, 1]),
            iterations=recombine,
            deadline=deadline,
            visited=visited,
        )
        finished = _improve(state, allowed, neighbours, deadline=deadline)
        stopped = done < recombine or not finished
        candidate = _valid_result(state)
        reached = start.objective
        if candidate is not None and candidate.objective < start.objective - 1e-12:
            reached = candidate.objective
            if candidate.objective < best.objective - 1e-12:
                best = candidate
        walked[k] = min(walked.get(k, math.inf), reached)
    if best is not None and stopped:
        best = replace(best, stopped=True)
    return best


def polish_plan(
    problem: PlaceProblem,
    assignment: np.ndarray,
    *,
    seed: int = 0,
    recombine: int = RECOMBINE_ITERATIONS,
    deadline: float | None = None,
    keep_visited: bool = False,
) -> HeuristicResult | None:
    """Steps 3-5 of the heuristic (repair, local search, merge-split search) from ``assignment``, a centre per
    unit that may break the rules: a start from elsewhere, such as a rounded LP solution. ``keep_visited``: the
    plans the walk accepted come back in ``visited`` (:class:`HeuristicResult`).

    First each neighbourhood keeps the part connected to its centre's root (a centre not serving its root is
    dropped); every other unit joins, nearest first, a neighbouring neighbourhood it may use. Returns None when
    that leaves a unit with no neighbourhood, k outside its range, or the repair cannot meet the bounds.
    """
    assignment = np.asarray(assignment, dtype=np.int64)
    allowed = allowed_matrix(problem)
    neighbours = problem.neighbours()
    centres = sorted(
        c
        for c in set(assignment.tolist())
        # -1 (a unit no centre took) is no centre, though numpy would read centre_root[-1] as the last one's root
        if 0 <= c < problem.n_centres and assignment[int(problem.centre_root[c])] == c and allowed[:, c].any()
    )
    if not problem.k_min <= len(centres) <= problem.k_max:
        return None
    slot = {c: r for r, c in enumerate(centres)}
    region = np.full(problem.n_units, -1, dtype=np.int64)
    for c in centres:  # the part connected to the root
        root = int(problem.centre_root[c])
        region[root] = slot[c]
        queue = deque([root])
        while queue:
            here = queue.popleft()
            for there in neighbours[here]:
                if region[there] < 0 and assignment[there] == c:
                    region[there] = slot[c]
                    queue.append(there)
    while (region < 0).any():
        best: tuple[float, int, int] | None = None
        for unit in np.flatnonzero(region < 0).tolist():
            for there in neighbours[unit]:
                r = int(region[there])
                if r >= 0 and allowed[unit, centres[r]]:
                    distance = float(problem.distance_km[unit, centres[r]])
                    if best is None or (distance, unit, r) < best:
                        best = (distance, unit, r)
        if best is None:
            return None
        region[best[1]] = best[2]
    state = _State(problem, centres, region, _Shared(problem))
    if not _repair(state, allowed, neighbours):
        return None
    _improve(state, allowed, neighbours, deadline=deadline)
    stopped = False
    visited: dict[bytes, np.ndarray] | None = {} if keep_visited else None
    if recombine > 0:
        searched, _, done = _recombination_search(
            state,
            allowed,
            neighbours,
            np.random.default_rng(seed),
            iterations=recombine,
            deadline=deadline,
            visited=visited,
        )
        finished = _improve(searched, allowed, neighbours, deadline=deadline)
        stopped = done < recombine or not finished
        state = searched
    result = _valid_result(state)
    if result is None:
        return None
    return replace(result, stopped=stopped, visited=tuple(visited.values()) if visited else ())


def grow_from_centres(problem: PlaceProblem, centres: list[int]) -> np.ndarray | None:
    """Steps 2-4 of the heuristic (growth, repair, local search) from ``centres`` chosen elsewhere (the centres a
    column-generation LP opens most, :meth:`footprint.colgen.Master.weighted_centres`), in both growth modes;
    the better valid plan's assignment (ties: the compact mode's), or None when neither mode's repair meets the
    bounds. A start for :func:`polish_plan`: the LP's choice of centres is its strongest signal, where its
    rounded cover of units can break the bounds past repair (City and Hackney at 60 s: its 9 centres are the
    best known plan's, and from this start the walk comes within 0.1% of that plan)."""
    if not problem.k_min <= len(centres) <= problem.k_max:
        return None
    grown = _grown(problem, list(centres), allowed_matrix(problem), problem.neighbours(), _Shared(problem))
    if not grown:
        return None
    best = grown[0][0]
    for candidate, _ in grown[1:]:
        if candidate.objective < best.objective - 1e-12:
            best = candidate
    return best.assignment


def _grown(
    problem: PlaceProblem,
    centres: list[int],
    allowed: np.ndarray,
    neighbours: list[list[int]],
    shared: _Shared,
) -> list[tuple[HeuristicResult, _State]]:
    """Steps 2-4 from ``centres``: growth in each mode (compact, then balanced), repair and local search; each
    valid plan with its state, in that order (a mode whose growth or repair fails gives none)."""
    grown = []
    for balanced in (False, True):
        region = _grow(problem, centres, allowed, neighbours, balanced=balanced)
        if region is None:
            continue
        state = _State(problem, centres, region, shared)
        if not _repair(state, allowed, neighbours):
            continue
        _improve(state, allowed, neighbours)
        candidate = _valid_result(state)
        if candidate is not None:
            grown.append((candidate, state))
    return grown


def _valid_result(state: _State) -> HeuristicResult | None:
    """The state's plan and objective, or None (with a warning) when it breaks a hard rule."""
    problem = state.p
    assignment = state.assignment()
    broken = check_plan(problem, assignment)
    if broken:  # a bug guard: never hand back an invalid plan
        logger.warning("place %s: heuristic plan rejected: %s", problem.place_code, broken)
        return None
    objective = weighted_objective(problem, evaluate_terms(problem, assignment))
    return HeuristicResult(assignment=assignment, objective=objective, k=len(state.centre))


def _candidate_ks(problem: PlaceProblem) -> list[int]:
    """Every feasible k up to ``MAX_CANDIDATE_KS`` of them, else that many spread across the range (both ends
    included)."""
    forced = int(problem.centre_required.sum()) + len(
        {c for _, c in problem.locks if not problem.centre_required[c]}
    )
    low = max(problem.k_min, forced, 1)
    ks = list(range(low, problem.k_max + 1))
    if len(ks) > MAX_CANDIDATE_KS:
        picks = np.linspace(0, len(ks) - 1, MAX_CANDIDATE_KS).round().astype(int)
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


def _region_connected(state: _State, r: int, neighbours: list[list[int]]) -> bool:
    """Is region r connected and does it still hold its centre's root?"""
    root = int(state.p.centre_root[state.centre[r]])
    if state.region[root] != r:
        return False
    size = int((state.region == r).sum())
    seen = {root}
    queue = deque([root])
    while queue:
        here = queue.popleft()
        for there in neighbours[here]:
            if there not in seen and state.region[there] == r:
                seen.add(there)
                queue.append(there)
    return len(seen) == size


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
    pop = state.shared.population[unit]
    load = state.shared.load[unit]
    state.pop[source] -= pop
    state.pop[target] += pop
    state.load[source] -= load
    state.load[target] += load
    rows = state.shared.pcn_rows[unit]
    if len(rows):
        state.pcn[rows, source] -= state.shared.pcn_values[unit]
        state.pcn[rows, target] += state.shared.pcn_values[unit]
    if state.demand is not None:
        state.demand[source] -= p.demand[unit]
        state.demand[target] += p.demand[unit]
    if state.group_count is not None and p.groups[unit] >= 0:
        state.group_count[p.groups[unit], source] -= 1
        state.group_count[p.groups[unit], target] += 1
    state.region[unit] = target


def _candidate_arrays(
    state: _State, allowed: np.ndarray, focus: set[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Units and target regions of the candidate moves: boundary units, not locked, whose target's centre is
    allowed for them, by unit then target.

    With ``focus``, only moves out of or into a region of ``focus``.
    """
    arcs = state.shared.arcs
    here, there = state.region[arcs[:, 0]], state.region[arcs[:, 1]]
    keep = (here != there) & state.shared.movable[arcs[:, 0]]
    if focus is not None:
        regions = list(focus)
        keep &= np.isin(here, regions) | np.isin(there, regions)
    k = len(state.centre)
    codes = np.unique(arcs[keep, 0] * k + there[keep])
    units, targets = codes // k, codes % k
    fine = allowed[units, np.asarray(state.centre)[targets]]
    return units[fine], targets[fine]


def _repair(state: _State, allowed: np.ndarray, neighbours: list[list[int]]) -> bool:
    """Reduce bound and capacity violations by boundary moves until none remain (or no move helps)."""
    p = state.p
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    load_vector = _load_vector(p)
    for _ in range(4 * p.n_units):
        current = _violation(state)
        if current <= 1e-9:
            return True
        # every candidate's gain at once; the largest whose donor stays connected is made (ties: the first)
        units, targets = _candidate_arrays(state, allowed)
        sources = state.region[units]
        pop, load = p.population[units].astype(float), load_vector[units]
        pop_s, pop_t = state.pop[sources], state.pop[targets]
        load_s, load_t = state.load[sources], state.load[targets]
        cap_s, cap_t = capacity[sources], capacity[targets]
        before = _bound_violations(pop_s, p) + _bound_violations(pop_t, p)
        after = _bound_violations(pop_s - pop, p) + _bound_violations(pop_t + pop, p)
        before += np.maximum(load_s - cap_s, 0) + np.maximum(load_t - cap_t, 0)
        after += np.maximum(load_s - load - cap_s, 0) + np.maximum(load_t + load - cap_t, 0)
        gain = before - after
        chosen = None
        for index in np.argsort(-gain, kind="stable").tolist():
            if not gain[index] > 1e-9:
                break
            if _connected_without(state, int(units[index]), neighbours):
                chosen = index
                break
        if chosen is None:
            return False
        _move(state, int(units[chosen]), int(targets[chosen]))
    return _violation(state) <= 1e-9


def _bound_violations(values: np.ndarray, p: PlaceProblem) -> np.ndarray:
    """How far each population lies outside the bounds (0 within)."""
    return np.maximum(p.pop_min - values, 0.0) + np.maximum(values - p.pop_max, 0.0)


def _delta(state: _State, unit: int, target: int, scale: float, patients: float) -> float:
    """Exact change of the weighted objective if ``unit`` moves to ``target`` (stability: matching held fixed)."""
    p = state.p
    w = p.weights
    source = state.region[unit]
    total = state.shared.total
    pop = state.shared.population[unit]
    delta = 0.0
    if w.access:
        d_old = p.distance_km[unit, state.centre[source]]
        d_new = p.distance_km[unit, state.centre[target]]
        delta += w.access * pop * (d_new**2 - d_old**2) / scale
    if w.pcn and patients > 0 and len(state.shared.pcn_rows[unit]):
        delta += w.pcn * _pcn_gain(state, unit, source, target) / patients
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


def _pcn_gain(state: _State, unit: int, source: int, target: int) -> float:
    """Patients of ``unit``'s PCNs in their home neighbourhoods (:func:`top_sums`) before the move to ``target``
    less after it.

    A unit lies in a few PCNs' catchments, so plain Python on their rows costs a fraction of numpy's per-call
    overhead; the arithmetic is :func:`top_sums`'s, term for term (each row's largest entries, then the rows
    summed in order, as numpy sums fewer than 8 terms), so the moves made are the same. Eight or more rows go
    to numpy, whose sum pairs terms from 8 on.
    """
    shared = state.shared
    rows = shared.pcn_rows[unit]
    if len(rows) >= 8:
        block = state.pcn[rows]
        homes = shared.homes[rows]
        before = top_sums(block, homes).sum()
        values = shared.pcn_values[unit]
        block[:, source] -= values
        block[:, target] += values
        return float(before - top_sums(block, homes).sum())
    before = after = 0.0
    for row, value, home in zip(
        state.pcn[rows].tolist(), shared.pcn_value_lists[unit], shared.home_lists[unit], strict=True
    ):
        if home == 1:
            before += max(row)
            row[source] -= value
            row[target] += value
            after += max(row)
        else:
            before += largest_sum(row, home)
            row[source] -= value
            row[target] += value
            after += largest_sum(row, home)
    return before - after


def _improve(
    state: _State,
    allowed: np.ndarray,
    neighbours: list[list[int]],
    max_passes: int = 30,
    focus: set[int] | None = None,
    deadline: float | None = None,
) -> bool:
    """Move, paired-move and re-centring passes until none improves (or ``max_passes``).

    With ``focus`` (a set of regions, grown in place as moves touch other regions), only moves out of or into
    those regions are tried and only they are re-centred: the cheap repair after a local change. No pass begins
    past ``deadline`` (``time.perf_counter()``; every move keeps the plan valid, so it may stop between any two
    passes); returns False when the deadline stopped it.
    """
    p = state.p
    scale = access_scale(p)
    patients = pcn_total(p)
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    load_vector = _load_vector(p)
    for _ in range(max_passes):
        if deadline is not None and time.perf_counter() > deadline:
            return False
        state.match = state._matching()
        improved = False
        units, targets = _candidate_arrays(state, allowed, focus)
        # A floor under each move's delta (its access change, less the most the other terms could give back):
        # the pass changes no centre, so a move whose floor is positive cannot improve while its unit stays in
        # the region it started the pass in, and is not priced (1e-9: far above the sums' rounding).
        starts = state.region[units]
        hopeless = _move_floors(state, units, starts, targets, scale) > 1e-9
        for unit, target, start, skip in zip(
            units.tolist(), targets.tolist(), starts.tolist(), hopeless.tolist(), strict=True
        ):
            source = state.region[unit]
            if state.region[unit] == target or not any(state.region[v] == target for v in neighbours[unit]):
                continue
            pop = float(p.population[unit])
            if state.pop[source] - pop < p.pop_min or state.pop[target] + pop > p.pop_max:
                continue
            if state.load[target] + load_vector[unit] > capacity[target]:
                continue
            if skip and source == start:
                continue
            if _delta(state, unit, target, scale, patients) < -1e-12 and _connected_without(
                state, unit, neighbours
            ):
                _move(state, unit, target)
                improved = True
                if focus is not None:
                    focus.update((int(source), int(target)))
        if not improved and _swap_pass(state, allowed, neighbours, scale, patients, focus):
            improved = True
        if p.centre_kind == "unit" and _recentre(state, allowed, focus):
            improved = True
        if not improved:
            break
    return True


def _swap_pass(
    state: _State,
    allowed: np.ndarray,
    neighbours: list[list[int]],
    scale: float,
    patients: float,
    focus: set[int] | None = None,
) -> bool:
    """Paired moves for tight bounds: u goes A -> B (which alone would break a bound), then the best v goes
    B -> A; kept when both regions end within bounds and capacity, stay connected, and the sum of the two exact
    deltas is negative (otherwise u goes back). Returns whether any pair was kept.

    The partners v of one u are priced together (:func:`_deltas`) and only the most promising ones have their
    connectivity checked, best first: the same pair as checking every v, at a fraction of the cost.
    """
    p = state.p
    capacity = np.nan_to_num(p.centre_capacity[state.centre], nan=np.inf)
    load_vector = state.shared.load
    population = state.shared.population
    movable = state.shared.movable
    floors: dict[tuple[int, int], float] = {}  # a lower bound on the delta of any partner, per direction
    improved = False
    units, targets = _candidate_arrays(state, allowed, focus)
    starts = state.region[units]
    own_floors = _move_floors(state, units, starts, targets, scale)  # under u's own delta (see _improve)
    for unit, target, start, own_floor in zip(
        units.tolist(), targets.tolist(), starts.tolist(), own_floors.tolist(), strict=True
    ):
        source = int(state.region[unit])
        if source == target or not any(state.region[v] == target for v in neighbours[unit]):
            continue
        pop_u = float(p.population[unit])
        if state.pop[source] - pop_u >= p.pop_min and state.pop[target] + pop_u <= p.pop_max:
            continue  # a plain move; the move pass has judged it
        # the partner's population must bring both regions back within bounds
        low = max(p.pop_min - (state.pop[source] - pop_u), state.pop[target] + pop_u - p.pop_max)
        high = min(p.pop_max - (state.pop[source] - pop_u), state.pop[target] + pop_u - p.pop_min)
        if low > high or unit == int(p.centre_root[state.centre[source]]):
            continue
        if (target, source) not in floors:
            floors[target, source] = _delta_floor(state, target, source, allowed, scale)
        if source == start and own_floor + floors[target, source] > 1e-9:
            continue  # no partner can pay for u's move, whatever u's exact delta
        first = _delta(state, unit, target, scale, patients)
        if first + floors[target, source] >= -1e-12:
            continue  # no partner can pay for u's move
        _move(state, unit, target)
        partners = np.flatnonzero((state.region == target) & movable & allowed[:, state.centre[source]])
        partners = partners[partners != unit]
        pop_v, load_v = population[partners], load_vector[partners]
        partners = partners[
            (pop_v >= low)
            & (pop_v <= high)
            & (state.load[source] + load_v <= capacity[source])
            & (state.load[target] - load_v <= capacity[target])
        ]
        chosen = None
        if len(partners):
            seconds = _deltas(state, partners, source, scale, patients)
            source_connected: bool | None = None  # without u; checked once, only when a pair would pay
            for index in np.argsort(seconds, kind="stable").tolist():
                if first + seconds[index] >= -1e-12:
                    break
                if source_connected is None:
                    source_connected = _region_connected(state, source, neighbours)
                if not source_connected:
                    break
                v = int(partners[index])
                if any(state.region[w] == source for w in neighbours[v]) and _connected_without(
                    state, v, neighbours
                ):
                    chosen = v
                    break
        if chosen is None:
            _move(state, unit, source)
        else:
            _move(state, chosen, source)
            improved = True
            floors.clear()
            if focus is not None:
                focus.update((source, int(target)))
    return improved


def _delta_floor(state: _State, source: int, target: int, allowed: np.ndarray, scale: float) -> float:
    """A lower bound on the delta of moving any movable unit of region ``source`` alone to ``target``: its exact
    access delta less its :func:`_non_access_slack` (inf when no unit may move)."""
    units = np.flatnonzero((state.region == source) & state.shared.movable & allowed[:, state.centre[target]])
    if not len(units):
        return np.inf
    ones = np.ones(len(units), dtype=np.int64)
    return float(_move_floors(state, units, source * ones, target * ones, scale).min())


def _move_floors(
    state: _State, units: np.ndarray, sources: np.ndarray, targets: np.ndarray, scale: float
) -> np.ndarray:
    """Per move (``units[j]`` from region ``sources[j]`` to ``targets[j]``), a lower bound on its delta: the exact
    access change less the unit's :func:`_non_access_slack`."""
    p = state.p
    centres = np.asarray(state.centre)
    d_old = p.distance_km[units, centres[sources]]
    d_new = p.distance_km[units, centres[targets]]
    access = p.weights.access * state.shared.population[units] * (d_new**2 - d_old**2) / scale
    return access - state.shared.slack[units]


def _deltas(state: _State, units: np.ndarray, target: int, scale: float, patients: float) -> np.ndarray:
    """:func:`_delta` of each of ``units`` (all in one region) moving alone to ``target``, in array operations."""
    p = state.p
    w = p.weights
    units = np.asarray(units, dtype=np.int64)
    delta = np.zeros(len(units))
    if not len(units):
        return delta
    source = int(state.region[units[0]])
    total = state.shared.total
    pop = state.shared.population[units]
    if w.access:
        d_old = p.distance_km[units, state.centre[source]]
        d_new = p.distance_km[units, state.centre[target]]
        delta += w.access * pop * (d_new**2 - d_old**2) / scale
    if w.pcn and patients > 0:
        columns = p.pcn_patients[:, units]
        rows = (columns > 0).any(axis=1)
        if rows.any():
            block, columns = state.pcn[rows], columns[rows]
            homes = state.shared.homes[rows]
            if (homes == 1).all():
                before = block.max(axis=1)
                rest = block.copy()
                rest[:, [source, target]] = -np.inf  # the other neighbourhoods (-inf when there are none)
                rest_max = rest.max(axis=1)
                after = np.maximum(
                    np.maximum(rest_max[:, None], block[:, [source]] - columns), block[:, [target]] + columns
                )
            else:
                # A PCN's h fullest neighbourhoods after the move: the best of taking h, h - 1 or h - 2 of the
                # other neighbourhoods (R_j: the sum of their j fullest) with none, one or both of the changed
                # source and target (patients are never negative, so "at most h" is "h").
                before = top_sums(block, homes)
                rest = -np.sort(-np.delete(block, [source, target], axis=1), axis=1)
                prefix = np.concatenate([np.zeros((len(block), 1)), np.cumsum(rest, axis=1)], axis=1)
                wanted = homes[:, None] - np.arange(3)  # h, h - 1, h - 2 of the others
                taken = np.take_along_axis(
                    prefix, np.minimum(np.maximum(wanted, 0), prefix.shape[1] - 1), axis=1
                )
                best = np.where(wanted >= 0, taken, -np.inf)
                new_source = block[:, [source]] - columns
                new_target = block[:, [target]] + columns
                after = np.maximum(
                    np.maximum(best[:, [0]], best[:, [1]] + np.maximum(new_source, new_target)),
                    best[:, [2]] + new_source + new_target,
                )
            delta += w.pcn * (before[:, None] - after).sum(axis=0) / patients
    if w.demand and state.demand is not None:
        demand_total = float(p.demand.sum())
        if demand_total > 0:
            rate = demand_total / total
            d = p.demand[units].astype(float)
            before = abs(state.demand[source] - rate * state.pop[source]) + abs(
                state.demand[target] - rate * state.pop[target]
            )
            after = np.abs(state.demand[source] - d - rate * (state.pop[source] - pop)) + np.abs(
                state.demand[target] + d - rate * (state.pop[target] + pop)
            )
            delta += w.demand * (after - before) / demand_total
    if w.stability and state.match is not None:
        labels = p.baseline[units]
        known = labels >= 0
        matched = np.where(known, state.match[np.maximum(labels, 0)], -1)
        delta += w.stability * pop * ((matched == source).astype(float) - (matched == target)) * known / total
    if w.community and state.group_count is not None:
        groups = p.groups[units]
        known = groups >= 0
        if known.any():
            counts = state.group_count[groups[known]]
            split_before = (counts > 0).sum(axis=1) > 1
            after_counts = counts.copy()
            after_counts[:, source] -= 1
            after_counts[:, target] += 1
            split_after = (after_counts > 0).sum(axis=1) > 1
            labelled = p.groups >= 0
            group_pop = np.bincount(
                p.groups[labelled],
                weights=p.population[labelled].astype(float),
                minlength=state.group_count.shape[0],
            )
            delta[known] += (
                w.community * group_pop[groups[known]] * (split_after.astype(float) - split_before) / total
            )
    return delta


def _recentre(state: _State, allowed: np.ndarray, focus: set[int] | None = None) -> bool:
    """Move each region's centre to the candidate centre inside it minimising sum pop d^2 (LSOA centres only).

    A region keeps its centre when that centre is required, has a capacity, or is the target of a lock; a new
    centre must lie in the region (its root is a member), be free, and be allowed for every member.
    """
    p = state.p
    changed = False
    pop = state.shared.population
    movable = state.shared.recentrable
    root_region = state.region[p.centre_root]
    for r in range(len(state.centre)) if focus is None else sorted(focus):
        current_centre = state.centre[r]
        if not movable[current_centre]:
            continue
        members = np.flatnonzero(state.region == r)
        free = root_region == r
        free[state.centre] = False
        free[current_centre] = True
        options = np.flatnonzero(free & movable)
        options = options[np.argsort(p.centre_root[options], kind="stable")]  # by member, as listed before
        options = options[allowed[np.ix_(members, options)].all(axis=0)]
        if not len(options):
            continue
        costs = (pop[members, None] * p.distance_km[np.ix_(members, options)] ** 2).sum(axis=0)
        best = int(options[int(np.argmin(costs))])
        current = (pop[members] * p.distance_km[members, current_centre] ** 2).sum()
        if best != current_centre and costs.min() < current - 1e-9:
            state.centre[r] = best
            changed = True
    return changed


@dataclass
class _Split:
    """A re-split of regions a and b: ``side`` marks the ``members`` that go to a (served by ``centre_a``)."""

    a: int
    b: int
    members: np.ndarray
    side: np.ndarray
    centre_a: int
    centre_b: int


class _Recombination:
    """Merge-split (ReCom) moves: two adjacent regions are merged and re-split along a random spanning tree.

    Every edge of the tree cuts the merged set into two connected parts. A cut is usable when both parts are
    within the population bounds and each has a candidate centre: one rooted in it, allowed for all its members
    (radius, locks) and within capacity; a required or lock-target centre of the pair stays open, serving the
    part that holds its root. Each part gets its usable centre with the least sum pop d^2. Sums over a part are
    differences of prefix sums along the tree's depth-first order (a subtree is a contiguous run of it), so all
    the cuts of a tree are judged in a few array operations.
    """

    def __init__(self, problem: PlaceProblem, allowed: np.ndarray, neighbours: list[list[int]]) -> None:
        self.p = problem
        self.allowed = allowed
        self.neighbours = neighbours
        self.capacity = np.nan_to_num(problem.centre_capacity, nan=np.inf)
        self.edges = np.asarray(problem.edges, dtype=np.int64).reshape(-1, 2)
        self.centres_at: list[list[int]] = [[] for _ in range(problem.n_units)]
        for c, root in enumerate(problem.centre_root.tolist()):
            self.centres_at[root].append(c)
        self.keep_open = set(np.flatnonzero(problem.centre_required).tolist()) | {c for _, c in problem.locks}

    def adjacent_pairs(self, state: _State) -> list[tuple[int, int]]:
        """Pairs (a, b), a < b, of regions that share an edge, sorted."""
        a, b = state.region[self.edges[:, 0]], state.region[self.edges[:, 1]]
        differ = a != b
        pairs = np.unique(np.column_stack([np.minimum(a, b), np.maximum(a, b)])[differ], axis=0)
        return [(int(x), int(y)) for x, y in pairs]

    def random_split(
        self, state: _State, a: int, b: int, rng: np.random.Generator, trees: int = 4
    ) -> _Split | None:
        """A usable cut of regions a and b chosen uniformly on the first of up to ``trees`` random spanning trees
        that has one (None if none has)."""
        p = self.p
        members = np.flatnonzero((state.region == a) | (state.region == b))
        m = len(members)
        local = np.full(p.n_units, -1, dtype=np.int64)
        local[members] = np.arange(m)
        ends = local[self.edges]
        edges = ends[(ends >= 0).all(axis=1)]
        cands = np.array([c for u in members.tolist() for c in self.centres_at[u]], dtype=np.int64)
        if m < 2 or len(edges) == 0 or len(cands) < 2:
            return None
        n_c = len(cands)
        capacity = self.capacity[cands]
        pop = state.shared.population[members]
        # columns summed over a part: pop, load, members not allowed per candidate, pop d^2 per candidate
        data = np.hstack(
            [
                pop[:, None],
                state.shared.load[members][:, None],
                (~self.allowed[np.ix_(members, cands)]).astype(float),
                pop[:, None] * p.distance_km[np.ix_(members, cands)] ** 2,
            ]
        )
        banned, cost = slice(2, 2 + n_c), slice(2 + n_c, 2 + 2 * n_c)
        totals = data.sum(axis=0)
        forced = [
            int(np.flatnonzero(cands == c)[0])
            for c in (state.centre[a], state.centre[b])
            if c in self.keep_open
        ]
        cand_local = local[p.centre_root[cands]]
        for _ in range(trees):
            order, parent = _random_spanning_tree(m, edges, rng.random(len(edges)))
            if order is None:  # a and b are not adjacent
                return None
            size = np.ones(m, dtype=np.int64)
            for v in order[:0:-1].tolist():
                size[parent[v]] += size[v]
            position = np.empty(m, dtype=np.int64)
            position[order] = np.arange(m)
            prefix = np.vstack([np.zeros((1, data.shape[1])), np.cumsum(data[order], axis=0)])
            low = position[order[1:]]  # cutting above node v leaves its subtree, order[low:high]
            high = low + size[order[1:]]
            pop_s = prefix[high, 0] - prefix[low, 0]
            pop_t = totals[0] - pop_s
            keep = (pop_s >= p.pop_min) & (pop_s <= p.pop_max) & (pop_t >= p.pop_min) & (pop_t <= p.pop_max)
            if not keep.any():
                continue
            low, high = low[keep], high[keep]
            sums_s = prefix[high] - prefix[low]
            sums_t = totals[None, :] - sums_s
            cand_position = position[cand_local]
            inside = (low[:, None] <= cand_position[None, :]) & (cand_position[None, :] < high[:, None])
            usable_s = inside & (sums_s[:, banned] < 0.5) & (sums_s[:, 1:2] <= capacity[None, :] + 1e-9)
            usable_t = ~inside & (sums_t[:, banned] < 0.5) & (sums_t[:, 1:2] <= capacity[None, :] + 1e-9)
            for col in forced:
                only = np.arange(n_c) == col
                holds = inside[:, col]
                usable_s[holds] &= only
                usable_t[~holds] &= only
            ok = np.flatnonzero(usable_s.any(axis=1) & usable_t.any(axis=1))
            if not len(ok):
                continue
            pick = int(ok[rng.integers(len(ok))])
            side = np.zeros(m, dtype=bool)
            side[order[low[pick] : high[pick]]] = True
            centre_s = int(cands[np.argmin(np.where(usable_s[pick], sums_s[pick, cost], np.inf))])
            centre_t = int(cands[np.argmin(np.where(usable_t[pick], sums_t[pick, cost], np.inf))])
            return _Split(a, b, members, side, centre_s, centre_t)
        return None

    @staticmethod
    def apply(state: _State, split: _Split) -> None:
        """Make the split."""
        state.region[split.members[split.side]] = split.a
        state.region[split.members[~split.side]] = split.b
        state.centre[split.a] = split.centre_a
        state.centre[split.b] = split.centre_b
        state.refresh()


def _random_spanning_tree(
    m: int, edges: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Minimum spanning tree of a graph on 0..m-1 under random ``weights`` (Kruskal): its depth-first order from
    node 0 and each node's parent (-1 for node 0); (None, parents) when the graph is not connected."""
    root_of = list(range(m))

    def find(x: int) -> int:
        while root_of[x] != x:
            root_of[x] = root_of[root_of[x]]
            x = root_of[x]
        return x

    adjacency: list[list[int]] = [[] for _ in range(m)]
    joined = 0
    for i, j in edges[np.argsort(weights, kind="stable")].tolist():
        ri, rj = find(i), find(j)
        if ri != rj:
            root_of[ri] = rj
            adjacency[i].append(j)
            adjacency[j].append(i)
            joined += 1
            if joined == m - 1:
                break
    parent = np.full(m, -1, dtype=np.int64)
    if joined != m - 1:
        return None, parent
    order = []
    stack = [0]
    seen = [False] * m
    seen[0] = True
    while stack:
        v = stack.pop()
        order.append(v)
        for u in adjacency[v]:
            if not seen[u]:
                seen[u] = True
                parent[u] = v
                stack.append(u)
    return np.array(order, dtype=np.int64), parent


def _recombination_search(
    state: _State,
    allowed: np.ndarray,
    neighbours: list[list[int]],
    rng: np.random.Generator,
    *,
    iterations: int,
    history: int = 60,
    deadline: float | None = None,
    visited: dict[bytes, np.ndarray] | None = None,
) -> tuple[_State, float, int]:
    """Iterated local search with merge-split kicks and late acceptance.

    ``iterations`` times: re-split a random adjacent pair of regions of the current plan along a random usable
    cut of a random spanning tree (:meth:`_Recombination.random_split`), let the local search repair the two
    regions (and any it spreads to), and make the result current when it is no worse than the current plan or
    than the current plan of ``history`` iterations ago (late-acceptance hill climbing: small steps uphill let
    the walk leave a basin). Stops early past ``deadline`` (``time.perf_counter()``). Each plan made current goes
    into ``visited`` (when given; a centre per unit, keyed by its bytes). Returns the best state seen, its weighted
    objective and the iterations run.
    """
    p = state.p
    recombination = _Recombination(p, allowed, neighbours)
    current = best = state
    current_value = best_value = _state_objective(state)
    recent = [current_value] * max(history, 1)

    def keep(kept: _State) -> None:  # into ``visited``, once
        if visited is not None:
            plan = kept.assignment()
            visited.setdefault(plan.tobytes(), plan)

    keep(state)
    for iteration in range(iterations):
        if deadline is not None and time.perf_counter() > deadline:
            return best, best_value, iteration
        trial = _State(p, current.centre, current.region, current.shared)
        pairs = recombination.adjacent_pairs(trial)
        if not pairs:
            break
        a, b = pairs[int(rng.integers(len(pairs)))]
        split = recombination.random_split(trial, a, b, rng)
        if split is None:
            continue
        recombination.apply(trial, split)
        _improve(trial, allowed, neighbours, focus={a, b})
        value = _state_objective(trial)
        slot = iteration % len(recent)
        if value <= current_value or value <= recent[slot]:
            current, current_value = trial, value
            keep(trial)
            if value < best_value - 1e-12:
                best, best_value = trial, value
        recent[slot] = current_value
    return best, best_value, iterations


def _state_objective(state: _State) -> float:
    return weighted_objective(state.p, evaluate_terms(state.p, state.assignment()))


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
