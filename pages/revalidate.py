"""Re-validate: re-run a recorded decision on newer data and record the verdict."""

import pandas as pd
import streamlit as st

from northstar_lab.decisions.revalidate import RULE, recorded_mapping, revalidate
from northstar_lab.errors import InputError
from northstar_lab.text import md_literal, then_vs_now_table
from pages import shared

st.title("Re-validate a decision")
st.markdown(
    "At a strategic milestone, re-run the recorded analysis — same settings, same thresholds — "
    "on newer data, and see whether the choice still holds."
)
try:
    store = shared.store()
    decisions = store.list_decisions()
except InputError as exc:
    shared.show_error(exc)
    st.stop()
if not decisions:
    st.info("No decision recorded yet.")
    st.stop()
labels = {d["id"]: f"#{d['id']} — {d['title']}" for d in decisions}  # options: plain text
dec_id = st.selectbox("Decision", list(labels), format_func=labels.get, key="reval_decision")
decision = store.get(dec_id)

st.subheader("Newer data")
how = st.radio("Data", ["Bundled sample", "Upload", "Path or source"], horizontal=True,
               key="reval_how")  # fmt: skip
choice = None
if how == "Bundled sample":
    choice = dict(shared.SAMPLE)
elif how == "Upload":
    ev = st.file_uploader("Event log", type=["csv", "gz", "parquet", "json", "jsonl", "ndjson",
                                             "zip", "xlsx"], key="reval_events")  # fmt: skip
    us = st.file_uploader("Users table", type=["csv", "gz", "parquet", "xlsx"], key="reval_users")
    if ev is not None or us is not None:
        choice = {"kind": "upload", "event_columns": {}, "user_columns": {},
                  "events": shared.save_upload(ev) if ev else None,
                  "users": shared.save_upload(us) if us else None,
                  "events_label": ev.name if ev else None,
                  "users_label": us.name if us else None}  # fmt: skip
else:
    src = st.text_input("Event log path or source", key="reval_src")
    table = st.text_input("Events table (databases only)", key="reval_table")
    users = st.text_input("Users table file (optional)", key="reval_users_path")
    if src:
        choice = {"kind": "source", "events": src, "events_table": table or None,
                  "users": users or None, "event_columns": {}, "user_columns": {}}  # fmt: skip

if choice is not None and how != "Bundled sample":  # read as the decision's data was read
    choice["recorded_columns"] = recorded_mapping(decision.evidence.fingerprint)

if st.button("Re-run the recorded analysis", type="primary", disabled=choice is None,
             key="reval_run"):  # fmt: skip
    with st.status("Re-running the recorded analysis…", expanded=True) as status:
        bar = status.progress(0.0)
        step = status.empty()

        def progress(message: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0))
            step.text(f"Step: {message}")

        try:
            loaded = shared.loaded_data(choice, progress)
            reval, _ = revalidate(decision, loaded, progress=progress)
        except InputError as exc:
            status.update(label="Could not re-run", state="error")
            shared.show_error(exc)
            st.stop()
        status.update(label="Done", state="complete", expanded=False)
    st.session_state["pending_reval"] = reval.to_dict()

pending = st.session_state.get("pending_reval")
if pending and pending.get("decision_id") == decision.id:
    from northstar_lab.decisions.model import Revalidation

    reval = Revalidation.from_dict(pending)
    icon = {"holds": "✅", "weakened": "⚠️", "overtaken": "🔄"}.get(reval.verdict, "")
    st.subheader(f"{icon} Verdict: {reval.verdict.upper()}")
    st.text(reval.summary)  # names candidates: plain text
    st.caption("Rule: " + md_literal(reval.rule or RULE))
    st.markdown("**Then (when decided) → now (newer data)**")
    st.dataframe(
        pd.DataFrame(then_vs_now_table(reval.comparison)),
        hide_index=True,
        width="stretch",
        column_config={"Candidate": st.column_config.TextColumn(pinned=True)},
        key="then_vs_now",
    )
    st.caption("↑ / ↓: the number went up / down; =: unchanged at this rounding; rank: 1 = best.")
    if st.button("Save this re-validation to the decision's history", key="reval_save"):
        saved = store.add_revalidation(decision.id, reval)
        st.session_state.pop("pending_reval", None)
        st.success(f"Saved (re-validation #{saved.id}). The decision itself is unchanged.")

st.subheader("History")
history = store.revalidations(decision.id)
if history:
    st.dataframe(
        pd.DataFrame(
            [
                {"when": str(v.run_at)[:16], "verdict": v.verdict, "summary": v.summary}
                for v in history
            ]
        ),  # fmt: skip
        hide_index=True,
        width="stretch",
    )
else:
    st.write("No re-validation saved yet.")
