"""Whether the event log and the users table describe the same people.

They are joined on the user id. Two files that name users differently (another id column, a
prefix, '42' against 'u42') share no user, and every user of the table then looks inactive
from signup. A log that holds only some of the table's users (a sample, a shorter period)
gives most of them counts of 0. Both are said, with examples, instead of being ranked as if
they were behaviour.
"""

from __future__ import annotations

import ibis
import pandas as pd

from ..errors import InputError
from .events import EventCheck

NO_EVENTS_SHARE = 0.5  # above this share of users-table users without events, a warning


def users_without_events(signups: ibis.Table, check: EventCheck) -> str | None:
    """A warning when most of the users table has no event in the log: their counts are all
    0 and, with churn from inactivity, they are inactive from signup; usually the log holds
    only some of them (a sample, a shorter period), which would bias every figure."""
    n_table = int(signups.count().to_pandas() or 0)
    silent = n_table - (check.n_users or 0)
    if silent <= NO_EVENTS_SHARE * n_table:
        return None
    return (
        f"{silent:,} of the {n_table:,} users in the users table have no event in "
        f"{check.label}: every count of theirs is 0, and where churn comes from inactivity "
        "they are inactive from signup (churned in the window). If the log holds only some "
        "of these users (a sample, a shorter period), load the matching users only."
    )


def no_shared_users(ev: ibis.Table, signups: ibis.Table, label: str) -> str:
    """Words for an event log and a users table with no user in common, with ids of each:
    usually the two name users differently (another id column, a prefix, 42 vs 'u42')."""
    ids_ev = ev.select("user_id").distinct().limit(3).to_pandas()["user_id"].tolist()
    ids_us = signups.select("user_id").limit(3).to_pandas()["user_id"].tolist()
    return (
        f"No user of the event log {label} is in the users table: the event log's ids look "
        f"like {', '.join(repr(str(i)) for i in ids_ev)}, the users table's like "
        f"{', '.join(repr(str(i)) for i in ids_us)}. Map the user id column that both files "
        "share."
    )


#: A timezone mismatch between the users table's signups and the log: at least this share of
#: users first act within a day *before* their signup, most of them by one whole offset.
EARLY_SHARE, OFFSET_SHARE = 0.3, 0.6
QUARTER_HOUR = 900  # offsets are whole quarter hours (UTC+5:45 exists)


def signup_offset(ev: ibis.Table, signups: ibis.Table, label: str) -> str | None:
    """A warning when the users table's signup times look shifted against the event log's:
    many users' first event comes less than a day before their signup, most of them by the
    same whole number of quarter hours — signups written in local time beside events in UTC.
    Those users' onboarding events are dropped as 'before signup', which cuts every window
    count short. One group-by per user, run only when many events fell before signup."""
    first = ev.group_by("user_id").aggregate(first_sec=ev.sec.min())
    j = first.inner_join(signups.select("user_id", "signup_sec"), "user_id")
    early = j.signup_sec - j.first_sec
    j = j.mutate(
        q=(early / QUARTER_HOUR).round().cast("int64"), early=(early > 0) & (early < 86_400)
    )
    early_users = j.filter(j.early)
    shifts = early_users.group_by("q").aggregate(n=early_users.count())
    top = shifts.order_by(ibis.desc("n")).limit(1).to_pandas()
    n_users = int(j.count().to_pandas() or 0)
    n_early = int(shifts.n.sum().to_pandas() or 0)
    if not n_users or n_early < EARLY_SHARE * n_users or top.empty:
        return None
    quarters, n_mode = int(top["q"].iloc[0]), int(top["n"].iloc[0])
    if quarters == 0 or n_mode < OFFSET_SHARE * n_early:
        return None
    hours = f"{quarters // 4}:{quarters % 4 * 15:02d}" if quarters % 4 else f"{quarters // 4}"
    return (
        f"For {n_early / n_users:.0%} of the users their first event in {label} comes less than "
        f"a day before their signup time in the users table, for most of them by {hours} hours: "
        f"the signup times look like local time (UTC+{hours}) while the events are in UTC. "
        "Those users' first events were dropped as before signup, which cuts their window "
        "counts short. Write the signup times in UTC, or with their offset "
        f"(2025-03-01T14:00:00+{quarters // 4:02d}:{quarters % 4 * 15:02d})."
    )


