"""Re-validate a recorded decision on newer data: has the evidence changed since we decided?
(METHODS §5.6)

The recorded settings are re-used (with the recorded thresholds held fixed, so the metric judged
is the metric decided) and only the as-of date moves. The question is not "is the chosen metric
today's #1?" (a team may have chosen the #3 for good reasons) but whether the comparison the
decision rested on has changed beyond its uncertainty. The rule, stated in every output (`RULE`):

- **same data as the decision** (identical fingerprint and as-of date) — **holds**;
- **overtaken by X** — X now scores above the chosen metric and X's advantage over it (X's score
  minus the chosen one's) grew since the decision, its simultaneous 99% interval excluding 0
  (Bonferroni over the alternatives judged); near-duplicates of the chosen metric (its
  redundancy group) never overtake it, nor do guardrails or lifetime totals;
- **weakened** — the chosen metric's own score fell, the 99% interval of the fall excluding 0,
  or it cannot be computed on the new data;
- **holds** — otherwise.

The SE of a change is √(SE_then² + SE_now²), from each ranking's stability draws (`change.py`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ..candidates import Kind
from ..results import CandidateResult, RankingResult
from ..settings import AnalysisSettings
from ..stats.dist import norm_ppf
from .change import Change, advantage_change, own_change
from .model import ComparisonRow, Decision, Revalidation, Standing

LEVEL = 0.99  # every interval of a change; one-sided error 0.5% per question
MIN_RESAMPLES = 100  # re-validation always measures the uncertainty it judges with
RULE = (
    "Judged against the decision's own recorded comparison, with the uncertainty of the change "
    "(standard errors from each ranking's stability resamples, then and now taken as "
    "independent). Same data as the decision (identical fingerprint and as-of date): holds. "
    "Overtaken by X: X now scores above the chosen metric and X's advantage over it grew since "
    "the decision, its simultaneous 99% interval excluding 0 (Bonferroni over the alternatives "
    "judged); near-duplicates of the chosen metric (its redundancy group) never overtake it. "
    "Weakened: the chosen metric's score fell, the 99% interval of the fall excluding 0, or it "
    "cannot be computed on the new data. Otherwise holds."
)


@dataclass
class Judgement:
    """A verdict with everything behind it (what `Revalidation` records)."""

    verdict: str
    overtaken_by: str | None
    summary: str
    rows: list[ComparisonRow]
    same_data: bool
    twins: list[str] = field(default_factory=list)
    uncertainty: str = ""


def recorded_settings(decision: Decision, as_of=None) -> AnalysisSettings:
    """The decision's settings with its thresholds fixed and a new as-of date (None = latest).

    At least `MIN_RESAMPLES` stability resamples: the verdict needs the uncertainty, and scores
    and ranks do not depend on the number of resamples.
    """
    settings = AnalysisSettings.from_dict(decision.evidence.settings)
    then = RankingResult.from_dict(decision.evidence.ranking)
    fixed = tuple(
        (c.key, float(c.threshold))
        for c in then.candidates
        if c.threshold is not None and c.kind != Kind.AT_LEAST
    )
    return dataclasses.replace(
        settings,
        as_of=as_of,
        fixed_thresholds=fixed,
        n_bootstrap=max(settings.n_bootstrap, MIN_RESAMPLES),
    )


def same_data(decision: Decision, then: RankingResult, now: RankingResult) -> bool:
    """The re-run saw exactly the decision's data: same fingerprint and same as-of date."""
    fp = then.data.fingerprint or decision.evidence.fingerprint
    same = _without_mapping(fp) == _without_mapping(now.data.fingerprint)
    return bool(fp) and same and then.data.as_of == now.data.as_of


def recorded_mapping(fp: dict | None) -> dict:
    """The column mappings a decision's data was read with ({"events": {"columns": …}, …}),
    for `load_inputs(recorded_columns=…)`: newer data is read the same way."""
    parts = {k: v for k, v in (fp or {}).items() if k in ("events", "users")}
    return {k: {"columns": v["columns"]} for k, v in parts.items()
            if isinstance(v, dict) and v.get("columns")}  # fmt: skip


def _without_mapping(fp: dict) -> dict:
    """A fingerprint without the column mappings (records made before they were kept have
    none; the data is the same whatever mapping read it, and a different one moves the
    figures, which the comparison shows)."""
    return {k: {n: v for n, v in part.items() if n != "columns"} if isinstance(part, dict)
            else part for k, part in (fp or {}).items()}  # fmt: skip


