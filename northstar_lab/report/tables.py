"""The tables of a rationale page, as words: the numbers of a candidate, guardrails, how the top
five move with the inactivity gap, then vs now of a re-validation, the workshop rubric, the
recorded settings and data fingerprint. Each returns a `Table` of plain strings; renderers only
lay it out.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..decisions.model import ComparisonRow, Standing
from ..evidence.tables import short_name
from ..results import CandidateResult, GapRun, RankingResult, jsonable, known_fields
from ..settings import AnalysisSettings
from ..text import num

#: At most this many rows of a chart's data are shown when the chart cannot be drawn.
FALLBACK_ROWS = 40
TOP = 5
GUARDRAIL_ADVICE = "More of it goes with more churn: watch it, don't grow it."


@dataclass(frozen=True)
class Table:
    """A header, rows of strings, what to say when there are no rows and a note under it.

    numeric: indexes of columns that hold numbers (right-aligned, never wrapped).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = ""
    note: str = ""
    numeric: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))


def table(header, rows, empty: str = "", note: str = "", numeric=()) -> Table:
    return Table(
        tuple(header), tuple(tuple(str(v) for v in r) for r in rows), empty, note, tuple(numeric)
    )


# --------------------------------------------------------------------------------------------
# Numbers and words
# --------------------------------------------------------------------------------------------


def ordinal(n: int | None) -> str:
    """'1st', '2nd', '3rd', '11th', '22nd'; '—' for no rank."""
    if not n:
        return "—"
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def p_text(p: float | None) -> str:
    """A p- or q-value for people: '0.031', '< 0.0001' (not '3.5e-195'), '—' when missing."""
    text = num(p, ".2g")
    return "< 0.0001" if text != "—" and float(p) < 1e-4 else text


def hr_text(c: CandidateResult) -> str:
    """'0.62 [0.57–0.68]': hazard ratio per SD with its 95% CI, '—' without one."""
    hr = num(c.hazard_ratio, ".2f")
    if hr == "—":
        return hr
    return f"{hr} [{num(c.hr_ci_low, '.2f')}–{num(c.hr_ci_high, '.2f')}]"


#: The key numbers of a candidate, in the order every comparison shows them.
NUMBER_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Score", lambda c: num(c.score, ".3f")),
    ("C", lambda c: num(c.c_index, ".3f")),
    ("HR per SD [95% CI]", hr_text),
    ("Revenue ρ", lambda c: num(c.revenue_rho, "+.2f")),
    ("q", lambda c: p_text(c.q_value)),
    ("P(first)", lambda c: num(c.p_first, ".0%")),
)


def numbers(c: CandidateResult) -> tuple[str, ...]:
    return tuple(f(c) for _, f in NUMBER_COLUMNS)


def standing(c: CandidateResult, n_ranked: int) -> str:
    """'Ranked 1st of 43 · threshold ≥ 6 · flags: dup 1' — where a candidate stood."""
    parts = [f"Ranked {ordinal(c.rank)} of {n_ranked}" if c.rank else "Not ranked"]
    if c.tied_with_leader is True and c.rank != 1:
        parts.append("tied with the leader")
    if c.threshold is not None and "≥" not in c.name:
        parts.append(f"threshold ≥ {num(c.threshold, 'g')}")
    if c.is_guardrail:
        parts.append("guardrail")
    if c.flags:
        parts.append("flags: " + ", ".join(c.flags))
    return " · ".join(parts)


# --------------------------------------------------------------------------------------------
# Guardrails and the inactivity gap
# --------------------------------------------------------------------------------------------


def guardrail_table(ranking: RankingResult) -> Table:
    """Counter-metrics: candidates where more goes with more churn (`is_guardrail`)."""
    rows = [
        (c.name, hr_text(c), num(c.c_index, ".3f"), p_text(c.q_value))
        for c in ranking.candidates
        if c.is_guardrail
    ]
    return table(
        ("Counter-metric", "HR per SD [95% CI]", "C", "q"),
        rows,
        empty="No candidate goes with more churn.",
        note=GUARDRAIL_ADVICE if rows else "",
        numeric=(1, 2, 3),
    )


