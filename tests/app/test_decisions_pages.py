"""AppTest of the decisions feature: Rationale from the store alone, recording in the Workshop,
re-validating on the sample.

The recorded decisions are built the way pages/workshop.py builds them, from the real analysis
of the bundled sample run in-process (no app involved), then written to a tmp NORTHSTAR_DB.
"""

from __future__ import annotations

import html
import re

import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import Decision, InputMetric, MetricDefinition, SignOff
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.report.charts import charts_for
from northstar_lab.report.facts import SECTIONS, rationale_facts
from northstar_lab.settings import AnalysisSettings
from pages import shared
from tests.report.records import control_decision, make_decision

from .conftest import (
    PLANTED_KEY,
    PLANTED_NAME,
    assert_clean,
    chart_titles,
    new_app,
    run_with_editor_state,
    texts,
)

SAMPLE_EVENTS = shared.SAMPLE["events"]
SAMPLE_USERS = shared.SAMPLE["users"]


@pytest.fixture(scope="module")
def sample_analysis():
    """The bundled sample analysed with the default settings, as the app does (~5 s)."""
    loaded = load_inputs(SAMPLE_EVENTS, SAMPLE_USERS)
    return analyse(loaded, AnalysisSettings())


def build_decision(result, chosen: str, title: str) -> Decision:
    """A decision as the Workshop's "Record decision" makes it (see pages/workshop.py)."""
    ranking = result.ranking
    shortlist = workshop.default_shortlist(ranking)
    if chosen not in shortlist:
        shortlist = [chosen, *shortlist]
    rubric = workshop.default_rubric(ranking, shortlist)
    rubric.loc[rubric["key"] == chosen, "hard_to_game"] = 5
    weights = dict(workshop.DEFAULT_CRITERIA_WEIGHTS)
    ev_weight = workshop.DEFAULT_EVIDENCE_WEIGHT
    ordering = workshop.combined_ordering(ranking, rubric, weights, ev_weight)
    rejected = workshop.rejected_alternatives(ranking, chosen, shortlist, ordering)
    c = ranking.candidate(chosen)
    defaults = workshop.definition_defaults(c, result.settings.window_days)
    return Decision(
        title=title,
        chosen_key=chosen,
        definition=MetricDefinition(
            **defaults, owner="Head of Learning", baseline="2.1", target="3.0"
        ),
        rationale=workshop.evidence_summary(ranking, chosen),
        rejected=rejected,
        evidence=workshop.evidence_snapshot(
            result, chosen, [r.key for r in rejected], rubric, weights, ev_weight
        ),
        input_metrics=[
            InputMetric("Learners completing a lesson in week 1", "breadth", "Content team"),
        ],
        sign_offs=[SignOff("Ada Lovelace", "CPO")],
    )


@pytest.fixture(scope="module")
def recorded(module_db, sample_analysis):
    """Two decisions in the module's tmp DB: #1 the planted driver, #2 a runner-up (newest)."""
    store = DecisionStore(module_db)
    planted = store.record(build_decision(sample_analysis, PLANTED_KEY, "North Star for 2026"))
    other = next(k for k in workshop.default_shortlist(sample_analysis.ranking) if k != PLANTED_KEY)
    store.record(build_decision(sample_analysis, other, "A rival proposal"))
    return store, planted


def rationale_app(decision_id: str):
    """A fresh session opened on the Rationale page with ?decision=<id>."""
    at = new_app()
    at.query_params["decision"] = decision_id
    at.run()
    return at.switch_page("pages/rationale.py").run()


# ---- Rationale ----------------------------------------------------------------------------------


def headings(at) -> list[str]:
    """Headings drawn from record text (escaped HTML), as the browser shows them."""
    return [html.unescape(re.sub(r"<[^>]+>", "", h.proto.body)) for h in at.get("html")]


