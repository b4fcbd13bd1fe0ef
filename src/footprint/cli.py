"""The ``footprint`` command line: a thin adapter over the library with the same verbs.

Only this module owns the console: rich tables and a live progress display on a terminal, nothing but results
when ``--quiet`` or when output is not a terminal (CI). Library errors become one clean line on stderr and an exit
code: 0 ok, 1 no feasible or verified plan for some place (or a check failed), 2 bad input or configuration,
130 interrupted. ``--debug`` shows the traceback of unexpected errors.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from footprint import __version__
from footprint.errors import FootprintError

app = typer.Typer(
    name="footprint",
    help="Design NHS neighbourhood footprints: contiguous, population-bounded, PCN-aligned groups of LSOAs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Wide enough for the tables when output goes to a file or CI log rather than a terminal.
PIPE_WIDTH = 160
console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else PIPE_WIDTH)
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else PIPE_WIDTH)
T = TypeVar("T")

ConfigArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting: key.path=value (repeatable), e.g. --set pop.max=45000."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display or tables; results only.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show full tracebacks for unexpected errors.")]


def _version(value: bool) -> None:
    if value:
        out.print(f"footprint {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """footprint: neighbourhood footprint designer for the NHS in London."""


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``finally`` blocks remove partial outputs (exit 143)."""


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM: unwind like Ctrl-C so partial outputs are removed, then exit 143."""
    raise _Terminated()


def _fail(lines: list[str], exit_code: int, *, json_: bool) -> int:
    """Print ``error:`` lines on stderr (and with ``json_`` the same as a JSON object on stdout); return the code."""
    for line in lines:
        console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    if json_:
        out.print_json(json.dumps({"ok": False, "exit_code": exit_code, "errors": lines}))
    return exit_code


def _guard(action: Callable[[], T], *, debug: bool = False, json_: bool = False) -> T:
    """Run ``action``; turn library errors into one line and an exit code (with ``json_``, also a JSON object
    ``{"ok": false, "exit_code": ..., "errors": [...]}`` on stdout, so scripts parsing it get an answer)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return action()
    except FootprintError as error:
        lines = str(error).splitlines() or [type(error).__name__]
        raise typer.Exit(_fail(lines, error.exit_code, json_=json_)) from None
    except KeyboardInterrupt:
        console.print("interrupted; no partial output was written", highlight=False)
        raise typer.Exit(130) from None
    except _Terminated:
        console.print("terminated; no partial output was written", highlight=False)
        raise typer.Exit(143) from None
    except typer.Exit:
        raise
    except OSError as error:  # the file system said no (permissions, disk full, a folder in the way)
        if debug:
            raise
        where = f"{error.filename}: " if error.filename else ""
        line = f"{where}{error.strerror or str(error)}; check the path, its permissions and the free space."
        raise typer.Exit(_fail([line], 2, json_=json_)) from None
    except Exception as error:
        if debug:
            raise
        console.print(
            f"[bold red]internal error:[/] {type(error).__name__}: {escape(str(error))} (re-run with --debug for "
            "the traceback and report it)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(3) from None


def _interactive(quiet: bool) -> bool:
    return not quiet and console.is_terminal


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("markdown_it", "matplotlib", "PIL"):  # their debug logs drown footprint's
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load(config: Path, overrides: list[str] | None):
    from footprint.config import load_scenario

    return load_scenario(config, overrides=overrides or [])


# ---- validate ---------------------------------------------------------------------------------------------


@app.command()
def validate(
    config: ConfigArg,
    place: Annotated[list[str] | None, typer.Option("--place", help="Only these place codes.")] = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check a scenario's inputs and print a per-place summary and every problem found."""
    _setup_logging(debug)

    def action() -> int:
        from footprint.validate import validate_scenario

        scenario = _load(config, set_)
        report = validate_scenario(scenario, places=place)
        if json_:
            out.print_json(json.dumps(report.to_dict(), default=str))
        else:
            _print_validation(report, quiet=quiet)
        return report.exit_code  # the rule run follows: 2 cannot run, 1 some place cannot be planned

    raise typer.Exit(_guard(action, debug=debug, json_=json_))


def _print_validation(report: Any, *, quiet: bool) -> None:
    totals = report.totals()
    if not quiet:
        table = Table(title=f"Scenario {report.scenario.name}: places", title_justify="left")
        for header in (
            "place",
            "name",
            "LSOAs",
            "residents",
            "registered",
            "practices",
            "PCNs",
            "hubs",
            "k range",
            "ok",
        ):
            table.add_column(header, justify="right" if header not in ("place", "name") else "left")
        for p in report.places:
            table.add_row(
                p.place_code,
                p.place_name,
                f"{p.lsoas:,}",
                f"{p.residents:,}",
                f"{p.registered:,}",
                f"{p.practices:,}",
                f"{p.pcns:,}",
                "-" if p.hubs is None else f"{p.hubs:,}",
                f"{p.k_min}-{p.k_max}" if p.k_min <= p.k_max else f"none ({p.k_min}>{p.k_max})",
                "[green]yes[/]" if p.ok else "[red]no[/]",
            )
        out.print(table)
        for p in report.places:
            if p.pcns_note:
                out.print(f"  {p.place_code} {escape(p.place_name)}: {escape(p.pcns_note)}", highlight=False)
    for severity, colour in (("error", "red"), ("warning", "yellow"), ("info", "dim")):
        found = [f for f in report.findings if f.severity == severity]
        if not found or (quiet and severity == "info"):
            continue
        out.print(f"[bold {colour}]{severity}s ({len(found)})[/]")
        for finding in found:
            out.print(
                f"  [{colour}]{finding.code}[/] {escape(finding.line())}", highlight=False, soft_wrap=True
            )
    verdict = {
        0: "can run",
        1: f"can run, but {len(report.infeasible)} of {len(report.places)} places cannot be planned "
        f"({', '.join(sorted(report.infeasible))}): a run plans the others and exits 1",
        2: "cannot run: fix the errors above",
    }[report.exit_code]
    out.print(
        f"{totals['lsoas']:,} LSOAs, {totals['residents']:,} residents, {totals['boroughs']} boroughs in "
        f"{totals['places']} places; {len(report.errors)} errors, {len(report.warnings)} warnings: {verdict}.",
        highlight=False,
    )


# ---- run ------------------------------------------------------------------------------------------------------


@app.command()
def run(
    config: ConfigArg,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: output.dir).")
    ] = None,
    place: Annotated[
        list[str] | None, typer.Option("--place", help="Only these place codes (repeatable).")
    ] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds per place.")] = None,
    gap: Annotated[
        float | None,
        typer.Option("--gap", help="Relative optimality gap to stop at, as a fraction (0.01 = 1%)."),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Places solved in parallel.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="Solver threads per place.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed of the heuristic.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="auto, columns, exact or heuristic.")] = None,
    solver: Annotated[str | None, typer.Option("--solver", help="highs, cbc or auto.")] = None,
    counted: Annotated[
        bool,
        typer.Option(
            "--counted",
            help="Counted work alone (solver.counted): no clock stops any stage, so plans, bounds and files are "
            "the same on any machine (for CI with --check); --time-limit then stops nothing, it sizes some counts.",
        ),
    ] = False,
    executor: Annotated[
        str | None, typer.Option("--executor", help="local (process pool) or dask (a Dask cluster).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Solve places on the Dask cluster at this address (tcp://HOST:PORT)."
        ),
    ] = None,
    set_: SetOpt = None,
    check_: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Solve, then compare with the run already in the output folder instead of writing: exit 0 when "
            "the files would be identical (run.json's timing and workers/executor/scheduler aside), 1 with what "
            "differs. Writes nothing.",
        ),
    ] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Solve every place, verify each plan, and write the boundary files and decision record."""
    _setup_logging(debug)
    overrides = list(set_ or [])
    for key, value in (
        ("solver.time_limit", time_limit),
        ("solver.gap", gap),
        ("solver.threads", threads),
        ("solver.seed", seed),
        ("solver.method", method),
        ("solver.name", solver),
        ("solver.workers", workers),
        ("solver.executor", "dask" if scheduler is not None and executor is None else executor),
        ("solver.scheduler", scheduler),
        ("solver.counted", "true" if counted else None),
    ):
        if value is not None:
            overrides.append(f"{key}={value}")

    def action() -> int:
        from footprint.export import check_target, write_plan
        from footprint.runner import check_dask, run_scenario
        from footprint.validate import validate_scenario

        scenario = _load(config, overrides)
        if scenario.solver.executor == "dask":
            check_dask(scenario.solver.scheduler)  # before minutes of reading inputs
        target = out_dir or scenario.output.dir
        if check_ and not (Path(target) / "run.json").is_file():  # before solving, not after
            what = "is not a footprint run (no run.json)" if Path(target).exists() else "does not exist"
            line = f"{target} {what}, so there is nothing to check against; run without --check to write it."
            return _fail([line], 1, json_=json_)
        if not check_:  # before solving, not after
            check_target(Path(target), reading=[config], read_as="the scenario file")
        interactive = _interactive(quiet) and not json_
        with (
            console.status("Reading inputs and building the contiguity graph...")
            if interactive
            else nullcontext()
        ):
            report = validate_scenario(scenario, places=place)
        if not report.blocking:  # else the errors say it all
            # data problems the run works around: said now, not only in run.json
            for finding in report.warnings:
                console.print(
                    f"[bold yellow]warning:[/] {escape(finding.line())}", highlight=False, soft_wrap=True
                )
        progress = _RunProgress(enabled=interactive)
        with progress:
            plan = run_scenario(scenario, places=place, on_event=progress.event, report=report)
        if check_:
            return _check_run(plan, Path(target), json_=json_, quiet=quiet)
        files = write_plan(plan, Path(target))
        if json_:
            from footprint.export import decision_record

            record = decision_record(plan, Path(target))
            out.print_json(
                json.dumps({"out": str(target), "ok": plan.ok, "places": record["places"]}, default=str)
            )
        else:
            _print_run(plan, Path(target), files, quiet=quiet)
        return 0 if plan.ok else 1

    raise typer.Exit(_guard(action, debug=debug, json_=json_))


class _RunProgress:
    """A live table, a row per place: status, k, gap, time. Silent when disabled."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.rows: dict[str, dict[str, Any]] = {}
        self.live: Live | None = None

    def __enter__(self) -> _RunProgress:
        if self.enabled:
            self.live = Live(self._table(), console=console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(None, None, None)

    def event(self, place: str, event: str, payload: dict[str, Any]) -> None:
        row = self.rows.setdefault(place, {"status": "queued"})
        if event == "started":
            row["status"] = "solving"
        elif event == "finished":
            row.update(payload)
        if self.live is not None:
            self.live.update(self._table())

    def _table(self) -> Table:
        table = Table(title="Solving places", title_justify="left")
        for header in ("place", "status", "k", "gap", "time"):
            table.add_column(header)
        for place, row in sorted(self.rows.items()):
            gap = row.get("gap")
            table.add_row(
                place,
                row["status"],
                str(row.get("k", "")),
                f"{gap:.2%}" if isinstance(gap, float) and gap == gap else "",
                f"{row['seconds']:.1f}s" if "seconds" in row else "",
            )
        return table


def _print_run(plan: Any, target: Path, files: list[Path], *, quiet: bool) -> None:
    if not quiet:
        table = Table(title="Result", title_justify="left")
        for header in ("place", "name", "status", "neighbourhoods", "gap", "method"):
            table.add_column(header)
        for place in sorted(plan.statuses):
            record = plan.place_record(place)
            gap = record.get("gap")
            table.add_row(
                place,
                record["place_name"],
                record["status"],
                str(record.get("neighbourhoods", "")),
                f"{gap:.2%}" if gap is not None else "",
                record.get("method", ""),
            )
        out.print(table)
    for place in plan.failed_places:
        console.print(
            f"[bold red]{place}:[/] {escape(plan.messages.get(place, ''))}", highlight=False, soft_wrap=True
        )
    for line in solver_warnings(plan):
        console.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)
    solved = len(plan.statuses) - len(plan.failed_places)
    out.print(
        f"{solved} of {len(plan.statuses)} places planned and verified; {len(files)} files written to {target}",
        highlight=False,
    )


