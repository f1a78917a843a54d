"""Which column means what: explicit mappings, pre-filled by recognising common names.

Recognition only proposes; the user can always override (CLI flags, the app's mapping step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..errors import InputError

EVENT_NAMES = {
    "user": ["user_id", "userid", "uid", "customer_id", "customerid", "account_id",
             "member_id", "client_id", "user", "customer", "visitor_id", "visitorid",
             "person_id", "distinct_id", "player_id", "subscriber_id", "customer_unique_id",
             "msno", "clientnum", "client_num", "customer_number", "customer_no", "cust_id",
             "custid", "account_number", "member_number", "subscriber_number", "visitor",
             "member", "client", "account", "id"],
    "timestamp": ["timestamp", "ts", "time", "event_time", "event_timestamp", "occurred_at",
                  "event_at", "datetime", "created_at", "event_date", "date", "event_datetime",
                  "event_ts", "logged_at", "happened_at", "tracked_at", "sent_at"],
    "event": ["event", "event_name", "event_type", "action", "activity", "name", "type",
              "page", "page_name", "screen", "screen_name", "event_action", "action_type",
              "activity_type", "behavior", "behaviour", "behavior_type", "behaviour_type"],
    "value": ["value", "amount", "revenue", "price", "event_value", "value_usd"],
}  # fmt: skip

#: When no column has one of an event log's known names, the first column (in the file's
#: order) whose name has the role's shape: `visitorid`, `Customer ID`, `playerId`;
#: `InvoiceDate`, `order_purchase_timestamp`, `purchased_at`. A value column is never
#: guessed this way: `Quantity` beside `UnitPrice` is not an amount (METHODS §1.6).
EVENT_NAME_SHAPES = {
    "user": re.compile(r"(^|_)(user|customer|cust|client|visitor|member|account|person|player"
                       r"|subscriber|buyer|shopper|learner|student|patient)_?(id|num|number|no)$"),
    "timestamp": re.compile(r"(^|_)(date|time|timestamp|datetime|ts)$|_at$|_on$"),
    "event": re.compile(r"(^|_)(event|action|activity|interaction)(_(name|type|kind))?$"),
}  # fmt: skip

USER_NAMES = {
    "user": EVENT_NAMES["user"],
    "signup": ["signup_at", "signup", "signup_date", "signup_time", "signed_up_at",
               "signup_ts", "signup_timestamp", "created_at", "created", "created_date",
               "creation_date", "account_created", "account_created_at", "registered_at",
               "registered", "registration_date", "registration_time", "join_date", "joined_at",
               "joined", "date_joined", "member_since", "customer_since", "start_date",
               "started_at", "subscription_start", "activated_at", "activation_date",
               "first_seen"],
    "cancel": ["cancelled_at", "canceled_at", "cancel_at", "cancel_date", "cancellation_date",
               "cancellation_time", "cancelled_date", "canceled_date", "churned_at", "churn_date",
               "churn_time", "ended_at", "end_date", "end_time", "subscription_end",
               "subscription_ended_at", "closed_at", "deactivated_at", "cancelled_on",
               "canceled_on", "churned_on", "ended_on", "closed_on", "terminated_at",
               "terminated_on", "termination_date", "cancel_time", "unsubscribed_at",
               "date_cancelled", "date_canceled", "date_churned", "deleted_at"],
    "last_active": ["last_active", "last_active_at", "last_seen", "last_seen_at",
                    "last_activity", "last_activity_at", "last_login"],
    "duration": ["tenure_days", "duration_days", "duration", "tenure", "lifetime_days",
                 "days_active_span", "tenure_weeks", "tenure_months", "duration_weeks",
                 "duration_months", "lifetime_months", "time_to_event", "survival_time",
                 "week", "weeks", "months", "tenure_years", "duration_years", "years",
                 "months_on_book", "tenure_in_months", "tenure_in_days", "days_since_signup",
                 "account_length"],
    "churn": ["churned", "churn", "is_churned", "has_churned", "cancelled", "canceled",
              "event", "exited", "churn_flag", "is_churn", "churn_value", "churn_label",
              "attrition_flag", "attrition", "attrited", "churn_status", "customer_status",
              "observed", "arrest", "died",
              "dead", "death"],
    # rates before running totals: a rate is read as given, a total only through tenure
    "revenue": ["revenue_per_month", "monthly_revenue", "mrr", "arpu", "monthly_charges",
                "monthly_charge", "monthly_fee", "monthly_spend", "monthly_payment", "revenue",
                "total_revenue", "ltv", "total_charges", "total_spend"],
}  # fmt: skip


def normalise(name: str) -> str:
    """'Signup At' and 'signup-at' both become 'signup_at' for matching."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def name_forms(name: str) -> tuple[str, ...]:
    """The normalised name, and camelCase split when that differs: 'CustomerID' is
    'customerid' and 'customer_id', 'InvoiceDate' 'invoicedate' and 'invoice_date'."""
    plain = normalise(name)
    split = normalise(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)))
    return (plain,) if split == plain else (plain, split)


