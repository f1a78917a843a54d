"""How much a score, or one candidate's advantage over another, changed between the decision's
ranking ("then") and a re-run ("now"), with the standard error of that change (METHODS §5.6).

Then and now are estimated on different data and taken as independent:
Var(change) = SE_then² + SE_now². Newer data usually still hold the decision's users; that
overlap makes the true variance smaller, so the judgement errs towards "holds" there.

SEs come from the joint rank-stability draws every ranking records (`score_se`, and
`score_diff_se` for differences, which keeps the two candidates' correlation). Where a ranking
lacks them, two documented approximations, each said in words (`Change.notes`):

- a pair whose difference was not recorded (neither is among the leading candidates):
  independent scores, √(SE_a² + SE_b²) — conservative, since scores of one ranking are
  positively correlated;
- a decision recorded before SEs were stored (or ranked without resamples): today's SE scaled
  by √(n_now / n_then), users in the retention analysis (an SE shrinks as 1/√n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..results import CandidateResult, RankingResult

PAIR_APPROX = "a pair's SE taken as if the two scores were independent (not recorded)"


@dataclass
class Change:
    """A quantity then and now with the SE of each (None: unknown), and how they were obtained."""

    then: float | None
    now: float | None
    se_then: float | None
    se_now: float | None
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.then is None or self.now is None:
            return None
        return self.now - self.then

    @property
    def se(self) -> float | None:
        """SE of the change (then and now independent); of `now` alone when `then` is unknown."""
        if self.se_now is None or (self.then is not None and self.se_then is None):
            return None
        return math.hypot(self.se_now, self.se_then or 0.0)


def has_uncertainty(ranking: RankingResult) -> bool:
    """Whether the ranking recorded its stability draws' SEs (made with resamples, and after
    the fields existed)."""
    return any(c.score_se is not None for c in ranking.candidates)


def n_scale(then: RankingResult, now: RankingResult) -> float:
    """√(n_now / n_then): today's SE times this approximates the decision's SE."""
    return math.sqrt(max(now.n_users, 1) / max(then.n_users, 1))


def then_approximation(then: RankingResult, now: RankingResult) -> str:
    return (
        "the decision's SEs are today's scaled by √(n_now/n_then) = "
        f"{n_scale(then, now):.2f}, as its record holds none (made before they were stored, "
        "or without stability resamples)"
    )


def own_change(then: RankingResult, now: RankingResult, key: str) -> Change:
    """The candidate's score then and now, with SEs."""
    a, b = then.find(key), now.find(key)
    se_now = _finite(b.score_se) if b else None
    ch = Change(_score(a), _score(b), _finite(a.score_se) if a else None, se_now)
    _approximate_then(ch, then, now, se_now)
    return ch


def advantage_change(then: RankingResult, now: RankingResult, key: str, chosen: str) -> Change:
    """score(key) − score(chosen), then and now, with SEs of each difference."""
    notes: list[str] = []
    adv_then, se_then = _advantage(then, key, chosen, notes)
    adv_now, se_now = _advantage(now, key, chosen, notes)
    ch = Change(adv_then, adv_now, se_then, se_now, notes=list(dict.fromkeys(notes)))
    _approximate_then(ch, then, now, se_now)
    return ch


def _advantage(r: RankingResult, key: str, chosen: str, notes: list[str]):
    a, c = r.find(key), r.find(chosen)
    if a is None or c is None or _score(a) is None or _score(c) is None:
        return None, None
    se = _finite(r.score_diff_se(key, chosen))
    if se is None and a.score_se is not None and c.score_se is not None:
        se = math.hypot(a.score_se, c.score_se)
        notes.append(PAIR_APPROX)
    return _score(a) - _score(c), se


def _approximate_then(ch: Change, then: RankingResult, now: RankingResult, se_now) -> None:
    """Fill the decision's SE from today's when its record holds none (see module docstring)."""
    missing = ch.then is not None and ch.se_then is None and se_now is not None
    if missing and not has_uncertainty(then):
        ch.se_then = se_now * n_scale(then, now)
        ch.notes.append(then_approximation(then, now))


def _score(c: CandidateResult | None) -> float | None:
    return _finite(c.score) if c is not None else None


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
