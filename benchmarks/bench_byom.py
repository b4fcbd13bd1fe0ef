"""Bring your own map: evaluate and repair today's map (each LSOA's dominant PCN) of every London place.

The inputs are read once; the status quo map is written as a table (lsoa_code -> dominant PCN, the scenario's
default baseline) and evaluated once for all places; then each place is repaired (least residents moved, the
least-change model of ``footprint.leastchange``) in this process, timed. Writes a CSV with one row per place and
prints a Markdown table for BENCHMARKS.md.

    PYTHONPATH=src python benchmarks/bench_byom.py --time-limit 45 --out /tmp/byom.csv [--place E09000007 ...] [--counted]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from footprint import columns as C
from footprint.config import load_scenario
from footprint.evaluate import build_evaluation, build_repair
from footprint.mapinput import read_map
from footprint.validate import validate_scenario

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "london.yaml"))
    parser.add_argument("--time-limit", type=float, default=45.0)
    parser.add_argument("--place", action="append")
    parser.add_argument("--out", default="byom.csv")
    parser.add_argument(
        "--counted", action="store_true", help="solver.counted: node limits, not the clock, stop each repair"
    )
    args = parser.parse_args()
    overrides = [f"solver.time_limit={args.time_limit}", "solver.threads=1"]
    scenario = load_scenario(
        args.config, overrides=overrides + (["solver.counted=true"] if args.counted else [])
    )
    started = time.perf_counter()
    report = validate_scenario(scenario, places=args.place)
    units = report.dataset.units
    map_path = Path(args.out).with_suffix(".statusquo.csv")
    units[[C.LSOA_CODE]].assign(neighbourhood=units["baseline"].astype("object")).to_csv(
        map_path, index=False
    )
    map_input = read_map(map_path, units)
    print(f"inputs read and the map loaded in {time.perf_counter() - started:.1f} s", flush=True)
    rows = []
    for place in sorted(report.problems):
        problem = report.problems[place]
        one = {place: problem}
        started = time.perf_counter()
        evaluation = build_evaluation(report.dataset, report.graph, one, map_input)
        evaluate_s = time.perf_counter() - started
        rules = Counter(b.rule for b in evaluation.breaches if b.place_code == place)
        started, cpu = time.perf_counter(), time.process_time()
        repair = build_repair(report.scenario, report.dataset, report.graph, one, evaluation)
        repair_s, repair_cpu = time.perf_counter() - started, time.process_time() - cpu
        solution = repair.plan.solutions[place]
        moved = repair.residents_moved()[place]
        total = max(problem.total_population, 1)
        rows.append(
            {
                "place": place,
                "name": problem.place_name,
                "lsoas": problem.n_units,
                "residents": problem.total_population,
                "k": f"{problem.k_min}-{problem.k_max}",
                "pcn_units": len({label for label in evaluation.labels[place] if label}),
                "breaches": sum(rules.values()),
                "by_rule": "; ".join(f"{rule} {n}" for rule, n in sorted(rules.items())),
                "repair_status": repair.plan.statuses[place],
                "method": solution.method,
                "gap": solution.gap,
                "lsoas_moved": int((repair.moves[C.PLACE_CODE] == place).sum()) if len(repair.moves) else 0,
                "residents_moved": moved,
                "at_least": round(solution.bound * total) if math.isfinite(solution.bound) else None,
                "share_moved": moved / total,
                "evaluate_s": round(evaluate_s, 2),
                "repair_s": round(repair_s, 1),
                "repair_cpu_s": round(repair_cpu, 1),
            }
        )
        print(rows[-1], flush=True)
        pd.DataFrame(rows).to_csv(args.out, index=False)
    frame = pd.DataFrame(rows)
    print(frame.to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
