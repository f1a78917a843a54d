"""Candidates: analysis settings, the leaderboard, and the evidence behind any candidate.

Every label comes from the analysis on screen; selections are candidate keys kept in the
workshop state and filtered by what this analysis has; widget keys carry the analysis id, so
a settings change can never leave a chip or an option from another analysis. The leaderboard
and "Look closer" are fragments, and only the open tab is drawn: a filter, a selection or a
tab answers without re-running the rest of the page.
"""

import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st

from northstar_lab.data.proposals import event_names_the_outcome
from northstar_lab.decisions.session import names_of, ranking_id, valid_keys
from northstar_lab.evidence import charts
from northstar_lab.evidence import tables as evidence
from northstar_lab.evidence.leaderboard import (
    GUARDRAIL_NOTE,
    KIND_WORDS,
    BoardFilter,
    board_options,
    gap_table,
    leaderboard,
)
from northstar_lab.ranking.flags import flag_legend
from northstar_lab.settings import AnalysisSettings
from northstar_lab.text import csv_bytes, md_literal
from pages import shared

st.title("Candidate metrics")


NO_CHURN_EVENT = "(none: churn is inactivity)"


def _churn_event_select(s: AnalysisSettings) -> str:
    """The event that is the cancellation itself, if the log has one; the log's names that
    read as a cancellation come first."""
    names = shared.event_names()
    if s.churn_event and s.churn_event not in names:
        names.append(s.churn_event)
    if not names:  # a users table alone: churn comes from its columns
        return NO_CHURN_EVENT
    names.sort(key=lambda e: not event_names_the_outcome(e))
    options = [NO_CHURN_EVENT, *names]
    return st.selectbox(
        "Churn is this event", options,
        index=options.index(s.churn_event) if s.churn_event in options else 0,
        key="set_churn_event",
        help="When the log records the cancellation itself (e.g. 'Cancellation "
        "Confirmation'), a user's first one is their churn, instead of a silence. It is never "
        "a candidate.",
    )  # fmt: skip


def settings_sidebar() -> AnalysisSettings:
    """Analysis settings with plain-language help; applied only when the user presses Apply."""
    s = shared.settings()
    with st.sidebar.form("settings_form"):
        st.header("Analysis settings")
        users_only = not (shared.dataset() or {}).get("events") and (
            (shared.dataset() or {}).get("kind") != "sample"
        )
        lowest = 0 if users_only else 1  # W = 0: a users table of attributes known at signup
        window = st.number_input(
            "Observation window (days)", lowest, 180, max(s.window_days, lowest),
            key="set_window",
            help="Candidates count what each user did in their first N days only. Retention is "
            "followed from day N on, so the metric is always measured before the outcome."
            + (" 0: the users table's columns were known at signup." if users_only else ""),
        )  # fmt: skip
        inactivity = st.number_input(
            "Inactivity that means churn (days)", 1, 365, s.inactivity_days, key="set_gap",
            help="Without a cancellation date, a user who is silent this long has churned "
            "(at their last activity). Follow-up ends this many days before the data's end.",
        )  # fmt: skip
        churn_event = _churn_event_select(s)
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
        dedupe = st.checkbox(
            "Count exact duplicate events once", value=s.drop_duplicate_events, key="set_dedupe",
            help="Rows with the same user, event, time and value are often sent twice by a "
            "tracker. They are counted either way; this counts each once.",
        )  # fmt: skip
        with_revenue = st.checkbox(
            "Rank the revenue event as a candidate too", value=s.include_revenue_event,
            key="set_with_revenue",
            help="Offer early payments as candidates (labelled transactions). Automatic when "
            "the log has no other behaviour.",
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
            drop_duplicate_events=bool(dedupe),
            include_revenue_event=bool(with_revenue),
            churn_event=None if churn_event == NO_CHURN_EVENT else churn_event,
        )
        shared.save_settings(new)
        return new
    return s


settings_sidebar()
result = shared.need_analysis()
ranking = result.ranking
aid = ranking_id(ranking)  # the analysis on screen: widget keys depend on it
names = names_of(ranking)
seconds = st.session_state.get("last_analysis_seconds")

st.text(
    f"{ranking.n_users:,} users in the retention analysis, {ranking.n_churned:,} churned "
    f"(churn: {result.outcomes.churn_source}). Candidates are measured in each user's first "
    f"{result.settings.window_days} days; retention is read "
    f"{result.settings.horizon_days} days later."
    + (f" Last analysis took {seconds:.1f} s." if seconds else "")
)
for w in ranking.warnings:
    st.warning(md_literal(w))

