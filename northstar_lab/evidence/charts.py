"""Altair chart builders: from the DataFrames of `evidence` to charts a product team can read.

Every builder takes a DataFrame (and, where the words need them, the window, the horizon or a
summary dict), never an `Analysis`, so a live analysis and a decision record's stored snapshot
render the same chart (`snapshot.charts_from_snapshot`). Charts set no background and no theme:
the app's light or dark theme applies. Colours are the Okabe–Ito colour-blind-safe palette;
candidates that are not distinguishable from noise are grey. Every candidate row is labelled
(short unique labels, the full name in the tooltip) and charts grow with the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ..ranking.redundancy import REDUNDANT_RHO
from .labels import (
    LABEL_CHARS,
    cohort_subtitle,
    revenue_axis_title,
    short_labels,
    split_shared_words,
    weekly_subtitle,
    wrapped_lines,
)
from .tables import score_parts

AnyChart = alt.Chart | alt.LayerChart | alt.VConcatChart

#: Okabe & Ito (2008): blue, orange, bluish green, reddish purple, sky blue, vermillion, yellow.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
NOISE_GREY = "#9E9E9E"
REFERENCE_GREY = "#888888"
FLIP_COLOUR = "#D55E00"
WIDTH, HEIGHT = 720, 360
#: Width of each of the threshold explorer's stacked panels: with their axes they fit a
#: 700-px column (a concatenated chart cannot stretch to its container).
PANEL_WIDTH = 560
#: One row per candidate this many pixels high: every label readable, on a projector too.
ROW_PX = 22
HEATMAP_CELL_PX = 48
#: Subtitle lines are wrapped at this many characters (~520 px), so no title is cut.
SUBTITLE_CHARS = 100
NOISE_LABEL = "not distinguishable from noise"
SIGNAL_LABEL = "distinguishable from noise (q < 0.05)"


def _setting(df: pd.DataFrame, name: str, given, default):
    """An explicit argument, else what `evidence` attached to the frame, else the default."""
    if given is not None:
        return given
    return df.attrs.get(name, default)


#: Charts fill their column's width; their height is the plot's own (rows by step), so a
#: container that sizes the whole chart (Streamlit's theme says "fit") never squeezes the
#: plot under a long title and legend, and the export draws the same layout.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
PAD = alt.AutoSizeParams(type="pad")  # concatenated and cell-stepped charts: their own size


def _title(text: str, subtitle: str | Sequence[str] = ()) -> alt.TitleParams:
    """A title with its subtitle sentences wrapped into lines of `SUBTITLE_CHARS`."""
    lines = wrapped_lines(subtitle, SUBTITLE_CHARS)
    return alt.TitleParams(text=text, subtitle=lines or alt.Undefined, anchor="start")


def _bottom_legend(**kw) -> alt.Legend:
    """A legend under the chart, one entry per line, so long entries are never cut."""
    return alt.Legend(orient="bottom", direction="vertical", labelLimit=480, **kw)


def _row_axis() -> alt.Axis:
    """A candidate axis that labels every row."""
    return alt.Axis(labelLimit=260, labelOverlap=False, labelFontSize=11)


def _empty(title: str, message: str) -> alt.Chart:
    """A titled placeholder, so a page or export never breaks on a missing table."""
    return (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(size=14)
        .encode(text="message:N")
        .properties(title=_title(title), width=WIDTH, height=80, autosize=FIT_WIDTH)
    )


def _row_step() -> alt.Step:
    """`ROW_PX` per candidate row: the plot grows with the data, and a container that sizes
    the whole chart (Streamlit) cannot squeeze the rows under the title and legend."""
    return alt.Step(ROW_PX)


def _pct(field: str, title: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:Q", title=title, format=".1%")


def _group_colour(groups: list[str]) -> alt.Scale:
    return alt.Scale(domain=groups, range=PALETTE[: max(len(groups), 1)])


# --------------------------------------------------------------------------------------------
# Retention curves
# --------------------------------------------------------------------------------------------


def _km_layers(df: pd.DataFrame, x_title: str, colour: alt.Color | None) -> list[alt.Chart]:
    base = alt.Chart(df).encode(
        x=alt.X("time:Q", title=x_title, scale=alt.Scale(nice=False)),
    )
    extra = {"color": colour} if colour is not None else {}
    tooltip = [
        *([alt.Tooltip("group:N", title="Users")] if colour is not None else []),
        alt.Tooltip("time:Q", title=x_title, format=".0f"),
        _pct("survival", "Still active"),
        _pct("ci_low", "95% CI from"),
        _pct("ci_high", "95% CI to"),
        alt.Tooltip("at_risk:Q", title="Users still observed", format=",.0f"),
    ]
    band = base.mark_area(opacity=0.2, interpolate="step-after").encode(
        y=alt.Y("ci_low:Q"), y2="ci_high:Q", **extra
    )
    line = base.mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        y=alt.Y(
            "survival:Q",
            title="Share of users still active",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=tooltip,
        **extra,
    )
    return [band, line]


def overall_retention_chart(df: pd.DataFrame) -> AnyChart:
    """Kaplan–Meier retention of all users since signup, with its 95% band."""
    title = "Retention of all users since signup"
    if df.empty:
        return _empty(title, "No users with follow-up.")
    n = int(df["at_risk"].iloc[0])
    events = int(df["events"].sum()) if "events" in df else None
    sub = f"Kaplan–Meier estimate with 95% confidence band; {n:,} users"
    sub += f", {events:,} churned" if events is not None else ""
    return alt.layer(*_km_layers(df, "Days since signup", None)).properties(
        title=_title(title, sub), width=WIDTH, height=HEIGHT, autosize=FIT_WIDTH
    )


def km_chart(
    df: pd.DataFrame, window_days: int | None = None, horizon_days: int | None = None
) -> AnyChart:
    """Retention after day W of held-out users who reached the threshold vs those who did not.

    window_days / horizon_days default to the frame's `attrs` (set by `evidence`), else 14 / 90.
    """
    w = _setting(df, "window_days", window_days, 14)
    horizon_days = _setting(df, "horizon_days", horizon_days, 90)
    title = f"Retention after day {w}: users who reached the threshold vs not"
    if df.empty:
        return _empty(title, "No threshold was chosen for this metric.")
    groups = list(dict.fromkeys(df["group"]))
    colour = alt.Color("group:N", title="Users", scale=_group_colour(groups), sort=groups)
    rule = (
        alt.Chart(pd.DataFrame({"time": [float(horizon_days)]}))
        .mark_rule(strokeDash=[4, 4], color=REFERENCE_GREY)
        .encode(x="time:Q", tooltip=[alt.Tooltip("time:Q", title=f"Read at day (after day {w})")])
    )
    sub = [
        f"Held-out users (the threshold was chosen on the other half); Kaplan–Meier with 95% "
        f"bands; dashed line: day {horizon_days} after day {w}.",
        "Users choose to cross a threshold: it predicts retention, it is not a proven lever.",
    ]
    return alt.layer(*_km_layers(df, f"Days since day {w}", colour), rule).properties(
        title=_title(title, sub), width=WIDTH, height=HEIGHT, autosize=FIT_WIDTH
    )


# --------------------------------------------------------------------------------------------
# Leaderboard views
# --------------------------------------------------------------------------------------------


def _evidence_colour() -> alt.Color:
    return alt.Color(
        "evidence:N",
        title=None,
        scale=alt.Scale(domain=[SIGNAL_LABEL, NOISE_LABEL], range=[PALETTE[0], NOISE_GREY]),
        legend=_bottom_legend(),
    )


def _by_rank_labels(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The candidates in rank order with a short unique `short` label each (`short_labels`
    of the table's `label`), and those labels in rank order for the axis."""
    df = df.sort_values("rank", kind="stable", ignore_index=True)
    df = df.assign(short=short_labels(df["label"]))
    return df, list(df["short"])


