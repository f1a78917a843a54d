"""Workshop: shortlist, score the qualitative criteria, choose, and record the decision."""

import pandas as pd
import streamlit as st

from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import (
    CADENCES,
    INPUT_KINDS,
)
from northstar_lab.errors import InputError
from pages import shared

st.title("Workshop")
result = shared.need_analysis()
ranking = result.ranking
names = {c.key: c.name for c in ranking.candidates}

st.markdown(
    "Shortlist a few candidates, score each on the qualitative criteria (1 = poor, 5 = "
    "excellent), and see evidence and judgement combined. Everything you enter is kept while "
    "you move between pages."
)

# ---- shortlist ---------------------------------------------------------------------------
if "shortlist" not in st.session_state:
    st.session_state["shortlist"] = workshop.default_shortlist(ranking)
shortlist = st.multiselect(
    "Shortlist",
    list(names),
    default=[k for k in st.session_state["shortlist"] if k in names],
    format_func=names.get,
    key="shortlist_widget",
    help="Pre-filled with the strongest candidate of each redundancy group, skipping noise.",
)
st.session_state["shortlist"] = shortlist
if len(shortlist) < 2:
    st.info("Shortlist at least two candidates to compare.")
    st.stop()

# ---- rubric ------------------------------------------------------------------------------
st.subheader("Rubric")
rubric = workshop.sync_rubric(st.session_state.get("rubric"), ranking, shortlist)
score_col = st.column_config.NumberColumn(min_value=1, max_value=5, step=1, format="%d")
edited = st.data_editor(
    rubric,
    key="rubric_editor",
    hide_index=True,
    width="stretch",
    disabled=["key", "candidate"],
    column_order=["candidate", *workshop.CRITERIA],
    column_config={
        "candidate": st.column_config.TextColumn("Candidate", width="large"),
        **{
            c: st.column_config.NumberColumn(label, help=help, min_value=1, max_value=5, step=1)
            for c, (label, help) in workshop.CRITERIA.items()
        },
    },
)
st.session_state["rubric"] = edited

with st.expander("Weights", expanded=False):
    weights = dict(st.session_state.get("criteria_weights", workshop.DEFAULT_CRITERIA_WEIGHTS))
    cols = st.columns(len(workshop.CRITERIA) + 1)
    for i, (c, (label, _)) in enumerate(workshop.CRITERIA.items()):
        weights[c] = cols[i].number_input(label, 0.0, 5.0, float(weights[c]), 0.5, key=f"w_{c}")
    st.session_state["criteria_weights"] = weights
    ev_w = cols[-1].slider(
        "Evidence share", 0.0, 1.0, float(st.session_state.get("evidence_weight", 0.5)), 0.05,
        key="w_evidence", help="How much the data counts against the team's judgement.",
    )  # fmt: skip
    st.session_state["evidence_weight"] = ev_w

ordering = workshop.combined_ordering(
    ranking, edited, st.session_state["criteria_weights"], st.session_state["evidence_weight"]
)
st.subheader("Combined ordering")
st.caption(
    "evidence = score ÷ best shortlisted score; rubric = (weighted mean − 1) ÷ 4; "
    f"combined = {st.session_state['evidence_weight']:.2f}·evidence + "
    f"{1 - st.session_state['evidence_weight']:.2f}·rubric."
)
st.dataframe(
    ordering[
        ["order", "candidate", "evidence_score", "evidence", "rubric_mean", "rubric", "combined"]
    ],  # fmt: skip
    hide_index=True,
    width="stretch",
    column_config={
        "order": st.column_config.NumberColumn("#"),
        "evidence_score": st.column_config.NumberColumn("Score", format="%.3f"),
        "evidence": st.column_config.ProgressColumn("Evidence (0–1)", min_value=0, max_value=1),
        "rubric_mean": st.column_config.NumberColumn("Rubric mean (1–5)", format="%.2f"),
        "rubric": st.column_config.ProgressColumn("Rubric (0–1)", min_value=0, max_value=1),
        "combined": st.column_config.ProgressColumn("Combined", min_value=0, max_value=1),
    },
)

