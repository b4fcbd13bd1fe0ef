"""The benchmark scripts' own logic: the peers' common yardstick and the synthetic England generator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from problems import grid_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_england
import bench_peers

from footprint.verify import PlanRules


def _rules(problem) -> PlanRules:
    return bench_england.rules(problem)


def test_best_centres_minimise_population_times_squared_distance() -> None:
    """Units 0-1-2-3 a km apart with 10, 20, 20, 10 people; regions {0,1} and {2,3}.

    Centre 1 costs 10 x 1^2 = 10 for region {0,1} against 20 for centre 0; by symmetry region {2,3} takes 2.
    """
    problem = grid_problem(1, 4, population=[10, 20, 20, 10])
    assignment = bench_peers.best_centres(problem, np.array([0, 0, 1, 1]))
    assert assignment.tolist() == [1, 1, 2, 2]


def test_judge_prices_every_plan_and_checks_k_and_bounds() -> None:
    problem = grid_problem(1, 4, population=[10, 20, 20, 10], pop_min=30, pop_max=30, k_min=2, k_max=2)
    good = bench_peers.judge(problem, np.array([0, 0, 1, 1]), _rules(problem))
    assert good["valid"] and good["k"] == 2 and good["in_bounds"] == 1.0
    # access: 2 x (10 x 1^2) over S = P R^2 / 2 with R^2 = A / (pi k_min) = 4 / (2 pi): 20 / (60 / pi) = pi / 3
    assert abs(good["terms"]["access"] - np.pi / 3) < 1e-9 and good["objective"] == good["terms"]["access"]
    one = bench_peers.judge(problem, np.array([0, 0, 0, 0]), _rules(problem))
    assert not one["valid"] and one["in_bounds"] == 0.0 and one["objective"] > good["objective"]
    assert any(f.startswith("count: place P1 has 1 neighbourhoods, allowed 2-2") for f in one["failures"])
    split = bench_peers.judge(problem, np.array([0, 1, 1, 0]), _rules(problem))
    assert any(f.startswith("contiguous: neighbourhood R0 is in pieces") for f in split["failures"])
    assert bench_peers.judge(problem, None, _rules(problem))["failures"] == ["no plan"]


def test_choose_k_and_recom_tolerance_keep_parts_in_bounds() -> None:
    problem = grid_problem(1, 10, population=[10_000] * 10, pop_min=30_000, pop_max=50_000, k_min=2, k_max=3)
    assert bench_peers.choose_k(problem) == 3  # 33,333 and 50,000 per part: 3 is nearer the middle, 40,000
    target, epsilon = bench_peers.recom_tolerance(problem, 3)
    assert target * (1 - epsilon) >= 30_000 - 1e-6 and target * (1 + epsilon) <= 50_000 + 1e-6


def test_synthetic_england_places_are_connected_feasible_and_reproducible() -> None:
    places = bench_england.build_england(places=4, lsoas=240, seed=3)
    again = bench_england.build_england(places=4, lsoas=240, seed=3)
    for place, twin in zip(places, again, strict=True):
        assert place.edges == twin.edges and np.array_equal(place.population, twin.population)
        assert (
            nx.is_connected(nx.Graph(place.edges))
            and nx.number_of_nodes(nx.Graph(place.edges)) == place.n_units
        )
        assert 1 <= place.k_min <= place.k_max
        assert place.total_population >= place.k_min * 30_000
        assert place.pcn_patients.shape == (len(place.pcn_codes), place.n_units)
        assert place.pcn_patients.sum() > place.total_population  # ~1.05 registered per resident
        assert list(place.unit_codes) == sorted(place.unit_codes)


def test_reference_runs_only_ever_improve_the_record_and_only_with_verified_plans(tmp_path, capsys):
    """bench_reference.py on the sample: a recorded objective above the run's plan is lowered (and says how), one
    below it is kept; a recorded bound below the run's is raised, rounded down; a bound above it is kept."""
    import bench_reference

    config = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"
    known = tmp_path / "known.json"
    record = {
        "config": "configs/sample.yaml",
        "places": {
            "P0001": {"name": "x", "objective": 99.0, "bound": -99.0, "found_by": "old", "bound_by": "old"},
            "P0002": {"name": "y", "objective": -99.0, "bound": 99.0, "found_by": "old", "bound_by": "old"},
        },
    }
    known.write_text(json.dumps(record), encoding="utf-8")
    runs = tmp_path / "runs.jsonl"
    args = [
        "--config",
        str(config),
        "--time-limit",
        "10",
        "--runs",
        "1",
        "--known",
        str(known),
        "--json",
        str(runs),
        "--plans",
        str(tmp_path / "plans"),
    ]
    assert bench_reference.main(args) == 0
    after = json.loads(known.read_text(encoding="utf-8"))["places"]
    rows = {row["place"]: row for row in map(json.loads, runs.read_text(encoding="utf-8").splitlines())}
    assert set(rows) == {"P0001", "P0002"} and all(row["verifier"] == "passed" for row in rows.values())
    first, second = after["P0001"], after["P0002"]
    assert first["objective"] == round(rows["P0001"]["objective"], 6) < 99.0
    assert first["bound"] <= rows["P0001"]["bound"] and first["bound"] > rows["P0001"]["bound"] - 1e-6
    assert first["found_by"].startswith("bench_reference.py") and first["bound_by"].startswith(
        "bench_reference.py"
    )
    assert second == record["places"]["P0002"]  # a better plan and a higher bound than the run's stay
    assert not known.with_suffix(".json.partial").exists()
    plans = tmp_path / "plans"
    assert sorted(path.name for path in plans.iterdir()) == ["P0001.csv"]  # the better plan alone
    assert len((plans / "P0001.csv").read_text(encoding="utf-8").splitlines()) == rows["P0001"]["n"] + 1


