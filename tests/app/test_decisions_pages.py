"""AppTest of the decisions feature: Rationale from the store alone, recording in the Workshop,
re-validating on the sample.

The recorded decisions are built the way pages/workshop.py builds them, from the real analysis
of the bundled sample run in-process (no app involved), then written to a tmp NORTHSTAR_DB.
"""

from __future__ import annotations

import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import Decision, InputMetric, MetricDefinition, SignOff
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.report.charts import charts_for
from northstar_lab.report.markdown import md_escape
from northstar_lab.settings import AnalysisSettings
from pages import shared

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


# ---- Rationale --------------------------------------------------------------------------------


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

    # the chosen metric and its definition
    assert [h.value for h in at.header] == [f"North Star: {PLANTED_NAME}"]
    assert "Decision #1, version 1" in texts(at.caption)[0]
    assert "not re-validated yet" in texts(at.caption)[0]
    shown = texts(at.markdown)
    assert "**Owner**  \nHead of Learning" in shown
    assert "**Baseline → target**  \n2.1 → 3.0" in shown
    assert md_escape(planted.rationale) in shown  # typed text is shown inert
    assert "ranked 1" in planted.rationale
    metrics = {m.label: m.value for m in at.metric}
    chosen = next(c for c in planted.evidence.ranking["candidates"] if c["key"] == PLANTED_KEY)
    assert metrics["Hazard ratio per SD"] == f"{chosen['hazard_ratio']:.2f}"
    assert metrics["Concordance"] == f"{chosen['c_index']:.3f}"

    # every rejected alternative, with its reason
    assert len(planted.rejected) >= 2
    for r in planted.rejected:
        assert f"**{md_escape(r.name)}**" in shown, r.name
        assert r.reason and md_escape(r.reason) in shown, r.reason

    # the argument's charts, redrawn from the stored chart data
    expected = charts_for(planted)
    assert set(expected) == {"forest", f"km/{PLANTED_KEY}", f"revenue/{PLANTED_KEY}"}
    titles = chart_titles(at)
    assert len(titles) == len(expected) == 3
    assert any(t.startswith("Which early behaviours predict staying?") for t in titles)
    assert any(t.startswith("Retention after day 14") for t in titles)
    assert any(t.startswith("Revenue per user") for t in titles)

    # inputs, sign-offs and the share buttons
    assert at.dataframe[0].value["name"].tolist() == ["Learners completing a lesson in week 1"]
    assert "**Signed off by:** Ada Lovelace (CPO)" in shown
    assert len(at.get("download_button")) == 2


def test_rationale_reports_bad_or_unknown_decision_ids(recorded):
    at = rationale_app("99")
    assert_clean(at)
    [error] = texts(at.error)
    assert error.startswith("No decision #99 in ")

    at = rationale_app("abc")
    assert_clean(at)
    assert texts(at.error) == ["'abc' is not a decision number."]
    assert at.header[0].value.startswith("North Star: ")  # falls back to the newest decision


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
    assert at.header[0].value == f"North Star: {PLANTED_NAME}"
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
    assert "latest re-validation: **holds**" in texts(at.caption)[0]


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


def test_amending_a_decision_saves_a_new_version_and_keeps_the_old(tmp_path, monkeypatch):
    db = tmp_path / "amend.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    store = DecisionStore(db)
    loaded = load_inputs(SAMPLE_EVENTS, SAMPLE_USERS)
    original = store.record(
        build_decision(analyse(loaded, AnalysisSettings()), PLANTED_KEY, "North Star v1")
    )
    at = rationale_app(str(original.id))
    assert_clean(at)
    at.text_area[0].set_value("We chose lessons; the 2026 plan depends on it.")
    at.text_input(key="amend_note").set_value("Rationale rewritten after the board review")
    form_button = next(b for b in at.button if b.label == "Save as a new version")
    form_button.click().run()
    assert_clean(at)
    history = store.history(original.id)
    assert [h.version for h in history] == [1, 2]
    assert history[0].to_dict() == original.to_dict()  # the original is untouched
    assert history[1].rationale == "We chose lessons; the 2026 plan depends on it."
    assert history[1].supersedes == original.id
    assert at.query_params["decision"] == str(history[1].id)
    assert f"Decision #{history[1].id}, version 2" in texts(at.caption)[0]


def test_amending_without_a_note_is_refused(recorded):
    store, planted = recorded
    before = store.history(planted.id)
    at = rationale_app(str(before[-1].id))
    next(b for b in at.button if b.label == "Save as a new version").click().run()
    assert_clean(at)
    assert any("say what the amendment changes" in e for e in texts(at.error))
    assert [h.id for h in store.history(planted.id)] == [h.id for h in before]
