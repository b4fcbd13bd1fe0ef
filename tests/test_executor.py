"""Where places are solved: in this process, a local process pool, or a Dask cluster, through one loop.

The Dask run of the bundled sample (byte-identical to the local run) lives in ``test_run.py`` so that it can reuse
that module's local sample run; here are the quick contracts: every executor gives the same plans on tiny grids,
and the errors a user meets (dask not installed, no scheduler at the address, a cluster without workers, a
scheduler set without ``executor: dask``) are one line with exit code 2.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from footprint import runner as runner_module
from footprint.cli import app
from footprint.config import load_scenario
from footprint.errors import ConfigError
from footprint.runner import place_executor, solve_places
from footprint.solve import SolveOptions
from problems import grid_problem
from tiny import write_tiny_scenario

cli = CliRunner()


def _problems() -> list:
    """Three 2 x 3 grids of 10-person units, split into two parts of 20-30 people."""
    base = grid_problem(2, 3, pop_min=20, pop_max=30, k_min=2, k_max=2)
    return [replace(base, place_code=code) for code in ("P3", "P1", "P2")]


def _plans(kind: str, workers: int) -> dict[str, list[int]]:
    options = SolveOptions(method="heuristic", time_limit=10)
    with place_executor(kind, workers=workers, places=3) as executor:
        solutions = solve_places(executor, _problems(), options)
    assert sorted(solutions) == ["P1", "P2", "P3"]
    return {place: solution.assignment.tolist() for place, solution in sorted(solutions.items())}


def test_inline_and_process_pool_give_the_same_plans() -> None:
    inline = _plans("local", workers=1)
    assert _plans("local", workers=2) == inline
    for assignment in inline.values():
        assert len(np.unique(assignment)) == 2


def test_local_dask_cluster_gives_the_same_plans() -> None:
    pytest.importorskip("distributed")
    assert _plans("dask", workers=2) == _plans("local", workers=1)


def test_events_are_emitted_for_every_place() -> None:
    events: list[tuple[str, str]] = []
    with place_executor("local", workers=1) as executor:
        solve_places(
            executor,
            _problems(),
            SolveOptions(method="heuristic"),
            lambda place, event, payload: events.append((place, event)),
        )
    assert events == [
        ("P3", "started"),
        ("P3", "finished"),
        ("P1", "started"),
        ("P1", "finished"),
        ("P2", "started"),
        ("P2", "finished"),
    ]


def test_missing_dask_exits_2_naming_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    config = write_tiny_scenario(tmp_path / "tiny")
    result = cli.invoke(app, ["run", str(config), "--out", str(tmp_path / "out"), "--executor", "dask"])
    assert result.exit_code == 2, result.output
    assert "pip install 'footprint[dask]'" in result.output
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(runner_module, "DASK_CONNECT_SECONDS", 1.0)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    config = write_tiny_scenario(tmp_path / "tiny")
    import footprint.validate

    def read(*args, **kwargs):
        raise AssertionError("the inputs were read before the scheduler was tried")

    monkeypatch.setattr(footprint.validate, "validate_scenario", read)  # a mistyped address fails first
    result = cli.invoke(app, ["run", str(config), "--out", str(tmp_path / "out"), "--scheduler", address])
    assert result.exit_code == 2, result.output
    assert f"cannot reach the Dask scheduler at {address}" in result.output
    assert not (tmp_path / "out").exists()


def test_cluster_without_workers_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(runner_module, "DASK_CONNECT_SECONDS", 1.0)
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster,
        pytest.raises(ConfigError, match="has no workers after 1 s; start some with `dask worker "),
        place_executor("dask", cluster.scheduler_address),
    ):
        pass


def test_scheduler_without_dask_executor_is_a_config_error(tmp_path: Path) -> None:
    config = write_tiny_scenario(tmp_path / "tiny")
    with pytest.raises(ConfigError, match=r"solver: scheduler is set \(tcp://h:1\) but executor is local"):
        load_scenario(config, overrides=["solver.scheduler=tcp://h:1"])
    scenario = load_scenario(config, overrides=["solver.scheduler=tcp://h:1", "solver.executor=dask"])
    assert scenario.solver.scheduler == "tcp://h:1"


def test_a_local_dask_cluster_run_prints_no_cluster_logs(tmp_path: Path) -> None:
    """distributed sets its loggers to INFO on import: a quiet run on a local cluster printed ~30 lines of its
    start and stop, and a closed-connection traceback at shutdown. The CLI's own process, as a user runs it."""
    pytest.importorskip("distributed")
    import subprocess

    config = write_tiny_scenario(tmp_path / "in")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "footprint", "run", str(config), "--out", str(out), "--quiet"]
    done = subprocess.run(
        [*command, "--executor", "dask", "--workers", "1"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "distributed" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert (out / "assignment.csv").is_file()


def _p1_fails(error: BaseException, finished):
    """A place executor whose place P1 ends in ``error`` and every other place in ``finished``."""
    from concurrent.futures import Executor, Future

    from footprint.runner import PlaceExecutor

    class OneFails(Executor):
        def submit(self, fn, *args, **kwargs):
            future: Future = Future()
            if args[0].place_code == "P1":
                future.set_exception(error)
            else:
                future.set_result(finished)
            return future

    return PlaceExecutor(OneFails(), lambda: 2, "test")


def test_a_place_that_finished_as_the_pool_broke_keeps_its_plan() -> None:
    """One wait can return the dead place's future and another place's finished one: the finished plan is kept
    (solving it again alone would cost time, and at a time limit could give another plan); only the dead place is
    the suspect, named as the one in flight."""
    from concurrent.futures.process import BrokenProcessPool

    from footprint.problem import PlaceSolution

    finished = PlaceSolution(place_code="P2", status="optimal", assignment=np.zeros(6, dtype=np.int64))
    crashed: set[str] = set()
    executor = _p1_fails(BrokenProcessPool("a worker process died"), finished)
    problems = [p for p in _problems() if p.place_code in ("P1", "P2")]
    solutions = solve_places(executor, problems, SolveOptions(method="heuristic"), None, crashed)
    assert solutions["P2"] is finished
    assert crashed == {"P1"} and solutions["P1"].status == "error"
    assert "while this or another place" not in solutions["P1"].message


def test_a_scheduler_address_without_a_valid_port_is_refused_at_once() -> None:
    pytest.importorskip("distributed")
    for address in ("tcp://10.0.0.5", "tcp://10.0.0.5:70000", "tcp://:8786"):
        with pytest.raises(ConfigError, match="has no valid host and port; write it as tcp://HOST:PORT"):
            runner_module.check_dask(address)


def test_the_scheduler_probe_waits_for_a_scheduler_still_starting() -> None:
    """`dask scheduler &` then `footprint run --scheduler ...` at once: the address refuses connections for a
    moment, and the early probe retries rather than failing the run."""
    pytest.importorskip("distributed")
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))  # bound, not yet listening: connections are refused
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        timer = threading.Timer(1.0, server.listen)
        timer.start()
        try:
            runner_module.check_dask(address)
        finally:
            timer.join()


def test_a_place_whose_solve_fails_is_an_error_and_the_others_keep_their_plans() -> None:
    """An unexpected exception in one place's solve (a bug) makes that place an error with a one-line message;
    the other places' plans are kept, so the run still writes them (exit 1, not a crash)."""

    from footprint.problem import PlaceSolution

    finished = PlaceSolution(place_code="P2", status="optimal", assignment=np.zeros(6, dtype=np.int64))
    executor = _p1_fails(IndexError("boolean index did not match"), finished)
    problems = [p for p in _problems() if p.place_code in ("P1", "P2")]
    solutions = solve_places(executor, problems, SolveOptions(method="heuristic"), None)
    assert solutions["P2"] is finished and solutions["P1"].status == "error"
    message = solutions["P1"].message
    assert "internal error (IndexError: boolean index did not match)" in message and "\n" not in message
