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
    by_label,
    chart_titles,
    new_app,
    shown,
    table_with,
    texts,
)

SAMPLE_EVENTS = str(shared.SAMPLE_FILES["events"])
SAMPLE_USERS = str(shared.SAMPLE_FILES["users"])


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
    missing = tmp_path / "missing"
    monkeypatch.setitem(shared.SAMPLE_FILES, "events", missing / "events.parquet")
    monkeypatch.setitem(shared.SAMPLE_FILES, "users", missing / "users.csv")

    def no_data(*_a, **_k):
        raise AssertionError("the Rationale page must not load or analyse data")

    monkeypatch.setattr(shared, "loaded_data", no_data)
    monkeypatch.setattr(shared, "analysis", no_data)

    at = rationale_app(str(planted.id))
    assert_clean(at)
    assert not at.error
    assert "ws" not in at.session_state or at.session_state["ws"].dataset is None
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
    # (the input metrics table has `inputs.tree.input_rows`' columns: "name" … "verdict")
    inputs = frame_with(at, "verdict")
    assert inputs["name"].tolist() == ["Learners completing a lesson in week 1"]
    assert inputs["verdict"].tolist() == ["not measured"], "written in words only"
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


def workshop_app(db, monkeypatch):
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    at = new_app().run()
    at.button(key="try_sample").click().run()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    return at


def fill(at, label: str, value: str, nth: int = 0):
    [w for w in at.text_input if w.label == label][nth].set_value(value)


def fill_required(at):
    fill(at, "Owner (required)", "Head of Learning")
    fill(at, "Current baseline (required)", "2.1 lessons")
    fill(at, "Target (required)", "3 lessons by Q4")
    fill(at, "Signed off by", "Ada Lovelace")
    fill(at, "Role", "CPO")


def rubric_cell(at, row: int, criterion: str):
    labels = [v[0] for v in workshop.CRITERIA.values()]
    cells = [n for n in at.number_input if n.label in labels]
    return cells[row * len(labels) + list(workshop.CRITERIA).index(criterion)]


def test_recording_a_decision_through_the_workshop(tmp_path, monkeypatch):
    db = tmp_path / "workshop.sqlite3"
    at = workshop_app(db, monkeypatch)
    shortlist = at.session_state["ws"].shortlist
    assert shortlist[0] == PLANTED_KEY
    assert by_label(at.selectbox, "Our North Star").value == PLANTED_KEY

    rubric_cell(at, 0, "hard_to_game").set_value(5).run()
    fill(at, "Decision title", "North Star for 2026")
    fill_required(at)
    fill(at, "Input metric", "Lessons per learner", nth=1)
    fill(at, "Its owner", "Content team", nth=1)
    at.run()
    assert texts(at.caption)[-1].startswith("Before recording") is False
    at.button(key="record").click().run()
    assert_clean(at)
    assert not at.error, texts(at.error)
    assert texts(at.success) == ["This draft was recorded as decision #1."]
    assert at.session_state["last_decision_id"] == 1
    assert not [b for b in at.button if b.key == "record"]  # no second click on this draft

    store = DecisionStore(db)
    [row] = store.list_decisions()
    assert (row["id"], row["title"], row["chosen_key"]) == (1, "North Star for 2026", PLANTED_KEY)
    d = store.get(1)
    assert d.definition.name == PLANTED_NAME
    assert (d.definition.owner, d.definition.baseline, d.definition.target) == (
        "Head of Learning",
        "2.1 lessons",
        "3 lessons by Q4",
    )
    assert [r.key for r in d.rejected] == [k for k in shortlist if k != PLANTED_KEY]
    assert all(r.reason.strip() for r in d.rejected)
    assert [(m.name, m.kind, m.owner) for m in d.input_metrics] == [
        ("Lessons per learner", "depth", "Content team")
    ]
    assert [(s.name, s.role) for s in d.sign_offs] == [("Ada Lovelace", "CPO")]
    scores = {s["key"]: s for s in d.evidence.rubric["scores"]}
    assert scores[PLANTED_KEY]["hard_to_game"] == 5
    assert d.evidence.rubric["participants"] == [
        {"name": "Facilitator", "scores": {PLANTED_KEY: {"hard_to_game": 5}}}
    ]
    assert d.evidence.ranking["candidates"][0]["key"] == PLANTED_KEY
    assert f"km/{PLANTED_KEY}" in d.evidence.charts

    at.run()  # any later rerun (a second click arriving late) records nothing more
    assert len(store.list_decisions()) == 1

    # the Rationale page opens on it, and Home lists it
    at.switch_page("pages/rationale.py").run()
    assert_clean(at)
    assert headings(at)[0] == f"North Star: {PLANTED_NAME}"
    at.switch_page("pages/home.py").run()
    assert_clean(at)
    listed = table_with(at, "title")
    assert listed["title"].tolist() == ["North Star for 2026"]
    assert listed["latest re-validation"].tolist() == ["not re-validated"]
    assert [p.label for p in at.get("page_link") if "decision" in p.label] == ["Open decision #1"]


