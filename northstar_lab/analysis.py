"""From loaded inputs to a ranking: the one path the CLI, the app and re-validation share.

`analyse` aggregates the event log in its engine, derives outcomes (METHODS §1), builds
candidates (§2) and ranks them (§3–5). It takes plain values so that a notebook can do exactly
what the app does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .candidates import (
    Candidate,
    at_least_candidate,
    column_candidates,
    event_candidates,
    select_candidates,
)
from .data import aggregate
from .data.aggregate import GAPS_FOR_SENSITIVITY, UserFrame
from .data.events import DAY, as_of_end_sec
from .data.load import LoadedData, input_labels, resolve_revenue_event
from .errors import InputError
from .outcomes import (
    Outcomes,
    churn_from_activity,
    churn_from_cancellation,
    churn_from_duration,
    churn_from_last_active,
    landmark_outcomes,
    looks_monthly,
    revenue_per_observed_month,
)
from .ranking.population import split_users
from .ranking.rank import rank_candidates
from .results import RankingResult
from .settings import AnalysisSettings

SENSITIVITY_MAX_USERS = 200_000


Progress = Callable[[str, float], None]


@dataclass
class Analysis:
    """Everything behind one ranking, kept in memory for charts and the decision snapshot."""

    frame: pd.DataFrame
    outcomes: Outcomes
    candidates: list[Candidate]
    ranking: RankingResult
    settings: AnalysisSettings
    as_of: dt.date
    train: np.ndarray  # bool per frame row: the half thresholds were chosen on (METHODS §4)

    def candidate(self, key: str) -> Candidate:
        for c in self.candidates:
            if key in (c.key, c.name):
                return c
        raise KeyError(key)


def analyse(
    loaded: LoadedData, settings: AnalysisSettings, progress: Progress | None = None
) -> Analysis:
    """Aggregate, derive outcomes, build candidates and rank them (see module docstring)."""
    say = progress or (lambda _m, _f: None)
    revenue_event = resolve_revenue_event(loaded, settings)
    frame, uf, as_of, dropped = _user_level_frame(loaded, settings, revenue_event, say)
    churn = _churn(frame, loaded, settings)
    outcomes = _outcomes(frame, churn, loaded, settings, revenue_event)
    outcomes.notes += (uf.warnings if uf else []) + loaded.warnings
    if dropped.get("users_signed_up_after_as_of"):
        outcomes.notes.append(
            f"{dropped['users_signed_up_after_as_of']:,} users signed up after the as-of date "
            f"{as_of} and are left out."
        )
    cands = _candidates(frame, uf, loaded, settings)

    def ranking_progress(msg: str, frac: float) -> None:
        say(msg, 0.3 + 0.6 * frac)

    info = _data_info(loaded, uf, as_of, frame)
    signup_sec = frame["signup_sec"].to_numpy() if "signup_sec" in frame else None
    train = split_users(len(frame), settings.seed, signup_sec, settings.threshold_split)
    ranking = _rank_with_label(
        loaded,
        cands,
        outcomes,
        settings=settings,
        train=train,
        observed_days=churn[0],
        data_info=info,
        progress=ranking_progress,
    )
    cands = cands + threshold_candidates(cands, ranking, settings.window_days)
    ranking.excluded.update({k: v for k, v in (uf.counts if uf else dropped).items() if v})
    if "events" in loaded.fingerprint and loaded.check is not None:
        loaded.fingerprint["events"]["users"] = loaded.check.n_users
    ranking.warnings = list(dict.fromkeys(outcomes.notes + ranking.warnings))
    if uf is not None and uf.population is not None and not _explicit_churn(loaded):
        say("Counting the whole population in the engine", 0.91)
        ranking.data["population"] = population_figures(uf, ranking, settings)
    if uf is not None and not _explicit_churn(loaded):
        say("Checking sensitivity to the inactivity gap", 0.93)
        ranking.gap_sensitivity = gap_sensitivity(frame, cands, loaded, settings, revenue_event)
    say("Done", 1.0)
    return Analysis(frame, outcomes, cands, ranking, settings, as_of, train)


def _user_level_frame(loaded, settings, revenue_event, say):
    gaps = tuple(sorted({settings.inactivity_days, *GAPS_FOR_SENSITIVITY}))
    users = loaded.users
    if loaded.events is not None:

        def agg_progress(msg: str) -> None:
            say(msg, 0.1)

        signups = None
        if users is not None and "signup_sec" in users.frame:
            signups = users.frame[["user_id", "signup_sec"]]
        uf = aggregate.per_user_frame(
            loaded.events,
            loaded.check,
            window_days=settings.window_days,
            horizon_days=settings.horizon_days,
            gaps=gaps,
            as_of=settings.as_of,
            revenue_event=revenue_event,
            users=signups,
            max_users=settings.max_users,
            drop_duplicates=settings.drop_duplicate_events,
            progress=agg_progress,
        )
        frame = uf.data
        if users is not None:
            extra = users.frame.drop(columns=["signup_sec"], errors="ignore")
            before = len(frame)
            frame = frame.merge(extra, on="user_id", how="inner" if signups is None else "left")
            if signups is None and len(frame) < before:
                uf.counts["users_not_in_users_table"] = before - len(frame)
        frame["a_end_sec"] = float(as_of_end_sec(uf.as_of))
        return frame, uf, uf.as_of, {}
    frame = users.frame.copy()
    as_of = settings.as_of or _users_as_of(frame)
    dropped = {}
    if "signup_sec" in frame:
        a_end = as_of_end_sec(as_of)
        frame["a_end_sec"] = float(a_end)
        frame["a_days"] = np.floor((a_end - frame["signup_sec"]) / DAY)
        late = frame["a_days"] < 0
        if late.any():
            dropped["users_signed_up_after_as_of"] = int(late.sum())
            frame = frame[~late].reset_index(drop=True)
    return frame, None, as_of, dropped


def _users_as_of(frame: pd.DataFrame) -> dt.date:
    cols = [c for c in ("signup_sec", "cancel_sec", "last_active_sec") if c in frame]
    if not cols:
        return dt.date.today()
    latest = np.nanmax(frame[cols].to_numpy(float))
    return pd.Timestamp(latest, unit="s").date()


def _explicit_churn(loaded: LoadedData) -> bool:
    u = loaded.users
    return bool(u and (u.columns.cancel or (u.columns.duration and u.columns.churn)))


def _churn(frame, loaded: LoadedData, settings, gap: int | None = None):
    """(D, E, source) by the best churn information available (see UserColumns)."""
    gap = gap or settings.inactivity_days
    u = loaded.users
    if u is not None and u.columns.cancel and "signup_sec" in frame:
        return churn_from_cancellation(frame, frame["a_end_sec"].to_numpy(float))
    if u is not None and u.columns.duration and u.columns.churn:
        return churn_from_duration(frame)
    if loaded.events is not None:
        return churn_from_activity(frame, gap)
    if u is not None and u.columns.last_active and "signup_sec" in frame:
        return churn_from_last_active(frame, gap)
    raise InputError(
        f"{u.label if u else 'users'}: cannot tell who churned. Give a cancellation date column "
        "(with a signup column), a duration column with a churn flag, a last-active date, or an "
        "event log."
    )


def _outcomes(frame, churn, loaded, settings, revenue_event) -> Outcomes:
    d, e, source = churn
    revenue = rev_source = None
    needs_follow_up = True
    u = loaded.users
    rev_col = settings.revenue_col or (u.columns.revenue if u and not revenue_event else None)
    if revenue_event:
        revenue = frame["revenue_h"].to_numpy(float)
        rev_source = (
            f"sum of '{revenue_event}' values in days {settings.window_days}–"
            f"{settings.window_days + settings.horizon_days} after signup"
        )
    elif rev_col:
        if u is None or rev_col not in (u.columns.revenue, *u.frame.columns):
            raise InputError(f"Revenue column '{rev_col}' is not in the users table.")
        values = frame["revenue" if rev_col == u.columns.revenue else rev_col].to_numpy(float)
        needs_follow_up = False
        if looks_monthly(rev_col):
            revenue, rev_source = values, f"'{rev_col}' from the users table, as given"
        else:
            revenue = revenue_per_observed_month(values, d)
            rev_source = (
                f"'{rev_col}' per observed month (a lifetime total grows with tenure, so it is "
                "divided by months observed)"
            )
    return landmark_outcomes(
        frame,
        d,
        e,
        source,
        window_days=settings.window_days,
        horizon_days=settings.horizon_days,
        revenue=revenue,
        revenue_source=rev_source,
        revenue_needs_follow_up=needs_follow_up,
    )


def _candidates(frame, uf: UserFrame | None, loaded, settings) -> list[Candidate]:
    cands: list[Candidate] = []
    if uf is not None:
        cands += event_candidates(frame, uf.event_columns, settings.window_days)
    if loaded.users is not None:
        cands += column_candidates(frame, loaded.users.columns.behaviour)
    cands = select_candidates(cands, settings.candidates)
    if settings.candidates:
        constant = [c.name for c in cands if np.nanmax(c.raw) == np.nanmin(c.raw)]
        if constant:
            where = input_labels(loaded)
            noun = "Candidate" if len(constant) == 1 else "Candidates"
            verb = "has" if len(constant) == 1 else "have"
            raise InputError(
                f"{where}: {noun} {', '.join(repr(c) for c in constant)} {verb} the same value "
                "for every user, so it cannot predict anything. Remove it from --candidates."
            )
    if not cands:
        raise InputError(
            "No candidate metrics: the event log has no event types and the users table no "
            "numeric behaviour columns."
        )
    return cands


def threshold_candidates(cands, ranking: RankingResult, window_days: int) -> list[Candidate]:
    """The '≥ k' candidates the ranking built, so charts can look them up by key."""
    by_key = {c.key: c for c in cands}
    out = []
    for r in ranking.candidates:
        base = by_key.get(r.key.removeprefix("atleast:"))
        if r.kind == "at_least" and base is not None and r.threshold is not None:
            out.append(at_least_candidate(base, r.threshold, window_days))
    return out


def _data_info(loaded: LoadedData, uf: UserFrame | None, as_of, frame) -> dict:
    info = {"as_of": as_of.isoformat(), "fingerprint": loaded.fingerprint, "n_frame": len(frame)}
    if uf is not None:
        info["sample_fraction"] = uf.sample_fraction
        info["event_types"] = len(uf.event_counts)
        info["duplicate_events"] = uf.duplicates
    if "signup_sec" in frame:
        s = frame["signup_sec"].dropna()
        if len(s):
            info["signup_min"] = pd.Timestamp(s.min(), unit="s").date().isoformat()
            info["signup_max"] = pd.Timestamp(s.max(), unit="s").date().isoformat()
    return info


def _rank_with_label(loaded: LoadedData, *args, **kw) -> RankingResult:
    """rank_candidates, with data-wide problems prefixed by the input files' names."""
    try:
        return rank_candidates(*args, **kw)
    except InputError as exc:
        raise InputError(f"{input_labels(loaded)}: {exc}") from exc