#: Leaderboard columns: at 1440 px (sidebar open) the visible ones fit without scrolling, so
#: "Ranked 1st", the threshold and the flags are always on screen; q-value and kind are one
#: click away ("Show/hide columns" in the table's toolbar).
BOARD_COLUMNS = {
    "rank": st.column_config.NumberColumn("#", width=40),
    "candidate": st.column_config.TextColumn(
        f"Candidate (first {ranking.settings.window_days} days)", width=250, pinned=True
    ),
    "name": {**st.column_config.TextColumn("Full name"), "hidden": True},  # fmt: skip
    "score": st.column_config.NumberColumn(
        "Score", format="%.3f", width=64, help="0.6·2(C − 0.5) + 0.4·max(ρ, 0) by default"
    ),
    "p_first": st.column_config.ProgressColumn(
        "Ranked 1st",
        min_value=0.0,
        max_value=1.0,
        format="percent",
        width=100,
        help="Share of bootstrap resamples in which this candidate ranks first.",
    ),  # fmt: skip
    "threshold": st.column_config.NumberColumn("Threshold k", format="%g", width=84),
    "flags": st.column_config.TextColumn("Flags", width=84, help=flag_legend()),
    "hazard_ratio": st.column_config.TextColumn(
        "HR / SD (95% CI)",
        width=132,
        help="Change in the churn hazard per standard deviation; < 1 = more goes with staying",
    ),  # fmt: skip
    "c_index": st.column_config.ProgressColumn(
        "Concordance C",
        min_value=0.5,
        max_value=0.8,
        format="%.3f",
        width=110,
        help="How often the user who stays longer also did more (0.5 = chance).",
    ),  # fmt: skip
    "revenue_rho": st.column_config.NumberColumn(
        "Revenue ρ", format="%.2f", width=80, help="Spearman with revenue in the horizon"
    ),
    "q_value": {
        **st.column_config.NumberColumn(
            "q-value", format="%.2g", width=70, help="Benjamini–Hochberg; ≥ 0.05 = noise level"
        ),
        "hidden": True,
    },
    "kind": {**st.column_config.TextColumn("Kind"), "hidden": True},
}
ROWS = {"Top 10": 10, "Top 20": 20, "All": None}


@st.fragment
@shared.runs_as_page
def leaderboard_section() -> None:
    st.subheader("Leaderboard")
    events, kinds = board_options(ranking)
    f1, f2, f3 = st.columns([2, 2, 1])
    chosen_events = f1.multiselect(
        "Events or columns", events, key=f"board_events:{aid}", placeholder="All"
    )
    chosen_kinds = f2.multiselect(
        "Kinds", kinds, format_func=KIND_WORDS.get, key="board_kinds", placeholder="All"
    )
    rows = f3.selectbox("Rows", list(ROWS), key="board_rows")
    c1, c2, c3 = st.columns(3)
    flt = BoardFilter(
        events=tuple(chosen_events),
        kinds=tuple(chosen_kinds),
        hide_noise=c1.checkbox("Hide noise-level candidates", key="board_noise"),
        hide_duplicates=c2.checkbox("Hide near-duplicates (keep the best)", key="board_dups"),
        hide_lifetime=c3.checkbox("Hide lifetime totals in disguise", key="board_life"),
        top=ROWS[rows],
    )
    board = leaderboard(ranking, flt)
    order = [c for c in board.table.columns if c != "key"]
    st.dataframe(
        board.table, hide_index=True, width="stretch", column_order=order,
        column_config=BOARD_COLUMNS, key="leaderboard",
    )  # fmt: skip
    shown = len(board.table)
    st.caption(
        f"Showing {shown} of {board.n_matching} matching candidates ({board.n_total} in all). "
        + flag_legend()
    )
    if not board.guardrails.empty:
        st.markdown("**Guardrails (counter-metrics)**")
        st.caption(GUARDRAIL_NOTE + " These never lead the ranking.")
        st.dataframe(
            board.guardrails, hide_index=True, width="stretch", column_order=order,
            column_config=BOARD_COLUMNS, key="guardrails",
        )  # fmt: skip
    st.download_button(
        "Download the whole leaderboard (CSV)",
        csv_bytes(leaderboard(ranking, BoardFilter(top=None)).table.drop(columns="key")),
        file_name="north-star-leaderboard.csv",
        mime="text/csv",
        key="board_csv",
        on_click="ignore",
    )
    gaps = gap_table(ranking)
    if not gaps.empty:
        with st.expander("How the top five move with the inactivity that means churn"):
            st.caption(
                "The ranking re-run with other inactivity gaps (effect sizes only): a leader "
                "that stays on top does not depend on how churn is defined."
            )
            st.dataframe(gaps, hide_index=True, width="stretch", key="gap_sensitivity")


leaderboard_section()


def _chart(kind: str, key: str | None, build) -> None:
    """One chart, computed once per analysis and key, drawn on its own."""
    with shared.contained(f"The {kind.replace('_', ' ')} chart"):
        st.altair_chart(shared.derived(kind, key, build), width="stretch")


def retention_tab(selected: list[str]) -> None:
    for key in selected:
        _chart("km", key, lambda an, k=key: charts.km_chart(evidence.km_by_threshold(an, k)))
        f = ranking.candidate(key).threshold_figures
        if f:
            st.caption(
                f"Held-out users: {f.retention_above:.0%} vs {f.retention_below:.0%} still "
                f"active at day {f.horizon_days:g} after the window (difference p "
                f"{f.retention_difference_p:.2g}; log-rank p {f.logrank_p:.2g}); "
                f"restricted mean {f.rmst_difference:+.1f} days "
                f"(± {f.rmst_difference_se:.1f})."
            )


