"""Data: upload or pick data, map columns, see the validation report and overall retention."""

import dataclasses

import streamlit as st

from northstar_lab.data.columns import recognise_events
from northstar_lab.data.formats import import_options
from northstar_lab.data.sources import list_tables
from northstar_lab.durations import DURATION_UNITS, unit_in_name, units_in_words
from northstar_lab.errors import InputError
from northstar_lab.evidence import charts
from northstar_lab.evidence import tables as evidence
from northstar_lab.redact import redact_secrets
from northstar_lab.text import exclusions_in_words, md_literal
from pages import shared

st.title("Data")
st.caption(
    "An **event log** (one row per event: user, time, event name, optional value) and/or a "
    "**users table** (one row per user: signup, churn or tenure, revenue, plan, behaviour "
    "columns). CSV, CSV.gz or Parquet."
)

NONE = "— none —"

tab_sample, tab_upload, tab_connect = st.tabs(
    ["Bundled sample", "Upload files", "Connect to a database or Spark"]
)

with tab_sample:
    st.markdown(
        "**Lumen Learn**, a fictional education SaaS: 8,000 signups during 2025, data to "
        "2026-03-31; an event log (logins, lessons, quizzes, payments…) and a users table "
        "(plan, channel, country)."
    )
    if st.button("Load the sample", type="primary", key="load_sample"):
        shared.choose_dataset(shared.SAMPLE)


IMPORT_AUTO = "Recognise it from its columns"
IMPORT_PLAIN = "A plain event log (user, time, event, value)"


def import_choice(key: str) -> str | None:
    """'Import from…': a vendor export by name, a plain log, or None (recognised from the
    columns). The export's own layout maps its columns; the mapping below shows the result."""
    formats = {f.title: f for f in import_options()}
    picked = st.selectbox(
        "Import from…", [IMPORT_AUTO, IMPORT_PLAIN, *formats], key=key,
        help="Exports of " + ", ".join(formats) + " are read in their own layout (time units, "
        "anonymous and known ids, revenue). Left on 'recognise', the layout is told from the "
        "columns.",
    )  # fmt: skip
    if picked in formats:
        st.caption(formats[picked].description + " Give " + formats[picked].give + ".")
        return formats[picked].name
    return "plain" if picked == IMPORT_PLAIN else None


WINDOW_PERIOD = "The users' first days (an observation window, set on the Candidates page)"
SIGNUP_PERIOD = "What was known at signup (plan, partner, age): no observation window"


def columns_describe_signup(current: bool) -> bool:
    """Ask what period a users table's behaviour columns describe (METHODS §1.3): attributes
    known at signup need no window (W = 0: retention is followed from signup); counts over the
    first days need one. True for 'known at signup'."""
    picked = st.radio(
        "What period do these columns describe?", [WINDOW_PERIOD, SIGNUP_PERIOD],
        index=1 if current else 0, key="up_period",
        help="A column measured over the first N days can only predict what happens after day "
        "N, so retention is followed from there. Attributes fixed at signup predict from day 0.",
    )  # fmt: skip
    return picked == SIGNUP_PERIOD


ONE_EVENT = "(every row is one event)"


def _select(label: str, columns: list[str], default: str | None, key: str, help: str = ""):
    options = [NONE, *columns]
    index = options.index(default) if default in options else 0
    value = st.selectbox(label, options, index=index, key=key, help=help or None)
    return None if value == NONE else value


def event_mapping(columns: list[str], prefix: str) -> dict:
    """Event-log column mapping, pre-filled by recognised names (column names are options,
    never Markdown)."""
    found = recognise_events(columns)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        user = _select("User id", columns, found["user"], f"{prefix}_ev_user")
    with c2:
        ts = _select("Timestamp", columns, found["timestamp"], f"{prefix}_ev_ts")
    with c3:
        options = [NONE, ONE_EVENT, *columns]
        default = found["event"]
        event = st.selectbox(
            "Event name", options, index=options.index(default) if default in options else 0,
            key=f"{prefix}_ev_event",
            help="The column naming what each row is. A log without one (an order or purchase "
            "log, one row per order) is 'Every row is one event'.",
        )  # fmt: skip
        one_event = None
        if event == ONE_EVENT:
            one_event = st.text_input(
                "What one row is", key=f"{prefix}_ev_one", placeholder="e.g. purchase",
                help="The name every row's event gets, as candidates and the revenue event "
                "will show it.",
            ).strip() or None  # fmt: skip
    with c4:
        value = _select(
            "Value (optional)", columns, found["value"], f"{prefix}_ev_value",
            help="Numeric amount, e.g. the payment amount for revenue.",
        )  # fmt: skip
        count = _select(
            "Events per row (optional)", columns, None, f"{prefix}_ev_count",
            help="For a log rolled up per user, day and event: the column with how many "
            "times the event happened. Each row then counts as that many events.",
        )  # fmt: skip
    event = None if event in (NONE, ONE_EVENT) else event
    return {"user": user, "timestamp": ts, "event": event, "value": value, "count": count,
            "one_event": one_event}  # fmt: skip


