"""Rationale: the read-only page for leadership, rendered from the decision store alone.

Deep link: /rationale?decision=<id>. It shows what `report.facts` says about the decision, in
the same order and words as the HTML export; nothing here needs the original data and nothing
here edits a record (amending lives on the Workshop page). Everything from the record is plain
text: `st.text`, tables, or a heading of escaped HTML, never Markdown.
"""

import html
import re

import pandas as pd
import streamlit as st

from northstar_lab.errors import InputError
from northstar_lab.report.charts import charts_for
from northstar_lab.report.facts import SECTIONS, stored_facts
from northstar_lab.report.html import facts_html
from northstar_lab.report.markdown import facts_markdown
from pages import shared

PAGE = "pages/rationale.py"


def heading(text: str, level: int = 3) -> None:
    """A heading whose text is shown as typed (escaped HTML: no Markdown, no markup)."""
    st.html(f"<h{level}>{html.escape(text)}</h{level}>")


def literal(text: str) -> str:
    """Text that Markdown shows as typed (every ASCII punctuation escaped), for callouts."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(text.split()))


def table(t, lines: int = 1) -> None:
    """A facts table as a plain-text data frame (rows `lines` of text high, long cells wrap),
    its note under it; its words when empty."""
    if not t.rows:
        if t.empty:
            st.text(t.empty)
        return
    frame = pd.DataFrame(list(t.rows), columns=list(t.header))
    first = {t.header[0]: st.column_config.TextColumn(pinned=True)}
    st.dataframe(frame, hide_index=True, column_config=first, row_height=12 + 22 * lines)
    if t.note:
        st.text(t.note)


def choose_decision(store) -> int:
    """The decision the link asks for; a bad link says so (never the store's location) and
    falls back to the newest decision."""
    listed = store.list_decisions(all_versions=True)
    if not listed:
        st.info("No decision recorded yet. Record one at the end of the Workshop.")
        st.stop()
    known = {d["id"]: d for d in listed}
    newest = next(d["id"] for d in listed if d["is_latest"])
    asked = (
        st.session_state.pop("rationale_picked", None)  # a pick in the box below wins
        or st.query_params.get("decision")
        or st.session_state.get("last_decision_id")
    )
    wanted = newest if asked is None else str(asked).strip().lstrip("#")
    if not str(wanted).isdigit():
        st.error("This link does not name a decision number. Showing the newest decision.")
        wanted = newest
    elif int(wanted) not in known:
        st.error(f"There is no decision #{int(wanted)}. Showing the newest decision.")
        wanted = newest
    wanted = int(wanted)
    options = [d["id"] for d in listed if d["is_latest"] or d["id"] == wanted]
    labels = {
        i: f"#{i} — {known[i]['title']} (v{known[i]['version']}"
        + ("" if known[i]["is_latest"] else ", superseded")
        + ")"
        for i in options
    }
    st.session_state["rationale_pick"] = wanted  # the link decides, not an earlier pick
    st.selectbox("Decision", options, format_func=labels.get, key="rationale_pick",
                 on_change=follow_pick)  # fmt: skip
    st.query_params["decision"] = str(wanted)
    return wanted


def follow_pick() -> None:
    """The box's pick becomes the link (set by the script run: a callback's change of the
    query string does not reach the browser's address bar)."""
    st.session_state["rationale_picked"] = st.session_state["rationale_pick"]


def header(f, decision) -> None:
    heading(f"North Star: {f.north_star}", 2)
    if f.meaning:
        st.text(f.meaning)
    latest = f.revalidations[0].verdict_words if f.revalidations else None
    st.text(f.record_line + (f" · latest re-validation: {latest}" if latest else
                             " · not re-validated yet"))  # fmt: skip
    if f.integrity:
        show = {"verified": st.success, "altered": st.error}.get(f.integrity.status, st.info)
        show(literal(f.integrity.message))
    if f.superseded:
        st.warning(literal(f.superseded))
        st.page_link(PAGE, label=f"Open the current version (#{f.latest_id})",
                     query_params={"decision": str(f.latest_id)})  # fmt: skip
    if f.amendment:
        st.text(f.amendment)
    with st.container(border=True):
        cols = st.columns(3)
        for i, (label, value) in enumerate(f.definition):
            cols[i % 3].caption(label)
            cols[i % 3].text(value)


def why(f, decision) -> None:
    for paragraph in f.rationale:
        st.text(paragraph)
    for name, chart in charts_for(decision).items():
        st.altair_chart(chart, width="stretch", key=f"rationale_chart_{name}")
    if f.rubric:
        st.markdown("**Workshop rubric**")
        table(f.rubric)


def alternatives(f, decision) -> None:
    rows = [
        {"Metric": a.name, "Role": a.role, "Standing": a.standing,
         **dict(zip(f.number_columns, a.numbers, strict=True)), "Why": a.reason}
        for a in f.alternatives
    ]  # fmt: skip
    pinned = {"Metric": st.column_config.TextColumn(pinned=True)}
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=pinned, row_height=56)
    if f.alternatives_note:
        st.text(f.alternatives_note)


