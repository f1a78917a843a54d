"""The heavy part, once for every engine: from an event log to one row per user.

Every query is an Ibis expression, so the same code runs inside DuckDB (files, .duckdb
databases) and Spark (local or a cluster); only small per-user tables come back to Python.
Per user it computes, in whole days since signup (day 0 = the first 24 hours):

- signup (users table, or the first event), days from signup to the as-of date;
- activity-derived churn for each inactivity gap g (METHODS §1): the last active day before the
  first silent run of ≥ g days (signup day counts as active);
- counts and distinct active days of each event type in the observation window [0, W) days;
- baselines: active days, total events, distinct event types in the window;
- revenue in [W, W+H) days (an event's value).

The log is read once (one join with the signups) into cells keyed by an integer user key
(`uid`, made with the signups), so every later query groups and joins on an integer, not the
user id string; the event name is kept only where a figure needs it. No Python loops over rows;
no backend-specific SQL. Event names become positional column names (`count__3`) so any name is
safe on any engine; `UserFrame.event_columns` maps them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from ..errors import InputError
from . import coverage, daybits, logcells
from .calendar import DAY, as_of_end_sec
from .daybits import AFTER_AS_OF, BEFORE_SIGNUP, DAY_BITS, REVENUE, WINDOW
from .events import EventCheck, epoch_sec
from .logcells import engine_count, kept_cells
from .population import check_finite_revenue, revenue_per_user, user_expr
from .sources import register_frame

MAX_EVENT_TYPES = 200

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
    duplicates: int = 0  # exact duplicate rows among the events that count (see logcells.cells)


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
    include_revenue_event: bool = False,
) -> UserFrame:
    """Aggregate the event log to one row per user inside the engine (see module docstring).

    users: optional frame with user_id and signup_sec (epoch seconds); when given, it defines
    the population and signups, and events of other users are dropped (and counted).
    include_revenue_event: measure the revenue event in the window like any other event type
    (its window counts become candidates, METHODS §2); by default it is revenue only.
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
    signups, all_signups, fraction = _population(
        ev, users, a_end, as_of, max_users, counts, warnings, check.label
    )

    say("Counting events per user, event type and day since signup (one pass)")
    _require_revenue_event(check, revenue_event)
    spec = dict(a_end=a_end, window_days=window_days, revenue_event=revenue_event)
    all_cells = logcells.cells(ev, all_signups, drop_duplicates=drop_duplicates, **spec)
    cells = all_cells
    if fraction < 1.0:
        cells = all_cells.semi_join(signups, "uid")
    duplicates = _left_out(
        ev, all_cells, all_signups, check, as_of, spec, users is not None, drop_duplicates,
        counts, warnings, say,
    )  # fmt: skip
    kept = kept_cells(cells)

    say("Counting event types")
    type_counts, names = _candidate_names(kept, revenue_event, include_revenue_event, warnings)

    say(f"Measuring {len(names)} event types in the first {window_days} days, churn, revenue")
    spec = dict(names=names, window_days=window_days, horizon_days=horizon_days,
                revenue_event=revenue_event, gaps=gaps)  # fmt: skip
    population = None
    if fraction < 1.0:
        all_kept = kept_cells(all_cells)
        population = user_expr(all_kept, all_signups, **spec)
    say("Collecting one row per user")
    release = _releaser(all_cells, all_signups) if population is None else None
    data = collect_users(kept, signups, **spec, done_with_engine=release)
    return UserFrame(
        data=data,
        as_of=as_of,
        event_columns=_event_columns(names),
        event_counts=type_counts,
        counts=counts,
        gaps=tuple(gaps),
        sample_fraction=fraction,
        warnings=check.warnings + warnings,
        population=population,
        duplicates=duplicates,
    )


def _releaser(*tables: ibis.Table):
    """A call that frees the engine's cached copies once nothing will query them again."""

    def release() -> None:
        for table in tables:
            table.release()

    return release


