"""footprint: design NHS neighbourhood footprints from LSOAs.

Contiguous, population-bounded neighbourhoods nested in each place (borough), aligned with today's Primary Care
Networks, solved as a mixed-integer programme per place and checked by an independent verifier.

The Python API mirrors the command line::

    import footprint
    scenario = footprint.load_scenario("configs/sample.yaml", overrides=["pop.max=45000"])
    report = footprint.validate_scenario(scenario)
    plan = footprint.run_scenario(scenario)
    footprint.write_plan(plan, "runs/sample")
    comparison = footprint.compare_runs(["runs/sample", "runs/other"])  # DataFrames: .metrics, .lsoas
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("footprint")
except metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

from footprint.config import Scenario, load_scenario
from footprint.errors import (
    ConfigError,
    FootprintError,
    InfeasibleError,
    InputDataError,
    SolverError,
    VerificationError,
)


def __getattr__(name: str):
    """Load the heavier modules (geopandas, PuLP) only when their API is used."""
    if name == "validate_scenario":
        from footprint.validate import validate_scenario

        return validate_scenario
    if name == "run_scenario":
        from footprint.runner import run_scenario

        return run_scenario
    if name == "write_plan":
        from footprint.export import write_plan

        return write_plan
    if name == "compare_runs":
        from footprint.compare import compare_runs

        return compare_runs
    if name == "run_sweep":
        from footprint.sweep import run_sweep

        return run_sweep
    if name == "evaluate_map":
        from footprint.evaluate import evaluate_map

        return evaluate_map
    if name == "repair_map":
        from footprint.evaluate import repair_map

        return repair_map
    if name == "Plan":
        from footprint.plan import Plan

        return Plan
    raise AttributeError(f"module 'footprint' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "FootprintError",
    "InfeasibleError",
    "InputDataError",
    "Plan",
    "Scenario",
    "SolverError",
    "VerificationError",
    "__version__",
    "compare_runs",
    "evaluate_map",
    "load_scenario",
    "repair_map",
    "run_scenario",
    "run_sweep",
    "validate_scenario",
    "write_plan",
]
