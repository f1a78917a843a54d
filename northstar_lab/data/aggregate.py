"""The heavy part, once for every engine: from an event log to one row per user.

Everything here is an Ibis expression, so the same code runs inside DuckDB (files, .duckdb
databases) and Spark (local or a cluster); only one small row per user comes back to Python.
Per user it computes, in whole days since signup (day 0 = the first 24 hours):

- signup (users table, or the first event), days from signup to the as-of date;
- activity-derived churn for each inactivity gap g (METHODS §1): the last active day before the
  first silent run of ≥ g days (signup day counts as active);
- counts and distinct active days of each event type in the observation window [0, W) days;
- baselines: active days, total events, distinct event types in the window;
- revenue in (W, W+H] days (an event's value).

No Python loops over rows; no backend-specific SQL. Event names become positional column names
(`count__3`) so any name is safe on any engine; `UserFrame.event_columns` maps them back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import pandas as pd

from ..errors import InputError
from .events import DAY, EventCheck, as_of_end_sec

MAX_EVENT_TYPES = 200
GAPS_FOR_SENSITIVITY = (7, 14, 28)

Progress = Callable[[str], None]


@dataclass
class UserFrame:
    """One row per user (`data`) plus what is needed to read it.

    data columns: user_id, signup_sec, a_days (whole days from signup to the as-of end),
    n_events, last_day, churn_day_g{g} (NaN = no churn detected for gap g), revenue_h,
    count__i / days__i per event type i, active_days, total_events, distinct_events.
    """

    data: pd.DataFrame
    as_of: dt.date
    event_columns: dict[str, str]  # 'count__3' -> 'lesson_completed'
    event_counts: dict[str, int]  # event name -> rows in the log
    counts: dict[str, int]  # dropped events and users, by reason
    gaps: tuple[int, ...]
    sample_fraction: float = 1.0
    warnings: list[str] = field(default_factory=list)
    population: ibis.Table | None = None  # all users, unexecuted; set only when sampled


def per_user_frame(
    std: ibis.Table,
    check: EventCheck,
    *,
    window_days: int,
    horizon_days: int,
    gaps: tuple[int, ...],
    as_of: dt.date | None = None,
    revenue_event: str | None = None,
    users: pd.DataFrame | None = None,
    max_users: int = 2_000_000,
    progress: Progress | None = None,
    include_revenue_event: bool = False,
) -> UserFrame:
    """Aggregate the event log to one row per user inside the engine (see module docstring).

    users: optional frame with user_id and signup_sec (epoch seconds); when given, it defines
    the population and signups, and events of other users are dropped (and counted).
    include_revenue_event: measure the revenue event in the window like any other event type
    (its window counts become candidates, METHODS §2); by default it is revenue only.
    """
    say = progress or (lambda _msg: None)
    ev = std.filter(std.user_id.notnull() & std.event.notnull() & std.ts.notnull())
    ev = ev.mutate(sec=ev.ts.epoch_seconds().cast("int64"))
    as_of = as_of or check.max_ts.date()
    a_end = as_of_end_sec(as_of)
    counts: dict[str, int] = {}
    warnings: list[str] = []

    say("Finding each user's signup")
    signups = _signups(ev, users)
    signups = signups.mutate(a_days=((a_end - signups.signup_sec) / DAY).floor().cast("int64"))
    n_after = int(signups.filter(signups.a_days < 0).count().to_pandas())
    if n_after:
        counts["users_signed_up_after_as_of"] = n_after
        warnings.append(
            f"{n_after:,} users signed up after the as-of date {as_of} and are left out."
        )
    signups = signups.filter(signups.a_days >= 0).cache()  # used by every query below
    n_users = int(signups.count().to_pandas())
    all_signups = signups
    fraction = 1.0
    if n_users > max_users:
        fraction = max_users / n_users
        signups = signups.filter(sample_predicate(signups.user_id, fraction))
        warnings.append(
            f"{n_users:,} users exceed max_users={max_users:,}: statistics use a deterministic "
            f"{fraction:.1%} sample chosen by a hash of the user id; population counts and "
            "retention by threshold are computed on all users in the engine."
        )

    say("Counting events per user, event type and day since signup (one pass)")
    all_cells = _cells(ev, all_signups, a_end, window_days, revenue_event)
    cells = all_cells
    if fraction < 1.0:
        cells = all_cells.semi_join(signups, "user_id")
    counts.update(_drop_counts(ev, all_cells, all_signups, users is not None))
    check.n_users = counts.pop("users_with_events")
    for reason, label in (
        ("events_before_signup", "events before the user's signup were dropped"),
        ("events_after_as_of", f"events after the as-of date {as_of} were ignored"),
        ("events_of_unknown_users", "events of users not in the users table were dropped"),
    ):
        if counts.get(reason):
            warnings.append(f"{counts[reason]:,} {label}.")
    kept = cells.filter((cells.d >= 0) & ~cells.late)

    say("Counting event types")
    type_counts = _cell_type_counts(kept)
    names = [e for e in type_counts if include_revenue_event or e != revenue_event]
    names = names[:MAX_EVENT_TYPES]
    if len(type_counts) - (revenue_event in type_counts) > MAX_EVENT_TYPES:
        warnings.append(
            f"{len(type_counts):,} event types: only the {MAX_EVENT_TYPES} most frequent "
            "become candidates."
        )
    if revenue_event and revenue_event not in type_counts:
        raise InputError(
            f"{check.label}: revenue event '{revenue_event}' does not occur in the event log. "
            f"Event names present: {', '.join(list(type_counts)[:10])}."
        )

    say(f"Measuring {len(names)} event types in the first {window_days} days, churn, revenue")
    spec = dict(names=names, window_days=window_days, horizon_days=horizon_days,
                revenue_event=revenue_event, gaps=gaps)  # fmt: skip
    frame = _user_expr(kept, signups, **spec)
    population = None
    if fraction < 1.0:
        all_kept = all_cells.filter((all_cells.d >= 0) & ~all_cells.late)
        population = _user_expr(all_kept, all_signups, **spec)
    say("Collecting one row per user")
    data = frame.to_pandas()
    if population is None:  # the engine's copies are no longer needed: give the memory back
        all_cells.release()
        all_signups.release()
    event_columns = {}
    for i, name in enumerate(names):
        event_columns[f"count__{i}"] = name
        event_columns[f"days__{i}"] = name
    fill = [c for c in data.columns if c.startswith(("count__", "days__"))]
    fill += ["active_days", "total_events", "n_events", "revenue_h"]
    data[fill] = data[fill].fillna(0)
    # event types used in the window, among the candidate types (the revenue event is not one)
    count_cols = [c for c in data.columns if c.startswith("count__")]
    data["distinct_events"] = (data[count_cols] > 0).sum(axis=1).astype(float)
    data["last_day"] = data["last_day"].fillna(0)
    data = data.sort_values("user_id", kind="stable").reset_index(drop=True)
    return UserFrame(
        data=data,
        as_of=as_of,
        event_columns=event_columns,
        event_counts=type_counts,
        counts=counts,
        gaps=tuple(gaps),
        sample_fraction=fraction,
        warnings=check.warnings + warnings,
        population=population,
    )


def _cell_type_counts(cells: ibis.Table) -> dict[str, int]:
    """Events per event name in the window (plus the revenue event), most frequent first."""
    named = cells.filter(cells.event.notnull())
    df = named.group_by("event").aggregate(n=named.n.sum()).order_by(ibis.desc("n")).to_pandas()
    return dict(zip(df["event"].astype(str), df["n"].astype(int), strict=True))


def _cells(ev, signups, a_end: int, window_days: int, revenue_event: str | None) -> ibis.Table:
    """Events collapsed to (user, event, day since signup, after-as-of) cells, materialised.

    This is the only pass over the raw log: every per-user figure below is computed from these
    cells (n events, sum of values). The event name is kept only where a figure needs it —
    inside the observation window, and for the revenue event — so after the window a user's
    day is one cell, however many events it had. `.cache()` keeps the cells in the engine (a
    DuckDB temp table, a persisted Spark DataFrame).
    """
    joined = ev.inner_join(signups.select("user_id", "signup_sec"), "user_id")
    rel = joined.sec - joined.signup_sec
    d = (rel / DAY).floor().cast("int64")
    named = d < window_days
    if revenue_event:
        named = named | (joined.event == revenue_event)
    joined = joined.mutate(
        d=d,
        late=joined.sec >= a_end,
        event=ibis.ifelse(named, joined.event, ibis.null("string")),
    )
    cells = joined.group_by(["user_id", "event", "d", "late"]).aggregate(
        n=joined.count(), value=joined.value.sum()
    )
    return cells.cache()


def _user_expr(cells, signups, *, names, window_days, horizon_days, revenue_event, gaps):
    """The one-row-per-user expression (not executed): two group-bys over the cells (per-user
    figures; activity gaps), joined to the signups, then churn per gap from both."""
    figures = _per_user_figures(cells, names, window_days, horizon_days, revenue_event)
    gaps_t = _active_days(cells, gaps, window_days)
    frame = (
        signups.left_join(figures, "user_id")
        .drop("user_id_right")
        .left_join(gaps_t, "user_id")
        .drop("user_id_right")
    )
    last = frame.last_day.coalesce(0)
    churn = {}
    for g in gaps:
        # Signing up is activity on day 0: a first event ≥ g days later is a silence from day 0.
        # Then the first silence of ≥ g days between active days; else the final silence, if it
        # reaches the as-of date.
        from_signup = ibis.ifelse(frame.first_day >= g, 0, ibis.null("int64"))
        final = ibis.ifelse(frame.a_days - last >= g, last, ibis.null("int64"))
        churn[f"churn_day_g{g}"] = from_signup.coalesce(frame[f"inner_gap_g{g}"]).coalesce(final)
    return frame.mutate(**churn).drop("first_day", *[f"inner_gap_g{g}" for g in gaps])


def population_retention(
    population: ibis.Table,
    *,
    gap: int,
    window_days: int,
    horizon_days: int,
    column: str | None = None,
    k: float | None = None,
) -> pd.DataFrame:
    """Landmark survival counts for all users, aggregated in the engine.

    Returns one row per (group, T, E) with the number of users: group is True for users with
    `column` ≥ k (all False without a column). Only these counts leave the engine; Kaplan–Meier
    curves and counts are computed from them in Python (`survival.km_from_counts`).
    """
    churn = population[f"churn_day_g{gap}"]
    churned = churn.notnull()
    d = churned.ifelse(churn, population.a_days - gap)
    rows = population.mutate(T=d - window_days, E=churned.cast("int8"))
    rows = rows.filter(rows["T"] >= 0)
    group = (rows[column].coalesce(0) >= k) if column else ibis.literal(False)
    rows = rows.mutate(group=group)
    out = rows.group_by(["group", "T", "E"]).aggregate(n=rows.count()).to_pandas()
    return out.sort_values(["group", "T", "E"]).reset_index(drop=True)


def sample_predicate(user_id: ibis.Value, fraction: float) -> ibis.Value:
    """Keep a user when the first 8 hex digits of md5(user_id) fall below fraction·16⁸.

    Comparing hex strings is portable: md5 and substr agree on DuckDB and Spark, so the same
    users are chosen on every engine and every run.
    """
    cut = format(min(int(fraction * 16**8), 16**8 - 1), "08x")
    return user_id.hexdigest("md5").substr(0, 8) < cut


def _signups(ev: ibis.Table, users: pd.DataFrame | None) -> ibis.Table:
    """user_id, signup_sec: the users table's signups (registered as a view in the engine that
    holds the events, so that every engine can join and cache it), or each user's first event."""
    if users is None:
        return ev.group_by("user_id").aggregate(signup_sec=ev.sec.min().cast("float64"))
    frame = users[["user_id", "signup_sec"]].astype({"user_id": str, "signup_sec": float})
    backend = ev._find_backend()
    name = f"northstar_signups_{uuid.uuid4().hex[:12]}"
    if backend.name == "pyspark":  # Ibis' PySpark backend has no temporary tables: a view
        return backend.create_view(name, ibis.memtable(frame), overwrite=True)
    # DuckDB: a temporary table, which a read-only database file still accepts
    return backend.create_table(name, frame, temp=True, overwrite=True)


