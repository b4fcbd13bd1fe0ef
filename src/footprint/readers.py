"""Readers: each real input layout in, one canonical table out (all file reading lives here).

Every reader takes the scenario's input settings, finds columns by the configured name or the aliases in
:mod:`footprint.columns`, renames them to the canonical names, coerces types, and returns the table plus the
:class:`~footprint.findings.Finding` list of what it dropped or could not parse. Readers never solve, never print
and never join tables to each other (that is :mod:`footprint.dataset`). Unreadable input raises
:class:`~footprint.errors.InputDataError` with the file, the problem and the fix.
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from footprint import columns as C
from footprint.config import Indicator, PlacesInput, TableInput
from footprint.errors import InputDataError
from footprint.findings import Finding, Severity, codes

logger = logging.getLogger(__name__)

GEO_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
ENCODINGS = ("utf-8-sig", "cp1252")


# ---- generic file access ----------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes (hex), read in 1 MiB blocks: how every input and map is fingerprinted."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: Path, what: str) -> None:
    if not path.exists():
        raise InputDataError(
            f"{path}: {what} file not found; check the path (relative paths in a scenario file are resolved "
            "against its folder, those given with --set against the current folder)."
        )
    if path.is_dir():
        raise InputDataError(f"{path}: {what} path is a folder, not a file; name the file itself.")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as error:
        raise InputDataError(
            f"{path}: cannot open the {what} file ({error.strerror or error}); check its permissions."
        ) from None
    if size == 0:
        raise InputDataError(f"{path}: {what} file is empty; re-export it from its source.")


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputDataError(
            f"{path}: cannot read the {what} file ({error.strerror or error}); check its permissions."
        ) from None


#: Leading bytes of file kinds people save under a wrong name, and what to do about each.
MAGIC = (
    (
        b"PK\x03\x04",
        "an Excel workbook or another zip archive",
        "give it the .xlsx extension, or export it as CSV",
    ),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook", "save it as .xlsx or CSV"),
    (b"SQLite format 3\x00", "a GeoPackage (SQLite) database", "give it the .gpkg extension"),
    (b"%PDF", "a PDF document", "export the table itself as CSV"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"\x00\x00\x27\x0a", "a shapefile (.shp)", "name the .shp file as a geospatial input"),
)


def describe_binary(head: bytes) -> str | None:
    """What a file's first bytes say it is, with the fix, for files that are not what their name says."""
    for magic, kind, fix in MAGIC:
        if head.startswith(magic):
            return f"{kind}; {fix}"
    return None


def has_shape(geometry: gpd.GeoSeries) -> np.ndarray:
    """True where a geometry is neither missing nor empty (without GeoSeries.isna's warning about empties)."""
    values = np.asarray(geometry.values, dtype=object)
    return ~shapely.is_missing(values) & ~shapely.is_empty(values)


