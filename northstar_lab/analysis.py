"""From loaded inputs to a ranking: the one path the CLI, the app and re-validation share.

`analyse` aggregates the event log in its engine, derives outcomes (METHODS §1), builds
candidates (§2) and ranks them (§3–5). It takes plain values so that a notebook can do exactly
what the app does.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .candidates import (
    Candidate,
    Kind,
    at_least_candidate,
    column_candidates,
    event_candidates,
    select_candidates,
    thresholded_key,
)
from .data.calendar import DAY, as_of_end_sec
from .data.load import LoadedData, input_labels, resolve_revenue_event
from .data.proposals import LEFT_OUT, LEFT_OUT_MANY, event_names_the_outcome
from .data.users import duration_unit_of
from .errors import InputError
from .outcomes import (
    Outcomes,
    churn_from_activity,
    churn_from_cancellation,
    churn_from_duration,
    churn_from_last_active,
    landmark_outcomes,
    revenue_kind_by_name,
    revenue_per_observed_month,
)
from .ranking.flags import lifetime_total_verdict
from .ranking.population import split_users
from .ranking.rank import rank_candidates
from .results import DataInfo, GapRun, PopulationFigures, RankingResult, ThresholdPopulation
from .settings import AnalysisSettings
from .stats.km import GroupCurve
from .stats.tenure import tenure_evidence

if TYPE_CHECKING:  # the engine side (`data.aggregate`, `data.population`) is imported where an
    from .data.aggregate import UserFrame  # event log is aggregated: a users table needs no engine

SENSITIVITY_MAX_USERS = 200_000
GAPS_FOR_SENSITIVITY = (7, 14, 28)  # inactivity gaps (days) the ranking is also run with


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
    """Aggregate, derive outcomes, build candidates and rank them (see module docstring).

    Nothing given is changed (`loaded` may be cached and shared); the ranking is completed with
    whole-population figures and gap sensitivity by building a new result, not by patching one.
    """
    say = progress or (lambda _m, _f: None)
    settings.check_for_data(has_event_log=loaded.events is not None)
    revenue_event = resolve_revenue_event(loaded, settings)
    frame, uf, as_of, dropped = _user_level_frame(loaded, settings, revenue_event, say)
    churn = _churn(frame, loaded, settings)
    outcomes = _outcomes(frame, churn, loaded, settings, revenue_event)
    notes = outcomes.notes + (uf.warnings if uf else []) + loaded.warnings
    if dropped.get("users_signed_up_after_as_of"):
        notes.append(
            f"{dropped['users_signed_up_after_as_of']:,} users signed up after the as-of date "
            f"{as_of} and are left out."
        )
    cands = _candidates(frame, uf, loaded, settings, revenue_event)
    signup_sec = frame["signup_sec"].to_numpy() if "signup_sec" in frame else None
    train = split_users(len(frame), settings.seed, signup_sec, settings.threshold_split)
    ranking = _rank_with_label(
        loaded,
        cands,
        outcomes,
        settings=settings,
        train=train,
        observed_days=churn[0],
        data_info=_data_info(loaded, uf, as_of, frame),
        progress=lambda msg, frac: say(msg, 0.3 + 0.6 * frac),
    )
    activity = uf is not None and not _explicit_churn(loaded, settings)
    population = gaps = None
    if activity and uf.population is not None:
        say("Counting the whole population in the engine", 0.91)
        population = population_figures(uf, ranking, settings)
    if activity:
        say("Checking sensitivity to the inactivity gap", 0.93)
        lifetime = frozenset(c.key for c in ranking.lifetime_totals)
        gaps = gap_sensitivity(frame, cands, loaded, settings, revenue_event, lifetime)
    dropped_counts = uf.counts if uf else dropped
    ranking = dataclasses.replace(
        ranking,
        excluded={**ranking.excluded, **{k: v for k, v in dropped_counts.items() if v}},
        warnings=list(dict.fromkeys(notes + ranking.warnings)),
        notes=ranking.notes
        + _revenue_event_note(loaded, settings, revenue_event)
        + _outcome_event_note(uf, settings),
        data=dataclasses.replace(ranking.data, population=population),
        gap_sensitivity=gaps or [],
    )
    say("Done", 1.0)
    cands = cands + threshold_candidates(cands, ranking, settings.window_days)
    return Analysis(frame, outcomes, cands, ranking, settings, as_of, train)


def _user_level_frame(loaded, settings, revenue_event, say):
    gaps = tuple(sorted({settings.inactivity_days, *GAPS_FOR_SENSITIVITY}))
    users = loaded.users
    if loaded.events is not None:
        from .data import aggregate

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
            include_revenue_event=revenue_event_is_behaviour(loaded, settings, revenue_event),
        )
        frame = uf.data
        if settings.churn_event:
            frame = _with_churn_event(frame, loaded, settings, revenue_event)
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


def _with_churn_event(frame, loaded: LoadedData, settings, revenue_event) -> pd.DataFrame:
    """The frame with `cancel_sec`: each user's first churn event (METHODS §1.2)."""
    from .data import aggregate, churnevent

    name = settings.churn_event
    has_cancel = bool(loaded.users is not None and loaded.users.columns.cancel)
    churnevent.check_churn_event(loaded.check, name, revenue_event, has_cancel)
    ev = aggregate.usable_events(loaded.events, loaded.check)
    return frame.merge(churnevent.first_churn_event(ev, name), on="user_id", how="left")


