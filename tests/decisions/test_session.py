"""The workshop's typed state, draft staleness, participants' scores and what recording needs."""

from __future__ import annotations

import dataclasses

import pytest

from northstar_lab.decisions import workshop
from northstar_lab.decisions.session import (
    AnalysisStamp,
    Draft,
    WorkshopState,
    analysis_id,
    clean_scores,
    ranking_id,
    stamp_changes,
    valid_keys,
)
from northstar_lab.results import CandidateResult, DataInfo, RankingResult
from northstar_lab.settings import AnalysisSettings


def cand(key: str, rank: int, score: float, **kw) -> CandidateResult:
    base = dict(
        kind="count",
        event=key.split(":")[-1],
        column=None,
        transform="log1p",
        hazard_ratio=0.6,
        hr_ci_low=0.5,
        hr_ci_high=0.7,
        c_index=0.66,
        q_value=0.001,
    )
    name = f"{key.split(':')[-1]}: count in first 14 days"
    return CandidateResult(key=key, name=name, rank=rank, score=score, **{**base, **kw})


def ranking(window: int = 14, n_users: int = 7057, hr: float = 0.61) -> RankingResult:
    cands = [
        cand("count:a", 1, 0.30, hazard_ratio=hr),
        cand("count:b", 2, 0.20),
        cand("count:c", 3, 0.10),
    ]
    return RankingResult(
        n_users=n_users,
        n_churned=3000,
        excluded={},
        settings=AnalysisSettings(window_days=window),
        data=DataInfo(as_of="2026-03-31", fingerprint={"events": {"sha256": "abc"}}),
        candidates=cands,
    )


# ---- the state as JSON ---------------------------------------------------------------------


def test_state_round_trips_through_json_and_cleans_what_it_reads():
    state = WorkshopState(
        title="Q3",
        dataset={"kind": "sample"},
        settings={"window_days": 7},
        shortlist=["count:a", "count:b"],
        rubric={"count:a": {"actionable": 5}},
        criteria_weights={**workshop.DEFAULT_CRITERIA_WEIGHTS, "hard_to_game": 2.0},
        evidence_weight=0.7,
        selected=["count:b"],
        draft=Draft(overrides={"owner": "Ada"}, stamp=AnalysisStamp.of(ranking(), "count:a")),
        recorded=[3],
    )
    again = WorkshopState.from_dict(state.to_dict())
    assert again == state
    empty = WorkshopState.from_dict(None)
    assert empty == dataclasses.replace(WorkshopState(), draft=empty.draft)

    hostile = state.to_dict() | {
        "rubric": {"count:a": {"actionable": 9, "unknown": 3, "leads_revenue": "x"}, "bad": 4},
        "evidence_weight": 7,
        "criteria_weights": {"actionable": -1, "nope": 3},
    }
    read = WorkshopState.from_dict(hostile)
    assert read.rubric == {"count:a": {"actionable": 5}}
    assert read.evidence_weight == 1.0
    assert read.criteria_weights["actionable"] == 1.0 and "nope" not in read.criteria_weights
    assert clean_scores({"k": {"actionable": 0.4}}) == {"k": {"actionable": 1}}


def test_each_draft_has_its_own_idempotency_key():
    a, b = Draft(), Draft()
    assert a.idempotency_key != b.idempotency_key and len(a.idempotency_key) >= 16
    assert Draft.from_dict(a.to_dict()).idempotency_key == a.idempotency_key


# ---- one analysis, one id ------------------------------------------------------------------


def test_analysis_id_is_the_data_fingerprint_plus_the_settings():
    r = ranking()
    assert ranking_id(r) == ranking_id(ranking(n_users=1))  # same data, same settings
    assert ranking_id(r) != ranking_id(ranking(window=7))
    assert analysis_id({"f": 1}, {}) != analysis_id({"f": 2}, {})
    assert len(ranking_id(r)) == 16


def test_stamp_changes_say_in_words_what_moved():
    old = AnalysisStamp.of(ranking(), "count:a")
    assert stamp_changes(old, old) == []
    assert stamp_changes(None, old) == []
    new = AnalysisStamp.of(ranking(window=7, n_users=7400, hr=0.64), "count:a")
    changes = stamp_changes(old, new)
    assert "observation window: 14 days → 7 days" in changes
    assert "users in the analysis: 7,057 → 7,400" in changes
    assert "hazard ratio per SD: 0.61 → 0.64" in changes

    same_figures = dataclasses.replace(old, analysis_id="other")
    assert stamp_changes(old, same_figures) == [
        "the data or settings changed (same headline figures)"
    ]


