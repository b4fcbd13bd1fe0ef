"""Branch-and-price over whole neighbourhoods: closing the gap that column generation's LP leaves.

Column generation (:mod:`footprint.colgen`) proves the master LP's bound; what is left of the gap is
fractional (issue 19: Barnet's converged LP uses 12.2 neighbourhoods over 35 centres). Here the place is split
into nodes by restrictions, each a :class:`Branch`:

- first on the number of neighbourhoods, while the LP's is fractional: at most m or at least m + 1, m its whole
  part (Islington's root LP opens 7.84: at most 7 proves the heuristic's plan of 7 optimal; Lewisham's 9.64:
  the two sides' bounds are 1.60292 and 1.59823 against the root's 1.58761);
- then on the centres: centre c opens (serves a neighbourhood) or stays closed, on the centre whose LP opening
  is nearest a half;
- once every centre's opening is whole, on a unit and a centre: unit i is served by c, or not by c, on the pair
  whose LP share is nearest a half.

When every (unit, centre) share of a node's LP is whole, its solution is a plan, offered to the incumbent.

A node is the place with its restrictions written into a :class:`footprint.colgen.Pricing` (reach, locked units,
centres that must open or may not, the range of neighbourhood counts), so colgen's pricing, master and Lagrangian
bound apply to it unchanged; it keeps the root's subset-row cuts (``Pricing.triples``, valid for every plan). Its
columns come from a pool shared by the whole tree (a column valid at a node is a valid neighbourhood of the place,
so every node's columns go to the pool; a node takes those its restrictions allow), and its first duals are kept
near its parent's last. A node's bound is the better of its parent's and its own Lagrangian bound (a node's plans
are some of its parent's); a node whose bound reaches ``enough`` (the bound that proves the incumbent within the
gap wanted) is closed, as is one with no plan at all. Nodes are taken best first (least bound, then the order made),
so the tree's bound, the least over the open nodes and the closed ones, rises as fast as it can; it never exceeds
the optimum, whatever stops the search.

Limits are counted (nodes, exact passes a node); the ``deadline`` is a guard and :class:`TreeResult` says when
it bound.
"""

from __future__ import annotations

import copy
import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from footprint.colgen import Column, ColumnResult, Master, Pricing, generate_columns
from footprint.problem import PlaceProblem

#: Nodes of one tree solved at most (the root counted only when its column generation has to go on).
MAX_NODES = 200
#: Exact pricing passes of one node's column generation at most.
NODE_EXACT_PASSES = 4
#: A share below this (or above 1 - this) counts as whole.
WHOLE = 1e-6
#: :attr:`Branch.centre` of a branch on the number of neighbourhoods.
COUNT = -1


@dataclass(frozen=True)
class Branch:
    """One restriction: centre ``centre`` opens (``unit`` -1) or unit ``unit`` is served by it; or, when
    ``value`` is False, the opposite. ``centre`` -1 (``COUNT``) restricts the number of neighbourhoods instead:
    at least ``unit`` of them, or, when ``value`` is False, fewer."""

    centre: int
    unit: int
    value: bool


@dataclass
class TreeResult:
    """What :func:`branch_and_price` did.

    Attributes
    ----------
    bound
        The tree's bound: the least over the nodes still open and the nodes closed (never above the optimum).
    nodes
        Nodes solved (the root counted only when its column generation had to go on), and ``closed``: nodes
        closed without children.
    open
        Nodes left open when the search stopped (0: the bound is the tree's whole answer).
    plans
        Plans the nodes' LP solutions gave.
    columns
        Columns in the pool at the end.
    stopped
        The deadline stopped the search before its counted limits (the result then depends on the machine).
    history
        Per node solved: its depth, its bound, the tree's bound after it, seconds since the start.
    """

    bound: float
    nodes: int = 0
    closed: int = 0
    open: int = 0
    plans: int = 0
    columns: int = 0
    stopped: bool = False
    history: list[tuple[int, float, float, float]] = field(default_factory=list)