def name_words(name: str) -> set[str]:
    """The words of every form of a name and each pair of neighbours ('Total Revenue':
    total, revenue, total_revenue): what word lists with two-word entries are matched on."""
    words: set[str] = set()
    for form in name_forms(name):
        parts = form.split("_")
        words.update(parts)
        words.update("_".join(pair) for pair in zip(parts, parts[1:], strict=False))
    return words


#: Words that, after 'since', make a name count the time since the user's own previous or last
#: action: 'days_since_prior_order' (Instacart), 'DaySinceLastOrder', 'time_since_last_login'.
_EARLIER_ACTION_WORDS = frozenset({"last", "latest", "prior", "previous", "recent", "preceding"})


def counts_time_since_last(name: str) -> bool:
    """A name that measures time since the user's own last (or previous) action — recency:
    'days_since_last_login', 'DaySinceLastOrder', 'Recency', 'last_seen_days_ago'. In a users
    table it is read when the table was exported and is how churn is told, so it leads
    nothing; in an event log it is a time with no shared calendar. ('days_active_last_30' is a
    count in a window, not this: 'last' alone is not enough.)"""
    words = [w for form in name_forms(name) for w in form.split("_")]
    if "recency" in words or "ago" in words:
        return True
    return any(
        w == "since" and set(words[i + 1 :]) & _EARLIER_ACTION_WORDS for i, w in enumerate(words)
    )


def recognise(
    columns: list[str], table: dict[str, list[str]], taken=(), shapes: dict | None = None
) -> dict[str, str | None]:
    """First column whose normalised name matches a known name, per role (in the order of the
    role's names); each column used once. Then, for roles still open, the first column whose
    name has the role's shape in `shapes` (`EVENT_NAME_SHAPES`)."""
    norm: dict[str, str] = {}
    for c in columns:
        for form in name_forms(c):
            norm.setdefault(form, c)
    used = set(taken)
    found: dict[str, str | None] = {}
    for role, names in table.items():
        found[role] = next((norm[n] for n in names if n in norm and norm[n] not in used), None)
        if found[role] is not None:
            used.add(found[role])
    for role, shape in (shapes or {}).items():
        if found.get(role) is None:
            found[role] = next((c for c in columns if c not in used
                                and any(shape.search(f) for f in name_forms(c))), None)  # fmt: skip
            if found[role] is not None:
                used.add(found[role])
    return found


def with_recorded(explicit: dict | None, recorded: dict | None, columns: list[str]) -> dict:
    """A mapping for newer data read as a decision's data was: the recorded role of each
    column the new file still has (and a recorded 'every row is one event'), then what is
    asked now on top. A recorded column the file lacks is left to recognition."""
    out = {
        role: col
        for role, col in (recorded or {}).items()
        if isinstance(col, str) and (col in columns or role in ("one_event", "duration_unit"))
    }
    out.update({k: v for k, v in (explicit or {}).items() if v is not None})
    return out


def declined_roles(explicit: dict) -> list[str]:
    """Roles the analyst set to none ('' in a mapping): recognition must not fill them again
    (the app's "— none —" for a Revenue it had proposed used to be proposed once more)."""
    return [k for k, v in explicit.items() if v == ""]


def recognise_events(columns: list[str], taken=()) -> dict[str, str | None]:
    """An event log's roles: known names first, then the roles' shapes."""
    return recognise(columns, EVENT_NAMES, taken=taken, shapes=EVENT_NAME_SHAPES)


