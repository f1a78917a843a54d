"""AppTest of every page on the bundled sample: load, rank, look closer, settings, bad input,
hostile names, a users table without signup times, and the workshop rubric.

Each test starts a fresh session (`new_app`). The analysis cache is process-wide, so only the
ranking test (which clears it) and the settings test pay for a full analysis.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from northstar_lab.decisions.workshop import CRITERIA

from .conftest import (
    PLANTED_KEY,
    PLANTED_NAME,
    assert_clean,
    by_label,
    chart_titles,
    new_app,
    open_tab,
    shown,
    table_with,
    texts,
)

#: Titles of the charts the Candidates page draws for one selected candidate, by tab.
KM = "Retention after day 14: users who reached the threshold vs not"
FOREST = "Which early behaviours predict staying?"
REVENUE = "Revenue per user: reached the threshold vs not"
THRESHOLD = "Where is the 'aha moment'?"
COHORTS = "Does the metric predict retention in every signup month?"
HEATMAP = "How similar are the candidates?"
SCORE = "How each candidate's score is built"
TABS = ["Retention curves", "Hazard ratios", "Revenue", "Threshold explorer", "Stability",
        "Redundancy", "Score", "Adjusted"]  # fmt: skip

#: Timestamps that are not dates: the event log the "bad upload" tests feed the Data page.
BAD_EVENTS = (
    "user_id,timestamp,event\n"
    "u1,not a date,login\n"
    "u2,2025-13-45,login\n"
    "u3,2025-01-02 10:00:00,login\n"
    "u4,yesterday,lesson_completed\n"
)
BAD_EVENTS_PROBLEM = "the timestamp column has 3 values that are not dates (rows 1, 2, 4)"
PHISH = "[click me](https://evil.example/phish)"


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
    return next(t for t in texts(at.text) if "users in the retention analysis" in t)


def leaderboard(at):
    board = table_with(at, "p_first")
    assert {"rank", "candidate", "score", "p_first", "threshold", "flags", "key"} <= set(
        board.columns
    )
    return board


def selection(at):
    return by_label(at.multiselect, "Candidates to compare")


def every_markdown(at) -> list[str]:
    """The body of every element Streamlit renders as Markdown, and every widget label."""
    kinds = ("markdown", "caption", "warning", "info", "error", "success", "title", "header",
             "subheader")  # fmt: skip
    out = [str(e.value) for k in kinds for e in at.get(k)]
    out += [str(getattr(w, "label", "")) for k in ("button", "selectbox", "multiselect",
            "text_input", "number_input", "checkbox", "text_area") for w in at.get(k)]  # fmt: skip
    return out


# ---- Home ------------------------------------------------------------------------------------


def test_home_without_data_offers_the_sample_and_lists_no_decisions():
    at = new_app().run()
    assert_clean(at)
    assert at.title[0].value == "North Star Lab"
    assert at.button(key="try_sample").label == "▶ Try it with the sample data"
    assert "Nothing yet." in texts(at.text)
    assert "None yet. Record one at the end of the workshop." in texts(at.markdown)
    assert not at.error
    plans = next(d.value for d in at.dataframe if "plan" in d.value)  # the sample at a glance
    assert plans["users"].sum() == 8000 and list(plans["plan"])[0] == "free"


# ---- sample → ranking → Candidates ------------------------------------------------------------


def test_sample_loads_and_ranking_puts_the_planted_driver_first():
    st.cache_resource.clear()  # the ranking must really run in this test, not come from a cache
    at = with_sample()

    assert at.title[0].value == "Candidate metrics"
    seconds = at.session_state["last_analysis_seconds"]
    assert 0 < seconds < 300
    assert f"Last analysis took {seconds:.1f} s." in summary(at)

    board = leaderboard(at)
    first = board.iloc[0]
    assert (first["rank"], first["name"], first["key"]) == (1, PLANTED_NAME, PLANTED_KEY)
    assert first["candidate"] == "lesson_completed: count"  # the window is said in the heading
    assert first["p_first"] > 0.5 and first["threshold"] > 0  # Ranked 1st and k on screen
    assert list(board["rank"]) == list(range(1, 11))  # opens on the top 10 of 51
    assert board["score"].is_monotonic_decreasing
    assert "Showing 10 of 51 matching candidates (51 in all)." in texts(at.caption)[0]

    by_label(at.selectbox, "Rows").set_value("All").run()
    board = leaderboard(at).set_index("key")
    assert len(board) == 51
    noise = board.loc[["count:course_browsed", "count:settings_changed"], "flags"]
    assert noise.str.contains("noise").all(), "pure-noise events must be flagged as noise"

    # the default selection is the leader; only the open tab is drawn, each tab on its own
    assert selection(at).value == [PLANTED_KEY]
    assert chart_titles(at) == [KM]
    expected = {"Hazard ratios": [FOREST], "Revenue": [REVENUE], "Threshold explorer":
                [THRESHOLD], "Redundancy": [HEATMAP], "Score": [SCORE]}  # fmt: skip
    for tab, titles in expected.items():
        open_tab(at, tab)
        assert_clean(at)
        assert chart_titles(at) == titles, tab
    open_tab(at, "Stability")
    titles = chart_titles(at)
    assert titles[0] == COHORTS and "reaching lesson_completed ≥" in titles[1]
    assert not at.error

    # Home now shows what is loaded and the current leader, from the cache (no recomputation)
    at.switch_page("pages/home.py").run()
    assert_clean(at)
    shown_text = texts(at.text)
    assert "Bundled sample: Lumen Learn (education SaaS)" in shown_text
    assert f"Current leader: {PLANTED_NAME}" in shown_text


def test_leaderboard_filters_keep_the_rankings_own_numbers():
    at = with_sample()
    by_label(at.checkbox, "Hide noise-level candidates").check()
    by_label(at.checkbox, "Hide near-duplicates (keep the best)").check()
    by_label(at.selectbox, "Rows").set_value("All").run()
    assert_clean(at)
    board = leaderboard(at)
    assert not board["flags"].str.contains("noise").any()
    assert board["key"].iloc[0] == PLANTED_KEY
    assert "days:lesson_completed" not in set(board["key"])  # the leader's near-duplicate
    assert board["rank"].is_monotonic_increasing and board["rank"].iloc[1] > 2

    by_label(at.multiselect, "Events or columns").set_value(["login"]).run()
    assert_clean(at)
    assert set(leaderboard(at)["key"]) <= {"count:login", "days:login", "atleast:days:login"}
    assert at.download_button(key="board_csv").label == "Download the whole leaderboard (CSV)"


def test_candidate_selection_renders_its_charts_and_survives_a_page_round_trip():
    at = with_sample()
    selection(at).select("count:invite_sent").run()
    assert_clean(at)
    assert at.session_state["ws"].selected == [PLANTED_KEY, "count:invite_sent"]
    assert chart_titles(at) == [KM, KM]
    for tab, title in (("Revenue", REVENUE), ("Threshold explorer", THRESHOLD)):
        open_tab(at, tab)
        assert chart_titles(at) == [title, title], tab
    open_tab(at, "Stability")
    titles = chart_titles(at)
    assert titles.count(COHORTS) == 2
    weekly = [t for t in titles if t.startswith("Share of each week's new users reaching")]
    assert len(weekly) == 2
    assert "lesson_completed" in weekly[0] and "invite_sent" in weekly[1]

    at.switch_page("pages/workshop.py").run()
    at.switch_page("pages/candidates.py").run()
    assert selection(at).value == [PLANTED_KEY, "count:invite_sent"]

    selection(at).set_value([]).run()
    assert_clean(at)
    assert texts(at.info) == ["Pick one or more candidates to see their curves."]
    assert chart_titles(at) == []


def test_adjusted_tab_shows_the_planted_driver_adds_over_active_days():
    at = open_tab(with_sample(), "Adjusted")
    by_label(at.multiselect, "Adjust for (optional)").set_value(["plan", "signup month"]).run()
    assert_clean(at)
    table = table_with(at, "gain in C (95% CI)")
    row = table.iloc[0]
    assert row["candidate"] == PLANTED_NAME
    low = float(row["gain in C (95% CI)"].split("(")[1].split(" to ")[0])
    assert low > 0.03  # lessons predict churn beyond active days, plan and signup month
    assert "Adjusted for: plan, signup month" in texts(at.text)
    assert at.session_state["ws"].adjust_for == ["plan", "signup month"]


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


def apply_window(at, days: int):
    at.sidebar.number_input(key="set_window").set_value(days)
    at.sidebar.button[0].click().run()  # "Apply settings" (the form's submit button)
    assert_clean(at)
    return at


def test_changing_the_window_twice_relabels_everything_and_keeps_the_selection():
    at = with_sample()
    selection(at).select("count:quiz_taken").run()
    for days in (7, 14, 7):
        apply_window(at, days)
        assert at.session_state["ws"].settings["window_days"] == days
        assert f"first {days} days" in summary(at)
        board = leaderboard(at)
        assert board["name"].str.contains(f"in first {days} days").all()
        other = 21 - days
        assert not board["name"].str.contains(f"in first {other} days").any()
        # the chips are the same candidates, labelled by the analysis on screen
        chips = selection(at)
        assert chips.value == [PLANTED_KEY, "count:quiz_taken"]
        assert f"lesson_completed: count in first {days} days" in chips.options
        assert all(f"in first {other} days" not in o for o in chips.options)
        assert chart_titles(at) == [KM.replace("14", str(days))] * 2


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
    assert metrics["Event rows read"] == "512,448"
    assert metrics["Users in the event log"] == "8,000"
    assert metrics["Event types"] == "13"
    assert metrics["Date range"] == "2025-01-01 → 2026-03-30"
    assert chart_titles(at) == ["Retention of all users since signup"]
    assert not at.error

    # who was left out, split by what they are left out of
    shown_text = texts(at.text)
    i = shown_text.index("943 users: churned inside the observation window")
    j = shown_text.index("437 users: not followed for the whole revenue horizon")
    assert i < j
    captions = texts(at.caption)
    assert "Left out of the retention analysis" in captions
    assert "In the retention analysis, but left out of revenue figures" in captions
    # words for people: no command-line flag or server path anywhere on the page
    page = " ".join(every_markdown(at) + shown_text)
    assert "--" not in page.replace("— none —", "") and ".streamlit" not in page


def _assert_bad_events_error(at, filename: str) -> None:
    assert_clean(at)
    errors = [shown(e) for e in texts(at.error)]
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
    [error] = [shown(e) for e in texts(at.error)]
    assert error.startswith("events.parquet: is not a Parquet file, or it is truncated.")
    assert at.button(key="load_upload").disabled


def test_missing_path_on_the_connect_tab_is_reported_once():
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value("/nonexistent/events.parquet").run()
    assert_clean(at)
    assert [shown(e) for e in texts(at.error)] == [
        "/nonexistent/events.parquet: file not found. Check the path (globs like "
        "events/*.parquet work)."
    ]


def rossi_csv(tenure: str = "week") -> bytes:
    """lifelines' Rossi data (tenure in weeks, arrest as churn, no signup times) with an id."""
    from lifelines.datasets import load_rossi

    df = load_rossi().rename(columns={"week": tenure})
    df.insert(0, "person", [f"p{i}" for i in range(len(df))])
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()


