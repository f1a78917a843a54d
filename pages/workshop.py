"""Workshop: shortlist, score the qualitative criteria together, choose, record, amend.

The facilitator opens a workshop session (it autosaves; a reload or another laptop reopens it
with the link); participants join with the participants' link and their name and score the
rubric on their own laptops. The facilitator's view updates live with everyone's scores, the
median and spread, and the criteria with the widest disagreement; the combined ordering uses the
medians. The record form is pre-filled from the analysis on screen, keeps what people typed,
and refuses a draft written on another analysis until it is refreshed or confirmed.
"""

import streamlit as st

from northstar_lab.decisions import session as ses
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import CADENCES, INPUT_KINDS
from northstar_lab.errors import InputError
from pages import shared

st.title("Workshop")
if conflict := st.session_state.pop("save_conflict", None):
    st.warning(conflict)

CRITERIA = list(workshop.CRITERIA)


def rubric_inputs(keys: list[str], names: dict[str, str], scores: dict, prefix: str) -> dict:
    """A 1–5 number input per candidate and criterion (empty = not scored yet); the scores
    as {key: {criterion: score}} for the cells filled in."""
    widths = [3] + [1] * len(CRITERIA)
    head = st.columns(widths)
    head[0].caption("Candidate")
    for col, (label, help) in zip(head[1:], workshop.CRITERIA.values(), strict=True):
        col.caption(label, help=help)
    out: dict[str, dict[str, int]] = {}
    for key in keys:
        row = st.columns(widths, vertical_alignment="center")
        row[0].text(names.get(key, key))
        for col, crit in zip(row[1:], CRITERIA, strict=True):
            value = col.number_input(
                workshop.CRITERIA[crit][0],
                min_value=1,
                max_value=5,
                step=1,
                value=scores.get(key, {}).get(crit),
                placeholder="–",
                label_visibility="collapsed",
                key=shared.wkey(prefix, key, crit),
            )
            if value is not None:
                out.setdefault(key, {})[crit] = int(value)
    return out


# ---- participants: join with the link and a name, score on your own ---------------------------


def participant_view() -> None:
    w = shared.workshop()
    ws = shared.state()
    st.text(f"Workshop: {ws.title or 'North Star workshop'}")
    if not w.get("name"):
        st.markdown("Join the workshop: your scores are yours, nobody else's screen changes them.")
        name = st.text_input("Your name", key="join_name")
        if st.button("Join and score", type="primary", key="join"):
            try:
                shared.join_as(name)
            except InputError as exc:
                shared.show_error(exc)
            else:
                shared.rerun()
        return
    st.text(f"You are scoring as {w['name']}.")
    participant_rubric()


@st.fragment(run_every=5)
def participant_rubric() -> None:
    """The participant's rubric; the shortlist follows the facilitator's (polled)."""
    w = shared.workshop()
    try:
        current = shared.workshops().get_workshop(w["id"])
    except InputError as exc:
        shared.show_error(exc)
        return
    facilitator = ses.WorkshopState.from_dict(current.state)
    keys = facilitator.shortlist or []
    if len(keys) < 2:
        st.info("The facilitator has not shortlisted candidates yet; this page updates itself.")
        return
    mine = shared.participant_scores().get(w["name"], {})
    st.subheader("Your scores")
    st.caption("1 = poor, 5 = excellent. Leave a cell empty if you have no view yet.")
    scores = rubric_inputs(keys, facilitator.shortlist_names, mine, "p")
    if scores != {k: v for k, v in mine.items() if k in keys}:
        shared.save_my_scores({k: v for k, v in mine.items() if k not in keys} | scores)
        st.toast("Saved.")


if shared.is_participant():
    participant_view()
    shared.stop()


# ---- the facilitator: open a session, shortlist, score, choose, record -----------------------