def _require_revenue_event(check: EventCheck, revenue_event: str | None) -> None:
    """A revenue event that never occurs is a typo, not zero revenue: say so."""
    if revenue_event and revenue_event not in check.event_counts:
        raise InputError(
            f"{check.label}: revenue event '{revenue_event}' does not occur in the event log. "
            f"Event names present: {', '.join(list(check.event_counts)[:10])}."
        )


def _event_columns(names: list[str]) -> dict[str, str]:
    """The frame's column for each event's window count and active days (names as columns
    would collide after sanitising; positions do not)."""
    out = {}
    for i, name in enumerate(names):
        out[f"count__{i}"] = name
        out[f"days__{i}"] = name
    return out


def _population(
    ev: ibis.Table,
    users: pd.DataFrame | None,
    a_end: int,
    as_of: dt.date,
    max_users: int,
    counts: dict[str, int],
    warnings: list[str],
    label: str = "events",
) -> tuple[ibis.Table, ibis.Table, float]:
    """Signups up to the as-of date (cached), and the deterministic sample the statistics use
    when there are more than `max_users`: (sample, all signups, sampled fraction)."""
    signups = _signups(ev, users)
    signups = signups.mutate(a_days=((a_end - signups.signup_sec) / DAY).floor().cast("int64"))
    signups = signups.cache()  # one pass over the log; counted and filtered from the cache
    if users is None:
        signups = coverage.without_nobody(ev, signups, counts, warnings)
        signups = coverage.without_veterans(signups, counts, warnings, label)
    n_after = int(signups.filter(signups.a_days < 0).count().to_pandas())
    if n_after:
        counts["users_signed_up_after_as_of"] = n_after
        warnings.append(
            f"{n_after:,} users signed up after the as-of date {as_of} and are left out."
        )
        everyone = signups
        signups = signups.filter(signups.a_days >= 0).cache()  # used by every query below
        everyone.release()
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
    return signups, all_signups, fraction


def _left_out(
    ev: ibis.Table,
    all_cells: ibis.Table,
    all_signups: ibis.Table,
    check: EventCheck,
    as_of: dt.date,
    spec: dict,
    with_users: bool,
    drop_duplicates: bool,
    counts: dict[str, int],
    warnings: list[str],
    say,
) -> int:
    """Count what is left out (before signup, after the as-of date, unknown users) and the
    exact duplicate rows, with a warning for each; the number of duplicates."""
    drops = _drop_counts(ev, all_cells, all_signups, with_users)
    check.n_users = drops.pop("users_with_events")
    if with_users and check.n_users == 0:
        raise InputError(coverage.no_shared_users(ev, all_signups, check.label))
    if not with_users:
        coverage.refuse_one_event_each(check)
    if with_users:
        silent = coverage.users_without_events(all_signups, check)
        if silent:
            warnings.append(silent)
    duplicates, every = drops.pop("duplicate_events"), 1
    if not drop_duplicates:
        say("Looking for exact duplicate events")
        duplicates, every = logcells.duplicates(ev, all_signups, check.n_rows, **spec)
    counts.update(drops)
    if with_users and counts.get("events_before_signup", 0) > EARLY_EVENTS_SHARE * check.n_rows:
        shifted = coverage.signup_offset(ev, all_signups, check.label)
        if shifted:
            warnings.append(shifted)
    for reason, label in (
        ("events_before_signup", "events before the user's signup were dropped"),
        ("events_after_as_of", f"events after the as-of date {as_of} were ignored"),
        ("events_of_unknown_users", "events of users not in the users table were dropped"),
    ):
        if counts.get(reason):
            warnings.append(f"{counts[reason]:,} {label}.")
    if duplicates:
        warnings.append(
            _duplicates_note(
                duplicates,
                spec["window_days"],
                spec["revenue_event"],
                drop_duplicates,
                every,
                check.dates_only,
            )  # fmt: skip
        )
        if drop_duplicates:  # dropped rows are counted with the others left out
            counts["duplicate_events_dropped"] = duplicates
    return duplicates