def _sniff_delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    counts = {sep: first.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _text_encodings(raw: bytes) -> tuple[str, ...]:
    """Encodings to try: UTF-16 when the file starts with its byte-order mark, else UTF-8 (BOM or not), cp1252."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16",)
    return ENCODINGS


def read_text_table(path: Path, *, what: str, header: bool = True) -> pd.DataFrame:
    """Read a delimited text file as strings.

    UTF-8 (with or without BOM), Windows-1252 and UTF-16 (with BOM) are read; the delimiter (comma, tab,
    semicolon or pipe) is taken from the first line. Binary files, malformed CSV and a last row cut short (a
    truncated file) raise :class:`InputDataError` naming the file, the row and the fix.
    """
    _require_file(path, what)
    raw = _read_bytes(path, what)
    encodings = _text_encodings(raw)
    if encodings == ENCODINGS and b"\x00" in raw[:4096]:
        kind = describe_binary(raw[:16])
        detail = f"it looks like {kind}" if kind else "export it as CSV (UTF-8)"
        raise InputDataError(f"{path}: {what} file is binary, not CSV text; {detail}.")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        text = text.lstrip("\ufeff")
        delimiter = _sniff_delimiter(text[:65536])
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                header=0 if header else None,
                sep=delimiter,
                skipinitialspace=True,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
            detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InputDataError(
                f"{path}: {what} file is not a well-formed CSV ({detail}); check it is complete (not truncated) "
                "and comma-separated."
            ) from None
        if frame.empty and header:
            raise InputDataError(
                f"{path}: {what} file has a header but no rows; re-export it from its source."
            )
        _check_last_row(frame, text, delimiter, path=path, what=what)
        return frame
    raise InputDataError(
        f"{path}: {what} file is neither UTF-8 nor Windows-1252 text; re-save it as UTF-8 CSV."
    )


def _check_last_row(frame: pd.DataFrame, text: str, delimiter: str, *, path: Path, what: str) -> None:
    """A file that ends mid-row (no final line break) was cut short: its last row has fewer fields than the first
    line, or its last value is cut (shorter than every other value of a column of same-length codes, or the start
    of another value of its column)."""
    if text.endswith(("\n", "\r")) or frame.empty:
        return
    first = text.split("\n", 1)[0]
    last = text.rsplit("\n", 1)[-1]
    line = text.count("\n") + 1
    fields = last.count(delimiter) + 1
    if fields < first.count(delimiter) + 1:
        raise InputDataError(
            f"{path}: {what} file ends in the middle of line {line} ({last[:40]!r} has "
            f"{fields} of {frame.shape[1]} fields); the file looks truncated: copy or export it again."
        )
    if len(frame) < 3 or fields > frame.shape[1]:
        return
    column = frame.iloc[:, fields - 1].astype("string").str.strip()
    value, others = column.iloc[-1], column.iloc[:-1].dropna()
    if pd.isna(value) or others.empty:
        cut = pd.isna(value) and len(others) == len(column) - 1
    elif pd.notna(pd.to_numeric(pd.Series([value.replace(",", "")]), errors="coerce").iloc[0]):
        cut = False  # a number cut short is still a number: nothing tells
    else:
        lengths = others.str.len()
        # codes of one length (LSOA, borough, practice) and names of several words, cut mid-word where another
        # value of the column goes on ("City and Hack" of "City and Hackney"; "Old Quay" of "Old Quay North" is
        # a name of its own)
        code_cut = lengths.nunique() == 1 and int(lengths.iloc[0]) >= 5 and len(value) < int(lengths.iloc[0])
        goes_on = others.str.startswith(value) & (lengths > len(value))
        name_cut = " " in value and bool((goes_on & (others.str[len(value)] != " ")).any())
        cut = code_cut or name_cut
    if cut:
        raise InputDataError(
            f"{path}: {what} file ends in the middle of line {line} (its last value "
            f"{'(blank)' if pd.isna(value) else repr(str(value)[:40])} looks cut short against the other values of "
            "its column); the file looks truncated: copy or export it again."
        )


def read_excel_table(path: Path, *, what: str, sheet: str | None) -> pd.DataFrame:
    """Read one worksheet of an Excel workbook as strings."""
    _require_file(path, what)
    try:
        workbook = pd.ExcelFile(path, engine="openpyxl")
    except Exception as error:  # openpyxl raises many unrelated types for corrupt files
        raise InputDataError(
            f"{path}: {what} file is not a readable .xlsx workbook ({_detail(error)}); {_not_excel_fix(path)}"
        ) from None
    with workbook:
        names = workbook.sheet_names
        if not names:
            raise InputDataError(f"{path}: {what} workbook has no worksheets; re-save it in Excel.")
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            matches = [name for name in names if C.normalise(name) == C.normalise(sheet)]
            if not matches:
                raise InputDataError(
                    f"{path}: {what} workbook has no sheet {sheet!r}; sheets are {', '.join(map(repr, names))}: "
                    "name the right one with this input's sheet setting."
                )
            sheet = matches[0]
        try:
            frame = pd.read_excel(
                workbook, sheet_name=sheet, dtype=str, keep_default_na=False, na_values=[""]
            )
        except Exception as error:  # a damaged sheet inside a readable zip
            raise InputDataError(
                f"{path}: sheet {sheet!r} of the {what} workbook cannot be read ({_detail(error)}); open and "
                "re-save the workbook in Excel, or export the sheet as CSV."
            ) from None
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _detail(error: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _not_excel_fix(path: Path) -> str:
    head = b""
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        head = handle.read(16)
    kind = describe_binary(head)
    if kind is None and head and b"\x00" not in head:
        return "it looks like text: if it is a CSV, give it the .csv extension."
    if kind is not None and not head.startswith(b"PK"):
        return f"it looks like {kind}."
    return "the file may be truncated or damaged: download or export it again, or re-save it in Excel."


def read_geo_table(path: Path, *, what: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a geospatial file (GeoPackage, shapefile, GeoJSON...) with pyogrio."""
    _require_file(path, what)
    kwargs = {"layer": layer} if layer else {}
    if layer:
        _require_layer(path, what, layer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = gpd.read_file(path, engine="pyogrio", **kwargs)
    except Exception as error:  # pyogrio raises DataSourceError, DataLayerError, ...
        head = b""
        with contextlib.suppress(OSError), open(path, "rb") as handle:
            head = handle.read(16)
        kind = describe_binary(head)
        hint = (
            f"it looks like {kind}"
            if kind
            else "the file may be truncated or not in the format its name says: export it again"
        )
        raise InputDataError(
            f"{path}: cannot read {what} as a geospatial file ({_detail(error)}); {hint}."
        ) from None
    return frame


def _require_layer(path: Path, what: str, layer: str) -> None:
    """Refuse a ``layer`` setting the file does not have, naming the layers it has (files pyogrio cannot list
    are left to the reader's own error)."""
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except Exception:  # not a file pyogrio can open: read_geo_table says what it is
        return
    if layer not in names:
        shown = ", ".join(repr(name) for name in names[:10]) + (" ..." if len(names) > 10 else "")
        raise InputDataError(
            f"{path}: the {what} file has no layer {layer!r} (its layers: {shown}); set the input's layer to one "
            "of them, or remove the layer setting to read the first."
        )


def read_any_table(spec: TableInput, *, what: str) -> pd.DataFrame:
    """Read a table by its extension: CSV/TXT, XLSX, or a geospatial file (geometry kept)."""
    path = Path(spec.path)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_excel_table(path, what=what, sheet=spec.sheet)
    if suffix in GEO_SUFFIXES:
        return read_geo_table(path, what=what, layer=spec.layer)
    if suffix in TEXT_SUFFIXES or suffix == "":
        return read_text_table(path, what=what)
    raise InputDataError(
        f"{path}: {what} file has extension {suffix!r}, which footprint cannot read; use .csv, .xlsx, .gpkg, "
        ".shp or .geojson."
    )


def find_columns(
    frame: pd.DataFrame, table: str, overrides: dict[str, str], *, path: Path | str, config_key: str
) -> dict[str, str]:
    """Map canonical field -> source column for ``table``; raise naming the aliases tried when one is missing.

    A column named explicitly in ``overrides`` must exist. Otherwise the first source column (in file order) whose
    normalised header matches one of the field's patterns (in pattern order) is used.
    """
    fields = C.FIELDS[table]
    known = {field.name for field in fields}
    for key in overrides:
        if key not in known:
            guess = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise InputDataError(
                f"{path}: {config_key}.columns has unknown field {key!r}; {hint}fields are "
                f"{', '.join(sorted(known))}."
            )
    headers = [str(column) for column in frame.columns if str(column) != "geometry"]
    normalised = {header: C.normalise(header) for header in headers}
    found: dict[str, str] = {}
    used: set[str] = set()
    for field in fields:
        if field.name in overrides:
            wanted = overrides[field.name]
            exact = [h for h in headers if h == wanted] or [
                h for h in headers if normalised[h] == C.normalise(wanted)
            ]
            if not exact:
                raise InputDataError(
                    f"{path}: column {wanted!r} (set as {config_key}.columns.{field.name}) is not in the file; "
                    f"columns are: {_show_headers(headers)}."
                )
            found[field.name] = exact[0]
            used.add(exact[0])
            continue
        match = None
        for pattern in field.patterns:
            match = next((h for h in headers if h not in used and re.fullmatch(pattern, normalised[h])), None)
            if match:
                break
        if match:
            found[field.name] = match
            used.add(match)
        elif field.required:
            raise InputDataError(
                f"{path}: no column for {field.description or field.name} ({field.name}); tried aliases "
                f"{', '.join(field.patterns) or '(none)'} on columns {_show_headers(headers)}; "
                + (
                    f"the file has a single column: is it delimited by something other than a comma, tab, "
                    f"semicolon or pipe? Save it as comma-separated CSV, or name the column with "
                    f"{config_key}.columns.{field.name}."
                    if len(headers) == 1 and len(fields) > 1
                    else f"name it with {config_key}.columns.{field.name}."
                )
            )
    return found


def _show_headers(headers: Sequence[str]) -> str:
    shown = [repr(h) for h in headers[:15]]
    return ", ".join(shown) + (f" and {len(headers) - 15} more" if len(headers) > 15 else "")


def read_canonical(spec: TableInput, table: str, *, what: str, config_key: str) -> pd.DataFrame:
    """Read ``spec`` by its extension and rename its columns to ``table``'s canonical names."""
    return canonical(
        read_any_table(spec, what=what), table, spec.columns, path=Path(spec.path), config_key=config_key
    )


def canonical(
    frame: pd.DataFrame, table: str, overrides: dict[str, str], *, path: Path | str, config_key: str
) -> pd.DataFrame:
    """Select and rename the matched columns of ``frame`` (geometry kept if present); strip string values."""
    mapping = find_columns(frame, table, overrides, path=path, config_key=config_key)
    out = pd.DataFrame({name: frame[source] for name, source in mapping.items()}, index=frame.index)
    for name in out.columns:
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name]):
            out[name] = out[name].astype("string").str.strip()
    if isinstance(frame, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)
    return out


