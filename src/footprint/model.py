"""The per-place MIP (Hess assignment with contiguity), built with PuLP as a readable chain of ``define_*`` steps.

Notation: units i (LSOAs) with population pop_i; centres c with root unit r(c); x[i,c] = 1 when i is served by
c, and y[c] = x[r(c),c] opens the centre (an open centre serves its own root). Variables exist only for pairs
:func:`define_access` allows (access radius, locks, population reachability, symmetry breaking), which is the main
lever on model size. Constraint families, one function each:

- :func:`define_assignment`        sum_c x[i,c] = 1;  x[i,c] <= y[c]
- :func:`define_k`                 k_min <= sum_c y[c] <= k_max
- :func:`define_population_bounds` pop_min y[c] <= sum_i pop_i x[i,c] <= pop_max y[c]
- :func:`define_capacity`          sum_i load_i x[i,c] <= cap_c y[c]   (load = demand if given, else population)
- :func:`define_locks`             x[i,c] = 1 for each lock (i, c)
- :func:`define_required_hubs`     y[c] = 1
- :func:`define_singleton_cuts`    x[i,c] <= sum_{v in N(i)} x[v,c] for i != r(c)  (a served unit touches its region)
- contiguity, either :func:`add_contiguity_cuts` (separator cuts generated from disconnected solutions,
  x[i,c] <= sum_{v in S} x[v,c] where S separates the piece holding i from r(c)) or
  :func:`define_flow_contiguity` (single-commodity flow per centre, Shirabe 2009: inflow - outflow = x[i,c]
  at every i != r(c); f[u,v,c] <= M_c x[u,c] and <= M_c x[v,c])
- objective terms (each the normalised term of :mod:`footprint.objective`, so MIP and evaluation agree exactly on
  every plan): :func:`define_pcn_alignment`, :func:`define_demand_balance`, :func:`define_stability`,
  :func:`define_community`, then :func:`define_objective` sums weight x term with the access term.

Every constraint is named with underscores only (``family_index_index``); :attr:`PlaceModel.names` maps each
name to its family, its key in codes and a sentence, and :meth:`PlaceModel.write_lp` writes the LP file with that
map beside it for review.
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
import pulp
from scipy.optimize import linear_sum_assignment

from footprint.heuristic import allowed_matrix
from footprint.objective import access_scale, active_terms, pcn_total
from footprint.problem import PlaceProblem

logger = logging.getLogger(__name__)

Contiguity = Literal["cuts", "flow"]


@dataclass
class Variables:
    """Every decision variable of a place's model, keyed by indices.

    Attributes
    ----------
    x
        x[(i, c)]: unit i served by centre c (binary); only allowed pairs exist.
    units_of, centres_of
        Allowed units per centre and allowed centres per unit (sorted lists).
    home
        h[(p, c)]: centre c's neighbourhood is PCN p's home (binary).
    aligned
        a[(p, c)]: patients of PCN p aligned in c, i.e. living in c when c is p's home (continuous).
    excess
        e[c]: absolute deviation of c's demand from its population share (continuous).
    match
        m[(l, c)]: baseline label l matched to centre c (binary).
    kept
        q[(l, c)]: population of baseline label l kept in its matched centre c (continuous).
    touches
        t[(g, c)]: keep-together group g has a member served by c (continuous in [0, 1]).
    split
        s[g]: group g is split (binary).
    flow
        f[(u, v, c)]: flow on arc u -> v of centre c's flow network (continuous, flow model only).
    """

    x: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    units_of: dict[int, list[int]] = field(default_factory=dict)
    centres_of: dict[int, list[int]] = field(default_factory=dict)
    home: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    aligned: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    excess: dict[int, pulp.LpVariable] = field(default_factory=dict)
    match: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    kept: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    touches: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    split: dict[int, pulp.LpVariable] = field(default_factory=dict)
    flow: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)

    def opened(self, problem: PlaceProblem, centre: int) -> pulp.LpVariable:
        """y[c] = x[r(c), c] (only for centres that can open, see :meth:`PlaceModel.centres`)."""
        return self.x[(int(problem.centre_root[centre]), centre)]


@dataclass(frozen=True)
class ConstraintKey:
    """What a named constraint stands for: its family, its key in codes, and a sentence."""

    family: str
    key: tuple[str, ...]
    meaning: str


@dataclass
class PlaceModel:
    """A built model: the PuLP problem, its variables, and the constraint name -> key map.

    Attributes
    ----------
    problem
        The place.
    lp
        The PuLP problem (minimise).
    variables
        The decision variables.
    allowed
        allowed[i, c]: whether x[i,c] exists (see :func:`define_access`).
    contiguity
        ``"cuts"`` or ``"flow"``.
    names
        Constraint name -> :class:`ConstraintKey`.
    cuts
        Contiguity cuts added so far by :func:`add_contiguity_cuts`.
    """

    problem: PlaceProblem
    lp: pulp.LpProblem
    variables: Variables
    allowed: np.ndarray
    contiguity: Contiguity = "cuts"
    names: dict[str, ConstraintKey] = field(default_factory=dict)
    cuts: int = 0

    @property
    def centres(self) -> list[int]:
        """Centres that can open (their root pair exists)."""
        return sorted(self.variables.units_of)

    def add(self, constraint: pulp.LpConstraint, family: str, key: tuple[int, ...], meaning: str) -> str:
        """Add ``constraint`` named ``family_k1_k2...``; record its family, key in codes and meaning."""
        name = "_".join([family, *(str(part) for part in key)])
        self.lp += constraint, name
        self.names[name] = ConstraintKey(family=family, key=self._codes(family, key), meaning=meaning)
        return name

    def _codes(self, family: str, key: tuple[int, ...]) -> tuple[str, ...]:
        """The key in the place's words: unit codes for units, centre ids for centres (by family)."""
        p = self.problem
        kinds = _KEY_KINDS.get(family, ())
        out = []
        for kind, part in zip(kinds, key, strict=False):
            if kind == "unit":
                out.append(p.unit_codes[part])
            elif kind == "centre":
                out.append(p.centre_ids[part])
            elif kind == "pcn":
                out.append(p.pcn_codes[part])
            else:
                out.append(f"{kind} {part}")
        return tuple(out) + tuple(str(part) for part in key[len(kinds) :])

    def write_lp(self, path: str | Path) -> Path:
        """Write the model as an LP file, and ``<name>.names.tsv`` beside it mapping names to codes.

        Returns
        -------
        Path
            The LP file written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lp.writeLP(str(path))
        lines = ["name\tfamily\tkey\tmeaning"]
        lines += [
            f"{name}\t{info.family}\t{' '.join(info.key)}\t{info.meaning}"
            for name, info in sorted(self.names.items())
        ]
        path.with_suffix(".names.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def assignment(self) -> np.ndarray | None:
        """Centre per unit from the variables' values (None when any unit is unassigned)."""
        out = np.full(self.problem.n_units, -1, dtype=np.int64)
        for (unit, centre), var in self.variables.x.items():
            if var.varValue is not None and var.varValue > 0.5:
                out[unit] = centre
        return out if (out >= 0).all() else None

    def canonical(self, assignment: np.ndarray) -> np.ndarray:
        """``assignment`` with each region re-centred on its lowest unit when symmetry breaking applies."""
        assignment = np.asarray(assignment, dtype=np.int64).copy()
        if not _symmetry_breaking_applies(self.problem):
            return assignment
        centre_at = {int(root): c for c, root in enumerate(self.problem.centre_root.tolist())}
        for centre in sorted(set(assignment.tolist())):
            members = np.flatnonzero(assignment == centre)
            assignment[members] = centre_at[int(members.min())]
        return assignment

    def set_start(self, assignment: np.ndarray) -> bool:
        """Give every variable the value it takes in ``assignment`` (a feasible warm start, flows included).

        Returns
        -------
        bool
            False (and nothing set) when the plan uses a pair the model fixed to 0, e.g. a centre other than
            the lowest unit under symmetry breaking even after :meth:`canonical`.
        """
        problem, v = self.problem, self.variables
        assignment = self.canonical(assignment)
        if any((unit, centre) not in v.x for unit, centre in enumerate(assignment.tolist())):
            return False
        for var in self.lp.variables():
            var.setInitialValue(0, check=False)
        for unit, centre in enumerate(assignment.tolist()):
            v.x[(unit, centre)].setInitialValue(1, check=False)
        open_centres = sorted(set(assignment.tolist()))
        if v.home:
            homes = problem.homes_of()
            for p in range(problem.pcn_patients.shape[0]):
                sums = {c: float(problem.pcn_patients[p, assignment == c].sum()) for c in open_centres}
                ranked = sorted(open_centres, key=lambda c: (-sums[c], c))
                for best in ranked[: int(homes[p])]:
                    if (p, best) in v.home:
                        v.home[(p, best)].setInitialValue(1, check=False)
                        v.aligned[(p, best)].setInitialValue(sums[best], check=False)
        if v.excess and problem.demand is not None:
            rate = float(problem.demand.sum()) / max(problem.total_population, 1)
            for c in open_centres:
                mask = assignment == c
                if c in v.excess:
                    v.excess[c].setInitialValue(
                        abs(float(problem.demand[mask].sum() - rate * problem.population[mask].sum())),
                        check=False,
                    )
        if v.split and problem.groups is not None:
            for g, var in v.split.items():
                centres = set(assignment[problem.groups == g].tolist())
                var.setInitialValue(1 if len(centres) > 1 else 0, check=False)
                for c in centres:
                    v.touches[(g, c)].setInitialValue(1, check=False)
        if v.match and problem.baseline is not None:
            labels = sorted({label for label, _ in v.match})
            overlap = np.zeros((len(labels), len(open_centres)))
            for a, label in enumerate(labels):
                for b, c in enumerate(open_centres):
                    overlap[a, b] = float(
                        problem.population[(problem.baseline == label) & (assignment == c)].sum()
                    )
            rows, cols = linear_sum_assignment(overlap, maximize=True)
            for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
                key = (labels[a], open_centres[b])
                if key in v.match and overlap[a, b] > 0:
                    v.match[key].setInitialValue(1, check=False)
                    v.kept[key].setInitialValue(overlap[a, b], check=False)
        if v.flow:
            for (a, b, c), value in _tree_flows(problem, assignment).items():
                if (a, b, c) in v.flow:
                    v.flow[(a, b, c)].setInitialValue(value, check=False)
        return True


