"""AppTest of every page on the bundled sample: load, rank, look closer, bad input, workshop rubric.

Each test starts a fresh session (`new_app`). The analysis cache is process-wide, so only the
ranking test (which clears it) and the settings test pay for a full analysis.
"""

from __future__ import annotations

import pytest
import streamlit as st

from northstar_lab.decisions.workshop import CRITERIA

from .conftest import (
    PLANTED_KEY,
    PLANTED_NAME,
    assert_clean,
    chart_titles,
    new_app,
    run_with_editor_state,
    texts,
)

#: Titles of the charts the Candidates page draws for one selected candidate (page order).
KM = "Retention after day 14: users who reached the threshold vs not"
FOREST = "Which early behaviours predict staying? Hazard ratio of churn per standard deviation"
REVENUE = "Revenue per user: reached the threshold vs not"
THRESHOLD = "Where is the 'aha moment'? Retention gain and reach for every threshold"
COHORTS = "Does the metric predict retention in every signup month?"
HEATMAP = "How similar are the candidates? Spearman correlation between them"
SCORE = "How each candidate's score is built"

#: Timestamps that are not dates: the event log the "bad upload" tests feed the Data page.
BAD_EVENTS = (
    "user_id,timestamp,event\n"
    "u1,not a date,login\n"
    "u2,2025-13-45,login\n"
    "u3,2025-01-02 10:00:00,login\n"
    "u4,yesterday,lesson_completed\n"
)
BAD_EVENTS_PROBLEM = "the timestamp column has 3 values that are not dates (rows 1, 2, 4)"


@pytest.fixture(autouse=True)
def _db(module_db):
    """Every test here uses the module's tmp decision DB, never the user's."""
    return module_db


def with_sample():
    """A session that clicked "Try it with the sample data" on Home (lands on Candidates)."""
    at = new_app().run()
    at.button(key="try_sample").click().run()
    assert_clean(at)
    return at


def summary(at) -> str:
    """The Candidates page's one-paragraph summary of the analysis."""
    return next(t for t in texts(at.markdown) if "users** in the retention analysis" in t)


def leaderboard(at):
    board = at.dataframe[0].value
    assert {"rank", "candidate", "score", "key"} <= set(board.columns)
    return board


# ---- Home ------------------------------------------------------------------------------------


def test_home_without_data_offers_the_sample_and_lists_no_decisions():
    at = new_app().run()
    assert_clean(at)
    assert at.title[0].value == "North Star Lab"
    assert at.button(key="try_sample").label == "▶ Try it with the sample data"
    shown = texts(at.markdown)
    assert "Nothing yet." in shown
    assert "None yet. Record one at the end of the workshop." in shown
    assert not at.error


# ---- sample → ranking → Candidates ------------------------------------------------------------


def test_sample_loads_and_ranking_puts_the_planted_driver_first():
    st.cache_resource.clear()  # the ranking must really run in this test, not come from a cache
    at = with_sample()

    assert at.title[0].value == "Candidate metrics"
    seconds = at.session_state["last_analysis_seconds"]
    assert 0 < seconds < 120
    assert f"Last analysis took {seconds:.1f} s." in summary(at)

    board = leaderboard(at)
    first = board.iloc[0]
    assert (first["rank"], first["candidate"], first["key"]) == (1, PLANTED_NAME, PLANTED_KEY)
    assert list(board["rank"]) == list(range(1, len(board) + 1))
    assert board["score"].is_monotonic_decreasing
    noise = board.set_index("key").loc[["count:course_browsed", "count:settings_changed"], "flags"]
    assert noise.str.contains("noise").all(), "pure-noise events must be flagged as noise"

    # the default selection is the leader, with every evidence chart drawn
    assert at.multiselect(key="select_candidates").value == [PLANTED_KEY]
    titles = chart_titles(at)
    assert titles[:5] == [KM, FOREST, REVENUE, THRESHOLD, COHORTS]
    assert "reaching lesson_completed ≥" in titles[5]
    assert titles[6:] == [HEATMAP, SCORE]
    assert not at.error

    # Home now shows what is loaded and the current leader, from the cache (no recomputation)
    at.switch_page("pages/home.py").run()
    assert_clean(at)
    shown = texts(at.markdown)
    assert "**Bundled sample: Lumen Learn (education SaaS)**" in shown
    assert f"Current leader: **{PLANTED_NAME}**" in shown