# ---- choose ------------------------------------------------------------------------------
st.subheader("Choose")
default_choice = st.session_state.get("chosen_key") or ordering["key"].iloc[0]
chosen = st.selectbox(
    "Our North Star",
    shortlist,
    index=shortlist.index(default_choice) if default_choice in shortlist else 0,
    format_func=names.get,
    key="chosen_widget",
)
st.session_state["chosen_key"] = chosen
st.page_link("pages/inputs.py", label="Next: its input metrics", icon=":material/account_tree:")
rejected = workshop.rejected_alternatives(ranking, chosen, shortlist, ordering)

# ---- record ------------------------------------------------------------------------------
st.subheader("Record the decision")
c = ranking.candidate(chosen)
drafts = st.session_state.setdefault("drafts", {})
draft = drafts.setdefault(chosen, {})
defaults = workshop.definition_defaults(c, result.settings.window_days)

with st.form("record_form"):
    title = st.text_input("Decision title", draft.get("title", f"North Star: {c.name}"))
    d1, d2 = st.columns(2)
    fields = {}
    for i, (field, label) in enumerate(
        [
            ("name", "Metric name"),
            ("meaning", "Meaning in one sentence"),
            ("numerator", "Numerator"),
            ("denominator", "Denominator"),
            ("time_window", "Time window"),
            ("exclusions", "Exclusions"),
            ("owner", "Owner"),
            ("baseline", "Current baseline"),
            ("target", "Target"),
        ]  # fmt: skip
    ):
        col = d1 if i % 2 == 0 else d2
        fields[field] = col.text_input(label, draft.get(field, defaults.get(field, "")))
    cadence = d2.selectbox("Review cadence", CADENCES, index=CADENCES.index(
        draft.get("review_cadence", "quarterly")))  # fmt: skip
    milestone = d1.text_input("Milestone (if reviewed at a milestone)", draft.get("milestone", ""))
    st.markdown("**Input metrics** (the drivers teams move, each with an owner)")
    inputs = st.data_editor(
        pd.DataFrame(
            draft.get("inputs")
            or [{"name": "", "kind": k, "owner": "", "definition": ""} for k in INPUT_KINDS]
        ),  # fmt: skip
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={"kind": st.column_config.SelectboxColumn("Kind", options=INPUT_KINDS)},
        key=f"inputs_editor_{chosen}",
    )
    rationale = st.text_area(
        "Rationale (pre-filled with the evidence; edit freely)",
        draft.get("rationale", workshop.evidence_summary(ranking, chosen)),
        height=180,
    )
    st.markdown("**Rejected alternatives** (reasons pre-filled from the evidence; edit freely)")
    rej_df = st.data_editor(
        pd.DataFrame([{"key": r.key, "candidate": r.name, "reason": r.reason} for r in rejected]),
        hide_index=True,
        width="stretch",
        disabled=["key", "candidate"],
        column_order=["candidate", "reason"],
        column_config={"reason": st.column_config.TextColumn("Why it lost", width="large")},
        key=f"rejected_editor_{chosen}",
    )
    st.markdown("**Sign-offs**")
    signs = st.data_editor(
        pd.DataFrame(draft.get("signs") or [{"name": "", "role": ""}]),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key=f"signs_editor_{chosen}",
    )
    submitted = st.form_submit_button("Record decision", type="primary")

draft.update(fields, title=title, review_cadence=cadence, milestone=milestone,
             rationale=rationale, inputs=inputs.to_dict("records"),
             signs=signs.to_dict("records"))  # fmt: skip

if submitted:
    decision = workshop.build_decision(
        result,
        chosen_key=chosen,
        shortlist=shortlist,
        title=title,
        definition={**fields, "review_cadence": cadence, "milestone": milestone},
        rationale=rationale,
        reasons={row["key"]: row["reason"] for row in rej_df.to_dict("records")},
        input_metrics=inputs.to_dict("records"),
        sign_offs=signs.to_dict("records"),
        rubric=edited,
        criteria_weights=st.session_state["criteria_weights"],
        evidence_weight=st.session_state["evidence_weight"],
    )
    try:
        saved = shared.store().record(decision)
    except InputError as exc:
        st.error(str(exc))
    else:
        st.session_state["last_decision_id"] = saved.id
        st.success(f"Decision #{saved.id} recorded.")
        st.page_link(
            "pages/rationale.py",
            label="Open the rationale page",
            icon=":material/description:",
            query_params={"decision": saved.id},
        )