def _candidate_names(
    kept: ibis.Table, revenue_event: str | None, include_revenue_event: bool, warnings: list[str]
) -> tuple[dict, list[str]]:
    """Window counts per event type, and the (at most MAX_EVENT_TYPES) most frequent names
    that become candidates; the revenue event only when asked for."""
    type_counts, n_types = _cell_type_counts(kept, revenue_event)
    names = [e for e in type_counts if include_revenue_event or e != revenue_event]
    names = names[:MAX_EVENT_TYPES]
    if n_types - (revenue_event in type_counts and not include_revenue_event) > MAX_EVENT_TYPES:
        warnings.append(
            f"{n_types:,} event types: only the {MAX_EVENT_TYPES} most frequent become candidates."
        )
    return type_counts, names


def usable_events(std: ibis.Table, check: EventCheck) -> ibis.Table:
    """Complete rows dated before the plausible end (EventCheck), with `sec`: whole epoch
    seconds, floored the same way on every engine."""
    ev = std.filter(std.user_id.notnull() & std.event.notnull() & std.ts.notnull())
    if check.plausible_end is not None:
        # sec < E for a whole E (a midnight, UTC) is ts < E: no arithmetic on every row
        ev = ev.filter(ev.ts < ibis.literal(check.plausible_end.to_pydatetime()))
    return ev.mutate(sec=epoch_sec(ev.ts))


EARLY_EVENTS_SHARE = 0.01  # events before signup above which a shifted clock is looked for

DAYS_PER_QUERY = 500_000  # users whose active days come to Python in one query (memory)


def collect_users(
    cells, signups, *, names, window_days, horizon_days, revenue_event, gaps, done_with_engine=None
):
    """One row per user as pandas: the rows `_user_expr` describes, assembled in Python from
    small queries instead of one wide join in the engine.

    The engine groups the window's cells per (user, event type) and the revenue cells per user;
    each user's active days come over as (uid, day) pairs (Arrow, a bounded number of users
    per query), and the silences between them — churn for every gap — are found with NumPy
    (`churn_from_days`): a sort of integer keys instead of a window function in the engine.
    done_with_engine: called after the last query, before the NumPy work, so the engine's
    cached cells are freed before the largest arrays are made (the 125M-event peak).
    """
    base = signups.select("uid", "user_id", "signup_sec", "a_days").to_pandas()
    base = base.sort_values("user_id", kind="stable").reset_index(drop=True)
    uid = base["uid"].to_numpy(np.int64)
    n = uid.size
    lut = _positions(uid)
    layout = _frame_layout(names, gaps)
    block = np.zeros((len(layout), n))  # the frame's float columns, filled where they are made
    at = {name: i for i, name in enumerate(layout)}
    _fill_window_columns(block, at, cells, names, lut)
    if revenue_event:
        rev = revenue_per_user(cells, revenue_event, window_days, horizon_days).to_pandas()
        rows = _rows_of(rev["uid"].to_numpy(np.int64), lut)
        block[at["revenue_h"], rows] = rev["revenue_h"].fillna(0).to_numpy(float)
        check_finite_revenue(block[at["revenue_h"]], base["user_id"], revenue_event)
    a_days = base["a_days"].to_numpy(np.int64)
    keys = _active_day_keys(cells, lut, int(uid.max()) if n else 0)
    if done_with_engine is not None:  # the last query: the engine's memory goes back first
        done_with_engine()
    for name, values in churn_from_days(keys, a_days, gaps, window_days).items():
        block[at[name]] = values
    del keys
    counts = block[[at[f"count__{i}"] for i in range(len(names))]]
    block[at["distinct_events"]] = (counts > 0).sum(axis=0)
    del counts
    block[at["signup_sec"]] = base["signup_sec"].to_numpy(float)
    frame = pd.DataFrame(block.T, columns=layout, copy=False)
    frame.insert(0, "user_id", base["user_id"].to_numpy())
    frame.insert(2, "a_days", a_days)
    return frame


