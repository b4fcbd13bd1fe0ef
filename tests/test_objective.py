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