def _log_scale() -> alt.Scale:
    """Log scale fitted to the data (Vega's 'nice' log domain would span whole decades)."""
    return alt.Scale(type="log", zero=False, nice=False, padding=12)


def forest_chart(df: pd.DataFrame) -> AnyChart:
    """Hazard ratio of churn per SD of each candidate with its 95% CI, in rank order."""
    title = "Which early behaviours predict staying?"
    df = df[np.isfinite(df["hazard_ratio"].astype(float))] if not df.empty else df
    if df.empty:
        return _empty(title, "No candidate has a hazard ratio.")
    df = df.assign(evidence=np.where(df["noise_level"].astype(bool), NOISE_LABEL, SIGNAL_LABEL))
    df, order = _by_rank_labels(df)
    y = alt.Y("short:N", title=None, sort=order, axis=_row_axis())
    x_title = "Hazard ratio per SD (log scale; below 1 = users stay longer)"
    base = alt.Chart(df).encode(y=y, color=_evidence_colour())
    tooltip = [
        alt.Tooltip("name:N", title="Metric"),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("hazard_ratio:Q", title="Hazard ratio per SD", format=".2f"),
        alt.Tooltip("hr_ci_low:Q", title="95% CI from", format=".2f"),
        alt.Tooltip("hr_ci_high:Q", title="95% CI to", format=".2f"),
        alt.Tooltip("q_value:Q", title="q-value (false discovery)", format=".2g"),
        alt.Tooltip("n:Q", title="Users", format=","),
        alt.Tooltip("n_events:Q", title="Churn events", format=","),
        alt.Tooltip("evaluated_on:N", title="Measured on"),
        alt.Tooltip("window_verifiable:N", title="Window verifiable"),
    ]
    ci = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("hr_ci_low:Q", title=x_title, scale=_log_scale()),
        x2="hr_ci_high:Q",
        tooltip=tooltip,
    )
    point = base.mark_point(filled=True, size=70).encode(x="hazard_ratio:Q", tooltip=tooltip)
    one = (
        alt.Chart(pd.DataFrame({"hr": [1.0]}))
        .mark_rule(strokeDash=[4, 4], color=REFERENCE_GREY)
        .encode(x="hr:Q")
    )
    sub = [
        "Hazard ratio of churn per standard deviation more of each metric, in rank order.",
        "Each metric counts behaviour in a user's first days; hazard = risk of churning later.",
        "Lines: 95% confidence intervals. Grey: not distinguishable from noise (q ≥ 0.05). "
        "'(window ?)': users-table column, window not verifiable.",
    ]
    return alt.layer(one, ci, point).properties(
        title=_title(title, sub), width=WIDTH, height=_row_step(), autosize=FIT_WIDTH
    )


