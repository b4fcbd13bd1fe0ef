"""The benchmark scripts' own logic: the peers' common yardstick and the synthetic England generator."""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np

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