# The kind of each key part per constraint family, for the name -> codes map.
_KEY_KINDS: dict[str, tuple[str, ...]] = {
    "assign": ("unit",),
    "open": ("unit", "centre"),
    "k_min": (),
    "k_max": (),
    "pop_min": ("centre",),
    "pop_max": ("centre",),
    "capacity": ("centre",),
    "lock": ("unit", "centre"),
    "required": ("centre",),
    "touch": ("unit", "centre"),
    "flow": ("unit", "centre"),
    "flow_from": ("unit", "unit", "centre"),
    "flow_to": ("unit", "unit", "centre"),
    "aligned": ("pcn", "centre"),
    "aligned_home": ("pcn", "centre"),
    "home_open": ("pcn", "centre"),
    "one_home": ("pcn",),
    "demand_over": ("centre",),
    "demand_under": ("centre",),
    "kept": ("baseline", "centre"),
    "kept_match": ("baseline", "centre"),
    "match_label": ("baseline",),
    "match_centre": ("centre",),
    "group_touch": ("group", "unit", "centre"),
    "group_split": ("group",),
    "cut": ("round", "unit", "centre"),
    "pcn_cut": ("round", "pcn", "centre"),
}


# ---- variables and variable fixing ---------------------------------------------------------------------------


def define_access(problem: PlaceProblem) -> np.ndarray:
    """Which pairs (i, c) get a variable x[i,c]; every other pair is fixed to 0 by not existing.

    A pair is allowed when all of these hold:

    - access: d(i, c) <= ``max_distance_km`` (roots and locked pairs always allowed; a locked unit may only be
      served by its lock's centre);
    - reachability: a path r(c) -> i exists whose total population is <= ``pop_max`` (a connected neighbourhood
      holding both contains such a path), found by Dijkstra with node weights through allowed units only;
    - openable: the root pair (r(c), c) is allowed and the population reachable from r(c) is >= ``pop_min``
      (otherwise c can never open and all its pairs go);
    - symmetry: when every unit is a candidate centre and nothing depends on which member is the centre (access
      weight 0, no radius, capacity, locks or required centres), each neighbourhood is served by its
      lowest-index unit, so x[i,c] exists only for r(c) <= i. Valid: any plan maps to one with the same
      objective by re-centring each region on its lowest unit.

    Returns
    -------
    numpy.ndarray
        Boolean matrix, shape (n, m).
    """
    allowed = allowed_matrix(problem)
    if _symmetry_breaking_applies(problem):
        roots = problem.centre_root
        allowed &= np.arange(problem.n_units)[:, None] >= roots[None, :]
    allowed = _reachable(problem, allowed)
    for c in range(problem.n_centres):
        root = int(problem.centre_root[c])
        reach_pop = float(problem.population[allowed[:, c]].sum())
        if not allowed[root, c] or reach_pop < problem.pop_min:
            allowed[:, c] = False
    return allowed