def score_chart(df: pd.DataFrame, weights: tuple[float, float] | None = None) -> AnyChart:
    """How each candidate's composite score splits into a retention part and a revenue part.

    df: `evidence.forest_table` (the parts are computed with `weights`, default 0.6 / 0.4) or
    `evidence.score_table` (parts already there; `weights` recomputes them if given).
    """
    title = "How each candidate's score is built"
    if df.empty:
        return _empty(title, "No ranked candidates.")
    if weights is not None or "retention_part" not in df:
        df = score_parts(df, weights if weights is not None else (0.6, 0.4))
    w_ret, w_rev = float(df["w_retention"].iloc[0]), float(df["w_revenue"].iloc[0])
    ret_label = f"Retention strength 2·(C − 0.5) × {w_ret:.2g}"
    rev_label = f"Revenue strength max(ρ, 0) × {w_rev:.2g}"
    df, order = _by_rank_labels(df)
    long = df.melt(
        id_vars=["short", "label", "name", "rank", "score", "c_index", "revenue_rho"]
        + ["noise_level"],
        value_vars=["retention_part", "revenue_part"],
        var_name="part",
        value_name="value",
    )
    long["part"] = long["part"].map({"retention_part": ret_label, "revenue_part": rev_label})
    long["evidence"] = np.where(long["noise_level"].astype(bool), NOISE_LABEL, SIGNAL_LABEL)
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("short:N", title=None, sort=order, axis=_row_axis()),
            x=alt.X(
                "value:Q",
                title="Composite score (0 = no signal)",
                stack="zero",
                axis=alt.Axis(format=".2f", tickCount=8),
            ),
            color=alt.Color(
                "part:N",
                title="Part of the score",
                scale=alt.Scale(domain=[ret_label, rev_label], range=PALETTE[:2]),
                legend=_bottom_legend(),
            ),
            opacity=alt.Opacity(
                "evidence:N",
                title=None,
                scale=alt.Scale(domain=[SIGNAL_LABEL, NOISE_LABEL], range=[1.0, 0.3]),
                legend=_bottom_legend(),
            ),
            order=alt.Order("part:N", sort="ascending"),
            tooltip=[
                alt.Tooltip("name:N", title="Metric"),
                alt.Tooltip("rank:Q", title="Rank"),
                alt.Tooltip("part:N", title="Part"),
                alt.Tooltip("value:Q", title="Points", format=".3f"),
                alt.Tooltip("score:Q", title="Total score", format=".3f"),
                alt.Tooltip("c_index:Q", title="Concordance C", format=".3f"),
                alt.Tooltip("revenue_rho:Q", title="Spearman ρ with revenue", format=".2f"),
            ],
        )
    )
    sub = [
        f"Score = {w_ret:.0%} × retention strength + {w_rev:.0%} × revenue strength "
        "(a metric without a revenue ρ scores on retention alone).",
        "Faded: not distinguishable from noise (q ≥ 0.05).",
    ]
    return bars.properties(
        title=_title(title, sub), width=WIDTH, height=_row_step(), autosize=FIT_WIDTH
    )


