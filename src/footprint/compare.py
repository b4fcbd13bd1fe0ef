"""Compare written runs (``footprint compare``): headline figures side by side and the LSOAs that changed.

Works from the files a run wrote (``assignment.csv``, ``neighbourhoods.csv``, ``realignment_*.csv``,
``changes.csv`` when the run had a baseline, ``run.json``, and ``neighbourhoods.gpkg`` for the map), so it needs neither the inputs nor a
solver. Neighbourhood ids are numbered per run (north to south), so the same neighbourhood can carry different ids
in two runs and one changed LSOA can renumber a whole place. Runs are therefore matched before they are diffed:
in each place, every neighbourhood of a run is paired one-to-one with a neighbourhood of the reference run (the
first) so that the residents they share are as many as possible (an assignment problem, solved with
:func:`scipy.optimize.linear_sum_assignment`). An LSOA *changed* when its neighbourhood in the other run is not the
partner of its neighbourhood in the reference run, or when it is planned in one run only. Relabelled but identical
plans therefore show no change.

:func:`compare_runs` returns a :class:`Comparison` of DataFrames; :func:`write_comparison` writes it as CSV,
Markdown and a difference map (PNG); the CLI is a thin adapter over both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from footprint import columns as C
from footprint.errors import InputDataError
from footprint.export import atomic_folder, check_target, read_run_record, write_csv
from footprint.metrics import HEADLINE, summarise_headline

logger = logging.getLogger(__name__)

#: Figures that compare a run with the reference run (the first), added to the headline figures.
DIFFERENCE = {
    "lsoas_changed": "LSOAs whose neighbourhood differs from the reference run (after matching)",
    "residents_changed": "residents of those LSOAs",
}
#: Codes are text even when they look like numbers.
_TEXT_COLUMNS = {
    C.LSOA_CODE: str,
    C.NEIGHBOURHOOD: str,
    C.PLACE_CODE: str,
    C.PCN_CODE: str,
    C.PRACTICE_CODE: str,
    "baseline": str,
    "home_neighbourhood": str,
    "pcn_home": str,
}


@dataclass(frozen=True)
class WrittenRun:
    """The tables of one run folder, as written.

    Attributes
    ----------
    path, label
        The folder and the name it is shown under.
    record
        ``run.json``.
    assignment
        lsoa_code, neighbourhood_id, place_code, population (residents, from ``changes.csv``, else the ``lsoas``
        layer of ``neighbourhoods.gpkg``; 0 when absent).
    neighbourhoods, pcns, practices, changes
        ``neighbourhoods.csv``, ``realignment_pcns.csv``, ``realignment_practices.csv``, ``changes.csv``; empty
        frames when the run wrote none (no plan, no PCN inputs, or no baseline).
    """

    path: Path
    label: str
    record: dict[str, Any]
    assignment: pd.DataFrame
    neighbourhoods: pd.DataFrame
    pcns: pd.DataFrame
    practices: pd.DataFrame
    changes: pd.DataFrame

    def headline(self) -> dict[str, object]:
        """The run's headline figures (:func:`footprint.metrics.summarise_headline`)."""
        baseline = self.record.get("baseline")
        return summarise_headline(
            self.neighbourhoods,
            self.pcns,
            self.practices,
            self.changes,
            self.record.get("places", []),
            baseline=baseline.get("source") if isinstance(baseline, dict) else None,
        )


def _read_table(path: Path, *, required: bool = False) -> pd.DataFrame:
    if not path.is_file():
        if required:
            raise InputDataError(f"{path}: missing; give a folder written by footprint run.")
        return pd.DataFrame()
    try:
        frame = pd.read_csv(path, dtype=_TEXT_COLUMNS, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputDataError(f"{path}: not a readable CSV ({error}).") from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    return frame


def _lsoa_population(geopackage: Path) -> pd.Series:
    """Residents per LSOA from the ``lsoas`` layer, for a run without ``changes.csv`` (no baseline); empty when the
    run wrote no GeoPackage (no plan)."""
    import pyogrio

    if not geopackage.is_file():
        return pd.Series(dtype="int64")
    try:
        layer = pyogrio.read_dataframe(
            geopackage, layer="lsoas", columns=[C.LSOA_CODE, C.POPULATION], read_geometry=False
        )
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
    ) as error:
        raise InputDataError(f"{geopackage}: not a readable footprint GeoPackage ({error}).") from None
    return layer.set_index(C.LSOA_CODE)[C.POPULATION]


