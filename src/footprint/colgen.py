"""Column generation over whole neighbourhoods: a set-partitioning bound, and plans from its columns.

The per-unit MIP (:mod:`footprint.model`) relaxes each unit's choice of centre separately, and its LP bound levels
off well short of the best plans (issue 19: Barnet 3.5% after 900 s). Here a plan is a choice of whole
neighbourhoods instead:

- a **column** j is one neighbourhood: a centre c_j, a connected unit set S_j holding c_j's root, within the
  population bounds, every unit allowed for c_j (radius, locks, population reach), within c_j's capacity; with the
  PCNs Q_j it is home to and the baseline label l_j it keeps (-1: none);
- its **cost** is the part of the place's objective it carries (:mod:`footprint.objective`, every term column by
  column): access sum_{i in S} w_a pop_i d(i,c)^2 / S_scale, demand w_d |D(S) - rate pop(S)| / D, minus the PCN
  patients it homes w_p sum_{p in Q} T_p(S) / T, minus the baseline population it keeps w_s pop(l, S) / P, minus
  the population of keep-together groups wholly inside it w_c pop_g / P; the constant (w_p + w_s + w_c sum_g pop_g
  / P) is added once;
- the **master** chooses columns lambda_j: every unit covered once, k_min <= sum lambda <= k_max, each centre at
  most once (exactly once when required or a lock's target), each PCN home at most h_p times
  (``PlaceProblem.homes_of``), each baseline label kept at most once.

An integer solution of the master is exactly a valid plan with its objective (a PCN's home is then its h_p
fullest neighbourhoods, the kept population the best one-to-one matching), so the master's LP relaxation bounds
every plan; it is much stronger than the per-unit LP because a column is already connected and within bounds.

**Subset-row cuts.** What the LP leaves fractional is often an odd cycle: three columns at a half, each holding
two of three units a, b, c. In a plan each unit is in one neighbourhood, so at most one of them holds two or
more of a, b, c: sum of lambda_j over the columns holding two or more of the triple <= 1 (Jepsen et al.'s rank-1
subset-row cut on three rows). :func:`separate_triples` finds the triples the LP solution violates; they become
master rows (``Pricing.triples``, dual rho_t <= 0), and a column pays -rho_t for each triple it holds two of: in
exact pricing a w_t >= x_a + x_b - 1 for each pair, in heuristic pricing's gain. A round of them comes once the
LP is nearly converged (``TRIPLE_GAP``). On London they lift the converged root by about 1% (Sutton 1.40783 ->
1.4221 against a best plan of 1.42805), as much as dozens of branch-and-price nodes.

**The bound.** For duals (pi_i free, mu on the k row, sigma_p <= 0, tau_l <= 0, rho_t <= 0) and g_c, a lower
bound on the least Lagrangian cost cost_j - pi(S_j) - sigma(Q_j) - tau(l_j) - (rho_t of each cut t it holds two
units of) of any column of centre c,

    L = const + sum_i pi_i + sum_p h_p sigma_p + sum_l tau_l + sum_t rho_t + min over m in [k_min, k_max] of
        the sum of the g_c of every centre that must open and the m - (their number) smallest g_c of the others

is a valid lower bound on every plan, whatever the duals (Lagrangian relaxation of every row but the centres'
own and the k row, cuts included, each valid for every plan; the k row's dual mu is used only to price the
columns; a branch narrows [k_min, k_max] to its node's). g_c comes from the exact
pricing MIP's dual bound, so it stays valid when that MIP stops at its node limit. Duals are clipped to their signs
before pricing, so the duals priced are the duals bounded.

**Generating columns.** Each round solves the restricted master LP (highspy, warm), reads its duals, and prices
every centre heuristically (:func:`price_heuristic`: greedy growth from the root by marginal Lagrangian gain,
also towards the PCN homes the duals reward, then add/drop steps, also from the centre's columns in use);
columns of negative reduced cost enter. When the heuristic finds none, an exact pass (:func:`price_exact`: a
MIP per centre with contiguity cuts from the root, starting from the cuts its earlier pricings found, and a
flow from it once the cuts have taken a few rounds, binaries for the PCN homes and baseline label the column
earns, cut off at the Lagrangian zero) proves the bound L and adds whatever columns it finds; a centre the
clock leaves unpriced is bounded by :meth:`Pricing.loose_bound`. Stabilisation: the unit rows carry penalised
slacks, which keep every pi_i in a box (around 0, then around the duals of the best bound: a box step) and the
master feasible from the start; when the master uses a slack the box is widened. An exact pass prices at a
blend of the best bound's duals and the master's (Wentges smoothing, ``SMOOTHING``); when none of the columns it
finds enters the master, the next pass prices at the master's own duals. The LP is converged when an exact pass
at the master's own duals finds no column (then L equals the master's value).

**Plans.** :meth:`Master.rounded` turns the master's solution into a start (the k centres of largest value,
each unit to the one covering it most) that :func:`footprint.heuristic.polish_plan` repairs and improves; when
the repair cannot meet the bounds from it, :meth:`Master.weighted_centres` gives the k centres the solution opens
most, for the heuristic's own growth (:func:`footprint.heuristic.grow_from_centres`);
:func:`dive` fixes the largest fractional column and regenerates until the solution is integral;
:meth:`Master.integer_plan` solves the master with lambda integer over the columns generated (and those of every
plan offered), only those whose reduced cost could put them in a plan better than the incumbent.
:func:`recombine_plans` does the same over the neighbourhoods of a set of plans alone: the heuristic's walks
visit hundreds of valid plans, and the best plan made of their neighbourhoods is often better than any of them
(Bromley: 1.27403 from 564 plans whose best is 1.27974, in 1.6 s).

Every limit is counted (rounds, columns, MIP nodes), not clocked, so the bound and plan are the same on a slower
machine; the ``deadline`` is a guard only, and :class:`ColumnResult` says when it bound.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from footprint.heuristic import allowed_matrix
from footprint.highs import new_highs
from footprint.model import capacity_load, define_access
from footprint.objective import access_scale, pcn_total
from footprint.problem import PlaceProblem, connected_parts

logger = logging.getLogger(__name__)

#: Reduced cost below which a column enters the master.
ENTER_TOLERANCE = 1e-7
#: Initial box on the unit duals (slack cost per unit row), as a multiple of the mean column cost per unit.
BOX_FACTOR = 8.0
#: Columns added per centre and round at most (the best first).
COLUMNS_PER_CENTRE = 2
#: PCNs whose home a centre's heuristic pricing also grows towards (those it holds most of nearby, net of dual).
FOCUSES = 2
#: Improvement steps of the heuristic pricing's add/drop search at most.
IMPROVE_STEPS = 200
#: Branch-and-bound nodes of one exact pricing MIP at most (its dual bound is used when it stops there).
PRICING_NODES = 2_000
#: Contiguity cut rounds of one exact pricing problem at most.
CUT_ROUNDS = 50
#: Columns one exact pricing MIP returns at most: its optimum, then the other connected solutions it met on the way
#: that cost less than the cutoff, cheapest first. The exact passes come when heuristic pricing finds nothing, and
#: one column a centre left the next master short of the columns it needed: with 5, on ten London places in
#: counted mode (the same work on any machine) the 60 s bound rose on seven (Bromley's gap 0.50% -> 0.22%, Sutton
#: 1.02% -> 0.65%) and fell on Hillingdon (1.03% -> 1.12%); see BENCHMARKS.md.
EXACT_COLUMNS = 5
#: Cut rounds after which the pricing MIP also takes the flow formulation of contiguity. Most centres need one to
#: three rounds, and the flow's extra variables would slow them (Greenwich's exact pass: 10 s with cuts alone, 21 s
#: with the flow from the start; Barnet's two passes: 6.0 s, 8.6 s after two rounds, 6.7 s after three); some
#: need 20-50 rounds, each a MIP solved again (Richmond's slowest 8 centres: 89 s with cuts alone, 3.9 s).
FLOW_AFTER_CUT_ROUNDS = 3


@dataclass(frozen=True)
class Column:
    """One neighbourhood as the master sees it (module docstring)."""

    centre: int
    units: tuple[int, ...]
    homes: tuple[int, ...]
    label: int
    cost: float


@dataclass
class ColumnResult:
    """What :func:`generate_columns` did.

    Attributes
    ----------
    bound
        Best valid lower bound on the place's objective (``nan`` when no exact pass finished).
    lp_value
        The restricted master's LP value at the end (a bound only when ``converged``).
    converged
        The exact pass found no improving column: ``lp_value`` is the master LP's optimum and equals ``bound``.
    rounds, exact_passes, columns
        Master LPs solved, exact pricing passes, columns in the master.
    stopped
        The deadline stopped the work before its counted limits (the result then depends on the machine).
    pricing_nodes
        Branch-and-bound nodes of all exact pricing MIPs.
    triples
        Subset-row cuts added (:func:`separate_triples`).
    history
        Per exact pass: master LPs solved, the master's value, the bound proved, seconds since the start.
    """

    bound: float = math.nan
    lp_value: float = math.nan
    converged: bool = False
    rounds: int = 0
    exact_passes: int = 0
    columns: int = 0
    stopped: bool = False
    pricing_nodes: int = 0
    triples: int = 0
    history: list[tuple[int, float, float, float]] = field(default_factory=list)


class Pricing:
    """The place's objective as per-unit and per-column arrays, and the columns' costs and Lagrangian gains."""

    def __init__(self, problem: PlaceProblem) -> None:
        p = problem
        self.problem = p
        w = p.weights
        n = p.n_units
        self.n = n
        self.population = p.population.astype(float)
        total = max(float(self.population.sum()), 1e-9)
        self.reach = define_access(p) & allowed_matrix(p)
        # access cost of unit i served by centre c
        self.unit_cost = w.access * self.population[:, None] * p.distance_km**2 / access_scale(p)
        self.constant = 0.0
        # PCN homes: patients per unit, weighted (w_p / T)
        patients = pcn_total(p)
        if patients > 0 and w.pcn:
            self.pcn = w.pcn * np.asarray(p.pcn_patients, float) / patients
            self.constant += w.pcn
        else:
            self.pcn = np.zeros((0, n))
        self.homes = p.homes_of() if len(self.pcn) else np.zeros(0, dtype=np.int64)
        # baseline labels kept (stability)
        if p.baseline is not None and w.stability:
            self.constant += w.stability
            known = p.baseline >= 0
            n_labels = int(p.baseline[known].max()) + 1 if known.any() else 0
            self.labels = np.zeros((n_labels, n))
            self.labels[p.baseline[known], np.flatnonzero(known)] = (
                w.stability * self.population[known] / total
            )
        else:
            self.labels = np.zeros((0, n))
        # demand out of line with population
        if p.demand is not None and p.demand.sum() > 0 and w.demand:
            demand = p.demand.astype(float)
            self.excess = demand - demand.sum() / total * self.population
            self.demand_weight = w.demand / float(demand.sum())
        else:
            self.excess = np.zeros(n)
            self.demand_weight = 0.0
        # keep-together groups of two or more units (a single unit is never split)
        self.groups: list[np.ndarray] = []
        self.group_value = np.zeros(0)
        if p.groups is not None and w.community:
            members = [np.flatnonzero(p.groups == g) for g in np.unique(p.groups[p.groups >= 0])]
            self.groups = [m for m in members if len(m) > 1]
            self.group_value = np.array([w.community * self.population[m].sum() / total for m in self.groups])
            self.constant += float(self.group_value.sum())
        self.group_of: list[list[int]] = [[] for _ in range(n)]
        for g, m in enumerate(self.groups):
            for unit in m.tolist():
                self.group_of[unit].append(g)
        self.load = capacity_load(p)
        self.neighbours = p.neighbours()
        # per unit, for heuristic pricing's add and drop steps: its neighbours and its PCN column, as arrays
        self.neighbour_arrays = [np.asarray(row, dtype=np.int64) for row in self.neighbours]
        self.pcn_of_unit = np.ascontiguousarray(self.pcn.T)
        self.required = p.centre_required.copy()
        for _, centre in p.locks:
            self.required[centre] = True
        self.locked_to: list[list[int]] = [[] for _ in range(p.n_centres)]
        for unit, centre in p.locks:
            self.locked_to[centre].append(unit)
        # each PCN's weighted patients among the units nearest each centre, up to the upper bound: which PCN
        # homes a centre's columns can hope to earn (heuristic pricing focuses on them)
        self.near_mass = np.zeros((len(self.pcn), p.n_centres))
        for c in range(p.n_centres):
            order = np.flatnonzero(self.reach[:, c])
            order = order[np.argsort(p.distance_km[order, c], kind="stable")]
            near = order[np.cumsum(self.population[order]) <= p.pop_max]
            self.near_mass[:, c] = self.pcn[:, near].sum(axis=1)
        self.openable = np.array([self.reach[int(p.centre_root[c]), c] for c in range(p.n_centres)])
        # the number of neighbourhoods a plan may open: the place's range, narrowed by a branch
        # (:mod:`footprint.branch`); the objective's access scale keeps the place's own k_min
        self.k_min, self.k_max = p.k_min, p.k_max
        # contiguity cuts of exact pricing, per centre, kept for its next pricing (:func:`price_exact`): each is
        # (unit, separator), a set of units every connected set holding the unit and the centre's root meets,
        # the neighbours in the whole graph, so it stands at any duals and under any branch's restrictions
        self.cuts: dict[int, dict[tuple[int, tuple[int, ...]], None]] = {}
        # subset-row cuts of the master (:func:`separate_triples`): unit triples a, b, c (ascending) of which at
        # most one column of a plan holds two or more; shared by every node of a tree (each is valid for every
        # plan, and the list only grows, so a master or duals made earlier use its first entries); per unit,
        # the cuts it is in; the set of them
        self.triples: list[tuple[int, int, int]] = []
        self.triples_of: list[list[int]] = [[] for _ in range(n)]
        self.known_triples: set[tuple[int, int, int]] = set()
        self._triple_units = np.zeros((0, 3), dtype=np.int64)

    @property
    def triple_units(self) -> np.ndarray:
        """The cuts' units as an array (cuts x 3), made again only when cuts were added (heuristic pricing reads
        it for every growth; a shallow copy of the pricing sees the cuts added through the original too)."""
        if len(self._triple_units) != len(self.triples):
            self._triple_units = np.asarray(self.triples, dtype=np.int64).reshape(-1, 3)
        return self._triple_units

    def add_triples(self, triples: list[tuple[int, int, int]]) -> int:
        """Add the ``triples`` not yet among the cuts (each sorted); return how many were new."""
        added = 0
        for triple in triples:
            a, b, c = sorted(int(u) for u in triple)
            if (a, b, c) in self.known_triples or len({a, b, c}) < 3:
                continue
            self.known_triples.add((a, b, c))
            for u in (a, b, c):
                self.triples_of[u].append(len(self.triples))
            self.triples.append((a, b, c))
            added += 1
        return added

    def held_triples(
        self, units: tuple[int, ...] | list[int], first: int = 0, last: int | None = None
    ) -> list[int]:
        """The cuts t (``first`` <= t < ``last``) of which ``units`` hold two or more, ascending."""
        last = len(self.triples) if last is None else last
        count: dict[int, int] = {}
        for u in units:
            for t in self.triples_of[u]:
                if first <= t < last:
                    count[t] = count.get(t, 0) + 1
        return sorted(t for t, held in count.items() if held >= 2)

    def penalty(self, units: tuple[int, ...] | list[int], rho: np.ndarray) -> float:
        """What the subset-row cuts add to the reduced cost of a column of ``units`` at their duals ``rho``
        (<= 0): -rho_t for each cut t of which it holds two or more units."""
        return -sum(float(rho[t]) for t in self.held_triples(units, 0, len(rho)))

    def loose_bound(self, centre: int, duals: Duals) -> float:
        """A lower bound on the least Lagrangian cost of any column of ``centre`` that needs no search: every
        unit it may hold taken when that lowers the cost, every PCN home and the best label earned from all of
        them, the demand term dropped, every group whole (each part's least value, summed)."""
        reach = self.reach[:, centre]
        value = float(np.minimum(self.unit_cost[reach, centre] - duals.pi[reach], 0.0).sum())
        if len(self.pcn):
            value -= float(np.maximum(self.pcn[:, reach].sum(axis=1) + duals.sigma, 0.0).sum())
        if len(self.labels):
            value -= max(0.0, float((self.labels[:, reach].sum(axis=1) + duals.tau).max()))
        value -= float(self.group_value.sum())
        return value

    # ---- one column ------------------------------------------------------------------------------------------

    def valid(self, centre: int, units: tuple[int, ...]) -> bool:
        """Whether ``units`` is a neighbourhood ``centre`` may serve (every hard rule of one region)."""
        p = self.problem
        members = np.asarray(units, dtype=np.int64)
        if int(p.centre_root[centre]) not in units or not self.reach[members, centre].all():
            return False
        size = self.population[members].sum()
        if not p.pop_min <= size <= p.pop_max:
            return False
        capacity = float(p.centre_capacity[centre])
        if np.isfinite(capacity) and self.load[members].sum() > capacity + 1e-6:
            return False
        if not set(self.locked_to[centre]) <= set(units):
            return False
        return _connected(units, self.neighbours)

    def column(
        self,
        centre: int,
        units: tuple[int, ...],
        sigma: np.ndarray | None = None,
        tau: np.ndarray | None = None,
    ) -> Column:
        """The column of ``units`` served by ``centre``, with the homes and label that suit the duals (without
        duals: the PCNs of which it holds any patients, and the label it keeps most of)."""
        members = np.asarray(units, dtype=np.int64)
        held = self.pcn[:, members].sum(axis=1)
        kept = self.labels[:, members].sum(axis=1)
        sigma = np.zeros(len(held)) if sigma is None else sigma
        tau = np.zeros(len(kept)) if tau is None else tau
        homes = tuple(np.flatnonzero(held + sigma > 1e-12).tolist())
        label = -1
        if len(kept):
            best = int(np.argmax(kept + tau))
            if kept[best] + tau[best] > 1e-12:
                label = best
        return Column(centre, tuple(sorted(units)), homes, label, self.cost(centre, members, homes, label))

    def cost(self, centre: int, members: np.ndarray, homes: tuple[int, ...], label: int) -> float:
        """The column's share of the objective (module docstring)."""
        value = float(self.unit_cost[members, centre].sum())
        value += self.demand_weight * abs(float(self.excess[members].sum()))
        if homes:
            value -= float(self.pcn[np.asarray(homes)][:, members].sum())
        if label >= 0:
            value -= float(self.labels[label, members].sum())
        if self.groups:
            inside = set(members.tolist())
            value -= sum(
                float(self.group_value[g]) for g, m in enumerate(self.groups) if set(m.tolist()) <= inside
            )
        return value


def _connected(units: tuple[int, ...] | list[int], neighbours: list[list[int]]) -> bool:
    return len(connected_parts(units, neighbours)) == 1


@dataclass(frozen=True)
class Duals:
    """The master's duals, clipped to their signs: pi (units), mu (k row), nu (centres), sigma (PCN homes),
    tau (baseline labels), rho (the subset-row cuts on unit triples, ``Pricing.triples``, in order; the cuts
    beyond its length are priced at 0)."""

    pi: np.ndarray
    mu: float
    nu: np.ndarray
    sigma: np.ndarray
    tau: np.ndarray
    rho: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def towards(self, other: Duals, weight: float) -> Duals:
        """``weight`` of these duals and the rest of ``other`` (signs kept: each part's set is convex; a cut
        one of them does not have is priced at 0 in it)."""
        rest = 1.0 - weight
        size = max(len(self.rho), len(other.rho))
        mine = np.pad(self.rho, (0, size - len(self.rho)))
        theirs = np.pad(other.rho, (0, size - len(other.rho)))
        return Duals(
            weight * self.pi + rest * other.pi,
            weight * self.mu + rest * other.mu,
            weight * self.nu + rest * other.nu,
            weight * self.sigma + rest * other.sigma,
            weight * self.tau + rest * other.tau,
            weight * mine + rest * theirs,
        )


# ---- heuristic pricing ---------------------------------------------------------------------------------------


class _Growth:
    """A column under construction for one centre: its members, and the sums its Lagrangian gain needs.

    The gain is the negative Lagrangian cost without mu and nu: sum of profits (pi_i - access cost) plus the PCN
    homes and the label worth having at the duals, minus the demand term, plus whole groups, minus -rho_t for
    each subset-row cut t it holds two units of. Linear, PCN and cut parts are vectorised over candidate units;
    the rest (demand, labels, groups) is priced unit by unit, and only when its weight is not 0."""

    def __init__(self, pricing: Pricing, centre: int, duals: Duals) -> None:
        self.pr = pricing
        self.centre = centre
        self.reach = pricing.reach[:, centre]
        self.profit = np.where(self.reach, duals.pi - pricing.unit_cost[:, centre], -1e18)
        self.threshold = -duals.sigma  # >= 0: a PCN home pays once its weighted patients pass this
        self.label_threshold = -duals.tau
        self.members: set[int] = set()
        self.inside = np.zeros(pricing.n, dtype=bool)
        self.touch = np.zeros(pricing.n, dtype=np.int64)  # members adjacent to each unit
        self.size = 0.0
        self.load = 0.0
        self.held = np.zeros(len(pricing.pcn))
        self.kept = np.zeros(len(pricing.labels))
        self.excess = 0.0
        self.linear = 0.0
        self.group_count = np.zeros(len(pricing.groups), dtype=np.int64)
        self.group_sizes = np.array([len(m) for m in pricing.groups], dtype=np.int64)
        self.simple = not (len(self.kept) or pricing.demand_weight or len(self.group_count))
        # the cuts priced (rho_t < 0) of which the centre may hold two units: their weights -rho_t, members
        # (cuts x units) and members held
        active = np.flatnonzero(duals.rho < 0)
        members = pricing.triple_units[active]
        if len(active):
            near = self.reach[members].sum(axis=1) >= 2
            active, members = active[near], members[near]
        self.cut_weight = -duals.rho[active]
        self.cut_members = np.zeros((len(active), pricing.n), dtype=np.int64)
        if len(active):
            self.cut_members[np.repeat(np.arange(len(active)), 3), members.ravel()] = 1
        self.cut_held = np.zeros(len(active), dtype=np.int64)

    def _rest(self) -> float:
        """The labels, demand and groups part of the gain."""
        value = 0.0
        if len(self.kept):
            value += max(0.0, float((self.kept - self.label_threshold).max()))
        value -= self.pr.demand_weight * abs(self.excess)
        if len(self.group_count):
            value += float(self.pr.group_value[self.group_count == self.group_sizes].sum())
        return value

    def gain(self) -> float:
        value = self.linear
        if len(self.held):
            value += float(np.maximum(self.held - self.threshold, 0.0).sum())
        if len(self.cut_weight):
            value -= float(self.cut_weight[self.cut_held >= 2].sum())
        return value if self.simple else value + self._rest()

    def add(self, unit: int) -> None:
        self._shift(unit, +1)

    def drop(self, unit: int) -> None:
        self._shift(unit, -1)

    def _shift(self, unit: int, sign: int) -> None:
        # adding x or subtracting it, as ``+= sign * x`` did (the same floats)
        pr = self.pr
        if sign > 0:
            self.members.add(unit)
            self.inside[unit] = True
            self.touch[pr.neighbour_arrays[unit]] += 1
            self.size += pr.population[unit]
            self.load += pr.load[unit]
            self.linear += self.profit[unit]
            if len(self.held):
                self.held += pr.pcn_of_unit[unit]
            if len(self.cut_weight):
                self.cut_held += self.cut_members[:, unit]
        else:
            self.members.discard(unit)
            self.inside[unit] = False
            self.touch[pr.neighbour_arrays[unit]] -= 1
            self.size -= pr.population[unit]
            self.load -= pr.load[unit]
            self.linear -= self.profit[unit]
            if len(self.held):
                self.held -= pr.pcn_of_unit[unit]
            if len(self.cut_weight):
                self.cut_held -= self.cut_members[:, unit]
        if not self.simple:
            if len(self.kept):
                self.kept += sign * pr.labels[:, unit]
            self.excess += sign * pr.excess[unit]
            for g in pr.group_of[unit]:
                self.group_count[g] += sign

    def _pcn_after(self, units: np.ndarray, sign: int) -> np.ndarray:
        if not len(self.held):
            return np.zeros(len(units))
        columns = self.pr.pcn[:, units]
        after = self.held[:, None] + columns if sign > 0 else self.held[:, None] - columns
        return np.maximum(after - self.threshold[:, None], 0.0).sum(axis=0)

    def gains_after(self, units: np.ndarray, sign: int) -> np.ndarray:
        """Gain after adding (``sign`` +1) or dropping (-1) each of ``units``."""
        result = self.linear + sign * self.profit[units] + self._pcn_after(units, sign)
        if len(self.cut_weight):
            after = self.cut_held[:, None] + sign * self.cut_members[:, units]
            result = result - self.cut_weight @ (after >= 2)
        if self.simple:
            return result
        rest = np.empty(len(units))
        for k, unit in enumerate(units.tolist()):
            self._shift(unit, sign)
            rest[k] = self._rest()
            self._shift(unit, -sign)
        return result + rest

    def frontier(self) -> np.ndarray:
        room = self.pr.problem.pop_max - self.size
        return np.flatnonzero(
            (self.touch > 0) & ~self.inside & self.reach & (self.pr.population <= room + 1e-9)
        )

    def feasible(self) -> bool:
        p = self.pr.problem
        capacity = float(p.centre_capacity[self.centre])
        return (
            p.pop_min <= self.size <= p.pop_max
            and (not np.isfinite(capacity) or self.load <= capacity + 1e-6)
            and set(self.pr.locked_to[self.centre]) <= self.members
        )


def price_heuristic(
    pricing: Pricing, centre: int, duals: Duals, starts: list[tuple[int, ...]] = ()
) -> list[tuple[int, ...]]:
    """Unit sets of high Lagrangian gain for ``centre``: greedy growth from its root, then add/drop steps; the
    same steps from each of ``starts`` (the centre's columns in use). Every set returned is a valid column.

    A PCN's home pays only once the column holds more of its patients than its dual asks, which a greedy step
    cannot see; so growth is also run once per PCN with that PCN's patients counted from the first unit."""
    found: dict[tuple[int, ...], float] = {}
    root = int(pricing.problem.centre_root[centre])
    reach = pricing.reach[:, centre]
    focuses: list[np.ndarray | None] = [None]
    promise = pricing.near_mass[:, centre] + duals.sigma
    for q in np.argsort(-promise, kind="stable")[:FOCUSES].tolist():
        if promise[q] > 1e-12:
            focuses.append(pricing.pcn[q])
    runs: list[tuple[tuple[int, ...], np.ndarray | None]] = [((root,), f) for f in focuses]
    runs += [(s, None) for s in starts if root in s and reach[list(s)].all()]
    for seed, bias in runs:
        state = _Growth(pricing, centre, duals)
        for unit in seed:
            state.add(unit)
        if len(seed) == 1:
            _grow(state, bias)
        _improve(state, root)
        if state.feasible():
            units = tuple(sorted(state.members))
            if units not in found and pricing.valid(centre, units):
                found[units] = state.gain()
    return sorted(found, key=lambda units: (-found[units], units))


def _grow(state: _Growth, bias: np.ndarray | None = None) -> None:
    """Add the frontier unit of best gain (plus ``bias``, counted linearly) while below the lower bound or while
    that rises; keep the best state passed (by the true gain) that is within the bounds."""
    p = state.pr.problem
    best: tuple[float, frozenset[int]] | None = None
    extra = 0.0
    while True:
        frontier = state.frontier()
        if not len(frontier):
            break
        gains = state.gains_after(frontier, +1)
        if bias is not None:
            gains = gains + bias[frontier] + extra
        pick = int(np.argmax(gains))
        if state.size >= p.pop_min and gains[pick] <= state.gain() + extra:
            break
        unit = int(frontier[pick])
        state.add(unit)
        if bias is not None:
            extra += float(bias[unit])
        if state.feasible():
            value = state.gain()
            if best is None or value > best[0] + 1e-12:
                best = (value, frozenset(state.members))
    if best is not None and frozenset(state.members) != best[1]:
        for unit in list(state.members - best[1]):
            state.drop(unit)
        for unit in best[1] - state.members:
            state.add(unit)


def _improve(state: _Growth, root: int) -> None:
    """Add or drop one unit at a time while that raises the gain and keeps the column valid (the best move
    first; a drop must keep the column connected)."""
    pr, p = state.pr, state.pr.problem
    locked = set(pr.locked_to[state.centre])
    for _ in range(IMPROVE_STEPS):
        best_gain, best_move = state.gain() + 1e-12, None
        frontier = state.frontier()
        if len(frontier):
            gains = state.gains_after(frontier, +1)
            pick = int(np.argmax(gains))
            if gains[pick] > best_gain:
                best_gain, best_move = float(gains[pick]), (int(frontier[pick]), +1)
        members = np.array(sorted(state.members), dtype=np.int64)
        droppable = members[
            (members != root)
            & (state.size - pr.population[members] >= p.pop_min)
            & ~np.isin(members, list(locked))
        ]
        if len(droppable):
            gains = state.gains_after(droppable, -1)
            for k in np.argsort(-gains, kind="stable").tolist():
                if gains[k] <= best_gain:
                    break
                unit = int(droppable[k])
                if _connected([m for m in state.members if m != unit], pr.neighbours):
                    best_gain, best_move = float(gains[k]), (unit, -1)
                    break
        if best_move is None:
            return
        unit, sign = best_move
        (state.add if sign > 0 else state.drop)(unit)


# ---- exact pricing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExactPrice:
    """One exact pricing MIP: a lower bound on the centre's least Lagrangian cost (cost - pi - sigma - tau, plus
    -rho_t for each subset-row cut t it holds two units of; mu and nu left out), whether it is proven, the best
    unit sets found, the nodes used and the MIPs solved (one a round of contiguity cuts)."""

    bound: float
    proven: bool
    units: list[tuple[int, ...]]
    nodes: int
    rounds: int = 0


def price_exact(
    pricing: Pricing,
    centre: int,
    duals: Duals,
    *,
    cutoff: float = math.inf,
    nodes: int = PRICING_NODES,
    seconds: float | None = None,
) -> ExactPrice:
    """The least Lagrangian cost of any column of ``centre`` (module docstring), by a MIP.

    Variables: x_i (unit in the column), y_p and u_pi <= min(x_i, y_p) (PCN p homed: earns its weighted patients, pays -sigma_p),
    z_l and v_il (baseline label l kept, at most one), e >= |excess| (demand), q_g <= x_i for i in g (group whole),
    w_t >= x_a + x_b - 1 for each pair of subset-row cut t's triple (pays -rho_t).
    Contiguity: by cuts (a stray part of the solution needs a unit of its boundary), and when
    ``FLOW_AFTER_CUT_ROUNDS`` rounds leave the solution disconnected, also by a single-commodity flow from the root
    (:func:`_add_flow`). ``cutoff``: only costs below it matter (the MIP prunes at it); a bound at or above it is
    reported as the cutoff. Returns the MIP's dual bound (valid at its node limit too) and up to
    ``EXACT_COLUMNS`` unit sets: the MIP's connected optimum first (when it has one), then the cheapest other
    valid columns among the solutions it met on the way, in any cut round, that cost less than the cutoff.
    """
    import highspy

    p = pricing.problem
    inf = highspy.kHighsInf
    root = int(p.centre_root[centre])
    units = np.flatnonzero(pricing.reach[:, centre])
    if not len(units) or not pricing.openable[centre]:
        return ExactPrice(math.inf, True, [], 0)
    pos = {int(u): k for k, u in enumerate(units.tolist())}
    nx = len(units)
    costs: list[float] = (pricing.unit_cost[units, centre] - duals.pi[units]).tolist()
    lower = [0.0] * nx
    upper = [1.0] * nx
    integer = list(range(nx))
    lower[pos[root]] = 1.0
    for unit in pricing.locked_to[centre]:
        if unit in pos:
            lower[pos[unit]] = 1.0
    rows: list[tuple[float, float, list[int], list[float]]] = []

    def new_var(cost: float, lo: float, hi: float, is_int: bool = False) -> int:
        costs.append(cost)
        lower.append(lo)
        upper.append(hi)
        if is_int:
            integer.append(len(costs) - 1)
        return len(costs) - 1

    population = pricing.population[units]
    rows.append((float(p.pop_min), float(p.pop_max), list(range(nx)), population.tolist()))
    capacity = float(p.centre_capacity[centre])
    if np.isfinite(capacity):
        rows.append((-inf, capacity, list(range(nx)), pricing.load[units].tolist()))

    # PCN homes and the baseline label: h_q <= held_q(x) and h_q <= M_q y_q (M_q: the most a column can hold)
    def earn(weights: np.ndarray, price: float) -> int | None:
        if weights.sum() <= price + 1e-12:
            return None
        y = new_var(price, 0.0, 1.0, True)
        most = _most_held(weights, population, float(p.pop_max))
        held = new_var(-1.0, 0.0, most)
        holders = np.flatnonzero(weights > 0)
        rows.append((-inf, 0.0, [held, *holders.tolist()], [1.0, *(-weights[holders]).tolist()]))
        rows.append((-inf, 0.0, [held, y], [1.0, -most]))
        return y

    for q in range(len(pricing.pcn)):
        earn(pricing.pcn[q, units], -float(duals.sigma[q]))
    label_vars = [
        y
        for label in range(len(pricing.labels))
        if (y := earn(pricing.labels[label, units], -float(duals.tau[label]))) is not None
    ]
    if len(label_vars) > 1:
        rows.append((-inf, 1.0, label_vars, [1.0] * len(label_vars)))
    # demand: e >= +-excess
    if pricing.demand_weight:
        e = new_var(pricing.demand_weight, 0.0, inf)
        excess = pricing.excess[units].tolist()
        rows.append((0.0, inf, [e, *range(nx)], [1.0, *(-x for x in excess)]))
        rows.append((0.0, inf, [e, *range(nx)], [1.0, *excess]))
    # keep-together groups wholly inside
    for g, members in enumerate(pricing.groups):
        if not all(int(m) in pos for m in members):
            continue
        q_var = new_var(-float(pricing.group_value[g]), 0.0, 1.0)
        for m in members.tolist():
            rows.append((-inf, 0.0, [q_var, pos[m]], [1.0, -1.0]))
    # subset-row cuts: w_t >= x_a + x_b - 1 for each pair of the triple in reach, at cost -rho_t (w_t need not
    # be integer: at whole x its least value is whole)
    for t in np.flatnonzero(duals.rho < 0).tolist():
        held = [pos[u] for u in pricing.triples[t] if u in pos]
        if len(held) >= 2:
            w = new_var(-float(duals.rho[t]), 0.0, 1.0)
            for a, b in itertools.combinations(held, 2):
                rows.append((-inf, 1.0, [a, b, w], [1.0, 1.0, -1.0]))

    h = new_highs()
    count = len(costs)
    h.addVars(count, np.array(lower), np.array(upper))
    h.changeColsCost(count, np.arange(count, dtype=np.int32), np.array(costs))
    h.changeColsIntegrality(
        len(integer),
        np.array(integer, dtype=np.int32),
        np.array([highspy.HighsVarType.kInteger] * len(integer)),
    )
    starts, index, value = [0], [], []
    for _, _, cols, vals in rows:
        index.extend(cols)
        value.extend(vals)
        starts.append(len(index))
    h.addRows(
        len(rows),
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        len(index),
        np.array(starts[:-1], dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=float),
    )
    h.setOptionValue("mip_max_nodes", int(nodes))
    h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    if math.isfinite(cutoff):
        h.setOptionValue("objective_bound", float(cutoff))
    # every solution the MIP meets (in any cut round) is a column when it is connected and within the rules
    met: list[tuple[float, np.ndarray]] = []

    def keep(event) -> None:
        met.append((float(event.data_out.objective_function_value), event.data_out.mip_solution[:nx] > 0.5))

    h.cbMipSolution.subscribe(keep)

    def others(first: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        return first + _met_columns(pricing, centre, units, met, cutoff, first, EXACT_COLUMNS - len(first))

    pool = pricing.cuts.setdefault(centre, {})

    def add_cuts(cuts) -> None:
        # a cut x_u <= sum of x over its separator (members out of reach are 0 here, so left out)
        cuts_index, cuts_start, cuts_value = [], [], []
        for unit, separator in cuts:
            if unit not in pos:
                continue
            members = [pos[v] for v in separator if v in pos]
            cuts_start.append(len(cuts_index))
            cuts_index.extend([pos[unit], *members])
            cuts_value.extend([1.0] + [-1.0] * len(members))
        if cuts_start:
            h.addRows(
                len(cuts_start),
                np.full(len(cuts_start), -inf),
                np.zeros(len(cuts_start)),
                len(cuts_index),
                np.array(cuts_start, dtype=np.int32),
                np.array(cuts_index, dtype=np.int32),
                np.array(cuts_value, dtype=float),
            )

    def boundary(part: list[int]) -> tuple[int, ...]:
        # the part's neighbours outside it, in the whole graph (so the cut stands under any restrictions)
        inside = set(part)
        return tuple(sorted({v for u in part for v in pricing.neighbours[u] if v not in inside}))

    add_cuts(pool)
    finish = None if seconds is None else time.perf_counter() + seconds
    # contiguity by cuts: solve, cut off each part away from the root (a member of it needs a member of the
    # part's boundary), solve again; every round is a relaxation, so each round's dual bound is valid. The cuts
    # found are kept for this centre's next pricing (``Pricing.cuts``), which starts from them.
    bound, nodes_used, solved = -math.inf, 0, 0
    for cut_round in range(CUT_ROUNDS):
        if cut_round == FLOW_AFTER_CUT_ROUNDS:
            _add_flow(h, pricing, units, pos[root], float(p.pop_max))
        if finish is not None:
            if time.perf_counter() >= finish:
                break
            h.setOptionValue("time_limit", max(finish - time.perf_counter(), 0.01))
        h.run()
        solved += 1
        status = h.getModelStatus()
        info = h.getInfo()
        nodes_used += int(info.mip_node_count)
        if status == highspy.HighsModelStatus.kInfeasible:
            # nothing below the cutoff (or no column at all)
            return ExactPrice(cutoff, True, [], nodes_used, solved)
        round_bound = float(info.mip_dual_bound)
        if math.isfinite(round_bound):
            bound = max(bound, round_bound)
        if bound >= cutoff:
            # this round's model is a relaxation: no column costs less than the cutoff (HiGHS 1.16 does not prune
            # a MIP at objective_bound, so the rounds went on raising a bound that no longer mattered)
            return ExactPrice(cutoff, True, [], nodes_used, solved)
        if info.primal_solution_status != 2:
            break
        x = np.asarray(h.getSolution().col_value[:nx])
        chosen = [int(u) for u in units[x > 0.5].tolist()]
        parts = connected_parts(chosen, pricing.neighbours)
        if len(parts) == 1:
            proven = status == highspy.HighsModelStatus.kOptimal
            units_found = tuple(parts[0])
            found = [units_found] if pricing.valid(centre, units_found) else []
            if proven:
                bound = max(bound, float(info.objective_function_value))
            return ExactPrice(min(bound, cutoff), proven, others(found), nodes_used, solved)
        # two separators between each stray member and the root: the boundary of its own part, and the
        # boundary of the root's part (both unchosen now; a connected column must take a unit of each)
        around_root = boundary(next(part for part in parts if root in part))
        fresh = []
        for part in parts:
            if root in part:
                continue
            for separator in (boundary(part), around_root):
                for u in part:
                    if (u, separator) not in pool:
                        pool[(u, separator)] = None
                        fresh.append((u, separator))
        add_cuts(fresh)
    return ExactPrice(min(bound, cutoff), False, others([]), nodes_used, solved)


def _met_columns(
    pricing: Pricing,
    centre: int,
    units: np.ndarray,
    met: list[tuple[float, np.ndarray]],
    cutoff: float,
    found: list[tuple[int, ...]],
    most: int,
) -> list[tuple[int, ...]]:
    """Up to ``most`` unit sets among the pricing MIP's solutions ``met`` (objective, chosen mask over ``units``)
    that cost less than ``cutoff``, are valid columns of ``centre`` and are not in ``found``: cheapest first."""
    columns: list[tuple[int, ...]] = []
    taken = {tuple(sorted(unit_set)) for unit_set in found}
    for value, chosen in sorted(met, key=lambda solution: solution[0]):
        if len(columns) >= most or value >= cutoff:
            break
        members = tuple(sorted(units[chosen].tolist()))
        if members not in taken and pricing.valid(centre, members):
            taken.add(members)
            columns.append(members)
    return columns


def _add_flow(h, pricing: Pricing, units: np.ndarray, root: int, pop_max: float) -> None:
    """Contiguity of the pricing MIP ``h`` (its first ``len(units)`` variables are x_i, ``root`` the index of the
    root among them) as a single-commodity flow: every member but the root takes in one unit of flow more than it
    sends on, along arcs between candidate units (none into the root), each arc carrying at most ``big`` times x
    at either end (``big``: one less than the most units a column within ``pop_max`` can hold)."""
    import highspy

    nx = len(units)
    pos = {int(u): k for k, u in enumerate(units.tolist())}
    most = int(np.searchsorted(np.cumsum(np.sort(pricing.population[units])), pop_max, side="right"))
    big = float(max(min(most, nx) - 1, 1))
    arcs = [
        (i, pos[v])
        for i in range(nx)
        for v in pricing.neighbours[int(units[i])]
        if v in pos and pos[v] != root
    ]
    first = h.getNumCol()
    h.addVars(len(arcs), np.zeros(len(arcs)), np.full(len(arcs), big))
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    upper: list[float] = []
    inflow: list[list[int]] = [[] for _ in range(nx)]
    outflow: list[list[int]] = [[] for _ in range(nx)]
    for a, (i, j) in enumerate(arcs):
        f = first + a
        outflow[i].append(f)
        inflow[j].append(f)
        for end in (j,) if i == root else (j, i):  # f <= big x_end
            starts.append(len(index))
            index.extend([f, end])
            value.extend([1.0, -big])
            upper.append(0.0)
    balance = len(starts)
    for i in range(nx):
        if i != root:  # inflow - outflow = x_i
            starts.append(len(index))
            index.extend([*inflow[i], *outflow[i], i])
            value.extend([1.0] * len(inflow[i]) + [-1.0] * len(outflow[i]) + [-1.0])
            upper.append(0.0)
    lower = [-highspy.kHighsInf] * balance + [0.0] * (len(starts) - balance)
    h.addRows(
        len(starts),
        np.array(lower),
        np.array(upper),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=float),
    )


def _most_held(weights: np.ndarray, population: np.ndarray, pop_max: float) -> float:
    """An upper bound on the weight a column within ``pop_max`` can hold: the fractional knapsack by weight per
    resident, capped by the total."""
    order = np.argsort(-(weights / np.maximum(population, 1e-9)), kind="stable")
    room, held = pop_max, 0.0
    for k in order.tolist():
        if weights[k] <= 0 or room <= 0:
            break
        take = min(1.0, room / max(population[k], 1e-9))
        held += take * weights[k]
        room -= take * population[k]
    return float(min(held, weights.sum()))


# ---- the master ------------------------------------------------------------------------------------------------


class Master:
    """The restricted master LP in highspy: rows in the order units, k, centres, PCN homes, labels, then the
    subset-row cuts (``Pricing.triples``, in order, as :meth:`add_triples` adds them); columns: slacks (two per
    unit row, cost ``box``) first, then the columns generated, in order."""

    def __init__(self, pricing: Pricing, box: float) -> None:
        import highspy

        self.pr = pricing
        p = pricing.problem
        self.inf = highspy.kHighsInf
        self.h = new_highs()
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("random_seed", 0)
        n, m = p.n_units, p.n_centres
        self.k_row = n
        self.centre_row = n + 1
        self.pcn_row = self.centre_row + m
        self.label_row = self.pcn_row + len(pricing.pcn)
        self.triple_row = self.label_row + len(pricing.labels)
        n_rows = self.triple_row
        lower = np.concatenate(
            [
                np.ones(n),
                [pricing.k_min],
                np.where(pricing.required, 1.0, 0.0),
                np.full(len(pricing.pcn), -self.inf),
                np.full(len(pricing.labels), -self.inf),
            ]
        )
        upper = np.concatenate(
            [
                np.ones(n),
                [pricing.k_max],
                np.where(pricing.openable, 1.0, 0.0),
                pricing.homes.astype(float),
                np.ones(len(pricing.labels)),
            ]
        )
        self.h.addRows(
            n_rows, lower, upper, 0, np.zeros(n_rows, np.int32), np.zeros(0, np.int32), np.zeros(0)
        )
        # slacks, first: +s_i and -s_i on each unit row (cost box: they keep |pi_i| <= box), and one each on
        # the k row and the rows of centres that must open (cost box n), so the master is feasible from the start
        required = np.flatnonzero(pricing.required & pricing.openable)
        self.n_slack = 2 * n + 1 + len(required)
        index = np.concatenate([np.repeat(np.arange(n), 2), [self.k_row], self.centre_row + required]).astype(
            np.int32
        )
        value = np.concatenate([np.tile([1.0, -1.0], n), np.ones(1 + len(required))])
        self.h.addCols(
            self.n_slack,
            np.zeros(self.n_slack),
            np.zeros(self.n_slack),
            np.full(self.n_slack, self.inf),
            self.n_slack,
            np.arange(self.n_slack, dtype=np.int32),
            index,
            value,
        )
        self.set_box(box)
        self.h.changeObjectiveOffset(pricing.constant)
        self.columns: list[Column] = []
        self.known: set[tuple[int, tuple[int, ...], tuple[int, ...], int]] = set()
        # the cuts among the master's rows: the first n_triples of Pricing.triples
        self.n_triples = 0
        self.add_triples([])

    def add_triples(self, triples: list[tuple[int, int, int]]) -> int:
        """Add ``triples`` to the pricing's cuts, then a row for each of its cuts the master does not have yet:
        sum of lambda_j over the columns holding two or more of the triple <= 1. Returns the rows added."""
        self.pr.add_triples(triples)
        first, last = self.n_triples, len(self.pr.triples)
        if first == last:
            return 0
        entries: list[list[int]] = [[] for _ in range(last - first)]
        for j, col in enumerate(self.columns):
            for t in self.pr.held_triples(col.units, first, last):
                entries[t - first].append(self.n_slack + j)
        starts = np.cumsum([0] + [len(e) for e in entries[:-1]]).astype(np.int32)
        index = np.array([j for e in entries for j in e], dtype=np.int32)
        self.h.addRows(
            last - first,
            np.full(last - first, -self.inf),
            np.ones(last - first),
            len(index),
            starts,
            index,
            np.ones(len(index)),
        )
        self.n_triples = last
        return last - first

    def set_box(self, box: float, centre: np.ndarray | None = None) -> None:
        """Keep each unit dual pi_i within [centre_i - box, centre_i + box] (centre 0 when not given): the slack
        +s_i costs centre_i + box and -s_i costs box - centre_i."""
        n = self.pr.n
        self.box = box
        self.box_centre = np.zeros(n) if centre is None else np.asarray(centre, float).copy()
        plus = self.box_centre + box
        minus = box - self.box_centre
        big = (box + float(np.abs(self.box_centre).max(initial=0.0))) * max(n, 1)
        costs = np.concatenate([np.column_stack([plus, minus]).ravel(), np.full(self.n_slack - 2 * n, big)])
        self.h.changeColsCost(self.n_slack, np.arange(self.n_slack, dtype=np.int32), costs)

    def add(self, columns: list[Column]) -> int:
        """Add the columns not yet in the master; return how many were new."""
        fresh = []
        for col in columns:
            key = (col.centre, col.units, col.homes, col.label)
            if key not in self.known:
                self.known.add(key)
                fresh.append(col)
        if not fresh:
            return 0
        starts, index, value = [], [], []
        for col in fresh:
            starts.append(len(index))
            rows = [*col.units, self.k_row, self.centre_row + col.centre]
            rows += [self.pcn_row + q for q in col.homes]
            if col.label >= 0:
                rows.append(self.label_row + col.label)
            if self.n_triples:
                rows += [self.triple_row + t for t in self.pr.held_triples(col.units, 0, self.n_triples)]
            index.extend(rows)
            value.extend([1.0] * len(rows))
        status = self.h.addCols(
            len(fresh),
            np.array([c.cost for c in fresh]),
            np.zeros(len(fresh)),
            np.full(len(fresh), self.inf),
            len(index),
            np.array(starts, np.int32),
            np.array(index, np.int32),
            np.array(value, float),
        )
        import highspy

        if status == highspy.HighsStatus.kError:
            # HiGHS takes a batch whole or not at all; a master without some columns is still a valid master (the
            # bound comes from pricing), so the batch is dropped, loudly, and the master's columns stay its LP's
            for col in fresh:
                self.known.discard((col.centre, col.units, col.homes, col.label))
            logger.warning(
                "place %s: HiGHS refused %d master columns (centres %s); left out",
                self.pr.problem.place_code,
                len(fresh),
                sorted({col.centre for col in fresh}),
            )
            return 0
        self.columns.extend(fresh)
        return len(fresh)

    def add_plans(self, plans: list[np.ndarray] | tuple[np.ndarray, ...]) -> int:
        """Add the columns of ``plans`` (:func:`plan_columns`) not yet in the master; return how many were new."""
        return self.add([col for plan in plans for col in plan_columns(self.pr, plan)])

    def solve(self) -> tuple[float, Duals, np.ndarray, float]:
        """Solve the LP (warm); return its value, the duals (clipped to their signs), the columns' values, and
        the slack in use."""
        self.h.run()
        solution = self.h.getSolution()
        value = float(self.h.getInfo().objective_function_value)
        dual = np.asarray(solution.row_dual, float)
        n = self.pr.n
        pi = dual[:n].copy()
        mu = float(dual[self.k_row])
        nu = dual[self.centre_row : self.pcn_row].copy()
        nu = np.where(self.pr.required, nu, np.minimum(nu, 0.0))
        sigma = np.minimum(dual[self.pcn_row : self.label_row], 0.0)
        tau = np.minimum(dual[self.label_row : self.triple_row], 0.0)
        rho = np.minimum(dual[self.triple_row : self.triple_row + self.n_triples], 0.0)
        col_value = np.asarray(solution.col_value, float)
        slack = float(col_value[: self.n_slack].sum())
        return value, Duals(pi, mu, nu, sigma, tau, rho), col_value[self.n_slack :], slack

    def lagrangian(self, duals: Duals, least: np.ndarray) -> float:
        """L of the module docstring, with ``least[c]`` a lower bound on centre c's least Lagrangian cost.

        The k row stays in the subproblem rather than priced by mu: a plan opens m centres, k_min <= m <= k_max,
        every required one among them, so its Lagrangian cost is at least the required centres' ``least`` plus
        the m - (required) smallest of the others', at the best m. That is never below the mu-priced form (for
        any mu, m mu >= k_side mu and each chosen centre's ``least - mu`` >= min(0, ``least - mu``)) and much
        above it before convergence, when dozens of centres still have columns of negative reduced cost and the
        mu-priced form counts them all where a plan opens at most k_max. At converged duals both are the
        master's LP value (the cardinality row has integral vertices)."""
        pr = self.pr
        value = pr.constant + float(duals.pi.sum())
        value += float((pr.homes * duals.sigma).sum()) + float(duals.tau.sum()) + float(duals.rho.sum())
        openable = pr.openable
        required = openable & pr.required
        optional = np.sort(least[openable & ~pr.required])
        fixed = float(least[required].sum())
        n_required = int(required.sum())
        taken = np.concatenate(([0.0], np.cumsum(optional)))  # taken[j]: the j smallest optional, summed
        lo, hi = max(pr.k_min - n_required, 0), min(pr.k_max - n_required, len(optional))
        if lo > hi:  # no count of centres is open to a plan: keep the mu-priced form, valid whatever the rows
            k_side = pr.k_min if duals.mu >= 0 else pr.k_max
            value += duals.mu * k_side + fixed - duals.mu * n_required
            value += float(np.minimum(optional - duals.mu, 0.0).sum())
            return value
        return value + fixed + float(taken[lo : hi + 1].min())

    def centre_weights(self, values: np.ndarray) -> np.ndarray:
        """Each centre's opening in the master's solution ``values``: the sum of its columns' values."""
        weight = np.zeros(self.pr.problem.n_centres)
        for col, v in zip(self.columns, values.tolist(), strict=True):
            if v > 1e-6:
                weight[col.centre] += v
        return weight

    def weighted_centres(self, values: np.ndarray, k: int) -> list[int] | None:
        """The k centres the master's solution ``values`` opens most (:meth:`centre_weights`): every centre that
        must open, then the others by opening (ties: the lower index), each on a root unit no centre chosen
        before holds, each opened at least a little; sorted. None when fewer than k such centres are open."""
        p = self.pr.problem
        weight = self.centre_weights(values)
        must = self.pr.required & self.pr.openable
        order = np.lexsort((np.arange(p.n_centres), -weight, ~must))
        chosen: list[int] = []
        roots: set[int] = set()
        for c in order.tolist():
            if len(chosen) == k:
                break
            root = int(p.centre_root[c])
            if not (must[c] or weight[c] > 1e-6) or not self.pr.openable[c] or root in roots:
                continue
            chosen.append(c)
            roots.add(root)
        return sorted(chosen) if len(chosen) == k else None

    def rounded(self, values: np.ndarray, k: int | None = None) -> np.ndarray:
        """A start for :func:`footprint.heuristic.polish_plan` from the master's solution ``values``: the k
        centres of largest total value (k the solution's number of neighbourhoods rounded, or ``k``, into the k
        range), each unit given to the one of them whose columns cover it most (-1 when none does) and each
        centre its root unit. Not a plan."""
        p = self.pr.problem
        n = self.pr.n
        weight = self.centre_weights(values)
        cover = np.zeros((n, p.n_centres))
        for col, v in zip(self.columns, values.tolist(), strict=True):
            if v > 1e-6:
                cover[list(col.units), col.centre] += v
        k = min(max(round(float(weight.sum())) if k is None else k, self.pr.k_min), self.pr.k_max)
        chosen = np.argsort(-weight, kind="stable")[:k]
        chosen = chosen[weight[chosen] > 0]
        assignment = np.full(n, -1, dtype=np.int64)
        if not len(chosen):
            return assignment
        best = np.argmax(cover[:, chosen], axis=1)
        covered = cover[np.arange(n), chosen[best]] > 0
        assignment[covered] = chosen[best[covered]]
        # each chosen centre keeps its root unit (polish_plan drops a centre whose root another took, and with
        # it k could leave its range; a k whose repair fails is solve._rounded_starts's to handle)
        for c in chosen[::-1].tolist():  # the centre of largest value last, so it wins a shared root
            assignment[int(p.centre_root[c])] = c
        return assignment

    def integer_plan(
        self, nodes: int, seconds: float | None = None, duals: Duals | None = None, within: float = math.inf
    ) -> np.ndarray | None:
        """The best plan using only the master's columns (lambda integer, slacks off), or None.

        With ``duals`` (the optimal duals of the LP just solved, :meth:`solve`), only the columns whose reduced
        cost there is at most ``within`` may be used. Any plan costs at least the LP's value plus its columns'
        reduced costs (each row's dual times the plan's row activity is at least its part of the LP value, as
        the dual's sign matches the row's sense), and at the LP's optimum every master column's reduced cost is
        at least 0; so with ``within`` the incumbent's distance above the LP value, a column left out is in no
        plan better than the incumbent, and the integer programme loses nothing it could find. Measured on four
        London places at 60 s (2,987-3,920 columns, 1,086-2,695 kept): the same plans, Barnet 4.7 s -> 1.0 s,
        City and Hackney 13.1 s -> 4.1 s, Westminster 3.7 s -> 0.1 s, Hillingdon 8.1 s -> 0.2 s.
        """
        import highspy

        n = self.pr.n
        h = new_highs()
        h.passModel(self.h.getLp())
        total = h.getNumCol()
        k = self.n_slack
        h.changeColsBounds(k, np.arange(k, dtype=np.int32), np.zeros(k), np.zeros(k))
        cols = np.arange(k, total, dtype=np.int32)
        upper = np.ones(len(cols))
        if duals is not None and math.isfinite(within):
            costs = np.array([reduced_cost(col, duals, self.pr) for col in self.columns])
            upper[costs > within] = 0.0
        h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), upper)
        h.changeColsIntegrality(len(cols), cols, np.array([highspy.HighsVarType.kInteger] * len(cols)))
        h.setOptionValue("mip_max_nodes", int(nodes))
        if seconds is not None:
            h.setOptionValue("time_limit", float(seconds))
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.run()
        info = h.getInfo()
        if info.primal_solution_status != 2:
            return None
        values = np.asarray(h.getSolution().col_value, float)[k:]
        assignment = np.full(n, -1, dtype=np.int64)
        for col, v in zip(self.columns, values.tolist(), strict=True):
            if v > 0.5:
                assignment[list(col.units)] = col.centre
        return assignment if (assignment >= 0).all() else None


