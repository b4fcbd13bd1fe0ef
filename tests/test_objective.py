"""Objective terms on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from footprint.objective import access_scale, evaluate_terms, weighted_objective
from footprint.problem import Weights
from problems import grid_problem


def test_access_term_by_hand() -> None:
    """1 x 3 row, 10 people each, one centre at the middle: sum pop d^2 = 10 + 0 + 10 = 20 km^2 people."""
    problem = grid_problem(1, 3, k_min=1)
    scale = access_scale(problem)
    assert scale == pytest.approx(30 * (3 / math.pi) / 2)
    terms = evaluate_terms(problem, np.array([1, 1, 1]))
    assert terms["access"] == pytest.approx(20 / scale)


def test_pcn_term_counts_patients_outside_home() -> None:
    """PCN 0 has 6 patients in unit 0 and 4 in unit 2; split {0,1} | {2}: home holds 6, 4 misaligned."""
    patients = np.array([[6.0, 0.0, 4.0]])
    problem = grid_problem(1, 3, pcn_patients=patients, weights=Weights(access=0, pcn=1))
    assert evaluate_terms(problem, np.array([0, 0, 2]))["pcn"] == pytest.approx(0.4)
    assert evaluate_terms(problem, np.array([1, 1, 1]))["pcn"] == 0.0


def test_demand_stability_and_community() -> None:
    """1 x 4 row; demand 10, 10, 30, 10 on population 10 each: rate 1.5 per person."""
    problem = grid_problem(
        1,
        4,
        demand=np.array([10.0, 10.0, 30.0, 10.0]),
        baseline=np.array([0, 0, 1, 1]),
        groups=np.array([0, 0, 0, 1]),
        weights=Weights(access=0, pcn=0, demand=1, stability=1, community=1),
    )
    terms = evaluate_terms(problem, np.array([0, 0, 3, 3]))
    # regions {0,1}: demand 20 vs share 30 -> 10; {2,3}: 40 vs 30 -> 10; total 20 / 60
    assert terms["demand"] == pytest.approx(20 / 60)
    assert terms["stability"] == 0.0
    assert terms["community"] == pytest.approx(30 / 40)  # group 0 (units 0-2) is split
    moved = evaluate_terms(problem, np.array([0, 0, 0, 3]))
    assert moved["stability"] == pytest.approx(10 / 40)
    assert moved["community"] == 0.0
    assert weighted_objective(problem, moved) == pytest.approx(moved["demand"] + 0.25)


def test_access_scale_falls_back_to_the_bounding_box() -> None:
    """No area: the 2 x 3 grid's points span 2 km x 1 km, so A = 2 km^2 and S = 60 (2 / (pi 2)) / 2."""
    problem = grid_problem(2, 3, k_min=2, area_km2=0.0)
    assert access_scale(problem) == pytest.approx(60 * (2 / (math.pi * 2)) / 2)


def test_stability_matches_labels_one_to_one() -> None:
    """1 x 4 row, baseline labels 0 0 1 2 and two regions {0,1,2} | {3}: label 0 -> region A keeps 20, label 2 ->
    region B keeps 10, label 1 has no region left: 10 of 40 moved."""
    problem = grid_problem(1, 4, baseline=np.array([0, 0, 1, 2]), weights=Weights(access=0, stability=1))
    terms = evaluate_terms(problem, np.array([0, 0, 0, 3]))
    assert terms["stability"] == pytest.approx(10 / 40)
    assert weighted_objective(problem, terms) == pytest.approx(0.25)


def test_pcn_home_is_the_region_with_most_patients_per_pcn() -> None:
    """Two PCNs on a 1 x 4 row split {0,1} | {2,3}: A (5, 1, 0, 0) lives wholly in {0,1}; B (0, 3, 2, 2) has
    its home in {2,3} (4 patients) and 3 outside: 3 of 13 patients misaligned."""
    patients = np.array([[5.0, 1, 0, 0], [0.0, 3, 2, 2]])
    problem = grid_problem(1, 4, pcn_patients=patients)
    assert evaluate_terms(problem, np.array([0, 0, 2, 2]))["pcn"] == pytest.approx(3 / 13)


def test_terms_without_data_are_zero() -> None:
    problem = grid_problem(1, 3)
    terms = evaluate_terms(problem, np.array([0, 0, 0]))
    assert {name: terms[name] for name in ("pcn", "demand", "stability", "community")} == dict.fromkeys(
        ("pcn", "demand", "stability", "community"), 0.0
    )


def test_pcn_term_counts_a_large_pcn_in_its_fullest_neighbourhoods() -> None:
    """1 x 3 row, each unit its own neighbourhood; PCN 0 has 5, 3, 2 patients and needs two homes: 8 of 10
    aligned; PCN 1 (one home) 0, 4, 6: 6 of 10. pcn = (2 + 4) / 20."""
    problem = grid_problem(
        1, 3, pcn_patients=np.array([[5.0, 3, 2], [0.0, 4, 6]]), pcn_homes=[2, 1], pop_min=0, pop_max=100
    )
    terms = evaluate_terms(problem, np.array([0, 1, 2]))
    assert terms["pcn"] == pytest.approx(6 / 20)
    one_home = grid_problem(1, 3, pcn_patients=np.array([[5.0, 3, 2], [0.0, 4, 6]]), pop_min=0, pop_max=100)
    assert evaluate_terms(one_home, np.array([0, 1, 2]))["pcn"] == pytest.approx(9 / 20)