def _symmetry_breaking_applies(problem: PlaceProblem) -> bool:
    """Whether the lowest-index-centre rule of :func:`define_access` is valid for ``problem``."""
    w = problem.weights
    return (
        problem.centre_kind == "unit"
        and sorted(problem.centre_root.tolist()) == list(range(problem.n_units))
        and not (w.access > 0)
        and problem.max_distance_km is None
        and not problem.locks
        and not problem.centre_required.any()
        and not np.isfinite(problem.centre_capacity).any()
    )


def _reachable(problem: PlaceProblem, allowed: np.ndarray) -> np.ndarray:
    """allowed and population-reachable: a path r(c) -> i through allowed units of population <= pop_max."""
    neighbours = problem.neighbours()
    pop = problem.population.astype(float)
    result = np.zeros_like(allowed)
    for c in range(problem.n_centres):
        root = int(problem.centre_root[c])
        if not allowed[root, c]:
            continue
        best = np.full(problem.n_units, np.inf)
        best[root] = pop[root]
        heap = [(pop[root], root)]
        while heap:
            cost, unit = heapq.heappop(heap)
            if cost > best[unit]:
                continue
            for v in neighbours[unit]:
                nxt = cost + pop[v]
                if nxt < best[v] and nxt <= problem.pop_max and allowed[v, c]:
                    best[v] = nxt
                    heapq.heappush(heap, (nxt, v))
        result[:, c] = np.isfinite(best) & allowed[:, c]
    return result


def reachable_pairs(problem: PlaceProblem) -> np.ndarray:
    """Alias of :func:`define_access` for callers sizing the model (number of x variables = its sum)."""
    return define_access(problem)