def recombine_plans(
    pricing: Pricing,
    plans: list[np.ndarray] | tuple[np.ndarray, ...],
    nodes: int,
    seconds: float | None = None,
) -> np.ndarray | None:
    """The best plan made of whole neighbourhoods of ``plans`` (valid plans of the place, such as the heuristic
    walks'): the master over their columns (:func:`plan_columns`) as an integer programme of at most ``nodes``
    branch-and-bound nodes (``seconds``: a guard). Every plan offered is one of its solutions, so the plan it
    returns is no worse than the best of them; None when there are none or the guard stops it first."""
    if not len(plans):
        return None
    master = Master(pricing, 1.0)  # the slacks' cost is moot: the integer programme turns them off
    master.add_plans(plans)
    return master.integer_plan(nodes, seconds=seconds)


def plan_columns(pricing: Pricing, assignment: np.ndarray) -> list[Column]:
    """The columns of a plan: each neighbourhood with the homes and label the plan gives it (each PCN homed in
    its ``homes`` fullest neighbourhoods, labels matched one-to-one by kept population), so the master can
    rebuild the plan at its own objective, and the same neighbourhood with no homes and no label."""
    from scipy.optimize import linear_sum_assignment

    assignment = np.asarray(assignment, dtype=np.int64)
    centres = sorted(set(assignment.tolist()))
    members = [np.flatnonzero(assignment == c) for c in centres]
    held = np.array([[float(pricing.pcn[q, m].sum()) for m in members] for q in range(len(pricing.pcn))])
    homes_of: list[list[int]] = [[] for _ in centres]
    for q in range(len(pricing.pcn)):
        order = sorted(range(len(centres)), key=lambda r, q=q: (-held[q, r], r))
        for r in order[: int(pricing.homes[q])]:
            if held[q, r] > 0:
                homes_of[r].append(q)
    label_of = [-1] * len(centres)
    if len(pricing.labels):
        kept = np.array(
            [[float(pricing.labels[lab, m].sum()) for m in members] for lab in range(len(pricing.labels))]
        )
        for lab, r in zip(*linear_sum_assignment(kept, maximize=True), strict=True):
            if kept[lab, r] > 0:
                label_of[r] = int(lab)
    columns = []
    for r, (centre, m) in enumerate(zip(centres, members, strict=True)):
        units = tuple(m.tolist())
        for homes, label in ((tuple(homes_of[r]), label_of[r]), ((), -1)):
            columns.append(Column(centre, units, homes, label, pricing.cost(centre, m, homes, label)))
    return columns


