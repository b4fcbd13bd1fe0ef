"""The scenario file: schema, defaults, loading, ``extends:``, ``--set`` overrides and precise error messages.

A scenario is one YAML file validated into a :class:`Scenario` (pydantic models with ``extra="forbid"``), which
is the single source of truth for every setting and its default; ``configs/default.yaml`` documents the same
defaults and a test keeps the two equal. Loading:

1. read the YAML (syntax errors name the file, line and column);
2. follow ``extends: base.yaml`` (relative to the extending file), deep-merging mappings, recursively;
3. resolve every path relative to the folder of the file that wrote it;
4. apply ``--set key.path=value`` overrides (values parsed as YAML scalars or lists);
5. validate; each problem is reported as ``file: key.path: what was expected`` with a "did you mean" for
   unknown keys, all problems at once.
"""

from __future__ import annotations

import difflib
import json
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from footprint.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Columns = dict[str, str]


class TableInput(_Strict):
    """A tabular input file and the names of its columns where they differ from the aliases."""

    path: Path = Field(description="CSV, XLSX, GeoPackage, shapefile or GeoJSON file.")
    sheet: str | None = Field(None, description="Worksheet name for .xlsx files.")
    layer: str | None = Field(None, description="Layer name for multi-layer geospatial files.")
    crs: str | None = Field(
        None,
        description="CRS of a geospatial file's coordinates (e.g. EPSG:27700), replacing what the file says; "
        "for files with no or a wrong CRS.",
    )
    columns: Columns = Field(
        default_factory=dict, description="Canonical field -> source column name, overriding the aliases."
    )


class UnitsInput(TableInput):
    """LSOA boundaries: code, name, borough (LAD) and optionally a keep-together group and population."""


class PopulationInput(TableInput):
    """Residents per LSOA (ONS mid-year estimate layout)."""


class LsoaLookupInput(TableInput):
    """ONS "LSOA (2011) to LSOA (2021)" lookup: LSOA11CD, LSOA21CD, CHGIND (U/S/M/X), as ONS publishes it."""

    boundaries: TableInput | None = Field(
        None,
        description="LSOA boundaries of the other vintage (optional); when given, a split LSOA is shared in "
        "proportion to the area it shares with each part, instead of the parts' own area.",
    )


class PlacesInput(_Strict):
    """How boroughs (LADs) form places: an optional lookup CSV and/or inline merges."""

    lookup: Path | None = Field(None, description="CSV mapping LAD code -> place code (and name).")
    columns: Columns = Field(default_factory=dict, description="Column names of the lookup CSV.")
    merge: dict[str, str] = Field(
        default_factory=dict, description="LAD code -> LAD code of the place it is planned with."
    )
    names: dict[str, str] = Field(default_factory=dict, description="Place code -> place name.")
    boundaries: TableInput | None = Field(None, description="Borough polygons for maps (optional).")


class PracticesInput(_Strict):
    """GP practices: the NHS epraccur file, locations and list sizes."""

    epraccur: Path | None = Field(None, description="NHS ODS epraccur.csv (no header row).")
    locations: TableInput | None = Field(None, description="Practice code with lat/long or easting/northing.")
    list_sizes: TableInput | None = Field(
        None, description="NHS practice totals CSV (SEX=ALL, AGE=ALL rows)."
    )
    include_inactive: bool = Field(False, description="Keep practices whose epraccur status is not active.")


class Indicator(TableInput):
    """One demand indicator: a column of a CSV/XLSX per LSOA with a weight."""

    column: str = Field(description="Source column holding the indicator.")
    weight: float = Field(1.0, description="Weight in the combined demand score.")
    higher_is_more: bool = Field(
        True, description="True when a larger value means more need (false for IMD rank or decile)."
    )


class PracticeHubs(_Strict):
    """Candidate hubs at the GP practice sites of ``inputs.practices`` (one a site: practices sharing a location
    are one hub, named after the largest)."""

    source: Literal["practices"] = Field(
        alias="from",
        description="'practices': every active practice site with a location is a candidate hub.",
    )
    min_list_size: int = Field(
        0, ge=0, description="Only practices with at least this many registered patients (list size)."
    )


def _hubs_kind(value: Any) -> str:
    """Which form of ``inputs.hubs`` a value is: ``{from: practices}`` or a file."""
    if isinstance(value, PracticeHubs) or (isinstance(value, dict) and "from" in value):
        return "practices"
    return "file"