def test_recording_says_what_is_missing_and_records_nothing(tmp_path, monkeypatch):
    db = tmp_path / "missing.sqlite3"
    at = workshop_app(db, monkeypatch)
    at.button(key="record").click().run()
    assert_clean(at)
    [error] = texts(at.error)
    assert error == (
        "Missing: an owner (who answers for the metric), the current baseline (where the "
        "metric is today), a target (where it should be, and by when), at least one sign-off "
        "(a name)."
    )
    fill(at, "Owner (required)", "Head of Learning")
    fill(at, "Role", "CPO")
    at.button(key="record").click().run()
    [error] = texts(at.error)
    assert "an owner" not in error and "Sign-off row 1 has a role but no name." in error
    assert DecisionStore(db).list_decisions() == []


def test_recording_with_an_empty_reason_is_refused_with_a_message(tmp_path, monkeypatch):
    db = tmp_path / "refused.sqlite3"
    at = workshop_app(db, monkeypatch)
    fill_required(at)
    [r for r in at.text_area if r.label == "Why it lost"][0].set_value("  ")
    at.button(key="record").click().run()
    assert_clean(at)
    assert not at.success
    [error] = [shown(e) for e in texts(at.error)]
    assert "reason is empty; say in a sentence why it lost" in error
    assert DecisionStore(db).list_decisions() == []


RATIONALE = "Rationale (pre-filled with the evidence; edit freely)"


def test_a_draft_written_on_another_analysis_is_not_recorded_silently(tmp_path, monkeypatch):
    db = tmp_path / "stale.sqlite3"
    at = workshop_app(db, monkeypatch)
    fill_required(at)
    by_label(at.text_area, RATIONALE).set_value("Lessons in the first 14 days: HR 0.61.").run()
    assert_clean(at)

    # the window changes on the Candidates page; the typed owner survives the page switches
    at.switch_page("pages/candidates.py").run()
    at.sidebar.number_input(key="set_window").set_value(7)
    at.sidebar.button[0].click().run()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    assert by_label(at.text_input, "Owner (required)").value == "Head of Learning"
    [warning] = [shown(w) for w in texts(at.warning)]
    assert (
        "observation window: 14 days → 7 days" in warning and "Edited since: rationale" in warning
    )
    # untouched pre-filled text already follows the analysis on screen
    assert by_label(at.text_input, "Decision title").value.endswith("in first 7 days")

    at.button(key="record").click().run()
    [error] = texts(at.error)
    assert error.startswith("The draft's edited text was written on another analysis")
    assert DecisionStore(db).list_decisions() == []

    at.button(key="refresh_draft").click().run()
    assert_clean(at)
    assert not at.warning
    rationale = by_label(at.text_area, RATIONALE).value
    assert "first 7 days" in rationale and "14 days" not in rationale
    assert by_label(at.text_input, "Owner (required)").value == "Head of Learning"
    at.button(key="record").click().run()
    assert_clean(at)
    assert texts(at.success) == ["This draft was recorded as decision #1."]
    d = DecisionStore(db).get(1)
    assert d.evidence.settings["window_days"] == 7
    assert "first 7 days" in d.rationale and d.title.endswith("in first 7 days")
    chosen = next(c for c in d.evidence.ranking["candidates"] if c["key"] == d.chosen_key)
    assert f"{chosen['hazard_ratio']:.2f}×" in d.rationale  # its own evidence's numbers