def reduced_cost(column: Column, duals: Duals, pricing: Pricing | None = None) -> float:
    """The column's reduced cost in the master at ``duals`` (``pricing``: whose subset-row cuts ``duals.rho``
    prices; needed only when it prices any)."""
    value = (
        column.cost - float(duals.pi[list(column.units)].sum()) - duals.mu - float(duals.nu[column.centre])
    )
    if len(duals.rho):
        assert pricing is not None, "the cuts' duals need the pricing that holds the cuts"
        value += pricing.penalty(column.units, duals.rho)
    if column.homes:
        value -= float(duals.sigma[list(column.homes)].sum())
    if column.label >= 0:
        value -= float(duals.tau[column.label])
    return value


#: Box half-width around the best bound's unit duals once one is proved, as a multiple of their mean size (a box
#: step; 0: none). Kingston, 8 exact passes: bound 1.27626 with 2, 1.27504 with Wentges smoothing (alpha 0.5)
#: instead, 1.27333 with 0.5.
BOXSTEP = 2.0
#: The first box: around each plan neighbourhood's cost shared equally by its units, this many times their mean
#: size wide. Without it the master sits at the plan's value through a long degenerate phase; with it the
#: master rises from below like a bundle method. Barnet, 3 exact passes: bounds 1.1694 at 6 s, 1.2176 at 18 s,
#: 1.2296 at 29 s, against 1.2210 at 43 s and 1.2357 at 58 s without (Kingston: 1.2524 at 13 s against
#: 1.2592 at 31 s).
START_BOX = 2.0
#: Wentges smoothing of the exact passes with the box step: the share of the best bound's duals in the duals
#: priced (0: none). London, 8 places at 60 s (auto; two runs side by side): bounds higher on 5 of the 7 that
#: did not stop early (Kingston 1.26676 -> 1.26906, Sutton 1.39457 -> 1.39961, Westminster 1.38203 ->
#: 1.38446), lower on Greenwich (1.47870 -> 1.47667); Kingston to convergence 108 s -> 87 s.
SMOOTHING = 0.5
#: The master LP counts as converged when the bound is this close to its value (relative).
CONVERGED_GAP = 1e-6
#: Master LPs at most in :func:`generate_columns`.
MAX_ROUNDS = 1000
#: Exact pricing passes at most.
MAX_EXACT_PASSES = 6
#: Subset-row cuts (:func:`separate_triples`): rounds of them at most in one column generation (each once its LP
#: nearly converged, ``TRIPLE_GAP``), cuts a round at most, the least violation a cut is added for, and the most
#: new cuts a unit is in a round (so a round's cuts spread over the place).
TRIPLE_ROUNDS = 0
TRIPLES_PER_ROUND = 50
TRIPLE_VIOLATION = 0.05
TRIPLES_PER_UNIT = 2
#: A round of subset-row cuts comes once the bound is within this share of the master's value (Sutton, one
#: thread: the last 0.24% of its root's convergence took 14 s of 42 s).
TRIPLE_GAP = 0.003
#: A heuristic pricing round stops scanning centres once this many columns per neighbourhood (k_max) entered
#: (partial pricing; a round that finds none has scanned every centre).
ENOUGH_PER_NEIGHBOURHOOD = 2
#: Master LPs at most per fixing step of the dive (:func:`dive`).
DIVE_ROUNDS = 30
#: When an exact pass runs past the master's deadline, a centre's pricing MIP may take this many times its fair
#: share of the time left (the time left over the centres still to price).
PASS_SLICE = 3.0