#: ``inputs.hubs``: a hubs file, or the practice sites (told apart by the ``from`` key, so errors name one form).
HubsInput = Annotated[
    Annotated[TableInput, Tag("file")] | Annotated[PracticeHubs, Tag("practices")],
    Discriminator(_hubs_kind),
]


class DemandInput(_Strict):
    """Demand indicators combined into one score per LSOA (each standardised to mean 1, then weighted)."""

    indicators: list[Indicator] = Field(default_factory=list)


class Inputs(_Strict):
    """Every input file. Only ``units`` is required."""

    units: UnitsInput
    population: PopulationInput | None = None
    places: PlacesInput = Field(default_factory=PlacesInput)
    practices: PracticesInput = Field(default_factory=PracticesInput)
    pcns: TableInput | None = Field(None, description="ePCN.xlsx or a practice,pcn CSV.")
    registrations: TableInput | None = Field(
        None, description="Patients registered at a GP practice by LSOA."
    )
    hubs: HubsInput | None = Field(
        None,
        description="Candidate or existing hub sites (CSV or GeoJSON), or {from: practices} for the practice sites.",
    )
    demand: DemandInput = Field(default_factory=DemandInput)
    imd: TableInput | None = Field(None, description="IMD file for deprivation deciles in reports.")
    baseline: TableInput | None = Field(None, description="Current map: LSOA -> neighbourhood CSV.")
    locks: TableInput | None = Field(None, description="LSOA -> hub locks CSV.")
    area_names: TableInput | None = Field(
        None,
        description="Recognisable area names by MSOA or LSOA code (e.g. the House of Commons Library MSOA names "
        "CSV) for neighbourhood names.",
    )
    lsoa_lookup: LsoaLookupInput | None = Field(
        None,
        description="ONS LSOA (2011) to LSOA (2021) lookup (LSOA11CD, LSOA21CD, CHGIND); every LSOA-keyed input of "
        "the other vintage is converted through it to the boundaries' vintage.",
    )


class Population(_Strict):
    """Neighbourhood size bounds."""

    min: int = Field(30_000, ge=0, description="Fewest people in a neighbourhood.")
    max: int = Field(50_000, gt=0, description="Most people in a neighbourhood.")
    measure: Literal["residents", "registered"] = Field(
        "residents", description="What the bounds count: ONS residents or registered patients."
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> Population:
        if self.min > self.max:
            raise ValueError(f"pop.min ({self.min:,}) is greater than pop.max ({self.max:,}); swap them")
        return self


class NeighbourhoodCount(_Strict):
    """Number of neighbourhoods per place; null = automatic from the bounds."""

    min: int | None = Field(None, ge=1)
    max: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _min_below_max(self) -> NeighbourhoodCount:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"k.min ({self.min}) is greater than k.max ({self.max}); swap them")
        return self


class Access(_Strict):
    """Access to the hub."""

    max_distance_km: float | None = Field(
        None, gt=0, description="No LSOA may be served by a centre farther than this (null = no limit)."
    )
    within_km: float = Field(
        1.5, gt=0, description="Reports show the share of residents within this distance."
    )


class Weights(_Strict):
    """Objective weights; each term is normalised so the weights are comparable."""

    access: float = Field(1.0, ge=0, description="Compactness / access: population x squared distance.")
    pcn: float = Field(1.0, ge=0, description="Registered patients living outside their PCN's home.")
    demand: float = Field(0.0, ge=0, description="Demand out of line with population share.")
    stability: float = Field(0.0, ge=0, description="Residents moved away from the baseline map.")
    community: float = Field(0.0, ge=0, description="Residents in keep-together groups that are split.")


class Alignment(_Strict):
    """How PCN alignment is judged: the reports' coterminous bar, and the home the PCN objective term counts."""

    coterminous_share: float = Field(
        0.6,
        gt=0,
        le=1,
        description="A PCN is coterminous when at least this share of its registered patients live in its home "
        "neighbourhoods (docs/metrics.md explains the default from the London data).",
    )
    homes: Literal["by_size", "one"] = Field(
        "one",
        description="The PCN objective term's home per PCN: one = the single neighbourhood holding most of its "
        "patients; by_size = the whole neighbourhoods its list size calls for, as the reports measure it (a "
        "better fit for large PCNs, but a much weaker proven bound: BENCHMARKS.md).",
    )
    best_effort: bool = Field(
        True,
        description="Also find, per place, the most PCN-aligned valid plan (the heuristic with weights pcn 1, "
        "access 0.01; one run) and report its coterminosity as 'at best' beside today's and the plan's.",
    )


