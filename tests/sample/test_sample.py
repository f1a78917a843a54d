"""The Lumen Learn generator: deterministic, internally consistent, and the planted story holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar_lab.cli import main as cli_main
from northstar_lab.sample import SampleData, generate_product, iter_event_chunks, spec, write_sample

W = pd.Timedelta(days=14)
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def planted() -> SampleData:
    return generate_product(6000, seed=11)


@pytest.fixture(scope="module")
def null() -> SampleData:
    return generate_product(6000, seed=11, null=True)


def _spearman(a: pd.Series, b: pd.Series) -> float:
    return float(np.corrcoef(a.rank(), b.rank())[0, 1])


def _with_signup(data: SampleData) -> pd.DataFrame:
    truth = data.truth["users"][["user_id", "signup_at", "churn_at"]]
    return data.events.merge(truth, on="user_id", how="left", validate="many_to_one")


def _landmark(data: SampleData) -> pd.DataFrame:
    """Users still active at day 14, with latent churn time after the landmark (days)."""
    u = data.truth["users"]
    lm = u[(u.churn_at >= u.signup_at + W) & (u.signup_at + W <= data.truth["as_of"])].copy()
    lm["t_days"] = (lm.churn_at - lm.signup_at - W).dt.total_seconds() / 86400
    return lm


def test_same_seed_same_frames_and_other_seed_differs():
    a, b = generate_product(1500, seed=3), generate_product(1500, seed=3)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.users, b.users)
    pd.testing.assert_frame_equal(a.users_summary, b.users_summary)
    pd.testing.assert_frame_equal(a.truth["users"], b.truth["users"])
    c = generate_product(1500, seed=4)
    assert not a.users.signup_at.equals(c.users.signup_at)
    assert len(a.events) != len(c.events) or not a.events.equals(c.events)


def test_frame_shapes_and_types(planted):
    e, u, s = planted.events, planted.users, planted.users_summary
    assert list(e.columns) == ["user_id", "timestamp", "event", "value"]
    assert e.timestamp.dtype == "datetime64[ns]"
    assert (e.timestamp.dt.microsecond == 0).all() and (e.timestamp.dt.nanosecond == 0).all()
    assert e.timestamp.is_monotonic_increasing
    assert set(e.event) == set(spec.EVENT_TYPES)
    pay = e.event == "payment"
    assert e.value[~pay].isna().all()
    assert set(e.value[pay]) <= {19.0, 49.0}
    assert list(u.columns) == ["user_id", "signup_at", "plan", "channel", "country"]
    assert u.user_id.iloc[0] == "u000001" and u.user_id.is_unique and len(u) == 6000
    assert u.signup_at.is_monotonic_increasing  # ids follow signup order
    assert set(u.plan) == {"free", "pro", "team"}
    assert set(u.channel) == {"organic", "paid_search", "referral", "partner"}
    assert list(s.columns) == [
        "user_id",
        "signup_at",
        "tenure_days",
        "churned",
        "revenue_per_month",
        "lessons_first_14d",
        "logins_first_14d",
        "quizzes_first_14d",
        "total_logins",
        "plan",
        "channel",
    ]
    assert set(s.churned) == {"yes", "no"}
    assert set(e.user_id) <= set(u.user_id)


def test_no_event_before_signup_after_as_of_or_after_true_churn(planted, null):
    for data in (planted, null):
        e = _with_signup(data)
        assert (e.timestamp >= e.signup_at).all()
        assert (e.timestamp <= data.truth["as_of"]).all()
        assert (e.timestamp <= e.churn_at).all()
    u = planted.users
    assert u.signup_at.min() >= pd.Timestamp("2025-01-01")
    assert u.signup_at.max() < pd.Timestamp("2026-01-01")


def test_living_users_are_never_silent_for_30_days_so_the_gap_rule_recovers_churn(planted):
    e = _with_signup(planted).sort_values(["user_id", "timestamp"])
    gaps = e.groupby("user_id").timestamp.diff().dt.total_seconds() / 86400
    assert gaps.max() < 29
    truth = planted.truth["users"].set_index("user_id")
    last = e.groupby("user_id").timestamp.max()
    churned = truth.churned[truth.churned].index
    lag = (truth.churn_at[churned] - last[churned]).dt.total_seconds()
    assert lag.between(0, 3600).all()


def test_sizes_and_shares(planted):
    per_user = len(planted.events) / len(planted.users)
    assert 40 <= per_user <= 70
    truth = planted.truth
    assert 0.08 <= truth["pre_window_churn_share"] <= 0.16
    lm = _landmark(planted)
    observed = lm.churn_at <= truth["as_of"] - pd.Timedelta(days=30)
    assert 0.5 <= observed.mean() <= 0.85  # many churns are visible through a 30-day gap
    assert 0.55 <= truth["hr_per_sd"] <= 0.65


def test_null_flag_removes_the_association(planted, null):
    lm = _landmark(planted)
    assert _spearman(lm.lessons_first_14d, lm.t_days) > 0.15
    lm0 = _landmark(null)
    assert abs(_spearman(lm0.lessons_first_14d, lm0.t_days)) < 0.05
    assert null.truth["coef_per_unit"] == 0.0 and null.truth["pre_window_churn_share"] == 0.0


def _revenue_after_window(data: SampleData) -> pd.DataFrame:
    e = _with_signup(data)
    off = e.timestamp - e.signup_at
    pay = e[(e.event == "payment") & (off > W) & (off <= W + pd.Timedelta(days=90))]
    s = data.users_summary.set_index("user_id")
    full = s.signup_at + W + pd.Timedelta(days=90) <= data.truth["as_of"]
    out = s.loc[full, ["lessons_first_14d"]].copy()
    out["revenue"] = pay.groupby("user_id").value.sum().reindex(out.index, fill_value=0.0)
    return out


def test_revenue_follows_lessons_only_when_planted(planted, null):
    r = _revenue_after_window(planted)
    assert _spearman(r.lessons_first_14d, r.revenue) > 0.1
    r0 = _revenue_after_window(null)
    assert abs(_spearman(r0.lessons_first_14d, r0.revenue)) < 0.05


def test_logins_climb_over_calendar_time_lessons_do_not(planted):
    s = planted.users_summary
    half = s.signup_at < s.signup_at.median()
    early, late = s[half], s[~half]
    assert late.logins_first_14d.mean() > 1.2 * early.logins_first_14d.mean()
    ratio = late.lessons_first_14d.mean() / early.lessons_first_14d.mean()
    assert 0.85 < ratio < 1.15


def test_users_summary_agrees_with_events_and_truth(planted):
    e = _with_signup(planted)
    win = e[e.timestamp < e.signup_at + W]
    s = planted.users_summary.set_index("user_id")
    truth = planted.truth["users"].set_index("user_id")

    def count(frame: pd.DataFrame, event: str) -> pd.Series:
        n = frame[frame.event == event].groupby("user_id").size()
        return n.reindex(s.index, fill_value=0)

    assert (count(win, "lesson_completed") == s.lessons_first_14d).all()
    assert (count(win, "login") == s.logins_first_14d).all()
    assert (count(win, "quiz_taken") == s.quizzes_first_14d).all()
    assert (count(e, "login") == s.total_logins).all()
    assert (s.lessons_first_14d == truth.lessons_first_14d).all()
    assert ((s.churned == "yes") == truth.churned).all()
    end = truth.churn_at.clip(upper=planted.truth["as_of"])
    tenure = (end - truth.signup_at).dt.total_seconds() / 86400
    assert np.allclose(s.tenure_days, tenure, atol=1e-3)
    # The lifetime total is the trap: it tracks tenure far more than any window count does.
    assert _spearman(s.total_logins, s.tenure_days) >= 0.7
    assert not win.event.eq("payment").any()  # trials: nobody pays inside the window


def test_planted_cox_effects_are_recovered(planted):
    lifelines = pytest.importorskip("lifelines")
    lm = _landmark(planted)
    as_of = planted.truth["as_of"]
    e = _with_signup(planted)
    logins = (
        e[(e.event == "login") & (e.timestamp < e.signup_at + W)]
        .groupby("user_id")
        .size()
        .reindex(lm.user_id, fill_value=0)
        .to_numpy()
    )
    end = lm.churn_at.clip(upper=as_of)
    df = pd.DataFrame(
        {
            "lessons": np.log1p(lm.lessons_first_14d.to_numpy()),
            "logins": np.log1p(logins),
            "T": ((end - lm.signup_at - W).dt.total_seconds() / 86400).to_numpy(),
            "E": (lm.churn_at <= as_of).astype(int).to_numpy(),
        }
    )
    cph = lifelines.CoxPHFitter().fit(df, "T", "E", batch_mode=True)
    coef = cph.params_
    assert coef["lessons"] == pytest.approx(spec.LESSON_COEF, abs=0.08)
    assert abs(coef["logins"]) < 0.1  # no effect once lessons are accounted for


def test_chunks_concatenate_to_the_same_events(monkeypatch):
    monkeypatch.setattr(spec, "BLOCK_USERS", 1000)  # several blocks, chunks straddling them
    whole = generate_product(2500, seed=5, n_noise_events=2).events
    chunks = list(iter_event_chunks(2500, 5, chunk_users=700, n_noise_events=2))
    assert len(chunks) == 4
    users = [set(c.user_id) for c in chunks]
    for i in range(len(users)):
        for j in range(i + 1, len(users)):
            assert not users[i] & users[j]
    assert all(c.timestamp.is_monotonic_increasing for c in chunks)
    keys = ["timestamp", "user_id", "event", "value"]
    got = pd.concat(chunks).sort_values(keys, kind="stable").reset_index(drop=True)
    want = whole.sort_values(keys, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


def test_noise_events_add_types_and_leave_the_rest_alone():
    base = generate_product(1200, seed=9).events
    noisy = generate_product(1200, seed=9, n_noise_events=3).events
    assert set(noisy.event) - set(base.event) == {"noise_01", "noise_02", "noise_03"}
    rest = noisy[~noisy.event.str.startswith("noise_")].reset_index(drop=True)
    keys = ["timestamp", "user_id", "event"]
    pd.testing.assert_frame_equal(
        rest.sort_values(keys, kind="stable").reset_index(drop=True),
        base.sort_values(keys, kind="stable").reset_index(drop=True),
    )


def test_write_sample_and_cli_round_trip(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    paths = write_sample(tmp_path / "a", n_users=800, seed=2)
    assert set(paths) == {"events", "users", "users_summary", "assignments"}
    data = generate_product(800, seed=2)
    # stored with microsecond timestamps (Spark cannot read nanoseconds); values are identical
    pd.testing.assert_frame_equal(pd.read_parquet(paths["events"]), data.events, check_dtype=False)
    assert pq.read_schema(paths["events"]).field("timestamp").type.unit == "us"
    users = pd.read_csv(paths["users"], parse_dates=["signup_at"])
    pd.testing.assert_frame_equal(users, data.users, check_dtype=False)
    meta = pq.ParquetFile(paths["events"]).metadata.row_group(0).column(2)
    assert meta.compression == "ZSTD" and meta.has_dictionary_page
    assert cli_main(["sample", "--out", str(tmp_path / "b"), "--users", "800", "--seed", "2"]) == 0
    assert (tmp_path / "b" / "events.parquet").read_bytes() == paths["events"].read_bytes()


def test_rejects_signups_past_as_of():
    with pytest.raises(ValueError, match="as_of"):
        generate_product(100, start="2026-03-01", signup_days=60, as_of="2026-03-31")


@pytest.mark.skipif(not (SAMPLE_DIR / "events.parquet").exists(), reason="sample not generated")
def test_committed_sample_is_small_and_big_enough():
    names = ("events.parquet", "users.csv", "users_summary.csv", "assignments.csv")
    files = [SAMPLE_DIR / n for n in names]
    assert sum(f.stat().st_size for f in files) < 10_000_000
    assert len(pd.read_csv(SAMPLE_DIR / "users.csv")) >= 6000
    assert len(pd.read_parquet(SAMPLE_DIR / "events.parquet", columns=["event"])) >= 300_000