def population_figures(uf: UserFrame, ranking: RankingResult, settings, top: int = 3) -> dict:
    """Counts, retention at the horizon and the leaders' Cox and C on *all* users, when the
    statistics used a sample.

    Only (group, T, E, n) counts and (T, value, E, n) survival cells leave the engine
    (`aggregate.population_retention`, `data.cells`); Kaplan–Meier, Cox and C are computed
    from them in Python with the ranking's formulas.
    """
    from .data import cells as engine_cells
    from .stats.km import km_curve

    spec = dict(gap=settings.inactivity_days, window_days=settings.window_days,
                horizon_days=settings.horizon_days)  # fmt: skip
    counts = aggregate.population_retention(uf.population, **spec)
    out = {
        "sample_fraction": uf.sample_fraction,
        "n_users": int(counts["n"].sum()),
        "n_churned": int(counts.loc[counts["E"] == 1, "n"].sum()),
        "retention_at_horizon": _km_at(km_curve, counts, settings.horizon_days),
        "by_threshold": [],
        "statistics": [],
    }
    column_of = population_columns(uf)
    rows = engine_cells.landmark_rows(
        uf.population, gap=settings.inactivity_days, window_days=settings.window_days
    ).cache()  # one per-user table in the engine; each candidate's cells are one group-by of it
    for c in ranking.candidates[:top]:
        col = column_of.get(c.key)
        if col is None:
            continue
        cells = engine_cells.engine_cells(rows, col)
        figures = engine_cells.engine_figures(cells, col, settings.horizon_days)
        out["statistics"].append({"key": c.key, **figures.to_dict()})
        if c.threshold is None:
            continue
        grouped = aggregate.population_retention(uf.population, column=col, k=c.threshold, **spec)
        out["by_threshold"].append(
            {
                "key": c.key,
                "k": c.threshold,
                "n_above": int(grouped.loc[grouped["group"], "n"].sum()),
                "retention_above": _km_at(
                    km_curve, grouped[grouped["group"]], settings.horizon_days
                ),
                "retention_below": _km_at(
                    km_curve, grouped[~grouped["group"]], settings.horizon_days
                ),
            }
        )
    rows.release()
    return out


