"""The tables of a rationale page, in words: ordinals, p-values, then → now with arrows,
settings and fingerprints."""

from __future__ import annotations

import pytest

from northstar_lab.decisions.model import ComparisonRow, Standing
from northstar_lab.report.tables import (
    fingerprint_table,
    ordinal,
    p_text,
    rows_table,
    settings_table,
    then_now_table,
)
from northstar_lab.settings import AnalysisSettings

from .records import revalidations, with_comparison


@pytest.mark.parametrize(
    "n, words",
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th"), (0, "—"), (None, "—")],
)  # fmt: skip
def test_ordinal(n, words):
    assert ordinal(n) == words


def test_p_values_in_words():
    assert p_text(3.5e-195) == "< 0.0001"
    assert p_text(0.031) == "0.031"
    assert p_text(None) == "—" and p_text(float("nan")) == "—"


def test_then_vs_now_is_rounded_with_arrows():
    reval = with_comparison(revalidations()[0])
    t = then_now_table(reval.comparison, "Standard errors from the bootstrap.")
    assert t.header == ("Metric", "Role", "Rank", "Score", "C", "HR per SD", "Revenue ρ",
                        "P(first)", "Finding")  # fmt: skip
    chosen, rejected = t.rows
    assert chosen[:4] == ("invite_sent count in first 14 days", "chosen", "1st → 2nd ↓",
                          "0.612 → 0.420 ↓")  # fmt: skip
    assert chosen[5] == "0.62 → 0.75 ↑" and chosen[6] == "+0.31 → +0.22 ↓"
    assert rejected[2] == "2nd → 1st ↑" and rejected[7] == "26% → 80% ↑"
    assert "0.0000000" not in repr(t) and "then_" not in repr(t)
    assert t.note.endswith("rank ↑: moved up. Standard errors from the bootstrap.")


def test_then_vs_now_of_typed_rows_with_a_missing_side_and_a_finding():
    row = ComparisonRow(
        key="count:x", name="x count", role="twin", then=Standing(rank=3, score=0.5),
        now=None, finding="Not computed on the new data.",
    )  # fmt: skip
    cells = then_now_table([row]).rows[0]
    assert cells[1] == "near-duplicate of the chosen metric"
    assert cells[2] == "3rd → —" and cells[3] == "0.500 → —"
    assert cells[-1] == "Not computed on the new data."


def test_settings_in_words():
    rows = dict(settings_table(AnalysisSettings(score_weights=(0.7, 0.3))).rows)
    assert rows["Observation window (days after signup)"] == "14"
    assert rows["Score weights (retention, revenue)"] == "0.7, 0.3"
    assert rows["Data as of"] == "latest in the data"
    assert rows["Random seed"] == "20261125"


def test_fingerprint_and_chart_rows_as_tables():
    t = fingerprint_table({"events": {"file": "e.csv", "rows": 1204311}, "users": None})
    assert t.rows == (("events · file", "e.csv"), ("events · rows", "1,204,311"),
                      ("users", "—"))  # fmt: skip
    many = rows_table([{"k": i, "v": 0.5} for i in range(45)])
    assert len(many.rows) == 40 and many.note == "… 5 more rows in the record."
