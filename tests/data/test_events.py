"""Data that lies: corrupt future timestamps, exact duplicate rows, a long tail of event names."""

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from northstar_lab import cli
from northstar_lab.data import events as events_mod
from northstar_lab.data.aggregate import per_user_frame
from northstar_lab.data.columns import EventColumns
from northstar_lab.data.events import check_events, plausible_end_day, standard_events
from northstar_lab.errors import InputError

DAY = 86_400
START = pd.Timestamp("2025-01-01")


def activity_log(n_users: int = 200, seed: int = 3) -> pd.DataFrame:
    """Users signing up over January 2025, active every few days until they churn; data to
    2025-06-30 (the last day has events). About a third still active at the end."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        t = START + pd.Timedelta(hours=int(rng.integers(0, 31 * 24)))
        life = rng.choice([20, 60, 400])
        day = 0.0
        while day < life and t + pd.Timedelta(days=day) < pd.Timestamp("2025-06-30 12:00"):
            name = "lesson" if rng.random() < 0.5 else "login"
            rows.append((f"u{u:04d}", t + pd.Timedelta(days=day), name, None))
            day += float(rng.integers(1, 6))
    rows.append(("u0000", pd.Timestamp("2025-06-30 18:00"), "login", None))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "value"])


def frame_of(events: pd.DataFrame, **kw):
    con = ibis.duckdb.connect()
    table = con.create_table("ev", events.astype({"value": float}))
    std = standard_events(table, EventColumns("user_id", "timestamp", "event", "value"), "ev")
    check = check_events(std, "ev")
    spec = dict(window_days=14, horizon_days=90, gaps=(30,))
    return check, per_user_frame(std, check, **{**spec, **kw})


@pytest.fixture(scope="module")
def clean():
    log = activity_log()
    return log, frame_of(log)


@pytest.mark.parametrize("when", ["2099-01-01 00:00", "2025-11-15 08:00"])
def test_one_corrupt_late_timestamp_changes_nothing_but_a_warning(clean, when):
    """2099 is after today; 2025-11-15 is before today but months after the bulk of the data.
    Either one used to become the as-of date and turn every user into a churner."""
    log, (_check, base) = clean
    corrupt = pd.concat(
        [log, pd.DataFrame([("u0007", pd.Timestamp(when), "login", None)], columns=log.columns)]
    )
    check, uf = frame_of(corrupt)
    assert uf.as_of == base.as_of == dt.date(2025, 6, 30)
    assert check.max_ts.date() == dt.date(2025, 6, 30)
    assert check.n_implausible == 1 and uf.counts["events_implausibly_late"] == 1
    churn = ["user_id", "a_days", "churn_day_g30", "last_day"]
    pd.testing.assert_frame_equal(uf.data[churn], base.data[churn])
    assert (base.data["churn_day_g30"].isna()).sum() > 30  # users still active: not churners
    note = next(w for w in uf.warnings if "look corrupt" in w)
    assert "1 events dated on or after" in note and "2025-06-30" in note


def test_plausible_end_rule():
    day = np.arange(20000, 20200)
    n = np.full(day.size, 50)
    today = dt.date(2030, 1, 1)
    # the bulk spans 200 days: 25% of it (50 days) beyond the 99.9% day is still plausible
    end, why = plausible_end_day(day, n, today)
    assert end == day[-1] + 1 + 50 and "99.9%" in why
    # with today earlier than that, the present is the limit
    early = dt.date(1970, 1, 1) + dt.timedelta(days=int(day[-1]) + 3)
    end, why = plausible_end_day(day, n, early)
    assert end == day[-1] + 4 and "after today" in why


def test_every_event_in_the_future_is_one_clear_error():
    log = activity_log(20)
    log["timestamp"] += pd.Timedelta(days=365 * 80)
    con = ibis.duckdb.connect()
    std = standard_events(
        con.create_table("ev", log.astype({"value": float})),
        EventColumns("user_id", "timestamp", "event", "value"),
        "ev.csv",
    )
    with pytest.raises(InputError, match="ev.csv: every event is dated after today"):
        check_events(std, "ev.csv")


def test_exact_duplicate_rows_are_counted_and_can_be_dropped(clean):
    log, (_check, base) = clean
    first = log.groupby("user_id").head(1)  # each user's first event: in the window
    doubled = pd.concat([log, first, first.iloc[:10]])
    _, kept = frame_of(doubled)
    assert kept.duplicates == len(first) + 10
    assert "duplicate_events" not in kept.counts  # counted as events, so not "left out"
    assert any("exact duplicate event rows" in w for w in kept.warnings)
    assert (kept.data["total_events"] - base.data["total_events"]).sum() == len(first) + 10
    _, dropped = frame_of(doubled, drop_duplicates=True)
    assert dropped.counts["duplicate_events_dropped"] == len(first) + 10
    pd.testing.assert_frame_equal(dropped.data, base.data)


def test_same_second_different_value_is_not_a_duplicate():
    t = pd.Timestamp("2025-01-02 10:00")
    rows = [("a", START, "login", None), ("a", t, "pay", 5.0), ("a", t, "pay", 7.0)]
    rows += [("b", START, "login", None), ("b", START + pd.Timedelta(days=200), "login", None)]
    _, uf = frame_of(pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "value"]))
    assert uf.duplicates == 0


def test_cli_flag_drops_duplicates(tmp_path, capsys):
    log = activity_log(300)
    first = log.groupby("user_id").head(1)
    path = tmp_path / "events.csv"
    pd.concat([log, first]).to_csv(path, index=False)
    out = tmp_path / "out.json"
    args = ["rank", "--events", str(path), "--bootstrap", "0", "--quiet", "--json", str(out)]
    assert cli.main(args) == 0
    assert '"duplicate_events": 300' in out.read_text()
    assert cli.main([*args, "--drop-duplicate-events"]) == 0
    text = out.read_text()
    assert '"duplicate_events_dropped": 300' in text and '"drop_duplicate_events": true' in text


def test_long_tail_of_names_stays_in_the_engine(monkeypatch):
    """Only the most frequent names come into memory; the tail is counted and still counts as
    activity (total events in the window)."""
    monkeypatch.setattr(events_mod, "MAX_EVENT_NAMES", 50)
    log = activity_log(100)
    rng = np.random.default_rng(1)
    tail = log.sample(3000, replace=True, random_state=1).copy()
    tail["event"] = [f"noise_{i}" for i in rng.permutation(3000)]
    both = pd.concat([log, tail])
    check, uf = frame_of(both)
    assert len(check.event_counts) == 50
    assert check.n_event_types == 3002 and check.tail_types == 2952
    assert check.tail_rows == 3000 - 48  # 48 noise names are among the 50 listed
    assert any("3,002 distinct event names" in w for w in check.warnings)
    assert list(check.event_counts)[:2] == ["lesson", "login"]
    _, base = frame_of(log)
    extra = uf.data["total_events"] - base.data["total_events"]
    con = ibis.duckdb.connect()
    t = con.create_table("t", both.astype({"value": float}))
    first = t.group_by("user_id").aggregate(s=t.timestamp.min())
    j = t.join(first, "user_id")
    in_window = j.filter(j.timestamp < j.s + ibis.interval(days=14))
    expected = in_window.filter(in_window.event.startswith("noise_")).count().to_pandas()
    assert extra.sum() == expected
    assert len(uf.event_counts) <= 201  # names in the window: only candidates come into memory


def test_users_collected_in_python_equal_the_engine_expression(clean):
    """collect_users (three queries + NumPy over active-day lists) gives the rows of the
    engine's one-row-per-user expression, which the population figures use."""
    from northstar_lab.data import aggregate, logcells, population

    log, _ = clean
    extra = pd.DataFrame(
        [("late", pd.Timestamp("2025-06-25"), "login", None),  # too recent for a 30-day gap
         ("pay", START, "login", None), ("pay", START + pd.Timedelta(days=20), "payment", 9.5)],
        columns=log.columns,
    )  # fmt: skip
    con = ibis.duckdb.connect()
    table = con.create_table("ev", pd.concat([log, extra]).astype({"value": float}))
    std = standard_events(table, EventColumns("user_id", "timestamp", "event", "value"), "ev")
    check = check_events(std, "ev")
    spec = dict(window_days=14, horizon_days=90, gaps=(7, 30), revenue_event="payment")
    uf = per_user_frame(std, check, max_users=1000, **spec)
    assert uf.population is None
    frame = per_user_frame(std, check, max_users=1000, **spec)
    # the engine expression over the same cells, executed
    ev = aggregate.usable_events(std, check)
    a_end = aggregate.as_of_end_sec(frame.as_of)
    signups = aggregate._signups(ev, None)
    signups = signups.mutate(a_days=((a_end - signups.signup_sec) / DAY).floor().cast("int64"))
    signups = signups.filter(signups.a_days >= 0)
    cells = logcells.cells(ev, signups, a_end=a_end, window_days=14, revenue_event="payment",
                             drop_duplicates=False)  # fmt: skip
    kept = logcells.kept_cells(cells)
    names = [frame.event_columns[f"count__{i}"] for i in range(len(frame.event_columns) // 2)]
    spec = dict(names=names, window_days=14, horizon_days=90, revenue_event="payment",
                gaps=(7, 30))  # fmt: skip
    expr = population.user_expr(kept, signups, **spec).to_pandas().drop(columns="uid")
    expr = expr.sort_values("user_id").reset_index(drop=True)
    fill = [c for c in expr if c.startswith(("count__", "days__"))]
    fill += ["active_days", "total_events", "revenue_h", "last_day"]
    expr[fill] = expr[fill].fillna(0)
    got = frame.data
    assert got["churn_day_g30"].notna().sum() > 20 and got["revenue_h"].sum() == 9.5
    pd.testing.assert_frame_equal(got[expr.columns], expr, check_dtype=False)