def confidence(f, decision) -> None:
    if f.headline:
        for col, h in zip(st.columns(len(f.headline)), f.headline, strict=True):
            col.metric(h.label, h.value, h.detail or None, delta_color="off", delta_arrow="off")
    for line in f.confidence:
        st.text(f"• {line}")
    st.markdown("**Caveats**")
    for line in f.caveats:
        st.text(f"• {line}")


def inputs(f, decision) -> None:
    """The recorded inputs with their evidence, then the tree drawn from it (when measured)."""
    table(f.inputs, lines=2)
    if f.tree:
        st.vega_lite_chart(f.tree, width="content", key="rationale_input_tree")
        st.text(f.tree_caption)


def data(f, decision) -> None:
    if f.population:
        st.text(f.population)
    with st.expander("Data fingerprint and analysis settings"):
        table(f.fingerprint)
        table(f.settings)


def revalidations(f, decision) -> None:
    if not f.revalidations:
        st.text("Not re-validated yet.")
    for r in f.revalidations:
        heading(f"{r.run_at}: {r.verdict_words}", 4)
        st.text(f"{r.summary} (judged {r.judged})")
        table(r.then_now)
    if f.revalidation_rule:
        st.text(f"Rule: {f.revalidation_rule}")


def versions(f, decision) -> None:
    for v in f.versions:
        left, right = st.columns([1, 3])
        if v.shown:
            left.text(f"Version {v.version} · #{v.decision_id} (shown here)")
        else:
            left.page_link(PAGE, label=f"Version {v.version} · decision #{v.decision_id}",
                           query_params={"decision": str(v.decision_id)})  # fmt: skip
        by = f" by {v.by}" if v.by else ""
        right.text(f"{v.status} · recorded {v.recorded}{by} · {v.note}")


SECTION_VIEWS = {
    "header": header,
    "why": why,
    "alternatives": alternatives,
    "guardrails": lambda f, d: table(f.guardrails),
    "gaps": lambda f, d: table(f.gaps),
    "confidence": confidence,
    "inputs": inputs,
    "signoffs": lambda f, d: table(f.signoffs),
    "data": data,
    "revalidations": revalidations,
    "versions": versions,
}


def share(f, decision) -> None:
    """Downloads drawn only when clicked: the charts are drawn in a subprocess then."""
    left, right = st.columns(2)
    left.download_button(
        "Download HTML (self-contained, prints well)",
        lambda: facts_html(f, charts_for(decision)),
        file_name=f"north-star-decision-{decision.id}.html",
        mime="text/html",
        key="dl_html",
        on_click="ignore",
    )
    right.download_button(
        "Download Markdown",
        lambda: facts_markdown(f),
        file_name=f"north-star-decision-{decision.id}.md",
        mime="text/markdown",
        key="dl_md",
        on_click="ignore",
    )


st.title("Rationale")
try:
    store = shared.store()
    decision, facts = stored_facts(store, choose_decision(store))
except InputError:  # a damaged or unreachable store: its message may name the server's path
    st.error("The decision store cannot be read right now. Ask whoever runs this app.")
    st.stop()
for section, title in SECTIONS.items():
    if section == "versions" and not facts.versions:
        continue
    if section != "header":
        st.subheader(title)
    SECTION_VIEWS[section](facts, decision)
st.subheader("Share")
share(facts, decision)