def read_run(path: str | Path, *, label: str | None = None) -> WrittenRun:
    """Read the tables of a run folder written by ``footprint run`` (or ``write_plan``).

    Raises
    ------
    InputDataError
        When the folder, its ``run.json`` or its ``assignment.csv`` is missing or unreadable.
    """
    path = Path(path)
    _, record = read_run_record(path)
    assignment = _read_table(path / "assignment.csv", required=True)
    missing = {C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE} - set(assignment.columns)
    if missing:
        raise InputDataError(
            f"{path / 'assignment.csv'}: columns {', '.join(sorted(missing))} missing; is it a footprint run?"
        )
    changes = _read_table(path / "changes.csv")
    population = (
        changes.set_index(C.LSOA_CODE)[C.POPULATION]
        if len(changes) and C.POPULATION in changes
        else _lsoa_population(path / "neighbourhoods.gpkg")
    )
    assignment = assignment[[C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE]].assign(
        **{C.POPULATION: assignment[C.LSOA_CODE].map(population).fillna(0).astype("int64")}
    )
    return WrittenRun(
        path=path,
        label=label or path.name,
        record=record,
        assignment=assignment,
        neighbourhoods=_read_table(path / "neighbourhoods.csv"),
        pcns=_read_table(path / "realignment_pcns.csv"),
        practices=_read_table(path / "realignment_practices.csv"),
        changes=changes,
    )