def user_mapping(cols: list[str], found, prefix: str) -> tuple[dict, list[str]]:
    """Users-table column mapping, pre-filled by recognition; (mapping, what is still missing)."""
    c = st.columns(4)
    roles = [
        ("user", "User id", ""),
        ("signup", "Signup time", ""),
        ("cancel", "Churn / cancellation time", "Empty for users still active."),
        ("last_active", "Last active time", "Used when there is no cancellation or event log."),
        ("duration", "Tenure", "Time from signup to churn or to the data's end."),
        ("churn", "Churn flag (with tenure)", "0/1, true/false, yes/no or churned/stayed."),
        ("revenue", "Revenue", "Per month (used as given) or lifetime (divided by months)."),
    ]
    out = {}
    for i, (role, label, help) in enumerate(roles):
        with c[i % 4]:
            out[role] = _select(label, cols, getattr(found, role), f"{prefix}_u_{role}", help)
    missing = []
    if out["duration"]:
        named = unit_in_name(out["duration"]) or (
            found.duration_unit if out["duration"] == found.duration else None
        )  # '12 months': the values say it
        with c[3]:
            unit = st.selectbox(
                "Tenure unit",
                DURATION_UNITS,
                index=DURATION_UNITS.index(named) if named else None,
                placeholder=f"Choose: {units_in_words()}",
                key=f"{prefix}_u_unit",
                help="The column's name does not say its unit, so say it here: a tenure in "
                "weeks read as days would drop most users as 'churned in the window'.",
            )
        if unit is None:
            missing.append(f"the tenure's unit ({units_in_words()})")
        else:
            out["duration_unit"] = unit
    taken = {v for v in out.values() if v}
    left = [x for x in cols if x not in taken]
    out["behaviour"] = st.multiselect(
        "Behaviour columns (candidates)",
        left,
        default=[x for x in found.behaviour if x in left],
        key=f"{prefix}_u_behaviour",
        help="Numeric columns measured early in each user's life. They cannot be checked for "
        "look-ahead, so they are flagged 'window not verifiable'.",
    )
    out["segments"] = st.multiselect(
        "Segment columns (plan, channel…)",
        [x for x in left if x not in out["behaviour"]],
        default=[x for x in found.segments if x in left and x not in out["behaviour"]],
        key=f"{prefix}_u_segments",
    )
    return chosen(out), missing


def chosen(mapping: dict) -> dict:
    """A mapping as the library takes it: a role set to none is '' (so recognition does not
    propose it again), an empty list of columns is kept (none chosen), unset keys dropped."""
    roles = {k: v or "" for k, v in mapping.items() if not isinstance(v, list | tuple)}
    roles = {k: v for k, v in roles.items() if v or k not in ("duration_unit", "one_event")}
    return {**roles, **{k: v for k, v in mapping.items() if isinstance(v, list | tuple)}}


with tab_upload:
    max_mb = st.get_option("server.maxUploadSize")
    st.caption(
        f"Uploads up to {max_mb:,} MB each; for bigger data, connect to DuckDB or Spark "
        "instead (the server's administrator can raise the limit). Files are kept on the "
        "server only while you work with them, or, when a workshop uses them, beside the "
        "decision database so the workshop can reopen them."
    )
    up_format = import_choice("up_format")
    up_events = st.file_uploader(
        "Event log", type=["csv", "gz", "parquet", "json", "jsonl", "ndjson", "zip", "xlsx"],
        key="up_events",
        help="One row per event: user id, timestamp, event name, optional value. Exports from "
        "Amplitude, Mixpanel, PostHog, Segment/RudderStack and GA4 are recognised.",
    )  # fmt: skip
    up_users = st.file_uploader(
        "Users table", type=["csv", "gz", "parquet", "xlsx"], key="up_users",
        help="One row per user: id, signup, churn/tenure, revenue, plan, behaviour columns.",
    )  # fmt: skip
    ref = {"kind": "upload", "event_columns": {}, "user_columns": {}}
    ok = up_events is not None or up_users is not None
    missing: list[str] = []
    try:
        if up_events is not None:
            file = shared.save_upload(up_events)
            st.markdown("**Column mapping of the event log**")
            st.text(up_events.name)
            ref["events"], ref["events_label"] = file, up_events.name
            ref["event_format"] = up_format
            columns = shared.peek_columns(file, up_events.name, up_format)
            mapping = event_mapping(columns, file["sha256"][:12])
            ref["event_columns"] = chosen(mapping)
        if up_users is not None:
            file = shared.save_upload(up_users)
            st.markdown("**Column mapping of the users table**")
            st.text(up_users.name)
            ref["users"], ref["users_label"] = file, up_users.name
            cols, found = shared.peek_users(file, up_users.name)
            ref["user_columns"], missing = user_mapping(cols, found, file["sha256"][:12])
    except InputError as exc:
        shared.show_error(exc)
        ok = False
    names = [f.name for f in (up_events, up_users) if f is not None]
    ref["label"] = "Uploaded: " + ", ".join(names)
    at_signup = False
    if up_users is not None and up_events is None:
        at_signup = columns_describe_signup(shared.settings().window_days == 0)
    if missing:
        st.info("Before loading, choose " + "; ".join(missing) + ".")
    if st.button(
        "Load and validate", type="primary", disabled=not ok or bool(missing), key="load_upload"
    ):
        shared.choose_dataset(ref)
        if up_users is not None and up_events is None:
            window = 0 if at_signup else max(shared.settings().window_days, 1)
            shared.save_settings(dataclasses.replace(shared.settings(), window_days=window))