# ---- workshop sessions: reload, participants ------------------------------------------------


def start_session(at, name: str = "Ada"):
    fill(at, "Your name (facilitator)", name)
    at.button(key="start_workshop").click().run()
    assert_clean(at)
    return at.query_params["workshop"], at.query_params["key"]


def reopen(wid: str, key: str | None = None, page: str = "pages/workshop.py"):
    at = new_app()
    at.query_params["workshop"] = wid
    if key:
        at.query_params["key"] = key
    at.run()
    return at.switch_page(page).run()


def test_a_reload_restores_the_workshop(tmp_path, monkeypatch):
    at = workshop_app(tmp_path / "reload.sqlite3", monkeypatch)
    wid, key = start_session(at)
    shortlist = at.session_state["ws"].shortlist[:3]
    by_label(at.multiselect, "Shortlist").set_value(shortlist).run()
    rubric_cell(at, 1, "actionable").set_value(4).run()
    fill(at, "Owner (required)", "Head of Learning")
    at.run()

    again = reopen(wid, key)  # a new browser session: nothing in memory, the link only
    assert_clean(again)
    ws = again.session_state["ws"]
    assert ws.shortlist == shortlist and ws.rubric == {shortlist[1]: {"actionable": 4}}
    assert by_label(again.multiselect, "Shortlist").value == shortlist
    assert rubric_cell(again, 1, "actionable").value == 4
    assert by_label(again.text_input, "Owner (required)").value == "Head of Learning"
    assert again.session_state["workshop"]["role"] == "facilitator"


def test_participants_score_on_their_own_and_the_facilitator_sees_everyone(tmp_path, monkeypatch):
    db = tmp_path / "team.sqlite3"
    at = workshop_app(db, monkeypatch)
    wid, _ = start_session(at, "Ada")
    rubric_cell(at, 0, "actionable").set_value(5).run()

    bo = reopen(wid)  # the participants' link: no facilitator key
    assert_clean(bo)
    assert bo.session_state["workshop"]["role"] == "participant"
    assert not [b for b in bo.button if b.key == "record"]  # participants never record
    fill(bo, "Your name", "Bo")
    bo.button(key="join").click().run()
    assert_clean(bo)
    assert "You are scoring as Bo." in texts(bo.text)
    rubric_cell(bo, 0, "actionable").set_value(1).run()
    rubric_cell(bo, 1, "leads_revenue").set_value(4).run()
    assert_clean(bo)

    at.run()  # the facilitator's live view (a fragment re-run every few seconds)
    people = table_with(at, "participant")
    assert sorted(set(people["participant"])) == ["Ada", "Bo"]
    leader = people[people["key"] == PLANTED_KEY].set_index("participant")
    assert leader.loc["Ada", "actionable"] == 5 and leader.loc["Bo", "actionable"] == 1
    assert any(
        t.startswith("Actionable by the team — ") and t.endswith("from 1 (Bo) to 5 (Ada)")
        for t in texts(at.text)
    )
    o = table_with(at, "combined").set_index("key")
    assert o.loc[PLANTED_KEY, "rubric_mean"] == pytest.approx((3 + 3 + 3 + 3 + 3) / 5)

    fill_required(at)
    at.button(key="record").click().run()
    assert_clean(at)
    d = DecisionStore(db).get(1)
    people = {p["name"]: p["scores"] for p in d.evidence.rubric["participants"]}
    assert people == {
        "Ada": {PLANTED_KEY: {"actionable": 5}},
        "Bo": {PLANTED_KEY: {"actionable": 1}, at.session_state["ws"].shortlist[1]:
               {"leads_revenue": 4}},
    }  # fmt: skip
    assert d.created_by == "Ada"