def define_variables(problem: PlaceProblem, allowed: np.ndarray) -> Variables:
    """x[i,c] binary for each allowed pair (i, c), named ``x_i_c``."""
    v = Variables()
    units, centres = np.nonzero(allowed)
    for unit, centre in zip(units.tolist(), centres.tolist(), strict=True):
        v.x[(unit, centre)] = pulp.LpVariable(f"x_{unit}_{centre}", cat=pulp.LpBinary)
        v.units_of.setdefault(centre, []).append(unit)
        v.centres_of.setdefault(unit, []).append(centre)
    for lists in (v.units_of, v.centres_of):
        for key in lists:
            lists[key].sort()
    return v


# ---- core constraints ------------------------------------------------------------------------------------------


def define_assignment(model: PlaceModel) -> None:
    """sum_c x[i,c] = 1 (each unit served exactly once) and x[i,c] <= y[c] (only by an open centre)."""
    p, v = model.problem, model.variables
    for unit in range(p.n_units):
        centres = v.centres_of.get(unit, [])
        model.add(
            pulp.lpSum(v.x[(unit, c)] for c in centres) == 1,
            "assign",
            (unit,),
            f"{p.unit_codes[unit]} is served by exactly one centre",
        )
    for (unit, centre), var in v.x.items():
        if unit != int(p.centre_root[centre]):
            model.add(
                var <= v.opened(p, centre),
                "open",
                (unit, centre),
                f"{p.unit_codes[unit]} is served by {p.centre_ids[centre]} only if it is open",
            )


def define_k(model: PlaceModel) -> None:
    """k_min <= sum_c y[c] <= k_max."""
    p, v = model.problem, model.variables
    opened = pulp.lpSum(v.opened(p, c) for c in model.centres)
    model.add(opened >= p.k_min, "k_min", (), f"at least {p.k_min} neighbourhoods")
    model.add(opened <= p.k_max, "k_max", (), f"at most {p.k_max} neighbourhoods")


def define_population_bounds(model: PlaceModel) -> None:
    """pop_min y[c] <= sum_i pop_i x[i,c] <= pop_max y[c]."""
    p, v = model.problem, model.variables
    for c in model.centres:
        size = pulp.lpSum(float(p.population[i]) * v.x[(i, c)] for i in v.units_of[c])
        model.add(
            size >= p.pop_min * v.opened(p, c),
            "pop_min",
            (c,),
            f"{p.centre_ids[c]} serves at least {p.pop_min:,} if open",
        )
        model.add(
            size <= p.pop_max * v.opened(p, c),
            "pop_max",
            (c,),
            f"{p.centre_ids[c]} serves at most {p.pop_max:,}",
        )


def capacity_load(problem: PlaceProblem) -> np.ndarray:
    """What a hub's capacity limits per unit: demand when given (and positive), else population."""
    if problem.demand is not None and problem.demand.sum() > 0:
        return problem.demand.astype(float)
    return problem.population.astype(float)


def define_capacity(model: PlaceModel) -> None:
    """sum_i load_i x[i,c] <= cap_c y[c] for centres with a finite capacity (load: :func:`capacity_load`)."""
    p, v = model.problem, model.variables
    load = capacity_load(p)
    for c in model.centres:
        cap = float(p.centre_capacity[c])
        if np.isfinite(cap):
            model.add(
                pulp.lpSum(float(load[i]) * v.x[(i, c)] for i in v.units_of[c]) <= cap * v.opened(p, c),
                "capacity",
                (c,),
                f"{p.centre_ids[c]} serves a load of at most {cap:,.0f}",
            )


def define_locks(model: PlaceModel) -> None:
    """x[i,c] = 1 for each lock (i, c) (which also opens c)."""
    p, v = model.problem, model.variables
    for unit, centre in p.locks:
        model.add(
            v.x[(unit, centre)] == 1,
            "lock",
            (unit, centre),
            f"{p.unit_codes[unit]} is locked to {p.centre_ids[centre]}",
        )


def define_required_hubs(model: PlaceModel) -> None:
    """y[c] = 1 for each required centre."""
    p, v = model.problem, model.variables
    for centre in np.flatnonzero(p.centre_required).tolist():
        model.add(v.opened(p, centre) == 1, "required", (centre,), f"{p.centre_ids[centre]} must open")


# ---- contiguity --------------------------------------------------------------------------------------------------


def define_singleton_cuts(model: PlaceModel) -> None:
    """x[i,c] <= sum_{v in N(i)} x[v,c] for i != r(c): a served unit touches another unit of its region.

    The separator cut of :func:`add_contiguity_cuts` for C = {i}; added up front because it is cheap and removes
    most disconnected solutions (isolated units) before the first solve.
    """
    p, v = model.problem, model.variables
    neighbours = p.neighbours()
    for (unit, centre), var in v.x.items():
        if unit == int(p.centre_root[centre]):
            continue
        around = [v.x[(u, centre)] for u in neighbours[unit] if (u, centre) in v.x]
        model.add(
            var <= pulp.lpSum(around),
            "touch",
            (unit, centre),
            f"{p.unit_codes[unit]} touches the rest of {p.centre_ids[centre]}",
        )