def upload_rossi(at, tenure: str = "week"):
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="up_users").upload("rossi.csv", rossi_csv(tenure), "text/csv").run()
    assert_clean(at)
    by_label(at.selectbox, "User id").set_value("person")
    by_label(at.selectbox, "Tenure").set_value(tenure)
    by_label(at.selectbox, "Churn flag (with tenure)").set_value("arrest").run()
    assert_clean(at)
    return at


def test_a_tenure_without_a_unit_in_its_name_needs_a_unit_before_loading():
    at = upload_rossi(new_app().run(), tenure="tenure")
    unit = by_label(at.selectbox, "Tenure unit")
    assert unit.value is None
    assert at.button(key="load_upload").disabled
    assert "Before loading, choose the tenure's unit (days, weeks, months or years)." in texts(
        at.info
    )
    assert list(unit.options) == ["days", "weeks", "months", "years"]
    unit.set_value("weeks").run()
    assert_clean(at)
    assert not at.button(key="load_upload").disabled

    at = upload_rossi(new_app().run(), tenure="week")  # the name says it
    assert by_label(at.selectbox, "Tenure unit").value == "weeks"
    assert not at.button(key="load_upload").disabled


def test_a_users_table_without_signup_times_opens_every_tab_without_an_exception():
    at = upload_rossi(new_app().run())
    by_label(at.multiselect, "Behaviour columns (candidates)").set_value(["fin", "age", "prio"])
    at.button(key="load_upload").click().run()
    assert_clean(at)
    assert not at.error, texts(at.error)
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    assert len(leaderboard(at)) >= 3
    for tab in TABS:
        open_tab(at, tab)
        assert_clean(at)
        assert not at.error, (tab, texts(at.error))
    open_tab(at, "Stability")
    [note] = texts(at.info)
    assert note.startswith("Cohorts by signup month need signup times, and these data have none")
    assert by_label(at.selectbox, "Rows")  # the rest of the page is there
    assert any(p.label == "Next: run the workshop" for p in at.get("page_link"))