def _users_as_of(frame: pd.DataFrame) -> dt.date:
    cols = [c for c in ("signup_sec", "cancel_sec", "last_active_sec") if c in frame]
    if not cols:
        return dt.date.today()
    latest = np.nanmax(frame[cols].to_numpy(float))
    return pd.Timestamp(latest, unit="s").date()


def _explicit_churn(loaded: LoadedData, settings) -> bool:
    """Churn is given (a churn event, a cancellation, a duration with a flag), not derived
    from silence: no inactivity gap to vary."""
    u = loaded.users
    given = u and (u.columns.cancel or (u.columns.duration and u.columns.churn))
    return bool(settings.churn_event or given)


def _churn(frame, loaded: LoadedData, settings, gap: int | None = None):
    """(D, E, source) by the best churn information available (see UserColumns)."""
    gap = gap or settings.inactivity_days
    u = loaded.users
    if settings.churn_event and loaded.events is not None:
        d, e, _ = churn_from_cancellation(frame, frame["a_end_sec"].to_numpy(float))
        return d, e, f"the event '{settings.churn_event}' (each user's first)"
    if u is not None and u.columns.cancel and "signup_sec" in frame:
        return churn_from_cancellation(frame, frame["a_end_sec"].to_numpy(float))
    if u is not None and u.columns.duration and u.columns.churn:
        return churn_from_duration(frame)
    if loaded.events is not None:
        return churn_from_activity(frame, gap)
    if u is not None and u.columns.last_active and "signup_sec" in frame:
        return churn_from_last_active(frame, gap)
    raise _no_churn_error(u)


def _no_churn_error(u) -> InputError:
    """Why churn cannot be told: the missing half of what the table has, when it has one."""
    label = u.label if u else "users"
    found = u and (u.columns.cancel or u.columns.last_active)
    if found:
        role = "cancellation" if u.columns.cancel else "last-active"
        return InputError(
            f"{label}: column '{found}' gives each user's {role} time, but there is no signup "
            "time to measure how long they stayed from.",
            cli="Name the signup column with --signup-col (e.g. created).",
            app="Choose the signup column as 'Signup time' in the column mapping.",
        )
    flags = u.fixed_day_flags if u else ()
    if flags:
        verb = "says" if len(flags) == 1 else "say"
        return InputError(
            f"{label}: cannot tell who churned. {_fixed_day_words(flags)} {verb} whether each "
            "user was back on a fixed day: a yes/no at set days, not when anyone churned, so "
            "no survival can be read from them (a user who missed one day can be back on a "
            "later one). Give a duration column with a churn flag (days from the first to the "
            "last session, and whether they have stopped), a last-active date with a signup "
            "time, or the event log the flags were counted from."
        )
    return InputError(
        f"{label}: cannot tell who churned. Give a cancellation date column (with a signup "
        "column), a duration column with a churn flag, a last-active date, or an event log."
    )