def _frame_layout(names: list[str], gaps) -> list[str]:
    """The frame's float columns in order: signup, each candidate type's window count and
    active days, then the per-user figures and churn for each gap."""
    per_type = [f"{kind}__{i}" for i in range(len(names)) for kind in ("count", "days")]
    figures = ["total_events", "active_days", "last_day", "revenue_h", "distinct_events"]
    return ["signup_sec", *per_type, *figures, *(f"churn_day_g{g}" for g in gaps)]


def _positions(uid: np.ndarray) -> np.ndarray | None:
    """Each uid's row in the frame, as a lookup table; None when uid is the row already (the
    users come numbered in user_id order), which spares a gather per cell."""
    n = uid.size
    if n == 0 or (int(uid.max()) == n - 1 and bool(np.all(uid == np.arange(n)))):
        return None
    lut = np.full(int(uid.max()) + 1, -1, dtype=np.int64)
    lut[uid] = np.arange(n)
    return lut


def _rows_of(uid: np.ndarray, lut: np.ndarray | None) -> np.ndarray:
    """The frame rows of these uids (see `_positions`)."""
    return uid if lut is None else lut[uid]


def _fill_window_columns(block, at, cells, names, lut) -> None:
    """count__i, days__i per candidate type and total_events per user, from the window's
    cells per (user, event type), written straight into the frame's block (a grid per figure
    first cost 0.6 s each at 2M users, most of it in touching fresh memory)."""
    win = cells.filter(cells.kind == WINDOW)
    per = _window_per_type(win, names)
    rows = _rows_of(per["uid"], lut)
    n = block.shape[1]
    block[at["total_events"]] = np.bincount(rows, weights=per["n"], minlength=n)
    mine = per["code"] >= 0
    if not mine.all():  # the long tail counts in total_events only
        rows, per = rows[mine], {k: v[mine] for k, v in per.items()}
    if not names:
        return
    # count__i and days__i are neighbours: flat position (row of count__i)·n + user, then + n
    flat = block.reshape(-1)
    where = (at["count__0"] + 2 * per["code"]) * n + rows
    # added, not assigned: a window longer than a day block has several cells per type
    np.add.at(flat, where, per["n"])
    where += n
    np.add.at(flat, where, per["days"])


def _window_per_type(win: ibis.Table, names: list[str]) -> dict[str, np.ndarray]:
    """Events and active days of each window cell (user, type, day block), as NumPy arrays
    (uid, code, n, days): each name becomes its position in `names` by a join with a small
    table, and the long tail shares code −1 (it counts in total_events only). Integer codes
    come over Arrow without a Python string per row (13.6M such rows took 77 s at 2M users)."""
    if names:
        codes = ibis.memtable(
            pd.DataFrame({"type_name": names, "code": np.arange(len(names), dtype=np.int64)})
        )
        joined = win.left_join(codes, win.event == codes.type_name)
        win = joined.select(
            uid=joined.uid, code=joined.code.fill_null(-1), n=joined.n, bits=joined.bits
        )
    else:
        win = win.select("uid", "n", "bits", code=ibis.literal(-1, "int64"))
    # no group-by: a candidate's cells are one per (user, block) already, and the long tail
    # (code −1) only adds to total_events, which the caller sums
    per = win.select("uid", "code", "n", "bits").to_pyarrow()
    code = _ints(per.column("code"))
    uid = _ints(per.column("uid"))
    return {
        "uid": uid,
        "code": code,
        "n": per.column("n").to_numpy().astype(float),
        "days": daybits.popcount(per.column("bits").to_numpy()).astype(float),
    }