def _max_units(problem: PlaceProblem, candidates: list[int]) -> int:
    """Most units a neighbourhood drawn from ``candidates`` can hold under pop_max (smallest units first)."""
    pops = np.sort(problem.population[candidates].astype(float))
    return max(int(np.searchsorted(np.cumsum(pops), problem.pop_max, side="right")), 1)


def define_flow_contiguity(model: PlaceModel) -> None:
    """Single-commodity flow per centre: the root sends one unit of flow to every unit it serves.

    For each centre c, arcs (u, v) in both directions between allowed units (none into r(c)):
    ``sum_u f[u,i,c] - sum_v f[i,v,c] = x[i,c]`` for i != r(c), and ``f[u,v,c] <= M_c x[u,c]``,
    ``f[u,v,c] <= M_c x[v,c]`` with M_c = (most units a region fits under pop_max) - 1. Flow moves only between
    units served by c, so every served unit is joined to the root inside its region.
    """
    p, v = model.problem, model.variables
    for c in model.centres:
        members = set(v.units_of[c])
        root = int(p.centre_root[c])
        big_m = max(_max_units(p, v.units_of[c]) - 1, 1)
        arcs = [(a, b) for a, b in p.edges if a in members and b in members]
        arcs += [(b, a) for a, b in arcs]
        inflow: dict[int, list[pulp.LpVariable]] = {}
        outflow: dict[int, list[pulp.LpVariable]] = {}
        for a, b in sorted(arcs):
            if b == root:
                continue
            var = pulp.LpVariable(f"f_{a}_{b}_{c}", lowBound=0)
            v.flow[(a, b, c)] = var
            inflow.setdefault(b, []).append(var)
            outflow.setdefault(a, []).append(var)
            model.add(var <= big_m * v.x[(a, c)], "flow_from", (a, b, c), "flow leaves served units only")
            model.add(var <= big_m * v.x[(b, c)], "flow_to", (a, b, c), "flow enters served units only")
        for unit in sorted(members - {root}):
            model.add(
                pulp.lpSum(inflow.get(unit, [])) - pulp.lpSum(outflow.get(unit, [])) == v.x[(unit, c)],
                "flow",
                (unit, c),
                f"{p.unit_codes[unit]} is joined to {p.centre_ids[c]} by flow when served by it",
            )


def _tree_flows(problem: PlaceProblem, assignment: np.ndarray) -> dict[tuple[int, int, int], float]:
    """Flows of a connected plan: along a BFS tree from each root, each arc carries its subtree's size."""
    neighbours = problem.neighbours()
    flows: dict[tuple[int, int, int], float] = {}
    for centre in sorted(set(assignment.tolist())):
        root = int(problem.centre_root[centre])
        parent = {root: -1}
        order = [root]
        queue = deque([root])
        while queue:
            here = queue.popleft()
            for there in neighbours[here]:
                if there not in parent and assignment[there] == centre:
                    parent[there] = here
                    order.append(there)
                    queue.append(there)
        size = dict.fromkeys(order, 1.0)
        for unit in reversed(order[1:]):
            size[parent[unit]] += size[unit]
            flows[(parent[unit], unit, centre)] = size[unit]
    return flows


def add_contiguity_cuts(model: PlaceModel, assignment: np.ndarray, round_number: int) -> int:
    """Cut off every disconnected neighbourhood of ``assignment``; return the number of cuts added.

    For each connected piece C of a neighbourhood of centre c that does not hold r(c), let S be the units
    adjacent to C from which r(c) can be reached without entering C. Any connected region holding i in C and r(c)
    contains a path from i to r(c), and the last step of that path out of C lands in S, so
    ``x[i,c] <= sum_{v in S} x[v,c]`` is valid for every connected plan; this plan violates it (S holds none of
    c's units, or C would not be a separate piece). One cut per unit of C, named ``cut_round_i_c``.
    """
    p, v = model.problem, model.variables
    graph = nx.Graph()
    graph.add_nodes_from(range(p.n_units))
    graph.add_edges_from(p.edges)
    added = 0
    for centre in sorted(set(assignment.tolist())):
        root = int(p.centre_root[centre])
        members = set(np.flatnonzero(assignment == centre).tolist())
        for piece in nx.connected_components(graph.subgraph(members)):
            if root in piece:
                continue
            boundary = set().union(*(graph[u] for u in piece)) - piece
            reach = nx.node_connected_component(graph.subgraph(set(graph.nodes) - piece), root)
            separator = sorted(u for u in boundary & reach if (u, centre) in v.x)
            for unit in sorted(piece):
                model.add(
                    v.x[(unit, centre)] <= pulp.lpSum(v.x[(u, centre)] for u in separator),
                    "cut",
                    (round_number, unit, centre),
                    f"{p.unit_codes[unit]} is joined to {p.centre_ids[centre]} through its neighbours",
                )
                added += 1
    model.cuts += added
    return added