def test_a_users_table_of_attributes_known_at_signup_is_ranked_without_a_window():
    """Issue 10 §3: the Data page asks what period a users table's columns describe; attributes
    known at signup (Rossi's fin, age, prio) rank with W = 0, i.e. retention from day 0."""
    at = upload_rossi(new_app().run())
    by_label(at.multiselect, "Behaviour columns (candidates)").set_value(["fin", "age", "prio"])
    period = at.radio(key="up_period")
    assert period.value.startswith("The users' first days")  # the default keeps a window
    period.set_value(period.options[1]).run()
    at.button(key="load_upload").click().run()
    assert_clean(at)
    assert at.session_state["ws"].settings["window_days"] == 0
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    assert not at.error, texts(at.error)
    assert at.number_input(key="set_window").value == 0
    board = leaderboard(at)
    assert len(board) >= 3
    # every landmark user counts from day 0: nobody is left out as "churned in the window"
    assert "churned in window" not in " ".join(texts(at.caption) + texts(at.text))


def spreadsheet_users_csv() -> bytes:
    """A users table as a spreadsheet exports it (Telco-like): tenure in months, Yes/No churn,
    charges as '$1,234.50', a lifetime total with cells holding a space for new customers."""
    import numpy as np

    rng = np.random.default_rng(4)
    n = 600
    tenure = rng.integers(0, 72, n)
    monthly = rng.uniform(18, 118, n)
    total = np.where(tenure == 0, " ", (monthly * tenure).round(2).astype(str))
    df = pd.DataFrame({"customerID": [f"{i:04d}-AB" for i in range(n)], "tenure": tenure,
                       "MonthlyCharges": [f"${m:,.2f}" for m in monthly], "TotalCharges": total,
                       "SeniorCitizen": rng.integers(0, 2, n),
                       "Churn": np.where(rng.random(n) < 0.3, "Yes", "No")})  # fmt: skip
    return df.to_csv(index=False).encode()