def session_box() -> None:
    w = shared.workshop()
    with st.container(border=True):
        if w is None:
            st.markdown(
                "**Start a workshop session** so that everything here is saved as you go, "
                "comes back after a reload, and participants can score from their own laptops."
            )
            c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
            title = c1.text_input("Workshop title", "North Star workshop", key="start_title")
            name = c2.text_input("Your name (facilitator)", key="start_name")
            if c3.button("Start the workshop", type="primary", key="start_workshop"):
                try:
                    shared.start_workshop(title, name)
                except InputError as exc:
                    shared.show_error(exc)
                else:
                    shared.rerun()
            return
        st.text(f"Workshop: {shared.state().title} · facilitated by {w['name']} · saved as you go")
        base = st.context.url.split("?", 1)[0] if st.context.url else ""
        params = "&".join(f"{k}={v}" for k, v in shared.link(participant=True).items())
        st.caption("Participants' link: they join with it and their name, and score on their own.")
        st.code(f"{base}?{params}", language=None)
        with st.expander("Your own link (to reopen this workshop as facilitator)"):
            own = "&".join(f"{k}={v}" for k, v in shared.link(participant=False).items())
            st.code(f"{base}?{own}", language=None)
            st.caption("Keep it to yourself: it lets whoever opens it change the workshop.")


# ---- amend a recorded decision ---------------------------------------------------------------


def amend_section() -> None:
    st.subheader("Amend a recorded decision")
    st.caption(
        "A recorded decision never changes: an amendment is a new version that supersedes it, "
        "with a note saying what changed and why. The share view shows every version."
    )
    try:
        latest = [d for d in shared.store().list_decisions() if d.get("is_latest", True)]
    except InputError as exc:
        shared.show_error(exc)
        return
    if not latest:
        st.text("No decision recorded yet.")
        return
    labels = {d["id"]: f"#{d['id']} (v{d['version']}): {d['title']}" for d in latest}
    wanted = st.query_params.get("amend")
    ids = list(labels)
    index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
    picked = st.selectbox("Decision to amend", ids, index=index, format_func=labels.get,
                          key="amend_pick")  # fmt: skip
    decision = shared.store().get(picked)
    d = decision.definition
    k = f"amend:{decision.id}"
    a1, a2 = st.columns(2)
    new_def = {
        "name": a1.text_input("Metric name", d.name, key=f"{k}:name"),
        "meaning": a2.text_input("Meaning", d.meaning, key=f"{k}:meaning"),
        "owner": a1.text_input("Owner", d.owner, key=f"{k}:owner"),
        "baseline": a2.text_input("Baseline", d.baseline, key=f"{k}:baseline"),
        "target": a1.text_input("Target", d.target, key=f"{k}:target"),
    }
    new_rationale = st.text_area("Rationale", decision.rationale, height=150, key=f"{k}:why")
    reasons = {}
    for r in decision.rejected:
        st.text(r.name)
        reasons[r.key] = st.text_area("Why it lost", r.reason, height=68, key=f"{k}:r:{r.key}")
    note = st.text_input("What changes, and why (required)", key=f"{k}:note")
    if st.button("Save as a new version", key=f"{k}:save"):
        changed = workshop.amended(decision, new_def, new_rationale, reasons)
        try:
            saved = shared.store().amend(decision.id, changed, note)
        except InputError as exc:
            shared.show_error(exc)
        else:
            st.success(f"Saved as version {saved.version} (decision #{saved.id}).")
            st.page_link(
                "pages/rationale.py", label=f"Open version {saved.version}",
                icon=":material/description:", query_params={"decision": str(saved.id)},
            )  # fmt: skip


session_box()
with st.expander("Amend a recorded decision", expanded=bool(st.query_params.get("amend"))):
    amend_section()
result = shared.need_analysis()
ranking = result.ranking
aid = ses.ranking_id(ranking)
names = ses.names_of(ranking)
ws = shared.state()
in_session = shared.workshop() is not None