class GraphSettings(_Strict):
    """How the LSOA contiguity graph is built."""

    contiguity: Literal["queen", "rook"] = Field("queen", description="queen: touching at a point counts.")
    tolerance_m: float = Field(
        2.0, ge=0, description="Gaps up to this wide count as touching (generalised boundaries)."
    )
    islands: Literal["bridge_nearest", "fail"] = Field(
        "bridge_nearest", description="Disconnected parts of a place: join to the nearest part, or stop."
    )
    barriers: list[TableInput] = Field(
        default_factory=list, description="Line layers (rivers, rail) whose crossings remove adjacency."
    )
    add_edges: list[tuple[str, str]] = Field(default_factory=list, description="LSOA pairs to make adjacent.")
    remove_edges: list[tuple[str, str]] = Field(
        default_factory=list, description="LSOA pairs to make non-adjacent."
    )


#: Why counted work and method exact do not go together, with the fix (the config's validator and
#: :class:`footprint.solve.SolveOptions` both refuse the pair with it).
COUNTED_EXACT_REFUSED = (
    "counted is true but method is exact, whose MIP stops by its clock; use method columns (or auto) with "
    "counted, or set counted: false"
)


class Solver(_Strict):
    """Solver settings (recorded in run.json)."""

    method: Literal["auto", "exact", "heuristic", "columns"] = Field(
        "auto",
        description="auto (heuristic, column generation, then the MIP with the time left), columns (heuristic, "
        "column generation and branch-and-price), exact (the MIP) or heuristic.",
    )
    name: Literal["auto", "highs", "cbc"] = "auto"
    time_limit: float = Field(120.0, gt=0, description="Seconds per place.")
    gap: float = Field(
        0.005,
        ge=0,
        lt=1,
        description="Relative optimality gap at which to stop, as a fraction (0.005 = 0.5%; below 1).",
    )
    threads: int = Field(1, ge=1, description="Solver threads per place (1 is deterministic).")
    seed: int = Field(0, ge=0)
    heuristic_runs: int = Field(
        8,
        ge=1,
        description="Most heuristic runs per place (each its own seeded starts at every k, their walks shared out "
        "across k), best plan kept; one run per 7.5 s of time_limit, at least one.",
    )
    contiguity: Literal["auto", "cuts", "flow"] = "auto"
    counted: bool = Field(
        False,
        description="Decide by counted work alone: no clock stops any stage, so the plan, bound and files are the "
        "same on any machine, however slow or busy (CI jobs that compare runs); time_limit then stops nothing and "
        "sizes some counts (heuristic runs, tree nodes), and a place takes as long as they need. Needs method "
        "auto, columns or heuristic (auto is then columns: the MIP after column generation stops by its clock).",
    )
    workers: int | None = Field(None, ge=1, description="Places solved in parallel (null = cores).")
    executor: Literal["local", "dask"] = Field(
        "local",
        description="Where places are solved: local (a process pool on this machine) or dask (a Dask cluster).",
    )
    scheduler: str | None = Field(
        None,
        description="Dask scheduler address (tcp://host:port) for executor dask; null = start a local Dask "
        "cluster of solver.workers processes.",
    )

    @model_validator(mode="after")
    def _counted_needs_counted_method(self) -> Solver:
        if self.counted and self.method == "exact":
            raise ValueError(COUNTED_EXACT_REFUSED)
        return self

    @model_validator(mode="after")
    def _scheduler_needs_dask(self) -> Solver:
        if self.scheduler is not None and self.executor != "dask":
            raise ValueError(
                f"scheduler is set ({self.scheduler}) but executor is {self.executor}; set solver.executor: dask "
                "(or use --scheduler on the command line, which sets both)"
            )
        return self


class Output(_Strict):
    """Where runs are written."""

    dir: Path = Field(Path("runs/latest"), description="Output folder (relative to the scenario file).")


