"""Churn as an event in the log: the first time a user did the churn event is their
cancellation (METHODS §1.2).

Sparkify's 'Cancellation Confirmation', a SaaS log's 'subscription_cancelled': when the log
records the cancellation itself, waiting for g silent days says less, and later, than the log
does. The first such event per user is read in the engine (one small grouped query: one row per
user who did it) and then treated exactly as a users table's cancellation time.
"""

from __future__ import annotations

import difflib

import ibis
import pandas as pd

from ..errors import InputError
from .events import EventCheck, epoch_sec


def check_churn_event(check: EventCheck, name: str, revenue_event: str | None,
                      has_cancel_column: bool) -> None:  # fmt: skip
    """A churn event must occur in the log, be neither the revenue event nor a second source of
    cancellations beside a users table's cancellation column."""
    if has_cancel_column:
        raise InputError(
            f"{check.label}: churn is asked to come from the event '{name}', but the users table "
            "also has a cancellation column: give one source of churn.",
            cli="Drop --churn-event, or the users table's --churn-col.",
            app="Choose either the churn event or the users table's cancellation column.",
        )
    if name == revenue_event:
        raise InputError(
            f"{check.label}: '{name}' cannot be both the revenue event and the churn event."
        )
    if name in check.event_counts:
        return
    close = difflib.get_close_matches(name, list(check.event_counts), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(
        f"{check.label}: churn event '{name}' does not occur in the event log.{hint} Event "
        f"names present: {', '.join(repr(e) for e in list(check.event_counts)[:10])}."
    )


def first_churn_event(ev: ibis.Table, name: str) -> pd.DataFrame:
    """user_id and cancel_sec (whole epoch seconds) of each user's first churn event, from the
    usable events (`aggregate.usable_events`: complete rows before the plausible end)."""
    did = ev.filter(ev.event == name)
    churned = did.group_by("user_id").agg(first=did.ts.min())
    out = churned.select("user_id", cancel_sec=epoch_sec(churned["first"])).to_pandas()
    out["cancel_sec"] = out["cancel_sec"].astype(float)
    return out