# ---- objective terms ---------------------------------------------------------------------------------------------


def define_access_term(model: PlaceModel) -> pulp.LpAffineExpression:
    """access = sum_{i,c} pop_i d(i,c)^2 x[i,c] / S (S from :func:`footprint.objective.access_scale`)."""
    p, v = model.problem, model.variables
    scale = access_scale(p)
    return pulp.lpSum(
        (float(p.population[i]) * float(p.distance_km[i, c]) ** 2 / scale) * var
        for (i, c), var in v.x.items()
    )


def _knapsack(patients: np.ndarray, population: np.ndarray, room: float) -> float:
    """Most patients that ``room`` residents can hold, units taken whole or (the last one) in part.

    The fractional knapsack: units in decreasing order of patients per resident (ties by position, so the
    result is deterministic), filled until ``room`` residents are used.
    """
    if not len(patients):
        return 0.0
    population = np.maximum(population, 1e-9)
    order = np.lexsort((np.arange(len(patients)), -(patients / population)))
    used = np.cumsum(population[order])
    full = int(np.searchsorted(used, room, side="right"))
    value = float(patients[order][:full].sum())
    if full < len(order):
        left = room - (float(used[full - 1]) if full else 0.0)
        value += float(patients[order][full]) * left / float(population[order][full])
    return value


def pcn_home_capacity(problem: PlaceProblem, allowed: np.ndarray) -> np.ndarray:
    """U[p,c]: an upper bound on the patients of PCN p that centre c's neighbourhood can hold.

    The fractional knapsack (:func:`_knapsack`) over the units c may serve (``allowed[:, c]``, which already
    honours the access radius and population reachability) with ``pop_max`` residents: any neighbourhood of c
    holds at most ``pop_max`` residents drawn from those units, so at most U[p,c] of p's patients.

    Returns
    -------
    numpy.ndarray
        Shape (n_pcns, n_centres).
    """
    registrations = problem.pcn_patients.astype(float)
    population = problem.population.astype(float)
    capacity = np.zeros((registrations.shape[0], problem.n_centres))
    for c in range(problem.n_centres):
        units = np.flatnonzero(allowed[:, c])
        for q in range(registrations.shape[0]):
            capacity[q, c] = _knapsack(registrations[q, units], population[units], problem.pop_max)
    return capacity


def define_pcn_alignment(model: PlaceModel) -> pulp.LpAffineExpression:
    """pcn = 1 - sum_{p,c} a[p,c] / T (T = all patients of the place's PCNs).

    Aggregated home formulation: ``a[p,c] <= sum_i reg[p,i] x[i,c]``, ``a[p,c] <= U[p,c] h[p,c]``,
    ``sum_c h[p,c] <= H_p`` (H_p = ``problem.pcn_homes``: the whole neighbourhoods p's size calls for, 1 for a PCN
    within the bounds), ``h[p,c] <= y[c]``; at the optimum a[p, c] is the patients of p in each of its homes, and
    the homes are the H_p neighbourhoods holding most of them. U[p,c] (:func:`pcn_home_capacity`) bounds the patients
    of p a neighbourhood of c can hold; with T_p in its place the LP relaxation could align every patient by
    spreading the home over several centres, with U it aligns at most max_c U[p,c] of them. A home holds at
    least T_p / k_max of p's patients (the most of k shares), so h[p,c] exists only where U[p,c] reaches that
    (some centre always does). h and a exist only for centres that can serve some of p's patients.
    """
    p, v = model.problem, model.variables
    patients = pcn_total(p)
    capacity = pcn_home_capacity(p, model.allowed)
    home_counts = p.homes_of()
    for q in range(p.pcn_patients.shape[0]):
        total_q = float(p.pcn_patients[q].sum())
        if total_q <= 0:
            continue
        # a single home holds at least a k_max-th of p's patients; a second or later home may hold any share
        least = total_q / max(p.k_max, 1) * (1 - 1e-9) if home_counts[q] == 1 else 0.0
        homes = []
        for c in model.centres:
            reach = [i for i in v.units_of[c] if p.pcn_patients[q, i] > 0]
            if not reach or capacity[q, c] < least:
                continue
            h = pulp.LpVariable(f"h_{q}_{c}", cat=pulp.LpBinary)
            a = pulp.LpVariable(f"a_{q}_{c}", lowBound=0)
            v.home[(q, c)], v.aligned[(q, c)] = h, a
            homes.append(h)
            model.add(
                a <= pulp.lpSum(float(p.pcn_patients[q, i]) * v.x[(i, c)] for i in reach),
                "aligned",
                (q, c),
                f"aligned patients of {p.pcn_codes[q]} live in {p.centre_ids[c]}",
            )
            model.add(
                a <= float(min(capacity[q, c], total_q)) * h,
                "aligned_home",
                (q, c),
                f"patients of {p.pcn_codes[q]} count as aligned only in its home",
            )
            model.add(
                h <= v.opened(p, c), "home_open", (q, c), f"{p.pcn_codes[q]}'s home {p.centre_ids[c]} is open"
            )
        if home_counts[q] == 1:
            model.add(
                pulp.lpSum(homes) == 1, "one_home", (q,), f"{p.pcn_codes[q]} has one home neighbourhood"
            )
        else:
            model.add(
                pulp.lpSum(homes) <= int(home_counts[q]),
                "one_home",
                (q,),
                f"{p.pcn_codes[q]} has at most {int(home_counts[q])} home neighbourhoods (its size calls for them)",
            )
    return 1 - pulp.lpSum(v.aligned.values()) / patients