def test_a_bad_workshop_link_says_so_in_words(tmp_path, monkeypatch):
    monkeypatch.setenv("NORTHSTAR_DB", str(tmp_path / "none.sqlite3"))
    at = new_app()
    at.query_params["workshop"] = "no-such-workshop-id"
    at.run()
    assert_clean(at)
    [error] = texts(at.error)
    assert "ask the facilitator for the link" in error and str(tmp_path) not in error


# ---- amend, on the workshop page --------------------------------------------------------------


def test_amending_a_decision_saves_a_new_version_and_keeps_the_old(tmp_path, monkeypatch):
    db = tmp_path / "amend.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(db))
    store = DecisionStore(db)
    loaded = load_inputs(SAMPLE_EVENTS, SAMPLE_USERS)
    original = store.record(
        build_decision(analyse(loaded, AnalysisSettings()), PLANTED_KEY, "North Star v1")
    )
    at = new_app()
    at.query_params["amend"] = str(original.id)
    at.run()
    at.switch_page("pages/workshop.py").run()  # no data loaded: amending needs none
    assert_clean(at)
    by_label(at.text_area, "Rationale").set_value("We chose lessons; the 2026 plan depends on it.")
    fill(at, "What changes, and why (required)", "Rationale rewritten after the board review")
    next(b for b in at.button if b.label == "Save as a new version").click().run()
    assert_clean(at)
    history = store.history(original.id)
    assert [h.version for h in history] == [1, 2]
    assert history[0].to_dict() == original.to_dict()  # the original is untouched
    assert history[1].rationale == "We chose lessons; the 2026 plan depends on it."
    assert history[1].supersedes == original.id
    assert texts(at.success) == [f"Saved as version 2 (decision #{history[1].id})."]


def test_amending_without_a_note_is_refused(recorded):
    store, planted = recorded
    before = store.history(planted.id)
    at = new_app()
    at.query_params["amend"] = str(before[-1].id)
    at.run()
    at.switch_page("pages/workshop.py").run()
    next(b for b in at.button if b.label == "Save as a new version").click().run()
    assert_clean(at)
    assert any("say what the amendment changes" in e for e in texts(at.error))
    assert [h.id for h in store.history(planted.id)] == [h.id for h in before]


def test_the_share_view_has_no_edit_control(recorded):
    _store, planted = recorded
    at = rationale_app(str(planted.id))
    assert_clean(at)
    assert not at.text_input and not at.text_area and not at.get("data_editor")
    assert not [b for b in at.button if "version" in b.label.lower() or "amend" in b.label.lower()]


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
    comparison = table_with(at, "Rank")
    assert list(comparison.columns[:3]) == ["Candidate", "Role", "Rank"]
    assert not [c for c in comparison.columns if c.startswith(("then_", "now_"))]
    chosen = comparison[comparison["Role"] == "chosen"].iloc[0]
    assert chosen["Candidate"] == PLANTED_NAME
    assert chosen["Rank"] == "1 → 1 (same place)"
    assert all(" → " in v and "0000000" not in v for v in comparison["Score"])
    assert "No re-validation saved yet." in texts(at.markdown)

    at.button(key="reval_save").click().run()
    assert_clean(at)
    [saved] = texts(at.success)
    assert saved.startswith("Saved (re-validation #1)")
    history = table_with(at, "verdict")
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
    assert [shown(e) for e in texts(at.error)] == [
        "/nonexistent/events.parquet: file not found. Check the path (globs like "
        "events/*.parquet work)."
    ]
    assert at.status[0].label == "Could not re-run"
    assert "pending_reval" not in at.session_state
    assert len(store.revalidations(planted.id)) == before  # nothing saved