# --------------------------------------------------------------------------------------------
# Revenue and thresholds
# --------------------------------------------------------------------------------------------


def revenue_chart(
    df: pd.DataFrame,
    axis_title: str | None = None,
    window_days: int | None = None,
    horizon_days: int | None = None,
) -> AnyChart:
    """Mean revenue per user (95% CI) of held-out users who reached the threshold vs not.

    axis_title defaults to `revenue_axis_title` of the frame's `attrs` (set by `evidence`).
    """
    title = "Revenue per user: reached the threshold vs not"
    if df.empty:
        return _empty(title, "No revenue outcome (or no threshold) for this metric.")
    if axis_title is None:
        w = _setting(df, "window_days", window_days, 14)
        h = _setting(df, "horizon_days", horizon_days, 90)
        axis_title = revenue_axis_title(df.attrs.get("revenue_source"), w, h)
    groups = list(df["group"])
    metric, parts = split_shared_words(groups)
    labels = [f"{p} (n = {n:,})" for p, n in zip(parts, df["n"], strict=True)]
    df = df.assign(label=short_labels(labels, limit=3 * LABEL_CHARS))
    x_axis = alt.Axis(labelAngle=0, labelLimit=360, labelOverlap=False, labelFontSize=12)
    base = alt.Chart(df).encode(
        x=alt.X("label:N", title=metric or None, sort=list(df["label"]), axis=x_axis),
        tooltip=[
            alt.Tooltip("group:N", title="Users"),
            alt.Tooltip("n:Q", title="Users", format=","),
            alt.Tooltip("mean_revenue:Q", title="Mean revenue per user", format=",.2f"),
            alt.Tooltip("ci_low:Q", title="95% CI from", format=",.2f"),
            alt.Tooltip("ci_high:Q", title="95% CI to", format=",.2f"),
            alt.Tooltip("median_revenue:Q", title="Median revenue per user", format=",.2f"),
        ],
    )
    bars = base.mark_bar(size=80).encode(
        y=alt.Y("mean_revenue:Q", title=axis_title),
        color=alt.Color("group:N", scale=_group_colour(groups), legend=None),
    )
    ci = base.mark_rule(strokeWidth=2, color=REFERENCE_GREY).encode(y="ci_low:Q", y2="ci_high:Q")
    sub = "Held-out users with full follow-up; bars: mean with 95% confidence interval."
    return alt.layer(bars, ci).properties(
        title=_title(title, sub), width=WIDTH, height=HEIGHT, autosize=FIT_WIDTH
    )


