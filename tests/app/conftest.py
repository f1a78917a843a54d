"""App-test helpers: the AppTest factory, a tmp decision DB, chart and data-editor access.

The analysis cache in `pages/shared.py` is an `st.cache_resource`, so it lives for the whole
pytest process: the first test that runs the sample pays ~5 s, later AppTests reuse it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
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


def run_with_editor_state(at: AppTest, editors: dict[str, dict]) -> AppTest:
    """Rerun with `st.data_editor` edits, sent as the browser sends them.

    AppTest cannot edit a data editor (`set_value` raises), so this adds the editor's widget
    state (the JSON `{"edited_rows": {row: {column: value}}, "added_rows": [], "deleted_rows": []}`
    the frontend posts) to the other widgets' states and runs the script once. editors: widget
    key → editing state. Pending clicks and values set on other widgets go along in the same run.
    """
    states = at._tree.get_widget_states()
    for key, edit in editors.items():
        editor = next(e for e in at.data_editor if e.key == key)
        payload = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edit}
        payload["edited_rows"] = {str(k): v for k, v in payload["edited_rows"].items()}
        states.widgets.append(WidgetState(id=editor.proto.id, string_value=json.dumps(payload)))
    return at._run(states)
