"""Chart builders: read `chart.to_dict()` (marks, encodings, titles), never pixels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import Analysis, analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.evidence import charts as ch
from northstar_lab.evidence import snapshot as snapshot_mod
from northstar_lab.evidence import tables as ev
from northstar_lab.sample import generate_product
from northstar_lab.settings import AnalysisSettings

LEAD = "count:lesson_completed"
#: A few event types (signal, weak, noise) and one baseline keep the fixture to ~2 s.
SETTINGS = AnalysisSettings(
    n_bootstrap=0,
    candidates=(
        "lesson_completed",
        "login",
        "course_browsed",
        "settings_changed",
        "baseline:active_days",
    ),
)
KEYS = [LEAD, "atleast:count:lesson_completed", "count:login"]


@pytest.fixture(scope="module")
def an(tmp_path_factory) -> Analysis:
    s = generate_product(n_users=2500, seed=5)
    path = tmp_path_factory.mktemp("charts") / "events.parquet"
    s.events.to_parquet(path)
    return analyse(load_inputs(str(path), users=s.users), SETTINGS)


@pytest.fixture(scope="module")
def snapshot(an) -> dict:
    return snapshot_mod.snapshot_charts(an, KEYS)


@pytest.fixture(scope="module")
def stored(snapshot) -> dict:
    """The charts a decision record redraws from its JSON, without the data."""
    return ch.charts_from_snapshot(json.loads(json.dumps(snapshot, allow_nan=False)))


def layers(spec: dict) -> list[dict]:
    """The chart and its layers/panels that draw a mark, depth first."""
    found = [spec] if "mark" in spec else []
    for part in spec.get("layer", []) + spec.get("vconcat", []):
        found += layers(part)
    return found


def mark_type(layer: dict) -> str:
    m = layer["mark"]
    return m["type"] if isinstance(m, dict) else m


def marks(spec: dict) -> list[str]:
    return [mark_type(s) for s in layers(spec)]


def with_mark(spec: dict, mark: str) -> list[dict]:
    return [s for s in layers(spec) if mark_type(s) == mark]


def rows(spec: dict, layer: dict) -> list[dict]:
    """The data rows a layer draws (its own dataset, or the chart's shared one)."""
    return spec["datasets"][layer.get("data", spec.get("data"))["name"]]


def title_text(spec: dict) -> tuple[str, str]:
    t = spec["title"]
    sub = t.get("subtitle", "")
    return t["text"], " ".join(sub) if isinstance(sub, list) else sub


def colours(spec) -> set[str]:
    """Every literal colour string anywhere in the spec."""
    if isinstance(spec, dict):
        return set().union(*(colours(v) for v in spec.values())) if spec else set()
    if isinstance(spec, list):
        return set().union(*(colours(v) for v in spec)) if spec else set()
    return {spec.upper()} if isinstance(spec, str) and spec.startswith("#") else set()


ALLOWED = {c.upper() for c in [*ch.PALETTE, ch.NOISE_GREY, ch.REFERENCE_GREY, ch.FLIP_COLOUR]}


def check_common(spec: dict) -> None:
    """Titled, themable (no background or theme colours), colour-blind-safe colours only."""
    assert spec["title"]["text"]
    assert "background" not in spec and set(spec.get("config", {})) <= {"view"}
    assert "fill" not in spec.get("config", {}).get("view", {})
    assert colours(spec) <= ALLOWED


# --------------------------------------------------------------------------------------------
# Live and stored evidence draw the same charts
# --------------------------------------------------------------------------------------------


def live_charts(an: Analysis, key: str) -> dict[str, ch.AnyChart]:
    w, h = an.settings.window_days, an.settings.horizon_days
    cohorts, csum = ev.cohort_hazard_ratios(an, key)
    weekly, wsum = ev.weekly_series(an, key)
    rev = ch.revenue_axis_title(an.outcomes.revenue_source, w, h)
    return {
        "overall_retention": ch.overall_retention_chart(ev.overall_retention(an)),
        "forest": ch.forest_chart(ev.forest_table(an.ranking)),
        "score": ch.score_chart(ev.score_table(an.ranking)),
        "correlation": ch.heatmap_chart(ev.correlation_long(an, KEYS)),
        snapshot_mod.snapshot_key("km", key): ch.km_chart(ev.km_by_threshold(an, key), w, h),
        snapshot_mod.snapshot_key("revenue", key): ch.revenue_chart(
            ev.revenue_by_group(an, key), rev
        ),
        snapshot_mod.snapshot_key("threshold", key): ch.threshold_chart(
            ev.threshold_explorer(an, key), w, h
        ),
        snapshot_mod.snapshot_key("cohorts", key): ch.cohort_chart(cohorts, csum),
        snapshot_mod.snapshot_key("weekly", key): ch.weekly_chart(weekly, wsum, w),
    }


@pytest.mark.parametrize("key", KEYS)
def test_stored_snapshot_draws_the_same_charts(an, stored, key):
    assert set(stored) >= {snapshot_mod.snapshot_key(c, k) for c in ("km", "weekly") for k in KEYS}
    for name, chart in live_charts(an, key).items():
        live, back = chart.to_dict(), stored[name].to_dict()
        assert back["datasets"] == live["datasets"], name
        assert back == live, name
        json.dumps(back, allow_nan=False)


# --------------------------------------------------------------------------------------------
# Each chart: marks, encodings, words
# --------------------------------------------------------------------------------------------


def test_overall_retention_chart(an):
    spec = ch.overall_retention_chart(ev.overall_retention(an)).to_dict()
    check_common(spec)
    assert marks(spec) == ["area", "line"]
    line = with_mark(spec, "line")[0]
    assert line["mark"]["interpolate"] == "step-after"
    assert line["encoding"]["x"]["title"] == "Days since signup"
    assert line["encoding"]["y"]["title"] == "Share of users still active"
    assert line["encoding"]["y"]["axis"]["format"] == "%"
    assert {t["field"] for t in line["encoding"]["tooltip"]} >= {"survival", "at_risk"}
    assert f"{an.outcomes.duration_since_signup.size:,} users" in title_text(spec)[1]


def test_km_chart(an):
    df = ev.km_by_threshold(an, LEAD)
    spec = ch.km_chart(df, 14, 90).to_dict()
    check_common(spec)
    assert marks(spec) == ["area", "line", "rule"]
    line = with_mark(spec, "line")[0]
    assert line["encoding"]["x"]["title"] == "Days since day 14"
    assert line["encoding"]["color"]["field"] == "group"
    groups = list(dict.fromkeys(df["group"]))
    assert line["encoding"]["color"]["scale"]["domain"] == groups
    assert line["encoding"]["color"]["scale"]["range"] == ch.PALETTE[:2]
    text, sub = title_text(spec)
    assert "day 14" in text and "Held-out users" in sub and "not a proven lever" in sub


def test_forest_chart_sorted_log_scale_noise_grey(an):
    df = ev.forest_table(an.ranking)
    spec = ch.forest_chart(df).to_dict()
    check_common(spec)
    assert marks(spec) == ["rule", "rule", "point"]
    ci = with_mark(spec, "rule")[1]
    assert ci["encoding"]["x"]["scale"]["type"] == "log"
    assert "Hazard ratio per SD" in ci["encoding"]["x"]["title"]
    assert ci["encoding"]["y"]["sort"] == list(df.sort_values("rank")["label"])
    colour = ci["encoding"]["color"]["scale"]
    assert colour["domain"] == [ch.SIGNAL_LABEL, "not distinguishable from noise"]
    assert colour["range"] == [ch.PALETTE[0], ch.NOISE_GREY]
    assert rows(spec, with_mark(spec, "rule")[0]) == [{"hr": 1.0}]
    noisy = {r["key"] for r in rows(spec, ci) if r["evidence"] == ch.NOISE_LABEL}
    assert noisy == {c.key for c in an.ranking.candidates if c.noise_level}


def test_score_chart_splits_score_with_weights(an):
    df = ev.score_table(an.ranking)
    spec = ch.score_chart(df).to_dict()
    check_common(spec)
    assert marks(spec) == ["bar"]
    enc = spec["encoding"]
    assert enc["x"]["stack"] == "zero" and enc["opacity"]["field"] == "evidence"
    domain = enc["color"]["scale"]["domain"]
    assert domain[0].startswith("Retention strength") and domain[0].endswith("× 0.6")
    assert domain[1].startswith("Revenue strength") and domain[1].endswith("× 0.4")
    total = pd.DataFrame(rows(spec, spec)).groupby("label")["value"].sum()
    np.testing.assert_allclose(total[df["label"]], df["score"], atol=1e-12)
    assert "60% × retention strength + 40% × revenue strength" in title_text(spec)[1]


def test_score_chart_from_the_leaderboard_table_and_weights(an):
    """The Candidates page passes the forest table and the weights; same chart as score_table."""
    weights = an.ranking.settings.score_weights
    from_forest = ch.score_chart(ev.forest_table(an.ranking), weights).to_dict()
    assert from_forest == ch.score_chart(ev.score_table(an.ranking)).to_dict()
    other = ch.score_chart(ev.forest_table(an.ranking), (1.0, 1.0)).to_dict()
    assert "50% × retention strength + 50% × revenue strength" in title_text(other)[1]


def test_words_follow_the_analysis_settings(an):
    """Frames from `evidence` carry the window and horizon, so default calls use the right days."""
    km = ev.km_by_threshold(an, LEAD)
    km.attrs.update(window_days=7, horizon_days=60)
    line = with_mark(ch.km_chart(km).to_dict(), "line")[0]
    assert line["encoding"]["x"]["title"] == "Days since day 7"
    rev = ev.revenue_by_group(an, LEAD)
    rev.attrs.update(window_days=7, horizon_days=60)
    bar = with_mark(ch.revenue_chart(rev).to_dict(), "bar")[0]
    assert bar["encoding"]["y"]["title"] == "Revenue per user in days 7–67 ($)"
    assert with_mark(ch.km_chart(km, 21).to_dict(), "line")[0]["encoding"]["x"]["title"] == (
        "Days since day 21"
    )


def test_partial_snapshot_draws_what_it_can(snapshot):
    """An older record: no meta, ':'-separated names, a table of an unknown kind."""
    partial = {
        "forest": snapshot["forest"],
        f"km:{LEAD}": snapshot[snapshot_mod.snapshot_key("km", LEAD)],
        "gains/x": [{"k": 1}],
    }
    built = ch.charts_from_snapshot(partial)
    assert set(built) == {"forest", "score", f"km:{LEAD}"}
    assert marks(built[f"km:{LEAD}"].to_dict()) == ["area", "line", "rule"]


def test_revenue_chart(an):
    df = ev.revenue_by_group(an, LEAD)
    spec = ch.revenue_chart(df, ch.revenue_axis_title(an.outcomes.revenue_source, 14, 90))
    spec = spec.to_dict()
    check_common(spec)
    assert marks(spec) == ["bar", "rule"]
    bar = with_mark(spec, "bar")[0]
    assert bar["encoding"]["y"]["title"] == "Revenue per user in days 14–104 ($)"
    assert with_mark(spec, "rule")[0]["encoding"]["y2"]["field"] == "ci_high"
    n = df["n"].iloc[0]
    assert rows(spec, bar)[0]["label"].endswith(f"(n = {n:,})")


def test_threshold_chart_marks_chosen_k(an):
    df = ev.threshold_explorer(an, LEAD)
    spec = ch.threshold_chart(df, 14, 90).to_dict()
    check_common(spec)
    assert len(spec["vconcat"]) == 2
    assert marks(spec) == ["line", "rule", "point"] * 2
    top, bottom = spec["vconcat"]
    assert top["layer"][0]["encoding"]["y"]["field"] == "difference"
    assert bottom["layer"][0]["encoding"]["y"]["field"] == "share"
    assert top["layer"][1]["transform"] == [{"filter": "datum.chosen"}]
    assert "k" in top["layer"][0]["encoding"]["x"]["title"]
    assert "day 90" in top["layer"][0]["encoding"]["y"]["title"]


def test_cohort_chart_subtitle_and_pooled_line(an):
    table, summary = ev.cohort_hazard_ratios(an, LEAD)
    spec = ch.cohort_chart(table, summary).to_dict()
    check_common(spec)
    assert marks(spec) == ["rect", "rule", "rule", "point"]
    text, sub = title_text(spec)
    assert "signup month" in text
    assert f"I² = {summary['i2']:.0%}" in sub
    assert f"same direction in {summary['same_sign_share']:.0%}" in sub
    pooled = rows(spec, with_mark(spec, "rule")[0])
    assert pooled[0]["hr"] == pytest.approx(summary["pooled_hr"])
    assert with_mark(spec, "point")[0]["encoding"]["y"]["field"] == "hazard_ratio"


def test_cohort_chart_names_a_sign_flip():
    table = pd.DataFrame(
        {
            "cohort": ["a", "b", "c"], "n": [500] * 3, "events": [300] * 3,
            "log_hr": [-0.5, 0.5, -0.5], "se": [0.1] * 3,
            "hazard_ratio": np.exp([-0.5, 0.5, -0.5]),
            "ci_low": np.exp([-0.7, 0.3, -0.7]), "ci_high": np.exp([-0.3, 0.7, -0.3]),
            "included": [True] * 3, "note": [""] * 3,
        }
    )  # fmt: skip
    summary = ev.pool_inverse_variance(table["log_hr"], table["se"]) | {"by": "plan"}
    spec = ch.cohort_chart(table, summary).to_dict()
    text, sub = title_text(spec)
    assert "plan segment" in text and "sign flip" in sub
    points = rows(spec, with_mark(spec, "point")[0])
    assert {r["direction"] for r in points} == {"same direction as pooled", "opposite direction"}


def test_weekly_chart(an):
    weekly, summary = ev.weekly_series(an, LEAD)
    spec = ch.weekly_chart(weekly, summary, 14).to_dict()
    check_common(spec)
    assert marks(spec) == ["line"]
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["y"]["field"] == "share_reaching"
    text, sub = title_text(spec)
    assert summary["label"] in text
    assert f"coefficient of variation {summary['cv']:.0%}" in sub


def test_heatmap_chart(an):
    df = ev.correlation_long(an, KEYS)
    spec = ch.heatmap_chart(df).to_dict()
    check_common(spec)
    assert marks(spec) == ["rect", "text", "rect"]
    cells, text, dup = layers(spec)
    assert cells["encoding"]["color"]["field"] == "abs_rho"
    assert cells["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert text["encoding"]["text"] == {"field": "rho", "format": ".2f", "type": "quantitative"}
    assert dup["mark"]["filled"] is False and "same_group" in dup["transform"][0]["filter"]
    assert cells["encoding"]["x"]["sort"] == list(dict.fromkeys(df["a_label"]))


@pytest.mark.parametrize(
    "build",
    [
        lambda: ch.overall_retention_chart(pd.DataFrame()),
        lambda: ch.km_chart(pd.DataFrame(columns=ev.KM_COLUMNS)),
        lambda: ch.forest_chart(pd.DataFrame()),
        lambda: ch.score_chart(pd.DataFrame()),
        lambda: ch.revenue_chart(pd.DataFrame(columns=ev.REVENUE_COLUMNS)),
        lambda: ch.threshold_chart(pd.DataFrame()),
        lambda: ch.cohort_chart(pd.DataFrame(), {"by": "signup_month"}),
        lambda: ch.weekly_chart(pd.DataFrame(), {"label": "x ≥ 3×"}),
        lambda: ch.heatmap_chart(pd.DataFrame()),
    ],
)
def test_empty_data_gives_a_titled_placeholder(build):
    spec = build().to_dict()
    assert marks(spec) == ["text"] and spec["title"]["text"]