class Scenario(_Strict):
    """A complete, validated scenario."""

    name: str = Field("scenario", description="Short name used in reports.")
    extends: Path | None = Field(None, description="Base scenario file this one overrides.")
    inputs: Inputs
    pop: Population = Field(default_factory=Population)
    k: NeighbourhoodCount = Field(default_factory=NeighbourhoodCount)
    access: Access = Field(default_factory=Access)
    weights: Weights = Field(default_factory=Weights)
    alignment: Alignment = Field(default_factory=Alignment)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    solver: Solver = Field(default_factory=Solver)
    output: Output = Field(default_factory=Output)
    source: Path | None = Field(None, description="Set by the loader: the scenario file read.", exclude=True)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain JSON-compatible data (paths as strings)."""
        return json.loads(self.model_dump_json(exclude={"source"}, by_alias=True))


# ---- loading --------------------------------------------------------------------------------------------------


def load_scenario(path: str | Path, *, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Load, merge, resolve and validate a scenario file.

    Parameters
    ----------
    path
        The YAML scenario file.
    overrides
        ``key.path=value`` strings applied after ``extends`` merging (``--set`` on the command line).

    Raises
    ------
    ConfigError
        With every problem found, each naming the file and key path.
    """
    path = Path(path)
    raw = _read_with_extends(path, seen=())
    return scenario_from_dict(raw, source=path, overridden=_apply_overrides(raw, overrides))


def with_overrides(scenario: Scenario, overrides: list[str] | tuple[str, ...]) -> Scenario:
    """A copy of a loaded scenario with ``key.path=value`` overrides applied, as ``--set`` applies them to a file
    (relative paths in them resolved against the working folder)."""
    if not overrides:
        return scenario
    raw = scenario.to_dict()
    return scenario_from_dict(raw, source=scenario.source, overridden=_apply_overrides(raw, overrides))