def test_candidate_selection_renders_its_charts():
    at = with_sample()
    at.multiselect(key="select_candidates").select("count:invite_sent").run()
    assert_clean(at)
    assert at.session_state["selected_keys"] == [PLANTED_KEY, "count:invite_sent"]
    titles = chart_titles(at)
    # per candidate: retention curves, revenue, threshold explorer, cohorts and weekly share
    for title in (KM, REVENUE, THRESHOLD, COHORTS):
        assert titles.count(title) == 2, title
    assert titles.count(FOREST) == titles.count(HEATMAP) == titles.count(SCORE) == 1
    weekly = [t for t in titles if t.startswith("Share of each week's new users reaching")]
    assert len(weekly) == 2
    assert "lesson_completed" in weekly[0] and "invite_sent" in weekly[1]
    assert len(titles) == 13

    # the selection survives a page round trip
    at.switch_page("pages/workshop.py").run()
    at.switch_page("pages/candidates.py").run()
    assert at.multiselect(key="select_candidates").value == [PLANTED_KEY, "count:invite_sent"]

    at.multiselect(key="select_candidates").set_value([]).run()
    assert_clean(at)
    assert texts(at.info) == ["Pick one or more candidates to see their curves."]
    assert chart_titles(at) == []


def test_adjusted_tab_shows_the_planted_driver_adds_over_active_days():
    at = with_sample()
    at.multiselect(key="adjust_widget").set_value(["plan", "signup month"]).run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "gain in C (95% CI)" in d.value.columns)
    row = table.iloc[0]
    assert row["candidate"] == PLANTED_NAME
    low = float(row["gain in C (95% CI)"].split("(")[1].split(" to ")[0])
    assert low > 0.03  # lessons predict churn beyond active days, plan and signup month
    assert "Adjusted for: plan, signup month" in texts(at.caption)


def test_candidates_without_data_offers_the_sample():
    at = new_app().run()
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    assert texts(at.info) == [
        "No data loaded yet. Pick the bundled sample or upload your files first."
    ]
    assert not at.dataframe
    at.button(key="need_sample").click().run()
    assert_clean(at)
    assert leaderboard(at).iloc[0]["key"] == PLANTED_KEY


def test_settings_sidebar_reruns_the_ranking_with_the_new_window():
    at = with_sample()
    at.sidebar.number_input(key="set_window").set_value(7)
    at.sidebar.button[0].click().run()  # "Apply settings" (the form's submit button)
    assert_clean(at)
    assert at.session_state["settings"]["window_days"] == 7
    assert "first **7 days**" in summary(at)
    board = leaderboard(at)
    assert board["candidate"].str.contains("in first 7 days").any()
    assert not board["candidate"].str.contains("in first 14 days").any()


# ---- Data -----------------------------------------------------------------------------------


def test_data_page_loads_the_sample_and_shows_the_validation_report():
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    assert_clean(at)
    assert texts(at.info) == [
        "Pick the sample, upload files or connect to a source to see the validation report."
    ]
    at.button(key="load_sample").click().run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Event rows read"] == "448,824"
    assert metrics["Users in the event log"] == "8,000"
    assert metrics["Event types"] == "11"
    assert metrics["Date range"] == "2025-01-01 → 2026-03-30"
    assert chart_titles(at) == ["Retention of all users since signup"]
    assert not at.error


def _assert_bad_events_error(at, filename: str) -> None:
    assert_clean(at)
    errors = texts(at.error)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{filename}: {BAD_EVENTS_PROBLEM}")
    assert "'not a date'" in errors[0] and "Expected e.g. 2025-03-01" in errors[0]
    assert not at.metric  # no validation report for data that did not validate


