"""Bring your own map: evaluate and repair today's map (each LSOA's dominant PCN) of every London place.

For each place: the status quo map is written as a table (lsoa_code -> dominant PCN, the scenario's default
baseline), evaluated (breaches by rule) and repaired (least residents moved), each timed. Writes a CSV with one row
per place and prints a Markdown table for BENCHMARKS.md.

    PYTHONPATH=src python benchmarks/bench_byom.py --time-limit 45 --out /tmp/byom.csv [--place E09000007 ...]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from footprint import columns as C
from footprint.config import load_scenario
from footprint.evaluate import build_evaluation, repair_map
from footprint.mapinput import read_map
from footprint.validate import validate_scenario

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "london.yaml"))
    parser.add_argument("--time-limit", type=float, default=45.0)
    parser.add_argument("--place", action="append")
    parser.add_argument("--out", default="byom.csv")
    args = parser.parse_args()
    scenario = load_scenario(
        args.config, overrides=[f"solver.time_limit={args.time_limit}", "solver.threads=1"]
    )
    report = validate_scenario(scenario, places=args.place)
    units = report.dataset.units
    map_path = Path(args.out).with_suffix(".statusquo.csv")
    units[[C.LSOA_CODE]].assign(neighbourhood=units["baseline"].astype("object")).to_csv(
        map_path, index=False
    )
    rows = []
    for place in sorted(report.problems):
        problem = report.problems[place]
        started = time.perf_counter()
        one = {place: problem}
        evaluation = build_evaluation(report.dataset, report.graph, one, read_map(map_path, units))
        evaluate_s = time.perf_counter() - started
        rules = Counter(b.rule for b in evaluation.breaches if b.place_code in ("", place))
        started = time.perf_counter()
        repair = repair_map(scenario, map_path, places=[place])
        repair_s = time.perf_counter() - started
        solution = repair.plan.solutions[place]
        moved = repair.residents_moved()[place]
        rows.append(
            {
                "place": place,
                "name": problem.place_name,
                "lsoas": problem.n_units,
                "residents": problem.total_population,
                "pcn_units": len({label for label in evaluation.labels[place] if label}),
                "breaches": sum(rules.values()),
                "by_rule": "; ".join(f"{rule} {n}" for rule, n in sorted(rules.items())),
                "repair_status": repair.plan.statuses[place],
                "method": solution.method,
                "gap": solution.gap,
                "lsoas_moved": int((repair.moves[C.PLACE_CODE] == place).sum()) if len(repair.moves) else 0,
                "residents_moved": moved,
                "share_moved": moved / max(problem.total_population, 1),
                "evaluate_s": round(evaluate_s, 2),
                "repair_s": round(repair_s, 1),
            }
        )
        print(rows[-1], flush=True)
        pd.DataFrame(rows).to_csv(args.out, index=False)
    frame = pd.DataFrame(rows)
    print(frame.to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