def _fixed_day_words(flags: tuple[str, ...]) -> str:
    names = [f"'{f}'" for f in flags[:4]] + (["…"] if len(flags) > 4 else [])
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def users_table_revenue(
    values: np.ndarray, d: np.ndarray, e: np.ndarray, column: str
) -> tuple[np.ndarray, str]:
    """A users table's revenue per user, and how it was read (METHODS §1.4): a rate as given,
    a running total per observed month, since a total grows with tenure and would lend every
    metric of staying longer a revenue link. The name decides when it says which; otherwise
    the values do, by the lifetime-total rule the candidates are judged by (a plain 'revenue'
    holding monthly amounts was divided by tenure before, which turned it against tenure)."""
    kind = revenue_kind_by_name(column)
    evidence = ""
    if kind is None:
        ev = tenure_evidence(values, d, e)
        total = lifetime_total_verdict(ev.rho, ev.elasticity, ev.elasticity_low)
        kind = "total" if total else "rate"
        evidence = _tenure_words(ev)
    if kind == "rate":
        how = f" (its values do not grow with tenure: {evidence})" if evidence else ""
        return values, f"'{column}' from the users table, as given{how}"
    how = f"its values grow with tenure: {evidence}" if evidence else "named as a total"
    return revenue_per_observed_month(values, d), (
        f"'{column}' per observed month ({how}; a lifetime total grows with tenure, so it is "
        "divided by months observed)"
    )


def _tenure_words(ev) -> str:
    """The tenure evidence in words: Spearman ρ, and the elasticity when measured."""
    rho = "n/a" if ev.rho is None else f"{ev.rho:.2f}"
    out = f"Spearman ρ with tenure {rho}"
    if ev.elasticity is not None:
        out += f", tenure elasticity among users still active {ev.elasticity:.2f}"
    return out


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
        revenue, rev_source = users_table_revenue(values, d, e, rev_col)
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


def revenue_event_is_behaviour(loaded: LoadedData, settings, revenue_event) -> bool:
    """Offer the revenue event's window counts as candidates (labelled transactions)? When
    asked (`include_revenue_event`), or when the log has no other behaviour, as in a shop's
    purchase log: otherwise only "Events (all types)" would be left (METHODS §2). Window counts
    are in [0, W) and revenue in [W, W + H), so the two never overlap."""
    if not revenue_event or loaded.events is None:
        return False
    others = set(loaded.event_counts) - {revenue_event}
    return bool(settings.include_revenue_event or not others)


def outcome_events(uf: UserFrame, settings) -> list[str]:
    """Event types that are the churn itself ('Cancellation Confirmation', 'unsubscribed'):
    not candidates unless named in `settings.candidates` (METHODS §2)."""
    asked = set(settings.candidates or ())
    return list(dict.fromkeys(
        e for e in uf.event_columns.values()
        if e == settings.churn_event or (e not in asked and event_names_the_outcome(e))
    ))  # fmt: skip


def _outcome_event_note(uf: UserFrame | None, settings) -> list[str]:
    events = sorted(outcome_events(uf, settings)) if uf is not None else []
    if not events:
        return []
    names = ", ".join(f"'{e}'" for e in events)
    many = len(events) > 1
    how = "" if settings.churn_event else (
        " Churn still comes from inactivity; to date churn by the event, choose it as the "
        "churn event."
    )  # fmt: skip
    return [
        f"Event type{'s' if many else ''} {names} {'are' if many else 'is'} the churn itself, "
        f"so {'they are not candidates' if many else 'it is not a candidate'}: counted in the "
        f"first {settings.window_days} days, a cancellation predicts churn by being it." + how
    ]


