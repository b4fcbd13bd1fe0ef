"""The objective terms of a place's plan, defined once and evaluated on any assignment.

The MIP (:mod:`footprint.model`) and the heuristic (:mod:`footprint.heuristic`) optimise these terms; the
solution reported is always re-evaluated here, never taken from the solver. Every term is normalised to a
dimensionless number so that weights are comparable (a weight of 1 on each term treats "as compact as ideal
discs" and "every patient misaligned" alike):

- ``access`` = sum_i pop_i d(i, c(i))^2 / S, with S = P R^2 / 2 and R^2 = A / (pi k_min): the population-weighted
  mean squared distance to the centre, relative to that of k_min equal discs covering the place's area A (~1 for
  a compact plan on evenly spread population; lower is better).
- ``pcn`` = sum_p (T_p - H_p) / sum_p T_p: registered patients of each PCN (homed in this place) living outside
  its home, as a share of all such patients. A PCN's home is the h_p neighbourhoods holding most of its patients,
  h_p the whole neighbourhoods its size calls for (``PlaceProblem.pcn_homes``: 1 within the population bounds,
  2 for a PCN twice the upper bound), and H_p the patients living in them.
- ``demand`` = sum_N |D(N) - (D/P) pop(N)| / D: demand out of line with population share.
- ``stability`` = (P - kept) / P, where kept is the population of LSOAs whose proposed neighbourhood is the one
  matched to their baseline unit under the one-to-one matching that maximises kept population.
- ``community`` = population of keep-together groups split across neighbourhoods / P.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from footprint.problem import PlaceProblem, top_sums

TERMS = ("access", "pcn", "demand", "stability", "community")


def access_scale(problem: PlaceProblem) -> float:
    """The access normaliser S = P R^2 / 2 with R^2 = A / (pi k_min).

    A disc of radius R holding P / k_min people spread evenly has sum pop d^2 = (P / k_min) R^2 / 2, so k_min
    such discs give P R^2 / 2. A is ``area_km2``, or the bounding box of the units' points when the area is
    unknown (<= 0), at least 1 km^2.

    Returns
    -------
    float
        S in people km^2 (positive).
    """
    area = problem.area_km2
    if area <= 0:
        span = (problem.xy.max(axis=0) - problem.xy.min(axis=0)) / 1000.0 if problem.n_units else np.ones(2)
        area = max(float(span[0] * span[1]), 1.0)
    radius_sq = area / (math.pi * max(problem.k_min, 1))
    return max(problem.total_population * radius_sq / 2.0, 1e-9)


def pcn_total(problem: PlaceProblem) -> float:
    """T: all registered patients of the place's PCNs resident in the place (the pcn term's normaliser)."""
    return float(problem.pcn_patients.sum()) if problem.pcn_patients.size else 0.0


def evaluate_terms(problem: PlaceProblem, assignment: np.ndarray) -> dict[str, float]:
    """Normalised value of every term for ``assignment`` (formulas in the module docstring).

    Parameters
    ----------
    problem
        The place.
    assignment
        Centre index serving each unit, shape (n,). Any assignment is priced, valid or not.

    Returns
    -------
    dict of str to float
        ``access``, ``pcn``, ``demand``, ``stability``, ``community``; a term without its data is 0.
    """
    assignment = np.asarray(assignment, dtype=np.int64)
    pop = problem.population.astype(float)
    total = max(float(pop.sum()), 1e-9)
    distance = problem.distance_km[np.arange(problem.n_units), assignment]
    terms = {"access": float((pop * distance**2).sum() / access_scale(problem))}

    centres, labels = np.unique(assignment, return_inverse=True)
    k = len(centres)
    patients_total = pcn_total(problem)
    if patients_total > 0:
        per = np.zeros((problem.pcn_patients.shape[0], k))
        for region in range(k):
            per[:, region] = problem.pcn_patients[:, labels == region].sum(axis=1)
        terms["pcn"] = float((patients_total - top_sums(per, problem.homes_of()).sum()) / patients_total)
    else:
        terms["pcn"] = 0.0

    if problem.demand is not None and problem.demand.sum() > 0:
        demand_total = float(problem.demand.sum())
        rate = demand_total / total
        region_demand = np.bincount(labels, weights=problem.demand, minlength=k)
        region_pop = np.bincount(labels, weights=pop, minlength=k)
        terms["demand"] = float(np.abs(region_demand - rate * region_pop).sum() / demand_total)
    else:
        terms["demand"] = 0.0

    terms["stability"] = (
        (total - kept_population(problem, labels, k)) / total if problem.baseline is not None else 0.0
    )

    if problem.groups is not None:
        split_pop = 0.0
        for group in np.unique(problem.groups[problem.groups >= 0]):
            members = problem.groups == group
            if len(np.unique(labels[members])) > 1:
                split_pop += float(pop[members].sum())
        terms["community"] = split_pop / total
    else:
        terms["community"] = 0.0
    return terms


def kept_population(problem: PlaceProblem, labels: np.ndarray, k: int) -> float:
    """Population kept in the neighbourhood matched one-to-one to its baseline unit.

    ``overlap[l, r]`` is the population of baseline label l in region r; the matching of labels to regions that
    maximises the matched overlap (``scipy.optimize.linear_sum_assignment``) gives the kept population. Labels
    or regions left unmatched (when their numbers differ) keep nobody.
    """
    baseline = problem.baseline
    if baseline is None:
        return 0.0
    known = baseline >= 0
    if not known.any():
        return 0.0
    n_labels = int(baseline[known].max()) + 1
    overlap = np.zeros((n_labels, k))
    np.add.at(overlap, (baseline[known], labels[known]), problem.population[known].astype(float))
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return float(overlap[rows, cols].sum())


def weighted_objective(problem: PlaceProblem, terms: dict[str, float]) -> float:
    """sum_t weight_t term_t over :data:`TERMS` (terms missing from ``terms`` count 0)."""
    weights = problem.weights
    return float(sum(getattr(weights, name) * terms.get(name, 0.0) for name in TERMS))


def active_terms(problem: PlaceProblem) -> tuple[str, ...]:
    """Terms with a positive weight and the data they need (the others are left out of the MIP)."""
    weights = problem.weights
    active = []
    if weights.access > 0:
        active.append("access")
    if weights.pcn > 0 and pcn_total(problem) > 0:
        active.append("pcn")
    if weights.demand > 0 and problem.demand is not None and problem.demand.sum() > 0:
        active.append("demand")
    if weights.stability > 0 and problem.baseline is not None and (problem.baseline >= 0).any():
        active.append("stability")
    if weights.community > 0 and problem.groups is not None and (problem.groups >= 0).any():
        active.append("community")
    return tuple(active)
