"""Words for people: Markdown that stays literal, safe CSV cells, exclusions and then-vs-now."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from northstar_lab.text import (
    csv_bytes,
    csv_safe,
    exclusions_in_words,
    md_literal,
    spreadsheet_safe,
    then_vs_now_table,
)

HOSTILE = [
    "[click me](https://evil.example/phish)",
    "![img](https://evil.example/track.png)",
    "https://evil.example/autolink",
    "www.evil.example",
    "<b>bold</b><script>alert(1)</script>",
    "**bold** _it_ `code` # heading",
    "a@b.example",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_md_literal_escapes_every_markdown_construct(name):
    out = md_literal(name)
    # every ASCII punctuation character is escaped, so no construct can open
    unescaped = [
        ch for i, ch in enumerate(out) if ch in "[]()!<>*_`#:@." and (i == 0 or out[i - 1] != "\\")
    ]
    assert unescaped == []
    assert out.replace("\\", "") == name  # and nothing else changes


def test_md_literal_folds_lines_and_drops_control_characters():
    assert md_literal("a\nb\x1b[2Jc") == "a b \\[2Jc"


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3",
                                  "@SUM(A1)", "\tx", "\rx"])  # fmt: skip
def test_formula_cells_are_prefixed(cell):
    assert spreadsheet_safe(cell) == "'" + cell


def test_csv_safe_leaves_numbers_and_plain_text_alone_and_fixes_headers():
    df = pd.DataFrame(
        {"=name": ["=1+1", "plain", None], "n": [-3, 4, 5],
         "cat": pd.Categorical(["@x", "y", "y"]), "s": pd.array(["-z", "ok", None], "string")}
    )  # fmt: skip
    safe = csv_safe(df)
    assert list(safe.columns) == ["'=name", "n", "cat", "s"]
    assert safe["'=name"].tolist()[:2] == ["'=1+1", "plain"]
    assert safe["n"].tolist() == [-3, 4, 5]
    assert safe["cat"].tolist() == ["'@x", "y", "y"]
    assert safe["s"].tolist()[:2] == ["'-z", "ok"]
    assert df["=name"].iloc[0] == "=1+1"  # the input is not changed

    back = pd.read_csv(io.BytesIO(csv_bytes(df)), encoding="utf-8-sig")
    assert back.columns[0] == "'=name"
    assert back.iloc[0, 0] == "'=1+1" and back.iloc[0, 1] == -3


def test_exclusions_are_split_by_what_users_are_left_out_of():
    split = exclusions_in_words(
        {"churned_in_window": 943, "not_yet_observable": 0, "revenue_without_full_follow_up": 479,
         "brand_new_reason": 2}
    )  # fmt: skip
    assert split == {
        "retention": [("churned inside the observation window", 943), ("brand new reason", 2)],
        "revenue": [("not followed for the whole revenue horizon", 479)],
    }


def test_then_vs_now_is_words_rounding_and_arrows():
    row = {
        "key": "count:a", "name": "a: count", "role": "chosen",
        "then_rank": 3, "now_rank": 1, "then_score": 0.41234, "now_score": 0.39812,
        "then_c_index": 0.6612, "now_c_index": 0.6614, "then_hazard_ratio": 0.61,
        "now_hazard_ratio": 0.64, "then_hr_ci_low": 0.5500000001, "then_hr_ci_high": 0.7,
        "now_hr_ci_low": None, "now_hr_ci_high": None, "then_revenue_rho": None,
        "now_revenue_rho": 0.2, "then_p_first": 0.5, "now_p_first": 1.0,
    }  # fmt: skip
    [out] = then_vs_now_table([row])
    assert out == {
        "Candidate": "a: count",
        "Role": "chosen",
        "Rank": "3 → 1 (up 2)",
        "Score": "0.412 → 0.398 ↓",
        "Concordance C": "0.661 → 0.661 =",
        "Hazard ratio / SD": "0.61 → 0.64 ↑",
        "Revenue ρ": "— → 0.20",
        "Ranked 1st": "50% → 100% ↑",
        "Hazard ratio 95% CI": "0.55–0.70 → —–—",
    }
    assert not any("then_" in k for k in out)


def test_then_vs_now_reads_row_objects_too():
    class Side:
        rank, score, c_index, hazard_ratio = 2, 0.2, 0.6, 0.7
        hr_ci_low, hr_ci_high, revenue_rho, p_first = 0.6, 0.8, 0.1, 0.25

    class Row:
        key, name, role, then, now = "k", "K", "rejected", Side(), Side()

    [out] = then_vs_now_table([Row()])
    assert out["Role"] == "rejected alternative" and out["Rank"] == "2 → 2 (same place)"


@pytest.mark.parametrize(
    ("name", "unit"),
    [("tenure_months", "months"), ("duration_days", "days"), ("Weeks active", "weeks"),
     ("tenure", None), ("week", "weeks"), ("days_to_month_end", None), ("tenure_mo", "months")],
)  # fmt: skip
def test_unit_in_name(name, unit):
    from northstar_lab.durations import unit_in_name

    assert unit_in_name(name) == unit


def test_then_vs_now_says_what_the_verdict_judged():
    from northstar_lab.decisions.model import ComparisonRow, Standing

    row = ComparisonRow(
        key="k", name="K", role="twin", then=Standing(rank=2, score=0.3),
        now=Standing(rank=1, score=0.31), quantity="advantage", change=0.0123,
        change_ci_low=-0.004, change_ci_high=0.0281, ci_level=0.99,
        finding="no significant change",
    )  # fmt: skip
    [out] = then_vs_now_table([row])
    assert out["Role"] == "near-duplicate of the chosen metric"
    assert out["Judged"] == "its lead over the chosen metric"
    assert out["Change"] == "+0.012 (99% interval -0.004 to +0.028)"
    assert out["Finding"] == "no significant change"
    assert out["Score"] == "0.300 → 0.310 ↑"