def _check_run(plan: Any, target: Path, *, json_: bool, quiet: bool) -> int:
    """``run --check``: write the plan to a temporary folder, compare it with ``target``, print what differs."""
    import tempfile

    from footprint.compare import diff_outputs
    from footprint.export import write_plan

    with tempfile.TemporaryDirectory(prefix="footprint-check-") as scratch:
        fresh = Path(scratch) / "run"
        write_plan(plan, fresh, record_dir=target)
        diff = diff_outputs(target, fresh)
    if json_:
        out.print_json(json.dumps({**diff.to_dict(), "plan_ok": plan.ok}, default=str))
        return 0 if diff.identical else 1
    for place in plan.failed_places:
        console.print(
            f"[bold red]{place}:[/] {plan.messages.get(place, '')}", highlight=False, soft_wrap=True
        )
    if diff.identical:
        out.print(
            f"outputs identical to {target} (run.json timing and workers/executor/scheduler aside)",
            highlight=False,
        )
        return 0
    out.print(f"[bold red]outputs differ from {target}[/]", highlight=False)
    for line in diff.lines(limit=3 if quiet else 10):
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    return 1


# ---- compare --------------------------------------------------------------------------------------------------

#: How headline figures are shown in tables.
_PERCENT = ("share_within_km", "coterminosity_median", "coterminosity_weighted", "gap")


