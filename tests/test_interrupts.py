"""A run killed at any moment leaves the previous complete output or none, never a partial one.

The writer pauses after each file when ``FOOTPRINT_TEST_PAUSE_AFTER_FILE`` is set, so the test can wait until the
first file is in the temporary folder and then send the signal while the run is certainly in the middle of
writing. SIGINT (Ctrl-C) and SIGTERM unwind: one line on stderr, exit 130 / 143, the temporary folder removed.
SIGKILL cannot be caught: the hidden temporary folder ``.<out>.tmp-<pid>-*`` stays, the output folder is untouched,
and the next run to the same folder removes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from footprint.export import PAUSE_ENV, atomic_folder, clean_stale
from tiny import write_tiny_scenario

REPO = Path(__file__).resolve().parents[1]
#: Long enough that the run is still writing when the signal lands, short enough to end if it does not.
PAUSE_SECONDS = "60"


def footprint(*args: str, pause: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = PAUSE_SECONDS
    return subprocess.Popen(
        [sys.executable, "-m", "footprint", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a shell that starts the test suite in the background (`pytest &`) ignores SIGINT in its children, and
        # Python then never raises KeyboardInterrupt: give the run the terminal's default, as a user's shell does
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def staging_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.tmp-*"))


def wait_until_writing(process: subprocess.Popen[str], out: Path, timeout: float = 120.0) -> None:
    """Block until the run has written its first file into the temporary folder (and is pausing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((folder / "assignment.csv").exists() for folder in staging_folders(out)):
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended before writing: {process.communicate()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("the run did not start writing in time")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_scenario(tmp_path_factory.mktemp("tiny") / "tiny")


@pytest.fixture(scope="module")
def previous(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A complete output written by an uninterrupted run."""
    out = tmp_path_factory.mktemp("previous") / "out"
    done = footprint("run", str(scenario), "--out", str(out), "--quiet")
    _, stderr = done.communicate(timeout=300)
    assert done.returncode == 0, stderr
    return snapshot(out)


@pytest.mark.parametrize(
    "signum, code, line",
    [
        (signal.SIGINT, 130, "interrupted; no partial output was written"),
        (signal.SIGTERM, 143, "terminated; no partial output was written"),
        (signal.SIGKILL, -signal.SIGKILL, None),
    ],
)
def test_a_run_killed_mid_write_keeps_the_previous_output(
    signum: int, code: int, line: str | None, scenario: Path, previous: dict[str, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, content in previous.items():
        (out / name).write_bytes(content)
    process = footprint("run", str(scenario), "--out", str(out), "--quiet", pause=True)
    wait_until_writing(process, out)
    os.killpg(process.pid, signum)  # the whole group, as Ctrl-C in a terminal does
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert snapshot(out) == previous
    if line is None:
        assert len(staging_folders(out)) == 1  # SIGKILL: hidden, and named for the next run to clean
    else:
        assert stderr.strip() == line and stdout == ""
        assert staging_folders(out) == []
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["out"]


def test_a_first_run_killed_leaves_no_output_and_the_next_run_cleans_up(
    scenario: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = footprint("run", str(scenario), "--out", str(out), "--quiet", pause=True)
    wait_until_writing(process, out)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert not out.exists()
    assert len(staging_folders(out)) == 1
    again = footprint("run", str(scenario), "--out", str(out), "--quiet")
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert staging_folders(out) == [] and (out / "run.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_clean_stale_leaves_live_runs_and_restores_a_retired_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    live = tmp_path / f".out.tmp-{os.getpid()}-abc"
    live.mkdir()
    dead_pid = 2**22 + 7  # above the default pid_max, so no such process
    dead = tmp_path / f".out.tmp-{dead_pid}-xyz"
    dead.mkdir()
    retired = tmp_path / f".out.old-{dead_pid}"
    retired.mkdir()
    (retired / "run.json").write_text("{}")
    other = tmp_path / f".other.tmp-{dead_pid}-xyz"
    other.mkdir()
    assert clean_stale(out) == [retired, dead]
    assert live.is_dir() and other.is_dir() and not dead.exists()
    assert (out / "run.json").is_file()  # the complete previous output is back


def test_atomic_folder_replaces_the_whole_folder_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("old")
    (out / "stale.csv").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(out) as staging:
        (staging / "run.json").write_text("new")
        raise RuntimeError("writer failed")
    assert snapshot(out) == {"run.json": b"old", "stale.csv": b"old"}
    with atomic_folder(out) as staging:
        (staging / "run.json").write_text("new")
    assert snapshot(out) == {"run.json": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0o700
