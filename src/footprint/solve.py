"""Solve one place: screen feasibility, warm-start with the heuristic, run the MIP, return a PlaceSolution.

:func:`check_feasibility` explains, before any solving, why a place cannot be split (with numbers and a fix).
:func:`solve_place` then runs the heuristic (a valid plan in well under a second) and, unless the method is
``heuristic``, the MIP of :mod:`footprint.model` warm-started from it:

- contiguity ``cuts`` (default for LSOA centres): solve, cut off disconnected neighbourhoods, re-solve, until the
  solver's plan is connected; each round's dual bound is a valid lower bound for the full problem because the
  cuts only remove plans that are not connected;
- contiguity ``flow`` (default for hub centres): one solve.

Solvers: HiGHS (through highspy, with warm start, exact dual bound and a batched model build) or CBC (bundled with
PuLP; bound read from its log). The reported plan is the best of the MIP's and the heuristic's, with every term
recomputed by :mod:`footprint.objective`; the gap is (objective - bound) / objective. Status: ``optimal`` when
the gap is within tolerance, ``feasible`` when the time limit stopped the MIP with a plan, ``heuristic`` when only
the heuristic produced a plan, ``infeasible`` with the reason, ``error`` with what failed.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
import pulp

from footprint.errors import SolverError
from footprint.heuristic import allowed_matrix, solve_heuristic
from footprint.model import PlaceModel, add_contiguity_cuts, build_model, reachable_pairs
from footprint.objective import evaluate_terms, weighted_objective
from footprint.problem import PlaceProblem, PlaceSolution

logger = logging.getLogger(__name__)

#: Above this many x variables the exact model is not attempted with method "auto" (the heuristic is used).
AUTO_EXACT_MAX_VARIABLES = 250_000
#: Cut rounds before giving up on the exact loop.
MAX_CUT_ROUNDS = 60


@dataclass(frozen=True)
class SolveOptions:
    """How to solve a place (from the scenario's ``solver`` section)."""

    method: Literal["auto", "exact", "heuristic"] = "auto"
    solver: Literal["auto", "highs", "cbc"] = "auto"
    time_limit: float = 120.0
    gap: float = 0.005
    threads: int = 1
    seed: int = 0
    contiguity: Literal["auto", "cuts", "flow"] = "auto"
    write_lp: str | None = None


# ---- feasibility ------------------------------------------------------------------------------------------------


def check_feasibility(problem: PlaceProblem) -> list[str]:
    """Reasons the place cannot be split within the rules, in plain words with numbers and a fix (empty = none)."""
    reasons: list[str] = []
    total = problem.total_population
    label = f"Place {problem.place_code} ({problem.place_name}, {total:,} residents)"
    bounds = f"{problem.pop_min:,}-{problem.pop_max:,}"
    if problem.n_units == 0:
        return [f"{label} has no LSOAs."]
    need = math.ceil(total / problem.pop_max) if problem.pop_max else problem.n_units
    most = total // problem.pop_min if problem.pop_min else problem.n_units
    if need > most:
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
    if problem.centre_kind == "hub" and problem.n_centres < need:
        reasons.append(
            f"{label} cannot be split into neighbourhoods of {bounds} with the {problem.n_centres} hubs given: at "
            f"least {need} are needed. Add hubs, or set pop.max >= {math.ceil(total / max(problem.n_centres, 1)):,}."
        )
    if (
        problem.k_min > problem.k_max
        and need <= most
        and not (problem.centre_kind == "hub" and problem.n_centres < need)
    ):
        reasons.append(
            f"{label}: the neighbourhood count range is empty ({problem.k_min} > {problem.k_max}) after applying "
            f"k.min/k.max; the bounds allow {need}-{most}."
        )
    big = np.flatnonzero(problem.population > problem.pop_max)
    if len(big):
        codes = ", ".join(f"{problem.unit_codes[i]} ({problem.population[i]:,})" for i in big[:5])
        reasons.append(f"{label}: LSOAs larger than pop.max {problem.pop_max:,}: {codes}; raise pop.max.")
    required = int(problem.centre_required.sum())
    if required > problem.k_max:
        reasons.append(
            f"{label}: {required} hubs are required but at most {problem.k_max} neighbourhoods fit; drop some `required` flags."
        )
    if problem.max_distance_km is not None:
        for unit, centre in problem.locks:
            distance = problem.distance_km[unit, centre]
            if distance > problem.max_distance_km:
                reasons.append(
                    f"{label}: {problem.unit_codes[unit]} is locked to hub {problem.centre_ids[centre]} "
                    f"{distance:.1f} km away, beyond access.max_distance_km {problem.max_distance_km}; fix the lock or "
                    "raise the radius."
                )
        allowed = allowed_matrix(problem)
        stranded = np.flatnonzero(~allowed.any(axis=1))
        if len(stranded):
            codes = ", ".join(problem.unit_codes[i] for i in stranded[:5])
            reasons.append(
                f"{label}: {len(stranded)} LSOAs have no centre within access.max_distance_km "
                f"{problem.max_distance_km} ({codes}); raise the radius or add hubs."
            )
    return reasons


# ---- solvers ------------------------------------------------------------------------------------------------------


class _Highs(pulp.HiGHS):
    """PuLP's highspy interface with a batched model build, warm start and the MIP dual bound."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bound = math.nan
        self.incumbent = math.nan

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:
        import highspy

        h = lp.solverModel
        inf = highspy.kHighsInf
        variables = lp.variables()
        n = len(variables)
        for index, var in enumerate(variables):
            var.index = index
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        h.addVars(n, lower, upper)
        costs = np.zeros(n)
        for var, coefficient in lp.objective.items():
            costs[var.index] = coefficient
        h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        h.changeObjectiveOffset(float(lp.objective.constant))
        integer = np.array([v.index for v in variables if v.cat == pulp.LpInteger], dtype=np.int32)
        if len(integer):
            h.changeColsIntegrality(
                len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger, dtype=np.uint8)
            )
        starts, indices, values, row_lower, row_upper = [], [], [], [], []
        for row, constraint in enumerate(lp.constraints.values()):
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
        start = [v.varValue for v in variables]
        if all(value is not None for value in start):
            solution = highspy.HighsSolution()
            solution.col_value = [float(value) for value in start]
            solution.value_valid = True
            h.setSolution(solution)

    def actualSolve(self, lp: pulp.LpProblem) -> int:
        status = super().actualSolve(lp)
        info = lp.solverModel.getInfo()
        self.bound = float(info.mip_dual_bound)
        self.incumbent = float(info.objective_function_value)
        return status


def _solver_version(name: str) -> str:
    if name == "highs":
        import highspy

        h = highspy.Highs()
        return f"HiGHS {h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    return f"CBC (PuLP {pulp.__version__})"


def _run_solver(
    model: PlaceModel, name: str, options: SolveOptions, time_left: float, warm: bool
) -> tuple[int, float]:
    """Solve the current model; return (PuLP status, dual bound or nan)."""
    if name == "highs":
        solver = _Highs(
            msg=False,
            timeLimit=max(time_left, 1.0),
            gapRel=options.gap,
            threads=options.threads,
            random_seed=options.seed,
            mip_feasibility_tolerance=1e-7,
        )
        status = model.lp.solve(solver)
        return status, solver.bound
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=False,
            timeLimit=max(time_left, 1.0),
            gapRel=options.gap,
            threads=options.threads,
            warmStart=warm,
            logPath=str(log),
            options=[f"randomSeed {options.seed + 1}", f"randomCbcSeed {options.seed + 1}"],
        )
        status = model.lp.solve(solver)
        text = log.read_text(errors="replace") if log.exists() else ""
    bound = math.nan
    match = re.search(r"Lower bound:\s*([-+0-9.eE]+)", text)
    if match:
        bound = float(match.group(1)) + float(model.lp.objective.constant)
    elif "Optimal solution found" in text and model.lp.objective is not None:
        value = pulp.value(model.lp.objective)
        if value is not None:  # stopped at gapRel: the bound is at least value (1 - gap)
            bound = float(value) - options.gap * abs(float(value))
    return status, bound


#: "auto" uses CBC up to this many x variables (measured faster on small models) and HiGHS above it (CBC
#: overran a 60 s limit by minutes on a 17,689-variable London place; HiGHS keeps to its limit).
AUTO_CBC_MAX_VARIABLES = 3_000


def _choose_solver(options: SolveOptions, size: int) -> str:
    if options.solver in ("highs", "cbc"):
        return options.solver
    try:
        import highspy  # noqa: F401
    except ImportError:
        return "cbc"
    return "cbc" if size <= AUTO_CBC_MAX_VARIABLES else "highs"


def _connected(problem: PlaceProblem, assignment: np.ndarray) -> bool:
    graph = nx.Graph()
    graph.add_nodes_from(range(problem.n_units))
    graph.add_edges_from(problem.edges)
    for centre in set(int(c) for c in assignment):
        members = np.flatnonzero(assignment == centre).tolist()
        if not nx.is_connected(graph.subgraph(members)):
            return False
    return True


# ---- the driver -----------------------------------------------------------------------------------------------


def solve_place(problem: PlaceProblem, options: SolveOptions | None = None) -> PlaceSolution:
    """The best plan we can prove for one place (see module docstring)."""
    options = options or SolveOptions()
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    reasons = check_feasibility(problem)
    if reasons:
        return PlaceSolution(
            place_code=problem.place_code,
            status="infeasible",
            assignment=np.zeros(0, dtype=np.int64),
            message=" ".join(reasons),
            method="screen",
        )

    heuristic = solve_heuristic(problem, seed=options.seed)
    seconds["heuristic"] = time.perf_counter() - started
    best_assignment = heuristic.assignment if heuristic else None
    best_objective = heuristic.objective if heuristic else math.inf
    method = "heuristic"

    size = int(reachable_pairs(problem, allowed_matrix(problem)).sum())
    exact = options.method == "exact" or (options.method == "auto" and size <= AUTO_EXACT_MAX_VARIABLES)
    if not exact:
        note = (
            "" if options.method == "heuristic" else f"model too large for exact solving ({size:,} variables)"
        )
        return _finish(
            problem, best_assignment, math.nan, "heuristic", method, note, seconds, 0, started, options
        )

    name = _choose_solver(options, size)
    contiguity = options.contiguity
    if contiguity == "auto":
        contiguity = "cuts"  # measured: faster than flow on both LSOA and hub centres (BENCHMARKS.md)
    build_started = time.perf_counter()
    try:
        model = build_model(problem, contiguity=contiguity)
    except MemoryError as error:  # pragma: no cover - depends on the machine
        raise SolverError(
            f"Place {problem.place_code}: the model does not fit in memory ({error}); use --method heuristic"
        ) from None
    if options.write_lp:
        model.write_lp(Path(options.write_lp) / f"{problem.place_code}.lp")
    seconds["model"] = time.perf_counter() - build_started

    bound = math.nan
    rounds = 0
    solver_label = _solver_version(name)
    status_note = ""
    solve_started = time.perf_counter()
    while True:
        time_left = options.time_limit - (time.perf_counter() - started)
        if time_left <= 0.5:
            status_note = "time limit reached during the cut loop"
            break
        warm = best_assignment is not None
        if warm:
            model.set_start(best_assignment)
        try:
            status, round_bound = _run_solver(model, name, options, time_left, warm)
        except pulp.PulpSolverError as error:
            other = "cbc" if name == "highs" else "highs"
            return PlaceSolution(
                place_code=problem.place_code,
                status="error",
                assignment=np.zeros(0, dtype=np.int64),
                message=f"the {name} solver failed ({error}); try --solver {other}",
                solver=solver_label,
                seconds=seconds,
            )
        rounds += 1
        if status == pulp.LpStatusInfeasible:
            if best_assignment is None:
                return PlaceSolution(
                    place_code=problem.place_code,
                    status="infeasible",
                    assignment=np.zeros(0, dtype=np.int64),
                    message=(
                        f"Place {problem.place_code} ({problem.place_name}): the solver proved no plan meets the "
                        f"bounds {problem.pop_min:,}-{problem.pop_max:,} with connected neighbourhoods"
                        f"{' within the access radius' if problem.max_distance_km else ''}; widen the bounds"
                        f"{' or raise access.max_distance_km' if problem.max_distance_km else ''}."
                    ),
                    method=f"mip-{contiguity}",
                    solver=solver_label,
                    seconds=seconds,
                )
            break
        if math.isfinite(round_bound):
            bound = round_bound if math.isnan(bound) else max(bound, round_bound)
        assignment = model.assignment()
        if assignment is None:
            status_note = "the solver returned no plan in time"
            break
        if _connected(problem, assignment):
            objective = weighted_objective(problem, evaluate_terms(problem, assignment))
            if objective < best_objective - 1e-12:
                best_assignment, best_objective = assignment, objective
                method = f"mip-{contiguity}"
            elif method == "heuristic":
                method = f"mip-{contiguity} (heuristic incumbent)"
            break
        if rounds >= MAX_CUT_ROUNDS:
            status_note = f"stopped after {rounds} cut rounds"
            break
        added = add_contiguity_cuts(model, assignment, rounds)
        logger.debug("place %s: round %d added %d contiguity cuts", problem.place_code, rounds, added)
    seconds["solve"] = time.perf_counter() - solve_started
    return _finish(
        problem, best_assignment, bound, solver_label, method, status_note, seconds, rounds, started, options
    )


def _finish(
    problem: PlaceProblem,
    assignment: np.ndarray | None,
    bound: float,
    solver_label: str,
    method: str,
    note: str,
    seconds: dict[str, float],
    rounds: int,
    started: float,
    options: SolveOptions,
) -> PlaceSolution:
    if assignment is None:
        return PlaceSolution(
            place_code=problem.place_code,
            status="error",
            assignment=np.zeros(0, dtype=np.int64),
            message=(
                f"Place {problem.place_code} ({problem.place_name}): no plan with connected neighbourhoods of "
                f"{problem.pop_min:,}-{problem.pop_max:,} was found within {options.time_limit:g} s"
                f"{' (' + note + ')' if note else ''}; allow more time (--time-limit) or widen the bounds."
            ),
            method=method,
            solver=solver_label,
            seconds=seconds,
            iterations=rounds,
        )
    terms = evaluate_terms(problem, assignment)
    objective = weighted_objective(problem, terms)
    gap = math.nan
    if math.isfinite(bound):
        bound = min(max(bound, 0.0), objective)  # every term is >= 0, so 0 is always a valid bound
        gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9))
    if method.startswith("mip") and math.isfinite(gap) and gap <= options.gap + 1e-9:
        status = "optimal"
    elif method.startswith("mip") or math.isfinite(gap):
        status = "feasible"
    else:
        status = "heuristic"
    seconds["total"] = time.perf_counter() - started
    return PlaceSolution(
        place_code=problem.place_code,
        status=status,
        assignment=assignment,
        objective=objective,
        bound=bound,
        gap=gap,
        terms=terms,
        method=method,
        solver=solver_label,
        seconds=seconds,
        iterations=rounds,
        message=note,
    )