def _figure(name: str, value: Any) -> str:
    import numbers

    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    if isinstance(value, str | bool):
        return str(value)
    if name in _PERCENT:
        return f"{float(value):.1%}"
    if name.endswith("_km"):
        return f"{float(value):.2f}"
    if name == "objective" or name.startswith("term_"):
        return f"{float(value):.4f}"
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):.4g}"


@app.command()
def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Run folders written by footprint run or sweep; the first is the reference."),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Also write metrics.csv, lsoas_changed.csv, comparison.md and a map here."
        ),
    ] = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compare written runs: headline figures side by side and the LSOAs whose neighbourhood differs."""
    _setup_logging(debug)

    def action() -> int:
        from footprint.compare import compare_runs, write_comparison

        comparison = compare_runs(runs)
        files = write_comparison(comparison, out_dir) if out_dir is not None else []
        if json_:
            data = comparison.to_dict()
            if out_dir is not None:
                data["files"] = [str(path) for path in files]
            out.print_json(json.dumps(data, default=str))
            return 0
        if not quiet:
            table = Table(title="Headline figures", title_justify="left")
            table.add_column("figure")
            today = comparison.status_quo()
            if today:
                table.add_column("status quo", justify="right")
            for label in comparison.labels:
                table.add_column(label, justify="right")
            for name, row in comparison.metrics.T.iterrows():
                first = [_figure(str(name), today.get(str(name)))] if today else []
                table.add_row(
                    str(name), *first, *(_figure(str(name), row[label]) for label in comparison.labels)
                )
            out.print(table)
        for label in comparison.labels[1:]:
            row = comparison.metrics.loc[label]
            by_place = comparison.changes_by_place(label)
            places = ", ".join(f"{r.place_code} {r.lsoas}" for r in by_place.itertuples())
            out.print(
                f"{label} vs {comparison.reference}: {int(row['lsoas_changed']):,} LSOAs "
                f"({int(row['residents_changed']):,} residents) in another neighbourhood"
                + (f" (by place: {places})" if places else ""),
                highlight=False,
                soft_wrap=True,
            )
        for note in comparison.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
        if out_dir is not None:
            out.print(f"{len(files)} files written to {out_dir}", highlight=False)
        return 0

    raise typer.Exit(_guard(action, debug=debug, json_=json_))


# ---- sweep ----------------------------------------------------------------------------------------------------


@app.command()
def sweep(
    config: ConfigArg,
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="Folder for the scenario folders and summary.csv / summary.md."),
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="key.path=v1,v2,... (repeatable): settings with several values are swept (every combination), "
            "single values apply to every scenario.",
        ),
    ] = None,
    place: Annotated[
        list[str] | None, typer.Option("--place", help="Only these place codes (repeatable).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Places solved at once across the whole grid (default: solver.workers, else cores).",
        ),
    ] = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run a grid of scenarios (--set key=v1,v2) and write each run plus a summary table of the trade-offs."""
    _setup_logging(debug)

    def action() -> int:
        from footprint.sweep import run_sweep

        with _SweepProgress(enabled=_interactive(quiet) and not json_) as progress:
            result = run_sweep(
                config, set_ or [], out_dir=out_dir, places=place, workers=workers, on_event=progress.event
            )
        if json_:
            out.print_json(json.dumps(result.to_dict(), default=str))
            return 0 if result.ok else 1
        summary = result.summary
        if not quiet:
            settings = [axis.key for axis in result.axes]
            figures = {
                "neighbourhoods": "k",
                "mean_distance_km": "mean km",
                "share_within_km": "within km",
                "coterminosity_weighted": "coterminosity",
                "pcns_coterminous": "PCNs coterminous",
                "practices_to_realign": "practices to realign",
                "residents_moved": "residents moved",
                "objective": "objective",
                "gap": "gap",
            }
            table = Table(title=f"Sweep: {len(summary)} scenarios", title_justify="left")
            for header in [*(settings or ["scenario"]), "status"]:
                table.add_column(header, overflow="fold")
            for header in figures.values():
                table.add_column(header, justify="right")
            for row in summary.to_dict(orient="records"):
                table.add_row(
                    *(str(row[key]) for key in settings or ["scenario"]),
                    str(row["status"]),
                    *(_figure(name, row[name]) for name in figures),
                )
            out.print(table)
        for row in summary[summary["status"] != "ok"].itertuples():
            console.print(
                f"[bold red]{row.scenario}:[/] {row.status}: {row.message}", highlight=False, soft_wrap=True
            )
        counts = summary["status"].value_counts()
        tally = ", ".join(f"{count} {status}" for status, count in counts.items())
        out.print(
            f"{len(summary)} scenarios ({tally}) in {result.seconds:.0f} s; summary in {out_dir / 'summary.md'}",
            highlight=False,
        )
        return 0 if result.ok else 1

    raise typer.Exit(_guard(action, debug=debug, json_=json_))