def population_columns(uf: UserFrame) -> dict[str, str]:
    """Candidate key → column of the engine's per-user table, for count candidates."""
    out = {f"{kind}:{name}": col for col, name in uf.event_columns.items()
           for kind in ("count", "days") if col.startswith(kind)}  # fmt: skip
    for col in ("active_days", "total_events", "distinct_events"):
        out[f"baseline:{col}"] = col
    return out


def _km_at(km_curve, counts: pd.DataFrame, t: float) -> float | None:
    if counts.empty:
        return None
    km = km_curve(counts["T"].to_numpy(float), counts["E"].to_numpy(float), counts["n"].to_numpy())
    return float(km.loc[km["time"] <= t, "survival"].iloc[-1])


def gap_sensitivity(frame, cands, loaded, settings, revenue_event) -> list[dict]:
    """How the top of the ranking moves for inactivity gaps of 7, 14 and 28 days (METHODS §1).

    Effect sizes only (no thresholds or bootstrap). Above 200,000 users it runs on a fixed
    random 200,000-user subsample: the question is the ordering, which that many users settle.
    """
    if len(frame) > SENSITIVITY_MAX_USERS:
        rows = np.sort(
            np.random.default_rng(settings.seed).choice(len(frame), SENSITIVITY_MAX_USERS, False)
        )
        frame = frame.iloc[rows].reset_index(drop=True)
        cands = [dataclasses.replace(c, raw=c.raw[rows]) for c in cands]
    out = []
    for g in GAPS_FOR_SENSITIVITY:
        churn = _churn(frame, loaded, settings, gap=g)
        try:
            oc = _outcomes(frame, churn, loaded, settings, revenue_event)
            quick = rank_candidates(cands, oc, settings=settings, quick=True)
        except InputError as exc:
            out.append({"gap_days": g, "error": str(exc)})
            continue
        out.append(
            {
                "gap_days": g,
                "n_users": oc.n_users,
                "n_churned": oc.n_churned,
                "top": [c.key for c in quick.candidates[:5]],
                "top_names": [c.name for c in quick.candidates[:5]],
            }
        )
    return out
