"""Rationale: the read-only page for leadership, rendered from the decision store alone.

Deep link: /rationale?decision=<id>. Nothing here needs the original data.
"""

import dataclasses

import pandas as pd
import streamlit as st

from northstar_lab.errors import InputError
from northstar_lab.inputs.tree import decision_tree_spec, input_rows
from northstar_lab.report.charts import charts_for
from northstar_lab.report.html import rationale_html
from northstar_lab.report.markdown import md_escape as esc  # everything a user typed renders inert
from northstar_lab.report.markdown import rationale_markdown
from northstar_lab.results import RankingResult
from pages import shared

st.title("Rationale")
store = shared.store()
decisions = store.list_decisions()
if not decisions:
    st.info("No decision recorded yet. Record one at the end of the Workshop.")
    st.stop()

ids = [d["id"] for d in decisions]
wanted = st.query_params.get("decision") or st.session_state.get("last_decision_id") or ids[0]
try:
    wanted = int(wanted)
except (TypeError, ValueError):
    st.error(f"'{wanted}' is not a decision number.")
    wanted = ids[0]
try:
    decision = store.get(wanted)
except InputError as exc:
    st.error(str(exc))
    st.stop()
labels = {d["id"]: f"#{d['id']} — {d['title']} (v{d['version']})" for d in decisions}
if decision.id not in labels:
    labels[decision.id] = f"#{decision.id} — {decision.title} (v{decision.version}, superseded)"
picked = st.selectbox("Decision", list(labels), index=list(labels).index(decision.id),
                      format_func=labels.get, key="rationale_pick")  # fmt: skip
if picked != decision.id:
    st.query_params["decision"] = str(picked)
    st.rerun()
st.query_params["decision"] = str(decision.id)

d = decision.definition
ranking = RankingResult.from_dict(decision.evidence.ranking)
chosen = ranking.candidate(decision.chosen_key)
revals = store.revalidations(decision.id)

st.header(f"North Star: {d.name}")
st.markdown(f"*{esc(d.meaning)}*" if d.meaning else "")
latest = revals[0].verdict if revals else None
st.caption(
    f"Decision #{decision.id}, version {decision.version}, recorded {str(decision.created_at)[:10]}"
    + (f" · latest re-validation: **{latest}**" if latest else " · not re-validated yet")
)

with st.container(border=True):
    c1, c2, c3 = st.columns(3)
    c1.markdown(f"**Numerator**  \n{esc(d.numerator)}")
    c1.markdown(f"**Denominator**  \n{esc(d.denominator)}")
    c2.markdown(f"**Time window**  \n{esc(d.time_window)}")
    c2.markdown(f"**Exclusions**  \n{esc(d.exclusions)}")
    c3.markdown(f"**Owner**  \n{esc(d.owner) or '—'}")
    c3.markdown(f"**Baseline → target**  \n{esc(d.baseline) or '—'} → {esc(d.target) or '—'}")
    cadence = d.review_cadence + (f" ({d.milestone})" if d.milestone else "")
    c3.markdown(f"**Review**  \n{esc(cadence)}")

st.subheader("Why it won")
for paragraph in decision.rationale.split("\n\n"):
    st.markdown(esc(paragraph))
figs = charts_for(decision)
chart_cols = st.columns(min(len(figs), 2) or 1)
for i, (name, chart) in enumerate(list(figs.items())[:4]):
    with chart_cols[i % len(chart_cols)]:
        st.altair_chart(chart, width="stretch", key=f"rationale_chart_{name}")

st.subheader("Confidence")
m = st.columns(4)
p_first = "—" if chosen.p_first != chosen.p_first else f"{chosen.p_first:.0%}"
m[0].metric("Ranked first in bootstrap", p_first)
hr_ci = f"95% CI {chosen.hr_ci_low:.2f}–{chosen.hr_ci_high:.2f}"
m[1].metric("Hazard ratio per SD", f"{chosen.hazard_ratio:.2f}", hr_ci, delta_color="off")
m[2].metric("Concordance", f"{chosen.c_index:.3f}")
rho = "—" if chosen.revenue_rho is None else f"{chosen.revenue_rho:.2f}"
m[3].metric("Revenue ρ", rho)
st.caption(
    f"{ranking.n_users:,} users, {ranking.n_churned:,} churned. Association, not causation: "
    "users choose to do more; confirm levers by experiment. Thresholds were chosen on one half "
    "of users and measured on the other."
)
for w in chosen.warnings:
    st.warning(w)

