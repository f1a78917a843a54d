"""Candidates: analysis settings, the leaderboard, and the evidence behind any candidate."""

import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st

from northstar_lab.evidence import charts
from northstar_lab.evidence import tables as evidence
from northstar_lab.ranking.flags import flag_legend
from northstar_lab.settings import AnalysisSettings
from northstar_lab.stats.adjusted import available_covariates
from pages import shared

st.title("Candidate metrics")


def settings_sidebar() -> AnalysisSettings:
    """Analysis settings with plain-language help; applied only when the user presses Apply."""
    s = shared.settings()
    with st.sidebar.form("settings_form"):
        st.header("Analysis settings")
        window = st.number_input(
            "Observation window (days)", 1, 180, s.window_days, key="set_window",
            help="Candidates count what each user did in their first N days only. Retention is "
            "followed from day N on, so the metric is always measured before the outcome.",
        )  # fmt: skip
        inactivity = st.number_input(
            "Inactivity that means churn (days)", 1, 365, s.inactivity_days, key="set_gap",
            help="Without a cancellation date, a user who is silent this long has churned "
            "(at their last activity). Follow-up ends this many days before the data's end.",
        )  # fmt: skip
        use_as_of = st.checkbox(
            "Set the data's end date", value=s.as_of is not None, key="set_use_asof",
            help="Default: the latest date in the data.",
        )  # fmt: skip
        as_of = st.date_input(
            "As of", value=s.as_of or dt.date.today(), key="set_asof", disabled=not use_as_of
        )
        horizon = st.number_input(
            "Horizon (days after the window)", 7, 730, s.horizon_days, key="set_horizon",
            help="Retention is read this many days after the window; revenue is summed over "
            "this period (only users followed that long count).",
        )  # fmt: skip
        boot = st.number_input(
            "Bootstrap resamples", 0, 1000, s.n_bootstrap, step=50, key="set_boot",
            help="Resamples of users used to say how often each candidate ranks first.",
        )  # fmt: skip
        w_ret = st.slider(
            "Weight of retention in the score", 0.0, 1.0, float(s.score_weights[0]), 0.05,
            key="set_wret",
            help="Score = w·2(C − 0.5) + (1 − w)·max(ρ, 0): C is the concordance with "
            "retention, ρ the rank correlation with revenue.",
        )  # fmt: skip
        applied = st.form_submit_button("Apply settings", type="primary")
    if applied:
        new = dataclasses.replace(
            s,
            window_days=int(window),
            inactivity_days=int(inactivity),
            as_of=as_of if use_as_of else None,
            horizon_days=int(horizon),
            score_weights=(float(w_ret), round(1.0 - float(w_ret), 6)),
            n_bootstrap=int(boot),
        )
        shared.save_settings(new)
        return new
    return s


settings_sidebar()
result = shared.need_analysis()
loaded = shared.loaded_data(shared.dataset())
segments = loaded.users.columns.segments if loaded.users is not None else ()
adjust_options = available_covariates(result.frame, segments)
adjust_for = st.sidebar.multiselect(
    "Adjust for (optional)",
    adjust_options,
    default=[c for c in st.session_state.get("adjust_for", []) if c in adjust_options],
    key="adjust_widget",
    help="Covariates such as plan, channel or signup month. The Adjusted tab shows each "
    "selected candidate's hazard ratio given them, and what it adds over active days. "
    "Changing this never re-runs the ranking.",
)
st.session_state["adjust_for"] = adjust_for
ranking = result.ranking
seconds = st.session_state.get("last_analysis_seconds")

st.markdown(
    f"**{ranking.n_users:,} users** in the retention analysis, **{ranking.n_churned:,}** churned "
    f"(churn: {result.outcomes.churn_source}). Candidates are measured in each user's first "
    f"**{result.settings.window_days} days**; retention is read "
    f"**{result.settings.horizon_days} days** later."
    + (f" Last analysis took {seconds:.1f} s." if seconds else "")
)
for w in ranking.warnings:
    st.warning(w)


def leaderboard_frame() -> pd.DataFrame:
    rows = []
    for c in ranking.candidates:
        rows.append(
            {
                "rank": c.rank,
                "candidate": c.name,
                "score": c.score,
                "hazard ratio / SD (95% CI)": f"{c.hazard_ratio:.2f} "
                f"({c.hr_ci_low:.2f}–{c.hr_ci_high:.2f})",
                "concordance": c.c_index,
                "q-value": c.q_value,
                "revenue ρ": c.revenue_rho,
                "ranked first": c.p_first,
                "threshold": c.threshold,
                "flags": " · ".join(c.flags),
                "key": c.key,
            }
        )
    return pd.DataFrame(rows)


