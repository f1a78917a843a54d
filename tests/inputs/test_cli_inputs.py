"""`python -m northstar_lab inputs`: the JSON contract per input, the tree as SVG, bad input as
one paragraph and exit 2, and --decision taking everything from a record."""

from __future__ import annotations

import json

import pytest

from northstar_lab.cli import main
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import Decision, InputMetric, MetricDefinition
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.inputs.result import CONTRACT_FIELDS

from .conftest import DRIVER, NORTH_STAR, RIDER


def _data_args(small) -> list[str]:
    return ["--events", str(small.folder / "events.parquet"),
            "--users", str(small.folder / "users.csv"), "--quiet"]  # fmt: skip


def test_inputs_json_has_the_contract_fields_and_the_tree(small, tmp_path, capsys):
    out_json, out_svg = tmp_path / "inputs.json", tmp_path / "tree.svg"
    code = main(
        ["inputs", *_data_args(small), "--north-star", NORTH_STAR,
         "--inputs", f"{DRIVER},{RIDER},share:lesson_completed/lesson_started",
         "--experiments", str(small.folder / "assignments.csv"),
         "--json", str(out_json), "--svg", str(out_svg)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out_json.read_text())
    assert [e["key"] for e in d["inputs"]] == [
        DRIVER,
        RIDER,
        "share:lesson_completed/lesson_started",
    ]
    for e in d["inputs"]:
        assert list(e)[: len(CONTRACT_FIELDS)] == list(CONTRACT_FIELDS)
    goal = d["inputs"][0]
    assert goal["verdict"] == "leads" and goal["experiments_n"] == 8
    assert goal["lead_ci_low"] < goal["lead_effect"] < goal["lead_ci_high"]
    assert d["weekly"]["rows"] and d["weekly"]["decomposition"] and d["cohorts"]
    assert "goal_set: count in first 14 days" in out and "Association, not causation" in out
    assert out_svg.read_text().startswith("<svg")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--north-star", NORTH_STAR, "--inputs", "count:nope"], "'nope' is not in the event log"),
        (["--north-star", "col:plan"], "users-table column"),
        ([], "Give --north-star"),
    ],
)
def test_bad_input_is_one_paragraph_and_exit_2(small, capsys, args, words):
    code = main(["inputs", *_data_args(small), *args])
    out, err = capsys.readouterr()
    assert code == 2 and words in err and "Traceback" not in err


def test_decision_gives_the_north_star_inputs_and_settings(small, tmp_path, capsys):
    decision = Decision(
        title="t", chosen_key=NORTH_STAR, definition=MetricDefinition(name="Lessons"),
        rationale="r", rejected=[],
        evidence=workshop.evidence_snapshot(small.analysis, NORTH_STAR, []),
        input_metrics=[InputMetric(name="Goals", key=DRIVER, owner="Growth"),
                       InputMetric(name="goal_set", kind="breadth")],
    )  # fmt: skip
    db = tmp_path / "d.sqlite3"
    saved = DecisionStore(db).record(decision)
    out_json = tmp_path / "o.json"
    code = main(["inputs", *_data_args(small), "--decision", str(saved.id), "--db", str(db),
                 "--json", str(out_json)])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out_json.read_text())
    # a free-text input named like an event is read as its count (here: the same input once)
    assert [(e["key"], e["owner"]) for e in d["inputs"]] == [(DRIVER, "Growth")]
    assert d["north_star_key"] == NORTH_STAR