def scenario_from_dict(
    raw: dict[str, Any], *, source: Path | None = None, overridden: set[str] | frozenset[str] = frozenset()
) -> Scenario:
    """Validate a plain mapping (paths already absolute or relative to the working folder).

    ``overridden``: key paths set on the command line (``--set``, or a flag such as ``--gap``); a problem with
    one of them is reported against the command line, not the file.
    """
    label = str(source) if source else "<scenario>"
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, label, overridden)) from None
    return scenario.model_copy(update={"source": source.resolve() if source else None})


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(
            f"{path}: scenario file not found; check the path (footprint init DIR writes a starter)."
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the scenario file ({error}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or (str(error).splitlines() or ["unreadable YAML"])[0]
        context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and start is not None and (mark is None or start.line != mark.line):
            problem += f" ({context} that starts at line {start.line + 1}, column {start.column + 1})"
        raise ConfigError(
            f"{path}:{where}: YAML syntax error: {problem}; fix the indentation or quoting."
        ) from None
    if data is None:
        raise ConfigError(f"{path}: the scenario file is empty; it needs at least inputs.units.path.")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a scenario must be a YAML mapping (key: value), not {type(data).__name__}."
        )
    return data


def _read_with_extends(path: Path, *, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ConfigError(f"{path}: extends loops back on itself ({chain}); remove one of the extends keys.")
    data = _read_yaml(path)
    _resolve_paths(data, Scenario, path.parent)
    base_ref = data.pop("extends", None)
    if base_ref is None:
        return data
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise ConfigError(f"{path}: extends: expected the path of a scenario file (got {base_ref!r}).")
    base = _read_with_extends(Path(base_ref), seen=(*seen, resolved))
    return _deep_merge(base, data)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Union/Annotated."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            found.extend(_unwrap(arg))
        return found
    return [annotation]


def _resolve_paths(data: Any, model: type[BaseModel], base_dir: Path) -> None:
    """Make every Path-typed value in ``data`` absolute against ``base_dir`` (in place), guided by ``model``."""

    def resolve(value: str) -> str:
        candidate = Path(value).expanduser()
        return os.path.normpath(candidate if candidate.is_absolute() else (base_dir / candidate))

    _map_paths(data, model, resolve)


def paths_relative_to(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A copy of a scenario mapping (:meth:`Scenario.to_dict`) with every path written relative to ``folder``.

    A run's ``run.json`` stores its scenario this way, so the record is the same whichever folder
    ``footprint run`` was started from, and :func:`paths_resolved_from` finds the inputs again from anywhere.
    """
    copy = json.loads(json.dumps(raw))
    _map_paths(copy, Scenario, lambda value: path_relative_to(value, folder))
    return copy


def path_relative_to(path: str | Path, folder: str | Path) -> str:
    """``path`` (absolute, or relative to the working folder) written relative to ``folder``, with ``/``."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(folder))).as_posix()


def paths_resolved_from(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The inverse of :func:`paths_relative_to`: a copy with every relative path resolved against ``folder``."""
    copy = json.loads(json.dumps(raw))
    _resolve_paths(copy, Scenario, Path(folder))
    return copy


def _map_paths(data: Any, model: type[BaseModel], change: Callable[[str], str]) -> None:
    """Replace every Path-typed string value in ``data`` by ``change(value)`` (in place), guided by ``model``."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None or value is None:
            continue
        for kind in _unwrap(field.annotation):
            origin = typing.get_origin(kind)
            if kind is Path and isinstance(value, str):
                data[key] = change(value)
                break
            if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(value, dict):
                _map_paths(value, kind, change)
                break
            if origin is list and isinstance(value, list):
                (item_type,) = typing.get_args(kind) or (Any,)
                if isinstance(item_type, type) and issubclass(item_type, BaseModel):
                    for item in value:
                        _map_paths(item, item_type, change)
                break


def _apply_overrides(raw: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> set[str]:
    """Apply ``key.path=value`` overrides to ``raw`` in place; return the key paths they set."""
    for override in overrides:
        _apply_override(raw, override)
    return {override.partition("=")[0].strip() for override in overrides}


def _apply_override(raw: dict[str, Any], override: str) -> None:
    """Apply one ``a.b.c=value`` override in place."""
    key_path, sep, text = override.partition("=")
    if not sep or not key_path.strip():
        raise ConfigError(f"--set {override!r}: expected key.path=value, e.g. --set pop.max=45000")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text
    keys = [k.strip() for k in key_path.split(".")]
    target = raw
    for key in keys[:-1]:
        child = target.get(key)
        if child is None:
            child = target[key] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {override!r}: {key} is not a section, so {key_path} cannot be set.")
        target = child
    target[keys[-1]] = value


def _allowed_keys(location: tuple[Any, ...]) -> list[str]:
    """Field names allowed at a location of the schema (for "did you mean")."""
    model: Any = Scenario
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
        candidates = [k for k in _unwrap(annotation) if k is not type(None)]
        nxt = None
        for kind in candidates:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                nxt = kind
            elif typing.get_origin(kind) is list:
                (item,) = typing.get_args(kind) or (None,)
                if isinstance(item, type) and issubclass(item, BaseModel):
                    nxt = item
        if nxt is None:
            return []
        model = nxt
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [name for name in model.model_fields if name != "source"]
    return []


#: What to write instead, by pydantic error type (the message says what is wrong, this the fix).
_TYPE_FIXES = {
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "float_parsing": "write a number",
    "bool_parsing": "write true or false",
    "string_type": "write text (quote it)",
}


def _format_validation_error(
    error: ValidationError, label: str, overridden: set[str] | frozenset[str] = frozenset()
) -> str:
    lines = []
    for item in error.errors():
        location = tuple(item["loc"])
        key = ".".join(str(part) for part in location) or "(top level)"
        if any(key == given or key.startswith(f"{given}.") for given in overridden):
            label_here = "command line"
        else:
            label_here = label
        fix = _TYPE_FIXES.get(item["type"])
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(location)
            guess = difflib.get_close_matches(str(location[-1]), allowed, n=1, cutoff=0.6)
            hint = (
                f"; did you mean '{guess[0]}'?"
                if guess
                else (f"; allowed: {', '.join(allowed)}" if allowed else "")
            )
            lines.append(f"{label_here}: {key}: unknown key{hint}")
        elif item["type"] == "missing":
            lines.append(f"{label_here}: {key}: required key is missing")
        else:
            message = item["msg"].removeprefix("Value error, ")
            given = item.get("input")
            shown = "" if isinstance(given, dict | list) or given is None else f" (got {given!r})"
            lines.append(f"{label_here}: {key}: {message}{shown}{f'; {fix}' if fix else ''}")
    return "\n".join(lines)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors and validation in other tools."""
    schema = Scenario.model_json_schema()
    schema["properties"].pop("source", None)
    schema["title"] = "footprint scenario"
    return schema