def stability_tab(selected: list[str]) -> None:
    has_signups = "signup_sec" in result.frame
    segments = evidence.segment_columns(result)
    if has_signups:
        by = "signup_month"
    else:
        st.info(
            "Cohorts by signup month need signup times, and these data have none, so the "
            "metric's stability is shown across segments instead"
            + (" (pick one below)." if segments else "; there are no segment columns either.")
        )
        by = st.selectbox("Cohorts by", segments, key=f"cohort_by:{aid}") if segments else None
    for key in selected:
        if by is not None:
            _chart(
                "cohorts", key,
                lambda an, k=key: charts.cohort_chart(*evidence.cohort_hazard_ratios(an, k, by)),
            )  # fmt: skip
        if has_signups:
            _chart("weekly", key, lambda an, k=key: charts.weekly_chart(
                *evidence.weekly_series(an, k)))  # fmt: skip


def adjusted_tab(selected: list[str]) -> None:
    st.caption(
        "Multivariable Cox model of each candidate given the covariates chosen here, and its "
        "incremental value over a baseline of active days (+ covariates): the likelihood-ratio "
        "test on all users and the gain in concordance on held-out users of models fitted on "
        "the training half (95% bootstrap CI)."
    )
    options = shared.covariate_options(result)
    ws = shared.state()
    adjust_for = st.multiselect(
        "Adjust for (optional)",
        options,
        default=[c for c in ws.adjust_for if c in options],
        key=f"adjust_for:{aid}",
        help="Covariates such as plan, channel or signup month. Changing this never re-runs "
        "the ranking.",
    )
    ws.adjust_for = adjust_for
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
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"LR test vs active days (p)": st.column_config.NumberColumn(format="%.2g")},
        key="adjusted_table",
    )
    st.text("Adjusted for: " + (", ".join(adjust_for) or "nothing (pick covariates)"))


def forest_tab(_selected: list[str]) -> None:
    _chart("forest", None, lambda an: charts.forest_chart(evidence.forest_table(an.ranking)))


def revenue_tab(selected: list[str]) -> None:
    for key in selected:
        _chart("revenue", key, lambda an, k=key: charts.revenue_chart(
            evidence.revenue_by_group(an, k)))  # fmt: skip


def explorer_tab(selected: list[str]) -> None:
    for key in selected:
        _chart("threshold", key, lambda an, k=key: charts.threshold_chart(
            evidence.threshold_explorer(an, k)))  # fmt: skip


def redundancy_tab(selected: list[str]) -> None:
    keys = list(dict.fromkeys(selected + [c.key for c in ranking.candidates[:10]]))
    _chart("heatmap", ",".join(keys), lambda an: charts.heatmap_chart(
        evidence.correlation_long(an, keys)))  # fmt: skip
    for i, group in enumerate(ranking.redundancy_groups, start=1):
        st.text(f"Group {i}: " + ", ".join(names.get(k, k) for k in group))


def score_tab(_selected: list[str]) -> None:
    _chart("score", None, lambda an: charts.score_chart(
        evidence.forest_table(an.ranking), an.ranking.settings.score_weights))  # fmt: skip


#: The tabs of "Look closer", each drawn only while it is open.
TABS = {
    "Retention curves": retention_tab,
    "Hazard ratios": forest_tab,
    "Revenue": revenue_tab,
    "Threshold explorer": explorer_tab,
    "Stability": stability_tab,
    "Redundancy": redundancy_tab,
    "Score": score_tab,
    "Adjusted": adjusted_tab,
}


@st.fragment
@shared.runs_as_page
def look_closer() -> None:
    st.subheader("Look closer")
    ws = shared.state()
    default = valid_keys(ws.selected, ranking) or [ranking.leader.key]
    selected = st.multiselect(
        "Candidates to compare",
        list(names),
        default=default,
        format_func=lambda k: names.get(k, k),
        key=f"select_candidates:{aid}",
    )
    ws.selected = selected
    if not selected:
        st.info("Pick one or more candidates to see their curves.")
        return
    tabs = st.tabs(list(TABS), key="look_tab", on_change="rerun")
    open_tab = next((t for t, tab in zip(TABS, tabs, strict=True) if tab.open), next(iter(TABS)))
    with tabs[list(TABS).index(open_tab)], shared.contained(f"The {open_tab.lower()} tab"):
        TABS[open_tab](selected)
    shared.fit_adjusted_ahead(result, selected, ws.adjust_for)  # the Adjusted tab, in advance
    shared.commit()  # a fragment rerun does not reach the end of the page


look_closer()
st.page_link("pages/workshop.py", label="Next: run the workshop", icon=":material/how_to_vote:")
shared.commit()  # save as we go (app.py saves at the end of every run, too)