#: Events per user at or below which the "users" are not people: an order id, a session id
#: or a per-order customer id (Olist's `customer_id`) names one event each.
ONE_EVENT_EACH = 1.1


def refuse_one_event_each(check: EventCheck) -> None:
    """Every user with (nearly) a single event cannot be followed past it: say that the user
    column names events, not people, instead of "no user was followed for a day"."""
    usable = check.n_rows - check.dropped_missing - check.n_implausible
    if not check.n_users or check.n_users < 20 or usable > ONE_EVENT_EACH * check.n_users:
        return
    raise InputError(
        f"{check.label}: {check.n_users:,} users for {usable:,} events: nearly every user has a "
        "single event, so nobody can be followed after it. The user column seems to name "
        "orders, sessions or visits rather than people. Choose the column that names a person "
        "(a customer's unique id, often in a customers table joined to the orders)."
    )


#: User ids that name nobody: what trackers and exports write for a visitor who was not
#: logged in (Sparkify's logged-out rows have userId ''). Looked for among the signups, one
#: row per user, so a clean log pays no test on every row.
NO_USER_TEXTS = ("", " ", "null", "NULL", "Null", "undefined", "None", "none", "nan", "NaN",
                 "N/A", "n/a", "-")  # fmt: skip


def without_nobody(ev, signups, counts: dict[str, int], warnings: list[str]) -> ibis.Table:
    """The signups without ids that name nobody, whose events are dropped and counted."""
    nobody = signups.user_id.isin(NO_USER_TEXTS)
    found = signups.filter(nobody).user_id.to_pandas().tolist()
    if not found:
        return signups
    n = int(ev.filter(ev.user_id.isin(found)).count().to_pandas())
    counts["events_without_user"] = n
    shown = ", ".join("empty" if not f.strip() else repr(f) for f in sorted(found))
    warnings.append(
        f"{n:,} events whose user id is {shown} (a visitor who was not logged in) belong to "
        "nobody and were dropped."
    )
    everyone = signups
    signups = signups.filter(~nobody).cache()
    everyone.release()
    return signups


#: A log's first days hold users who were there before it began when as many users are first
#: seen on each of them as on this many typical days (the median day after the first week).
VETERAN_SPIKE = 5
MIN_DAYS_TO_JUDGE = 28


def without_veterans(signups, counts: dict[str, int], warnings: list[str], label: str):
    """The signups without the users first seen in the spike a log's first days show when it
    began after the product did (a "last 90 days" export): their first event is the log's
    start, not their signup, so their "first W days" are not their first days and would be
    ranked as a new user's (left truncation, METHODS §1.6)."""
    day = (signups.signup_sec / 86400).floor().cast("int64")
    per_day = signups.group_by(day=day).aggregate(n=signups.count()).order_by("day").to_pandas()
    if len(per_day) < MIN_DAYS_TO_JUDGE:
        return signups
    d0 = int(per_day["day"].iloc[0])
    typical = float(per_day.loc[per_day["day"] >= d0 + 7, "n"].median())
    spike = per_day["n"].to_numpy() > VETERAN_SPIKE * max(typical, 1.0)
    run = int(spike.argmin()) if not spike.all() else len(spike)  # leading spike days
    if run == 0 or run > 7:
        return signups
    last = int(per_day["day"].iloc[run - 1])
    n = int(per_day["n"].iloc[:run].sum())
    counts["users_first_seen_when_the_log_began"] = n
    first = pd.Timestamp(d0 * 86400, unit="s")
    warnings.append(
        f"{label}: {n:,} users are first seen in the log's first {run} day"
        f"{'s' if run > 1 else ''} (from {first:%Y-%m-%d}; a typical day has {typical:,.0f} new "
        "users): they were users before the log began, so their first days in it are not "
        "their first days, and they are left out. If the product launched then, load a users "
        "table with their signup dates to keep them."
    )
    everyone = signups
    signups = signups.filter(day > last).cache()
    everyone.release()
    return signups
