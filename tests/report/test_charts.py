"""The charts that carry the argument: chosen from the stored charts, rebuilt from their data."""

from __future__ import annotations

from northstar_lab.report.charts import argument_chart_names, chart_caption, charts_for

from .records import make_decision


def test_argument_charts_are_the_chosen_ones():
    d = make_decision()
    assert argument_chart_names(d) == [
        "forest",
        "km/count:invite_sent",
        "revenue/count:invite_sent",
    ]
    d.evidence.charts = {"forest": [], "km:count:invite_sent": [], "km:count:login": []}
    assert argument_chart_names(d) == ["forest", "km:count:invite_sent"]


def test_charts_are_rebuilt_from_the_record():
    charts = charts_for(make_decision())
    assert list(charts) == ["forest", "km/count:invite_sent", "revenue/count:invite_sent"]
    assert charts["forest"].to_dict()["title"]["text"] == "Which early behaviours predict staying?"


def test_a_chart_whose_stored_data_cannot_be_drawn_is_left_out():
    d = make_decision()
    d.evidence.charts["km/count:invite_sent"] = [{"unexpected": 1}]
    assert list(charts_for(d)) == ["forest", "revenue/count:invite_sent"]


def test_captions_name_the_candidate():
    names = {"count:invite_sent": "invite_sent count in first 14 days"}
    caption = chart_caption("km/count:invite_sent", names)
    assert caption.endswith(": invite_sent count in first 14 days")
    assert chart_caption("revenue:count:x", names).endswith(": count:x")