st.subheader("Rejected alternatives")
if decision.rejected:
    cols = st.columns(min(len(decision.rejected), 3))
    for i, r in enumerate(decision.rejected):
        with cols[i % len(cols)], st.container(border=True):
            st.markdown(f"**{esc(r.name)}**")
            st.markdown(esc(r.reason))
            e = r.evidence or {}
            if e:
                nan = float("nan")
                st.caption(
                    f"score {e.get('score') or nan:.3f} · C {e.get('c_index') or nan:.3f}"
                    f" · HR {e.get('hazard_ratio') or nan:.2f}"
                )

st.subheader("Input metrics")
if decision.input_metrics:
    st.dataframe(pd.DataFrame(input_rows(decision)), hide_index=True)  # evidence in words
    if tree := decision_tree_spec(decision):  # drawn when some input carries evidence
        st.vega_lite_chart(tree, width="content")
else:
    st.write("None recorded.")
if decision.sign_offs:
    signers = (f"{s.name} ({s.role})" if s.role else s.name for s in decision.sign_offs)
    st.markdown("**Signed off by:** " + esc(", ".join(signers)))

st.subheader("Re-validation history")
if revals:
    st.dataframe(
        pd.DataFrame(
            [
                {"when": str(v.run_at)[:16], "verdict": v.verdict, "summary": v.summary}
                for v in revals
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.write("Not re-validated yet.")

history = store.history(decision.id)
if len(history) > 1:
    with st.expander(f"Version history ({len(history)} versions)"):
        for h in history:
            st.markdown(f"- v{h.version} #{h.id} {str(h.created_at)[:16]} {esc(h.amendment_note)}")

with st.expander("Amend this decision (saves a new version; this one is kept unchanged)"):
    with st.form("amend_form"):
        a1, a2 = st.columns(2)
        new_def = {
            "name": a1.text_input("Metric name", d.name),
            "meaning": a2.text_input("Meaning", d.meaning),
            "owner": a1.text_input("Owner", d.owner),
            "baseline": a2.text_input("Baseline", d.baseline),
            "target": a1.text_input("Target", d.target),
        }
        new_rationale = st.text_area("Rationale", decision.rationale, height=150)
        reasons = st.data_editor(
            pd.DataFrame(
                [{"key": r.key, "candidate": r.name, "reason": r.reason} for r in decision.rejected]
            ),  # fmt: skip
            hide_index=True,
            disabled=["key", "candidate"],
            column_order=["candidate", "reason"],
            key="amend_reasons",
        )
        note = st.text_input("What changes, and why (required)", key="amend_note")
        amend = st.form_submit_button("Save as a new version")
    if amend:
        by_key = {r.key: r for r in decision.rejected}
        changed = dataclasses.replace(
            decision,
            definition=dataclasses.replace(d, **new_def),
            rationale=new_rationale,
            rejected=[
                dataclasses.replace(by_key[row["key"]], reason=str(row["reason"] or "").strip())
                for row in reasons.to_dict("records")
            ],
        )
        try:
            saved = store.amend(decision.id, changed, note)
        except InputError as exc:
            st.error(str(exc))
        else:
            st.success(f"Saved as version {saved.version} (#{saved.id}).")
            st.query_params["decision"] = str(saved.id)
            st.rerun()

st.subheader("Share")
e1, e2 = st.columns(2)
e1.download_button(
    "Download HTML (self-contained, prints well)",
    rationale_html(decision, revals),
    file_name=f"north-star-decision-{decision.id}.html",
    mime="text/html",
    key="dl_html",
)
e2.download_button(
    "Download Markdown",
    rationale_markdown(decision, revals),
    file_name=f"north-star-decision-{decision.id}.md",
    mime="text/markdown",
    key="dl_md",
)
