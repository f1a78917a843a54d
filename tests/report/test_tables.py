"""The tables of a rationale page, in words: ordinals, p-values, then → now with arrows,
settings and fingerprints."""

from __future__ import annotations

import pytest

from northstar_lab.report.tables import (
    compared_side,
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
    t = then_now_table(reval.comparison)
    assert t.header == ("Metric", "Role", "Rank", "Score", "C", "HR per SD", "Revenue ρ", "q",
                        "P(first)")  # fmt: skip
    chosen, rejected = t.rows
    assert chosen[:4] == ("invite_sent count in first 14 days", "chosen", "1st → 2nd ↓",
                          "0.612 → 0.420 ↓")  # fmt: skip
    assert chosen[5] == "0.62 → 0.75 ↑" and chosen[7] == "< 0.0001"
    assert rejected[2] == "2nd → 1st ↑" and rejected[8] == "26% → 80% ↑"
    assert "0.0000000" not in repr(t) and "then_" not in repr(t)


def test_then_vs_now_when_a_side_is_missing():
    row = with_comparison(revalidations()[0]).comparison[0]
    row.update({k: None for k in row if k.startswith("now_")})
    assert compared_side(row, "now") is None
    cells = then_now_table([row]).rows[0]
    assert cells[2] == "1st → —" and cells[3] == "0.612 → —"


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