board = leaderboard_frame()
st.subheader("Leaderboard")
st.dataframe(
    board,
    hide_index=True,
    width="stretch",
    column_order=[c for c in board.columns if c != "key"],
    column_config={
        "rank": st.column_config.NumberColumn("#", width="small"),
        "candidate": st.column_config.TextColumn("Candidate (first days only)", width="large"),
        "score": st.column_config.NumberColumn(
            "Score", format="%.3f", help="0.6·2(C − 0.5) + 0.4·max(ρ, 0) by default"
        ),
        "concordance": st.column_config.ProgressColumn(
            "Concordance C",
            min_value=0.5,
            max_value=0.8,
            format="%.3f",
            help="How often the user who stays longer also did more (0.5 = chance).",
        ),  # fmt: skip
        "q-value": st.column_config.NumberColumn(
            "q-value", format="%.2g", help="Benjamini–Hochberg; ≥ 0.05 = noise level"
        ),
        "revenue ρ": st.column_config.NumberColumn(
            "Revenue ρ", format="%.2f", help="Spearman with revenue in the horizon"
        ),
        "ranked first": st.column_config.ProgressColumn(
            "Ranked 1st",
            min_value=0.0,
            max_value=1.0,
            format="percent",
            help="Share of bootstrap resamples in which this candidate ranks first.",
        ),  # fmt: skip
        "threshold": st.column_config.NumberColumn("Threshold k", format="%g"),
        "hazard ratio / SD (95% CI)": st.column_config.TextColumn(
            "Hazard ratio / SD (95% CI)",
            help="Change in the churn hazard per standard deviation; < 1 = more goes with staying",
        ),
        "flags": st.column_config.TextColumn("Flags"),
    },
    height=min(38 * (len(board) + 1), 520),
)
st.caption(flag_legend())

st.subheader("Look closer")
names = {c.key: c.name for c in ranking.candidates}
default = st.session_state.get("selected_keys") or [ranking.candidates[0].key]
selected = st.multiselect(
    "Candidates to compare",
    list(names),
    default=[k for k in default if k in names],
    format_func=names.get,
    key="select_candidates",
)
st.session_state["selected_keys"] = selected
if not selected:
    st.info("Pick one or more candidates to see their curves.")
    st.stop()

tabs = st.tabs(
    [
        "Retention curves",
        "Hazard ratios",
        "Revenue",
        "Threshold explorer",
        "Stability",
        "Redundancy",
        "Score",
        "Adjusted",
    ]  # fmt: skip
)
with tabs[0]:
    for key in selected:
        st.altair_chart(charts.km_chart(evidence.km_by_threshold(result, key)), width="stretch")
        f = ranking.candidate(key).threshold_figures
        if f:
            st.caption(
                f"Held-out users: {f.retention_above:.0%} vs {f.retention_below:.0%} still "
                f"active at day {f.horizon_days:g} after the window (difference p "
                f"{f.retention_difference_p:.2g}; log-rank p {f.logrank_p:.2g}); "
                f"restricted mean {f.rmst_difference:+.1f} days "
                f"(± {f.rmst_difference_se:.1f})."
            )
with tabs[1]:
    st.altair_chart(charts.forest_chart(evidence.forest_table(ranking)), width="stretch")
with tabs[2]:
    for key in selected:
        rev = evidence.revenue_by_group(result, key)
        if rev.empty:
            st.info("No revenue outcome in this data.")
            break
        st.altair_chart(charts.revenue_chart(rev), width="stretch")
with tabs[3]:
    for key in selected:
        st.altair_chart(
            charts.threshold_chart(evidence.threshold_explorer(result, key)), width="stretch"
        )
with tabs[4]:
    for key in selected:
        table, summary = evidence.cohort_hazard_ratios(result, key)
        st.altair_chart(charts.cohort_chart(table, summary), width="stretch")
        series, stats = evidence.weekly_series(result, key)
        st.altair_chart(charts.weekly_chart(series, stats), width="stretch")
with tabs[5]:
    keys = list(dict.fromkeys(selected + [c.key for c in ranking.candidates[:10]]))
    st.altair_chart(charts.heatmap_chart(evidence.correlation_long(result, keys)), width="stretch")
    if ranking.redundancy_groups:
        for i, group in enumerate(ranking.redundancy_groups, start=1):
            st.markdown(f"**Group {i}:** " + ", ".join(names.get(k, k) for k in group))
with tabs[6]:
    st.altair_chart(
        charts.score_chart(evidence.forest_table(ranking), ranking.settings.score_weights),
        width="stretch",
    )

with tabs[7]:
    st.caption(
        "Multivariable Cox model of each candidate given the covariates chosen in the sidebar, "
        "and its incremental value over a baseline of active days (+ covariates): the "
        "likelihood-ratio test on all users and the gain in concordance on held-out users of "
        "models fitted on the training half (95% bootstrap CI)."
    )
    rows = []
    for key in selected:
        view = shared.adjusted(result, key, tuple(adjust_for))
        rows.append(
            {
                "candidate": view.name,
                "HR / SD adjusted (95% CI)": f"{view.hazard_ratio:.2f} "
                f"({view.hr_ci_low:.2f}–{view.hr_ci_high:.2f})",
                "HR / SD unadjusted": round(view.hazard_ratio_unadjusted, 3),
                "LR test vs active days (p)": view.lr_p,
                "held-out C: active days": round(view.c_base, 3),
                "held-out C: + candidate": round(view.c_full, 3),
                "gain in C (95% CI)": f"{view.c_gain:+.3f} "
                f"({view.c_gain_ci[0]:+.3f} to {view.c_gain_ci[1]:+.3f})",
            }
        )
    lr_format = st.column_config.NumberColumn(format="%.2g")
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"LR test vs active days (p)": lr_format},
    )
    st.caption("Adjusted for: " + (", ".join(adjust_for) or "nothing (pick covariates)"))

st.page_link("pages/workshop.py", label="Next: run the workshop", icon=":material/how_to_vote:")
