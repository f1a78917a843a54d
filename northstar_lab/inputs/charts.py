"""Altair charts of the inputs analysis, built from the rows of an `InputsResult` (or of a
record's `evidence.inputs`), never from the data: a live analysis and a record draw the same.

- `decomposition_chart`: why the North Star moved, week by week (users × per user, LMDI);
- `lag_chart`: does an input move first? corr of weekly changes by lag, with block-bootstrap CIs;
- `experiment_chart`: past experiments, the input's effect against the North Star's;
- `cohort_chart`: the lead in every signup month, with the pooled estimate.

The tree itself is `tree.tree_spec` (a Vega-Lite spec, drawn by `st.vega_lite_chart`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..evidence.charts import PALETTE, REFERENCE_GREY, WIDTH

HEIGHT = 280


def _title(text: str, subtitle: str | list[str] = "") -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle, anchor="start")


def _empty(title: str, message: str) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(size=14)
        .encode(text="message:N")
        .properties(title=_title(title), width=WIDTH, height=60)
    )


def decomposition_chart(weekly: dict, north_star_name: str = "the North Star") -> alt.Chart:
    """Stacked weekly bars: the change from more (or fewer) users doing it and from more per
    user; a dot marks the week's total change (the bars add up to it)."""
    title = "Why did the North Star move? Its weekly change, split into users × per user"
    rows = pd.DataFrame(weekly.get("decomposition") or [])
    if rows.empty:
        return _empty(title, "No weekly decomposition for this North Star.")
    long = rows.melt(
        id_vars=["week", "change"], value_vars=["from_users", "from_per_user"], var_name="part"
    )
    long["part"] = long["part"].map(
        {"from_users": "more or fewer users doing it", "from_per_user": "more or less per user"}
    )
    x = alt.X("week:T", title="week (Monday)")
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("value:Q", title=f"change from the week before ({north_star_name})"),
            color=alt.Color("part:N", title=None, scale=alt.Scale(range=PALETTE[:2])),
            tooltip=["week:T", "part:N", alt.Tooltip("value:Q", format=",.1f")],
        )
    )
    dots = (
        alt.Chart(rows)
        .mark_point(filled=True, color="black", size=18)
        .encode(x=x, y="change:Q", tooltip=["week:T", alt.Tooltip("change:Q", format=",.1f")])
    )
    subtitle = "Breadth × depth: ΔNS = L·Δln(users) + L·Δln(per user), L the logarithmic mean."
    return (bars + dots).properties(title=_title(title, subtitle), width=WIDTH, height=HEIGHT)


def lag_chart(weekly: dict, key: str, name: str = "") -> alt.Chart:
    """Correlation of weekly log-changes, input at week t vs the North Star at t + lag."""
    title = f"Does {name or key} move first? Weekly changes vs the North Star's, by lag"
    lags = pd.DataFrame([r for r in weekly.get("lags") or [] if r.get("key") == key])
    if lags.empty or lags["corr"].isna().all():
        return _empty(title, "Too few whole weeks for a lag profile.")
    x = alt.X("lag:O", title="lag (weeks; > 0: the input moves first)")
    bars = (
        alt.Chart(lags)
        .mark_bar(color=PALETTE[0])
        .encode(
            x=x,
            y=alt.Y("corr:Q", title="correlation", scale=alt.Scale(domain=[-1, 1])),
            tooltip=["lag:O", alt.Tooltip("corr:Q", format="+.2f"), "n_weeks:Q"],
        )
    )
    ci = alt.Chart(lags).mark_rule(color="black").encode(x=x, y="ci_low:Q", y2="ci_high:Q")
    subtitle = "Block-bootstrap 95% CIs. Weekly series share trends and seasons: weak evidence."
    return (bars + ci).properties(title=_title(title, subtitle), width=WIDTH, height=HEIGHT)


def experiment_chart(experiments: dict, key: str, name: str = "") -> alt.Chart:
    """One point per experiment arm: the input's effect (x) against the North Star's (y), with
    95% CIs; a line through them would be the proxy relation the correlation summarises."""
    title = f"Past experiments: did moving {name or key} move the North Star?"
    arms = pd.DataFrame(experiments.get("arms") or [])
    if arms.empty:
        return _empty(title, "No past experiments were given.")
    keys = ["experiment", "variant"]
    x = arms[arms["metric"] == key].set_index(keys)
    y = arms[arms["metric"] == "__ns"].set_index(keys)
    both = x[["effect", "ci_low", "ci_high"]].join(
        y[["effect", "ci_low", "ci_high"]], rsuffix="_ns", how="inner"
    )
    if both.empty:
        return _empty(title, "This input was not measured in the experiments.")
    both = both.reset_index()
    base = alt.Chart(both).encode(
        x=alt.X("effect:Q", title=f"effect on {name or key} (treatment − control)"),
        y=alt.Y("effect_ns:Q", title="effect on the North Star later"),
    )
    points = base.mark_point(filled=True, size=60, color=PALETTE[2]).encode(
        tooltip=["experiment:N", "variant:N", alt.Tooltip("effect:Q", format="+.3f"),
                 alt.Tooltip("effect_ns:Q", format="+.3f")]
    )  # fmt: skip
    xerr = base.mark_rule(color=REFERENCE_GREY).encode(x="ci_low:Q", x2="ci_high:Q")
    yerr = base.mark_rule(color=REFERENCE_GREY).encode(y="ci_low_ns:Q", y2="ci_high_ns:Q")
    labels = base.mark_text(align="left", dx=6, dy=-6, fontSize=10).encode(text="experiment:N")
    subtitle = "Experiments speak about causes: each arm was randomised."
    chart = xerr + yerr + points + labels
    return chart.properties(title=_title(title, subtitle), width=WIDTH, height=HEIGHT)


def cohort_chart(cohorts: list[dict], key: str, name: str = "") -> alt.Chart:
    """The incremental lead in each signup month, with its 95% CI and a zero line."""
    title = f"Does {name or key} lead in every signup month?"
    rows = pd.DataFrame([r for r in cohorts if r.get("key") == key])
    if rows.empty or rows["effect"].isna().all():
        return _empty(title, "No signup cohort is large enough.")
    rows = rows[rows["effect"].notna()]
    y = alt.Y("cohort:N", title="signup month", sort=None)
    points = (
        alt.Chart(rows)
        .mark_point(filled=True, color=PALETTE[0])
        .encode(
            x=alt.X("effect:Q", title="lead per SD (log(1 + North Star later))"),
            y=y,
            tooltip=["cohort:N", "n:Q", alt.Tooltip("effect:Q", format="+.3f")],
        )
    )
    ci = alt.Chart(rows).mark_rule(color=PALETTE[0]).encode(x="ci_low:Q", x2="ci_high:Q", y=y)
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color=REFERENCE_GREY).encode(x="x:Q")
    height = max(120, 18 * len(rows))
    return (ci + points + zero).properties(title=_title(title), width=WIDTH, height=height)
