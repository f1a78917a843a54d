"""A users table as a report tool exports it: title lines above the header (Looker, Excel, Google
Analytics' '# All Web Site Data' block) and a 'Total' or 'Average' row. The title was taken as
the header ("a row with 11 values where the header has 1": check your quoting), and the totals
row failed as a user without a signup, or joined the analysis as one giant user."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.exportrows import lines_above_header, totals_rows
from northstar_lab.data.load import load_inputs
from northstar_lab.settings import AnalysisSettings

SETTINGS = AnalysisSettings(n_bootstrap=0)


def _users(n: int = 400, seed: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    logins = rng.poisson(6, n)
    churned = (rng.random(n) < 1 / (1 + np.exp(0.3 * (logins - 6)))).astype(int)
    return pd.DataFrame({
        "customer_id": [f"{i:06d}" for i in range(n)], "tenure_days": rng.integers(20, 700, n),
        "churned": churned, "logins": logins, "seats": rng.integers(1, 9, n),
    })  # fmt: skip


def _same_analysis(got, want) -> None:
    pd.testing.assert_frame_equal(got.users.frame, want.users.frame)
    pd.testing.assert_frame_equal(analyse(got, SETTINGS).frame, analyse(want, SETTINGS).frame)


@pytest.mark.parametrize(
    ("above", "sep"),
    [
        ("Users report\nGenerated 2025-06-01 by Looker\n\n", ","),
        ("# ----------------------------------------\n# All Web Site Data\n# Users\n"
         "# 20250101-20250131\n# ----------------------------------------\n\n", ","),
        ("Export des clients, juin 2025\n", ";"),  # a comma in the title, semicolons below
    ],
)  # fmt: skip
def test_title_lines_above_the_header_are_skipped_and_said(tmp_path, above, sep):
    df = _users()
    plain, titled = tmp_path / "plain.csv", tmp_path / "report.csv"
    df.to_csv(plain, index=False, sep=sep)
    with open(titled, "w") as f:
        f.write(above)
        df.to_csv(f, index=False, sep=sep)
    got, want = load_inputs(None, str(titled)), load_inputs(None, str(plain))
    n_above = above.count("\n")
    assert any(f"the first {n_above} lines are above the header" in w for w in got.warnings)
    assert got.users.frame["user_id"].iloc[0] == "000000"  # ids as written, zeros kept
    _same_analysis(got, want)


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c\n1,2,3,\n4,5,6,\n",  # rows one field longer (trailing commas): no title
        "user_id,plan\nu1,free\nu2,team\n",
        "title\n",
    ],
)  # fmt: skip
def test_a_header_is_not_skipped_without_certainty(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert lines_above_header(path)[1] == 0


@pytest.mark.parametrize(("label", "where", "kind"),
                         [("Total", "last", "sum"), ("Grand Total:", "last", "sum"),
                          ("Average", "first", "mean")])  # fmt: skip
def test_a_report_totals_row_is_left_out_with_a_note(tmp_path, label, where, kind):
    df = _users()
    numbers = df.select_dtypes("number")
    row = numbers.sum() if kind == "sum" else numbers.mean()
    summary = pd.DataFrame([{"customer_id": label, **row.to_dict()}])
    parts = [df, summary] if where == "last" else [summary, df]
    pd.concat(parts).to_csv(tmp_path / "report.csv", index=False)
    df.to_csv(tmp_path / "plain.csv", index=False)
    got = load_inputs(None, str(tmp_path / "report.csv"))
    want = load_inputs(None, str(tmp_path / "plain.csv"))
    at = len(df) + 1 if where == "last" else 1
    word = "totals" if kind == "sum" else "averages"
    assert f"row {at} ('{label}') holds the column {word}, not a user: left out." in " ".join(
        got.warnings
    )
    _same_analysis(got, want)


def test_a_user_called_total_whose_numbers_are_his_own_stays():
    df = _users(50)
    df.loc[49, "customer_id"] = "total"
    assert totals_rows(df) == {}
    df.loc[49, "logins"] = df["logins"].iloc[:49].sum()
    assert totals_rows(df) == {49: ("total", "totals")}


def test_title_lines_above_an_event_log_are_said(tmp_path):
    """DuckDB's sniffer skips them and reads the log right; the note says what was not read."""
    rng = np.random.default_rng(1)
    log = pd.DataFrame({"user_id": [f"u{i % 40}" for i in range(400)],
                        "timestamp": pd.Timestamp("2025-01-01")
                        + pd.to_timedelta(rng.integers(0, 90 * 24, 400), unit="h"),
                        "event": rng.choice(["open", "save"], 400)})  # fmt: skip
    log.to_csv(tmp_path / "plain.csv", index=False)
    with open(tmp_path / "export.csv", "w") as f:
        f.write("Events export\nGenerated 2025-06-01\n\n")
        log.to_csv(f, index=False)
    got = load_inputs(str(tmp_path / "export.csv"))
    want = load_inputs(str(tmp_path / "plain.csv"))
    assert any("the first 3 lines are above the header ('Events export'" in w
               for w in got.warnings)  # fmt: skip
    assert not any("above the header" in w for w in want.warnings)
    assert got.event_counts == want.event_counts
