"""Numbers written as text in a users table ('$1,234.50', '1.234,5', '15%', '12 500') are read
as numbers with a note, never silently dropped; a separator no value can disambiguate
('1,234': 1234 or 1.234?) is left out with a note instead of guessed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from northstar_lab import cli
from northstar_lab.data.numbers import read_text_numbers


@pytest.mark.parametrize(
    ("values", "want", "how"),
    [
        (["$1,234.50", "$12.00", None, "-$3.10", "$-4"], [1234.5, 12, np.nan, -3.1, -4],
         "currency symbols and comma thousands separators"),
        (["1.234,5", "12,75", "3"], [1234.5, 12.75, 3], "decimal commas"),
        (["€ 1.234,50", "3,00 €"], [1234.5, 3.0], "currency symbols and decimal commas"),
        (["15%", "7.5%", ""], [15, 7.5, np.nan], "percent signs (15% is read as 15)"),
        (["12 500", "1\u00a0000", "7"], [12500, 1000, 7], "spaces between thousands"),
        (["1,234,567", "5,000"], [1234567, 5000], "comma thousands separators"),
        (["0,500", "1,234"], [0.5, 1.234], "decimal commas"),  # a leading 0 tells
        (["29.85", " ", "1889.5"], [29.85, np.nan, 1889.5],
         "cells holding only spaces read as missing"),  # Telco's TotalCharges
        (["3", "-", "12", "–", "-4"], [3, 0, 12, 0, -4],
         "a dash for zero, as spreadsheets' accounting format writes it"),
        (["$1,200.00", "$ -", "-"], [1200, 0, 0],
         "currency symbols and a dash for zero, as spreadsheets' accounting format writes it and "
         "comma thousands separators"),  # Excel's accounting format: "$ -" is zero
    ],
)  # fmt: skip
def test_text_numbers_are_read_in_one_style(values, want, how):
    got = read_text_numbers(pd.Series(values, dtype=object))
    assert got is not None and got.how == how
    np.testing.assert_allclose(got.values.to_numpy(), want)


@pytest.mark.parametrize(
    "values",
    [
        ["1,234", "5,000"],  # thousands or three decimals: no value tells
        ["15%", "0.2"],  # two scales in one column
        ["1,5", "2.5"],  # two decimal marks
        ["abc", "1"],
        ["1", "2"],  # plain numbers are pandas' job
        [None, ""],
        ["-", "–"],  # dashes alone: no number
    ],
)
def test_text_that_is_not_one_style_of_numbers_is_not_read(values):
    assert read_text_numbers(pd.Series(values, dtype=object)) is None


def _table(tmp_path, sep=",", **cols) -> str:
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)],
                          "tenure_days": rng.integers(1, 300, n),
                          "churned": rng.integers(0, 2, n),
                          "logins": rng.poisson(3, n)})  # fmt: skip
    for name, make in cols.items():
        frame[name] = [make(x) for x in rng.gamma(2.0, 300.0, n)]
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False, sep=sep)
    return str(path)


def _rank(path, capsys, *extra):
    code = cli.main(["rank", "--users", path, "--duration-col", "tenure_days",
                     "--event-col", "churned", "--quiet", "--bootstrap", "0", *extra])  # fmt: skip
    return code, capsys.readouterr()


def test_a_currency_revenue_column_is_read_with_a_note(tmp_path, capsys):
    path = _table(tmp_path, revenue=lambda x: f"${x:,.2f}")
    code, io = _rank(path, capsys, "--revenue-col", "revenue")
    assert code == 0, io.err
    assert "column 'revenue' holds numbers written as text, read with currency symbols" in (
        " ".join(io.out.split())
    )


def test_decimal_comma_and_percent_columns_become_candidates(tmp_path, capsys):
    path = _table(tmp_path, sep=";", score=lambda x: f"{x / 100:.2f}".replace(".", ","),
                  completion=lambda x: f"{min(x / 20, 100):.0f}%")  # fmt: skip
    code, io = _rank(path, capsys)
    assert code == 0, io.err
    assert "score (users table)" in io.out and "completion (users table)" in io.out
    words = " ".join(io.out.split())
    assert "column 'score' holds numbers written as text, read with decimal commas" in words
    assert "column 'completion' holds numbers written as text, read with percent signs" in words


def test_an_ambiguous_separator_column_is_left_out_with_a_note(tmp_path, capsys):
    path = _table(tmp_path, amb=lambda x: f"{int(x) % 9 + 1},{int(x * 7) % 1000:03d}")
    code, io = _rank(path, capsys)
    assert code == 0, io.err
    assert "amb (users table)" not in io.out
    assert "column 'amb' looks like numbers, but" in " ".join(io.out.split())


def test_a_numbers_column_with_a_few_words_is_left_out_with_a_note(tmp_path, capsys):
    path = _table(tmp_path, spend=lambda x: "unknown" if x > 1400 else f"{x:.1f}")
    code, io = _rank(path, capsys)
    assert code == 0, io.err
    assert "spend (users table)" not in io.out
    assert "column 'spend' is numbers except for values such as 'unknown'" in " ".join(
        io.out.split()
    )


def test_a_counts_column_with_dashes_for_zero_still_ranks(tmp_path, capsys):
    """'-' for zero in a third of a counts column dropped the column without a word, and the
    ranking crowned the next candidate."""
    path = _table(tmp_path, lessons=lambda x: "-" if x < 300 else str(int(x // 100)))
    code, io = _rank(path, capsys, "--json", str(tmp_path / "r.json"))
    out = " ".join(io.out.split())
    ranked = json.loads((tmp_path / "r.json").read_text())["candidates"]
    assert code == 0
    assert "col:lessons" in {c["key"] for c in ranked}
    assert "a dash for zero" in out


def test_a_mostly_numbers_column_with_words_is_said_to_be_left_out(tmp_path, capsys):
    path = _table(tmp_path, lessons=lambda x: "unknown" if x < 400 else str(int(x // 100)))
    code, io = _rank(path, capsys, "--json", str(tmp_path / "r.json"))
    out = " ".join(io.out.split())
    ranked = json.loads((tmp_path / "r.json").read_text())["candidates"]
    assert code == 0
    assert "col:lessons" not in {c["key"] for c in ranked}
    assert "column 'lessons' is numbers except for values such as 'unknown'" in out