with tab_connect:
    st.markdown(
        "Run the heavy part where the data lives. **Source**: a Parquet/CSV path or glob "
        "(`events/*.parquet`), `duckdb:///path/to.db`, `spark://local[2]`, or `sc://host:port` "
        "(Spark Connect). Connection strings are never stored in decision records or exports."
    )
    src = st.text_input("Source", key="conn_source", placeholder="duckdb:///warehouse.duckdb")
    conn_format = import_choice("conn_format")
    tables: list[str] = []
    src_error = False
    if src:
        try:
            tables = list_tables(src)
        except InputError as exc:
            shared.show_error(exc)
            src_error = True  # peeking at its columns would repeat the same error
    c1, c2 = st.columns(2)
    with c1:
        ev_table = (
            st.selectbox("Events table", tables, key="conn_ev_table") if tables
            else st.text_input("Events table (databases only)", key="conn_ev_table_txt")
        )  # fmt: skip
    with c2:
        us_table = (
            st.selectbox("Users table (optional)", [NONE, *tables], key="conn_us_table")
            if tables else None
        )  # fmt: skip
        us_table = None if us_table in (None, NONE) else us_table
    conn_ref = {"kind": "source", "events": src, "events_table": ev_table or None,
                "users_table": us_table, "event_columns": {}, "user_columns": {},
                "event_format": conn_format}  # fmt: skip
    if src and not src_error:
        try:
            cols = shared.peek_source(src, ev_table or None, conn_format)
            conn_ref["event_columns"] = chosen(event_mapping(cols, "conn"))
        except InputError as exc:
            shared.show_error(exc)
    conn_ref["label"] = redact_secrets(f"Connected: {ev_table or src.rsplit('/', 1)[-1]}")
    if st.button("Connect and validate", type="primary", disabled=not src, key="load_conn"):
        shared.choose_dataset(conn_ref)

st.divider()
ref = shared.dataset()
if ref is None:
    st.info("Pick the sample, upload files or connect to a source to see the validation report.")
    shared.stop()

st.subheader("Validation report")
st.text(ref.get("label", ""))
result = shared.analysis()
if result is None:
    shared.stop()
loaded = shared.loaded_data(ref)
r = result.ranking
cols = st.columns(5)
if loaded.check is not None:
    cols[0].metric("Event rows read", f"{loaded.check.n_rows:,}")
    cols[1].metric("Users in the event log", f"{loaded.check.n_users:,}")
    n_types = max(loaded.check.n_event_types, len(loaded.event_counts))
    cols[2].metric("Event types", f"{n_types:,}")
    span = f"{loaded.check.min_ts:%Y-%m-%d} → {loaded.check.max_ts:%Y-%m-%d}"
    cols[3].metric("Date range", span)
elif loaded.users is not None:
    cols[0].metric("Users-table rows", f"{len(loaded.users.frame):,}")
cols[4].metric("In the retention analysis", f"{r.n_users:,}", f"{r.n_churned:,} churned",
               delta_color="off")  # fmt: skip

for note in loaded.notes:  # which export was recognised, how time and people were read
    st.text(note)
oc = result.outcomes
st.text(
    f"Churn from {oc.churn_source}. Revenue: "
    f"{oc.revenue_source or 'none found (the score uses retention only)'}. As of {result.as_of}."
)
left_out = exclusions_in_words(r.excluded)
if left_out["retention"] or left_out["revenue"]:
    st.markdown("**Left out, and why**")
    a, b = st.columns(2)
    for col, part, heading in (
        (a, "retention", "Left out of the retention analysis"),
        (b, "revenue", "In the retention analysis, but left out of revenue figures"),
    ):
        with col:
            st.caption(heading)
            for words, n in left_out[part]:
                st.text(f"{n:,} users: {words}")
            if not left_out[part]:
                st.text("Nobody.")
    st.caption(
        "Users who churned inside the observation window, or signed up too recently to be "
        "followed past it, cannot enter a landmark analysis. Revenue figures need users "
        "followed for the whole revenue horizon."
    )
for w in r.warnings:
    st.warning(md_literal(w))

with shared.contained("The retention curve"):
    st.altair_chart(
        shared.derived(
            "overall_chart", None, lambda an: charts.overall_retention_chart(
                evidence.overall_retention(an))
        ),
        width="stretch",
    )  # fmt: skip
if loaded.event_counts:
    with st.expander("Event types in the log"):
        st.dataframe(
            {"event": list(loaded.event_counts), "rows": list(loaded.event_counts.values())},
            hide_index=True,
        )
st.page_link(
    "pages/candidates.py", label="Next: rank the candidate metrics", icon=":material/leaderboard:"
)
shared.commit()  # save as we go (app.py saves at the end of every run, too)
