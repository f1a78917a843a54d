"""Chart builders: read `chart.to_dict()` (marks, encodings, titles), never pixels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import Analysis, analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.evidence import charts as ch
from northstar_lab.evidence import labels
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
    return snapshot_mod.charts_from_snapshot(json.loads(json.dumps(snapshot, allow_nan=False)))


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
    assert ci["encoding"]["y"]["sort"] == labels.short_labels(df.sort_values("rank")["label"])
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
    total = pd.DataFrame(rows(spec, spec)).groupby("label")["value"].sum()  # full labels
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
    built = snapshot_mod.charts_from_snapshot(partial)
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
    assert cells["encoding"]["x"]["sort"] == labels.short_labels(list(dict.fromkeys(df["a_label"])))


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


# --------------------------------------------------------------------------------------------
# Readable at 40+ candidates and on a projector
# --------------------------------------------------------------------------------------------


def many_candidates(n: int = 45) -> pd.DataFrame:
    """A forest table of n candidates whose names share long prefixes, as a real log gives."""
    events = ["certificate_downloaded", "lesson_completed_in_mobile_app", "quiz_taken"]
    kinds = ["count", "active days", "≥ 3×", "on ≥ 2 days", "≥ 5×"]
    names = [f"{e}: {k}" for e in events for k in kinds] * 3
    names = [f"{x} (v{i // 15})" if i >= 15 else x for i, x in enumerate(names)][:n]
    rng = np.random.default_rng(1)
    hr = rng.uniform(0.6, 1.1, n)
    return pd.DataFrame(
        {
            "key": [f"k{i}" for i in range(n)], "name": names, "label": names,
            "rank": np.arange(1, n + 1), "hazard_ratio": hr, "hr_ci_low": hr * 0.9,
            "hr_ci_high": hr * 1.1, "noise_level": hr > 1, "q_value": 0.01,
            "window_verifiable": True, "n": 1000, "n_events": 300, "evaluated_on": "all users",
            "score": np.linspace(0.5, 0.0, n), "c_index": 0.6, "c_plus": 0.6, "revenue_rho": 0.1,
        }
    )  # fmt: skip


def row_axis_is_complete(spec: dict, layer: dict, n: int) -> None:
    y = layer["encoding"]["y"]
    assert y["axis"]["labelOverlap"] is False, "every row keeps its label"
    assert len(y["sort"]) == len(set(y["sort"])) == n, "one distinct label per row"
    assert all(len(label) <= labels.LABEL_CHARS + 4 for label in y["sort"])
    assert spec["height"] == {"step": ch.ROW_PX}, "rows are tall enough to read, whatever the n"


def test_forest_and_score_charts_label_every_row_of_45():
    df = many_candidates()
    spec = ch.forest_chart(df).to_dict()
    row_axis_is_complete(spec, with_mark(spec, "rule")[1], len(df))
    tooltip = {t["field"] for t in with_mark(spec, "rule")[1]["encoding"]["tooltip"]}
    assert "name" in tooltip, "the full name is in the tooltip"
    spec = ch.score_chart(df).to_dict()
    row_axis_is_complete(spec, spec, len(df))


def test_titles_and_legends_are_not_cut():
    """Subtitle lines fit a 700-px column; legends stack their entries under the chart."""
    df = many_candidates()
    for chart in (ch.forest_chart(df), ch.score_chart(df)):
        spec = chart.to_dict()
        assert len(spec["title"]["text"]) <= 60
        assert all(len(line) <= ch.SUBTITLE_CHARS for line in spec["title"]["subtitle"])
        for layer in layers(spec):
            for enc in layer["encoding"].values():
                legend = enc.get("legend") if isinstance(enc, dict) else None
                if legend:
                    assert legend["direction"] == "vertical" and legend["labelLimit"] >= 400


def test_revenue_bars_are_told_apart_by_what_differs():
    df = pd.DataFrame(
        {
            "group": ["certificate_downloaded_from_the_mobile_app ≥ 6×",
                      "certificate_downloaded_from_the_mobile_app < 6×"],
            "n": [801, 2907], "mean_revenue": [28.0, 13.8], "ci_low": [25.0, 12.8],
            "ci_high": [31.0, 14.9], "median_revenue": [20.0, 9.0],
        }
    )  # fmt: skip
    spec = ch.revenue_chart(df, "Revenue").to_dict()
    bar = with_mark(spec, "bar")[0]
    assert [r["label"] for r in rows(spec, bar)] == ["≥ 6× (n = 801)", "< 6× (n = 2,907)"]
    assert bar["encoding"]["x"]["title"] == "certificate_downloaded_from_the_mobile_app"
    assert bar["encoding"]["x"]["axis"]["labelOverlap"] is False


def test_heatmap_labels_every_column():
    keys = [f"k{i}" for i in range(11)]
    names = [f"lesson_completed_in_the_first_week: variant {i}" for i in range(11)]
    df = pd.DataFrame(
        [
            {"a": a, "b": b, "a_label": na, "b_label": nb, "rho": 0.5, "abs_rho": 0.5,
             "a_group": "none", "b_group": "none", "same_group": False}
            for a, na in zip(keys, names, strict=True)
            for b, nb in zip(keys, names, strict=True)
        ]
    )  # fmt: skip
    spec = ch.heatmap_chart(df).to_dict()
    cells = layers(spec)[0]
    x, y = cells["encoding"]["x"], cells["encoding"]["y"]
    assert x["axis"]["labelOverlap"] is False and y["axis"]["labelOverlap"] is False
    assert len(set(x["sort"])) == 11 and x["sort"] == y["sort"]
    assert spec["width"] == spec["height"] == {"step": ch.HEATMAP_CELL_PX}, "room for every label"
    assert {t["field"] for t in cells["encoding"]["tooltip"]} >= {"a_label", "b_label"}


def test_threshold_explorer_fits_a_column(an):
    spec = ch.threshold_chart(ev.threshold_explorer(an, LEAD), 14, 90).to_dict()
    assert all(panel["width"] <= 600 for panel in spec["vconcat"])


def test_cohort_chart_has_a_title_and_a_legend_that_fits(an):
    table, summary = ev.cohort_hazard_ratios(an, LEAD)
    spec = ch.cohort_chart(table, summary).to_dict()
    assert spec["title"]["text"] == "Does the metric predict retention in every signup month?"
    assert all(len(line) <= ch.SUBTITLE_CHARS for line in spec["title"]["subtitle"])


def test_chart_from_snapshot_builds_one_chart(snapshot):
    stored = json.loads(json.dumps(snapshot, allow_nan=False))
    km = snapshot_mod.chart_from_snapshot(stored, snapshot_mod.snapshot_key("km", LEAD))
    assert marks(km.to_dict()) == ["area", "line", "rule"]
    assert marks(snapshot_mod.chart_from_snapshot(stored, "score").to_dict()) == ["bar"]
    assert snapshot_mod.chart_from_snapshot(stored, "meta") is None
    assert snapshot_mod.chart_from_snapshot(stored, "no_such_chart") is None
    assert snapshot_mod.chart_from_snapshot(stored, "km") is None, "km needs a candidate"
    meta = snapshot_mod.SnapshotMeta.of(stored)
    assert (meta.window_days, meta.horizon_days, meta.score_weights) == (14, 90, (0.6, 0.4))
    assert snapshot_mod.SnapshotMeta.of({}) == snapshot_mod.SnapshotMeta()