def twin_keys(then: RankingResult, now: RankingResult, key: str) -> list[str]:
    """The chosen metric's redundancy group (|ρ| ≥ 0.9, METHODS §3.7), then or now."""
    twins: dict[str, None] = {}
    for r in (then, now):
        for group in r.redundancy_groups:
            if key in group:
                twins.update(dict.fromkeys(k for k in group if k != key))
    return list(twins)


def z_value(n_comparisons: int) -> float:
    """Two-sided normal quantile of `LEVEL`, Bonferroni-split over n comparisons."""
    return float(norm_ppf(1 - (1 - LEVEL) / (2 * max(n_comparisons, 1))))


def judge(decision: Decision, now: RankingResult) -> Judgement:
    """The verdict by `RULE`, its summary in words and the then-vs-now rows."""
    then = RankingResult.from_dict(decision.evidence.ranking)
    key = decision.chosen_key
    ctx = _Context(decision, then, now, key)
    rows = ctx.rows()
    if ctx.same:
        return ctx.result("holds", None, _same_data_summary(ctx), rows)
    chosen_now = now.find(key)
    if chosen_now is None:
        text = (
            f"Weakened: the chosen metric ({key}) could not be computed on the new data (its "
            "event or column is missing or constant)."
        )
        return ctx.result("weakened", None, text, rows)
    overtaker = ctx.overtaker()
    if overtaker is not None:
        return ctx.result("overtaken", overtaker.key, _overtaken_summary(ctx, overtaker), rows)
    if _fell(ctx.own, ctx.z_own):
        return ctx.result("weakened", None, _weakened_summary(ctx, chosen_now), rows)
    return ctx.result("holds", None, _holds_summary(ctx, chosen_now), rows)


def verdict(decision: Decision, now: RankingResult) -> tuple[str, str | None, str]:
    """(verdict, overtaken_by key, summary) by `RULE` (see `judge` for everything behind it)."""
    j = judge(decision, now)
    return j.verdict, j.overtaken_by, j.summary


def comparison_rows(decision: Decision, now: RankingResult) -> list[ComparisonRow]:
    """Then vs now for the chosen metric, its twins, the rejected alternatives and the leaders."""
    return judge(decision, now).rows


class _Context:
    """One judgement's inputs, prepared once: the two rankings, twins, the alternatives judged
    and each one's change in advantage over the chosen metric."""

    def __init__(self, decision: Decision, then: RankingResult, now: RankingResult, key: str):
        self.decision, self.then, self.now, self.key = decision, then, now, key
        self.same = same_data(decision, then, now)
        self.twins = twin_keys(then, now, key)
        self.alternatives = [c for c in now.candidates if self._judged(c)]
        self.z_own = z_value(1)
        self.z_alt = z_value(len(self.alternatives))
        self.own = own_change(then, now, key)
        self.advantage = {
            c.key: advantage_change(then, now, c.key, key) for c in now.candidates if c.key != key
        }

    def _judged(self, c: CandidateResult) -> bool:
        return not (
            c.key == self.key or c.key in self.twins or c.is_guardrail or c.is_lifetime_total
        )

    def overtaker(self) -> CandidateResult | None:
        """The alternative furthest ahead among those whose advantage grew significantly."""
        ahead = [c for c in self.alternatives if _overtakes(self.advantage[c.key], self.z_alt)]
        return max(ahead, key=lambda c: self.advantage[c.key].now, default=None)

    def row_keys(self) -> list[str]:
        keys = [self.key, *self.twins, *(r.key for r in self.decision.rejected)]
        keys += [r.leader.key for r in (self.then, self.now) if r.candidates]
        keys += [c.key for c in self.alternatives if _overtakes(self.advantage[c.key], self.z_alt)]
        return list(dict.fromkeys(keys))

    def rows(self) -> list[ComparisonRow]:
        return [self._row(k) for k in self.row_keys()]

    def _row(self, key: str) -> ComparisonRow:
        a, b = self.then.find(key), self.now.find(key)
        ref = b or a
        is_chosen = key == self.key
        ch = self.own if is_chosen else self.advantage.get(key)
        if ch is None:  # in the decision's ranking only
            ch = advantage_change(self.then, self.now, key, self.key)
        z = self.z_own if is_chosen else self.z_alt
        lo, hi = (None, None) if self.same else _interval(ch, z)  # identical data: no change
        return ComparisonRow(
            key=key,
            name=ref.name if ref else key,
            role=self._role(key),
            then=_standing(a),
            now=_standing(b),
            quantity="score" if is_chosen else "advantage",
            value_then=ch.then,
            value_now=ch.now,
            change=ch.change,
            change_se=ch.se,
            change_ci_low=lo,
            change_ci_high=hi,
            ci_level=1 - (1 - LEVEL) / (1 if is_chosen else max(len(self.alternatives), 1)),
            significant=False if self.same else (None if lo is None else bool(lo > 0 or hi < 0)),
            finding=self._finding(key, ch, z, a, b),
            uncertainty="; ".join(ch.notes),
        )

    def _role(self, key: str) -> str:
        if key == self.key:
            return "chosen"
        if key in self.twins:
            return "twin"
        if any(r.key == key for r in self.decision.rejected):
            return "rejected"
        if self.now.candidates and key == self.now.leader.key:
            return "new leader"
        if self.then.candidates and key == self.then.leader.key:
            return "then leader"
        return "alternative"

    def _finding(self, key: str, ch: Change, z: float, a, b) -> str:
        if self.same:
            return "same data as the decision"
        if b is None:
            return "could not be computed on the new data"
        if key == self.key:
            return _own_finding(ch, z)
        if key in self.twins:
            return "near-duplicate of the chosen metric (redundancy group): never overtakes it"
        if b.is_guardrail:
            return "guardrail (more of it goes with churn): never overtakes"
        if b.is_lifetime_total:
            return "lifetime total in disguise: never overtakes"
        if a is None:
            return "not in the decision's ranking; " + _advantage_finding(ch, z)
        return _advantage_finding(ch, z)

    def result(self, verdict: str, by: str | None, summary: str, rows) -> Judgement:
        notes = list(dict.fromkeys(n for r in rows for n in r.uncertainty.split("; ") if n))
        if notes and not self.same:  # the verdict's own words say what was approximated
            summary += " Uncertainty approximated: " + "; ".join(notes) + "."
        return Judgement(
            verdict=verdict,
            overtaken_by=by,
            summary=summary,
            rows=rows,
            same_data=self.same,
            twins=self.twins,
            uncertainty=_uncertainty_words(self, notes),
        )


