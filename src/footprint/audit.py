"""Read a written run back from its folder: re-verify it (``footprint check``) or rebuild its plan (``footprint report``).

:func:`read_run` reads ``run.json`` (the resolved scenario it was made from, each neighbourhood's hub) and
``assignment.csv`` and compares the sha256 of every input with the record. :func:`audit_run` then re-reads the
inputs, rebuilds the contiguity graph and runs the independent verifier on every place the run reported as solved
(inputs whose sha256 differs are reported, since the verdict is then against different data).
:func:`rebuild_plan` turns the written assignment back into a :class:`~footprint.plan.Plan` (relabelled and
re-verified exactly as a run does), so :func:`regenerate_products` rewrites every product without solving again.
This module reads and writes through :mod:`footprint.export`, which never imports it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint.config import Scenario, paths_resolved_from, scenario_from_dict
from footprint.dataset import Dataset, hash_inputs, load_dataset
from footprint.errors import InputDataError
from footprint.export import CHANGE_FILES, _write_geo, read_run_record, write_csv, write_products
from footprint.graph import ContiguityGraph, build_graph
from footprint.instance import build_place_problem, pcn_home_places
from footprint.mapinput import MapInput
from footprint.mapplan import Evaluation, breach_layer, build_evaluation, evaluation_notes
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
    #: place -> status of the places the run wrote no plan for (infeasible, failed): nothing to verify there
    unplanned: dict[str, str] = field(default_factory=dict)
    #: an evaluated map's folder: every breach found again, one line each (empty for a run)
    breaches: list[str] = field(default_factory=list)
    evaluated: bool = False

    @property
    def ok(self) -> bool:
        """Every plan written verifies, there was at least one to verify (nothing verified is no pass), and an
        evaluated map breaks no rule."""
        return (
            not self.problems
            and not self.breaches
            and bool(self.verdicts)
            and all(v.ok for v in self.verdicts.values())
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "changed_inputs": self.changed_inputs,
            "problems": self.problems,
            **({"evaluated": True, "breaches": self.breaches} if self.evaluated else {}),
            "places": {place: verdict.to_dict() for place, verdict in sorted(self.verdicts.items())},
            "unplanned": dict(sorted(self.unplanned.items())),
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
        evaluation = reevaluate(run)
        audit.evaluated = True
        audit.verdicts = dict(evaluation.plan.verdicts)
        audit.breaches = [f"{b.place_code or 'map'}, {b.rule}: {b.message}" for b in evaluation.breaches]
        return audit
    solved = [p["place_code"] for p in run.record["places"] if p["status"] in GOOD_STATUSES]
    audit.unplanned = {
        p["place_code"]: p["status"] for p in run.record["places"] if p["status"] not in GOOD_STATUSES
    }
    if not solved:
        statuses = ", ".join(f"{place} {status}" for place, status in sorted(audit.unplanned.items()))
        audit.problems.append(
            f"{run.run_dir}: no place has a plan to verify: run.json records no planned place"
            f"{f' ({statuses})' if statuses else ''}; re-run footprint run with settings under which a place "
            "can be planned (footprint validate says why each cannot)"
        )
        return audit
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


def regenerate_products(run_dir: Path, *, allow_changed_inputs: bool = False) -> list[Path]:
    """Rewrite the products of the run in ``run_dir`` from its assignment and record, without solving again.

    The inputs are re-read (their sha256 must match run.json unless ``allow_changed_inputs``, in which case the
    report says so), the plan is rebuilt and re-verified (:func:`rebuild_plan`), and each product
    is written to a temporary folder, then renamed into ``run_dir``. Returns the files rewritten (sorted).

    Raises
    ------
    InputDataError
        When ``run_dir`` is not a run folder, an input changed (and not allowed), or the written plan no longer
        matches its inputs.
    """
    run = read_run(run_dir)
    if run.changed_inputs and not allow_changed_inputs:
        raise InputDataError(
            f"{run.run_dir}: inputs changed since the run ({', '.join(run.changed_inputs)}); re-run footprint run, "
            "or pass --allow-changed-inputs to report against the current files"
        )
    notes: tuple[str, ...] = ()
    if run.changed_inputs:
        notes = (
            "These inputs changed after the plan was solved; the figures below are computed from the current "
            f"files: {', '.join(run.changed_inputs)}.",
        )
    if run.record.get("status") == "evaluated":  # a map brought to footprint: evaluated again, not rebuilt
        return regenerate_evaluation(run, notes)
    plan = rebuild_plan(run)
    staging = Path(tempfile.mkdtemp(prefix=f".{run.run_dir.name}.report-", dir=run.run_dir.parent))
    try:
        write_products(plan, run.record, staging, notes=notes)
        written = sorted(staging.iterdir())
        for path in written:
            os.replace(path, run.run_dir / path.name)
        names = {path.name for path in written}
        for name in CHANGE_FILES:  # a plan with no baseline now must not keep the change files of before
            if name not in names:
                (run.run_dir / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(run.run_dir / path.name for path in written)


def reevaluate(run: WrittenRun) -> Evaluation:
    """The map of an evaluated folder evaluated again on the current inputs: its written ``assignment.csv`` (ids
    ``label@place`` back to the map's label, so a neighbourhood crossing places is found again) with the map's
    record (path, sha256, kind). LSOAs the map left out are still left out; an LSOA the map gave twice was written
    once (the first), so that breach is not found again."""
    places = [entry["place_code"] for entry in run.record["places"]]
    dataset, graph, problems = load_problems(run, places)
    written = run.assignment
    labels = pd.DataFrame(
        {
            C.LSOA_CODE: written[C.LSOA_CODE],
            "label": written[C.NEIGHBOURHOOD].str.split("@").str[0],
            "name": pd.NA,
            "keep": False,
        }
    )
    names_path = run.run_dir / "neighbourhoods.csv"
    if names_path.is_file():
        names = pd.read_csv(names_path, dtype=str, keep_default_na=False)
        if "neighbourhood_name" in names:
            display = dict(zip(names[C.NEIGHBOURHOOD], names["neighbourhood_name"], strict=True))
            labels["name"] = written[C.NEIGHBOURHOOD].map(display).where(lambda s: s.notna(), pd.NA)
    split_path = run.run_dir / "split_lsoas.csv"
    entry = run.record.get("map", {})
    map_input = MapInput(
        path=Path(str(entry.get("path", "map"))),
        sha256=str(entry.get("sha256", "")),
        kind=str(entry.get("kind", "table")),
        labels=labels,
        columns=dict(entry.get("columns", {})),
    )
    if split_path.is_file():
        map_input = replace(map_input, split=pd.read_csv(split_path, dtype=str))
    return build_evaluation(dataset, graph, problems, map_input)


def regenerate_evaluation(run: WrittenRun, notes: tuple[str, ...] = ()) -> list[Path]:
    """Rewrite the products of an evaluated folder (report, maps, tables, breaches) from its assignment and record,
    in place, without touching run.json (:func:`regenerate_products` for a run)."""
    evaluation = reevaluate(run)
    staging = Path(tempfile.mkdtemp(prefix=f".{run.run_dir.name}.report-", dir=run.run_dir.parent))
    try:
        write_products(evaluation.plan, run.record, staging, notes=notes + evaluation_notes(evaluation))
        write_csv(evaluation.breaches_table(), staging / "breaches.csv")
        layer = breach_layer(evaluation)
        if layer is not None and (staging / "neighbourhoods.gpkg").is_file():
            _write_geo(layer, staging / "neighbourhoods.gpkg", layer="breaches", driver="GPKG", append=True)
        written = sorted(staging.iterdir())
        for path in written:
            os.replace(path, run.run_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(run.run_dir / path.name for path in written)
