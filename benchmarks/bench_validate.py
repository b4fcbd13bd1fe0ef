"""Time ``footprint validate`` on the real London scenario (target: under 30 s on a 2-core machine).

Usage: ``python benchmarks/bench_validate.py [--repeat 3]``. Runs the CLI in a fresh process each time (so imports
and file reading are included, as a user sees them) and prints each wall time, the median and the peak memory.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--config", default=str(REPO / "configs" / "london.yaml"))
    args = parser.parse_args()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "footprint", "validate", args.config, "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])
            return done.returncode
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print("validate wall times (s): " + ", ".join(f"{t:.2f}" for t in times))
    print(f"median {statistics.median(times):.2f} s; peak RSS {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