def _interval(ch: Change, z: float) -> tuple[float | None, float | None]:
    """The change ± z·SE (of `now` alone when the candidate is new since the decision)."""
    value = ch.change if ch.then is not None else ch.now
    if value is None or ch.se is None:
        return None, None
    return value - z * ch.se, value + z * ch.se


def _overtakes(ch: Change, z: float) -> bool:
    lo, _ = _interval(ch, z)
    return ch.now is not None and ch.now > 0 and lo is not None and lo > 0


def _fell(ch: Change, z: float) -> bool:
    _, hi = _interval(ch, z)
    return ch.then is not None and hi is not None and hi < 0


def _own_finding(ch: Change, z: float) -> str:
    lo, hi = _interval(ch, z)
    if ch.then is None:
        return "not in the decision's ranking: no change to judge"
    if lo is None:
        return "no uncertainty measured: change not judged"
    if hi < 0:
        return "its score fell significantly"
    if lo > 0:
        return "its score rose significantly"
    return "no significant change"


def _advantage_finding(ch: Change, z: float) -> str:
    lo, hi = _interval(ch, z)
    if lo is None:
        return "no uncertainty measured: change not judged"
    if _overtakes(ch, z):
        return "ahead of the chosen metric, its advantage grew significantly: overtakes it"
    if lo > 0:
        return "its advantage grew significantly, but it is still behind the chosen metric"
    if hi < 0:
        return "its advantage shrank significantly"
    return "no significant change"


def _standing(c: CandidateResult | None) -> Standing | None:
    if c is None:
        return None
    return Standing(
        rank=c.rank,
        score=_finite(c.score),
        c_index=_finite(c.c_index),
        hazard_ratio=_finite(c.hazard_ratio),
        hr_ci_low=_finite(c.hr_ci_low),
        hr_ci_high=_finite(c.hr_ci_high),
        revenue_rho=_finite(c.revenue_rho),
        p_first=_finite(c.p_first),
        tied_with_leader=c.tied_with_leader,
    )


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


# -- words ----------------------------------------------------------------------------------


def _f(x, spec: str = "+.3f") -> str:
    return "—" if x is None else format(x, spec)


def _ci(ch: Change, z: float, simultaneous: bool = False) -> str:
    lo, hi = _interval(ch, z)
    if lo is None:
        return "no uncertainty measured"
    kind = "simultaneous 99% CI" if simultaneous else "99% CI"
    return f"{kind} {lo:+.3f} to {hi:+.3f}"


def _position(ctx: _Context, c: CandidateResult) -> str:
    then = ctx.then.find(ctx.key)
    was = f" (was {then.rank}, score {then.score:.3f})" if then else ""
    return f"{c.name} ranks {c.rank}, score {c.score:.3f}{was}"


