"""Shared fixtures: where the real London files are, and a tiny on-disk scenario built in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LONDON = (REPO.parent / "shared" / "data" / "london").resolve()
SAMPLE_CONFIG = REPO / "configs" / "sample.yaml"
LONDON_CONFIG = REPO / "configs" / "london.yaml"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LONDON.is_dir():
        return
    skip = pytest.mark.skip(
        reason=f"real London data not found at {LONDON} (shared/ is not beside the checkout)"
    )
    for item in items:
        if "london" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def slow_clock(monkeypatch: pytest.MonkeyPatch):
    """Call it to make every later reading of ``time.perf_counter`` come 1,000 s after the last: a machine so
    slow that any clock guard binds at once."""
    import time

    def start() -> None:
        state = {"now": 0.0}

        def slow() -> float:
            state["now"] += 1000.0
            return state["now"]

        monkeypatch.setattr(time, "perf_counter", slow)

    return start


@pytest.fixture
def highs_limits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """Every ``time_limit`` and ``mip_max_nodes`` given to any HiGHS instance in the test, as (name, value)
    (HiGHS keeps its own clock, which a test's stand-in for ``time.perf_counter`` does not reach)."""
    import highspy

    limits: list[tuple[str, object]] = []
    real = highspy.Highs.setOptionValue

    def spy(self, name, value):
        if name in ("time_limit", "mip_max_nodes"):
            limits.append((name, value))
        return real(self, name, value)

    monkeypatch.setattr(highspy.Highs, "setOptionValue", spy)
    return limits


@pytest.fixture(scope="session")
def london_dir() -> Path:
    return LONDON


@pytest.fixture(scope="session")
def quick_sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample solved by the heuristic alone (seconds, not minutes), written to a temp folder.

    For tests of what is written (reports, maps, reconciliation), which do not depend on how the plan was found.
    """
    from typer.testing import CliRunner

    from footprint.cli import app

    out = tmp_path_factory.mktemp("quick") / "sample"
    result = CliRunner().invoke(
        app, ["run", str(SAMPLE_CONFIG), "--out", str(out), "--method", "heuristic", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return out
