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


def _guard(action: Callable[[], T], *, debug: bool = False) -> T:
    """Run ``action``; turn library errors into one line and an exit code."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return action()
    except FootprintError as error:
        lines = str(error).splitlines() or [type(error).__name__]
        for line in lines:
            console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
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
        console.print(
            f"[bold red]error:[/] {escape(where)}{escape(error.strerror or str(error))}; check the path, its "
            "permissions and the free space.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
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
        return 0 if report.ok else 2

    raise typer.Exit(_guard(action, debug=debug))


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
    for severity, colour in (("error", "red"), ("warning", "yellow"), ("info", "dim")):
        found = [f for f in report.findings if f.severity == severity]
        if not found or (quiet and severity == "info"):
            continue
        out.print(f"[bold {colour}]{severity}s ({len(found)})[/]")
        for finding in found:
            out.print(
                f"  [{colour}]{finding.code}[/] {escape(finding.line())}", highlight=False, soft_wrap=True
            )
    verdict = "can run" if report.ok else "cannot run: fix the errors above"
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
    gap: Annotated[float | None, typer.Option("--gap", help="Relative optimality gap to stop at.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Places solved in parallel.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="Solver threads per place.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed of the heuristic.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="exact, heuristic or auto.")] = None,
    solver: Annotated[str | None, typer.Option("--solver", help="highs, cbc or auto.")] = None,
    set_: SetOpt = None,
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
    ):
        if value is not None:
            overrides.append(f"{key}={value}")

    def action() -> int:
        from footprint.export import check_target, write_plan
        from footprint.runner import run_scenario
        from footprint.validate import validate_scenario

        scenario = _load(config, overrides)
        target = out_dir or scenario.output.dir
        check_target(Path(target))  # before solving, not after
        interactive = _interactive(quiet) and not json_
        with (
            console.status("Reading inputs and building the contiguity graph...")
            if interactive
            else nullcontext()
        ):
            report = validate_scenario(scenario, places=place)
        progress = _RunProgress(enabled=interactive)
        with progress:
            plan = run_scenario(scenario, places=place, on_event=progress.event, report=report)
        files = write_plan(plan, Path(target))
        if json_:
            from footprint.export import decision_record

            record = decision_record(plan)
            out.print_json(
                json.dumps({"out": str(target), "ok": plan.ok, "places": record["places"]}, default=str)
            )
        else:
            _print_run(plan, Path(target), files, quiet=quiet)
        return 0 if plan.ok else 1

    raise typer.Exit(_guard(action, debug=debug))


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


def solver_warnings(plan: Any) -> list[str]:
    """One line per place whose plan is verified but not proven within the gap (time limit, heuristic)."""
    settings = plan.dataset.scenario.solver
    if settings.method == "heuristic":  # asked for: no solver to stop early
        return []
    target = settings.gap
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
                f"{place}: the solver stopped before proving its plan within the gap {target:.1%}: gap {shown}"
                f"{note}; the plan is verified and written; allow more time (--time-limit) to narrow the gap."
            )
        else:
            lines.append(
                f"{place}: the plan is the heuristic's (verified and written), not improved or proven by the solver:"
                f" gap {shown}{note}; allow more time (--time-limit) or see the solver message."
            )
    return lines


# ---- check ----------------------------------------------------------------------------------------------------


@app.command()
def check(
    run_dir: Annotated[Path, typer.Argument(help="Folder written by footprint run.", show_default=False)],
    json_: JsonOpt = False,
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
            for place, verdict in sorted(audit.verdicts.items()):
                state = "[green]ok[/]" if verdict.ok else "[red]FAILED[/]"
                out.print(f"{place}: {state} ({verdict.neighbourhoods} neighbourhoods)", highlight=False)
                for failure in verdict.failures:
                    out.print(f"  {escape(failure)}", highlight=False, soft_wrap=True)
            out.print("plan verified" if audit.ok else "plan FAILED verification", highlight=False)
        return 0 if audit.ok else 1

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
) -> None:
    """Write a starter scenario (scenario.yaml with every setting documented) into DIR."""
    from importlib import resources

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
        out.print(f"wrote {target}; edit the inputs, then: footprint validate {target}", highlight=False)
        return 0

    raise typer.Exit(_guard(action))


@app.command()
def sample(
    directory: Annotated[Path, typer.Argument(help="Folder to write the synthetic sample data into.")],
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 20261123,
    debug: DebugOpt = False,
) -> None:
    """Regenerate the synthetic sample data (deterministic) into DIR."""

    def action() -> int:
        from footprint.sample import write_sample

        files = write_sample(directory, seed=seed)
        out.print(f"wrote {len(files)} files to {directory}", highlight=False)
        return 0

    raise typer.Exit(_guard(action, debug=debug))