def _same_data_summary(ctx: _Context) -> str:
    c = ctx.now.find(ctx.key)
    where = f" {_position(ctx, c)}." if c else ""
    return (
        "Holds: same data as the decision (identical data fingerprint and as-of date), so the "
        f"evidence cannot have changed.{where}"
    )


def _overtaken_summary(ctx: _Context, x: CandidateResult) -> str:
    ch = ctx.advantage[x.key]
    chosen = ctx.now.find(ctx.key)
    since = (
        f"grew from {_f(ch.then)} to {_f(ch.now)} (change {_f(ch.change)}, "
        f"{_ci(ch, ctx.z_alt, True)})"
        if ch.then is not None
        else f"is {_f(ch.now)} ({_ci(ch, ctx.z_alt, True)}); it was not in the decision's ranking"
    )
    return (
        f"Overtaken by {x.name}: its advantage over the chosen metric {since}. It now ranks "
        f"{x.rank} (score {x.score:.3f}) and {chosen.name} ranks {chosen.rank} "
        f"(score {chosen.score:.3f})." + _notes(ctx)
    )


def _weakened_summary(ctx: _Context, c: CandidateResult) -> str:
    ch = ctx.own
    return (
        f"Weakened: {c.name}'s score fell from {ch.then:.3f} to {ch.now:.3f} (change "
        f"{_f(ch.change)}, {_ci(ch, ctx.z_own)}); no alternative's advantage over it grew "
        "significantly." + _notes(ctx)
    )


def _holds_summary(ctx: _Context, c: CandidateResult) -> str:
    ch = ctx.own
    if ch.se is None and all(a.se is None for a in ctx.advantage.values()):
        return (
            f"Holds, unjudged: no uncertainty was measured, so no change can be called "
            f"significant. {_position(ctx, c)}." + _notes(ctx)
        )
    own = (
        f"its score changed by {_f(ch.change)} ({_ci(ch, ctx.z_own)})"
        if ch.then is not None
        else "it was not in the decision's ranking"
    )
    return (
        f"Holds: no significant change since the decision. {_position(ctx, c)}; {own}; no "
        "alternative's advantage over it grew significantly." + _notes(ctx)
    )


def _notes(ctx: _Context) -> str:
    """Twins now ahead, a chosen metric no longer distinguishable from noise."""
    out = []
    chosen = ctx.now.find(ctx.key)
    ahead = [
        t
        for t in (ctx.now.find(k) for k in ctx.twins)
        if t is not None and chosen is not None and t.score > chosen.score
    ]
    if ahead:
        names = ", ".join(t.name for t in ahead)
        out.append(
            f"Its near-duplicate{'s' if len(ahead) > 1 else ''} {names} now score"
            f"{'' if len(ahead) > 1 else 's'} higher; they measure nearly the same behaviour "
            "(redundancy group), so that is not an overtaking."
        )
    if chosen is not None and chosen.noise_level:
        out.append(
            f"Note: it is not distinguishable from noise on the new data (q {chosen.q_value:.2g})."
        )
    return "".join(" " + s for s in out)


def _uncertainty_words(ctx: _Context, notes: list[str]) -> str:
    method = ctx.now.data.stability_method or "no stability resamples"
    then_method = ctx.then.data.stability_method or "no stability resamples"
    text = f"Now: {method}; at the decision: {then_method}."
    if notes:
        text += " Approximated: " + "; ".join(notes) + "."
    return text


def revalidate(decision: Decision, loaded, as_of=None, progress=None):
    """Re-run the recorded analysis on `loaded` (pipeline.LoadedData): (Revalidation, Analysis)."""
    from ..analysis import analyse

    settings = recorded_settings(decision, as_of)
    analysis = analyse(loaded, settings, progress)
    now = analysis.ranking
    j = judge(decision, now)
    reval = Revalidation(
        decision_id=int(decision.id) if decision.id is not None else 0,
        verdict=j.verdict,
        rule=RULE,
        summary=j.summary,
        comparison=j.rows,
        fingerprint=now.data.fingerprint or loaded.fingerprint,
        settings=settings.to_dict(),
        ranking=now.to_dict(),
        overtaken_by=j.overtaken_by,
        same_data=j.same_data,
        twins=j.twins,
        level=LEVEL,
        uncertainty=j.uncertainty,
    )
    from ..inputs.recheck import recheck_inputs  # each recorded input edge, re-checked

    reval.inputs = recheck_inputs(decision, analysis, loaded)
    return reval, analysis