def gap_table(ranking: RankingResult, chosen_key: str) -> Table:
    """The top five as decided and with inactivity gaps of 7, 14 and 28 days, with each
    candidate's move against the decided order, and a sentence on the chosen metric. Names
    without the ' in first W days' they all share."""
    runs = ranking.gap_sensitivity
    if not runs:
        return table((), (), empty="Not measured for this record.")
    decided = [c.key for c in ranking.candidates[:TOP]]
    w = ranking.settings.window_days
    names = {c.key: short_name(c.name, w) for c in ranking.candidates}
    header = ["", f"As decided ({ranking.settings.inactivity_days}-day gap)"]
    header += [f"{run.gap_days}-day gap" for run in runs]
    rows = []
    for i in range(TOP):
        cells = [ordinal(i + 1), names[decided[i]] if i < len(decided) else ""]
        cells += [_gap_cell(run, i, decided, names) for run in runs]
        rows.append(cells)
    rows.append(["Churned", f"{ranking.n_churned:,} of {ranking.n_users:,}"] + [
        f"{run.n_churned:,} of {run.n_users:,}" if run.error is None else "—" for run in runs
    ])  # fmt: skip
    return table(header, rows, note=_chosen_across_gaps(runs, chosen_key, names))


def _gap_cell(run: GapRun, i: int, decided: list[str], names: Mapping[str, str]) -> str:
    if run.error is not None:
        return f"Could not run: {run.error}" if i == 0 else ""
    if i >= len(run.top):
        return ""
    key, name = run.top[i], names.get(run.top[i], run.top_names[i])
    if key not in decided:
        return f"{name} (new in the top {TOP})"
    was = decided.index(key)
    if was == i:
        return name
    return f"{name} ({'↑' if was > i else '↓'} from {ordinal(was + 1)})"


def _chosen_across_gaps(runs: Sequence[GapRun], chosen_key: str, names: Mapping) -> str:
    name = names.get(chosen_key, chosen_key)
    places = [
        (run.gap_days, ordinal(run.top.index(chosen_key) + 1) if chosen_key in run.top else None)
        for run in runs
        if run.error is None
    ]
    if not places:
        return ""
    if all(p == "1st" for _, p in places):
        return f"The chosen metric, {name}, is 1st at every gap."
    said = ", ".join(f"{p or f'not in the top {TOP}'} at {g} days" for g, p in places)
    return f"The chosen metric, {name}: {said}. ↑/↓: moved up/down against the decided order."


# --------------------------------------------------------------------------------------------
# Re-validation: then vs now
# --------------------------------------------------------------------------------------------

#: (column, field, how it is written) of the then-vs-now table.
THEN_NOW = (
    ("Score", "score", lambda x: num(x, ".3f")),
    ("C", "c_index", lambda x: num(x, ".3f")),
    ("HR per SD", "hazard_ratio", lambda x: num(x, ".2f")),
    ("Revenue ρ", "revenue_rho", lambda x: num(x, "+.2f")),
    ("P(first)", "p_first", lambda x: num(x, ".0%")),
)
ROLE_WORDS = {
    "chosen": "chosen",
    "twin": "near-duplicate of the chosen metric",
    "rejected": "rejected",
    "new leader": "new leader",
    "then leader": "leader at the decision",
    "alternative": "alternative",
}


def then_now_table(comparison: Sequence[ComparisonRow], uncertainty: str = "") -> Table:
    """Then → now for every compared candidate, rounded, with an arrow where it changed, and
    the re-validation's finding about it in words."""
    rows = []
    for row in comparison:
        cells = [row.name or row.key, ROLE_WORDS.get(row.role, row.role),
                 _rank_move(row.then, row.now)]  # fmt: skip
        for _, field, write in THEN_NOW:
            cells.append(_move(_value(row.then, field), _value(row.now, field), write))
        rows.append([*cells, row.finding])
    note = "Then → now. ↑/↓: the figure rose/fell; rank ↑: moved up."
    return table(
        ("Metric", "Role", "Rank", *(label for label, _, _ in THEN_NOW), "Finding"),
        rows,
        empty="No comparison was stored.",
        note=f"{note} {uncertainty}".strip(),
        numeric=tuple(range(2, 3 + len(THEN_NOW))),
    )


def _value(side: Standing | None, field: str):
    return None if side is None else getattr(side, field)


def _move(then, now, write) -> str:
    a, b = write(then), write(now)
    if a == b:
        return a
    if "—" in (a, b) or "<" in a + b:
        return f"{a} → {b}"
    return f"{a} → {b} {'↑' if float(now) > float(then) else '↓'}"


def _rank_move(then: Standing | None, now: Standing | None) -> str:
    a = ordinal(then.rank if then else None)
    b = ordinal(now.rank if now else None)
    if a == b or "—" in (a, b):
        return a if a == b else f"{a} → {b}"
    return f"{a} → {b} {'↑' if now.rank < then.rank else '↓'}"


