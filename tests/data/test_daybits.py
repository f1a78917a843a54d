"""Active days as bits of 62-day blocks (`data/daybits.py`), against the days written out one
by one: the NumPy unpacking, the engine's OR and unpacking, and the whole per-user frame for a
window and follow-up spanning several blocks, against a pandas reference from the raw log."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from northstar_lab.data import aggregate, daybits, logcells, population
from northstar_lab.data.aggregate import DAY_BITS, per_user_frame
from northstar_lab.data.columns import EventColumns
from northstar_lab.data.events import check_events, standard_events

from .test_churn_from_days import rule_for_one_user

DAY = 86_400
START = pd.Timestamp("2025-01-01 09:30")


def test_day_keys_are_every_set_bit_in_order():
    rng = np.random.default_rng(5)
    rows, blocks, bits, want = [], [], [], set()
    for row in range(3_000):
        for block in rng.choice(12, size=int(rng.integers(0, 4)), replace=False).tolist():
            word = (
                int(rng.integers(1, 1 << 62))
                if rng.random() < 0.5
                else 1 << int(rng.integers(0, 62))
            )
            rows.append(row), blocks.append(block), bits.append(word)
            want |= {(row << DAY_BITS) | (block * 62 + i) for i in range(62) if word >> i & 1}
    order = rng.permutation(len(rows))  # the engine returns blocks in any order
    got = daybits.day_keys(*(np.array(a)[order] for a in (rows, blocks, bits)))
    np.testing.assert_array_equal(got, sorted(want))
    assert daybits.day_keys(np.zeros(0), np.zeros(0), np.zeros(0)).size == 0


def test_the_engine_ors_counts_and_unpacks_the_same_bits():
    days = pd.DataFrame({"uid": [1, 1, 1, 1, 2, 2], "d": [0, 61, 61, 62, 123, 5]})
    con = ibis.duckdb.connect()
    t = con.create_table("days", days)
    rows = t.select(uid=t.uid, block=daybits.block_of(t.d), bits=daybits.day_bit(t.d))
    blocks = rows.group_by(["uid", "block"]).aggregate(bits=daybits.bit_or(rows.bits))
    got = blocks.mutate(n=daybits.bit_count(blocks.bits)).to_pandas()
    got = got.sort_values(["uid", "block"]).reset_index(drop=True)
    assert got[["uid", "block"]].values.tolist() == [[1, 0], [1, 1], [2, 0], [2, 1]]
    assert got["bits"].tolist() == [1 | 1 << 61, 1, 1 << 5, 1 << 61]
    assert got["n"].tolist() == [2, 1, 1, 1]
    back = daybits.days_in_engine(blocks).to_pandas().sort_values(["uid", "d"])
    assert back.values.tolist() == [[1, 0], [1, 61], [1, 62], [2, 5], [2, 123]]


def long_log(n_users: int = 120, seed: int = 9) -> pd.DataFrame:
    """Users active on random days over 400 days, several events a day, a paid event."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        signup = START + pd.Timedelta(hours=int(rng.integers(0, 24 * 40)))
        rows.append((f"u{u:03d}", signup, "open", None))
        life = int(rng.choice([30, 150, 400]))
        for day in sorted(rng.choice(life, size=int(rng.integers(1, 30)), replace=False)):
            for _ in range(int(rng.integers(1, 3))):
                t = signup + pd.Timedelta(days=int(day), minutes=int(rng.integers(0, 1439)))
                name = rng.choice(["open", "lesson", "pay"])
                rows.append((f"u{u:03d}", t, name, 9.5 if name == "pay" else None))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "value"])


