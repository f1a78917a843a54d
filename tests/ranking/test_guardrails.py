"""A North Star is something to grow (METHODS §5.1): the signed score, guardrails and the ordering.

The retention part of the score is 2·(C⁺ − 0.5), C⁺ the concordance of "more of x ⇒ stays
longer", never max(C, 1 − C). A candidate where more goes with churn is a guardrail: it never
leads, never counts as first in a stability draw, and has its own section of the leaderboard.
"""

from __future__ import annotations

import numpy as np
import pytest

from northstar_lab.candidates import thresholded_key
from northstar_lab.cli.format import format_leaderboard
from northstar_lab.ranking.rank import rank_candidates
from northstar_lab.results import RankingResult

from .synthetic import count_candidate, outcomes_of, quick_settings, survival_after_landmark


def tickets_and_lessons(seed: int, n: int = 4000):
    """Lessons protect (HR ≈ 0.75 per SD); support tickets come from big accounts, who churn
    more (HR ≈ 1.3 per SD) and pay more (ρ ≈ +0.3): the trap of issue 10 §1."""
    rng = np.random.default_rng(seed)
    lessons, big = rng.standard_normal(n), rng.standard_normal(n)
    lesson_counts = rng.poisson(np.exp(1.0 + 0.6 * lessons))
    tickets = rng.poisson(np.exp(0.3 + 0.8 * big))
    lp = -0.3 * np.log1p(lesson_counts) / np.log1p(lesson_counts).std()
    lp += 0.27 * np.log1p(tickets) / np.log1p(tickets).std()
    t, e = survival_after_landmark(rng, lp, rng.uniform(30, 400, n))
    revenue = np.round(np.exp(2 + 0.5 * big + 0.05 * lessons + rng.normal(0, 0.7, n)), 2)
    cands = [count_candidate("lesson", lesson_counts), count_candidate("ticket", tickets)]
    noise = [count_candidate(f"noise{j}", rng.poisson(2.0, n)) for j in range(3)]
    return cands + noise, outcomes_of(t, e, revenue)


@pytest.fixture(scope="module")
def tickets_run() -> RankingResult:
    cands, oc = tickets_and_lessons(seed=3)
    return rank_candidates(cands, oc, settings=quick_settings(n_bootstrap=100))


def test_more_is_worse_candidate_is_a_guardrail_and_never_leads(tickets_run):
    r = tickets_run
    tickets, lessons = r.candidate("count:ticket"), r.candidate("count:lesson")
    assert tickets.hazard_ratio > 1.15 and tickets.revenue_rho > 0.2  # the trap is planted
    assert tickets.is_guardrail and not lessons.is_guardrail
    assert "GUARDRAIL" in tickets.flags
    assert r.leader.key == "count:lesson" and r.candidates[0].key == "count:lesson"
    assert tickets.rank > max(c.rank for c in r.leaders)
    assert {thresholded_key(c.key) for c in r.guardrails} == {"count:ticket"}
    assert tickets.p_first == 0.0 and not tickets.tied_with_leader
    assert lessons.p_first > 0.9


def test_signed_retention_strength_is_negative_for_a_guardrail(tickets_run):
    t = tickets_run.candidate("count:ticket")
    assert t.c_plus == pytest.approx(1 - t.c_index, abs=1e-12) and t.c_plus < 0.5
    # score = 0.6·2(C⁺ − 0.5) + 0.4·max(ρ, 0): the retention part counts against it
    assert t.score == pytest.approx(0.6 * 2 * (t.c_plus - 0.5) + 0.4 * t.revenue_rho, abs=1e-12)
    lead = tickets_run.leader
    assert lead.c_plus == lead.c_index  # more is better: the two C agree


def test_score_interval_from_the_draws_brackets_the_score(tickets_run):
    for c in tickets_run.candidates:
        assert c.score_ci_low is not None and c.score_ci_low <= c.score <= c.score_ci_high


def test_leaderboard_gives_guardrails_their_own_section(tickets_run):
    text = format_leaderboard(tickets_run)
    board, _, rest = text.partition("Guardrails — more goes with churn: watch it, don't grow it")
    assert rest, text
    assert "ticket" in rest.split("\n\n")[0] and "ticket" not in board
    assert "lesson" in board


def test_guardrail_verdict_survives_the_json_round_trip(tickets_run):
    back = RankingResult.from_dict(tickets_run.to_dict())
    assert {thresholded_key(c.key) for c in back.guardrails} == {"count:ticket"}
    assert back.leader.key == "count:lesson"


def test_record_without_c_plus_or_guardrail_derives_both():
    """A record written before C⁺ existed: C⁺ from C and the direction, the verdict re-derived."""
    cands, oc = tickets_and_lessons(seed=4)
    d = rank_candidates(cands, oc, settings=quick_settings()).to_dict()
    for c in d["candidates"]:
        for k in ("c_plus", "is_guardrail", "flags"):
            c.pop(k)
    back = RankingResult.from_dict(d)
    t = back.candidate("count:ticket")
    assert t.is_guardrail and "GUARDRAIL" in t.flags
    assert t.c_plus == pytest.approx(1 - t.c_index)


