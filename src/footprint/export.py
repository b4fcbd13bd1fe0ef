"""Write a plan's output folder atomically and deterministically (all output writing lives here).

Files: ``assignment.csv`` (lsoa_code, neighbourhood_id, place_code; one row per LSOA, sorted) and ``run.json``
(the decision record), plus the products derived from them, which ``footprint report`` can regenerate
(:data:`PRODUCT_FILES`): ``neighbourhoods.csv`` (key figures, :func:`footprint.metrics.summarise_neighbourhoods`),
``realignment_pcns.csv``, ``realignment_practices.csv``, ``changes.csv`` (per LSOA, with its neighbourhood's change
code) and ``changes_neighbourhoods.csv`` (see :mod:`footprint.metrics`; only with a baseline map), ``places.csv`` (the
headline figures per place, :func:`footprint.metrics.summarise_places`) and ``status_quo.csv`` (the same columns for
today's map, with its breaches and the "at best" coterminosity, from run.json's ``status_quo`` block;
:mod:`footprint.statusquo`),
``neighbourhoods.gpkg`` (layers ``neighbourhoods``, ``lsoas``, ``hubs``, ``practices``; EPSG:27700, see
:mod:`footprint.layers`), ``neighbourhoods.geojson`` (EPSG:4326, RFC 7946), ``map.png`` and ``map.html`` (:mod:`footprint.maps`) and
``report.md`` and ``report.html`` (:mod:`footprint.report`).

Everything is written into a temporary folder beside the target and renamed into place only when complete, so a
reader sees the previous complete output or the new complete output, never a mix;
:func:`footprint.audit.regenerate_products` writes the products of an existing run into a temporary folder and
renames each file into place. Which folders an output may replace at all is :func:`check_target`'s one rule. Same
inputs and settings give byte-identical files: rows sorted, floats at fixed precision, GeoPackage timestamps
pinned, images without dates, and everything that varies between runs (wall times, the date) kept in run.json
under ``"timing"``.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import errno
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from footprint import __version__
from footprint import columns as C
from footprint.config import path_relative_to, paths_relative_to
from footprint.errors import ConfigError, InputDataError
from footprint.findings import Finding
from footprint.layers import build_breach_layer, build_layers
from footprint.metrics import (
    baseline_source,
    summarise_changes,
    summarise_neighbourhoods,
    summarise_pcns,
    summarise_places,
    summarise_practices,
)
from footprint.plan import Plan

logger = logging.getLogger(__name__)

#: GeoPackage writers stamp the current time; pin it so outputs are byte-identical.
PINNED_DATE = "2000-01-01T00:00:00.000Z"
FLOAT_DECIMALS = 6
#: run.json keys whose values vary between identical runs (ignored by ``run --check``).
VOLATILE_KEYS = ("timing",)
#: Solver settings that say where places were solved, not what was solved: the plans are the same on any executor
#: and any number of workers, so ``run --check`` ignores them in run.json's ``config.solver`` and
#: ``solver.settings`` (a cluster run checks against a local one).
PLACEMENT_SETTINGS = ("workers", "executor", "scheduler")


#: A run writes into ``.<name>.tmp-<pid>-<random>`` beside the target folder ``<name>`` and renames it into place
#: when complete; ``.<name>.old-<pid>`` briefly holds the replaced output where an atomic exchange is not available.
#: A run killed outright (SIGKILL, power cut) can leave these hidden folders behind; the next run writing to the same
#: target removes them (or, if the target itself is gone, restores the complete previous output from ``.old-``).
STAGING = ".tmp-"
RETIRED = ".old-"
#: Test hook: seconds to sleep after each file written, so a test can kill a run in the middle of writing.
PAUSE_ENV = "FOOTPRINT_TEST_PAUSE_AFTER_FILE"
_RENAME_EXCHANGE = 2  # linux/fs.h


def read_run_record(run_dir: str | Path) -> tuple[Path, dict[str, Any]]:
    """The parsed ``run.json`` of a run folder, and its path; the one reader for report, check and compare.

    Raises
    ------
    InputDataError
        One line naming the folder or file when it is not a folder ``footprint run`` wrote.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputDataError(f"{run_dir}: no such run folder; give a folder written by footprint run.")
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        raise InputDataError(f"{record_path}: no run.json; give a folder written by footprint run.")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputDataError(f"{record_path}: not valid JSON ({error.msg} at line {error.lineno}).") from None
    except UnicodeDecodeError as error:
        raise InputDataError(f"{record_path}: not valid JSON (not UTF-8 text: {error.reason}).") from None
    if not isinstance(record, dict):
        raise InputDataError(f"{record_path}: not a footprint decision record (not a JSON object).")
    return record_path, record


