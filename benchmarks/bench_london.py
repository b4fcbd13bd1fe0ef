"""Solve every London place from the real files and tabulate per-place size, status, gap and time.

Usage: ``python benchmarks/bench_london.py [--time-limit 60] [--workers 2] [--out runs/bench-london]``.
Runs ``footprint run configs/london.yaml`` in a fresh process (wall time and peak memory as a user sees them),
then reads the decision record (run.json) and prints a Markdown table for BENCHMARKS.md, with each plan's distance
above the best plan known for its place (``benchmarks/best_known.json``, kept by ``bench_reference.py``). With
``--record``, a written plan better than the best known, or a bound higher than the best proved, is recorded there
(every plan ``footprint run`` writes has passed the independent verifier).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KNOWN = REPO / "benchmarks" / "best_known.json"
sys.path.insert(0, str(REPO / "benchmarks"))
import bench_reference  # noqa: E402  (the record's one keeper)

#: A default plan counts as near the best known within this (relative; issue 19's target 2).
NEAR = 0.003


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _above(place: dict, known: dict | None) -> tuple[str, bool | None]:
    """How far ``place``'s plan is above the best known, and whether that is within ``NEAR`` (None: no record)."""
    entry = None if known is None else known["places"].get(place["place_code"])
    objective = place.get("objective")
    best = None if entry is None else entry.get("objective")
    if best is None or objective is None or not math.isfinite(objective) or best <= 0:
        return "", None
    above = (objective - best) / best
    if above < -bench_reference.BETTER:
        return "**better**", True
    return f"{max(above, 0.0):.2%}", above <= NEAR + bench_reference.BETTER


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "runs" / "bench-london"))
    parser.add_argument("--extra", nargs="*", default=[], help="extra arguments for footprint run")
    parser.add_argument(
        "--tabulate",
        type=float,
        metavar="WALL_SECONDS",
        help="do not run: tabulate the run already in --out, whose wall time (measured by you) was this",
    )
    parser.add_argument("--known", default=str(KNOWN), help="the best plans known (bench_reference.py)")
    parser.add_argument("--record", action="store_true", help="record better plans and bounds in --known")
    args = parser.parse_args()
    if args.record and args.extra:
        parser.error("--record with --extra: the run's settings may not be the record's; record without them")
    command = [
        sys.executable,
        "-m",
        "footprint",
        "run",
        str(REPO / "configs" / "london.yaml"),
        "--out",
        args.out,
        "--time-limit",
        str(args.time_limit),
        "--workers",
        str(args.workers),
        "--quiet",
        *args.extra,
    ]
    if args.tabulate is None:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    else:
        done = subprocess.CompletedProcess(command, 0, "", "")
        wall, peak = args.tabulate, float("nan")
    record = json.loads((Path(args.out) / "run.json").read_text(encoding="utf-8"))
    rows = []
    for place in record["places"]:
        seconds = record["timing"]["places"].get(place["place_code"], {})
        rows.append((place, seconds))
    print(f"machine: {platform.machine()}, {platform.python_version()}, exit code {done.returncode}")
    print(
        f"command: footprint run configs/london.yaml --time-limit {args.time_limit:g} --workers {args.workers}"
    )
    print(
        f"wall {wall:.0f} s, peak RSS of the largest process {peak:.0f} MiB; stages: {record['timing']['seconds']}"
    )
    stages = record["timing"]["seconds"]
    per_place: dict[str, float] = {}
    for _, seconds in rows:
        for stage, value in seconds.items():
            if stage != "total":
                per_place[stage] = per_place.get(stage, 0.0) + value
    outside = max(wall - stages.get("total", 0.0), 0.0)
    print(
        "share of wall time: reading + graph + problems (validate) "
        f"{stages.get('validate', 0) / wall:.0%}, solving {stages.get('solve', 0) / wall:.0%}, verify + metrics "
        f"{stages.get('verify', 0) / wall:.0%}, writing outputs + start-up {outside / wall:.0%}"
    )
    busy = sum(per_place.values()) or 1.0
    print(
        "inside the place solves (summed over places): "
        + ", ".join(f"{stage} {value / busy:.0%}" for stage, value in sorted(per_place.items()))
    )
    print()
    print(
        "| place | name | LSOAs | k | x vars | root LP columns | root LPs (by IPM) | PCN cuts | fixed | status | gap | "
        "objective | bound | time (s) | above best known |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    config = bench_reference.config_name(str(REPO / "configs" / "london.yaml"))
    known = bench_reference.load_known(Path(args.known), config)
    near: list[bool] = []
    revision = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    how = (
        f"footprint run configs/london.yaml --time-limit {args.time_limit:g} --workers {args.workers} "
        f"(bench_london.py) at {revision or 'unknown'}"
        if args.tabulate is None
        else f"footprint run configs/london.yaml (its run.json in {args.out}, tabulated by bench_london.py)"
    )
    times = []
    for place, seconds in rows:
        total = sum(v for k, v in seconds.items() if k != "total") if seconds else float("nan")
        times.append(total)
        gap = place.get("gap")
        model = place.get("model", {})
        above, close = _above(place, known)
        if close is not None:
            near.append(close)
        print(
            f"| {place['place_code']} | {place['place_name']} | {place.get('lsoas', '')} | "
            f"{place.get('neighbourhoods', '')} | {model.get('x_variables', '')} | "
            f"{model.get('root_lp_columns', '')} | {model.get('root_lps', '')} ({model.get('root_lps_by_interior_point', 0)}) | {model.get('pcn_cuts', '')} | "
            f"{model.get('fixed_by_reduced_cost', '')} | {place['status']} | "
            f"{'' if gap is None else f'{gap:.2%}'} | {_num(place.get('objective'))} | {_num(place.get('bound'))} | "
            f"{total:.1f} | {above} |"
        )
    finite = [t for t in times if t == t]
    gaps = [p.get("gap") for p, _ in rows if p.get("gap") is not None]
    if finite:
        print(f"\nmedian place {statistics.median(finite):.1f} s, slowest {max(finite):.1f} s")
    if gaps:
        within = sum(1 for g in gaps if g <= 0.005)
        print(
            f"gap <= 0.5%: {within} of {len(rows)} places; median gap {statistics.median(gaps):.2%}, worst {max(gaps):.2%}"
        )
    recorded: list[str] = []
    if args.record and done.returncode in (0, 1):  # every plan a run writes has passed the verifier
        for place, _ in rows:
            done_here, _ = bench_reference.record(
                Path(args.known),
                config,
                place["place_code"],
                place["place_name"],
                place.get("objective"),
                place.get("bound"),
                how,
            )
            recorded += [f"{place['place_name']} {what}" for what in done_here]
    if near:
        print(
            f"within {NEAR:.1%} of the best known: {sum(near)} of {len(near)} places"
            + (f"; recorded in {args.known}: {', '.join(recorded)}" if recorded else "")
        )
    if done.returncode not in (0, 1):
        print(done.stderr[-3000:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