def _count(value) -> int:
    """An engine's count or sum as int; a sum over no rows comes back as NULL (None or NaN)."""
    return 0 if value is None or pd.isna(value) else int(value)


def _drop_counts(ev, cells, signups, has_users: bool) -> dict[str, int]:
    """Events dropped before signup or after the as-of date (from the cells), and events of
    users missing from the users table (one anti-join, only when a users table is given)."""
    stats = (
        cells.aggregate(
            events_before_signup=cells.n.sum(where=cells.d < 0),
            events_after_as_of=cells.n.sum(where=(cells.d >= 0) & cells.late),
            users_with_events=cells.user_id.nunique(),
        )
        .to_pandas()
        .iloc[0]
    )
    keys = ("events_before_signup", "events_after_as_of", "users_with_events")
    out = {k: _count(stats[k]) for k in keys}
    if has_users:
        unknown = ev.anti_join(signups, "user_id")
        out["events_of_unknown_users"] = int(unknown.count().to_pandas())
    return out


def _per_user_figures(cells, names, window_days: int, horizon_days: int, revenue_event):
    """Per user, from the (user, event, day) cells: count__i and days__i per event type in the
    window (a cell is one active day of one type, holding n events) and the events in the
    window — aggregated over the window's cells only, so the many later cells are not tested
    against every condition — then whole-life totals that are *not* candidates (events) and
    revenue in whole days [W, W + H) since signup, over all cells.

    Revenue uses the same day arithmetic as everything else; METHODS' (s+W, s+W+H] in seconds
    differs only at the exact boundary second. Sums are cast to float64: DuckDB sums BIGINT into
    HUGEINT, which pandas would hold as Python objects.
    """
    win = cells.filter(cells.d < window_days)
    aggs = {}
    for i, name in enumerate(names):
        is_e = win.event == name
        aggs[f"count__{i}"] = win.n.sum(where=is_e).cast("float64")
        aggs[f"days__{i}"] = is_e.sum().cast("float64")
    aggs["total_events"] = win.n.sum().cast("float64")
    window = win.group_by("user_id").aggregate(**aggs)
    totals = {"n_events": cells.n.sum().cast("float64")}
    if revenue_event:
        in_h = (cells.event == revenue_event) & (cells.d >= window_days)
        in_h = in_h & (cells.d < window_days + horizon_days)
        totals["revenue_h"] = cells.value.sum(where=in_h).coalesce(0.0)
    else:
        totals["revenue_h"] = ibis.literal(0.0)
    lifetime = cells.group_by("user_id").aggregate(**totals)
    return lifetime.left_join(window, "user_id").drop("user_id_right")


def _active_days(cells, gaps: tuple[int, ...], window_days: int) -> ibis.Table:
    """Per user, from the distinct active days: active days in the window, first and last day,
    and for each gap g the last active day before the first silence of ≥ g days between two
    active days. (The silences before the first and after the last active day are handled by
    the caller, which knows a_days.) Counting days here avoids distinct-counts elsewhere.
    """
    days = cells.select("user_id", "d").distinct()
    w = ibis.window(group_by=days.user_id, order_by=days.d)
    days = days.mutate(gap=days.d.lead().over(w) - days.d)
    aggs = {f"inner_gap_g{g}": days.d.min(where=days.gap >= g) for g in gaps}
    aggs["active_days"] = (days.d < window_days).sum().cast("float64")
    aggs["first_day"] = days.d.min()
    aggs["last_day"] = days.d.max()
    return days.group_by("user_id").aggregate(**aggs)
