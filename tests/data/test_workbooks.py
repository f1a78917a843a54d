"""Excel workbooks (.xlsx) as event logs and users tables: the data sheet is the largest one
with at least two columns (not a "Data Dict" sheet in front of it, as in Kaggle's E Commerce
workbook), which sheet was read is said, and the ranking equals the same data as CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings


def _users(n: int = 600, seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    orders = rng.integers(1, 16, n)
    churn = rng.random(n) < 1 / (1 + np.exp(-(0.5 - 0.25 * orders)))
    return pd.DataFrame({"CustomerID": 50001 + np.arange(n), "Churn": churn.astype(int),
                         "Tenure": rng.integers(1, 31, n), "OrderCount": orders,
                         "CashbackAmount": rng.uniform(0, 300, n).round(2),
                         "Device": rng.choice(["Mobile Phone", "Computer"], n)})  # fmt: skip


def _workbook(path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path) as w:
        for name, df in sheets.items():
            df.to_excel(w, sheet_name=name, index=False)


COLUMNS = dict(duration="Tenure", churn="Churn", duration_unit="months")
SETTINGS = AnalysisSettings(window_days=0, n_bootstrap=0)


def test_a_users_workbook_reads_its_data_sheet_and_ranks_as_its_csv(tmp_path):
    users = _users()
    guide = pd.DataFrame({"Variable": ["CustomerID", "Churn"], "Meaning": ["id", "flag"]})
    _workbook(tmp_path / "ecommerce.xlsx", {"Data Dict": guide, "E Comm": users})
    users.to_csv(tmp_path / "ecommerce.csv", index=False)
    book = load_inputs(users=str(tmp_path / "ecommerce.xlsx"), user_columns=COLUMNS)
    csv = load_inputs(users=str(tmp_path / "ecommerce.csv"), user_columns=COLUMNS)
    assert any("sheet 'E Comm' was read as the data" in n and "'Data Dict'" in n
               for n in book.users.notes)  # fmt: skip
    a, b = analyse(book, SETTINGS).ranking, analyse(csv, SETTINGS).ranking
    assert [c.key for c in a.candidates] == [c.key for c in b.candidates]
    assert a.candidates[0].key == "col:OrderCount"  # the planted driver
    for x, y in zip(a.candidates, b.candidates, strict=True):
        assert x.hazard_ratio == pytest.approx(y.hazard_ratio, rel=1e-12)


def test_an_event_log_workbook_ranks_as_its_csv(tmp_path):
    rng = np.random.default_rng(2)
    rows = []
    for u in range(300):
        t0 = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(0, 60)))
        for k in range(int(rng.integers(2, 20))):
            t = t0 + pd.Timedelta(hours=float(rng.exponential(90)) * k)
            rows.append((f"u{u}", t.floor("s"), str(rng.choice(["login", "view", "buy"]))))
    log = pd.DataFrame(rows, columns=["user_id", "timestamp", "event"])
    _workbook(tmp_path / "events.xlsx", {"events": log})
    log.to_csv(tmp_path / "events.csv", index=False)
    s = AnalysisSettings(n_bootstrap=0, inactivity_days=14, horizon_days=30)
    a = analyse(load_inputs(str(tmp_path / "events.xlsx")), s).frame
    b = analyse(load_inputs(str(tmp_path / "events.csv")), s).frame
    pd.testing.assert_frame_equal(a, b)


def test_a_damaged_workbook_and_an_old_xls_say_what_to_do(tmp_path):
    bad = tmp_path / "users.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError) as err:
        load_inputs(users=str(bad))
    assert "is not a workbook Excel can open" in str(err.value)
    old = tmp_path / "users.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    with pytest.raises(InputError) as err:
        load_inputs(users=str(old))
    assert "old-style Excel workbook (.xls)" in str(err.value) and ".xlsx" in str(err.value)


def test_an_empty_tenure_names_its_rows(tmp_path):
    users = _users(n=100).astype({"Tenure": float})
    users.loc[[5, 17], "Tenure"] = np.nan
    _workbook(tmp_path / "users.xlsx", {"E Comm": users})
    with pytest.raises(InputError) as err:
        load_inputs(users=str(tmp_path / "users.xlsx"), user_columns=COLUMNS)
    assert "column 'Tenure' is empty for 2 users (rows 6, 18)" in str(err.value)
