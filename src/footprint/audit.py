"""Read a written run back from its folder: re-verify it (``footprint check``) or rebuild its plan (``footprint report``).

:func:`read_run` reads ``run.json`` (the resolved scenario it was made from, each neighbourhood's hub) and
``assignment.csv`` and compares the sha256 of every input with the record. :func:`audit_run` then re-reads the
inputs, rebuilds the contiguity graph and runs the independent verifier on every place the run reported as solved
(inputs whose sha256 differs are reported, since the verdict is then against different data).
:func:`rebuild_plan` turns the written assignment back into a :class:`~footprint.plan.Plan` (relabelled and
re-verified exactly as a run does), so every product can be regenerated without solving again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.config import Scenario, paths_resolved_from, scenario_from_dict
from footprint.dataset import Dataset, hash_inputs, load_dataset
from footprint.errors import InputDataError
from footprint.export import read_run_record
from footprint.graph import ContiguityGraph, build_graph
from footprint.instance import build_place_problem, pcn_home_places
from footprint.plan import GOOD_STATUSES, Plan, build_plan, rules_for
from footprint.problem import PlaceProblem, PlaceSolution
from footprint.verify import Verdict, verify_plan


@dataclass
class Audit:
    """The result of re-checking a written run."""

    run_dir: Path
    verdicts: dict[str, Verdict]
    changed_inputs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: an evaluated map's folder: every breach found again, one line each (empty for a run)
    breaches: list[str] = field(default_factory=list)
    evaluated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.breaches and all(v.ok for v in self.verdicts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "changed_inputs": self.changed_inputs,
            "problems": self.problems,
            **({"evaluated": True, "breaches": self.breaches} if self.evaluated else {}),
            "places": {place: verdict.to_dict() for place, verdict in sorted(self.verdicts.items())},
        }


def _read_run_file(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputDataError(f"{path}: {what} is missing; is this a footprint run folder?")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@dataclass
class WrittenRun:
    """A run folder read back: its record, scenario and plan tables, and which inputs changed since."""

    run_dir: Path
    record: dict[str, Any]
    scenario: Scenario
    assignment: pd.DataFrame
    #: neighbourhood_id, hub_id of every neighbourhood (from run.json, or neighbourhoods.csv for older runs)
    neighbourhoods: pd.DataFrame
    changed_inputs: list[str] = field(default_factory=list)


def read_run(run_dir: str | Path) -> WrittenRun:
    """Read ``run.json`` and ``assignment.csv`` of a run folder (and ``neighbourhoods.csv`` for runs whose run.json
    does not name each neighbourhood's hub); hash the inputs again.

    Raises
    ------
    InputDataError
        One line naming the folder or file when ``run_dir`` is not a complete run folder.
    """
    run_dir = Path(run_dir)
    record_path, record = read_run_record(run_dir)
    missing = [key for key in ("config", "scenario", "places", "inputs") if key not in record]
    if missing:
        raise InputDataError(f"{record_path}: not a footprint decision record (no {', '.join(missing)}).")
    # runs written since run.json recorded its paths relative to its folder; before, relative to the folder
    # footprint run was started from (assumed to be the working folder)
    base = run_dir if record.get("paths") == "relative to this run folder" else Path()
    source = record["scenario"].get("file")
    scenario = scenario_from_dict(
        paths_resolved_from(record["config"], base),
        source=Path(os.path.normpath(base / source)) if source else None,
    )
    assignment = _read_run_file(run_dir / "assignment.csv", "assignment.csv")
    solved = [p for p in record["places"] if p["status"] in GOOD_STATUSES]
    if all("hubs" in p for p in solved):
        hubs = [(hood, hub) for p in solved for hood, hub in sorted(p["hubs"].items())]
        hoods = pd.DataFrame(hubs, columns=[C.NEIGHBOURHOOD, C.HUB_ID], dtype=str)
    else:  # written before run.json named each neighbourhood's hub
        hoods = _read_run_file(run_dir / "neighbourhoods.csv", "neighbourhoods.csv")
    recorded = {
        os.path.normpath(base / path): entry["sha256"] for path, entry in record.get("inputs", {}).items()
    }
    current = hash_inputs(scenario)
    changed = sorted(p for p in recorded if current.get(p) != recorded[p])
    return WrittenRun(run_dir, record, scenario, assignment, hoods, changed)


def load_problems(
    run: WrittenRun, places: list[str]
) -> tuple[Dataset, ContiguityGraph, dict[str, PlaceProblem]]:
    dataset = load_dataset(run.scenario)
    graph = build_graph(dataset.units, run.scenario.graph)
    homes = pcn_home_places(dataset)
    problems = {
        place: build_place_problem(dataset, graph, place, pcn_homes=homes)
        for place in places
        if place in dataset.place_codes
    }
    return dataset, graph, problems


def audit_run(run_dir: str | Path) -> Audit:
    """Re-verify the plan written in ``run_dir`` (an evaluated map's folder: evaluate its map again)."""
    run = read_run(run_dir)
    audit = Audit(run_dir=run.run_dir, verdicts={}, changed_inputs=run.changed_inputs)
    if run.record.get("status") == "evaluated":
        from footprint.evaluate import reevaluate

        evaluation = reevaluate(run)
        audit.evaluated = True
        audit.verdicts = dict(evaluation.plan.verdicts)
        audit.breaches = [f"{b.place_code or 'map'}, {b.rule}: {b.message}" for b in evaluation.breaches]
        return audit
    solved = [p["place_code"] for p in run.record["places"] if p["status"] in GOOD_STATUSES]
    dataset, _, problems = load_problems(run, solved)
    unknown = sorted(set(solved) - set(dataset.place_codes))
    if unknown:
        audit.problems.append(f"run.json lists places not in the inputs: {', '.join(unknown)}")
    rules = rules_for(dataset, problems)
    assignment, hoods = run.assignment, run.neighbourhoods
    hood_hub = dict(zip(hoods[C.NEIGHBOURHOOD], hoods[C.HUB_ID], strict=True))
    for place in sorted(problems):
        rows = assignment[assignment[C.PLACE_CODE] == place]
        place_rules = type(rules)(
            **{**rules.__dict__, "unit_place": {u: p for u, p in rules.unit_place.items() if p == place}}
        )
        audit.verdicts[place] = verify_plan(
            dict(zip(rows[C.LSOA_CODE], rows[C.NEIGHBOURHOOD], strict=True)), hood_hub, place_rules
        )
    return audit


def rebuild_plan(run: WrittenRun) -> Plan:
    """The :class:`Plan` of a written run, from its assignment and the re-read inputs, without solving.

    Each place's written neighbourhoods become a solution (the centre serving each LSOA is its neighbourhood's
    hub), which :func:`~footprint.plan.build_plan` labels and verifies exactly as during the run. Solver
    figures (status, objective, bound, gap, method) come from run.json.

    Raises
    ------
    InputDataError
        When run.json and the files disagree, or the rebuilt plan differs from the written one (its ids or its
        verdict), e.g. because assignment.csv was edited; ``footprint check`` tells what fails.
    """
    record_path = run.run_dir / "run.json"
    entries = {p["place_code"]: p for p in run.record["places"]}
    dataset, graph, problems = load_problems(run, sorted(entries))
    unknown = sorted(set(entries) - set(problems))
    if unknown:
        raise InputDataError(f"{record_path}: lists places not in the inputs: {', '.join(unknown)}")
    hub_of = dict(zip(run.neighbourhoods[C.NEIGHBOURHOOD], run.neighbourhoods[C.HUB_ID], strict=True))
    written = dict(zip(run.assignment[C.LSOA_CODE], run.assignment[C.NEIGHBOURHOOD], strict=True))
    solutions: dict[str, PlaceSolution] = {}
    for place, entry in sorted(entries.items()):
        problem = problems[place]
        status = entry["status"]
        assignment = np.zeros(0, dtype=np.int64)
        if status in GOOD_STATUSES:
            centre = {hub: c for c, hub in enumerate(problem.centre_ids)}
            try:
                assignment = np.array(
                    [centre[hub_of[written[code]]] for code in problem.unit_codes], dtype=np.int64
                )
            except KeyError as error:
                raise InputDataError(
                    f"{run.run_dir}: place {place}: {error.args[0]} has no neighbourhood or hub in assignment.csv "
                    "and neighbourhoods.csv; run footprint check on this folder"
                ) from None
        solutions[place] = PlaceSolution(
            place_code=place,
            status=status,
            assignment=assignment,
            objective=_float(entry.get("objective")),
            bound=_float(entry.get("bound")),
            gap=_float(entry.get("gap")),
            terms={k: _float(v) for k, v in (entry.get("terms") or {}).items()},
            method=entry.get("method", ""),
            solver=entry.get("solver", ""),
            iterations=int(entry.get("iterations", 0) or 0),
            message=entry.get("message", ""),
            model={k: int(v) for k, v in (entry.get("model") or {}).items()},
            heuristic_runs=int(entry.get("heuristic_runs", 0) or 0),
        )
    plan = build_plan(dataset, graph, problems, solutions)
    changed = sorted(p for p in entries if plan.statuses[p] != entries[p]["status"])
    if changed:
        raise InputDataError(
            f"{run.run_dir}: the written plan no longer verifies for {', '.join(changed)}; run footprint check "
            "on this folder"
        )
    rebuilt = dict(zip(plan.assignment[C.LSOA_CODE], plan.assignment[C.NEIGHBOURHOOD], strict=True))
    if rebuilt != written:
        differ = sorted(
            code for code in set(rebuilt) | set(written) if rebuilt.get(code) != written.get(code)
        )
        raise InputDataError(
            f"{run.run_dir}/assignment.csv: {len(differ):,} LSOAs differ from the plan rebuilt from the inputs "
            f"(e.g. {', '.join(differ[:5])}); the file was edited or the inputs changed: re-run footprint run"
        )
    return plan


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