def threshold_chart(
    df: pd.DataFrame, window_days: int | None = None, horizon_days: int | None = None
) -> AnyChart:
    """Retention gain and share of users reaching each k; the chosen k is marked."""
    title = "Where is the 'aha moment'?"
    if df.empty:
        return _empty(title, "The metric has no threshold to explore.")
    w = _setting(df, "window_days", window_days, 14)
    h = _setting(df, "horizon_days", horizon_days, 90)
    whole = bool(np.all(np.asarray(df["k"], float) % 1 == 0))
    x = alt.X(
        "k:Q",
        title=f"Threshold k: at least this much in the first {w} days",
        axis=alt.Axis(tickMinStep=1) if whole else alt.Axis(),
    )
    tooltip = [
        alt.Tooltip("k:Q", title="k"),
        _pct("share", "Users reaching k"),
        _pct("retention_above", f"Still active at day {h} after day {w}, reached k"),
        _pct("retention_below", f"Still active at day {h} after day {w}, below k"),
        alt.Tooltip("difference:Q", title="Difference (points)", format="+.1%"),
        alt.Tooltip("chosen:N", title="Chosen k"),
    ]
    base = alt.Chart(df).encode(x=x, tooltip=tooltip)
    chosen = alt.Chart(df).transform_filter("datum.chosen")
    marker = chosen.mark_rule(strokeDash=[4, 4], color=FLIP_COLOUR).encode(x=x)

    def panel(field: str, y_title: str, colour: str) -> alt.LayerChart:
        y = alt.Y(f"{field}:Q", title=y_title, axis=alt.Axis(format="%"))
        line = base.mark_line(point=alt.OverlayMarkDef(color=colour), color=colour).encode(y=y)
        star = chosen.mark_point(size=160, filled=True, color=FLIP_COLOUR, shape="diamond")
        return alt.layer(line, marker, star.encode(x=x, y=y, tooltip=tooltip)).properties(
            width=PANEL_WIDTH, height=HEIGHT // 2
        )

    top = panel("difference", f"Retention gain at day {h} (points)", PALETTE[0])
    bottom = panel("share", "Share of users reaching k", PALETTE[2])
    sub = [
        "Retention gain and reach for every threshold k.",
        f"Gain: share still active {h} days after day {w} among users reaching k, minus "
        "among the rest. Diamond: the chosen k (the knee, chosen on training users).",
        "All landmark users; k leaving 10–90% of users on each side.",
    ]
    return alt.vconcat(top, bottom).properties(title=_title(title, sub), autosize=PAD)


# --------------------------------------------------------------------------------------------
# Stability and sensitivity
# --------------------------------------------------------------------------------------------


def cohort_chart(df: pd.DataFrame, summary: dict) -> AnyChart:
    """Hazard ratio per SD in each cohort (95% CI) with the pooled value and its band."""
    by = summary.get("by", "signup_month")
    what = "signup month" if by == "signup_month" else f"{by} segment"
    title = f"Does the metric predict retention in every {what}?"
    inc = df[df["included"].astype(bool)] if not df.empty else df
    if inc.empty:
        return _empty(title, f"No {what} has enough churn events to estimate.")
    pooled = float(summary["pooled_log_hr"])
    same = np.sign(inc["log_hr"].astype(float)) == np.sign(pooled)
    inc = inc.assign(direction=np.where(same, "same direction as pooled", "opposite direction"))
    y_scale = _log_scale()
    x = alt.X("cohort:O", title=what.capitalize(), axis=alt.Axis(labelAngle=-45))
    colour = alt.Color(
        "direction:N",
        title=None,
        scale=alt.Scale(
            domain=["same direction as pooled", "opposite direction"],
            range=[PALETTE[0], FLIP_COLOUR],
        ),
        legend=_bottom_legend(),
    )
    tooltip = [
        alt.Tooltip("cohort:N", title=what.capitalize()),
        alt.Tooltip("n:Q", title="Users", format=","),
        alt.Tooltip("events:Q", title="Churn events", format=","),
        alt.Tooltip("hazard_ratio:Q", title="Hazard ratio per SD", format=".2f"),
        alt.Tooltip("ci_low:Q", title="95% CI from", format=".2f"),
        alt.Tooltip("ci_high:Q", title="95% CI to", format=".2f"),
    ]
    base = alt.Chart(inc).encode(x=x, color=colour, tooltip=tooltip)
    ci = base.mark_rule(strokeWidth=2).encode(
        y=alt.Y("ci_low:Q", title="Hazard ratio of churn per SD (log scale)", scale=y_scale),
        y2="ci_high:Q",
    )
    point = base.mark_point(filled=True, size=70).encode(y="hazard_ratio:Q")
    ref = pd.DataFrame(
        {
            "hr": [summary["pooled_hr"], 1.0],
            "lo": [summary["pooled_ci_low"], None],
            "hi": [summary["pooled_ci_high"], None],
            "line": ["pooled", "no association"],
        }
    )
    lines = (
        alt.Chart(ref)
        .mark_rule(color=REFERENCE_GREY)
        .encode(
            y="hr:Q",
            strokeDash=alt.StrokeDash(
                "line:N",
                title=None,
                scale=alt.Scale(domain=["pooled", "no association"], range=[[1, 0], [4, 4]]),
                legend=_bottom_legend(),
            ),
            tooltip=[alt.Tooltip("line:N", title="Line"), alt.Tooltip("hr:Q", format=".2f")],
        )
    )
    band = (
        alt.Chart(ref)
        .transform_filter("datum.lo != null")
        .mark_rect(opacity=0.15, color=REFERENCE_GREY)
        .encode(y="lo:Q", y2="hi:Q")
    )
    return alt.layer(band, lines, ci, point).properties(
        title=_title(title, cohort_subtitle(summary)),
        width=WIDTH,
        height=HEIGHT,
        autosize=FIT_WIDTH,
    )