def _revenue_event_note(loaded, settings, revenue_event) -> list[str]:
    if not revenue_event_is_behaviour(loaded, settings, revenue_event):
        return []
    why = "as asked" if settings.include_revenue_event else "the log has no other behaviour"
    return [
        f"The revenue event '{revenue_event}' is also a candidate ({why}): its transactions in "
        f"the first {settings.window_days} days. Revenue is counted from day "
        f"{settings.window_days} on, so the two never overlap."
    ]


def _candidates(frame, uf: UserFrame | None, loaded, settings, revenue_event) -> list[Candidate]:
    cands: list[Candidate] = []
    if uf is not None:
        left_out = set(outcome_events(uf, settings))
        cands += [
            c
            for c in event_candidates(
                frame, uf.event_columns, settings.window_days, transactions=revenue_event
            )
            if c.event not in left_out
        ]
    if loaded.users is not None:
        outcome = {settings.revenue_col, *loaded.users.columns.roles().values()}
        behaviour = [c for c in loaded.users.columns.behaviour if c not in outcome]
        cands += column_candidates(frame, tuple(behaviour))
    cands = select_candidates(cands, settings.candidates)
    if settings.candidates:
        constant = [c.name for c in cands if np.nanmax(c.raw) == np.nanmin(c.raw)]
        if constant:
            where = input_labels(loaded)
            noun = "Candidate" if len(constant) == 1 else "Candidates"
            verb = "has" if len(constant) == 1 else "have"
            raise InputError(
                f"{where}: {noun} {', '.join(repr(c) for c in constant)} {verb} the same value "
                "for every user, so it cannot predict anything.",
                cli="Remove it from --candidates.",
                app="Remove it from the candidates you picked.",
            )
    if not cands:
        left_out = [w for w in loaded.warnings if LEFT_OUT in w or LEFT_OUT_MANY in w]
        raise InputError(
            "No candidate metrics: the event log has no event types and the users table no "
            "numeric behaviour columns." + "".join(f" {w}" for w in left_out)
        )
    return cands


def threshold_candidates(cands, ranking: RankingResult, window_days: int) -> list[Candidate]:
    """The '≥ k' candidates the ranking built, so charts can look them up by key."""
    by_key = {c.key: c for c in cands}
    out = []
    for r in ranking.candidates:
        base = by_key.get(thresholded_key(r.key))
        if r.kind == Kind.AT_LEAST and base is not None and r.threshold is not None:
            out.append(at_least_candidate(base, r.threshold, window_days))
    return out


def _data_info(loaded: LoadedData, uf: UserFrame | None, as_of, frame) -> DataInfo:
    fingerprint = copy.deepcopy(loaded.fingerprint)
    if "events" in fingerprint and loaded.check is not None:
        fingerprint["events"]["users"] = loaded.check.n_users  # counted by the aggregation
    info = DataInfo(as_of=as_of.isoformat(), fingerprint=fingerprint, n_frame=len(frame))
    if loaded.users is not None and loaded.users.columns.duration:
        info.duration_unit = duration_unit_of(loaded.users.columns)
    if uf is not None:
        info.sample_fraction = uf.sample_fraction
        info.event_types = len(uf.event_counts)
        info.duplicate_events = uf.duplicates
    if "signup_sec" in frame:
        s = frame["signup_sec"].dropna()
        if len(s):
            info.signup_min = pd.Timestamp(s.min(), unit="s").date().isoformat()
            info.signup_max = pd.Timestamp(s.max(), unit="s").date().isoformat()
    return info


def _rank_with_label(loaded: LoadedData, *args, **kw) -> RankingResult:
    """rank_candidates, with data-wide problems prefixed by the input files' names."""
    try:
        return rank_candidates(*args, **kw)
    except InputError as exc:
        raise InputError(f"{input_labels(loaded)}: {exc}") from exc


