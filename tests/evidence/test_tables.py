"""The data behind the charts: known answers from lifelines, scipy and hand formulas."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import stats

from northstar_lab.analysis import Analysis, analyse
from northstar_lab.candidates import Candidate
from northstar_lab.data.load import load_inputs
from northstar_lab.evidence import snapshot as snapshot_mod
from northstar_lab.evidence import tables as ev
from northstar_lab.outcomes import Outcomes
from northstar_lab.ranking.population import split_users
from northstar_lab.results import CandidateResult, DataInfo, RankingResult
from northstar_lab.sample import generate_product
from northstar_lab.settings import AnalysisSettings

LEAD = "count:lesson_completed"
#: A few event types (signal, weak, noise) and one baseline keep the fixture to ~2 s.
SETTINGS = AnalysisSettings(
    n_bootstrap=10,
    candidates=(
        "lesson_completed",
        "login",
        "course_browsed",
        "settings_changed",
        "baseline:active_days",
    ),
)
AT_LEAST = "atleast:count:lesson_completed"


@pytest.fixture(scope="module")
def an(tmp_path_factory) -> Analysis:
    s = generate_product(n_users=3000, seed=3)
    path = tmp_path_factory.mktemp("evidence") / "events.parquet"
    s.events.to_parquet(path)
    return analyse(load_inputs(str(path), users=s.users), SETTINGS)


def held_out(an: Analysis) -> np.ndarray:
    """The ranking's held-out users, rebuilt independently of `evidence`."""
    signup = an.frame["signup_sec"].to_numpy()
    return ~split_users(len(an.frame), an.settings.seed, signup, an.settings.threshold_split)


