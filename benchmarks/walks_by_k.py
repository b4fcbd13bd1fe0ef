"""Every heuristic walk of every run at every k, recorded; then which k to walk, judged on the record.

Usage::

    PYTHONPATH=src python benchmarks/walks_by_k.py record --out walks.jsonl [--problems /tmp/exp/london.pkl]
        [--places E09000006 ...] [--runs 8] [--seed 0]
    python benchmarks/walks_by_k.py judge walks.jsonl [more.jsonl ...] [--verbose]

``record``: for each place, run r and every feasible k, the heuristic's starts at k exactly as
:func:`footprint.heuristic.solve_heuristic` draws them (generator ``[seed, r, 0, k]``, 4 restarts, both growth
modes, repair and local search), then the merge-split walk (generator ``[seed, r, 1]``, the full iterations) from
the best start at k. One JSON line per (place, run, k): the best start's objective, the walk's (the better of
the two), CPU seconds of each. Two processes on disjoint ``--places`` share a 2-core machine.

``judge``: replays, from the record, what each rule for choosing the k a run walks would have reached with the
same walks (one a run; a run's plan is the best of its walk and its starts at every k tried): each run's best
start among the old four k spread over the range; among every k; every k with the walks shared out by
:func:`footprint.heuristic._walk_k` (what ``solve_heuristic`` does); and the best of all walks recorded (runs x k
walks, not affordable: the yardstick). Prints, per rule, the mean and worst
distance above the yardstick and the places within 0.3% of it.

``--problems`` is a pickle of place_code -> :class:`footprint.problem.PlaceProblem` (``bench_heuristic.py``).
"""

from __future__ import annotations

import argparse
import collections
import json
import pickle
import statistics
import sys
import time

import numpy as np

from footprint import heuristic as H


def record(args: argparse.Namespace) -> int:
    with open(args.problems, "rb") as handle:
        problems = pickle.load(handle)
    codes = args.places or sorted(problems)
    with open(args.out, "a", encoding="utf-8") as out:
        for code in codes:
            problem = problems[code]
            allowed = H.allowed_matrix(problem)
            neighbours = problem.neighbours()
            shared = H._Shared(problem)
            for run in range(args.runs):
                for k in H._candidate_ks(problem):
                    clock = time.process_time()
                    rng = np.random.default_rng([args.seed, run, 0, k])
                    best: H.HeuristicResult | None = None
                    best_state = None
                    for attempt in range(args.restarts + 1):
                        if attempt == args.restarts:
                            points = H._pcn_points(problem, k)
                            if points is None:
                                continue
                            centres = H._choose_seeds(problem, k, allowed, rng, start=points)
                        else:
                            centres = H._choose_seeds(problem, k, allowed, rng)
                        if centres is None:
                            continue
                        for balanced in (False, True):
                            region = H._grow(problem, centres, allowed, neighbours, balanced=balanced)
                            if region is None:
                                continue
                            state = H._State(problem, centres, region, shared)
                            if not H._repair(state, allowed, neighbours):
                                continue
                            H._improve(state, allowed, neighbours)
                            candidate = H._valid_result(state)
                            if candidate is not None and (
                                best is None or candidate.objective < best.objective - 1e-12
                            ):
                                best, best_state = candidate, state
                    started = time.process_time()
                    walk = None
                    if best_state is not None:
                        state, _, _ = H._recombination_search(
                            best_state,
                            allowed,
                            neighbours,
                            np.random.default_rng([args.seed, run, 1]),
                            iterations=H.RECOMBINE_ITERATIONS,
                        )
                        H._improve(state, allowed, neighbours)
                        walked = H._valid_result(state)
                        walk = best.objective
                        if walked is not None and walked.objective < best.objective - 1e-12:
                            walk = walked.objective
                    row = {
                        "place": code,
                        "run": run,
                        "k": k,
                        "start": None if best is None else best.objective,
                        "walk": walk,
                        "start_seconds": round(started - clock, 3),
                        "walk_seconds": round(time.process_time() - started, 3),
                    }
                    out.write(json.dumps(row) + "\n")
                    out.flush()
            print(code, problem.place_name, flush=True)
    return 0


def judge(args: argparse.Namespace) -> int:
    rows = collections.defaultdict(dict)
    for path in args.files:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                rows[row["place"]][(row["run"], row["k"])] = row
    inf = float("inf")

    def value(code: str, run: int, k: int, key: str) -> float:
        found = rows[code].get((run, k), {}).get(key)
        return inf if found is None else found

    def old_four(ks: list[int]) -> list[int]:
        if len(ks) <= 4:
            return ks
        return sorted({ks[i] for i in np.linspace(0, len(ks) - 1, 4).round().astype(int)})

    def best_start(code: str, ks: list[int], runs: int) -> float:
        reached = inf
        for run in range(runs):
            k = min(ks, key=lambda k: (value(code, run, k, "start"), k))
            reached = min(reached, value(code, run, k, "walk"))  # the best start of the run is the walk's
        return reached

    def shared_out(code: str, ks: list[int], runs: int) -> float:
        reached, walked = inf, {}
        for run in range(runs):
            starts = {k: value(code, run, k, "start") for k in ks if value(code, run, k, "start") < inf}
            if not starts:
                continue
            k = H._walk_k(starts, walked)
            walk = value(code, run, k, "walk")
            walked[k] = min(walked.get(k, inf), walk)
            reached = min(reached, walk, *starts.values())  # a start at a k not walked can beat the walk
        return reached

    rules = {
        "best start, old four k": lambda c, ks, n: best_start(c, old_four(ks), n),
        "best start, every k": best_start,
        "every k, walks shared out (_walk_k)": shared_out,
    }
    codes = sorted(rows)
    reached = {name: {} for name in rules}
    yardstick = {}
    for code in codes:
        ks = sorted({k for _, k in rows[code]})
        runs = 1 + max(run for run, _ in rows[code])
        yardstick[code] = min(value(code, run, k, "walk") for run in range(runs) for k in ks)
        for name, rule in rules.items():
            reached[name][code] = rule(code, ks, runs)
    print(
        f"{len(codes)} places; yardstick: the best of all {sum(len(r) for r in rows.values())} walks recorded"
    )
    for name in rules:
        above = [100 * (reached[name][c] / yardstick[c] - 1) for c in codes]
        print(
            f"{name:38s} above the yardstick: mean {statistics.mean(above):.2f}%, worst {max(above):.2f}%, "
            f"within 0.3% on {sum(a <= 0.3 for a in above)}"
        )
    if args.verbose:
        for code in codes:
            print(code, " ".join(f"{reached[name][code]:.5f}" for name in rules), f"{yardstick[code]:.5f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("--out", required=True)
    rec.add_argument("--problems", default="/tmp/exp/london.pkl")
    rec.add_argument("--places", nargs="*")
    rec.add_argument("--runs", type=int, default=8)
    rec.add_argument("--restarts", type=int, default=4)
    rec.add_argument("--seed", type=int, default=0)
    jud = commands.add_parser("judge")
    jud.add_argument("files", nargs="+")
    jud.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    return record(args) if args.command == "record" else judge(args)


if __name__ == "__main__":
    sys.exit(main())