class _SweepProgress:
    """Progress bars for places solved and scenarios written; a line per finished scenario. Silent when disabled."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress: Any = None
        self.reading: Any = None
        self.places: Any = None
        self.scenarios: Any = None

    def __enter__(self) -> _SweepProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            self.progress.__enter__()
            self.reading = self.progress.add_task("reading inputs, building the graph", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    def event(self, event: str, payload: dict[str, Any]) -> None:
        if self.progress is None:
            return
        if event == "planned":
            self.progress.remove_task(self.reading)
            self.scenarios = self.progress.add_task("scenarios written", total=len(payload["scenarios"]))
            self.places = self.progress.add_task("places solved", total=payload["places"])
        elif event == "place":
            self.progress.advance(self.places)
        elif event == "scenario":
            self.progress.advance(self.scenarios)
            colour = "green" if payload["status"] == "ok" else "red"
            self.progress.console.print(
                f"[{colour}]{payload['status']}[/] {payload['scenario']}", highlight=False, soft_wrap=True
            )


def solver_warnings(plan: Any) -> list[str]:
    """One line per place whose plan is verified but not proven within the gap (time limit, heuristic)."""
    settings = plan.dataset.scenario.solver
    if settings.method == "heuristic":  # asked for: no solver to stop early
        return []
    target = settings.gap
    # with counted work no clock stopped it: the time limit sizes the counts (heuristic runs, tree nodes)
    stopped, more = (
        (
            "the counted work ended",
            "raise --time-limit (under counted work it sets the tree's nodes, and the heuristic runs up to "
            "solver.heuristic_runs)",
        )
        if settings.counted
        else ("the solver stopped", "allow more time (--time-limit)")
    )
    lines = []
    for place in sorted(plan.statuses):
        status = plan.statuses[place]
        if status not in ("feasible", "heuristic"):
            continue
        record = plan.place_record(place)
        gap = record.get("gap")
        if gap is not None and gap <= target:
            continue
        shown = f"{gap:.1%}" if gap is not None else "unknown"
        note = f" ({record['message']})" if record.get("message") else ""
        if status == "feasible":
            lines.append(
                f"{place}: {stopped} before proving its plan within the gap {target:.1%}: gap {shown}"
                f"{note}; the plan is verified and written; {more} to narrow the gap."
            )
        else:
            lines.append(
                f"{place}: the plan is the heuristic's (verified and written), not improved or proven by the solver:"
                f" gap {shown}{note}; {more} or see the solver message."
            )
    return lines


# ---- check ----------------------------------------------------------------------------------------------------


@app.command()
def check(
    run_dir: Annotated[Path, typer.Argument(help="Folder written by footprint run.", show_default=False)],
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Re-verify a written plan against the scenario's inputs (exit 1 if it fails)."""
    _setup_logging(debug)

    def action() -> int:
        from footprint.audit import audit_run

        audit = audit_run(run_dir)
        if json_:
            out.print_json(json.dumps(audit.to_dict()))
        else:
            for path in audit.changed_inputs:
                out.print(f"[yellow]changed since the run:[/] {escape(str(path))}", highlight=False)
            for line in audit.problems:
                out.print(f"[red]{escape(line)}[/]", highlight=False)
            for line in audit.breaches:
                out.print(f"[red]breach:[/] {escape(line)}", highlight=False, soft_wrap=True)
            for place, verdict in sorted(audit.verdicts.items()):
                if quiet and verdict.ok:
                    continue
                state = "[green]ok[/]" if verdict.ok else "[red]FAILED[/]"
                out.print(f"{place}: {state} ({verdict.neighbourhoods} neighbourhoods)", highlight=False)
                for failure in verdict.failures:
                    out.print(f"  {escape(failure)}", highlight=False, soft_wrap=True)
            if audit.evaluated:
                verdict = (
                    "follows every rule" if audit.ok else f"breaks the rules {len(audit.breaches)} times"
                )
                out.print(f"evaluated map {verdict}", highlight=False)
            for place, status in sorted(audit.unplanned.items()):
                out.print(f"{place}: not planned ({status}), nothing to verify", highlight=False)
            if not audit.verdicts:
                out.print("nothing verified", highlight=False)
            else:
                out.print("plan verified" if audit.ok else "plan FAILED verification", highlight=False)
        return 0 if audit.ok else 1

    raise typer.Exit(_guard(action, debug=debug, json_=json_))