def test_a_spreadsheet_export_users_table_reads_its_text_numbers_with_notes():
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="up_users").upload("telco.csv", spreadsheet_users_csv(), "text/csv").run()
    assert_clean(at)
    by_label(at.selectbox, "User id").set_value("customerID")
    by_label(at.selectbox, "Tenure").set_value("tenure")
    by_label(at.selectbox, "Tenure unit").set_value("months")
    by_label(at.selectbox, "Churn flag (with tenure)").set_value("Churn").run()
    assert_clean(at)
    revenue = by_label(at.selectbox, "Revenue")
    assert revenue.value == "MonthlyCharges"  # camelCase 'monthly_charges': a revenue name
    revenue.set_value("— none —").run()  # here: both as behaviour, to read their text
    behaviour = by_label(at.multiselect, "Behaviour columns (candidates)")
    assert {"MonthlyCharges", "TotalCharges"} <= set(behaviour.options)  # text, yet numbers
    behaviour.set_value(["MonthlyCharges", "TotalCharges", "SeniorCitizen"])
    at.button(key="load_upload").click().run()
    assert_clean(at)
    assert not at.error, texts(at.error)
    notes = " ".join(shown(w) for w in texts(at.warning))
    assert "column 'MonthlyCharges' holds numbers written as text" in notes
    assert "column 'TotalCharges' holds numbers written as text" in notes
    at.switch_page("pages/candidates.py").run()
    assert_clean(at)
    names = set(leaderboard(at)["candidate"].astype(str))
    assert any(name.startswith("TotalCharges") for name in names), names


# ---- names from data are data ------------------------------------------------------------------


def hostile_events(tmp_path) -> str:
    rows = ["user_id,timestamp,event"]
    for i in range(400):
        day = 1 + i % 28
        rows.append(f"u{i},2025-01-{day:02d} 10:00:00,login")
        if i % 2:
            rows += [f'u{i},2025-01-{day:02d} 11:00:00,"{PHISH}"'] * (1 + i % 5)
        for later in range(0, 90 if i % 3 else 30, 5):
            d = pd.Timestamp(f"2025-01-{day:02d}") + pd.Timedelta(days=later)
            rows.append(f"u{i},{d:%Y-%m-%d} 12:00:00,login")
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_an_event_named_like_a_link_is_never_markdown(tmp_path):
    at = new_app().run()
    at.switch_page("pages/data.py").run()
    at.text_input(key="conn_source").set_value(hostile_events(tmp_path)).run()
    at.button(key="load_conn").click().run()
    assert_clean(at)
    for page in ("pages/data.py", "pages/candidates.py", "pages/workshop.py", "pages/home.py"):
        at.switch_page(page).run()
        assert_clean(at)
        for body in every_markdown(at):
            assert "](https://evil" not in body, (page, body)
    at.switch_page("pages/candidates.py").run()
    by_label(at.selectbox, "Rows").set_value("All").run()
    assert leaderboard(at)["candidate"].str.contains(PHISH, regex=False).any()  # shown, as text


