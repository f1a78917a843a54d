"""A workshop that survives a real meeting, in Chromium at 1440 px (issue 12's browser tests).

One `streamlit run app.py` for the module (the sample's analysis is computed once and reused by
every browser session, as on a real server); each test opens its own browser contexts, so each
is a new person at a new laptop. Covered: the window changed twice, a reload that restores the
workshop, two participants seen live by the facilitator, a double click that records one
decision, a users table without signup times through every tab, and a share view without an
edit control.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from .browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    choose,
    fill_number,
    fill_text,
    no_exception,
    settle,
    streamlit_server,
)
from .test_pages import rossi_csv

pytestmark = pytest.mark.browser
LONG = 300_000  # ms: a cold analysis on a loaded machine
TABS = ["Retention curves", "Hazard ratios", "Revenue", "Threshold explorer", "Stability",
        "Redundancy", "Score", "Adjusted"]  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (Debian's package)")
    pytest.importorskip("playwright.sync_api")
    folder = tmp_path_factory.mktemp("browser_workshop")
    with streamlit_server(folder) as (url, log):
        yield url, log, folder / "decisions.sqlite3"


@pytest.fixture(scope="module")
def browser(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def laptop(browser):
    """A new person at a new laptop: a fresh browser context (no cookies, no session)."""
    return browser.new_context(viewport=VIEWPORT).new_page()


def open_sample(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_role("button", name="Try it with the sample data").click(timeout=LONG)
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible(timeout=LONG)
    settle(page)


def go(page, name: str) -> None:
    """Navigate with the sidebar (same browser session), and wait for the page to settle."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    settle(page)


def leader_cell(page):
    return page.get_by_test_id("stDataFrame").first.get_by_test_id("glide-cell-0-0")


def decisions_in(db) -> int:
    """Decisions recorded so far (none before the app first opens its database)."""
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'decisions'").fetchone():
            return 0
        return conn.execute("SELECT count(*) FROM decisions").fetchone()[0]


def start_workshop(page, name: str = "Ada") -> str:
    """Open a workshop session from the Workshop page; its id."""
    fill_text(page, "Your name (facilitator)", name)
    page.get_by_role("button", name="Start the workshop").click()
    page.wait_for_url(re.compile(r"workshop=[^&]+&key="), timeout=LONG)
    settle(page)
    return re.search(r"workshop=([^&]+)", page.url).group(1)


def test_the_window_changed_twice_without_an_exception(app, browser):
    from playwright.sync_api import expect

    url, log, _db = app
    page = laptop(browser)
    open_sample(page, url)
    chips = page.get_by_test_id("stMultiSelect").filter(has_text="Candidates to compare")
    choose(page, "Candidates to compare", "quiz_taken: count in first 14 days")
    settle(page)
    if "quiz_taken" not in chips.first.inner_text():
        # in one CI run (load ~2) the pick was not in the box after settling: it is made again
        # once; the test is about the window change, so the pick must hold before it
        choose(page, "Candidates to compare", "quiz_taken: count in first 14 days")
        settle(page)
    expect(chips.first).to_contain_text("quiz_taken: count in first 14 days", timeout=LONG)
    for days in (7, 14):
        fill_number(page, "Observation window (days)", days)
        page.get_by_role("button", name="Apply settings").click()
        expect(page.get_by_text(f"first {days} days; retention is read")).to_be_visible(
            timeout=LONG
        )
        settle(page)
        no_exception(page, log)
        headers = page.get_by_test_id("stDataFrame").first.locator("th[role=columnheader]")
        expect(headers.first).to_have_text(f"Candidate (first {days} days)")
        chips = page.get_by_test_id("stMultiSelect").filter(has_text="Candidates to compare")
        # the box is keyed by the analysis: on a loaded machine the old one can still be on
        # screen for a moment beside the new one, so wait until one is left
        expect(chips).to_have_count(1, timeout=LONG)
        expect(chips).to_contain_text(f"quiz_taken: count in first {days} days")
        other = 21 - days
        expect(chips).not_to_contain_text(f"in first {other} days")
    page.context.close()


def test_a_reload_restores_the_workshop(app, browser):
    from playwright.sync_api import expect

    url, log, _db = app
    page = laptop(browser)
    open_sample(page, url)
    go(page, "Workshop")
    start_workshop(page)
    fill_number(page, "Actionable by the team", 4, nth=1)
    settle(page)
    fill_text(page, "Owner (required)", "Head of Learning")
    settle(page)

    page.reload()  # everything in the browser's memory is gone; the link remains
    expect(page.get_by_label("Owner (required)", exact=True)).to_have_value(
        "Head of Learning", timeout=LONG
    )
    settle(page)
    expect(page.get_by_label("Actionable by the team", exact=True).nth(1)).to_have_value("4")
    expect(page.get_by_text("facilitated by Ada")).to_be_visible()
    no_exception(page, log)
    page.context.close()