@dataclass(frozen=True)
class EventColumns:
    """Column names in an event log: user id, timestamp, event name, optional numeric value."""

    user: str
    timestamp: str
    event: str | None
    value: str | None = None
    #: events per row, for a log rolled up per user, day and event ('user, date, event,
    #: count'; `rollup`); set only when asked, never guessed
    count: str | None = None
    #: the one event every row is, for a log without an event column (an order or purchase
    #: log: UCI Online Retail, Olist's orders); set only when asked, never guessed
    one_event: str | None = None

    @classmethod
    def recognise(cls, columns: list[str], label: str = "events", **explicit) -> EventColumns:
        """Recognised names, overridden by explicit ones; missing required roles raise."""
        one_event = (explicit.pop("one_event", None) or "").strip() or None
        found = recognise_events(columns, taken=[v for v in explicit.values() if v])
        found.update({k: v for k, v in explicit.items() if v})
        found.update({k: None for k in declined_roles(explicit)})
        if one_event:
            found["event"] = None  # every row is that event, whatever a column is named
        return cls(**found, one_event=one_event).checked(columns, label)

    def checked(self, columns: list[str], label: str) -> EventColumns:
        """Every mapped column must exist; say which are missing and what the file has."""
        problems = []
        roles = ("user", "timestamp") if self.one_event else ("user", "timestamp", "event")
        for role in roles:
            if not getattr(self, role):
                problems.append(
                    f"{label}: no {role} column found. Columns present: {show_columns(columns)}. "
                    f"Say which column holds the {ROLE_WORDS[role]} in the column mapping, or "
                    f"rename it to one of {', '.join(EVENT_NAMES[role][:4])}."
                )
                if role == "timestamp":
                    problems += relative_time_problems(columns, label)
        for role in ("user", "timestamp", "event", "value", "count"):
            col = getattr(self, role)
            if col and col not in columns:
                problems.append(
                    f"{label}: column '{col}' (for {role}) is missing. Columns present: "
                    f"{show_columns(columns)}."
                )
        if not problems:
            return self
        err = InputError.collect(problems)
        if not self.event and not self.one_event:
            err.cli_hint = ONE_EVENT_HINTS["cli"]
            err.app_hint = ONE_EVENT_HINTS["app"]
        raise err


def relative_time_problems(columns: list[str], label: str) -> list[str]:
    """Why a log whose only times count from each user's previous row cannot be read
    (Instacart's orders: order_number and days_since_prior_order, no date): said beside "no
    timestamp column", because the plain message would send the analyst to map that column as
    the time, which no unit makes one."""
    relative = [c for c in columns if counts_time_since_last(c)]
    if not relative:
        return []
    return [
        f"{label}: column {show_columns(relative)} counts the time since each user's previous "
        "row, not a date or time. Times that start again with every user have no calendar in "
        "common, so who had stopped by a given date, and who was still being followed, cannot "
        "be told. The event log needs each row's date or time; if the source has none, bring "
        "a users table with each user's tenure and a churn flag instead."
    ]


#: What to do when a log has no event column because every row is one kind of event.
ONE_EVENT_HINTS = {
    "cli": "If every row is one kind of event (an order or purchase log), say what one row "
    "is with --one-event NAME (e.g. --one-event purchase).",
    "app": "If every row is one kind of event (an order or purchase log), choose 'Every row "
    "is one event' as the event name and say what one row is (e.g. purchase).",
}


@dataclass(frozen=True)
class UserColumns:
    """Column names in a one-row-per-user table. Only `user` is required.

    Churn can come from (in order of preference): `cancel` (explicit cancellation time),
    `duration` + `churn` flag, `last_active` (inactivity-derived), or the event log.
    `duration_unit` is one of `durations.DURATION_UNITS` for the duration column; None
    means not stated (it is then read from the column's name, or the table is refused:
    `users.duration_unit_needed`).
    `behaviour` are numeric candidate columns ("window not verifiable"); `segments` are
    categorical columns for adjustment and stability views.
    """

    user: str
    signup: str | None = None
    cancel: str | None = None
    last_active: str | None = None
    duration: str | None = None
    churn: str | None = None
    revenue: str | None = None
    behaviour: tuple[str, ...] = field(default_factory=tuple)
    segments: tuple[str, ...] = field(default_factory=tuple)
    duration_unit: str | None = None

    def roles(self) -> dict[str, str]:
        """Single-column roles that are set, by role name."""
        names = ("user", "signup", "cancel", "last_active", "duration", "churn", "revenue")
        return {r: getattr(self, r) for r in names if getattr(self, r)}

    def with_(self, **kw) -> UserColumns:
        return replace(self, **kw)


#: What each event-log role means, for messages (the app and the CLI name the mapping
#: differently, so messages name the role, not a flag).
ROLE_WORDS = {"user": "user id", "timestamp": "event time", "event": "event name"}
SHOWN_NAME_CHARS = 40


def show_columns(columns: list[str], limit: int = 12) -> str:
    """Column names for a message: at most `limit`, each cut to 40 characters (a header of
    5,000 NULs or a 10 MB line must not become the message)."""
    shown = ", ".join(f"'{_cut(c)}'" for c in list(columns)[:limit])
    return shown + (", …" if len(columns) > limit else "") if columns else "(none)"


def _cut(name: object) -> str:
    s = str(name)
    return s if len(s) <= SHOWN_NAME_CHARS else s[: SHOWN_NAME_CHARS - 1] + "…"
