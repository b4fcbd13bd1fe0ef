"""LSOA vintages: detect the vintage of every LSOA-keyed table and convert it to the vintage of the boundaries.

LSOA 2011 and 2021 codes coexist in planners' files. This module reads ONS's "LSOA (2011) to LSOA (2021)" lookup
(:func:`read_lsoa_lookup`), tells the vintage of any LSOA-keyed table (:func:`detect_file_vintage`) and takes it to
the boundaries' vintage with pure table functions, one per kind of value:

- counts (residents, age bands, registered patients per practice): :func:`apportion_counts` shares each source
  LSOA's count among its target LSOAs by the pair weights of :func:`build_pairs`, with a largest-remainder rule so
  whole counts stay whole and every source row's total is kept exactly; merged parts simply add up;
- rates and deciles (demand indicators, IMD): :func:`mean_by_population` takes the population-weighted mean of the
  parts (IMD deciles are then rounded half up to a whole decile);
- categories (baseline neighbourhood, locked hub): :func:`majority_by_population` takes the label of the parts with
  most residents, and names the target LSOAs whose parts disagree.

Pair weights (the share of a source LSOA that goes to each of its target LSOAs) are tables given by the caller
(:mod:`footprint.dataset` computes them from geometry, so none is handled here): the area each pair of LSOAs
shares when boundaries of both vintages are given; else a weight per target LSOA, its residents when a population
file of the boundaries' vintage is given, else its area; else equal shares. A target fed by several sources (a
complex, X, change) lends each of them an equal part of its weight.
Codes not in the lookup (outside its area) pass through unchanged. :class:`VintageConverter` applies the right
function to a table when its vintage differs from the boundaries', raises a one-line
:class:`~footprint.errors.InputDataError` when no lookup is given, and records each conversion as an ``info``
:class:`~footprint.findings.Finding` plus a dictionary for ``run.json``. It may import readers, columns, config,
findings and errors, nothing above them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footprint import columns as C
from footprint import readers
from footprint.config import TableInput
from footprint.errors import InputDataError
from footprint.findings import Finding, codes

logger = logging.getLogger(__name__)

VINTAGES = ("2011", "2021")
#: Columns of a pairs table (see :func:`build_pairs`).
SOURCE, TARGET, SHARE = "source", "target", "share"
#: Column of :func:`build_pairs` marking pairs into another borough that get no share (with ``place_of``).
CROSSING = "crossing"
#: The config key of the lookup, named in every message that asks for it.
LOOKUP_KEY = "inputs.lsoa_lookup"
_CODE_OF = {"2011": C.LSOA11_CODE, "2021": C.LSOA21_CODE}
#: How counted columns are named in messages.
_LABELS = {
    C.POPULATION: "residents",
    C.POP_0_15: "aged 0-15",
    C.POP_65_PLUS: "aged 65+",
    C.PATIENTS: "patients",
}


def other_vintage(vintage: str) -> str:
    return "2021" if vintage == "2011" else "2011"


# ---- the lookup ------------------------------------------------------------------------------------------------


def read_lsoa_lookup(spec: TableInput) -> pd.DataFrame:
    """ONS LSOA (2011) to LSOA (2021) lookup -> DataFrame(lsoa11_code, lsoa21_code, change), one row per pair.

    Columns are found by any of ONS's spellings (``LSOA11CD``, ``lsoa11cd``, ``LSOA 2011 Code``...; ``CHGIND``).

    Raises
    ------
    InputDataError
        When a change indicator is not U, S, M or X, or no row has both codes.
    """
    path = Path(spec.path)
    frame = readers.read_canonical(spec, "lsoa_lookup", what="LSOA lookup", config_key=LOOKUP_KEY)
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    frame = frame.dropna(subset=[C.LSOA11_CODE, C.LSOA21_CODE])
    frame = frame[(frame[C.LSOA11_CODE] != "") & (frame[C.LSOA21_CODE] != "")]
    if frame.empty:
        raise InputDataError(
            f"{path}: the LSOA lookup has no row with both an LSOA 2011 and an LSOA 2021 code; give ONS's LSOA "
            "(2011) to LSOA (2021) lookup (LSOA11CD, LSOA21CD, CHGIND)."
        )
    change = frame[C.CHANGE].fillna("").str.upper()
    bad = ~change.isin(list(C.LSOA_CHANGES))
    if bad.any():
        raise InputDataError(
            f"{path}: {int(bad.sum()):,} rows of the LSOA lookup have a change indicator other than U, S, M or X "
            f"(e.g. {str(frame.loc[bad, C.CHANGE].iloc[0])!r} for {frame.loc[bad, C.LSOA11_CODE].iloc[0]}); "
            f"correct them, or name the CHGIND column with {LOOKUP_KEY}.columns.change."
        )
    out = pd.DataFrame(
        {
            C.LSOA11_CODE: frame[C.LSOA11_CODE].astype(str),
            C.LSOA21_CODE: frame[C.LSOA21_CODE].astype(str),
            C.CHANGE: change.astype(str),
        }
    )
    out = out.drop_duplicates([C.LSOA11_CODE, C.LSOA21_CODE])
    return out.sort_values([C.LSOA11_CODE, C.LSOA21_CODE]).reset_index(drop=True)


# ---- detection -------------------------------------------------------------------------------------------------


def new_in_2021(lsoa_codes: Sequence[str] | set[str]) -> set[str]:
    """The codes that can only be LSOA 2021 codes: numbered above the last 2011 code of England or Wales."""
    last = {"E01": C.LSOA11_LAST_ENGLAND, "W01": C.LSOA11_LAST_WALES}
    found = set()
    for code in lsoa_codes:
        if len(code) == 9 and code[:3] in last and code[3:].isdigit() and int(code[3:]) > last[code[:3]]:
            found.add(code)
    return found


def detect_file_vintage(
    lsoa_codes: pd.Series,
    *,
    boundary_codes: set[str],
    boundary_vintage: str,
    lookup: pd.DataFrame | None = None,
    code_column: str | None = None,
) -> tuple[str, str]:
    """The LSOA vintage of a table, and the evidence for it in words.

    The rule, the same for every LSOA-keyed file, in order:

    1. codes the boundaries do not have, numbered above the last 2011 code or found only on the 2021 side of the
       lookup, mean 2021; such codes found only on the 2011 side of the lookup mean 2011 (both at once is an error:
       the file mixes vintages);
    2. against 2021 boundaries, a file holding at least half of the boundaries' codes that existed in 2011 but none
       of their codes new in 2021 is a 2011 file (this needs no lookup);
    3. a file sharing codes with the boundaries is of their vintage;
    4. a file sharing none takes the vintage its code column names (``LSOA11CD``), else the boundaries'.

    Raises
    ------
    InputDataError
        When the file mixes codes only 2011 has with codes only 2021 has (the message is completed by the caller).
    """
    distinct = {str(code) for code in lsoa_codes.dropna().unique()}
    # a code the boundaries have is of their vintage, whatever its number: only the others are evidence
    foreign = distinct - boundary_codes
    only_2011: set[str] = set()
    only_2021 = new_in_2021(foreign)
    if lookup is not None:
        codes_2011, codes_2021 = set(lookup[C.LSOA11_CODE]), set(lookup[C.LSOA21_CODE])
        only_2011 = foreign & (codes_2011 - codes_2021)
        only_2021 |= foreign & (codes_2021 - codes_2011)
    if only_2011 and only_2021:
        raise InputDataError(
            f"mixes LSOA 2011 codes ({_some(only_2011)}) with LSOA 2021 codes ({_some(only_2021)}); "
            "use one vintage throughout"
        )
    if only_2021:
        return "2021", f"{_some(only_2021)} exist only in 2021"
    if only_2011:
        return "2011", f"{_some(only_2011)} exist only in 2011"
    shared = distinct & boundary_codes
    if boundary_vintage == "2021":
        boundary_new = new_in_2021(boundary_codes)
        boundary_old = boundary_codes - boundary_new
        covers_old = len(distinct & boundary_old) * 2 >= len(boundary_old)
        if boundary_new and boundary_old and covers_old and not distinct & boundary_new:
            return "2011", f"none of the boundaries' {len(boundary_new):,} LSOAs new in 2021 is in it"
    if shared:
        return boundary_vintage, "its codes are the boundaries'"
    named = readers.detect_vintage(code_column or "", pd.Series([], dtype="string"), default=None)
    if named:
        return named, f"column {code_column}"
    return boundary_vintage, "no evidence of another vintage"


def _some(found: set[str], show: int = 2) -> str:
    shown = sorted(found)[:show]
    more = f" and {len(found) - show:,} more" if len(found) > show else ""
    return ", ".join(shown) + more


# ---- pure conversions ------------------------------------------------------------------------------------------


def build_pairs(
    lookup: pd.DataFrame,
    source_vintage: str,
    target_weight: pd.Series | None = None,
    *,
    pair_weight: pd.Series | None = None,
    place_of: pd.Series | None = None,
) -> pd.DataFrame:
    """The lookup as source -> target pairs with the share of each source going to each target.

    With ``place_of`` (LSOA code of either vintage -> its local authority), a source keeps its people in its own
    borough: pairs into another borough get no share when the source has a target in its own (ONS's lookup nests
    in boroughs; a pair across one comes from boundary slivers, e.g. of generalised boundaries).

    ``share`` sums to 1 over each source's targets. With ``pair_weight`` (indexed by (lsoa11_code, lsoa21_code):
    the area the two LSOAs share), a source is shared in proportion to it. Otherwise, or for a source none of whose
    pairs has a positive ``pair_weight``, a target's weight (``target_weight``, indexed by target code: population
    or area) is divided equally among the sources that feed it, and a source's share of each target is its part of
    the weights of all its targets. Sources whose targets lack a positive weight share equally.

    Returns
    -------
    DataFrame(source, target, change, share) sorted by source, target.
    """
    target_vintage = other_vintage(source_vintage)
    pairs = pd.DataFrame(
        {
            SOURCE: lookup[_CODE_OF[source_vintage]].to_numpy(),
            TARGET: lookup[_CODE_OF[target_vintage]].to_numpy(),
            C.CHANGE: lookup[C.CHANGE].to_numpy(),
        }
    ).drop_duplicates([SOURCE, TARGET])
    pairs = pairs.sort_values([SOURCE, TARGET]).reset_index(drop=True)
    feeds = pairs.groupby(TARGET)[SOURCE].transform("size").to_numpy(dtype=float)
    if target_weight is None:
        weight = np.full(len(pairs), np.nan)
    else:
        weight = target_weight.reindex(pairs[TARGET]).to_numpy(dtype=float) / feeds
    weight = pd.Series(weight, index=pairs.index)
    usable = (weight > 0).groupby(pairs[SOURCE]).transform("all")
    weight = weight.where(usable, 1.0)
    if pair_weight is not None:
        codes_2011, codes_2021 = (
            (pairs[SOURCE], pairs[TARGET]) if source_vintage == "2011" else (pairs[TARGET], pairs[SOURCE])
        )
        index = pd.MultiIndex.from_arrays([codes_2011, codes_2021])
        shared = pd.Series(pair_weight.reindex(index).to_numpy(dtype=float), index=pairs.index).fillna(0.0)
        shared = shared.clip(lower=0.0)
        known = shared.groupby(pairs[SOURCE]).transform("sum") > 0
        weight = shared.where(known, weight)
    if place_of is not None:
        source_place = place_of.reindex(pairs[SOURCE]).to_numpy()
        target_place = place_of.reindex(pairs[TARGET]).to_numpy()
        same = pd.Series(
            pd.notna(source_place) & pd.notna(target_place) & (source_place == target_place),
            index=pairs.index,
        )
        crossing = ~same & same.groupby(pairs[SOURCE]).transform("any")
        kept = weight.where(~crossing, 0.0)
        # a source whose own-borough pairs all weigh nothing shares equally among them
        fallback = (kept.groupby(pairs[SOURCE]).transform("sum") <= 0) & ~crossing
        weight = kept.where(~fallback, 1.0)
        pairs[CROSSING] = crossing.to_numpy()
    pairs[SHARE] = weight / weight.groupby(pairs[SOURCE]).transform("sum")
    return pairs


def largest_remainder(values: np.ndarray, shares: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Whole numbers close to ``values * shares`` that sum exactly to each group's value.

    ``values`` holds each row's group total (the same for all rows of a group), ``groups`` the group of each row,
    rows of a group adjacent. Each row gets the floor of its exact part; the units left over in a group go one each
    to its rows with the largest fractional parts (ties: the earlier row).
    """
    exact = values * shares
    floor = np.floor(exact + 1e-9)
    frac = exact - floor
    frame = pd.DataFrame({"group": groups, "frac": -frac, "order": np.arange(len(values))})
    left = (
        (
            pd.Series(values, index=frame.index).groupby(groups).transform("first")
            - pd.Series(floor, index=frame.index).groupby(groups).transform("sum")
        )
        .round()
        .to_numpy()
    )
    ranked = frame.sort_values(["group", "frac", "order"], kind="stable")
    rank = np.empty(len(values))
    rank[ranked.index.to_numpy()] = ranked.groupby("group").cumcount().to_numpy()
    return floor + (rank < left)