def add_pcn_cuts(
    model: PlaceModel,
    value: Callable[[pulp.LpVariable], float],
    round_number: int,
    limit: int | None = None,
) -> list[str]:
    """Add the home-capacity cuts that a fractional solution violates; return the names added.

    For PCN p, centre c and any set S of c's units, the patients of p aligned in c are those in S plus those
    outside S, and the latter are at most U_S[p,c] h[p,c] (the knapsack of :func:`pcn_home_capacity` over c's
    units outside S; zero unless c is p's home):

        a[p,c] <= sum_{i in S} reg[p,i] x[i,c] + U_S[p,c] h[p,c]

    Valid for every plan, so the cuts never remove one. S = all units is the ``aligned`` row and S = {} the
    ``aligned_home`` row; in between they forbid what the LP relaxation does to align patients it cannot: a
    home spread fractionally over several centres. For the values ``value(var)`` (an LP solution) the most
    violated S is about {i : x[i,c] < h[p,c]}, the units where x is the smaller of the two; a cut is violated
    when by more than 1e-6 relative. With ``limit``, only the ``limit`` most violated (by their share of p's
    patients; ties by p, c) are added. Each is named ``pcn_cut_round_p_c``.
    """
    p, v = model.problem, model.variables
    population = p.population.astype(float)
    violated = []
    for (q, c), aligned in sorted(v.aligned.items()):
        a_value = value(aligned)
        if a_value <= 1e-6:
            continue
        h_value = value(v.home[(q, c)])
        units = np.array([i for i in v.units_of[c] if p.pcn_patients[q, i] > 0], dtype=np.int64)
        patients = p.pcn_patients[q, units].astype(float)
        x_values = np.array([value(v.x[(int(i), c)]) for i in units])
        inside = x_values < h_value
        rest = _knapsack(patients[~inside], population[units][~inside], p.pop_max)
        limit_value = float(patients[inside] @ x_values[inside]) + rest * h_value
        if a_value <= limit_value + 1e-6 * max(1.0, a_value):
            continue
        share = (a_value - limit_value) / max(float(p.pcn_patients[q].sum()), 1e-9)
        violated.append((-share, q, c, units[inside], rest))
    violated.sort(key=lambda item: item[:3])
    added = []
    for _, q, c, inside_units, rest in violated[:limit]:
        name = model.add(
            v.aligned[(q, c)]
            <= pulp.lpSum(float(p.pcn_patients[q, i]) * v.x[(int(i), c)] for i in inside_units)
            + rest * v.home[(q, c)],
            "pcn_cut",
            (round_number, q, c),
            f"patients of {p.pcn_codes[q]} aligned in {p.centre_ids[c]} fit in one neighbourhood",
        )
        added.append(name)
    return added


def define_demand_balance(model: PlaceModel) -> pulp.LpAffineExpression:
    """demand = sum_c e[c] / D with e[c] >= +-(sum_i (dem_i - (D/P) pop_i) x[i,c])."""
    p, v = model.problem, model.variables
    assert p.demand is not None
    demand_total = float(p.demand.sum())
    rate = demand_total / max(float(p.total_population), 1e-9)
    for c in model.centres:
        e = pulp.LpVariable(f"e_{c}", lowBound=0)
        v.excess[c] = e
        signed = pulp.lpSum(
            (float(p.demand[i]) - rate * float(p.population[i])) * v.x[(i, c)] for i in v.units_of[c]
        )
        model.add(e >= signed, "demand_over", (c,), f"{p.centre_ids[c]} demand above its population share")
        model.add(e >= -signed, "demand_under", (c,), f"{p.centre_ids[c]} demand below its population share")
    return pulp.lpSum(v.excess.values()) / demand_total


