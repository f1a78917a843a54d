"""The leaderboard as people read it: filtered, cut to the top, guardrails apart.

With 40+ candidates a table of everything is unreadable on a projector. `leaderboard` applies
one `BoardFilter` (which events, which kinds, hide noise / near-duplicates / lifetime totals,
how many rows) and splits off guardrails — candidates where more goes with churn, to watch and
never to grow (METHODS §5.1) — into their own table. Ranks are the ranking's own: filtering
never renumbers candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..candidates import Kind
from ..results import CandidateResult, RankingResult
from ..text import num

ALL_EVENTS = "(all events: baselines)"
KIND_WORDS = {
    Kind.COUNT.value: "count in the window",
    Kind.ACTIVE_DAYS.value: "active days in the window",
    Kind.AT_LEAST.value: "reached a threshold (≥ k)",
    Kind.BASELINE.value: "baseline (all events)",
    Kind.COLUMN.value: "users-table column",
}
COLUMNS = [
    "rank",
    "candidate",
    "name",
    "score",
    "p_first",
    "threshold",
    "flags",
    "hazard_ratio",
    "c_index",
    "revenue_rho",
    "q_value",
    "kind",
    "key",
]
GUARDRAIL_NOTE = "More goes with churn: watch it, don't grow it."


@dataclass(frozen=True)
class BoardFilter:
    """What the leaderboard shows. Empty `events`/`kinds` mean all; `top` None means all rows."""

    events: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    hide_noise: bool = False
    hide_duplicates: bool = False
    hide_lifetime: bool = False
    top: int | None = 10


@dataclass
class Board:
    """The filtered leaderboard (`table`), the guardrails (`guardrails`, same columns) and how
    many candidates matched the filter before the top-N cut (`n_matching`) of `n_total`."""

    table: pd.DataFrame
    guardrails: pd.DataFrame
    n_matching: int
    n_total: int


def source_of(c: CandidateResult) -> str:
    """The event or users-table column a candidate counts (baselines: all events)."""
    return c.event or c.column or ALL_EVENTS


def board_options(ranking: RankingResult) -> tuple[list[str], list[str]]:
    """(events, kinds) present in the ranking, for the filter's choices (kinds as values of
    `Kind`, in `KIND_WORDS` order)."""
    events = sorted({source_of(c) for c in ranking.candidates}, key=str.casefold)
    present = {str(getattr(c.kind, "value", c.kind)) for c in ranking.candidates}
    return events, [k for k in KIND_WORDS if k in present]


def _kind(c: CandidateResult) -> str:
    return str(getattr(c.kind, "value", c.kind))


def _keep(c: CandidateResult, f: BoardFilter) -> bool:
    if f.events and source_of(c) not in f.events:
        return False
    if f.kinds and _kind(c) not in f.kinds:
        return False
    if f.hide_noise and c.noise_level:
        return False
    return not (f.hide_lifetime and c.is_lifetime_total)


def _best_of_each_group(cands: list[CandidateResult]) -> list[CandidateResult]:
    """The candidates with only the first (best-ranked) member of each redundancy group."""
    seen: set[int] = set()
    out = []
    for c in cands:
        if c.redundancy_group is not None:
            if c.redundancy_group in seen:
                continue
            seen.add(c.redundancy_group)
        out.append(c)
    return out


def _row(c: CandidateResult, window_days: int) -> dict:
    return {
        "rank": c.rank,
        "candidate": c.name.replace(f" in first {window_days} days", ""),
        "name": c.name,
        "score": c.score,
        "p_first": c.p_first,
        "threshold": c.threshold,
        "flags": " · ".join(c.flags),
        "hazard_ratio": f"{num(c.hazard_ratio, '.2f')} "
        f"({num(c.hr_ci_low, '.2f')}–{num(c.hr_ci_high, '.2f')})",
        "c_index": c.c_index,
        "revenue_rho": c.revenue_rho,
        "q_value": c.q_value,
        "kind": KIND_WORDS.get(_kind(c), _kind(c)),
        "key": c.key,
    }


def leaderboard(ranking: RankingResult, f: BoardFilter = BoardFilter()) -> Board:
    """The leaderboard under filter `f` (see the module docstring), rows in rank order.

    `candidate` is the name without the " in first W days" every candidate shares (the table's
    heading says it once); `name` is the full name.

    Near-duplicates: of each redundancy group, only its best-ranked member among the rows the
    other filters keep stays. Guardrails are never in `table`; they are filtered by the same
    rules but not cut to the top.
    """
    kept = [c for c in ranking.candidates if _keep(c, f)]
    main = [c for c in kept if not c.is_guardrail]
    guards = [c for c in kept if c.is_guardrail]
    if f.hide_duplicates:
        main, guards = _best_of_each_group(main), _best_of_each_group(guards)
    shown = main if f.top is None else main[: f.top]
    w = ranking.settings.window_days
    return Board(
        table=pd.DataFrame([_row(c, w) for c in shown], columns=COLUMNS),
        guardrails=pd.DataFrame([_row(c, w) for c in guards], columns=COLUMNS),
        n_matching=len(main),
        n_total=sum(not c.is_guardrail for c in ranking.candidates),
    )


def gap_table(ranking: RankingResult, top: int = 5) -> pd.DataFrame:
    """How the top of the ranking moves with the inactivity gap that defines churn.

    One row per place (1…top); one column for the ranking on screen ("g = 30 days (this
    ranking)") and one per re-run gap ("g = 7 days"), each cell the candidate's name; a run
    that could not be computed says so in its column. Empty without gap re-runs (explicit churn
    dates, users tables).
    """
    if not ranking.gap_sensitivity:
        return pd.DataFrame()
    g = ranking.settings.inactivity_days
    cols = {f"g = {g} days (this ranking)": [c.name for c in ranking.candidates[:top]]}
    for run in ranking.gap_sensitivity:
        label = f"g = {run.gap_days} days"
        if run.error:
            cols[label] = [f"not computed: {run.error}"] + [""] * (top - 1)
        else:
            cols[label] = list(run.top_names[:top])
    rows = max(len(v) for v in cols.values())
    frame = pd.DataFrame({k: v + [""] * (rows - len(v)) for k, v in cols.items()})
    frame.insert(0, "place", range(1, rows + 1))
    return frame
