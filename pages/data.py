"""Data: upload or pick data, map columns, see the validation report and overall retention."""

import streamlit as st

from northstar_lab.data.columns import EVENT_NAMES, recognise
from northstar_lab.data.sources import list_tables, peek_columns
from northstar_lab.data.users import read_table, recognise_user_columns
from northstar_lab.errors import InputError
from northstar_lab.evidence import charts
from northstar_lab.evidence import tables as evidence
from northstar_lab.redact import redact_secrets
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


def _select(label: str, columns: list[str], default: str | None, key: str, help: str = ""):
    options = [NONE, *columns]
    index = options.index(default) if default in options else 0
    value = st.selectbox(label, options, index=index, key=key, help=help or None)
    return None if value == NONE else value


def event_mapping(columns: list[str], prefix: str) -> dict:
    """Event-log column mapping, pre-filled by recognised names."""
    found = recognise(columns, EVENT_NAMES)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        user = _select("User id", columns, found["user"], f"{prefix}_ev_user")
    with c2:
        ts = _select("Timestamp", columns, found["timestamp"], f"{prefix}_ev_ts")
    with c3:
        event = _select("Event name", columns, found["event"], f"{prefix}_ev_event")
    with c4:
        value = _select(
            "Value (optional)", columns, found["value"], f"{prefix}_ev_value",
            help="Numeric amount, e.g. the payment amount for revenue.",
        )  # fmt: skip
    return {"user": user, "timestamp": ts, "event": event, "value": value}


def user_mapping(df, prefix: str) -> dict:
    """Users-table column mapping, pre-filled by recognition."""
    cols = list(df.columns)
    found = recognise_user_columns(df)
    c = st.columns(4)
    roles = [
        ("user", "User id", ""),
        ("signup", "Signup time", ""),
        ("cancel", "Churn / cancellation time", "Empty for users still active."),
        ("last_active", "Last active time", "Used when there is no cancellation or event log."),
        ("duration", "Tenure", "Time from signup to churn or to the data's end."),
        ("churn", "Churn flag (with tenure)", "0/1, true/false or yes/no."),
        ("revenue", "Revenue", "Per month (used as given) or lifetime (divided by months)."),
    ]
    out = {}
    for i, (role, label, help) in enumerate(roles):
        with c[i % 4]:
            out[role] = _select(label, cols, getattr(found, role), f"{prefix}_u_{role}", help)
    with c[3]:
        out["duration_unit"] = st.selectbox(
            "Tenure unit", ["days", "weeks", "months"], key=f"{prefix}_u_unit"
        )
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
    return {k: v for k, v in out.items() if v}


with tab_upload:
    max_mb = st.get_option("server.maxUploadSize")
    st.caption(
        f"Uploads up to {max_mb:,} MB each. To raise the limit, set `maxUploadSize` in "
        "`.streamlit/config.toml` or run `streamlit run app.py --server.maxUploadSize 4000`; "
        "for bigger data, connect to DuckDB or Spark instead."
    )
    up_events = st.file_uploader(
        "Event log", type=["csv", "gz", "parquet", "json", "jsonl", "ndjson", "zip"],
        key="up_events",
        help="One row per event: user id, timestamp, event name, optional value. Exports from "
        "Amplitude, Mixpanel, PostHog, Segment/RudderStack and GA4 are recognised.",
    )  # fmt: skip
    up_users = st.file_uploader(
        "Users table", type=["csv", "gz", "parquet"], key="up_users",
        help="One row per user: id, signup, churn/tenure, revenue, plan, behaviour columns.",
    )  # fmt: skip
    choice = {"kind": "upload", "event_columns": {}, "user_columns": {}}
    ok = up_events is not None or up_users is not None
    try:
        if up_events is not None:
            path = shared.save_upload(up_events)
            st.markdown(f"**Column mapping — {up_events.name}**")
            choice["events"] = path
            choice["events_label"] = up_events.name
            mapping = event_mapping(peek_columns(path, label=up_events.name), "up")
            choice["event_columns"] = {k: v for k, v in mapping.items() if v}
        if up_users is not None:
            path = shared.save_upload(up_users)
            st.markdown(f"**Column mapping — {up_users.name}**")
            choice["users"] = path
            choice["users_label"] = up_users.name
            choice["user_columns"] = user_mapping(read_table(path, up_users.name), "up")
    except InputError as exc:
        st.error(str(exc))
        ok = False
    names = [f.name for f in (up_events, up_users) if f is not None]
    choice["label"] = "Uploaded: " + ", ".join(names)
    if st.button("Load and validate", type="primary", disabled=not ok, key="load_upload"):
        shared.choose_dataset(choice)