def _heuristic_round(
    pricing: Pricing, master: Master, centres: list[int], duals: Duals, values: np.ndarray, offset: int
) -> int:
    """Price ``centres`` (from ``offset``, wrapping) heuristically at the master's ``duals`` (its solution
    ``values`` give each centre's columns in use as starts); add the columns of negative reduced cost, stopping
    the scan once enough entered; return how many were added."""
    in_use: dict[int, list[tuple[int, ...]]] = {}
    for col, v in zip(master.columns, values.tolist(), strict=True):
        if v > 1e-6:
            in_use.setdefault(col.centre, []).append(col.units)
    enough = ENOUGH_PER_NEIGHBOURHOOD * max(pricing.problem.k_max, 1)
    order = centres[offset % max(len(centres), 1) :] + centres[: offset % max(len(centres), 1)]
    fresh: list[Column] = []
    for c in order:
        for units in price_heuristic(pricing, c, duals, in_use.get(c, []))[:COLUMNS_PER_CENTRE]:
            col = pricing.column(c, units, duals.sigma, duals.tau)
            if reduced_cost(col, duals, pricing) < -ENTER_TOLERANCE:
                fresh.append(col)
        if len(fresh) >= enough:
            break
    return master.add(fresh)


def _time_to_cut(value: float, bound: float, enough: float, slack: float) -> bool:
    """Whether a round of subset-row cuts comes now, at the master's ``value`` and the ``bound`` proved: the LP is
    nearly converged (its last passes would only close the last ``TRIPLE_GAP``), uses no slack, and is short of
    ``enough`` (converged, it would not prove the incumbent; Richmond at 60 s: cutting an LP that was to prove
    its plan within 0.43% left it at 0.64%)."""
    return slack <= 1e-7 and value < enough and value - bound <= TRIPLE_GAP * max(abs(value), 1e-9)