# ---- shortlist ---------------------------------------------------------------------------
default = (
    ses.valid_keys(ws.shortlist, ranking)
    if ws.shortlist is not None
    else workshop.default_shortlist(ranking)
)
shortlist = st.multiselect(
    "Shortlist",
    list(names),
    default=default,
    format_func=lambda k: names.get(k, k),
    key=shared.wkey("shortlist", aid),
    help="Pre-filled with the strongest candidate of each redundancy group, skipping noise.",
)
ws.shortlist = shortlist
ws.shortlist_names = {k: names[k] for k in shortlist}
if len(shortlist) < 2:
    st.info("Shortlist at least two candidates to compare.")
    shared.stop()

# ---- rubric ------------------------------------------------------------------------------
st.subheader("Your scores" if in_session else "Rubric")
st.caption(
    "Score each shortlisted candidate on the qualitative criteria: 1 = poor, 5 = excellent; an "
    "empty cell counts as a neutral 3 until someone scores it."
    + (" Participants score the same grid on their own laptops." if in_session else "")
)
mine = rubric_inputs(shortlist, names, ws.rubric, "f")
kept = {k: v for k, v in ws.rubric.items() if k not in shortlist}  # scores of unlisted keys stay
if {**kept, **mine} != ws.rubric:
    ws.rubric = {**kept, **mine}
    if in_session:
        shared.save_my_scores(ws.rubric)

with st.expander("Weights", expanded=False):
    cols = st.columns(len(CRITERIA) + 1)
    for i, (c, (label, _)) in enumerate(workshop.CRITERIA.items()):
        ws.criteria_weights[c] = cols[i].number_input(
            f"Weight: {label}",
            0.0,
            5.0,
            float(ws.criteria_weights.get(c, 1.0)),
            0.5,
            key=shared.wkey("w", c),
        )
    ws.evidence_weight = cols[-1].slider(
        "Evidence share", 0.0, 1.0, float(ws.evidence_weight), 0.05,
        key=shared.wkey("w_evidence"),
        help="How much the data counts against the team's judgement.",
    )  # fmt: skip


def team_now() -> workshop.TeamRubric:
    people = shared.participant_scores() if in_session else {"Facilitator": ws.rubric}
    return workshop.team_rubric(ranking, shortlist, people)


ORDER_COLUMNS = {
    "order": st.column_config.NumberColumn("#"),
    "candidate": st.column_config.TextColumn("Candidate", pinned=True),
    "evidence_score": st.column_config.NumberColumn("Score", format="%.3f"),
    "evidence": st.column_config.ProgressColumn("Evidence (0–1)", min_value=0, max_value=1),
    "rubric_mean": st.column_config.NumberColumn("Rubric mean (1–5)", format="%.2f"),
    "rubric": st.column_config.ProgressColumn("Rubric (0–1)", min_value=0, max_value=1),
    "combined": st.column_config.ProgressColumn("Combined", min_value=0, max_value=1),
}


def team_view() -> None:
    """Everyone's scores, medians and spread, the widest disagreements, the combined ordering
    (live: re-read every few seconds during a workshop session)."""
    team = team_now()
    if in_session:
        st.subheader("The team's scores")
        people = team.people_frame()
        st.caption(
            f"{len(team.people)} participant(s) so far. The combined ordering uses the median "
            "of everyone's scores; the spread is the highest minus the lowest score."
        )
        if not people.empty:
            st.dataframe(
                people,
                column_order=[c for c in people.columns if c != "key"],
                hide_index=True,
                width="stretch",
                column_config={
                    c: st.column_config.NumberColumn(label, format="%d")
                    for c, (label, _) in workshop.CRITERIA.items()
                },  # fmt: skip
                key="team_people",
            )
            spread = team.median[["candidate"]].copy()
            for c, (label, _) in workshop.CRITERIA.items():
                spread[label] = [
                    f"{m:g} (spread {s:g})"
                    for m, s in zip(team.median[c], team.spread[c], strict=True)  # fmt: skip
                ]
            st.markdown("**Median and spread**")
            st.dataframe(spread, hide_index=True, width="stretch", key="team_spread")
        if team.disagreements:
            st.markdown("**Widest disagreement: discuss these first**")
            for d in team.disagreements:
                st.text(
                    f"{d.label} — {d.candidate}: from {d.low} ({', '.join(d.lowest)}) to "
                    f"{d.high} ({', '.join(d.highest)})"
                )
        elif len(team.people) >= 2:
            st.text("No criterion differs by 2 points or more between participants.")
    ordering = workshop.combined_ordering(
        ranking, team.median, ws.criteria_weights, ws.evidence_weight
    )
    st.subheader("Combined ordering")
    st.caption(
        "evidence = score ÷ best shortlisted score; rubric = (weighted mean − 1) ÷ 4; "
        f"combined = {ws.evidence_weight:.2f}·evidence + {1 - ws.evidence_weight:.2f}·rubric."
    )
    st.dataframe(
        ordering[[*ORDER_COLUMNS, "key"]],
        hide_index=True,
        width="stretch",
        column_order=list(ORDER_COLUMNS),
        column_config=ORDER_COLUMNS,
        key="ordering",
    )