def null_population(seed: int, n: int = 2000, k: int = 12):
    rng = np.random.default_rng(seed)
    t, e = survival_after_landmark(rng, np.zeros(n), rng.uniform(30, 400, n))
    cands = [count_candidate(f"e{j}", rng.poisson(rng.uniform(0.5, 5), n)) for j in range(k)]
    return cands, outcomes_of(t, e)


def test_null_data_mean_retention_part_is_zero_not_positive():
    """Choosing the direction after looking gives E|2(C − ½)| > 0 on null data (+0.017 in the
    issue); the signed strength is centred on 0. Without revenue the score is the strength."""
    scores = []
    for seed in range(8):
        cands, oc = null_population(seed)
        ranked = rank_candidates(cands, oc, settings=quick_settings())
        scores += [c.score for c in ranked.candidates]
    scores = np.array(scores)
    se = scores.std(ddof=1) / np.sqrt(scores.size)
    assert abs(scores.mean()) < 3 * se, (scores.mean(), se)
    assert 0.3 < (scores < 0).mean() < 0.7
    assert abs(scores.mean()) < 0.006  # the after-the-fact direction averaged ≈ 0.017 here


def test_guardrail_only_when_distinguishable_from_noise():
    """Leaning the wrong way by chance is noise, not a guardrail: on null data (almost) none."""
    n_guard = n_total = 0
    for seed in range(8):
        cands, oc = null_population(seed)
        res = rank_candidates(cands, oc, settings=quick_settings())
        n_guard += len(res.guardrails)
        n_total += len(res.candidates)
        for c in res.guardrails:
            assert c.q_value < 0.05 and c.direction == "more is worse"
    assert n_guard / n_total < 0.03


def test_at_least_verdicts_say_they_rest_on_half_the_data(tickets_run):
    for c in tickets_run.candidates:
        says = any("held-out half of users" in w and "half the data" in w for w in c.warnings)
        assert says == c.held_out, (c.name, c.warnings)
    assert any(c.held_out for c in tickets_run.candidates)


def test_perfect_separation_reports_a_bound_and_the_likelihood_ratio_p():
    """Issue 10 §4: 25 users did a rare event and none churned. The Wald test said HR 5e-6
    [0, ∞], p = 1, 'noise'; the likelihood ratio and log-rank say p ≈ 1e-16 or smaller."""
    from lifelines.statistics import logrank_test

    rng = np.random.default_rng(1)
    n = 2000
    t, e = survival_after_landmark(rng, np.zeros(n), rng.uniform(50, 400, n))
    rare = np.zeros(n)
    rare[:25], e[:25], t[:25] = 1, 0, np.floor(rng.uniform(200, 400, 25))
    cands = [count_candidate("rare", rare), count_candidate("other", rng.poisson(2.0, n))]
    r = rank_candidates(cands, outcomes_of(t, e), settings=quick_settings())
    c = r.candidate("count:rare")
    lr = logrank_test(t[:25], t[25:], e[:25], e[25:])
    assert lr.p_value < 1e-10
    assert c.p_method == "likelihood ratio" and c.p_value < 1e-10 and not c.noise_level
    assert c.hr_bound == "upper" and 0 < c.hazard_ratio < 1
    assert c.hr_ci_low == 0.0 and c.hr_ci_high == c.hazard_ratio
    assert "bound" in c.flags and "Perfect separation" in c.warnings[0]
    assert f"below {c.hazard_ratio:.3g}" in c.warnings[0]
    assert not c.is_guardrail and c.direction == "more is better"
    assert "< " in format_leaderboard(r) and "(bound)" in format_leaderboard(r)


def test_influence_function_stability_uses_the_signed_score_too():
    """Above 20,000 landmark users the draws come from influence functions: the guardrail is
    still never first and the draws centre on the signed score."""
    cands, oc = tickets_and_lessons(seed=5, n=24_000)
    r = rank_candidates(cands, oc, settings=quick_settings(n_bootstrap=50))
    assert r.data.stability_method.startswith("influence functions")
    t, lead = r.candidate("count:ticket"), r.leader
    assert t.is_guardrail and t.p_first == 0.0 and lead.key == "count:lesson"
    assert lead.p_first > 0.99
    for c in (t, lead):
        assert c.score_ci_low < c.score < c.score_ci_high
        mid = (c.score_ci_low + c.score_ci_high) / 2
        assert mid == pytest.approx(c.score, abs=0.25 * (c.score_ci_high - c.score_ci_low))
    assert t.score < 0.6 * 2 * (t.c_index - 0.5) + 0.4 * t.revenue_rho  # signed, not |C − ½|