def unescaped(markdown: str) -> str:
    """Callout text back from literal Markdown (every punctuation backslash-escaped)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def frame_with(at, column: str):
    return next(f for f in frames(at) if column in f.columns)


def assert_read_only(at) -> None:
    """The share view offers nothing that edits: no form, input, editor or button."""
    for kind in ("text_input", "text_area", "data_editor", "button", "number_input"):
        assert not at.get(kind), kind
    assert not at.get("form")


def test_rationale_renders_from_the_store_alone(recorded, monkeypatch, tmp_path):
    store, planted = recorded
    # No dataset: the sample files "vanish" and any attempt to load or analyse data fails.
    monkeypatch.setitem(shared.SAMPLE, "events", str(tmp_path / "missing" / "events.parquet"))
    monkeypatch.setitem(shared.SAMPLE, "users", str(tmp_path / "missing" / "users.csv"))
    monkeypatch.setattr(shared, "SAMPLE_DIR", tmp_path / "missing")

    def no_data(*_a, **_k):
        raise AssertionError("the Rationale page must not load or analyse data")

    monkeypatch.setattr(shared, "loaded_data", no_data)
    monkeypatch.setattr(shared, "analysis", no_data)

    at = rationale_app(str(planted.id))
    assert_clean(at)
    assert not at.error
    assert "dataset" not in at.session_state
    assert at.query_params["decision"] == str(planted.id)
    assert at.selectbox(key="rationale_pick").value == planted.id  # not the newest (#2)
    assert_read_only(at)

    # the chosen metric and its definition, as the library's facts say it
    facts = rationale_facts(planted, integrity=store.verify(planted.id))
    assert headings(at)[0] == f"North Star: {PLANTED_NAME}"
    shown = texts(at.text)
    assert f"{facts.record_line} · not re-validated yet" in shown
    assert [unescaped(t) for t in texts(at.success)] == [facts.integrity.message]
    captions = texts(at.caption)
    for label, value in facts.definition:  # the definition, label over value
        assert label in captions and value in shown, label
    assert ("Owner", "Head of Learning") in facts.definition
    assert all(p in shown for p in facts.rationale), "typed text is shown as typed"
    assert "ranked 1" in planted.rationale
    metrics = {m.label: m.value for m in at.metric}
    chosen = next(c for c in planted.evidence.ranking["candidates"] if c["key"] == PLANTED_KEY)
    assert metrics["Hazard ratio per SD"] == f"{chosen['hazard_ratio']:.2f}"
    assert metrics["Concordance C"] == f"{chosen['c_index']:.3f}"

    # every rejected alternative, with its reason and where it stood
    alternatives = frame_with(at, "Standing")
    assert len(planted.rejected) >= 2
    for r in planted.rejected:
        row = alternatives[alternatives["Metric"] == r.name]
        assert r.reason and row["Why"].tolist() == [r.reason], r.name
    assert alternatives["Standing"].iloc[0].startswith("Ranked 1st of ")

    # the argument's charts, redrawn from the stored chart data
    expected = charts_for(planted)
    assert set(expected) == {"forest", f"km/{PLANTED_KEY}", f"revenue/{PLANTED_KEY}"}
    titles = chart_titles(at)
    assert len(titles) == len(expected) == 3
    assert any(t.startswith("Which early behaviours predict staying?") for t in titles)
    assert any(t.startswith("Retention after day 14") for t in titles)
    assert any(t.startswith("Revenue per user") for t in titles)

    # inputs, sign-offs, the sections in the export's order, and the share buttons
    inputs = frame_with(at, "Input metric")
    assert inputs["Input metric"].tolist() == ["Learners completing a lesson in week 1"]
    assert frame_with(at, "Name")["Role"].tolist() == ["CPO"]
    subheaders = [h.value for h in at.subheader]
    assert subheaders == [t for k, t in SECTIONS.items() if k not in ("header", "versions")] + [
        "Share"
    ]
    assert len(at.get("download_button")) == 2


def test_rationale_reports_bad_or_unknown_decision_ids(recorded):
    store, _ = recorded
    at = rationale_app("99")
    assert_clean(at)
    assert texts(at.error) == ["There is no decision #99. Showing the newest decision."]
    assert headings(at)[0].startswith("North Star: ")  # falls back to the newest decision
    assert store.location not in " ".join(texts(at.error) + texts(at.text))

    at = rationale_app("abc")
    assert_clean(at)
    assert texts(at.error) == [
        "This link does not name a decision number. Showing the newest decision."
    ]
    assert headings(at)[0].startswith("North Star: ")


def test_picking_another_decision_changes_the_link(recorded):
    store, planted = recorded
    other = next(d["id"] for d in store.list_decisions() if d["id"] != planted.id)
    at = rationale_app(str(planted.id))
    at.selectbox(key="rationale_pick").set_value(other).run()
    assert_clean(at)
    assert at.query_params["decision"] == str(other)
    assert headings(at)[0] == f"North Star: {store.get(other).definition.name}"


def test_names_from_the_data_are_plain_text_and_cannot_take_the_page_down(tmp_path, monkeypatch):
    """Control characters (vl-convert aborts on them) and Markdown in names: the page opens,
    the heading shows the name as typed (no link), nothing is drawn by vl-convert."""
    db = tmp_path / "hostile.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    d = control_decision()
    d.definition.name = "[click me](https://evil.example/phish) **bold** " + d.definition.name
    d.id = d.created_at = None
    saved = DecisionStore(db).record(d)
    at = rationale_app(str(saved.id))
    assert_clean(at)
    [body] = [h.proto.body for h in at.get("html")][:1]
    assert "<a" not in body and "[click me](https://evil.example/phish) **bold**" in body
    assert "\x01" not in body and "\ufffd" in body
    assert len(chart_titles(at)) == 3
    assert_read_only(at)


def test_a_superseded_version_says_so_and_links_every_version(tmp_path, monkeypatch):
    db = tmp_path / "versions.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    store = DecisionStore(db)
    first = make_decision()
    first.id = first.created_at = None
    v1 = store.record(first)
    v2 = store.amend(v1.id, v1, "Target raised to 45%")
    at = rationale_app(str(v1.id))
    assert_clean(at)
    [warning] = [unescaped(t) for t in texts(at.warning)]
    assert warning.startswith("Superseded: this is version 1; the current version is 2")
    links = {p.proto.label: p.proto.query_string for p in at.get("page_link")}
    assert links == {f"Open the current version (#{v2.id})": f"decision={v2.id}",
                     f"Version 2 · decision #{v2.id}": f"decision={v2.id}"}  # fmt: skip
    assert f"Version 1 · #{v1.id} (shown here)" in texts(at.text)
    assert "Versions" in [h.value for h in at.subheader]
    assert_read_only(at)


def test_decision_pages_with_an_empty_store(tmp_path, monkeypatch):
    monkeypatch.setenv("NORTHSTAR_DB", str(tmp_path / "empty.sqlite3"))
    at = new_app().run()
    at.switch_page("pages/rationale.py").run()
    assert_clean(at)
    assert texts(at.info) == ["No decision recorded yet. Record one at the end of the Workshop."]
    at.switch_page("pages/revalidate.py").run()
    assert_clean(at)
    assert texts(at.info) == ["No decision recorded yet."]


# ---- Workshop → record ------------------------------------------------------------------------


def text_input(at, label: str):
    return next(t for t in at.text_input if t.label == label)


def test_recording_a_decision_through_the_workshop_form(tmp_path, monkeypatch):
    db = tmp_path / "workshop.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    at = new_app().run()
    at.button(key="try_sample").click().run()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    shortlist = at.session_state["shortlist"]
    assert shortlist[0] == PLANTED_KEY
    assert at.selectbox(key="chosen_widget").value == PLANTED_KEY

    # the team's rubric (its own rerun in the browser), then the form
    run_with_editor_state(at, {"rubric_editor": {"edited_rows": {0: {"hard_to_game": 5}}}})
    assert_clean(at)
    text_input(at, "Decision title").set_value("North Star for 2026")
    text_input(at, "Owner").set_value("Head of Learning")
    text_input(at, "Current baseline").set_value("2.1 lessons")
    text_input(at, "Target").set_value("3 lessons")
    assert at.button[0].label == "Record decision"  # the form's submit button
    at.button[0].click()
    chosen = PLANTED_KEY
    run_with_editor_state(
        at,
        {
            f"inputs_editor_{chosen}": {
                "edited_rows": {1: {"name": "Lessons per learner", "owner": "Content team"}}
            },
            f"signs_editor_{chosen}": {"edited_rows": {0: {"name": "Ada Lovelace", "role": "CPO"}}},
        },
    )
    assert_clean(at)
    assert not at.error, texts(at.error)
    assert texts(at.success) == ["Decision #1 recorded."]
    assert at.session_state["last_decision_id"] == 1

    # the database has the record, with everything the form carried
    store = DecisionStore(db)
    [row] = store.list_decisions()
    assert (row["id"], row["title"], row["chosen_key"]) == (1, "North Star for 2026", chosen)
    d = store.get(1)
    assert d.definition.name == PLANTED_NAME
    assert (d.definition.owner, d.definition.baseline, d.definition.target) == (
        "Head of Learning",
        "2.1 lessons",
        "3 lessons",
    )
    assert [r.key for r in d.rejected] == [k for k in shortlist if k != chosen]
    assert all(r.reason.strip() for r in d.rejected)
    assert [(m.name, m.kind, m.owner) for m in d.input_metrics] == [
        ("Lessons per learner", "depth", "Content team")
    ]
    assert [(s.name, s.role) for s in d.sign_offs] == [("Ada Lovelace", "CPO")]
    scores = {s["key"]: s for s in d.evidence.rubric["scores"]}
    assert scores[chosen]["hard_to_game"] == 5
    assert d.evidence.ranking["candidates"][0]["key"] == PLANTED_KEY
    assert f"km/{chosen}" in d.evidence.charts

    # the Rationale page opens on it, and Home lists it
    at.switch_page("pages/rationale.py").run()
    assert_clean(at)
    assert headings(at)[0] == f"North Star: {PLANTED_NAME}"
    at.switch_page("pages/home.py").run()
    assert_clean(at)
    listed = [t for t in texts(at.markdown) if t.startswith("- [North Star for 2026]")]
    assert listed and "(/rationale?decision=1)" in listed[0] and "not re-validated" in listed[0]


def test_recording_with_an_empty_reason_is_refused_with_a_message(tmp_path, monkeypatch):
    db = tmp_path / "refused.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    at = new_app().run()
    at.button(key="try_sample").click().run()
    at.switch_page("pages/workshop.py").run()
    at.button[0].click()
    run_with_editor_state(
        at, {f"rejected_editor_{PLANTED_KEY}": {"edited_rows": {0: {"reason": "  "}}}}
    )
    assert_clean(at)
    assert not at.success
    [error] = texts(at.error)
    assert "reason is empty; say in a sentence why it lost" in error
    assert DecisionStore(db).list_decisions() == []


# ---- Re-validate ------------------------------------------------------------------------------


def test_revalidate_on_the_sample_holds_and_saving_adds_to_history(recorded):
    store, planted = recorded
    at = new_app().run()
    at.switch_page("pages/revalidate.py").run()
    assert_clean(at)
    at.selectbox(key="reval_decision").set_value(planted.id)
    assert at.radio(key="reval_how").value == "Bundled sample"
    at.button(key="reval_run").click().run()
    assert_clean(at)
    assert not at.error, texts(at.error)
    assert [s.value for s in at.subheader if "Verdict" in s.value] == ["✅ Verdict: HOLDS"]
    comparison = at.dataframe[0].value
    assert PLANTED_KEY in comparison.to_string() or PLANTED_NAME in comparison.to_string()
    assert "No re-validation saved yet." in texts(at.markdown)

    at.button(key="reval_save").click().run()
    assert_clean(at)
    [saved] = texts(at.success)
    assert saved.startswith("Saved (re-validation #1)")
    history = at.dataframe[-1].value
    assert history["verdict"].tolist() == ["holds"]
    assert [r.verdict for r in store.revalidations(planted.id)] == ["holds"]

    # the decision's page shows the verdict
    at = rationale_app(str(planted.id))
    assert_clean(at)
    assert any(t.endswith("latest re-validation: holds") for t in texts(at.text))


def test_revalidate_on_a_missing_path_shows_the_error(recorded):
    store, planted = recorded
    before = len(store.revalidations(planted.id))
    at = new_app().run()
    at.switch_page("pages/revalidate.py").run()
    at.radio(key="reval_how").set_value("Path or source").run()
    at.text_input(key="reval_src").set_value("/nonexistent/events.parquet").run()
    at.button(key="reval_run").click().run()
    assert_clean(at)
    assert texts(at.error) == [
        "/nonexistent/events.parquet: file not found. Check the path (globs like "
        "events/*.parquet work)."
    ]
    assert at.status[0].label == "Could not re-run"
    assert "pending_reval" not in at.session_state
    assert len(store.revalidations(planted.id)) == before  # nothing saved