def separate_triples(
    master: Master, values: np.ndarray, most: int = TRIPLES_PER_ROUND
) -> list[tuple[int, int, int]]:
    """Unit triples whose subset-row cut the master's LP solution ``values`` violates: the columns holding two
    or more of a, b, c sum to more than 1 + ``TRIPLE_VIOLATION`` (in a plan at most one column holds two of
    them: each unit is in one column). Up to ``most``, most violated first (then in unit order), each unit in
    at most ``TRIPLES_PER_UNIT`` of them, none the pricing has already."""
    positive = np.flatnonzero(values > 1e-9)
    n = master.pr.n
    if not len(positive):
        return []
    members = np.zeros((len(positive), n), dtype=np.int64)
    for k, j in enumerate(positive.tolist()):
        members[k, list(master.columns[j].units)] = 1
    weight = values[positive]
    # only units of fractional columns can be in a violated triple (a whole column's units are in no other)
    fractional = np.flatnonzero(members[weight < 1 - 1e-9].any(axis=0))
    together = (members.T * weight) @ members
    known = master.pr.known_triples
    found: list[tuple[float, int, int, int]] = []
    for a in fractional.tolist():
        later = fractional[fractional > a]
        for b in later[together[a, later] > 1e-9].tolist():
            # only the columns holding a or b can hold two of the triple with c, and only a c that shares a
            # column with a or b can push them past 1 (else they are the columns holding both, summing <= 1)
            rest = later[(later > b) & ((together[a, later] > 1e-9) | (together[b, later] > 1e-9))]
            if not len(rest):
                continue
            pair = members[:, a] + members[:, b]
            near = pair > 0
            held = weight[near] @ ((pair[near, None] + members[near][:, rest]) >= 2)
            for k in np.flatnonzero(held > 1 + TRIPLE_VIOLATION).tolist():
                c = int(rest[k])
                if (a, b, c) not in known:
                    found.append((-float(held[k]), a, b, c))
    found.sort()
    chosen: list[tuple[int, int, int]] = []
    uses: dict[int, int] = {}
    for _, a, b, c in found:
        if len(chosen) >= most:
            break
        if all(uses.get(u, 0) < TRIPLES_PER_UNIT for u in (a, b, c)):
            chosen.append((a, b, c))
            for u in (a, b, c):
                uses[u] = uses.get(u, 0) + 1
    return chosen