def match_neighbourhoods(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Pair the neighbourhoods of ``other`` with those of ``reference``, one-to-one per place, by shared residents.

    Both frames hold lsoa_code, neighbourhood_id, place_code and population (residents per LSOA). Within each place
    of the reference, the pairing maximises the residents of the LSOAs the paired neighbourhoods share (ties:
    the LSOAs they share). Returns place_code, neighbourhood_id (reference), matched_id (other), residents_shared,
    lsoas_shared; neighbourhoods that share nothing with a partner are left unpaired.
    """
    merged = reference[[C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE, C.POPULATION]].merge(
        other[[C.LSOA_CODE, C.NEIGHBOURHOOD]].rename(columns={C.NEIGHBOURHOOD: "matched_id"}), on=C.LSOA_CODE
    )
    rows = []
    for place, group in merged.groupby(C.PLACE_CODE, sort=True):
        residents = group.pivot_table(
            index=C.NEIGHBOURHOOD, columns="matched_id", values=C.POPULATION, aggfunc="sum", fill_value=0
        )
        lsoas = group.pivot_table(
            index=C.NEIGHBOURHOOD, columns="matched_id", values=C.LSOA_CODE, aggfunc="count", fill_value=0
        ).reindex(index=residents.index, columns=residents.columns)
        # residents first; a shared LSOA is worth less than one resident, so it only breaks ties
        score = residents.to_numpy(dtype=float) + lsoas.to_numpy(dtype=float) / (len(group) + 1)
        for i, j in zip(*linear_sum_assignment(score, maximize=True), strict=True):
            if lsoas.iat[i, j] > 0:
                rows.append(
                    {
                        C.PLACE_CODE: place,
                        C.NEIGHBOURHOOD: residents.index[i],
                        "matched_id": residents.columns[j],
                        "residents_shared": int(residents.iat[i, j]),
                        "lsoas_shared": int(lsoas.iat[i, j]),
                    }
                )
    columns = [C.PLACE_CODE, C.NEIGHBOURHOOD, "matched_id", "residents_shared", "lsoas_shared"]
    return pd.DataFrame(rows, columns=columns).sort_values(C.NEIGHBOURHOOD, ignore_index=True)


def diff_assignments(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per LSOA of either run: its neighbourhood in each, and whether it changed once neighbourhoods are matched.

    Returns lsoa_code, place_code, population, reference_id, other_id, other_as_reference (the reference
    neighbourhood ``other_id`` is paired with, see :func:`match_neighbourhoods`), changed; sorted by LSOA.
    """
    matches = match_neighbourhoods(reference, other)
    partner = dict(zip(matches["matched_id"], matches[C.NEIGHBOURHOOD], strict=True))
    keep = [C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE, C.POPULATION]
    frame = reference[keep].merge(other[keep], on=C.LSOA_CODE, how="outer", suffixes=("_ref", "_other"))
    frame = pd.DataFrame(
        {
            C.LSOA_CODE: frame[C.LSOA_CODE],
            C.PLACE_CODE: frame[f"{C.PLACE_CODE}_ref"].fillna(frame[f"{C.PLACE_CODE}_other"]),
            C.POPULATION: frame[f"{C.POPULATION}_ref"]
            .fillna(frame[f"{C.POPULATION}_other"])
            .fillna(0)
            .astype("int64"),
            "reference_id": frame[f"{C.NEIGHBOURHOOD}_ref"],
            "other_id": frame[f"{C.NEIGHBOURHOOD}_other"],
        }
    )
    frame["other_as_reference"] = frame["other_id"].map(partner)
    frame["changed"] = frame["reference_id"].isna() | (frame["other_as_reference"] != frame["reference_id"])
    return frame.sort_values(C.LSOA_CODE, ignore_index=True)


#: The column of :meth:`Comparison.side_by_side` holding today's arrangement (the status quo).
STATUS_QUO = "status quo"


@dataclass
class Comparison:
    """Written runs compared with the first (the reference).

    Attributes
    ----------
    runs
        The runs, reference first.
    metrics
        One row per run (index: label): the headline figures (:data:`footprint.metrics.HEADLINE`) and
        lsoas_changed / residents_changed against the reference.
    lsoas
        One row per LSOA that changed in at least one run: lsoa_code, place_code, population, the neighbourhood id
        in each run (a column per label), for each other run ``<label>_as_<reference>`` (the reference
        neighbourhood its neighbourhood is paired with) and changed_in (labels of the runs where it changed).
    matches
        run, place_code, neighbourhood_id (reference), matched_id, residents_shared, lsoas_shared.
    """

    runs: list[WrittenRun]
    metrics: pd.DataFrame
    lsoas: pd.DataFrame
    matches: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.runs[0].label

    @property
    def labels(self) -> list[str]:
        return [run.label for run in self.runs]

    def changes_by_place(self, label: str) -> pd.DataFrame:
        """place_code, lsoas, residents: the LSOAs of each place that changed in run ``label``."""
        mask = self.lsoas["changed_in"].map(lambda runs: label in str(runs).split(";")).astype(bool)
        changed = self.lsoas[mask]
        return (
            changed.groupby(C.PLACE_CODE, sort=True)
            .agg(lsoas=(C.LSOA_CODE, "size"), residents=(C.POPULATION, "sum"))
            .reset_index()
        )

    def side_by_side(self) -> pd.DataFrame:
        """The metrics with a row per figure and a column per run, plus what each figure means."""
        table = self.metrics.T.reset_index(names="metric")
        table.insert(1, "meaning", table["metric"].map({**HEADLINE, **DIFFERENCE}))
        today = self.status_quo()
        if today:  # today's arrangement, as the reference run recorded it, before the runs
            table.insert(2, STATUS_QUO, table["metric"].map(today))
        table.columns.name = None
        return table

    def status_quo(self) -> dict[str, object]:
        """The headline figures of today's arrangement recorded by the reference run (run.json ``status_quo``;
        {} when it recorded none)."""
        return dict((self.runs[0].record.get("status_quo") or {}).get("headline") or {})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible data (NaN as null)."""
        return {
            "reference": self.reference,
            "runs": [{"label": run.label, "path": str(run.path)} for run in self.runs],
            "metrics": {label: _plain(row) for label, row in self.metrics.to_dict(orient="index").items()},
            "lsoas_changed": [_plain(row) for row in self.lsoas.to_dict(orient="records")],
            "matches": [_plain(row) for row in self.matches.to_dict(orient="records")],
            "notes": self.notes,
            "status_quo": _plain(self.status_quo()),
        }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[str(key)] = value
    return out


def run_labels(paths: Sequence[Path]) -> list[str]:
    """Short unique names for run folders: the folder name, with as many parent folders as it takes."""
    resolved = [Path(p).resolve() for p in paths]
    for depth in range(1, max(len(p.parts) for p in resolved) + 1):
        labels = ["/".join(p.parts[-depth:]) for p in resolved]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{path.name}#{k + 1}" for k, path in enumerate(resolved)]


def compare_runs(paths: Sequence[str | Path], *, labels: Sequence[str] | None = None) -> Comparison:
    """Compare two or more written runs; the first is the reference.

    Parameters
    ----------
    paths
        Run folders written by ``footprint run``, ``footprint sweep`` or :func:`footprint.write_plan`.
    labels
        Names for the runs (default: their folder names, made unique).

    Raises
    ------
    InputDataError
        When fewer than two runs are given, labels repeat, or a folder is not a readable run.
    """
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise InputDataError("compare needs at least two run folders.")
    names = list(labels) if labels is not None else run_labels(paths)
    if len(names) != len(paths) or len(set(names)) != len(names):
        raise InputDataError("compare needs one distinct label per run folder.")
    runs = [read_run(path, label=name) for path, name in zip(paths, names, strict=True)]
    reference = runs[0]
    rows: dict[str, dict[str, object]] = {}
    per_lsoa = reference.assignment[[C.LSOA_CODE, C.PLACE_CODE, C.POPULATION]].rename(
        columns={C.PLACE_CODE: "_place", C.POPULATION: "_population"}
    )
    ids = {reference.label: reference.assignment.set_index(C.LSOA_CODE)[C.NEIGHBOURHOOD]}
    changed_in: dict[str, list[str]] = {}
    partners: dict[str, pd.Series] = {}
    matches = []
    notes = []
    for run in runs:
        rows[run.label] = {**run.headline(), "lsoas_changed": 0, "residents_changed": 0}
        if run is reference:
            continue
        diff = diff_assignments(reference.assignment, run.assignment)
        changed = diff[diff["changed"]]
        rows[run.label]["lsoas_changed"] = len(changed)
        rows[run.label]["residents_changed"] = int(changed[C.POPULATION].sum())
        for code in changed[C.LSOA_CODE]:
            changed_in.setdefault(code, []).append(run.label)
        ids[run.label] = run.assignment.set_index(C.LSOA_CODE)[C.NEIGHBOURHOOD]
        partners[run.label] = diff.set_index(C.LSOA_CODE)["other_as_reference"]
        matches.append(match_neighbourhoods(reference.assignment, run.assignment).assign(run=run.label))
        extra = sorted(set(run.assignment[C.PLACE_CODE]) ^ set(reference.assignment[C.PLACE_CODE]))
        if extra:
            notes.append(
                f"{run.label}: places planned in only one of it and {reference.label}: {', '.join(extra)}"
            )
        per_lsoa = per_lsoa.merge(
            run.assignment[[C.LSOA_CODE, C.PLACE_CODE, C.POPULATION]].rename(
                columns={C.PLACE_CODE: "_place_other", C.POPULATION: "_population_other"}
            ),
            on=C.LSOA_CODE,
            how="outer",
        )
        per_lsoa["_place"] = per_lsoa["_place"].fillna(per_lsoa.pop("_place_other"))
        per_lsoa["_population"] = per_lsoa["_population"].fillna(per_lsoa.pop("_population_other"))
    metrics = pd.DataFrame.from_dict(rows, orient="index")[[*HEADLINE, *DIFFERENCE]]
    metrics.index.name = "run"

    lsoas = per_lsoa[per_lsoa[C.LSOA_CODE].isin(changed_in)].rename(
        columns={"_place": C.PLACE_CODE, "_population": C.POPULATION}
    )
    lsoas[C.POPULATION] = lsoas[C.POPULATION].fillna(0).astype("int64")
    for label in names:
        lsoas[label] = lsoas[C.LSOA_CODE].map(ids[label])
    for label, partner in partners.items():
        lsoas[f"{label}_as_{reference.label}"] = lsoas[C.LSOA_CODE].map(partner)
    lsoas["changed_in"] = lsoas[C.LSOA_CODE].map(lambda code: ";".join(changed_in.get(code, [])))
    lsoas = lsoas.sort_values(C.LSOA_CODE, ignore_index=True)
    match_columns = ["run", C.PLACE_CODE, C.NEIGHBOURHOOD, "matched_id", "residents_shared", "lsoas_shared"]
    matches_frame = (
        pd.concat(matches, ignore_index=True)[match_columns]
        if matches
        else pd.DataFrame(columns=match_columns)
    )
    return Comparison(runs=runs, metrics=metrics, lsoas=lsoas, matches=matches_frame, notes=notes)


# ---- writing ------------------------------------------------------------------------------------------------


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table of ``frame`` (floats to 4 significant digits, missing values blank)."""
    shown = frame.copy()
    for name in shown.columns:
        shown[name] = shown[name].map(_cell)
    return shown.to_markdown(index=False, disable_numparse=True)


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}" if abs(value) >= 1000 else f"{float(value):.4g}"
    return str(value).replace("|", "\\|")


