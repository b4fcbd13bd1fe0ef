"""The run report a planner reads and forwards: ``report.md`` and a self-contained ``report.html``.

Responsibility: present, never compute. Every figure comes from :mod:`footprint.metrics` (places,
neighbourhoods, PCNs, practices, changes; defined in ``docs/metrics.md``) or from the run's decision record
(``run.json``: solver status, bound and gap, inputs and their sha256, findings); this module only selects, orders
and formats them. ``report.html`` is ``report.md`` rendered by markdown-it-py, with the styles inline and
``map.png`` embedded as base64, so it opens offline, can be sent as one file, and says exactly what the Markdown
says. Output depends only on the plan and the record (never on the clock), so re-runs are byte-identical.

Sections: headline figures per place, the map, neighbourhoods (one table per place), PCNs, practices to
realign with suggested actions, changes against the baseline, how each place was solved (status, gap,
verifier), the assumptions (the scenario's settings) and the data caveats (inputs, vintages, dropped rows and
unmatched codes, as found while loading).
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from markdown_it import MarkdownIt

from footprint import columns as C
from footprint.config import PracticeHubs
from footprint.findings import Finding
from footprint.metrics import (
    CHANGE_CODES,
    CHANGE_COUNTS,
    LISTED_SHARE,
    ROUTES,
    baseline_source,
    summarise_changes,
    summarise_neighbourhoods,
    summarise_pcns,
    summarise_places,
    summarise_practices,
)
from footprint.plan import Plan

MAP_PNG = "map.png"
MAP_HTML = "map.html"


# ---- formatting -------------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _int(value: Any) -> str:
    return "-" if _missing(value) else f"{round(float(value)):,}"


def _pct(value: Any, decimals: int = 0) -> str:
    return "-" if _missing(value) else f"{float(value):.{decimals}%}"


def _km(value: Any) -> str:
    return "-" if _missing(value) else f"{float(value):.2f}"


def _num(value: Any, digits: int = 4) -> str:
    if _missing(value) or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):.{digits}f}"


def _text(value: Any) -> str:
    """Table-cell text with Markdown's special characters escaped."""
    if _missing(value) or str(value) == "":
        return "-"
    text = " ".join(str(value).split())
    for char in "\\`*<|":
        text = text.replace(char, "\\" + char)
    text = text.replace("](", "]\\(")  # never a link
    # an underscore or tilde only starts emphasis at the edge of a word
    return re.sub(
        r"(?<![A-Za-z0-9])([_~])|([_~])(?![A-Za-z0-9])", lambda m: "\\" + (m.group(1) or m.group(2)), text
    )


def _code(value: Any) -> str:
    return "-" if _missing(value) or str(value) == "" else f"`{value}`"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Sequence[int] = ()) -> str:
    """A Markdown pipe table; columns listed in ``right`` are right-aligned (numbers)."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---- the document -----------------------------------------------------------------------------------------------


def render_markdown(plan: Plan, record: dict[str, Any], *, notes: Sequence[str] = ()) -> str:
    """The report as Markdown (``report.md``); ``record`` is the run's decision record (``run.json``)."""
    scenario = plan.dataset.scenario
    places = summarise_places(plan)
    hoods = summarise_neighbourhoods(plan)
    pcns = summarise_pcns(plan)
    practices = summarise_practices(plan)
    _, changes = summarise_changes(plan)
    parts = [
        _heading(plan, record, places),
        *([_notes(notes)] if notes else []),
        _opening_section(plan, record, places),
        _places_section(plan, record, places),
        _map_section() if len(hoods) else "",  # no plan: no map or boundary files were written
        _neighbourhoods_section(plan, hoods, changes),
        _pcns_section(plan, pcns, planned=bool(len(hoods))),
        _practices_section(plan, practices, planned=bool(len(hoods))),
        _changes_section(plan, changes, places),
        _status_quo_breaches_section(record),
        _assumptions_section(scenario),
        _caveats_section(record),
        _about_section(record, planned=bool(len(hoods))),
        _solver_section(record),
    ]
    return "\n\n".join(part.strip("\n") for part in parts if part) + "\n"


def _heading(plan: Plan, record: dict[str, Any], places: pd.DataFrame) -> str:
    scenario = plan.dataset.scenario
    planned = len(record["places"])
    solved = len(places)
    residents = int(places["population"].sum()) if solved else 0
    k = int(places["neighbourhoods"].sum()) if solved else 0
    passed = len(record["verifier"]["places_verified"])
    failed = record.get("failed_places") or []
    verified = f"{passed} of {planned} places have a plan that passed footprint's independent verifier" + (
        f"; no plan for {', '.join(failed)} (see the technical appendix)." if failed else "."
    )
    measure = "residents" if scenario.pop.measure == "residents" else "registered patients"
    from_practices = isinstance(scenario.inputs.hubs, PracticeHubs)
    centre = (
        (
            "served by one hub at a GP practice site"
            if from_practices
            else "served by one hub (a site from the hubs file)"
        )
        if _hub_centres(plan) or (not solved and plan.dataset.hubs is not None)
        else "organised around a centre LSOA (no hubs file was given)"
    )
    heading = "Evaluated map" if record.get("status") == "evaluated" else "Proposed neighbourhoods"
    if record.get("status") == "evaluated":
        verified = f"{passed} of {planned} places follow every rule" + (
            f"; {', '.join(failed)} {'breaks' if len(failed) == 1 else 'break'} some (the breaches are listed "
            "below and in breaches.csv)."
            if failed
            else "."
        )
    return f"""# {heading}: {_text(scenario.name)}

**{k:,} neighbourhoods** in **{solved} of {planned} places**, covering **{residents:,} residents**. {verified}

Each neighbourhood is a contiguous group of LSOAs inside one place (borough), with between
{scenario.pop.min:,} and {scenario.pop.max:,} {measure}, {centre}. Alignment with today's Primary Care
Networks (PCNs) is measured on registered patients: a PCN's *home* is the whole neighbourhoods its size calls for
(one for a PCN within the bounds, two for one twice the size), those where most of its patients live, and its
*coterminosity* is the share of its patients living there."""