st.fragment(team_view, run_every=shared.LIVE_EVERY_S if in_session else None)()

# ---- choose ------------------------------------------------------------------------------
team = team_now()
ordering = workshop.combined_ordering(ranking, team.median, ws.criteria_weights, ws.evidence_weight)
st.subheader("Choose")
preferred = ws.chosen_key if ws.chosen_key in shortlist else ordering["key"].iloc[0]
chosen = st.selectbox(
    "Our North Star",
    shortlist,
    index=shortlist.index(preferred),
    format_func=lambda k: names.get(k, k),
    key=shared.wkey("chosen", aid),
)
ws.chosen_key = chosen
st.page_link("pages/inputs.py", label="Next: its input metrics", icon=":material/account_tree:")

# ---- record ------------------------------------------------------------------------------
st.subheader("Record the decision")
draft = ws.draft
now = ses.AnalysisStamp.of(ranking, chosen)
prefill = workshop.prefilled_fields(result, chosen)
values = ses.form_values(draft, prefill)
changes = ses.draft_changes(draft, now)
if changes:
    with st.container(border=True):
        st.warning(
            "This draft's edited text was written on another analysis. What changed: "
            + "; ".join(changes)
            + ". Edited since: "
            + ", ".join(draft.edited_prefills())
            + "."
        )
        r1, r2 = st.columns(2)
        if r1.button("Refresh the draft from this analysis", key="refresh_draft"):
            ws.draft = ses.refresh_draft(draft)
            shared.rerun()
        r1.caption("Replaces your edits of pre-filled text; owner, targets and sign-offs stay.")
        if r2.button("Keep my edits: they still hold", key="confirm_draft"):
            ws.draft = ses.confirm_draft(draft, now)
            shared.rerun()

fkey = (aid, chosen, draft.revision)
FIELDS = [
    ("name", "Metric name"),
    ("meaning", "Meaning in one sentence"),
    ("numerator", "Numerator"),
    ("denominator", "Denominator"),
    ("time_window", "Time window"),
    ("exclusions", "Exclusions"),
    ("owner", "Owner (required)"),
    ("baseline", "Current baseline (required)"),
    ("target", "Target (required)"),
]
title = st.text_input("Decision title", values["title"], key=shared.wkey("f_title", *fkey))
ses.apply_edit(draft, "title", title, prefill, now)
d1, d2 = st.columns(2)
for i, (field, label) in enumerate(FIELDS):
    col = d1 if i % 2 == 0 else d2
    typed = col.text_input(label, values.get(field, ""), key=shared.wkey("f", field, *fkey))
    ses.apply_edit(draft, field, typed, prefill, now)
cadence = d2.selectbox(
    "Review cadence", CADENCES, index=CADENCES.index(values.get("review_cadence", "quarterly")),
    key=shared.wkey("f_cadence", *fkey),
)  # fmt: skip
ses.apply_edit(draft, "review_cadence", cadence, prefill, now)
milestone = d1.text_input(
    "Milestone (if reviewed at a milestone)", values.get("milestone", ""),
    key=shared.wkey("f_milestone", *fkey),
)  # fmt: skip
ses.apply_edit(draft, "milestone", milestone, prefill, now)