def test_bad_source_on_the_connect_tab_shows_the_librarys_error(tmp_path):
    bad = tmp_path / "bad_events.csv"
    bad.write_text(BAD_EVENTS)
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value(str(bad)).run()
    assert_clean(at)
    assert not at.error  # the columns are fine; only the values are bad
    assert at.selectbox(key="conn_ev_ts").value == "timestamp"

    at.button(key="load_conn").click().run()
    _assert_bad_events_error(at, "bad_events.csv")

    # pages that need the analysis show the same error and a way back, not a traceback
    at.switch_page("pages/candidates.py").run()
    _assert_bad_events_error(at, "bad_events.csv")
    assert not at.dataframe


def test_bad_upload_shows_the_librarys_error():
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="up_events").upload("events.csv", BAD_EVENTS.encode(), "text/csv")
    at.run()
    assert_clean(at)
    assert not at.error
    at.button(key="load_upload").click().run()
    _assert_bad_events_error(at, "events.csv")


def test_unreadable_upload_is_reported_before_mapping():
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="up_events").upload("events.parquet", b"not parquet", "application/x")
    at.run()
    assert_clean(at)
    [error] = texts(at.error)
    assert error.startswith("events.parquet: is not a Parquet file, or it is truncated.")
    assert at.button(key="load_upload").disabled


def test_missing_path_on_the_connect_tab_is_reported_once():
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value("/nonexistent/events.parquet").run()
    assert_clean(at)
    assert texts(at.error) == [
        "/nonexistent/events.parquet: file not found. Check the path (globs like "
        "events/*.parquet work)."
    ]


# ---- Workshop -------------------------------------------------------------------------------


def test_workshop_needs_two_shortlisted_candidates():
    at = with_sample()
    at.switch_page("pages/workshop.py").run()
    at.multiselect(key="shortlist_widget").set_value([PLANTED_KEY]).run()
    assert_clean(at)
    assert texts(at.info) == ["Shortlist at least two candidates to compare."]
    assert not at.data_editor
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/workshop.py").run()  # the shortlist is what the user left
    assert at.multiselect(key="shortlist_widget").value == [PLANTED_KEY]


def test_workshop_rubric_edits_persist_across_reruns_and_pages():
    at = with_sample()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    shortlist = at.session_state["shortlist"]
    assert shortlist[0] == PLANTED_KEY and len(shortlist) >= 2
    ordering = at.dataframe[1].value  # [0] is the rubric editor
    assert ordering["candidate"].iloc[0] == PLANTED_NAME  # all rubric scores neutral (3)

    # the team rates the runner-up 5 on every criterion: the frontend's edit of row 1
    runner_up = shortlist[1]
    run_with_editor_state(at, {"rubric_editor": {"edited_rows": {1: dict.fromkeys(CRITERIA, 5)}}})
    assert_clean(at)

    def check():
        rubric = at.session_state["rubric"].set_index("key")
        assert (rubric.loc[runner_up, list(CRITERIA)] == 5).all()
        assert (rubric.loc[PLANTED_KEY, list(CRITERIA)] == 3).all()
        ordering = at.dataframe[1].value
        assert ordering["order"].tolist() == list(range(1, len(shortlist) + 1))
        top = ordering.iloc[0]
        assert top["rubric_mean"] == 5.0 and top["rubric"] == 1.0
        assert (
            top["candidate"]
            == at.session_state["rubric"].set_index("key").loc[runner_up, "candidate"]
        )  # the rubric lifted it above the planted driver
        assert ordering.loc[ordering["candidate"] == PLANTED_NAME, "rubric_mean"].item() == 3.0

    check()
    at.run()  # a plain rerun (any other widget interaction)
    assert_clean(at)
    check()

    at.switch_page("pages/candidates.py").run()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    check()
    # the editor now starts from the stored scores
    editor = at.data_editor[0].value.set_index("key")
    assert (editor.loc[runner_up, list(CRITERIA)] == 5).all()
