"""Re-verify a written plan (``footprint check RUN_DIR``) against the scenario's inputs, from files alone.

Reads ``run.json`` (the resolved scenario it was made from), ``assignment.csv`` and ``neighbourhoods.csv``,
re-reads the inputs and rebuilds the contiguity graph, then runs the independent verifier on every place the run
reported as solved. Inputs whose sha256 differs from the record are reported, since the verdict is then against
different data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from footprint import columns as C
from footprint.config import scenario_from_dict
from footprint.dataset import hash_inputs, load_dataset
from footprint.errors import InputDataError
from footprint.graph import build_graph
from footprint.instance import build_place_problem, pcn_home_places
from footprint.plan import rules_for
from footprint.verify import Verdict, verify_plan


@dataclass
class Audit:
    """The result of re-checking a written run."""

    run_dir: Path
    verdicts: dict[str, Verdict]
    changed_inputs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(v.ok for v in self.verdicts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "changed_inputs": self.changed_inputs,
            "problems": self.problems,
            "places": {place: verdict.to_dict() for place, verdict in sorted(self.verdicts.items())},
        }


def _read_run_file(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputDataError(f"{path}: {what} is missing; is this a footprint run folder?")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def audit_run(run_dir: str | Path) -> Audit:
    """Re-verify the plan written in ``run_dir``."""
    run_dir = Path(run_dir)
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        raise InputDataError(f"{record_path}: no run.json; give the folder a footprint run wrote.")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputDataError(f"{record_path}: not valid JSON ({error.msg} at line {error.lineno}).") from None
    scenario = scenario_from_dict(
        record["config"], source=Path(record["scenario"]["file"]) if record["scenario"].get("file") else None
    )
    assignment = _read_run_file(run_dir / "assignment.csv", "assignment.csv")
    hoods = _read_run_file(run_dir / "neighbourhoods.csv", "neighbourhoods.csv")

    audit = Audit(run_dir=run_dir, verdicts={})
    recorded = {path: entry["sha256"] for path, entry in record.get("inputs", {}).items()}
    current = hash_inputs(scenario)
    audit.changed_inputs = sorted(p for p in recorded if current.get(p) != recorded[p])

    dataset = load_dataset(scenario)
    graph = build_graph(dataset.units, scenario.graph)
    homes = pcn_home_places(dataset)
    solved = [
        p["place_code"] for p in record["places"] if p["status"] in ("optimal", "feasible", "heuristic")
    ]
    unknown = sorted(set(solved) - set(dataset.place_codes))
    if unknown:
        audit.problems.append(f"run.json lists places not in the inputs: {', '.join(unknown)}")
    problems = {
        place: build_place_problem(dataset, graph, place, pcn_homes=homes)
        for place in solved
        if place in dataset.place_codes
    }
    rules = rules_for(dataset, problems)
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