def to_number(
    series: pd.Series,
    *,
    path: Path | str,
    column: str,
    findings: list[Finding],
    code_series: pd.Series | None = None,
    severity: Severity = "warning",
    fix: str = "they are treated as missing",
) -> pd.Series:
    """Parse numbers (thousands separators allowed); unparseable or infinite values become NaN and are reported.

    The finding (code ``<column>.not_numeric``) quotes the first bad value and names the rows by ``code_series``.
    """
    text = series.astype("string").str.replace(",", "", regex=False).str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values))
    bad = values.isna() & text.notna() & (text != "")
    if bad.any():
        labels = code_series[bad] if code_series is not None else series[bad]
        example = str(series[bad].iloc[0])
        findings.append(
            Finding(
                severity,
                f"{C.normalise(column) or 'value'}.not_numeric",
                f"{int(bad.sum()):,} rows have a non-numeric {column} (e.g. {example[:30]!r}); {fix}",
                str(path),
                codes(labels.fillna("(blank)")),
            )
        )
    return values


# ---- one rule set for every reader: unique keys, counts, ranges -------------------------------------------------


def _show_value(value: object) -> str:
    """A value as a message quotes it: whole numbers with thousands separators, blanks as (blank)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "(blank)"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return f"{int(number):,}" if number.is_integer() else f"{number:,.6g}"
    return str(value)


def _key_labels(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Each row's key as one label: the code, or the codes joined by '/' for a compound key."""
    parts = [frame[key].astype("string").fillna("(blank)").to_numpy(dtype=object) for key in keys]
    label = parts[0]
    for part in parts[1:]:
        label = label + "/" + part
    return pd.Series(label, index=frame.index, dtype=object)


def check_unique_keys(
    frame: pd.DataFrame,
    keys: Sequence[str],
    *,
    what: str,
    path: Path | str,
    code: str,
    fix: str,
    keep: Literal["first", "last"] = "first",
) -> tuple[pd.DataFrame, list[Finding]]:
    """The rule for repeated keys, the same in every reader.

    Rows repeating an earlier row exactly (same key, same values in every column of ``frame``) are a warning and
    counted once; rows sharing a key but disagreeing in any value are an error naming the key, the values that
    differ and ``fix``. Returns ``frame`` with one row per key (``keep``: which of disagreeing rows stays, so
    later stages see unique keys even when an error will stop the run) and the findings.

    Parameters
    ----------
    keys
        The columns that must identify a row, e.g. ``[practice_code, lsoa_code]``.
    what
        The key in the plural, for messages: ``"LSOA codes"``, ``"practice-LSOA pairs"``.
    code
        Finding code prefix (the table's name); findings are ``<code>.repeated_rows`` and ``<code>.duplicate_key``.
    """
    keys = list(keys)
    if not frame.duplicated(keys).any():
        return frame, []
    compared = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column in frame.columns:
        values = frame[column]
        if str(values.dtype) == "geometry":
            compared[column] = shapely.to_wkb(np.asarray(values.values, dtype=object))
        else:
            compared[column] = values.astype("object").where(values.notna(), None).to_numpy()
    exact_repeat = compared.duplicated(keep="first").to_numpy()
    labels = _key_labels(frame, keys).to_numpy()
    disagreeing = np.zeros(len(frame), dtype=bool)
    disagreeing[~exact_repeat] = frame[~exact_repeat].duplicated(keys, keep=False).to_numpy()
    conflict_labels = sorted(set(labels[disagreeing]))
    findings: list[Finding] = []
    repeats = exact_repeat & ~np.isin(labels, conflict_labels)
    if repeats.any():
        findings.append(
            Finding(
                "warning",
                f"{code}.repeated_rows",
                f"{int(repeats.sum()):,} rows repeat an earlier row exactly; each is counted once: delete the "
                "repeated rows",
                str(path),
                codes(labels[repeats]),
            )
        )
    if conflict_labels:
        first = conflict_labels[0]
        rows = np.flatnonzero(disagreeing & (labels == first))
        example = frame.iloc[rows]
        differing = [
            column
            for column in frame.columns
            if column not in keys and compared[column].iloc[rows].nunique(dropna=False) > 1
        ]
        shown = "; ".join(
            f"{column} differs"
            if str(frame[column].dtype) == "geometry"
            else f"{column} " + " vs ".join(_show_value(value) for value in example[column])
            for column in differing[:3]
        )
        findings.append(
            Finding(
                "error",
                f"{code}.duplicate_key",
                f"{len(conflict_labels):,} {what} appear on more than one row with different values "
                f"({first}: {shown}); {fix}",
                str(path),
                codes(conflict_labels),
            )
        )
    return frame[~exact_repeat].drop_duplicates(keys, keep=keep), findings


def check_range(
    values: pd.Series,
    *,
    labels: pd.Series,
    path: Path | str,
    column: str,
    code: str,
    noun: str = "rows",
    low: float | None = None,
    high: float | None = None,
    whole: bool = False,
    fix: str,
) -> list[Finding]:
    """Errors for parsed numbers outside [``low``, ``high``] and, with ``whole``, for fractions.

    Missing values (blank or already reported as not numeric) are left to the caller. Each finding quotes the
    first offending value, names the rows by ``labels`` and ends with ``fix``; its code is ``<code>.negative``
    (a count below zero), ``<code>.out_of_range`` or ``<code>.not_whole``.
    """
    findings: list[Finding] = []
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    names = labels.astype("object").where(labels.notna(), "(blank)").to_numpy()
    given = ~np.isnan(numbers)
    outside = given.copy()
    outside[given] = (numbers[given] < (low if low is not None else -np.inf)) | (
        numbers[given] > (high if high is not None else np.inf)
    )
    if outside.any():
        example = _show_value(numbers[outside][0])
        if low == 0 and high is None:
            problem, suffix = f"a negative {column}", "negative"
        elif high is None:
            problem, suffix = f"{_a(column)} below {_show_value(low)}", "out_of_range"
        else:
            problem, suffix = f"{_a(column)} outside {_show_value(low)}-{_show_value(high)}", "out_of_range"
        findings.append(
            Finding(
                "error",
                f"{code}.{suffix}",
                f"{int(outside.sum()):,} {noun} have {problem} (e.g. {example}); {fix}",
                str(path),
                codes(names[outside]),
            )
        )
    if whole:
        fraction = given & ~outside & (numbers != np.round(numbers))
        if fraction.any():
            example = _show_value(numbers[fraction][0])
            findings.append(
                Finding(
                    "error",
                    f"{code}.not_whole",
                    f"{int(fraction.sum()):,} {noun} have {_a(column)} that is not a whole number (e.g. {example}); "
                    f"{fix}",
                    str(path),
                    codes(names[fraction]),
                )
            )
    return findings