# ---- Workshop -------------------------------------------------------------------------------


def workshop_page():
    at = with_sample()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    return at


def test_workshop_needs_two_shortlisted_candidates():
    at = workshop_page()
    by_label(at.multiselect, "Shortlist").set_value([PLANTED_KEY]).run()
    assert_clean(at)
    assert texts(at.info) == ["Shortlist at least two candidates to compare."]
    assert not at.number_input
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/workshop.py").run()  # the shortlist is what the user left
    assert by_label(at.multiselect, "Shortlist").value == [PLANTED_KEY]


def rubric_cells(at, candidate_row: int) -> list:
    """The number inputs of one rubric row (five criteria, in CRITERIA order)."""
    cells = [n for n in at.number_input if n.label in {v[0] for v in CRITERIA.values()}]
    return cells[candidate_row * len(CRITERIA) : (candidate_row + 1) * len(CRITERIA)]


def ordering(at):
    return table_with(at, "combined")


def test_workshop_rubric_scores_reorder_and_persist_across_reruns_and_pages():
    at = workshop_page()
    shortlist = at.session_state["ws"].shortlist
    assert shortlist[0] == PLANTED_KEY and len(shortlist) >= 2
    assert ordering(at)["candidate"].iloc[0] == PLANTED_NAME  # nobody scored: neutral

    # the team rates the runner-up 5 on every criterion, one cell at a time
    runner_up = shortlist[1]
    for i in range(len(CRITERIA)):
        rubric_cells(at, 1)[i].set_value(5).run()
        assert_clean(at)

    def check():
        rubric = at.session_state["ws"].rubric
        assert rubric == {runner_up: dict.fromkeys(CRITERIA, 5)}
        o = ordering(at)
        assert o["order"].tolist() == list(range(1, len(shortlist) + 1))
        top = o.iloc[0]
        assert top["key"] == runner_up and top["rubric_mean"] == 5.0 and top["rubric"] == 1.0
        assert o.loc[o["key"] == PLANTED_KEY, "rubric_mean"].item() == 3.0
        assert [c.value for c in rubric_cells(at, 1)] == [5] * len(CRITERIA)
        assert [c.value for c in rubric_cells(at, 0)] == [None] * len(CRITERIA)

    check()
    at.run()  # a plain rerun (any other widget interaction)
    check()
    at.switch_page("pages/candidates.py").run()
    at.switch_page("pages/workshop.py").run()
    assert_clean(at)
    check()


def test_data_page_imports_a_vendor_export_named_in_import_from(tmp_path):
    """'Import from…' (issue 15 §1): a Mixpanel raw export connected by path, read in its own
    layout, and the validation report says which format was read and how."""
    events = pd.read_parquet(Path(__file__).parents[2] / "sample_data" / "events.parquet")
    events = events[events["user_id"].isin(sorted(events["user_id"].unique())[:600])]
    lines = [
        {"event": e, "properties": {"time": int(t.timestamp()), "distinct_id": u,
                                    "$insert_id": f"i{i}", **({"revenue": v} if v == v else {})}}
        for i, (u, t, e, v) in enumerate(events[["user_id", "timestamp", "event", "value"]]
                                         .itertuples(index=False))
    ]  # fmt: skip
    path = tmp_path / "mixpanel_export.json"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")

    at = new_app().run()
    at.switch_page("pages/data.py").run()
    choice = at.selectbox(key="conn_format")
    assert choice.options[:2] == ["Recognise it from its columns",
                                  "A plain event log (user, time, event, value)"]  # fmt: skip
    assert {"Amplitude", "Mixpanel", "PostHog", "Google Analytics 4"} <= set(choice.options)
    at.text_input(key="conn_source").input(str(path)).run()
    at.selectbox(key="conn_format").select("Mixpanel").run()
    assert_clean(at)
    at.button(key="load_conn").click().run()
    assert_clean(at)
    assert any("Mixpanel" in t for t in texts(at.text)), texts(at.text)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users in the event log"] == "600"
