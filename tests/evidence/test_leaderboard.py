"""The leaderboard as people read it: top N, filters, guardrails apart, ranks never renumbered."""

from __future__ import annotations

from northstar_lab.evidence.leaderboard import ALL_EVENTS, BoardFilter, board_options, leaderboard
from northstar_lab.results import CandidateResult, DataInfo, RankingResult
from northstar_lab.settings import AnalysisSettings


def cand(key, rank, **kw):
    kind, _, ident = key.partition(":")
    kind = {"days": "active_days", "col": "column"}.get(kind, kind)
    base = dict(kind=kind, event=None if kind in ("baseline", "column") else ident,
                column=ident if kind == "column" else None, transform="log1p",
                name=f"{ident} ({kind})", score=1 - rank / 100, p_first=0.0,
                hazard_ratio=0.7, hr_ci_low=0.6, hr_ci_high=0.8)  # fmt: skip
    return CandidateResult(key=key, rank=rank, **{**base, **kw})


def ranking() -> RankingResult:
    cands = [
        cand("count:lesson", 1, redundancy_group=1, p_first=0.9, threshold=6.0, flags=["dup 1"]),
        cand("days:lesson", 2, redundancy_group=1, flags=["dup 1"]),
        cand("baseline:total_events", 3),
        cand("count:tickets", 4, is_guardrail=True, hazard_ratio=1.3),
        cand("col:total_spend", 5, is_lifetime_total=True, flags=["LIFETIME"]),
        *(cand(f"count:e{i}", 6 + i, noise_level=True, flags=["noise"]) for i in range(12)),
    ]
    return RankingResult(
        n_users=100, n_churned=50, excluded={}, settings=AnalysisSettings(),
        data=DataInfo(), candidates=cands,
    )  # fmt: skip


def test_opens_on_the_top_ten_in_rank_order_without_guardrails():
    board = leaderboard(ranking())
    assert len(board.table) == 10
    assert board.table["rank"].tolist() == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11]
    assert (board.n_matching, board.n_total) == (16, 16)
    assert board.guardrails["key"].tolist() == ["count:tickets"]
    first = board.table.iloc[0]
    assert first["p_first"] == 0.9 and first["threshold"] == 6.0 and first["flags"] == "dup 1"
    assert first["hazard_ratio"] == "0.70 (0.60–0.80)"


def test_filters_hide_noise_duplicates_and_lifetime_totals_keeping_ranks():
    f = BoardFilter(hide_noise=True, hide_duplicates=True, hide_lifetime=True, top=None)
    board = leaderboard(ranking(), f)
    assert board.table["key"].tolist() == ["count:lesson", "baseline:total_events"]
    assert board.table["rank"].tolist() == [1, 3]
    assert board.n_matching == 2


def test_near_duplicates_keep_the_best_member_the_other_filters_keep():
    f = BoardFilter(kinds=("active_days",), hide_duplicates=True)
    assert leaderboard(ranking(), f).table["key"].tolist() == ["days:lesson"]


def test_event_and_kind_filters_and_their_options():
    r = ranking()
    events, kinds = board_options(r)
    assert events[0] == ALL_EVENTS and "lesson" in events and "total_spend" in events
    assert kinds == ["count", "active_days", "baseline", "column"]
    board = leaderboard(r, BoardFilter(events=("lesson",)))
    assert board.table["key"].tolist() == ["count:lesson", "days:lesson"]
    board = leaderboard(r, BoardFilter(events=(ALL_EVENTS,), kinds=("baseline",)))
    assert board.table["key"].tolist() == ["baseline:total_events"]
    assert leaderboard(r, BoardFilter(events=("tickets",))).table.empty
    assert leaderboard(r, BoardFilter(events=("tickets",))).guardrails["rank"].tolist() == [4]


def test_gap_table_shows_the_top_five_for_each_gap():
    from northstar_lab.evidence.leaderboard import gap_table
    from northstar_lab.results import GapRun

    r = ranking()
    assert gap_table(r).empty
    r.gap_sensitivity = [
        GapRun(gap_days=7, top_names=["b", "a"]),
        GapRun(gap_days=14, error="no churn events"),
    ]
    t = gap_table(r, top=2)
    assert list(t.columns) == ["place", "g = 30 days (this ranking)", "g = 7 days", "g = 14 days"]
    assert t["place"].tolist() == [1, 2]
    assert t["g = 7 days"].tolist() == ["b", "a"]
    assert t["g = 14 days"].tolist() == ["not computed: no churn events", ""]