def generate_columns(
    problem: PlaceProblem,
    plans: list[np.ndarray] | tuple[np.ndarray, ...] = (),
    *,
    rounds: int = MAX_ROUNDS,
    exact_passes: int = MAX_EXACT_PASSES,
    nodes: int = PRICING_NODES,
    deadline: float | None = None,
    end: float | None = None,
    pricing: Pricing | None = None,
    enough: float = math.inf,
    columns: list[Column] | tuple[Column, ...] = (),
    box_centre: np.ndarray | None = None,
    triple_rounds: int = TRIPLE_ROUNDS,
) -> tuple[ColumnResult, Master]:
    """Column generation for ``problem`` from the columns of ``plans`` and ``columns`` (module docstring).

    ``pricing``: the place as priced (a branch's restrictions, :mod:`footprint.branch`); ``enough``: a bound at
    which to stop (one that proves the incumbent within the gap wanted); ``box_centre``: unit duals to keep the
    first duals near (a parent node's), instead of the estimate from the first plan; ``triple_rounds``: rounds
    of subset-row cuts at most that add cuts, each once the LP is nearly converged (``_time_to_cut``) or
    converged (the pricing's cuts so far are in the master from the start, whatever this is).

    ``deadline`` (a ``time.perf_counter()`` time) stops the master rounds; an exact pass under way then runs on to
    ``end``, and when the deadline comes before any exact pass has proved a bound, or after the master's value
    rose past the last pass's, one more exact pass runs at the duals of that moment, also guarded by ``end``.

    Returns the result (bound, LP value, counts) and the master (its columns, for :func:`dive` and
    :meth:`Master.integer_plan`).
    """
    began = time.perf_counter()
    pricing = pricing or Pricing(problem)
    result = ColumnResult()
    seed_columns = [col for plan in plans for col in plan_columns(pricing, plan)] + list(columns)
    per_unit = [abs(col.cost) / max(len(col.units), 1) for col in seed_columns]
    scale = max(per_unit) if per_unit else max(float(np.nanmax(pricing.unit_cost)), 1e-3)
    master = Master(pricing, BOX_FACTOR * max(scale, 1e-6))
    master.add(seed_columns)
    if START_BOX and box_centre is not None:
        master.set_box(START_BOX * (float(np.abs(box_centre).mean()) + 1e-9), box_centre)
    elif START_BOX and plans:
        # a dual estimate to start from: each plan neighbourhood's cost shared equally by its units
        estimate = np.zeros(problem.n_units)
        for col in plan_columns(pricing, plans[0])[::2]:
            estimate[list(col.units)] = col.cost / len(col.units)
        master.set_box(START_BOX * (float(np.abs(estimate).mean()) + 1e-9), estimate)
    centres = [c for c in range(problem.n_centres) if pricing.openable[c]]

    # the deadline came before any bound, or after the master's value rose past the last exact pass's: one last
    # exact pass at the duals of that moment, guarded by ``end`` (Bromley at 60 s: its last pass had run 14 s
    # before the deadline at LP value 1.185, bound 1.104; a pass at the deadline's 1.253 proved 1.2255)
    final = False
    passed_at = -math.inf  # the master's value at the last exact pass
    # smoothing: an exact pass prices at SMOOTHING of the best bound's duals and the rest of the master's; when
    # no column it finds enters the master (a mispricing) the next pass prices at the master's own duals
    best_duals: Duals | None = None
    mispriced = False
    cut_rounds = 0
    separate_early = True  # an LP nearly converged may be separated (until a separation finds nothing)

    def cut_off(values: np.ndarray) -> bool:
        # a round of the subset-row cuts the LP solution ``values`` violates; whether it added any
        nonlocal cut_rounds
        added = master.add_triples(separate_triples(master, values))
        result.triples += added
        cut_rounds += bool(added)
        return bool(added)

    pass_limit = end if end is not None else deadline

    def late(passing: bool = False) -> bool:
        # master rounds stop at ``deadline``; an exact pass under way (or the last one) may run on to ``end``
        limit = pass_limit if final or passing else deadline
        if limit is not None and time.perf_counter() > limit:
            result.stopped = True
            return True
        return False

    while result.rounds < rounds:
        if late():
            risen = result.lp_value > passed_at + CONVERGED_GAP * max(abs(result.lp_value), 1e-9)
            if final or not (math.isnan(result.bound) or risen):
                break
            final, result.stopped = True, False
        value, out, values, slack = master.solve()
        result.rounds += 1
        result.lp_value = value
        if not final and _heuristic_round(pricing, master, centres, out, values, result.rounds):
            continue
        if (
            result.exact_passes >= exact_passes and not mispriced
        ):  # a mispriced last pass: one at the own duals
            break
        # the exact pass at the master's duals (kept near the best bound's by the box step); a centre the clock
        # leaves unpriced keeps the bound of relaxing its column to any set of units
        result.exact_passes += 1
        proven = True
        smoothed = bool(SMOOTHING) and best_duals is not None and not mispriced
        at = best_duals.towards(out, SMOOTHING) if smoothed and best_duals is not None else out
        least = np.array([pricing.loose_bound(c, at) for c in range(problem.n_centres)])
        fresh: list[Column] = []
        for done, c in enumerate(centres):
            if late(passing=True):
                proven = False
                break
            cutoff = math.inf if pricing.required[c] else at.mu
            # once the master's deadline has passed (the clock decides anyway; always so in the last pass), a
            # centre's guard is its fair share of the time left (times PASS_SLICE), so one slow pricing MIP
            # cannot leave the centres after it with the loose bound; its dual bound at the guard is valid.
            # Before, only the counts decide.
            now = time.perf_counter()
            left = None if pass_limit is None else pass_limit - now
            if left is not None and deadline is not None and now > deadline:
                left = min(left, PASS_SLICE * left / (len(centres) - done))
            guard = None if left is None else max(left, 0.01)
            priced = price_exact(pricing, c, at, cutoff=cutoff, nodes=nodes, seconds=guard)
            result.pricing_nodes += priced.nodes
            proven = proven and priced.proven
            least[c] = max(least[c], priced.bound)
            for units in priced.units:
                for duals in (at, out) if smoothed else (out,):
                    col = pricing.column(c, units, duals.sigma, duals.tau)
                    if reduced_cost(col, out, pricing) < -ENTER_TOLERANCE:
                        fresh.append(col)
                        break
        bound = master.lagrangian(at, least)
        passed_at = value
        result.history.append((result.rounds, value, bound, time.perf_counter() - began))
        if math.isnan(result.bound) or bound > result.bound:
            result.bound = bound
            best_duals = at
            if BOXSTEP and not result.stopped:  # box step: keep the unit duals near the best bound's
                master.set_box(BOXSTEP * (float(np.abs(at.pi).mean()) + 1e-9), at.pi)
        added = master.add(fresh)
        mispriced = smoothed and not added
        if final:
            result.stopped = True
            break
        if result.bound >= enough:
            break
        if (
            cut_rounds < triple_rounds
            and separate_early
            and not result.stopped
            and _time_to_cut(value, result.bound, enough, slack)
        ):
            if cut_off(values):
                mispriced = False
                continue
            separate_early = False  # nothing violated: the next try is at convergence
        if result.stopped or added or mispriced:
            continue
        # nothing enters at the master's own duals
        if slack > 1e-7:
            master.set_box(master.box * 4, master.box_centre)
            continue
        converged = proven or result.bound >= value - CONVERGED_GAP * max(abs(value), 1e-9)
        # converged (its bound is its value) and short of enough: cut it off with the subset-row cuts it
        # violates, and price on
        if converged and cut_rounds < triple_rounds and value < enough and cut_off(values):
            separate_early = True
            continue
        result.converged = converged
        break
    result.columns = len(master.columns)
    return result, master


