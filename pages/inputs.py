"""Input metrics: the tree under the chosen North Star, with evidence that each input leads it.

The step after the Workshop's choice. Everything is computed by `northstar_lab.inputs`; this page
reads the choices, shows the results and records the chosen inputs on the decision.
"""

import json

import pandas as pd
import streamlit as st

from northstar_lab.candidates import Kind
from northstar_lab.decisions.model import INPUT_KINDS
from northstar_lab.errors import InputError
from northstar_lab.inputs import charts, measure
from northstar_lab.inputs.analyse import analyse_inputs
from northstar_lab.inputs.define import candidate_inputs, north_star_spec
from northstar_lab.inputs.record import with_inputs
from northstar_lab.inputs.result import CONTRACT_FIELDS
from northstar_lab.inputs.tree import tree_rows, tree_spec
from pages import shared

MAX_DEFAULT_INPUTS = 5
EDITOR_COLUMNS = ["use", "key", "name", "kind", "owner", "definition", "target_low", "target_high"]


@st.cache_resource(max_entries=16, show_spinner=False)
def _inputs(choice_key, settings_key, north_star, inputs, experiments, _analysis, _loaded):
    """The inputs analysis, once per dataset, settings, North Star, inputs and experiments."""
    return analyse_inputs(
        _analysis, _loaded, north_star, list(inputs), assignments=experiments or None
    )


st.title("Input metrics")
result = shared.need_analysis()
ranking = result.ranking
st.markdown(
    "A North Star needs three to five **input metrics** the teams can move — breadth, depth, "
    "frequency, efficiency — each with an owner. Here every input is checked: do users who do "
    "more of it in their first days do more of the North Star *later*, beyond their own early "
    "level? Does it move first, week by week? And, given past experiments, did moving it move "
    "the North Star? Association, not causation — except where experiments speak."
)

# ---- the North Star and the inputs --------------------------------------------------------
options = [c.key for c in ranking.candidates if c.kind != Kind.COLUMN]
if not options:
    st.info("Input metrics need an event log: the North Star is measured again later.")
    st.stop()
names = {c.key: c.name for c in ranking.candidates}
chosen = st.session_state.get("chosen_key")
north_star = st.selectbox(
    "North Star",
    options,
    index=options.index(chosen) if chosen in options else 0,
    format_func=names.get,
    key="inputs_north_star",
    help="Chosen in the Workshop; any event-log candidate can be analysed.",
)
w = result.settings.window_days
events = measure.event_names(result)
try:
    ns_spec = north_star_spec(north_star, w, events)
except InputError as exc:
    st.error(exc.for_app())
    st.stop()
offered = {s.key: s.name for s in candidate_inputs(ns_spec, events, w)}
picked = st.multiselect(
    "Inputs to check",
    list(offered),
    default=list(offered),
    format_func=offered.get,
    key=f"inputs_picked_{north_star}",
    help="Every early-behaviour candidate except the North Star itself.",
)
own = st.text_input(
    "Add your own (comma-separated)",
    key=f"inputs_own_{north_star}",
    placeholder="share:lesson_completed/lesson_started, reached:goal_set, days:login",
    help="count:EVENT, days:EVENT, reached:EVENT (users reaching a step), share:NUM/DEN "
    "(e.g. start-to-complete), baseline:active_days.",
)
keys = tuple(dict.fromkeys([*picked, *(k.strip() for k in own.split(",") if k.strip())]))
experiments = None
dataset = shared.dataset() or {}
sample_assignments = shared.SAMPLE_DIR / "assignments.csv"
if dataset.get("kind") == "sample" and sample_assignments.exists():
    if st.checkbox("Use the sample's past experiments", value=True, key="inputs_sample_exp"):
        experiments = str(sample_assignments)
else:
    upload = st.file_uploader(
        "Past experiments (optional): user, experiment, variant, assigned_at",
        type=["csv", "gz", "parquet"],
        key="inputs_experiments_upload",
    )
    experiments = shared.save_upload(upload) if upload is not None else None
if not keys:
    st.info("Pick at least one input to check.")
    st.stop()

choice_key = json.dumps(dataset, sort_keys=True, default=str)
settings_key = json.dumps(result.settings.to_dict(), sort_keys=True)
try:
    with st.spinner("Measuring the inputs and the North Star later…"):
        loaded = shared.loaded_data(dataset)
        res = _inputs(choice_key, settings_key, north_star, keys, experiments, result, loaded)
except InputError as exc:
    st.error(exc.for_app())
    st.stop()

st.caption(
    f"{res.n_users:,} users followed for {res.window_days + res.horizon_days} days after "
    f"signup. The North Star per user: {res.north_star_early_mean:.2f} in days 0–{w - 1}, "
    f"{res.north_star_later_mean:.2f} in days {w}–{w + res.horizon_days - 1}."
)
for note in res.notes:
    st.warning(note)

EVIDENCE_COLUMN = {"verdict": "verdict_text"}  # the page shows the verdict in words

