"""Solve one place: screen feasibility, warm-start with the heuristic, run the MIP, report honestly.

:func:`check_feasibility` explains, before any solving, why a place cannot be split (with numbers and a fix).
:func:`solve_place` then runs the heuristic (a valid plan in about a second) and, unless the method is
``heuristic``:

- ``auto`` (with HiGHS) and ``columns``: column generation over whole neighbourhoods (:mod:`footprint.colgen`;
  :func:`_column_stage`): its bound is the strongest we prove, and plans from its columns often beat the
  heuristic's; then branch-and-price (:mod:`footprint.branch`) on what the master's LP leaves fractional, until
  the place's time ends. Its rounds, passes and nodes are counts, guarded by the clock. ``columns`` stops there; ``auto`` hands
  the time column generation leaves (it ends early once its counts are spent) to the per-LSOA MIP, warm-started
  from the best plan and given the columns' bound as an objective target, so it stops at the first plan that
  bound proves within the gap;
- ``exact``, and ``auto`` after the columns: the MIP of :mod:`footprint.model` warm-started from the best plan.

Before the MIP, :func:`strengthen_root`
solves the LP relaxation, adds the PCN home cuts it violates until the bound stops rising, and fixes to 0 every x
whose reduced cost rules it out of any plan better than the heuristic's by more than the gap (places whose root
bound already proves the heuristic's plan stop there). The loop hands over to the MIP once its bound stalls,
its share of the limit is spent or it is within ``ROOT_HANDOFF_GAP`` of the incumbent; where the MIP's share of
the time could not even re-solve the root LP (the first LP took more than half of it: London's largest places),
the loop keeps the whole limit and the MIP is skipped, since LP rounds then raise the bound and branching would
not start. Then:

- contiguity ``cuts``: solve, cut off the disconnected neighbourhoods (:func:`footprint.model.add_contiguity_cuts`),
  re-solve, until the solver's plan is connected. Each round's model is a relaxation of the full problem (the cuts
  only remove disconnected plans), so each round's dual bound is a valid lower bound for the full problem;
- contiguity ``flow``: one solve of the flow model, whose bound is the full problem's bound.

``auto`` picks cuts and HiGHS, by measurement (``benchmarks/bench_solver.py``, synthetic Voronoi places of
LSOA-like units, bounds 30,000-50,000, access only, 60 s limit, 2 shared cores, threads 1):

=====================  ==============================  ==============================
instance               HiGHS                           CBC
=====================  ==============================  ==============================
N=150, 12 hubs         cuts 1.1 s optimal;             cuts 1.2 s optimal;
                       flow 2.6 s optimal              flow > 60 s, 2.0% gap
N=250, 18 hubs         cuts 8.1 s optimal;             cuts 60 s, 1.8% gap
                       flow 28.7 s optimal
N=150, every LSOA (*)  cuts 60 s, 1.1% gap;            cuts 60 s, no better plan;
                       flow 60 s, no better plan       flow overran the limit by minutes
=====================  ==============================  ==============================

(*) CBC and flow measured with the heuristic before paired moves (start 0.826); HiGHS cuts reached 1.06% from
that start and 1.31% (plan 0.7638, bound 0.7539) from today's start of 0.776: all-LSOA-centre places of this
size end as ``feasible`` with about 1% gap at 60 s, and the bound is what makes that visible. Warm starts: CBC's solve
stage took 4.5 s cold on N=150 hubs against about 0.6 s warm; HiGHS 0.6 s either way. HiGHS and CBC gave identical plans over
repeated runs with 1 and 2 threads on N=150 hubs; threads default to 1 all the same. The reported plan is the
better of the MIP's and the heuristic's; every term is
recomputed by :mod:`footprint.objective` (never read from the solver) and the plan is checked against every hard
rule before it is accepted. The gap is ``(objective - bound) / objective`` with the best bound any round proved.
Status: ``optimal`` when that gap is within ``gap``, ``feasible`` when the MIP found the plan but stopped at the
time limit, ``heuristic`` when the plan is the heuristic's and the MIP did not prove it, ``infeasible`` with the
reason in the place's words, ``error`` with what failed and the alternative solver.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pulp

from footprint.branch import MAX_NODES, branch_and_price
from footprint.colgen import Master, Pricing, dive, generate_columns, recombine_plans
from footprint.config import COUNTED_EXACT_REFUSED, Solver
from footprint.errors import SolverError
from footprint.heuristic import (
    RECOMBINE_ITERATIONS,
    allowed_matrix,
    check_plan,
    grow_from_centres,
    polish_plan,
    solve_heuristic,
)
from footprint.highs import _stdout_to_null, new_highs
from footprint.model import PlaceModel, add_contiguity_cuts, add_pcn_cuts, build_model, define_access
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.rootlp import NEAR_CENTRES, RestrictedLP, column_arrays

logger = logging.getLogger(__name__)

#: With method "auto", places above this many x variables are planned by the heuristic alone.
AUTO_EXACT_MAX_VARIABLES = 250_000
#: With method "auto", the MIP is skipped when the x variables exceed this many per second left after the
#: heuristic (model build and the first LP would take the whole limit: a 486-LSOA place took 73 s against 6 s).
AUTO_VARIABLES_PER_SECOND = 2_000
#: Cut rounds before the loop gives up (the plan so far is kept, status feasible or heuristic).
MAX_CUT_ROUNDS = 60
#: Rounds of the root cut loop (:func:`strengthen_root`) at most, and its share of the place's time limit (it
#: usually stops well before, at ``ROOT_HANDOFF_GAP`` or when the bound stalls; measured on London places, LP rounds
#: raise the bound of a place 5-25% from its incumbent faster than branch and bound does).
ROOT_MAX_ROUNDS = 40
ROOT_TIME_SHARE = 0.85
#: The root loop hands over to the MIP early once its bound is within this (relative) of the incumbent. Since
#: rounds are cheap (capped cuts, the interior point fallback) they raise the bound faster than branch and bound
#: down to the last per cent, so the loop now runs until its bound stalls or its share of the limit is spent:
#: places alone at 60 s, handoff 2% / 1% / 0: City and Hackney gap 0.82% / 0.52% / 0.43% (optimal, 51.8 s);
#: Haringey 0.61% (1%) / 0.52% (0); Merton optimal (0.31%) at the root in 51.6 s with 0; Kingston optimal in
#: 17.0 s with 0 (the bound stalls, the MIP proves it); Sutton 1.03% with 1% and 0.
ROOT_HANDOFF_GAP = 0.0
#: The MIP re-solves the root LP from scratch (its presolve and cuts first): when the time it would get is less
#: than this many times the root loop's first LP, it could not finish even that, and the root loop keeps the
#: whole limit instead (London's largest places: first LP 20-25 s, see BENCHMARKS.md).
MIP_ROOT_FACTOR = 2.0
#: LPs of the root loop that only price columns in (no cuts) allowed on top of ``ROOT_MAX_ROUNDS``.
MAX_PRICING_ROUNDS = 20
#: A root round's warm dual simplex gets this many times the first LP's time (at least the floor, in seconds)
#: before the round goes over to the interior point method (:func:`_run_round`).
ROUND_PATIENCE = 1.0
ROUND_PATIENCE_FLOOR = 1.0
#: PCN home cuts added per root round at most, the most violated first. Adding every violated cut (150-400 a
#: round on the largest places) sometimes sent the next dual simplex into tens of thousands of iterations
#: (Barnet: one re-solve of 51 s, 4 LPs in 60 s). Root gap after 60 s, each place alone, all cuts -> 100 a round:
#: Barnet 19.0% -> 10.2%, Croydon 7.8% -> 5.8%, Ealing 12.1% -> 6.8%, Bromley 6.2% -> 6.3%, Lambeth 2.0% -> 2.2%
#: (40 a round: better than all on two of the five, worse on two).
PCN_CUTS_PER_ROUND = 100
#: The root loop stops when three rounds together raised the LP bound by less than this (relative).
ROOT_MIN_PROGRESS = 1e-4
#: The heuristic's merge-split iterations (``heuristic.RECOMBINE_ITERATIONS``) are all spent at a time limit of this
#: many seconds or more; shorter limits get a proportional share (a count, not a clock, so plans stay
#: reproducible). London's places take 1-5 s for all 300; at 60 s here, a full solve at 30 s ended worse than
#: the heuristic alone on two places (City and Hackney 1.279 against 1.274), so 30 s now gets them all.
RECOMBINE_FULL_AT = 30.0
#: The least share of the time limit after which the heuristic starts nothing new when a MIP follows (the whole
#: limit with ``--method heuristic`` or when method auto will skip the MIP for the model's size; more for slow
#: runs, :func:`heuristic_share`): a guard against overrunning the limit (the synthetic England's 586-LSOA place
#: ran 12.3 s at 6 s before it); the place's note says when it bound.
HEURISTIC_TIME_SHARE = 0.25
#: Seconds one heuristic run may take per LSOA on a slow machine: the heuristic's guard allows its runs this long
#: (up to ``HEURISTIC_TIME_SHARE_MAX`` of the limit) before it stops them. The runs are a count fixed before the
#: solve, so a plan is the same on any machine as long as the guard does not bind; at a flat quarter of 60 s it
#: bound on 6-11 London places on a slower 2-core machine (3 runs of 0.021-0.042 s per LSOA each, two places
#: solving at once), whose plans then depended on the machine's speed and load.
HEURISTIC_SECONDS_PER_UNIT = 0.055
#: The most of the time limit the heuristic's guard allows when a MIP follows.
HEURISTIC_TIME_SHARE_MAX = 0.5
#: Seconds of time limit per heuristic run (``SolveOptions.heuristic_runs`` at most; a count fixed by
#: the limit, not a clock, so plans stay reproducible). London's places take 0.9-3.2 s a run, so runs fit in the
#: heuristic's share of the limit: 8 (the most by default) at 60 s and more (about 15 s a place at 60 s), 4 at
#: 30 s, 1 below 15 s. Was 20 s (3 runs at 60 s) before the runs became 1.4 times faster (issue 19); London at
#: 60 s with 8 runs against 3: median gap 0.93% against 0.99%, 24 places within 2% against 21 (BENCHMARKS.md).
SECONDS_PER_HEURISTIC_RUN = 7.5
#: A place whose model has more x variables than this per second of limit gets one heuristic run when a MIP
#: follows: its root loop is still raising the bound steeply when the limit ends, and the runs' time is its loss.
#: London at 60 s with 3 runs everywhere: plans up to 3.4% better and gaps lower on 13 places (Redbridge 5.6% ->
#: 2.6%, Harrow 4.3% -> 1.7%, Lambeth 2.2% -> 1.1%), but the four largest (38,416-48,400 x variables) lost 1-3 of
#: their 6-9 root LPs and their gaps rose (Bromley 6.3% -> 14.2%, Croydon 6.8% -> 9.5%); Enfield (33,489) gained.
HEURISTIC_RUNS_VARIABLES_PER_SECOND = 600
#: Seconds kept back from the MIP's time limit for reading its solution back through PuLP and checking it
#: (places ended ~1 s over a 60 s limit without it; with 1.0, four London places still ended 0.1-0.3 s over:
#: HiGHS finishes the node LP it is in before it looks at its clock).
MIP_READ_BACK = 1.5
#: Share of the time left after the heuristic in which column generation may start master rounds; the plans
#: from its columns (rounding, dive, integer programme) get the rest, and the MIP what they leave. 0.75 -> 0.85
#: (and the last pass's 0.9 -> 0.95, since 0.92: below) once pricing kept its cuts: on the seven London places whose column
#: generation the clock ends at 60 s the MIP after it never wrote the plan nor the bound; ten places side by side,
#: median gap 1.17% -> 1.07%, Barnet 1.36% -> 1.11% (a better plan from the columns), Bromley 1.18% -> 0.89%,
#: Enfield 1.16% -> 1.01%, Croydon proven 0.49%, none worse (BENCHMARKS.md).
COLUMN_ROUNDS_SHARE = 0.85
#: ... and by which its last exact pass must end (a pass cut short still bounds: colgen.Pricing.loose_bound).
#: 0.95 -> 0.92 once the master's integer programme and the polish shared what is left: twelve places at 60 s,
#: the same bounds on all twelve, and Barnet's plan 1.26164 -> 1.25792 (its best known), whose programme needs
#: 1.4 s of a window that had been 1-4 s.
COLUMN_BOUND_SHARE = 0.92
#: With method ``auto``, the MIP follows column generation when at least this many seconds are left (and its
#: model fits them, ``AUTO_VARIABLES_PER_SECOND``). London at 60 s a place: column generation with the time split
#: half and half with the MIP gave a median gap of 2.18%, against 1.31% with the columns alone and 2.83% with
#: the MIP alone, so the MIP gets what column generation leaves (1.27%; BENCHMARKS.md).
MIP_AFTER_COLUMNS_SECONDS = 5.0
#: Heuristic runs (other seeds of the merge-split search) from the master's rounded LP solution.
POLISH_RUNS = 2
#: The first integer programme over the master's columns has this share of the time left to the end; the rest is
#: for the polishing walk and the programme after it (_column_stage).
FIRST_INTEGER_SHARE = 0.6
#: Exact pricing passes of column generation at most (each proves a bound; the last usually closes the LP): a
#: guard, as the clock ends column generation first (at 85% of the time left for master rounds). 12 left time
#: unused once exact pricing kept its cuts: ten London places at 60 s, 12 -> 40, median gap 1.29% -> 1.15%,
#: Sutton 1.79% -> 1.12% (20 passes), Lewisham 2.35% -> 2.22% (18), none worse (BENCHMARKS.md).
COLUMN_EXACT_PASSES = 40
#: ... and with counted work (``SolveOptions.counted``), where nothing else ends it, fixed. 12 -> 18 on ten London
#: places: median gap 0.95% -> 0.94%, worst 2.04% -> 1.46% (Lewisham), 11% more time (676 s -> 752 s, still below
#: the 946 s of 12 passes before pricing kept its cuts).
COUNTED_EXACT_PASSES = 18
#: With counted work a HiGHS MIP (the least-change model of ``footprint repair``, its cut rounds together) stops
#: at one branch-and-bound node per this many seconds of the time limit, in place of its clock. Barnet's repair
#: of today's map at 50 s (one thread, two thirds of a core): 50 nodes took 55 s (36.5 CPU s), bound 64,976
#: residents against the 65,142 optimum; 500 nodes took 200 s to prove the optimum.
COUNTED_SECONDS_PER_MIP_NODE = 1.0
#: Rounds of subset-row cuts (:func:`footprint.colgen.separate_triples`) at most in column generation at the
#: root, each once its LP is nearly converged; the tree's nodes keep the root's cuts. Sutton, one thread, its
#: root's bound: 1.40783 in 42 s without, 1.41224 at 23 s and 1.4221 at 44 s with them (its plan 1.42995, the
#: best known 1.42805).
COLUMN_TRIPLE_ROUNDS = 5
#: Give column generation's master the neighbourhoods of every plan the heuristic's walks accepted (hundreds of
#: distinct plans, 800-1,800 distinct columns on London's large places: Bromley 564 and 1,767), recombined first
#: as an integer programme, so plans can join neighbourhoods of different walks, not only the columns pricing
#: made; and those of the polishing walks' plans (the first walk's before the master's second integer programme).
POOL_COLUMNS = True
#: ... from the start on places of more LSOAs than this (on smaller places they join it once column generation
#: ends, for its integer programme). Where column generation does not converge in the time, the pool's columns
#: give it and the integer programme plans it would not reach: the tenth session's eleven London places at 60 s
#: side by side (BENCHMARKS.md, "Seeding by size, and a record of the best known"), among the six
#: of 150-211 LSOAs, seeded or not: Lewisham 1.88% / 2.00%, Enfield 0.97% / 1.16%, Hillingdon 0.88% / 1.04%,
#: Southwark's plan 1.65762 / 1.66685. On the places of up to 128 LSOAs, where it converges or nearly, the same
#: plans came out either way and every bound was lower seeded (its proof is fragile to the master's first
#: columns): Richmond upon Thames 1.15% / 0.43%, Kensington and Chelsea 0.45% / 0.23%, Sutton 0.45% / 0.42%,
#: Westminster 0.50% / 0.46%. Joining after the first exact pass instead was worse on both (Richmond 1.62%,
#: Lewisham 2.03%).
POOL_SEEDS_MASTER_ABOVE = 140
#: Branch-and-bound nodes of the master solved as an integer programme over its columns.
INTEGER_NODES = 500
#: Branch-and-price (:mod:`footprint.branch`) after the plans from the columns, until the place's time ends.
BRANCH_AND_PRICE = True
#: With counted work (``SolveOptions.counted``), one branch-and-price node per this many seconds of time limit:
#: a node took 4-15 s on London's places of 98-151 LSOAs (column generation from the shared pool, up to
#: ``branch.NODE_EXACT_PASSES`` exact pricing passes), so the tree takes about its share of the limit here.
COUNTED_SECONDS_PER_NODE = 10.0
#: Relative tolerance for a solver bound that lies above a plan's evaluated objective (rounding in the log).
BOUND_TOLERANCE = 1e-6


#: The scenario schema's solver defaults (:class:`footprint.config.Solver`, the one source of every default).
_DEFAULTS = {name: field.default for name, field in Solver.model_fields.items()}


@dataclass(frozen=True)
class SolveOptions:
    """How to solve a place (from the scenario's ``solver`` section; the defaults are its schema's).

    Attributes
    ----------
    method
        ``exact`` (MIP), ``heuristic`` (heuristic only), ``columns`` (heuristic and column generation) or
        ``auto`` (column generation with HiGHS, then the MIP with the time left, unless the model is too large).
    solver
        ``highs``, ``cbc`` or ``auto``.
    time_limit
        Seconds per place, all stages included.
    gap
        Relative optimality gap at which the MIP stops and a plan counts as optimal.
    threads
        Solver threads (1 is deterministic; the default).
    seed
        Seed of the heuristic and of the solver's random choices.
    heuristic_runs
        Most heuristic runs (:func:`footprint.heuristic.solve_heuristic`'s ``runs``: own starts, walks shared out
        across k); the time limit
        allows one per ``SECONDS_PER_HEURISTIC_RUN``, and a large model one (:func:`heuristic_runs`).
    contiguity
        ``cuts``, ``flow`` or ``auto``.
    write_lp
        Write the model as an LP file: a path ending in ``.lp``, or a folder (``<place>.lp`` inside).
    warm_start
        Give the MIP the heuristic's plan as a start (for benchmarks; the plan is kept as an incumbent anyway).
    counted
        No clock: every stage runs to its counts (``time_limit`` only sizes them: heuristic runs, merge-split
        iterations, branch-and-price nodes, the node budget of ``footprint repair``'s least-change model), so the
        result is the same on any machine; method auto is then
        columns (the MIP after column generation stops by its clock). Not with method exact.
    """

    method: Literal["auto", "exact", "heuristic", "columns"] = _DEFAULTS["method"]
    solver: Literal["auto", "highs", "cbc"] = _DEFAULTS["name"]
    time_limit: float = _DEFAULTS["time_limit"]
    gap: float = _DEFAULTS["gap"]
    threads: int = _DEFAULTS["threads"]
    seed: int = _DEFAULTS["seed"]
    heuristic_runs: int = _DEFAULTS["heuristic_runs"]
    contiguity: Literal["auto", "cuts", "flow"] = _DEFAULTS["contiguity"]
    write_lp: str | None = None
    warm_start: bool = True
    counted: bool = _DEFAULTS["counted"]

    def __post_init__(self) -> None:
        if self.counted and self.method == "exact":
            raise ValueError(COUNTED_EXACT_REFUSED)


# ---- feasibility ---------------------------------------------------------------------------------------------


def _label(problem: PlaceProblem) -> str:
    return f"Place {problem.place_code} ({problem.place_name}, {problem.total_population:,} residents)"


def check_feasibility(problem: PlaceProblem) -> list[str]:
    """Reasons the place cannot be split within the rules, in plain words with numbers and a fix.

    Checks the counts the bounds allow, the hubs given, the k range, LSOAs above ``pop_max``, required hubs
    against ``k_max``, locks and LSOAs beyond the access radius, and centres that locks or requirements need but
    that cannot open (no connected neighbourhood of ``pop_min``-``pop_max`` around them).

    Returns
    -------
    list of str
        One sentence per problem (empty when none is found; the solver may still prove infeasibility).
    """
    reasons: list[str] = []
    total = problem.total_population
    label = _label(problem)
    bounds = f"{problem.pop_min:,}-{problem.pop_max:,}"
    if problem.n_units == 0:
        return [f"{label} has no LSOAs."]
    need = math.ceil(total / problem.pop_max) if problem.pop_max > 0 else problem.n_units
    most = total // problem.pop_min if problem.pop_min > 0 else problem.n_units
    bounds_ok = need <= most
    if not bounds_ok:
        if total < problem.pop_min:
            reasons.append(
                f"{label} is smaller than one neighbourhood of {bounds}: plan it with a neighbouring borough "
                f"(inputs.places.merge) or set pop.min <= {total:,}."
            )
        else:
            reasons.append(
                f"{label} cannot be split into whole neighbourhoods of {bounds}: {need} would be needed for the "
                f"maximum but at most {most} fit the minimum. Widen the bounds (e.g. pop.min <= {total // need:,})."
            )
    hubs_short = problem.centre_kind == "hub" and problem.n_centres < need
    if hubs_short:
        reasons.append(
            f"{label} cannot be split into neighbourhoods of {bounds} with the {problem.n_centres} hubs given: at "
            f"least {need} are needed. Add hubs, or set pop.max >= {math.ceil(total / max(problem.n_centres, 1)):,}."
        )
    if problem.k_min > problem.k_max and bounds_ok and not hubs_short:
        reasons.append(
            f"{label}: the range of neighbourhood counts is empty ({problem.k_min} > {problem.k_max}) after "
            f"applying k.min/k.max; the bounds allow {need}-{min(most, problem.n_units)}. Set k within that range."
        )
    big = np.flatnonzero(problem.population > problem.pop_max)
    if len(big):
        codes = ", ".join(f"{problem.unit_codes[i]} ({problem.population[i]:,})" for i in big[:5])
        more = f" and {len(big) - 5} more" if len(big) > 5 else ""
        reasons.append(
            f"{label}: LSOAs larger than pop.max {problem.pop_max:,}: {codes}{more}; raise pop.max."
        )
    required = int(problem.centre_required.sum())
    if required > problem.k_max:
        reasons.append(
            f"{label}: {required} hubs are required but at most {problem.k_max} neighbourhoods fit; "
            "drop some `required` flags or raise k.max."
        )
    radius = problem.max_distance_km
    if radius is not None:
        for unit, centre in problem.locks:
            distance = float(problem.distance_km[unit, centre])
            if distance > radius:
                reasons.append(
                    f"{label}: {problem.unit_codes[unit]} is locked to hub {problem.centre_ids[centre]} "
                    f"{distance:.1f} km away, beyond access.max_distance_km {radius:g}; fix the lock or raise "
                    "the radius."
                )
        stranded = np.flatnonzero(~allowed_matrix(problem).any(axis=1))
        if len(stranded):
            codes = ", ".join(problem.unit_codes[i] for i in stranded[:5])
            reasons.append(
                f"{label}: {len(stranded)} LSOAs have no centre within access.max_distance_km {radius:g} "
                f"({codes}); raise the radius or add hubs."
            )
    if not reasons:
        reasons += _unopenable(problem, label, bounds)
    return reasons


def _unopenable(problem: PlaceProblem, label: str, bounds: str) -> list[str]:
    """Locks and required hubs whose centre cannot open, and LSOAs no centre can reach (model-level screen)."""
    reasons: list[str] = []
    allowed = define_access(problem)
    openable = allowed.any(axis=0)
    needed = {int(c): "is required" for c in np.flatnonzero(problem.centre_required)}
    for unit, centre in problem.locks:
        needed.setdefault(centre, f"has {problem.unit_codes[unit]} locked to it")
    for centre, why in sorted(needed.items()):
        if not openable[centre]:
            root = problem.unit_codes[int(problem.centre_root[centre])]
            reasons.append(
                f"{label}: hub {problem.centre_ids[centre]} {why}, but no connected neighbourhood of {bounds} "
                f"can be formed around its LSOA {root}{' within the access radius' if problem.max_distance_km else ''}"
                "; move the hub, drop the requirement or lock, or widen the bounds."
            )
    for unit, centre in problem.locks:
        if openable[centre] and not allowed[unit, centre]:
            reasons.append(
                f"{label}: {problem.unit_codes[unit]} is locked to hub {problem.centre_ids[centre]}, but no "
                f"connected neighbourhood of at most {problem.pop_max:,} can hold both; fix the lock or raise "
                "pop.max."
            )
    unreached = np.flatnonzero(~allowed.any(axis=1))
    if len(unreached) and not reasons:
        codes = ", ".join(problem.unit_codes[i] for i in unreached[:5])
        reasons.append(
            f"{label}: {len(unreached)} LSOAs cannot join any neighbourhood of {bounds} around a candidate "
            f"centre ({codes}); add hubs near them or widen the bounds."
        )
    return reasons


# ---- solvers ---------------------------------------------------------------------------------------------------


@dataclass
class RoundResult:
    """What one solver call produced.

    Attributes
    ----------
    state
        ``optimal`` (stopped within the gap), ``target`` (stopped at a plan the bound proved before the MIP, by
        column generation, already puts within the gap), ``stopped`` (time limit), ``infeasible``, or ``failed``.
    bound
        Valid lower bound on this round's model (``nan`` when unknown).
    has_plan
        Whether the variables hold an integer-feasible plan of this round's model.
    detail
        The solver's own status words.
    build
        Seconds spent building the solver's model before it started (PuLP rebuilds it every round).
    nodes
        Branch-and-bound nodes the MIP solved (HiGHS; 0 when unknown).
    """

    state: Literal["optimal", "target", "stopped", "infeasible", "failed"]
    bound: float = math.nan
    has_plan: bool = False
    detail: str = ""
    build: float = 0.0
    nodes: int = 0


def load_highs(h: object, lp: pulp.LpProblem, *, integer: bool) -> list[pulp.LpVariable]:
    """Load ``lp`` into the highspy model ``h`` in two batched calls; set each variable's and row's ``index``.

    With ``integer`` False the integrality of binaries is dropped (the LP relaxation; binaries keep their
    [0, 1] bounds). Returns the variables in column order.
    """
    import highspy

    variables, lower, upper, costs = column_arrays(lp)
    n = len(variables)
    h.addVars(n, lower, upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
    h.changeObjectiveOffset(float(lp.objective.constant))
    discrete = np.array([v.index for v in variables if v.cat == pulp.LpInteger], dtype=np.int32)
    if integer and len(discrete):
        h.changeColsIntegrality(
            len(discrete), discrete, np.full(len(discrete), highspy.HighsVarType.kInteger, dtype=np.uint8)
        )
    add_highs_rows(h, list(lp.constraints.values()), first_row=0)
    return variables


def add_highs_rows(h: object, constraints: list[pulp.LpConstraint], *, first_row: int) -> None:
    """Append ``constraints`` (over variables already loaded by :func:`load_highs`) to ``h`` in one call."""
    import highspy

    inf = highspy.kHighsInf
    starts, indices, values, row_lower, row_upper = [], [], [], [], []
    for row, constraint in enumerate(constraints, start=first_row):
        constraint.index = row
        starts.append(len(indices))
        for var, coefficient in constraint.items():
            if coefficient != 0:
                indices.append(var.index)
                values.append(coefficient)
        lb, ub = constraint.getLb(), constraint.getUb()
        row_lower.append(-inf if lb is None else lb)
        row_upper.append(inf if ub is None else ub)
    if starts:
        h.addRows(
            len(starts),
            np.array(row_lower, dtype=float),
            np.array(row_upper, dtype=float),
            len(indices),
            np.array(starts, dtype=np.int32),
            np.array(indices, dtype=np.int32),
            np.array(values, dtype=float),
        )


class _Highs(pulp.HiGHS):
    """PuLP's highspy interface with a batched model build, a warm start, and the MIP's status and dual bound.

    PuLP 3.3's ``HiGHS`` adds columns and rows one at a time, ignores start values and the objective's constant,
    and reports a time-limited MIP as optimal; this subclass fixes all four. With a ``deadline``
    (``time.perf_counter()`` time) the time limit is set when the solve starts, net of the model's build.
    """

    def __init__(self, *, start: bool = True, deadline: float | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.start = start
        self.deadline = deadline
        self.result = RoundResult(state="failed")
        #: whether the plan HiGHS handed back was its start rather than the optimum it reported (see actualSolve)
        self.stale = False
        self.created = time.perf_counter()
        self.build = 0.0

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        with _stdout_to_null():  # PuLP constructs the Highs object: its banner would reach stdout (new_highs)
            super().createAndConfigureSolver(lp)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        # HiGHS keeps one thread pool per process, sized by the first run; a later run asking for another
        # number of threads fails with status "Not Set" unless the pool is reset first.
        lp.solverModel.resetGlobalScheduler(True)
        self.build = time.perf_counter() - self.created
        if self.deadline is not None:
            # the time limit counts from here, after PuLP built the model (1-3 s on London's places, which
            # otherwise ran over the place's limit by as much)
            lp.solverModel.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 0.1))
        super().callSolver(lp)

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        import highspy

        variables = load_highs(lp.solverModel, lp, integer=True)
        start = [v.varValue for v in variables]
        if self.start and all(value is not None for value in start):
            solution = highspy.HighsSolution()
            solution.col_value = [float(value) for value in start]
            solution.value_valid = True
            lp.solverModel.setSolution(solution)

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        try:
            return super().findSolutionValues(lp)
        except KeyError:
            # PuLP 3.3 has no status for a node limit (mip_max_nodes, counted work: HiGHS's kSolutionLimit); its
            # values are read back by then, and the state is set from HiGHS's own status in actualSolve
            import highspy

            if lp.solverModel.getModelStatus() != highspy.HighsModelStatus.kSolutionLimit:
                raise
            if int(lp.solverModel.getInfo().primal_solution_status) == 2:  # kSolutionStatusFeasible
                return pulp.constants.LpStatusOptimal, pulp.constants.LpSolutionIntegerFeasible
            return pulp.constants.LpStatusNotSolved, pulp.constants.LpSolutionNoSolutionFound

    def actualSolve(self, lp: pulp.LpProblem) -> int:
        import highspy

        status = super().actualSolve(lp)
        h = lp.solverModel
        info = h.getInfo()
        model_status = h.getModelStatus()
        has_plan = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
        if has_plan and self.start:
            # HiGHS 1.16 can report the optimum's objective while its solution still holds the start it was given
            # (seen when presolve solves the model): a plan whose price is not the reported objective is stale
            lp_model = h.getLp()
            priced = float(np.dot(lp_model.col_cost_, h.getSolution().col_value) + lp_model.offset_)
            reported = float(info.objective_function_value)
            self.stale = abs(priced - reported) > 1e-7 * max(1.0, abs(reported))
        bound = float(info.mip_dual_bound)
        statuses = highspy.HighsModelStatus
        if model_status == statuses.kOptimal:
            state = "optimal"
        elif model_status == statuses.kObjectiveTarget:
            state = "target"
        elif model_status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
            state = "infeasible"
        elif model_status in (
            statuses.kTimeLimit,
            statuses.kIterationLimit,
            statuses.kSolutionLimit,  # mip_max_nodes (counted work)
            statuses.kInterrupt,
        ):
            state = "stopped"
        else:
            state = "failed"
        self.result = RoundResult(
            state=state,
            bound=bound if math.isfinite(bound) else math.nan,
            has_plan=has_plan,
            detail=h.modelStatusToString(model_status),
            build=self.build,
            nodes=int(info.mip_node_count),
        )
        return status


def solver_version(name: str) -> str:
    """Human name and version of a solver (``HiGHS 1.15.0``, ``CBC 2.10.x (PuLP 3.3.2)``)."""
    if name == "highs":
        h = new_highs()
        return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    return f"CBC (bundled with PuLP {pulp.__version__})"


def solver_available(name: str) -> bool:
    """Whether ``highs`` (highspy importable) or ``cbc`` (PuLP's bundled binary) can run here."""
    if name == "highs":
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True
    return bool(pulp.PULP_CBC_CMD(msg=False).available())


def _run_highs(
    model: PlaceModel,
    options: SolveOptions,
    time_left: float,
    warm: bool,
    target: float = -math.inf,
    nodes: int | None = None,
) -> RoundResult:
    """One HiGHS MIP solve of ``model``; it stops at a plan of objective ``target`` or less (``objective_target``:
    a plan the bound proved before this solve already puts within the gap). With counted work it stops at
    ``nodes`` branch-and-bound nodes (default: those of ``time_left``, :func:`counted_mip_nodes`) and has no time
    limit: HiGHS's MIP is deterministic at a fixed number of threads."""
    started = time.perf_counter()
    if options.counted:
        limits = {"mip_max_nodes": counted_mip_nodes(time_left) if nodes is None else max(int(nodes), 1)}
    else:
        limits = {}
    solver = _Highs(
        start=warm,
        # the time limit is set from the deadline in callSolver
        deadline=None if options.counted else time.perf_counter() + time_left - MIP_READ_BACK,
        msg=False,
        gapRel=options.gap,
        threads=options.threads,
        random_seed=options.seed,
        mip_feasibility_tolerance=1e-7,
        objective_target=target,
        **limits,
    )
    model.lp.solve(solver)
    if solver.stale:  # the plan read back is the start, not the solver's optimum: solve again without a start
        logger.debug(
            "place %s: HiGHS returned its start as the plan; solving again without it",
            model.problem.place_code,
        )
        return _run_highs(
            model, options, max(time_left - (time.perf_counter() - started), 0.1), False, target, nodes
        )
    return solver.result


_CBC_BEST_POSSIBLE = re.compile(r"best possible ([-+0-9.eE]+)")


class _Cbc(pulp.PULP_CBC_CMD):
    """PuLP's CBC command with its time limit set net of the model's build, as :class:`_Highs` does.

    PuLP writes the model (MPS, and the start for a warm start) before it puts ``-sec`` on CBC's command line; with
    a ``deadline`` (``time.perf_counter()`` time) the limit is taken there, so the files' writing (seconds on
    London's places) is not spent past the place's limit, and ``build`` records it for the next round's guard.
    """

    def __init__(self, *, deadline: float, **kwargs: object) -> None:
        # a provisional limit until the files are written (_built then sets the real one)
        super().__init__(timeLimit=max(deadline - time.perf_counter(), 0.1), **kwargs)
        self.deadline = deadline
        self.created = time.perf_counter()
        self.build = 0.0

    def _built(self) -> None:
        self.build = time.perf_counter() - self.created
        self.timeLimit = max(self.deadline - time.perf_counter(), 0.1)

    def solve_CBC(self, lp: pulp.LpProblem, use_mps: bool = True) -> int:
        write = lp.writeMPS

        def write_then_time(*args: object, **kwargs: object) -> object:
            written = write(*args, **kwargs)
            self._built()
            return written

        lp.writeMPS = write_then_time  # type: ignore[method-assign]
        try:
            return super().solve_CBC(lp, use_mps)
        finally:
            del lp.writeMPS

    def writesol(self, *args: object, **kwargs: object) -> bool:
        written = super().writesol(*args, **kwargs)
        self._built()
        return written


def _run_cbc(model: PlaceModel, options: SolveOptions, time_left: float, warm: bool) -> RoundResult:
    """Solve with CBC; its dual bound is read from the log's last ``best possible`` (8 significant digits)."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "cbc.log"
        solver = _Cbc(
            deadline=time.perf_counter() + time_left - MIP_READ_BACK,
            msg=False,
            gapRel=options.gap,
            threads=options.threads,
            warmStart=warm,
            logPath=str(log),
            options=[f"randomSeed {options.seed + 1}", f"randomCbcSeed {options.seed + 1}"],
        )
        status = model.lp.solve(solver)
        text = log.read_text(errors="replace") if log.exists() else ""
    constant = float(model.lp.objective.constant)
    has_plan = model.lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    build = solver.build
    if status == pulp.LpStatusInfeasible or "Problem proven infeasible" in text:
        return RoundResult(state="infeasible", build=build)
    bound = math.nan
    found = _CBC_BEST_POSSIBLE.findall(text)
    if found:
        bound = float(found[-1]) + constant
    if "Result - Optimal solution found" in text:
        value = pulp.value(model.lp.objective)
        if value is not None and has_plan:
            # CBC never sees the objective's constant (PuLP leaves it out of the MPS file), so its stopping rule is
            # (best' - bound') <= gapRel |best'| with best' = value - constant; with gapRel 0 the plan is the bound
            proven = float(value) - options.gap * abs(float(value) - constant)
            bound = proven if math.isnan(bound) else max(bound, proven)
        return RoundResult(state="optimal", bound=bound, has_plan=has_plan, build=build)
    if "Stopped on time" in text or "Stopped on iterations" in text:
        return RoundResult(state="stopped", bound=bound, has_plan=has_plan, build=build)
    return RoundResult(
        state="failed", bound=bound, has_plan=has_plan, detail=f"PuLP status {status}", build=build
    )


def heuristic_runs(options: SolveOptions, variables: int = 0) -> int:
    """Independent heuristic runs for a place: one per ``SECONDS_PER_HEURISTIC_RUN`` of the limit, at least one,
    at most ``options.heuristic_runs``; one when the MIP that follows has ``variables`` x variables (0: no MIP
    follows) and they exceed ``HEURISTIC_RUNS_VARIABLES_PER_SECOND`` per second of the limit (its root loop
    needs the time)."""
    if variables > HEURISTIC_RUNS_VARIABLES_PER_SECOND * options.time_limit:
        return 1
    return max(1, min(options.heuristic_runs, int(options.time_limit // SECONDS_PER_HEURISTIC_RUN)))


def heuristic_share(problem: PlaceProblem, options: SolveOptions, runs: int) -> float:
    """Share of the time limit after which the heuristic starts nothing new when a MIP follows: a quarter, or
    the time its ``runs`` may take on a slow machine (``HEURISTIC_SECONDS_PER_UNIT`` per LSOA a run), at most
    ``HEURISTIC_TIME_SHARE_MAX``. A guard, not a budget: the runs and iterations are counts, and the MIP gets
    whatever time the heuristic leaves."""
    expected = runs * HEURISTIC_SECONDS_PER_UNIT * problem.n_units
    return min(HEURISTIC_TIME_SHARE_MAX, max(HEURISTIC_TIME_SHARE, expected / max(options.time_limit, 1e-9)))


def tree_nodes(options: SolveOptions) -> int:
    """Branch-and-price nodes for a place: ``branch.MAX_NODES`` under a clock (which binds first on London's
    places), one per ``COUNTED_SECONDS_PER_NODE`` of the time limit with counted work (no clock to stop it)."""
    if not options.counted:
        return MAX_NODES
    return max(1, int(options.time_limit // COUNTED_SECONDS_PER_NODE))


def counted_mip_nodes(seconds: float) -> int:
    """Branch-and-bound nodes that stand for ``seconds`` of a time limit in counted work (HiGHS's
    ``mip_max_nodes`` in place of its clock): one per ``COUNTED_SECONDS_PER_MIP_NODE``, at least one."""
    return max(1, int(seconds / COUNTED_SECONDS_PER_MIP_NODE))


def recombine_budget(options: SolveOptions) -> int:
    """Merge-split iterations for the heuristic: the full count from ``RECOMBINE_FULL_AT`` seconds, a share below."""
    share = min(1.0, options.time_limit / RECOMBINE_FULL_AT)
    return round(RECOMBINE_ITERATIONS * share)


def _choose_solver(options: SolveOptions) -> str:
    """The solver asked for, else HiGHS when importable (measured never slower, see the module docstring)."""
    if options.solver in ("highs", "cbc"):
        return options.solver
    return "highs" if solver_available("highs") else "cbc"


def _choose_contiguity(options: SolveOptions) -> Literal["cuts", "flow"]:
    """The formulation asked for, else cuts (measured faster than flow for LSOA and hub centres alike)."""
    if options.contiguity in ("cuts", "flow"):
        return options.contiguity
    return "cuts"


def _write_lp(model: PlaceModel, target: str) -> None:
    """Write the place's MIP model to ``target``: a path ending in ``.lp``, or a folder (``<place>.lp`` in it)."""
    path = Path(target)
    code = model.problem.place_code
    written = model.write_lp(path if path.suffix == ".lp" else path / f"{code}.lp")
    logger.info("place %s: model written to %s", code, written)


# ---- the driver ------------------------------------------------------------------------------------------------


def _column_stage(
    problem: PlaceProblem,
    best: _Best,
    pool: tuple[np.ndarray, ...],
    deadline: float | None,
    bound_by: float | None,
    end: float | None,
    options: SolveOptions,
) -> dict[str, int]:
    """Column generation over whole neighbourhoods (:mod:`footprint.colgen`): first the neighbourhoods of the
    heuristic walks' plans (``pool``) recombined as an integer programme, then raise the bound from all of them,
    then offer the plans from its columns (the master as an integer programme over the columns that could
    better the incumbent, with ``FIRST_INTEGER_SHARE`` of the time to ``end``; the rounded LP solution polished
    by the heuristic, or a start grown from the LP's centres when no rounded one can be repaired
    (:func:`_polish_starts`), ``POLISH_RUNS`` times, the programme again after the first walk, over its plans'
    neighbourhoods too; a dive), then branch and price
    (``BRANCH_AND_PRICE``), stopping once a plan is proven within the gap. Every limit is a count; the
    ``deadline`` is a guard (a note says when it bound; one exact pass may run on to ``bound_by`` when no bound
    was proved by then; the plans from the columns may run to ``end``); all three are None with
    ``options.counted``. Returns the counts for the decision record."""
    started = time.perf_counter()

    def past_end() -> bool:
        return end is not None and time.perf_counter() >= end

    stats: dict[str, int] = {}
    pricing = Pricing(problem)
    if pool:
        # the walks' neighbourhoods recombined first (a second on London's largest places), so column generation
        # starts from the better plan and stops sooner when it proves it
        seconds = None if end is None else max(end - time.perf_counter(), 0.1)
        known = [best.assignment] if best.assignment is not None else []
        plan = recombine_plans(pricing, [*known, *pool], INTEGER_NODES, seconds=seconds)
        if plan is not None:
            best.offer(problem, plan, "columns")
    plans = [best.assignment] if best.assignment is not None else []
    seeded = problem.n_units > POOL_SEEDS_MASTER_ABOVE
    if seeded:
        plans += list(pool)  # the heuristic walks' plans: their neighbourhoods seed the master
    # the bound that proves the incumbent within the gap is enough: column generation stops there
    enough = best.objective * (1 - options.gap) if math.isfinite(best.objective) else math.inf
    result, master = generate_columns(
        problem,
        plans,
        deadline=deadline,
        end=bound_by,
        exact_passes=COUNTED_EXACT_PASSES if options.counted else COLUMN_EXACT_PASSES,
        enough=enough,
        triple_rounds=COLUMN_TRIPLE_ROUNDS,
        pricing=pricing,
    )
    best.raise_bound(result.bound)
    stopped = result.stopped
    if not best.proven_within(options.gap):
        if not seeded:
            master.add_plans(pool)
        # the master over its columns as an integer programme, with a share of the time left, then the master's
        # LP solution rounded and polished by the heuristic, then the programme again over the polishing walk's
        # neighbourhoods too: the programme is quick where the incumbent is near the LP (Barnet: 1.4 s, its best
        # plan) but can take all the time left where it is far above (Southwark at seed 1: 11.5 s over 2,970
        # columns to confirm the heuristic's 1.68808), where a polish finds better in about a second (1.65762,
        # the best known, in 0.6 s) and the programme after it needs 0.3 s
        values = _integer_plan(problem, master, best, end, share=FIRST_INTEGER_SHARE)
        starts = _polish_starts(problem, master, values)
        for run in range(POLISH_RUNS):
            if best.proven_within(options.gap):
                break
            walked = _polish(problem, best, starts, options.seed + run, end, options)
            if walked is None:  # the clock, not the counts, ended the plans from the columns here
                stopped = True
                break
            # the walks from the LP's rounded solution roam where the heuristic's did not: their neighbourhoods
            # join the master (for the dive and the tree), which after the first walk recombines them with the
            # rest
            master.add_plans(walked)
            if run == 0 and walked and not best.proven_within(options.gap) and not past_end():
                _integer_plan(problem, master, best, end)
        if not best.proven_within(options.gap):
            if past_end():
                stopped = True
            else:
                plan = dive(master, deadline=end)
                stopped = stopped or past_end()
                if plan is not None:
                    best.offer(problem, plan, "columns")
        # the tree needs time a node: at 60 s on London's places it solves one node (its root's column
        # generation goes on), where the MIP after it proves some small places (Merton 0.30% against 0.94%); so
        # auto branches only from a converged root, and method columns (and counted work, where auto is columns)
        # always
        tree_wanted = options.method == "columns" or options.counted or result.converged
        branching = tree_wanted and BRANCH_AND_PRICE and not best.proven_within(options.gap)
        if branching and past_end():
            stopped = True
        elif branching:

            def offer(assignment: np.ndarray) -> float:
                best.offer(problem, assignment, "columns")
                return best.objective

            tree = branch_and_price(
                problem,
                master,
                result,
                offer,
                lambda: best.objective * (1 - options.gap),
                nodes=tree_nodes(options),
                deadline=end,
            )
            best.raise_bound(tree.bound)
            stopped = stopped or tree.stopped
            stats = {"tree_nodes": tree.nodes, "tree_open_nodes": tree.open, "tree_plans": tree.plans}
    if stopped:
        best.notes.append(
            "column generation stopped at its share of the time limit before its counted rounds (this plan and "
            "bound depend on the machine's speed; allow more time with --time-limit)"
        )
    logger.debug("place %s: columns %s in %.1f s", problem.place_code, result, time.perf_counter() - started)
    return {
        "columns": result.columns,
        "column_rounds": result.rounds,
        "exact_pricing_passes": result.exact_passes,
        "pricing_nodes": result.pricing_nodes,
        "subset_row_cuts": result.triples,
        "column_lp_converged": int(result.converged),
        **stats,
    }


def _polish(
    problem: PlaceProblem,
    best: _Best,
    starts: list[Callable[[], np.ndarray | None]],
    seed: int,
    end: float | None,
    options: SolveOptions,
) -> Sequence[np.ndarray] | None:
    """Polish the first of ``starts`` (:func:`_polish_starts`) that :func:`polish_plan` can repair, offer its plan
    and return the plans its walk accepted (none when no start can be repaired); None when ``end`` came first or
    stopped the walk (its plan is offered all the same)."""
    for start in starts:
        if end is not None and time.perf_counter() >= end:
            return None
        assignment = start()
        if assignment is None:
            continue
        polished = polish_plan(
            problem,
            assignment,
            seed=seed,
            recombine=recombine_budget(options),
            deadline=end,
            keep_visited=POOL_COLUMNS,
        )
        if polished is not None:
            best.offer(problem, polished.assignment, "columns")
            return None if polished.stopped else polished.visited
    return []


def _integer_plan(
    problem: PlaceProblem, master: Master, best: _Best, end: float | None, share: float = 1.0
) -> np.ndarray:
    """Offer the best plan of the master's columns as an integer programme (:meth:`Master.integer_plan`, only
    the columns that could be in a plan better than the incumbent: seconds where all of them took up to 13 s),
    guarded by ``share`` of the time to ``end``. Returns the master LP's solution (the programme solves a copy)."""
    value, duals, values, _ = master.solve()
    if end is not None and time.perf_counter() >= end:
        return values
    seconds = None if end is None else max(share * (end - time.perf_counter()), 0.1)
    within = max(best.objective - value, 0.0) if math.isfinite(best.objective) else math.inf
    plan = master.integer_plan(INTEGER_NODES, seconds=seconds, duals=duals, within=within)
    if plan is not None:
        best.offer(problem, plan, "columns")
    return values


def _polish_starts(
    problem: PlaceProblem, master: Master, values: np.ndarray
) -> list[Callable[[], np.ndarray | None]]:
    """The starts :func:`_polish` tries in turn, from the master's solution ``values``: the rounded solution at
    each k of :func:`_rounded_starts`, then the heuristic's growth from the k centres the solution opens most
    (:func:`footprint.heuristic.grow_from_centres`), at the same k. The rounded starts are made now (the master's
    columns grow after); a grown start when first asked for, once."""
    rounded = _rounded_starts(master, values)
    starts: list[Callable[[], np.ndarray | None]] = [functools.partial(np.copy, start) for start in rounded]
    for k in _start_ks(master, values):
        centres = master.weighted_centres(values, k)
        if centres is not None:
            starts.append(functools.cache(functools.partial(grow_from_centres, problem, centres)))
    return starts


def _rounded_starts(master: Master, values: np.ndarray) -> list[np.ndarray]:
    """Starts for polish_plan from the master's solution: rounded (:meth:`Master.rounded`) at each k of
    :func:`_start_ks`."""
    return [master.rounded(values, k) for k in _start_ks(master, values)]


def _start_ks(master: Master, values: np.ndarray) -> list[int]:
    """The numbers of neighbourhoods to start from: the master's solution's rounded, then the other whole number
    next to it (Greenwich's LP at 60 s uses 8.67: 9 neighbourhoods cannot all reach 30,000 residents around the 9
    centres it weighs most, and the repair fails; 8 can); into the k range, once each."""
    p = master.pr.problem
    opened = float(values.sum())  # every column is one neighbourhood
    first = round(opened)
    ks = [first]
    if abs(opened - first) > 1e-6:  # fractional: the other whole number beside it
        ks.append(math.floor(opened) if first > opened else math.ceil(opened))
    return list(dict.fromkeys(min(max(k, p.k_min), p.k_max) for k in ks))


@dataclass
class _Best:
    """The incumbent: the best valid plan so far, who found it, and the best bound proved."""

    assignment: np.ndarray | None = None
    objective: float = math.inf
    source: str = "none"
    bound: float = math.nan
    notes: list[str] = field(default_factory=list)
    heuristic_runs: int = 0

    def offer(self, problem: PlaceProblem, assignment: np.ndarray, source: str) -> bool:
        """Keep ``assignment`` if it is valid and better; return whether it was kept."""
        broken = check_plan(problem, assignment)
        if broken:
            logger.warning("place %s: %s plan rejected: %s", problem.place_code, source, "; ".join(broken))
            return False
        objective = weighted_objective(problem, evaluate_terms(problem, assignment))
        if objective < self.objective - 1e-12:
            self.assignment, self.objective, self.source = assignment.copy(), objective, source
            return True
        return False

    def raise_bound(self, bound: float) -> None:
        if math.isfinite(bound):
            self.bound = bound if math.isnan(self.bound) else max(self.bound, bound)

    def proven_within(self, gap: float) -> bool:
        """Whether the incumbent is proven within ``gap`` of the best possible plan."""
        return math.isfinite(self.gap()) and self.gap() <= gap

    def gap(self) -> float:
        if self.assignment is None or math.isnan(self.bound):
            return math.nan
        return max(0.0, (self.objective - self.bound) / max(abs(self.objective), 1e-9))


def solve_place(problem: PlaceProblem, options: SolveOptions | None = None) -> PlaceSolution:
    """The best plan we can find, and prove, for one place (see the module docstring).

    Parameters
    ----------
    problem
        The place.
    options
        How to solve it (defaults: :class:`SolveOptions`).

    Returns
    -------
    PlaceSolution
        Status, plan, objective recomputed from the plan, bound, gap, terms, method, solver, seconds per stage
        (``screen``, ``heuristic``, ``model``, ``solve``), cut rounds, and a message.

    Raises
    ------
    SolverError
        When the model does not fit in memory.
    """
    options = options or SolveOptions()
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    reasons = check_feasibility(problem)
    seconds["screen"] = time.perf_counter() - started
    if reasons:
        return _empty(problem, "infeasible", " ".join(reasons), "screen", "", seconds)

    # the heuristic's share of the limit: a quarter when a MIP follows, else all of it (--method heuristic, or a
    # model too large for the time: the synthetic England's places of 160+ LSOAs at 6 s)
    share, allowed, access_seconds, size = 1.0, None, 0.0, 0
    if options.method != "heuristic":
        clock = time.perf_counter()
        allowed = define_access(problem)
        size = int(allowed.sum())
        access_seconds = time.perf_counter() - clock
        # whether a MIP could follow, judged on the least the heuristic leaves it (its guard may take more on a
        # large place, heuristic_share; the check of the time actually left below then skips the MIP)
        mip_time = (1 - HEURISTIC_TIME_SHARE) * options.time_limit
        if options.method == "exact" or (
            size <= AUTO_EXACT_MAX_VARIABLES and size <= AUTO_VARIABLES_PER_SECOND * mip_time
        ):
            share = HEURISTIC_TIME_SHARE
    clock = time.perf_counter()
    best = _Best()
    runs = heuristic_runs(options, size if share < 1 else 0)  # share 1: no MIP follows
    if share < 1:
        share = heuristic_share(problem, options, runs)
    columns_first = options.method == "columns" or (
        options.method == "auto" and (share < 1 or options.counted)
    )
    heuristic = solve_heuristic(
        problem,
        seed=options.seed,
        recombine=recombine_budget(options),
        deadline=None if options.counted else started + share * options.time_limit,
        runs=runs,
        keep_visited=columns_first and POOL_COLUMNS,
    )
    best.heuristic_runs = runs if heuristic is None else heuristic.runs
    if heuristic is not None:
        best.offer(problem, heuristic.assignment, "heuristic")
        if heuristic.stopped:
            best.notes.append(
                f"the heuristic stopped at {share:.0%} of the time limit before its last starts or merge-split "
                "iterations (this plan depends on the machine's speed; allow more time with --time-limit)"
            )
    seconds["heuristic"] = time.perf_counter() - clock
    if options.method == "heuristic":
        return _finish(problem, best, "heuristic", "", seconds, 0, options)

    column_stats: dict[str, int] = {}
    # method auto where a MIP could follow: column generation first, then the MIP with the time it leaves (it
    # stops early once its counts are spent), warm-started from the best plan and stopping at any plan the
    # columns' bound proves within the gap
    if columns_first and solver_available("highs"):
        clock = time.perf_counter()
        time_left = options.time_limit - (clock - started)
        pool = heuristic.visited if heuristic is not None else ()
        if options.counted:  # no clock: the counts decide
            deadlines: tuple[float | None, float | None, float | None] = (None, None, None)
        else:
            deadlines = (
                clock + COLUMN_ROUNDS_SHARE * time_left,
                clock + COLUMN_BOUND_SHARE * time_left,
                started + options.time_limit - MIP_READ_BACK,
            )
        try:
            column_stats = _column_stage(problem, best, pool, *deadlines, options)
        except Exception as error:  # a bug in the stage must not cost the place the plan it has
            logger.warning("place %s: column generation failed: %r", problem.place_code, error)
            logger.debug("place %s: column generation's traceback", problem.place_code, exc_info=True)
            best.notes.append(
                f"column generation failed ({type(error).__name__}: {error}); the plan and bound are those found "
                "before it (an internal error: please report it with the log of --debug)"
            )
        seconds["columns"] = time.perf_counter() - clock
        proven = best.proven_within(options.gap)
        time_left = options.time_limit - (time.perf_counter() - started)
        if (
            options.method == "columns"
            or options.counted
            or proven
            or time_left < MIP_AFTER_COLUMNS_SECONDS
            or size > AUTO_VARIABLES_PER_SECOND * time_left
        ):
            if proven:
                best.notes.append("proven by column generation")
            if options.write_lp and allowed is not None:  # the MIP's model, asked for though it did not run
                _write_lp(
                    build_model(problem, contiguity=_choose_contiguity(options), allowed=allowed),
                    options.write_lp,
                )
            label = solver_version("highs")
            return replace(_finish(problem, best, "columns", label, seconds, 0, options), model=column_stats)

    if options.counted:  # without HiGHS (runs stop at check_solver first): no counted stage follows
        best.notes.append("counted work needs HiGHS for column generation; the heuristic's plan")
        return _finish(problem, best, "heuristic", "", seconds, 0, options)
    assert allowed is not None
    clock = time.perf_counter() - access_seconds  # the model stage includes the access rules above
    time_left = options.time_limit - (time.perf_counter() - started)
    if options.method == "auto" and size > AUTO_EXACT_MAX_VARIABLES:
        best.notes.append(f"model too large for exact solving ({size:,} variables); heuristic plan")
        seconds["model"] = time.perf_counter() - clock
        return _finish(problem, best, "heuristic", "", seconds, 0, options)
    if (
        options.method == "auto"
        and best.assignment is not None
        and size > AUTO_VARIABLES_PER_SECOND * time_left
    ):
        # building the model alone would use most of the time left (measured ~10,000 x variables a second)
        best.notes.append(
            f"the time left after the heuristic is too little for a model of {size:,} variables; heuristic plan "
            "(allow more time with --time-limit for a bound)"
        )
        seconds["model"] = time.perf_counter() - clock
        return _finish(problem, best, "heuristic", "", seconds, 0, options)
    name = _choose_solver(options)
    if not solver_available(name):
        other = "cbc" if name == "highs" else "highs"
        message = f"the {name} solver is not available here; install it or use --solver {other}"
        return _empty(problem, "error", message, "", name, seconds)
    contiguity = _choose_contiguity(options)
    try:
        model = build_model(problem, contiguity=contiguity, allowed=allowed)
    except MemoryError as error:  # pragma: no cover - depends on the machine
        raise SolverError(
            f"Place {problem.place_code}: the model does not fit in memory ({error}); use --method heuristic"
        ) from None
    if options.write_lp:
        _write_lp(model, options.write_lp)
    seconds["model"] = time.perf_counter() - clock

    method = f"mip-{contiguity}"
    label = solver_version(name)
    cutoff = math.inf
    root = RootResult()
    if solver_available("highs"):
        clock = time.perf_counter()
        time_left = max(options.time_limit - (clock - started), 0.0)
        root = strengthen_root(
            model,
            options,
            clock + ROOT_TIME_SHARE * time_left,
            incumbent=best.objective,
            handoff_gap=ROOT_HANDOFF_GAP,
            end=started + options.time_limit - 0.5,
            start=best.assignment,
        )
        best.raise_bound(root.bound)
        cutoff = root.cutoff
        seconds["root"] = time.perf_counter() - clock
        logger.debug("place %s: root %s", problem.place_code, root)
        if best.proven_within(options.gap):
            best.notes.append("proven by the root LP")
            seconds["solve"] = 0.0
            return replace(
                _finish(problem, best, method, label, seconds, 0, options),
                model={**column_stats, **_model_stats(model, root)},
            )
        if not root.mip:
            best.notes.append(
                "the MIP was skipped: its root LP alone would not finish in the time left, which went to root "
                "cuts instead (allow more time with --time-limit)"
            )
            seconds["solve"] = 0.0
            return replace(
                _finish(problem, best, method, label, seconds, 0, options),
                model={**column_stats, **_model_stats(model, root)},
            )
    clock = time.perf_counter()
    rounds, proven_infeasible = _solve_loop(problem, model, name, options, best, started, cutoff)
    seconds["solve"] = time.perf_counter() - clock
    if proven_infeasible:
        return replace(
            _empty(problem, "infeasible", _explain_infeasible(problem), method, label, seconds, rounds),
            model={**column_stats, **_model_stats(model, root)},
        )
    if best.source == "failed":
        return replace(
            _empty(problem, "error", " ".join(best.notes), method, label, seconds, rounds),
            model={**column_stats, **_model_stats(model, root)},
        )
    return replace(
        _finish(problem, best, method, label, seconds, rounds, options),
        model={**column_stats, **_model_stats(model, root)},
    )


def _model_stats(model: PlaceModel, root: RootResult) -> dict[str, int]:
    """Size of a place's model for the decision record: variables, constraints, cuts and fixings."""
    return {
        "x_variables": len(model.variables.x),
        "variables": len(model.lp.variables()),
        "constraints": len(model.lp.constraints),
        "contiguity_cuts": model.cuts,
        "pcn_cuts": root.cuts,
        "root_lps": root.rounds,
        "fixed_by_reduced_cost": root.fixed,
        "root_lp_columns": root.columns,
        "root_lps_by_interior_point": root.interior,
    }


def _target(bound: float, gap: float) -> float:
    """The objective at or below which a plan is proven within ``gap`` by ``bound`` alone (``-inf`` without one):
    the MIP may stop at such a plan although its own dual bound is weaker."""
    if not math.isfinite(bound) or bound <= 0:
        return -math.inf
    return bound / (1 - gap) * (1 - 1e-9)


def _solve_loop(
    problem: PlaceProblem,
    model: PlaceModel,
    name: str,
    options: SolveOptions,
    best: _Best,
    started: float,
    cutoff: float = math.inf,
) -> tuple[int, bool]:
    """Solve (and, for cuts, cut and re-solve) until proven, out of time or out of rounds.

    ``cutoff``: the objective above which :func:`strengthen_root` fixed variables; every bound the solver
    proves on the fixed model is capped there, and "infeasible" then means no plan is better than the cutoff.

    Returns
    -------
    tuple of (int, bool)
        Solver calls made, and whether the solver proved the place infeasible.
    """
    rounds, build = 0, 0.0
    while True:
        time_left = options.time_limit - (time.perf_counter() - started)
        # a round needs its model build (as long as the last one) and the read-back before the solver's time
        if time_left <= 0.5 + (build + MIP_READ_BACK if rounds else 0.0):
            best.notes.append(f"time limit reached after {rounds} cut rounds")
            return rounds, False
        warm = options.warm_start and best.assignment is not None and model.set_start(best.assignment)
        try:
            if name == "highs":
                result = _run_highs(model, options, time_left, warm, _target(best.bound, options.gap))
            else:
                result = _run_cbc(model, options, time_left, warm)
        # PuLP's PulpSolverError, or the solver crashing (OSError from a broken binary, highspy's RuntimeError)
        except Exception as error:
            other = "cbc" if name == "highs" else "highs"
            best.notes.append(
                f"the {name} solver failed ({type(error).__name__}: {error}); try --solver {other}"
            )
            if best.assignment is None:
                best.source = "failed"
            return rounds, False
        rounds, build = rounds + 1, result.build
        logger.debug("place %s: round %d %s bound %s", problem.place_code, rounds, result.state, result.bound)
        if result.state == "infeasible" and math.isfinite(cutoff):
            best.raise_bound(cutoff)  # no plan below the cutoff: the incumbent is within the gap
            return rounds, False
        if result.state == "infeasible":
            if best.assignment is None:
                return rounds, True
            best.notes.append("the solver reported the model infeasible although a valid plan exists")
            logger.warning("place %s: solver claims infeasible with a valid plan at hand", problem.place_code)
            return rounds, False
        if result.state == "failed":
            best.notes.append(f"the {name} solver stopped without a result ({result.detail})")
            return rounds, False
        best.raise_bound(min(result.bound, cutoff))
        assignment = model.assignment() if result.has_plan else None
        connected = False
        if assignment is not None:
            connected = not check_plan(problem, assignment)
            if connected:
                best.offer(problem, assignment, "mip")
        if result.state in ("optimal", "target") and connected:
            return rounds, False
        if best.proven_within(options.gap):
            return rounds, False  # the incumbent is proven within the gap by this round's bound
        if result.state == "stopped":
            best.notes.append(f"time limit reached in cut round {rounds}")
            return rounds, False
        if assignment is None or connected:
            best.notes.append("the solver returned no usable plan")
            return rounds, False
        if rounds >= MAX_CUT_ROUNDS:
            best.notes.append(f"stopped after {rounds} cut rounds")
            return rounds, False
        added = add_contiguity_cuts(model, assignment, rounds)
        logger.debug("place %s: round %d added %d contiguity cuts", problem.place_code, rounds, added)
        if added == 0:  # the plan breaks a rule other than contiguity: cannot happen for a correct model
            best.notes.append("the solver's plan broke a rule the cuts cannot fix")
            return rounds, False


@dataclass(frozen=True)
class RootResult:
    """What :func:`strengthen_root` did.

    Attributes
    ----------
    rounds
        LPs solved to optimality.
    cuts
        PCN home cuts added to the model.
    bound
        The last LP bound (a valid lower bound for the place; ``nan`` when no LP was solved).
    fixed
        x variables fixed to 0 by reduced costs.
    cutoff
        The objective above which plans were given up by that fixing (``inf`` when nothing was fixed).
    mip
        False when the root loop took the MIP's time (it could not have solved its own root LP in it).
    first_lp
        Seconds of the first LP (``nan`` when none was solved).
    columns
        Columns in the LP at the end (the rest were priced out; see :mod:`footprint.rootlp`).
    interior
        Rounds whose LP the interior point method finished (the warm simplex had stalled; see :func:`_run_round`).
    """

    rounds: int = 0
    cuts: int = 0
    bound: float = math.nan
    fixed: int = 0
    cutoff: float = math.inf
    mip: bool = True
    first_lp: float = math.nan
    columns: int = 0
    interior: int = 0


def strengthen_root(
    model: PlaceModel,
    options: SolveOptions,
    deadline: float,
    incumbent: float = math.inf,
    handoff_gap: float = 0.0,
    end: float | None = None,
    start: np.ndarray | None = None,
    near: int | None = NEAR_CENTRES,
) -> RootResult:
    """Tighten the model at the root: LP relaxation, PCN home cuts, repeat; then fix x by reduced costs.

    The PCN-alignment term's LP relaxation is weak (a home spread fractionally over centres aligns patients no
    single neighbourhood could hold); :func:`footprint.model.add_pcn_cuts` separates valid inequalities that
    forbid it (the ``PCN_CUTS_PER_ROUND`` most violated each round). The LP is kept in one highspy model and
    re-solved from its previous basis after each batch of rows, so a round usually costs a fraction of a cold
    solve (a round whose simplex stalls is finished by the interior point method, :func:`_run_round`); it starts
    from each unit's ``near`` nearest centres (and the ``start`` plan's pairs) and prices the other x columns in
    as the duals ask (:mod:`footprint.rootlp`; ``near`` None loads them all), each round's bound being valid
    whether or not columns are still pricing in. The cuts are added to ``model`` (named ``pcn_cut_*``), so the
    MIP that follows starts from the tightened formulation. The loop stops when no cut is violated, when three
    rounds raised the bound by less than ``ROOT_MIN_PROGRESS`` (relative), when the bound is within
    ``handoff_gap`` (relative) of ``incumbent``, after ``ROOT_MAX_ROUNDS``, or at ``deadline``
    (``time.perf_counter()`` seconds).
    With ``end`` (when the place's time runs out) and an ``incumbent``, a loop whose first LP took more than
    1 / ``MIP_ROOT_FACTOR`` of the time the MIP would get after ``deadline`` may run on to ``end`` instead; when
    the loop stops with less than ``MIP_ROOT_FACTOR`` first LPs of time before ``end``, it says so (``mip``
    False): the MIP could not have finished its own root LP.

    Reduced-cost fixing: with LP bound B and an ``incumbent`` plan of objective Z, any plan using a pair (i, c)
    whose x is at 0 with reduced cost r costs at least B + r; where B + r > cutoff = Z (1 - gap), x[i,c] gets an
    upper bound of 0. Only plans within the gap of Z are lost, so the MIP's bound on the fixed model, capped at
    the cutoff, is still a bound for the place (:func:`_solve_loop` applies the cap).
    """
    import highspy

    h = new_highs()
    h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("random_seed", int(options.seed))
    h.resetGlobalScheduler(True)  # another thread count since the process's first run: see _Highs.callSolver
    lp = RestrictedLP(h, model, near=near, start=start)
    bounds: list[float] = []  # a valid lower bound per LP solved (the LP's value once nothing prices in)
    cuts = 0
    first_lp = math.nan
    last: tuple[np.ndarray, np.ndarray, float] | None = None  # values, reduced costs and bound of the last LP
    interior = 0  # rounds that went over to the interior point method
    for round_number in range(ROOT_MAX_ROUNDS + MAX_PRICING_ROUNDS):
        if deadline - time.perf_counter() <= 0.5:
            break
        lp_started = time.perf_counter()
        patience = None if not bounds else max(ROUND_PATIENCE * first_lp, ROUND_PATIENCE_FLOOR)
        interior += _run_round(h, deadline, patience)
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible and len(lp.left_out()):
            lp.add_columns(lp.left_out())  # the near columns alone cannot cover the place: take them all
            continue
        if status != highspy.HighsModelStatus.kOptimal:
            logger.debug(
                "place %s: root LP stopped (%s)", model.problem.place_code, h.modelStatusToString(status)
            )
            break
        if not bounds:
            first_lp = time.perf_counter() - lp_started
            if end is not None and math.isfinite(incumbent) and end - deadline < MIP_ROOT_FACTOR * first_lp:
                deadline = end
        values, reduced = lp.solution()
        correction, entering = lp.price(reduced)
        bound = float(h.getInfo().objective_function_value) + correction
        bounds.append(max(bound, bounds[-1]) if bounds else bound)
        last = (values, reduced, bound)
        best_bound = bounds[-1]
        if math.isfinite(incumbent) and incumbent - best_bound <= handoff_gap * abs(incumbent):
            break
        names = []
        if model.variables.aligned and _keep_cutting(bounds, entering):
            names = add_pcn_cuts(
                model, lambda var, col=values: col[var.index], round_number, limit=PCN_CUTS_PER_ROUND
            )
        logger.debug(
            "place %s: root round %d LP %.6f bound %.6f, %d columns priced in, %d cuts",
            model.problem.place_code,
            round_number,
            h.getInfo().objective_function_value,
            bound,
            len(entering),
            len(names),
        )
        if not names and not len(entering):
            break
        lp.add_columns(entering)
        lp.add_rows([(name, model.lp.constraints[name]) for name in names])
        cuts += len(names)
    if not bounds:
        return RootResult()
    result = RootResult(
        rounds=len(bounds),
        cuts=cuts,
        bound=bounds[-1],
        first_lp=first_lp,
        columns=lp.loaded_columns,
        interior=interior,
    )
    # the MIP follows only when it has the time to re-solve the root LP (or is the only way to a plan)
    mip = (
        end is None or not math.isfinite(incumbent) or end - time.perf_counter() >= MIP_ROOT_FACTOR * first_lp
    )
    if not mip:  # no MIP follows, so fixing would only cost time
        return replace(result, mip=False)
    fixed, cutoff = 0, math.inf
    if last is not None and math.isfinite(incumbent):
        # the last LP solved is a relaxation (later cuts only tighten it); with its duals, a plan using a pair
        # at 0 with reduced cost r costs at least that LP's bound + r (see footprint.rootlp)
        cutoff = incumbent - options.gap * abs(incumbent)
        values, reduced, last_bound = last
        margin = cutoff + 1e-9 * max(1.0, abs(cutoff))
        for var in model.variables.x.values():
            if values[var.index] <= 1e-9 and last_bound + reduced[var.index] > margin:
                var.upBound = 0
                fixed += 1
        if not fixed:
            cutoff = math.inf
    return replace(result, fixed=fixed, cutoff=cutoff)


def _run_round(h: object, deadline: float, patience: float | None) -> bool:
    """Solve the root LP of one round: warm dual simplex, then interior point if it takes over ``patience`` s.

    Re-solving from the last basis usually takes a fraction of the first LP, but on some rounds the dual simplex
    stalls on this degenerate LP (Lambeth: 131,623 iterations and no optimum in 150 s, from the basis or cold)
    where the interior point method with crossover solves the same LP in 11 s; crossover leaves a basis, so the
    next round is warm again. Returns whether the interior point method was used. ``deadline`` is a
    ``time.perf_counter()`` time; the model's status tells the caller how the round ended.
    """
    import highspy

    def run(seconds: float) -> None:
        # HiGHS compares time_limit with the run time summed over every run() of this object (HiGHS issue
        # #1477, to change in 2.0): offset it, or each round would get less than the time left
        h.setOptionValue("time_limit", float(h.getRunTime() + seconds))
        h.run()

    time_left = deadline - time.perf_counter()
    if patience is None or patience >= time_left - 0.5:
        run(time_left)
        return False
    run(patience)
    time_left = deadline - time.perf_counter()
    if h.getModelStatus() != highspy.HighsModelStatus.kTimeLimit or time_left <= 0.5:
        return False
    h.setOptionValue("solver", "ipm")
    try:
        run(time_left)
    finally:
        h.setOptionValue("solver", "choose")
    return True


def _keep_cutting(bounds: list[float], entering: np.ndarray) -> bool:
    """Whether to separate PCN cuts now: always while the bound still rises (or columns still price in).

    The loop stops cutting when three LPs together raised the bound by less than ``ROOT_MIN_PROGRESS``
    (relative) with no column left to price in.
    """
    if len(entering) or len(bounds) <= 3:
        return True
    return bounds[-1] - bounds[-4] > ROOT_MIN_PROGRESS * max(abs(bounds[-1]), 1e-9)


def _explain_infeasible(problem: PlaceProblem) -> str:
    """Why the solver found no plan, in the place's words, with the levers that could help."""
    levers = ["widen the population bounds (pop.min / pop.max)"]
    if problem.max_distance_km is not None:
        levers.append(f"raise access.max_distance_km (now {problem.max_distance_km:g})")
    if problem.centre_kind == "hub":
        levers.append("add hubs")
    if problem.locks:
        levers.append(f"review the {len(problem.locks)} locks")
    if problem.centre_required.any():
        levers.append(f"drop some of the {int(problem.centre_required.sum())} `required` flags")
    count = f"{problem.k_min}" if problem.k_min == problem.k_max else f"{problem.k_min}-{problem.k_max}"
    return (
        f"{_label(problem)}: the solver proved no plan meets the bounds {problem.pop_min:,}-{problem.pop_max:,} "
        f"with {count} connected neighbourhoods"
        f"{' within the access radius' if problem.max_distance_km is not None else ''} "
        f"(the LSOAs' sizes and adjacency do not allow it); " + ", or ".join(levers) + "."
    )


def _empty(
    problem: PlaceProblem,
    status: Literal["infeasible", "error"],
    message: str,
    method: str,
    solver: str,
    seconds: dict[str, float],
    rounds: int = 0,
) -> PlaceSolution:
    return PlaceSolution(
        place_code=problem.place_code,
        status=status,
        assignment=np.zeros(0, dtype=np.int64),
        message=message,
        method=method,
        solver=solver,
        seconds=seconds,
        iterations=rounds,
    )


def _finish(
    problem: PlaceProblem,
    best: _Best,
    method: str,
    solver: str,
    seconds: dict[str, float],
    rounds: int,
    options: SolveOptions,
) -> PlaceSolution:
    """The solution record: terms recomputed on the plan, honest bound and gap, status from the gap."""
    note = "; ".join(best.notes)
    if best.assignment is None:
        fix = (
            "use --method exact (the solver finds a plan or proves there is none)"
            if method == "heuristic"
            else "allow more time (--time-limit) or widen the bounds"
        )
        message = (
            f"Place {problem.place_code} ({problem.place_name}): no plan with connected neighbourhoods of "
            f"{problem.pop_min:,}-{problem.pop_max:,} was found"
            f"{' by the heuristic' if method == 'heuristic' else f' within {options.time_limit:g} s'}"
            f"{' (' + note + ')' if note else ''}; {fix}."
        )
        return _empty(problem, "error", message, method, solver, seconds, rounds)
    terms = evaluate_terms(problem, best.assignment)
    objective = weighted_objective(problem, terms)
    bound = best.bound
    if math.isfinite(bound) and bound > objective + BOUND_TOLERANCE * max(abs(objective), 1.0):
        logger.warning(
            "place %s: solver bound %.9g exceeds the plan's objective %.9g; bound discarded",
            problem.place_code,
            bound,
            objective,
        )
        bound = math.nan
    if math.isfinite(bound):
        bound = min(max(bound, 0.0), objective)  # every term is >= 0; rounding within tolerance only
    gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9)) if math.isfinite(bound) else math.nan
    if math.isfinite(gap) and gap <= options.gap + 1e-9:
        status = "optimal"
    elif best.source in ("mip", "columns"):
        status = "feasible"
    else:
        status = "heuristic"
    if method.startswith("mip") and best.source in ("heuristic", "columns"):
        method += f" ({'heuristic' if best.source == 'heuristic' else 'column generation'} plan)"
    return PlaceSolution(
        place_code=problem.place_code,
        status=status,
        assignment=best.assignment,
        objective=objective,
        bound=bound,
        gap=gap,
        terms=terms,
        method=method,
        solver=solver,
        seconds=seconds,
        iterations=rounds,
        message=note,
        heuristic_runs=best.heuristic_runs,
    )
