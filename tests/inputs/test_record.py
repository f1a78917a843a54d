"""The chosen inputs with their evidence in a decision record, re-validation of each edge, and
the tree picture of a record."""

from __future__ import annotations

import pytest

from northstar_lab.cli.format import format_revalidation
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import Decision, InputMetric, MetricDefinition, Revalidation
from northstar_lab.decisions.revalidate import revalidate
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.errors import InputError
from northstar_lab.inputs.analyse import analyse_inputs
from northstar_lab.inputs.recheck import recheck_inputs, recheck_summary
from northstar_lab.inputs.record import input_metrics, with_inputs
from northstar_lab.inputs.tree import decision_tree_rows, tree_rows, tree_spec, tree_svg

from .conftest import DRIVER, NORTH_STAR, RIDER


@pytest.fixture(scope="module")
def recorded(small, tmp_path_factory):
    ranking = small.analysis.ranking
    rejected = workshop.rejected_alternatives(ranking, NORTH_STAR, [NORTH_STAR, "count:login"])
    decision = Decision(
        title="North Star",
        chosen_key=NORTH_STAR,
        definition=MetricDefinition(name="Lessons completed in the first 14 days"),
        rationale="r",
        rejected=rejected,
        evidence=workshop.evidence_snapshot(small.analysis, NORTH_STAR, [r.key for r in rejected]),
        input_metrics=[InputMetric(name="Teacher NPS", kind="efficiency", owner="Schools")],
    )
    store = DecisionStore(tmp_path_factory.mktemp("db") / "d.sqlite3")
    first = store.record(decision)
    result = analyse_inputs(
        small.analysis, small.loaded, NORTH_STAR, [DRIVER, RIDER, "count:course_browsed"],
        assignments=small.folder / "assignments.csv",
    )  # fmt: skip
    chosen = [
        {"key": DRIVER, "kind": "frequency", "owner": "Growth <script>", "target_low": 0.8,
         "target_high": 1.2, "name": "Weekly goal set"},
        RIDER,
    ]  # fmt: skip
    amended = store.amend(first.id, with_inputs(first, result, chosen), "input metrics")
    return {"store": store, "first": first, "decision": store.get(amended.id), "result": result}


def test_the_record_keeps_each_input_with_its_evidence(recorded):
    d = recorded["decision"]
    assert d.version == 2 and [m.key for m in d.input_metrics] == [DRIVER, RIDER]
    goal = d.input_metrics[0]
    assert (goal.name, goal.kind, goal.owner) == ("Weekly goal set", "frequency", "Growth <script>")
    assert (goal.target_low, goal.target_high) == (0.8, 1.2)
    assert goal.evidence["verdict"] == "leads" and goal.evidence["q_value"] < 0.05
    assert goal.evidence["experiments_n"] == 8
    assert d.evidence.inputs["north_star_key"] == NORTH_STAR
    assert {e["key"] for e in d.evidence.inputs["inputs"]} == {DRIVER, RIDER}
    assert d.input_metrics[1].evidence["verdict"] == "moves_with"


def test_inputs_of_another_north_star_or_not_analysed_are_refused(recorded):
    with pytest.raises(InputError, match="not analysed"):
        input_metrics(recorded["result"], ["count:quiz_taken"])
    other = Decision.from_dict({**recorded["first"].to_dict(), "chosen_key": "count:login"})
    with pytest.raises(InputError, match="analysed for"):
        with_inputs(other, recorded["result"], [DRIVER])


def test_records_written_before_input_evidence_still_load(recorded):
    old = recorded["first"].to_dict()
    old["input_metrics"] = [
        {"name": "Activation", "kind": "breadth", "owner": "", "definition": ""}
    ]
    old["evidence"].pop("inputs")
    d = Decision.from_dict(old)
    assert d.input_metrics[0] == InputMetric(name="Activation", kind="breadth")
    assert d.evidence.inputs == {}
    assert Revalidation.from_dict({"decision_id": 1, "verdict": "holds", "rule": "r",
                                   "summary": "s", "comparison": [], "fingerprint": {},
                                   "settings": {}, "ranking": {}}).inputs == []  # fmt: skip
    assert InputMetric.from_dict({"name": "x", "kind": "", "target_low": float("nan")}) == \
        InputMetric(name="x")  # fmt: skip


def test_recheck_on_the_same_data_says_each_edge_still_holds(recorded, small):
    rows = {r["key"]: r for r in recheck_inputs(recorded["decision"], small.analysis, small.loaded)}
    assert rows[DRIVER]["status"] == "still leads" and rows[DRIVER]["now_q"] < 0.05
    assert rows[RIDER]["status"] == "still does not lead"
    words = recheck_inputs(recorded["first"], small.analysis, small.loaded)
    assert [r["status"] for r in words] == ["not measured"]
    assert "1 of 2 input metrics lead" in recheck_summary(list(rows.values()))


def test_an_input_whose_event_is_gone_cannot_be_measured(recorded, small):
    d = Decision.from_dict(recorded["decision"].to_dict())
    d.input_metrics.append(InputMetric(name="Old feature", key="count:retired_feature"))
    rows = {r["key"]: r for r in recheck_inputs(d, small.analysis, small.loaded)}
    assert rows["count:retired_feature"]["status"] == "cannot be measured"
    assert "retired_feature" in rows["count:retired_feature"]["note"]
    assert rows[DRIVER]["status"] == "still leads"


def test_revalidation_rechecks_the_edges_and_the_store_keeps_them(recorded, small):
    reval, _ = revalidate(recorded["decision"], small.loaded)
    assert {r["key"]: r["status"] for r in reval.inputs}[DRIVER] == "still leads"
    stored = recorded["store"].add_revalidation(recorded["decision"].id, reval)
    back = recorded["store"].revalidations(recorded["decision"].id)[0]
    assert back.id == stored.id and back.inputs == stored.inputs and len(back.inputs) == 2
    printed = format_revalidation(recorded["decision"], back)
    assert "Input metrics:" in printed and "still leads" in printed


def test_the_tree_of_a_record_draws_each_edge_by_its_evidence(recorded):
    rows = decision_tree_rows(recorded["decision"])
    edges = {e["key"]: e for e in rows["edges"]}
    assert edges[DRIVER]["edge"] == "confirmed" and "experiments agree" in edges[DRIVER]["label"]
    assert edges[RIDER]["edge"] == "weak" and "does not lead" in edges[RIDER]["label"]
    assert edges[DRIVER]["dash"] == [1, 0] and edges[RIDER]["dash"] != [1, 0]
    words = decision_tree_rows(recorded["first"])
    assert [e["edge"] for e in words["edges"]] == ["unmeasured"]
    assert rows["nodes"][0]["role"] == "north_star" and len(rows["nodes"]) == 3


def test_the_tree_renders_to_svg_with_names_as_text(recorded):
    pytest.importorskip("vl_convert")
    svg = tree_svg(decision_tree_rows(recorded["decision"]), "Tree <b>")
    assert svg.startswith("<svg") and "<script" not in svg.lower()
    assert "Growth &lt;script&gt;" in svg and "Weekly goal set" in svg
    spec = tree_spec(tree_rows("NS", []))
    assert spec["layer"][0]["data"]["values"]  # the trunk is drawn even without inputs