def landmark(an: Analysis, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    oc = an.outcomes
    return oc.duration_since_signup[mask] - oc.window_days, oc.event_all[mask]


def kmf(t, e) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(t, e)


# --------------------------------------------------------------------------------------------
# Retention curves
# --------------------------------------------------------------------------------------------


def test_overall_retention_is_lifelines_km_from_signup(an):
    d, e = an.outcomes.duration_since_signup, an.outcomes.event_all
    ok = d >= 0
    ref = kmf(d[ok], e[ok])
    got = ev.overall_retention(an)
    assert list(got.columns[:6]) == ["time", "survival", "ci_low", "ci_high", "at_risk", "events"]
    assert got.iloc[0][["time", "survival"]].tolist() == [0.0, 1.0]
    at = ref.survival_function_at_times(got["time"].iloc[1:]).to_numpy()
    np.testing.assert_allclose(got["survival"].iloc[1:], at, atol=1e-12)
    assert got["at_risk"].iloc[0] == ok.sum()


@pytest.mark.parametrize("key", [LEAD, AT_LEAST, "baseline:active_days"])
def test_km_by_threshold_equals_lifelines_on_held_out_groups(an, key):
    res = an.ranking.candidate(key)
    k = res.threshold
    base = an.candidate(key.removeprefix("atleast:"))
    mask = an.outcomes.retention_mask & held_out(an)
    t, e = landmark(an, mask)
    above = base.raw[mask] >= k
    got = ev.km_by_threshold(an, key)
    labels = list(dict.fromkeys(got["group"]))
    assert len(labels) == 2 and labels[0].count("≥") == 1 and labels[1].count("<") == 1
    for label, group in zip(labels, (above, ~above), strict=True):
        ref = kmf(t[group], e[group])
        part = got[got["group"] == label].iloc[1:]  # after the (0, 1) start row
        sf = ref.survival_function_.iloc[:, 0]
        np.testing.assert_allclose(part["time"], sf.index, atol=0)
        np.testing.assert_allclose(part["survival"], sf.to_numpy(), atol=1e-9)
        ci = ref.confidence_interval_survival_function_
        np.testing.assert_allclose(part["ci_low"], ci.iloc[:, 0], atol=1e-9)
        np.testing.assert_allclose(part["ci_high"], ci.iloc[:, 1], atol=1e-9)
        np.testing.assert_allclose(part["at_risk"], ref.event_table["at_risk"], atol=0)
        assert part["at_risk"].iloc[0] == group.sum()
    # the same users the ranking's held-out figures count
    figs = res.threshold_figures
    assert above.sum() == figs.n_above and above.size == figs.n_test


def test_at_least_candidate_splits_like_its_base(an):
    pd.testing.assert_frame_equal(ev.km_by_threshold(an, AT_LEAST), ev.km_by_threshold(an, LEAD))
    split = ev.resolve(an, AT_LEAST)
    assert split.held_out_only and set(np.unique(split.modelled)) == {0.0, 1.0}
    assert "≥" in split.above_label and f"{split.k:g}" in split.above_label


def test_no_threshold_gives_empty_frames(an):
    res = an.ranking.candidate(LEAD)
    ranking = dataclasses.replace(an.ranking, candidates=[dataclasses.replace(res, threshold=None)])
    no_k = dataclasses.replace(an, ranking=ranking)
    assert ev.km_by_threshold(no_k, LEAD).empty
    assert ev.revenue_by_group(no_k, LEAD).empty
    assert list(ev.km_by_threshold(no_k, LEAD).columns) == ev.KM_COLUMNS
    # without a threshold, 'reaching' means doing it at all
    weekly, summary = ev.weekly_series(no_k, LEAD)
    assert summary["label"].endswith("> 0") and weekly["share_reaching"].gt(0).all()


# --------------------------------------------------------------------------------------------
# Leaderboard views
# --------------------------------------------------------------------------------------------


def test_forest_table_from_a_stored_ranking(an):
    live = ev.forest_table(an.ranking)
    stored = ev.forest_table(RankingResult.from_dict(json.loads(an.ranking.to_json())))
    pd.testing.assert_frame_equal(live, stored)
    assert live["rank"].tolist() == list(range(1, len(live) + 1))
    lead = an.ranking.leader
    row = live.iloc[0]
    assert row["key"] == lead.key and row["hazard_ratio"] == lead.hazard_ratio
    assert row["hr_ci_low"] < row["hazard_ratio"] < row["hr_ci_high"]
    assert live["noise_level"].tolist() == [c.q_value >= 0.05 for c in an.ranking.candidates]


def test_score_parts_add_up_to_the_ranking_score(an):
    table = ev.score_table(an.ranking)
    np.testing.assert_allclose(
        table["retention_part"] + table["revenue_part"], table["score"], atol=1e-12
    )
    lead = table.iloc[0]
    assert lead["retention_part"] == pytest.approx(0.6 * 2 * (lead["c_index"] - 0.5))
    assert lead["revenue_part"] == pytest.approx(0.4 * max(lead["revenue_rho"], 0))


# --------------------------------------------------------------------------------------------
# Revenue and thresholds
# --------------------------------------------------------------------------------------------


def test_revenue_by_group_matches_held_out_threshold_figures(an):
    got = ev.revenue_by_group(an, LEAD)
    figs = an.ranking.candidate(LEAD).threshold_figures
    assert list(got.columns) == ev.REVENUE_COLUMNS
    above, below = got.iloc[0], got.iloc[1]
    assert above["mean_revenue"] == pytest.approx(figs.revenue_above, rel=1e-12)
    assert below["mean_revenue"] == pytest.approx(figs.revenue_below, rel=1e-12)
    mask = an.outcomes.revenue_mask & held_out(an)
    assert got["n"].sum() == mask.sum()
    y = an.outcomes.revenue[mask][an.candidate(LEAD).raw[mask] >= figs.k]
    half = 1.959963984540054 * y.std(ddof=1) / np.sqrt(y.size)
    assert above["ci_high"] - above["mean_revenue"] == pytest.approx(half, rel=1e-9)
    assert above["median_revenue"] == np.median(y)


def test_revenue_by_group_is_empty_without_revenue(an):
    no_rev = dataclasses.replace(an, outcomes=dataclasses.replace(an.outcomes, revenue=None))
    got = ev.revenue_by_group(no_rev, LEAD)
    assert got.empty and list(got.columns) == ev.REVENUE_COLUMNS


def test_threshold_explorer_equals_lifelines_and_held_out_figures(an):
    horizon = an.settings.horizon_days
    raw = an.candidate(LEAD).raw
    figs = an.ranking.candidate(LEAD).threshold_figures
    every = ev.threshold_explorer(an, LEAD)
    assert every["chosen"].sum() == 1
    chosen = every[every["chosen"]].iloc[0]
    assert chosen["k"] == figs.k
    rest = every[~every["chosen"]]
    assert rest["share"].between(0.1, 0.9).all()
    # all landmark users: a direct lifelines KM on the same users
    mask = an.outcomes.retention_mask
    t, e = landmark(an, mask)
    up = raw[mask] >= chosen["k"]
    s_up = kmf(t[up], e[up]).survival_function_at_times(horizon).iloc[0]
    s_down = kmf(t[~up], e[~up]).survival_function_at_times(horizon).iloc[0]
    assert chosen["retention_above"] == pytest.approx(s_up, abs=1e-12)
    assert chosen["retention_below"] == pytest.approx(s_down, abs=1e-12)
    assert chosen["share"] == pytest.approx(up.mean())
    # held-out users: the very figures the leaderboard reports for the chosen k
    held = ev.threshold_explorer(an, LEAD, held_out=True)
    row = held[held["chosen"]].iloc[0]
    assert row["retention_above"] == pytest.approx(figs.retention_above, abs=1e-12)
    assert row["retention_below"] == pytest.approx(figs.retention_below, abs=1e-12)
    assert row["difference"] == pytest.approx(figs.retention_difference, abs=1e-12)
    assert row["share"] == pytest.approx(figs.share_above, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Cohorts and segments
# --------------------------------------------------------------------------------------------


def test_cohort_pooling_is_the_inverse_variance_formula(an):
    table, summary = ev.cohort_hazard_ratios(an, LEAD)
    assert list(table.columns) == ev.COHORT_COLUMNS
    assert table["cohort"].str.match(r"^\d{4}-\d{2}$").all()
    inc = table[table["included"]]
    assert (inc["events"] >= 20).all() and summary["n_cohorts"] == len(inc) >= 3
    b, se = inc["log_hr"].to_numpy(), inc["se"].to_numpy()
    w = 1 / se**2
    pooled = (w * b).sum() / w.sum()
    q = (w * (b - pooled) ** 2).sum()
    assert summary["pooled_log_hr"] == pytest.approx(pooled, rel=1e-12)
    assert summary["pooled_se"] == pytest.approx(w.sum() ** -0.5, rel=1e-12)
    assert summary["i2"] == pytest.approx(max(0.0, (q - (len(b) - 1)) / q), abs=1e-12)
    assert summary["same_sign_share"] == pytest.approx(np.mean(np.sign(b) == np.sign(pooled)))
    # per SD on one scale: the pooled HR is close to the leaderboard's whole-sample HR
    assert summary["pooled_hr"] == pytest.approx(an.ranking.candidate(LEAD).hazard_ratio, rel=0.05)
    assert table["n"].sum() == an.outcomes.n_users


def test_cohort_log_hr_equals_lifelines_per_sd(an):
    table, _ = ev.cohort_hazard_ratios(an, LEAD, by="plan")
    assert set(table["cohort"]) == {"free", "pro", "team"}
    mask = an.outcomes.retention_mask
    x = an.candidate(LEAD).modelled[mask]
    z = (x - x.mean()) / x.std(ddof=1)
    t, e = landmark(an, mask)
    pro = an.frame["plan"].to_numpy()[mask] == "pro"
    df = pd.DataFrame({"z": z[pro], "T": t[pro], "E": e[pro]})
    cph = CoxPHFitter().fit(df, "T", "E", batch_mode=True)
    row = table.set_index("cohort").loc["pro"]
    # lifelines stops Newton-Raphson earlier than survival.cox_univariate: METHODS §3 asks 1e-4
    assert row["log_hr"] == pytest.approx(cph.params_["z"], abs=1e-4)
    assert row["se"] == pytest.approx(cph.standard_errors_["z"], abs=1e-4)
    assert row["events"] == e[pro].sum()


def _planted(effects: list[float], n: int = 800, seed: int = 1) -> Analysis:
    """A tiny analysis: one count metric with log-HR effects[i] per log1p(count) in segment i.

    A repeated effect reuses the same random draws, so those segments hold identical data.
    """
    blocks = []
    for i, beta in enumerate(effects):
        rng = np.random.default_rng(seed + effects.index(beta))
        x = rng.poisson(3.0, n).astype(float)
        t = np.ceil(rng.exponential(60.0 / np.exp(beta * np.log1p(x))))
        e = (t <= 200).astype(float)
        blocks.append(pd.DataFrame({"seg": f"s{i}", "x": x, "t": np.minimum(t, 200.0), "e": e}))
    df = pd.concat(blocks, ignore_index=True)
    oc = Outcomes(
        duration_since_signup=df["t"].to_numpy() + 14,
        event_all=df["e"].to_numpy(),
        retention_mask=np.ones(len(df), bool),
        revenue=None,
        revenue_mask=np.zeros(len(df), bool),
        window_days=14,
        churn_source="planted",
        revenue_source=None,
        excluded={},
    )
    name = "x: count in first 14 days"
    cand = Candidate("count:x", name, "count", "x", None, "log1p", df["x"].to_numpy())
    res = CandidateResult("count:x", cand.name, "count", "x", None, "log1p", rank=1, threshold=3.0)
    ranking = RankingResult(len(df), int(df["e"].sum()), {}, AnalysisSettings(), DataInfo(), [res])
    frame = df[["seg"]].assign(user_id=np.arange(len(df)))
    return Analysis(frame, oc, [cand], ranking, AnalysisSettings(), None, np.zeros(len(df), bool))


def test_identical_segments_have_no_heterogeneity():
    table, summary = ev.cohort_hazard_ratios(_planted([-0.5, -0.5, -0.5]), "count:x", by="seg")
    assert table["log_hr"].nunique() == 1 and table["included"].all()
    assert summary["i2"] == 0.0
    assert summary["pooled_log_hr"] == pytest.approx(table["log_hr"].iloc[0], rel=1e-12)
    assert summary["same_sign_share"] == 1.0 and not summary["sign_flip"]


def test_opposite_segments_are_heterogeneous_and_flip_sign():
    table, summary = ev.cohort_hazard_ratios(_planted([-0.8, 0.8, -0.8]), "count:x", by="seg")
    assert summary["i2"] > 0.9
    assert summary["same_sign_share"] == pytest.approx(2 / 3)
    assert summary["sign_flip"]
    assert table.set_index("cohort").loc["s1", "ci_low"] > 1


def test_cohorts_with_few_events_are_skipped_and_said_so():
    table, summary = ev.cohort_hazard_ratios(
        _planted([-0.5, 0.0]), "count:x", by="seg", min_events=10_000
    )
    assert not table["included"].any() and summary["n_cohorts"] == 0
    assert summary["n_skipped"] == 2 and table["note"].str.contains("fewer than").all()
    assert np.isnan(summary["pooled_hr"]) and not summary["sign_flip"]


def test_pool_inverse_variance_by_hand():
    got = ev.pool_inverse_variance(np.array([-0.2, -0.4]), np.array([0.1, 0.2]))
    # w = 100, 25: pooled = (−20 − 10)/125 = −0.24; Q = 100·0.04² + 25·0.16² = 0.8
    assert got["pooled_log_hr"] == pytest.approx(-0.24)
    assert got["pooled_se"] == pytest.approx(125**-0.5)
    assert got["q"] == pytest.approx(0.8)
    assert got["i2"] == 0.0  # Q < df: no spread beyond chance
    far = ev.pool_inverse_variance(np.array([-0.5, 0.5]), np.array([0.1, 0.1]))
    assert far["q"] == pytest.approx(50.0) and far["i2"] == pytest.approx(49 / 50)


# --------------------------------------------------------------------------------------------
# Weekly series, correlation, snapshot
# --------------------------------------------------------------------------------------------


def test_weekly_series_by_hand(an):
    weekly, summary = ev.weekly_series(an, LEAD)
    k = an.ranking.candidate(LEAD).threshold
    f = an.frame[an.frame["a_days"] >= an.settings.window_days]
    day = pd.to_datetime(f["signup_sec"], unit="s").dt.normalize()
    monday = day - pd.to_timedelta(day.dt.dayofweek, unit="D")
    raw = an.candidate(LEAD).raw[f.index]
    hand = pd.DataFrame({"w": monday.to_numpy(), "r": raw >= k, "v": raw}).groupby("w")
    np.testing.assert_array_equal(weekly["week_start"], hand.size().index)
    np.testing.assert_array_equal(weekly["new_users"], hand.size())
    np.testing.assert_allclose(weekly["share_reaching"], hand["r"].mean(), atol=1e-15)
    np.testing.assert_allclose(weekly["mean_value"], hand["v"].mean(), atol=1e-12)
    used = weekly[weekly["new_users"] >= 30]["share_reaching"]
    assert summary["n_weeks"] == len(used) > 10
    assert summary["cv"] == pytest.approx(used.std(ddof=1) / used.mean(), rel=1e-12)
    assert 0 < summary["sampling_cv"] < 1


def test_correlation_is_spearman_and_symmetric(an):
    keys = [c.key for c in an.ranking.candidates[:8]]
    assert AT_LEAST in keys
    long = ev.correlation_long(an, keys)
    mat = long.pivot(index="a", columns="b", values="rho").loc[keys, keys].to_numpy()
    np.testing.assert_array_equal(mat, mat.T)
    np.testing.assert_array_equal(np.diag(mat), 1.0)
    values = np.column_stack([ev.resolve(an, k).modelled[an.outcomes.retention_mask] for k in keys])
    np.testing.assert_allclose(mat, stats.spearmanr(values).statistic, atol=1e-12)
    groups = {k: g for k, g in zip(long["a"], long["a_group"], strict=True)}
    for gid, members in enumerate(an.ranking.redundancy_groups, start=1):
        for m in set(members) & set(keys):
            assert groups[m] == f"group {gid}"
    assert long[long["same_group"]]["abs_rho"].max() <= 1.0


def test_snapshot_is_json_and_complete(an):
    keys = [LEAD, "count:login"]
    snap = snapshot_mod.snapshot_charts(an, keys)
    back = json.loads(json.dumps(snap, allow_nan=False))
    assert back == snap
    assert back["meta"][0]["keys"] == keys
    assert snapshot_mod.snapshot_charts(an, [LEAD, "not a candidate", LEAD])["meta"][0]["keys"] == [
        LEAD
    ]
    for chart in ("km", "revenue", "threshold", "cohorts", "cohort_summary", "weekly"):
        for key in keys:
            assert back[snapshot_mod.snapshot_key(chart, key)], (chart, key)
    assert len(back["forest"]) == len(an.ranking.candidates)
    frames = snapshot_mod.snapshot_frames(back)
    km = frames[snapshot_mod.snapshot_key("km", LEAD)]
    np.testing.assert_allclose(km["survival"], ev.km_by_threshold(an, LEAD)["survival"], atol=0)