with tab_connect:
    st.markdown(
        "Run the heavy part where the data lives. **Source**: a Parquet/CSV path or glob "
        "(`events/*.parquet`), `duckdb:///path/to.db`, `spark://local[2]`, or `sc://host:port` "
        "(Spark Connect). Connection strings are never stored in decision records or exports."
    )
    src = st.text_input("Source", key="conn_source", placeholder="duckdb:///warehouse.duckdb")
    tables: list[str] = []
    src_error = False
    if src:
        try:
            tables = list_tables(src)
        except InputError as exc:
            st.error(str(exc))
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
    conn_choice = {"kind": "source", "events": src, "events_table": ev_table or None,
                   "users_table": us_table, "event_columns": {}, "user_columns": {}}  # fmt: skip
    if src and not src_error:
        try:
            cols = peek_columns(src, ev_table or None)
            conn_choice["event_columns"] = {
                k: v for k, v in event_mapping(cols, "conn").items() if v
            }
        except InputError as exc:
            st.error(str(exc))
    conn_choice["label"] = redact_secrets(f"Connected: {ev_table or src.rsplit('/', 1)[-1]}")
    if st.button("Connect and validate", type="primary", disabled=not src, key="load_conn"):
        shared.choose_dataset(conn_choice)

st.divider()
choice = shared.dataset()
if choice is None:
    st.info("Pick the sample, upload files or connect to a source to see the validation report.")
    st.stop()

st.subheader(f"Validation report — {choice.get('label', '')}")
result = shared.analysis()
if result is None:
    st.stop()
loaded = shared.loaded_data(choice)
r = result.ranking
cols = st.columns(5)
if loaded.check is not None:
    cols[0].metric("Event rows read", f"{loaded.check.n_rows:,}")
    cols[1].metric("Users in the event log", f"{loaded.check.n_users:,}")
    cols[2].metric("Event types", f"{len(loaded.event_counts):,}")
    span = f"{loaded.check.min_ts:%Y-%m-%d} → {loaded.check.max_ts:%Y-%m-%d}"
    cols[3].metric("Date range", span)
elif loaded.users is not None:
    cols[0].metric("Users-table rows", f"{len(loaded.users.frame):,}")
cols[4].metric("In the retention analysis", f"{r.n_users:,}", f"{r.n_churned:,} churned",
               delta_color="off")  # fmt: skip

excluded = {k.replace("_", " "): v for k, v in r.excluded.items() if v}
st.markdown(
    f"**Churn** from {result.outcomes.churn_source}. **Revenue**: "
    f"{result.outcomes.revenue_source or 'none found (score uses retention only)'}. "
    f"**As of** {result.as_of}."
)
if excluded:
    st.markdown(
        "**Left out, and why:** "
        + "; ".join(f"{k}: {v:,}" for k, v in excluded.items())
        + ". Users who churned inside the observation window, or signed up too recently to be "
        "followed past it, cannot enter a landmark analysis."
    )
for w in r.warnings:
    st.warning(w)

st.altair_chart(charts.overall_retention_chart(evidence.overall_retention(result)), width="stretch")
if loaded.event_counts:
    with st.expander("Event types in the log"):
        st.dataframe(
            {"event": list(loaded.event_counts), "rows": list(loaded.event_counts.values())},
            hide_index=True,
        )
st.page_link(
    "pages/candidates.py", label="Next: rank the candidate metrics", icon=":material/leaderboard:"
)
