"""Text from a record made safe once: control and XML-invalid characters become U+FFFD."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from northstar_lab.report.charts import charts_for
from northstar_lab.report.safe import cleaned, safe_text

from .records import CONTROLS, control_decision

XML_INVALID = set(CONTROLS) - {"\t", "\n", "\r"} | {"\ufffe", "\uffff"}


def test_safe_text_keeps_tab_and_newline_and_marks_the_rest():
    assert safe_text("a\x01b\tc\ufffed\n") == "a\ufffdb\tc\ufffdd\n"
    assert safe_text("x\x7fy\x85z") == "x\ufffdy\ufffdz"


@given(st.text())
def test_safe_text_never_leaves_a_character_xml_cannot_hold(text):
    out = safe_text(text)
    assert len(out) == len(text) and not XML_INVALID & set(out)


@dataclass(frozen=True)
class Box:
    name: str
    rows: tuple


def test_cleaned_walks_every_container_and_nulls_non_finite_numbers():
    value = {"a\x01": [Box("b\x02", ("c\x03", 1.5)), float("nan")], "n": float("inf")}
    assert cleaned(value) == {"a\ufffd": [Box("b\ufffd", ("c\ufffd", 1.5)), None], "n": None}


def test_charts_for_draws_the_names_made_safe():
    """The app's page draws these charts in the browser: they carry no control character."""
    spec = str({name: chart.to_dict() for name, chart in charts_for(control_decision()).items()})
    assert "\\x01" not in spec and "\\x1f" not in spec and "\ufffd" in spec
