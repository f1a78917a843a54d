"""Whether the event log and the users table describe the same people.

They are joined on the user id. Two files that name users differently (another id column, a
prefix, '42' against 'u42') share no user, and every user of the table then looks inactive
from signup. A log that holds only some of the table's users (a sample, a shorter period)
gives most of them counts of 0. Both are said, with examples, instead of being ranked as if
they were behaviour.
"""

from __future__ import annotations

import ibis

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
