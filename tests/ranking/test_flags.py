"""The ordering and the verdicts (METHODS §2, §5.1): candidates to grow by score, then
guardrails (strongest first), then lifetime totals, whatever their scores."""

from __future__ import annotations

from northstar_lab.ranking.flags import (
    flag_words,
    guardrail_verdict,
    lifetime_total_verdict,
    order_results,
)
from northstar_lab.results import CandidateResult


def result(key, score, c_plus=0.6, guard=False, lifetime=False):
    r = CandidateResult(key, key, "count", key, None, "log1p", score=score, c_plus=c_plus)
    r.is_guardrail, r.is_lifetime_total = guard, lifetime
    return r


def test_order_puts_guardrails_then_lifetime_totals_last_whatever_their_scores():
    rs = [
        result("life", 0.9, lifetime=True),
        result("guard_weak", 0.3, c_plus=0.45, guard=True),
        result("low", 0.05),
        result("guard_strong", 0.2, c_plus=0.30, guard=True),
        result("high", 0.2),
        result("nan", float("nan")),
    ]
    order_results(rs)
    assert [r.key for r in rs] == ["high", "low", "nan", "guard_strong", "guard_weak", "life"]
    assert [r.rank for r in rs] == [1, 2, 3, 4, 5, 6]


def test_guardrail_needs_more_is_worse_beyond_noise():
    r = result("x", -0.1)
    r.direction, r.noise_level = "more is worse", False
    assert guardrail_verdict(r)
    r.noise_level = True
    assert not guardrail_verdict(r)
    r.direction, r.noise_level = "more is better", False
    assert not guardrail_verdict(r)


def test_lifetime_verdict_by_rank_or_by_rate():
    assert lifetime_total_verdict(0.71) and lifetime_total_verdict(-0.7)
    assert not lifetime_total_verdict(0.69) and not lifetime_total_verdict(None)
    assert lifetime_total_verdict(0.5, elasticity=0.9, elasticity_low=0.7)
    assert not lifetime_total_verdict(0.5, elasticity=0.9, elasticity_low=0.2)  # too uncertain
    assert not lifetime_total_verdict(0.5, elasticity=0.5, elasticity_low=0.35)


def test_flag_words_in_legend_order():
    r = result("x", 0.1, guard=True, lifetime=True)
    r.noise_level, r.redundancy_group, r.window_verifiable = True, 2, False
    r.ph_test_p, r.hr_bound = 0.001, "upper"
    assert flag_words(r) == ["GUARDRAIL", "LIFETIME", "noise", "dup 2", "window?", "drift", "bound"]
