"""The per-place optimisation problem and its solution, as plain arrays (no geometry, no files).

This module is the contract between the data side (load, validate, graph) and the optimisation side (model,
heuristic, solve). A :class:`PlaceProblem` holds everything needed to partition one place's LSOAs into
neighbourhoods; a :class:`PlaceSolution` holds the answer. Both are immutable values built from numpy arrays and
tuples so that tests can construct problems by hand (a 3x3 grid needs no GeoDataFrame) and so that problems can be
pickled to worker processes.

Indices: units are ``0..n-1`` in the order of ``unit_codes`` (sorted codes); centres are ``0..m-1`` in the order
of ``centre_ids``. A centre is either a hub (``centre_kind == "hub"``) located in unit ``centre_root[c]``, or a
candidate LSOA (``centre_kind == "unit"``), in which case ``centre_root[c]`` is that LSOA itself. An open centre
always serves its own root unit, and its neighbourhood must be connected in the contiguity graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

CentreKind = Literal["hub", "unit"]


@dataclass(frozen=True)
class Weights:
    """Objective weights; every term is normalised (see :mod:`footprint.model`) so weights are comparable."""

    access: float = 1.0
    pcn: float = 1.0
    demand: float = 0.0
    stability: float = 0.0
    community: float = 0.0


def connected_parts(units: Sequence[int], adjacency: list[list[int]]) -> list[list[int]]:
    """The connected parts of ``units`` in the graph of ``adjacency`` (lists of neighbours): each part sorted, the
    parts in order of their lowest unit (breadth-first search)."""
    inside, seen, parts = set(units), set(), []
    for start in sorted(units):
        if start in seen:
            continue
        part, queue = [start], deque([start])
        seen.add(start)
        while queue:
            here = queue.popleft()
            for there in adjacency[here]:
                if there in inside and there not in seen:
                    seen.add(there)
                    part.append(there)
                    queue.append(there)
        parts.append(sorted(part))
    return parts


def homes_needed(size: float, pop_max: float) -> int:
    """Whole neighbourhoods a PCN of ``size`` patients calls for: one within the bounds, ceil(size / max) above.

    Brompton Health PCN, 96,900 patients, against a 50,000 bound: 2. A size that is unknown or not positive: 1.
    """
    if not np.isfinite(size) or size <= 0 or pop_max <= 0:
        return 1
    return max(1, int(np.ceil(size / pop_max - 1e-9)))


def largest_sum(values: list[float], h: int) -> float:
    """The sum of the ``h`` largest of ``values``, added left to right from the largest (as numpy's cumsum adds
    them; Python's own ``sum`` compensates its rounding from 3.12, so the two would part in the last bit)."""
    total = 0.0
    for value in sorted(values, reverse=True)[:h]:
        total += value
    return total


def top_sums(block: np.ndarray, homes: np.ndarray) -> np.ndarray:
    """Per row of ``block`` (PCN x neighbourhood patients), the sum of its ``homes[row]`` largest entries."""
    if block.shape[-1] == 0:
        return np.zeros(block.shape[:-1])
    if block.ndim == 2 and (homes == 1).all():
        return block.max(axis=1)
    if (
        block.ndim == 2 and block.size <= 128
    ):  # the heuristic's single moves: a few PCNs, plain Python is faster
        return np.array([largest_sum(row, h) for row, h in zip(block.tolist(), homes.tolist(), strict=True)])
    ordered = -np.sort(-block, axis=-1)
    cumulative = np.cumsum(ordered, axis=-1)
    take = np.minimum(homes, block.shape[-1]) - 1
    if block.ndim == 2:
        return cumulative[np.arange(block.shape[0]), take]
    return np.take_along_axis(cumulative, take.reshape(-1, *([1] * (block.ndim - 1))), axis=-1)[..., 0]


@dataclass(frozen=True)
class PlaceProblem:
    """One place (borough) to be split into contiguous, population-bounded neighbourhoods.

    Attributes
    ----------
    place_code, place_name
        The place's code (e.g. ``E09000012``) and readable name.
    unit_codes
        LSOA codes, sorted; index ``i`` in every array below refers to ``unit_codes[i]``.
    population
        The bounded measure per unit (residents by default, or registered patients), int64, shape (n,).
    xy
        Representative point of each unit in metres (EPSG:27700), shape (n, 2).
    edges
        Contiguity edges as sorted pairs ``(i, j)`` with ``i < j``, sorted. The graph is connected.
    pop_min, pop_max
        Inclusive bounds on each neighbourhood's population.
    k_min, k_max
        Bounds on the number of neighbourhoods (already resolved: automatic k gives
        ``ceil(P / pop_max) .. floor(P / pop_min)``, intersected with any user setting and the number of centres).
    centre_ids
        Identifier of each candidate centre (hub id, or the LSOA code for unit centres).
    centre_kind
        ``"hub"`` when centres are hubs from the input, ``"unit"`` when every LSOA is a candidate.
    centre_root
        Unit index in which each centre lies, shape (m,).
    centre_xy
        Location of each centre in metres, shape (m, 2).
    centre_required
        Boolean per centre: must be opened.
    centre_capacity
        Upper bound on the demand (or population when no demand) a centre may serve; ``nan`` = none. Shape (m,).
    distance_km
        Distance (km, or minutes when a travel-time matrix is given) from unit i to centre c, shape (n, m).
    max_distance_km
        Access radius: assignments farther than this are forbidden (``None`` = no radius). Locks and each
        centre's own root are always allowed.
    pcn_codes
        PCNs whose home is in this place (sorted).
    pcn_patients
        Registered patients of PCN p resident in unit i, shape (p, n), float64.
    pcn_homes
        Home neighbourhoods each PCN's size calls for (:func:`homes_needed`), int64, shape (p,); empty means one
        each. The pcn term counts a PCN's patients in its ``pcn_homes[p]`` neighbourhoods holding most of them.
    demand
        Demand score per unit (higher = more need), shape (n,), or ``None``.
    baseline
        Baseline neighbourhood label per unit (int >= 0, -1 = none), shape (n,), or ``None``.
    groups
        Keep-together group label per unit (int >= 0, -1 = none), shape (n,), or ``None``.
    locks
        Pairs ``(unit index, centre index)``: the unit must be served by that centre (which is then open).
    weights
        Objective weights.
    area_km2
        Land area of the place (km^2); used to normalise the access term.
    """

    place_code: str
    place_name: str
    unit_codes: tuple[str, ...]
    population: np.ndarray
    xy: np.ndarray
    edges: tuple[tuple[int, int], ...]
    pop_min: int
    pop_max: int
    k_min: int
    k_max: int
    centre_ids: tuple[str, ...]
    centre_kind: CentreKind
    centre_root: np.ndarray
    centre_xy: np.ndarray
    centre_required: np.ndarray
    centre_capacity: np.ndarray
    distance_km: np.ndarray
    max_distance_km: float | None = None
    pcn_codes: tuple[str, ...] = ()
    pcn_patients: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    pcn_homes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    demand: np.ndarray | None = None
    baseline: np.ndarray | None = None
    groups: np.ndarray | None = None
    locks: tuple[tuple[int, int], ...] = ()
    weights: Weights = field(default_factory=Weights)
    area_km2: float = 0.0

    def homes_of(self) -> np.ndarray:
        """Home neighbourhoods of each PCN, int64 shape (p,): ``pcn_homes``, or one each when it is not given."""
        n_pcns = self.pcn_patients.shape[0] if self.pcn_patients.size else len(self.pcn_codes)
        if len(self.pcn_homes) == n_pcns:
            return np.maximum(np.asarray(self.pcn_homes, dtype=np.int64), 1)
        return np.ones(n_pcns, dtype=np.int64)

    @property
    def n_units(self) -> int:
        return len(self.unit_codes)

    @property
    def n_centres(self) -> int:
        return len(self.centre_ids)

    @property
    def total_population(self) -> int:
        return int(self.population.sum())

    def neighbours(self) -> list[list[int]]:
        """Adjacency lists, sorted, built from ``edges``."""
        adjacency: list[list[int]] = [[] for _ in range(self.n_units)]
        for i, j in self.edges:
            adjacency[i].append(j)
            adjacency[j].append(i)
        for row in adjacency:
            row.sort()
        return adjacency


SolutionStatus = Literal["optimal", "feasible", "heuristic", "infeasible", "error"]


@dataclass(frozen=True)
class PlaceSolution:
    """The answer for one place.

    Attributes
    ----------
    place_code
        The place solved.
    status
        ``optimal`` (gap within tolerance), ``feasible`` (MIP incumbent, time limit hit), ``heuristic`` (heuristic
        plan, no MIP incumbent), ``infeasible`` (with ``message``), ``error`` (with ``message``).
    assignment
        Centre index serving each unit, shape (n,), int64; empty when infeasible.
    objective
        Weighted objective value of the plan (lower is better).
    bound
        Best proven lower bound on the objective (``nan`` when none).
    gap
        Relative gap ``(objective - bound) / max(|objective|, 1e-9)`` (``nan`` when no bound).
    terms
        Normalised value of each objective term (``access``, ``pcn``, ``demand``, ``stability``, ``community``).
    method
        How the plan was found (e.g. ``"mip-cuts"``, ``"heuristic"``).
    solver
        Solver name and version, e.g. ``"HiGHS 1.7.2"``.
    seconds
        Wall time spent per stage (``model``, ``solve``, ``heuristic``...).
    iterations
        Cut-generation rounds (0 for flow models or the heuristic).
    model
        Size of the MIP when one was built: ``x_variables``, ``variables``, ``constraints``, ``contiguity_cuts``,
        ``pcn_cuts``, ``root_lps``, ``fixed_by_reduced_cost``, ``root_lp_columns`` (columns the root LP loaded;
        the rest were priced out), ``root_lps_by_interior_point`` (root LPs the interior point method finished
        after the warm simplex stalled) (empty for the heuristic).
    message
        Human explanation for infeasible/error, warnings otherwise.
    heuristic_runs
        Heuristic runs made for the plan (``solver.heuristic_runs`` at most; fewer at short time limits
        and for large models, see :func:`footprint.solve.heuristic_runs`; 0 when the heuristic did not run).
    """

    place_code: str
    status: SolutionStatus
    assignment: np.ndarray
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    terms: dict[str, float] = field(default_factory=dict)
    method: str = ""
    solver: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    iterations: int = 0
    message: str = ""
    model: dict[str, int] = field(default_factory=dict)
    heuristic_runs: int = 0
