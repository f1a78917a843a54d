"""App-test helpers: the AppTest factory, a tmp decision DB, charts, widgets by label, tabs.

The analysis cache in `pages/shared.py` is an `st.cache_resource`, so it lives for the whole
pytest process: the first test that runs the sample pays ~5 s, later AppTests reuse it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
TIMEOUT = 120  # seconds per script run; the sample analysis takes ~5 s, importing lifelines ~1.5 s

#: The planted driver of the bundled sample (sample_data/README.md, story 1).
PLANTED_KEY = "count:lesson_completed"
PLANTED_NAME = "lesson_completed: count in first 14 days"


def new_app() -> AppTest:
    """A fresh session of the whole app (router + pages), not yet run."""
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


@pytest.fixture(scope="module")
def module_db(tmp_path_factory):
    """NORTHSTAR_DB pointing at a new file for every test of the module (read at each store())."""
    path = tmp_path_factory.mktemp("decisions") / "decisions.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NORTHSTAR_DB", str(path))
        yield path


def assert_clean(at: AppTest) -> None:
    """No uncaught exception in the last run (AppTest shows them as elements, not raises)."""
    assert not at.exception, [e.value for e in at.exception]


def texts(elements) -> list[str]:
    """`.value` of markdown-like elements (markdown, caption, error, success…)."""
    return [str(e.value) for e in elements]


def chart_specs(at: AppTest) -> list[dict]:
    """The Vega-Lite spec of every Altair chart on the page, in page order."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_titles(at: AppTest) -> list[str]:
    out = []
    for spec in chart_specs(at):
        title = spec.get("title", "")
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return out


def shown(markdown: str) -> str:
    """What a reader sees of Markdown the app escaped with `md_literal` / `md_lines` (the
    backslash escapes and hard line breaks removed)."""
    return re.sub(r"\\(.)", r"\1", str(markdown).replace("  \n", "\n"))


def by_label(widgets, label: str):
    """The one widget of a kind with this label (keys carry the analysis id, labels do not)."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, (label, [w.label for w in widgets])
    return found[0]


def table_with(at: AppTest, column: str):
    """The first table (st.dataframe) on the page with this column, as a DataFrame (AppTest
    does not expose a dataframe's key, so tables are told apart by what they show)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, (column, [list(d.value.columns) for d in at.dataframe])
    return found[0]


def open_tab(at: AppTest, tab: str) -> AppTest:
    """Open one of the Candidates page's "Look closer" tabs (only the open one is drawn), as
    the browser does: the tabs' state, then a rerun."""
    at.session_state["look_tab"] = tab
    return at.run()
