"""Analysis settings: plain values set once, validated where they are made.

Frozen so that they can key a cache (the app) and be stored verbatim in a decision record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that decides a ranking, in the units the methods use (days).

    window_days: behaviour is measured in [signup, signup + W) only (METHODS §1). W ≥ 1 for an
        event log; W = 0 is allowed for a users table whose columns describe users at the
        start (plan, partner, age): `check_for_data` says so where the data is known.
    inactivity_days: a user silent for this many days has churned (when no explicit churn).
    as_of: the data's end; None means the latest timestamp in the data.
    horizon_days: retention is read at this many days after the landmark, revenue is
        summed over whole days [W, W+H) since signup.
    revenue_event / revenue_col: where revenue comes from (an event's value, or a users column).
    score_weights: (retention, revenue) weights of the composite score.
    n_bootstrap: resamples for rank stability and bootstrap CIs.
    threshold_split: 'cohort' (earlier signups train, later test) or 'random' halves.
    candidates: restrict to these candidate names or source columns (None = all).
    seed: all randomness (splits, bootstraps) derives from it.
    fixed_thresholds: (candidate key, k) pairs that keep a recorded threshold fixed instead of
        choosing k again (re-validation judges the metric that was decided, not a new one).
    include_revenue_event: also offer the revenue event's window counts as candidates
        (labelled transactions); automatic when the log has no other behaviour (METHODS §2).
    drop_duplicate_events: count exact duplicate event rows (same user, event, timestamp and
        value) once; they are counted and reported either way.
    churn_event: an event of the log that is the cancellation itself ('Cancellation
        Confirmation'): a user's first one is their churn time, instead of inactivity
        (METHODS §1.2). It is never a candidate.
    """

    window_days: int = 14
    inactivity_days: int = 30
    as_of: dt.date | None = None
    horizon_days: int = 90
    revenue_event: str | None = None
    revenue_col: str | None = None
    score_weights: tuple[float, float] = (0.6, 0.4)
    n_bootstrap: int = 200
    threshold_split: str = "random"
    candidates: tuple[str, ...] | None = None
    max_users: int = 2_000_000
    seed: int = 20261125
    fixed_thresholds: tuple[tuple[str, float], ...] = ()
    include_revenue_event: bool = False
    drop_duplicate_events: bool = False
    churn_event: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.window_days < 0:
            problems.append(
                f"window_days must be ≥ 0 (≥ 1 for an event log), got {self.window_days}"
            )
        if self.inactivity_days < 1:
            problems.append(f"inactivity_days must be ≥ 1, got {self.inactivity_days}")
        if self.horizon_days < 1:
            problems.append(f"horizon_days must be ≥ 1, got {self.horizon_days}")
        if self.revenue_event and self.revenue_col:
            problems.append("give either revenue_event or revenue_col, not both")
        if self.churn_event is not None and not str(self.churn_event).strip():
            problems.append("churn_event must name an event, got an empty name")
        w = self.score_weights
        if len(w) != 2 or min(w) < 0 or sum(w) <= 0:
            problems.append(f"score_weights must be two non-negative numbers, got {w}")
        if self.n_bootstrap < 0:
            problems.append(f"n_bootstrap must be ≥ 0, got {self.n_bootstrap}")
        if self.threshold_split not in ("random", "cohort"):
            problems.append(
                f"threshold_split must be 'random' or 'cohort', got {self.threshold_split!r}"
            )
        if self.max_users < 1000:
            problems.append(f"max_users must be ≥ 1000, got {self.max_users}")
        if problems:
            raise InputError.collect(problems)

    def check_for_data(self, *, has_event_log: bool) -> None:
        """The rules that depend on the data: an event log counts behaviour in [s, s + W), so
        W ≥ 1 there; W = 0 (no window: attributes known at signup) is for a users table only."""
        if has_event_log and self.window_days < 1:
            raise InputError(
                f"window_days must be ≥ 1 for an event log (behaviour is counted in each user's "
                f"first W days), got {self.window_days}. W = 0 is only for a users table whose "
                "columns describe users at the start (plan, partner, age).",
                cli="Use --window-days 1 or more.",
                app="Choose an observation window of at least one day.",
            )

    def to_dict(self) -> dict:
        """JSON-ready form, stored with every ranking and decision."""
        d = dataclasses.asdict(self)
        d["as_of"] = self.as_of.isoformat() if self.as_of else None
        d["score_weights"] = list(self.score_weights)
        d["candidates"] = list(self.candidates) if self.candidates else None
        d["fixed_thresholds"] = [list(p) for p in self.fixed_thresholds]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> AnalysisSettings:
        """Inverse of to_dict; unknown keys (from newer versions) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if kw.get("as_of"):
            kw["as_of"] = dt.date.fromisoformat(str(kw["as_of"])[:10])
        if "score_weights" in kw:
            kw["score_weights"] = tuple(kw["score_weights"])
        if kw.get("candidates"):
            kw["candidates"] = tuple(kw["candidates"])
        if "fixed_thresholds" in kw:
            kw["fixed_thresholds"] = tuple((str(k), float(v)) for k, v in kw["fixed_thresholds"])
        return cls(**kw)
