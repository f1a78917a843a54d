"""The inputs charts (inputs/charts.py): built from result rows, titled, and honest when empty."""

from __future__ import annotations

import pytest

from northstar_lab.inputs import charts
from northstar_lab.inputs.analyse import analyse_inputs

from .conftest import DRIVER, NORTH_STAR, RIDER


@pytest.fixture(scope="module")
def result(small):
    return analyse_inputs(small.analysis, small.loaded, NORTH_STAR, [DRIVER, RIDER],
                          assignments=small.folder / "assignments.csv")  # fmt: skip


def _layers(chart) -> list[dict]:
    spec = chart.to_dict()
    return spec.get("layer", [spec])


def test_each_chart_draws_its_rows(result):
    dec = charts.decomposition_chart(result.weekly, result.north_star_name).to_dict()
    assert dec["title"]["text"].startswith("Why did the North Star move")
    lag = charts.lag_chart(result.weekly, DRIVER, "goal_set")
    assert {layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
            for layer in _layers(lag)} == {"bar", "rule"}  # fmt: skip
    exp = charts.experiment_chart(result.experiments, DRIVER, "goal_set").to_dict()
    values = next(iter(exp["datasets"].values()))
    assert len(values) == 8 and {"effect", "effect_ns"} <= set(values[0])
    coh = charts.cohort_chart(result.cohorts, DRIVER, "goal_set").to_dict()
    assert "every signup month" in coh["title"]["text"]


def test_charts_without_rows_say_so():
    for chart in (
        charts.decomposition_chart({}),
        charts.lag_chart({}, DRIVER),
        charts.experiment_chart({}, DRIVER),
        charts.cohort_chart([], DRIVER),
    ):
        spec = chart.to_dict()
        assert spec["mark"]["type"] == "text" if isinstance(spec["mark"], dict) else True
        assert next(iter(spec["datasets"].values()))[0]["message"]