def population_figures(
    uf: UserFrame, ranking: RankingResult, settings, top: int = 3
) -> PopulationFigures:
    """Counts, retention at the horizon and the leaders' Cox and C on *all* users, when the
    statistics used a sample.

    Only (group, T, E, n) counts and (T, value, E, n) survival cells leave the engine
    (`data.population.population_retention`, `data.cells`); Kaplan–Meier, Cox and C are computed
    from them in Python with the ranking's formulas.
    """
    from .data import cells as engine_cells
    from .data.population import population_retention

    spec = dict(gap=settings.inactivity_days, window_days=settings.window_days,
                horizon_days=settings.horizon_days)  # fmt: skip
    h = ranking.data.horizon_days or settings.horizon_days  # never past the follow-up
    counts = population_retention(uf.population, **spec)
    out = PopulationFigures(
        sample_fraction=uf.sample_fraction,
        n_users=int(counts["n"].sum()),
        n_churned=int(counts.loc[counts["E"] == 1, "n"].sum()),
        retention_at_horizon=_retention_at(counts, h),
    )
    column_of = population_columns(uf)
    rows = engine_cells.landmark_rows(
        uf.population, gap=settings.inactivity_days, window_days=settings.window_days
    ).cache()  # one per-user table in the engine; each candidate's cells are one group-by of it
    for c in ranking.leaders[:top]:
        col = column_of.get(c.key)
        if col is None:
            continue
        cells = engine_cells.engine_cells(rows, col)
        out.statistics.append(engine_cells.engine_figures(cells, c.key, col, h))
        if c.threshold is None:
            continue
        grouped = population_retention(uf.population, column=col, k=c.threshold, **spec)
        above = grouped["group"].to_numpy(bool)
        out.by_threshold.append(
            ThresholdPopulation(
                key=c.key,
                k=c.threshold,
                n_above=int(grouped.loc[above, "n"].sum()),
                retention_above=_retention_at(grouped[above], h),
                retention_below=_retention_at(grouped[~above], h),
            )
        )
    rows.release()
    return out


def population_columns(uf: UserFrame) -> dict[str, str]:
    """Candidate key → column of the engine's per-user table, for count candidates."""
    out = {
        (Kind.COUNT if col.startswith("count__") else Kind.ACTIVE_DAYS).key(name): col
        for col, name in uf.event_columns.items()
    }
    for col in ("active_days", "total_events", "distinct_events"):
        out[Kind.BASELINE.key(col)] = col
    return out


def _retention_at(counts: pd.DataFrame, t: float) -> float | None:
    """Kaplan–Meier retention at day t from (T, E, n) counts (None without users)."""
    if counts.empty:
        return None
    times, index = np.unique(counts["T"].to_numpy(float), return_inverse=True)
    n = counts["n"].to_numpy(float)
    users = np.bincount(index, weights=n, minlength=times.size)
    deaths = np.bincount(index, weights=n * counts["E"].to_numpy(float), minlength=times.size)
    return GroupCurve.from_counts(times, users, deaths).survival_at(t)


def gap_sensitivity(
    frame, cands, loaded, settings, revenue_event, lifetime: frozenset[str] = frozenset()
) -> list[GapRun]:
    """How the top of the ranking moves for inactivity gaps of 7, 14 and 28 days (METHODS §1).

    Effect sizes only (no thresholds or bootstrap), with every flag: guardrails by each run's
    own fit, lifetime totals by each run's tenure and, since being a total is a property of
    the column rather than of the gap, every column the main ranking found to be one
    (`lifetime`, keys). A column that cannot be a North Star cannot top these lists. Above
    200,000 users it runs on a fixed random 200,000-user subsample: the question is the
    ordering, which that many users settle.
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
            quick = rank_candidates(
                cands, oc, settings=settings, quick=True, observed_days=churn[0],
                known_lifetime=lifetime,
            )  # fmt: skip
        except InputError as exc:
            out.append(GapRun(gap_days=g, error=str(exc)))
            continue
        out.append(
            GapRun(
                gap_days=g,
                n_users=oc.n_users,
                n_churned=oc.n_churned,
                top=[c.key for c in quick.leaders[:5]],
                top_names=[c.name for c in quick.leaders[:5]],
                ranks={c.key: c.rank for c in quick.candidates},
            )
        )
    return out
