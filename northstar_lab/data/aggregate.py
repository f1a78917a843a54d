"""The heavy part, once for every engine: from an event log to one row per user.

Everything here is an Ibis expression, so the same code runs inside DuckDB (files, .duckdb
databases) and Spark (local or a cluster); only one small row per user comes back to Python.
Per user it computes, in whole days since signup (day 0 = the first 24 hours):

- signup (users table, or the first event), days from signup to the as-of date;
- activity-derived churn for each inactivity gap g (METHODS §1): the last active day before the
  first silent run of ≥ g days (signup day counts as active);
- counts and distinct active days of each event type in the observation window [0, W) days;
- baselines: active days, total events, distinct event types in the window;
- revenue in [W, W+H) days (an event's value).

The log is read once into cells keyed by integers: a user key (`uid`, made with the signups)
and an event code (the position of the name among the most frequent names, `EventCheck`), so
every later query groups and joins integers, not strings. No Python loops over rows; no
backend-specific SQL. Event names become positional column names (`count__3`) so any name is
safe on any engine; `UserFrame.event_columns` maps them back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import pandas as pd

from ..errors import InputError
from .events import DAY, EventCheck, as_of_end_sec, epoch_sec

MAX_EVENT_TYPES = 200
GAPS_FOR_SENSITIVITY = (7, 14, 28)
UNNAMED = -1  # event code of a cell after the window (not the revenue event): one per day
TAIL = -2  # event code of names beyond the most frequent ones (EventCheck.event_counts)

Progress = Callable[[str], None]


@dataclass
class UserFrame:
    """One row per user (`data`) plus what is needed to read it.

    data columns: user_id, signup_sec, a_days (whole days from signup to the as-of end),
    last_day, churn_day_g{g} (NaN = no churn detected for gap g), revenue_h,
    count__i / days__i per event type i, active_days, total_events, distinct_events.
    """

    data: pd.DataFrame
    as_of: dt.date
    event_columns: dict[str, str]  # 'count__3' -> 'lesson_completed'
    event_counts: dict[str, int]  # event name -> events in the window (and revenue events)
    counts: dict[str, int]  # dropped events and users, by reason
    gaps: tuple[int, ...]
    sample_fraction: float = 1.0
    warnings: list[str] = field(default_factory=list)
    population: ibis.Table | None = None  # all users, unexecuted; set only when sampled
    duplicates: int = 0  # exact duplicate rows among the events that count (see _cells)


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
    drop_duplicates: bool = False,
    progress: Progress | None = None,
) -> UserFrame:
    """Aggregate the event log to one row per user inside the engine (see module docstring).

    users: optional frame with user_id and signup_sec (epoch seconds); when given, it defines
    the population and signups, and events of other users are dropped (and counted).
    drop_duplicates: drop exact duplicate rows (same user, event, timestamp and value) from the
    counts; they are counted and reported either way.
    """
    say = progress or (lambda _msg: None)
    ev = usable_events(std, check)
    as_of = as_of or check.max_ts.date()
    a_end = as_of_end_sec(as_of)
    counts: dict[str, int] = {}
    warnings: list[str] = []
    if check.n_implausible:
        counts["events_implausibly_late"] = check.n_implausible

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
    codes = list(check.event_counts)
    rev_code = codes.index(revenue_event) if revenue_event in check.event_counts else None
    if revenue_event and rev_code is None:
        raise InputError(
            f"{check.label}: revenue event '{revenue_event}' does not occur in the event log. "
            f"Event names present: {', '.join(codes[:10])}."
        )
    all_cells = _cells(ev, all_signups, codes, a_end, window_days, rev_code, drop_duplicates)
    cells = all_cells
    if fraction < 1.0:
        cells = all_cells.semi_join(signups, "uid")
    drops = _drop_counts(ev, all_cells, all_signups, users is not None)
    check.n_users = drops.pop("users_with_events")
    duplicates = drops.pop("duplicate_events")
    counts.update(drops)
    for reason, label in (
        ("events_before_signup", "events before the user's signup were dropped"),
        ("events_after_as_of", f"events after the as-of date {as_of} were ignored"),
        ("events_of_unknown_users", "events of users not in the users table were dropped"),
    ):
        if counts.get(reason):
            warnings.append(f"{counts[reason]:,} {label}.")
    if duplicates:
        warnings.append(_duplicates_note(duplicates, window_days, revenue_event, drop_duplicates))
        counts["duplicate_events_dropped" if drop_duplicates else "duplicate_events"] = duplicates
    kept = cells.filter((cells.d >= 0) & ~cells.late)

    say("Counting event types")
    type_counts = _cell_type_counts(kept, codes)
    candidate_codes = [i for i in type_counts if i != rev_code][:MAX_EVENT_TYPES]
    names = [codes[i] for i in candidate_codes]
    if len(type_counts) - (rev_code in type_counts) > MAX_EVENT_TYPES:
        warnings.append(
            f"{len(type_counts):,} event types: only the {MAX_EVENT_TYPES} most frequent "
            "become candidates."
        )

    say(f"Measuring {len(names)} event types in the first {window_days} days, churn, revenue")
    spec = dict(codes=candidate_codes, window_days=window_days, horizon_days=horizon_days,
                rev_code=rev_code, gaps=gaps)  # fmt: skip
    frame = _user_expr(kept, signups, **spec)
    population = None
    if fraction < 1.0:
        all_kept = all_cells.filter((all_cells.d >= 0) & ~all_cells.late)
        population = _user_expr(all_kept, all_signups, **spec)
    say("Collecting one row per user")
    data = _collect(frame, len(names))
    if population is None:  # the engine's copies are no longer needed: give the memory back
        all_cells.release()
        all_signups.release()
    event_columns = {}
    for i, name in enumerate(names):
        event_columns[f"count__{i}"] = name
        event_columns[f"days__{i}"] = name
    return UserFrame(
        data=data,
        as_of=as_of,
        event_columns=event_columns,
        event_counts={codes[i]: n for i, n in type_counts.items()},
        counts=counts,
        gaps=tuple(gaps),
        sample_fraction=fraction,
        warnings=check.warnings + warnings,
        population=population,
        duplicates=duplicates,
    )


def usable_events(std: ibis.Table, check: EventCheck) -> ibis.Table:
    """Complete rows dated before the plausible end (EventCheck), with `sec`: whole epoch
    seconds, floored the same way on every engine."""
    ev = std.filter(std.user_id.notnull() & std.event.notnull() & std.ts.notnull())
    ev = ev.mutate(sec=epoch_sec(ev.ts))
    if check.plausible_end is not None:
        ev = ev.filter(ev.sec < int(check.plausible_end.timestamp()))
    return ev


def _collect(frame: ibis.Table, n_types: int) -> pd.DataFrame:
    """The per-user expression as pandas, with absent figures as 0 and sorted by user id."""
    data = frame.to_pandas()
    fill = [c for c in data.columns if c.startswith(("count__", "days__"))]
    fill += ["active_days", "total_events", "revenue_h"]
    data[fill] = data[fill].fillna(0).astype(float)
    # event types used in the window, among the candidate types (the revenue event is not one)
    count_cols = [f"count__{i}" for i in range(n_types)]
    data["distinct_events"] = (data[count_cols] > 0).sum(axis=1).astype(float)
    data["last_day"] = data["last_day"].fillna(0)
    data = data.drop(columns=["uid"])
    return data.sort_values("user_id", kind="stable").reset_index(drop=True)


def _duplicates_note(n: int, window_days: int, revenue_event: str | None, dropped: bool) -> str:
    where = f"in the first {window_days} days" + (
        f" or of the revenue event '{revenue_event}'" if revenue_event else ""
    )
    if dropped:
        return (
            f"{n:,} exact duplicate event rows (same user, event, timestamp and value) {where} "
            "were dropped: each counts once."
        )
    return (
        f"{n:,} exact duplicate event rows (same user, event, timestamp and value) {where} are "
        "counted as separate events. If they are double-sent events, drop them (the "
        "drop-duplicates setting)."
    )


def _cell_type_counts(cells: ibis.Table, codes: list[str]) -> dict[int, int]:
    """Events per event code in the window (plus the revenue event), most frequent first; ties
    by name, so that every engine orders them alike."""
    named = cells.filter(cells.code >= 0)
    df = named.group_by("code").aggregate(n=named.n.sum()).to_pandas()
    df["name"] = [codes[int(i)] for i in df["code"]]
    df = df.sort_values(["n", "name"], ascending=[False, True])
    return dict(zip(df["code"].astype(int), df["n"].astype(int), strict=True))


def _cells(ev, signups, codes, a_end: int, window_days: int, rev_code, drop_duplicates: bool):
    """Events collapsed to (uid, code, day since signup, after-as-of) cells, materialised.

    This is the only pass over the raw log: every per-user figure below is computed from these
    cells (n events, sum of values). The event code is kept only where a figure needs it —
    inside the observation window, and for the revenue event — so after the window a user's
    day is one cell (code UNNAMED), however many events it had. Names beyond the listed ones
    share the code TAIL. `.cache()` keeps the cells in the engine (a DuckDB temp table, a
    persisted Spark DataFrame).

    Exact duplicate rows (same user, event, timestamp and value) are found where they change a
    figure — among the named rows — by grouping those rows on the whole row first; `dup` counts
    the copies beyond the first. After the window a duplicate changes nothing (a day is active
    or not), so those rows are not grouped per timestamp.
    """
    lookup = ibis.memtable(pd.DataFrame({"event": codes, "code": range(len(codes))}))
    joined = ev.inner_join(signups.select("user_id", "uid", "signup_sec"), "user_id")
    joined = joined.left_join(lookup, "event")
    d = ((joined.sec - joined.signup_sec) / DAY).floor().cast("int64")
    code = joined.code.cast("int64").coalesce(TAIL)
    named = d < window_days
    if rev_code is not None:
        named = named | (code == rev_code)
    rows = joined.select(
        uid=joined.uid,
        code=named.ifelse(code, UNNAMED),
        d=d,
        late=joined.sec >= a_end,
        ts=named.ifelse(joined.ts, ibis.null("timestamp")),
        event=(named & (code == TAIL)).ifelse(joined.event, ibis.null("string")),
        value=named.ifelse(joined.value, ibis.null("float64")),
    )
    keys = ["uid", "code", "d", "late"]
    rows = rows.group_by([*keys, "ts", "event", "value"]).aggregate(c=rows.count())
    named_row = rows.ts.notnull()
    n = named_row.ifelse(ibis.literal(1), rows.c) if drop_duplicates else rows.c
    cells = rows.group_by(keys).aggregate(
        n=n.sum(),
        value=(rows.value * n).sum(),
        dup=(rows.c - 1).sum(where=named_row),
    )
    return cells.cache()


def _user_expr(cells, signups, *, codes, window_days, horizon_days, rev_code, gaps):
    """The one-row-per-user expression (not executed): group-bys over the cells (window figures,
    revenue, activity gaps), joined to the signups by uid, then churn per gap."""
    frame = signups.select("uid", "user_id", "signup_sec", "a_days")
    parts = [
        _window_figures(cells, codes, window_days),
        _active_days(cells, gaps, window_days),
    ]
    if rev_code is not None:
        parts.append(_revenue(cells, rev_code, window_days, horizon_days))
    for part in parts:
        frame = frame.left_join(part, "uid").drop("uid_right")
    if rev_code is None:
        frame = frame.mutate(revenue_h=ibis.literal(0.0))
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


def _window_figures(cells, codes: list[int], window_days: int) -> ibis.Table:
    """Per user, from the window's cells: count__i and days__i per candidate event type (a cell
    is one active day of one type, holding n events) and all events in the window (any name).
    Sums are cast to float64: DuckDB sums BIGINT into HUGEINT, which pandas holds as objects."""
    win = cells.filter(cells.d < window_days)
    aggs = {}
    for i, code in enumerate(codes):
        is_e = win.code == code
        aggs[f"count__{i}"] = win.n.sum(where=is_e).cast("float64")
        aggs[f"days__{i}"] = is_e.sum().cast("float64")
    aggs["total_events"] = win.n.sum().cast("float64")
    return win.group_by("uid").aggregate(**aggs)


def _revenue(cells, rev_code: int, window_days: int, horizon_days: int) -> ibis.Table:
    """Revenue per user: the revenue event's values in whole days [W, W + H) since signup, the
    same day arithmetic as everything else (METHODS §1.4; deviation 5 for the boundary)."""
    rev = cells.filter(
        (cells.code == rev_code) & (cells.d >= window_days) & (cells.d < window_days + horizon_days)
    )
    return rev.group_by("uid").aggregate(revenue_h=rev.value.sum().cast("float64"))


def _active_days(cells, gaps: tuple[int, ...], window_days: int) -> ibis.Table:
    """Per user, from the distinct active days: active days in the window, first and last day,
    and for each gap g the last active day before the first silence of ≥ g days between two
    active days. (The silences before the first and after the last active day are handled by
    the caller, which knows a_days.) Counting days here avoids distinct-counts elsewhere.
    """
    days = cells.select("uid", "d").distinct()
    w = ibis.window(group_by=days.uid, order_by=days.d)
    days = days.mutate(gap=days.d.lead().over(w) - days.d)
    aggs = {f"inner_gap_g{g}": days.d.min(where=days.gap >= g) for g in gaps}
    aggs["active_days"] = (days.d < window_days).sum().cast("float64")
    aggs["first_day"] = days.d.min()
    aggs["last_day"] = days.d.max()
    return days.group_by("uid").aggregate(**aggs)


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
    """user_id, uid (an integer key, unique per user, used by every join below), signup_sec:
    the users table's signups (registered in the engine that holds the events, so that every
    engine can join and cache it), or each user's first event."""
    if users is None:
        first = ev.group_by("user_id").aggregate(signup_sec=ev.sec.min().cast("float64"))
        # ordered, so that a recomputed partition (Spark) numbers users the same way again
        return first.mutate(uid=ibis.row_number().over(order_by=first.user_id).cast("int64"))
    frame = users[["user_id", "signup_sec"]].astype({"user_id": str, "signup_sec": float})
    frame = frame.assign(uid=range(len(frame)))
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
    """Events dropped before signup or after the as-of date and duplicate rows (from the
    cells), and events of users missing from the users table (one anti-join, only when a
    users table is given)."""
    stats = (
        cells.aggregate(
            events_before_signup=cells.n.sum(where=cells.d < 0),
            events_after_as_of=cells.n.sum(where=(cells.d >= 0) & cells.late),
            duplicate_events=cells.dup.sum(where=(cells.d >= 0) & ~cells.late),
            users_with_events=cells.uid.nunique(),
        )
        .to_pandas()
        .iloc[0]
    )
    keys = ("events_before_signup", "events_after_as_of", "duplicate_events", "users_with_events")
    out = {k: _count(stats[k]) for k in keys}
    if has_users:
        unknown = ev.anti_join(signups, "user_id")
        out["events_of_unknown_users"] = int(unknown.count().to_pandas())
    return out
