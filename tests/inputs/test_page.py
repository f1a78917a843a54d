"""AppTest of the Input metrics page on the bundled sample: the evidence table, the tree, the
closer look, and recording the chosen inputs (with evidence) as a new version of the decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.decisions.model import Decision, MetricDefinition
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.decisions.workshop import evidence_snapshot
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]
NORTH_STAR = "count:lesson_completed"


@pytest.fixture()
def db(tmp_path, monkeypatch):
    path = tmp_path / "decisions.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(path))
    return path


def _on_inputs_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.button(key="try_sample").click().run()
    at.switch_page("pages/inputs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_shows_the_evidence_and_the_tree_and_records_the_inputs(db):
    store = DecisionStore(db)
    sample = ROOT / "sample_data"
    analysis = analyse(
        load_inputs(str(sample / "events.parquet"), str(sample / "users.csv")),
        AnalysisSettings(n_bootstrap=0),
    )
    decision = store.record(
        Decision(
            title="North Star", chosen_key=NORTH_STAR,
            definition=MetricDefinition(name="Lessons completed in the first 14 days"),
            rationale="r", rejected=[],
            evidence=evidence_snapshot(analysis, NORTH_STAR, []),
        )
    )  # fmt: skip
    at = _on_inputs_page()
    assert at.selectbox(key="inputs_north_star").value == NORTH_STAR
    table = at.dataframe[0].value
    goal = table[table["name"] == "goal_set: count in first 14 days"].iloc[0]
    assert goal["lead_ci_low"] > 0 and "experiments agree" in goal["verdict_text"]
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    tree = specs[0]
    labels = [n["label"] for n in tree["layer"][2]["data"]["values"]]
    assert labels[0].startswith("North Star") and any("goal_set" in x for x in labels)
    titles = [str(s.get("title", {}).get("text", "")) for s in specs[1:]]
    assert any("every signup month" in t for t in titles)
    assert any("Why did the North Star move" in t for t in titles)
    button = next(b for b in at.button if b.key == "inputs_record")
    assert f"to decision #{decision.id}" in button.label
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = store.latest_version(decision.id)
    assert saved.version == 2 and saved.input_metrics
    assert all(m.evidence and m.key for m in saved.input_metrics)
    assert "count:goal_set" in [m.key for m in saved.input_metrics]
    # the rationale page shows the recorded inputs with their evidence, and the tree
    at.switch_page("pages/rationale.py").run()
    assert not at.exception, [e.value for e in at.exception]
    inputs = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert "count:goal_set" not in inputs.columns and "goal_set" in " ".join(inputs["name"])
    trees = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any(len(s.get("layer", [])) == 7 for s in trees)