# ---- the evidence per input ---------------------------------------------------------------
table = pd.DataFrame([e.to_dict() for e in res.inputs])
st.subheader("Which inputs lead the North Star?")
st.dataframe(
    table[  # the JSON contract's columns, the verdict in words, owners edited below
        [EVIDENCE_COLUMN.get(c, c) for c in CONTRACT_FIELDS if c != "owner"]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "name": st.column_config.TextColumn("Input", width="medium"),
        "lead_effect": st.column_config.NumberColumn(
            "Lead / SD",
            format="%+.3f",
            help="Change in log(1 + North Star later) per SD of the input, among users with "
            "the same early North Star and signup month.",
        ),
        "lead_ci_low": st.column_config.NumberColumn("95% CI low", format="%+.3f"),
        "lead_ci_high": st.column_config.NumberColumn("95% CI high", format="%+.3f"),
        "q_value": st.column_config.NumberColumn("q", format="%.2g"),
        "cohort_i2": st.column_config.NumberColumn("I² (cohorts)", format="%.2f"),
        "same_sign_share": st.column_config.ProgressColumn("Same sign", min_value=0, max_value=1),
        "lag_corr": st.column_config.NumberColumn("Lag-1 ρ (weekly)", format="%+.2f"),
        "experiments_n": st.column_config.NumberColumn("Arms"),
        "experiment_corr": st.column_config.NumberColumn("Experiments ρ", format="%+.2f"),
        "verdict_text": st.column_config.TextColumn("Verdict", width="large"),
    },
)

# ---- the tree -----------------------------------------------------------------------------
st.subheader("The tree")
st.caption("Tick the 3–5 inputs of your tree and give each a kind, an owner and a target range.")
default_use = [e.key for e in res.inputs if e.edge in ("confirmed", "leads")][:MAX_DEFAULT_INPUTS]
editor = pd.DataFrame(
    [
        {
            "use": e.key in default_use,
            "key": e.key,
            "name": e.name,
            "kind": e.kind,
            "owner": e.owner,
            "definition": e.definition,
            "target_low": e.target_low,
            "target_high": e.target_high,
        }
        for e in res.inputs
    ]
)[EDITOR_COLUMNS]
edited = st.data_editor(
    editor,
    hide_index=True,
    width="stretch",
    disabled=["key"],
    column_config={
        "use": st.column_config.CheckboxColumn("In the tree"),
        "kind": st.column_config.SelectboxColumn("Kind", options=list(INPUT_KINDS)),
        "target_low": st.column_config.NumberColumn("Target from", format="%.3g"),
        "target_high": st.column_config.NumberColumn("Target to", format="%.3g"),
    },
    key=f"inputs_tree_{north_star}",
)
rows = [r for r in edited.to_dict("records") if r["use"]]
details = {r["key"]: r for r in rows}
tree_inputs = [
    {**e.to_dict(), **{k: details[e.key][k] for k in EDITOR_COLUMNS[2:]}}
    for e in res.inputs
    if e.key in details
]
st.vega_lite_chart(tree_spec(tree_rows(res.north_star_name, tree_inputs)), width="content")

# ---- one input, closer ---------------------------------------------------------------------
st.subheader("Look closer")
by_key = {e.key: e for e in res.inputs}
focus = st.selectbox(
    "Input", list(by_key), format_func=lambda k: by_key[k].name, key="inputs_focus"
)
st.altair_chart(charts.cohort_chart(res.cohorts, focus, by_key[focus].name))
st.altair_chart(charts.lag_chart(res.weekly, focus, by_key[focus].name))
if res.experiments:
    st.altair_chart(charts.experiment_chart(res.experiments, focus, by_key[focus].name))
st.altair_chart(charts.decomposition_chart(res.weekly, res.north_star_name))

# ---- record ---------------------------------------------------------------------------------
st.subheader("Record the inputs")
store = shared.store()
last = st.session_state.get("last_decision_id")
try:
    decision = store.latest_version(last) if last else store.latest()
except InputError:
    decision = store.latest()
if decision is not None and decision.chosen_key == north_star and rows:
    label = f"Add these {len(rows)} inputs, with their evidence, to decision #{decision.id}"
    if st.button(label, type="primary", key="inputs_record"):
        try:
            saved = store.amend(
                decision.id, with_inputs(decision, res, rows), "Input metrics with their evidence"
            )
        except InputError as exc:
            st.error(exc.for_app())
        else:
            st.session_state["last_decision_id"] = saved.id
            st.success(f"Recorded as decision #{saved.id} (version {saved.version}).")
            st.page_link(
                "pages/rationale.py",
                label="Open the rationale page",
                icon=":material/description:",
                query_params={"decision": saved.id},
            )
else:
    st.info(
        "Record the decision for this North Star in the Workshop first; then add the inputs "
        "here (a new version of the record keeps each input's evidence)."
    )
    if rows and st.button("Copy these inputs into the Workshop's record form", key="inputs_copy"):
        drafts = st.session_state.setdefault("drafts", {})
        drafts.setdefault(north_star, {})["inputs"] = [
            {k: r.get(k) or "" for k in ("name", "kind", "owner", "definition")} for r in rows
        ]
        st.success("Copied. The Workshop's record form now lists them.")
st.page_link("pages/workshop.py", label="Back to the Workshop", icon=":material/how_to_vote:")
