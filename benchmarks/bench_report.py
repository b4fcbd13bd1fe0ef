"""Time the reports and maps of a London plan, and their sizes (issue 4: map < ~30 s, map.html < ~10 MB).

Usage: ``python benchmarks/bench_report.py [--run-dir DIR] [--places CODE ...] [--repeat 3]``. Without
``--run-dir`` it first writes a plan of all of London with the heuristic alone (``footprint run
configs/london.yaml --method heuristic``; the reports do not depend on how the plan was found). Then it times
``footprint report RUN_DIR`` (re-reading the inputs, rebuilding and re-verifying the plan, writing every product)
in a fresh process, and the map and report renderers alone in this process, and prints the size of each product.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "footprint", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"footprint {' '.join(args)} failed ({done.returncode}): {done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-dir", type=Path, help="an existing London run folder (default: write one)")
    parser.add_argument("--places", nargs="*", default=[], help="place codes (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = Path(tempfile.mkdtemp(prefix="bench-report-")) / "london"
        places = [arg for code in args.places for arg in ("--place", code)]
        seconds = _cli(
            "run",
            str(REPO / "configs" / "london.yaml"),
            "--out",
            str(run_dir),
            "--method",
            "heuristic",
            "--quiet",
            *places,
        )
        print(f"footprint run --method heuristic: {seconds:.1f} s -> {run_dir}")

    times = [_cli("report", str(run_dir), "--quiet") for _ in range(args.repeat)]
    print(
        f"footprint report (fresh process, inputs re-read and plan re-verified): median {statistics.median(times):.1f} s "
        f"of {', '.join(f'{t:.1f}' for t in times)}"
    )

    from footprint.audit import read_run, rebuild_plan
    from footprint.layers import build_layers
    from footprint.maps import render_map_html, render_map_png
    from footprint.report import render_html, render_markdown

    run = read_run(run_dir)
    plan = rebuild_plan(run)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    stages: dict[str, list[float]] = {"layers": [], "map.png": [], "map.html": [], "report.md+html": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        layers = build_layers(plan)
        stages["layers"].append(time.perf_counter() - start)
        start = time.perf_counter()
        png = render_map_png(layers, title="t", subtitle="s")
        stages["map.png"].append(time.perf_counter() - start)
        start = time.perf_counter()
        render_map_html(layers, title="t", subtitle="s")
        stages["map.html"].append(time.perf_counter() - start)
        start = time.perf_counter()
        render_html(render_markdown(plan, record), map_png=png, title="t")
        stages["report.md+html"].append(time.perf_counter() - start)
    for stage, values in stages.items():
        print(f"{stage}: median {statistics.median(values):.2f} s (metrics cached after the first round)")
    print(f"{len(plan.assignment):,} LSOAs, {len(plan.neighbourhoods):,} neighbourhoods")
    for name in ("map.png", "map.html", "report.md", "report.html", "neighbourhoods.gpkg"):
        print(f"{name}: {(run_dir / name).stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