# ---- report ---------------------------------------------------------------------------------------------------


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Folder written by footprint run.", show_default=False)],
    allow_changed_inputs: Annotated[
        bool,
        typer.Option(
            "--allow-changed-inputs",
            help="Report against the current inputs even if they changed since the run.",
        ),
    ] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Regenerate the reports, maps and tables of a written run (no solving); exit 2 if its inputs changed."""
    _setup_logging(debug)

    def action() -> int:
        from footprint.audit import regenerate_products

        interactive = _interactive(quiet)
        with console.status("Reading the run and its inputs...") if interactive else nullcontext():
            files = regenerate_products(run_dir, allow_changed_inputs=allow_changed_inputs)
        if not quiet:
            out.print(
                f"rewrote {len(files)} files in {run_dir}: {', '.join(f.name for f in files)}",
                highlight=False,
            )
        return 0

    raise typer.Exit(_guard(action, debug=debug))


# ---- schema, init, sample ---------------------------------------------------------------------------------


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors and other tools)."""
    from footprint.config import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the starter scenario in.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing scenario.yaml.")] = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write a starter scenario (scenario.yaml with every setting documented) into DIR."""
    from importlib import resources

    _setup_logging(debug)
    target = directory / "scenario.yaml"
    if target.exists() and not force:
        console.print(
            f"[bold red]error:[/] {escape(str(target))} exists; use --force to overwrite.", highlight=False
        )
        raise typer.Exit(2)

    def action() -> int:
        directory.mkdir(parents=True, exist_ok=True)
        text = resources.files("footprint").joinpath("default.yaml").read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")
        if not quiet:
            out.print(f"wrote {target}; edit the inputs, then: footprint validate {target}", highlight=False)
        return 0

    raise typer.Exit(_guard(action, debug=debug))