st.markdown("**Input metrics** (the drivers teams move, each with an owner)")
if not draft.input_metrics:
    draft.input_metrics = [{"name": "", "kind": k, "owner": "", "definition": ""}
                           for k in INPUT_KINDS]  # fmt: skip
for i, m in enumerate(draft.input_metrics):
    c = st.columns([3, 1, 2, 4])
    m["name"] = c[0].text_input("Input metric", m.get("name", ""), key=shared.wkey("in_n", i))
    kind = m.get("kind") if m.get("kind") in INPUT_KINDS else INPUT_KINDS[0]
    m["kind"] = c[1].selectbox(
        "Kind", INPUT_KINDS, index=INPUT_KINDS.index(kind), key=shared.wkey("in_k", i)
    )
    m["owner"] = c[2].text_input("Its owner", m.get("owner", ""), key=shared.wkey("in_o", i))
    m["definition"] = c[3].text_input(
        "Its definition", m.get("definition", ""), key=shared.wkey("in_d", i)
    )
if st.button("Add an input metric", key="add_input"):
    draft.input_metrics.append({"name": "", "kind": "depth", "owner": "", "definition": ""})
    shared.rerun()

rationale = st.text_area(
    "Rationale (pre-filled with the evidence; edit freely)", values["rationale"], height=180,
    key=shared.wkey("f_rationale", *fkey),
)  # fmt: skip
ses.apply_edit(draft, "rationale", rationale, prefill, now)

st.markdown("**Rejected alternatives** (reasons pre-filled from the evidence; edit freely)")
for r in workshop.rejected_alternatives(ranking, chosen, shortlist, ordering):
    st.text(r.name)
    typed = st.text_area(
        "Why it lost", draft.reasons.get(r.key, r.reason), height=68,
        key=shared.wkey("reason", r.key, *fkey),
    )  # fmt: skip
    ses.apply_reason(draft, r.key, typed, r.reason, now)

st.markdown("**Sign-offs** (at least one)")
if not draft.sign_offs:
    draft.sign_offs = [{"name": "", "role": ""}]
for i, s in enumerate(draft.sign_offs):
    c = st.columns(2)
    s["name"] = c[0].text_input("Signed off by", s.get("name", ""), key=shared.wkey("so_n", i))
    s["role"] = c[1].text_input("Role", s.get("role", ""), key=shared.wkey("so_r", i))
if st.button("Add a sign-off", key="add_signoff"):
    draft.sign_offs.append({"name": "", "role": ""})
    shared.rerun()

values = ses.form_values(draft, prefill)
problems = ses.recording_problems(ws, values, now)
if draft.recorded_as is not None:
    st.success(f"This draft was recorded as decision #{draft.recorded_as}.")
    st.page_link(
        "pages/rationale.py", label="Open the rationale page", icon=":material/description:",
        query_params={"decision": str(draft.recorded_as)},
    )  # fmt: skip
    if st.button("Start another draft", key="next_draft"):
        ws.draft = ses.next_draft(draft)
        shared.rerun()
else:
    if problems:
        st.caption("Before recording: " + " ".join(problems))
    if st.button("Record decision", type="primary", key="record"):
        if problems:
            st.error(" ".join(problems))
        else:
            w = shared.workshop()
            decision = ses.draft_decision(
                result, ws, shortlist, chosen, team_now(), created_by=(w or {}).get("name", "")
            )
            try:
                saved = shared.record(decision, draft.idempotency_key)
            except InputError as exc:
                shared.show_error(exc)
            else:
                draft.recorded_as = saved.id
                ws.recorded.append(saved.id)
                st.session_state["last_decision_id"] = saved.id
                shared.rerun()
shared.commit()  # save as we go (app.py saves at the end of every run, too)