#: The file that marks a folder as written by each kind of command: such a folder may be replaced by the same kind.
MARKERS = {
    "run": "run.json",
    "sweep": "summary.csv",
    "comparison": "comparison.md",
    "evaluation": "run.json",
    "repair": "run.json",
}


def check_target(
    target: Path,
    *,
    marker: str | None = None,
    kind: str = "run",
    option: str = "--out or output.dir",
    reading: Sequence[str | Path] = (),
    read_as: str = "an input of this command",
) -> Path:
    """Refuse an output folder that a ``kind`` (run, sweep, comparison) may not replace; return it, absolute.

    Writing an output replaces the whole folder, so ``--out ~`` must never be taken literally. The folder may be
    replaced only when it does not exist, is empty, or holds the ``marker`` file of an earlier output of the same
    kind (:data:`MARKERS`: ``run.json``, ``summary.csv``, ``comparison.md``); and never when it is the current
    directory or holds it, is a mount point, or is or holds one of the paths ``reading`` (described by
    ``read_as``, e.g. "a run being compared"), which the command reads. The one rule for every command taking
    ``--out``; call it before any work.

    Raises
    ------
    ConfigError
        One line: the folder, what is wrong, and the fix (exit code 2); nothing has been touched.
    """
    marker = marker or MARKERS.get(kind, "run.json")
    target = Path(target)
    absolute = Path(os.path.abspath(target))
    resolved = target.resolve()
    fix = f"a {kind} replaces the whole folder, so choose a new or empty folder ({option})."

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"{target}: {why}; {fix}")

    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target}: the output path is a file; name a folder ({option}).")
    here = Path.cwd().resolve()
    if resolved == here:
        raise refuse("the output folder is the current directory")
    if resolved in here.parents:
        raise refuse("the output folder holds the current directory")
    for path in reading:
        read = Path(path).resolve()
        if read == resolved:
            raise refuse(f"the output folder is {read_as}")
        if resolved in read.parents:
            raise refuse(f"the output folder holds {path}, {read_as}")
    if absolute.is_dir() and os.path.ismount(absolute):
        raise refuse("the output folder is a mount point and cannot be replaced")
    if target.is_dir() and any(target.iterdir()) and not (target / marker).is_file():
        raise refuse(f"the output folder exists and is not a footprint {kind} (no {marker})")
    return absolute


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove the temporary folders of killed runs writing to ``target``; return what was removed or restored.

    Only folders named for ``target`` whose process is no longer running are touched. A complete previous
    output left under ``.old-`` while the target is missing is renamed back to the target.
    """
    target = Path(target)
    touched: list[Path] = []
    if not target.parent.is_dir():
        return touched
    pattern = re.compile(
        rf"^\.{re.escape(target.name)}({re.escape(STAGING)}|{re.escape(RETIRED)})(\d+)(-.*)?$"
    )
    for entry in sorted(target.parent.iterdir()):
        match = pattern.match(entry.name)
        if not match or not entry.is_dir() or _pid_alive(int(match.group(2))):
            continue
        if match.group(1) == RETIRED and not target.exists() and (entry / "run.json").is_file():
            os.replace(entry, target)
            logger.warning("restored %s from %s, left by a run that was killed while swapping", target, entry)
        else:
            shutil.rmtree(entry, ignore_errors=True)
            logger.info("removed %s, left by a run that was killed", entry)
        touched.append(entry)
    return touched


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), _RENAME_EXCHANGE)
    return done == 0


def pause_for_tests() -> None:
    """Sleep ``$FOOTPRINT_TEST_PAUSE_AFTER_FILE`` seconds (tests kill a run here); nothing when unset."""
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))


@contextmanager
def atomic_folder(target: Path):
    """Yield a fresh temporary folder beside ``target``; on success swap it into place, on failure remove it.

    Readers of ``target`` see the previous complete output or the new complete output, never a mix: the swap is
    one atomic exchange on Linux, and elsewhere two renames whose in-between state the next run repairs
    (:func:`clean_stale`). Signals that Python turns into exceptions (Ctrl-C, the CLI's SIGTERM) remove the
    temporary folder; SIGKILL leaves it, hidden, for the next run to remove. Callers first decide whether
    ``target`` may be replaced at all (:func:`check_target`).
    """
    shown, target = target, Path(os.path.abspath(target))  # "." and "a/.." have no name to stage beside
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(target)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING}{os.getpid()}-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the output folder should not be
    except OSError as error:
        raise ConfigError(
            f"{shown}: cannot create the output folder ({error.strerror or error}); {_advice(error)}"
        ) from None
    try:
        yield staging
        if target.exists():
            if _exchange(staging, target):
                shutil.rmtree(staging, ignore_errors=True)  # now the previous output
                return
            retired = target.parent / f".{target.name}{RETIRED}{os.getpid()}"
            shutil.rmtree(retired, ignore_errors=True)
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(
            f"{shown}: cannot write the outputs ({error.strerror or error}"
            f"{': ' + str(error.filename) if error.filename else ''}); {_advice(error)}"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _advice(error: OSError) -> str:
    """The fix for a file-system error met while writing an output folder, by its cause."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space or choose another --out."
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "check the folder's permissions or choose another --out."
    if error.errno == errno.EBUSY:
        return "the folder is in use (a mount point or the current directory); choose another --out."
    return "choose another --out."


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with fixed float precision, Unix line ends, no index."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_float_dtype(out[name]):
            out[name] = out[name].round(FLOAT_DECIMALS)
    out.to_csv(path, index=False, lineterminator="\n", float_format=f"%.{FLOAT_DECIMALS}g")
    pause_for_tests()


def _write_geo(frame: gpd.GeoDataFrame, path: Path, **kwargs: Any) -> None:
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": PINNED_DATE})
    frame.to_file(path, engine="pyogrio", **kwargs)
    pause_for_tests()


def decision_record(plan: Plan, run_dir: Path, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """run.json: what was run, on what, how, with what result; volatile values under ``timing``.

    Every path in it (the scenario file, the inputs and their hashes, the config's paths) is written relative to
    ``run_dir``, the folder the record goes in: the record is the same whichever folder the run was started
    from, and ``footprint report``/``check`` find the inputs again from anywhere
    (:func:`footprint.audit.read_run`).
    """
    scenario = plan.dataset.scenario
    solvers = sorted({s.solver for s in plan.solutions.values() if s.solver})

    def relative(path: str | Path) -> str:
        return path_relative_to(path, run_dir)

    def finding(f: Finding) -> dict[str, Any]:
        entry = f.to_dict()
        if entry["file"]:
            entry["file"] = relative(entry["file"])
        return entry

    record: dict[str, Any] = {
        "tool": {"name": "footprint", "version": __version__},
        "scenario": {"name": scenario.name, "file": relative(scenario.source) if scenario.source else None},
        "paths": "relative to this run folder",
        "config": paths_relative_to(scenario.to_dict(), Path(run_dir)),
        "inputs": dict(
            sorted((relative(path), {"sha256": digest}) for path, digest in plan.dataset.inputs.items())
        ),
        "solver": {
            "used": solvers,
            "settings": scenario.solver.model_dump(mode="json"),
            "packages": _package_versions(),
        },
        "status": "ok" if plan.ok else "incomplete",
        "failed_places": plan.failed_places,
        "places": [plan.place_record(place) for place in sorted(plan.statuses)],
        "baseline": {
            "source": baseline_source(plan.dataset),
            "file": relative(scenario.inputs.baseline.path) if scenario.inputs.baseline else None,
        },
        "verifier": {
            "ok": all(v.ok for v in plan.verdicts.values()) and plan.ok,
            "places_verified": sorted(p for p, v in plan.verdicts.items() if v.ok),
        },
        "findings": [finding(f) for f in plan.dataset.findings + plan.graph.findings if f.severity != "info"],
        "policies": [finding(f) for f in plan.dataset.findings + plan.graph.findings if f.severity == "info"],
        "conversions": [
            {**entry, "file": relative(entry["file"]), "lookup": relative(entry["lookup"])}
            for entry in plan.dataset.conversions
        ],
        "timing": {
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": {k: round(v, 3) for k, v in sorted(plan.timings.items())},
            "places": {
                place: {k: round(v, 3) for k, v in sorted(s.seconds.items())}
                for place, s in sorted(plan.solutions.items())
            },
        },
    }
    best = plan.status_quo.best if plan.status_quo is not None else None
    if best is not None:  # the "at best" search's seconds per place, beside the places' own
        record["timing"]["best_effort_places"] = {
            place: round(sum(s.seconds.values()), 3) for place, s in sorted(best.solutions.items())
        }
    if plan.status_quo is not None:
        from footprint.statusquo import status_quo_record

        record["status_quo"] = status_quo_record(plan.status_quo)
    if extra:
        record.update(extra)
    return record


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in ("pulp", "highspy", "numpy", "geopandas", "shapely", "networkx"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(
        json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


#: Files of a run folder derived from the plan and its record; ``footprint report`` regenerates them.
PRODUCT_FILES = (
    "neighbourhoods.csv",
    "realignment_pcns.csv",
    "realignment_practices.csv",
    "changes.csv",
    "changes_neighbourhoods.csv",
    "places.csv",
    "status_quo.csv",
    "neighbourhoods.gpkg",
    "neighbourhoods.geojson",
    "map.png",
    "map.html",
    "report.md",
    "report.html",
)


#: The products that compare a plan with the baseline map; a run without a baseline writes neither.
CHANGE_FILES = ("changes.csv", "changes_neighbourhoods.csv")


def _for_file(frame: pd.DataFrame) -> pd.DataFrame:
    """Floats rounded to :data:`FLOAT_DECIMALS`; booleans stay booleans, as in the CSV files (a GeoPackage field of
    integer subtype boolean, GeoJSON ``true``/``false``), so each column reads back as the same type everywhere."""
    out = frame.copy()
    for name in out.columns:
        if name != "geometry" and pd.api.types.is_float_dtype(out[name]):
            out[name] = out[name].round(FLOAT_DECIMALS)
    return out


def write_products(plan: Plan, record: dict[str, Any], folder: Path, *, notes: tuple[str, ...] = ()) -> None:
    """Write every product of ``plan`` (:data:`PRODUCT_FILES`) into ``folder``; ``record`` is its run.json."""
    from footprint.maps import write_map_html, write_map_png
    from footprint.report import map_subtitle, render_html, render_markdown, report_title

    figures = summarise_neighbourhoods(plan)
    if not len(figures):
        markdown = render_markdown(plan, record, notes=notes)
        (folder / "report.md").write_text(markdown, encoding="utf-8", newline="\n")
        (folder / "report.html").write_text(
            render_html(markdown, map_png=None, title=report_title(plan)), encoding="utf-8", newline="\n"
        )
        return
    write_csv(figures, folder / "neighbourhoods.csv")
    layers = build_layers(plan, figures)
    gpkg = folder / "neighbourhoods.gpkg"
    # GeoPackage 1.2: opens without warnings in older GDAL/QGIS too (the bundled GDAL would write 1.4)
    _write_geo(
        _for_file(layers.neighbourhoods),
        gpkg,
        layer="neighbourhoods",
        driver="GPKG",
        dataset_options={"VERSION": "1.2"},
    )
    for name in ("lsoas", "hubs", "practices"):
        _write_geo(_for_file(getattr(layers, name)), gpkg, layer=name, driver="GPKG", append=True)
    _write_geo(
        _for_file(layers.neighbourhoods).to_crs(C.CRS_GEOJSON),
        folder / "neighbourhoods.geojson",
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "6", "WRITE_NAME": "NO"},
    )
    pcns = summarise_pcns(plan)
    if len(pcns):
        write_csv(pcns, folder / "realignment_pcns.csv")
    practices = summarise_practices(plan)
    if len(practices):
        write_csv(practices, folder / "realignment_practices.csv")
    per_lsoa, per_hood = summarise_changes(plan)
    if len(per_lsoa):  # no baseline: no change files (run.json records ``baseline.source: none``)
        changes = per_lsoa.merge(per_hood[[C.NEIGHBOURHOOD, "change"]], on=C.NEIGHBOURHOOD, how="left")
        write_csv(changes, folder / CHANGE_FILES[0])
        write_csv(per_hood, folder / CHANGE_FILES[1])

    places = summarise_places(plan)
    write_csv(places, folder / "places.csv")
    status_quo = (record.get("status_quo") or {}).get("places")
    if status_quo:  # written from run.json, so ``footprint report`` rewrites it without solving again
        write_csv(pd.DataFrame(status_quo), folder / "status_quo.csv")

    if record.get("breaches"):  # an evaluated map: its breaches are marked on the maps
        layers = dataclasses.replace(
            layers, breaches=build_breach_layer(plan, record["breaches"], layers.neighbourhoods)
        )
    title = report_title(plan)
    subtitle = map_subtitle(plan, record, places)
    png = write_map_png(layers, folder / "map.png", title=title, subtitle=subtitle)
    write_map_html(layers, folder / "map.html", title=title, subtitle=subtitle)
    markdown = render_markdown(plan, record, notes=notes)
    (folder / "report.md").write_text(markdown, encoding="utf-8", newline="\n")
    (folder / "report.html").write_text(
        render_html(markdown, map_png=png, title=title), encoding="utf-8", newline="\n"
    )


def write_plan(
    plan: Plan,
    out_dir: Path,
    *,
    extra_writers: tuple[Callable[[Plan, Path], None], ...] = (),
    record_dir: Path | None = None,
) -> list[Path]:
    """Write every output of ``plan`` into ``out_dir`` atomically; return the files written (sorted).

    run.json's paths are relative to ``record_dir`` (default ``out_dir``): ``run --check`` writes into a scratch
    folder the record of a run in its target folder.
    """
    out_dir = Path(out_dir)
    check_target(out_dir)
    record = decision_record(plan, out_dir if record_dir is None else Path(record_dir))
    with atomic_folder(out_dir) as staging:
        write_csv(plan.assignment, staging / "assignment.csv")
        write_products(plan, record, staging)
        for writer in extra_writers:
            writer(plan, staging)
        write_json(record, staging / "run.json")
    return sorted(path for path in out_dir.iterdir() if path.is_file())