@app.command()
def sample(
    directory: Annotated[Path, typer.Argument(help="Folder to write the synthetic sample data into.")],
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 20261123,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Regenerate the synthetic sample data (deterministic) into DIR."""
    _setup_logging(debug)

    def action() -> int:
        from footprint.sample import write_sample

        files = write_sample(directory, seed=seed)
        if not quiet:
            out.print(f"wrote {len(files)} files to {directory}", highlight=False)
        return 0

    raise typer.Exit(_guard(action, debug=debug))


# ---- evaluate and repair: the maps people bring ------------------------------------------------------------------

MapArg = Annotated[
    Path,
    typer.Argument(
        help="The map: a CSV/XLSX table (LSOA code -> neighbourhood), an LSOA layer (e.g. an edited lsoas layer "
        "of neighbourhoods.gpkg) or neighbourhood polygons (GeoPackage, GeoJSON, shapefile).",
        show_default=False,
    ),
]
PlaceOpt = Annotated[list[str] | None, typer.Option("--place", help="Only these place codes (repeatable).")]
LsoaColumnOpt = Annotated[str | None, typer.Option("--lsoa-column", help="The map's LSOA code column.")]
ColumnOpt = Annotated[str | None, typer.Option("--column", help="The map's neighbourhood column.")]
NameColumnOpt = Annotated[
    str | None, typer.Option("--name-column", help="The map's neighbourhood name column.")
]
KeepColumnOpt = Annotated[
    str | None, typer.Option("--keep-column", help="The map's column marking LSOAs to keep (yes/true/1).")
]
LayerOpt = Annotated[
    str | None, typer.Option("--layer", help="Layer (GeoPackage) or sheet (XLSX) of the map.")
]


def _map_overrides(
    set_: list[str] | None, time_limit: float | None, method: str | None, counted: bool = False
) -> list[str]:
    overrides = list(set_ or [])
    if counted:
        overrides.append("solver.counted=true")
    if time_limit is not None:
        overrides.append(f"solver.time_limit={time_limit}")
    if method is not None:
        overrides.append(f"solver.method={method}")
    return overrides


def _map_target(
    config: Path, overrides: list[str], out_dir: Path | None, *, kind: str, map_path: Path
) -> tuple[Any, Path]:
    from footprint.evaluate import check_output_folder

    scenario = _load(config, overrides)
    target = Path(out_dir or scenario.output.dir)
    check_output_folder(target, kind=kind, map_path=map_path)  # before reading and solving, not after
    return scenario, target


@app.command()
def evaluate(
    config: ConfigArg,
    map_path: MapArg,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: output.dir).")
    ] = None,
    place: PlaceOpt = None,
    lsoa_column: LsoaColumnOpt = None,
    column: ColumnOpt = None,
    name_column: NameColumnOpt = None,
    layer: LayerOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check a map against every rule, explain each breach, and write it like a run (status evaluated).

    Exit 0 when the map follows every rule, 1 when it breaks some (still written, breaches marked), 2 on bad input.
    """
    _setup_logging(debug)
    overrides = list(set_ or [])

    def action() -> int:
        from footprint.evaluate import evaluate_map, write_evaluation

        scenario, target = _map_target(config, overrides, out_dir, kind="evaluation", map_path=map_path)
        with (
            console.status("Reading inputs and the map...")
            if _interactive(quiet) and not json_
            else nullcontext()
        ):
            evaluation = evaluate_map(
                scenario,
                map_path,
                places=place,
                code_column=lsoa_column,
                label_column=column,
                name_column=name_column,
                layer=layer,
            )
        files = write_evaluation(evaluation, target)
        if json_:
            out.print_json(
                json.dumps(
                    {
                        "out": str(target),
                        "ok": evaluation.ok,
                        "map": evaluation.map.to_dict(),
                        "places": dict(sorted(evaluation.plan.statuses.items())),
                        "breaches": [b.to_dict() for b in evaluation.breaches],
                    },
                    default=str,
                )
            )
        else:
            for breach in evaluation.breaches:
                where = f"{breach.place_code} " if breach.place_code else ""
                out.print(f"[red]breach[/] {where}{breach.rule}: {escape(breach.message)}", highlight=False)
            verdict = (
                "follows every rule"
                if evaluation.ok
                else f"breaks the rules {len(evaluation.breaches)} times"
            )
            out.print(
                f"{evaluation.map.path.name} {verdict}; {len(files)} files written to {target}",
                highlight=False,
            )
        return 0 if evaluation.ok else 1

    raise typer.Exit(_guard(action, debug=debug, json_=json_))


@app.command()
def repair(
    config: ConfigArg,
    map_path: MapArg,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: output.dir).")
    ] = None,
    place: PlaceOpt = None,
    keep: Annotated[
        str | None,
        typer.Option("--keep", help="LSOA codes that stay in their map neighbourhood, comma-separated."),
    ] = None,
    improve: Annotated[
        float | None,
        typer.Option(
            "--improve",
            help="Instead of the least change, the best plan by the scenario's weights moving at most this share "
            "of each place's residents (e.g. 0.05).",
        ),
    ] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds per place.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="auto, columns, exact or heuristic.")] = None,
    counted: Annotated[
        bool,
        typer.Option(
            "--counted",
            help="Counted work alone (solver.counted): the heuristic to its counts and each MIP to a node limit, "
            "no clock, so the repair is the same on any machine; --time-limit then sizes the counts.",
        ),
    ] = False,
    lsoa_column: LsoaColumnOpt = None,
    column: ColumnOpt = None,
    name_column: NameColumnOpt = None,
    keep_column: KeepColumnOpt = None,
    layer: LayerOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The valid plan that moves the fewest residents from a map, verified, with every LSOA moved and why.

    Exit 0 when every place has a verified plan, 1 when some place has none, 2 on bad input.
    """
    _setup_logging(debug)
    overrides = _map_overrides(set_, time_limit, method, counted)

    def action() -> int:
        from footprint.evaluate import repair_map, write_repair

        scenario, target = _map_target(config, overrides, out_dir, kind="repair", map_path=map_path)
        kept = [code.strip() for code in (keep or "").split(",") if code.strip()]
        with console.status("Repairing the map...") if _interactive(quiet) and not json_ else nullcontext():
            result = repair_map(
                scenario,
                map_path,
                places=place,
                keep=kept,
                improve=improve,
                code_column=lsoa_column,
                label_column=column,
                name_column=name_column,
                keep_column=keep_column,
                layer=layer,
            )
        files = write_repair(result, target)
        moved = result.residents_moved()
        if json_:
            out.print_json(
                json.dumps(
                    {
                        "out": str(target),
                        "ok": result.ok,
                        "places": dict(sorted(result.plan.statuses.items())),
                        "residents_moved": moved,
                        "moves": result.moves.to_dict("records"),
                    },
                    default=str,
                )
            )
        else:
            if not quiet:
                for row in result.moves.to_dict("records"):
                    out.print(
                        f"move {row['lsoa_code']} {escape(str(row['lsoa_name']))} ({row['residents']:,} residents): "
                        f"{row['from'] or 'none'} -> {row['to']}; {escape(row['reason'])}",
                        highlight=False,
                    )
            for place_code, solution in sorted(result.plan.solutions.items()):
                if place_code not in result.plan.failed_places and not quiet:
                    gap = f", gap {solution.gap:.1%}" if solution.gap == solution.gap else ""
                    out.print(
                        f"{place_code}: {solution.status}{gap}; {escape(solution.message)}",
                        highlight=False,
                        soft_wrap=True,
                    )
            for failed in result.plan.failed_places:
                out.print(
                    f"[red]{failed}[/]: {escape(result.plan.messages.get(failed, ''))}", highlight=False
                )
            out.print(
                f"{len(result.moves)} LSOAs ({sum(moved.values()):,} residents) moved; "
                f"{len(result.plan.statuses) - len(result.plan.failed_places)} of {len(result.plan.statuses)} places "
                f"verified; {len(files)} files written to {target}",
                highlight=False,
            )
        return 0 if result.ok else 1

    raise typer.Exit(_guard(action, debug=debug, json_=json_))