def restricted(pricing: Pricing, branches: tuple[Branch, ...]) -> Pricing | None:
    """The place as priced under ``branches`` (a copy; the arrays it changes are its own), or None when no plan
    can meet them (a centre that must open cannot, a unit no open centre may serve, an empty range of
    neighbourhood counts, more centres required than neighbourhoods allowed or fewer open than needed)."""
    p = pricing.problem
    node = copy.copy(pricing)
    node.reach = pricing.reach.copy()
    node.required = pricing.required.copy()
    node.openable = pricing.openable.copy()
    node.locked_to = [list(units) for units in pricing.locked_to]
    for b in branches:
        if b.centre == COUNT:
            if b.value:
                node.k_min = max(node.k_min, b.unit)
            else:
                node.k_max = min(node.k_max, b.unit - 1)
        elif b.unit < 0:
            if b.value:
                node.required[b.centre] = True
            else:
                node.openable[b.centre] = False
        elif b.value:
            served = node.reach[b.unit, b.centre]
            node.reach[b.unit, :] = False
            node.reach[b.unit, b.centre] = served
            node.locked_to[b.centre].append(b.unit)
            node.required[b.centre] = True
        else:
            node.reach[b.unit, b.centre] = False
    roots = np.asarray(p.centre_root, dtype=np.int64)
    node.openable &= node.reach[roots, np.arange(p.n_centres)]
    if (node.required & ~node.openable).any():
        return None
    if not node.reach[:, node.openable].any(axis=1).all():
        return None
    if (
        node.k_min > node.k_max
        or int(node.required.sum()) > node.k_max
        or int(node.openable.sum()) < node.k_min
    ):
        return None
    return node


def allowed(node: Pricing, column: Column) -> bool:
    """Whether ``column`` meets the node's restrictions."""
    c = column.centre
    return (
        bool(node.openable[c])
        and bool(node.reach[list(column.units), c].all())
        and set(node.locked_to[c]) <= set(column.units)
    )