def test_two_participants_score_and_the_facilitator_sees_both(app, browser):
    from playwright.sync_api import expect

    url, log, _db = app
    facilitator = laptop(browser)
    open_sample(facilitator, url)
    go(facilitator, "Workshop")
    wid = start_workshop(facilitator)

    for name, score in (("Bo", 1), ("Cy", 5)):
        page = laptop(browser)
        page.goto(f"{url}workshop?workshop={wid}")
        fill_text(page, "Your name", name)
        page.get_by_role("button", name="Join and score").click()
        expect(page.get_by_text(f"You are scoring as {name}.")).to_be_visible(timeout=LONG)
        settle(page)
        assert page.get_by_role("button", name="Record decision").count() == 0
        fill_number(page, "Actionable by the team", score, nth=0)
        settle(page)
        no_exception(page, log)

    # the facilitator did nothing: the live view picks both up on its own
    expect(facilitator.get_by_text("2 participant(s) so far", exact=False)).to_be_visible(
        timeout=60_000
    )
    expect(facilitator.get_by_text(re.compile(r"Actionable by the team — .*from 1 \(Bo\) to 5 "
                                              r"\(Cy\)"))).to_be_visible()  # fmt: skip
    no_exception(facilitator, log)
    facilitator.context.close()


def test_a_double_click_records_one_decision(app, browser):
    from playwright.sync_api import expect

    url, log, db = app
    page = laptop(browser)
    open_sample(page, url)
    go(page, "Workshop")
    required = {"Owner (required)": "Head of Learning", "Current baseline (required)": "2.1",
                "Target (required)": "3.0", "Signed off by": "Ada Lovelace"}  # fmt: skip
    for label, value in required.items():
        fill_text(page, label, value)
        settle(page)
    before = decisions_in(db)
    page.get_by_role("button", name="Record decision").dblclick()
    done = page.get_by_text(re.compile(r"This draft was recorded as decision #\d+\."))
    expect(done).to_be_visible(timeout=LONG)
    settle(page)
    page.wait_for_timeout(2000)  # a late second run would have landed by now
    assert decisions_in(db) == before + 1
    no_exception(page, log)
    page.context.close()


def test_a_users_table_without_signup_times_opens_every_tab_without_an_exception(
    app, browser, tmp_path
):
    from playwright.sync_api import expect

    url, log, _db = app
    rossi = tmp_path / "rossi.csv"
    rossi.write_bytes(rossi_csv())
    page = laptop(browser)
    page.goto(f"{url}data")
    page.get_by_role("tab", name="Upload files").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").nth(1).set_input_files(str(rossi))
    expect(page.get_by_text("Column mapping of the users table")).to_be_visible(timeout=LONG)
    settle(page)
    for label, column in (("User id", "person"), ("Tenure", "week"),
                          ("Churn flag (with tenure)", "arrest")):  # fmt: skip
        choose(page, label, column)
        settle(page)
    page.get_by_role("button", name="Load and validate").click()
    expect(page.get_by_text("Validation report")).to_be_visible(timeout=LONG)
    settle(page)
    no_exception(page, log)
    go(page, "Candidates")
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible(timeout=LONG)
    for tab in TABS:
        page.get_by_role("tab", name=tab).click()
        settle(page)
        no_exception(page, log)
        expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible()
    page.get_by_role("tab", name="Stability").click()
    settle(page)
    expect(page.get_by_text("Cohorts by signup month need signup times")).to_be_visible()
    expect(page.get_by_role("link", name="Next: run the workshop")).to_be_visible()
    page.context.close()


def test_the_share_link_has_no_edit_control(app, browser):
    from playwright.sync_api import expect

    url, log, db = app
    if decisions_in(db) == 0:
        test_a_double_click_records_one_decision(app, browser)
    with sqlite3.connect(db) as conn:
        (decision_id,) = conn.execute("SELECT max(id) FROM decisions").fetchone()
    page = laptop(browser)
    page.goto(f"{url}rationale?decision={decision_id}")
    expect(page.get_by_role("heading", name=re.compile("North Star"))).to_be_visible(timeout=LONG)
    settle(page)
    no_exception(page, log)
    assert page.get_by_role("textbox").count() == 0
    assert page.get_by_role("button", name=re.compile("amend|new version", re.I)).count() == 0
    assert page.get_by_text(re.compile("amend", re.I)).count() == 0
    assert "key=" not in page.url and "workshop=" not in page.url
    page.context.close()