def _active_day_keys(cells, lut: np.ndarray, max_uid: int) -> np.ndarray:
    """Sorted distinct keys row·2²⁰ + day of every user's active days (row = the user's
    position in the frame), from their day blocks, fetched DAYS_PER_QUERY users at a time."""
    blocks = daybits.day_blocks(cells)
    rows, starts, bits = [], [], []
    for lo in range(0, max_uid + 1, DAYS_PER_QUERY):
        chunk = blocks.filter((blocks.uid >= lo) & (blocks.uid < lo + DAYS_PER_QUERY))
        got = chunk.to_pyarrow()
        rows.append(_rows_of(_ints(got.column("uid")), lut))
        starts.append(_ints(got.column("block")))
        bits.append(_ints(got.column("bits")))
    if not rows:
        return np.zeros(0, dtype=np.int64)
    return daybits.day_keys(np.concatenate(rows), np.concatenate(starts), np.concatenate(bits))


def churn_from_days(keys: np.ndarray, a_days: np.ndarray, gaps, window_days) -> dict:
    """Per user, from the sorted distinct keys row·2²⁰ + day of the active days: active days
    in the window, the last active day, and churn for each gap g — the rule of `_user_expr`:
    signup is activity on day 0, so a first event ≥ g days later churns at 0; else the last
    active day before the first silence of ≥ g days between active days; else the last active
    day, if the final silence reaches the as-of date (NaN = not churned)."""
    n = a_days.size
    rows = (keys >> DAY_BITS).astype(np.int32 if n < 2**31 else np.int64)
    d = (keys & ((1 << DAY_BITS) - 1)).astype(np.int32)  # 4 bytes an active day, not 8
    new_user = np.ones(keys.size, dtype=bool)
    new_user[1:] = rows[1:] != rows[:-1]
    starts = np.flatnonzero(new_user)
    ends = np.append(starts[1:], keys.size) if starts.size else starts  # no key: no user
    users = rows[starts]
    has_days = np.zeros(n, dtype=bool)
    has_days[users] = True
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[users] = d[starts]
    last[users] = d[ends - 1]
    active = np.bincount(rows[d < window_days], minlength=n).astype(float)
    step = np.zeros_like(d)  # the next active day's distance (int32: np.diff's append made
    np.subtract(d[1:], d[:-1], out=step[:-1])  # int64 and took 1.2 s at 49M days, this 0.04)
    inside = ~np.append(new_user[1:], True)  # a user's last day has no next day
    del new_user
    out = {"active_days": active, "last_day": last.astype(float)}
    for g in gaps:
        # each user's first day followed by a silence of ≥ g days: the first such position at
        # or after the user's first key, if it is before the user's last (no array per key)
        silences = np.flatnonzero(inside & (step >= g))
        nxt = np.searchsorted(silences, starts)
        first_hit = (
            silences[np.minimum(nxt, max(silences.size - 1, 0))] if silences.size else starts
        )
        found = (nxt < silences.size) & (first_hit < ends)
        inner = np.full(n, np.nan)
        inner[users[found]] = d[first_hit[found]]
        final = np.where(a_days - last >= g, last.astype(float), np.nan)
        churn = np.where(first >= g, 0.0, np.where(np.isnan(inner), final, inner))
        out[f"churn_day_g{g}"] = np.where(has_days, churn, final)  # never active: silent
    return out