def test_keys_outlive_an_analysis_only_if_it_has_them():
    r = ranking()
    assert valid_keys(["count:c", "count:gone", "count:a", "count:c"], r) == ["count:c", "count:a"]
    assert valid_keys(None, r) == []


def test_edited_prefills_name_what_may_describe_an_old_analysis():
    d = Draft(overrides={"owner": "Ada", "rationale": "old words"}, reasons={"count:b": "x"})
    assert d.edited_prefills() == ["rationale", "reasons for rejected alternatives"]
    assert Draft(overrides={"owner": "Ada"}).edited_prefills() == []


# ---- participants ----------------------------------------------------------------------------


def test_team_rubric_takes_medians_spread_and_names_the_widest_disagreement():
    r = ranking()
    keys = ["count:a", "count:b"]
    people = {
        "Ada": {"count:a": {"actionable": 5, "hard_to_game": 3}, "count:b": {"actionable": 2}},
        "Bo": {"count:a": {"actionable": 1, "hard_to_game": 3}, "count:b": {"actionable": 2}},
        "Cy": {"count:a": {"actionable": 4}},
    }
    team = workshop.team_rubric(r, keys, people)
    med = team.median.set_index("key")
    assert med.loc["count:a", "actionable"] == 4.0  # median of 5, 1, 4
    assert med.loc["count:a", "hard_to_game"] == 3.0
    assert med.loc["count:b", "customer_value"] == 3.0  # nobody scored: neutral
    assert team.spread.set_index("key").loc["count:a", "actionable"] == 4
    assert team.n_scored.set_index("key").loc["count:a", "actionable"] == 3
    [worst] = team.disagreements
    assert (worst.key, worst.criterion, worst.low, worst.high) == ("count:a", "actionable", 1, 5)
    assert (worst.lowest, worst.highest) == (["Bo"], ["Ada"])
    people_rows = team.people_frame()
    assert len(people_rows) == 3 * 2
    assert people_rows.query("participant == 'Cy' and key == 'count:b'")["actionable"].isna().all()
    assert team.to_record()[0] == {"name": "Ada", "scores": people["Ada"]}

    # the combined ordering reads the medians: Ada and Cy lift count:a's actionable score
    ordering = workshop.combined_ordering(r, team.median, evidence_weight=0.0)
    assert ordering["key"].iloc[0] == "count:a"


def test_team_rubric_without_participants_is_neutral_and_without_disagreement():
    team = workshop.team_rubric(ranking(), ["count:a", "count:b"], {})
    assert (team.median[list(workshop.CRITERIA)] == 3.0).all().all()
    assert team.disagreements == []


def test_rubric_frame_fills_unscored_cells_with_a_neutral_three():
    df = workshop.rubric_frame(ranking(), ["count:b", "count:a"], {"count:a": {"actionable": 5}})
    assert df["key"].tolist() == ["count:b", "count:a"]
    assert df.set_index("key").loc["count:a", "actionable"] == 5
    assert df.set_index("key").loc["count:b", "actionable"] == 3


# ---- what recording needs ----------------------------------------------------------------------


READY = {"title": "NS", "name": "m", "owner": "Ada", "baseline": "2", "target": "3"}


def test_record_problems_name_everything_missing_at_once():
    assert workshop.record_problems(READY, [{"name": "Ada", "role": "CPO"}]) == []
    [problem] = workshop.record_problems({"title": "NS", "name": "m"}, [{"name": " "}])
    assert problem == (
        "Missing: an owner (who answers for the metric), the current baseline (where the "
        "metric is today), a target (where it should be, and by when), at least one sign-off "
        "(a name)."
    )
    problems = workshop.record_problems(
        {**READY, "review_cadence": "milestone"}, [{"name": "Ada"}, {"name": "", "role": "CFO"}]
    )
    assert problems == [
        "Missing: the milestone that triggers the review.",
        "Sign-off row 2 has a role but no name.",
    ]


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_blank_owner_is_missing(blank):
    [problem] = workshop.record_problems({**READY, "owner": blank}, [{"name": "Ada"}])
    assert "an owner" in problem