def test_the_best_known_record_is_whole_and_consistent():
    """benchmarks/best_known.json: every London place once, each with a plan no better than its bound allows."""
    known = json.loads(
        (Path(__file__).resolve().parents[1] / "benchmarks" / "best_known.json").read_text(encoding="utf-8")
    )
    places = known["places"]
    assert len(places) == 32 and all(code.startswith("E09") for code in places)
    for entry in places.values():
        assert entry["bound"] <= entry["objective"] and entry["found_by"] and entry["bound_by"]


def test_reference_runs_never_record_a_plan_the_verifier_fails(tmp_path, monkeypatch):
    """A plan the independent verifier fails is not recorded, however good its objective (its bound, proved
    apart from the plan, still is); a record kept for another scenario is refused."""
    from types import SimpleNamespace

    import bench_reference

    def failing(dataset, graph, problems, solutions):
        failed = SimpleNamespace(failures=("contiguous: a neighbourhood is in pieces",))
        return SimpleNamespace(verdicts=dict.fromkeys(problems, failed), statuses={})

    monkeypatch.setattr(bench_reference, "build_plan", failing)
    config = Path(__file__).resolve().parents[1] / "configs" / "sample.yaml"
    known, runs = tmp_path / "known.json", tmp_path / "runs.jsonl"
    args = ["--config", str(config), "--places", "P0001", "--time-limit", "10", "--runs", "1"]
    assert bench_reference.main([*args, "--known", str(known), "--json", str(runs)]) == 0
    entry = json.loads(known.read_text(encoding="utf-8"))["places"]["P0001"]
    assert "objective" not in entry and "found_by" not in entry and entry["bound"] > 0
    (row,) = map(json.loads, runs.read_text(encoding="utf-8").splitlines())
    assert row["verifier"] == ["contiguous: a neighbourhood is in pieces"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"config": "configs/london.yaml", "places": {}}), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"records configs/london\.yaml, not configs/sample\.yaml"):
        bench_reference.main([*args, "--known", str(other)])