def weekly_chart(df: pd.DataFrame, summary: dict, window_days: int | None = None) -> AnyChart:
    """Share of each signup week's new users reaching the threshold, week by week."""
    window_days = _setting(df, "window_days", window_days, 14)
    label = summary.get("label", "the threshold")
    title = f"Share of each week's new users reaching {label} in their first {window_days} days"
    if df.empty:
        return _empty(title, "No signup weeks with a complete window.")
    df = df.assign(
        week=np.where(df["in_cv"].astype(bool), "enough users", "few users (not in the CV)")
    )
    chart = (
        alt.Chart(df)
        .mark_line(point=True, color=PALETTE[0])
        .encode(
            x=alt.X("week_start:T", title="Signup week"),
            y=alt.Y("share_reaching:Q", title="Share of new users", axis=alt.Axis(format="%")),
            opacity=alt.Opacity(
                "week:N",
                title=None,
                scale=alt.Scale(
                    domain=["enough users", "few users (not in the CV)"], range=[1.0, 0.35]
                ),
                legend=_bottom_legend(),
            ),
            tooltip=[
                alt.Tooltip("week_start:T", title="Week of", format="%d %b %Y"),
                alt.Tooltip("new_users:Q", title="New users", format=","),
                alt.Tooltip("reached:Q", title="Reached", format=","),
                _pct("share_reaching", "Share reaching"),
                alt.Tooltip("mean_value:Q", title="Mean value in window", format=".2f"),
            ],
        )
    )
    sub = weekly_subtitle(summary)
    return chart.properties(
        title=_title(title, sub), width=WIDTH, height=HEIGHT, autosize=FIT_WIDTH
    )


def heatmap_chart(df: pd.DataFrame) -> AnyChart:
    """|Spearman ρ| between candidates, values printed; the ranking's redundancy groups
    (`same_group`) outlined, so the picture and the groups cannot disagree."""
    title = "How similar are the candidates?"
    if df.empty:
        return _empty(title, "No candidates to compare.")
    keys = list(dict.fromkeys(df["a"]))
    first = df.drop_duplicates("a").set_index("a")["a_label"]
    short = dict(zip(keys, short_labels([first[k] for k in keys]), strict=True))
    df = df.assign(a_short=df["a"].map(short), b_short=df["b"].map(short))
    order = list(short.values())
    x_axis = alt.Axis(labelAngle=-45, labelLimit=220, labelOverlap=False, labelFontSize=11)
    base = alt.Chart(df).encode(
        x=alt.X("b_short:N", title=None, sort=order, axis=x_axis),
        y=alt.Y("a_short:N", title=None, sort=order, axis=_row_axis()),
        tooltip=[
            alt.Tooltip("a_label:N", title="Metric"),
            alt.Tooltip("b_label:N", title="vs"),
            alt.Tooltip("rho:Q", title="Spearman ρ", format=".2f"),
            alt.Tooltip("a_group:N", title="Redundancy group (row)"),
            alt.Tooltip("b_group:N", title="Redundancy group (column)"),
        ],
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "abs_rho:Q",
            title="|ρ|",
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
        )
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("rho:Q", format=".2f"),
        color=alt.condition("datum.abs_rho > 0.6", alt.value("white"), alt.value("black")),
    )
    dup = (
        base.transform_filter("datum.same_group && datum.a != datum.b")
        .mark_rect(filled=False, stroke=FLIP_COLOUR, strokeWidth=3)
        .encode()
    )
    sub = [
        "Spearman correlation between candidates, among users in the retention analysis.",
        "Outlined: near-duplicate groups "
        f"(|ρ| ≥ {REDUNDANT_RHO:g}) that measure the same behaviour; keep one per group.",
    ]
    step = alt.Step(HEATMAP_CELL_PX)  # every column wide enough for its label
    return alt.layer(cells, text, dup).properties(
        title=_title(title, sub), width=step, height=step, autosize=PAD
    )