def shares(master: Master, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each centre's opening (the sum of its columns' values) and each (unit, centre) share in the LP solution
    ``values``."""
    p = master.pr.problem
    opening = np.zeros(p.n_centres)
    share = np.zeros((p.n_units, p.n_centres))
    for col, v in zip(master.columns, values.tolist(), strict=True):
        if v > WHOLE:
            opening[col.centre] += v
            share[list(col.units), col.centre] += v
    return opening, share


def choose_branch(
    opening: np.ndarray,
    share: np.ndarray,
    total: float | None = None,
    counts: tuple[int, int] | None = None,
) -> tuple[int, int, float] | None:
    """The restriction to branch on: the number of neighbourhoods ``total`` (default: the openings summed)
    when it is fractional and both sides narrow the node's range ``counts`` (``COUNT``, its whole part + 1,
    and its fractional part: how far the LP leans to at least that many), else the centre whose opening is
    nearest a half, else the (unit, centre) share nearest a half (the lowest index on ties); with its LP value.
    None when all are whole."""
    total = float(opening.sum()) if total is None else total
    low, high = counts if counts is not None else (-math.inf, math.inf)
    whole = math.floor(total)
    if abs(total - round(total)) > WHOLE and low <= whole and whole + 1 <= high:
        return COUNT, whole + 1, total - whole
    frac = np.abs(opening - np.round(opening))
    if frac.max(initial=0.0) > WHOLE:
        c = int(np.argmin(np.abs(opening - 0.5) + (frac <= WHOLE) * 2.0))
        return c, -1, float(opening[c])
    frac = np.abs(share - np.round(share))
    if frac.max(initial=0.0) > WHOLE:
        flat = np.abs(share - 0.5) + (frac <= WHOLE) * 2.0
        i, c = np.unravel_index(int(np.argmin(flat)), share.shape)
        return int(c), int(i), float(share[i, c])
    return None


def branch_and_price(
    problem: PlaceProblem,
    master: Master,
    root: ColumnResult,
    offer: Callable[[np.ndarray], float],
    enough: Callable[[], float],
    *,
    nodes: int = MAX_NODES,
    exact_passes: int = NODE_EXACT_PASSES,
    deadline: float | None = None,
) -> TreeResult:
    """Branch and price from the root ``master`` and its column generation's result ``root``.

    ``offer(assignment)`` takes a plan a node's LP gives and returns the incumbent's objective after it;
    ``enough()`` is the bound that proves the incumbent within the gap wanted (it falls as the incumbent
    improves). The root is taken as it is when its LP converged, else its column generation goes on as the
    first node's. Returns the tree's bound and counts (module docstring); the pool's columns are added to
    ``master``, so :meth:`footprint.colgen.Master.integer_plan` can use them after.
    """
    began = time.perf_counter()
    base = master.pr
    pool: list[Column] = list(master.columns)
    root_bound = root.bound if math.isfinite(root.bound) else -math.inf
    result = TreeResult(bound=root.bound)
    if root_bound >= enough():
        return result
    # entries: (the parent's bound, order made, branches, the parent's last box centre)
    queue: list[tuple[float, int, tuple[Branch, ...], np.ndarray]] = [
        (root_bound, 0, (), master.box_centre.copy())
    ]
    made = 1
    closed = math.inf  # the least bound of the nodes closed
    taken_root = False
    while queue:
        if result.nodes >= nodes:
            break
        if deadline is not None and time.perf_counter() > deadline:
            result.stopped = True
            break
        parent_bound, _, branches, box_centre = heapq.heappop(queue)
        if parent_bound >= enough():
            closed = min(closed, parent_bound)
            result.closed += 1
            continue
        node = base if not branches else restricted(base, branches)
        bound, children = math.inf, None
        if node is not None:
            # the converged root is taken as it is, once (solved again, it is a node like any other)
            ready = master if not branches and root.converged and not taken_root else None
            taken_root = True
            result.nodes += ready is None
            bound, children, box_centre = _solve_node(
                problem,
                node,
                pool,
                parent_bound,
                offer,
                enough,
                exact_passes,
                deadline,
                box_centre,
                result,
                ready,
            )
        else:
            result.nodes += 1
        if children is None or bound >= enough():
            closed = min(closed, bound)
            result.closed += 1
        elif not children:  # its column generation ran out before its LP converged: the node again, as it is
            heapq.heappush(queue, (bound, made, branches, box_centre))
            made += 1
        else:
            for branch in children:
                heapq.heappush(queue, (bound, made, (*branches, branch), box_centre))
                made += 1
        result.bound = max(root_bound, min([closed, *(entry[0] for entry in queue)]))
        result.history.append((len(branches), bound, result.bound, time.perf_counter() - began))
    result.open = len(queue)
    result.bound = max(root_bound, min([closed, *(entry[0] for entry in queue)]))
    master.add(pool)  # the columns the tree made (Master.add keeps only those it does not have)
    result.columns = len(master.columns)
    return result


def _solve_node(
    problem: PlaceProblem,
    node: Pricing,
    pool: list[Column],
    parent_bound: float,
    offer: Callable[[np.ndarray], float],
    enough: Callable[[], float],
    exact_passes: int,
    deadline: float | None,
    box_centre: np.ndarray,
    result: TreeResult,
    ready: Master | None = None,
) -> tuple[float, list[Branch] | None, np.ndarray]:
    """Column generation at one node (none when its master is ``ready``: the root's, converged); returns its
    bound, its children's branches (None: the node is closed, its bound reaching ``enough`` or its converged LP
    a plan; none: its LP is whole but not converged, or uses slack: the node is to be solved again, from the
    columns it made) and its last box centre."""
    if ready is None:
        columns = [col for col in pool if allowed(node, col)]
        cg, master = generate_columns(
            problem,
            (),
            pricing=node,
            columns=columns,
            exact_passes=exact_passes,
            deadline=deadline,
            end=deadline,
            enough=enough(),
            box_centre=box_centre,
        )
        result.stopped = result.stopped or cg.stopped
        known = {(col.centre, col.units, col.homes, col.label) for col in pool}
        pool.extend(
            col for col in master.columns if (col.centre, col.units, col.homes, col.label) not in known
        )
        bound = parent_bound if math.isnan(cg.bound) else max(parent_bound, cg.bound)
        converged = cg.converged
    else:
        master, bound, converged = ready, parent_bound, True
    if bound >= enough():
        return bound, None, master.box_centre
    _, _, values, slack = master.solve()
    if slack > 1e-7:  # the LP is not the node's yet (a share fixed on this path can look fractional)
        return bound, [], master.box_centre
    children = _children(master, values)
    if children is not None:
        return bound, children, master.box_centre
    plan = _plan(master, values)
    if plan is not None:
        result.plans += 1
        offer(plan)
        if converged:
            # the LP's optimum is whole: no plan below this node beats its bound (the LP may still split PCN
            # homes or labels between columns of the same units, and its plan then costs more than the bound:
            # the node closes at its bound all the same, which stays valid)
            return bound, None, master.box_centre
    return bound, [], master.box_centre


def _children(master: Master, values: np.ndarray) -> list[Branch] | None:
    """The two branches on the LP solution's most fractional opening or share; None when all are whole."""
    opening, share = shares(master, values)
    # the count from every column's value (shares leaves out values below WHOLE, which could make a whole
    # count look fractional and branch into the node itself)
    chosen = choose_branch(opening, share, float(values.sum()), (master.pr.k_min, master.pr.k_max))
    if chosen is None:
        return None
    centre, unit, value = chosen
    first = value >= 0.5  # the side the LP leans to first
    return [Branch(centre, unit, first), Branch(centre, unit, not first)]


def _plan(master: Master, values: np.ndarray) -> np.ndarray | None:
    """The plan of an LP solution whole in every (unit, centre) share (columns of the same units may still
    split on their homes or label), or None."""
    _, share = shares(master, values)
    served = share.max(axis=1) > 0.5
    return np.argmax(share, axis=1).astype(np.int64) if served.all() else None
