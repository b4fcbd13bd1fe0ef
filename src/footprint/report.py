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
from footprint.findings import Finding
from footprint.metrics import (
    ALIGNED_SHARE,
    CHANGE_CODES,
    LISTED_SHARE,
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
    _, changes = summarise_changes(plan) if len(plan.assignment) else (None, pd.DataFrame())
    parts = [
        _heading(plan, record, places),
        *([_notes(notes)] if notes else []),
        _places_section(plan, record, places),
        _map_section() if len(hoods) else "",  # no plan: no map or boundary files were written
        _neighbourhoods_section(plan, hoods, changes),
        _pcns_section(plan, pcns, planned=bool(len(hoods))),
        _practices_section(plan, practices, planned=bool(len(hoods))),
        _changes_section(plan, changes, places),
        _solver_section(record),
        _assumptions_section(scenario),
        _caveats_section(record),
        _about_section(record, planned=bool(len(hoods))),
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
        f"; no plan for {', '.join(failed)} (see How the plan was found)." if failed else "."
    )
    measure = "residents" if scenario.pop.measure == "residents" else "registered patients"
    centre = (
        "served by one hub (a site from the hubs file)"
        if _hub_centres(plan) or (not solved and plan.dataset.hubs is not None)
        else "organised around a centre LSOA (no hubs file was given)"
    )
    return f"""# Proposed neighbourhoods: {_text(scenario.name)}

**{k:,} neighbourhoods** in **{solved} of {planned} places**, covering **{residents:,} residents**. {verified}

Each neighbourhood is a contiguous group of LSOAs inside one place (borough), with between
{scenario.pop.min:,} and {scenario.pop.max:,} {measure}, {centre}. Alignment with today's Primary Care
Networks (PCNs) is measured on registered patients: a PCN's *home* is the neighbourhood where most of its patients
live, and its *coterminosity* is the share of its patients living there."""


def _has_baseline(plan: Plan) -> bool:
    """Whether there is a baseline map to compare with (a baseline file, or registrations with PCNs)."""
    return bool(plan.dataset.units["baseline"].notna().any())


def _hub_centres(plan: Plan) -> bool:
    """Whether neighbourhoods are served by hubs from the hubs file (else by centre LSOAs)."""
    return bool(len(plan.neighbourhoods)) and bool((plan.neighbourhoods["centre_kind"] == "hub").all())


def _notes(notes: Sequence[str]) -> str:
    return "> **Note.** " + "\n>\n> ".join(_text(note) for note in notes)


def _places_section(plan: Plan, record: dict[str, Any], places: pd.DataFrame) -> str:
    within = plan.dataset.scenario.access.within_km
    by_code = places.set_index(C.PLACE_CODE) if len(places) else pd.DataFrame()
    rows = []
    for entry in record["places"]:
        code = entry["place_code"]
        if code in by_code.index:
            row = by_code.loc[code]
            rows.append(
                [
                    _code(code),
                    _text(entry["place_name"]),
                    entry["status"],
                    _int(row["neighbourhoods"]),
                    _int(row["population"]),
                    f"{_int(row['smallest'])} - {_int(row['largest'])}",
                    _km(row["mean_distance_km"]),
                    _pct(row["share_within_km"]),
                    _pct(row["self_containment"]),
                    f"{_int(row['pcns_aligned'])} of {_int(row['pcns'])}" if row["pcns"] else "-",
                    _pct(row["median_coterminosity"]),
                    _int(row["practices_to_realign"]),
                    _int(row["patients_involved"]),
                    _int(row["residents_moved"]) if _has_baseline(plan) else "-",
                ]
            )
        else:
            rows.append([_code(code), _text(entry["place_name"]), f"**{entry['status']}**"] + ["-"] * 11)
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
                f"{_int(places['pcns_aligned'].sum())} of {_int(places['pcns'].sum())}"
                if places["pcns"].sum()
                else "-",
                "",
                _int(places["practices_to_realign"].sum()),
                _int(places["patients_involved"].sum()),
                _int(places["residents_moved"].sum()) if _has_baseline(plan) else "-",
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
            "PCNs aligned",
            "Median coterminosity",
            "Practices to realign",
            "Patients involved",
            "Residents moved",
        ],
        rows,
        right=(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
    )
    return f"""## Headline figures per place

{table}

*Smallest - largest*: the bounded population of the smallest and largest neighbourhood. *Self-containment*: share of
registered residents whose practice is sited in their own neighbourhood. *PCNs aligned*: PCNs homed in the place
with at least {ALIGNED_SHARE:.0%} of their patients in their home neighbourhood. *Residents moved*: residents of
LSOAs that leave the neighbourhood holding most of their baseline unit (see Changes)."""


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
    counts = pcns["status"].value_counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in ("aligned", "split", "cross-borough") if s in counts)
    ordered = pcns.sort_values(["home_neighbourhood", C.PCN_CODE], na_position="last", kind="stable")
    rows = [
        [
            _code(row[C.PCN_CODE]),
            _text(row[C.PCN_NAME]),
            _int(len(str(row["practices"]).split(";")) if row["practices"] else 0),
            _int(row["registered"]),
            _code(row["home_neighbourhood"]),
            _pct(row["coterminosity"]),
            _text(row["status"]),
            _text(row["size_band"]),
            _text(row["neighbourhoods"]),
        ]
        for _, row in ordered.iterrows()
    ]
    table = _table(
        [
            "PCN",
            "Name",
            "Practices",
            "Registered",
            "Home",
            "Coterminosity",
            "Status",
            "List size vs bounds",
            f"Neighbourhoods holding >= {LISTED_SHARE:.0%} of its patients",
        ],
        rows,
        right=(2, 3, 5),
    )
    return f"""## PCNs

{len(pcns)} PCNs: {summary}. *Aligned*: at least {ALIGNED_SHARE:.0%} of its registered patients live in its home
neighbourhood; *cross-borough*: more than {1 - ALIGNED_SHARE:.0%} live outside the home neighbourhood's place;
*split*: otherwise.

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
    if changes.empty:
        return ""
    if not _has_baseline(plan):
        return (
            "## Changes against the baseline\n\nNo baseline: give `inputs.baseline` (the current map) or the "
            "registrations and PCN membership (today's PCN map is then the baseline)."
        )
    scenario = plan.dataset.scenario
    if scenario.inputs.baseline is not None:
        baseline = f"the current map in `{scenario.inputs.baseline.path.name}`"
    else:
        baseline = "today's PCN map (each LSOA belongs to the PCN with most registered residents there)"
    counts = changes["change"].value_counts()
    summary = ", ".join(f"{int(counts.get(code, 0))} {name} ({code})" for code, name in CHANGE_CODES.items())
    rows = [
        [
            _code(row[C.NEIGHBOURHOOD]),
            row["change"],
            _text(row["baseline_units"].replace(";", ", ")),
            _int(row["residents_moved"]),
        ]
        for _, row in changes.iterrows()
    ]
    table = _table(
        ["Neighbourhood", "Change", "Baseline units it draws on", "Residents moved"], rows, right=(3,)
    )
    moved = int(places["residents_moved"].sum()) if len(places) else 0
    return f"""## Changes against the baseline

Baseline: {baseline}. Neighbourhoods: {summary}; {moved:,} residents live in LSOAs that move away from the
neighbourhood holding most of their baseline unit. Codes (ONS style): **U** unchanged, exactly one baseline unit;
**S** split, a part of one baseline unit; **M** merged, exactly two or more whole baseline units; **X** complex,
anything else.

{table}"""


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
    return f"""## How the plan was found

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
    return f"Proposed neighbourhoods: {plan.dataset.scenario.name}"


def map_subtitle(plan: Plan, record: dict[str, Any], places: pd.DataFrame) -> str:
    """One line under the map titles: counts (from :func:`summarise_places`) and the bounds."""
    scenario = plan.dataset.scenario
    k = int(places["neighbourhoods"].sum()) if len(places) else 0
    residents = int(places["population"].sum()) if len(places) else 0
    return (
        f"{k:,} neighbourhoods in {len(places)} of {len(record['places'])} places, {residents:,} residents; "
        f"{scenario.pop.min:,}-{scenario.pop.max:,} {scenario.pop.measure} per neighbourhood"
    )