def apportion_counts(
    frame: pd.DataFrame, pairs: pd.DataFrame, count_columns: Sequence[str], *, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Counts per source LSOA (and ``by`` keys) -> counts per target LSOA, totals kept exactly.

    Each row is shared among its LSOA's targets by ``share``; a column of whole numbers is shared with
    :func:`largest_remainder` so each row's count is kept exactly; other values are shared in proportion. Rows of a
    target fed by several sources (merges) are summed. Rows whose LSOA is not a source of ``pairs`` pass through.
    NaN stays NaN (a target gets NaN only when all its parts are NaN).
    """
    keys = [*by, C.LSOA_CODE]
    frame = pd.DataFrame(frame).reset_index(drop=True)
    inside = frame[C.LSOA_CODE].isin(set(pairs[SOURCE]))
    rows = frame[inside].assign(_row=np.flatnonzero(inside.to_numpy()))
    spread = rows.merge(pairs[[SOURCE, TARGET, SHARE]], left_on=C.LSOA_CODE, right_on=SOURCE, how="inner")
    spread = spread.sort_values(["_row", TARGET], kind="stable").reset_index(drop=True)
    for column in count_columns:
        values = spread[column].to_numpy(dtype=float)
        shares = spread[SHARE].to_numpy(dtype=float)
        known = ~np.isnan(values)
        whole = bool(np.all(values[known] == np.round(values[known])))
        out = values * shares
        if whole and known.any():
            out[known] = largest_remainder(values[known], shares[known], spread["_row"].to_numpy()[known])
        spread[column] = out
    spread[C.LSOA_CODE] = spread[TARGET]
    converted = pd.concat([spread[[*keys, *count_columns]], frame.loc[~inside, [*keys, *count_columns]]])
    summed = converted.groupby(keys, as_index=False, sort=True)[list(count_columns)].sum(min_count=1)
    return summed.reset_index(drop=True)


def _population_weight(parts: pd.DataFrame, source_population: pd.Series | None) -> np.ndarray:
    """Residents of each source going to each target (share x source population; share alone without one)."""
    shares = parts[SHARE].to_numpy(dtype=float)
    if source_population is None:
        return shares
    population = source_population.reindex(parts[SOURCE]).to_numpy(dtype=float)
    return shares * np.nan_to_num(population, nan=0.0).clip(min=0)


def mean_by_population(
    frame: pd.DataFrame,
    pairs: pd.DataFrame,
    value_columns: Sequence[str],
    source_population: pd.Series | None = None,
    *,
    round_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Rates per source LSOA -> population-weighted mean per target LSOA.

    A target's value is ``sum(v_s * p_s * share_st) / sum(p_s * share_st)`` over its parts s with a value, where
    ``p_s`` is the source's population (equal weights without ``source_population``, or when the parts have no
    residents). A split target simply takes its source's value. ``round_columns`` are then rounded half up to whole
    numbers (IMD deciles). Rows whose LSOA is not a source of ``pairs`` pass through.
    """
    frame = pd.DataFrame(frame).reset_index(drop=True)
    inside = frame[C.LSOA_CODE].isin(set(pairs[SOURCE]))
    parts = frame[inside].merge(pairs, left_on=C.LSOA_CODE, right_on=SOURCE, how="inner")
    weight = _population_weight(parts, source_population)
    shares = parts[SHARE].to_numpy(dtype=float)
    result = pd.DataFrame(index=pd.Index(sorted(set(parts[TARGET])), name=C.LSOA_CODE))
    for column in value_columns:
        values = parts[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        table = (
            pd.DataFrame(
                {
                    TARGET: parts[TARGET],
                    "wv": np.where(known, weight * np.nan_to_num(values), 0.0),
                    "w": np.where(known, weight, 0.0),
                    "sv": np.where(known, shares * np.nan_to_num(values), 0.0),
                    "s": np.where(known, shares, 0.0),
                }
            )
            .groupby(TARGET)
            .sum()
        )
        by_population = table["wv"] / table["w"].where(table["w"] > 0)
        by_share = table["sv"] / table["s"].where(table["s"] > 0)
        mean = by_population.fillna(by_share)
        if column in round_columns:
            mean = np.floor(mean + 0.5)
        result[column] = mean.reindex(result.index)
    converted = result.reset_index()
    passed = frame.loc[~inside, [C.LSOA_CODE, *value_columns]]
    out = pd.concat([converted, passed]).drop_duplicates(C.LSOA_CODE, keep="first")
    return out.sort_values(C.LSOA_CODE).reset_index(drop=True)


def majority_by_population(
    frame: pd.DataFrame, pairs: pd.DataFrame, label_column: str, source_population: pd.Series | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Labels per source LSOA -> the label of most residents per target LSOA, and the targets whose parts disagree.

    Each part s of target t weighs ``p_s * share_st`` (share alone without ``source_population``); the label with
    the largest weight wins (ties: the larger share, then the first label in sort order). Parts absent from the
    file do not vote. Rows whose LSOA is not a source of ``pairs`` pass through.
    """
    frame = pd.DataFrame(frame).reset_index(drop=True)
    inside = frame[C.LSOA_CODE].isin(set(pairs[SOURCE]))
    parts = frame[inside].merge(pairs, left_on=C.LSOA_CODE, right_on=SOURCE, how="inner")
    parts = parts.assign(
        _weight=_population_weight(parts, source_population), _label=parts[label_column].astype(str)
    )
    votes = parts.groupby([TARGET, "_label"], as_index=False).agg(
        _weight=("_weight", "sum"), _share=(SHARE, "sum"), **{label_column: (label_column, "first")}
    )
    votes = votes.sort_values(
        [TARGET, "_weight", "_share", "_label"], ascending=[True, False, False, True], kind="stable"
    )
    winners = votes.drop_duplicates(TARGET, keep="first")
    disagree = votes.groupby(TARGET)["_label"].size()
    converted = pd.DataFrame(
        {C.LSOA_CODE: winners[TARGET].to_numpy(), label_column: winners[label_column].to_numpy()}
    )
    passed = frame.loc[~inside, [C.LSOA_CODE, label_column]]
    out = pd.concat([converted, passed]).drop_duplicates(C.LSOA_CODE, keep="first")
    return out.sort_values(C.LSOA_CODE).reset_index(drop=True), sorted(disagree[disagree > 1].index)


# ---- applying them to a scenario's tables ----------------------------------------------------------------------


def change_counts(pairs: pd.DataFrame, source_codes: set[str]) -> dict[str, int]:
    """How many of ``source_codes`` ONS marks unchanged, split, merged or complex (X over S over M over U)."""
    change = pairs[pairs[SOURCE].isin(source_codes)].groupby(SOURCE)[C.CHANGE].agg(set)
    order = ("X", "S", "M", "U")
    kinds = change.map(lambda found: next(letter for letter in order if letter in found))
    return {C.LSOA_CHANGES[letter]: int((kinds == letter).sum()) for letter in ("U", "S", "M", "X")}


@dataclass
class VintageConverter:
    """Takes each LSOA-keyed table of a scenario to the boundaries' vintage, and records what it did.

    Attributes
    ----------
    boundary_codes
        LSOA codes of the boundaries.
    boundary_vintage
        ``"2011"`` or ``"2021"``.
    lookup
        :func:`read_lsoa_lookup`'s table, or None when the scenario gives none.
    lookup_file
        Its path, for messages.
    target_weight
        Weight of each boundary LSOA when a source is split among several (area or population).
    pair_weight
        Area shared by each (lsoa11_code, lsoa21_code) pair of the lookup, when boundaries of both vintages are
        given; it takes precedence over ``target_weight``.
    place_of
        Local authority of the LSOAs of both vintages (when known): splits keep people in their borough.
    weight_basis
        What ``target_weight`` is, in words.
    source_population
        Residents per LSOA of the other vintage (the population file when it is of that vintage), weighting means
        and majorities; None gives equal weights.
    findings
        One ``info`` finding per conversion, one ``warning`` per categorical table whose parts disagree.
    conversions
        One dictionary per conversion, for ``run.json``.
    """

    boundary_codes: set[str]
    boundary_vintage: str
    lookup: pd.DataFrame | None = None
    lookup_file: str = ""
    target_weight: pd.Series | None = None
    pair_weight: pd.Series | None = None
    place_of: pd.Series | None = None
    weight_basis: str = "equal shares"
    source_population: pd.Series | None = None
    findings: list[Finding] = field(default_factory=list)
    conversions: list[dict[str, Any]] = field(default_factory=list)
    _pairs: pd.DataFrame | None = None

    def use_target_population(self, population: pd.Series) -> None:
        """Weigh splits by the residents of the boundaries' LSOAs (a population file of their vintage)."""
        self.target_weight = population
        if self.pair_weight is None:
            self.weight_basis = f"LSOA {self.boundary_vintage} residents"
        self._pairs = None

    def pairs(self) -> pd.DataFrame:
        if self.lookup is None:
            raise InputDataError(f"no LSOA lookup: give {LOOKUP_KEY}")
        if self._pairs is None:
            self._pairs = build_pairs(
                self.lookup,
                other_vintage(self.boundary_vintage),
                self.target_weight,
                pair_weight=self.pair_weight,
                place_of=self.place_of,
            )
            if CROSSING in self._pairs and self._pairs[CROSSING].any():
                crossing = self._pairs[self._pairs[CROSSING]]
                self.findings.append(
                    Finding(
                        "info",
                        "vintage.crossing_pairs",
                        f"{len(crossing):,} lookup pairs cross a borough boundary while the LSOA also has a part "
                        "in its own borough; they get no share, so every borough keeps its residents and patients",
                        self.lookup_file,
                        codes(f"{a}->{b}" for a, b in zip(crossing[SOURCE], crossing[TARGET], strict=True)),
                    )
                )
            self._pairs = self._pairs.drop(columns=CROSSING, errors="ignore")
        return self._pairs

    def vintage_of(self, frame: pd.DataFrame, *, what: str, path: str, code_column: str | None = None) -> str:
        """The table's vintage; a one-line error when it differs from the boundaries' and no lookup is given."""
        try:
            vintage, evidence = detect_file_vintage(
                frame[C.LSOA_CODE],
                boundary_codes=self.boundary_codes,
                boundary_vintage=self.boundary_vintage,
                lookup=self.lookup,
                code_column=code_column,
            )
        except InputDataError as error:
            raise InputDataError(f"{path}: the {what} file {error}.") from None
        if vintage != self.boundary_vintage and self.lookup is None:
            raise InputDataError(
                f"{path}: the {what} file is keyed by LSOA {vintage} codes ({evidence}) but the boundaries are LSOA "
                f"{self.boundary_vintage}: give {LOOKUP_KEY} ONS's LSOA (2011) to LSOA (2021) lookup (LSOA11CD, "
                f"LSOA21CD, CHGIND) to convert it, or use a file keyed by {self.boundary_vintage} LSOAs."
            )
        return vintage

    def counts(
        self,
        frame: pd.DataFrame,
        count_columns: Sequence[str],
        *,
        what: str,
        path: str,
        by: Sequence[str] = (),
        code_column: str | None = None,
    ) -> pd.DataFrame:
        """Counts keyed by LSOA (and ``by``) in the boundaries' vintage (see :func:`apportion_counts`)."""
        if self.vintage_of(frame, what=what, path=path, code_column=code_column) == self.boundary_vintage:
            return frame
        pairs = self.pairs()
        converted = apportion_counts(frame, pairs, count_columns, by=by)
        totals = {
            column: {"before": _total(frame[column]), "after": _total(converted[column])}
            for column in count_columns
        }
        shown = "; ".join(
            f"{_LABELS.get(column, column)} {t['before']:,} before, {t['after']:,} after"
            for column, t in totals.items()
        )
        self._record(
            frame,
            converted,
            what=what,
            path=path,
            totals=totals,
            how=f"split by {self.weight_basis}; {shown}",
        )
        return converted

    def means(
        self,
        frame: pd.DataFrame,
        value_columns: Sequence[str],
        *,
        what: str,
        path: str,
        round_columns: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Rates or deciles in the boundaries' vintage (see :func:`mean_by_population`)."""
        if self.vintage_of(frame, what=what, path=path) == self.boundary_vintage:
            return frame
        converted = mean_by_population(
            frame, self.pairs(), value_columns, self.source_population, round_columns=round_columns
        )
        how = f"merged parts take the {self._mean_basis()} mean" + (
            ", rounded to a whole decile" if round_columns else ""
        )
        self._record(frame, converted, what=what, path=path, totals={}, how=how)
        return converted

    def labels(self, frame: pd.DataFrame, label_column: str, *, what: str, path: str) -> pd.DataFrame:
        """Categories in the boundaries' vintage (see :func:`majority_by_population`), disagreements reported."""
        if self.vintage_of(frame, what=what, path=path) == self.boundary_vintage:
            return frame
        converted, disagree = majority_by_population(
            frame, self.pairs(), label_column, self.source_population
        )
        basis = "most residents" if self.source_population is not None else "the largest share"
        self._record(
            frame, converted, what=what, path=path, totals={}, how=f"merged parts take the label of {basis}"
        )
        if disagree:
            self.findings.append(
                Finding(
                    "warning",
                    "vintage.parts_disagree",
                    f"{len(disagree):,} LSOA {self.boundary_vintage} codes are made of LSOA "
                    f"{other_vintage(self.boundary_vintage)} parts with different {what} values; each takes the "
                    f"value of {basis}: check them",
                    path,
                    tuple(disagree),
                )
            )
        return converted

    def _mean_basis(self) -> str:
        return "population-weighted" if self.source_population is not None else "equally weighted"

    def _record(
        self,
        before: pd.DataFrame,
        after: pd.DataFrame,
        *,
        what: str,
        path: str,
        totals: dict[str, dict[str, float]],
        how: str,
    ) -> None:
        pairs = self.pairs()
        source = other_vintage(self.boundary_vintage)
        file_codes = set(before[C.LSOA_CODE].dropna().astype(str))
        converted = file_codes & set(pairs[SOURCE])
        kinds = change_counts(pairs, converted)
        targets = set(pairs.loc[pairs[SOURCE].isin(converted), TARGET])
        record = {
            "input": what,
            "file": path,
            "from": source,
            "to": self.boundary_vintage,
            "lookup": self.lookup_file,
            "lsoas_before": len(converted),
            "lsoas_after": len(targets),
            **kinds,
            "outside_lookup": len(file_codes - converted),
            "weights": self.weight_basis,
            "totals": totals,
        }
        self.conversions.append(record)
        changed = sorted(set(pairs.loc[pairs[SOURCE].isin(converted) & (pairs[C.CHANGE] != "U"), SOURCE]))
        outside = (
            f"; {record['outside_lookup']:,} codes not in the lookup kept as they are"
            if record["outside_lookup"]
            else ""
        )
        self.findings.append(
            Finding(
                "info",
                "vintage.converted",
                f"{what}: LSOA {source} -> {self.boundary_vintage} through {LOOKUP_KEY}: {len(converted):,} LSOAs "
                f"({kinds['unchanged']:,} unchanged, {kinds['split']:,} split, {kinds['merged']:,} merged, "
                f"{kinds['complex']:,} complex) became {len(targets):,}; {how}{outside}",
                path,
                codes(changed),
            )
        )
        logger.info("converted %s from LSOA %s to %s", what, source, self.boundary_vintage)


def _total(series: pd.Series) -> float:
    value = float(pd.to_numeric(series, errors="coerce").sum())
    return int(value) if value == round(value) else round(value, 6)