def define_stability(model: PlaceModel) -> pulp.LpAffineExpression:
    """stability = 1 - sum_{l,c} q[l,c] / P, a one-to-one matching of baseline labels l to centres c.

    ``q[l,c] <= sum_{i in l} pop_i x[i,c]``, ``q[l,c] <= pop_l m[l,c]``, ``sum_c m[l,c] <= 1``,
    ``sum_l m[l,c] <= y[c]``: the kept population under the best matching, as in the evaluation.
    """
    p, v = model.problem, model.variables
    assert p.baseline is not None
    total = max(float(p.total_population), 1e-9)
    for label in sorted(set(int(b) for b in p.baseline if b >= 0)):
        members = np.flatnonzero(p.baseline == label).tolist()
        label_pop = float(p.population[members].sum())
        matches = []
        for c in model.centres:
            inside = [i for i in members if (i, c) in v.x]
            if not inside or label_pop <= 0:
                continue
            m = pulp.LpVariable(f"m_{label}_{c}", cat=pulp.LpBinary)
            q = pulp.LpVariable(f"q_{label}_{c}", lowBound=0)
            v.match[(label, c)], v.kept[(label, c)] = m, q
            matches.append(m)
            model.add(
                q <= pulp.lpSum(float(p.population[i]) * v.x[(i, c)] for i in inside),
                "kept",
                (label, c),
                f"kept population of baseline {label} lives in {p.centre_ids[c]}",
            )
            model.add(q <= label_pop * m, "kept_match", (label, c), "population is kept only when matched")
        if matches:
            model.add(pulp.lpSum(matches) <= 1, "match_label", (label,), "a baseline unit is matched once")
    for c in model.centres:
        matched = [var for (_, cc), var in v.match.items() if cc == c]
        if matched:
            model.add(
                pulp.lpSum(matched) <= v.opened(p, c),
                "match_centre",
                (c,),
                f"{p.centre_ids[c]} is matched to at most one baseline unit, if open",
            )
    return 1 - pulp.lpSum(v.kept.values()) / total


def define_community(model: PlaceModel) -> pulp.LpAffineExpression:
    """community = sum_g pop_g s_g / P with t[g,c] >= x[i,c] (i in g), sum_c t[g,c] <= 1 + (n_g - 1) s_g.

    n_g = min(|g|, k_max): a group cannot touch more neighbourhoods than it has members or than exist.
    """
    p, v = model.problem, model.variables
    assert p.groups is not None
    total = max(float(p.total_population), 1e-9)
    expression = pulp.LpAffineExpression()
    for g in sorted(set(int(x) for x in p.groups if x >= 0)):
        members = np.flatnonzero(p.groups == g).tolist()
        if len(members) < 2:
            continue
        s = pulp.LpVariable(f"s_{g}", cat=pulp.LpBinary)
        v.split[g] = s
        centres = sorted({c for i in members for c in v.centres_of[i]})
        for c in centres:
            t = pulp.LpVariable(f"t_{g}_{c}", lowBound=0, upBound=1)
            v.touches[(g, c)] = t
            for i in members:
                if (i, c) in v.x:
                    model.add(
                        t >= v.x[(i, c)],
                        "group_touch",
                        (g, i, c),
                        f"group {g} has a member in {p.centre_ids[c]}",
                    )
        spread = min(len(members), p.k_max) - 1
        model.add(
            pulp.lpSum(v.touches[(g, c)] for c in centres) <= 1 + spread * s,
            "group_split",
            (g,),
            f"group {g} counts as split when it touches two neighbourhoods",
        )
        expression += (float(p.population[members].sum()) / total) * s
    return expression


def define_objective(model: PlaceModel) -> None:
    """minimise sum_t weight_t term_t over the active terms (constants included so values match evaluation)."""
    p = model.problem
    w = p.weights
    terms = active_terms(p)
    expression = pulp.LpAffineExpression()
    if "access" in terms:
        expression += w.access * define_access_term(model)
    if "pcn" in terms:
        expression += w.pcn * define_pcn_alignment(model)
    if "demand" in terms:
        expression += w.demand * define_demand_balance(model)
    if "stability" in terms:
        expression += w.stability * define_stability(model)
    if "community" in terms:
        expression += w.community * define_community(model)
    model.lp.setObjective(expression)


# ---- the chain -------------------------------------------------------------------------------------------------


def build_model(
    problem: PlaceProblem, *, contiguity: Contiguity = "cuts", allowed: np.ndarray | None = None
) -> PlaceModel:
    """The full model of a place.

    Parameters
    ----------
    problem
        The place.
    contiguity
        ``"cuts"``: singleton cuts now, separator cuts later through :func:`add_contiguity_cuts`; ``"flow"``:
        the flow formulation (plus singleton cuts, which tighten it).
    allowed
        The result of :func:`define_access` when the caller already has it.

    Returns
    -------
    PlaceModel
    """
    allowed = define_access(problem) if allowed is None else allowed
    lp = pulp.LpProblem(f"footprint_{problem.place_code}", pulp.LpMinimize)
    model = PlaceModel(
        problem=problem,
        lp=lp,
        variables=define_variables(problem, allowed),
        allowed=allowed,
        contiguity=contiguity,
    )
    define_assignment(model)
    define_k(model)
    define_population_bounds(model)
    define_capacity(model)
    define_locks(model)
    define_required_hubs(model)
    define_singleton_cuts(model)
    if contiguity == "flow":
        define_flow_contiguity(model)
    define_objective(model)
    logger.debug(
        "place %s: model with %d x variables, %d constraints (%s)",
        problem.place_code,
        len(model.variables.x),
        len(model.names),
        contiguity,
    )
    return model