# --------------------------------------------------------------------------------------------
# The workshop rubric, settings and fingerprint
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricRecord:
    """The workshop's scores as `decisions.workshop.evidence_snapshot` stores them: one row of
    1–5 scores per candidate, the combined ordering, the weights. Other shapes (older or
    hand-made records) read as no scores."""

    scores: tuple[Mapping[str, Any], ...] = ()
    ordering: tuple[Mapping[str, Any], ...] = ()
    criteria_weights: Mapping[str, float] = dataclasses.field(default_factory=dict)
    evidence_weight: float = 0.5

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RubricRecord:
        kw = known_fields(cls, dict(d))
        rows = {k: tuple(r for r in kw.get(k, ()) if isinstance(r, Mapping) and "key" in r)
                for k in ("scores", "ordering")}  # fmt: skip
        return cls(**{**kw, **rows})


def rubric_table(rubric: Mapping[str, Any]) -> Table | None:
    """The workshop's 1–5 scores and the combined ordering, best first, with the weights;
    None when the record holds no scores."""
    from ..decisions.workshop import CRITERIA

    r = RubricRecord.from_dict(rubric)
    combined = {o["key"]: o for o in r.ordering}
    if not r.scores:
        return None
    header = ["Candidate", *(label for label, _ in CRITERIA.values()), "Evidence", "Combined"]

    def cell(key: str, field: str) -> float | None:
        return combined.get(key, {}).get(field)

    order = sorted(r.scores, key=lambda s: -(cell(s["key"], "combined") or 0.0))
    rows = [
        [
            s.get("candidate", s["key"]),
            *(num(s.get(c), "g") for c in CRITERIA),
            num(cell(s["key"], "evidence"), ".2f"),
            num(cell(s["key"], "combined"), ".2f"),
        ]
        for s in order
    ]
    weights = r.criteria_weights
    w_text = ", ".join(f"{CRITERIA[k][0]} ×{v:g}" for k, v in weights.items() if k in CRITERIA)
    ev = float(r.evidence_weight)
    note = f"Scores 1–5. Combined = {ev:g}·evidence + {1 - ev:g}·rubric (weights: {w_text})."
    return table(header, rows, note=note, numeric=tuple(range(1, len(header))))


SETTING_WORDS = {
    "window_days": "Observation window (days after signup)",
    "inactivity_days": "Churn after this many silent days",
    "as_of": "Data as of",
    "horizon_days": "Horizon (days after the window)",
    "revenue_event": "Revenue event",
    "revenue_col": "Revenue column",
    "score_weights": "Score weights (retention, revenue)",
    "n_bootstrap": "Bootstrap resamples",
    "threshold_split": "Threshold split (train / held-out)",
    "candidates": "Candidates considered",
    "max_users": "Users analysed at most",
    "seed": "Random seed",
    "fixed_thresholds": "Thresholds held fixed",
    "include_revenue_event": "Revenue event also a candidate",
    "drop_duplicate_events": "Exact duplicate events counted once",
    "churn_event": "Churn is the event",
}
SETTING_DEFAULT_WORDS = {"as_of": "latest in the data", "candidates": "all", "revenue_event": "—",
                         "churn_event": "none: churn from inactivity"}  # fmt: skip


def settings_table(settings: AnalysisSettings) -> Table:
    """The recorded analysis settings in words, one row each."""
    rows = []
    for name, value in settings.to_dict().items():
        label = SETTING_WORDS.get(name, name.replace("_", " ").capitalize())
        if value in (None, [], ()):
            text = SETTING_DEFAULT_WORDS.get(name, "—")
        elif name == "seed":
            text = str(value)  # an identifier, not a quantity
        elif isinstance(value, list):
            text = ", ".join(
                " ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value
            )
        else:
            text = compact(value)
        rows.append((label, text))
    return table(("Setting", "Value"), rows)


def fingerprint_table(fingerprint: Mapping[str, Any]) -> Table:
    """The data fingerprint, nested entries flattened ('events · rows')."""
    rows = [(" · ".join(path), compact(v)) for path, v in _flatten(fingerprint, ())]
    return table(("Data", "Value"), rows, empty="No fingerprint recorded.")


def _flatten(value: Any, path: tuple[str, ...]):
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            yield from _flatten(v, (*path, str(k)))
    else:
        yield path or ("value",), value


def compact(value: Any) -> str:
    """A stored value as one line: numbers with separators, lists and dicts as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return num(value, ",.4g")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def rows_table(rows: Sequence[Mapping[str, Any]], limit: int = FALLBACK_ROWS) -> Table:
    """A chart's stored rows as a table (the first `limit`), for when it cannot be drawn."""
    rows = [r for r in rows if isinstance(r, Mapping)]
    cols = list(dict.fromkeys(k for r in rows for k in r))
    shown = [[compact(r.get(c)) for c in cols] for r in rows[:limit]]
    more = len(rows) - limit
    note = f"… {more} more rows in the record." if more > 0 else ""
    return table(cols, shown, note=note)