def reference(log: pd.DataFrame, as_of_end: pd.Timestamp, window: int, horizon: int, gaps):
    """The per-user figures computed from the raw rows in pandas, the rule of METHODS §1."""
    log = log[log["timestamp"] < as_of_end].copy()
    signup = log.groupby("user_id")["timestamp"].transform("min")
    log["d"] = ((log["timestamp"] - signup).dt.total_seconds() // DAY).astype(int)
    out = {}
    for user, rows in log.groupby("user_id"):
        days = sorted(set(rows["d"]))
        a_days = int((as_of_end - rows["timestamp"].min()).total_seconds() // DAY)
        win = rows[rows["d"] < window]
        pay = rows[(rows["event"] == "pay") & (rows["d"] >= window)]
        out[user] = {
            "count_lesson": float((win["event"] == "lesson").sum()),
            "days_lesson": float(win.loc[win["event"] == "lesson", "d"].nunique()),
            "total_events": float(len(win)),
            "active_days": float(sum(d < window for d in days)),
            "last_day": float(days[-1]),
            "revenue_h": float(pay.loc[pay["d"] < window + horizon, "value"].sum()),
            **{f"churn_day_g{g}": rule_for_one_user(days, a_days, g) for g in gaps},
        }
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("user_id").sort_index()


@pytest.mark.parametrize("window", [7, 62, 63, 130])
def test_per_user_frame_equals_the_raw_rows_when_the_window_spans_blocks(window):
    log = long_log()
    con = ibis.duckdb.connect()
    table = con.create_table("ev", log.astype({"value": float}))
    std = standard_events(table, EventColumns("user_id", "timestamp", "event", "value"), "ev")
    check = check_events(std, "ev")
    gaps = (7, 30, 90)
    spec = dict(window_days=window, horizon_days=90, gaps=gaps, revenue_event="pay")
    uf = per_user_frame(std, check, **spec)
    frame = uf.data.set_index("user_id").sort_index()
    lesson = {v: k for k, v in uf.event_columns.items() if k.startswith("count__")}["lesson"]
    got = frame.rename(
        columns={lesson: "count_lesson", lesson.replace("count", "days"): "days_lesson"}
    )
    as_of_end = pd.Timestamp(uf.as_of) + pd.Timedelta(days=1)
    want = reference(log, as_of_end, window, 90, gaps)
    assert want["churn_day_g30"].notna().sum() > 20 and want["revenue_h"].sum() > 0
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)

    # the expression that stays in the engine (population figures on all users) agrees
    ev = aggregate.usable_events(std, check)
    a_end = aggregate.as_of_end_sec(uf.as_of)
    signups = aggregate._signups(ev, None)
    signups = signups.mutate(a_days=((a_end - signups.signup_sec) / DAY).floor().cast("int64"))
    cells = logcells.cells(ev, signups, a_end=a_end, window_days=window,
                             revenue_event="pay", drop_duplicates=False)  # fmt: skip
    names = [uf.event_columns[f"count__{i}"] for i in range(len(uf.event_columns) // 2)]
    expr = population.user_expr(logcells.kept_cells(cells), signups, names=names,
                                **{k: v for k, v in spec.items() if k != "window_days"},
                                window_days=window).to_pandas()  # fmt: skip
    expr = expr.set_index("user_id").sort_index().drop(columns="uid")
    fill = [c for c in expr if c.startswith(("count__", "days__"))]
    expr[fill + ["revenue_h"]] = expr[fill + ["revenue_h"]].fillna(0)
    pd.testing.assert_frame_equal(frame[expr.columns], expr, check_dtype=False)


def test_duplicates_of_a_large_log_are_counted_on_every_kth_user(monkeypatch):
    """Above DUPLICATES_EXACT_UP_TO events the rows of every k-th user are compared: the count
    is that sample's, times k, and the warning says it is an estimate and how it was made."""
    log = long_log(200)
    first = log.groupby("user_id").head(1)  # signup rows: in the window, so they count
    doubled = pd.concat([log, first])
    con = ibis.duckdb.connect()
    table = con.create_table("ev", doubled.astype({"value": float}))
    std = standard_events(table, EventColumns("user_id", "timestamp", "event", "value"), "ev")
    check = check_events(std, "ev")
    spec = dict(window_days=14, horizon_days=90, gaps=(30,))
    exact = per_user_frame(std, check, **spec)
    assert exact.duplicates == len(first)
    monkeypatch.setattr(logcells, "DUPLICATES_EXACT_UP_TO", len(doubled) // 4 + 1)
    sampled = per_user_frame(std, check, **spec)
    users = sorted(doubled["user_id"].unique())
    every_fourth = {u for i, u in enumerate(users, start=1) if i % 4 == 0}  # uid = rank
    assert sampled.duplicates == 4 * first["user_id"].isin(every_fourth).sum()
    note = next(w for w in sampled.warnings if "exact duplicate" in w)
    assert note.startswith(f"About {sampled.duplicates:,} ") and "every 4th user" in note
    pd.testing.assert_frame_equal(sampled.data, exact.data)