def _a(noun: str) -> str:
    """``noun`` with its indefinite article ("an IMD decile", "a population")."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def check_counts(
    values: pd.Series,
    *,
    labels: pd.Series,
    path: Path | str,
    column: str,
    code: str,
    noun: str = "rows",
    fix: str,
) -> list[Finding]:
    """Errors for counts (people, patients) that are negative or not whole: :func:`check_range` from 0, whole."""
    return check_range(
        values, labels=labels, path=path, column=column, code=code, noun=noun, low=0, whole=True, fix=fix
    )


def detect_vintage(code_column: str, lsoa_codes: pd.Series, *, default: str | None = "2011") -> str | None:
    """LSOA vintage from the column name (LSOA11CD / LSOA21CD) or, failing that, from the codes.

    Codes prove 2021 only when some are above the last 2011 code; otherwise ``default`` is returned.
    """
    match = re.search(r"(2011|2021|11|21)", code_column)
    if match:
        return "2011" if match.group(1) in {"11", "2011"} else "2021"
    numbers = pd.to_numeric(lsoa_codes.astype("string").str[3:], errors="coerce")
    english = lsoa_codes.astype("string").str.startswith("E01")
    if bool((english & (numbers > C.LSOA11_LAST_ENGLAND)).any()):
        return "2021"
    return default


# ---- units, population, places --------------------------------------------------------------------------------


def read_units(spec: TableInput) -> tuple[gpd.GeoDataFrame, list[Finding]]:
    """LSOA boundaries -> GeoDataFrame(lsoa_code, lsoa_name, lad_code, lad_name[, group_code, population]).

    Reprojected to EPSG:27700. A missing CRS, or one the coordinates contradict, is an error whose fix names the
    CRS the coordinates look like (``inputs.units.crs`` sets it without editing the file).
    """
    path = Path(spec.path)
    findings: list[Finding] = []
    frame = read_any_table(spec, what="LSOA boundaries")
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        raise InputDataError(
            f"{path}: LSOA boundaries have no geometry; give a GeoPackage, shapefile or GeoJSON of polygons."
        )
    if frame.empty:
        raise InputDataError(f"{path}: LSOA boundaries file has no features.")
    mapping = find_columns(frame, "units", spec.columns, path=path, config_key="inputs.units")
    units = canonical(frame, "units", spec.columns, path=path, config_key="inputs.units")
    vintage = detect_vintage(mapping[C.LSOA_CODE], units[C.LSOA_CODE])
    units.attrs["vintage"] = vintage
    findings.append(
        Finding("info", "units.vintage", f"LSOA {vintage} boundaries ({mapping[C.LSOA_CODE]})", str(path))
    )
    units = _set_crs(units, path, findings, crs=spec.crs, config_key="inputs.units")
    if C.POPULATION in units:
        units[C.POPULATION] = to_number(
            units[C.POPULATION],
            path=path,
            column="population",
            findings=findings,
            code_series=units[C.LSOA_CODE],
        )
        findings += check_counts(
            units[C.POPULATION],
            labels=units[C.LSOA_CODE],
            path=path,
            column="population",
            code="population",
            noun="LSOAs",
            fix="correct the file",
        )
    missing_code = units[C.LSOA_CODE].isna() | (units[C.LSOA_CODE] == "")
    if missing_code.any():
        features = [str(i + 1) for i in np.flatnonzero(missing_code.to_numpy())]
        findings.append(
            Finding(
                "error",
                "units.missing_code",
                f"{int(missing_code.sum()):,} features have no LSOA code (feature "
                f"{', '.join(features[:8])}{' ...' if len(features) > 8 else ''} in file order); fill the "
                f"{mapping[C.LSOA_CODE]} column",
                str(path),
            )
        )
        units = units[~missing_code]
    units, found = check_unique_keys(
        units,
        [C.LSOA_CODE],
        what="LSOA codes",
        path=path,
        code="units",
        fix="dissolve or remove the duplicates",
    )
    findings += found
    units = units.sort_values(C.LSOA_CODE, kind="stable").reset_index(drop=True)
    return units, findings


def _set_crs(
    frame: gpd.GeoDataFrame, path: Path, findings: list[Finding], *, crs: str | None = None, config_key: str
) -> gpd.GeoDataFrame:
    """Check the file's CRS against its coordinates and reproject to EPSG:27700.

    ``crs`` (the input's ``crs`` setting) replaces whatever the file says. A missing CRS, or one its coordinates
    contradict (longitude/latitude numbers in a British National Grid file, metres in a longitude/latitude file),
    is an error whose fix names the CRS the coordinates look like.
    """
    file_crs = frame.crs
    if crs is not None:
        try:
            frame = frame.set_crs(crs, allow_override=True)
        except Exception as error:  # pyproj.exceptions.CRSError and friends
            raise InputDataError(
                f"{path}: {config_key}.crs {crs!r} is not a coordinate reference system pyproj knows "
                f"({_detail(error)}); use e.g. EPSG:27700 or EPSG:4326."
            ) from None
    geometry = frame.geometry
    present = pd.Series(has_shape(geometry), index=geometry.index)
    bounds = geometry[present].total_bounds if present.any() else np.array([np.nan] * 4)
    finite = bool(np.all(np.isfinite(bounds)))
    looks_bng = finite and bounds[0] >= -1e5 and bounds[1] >= -1e5 and bounds[2] <= 8e5 and bounds[3] <= 1.4e6
    looks_degrees = finite and bounds[0] >= -180 and bounds[1] >= -90 and bounds[2] <= 180 and bounds[3] <= 90
    extent = f"x {bounds[0]:.6g}..{bounds[2]:.6g}, y {bounds[1]:.6g}..{bounds[3]:.6g}"
    if frame.crs is None:
        if looks_degrees:
            guess = "they look like longitude/latitude, so set {key}.crs: EPSG:4326"
        elif looks_bng:
            guess = "they look like British National Grid metres, so set {key}.crs: EPSG:27700"
        else:
            guess = "set {key}.crs to the CRS they are in"
        raise InputDataError(
            f"{path}: the file has no coordinate reference system (CRS; a shapefile needs its .prj file) and "
            f"its coordinates ({extent}) cannot be placed: {guess.format(key=config_key)}, or re-export the "
            "file with its CRS."
        )
    # the setting, when given, named the CRS, so the fix is the setting; else the file or a setting
    said = f"{config_key}.crs says" if crs is not None else "the file says"

    def fix(target: str) -> str:
        if crs is None:
            return f"set {config_key}.crs: {target} or fix the file's CRS (.prj)"
        if file_crs is not None:
            return f"remove {config_key}.crs (the file says {file_crs.to_string()}) or set it to {target}"
        return f"set {config_key}.crs to {target}"

    if frame.crs.is_projected and looks_degrees and bounds[2] - bounds[0] < 5 and bounds[3] - bounds[1] < 5:
        raise InputDataError(
            f"{path}: {said} {frame.crs.to_string()} but its coordinates look like longitude/latitude "
            f"({extent}); {fix('EPSG:4326')}."
        )
    if frame.crs.is_geographic and finite and not looks_degrees:
        geojson = (
            " (A GeoJSON file without a crs member is longitude/latitude by definition.)"
            if crs is None and path.suffix.lower() in (".geojson", ".json")
            else ""
        )
        raise InputDataError(
            f"{path}: {said} {frame.crs.to_string()} (longitude/latitude) but its coordinates are not degrees "
            f"({extent}); {fix('EPSG:27700' if looks_bng else 'the CRS they are in')}.{geojson}"
        )
    if frame.crs.to_epsg() != 27700:
        try:
            frame = frame.to_crs(C.CRS_WORKING)
        except Exception as error:  # pyproj cannot transform from this CRS
            raise InputDataError(
                f"{path}: cannot convert the coordinates from {frame.crs.to_string()} to EPSG:27700 "
                f"({_detail(error)}); re-export the file in EPSG:27700."
            ) from None
    return frame


def read_population(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """ONS mid-year estimates -> DataFrame(lsoa_code, population[, pop_0_15, pop_65_plus])."""
    path = Path(spec.path)
    findings: list[Finding] = []
    raw = read_any_table(spec, what="population")
    mapping = find_columns(raw, "population", spec.columns, path=path, config_key="inputs.population")
    frame = canonical(raw, "population", spec.columns, path=path, config_key="inputs.population")
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    for name in (C.POPULATION, C.POP_0_15, C.POP_65_PLUS):
        if name in frame:
            required = name == C.POPULATION
            frame[name] = to_number(
                frame[name],
                path=path,
                column=name,
                findings=findings,
                code_series=frame[C.LSOA_CODE],
                severity="error" if required else "warning",
                fix="write each as a whole number of residents"
                if required
                else "they are treated as missing",
            )
    frame = frame.dropna(subset=[C.LSOA_CODE])
    for name in (C.POPULATION, C.POP_0_15, C.POP_65_PLUS):
        if name in frame:
            findings += check_counts(
                frame[name],
                labels=frame[C.LSOA_CODE],
                path=path,
                column=name,
                code="population",
                noun="LSOAs",
                fix="correct the file",
            )
    frame, found = check_unique_keys(
        frame,
        [C.LSOA_CODE],
        what="LSOA codes",
        path=path,
        code="population",
        fix="keep one row each",
    )
    findings += found
    frame.attrs["vintage"] = detect_vintage(mapping[C.LSOA_CODE], frame[C.LSOA_CODE], default=None)
    frame.attrs["code_column"] = mapping[C.LSOA_CODE]
    return frame.reset_index(drop=True), findings


def read_place_lookup(spec: PlacesInput) -> tuple[pd.DataFrame | None, list[Finding]]:
    """LAD -> place lookup CSV -> DataFrame(lad_code, place_code[, place_name]), or None when not given."""
    if spec.lookup is None:
        return None, []
    path = Path(spec.lookup)
    frame = canonical(
        read_text_table(path, what="place lookup"),
        "places",
        spec.columns,
        path=path,
        config_key="inputs.places",
    )
    frame = frame.dropna(subset=[C.LAD_CODE, C.PLACE_CODE])
    frame, findings = check_unique_keys(
        frame,
        [C.LAD_CODE],
        what="borough codes",
        path=path,
        code="places",
        fix="keep one row per borough",
    )
    return frame.reset_index(drop=True), findings


def read_boundaries(spec: TableInput) -> gpd.GeoDataFrame:
    """Optional place/borough polygons for maps, in EPSG:27700."""
    path = Path(spec.path)
    frame = read_any_table(spec, what="borough boundaries")
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputDataError(f"{path}: borough boundaries have no geometry.")
    findings: list[Finding] = []
    return _set_crs(frame, path, findings, crs=spec.crs, config_key="inputs.places.boundaries")


# ---- practices, PCNs, list sizes, registrations ---------------------------------------------------------------


def read_epraccur(path: Path, *, include_inactive: bool = False) -> tuple[pd.DataFrame, list[Finding]]:
    """NHS ODS ``epraccur.csv`` (no header; columns by position) -> practices.

    Keeps GP practices (prescribing setting 4 / RO76) that are active (status A / ACTIVE) unless
    ``include_inactive``. Returns DataFrame(practice_code, practice_name, postcode, status, setting).
    """
    path = Path(path)
    findings: list[Finding] = []
    frame = read_text_table(path, what="epraccur", header=False)
    width = max(C.EPRACCUR_POSITIONS.values()) + 1
    if frame.shape[1] < width:
        raise InputDataError(
            f"{path}: epraccur has {frame.shape[1]} columns, expected the NHS ODS layout's 27 (code in column 1, "
            "status in 13, setting in 26); is this the right file?"
        )
    first = str(frame.iat[0, 0]) if len(frame) else ""
    if C.normalise(first) in {"organisationcode", "code", "practicecode"}:
        frame = frame.iloc[1:]
    practices = pd.DataFrame({name: frame[pos] for name, pos in C.EPRACCUR_POSITIONS.items()})
    for name in practices:
        practices[name] = practices[name].astype("string").str.strip()
    practices[C.STATUS] = practices[C.STATUS].str.upper()
    practices[C.SETTING] = practices[C.SETTING].str.upper()
    gp = practices[C.SETTING].isin(C.EPRACCUR_GP_SETTINGS)
    active = practices[C.STATUS].isin(C.EPRACCUR_ACTIVE)
    keep = gp & (active | include_inactive)
    findings.append(
        Finding(
            "info",
            "epraccur.filtered",
            f"kept {int(keep.sum()):,} GP practices of {len(practices):,} rows "
            f"({int((~gp).sum()):,} other settings, {int((gp & ~active).sum()):,} inactive GP practices dropped"
            f"{' but kept' if include_inactive else ''})",
            str(path),
        )
    )
    practices, found = check_unique_keys(
        practices[keep],
        [C.PRACTICE_CODE],
        what="practice codes",
        path=path,
        code="epraccur",
        fix="keep one row per practice (download the file again from NHS ODS)",
    )
    return practices.reset_index(drop=True), findings + found


def read_practice_locations(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """Practice sites -> DataFrame(practice_code, practice_name, postcode, x, y) in EPSG:27700 metres."""
    path = Path(spec.path)
    findings: list[Finding] = []
    raw = read_any_table(spec, what="practice locations")
    frame = canonical(
        raw, "practice_locations", spec.columns, path=path, config_key="inputs.practices.locations"
    )
    frame = _points_to_xy(
        frame,
        path=path,
        findings=findings,
        what="practice",
        id_column=C.PRACTICE_CODE,
        config_key="inputs.practices.locations",
        crs=spec.crs,
    )
    frame = frame.dropna(subset=[C.PRACTICE_CODE])
    frame, found = check_unique_keys(
        frame,
        [C.PRACTICE_CODE],
        what="practice codes",
        path=path,
        code="practices",
        fix="keep one row per practice, at its main site",
    )
    return frame.reset_index(drop=True), findings + found


def _points_to_xy(
    frame: pd.DataFrame,
    *,
    path: Path,
    findings: list[Finding],
    what: str,
    id_column: str,
    config_key: str,
    crs: str | None = None,
) -> pd.DataFrame:
    """Give ``frame`` numeric x, y in EPSG:27700 from easting/northing, lat/long or a point geometry.

    Coordinates in the wrong columns (degrees under easting/northing, metres under latitude/longitude, latitude
    and longitude swapped) are errors naming the columns to use.
    """
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).copy()
    if isinstance(frame, gpd.GeoDataFrame) and has_shape(frame.geometry).any():
        located = _set_crs(gpd.GeoDataFrame(frame), path, findings, crs=crs, config_key=config_key)
        centres = located.geometry.representative_point()
        out[C.X] = centres.x.to_numpy()
        out[C.Y] = centres.y.to_numpy()
    elif C.X in out and C.Y in out:
        x = to_number(out[C.X], path=path, column="easting", findings=findings, code_series=out[id_column])
        y = to_number(out[C.Y], path=path, column="northing", findings=findings, code_series=out[id_column])
        valid = x.notna() & y.notna()
        if valid.any() and bool((x[valid].abs() <= 180).all() and (y[valid].abs() <= 90).all()):
            raise InputDataError(
                f"{path}: the {what} easting/northing columns hold degrees, not metres (x "
                f"{x[valid].min():.6g}..{x[valid].max():.6g}, y {y[valid].min():.6g}..{y[valid].max():.6g}); "
                f"name them as longitude and latitude with {config_key}.columns.longitude / .latitude."
            )
        out[C.X], out[C.Y] = x, y
    elif C.LATITUDE in out and C.LONGITUDE in out:
        lat = to_number(
            out[C.LATITUDE], path=path, column="latitude", findings=findings, code_series=out[id_column]
        )
        lon = to_number(
            out[C.LONGITUDE], path=path, column="longitude", findings=findings, code_series=out[id_column]
        )
        given = lat.notna() & lon.notna()
        bad = given & ((lat.abs() > 90) | (lon.abs() > 180))
        if given.any() and bool(bad[given].all()):
            raise InputDataError(
                f"{path}: the {what} latitude/longitude columns hold numbers that are not degrees (latitude "
                f"{lat[given].min():.6g}..{lat[given].max():.6g}); if they are easting/northing metres, name "
                f"them with {config_key}.columns.x / .y."
            )
        swapped = given & lat.between(-9, 2.5) & lon.between(49, 61)
        if given.any() and bool(swapped[given].all()):
            raise InputDataError(
                f"{path}: the {what} latitude and longitude look swapped (latitude "
                f"{lat[given].min():.6g}..{lat[given].max():.6g}, longitude {lon[given].min():.6g}.."
                f"{lon[given].max():.6g}); swap the column names, or name them with {config_key}.columns."
            )
        if bad.any():
            findings.append(
                Finding(
                    "warning",
                    f"{what}.bad_latlong",
                    f"{int(bad.sum()):,} {what} locations have latitude/longitude out of range; they are ignored",
                    str(path),
                    codes(out.loc[bad, id_column]),
                )
            )
            lat, lon = lat.mask(bad), lon.mask(bad)
        points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=C.CRS_GEOJSON).to_crs(C.CRS_WORKING)
        valid = lat.notna() & lon.notna()
        out[C.X] = np.where(valid, points.x, np.nan)
        out[C.Y] = np.where(valid, points.y, np.nan)
    else:
        raise InputDataError(
            f"{path}: {what} locations need easting/northing or latitude/longitude columns (or point geometry); "
            f"columns are {_show_headers([str(c) for c in frame.columns if str(c) != 'geometry'])}: name them "
            f"with {config_key}.columns.x / .y or .latitude / .longitude."
        )
    for name in (C.LATITUDE, C.LONGITUDE):
        if name in out:
            out = out.drop(columns=name)
    return out


def read_list_sizes(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """NHS practice totals -> DataFrame(practice_code, list_size); keeps SEX=ALL / AGE=ALL rows when present."""
    path = Path(spec.path)
    findings: list[Finding] = []
    frame = read_canonical(spec, "list_sizes", what="list sizes", config_key="inputs.practices.list_sizes")
    if C.SEX in frame:
        frame = frame[frame[C.SEX].str.upper().isin(["ALL", "PERSONS"])]
    if C.AGE in frame:
        frame = frame[frame[C.AGE].str.upper().isin(["ALL", "ALL AGES", "ALLAGES"])]
    sizes = to_number(
        frame[C.PATIENTS],
        path=path,
        column="list size",
        findings=findings,
        code_series=frame[C.PRACTICE_CODE],
        severity="error",
        fix="write each as a whole number of patients",
    )
    findings += check_counts(
        sizes,
        labels=frame[C.PRACTICE_CODE],
        path=path,
        column="list size",
        code="list_sizes",
        noun="practices",
        fix="correct the file",
    )
    out = pd.DataFrame({C.PRACTICE_CODE: frame[C.PRACTICE_CODE], C.LIST_SIZE: sizes}).dropna()
    out, found = check_unique_keys(
        out,
        [C.PRACTICE_CODE],
        what="practice codes",
        path=path,
        code="list_sizes",
        fix="keep one all-ages, all-sexes row per practice",
    )
    out = out.sort_values(C.PRACTICE_CODE).reset_index(drop=True)
    return out, findings + found


def read_pcn_membership(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """ePCN.xlsx ("PCN Core Partner Details", active rows only) or a practice,pcn CSV -> (practice_code, pcn_code, pcn_name).

    Rows with a relationship end date are history and are dropped; a practice left with two active rows is a
    warning when they agree (counted once) and an error when they name different PCNs.
    """
    path = Path(spec.path)
    findings: list[Finding] = []
    sheet = spec.sheet
    if path.suffix.lower() in EXCEL_SUFFIXES and sheet is None:
        sheet = "PCN Core Partner Details"
    frame = read_any_table(spec.model_copy(update={"sheet": sheet}), what="PCN membership")
    frame = canonical(frame, "pcns", spec.columns, path=path, config_key="inputs.pcns")
    frame = frame.dropna(subset=[C.PRACTICE_CODE, C.PCN_CODE])
    if C.END_DATE in frame:
        ended = frame[C.END_DATE].notna() & (frame[C.END_DATE].str.strip() != "")
        if ended.any():
            findings.append(
                Finding(
                    "info",
                    "pcns.ended_rows",
                    f"dropped {int(ended.sum()):,} practice-to-PCN rows with an end date (past memberships)",
                    str(path),
                )
            )
        frame = frame[~ended]
    keep = [C.PRACTICE_CODE, C.PCN_CODE] + ([C.PCN_NAME] if C.PCN_NAME in frame else [])
    out, found = check_unique_keys(
        pd.DataFrame(frame[keep]),
        [C.PRACTICE_CODE],
        what="practices",
        path=path,
        code="pcns",
        fix="a practice belongs to one PCN: give the old membership its end date, or delete the wrong row",
        keep="last",
    )
    findings += found
    out = out.sort_values(C.PRACTICE_CODE).reset_index(drop=True)
    if C.PCN_NAME not in out:
        out[C.PCN_NAME] = out[C.PCN_CODE]
    return out, findings


def read_registrations(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """Patients registered at a GP practice by LSOA -> DataFrame(practice_code, lsoa_code, patients).

    Keeps SEX=ALL rows when the file has a SEX column (when it has none, the male and female rows are summed);
    drops pseudo-LSOAs (``CLOSED``, ``NO2011``...) and zero or blank counts, reporting both. Counts must be whole
    and non-negative; a practice-LSOA pair (per sex, when rows are per sex) repeated with the same count is
    counted once (a warning), with different counts it is an error.
    """
    path = Path(spec.path)
    findings: list[Finding] = []
    frame = read_canonical(spec, "registrations", what="registrations", config_key="inputs.registrations")
    keys = [C.PRACTICE_CODE, C.LSOA_CODE]
    if C.SEX in frame:
        sexes = frame[C.SEX].str.upper()
        if sexes.isin(["ALL", "PERSONS"]).any():
            frame = frame[sexes.isin(["ALL", "PERSONS"])]
        else:
            keys.append(C.SEX)
    counts = to_number(
        frame[C.PATIENTS],
        path=path,
        column="patient count",
        findings=findings,
        code_series=_key_labels(frame, [C.PRACTICE_CODE, C.LSOA_CODE]),
        severity="error",
        fix="write each as a whole number of patients",
    )
    out = pd.DataFrame(
        {
            C.PRACTICE_CODE: frame[C.PRACTICE_CODE],
            C.LSOA_CODE: frame[C.LSOA_CODE].fillna(""),
            C.PATIENTS: counts,
        }
    )
    if C.SEX in keys:
        out[C.SEX] = frame[C.SEX]
    pseudo = out[C.LSOA_CODE].str.upper().str.fullmatch(C.PSEUDO_LSOA_PATTERN).fillna(True).astype(bool)
    if pseudo.any():
        findings.append(
            Finding(
                "info",
                "registrations.pseudo_lsoa",
                f"dropped {int(pseudo.sum()):,} rows ({int(out.loc[pseudo, C.PATIENTS].sum()):,} patients) for "
                "pseudo-LSOAs with no usable residence",
                str(path),
                codes(out.loc[pseudo, C.LSOA_CODE].replace("", "(blank)")),
            )
        )
    out = out[~pseudo]
    labels = _key_labels(out, [C.PRACTICE_CODE, C.LSOA_CODE])
    findings += check_counts(
        out[C.PATIENTS],
        labels=labels,
        path=path,
        column="patient count",
        code="registrations",
        fix="correct the file (a count is a whole number of patients, 0 or more)",
    )
    out, found = check_unique_keys(
        out,
        keys,
        what="practice-LSOA pairs" if len(keys) == 2 else "practice-LSOA-sex rows",
        path=path,
        code="registrations",
        fix="keep one row per practice and LSOA (SEX=ALL), or correct the count",
    )
    findings += found
    empty = out[C.PATIENTS].isna() | (out[C.PATIENTS] == 0)
    if empty.any():
        findings.append(
            Finding(
                "info",
                "registrations.empty_rows",
                f"dropped {int(empty.sum()):,} rows with zero or missing patient counts",
                str(path),
            )
        )
    out = out[out[C.PATIENTS] > 0]
    out = out.groupby([C.PRACTICE_CODE, C.LSOA_CODE], as_index=False, sort=True)[C.PATIENTS].sum()
    return out, findings


# ---- hubs, demand, baseline, locks, distances ------------------------------------------------------------------


def _parse_bool(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.lower().fillna("")
    return text.isin(["true", "t", "yes", "y", "1", "required", "existing"])


def read_hubs(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """Hub sites -> DataFrame(hub_id, hub_name, x, y, capacity, required)."""
    path = Path(spec.path)
    findings: list[Finding] = []
    frame = read_canonical(spec, "hubs", what="hubs", config_key="inputs.hubs")
    frame = _points_to_xy(
        frame,
        path=path,
        findings=findings,
        what="hub",
        id_column=C.HUB_ID,
        config_key="inputs.hubs",
        crs=spec.crs,
    )
    if C.HUB_NAME not in frame:
        frame[C.HUB_NAME] = frame[C.HUB_ID]
    frame[C.CAPACITY] = (
        to_number(
            frame[C.CAPACITY],
            path=path,
            column="capacity",
            findings=findings,
            code_series=frame[C.HUB_ID],
            severity="error",
            fix="write a number (demand the hub can serve) or leave it blank for no limit",
        )
        if C.CAPACITY in frame
        else np.nan
    )
    findings += check_range(
        frame[C.CAPACITY],
        labels=frame[C.HUB_ID],
        path=path,
        column="capacity",
        code="hubs",
        noun="hubs",
        low=0,
        fix="write a number (demand the hub can serve) or leave it blank for no limit",
    )
    frame[C.REQUIRED] = _parse_bool(frame[C.REQUIRED]) if C.REQUIRED in frame else False
    missing = frame[C.X].isna() | frame[C.Y].isna()
    if missing.any():
        findings.append(
            Finding(
                "error",
                "hubs.no_location",
                f"{int(missing.sum()):,} hubs have no usable location; give easting/northing or latitude/longitude",
                str(path),
                codes(frame.loc[missing, C.HUB_ID]),
            )
        )
    columns = [C.HUB_ID, C.HUB_NAME, C.X, C.Y, C.CAPACITY, C.REQUIRED]
    frame, found = check_unique_keys(
        pd.DataFrame(frame[columns]),
        [C.HUB_ID],
        what="hub ids",
        path=path,
        code="hubs",
        fix="hub ids must be unique: rename or remove the duplicates",
    )
    return frame.sort_values(C.HUB_ID).reset_index(drop=True), findings + found


def read_indicator(spec: Indicator) -> tuple[pd.DataFrame, list[Finding]]:
    """One demand indicator -> DataFrame(lsoa_code, value)."""
    path = Path(spec.path)
    findings: list[Finding] = []
    raw = read_any_table(spec, what="demand indicator")
    frame = canonical(raw, "demand", spec.columns, path=path, config_key="inputs.demand.indicators[]")
    matches = [c for c in raw.columns if str(c) == spec.column] or [
        c for c in raw.columns if C.normalise(c) == C.normalise(spec.column)
    ]
    if not matches:
        raise InputDataError(
            f"{path}: demand indicator column {spec.column!r} is not in the file; columns are "
            f"{_show_headers([str(c) for c in raw.columns])}."
        )
    values = to_number(
        raw[matches[0]],
        path=path,
        column=spec.column,
        findings=findings,
        code_series=frame[C.LSOA_CODE],
        severity="error",
        fix="write each as a number, or leave it blank where unknown (the area mean is used)",
    )
    low, high, whole, kind = indicator_range(spec.column)
    findings += check_range(
        values,
        labels=frame[C.LSOA_CODE],
        path=path,
        column=f"{spec.column!r}",
        code="demand",
        noun="LSOAs",
        low=low,
        high=high,
        whole=whole,
        fix=f"{kind}; correct the values"
        + (
            " (for a score that can be negative, use its rank or decile with higher_is_more: false)"
            if low == 0 and high is None
            else ""
        ),
    )
    out = pd.DataFrame({C.LSOA_CODE: frame[C.LSOA_CODE], "value": values}).dropna(subset=[C.LSOA_CODE])
    out, found = check_unique_keys(
        out, [C.LSOA_CODE], what="LSOA codes", path=path, code="demand", fix="keep one row per LSOA"
    )
    return out.reset_index(drop=True), findings + found


def indicator_range(column: str) -> tuple[float, float | None, bool, str]:
    """The values a demand indicator may take, from its column's name: (low, high, whole, what it is).

    A decile is 1-10; a proportion, share or fraction 0-1; a percentage (``%``, ``percent``, ``pct``) or a
    prevalence (a proportion or a percentage) 0-100; anything else (a count, rate, rank or score) 0 or more.
    """
    name = C.normalise(column)
    if "decile" in name:
        return 1, 10, True, "a decile is a whole number from 1 to 10"
    if any(word in name for word in ("proportion", "share", "fraction")):
        return 0, 1, False, "a proportion lies between 0 and 1"
    if "%" in column or any(word in name for word in ("percent", "pct", "prevalence")):
        return 0, 100, False, "a percentage or prevalence lies between 0 and 100"
    return 0, None, False, "demand indicators are counts, rates, ranks or scores of need, 0 or more"


def read_imd(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """IMD 2019 File 1 (sheet IMD2019) or a CSV with an IMD decile column -> DataFrame(lsoa_code, imd_decile)."""
    path = Path(spec.path)
    findings: list[Finding] = []
    sheet = spec.sheet
    if path.suffix.lower() in EXCEL_SUFFIXES and sheet is None:
        sheet = "IMD2019"
    raw = read_any_table(spec.model_copy(update={"sheet": sheet}), what="IMD")
    frame = canonical(raw, "demand", spec.columns, path=path, config_key="inputs.imd")
    decile_columns = [
        c for c in raw.columns if "decile" in C.normalise(c) and "multipledeprivation" in C.normalise(c)
    ]
    decile_columns = decile_columns or [c for c in raw.columns if C.normalise(c) in {"imddecile", "decile"}]
    if not decile_columns:
        raise InputDataError(
            f"{path}: no IMD decile column found (expected 'Index of Multiple Deprivation (IMD) Decile')."
        )
    deciles = to_number(
        raw[decile_columns[0]],
        path=path,
        column="IMD decile",
        findings=findings,
        code_series=frame[C.LSOA_CODE],
        severity="error",
        fix="write each as a whole number from 1 (most deprived) to 10",
    )
    findings += check_range(
        deciles,
        labels=frame[C.LSOA_CODE],
        path=path,
        column="IMD decile",
        code="imd",
        noun="LSOAs",
        low=1,
        high=10,
        whole=True,
        fix="a decile is a whole number from 1 (most deprived) to 10: correct the file",
    )
    out = pd.DataFrame({C.LSOA_CODE: frame[C.LSOA_CODE], C.IMD_DECILE: deciles}).dropna()
    out, found = check_unique_keys(
        out, [C.LSOA_CODE], what="LSOA codes", path=path, code="imd", fix="keep one row per LSOA"
    )
    return out.reset_index(drop=True), findings + found


def read_baseline(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """Current map -> DataFrame(lsoa_code, neighbourhood_id)."""
    frame = read_canonical(spec, "baseline", what="baseline", config_key="inputs.baseline")
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).dropna()
    frame, findings = check_unique_keys(
        frame,
        [C.LSOA_CODE],
        what="LSOA codes",
        path=Path(spec.path),
        code="baseline",
        fix="an LSOA belongs to one neighbourhood today: keep one row per LSOA",
    )
    return frame.sort_values(C.LSOA_CODE).reset_index(drop=True), findings


def read_locks(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """LSOA -> hub locks -> DataFrame(lsoa_code, hub_id)."""
    frame = read_canonical(spec, "locks", what="locks", config_key="inputs.locks")
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).dropna()
    frame, findings = check_unique_keys(
        frame,
        [C.LSOA_CODE],
        what="LSOAs",
        path=Path(spec.path),
        code="locks",
        fix="an LSOA can be locked to one hub only: keep one",
    )
    return frame.sort_values(C.LSOA_CODE).reset_index(drop=True), findings


def read_area_names(spec: TableInput) -> tuple[pd.DataFrame, list[Finding]]:
    """Area names (e.g. House of Commons Library MSOA names) -> DataFrame(area_code, area_name), one row a code.

    Rows without a name are dropped; a code named twice follows the common rule for repeated keys.
    """
    frame = read_canonical(spec, "area_names", what="area names", config_key="inputs.area_names")
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).dropna()
    frame = frame[frame[C.AREA_NAME] != ""].reset_index(drop=True)
    frame, findings = check_unique_keys(
        frame,
        [C.AREA_CODE],
        what="area codes",
        path=Path(spec.path),
        code="area_names",
        fix="give each code one name",
    )
    return frame.sort_values(C.AREA_CODE).reset_index(drop=True), findings