def _duplicates_note(
    n: int,
    window_days: int,
    revenue_event: str | None,
    dropped: bool,
    every: int = 1,
    dates_only: bool = False,
) -> str:
    where = f"in the first {window_days} days" + (
        f" or of the revenue event '{revenue_event}'" if revenue_event else ""
    )
    if dates_only and not dropped:
        # a day is the finest time such a log has: two lessons on one day are one row twice
        return (
            f"{'About ' if every > 1 else ''}{n:,} event rows {where} repeat another row "
            "exactly (same user, event, date and value). The timestamps are dates without a "
            "time of day, so two events of one type on one day look alike: they are counted "
            "as separate events, as they most likely are. Count exact duplicates once only if "
            "the export itself sent rows twice."
        )
    if every > 1:
        return (
            f"About {n:,} exact duplicate event rows (same user, event, timestamp and value) "
            f"{where} are counted as separate events: {n // every:,} among every "
            f"{_ordinal(every)} user, whose rows were compared (the log is too large to compare "
            "every row). If they are double-sent events, set the analysis to count exact "
            "duplicate events once."
        )
    if dropped:
        return (
            f"{n:,} exact duplicate event rows (same user, event, timestamp and value) {where} "
            "were dropped: each counts once."
        )
    return (
        f"{n:,} exact duplicate event rows (same user, event, timestamp and value) {where} are "
        "counted as separate events. If they are double-sent events, set the analysis to "
        "count exact duplicate events once."
    )


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _cell_type_counts(cells: ibis.Table, revenue_event: str | None) -> tuple[dict, int]:
    """Events per event name in the window (plus the revenue event), most frequent first
    (ties by name, so every engine orders them alike); only the names that can become
    candidates come into memory, with the number of names there are."""
    named = cells.filter(cells.event.notnull())
    per = named.group_by("event").aggregate(n=named.n.sum())
    # one query: the revenue event sorts first so the limit keeps it, and the number of
    # names rides along as a window count (two more scans of the cells before)
    first = (per.event == revenue_event) if revenue_event else ibis.literal(False)
    per = per.mutate(first=first.cast("int8"), n_types=per.event.count().over(ibis.window()))
    top = per.order_by([ibis.desc("first"), ibis.desc("n"), "event"])
    df = top.limit(MAX_EVENT_TYPES + 2).to_pandas()
    n_types = int(df["n_types"].iloc[0]) if len(df) else 0
    df = df.sort_values(["n", "event"], ascending=[False, True], kind="stable")
    # the MAX_EVENT_TYPES + 1 most frequent, and the revenue event wherever it stands
    df = df[(np.arange(len(df)) <= MAX_EVENT_TYPES) | (df["first"] == 1).to_numpy()]
    return dict(zip(df["event"].astype(str), df["n"].astype(int), strict=True)), n_types


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
        # the first timestamp, then its floored seconds (monotone): no arithmetic per row
        first = ev.group_by("user_id").aggregate(signup_sec=epoch_sec(ev.ts.min()).cast("float64"))
        # ordered, so that a recomputed partition (Spark) numbers users the same way again
        return first.mutate(uid=ibis.row_number().over(order_by=first.user_id).cast("int64"))
    frame = users[["user_id", "signup_sec"]].astype({"user_id": str, "signup_sec": float})
    return register_frame(ev, frame.assign(uid=range(len(frame))), "northstar_signups")


def _drop_counts(ev, cells, signups, has_users: bool) -> dict[str, int]:
    """Events dropped before signup or after the as-of date and duplicate rows (from the
    cells), the users with events, and events of users missing from the users table (one
    anti-join, only when a users table is given)."""
    stats = (
        cells.aggregate(
            events_before_signup=cells.n.sum(where=cells.kind == BEFORE_SIGNUP),
            events_after_as_of=cells.n.sum(where=cells.kind == AFTER_AS_OF),
            duplicate_events=cells.dup.sum(where=cells.kind <= REVENUE),
        )
        .to_pandas()
        .iloc[0]
    )
    keys = ("events_before_signup", "events_after_as_of", "duplicate_events")
    out = {k: engine_count(stats[k]) for k in keys}
    # signups made from the events are users with events by construction: count, not nunique
    with_events = cells.uid.nunique() if has_users else signups.count()
    out["users_with_events"] = int(with_events.to_pandas())
    if has_users:
        unknown = ev.anti_join(signups, "user_id")
        out["events_of_unknown_users"] = int(unknown.count().to_pandas())
    return out


def _ints(column) -> np.ndarray:
    """An Arrow integer column as int64 NumPy, without a second copy when it is int64."""
    return np.asarray(column.to_numpy(), dtype=np.int64)