def dive(master: Master, *, rounds: int = DIVE_ROUNDS, deadline: float | None = None) -> np.ndarray | None:
    """A plan by diving: fix the column of largest fractional value to 1, take its units and centre out of
    pricing, generate columns for the rest heuristically, until the master's solution is integral. Returns the
    assignment, or None when the dive ends without a plan (slack in use, or the deadline). The master's
    bounds are restored afterwards; the columns generated stay."""
    pricing = master.pr
    p = pricing.problem
    n = pricing.n
    narrowed = copy.copy(pricing)
    narrowed.reach = pricing.reach.copy()
    narrowed.openable = pricing.openable.copy()
    fixed: list[int] = []
    assignment = None
    try:
        while deadline is None or time.perf_counter() <= deadline:
            centres = [c for c in range(p.n_centres) if narrowed.openable[c]]
            for step in range(rounds):
                # out of time inside a step (its 30 rounds take seconds on London's largest places)
                if deadline is not None and time.perf_counter() > deadline:
                    return None
                _, out, values, slack = master.solve()
                if step == rounds - 1 or not _heuristic_round(narrowed, master, centres, out, values, step):
                    break
            if slack > 1e-7:
                return None
            free = [(v, j) for j, v in enumerate(values.tolist()) if j not in fixed and v > 1e-6]
            if all(v > 1 - 1e-6 for v, _ in free):
                assignment = np.full(n, -1, dtype=np.int64)
                for j, v in enumerate(values.tolist()):
                    if v > 0.5:
                        assignment[list(master.columns[j].units)] = master.columns[j].centre
                return assignment if (assignment >= 0).all() else None
            _, pick = max((v, -j) for v, j in free if v < 1 - 1e-6)
            pick = -pick
            fixed.append(pick)
            col = master.columns[pick]
            master.h.changeColBounds(master.n_slack + pick, 1.0, master.inf)
            narrowed.reach[list(col.units), :] = False
            narrowed.openable[col.centre] = False
        return None
    finally:
        for j in fixed:
            master.h.changeColBounds(master.n_slack + j, 0.0, master.inf)