def _has_baseline(plan: Plan) -> bool:
    """Whether there is a baseline map to compare with (a baseline file, or registrations with PCNs)."""
    return baseline_source(plan.dataset) != "none"


def _hub_centres(plan: Plan) -> bool:
    """Whether neighbourhoods are served by hubs from the hubs file (else by centre LSOAs)."""
    return bool(len(plan.neighbourhoods)) and bool((plan.neighbourhoods["centre_kind"] == "hub").all())


def _notes(notes: Sequence[str]) -> str:
    return "> **Note.** " + "\n>\n> ".join(_text(note) for note in notes)


def _places_section(plan: Plan, record: dict[str, Any], places: pd.DataFrame) -> str:
    within = plan.dataset.scenario.access.within_km
    coterminous = plan.dataset.scenario.alignment.coterminous_share
    by_code = places.set_index(C.PLACE_CODE) if len(places) else pd.DataFrame()
    rows = []
    today = _status_quo_places(record)
    extra = 3
    for entry in record["places"]:
        code = entry["place_code"]
        if code in by_code.index:
            row = by_code.loc[code]
            rows.append(
                [
                    _code(code),
                    _text(entry["place_name"]),
                    plain_status(entry),
                    _int(row["neighbourhoods"]),
                    _int(row["population"]),
                    f"{_int(row['smallest'])} - {_int(row['largest'])}",
                    _km(row["mean_distance_km"]),
                    _pct(row["share_within_km"]),
                    _pct(row["self_containment"]),
                    _routes(row) if row["pcns"] else "-",
                    _pct(row["median_coterminosity"]),
                    _int(row["practices_to_realign"]),
                    _int(row["patients_involved"]),
                    _int(row["lsoas_moved"]),
                    _int(row["residents_moved"]),
                    _breaches_cell(row, planned=True),
                    _pct(row.get("weighted_coterminosity")),
                    _pct(row["deprived_share"]),
                ]
            )
            if code in today:
                rows += _today_rows(today[code])
        else:
            rows.append(
                [_code(code), _text(entry["place_name"]), f"**{plain_status(entry)}**"] + ["-"] * (12 + extra)
            )
            if code in today:
                rows += _today_rows(today[code])
    if len(places) > 1:
        rows.append(
            [
                "**all**",
                "",
                "",
                _int(places["neighbourhoods"].sum()),
                _int(places["population"].sum()),
                f"{_int(places['smallest'].min())} - {_int(places['largest'].max())}",
                "",
                "",
                "",
                _routes(places.sum(numeric_only=True)) if places["pcns"].sum() else "-",
                "",
                _int(places["practices_to_realign"].sum()),
                _int(places["patients_involved"].sum()),
                _int(places["lsoas_moved"].sum(min_count=1)),
                _int(places["residents_moved"].sum(min_count=1)),
                "",
                "",
                "",
            ]
        )
    table = _table(
        [
            "Place",
            "Name",
            "Status",
            "Neighbourhoods",
            "Residents",
            "Smallest - largest",
            "Mean km to hub",
            f"Within {within:g} km",
            "Self-containment",
            "PCNs: coterminous / realign / work across",
            "Median coterminosity",
            "Practices to realign",
            "Patients involved",
            "LSOAs moved",
            "Residents moved",
            "Out of bounds / not contiguous / crossing places",
            "Patient-weighted coterminosity",
            "IMD deciles 1-2",
        ],
        rows,
        right=(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
    )
    today_note = (
        f"""

Under each place, *today* is the status quo scored by the same formulas: {_today_words(record)}, clipped to the place
(a unit crossing its boundary counts once in each place it reaches), each centred on {record["status_quo"]["centres"]}.
*At best* is the most PCN-aligned valid plan footprint found (weights PCN 1, access
{_best_access(record)}, the heuristic's one counted run): what alignment is achievable, against which this plan's
coterminosity reads. *Out of bounds / not contiguous / crossing places*: neighbourhoods (today: units) outside the
population bounds, in several pieces, or crossing a place boundary (listed under Today's arrangement)."""
        if today
        else ""
    )
    return f"""## Headline figures per place

{table}{today_note}

*Smallest - largest*: the bounded population of the smallest and largest neighbourhood. *Self-containment*: share of
registered residents whose practice is sited in their own neighbourhood. *PCNs*: PCNs homed in the place by
route (see PCNs): *coterminous* with at least {coterminous:.0%} of their patients in their home neighbourhoods,
*realign* when member practices join another neighbourhood's PCN grouping, *work across* by local arrangement.
*LSOAs moved*, *Residents moved*: LSOAs, and their residents, that leave the neighbourhood holding most of their
baseline unit (LSOAs with no baseline unit are new, not moved; see Changes; "-" without a baseline)."""


def plain_status(entry: dict[str, Any]) -> str:
    """A place's status in a planner's words: how good the plan is, never solver terms."""
    status, gap = entry.get("status"), entry.get("gap")
    proven = gap is not None and math.isfinite(float(gap))
    if status in ("optimal", "feasible", "heuristic"):
        if proven and float(gap) < 0.0005:
            return "proven optimal"
        if proven:
            return f"within {float(gap):.1%} of best, proven"
        return "best found, not proven"
    return {
        "infeasible": "cannot be planned",
        "error": "no plan (error)",
        "evaluated": "follows every rule",
        "breaches": "breaks the rules",
    }.get(str(status), str(status))


def _quality_sentence(entry: dict[str, Any]) -> str:
    words = plain_status(entry)
    if words == "proven optimal":
        return "The plan is the best possible for the scenario's weights (proven)."
    if words.startswith("within"):
        return f"The plan is within {float(entry['gap']):.1%} of the best possible plan (proven)."
    if words == "best found, not proven":
        return "The plan is the best found; it is not proven the best possible (no bound)."
    return ""


def _status_quo_places(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """run.json's status-quo figures per place (empty without a baseline)."""
    block = record.get("status_quo") or {}
    return {row["place_code"]: row for row in block.get("places") or []}


def _today_words(record: dict[str, Any]) -> str:
    block = record.get("status_quo") or {}
    if block.get("source") == "file":
        return "the baseline map's neighbourhoods"
    return "today's PCN areas (each LSOA in the PCN with most registered residents there)"


def _best_access(record: dict[str, Any]) -> str:
    best = (record.get("status_quo") or {}).get("best_effort") or {}
    return f"{(best.get('weights') or {}).get('access', 0.01):g}"


def _today_breaches(row: Any) -> int:
    return int(sum(row.get(name) or 0 for name in ("out_of_bounds", "not_contiguous", "crossing_places")))


def _breaches_cell(row: Any, *, planned: bool) -> str:
    if planned:  # a verified plan: only the bounds could be counted, and they hold
        out = int(row["neighbourhoods"]) - int(row["within_bounds"])
        return f"{out} / 0 / 0"
    return " / ".join(_int(row.get(name)) for name in ("out_of_bounds", "not_contiguous", "crossing_places"))


def _today_rows(row: dict[str, Any]) -> list[list[str]]:
    """The status quo's row under a place's plan row, and the "at best" row when it was found."""
    breaches = _today_breaches(row)
    rows = [
        [
            "",
            "*today*",
            f"{breaches} breach{'' if breaches == 1 else 'es'}" if breaches else "follows the rules",
            _int(row.get("neighbourhoods")),
            _int(row.get("population")),
            f"{_int(row.get('smallest'))} - {_int(row.get('largest'))}",
            _km(row.get("mean_distance_km")),
            _pct(row.get("share_within_km")),
            _pct(row.get("self_containment")),
            _routes(pd.Series(row)) if row.get("pcns") else "-",
            _pct(row.get("median_coterminosity")),
            _int(row.get("practices_to_realign")),
            _int(row.get("patients_involved")),
            "-",
            "-",
            _breaches_cell(row, planned=False),
            _pct(row.get("weighted_coterminosity")),
            _pct(row.get("deprived_share")),
        ]
    ]
    if not _missing(row.get("best_median_coterminosity")):
        best = ["", "*at best*", "most PCN-aligned plan found"] + ["-"] * 15
        best[10] = _pct(row.get("best_median_coterminosity"))
        best[16] = _pct(row.get("best_weighted_coterminosity"))
        rows.append(best)
    return rows


def place_sentences(
    entry: dict[str, Any],
    plan_row: Any,
    today: dict[str, Any] | None,
    *,
    measure: str = "residents",
    today_units: str = "PCN areas",
    pcns_note: str = "",
) -> str:
    """Two or three sentences on one place a planner could paste into a board paper: the neighbourhoods and their
    sizes against today's, what the plan changes, the PCN routes, coterminosity against today and at best, and how
    good the plan is. ``plan_row`` is the place's :func:`footprint.metrics.summarise_places` row, ``today`` its
    run.json status-quo row (None without a baseline)."""
    name = entry.get("place_name") or entry["place_code"]
    if plan_row is None:
        why = entry.get("message") or ""
        return f"**{name}**: no plan ({plain_status(entry)}). {why}".strip()
    k = int(plan_row["neighbourhoods"])
    first = (
        f"**{name}**: {k} neighbourhood{'s' if k != 1 else ''} of {_int(plan_row['smallest'])}-"
        f"{_int(plan_row['largest'])} {measure}"
    )
    if today:
        breaches = []
        for column, words in (
            ("out_of_bounds", "out of bounds"),
            ("not_contiguous", "not contiguous"),
            ("crossing_places", "crossing the place boundary"),
        ):
            if today.get(column):
                breaches.append(f"{int(today[column])} {words}")
        if today.get("lsoas_left_out"):
            breaches.append(f"{int(today['lsoas_left_out'])} LSOAs in none")
        first += (
            f" (today's {_int(today.get('neighbourhoods'))} {today_units} range {_int(today.get('smallest'))}-"
            f"{_int(today.get('largest'))}; "
            + (", ".join(breaches) if breaches else "all within the rules")
            + ")"
        )
    sentences = [first + "."]
    second = []
    moved = plan_row.get("residents_moved")
    if not _missing(moved) and float(plan_row["population"]) > 0:
        second.append(
            f"The plan moves {_int(moved)} residents ({float(moved) / float(plan_row['population']):.0%}) between "
            "footprints"
            if float(moved)
            else "The plan moves no resident between footprints"
        )
    pcns = int(plan_row.get("pcns") or 0)
    if pcns:
        coterminous, realign, across = (
            int(plan_row["pcns_coterminous"]),
            int(plan_row["pcns_realign"]),
            int(plan_row["pcns_work_across"]),
        )
        practices = int(plan_row.get("practices_to_realign") or 0)
        parts = []
        if coterminous:
            parts.append(f"{coterminous} {'is' if coterminous == 1 else 'are'} coterminous")
        if realign:
            parts.append(
                f"{realign} realign{'s' if realign == 1 else ''} {practices:,} "
                f"practice{'' if practices == 1 else 's'}"
            )
        if across:
            parts.append(f"{across} work{'s' if across == 1 else ''} across")
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        routes = f"of its {pcns} PCN{'' if pcns == 1 else 's'} {listed}"
        second.append(routes if second else routes[0].upper() + routes[1:])
    if second:
        sentences.append("; ".join(second) + ".")
    if pcns and not _missing(plan_row.get("weighted_coterminosity")):
        parts = []
        if today and not _missing(today.get("weighted_coterminosity")):
            parts.append(f"today {_pct(today['weighted_coterminosity'])}")
        parts.append(f"this plan {_pct(plan_row['weighted_coterminosity'])}")
        if today and not _missing(today.get("best_weighted_coterminosity")):
            parts.append(f"at best {_pct(today['best_weighted_coterminosity'])}")
        sentences.append(f"Patients living in their PCN's home neighbourhoods: {', '.join(parts)}.")
    quality = _quality_sentence(entry)
    if quality:
        sentences.append(quality)
    if pcns_note:
        sentences.append(pcns_note[0].upper() + pcns_note[1:] + ".")
    return " ".join(sentences)


def _opening_section(plan: Plan, record: dict[str, Any], places: pd.DataFrame) -> str:
    """What the plan changes against today, per place, in plain words (before any table)."""
    from footprint.instance import pcn_count_note, pcn_home_places

    scenario = plan.dataset.scenario
    measure = "residents" if scenario.pop.measure == "residents" else "registered patients"
    today = _status_quo_places(record)
    units = (
        "baseline neighbourhoods" if (record.get("status_quo") or {}).get("source") == "file" else "PCN areas"
    )
    by_code = places.set_index(C.PLACE_CODE) if len(places) else pd.DataFrame()
    homes = pcn_home_places(plan.dataset)
    paragraphs = []
    for entry in record["places"]:
        code = entry["place_code"]
        row = by_code.loc[code] if code in by_code.index else None
        paragraphs.append(
            place_sentences(
                entry,
                row,
                today.get(code),
                measure=measure,
                today_units=units,
                pcns_note=pcn_count_note(plan.dataset, code, homes) if row is not None else "",
            )
        )
    lead = (
        "What the plan changes against today's arrangement, per place (the figures are in the table below; "
        "today's arrangement is scored by the same formulas)."
        if today
        else "What the plan proposes, per place (no baseline, so nothing to compare with today)."
    )
    return "## What the plan changes\n\n" + lead + "\n\n" + "\n\n".join(paragraphs)


def _status_quo_breaches_section(record: dict[str, Any]) -> str:
    """Where today's arrangement breaks the rules the plan must follow, per place, in the evaluator's words."""
    block = record.get("status_quo") or {}
    if not block:
        return ""
    # crossings are listed from ``crossing`` (every unit reaching another place, planned or not)
    breaches = [b for b in block.get("breaches") or [] if b.get("rule") != "place"]
    unit_words = "baseline unit" if block.get("source") == "file" else "PCN area"
    for row in block.get("crossing") or []:
        breaches.append(
            {
                "place_code": row["place_code"],
                "message": f"{unit_words} {row['baseline']} crosses the place boundary: {row['lsoas']} of its "
                f"{row['lsoas_all']} LSOAs ({row['residents']:,} residents) are here, the others in "
                + str(row["other_places"]).replace(";", ", "),
            }
        )
    names = {p["place_code"]: p["place_name"] for p in record["places"]}
    lines = ["## Today's arrangement: where it breaks the rules"]
    if not breaches:
        lines.append("Today's arrangement follows every rule in every planned place.")
        return "\n\n".join(lines)
    lines.append(
        f"{_today_words(record)[0].upper() + _today_words(record)[1:]}, clipped to each place, checked against the "
        "rules every plan follows. Every breach is in `run.json` (`status_quo.breaches`)."
    )
    by_place: dict[str, list[dict[str, Any]]] = {}
    for breach in breaches:
        by_place.setdefault(breach.get("place_code") or "", []).append(breach)
    few = 12
    for place, found in sorted(by_place.items()):
        title = f"### {_text(names.get(place, place))} (`{place}`)" if place else "### The whole map"
        items = [f"- {_text(b['message'])}" for b in found[:few]]
        if len(found) > few:
            items.append(f"- and {len(found) - few} more (see `run.json`)")
        lines.append(title + "\n\n" + "\n".join(items))
    return "\n\n".join(lines)


def _routes(row: pd.Series) -> str:
    """'12 / 3 / 5': a place's PCNs by route (coterminous / realign / work across)."""
    return " / ".join(_int(row[f"pcns_{route.replace('-', '_')}"]) for route in ROUTES)


def _map_section() -> str:
    return f"""## Map

![Map of the proposed neighbourhoods]({MAP_PNG})

Colours only tell neighbouring neighbourhoods apart; the numbers are the last part of each neighbourhood's id (03 is
`<place>-03`). An interactive map with details for every LSOA and practice is in [{MAP_HTML}]({MAP_HTML}) beside
this report; the boundaries are in `neighbourhoods.gpkg` (open it in QGIS) and `neighbourhoods.geojson`."""


def _neighbourhoods_section(plan: Plan, hoods: pd.DataFrame, changes: pd.DataFrame) -> str:
    if hoods.empty:
        return "## Neighbourhoods\n\nNo place has a plan."
    within = plan.dataset.scenario.access.within_km
    change = changes.set_index(C.NEIGHBOURHOOD)["change"] if len(changes) else pd.Series(dtype="object")
    blocks = ["## Neighbourhoods"]
    for (code, name), group in hoods.groupby([C.PLACE_CODE, C.PLACE_NAME], sort=True):
        rows = [
            [
                _code(row[C.NEIGHBOURHOOD]),
                _text(row[C.HUB_NAME]),
                _int(row["lsoas"]),
                _int(row["population"]),
                _int(row["registered"]),
                "yes" if row["within_bounds"] else "**no**",
                _km(row["mean_distance_km"]),
                _pct(row["share_within_km"]),
                _pct(row["deprived_share"]),
                _pct(row["self_containment"]),
                _text(change.get(row[C.NEIGHBOURHOOD])),
                _text(row["pcn_shares"]),
            ]
            for _, row in group.iterrows()
        ]
        table = _table(
            [
                "Neighbourhood",
                "Hub" if _hub_centres(plan) else "Centre LSOA",
                "LSOAs",
                "Residents",
                "Registered",
                "In bounds",
                "Mean km to hub",
                f"Within {within:g} km",
                "IMD deciles 1-2",
                "Self-containment",
                "Change",
                f"PCNs (share of registered residents, >= {LISTED_SHARE:.0%})",
            ],
            rows,
            right=(2, 3, 4, 6, 7, 8, 9),
        )
        blocks.append(f"### {_text(name)} (`{code}`)\n\n{table}")
    return "\n\n".join(blocks)


def _pcns_section(plan: Plan, pcns: pd.DataFrame, *, planned: bool) -> str:
    if not planned:
        return "## PCNs\n\nNo place has a plan, so PCN alignment is not measured."
    inputs = plan.dataset.scenario.inputs
    if pcns.empty and (inputs.pcns is None or inputs.registrations is None):
        return "## PCNs\n\nNo PCN membership or registrations were given, so PCN alignment is not measured."
    if pcns.empty:
        return "## PCNs\n\nNo PCN has registered patients living in a planned place."
    threshold = plan.dataset.scenario.alignment.coterminous_share
    counts = pcns["route"].value_counts()
    summary = ", ".join(f"{counts[route]} {route}" for route in ROUTES if route in counts)
    names = (
        dict(
            zip(plan.neighbourhoods[C.NEIGHBOURHOOD], plan.neighbourhoods["neighbourhood_name"], strict=True)
        )
        if len(plan.neighbourhoods)
        else {}
    )
    ordered = pcns.assign(order=pcns["route"].map({route: i for i, route in enumerate(ROUTES)})).sort_values(
        ["order", "home_neighbourhood", C.PCN_CODE], na_position="last", kind="stable"
    )
    rows = [
        [
            _code(row[C.PCN_CODE]),
            _text(row[C.PCN_NAME]),
            _int(len(str(row["practices"]).split(";")) if row["practices"] else 0),
            _int(row["registered"]),
            _text(
                ", ".join(
                    names.get(hood, hood) for hood in str(row["home_neighbourhoods"]).split(";") if hood
                )
                or "-"
            ),
            _pct(row["coterminosity"]),
            f"**{row['route']}**",
            _int(row["route_patients"]),
            _text(row["route_detail"]),
        ]
        for _, row in ordered.iterrows()
    ]
    table = _table(
        [
            "PCN",
            "Name",
            "Practices",
            "Registered",
            "Home neighbourhoods",
            "Coterminosity",
            "Route",
            "Patients involved",
            "What it means",
        ],
        rows,
        right=(2, 3, 5, 7),
    )
    return f"""## PCNs

{len(pcns)} PCNs: {summary}. Each PCN's *home* is the whole neighbourhoods its size calls for (one for a PCN
within {plan.dataset.scenario.pop.max:,} patients, two for one twice that), those where most of its registered
patients live; its *coterminosity* is the share of its patients living there. Every PCN takes one route:
*coterminous* (at least {threshold:.0%} of its patients live in its home: it stays as it is), *realign* (named
member practices whose patients mostly live in another neighbourhood join that neighbourhood's PCN grouping), or
*work across* (no practice to move: the PCN agrees a local arrangement to serve the neighbourhoods beyond its home).
*Patients involved*: the patients of the practices that move (realign) or living outside the home (otherwise).

{table}"""


def _practices_section(plan: Plan, practices: pd.DataFrame, *, planned: bool) -> str:
    if not planned:
        return "## Practices to realign\n\nNo place has a plan, so no practice is assessed."
    if practices.empty and not len(plan.dataset.practices):
        return "## Practices to realign\n\nNo practices were given."
    if practices.empty:
        return "## Practices to realign\n\nNo practice is sited in or has patients in a planned place."
    flagged = practices[practices["realign"].astype(bool)].sort_values(
        ["patients_involved", C.PRACTICE_CODE], ascending=[False, True], kind="stable"
    )
    no_pcn = practices[practices[C.PCN_CODE].isna() & (practices["registered"] > 0)]
    blocks = ["## Practices to realign"]
    if flagged.empty:
        blocks.append("No practice's patients live mostly outside its PCN's home neighbourhood.")
    else:
        rows = [
            [
                _code(row[C.PRACTICE_CODE]),
                _text(row[C.PRACTICE_NAME]),
                _code(row[C.PCN_CODE]),
                _code(row["site_neighbourhood"]),
                f"{_code(row['patients_neighbourhood'])} ({_pct(row['share_in_patients_neighbourhood'])})",
                _code(row["pcn_home"]),
                _int(row["registered"]),
                _int(row["patients_involved"]),
                _text(row["suggested_action"]),
            ]
            for _, row in flagged.iterrows()
        ]
        blocks.append(
            f"{len(flagged)} of {len(practices)} practices have most of their registered patients living outside "
            f"their PCN's home neighbourhood ({int(flagged['patients_involved'].sum()):,} patients involved). "
            "Each is a candidate to move to the PCN homed where its patients live; list sizes are shown before "
            "-> after. Largest first."
        )
        blocks.append(
            _table(
                [
                    "Practice",
                    "Name",
                    "PCN",
                    "Site in",
                    "Most patients live in",
                    "PCN home",
                    "Registered",
                    "Patients involved",
                    "Suggested action",
                ],
                rows,
                right=(6, 7),
            )
        )
    if len(no_pcn):
        rows = [
            [
                _code(row[C.PRACTICE_CODE]),
                _text(row[C.PRACTICE_NAME]),
                _code(row["site_neighbourhood"]),
                _code(row["patients_neighbourhood"]),
                _int(row["registered"]),
                _text(row["suggested_action"]),
            ]
            for _, row in no_pcn.iterrows()
        ]
        blocks.append(
            "### Practices in no active PCN\n\n"
            + _table(
                ["Practice", "Name", "Site in", "Most patients live in", "Registered", "Suggested action"],
                rows,
                right=(4,),
            )
        )
    return "\n\n".join(blocks)


def _changes_section(plan: Plan, changes: pd.DataFrame, places: pd.DataFrame) -> str:
    """Changes against the baseline: said once when there is no baseline, nothing when no place has a plan."""
    if not _has_baseline(plan):
        return (
            "## Changes against the baseline\n\nNo baseline, so no change figures: give `inputs.baseline` (the "
            "current map, LSOA -> neighbourhood) or the registrations and PCN membership (today's PCN map is then "
            "the baseline)."
        )
    if changes.empty:
        return ""
    scenario = plan.dataset.scenario
    if scenario.inputs.baseline is not None:
        baseline = f"the current map in `{scenario.inputs.baseline.path.name}`"
    else:
        baseline = "today's PCN map (each LSOA belongs to the PCN with most registered residents there)"
    counts = changes["change"].value_counts()
    summary = ", ".join(
        f"{int(counts.get(code, 0))} {name} ({code})"
        for code, name in CHANGE_CODES.items()
        if code != "N" or counts.get(code, 0)
    )
    total = {name: int(places[name].sum()) for name in CHANGE_COUNTS}
    clipped = changes["clipped_units"].fillna("").astype(str)
    cut = sorted({part.rsplit(" ", 1)[0] for cell in clipped for part in cell.split(";") if part})
    rows = [
        [
            _code(row[C.NEIGHBOURHOOD]),
            row["change"],
            _text(_units_cell(row["baseline_units"], row["clipped_units"])),
            _int(row["lsoas_moved"]),
            _int(row["residents_moved"]),
            _int(row["lsoas_new"]),
            _int(row["residents_new"]),
        ]
        for _, row in changes.iterrows()
    ]
    table = _table(
        [
            "Neighbourhood",
            "Change",
            "Baseline units it draws on",
            "LSOAs moved",
            "Residents moved",
            "LSOAs new",
            "Residents new",
        ],
        rows,
        right=(3, 4, 5, 6),
    )
    cut_note = (
        f" {len(cut):,} baseline units cross a place boundary; as every plan nests in places, each part is "
        "compared on its own (shown as *inside/all* LSOAs)."
        if cut
        else ""
    )
    new_note = (
        f" {total['residents_new']:,} residents in {total['lsoas_new']:,} LSOAs have no baseline unit: they are new, "
        "counted apart, not moved."
        if total["lsoas_new"]
        else ""
    )
    return f"""## Changes against the baseline

Baseline: {baseline}. Neighbourhoods: {summary}.

**{total["residents_moved"]:,} residents** in **{total["lsoas_moved"]:,} LSOAs** move away from the neighbourhood
holding most of their baseline unit.{new_note}{cut_note}

Codes (ONS style), on the LSOAs with a baseline unit, each unit taken inside the neighbourhood's place: **U**
unchanged, exactly one whole unit; **S** split, a proper part of one unit; **M** merged, two or more units with no
LSOA moved (each whole, or its largest part); **X** complex, two or more units and some LSOA moved; **N** new, no LSOA
with a baseline unit. A neighbourhood with no LSOA moved is never X.

{table}"""


def _units_cell(units: Any, clipped: Any) -> str:
    """Baseline units, each cut by a place boundary followed by its LSOAs inside the place / all its LSOAs."""
    cut = (
        dict(part.rsplit(" ", 1) for part in str(clipped).split(";") if part) if not _missing(clipped) else {}
    )
    names = str(units).split(";") if not _missing(units) and str(units) else []
    return ", ".join(f"{name} ({cut[name]})" if name in cut else name for name in names)


def _solver_section(record: dict[str, Any]) -> str:
    rows = []
    for entry in record["places"]:
        verifier = entry.get("verifier") or {}
        verdict = "passed" if verifier.get("ok") else ("failed" if verifier else "-")
        rows.append(
            [
                _code(entry["place_code"]),
                entry["status"],
                _text(entry.get("method")),
                _text(entry.get("solver")),
                _num(entry.get("objective")),
                _num(entry.get("bound")),
                _pct(entry.get("gap"), 2),
                verdict,
                _text(entry.get("message")),
            ]
        )
    table = _table(
        ["Place", "Status", "Method", "Solver", "Objective", "Bound", "Gap", "Verifier", "Note"],
        rows,
        right=(4, 5, 6),
    )
    terms = sorted({term for entry in record["places"] for term in (entry.get("terms") or {})})
    term_rows = [
        [_code(entry["place_code"])] + [_num((entry.get("terms") or {}).get(term)) for term in terms]
        for entry in record["places"]
        if entry.get("terms")
    ]
    term_table = (
        "\n\nObjective terms (each normalised; the objective is their weighted sum, lower is better):\n\n"
        + _table(["Place", *terms], term_rows, right=tuple(range(1, len(terms) + 1)))
        if term_rows
        else ""
    )
    settings = record["solver"]["settings"]
    return f"""## Technical appendix: how the plan was found

Each place is solved as a mixed-integer programme (time limit {settings.get("time_limit"):g} s per place, target gap
{_pct(settings.get("gap"), 1)}), warm-started by a heuristic; *optimal* means proven within the target gap,
*feasible* that the time limit was reached with the gap shown (the solver's proven bound), *heuristic* that only the
heuristic plan was available. Every plan is then checked by an independent verifier (complete, contiguous, within
the bounds, nested in its place, hubs, locks and access radius).

{table}{term_table}"""


def _assumptions_section(scenario: Any) -> str:
    pop, k, access, weights, graph, solver = (
        scenario.pop,
        scenario.k,
        scenario.access,
        scenario.weights,
        scenario.graph,
        scenario.solver,
    )
    count = (
        "automatic (from the bounds)"
        if k.min is None and k.max is None
        else f"{k.min if k.min is not None else 'auto'} to {k.max if k.max is not None else 'auto'}"
    )
    radius = f"{access.max_distance_km:g} km" if access.max_distance_km else "none"
    weight_text = ", ".join(f"{name} {value:g}" for name, value in weights.model_dump().items())
    graph_text = ", ".join(
        f"`{name}: {value}`" for name, value in graph.model_dump(mode="json").items() if name != "barriers"
    )
    barriers = len(scenario.graph.barriers)
    return f"""## Assumptions

- Population bounds: {pop.min:,} to {pop.max:,} {pop.measure} per neighbourhood; number of neighbourhoods per
  place: {count}.
- Access: distances are straight lines between LSOA representative points and hubs (British National Grid);
  access radius {radius}; reports show the share of residents within {access.within_km:g} km of their hub.
- Objective weights: {weight_text}.
- Contiguity graph: {graph_text}; {barriers} barrier layers.
- Solver: method {solver.method}, solver {solver.name}, seed {solver.seed}, threads {solver.threads}.
- Patients are counted where they live (registrations by LSOA); patients living outside the area are left out of
  neighbourhood figures."""


def _finding_line(entry: dict[str, Any]) -> str:
    finding = Finding(
        severity=entry["severity"],
        code=entry["code"],
        message=entry["message"],
        file=entry.get("file", ""),
        items=tuple(entry.get("items") or ()),
        count=entry.get("count"),
    )
    return f"- `{finding.code}`: {_text(finding.line())}"


def _caveats_section(record: dict[str, Any]) -> str:
    inputs = _table(
        ["Input file", "sha256 (first 16)"],
        [[_text(path), f"`{entry['sha256'][:16]}`"] for path, entry in sorted(record["inputs"].items())],
    )
    warnings = [_finding_line(entry) for entry in record.get("findings", [])]
    policies = [_finding_line(entry) for entry in record.get("policies", [])]
    blocks = [
        "## Data and caveats",
        "Inputs read (their sha256 is in `run.json`; `footprint report` refuses to regenerate this report if any "
        "has changed):",
        inputs,
    ]
    blocks.append("Problems found in the inputs (rows dropped or codes unmatched; figures exclude them):")
    blocks.append("\n".join(warnings) if warnings else "- none")
    blocks.append("Vintages detected and policies applied:")
    blocks.append("\n".join(policies) if policies else "- none")
    return "\n\n".join(blocks)


def _about_section(record: dict[str, Any], *, planned: bool) -> str:
    tool = record["tool"]
    scenario = record["scenario"]
    source = f" from `{scenario['file']}`" if scenario.get("file") else ""
    files = (
        "the tables are also in the CSV files beside this report (`neighbourhoods.csv`, `realignment_pcns.csv`, "
        "`realignment_practices.csv`, `changes.csv`, `changes_neighbourhoods.csv`)"
        if planned
        else "no place has a plan, so no tables, maps or boundary files were written beside this report; "
        "`run.json` records why each place has none"
    )
    return f"""## About this report

Written by {tool["name"]} {tool["version"]} for scenario `{_text(scenario["name"])}`{source}. Every figure is
defined in the project's `docs/metrics.md`; {files}. Regenerate this report without solving again with
`footprint report <this folder>`."""


# ---- HTML --------------------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; color: #1a1a1a; margin: 0; background: #f4f4f4; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 32px 48px; background: #ffffff; }
h1 { font-size: 28px; margin: 8px 0 12px; color: #005eb8; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #005eb8; color: #003087; }
h3 { font-size: 16px; margin: 22px 0 8px; }
p, li { font-size: 14px; line-height: 1.5; }
blockquote { margin: 12px 0; padding: 8px 14px; background: #fff4d6; border-left: 4px solid #ffb81c; }
code { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; background: #f0f4f8;
  padding: 1px 3px; border-radius: 3px; }
.table { overflow-x: auto; margin: 10px 0 14px; }
table { border-collapse: collapse; font-size: 12.5px; }
th { background: #e8edee; text-align: left; padding: 5px 7px; border-bottom: 2px solid #aeb7bd; vertical-align: bottom; }
td { padding: 4px 7px; border-bottom: 1px solid #dde1e3; vertical-align: top; }
td code, td[style*="right"] { white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfb; }
img { max-width: 100%; height: auto; border: 1px solid #d8dde0; }
@media print { body { background: #ffffff; } main { max-width: none; padding: 0; } h2 { break-after: avoid; }
  tr { break-inside: avoid; } }
"""


def render_html(markdown: str, *, map_png: bytes | None, title: str) -> str:
    """``report.html``: the Markdown rendered, styles inline, ``map.png`` embedded (no network needed)."""
    renderer = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    body = renderer.render(markdown)
    body = body.replace("<table>", '<div class="table"><table>').replace("</table>", "</table></div>")
    if map_png is not None:
        encoded = base64.b64encode(map_png).decode("ascii")
        body = body.replace(f'src="{MAP_PNG}"', f'src="data:image/png;base64,{encoded}"')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
{body}</main>
</body>
</html>
"""


def report_title(plan: Plan) -> str:
    evaluated = bool(plan.statuses) and set(plan.statuses.values()) <= {"evaluated", "breaches"}
    return f"{'Evaluated map' if evaluated else 'Proposed neighbourhoods'}: {plan.dataset.scenario.name}"


def map_subtitle(plan: Plan, record: dict[str, Any], places: pd.DataFrame) -> str:
    """One line under the map titles: counts (from :func:`summarise_places`) and the bounds."""
    scenario = plan.dataset.scenario
    k = int(places["neighbourhoods"].sum()) if len(places) else 0
    residents = int(places["population"].sum()) if len(places) else 0
    return (
        f"{k:,} neighbourhoods in {len(places)} of {len(record['places'])} places, {residents:,} residents; "
        f"{scenario.pop.min:,}-{scenario.pop.max:,} {scenario.pop.measure} per neighbourhood"
    )