def write_comparison(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """Write ``metrics.csv`` (side by side), ``lsoas_changed.csv``, ``matches.csv``, ``comparison.md`` and
    ``difference_map.png`` into ``out_dir`` atomically; return the files written.

    ``out_dir`` must be new, empty or an earlier comparison (it is replaced whole), and neither hold nor be a run
    being compared (:func:`~footprint.export.check_target`).
    """
    out_dir = Path(out_dir)
    check_target(
        out_dir,
        kind="comparison",
        option="--out",
        reading=[run.path for run in comparison.runs],
        read_as="a run being compared",
    )
    with atomic_folder(out_dir) as staging:
        side = comparison.side_by_side()
        write_csv(side, staging / "metrics.csv")
        write_csv(comparison.lsoas, staging / "lsoas_changed.csv")
        write_csv(comparison.matches, staging / "matches.csv")
        has_map = write_difference_map(comparison, staging / "difference_map.png")
        (staging / "comparison.md").write_text(
            _comparison_markdown(comparison, side, has_map=has_map), encoding="utf-8"
        )
    return sorted(path for path in out_dir.iterdir() if path.is_file())


def _comparison_markdown(comparison: Comparison, side: pd.DataFrame, *, has_map: bool) -> str:
    runs = "\n".join(f"- `{run.label}`: {run.path}" for run in comparison.runs)
    changed = comparison.lsoas
    lines = [
        f"# Comparison of {len(comparison.runs)} runs",
        "",
        f"Reference run: `{comparison.reference}`. Neighbourhoods are paired with the reference's by the most "
        "shared residents in each place before LSOAs are compared, so renumbered but identical neighbourhoods "
        "count as unchanged.",
        "",
        runs,
        "",
        "## Headline figures",
        "",
        markdown_table(side),
        "",
        f"## LSOAs whose neighbourhood differs ({len(changed):,}, "
        f"{int(changed[C.POPULATION].sum()) if len(changed) else 0:,} residents)",
        "",
    ]
    if len(changed):
        per_place = changed.groupby(C.PLACE_CODE).agg(
            lsoas=(C.LSOA_CODE, "size"), residents=(C.POPULATION, "sum")
        )
        lines += [
            markdown_table(per_place.reset_index()),
            "",
            "Every LSOA is listed in `lsoas_changed.csv`.",
            "",
        ]
    else:
        lines += ["None: every run gives the same neighbourhoods as the reference.", ""]
    if has_map:
        lines += ["## Difference map", "", "![LSOAs that changed](difference_map.png)", ""]
    for note in comparison.notes:
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


def write_difference_map(comparison: Comparison, path: Path) -> bool:
    """Draw the reference run's LSOAs, shading those that changed, with each run's neighbourhood boundaries.

    Returns False (and writes nothing) when the reference run has no ``neighbourhoods.gpkg`` to draw.
    """
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    geopackage = comparison.runs[0].path / "neighbourhoods.gpkg"
    if not geopackage.is_file():
        comparison.notes.append(f"no difference map: {geopackage} is missing")
        return False
    lsoas = gpd.read_file(geopackage, layer="lsoas")
    changed = set(comparison.lsoas[C.LSOA_CODE])
    lsoas["changed"] = lsoas[C.LSOA_CODE].isin(changed)
    # the other runs first, wide and coloured; the reference last, thin and black: where boundaries agree only
    # black shows, where they differ the colour stands alone
    styles = [("black", 0.9), ("tab:blue", 2.6), ("tab:orange", 2.0), ("tab:green", 1.5), ("tab:purple", 1.2)]
    xmin, ymin, xmax, ymax = lsoas.total_bounds
    ratio = (ymax - ymin) / (xmax - xmin) if xmax > xmin else 1.0
    figure, axes = plt.subplots(figsize=(10, float(np.clip(10 * ratio, 4, 14)) + 0.6), dpi=100)
    lsoas.plot(ax=axes, color="#eeeeee", edgecolor="white", linewidth=0.2)
    if lsoas["changed"].any():
        lsoas[lsoas["changed"]].plot(ax=axes, color="#fcae91", edgecolor="white", linewidth=0.2)
    handles = [Patch(color="#fcae91", label=f"changed ({int(lsoas['changed'].sum()):,} LSOAs)")]
    for k in reversed(range(len(comparison.runs))):
        run = comparison.runs[k]
        colour, width = styles[k % len(styles)]
        hoods_file = run.path / "neighbourhoods.gpkg"
        if not hoods_file.is_file():
            continue
        hoods = gpd.read_file(hoods_file, layer="neighbourhoods")
        hoods.boundary.plot(ax=axes, color=colour, linewidth=width)
        handles.insert(1, Line2D([], [], color=colour, linewidth=width, label=run.label))
    axes.set_axis_off()
    axes.set_title(f"Neighbourhoods: {' vs '.join(comparison.labels)}")
    axes.legend(handles=handles, loc="lower left", fontsize="small", frameon=True)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
    return True


# ---- run --check: would a new run write the same files? ---------------------------------------------------------


@dataclass
class OutputDiff:
    """How the files a plan would write differ from those in a run folder (``footprint run --check``).

    Attributes
    ----------
    run_dir
        The folder checked.
    changed
        Files present in both whose content differs (run.json ignoring its ``timing`` key).
    missing
        Files the plan would write that the folder lacks.
    unexpected
        Files in the folder the plan would not write.
    record_keys
        Top-level keys of run.json that differ (``timing`` ignored); for ``places``, each place field that differs
        as ``places[CODE.field]`` (``places[CODE]`` for a place in one record only).
    places
        Place code -> LSOAs whose neighbourhood id differs in assignment.csv (or that are planned in only one).
    lsoas
        lsoa_code, place_code, on_disk, now: one row per LSOA whose neighbourhood id differs.
    """

    run_dir: Path
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    record_keys: list[str] = field(default_factory=list)
    places: dict[str, int] = field(default_factory=dict)
    lsoas: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def identical(self) -> bool:
        return not (self.changed or self.missing or self.unexpected)

    def lines(self, *, limit: int = 10) -> list[str]:
        """A short human summary of the differences (empty when identical)."""
        out = []
        if self.changed:
            keys = ", ".join(self.record_keys[:limit]) + (
                f" and {len(self.record_keys) - limit} more" if len(self.record_keys) > limit else ""
            )
            shown = [
                f"run.json ({keys})" if name == "run.json" and self.record_keys else name
                for name in self.changed
            ]
            out.append(f"changed: {', '.join(shown)}")
        if self.missing:
            out.append(f"missing in {self.run_dir}: {', '.join(self.missing)}")
        if self.unexpected:
            out.append(f"not written by this run: {', '.join(self.unexpected)}")
        if self.places:
            out.append(
                "places with LSOAs in another neighbourhood: "
                + ", ".join(f"{place} ({count} LSOAs)" for place, count in sorted(self.places.items()))
            )
        if len(self.lsoas):
            rows = self.lsoas.head(limit)
            listed = ", ".join(
                f"{row.lsoa_code} {row.on_disk or '-'} -> {row.now or '-'}" for row in rows.itertuples()
            )
            more = f" and {len(self.lsoas) - limit} more" if len(self.lsoas) > limit else ""
            out.append(f"LSOAs: {listed}{more}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "identical": self.identical,
            "changed": self.changed,
            "missing": self.missing,
            "unexpected": self.unexpected,
            "run_json_keys": self.record_keys,
            "places": self.places,
            "lsoas": [_plain(row) for row in self.lsoas.to_dict(orient="records")],
        }


def diff_outputs(expected_dir: str | Path, actual_dir: str | Path) -> OutputDiff:
    """Compare the files of a freshly written run (``actual_dir``) with a run folder on disk (``expected_dir``).

    Files are compared byte for byte, except ``run.json`` whose ``timing`` key (wall times, date) and the solver
    settings that say where places were solved (workers, executor, scheduler) are ignored.
    """
    from footprint.export import VOLATILE_KEYS

    expected_dir, actual_dir = Path(expected_dir), Path(actual_dir)
    on_disk = {p.name for p in expected_dir.iterdir() if p.is_file()}
    now = {p.name for p in actual_dir.iterdir() if p.is_file()}
    diff = OutputDiff(run_dir=expected_dir, missing=sorted(now - on_disk), unexpected=sorted(on_disk - now))
    for name in sorted(on_disk & now):
        old, new = (expected_dir / name).read_bytes(), (actual_dir / name).read_bytes()
        if name == "run.json":
            keys = _record_differences(old, new, ignore=VOLATILE_KEYS)
            if keys:
                diff.changed.append(name)
                diff.record_keys = keys
        elif old != new:
            diff.changed.append(name)
    if "assignment.csv" in diff.changed or "assignment.csv" in diff.missing:
        diff.lsoas = _assignment_changes(expected_dir / "assignment.csv", actual_dir / "assignment.csv")
        diff.places = diff.lsoas.groupby(C.PLACE_CODE).size().astype(int).to_dict() if len(diff.lsoas) else {}
    return diff


def _record_differences(old: bytes, new: bytes, *, ignore: Sequence[str]) -> list[str]:
    """Top-level keys whose values differ between two run.json files (all keys when one is not JSON)."""
    try:
        first, second = json.loads(old), json.loads(new)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ["(not valid JSON)"]
    if not isinstance(first, dict) or not isinstance(second, dict):
        return ["(not a JSON object)"]
    first, second = _without_placement(first), _without_placement(second)
    keys = sorted((set(first) | set(second)) - set(ignore))
    differences = []
    for key in keys:
        if first.get(key) == second.get(key):
            continue
        per_place = _place_differences(first.get(key), second.get(key)) if key == "places" else None
        differences.extend([f"places[{where}]" for where in per_place] if per_place else [key])
    return differences


def _without_placement(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a run.json mapping without the settings that only say where places were solved."""
    from footprint.export import PLACEMENT_SETTINGS

    record = json.loads(json.dumps(record))
    for outer, inner in (("config", "solver"), ("solver", "settings")):
        section = record.get(outer)
        section = section.get(inner) if isinstance(section, dict) else None
        if isinstance(section, dict):
            for key in PLACEMENT_SETTINGS:
                section.pop(key, None)
    return record


def _place_differences(first: Any, second: Any) -> list[str] | None:
    """``CODE.field`` for each field of a place record that differs (``CODE`` alone for a place in one record
    only), or None when the values are not lists of place records."""

    def by_code(records: Any) -> dict[str, dict[str, Any]] | None:
        if not isinstance(records, list) or not all(
            isinstance(r, dict) and "place_code" in r for r in records
        ):
            return None
        return {str(r["place_code"]): r for r in records}

    old, new = by_code(first), by_code(second)
    if old is None or new is None:
        return None
    out = []
    for code in sorted(set(old) | set(new)):
        if code not in old or code not in new:
            out.append(code)
            continue
        fields = sorted(set(old[code]) | set(new[code]))
        out.extend(f"{code}.{name}" for name in fields if old[code].get(name) != new[code].get(name))
    return out


def _assignment_changes(on_disk: Path, now: Path) -> pd.DataFrame:
    columns = [C.LSOA_CODE, C.PLACE_CODE, "on_disk", "now"]
    old = _read_table(on_disk)
    new = _read_table(now)
    if C.LSOA_CODE not in old or C.NEIGHBOURHOOD not in old:
        old = pd.DataFrame(columns=[C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE])
    merged = old[[C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE]].merge(
        new[[C.LSOA_CODE, C.NEIGHBOURHOOD, C.PLACE_CODE]],
        on=C.LSOA_CODE,
        how="outer",
        suffixes=("_old", "_new"),
    )
    differs = merged[f"{C.NEIGHBOURHOOD}_old"].fillna("") != merged[f"{C.NEIGHBOURHOOD}_new"].fillna("")
    merged = merged[differs]
    frame = pd.DataFrame(
        {
            C.LSOA_CODE: merged[C.LSOA_CODE],
            C.PLACE_CODE: merged[f"{C.PLACE_CODE}_new"].fillna(merged[f"{C.PLACE_CODE}_old"]),
            "on_disk": merged[f"{C.NEIGHBOURHOOD}_old"],
            "now": merged[f"{C.NEIGHBOURHOOD}_new"],
        },
        columns=columns,
    )
    frame = frame.sort_values(C.LSOA_CODE, ignore_index=True).astype(object)
    return frame.where(frame.notna(), None)
